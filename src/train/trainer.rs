//! The mini-batch training loop.
//!
//! Each batch is split into a fixed number of shards; each shard's samples are augmented (with a generator
//! seeded from the run seed, the epoch and the sample index), run forward and backward, and their gradients
//! summed; the shard sums are then added in shard order and the optimizer steps. Threads only decide which
//! core computes a shard, so results do not depend on the machine.

use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::{argmax, Gradients, Network};
use crate::rng::Rng;
use crate::tensor::Tensor;
use crate::train::augment::Augment;
use crate::train::dataset::Dataset;
use crate::train::dropout::Dropout;
use crate::train::evaluate::evaluate;
use crate::train::optim::{Optimizer, OptimizerKind};

const SHARDS: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub lr: f32,
    /// The learning rate is multiplied by this after every epoch.
    pub lr_decay: f32,
    pub seed: u64,
    pub augment: Option<Augment>,
    /// Dropout probability after the ReLUs of the hidden fully connected layers (0: none).
    pub dropout: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub lr: f32,
    pub loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: Option<f64>,
}

/// What the loop reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Batch {
        epoch: usize,
        done: usize,
        total: usize,
        loss: f64,
        accuracy: f64,
    },
    Epoch(EpochReport),
}

/// Runs `f(0..shards)`, on several threads natively and in order on wasm; results in shard order.
pub fn run_shards<T: Send>(shards: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(shards);
        if threads > 1 {
            let f = &f;
            let mut results: Vec<Option<T>> = (0..shards).map(|_| None).collect();
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        scope.spawn(move || {
                            (t..shards)
                                .step_by(threads)
                                .map(|s| (s, f(s)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                for h in handles {
                    // A shard that panicked is a bug; re-raise it rather than hide it.
                    let done = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                    for (s, r) in done {
                        results[s] = Some(r);
                    }
                }
            });
            return results.into_iter().flatten().collect();
        }
    }
    (0..shards).map(f).collect()
}

struct ShardResult {
    grads: Gradients,
    loss: f64,
    correct: usize,
}

fn shard_step(
    net: &Network,
    dropout: &Dropout,
    data: &Dataset,
    batch: &[usize],
    epoch: usize,
    cfg: &TrainConfig,
) -> Result<ShardResult> {
    let (out_layer, _) = net.target_layer(true)?;
    let mut grads = net.zero_gradients();
    let (mut loss, mut correct) = (0.0f64, 0usize);
    let scale = 1.0 / cfg.batch_size as f32;
    for &i in batch {
        let (image, label) = data.get(i)?;
        // One generator per sample: the augmentation draws first, then the dropout masks.
        let mut rng =
            Rng::new(cfg.seed ^ ((epoch as u64) << 40) ^ (i as u64).wrapping_mul(0x9E37_79B9));
        let image = match cfg.augment {
            Some(a) => a.apply(&image, &mut rng),
            None => image,
        };
        let trace = dropout.forward(net, &image, &mut rng)?;
        let log_probs = trace.output(out_layer)?;
        loss -= log_probs.data()[label] as f64;
        correct += usize::from(argmax(log_probs.data()) == label);
        let mut seed = Tensor::zeros(log_probs.shape());
        seed.data_mut()[label] = -scale;
        trace.backward(out_layer, seed, ReluRule::Gradient, None, Some(&mut grads))?;
    }
    Ok(ShardResult {
        grads,
        loss,
        correct,
    })
}

/// Errors when the options cannot train: no batch, epoch or data, a step size that is not a positive
/// number, or a label the network has no class for.
fn check_config(net: &Network, data: &Dataset, cfg: &TrainConfig) -> Result<()> {
    if cfg.batch_size == 0 || cfg.epochs == 0 || data.is_empty() {
        return Err(Error::option(
            "batch-size",
            "training needs a positive batch size, at least one epoch and some data",
        ));
    }
    if !(cfg.lr.is_finite() && cfg.lr > 0.0 && cfg.lr_decay.is_finite() && cfg.lr_decay > 0.0) {
        return Err(Error::option(
            "lr",
            "learning rate and its decay must be positive numbers",
        ));
    }
    data.check_labels(net.labels().len())?;
    Ok(())
}

/// Trains `net` in place; `progress` hears about every batch and epoch.
pub fn train(
    net: &mut Network,
    data: &Dataset,
    test: Option<&Dataset>,
    cfg: &TrainConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<EpochReport>> {
    check_config(net, data, cfg)?;
    let dropout = Dropout::new(net, cfg.dropout)?;
    let mut optimizer = Optimizer::new(cfg.optimizer, net);
    let mut rng = Rng::new(cfg.seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut reports = Vec::new();
    let mut lr = cfg.lr;
    for epoch in 1..=cfg.epochs {
        rng.shuffle(&mut order);
        let (mut loss, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for batch in order.chunks(cfg.batch_size) {
            let per = batch.len().div_ceil(SHARDS).max(1);
            let shared: &Network = net;
            let results = run_shards(SHARDS, |s| {
                let part = batch
                    .get(s * per..((s + 1) * per).min(batch.len()))
                    .unwrap_or(&[]);
                shard_step(shared, &dropout, data, part, epoch, cfg)
            });
            let mut total = net.zero_gradients();
            for r in results {
                let r = r?;
                total.add(&r.grads);
                loss += r.loss;
                correct += r.correct;
            }
            seen += batch.len();
            if !loss.is_finite() {
                return Err(Error::non_finite(format!(
                    "the training loss at epoch {epoch} (lower --lr)"
                )));
            }
            optimizer.step(net, &total, lr)?;
            progress(Progress::Batch {
                epoch,
                done: seen,
                total: data.len(),
                loss: loss / seen as f64,
                accuracy: correct as f64 / seen as f64,
            });
        }
        let test_accuracy = test
            .map(|t| evaluate(net, t))
            .transpose()?
            .map(|e| e.accuracy());
        let report = EpochReport {
            epoch,
            lr,
            loss: loss / seen as f64,
            train_accuracy: correct as f64 / seen as f64,
            test_accuracy,
        };
        progress(Progress::Epoch(report.clone()));
        reports.push(report);
        lr *= cfg.lr_decay;
    }
    Ok(reports)
}
