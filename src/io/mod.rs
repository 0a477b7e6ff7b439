//! File formats: safetensors weights, IDX data sets, images; and the preprocessing of digit pictures.
pub mod idx;
pub mod image;
pub mod preprocess;
pub mod safetensors;
