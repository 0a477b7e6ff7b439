//! `Model.attribute`: the attribution methods of [`crate::explain::attribution`] for the page's attribution
//! panel. The options object is checked against the method's catalogue entry ([`Options::from_json`]): a key
//! the method does not have is an error naming it. The long methods report progress through an optional JS
//! callback `(done, total) => void`, or run step by step through the generic `model.start(id, image,
//! options)` of `bindings/job.rs` (the same bits as `attribute`).

use super::{args, JsObject, Model};
use crate::explain::attribution::{self, Attribution, Method, Options};
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
