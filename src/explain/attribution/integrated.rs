//! Integrated gradients (Sundararajan, Taly & Yan 2017): the path integral of the gradient along the straight
//! line from a baseline `b` to the input `x`, approximated with the trapezoid rule on `n` equally spaced points:
//!
//! `attr = (x − b) ⊙ Σ_k w_k ∇f(b + α_k (x − b))`, `α_k = k/(n−1)` for `k = 0..n−1`,
//! `w_k = 1/(n−1)` inside and `0.5/(n−1)` at both ends.
//!
//! The weights sum to 1, so the completeness axiom `Σ attr = f(x) − f(b)` holds up to the quadrature error;
//! the gap `Σ attr − (f(x) − f(b))` is reported. (Captum's `riemann_trapezoid` uses `1/n` steps on the same
//! points, i.e. `(n−1)/n` times these maps; `tests/reference/README.md` fixes this convention.)
//! Shapes: `x`, `b` and the map are `[C, H, W]`. Sums are accumulated in `f64`.

use super::gradient::GradientSum;
use super::{TargetScore, COMMON};
use crate::catalogue::options::{Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::{Network, Trace};
use crate::tensor::Tensor;

/// Largest accepted number of path points (a typo like `steps: 1e9` must not hang a browser tab).
pub const MAX_STEPS: usize = 100_000;

/// The number of path points `n`.
pub const STEPS: OptionSpec = OptionSpec {
    key: "steps",
    flag: "steps",
    label: "Steps",
    help: "points on the straight path from the baseline, both ends included",
    kind: Kind::Int {
        min: 2,
        max: Some(MAX_STEPS as u64),
        default: Some(50),
    },
    common: false,
    required: false,
};

/// The baseline `b`: one raw pixel value everywhere (JS may give a whole image).
pub const BASELINE: OptionSpec = OptionSpec {
    key: "baseline",
    flag: "baseline",
    label: "Baseline",
    help: "pixel value of the baseline image (0 = black)",
    kind: Kind::Float {
        min: 0.0,
        max: 1.0,
        step: 0.01,
        default: Some(0.0),
        per_pixel: true,
    },
    common: false,
    required: false,
};

pub const TECHNIQUE: Technique = Technique {
    id: "integrated-gradients",
    label: "Integrated gradients",
    family: Family::Attribution,
    command: "attribute",
    output: OutputKind::SignedMap,
    long_running: true,
    stateful: None,
    summary: "Each pixel's share of the score's rise from the baseline; the shares add up to that rise.",
    explanation: "The gradient averaged along the straight path from a baseline image (black by default) to \
                  the input, times the difference input − baseline. The map sums to f(input) − f(baseline) up \
                  to the quadrature error, which is reported as the completeness gap.",
    paper: Some(Paper {
        title: "Axiomatic Attribution for Deep Networks",
        authors: "Sundararajan, Taly & Yan",
        year: 2017,
        url: "https://arxiv.org/abs/1703.01365",
    }),
    options: &[COMMON[0], COMMON[1], STEPS, BASELINE],
};

/// Result of [`integrated_gradients`].
#[derive(Debug, Clone, PartialEq)]
pub struct IntegratedGradients {
    /// `[C, H, W]`.
    pub map: Tensor,
    /// `f(x)`.
    pub score_input: f32,
    /// `f(b)`.
    pub score_baseline: f32,
    /// `Σ map − (f(x) − f(b))`.
    pub completeness_gap: f32,
}

/// The path points `α_k` and trapezoid weights `w_k` for `steps` points.
pub fn trapezoid(steps: usize) -> Result<Vec<(f64, f64)>> {
    STEPS.check_int(TECHNIQUE.id, steps as u64)?;
    let last = (steps - 1) as f64;
    Ok((0..steps)
        .map(|k| {
            let end = k == 0 || k == steps - 1;
            (k as f64 / last, if end { 0.5 } else { 1.0 } / last)
        })
        .collect())
}

/// Path points (and SmoothGrad samples) per batch: the forward and backward passes of a batch run together
/// ([`Network::forward_batch`], [`GradientSum`]). Eight LeNet-5 traces take about 0.5 MB, and the linear
/// layers work in blocks of four.
pub const BATCH: usize = 8;

/// The batch loop of the long methods: runs up to `batches` more batches of at most [`BATCH`] items, from
/// item `*done` towards `total`. `run(start, len)` computes items `start..start + len`; then `progress(i,
/// total)` hears of each of them and `*done` moves past them.
pub(super) fn run_batches(
    done: &mut usize,
    total: usize,
    batches: usize,
    progress: &mut dyn FnMut(usize, usize),
    mut run: impl FnMut(usize, usize) -> Result<()>,
) -> Result<()> {
    for _ in 0..batches {
        if *done >= total {
            break;
        }
        let len = BATCH.min(total - *done);
        run(*done, len)?;
        for i in *done..*done + len {
            progress(i + 1, total);
        }
        *done += len;
    }
    Ok(())
}

/// The forward passes of the points `start + α·(end − start)` of a straight line of inputs (integrated
/// gradients' path).
///
/// The outputs of the network's [`Network::linear_prefix`] are affine in `α`: they are computed once at
/// `start` and once without biases for the direction `end − start` (normalized), and each point's are
/// `P(start) + α·L(end − start)`, equal to a forward pass of the point up to rounding. For LeNet-5 this
/// replaces a `conv1` per point by two in all; the layers after the prefix run as in
/// [`Network::forward_batch`].
pub struct Line<'n> {
    net: &'n Network,
    start: Tensor,
    end: Tensor,
    /// For each layer of the prefix: its output at `start` and its slope along the line.
    along: Vec<(Tensor, Tensor)>,
}

