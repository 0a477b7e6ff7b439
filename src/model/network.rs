//! A sequential network built from a [`Manifest`] and its weights: the layers with the shapes flowing in
//! and out (checked once, when the network is built), the input normalization, and the forward pass that
//! keeps every intermediate tensor and every max-pool's switches in a [`Trace`] tied to the network.
//!
//! Input: raw pixels `[C, H, W]` in `[0, 1]` (ink = 1 for MNIST). The manifest's normalization
//! `(x − mean_c) / std_c` is the first step of the forward pass, so every gradient and reconstruction the
//! backward pass returns is with respect to the raw pixels.
//!
//! Beside it: loading and saving (`load.rs`, `save.rs`), the trace and the backward pass (`trace.rs`), the
//! batched passes (`batch.rs`), the per-layer steps ([`crate::layers::Layer`]).

use crate::error::{Error, Result};
use crate::model::manifest::Manifest;
use crate::tensor::{checked_product, Tensor, MAX_VALUES};

pub use crate::layers::Layer;
pub use crate::model::trace::{Masks, Prediction, Trace};

/// The most layers a manifest may list.
const MAX_LAYERS: usize = 256;

/// The largest magnitude accepted for an input pixel, a normalization mean and `1/std`: raw pixels are in
/// `[0, 1]`, and anything near `f32::MAX` would overflow to NaN in the first layer.
pub const MAX_ABS_INPUT: f32 = 1e4;

/// A layer with its manifest name and the shapes flowing in and out.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedLayer {
    pub name: String,
    pub layer: Layer,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
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

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    manifest: Manifest,
    layers: Vec<NamedLayer>,
    mean: Vec<f32>,
    std: Vec<f32>,
}

/// The per-channel `(mean, std)` of a manifest, checked: one per channel, `|mean| ≤ MAX_ABS_INPUT`,
/// `1/MAX_ABS_INPUT ≤ std ≤ MAX_ABS_INPUT`.
fn normalization(manifest: &Manifest) -> Result<(Vec<f32>, Vec<f32>)> {
    let channels = manifest.input.channels;
    let (mean, std) = match &manifest.normalization {
        None => (vec![0.0; channels], vec![1.0; channels]),
        Some(n) => (n.mean.clone(), n.std.clone()),
    };
    if mean.len() != channels || std.len() != channels {
        return Err(Error::manifest(format!(
            "normalization needs one mean and std per input channel ({channels})"
        )));
    }
    let bounded = |v: &f32| v.abs() <= MAX_ABS_INPUT;
    let positive = |s: &f32| (1.0 / MAX_ABS_INPUT..=MAX_ABS_INPUT).contains(s);
    if !mean.iter().all(bounded) || !std.iter().all(positive) {
        return Err(Error::manifest(format!(
            "normalization mean must be finite with |mean| ≤ {MAX_ABS_INPUT}, and std between {} and {MAX_ABS_INPUT}",
            1.0 / MAX_ABS_INPUT
        )));
    }
    Ok((mean, std))
}

/// The layers of a manifest with their shapes, checked from the input on: every layer accepts what the one
/// before gives, no output is empty or larger than [`MAX_VALUES`], the parameters total at most
/// [`MAX_VALUES`].
fn shaped_layers(manifest: &Manifest) -> Result<Vec<NamedLayer>> {
    let input = manifest.input;
    let mut shape = vec![input.channels, input.height, input.width];
    if shape.contains(&0) || checked_product(&shape).map_or(true, |n| n > MAX_VALUES) {
        return Err(Error::manifest(format!(
            "input shape {shape:?} is empty or too large (at most {MAX_VALUES} values)"
        )));
    }
    if manifest.layers.is_empty() || manifest.layers.len() > MAX_LAYERS {
        return Err(Error::manifest(format!(
            "a network needs 1 to {MAX_LAYERS} layers, got {}",
            manifest.layers.len()
        )));
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
        let context = |e: Error| Error::manifest(format!("layer {:?}: {e}", spec.name));
        let out = spec.layer.output_shape(&shape).map_err(context)?;
        let values = checked_product(&out).unwrap_or(usize::MAX);
        if values == 0 || values > MAX_VALUES {
            return Err(Error::manifest(format!(
                "layer {:?} output {out:?} is empty or too large (at most {MAX_VALUES} values)",
                spec.name
            )));
        }
        if let Some(p) = spec.layer.param_shapes().map_err(context)? {
            params = params.saturating_add(checked_product(&p.weight).unwrap_or(usize::MAX));
            params = params.saturating_add(p.bias);
            if params > MAX_VALUES {
                return Err(Error::manifest(format!(
                    "the network has more than {MAX_VALUES} parameters"
                )));
            }
        }
        layers.push(NamedLayer {
            name: spec.name.clone(),
            layer: spec.layer.clone(),
            input_shape: shape,
            output_shape: out.clone(),
        });
        shape = out;
    }
    Ok(layers)
}

