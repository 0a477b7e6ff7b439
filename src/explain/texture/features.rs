//! The two feature spaces of texture synthesis and style transfer, behind one interface: the loaded model's
//! conv prefix (grayscale, any size the layers accept; `crate::model::prefix`) at chosen layers, or the
//! random multi-scale network ([`RandomNet`], RGB) whose one layer is its 128 maps after the ReLU.
//! Shapes: image `[C, H, W]` raw pixels (C = the model's input channels, or 3); one feature map per chosen
//! layer, `[C_l, H_l, W_l]`.

use super::coarse::RandomLayer;
use super::random_net::{RandomNet, RandomTrace, CHANNELS};
use crate::error::{Error, Result};
use crate::model::network::Network;
use crate::model::prefix::PrefixTrace;
use crate::tensor::Tensor;

/// A feature space: which network, and at which layers.
#[derive(Debug, Clone)]
pub enum FeatureNet<'n> {
    /// Layers of the model's conv prefix, by index (a layer may be listed twice: style and content).
    Model {
        net: &'n Network,
        layers: Vec<usize>,
    },
    /// Layers of the random network (a layer may be listed twice).
    Random {
        net: &'n RandomNet,
        layers: Vec<RandomLayer>,
    },
}

/// A forward pass, kept for the backward pass.
#[derive(Debug, Clone)]
pub struct Features<'n> {
    /// One map per listed layer.
    pub maps: Vec<Tensor>,
    trace: Pass<'n>,
}

#[derive(Debug, Clone)]
enum Pass<'n> {
    Model(PrefixTrace<'n>),
    Random(RandomTrace),
}

impl<'n> FeatureNet<'n> {
    /// The model at the named layers, all in its conv prefix.
    pub fn model(net: &'n Network, names: &[String]) -> Result<FeatureNet<'n>> {
        if names.is_empty() {
            return Err(Error::option("layers", "at least one layer is needed"));
        }
        let prefix = net.conv_prefix();
        let layers = names
            .iter()
            .map(|name| {
                let l = net.layer_index(name)?;
                if l >= prefix {
                    return Err(Error::option(
                        "layers",
                        format!(
                            "{name} is not in the conv prefix (the layers before the first flatten or linear layer)"
                        ),
                    ));
                }
                Ok(l)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(FeatureNet::Model { net, layers })
    }

    /// The random network at the named layers (`super::coarse::RANDOM_LAYERS`).
    pub fn random(net: &'n RandomNet, names: &[String]) -> Result<FeatureNet<'n>> {
        if names.is_empty() {
            return Err(Error::option("layers", "at least one layer is needed"));
        }
        let layers = names
            .iter()
            .map(|name| RandomLayer::named(name))
            .collect::<Result<Vec<_>>>()?;
        Ok(FeatureNet::Random { net, layers })
    }

    /// The image channels the network takes.
    pub fn channels(&self) -> usize {
        match self {
            FeatureNet::Model { net, .. } => net.input_shape()[0],
            FeatureNet::Random { .. } => CHANNELS,
        }
    }

    /// The features of `image` at every listed layer.
    pub fn forward(&self, image: &Tensor) -> Result<Features<'n>> {
        match self {
            FeatureNet::Model { net, layers } => {
                let last = layers.iter().copied().max().unwrap_or(0);
                let trace = net.forward_prefix(image, last)?;
                let maps = layers.iter().map(|&l| trace.outputs()[l].clone()).collect();
                Ok(Features {
                    maps,
                    trace: Pass::Model(trace),
                })
            }
            FeatureNet::Random { net, layers } => {
                let trace = net.forward(image)?;
                let maps = layers
                    .iter()
                    .map(|l| l.read(&trace.features))
                    .collect::<Result<_>>()?;
                Ok(Features {
                    maps,
                    trace: Pass::Random(trace),
                })
            }
        }
    }

    /// The gradient at the image's pixels of a loss whose gradients at the listed layers' maps are
    /// `signals` (one per map, `None` where the loss does not read it).
    pub fn backward(&self, features: &Features, signals: Vec<Option<Tensor>>) -> Result<Tensor> {
        let mut total = None;
        match (self, &features.trace) {
            (FeatureNet::Model { layers, .. }, Pass::Model(trace)) => {
                for (&l, signal) in layers.iter().zip(signals) {
                    if let Some(s) = signal {
                        accumulate(&mut total, trace.backward(l, s)?);
                    }
                }
            }
            (FeatureNet::Random { net, layers }, Pass::Random(trace)) => {
                // Every layer reads the one set of maps: sum the signals there, then one backward pass.
                let mut sum = None;
                for (layer, signal) in layers.iter().zip(signals) {
                    if let Some(s) = signal {
                        let at_maps =
                            sum.get_or_insert_with(|| Tensor::zeros(trace.features.shape()));
                        layer.backward(&s, at_maps)?;
                    }
                }
                if let Some(s) = sum {
                    total = Some(net.backward(trace, &s)?);
                }
            }
            _ => return Err(Error::internal("features of another network")),
        }
        total.ok_or_else(|| Error::internal("a backward pass without signals"))
    }
}

/// `total += g` (`total = g` at first).
fn accumulate(total: &mut Option<Tensor>, g: Tensor) {
    match total {
        Some(t) => crate::tensor::axpy(1.0, g.data(), t.data_mut()),
        None => *total = Some(g),
    }
}
