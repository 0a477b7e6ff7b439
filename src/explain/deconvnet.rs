//! The deconvnet of Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks" (ECCV 2014,
//! arXiv:1311.2901): maps one channel of a conv layer's activations back to input pixel space.
//!
//! **Activations.** The activations of a conv layer `L` are the output `P: [K, H', W']` of its *block*, the
//! ReLU and max-pool layers that follow `L` up to the next layer of another kind: the block's first max-pool
//! (LeNet-5: `pool1` for `conv1`, `pool2` for `conv2`), else its last layer (the ReLU), else `L` itself.
//!
//! **Seed.** For channel `k`, the seed `S` (shaped like `P`) keeps `P[k]` and zeroes every other channel
//! ([`Unit::All`]), or keeps only the strongest unit of `P[k]` ([`Unit::Max`], first maximum in row-major
//! order), or only the unit `(y, x)` of the pooled map ([`Unit::At`]). Its *strength* is `max P[k]`.
//!
//! **Down to the pixels.** The seed then passes every layer below the block's output in reverse, and nothing
//! is zeroed on the way: a max-pool is undone by unpooling with the switches its forward pass recorded, a
//! ReLU by rectifying the signal (`max(g, 0)`, whatever the forward input was), a convolution by its transpose
//! (kernels flipped, channels swapped, no bias), and the input normalization by dividing by its std. This is
//! [`Network::backward`] with [`ReluRule::Deconvnet`]; with [`ReluRule::Gradient`] instead, the same pass is
//! the gradient `∂⟨P, S⟩/∂x` with `S` held fixed, the identity the tests check ([`Seed::propagate`] takes
//! the rule for that reason). The reconstruction is signed and has the input's shape `[C, H, W]`.
//!
//! One forward [`Trace`] serves every reconstruction of an image. [`deconv_all`] sends the seeds of all the
//! channels of a layer down together ([`propagate_all`]), skipping the zeros that make up most of the
//! deconvnet's signals: LeNet-5's 22 reconstructions take about 0.65 ms natively and 0.8 ms in WebAssembly
//! (Node 20, SIMD), four to five forward passes.

use crate::catalogue::options::{Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::{Layer, NamedLayer, Network, Trace};
use crate::tensor::Tensor;
use std::fmt;
use std::str::FromStr;

/// The paper of the deconvnet (and of occlusion sensitivity).
pub const ZEILER_FERGUS: Paper = Paper {
    title: "Visualizing and Understanding Convolutional Networks",
    authors: "Zeiler & Fergus",
    year: 2013,
    url: "https://arxiv.org/abs/1311.2901",
};

/// The layer whose output are the activations: a block's pooled layer (`pool2`), or its conv layer's name
/// (`conv2`), which means the same (the names of [`ConvBlock::find`]).
pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help:
        "the activations to project: a conv block's output (pool1, pool2) or its conv layer's name",
    kind: Kind::Layer {
        types: &["max_pool2d", "relu", "conv2d"],
    },
    common: false,
    required: true,
};

/// The channel `k` of the activations.
pub const CHANNEL: OptionSpec = OptionSpec {
    key: "channel",
    flag: "channel",
    label: "Channel",
    help: "channel of the layer, from 0",
    kind: Kind::Int {
        min: 0,
        max: None,
        default: None,
    },
    common: false,
    required: true,
};

/// Which units of the channel seed the reconstruction ([`Unit`]).
pub const UNIT: OptionSpec = OptionSpec {
    key: "unit",
    flag: "unit",
    label: "Project",
    help: "all = the whole channel, max = its strongest unit, y,x = the unit at row y, column x",
    kind: Kind::Unit { default: "all" },
    common: false,
    required: false,
};