impl Network {
    /// Builds the architecture with empty parameters and checks every shape (`load.rs` fills in the
    /// parameters).
    pub(crate) fn skeleton(manifest: Manifest) -> Result<Network> {
        // The input shape first: the normalization allocates one value per channel.
        let layers = shaped_layers(&manifest)?;
        let (mean, std) = normalization(&manifest)?;
        let classes = layers.last().map_or(0, |l| l.output_shape.iter().product());
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

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }
    pub fn layers(&self) -> &[NamedLayer] {
        &self.layers
    }
    pub(crate) fn layers_mut(&mut self) -> &mut [NamedLayer] {
        &mut self.layers
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
                Error::option(
                    "layer",
                    format!("no layer named {name:?}; the layers are {names:?}"),
                )
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

    /// Wraps a flat `C·H·W` buffer of raw pixels as an input tensor, checking its length and values.
    pub fn image(&self, data: Vec<f32>) -> Result<Tensor> {
        let shape = self.input_shape();
        if data.len() != shape.iter().product::<usize>() {
            return Err(Error::shape("input image", &shape, &[data.len()]));
        }
        let t = Tensor::from_vec(&shape, data)?;
        check_input_values(&t)?;
        Ok(t)
    }

    /// Runs the network and keeps every intermediate tensor.
    pub fn forward(&self, image: &Tensor) -> Result<Trace<'_>> {
        self.forward_masked(image, Masks::new())
    }

    /// [`Network::forward`] with dropout: `masks[k] = (layer, multipliers)` multiply the output of `layer`
    /// unit by unit before the next layer reads it (layers ascending, one mask per layer at most). The trace
    /// holds the masks and the masked outputs, so its backward pass goes through the network that ran.
    pub fn forward_masked(&self, image: &Tensor, masks: Masks) -> Result<Trace<'_>> {
        self.check_masks(&masks)?;
        let mut trace = self.start_trace(image)?;
        trace.set_masks(masks);
        for l in &self.layers {
            let (y, switches) = l.layer.forward(trace.next_input())?;
            trace.push(y, switches);
        }
        Ok(trace)
    }

    fn check_masks(&self, masks: &Masks) -> Result<()> {
        let mut last = None;
        for (layer, mask) in masks {
            let l = self.layers.get(*layer).ok_or_else(|| {
                Error::out_of_range(
                    "dropout layer index",
                    layer,
                    format!("0 to {}", self.layers.len() - 1),
                )
            })?;
            if last.is_some_and(|j| j >= *layer) {
                return Err(Error::option(
                    "masks",
                    "layers must be ascending, one mask each",
                ));
            }
            if mask.len() != l.output_shape.iter().product::<usize>() {
                return Err(Error::shape(
                    format!("dropout mask of {:?}", l.name),
                    &l.output_shape,
                    &[mask.len()],
                ));
            }
            last = Some(*layer);
        }
        Ok(())
    }

    /// A trace holding only the input and its normalization (the passes add the layers' outputs).
    pub(crate) fn start_trace(&self, image: &Tensor) -> Result<Trace<'_>> {
        Ok(Trace::start(self, image.clone(), self.normalize(image)?))
    }

    /// The normalized input `(x − mean_c) / std_c`, after checking the image's shape and values.
    fn normalize(&self, image: &Tensor) -> Result<Tensor> {
        let shape = self.input_shape();
        if image.shape() != shape {
            return Err(Error::shape("input image", &shape, image.shape()));
        }
        check_input_values(image)?;
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

    /// The last step of a backward pass to the raw pixels: through the normalization, `g / std_c` (also the
    /// normalization of a difference of images).
    pub(crate) fn denormalize(&self, g: &mut Tensor) {
        let plane = g.len() / self.std.len().max(1);
        for (c, chunk) in g.data_mut().chunks_exact_mut(plane.max(1)).enumerate() {
            let s = self.std.get(c).copied().unwrap_or(1.0);
            for v in chunk {
                *v /= s;
            }
        }
    }

    /// Class scores and probabilities for one image; an error when the scores are not finite (weights and
    /// inputs are bounded, but a deep enough network can still overflow).
    pub fn predict(&self, image: &Tensor) -> Result<Prediction> {
        let trace = self.forward(image)?;
        trace.logits().check_finite("the class scores")?;
        Ok(trace.prediction())
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

    /// The end of the leading run of layers whose backward step is linear in the signal and the same for
    /// every input (conv2d, linear, flatten: no ReLU, pooling or softmax): signals sent back through one
    /// forward pass each may be summed at the output of that layer and sent through the run once (integrated
    /// gradients and SmoothGrad do; LeNet-5's run is `conv1`). `None` when the first layer is not such a
    /// layer.
    pub fn linear_prefix(&self) -> Option<usize> {
        self.layers
            .iter()
            .take_while(|l| l.layer.is_linear())
            .count()
            .checked_sub(1)
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
                    return Err(Error::option(
                        "log_prob",
                        "the model has no log_softmax layer to target",
                    ))
                }
            }
        } else {
            self.logits_index()
        };
        Ok((from, self.layers[from].output_shape.iter().product()))
    }

    /// The seed of the class score `target` (of the logits, or of the log-softmax when `log_prob`): a one-hot
    /// signal at the output of the layer [`Network::target_layer`] names, with that layer's index.
    pub fn target_seed(&self, target: usize, log_prob: bool) -> Result<(usize, Tensor)> {
        let (from, n) = self.target_layer(log_prob)?;
        if target >= n {
            return Err(Error::out_of_range(
                "target class",
                target,
                format!("0 to {} (the model has {n} classes)", n - 1),
            ));
        }
        let mut seed = Tensor::zeros(&self.layers[from].output_shape);
        seed.data_mut()[target] = 1.0;
        Ok((from, seed))
    }
}

