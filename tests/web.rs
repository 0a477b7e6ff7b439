//! Tests of the JS boundary (`src/bindings.rs`) inside WebAssembly: the `Model` class built from manifest and
//! weight bytes, its results as JS objects and typed arrays, and bad input turning into JS `Error`s.
//!
//! `wasm-pack test --node` runs this binary in Node; `tests/web_browser.rs` includes this file under
//! `run_in_browser`, so `wasm-pack test --headless --chrome` runs the same tests in Chrome (each command skips
//! the other binary). Data: the random-init LeNet-5 fixture with its PyTorch logits for t10k images 0–4, which
//! are also the first five images of the page's gallery (`www/data/mnist-gallery-*`).
#![cfg(target_arch = "wasm32")]

// The photo generator of tests/photos.rs (which uses all of it; this file only a part).
#[path = "common/fnv.rs"]
mod fnv;
#[allow(dead_code)]
#[path = "common/photos.rs"]
mod photos;
#[allow(dead_code)]
#[path = "common/pictures.rs"]
mod pictures;

use convscope::bindings::Model;
use convscope::io::idx;
use convscope::io::image::{self, GrayImage};
use convscope::io::preprocess::preprocess_stages;
use convscope::model::network::Network;
use convscope::render::encode_png;
use fnv::fnv;
use js_sys::{Array, Float32Array, Float64Array, Function, Object, Reflect};
use photos::{photo_set, Condition, HELD_OUT_SEED};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const MANIFEST: &str = include_str!("data/torch-lenet-random.json");
const WEIGHTS: &[u8] = include_bytes!("data/torch-lenet-random.safetensors");
const TORCH_LOGITS: &str = include_str!("data/torch-lenet-random-logits.json");
const GALLERY_IMAGES: &[u8] = include_bytes!("../www/data/mnist-gallery-images.idx3.gz");
const GALLERY_LABELS: &[u8] = include_bytes!("../www/data/mnist-gallery-labels.idx1.gz");

fn model() -> Model {
    Model::load(MANIFEST.into(), js_u8(WEIGHTS)).unwrap()
}

/// A `Float32Array` holding `data`, as the page passes images.
fn js_f32(data: &[f32]) -> JsValue {
    Float32Array::from(data).into()
}

