//! Feature visualization on the shipped MNIST model: determinism, the step-wise run, the objective algebra
//! and its gradient, dead ReLUs, and the acceptance figures of issue 15 measured on the default options
//! (class images, the conv2 atlas, feature inversion). The float64 PyTorch check of the same images is
//! `tests/reference/featureviz_check.py` (docs/featureviz.md).

use convscope::explain::featureviz::objective::{input_gradients, Objective};
use convscope::explain::featureviz::{atlas, inversion, regularize, transform::Warp};
use convscope::explain::featureviz::{Parameterization, Render, RenderOptions, Start};
use convscope::io::idx;
use convscope::model::network::Network;
use convscope::{Error, Tensor};
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn mnist() -> Network {
    Network::load(&repo("www/models/lenet5-mnist.json")).expect("the shipped model")
}

fn second_lenet() -> Network {
    Network::load(&repo(
        "tests/data/lenet5-mnist-seed2/lenet5-mnist-seed2.json",
    ))
    .expect("the seed-2 model")
}

fn short(options: RenderOptions, steps: usize) -> RenderOptions {
    RenderOptions { steps, ..options }
}

#[test]
fn the_same_seed_gives_the_same_images_bit_for_bit() {
    let net = mnist();
    let objective = Objective::channel("conv2", 3) - 0.5 * Objective::diversity("conv1");
    for param in [
        Parameterization::Pixels,
        Parameterization::Fourier { decay: 1.0 },
    ] {
        let options = RenderOptions {
            batch: 2,
            param,
            ..short(atlas::unit_options(7), 20)
        };
        let run = |options: &RenderOptions| {
            Render::new(&net, &objective, options.clone()).and_then(|r| r.run(&net))
        };
        let (a, b) = (run(&options).expect("run"), run(&options).expect("run"));
        let bits = |r: &convscope::explain::featureviz::Rendered| -> Vec<u32> {
            r.images
                .iter()
                .flat_map(|x| x.data().iter().map(|v| v.to_bits()))
                .collect()
        };
        assert_eq!(bits(&a), bits(&b), "{param:?}");
        assert_eq!(a.history, b.history);
        let other = run(&RenderOptions { seed: 8, ..options }).expect("run");
        assert_ne!(
            bits(&a),
            bits(&other),
            "another seed must give other images"
        );
        assert_ne!(a.images[0], a.images[1], "the batch's images differ");
    }
}

#[test]
fn a_step_wise_run_equals_the_one_shot_run() {
    let net = mnist();
    let objective = Objective::class_logit(4);
    let options = short(atlas::class_options(3), 23);
    let whole = Render::new(&net, &objective, options.clone())
        .and_then(|r| r.run(&net))
        .expect("run");
    let mut render = Render::new(&net, &objective, options).expect("render");
    let first = render.step(&net, 0).expect("no step");
    assert_eq!(
        (first.step, first.done(), first.objective.is_nan()),
        (0, false, true)
    );
    let mut seen = Vec::new();
    for k in [1, 5, 10, 100] {
        let progress = render.step(&net, k).expect("steps");
        seen.push(progress.step);
        assert_eq!(progress.images, render.images().expect("images"));
    }
    assert_eq!(seen, [1, 6, 16, 23]);
    assert!(render.step(&net, 1).expect("past the end").done());
    assert_eq!(render.history(), whole.history.as_slice());
    assert_eq!(render.images().expect("images"), whole.images);
    assert_eq!(
        render.objective_value(&net).expect("value"),
        whole.objective
    );
}

