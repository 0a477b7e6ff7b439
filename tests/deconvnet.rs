//! Integration tests of the Zeiler & Fergus deconvnet (`convscope::explain::deconvnet`) on LeNet-5:
//! agreement with the float64 PyTorch references of `tests/reference/make_references.py`, the identity with
//! the gradient when the ReLU rule is swapped, deterministic switches on ties, and `deconv_all`.

mod common {
    pub mod reference;
}

use common::reference::{reference_sets, repo};
use convscope::explain::deconvnet::{self, conv_blocks, deconv, deconv_all, Seed, Unit};
use convscope::io::idx;
use convscope::layers::relu::ReluRule;
use convscope::model::network::{Layer, Network, Trace};
use convscope::Tensor;
use serde_json::Value;
use std::path::Path;

fn random_lenet() -> Network {
    Network::load(&repo().join("tests/data/torch-lenet-random.json")).unwrap()
}

fn t10k(index: usize) -> Tensor {
    idx::read_images(repo().join("tests/data/mnist/t10k-images-idx3-ubyte.gz"))
        .unwrap()
        .image(index)
        .unwrap()
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// Relative error ‖ours − reference‖ / ‖reference‖ after checking each value to within `1e-4·|b|` plus an
/// absolute floor of `1e-5·max|b|` (f32 sums of a few hundred terms lose that much against float64).
fn relative_error(ours: &[f32], reference: &[f64], what: &str) -> f64 {
    assert_eq!(ours.len(), reference.len(), "{what}: length");
    let scale = reference.iter().fold(0.0f64, |m, b| m.max(b.abs()));
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (i, (&a, &b)) in ours.iter().zip(reference).enumerate() {
        let d = f64::from(a) - b;
        assert!(
            d.abs() <= 1e-4 * b.abs() + 1e-5 * scale,
            "{what}: value {i} is {a}, reference {b}"
        );
        diff += d * d;
        norm += b * b;
    }
    if norm == 0.0 {
        assert!(diff == 0.0, "{what}: the reference is zero, ours is not");
        return 0.0;
    }
    (diff / norm).sqrt()
}

/// One reference entry (`deconv` or `deconv_units`) against convscope.
fn check_entry(net: &Network, trace: &Trace, entry: &Value, what: &str) -> f64 {
    let layer = entry["layer"].as_str().unwrap();
    let channel = entry["channel"].as_u64().unwrap() as usize;
    let unit: Unit = entry["unit"].as_str().unwrap().parse().unwrap();
    let what = format!("{what} {layer} channel {channel} unit {unit}");
    let r = deconv(net, trace, layer, channel, unit).unwrap();
    assert_eq!(
        r.shape(),
        numbers(&entry["shape"])
            .iter()
            .map(|&d| d as usize)
            .collect::<Vec<_>>(),
        "{what}: shape"
    );
    let strength = entry["strength"].as_f64().unwrap();
    assert!(
        (f64::from(r.strength) - strength).abs() <= 1e-5 * strength.abs().max(1e-3),
        "{what}: strength {} vs {strength}",
        r.strength
    );
    let position = entry.get("position").map(|p| {
        let p = numbers(p);
        (p[0] as usize, p[1] as usize)
    });
    assert_eq!(r.position, position, "{what}: seeded unit");
    relative_error(r.data(), &numbers(&entry["data"]), &what)
}

#[test]
fn every_channel_matches_the_float64_pytorch_references() {
    let sets = reference_sets();
    let mut checked = 0;
    for set in &sets {
        for record in set.records() {
            let entries: Vec<&Value> = ["deconv", "deconv_units"]
                .iter()
                .filter_map(|key| record.json.get(*key).and_then(Value::as_array))
                .flatten()
                .collect();
            if entries.is_empty() {
                continue;
            }
            let net = &set.net;
            let trace = net.forward(&record.image).unwrap();
            let what = &record.name;
            let mut worst = 0.0f64;
            for entry in &entries {
                let error = check_entry(net, &trace, entry, what);
                assert!(
                    error <= 1e-4,
                    "{what}: relative error {error:e} for {entry:.80}"
                );
                worst = worst.max(error);
            }
            // Every conv channel of the image is covered, in both the whole-channel and the strongest-unit mode.
            let channels: usize = conv_blocks(net).iter().map(|b| b.channels).sum();
            assert!(
                entries.len() >= 2 * channels,
                "{what}: {} entries",
                entries.len()
            );
            eprintln!(
                "{what}: {} reconstructions, worst relative error {worst:.2e}",
                entries.len()
            );
            checked += entries.len();
        }
    }
    assert!(
        checked > 0,
        "no deconvnet references in {:?}; regenerate them with tests/reference/generate.sh",
        sets.iter().map(|s| &s.dir).collect::<Vec<_>>()
    );
}

/// ReLU masks and pooling switches: which piece of a piecewise-linear map an input lies on.
type Piece = (Vec<bool>, Vec<u32>);

/// The piece of the map from the input to the output of layer `last` that a trace's input lies on.
fn linear_piece(net: &Network, trace: &Trace, last: usize) -> Piece {
    let mut masks = Vec::new();
    let mut switches = Vec::new();
    for (i, layer) in net.layers().iter().enumerate().take(last + 1) {
        if layer.layer == Layer::Relu {
            masks.extend(trace.layer_input(i).data().iter().map(|&v| v > 0.0));
        }
        if let Some(s) = &trace.switches()[i] {
            switches.extend(&s.indices);
        }
    }
    (masks, switches)
}

#[test]
fn with_the_gradient_rule_the_pass_is_the_gradient_of_the_seeded_activations() {
    // Swapping the deconvnet's rectification for ReLU's true backward turns the reconstruction into
    // g = ∂⟨P(x), S⟩/∂x with the seed S fixed. Checked pixel by pixel with central differences: x ↦ P is
    // piecewise linear, so (f(x + εe_i) − f(x − εe_i)) / 2ε = g_i exactly (up to f32 rounding) whenever the
    // ReLU masks and pooling switches up to P are the same at x ± εe_i as at x. The largest ε of a short
    // list that stays on the piece is used (large ε, small rounding error); pixels where none does are
    // skipped, and at least 80% of the pixels must be checked. A fixed pattern added to the digit breaks the exact ties of
    // its blank background (where the derivative does not exist).
    let net = random_lenet();
    let digit = t10k(0);
    let pattern = (0..digit.len()).map(|i| ((i * 7919) % 17) as f32 / 80.0);
    let image = net
        .image(
            digit
                .data()
                .iter()
                .zip(pattern)
                .map(|(x, p)| x + p)
                .collect(),
        )
        .unwrap();
    let trace = net.forward(&image).unwrap();
    let seeds: Vec<(Seed, Piece, Tensor)> = [
        ("conv1", 2, Unit::All),
        ("conv1", 3, Unit::Max),
        ("conv2", 5, Unit::All),
        ("conv2", 11, Unit::Max),
    ]
    .into_iter()
    .map(|(layer, channel, unit)| {
        let seed = Seed::new(&net, &trace, layer, channel, unit).unwrap();
        let piece = linear_piece(&net, &trace, seed.activations);
        let gradient = seed
            .clone()
            .propagate(&net, &trace, ReluRule::Gradient)
            .unwrap()
            .map;
        (seed, piece, gradient)
    })
    .collect();
    let mut checked = vec![0; seeds.len()];
    let mut worst = vec![0.0f64; seeds.len()];
    for pixel in 0..image.len() {
        let mut done = vec![false; seeds.len()];
        for eps in [0.1f32, 0.02, 0.004, 0.001] {
            let shifted = |sign: f32| {
                let mut x = image.clone();
                x.data_mut()[pixel] += sign * eps;
                net.forward(&x).unwrap()
            };
            let (up, down) = (shifted(1.0), shifted(-1.0));
            for (s, (seed, piece, gradient)) in seeds.iter().enumerate() {
                let last = seed.activations;
                if done[s]
                    || linear_piece(&net, &up, last) != *piece
                    || linear_piece(&net, &down, last) != *piece
                {
                    continue;
                }
                let f = |t: &Trace| -> f64 {
                    t.outputs()[last]
                        .data()
                        .iter()
                        .zip(seed.signal.data())
                        .map(|(&p, &s)| f64::from(p) * f64::from(s))
                        .sum()
                };
                let finite_difference = (f(&up) - f(&down)) / (2.0 * f64::from(eps));
                let scale = f64::from(gradient.min_max().1.max(-gradient.min_max().0));
                let error = (finite_difference - f64::from(gradient.data()[pixel])).abs() / scale;
                worst[s] = worst[s].max(error);
                checked[s] += 1;
                done[s] = true;
            }
        }
    }
    eprintln!(
        "checked {checked:?} of {} pixels, worst error / max|g| {worst:?}",
        image.len()
    );
    for (s, (seed, _, _)) in seeds.iter().enumerate() {
        assert!(
            5 * checked[s] >= 4 * image.len(),
            "{} {}: only {} pixels",
            seed.layer,
            seed.channel,
            checked[s]
        );
        assert!(
            worst[s] < 1e-3,
            "{} {}: error {:e}",
            seed.layer,
            seed.channel,
            worst[s]
        );
    }
}

#[test]
fn the_sparse_pass_equals_the_network_backward_pass() {
    // `Seed::propagate` skips zeros; `Network::backward` is the dense pass every other method uses.
    let net = random_lenet();
    let trace = net.forward(&t10k(8)).unwrap();
    for block in conv_blocks(&net) {
        for channel in 0..block.channels {
            for rule in [ReluRule::Deconvnet, ReluRule::Gradient, ReluRule::Guided] {
                let seed = Seed::new(&net, &trace, &block.name, channel, Unit::All).unwrap();
                let dense = trace
                    .backward(seed.activations, seed.signal.clone(), rule, None, None)
                    .unwrap();
                let sparse = seed.propagate(&net, &trace, rule).unwrap();
                let scale = dense.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
                assert!(scale > 0.0, "{} {channel} {rule:?}: empty map", block.name);
                for (a, b) in sparse.data().iter().zip(dense.data()) {
                    assert!(
                        (a - b).abs() <= 1e-6 * scale,
                        "{} {channel} {rule:?}: {a} vs {b}",
                        block.name
                    );
                }
            }
        }
    }
}

#[test]
fn rectifying_differs_from_the_gradient_below_conv2_only() {
    // Directly under conv1's pooled maps the unpooled signal is never negative, so rectifying it changes
    // nothing where the ReLU passes and the switches only point where it passes (or the value is 0): the
    // deconvnet equals the gradient for conv1. Below conv2 the transposed conv2 produces negative values at
    // relu1 that the deconvnet clips and the gradient keeps where conv1 fired.
    let net = random_lenet();
    let trace = net.forward(&t10k(3)).unwrap();
    for (layer, channel, same) in [("conv1", 0, true), ("conv1", 4, true), ("conv2", 7, false)] {
        let deconvnet = deconv(&net, &trace, layer, channel, Unit::All).unwrap();
        let gradient = Seed::new(&net, &trace, layer, channel, Unit::All)
            .unwrap()
            .propagate(&net, &trace, ReluRule::Gradient)
            .unwrap();
        let difference: f32 = deconvnet
            .data()
            .iter()
            .zip(gradient.data())
            .map(|(a, b)| (a - b).abs())
            .sum();
        let size: f32 = gradient.data().iter().map(|v| v.abs()).sum();
        assert!(size > 0.0, "{layer}/{channel}: empty map");
        if same {
            assert_eq!(difference, 0.0, "{layer}/{channel}");
        } else {
            assert!(
                difference > 0.1 * size,
                "{layer}/{channel}: {difference} vs {size}"
            );
        }
    }
}

#[test]
fn ties_give_deterministic_switches_and_reconstructions() {
    // A blank image makes every map constant away from conv1's zero padding, so most pooling windows are
    // exact ties; each must go to the window's first (top-left) position, and two forward passes must route
    // the reconstruction identically.
    let net = random_lenet();
    let blank = net.image(vec![0.0; 28 * 28]).unwrap();
    let first = net.forward(&blank).unwrap();
    let second = net.forward(&blank).unwrap();
    let pool1 = net.layer_index("pool1").unwrap();
    let relu1 = first.outputs()[pool1 - 1].data();
    let switches = first.switches()[pool1].as_ref().unwrap();
    let mut ties = 0;
    for (out, &switch) in switches.indices.iter().enumerate() {
        let (c, oy, ox) = (out / 196, out / 14 % 14, out % 14);
        let top_left = (c * 28 + 2 * oy) * 28 + 2 * ox;
        let window = [top_left, top_left + 1, top_left + 28, top_left + 29];
        if window.iter().all(|&i| relu1[i] == relu1[top_left]) {
            assert_eq!(switch as usize, top_left, "window {out}");
            ties += 1;
        }
    }
    assert!(ties > 6 * 14 * 14 / 2, "only {ties} tied windows");
    assert_eq!(first.switches(), second.switches());
    assert_eq!(
        deconv_all(&net, &first).unwrap(),
        deconv_all(&net, &second).unwrap()
    );
}

#[test]
fn deconv_all_is_every_conv_channel_in_order() {
    let net = random_lenet();
    let trace = net.forward(&t10k(61)).unwrap();
    let all = deconv_all(&net, &trace).unwrap();
    let labels: Vec<(String, usize)> = all.iter().map(|r| (r.layer.clone(), r.channel)).collect();
    let expected: Vec<(String, usize)> = (0..6)
        .map(|k| ("conv1".to_string(), k))
        .chain((0..16).map(|k| ("conv2".to_string(), k)))
        .collect();
    assert_eq!(labels, expected);
    for r in &all {
        assert_eq!(
            r,
            &deconv(&net, &trace, &r.layer, r.channel, Unit::All).unwrap()
        );
        let block = deconvnet::ConvBlock::find(&net, &r.layer).unwrap();
        let plane = trace.outputs()[block.activations]
            .channel(r.channel)
            .unwrap();
        assert_eq!(r.strength, plane.iter().copied().fold(f32::MIN, f32::max));
        assert_eq!(r.shape(), vec![28, 28]);
    }
    let blocks: Vec<(String, &str)> = conv_blocks(&net)
        .iter()
        .map(|b| (b.name.clone(), net.layers()[b.activations].name.as_str()))
        .collect();
    assert_eq!(
        blocks,
        vec![
            ("conv1".to_string(), "pool1"),
            ("conv2".to_string(), "pool2")
        ]
    );
}

const MODEL: &str = "tests/data/torch-lenet-random.json";
const IMAGES: &str = "tests/data/mnist/t10k-images-idx3-ubyte.gz";
const LABELS: &str = "tests/data/mnist/t10k-labels-idx1-ubyte.gz";

/// Runs `convscope deconv --model MODEL --idx IMAGES` followed by `args` (split at white space) and, given a
/// path, `--out PATH`; returns (exit code, stdout, stderr).
fn deconv_cli(args: &str, out: Option<&Path>) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_convscope"));
    command
        .args(["deconv", "--model", MODEL, "--idx", IMAGES])
        .args(args.split_whitespace())
        .current_dir(repo());
    if let Some(path) = out {
        command.arg("--out").arg(path);
    }
    let output = command.output().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (
        output.status.code().unwrap_or(-1),
        text(output.stdout),
        text(output.stderr),
    )
}

