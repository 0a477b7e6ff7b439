//! Pins every technique's output on the shipped MNIST model, bit for bit, before the catalogue refactor
//! (issue "One catalogue of techniques…"). Committed on its own before the refactor began and never edited
//! after: a refactor that changes one float of any output fails here.
//!
//! It drives the `convscope` binary — the surface users see — and hashes only the numbers it prints (every
//! number of the JSON values, in document order, as f64 bits, with FNV-1a), so new fields or a new key order do
//! not count as a change but any changed value does. Training is pinned through the weights it writes (a short
//! seeded run with dropout and augmentation on 256 test digits); and the figures are
//! left free to change (they are drawings of these numbers).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const MODEL: &str = "www/models/lenet5-mnist.json";
const T10K: &str = "tests/data/mnist/t10k-images-idx3-ubyte.gz";
const LABELS: &str = "tests/data/mnist/t10k-labels-idx1-ubyte.gz";

fn convscope(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_convscope"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "convscope {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn numbers(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::Number(n) => {
                self.bytes(&n.as_f64().unwrap().to_bits().to_le_bytes())
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| self.numbers(v)),
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for k in keys {
                    self.numbers(&map[k]);
                }
            }
            _ => {}
        }
    }
}

/// The hash of every number in the JSON lines printed by one command.
fn json_hash(args: &[&str]) -> u64 {
    let stdout = String::from_utf8(convscope(args)).unwrap();
    let mut h = Fnv::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        h.numbers(&serde_json::from_str(line).unwrap());
    }
    h.0
}

fn check(name: &str, got: u64, expected: u64) -> Option<String> {
    (got != expected).then(|| format!("{name}: got {got:#018x}, pinned {expected:#018x}"))
}

