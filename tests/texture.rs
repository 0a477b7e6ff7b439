//! Gram matrices, texture synthesis and style transfer (issue 16): hand-computed cases, gradients against
//! finite differences, the random network pinned bit for bit, Gram matrices against float64 PyTorch, and the
//! acceptance figures of the syntheses.

#[path = "common/fnv.rs"]
mod fnv;

use convscope::explain::job::{Job, Output};
use convscope::explain::texture::{
    Backbone, ContentTarget, FeatureNet, RandomNet, StartFrom, StyleTarget, Synthesis,
    SynthesisOptions,
};
use convscope::io::idx;
use convscope::model::network::Network;
use convscope::rng::Rng;
use convscope::Tensor;
use fnv::fnv;
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn mnist() -> Network {
    Network::load(&repo("www/models/lenet5-mnist.json")).expect("the shipped model")
}

fn digit(i: usize) -> Tensor {
    idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz"))
        .expect("t10k")
        .image(i)
        .expect("digit")
}

/// A colour texture made of stripes and blobs (seeded), `[3, n, n]`.
fn colour_texture(n: usize) -> Tensor {
    let mut data = vec![0.0f32; 3 * n * n];
    for y in 0..n {
        for x in 0..n {
            let stripe = (((x + 2 * y) / 4) % 2) as f32;
            let blob = (((x as f32 * 0.7).sin() * (y as f32 * 0.5).cos()) + 1.0) / 2.0;
            data[y * n + x] = 0.8 * stripe + 0.1;
            data[n * n + y * n + x] = blob;
            data[2 * n * n + y * n + x] = 0.5 * (1.0 - stripe) * blob + 0.2;
        }
    }
    Tensor::from_vec(&[3, n, n], data).expect("texture")
}

fn random_image(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_vec(shape, (0..n).map(|_| rng.uniform()).collect()).expect("image")
}

fn names(layers: &[&str]) -> Vec<String> {
    layers.iter().map(|s| s.to_string()).collect()
}

#[test]
fn gram_of_a_hand_computed_three_channel_map() {
    // F (3 channels on 2×2) = [[1, 0, 2, 1], [0, 3, 1, 0], [2, 2, 0, -1]]; F Fᵀ = [[6, 2, 1], [2, 10, 6],
    // [1, 6, 9]], divided by H·W = 4.
    let f = Tensor::from_vec(
        &[3, 2, 2],
        vec![1.0, 0.0, 2.0, 1.0, 0.0, 3.0, 1.0, 0.0, 2.0, 2.0, 0.0, -1.0],
    )
    .expect("f");
    let g = convscope::explain::gram::gram(&f).expect("gram");
    assert_eq!(g.data(), [1.5, 0.5, 0.25, 0.5, 2.5, 1.5, 0.25, 1.5, 2.25]);
    // Positions beyond one chunk of the blocked product (300 > 256) and a ragged last vector (C = 5).
    let mut rng = Rng::new(4);
    let f = Tensor::from_vec(&[5, 15, 20], (0..1500).map(|_| rng.normal()).collect()).expect("f");
    let g = convscope::explain::gram::gram(&f).expect("gram");
    for i in 0..5 {
        for j in 0..5 {
            let want: f64 = (0..300)
                .map(|p| f.data()[i * 300 + p] as f64 * f.data()[j * 300 + p] as f64)
                .sum::<f64>()
                / 300.0;
            let got = g.data()[i * 5 + j] as f64;
            assert!(
                (got - want).abs() < 1e-6 * (1.0 + want.abs()),
                "{i},{j}: {got} vs {want}"
            );
        }
    }
}

