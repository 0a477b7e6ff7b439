//! Integration tests of the attribution suite (`convscope::explain::attribution`):
//! - gradients against central finite differences on small random networks (only where the step crosses no
//!   ReLU kink or max-pool switch, which is checked, so the comparison is exact up to rounding);
//! - integrated-gradients completeness; Grad-CAM, guided Grad-CAM and occlusion on hand-made networks whose
//!   answers are computed by hand; SmoothGrad with σ = 0 against its base; option errors; progress reports;
//! - the float64 PyTorch references of `tests/data/reference*/` (written by `tests/reference/make_references.py`,
//!   conventions in `tests/reference/README.md`) on t10k digits.

mod common {
    pub mod reference;
}

use common::reference::reference_sets;
use convscope::explain::attribution::{
    attribute, attribute_with_progress, gradcam, Attribution, Baseline, Method, Options, Output,
    TargetScore,
};
use convscope::model::manifest::Manifest;
use convscope::model::network::{Layer, Network, Trace};
use convscope::rng::Rng;
use convscope::Tensor;
use serde_json::Value;

// ------------------------------------------------------------------------------------------------------------
// Networks and helpers.

fn manifest(input: [usize; 3], normalization: &str, layers: &str) -> Manifest {
    Manifest::parse(&format!(
        r#"{{"format": "convscope-manifest", "version": 1, "name": "test", "weights": "none",
            "input": {{"channels": {}, "height": {}, "width": {}}}, {normalization}
            "layers": [{layers}]}}"#,
        input[0], input[1], input[2]
    ))
    .unwrap()
}

