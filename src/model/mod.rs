//! The model: a JSON manifest describing a sequential network, and the network it builds.

pub mod manifest;
pub mod network;
