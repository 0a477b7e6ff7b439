//! The `convscope` binary end to end: `predict --json` against PyTorch's logits for the shipped weights,
//! `eval`, `activations`, and one-line errors with exit code 2 on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn convscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_convscope"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

const MODEL: &str = "www/models/lenet5-mnist.json";
const T10K: &str = "tests/data/mnist/t10k-images-idx3-ubyte.gz";
const LABELS: &str = "tests/data/mnist/t10k-labels-idx1-ubyte.gz";

#[test]
fn predict_json_matches_pytorch_logits_on_the_shipped_weights() {
    let out = convscope(&[
        "predict", "--model", MODEL, "--idx", T10K, "--index", "0", "--count", "8", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    for line in &lines {
        let i = line["index"].as_u64().unwrap() as usize;
        let path = root().join(format!(
            "tests/data/reference-lenet5-mnist/t10k-{i:05}.json"
        ));
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let ours: Vec<f64> = line["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let theirs: Vec<f64> = reference["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() <= 1e-4 * scale, "image {i}: {a} vs {b}");
        }
        assert_eq!(line["label"], reference["predicted"]);
        let probs: f64 = line["probs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((probs - 1.0).abs() < 1e-5);
    }
}

#[test]
fn eval_json_reports_accuracy_and_confusion() {
    let out = convscope(&[
        "eval", "--model", MODEL, "--images", T10K, "--labels", LABELS, "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 10_000);
    let confusion = v["confusion"].as_array().unwrap();
    let diagonal: u64 = (0..10).map(|k| confusion[k][k].as_u64().unwrap()).sum();
    assert_eq!(diagonal, v["correct"].as_u64().unwrap());
    assert!(v["accuracy"].as_f64().unwrap() >= 0.99);
}

#[test]
fn activations_writes_a_png_grid_for_a_1_based_layer() {
    let dir = std::env::temp_dir().join(format!("convscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("grid.png");
    let out = convscope(&[
        "activations",
        "--model",
        MODEL,
        "--idx",
        T10K,
        "--index",
        "3",
        "--layer",
        "1",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = convscope::io::image::read(&png).unwrap();
    assert!(
        img.width > 6 * 28 && img.height > 28,
        "{}×{}",
        img.width,
        img.height
    );
    // Feed the grid back in as an --image: any PNG is accepted and preprocessed.
    let out = convscope(&[
        "predict",
        "--model",
        MODEL,
        "--image",
        png.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn assert_clean_error(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(
        err.starts_with("convscope: ") && err.contains(needle),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn bad_input_is_one_line_on_stderr_and_exit_code_2() {
    assert_clean_error(
        &convscope(&["predict", "--model", "nope.json", "--idx", T10K]),
        "nope.json",
    );
    assert_clean_error(
        &convscope(&[
            "predict", "--model", MODEL, "--idx", T10K, "--index", "10000",
        ]),
        "selects nothing",
    );
    assert_clean_error(
        &convscope(&["predict", "--model", MODEL, "--image", "Cargo.toml"]),
        "bad image",
    );
    assert_clean_error(
        &convscope(&["predict", "--modle", MODEL]),
        "unknown option --modle",
    );
    assert_clean_error(
        &convscope(&[
            "activations",
            "--model",
            MODEL,
            "--idx",
            T10K,
            "--layer",
            "14",
            "--out",
            "x.png",
        ]),
        "out of range",
    );
    assert_clean_error(&convscope(&["frobnicate"]), "unknown command");
    let dir = std::env::temp_dir().join(format!("convscope-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join(MODEL), dir.join("lenet5-mnist.json")).unwrap();
    let weights = std::fs::read(root().join("www/models/lenet5-mnist.safetensors")).unwrap();
    std::fs::write(
        dir.join("lenet5-mnist.safetensors"),
        &weights[..weights.len() / 3],
    )
    .unwrap();
    let manifest = dir.join("lenet5-mnist.json");
    assert_clean_error(
        &convscope(&[
            "predict",
            "--model",
            manifest.to_str().unwrap(),
            "--idx",
            T10K,
        ]),
        "bad weights file",
    );
    std::fs::remove_dir_all(&dir).ok();
    assert!(Path::new(&root().join(MODEL)).exists());
}