/// 1×8×8 → conv 3@3×3 pad 1 → ReLU → max-pool 2 → conv 4@3×3 → ReLU → flatten → fc 16→6 → ReLU → fc 6→3 →
/// log-softmax, normalized with mean 0.2, std 0.5.
fn small_lenet(seed: u64) -> Network {
    let m = manifest(
        [1, 8, 8],
        r#""normalization": {"mean": [0.2], "std": [0.5]},"#,
        r#"{"name": "conv1", "type": "conv2d", "in_channels": 1, "out_channels": 3, "kernel_size": 3, "padding": 1},
           {"name": "relu1", "type": "relu"}, {"name": "pool1", "type": "max_pool2d", "kernel_size": 2},
           {"name": "conv2", "type": "conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3},
           {"name": "relu2", "type": "relu"}, {"name": "flatten", "type": "flatten"},
           {"name": "fc1", "type": "linear", "in_features": 16, "out_features": 6}, {"name": "relu3", "type": "relu"},
           {"name": "fc2", "type": "linear", "in_features": 6, "out_features": 3},
           {"name": "log_softmax", "type": "log_softmax"}"#,
    );
    Network::init_random(m, seed).unwrap()
}

/// 2×7×9 → conv 4@3×3 stride 2 pad 1 → ReLU → max-pool 2 stride 1 → flatten → fc 48→5 (no log-softmax),
/// normalized per channel.
fn small_two_channel(seed: u64) -> Network {
    let m = manifest(
        [2, 7, 9],
        r#""normalization": {"mean": [0.1, 0.5], "std": [0.3, 2.0]},"#,
        r#"{"name": "conv1", "type": "conv2d", "in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1},
           {"name": "relu1", "type": "relu"}, {"name": "pool1", "type": "max_pool2d", "kernel_size": 2, "stride": 1},
           {"name": "flatten", "type": "flatten"},
           {"name": "fc1", "type": "linear", "in_features": 48, "out_features": 5}"#,
    );
    Network::init_random(m, seed).unwrap()
}

/// Sets every layer's weights and biases (in layer order) by hand.
fn set_params(net: &mut Network, params: &[(&[f32], &[f32])]) {
    let mut given = params.iter();
    for (_, w, b) in net.parameters_mut() {
        let (gw, gb) = given.next().unwrap();
        w.copy_from_slice(gw);
        b.copy_from_slice(gb);
    }
    assert!(given.next().is_none());
}

fn random_image(net: &Network, rng: &mut Rng) -> Tensor {
    let n = net.input_shape().iter().product();
    net.image((0..n).map(|_| rng.uniform()).collect()).unwrap()
}

fn options() -> Options {
    Options::default()
}

fn with(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options::default();
    f(&mut o);
    o
}

/// Which way every ReLU and max-pool routed the signal in a forward pass.
fn routing(net: &Network, trace: &Trace) -> (Vec<bool>, Vec<u32>) {
    let mut masks = Vec::new();
    for (i, l) in net.layers().iter().enumerate() {
        if matches!(l.layer, Layer::Relu) {
            masks.extend(trace.layer_input(i).data().iter().map(|&v| v > 0.0));
        }
    }
    let switches = trace
        .switches()
        .iter()
        .flatten()
        .flat_map(|s| s.indices.clone())
        .collect();
    (masks, switches)
}

// ------------------------------------------------------------------------------------------------------------
// Gradients against finite differences.

/// For each pixel whose ±ε step changes no ReLU mask or pool switch (so the logits are affine on the segment),
/// the central difference of the score must equal the gradient up to f32 rounding. Returns how many pixels
/// were comparable.
fn check_gradient_by_finite_differences(
    net: &Network,
    image: &Tensor,
    target: usize,
    output: Output,
) -> usize {
    let opts = with(|o| {
        o.target = Some(target);
        o.output = output;
    });
    let grad = attribute(net, image, Method::Gradient, &opts).unwrap().map;
    let scale = grad.data().iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    let base = net.forward(image).unwrap();
    let score = |trace: &Trace| {
        TargetScore::new(net, trace, Some(target), output)
            .unwrap()
            .score(trace)
            .unwrap()
    };
    let eps = 1e-2;
    let mut compared = 0;
    for i in 0..image.len() {
        let mut up = image.clone();
        up.data_mut()[i] += eps;
        let mut down = image.clone();
        down.data_mut()[i] -= eps;
        let (tu, td) = (net.forward(&up).unwrap(), net.forward(&down).unwrap());
        if routing(net, &tu) != routing(net, &base) || routing(net, &td) != routing(net, &base) {
            continue;
        }
        compared += 1;
        let fd = (score(&tu) as f64 - score(&td) as f64) / (2.0 * eps as f64);
        let g = grad.data()[i] as f64;
        assert!(
            (fd - g).abs() <= 2e-3 * scale as f64,
            "pixel {i}, target {target}, {output:?}: finite difference {fd} vs gradient {g} (max |gradient| {scale})"
        );
    }
    compared
}

#[test]
fn gradients_match_finite_differences_on_random_networks() {
    let mut rng = Rng::new(11);
    let mut compared = 0;
    let mut total = 0;
    for seed in 0..4 {
        let net = small_lenet(seed);
        let image = random_image(&net, &mut rng);
        for target in 0..3 {
            for output in [Output::Logit, Output::LogProb] {
                compared += check_gradient_by_finite_differences(&net, &image, target, output);
                total += image.len();
            }
        }
        let net = small_two_channel(seed);
        let image = random_image(&net, &mut rng);
        for target in 0..5 {
            compared += check_gradient_by_finite_differences(&net, &image, target, Output::Logit);
            total += image.len();
        }
    }
    // Most steps cross no kink: the check is not vacuous.
    assert!(
        compared * 10 >= total * 8,
        "only {compared} of {total} pixels comparable"
    );
}

#[test]
fn saliency_and_gradient_x_input_are_pointwise_functions_of_the_gradient() {
    let net = small_two_channel(3);
    let image = random_image(&net, &mut Rng::new(5));
    let grad = attribute(&net, &image, Method::Gradient, &options()).unwrap();
    let saliency = attribute(&net, &image, Method::Saliency, &options()).unwrap();
    let gxi = attribute(&net, &image, Method::GradientXInput, &options()).unwrap();
    assert_eq!(grad.map.shape(), &[2, 7, 9]);
    for i in 0..image.len() {
        assert_eq!(saliency.map.data()[i], grad.map.data()[i].abs());
        assert_eq!(gxi.map.data()[i], grad.map.data()[i] * image.data()[i]);
    }
    assert!(grad.signed && !saliency.signed && gxi.signed);
    assert_eq!(grad.target, net.predict(&image).unwrap().label);
}

#[test]
fn log_probability_gradient_is_the_softmax_weighted_difference_of_logit_gradients() {
    // ∂ log p_c/∂x = ∂z_c/∂x − Σ_j p_j ∂z_j/∂x, with or without a final log-softmax layer in the network.
    let mut rng = Rng::new(21);
    for net in [small_lenet(7), small_two_channel(7)] {
        let image = random_image(&net, &mut rng);
        let logits = net.predict(&image).unwrap().logits;
        let classes = logits.len();
        let probs =
            convscope::layers::softmax::softmax(&Tensor::from_vec(&[classes], logits).unwrap());
        let run = |class, output| {
            attribute(
                &net,
                &image,
                Method::Gradient,
                &with(|o| {
                    o.target = Some(class);
                    o.output = output;
                }),
            )
            .unwrap()
        };
        let per_class: Vec<Attribution> = (0..classes).map(|j| run(j, Output::Logit)).collect();
        for c in 0..classes {
            let log_prob = run(c, Output::LogProb);
            assert!((log_prob.score - probs.data()[c].ln()).abs() < 1e-5);
            let expected: Vec<f32> = (0..image.len())
                .map(|i| {
                    per_class[c].map.data()[i]
                        - (0..classes)
                            .map(|j| probs.data()[j] * per_class[j].map.data()[i])
                            .sum::<f32>()
                })
                .collect();
            let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (a, e) in log_prob.map.data().iter().zip(&expected) {
                assert!((a - e).abs() <= 1e-5 * scale, "{a} vs {e}");
            }
        }
    }
}

#[test]
fn without_relus_guided_backprop_and_deconvnet_are_the_gradient() {
    // conv → max-pool → flatten → linear: the three ReLU rules have no ReLU to differ on.
    let m = manifest(
        [1, 6, 6],
        "",
        r#"{"name": "conv1", "type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3},
           {"name": "pool1", "type": "max_pool2d", "kernel_size": 2},
           {"name": "flatten", "type": "flatten"}, {"name": "fc", "type": "linear", "in_features": 8, "out_features": 3}"#,
    );
    let net = Network::init_random(m, 4).unwrap();
    let image = random_image(&net, &mut Rng::new(2));
    let grad = attribute(&net, &image, Method::Gradient, &options())
        .unwrap()
        .map;
    assert!(grad.data().iter().any(|&g| g != 0.0));
    for method in [Method::GuidedBackprop, Method::Deconvnet] {
        assert_eq!(
            attribute(&net, &image, method, &options()).unwrap().map,
            grad
        );
    }
}

// ------------------------------------------------------------------------------------------------------------
// Integrated gradients.

#[test]
fn integrated_gradients_gap_shrinks_as_steps_grow() {
    let mut rng = Rng::new(8);
    for seed in 0..3 {
        let net = small_lenet(seed);
        let image = random_image(&net, &mut rng);
        let gap = |steps| {
            let ig = attribute(
                &net,
                &image,
                Method::IntegratedGradients,
                &with(|o| o.steps = steps),
            )
            .unwrap();
            let change = ig.score - ig.baseline_score.unwrap();
            let gap = ig.completeness_gap.unwrap();
            // The reported gap is Σ map − (f(x) − f(b)).
            let sum: f64 = ig.map.data().iter().map(|&v| v as f64).sum();
            assert!(
                (gap as f64 - (sum - change as f64)).abs() <= 1e-5 * change.abs().max(1e-3) as f64
            );
            (gap.abs(), change.abs())
        };
        // Along the path the network is piecewise linear, so the trapezoid error falls like 1/steps (not
        // monotonically: it depends on where the kinks fall between the points).
        let (coarse, change) = gap(4);
        let (fine, _) = gap(16384);
        assert!(
            fine * 10.0 < coarse,
            "seed {seed}: |gap| {fine} at 16384 steps, {coarse} at 4"
        );
        assert!(
            fine <= 1e-3 * change,
            "seed {seed}: |gap| {fine} for |f(x) − f(b)| = {change}"
        );
    }
}

#[test]
fn integrated_gradients_are_exact_on_an_affine_network_and_zero_at_the_baseline() {
    let m = manifest(
        [1, 5, 5],
        r#""normalization": {"mean": [0.3], "std": [0.7]},"#,
        r#"{"name": "conv1", "type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3},
           {"name": "flatten", "type": "flatten"}, {"name": "fc", "type": "linear", "in_features": 18, "out_features": 2}"#,
    );
    let net = Network::init_random(m, 1).unwrap();
    let image = random_image(&net, &mut Rng::new(3));
    for baseline in [Baseline::Value(0.0), Baseline::Value(0.8)] {
        let ig = attribute(
            &net,
            &image,
            Method::IntegratedGradients,
            &with(|o| {
                o.steps = 2;
                o.baseline = baseline.clone();
            }),
        )
        .unwrap();
        let change = (ig.score - ig.baseline_score.unwrap()).abs();
        assert!(change > 1e-3);
        assert!(
            ig.completeness_gap.unwrap().abs() <= 1e-5 * change.max(1.0),
            "{:?}",
            ig.completeness_gap
        );
    }
    // A whole-image baseline equal to the input: nothing to attribute, no gap.
    let same = attribute(
        &net,
        &image,
        Method::IntegratedGradients,
        &with(|o| {
            o.baseline = Baseline::Image(image.data().to_vec());
        }),
    )
    .unwrap();
    assert!(same.map.data().iter().all(|&v| v == 0.0));
    assert_eq!(same.completeness_gap, Some(0.0));
    // A constant baseline and the same constant as an image give the same result.
    let value = attribute(
        &net,
        &image,
        Method::IntegratedGradients,
        &with(|o| o.baseline = Baseline::Value(0.25)),
    )
    .unwrap();
    let as_image = attribute(
        &net,
        &image,
        Method::IntegratedGradients,
        &with(|o| {
            o.baseline = Baseline::Image(vec![0.25; 25]);
        }),
    )
    .unwrap();
    assert_eq!(value, as_image);
}

// ------------------------------------------------------------------------------------------------------------
// Grad-CAM and occlusion on hand-made networks.

/// 1×4×4 → conv 2@1×1 (weights 1 and 0.5) → ReLU → max-pool 2 → flatten → fc 8→2 with class 0 weighing
/// channel 0 by 2 and channel 1 by −1, class 1 all zero. Input x = i/16, i = 0..16 row-major.
fn cam_network() -> (Network, Tensor) {
    let m = manifest(
        [1, 4, 4],
        "",
        r#"{"name": "conv1", "type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 1},
           {"name": "relu1", "type": "relu"}, {"name": "pool1", "type": "max_pool2d", "kernel_size": 2},
           {"name": "flatten", "type": "flatten"}, {"name": "fc", "type": "linear", "in_features": 8, "out_features": 2}"#,
    );
    let mut net = Network::init_random(m, 0).unwrap();
    let mut fc = vec![2.0, 2.0, 2.0, 2.0, -1.0, -1.0, -1.0, -1.0];
    fc.extend([0.0; 8]);
    set_params(&mut net, &[(&[1.0, 0.5], &[0.0, 0.0]), (&fc, &[0.0, 0.0])]);
    let image = net
        .image((0..16).map(|i| i as f32 / 16.0).collect())
        .unwrap();
    (net, image)
}

#[test]
fn grad_cam_on_a_hand_made_network() {
    let (net, image) = cam_network();
    // A = relu1 output: A₀ = x, A₁ = x/2. ∂f/∂A is 2 (channel 0) and −1 (channel 1) at the 4 pool switches and
    // 0 elsewhere, so α = (2·4/16, −4/16) = (0.5, −0.25) and cam = ReLU(0.5x − 0.125x) = 0.375x (no upsampling).
    let cam = attribute(&net, &image, Method::GradCam, &with(|o| o.target = Some(0))).unwrap();
    assert_eq!(cam.map.shape(), &[4, 4]);
    let expected: Vec<f32> = image.data().iter().map(|x| 0.375 * x).collect();
    assert_eq!(cam.map.data(), &expected[..]);
    let details = cam.cam.as_ref().unwrap();
    assert_eq!(
        (details.layer.as_str(), &details.channel_weights[..]),
        ("relu1", &[0.5, -0.25][..])
    );
    assert!(!cam.signed);
    // "conv1" means its ReLU output; the default is the same layer.
    assert_eq!(
        attribute(
            &net,
            &image,
            Method::GradCam,
            &with(|o| {
                o.target = Some(0);
                o.layer = Some("conv1".into());
            })
        )
        .unwrap(),
        cam
    );

    // On pool1 (2×2): α = (2, −1), cam = ReLU(2P − P/2) = 1.5·P with P = (5, 7, 13, 15)/16, upsampled from 2×2
    // to 4×4: align_corners=False puts the samples at λ = 0, 1/4, 3/4, 1 between the two rows (columns), and
    // this cam is affine, so up(i, j) = (7.5 + 3λ_j + 12λ_i)/16.
    let pooled = attribute(
        &net,
        &image,
        Method::GradCam,
        &with(|o| {
            o.target = Some(0);
            o.layer = Some("pool1".into());
        }),
    )
    .unwrap();
    let details = pooled.cam.as_ref().unwrap();
    assert_eq!(details.channel_weights, [2.0, -1.0]);
    assert_eq!(
        details.map.data(),
        &[7.5 / 16.0, 10.5 / 16.0, 19.5 / 16.0, 22.5 / 16.0]
    );
    let lambda = [0.0, 0.25, 0.75, 1.0];
    for i in 0..4 {
        for j in 0..4 {
            let want = (7.5 + 3.0 * lambda[j] + 12.0 * lambda[i]) / 16.0;
            let got = pooled.map.data()[i * 4 + j];
            assert!((got - want).abs() < 1e-6, "({i}, {j}): {got} vs {want}");
        }
    }

    // Class 1 has zero weights: α = 0 and the cam is 0.
    let flat = attribute(&net, &image, Method::GradCam, &with(|o| o.target = Some(1))).unwrap();
    assert!(flat.map.data().iter().all(|&v| v == 0.0));

    // Guided Grad-CAM: guided backprop of class 0 is 2 at the four switches (the channel-1 signal −1 is cut by
    // the guided ReLU), times 0.375x there: 0.75x at (1,1), (1,3), (3,1), (3,3), 0 elsewhere.
    let guided = attribute(
        &net,
        &image,
        Method::GuidedGradCam,
        &with(|o| o.target = Some(0)),
    )
    .unwrap();
    assert_eq!(guided.map.shape(), &[1, 4, 4]);
    for (i, (&g, &x)) in guided.map.data().iter().zip(image.data()).enumerate() {
        let switch = (i / 4) % 2 == 1 && (i % 4) % 2 == 1;
        assert_eq!(g, if switch { 0.75 * x } else { 0.0 }, "pixel {i}");
    }
    assert!(guided.signed);
}

#[test]
fn grad_cam_layer_choice_errors_are_clear() {
    let (net, image) = cam_network();
    let err = |layer: &str| {
        attribute(
            &net,
            &image,
            Method::GradCam,
            &with(|o| o.layer = Some(layer.into())),
        )
        .unwrap_err()
        .to_string()
    };
    assert!(err("flatten").contains("C×H×W"), "{}", err("flatten"));
    assert!(err("fc").contains("pool1"), "{}", err("fc"));
    assert!(err("conv9").contains("no layer named"), "{}", err("conv9"));
    // Without a conv layer the default has nothing to pick.
    let m = manifest(
        [1, 2, 2],
        "",
        r#"{"name": "flatten", "type": "flatten"}, {"name": "fc", "type": "linear", "in_features": 4, "out_features": 2}"#,
    );
    let linear = Network::init_random(m, 0).unwrap();
    let image = random_image(&linear, &mut Rng::new(1));
    let e = attribute(&linear, &image, Method::GradCam, &options())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no conv layer"), "{e}");
}

/// 1×3×4 → flatten → fc 12→1 with all weights 1 and bias 0.5: f(x) = Σx + 0.5, so filling a window with 0
/// drops the score by the window's pixel sum.
fn sum_network(input: [usize; 3]) -> Network {
    let n: usize = input.iter().product();
    let m = manifest(
        input,
        "",
        &format!(
            r#"{{"name": "flatten", "type": "flatten"}}, {{"name": "fc", "type": "linear", "in_features": {n}, "out_features": 1}}"#
        ),
    );
    let mut net = Network::init_random(m, 0).unwrap();
    set_params(&mut net, &[(&vec![1.0; n], &[0.5])]);
    net
}

#[test]
fn occlusion_on_a_hand_made_network() {
    let net = sum_network([1, 3, 4]);
    let image = net.image((1..=12).map(|v| v as f32).collect()).unwrap();
    // 2×2 windows, stride 1: corners (0|1, 0|1|2) with drops 14 18 22 / 30 34 38; each pixel averages the
    // drops of the windows covering it.
    let occ = attribute(&net, &image, Method::Occlusion, &with(|o| o.window = 2)).unwrap();
    assert_eq!(
        occ.map.data(),
        &[14.0, 16.0, 20.0, 22.0, 22.0, 24.0, 28.0, 30.0, 30.0, 32.0, 36.0, 38.0]
    );
    assert!(occ.signed);
    // Stride 2: corners (0, 0) and (0, 2); the last row is covered by no window. Fill 1 lowers each drop by 4.
    let occ = attribute(
        &net,
        &image,
        Method::Occlusion,
        &with(|o| {
            o.window = 2;
            o.stride = 2;
            o.fill = 1.0;
        }),
    )
    .unwrap();
    assert_eq!(
        occ.map.data(),
        &[10.0, 10.0, 18.0, 18.0, 10.0, 10.0, 18.0, 18.0, 0.0, 0.0, 0.0, 0.0]
    );
    // Pixels that already equal the fill value: those windows change nothing and drop by exactly 0.
    let sparse = net
        .image(vec![
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0,
        ])
        .unwrap();
    let occ = attribute(&net, &sparse, Method::Occlusion, &with(|o| o.window = 2)).unwrap();
    assert_eq!(
        occ.map.data(),
        &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 2.0, 4.0]
    );
}

