//! The only wasm-bindgen module: checks JS arguments, runs the core and turns its results into typed arrays
//! and `JsError`s.
//!
//! JS sees the class `Model` and the free functions of [`catalogue`] (`catalogue()`, `colormaps()`,
//! `decodeIdx()`, `manifestFiles()`) and `decodeImage()` ([`texture`]); `docs/js-api.md` is the contract, and the generated `convscope.d.ts`
//! carries the types declared here. Images cross the boundary as `Float32Array`s of `C·H·W` raw pixels in
//! `[0, 1]` (CHW, ink = 1); maps come back as `{ shape, data: Float32Array }` objects with the core's
//! row-major layout unchanged, so nothing is reshaped here. Arguments are checked before anything is copied
//! ([`args`]); every method returns `Result<_, JsError>`, the core's [`crate::Error`] converting with `?`, so
//! bad input becomes a JS `Error` carrying the core's message, never a panic.

use crate::explain::deconvnet::{self, Reconstruction};
use crate::explain::inspect;
use crate::io::files::{MAX_IMAGE_BYTES, MAX_MANIFEST_BYTES, MAX_WEIGHTS_BYTES};
use crate::io::{image, preprocess};
use crate::model::network::{NamedLayer, Network, Trace};
use crate::tensor::Tensor;
use js_sys::{Array, Float32Array, Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

mod args;
mod attribution;
mod catalogue;
mod dataset;
mod featureviz;
mod job;
mod monitor;
mod nrm;
mod texture;

pub use catalogue::{catalogue, colormaps, decode_idx, manifest_files};
pub use dataset::{class_colors, Dataset, MAX_PAGE_IMAGES};
pub use job::Job;
pub use nrm::{ResponseMap, ResponseMapTraining};
pub use texture::decode_image;

/// Routes Rust panics to `console.error` with a stack trace (a panic would be a bug: bad input gives errors).
#[cfg(feature = "console_error_panic_hook")]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The shapes of the plain objects the methods return, for the generated `convscope.d.ts` (wasm-bindgen
/// would type them `any`). `docs/js-api.md` explains them.
#[wasm_bindgen(typescript_custom_section)]
const RESULT_TYPES: &'static str = r#"
/** Row-major values and their shape. */
export type Tensor = { shape: number[]; data: Float32Array };
export type LayerType = "conv2d" | "relu" | "max_pool2d" | "flatten" | "linear" | "log_softmax";
export interface ModelInfo {
  name: string;
  input: { channels: number; height: number; width: number };
  labels: string[];
  /** 1-based index; shape of the layer's output. */
  layers: { index: number; name: string; type: LayerType; shape: number[] }[];
  /** Each conv layer with the (1-based) layer whose output are its deconvnet activations. */
  convBlocks: { name: string; conv: number; activations: number; channels: number }[];
  dataset?: unknown;
  metrics?: { test_accuracy?: number; [key: string]: unknown };
}
export type Prediction = { label: number; logits: Float32Array; probs: Float32Array };
export type LayerOutput = Tensor & { index: number; name: string; type: LayerType };
/** A signed map in input pixel space ([H, W]); `position` is the seeded unit when only one is kept. */
export type Reconstruction = Tensor & { strength: number; position?: [number, number] };
export type ChannelReconstruction = Reconstruction & { layer: string; channel: number };
/** Every step of the preprocessing (`preprocessStages`): maps in [0, 1] and the model input. */
export type PreprocessStages = {
  grey: Tensor; normalized: Tensor; mask: Tensor; crop: Tensor; input: Float32Array;
};
export type Attribution = Tensor & {
  method: AttributionMethod; target: number; score: number; signed: boolean;
  completenessGap?: number; baselineScore?: number; camLayer?: string;
};
"#;

/// Plain data (serde) as a JS value: maps become plain objects.
fn to_js(value: &impl Serialize) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .map_err(|e| JsError::from(crate::Error::internal(e.to_string())))
}

/// JSON text without a leading UTF-8 byte-order mark.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// A plain JS object built key by key (typed arrays cannot go through serde).
struct JsObject(Object);

