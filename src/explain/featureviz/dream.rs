//! DeepDream (Mordvintsev, Olah & Tyka, *Inceptionism*, 2015): starting from an input image, climb the
//! energy `mean(a²)` of a chosen conv-prefix layer's output `a` by normalized gradient ascent,
//! `x ← clip(x + lr · g / mean|g|)`, with a random whole-pixel jitter each step, over octaves of growing size:
//! octave `o` runs at `round(size · scale^o)` (28 → 39 → 55 px for 3 octaves of 1.4), the image upsampled
//! bilinearly between octaves. The network's conv prefix runs at any size ([`Network::forward_prefix`]),
//! so the dream can grow past the manifest's input size.
//!
//! Like a [`super::Render`], a [`Dream`] is step-wise ([`Dream::step`]), seeded (the same options give
//! the same image bit for bit) and takes its network at every call that runs it. Shapes: images `[C, H, W]` raw pixels in `[0, 1]`.

use super::transform::{bilinear_taps, Transforms};
use super::visualize;
use crate::catalogue::options::{Kind, OptionSpec, Values};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::model::network::Network;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The options of a dream.
#[derive(Debug, Clone, PartialEq)]
pub struct DreamOptions {
    /// A layer of the conv prefix, by manifest name.
    pub layer: String,
    /// Number of octaves (1 to 6) and the growth factor between them (1 to 2).
    pub octaves: usize,
    pub octave_scale: f32,
    /// Steps per octave.
    pub steps: usize,
    /// Step size, in pixels per unit of normalized gradient.
    pub lr: f32,
    /// Largest random shift in pixels each step.
    pub jitter: usize,
    pub seed: u64,
}

impl DreamOptions {
    /// 3 octaves of 1.4 (28 → 39 → 55 px), 20 steps each at 0.02, jitter 1 px, on `layer`.
    pub fn new(layer: &str) -> DreamOptions {
        DreamOptions {
            layer: layer.to_string(),
            octaves: OCTAVES.usize_default(),
            octave_scale: OCTAVE_SCALE.float_default() as f32,
            steps: STEPS.usize_default(),
            lr: LR.float_default() as f32,
            jitter: JITTER.usize_default(),
            seed: visualize::SEED.int_default(),
        }
    }

    fn check(&self) -> Result<()> {
        if !(1..=6).contains(&self.octaves) {
            return Err(Error::out_of_range("octaves", self.octaves, "1 to 6"));
        }
        if !(1.0..=2.0).contains(&self.octave_scale) {
            return Err(Error::out_of_range(
                "octave scale",
                self.octave_scale,
                "1 to 2",
            ));
        }
        if self.steps > 10_000 {
            return Err(Error::out_of_range(
                "steps per octave",
                self.steps,
                "0 to 10000",
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0) {
            return Err(Error::out_of_range(
                "learning rate",
                self.lr,
                "above 0, at most 1",
            ));
        }
        self.motion().check()
    }

    /// The random motion of each step: a whole-pixel jitter.
    fn motion(&self) -> Transforms {
        Transforms {
            jitter: self.jitter,
            ..Transforms::NONE
        }
    }
}

/// Where a dream stands after [`Dream::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct DreamProgress {
    pub step: usize,
    pub steps: usize,
    /// The energy at the last step run (NaN before the first).
    pub energy: f64,
    pub image: Tensor,
}

/// A step-wise DeepDream run (see the module documentation).
#[derive(Debug, Clone)]
pub struct Dream {
    layer: usize,
    options: DreamOptions,
    image: Tensor,
    /// The start image's `(height, width)`.
    base: (usize, usize),
    rng: Rng,
    step: usize,
    history: Vec<f64>,
}

impl Dream {
    /// A dream of `image` (shaped like the network's input, or any size with its channels) on `net`; every
    /// later step takes this `net`.
    pub fn new(net: &Network, image: &Tensor, options: DreamOptions) -> Result<Dream> {
        options.check()?;
        let layer = super::objective::layer_index(net, &options.layer)?;
        net.forward_prefix(image, layer)?;
        let (_, h, w) = image.chw()?;
        Ok(Dream {
            base: (h, w),
            layer,
            rng: Rng::new(options.seed),
            options,
            image: image.clone(),
            step: 0,
            history: Vec::new(),
        })
    }