#[test]
fn occlusion_windows_cover_all_channels_and_the_map_repeats_per_channel() {
    let net = sum_network([2, 1, 2]);
    let image = net.image(vec![1.0, 2.0, 10.0, 20.0]).unwrap();
    let occ = attribute(&net, &image, Method::Occlusion, &with(|o| o.window = 1)).unwrap();
    assert_eq!(occ.map.shape(), &[2, 1, 2]);
    assert_eq!(occ.map.data(), &[11.0, 22.0, 11.0, 22.0]);
}

// ------------------------------------------------------------------------------------------------------------
// SmoothGrad.

#[test]
fn smoothgrad_with_zero_noise_is_its_base_method() {
    let net = small_lenet(2);
    let image = random_image(&net, &mut Rng::new(4));
    for base in [
        Method::Gradient,
        Method::Saliency,
        Method::GuidedBackprop,
        Method::Deconvnet,
        Method::GradientXInput,
    ] {
        let smooth = attribute(
            &net,
            &image,
            Method::SmoothGrad,
            &with(|o| {
                o.base = base;
                o.sigma = 0.0;
                o.samples = 7;
            }),
        )
        .unwrap();
        let plain = attribute(&net, &image, base, &options()).unwrap();
        assert_eq!(smooth.map, plain.map, "{base:?}");
        assert_eq!(smooth.signed, plain.signed, "{base:?}");
    }
}