impl JsObject {
    fn new() -> Self {
        JsObject(Object::new())
    }

    fn set(self, key: &str, value: impl Into<JsValue>) -> Result<Self, JsError> {
        Reflect::set(&self.0, &JsValue::from_str(key), &value.into())
            .map_err(|_| crate::Error::internal(format!("cannot set property {key:?}")))?;
        Ok(self)
    }

    /// `{ shape: number[], data: Float32Array }` of a tensor.
    fn tensor(shape: &[usize], data: &[f32]) -> Result<Self, JsError> {
        JsObject::new()
            .set("shape", number_array(shape))?
            .set("data", Float32Array::from(data))
    }
}

impl From<JsObject> for JsValue {
    fn from(object: JsObject) -> JsValue {
        object.0.into()
    }
}

fn number_array(shape: &[usize]) -> Array {
    shape.iter().map(|&d| JsValue::from_f64(d as f64)).collect()
}

/// Plain data of `Model.info()`, serialized with serde (maps become plain objects).
#[derive(Serialize)]
struct Info<'a> {
    name: &'a str,
    input: &'a crate::model::manifest::InputShape,
    labels: &'a [String],
    layers: Vec<LayerInfo<'a>>,
    /// The conv layers the deconvnet starts from, with the layer whose output are their activations.
    #[serde(rename = "convBlocks")]
    conv_blocks: Vec<ConvBlockInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dataset: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<&'a serde_json::Value>,
}

/// A [`deconvnet::ConvBlock`] with 1-based layer numbers.
#[derive(Serialize)]
struct ConvBlockInfo {
    name: String,
    conv: usize,
    activations: usize,
    channels: usize,
}

#[derive(Serialize)]
struct LayerInfo<'a> {
    /// 1-based, as the page numbers layers.
    index: usize,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    shape: &'a [usize],
}

/// The layers with their manifest `type` string (the network has one layer per manifest entry, in order).
fn typed_layers(net: &Network) -> impl Iterator<Item = (&NamedLayer, &'static str)> {
    net.layers().iter().map(|l| (l, l.layer.type_name()))
}

/// A loaded network, kept alive between calls (free it with `model.free()`).
#[wasm_bindgen]
pub struct Model {
    net: Network,
    /// The runtime monitor, once `loadMonitor` has read one (`bindings/monitor.rs`).
    monitor: Option<crate::explain::monitor::Monitor>,
}

#[wasm_bindgen]
impl Model {
    /// Builds a model from the manifest JSON text and the safetensors weight bytes.
    pub fn load(
        #[wasm_bindgen(unchecked_param_type = "string")] manifest_json: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] weights: JsValue,
    ) -> Result<Model, JsError> {
        let manifest = args::text("manifest", &manifest_json, MAX_MANIFEST_BYTES as u32)?;
        let weights = args::bytes("weights", &weights, MAX_WEIGHTS_BYTES)?;
        let net = Network::from_bytes(without_bom(&manifest), &weights)?;
        Ok(Model { net, monitor: None })
    }

    /// Every technique (the free function `catalogue()`, also reachable from a model).
    #[wasm_bindgen(js_name = catalogue, unchecked_return_type = "Technique[]")]
    pub fn techniques(&self) -> Result<JsValue, JsError> {
        catalogue()
    }

