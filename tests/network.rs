//! Whole-network checks: backward against finite differences (input and every parameter), weights written by
//! Python's safetensors and PyTorch loading unchanged with PyTorch's logits, hostile weight files, and the
//! shipped model's accuracy on MNIST t10k.

use convscope::io::safetensors::{self, SafeTensors};
use convscope::layers::relu::ReluRule;
use convscope::model::manifest::{InputShape, Manifest};
use convscope::model::network::Network;
use convscope::rng::Rng;
use convscope::train::{evaluate, Dataset};
use convscope::Tensor;
use std::path::Path;

fn data(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn small_lenet(seed: u64) -> Network {
    let labels = (0..4).map(|i| i.to_string()).collect();
    let mut m = Manifest::lenet5(
        "small",
        InputShape {
            channels: 2,
            height: 16,
            width: 12,
        },
        labels,
    )
    .unwrap();
    m.normalization = Some(convscope::model::manifest::Normalization {
        mean: vec![0.2, -0.1],
        std: vec![0.5, 2.0],
    });
    Network::init_random(m, seed).unwrap()
}

fn random_image(rng: &mut Rng, shape: [usize; 3]) -> Tensor {
    Tensor::from_vec(
        &shape,
        (0..shape.iter().product()).map(|_| rng.uniform()).collect(),
    )
    .unwrap()
}

/// The score whose gradient is checked: log-probability of class 1 (through every layer type).
fn score(net: &Network, x: &Tensor) -> f64 {
    let t = net.forward(x).unwrap();
    t.outputs().last().unwrap().data()[1] as f64
}

#[test]
fn input_gradient_matches_finite_differences() {
    let net = small_lenet(3);
    let mut rng = Rng::new(4);
    let mut x = random_image(&mut rng, net.input_shape());
    let trace = net.forward(&x).unwrap();
    let g = trace.target_backward(1, true, ReluRule::Gradient).unwrap();
    let eps = 1e-3;
    let mut worst = 0.0f64;
    for i in (0..x.len()).step_by(7) {
        let keep = x.data()[i];
        x.data_mut()[i] = keep + eps;
        let up = score(&net, &x);
        x.data_mut()[i] = keep - eps;
        let down = score(&net, &x);
        x.data_mut()[i] = keep;
        let fd = (up - down) / (2.0 * eps as f64);
        worst = worst.max((fd - g.data()[i] as f64).abs() / fd.abs().max(1e-2));
    }
    assert!(worst < 2e-2, "worst relative error {worst}");
}

#[test]
fn parameter_gradients_match_finite_differences() {
    let mut net = small_lenet(5);
    let mut rng = Rng::new(6);
    let x = random_image(&mut rng, net.input_shape());
    let trace = net.forward(&x).unwrap();
    let (from, _) = net.target_layer(true).unwrap();
    let mut seed = Tensor::zeros(&net.layers()[from].output_shape);
    seed.data_mut()[1] = 1.0;
    let mut grads = net.zero_gradients();
    trace
        .backward(from, seed, ReluRule::Gradient, None, Some(&mut grads))
        .unwrap();
    let eps = 1e-3f32;
    let layer_ids: Vec<usize> = net.parameters_mut().map(|(i, _, _)| i).collect();
    assert_eq!(layer_ids.len(), 5);
    for &li in &layer_ids {
        let (gw, gb) = grads.layers[li].clone().unwrap();
        for (which, n) in [(0usize, gw.len()), (1, gb.len())] {
            for k in (0..n).step_by((n / 6).max(1)) {
                let bump = |net: &mut Network, delta: f32| {
                    let (_, w, b) = net.parameters_mut().find(|(i, _, _)| *i == li).unwrap();
                    if which == 0 {
                        w[k] += delta
                    } else {
                        b[k] += delta
                    }
                };
                bump(&mut net, eps);
                let up = score(&net, &x);
                bump(&mut net, -2.0 * eps);
                let down = score(&net, &x);
                bump(&mut net, eps);
                let fd = (up - down) / (2.0 * eps as f64);
                let analytic = if which == 0 { gw[k] } else { gb[k] } as f64;
                assert!(
                    (fd - analytic).abs() < 2e-3 + 2e-2 * fd.abs(),
                    "layer {li} param {which}[{k}]: {fd} vs {analytic}"
                );
            }
        }
    }
}

#[test]
fn python_written_safetensors_fixture_reads_exactly() {
    let bytes = std::fs::read(data("tests/data/fixture-numpy.safetensors")).unwrap();
    let parsed = safetensors::parse(&bytes).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("tests/data/fixture-numpy.json")).unwrap(),
    )
    .unwrap();
    let tensors = expected["tensors"].as_array().unwrap();
    assert_eq!(parsed.tensors.len(), tensors.len());
    for t in tensors {
        let name = t["name"].as_str().unwrap();
        let got = parsed.get(name).unwrap_or_else(|| panic!("{name} missing"));
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(got.shape(), shape.as_slice(), "{name}");
        let values: Vec<f32> = t["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(got.data(), values.as_slice(), "{name}");
    }
    for (k, v) in expected["metadata"].as_object().unwrap() {
        assert_eq!(parsed.metadata.get(k).map(String::as_str), v.as_str());
    }
    // Our writer's bytes read back identically (round trip of a foreign file).
    let again =
        safetensors::parse(&safetensors::serialize(&parsed.tensors, &parsed.metadata).unwrap())
            .unwrap();
    assert_eq!(again, parsed);
    let f64_file = std::fs::read(data("tests/data/fixture-numpy-f64.safetensors")).unwrap();
    assert!(safetensors::parse(&f64_file)
        .unwrap_err()
        .to_string()
        .contains("F64"));
}

