//! SmoothGrad (Smilkov et al. 2017): the mean of a single-pass gradient method ([`super::gradient`]) over
//! noisy copies of the input,
//!
//! `map = (1/n) Σ_{i=1..n} M(x + ε_i)`, `ε_i ~ N(0, σ²)` per pixel, `σ = sigma · (max(x) − min(x))`,
//!
//! i.e. `sigma` is the noise level as a fraction of the image's value range, as in the paper. For an image
//! whose pixels are all equal the range is taken as 1, the nominal range of raw `[0, 1]` pixels. The noise is
//! not clipped. The target class stays the one chosen for the clean input. The noise comes from
//! [`crate::rng::Rng`] seeded with `seed`, so a result is reproducible on every platform. Means are
//! accumulated in `f64`, which makes `sigma = 0` return the base method's map exactly.
//! Shapes: `[C, H, W]` in and out.

use super::gradient::GradientSum;
use super::integrated::BATCH;
use super::{gradient, Method, TargetScore};
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::{Network, Trace};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Largest accepted number of samples.
pub const MAX_SAMPLES: usize = 100_000;

/// SmoothGrad parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// The averaged method: one of the single-pass gradient methods.
    pub base: Method,
    /// Number of noisy samples `n ≥ 1`.
    pub samples: usize,
    /// Noise standard deviation as a fraction of the image's value range (≥ 0).
    pub sigma: f32,
    pub seed: u64,
}

/// The absolute noise standard deviation for `image`: `sigma · (max − min)`, or `sigma` when the image is flat.
pub fn noise_std(image: &Tensor, sigma: f32) -> f32 {
    let (lo, hi) = image.min_max();
    let range = if hi > lo { hi - lo } else { 1.0 };
    sigma * range
}

/// SmoothGrad of the input of `trace`, calling `progress(i, samples)` after each sample.
pub fn smoothgrad(
    net: &Network,
    trace: &Trace,
    target: &TargetScore,
    params: &Params,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Tensor> {
    if params.base.relu_rule().is_none() {
        return Err(Error::invalid(format!(
            "SmoothGrad averages a gradient method ({}), not {}",
            gradient::method_names(),
            params.base.name()
        )));
    }
    if !(1..=MAX_SAMPLES).contains(&params.samples) {
        return Err(Error::invalid(format!(
            "SmoothGrad needs 1 to {MAX_SAMPLES} samples, got {}",
            params.samples
        )));
    }
    if !(params.sigma.is_finite() && params.sigma >= 0.0) {
        return Err(Error::invalid(format!(
            "SmoothGrad noise level sigma must be a finite number ≥ 0 (a fraction of the image's value range, \
             e.g. 0.15), got {}",
            params.sigma
        )));
    }
    let x = trace.input();
    let std = noise_std(x, params.sigma);
    let mut rng = Rng::new(params.seed);
    let rule = params.base.relu_rule().unwrap_or(ReluRule::Gradient);
    // Bases whose map is the signal itself are averaged as signals (summed part-way, see GradientSum);
    // saliency and gradient × input finish every sample's map first.
    let mut signals =
        gradient::finish_is_identity(params.base).then(|| GradientSum::new(net, rule));
    let mut maps = vec![0.0f64; x.len()];
    let mut done = 0;
    while done < params.samples {
        let batch = BATCH.min(params.samples - done);
        let noisy = (0..batch)
            .map(|_| {
                let values = x.data().iter().map(|&xi| xi + std * rng.normal()).collect();
                Tensor::from_vec(x.shape(), values)
            })
            .collect::<Result<Vec<Tensor>>>()?;
        let traces = net.forward_batch(&noisy)?;
        let traces: Vec<&Trace> = traces.iter().collect();
        let seeds = traces
            .iter()
            .map(|t| target.logit_gradient(t))
            .collect::<Result<Vec<Tensor>>>()?;
        match signals.as_mut() {
            Some(sum) => sum.add(&traces, seeds, target)?,
            None => {
                let grads = net.backward_batch(&traces, target.logits, seeds, rule, None)?;
                for (mut map, input) in grads.into_iter().zip(&noisy) {
                    gradient::finish(params.base, &mut map, input);
                    for (s, m) in maps.iter_mut().zip(map.data()) {
                        *s += *m as f64;
                    }
                }
            }
        }
        for i in done..done + batch {
            progress(i + 1, params.samples);
        }
        done += batch;
    }
    let n = params.samples as f64;
    let mean: Vec<f32> = match signals {
        Some(sum) => sum
            .finish(trace, 1.0 / n)?
            .iter()
            .map(|&s| s as f32)
            .collect(),
        None => maps.iter().map(|s| (s / n) as f32).collect(),
    };
    Tensor::from_vec(x.shape(), mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_relative_to_the_image_range() {
        let t = Tensor::from_vec(&[1, 1, 3], vec![0.2, 0.7, 0.4]).unwrap();
        assert!((noise_std(&t, 0.1) - 0.05).abs() < 1e-7);
        let flat = Tensor::from_vec(&[1, 1, 2], vec![0.3, 0.3]).unwrap();
        assert_eq!(noise_std(&flat, 0.2), 0.2);
    }
}