    /// Name, input shape, labels, the layers (1-based index, name, type, output shape), the conv blocks of
    /// the deconvnet (`convBlocks`: conv layer name, its layer number, the number of the layer whose output
    /// are its activations, channels) and the manifest's `dataset` and `metrics` when present.
    #[wasm_bindgen(unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> Result<JsValue, JsError> {
        let manifest = self.net.manifest();
        let info = Info {
            name: &manifest.name,
            input: &manifest.input,
            labels: self.net.labels(),
            layers: typed_layers(&self.net)
                .enumerate()
                .map(|(i, (l, kind))| LayerInfo {
                    index: i + 1,
                    name: &l.name,
                    kind,
                    shape: &l.output_shape,
                })
                .collect(),
            conv_blocks: deconvnet::conv_blocks(&self.net)
                .into_iter()
                .map(|block| ConvBlockInfo {
                    name: block.name,
                    conv: block.conv + 1,
                    activations: block.activations + 1,
                    channels: block.channels,
                })
                .collect(),
            dataset: manifest.extra.get("dataset"),
            metrics: manifest.extra.get("metrics"),
        };
        to_js(&info)
    }

    /// Canvas RGBA pixels (`width·height·4` bytes) → MNIST-style model input, as the CLI prepares images.
    #[wasm_bindgen(js_name = preprocessRgba)]
    pub fn preprocess_rgba(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint8ClampedArray")] rgba: JsValue,
        width: f64,
        height: f64,
    ) -> Result<Float32Array, JsError> {
        self.preprocess(&rgba_image(&rgba, width, height)?)
    }

    /// PNG, JPEG or PGM/PPM file bytes → MNIST-style model input.
    #[wasm_bindgen(js_name = preprocessFile)]
    pub fn preprocess_file(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    ) -> Result<Float32Array, JsError> {
        self.preprocess(&file_image(&bytes)?)
    }

    /// Every step of the preprocessing of an image file (PNG, JPEG, PGM/PPM bytes) or, with `width` and
    /// `height`, of canvas RGBA pixels: `{ grey, normalized, mask, crop, input }`, the first four as
    /// `{ shape: [H, W], data }` maps (`grey` luminance, the others ink in `[0, 1]`; `mask` 1 = kept ink, 0.5 =
    /// thresholded but removed), `input` the model input `preprocessFile` / `preprocessRgba` return.
    #[wasm_bindgen(js_name = preprocessStages, unchecked_return_type = "PreprocessStages")]
    pub fn preprocess_stages(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint8ClampedArray")] bytes: JsValue,
        width: Option<f64>,
        height: Option<f64>,
    ) -> Result<JsValue, JsError> {
        let gray = match (width, height) {
            (Some(width), Some(height)) => rgba_image(&bytes, width, height)?,
            (None, None) => file_image(&bytes)?,
            _ => {
                return Err(crate::Error::option(
                    "width and height",
                    "give both (canvas RGBA pixels) or neither (an image file)",
                )
                .into())
            }
        };
        let [c, h, w] = self.net.input_shape();
        let stages = preprocess::preprocess_stages(&gray, c, h, w)?;
        let map = |image: &image::GrayImage| {
            JsObject::tensor(&[image.height, image.width], &image.pixels)
        };
        Ok(JsObject::new()
            .set("grey", map(&stages.grey)?)?
            .set("normalized", map(&stages.normalized)?)?
            .set("mask", map(&stages.mask)?)?
            .set("crop", map(&stages.crop)?)?
            .set("input", Float32Array::from(stages.output.data()))?
            .into())
    }

    /// `{ label, logits: Float32Array, probs: Float32Array }`.
    #[wasm_bindgen(unchecked_return_type = "Prediction")]
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
    ) -> Result<JsValue, JsError> {
        let prediction = self.net.predict(&self.image(&image)?)?;
        Ok(JsObject::new()
            .set("label", prediction.label as f64)?
            .set("logits", Float32Array::from(&prediction.logits[..]))?
            .set("probs", Float32Array::from(&prediction.probs[..]))?
            .into())
    }

    /// Every layer's output in order: `[{ index (1-based), name, type, shape, data: Float32Array }]`.
    #[wasm_bindgen(unchecked_return_type = "LayerOutput[]")]
    pub fn activations(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
    ) -> Result<Array, JsError> {
        let trace = self.trace(&image)?;
        typed_layers(&self.net)
            .zip(trace.outputs())
            .enumerate()
            .map(|(i, ((layer, kind), output))| {
                Ok(JsValue::from(
                    JsObject::tensor(output.shape(), output.data())?
                        .set("index", (i + 1) as f64)?
                        .set("name", layer.name.as_str())?
                        .set("type", kind)?,
                ))
            })
            .collect()
    }

    /// The weights of layer `layer` (by name): `{ shape, data }`, OIHW for conv2d, `[out, in]` for linear.
    #[wasm_bindgen(unchecked_return_type = "Tensor")]
    pub fn filters(&self, layer: &str) -> Result<JsValue, JsError> {
        let weights = inspect::filters(&self.net, layer)?;
        Ok(JsObject::tensor(weights.shape(), weights.data())?.into())
    }

    /// Zeiler & Fergus deconvnet: channel `channel` of conv layer `layer`'s pooled maps projected to pixel
    /// space; `unit` is `"all"` (default), `"max"` or `"y,x"`. Returns `{ shape: [H, W], data, strength,
    /// position? }` (`position`: `[y, x]` of the seeded unit when only one unit is kept).
    #[wasm_bindgen(unchecked_return_type = "Reconstruction")]
    pub fn deconv(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        layer: &str,
        channel: f64,
        unit: Option<String>,
    ) -> Result<JsValue, JsError> {
        let channel = args::index("channel", channel, u64::from(u32::MAX))?;
        let unit: deconvnet::Unit = unit
            .as_deref()
            .unwrap_or(deconvnet::UNIT.text_default())
            .parse()?;
        let trace = self.trace(&image)?;
        let reconstruction = deconvnet::deconv(&self.net, &trace, layer, channel, unit)?;
        Ok(reconstruction_object(&reconstruction)?.into())
    }

    /// Every channel of every conv layer reconstructed from one forward pass (22 maps for LeNet-5), in layer
    /// order: `[{ layer, channel, strength, shape, data }]`.
    #[wasm_bindgen(js_name = deconvAll, unchecked_return_type = "ChannelReconstruction[]")]
    pub fn deconv_all(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
    ) -> Result<Array, JsError> {
        let trace = self.trace(&image)?;
        deconvnet::deconv_all(&self.net, &trace)?
            .iter()
            .map(|r| {
                Ok(JsValue::from(
                    reconstruction_object(r)?
                        .set("layer", r.layer.as_str())?
                        .set("channel", r.channel as f64)?,
                ))
            })
            .collect()
    }
}

