//! The closed set of layers a network is made of, and the one place that dispatches on it: output shape,
//! parameters, forward step, backward step (one signal, a batch, or interleaved lanes) and parameter
//! gradients. The manifest's `layers` entries deserialize into [`Layer`] (without weights; the weights file
//! fills them in), so the architecture and the network share one type.
//!
//! Shapes: conv and pool layers take CHW maps, flatten turns any shape into `[n]`, linear and log-softmax
//! take vectors. A layer's backward step takes the input the forward step received (`x`), its switches (for
//! a max-pool) and a signal shaped like its output, and returns a signal shaped like `x`.

use super::conv2d::{self, Conv2dParams};
use super::linear::{self, LinearParams};
use super::pool::{self, PoolParams, Switches};
use super::relu::{self, ReluRule};
use super::softmax;
use crate::error::{Error, Result};
use crate::tensor::{checked_product, Lanes, Tensor, MAX_VALUES};
use serde::{Deserialize, Serialize};

/// A layer with its parameters (empty until a network is built from a manifest and weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Layer {
    Conv2d {
        #[serde(flatten)]
        params: Conv2dParams,
        /// `[O, C, K, K]`, flat.
        #[serde(skip)]
        weight: Vec<f32>,
        /// `[O]`.
        #[serde(skip)]
        bias: Vec<f32>,
    },
    Relu,
    MaxPool2d(PoolParams),
    Flatten,
    Linear {
        #[serde(flatten)]
        params: LinearParams,
        /// `[out, in]`, flat.
        #[serde(skip)]
        weight: Vec<f32>,
        /// `[out]`.
        #[serde(skip)]
        bias: Vec<f32>,
    },
    LogSoftmax,
}

/// The weight shape, bias length and fan-in of a layer with parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamShapes {
    pub weight: Vec<usize>,
    pub bias: usize,
    pub fan_in: usize,
}

/// `(C, H, W)` of a layer input that must be a feature map.
fn chw(what: &str, input: &[usize]) -> Result<(usize, usize, usize)> {
    match *input {
        [c, h, w] => Ok((c, h, w)),
        _ => Err(Error::manifest(format!(
            "{what} needs a C×H×W input, but gets shape {input:?}"
        ))),
    }
}

impl Layer {
    /// A convolution without weights yet.
    pub fn conv2d(params: Conv2dParams) -> Layer {
        Layer::Conv2d {
            params,
            weight: Vec::new(),
            bias: Vec::new(),
        }
    }

    /// A fully connected layer without weights yet.
    pub fn linear(params: LinearParams) -> Layer {
        Layer::Linear {
            params,
            weight: Vec::new(),
            bias: Vec::new(),
        }
    }