/// ⟨∇L, v⟩ against the central difference of `L` along a direction `v` (noise plus the gradient), for the style loss, the
/// content loss and their weighted sum through `net`.
fn check_loss_gradients(
    net: &FeatureNet,
    shape: &[usize],
    seed: u64,
    (eps, tolerance): (f32, f64),
) {
    let mut rng = Rng::new(seed);
    let (x, style, content) = (
        random_image(&mut rng, shape),
        random_image(&mut rng, shape),
        random_image(&mut rng, shape),
    );
    let layers = net.forward(&x).expect("forward").maps.len();
    let n_style = layers - 1;
    let style_maps = net.forward(&style).expect("style").maps;
    let target = StyleTarget::new(
        &style_maps[..n_style],
        &(0..n_style).map(|l| 0.5 + l as f32).collect::<Vec<_>>(),
        &vec![String::new(); n_style],
    )
    .expect("style target");
    let content_map = net
        .forward(&content)
        .expect("content")
        .maps
        .pop()
        .expect("map");
    let content_target = ContentTarget::new(content_map, "content").expect("content target");
    let value = |x: &Tensor, which: usize| -> f64 {
        let maps = net.forward(x).expect("forward").maps;
        let style = target.loss(&maps[..n_style]).expect("style").0;
        let content = content_target.loss(&maps[n_style]).expect("content").0;
        [style, content, style + 3.0 * content][which]
    };
    let noise: Vec<f32> = (0..x.len()).map(|_| rng.normal()).collect();
    for which in 0..3 {
        let features = net.forward(&x).expect("forward");
        let (_, style_grads) = target.loss(&features.maps[..n_style]).expect("style");
        let (_, content_grad) = content_target
            .loss(&features.maps[n_style])
            .expect("content");
        let mut signals: Vec<Option<Tensor>> = match which {
            1 => vec![None; n_style],
            _ => style_grads.into_iter().map(Some).collect(),
        };
        signals.push(match which {
            0 => None,
            1 => Some(content_grad),
            _ => Some(
                Tensor::from_vec(
                    content_grad.shape(),
                    content_grad.data().iter().map(|g| 3.0 * g).collect(),
                )
                .expect("scaled"),
            ),
        });
        let grad = net.backward(&features, signals).expect("backward");
        // Half noise, half the gradient (scaled to the noise's norm), so that the derivative is not a
        // small difference of large terms.
        let norm = |v: &[f32]| v.iter().map(|&a| a as f64 * a as f64).sum::<f64>().sqrt();
        let scale = (norm(&noise) / norm(grad.data())) as f32;
        let direction: Vec<f32> = noise
            .iter()
            .zip(grad.data())
            .map(|(n, g)| n + scale * g)
            .collect();
        let moved = |sign: f32| {
            Tensor::from_vec(
                x.shape(),
                x.data()
                    .iter()
                    .zip(&direction)
                    .map(|(v, d)| v + sign * eps * d)
                    .collect(),
            )
            .expect("moved")
        };
        let numeric = (value(&moved(1.0), which) - value(&moved(-1.0), which)) / (2.0 * eps as f64);
        let analytic: f64 = grad
            .data()
            .iter()
            .zip(&direction)
            .map(|(&g, &d)| g as f64 * d as f64)
            .sum();
        assert!(
            (numeric - analytic).abs() < tolerance * analytic.abs().max(1e-3),
            "loss {which} at {shape:?}: {numeric} vs {analytic}"
        );
    }
}

