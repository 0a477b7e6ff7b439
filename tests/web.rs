//! Tests of the JS boundary (`src/bindings.rs`) inside WebAssembly: the `Model` class built from manifest and
//! weight bytes, its results as JS objects and typed arrays, and bad input turning into JS `Error`s.
//!
//! `wasm-pack test --node` runs this binary in Node; `tests/web_browser.rs` includes this file under
//! `run_in_browser`, so `wasm-pack test --headless --chrome` runs the same tests in Chrome (each command skips
//! the other binary). Data: the random-init LeNet-5 fixture with its PyTorch logits for t10k images 0–4, which
//! are also the first five images of the page's gallery (`www/data/mnist-gallery-*`).
#![cfg(target_arch = "wasm32")]

use convscope::bindings::Model;
use convscope::io::idx;
use convscope::model::network::Network;
use js_sys::{Array, Float32Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const MANIFEST: &str = include_str!("data/torch-lenet-random.json");
const WEIGHTS: &[u8] = include_bytes!("data/torch-lenet-random.safetensors");
const TORCH_LOGITS: &str = include_str!("data/torch-lenet-random-logits.json");
const GALLERY_IMAGES: &[u8] = include_bytes!("../www/data/mnist-gallery-images.idx3.gz");
const GALLERY_LABELS: &[u8] = include_bytes!("../www/data/mnist-gallery-labels.idx1.gz");

fn model() -> Model {
    Model::load(MANIFEST, WEIGHTS).unwrap()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap()
}

fn floats(value: JsValue) -> Vec<f32> {
    value.dyn_into::<Float32Array>().unwrap().to_vec()
}

fn numbers(value: JsValue) -> Vec<f64> {
    Array::from(&value)
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// The message of a JS `Error` (panics if the value is not one).
fn error_message(error: wasm_bindgen::JsError) -> String {
    let value = JsValue::from(error);
    let error: js_sys::Error = value.dyn_into().expect("a JS Error object");
    String::from(error.message())
}

/// Gallery image `i` as raw pixels in [0, 1].
fn gallery_image(i: usize) -> Vec<f32> {
    idx::parse_images(GALLERY_IMAGES)
        .unwrap()
        .image(i)
        .unwrap()
        .into_data()
}

#[wasm_bindgen_test]
fn info_numbers_layers_from_one_with_output_shapes() {
    let info = model().info().unwrap();
    assert_eq!(
        get(&info, "name").as_string().unwrap(),
        "torch-lenet-random"
    );
    let input = get(&info, "input");
    assert_eq!(get(&input, "channels").as_f64(), Some(1.0));
    assert_eq!(get(&input, "height").as_f64(), Some(28.0));
    assert_eq!(Array::from(&get(&info, "labels")).length(), 10);

    let layers = Array::from(&get(&info, "layers"));
    let summary: Vec<(f64, String, String, Vec<f64>)> = layers
        .iter()
        .map(|l| {
            (
                get(&l, "index").as_f64().unwrap(),
                get(&l, "name").as_string().unwrap(),
                get(&l, "type").as_string().unwrap(),
                numbers(get(&l, "shape")),
            )
        })
        .collect();
    assert_eq!(summary.len(), 13);
    assert_eq!(
        summary[0],
        (1.0, "conv1".into(), "conv2d".into(), vec![6.0, 28.0, 28.0])
    );
    assert_eq!(
        summary[2],
        (
            3.0,
            "pool1".into(),
            "max_pool2d".into(),
            vec![6.0, 14.0, 14.0]
        )
    );
    assert_eq!(
        summary[5],
        (
            6.0,
            "pool2".into(),
            "max_pool2d".into(),
            vec![16.0, 5.0, 5.0]
        )
    );
    assert_eq!(
        summary[6],
        (7.0, "flatten".into(), "flatten".into(), vec![400.0])
    );
    assert_eq!(
        summary[12],
        (13.0, "log_softmax".into(), "log_softmax".into(), vec![10.0])
    );

    // The deconvnet's conv blocks: conv1's activations are pool1 (layer 3), conv2's pool2 (layer 6).
    let blocks: Vec<(String, f64, f64, f64)> = Array::from(&get(&info, "convBlocks"))
        .iter()
        .map(|b| {
            (
                get(&b, "name").as_string().unwrap(),
                get(&b, "conv").as_f64().unwrap(),
                get(&b, "activations").as_f64().unwrap(),
                get(&b, "channels").as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        blocks,
        vec![
            ("conv1".into(), 1.0, 3.0, 6.0),
            ("conv2".into(), 4.0, 6.0, 16.0)
        ]
    );
}

#[wasm_bindgen_test]
fn predict_equals_the_core_and_pytorch_on_gallery_digits() {
    let labels = idx::parse_labels(GALLERY_LABELS).unwrap();
    assert_eq!(
        &labels[..5],
        &[7, 2, 1, 0, 4],
        "gallery images 0-4 are t10k images 0-4"
    );
    let reference: serde_json::Value = serde_json::from_str(TORCH_LOGITS).unwrap();
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let m = model();
    for i in 0..5 {
        let image = gallery_image(i);
        let prediction = m.predict(&image).unwrap();
        let logits = floats(get(&prediction, "logits"));
        let probs = floats(get(&prediction, "probs"));

        // Bit-identical to the core called directly: the boundary copies, it does not compute.
        let core = net.predict(&net.image(image.clone()).unwrap()).unwrap();
        assert_eq!(logits, core.logits, "image {i}");
        assert_eq!(probs, core.probs, "image {i}");
        assert_eq!(get(&prediction, "label").as_f64(), Some(core.label as f64));

        // And the SIMD wasm build agrees with PyTorch's float64 forward pass.
        let torch: Vec<f64> = reference["logits"][i]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (k, (ours, theirs)) in logits.iter().zip(&torch).enumerate() {
            assert!(
                (f64::from(*ours) - theirs).abs() < 2e-5,
                "image {i} class {k}: {ours} vs {theirs}"
            );
        }
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[wasm_bindgen_test]
fn activations_are_every_layer_output_in_order() {
    let image = gallery_image(0);
    let activations = model().activations(&image).unwrap();
    assert_eq!(activations.length(), 13);
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let trace = net.forward(&net.image(image).unwrap()).unwrap();
    for (i, (layer, expected)) in activations.iter().zip(trace.outputs()).enumerate() {
        assert_eq!(get(&layer, "index").as_f64(), Some((i + 1) as f64));
        let shape: Vec<usize> = numbers(get(&layer, "shape"))
            .iter()
            .map(|&d| d as usize)
            .collect();
        assert_eq!(shape, expected.shape(), "layer {}", i + 1);
        assert_eq!(
            floats(get(&layer, "data")),
            expected.data(),
            "layer {}",
            i + 1
        );
    }
    // relu1 (layer 2) is conv1 (layer 1) clamped at zero.
    let conv1 = floats(get(&activations.get(0), "data"));
    let relu1 = floats(get(&activations.get(1), "data"));
    assert!(conv1.iter().zip(&relu1).all(|(c, r)| *r == c.max(0.0)));
}

#[wasm_bindgen_test]
fn filters_are_the_weights_in_oihw() {
    let filters = model().filters("conv2").unwrap();
    assert_eq!(numbers(get(&filters, "shape")), vec![16.0, 6.0, 5.0, 5.0]);
    let data = floats(get(&filters, "data"));
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let index = net.layer_index("conv2").unwrap();
    assert_eq!(&data[..], net.layers()[index].layer.params().unwrap().0);

    let message = error_message(model().filters("relu1").unwrap_err());
    assert!(message.contains("relu"), "{message}");
    assert!(error_message(model().filters("conv9").unwrap_err()).contains("no layer named"));
}

#[wasm_bindgen_test]
fn preprocessing_a_canvas_centres_the_ink_in_28_by_28() {
    // A 100×100 white canvas with a black 10×60 bar: light background, so the ink is inverted to 1.
    let (w, h) = (100, 100);
    let mut rgba = vec![255u8; w * h * 4];
    for y in 20..80 {
        for x in 45..55 {
            rgba[(y * w + x) * 4..(y * w + x) * 4 + 3].fill(0);
        }
    }
    let image = model().preprocess_rgba(&rgba, w, h).unwrap().to_vec();
    assert_eq!(image.len(), 784);
    let max = image.iter().cloned().fold(0.0f32, f32::max);
    assert!((max - 1.0).abs() < 1e-6, "strongest ink is 1, got {max}");
    // The bar's 60-pixel side becomes 20 pixels: 20 rows have ink, 14 ± 1 is the centre row of mass.
    let rows: Vec<usize> = (0..28)
        .filter(|&r| image[r * 28..(r + 1) * 28].iter().any(|&v| v > 0.5))
        .collect();
    assert_eq!(rows.len(), 20, "rows with ink: {rows:?}");
    let centre = (rows[0] + rows[rows.len() - 1]) as f32 / 2.0;
    assert!((centre - 13.5).abs() <= 1.0, "centre row {centre}");
}

#[wasm_bindgen_test]
fn bad_input_is_a_js_error_not_a_panic() {
    assert!(
        error_message(Model::load(MANIFEST, b"not safetensors").err().unwrap())
            .contains("bad weights")
    );
    assert!(error_message(Model::load("{", WEIGHTS).err().unwrap()).contains("manifest"));
    let m = model();
    assert!(error_message(m.predict(&[0.5; 10]).unwrap_err()).contains("shape mismatch"));
    let mut nan = vec![0.0f32; 784];
    nan[3] = f32::NAN;
    assert!(error_message(m.activations(&nan).unwrap_err()).contains("non-finite"));
    assert!(
        error_message(m.preprocess_rgba(&[0u8; 16 * 16 * 4], 16, 16).unwrap_err())
            .contains("blank")
    );
    assert!(error_message(m.preprocess_rgba(&[0u8; 10], 16, 16).unwrap_err()).contains("RGBA"));
    assert!(error_message(m.preprocess_file(b"GIF89a....").unwrap_err()).contains("bad image"));
    // The model still works after all those errors.
    assert!(m.predict(&gallery_image(1)).is_ok());
}

#[wasm_bindgen_test]
fn deconv_returns_the_core_reconstruction_and_its_strength() {
    use convscope::explain::deconvnet::{self, Unit};
    let image = gallery_image(2);
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let trace = net.forward(&net.image(image.clone()).unwrap()).unwrap();
    let m = model();

    let one = m.deconv(&image, "conv2", 5, None).unwrap();
    let core = deconvnet::deconv(&net, &trace, "conv2", 5, Unit::All).unwrap();
    assert_eq!(numbers(get(&one, "shape")), vec![28.0, 28.0]);
    assert_eq!(floats(get(&one, "data")), core.data());
    // The strength is the largest activation of pool2 (layer 6), channel 5.
    let pool2 = trace.outputs()[5].channel(5).unwrap();
    let strongest = pool2.iter().cloned().fold(f32::MIN, f32::max);
    assert_eq!(get(&one, "strength").as_f64(), Some(f64::from(strongest)));
    assert!(get(&one, "position").is_undefined());

    // "max" keeps the strongest unit and says where it is; "y,x" picks one unit.
    let max = m.deconv(&image, "conv1", 0, Some("max".into())).unwrap();
    let position = numbers(get(&max, "position"));
    let pool1 = trace.outputs()[2].channel(0).unwrap();
    let at = pool1
        .iter()
        .position(|&v| v == pool1.iter().cloned().fold(f32::MIN, f32::max))
        .unwrap();
    assert_eq!(position, vec![(at / 14) as f64, (at % 14) as f64]);
    let unit = m
        .deconv(&image, "conv1", 0, Some(format!("{},{}", at / 14, at % 14)))
        .unwrap();
    assert_eq!(floats(get(&unit, "data")), floats(get(&max, "data")));

    let all = m.deconv_all(&image).unwrap();
    assert_eq!(all.length(), 22);
    let order: Vec<(String, f64)> = all
        .iter()
        .map(|r| {
            (
                get(&r, "layer").as_string().unwrap(),
                get(&r, "channel").as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(order[0], ("conv1".to_string(), 0.0));
    assert_eq!(order[6], ("conv2".to_string(), 0.0));
    assert_eq!(order[21], ("conv2".to_string(), 15.0));
    assert_eq!(floats(get(&all.get(11), "data")), floats(get(&one, "data")));

    assert!(error_message(m.deconv(&image, "fc1", 0, None).unwrap_err()).contains("conv layer"));
    assert!(
        error_message(m.deconv(&image, "conv1", 6, None).unwrap_err()).contains("out of range")
    );
    assert!(error_message(
        m.deconv(&image, "conv1", 0, Some("14,0".into()))
            .unwrap_err()
    )
    .contains("outside"));
    assert!(error_message(
        m.deconv(&image, "conv1", 0, Some("middle".into()))
            .unwrap_err()
    )
    .contains("unit"));
}

#[wasm_bindgen_test]
fn attribute_runs_the_core_methods_and_reports_progress() {
    use convscope::explain::attribution::{self, Method, Options};
    let image = gallery_image(0);
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let input = net.image(image.clone()).unwrap();
    let m = model();

    // Gradient for class 3: the same numbers as the core.
    let options = js_sys::JSON::parse(r#"{"target": 3}"#).unwrap();
    let gradient = m.attribute(&image, "gradient", options, None).unwrap();
    let core = attribution::attribute(
        &net,
        &input,
        Method::Gradient,
        &Options {
            target: Some(3),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(numbers(get(&gradient, "shape")), vec![1.0, 28.0, 28.0]);
    assert_eq!(floats(get(&gradient, "data")), core.map.data());
    assert_eq!(get(&gradient, "target").as_f64(), Some(3.0));
    assert_eq!(get(&gradient, "signed").as_bool(), Some(true));

    // Integrated gradients with 8 steps: one progress call per path point, and the completeness gap.
    let calls = Function::new_with_args(
        "done, total",
        "this.calls = (this.calls || []); this.calls.push([done, total]);",
    );
    let recorder = Object::new();
    let bound = calls.bind0(&recorder);
    let options = js_sys::JSON::parse(r#"{"steps": 8}"#).unwrap();
    let ig = m
        .attribute(&image, "integrated-gradients", options, Some(bound))
        .unwrap();
    let recorded = Array::from(&get(&recorder, "calls"));
    let last = numbers(recorded.get(recorded.length() - 1));
    assert_eq!(last, vec![8.0, 8.0], "the last report is done = total");
    let gap = get(&ig, "completenessGap").as_f64().unwrap();
    let core = attribution::attribute(
        &net,
        &input,
        Method::IntegratedGradients,
        &Options {
            steps: 8,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(gap, f64::from(core.completeness_gap.unwrap()));

    // Grad-CAM is one [H, W] map, unsigned, and names its layer.
    let cam = m
        .attribute(&image, "grad-cam", JsValue::UNDEFINED, None)
        .unwrap();
    assert_eq!(numbers(get(&cam, "shape")), vec![28.0, 28.0]);
    assert_eq!(get(&cam, "signed").as_bool(), Some(false));
    assert_eq!(get(&cam, "camLayer").as_string().unwrap(), "relu2");

    // Bad method, bad options, a throwing callback: JS errors.
    assert!(error_message(
        m.attribute(&image, "lrp", JsValue::UNDEFINED, None)
            .unwrap_err()
    )
    .contains("unknown attribution method"));
    let typo = js_sys::JSON::parse(r#"{"stepz": 8}"#).unwrap();
    assert!(error_message(
        m.attribute(&image, "integrated-gradients", typo, None)
            .unwrap_err()
    )
    .contains("stepz"));
    let out_of_range = js_sys::JSON::parse(r#"{"target": 10}"#).unwrap();
    assert!(error_message(
        m.attribute(&image, "saliency", out_of_range, None)
            .unwrap_err()
    )
    .contains("out of range"));
    let throwing = Function::new_no_args("throw new Error('stop')");
    let options = js_sys::JSON::parse(r#"{"window": 14, "stride": 14}"#).unwrap();
    assert!(error_message(
        m.attribute(&image, "occlusion", options, Some(throwing))
            .unwrap_err()
    )
    .contains("progress callback"));
}