    /// `(height, width)` of octave `o`: the start size times `octave_scale^o`, rounded.
    pub fn octave_size(&self, o: usize) -> (usize, usize) {
        let f = (self.options.octave_scale as f64).powi(o as i32);
        let (h, w) = self.base;
        (
            (h as f64 * f).round() as usize,
            (w as f64 * f).round() as usize,
        )
    }

    /// The energies of every step run so far.
    pub fn history(&self) -> &[f64] {
        &self.history
    }

    /// Steps run so far, of all the octaves' steps.
    pub fn progress(&self) -> (usize, usize) {
        (self.step, self.options.steps * self.options.octaves)
    }

    /// Runs up to `k` more steps on `net` and reports the progress and the current image.
    pub fn step(&mut self, net: &Network, k: usize) -> Result<DreamProgress> {
        let total = self.options.steps * self.options.octaves;
        let end = self.step.saturating_add(k).min(total);
        while self.step < end {
            if self.step > 0 && self.step % self.options.steps == 0 {
                let (h, w) = self.octave_size(self.step / self.options.steps);
                self.image = resize(&self.image, h, w)?;
            }
            let energy = self.ascend(net)?;
            self.history.push(energy);
            self.step += 1;
        }
        Ok(DreamProgress {
            step: self.step,
            steps: total,
            energy: self.history.last().copied().unwrap_or(f64::NAN),
            image: self.image.clone(),
        })
    }

    /// Runs the remaining steps and returns the final image.
    pub fn run(mut self, net: &Network) -> Result<Tensor> {
        self.step(net, usize::MAX)?;
        Ok(self.image)
    }

    /// One normalized ascent step at the current size; returns the energy before it.
    fn ascend(&mut self, net: &Network) -> Result<f64> {
        let (_, h, w) = self.image.chw()?;
        let warp = self.options.motion().draw(&mut self.rng, h, w);
        let moved = Tensor::from_vec(self.image.shape(), warp.apply(self.image.data()))?;
        let trace = net.forward_prefix(&moved, self.layer)?;
        let a = &trace.outputs()[self.layer];
        let n = a.len().max(1) as f64;
        let energy = a.data().iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n;
        let signal = a
            .data()
            .iter()
            .map(|&v| (2.0 * v as f64 / n) as f32)
            .collect();
        let g = trace.backward(self.layer, Tensor::from_vec(a.shape(), signal)?)?;
        let g = warp.adjoint(g.data());
        let scale = g.iter().map(|v| v.abs() as f64).sum::<f64>() / g.len().max(1) as f64;
        if !(energy.is_finite() && scale.is_finite()) {
            return Err(Error::non_finite("the dream's energy or gradient"));
        }
        let step = self.options.lr as f64 / (scale + 1e-8);
        for (x, g) in self.image.data_mut().iter_mut().zip(g) {
            *x = (*x as f64 + step * g as f64).clamp(0.0, 1.0) as f32;
        }
        Ok(energy)
    }
}

/// Bilinear resize of every plane of `image` to `height × width` (pixel centres aligned, edges clamped).
pub fn resize(image: &Tensor, height: usize, width: usize) -> Result<Tensor> {
    let (c, h, w) = image.chw()?;
    if height == 0 || width == 0 {
        return Err(Error::out_of_range(
            "size",
            format!("{height},{width}"),
            "at least 1,1",
        ));
    }
    let source = |p: usize, from: usize, to: usize| {
        ((p as f64 + 0.5) * from as f64 / to as f64 - 0.5).clamp(0.0, from as f64 - 1.0)
    };
    let taps: Vec<_> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (y, x)))
        .map(|(y, x)| bilinear_taps(source(y, h, height), source(x, w, width), h, w))
        .collect();
    let mut out = Vec::with_capacity(c * height * width);
    for plane in image.data().chunks_exact(h * w) {
        out.extend(
            taps.iter()
                .map(|t| t.iter().map(|&(i, wt)| wt * plane[i as usize]).sum::<f32>()),
        );
    }
    Tensor::from_vec(&[c, height, width], out)
}

pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "the conv-prefix layer whose energy to raise (empty: the last ReLU before the fc layers)",
    kind: Kind::Layer {
        types: &["conv2d", "relu", "max_pool2d"],
    },
    common: false,
    required: false,
};
pub const OCTAVES: OptionSpec = OptionSpec::int(
    "octaves",
    "octaves",
    "Octaves",
    "sizes the dream runs at, each octave-scale times the last (3 of 1.4: 28 → 39 → 55 px)",
    [1, 6, 3],
);
pub const OCTAVE_SCALE: OptionSpec = OptionSpec::float(
    "octaveScale",
    "octave-scale",
    "Octave scale",
    "growth of the image from one octave to the next",
    [1.0, 2.0, 0.05],
    Some(1.4),
);
pub const STEPS: OptionSpec = OptionSpec::int(
    "steps",
    "steps",
    "Steps per octave",
    "ascent steps at each size",
    [1, 10_000, 20],
);
pub const LR: OptionSpec = OptionSpec::float(
    "lr",
    "lr",
    "Step size",
    "step along the gradient normalized to a mean magnitude of 1 per pixel",
    [0.001, 1.0, 0.001],
    Some(0.02),
);
pub const JITTER: OptionSpec = OptionSpec::int(
    "jitter",
    "jitter",
    "Jitter",
    "largest random shift each step, in pixels",
    [0, 8, 1],
);

pub const MORDVINTSEV: Paper = Paper {
    title: "Inceptionism: Going Deeper into Neural Networks",
    authors: "Mordvintsev, Olah & Tyka",
    year: 2015,
    url: "https://research.google/blog/inceptionism-going-deeper-into-neural-networks/",
};

pub const TECHNIQUE: Technique = Technique {
    id: "dream",
    label: "DeepDream",
    family: Family::FeatureVisualization,
    command: "dream",
    output: OutputKind::Images,
    long_running: true,
    stateful: None,
    summary: "The input, changed to show more of whatever a layer already sees in it.",
    explanation: "Gradient ascent from the input itself on the energy (mean square) of a layer's \
                  activations, with the gradient normalized each step and a random 1 px jitter, over \
                  octaves of growing size: the layer's detectors draw their patterns wherever they \
                  already respond. The conv layers run at any size, so the dream grows past 28 px.",
    paper: Some(MORDVINTSEV),
    options: &[LAYER, OCTAVES, OCTAVE_SCALE, STEPS, LR, JITTER, visualize::SEED],
};

impl DreamOptions {
    /// The options of a `dream` call from its checked options (`net` picks the default layer).
    pub fn from_values(net: &Network, values: &Values) -> Result<DreamOptions> {
        let layer = match values.text(&LAYER) {
            Some(layer) => layer.to_string(),
            None => default_layer(net)?,
        };
        let mut options = DreamOptions::new(&layer);
        options.octaves = values.usize_or_default(&OCTAVES);
        options.octave_scale = values.float_or_default(&OCTAVE_SCALE) as f32;
        options.steps = values.usize_or_default(&STEPS);
        options.lr = values.float_or_default(&LR) as f32;
        options.jitter = values.usize_or_default(&JITTER);
        options.seed = values
            .int(&visualize::SEED)
            .unwrap_or(visualize::SEED.int_default());
        Ok(options)
    }
}

/// The last ReLU of the network's conv prefix (relu2 for LeNet-5).
fn default_layer(net: &Network) -> Result<String> {
    net.layers()[..net.conv_prefix()]
        .iter()
        .rev()
        .find(|l| l.layer.type_name() == "relu")
        .map(|l| l.name.clone())
        .ok_or_else(|| {
            Error::option(
                "layer",
                "the network has no ReLU before its fc layers: give --layer",
            )
        })
}
