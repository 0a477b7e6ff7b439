//! The runtime monitor (Cheng et al. 2019) on a hand-built network whose patterns are known in closed form:
//! extraction and recording, γ-enlargement against brute-force enumeration, the monitor file's round trip and
//! its rejection of corrupt files, and the `convscope monitor` commands end to end.
//!
//! The network takes a 2×2 image `x ∈ {0, 1}⁴` (row-major) and computes
//! `h = relu(x₀ − ½, x₁ − ½, x₂ − ½, x₃ − ½, x₀ + x₁ − 1½)` (layer `fc` + `relu`), then the logits
//! `(h₀ + h₁, h₂ + h₃ + ¼)`. So the on/off pattern of `fc` is `(x₀, x₁, x₂, x₃, x₀ ∧ x₁)` and the prediction is
//! class 0 exactly when `x₀ + x₁ > x₂ + x₃`.

#[allow(dead_code)] // the PNG helpers serve the parser fuzzing tests
mod common;

use common::Mutator;
use convscope::explain::monitor::pattern::{self, PatternSet};
use convscope::explain::monitor::{features, BuildOptions, Calibration, GammaChoice, Monitor};
use convscope::io::idx::{self, IdxImages};
use convscope::model::manifest::Manifest;
use convscope::model::network::Network;
use convscope::rng::Rng;
use convscope::Error;
use std::collections::BTreeSet;

const MANIFEST: &str = r#"{"name": "tiny", "input": {"channels": 1, "height": 2, "width": 2},
  "labels": ["left", "right"],
  "layers": [{"name": "flatten", "type": "flatten"},
             {"name": "fc", "type": "linear", "in_features": 4, "out_features": FC_OUT},
             {"name": "relu", "type": "relu"},
             {"name": "out", "type": "linear", "in_features": FC_OUT, "out_features": 2},
             {"name": "log_softmax", "type": "log_softmax"}],
  "weights": "tiny.safetensors", "dataset": {"name": "all 2×2 binary images"}}"#;

/// The network of the header (`fc_out = 5`), or one with a wider `fc` (extra rows zero) to test mismatches.
fn network(fc_out: usize, fc_name: &str) -> Network {
    let text = MANIFEST
        .replace("FC_OUT", &fc_out.to_string())
        .replace("\"fc\"", &format!("{fc_name:?}"));
    let mut net = Network::init_random(Manifest::parse(&text).unwrap(), 0).unwrap();
    for (index, weight, bias) in net.parameters_mut() {
        weight.fill(0.0);
        bias.fill(0.0);
        if index == 1 {
            for i in 0..4 {
                weight[i * 4 + i] = 1.0;
                bias[i] = -0.5;
            }
            weight[16] = 1.0;
            weight[17] = 1.0;
            bias[4] = -1.5;
        } else {
            weight[0] = 1.0;
            weight[1] = 1.0;
            weight[fc_out + 2] = 1.0;
            weight[fc_out + 3] = 1.0;
            bias[1] = 0.25;
        }
    }
    net
}

/// Pixels of image `k` of the 16: bit `i` of `k` is pixel `i`.
fn pixels(k: usize) -> [u8; 4] {
    [0, 1, 2, 3].map(|i| if (k >> i) & 1 == 1 { 255 } else { 0 })
}

/// The closed-form pattern (as a packed word) and prediction of image `k`.
fn oracle(k: usize) -> (u64, usize) {
    let x = |i: usize| ((k >> i) & 1) as u64;
    let pattern = x(0) | (x(1) << 1) | (x(2) << 2) | (x(3) << 3) | ((x(0) & x(1)) << 4);
    let predicted = usize::from(x(0) + x(1) <= x(2) + x(3));
    (pattern, predicted)
}

/// Every 2×2 binary image twice (so that deduplication has work), labelled 0 when its first pixel is on.
fn training_set() -> (IdxImages, Vec<u8>) {
    let order: Vec<usize> = (0..16).chain(0..16).collect();
    let images = IdxImages {
        count: order.len(),
        height: 2,
        width: 2,
        pixels: order.iter().flat_map(|&k| pixels(k)).collect(),
    };
    let labels = order.iter().map(|&k| u8::from(k & 1 == 0)).collect();
    (images, labels)
}

