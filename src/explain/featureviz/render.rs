//! The image optimizer: Lucid's `render(objective, param, transforms)`. Starting from seeded noise (or given
//! images), each step
//!
//! 1. turns the parameters θ_b of every image of the batch into pixels `x_b = P(θ_b)` ([`Parameterization`]),
//! 2. warps them at random (`W_b x_b`, [`Transforms`]) and runs the network's forward pass on the batch,
//! 3. evaluates the [`Objective`] and sends its signals back with the network's backward pass, then
//!    through the warp's adjoint (`Wᵀ`), to get `∂objective/∂x_b`,
//! 4. subtracts the gradient of the priors ([`Regularizers`]) and goes back to the parameters (`Pᵀ`),
//! 5. climbs with Adam (Kingma & Ba 2015), then blurs every k steps and clips to `[0, 1]` in pixel space
//!    (projections: for the Fourier basis `θ ← P⁻¹(clip(P θ))`).
//!
//! A [`Render`] is step-wise: [`Render::step`] runs k steps and returns the progress and the current images,
//! so a worker can report and cancel between calls; [`Render::run`] is the same run taken to its end. A
//! render owns its state but not the network: every call that runs the network takes the one it was made
//! with (as [`crate::explain::attribution::Job`] does), so a job can live beside its network. The
//! random draws (start noise, then per step one warp per image) come from one [`Rng`] seeded by the options:
//! the same options give the same images bit for bit.

use super::fourier::FourierBasis;
use super::objective::{input_gradients, Bound, Objective};
use super::regularize::{clip, gaussian_blur, Regularizers};
use super::transform::Transforms;
use crate::error::{Error, Result};
use crate::model::network::Network;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Most steps and images one render accepts.
pub const MAX_STEPS: usize = 100_000;
pub const MAX_BATCH: usize = 64;

/// How the optimized numbers make an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parameterization {
    /// The pixels themselves.
    Pixels,
    /// The decorrelated Fourier basis with spectrum decay `1/f^decay` ([`FourierBasis`]).
    Fourier { decay: f32 },
}

/// Where the images start.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// Seeded uniform noise in `[mean − spread, mean + spread]` (clipped to `[0, 1]` when clipping is on).
    Noise { mean: f32, spread: f32 },
    /// These images, one per batch entry (shaped like the network's input).
    Images(Vec<Tensor>),
}

/// Everything a render needs besides the network and the objective.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    pub steps: usize,
    /// Adam's learning rate (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
    pub lr: f32,
    pub seed: u64,
    /// Images optimized together (the diversity term compares them).
    pub batch: usize,
    pub param: Parameterization,
    pub transforms: Transforms,
    pub regularizers: Regularizers,
    pub start: Start,
}

impl RenderOptions {
    fn check(&self, input: [usize; 3]) -> Result<()> {
        check_schedule(self.steps, self.lr)?;
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return Err(Error::out_of_range(
                "batch",
                self.batch,
                format!("1 to {MAX_BATCH}"),
            ));
        }
        self.transforms.check()?;
        self.regularizers.check()?;
        match &self.start {
            Start::Noise { mean, spread } if !(mean.is_finite() && spread.is_finite()) => Err(
                Error::option("start", "noise mean and spread must be finite"),
            ),
            Start::Images(images) if images.len() != self.batch => Err(Error::option(
                "start",
                format!(
                    "{} start images for a batch of {}",
                    images.len(),
                    self.batch
                ),
            )),
            Start::Images(images) => images.iter().try_for_each(|x| {
                if x.shape() != input {
                    return Err(Error::shape("start image", &input, x.shape()));
                }
                x.check_finite("a start image")
            }),
            Start::Noise { .. } => Ok(()),
        }
    }
}

/// Where a render stands after a call to [`Render::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Steps run so far, of `steps`.
    pub step: usize,
    pub steps: usize,
    /// The objective minus the priors at the last step run (on the warped images), NaN before the first.
    pub objective: f64,
    /// The current images, `[C, H, W]` raw pixels.
    pub images: Vec<Tensor>,
}

impl Progress {
    pub fn done(&self) -> bool {
        self.step >= self.steps
    }
}

/// A finished render.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub images: Vec<Tensor>,
    /// The objective on the final images, without warps or priors.
    pub objective: f64,
    /// The objective minus the priors at every step.
    pub history: Vec<f64>,
}

/// One titled image of a feature visualization, with the objective it reached and the value at every step
/// (what a job reports and the CLI prints).
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub title: String,
    /// `[C, H, W]` raw pixels in `[0, 1]`.
    pub image: Tensor,
    pub objective: f64,
    pub history: Vec<f64>,
}

