//! A sequential network built from a [`Manifest`] and its weights: a forward pass that keeps every
//! intermediate tensor and every max-pool's switches ([`Trace`]), and a backward pass with a choice of ReLU rule
//! ([`ReluRule`]) that serves training (true gradient), guided backpropagation and the deconvnet.
//!
//! Input: raw pixels `[C, H, W]` in `[0, 1]` (ink = 1 for MNIST). The manifest's normalization
//! `(x − mean_c) / std_c` is the first step of the forward pass, so every gradient and reconstruction the
//! backward pass returns is with respect to the raw pixels.
//!
//! Several images or signals can run together ([`Network::forward_batch`], [`Network::backward_batch`],
//! [`Line`] for the points of a straight path): results equal the single passes, and the linear layers run
//! as one product for the batch. The deconvnet sends all the channels of a layer down one trace that way,
//! integrated gradients and SmoothGrad their path points and noisy samples.

use crate::error::{Error, Result};
use crate::io::safetensors::{self, SafeTensors};
use crate::layers::conv2d::{self, Conv2dParams};
use crate::layers::linear::{self, LinearParams};
use crate::layers::pool::{self, PoolParams, Switches};
use crate::layers::relu::{self, ReluRule};
use crate::layers::softmax;
use crate::model::manifest::{LayerKind, Manifest};
use crate::rng::Rng;
use crate::tensor::{Lanes, Tensor};
use std::collections::BTreeMap;

/// Limits that keep a hostile manifest from exhausting memory.
const MAX_LAYERS: usize = 256;
const MAX_VALUES: usize = 1 << 26;

/// A layer with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Conv2d {
        params: Conv2dParams,
        weight: Vec<f32>,
        bias: Vec<f32>,
    },
    Relu,
    MaxPool2d(PoolParams),
    Flatten,
    Linear {
        params: LinearParams,
        weight: Vec<f32>,
        bias: Vec<f32>,
    },
    LogSoftmax,
}

impl Layer {
    fn without_weights(kind: &LayerKind) -> Layer {
        match *kind {
            LayerKind::Conv2d(params) => Layer::Conv2d {
                params,
                weight: Vec::new(),
                bias: Vec::new(),
            },
            LayerKind::Relu => Layer::Relu,
            LayerKind::MaxPool2d(p) => Layer::MaxPool2d(p),
            LayerKind::Flatten => Layer::Flatten,
            LayerKind::Linear(params) => Layer::Linear {
                params,
                weight: Vec::new(),
                bias: Vec::new(),
            },
            LayerKind::LogSoftmax => Layer::LogSoftmax,
        }
    }

    /// `(weight shape, bias length, fan_in)` for layers with parameters.
    fn param_shapes(&self) -> Option<(Vec<usize>, usize, usize)> {
        match self {
            Layer::Conv2d { params, .. } => {
                let s = params.weight_shape();
                Some((s.to_vec(), params.out_channels, s[1] * s[2] * s[3]))
            }
            Layer::Linear { params, .. } => Some((
                params.weight_shape().to_vec(),
                params.out_features,
                params.in_features,
            )),
            _ => None,
        }
    }

    /// Weight and bias, for layers that have them.
    pub fn params(&self) -> Option<(&[f32], &[f32])> {
        match self {
            Layer::Conv2d { weight, bias, .. } | Layer::Linear { weight, bias, .. } => {
                Some((weight, bias))
            }
            _ => None,
        }
    }

    fn params_mut(&mut self) -> Option<(&mut Vec<f32>, &mut Vec<f32>)> {
        match self {
            Layer::Conv2d { weight, bias, .. } | Layer::Linear { weight, bias, .. } => {
                Some((weight, bias))
            }
            _ => None,
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let chw = |what: &str| match *input {
            [c, h, w] => Ok((c, h, w)),
            _ => Err(Error::manifest(format!(
                "{what} needs a C×H×W input, but gets shape {input:?}"
            ))),
        };
        Ok(match self {
            Layer::Conv2d { params, .. } => {
                let (c, h, w) = chw("conv2d")?;
                if c != params.in_channels {
                    return Err(Error::manifest(format!(
                        "conv2d expects {} input channels but the previous layer gives {c}",
                        params.in_channels
                    )));
                }
                let (oh, ow) = params.out_dims(h, w)?;
                vec![params.out_channels, oh, ow]
            }
            Layer::MaxPool2d(p) => {
                let (c, h, w) = chw("max_pool2d")?;
                let (oh, ow) = p.out_dims(h, w)?;
                vec![c, oh, ow]
            }
            Layer::Relu => input.to_vec(),
            Layer::Flatten => vec![input.iter().product()],
            Layer::Linear { params, .. } => {
                if input != [params.in_features] {
                    return Err(Error::manifest(format!(
                        "linear expects {} input features but the previous layer gives shape {input:?} (add a flatten layer?)",
                        params.in_features
                    )));
                }
                vec![params.out_features]
            }
            Layer::LogSoftmax => match input {
                [n] => vec![*n],
                _ => {
                    return Err(Error::manifest(format!(
                        "log_softmax needs a vector, gets shape {input:?}"
                    )))
                }
            },
        })
    }
}

/// A layer with its manifest name and the shapes flowing in and out.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedLayer {
    pub name: String,
    pub layer: Layer,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
}

