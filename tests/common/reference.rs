//! The float64 PyTorch references in `tests/data/reference*/` (written by `tests/reference/make_references.py`,
//! conventions in `tests/reference/README.md`): one directory per model, whose `index.json` names the model's
//! manifest and one record file per t10k image, holding the image's pixels and the reference results for it.
//!
//! Declared as `mod common { pub mod reference; }` by the test crates that compare against the references.

use convscope::model::network::Network;
use convscope::Tensor;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The repository root, where relative paths in the references and the CLI's arguments start.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One `tests/data/reference*/` directory with its `index.json` and the model it names.
pub struct ReferenceSet {
    pub dir: PathBuf,
    pub index: Value,
    pub net: Network,
}

/// One record file of a [`ReferenceSet`].
pub struct Record {
    /// `"<dir> t10k[<index>]"`, for messages.
    pub name: String,
    pub json: Value,
    /// The raw input the references were computed on: `pixels_u8 / 255`, shaped like the model's input.
    pub image: Tensor,
}

impl ReferenceSet {
    /// The records in the order `index.json` lists them, each read when it is reached.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.index["files"].as_array().unwrap().iter().map(|entry| {
            let json = read_json(&self.dir.join(entry["file"].as_str().unwrap()));
            let pixels = json["pixels_u8"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as f32 / 255.0)
                .collect();
            Record {
                name: format!("{} t10k[{}]", self.dir.display(), json["index"]),
                image: self.net.image(pixels).unwrap(),
                json,
            }
        })
    }
}

/// Every `tests/data/reference*/` directory with an `index.json`, in name order: the random-init LeNet's and
/// the shipped models'. Fails when there is none.
pub fn reference_sets() -> Vec<ReferenceSet> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/data"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("reference"))
                && p.join("index.json").is_file()
        })
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no tests/data/reference*/index.json: regenerate the references with tests/reference/generate.sh"
    );
    dirs.into_iter()
        .map(|dir| {
            let index = read_json(&dir.join("index.json"));
            let manifest = repo().join(index["manifest"].as_str().unwrap());
            let net = Network::load(&manifest).unwrap_or_else(|e| {
                panic!(
                    "{} names the model {}: {e}",
                    dir.display(),
                    manifest.display()
                )
            });
            ReferenceSet { dir, index, net }
        })
        .collect()
}
