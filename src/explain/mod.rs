//! Explanation methods built on the forward trace and the backward pass, each with its catalogue entry
//! ([`crate::catalogue`]): the views of the network itself ([`inspect`]), the deconvnet, the attribution
//! methods, the runtime monitor and the views of a whole data set ([`dataset`]).

pub mod attribution;
pub mod dataset;
pub mod deconvnet;
pub mod featureviz;
pub mod gram;
pub mod inspect;
pub mod job;
pub mod monitor;
pub mod texture;