/// A `Uint8Array` holding `data`.
fn js_u8(data: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(data).into()
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
        let prediction = m.predict(js_f32(&image)).unwrap();
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
    let activations = model().activations(js_f32(&image)).unwrap();
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
    let image = model()
        .preprocess_rgba(js_u8(&rgba), w as f64, h as f64)
        .unwrap()
        .to_vec();
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

/// `{ shape, data }` of a stage as (shape, values).
fn stage(stages: &JsValue, key: &str) -> (Vec<f64>, Vec<f32>) {
    let map = get(stages, key);
    (numbers(get(&map, "shape")), floats(get(&map, "data")))
}

fn gray_map(image: &GrayImage) -> (Vec<f64>, Vec<f32>) {
    (
        vec![image.height as f64, image.width as f64],
        image.pixels.clone(),
    )
}

#[wasm_bindgen_test]
fn preprocessing_stages_of_a_photo_are_the_cores() {
    // A held-out photo of the combined condition (noise, shadow, blur, free placement, any pen and ink) of
    // a gallery digit, as the PNG file a user uploads and as the RGBA pixels of a canvas.
    let gallery = idx::parse_images(GALLERY_IMAGES).unwrap();
    let labels = idx::parse_labels(GALLERY_LABELS).unwrap();
    let photo = photo_set(&gallery, &labels, Condition::Combined, HELD_OUT_SEED, 1).remove(0);
    let png = encode_png(&photo.image).unwrap();
    let core = preprocess_stages(&image::decode(&png).unwrap(), 1, 28, 28).unwrap();
    let rgba: Vec<u8> = photo
        .image
        .data
        .chunks_exact(3)
        .flat_map(|rgb| [rgb[0], rgb[1], rgb[2], 255])
        .collect();
    let m = model();
    let (w, h) = (photo.image.width as f64, photo.image.height as f64);
    let from_file = m.preprocess_stages(js_u8(&png), None, None).unwrap();
    let from_canvas = m.preprocess_stages(js_u8(&rgba), Some(w), Some(h)).unwrap();
    for stages in [&from_file, &from_canvas] {
        assert_eq!(stage(stages, "grey"), gray_map(&core.grey));
        assert_eq!(stage(stages, "normalized"), gray_map(&core.normalized));
        assert_eq!(stage(stages, "mask"), gray_map(&core.mask));
        assert_eq!(stage(stages, "crop"), gray_map(&core.crop));
        assert_eq!(floats(get(stages, "input")), core.output.data());
    }
    // The photo is under 512 px (the working copy is itself); the crop's longer side is 20 of 28, its peak 1;
    // some ink is kept and some thresholded pixels (noise, shadow edge) are removed; the input is the file's.
    assert_eq!(stage(&from_file, "grey").0, vec![h, w]);
    let (crop_shape, crop) = stage(&from_file, "crop");
    assert_eq!(crop_shape.iter().cloned().fold(0.0, f64::max), 20.0);
    assert_eq!(crop.iter().cloned().fold(0.0f32, f32::max), 1.0);
    let mask = stage(&from_file, "mask").1;
    assert!(mask.contains(&1.0), "no kept ink");
    assert!(mask.iter().all(|&v| v == 0.0 || v == 0.5 || v == 1.0));
    let file_input = m.preprocess_file(js_u8(&png)).unwrap().to_vec();
    assert_eq!(floats(get(&from_file, "input")), file_input);

    let e = error_message(
        m.preprocess_stages(js_u8(&rgba), Some(w), None)
            .unwrap_err(),
    );
    assert!(
        e.contains("width and height") && e.contains("give both"),
        "{e}"
    );
    let e = error_message(
        m.preprocess_stages(js_u8(&rgba), Some(f64::NAN), Some(h))
            .unwrap_err(),
    );
    assert!(e.contains("width") && e.contains("NaN"), "{e}");
    let e = error_message(
        m.preprocess_stages(js_u8(&rgba[4..]), Some(w), Some(h))
            .unwrap_err(),
    );
    assert!(e.contains("RGBA"), "{e}");
    let blank = m.preprocess_stages(js_u8(&[255u8; 16 * 16 * 4]), Some(16.0), Some(16.0));
    assert!(error_message(blank.unwrap_err()).contains("blank"));
    let e = error_message(
        m.preprocess_stages(js_f32(&[0.5; 4]), None, None)
            .unwrap_err(),
    );
    assert!(e.contains("Uint8Array"), "{e}");
}

#[wasm_bindgen_test]
fn bad_input_is_a_js_error_not_a_panic() {
    assert!(error_message(
        Model::load(MANIFEST.into(), js_u8(b"not safetensors"))
            .err()
            .unwrap()
    )
    .contains("bad weights"));
    assert!(
        error_message(Model::load("{".into(), js_u8(WEIGHTS)).err().unwrap()).contains("manifest")
    );
    let m = model();
    assert!(error_message(m.predict(js_f32(&[0.5; 10])).unwrap_err()).contains("shape mismatch"));
    let mut nan = vec![0.0f32; 784];
    nan[3] = f32::NAN;
    assert!(error_message(m.activations(js_f32(&nan)).unwrap_err()).contains("non-finite"));
    assert!(error_message(
        m.preprocess_rgba(js_u8(&[0u8; 16 * 16 * 4]), 16.0, 16.0)
            .unwrap_err()
    )
    .contains("blank"));
    assert!(error_message(
        m.preprocess_rgba(js_u8(&[0u8; 10]), 16.0, 16.0)
            .unwrap_err()
    )
    .contains("RGBA"));
    assert!(
        error_message(m.preprocess_file(js_u8(b"GIF89a....")).unwrap_err()).contains("bad image")
    );
    // The model still works after all those errors.
    assert!(m.predict(js_f32(&gallery_image(1))).is_ok());
}

#[wasm_bindgen_test]
fn deconv_returns_the_core_reconstruction_and_its_strength() {
    use convscope::explain::deconvnet::{self, Unit};
    let image = gallery_image(2);
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let trace = net.forward(&net.image(image.clone()).unwrap()).unwrap();
    let m = model();

    let one = m.deconv(js_f32(&image), "conv2", 5.0, None).unwrap();
    let core = deconvnet::deconv(&net, &trace, "conv2", 5, Unit::All).unwrap();
    assert_eq!(numbers(get(&one, "shape")), vec![28.0, 28.0]);
    assert_eq!(floats(get(&one, "data")), core.data());
    // The strength is the largest activation of pool2 (layer 6), channel 5.
    let pool2 = trace.outputs()[5].channel(5).unwrap();
    let strongest = pool2.iter().cloned().fold(f32::MIN, f32::max);
    assert_eq!(get(&one, "strength").as_f64(), Some(f64::from(strongest)));
    assert!(get(&one, "position").is_undefined());

    // "max" keeps the strongest unit and says where it is; "y,x" picks one unit.
    let max = m
        .deconv(js_f32(&image), "conv1", 0.0, Some("max".into()))
        .unwrap();
    let position = numbers(get(&max, "position"));
    let pool1 = trace.outputs()[2].channel(0).unwrap();
    let at = pool1
        .iter()
        .position(|&v| v == pool1.iter().cloned().fold(f32::MIN, f32::max))
        .unwrap();
    assert_eq!(position, vec![(at / 14) as f64, (at % 14) as f64]);
    let unit = m
        .deconv(
            js_f32(&image),
            "conv1",
            0.0,
            Some(format!("{},{}", at / 14, at % 14)),
        )
        .unwrap();
    assert_eq!(floats(get(&unit, "data")), floats(get(&max, "data")));

    let all = m.deconv_all(js_f32(&image)).unwrap();
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

    assert!(
        error_message(m.deconv(js_f32(&image), "fc1", 0.0, None).unwrap_err())
            .contains("conv layer")
    );
    assert!(
        error_message(m.deconv(js_f32(&image), "conv1", 6.0, None).unwrap_err())
            .contains("out of range")
    );
    assert!(error_message(
        m.deconv(js_f32(&image), "conv1", 0.0, Some("14,0".into()))
            .unwrap_err()
    )
    .contains("outside"));
    assert!(error_message(
        m.deconv(js_f32(&image), "conv1", 0.0, Some("middle".into()))
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
    let gradient = m
        .attribute(js_f32(&image), "gradient", options, None)
        .unwrap();
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
        .attribute(js_f32(&image), "integrated-gradients", options, Some(bound))
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
        .attribute(js_f32(&image), "grad-cam", JsValue::UNDEFINED, None)
        .unwrap();
    assert_eq!(numbers(get(&cam, "shape")), vec![28.0, 28.0]);
    assert_eq!(get(&cam, "signed").as_bool(), Some(false));
    assert_eq!(get(&cam, "camLayer").as_string().unwrap(), "relu2");

    // Bad method, bad options, a throwing callback: JS errors.
    assert!(error_message(
        m.attribute(js_f32(&image), "lrp", JsValue::UNDEFINED, None)
            .unwrap_err()
    )
    .contains("unknown attribution method"));
    let typo = js_sys::JSON::parse(r#"{"stepz": 8}"#).unwrap();
    assert!(error_message(
        m.attribute(js_f32(&image), "integrated-gradients", typo, None)
            .unwrap_err()
    )
    .contains("stepz"));
    let out_of_range = js_sys::JSON::parse(r#"{"target": 10}"#).unwrap();
    assert!(error_message(
        m.attribute(js_f32(&image), "saliency", out_of_range, None)
            .unwrap_err()
    )
    .contains("out of range"));
    let throwing = Function::new_no_args("throw new Error('stop')");
    let options = js_sys::JSON::parse(r#"{"window": 14, "stride": 14}"#).unwrap();
    assert!(error_message(
        m.attribute(js_f32(&image), "occlusion", options, Some(throwing))
            .unwrap_err()
    )
    .contains("progress callback"));
}

#[wasm_bindgen_test]
fn the_catalogue_lists_every_technique_with_typed_options() {
    use convscope::bindings::catalogue;
    let all = Array::from(&catalogue().unwrap());
    let ids: Vec<String> = all
        .iter()
        .map(|t| get(&t, "id").as_string().unwrap())
        .collect();
    let core: Vec<&str> = convscope::catalogue::techniques()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, core);
    let ig = all
        .iter()
        .find(|t| get(t, "id").as_string().as_deref() == Some("integrated-gradients"))
        .unwrap();
    assert_eq!(get(&ig, "longRunning").as_bool(), Some(true));
    assert_eq!(get(&ig, "family").as_string().unwrap(), "attribution");
    let options = Array::from(&get(&ig, "options"));
    let steps = options
        .iter()
        .find(|o| get(o, "key").as_string().as_deref() == Some("steps"))
        .unwrap();
    assert_eq!(get(&steps, "type").as_string().unwrap(), "int");
    assert_eq!(get(&steps, "default").as_f64(), Some(50.0));
    assert_eq!(get(&steps, "min").as_f64(), Some(2.0));
    // A model's catalogue is the same list.
    assert_eq!(
        Array::from(&model().techniques().unwrap()).length(),
        all.length()
    );
}

#[wasm_bindgen_test]
fn colormaps_are_the_rust_tables() {
    use convscope::render::colormap::Colormap;
    let maps = convscope::bindings::colormaps().unwrap();
    assert_eq!(maps.length() as usize, Colormap::ALL.len());
    for (map, colormap) in maps.iter().zip(Colormap::ALL) {
        assert_eq!(get(&map, "name").as_string().unwrap(), colormap.name());
        let lut = get(&map, "lut")
            .dyn_into::<js_sys::Uint8Array>()
            .unwrap()
            .to_vec();
        assert_eq!(lut.len(), 768);
        assert_eq!(&lut[..3], &colormap.rgb(0.0));
        assert_eq!(&lut[765..], &colormap.rgb(1.0));
        assert_eq!(&lut[3 * 128..3 * 129], &colormap.rgb(128.0 / 255.0));
    }
}

#[wasm_bindgen_test]
fn decode_idx_reads_the_gallery_and_refuses_junk() {
    let decoded = convscope::bindings::decode_idx(js_u8(GALLERY_IMAGES)).unwrap();
    let dims = numbers(get(&decoded, "dims"));
    let core = idx::parse_images(GALLERY_IMAGES).unwrap();
    assert_eq!(dims, vec![core.count as f64, 28.0, 28.0]);
    let data = get(&decoded, "data")
        .dyn_into::<js_sys::Uint8Array>()
        .unwrap()
        .to_vec();
    assert_eq!(data, core.pixels);
    let labels = convscope::bindings::decode_idx(js_u8(GALLERY_LABELS)).unwrap();
    assert_eq!(numbers(get(&labels, "dims")), vec![core.count as f64]);
    let e = error_message(convscope::bindings::decode_idx(js_u8(b"root:x:0:0")).unwrap_err());
    assert!(e.contains("bad IDX file") && !e.contains("root"), "{e}");
    let e = error_message(convscope::bindings::decode_idx(JsValue::from(3)).unwrap_err());
    assert!(e.contains("Uint8Array"), "{e}");
}

#[wasm_bindgen_test]
fn manifest_files_are_checked_by_the_one_resolver() {
    use convscope::bindings::manifest_files;
    let files = manifest_files(MANIFEST.into()).unwrap();
    assert_eq!(
        get(&files, "weights").as_string().unwrap(),
        "torch-lenet-random.safetensors"
    );
    assert!(get(&files, "monitor").is_undefined());
    let with = |weights: &str| {
        let mut manifest: serde_json::Value = serde_json::from_str(MANIFEST).unwrap();
        manifest["weights"] = serde_json::from_str(weights).unwrap();
        manifest_files(manifest.to_string().into())
    };
    for (weights, needle) in [
        (r#""../../etc/passwd""#, "no .."),
        (r#""/etc/passwd""#, "relative"),
        (r#""https://evil.example/w.safetensors""#, "URL scheme"),
        (r#"{"file": "w.safetensors"}"#, "manifest"),
    ] {
        let e = error_message(with(weights).unwrap_err());
        assert!(e.contains(needle), "{weights}: {e}");
    }
    let mut manifest: serde_json::Value = serde_json::from_str(MANIFEST).unwrap();
    manifest["monitor"] = serde_json::json!({"file": "m.monitor", "layer": "fc2"});
    let files = manifest_files(format!("\u{feff}{manifest}").into()).unwrap();
    assert_eq!(get(&files, "monitor").as_string().unwrap(), "m.monitor");
}

/// Issue "Hardening I", scope 4: every argument checked before it is copied, numbers refused instead of
/// wrapped, and the model still usable afterwards.
#[wasm_bindgen_test]
fn hostile_arguments_are_errors_and_the_model_survives() {
    let m = model();
    let image = gallery_image(0);
    let before = floats(get(&m.predict(js_f32(&image)).unwrap(), "logits"));
    let fake = js_sys::JSON::parse(r#"{"length": 300000000}"#).unwrap();
    let e = error_message(m.predict(fake).unwrap_err());
    assert!(e.contains("Float32Array") && e.contains("Object"), "{e}");
    // The reproducer that took 72 s and 2.5 GB before: refused before anything is copied.
    let fake = js_sys::JSON::parse(r#"{"length": 1000000000}"#).unwrap();
    let e = error_message(m.preprocess_file(fake).unwrap_err());
    assert!(e.contains("must be a Uint8Array, got an Object"), "{e}");
    let e = error_message(m.predict(js_f32(&vec![0.0; 785])).unwrap_err());
    assert!(e.contains("shape mismatch") && e.contains("785"), "{e}");
    let e = error_message(
        m.predict(js_sys::Uint8Array::new_with_length(784).into())
            .unwrap_err(),
    );
    assert!(e.contains("Float32Array"), "{e}");
    for (channel, shown) in [
        (4294967296.0, "4294967296"),
        (f64::NAN, "NaN"),
        (1.5, "1.5"),
    ] {
        let e = error_message(
            m.deconv(js_f32(&image), "conv1", channel, None)
                .unwrap_err(),
        );
        assert!(e.contains("channel") && e.contains(shown), "{channel}: {e}");
    }
    for (width, shown) in [(4294967297.0, "4294967297"), (-28.0, "-28")] {
        let rgba = js_u8(&[0u8; 64]);
        let e = error_message(m.preprocess_rgba(rgba, width, 4.0).unwrap_err());
        assert!(e.contains("width") && e.contains(shown), "{width}: {e}");
    }
    let target = Object::new();
    Reflect::set(&target, &"target".into(), &JsValue::from_f64(f64::NAN)).unwrap();
    let e = error_message(
        m.attribute(js_f32(&image), "gradient", target.into(), None)
            .unwrap_err(),
    );
    assert!(e.contains("target") && e.contains("NaN"), "{e}");
    let steps = js_sys::JSON::parse(r#"{"steps": 8}"#).unwrap();
    let e = error_message(
        m.attribute(js_f32(&image), "gradient", steps, None)
            .unwrap_err(),
    );
    assert!(
        e.contains("option steps: gradient has no such option"),
        "{e}"
    );
    let e = error_message(m.monitor_check(js_f32(&image), None).unwrap_err());
    assert!(e.contains("loadMonitor"), "{e}");
    // Still usable: the same prediction as before the errors.
    let after = floats(get(&m.predict(js_f32(&image)).unwrap(), "logits"));
    assert_eq!(after, before);
}

#[wasm_bindgen_test]
fn jobs_run_step_by_step_to_the_one_shot_result() {
    let m = model();
    let image = gallery_image(4);
    let options = || js_sys::JSON::parse(r#"{"steps": 20, "target": 2}"#).unwrap();
    let whole = m
        .attribute(js_f32(&image), "integrated-gradients", options(), None)
        .unwrap();
    let mut job = m
        .start(
            "integrated-gradients",
            js_f32(&image),
            options(),
            JsValue::UNDEFINED,
        )
        .unwrap();
    let mut progress = Vec::new();
    let result = loop {
        let step = job.step(8.0).unwrap();
        progress.push(get(&step, "progress").as_f64().unwrap());
        assert_eq!(
            get(&step, "kind").as_string().as_deref(),
            Some("signed-map")
        );
        assert!(get(&step, "preview").is_undefined());
        if get(&step, "done").as_bool() == Some(true) {
            break get(&step, "result");
        }
    };
    assert_eq!(progress, vec![0.4, 0.8, 1.0]);
    assert_eq!(floats(get(&result, "data")), floats(get(&whole, "data")));
    assert_eq!(
        get(&result, "completenessGap").as_f64(),
        get(&whole, "completenessGap").as_f64()
    );
    assert!(error_message(job.step(1.5).unwrap_err()).contains("1.5"));
    let e = m.start(
        "grad-cam",
        js_f32(&image),
        js_sys::JSON::parse(r#"{"steps": 2}"#).unwrap(),
        JsValue::UNDEFINED,
    );
    assert!(error_message(e.err().unwrap()).contains("grad-cam has no such option"));
    let e = m.start(
        "occlusion",
        JsValue::NULL,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    );
    assert!(error_message(e.err().unwrap()).contains("occlusion works on an input image"));
    let e = m.start(
        "deconv",
        js_f32(&image),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    );
    assert!(error_message(e.err().unwrap()).contains("deconv does not run step by step"));
}

/// The manifest fixture with `edit` applied to its parsed JSON.
fn edited_manifest(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut manifest: serde_json::Value = serde_json::from_str(MANIFEST).unwrap();
    edit(&mut manifest);
    manifest.to_string()
}

/// The message of the error that loading `manifest` with the fixture's weights gives.
fn load_error(manifest: String) -> String {
    match Model::load(manifest.into(), js_u8(WEIGHTS)) {
        Ok(_) => panic!("the manifest loaded"),
        Err(e) => error_message(e),
    }
}

#[wasm_bindgen_test]
fn hostile_manifests_are_errors_in_32_bit_wasm() {
    // Paddings whose padded sizes wrap a 32-bit usize: a manifest error, not a trap or wrong logits.
    for padding in [1u64 << 30, 1 << 31, 1 << 32, u64::MAX] {
        let manifest = edited_manifest(|m| m["layers"][0]["padding"] = padding.into());
        let e = load_error(manifest);
        assert!(e.contains("bad model manifest"), "padding {padding}: {e}");
    }
    // A numeric layer type is refused, not read as the sixth type.
    let manifest = edited_manifest(|m| m["layers"][1]["type"] = 5.into());
    let e = load_error(manifest);
    assert!(e.contains("bad model manifest"), "{e}");
    // A manifest that starts with a UTF-8 byte-order mark loads and predicts as without it.
    let with_bom = Model::load(format!("\u{feff}{MANIFEST}").into(), js_u8(WEIGHTS)).unwrap();
    let image = js_f32(&gallery_image(1));
    assert_eq!(
        floats(get(&with_bom.predict(image.clone()).unwrap(), "logits")),
        floats(get(&model().predict(image).unwrap(), "logits"))
    );
}

/// Steps a dataset job to its end; returns the last step's `result` and how many steps had a preview.
fn run_task(task: &mut convscope::bindings::Job, budget: f64) -> (JsValue, usize) {
    let mut previews = 0;
    loop {
        let step = task.step(budget).unwrap();
        if !get(&step, "preview").is_undefined() {
            previews += 1;
        }
        if get(&step, "done").as_bool().unwrap() {
            return (get(&step, "result"), previews);
        }
    }
}

#[wasm_bindgen_test]
fn dataset_views_equal_the_core() {
    use convscope::analysis::features::layer_features;
    use convscope::bindings::Dataset;
    use convscope::explain::dataset::embedding::{EmbeddingRun, Method};
    use convscope::explain::dataset::neighbours::{nearest, Metric};
    use convscope::explain::dataset::patches::PatchSearch;
    let model = model();
    let mut dataset =
        Dataset::from_idx(&model, js_u8(GALLERY_IMAGES), js_u8(GALLERY_LABELS)).unwrap();
    // The whole gallery (340 images: 300 class-balanced, then the model's mistakes and near-misses).
    let count = idx::parse_images(GALLERY_IMAGES).unwrap().count;
    assert_eq!(count, 340);
    assert_eq!(dataset.count(), count as f64);
    let layers: Vec<String> = ["pixels", "pool2", "fc2", "fc3"].map(String::from).to_vec();
    let mut calls = 0;
    while get(
        &dataset.extract(&model, layers.clone(), 64.0).unwrap(),
        "done",
    )
    .as_f64()
        != Some(count as f64)
    {
        calls += 1;
    }
    assert_eq!(calls, count.div_ceil(64) - 1);
    assert!(dataset.has_features("fc2") && !dataset.has_features("fc1"));
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let images = idx::parse_images(GALLERY_IMAGES).unwrap();
    let fc2 = layer_features(&net, &images, "fc2", count).unwrap();

    // Neighbours of gallery image 3 by fc2 features, and by pixels.
    let options =
        js_sys::JSON::parse(r#"{"layer": "fc2", "metric": "euclidean", "top": 5}"#).unwrap();
    let got = dataset
        .neighbours(&model, js_f32(&gallery_image(3)), options)
        .unwrap();
    let trace = net.forward(&images.image(3).unwrap()).unwrap();
    let query = trace
        .output(net.layer_index("fc2").unwrap())
        .unwrap()
        .data()
        .to_vec();
    let want = nearest(fc2.view(), &query, Metric::Euclidean, 5).unwrap();
    let list = Array::from(&get(&got, "neighbours"));
    assert_eq!(list.length(), 5);
    for (n, w) in list.iter().zip(&want) {
        assert_eq!(get(&n, "index").as_f64(), Some(w.index as f64));
        assert_eq!(get(&n, "distance").as_f64(), Some(w.distance));
    }
    assert_eq!(
        get(&Array::from(&get(&got, "pixels")).get(0), "index").as_f64(),
        Some(3.0)
    );

    // A t-SNE map in steps, with previews, equals the core's run; PCA places a point exactly.
    let options =
        js_sys::JSON::parse(r#"{"layer": "fc2", "perplexity": 10, "iterations": 260}"#).unwrap();
    let mut task = dataset.start(&model, "tsne", options).unwrap();
    let first = task.step(50.0).unwrap();
    assert_eq!(get(&first, "kind").as_string().as_deref(), Some("scatter"));
    assert_eq!(get(&first, "passes").as_f64(), Some(50.0));
    let (map, previews) = run_task(&mut task, 50.0);
    assert_eq!(previews, 4);
    let values = Method::Tsne
        .technique()
        .values_from_json(&serde_json::json!({"layer": "fc2", "perplexity": 10, "iterations": 260}))
        .unwrap();
    let mut run = EmbeddingRun::new(Method::Tsne, fc2.view(), &values).unwrap();
    run.step(260);
    assert_eq!(
        floats(get(&map, "points")),
        run.points().iter().copied().collect::<Vec<_>>()
    );
    assert_eq!(get(&map, "klDivergence").as_f64(), run.kl_divergence());
    let mut pca = dataset
        .start(
            &model,
            "pca",
            js_sys::JSON::parse(r#"{"layer": "fc2"}"#).unwrap(),
        )
        .unwrap();
    let (map, _) = run_task(&mut pca, 1.0);
    let points = floats(get(&map, "points"));
    assert_eq!(
        &floats(pca.place(js_f32(&gallery_image(7))).unwrap().into())[..],
        &points[14..16]
    );
    assert_eq!(numbers(get(&map, "explainedVarianceRatio")).len(), 20);

    // Patches of conv2 (pool2's channels), top 3, equal the core's search; crops are 16 × 16.
    let mut patches = dataset
        .start(
            &model,
            "patches",
            js_sys::JSON::parse(r#"{"layer": "conv2", "top": 3}"#).unwrap(),
        )
        .unwrap();
    let (result, _) = run_task(&mut patches, 100.0);
    let mut search = PatchSearch::new(&net, "conv2", 3, count).unwrap();
    search.step(&net, &images, count).unwrap();
    let units = Array::from(&get(&result, "units"));
    assert_eq!(units.length(), 16);
    for (unit, want) in units.iter().zip(search.result()) {
        let got: Vec<f64> = Array::from(&unit)
            .iter()
            .map(|p| get(&p, "index").as_f64().unwrap())
            .collect();
        assert_eq!(got, want.iter().map(|p| p.index as f64).collect::<Vec<_>>());
    }
    let crops = patches.crops(2.0).unwrap();
    assert_eq!(get(&crops, "size").as_f64(), Some(16.0));
    assert_eq!(floats(get(&crops, "crops")).len(), 3 * 256);
    assert!(patches.place(js_f32(&gallery_image(0))).is_err());
    assert!(pca.crops(0.0).is_err());
    let e = model.start(
        "umap",
        JsValue::NULL,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    );
    assert!(error_message(e.err().unwrap()).contains("umap works on a data set"));
}

#[wasm_bindgen_test]
fn a_dataset_over_the_page_cap_or_of_another_shape_is_refused() {
    use convscope::bindings::{Dataset, MAX_PAGE_IMAGES};
    let model = model();
    let big = idx::IdxImages {
        count: MAX_PAGE_IMAGES + 1,
        height: 28,
        width: 28,
        pixels: vec![0; (MAX_PAGE_IMAGES + 1) * 784],
    };
    let e = error_message(
        Dataset::from_idx(
            &model,
            js_u8(&idx::encode_images(&big).unwrap()),
            JsValue::NULL,
        )
        .err()
        .unwrap(),
    );
    assert!(e.contains("10001") && e.contains("2 to 10000"), "{e}");
    let small = idx::IdxImages {
        count: 3,
        height: 20,
        width: 28,
        pixels: vec![0; 3 * 560],
    };
    let e = error_message(
        Dataset::from_idx(
            &model,
            js_u8(&idx::encode_images(&small).unwrap()),
            JsValue::NULL,
        )
        .err()
        .unwrap(),
    );
    assert!(e.contains("[1, 20, 28]"), "{e}");
    let dataset = Dataset::from_idx(&model, js_u8(GALLERY_IMAGES), JsValue::NULL).unwrap();
    let e = error_message(
        dataset
            .start(
                &model,
                "pca",
                js_sys::JSON::parse(r#"{"layer": "fc2"}"#).unwrap(),
            )
            .err()
            .unwrap(),
    );
    assert!(e.contains("dataset.extract first"), "{e}");
    assert!(dataset.labels().is_none());
}

#[wasm_bindgen_test]
fn a_users_png_pictures_are_the_idx_set_they_were_written_from() {
    use convscope::bindings::{Dataset, MAX_PAGE_IMAGES};
    let model = model();
    let set = idx::parse_images(GALLERY_IMAGES).unwrap();
    let labels = idx::parse_labels(GALLERY_LABELS).unwrap();
    let n = 40;
    let pngs: Vec<js_sys::Uint8Array> = (0..n)
        .map(|i| {
            js_sys::Uint8Array::from(
                &pictures::gray_png(28, 28, &set.pixels[i * 784..(i + 1) * 784])[..],
            )
        })
        .collect();
    let names: Vec<String> = (0..n).map(|i| format!("{}_{i}.png", labels[i])).collect();
    let dataset =
        Dataset::from_pictures(&model, pngs.clone(), names.clone(), "names".into()).unwrap();
    assert_eq!(dataset.count(), n as f64);
    assert_eq!(dataset.size(), [28, 28]);
    assert_eq!(dataset.pixels().to_vec(), &set.pixels[..n * 784]);
    assert_eq!(dataset.labels().unwrap().to_vec(), &labels[..n]);
    let with_idx = Dataset::from_pictures(
        &model,
        pngs.clone(),
        names.clone(),
        js_u8(&idx::encode_labels(&labels[..n]).unwrap()),
    )
    .unwrap();
    assert_eq!(with_idx.labels().unwrap().to_vec(), &labels[..n]);
    assert!(
        Dataset::from_pictures(&model, pngs.clone(), names.clone(), JsValue::NULL)
            .unwrap()
            .labels()
            .is_none()
    );
    // Hostile: labels of another count, names of another count, a truncated picture, too many pictures.
    let message = |r: Result<Dataset, wasm_bindgen::JsError>| error_message(r.err().unwrap());
    let e = message(Dataset::from_pictures(
        &model,
        pngs.clone(),
        names.clone(),
        js_u8(&idx::encode_labels(&labels[..n - 1]).unwrap()),
    ));
    assert!(e.contains("labels (one per image)"), "{e}");
    let e = message(Dataset::from_pictures(
        &model,
        pngs.clone(),
        names[1..].to_vec(),
        JsValue::NULL,
    ));
    assert!(e.contains("picture names"), "{e}");
    let mut cut = pngs.clone();
    cut[3] = pngs[3].subarray(0, 50);
    let e = message(Dataset::from_pictures(
        &model,
        cut,
        names.clone(),
        JsValue::NULL,
    ));
    assert!(e.starts_with(&format!("bad image: {}: ", names[3])), "{e}");
    let e = message(Dataset::from_pictures(
        &model,
        vec![js_sys::Uint8Array::new_with_length(0); MAX_PAGE_IMAGES + 1],
        vec![String::new(); MAX_PAGE_IMAGES + 1],
        JsValue::NULL,
    ));
    assert!(e.contains("10001") && e.contains("2 to 10000"), "{e}");
    let e = message(Dataset::from_pictures(
        &model,
        Vec::new(),
        Vec::new(),
        JsValue::NULL,
    ));
    assert!(e.contains("1 to 10000"), "{e}");
}

const MNIST_MANIFEST: &str = include_str!("../www/models/lenet5-mnist.json");
const MNIST_WEIGHTS: &[u8] = include_bytes!("../www/models/lenet5-mnist.safetensors");
/// The native class image of class 3 (`tests/data/README.md` has its command).
const FEATUREVIZ_PIN: &str = include_str!("data/featureviz-pin.json");

fn mnist() -> Model {
    Model::load(MNIST_MANIFEST.into(), js_u8(MNIST_WEIGHTS)).unwrap()
}

fn options(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

/// Image `i` of a `Pictures` object.
fn picture(pictures: &JsValue, i: u32) -> JsValue {
    Array::from(&get(pictures, "images")).get(i)
}

#[wasm_bindgen_test]
fn a_class_image_in_wasm_is_the_native_one_bit_for_bit() {
    let pin: serde_json::Value = serde_json::from_str(FEATUREVIZ_PIN).unwrap();
    let start = FEATUREVIZ_PIN.find(r#""data":["#).unwrap() + 8;
    let end = start + FEATUREVIZ_PIN[start..].find(']').unwrap();
    let native: Vec<u32> = FEATUREVIZ_PIN[start..end]
        .split(',')
        .map(|v| v.parse::<f32>().unwrap().to_bits())
        .collect();
    let m = mnist();
    let o = r#"{"objective": "class:3", "param": "pixel", "rotate": 0, "blurEvery": 0, "steps": 64, "seed": 2}"#;
    let result = m.visualize(options(o)).unwrap();
    let image = floats(get(&picture(&result, 0), "data"));
    assert_eq!(
        image.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        native
    );
    assert_eq!(
        get(&picture(&result, 0), "objective").as_f64(),
        pin["objective"].as_f64()
    );
    assert_eq!(
        numbers(get(&picture(&result, 0), "shape")),
        vec![1.0, 28.0, 28.0]
    );
}

#[wasm_bindgen_test]
fn featureviz_jobs_preview_every_step_and_end_at_the_one_shot_result() {
    let m = mnist();
    // The default class image of class 3 (256 Fourier steps with every prior), step by step.
    let o = r#"{"objective": "class:3", "seed": 4}"#;
    let mut job = m
        .start("visualize", JsValue::NULL, options(o), JsValue::UNDEFINED)
        .unwrap();
    let (mut previews, mut last) = (0, 0.0);
    let result = loop {
        let step = job.step(40.0).unwrap();
        assert_eq!(get(&step, "kind").as_string().as_deref(), Some("images"));
        let progress = get(&step, "progress").as_f64().unwrap();
        assert!(progress > last, "{progress} after {last}");
        last = progress;
        if get(&step, "done").as_bool() == Some(true) {
            break get(&step, "result");
        }
        assert_eq!(
            floats(get(&picture(&get(&step, "preview"), 0), "data")).len(),
            784
        );
        previews += 1;
    };
    assert_eq!(previews, 6);
    let whole = m.visualize(options(o)).unwrap();
    let image = floats(get(&picture(&result, 0), "data"));
    assert_eq!(image, floats(get(&picture(&whole, 0), "data")));
    let prediction = m.predict(js_f32(&image)).unwrap();
    let probs = floats(get(&prediction, "probs"));
    assert!(probs[3] >= 0.99, "class 3 image: p = {}", probs[3]);
    // An atlas fills its cells one by one: relu1 has six.
    let mut atlas = m
        .start(
            "atlas",
            JsValue::NULL,
            options(r#"{"layer": "relu1", "steps": 4}"#),
            JsValue::UNDEFINED,
        )
        .unwrap();
    let mut cells = Vec::new();
    loop {
        let step = atlas.step(3.0).unwrap();
        let key = if get(&step, "done").as_bool() == Some(true) {
            "result"
        } else {
            "preview"
        };
        cells.push(Array::from(&get(&get(&step, key), "images")).length());
        if key == "result" {
            break;
        }
    }
    assert_eq!(cells, [1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6]);
}

#[wasm_bindgen_test]
fn dream_and_invert_work_on_the_input_and_check_their_arguments() {
    let m = mnist();
    let digit = gallery_image(0);
    let dream = m.dream(js_f32(&digit), options(r#"{"steps": 4}"#)).unwrap();
    assert_eq!(
        numbers(get(&picture(&dream, 0), "shape")),
        vec![1.0, 55.0, 55.0]
    );
    let inverted = m
        .invert(
            js_f32(&digit),
            options(r#"{"layer": "conv1", "steps": 60}"#),
        )
        .unwrap();
    let x = floats(get(&picture(&inverted, 0), "data"));
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (mx, md) = (mean(&x), mean(&digit));
    let cov: f32 = x.iter().zip(&digit).map(|(a, b)| (a - mx) * (b - md)).sum();
    let var = |v: &[f32], m: f32| v.iter().map(|a| (a - m).powi(2)).sum::<f32>();
    let r = cov / (var(&x, mx) * var(&digit, md)).sqrt();
    assert!(r > 0.9, "conv1 inversion: pixel correlation {r}");
    for (e, needle) in [
        (
            m.visualize(options(r#"{"objective": "class:3", "steps": 1.5}"#))
                .unwrap_err(),
            "whole number",
        ),
        (
            m.visualize(options(r#"{"objective": "class:3", "seed": -1}"#))
                .unwrap_err(),
            "whole number",
        ),
        (
            m.visualize(options(r#"{"objective": "class:3", "negative": "yes"}"#))
                .unwrap_err(),
            "true or false",
        ),
        (
            m.visualize(options(r#"{"objective": "class:3", "iterations": 5}"#))
                .unwrap_err(),
            "visualize has no such option",
        ),
        (
            m.visualize(JsValue::UNDEFINED).unwrap_err(),
            "visualize needs an objective",
        ),
        (
            m.invert(js_f32(&digit), options("{}")).unwrap_err(),
            "invert needs the layer",
        ),
        (
            m.dream(js_f32(&[0.5; 3]), JsValue::UNDEFINED).unwrap_err(),
            "input image",
        ),
        (
            m.atlas(options(r#"{"layer": "conv7"}"#)).unwrap_err(),
            "conv7",
        ),
    ] {
        let e = error_message(e);
        assert!(e.contains(needle), "{needle}: {e}");
    }
    let e = m.start(
        "visualize",
        js_f32(&digit),
        options(r#"{"objective": "class:1"}"#),
        JsValue::UNDEFINED,
    );
    assert!(error_message(e.err().unwrap()).contains("visualize starts from seeded noise"));
}

/// The response map, the orderings and the weight gradients in wasm: each binding equals the core called in
/// the same wasm instance, and the core in wasm equals the native one (`tests/data/nrm-pin.json`, written by
/// `cargo test --test nrm -- --ignored write_pin`): bit for bit for the weight gradient and the k-means order,
/// the t-SNE layout to 1e-6.
#[wasm_bindgen_test]
fn response_maps_orderings_and_weight_gradients_equal_the_core_and_native() {
    use convscope::bindings::{ResponseMap, ResponseMapTraining};
    use convscope::explain::nrm::generate::{GenerateOptions, Interpolation};
    use convscope::explain::volume::order::{order, By, Over};
    use convscope::explain::volume::weight_gradient::weight_gradient;
    let pin: serde_json::Value = serde_json::from_str(include_str!("data/nrm-pin.json")).unwrap();
    let model = model();
    let net = Network::from_bytes(MANIFEST, WEIGHTS).unwrap();
    let options = js_sys::JSON::parse(
        r#"{"layers": ["conv2", "fc3"], "count": 300, "perplexity": 10, "iterations": 300, "seed": 1}"#,
    )
    .unwrap();
    let mut training = ResponseMapTraining::new(&model, js_u8(GALLERY_IMAGES), options).unwrap();
    let mut steps = 0;
    while get(&training.step(100.0).unwrap(), "done").as_bool() != Some(true) {
        steps += 1;
    }
    assert_eq!(steps, 5, "300 images and 300 iterations, 100 units a step");
    let map = training.finish().unwrap();
    assert!(training.finish().is_err());
    let core: convscope::explain::nrm::ResponseMap =
        serde_json::from_str(&map.to_json().unwrap()).unwrap();
    let layout: Vec<f64> = core
        .layout
        .iter()
        .flatten()
        .map(|&v| f64::from(v))
        .collect();
    let pinned: Vec<f64> = pin["layout"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    assert_eq!(layout.len(), pinned.len());
    let worst = layout
        .iter()
        .zip(&pinned)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= 1e-6,
        "the wasm layout is {worst} from the native one"
    );
    assert_eq!(floats(map.layout().into()).len(), layout.len());

    // Generating: the binding (size [width, height]) equals the core's map of the same file.
    let reread = ResponseMap::from_json(map.to_json().unwrap().into()).unwrap();
    let options =
        js_sys::JSON::parse(r#"{"method": "linear", "size": [30, 20], "circle": true}"#).unwrap();
    let got = reread
        .generate(&model, js_f32(&gallery_image(4)), options)
        .unwrap();
    assert_eq!(
        (get(&got, "width").as_f64(), get(&got, "height").as_f64()),
        (Some(30.0), Some(20.0))
    );
    let options = GenerateOptions {
        method: Interpolation::Linear,
        height: 20,
        width: 30,
        circle: true,
    };
    let image = net.image(gallery_image(4)).unwrap();
    let want = core.generate(&net, &[image], &options).unwrap();
    let values = floats(get(&got, "values"));
    assert!(values
        .iter()
        .zip(&want.values)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(ResponseMap::from_json("{}".into()).is_err());

    // Weight gradient and ordering: binding = core (here) = native (the pin).
    let options = js_sys::JSON::parse(r#"{"layer": "conv2", "target": 3}"#).unwrap();
    let got = model
        .weight_gradient(js_f32(&gallery_image(0)), options)
        .unwrap();
    let image = net.image(gallery_image(0)).unwrap();
    let (g, _) = weight_gradient(&net, &image, net.layer_index("conv2").unwrap(), Some(3)).unwrap();
    assert_eq!(floats(get(&got, "data")), g.data());
    let native: Vec<f32> = pin["weight_gradient"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(g.data(), native.as_slice());
    let options =
        js_sys::JSON::parse(r#"{"layer": "relu2", "by": "kmeans", "k": 3, "seed": 2}"#).unwrap();
    let got = model.order(js_f32(&gallery_image(0)), options).unwrap();
    let trace = net.forward(&image).unwrap();
    let want = order(
        trace.output(net.layer_index("relu2").unwrap()).unwrap(),
        By::KMeans { k: 3, seed: 2 },
        Over::Maps,
    )
    .unwrap();
    let listed: Vec<usize> = numbers(get(&got, "order"))
        .iter()
        .map(|&v| v as usize)
        .collect();
    assert_eq!(listed, want.order);
    assert_eq!(pin["order"], serde_json::json!(want.order));
    assert_eq!(get(&got, "inertia").as_f64(), want.inertia);
    assert_eq!(pin["inertia"].as_f64(), want.inertia);
    let options =
        js_sys::JSON::parse(r#"{"layer": "conv1", "compare": [3], "perClass": 2}"#).unwrap();
    let got = model
        .compare_weight_gradients(js_u8(GALLERY_IMAGES), js_u8(GALLERY_LABELS), options)
        .unwrap();
    assert_eq!(numbers(get(&got, "classes"))[0], 3.0);
    assert_eq!(
        Array::from(&Array::from(&get(&got, "frames")).get(0)).length(),
        2
    );
    let bad = js_sys::JSON::parse(r#"{"layer": "relu1"}"#).unwrap();
    assert!(error_message(
        model
            .weight_gradient(js_f32(&gallery_image(0)), bad)
            .unwrap_err()
    )
    .contains("conv2d"));
}

#[wasm_bindgen_test]
fn the_random_network_is_the_native_one_bit_for_bit() {
    let net = convscope::explain::texture::RandomNet::default();
    // The hash tests/texture.rs pins natively.
    assert_eq!(fnv(net.weights()), 0x009c_0ed0_ad67_c1f1);
}

const FUR_PNG: &[u8] = include_bytes!("../www/data/textures/fur.png");

/// A `Tensor` object `{ shape, data }`.
fn js_tensor(shape: &[usize], data: &[f32]) -> JsValue {
    let object = Object::new();
    let dims: Array = shape.iter().map(|&d| JsValue::from(d as f64)).collect();
    Reflect::set(&object, &"shape".into(), &dims).unwrap();
    Reflect::set(&object, &"data".into(), &js_f32(data)).unwrap();
    object.into()
}

/// The image (bits hashed) and style loss of a synthesis result.
fn synthesized(result: &JsValue) -> (u64, f64) {
    let data = floats(get(result, "data"));
    (
        fnv(data.into_iter()),
        get(result, "styleLoss").as_f64().unwrap(),
    )
}

#[wasm_bindgen_test]
fn short_syntheses_in_wasm_are_the_native_ones_bit_for_bit() {
    let m = mnist();
    let fur = convscope::bindings::decode_image(js_u8(FUR_PNG), 3.0).unwrap();
    assert_eq!(numbers(get(&fur, "shape")), vec![3.0, 128.0, 128.0]);
    let o = r#"{"size": [16, 16], "steps": 10}"#;
    let texture = m.texture(fur.clone(), options(o)).unwrap();
    assert_eq!(numbers(get(&texture, "shape")), vec![3.0, 16.0, 16.0]);
    // The values tests/texture.rs pins natively.
    assert_eq!(
        synthesized(&texture),
        (0x1922_e492_77a5_3e2f, 0.07945232850235223)
    );
    let (content, style) = (gallery_image(3), gallery_image(0));
    let o = r#"{"net": "model", "steps": 10}"#;
    let transfer = m
        .style_transfer(
            js_f32(&content),
            js_tensor(&[1, 28, 28], &style),
            options(o),
        )
        .unwrap();
    assert_eq!(
        synthesized(&transfer),
        (0x3814_2ee4_fa63_12c7, 0.08429495740857512)
    );
    assert!(get(&transfer, "contentLoss").as_f64().unwrap() > 0.0);
    assert_eq!(Float64Array::from(get(&transfer, "history")).length(), 10);
}

#[wasm_bindgen_test]
fn a_texture_job_previews_every_step_and_ends_at_the_one_shot_result() {
    let m = mnist();
    let fur = convscope::bindings::decode_image(js_u8(FUR_PNG), 3.0).unwrap();
    let o = r#"{"size": [12, 12], "steps": 7, "seed": 3}"#;
    let mut job = m
        .start("texture", JsValue::NULL, options(o), fur.clone())
        .unwrap();
    let mut passes = Vec::new();
    let result = loop {
        let step = job.step(3.0).unwrap();
        assert_eq!(get(&step, "kind").as_string().as_deref(), Some("volume"));
        passes.push(get(&step, "passes").as_f64().unwrap());
        if get(&step, "done").as_bool() == Some(true) {
            break get(&step, "result");
        }
        let preview = get(&step, "preview");
        assert_eq!(floats(get(&preview, "data")).len(), 3 * 12 * 12);
        assert!(get(&preview, "styleLoss").is_undefined());
    };
    assert_eq!(passes, [3.0, 6.0, 7.0]);
    let whole = m.texture(fur.clone(), options(o)).unwrap();
    assert_eq!(floats(get(&result, "data")), floats(get(&whole, "data")));
    assert_eq!(get(&result, "loss").as_f64(), get(&whole, "loss").as_f64());
    // The Gram matrix of a layer, and the style distance between two digits.
    let g = m
        .gram(
            js_f32(&gallery_image(0)),
            options(r#"{"layer": "relu1"}"#),
            js_f32(&gallery_image(1)),
        )
        .unwrap();
    assert_eq!(numbers(get(&g, "shape")), vec![6.0, 6.0]);
    assert!(get(&g, "styleDistance").as_f64().unwrap() > 0.0);
    for (e, needle) in [
        (
            m.start("texture", JsValue::NULL, options("{}"), JsValue::UNDEFINED)
                .err()
                .unwrap(),
            "texture needs a style image",
        ),
        (
            m.start("texture", fur.clone(), options("{}"), fur.clone())
                .err()
                .unwrap(),
            "give no image",
        ),
        (
            m.texture(js_tensor(&[3, 2, 2], &[0.5; 3]), JsValue::UNDEFINED)
                .unwrap_err(),
            "style",
        ),
        (
            m.texture(js_tensor(&[2, 2, 2], &[0.5; 8]), JsValue::UNDEFINED)
                .unwrap_err(),
            "1 (grayscale) or 3 (RGB)",
        ),
        (
            m.texture(js_tensor(&[3, 2, 2], &[f32::NAN; 12]), JsValue::UNDEFINED)
                .unwrap_err(),
            "finite",
        ),
        (
            m.texture(JsValue::from(3.0), JsValue::UNDEFINED)
                .unwrap_err(),
            "must be a Tensor",
        ),
        (
            m.gram(
                js_f32(&gallery_image(0)),
                options(r#"{"layer": "fc1"}"#),
                JsValue::UNDEFINED,
            )
            .unwrap_err(),
            "conv prefix",
        ),
    ] {
        let e = error_message(e);
        assert!(e.contains(needle), "{needle}: {e}");
    }
}
