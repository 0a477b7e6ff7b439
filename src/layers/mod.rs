//! The layer operations, one file each, and the closed set of layers a network is made of ([`Layer`], the
//! one place that dispatches on it). Each operation sits forward beside backward and beside the transposed operation the
//! deconvnet uses. They work on one image at a time (CHW feature maps, `[n]` vectors), except the linear
//! layer, which also takes a batch (its weights are the one operand too large for the L1 cache). The hot
//! loops are written on four-lane vectors ([`simd`]), WebAssembly SIMD128 in the page's build.

pub mod conv2d;
pub mod layer;
pub mod linear;
pub mod pool;
pub mod relu;
pub mod simd;
pub mod softmax;

pub use layer::Layer;