#[test]
fn smoothgrad_is_seeded_and_averages_noisy_gradients() {
    let net = small_lenet(5);
    let image = random_image(&net, &mut Rng::new(6));
    let run = |seed, samples| {
        attribute(
            &net,
            &image,
            Method::SmoothGrad,
            &with(|o| {
                o.seed = seed;
                o.samples = samples;
                o.sigma = 0.2;
            }),
        )
        .unwrap()
        .map
    };
    assert_eq!(run(1, 5), run(1, 5));
    assert_ne!(run(1, 5), run(2, 5));
    let plain = attribute(&net, &image, Method::Gradient, &options())
        .unwrap()
        .map;
    assert_ne!(run(1, 5), plain);
    // On an affine network the gradient does not depend on the input: noise changes nothing.
    let m = manifest(
        [1, 4, 4],
        r#""normalization": {"mean": [0.5], "std": [0.25]},"#,
        r#"{"name": "flatten", "type": "flatten"}, {"name": "fc", "type": "linear", "in_features": 16, "out_features": 3}"#,
    );
    let affine = Network::init_random(m, 9).unwrap();
    let image = random_image(&affine, &mut Rng::new(1));
    let smooth = attribute(
        &affine,
        &image,
        Method::SmoothGrad,
        &with(|o| o.sigma = 0.5),
    )
    .unwrap();
    let plain = attribute(&affine, &image, Method::Gradient, &options()).unwrap();
    assert_eq!(smooth.map, plain.map);
}

