//! File formats and file access: safetensors weights, IDX data sets, images, and the manifest-relative,
//! size-capped reads of [`files`].
pub mod files;
pub mod idx;
pub mod image;
pub mod safetensors;
