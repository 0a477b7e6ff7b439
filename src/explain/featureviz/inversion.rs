//! Feature inversion (Mahendran & Vedaldi, *Understanding Deep Image Representations by Inverting Them*,
//! 2015): from the features `Φ₀ = Φ_L(x₀)` of an input at layer `L`, an image `x` minimizing
//!
//! ```text
//! ‖Φ_L(x) − Φ₀‖² / ‖Φ₀‖²  +  λ_α·R_α(x)  +  λ_TV·R_TV(x)
//! ```
//!
//! (`R_α`, `R_TV` as in [`super::regularize`], here with α = 6 and β = 2), found by the shared optimizer
//! from seeded noise: the objective is `feature_match(L, Φ₀)`, without random transforms. Units of a layer
//! behind a ReLU that the target has on but the image has off are pulled up through the pre-activation
//! ([`super::objective`]): without that pull pool2's error stalls near 5 %. What the
//! reconstruction keeps is what the layer knows about the input: nearly everything after conv1, the
//! strokes' layout after pool2, what the class "means" after fc3.

use super::objective::Objective;
use super::regularize::Regularizers;
use super::render::{Parameterization, Render, RenderOptions, Start, MAX_STEPS};
use super::transform::Transforms;
use super::visualize;
use crate::catalogue::options::{Kind, OptionSpec, Values};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::model::network::Network;
use crate::tensor::Tensor;

/// The default options of an inversion: 300 Adam steps at 0.05 on the pixels from faint seeded noise, no
/// transforms, α-norm (α = 6) weight 0.01, total variation (β = 2)
/// weight 0.002, clipping to `[0, 1]`. Tuned on
/// the shipped MNIST model (docs/featureviz.md).
pub fn default_options(seed: u64) -> RenderOptions {
    RenderOptions {
        steps: STEPS.usize_default(),
        lr: visualize::LR.float_default() as f32,
        seed,
        batch: 1,
        param: Parameterization::Pixels,
        transforms: Transforms::NONE,
        regularizers: Regularizers {
            norm: NORM.float_default() as f32,
            alpha: ALPHA.float_default() as f32,
            tv: TV.float_default() as f32,
            beta: 2.0,
            blur_every: 0,
            blur_sigma: 0.0,
            clip: true,
        },
        start: Start::Noise {
            mean: 0.1,
            spread: 0.1,
        },
    }
}

/// The features of `image` at `layer` (the layer's output).
pub fn features(net: &Network, image: &Tensor, layer: &str) -> Result<Tensor> {
    let i = super::objective::layer_index(net, layer)?;
    Ok(net.forward(image)?.outputs()[i].clone())
}

/// A render that reconstructs `image` from its features at `layer`.
pub fn invert(
    net: &Network,
    image: &Tensor,
    layer: &str,
    options: RenderOptions,
) -> Result<Render> {
    let target = features(net, image, layer)?;
    Render::new(net, &Objective::feature_match(layer, target), options)
}

/// `‖Φ_L(x) − Φ₀‖² / ‖Φ₀‖²`: how far `x`'s features at `layer` are from `image`'s.
pub fn relative_feature_error(
    net: &Network,
    x: &Tensor,
    image: &Tensor,
    layer: &str,
) -> Result<f64> {
    let (a, t) = (features(net, x, layer)?, features(net, image, layer)?);
    let norm: f64 = t.data().iter().map(|&v| (v as f64).powi(2)).sum();
    if norm == 0.0 {
        return Err(Error::option(
            "layer",
            format!("the features at {layer} are all zero"),
        ));
    }
    let diff: f64 = a
        .data()
        .iter()
        .zip(t.data())
        .map(|(&p, &q)| (p as f64 - q as f64).powi(2))
        .sum();
    Ok(diff / norm)
}

/// Pearson correlation of two images' pixels (0 when either is constant).
pub fn pixel_correlation(a: &Tensor, b: &Tensor) -> f64 {
    let n = a.len().min(b.len()).max(1) as f64;
    let mean = |t: &Tensor| t.data().iter().map(|&v| v as f64).sum::<f64>() / n;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&p, &q) in a.data().iter().zip(b.data()) {
        let (p, q) = (p as f64 - ma, q as f64 - mb);
        ab += p * q;
        aa += p * p;
        bb += q * q;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "the layer whose features of the input to invert",
    kind: Kind::Layer { types: &[] },
    common: false,
    required: true,
};
pub const STEPS: OptionSpec = OptionSpec::int(
    "steps",
    "steps",
    "Steps",
    "Adam steps",
    [1, MAX_STEPS as u64, 300],
);
pub const TV: OptionSpec = OptionSpec::float(
    "tv",
    "tv",
    "Total variation",
    "weight λ_TV of the total-variation prior (β = 2)",
    [0.0, 10_000.0, 0.001],
    Some(0.002),
);
pub const ALPHA: OptionSpec = OptionSpec::float(
    "alpha",
    "alpha",
    "α",
    "exponent of the α-norm prior",
    [1.0, 8.0, 0.5],
    Some(6.0),
);
pub const NORM: OptionSpec = OptionSpec::float(
    "norm",
    "norm",
    "α-norm weight",
    "weight λ_α of the α-norm prior",
    [0.0, 10_000.0, 0.001],
    Some(0.01),
);

pub const MAHENDRAN: Paper = Paper {
    title: "Understanding Deep Image Representations by Inverting Them",
    authors: "Mahendran & Vedaldi",
    year: 2015,
    url: "https://arxiv.org/abs/1412.0035",
};

pub const TECHNIQUE: Technique = Technique {
    id: "invert",
    label: "Feature inversion",
    family: Family::FeatureVisualization,
    command: "invert",
    output: OutputKind::Images,
    long_running: true,
    stateful: None,
    summary: "What a layer still knows about the input: an image with the same features there.",
    explanation: "From seeded noise, an image whose features at the layer match the input's (their \
                  squared difference over the input features' squared norm), under an α-norm and a \
                  total-variation prior. From conv1 the reconstruction is nearly the input; after pool2 \
                  the strokes' layout remains; from fc3 only what the class means.",
    paper: Some(MAHENDRAN),
    options: &[LAYER, STEPS, visualize::LR, TV, ALPHA, NORM, visualize::SEED],
};

/// The layer and options of an `invert` call from its checked options.
pub fn from_values(values: &Values) -> Result<(String, RenderOptions)> {
    let layer = values
        .text(&LAYER)
        .ok_or_else(|| Error::option("layer", "invert needs the layer to invert, e.g. pool2"))?;
    let seed = values
        .int(&visualize::SEED)
        .unwrap_or(visualize::SEED.int_default());
    let mut options = default_options(seed);
    options.steps = values.usize_or_default(&STEPS);
    options.lr = values.float_or_default(&visualize::LR) as f32;
    options.regularizers.tv = values.float_or_default(&TV) as f32;
    options.regularizers.alpha = values.float_or_default(&ALPHA) as f32;
    options.regularizers.norm = values.float_or_default(&NORM) as f32;
    Ok((layer.to_string(), options))
}