impl<'n> Line<'n> {
    /// The line from `start` to `end` (two inputs of `net`).
    pub fn new(net: &'n Network, start: &Tensor, end: &Tensor) -> Result<Line<'n>> {
        if start.shape() != end.shape() {
            return Err(Error::shape("end of the line", start.shape(), end.shape()));
        }
        let along = net.linear_prefix().map_or(Ok(Vec::new()), |j| {
            let at_start = net.forward(start)?.outputs().to_vec();
            end.check_finite("the end of the line")?;
            // The normalized direction: (end − start) / std_c.
            let direction = end.data().iter().zip(start.data()).map(|(e, s)| e - s);
            let mut slope = Tensor::from_vec(end.shape(), direction.collect())?;
            net.denormalize(&mut slope);
            let mut slopes = Vec::with_capacity(j + 1);
            for l in &net.layers()[..=j] {
                let x = slopes.last().unwrap_or(&slope);
                slopes.push(l.layer.forward_without_bias(x)?);
            }
            Ok(at_start.into_iter().zip(slopes).collect())
        })?;
        Ok(Line {
            net,
            start: start.clone(),
            end: end.clone(),
            along,
        })
    }

    /// The point at `α`: `(1 − α)·start + α·end`, rounded to `f32` from `f64` (exactly `start` at 0 and
    /// `end` at 1).
    pub fn point(&self, alpha: f64) -> Result<Tensor> {
        let values = self
            .start
            .data()
            .iter()
            .zip(self.end.data())
            .map(|(&s, &e)| ((1.0 - alpha) * s as f64 + alpha * e as f64) as f32)
            .collect();
        Tensor::from_vec(self.start.shape(), values)
    }

    /// The forward passes of the points at `alphas`, together.
    pub fn traces(&self, alphas: &[f64]) -> Result<Vec<Trace<'n>>> {
        let mut traces = Vec::with_capacity(alphas.len());
        for &alpha in alphas {
            let mut trace = self.net.start_trace(&self.point(alpha)?)?;
            let a = alpha as f32;
            for (at_start, slope) in &self.along {
                let mut y = at_start.clone();
                for (v, &d) in y.data_mut().iter_mut().zip(slope.data()) {
                    *v += a * d;
                }
                trace.push(y, None);
            }
            traces.push(trace);
        }
        self.net.continue_batch(&mut traces)?;
        Ok(traces)
    }
}

/// Integrated gradients in steps: the state between batches of path points. [`integrated_gradients`] runs
/// it to the end in one call; a Web Worker runs a few batches at a time ([`super::Job`]) with exactly the same
/// additions in the same order, so both give the same bits.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    points: Vec<(f64, f64)>,
    baseline: Tensor,
    /// The next path point.
    next: usize,
    /// The partial [`GradientSum`].
    sum: Vec<f64>,
    score_baseline: f32,
}

