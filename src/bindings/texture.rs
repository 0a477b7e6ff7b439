//! Gram matrices, texture synthesis and style transfer (`crate::explain::texture`): `model.gram(image,
//! options, reference?)`, `model.texture(style, options)` and `model.styleTransfer(content, style, options)`,
//! every options object checked against the technique's catalogue entry, and the free function
//! `decodeImage(bytes, channels)` that reads an image file as the CLI does (RGB planes for the random
//! network, luminance for the model). The two syntheses are their step-wise job (`model.start(id, image,
//! options, style)`, `bindings/job.rs`) run to the end, so both give the same bits. Images of any size cross
//! as `Tensor`s `{ shape: [C, H, W], data }` of raw pixels in `[0, 1]`; a `Float32Array` is an image of the
//! model's input size.

use super::{args, JsObject, Model};
use crate::catalogue::Technique;
use crate::error::{Error, Result as CoreResult};
use crate::explain::job::{Job, Output};
use crate::explain::texture::synthesis::MAX_SIDE;
use crate::explain::texture::{self, Losses};
use crate::io::files::MAX_IMAGE_BYTES;
use crate::io::image;
use crate::tensor::Tensor;
use js_sys::{Array, Float32Array, Float64Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TEXTURE_TYPES: &'static str = r#"
/**
 * A synthesized image (raw pixels [C, H, W] in [0, 1]) and the total loss at every step; a finished one also
 * has its losses (`contentLoss` for a transfer only: its square root is the content layer's relative error).
 */
export type Synthesized = Tensor & {
  history: Float64Array; loss?: number; styleLoss?: number; contentLoss?: number;
};
/** A layer's Gram matrix [C, C]; `styleDistance` ‖G − Ĝ‖² / ‖Ĝ‖² against the reference image's, when given. */
export type Gram = Tensor & { layer: string; styleDistance?: number };
"#;

#[wasm_bindgen]
impl Model {
    /// The Gram matrix `G = F Fᵀ / (H·W)` of `options.layer` (a layer of the conv prefix) for `image`, and,
    /// with `reference`, the relative style distance of `image` from it at that layer.
    #[wasm_bindgen(unchecked_return_type = "Gram")]
    pub fn gram(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | Tensor")] image: JsValue,
        #[wasm_bindgen(unchecked_param_type = "GramOptions")] options: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Float32Array | Tensor")] reference: JsValue,
    ) -> Result<JsValue, JsError> {
        let values = texture::GRAM.values_from_json(&args::options(&options)?)?;
        let layer = values
            .text(&texture::GRAM_LAYER)
            .ok_or_else(|| Error::option("layer", "gram needs the layer"))?;
        let image = self.sized_image("image", &image)?;
        let g = texture::gram_of(&self.net, &image, layer)?;
        let object = JsObject::tensor(g.shape(), g.data())?.set("layer", layer)?;
        if reference.is_undefined() || reference.is_null() {
            return Ok(object.into());
        }
        let reference = self.sized_image("reference", &reference)?;
        let distance = texture::style_distance(&self.net, &image, &reference, layer)?;
        Ok(object.set("styleDistance", distance)?.into())
    }

    /// A texture with the Gram matrices of `style` (`[3, H, W]` through the random network, `[1, H, W]`
    /// through the model), synthesized from seeded noise.
    #[wasm_bindgen(unchecked_return_type = "Synthesized")]
    pub fn texture(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Tensor")] style: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TextureOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        self.synthesize(&texture::TEXTURE, None, &style, &options)
    }

    /// `content` (a `Tensor`, or a `Float32Array` of the model's input size) painted with `style`'s
    /// Gram matrices.
    #[wasm_bindgen(js_name = styleTransfer, unchecked_return_type = "Synthesized")]
    pub fn style_transfer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | Tensor")] content: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Tensor")] style: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "StyleTransferOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        self.synthesize(&texture::STYLE, Some(&content), &style, &options)
    }
}

impl Model {
    /// `technique`'s job run to its end.
    fn synthesize(
        &self,
        technique: &'static Technique,
        content: Option<&JsValue>,
        style: &JsValue,
        options: &JsValue,
    ) -> Result<JsValue, JsError> {
        let values = technique.values_from_json(&args::options(options)?)?;
        let content = content
            .map(|c| self.sized_image("content", c))
            .transpose()?;
        let style = self.sized_image("style", style)?;
        let job = Job::start_styled(&self.net, technique, content.as_ref(), &style, &values)?;
        Ok(synthesis_object(&job.run(&self.net)?)?.into())
    }