#[test]
fn the_objective_gradient_matches_finite_differences() {
    // A sum of terms at four layers, through the network's own backward pass: the directional derivative
    // along a random direction against a central difference of the objective.
    let net = mnist();
    let images =
        idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz")).expect("t10k");
    // Digits with a little noise: on a flat background every max-pool window is a tie, where the pass is
    // not differentiable and a finite difference jumps between switches.
    let mut rng = convscope::rng::Rng::new(5);
    let mut noisy = |i: usize| {
        let x = images.image(i).expect("image");
        net.image(
            x.data()
                .iter()
                .map(|v| 0.8 * v + 0.1 * rng.uniform())
                .collect(),
        )
        .expect("image")
    };
    let (x0, x1) = (noisy(0), noisy(1));
    // A pool1 target that is 0 wherever either image's pool1 unit is dead: the feature match then has no
    // dead units to revive (that pull is deliberately not a gradient) and must equal the true gradient.
    let pool1 = |x: &Tensor| net.forward(x).expect("forward").outputs()[2].clone();
    let (a0, a1) = (pool1(&x0), pool1(&x1));
    let values = a1
        .data()
        .iter()
        .zip(a0.data())
        .map(|(&t, &u)| if t > 0.0 && u > 0.0 { t } else { 0.0 });
    let target = Tensor::from_vec(a1.shape(), values.collect()).expect("shape");
    let terms = [
        Objective::channel("conv2", 5),
        0.3 * Objective::unit("relu1", 2, 10, 12),
        -0.2 * Objective::class_log_prob(7),
        2.0 * Objective::feature_match("pool1", target),
        Objective::diversity("conv2"),
        0.1 * Objective::energy("pool2"),
    ];
    let all = terms
        .iter()
        .cloned()
        .fold(Objective::default(), |a, b| a + b);
    for objective in terms.iter().chain([&all]) {
        check_directional_derivative(&net, objective, &[x0.clone(), x1.clone()]);
    }
}

fn check_directional_derivative(net: &Network, objective: &Objective, batch: &[Tensor]) {
    let bound = objective.bind(net).expect("bind");
    let value = |xs: &[Tensor]| {
        bound
            .evaluate(net, &net.forward_batch(xs).expect("forward"))
            .expect("value")
            .0
    };
    let traces = net.forward_batch(batch).expect("forward");
    let (_, signals) = bound.evaluate(net, &traces).expect("evaluate");
    let grads = input_gradients(&traces, signals).expect("gradients");
    let mut rng = convscope::rng::Rng::new(6);
    let direction: Vec<Vec<f32>> = (0..2)
        .map(|_| (0..784).map(|_| rng.normal()).collect())
        .collect();
    let eps = 1e-4f32;
    let moved = |sign: f32| -> Vec<Tensor> {
        batch
            .iter()
            .zip(&direction)
            .map(|(x, d)| {
                net.image(
                    x.data()
                        .iter()
                        .zip(d)
                        .map(|(v, d)| v + sign * eps * d)
                        .collect(),
                )
                .expect("image")
            })
            .collect()
    };
    let numeric = (value(&moved(1.0)) - value(&moved(-1.0))) / (2.0 * eps as f64);
    let analytic: f64 = grads
        .iter()
        .zip(&direction)
        .flat_map(|(g, d)| g.data().iter().zip(d).map(|(&g, &d)| g as f64 * d as f64))
        .sum();
    // The ReLU kinks and pool switches crossed within ±eps leave a small error (0.5 % for conv2:5 alone).
    assert!(
        (numeric - analytic).abs() < 3e-2 * analytic.abs().max(1.0),
        "{objective:?}: {numeric} vs {analytic}"
    );
}

#[test]
fn the_objective_algebra_and_its_errors() {
    let net = mnist();
    let objective = Objective::channel("conv2", 1) - 0.5 * Objective::neuron("fc2", 3)
        + -Objective::class_logit(2);
    let weights: Vec<f64> = objective.terms.iter().map(|(w, _)| *w).collect();
    assert_eq!(weights, [1.0, -0.5, -1.0]);
    assert_eq!(
        Objective::parse("conv2:5", &net).expect("parse"),
        Objective::channel("conv2", 5)
    );
    assert_eq!(
        Objective::parse("conv2:5@3,4", &net).expect("parse"),
        Objective::unit("conv2", 5, 3, 4)
    );
    assert_eq!(
        Objective::parse("fc2:17", &net).expect("parse"),
        Objective::neuron("fc2", 17)
    );
    assert_eq!(
        Objective::parse("class:3", &net).expect("parse"),
        Objective::class_logit(3)
    );
    assert_eq!(
        Objective::parse("logprob:3", &net).expect("parse"),
        Objective::class_log_prob(3)
    );
    assert!(matches!(
        Objective::parse("conv9:1", &net),
        Err(Error::Unknown { .. })
    ));
    assert!(matches!(
        Objective::parse("conv2", &net),
        Err(Error::BadOption { .. })
    ));
    assert!(matches!(
        Objective::parse("conv2:x", &net),
        Err(Error::BadOption { .. })
    ));
}