impl Run {
    /// Checks the parameters against the input of `trace`.
    pub fn new(trace: &Trace, baseline: &Tensor, steps: usize) -> Result<Run> {
        let points = trapezoid(steps)?;
        let x = trace.input();
        if baseline.shape() != x.shape() {
            return Err(Error::shape("baseline image", x.shape(), baseline.shape()));
        }
        Ok(Run {
            points,
            baseline: baseline.clone(),
            next: 0,
            sum: Vec::new(),
            score_baseline: 0.0,
        })
    }

    /// `(points done, points in all)`.
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.points.len())
    }

    /// Runs the next `batches` batches of path points ([`BATCH`] points each) through `trace`'s network,
    /// calling `progress(k, steps)` after each point.
    pub fn advance(
        &mut self,
        trace: &Trace,
        target: &TargetScore,
        batches: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let net = trace.network();
        let mut sum = GradientSum::resume(net, ReluRule::Gradient, std::mem::take(&mut self.sum));
        let line = Line::new(net, &self.baseline, trace.input())?;
        let Run {
            points,
            next,
            score_baseline,
            ..
        } = self;
        run_batches(next, points.len(), batches, progress, |start, len| {
            let chunk = &points[start..start + len];
            let alphas: Vec<f64> = chunk.iter().map(|&(alpha, _)| alpha).collect();
            let traces = line.traces(&alphas)?;
            let traces: Vec<&Trace> = traces.iter().collect();
            if start == 0 {
                *score_baseline = target.score(traces[0])?;
            }
            let seeds = traces
                .iter()
                .zip(chunk)
                .map(|(t, &(_, weight))| {
                    let mut seed = target.logit_gradient(t)?;
                    seed.data_mut()
                        .iter_mut()
                        .for_each(|v| *v = (*v as f64 * weight) as f32);
                    Ok(seed)
                })
                .collect::<Result<Vec<Tensor>>>()?;
            sum.add(&traces, seeds, target)
        })?;
        self.sum = sum.into_partial();
        Ok(())
    }

    /// The map, once every point is done.
    pub fn finish(&self, trace: &Trace, target: &TargetScore) -> Result<IntegratedGradients> {
        if self.next < self.points.len() {
            return Err(Error::internal(
                "integrated gradients finished before its last point",
            ));
        }
        let x = trace.input();
        let sum = GradientSum::resume(trace.network(), ReluRule::Gradient, self.sum.clone())
            .finish(trace, 1.0)?;
        let mut total = 0.0f64;
        let map: Vec<f32> = sum
            .iter()
            .zip(x.data().iter().zip(self.baseline.data()))
            .map(|(s, (&xi, &bi))| {
                let a = (xi as f64 - bi as f64) * s;
                total += a;
                a as f32
            })
            .collect();
        let score_input = target.score(trace)?;
        Ok(IntegratedGradients {
            map: Tensor::from_vec(x.shape(), map)?,
            score_input,
            score_baseline: self.score_baseline,
            completeness_gap: (total - (score_input as f64 - self.score_baseline as f64)) as f32,
        })
    }
}