/// Everything a forward pass computed: the raw and normalized input, each layer's output (index `i` is the
/// output of layer `i`), and the switches of each max-pool layer.
#[derive(Debug, Clone)]
pub struct Trace {
    pub input: Tensor,
    pub normalized: Tensor,
    pub outputs: Vec<Tensor>,
    pub switches: Vec<Option<Switches>>,
}

impl Trace {
    /// What layer `i` received.
    pub fn layer_input(&self, i: usize) -> &Tensor {
        match i.checked_sub(1).and_then(|j| self.outputs.get(j)) {
            Some(t) => t,
            None => &self.normalized,
        }
    }
}

/// The forward passes of the points `start + α·(end − start)` of a straight line of inputs (integrated
/// gradients' path), from [`Network::line`].
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

impl Line<'_> {
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
    pub fn traces(&self, alphas: &[f64]) -> Result<Vec<Trace>> {
        let mut traces = Vec::with_capacity(alphas.len());
        for &alpha in alphas {
            let mut trace = self.net.start_trace(&self.point(alpha)?)?;
            let a = alpha as f32;
            for (at_start, slope) in &self.along {
                let mut y = at_start.clone();
                for (v, &d) in y.data_mut().iter_mut().zip(slope.data()) {
                    *v += a * d;
                }
                trace.outputs.push(y);
                trace.switches.push(None);
            }
            traces.push(trace);
        }
        self.net.continue_batch(&mut traces)?;
        Ok(traces)
    }
}

/// The signals of a batched backward pass, one tensor each or interleaved.
enum Signals {
    Apart(Vec<Tensor>),
    Lanes(Lanes),
}

/// Per-layer parameter gradients, `None` for layers without parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    pub layers: Vec<Option<(Vec<f32>, Vec<f32>)>>,
}

impl Gradients {
    pub fn zero(&mut self) {
        for (w, b) in self.layers.iter_mut().flatten() {
            w.fill(0.0);
            b.fill(0.0);
        }
    }

    /// `self += other`.
    pub fn add(&mut self, other: &Gradients) {
        for (mine, theirs) in self.layers.iter_mut().zip(&other.layers) {
            if let (Some((w, b)), Some((ow, ob))) = (mine, theirs) {
                crate::tensor::axpy(1.0, ow, w);
                crate::tensor::axpy(1.0, ob, b);
            }
        }
    }
}