/// Canvas RGBA pixels of `width × height` (checked before the copy) as luminance.
fn rgba_image(rgba: &JsValue, width: f64, height: f64) -> Result<image::GrayImage, JsError> {
    let width = args::index("width", width, image::MAX_PIXELS as u64)?;
    let height = args::index("height", height, image::MAX_PIXELS as u64)?;
    let pixels = image::check_dimensions(width, height)?;
    let rgba = args::exact_bytes("RGBA data", rgba, pixels * 4)?;
    Ok(image::from_rgba(&rgba, width, height)?)
}

/// Image file bytes (PNG, JPEG, PGM/PPM; size-capped) decoded to luminance.
fn file_image(bytes: &JsValue) -> Result<image::GrayImage, JsError> {
    Ok(image::decode(&args::bytes(
        "image file",
        bytes,
        MAX_IMAGE_BYTES,
    )?)?)
}

fn reconstruction_object(r: &Reconstruction) -> Result<JsObject, JsError> {
    let object = JsObject::tensor(&r.shape(), r.data())?.set("strength", f64::from(r.strength))?;
    match r.position {
        Some((y, x)) => object.set("position", number_array(&[y, x])),
        None => Ok(object),
    }
}

impl Model {
    /// A `Float32Array` of the model's input size as an input tensor (length checked before the copy).
    fn image(&self, data: &JsValue) -> Result<Tensor, JsError> {
        let pixels = args::float32_image("input image", data, &self.net.input_shape())?;
        Ok(self.net.image(pixels)?)
    }

    fn trace(&self, data: &JsValue) -> Result<Trace<'_>, JsError> {
        Ok(self.net.forward(&self.image(data)?)?)
    }

    fn preprocess(&self, gray: &image::GrayImage) -> Result<Float32Array, JsError> {
        let [c, h, w] = self.net.input_shape();
        let input = image::preprocess_mnist(gray, c, h, w)?;
        Ok(Float32Array::from(input.data()))
    }
}