pub const TECHNIQUE: Technique = Technique {
    id: "deconv",
    label: "Deconvnet reconstruction",
    family: Family::Deconvnet,
    command: "deconv",
    output: OutputKind::SignedMap,
    long_running: false,
    stateful: None,
    summary: "The pattern of input pixels that made one channel of a conv layer fire.",
    explanation: "One channel of a conv block's pooled activations (or one unit of it) is sent back down to \
                  the pixels: max-pools are undone with the switches of the forward pass, ReLUs rectify the \
                  signal and convolutions run transposed.",
    paper: Some(ZEILER_FERGUS),
    options: &[LAYER, CHANNEL, UNIT],
};

pub const TECHNIQUE_ALL: Technique = Technique {
    id: "deconv-all",
    label: "Deconvnet, every channel",
    family: Family::Deconvnet,
    command: "deconv --all",
    output: OutputKind::Volume,
    long_running: false,
    stateful: None,
    summary:
        "Every channel of every conv layer projected back to the pixels, from one forward pass.",
    explanation:
        "The whole-channel deconvnet reconstruction of each channel of each conv block (22 for \
                  LeNet-5), the channels of a layer sent down together.",
    paper: Some(ZEILER_FERGUS),
    options: &[],
};

/// Which units of the chosen channel seed the reconstruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// The whole channel `P[k]`.
    #[default]
    All,
    /// Only the strongest unit of `P[k]` (the first maximum in row-major order).
    Max,
    /// Only the unit at row `y`, column `x` of the pooled map `P[k]`.
    At { y: usize, x: usize },
}

impl FromStr for Unit {
    type Err = Error;

    /// Parses `"all"`, `"max"` or `"y,x"` (for instance `"3,4"`), as the CLI and the page spell them.
    fn from_str(text: &str) -> Result<Unit> {
        match text.trim() {
            "all" => Ok(Unit::All),
            "max" => Ok(Unit::Max),
            other => {
                let coordinate =
                    |part: Option<&str>| part.and_then(|p| p.trim().parse::<usize>().ok());
                let mut parts = other.split(',');
                match (coordinate(parts.next()), coordinate(parts.next()), parts.next()) {
                    (Some(y), Some(x), None) => Ok(Unit::At { y, x }),
                    _ => Err(Error::option(
                        UNIT.key,
                        format!(
                            "{text:?} is not \"all\", \"max\" or \"y,x\" (row, column of the pooled map)"
                        ),
                    )),
                }
            }
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unit::All => write!(f, "all"),
            Unit::Max => write!(f, "max"),
            Unit::At { y, x } => write!(f, "{y},{x}"),
        }
    }
}

/// A conv layer and the layer whose output are its activations (see the module header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvBlock {
    /// The conv layer's manifest name.
    pub name: String,
    /// Index of the conv layer in [`Network::layers`].
    pub conv: usize,
    /// Index of the layer whose output `P` are the activations (the block's max-pool for LeNet-5).
    pub activations: usize,
    /// Number of channels `K` of the conv layer and of `P`.
    pub channels: usize,
}

impl ConvBlock {
    /// The block named `layer`: the name of its activations layer (`pool2`) or of its conv layer (`conv2`,
    /// the deconvnet's traditional name for the same activations).
    pub fn find(net: &Network, layer: &str) -> Result<ConvBlock> {
        let blocks = conv_blocks(net);
        let layers = net.layers();
        let output_name = |b: &ConvBlock| layers.get(b.activations).map_or("", |l| l.name.as_str());
        blocks
            .iter()
            .find(|b| b.name == layer || output_name(b) == layer)
            .cloned()
            .ok_or_else(|| {
                let convs: Vec<&str> = blocks.iter().map(|b| b.name.as_str()).collect();
                let outputs: Vec<&str> = blocks.iter().map(output_name).collect();
                Error::option(
                    LAYER.key,
                    format!(
                        "the deconvnet needs a conv layer ({convs:?}) or its block's output \
                         ({outputs:?}), got {layer:?}"
                    ),
                )
            })
    }
}

