//! # convscope — a microscope for convolutional networks
//!
//! A dependency-light CNN engine (LeNet-5 and any sequential conv net a JSON manifest describes), the
//! deconvnet of Zeiler & Fergus (2013) and the classic attribution methods, in plain Rust that compiles to
//! WebAssembly for the browser page in `www/`.
//!
//! Data flow:
//! 1. [`io::safetensors`] reads PyTorch-named weights, [`model::manifest`] the architecture JSON;
//! 2. [`model::network::Network`] runs a forward pass that keeps every intermediate tensor and the max-pool
//!    switches ([`model::network::Trace`]);
//! 3. the backward pass ([`model::network::Network::backward`]) with a choice of ReLU rule serves training
//!    ([`train`]), the deconvnet and the attribution methods ([`explain`]);
//! 4. [`render`] turns maps into colormapped PNG grids for the CLI; [`bindings`] hands typed arrays to JS.
//!
//! Every technique is declared once in [`catalogue`] (options, defaults, ranges, explanations), in its own
//! file under [`explain`]; the CLI, the JS API and the page read it. [`io::files`] is the one place files are
//! resolved (relative to a manifest) and read (regular files, size-capped).
//!
//! Layouts: feature maps CHW, conv kernels OIHW, linear weights `[out, in]`, all row-major `f32`.

pub mod analysis;
pub mod bindings;
pub mod catalogue;
pub mod error;
pub mod explain;
pub mod io;
pub mod layers;
pub mod model;
pub mod render;
pub mod rng;
pub mod tensor;
#[cfg(test)]
mod testing;
pub mod train;

pub use error::{Error, Result};
pub use tensor::Tensor;