// ------------------------------------------------------------------------------------------------------------
// Options, errors and progress.

#[test]
fn bad_options_are_clear_errors() {
    let net = small_lenet(0);
    let image = random_image(&net, &mut Rng::new(0));
    let err = |method, o: Options| attribute(&net, &image, method, &o).unwrap_err().to_string();
    let e = err(Method::IntegratedGradients, with(|o| o.steps = 0));
    assert!(e.contains("steps"), "{e}");
    let e = err(Method::IntegratedGradients, with(|o| o.steps = 1));
    assert!(e.contains("2 to"), "{e}");
    let e = err(
        Method::IntegratedGradients,
        with(|o| o.baseline = Baseline::Value(f32::INFINITY)),
    );
    assert!(e.contains("baseline"), "{e}");
    let e = err(
        Method::IntegratedGradients,
        with(|o| o.baseline = Baseline::Image(vec![0.0; 3])),
    );
    assert!(e.contains("baseline"), "{e}");
    let e = err(Method::Occlusion, with(|o| o.window = 9));
    assert!(e.contains("window") && e.contains("8×8"), "{e}");
    let e = err(Method::Occlusion, with(|o| o.stride = 0));
    assert!(e.contains("stride"), "{e}");
    let e = err(Method::Occlusion, with(|o| o.fill = f32::NAN));
    assert!(e.contains("fill"), "{e}");
    let e = err(Method::GradCam, with(|o| o.layer = Some("conv7".into())));
    assert!(e.contains("conv7") && e.contains("relu2"), "{e}");
    let e = err(Method::Gradient, with(|o| o.target = Some(3)));
    assert!(
        e.contains("target class 3") && e.contains("3 classes"),
        "{e}"
    );
    let e = err(Method::SmoothGrad, with(|o| o.sigma = f32::NAN));
    assert!(e.contains("sigma"), "{e}");
    let e = err(Method::SmoothGrad, with(|o| o.sigma = -0.1));
    assert!(e.contains("sigma"), "{e}");
    let e = err(Method::SmoothGrad, with(|o| o.samples = 0));
    assert!(e.contains("samples"), "{e}");
    let e = err(Method::SmoothGrad, with(|o| o.base = Method::GradCam));
    assert!(e.contains("grad-cam"), "{e}");
    let e = "heatmap".parse::<Method>().unwrap_err().to_string();
    assert!(e.contains("integrated-gradients"), "{e}");
    let plain = small_two_channel(0);
    // A wrongly sized image.
    let e = attribute(
        &plain,
        &Tensor::zeros(&[1, 7, 9]),
        Method::Gradient,
        &options(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("input image"), "{e}");
}

#[test]
fn long_methods_report_progress_and_short_ones_do_not() {
    let net = small_lenet(1);
    let image = random_image(&net, &mut Rng::new(1));
    let run = |method, o: Options| {
        let mut calls = Vec::new();
        attribute_with_progress(&net, &image, method, &o, &mut |done, total| {
            calls.push((done, total))
        })
        .unwrap();
        calls
    };
    let calls = run(Method::IntegratedGradients, with(|o| o.steps = 7));
    assert_eq!(calls, (1..=7).map(|k| (k, 7)).collect::<Vec<_>>());
    let calls = run(Method::SmoothGrad, with(|o| o.samples = 3));
    assert_eq!(calls, vec![(1, 3), (2, 3), (3, 3)]);
    // 8×8 image, window 3, stride 2: corners 0, 2, 4 along each axis → 9 windows.
    let calls = run(
        Method::Occlusion,
        with(|o| {
            o.window = 3;
            o.stride = 2;
        }),
    );
    assert_eq!(calls.len(), 9);
    assert_eq!(calls.last(), Some(&(9, 9)));
    assert!(run(Method::Gradient, options()).is_empty());
}

// ------------------------------------------------------------------------------------------------------------
// PyTorch float64 references.

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// `‖a − r‖ / ‖r‖`.
fn relative_error(a: &[f32], r: &[f32]) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(r) {
        diff += (x as f64 - y as f64).powi(2);
        norm += (y as f64).powi(2);
    }
    (diff / norm).sqrt()
}