/// Every conv layer of the network with its activations, in layer order.
pub fn conv_blocks(net: &Network) -> Vec<ConvBlock> {
    let layers = net.layers();
    layers
        .iter()
        .enumerate()
        .filter_map(|(conv, l)| match &l.layer {
            Layer::Conv2d { params, .. } => Some(ConvBlock {
                name: l.name.clone(),
                conv,
                activations: activations_of(layers, conv),
                channels: params.out_channels,
            }),
            _ => None,
        })
        .collect()
}

/// The block of `layers[conv]` is the run of ReLU and max-pool layers right after it; its activations are
/// the output of the block's first max-pool, else of its last layer, else of the conv itself.
fn activations_of(layers: &[NamedLayer], conv: usize) -> usize {
    let block: Vec<(usize, &NamedLayer)> = layers
        .iter()
        .enumerate()
        .skip(conv + 1)
        .take_while(|(_, l)| matches!(l.layer, Layer::Relu | Layer::MaxPool2d(_)))
        .collect();
    block
        .iter()
        .find(|(_, l)| matches!(l.layer, Layer::MaxPool2d(_)))
        .or(block.last())
        .map_or(conv, |(i, _)| *i)
}

/// A deconvnet seed: the activations `P` of one conv layer with everything but the chosen units zeroed.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    /// The conv layer's name.
    pub layer: String,
    pub channel: usize,
    /// Index of the layer whose output `P` the seed is shaped like.
    pub activations: usize,
    /// `S: [K, H', W']`, zero outside the chosen units of channel `channel`.
    pub signal: Tensor,
    /// `max P[channel]`.
    pub strength: f32,
    /// The seeded unit `(y, x)` of the pooled map, for [`Unit::Max`] and [`Unit::At`].
    pub position: Option<(usize, usize)>,
}

impl Seed {
    /// The seed for `channel` of conv layer `layer`, from a forward trace of `net`.
    pub fn new(
        net: &Network,
        trace: &Trace,
        layer: &str,
        channel: usize,
        unit: Unit,
    ) -> Result<Seed> {
        Seed::for_block(trace, &ConvBlock::find(net, layer)?, channel, unit)
    }

    fn for_block(trace: &Trace, block: &ConvBlock, channel: usize, unit: Unit) -> Result<Seed> {
        if channel >= block.channels {
            return Err(Error::option(
                CHANNEL.key,
                format!(
                    "channel {channel} out of range: {} has {} channels (0 to {})",
                    block.name,
                    block.channels,
                    block.channels.saturating_sub(1)
                ),
            ));
        }
        let pooled = trace.output(block.activations)?;
        let (_, h, w) = pooled.chw()?;
        let plane = pooled.channel(channel)?;
        let strength = plane.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let position = match unit {
            Unit::All => None,
            Unit::Max => {
                let first_max = plane.iter().position(|&v| v == strength).unwrap_or(0);
                Some((first_max / w, first_max % w))
            }
            Unit::At { y, x } if y < h && x < w => Some((y, x)),
            Unit::At { y, x } => {
                return Err(Error::option(
                    UNIT.key,
                    format!(
                        "unit ({y}, {x}) is outside the {h}×{w} activation map of {} (rows and columns \
                         count from 0)",
                        block.name
                    ),
                ))
            }
        };
        let mut signal = Tensor::zeros(pooled.shape());
        let target = &mut signal.data_mut()[channel * h * w..(channel + 1) * h * w];
        match position {
            None => target.copy_from_slice(plane),
            Some((y, x)) => target[y * w + x] = plane[y * w + x],
        }
        Ok(Seed {
            layer: block.name.clone(),
            channel,
            activations: block.activations,
            signal,
            strength,
            position,
        })
    }

    /// Sends the seed down to the input pixels with the given ReLU rule ([`ReluRule::Deconvnet`] for the
    /// deconvnet, [`ReluRule::Gradient`] for `∂⟨P, S⟩/∂x`): [`Network::backward`] from the activations
    /// layer.
    pub fn propagate(self, net: &Network, trace: &Trace, rule: ReluRule) -> Result<Reconstruction> {
        propagate_all(net, trace, vec![self], rule)?
            .pop()
            .ok_or_else(|| Error::internal("no reconstruction"))
    }
}

