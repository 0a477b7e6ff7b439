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
use super::render::{Parameterization, Render, RenderOptions, Start};
use super::transform::Transforms;
use crate::error::{Error, Result};
use crate::model::network::Network;
use crate::tensor::Tensor;

/// The default options of an inversion: 300 Adam steps at 0.05 on the pixels from faint seeded noise, no
/// transforms, α-norm (α = 6) weight 0.01, total variation (β = 2)
/// weight 0.002, clipping to `[0, 1]`. Tuned on
/// the shipped MNIST model (docs/featureviz.md).
pub fn default_options(seed: u64) -> RenderOptions {
    RenderOptions {
        steps: 300,
        lr: 0.05,
        seed,
        batch: 1,
        param: Parameterization::Pixels,
        transforms: Transforms::NONE,
        regularizers: Regularizers {
            norm: 0.01,
            alpha: 6.0,
            tv: 0.002,
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
