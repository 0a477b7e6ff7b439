//! The layer operations, one file each, forward beside backward and beside the transposed operation the
//! deconvnet uses. All work on one image at a time (CHW feature maps, `[n]` vectors); a batch is a loop.

pub mod conv2d;
pub mod linear;
pub mod pool;
pub mod relu;
pub mod simd;
pub mod softmax;
