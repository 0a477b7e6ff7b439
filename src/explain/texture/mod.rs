//! Gram matrices, texture synthesis and neural style transfer (issue 16), for digits through the loaded
//! model and for colour images through a random multi-scale network.
//!
//! - [`random_net`]: the built-in random network of Ustyuzhaninov et al. (ICLR 2017), 32 filters at each of
//!   3, 5, 7 and 11 px, ReLU (RGB, fixed seed);
//! - [`features`]: the two feature spaces behind one interface (the model's conv prefix at chosen layers,
//!   any image size it accepts; the random network's 128 maps);
//! - [`loss`]: the relative style loss `Σ_l w_l ‖G_l − Ĝ_l‖²/‖Ĝ_l‖²` on the Gram matrices of
//!   `crate::explain::gram`, the content loss `‖F − F̂‖²/‖F̂‖²`, both with their gradients;
//! - [`synthesis`]: texture synthesis (Gatys et al. 2015) and style transfer (Gatys et al. 2016), step-wise
//!   Adam on the pixels;
//! - [`catalogue`]: their catalogue entries (`gram`, `texture`, `style-transfer`) and the reading of their
//!   options.

pub mod catalogue;
pub mod coarse;
pub mod features;
pub mod job;
pub mod loss;
pub mod random_net;
pub mod synthesis;

pub use catalogue::{
    gram_of, net_from, options_from, style_distance, Net, GRAM, GRAM_LAYER, STYLE, TEXTURE,
};
pub use coarse::{RandomLayer, COARSE_LAYER, RANDOM_LAYER};
pub use features::FeatureNet;
pub use loss::{ContentTarget, StyleTarget};
pub use random_net::RandomNet;
pub use synthesis::{
    Backbone, Losses, Progress, StartFrom, Synthesis, SynthesisOptions, Synthesized,
};