fn correlation(a: &[f32], r: &[f32]) -> f64 {
    let n = a.len() as f64;
    let (ma, mr) = (
        a.iter().map(|&v| v as f64).sum::<f64>() / n,
        r.iter().map(|&v| v as f64).sum::<f64>() / n,
    );
    let (mut sab, mut saa, mut srr) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(r) {
        let (x, y) = (x as f64 - ma, y as f64 - mr);
        sab += x * y;
        saa += x * x;
        srr += y * y;
    }
    sab / (saa * srr).sqrt()
}

/// The 1e-3 relative tolerance: relative error norm ≤ 1e-3, and elementwise |a − r| ≤ 1e-3·|r| + floor with
/// the floor 1e-5·max|r| for the f32 rounding of values near zero.
fn assert_close(what: &str, a: &[f32], r: &[f32]) {
    assert_eq!(a.len(), r.len(), "{what}: length");
    let max = r.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(max > 0.0, "{what}: the reference map is zero");
    let rel = relative_error(a, r);
    assert!(rel <= 1e-3, "{what}: relative error norm {rel:.3e}");
    for (i, (&x, &y)) in a.iter().zip(r).enumerate() {
        let tolerance = 1e-3 * y.abs() + 1e-5 * max;
        assert!(
            (x - y).abs() <= tolerance,
            "{what}: element {i}: {x} vs reference {y}"
        );
    }
}

