//! The feature-visualization techniques in one call each: `model.visualize(options)` (activation
//! maximization, class images), `model.atlas(options)`, `model.dream(image, options)` and
//! `model.invert(image, options)`, every options object checked against the technique's catalogue entry.
//! Each is its step-wise job (`model.start(id, image, options)`, `bindings/job.rs`) run to the end, so both
//! give the same bits; the page's worker runs the jobs, with a live preview at every step and an atlas
//! filled in cell by cell. Results (and previews) are `{ images: [{ title, shape, data, objective,
//! history }] }`, raw pixels in `[0, 1]`.

use super::{args, JsObject, Model};
use crate::catalogue::Technique;
use crate::explain::featureviz::{atlas, dream, inversion, visualize, Picture};
use crate::explain::job::{Job, Output};
use crate::tensor::Tensor;
use js_sys::{Array, Float64Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const FEATUREVIZ_TYPES: &'static str = r#"
/** One optimized image: raw pixels [C, H, W] in [0, 1], the objective it reached, its value at every step. */
export type Picture = Tensor & { title: string; objective: number; history: Float64Array };
/** What a feature visualization gives: the batch's images, an atlas's cells (in order), the dream. */
export type Pictures = { images: Picture[] };
"#;

#[wasm_bindgen]
impl Model {
    /// Activation maximization: images (a batch of `batch`) that maximize `options.objective` (`"class:3"`,
    /// `"conv2:5"`, `"fc2:17"`, `"conv2:5@4,4"`, terms joined by commas), from seeded noise.
    #[wasm_bindgen(unchecked_return_type = "Pictures")]
    pub fn visualize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VisualizeOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        self.run(&visualize::TECHNIQUE, None, &options)
    }

    /// One image per cell of `options.layer`'s atlas (every channel or unit; the classes by default).
    #[wasm_bindgen(unchecked_return_type = "Pictures")]
    pub fn atlas(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "AtlasOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        self.run(&atlas::TECHNIQUE, None, &options)
    }

    /// DeepDream of `image` (the model's input size): the dreamed image, larger after its octaves.
    #[wasm_bindgen(unchecked_return_type = "Pictures")]
    pub fn dream(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DreamOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let image = self.image(&image)?;
        self.run(&dream::TECHNIQUE, Some(&image), &options)
    }

    /// Feature inversion of `image` from its features at `options.layer`.
    #[wasm_bindgen(unchecked_return_type = "Pictures")]
    pub fn invert(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "InvertOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let image = self.image(&image)?;
        self.run(&inversion::TECHNIQUE, Some(&image), &options)
    }
}

impl Model {
    /// `technique`'s job run to its end.
    fn run(
        &self,
        technique: &'static Technique,
        image: Option<&Tensor>,
        options: &JsValue,
    ) -> Result<JsValue, JsError> {
        let values = technique.values_from_json(&args::options(options)?)?;
        let output = Job::start(&self.net, technique, image, &values)?.run(&self.net)?;
        match &output {
            Output::Pictures(pictures) => Ok(pictures_object(pictures)?.into()),
            _ => Err(crate::Error::internal("a feature visualization gave another output").into()),
        }
    }
}

/// `{ images: [{ title, shape, data, objective, history }] }`.
pub(super) fn pictures_object(pictures: &[Picture]) -> Result<JsObject, JsError> {
    let images = pictures
        .iter()
        .map(|p| {
            Ok(JsValue::from(
                JsObject::tensor(p.image.shape(), p.image.data())?
                    .set("title", p.title.as_str())?
                    .set("objective", p.objective)?
                    .set("history", Float64Array::from(&p.history[..]))?,
            ))
        })
        .collect::<Result<Array, JsError>>()?;
    JsObject::new().set("images", images)
}
