//! Attribution in steps: a [`Job`] runs a method a few forward/backward passes at a time and reports its
//! progress, so that a Web Worker can show a progress bar and stop between steps without
//! `SharedArrayBuffer`. The long methods keep their state between steps ([`integrated::Run`],
//! [`smoothgrad::Run`], [`occlusion::Run`]); [`super::attribute`] is a job run to the end in one call, so
//! both give the same bits.
//!
//! A job owns its input image and options, not the network: each [`Job::step`] takes the network the job was
//! started with and runs one forward pass of the clean image before its share of the work.

use super::{
    gradcam, gradient, integrated, occlusion, smoothgrad, Attribution, Method, Options,
    TargetScore, BATCH,
};
use crate::catalogue::OutputKind;
use crate::error::{Error, Result};
use crate::model::network::{Network, Trace};
use crate::tensor::Tensor;

/// The state of a long method between steps.
#[derive(Debug, Clone)]
enum Run {
    /// One backward pass (or Grad-CAM's two): done in a single step.
    Single {
        done: bool,
    },
    Integrated(integrated::Run),
    Smooth(smoothgrad::Run),
    Occlusion(occlusion::Run),
}

/// An attribution being computed step by step.
#[derive(Debug, Clone)]
pub struct Job {
    options: Options,
    image: Tensor,
    target: TargetScore,
    /// The result without its map (score, target, ...), filled in by [`Job::finish`].
    result: Attribution,
    run: Run,
}

/// What a step reports: passes done of all, and the attribution once the last one is done.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub done: usize,
    pub total: usize,
    pub result: Option<Attribution>,
}

impl Job {
    /// Starts `method` on `image` (raw pixels `[C, H, W]`): checks the options and runs the clean forward
    /// pass; the work is done by [`Job::step`].
    pub fn start(net: &Network, image: &Tensor, method: Method, options: &Options) -> Result<Job> {
        Job::start_with(&net.forward(image)?, method, options)
    }

    pub(super) fn start_with(trace: &Trace, method: Method, options: &Options) -> Result<Job> {
        let net = trace.network();
        let target = TargetScore::new(net, trace, options.target, options.output)?;
        let result = Attribution {
            method,
            map: Tensor::zeros(&[0]),
            target: target.class,
            output: target.output,
            score: target.score(trace)?,
            // What the catalogue declares; SmoothGrad's sign is its averaged method's.
            signed: match method {
                Method::SmoothGrad => options.base.technique().output == OutputKind::SignedMap,
                _ => method.technique().output == OutputKind::SignedMap,
            },
            baseline_score: None,
            completeness_gap: None,
            cam: None,
        };
        let run = match method {
            Method::IntegratedGradients => {
                let baseline = options.baseline.image(net.input_shape())?;
                Run::Integrated(integrated::Run::new(trace, &baseline, options.steps)?)
            }
            Method::SmoothGrad => Run::Smooth(smoothgrad::Run::new(
                trace,
                &smoothgrad::Params {
                    base: options.base,
                    samples: options.samples,
                    sigma: options.sigma,
                    seed: options.seed,
                },
            )?),
            Method::Occlusion => Run::Occlusion(occlusion::Run::new(
                trace,
                &target,
                &occlusion::Params {
                    window: options.window,
                    stride: options.stride,
                    fill: options.fill,
                },
            )?),
            _ => Run::Single { done: false },
        };
        Ok(Job {
            options: options.clone(),
            image: trace.input().clone(),
            target,
            result,
            run,
        })
    }

    /// Whether the map is signed (what the catalogue declares; SmoothGrad's sign is its averaged method's).
    pub fn signed(&self) -> bool {
        self.result.signed
    }

    /// `(passes done, passes in all)`: path points, noisy samples or windows; 0 or 1 for the short methods.
    pub fn progress(&self) -> (usize, usize) {
        match &self.run {
            Run::Single { done } => (usize::from(*done), 1),
            Run::Integrated(run) => run.progress(),
            Run::Smooth(run) => run.progress(),
            Run::Occlusion(run) => run.progress(),
        }
    }