#[test]
fn style_and_content_gradients_match_finite_differences() {
    // At the feature maps, where both losses are polynomials: every coordinate of two style layers of
    // different sizes and of the content layer.
    let mut rng = Rng::new(8);
    let maps = [
        Tensor::from_vec(&[3, 4, 5], (0..60).map(|_| rng.normal()).collect()).expect("a"),
        Tensor::from_vec(&[2, 3, 3], (0..18).map(|_| rng.normal()).collect()).expect("b"),
    ];
    let targets = [
        Tensor::from_vec(&[3, 6, 2], (0..36).map(|_| rng.normal()).collect()).expect("a"),
        Tensor::from_vec(&[2, 2, 2], (0..8).map(|_| rng.normal()).collect()).expect("b"),
    ];
    let style = StyleTarget::new(&targets, &[0.7, 2.0], &names(&["a", "b"])).expect("style");
    let content = ContentTarget::new(targets[1].clone(), "b").expect("content");
    let (_, style_grads) = style.loss(&maps).expect("style");
    let (_, content_grad) = content
        .loss(&Tensor::from_vec(&[2, 2, 2], maps[1].data()[..8].to_vec()).expect("c"))
        .expect("content");
    let eps = 1e-2f32;
    for l in 0..2 {
        for i in 0..maps[l].len() {
            let at = |sign: f32| {
                let mut m = maps.clone();
                m[l].data_mut()[i] += sign * eps;
                style.loss(&m).expect("style").0
            };
            let numeric = (at(1.0) - at(-1.0)) / (2.0 * eps as f64);
            let analytic = style_grads[l].data()[i] as f64;
            assert!(
                (numeric - analytic).abs() < 1e-3 * (1.0 + analytic.abs()),
                "style {l} {i}: {numeric} vs {analytic}"
            );
        }
    }
    for i in 0..8 {
        let at = |sign: f32| {
            let mut m = maps[1].data()[..8].to_vec();
            m[i] += sign * eps;
            content
                .loss(&Tensor::from_vec(&[2, 2, 2], m).expect("c"))
                .expect("content")
                .0
        };
        let numeric = (at(1.0) - at(-1.0)) / (2.0 * eps as f64);
        let analytic = content_grad.data()[i] as f64;
        assert!(
            (numeric - analytic).abs() < 1e-4 * (1.0 + analytic.abs()),
            "content {i}: {numeric} vs {analytic}"
        );
    }
    // At the pixels, through the networks' backward passes: the model's conv1 (linear: no kinks) at the
    // input size and at 40 × 36 through the prefix, its ReLU and pooling layers and the random network,
    // where the kinks crossed within ±eps leave an error under 1 %.
    let net = mnist();
    let conv1 = FeatureNet::model(&net, &names(&["conv1", "conv1"])).expect("model");
    check_loss_gradients(&conv1, &[1, 28, 28], 1, (1e-3, 3e-3));
    check_loss_gradients(&conv1, &[1, 40, 36], 2, (1e-3, 3e-3));
    let deep =
        FeatureNet::model(&net, &names(&["relu1", "pool1", "relu2", "relu2"])).expect("model");
    check_loss_gradients(&deep, &[1, 28, 28], 1, (1e-4, 1e-2));
    let random = RandomNet::default();
    let features = FeatureNet::random(&random, &names(&["random", "random"])).expect("random");
    check_loss_gradients(&features, &[3, 12, 10], 3, (1e-3, 5e-3));
}

/// FNV-1a over the bits of every weight.
fn weights_hash(net: &RandomNet) -> u64 {
    fnv(net.weights())
}

#[test]
fn the_random_network_is_pinned_bit_for_bit() {
    let net = RandomNet::default();
    assert_eq!(net.maps(), 128);
    assert_eq!(net.weights().count(), 32 * 3 * (9 + 25 + 49 + 121));
    assert_eq!(
        net,
        RandomNet::new(convscope::explain::texture::random_net::SEED)
    );
    assert_ne!(weights_hash(&RandomNet::new(1)), weights_hash(&net));
    // The same value is pinned in tests/web.rs for wasm.
    assert_eq!(
        weights_hash(&net),
        0x009c_0ed0_ad67_c1f1,
        "hash {:#018x}",
        weights_hash(&net)
    );
}