#[test]
fn predictions_deconvnet_and_monitor_are_unchanged() {
    let cases: [(&str, &[&str], u64); 6] = [
        (
            "predict 0..16",
            &[
                "predict", "--model", MODEL, "--idx", T10K, "--index", "0", "--count", "16",
                "--json",
            ],
            0xc93a99b615895276,
        ),
        (
            "deconv conv1:3",
            &[
                "deconv",
                "--model",
                MODEL,
                "--idx",
                T10K,
                "--index",
                "0",
                "--layer",
                "conv1",
                "--channel",
                "3",
                "--json",
            ],
            0x860735c505ef1088,
        ),
        (
            "deconv conv2:5 max",
            &[
                "deconv",
                "--model",
                MODEL,
                "--idx",
                T10K,
                "--index",
                "1",
                "--layer",
                "conv2",
                "--channel",
                "5",
                "--unit",
                "max",
                "--json",
            ],
            0x58951b64da38bb73,
        ),
        (
            "deconv conv2:7 @2,3",
            &[
                "deconv",
                "--model",
                MODEL,
                "--idx",
                T10K,
                "--index",
                "2",
                "--layer",
                "conv2",
                "--channel",
                "7",
                "--unit",
                "2,3",
                "--json",
            ],
            0xba68f0d9da8072f2,
        ),
        (
            "deconv --all",
            &[
                "deconv", "--model", MODEL, "--idx", T10K, "--index", "3", "--all", "--json",
            ],
            0x5dab3b7db467c11a,
        ),
        (
            "monitor check 0..32",
            &[
                "monitor", "check", "--model", MODEL, "--idx", T10K, "--index", "0", "--count",
                "32", "--json",
            ],
            0xcb0606baee8a427f,
        ),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, args, pinned)| check(name, json_hash(args), *pinned))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_attribution_method_is_unchanged() {
    let cases: [(&str, &[&str], u64); 13] = [
        ("gradient", &["--method", "gradient"], 0x5101e96d5e341bde),
        (
            "saliency",
            &["--method", "saliency", "--target", "3"],
            0x4d4ff0f036b14cc5,
        ),
        (
            "guided-backprop",
            &["--method", "guided-backprop"],
            0x0a9a85eac14714db,
        ),
        (
            "deconvnet",
            &["--method", "deconvnet", "--log-prob"],
            0xd8cf1e4bb2d61de9,
        ),
        (
            "gradient-x-input",
            &["--method", "gradient-x-input"],
            0xcb8920109dbc8877,
        ),
        (
            "integrated-gradients",
            &["--method", "integrated-gradients", "--steps", "20"],
            0x3f334f147f6e02d7,
        ),
        (
            "integrated-gradients log-prob",
            &[
                "--method",
                "integrated-gradients",
                "--log-prob",
                "--baseline",
                "0.5",
            ],
            0x49df0f96544057ec,
        ),
        (
            "smoothgrad",
            &["--method", "smoothgrad", "--samples", "12", "--seed", "4"],
            0xcaf6665bef59d055,
        ),
        (
            "smoothgrad guided",
            &[
                "--method",
                "smoothgrad",
                "--samples",
                "6",
                "--base",
                "guided-backprop",
                "--sigma",
                "0.3",
            ],
            0xc4b84d9d9da140d5,
        ),
        ("grad-cam", &["--method", "grad-cam"], 0xde0f321542dc4b98),
        (
            "grad-cam relu1",
            &["--method", "grad-cam", "--layer", "relu1", "--target", "1"],
            0xba05087af345b3e3,
        ),
        (
            "guided-grad-cam",
            &["--method", "guided-grad-cam"],
            0x60e72f8bcaabeb86,
        ),
        (
            "occlusion",
            &["--method", "occlusion", "--window", "4", "--stride", "2"],
            0x50039d0b2b6a4f88,
        ),
    ];
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, (name, extra, pinned))| {
            let index = (i % 5).to_string();
            let mut args = vec![
                "attribute",
                "--model",
                MODEL,
                "--idx",
                T10K,
                "--index",
                &index,
                "--json",
            ];
            args.extend_from_slice(extra);
            check(name, json_hash(&args), *pinned)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The first `n` records of a (gzipped) IDX file, written as a plain IDX file.
fn idx_prefix(gz: &Path, n: usize, out: &Path) {
    use std::io::Read;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(gz).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let dims = bytes[3] as usize;
    let mut header = bytes[..4 + 4 * dims].to_vec();
    header[4..8].copy_from_slice(&(n as u32).to_be_bytes());
    let record: usize = (1..dims)
        .map(|d| u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().unwrap()) as usize)
        .product();
    header.extend_from_slice(&bytes[4 + 4 * dims..4 + 4 * dims + n * record]);
    std::fs::write(out, header).unwrap();
}

#[test]
fn training_is_unchanged() {
    let dir = std::env::temp_dir().join(format!("convscope-hash-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (images, labels) = (dir.join("images.idx"), dir.join("labels.idx"));
    idx_prefix(&root().join(T10K), 256, &images);
    idx_prefix(&root().join(LABELS), 256, &labels);
    let out = dir.join("model");
    let mut failures = Vec::new();
    for (optimizer, extra, pinned) in [
        (
            "adam",
            &["--dropout", "0.3", "--augment"][..],
            0xed9f3e01b5871fa5u64,
        ),
        ("sgd", &["--weight-decay", "0.001"][..], 0x8e37e094c8c42570),
    ] {
        let mut args = vec![
            "train",
            "--train-images",
            images.to_str().unwrap(),
            "--train-labels",
            labels.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--seed",
            "3",
            "--optimizer",
            optimizer,
            "--quiet",
        ];
        args.extend_from_slice(extra);
        convscope(&args);
        // The tensors only: the header's metadata records the command line, which names this temporary folder.
        let file = std::fs::read(dir.join("model.safetensors")).unwrap();
        let header = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
        let mut h = Fnv::new();
        h.bytes(&file[8 + header..]);
        failures.extend(check(&format!("train {optimizer}"), h.0, pinned));
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
