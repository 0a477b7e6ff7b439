//! The model: a JSON manifest describing a sequential network ([`manifest`]), the network it builds
//! ([`network`]: shapes checked once, the forward pass), the forward trace and the backward pass through it
//! ([`trace`]), batched passes (`batch.rs`), loading (`load.rs`: strict, from safetensors) and saving
//! ([`save`]). The per-layer steps live in [`crate::layers::Layer`].

mod batch;
mod load;
pub mod manifest;
pub mod network;
pub mod prefix;
pub mod save;
pub mod trace;

pub use load::MAX_ABS_WEIGHT;
