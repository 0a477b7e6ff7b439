//! The neural response map and the volume views in JS, mirroring the package's calls:
//! `new ResponseMapTraining(model, idxBytes, options)` (`NeuralResponseMap(model)` + `TrainMap(inputs,
//! layers)`, step by step: `training.step(budget)` → `{ done, progress, passes, total, layout?,
//! klDivergence? }`, then `training.finish()` → a `ResponseMap`), `map.generate(model, images, options)`
//! (`GenerateMap`, `options.circle` = `CircleProjection()`; `size: [width, height]` as the package's), the
//! map file as JSON (`map.toJson()`, `ResponseMap.fromJson(text)`), and `model.order(image, options)`,
//! `model.weightGradient(image, options)`, `model.compareWeightGradients(images, labels, options)`.
//! Every options object is checked against the technique's catalogue entry.

use super::{args, number_array, JsObject, Model};
use crate::catalogue::Technique;
use crate::error::Error;
use crate::explain::nrm::generate::{GenerateOptions, SizeOrder};
use crate::explain::nrm::{self, train};
use crate::explain::volume::order::{self as ordering, By, Over};
use crate::explain::volume::weight_gradient::{self as wg, compare, conv_layer, pick_classes};
use crate::io::idx;
use crate::model::network::Network;
use crate::tensor::Tensor;
use crate::train::Dataset;
use js_sys::{Array, Float32Array, Float64Array, Int16Array};
use wasm_bindgen::prelude::*;

/// The largest IDX file the page may pass (60,000 MNIST images fit).
const MAX_IDX_BYTES: u64 = 64 << 20;
/// The largest map file text.
const MAX_MAP_CHARS: u32 = 64 << 20;

#[wasm_bindgen(typescript_custom_section)]
const NRM_TYPES: &'static str = r#"
/** A training step: the layout so far (neurons × 2, in [0, 1]²) once t-SNE runs. */
export type ResponseMapStep = { done: boolean; progress: number; passes: number; total: number;
  layout?: Float32Array; klDivergence?: number };
/** A drawn map: values height × width (NaN outside the disc); per pixel its layer's index in `layers` (-1: outside). */
export type GeneratedMap = { width: number; height: number; values: Float32Array; regions: Int16Array;
  layers: string[] };
export type OrderResult = { order: number[]; clusters?: number[]; inertia?: number; projection?: Float64Array;
  explained?: number; volume: Tensor };
export type WeightGradient = Tensor & { target: number };
export type WeightGradientComparison = { classes: number[]; target: number; indices: number[][];
  cosine: number[]; means: Tensor[]; frames: Tensor[][] };
"#;

/// A response map being trained over a data set (its own copy of the network and the images).
#[wasm_bindgen]
pub struct ResponseMapTraining {
    net: Network,
    training: Option<train::Training>,
}

#[wasm_bindgen]
impl ResponseMapTraining {
    /// Starts training on `model` over the IDX images `images` (gzip or plain) with `options` (the
    /// `response-map` technique's keys; `count` default 1,000 or all the file holds).
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &Model,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] images: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ResponseMapOptions")] options: JsValue,
    ) -> Result<ResponseMapTraining, JsError> {
        let set = idx::parse_images(&args::bytes("images", &images, MAX_IDX_BYTES)?)?;
        let values = nrm::TRAIN.values_from_json(&args::options(&options)?)?;
        let count = match values.int(&crate::catalogue::inputs::COUNT) {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => nrm::DEFAULT_COUNT.min(set.count),
        };
        let settings = train::Settings::from_values(&model.net, &values, count)?;
        let training = train::Training::new(&model.net, &set, settings)?;
        Ok(ResponseMapTraining {
            net: model.net.clone(),
            training: Some(training),
        })
    }

    /// Runs about `budget` more units (inputs read, then t-SNE iterations).
    #[wasm_bindgen(unchecked_return_type = "ResponseMapStep")]
    pub fn step(&mut self, budget: f64) -> Result<JsValue, JsError> {
        let budget = args::index("budget", budget, u64::from(u32::MAX))?.max(1);
        let training = self.training.as_mut().ok_or_else(finished)?;
        let p = training.step(&self.net, budget)?;
        let mut object = JsObject::new()
            .set("done", p.done == p.total)?
            .set("progress", p.done as f64 / p.total.max(1) as f64)?
            .set("passes", p.done as f64)?
            .set("total", p.total as f64)?;
        if let Some(layout) = training.layout() {
            let flat: Vec<f32> = layout.iter().flatten().copied().collect();
            object = object.set("layout", Float32Array::from(flat.as_slice()))?;
        }
        if let Some(kl) = p.kl_divergence {
            object = object.set("klDivergence", kl)?;
        }
        Ok(object.into())
    }

    /// The trained map (once `step` reported `done`); the training is used up.
    pub fn finish(&mut self) -> Result<ResponseMap, JsError> {
        let training = self.training.take().ok_or_else(finished)?;
        Ok(ResponseMap {
            map: training.finish()?,
        })
    }
}