/// Sends several seeds of the same conv layer down to the pixels at once, as [`Seed::propagate`] does one:
/// [`Network::backward_batch`] with the one forward pass shared by every seed, so the seeds travel
/// interleaved ([`crate::tensor::Lanes`]). The deconvnet's signals are mostly zeros (a seed has one
/// non-zero channel; an unpooled map is zero off its switches): the lanes keep only the positions where
/// some seed is non-zero, and the transposed convolutions scatter each of them once for all the seeds.
pub fn propagate_all(
    net: &Network,
    trace: &Trace,
    seeds: Vec<Seed>,
    rule: ReluRule,
) -> Result<Vec<Reconstruction>> {
    let Some(first) = seeds.first() else {
        return Ok(Vec::new());
    };
    let from = first.activations;
    if seeds.iter().any(|s| s.activations != from) {
        return Err(Error::internal(
            "seeds propagated together must come from the same layer",
        ));
    }
    let layers = net.layers();
    if from >= layers.len() {
        return Err(Error::out_of_range(
            "seed layer index",
            from,
            format!("0 to {}", layers.len() - 1),
        ));
    }
    if let Some(l) = layers[..=from].iter().find(|l| {
        !matches!(
            l.layer,
            Layer::Conv2d { .. } | Layer::Relu | Layer::MaxPool2d(_)
        )
    }) {
        return Err(Error::option(
            LAYER.key,
            format!(
                "the deconvnet passes conv, ReLU and max-pool layers only, not {:?}",
                l.name
            ),
        ));
    }
    let mut signals = Vec::with_capacity(seeds.len());
    let mut reconstructions = Vec::with_capacity(seeds.len());
    for seed in seeds {
        signals.push(seed.signal);
        reconstructions.push(Reconstruction {
            layer: seed.layer,
            channel: seed.channel,
            strength: seed.strength,
            position: seed.position,
            map: Tensor::zeros(&[0]),
        });
    }
    let traces = vec![trace; signals.len()];
    let maps = net.backward_batch(&traces, from, signals, rule, None)?;
    for (reconstruction, map) in reconstructions.iter_mut().zip(maps) {
        reconstruction.map = map;
    }
    Ok(reconstructions)
}

/// One channel's activations projected down to pixel space.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconstruction {
    /// The conv layer's name.
    pub layer: String,
    pub channel: usize,
    /// `max P[channel]`: how strongly the channel responded to the image.
    pub strength: f32,
    /// The seeded unit `(y, x)` of the pooled map, for [`Unit::Max`] and [`Unit::At`].
    pub position: Option<(usize, usize)>,
    /// The signed reconstruction, shaped like the input `[C, H, W]`, before any display scaling.
    pub map: Tensor,
}

impl Reconstruction {
    /// The shape to show: `[H, W]` for a one-channel input (MNIST), `[C, H, W]` otherwise.
    pub fn shape(&self) -> Vec<usize> {
        match self.map.shape() {
            [1, h, w] => vec![*h, *w],
            other => other.to_vec(),
        }
    }

    /// The reconstruction's values, row-major.
    pub fn data(&self) -> &[f32] {
        self.map.data()
    }
}

/// The deconvnet reconstruction of `channel` of conv layer `layer` (for instance `"conv2"`), from a forward
/// trace of `net`. Errors when `layer` is not a conv layer, or `channel` or `unit` is out of range.
pub fn deconv(
    net: &Network,
    trace: &Trace,
    layer: &str,
    channel: usize,
    unit: Unit,
) -> Result<Reconstruction> {
    Seed::new(net, trace, layer, channel, unit)?.propagate(net, trace, ReluRule::Deconvnet)
}

