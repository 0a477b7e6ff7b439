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

use crate::error::{Error, Result};
use crate::layers::conv2d::Conv2dParams;
use crate::layers::pool;
use crate::layers::relu::ReluRule;
use crate::model::network::{Layer, NamedLayer, Network, Trace};
use crate::tensor::{axpy, Tensor};
use std::fmt;
use std::str::FromStr;

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
                    _ => Err(Error::invalid(format!(
                        "unit {text:?} is not \"all\", \"max\" or \"y,x\" (row, column of the pooled map)"
                    ))),
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
    /// The block of the conv layer called `layer`.
    pub fn find(net: &Network, layer: &str) -> Result<ConvBlock> {
        let blocks = conv_blocks(net);
        let names: Vec<&str> = blocks.iter().map(|b| b.name.as_str()).collect();
        let message = format!("the deconvnet needs a conv layer ({names:?}), got {layer:?}");
        blocks
            .iter()
            .find(|b| b.name == layer)
            .cloned()
            .ok_or_else(|| Error::invalid(message))
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
            return Err(Error::invalid(format!(
                "channel {channel} out of range: {} has {} channels (0 to {})",
                block.name,
                block.channels,
                block.channels - 1
            )));
        }
        let pooled = trace
            .outputs
            .get(block.activations)
            .ok_or_else(|| Error::invalid("the trace does not come from this network"))?;
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
                return Err(Error::invalid(format!(
                    "unit ({y}, {x}) is outside the {h}×{w} activation map of {} (rows and columns count from 0)",
                    block.name
                )))
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
    /// layer, up to the order of f32 additions (see [`propagate_all`]).
    pub fn propagate(self, net: &Network, trace: &Trace, rule: ReluRule) -> Result<Reconstruction> {
        propagate_all(net, trace, vec![self], rule)?
            .pop()
            .ok_or_else(|| Error::invalid("no reconstruction"))
    }
}

/// Sends several seeds of the same conv layer down to the pixels at once, as [`Seed::propagate`] does one.
///
/// The deconvnet's signals are mostly zeros: a seed has one non-zero channel, and an unpooled map is zero off
/// its switches (3 values in 4 for 2×2 pools). So the seeds travel together as [`Lanes`], the list of the
/// positions where any of them is non-zero with one value per seed: unpooling moves positions to their
/// switches, a ReLU touches only listed positions, and a transposed convolution scatters each listed position
/// with one vectorisable multiply-add for all seeds. For LeNet-5's 22 reconstructions this is an order of
/// magnitude cheaper than 22 dense [`Network::backward`] passes, which the tests compare it with.
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
        return Err(Error::invalid(
            "seeds propagated together must come from the same layer",
        ));
    }
    let layers = net.layers();
    let top = layers
        .get(from)
        .filter(|_| trace.outputs.len() == layers.len())
        .ok_or_else(|| Error::invalid("the trace does not come from this network"))?;
    let signals: Vec<&Tensor> = seeds.iter().map(|s| &s.signal).collect();
    let mut g = Lanes::interleave(&signals, &top.output_shape)?;
    for (i, l) in layers.iter().enumerate().take(from + 1).rev() {
        g = match &l.layer {
            Layer::Conv2d { params, weight, .. } => {
                g.transpose_conv(params, weight, &l.input_shape)?
            }
            Layer::Relu => g.relu_backward(rule, trace.layer_input(i))?,
            Layer::MaxPool2d(_) => g.unpool(
                trace
                    .switches
                    .get(i)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| Error::invalid("the trace lacks pooling switches"))?,
            )?,
            _ => {
                return Err(Error::invalid(format!(
                    "the deconvnet passes conv, ReLU and max-pool layers only, not {:?}",
                    l.name
                )))
            }
        };
    }
    let std = net
        .manifest()
        .normalization
        .as_ref()
        .map_or(&[][..], |n| n.std.as_slice());
    let mut maps = g.split()?;
    for map in &mut maps {
        let plane = map.len() / std.len().max(1);
        for (values, s) in map.data_mut().chunks_exact_mut(plane.max(1)).zip(std) {
            values.iter_mut().for_each(|v| *v /= s);
        }
    }
    Ok(seeds
        .into_iter()
        .zip(maps)
        .map(|(seed, map)| Reconstruction {
            layer: seed.layer,
            channel: seed.channel,
            strength: seed.strength,
            position: seed.position,
            map,
        })
        .collect())
}

