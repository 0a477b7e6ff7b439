//! Saving a network: the weights as a safetensors file with PyTorch's names, the manifest beside it, and the
//! record of how a trained network was made (the `metrics`, `dataset` and `training` fields the manifest
//! carries through, which convscope itself never reads).

use crate::error::{Error, Result};
use crate::io::safetensors;
use crate::model::network::Network;
use crate::tensor::Tensor;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a network was trained, written into its manifest by [`record_training`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRecord {
    /// The command line that trained it.
    pub command: String,
    /// The data set's name (`mnist`, `fashion-mnist`, ...) and sample counts.
    pub dataset: String,
    pub train_samples: usize,
    pub test_samples: Option<usize>,
    /// The mean training loss of the last epoch.
    pub train_loss: Option<f64>,
    /// `(correct, total)` on the test set.
    pub test: Option<(usize, usize)>,
    /// The training options (epochs, batch size, optimizer, learning rate, seed, ...), as the manifest keeps
    /// them.
    pub options: serde_json::Map<String, Value>,
}

/// Writes `record` into the manifest of `net`: `metrics` (train loss, test accuracy and counts, the
/// command), `dataset` and `training`.
pub fn record_training(net: &mut Network, record: &TrainingRecord) {
    let mut metrics = json!({ "train_loss": record.train_loss });
    if let Some((correct, total)) = record.test {
        metrics["test_accuracy"] = json!(correct as f64 / total.max(1) as f64);
        metrics["test_correct"] = json!(correct);
        metrics["test_total"] = json!(total);
    }
    metrics["command"] = json!(record.command);
    let extra = &mut net.manifest_mut().extra;
    extra.insert("metrics".into(), metrics);
    extra.insert(
        "dataset".into(),
        json!({ "name": record.dataset, "train_samples": record.train_samples, "test_samples": record.test_samples }),
    );
    extra.insert("training".into(), Value::Object(record.options.clone()));
}

/// The paths [`save`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub manifest: PathBuf,
    pub weights: PathBuf,
}

/// Writes `dir/{name}.json` (the manifest) and the weights file it names, creating `dir` if needed.
pub fn save(net: &Network, dir: &Path, name: &str) -> Result<Saved> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    let saved = Saved {
        manifest: dir.join(format!("{name}.json")),
        weights: dir.join(&net.manifest().weights),
    };
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).map_err(|e| Error::io(path.display().to_string(), e))
    };
    write(&saved.weights, &net.to_safetensors()?)?;
    write(
        &saved.manifest,
        (net.manifest().to_json()? + "\n").as_bytes(),
    )?;
    Ok(saved)
}

impl Network {
    /// The weights as a safetensors file with PyTorch names (`{layer}.weight`, `{layer}.bias`).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut tensors = Vec::new();
        for l in self.layers() {
            if let (Some((w, b)), Some(shapes)) = (l.layer.params(), l.layer.param_shapes()?) {
                tensors.push((
                    format!("{}.weight", l.name),
                    Tensor::from_vec(&shapes.weight, w.to_vec())?,
                ));
                tensors.push((
                    format!("{}.bias", l.name),
                    Tensor::from_vec(&[b.len()], b.to_vec())?,
                ));
            }
        }
        let meta = BTreeMap::from([
            ("format".to_string(), "pt".to_string()),
            ("producer".to_string(), "convscope".to_string()),
        ]);
        safetensors::serialize(&tensors, &meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::{InputShape, Manifest};

    #[test]
    fn saved_files_load_back_with_the_training_record() {
        let input = InputShape {
            channels: 1,
            height: 12,
            width: 12,
        };
        let labels = (0..3).map(|i| i.to_string()).collect();
        let mut net =
            Network::init_random(Manifest::lenet5("t", input, labels).unwrap(), 4).unwrap();
        let mut options = serde_json::Map::new();
        options.insert("epochs".into(), json!(2));
        record_training(
            &mut net,
            &TrainingRecord {
                command: "convscope train --epochs 2".into(),
                dataset: "mnist".into(),
                train_samples: 100,
                test_samples: Some(40),
                train_loss: Some(0.5),
                test: Some((30, 40)),
                options,
            },
        );
        let dir = std::env::temp_dir().join(format!("convscope-save-{}", std::process::id()));
        let saved = save(&net, &dir, "t").unwrap();
        assert_eq!(saved.weights, dir.join("t.safetensors"));
        let back = Network::load(&saved.manifest).unwrap();
        assert_eq!(back.layers(), net.layers());
        let extra = &back.manifest().extra;
        assert_eq!(extra["metrics"]["test_accuracy"], json!(0.75));
        assert_eq!(
            extra["metrics"]["command"],
            json!("convscope train --epochs 2")
        );
        assert_eq!(extra["dataset"]["test_samples"], json!(40));
        assert_eq!(extra["training"]["epochs"], json!(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
