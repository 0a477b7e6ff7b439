//! Explanation methods built on the forward trace and the backward pass, each with its catalogue entry
//! ([`crate::catalogue`]): the views of the network itself ([`inspect`]), the deconvnet, the attribution
//! methods and the runtime monitor.

pub mod attribution;
pub mod deconvnet;
pub mod featureviz;
pub mod gram;
pub mod inspect;
pub mod monitor;
pub mod texture;