    /// An image of any size: a `Tensor` `{ shape: [C, H, W], data: Float32Array }` (at most [`MAX_SIDE`]
    /// pixels a side, finite values) or a `Float32Array` of the model's input size.
    pub(super) fn sized_image(&self, what: &str, value: &JsValue) -> Result<Tensor, JsError> {
        if value.is_instance_of::<Float32Array>() {
            let pixels = args::float32_image(what, value, &self.net.input_shape())?;
            return Ok(self.net.image(pixels)?);
        }
        Ok(tensor(what, value)?)
    }
}

/// A `Tensor` object `{ shape: [C, H, W], data }` checked before the copy: C of 1 or 3, each side from 1 to
/// [`MAX_SIDE`], `data` a `Float32Array` of `C·H·W` finite values.
fn tensor(what: &str, value: &JsValue) -> CoreResult<Tensor> {
    let field = |key: &str| Reflect::get(value, &JsValue::from_str(key)).ok();
    let shape = field("shape").filter(|_| value.is_object() && !value.is_function());
    let shape = shape.filter(Array::is_array).ok_or_else(|| {
        Error::option(
            what,
            "must be a Tensor { shape: [C, H, W], data: Float32Array } (or a Float32Array of the model's input size)",
        )
    })?;
    let dims = Array::from(&shape);
    if dims.length() != 3 {
        return Err(Error::option(what, "shape must be [C, H, W]"));
    }
    let [c, h, w] = [0, 1, 2].map(|i| dims.get(i).as_f64().unwrap_or(f64::NAN));
    let c = args::index(&format!("{what} channels"), c, 3)?;
    if c != 1 && c != 3 {
        return Err(Error::out_of_range(
            format!("{what} channels"),
            c,
            "1 (grayscale) or 3 (RGB)",
        ));
    }
    let side = |name: &str, v: f64| {
        let n = args::index(&format!("{what} {name}"), v, MAX_SIDE as u64)?;
        if n == 0 {
            return Err(Error::out_of_range(
                format!("{what} {name}"),
                0,
                format!("1 to {MAX_SIDE}"),
            ));
        }
        Ok(n)
    };
    let shape = [c, side("height", h)?, side("width", w)?];
    let data = args::float32_image(what, &field("data").unwrap_or_default(), &shape)?;
    let tensor = Tensor::from_vec(&shape, data)?;
    tensor.check_finite(what)?;
    Ok(tensor)
}

/// Decodes a PNG, JPEG or PGM/PPM file (`bytes`) to `{ shape: [C, H, W], data }` raw pixels in `[0, 1]`:
/// RGB planes for `channels` = 3 (the random network's input), luminance for 1 (the model's), as the CLI
/// reads `--style` and `--content`.
#[wasm_bindgen(js_name = decodeImage, unchecked_return_type = "Tensor")]
pub fn decode_image(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "1 | 3")] channels: f64,
) -> Result<JsValue, JsError> {
    let bytes = args::bytes("image file", &bytes, MAX_IMAGE_BYTES)?;
    let image = match args::index("channels", channels, 3)? {
        3 => image::decode_rgb(&bytes)?,
        1 => {
            let gray = image::decode(&bytes)?;
            Tensor::from_vec(&[1, gray.height, gray.width], gray.pixels)?
        }
        c => return Err(Error::out_of_range("channels", c, "1 (luminance) or 3 (RGB)").into()),
    };
    Ok(JsObject::tensor(image.shape(), image.data())?.into())
}

/// `{ shape, data, history, loss?, styleLoss?, contentLoss? }` of a synthesis job's output.
pub(super) fn synthesis_object(output: &Output) -> Result<JsObject, JsError> {
    let Output::Synthesis {
        image,
        history,
        losses,
    } = output
    else {
        return Err(Error::internal("a synthesis gave another output").into());
    };
    let object = JsObject::tensor(image.shape(), image.data())?
        .set("history", Float64Array::from(&history[..]))?;
    match losses {
        None => Ok(object),
        Some(Losses {
            style,
            content,
            total,
        }) => {
            let object = object.set("loss", *total)?.set("styleLoss", *style)?;
            match content {
                Some(c) => object.set("contentLoss", *c),
                None => Ok(object),
            }
        }
    }
}
