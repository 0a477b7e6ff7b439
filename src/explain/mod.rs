//! Explanation methods built on the forward trace and the backward pass.
