//! Texture synthesis (Gatys, Ecker & Bethge, *Texture synthesis using convolutional neural networks*,
//! NeurIPS 2015) and style transfer (Gatys, Ecker & Bethge, *Image style transfer using convolutional neural
//! networks*, CVPR 2016) on the shared optimizer's Adam: the pixels themselves are optimized,
//!
//! ```text
//! texture   minimize  β·L_s(x)              from seeded uniform noise in [0, 1]
//! transfer  minimize  α·L_c(x) + β·L_s(x)   from the content image or that noise
//! ```
//!
//! with the relative losses of [`super::loss`], by Adam (β = 0.9, 0.999) on the pixels, clipped to `[0, 1]`
//! after every step. A [`Synthesis`] is step-wise like `featureviz::Render`: [`Synthesis::step`] runs k steps
//! and returns the progress and the current image; [`Synthesis::run`] is the same run to its end. Like a
//! render it owns its targets, image and options, not the network: every call takes the [`Backbone`] it was
//! built on. The noise comes from one seeded [`Rng`]: the same options give the same image bit for bit.
//!
//! Shapes: images `[C, H, W]` raw pixels in `[0, 1]` (C = 1 through the model, 3 through the random
//! network); the style image may have another size than the synthesized one (Gram matrices do not depend
//! on it), the content image has the synthesized size.

use super::coarse::{COARSE_LAYER, RANDOM_LAYER};
use super::features::{FeatureNet, Features};
use super::loss::{ContentTarget, StyleTarget};
use super::random_net::RandomNet;
use crate::error::{Error, Result};
use crate::explain::featureviz::regularize::clip;
use crate::explain::featureviz::render::{check_schedule, Adam};
use crate::layers::Layer;
use crate::model::network::Network;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The largest side of a synthesized image, in pixels.
pub const MAX_SIDE: usize = 1024;

/// The default style weight β of a transfer through the random network.
pub const RANDOM_STYLE_WEIGHT: f32 = 3.0;

/// The network whose features describe style and content.
#[derive(Debug, Clone, Copy)]
pub enum Backbone<'n> {
    /// The loaded model's conv prefix (grayscale).
    Model(&'n Network),
    /// The random multi-scale network (RGB).
    Random(&'n RandomNet),
}

impl<'n> Backbone<'n> {
    /// The default style layers: every ReLU and max-pool of the model's conv prefix (LeNet-5: relu1,
    /// pool1, relu2, pool2), or the random network's one layer.
    pub fn default_style_layers(&self) -> Vec<String> {
        match self {
            Backbone::Model(net) => net.layers()[..net.conv_prefix()]
                .iter()
                .filter(|l| matches!(l.layer, Layer::Relu | Layer::MaxPool2d(_)))
                .map(|l| l.name.clone())
                .collect(),
            Backbone::Random(_) => vec![RANDOM_LAYER.to_string()],
        }
    }

    /// The default style layers of a transfer whose content is read at `content`: the default style layers
    /// before it (LeNet-5 with content at relu2: relu1, pool1), or all of them when none is. The deepest
    /// layers then carry the content and the shallow ones the style, as in Gatys et al. (2016), where
    /// the two do not pull on the same features.
    pub fn default_transfer_layers(&self, content: &str) -> Vec<String> {
        let all = self.default_style_layers();
        let Backbone::Model(net) = self else {
            return all;
        };
        let Ok(at) = net.layer_index(content) else {
            return all;
        };
        let before: Vec<String> = all
            .iter()
            .filter(|name| net.layer_index(name).is_ok_and(|l| l < at))
            .cloned()
            .collect();
        if before.is_empty() {
            all
        } else {
            before
        }
    }

    /// The default content layer: the last ReLU of the model's conv prefix (LeNet-5: relu2), or the random
    /// network's coarse layer ([`COARSE_LAYER`]: its 7 and 11 px maps averaged over 8 × 8 blocks).
    pub fn default_content_layer(&self) -> String {
        match self {
            Backbone::Model(net) => net.layers()[..net.conv_prefix()]
                .iter()
                .rev()
                .find(|l| matches!(l.layer, Layer::Relu))
                .or(net.layers().first())
                .map_or_else(String::new, |l| l.name.clone()),
            Backbone::Random(_) => COARSE_LAYER.to_string(),
        }
    }

    /// The default style weight β of a transfer: 1 through the model, [`RANDOM_STYLE_WEIGHT`] through the
    /// random network, whose relative style loss starts lower for photos and falls more slowly against its
    /// coarse content layer (docs/texture.md has the measurements).
    pub fn default_style_weight(&self) -> f32 {
        match self {
            Backbone::Model(_) => 1.0,
            Backbone::Random(_) => RANDOM_STYLE_WEIGHT,
        }
    }

    /// The feature space of `names` on this network.
    pub fn features(&self, names: &[String]) -> Result<FeatureNet<'n>> {
        match *self {
            Backbone::Model(net) => FeatureNet::model(net, names),
            Backbone::Random(net) => FeatureNet::random(net, names),
        }
    }
}