/// Errors when an input value is not finite or its magnitude exceeds [`MAX_ABS_INPUT`].
fn check_input_values(image: &Tensor) -> Result<()> {
    image.check_finite("the input image")?;
    match image.data().iter().find(|v| v.abs() > MAX_ABS_INPUT) {
        Some(v) => Err(Error::out_of_range(
            "input pixel",
            v,
            format!("|x| ≤ {MAX_ABS_INPUT} (raw pixels are in [0, 1])"),
        )),
        None => Ok(()),
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

/// Small networks and inputs for the model's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::model::manifest::{InputShape, Normalization};
    use crate::rng::Rng;

    /// LeNet-5 on a 2-channel 16×12 input with 4 classes, normalized per channel.
    pub(crate) fn small_lenet(seed: u64) -> Network {
        let labels = (0..4).map(|i| i.to_string()).collect();
        let input = InputShape {
            channels: 2,
            height: 16,
            width: 12,
        };
        let mut m = Manifest::lenet5("small", input, labels).unwrap();
        m.normalization = Some(Normalization {
            mean: vec![0.2, -0.1],
            std: vec![0.5, 2.0],
        });
        Network::init_random(m, seed).unwrap()
    }

    /// LeNet-5 on 1×28×28 inputs with 10 classes (the shape of an IDX data set), random weights.
    pub(crate) fn mnist_lenet(seed: u64) -> Network {
        let labels = (0..10).map(|i| i.to_string()).collect();
        let input = InputShape {
            channels: 1,
            height: 28,
            width: 28,
        };
        Network::init_random(Manifest::lenet5("mnist-like", input, labels).unwrap(), seed).unwrap()
    }

    /// `n` random 28×28 IDX images, a quarter of their pixels ink.
    pub(crate) fn idx_images(rng: &mut Rng, n: usize) -> crate::io::idx::IdxImages {
        let pixels = (0..n * 784)
            .map(|_| {
                let v = rng.uniform();
                if v < 0.75 {
                    0
                } else {
                    ((v - 0.75) * 4.0 * 255.0) as u8
                }
            })
            .collect();
        crate::io::idx::IdxImages {
            count: n,
            height: 28,
            width: 28,
            pixels,
        }
    }

    /// `n` images of uniform random pixels.
    pub(crate) fn images(net: &Network, rng: &mut Rng, n: usize) -> Vec<Tensor> {
        let len = net.input_shape().iter().product();
        (0..n)
            .map(|_| {
                net.image((0..len).map(|_| rng.uniform()).collect())
                    .unwrap()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::small_lenet;
    use super::*;

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
