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
use super::integrated::run_batches;
use super::{gradient, Method, TargetScore, COMMON};
use crate::catalogue::options::{Choice, Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::Trace;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Largest accepted number of samples.
pub const MAX_SAMPLES: usize = 100_000;

pub const SAMPLES: OptionSpec = OptionSpec {
    key: "samples",
    flag: "samples",
    label: "Samples",
    help: "noisy copies of the input averaged",
    kind: Kind::Int {
        min: 1,
        max: Some(MAX_SAMPLES as u64),
        default: Some(50),
    },
    common: false,
    required: false,
};

pub const SIGMA: OptionSpec = OptionSpec {
    key: "sigma",
    flag: "sigma",
    label: "Noise σ",
    help: "noise standard deviation, as a fraction of the input's value range",
    kind: Kind::Float {
        min: 0.0,
        max: 1.0,
        step: 0.01,
        default: Some(0.15),
        per_pixel: false,
    },
    common: false,
    required: false,
};

pub const SEED: OptionSpec = OptionSpec::seed(
    "seed of the noise (the same seed gives the same map on every platform)",
    0,
);

/// The single-pass methods SmoothGrad can average, with their catalogue labels.
const BASES: [Choice; 5] = {
    use gradient::{DECONVNET, GRADIENT, GRADIENT_X_INPUT, GUIDED_BACKPROP, SALIENCY};
    [
        GRADIENT.choice(),
        SALIENCY.choice(),
        GUIDED_BACKPROP.choice(),
        DECONVNET.choice(),
        GRADIENT_X_INPUT.choice(),
    ]
};

pub const BASE: OptionSpec = OptionSpec {
    key: "base",
    flag: "base",
    label: "Averaged method",
    help: "the single-pass method averaged over the noisy copies",
    kind: Kind::Choice {
        choices: &BASES,
        default: "gradient",
    },
    common: false,
    required: false,
};

pub const TECHNIQUE: Technique = Technique {
    id: "smoothgrad",
    label: "SmoothGrad",
    family: Family::Attribution,
    command: "attribute",
    output: OutputKind::SignedMap,
    long_running: true,
    stateful: None,
    summary: "A gradient map with the speckle averaged away: the strokes that matter stand out.",
    explanation: "The mean of a single-pass map (the gradient by default) over noisy copies of the input, \
                  x + N(0, σ²) per pixel with σ a fraction of the image's value range. Averaging removes the \
                  sharp local fluctuations of the gradient. Unsigned when it averages saliency.",
    paper: Some(Paper {
        title: "SmoothGrad: removing noise by adding noise",
        authors: "Smilkov, Thorat, Kim, Viégas & Wattenberg",
        year: 2017,
        url: "https://arxiv.org/abs/1706.03825",
    }),
    options: &[COMMON[0], COMMON[1], SAMPLES, SIGMA, SEED, BASE],
};

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

/// SmoothGrad in steps: the noise generator and the partial sums between batches of samples.
/// [`smoothgrad`] runs it to the end in one call; [`super::Job`] a few batches at a time, with the same
/// draws and additions in the same order.
#[derive(Debug, Clone)]
pub struct Run {
    params: Params,
    std: f32,
    rng: Rng,
    done: usize,
    /// The partial [`GradientSum`] of the bases whose map is the signal itself; `None` for the others,
    /// whose finished maps add up in `maps`.
    signals: Option<Vec<f64>>,
    maps: Vec<f64>,
}

impl Run {
    /// Checks the parameters; the noise level is taken from the input of `trace`.
    pub fn new(trace: &Trace, params: &Params) -> Result<Run> {
        if params.base.relu_rule().is_none() {
            let known: Vec<&str> = BASES.iter().map(|c| c.value).collect();
            return Err(Error::unknown(
                "method for SmoothGrad to average",
                params.base.name(),
                &known,
            ));
        }
        SAMPLES.check_int(TECHNIQUE.id, params.samples as u64)?;
        SIGMA.check_float(TECHNIQUE.id, f64::from(params.sigma))?;
        let x = trace.input();
        Ok(Run {
            params: *params,
            std: noise_std(x, params.sigma),
            rng: Rng::new(params.seed),
            done: 0,
            // Bases whose map is the signal itself are averaged as signals (summed part-way, see
            // GradientSum); saliency and gradient × input finish every sample's map first.
            signals: gradient::finish_is_identity(params.base).then(Vec::new),
            maps: vec![0.0f64; x.len()],
        })
    }

    /// `(samples done, samples in all)`.
    pub fn progress(&self) -> (usize, usize) {
        (self.done, self.params.samples)
    }

    fn rule(&self) -> ReluRule {
        self.params.base.relu_rule().unwrap_or(ReluRule::Gradient)
    }

    /// Runs the next `batches` batches of samples ([`super::BATCH`] each), calling `progress(i, samples)` after
    /// each sample.
    pub fn advance(
        &mut self,
        trace: &Trace,
        target: &TargetScore,
        batches: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let (net, x, rule) = (trace.network(), trace.input(), self.rule());
        let mut signals = self
            .signals
            .take()
            .map(|partial| GradientSum::resume(net, rule, partial));
        let Run {
            params,
            std,
            rng,
            done,
            maps,
            ..
        } = self;
        run_batches(done, params.samples, batches, progress, |_, batch| {
            let noisy = (0..batch)
                .map(|_| {
                    let values = x
                        .data()
                        .iter()
                        .map(|&xi| xi + *std * rng.normal())
                        .collect();
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
            Ok(())
        })?;
        self.signals = signals.map(GradientSum::into_partial);
        Ok(())
    }

    /// The mean map, once every sample is done.
    pub fn finish(&self, trace: &Trace) -> Result<Tensor> {
        if self.done < self.params.samples {
            return Err(Error::internal(
                "SmoothGrad finished before its last sample",
            ));
        }
        let n = self.params.samples as f64;
        let mean: Vec<f32> = match &self.signals {
            Some(partial) => GradientSum::resume(trace.network(), self.rule(), partial.clone())
                .finish(trace, 1.0 / n)?
                .iter()
                .map(|&s| s as f32)
                .collect(),
            None => self.maps.iter().map(|s| (s / n) as f32).collect(),
        };
        Tensor::from_vec(trace.input().shape(), mean)
    }
}

/// SmoothGrad of the input of `trace`, calling `progress(i, samples)` after each sample.
pub fn smoothgrad(
    trace: &Trace,
    target: &TargetScore,
    params: &Params,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Tensor> {
    let mut run = Run::new(trace, params)?;
    run.advance(trace, target, usize::MAX, progress)?;
    run.finish(trace)
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