/// The reconstructions of every channel of every conv layer (whole channels, [`Unit::All`]), in layer then
/// channel order: 6 of `conv1` then 16 of `conv2` for LeNet-5. The channels of a layer travel together
/// ([`propagate_all`]).
pub fn deconv_all(net: &Network, trace: &Trace) -> Result<Vec<Reconstruction>> {
    let blocks = conv_blocks(net);
    let mut all = Vec::with_capacity(blocks.iter().map(|b| b.channels).sum());
    for block in &blocks {
        let seeds = (0..block.channels)
            .map(|channel| Seed::for_block(trace, block, channel, Unit::All))
            .collect::<Result<Vec<Seed>>>()?;
        all.extend(propagate_all(net, trace, seeds, ReluRule::Deconvnet)?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::safetensors::SafeTensors;
    use crate::model::manifest::Manifest;

    /// A network on one 4×4 input channel normalized with mean 0.5 and std 2, from manifest JSON layers and
    /// `(name, shape, values)` weights.
    fn tiny(layers: &str, weights: &[(&str, &[usize], &[f32])]) -> Network {
        let manifest = Manifest::parse(&format!(
            r#"{{"name": "tiny", "input": {{"channels": 1, "height": 4, "width": 4}},
                "normalization": {{"mean": [0.5], "std": [2.0]}}, "layers": {layers}, "weights": "none"}}"#
        ))
        .unwrap();
        let tensors = weights
            .iter()
            .map(|(name, shape, values)| {
                (
                    name.to_string(),
                    Tensor::from_vec(shape, values.to_vec()).unwrap(),
                )
            })
            .collect();
        Network::new(
            manifest,
            &SafeTensors {
                tensors,
                metadata: Default::default(),
            },
        )
        .unwrap()
    }

    /// A 4×4 map (row-major), zero but for the `(y, x, value)` entries.
    fn sparse_4x4(entries: &[(usize, usize, f32)]) -> Vec<f32> {
        let mut map = vec![0.0; 16];
        for &(y, x, v) in entries {
            map[y * 4 + x] = v;
        }
        map
    }

    /// Raw pixels `x = 0.5 + 2·n`, so that the normalized input is the integer map
    /// ```text
    /// n = 3 1 0 2
    ///     0 0 1 0
    ///     1 2 0 1
    ///     0 3 0 0
    /// ```
    fn image(net: &Network) -> Tensor {
        let n = [
            3., 1., 0., 2., 0., 0., 1., 0., 1., 2., 0., 1., 0., 3., 0., 0.,
        ];
        net.image(n.iter().map(|v| 0.5 + 2.0 * v).collect())
            .unwrap()
    }

    /// conv (2 kernels 2×2, no padding) → ReLU → max-pool 2×2 with stride 1 (overlapping windows).
    fn conv_relu_pool() -> Network {
        tiny(
            r#"[{"name": "conv", "type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 2},
                {"name": "relu", "type": "relu"},
                {"name": "pool", "type": "max_pool2d", "kernel_size": 2, "stride": 1}]"#,
            &[
                // Kernel 0 = [[1, 0], [0, -1]] with bias 0.5, kernel 1 = [[0, 0], [0, 1]] with bias 0.
                (
                    "conv.weight",
                    &[2, 1, 2, 2],
                    &[1., 0., 0., -1., 0., 0., 0., 1.],
                ),
                ("conv.bias", &[2], &[0.5, 0.0]),
            ],
        )
    }

    #[test]
    fn hand_computed_conv_relu_pool() {
        // Channel 0: conv n[i][j] − n[i+1][j+1] + 0.5, ReLU, then 2×2 windows with stride 1:
        //   conv           relu           pooled P[0]   switches (in the 3×3 map)
        //   3.5  .5  .5    3.5  .5  .5    3.5  .5       (0,0) (0,1)  ← four-way tie of 0.5: first in row-major
        //  -1.5  .5  .5     0   .5  .5    2.5 2.5       (2,1) (2,1)  ← one switch shared by two windows
        //  -1.5 2.5  .5     0  2.5  .5
        // Unpooling puts 3.5 at (0,0), 0.5 at (0,1) and 2.5 + 2.5 = 5 at (2,1); the transposed kernel sends
        // u[i][j] to (i, j) and −u[i][j] to (i+1, j+1); dividing by the std 2 gives the raw-pixel map.
        let net = conv_relu_pool();
        let trace = net.forward(&image(&net)).unwrap();
        let r = deconv(&net, &trace, "conv", 0, Unit::All).unwrap();
        assert_eq!(r.shape(), vec![4, 4]);
        assert_eq!((r.layer.as_str(), r.channel, r.strength), ("conv", 0, 3.5));
        assert_eq!(r.position, None);
        assert_eq!(
            r.data(),
            sparse_4x4(&[
                (0, 0, 1.75),
                (0, 1, 0.25),
                (1, 1, -1.75),
                (1, 2, -0.25),
                (2, 1, 2.5),
                (3, 2, -2.5)
            ])
        );
        // Only the strongest unit: P[0](0,0) = 3.5 at switch (0,0).
        let r = deconv(&net, &trace, "conv", 0, Unit::Max).unwrap();
        assert_eq!(r.position, Some((0, 0)));
        assert_eq!(r.data(), sparse_4x4(&[(0, 0, 1.75), (1, 1, -1.75)]));
        // One unit, P[0](1,1) = 2.5, whose switch is (2,1).
        let r = deconv(&net, &trace, "conv", 0, Unit::At { y: 1, x: 1 }).unwrap();
        assert_eq!((r.position, r.strength), (Some((1, 1)), 3.5));
        assert_eq!(r.data(), sparse_4x4(&[(2, 1, 1.25), (3, 2, -1.25)]));
        // Channel 1: conv n[i+1][j+1] = [[0,1,0],[2,0,1],[3,0,0]], pooled [[2,1],[3,1]] with switches
        // (1,0) (0,1) (2,0) (1,2); the transposed kernel moves each value one step down and right. Nothing of
        // channel 0 leaks in.
        let r = deconv(&net, &trace, "conv", 1, Unit::All).unwrap();
        assert_eq!(r.strength, 3.0);
        assert_eq!(
            r.data(),
            sparse_4x4(&[(1, 2, 0.5), (2, 1, 1.0), (2, 3, 0.5), (3, 1, 1.5)])
        );
        let all = deconv_all(&net, &trace).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1], r);
    }

    /// conv1 (kernel [[1, 0], [0, -1]], bias 0.5) → ReLU → conv2 (kernel [[1, -1], [0, 0]], no bias) → ReLU:
    /// no max-pool, so each conv's activations are its ReLU's output.
    fn two_convs() -> Network {
        tiny(
            r#"[{"name": "conv1", "type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 2},
                {"name": "relu1", "type": "relu"},
                {"name": "conv2", "type": "conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 2},
                {"name": "relu2", "type": "relu"}]"#,
            &[
                ("conv1.weight", &[1, 1, 2, 2], &[1., 0., 0., -1.]),
                ("conv1.bias", &[1], &[0.5]),
                ("conv2.weight", &[1, 1, 2, 2], &[1., -1., 0., 0.]),
                ("conv2.bias", &[1], &[0.0]),
            ],
        )
    }

    #[test]
    fn blocks_without_pool_use_the_relu_output() {
        let net = two_convs();
        let blocks = conv_blocks(&net);
        let found: Vec<(&str, usize, usize, usize)> = blocks
            .iter()
            .map(|b| (b.name.as_str(), b.conv, b.activations, b.channels))
            .collect();
        assert_eq!(found, vec![("conv1", 0, 1, 1), ("conv2", 2, 3, 1)]);
        let pooled = conv_relu_pool();
        assert_eq!(conv_blocks(&pooled)[0].activations, 2);
    }

    #[test]
    fn hand_computed_rectification_below_the_layer() {
        // relu1 = [[3.5, .5, .5], [0, .5, .5], [0, 2.5, .5]] (as above); conv2 takes r[i][j] − r[i][j+1]:
        // [[3, 0], [−.5, 0]], so relu2 = [[3, 0], [0, 0]] and the seed is 3 at (0,0). The transposed conv2 gives
        // [[3, −3, 0], [0, 0, 0], [0, 0, 0]] at relu1. The deconvnet rectifies it to 3 at (0,0); the gradient
        // keeps both values (conv1's output is positive there). Then transposed conv1 and ÷ 2.
        let net = two_convs();
        let trace = net.forward(&image(&net)).unwrap();
        let r = deconv(&net, &trace, "conv2", 0, Unit::All).unwrap();
        assert_eq!(r.strength, 3.0);
        assert_eq!(r.data(), sparse_4x4(&[(0, 0, 1.5), (1, 1, -1.5)]));
        let seed = Seed::new(&net, &trace, "conv2", 0, Unit::All).unwrap();
        let g = seed.propagate(&net, &trace, ReluRule::Gradient).unwrap();
        assert_eq!(
            g.data(),
            sparse_4x4(&[(0, 0, 1.5), (0, 1, -1.5), (1, 1, -1.5), (1, 2, 1.5)])
        );
    }

    #[test]
    fn bad_layer_channel_and_unit_are_errors() {
        let net = conv_relu_pool();
        let trace = net.forward(&image(&net)).unwrap();
        let message = |e: Error| e.to_string();
        let e = deconv(&net, &trace, "relu", 0, Unit::All).unwrap_err();
        assert!(message(e).contains("[\"conv\"]"));
        let e = deconv(&net, &trace, "conv", 2, Unit::All).unwrap_err();
        assert!(message(e).contains("channel 2 out of range"));
        let e = deconv(&net, &trace, "conv", 0, Unit::At { y: 2, x: 0 }).unwrap_err();
        assert!(message(e).contains("outside the 2×2"));
        // A trace of another network does not fit.
        let other = two_convs();
        let foreign = other.forward(&image(&other)).unwrap();
        assert!(deconv(&net, &foreign, "conv", 0, Unit::All).is_err());
        // A seed of the wrong shape is refused before it reaches any layer.
        let mut seed = Seed::new(&net, &trace, "conv", 0, Unit::All).unwrap();
        seed.signal = Tensor::zeros(&[2, 4, 2]);
        let e = seed
            .propagate(&net, &trace, ReluRule::Deconvnet)
            .unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
        // Seeds of different layers cannot travel together.
        let other_net = two_convs();
        let other_trace = other_net.forward(&image(&other_net)).unwrap();
        let mixed = vec![
            Seed::new(&other_net, &other_trace, "conv1", 0, Unit::All).unwrap(),
            Seed::new(&other_net, &other_trace, "conv2", 0, Unit::All).unwrap(),
        ];
        let e = propagate_all(&other_net, &other_trace, mixed, ReluRule::Deconvnet).unwrap_err();
        assert!(e.to_string().contains("same layer"), "{e}");
        assert!(propagate_all(&net, &trace, Vec::new(), ReluRule::Deconvnet)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn units_parse_and_print() {
        assert_eq!("all".parse::<Unit>().unwrap(), Unit::All);
        assert_eq!(" max ".parse::<Unit>().unwrap(), Unit::Max);
        assert_eq!("3, 4".parse::<Unit>().unwrap(), Unit::At { y: 3, x: 4 });
        for bad in ["", "3", "3,4,5", "-1,2", "a,b", "Max"] {
            assert!(bad.parse::<Unit>().is_err(), "{bad:?}");
        }
        for unit in [Unit::All, Unit::Max, Unit::At { y: 12, x: 0 }] {
            assert_eq!(unit.to_string().parse::<Unit>().unwrap(), unit);
        }
    }
}
