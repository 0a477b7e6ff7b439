//! The free functions of the JS API, each the one source of a thing the page needs besides a model:
//! `catalogue()` (every technique, [`crate::catalogue`]), `colormaps()` (the Rust colormap tables as
//! 256-entry lookup tables), `decodeIdx()` (the IDX decoder of [`crate::io::idx`]) and `manifestFiles()`
//! (the names a manifest points at, checked by the manifest-relative resolver of [`crate::io::files`]).

use super::{args, to_js, JsObject};
use crate::io::files::{ManifestFiles, MAX_MANIFEST_BYTES};
use crate::io::idx;
use crate::model::manifest::Manifest;
use crate::render::colormap::Colormap;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

/// The types of the catalogue (generated from it, `src/bindings/catalogue.d.ts`) and of the free functions.
#[wasm_bindgen(typescript_custom_section)]
const CATALOGUE_TYPES: &'static str = include_str!("catalogue.d.ts");

#[wasm_bindgen(typescript_custom_section)]
const FREE_FUNCTION_TYPES: &'static str = r#"
export type OptionType = "int" | "float" | "choice" | "unit" | "layer" | "class" | "text" | "flag";
/** One option of a technique; `default: null` = none (`required`) or the technique's own choice. */
export interface TechniqueOption {
  key: string; flag: string; label: string; help: string; type: OptionType;
  common: boolean; required: boolean; default: number | string | boolean | null;
  /** int and float: the valid range (`max: null` = bounded by the model, e.g. a layer's channels). */
  min?: number; max?: number | null; step?: number;
  /** float: a whole image (C·H·W numbers) is accepted too. */
  perPixel?: boolean;
  /** choice: the values, and their labels. */
  choices?: { value: string; label: string }[];
  /** layer: the manifest layer types allowed (empty = any). */
  layerTypes?: string[];
}
export type OutputKind =
  "signed-map" | "unsigned-map" | "volume" | "matrix" | "table" | "gallery" | "scatter" | "images";
export interface Technique {
  id: TechniqueId; label: string; family: string; command: string; output: OutputKind;
  longRunning: boolean; stateful: string | null; summary: string; explanation: string;
  paper: { title: string; authors: string; year: number; url: string } | null;
  options: TechniqueOption[];
  /** The family's declared default (the attribution panel's first method; `convscope attribute` without --method). */
  familyDefault: boolean;
}
export type Colormap = { name: ColormapName; signed: boolean; lut: Uint8Array };
export type Idx = { dims: number[]; data: Uint8Array };
export type ManifestFiles = { weights: string; monitor?: string };
"#;

/// Every technique, in the order the page lists them (see `docs/js-api.md`).
#[wasm_bindgen(unchecked_return_type = "Technique[]")]
pub fn catalogue() -> Result<JsValue, JsError> {
    to_js(&crate::catalogue::describe())
}

/// Every colormap as `{ name, signed, lut }`: `signed` for a diverging map (centred on zero), `lut` 256 RGB
/// triples (768 bytes) for `t = i/255`.
#[wasm_bindgen(unchecked_return_type = "Colormap[]")]
pub fn colormaps() -> Result<Array, JsError> {
    Colormap::ALL
        .iter()
        .map(|&colormap| {
            Ok(JsValue::from(
                JsObject::new()
                    .set("name", colormap.name())?
                    .set("signed", colormap.signed())?
                    .set("lut", Uint8Array::from(&colormap.lut()[..]))?,
            ))
        })
        .collect()
}

/// An IDX file (raw or gzip) of unsigned bytes: `{ dims, data }`.
#[wasm_bindgen(js_name = decodeIdx, unchecked_return_type = "Idx")]
pub fn decode_idx(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
) -> Result<JsValue, JsError> {
    let bytes = args::bytes("IDX bytes", &bytes, idx::MAX_DECOMPRESSED_BYTES)?;
    let decoded = idx::decode(&bytes)?;
    Ok(JsObject::new()
        .set("dims", super::number_array(&decoded.dims))?
        .set("data", Uint8Array::from(&decoded.data[..]))?
        .into())
}

/// The files a manifest names, checked: `{ weights, monitor? }`, relative to the manifest (join them to its
/// URL with `new URL(name, manifestUrl)`). Errors on an absolute path, `..`, a URL scheme or a non-string.
#[wasm_bindgen(js_name = manifestFiles, unchecked_return_type = "ManifestFiles")]
pub fn manifest_files(
    #[wasm_bindgen(unchecked_param_type = "string")] manifest_json: JsValue,
) -> Result<JsValue, JsError> {
    let text = args::text("manifest", &manifest_json, MAX_MANIFEST_BYTES as u32)?;
    let manifest = Manifest::parse(super::without_bom(&text))?;
    let files = ManifestFiles::of(&manifest)?;
    let mut object = JsObject::new().set("weights", files.weights.as_str())?;
    if let Some(monitor) = &files.monitor {
        object = object.set("monitor", monitor.as_str())?;
    }
    Ok(object.into())
}