/// Where the synthesized image starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// Seeded uniform noise in `[0, 1]`.
    Noise,
    /// The content image (style transfer only).
    Content,
}

/// Everything a synthesis needs besides the network and the images.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthesisOptions {
    pub steps: usize,
    /// Adam's learning rate, in pixel units.
    pub lr: f32,
    pub seed: u64,
    /// `(H, W)` of a texture; `None`: the style image's. A transfer has the content image's size.
    pub size: Option<(usize, usize)>,
    /// The style layers and their weights `w_l` (`None`: [`Backbone::default_style_layers`] for a texture,
    /// [`Backbone::default_transfer_layers`] for a transfer; weights 1).
    pub style_layers: Option<Vec<String>>,
    pub layer_weights: Option<Vec<f32>>,
    /// The content layer of a transfer (`None`: [`Backbone::default_content_layer`]).
    pub content_layer: Option<String>,
    /// α and β (β `None`: [`Backbone::default_style_weight`] for a transfer, 1 for a texture, which has
    /// only the style loss).
    pub content_weight: f32,
    pub style_weight: Option<f32>,
    pub start: StartFrom,
}

impl SynthesisOptions {
    /// 200 steps at 0.05, content weight 1, the backbone's style weight, from noise.
    pub fn new(seed: u64) -> SynthesisOptions {
        SynthesisOptions {
            steps: 200,
            lr: 0.05,
            seed,
            size: None,
            style_layers: None,
            layer_weights: None,
            content_layer: None,
            content_weight: 1.0,
            style_weight: None,
            start: StartFrom::Noise,
        }
    }

    fn check(&self) -> Result<()> {
        check_schedule(self.steps, self.lr)?;
        for (name, w) in [
            ("content weight", self.content_weight),
            ("style weight", self.style_weight.unwrap_or(1.0)),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::out_of_range(name, w, "a finite weight ≥ 0"));
            }
        }
        if let Some((h, w)) = self.size {
            if !(1..=MAX_SIDE).contains(&h) || !(1..=MAX_SIDE).contains(&w) {
                return Err(Error::out_of_range(
                    "size",
                    format!("{h},{w}"),
                    format!("1 to {MAX_SIDE} pixels a side"),
                ));
            }
        }
        Ok(())
    }
}

/// The losses of an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Losses {
    /// `L_s`, weighted by the layer weights (not by β).
    pub style: f64,
    /// `L_c` of a transfer (its square root is the content layer's relative error).
    pub content: Option<f64>,
    /// `α·L_c + β·L_s`: what is minimized.
    pub total: f64,
}

/// Where a synthesis stands after a call to [`Synthesis::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    /// The total loss at the last step run (before its update), NaN before the first.
    pub loss: f64,
    pub image: Tensor,
}

impl Progress {
    pub fn done(&self) -> bool {
        self.step >= self.steps
    }
}