/// Our result for one reference case. The references' Grad-CAM `layer` is literal: `"conv2"` is conv2's own
/// (pre-ReLU) output, whereas convscope's option `"conv2"` means the ReLU after it; such a case is computed
/// with the layer given by index, after checking that the option indeed gives the ReLU's result.
fn compute(net: &Network, image: &Tensor, method: Method, options: &Options) -> Attribution {
    let literal_conv = options.layer.as_deref().and_then(|name| {
        let i = net.layer_index(name).ok()?;
        let next = net.layers().get(i + 1)?;
        (matches!(net.layers()[i].layer, Layer::Conv2d { .. }) && matches!(next.layer, Layer::Relu))
            .then(|| (i, next.name.clone()))
    });
    let mut result = attribute(net, image, method, options).unwrap();
    if let Some((index, relu)) = literal_conv {
        let via_relu = attribute(
            net,
            image,
            method,
            &Options {
                layer: Some(relu),
                ..options.clone()
            },
        )
        .unwrap();
        assert_eq!(result, via_relu);
        let trace = net.forward(image).unwrap();
        let target = TargetScore::new(net, &trace, options.target, options.output).unwrap();
        let cam = gradcam::grad_cam(net, &trace, index, &target).unwrap();
        assert_eq!(
            method,
            Method::GradCam,
            "literal conv layers are only referenced for Grad-CAM"
        );
        result.map = cam.upsampled(net).unwrap();
        result.cam = Some(cam);
    }
    result
}

