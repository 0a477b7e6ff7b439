//! Explanation methods built on the forward trace and the backward pass, each with its catalogue entry
//! ([`crate::catalogue`]): the views of the network itself ([`inspect`]), the deconvnet, the attribution
//! methods, the runtime monitor, the views of a whole data set ([`dataset`]), the neural response map ([`nrm`]) and
//! CNN-VIS's volume views ([`volume`]).

pub mod attribution;
pub mod dataset;
pub mod deconvnet;
pub mod featureviz;
pub mod gram;
pub mod inspect;
pub mod job;
pub mod monitor;
pub mod nrm;
pub mod texture;
pub mod volume;
