//! The dataset views in JS ([`crate::explain::dataset`]): a `Dataset` (IDX bytes, or a user's PNG pictures,
//! checked against a model, at most [`MAX_PAGE_IMAGES`] images), its features read step by step (`dataset.extract`), nearest
//! neighbours, and the long views as `Job`s (`dataset.start`) stepped like any job (`job.step(budget)` →
//! `{ done, progress, passes, total, kind, preview?, result? }`; a map's preview is its current points, so
//! t-SNE animates; `job.place`, `job.crops` for a map and a patch search). The features stay inside the `Dataset`, so every map and neighbour list reuses them while
//! the model is the same (a `Dataset` belongs to the model it was made for).

use super::job::Job;
use super::{args, JsObject, Model};
use crate::analysis::features::{source, FeaturePass, PIXELS};
use crate::catalogue;
use crate::error::Error;
use crate::explain::dataset::job::{DatasetJob, MapState};
use crate::explain::dataset::neighbours::{self, nearest, Metric, Neighbour};
use crate::explain::dataset::patches::Patch;
use crate::explain::dataset::{image_count, DataSet, COUNT, FEATURES};
use crate::explain::job;
use crate::io::files::MAX_IMAGE_BYTES;
use crate::io::idx::{self, IdxImages, MAX_DECOMPRESSED_BYTES};
use crate::io::pictures::{self, PictureSet};
use crate::model::network::Network;
use js_sys::{Array, Float32Array, Uint8Array};
use ndarray::Array2;
use std::collections::BTreeMap;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// The most images a page's data set may hold (the t10k sets have 10,000; a user's own set is refused above
/// this, with a message that says so).
pub const MAX_PAGE_IMAGES: usize = 10_000;

#[wasm_bindgen(typescript_custom_section)]
const DATASET_TYPES: &'static str = r#"
export type Neighbour = { index: number; distance: number };
export type Neighbours = { layer: string; metric: "cosine" | "euclidean"; neighbours: Neighbour[]; pixels: Neighbour[] };
export type Patch = { index: number; value: number; position?: [number, number]; box: [number, number, number, number] };
/** A map: `points` = N × 2 row-major, in data-set order. */
export type EmbeddingMap = { method: "pca" | "tsne" | "umap"; points: Float32Array; klDivergence?: number;
  explainedVariance?: number[]; explainedVarianceRatio?: number[] };
/** A patch search's result: per unit its top images, best first. */
export type PatchRanking = { units: Patch[][]; cropSize: number; layer: string };
"#;

/// A data set for one model, with the features read so far.
#[wasm_bindgen]
pub struct Dataset {
    data: Arc<IdxImages>,
    labels: Option<Vec<u8>>,
    features: BTreeMap<String, Arc<Array2<f32>>>,
    pass: Option<(Vec<String>, FeaturePass)>,
}