#[test]
fn matches_pytorch_float64_references() {
    for set in reference_sets() {
        let net = &set.net;
        let trained = set.index["manifest"].as_str().unwrap().starts_with("www/");
        let mut checked = 0;
        for record in set.records() {
            let (file, image) = (&record.json, &record.image);
            assert_eq!(
                net.predict(image).unwrap().label as u64,
                file["predicted"].as_u64().unwrap()
            );
            for case in file["attributions"].as_array().unwrap() {
                let method: Method = case["method"].as_str().unwrap().parse().unwrap();
                let options: Options = serde_json::from_value(case["options"].clone()).unwrap();
                let what = format!("{} {} {}", record.name, method.name(), case["options"]);
                let ours = compute(net, image, method, &options);
                assert_eq!(
                    ours.target as u64,
                    case["target"].as_u64().unwrap(),
                    "{what}"
                );
                let reference = floats(&case["data"]);
                match method {
                    Method::Occlusion => {
                        let r = correlation(ours.map.data(), &reference);
                        assert!(r >= 0.999, "{what}: correlation {r}");
                        let rel = relative_error(ours.map.data(), &reference);
                        assert!(rel <= 1e-3, "{what}: relative error norm {rel:.3e}");
                    }
                    _ => assert_close(&what, ours.map.data(), &reference),
                }
                if method == Method::IntegratedGradients {
                    let (fx, fb) = (
                        case["score_input"].as_f64().unwrap(),
                        case["score_baseline"].as_f64().unwrap(),
                    );
                    assert!(
                        (ours.score as f64 - fx).abs() <= 1e-5 * fx.abs() + 1e-6,
                        "{what}: f(x)"
                    );
                    let baseline = ours.baseline_score.unwrap() as f64;
                    assert!(
                        (baseline - fb).abs() <= 1e-5 * fb.abs() + 1e-6,
                        "{what}: f(b)"
                    );
                    let gap = ours.completeness_gap.unwrap() as f64;
                    let reference_gap = case["completeness_gap"].as_f64().unwrap();
                    // f32 rounding of the two scores and of the map's sum.
                    let mass: f64 = reference.iter().map(|v| v.abs() as f64).sum();
                    assert!(
                        (gap - reference_gap).abs() <= 1e-6 * (fx.abs() + fb.abs()) + 1e-5 * mass,
                        "{what}: gap {gap} vs {reference_gap}"
                    );
                    if trained && options.steps >= 50 {
                        // A trained network's path integral is well resolved by the default 50 steps.
                        assert!(
                            gap.abs() <= 0.05 * (fx - fb).abs(),
                            "{what}: gap {gap}, f(x) − f(b) = {}",
                            fx - fb
                        );
                    }
                }
                if method == Method::GradCam {
                    let cam = ours.cam.as_ref().unwrap();
                    assert_eq!(cam.layer, case["layer"].as_str().unwrap(), "{what}");
                    assert_close(
                        &format!("{what} channel weights"),
                        &cam.channel_weights,
                        &floats(&case["channel_weights"]),
                    );
                    assert_close(
                        &format!("{what} cam"),
                        cam.map.data(),
                        &floats(&case["cam"]),
                    );
                }
                checked += 1;
            }
        }
        assert!(
            checked >= 50,
            "{}: only {checked} reference cases",
            set.dir.display()
        );
    }
}