/// Class prediction for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub label: usize,
    /// Pre-softmax class scores.
    pub logits: Vec<f32>,
    pub probs: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    manifest: Manifest,
    layers: Vec<NamedLayer>,
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Network {
    /// Builds the architecture with empty parameters and checks every shape.
    fn skeleton(manifest: Manifest) -> Result<Network> {
        let input = manifest.input;
        let mut shape = vec![input.channels, input.height, input.width];
        if shape.contains(&0) || shape.iter().product::<usize>() > MAX_VALUES {
            return Err(Error::manifest(format!(
                "input shape {shape:?} is empty or too large"
            )));
        }
        if manifest.layers.is_empty() || manifest.layers.len() > MAX_LAYERS {
            return Err(Error::manifest(format!(
                "a network needs 1 to {MAX_LAYERS} layers, got {}",
                manifest.layers.len()
            )));
        }
        let (mean, std) = match &manifest.normalization {
            None => (vec![0.0; input.channels], vec![1.0; input.channels]),
            Some(n) => (n.mean.clone(), n.std.clone()),
        };
        if mean.len() != input.channels || std.len() != input.channels {
            return Err(Error::manifest(format!(
                "normalization needs one mean and std per input channel ({})",
                input.channels
            )));
        }
        if mean.iter().any(|m| !m.is_finite()) || std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::manifest(
                "normalization mean must be finite and std positive",
            ));
        }
        let mut layers: Vec<NamedLayer> = Vec::with_capacity(manifest.layers.len());
        let mut params = 0usize;
        for spec in &manifest.layers {
            if layers.iter().any(|l| l.name == spec.name) {
                return Err(Error::manifest(format!(
                    "layer name {:?} is used twice",
                    spec.name
                )));
            }
            let layer = Layer::without_weights(&spec.kind);
            let out = layer
                .output_shape(&shape)
                .map_err(|e| Error::manifest(format!("layer {:?}: {e}", spec.name)))?;
            if out.iter().product::<usize>() > MAX_VALUES {
                return Err(Error::manifest(format!(
                    "layer {:?} output {out:?} is too large",
                    spec.name
                )));
            }
            if let Some((ws, bl, _)) = layer.param_shapes() {
                params = params
                    .saturating_add(ws.iter().product::<usize>())
                    .saturating_add(bl);
                if params > MAX_VALUES {
                    return Err(Error::manifest("the network has too many parameters"));
                }
            }
            layers.push(NamedLayer {
                name: spec.name.clone(),
                layer,
                input_shape: shape,
                output_shape: out.clone(),
            });
            shape = out;
        }
        let classes = shape.iter().product::<usize>();
        if !manifest.labels.is_empty() && manifest.labels.len() != classes {
            return Err(Error::manifest(format!(
                "{} labels for {classes} outputs",
                manifest.labels.len()
            )));
        }
        let mut manifest = manifest;
        if manifest.labels.is_empty() {
            manifest.labels = (0..classes).map(|i| i.to_string()).collect();
        }
        Ok(Network {
            manifest,
            layers,
            mean,
            std,
        })
    }

    /// Builds the network and takes `{name}.weight` / `{name}.bias` for every layer with parameters; like
    /// PyTorch's `load_state_dict(strict=True)`, a missing or unexpected tensor is an error, and so is a wrong
    /// shape or a non-finite value.
    pub fn new(manifest: Manifest, weights: &SafeTensors) -> Result<Network> {
        let mut net = Network::skeleton(manifest)?;
        let mut used = 0;
        for l in &mut net.layers {
            let Some((ws, bl, _)) = l.layer.param_shapes() else {
                continue;
            };
            let fetch = |suffix: &str, shape: &[usize]| -> Result<Vec<f32>> {
                let key = format!("{}.{suffix}", l.name);
                let t = weights.get(&key).ok_or_else(|| {
                    Error::weights(format!(
                        "tensor {key:?} is missing (layer {:?} needs it)",
                        l.name
                    ))
                })?;
                if t.shape() != shape {
                    return Err(Error::weights(format!(
                        "tensor {key:?} has shape {:?}, the manifest needs {shape:?}",
                        t.shape()
                    )));
                }
                if !t.data().iter().all(|v| v.is_finite()) {
                    return Err(Error::weights(format!(
                        "tensor {key:?} contains NaN or infinite values"
                    )));
                }
                Ok(t.data().to_vec())
            };
            let w = fetch("weight", &ws)?;
            let b = fetch("bias", &[bl])?;
            if let Some((weight, bias)) = l.layer.params_mut() {
                *weight = w;
                *bias = b;
            }
            used += 2;
        }
        if used != weights.tensors.len() {
            let unexpected: Vec<&str> = weights
                .tensors
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| {
                    !net.layers.iter().any(|l| {
                        l.layer.params().is_some()
                            && (*n == format!("{}.weight", l.name)
                                || *n == format!("{}.bias", l.name))
                    })
                })
                .collect();
            return Err(Error::weights(format!(
                "unexpected tensors {unexpected:?}: the manifest has no layer for them"
            )));
        }
        Ok(net)
    }

    /// Builds a network from manifest JSON and safetensors bytes (what the page fetches).
    pub fn from_bytes(manifest_json: &str, weights: &[u8]) -> Result<Network> {
        Network::new(
            Manifest::parse(manifest_json)?,
            &safetensors::parse(weights)?,
        )
    }

    /// Loads a manifest file and the weights file it names (relative to the manifest).
    pub fn load(manifest_path: &std::path::Path) -> Result<Network> {
        let text = std::fs::read_to_string(manifest_path)
            .map_err(|e| Error::io(manifest_path.display().to_string(), e))?;
        let manifest = Manifest::parse(&text)?;
        let weights_path = manifest_path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(&manifest.weights);
        let bytes = std::fs::read(&weights_path)
            .map_err(|e| Error::io(weights_path.display().to_string(), e))?;
        Network::new(manifest, &safetensors::parse(&bytes)?)
    }

    /// A freshly initialised network, as PyTorch initialises `nn.Conv2d` and `nn.Linear`: weights and biases
    /// uniform in `±1/√fan_in` (Kaiming-uniform with a = √5).
    pub fn init_random(manifest: Manifest, seed: u64) -> Result<Network> {
        let mut net = Network::skeleton(manifest)?;
        let mut rng = Rng::new(seed);
        for l in &mut net.layers {
            let Some((ws, bl, fan_in)) = l.layer.param_shapes() else {
                continue;
            };
            let bound = 1.0 / (fan_in as f32).sqrt();
            let mut draw = |n: usize| {
                (0..n)
                    .map(|_| (2.0 * rng.uniform() - 1.0) * bound)
                    .collect::<Vec<f32>>()
            };
            let (w, b) = (draw(ws.iter().product()), draw(bl));
            if let Some((weight, bias)) = l.layer.params_mut() {
                *weight = w;
                *bias = b;
            }
        }
        Ok(net)
    }

    /// The weights as a safetensors file with PyTorch names.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut tensors = Vec::new();
        for l in &self.layers {
            if let (Some((w, b)), Some((ws, _, _))) = (l.layer.params(), l.layer.param_shapes()) {
                tensors.push((
                    format!("{}.weight", l.name),
                    Tensor::from_vec(&ws, w.to_vec())?,
                ));
                tensors.push((
                    format!("{}.bias", l.name),
                    Tensor::from_vec(&[b.len()], b.to_vec())?,
                ));
            }
        }
        let meta = BTreeMap::from([
            ("format".to_string(), "pt".to_string()),
            ("producer".to_string(), "convscope".to_string()),
        ]);
        safetensors::serialize(&tensors, &meta)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }
    pub fn layers(&self) -> &[NamedLayer] {
        &self.layers
    }
    pub fn labels(&self) -> &[String] {
        &self.manifest.labels
    }
    /// `[C, H, W]` of the input.
    pub fn input_shape(&self) -> [usize; 3] {
        let i = self.manifest.input;
        [i.channels, i.height, i.width]
    }

    /// Index of the layer called `name`.
    pub fn layer_index(&self, name: &str) -> Result<usize> {
        self.layers
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.layers.iter().map(|l| l.name.as_str()).collect();
                Error::invalid(format!("no layer named {name:?}; the layers are {names:?}"))
            })
    }

    /// Index of the layer whose output are the class scores (logits): the input of a final log-softmax, or the
    /// last layer.
    pub fn logits_index(&self) -> usize {
        match self.layers.last() {
            Some(NamedLayer {
                layer: Layer::LogSoftmax,
                ..
            }) if self.layers.len() > 1 => self.layers.len() - 2,
            _ => self.layers.len().saturating_sub(1),
        }
    }

    /// Wraps a flat `C·H·W` buffer of raw pixels as an input tensor, checking its length and finiteness.
    pub fn image(&self, data: Vec<f32>) -> Result<Tensor> {
        let shape = self.input_shape();
        if data.len() != shape.iter().product::<usize>() {
            return Err(Error::shape("input image", &shape, &[data.len()]));
        }
        let t = Tensor::from_vec(&shape, data)?;
        t.check_finite("the input image")?;
        Ok(t)
    }

    /// Runs the network and keeps every intermediate tensor.
    pub fn forward(&self, image: &Tensor) -> Result<Trace> {
        self.forward_with(image, &mut |_, _| {})
    }

    /// [`Network::forward`], with `after(i, output)` called on the output of layer `i` before layer `i + 1`
    /// reads it: training uses it to apply dropout masks, and the trace holds the changed outputs, so
    /// [`Network::backward`] sees the network that actually ran.
    pub fn forward_with(
        &self,
        image: &Tensor,
        after: &mut dyn FnMut(usize, &mut Tensor),
    ) -> Result<Trace> {
        let normalized = self.normalize(image)?;
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        let mut switches = Vec::with_capacity(self.layers.len());
        for i in 0..self.layers.len() {
            let x = outputs.last().unwrap_or(&normalized);
            let (mut y, sw) = self.layer_forward(i, x)?;
            after(i, &mut y);
            outputs.push(y);
            switches.push(sw);
        }
        Ok(Trace {
            input: image.clone(),
            normalized,
            outputs,
            switches,
        })
    }

    /// Forward passes of a batch of images, equal to [`Network::forward`] image by image (to the bit): the
    /// conv, ReLU and pooling layers run image by image, the linear layers as one product for the whole batch
    /// ([`linear::forward_batch`]), which reads each weight once per four images instead of once per image.
    pub fn forward_batch(&self, images: &[Tensor]) -> Result<Vec<Trace>> {
        let mut traces = images
            .iter()
            .map(|image| self.start_trace(image))
            .collect::<Result<Vec<Trace>>>()?;
        self.continue_batch(&mut traces)?;
        Ok(traces)
    }

    /// The forward passes of the points of a straight line of inputs, `start + α·(end − start)` ([`Line`]).
    pub fn line(&self, start: &Tensor, end: &Tensor) -> Result<Line<'_>> {
        if start.shape() != end.shape() {
            return Err(Error::shape("end of the line", start.shape(), end.shape()));
        }
        let along = self.linear_prefix().map_or(Ok(Vec::new()), |j| {
            let at_start = self.forward(start)?.outputs;
            end.check_finite("the end of the line")?;
            // The normalized direction: (end − start) / std_c.
            let direction = end.data().iter().zip(start.data()).map(|(e, s)| e - s);
            let mut slope = Tensor::from_vec(end.shape(), direction.collect())?;
            self.denormalize(&mut slope);
            let mut slopes = Vec::with_capacity(j + 1);
            for i in 0..=j {
                let x = slopes.last().unwrap_or(&slope);
                slopes.push(self.layer_forward_without_bias(i, x)?);
            }
            Ok(at_start.into_iter().zip(slopes).collect())
        })?;
        Ok(Line {
            net: self,
            start: start.clone(),
            end: end.clone(),
            along,
        })
    }

    /// A trace holding only the input and its normalization.
    fn start_trace(&self, image: &Tensor) -> Result<Trace> {
        let n = self.layers.len();
        Ok(Trace {
            normalized: self.normalize(image)?,
            input: image.clone(),
            outputs: Vec::with_capacity(n),
            switches: Vec::with_capacity(n),
        })
    }

    /// Runs the layers the traces lack, all traces together.
    fn continue_batch(&self, traces: &mut [Trace]) -> Result<()> {
        let done = traces.iter().map(|t| t.outputs.len()).min().unwrap_or(0);
        for (i, l) in self.layers.iter().enumerate().skip(done) {
            if let Layer::Linear {
                params,
                weight,
                bias,
            } = &l.layer
            {
                let xs: Vec<&Tensor> = traces.iter().map(|t| t.layer_input(i)).collect();
                let ys = linear::forward_batch(params, &xs, weight, bias)?;
                for (t, y) in traces.iter_mut().zip(ys) {
                    t.outputs.push(y);
                    t.switches.push(None);
                }
            } else {
                for t in traces.iter_mut() {
                    let (y, sw) = self.layer_forward(i, t.layer_input(i))?;
                    t.outputs.push(y);
                    t.switches.push(sw);
                }
            }
        }
        Ok(())
    }

    /// Layer `i` of the linear prefix without its bias: the linear part of the affine map.
    fn layer_forward_without_bias(&self, i: usize, x: &Tensor) -> Result<Tensor> {
        let l = &self.layers[i];
        match &l.layer {
            Layer::Conv2d { params, weight, .. } => {
                conv2d::forward(params, x, weight, &vec![0.0; params.out_channels])
            }
            Layer::Linear { params, weight, .. } => {
                linear::forward(params, x, weight, &vec![0.0; params.out_features])
            }
            Layer::Flatten => x.clone().reshaped(&l.output_shape),
            _ => Err(Error::invalid(format!(
                "layer {:?} is not in the network's linear prefix",
                l.name
            ))),
        }
    }

    /// The normalized input `(x − mean_c) / std_c`, after checking the image's shape and values.
    fn normalize(&self, image: &Tensor) -> Result<Tensor> {
        let shape = self.input_shape();
        if image.shape() != shape {
            return Err(Error::shape("input image", &shape, image.shape()));
        }
        image.check_finite("the input image")?;
        let mut normalized = image.clone();
        let plane = shape[1] * shape[2];
        for (c, chunk) in normalized.data_mut().chunks_exact_mut(plane).enumerate() {
            let (mean, std) = (self.mean[c], self.std[c]);
            for v in chunk {
                *v = (*v - mean) / std;
            }
        }
        Ok(normalized)
    }

    /// Layer `i` applied to its input `x`, with the switches of a max-pool.
    fn layer_forward(&self, i: usize, x: &Tensor) -> Result<(Tensor, Option<Switches>)> {
        let l = &self.layers[i];
        Ok(match &l.layer {
            Layer::Conv2d {
                params,
                weight,
                bias,
            } => (conv2d::forward(params, x, weight, bias)?, None),
            Layer::Relu => (relu::forward(x), None),
            Layer::MaxPool2d(p) => {
                let (y, sw) = pool::forward(p, x)?;
                (y, Some(sw))
            }
            Layer::Flatten => (x.clone().reshaped(&l.output_shape)?, None),
            Layer::Linear {
                params,
                weight,
                bias,
            } => (linear::forward(params, x, weight, bias)?, None),
            Layer::LogSoftmax => (softmax::log_softmax(x), None),
        })
    }

    /// Class scores and probabilities for one image.
    pub fn predict(&self, image: &Tensor) -> Result<Prediction> {
        let trace = self.forward(image)?;
        Ok(self.prediction(&trace))
    }

    /// The prediction a trace holds.
    pub fn prediction(&self, trace: &Trace) -> Prediction {
        let logits = trace.outputs[self.logits_index()].clone();
        let probs = softmax::softmax(&logits);
        let label = argmax(logits.data());
        Prediction {
            label,
            logits: logits.into_data(),
            probs: probs.into_data(),
        }
    }

    /// Zeroed gradients shaped like the parameters.
    pub fn zero_gradients(&self) -> Gradients {
        Gradients {
            layers: self
                .layers
                .iter()
                .map(|l| {
                    l.layer
                        .params()
                        .map(|(w, b)| (vec![0.0; w.len()], vec![0.0; b.len()]))
                })
                .collect(),
        }
    }

    /// Mutable weights and biases of every layer that has them, with the layer index.
    pub fn parameters_mut(
        &mut self,
    ) -> impl Iterator<Item = (usize, &mut Vec<f32>, &mut Vec<f32>)> {
        self.layers
            .iter_mut()
            .enumerate()
            .filter_map(|(i, l)| l.layer.params_mut().map(|(w, b)| (i, w, b)))
    }

    /// Sends `grad` (shaped like the output of layer `from`) back down the network.
    ///
    /// `rule` says how ReLUs pass the signal ([`ReluRule::Gradient`] for true gradients). With `until =
    /// Some(j)` it stops and returns the signal at the output of layer `j < from`; with `None` it continues
    /// through the normalization and returns the signal with respect to the raw input pixels. When `grads` is
    /// given, the parameter gradients of the layers passed through are accumulated into it.
    pub fn backward(
        &self,
        trace: &Trace,
        from: usize,
        grad: Tensor,
        rule: ReluRule,
        until: Option<usize>,
        mut grads: Option<&mut Gradients>,
    ) -> Result<Tensor> {
        let stop = self.check_backward(&[trace], from, std::slice::from_ref(&grad), until)?;
        let mut g = grad;
        for i in (stop..=from).rev() {
            if let Some((dw, db)) = grads
                .as_deref_mut()
                .and_then(|gr| gr.layers.get_mut(i))
                .and_then(|o| o.as_mut())
            {
                let x = trace.layer_input(i);
                match &self.layers[i].layer {
                    Layer::Conv2d { params, .. } => {
                        conv2d::accumulate_param_grads(params, x, &g, dw, db)?
                    }
                    Layer::Linear { params, .. } => {
                        linear::accumulate_param_grads(params, x, &g, dw, db)?
                    }
                    _ => {}
                }
            }
            g = self.layer_backward(i, trace, g, rule)?;
        }
        if until.is_none() {
            self.denormalize(&mut g);
        }
        Ok(g)
    }

    /// [`Network::backward`] for several signals at once, without parameter gradients: signal `b` goes down
    /// through `traces[b]`. Linear layers run as one product for the batch
    /// ([`linear::backward_input_batch`]). When one trace serves every signal (the deconvnet sends all the
    /// channels of a layer down one forward pass) the signals cross the conv, ReLU and max-pool layers
    /// interleaved as [`Lanes`], which skip the rows that are zero in every signal and scatter each tap once
    /// for all of them; otherwise those layers run signal by signal. Each result equals what
    /// [`Network::backward`] returns for its signal, up to the order of additions in the lanes.
    pub fn backward_batch(
        &self,
        traces: &[&Trace],
        from: usize,
        grads: Vec<Tensor>,
        rule: ReluRule,
        until: Option<usize>,
    ) -> Result<Vec<Tensor>> {
        if traces.len() != grads.len() {
            return Err(Error::invalid(format!(
                "a batched backward pass needs one trace per signal, got {} traces for {} signals",
                traces.len(),
                grads.len()
            )));
        }
        let stop = self.check_backward(traces, from, &grads, until)?;
        let shared = traces
            .first()
            .filter(|first| traces.iter().all(|t| std::ptr::eq(*t, **first)))
            .copied();
        let mut signals = Signals::Apart(grads);
        for i in (stop..=from).rev() {
            let l = &self.layers[i];
            signals = match (signals, &l.layer, shared) {
                (Signals::Apart(gs), Layer::Linear { params, weight, .. }, _) => Signals::Apart(
                    linear::backward_input_batch(params, &gs.iter().collect::<Vec<_>>(), weight)?,
                ),
                (
                    signals,
                    Layer::Conv2d { .. } | Layer::Relu | Layer::MaxPool2d(_),
                    Some(trace),
                ) => {
                    let lanes = match signals {
                        Signals::Apart(gs) => Lanes::interleave(&gs)?,
                        Signals::Lanes(lanes) => lanes,
                    };
                    Signals::Lanes(self.layer_backward_lanes(i, trace, lanes, rule)?)
                }
                (signals, _, _) => {
                    let gs = match signals {
                        Signals::Apart(gs) => gs,
                        Signals::Lanes(lanes) => lanes.split()?,
                    };
                    Signals::Apart(
                        gs.into_iter()
                            .zip(traces)
                            .map(|(g, trace)| self.layer_backward(i, trace, g, rule))
                            .collect::<Result<Vec<Tensor>>>()?,
                    )
                }
            };
        }
        let mut gs = match signals {
            Signals::Apart(gs) => gs,
            Signals::Lanes(lanes) => lanes.split()?,
        };
        if until.is_none() {
            gs.iter_mut().for_each(|g| self.denormalize(g));
        }
        Ok(gs)
    }

    /// Sends interleaved signals back through conv, ReLU or max-pool layer `i` of the pass `trace` recorded.
    fn layer_backward_lanes(
        &self,
        i: usize,
        trace: &Trace,
        g: Lanes,
        rule: ReluRule,
    ) -> Result<Lanes> {
        let l = &self.layers[i];
        match &l.layer {
            Layer::Conv2d { params, weight, .. } => {
                conv2d::transpose_lanes(params, g, weight, l.input_shape[1], l.input_shape[2])
            }
            Layer::Relu => relu::backward_lanes(rule, trace.layer_input(i), g),
            Layer::MaxPool2d(_) => {
                let sw = trace.switches[i]
                    .as_ref()
                    .ok_or_else(|| Error::invalid("the trace lacks pooling switches"))?;
                pool::unpool_lanes(g, sw)
            }
            _ => Err(Error::invalid(format!(
                "layer {:?} has no interleaved backward step",
                l.name
            ))),
        }
    }

    /// Checks the arguments of a backward pass; returns the first layer it goes through (the last one run).
    fn check_backward(
        &self,
        traces: &[&Trace],
        from: usize,
        grads: &[Tensor],
        until: Option<usize>,
    ) -> Result<usize> {
        let layer = self
            .layers
            .get(from)
            .ok_or_else(|| Error::invalid(format!("layer index {from} out of range")))?;
        if let Some(grad) = grads
            .iter()
            .find(|g| g.shape() != layer.output_shape.as_slice())
        {
            return Err(Error::shape(
                format!("signal at the output of {:?}", layer.name),
                &layer.output_shape,
                grad.shape(),
            ));
        }
        if traces.iter().any(|t| t.outputs.len() != self.layers.len()) {
            return Err(Error::invalid("the trace does not come from this network"));
        }
        if let Some(j) = until {
            if j > from {
                return Err(Error::invalid(format!(
                    "cannot go back from layer {from} to the later layer {j}"
                )));
            }
        }
        Ok(until.map_or(0, |j| j + 1))
    }

    /// Sends `g` (shaped like the output of layer `i`) back through layer `i` of the pass `trace` recorded.
    fn layer_backward(&self, i: usize, trace: &Trace, g: Tensor, rule: ReluRule) -> Result<Tensor> {
        let l = &self.layers[i];
        let x = trace.layer_input(i);
        Ok(match &l.layer {
            Layer::Conv2d { params, weight, .. } => {
                conv2d::transpose(params, &g, weight, l.input_shape[1], l.input_shape[2])?
            }
            Layer::Relu => {
                let mut g = g;
                relu::backward_in_place(rule, x, &mut g)?;
                g
            }
            Layer::MaxPool2d(_) => {
                let sw = trace.switches[i]
                    .as_ref()
                    .ok_or_else(|| Error::invalid("the trace lacks pooling switches"))?;
                pool::unpool(&g, sw)?
            }
            Layer::Flatten => g.reshaped(&l.input_shape)?,
            Layer::Linear { params, weight, .. } => linear::backward_input(params, &g, weight)?,
            Layer::LogSoftmax => softmax::backward(x, &g)?,
        })
    }

    /// The last step of a backward pass to the raw pixels: through the normalization, `g / std_c` (also the
    /// normalization of a difference of images).
    fn denormalize(&self, g: &mut Tensor) {
        let plane = g.len() / self.std.len().max(1);
        for (c, chunk) in g.data_mut().chunks_exact_mut(plane.max(1)).enumerate() {
            let s = self.std.get(c).copied().unwrap_or(1.0);
            for v in chunk {
                *v /= s;
            }
        }
    }

    /// The end of the leading run of layers whose backward step is linear in the signal and the same for
    /// every input (conv2d, linear, flatten: no ReLU, pooling or softmax): signals sent back through one
    /// forward pass each may be summed at the output of that layer and sent through the run once (integrated
    /// gradients and SmoothGrad do; LeNet-5's run is `conv1`). `None` when the first layer is not such a
    /// layer.
    pub fn linear_prefix(&self) -> Option<usize> {
        self.layers
            .iter()
            .take_while(|l| {
                matches!(
                    l.layer,
                    Layer::Conv2d { .. } | Layer::Linear { .. } | Layer::Flatten
                )
            })
            .count()
            .checked_sub(1)
    }

    /// Gradient of the class score `logits[target]` (or of `log_softmax[target]` when `log_prob`) with respect
    /// to the raw input, with the given ReLU rule.
    pub fn target_backward(
        &self,
        trace: &Trace,
        target: usize,
        log_prob: bool,
        rule: ReluRule,
    ) -> Result<Tensor> {
        let (from, n) = self.target_layer(log_prob)?;
        if target >= n {
            return Err(Error::invalid(format!(
                "target class {target} out of range: the model has {n} classes"
            )));
        }
        let mut seed = Tensor::zeros(&self.layers[from].output_shape);
        seed.data_mut()[target] = 1.0;
        self.backward(trace, from, seed, rule, None, None)
    }

    /// The layer holding the target scores and the number of classes.
    pub fn target_layer(&self, log_prob: bool) -> Result<(usize, usize)> {
        let from = if log_prob {
            match self.layers.last() {
                Some(NamedLayer {
                    layer: Layer::LogSoftmax,
                    ..
                }) => self.layers.len() - 1,
                _ => {
                    return Err(Error::invalid(
                        "the model has no log_softmax layer to target",
                    ))
                }
            }
        } else {
            self.logits_index()
        };
        Ok((from, self.layers[from].output_shape.iter().product()))
    }
}

