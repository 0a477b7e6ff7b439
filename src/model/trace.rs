//! What a forward pass computed, tied to the network that ran it, and the backward pass through it.
//!
//! A [`Trace`] borrows its [`Network`] and is only made by the network's forward passes, which record one
//! output per layer (index `i` is the output of layer `i`), the switches of every max-pool and the dropout
//! masks of a training pass. So a trace is never read against another network's layers: the backward pass is
//! a method of the trace, and a layer index valid for the network is valid for the trace.
//!
//! The backward pass has a choice of ReLU rule ([`ReluRule`]) that serves training (true gradient), guided
//! backpropagation and the deconvnet.

use crate::error::{Error, Result};
use crate::layers::pool::Switches;
use crate::layers::relu::ReluRule;
use crate::layers::softmax;
use crate::model::network::{argmax, Gradients, Network};
use crate::tensor::Tensor;
use ndarray::ArrayViewD;

/// Dropout masks: `(layer index, per-unit multiplier)`, ascending by layer, applied to that layer's output.
pub type Masks = Vec<(usize, Vec<f32>)>;

/// Class prediction for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub label: usize,
    /// Pre-softmax class scores.
    pub logits: Vec<f32>,
    pub probs: Vec<f32>,
}

/// Everything a forward pass of `network` computed: the raw and normalized input, each layer's output, the
/// switches of each max-pool layer and the dropout masks applied (none outside training).
#[derive(Debug, Clone)]
pub struct Trace<'n> {
    net: &'n Network,
    input: Tensor,
    normalized: Tensor,
    outputs: Vec<Tensor>,
    switches: Vec<Option<Switches>>,
    masks: Masks,
}

impl<'n> Trace<'n> {
    /// A trace of `net` with its input and nothing else yet; the forward passes push the layers' outputs.
    pub(crate) fn start(net: &'n Network, input: Tensor, normalized: Tensor) -> Trace<'n> {
        let n = net.layers().len();
        Trace {
            net,
            input,
            normalized,
            outputs: Vec::with_capacity(n),
            switches: Vec::with_capacity(n),
            masks: Masks::new(),
        }
    }

    /// The masks to apply to the outputs pushed from now on (checked by the caller).
    pub(crate) fn set_masks(&mut self, masks: Masks) {
        self.masks = masks;
    }

    /// What the next layer reads: the last output, or the normalized input.
    pub(crate) fn next_input(&self) -> &Tensor {
        self.outputs.last().unwrap_or(&self.normalized)
    }

    /// Records the output of the next layer (after applying its dropout mask, if any).
    pub(crate) fn push(&mut self, mut y: Tensor, switches: Option<Switches>) {
        if let Some(mask) = self.mask(self.outputs.len()) {
            apply_mask(y.data_mut(), mask);
        }
        self.outputs.push(y);
        self.switches.push(switches);
    }

    /// How many layers have run (the network's layer count, once a pass is done).
    pub(crate) fn len(&self) -> usize {
        self.outputs.len()
    }

    /// The network that ran this pass.
    pub fn network(&self) -> &'n Network {
        self.net
    }
    /// The raw input pixels `[C, H, W]`.
    pub fn input(&self) -> &Tensor {
        &self.input
    }
    /// The input after the manifest's normalization, what the first layer read.
    pub fn normalized(&self) -> &Tensor {
        &self.normalized
    }
    /// Every layer's output, in layer order.
    pub fn outputs(&self) -> &[Tensor] {
        &self.outputs
    }
    /// Every layer's switches (`Some` for the max-pool layers), in layer order.
    pub fn switches(&self) -> &[Option<Switches>] {
        &self.switches
    }
    /// The dropout masks of a training pass.
    pub fn masks(&self) -> &Masks {
        &self.masks
    }
    /// The dropout mask applied to the output of layer `i`, if any.
    pub fn mask(&self, i: usize) -> Option<&[f32]> {
        self.masks
            .iter()
            .find(|(layer, _)| *layer == i)
            .map(|(_, m)| m.as_slice())
    }