#[test]
fn pytorch_state_dict_loads_unchanged_and_matches_pytorch_logits() {
    let net = Network::load(&data("tests/data/torch-lenet-random.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("tests/data/torch-lenet-random-logits.json")).unwrap(),
    )
    .unwrap();
    let images =
        convscope::io::idx::read_images(data("tests/data/mnist/t10k-images-idx3-ubyte.gz"))
            .unwrap();
    for (row, index) in expected["logits"]
        .as_array()
        .unwrap()
        .iter()
        .zip(expected["indices"].as_array().unwrap())
    {
        let p = net
            .predict(&images.image(index.as_u64().unwrap() as usize).unwrap())
            .unwrap();
        for (a, b) in p.logits.iter().zip(row.as_array().unwrap()) {
            let b = b.as_f64().unwrap();
            assert!(
                (*a as f64 - b).abs() <= 1e-4 * b.abs().max(1e-2),
                "{a} vs {b}"
            );
        }
    }
    // Saving and loading again gives the same network.
    let bytes = net.to_safetensors().unwrap();
    let back = Network::new(net.manifest().clone(), &safetensors::parse(&bytes).unwrap()).unwrap();
    assert_eq!(back, net);
}

fn lenet_weights() -> (Manifest, SafeTensors) {
    let net = small_lenet(9);
    let st = safetensors::parse(&net.to_safetensors().unwrap()).unwrap();
    (net.manifest().clone(), st)
}

#[test]
fn hostile_weights_are_rejected_with_clear_errors() {
    let (m, good) = lenet_weights();
    assert!(Network::new(m.clone(), &good).is_ok());
    let mutate = |f: &dyn Fn(&mut SafeTensors)| {
        let mut st = good.clone();
        f(&mut st);
        Network::new(m.clone(), &st).unwrap_err().to_string()
    };
    let e = mutate(&|st| st.tensors.retain(|(n, _)| n != "fc2.bias"));
    assert!(e.contains("\"fc2.bias\" is missing"), "{e}");
    let e = mutate(&|st| st.tensors[0].1 = Tensor::zeros(&[6, 2, 5, 4]));
    assert!(e.contains("shape [6, 2, 5, 4]"), "{e}");
    let e = mutate(&|st| st.tensors[3].1.data_mut()[0] = f32::NAN);
    assert!(e.contains("NaN"), "{e}");
    let e = mutate(&|st| {
        st.tensors
            .push(("bn.running_mean".into(), Tensor::zeros(&[3])))
    });
    assert!(
        e.contains("unexpected tensors [\"bn.running_mean\"]"),
        "{e}"
    );
    let bytes = std::fs::read(data("tests/data/torch-lenet-random.safetensors")).unwrap();
    let manifest = std::fs::read_to_string(data("tests/data/torch-lenet-random.json")).unwrap();
    for cut in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = Network::from_bytes(&manifest, &bytes[..cut])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bad weights file"), "{cut}: {e}");
    }
    // A manifest asking for an absurd layer is refused before anything is allocated.
    let absurd = manifest.replace("\"out_features\": 120", "\"out_features\": 4000000000");
    assert!(Network::from_bytes(&absurd, &bytes).is_err());
}

/// Loads a shipped model, evaluates it on its t10k set and checks the accuracy it records in its manifest.
fn shipped_accuracy(model: &str, dataset: &str) -> f64 {
    let net = Network::load(&data(&format!("www/models/{model}.json"))).expect("the shipped model");
    let t10k = Dataset::read(
        &data(&format!("tests/data/{dataset}/t10k-images-idx3-ubyte.gz")),
        &data(&format!("tests/data/{dataset}/t10k-labels-idx1-ubyte.gz")),
    )
    .unwrap();
    let ev = evaluate(&net, &t10k).unwrap();
    assert_eq!(ev.total, 10_000);
    let recorded = net.manifest().extra["metrics"]["test_accuracy"]
        .as_f64()
        .unwrap();
    assert!(
        (recorded - ev.accuracy()).abs() < 1e-9,
        "{model}: manifest records {recorded}, measured {}",
        ev.accuracy()
    );
    ev.accuracy()
}

#[test]
fn shipped_mnist_model_reaches_99_percent_on_t10k() {
    let accuracy = shipped_accuracy("lenet5-mnist", "mnist");
    assert!(accuracy >= 0.990, "MNIST t10k accuracy {accuracy}");
}

#[test]
fn shipped_fashion_model_reaches_89_percent_on_t10k() {
    let accuracy = shipped_accuracy("lenet5-fashion", "fashion-mnist");
    assert!(accuracy >= 0.89, "Fashion-MNIST t10k accuracy {accuracy}");
}