#[wasm_bindgen]
impl Dataset {
    /// An IDX image file (gzip or plain) and optionally its labels, for `model` (images of its input size).
    #[wasm_bindgen(js_name = fromIdx)]
    pub fn from_idx(
        model: &Model,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] images: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Uint8Array | null")] labels: JsValue,
    ) -> Result<Dataset, JsError> {
        let images =
            idx::parse_images(&args::bytes("IDX images", &images, MAX_DECOMPRESSED_BYTES)?)?;
        check_page_count(images.count)?;
        let labels = idx_labels(&labels)?;
        Dataset::of(DataSet::new(&model.net, images, labels)?)
    }

    /// A user's own pictures (the bytes of PNG files, with their file `names`), each made an input of the
    /// model's size as the CLI's `--images A.png B.png ...` makes it (`io::pictures`: as it is at the input
    /// size, MNIST-style preprocessing otherwise), in the order given. `labels`: an IDX label file (one per
    /// picture), `"names"` (from file names such as `7_0001.png`), or null. At most [`MAX_PAGE_IMAGES`]
    /// pictures: more are refused before any is decoded.
    #[wasm_bindgen(js_name = fromPictures)]
    pub fn from_pictures(
        model: &Model,
        pictures: Vec<Uint8Array>,
        names: Vec<String>,
        #[wasm_bindgen(unchecked_optional_param_type = "Uint8Array | \"names\" | null")]
        labels: JsValue,
    ) -> Result<Dataset, JsError> {
        if names.len() != pictures.len() {
            return Err(Error::shape(
                "picture names (one per picture)",
                &[pictures.len()],
                &[names.len()],
            )
            .into());
        }
        check_page_count(pictures.len())?;
        let [_, height, width] = model.net.input_shape();
        let mut set = PictureSet::new(pictures.len(), height, width, MAX_PAGE_IMAGES)?;
        for (bytes, name) in pictures.iter().zip(&names) {
            set.push(name, &args::bytes(name, bytes, MAX_IMAGE_BYTES)?)?;
        }
        let (images, names) = set.finish();
        let labels = match labels.as_string().as_deref() {
            Some("names") => Some(pictures::labels_from_names(
                &names,
                model.net.labels().len(),
            )?),
            _ => idx_labels(&labels)?,
        };
        Dataset::of(DataSet::new(&model.net, images, labels)?)
    }

    /// Every image's bytes (`count × height × width`, 0 = background, 255 = ink), for thumbnails.
    pub fn pixels(&self) -> Uint8Array {
        Uint8Array::from(&self.data.pixels[..])
    }

    /// `[height, width]` of the images.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> Vec<u32> {
        [self.data.height, self.data.width]
            .map(|d| u32::try_from(d).unwrap_or(u32::MAX))
            .to_vec()
    }

    #[wasm_bindgen(getter)]
    pub fn count(&self) -> f64 {
        self.data.count as f64
    }

    /// The labels, if the set has them.
    pub fn labels(&self) -> Option<Uint8Array> {
        self.labels.as_deref().map(Uint8Array::from)
    }

    /// Image `index` as a model input (`pixel / 255`).
    pub fn image(&self, index: f64) -> Result<Float32Array, JsError> {
        let index = args::index(
            "image index",
            index,
            self.data.count.saturating_sub(1) as u64,
        )?;
        Ok(Float32Array::from(self.data.image(index)?.data()))
    }

    /// Reads the features of `layers` (names or `"pixels"`) over every image, about `budget` images per
    /// call: `{ done, total }`; once done they are kept (for `neighbours`, `start`). Calling it with other
    /// layers before the pass is done restarts it.
    pub fn extract(
        &mut self,
        model: &Model,
        layers: Vec<String>,
        budget: f64,
    ) -> Result<JsValue, JsError> {
        let budget = args::index("budget", budget, u64::from(u32::MAX))?.max(1);
        let missing: Vec<String> = layers
            .into_iter()
            .filter(|l| !self.features.contains_key(l))
            .collect();
        let (done, total) = if missing.is_empty() {
            (self.data.count, self.data.count)
        } else {
            if !self
                .pass
                .as_ref()
                .is_some_and(|(names, _)| *names == missing)
            {
                let names: Vec<&str> = missing.iter().map(String::as_str).collect();
                let pass = FeaturePass::new(&model.net, &self.data, &names, self.data.count)?;
                self.pass = Some((missing, pass));
            }
            self.advance(&model.net, budget)?
        };
        Ok(JsObject::new()
            .set("done", done as f64)?
            .set("total", total as f64)?
            .into())
    }

    /// Whether the features of `layer` have been read.
    #[wasm_bindgen(js_name = hasFeatures)]
    pub fn has_features(&self, layer: &str) -> bool {
        self.features.contains_key(layer)
    }

    /// The predicted class of every image (from the extracted features of the model's logits layer).
    pub fn predictions(&self, model: &Model) -> Result<Uint8Array, JsError> {
        let logits = self.matrix(&model.net.layers()[model.net.logits_index()].name)?;
        let classes: Vec<u8> = logits
            .rows()
            .into_iter()
            .map(|r| crate::model::network::argmax(&r.to_vec()).min(255) as u8)
            .collect();
        Ok(Uint8Array::from(&classes[..]))
    }

    /// The images nearest to `image` (options of `neighbours`: `layer`, `metric`, `top`, `count`), and the
    /// nearest in pixel space: `{ layer, metric, neighbours, pixels }`. The features of `layer` and of the
    /// pixels must have been extracted.
    #[wasm_bindgen(unchecked_return_type = "Neighbours")]
    pub fn neighbours(
        &self,
        model: &Model,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "NeighboursOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let t = &neighbours::TECHNIQUE;
        let values = t.values_from_json(&args::options(&options)?)?;
        let layer = required_layer(&values)?;
        let metric: Metric = values.text_or_default(&neighbours::METRIC).parse()?;
        let top = values.usize_or_default(&neighbours::TOP);
        let count = image_count(values.int(&COUNT), self.data.count)?;
        let image = model.image(&image)?;
        let trace = model.net.forward(&image)?;
        let list = |space: &str| -> Result<Array, JsError> {
            let data = self.matrix(space)?;
            let query = match source(&model.net, space)?.0 {
                Some(index) => trace.output(index)?.data(),
                None => image.data(),
            };
            let rows = data.slice(ndarray::s![..count, ..]);
            neighbour_array(&nearest(rows, query, metric, top.min(count))?)
        };
        Ok(JsObject::new()
            .set("layer", layer)?
            .set("metric", metric.name())?
            .set("neighbours", list(layer)?)?
            .set("pixels", list(PIXELS)?)?
            .into())
    }

    /// Starts a dataset view that runs step by step (`technique` = `patches`, `pca`, `tsne` or `umap`, with
    /// its catalogue options) as a `Job`: a map of the extracted features of the options' `layer`, or a
    /// search for the maximally activating patches of `layer`.
    pub fn start(
        &self,
        model: &Model,
        #[wasm_bindgen(unchecked_param_type = "TechniqueId")] technique: &str,
        #[wasm_bindgen(
            unchecked_optional_param_type = "PatchesOptions | PcaOptions | TsneOptions | UmapOptions"
        )]
        options: JsValue,
    ) -> Result<Job, JsError> {
        let technique = catalogue::find(technique)?;
        let values = technique.values_from_json(&args::options(&options)?)?;
        let features = |layer: &str| self.matrix(layer);
        let job = DatasetJob::start(&model.net, technique, self.data.clone(), features, &values)?;
        Ok(Job {
            net: model.net.clone(),
            job: job::Job::Dataset(Box::new(job)),
        })
    }
}