#[test]
fn bad_objectives_and_options_are_errors() {
    let net = mnist();
    let bind = |o: Objective| o.bind(&net).map(|_| ());
    assert!(matches!(
        bind(Objective::channel("conv2", 16)),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        bind(Objective::unit("conv2", 0, 10, 0)),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        bind(Objective::class_logit(10)),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        bind(Objective::channel("fc1", 0)),
        Err(Error::BadOption { .. })
    ));
    assert!(matches!(
        bind(Objective::default()),
        Err(Error::BadOption { .. })
    ));
    let wrong = Objective::feature_match("pool1", Tensor::zeros(&[6, 14, 14]));
    assert!(matches!(bind(wrong), Err(Error::BadOption { .. })));
    let wrong = Objective::feature_match(
        "pool1",
        Tensor::from_vec(&[3], vec![1.0; 3]).expect("shape"),
    );
    assert!(matches!(bind(wrong), Err(Error::ShapeMismatch { .. })));
    let options = |f: fn(&mut RenderOptions)| {
        let mut o = atlas::class_options(1);
        f(&mut o);
        Render::new(&net, &Objective::class_logit(1), o).map(|_| ())
    };
    assert!(matches!(
        options(|o| o.lr = f32::NAN),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        options(|o| o.batch = 0),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        options(|o| o.start = Start::Images(vec![])),
        Err(Error::BadOption { .. })
    ));
    let wrong = |o: &mut RenderOptions| o.start = Start::Images(vec![Tensor::zeros(&[1, 27, 28])]);
    assert!(matches!(options(wrong), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn a_term_behind_a_dead_relu_climbs_its_pre_activation_until_it_lives() {
    // relu3 units that are 0 on a black image: their gradient there is 0, so without the pre-activation
    // fallback the optimizer would never move them.
    let net = mnist();
    let black = Tensor::zeros(&[1, 28, 28]);
    let fc1 = net.forward(&black).expect("forward").outputs()[7].clone();
    let dead: Vec<usize> = (0..120).filter(|&i| fc1.data()[i] < 0.0).take(3).collect();
    assert_eq!(
        dead.len(),
        3,
        "the model has dead relu3 units on a black image"
    );
    for unit in dead {
        let options = RenderOptions {
            start: Start::Images(vec![black.clone()]),
            ..short(atlas::unit_options(1), 40)
        };
        let r = Render::new(&net, &Objective::neuron("relu3", unit), options)
            .and_then(|r| r.run(&net))
            .expect("run");
        assert!(r.objective > 0.5, "relu3:{unit} stays at {}", r.objective);
    }
}

/// The ±2 px shifts (8 directions) and the 1 px blur of an image.
fn perturbed(x: &Tensor) -> Vec<Vec<f32>> {
    let mut out: Vec<Vec<f32>> = [
        (2., 0.),
        (-2., 0.),
        (0., 2.),
        (0., -2.),
        (2., 2.),
        (-2., -2.),
        (2., -2.),
        (-2., 2.),
    ]
    .iter()
    .map(|&shift| Warp::new(28, 28, shift, 1.0, 0.0).apply(x.data()))
    .collect();
    let mut blurred = x.data().to_vec();
    regularize::gaussian_blur(&mut blurred, 28, 28, 1.0);
    out.push(blurred);
    out
}

#[test]
fn class_images_are_their_class_shifted_blurred_and_for_a_second_network() {
    let net = mnist();
    let second = second_lenet();
    let cells = atlas::cells(&net, "class").expect("cells");
    let images = atlas::render_cells(&net, &cells, &atlas::class_options(1)).expect("class images");
    let mut agreed = 0;
    for (k, r) in images.iter().enumerate() {
        let x = &r.images[0];
        let p = net.predict(x).expect("predict").probs[k];
        assert!(p >= 0.99, "class {k}: p = {p}");
        for y in perturbed(x) {
            let q = net
                .predict(&net.image(y).expect("image"))
                .expect("predict")
                .probs[k];
            assert!(q >= 0.9, "class {k} shifted or blurred: p = {q}");
        }
        agreed += usize::from(second.predict(x).expect("predict").label == k);
        let ink = x.data().iter().sum::<f32>() / 784.0;
        assert!((0.02..0.3).contains(&ink), "class {k}: mean ink {ink}");
    }
    assert!(agreed >= 8, "the seed-2 LeNet agrees on {agreed}/10");
}

#[test]
fn every_conv2_channel_image_beats_the_test_digits() {
    let net = mnist();
    let conv2 = net.layer_index("conv2").expect("conv2");
    let best = best_digit_means(&net, conv2);
    let cells = atlas::cells(&net, "conv2").expect("cells");
    let images = atlas::render_cells(&net, &cells, &atlas::unit_options(1)).expect("atlas");
    for (k, r) in images.iter().enumerate() {
        let mean = channel_means(&net, conv2, &r.images[0])[k];
        assert!(
            mean > best[k],
            "conv2:{k}: {mean} ≤ the digits' best {}",
            best[k]
        );
    }
}

/// Per channel of `layer`, the largest mean activation over the 10,000 t10k digits.
fn best_digit_means(net: &Network, layer: usize) -> Vec<f64> {
    let digits =
        idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz")).expect("t10k");
    let mut best = vec![f64::MIN; net.layers()[layer].output_shape[0]];
    for i in 0..digits.count {
        let means = channel_means(net, layer, &digits.image(i).expect("digit"));
        for (b, m) in best.iter_mut().zip(means) {
            *b = b.max(m);
        }
    }
    best
}

/// Mean pixel correlation with the input and mean relative feature errors at pool1 and pool2 of the
/// inversions of the first `n` t10k digits from pool1 and pool2, with the default inversion options.
fn inversion_figures(net: &Network, n: usize) -> (f64, f64, f64) {
    let digits =
        idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz")).expect("t10k");
    let (mut correlation, mut errors) = (0.0, [0.0; 2]);
    for i in 0..n {
        let x0 = digits.image(i).expect("digit");
        for (error, layer) in errors.iter_mut().zip(["pool1", "pool2"]) {
            let options = inversion::default_options(i as u64);
            let r = inversion::invert(net, &x0, layer, options)
                .and_then(|r| r.run(net))
                .expect("inversion");
            let x = &r.images[0];
            *error +=
                inversion::relative_feature_error(net, x, &x0, layer).expect("error") / n as f64;
            if layer == "pool1" {
                correlation += inversion::pixel_correlation(x, &x0) / n as f64;
            }
        }
    }
    (correlation, errors[0], errors[1])
}

#[test]
fn inversions_from_pool1_and_pool2_match_the_features() {
    // The first 10 t10k digits here (about 3 s); the first 100 in `full_measurement`.
    let (correlation, pool1, pool2) = inversion_figures(&mnist(), 10);
    assert!(correlation >= 0.95, "pool1 pixel correlation {correlation}");
    assert!(
        pool1 <= 1e-2 && pool2 <= 1e-2,
        "relative feature errors {pool1}, {pool2}"
    );
}

#[test]
fn the_inversion_helpers_on_hand_computed_cases() {
    let a = Tensor::from_vec(&[1, 1, 4], vec![0.0, 1.0, 2.0, 3.0]).expect("shape");
    let b = Tensor::from_vec(&[1, 1, 4], vec![1.0, 3.0, 5.0, 7.0]).expect("shape");
    let c = Tensor::from_vec(&[1, 1, 4], vec![3.0, 2.0, 1.0, 0.0]).expect("shape");
    assert!((inversion::pixel_correlation(&a, &b) - 1.0).abs() < 1e-12);
    assert!((inversion::pixel_correlation(&a, &c) + 1.0).abs() < 1e-12);
    assert_eq!(
        inversion::pixel_correlation(&a, &Tensor::zeros(&[1, 1, 4])),
        0.0
    );
    let net = mnist();
    let x = idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz"))
        .expect("t10k")
        .image(0)
        .expect("digit");
    assert_eq!(
        inversion::relative_feature_error(&net, &x, &x, "pool2").expect("error"),
        0.0
    );
    let black = Tensor::zeros(&[1, 28, 28]);
    let e = inversion::relative_feature_error(&net, &black, &x, "conv1").expect("error");
    let (t, z) = (
        inversion::features(&net, &x, "conv1").expect("f"),
        inversion::features(&net, &black, "conv1").expect("f"),
    );
    let by_hand: f64 = t
        .data()
        .iter()
        .zip(z.data())
        .map(|(&p, &q)| (p as f64 - q as f64).powi(2))
        .sum::<f64>()
        / t.data().iter().map(|&p| (p as f64).powi(2)).sum::<f64>();
    assert!((e - by_hand).abs() < 1e-12);
}

/// Mean activation of every channel of `layer` for an image.
fn channel_means(net: &Network, layer: usize, x: &Tensor) -> Vec<f64> {
    let a = net.forward(x).expect("forward").outputs()[layer].clone();
    let plane = a.shape()[1] * a.shape()[2];
    a.data()
        .chunks_exact(plane)
        .map(|c| c.iter().map(|&v| v as f64).sum::<f64>() / plane as f64)
        .collect()
}

/// The heavy measurement of docs/featureviz.md, with the default options: class images, conv1/conv2/relu2
/// atlases against the t10k digits, inversions of the first 100 t10k digits. Writes the class and conv2
/// images to `tests/reference/featureviz-images.json` (for `featureviz_check.py`) and the atlases to
/// `docs/featureviz-*.png`. Run: `cargo test --test featureviz -- --ignored --nocapture`.
#[test]
#[ignore]
fn full_measurement() {
    let net = mnist();
    let digits =
        idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz")).expect("t10k");
    let mut record = serde_json::Map::new();
    for layer in ["class", "conv1", "relu1", "conv2", "relu2"] {
        let started = std::time::Instant::now();
        let cells = atlas::cells(&net, layer).expect("cells");
        let images =
            atlas::render_cells(&net, &cells, &atlas::options_for(layer, 1)).expect("render");
        println!(
            "{layer}: {} images in {:.2} s",
            images.len(),
            started.elapsed().as_secs_f64()
        );
        if layer != "class" {
            let li = net.layer_index(layer).expect("layer");
            let best = best_digit_means(&net, li);
            let beaten = images
                .iter()
                .enumerate()
                .filter(|(k, r)| channel_means(&net, li, &r.images[0])[*k] > best[*k])
                .count();
            println!(
                "{layer}: {beaten}/{} channel images beat the best t10k digit",
                cells.len()
            );
        }
        let titled: Vec<(String, &Tensor)> = cells
            .iter()
            .zip(&images)
            .map(|(c, r)| (c.title.clone(), &r.images[0]))
            .collect();
        let png = atlas::grid(
            &titled,
            &format!("{layer} (lenet5-mnist)"),
            if layer == "class" { 5 } else { 8 },
        )
        .expect("grid");
        convscope::render::png::write_png(repo(&format!("docs/featureviz-{layer}.png")), &png)
            .expect("png");
        if layer == "class" || layer == "conv2" {
            let data: Vec<Vec<f32>> = images.iter().map(|r| r.images[0].data().to_vec()).collect();
            record.insert(layer.to_string(), serde_json::json!(data));
        }
    }
    let mut strip = Vec::new();
    for i in 0..4 {
        let x0 = digits.image(i).expect("digit");
        strip.push((format!("input {i}"), x0.clone()));
        for layer in ["conv1", "pool1", "pool2", "fc2", "fc3"] {
            let r = inversion::invert(&net, &x0, layer, inversion::default_options(1))
                .and_then(|r| r.run(&net));
            strip.push((layer.to_string(), r.expect("inversion").images[0].clone()));
        }
    }
    let titled: Vec<(String, &Tensor)> = strip.iter().map(|(t, x)| (t.clone(), x)).collect();
    let png = atlas::grid(&titled, "inversions (lenet5-mnist)", 6).expect("grid");
    convscope::render::png::write_png(repo("docs/featureviz-inversion.png"), &png).expect("png");
    let started = std::time::Instant::now();
    let (correlation, pool1, pool2) = inversion_figures(&net, 100);
    println!("inversion, first 100 t10k digits: pool1 correlation {correlation:.4}, relative feature error pool1 {pool1:.2e}, pool2 {pool2:.2e} ({:.1} s)", started.elapsed().as_secs_f64());
    let text = serde_json::to_string(&serde_json::Value::Object(record)).expect("json");
    std::fs::write(repo("tests/reference/featureviz-images.json"), text).expect("write");
}

#[test]
fn a_dream_grows_through_its_octaves_and_raises_the_energy() {
    use convscope::explain::featureviz::dream::{Dream, DreamOptions};
    let net = mnist();
    let digits =
        idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz")).expect("t10k");
    let x = digits.image(0).expect("digit");
    let options = DreamOptions::new("relu2");
    let mut dream = Dream::new(&net, &x, options.clone()).expect("dream");
    assert_eq!(
        (0..3).map(|o| dream.octave_size(o)).collect::<Vec<_>>(),
        [(28, 28), (39, 39), (55, 55)]
    );
    let first = dream.step(&net, 20).expect("octave 0");
    assert_eq!(
        (first.step, first.steps, first.image.shape()),
        (20, 60, &[1usize, 28, 28][..])
    );
    let last = dream.step(&net, 1000).expect("the rest");
    assert_eq!((last.step, last.image.shape()), (60, &[1usize, 55, 55][..]));
    let h = dream.history();
    assert!(h[19] > 2.0 * h[0], "octave 0: energy {} -> {}", h[0], h[19]);
    assert!(h[59] > h[40], "octave 2: energy {} -> {}", h[40], h[59]);
    assert!(last.image.data().iter().all(|v| (0.0..=1.0).contains(v)));
    let again = Dream::new(&net, &x, options)
        .and_then(|d| d.run(&net))
        .expect("dream");
    assert_eq!(again, last.image, "same options, same image");
    let bad = DreamOptions::new("fc1");
    assert!(matches!(
        Dream::new(&net, &x, bad),
        Err(Error::BadOption { .. })
    ));
    if std::env::var_os("FEATUREVIZ_PNG").is_some() {
        let titled = [
            ("input".to_string(), &x),
            ("relu2 dream".to_string(), &last.image),
        ];
        let png = atlas::grid(&titled, "DeepDream (lenet5-mnist)", 2).expect("grid");
        convscope::render::png::write_png(repo("docs/featureviz-dream.png"), &png).expect("png");
    }
}

#[test]
fn resizing_keeps_constants_and_round_numbers() {
    use convscope::explain::featureviz::dream::resize;
    let flat = Tensor::from_vec(&[2, 3, 4], vec![0.25; 24]).expect("shape");
    let big = resize(&flat, 7, 5).expect("resize");
    assert_eq!(big.shape(), [2, 7, 5]);
    assert!(big.data().iter().all(|v| (v - 0.25).abs() < 1e-7));
    // Doubling [0, 1] along a row: centres at −0.25, 0.25, 0.75, 1.25 → 0 (clamped), 0.25, 0.75, 1.
    let row = Tensor::from_vec(&[1, 1, 2], vec![0.0, 1.0]).expect("shape");
    assert_eq!(
        resize(&row, 1, 4).expect("resize").data(),
        [0.0, 0.25, 0.75, 1.0]
    );
    assert!(matches!(resize(&row, 0, 4), Err(Error::OutOfRange { .. })));
}

/// `tests/data/featureviz-pin.json` (which `tests/web.rs` compares the wasm build with) is the native result of
/// its command, bit for bit.
#[test]
fn the_committed_wasm_pin_is_the_native_class_image() {
    use convscope::catalogue;
    use convscope::explain::job::{Job, Output};
    let net = mnist();
    let technique = catalogue::find("visualize").expect("visualize");
    let options = serde_json::json!({
        "objective": "class:3", "param": "pixel", "rotate": 0, "blurEvery": 0, "steps": 64, "seed": 2
    });
    let values = technique.values_from_json(&options).expect("options");
    let job = Job::start(&net, technique, None, &values).expect("job");
    let Output::Pictures(pictures) = job.run(&net).expect("run") else {
        panic!("not pictures")
    };
    let path = repo("tests/data/featureviz-pin.json");
    if std::env::var_os("FEATUREVIZ_PIN").is_some() {
        let data: Vec<String> = pictures[0]
            .image
            .data()
            .iter()
            .map(|v| v.to_string())
            .collect();
        let text = format!(
            r#"{{"shape":[1,28,28],"data":[{}],"objective":{}}}"#,
            data.join(","),
            pictures[0].objective
        );
        std::fs::write(&path, text + "\n").expect("write the pin");
    }
    let text = std::fs::read_to_string(&path).expect("the pin");
    let start = text.find(r#""data":["#).expect("data") + 8;
    let pinned: Vec<u32> = text[start..start + text[start..].find(']').expect("]")]
        .split(',')
        .map(|v| v.parse::<f32>().expect("a number").to_bits())
        .collect();
    let ours: Vec<u32> = pictures[0]
        .image
        .data()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    assert_eq!(
        pinned, ours,
        "rewrite the pin with FEATUREVIZ_PIN=1 if the optimizer changed on purpose"
    );
}