    /// Every layer's output as a zero-copy ndarray view, in layer order ([`Tensor::view`]).
    pub fn output_views(&self) -> Result<Vec<ArrayViewD<'_, f32>>> {
        self.outputs.iter().map(Tensor::view).collect()
    }

    /// The output of layer `i`; an error naming the valid range when the network has no layer `i`.
    pub fn output(&self, i: usize) -> Result<&Tensor> {
        self.outputs.get(i).ok_or_else(|| {
            Error::out_of_range(
                "layer index",
                i,
                format!("0 to {}", self.outputs.len().saturating_sub(1)),
            )
        })
    }

    /// What layer `i` received.
    pub fn layer_input(&self, i: usize) -> &Tensor {
        match i.checked_sub(1).and_then(|j| self.outputs.get(j)) {
            Some(t) => t,
            None => &self.normalized,
        }
    }

    /// The class scores (the output of [`Network::logits_index`]).
    pub fn logits(&self) -> &Tensor {
        // In range: a trace leaves its forward pass with one output per layer of its network.
        &self.outputs[self.net.logits_index()]
    }

    /// The prediction this pass makes.
    pub fn prediction(&self) -> Prediction {
        let logits = self.logits();
        Prediction {
            label: argmax(logits.data()),
            logits: logits.data().to_vec(),
            probs: softmax::softmax(logits).into_data(),
        }
    }

    /// Sends `grad` (shaped like the output of layer `from`) back down the network.
    ///
    /// `rule` says how ReLUs pass the signal ([`ReluRule::Gradient`] for true gradients). With `until =
    /// Some(j)` it stops and returns the signal at the output of layer `j < from`; with `None` it continues
    /// through the normalization and returns the signal with respect to the raw input pixels. When `grads` is
    /// given, the parameter gradients of the layers passed through are accumulated into it. Dropout masks
    /// of the pass multiply the signal where they multiplied the outputs.
    pub fn backward(
        &self,
        from: usize,
        grad: Tensor,
        rule: ReluRule,
        until: Option<usize>,
        mut grads: Option<&mut Gradients>,
    ) -> Result<Tensor> {
        let stop = check_backward(self.net, from, std::slice::from_ref(&grad), until)?;
        let mut g = grad;
        for i in (stop..=from).rev() {
            if let Some(mask) = self.mask(i) {
                apply_mask(g.data_mut(), mask);
            }
            let layer = &self.net.layers()[i].layer;
            let x = self.layer_input(i);
            if let Some((dw, db)) = grads
                .as_deref_mut()
                .and_then(|gr| gr.layers.get_mut(i))
                .and_then(|o| o.as_mut())
            {
                layer.accumulate_param_grads(x, &g, dw, db)?;
            }
            g = layer.backward(x, self.switches[i].as_ref(), g, rule)?;
        }
        if until.is_none() {
            self.net.denormalize(&mut g);
        }
        Ok(g)
    }

    /// Gradient of the class score `logits[target]` (or of `log_softmax[target]` when `log_prob`) with respect
    /// to the raw input, with the given ReLU rule.
    pub fn target_backward(&self, target: usize, log_prob: bool, rule: ReluRule) -> Result<Tensor> {
        let (from, seed) = self.net.target_seed(target, log_prob)?;
        self.backward(from, seed, rule, None, None)
    }
}

/// `values[i] *= mask[i]`.
pub(crate) fn apply_mask(values: &mut [f32], mask: &[f32]) {
    for (v, m) in values.iter_mut().zip(mask) {
        *v *= m;
    }
}

/// Checks the arguments of a backward pass through `net` from layer `from`; returns the first layer it goes
/// through (the last one run).
pub(crate) fn check_backward(
    net: &Network,
    from: usize,
    grads: &[Tensor],
    until: Option<usize>,
) -> Result<usize> {
    let layers = net.layers();
    let layer = layers.get(from).ok_or_else(|| {
        Error::out_of_range("layer index", from, format!("0 to {}", layers.len() - 1))
    })?;
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
    match until {
        Some(j) if j > from => Err(Error::out_of_range(
            "layer to stop at",
            j,
            format!("0 to {from} (the backward pass starts at layer {from})"),
        )),
        _ => Ok(until.map_or(0, |j| j + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::testing::{images, small_lenet};
    use crate::rng::Rng;

    #[test]
    fn views_show_the_outputs_and_batches_refuse_another_networks_traces() {
        let net = small_lenet(1);
        let image = images(&net, &mut Rng::new(2), 1).remove(0);
        let trace = net.forward(&image).unwrap();
        let views = trace.output_views().unwrap();
        assert_eq!(views.len(), net.layers().len());
        for (view, (output, layer)) in views.iter().zip(trace.outputs().iter().zip(net.layers())) {
            assert_eq!(view.shape(), layer.output_shape.as_slice());
            assert_eq!(view.iter().copied().collect::<Vec<f32>>(), output.data());
        }
        assert!(trace.output(net.layers().len()).is_err());
        // A clone has the same layers but is another network: its traces do not mix with this one's.
        let twin = net.clone();
        let other = twin.forward(&image).unwrap();
        let seed = |t: &Trace| Tensor::zeros(t.logits().shape());
        let from = net.logits_index();
        let signals = vec![seed(&trace), seed(&other)];
        let err = net
            .backward_batch(&[&trace, &other], from, signals, ReluRule::Gradient, None)
            .unwrap_err();
        assert!(matches!(err, Error::Internal { .. }), "{err}");
    }
}
