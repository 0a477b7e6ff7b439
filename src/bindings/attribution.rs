//! `Model.attribute`: the attribution methods of [`crate::explain::attribution`] for the page's attribution
//! panel. The options object is read as JSON into [`Options`] (camelCase keys, unknown keys are an error); the long methods report progress through an optional JS callback `(done, total) => void`, which is
//! how the page's Web Worker (`www/js/worker.js`) shows a progress bar.

use super::{js_error, JsObject, Model};
use crate::explain::attribution::{self, Method, Options};
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Model {
    /// Attributes a class score to the input pixels with `method` (`gradient`, `saliency`, `guided-backprop`,
    /// `deconvnet`, `gradient-x-input`, `integrated-gradients`, `smoothgrad`, `grad-cam`, `guided-grad-cam`,
    /// `occlusion`). Returns `{ method, shape, data, target, score, signed, completenessGap?, baselineScore?,
    /// camLayer? }`: `shape` is `[C, H, W]` like the input (`[H, W]` for Grad-CAM), `data` the raw values,
    /// `signed` whether a diverging colormap fits.
    #[wasm_bindgen(unchecked_return_type = "Attribution")]
    pub fn attribute(
        &self,
        image: &[f32],
        #[wasm_bindgen(unchecked_param_type = "AttributionMethod")] method: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "AttributionOptions")] options: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "(done: number, total: number) => void")]
        progress: Option<Function>,
    ) -> Result<JsValue, JsError> {
        let method: Method = method.parse().map_err(js_error)?;
        let options: Options = if options.is_undefined() || options.is_null() {
            Options::default()
        } else {
            // Through JSON rather than serde-wasm-bindgen, which reads only the known keys: a misspelt option
            // must be an error, not silently ignored.
            let json = js_sys::JSON::stringify(&options)
                .map_err(|_| JsError::new("attribution options must be a plain object"))?;
            serde_json::from_str(&String::from(json))
                .map_err(|e| JsError::new(&format!("invalid attribution options: {e}")))?
        };
        let image = self.image(image)?;
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
            attribution::attribute_with_progress(&self.net, &image, method, &options, &mut report)
                .map_err(js_error)?;
        if let Some(error) = callback_error {
            return Err(JsError::new(&format!(
                "the progress callback threw: {}",
                error.as_string().unwrap_or_else(|| format!("{error:?}"))
            )));
        }
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
        Ok(object.into())
    }
}
