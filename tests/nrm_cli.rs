//! `convscope nrm train|generate`, `order` and `weight-gradient` end to end: their JSON equals the library's
//! numbers, the map file has the keys the issue names, and bad requests are one-line errors.

use convscope::explain::nrm::generate::{GenerateOptions, Interpolation};
use convscope::explain::nrm::{Correlation, ResponseMap};
use convscope::explain::volume::order::{order, By, Over};
use convscope::explain::volume::weight_gradient::{confused_classes, weight_gradient};
use convscope::io::idx;
use convscope::model::network::Network;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

const MODEL: &str = "www/models/lenet5-mnist.json";
const T10K: &str = "tests/data/mnist/t10k-images-idx3-ubyte.gz";
const LABELS: &str = "tests/data/mnist/t10k-labels-idx1-ubyte.gz";

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

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn net() -> Network {
    Network::load(&root().join(MODEL)).unwrap()
}

fn image(i: usize) -> convscope::Tensor {
    idx::read_images(root().join(T10K))
        .unwrap()
        .image(i)
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("convscope-nrm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn a_trained_map_file_holds_the_correlation_and_generates_the_librarys_map() {
    let map_path = scratch("map.json");
    let map_file = map_path.to_str().unwrap();
    let out = convscope(&[
        "nrm",
        "train",
        "--model",
        MODEL,
        "--images",
        T10K,
        "--count",
        "200",
        "--layers",
        "conv2,fc3",
        "--correlation",
        "spearman",
        "--perplexity",
        "5",
        "--iterations",
        "300",
        "--seed",
        "4",
        "--out",
        map_file,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&map_path).unwrap()).unwrap();
    for key in [
        "neurons",
        "layout",
        "settings",
        "correlation",
        "mean",
        "std",
        "dropped",
        "kl_divergence",
    ] {
        assert!(raw.get(key).is_some(), "the map file lacks {key}");
    }
    assert_eq!(raw["settings"]["correlation"], "spearman");
    assert_eq!(raw["settings"]["seed"], 4);
    let map = ResponseMap::from_json(&raw.to_string()).unwrap();
    assert_eq!(map.neurons.len() + map.dropped.len(), 26);
    assert_eq!(map.neurons[0].id, "conv2:0");
    // The stored correlation is Spearman's of the kept neurons' activations, computed here directly.
    let net = net();
    let images: Vec<_> = (0..200).map(image).collect();
    let mut rows = Vec::new();
    for x in &images {
        let trace = net.forward(x).unwrap();
        for n in &map.neurons {
            let values = trace
                .output(net.layer_index(&n.layer).unwrap())
                .unwrap()
                .data();
            rows.push(if n.layer == "conv2" {
                values[n.unit * 100..(n.unit + 1) * 100]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum::<f64>() as f32
                    / 100.0
            } else {
                values[n.unit]
            });
        }
    }
    let a = ndarray::Array2::from_shape_vec((200, map.neurons.len()), rows).unwrap();
    let want = Correlation::Spearman.matrix(a.view()).unwrap();
    for (i, row) in map.correlation.iter().enumerate() {
        for (j, &r) in row.iter().enumerate() {
            assert!((f64::from(r) - want[[i, j]]).abs() < 1e-5, "({i}, {j})");
        }
    }
    let out = convscope(&[
        "nrm", "generate", "--model", MODEL, "--map", map_file, "--idx", T10K, "--index", "3",
        "--method", "linear", "--size", "20,30", "--circle", "--json",
    ]);
    let generated = json(&out);
    assert_eq!(
        (generated["height"].as_u64(), generated["width"].as_u64()),
        (Some(20), Some(30))
    );
    let options = GenerateOptions {
        method: Interpolation::Linear,
        height: 20,
        width: 30,
        circle: true,
    };
    let library = map.generate(&net, &[image(3)], &options).unwrap();
    let values = generated["maps"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 600);
    for (got, want) in values.iter().zip(&library.values) {
        match got.as_f64() {
            Some(v) => assert!((v - f64::from(*want)).abs() < 1e-6),
            None => assert!(want.is_nan()),
        }
    }
    assert!(values[0].is_null(), "the corner lies outside the disc");
    let png = scratch("classes.png");
    let out = convscope(&[
        "nrm",
        "generate",
        "--model",
        MODEL,
        "--map",
        map_file,
        "--idx",
        T10K,
        "--count",
        "50",
        "--labels",
        LABELS,
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
}

#[test]
fn order_and_weight_gradient_print_the_librarys_numbers() {
    let net = net();
    let x = image(0);
    let got = json(&convscope(&[
        "order", "--model", MODEL, "--idx", T10K, "--index", "0", "--layer", "pool2", "--by",
        "pca", "--slice", "2", "--json",
    ]));
    let volume = net
        .forward(&x)
        .unwrap()
        .output(net.layer_index("pool2").unwrap())
        .unwrap()
        .clone();
    let want = order(&volume, By::Pca, Over::Slice(2)).unwrap();
    let listed: Vec<usize> = got["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(listed, want.order);
    assert_eq!(got["over"], 2);
    let got = json(&convscope(&[
        "weight-gradient",
        "--model",
        MODEL,
        "--idx",
        T10K,
        "--index",
        "0",
        "--layer",
        "conv2",
        "--target",
        "3",
        "--json",
    ]));
    assert_eq!(got["shape"], serde_json::json!([16, 6, 5, 5]));
    let (want, _) = weight_gradient(&net, &x, net.layer_index("conv2").unwrap(), Some(3)).unwrap();
    let data = got["data"].as_array().unwrap();
    assert_eq!(data.len(), 2400);
    assert!(data
        .iter()
        .zip(want.data())
        .all(|(g, &w)| g.as_f64().map(|v| v as f32) == Some(w)));
    let got = json(&convscope(&[
        "weight-gradient",
        "--model",
        MODEL,
        "--layer",
        "conv1",
        "--compare",
        "3",
        "--images",
        T10K,
        "--labels",
        LABELS,
        "--count",
        "1000",
        "--per-class",
        "4",
        "--json",
    ]));
    let data = convscope::train::Dataset::read(&root().join(T10K), &root().join(LABELS))
        .unwrap()
        .first(1000)
        .unwrap();
    let confusion = convscope::train::evaluate(&net, &data).unwrap().confusion;
    let (similar, dissimilar) = confused_classes(&confusion, 3).unwrap();
    assert_eq!(got["classes"], serde_json::json!([3, similar, dissimilar]));
    assert_eq!(got["indices"][0].as_array().unwrap().len(), 4);
    assert_eq!(got["cosine"][0], 1.0);
}

#[test]
fn bad_requests_are_one_line_errors() {
    for (args, needle) in [
        (
            vec![
                "nrm",
                "train",
                "--model",
                MODEL,
                "--images",
                T10K,
                "--units",
                "all",
                "--out",
                "/dev/null",
            ],
            "at most 2000",
        ),
        (vec!["nrm", "fly"], "unknown nrm command"),
        (
            vec![
                "order", "--model", MODEL, "--idx", T10K, "--layer", "relu2", "--by", "kmeans",
                "--k", "17", "--json",
            ],
            "1 to 16",
        ),
        (
            vec![
                "weight-gradient",
                "--model",
                MODEL,
                "--idx",
                T10K,
                "--layer",
                "relu1",
                "--json",
            ],
            "conv2d",
        ),
    ] {
        let out = convscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains(needle) && text.lines().count() == 1,
            "{args:?}: {text}"
        );
    }
}
