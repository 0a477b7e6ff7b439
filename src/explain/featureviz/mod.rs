//! Feature visualization by optimization (Erhan et al. 2009; Simonyan et al. 2013; Yosinski et al. 2015;
//! Olah, Mordvintsev & Schubert, *Feature Visualization*, Distill 2017): images optimized so that the
//! network does something — fires a channel, a neuron or a class, matches a layer's features — starting from
//! seeded noise.
//!
//! Three small algebras joined by one optimizer, as in Lucid:
//! - [`objective`]: what to climb (`channel`, `unit`, `neuron`, `class_logit`, `class_log_prob`, `energy`,
//!   `feature_match`, `diversity`, added and scaled);
//! - [`fourier`] and [`render::Parameterization`]: how numbers make an image (pixels, decorrelated Fourier);
//! - [`transform`]: random jitter, scale and rotation each step; [`regularize`]: L2/α-norm, total
//!   variation, blur every k steps, clipping;
//! - [`render::Render`]: the step-wise Adam optimizer that joins them.
//!
//! The catalogue entries: `visualize` ([`visualize`], which also declares the options the others share),
//! `atlas` ([`atlas`]), `dream` ([`dream`]) and `invert` ([`inversion`]); each runs step by step as a
//! [`crate::explain::job::Job`] whose output is a list of [`Picture`]s.
//!
//! Activation maximization and class images, atlases of a layer ([`atlas`]) and feature inversion
//! ([`inversion`]) are that optimizer with different objectives and defaults; DeepDream ([`dream`]) climbs
//! a layer's energy by the paper's normalized gradient ascent over octaves of growing size, through the
//! network's conv prefix at any size (`model::prefix`).

pub mod atlas;
pub mod dream;
pub mod fourier;
pub mod inversion;
pub mod job;
pub mod objective;
pub mod regularize;
pub mod render;
pub mod transform;
pub mod visualize;

pub use objective::Objective;
pub use regularize::Regularizers;
pub use render::{Parameterization, Picture, Progress, Render, RenderOptions, Rendered, Start};
pub use transform::Transforms;
