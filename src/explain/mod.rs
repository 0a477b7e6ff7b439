//! Explanation methods built on the forward trace and the backward pass.

pub mod attribution;
pub mod deconvnet;
pub mod featureviz;
pub mod gram;
pub mod monitor;