/// A finished synthesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthesized {
    pub image: Tensor,
    /// The losses of the final image.
    pub losses: Losses,
    /// The total loss at every step.
    pub history: Vec<f64>,
}

/// A step-wise texture synthesis or style transfer (see the module documentation).
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// The style layers, then the content layer of a transfer.
    layers: Vec<String>,
    style: StyleTarget,
    content: Option<ContentTarget>,
    options: SynthesisOptions,
    shape: [usize; 3],
    image: Vec<f32>,
    adam: Adam,
    step: usize,
    history: Vec<f64>,
}

impl Synthesis {
    /// A texture: an image whose Gram matrices at the style layers match `style`'s.
    pub fn texture(
        backbone: Backbone,
        style: &Tensor,
        mut options: SynthesisOptions,
    ) -> Result<Self> {
        options.check()?;
        options.style_weight.get_or_insert(1.0);
        let (c, h, w) = style.chw()?;
        let (height, width) = options.size.unwrap_or((h, w));
        let layers = options
            .style_layers
            .clone()
            .unwrap_or_else(|| backbone.default_style_layers());
        let net = backbone.features(&layers)?;
        let style_target = style_target(&net, style, &layers, &options)?;
        let start = Tensor::from_vec(&[c, height, width], noise(options.seed, c * height * width))?;
        Synthesis::begin(backbone, layers, (style_target, None), options, start)
    }

    /// A style transfer: `content`'s features at the content layer and `style`'s Gram matrices.
    pub fn transfer(
        backbone: Backbone,
        content: &Tensor,
        style: &Tensor,
        mut options: SynthesisOptions,
    ) -> Result<Self> {
        options.check()?;
        options
            .style_weight
            .get_or_insert_with(|| backbone.default_style_weight());
        let (c, h, w) = content.chw()?;
        let content_layer = options
            .content_layer
            .clone()
            .unwrap_or_else(|| backbone.default_content_layer());
        let mut layers = options
            .style_layers
            .clone()
            .unwrap_or_else(|| backbone.default_transfer_layers(&content_layer));
        layers.push(content_layer.clone());
        let net = backbone.features(&layers)?;
        let style_target = style_target(&net, style, &layers[..layers.len() - 1], &options)?;
        let content_map = net
            .forward(content)?
            .maps
            .pop()
            .ok_or_else(|| Error::internal("no content map"))?;
        let target = ContentTarget::new(content_map, &content_layer)?;
        let start = match options.start {
            StartFrom::Noise => Tensor::from_vec(&[c, h, w], noise(options.seed, c * h * w))?,
            StartFrom::Content => content.clone(),
        };
        Synthesis::begin(
            backbone,
            layers,
            (style_target, Some(target)),
            options,
            start,
        )
    }

    /// The synthesis of the targets at `layers` from `start` (`[C, H, W]`).
    fn begin(
        backbone: Backbone,
        layers: Vec<String>,
        (style, content): (StyleTarget, Option<ContentTarget>),
        options: SynthesisOptions,
        start: Tensor,
    ) -> Result<Self> {
        let mut shape = [0; 3];
        shape.copy_from_slice(start.shape());
        let synthesis = Synthesis {
            adam: Adam::new(&[start.len()]),
            history: Vec::with_capacity(options.steps),
            image: start.into_data(),
            shape,
            layers,
            style,
            content,
            options,
            step: 0,
        };
        // The start image must go through the network (a size its layers accept).
        synthesis.losses(backbone)?;
        Ok(synthesis)
    }

    /// The current image, `[C, H, W]`.
    pub fn image(&self) -> Result<Tensor> {
        Tensor::from_vec(&self.shape, self.image.clone())
    }

    /// The total loss at every step run so far.
    pub fn history(&self) -> &[f64] {
        &self.history
    }

    /// Steps run, of all.
    pub fn progress(&self) -> (usize, usize) {
        (self.step, self.options.steps)
    }