/// The patterns a correct build records per class, from the closed form.
fn expected_sets() -> [BTreeSet<u64>; 2] {
    let mut sets = [BTreeSet::new(), BTreeSet::new()];
    for k in 0..16 {
        let (pattern, predicted) = oracle(k);
        let label = usize::from(k & 1 == 0);
        if predicted == label {
            sets[label].insert(pattern);
        }
    }
    sets
}

fn tiny_monitor(gamma: GammaChoice) -> (Network, Monitor) {
    let net = network(5, "fc");
    let (images, labels) = training_set();
    let options = BuildOptions {
        layer: "fc".into(),
        gamma,
        clusters: 3,
        seed: 1,
    };
    let monitor = Monitor::build(&net, &images, &labels, &options).unwrap();
    (net, monitor)
}

#[test]
fn patterns_are_extracted_recorded_and_deduplicated_per_class() {
    let (net, monitor) = tiny_monitor(GammaChoice::Fixed(1));
    // Class 0 ("left") is recorded for (1,0,0,0), (1,1,0,0), (1,1,1,0), (1,1,0,1): patterns 1, 19, 23, 27.
    // Class 1 for the seven images with x₀ = 0 and x₁ ≤ x₂ + x₃.
    let sets = expected_sets();
    assert_eq!(sets[0], BTreeSet::from([1, 19, 23, 27]));
    assert_eq!(sets[1], BTreeSet::from([0, 4, 8, 12, 6, 10, 14]));
    for (class, expected) in sets.iter().enumerate() {
        let recorded: Vec<u64> = monitor.patterns(class).unwrap().as_words().to_vec();
        assert_eq!(recorded, expected.iter().copied().collect::<Vec<_>>());
    }
    // Each image appears twice: 2 × (4 + 7) correct images, 4 + 7 distinct patterns.
    assert_eq!(monitor.stats().images, 32);
    assert_eq!(monitor.stats().correct, vec![8, 14]);
    assert_eq!(
        (monitor.layer(), monitor.neurons(), monitor.gamma()),
        ("fc", 5, 1)
    );

    // Query: image (1,1,1,1) is predicted 1 (2 ≤ 2), pattern 0b11111 = 31; nearest of class 1 is 14 = 0b01110
    // (distance 2), so it warns at γ = 1 and not at γ = 2.
    let image = net.image(vec![1.0; 4]).unwrap();
    let trace = net.forward(&image).unwrap();
    let check = monitor.check(&net, &trace, None).unwrap();
    assert_eq!(
        (check.label, check.distance, check.warn),
        (1, Some(2), true)
    );
    assert_eq!(check.pattern, vec![31]);
    assert_eq!(check.nearest, Some(vec![14]));
    assert_eq!(pattern::unpack(&check.pattern, 5), vec![1, 1, 1, 1, 1]);
    assert!(!monitor.check(&net, &trace, Some(2)).unwrap().warn);
    // A recorded image: distance 0, no warning at γ = 0.
    let image = net.image(vec![1.0, 1.0, 0.0, 1.0]).unwrap();
    let check = monitor
        .check(&net, &net.forward(&image).unwrap(), Some(0))
        .unwrap();
    assert_eq!(
        (check.label, check.distance, check.warn),
        (0, Some(0), false)
    );
    assert_eq!(check.nearest, Some(vec![27]));
}

/// All patterns within Hamming distance γ of a recorded one, by flipping bits one at a time.
fn enlarged(recorded: &BTreeSet<u64>, bits: usize, gamma: u32) -> BTreeSet<u64> {
    let mut zone = recorded.clone();
    let mut frontier = recorded.clone();
    for _ in 0..gamma {
        let mut next = BTreeSet::new();
        for p in &frontier {
            for b in 0..bits {
                let q = p ^ (1 << b);
                if zone.insert(q) {
                    next.insert(q);
                }
            }
        }
        frontier = next;
    }
    zone
}