fn finished() -> JsError {
    Error::option("training", "the response map was already finished").into()
}

/// A trained response map.
#[wasm_bindgen]
pub struct ResponseMap {
    map: nrm::ResponseMap,
}

#[wasm_bindgen]
impl ResponseMap {
    /// A map file's text (`convscope nrm train --out`, or `map.toJson()`).
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    ) -> Result<ResponseMap, JsError> {
        let text = args::text("map", &text, MAX_MAP_CHARS)?;
        Ok(ResponseMap {
            map: nrm::ResponseMap::from_json(&text)?,
        })
    }

    /// The map file (the CLI's format).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.map)
            .map_err(|e| Error::internal(format!("the map as JSON: {e}")).into())
    }

    /// The kept neurons' ids (`layer:unit`).
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn neurons(&self) -> Array {
        self.map
            .neurons
            .iter()
            .map(|n| JsValue::from_str(&n.id))
            .collect()
    }

    /// The layout, neurons × 2 in `[0, 1]²`.
    pub fn layout(&self) -> Float32Array {
        let flat: Vec<f32> = self.map.layout.iter().flatten().copied().collect();
        Float32Array::from(flat.as_slice())
    }

    /// The map of `model`'s responses to `images` (raw pixels, one image or several concatenated: their
    /// mean), with the `response-map-generate` options (`size: [width, height]`).
    #[wasm_bindgen(unchecked_return_type = "GeneratedMap")]
    pub fn generate(
        &self,
        model: &Model,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] images: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ResponseMapGenerateOptions")]
        options: JsValue,
    ) -> Result<JsValue, JsError> {
        let values = nrm::GENERATE.values_from_json(&args::options(&options)?)?;
        let options = GenerateOptions::from_values(&values, SizeOrder::WidthHeight)?;
        let images = images_of(&model.net, &images)?;
        let drawn = self.map.generate(&model.net, &images, &options)?;
        let regions: Vec<i16> = drawn
            .regions
            .iter()
            .map(|r| r.and_then(|l| i16::try_from(l).ok()).unwrap_or(-1))
            .collect();
        let layers: Array = self
            .map
            .settings
            .layers
            .iter()
            .map(|l| JsValue::from_str(l))
            .collect();
        Ok(JsObject::new()
            .set("width", drawn.width as f64)?
            .set("height", drawn.height as f64)?
            .set("values", Float32Array::from(drawn.values.as_slice()))?
            .set("regions", Int16Array::from(regions.as_slice()))?
            .set("layers", layers)?
            .into())
    }
}

#[wasm_bindgen]
impl Model {
    /// A layer's output stack for `image` reordered (the `order` technique's options).
    #[wasm_bindgen(unchecked_return_type = "OrderResult")]
    pub fn order(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "OrderOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let values = ordering::TECHNIQUE.values_from_json(&args::options(&options)?)?;
        let layer = required(&values, &ordering::TECHNIQUE, &ordering::LAYER)?;
        let trace = self.net.forward(&self.image(&image)?)?;
        let volume = trace.output(self.net.layer_index(layer)?)?;
        let r = ordering::order(
            volume,
            By::from_values(&values)?,
            Over::from_values(&values),
        )?;
        let mut object = JsObject::new().set("order", number_array(&r.order))?.set(
            "volume",
            JsObject::tensor(r.volume.shape(), r.volume.data())?,
        )?;
        if let (Some(clusters), Some(inertia)) = (&r.clusters, r.inertia) {
            object = object
                .set("clusters", number_array(clusters))?
                .set("inertia", inertia)?;
        }
        if let (Some(projection), Some(explained)) = (&r.projection, r.explained) {
            object = object
                .set("projection", Float64Array::from(projection.as_slice()))?
                .set("explained", explained)?;
        }
        Ok(object.into())
    }

