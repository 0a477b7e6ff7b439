//! File formats and file access: safetensors weights, IDX data sets, sets of pictures, images, the preprocessing of digit
//! pictures, and the manifest-relative, size-capped reads of [`files`].
pub mod files;
pub mod idx;
pub mod image;
pub mod pictures;
pub mod preprocess;
pub mod safetensors;
