//! `convscope train`: trains a LeNet-5 (or the architecture of `--manifest`) on IDX data and writes the
//! manifest and its safetensors weights.

use crate::args::Args;
use convscope::model::manifest::{InputShape, Manifest, Normalization};
use convscope::model::network::Network;
use convscope::model::save::{record_training, save, TrainingRecord};
use convscope::train::augment::Augment;
use convscope::train::trainer::Progress;
use convscope::train::{evaluate, train, Dataset, OptimizerKind, TrainConfig};
use convscope::{Error, Result};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

const FASHION_LABELS: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

const VALUED: [&str; 16] = [
    "train-images",
    "train-labels",
    "test-images",
    "test-labels",
    "out",
    "manifest",
    "epochs",
    "batch-size",
    "optimizer",
    "lr",
    "lr-decay",
    "weight-decay",
    "dropout",
    "seed",
    "dataset",
    "name",
];

pub fn run(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &VALUED, &["augment", "quiet"])?;
    let data = Dataset::read(
        Path::new(args.required("train-images")?),
        Path::new(args.required("train-labels")?),
    )?;
    let test = test_set(&args)?;
    let out = PathBuf::from(args.required("out")?);
    let name = match args.get("name") {
        Some(n) => n.to_string(),
        None => out
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("model")
            .to_string(),
    };
    let dataset = args.get("dataset").unwrap_or("mnist");
    let manifest = manifest(&args, &name, dataset, &data)?;
    let cfg = config(&args)?;
    let mut net = Network::init_random(manifest, cfg.seed)?;
    let mut progress = progress_printer(cfg.epochs, args.flag("quiet"));
    let reports = train(&mut net, &data, test.as_ref(), &cfg, &mut progress)?;
    let _ = std::io::stderr().flush();

    let command = std::iter::once("convscope train".to_string())
        .chain(argv.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let test_result = match &test {
        Some(t) => {
            let ev = evaluate(&net, t)?;
            eprintln!(
                "test accuracy {:.2}% ({}/{})",
                ev.accuracy() * 100.0,
                ev.correct,
                ev.total
            );
            Some((ev.correct, ev.total))
        }
        None => None,
    };
    let record = TrainingRecord {
        command,
        dataset: dataset.to_string(),
        train_samples: data.len(),
        test_samples: test.as_ref().map(Dataset::len),
        train_loss: reports.last().map(|r| r.loss),
        test: test_result,
        options: training_options(&cfg, args.get("optimizer").unwrap_or("adam")),
    };
    record_training(&mut net, &record);
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let saved = save(&net, dir, &name)?;
    eprintln!(
        "wrote {} and {}",
        saved.manifest.display(),
        saved.weights.display()
    );
    Ok(())
}

/// `--test-images` and `--test-labels`, both or neither.
fn test_set(args: &Args) -> Result<Option<Dataset>> {
    match (args.get("test-images"), args.get("test-labels")) {
        (Some(i), Some(l)) => Ok(Some(Dataset::read(Path::new(i), Path::new(l))?)),
        (None, None) => Ok(None),
        _ => Err(Error::option(
            "test-images",
            "--test-images and --test-labels go together",
        )),
    }
}

/// The architecture (`--manifest`, or LeNet-5 for the data's image size) named `name`, with the class
/// labels of `dataset` and the training set's pixel mean and standard deviation as its normalization.
fn manifest(args: &Args, name: &str, dataset: &str, data: &Dataset) -> Result<Manifest> {
    let labels: Vec<String> = match dataset {
        "fashion-mnist" => FASHION_LABELS.iter().map(|s| s.to_string()).collect(),
        _ => (0..10).map(|i| i.to_string()).collect(),
    };
    let mut manifest = match args.get("manifest") {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            Manifest::parse(&text)?
        }
        None => Manifest::lenet5(
            name,
            InputShape {
                channels: 1,
                height: data.images.height,
                width: data.images.width,
            },
            labels,
        )?,
    };
    manifest.name = name.to_string();
    manifest.weights = format!("{name}.safetensors");
    let (mean, std) = data.pixel_stats();
    manifest.normalization = Some(Normalization {
        mean: vec![mean],
        std: vec![std],
    });
    Ok(manifest)
}

fn config(args: &Args) -> Result<TrainConfig> {
    Ok(TrainConfig {
        epochs: args.or("epochs", 12)?,
        batch_size: args.or("batch-size", 64)?,
        optimizer: OptimizerKind::parse(
            args.get("optimizer").unwrap_or("adam"),
            args.or("weight-decay", 0.0)?,
        )?,
        lr: args.or("lr", 1e-3)?,
        lr_decay: args.or("lr-decay", 0.8)?,
        seed: args.or("seed", 1)?,
        augment: args.flag("augment").then_some(Augment {
            max_degrees: 10.0,
            max_shift: 2.0,
        }),
        dropout: args.or("dropout", 0.0)?,
    })
}

/// The training options as the manifest's `training` field keeps them.
fn training_options(cfg: &TrainConfig, optimizer: &str) -> Map<String, Value> {
    let mut options = Map::new();
    options.insert("epochs".into(), json!(cfg.epochs));
    options.insert("batch_size".into(), json!(cfg.batch_size));
    options.insert("optimizer".into(), json!(optimizer));
    options.insert("lr".into(), json!(cfg.lr));
    options.insert("lr_decay".into(), json!(cfg.lr_decay));
    options.insert("seed".into(), json!(cfg.seed));
    options.insert("augment".into(), json!(cfg.augment.is_some()));
    options.insert("dropout".into(), json!(cfg.dropout));
    options
}

/// Prints a progress bar per batch (unless `quiet`) and a line per epoch on stderr.
fn progress_printer(epochs: usize, quiet: bool) -> impl FnMut(Progress) {
    move |p: Progress| match p {
        Progress::Batch {
            epoch,
            done,
            total,
            loss,
            accuracy,
        } if !quiet => {
            let filled = done * 30 / total.max(1);
            eprint!(
                "\repoch {epoch:>2}/{epochs} [{}{}] {:>3}%  loss {loss:.4}  acc {:.2}%",
                "#".repeat(filled),
                ".".repeat(30 - filled),
                done * 100 / total.max(1),
                accuracy * 100.0
            );
        }
        Progress::Batch { .. } => {}
        Progress::Epoch(r) => {
            let test = r
                .test_accuracy
                .map_or(String::new(), |a| format!("  test acc {:.2}%", a * 100.0));
            eprintln!(
                "\repoch {:>2}/{epochs}  lr {:.2e}  loss {:.4}  train acc {:.2}%{test}{:20}",
                r.epoch,
                r.lr,
                r.loss,
                r.train_accuracy * 100.0,
                ""
            );
        }
    }
}