/// `lanes` signals on one `[C, H, W]` map, kept sparse: the listed flat positions (each at most once), with
/// the values of the signals at position `positions[r]` in `values[r·lanes..(r + 1)·lanes]`; every other
/// position is zero in all signals. The steps are those of [`Network::backward`] (`pool::unpool`,
/// `relu::backward`, `conv2d::transpose`) applied to every signal at once.
#[derive(Debug, Clone, PartialEq)]
struct Lanes {
    shape: [usize; 3],
    lanes: usize,
    positions: Vec<usize>,
    values: Vec<f32>,
}

impl Lanes {
    /// The rows of a dense interleaved buffer (`dense[p·lanes + b]` = signal `b` at position `p`) where any
    /// signal is non-zero.
    fn from_dense(shape: [usize; 3], lanes: usize, dense: &[f32]) -> Lanes {
        let mut out = Lanes {
            shape,
            lanes,
            positions: Vec::new(),
            values: Vec::new(),
        };
        for (p, row) in dense.chunks_exact(lanes.max(1)).enumerate() {
            if row.iter().any(|v| *v != 0.0) {
                out.positions.push(p);
                out.values.extend_from_slice(row);
            }
        }
        out
    }

    /// Interleaves signals that must all have `shape`.
    fn interleave(signals: &[&Tensor], shape: &[usize]) -> Result<Lanes> {
        let [c, h, w] = *shape else {
            return Err(Error::invalid(format!(
                "the deconvnet needs C×H×W activations, got shape {shape:?}"
            )));
        };
        let lanes = signals.len();
        let mut dense = vec![0.0; c * h * w * lanes];
        for (b, signal) in signals.iter().enumerate() {
            if signal.shape() != shape {
                return Err(Error::shape("deconvnet seed", shape, signal.shape()));
            }
            for (slot, &v) in dense.iter_mut().skip(b).step_by(lanes).zip(signal.data()) {
                *slot = v;
            }
        }
        Ok(Lanes::from_dense([c, h, w], lanes, &dense))
    }

    /// The signals as separate dense `[C, H, W]` tensors.
    fn split(self) -> Result<Vec<Tensor>> {
        let mut maps = vec![Tensor::zeros(&self.shape); self.lanes];
        for (&p, row) in self
            .positions
            .iter()
            .zip(self.values.chunks_exact(self.lanes.max(1)))
        {
            for (map, &v) in maps.iter_mut().zip(row) {
                let slot = map
                    .data_mut()
                    .get_mut(p)
                    .ok_or_else(|| Error::invalid("a signal position lies outside its map"))?;
                *slot = v;
            }
        }
        Ok(maps)
    }