impl Picture {
    /// One picture per image of a batch, titled `title` (`title #b` from 1 when there are several).
    pub fn batch(
        title: &str,
        images: Vec<Tensor>,
        objective: f64,
        history: &[f64],
    ) -> Vec<Picture> {
        let several = images.len() > 1;
        images
            .into_iter()
            .enumerate()
            .map(|(b, image)| Picture {
                title: if several {
                    format!("{title} #{}", b + 1)
                } else {
                    title.to_string()
                },
                image,
                objective,
                history: history.to_vec(),
            })
            .collect()
    }
}

/// The checks every optimization on [`Adam`] shares: at most [`MAX_STEPS`] steps, a finite learning rate in
/// (0, 10].
pub(crate) fn check_schedule(steps: usize, lr: f32) -> Result<()> {
    if steps > MAX_STEPS {
        return Err(Error::out_of_range(
            "steps",
            steps,
            format!("0 to {MAX_STEPS}"),
        ));
    }
    if !(lr.is_finite() && lr > 0.0 && lr <= 10.0) {
        return Err(Error::out_of_range(
            "learning rate",
            lr,
            "above 0, at most 10",
        ));
    }
    Ok(())
}

/// Adam on one flat vector per image, climbing (texture synthesis climbs the negative loss with it).
#[derive(Debug, Clone)]
pub(crate) struct Adam {
    first: Vec<Vec<f32>>,
    second: Vec<Vec<f32>>,
    t: i32,
}

impl Adam {
    const BETA1: f32 = 0.9;
    const BETA2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    /// Zero moments for vectors of these lengths.
    pub(crate) fn new(lengths: &[usize]) -> Adam {
        Adam {
            first: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            second: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            t: 0,
        }
    }

    pub(crate) fn climb(&mut self, params: &mut [Vec<f32>], grads: &[Vec<f32>], lr: f32) {
        self.t += 1;
        let c1 = 1.0 - Self::BETA1.powi(self.t);
        let c2 = 1.0 - Self::BETA2.powi(self.t);
        let state = self.first.iter_mut().zip(self.second.iter_mut());
        for ((p, g), (m, v)) in params.iter_mut().zip(grads).zip(state) {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m += (1.0 - Self::BETA1) * (g - *m);
                *v += (1.0 - Self::BETA2) * (g * g - *v);
                *p += lr * (*m / c1) / ((*v / c2).sqrt() + Self::EPS);
            }
        }
    }
}

/// A step-wise optimization of a batch of images (see the module documentation).
#[derive(Debug, Clone)]
pub struct Render {
    /// The network's input shape `[C, H, W]`.
    input: [usize; 3],
    objective: Bound,
    options: RenderOptions,
    basis: Option<FourierBasis>,
    theta: Vec<Vec<f32>>,
    adam: Adam,
    rng: Rng,
    step: usize,
    history: Vec<f64>,
}

impl Render {
    /// Checks the options and the objective against `net` and draws the start images; every later call
    /// that runs the network takes this `net`.
    pub fn new(net: &Network, objective: &Objective, options: RenderOptions) -> Result<Render> {
        let [c, h, w] = net.input_shape();
        options.check([c, h, w])?;
        let objective = objective.bind(net)?;
        let basis = match options.param {
            Parameterization::Pixels => None,
            Parameterization::Fourier { decay } => Some(FourierBasis::new(c, h, w, decay as f64)?),
        };
        let mut render = Render {
            input: [c, h, w],
            objective,
            basis,
            theta: Vec::with_capacity(options.batch),
            adam: Adam::new(&[]),
            rng: Rng::new(options.seed),
            step: 0,
            history: Vec::with_capacity(options.steps),
            options,
        };
        for b in 0..render.options.batch {
            let mut x = render.start_image(b, c * h * w);
            if render.options.regularizers.clip {
                clip(&mut x);
            }
            let theta = render.parameters(&x)?;
            render.adam.first.push(vec![0.0; theta.len()]);
            render.adam.second.push(vec![0.0; theta.len()]);
            render.theta.push(theta);
        }
        Ok(render)
    }

    /// Start image `b` of `n` pixels: drawn from the render's generator, or given.
    fn start_image(&mut self, b: usize, n: usize) -> Vec<f32> {
        match &self.options.start {
            Start::Noise { mean, spread } => {
                let (mean, spread) = (*mean, *spread);
                (0..n)
                    .map(|_| mean + spread * (2.0 * self.rng.uniform() - 1.0))
                    .collect()
            }
            Start::Images(images) => images[b].data().to_vec(),
        }
    }

    fn parameters(&self, x: &[f32]) -> Result<Vec<f32>> {
        match &self.basis {
            None => Ok(x.to_vec()),
            Some(basis) => basis.coefficients(x),
        }
    }