    /// The losses of the current image through `backbone` (the network the synthesis was built on).
    pub fn losses(&self, backbone: Backbone) -> Result<Losses> {
        let features = backbone.features(&self.layers)?.forward(&self.image()?)?;
        Ok(self.evaluate(&features, false)?.0)
    }

    /// The losses of the features and, when `gradients`, their signals at the maps.
    fn evaluate(
        &self,
        features: &Features,
        gradients: bool,
    ) -> Result<(Losses, Vec<Option<Tensor>>)> {
        let n = self.style.layers();
        let (style, style_grads) = self.style.loss(&features.maps[..n])?;
        // β is set by `texture` and `transfer`.
        let (alpha, beta) = (
            self.options.content_weight,
            self.options.style_weight.unwrap_or(1.0),
        );
        let mut signals: Vec<Option<Tensor>> = Vec::new();
        if gradients {
            signals.extend(style_grads.into_iter().map(|mut g| {
                g.data_mut().iter_mut().for_each(|v| *v *= beta);
                Some(g)
            }));
        }
        let mut content = None;
        if let Some(target) = &self.content {
            let (value, mut g) = target.loss(&features.maps[n])?;
            content = Some(value);
            g.data_mut().iter_mut().for_each(|v| *v *= alpha);
            signals.push(Some(g));
        }
        let total = beta as f64 * style + alpha as f64 * content.unwrap_or(0.0);
        Ok((
            Losses {
                style,
                content,
                total,
            },
            signals,
        ))
    }

    /// Runs up to `k` more steps (fewer at the end) through `backbone` (the network the synthesis was
    /// built on) and reports where the synthesis stands.
    pub fn step(&mut self, backbone: Backbone, k: usize) -> Result<Progress> {
        let net = backbone.features(&self.layers)?;
        let end = self.step.saturating_add(k).min(self.options.steps);
        while self.step < end {
            self.one_step(&net)?;
        }
        Ok(Progress {
            step: self.step,
            steps: self.options.steps,
            loss: self.history.last().copied().unwrap_or(f64::NAN),
            image: self.image()?,
        })
    }

    /// The current image with its losses and history: the result, once every step has run.
    pub fn finish(&self, backbone: Backbone) -> Result<Synthesized> {
        Ok(Synthesized {
            losses: self.losses(backbone)?,
            image: self.image()?,
            history: self.history.clone(),
        })
    }

    /// Runs the remaining steps: the result.
    pub fn run(mut self, backbone: Backbone) -> Result<Synthesized> {
        self.step(backbone, usize::MAX)?;
        self.finish(backbone)
    }

    fn one_step(&mut self, net: &FeatureNet) -> Result<()> {
        let features = net.forward(&self.image()?)?;
        let (losses, signals) = self.evaluate(&features, true)?;
        let grad = net.backward(&features, signals)?;
        if !losses.total.is_finite() || grad.data().iter().any(|v| !v.is_finite()) {
            return Err(Error::non_finite(format!(
                "the loss or its gradient at step {} (try a smaller learning rate)",
                self.step + 1
            )));
        }
        // Adam climbs: give it the descent direction.
        let descent: Vec<f32> = grad.data().iter().map(|g| -g).collect();
        let mut params = [std::mem::take(&mut self.image)];
        self.adam.climb(&mut params, &[descent], self.options.lr);
        let [mut image] = params;
        clip(&mut image);
        self.image = image;
        self.step += 1;
        self.history.push(losses.total);
        Ok(())
    }
}

/// The style target of `style` through `net`'s first `layers.len()` maps.
fn style_target(
    net: &FeatureNet,
    style: &Tensor,
    layers: &[String],
    options: &SynthesisOptions,
) -> Result<StyleTarget> {
    let mut maps = net.forward(style)?.maps;
    maps.truncate(layers.len());
    let weights = options
        .layer_weights
        .clone()
        .unwrap_or_else(|| vec![1.0; layers.len()]);
    StyleTarget::new(&maps, &weights, layers)
}

/// `n` seeded uniform values in `[0, 1)`.
fn noise(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.uniform()).collect()
}