/// Errors when a page's data set holds more than [`MAX_PAGE_IMAGES`] images.
fn check_page_count(count: usize) -> Result<(), JsError> {
    if count > MAX_PAGE_IMAGES {
        return Err(Error::out_of_range(
            "the number of images of a data set in the page",
            count,
            format!(
                "2 to {MAX_PAGE_IMAGES} (use the first {MAX_PAGE_IMAGES}, or the CLI for more)"
            ),
        )
        .into());
    }
    Ok(())
}

/// The labels of an IDX label file, or `None` for null or undefined.
fn idx_labels(labels: &JsValue) -> Result<Option<Vec<u8>>, JsError> {
    if labels.is_null() || labels.is_undefined() {
        return Ok(None);
    }
    let bytes = args::bytes("IDX labels", labels, MAX_DECOMPRESSED_BYTES)?;
    Ok(Some(idx::parse_labels(&bytes)?))
}

impl Dataset {
    fn of(set: DataSet) -> Result<Dataset, JsError> {
        Ok(Dataset {
            data: Arc::new(set.images),
            labels: set.labels,
            features: BTreeMap::new(),
            pass: None,
        })
    }

    fn advance(&mut self, net: &Network, budget: usize) -> Result<(usize, usize), JsError> {
        let Some((names, mut pass)) = self.pass.take() else {
            return Err(Error::internal("no feature pass under way").into());
        };
        let (done, total) = pass.step(net, &self.data, budget)?;
        if done < total {
            self.pass = Some((names, pass));
        } else {
            for (name, matrix) in names.into_iter().zip(pass.finish()?) {
                self.features.insert(name, Arc::new(matrix));
            }
        }
        Ok((done, total))
    }

    fn matrix(&self, layer: &str) -> crate::error::Result<Arc<Array2<f32>>> {
        self.features.get(layer).cloned().ok_or_else(|| {
            Error::option(
                "layer",
                format!("the features of {layer:?} have not been read: call dataset.extract first"),
            )
        })
    }
}

fn required_layer(values: &catalogue::options::Values) -> Result<&str, JsError> {
    values.text(&FEATURES).ok_or_else(|| {
        Error::option(
            "layer",
            "give the layer whose features to use (or \"pixels\")",
        )
        .into()
    })
}

fn neighbour_array(list: &[Neighbour]) -> Result<Array, JsError> {
    list.iter()
        .map(|n| {
            Ok(JsValue::from(
                JsObject::new()
                    .set("index", n.index as f64)?
                    .set("distance", n.distance)?,
            ))
        })
        .collect()
}