    /// Unpooling: every row moves to its position's switch; rows meeting at one switch (overlapping
    /// windows) are summed.
    fn unpool(self, switches: &pool::Switches) -> Result<Lanes> {
        if self.shape.iter().product::<usize>() != switches.indices.len() {
            return Err(Error::shape(
                "unpool input",
                &[switches.indices.len()],
                &self.shape,
            ));
        }
        let l = self.lanes;
        let mut row_at = vec![usize::MAX; switches.input_shape.iter().product()];
        let mut out = Lanes {
            shape: switches.input_shape,
            lanes: l,
            positions: Vec::with_capacity(self.positions.len()),
            values: Vec::with_capacity(self.values.len()),
        };
        for (&p, row) in self
            .positions
            .iter()
            .zip(self.values.chunks_exact(l.max(1)))
        {
            let outside = || Error::invalid("a pooling switch points outside its map");
            let target = *switches.indices.get(p).ok_or_else(outside)? as usize;
            let existing = row_at.get_mut(target).ok_or_else(outside)?;
            if *existing == usize::MAX {
                *existing = out.positions.len();
                out.positions.push(target);
                out.values.extend_from_slice(row);
            } else {
                let sum = &mut out.values[*existing * l..][..l];
                sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
        }
        Ok(out)
    }

    /// ReLU's backward step with `rule`, given the ReLU's forward input `x`.
    fn relu_backward(mut self, rule: ReluRule, x: &Tensor) -> Result<Lanes> {
        if x.shape() != self.shape {
            return Err(Error::shape("relu backward signal", x.shape(), &self.shape));
        }
        let rows = self.values.chunks_exact_mut(self.lanes.max(1));
        for (&p, row) in self.positions.iter().zip(rows) {
            // In range: positions lie inside the map, whose shape x has.
            let open = x.data()[p] > 0.0;
            for v in row {
                *v = match rule {
                    ReluRule::Deconvnet => v.max(0.0),
                    ReluRule::Gradient if open => *v,
                    ReluRule::Guided if open => v.max(0.0),
                    ReluRule::Gradient | ReluRule::Guided => 0.0,
                };
            }
        }
        Ok(self)
    }

    /// The transposed convolution `[O, H', W']` → `input_shape` `[C, H, W]` written as a scatter: each row
    /// adds `value · w[o, c, ·, ·]` to the input window its position was computed from. Rows where few
    /// signals are non-zero (a seed's own channel, before the channels mix) are scattered signal by signal.
    fn transpose_conv(
        self,
        p: &Conv2dParams,
        weight: &[f32],
        input_shape: &[usize],
    ) -> Result<Lanes> {
        let [c_in, h, w] = *input_shape else {
            return Err(Error::shape(
                "conv2d input",
                &[p.in_channels, 0, 0],
                input_shape,
            ));
        };
        let (oh, ow) = p.out_dims(h, w)?;
        if self.shape != [p.out_channels, oh, ow] {
            return Err(Error::shape(
                "signal at a conv2d output",
                &[p.out_channels, oh, ow],
                &self.shape,
            ));
        }
        let k = p.kernel_size;
        if c_in != p.in_channels || weight.len() != p.out_channels * c_in * k * k {
            return Err(Error::shape(
                "conv2d weight",
                &p.weight_shape(),
                &[weight.len()],
            ));
        }
        let (s, pad, l) = (p.stride, p.padding, self.lanes);
        let mut out = vec![0.0; c_in * h * w * l];
        for (&at, values) in self
            .positions
            .iter()
            .zip(self.values.chunks_exact(l.max(1)))
        {
            let active = values.iter().filter(|v| **v != 0.0).count();
            let (o, i, j) = (at / (oh * ow), at / ow % oh, at % ow);
            // Kernel taps whose input row i·s + ky − pad lies in 0..h, and likewise for columns.
            let (ky0, ky1) = (
                pad.saturating_sub(i * s),
                k.min((h + pad).saturating_sub(i * s)),
            );
            let (kx0, kx1) = (
                pad.saturating_sub(j * s),
                k.min((w + pad).saturating_sub(j * s)),
            );
            if active == 0 || o >= p.out_channels || kx0 >= kx1 {
                continue;
            }
            let (n, column) = (kx1 - kx0, j * s + kx0 - pad);
            // In range: o < O and the weight length was checked; the taps keep rows in 0..h and the n
            // columns from `column` in 0..w.
            let kernels = &weight[o * c_in * k * k..][..c_in * k * k];
            // The n·l values of the output row that kernel row (c, ky) reaches, and that kernel row's taps.
            let span = |c: usize, ky: usize| {
                let start = ((c * h + i * s + ky - pad) * w + column) * l;
                (start..start + n * l, (c * k + ky) * k + kx0)
            };
            if 4 * active <= l {
                // A seed's own channel before the channels mix: scatter signal by signal.
                for (b, &v) in values.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                    for c in 0..c_in {
                        for ky in ky0..ky1 {
                            let (outputs, tap0) = span(c, ky);
                            let slots = out[outputs].chunks_exact_mut(l);
                            for (slot, &tap) in slots.zip(&kernels[tap0..tap0 + n]) {
                                slot[b] += tap * v;
                            }
                        }
                    }
                }
            } else {
                for c in 0..c_in {
                    for ky in ky0..ky1 {
                        let (outputs, tap0) = span(c, ky);
                        let slots = out[outputs].chunks_exact_mut(l);
                        for (slot, &tap) in slots.zip(&kernels[tap0..tap0 + n]) {
                            axpy(tap, values, slot);
                        }
                    }
                }
            }
        }
        Ok(Lanes::from_dense([c_in, h, w], l, &out))
    }
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
        #[rustfmt::skip]
        assert_eq!(r.data(), &[
            1.75, 0.25,  0.0,  0.0,
            0.0, -1.75, -0.25, 0.0,
            0.0,  2.5,   0.0,  0.0,
            0.0,  0.0,  -2.5,  0.0,
        ]);
        // Only the strongest unit: P[0](0,0) = 3.5 at switch (0,0).
        let r = deconv(&net, &trace, "conv", 0, Unit::Max).unwrap();
        assert_eq!(r.position, Some((0, 0)));
        #[rustfmt::skip]
        assert_eq!(r.data(), &[
            1.75, 0.0,  0.0, 0.0,
            0.0, -1.75, 0.0, 0.0,
            0.0,  0.0,  0.0, 0.0,
            0.0,  0.0,  0.0, 0.0,
        ]);
        // One unit, P[0](1,1) = 2.5, whose switch is (2,1).
        let r = deconv(&net, &trace, "conv", 0, Unit::At { y: 1, x: 1 }).unwrap();
        assert_eq!((r.position, r.strength), (Some((1, 1)), 3.5));
        #[rustfmt::skip]
        assert_eq!(r.data(), &[
            0.0, 0.0,  0.0,  0.0,
            0.0, 0.0,  0.0,  0.0,
            0.0, 1.25, 0.0,  0.0,
            0.0, 0.0, -1.25, 0.0,
        ]);
        // Channel 1: conv n[i+1][j+1] = [[0,1,0],[2,0,1],[3,0,0]], pooled [[2,1],[3,1]] with switches
        // (1,0) (0,1) (2,0) (1,2); the transposed kernel moves each value one step down and right. Nothing of
        // channel 0 leaks in.
        let r = deconv(&net, &trace, "conv", 1, Unit::All).unwrap();
        assert_eq!(r.strength, 3.0);
        #[rustfmt::skip]
        assert_eq!(r.data(), &[
            0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.5, 0.0,
            0.0, 1.0, 0.0, 0.5,
            0.0, 1.5, 0.0, 0.0,
        ]);
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
        #[rustfmt::skip]
        assert_eq!(r.data(), &[
            1.5, 0.0, 0.0, 0.0,
            0.0, -1.5, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
        ]);
        let seed = Seed::new(&net, &trace, "conv2", 0, Unit::All).unwrap();
        let g = seed.propagate(&net, &trace, ReluRule::Gradient).unwrap();
        #[rustfmt::skip]
        assert_eq!(g.data(), &[
            1.5, -1.5, 0.0, 0.0,
            0.0, -1.5, 1.5, 0.0,
            0.0,  0.0, 0.0, 0.0,
            0.0,  0.0, 0.0, 0.0,
        ]);
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
    fn interleaved_steps_equal_the_layer_backward_steps_lane_by_lane() {
        use crate::layers::{conv2d, relu};
        use crate::rng::Rng;
        let mut rng = Rng::new(7);
        for &(c, o, k, s, pad, h, w) in &[
            (1, 6, 5, 1, 2, 28, 28),
            (6, 16, 5, 1, 0, 14, 14),
            (2, 3, 3, 2, 1, 9, 7),
            (3, 2, 4, 3, 2, 10, 11),
            (1, 1, 3, 1, 2, 3, 3),
        ] {
            let p = Conv2dParams {
                in_channels: c,
                out_channels: o,
                kernel_size: k,
                stride: s,
                padding: pad,
            };
            let (oh, ow) = p.out_dims(h, w).unwrap();
            let weight: Vec<f32> = (0..o * c * k * k).map(|_| rng.normal()).collect();
            // Five signals with about two zeros in three, as after unpooling, one of them non-zero in a single
            // channel (lane-by-lane scatter where it alone is non-zero).
            let mut signals: Vec<Tensor> = (0..5)
                .map(|_| {
                    let values = (0..o * oh * ow)
                        .map(|_| (rng.uniform() < 0.35) as u8 as f32 * rng.normal())
                        .collect();
                    Tensor::from_vec(&[o, oh, ow], values).unwrap()
                })
                .collect();
            signals[4].data_mut()[oh * ow..].fill(0.0);
            let shape = [o, oh, ow];
            let lanes = Lanes::interleave(&signals.iter().collect::<Vec<_>>(), &shape).unwrap();
            let input = [c, h, w];
            let x =
                Tensor::from_vec(&input, (0..c * h * w).map(|_| rng.normal()).collect()).unwrap();
            for rule in [ReluRule::Gradient, ReluRule::Deconvnet, ReluRule::Guided] {
                let together = lanes
                    .clone()
                    .transpose_conv(&p, &weight, &input)
                    .unwrap()
                    .relu_backward(rule, &x)
                    .unwrap()
                    .split()
                    .unwrap();
                for (signal, got) in signals.iter().zip(&together) {
                    let dense = conv2d::transpose(&p, signal, &weight, h, w).unwrap();
                    let want = relu::backward(rule, &x, &dense).unwrap();
                    assert_eq!(got.shape(), want.shape());
                    for (a, b) in got.data().iter().zip(want.data()) {
                        assert!(
                            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                            "{a} vs {b} for {p:?}"
                        );
                    }
                }
            }
            assert!(lanes
                .clone()
                .transpose_conv(&p, &weight[1..], &input)
                .is_err());
            assert!(lanes
                .clone()
                .transpose_conv(&p, &weight, &[c + 1, h, w])
                .is_err());
            let wider = Tensor::zeros(&[o, oh, ow + 1]);
            assert!(lanes.relu_backward(ReluRule::Deconvnet, &wider).is_err());
        }
        // Unpooling, against pool::unpool.
        let x =
            Tensor::from_vec(&[2, 5, 5], (0..50).map(|i| ((i * 7) % 11) as f32).collect()).unwrap();
        let pool_params = pool::PoolParams {
            kernel_size: 3,
            stride: Some(1),
        };
        let (y, switches) = pool::forward(&pool_params, &x).unwrap();
        let signals: Vec<Tensor> = (0..3)
            .map(|b| {
                Tensor::from_vec(
                    y.shape(),
                    (0..y.len()).map(|i| (i * b) as f32 - 4.0).collect(),
                )
                .unwrap()
            })
            .collect();
        let lanes = Lanes::interleave(&signals.iter().collect::<Vec<_>>(), y.shape()).unwrap();
        let unpooled = lanes.unpool(&switches).unwrap().split().unwrap();
        for (signal, got) in signals.iter().zip(&unpooled) {
            assert_eq!(got, &pool::unpool(signal, &switches).unwrap());
        }
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