    /// Runs about `passes` more passes (whole batches of [`BATCH`] for integrated gradients and SmoothGrad)
    /// on `net`, the network the job was started with, and returns the progress, with the attribution once
    /// it is complete.
    pub fn step(&mut self, net: &Network, passes: usize) -> Result<Step> {
        if passes == 0 {
            return Err(Error::out_of_range("passes per step", 0, "at least 1"));
        }
        let trace = net.forward(&self.image)?;
        self.advance(&trace, passes, &mut |_, _| {})?;
        let (done, total) = self.progress();
        let result = if done >= total {
            Some(self.finish(&trace)?)
        } else {
            None
        };
        Ok(Step {
            done,
            total,
            result,
        })
    }

    pub(super) fn advance(
        &mut self,
        trace: &Trace,
        passes: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let batches = passes.div_ceil(BATCH);
        match &mut self.run {
            Run::Single { done } => *done = true,
            Run::Integrated(run) => run.advance(trace, &self.target, batches, progress)?,
            Run::Smooth(run) => run.advance(trace, &self.target, batches, progress)?,
            Run::Occlusion(run) => run.advance(trace, &self.target, passes, progress)?,
        }
        Ok(())
    }

    /// The attribution, once every pass is done (`trace`: the clean forward pass).
    pub(super) fn finish(&self, trace: &Trace) -> Result<Attribution> {
        let mut result = self.result.clone();
        let method = result.method;
        result.map = match &self.run {
            Run::Single { .. } if method.relu_rule().is_some() => {
                gradient::attribution(trace, &self.target, method)?
            }
            Run::Single { .. } => {
                let net = trace.network();
                let layer = gradcam::resolve_layer(net, self.options.layer.as_deref())?;
                let cam = gradcam::grad_cam(net, trace, layer, &self.target)?;
                let map = if method == Method::GradCam {
                    cam.upsampled(net)?
                } else {
                    gradcam::guided_grad_cam(net, trace, &cam, &self.target)?
                };
                result.cam = Some(cam);
                map
            }
            Run::Integrated(run) => {
                let ig = run.finish(trace, &self.target)?;
                result.baseline_score = Some(ig.score_baseline);
                result.completeness_gap = Some(ig.completeness_gap);
                ig.map
            }
            Run::Smooth(run) => run.finish(trace)?,
            Run::Occlusion(run) => run.finish(trace)?,
        };
        result
            .map
            .check_finite(&format!("the {} map", method.name()))?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps of any size give the one-shot result bit for bit, with progress rising to the total.
    #[test]
    fn steps_give_the_one_shot_bits() {
        let (net, image) = crate::testing::shipped(3);
        type SetOptions = fn(&mut Options);
        let cases: [(Method, SetOptions); 5] = [
            (Method::IntegratedGradients, |o| o.steps = 21),
            (Method::SmoothGrad, |o| o.samples = 19),
            (Method::SmoothGrad, |o| {
                o.samples = 10;
                o.base = Method::Saliency
            }),
            (Method::Occlusion, |o| {
                o.window = 6;
                o.stride = 4
            }),
            (Method::GradCam, |_| {}),
        ];
        for (method, set) in cases {
            let mut options = Options::default();
            set(&mut options);
            let whole = super::super::attribute(&net, &image, method, &options).unwrap();
            for passes in [1, 3, 9] {
                let mut job = Job::start(&net, &image, method, &options).unwrap();
                let mut last = 0;
                let result = loop {
                    let step = job.step(&net, passes).unwrap();
                    assert!(step.done > last && step.done <= step.total, "{method:?}");
                    last = step.done;
                    if let Some(result) = step.result {
                        assert_eq!(step.done, step.total);
                        break result;
                    }
                };
                assert_eq!(result, whole, "{method:?} in steps of {passes}");
            }
        }
        let mut job = Job::start(&net, &image, Method::Occlusion, &Options::default()).unwrap();
        assert!(job.step(&net, 0).is_err());
        assert_eq!(job.progress(), (0, 576));
    }
}
