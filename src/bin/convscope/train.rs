//! `convscope train`: trains a LeNet-5 (or the architecture of `--manifest`) on IDX data and writes the
//! manifest and its safetensors weights.

use crate::args::Args;
use convscope::model::manifest::{InputShape, Manifest, Normalization};
use convscope::model::network::Network;
use convscope::train::augment::Augment;
use convscope::train::trainer::Progress;
use convscope::train::{evaluate, train, Dataset, OptimizerKind, TrainConfig};
use convscope::{Error, Result};
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
    let test = match (args.get("test-images"), args.get("test-labels")) {
        (Some(i), Some(l)) => Some(Dataset::read(Path::new(i), Path::new(l))?),
        (None, None) => None,
        _ => {
            return Err(Error::option(
                "test-images",
                "--test-images and --test-labels go together",
            ))
        }
    };
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
            &name,
            InputShape {
                channels: 1,
                height: data.images.height,
                width: data.images.width,
            },
            labels,
        )?,
    };
    manifest.name = name.clone();
    manifest.weights = format!("{name}.safetensors");
    let (mean, std) = data.pixel_stats();
    manifest.normalization = Some(Normalization {
        mean: vec![mean],
        std: vec![std],
    });

    let seed: u64 = args.or("seed", 1)?;
    let cfg = TrainConfig {
        epochs: args.or("epochs", 12)?,
        batch_size: args.or("batch-size", 64)?,
        optimizer: OptimizerKind::parse(
            args.get("optimizer").unwrap_or("adam"),
            args.or("weight-decay", 0.0)?,
        )?,
        lr: args.or("lr", 1e-3)?,
        lr_decay: args.or("lr-decay", 0.8)?,
        seed,
        augment: args.flag("augment").then_some(Augment {
            max_degrees: 10.0,
            max_shift: 2.0,
        }),
        dropout: args.or("dropout", 0.0)?,
    };
    let mut net = Network::init_random(manifest, seed)?;
    let quiet = args.flag("quiet");
    let mut progress = |p: Progress| match p {
        Progress::Batch {
            epoch,
            done,
            total,
            loss,
            accuracy,
        } if !quiet => {
            let filled = done * 30 / total.max(1);
            eprint!(
                "\repoch {epoch:>2}/{} [{}{}] {:>3}%  loss {loss:.4}  acc {:.2}%",
                cfg.epochs,
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
                "\repoch {:>2}/{}  lr {:.2e}  loss {:.4}  train acc {:.2}%{test}{:20}",
                r.epoch,
                cfg.epochs,
                r.lr,
                r.loss,
                r.train_accuracy * 100.0,
                ""
            );
        }
    };
    let reports = train(&mut net, &data, test.as_ref(), &cfg, &mut progress)?;
    let _ = std::io::stderr().flush();

    let command = std::iter::once("convscope train".to_string())
        .chain(argv.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut metrics = serde_json::json!({ "train_loss": reports.last().map(|r| r.loss) });
    if let Some(t) = &test {
        let ev = evaluate(&net, t)?;
        metrics["test_accuracy"] = serde_json::json!(ev.accuracy());
        metrics["test_correct"] = serde_json::json!(ev.correct);
        metrics["test_total"] = serde_json::json!(ev.total);
        eprintln!(
            "test accuracy {:.2}% ({}/{})",
            ev.accuracy() * 100.0,
            ev.correct,
            ev.total
        );
    }
    metrics["command"] = serde_json::json!(command);
    let m = net.manifest_mut();
    m.extra.insert("metrics".into(), metrics);
    m.extra.insert(
        "dataset".into(),
        serde_json::json!({ "name": dataset, "train_samples": data.len(), "test_samples": test.as_ref().map(|t| t.len()) }),
    );
    m.extra.insert(
        "training".into(),
        serde_json::json!({
            "epochs": cfg.epochs, "batch_size": cfg.batch_size, "optimizer": args.get("optimizer").unwrap_or("adam"),
            "lr": cfg.lr, "lr_decay": cfg.lr_decay, "seed": seed, "augment": cfg.augment.is_some(),
            "dropout": cfg.dropout,
        }),
    );
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    let weights_path = dir.join(&net.manifest().weights);
    let manifest_path = dir.join(format!("{name}.json"));
    std::fs::write(&weights_path, net.to_safetensors()?)
        .map_err(|e| Error::io(weights_path.display().to_string(), e))?;
    std::fs::write(&manifest_path, net.manifest().to_json()? + "\n")
        .map_err(|e| Error::io(manifest_path.display().to_string(), e))?;
    eprintln!(
        "wrote {} and {}",
        manifest_path.display(),
        weights_path.display()
    );
    Ok(())
}