    /// `∂ logits[target] / ∂ W` of a conv layer for `image` (the `weight-gradient` options):
    /// `{ shape: [O, I, kh, kw], data, target }`.
    #[wasm_bindgen(js_name = weightGradient, unchecked_return_type = "WeightGradient")]
    pub fn weight_gradient(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "WeightGradientOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let values = wg::TECHNIQUE.values_from_json(&args::options(&options)?)?;
        let (index, _) = conv_layer(&self.net, required(&values, &wg::TECHNIQUE, &wg::LAYER)?)?;
        let target = values
            .int(&wg::TARGET)
            .and_then(|t| usize::try_from(t).ok());
        let (g, target) = wg::weight_gradient(&self.net, &self.image(&image)?, index, target)?;
        Ok(JsObject::tensor(g.shape(), g.data())?
            .set("target", target as f64)?
            .into())
    }

    /// The weight gradients of three classes over a labelled IDX set (the `weight-gradient-compare`
    /// options; `compare: [ref]` picks the other two from the confusion matrix over the set).
    #[wasm_bindgen(js_name = compareWeightGradients, unchecked_return_type = "WeightGradientComparison")]
    pub fn compare_weight_gradients(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] images: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] labels: JsValue,
        #[wasm_bindgen(unchecked_param_type = "WeightGradientCompareOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let t = &wg::COMPARISON;
        let values = t.values_from_json(&args::options(&options)?)?;
        let set = idx::parse_images(&args::bytes("images", &images, MAX_IDX_BYTES)?)?;
        let labels = idx::parse_labels(&args::bytes("labels", &labels, MAX_IDX_BYTES)?)?;
        let data = Dataset::new(set, labels)?;
        let net = &self.net;
        let (index, _) = conv_layer(net, required(&values, t, &wg::LAYER)?)?;
        let classes = pick_classes(net, &data, values.floats(&wg::COMPARE).unwrap_or(&[]))?;
        let target = values
            .int(&wg::TARGET)
            .and_then(|t| usize::try_from(t).ok());
        let per_class = values.usize_or_default(&wg::PER_CLASS);
        let r = compare(net, &data, index, classes, target, per_class)?;
        let tensors = |list: &[Tensor]| -> Result<Array, JsError> {
            list.iter()
                .map(|t| Ok(JsValue::from(JsObject::tensor(t.shape(), t.data())?)))
                .collect()
        };
        let frames: Array = r
            .frames
            .iter()
            .map(|f| tensors(f).map(JsValue::from))
            .collect::<Result<_, _>>()?;
        let indices: Array = r
            .indices
            .iter()
            .map(|l| JsValue::from(number_array(l)))
            .collect();
        Ok(JsObject::new()
            .set("classes", number_array(&r.classes))?
            .set("target", r.target as f64)?
            .set("indices", indices)?
            .set("cosine", Float64Array::from(&r.cosine[..]))?
            .set("means", tensors(&r.means)?)?
            .set("frames", frames)?
            .into())
    }
}

/// One image or several concatenated (raw pixels, `k · C·H·W` values, `k ≥ 1`).
fn images_of(net: &Network, value: &JsValue) -> Result<Vec<Tensor>, JsError> {
    let shape = net.input_shape();
    let size: usize = shape.iter().product();
    let array = value
        .dyn_ref::<Float32Array>()
        .ok_or_else(|| Error::option("images", "must be a Float32Array"))?;
    let data = array.to_vec();
    if data.is_empty() || data.len() % size != 0 {
        return Err(
            Error::shape("images (a whole number of images)", &shape, &[data.len()]).into(),
        );
    }
    Ok(data
        .chunks(size)
        .map(|chunk| net.image(chunk.to_vec()))
        .collect::<crate::Result<Vec<Tensor>>>()?)
}

/// A required `layer` option.
fn required<'v>(
    values: &'v crate::catalogue::options::Values,
    t: &Technique,
    spec: &crate::catalogue::options::OptionSpec,
) -> Result<&'v str, JsError> {
    values.text(spec).ok_or_else(|| {
        Error::option(spec.key, format!("{} needs options.{}", t.id, spec.key)).into()
    })
}