#[test]
fn gram_matrices_match_float64_pytorch() {
    let text =
        std::fs::read_to_string(repo("tests/reference/texture-gram.json")).expect("reference");
    let reference: serde_json::Value = serde_json::from_str(&text).expect("json");
    let net = mnist();
    let images =
        idx::read_images(repo("tests/data/mnist/t10k-images-idx3-ubyte.gz")).expect("t10k");
    let layers = names(&["conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]);
    let features = FeatureNet::model(&net, &layers).expect("features");
    let cases = reference["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    let mut worst = 0.0f64;
    let mut first_two = Vec::new();
    for case in cases {
        let digits: Vec<Tensor> = case["indices"]
            .as_array()
            .expect("indices")
            .iter()
            .map(|i| {
                images
                    .image(i.as_u64().expect("index") as usize)
                    .expect("digit")
            })
            .collect();
        let x = if digits.len() == 1 {
            digits[0].clone()
        } else {
            mosaic(&digits)
        };
        let maps = features.forward(&x).expect("forward").maps;
        for (name, map) in layers.iter().zip(&maps) {
            let g = convscope::explain::gram::gram(map).expect("gram");
            let want: Vec<f64> = case["grams"][name]
                .as_array()
                .expect("gram")
                .iter()
                .flat_map(|row| {
                    row.as_array()
                        .expect("row")
                        .iter()
                        .map(|v| v.as_f64().expect("v"))
                })
                .collect();
            assert_eq!(want.len(), g.len(), "{name}");
            let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let error = g
                .data()
                .iter()
                .zip(&want)
                .fold(0.0f64, |m, (&a, &b)| m.max((a as f64 - b).abs()));
            worst = worst.max(error / scale);
        }
        if digits.len() == 1 {
            first_two.push(maps);
        }
    }
    assert!(
        worst < 1e-5,
        "largest Gram error relative to the largest entry: {worst:e}"
    );
    // The per-layer style distance between t10k images 0 and 1.
    let target = StyleTarget::new(&first_two[1], &[1.0; 6], &layers).expect("target");
    let distances = target.distances(&first_two[0]).expect("distances");
    for (name, d) in layers.iter().zip(distances) {
        let want = reference["style_distance_0_vs_1"][name]
            .as_f64()
            .expect("distance");
        assert!((d - want).abs() < 1e-5 * want, "{name}: {d} vs {want}");
    }
}

/// Four `[1, 28, 28]` digits as a 2 × 2 mosaic `[1, 56, 56]`, row-major.
fn mosaic(digits: &[Tensor]) -> Tensor {
    let mut data = vec![0.0f32; 56 * 56];
    for (k, d) in digits.iter().enumerate() {
        let (oy, ox) = (k / 2 * 28, k % 2 * 28);
        for y in 0..28 {
            for x in 0..28 {
                data[(oy + y) * 56 + ox + x] = d.data()[y * 28 + x];
            }
        }
    }
    Tensor::from_vec(&[1, 56, 56], data).expect("mosaic")
}

fn style_ratio(
    backbone: Backbone,
    synthesis: Synthesis,
) -> (f64, convscope::explain::texture::Synthesized) {
    let start = synthesis.losses(backbone).expect("start").style;
    let done = synthesis.run(backbone).expect("run");
    (start / done.losses.style, done)
}

#[test]
fn a_digit_texture_through_the_model_lowers_the_style_loss_100_fold() {
    let net = mnist();
    let mut options = SynthesisOptions::new(1);
    options.lr = 0.05;
    for (d, size) in [(0, None), (2, Some((40, 40)))] {
        options.size = size;
        let synthesis =
            Synthesis::texture(Backbone::Model(&net), &digit(d), options.clone()).expect("texture");
        let (ratio, done) = style_ratio(Backbone::Model(&net), synthesis);
        assert_eq!(done.history.len(), 200);
        assert!(
            ratio >= 100.0,
            "digit {d} at {size:?}: style loss down {ratio}×"
        );
        assert!(done.image.data().iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

#[test]
fn a_colour_texture_through_the_random_network_lowers_the_style_loss_100_fold() {
    let net = RandomNet::default();
    let mut options = SynthesisOptions::new(1);
    options.lr = 0.05;
    options.size = Some((32, 32));
    let synthesis =
        Synthesis::texture(Backbone::Random(&net), &colour_texture(40), options).expect("texture");
    let (ratio, done) = style_ratio(Backbone::Random(&net), synthesis);
    assert_eq!(done.image.shape(), [3, 32, 32]);
    assert!(ratio >= 100.0, "style loss down {ratio}×");
}

#[test]
fn a_step_wise_synthesis_equals_the_one_shot_run_and_the_seed_decides() {
    let net = RandomNet::default();
    let mut options = SynthesisOptions::new(3);
    options.steps = 7;
    options.size = Some((12, 12));
    let style = colour_texture(16);
    let one_shot = Synthesis::texture(Backbone::Random(&net), &style, options.clone())
        .expect("texture")
        .run(Backbone::Random(&net))
        .expect("run");
    let mut stepped =
        Synthesis::texture(Backbone::Random(&net), &style, options.clone()).expect("texture");
    let first = stepped.step(Backbone::Random(&net), 3).expect("step");
    assert_eq!((first.step, first.steps, first.done()), (3, 7, false));
    let last = stepped.step(Backbone::Random(&net), 100).expect("step");
    assert!(last.done());
    assert_eq!(last.image, one_shot.image);
    assert_eq!(stepped.history(), one_shot.history);
    options.seed = 4;
    let other = Synthesis::texture(Backbone::Random(&net), &style, options)
        .expect("texture")
        .run(Backbone::Random(&net))
        .expect("run");
    assert_ne!(other.image, one_shot.image);
}

#[test]
fn bad_layers_sizes_and_weights_are_errors() {
    let net = mnist();
    let style = digit(0);
    let mut options = SynthesisOptions::new(1);
    options.style_layers = Some(names(&["fc1"]));
    let e = Synthesis::texture(Backbone::Model(&net), &style, options.clone()).err();
    assert!(e.is_some_and(|e| e.to_string().contains("conv prefix")));
    options.style_layers = Some(names(&["nope"]));
    assert!(Synthesis::texture(Backbone::Model(&net), &style, options.clone()).is_err());
    options.style_layers = Some(names(&["relu1", "relu2"]));
    options.layer_weights = Some(vec![1.0]);
    let e = Synthesis::texture(Backbone::Model(&net), &style, options.clone()).err();
    assert!(e.is_some_and(|e| e.to_string().contains("2 style layers")));
    options.layer_weights = None;
    options.size = Some((4, 4));
    assert!(Synthesis::texture(Backbone::Model(&net), &style, options.clone()).is_err());
    options.size = Some((0, 4));
    assert!(Synthesis::texture(Backbone::Model(&net), &style, options.clone()).is_err());
    options.size = None;
    options.lr = f32::NAN;
    assert!(Synthesis::texture(Backbone::Model(&net), &style, options).is_err());
    let random = RandomNet::default();
    let options = SynthesisOptions::new(1);
    // A grayscale image through the RGB network.
    assert!(Synthesis::texture(Backbone::Random(&random), &style, options).is_err());
}

#[test]
fn a_style_transfer_through_the_model_lowers_the_style_loss_20_fold_and_keeps_the_content() {
    let net = mnist();
    let mut options = SynthesisOptions::new(1);
    options.start = StartFrom::Content;
    options.style_weight = Some(0.5);
    let synthesis =
        Synthesis::transfer(Backbone::Model(&net), &digit(3), &digit(0), options.clone())
            .expect("transfer");
    let (ratio, done) = style_ratio(Backbone::Model(&net), synthesis);
    let content_error = done.losses.content.expect("content").sqrt();
    assert!(ratio >= 20.0, "style loss down {ratio}×");
    assert!(
        content_error <= 0.3,
        "content relative error {content_error}"
    );
    // From noise the content comes back as well.
    options.start = StartFrom::Noise;
    let synthesis = Synthesis::transfer(Backbone::Model(&net), &digit(3), &digit(0), options)
        .expect("transfer");
    let done = synthesis.run(Backbone::Model(&net)).expect("run");
    assert!(done.losses.content.expect("content").sqrt() <= 0.3);
}

/// A bundled photo at 64 × 64 (bilinear, from 128 × 128), RGB.
fn photo(name: &str) -> Tensor {
    let full = convscope::io::image::read_rgb(repo(&format!("www/data/textures/{name}.png")))
        .expect("photo");
    convscope::explain::featureviz::dream::resize(&full, 64, 64).expect("resize")
}

/// The acceptance figure on RGB through the random network, with the documented defaults (content layer
/// `random-coarse`, style layer `random`, α = 1, β = 3, 200 steps at 0.05 from the content image): the cat
/// in wood's style.
#[test]
fn a_style_transfer_through_the_random_network_lowers_the_style_loss_20_fold_and_keeps_the_content()
{
    let net = RandomNet::default();
    let mut options = SynthesisOptions::new(1);
    options.start = StartFrom::Content;
    let (content, style) = (photo("cat"), photo("wood"));
    let synthesis =
        Synthesis::transfer(Backbone::Random(&net), &content, &style, options).expect("transfer");
    let start = synthesis.losses(Backbone::Random(&net)).expect("start");
    assert_eq!(start.content, Some(0.0));
    let (ratio, done) = style_ratio(Backbone::Random(&net), synthesis);
    // What is minimized is α·L_c + β·L_s with the random network's β = 3.
    assert!((done.history[0] - 3.0 * start.style).abs() <= 1e-9 * start.style);
    let content_error = done.losses.content.expect("content").sqrt();
    assert!(ratio >= 20.0, "style loss down {ratio}×");
    assert!(
        content_error <= 0.3,
        "content relative error {content_error}"
    );
}

#[test]
fn rgb_decoding_agrees_with_the_luminance_decoder() {
    let path = repo("www/data/textures/fur.png");
    let rgb = convscope::io::image::read_rgb(&path).expect("rgb");
    let gray = convscope::io::image::read(&path).expect("gray");
    assert_eq!(rgb.shape(), [3, 128, 128]);
    let plane = 128 * 128;
    for (i, &y) in gray.pixels.iter().enumerate() {
        let (r, g, b) = (
            rgb.data()[i],
            rgb.data()[plane + i],
            rgb.data()[2 * plane + i],
        );
        assert!((0.299 * r + 0.587 * g + 0.114 * b - y).abs() < 1e-6, "{i}");
    }
    // A gray image repeats in the three planes.
    let brick = convscope::io::image::read_rgb(repo("www/data/textures/brick.png")).expect("brick");
    assert_eq!(brick.data()[..plane], brick.data()[plane..2 * plane]);
}

#[test]
fn list_options_read_from_json_and_flags_alike() {
    use convscope::catalogue::options::Values;
    use convscope::explain::texture::{options_from, TEXTURE};
    let json = serde_json::json!({ "size": [24, 20], "layers": ["relu1", "pool1"], "layerWeights": [1, 0.5] });
    let from_json = Values::from_json(TEXTURE.id, TEXTURE.options, &json).expect("json");
    let flags = [
        ("size", "24,20"),
        ("layers", "relu1,pool1"),
        ("layer-weights", "1,0.5"),
    ];
    let from_flags = Values::from_flags(TEXTURE.id, TEXTURE.options, flags).expect("flags");
    assert_eq!(from_json, from_flags);
    let options = options_from(&from_json, &TEXTURE).expect("options");
    assert_eq!(options.size, Some((24, 20)));
    assert_eq!(options.style_layers, Some(names(&["relu1", "pool1"])));
    assert_eq!(options.layer_weights, Some(vec![1.0, 0.5]));
    for bad in [
        serde_json::json!({ "size": [24] }),
        serde_json::json!({ "size": [24, 2.5] }),
        serde_json::json!({ "size": "24,20" }),
        serde_json::json!({ "layers": [3] }),
        serde_json::json!({ "layerWeights": [-1] }),
    ] {
        assert!(
            Values::from_json(TEXTURE.id, TEXTURE.options, &bad).is_err(),
            "{bad}"
        );
    }
    assert!(Values::from_flags(TEXTURE.id, TEXTURE.options, [("layers", "relu1,,pool1")]).is_err());
}

/// The image of `technique`'s job (options `json`) run to its end, and its style loss.
fn job_image(
    net: &Network,
    id: &str,
    content: Option<&Tensor>,
    style: &Tensor,
    json: serde_json::Value,
) -> (Tensor, f64) {
    let technique = convscope::catalogue::find(id).expect("technique");
    let values = technique.values_from_json(&json).expect("options");
    let job = Job::start_styled(net, technique, content, style, &values).expect("job");
    match job.run(net).expect("run") {
        Output::Synthesis {
            image,
            losses: Some(losses),
            ..
        } => (image, losses.style),
        other => panic!("not a synthesis: {other:?}"),
    }
}

/// A short texture of the bundled fur.png through the random network and a short transfer through the model
/// (gallery digit 3 in the style of digit 0), hashed bit for bit: `tests/web.rs` pins the same hashes for
/// the wasm build, whose page and Node runs `tests/e2e/texture.test.mjs` compares.
#[test]
fn short_syntheses_are_pinned_for_the_wasm_build() {
    let net = mnist();
    let fur = convscope::io::image::read_rgb(repo("www/data/textures/fur.png")).expect("fur");
    let options = serde_json::json!({ "size": [16, 16], "steps": 10 });
    let (image, style_loss) = job_image(&net, "texture", None, &fur, options);
    assert_eq!(image.shape(), [3, 16, 16]);
    let gallery = idx::read_images(repo("www/data/mnist-gallery-images.idx3.gz")).expect("gallery");
    let (content, style) = (gallery.image(3).expect("3"), gallery.image(0).expect("0"));
    let options = serde_json::json!({ "net": "model", "steps": 10 });
    let (transfer, transfer_loss) =
        job_image(&net, "style-transfer", Some(&content), &style, options);
    let hashes = (
        fnv(image.data().iter().copied()),
        fnv(transfer.data().iter().copied()),
    );
    // The same values are pinned in tests/web.rs for wasm (rewrite both if the optimizer changes on purpose).
    assert_eq!(
        hashes,
        (0x1922_e492_77a5_3e2f, 0x3814_2ee4_fa63_12c7),
        "{hashes:#018x?}"
    );
    assert_eq!(
        (style_loss, transfer_loss),
        (0.07945232850235223, 0.08429495740857512)
    );
}