/// The dataset views' own calls on a job (`dataset.start`).
#[wasm_bindgen]
impl Job {
    /// Where `image` lands on the job's map, the map fixed: `[x, y]` (exact for PCA; optimized for t-SNE,
    /// UMAP).
    pub fn place(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
    ) -> Result<Float32Array, JsError> {
        let (run, layer) = self
            .dataset()
            .and_then(DatasetJob::embedding)
            .ok_or_else(|| Error::option("job", "only a map places a new point"))?;
        let pixels = args::float32_image("input image", &image, &self.net.input_shape())?;
        let image = self.net.image(pixels)?;
        let trace = self.net.forward(&image)?;
        let features = match source(&self.net, layer)?.0 {
            Some(index) => trace.output(index)?.data().to_vec(),
            None => image.data().to_vec(),
        };
        let at = run.place(ndarray::ArrayView1::from(&features[..]))?;
        Ok(Float32Array::from(&at[..]))
    }

    /// The crops of unit `unit`'s top images and of their deconvnet projections, `S × S` each:
    /// `{ size, crops: Float32Array[k·S·S], projections: Float32Array[k·S·S] }`.
    pub fn crops(&self, unit: f64) -> Result<JsValue, JsError> {
        let (search, images) = self
            .dataset()
            .and_then(DatasetJob::search)
            .ok_or_else(|| Error::option("job", "only a patch search has crops"))?;
        let result = search.result();
        let unit = args::index("unit", unit, result.len().saturating_sub(1) as u64)?;
        let (mut crops, mut projections) = (Vec::new(), Vec::new());
        for p in &result[unit] {
            let image = images.image(p.index)?;
            let projection = search.projection(&self.net, &image, unit, p)?;
            crops.extend(search.crop(image.data(), p));
            projections.extend(search.crop(projection.data(), p));
        }
        Ok(JsObject::new()
            .set("size", search.crop_size() as f64)?
            .set("crops", Float32Array::from(&crops[..]))?
            .set("projections", Float32Array::from(&projections[..]))?
            .into())
    }
}

impl Job {
    fn dataset(&self) -> Option<&DatasetJob> {
        match &self.job {
            job::Job::Dataset(job) => Some(job),
            _ => None,
        }
    }
}

/// A patch search's result: `{ units, cropSize, layer }`.
pub(super) fn patches_object(job: &Job, units: &[Vec<Patch>]) -> Result<JsObject, JsError> {
    let (search, _) = job
        .dataset()
        .and_then(DatasetJob::search)
        .ok_or_else(|| Error::internal("patches from a job that is not a search"))?;
    let units: Array = units
        .iter()
        .map(|list| {
            list.iter()
                .map(patch_object)
                .collect::<Result<Array, JsError>>()
        })
        .map(|a| a.map(JsValue::from))
        .collect::<Result<Array, JsError>>()?;
    JsObject::new()
        .set("units", units)?
        .set("cropSize", search.crop_size() as f64)?
        .set("layer", search.layer_name(&job.net))
}

/// A map's state: `{ method, points, klDivergence?, explainedVariance?, explainedVarianceRatio? }`.
pub(super) fn map_object(map: &MapState) -> Result<JsObject, JsError> {
    let mut object = JsObject::new()
        .set("method", map.method.technique().id)?
        .set("points", Float32Array::from(&map.points[..]))?;
    if let Some(kl) = map.kl_divergence {
        object = object.set("klDivergence", kl)?;
    }
    if let Some((variance, ratio)) = &map.explained_variance {
        let numbers = |v: &[f64]| v.iter().map(|&x| JsValue::from_f64(x)).collect::<Array>();
        object = object
            .set("explainedVariance", numbers(variance))?
            .set("explainedVarianceRatio", numbers(ratio))?;
    }
    Ok(object)
}

fn patch_object(p: &Patch) -> Result<JsValue, JsError> {
    let numbers = |v: &[usize]| {
        v.iter()
            .map(|&x| JsValue::from_f64(x as f64))
            .collect::<Array>()
    };
    let mut object = JsObject::new()
        .set("index", p.index as f64)?
        .set("value", f64::from(p.value))?
        .set("box", numbers(&p.bbox))?;
    if let Some((y, x)) = p.position {
        object = object.set("position", numbers(&[y, x]))?;
    }
    Ok(object.into())
}

/// The class colours of the maps (the CLI's figures use the same, `render::scatter::CLASS_COLORS`): 10 RGB
/// triples, colour-blind-safe (Paul Tol's "muted" and a dark grey), as 30 bytes.
#[wasm_bindgen(js_name = classColors)]
pub fn class_colors() -> Uint8Array {
    let bytes: Vec<u8> = crate::render::scatter::CLASS_COLORS
        .iter()
        .flatten()
        .copied()
        .collect();
    Uint8Array::from(&bytes[..])
}