/// Integrated gradients of the input of `trace` from `baseline` (shaped like the input), calling
/// `progress(k, steps)` after each path point (a batch of points at a time). The path points run in batches
/// along a [`Line`] (the first conv layer is evaluated at the two ends only), and their weighted gradients are
/// summed by [`GradientSum`]: the trapezoid weight `w_k` scales the seed of point `k`.
pub fn integrated_gradients(
    trace: &Trace,
    baseline: &Tensor,
    steps: usize,
    target: &TargetScore,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<IntegratedGradients> {
    let mut run = Run::new(trace, baseline, steps)?;
    run.advance(trace, target, usize::MAX, progress)?;
    run.finish(trace, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapezoid_weights_sum_to_one_and_bad_steps_are_errors() {
        assert_eq!(
            trapezoid(3).unwrap(),
            vec![(0.0, 0.25), (0.5, 0.5), (1.0, 0.25)]
        );
        assert_eq!(trapezoid(2).unwrap(), vec![(0.0, 0.5), (1.0, 0.5)]);
        let w: f64 = trapezoid(50).unwrap().iter().map(|p| p.1).sum();
        assert!((w - 1.0).abs() < 1e-12);
        assert!(trapezoid(0).is_err());
        assert!(trapezoid(1).is_err());
        assert!(trapezoid(MAX_STEPS + 1).is_err());
    }

    /// The definition, one path point at a time: a forward and a full backward pass per point.
    fn one_point_at_a_time(
        net: &Network,
        trace: &Trace,
        baseline: &Tensor,
        steps: usize,
        target: &TargetScore,
    ) -> Vec<f64> {
        let x = trace.input();
        let mut sum = vec![0.0f64; x.len()];
        for (alpha, weight) in trapezoid(steps).unwrap() {
            let point: Vec<f32> = x
                .data()
                .iter()
                .zip(baseline.data())
                .map(|(&xi, &bi)| ((1.0 - alpha) * bi as f64 + alpha * xi as f64) as f32)
                .collect();
            let at = net.forward(&net.image(point).unwrap()).unwrap();
            let grad = target.input_gradient(&at, ReluRule::Gradient).unwrap();
            for (s, g) in sum.iter_mut().zip(grad.data()) {
                *s += weight * *g as f64;
            }
        }
        sum.iter()
            .zip(x.data().iter().zip(baseline.data()))
            .map(|(s, (&xi, &bi))| (xi as f64 - bi as f64) * s)
            .collect()
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn batched_points_equal_one_point_at_a_time() {
        use crate::explain::attribution::Output;
        use crate::model::manifest::{InputShape, Manifest};
        use crate::rng::Rng;
        let input = InputShape {
            channels: 1,
            height: 12,
            width: 12,
        };
        let labels = (0..3).map(|i| i.to_string()).collect();
        let net =
            Network::init_random(Manifest::lenet5("small", input, labels).unwrap(), 4).unwrap();
        let mut rng = Rng::new(8);
        let image = net
            .image((0..144).map(|_| rng.uniform()).collect())
            .unwrap();
        let baseline = net
            .image((0..144).map(|_| 0.3 * rng.uniform()).collect())
            .unwrap();
        let trace = net.forward(&image).unwrap();
        // Step counts below, at and across the batch size.
        for (steps, output) in [
            (2, Output::Logit),
            (BATCH, Output::LogProb),
            (23, Output::Logit),
        ] {
            let target = TargetScore::new(&net, &trace, Some(1), output).unwrap();
            let mut reported = Vec::new();
            let ig = integrated_gradients(&trace, &baseline, steps, &target, &mut |k, n| {
                reported.push((k, n))
            })
            .unwrap();
            assert_eq!(
                reported,
                (1..=steps).map(|k| (k, steps)).collect::<Vec<_>>()
            );
            let want = one_point_at_a_time(&net, &trace, &baseline, steps, &target);
            let scale = want.iter().fold(0f64, |m, v| m.max(v.abs()));
            for (got, want) in ig.map.data().iter().zip(&want) {
                assert!(
                    (*got as f64 - want).abs() <= 1e-5 * scale,
                    "{got} vs {want}, {steps} steps"
                );
            }
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_line_equals_forward_passes_of_its_points() {
        use crate::model::network::testing::{images, small_lenet};
        use crate::rng::Rng;
        let net = small_lenet(3);
        let mut rng = Rng::new(4);
        let ends = images(&net, &mut rng, 2);
        let line = Line::new(&net, &ends[0], &ends[1]).unwrap();
        let alphas = [0.0, 0.25, 0.7, 1.0];
        let traces = line.traces(&alphas).unwrap();
        for (&alpha, trace) in alphas.iter().zip(&traces) {
            let point = line.point(alpha).unwrap();
            let want = net.forward(&point).unwrap();
            assert_eq!(
                (trace.input(), trace.normalized()),
                (want.input(), want.normalized())
            );
            for (got, want) in trace.outputs().iter().zip(want.outputs()) {
                let scale = want.data().iter().fold(1f32, |m, v| m.max(v.abs()));
                for (a, b) in got.data().iter().zip(want.data()) {
                    assert!((a - b).abs() <= 1e-5 * scale, "{a} vs {b} at α = {alpha}");
                }
            }
            if alpha == 0.0 {
                assert_eq!(trace.outputs(), want.outputs());
            }
        }
        assert_eq!(line.point(1.0).unwrap(), ends[1]);
        assert!(Line::new(&net, &ends[0], &Tensor::zeros(&[1, 16, 12])).is_err());
    }
}
