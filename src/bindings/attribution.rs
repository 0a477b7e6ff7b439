//! `Model.attribute`: the attribution methods of [`crate::explain::attribution`] for the page's attribution
//! panel. The options object is checked against the method's catalogue entry ([`Options::from_json`]): a key
//! the method does not have is an error naming it. The long methods report progress through an optional JS
//! callback `(done, total) => void`, or run step by step: `model.start(id, image, options)` returns a
//! [`Job`] whose `step(passes)` runs a few more passes and reports `{ done, progress, result? }`, so a Web
//! Worker can post progress and stop at once between steps (the same bits as `attribute`).

use super::{args, JsObject, Model};
use crate::explain::attribution::{self, Attribution, Method, Options};
use crate::model::network::Network;
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Model {
    /// Attributes a class score to the input pixels with `method` (an attribution id of `catalogue()`).
    /// Returns `{ method, shape, data, target, score, signed, completenessGap?, baselineScore?, camLayer? }`:
    /// `shape` is `[C, H, W]` like the input (`[H, W]` for Grad-CAM), `data` the raw values, `signed` whether
    /// a diverging colormap fits.
    #[wasm_bindgen(unchecked_return_type = "Attribution")]
    pub fn attribute(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "AttributionMethod")] method: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "AttributionOptions")] options: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "(done: number, total: number) => void")]
        progress: Option<Function>,
    ) -> Result<JsValue, JsError> {
        let method: Method = method.parse()?;
        let options = Options::from_json(method, &args::options(&options)?)?;
        let image = self.image(&image)?;
        // A throwing callback cannot unwind through Rust: remember its error and report it afterwards.
        let mut callback_error = None;
        let mut report = |done: usize, total: usize| {
            if let (Some(callback), None) = (&progress, &callback_error) {
                let result = callback.call2(
                    &JsValue::NULL,
                    &JsValue::from_f64(done as f64),
                    &JsValue::from_f64(total as f64),
                );
                callback_error = result.err();
            }
        };
        let result =
            attribution::attribute_with_progress(&self.net, &image, method, &options, &mut report)?;
        if let Some(error) = callback_error {
            return Err(JsError::new(&format!(
                "the progress callback threw: {}",
                error.as_string().unwrap_or_else(|| format!("{error:?}"))
            )));
        }
        Ok(attribution_object(&result)?.into())
    }
}

/// The result of `Job.step`, for the generated `convscope.d.ts`.
#[wasm_bindgen(typescript_custom_section)]
const JOB_TYPES: &'static str = r#"
/** `progress` = passes / total in [0, 1]; `result` once `done`. */
export type JobStep = { done: boolean; progress: number; passes: number; total: number; result?: Attribution };
"#;

/// An attribution computed step by step (`model.start`); it keeps its own copy of the model's network, so it
/// stays valid whatever happens to the model. Free it with `job.free()`.
#[wasm_bindgen]
pub struct Job {
    net: Network,
    job: attribution::Job,
}

#[wasm_bindgen]
impl Model {
    /// Starts the attribution technique `technique` (an id of `catalogue()`) with `options` (its keys only);
    /// the work is done by `job.step(passes)`.
    pub fn start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AttributionMethod")] technique: &str,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "AttributionOptions")] options: JsValue,
    ) -> Result<Job, JsError> {
        let method: Method = technique.parse()?;
        let options = Options::from_json(method, &args::options(&options)?)?;
        let image = self.image(&image)?;
        let job = attribution::Job::start(&self.net, &image, method, &options)?;
        Ok(Job {
            net: self.net.clone(),
            job,
        })
    }
}

#[wasm_bindgen]
impl Job {
    /// Runs about `passes` more forward/backward passes (path points, samples or windows; whole batches of 8
    /// for integrated gradients and SmoothGrad): `{ done, progress, passes, total, result? }`.
    #[wasm_bindgen(unchecked_return_type = "JobStep")]
    pub fn step(&mut self, passes: f64) -> Result<JsValue, JsError> {
        let passes = args::index("passes", passes, u64::from(u32::MAX))?;
        let step = self.job.step(&self.net, passes)?;
        let mut object = JsObject::new()
            .set("done", step.result.is_some())?
            .set("progress", step.done as f64 / step.total.max(1) as f64)?
            .set("passes", step.done as f64)?
            .set("total", step.total as f64)?;
        if let Some(result) = &step.result {
            object = object.set("result", attribution_object(result)?)?;
        }
        Ok(object.into())
    }
}

/// The JS object of an attribution result.
pub(super) fn attribution_object(result: &Attribution) -> Result<JsObject, JsError> {
    let mut object = JsObject::tensor(result.map.shape(), result.map.data())?
        .set("method", result.method.name())?
        .set("target", result.target as f64)?
        .set("score", f64::from(result.score))?
        .set("signed", result.signed)?;
    if let Some(gap) = result.completeness_gap {
        object = object.set("completenessGap", f64::from(gap))?;
    }
    if let Some(score) = result.baseline_score {
        object = object.set("baselineScore", f64::from(score))?;
    }
    if let Some(cam) = &result.cam {
        object = object.set("camLayer", cam.layer.as_str())?;
    }
    Ok(object)
}
