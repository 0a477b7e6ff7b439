//! `Model.start` and the `Job` class: any technique that runs step by step ([`crate::explain::job`]) —
//! the attribution methods, the feature visualizations, texture synthesis and style transfer, ... — started
//! from its catalogue id (`model.start`; a dataset view from its data set, `dataset.start`) and advanced by
//! `job.step(budget)`, which
//! reports `{ done, progress, passes, total, kind, preview?, result? }`: `kind` is the output kind of the
//! catalogue (how to draw `preview` and `result`), `preview` the technique's current state when it has one.
//! A Web Worker posts the progress and the preview and stops at once between steps.

use super::attribution::attribution_object;
use super::dataset::{map_object, patches_object};
use super::featureviz::pictures_object;
use super::texture::synthesis_object;
use super::{args, JsObject, Model};
use crate::catalogue;
use crate::explain::job::{self, Output};
use crate::model::network::Network;
use wasm_bindgen::prelude::*;

/// The result of `Job.step`, for the generated `convscope.d.ts`.
#[wasm_bindgen(typescript_custom_section)]
const JOB_TYPES: &'static str = r#"
/** What a job's `preview` and `result` hold, by the output `kind` of its technique. */
export type JobOutput = Attribution | Pictures | EmbeddingMap | PatchRanking | Synthesized;
/**
 * `progress` = passes / total in [0, 1] (`passes`: units of work done: forward/backward passes, optimizer
 * steps, ...); `result` once `done`; `preview` the current state, for the techniques that have one.
 */
export type JobStep = {
  done: boolean; progress: number; passes: number; total: number; kind: OutputKind;
  preview?: JobOutput; result?: JobOutput;
};
"#;

/// A technique computed step by step (`model.start`); it keeps its own copy of the model's network, so it
/// stays valid whatever happens to the model. Free it with `job.free()`.
#[wasm_bindgen]
pub struct Job {
    pub(super) net: Network,
    pub(super) job: job::Job,
}

#[wasm_bindgen]
impl Model {
    /// Starts technique `technique` (an id of `catalogue()` that runs step by step) with `options` (its keys
    /// only) on `image` (`null` for the techniques that start from noise); the work is done by
    /// `job.step(budget)`. Texture synthesis and style transfer also take `style`, the style image (a
    /// `Tensor` of any size, like a transfer's content `image`; a `Float32Array` is an image of the model's
    /// input size).
    pub fn start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TechniqueId")] technique: &str,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | Tensor | null")] image: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TechniqueOptions[TechniqueId]")]
        options: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Tensor")] style: JsValue,
    ) -> Result<Job, JsError> {
        let technique = catalogue::find(technique)?;
        let values = technique.values_from_json(&args::options(&options)?)?;
        let absent = |v: &JsValue| v.is_null() || v.is_undefined();
        let job = if absent(&style) {
            let image = (!absent(&image)).then(|| self.image(&image)).transpose()?;
            job::Job::start(&self.net, technique, image.as_ref(), &values)?
        } else {
            let image = (!absent(&image))
                .then(|| self.sized_image("content", &image))
                .transpose()?;
            let style = self.sized_image("style", &style)?;
            job::Job::start_styled(&self.net, technique, image.as_ref(), &style, &values)?
        };
        Ok(Job {
            net: self.net.clone(),
            job,
        })
    }
}

#[wasm_bindgen]
impl Job {
    /// Runs about `budget` more units of work (passes or steps; whole batches of 8 for integrated gradients
    /// and SmoothGrad): `{ done, progress, passes, total, kind, preview?, result? }`.
    #[wasm_bindgen(unchecked_return_type = "JobStep")]
    pub fn step(&mut self, budget: f64) -> Result<JsValue, JsError> {
        let budget = args::index("budget", budget, u64::from(u32::MAX))?;
        let step = self.job.step(&self.net, budget)?;
        let kind = self.job.kind();
        let mut object = JsObject::new()
            .set("done", step.result.is_some())?
            .set("progress", step.done as f64 / step.total.max(1) as f64)?
            .set("passes", step.done as f64)?
            .set("total", step.total as f64)?
            .set("kind", kind.name())?;
        if let Some(preview) = &step.preview {
            object = object.set("preview", self.output_object(preview)?)?;
        }
        if let Some(result) = &step.result {
            object = object.set("result", self.output_object(result)?)?;
        }
        Ok(object.into())
    }
}

impl Job {
    /// The JS object of the job's output.
    fn output_object(&self, output: &Output) -> Result<JsObject, JsError> {
        match output {
            Output::Attribution(result) => attribution_object(result),
            Output::Pictures(pictures) => pictures_object(pictures),
            Output::Patches(units) => patches_object(self, units),
            Output::Map(map) => map_object(map),
            Output::Synthesis { .. } => synthesis_object(output),
        }
    }
}