/// Index of the largest value (the first one on ties; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::InputShape;

    /// LeNet-5 on a 2-channel 16×12 input with 4 classes, normalized per channel.
    fn small_lenet(seed: u64) -> Network {
        let labels = (0..4).map(|i| i.to_string()).collect();
        let input = InputShape {
            channels: 2,
            height: 16,
            width: 12,
        };
        let mut m = Manifest::lenet5("small", input, labels).unwrap();
        m.normalization = Some(crate::model::manifest::Normalization {
            mean: vec![0.2, -0.1],
            std: vec![0.5, 2.0],
        });
        Network::init_random(m, seed).unwrap()
    }

    fn images(net: &Network, rng: &mut Rng, n: usize) -> Vec<Tensor> {
        let len = net.input_shape().iter().product();
        (0..n)
            .map(|_| {
                net.image((0..len).map(|_| rng.uniform()).collect())
                    .unwrap()
            })
            .collect()
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn batched_passes_equal_single_passes() {
        let net = small_lenet(1);
        let mut rng = Rng::new(2);
        let images = images(&net, &mut rng, 6);
        let traces = net.forward_batch(&images).unwrap();
        let logits = net.logits_index();
        let mut seeds = Vec::new();
        for (image, trace) in images.iter().zip(&traces) {
            let single = net.forward(image).unwrap();
            assert_eq!(trace.outputs, single.outputs);
            assert_eq!(trace.switches, single.switches);
            assert_eq!(
                (&trace.input, &trace.normalized),
                (&single.input, &single.normalized)
            );
            let mut seed = Tensor::zeros(&net.layers()[logits].output_shape);
            seed.data_mut().iter_mut().for_each(|v| *v = rng.normal());
            seeds.push(seed);
        }
        let refs: Vec<&Trace> = traces.iter().collect();
        for rule in [ReluRule::Gradient, ReluRule::Guided, ReluRule::Deconvnet] {
            for until in [None, Some(0), Some(3), Some(logits)] {
                let batch = net
                    .backward_batch(&refs, logits, seeds.clone(), rule, until)
                    .unwrap();
                for ((trace, seed), got) in traces.iter().zip(&seeds).zip(&batch) {
                    let want = net
                        .backward(trace, logits, seed.clone(), rule, until, None)
                        .unwrap();
                    assert_eq!(got, &want, "{rule:?} until {until:?}");
                }
            }
        }
        // One trace shared by every signal: interleaved lanes, the same up to the order of additions.
        let shared = vec![&traces[0]; 3];
        for rule in [ReluRule::Gradient, ReluRule::Deconvnet] {
            for (from, until) in [(logits, None), (5, None), (5, Some(1))] {
                let seeds: Vec<Tensor> = (0..3)
                    .map(|b| {
                        let shape = &net.layers()[from].output_shape;
                        let n = shape.iter().product();
                        let values =
                            (0..n).map(|i| if (i + b) % 3 == 0 { rng.normal() } else { 0.0 });
                        Tensor::from_vec(shape, values.collect()).unwrap()
                    })
                    .collect();
                let batch = net
                    .backward_batch(&shared, from, seeds.clone(), rule, until)
                    .unwrap();
                for (seed, got) in seeds.iter().zip(&batch) {
                    let want = net
                        .backward(&traces[0], from, seed.clone(), rule, until, None)
                        .unwrap();
                    assert_eq!(got.shape(), want.shape());
                    let scale = want.data().iter().fold(1f32, |m, v| m.max(v.abs()));
                    for (a, b) in got.data().iter().zip(want.data()) {
                        assert!(
                            (a - b).abs() <= 1e-5 * scale,
                            "{a} vs {b}, {rule:?} from {from}"
                        );
                    }
                }
            }
        }
        assert!(net
            .backward_batch(&refs[..2], logits, seeds.clone(), ReluRule::Gradient, None)
            .is_err());
        assert!(net
            .backward_batch(
                &refs,
                logits,
                seeds.clone(),
                ReluRule::Gradient,
                Some(logits + 1)
            )
            .is_err());
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_line_equals_forward_passes_of_its_points() {
        let net = small_lenet(3);
        let mut rng = Rng::new(4);
        let ends = images(&net, &mut rng, 2);
        let line = net.line(&ends[0], &ends[1]).unwrap();
        let alphas = [0.0, 0.25, 0.7, 1.0];
        let traces = line.traces(&alphas).unwrap();
        for (&alpha, trace) in alphas.iter().zip(&traces) {
            let point = line.point(alpha).unwrap();
            let want = net.forward(&point).unwrap();
            assert_eq!(
                (&trace.input, &trace.normalized),
                (&want.input, &want.normalized)
            );
            for (got, want) in trace.outputs.iter().zip(&want.outputs) {
                let scale = want.data().iter().fold(1f32, |m, v| m.max(v.abs()));
                for (a, b) in got.data().iter().zip(want.data()) {
                    assert!((a - b).abs() <= 1e-5 * scale, "{a} vs {b} at α = {alpha}");
                }
            }
            if alpha == 0.0 {
                assert_eq!(trace.outputs, want.outputs);
            }
        }
        assert_eq!(line.point(1.0).unwrap(), ends[1]);
        assert!(net.line(&ends[0], &Tensor::zeros(&[1, 16, 12])).is_err());
    }

    #[test]
    fn the_linear_prefix_ends_before_the_first_relu() {
        assert_eq!(small_lenet(0).linear_prefix(), Some(0));
        let net = |layers: &str| {
            let m = Manifest::parse(&format!(
                r#"{{"name": "x", "input": {{"channels": 1, "height": 2, "width": 2}}, "weights": "none",
                    "layers": {layers}}}"#
            ))
            .unwrap();
            Network::init_random(m, 0).unwrap()
        };
        let fc = |name: &str, n: usize| {
            format!(
                r#"{{"name": "{name}", "type": "linear", "in_features": {n}, "out_features": {n}}}"#
            )
        };
        let flatten = r#"{"name": "flatten", "type": "flatten"}"#;
        let relu = r#"{"name": "relu", "type": "relu"}"#;
        let two_fc = net(&format!(
            "[{flatten}, {}, {relu}, {}]",
            fc("a", 4),
            fc("b", 4)
        ));
        assert_eq!(two_fc.linear_prefix(), Some(1));
        assert_eq!(
            net(&format!("[{flatten}, {relu}, {}]", fc("a", 4))).linear_prefix(),
            Some(0)
        );
        let relu_first =
            r#"[{"name": "relu", "type": "relu"}, {"name": "flatten", "type": "flatten"}]"#;
        assert_eq!(net(relu_first).linear_prefix(), None);
    }
}