#[test]
fn cli_prints_the_raw_reconstruction_as_json() {
    let net = random_lenet();
    let trace = net.forward(&t10k(4)).unwrap();
    for (layer, channel, unit) in [
        ("conv1", "5", "all"),
        ("conv2", "9", "max"),
        ("conv2", "0", "2,3"),
    ] {
        let (code, stdout, stderr) = deconv_cli(
            &format!("--index 4 --layer {layer} --channel {channel} --unit {unit} --json"),
            None,
        );
        assert_eq!(code, 0, "{stderr}");
        let printed: Value = serde_json::from_str(&stdout).unwrap();
        let r = deconv(
            &net,
            &trace,
            layer,
            channel.parse().unwrap(),
            unit.parse().unwrap(),
        )
        .unwrap();
        assert_eq!(printed["shape"], serde_json::json!([28, 28]));
        assert_eq!(printed["strength"].as_f64().unwrap() as f32, r.strength);
        // Printed in the shortest form that reads back as the same f32.
        let data: Vec<f32> = numbers(&printed["data"])
            .iter()
            .map(|&v| v as f32)
            .collect();
        assert_eq!(data, r.data());
        let position = r.position.map(|(y, x)| serde_json::json!([y, x]));
        assert_eq!(printed.get("position"), position.as_ref());
    }
    let (code, stdout, stderr) = deconv_cli("--index 4 --all --json", None);
    assert_eq!(code, 0, "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).unwrap();
    let all = deconv_all(&net, &trace).unwrap();
    let items = printed.as_array().unwrap();
    assert_eq!(items.len(), 22);
    for (item, r) in items.iter().zip(&all) {
        assert_eq!(item["layer"], r.layer.as_str());
        assert_eq!(item["channel"], r.channel);
        let data: Vec<f32> = numbers(&item["data"]).iter().map(|&v| v as f32).collect();
        assert_eq!(data, r.data());
    }
}

#[test]
fn cli_draws_the_figures() {
    let dir = std::env::temp_dir().join(format!("convscope-deconv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let size = |path: &Path| {
        let image = convscope::io::image::decode(&std::fs::read(path).unwrap()).unwrap();
        (image.width, image.height)
    };
    let one = dir.join("one.png");
    let (code, _, stderr) = deconv_cli(
        "--index 0 --layer conv2 --channel 3 --display gray",
        Some(&one),
    );
    assert_eq!(code, 0, "{stderr}");
    // Three 84-pixel panels in a row under the title, and the legend.
    assert!(
        size(&one).0 > 3 * 84 && size(&one).1 > 84,
        "{:?}",
        size(&one)
    );
    let all = dir.join("all.png");
    let (code, _, stderr) = deconv_cli("--index 0 --all", Some(&all));
    assert_eq!(code, 0, "{stderr}");
    let digits = dir.join("digits.png");
    let (code, _, stderr) = deconv_cli(&format!("--labels {LABELS} --digits 9,7"), Some(&digits));
    // The random network predicts 9 for every test image: the first 9 (t10k[7]) is picked, and no 7 is
    // classified correctly.
    assert_eq!(code, 2);
    assert!(stderr.contains("image 7, label 9, predicted 9"), "{stderr}");
    assert!(
        stderr.contains("no image labelled 7 is classified correctly"),
        "{stderr}"
    );
    assert!(!digits.exists());
    let (code, _, stderr) = deconv_cli(&format!("--labels {LABELS} --digits 9"), Some(&digits));
    assert_eq!(code, 0, "{stderr}");
    // One block (header + two layer grids) is as wide as the --all figure and as tall.
    assert_eq!(size(&digits), size(&all));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cli_errors_are_one_line_with_exit_code_2() {
    for (args, needle) in [
        ("--layer fc1 --channel 0 --json", "[\"conv1\", \"conv2\"]"),
        (
            "--layer conv2 --channel 16 --json",
            "channel 16 out of range",
        ),
        (
            "--layer conv2 --channel 1 --unit 5,0 --json",
            "outside the 5×5",
        ),
        ("--layer conv2 --channel 1 --unit top --json", "\"max\""),
        ("--layer conv2 --channel 1", "--json or --out"),
        ("--layer conv2 --json", "--channel"),
        ("--all --unit max --json", "drop --layer"),
        ("--all --json --display rainbow", "unknown colormap"),
        (
            &format!("--labels {LABELS} --all --json"),
            "--labels goes with --digits",
        ),
        (
            &format!("--digits 0 --labels {LABELS} --out x.png"),
            "drop --image, --index",
        ),
    ] {
        let args = format!("--index 0 {args}");
        let (code, stdout, stderr) = deconv_cli(&args, None);
        assert_eq!(code, 2, "{args}");
        assert!(stdout.is_empty(), "{args}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{args}: {stderr}");
        assert!(stderr.contains(needle), "{args}: {stderr}");
    }
    let (code, _, stderr) = deconv_cli(&format!("--labels {LABELS} --digits 12 --out x.png"), None);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a class of this model"), "{stderr}");
}