    /// The manifest's `type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            Layer::Conv2d { .. } => "conv2d",
            Layer::Relu => "relu",
            Layer::MaxPool2d(_) => "max_pool2d",
            Layer::Flatten => "flatten",
            Layer::Linear { .. } => "linear",
            Layer::LogSoftmax => "log_softmax",
        }
    }

    /// The output shape for an input of shape `input`; an error when the layer cannot take that input or a
    /// buffer it needs would exceed [`MAX_VALUES`] (sizes computed with checked arithmetic).
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(match self {
            Layer::Conv2d { params, .. } => {
                let (c, h, w) = chw("conv2d", input)?;
                if c != params.in_channels {
                    return Err(Error::manifest(format!(
                        "conv2d expects {} input channels but the previous layer gives {c}",
                        params.in_channels
                    )));
                }
                let (oh, ow) = params.check_size(h, w)?;
                vec![params.out_channels, oh, ow]
            }
            Layer::MaxPool2d(p) => {
                let (c, h, w) = chw("max_pool2d", input)?;
                let (oh, ow) = p.out_dims(h, w)?;
                vec![c, oh, ow]
            }
            Layer::Relu => input.to_vec(),
            Layer::Flatten => vec![checked_product(input)
                .filter(|&n| n <= MAX_VALUES)
                .ok_or_else(|| Error::manifest(format!("flatten input {input:?} is too large")))?],
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

    /// Weight shape, bias length and fan-in, for layers with parameters; an error when the weight count
    /// exceeds [`MAX_VALUES`].
    pub fn param_shapes(&self) -> Result<Option<ParamShapes>> {
        let (weight, bias, fan_in) = match self {
            Layer::Conv2d { params, .. } => {
                let s = params.weight_shape();
                (s.to_vec(), params.out_channels, checked_product(&s[1..]))
            }
            Layer::Linear { params, .. } => (
                params.weight_shape().to_vec(),
                params.out_features,
                Some(params.in_features),
            ),
            _ => return Ok(None),
        };
        match (checked_product(&weight), fan_in) {
            (Some(n), Some(fan_in)) if n <= MAX_VALUES => Ok(Some(ParamShapes {
                weight,
                bias,
                fan_in,
            })),
            _ => Err(Error::manifest(format!(
                "a {} weight of shape {weight:?} is too large (at most {MAX_VALUES} values)",
                self.type_name()
            ))),
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

    /// Mutable weight and bias, for layers that have them.
    pub fn params_mut(&mut self) -> Option<(&mut Vec<f32>, &mut Vec<f32>)> {
        match self {
            Layer::Conv2d { weight, bias, .. } | Layer::Linear { weight, bias, .. } => {
                Some((weight, bias))
            }
            _ => None,
        }
    }

    /// Whether the backward step is linear in the signal and the same for every input (conv2d, linear,
    /// flatten), so that signals may be summed before it.
    pub fn is_linear(&self) -> bool {
        matches!(
            self,
            Layer::Conv2d { .. } | Layer::Linear { .. } | Layer::Flatten
        )
    }

    /// Whether signals cross it interleaved ([`Layer::backward_lanes`]): conv2d, ReLU and max-pool.
    pub fn takes_lanes(&self) -> bool {
        matches!(
            self,
            Layer::Conv2d { .. } | Layer::Relu | Layer::MaxPool2d(_)
        )
    }

    /// The forward step on input `x`, with the switches of a max-pool.
    pub fn forward(&self, x: &Tensor) -> Result<(Tensor, Option<Switches>)> {
        Ok(match self {
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
            Layer::Flatten => (x.clone().reshaped(&[x.len()])?, None),
            Layer::Linear {
                params,
                weight,
                bias,
            } => (linear::forward(params, x, weight, bias)?, None),
            Layer::LogSoftmax => (softmax::log_softmax(x), None),
        })
    }

    /// The forward step by the plain definitions ([`conv2d::reference`], [`pool::reference`],
    /// [`linear::reference`]; ReLU, flatten and log-softmax are their own definitions): what
    /// [`Layer::forward`] computes, slowly. The property test holds whole networks to it.
    pub fn forward_reference(&self, x: &Tensor) -> Result<(Tensor, Option<Switches>)> {
        match self {
            Layer::Conv2d {
                params,
                weight,
                bias,
            } => Ok((conv2d::reference::forward(params, x, weight, bias)?, None)),
            Layer::MaxPool2d(p) => {
                let (y, sw) = pool::reference(p, x)?;
                Ok((y, Some(sw)))
            }
            Layer::Linear {
                params,
                weight,
                bias,
            } => Ok((linear::reference(params, x, weight, bias)?, None)),
            Layer::Relu | Layer::Flatten | Layer::LogSoftmax => self.forward(x),
        }
    }

    /// The forward step of several inputs: linear layers as one product for the batch
    /// ([`linear::forward_batch`], equal to the single steps to the bit), the others input by input.
    pub fn forward_batch(&self, xs: &[&Tensor]) -> Result<Vec<(Tensor, Option<Switches>)>> {
        match self {
            Layer::Linear {
                params,
                weight,
                bias,
            } => Ok(linear::forward_batch(params, xs, weight, bias)?
                .into_iter()
                .map(|y| (y, None))
                .collect()),
            _ => xs.iter().map(|x| self.forward(x)).collect(),
        }
    }

    /// The forward step without the bias, for the [`Layer::is_linear`] layers: the linear part of the affine
    /// map.
    pub fn forward_without_bias(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Layer::Conv2d { params, weight, .. } => {
                conv2d::forward(params, x, weight, &vec![0.0; params.out_channels])
            }
            Layer::Linear { params, weight, .. } => {
                linear::forward(params, x, weight, &vec![0.0; params.out_features])
            }
            Layer::Flatten => x.clone().reshaped(&[x.len()]),
            _ => Err(Error::internal(format!(
                "forward_without_bias on a {} layer, which is not linear",
                self.type_name()
            ))),
        }
    }

    /// Sends `g` (shaped like the output) back to the input `x` the forward step received, with the ReLU
    /// rule `rule` and the max-pool's `switches`.
    pub fn backward(
        &self,
        x: &Tensor,
        switches: Option<&Switches>,
        g: Tensor,
        rule: ReluRule,
    ) -> Result<Tensor> {
        Ok(match self {
            Layer::Conv2d { params, weight, .. } => {
                let (_, h, w) = x.chw()?;
                conv2d::transpose(params, &g, weight, h, w)?
            }
            Layer::Relu => {
                let mut g = g;
                relu::backward_in_place(rule, x, &mut g)?;
                g
            }
            Layer::MaxPool2d(_) => pool::unpool(&g, need_switches(switches)?)?,
            Layer::Flatten => g.reshaped(x.shape())?,
            Layer::Linear { params, weight, .. } => linear::backward_input(params, &g, weight)?,
            Layer::LogSoftmax => softmax::backward(x, &g)?,
        })
    }

    /// [`Layer::backward`] for several signals, signal `b` through the pass that received `inputs[b]`: a
    /// linear layer as one product for the batch ([`linear::backward_input_batch`]), the others signal by
    /// signal.
    pub fn backward_batch(
        &self,
        inputs: &[(&Tensor, Option<&Switches>)],
        gs: Vec<Tensor>,
        rule: ReluRule,
    ) -> Result<Vec<Tensor>> {
        match self {
            Layer::Linear { params, weight, .. } => {
                linear::backward_input_batch(params, &gs.iter().collect::<Vec<_>>(), weight)
            }
            _ => gs
                .into_iter()
                .zip(inputs)
                .map(|(g, &(x, switches))| self.backward(x, switches, g, rule))
                .collect(),
        }
    }

    /// [`Layer::backward`] for interleaved signals, for the [`Layer::takes_lanes`] layers.
    pub fn backward_lanes(
        &self,
        x: &Tensor,
        switches: Option<&Switches>,
        g: Lanes,
        rule: ReluRule,
    ) -> Result<Lanes> {
        match self {
            Layer::Conv2d { params, weight, .. } => {
                let (_, h, w) = x.chw()?;
                conv2d::transpose_lanes(params, g, weight, h, w)
            }
            Layer::Relu => relu::backward_lanes(rule, x, g),
            Layer::MaxPool2d(_) => pool::unpool_lanes(g, need_switches(switches)?),
            _ => Err(Error::internal(format!(
                "backward_lanes on a {} layer, which takes no interleaved signals",
                self.type_name()
            ))),
        }
    }

    /// Accumulates the parameter gradients of the input `x` and output signal `g` into `dw`, `db` (nothing
    /// for layers without parameters).
    pub fn accumulate_param_grads(
        &self,
        x: &Tensor,
        g: &Tensor,
        dw: &mut [f32],
        db: &mut [f32],
    ) -> Result<()> {
        match self {
            Layer::Conv2d { params, .. } => conv2d::accumulate_param_grads(params, x, g, dw, db),
            Layer::Linear { params, .. } => linear::accumulate_param_grads(params, x, g, dw, db),
            _ => Ok(()),
        }
    }
}

/// The switches a max-pool's backward step needs.
fn need_switches(switches: Option<&Switches>) -> Result<&Switches> {
    switches.ok_or_else(|| Error::internal("a max-pool's backward step got no switches"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_entries_deserialize_into_layers_without_weights() {
        let conv: Layer = serde_json::from_str(
            r#"{"type": "conv2d", "in_channels": 1, "out_channels": 6, "kernel_size": 5, "padding": 2}"#,
        )
        .unwrap();
        assert_eq!(conv.output_shape(&[1, 28, 28]).unwrap(), vec![6, 28, 28]);
        assert_eq!(conv.params(), Some((&[][..], &[][..])));
        let shapes = conv.param_shapes().unwrap().unwrap();
        assert_eq!(
            (shapes.weight, shapes.bias, shapes.fan_in),
            (vec![6, 1, 5, 5], 6, 25)
        );
        let json = serde_json::to_string(&conv).unwrap();
        assert_eq!(
            json,
            r#"{"type":"conv2d","in_channels":1,"out_channels":6,"kernel_size":5,"stride":1,"padding":2}"#
        );
        let pool: Layer =
            serde_json::from_str(r#"{"type": "max_pool2d", "kernel_size": 2}"#).unwrap();
        assert_eq!(pool.output_shape(&[6, 28, 28]).unwrap(), vec![6, 14, 14]);
        assert_eq!(Layer::Flatten.output_shape(&[16, 5, 5]).unwrap(), vec![400]);
        assert!(Layer::Flatten
            .output_shape(&[1 << 20, 1 << 20, 1 << 20])
            .is_err());
        let huge = Layer::linear(LinearParams {
            in_features: 1 << 20,
            out_features: 1 << 20,
        });
        assert!(huge.param_shapes().is_err());
        assert!(Layer::Relu.param_shapes().unwrap().is_none());
    }
}
