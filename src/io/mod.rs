//! File formats: safetensors weights, IDX data sets, images.
pub mod idx;
pub mod image;
pub mod safetensors;