    fn pixels(&self, theta: &[f32]) -> Result<Vec<f32>> {
        match &self.basis {
            None => Ok(theta.to_vec()),
            Some(basis) => basis.image(theta),
        }
    }

    /// The current images, `[C, H, W]` raw pixels (in `[0, 1]` when clipping is on).
    pub fn images(&self) -> Result<Vec<Tensor>> {
        self.theta
            .iter()
            .map(|t| {
                let mut x = self.pixels(t)?;
                if self.options.regularizers.clip {
                    // The Fourier round trip θ = P⁻¹(clip(P θ)) leaves pixels ~1e-9 outside [0, 1].
                    clip(&mut x);
                }
                Tensor::from_vec(&self.input, x)
            })
            .collect()
    }

    /// The objective minus the priors at every step run so far.
    pub fn history(&self) -> &[f64] {
        &self.history
    }

    /// The objective on the current images, without warps or priors.
    pub fn objective_value(&self, net: &Network) -> Result<f64> {
        let traces = net.forward_batch(&self.images()?)?;
        Ok(self.objective.evaluate(net, &traces)?.0)
    }

    /// Steps run so far, of all.
    pub fn progress(&self) -> (usize, usize) {
        (self.step, self.options.steps)
    }

    /// Runs up to `k` more steps (fewer at the end) on `net` and reports where the render stands.
    pub fn step(&mut self, net: &Network, k: usize) -> Result<Progress> {
        let end = self.step.saturating_add(k).min(self.options.steps);
        while self.step < end {
            self.one_step(net)?;
        }
        Ok(Progress {
            step: self.step,
            steps: self.options.steps,
            objective: self.history.last().copied().unwrap_or(f64::NAN),
            images: self.images()?,
        })
    }

    /// Runs the remaining steps.
    pub fn run(mut self, net: &Network) -> Result<Rendered> {
        self.step(net, self.options.steps)?;
        self.finish(net)
    }

    /// The result of the steps run so far (the whole render once [`Progress::done`]).
    pub fn finish(&self, net: &Network) -> Result<Rendered> {
        Ok(Rendered {
            objective: self.objective_value(net)?,
            images: self.images()?,
            history: self.history.clone(),
        })
    }

    fn one_step(&mut self, net: &Network) -> Result<()> {
        let [_, h, w] = self.input;
        let pixels = self
            .theta
            .iter()
            .map(|t| self.pixels(t))
            .collect::<Result<Vec<_>>>()?;
        let warps: Vec<_> = pixels
            .iter()
            .map(|_| {
                let transforms = self.options.transforms;
                (!transforms.is_none()).then(|| transforms.draw(&mut self.rng, h, w))
            })
            .collect();
        let warped = pixels
            .iter()
            .zip(&warps)
            .map(|(x, warp)| net.image(warp.as_ref().map_or_else(|| x.clone(), |wp| wp.apply(x))))
            .collect::<Result<Vec<_>>>()?;
        let traces = net.forward_batch(&warped)?;
        let (mut value, signals) = self.objective.evaluate(net, &traces)?;
        let grads = input_gradients(&traces, signals)?;
        let mut steps = Vec::with_capacity(grads.len());
        for ((g, warp), x) in grads.into_iter().zip(&warps).zip(&pixels) {
            let mut g = warp
                .as_ref()
                .map_or_else(|| g.data().to_vec(), |wp| wp.adjoint(g.data()));
            let (penalty, reg) = self.options.regularizers.penalty(x, h, w);
            value -= penalty;
            crate::tensor::axpy(-1.0, &reg, &mut g);
            steps.push(match &self.basis {
                None => g,
                Some(basis) => basis.adjoint(&g)?,
            });
        }
        if !value.is_finite() || steps.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::non_finite(format!(
                "the objective or its gradient at step {} (try a smaller learning rate)",
                self.step + 1
            )));
        }
        self.adam.climb(&mut self.theta, &steps, self.options.lr);
        self.step += 1;
        self.history.push(value);
        self.project()
    }

    /// Blur (every k steps) and clipping, in pixel space.
    fn project(&mut self) -> Result<()> {
        let reg = self.options.regularizers;
        let blur = reg.blur_every > 0 && reg.blur_sigma > 0.0 && self.step % reg.blur_every == 0;
        if !(blur || reg.clip) {
            return Ok(());
        }
        let [_, h, w] = self.input;
        for b in 0..self.theta.len() {
            let mut x = self.pixels(&self.theta[b])?;
            if blur {
                gaussian_blur(&mut x, h, w, reg.blur_sigma);
            }
            if reg.clip {
                clip(&mut x);
            }
            self.theta[b] = self.parameters(&x)?;
        }
        Ok(())
    }
}