#[test]
fn gamma_enlargement_equals_brute_force_over_all_patterns_of_the_layer() {
    let (_, monitor) = tiny_monitor(GammaChoice::Fixed(0));
    let sets = expected_sets();
    for (label, recorded) in sets.iter().enumerate() {
        for gamma in 0..=5 {
            let zone = enlarged(recorded, 5, gamma);
            for p in 0..32u64 {
                let check = monitor.check_pattern(label, vec![p], Some(gamma));
                assert_eq!(
                    check.warn,
                    !zone.contains(&p),
                    "class {label}, γ {gamma}, pattern {p:05b}"
                );
            }
        }
    }
}

#[test]
fn gamma_enlargement_is_exact_across_word_boundaries() {
    // 70 neurons (two words); a few recorded patterns; every pattern within distance 2 of them and random
    // patterns far away are classified as the brute-force zone says.
    let bits = 70;
    let mut rng = Rng::new(3);
    let random_pattern = |rng: &mut Rng| -> Vec<u64> {
        let values: Vec<f32> = (0..bits).map(|_| rng.uniform() - 0.5).collect();
        pattern::pack(&values)
    };
    let recorded: Vec<Vec<u64>> = (0..5).map(|_| random_pattern(&mut rng)).collect();
    let set = PatternSet::from_rows(2, &recorded.concat());
    assert_eq!(set.len(), 5);
    let flip = |p: &[u64], b: usize| {
        let mut q = p.to_vec();
        q[b / 64] ^= 1 << (b % 64);
        q
    };
    let mut zone: BTreeSet<Vec<u64>> = BTreeSet::new();
    for p in &recorded {
        zone.insert(p.clone());
        for b1 in 0..bits {
            let q = flip(p, b1);
            zone.insert(q.clone());
            for b2 in b1 + 1..bits {
                zone.insert(flip(&q, b2));
            }
        }
    }
    let brute_distance = |q: &[u64]| {
        recorded
            .iter()
            .map(|r| pattern::hamming(r, q))
            .min()
            .unwrap()
    };
    for q in &zone {
        let d = set.nearest(q).unwrap().distance;
        assert!(d <= 2);
        assert_eq!(d, brute_distance(q));
    }
    for _ in 0..2000 {
        let q = random_pattern(&mut rng);
        let d = set.nearest(&q).unwrap().distance;
        assert_eq!(d, brute_distance(&q));
        assert_eq!(d <= 2, zone.contains(&q));
    }
}

fn monitor_error(result: Result<Monitor, Error>) -> String {
    match result {
        Err(e @ Error::BadMonitor { .. }) => e.to_string(),
        other => panic!("expected a monitor error, got {other:?}"),
    }
}

/// Offsets in the tiny monitor's file (layer "fc", 5 neurons → one word per pattern, 2 classes).
const NEURONS_AT: usize = 8 + 4 + 4 + 2;
const CLASSES_AT: usize = NEURONS_AT + 4;
const GAMMA_AT: usize = NEURONS_AT + 8;
const IMAGES_AT: usize = NEURONS_AT + 12;
const CALIBRATION_AT: usize = NEURONS_AT + 20;
const COUNTS_AT: usize = CALIBRATION_AT + 24;
const PATTERNS_AT: usize = COUNTS_AT + 2 * 12;

fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn the_monitor_file_round_trips_and_rejects_corrupt_files() {
    let (net, monitor) = tiny_monitor(GammaChoice::Fixed(2));
    let bytes = monitor.to_bytes();
    assert_eq!(&bytes[..8], b"CSMONITR");
    assert_eq!(Monitor::load(&bytes, &net).unwrap(), monitor);
    // 11 distinct patterns of one word.
    assert_eq!(bytes[PATTERNS_AT..PATTERNS_AT + 8], 1u64.to_le_bytes());

    for len in 0..bytes.len() {
        let reason = monitor_error(Monitor::from_bytes(&bytes[..len]));
        assert!(reason.contains("truncated"), "{len}: {reason}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(monitor_error(Monitor::from_bytes(&longer)).contains("unexpected bytes"));

    let corrupt = |edit: &dyn Fn(&mut Vec<u8>), expected: &str| {
        let mut b = bytes.clone();
        edit(&mut b);
        let reason = monitor_error(Monitor::from_bytes(&b));
        assert!(
            reason.contains(expected),
            "expected {expected:?} in {reason:?}"
        );
    };
    corrupt(&|b| b[0] ^= 1, "magic");
    corrupt(&|b| put_u32(b, 8, 2), "version 2");
    corrupt(&|b| put_u32(b, 12, 0), "layer name length is 0");
    corrupt(&|b| b[16] = 0xff, "UTF-8");
    corrupt(&|b| put_u32(b, NEURONS_AT, 0), "neuron count is 0");
    corrupt(
        &|b| put_u32(b, CLASSES_AT, u32::MAX),
        "class count is 4294967295",
    );
    corrupt(&|b| put_u32(b, GAMMA_AT, 6), "gamma is 6");
    // A fixed γ carries no calibration: a held-out count, or a target rate, alone is inconsistent.
    let target_at = CALIBRATION_AT + 8;
    corrupt(
        &|b| b[target_at..target_at + 8].copy_from_slice(&0.05f64.to_le_bytes()),
        "inconsistent",
    );
    corrupt(
        &|b| {
            put_u32(b, CALIBRATION_AT, 3);
            put_u32(b, CALIBRATION_AT + 4, 4);
        },
        "the held-out warnings is 4, expected 0..=3",
    );
    corrupt(
        &|b| {
            put_u32(b, CALIBRATION_AT, 3);
            b[target_at..target_at + 8].copy_from_slice(&2f64.to_le_bytes());
        },
        "inconsistent",
    );
    // Σ correct (22) above the images seen.
    corrupt(
        &|b| put_u32(b, IMAGES_AT, 21),
        "22 correctly classified images out of 21",
    );
    // More patterns than images in a class; patterns without images.
    corrupt(
        &|b| put_u32(b, COUNTS_AT + 4, 9),
        "class 0 has 8 correct images, 9 patterns",
    );
    corrupt(
        &|b| put_u32(b, COUNTS_AT, 0),
        "class 0 has 0 correct images",
    );
    // Counts that claim far more data than the file holds: an error before any allocation.
    corrupt(
        &|b| {
            put_u32(b, IMAGES_AT, u32::MAX);
            put_u32(b, COUNTS_AT + 12, u32::MAX - 100);
            put_u32(b, COUNTS_AT + 16, u32::MAX - 100);
        },
        "truncated: the patterns of class 1 needs 34359737560 bytes",
    );
    // Rows out of order, a duplicated row, a bit beyond the fifth neuron.
    corrupt(
        &|b| b.swap(PATTERNS_AT, PATTERNS_AT + 8),
        "not sorted and distinct",
    );
    corrupt(&|b| b[PATTERNS_AT] = 19, "not sorted and distinct");
    corrupt(&|b| b[PATTERNS_AT] |= 1 << 5, "bits beyond neuron 5");
    // The detectors' statistics: a NaN in the precision matrix, an asymmetric one, a non-positive scale.
    let end = bytes.len();
    corrupt(
        &|b| b[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes()),
        "precision",
    );
    corrupt(&|b| b[end - 8] ^= 1, "symmetric");
    let scale_at = PATTERNS_AT + 11 * 8;
    corrupt(
        &|b| b[scale_at..scale_at + 4].copy_from_slice(&0f32.to_le_bytes()),
        "box scale",
    );

    // A file that is fine but belongs to another model.
    let renamed = network(5, "hidden");
    let reason = monitor_error(Monitor::load(&bytes, &renamed));
    assert!(reason.contains("no layer named \"fc\""), "{reason}");
    let mut retrained = network(5, "fc");
    if let Some((_, weight, _)) = retrained.parameters_mut().nth(1) {
        weight[0] = 1.5;
    }
    let reason = monitor_error(Monitor::load(&bytes, &retrained));
    assert!(reason.contains("built for other weights"), "{reason}");
    let wider = network(6, "fc");
    let reason = monitor_error(Monitor::load(&bytes, &wider));
    assert!(
        reason.contains("watches 5 neurons of layer \"fc\", but this model's layer has 6"),
        "{reason}"
    );
    let reason = monitor_error(Monitor::load(&bytes, &net).and_then(|m| {
        let mut b = m.to_bytes();
        b[17] = b'x';
        Monitor::load(&b, &net)
    }));
    assert!(reason.contains("\"fx\""), "{reason}");
}

#[test]
fn mutated_monitor_files_are_rejected_or_read_back_exactly() {
    // Whatever the damage, reading never panics, and a file it accepts is one it would have written.
    let (_, monitor) = tiny_monitor(GammaChoice::Fixed(2));
    let bytes = monitor.to_bytes();
    let (mut accepted, mut rejected) = (0, 0);
    for mutant in Mutator::new(&bytes, 11).take(4000) {
        match Monitor::from_bytes(&mutant) {
            Ok(m) => {
                assert_eq!(m.to_bytes(), mutant);
                accepted += 1;
            }
            Err(Error::BadMonitor { .. }) => rejected += 1,
            Err(other) => panic!("unexpected error kind: {other}"),
        }
    }
    // Mostly rejected; the accepted ones are flips inside float statistics that stay consistent.
    assert!(rejected > 3000, "{accepted} accepted, {rejected} rejected");
}

#[test]
fn gamma_is_calibrated_on_held_out_training_images() {
    // Images 9, 19 and 29 are held out: k = 9 = (1,0,0,1) and k = 13 = (1,0,1,1) are predicted 1 against
    // label 0, each one bit from class 1's patterns 8 and 12; k = 3 = (1,1,0,0) is correct and its twin
    // (image 3) is held in, distance 0. Distances {1, 0, 1}: with no warning allowed γ = 1, with all allowed
    // γ = 0 (two warn).
    let (_, monitor) = tiny_monitor(GammaChoice::Calibrated { warning_rate: 0.0 });
    let calibration = monitor.stats().calibration.unwrap();
    assert_eq!(
        calibration,
        Calibration {
            held_out: 3,
            warned: 0,
            target: 0.0
        }
    );
    assert_eq!(monitor.gamma(), 1);
    let (_, lenient) = tiny_monitor(GammaChoice::Calibrated { warning_rate: 1.0 });
    assert_eq!(lenient.gamma(), 0);
    assert_eq!(lenient.stats().calibration.map(|c| c.warned), Some(2));
    // Held-out images are recorded after the choice: the sets equal those of a fixed-γ build.
    let (_, fixed) = tiny_monitor(GammaChoice::Fixed(1));
    for class in 0..2 {
        assert_eq!(monitor.patterns(class), fixed.patterns(class));
    }
    let (net, _) = tiny_monitor(GammaChoice::Fixed(0));
    let bytes = monitor.to_bytes();
    assert_eq!(Monitor::load(&bytes, &net).unwrap(), monitor);
    let entry = monitor.manifest_entry("m.bin");
    assert_eq!(entry["build"]["gamma_calibration"]["held_out"], 3);
}

#[test]
fn real_valued_detectors_see_unit_length_features() {
    assert_eq!(features(&[3.0, -4.0]), vec![0.6, -0.8]);
    assert_eq!(features(&[0.0, 0.0]), vec![0.0, 0.0]);
}

#[test]
fn the_detectors_score_the_tiny_network() {
    let (net, monitor) = tiny_monitor(GammaChoice::Fixed(2));
    // A recorded image scores 0 under the pattern and box detectors.
    let trace = net
        .forward(&net.image(vec![1.0, 1.0, 0.0, 0.0]).unwrap())
        .unwrap();
    let s = monitor.scores(&net, &trace).unwrap();
    assert_eq!(s.pattern, 0.0);
    assert_eq!(s.r#box, 0.0);
    assert!(s.mahalanobis.is_finite() && s.mahalanobis >= 0.0);
    // Logits (1, 0.25): −log softmax₀ = log(1 + e^{−0.75}).
    assert!((s.max_softmax - (1.0 + (-0.75f64).exp()).ln()).abs() < 1e-6);
    // An input far outside the training range: every detector scores it higher.
    let far = net
        .forward(&net.image(vec![3.0, 3.0, -2.0, -2.0]).unwrap())
        .unwrap();
    let f = monitor.scores(&net, &far).unwrap();
    assert!(f.r#box > 0.0 && f.mahalanobis > s.mahalanobis && f.max_softmax < s.max_softmax);
    // The manifest entry carries the file, the layer, γ and the build statistics.
    let entry = monitor.manifest_entry("tiny.monitor.bin");
    assert_eq!(entry["file"], "tiny.monitor.bin");
    assert_eq!(entry["layer"], "fc");
    assert_eq!(entry["gamma"], 2);
    assert_eq!(entry["build"]["correct"], 22);
    assert_eq!(entry["build"]["patterns"], 11);
    assert_eq!(entry["build"]["per_class"][1]["patterns"], 7);
}

#[test]
fn build_rejects_unusable_layers_and_data() {
    let net = network(5, "fc");
    let (images, labels) = training_set();
    let build = |layer: &str, labels: &[u8]| {
        let options = BuildOptions {
            layer: layer.into(),
            ..BuildOptions::default()
        };
        Monitor::build(&net, &images, labels, &options)
    };
    assert!(build("fc", &labels).is_ok());
    assert!(build("conv9", &labels)
        .unwrap_err()
        .to_string()
        .contains("no layer named"));
    assert!(build("log_softmax", &labels)
        .unwrap_err()
        .to_string()
        .contains("log-softmax"));
    assert!(build("fc", &labels[1..])
        .unwrap_err()
        .to_string()
        .contains("32 images but 31 labels"));
    let mut bad = labels.clone();
    bad[3] = 7;
    assert!(build("fc", &bad)
        .unwrap_err()
        .to_string()
        .contains("label 7 of image 3"));
    let options = BuildOptions {
        layer: "fc".into(),
        gamma: GammaChoice::Fixed(6),
        ..BuildOptions::default()
    };
    assert!(Monitor::build(&net, &images, &labels, &options).is_err());
}

/// A scratch directory removed when dropped.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_cli_builds_updates_the_manifest_checks_and_evaluates() {
    let dir =
        Scratch(std::env::temp_dir().join(format!("convscope-monitor-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let net = network(5, "fc");
    let manifest_path = dir.0.join("tiny.json");
    std::fs::write(&manifest_path, net.manifest().to_json().unwrap()).unwrap();
    std::fs::write(
        dir.0.join("tiny.safetensors"),
        net.to_safetensors().unwrap(),
    )
    .unwrap();
    let (images, labels) = training_set();
    let images_path = dir.0.join("images.idx");
    let labels_path = dir.0.join("labels.idx");
    std::fs::write(&images_path, idx::encode_images(&images).unwrap()).unwrap();
    std::fs::write(&labels_path, idx::encode_labels(&labels).unwrap()).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_convscope"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let p = |path: &std::path::Path| path.to_str().unwrap().to_string();
    let monitor_path = dir.0.join("tiny.monitor.bin");
    run(&[
        "monitor",
        "build",
        "--model",
        &p(&manifest_path),
        "--images",
        &p(&images_path),
        "--labels",
        &p(&labels_path),
        "--layer",
        "fc",
        "--gamma",
        "1",
        "--out",
        &p(&monitor_path),
        "--update-manifest",
    ]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["monitor"]["file"], "tiny.monitor.bin");
    assert_eq!(manifest["monitor"]["layer"], "fc");
    assert_eq!(manifest["monitor"]["gamma"], 1);
    assert_eq!(manifest["dataset"]["name"], "all 2×2 binary images");
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 5);

    // `check` finds the monitor through the manifest; one JSON line per image, distances by brute force.
    let out = run(&[
        "monitor",
        "check",
        "--model",
        &p(&manifest_path),
        "--idx",
        &p(&images_path),
        "--count",
        "16",
        "--json",
    ]);
    let sets = expected_sets();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 16);
    for (k, line) in lines.iter().enumerate() {
        let (pattern, predicted) = oracle(k);
        let distance = sets[predicted]
            .iter()
            .map(|r| (r ^ pattern).count_ones())
            .min()
            .unwrap();
        assert_eq!(
            *line,
            format!(
                "{{\"index\":{k},\"label\":{predicted},\"warn\":{},\"distance\":{distance}}}",
                distance > 1
            )
        );
    }
    let out = run(&[
        "monitor",
        "eval",
        "--model",
        &p(&manifest_path),
        "--images",
        &p(&images_path),
        "--labels",
        &p(&labels_path),
        "--ood-images",
        &p(&images_path),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["inputs"], 32);
    assert_eq!(report["misclassified"], 10);
    assert_eq!(report["gamma"].as_array().unwrap().len(), 7);
    // The training images themselves: nothing correctly classified warns at any γ, so every warning is a
    // misclassification.
    assert_eq!(report["gamma"][0]["warned_misclassified"], 1.0);
    // Same set as "out-of-distribution": AUROC exactly one half for every detector.
    for d in report["detectors"].as_array().unwrap() {
        assert_eq!(d["auroc_ood"], 0.5, "{d}");
    }
}

/// How many of `images` warn at the monitor's default γ, how many are misclassified (when `labels` are given),
/// and how many of those warn.
fn shipped_warnings(
    net: &Network,
    monitor: &Monitor,
    images: &IdxImages,
    labels: Option<&[u8]>,
) -> (usize, usize, usize) {
    let (mut warned, mut wrong, mut wrong_warned) = (0, 0, 0);
    for i in 0..images.count {
        let trace = net.forward(&images.image(i).unwrap()).unwrap();
        let check = monitor.check(net, &trace, None).unwrap();
        let misclassified = labels.is_some_and(|l| usize::from(l[i]) != check.label);
        warned += usize::from(check.warn);
        wrong += usize::from(misclassified);
        wrong_warned += usize::from(misclassified && check.warn);
    }
    (warned, wrong, wrong_warned)
}

/// The acceptance figures of the monitor, measured on the shipped model with its shipped monitor at the default
/// γ: MNIST t10k warning rate ≤ 7% while ≥ 75% of its misclassifications warn, and ≥ 85% of Fashion-MNIST t10k
/// warns. `convscope monitor eval` prints the same figures (docs/monitor.md).
#[test]
fn the_shipped_monitor_meets_its_targets_on_mnist_and_fashion_mnist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let net = Network::load(&root.join("www/models/lenet5-mnist.json")).unwrap();
    let entry = &net.manifest().extra["monitor"];
    let file = root
        .join("www/models")
        .join(entry["file"].as_str().unwrap());
    let monitor = Monitor::load(&std::fs::read(file).unwrap(), &net).unwrap();
    assert_eq!(entry["layer"], monitor.layer());
    assert_eq!(entry["gamma"], monitor.gamma());

    let data = root.join("tests/data");
    let mnist = idx::read_images(data.join("mnist/t10k-images-idx3-ubyte.gz")).unwrap();
    let labels = idx::read_labels(data.join("mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
    let (warned, wrong, caught) = shipped_warnings(&net, &monitor, &mnist, Some(&labels));
    let rate = warned as f64 / mnist.count as f64;
    let caught_share = caught as f64 / wrong as f64;
    assert!(wrong > 0 && wrong < 100, "{wrong} misclassified");
    assert!(rate <= 0.07, "MNIST t10k warning rate {rate}");
    assert!(
        caught_share >= 0.75,
        "{caught} of {wrong} misclassifications warned"
    );

    let fashion = idx::read_images(data.join("fashion-mnist/t10k-images-idx3-ubyte.gz")).unwrap();
    let (ood_warned, _, _) = shipped_warnings(&net, &monitor, &fashion, None);
    let ood_rate = ood_warned as f64 / fashion.count as f64;
    assert!(ood_rate >= 0.85, "Fashion-MNIST t10k warned {ood_rate}");
    println!(
        "γ = {}: MNIST warns {rate:.4}, catches {caught}/{wrong}; Fashion-MNIST warns {ood_rate:.4}",
        monitor.gamma()
    );
}
