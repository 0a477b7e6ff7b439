//! Maximally activating patches (Zeiler & Fergus 2014, fig. 2; the DeepVis toolbox's top-9): for each unit
//! of a layer, the `k` images of a data set on which it responds most, each with the crop of its receptive
//! field and, beside it, the deconvnet projection of that unit.
//!
//! **Conv channels.** The activations of a conv block are its pooled maps `P: [K, H', W']` (the layer the
//! deconvnet starts from, [`ConvBlock`]). Image `i` scores `v_i = max P_i[k]` on channel `k`, at its first
//! maximum `(y, x)` in row-major order; the patch is the receptive field of that unit, computed from the
//! manifest ([`receptive_field`]), clipped to the image. The projection is the deconvnet of that one unit
//! ([`Unit::At`]).
//!
//! **Vector layers** (`fc1`, `fc2`, any layer with a `[n]` output): unit `u` scores `v_i = out_i[u]`, the patch
//! is the whole image and the projection sends `out_i[u]` alone back down with the deconvnet's rules (the
//! linear layers transposed, ReLUs rectifying, max-pools unpooled with the image's switches).
//!
//! Ranking: `v` descending, ties by the lower image index. Boxes are half-open `[y0, x0, y1, x1)`.

use super::COUNT;
use crate::analysis::neighbors::Best;
use crate::catalogue::options::{Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Technique};
use crate::error::{Error, Result};
use crate::explain::deconvnet::{self, ConvBlock, Unit, ZEILER_FERGUS};
use crate::io::idx::IdxImages;
use crate::layers::relu::ReluRule;
use crate::model::network::{Layer, Network, Trace};
use crate::tensor::Tensor;

/// The largest `top` accepted.
pub const MAX_TOP: usize = 100;

/// The layer whose units are ranked.
pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "a conv block (conv1 or pool1, conv2 or pool2: per channel, crops) or a layer with a vector output \
           (fc1, fc2: per unit, whole images)",
    kind: Kind::Layer {
        types: &["conv2d", "max_pool2d", "relu", "flatten", "linear"],
    },
    common: false,
    required: true,
};

/// How many images per unit.
pub const TOP: OptionSpec = OptionSpec {
    key: "top",
    flag: "top",
    label: "Top",
    help: "images per unit, best first",
    kind: Kind::Int {
        min: 1,
        max: Some(MAX_TOP as u64),
        default: Some(9),
    },
    common: false,
    required: false,
};

pub const TECHNIQUE: Technique = Technique {
    id: "patches",
    label: "Maximally activating patches",
    family: Family::Dataset,
    command: "patches",
    output: OutputKind::Gallery,
    long_running: true,
    stateful: Some("data set"),
    summary: "The images of the data set on which one unit fires most: what it has learned to look for.",
    explanation: "Every image of the data set goes through the network; for each channel of a conv block the \
                  strongest unit of its pooled map scores the image, and the top images are shown cropped to \
                  that unit's receptive field, beside the deconvnet projection of the unit. A fully \
                  connected unit ranks whole images by its output.",
    paper: Some(ZEILER_FERGUS),
    options: &[LAYER, TOP, COUNT],
};

/// Per axis, the output unit `u` of a layer sees the input rows (columns) `[u·jump + offset, … + size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceptiveField {
    pub jump: i64,
    pub size: i64,
    pub offset: i64,
}

impl ReceptiveField {
    /// The box `[y0, x0, y1, x1)` of unit `(y, x)`, clipped to an `height × width` image.
    pub fn bbox(&self, (y, x): (usize, usize), height: usize, width: usize) -> [usize; 4] {
        let span = |u: usize, limit: usize| {
            let start = (u as i64)
                .saturating_mul(self.jump)
                .saturating_add(self.offset);
            let end = start.saturating_add(self.size);
            let clip = |v: i64| v.clamp(0, limit as i64) as usize;
            (clip(start), clip(end))
        };
        let ((y0, y1), (x0, x1)) = (span(y, height), span(x, width));
        [y0, x0, y1, x1]
    }
}

/// The receptive field of the output of layer `layer` (square kernels, so one per axis); `None` once the
/// maps have been flattened (a unit sees the whole image).
pub fn receptive_field(net: &Network, layer: usize) -> Result<Option<ReceptiveField>> {
    let overflow = || Error::manifest("the receptive field of a layer overflows 64 bits");
    let mut field = ReceptiveField {
        jump: 1,
        size: 1,
        offset: 0,
    };
    let grow = |field: &mut ReceptiveField, kernel: usize, stride: usize, padding: usize| {
        let as_i64 = |v: usize| i64::try_from(v).map_err(|_| overflow());
        let (kernel, stride, padding) = (as_i64(kernel)?, as_i64(stride)?, as_i64(padding)?);
        let widen = (kernel - 1).checked_mul(field.jump).ok_or_else(overflow)?;
        let shift = padding.checked_mul(field.jump).ok_or_else(overflow)?;
        field.size = field.size.checked_add(widen).ok_or_else(overflow)?;
        field.offset = field.offset.checked_sub(shift).ok_or_else(overflow)?;
        field.jump = field.jump.checked_mul(stride).ok_or_else(overflow)?;
        Ok::<(), Error>(())
    };
    for named in net.layers().iter().take(layer.saturating_add(1)) {
        match &named.layer {
            Layer::Conv2d { params, .. } => grow(
                &mut field,
                params.kernel_size,
                params.stride,
                params.padding,
            )?,
            Layer::MaxPool2d(pool) => grow(&mut field, pool.kernel_size, pool.stride(), 0)?,
            Layer::Relu => {}
            Layer::Flatten | Layer::Linear { .. } | Layer::LogSoftmax => return Ok(None),
        }
    }
    Ok(Some(field))
}

/// One of a unit's top images.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// The image's index in the data set.
    pub index: usize,
    /// The unit's response `v`.
    pub value: f32,
    /// The strongest unit `(y, x)` of the pooled map (conv channels only).
    pub position: Option<(usize, usize)>,
    /// `[y0, x0, y1, x1)` in input pixels: the receptive field, or the whole image.
    pub bbox: [usize; 4],
}

/// What is ranked: the channels of a conv block's pooled maps, or the units of a vector.
#[derive(Debug, Clone)]
enum Units {
    Maps {
        block: ConvBlock,
        height: usize,
        width: usize,
        field: ReceptiveField,
    },
    Vector {
        layer: usize,
        units: usize,
    },
}

/// The search over a data set, a few images at a time.
#[derive(Debug, Clone)]
pub struct PatchSearch {
    units: Units,
    /// The layer whose output is ranked.
    layer: usize,
    /// Per unit, the best `(−v, key)`: `key = index` (vectors) or `index·H'W' + y·W' + x` (maps), so that
    /// ties go to the lower image index and each entry keeps its position.
    best: Vec<Best<f32>>,
    input: (usize, usize),
    done: usize,
    count: usize,
}

impl PatchSearch {
    /// A search for the `top` images of each unit of `layer` among the first `count` images.
    pub fn new(net: &Network, layer: &str, top: usize, count: usize) -> Result<PatchSearch> {
        TOP.check_int(TECHNIQUE.id, top as u64)?;
        let (units, index) = match ConvBlock::find(net, layer) {
            Ok(block) => {
                let index = block.activations;
                let [_, height, width] = three_dims(&net.layers()[index].output_shape)?;
                let field = receptive_field(net, index)?
                    .ok_or_else(|| Error::internal("a conv block after a flatten"))?;
                let units = Units::Maps {
                    block,
                    height,
                    width,
                    field,
                };
                (units, index)
            }
            Err(_) => vector_layer(net, layer)?,
        };
        let n = match &units {
            Units::Maps { block, .. } => block.channels,
            Units::Vector { units, .. } => *units,
        };
        let [_, h, w] = net.input_shape();
        Ok(PatchSearch {
            units,
            layer: index,
            best: (0..n).map(|_| Best::new(top)).collect(),
            input: (h, w),
            done: 0,
            count,
        })
    }

    /// The name of the layer whose output is ranked (`pool2` for `conv2`).
    pub fn layer_name<'n>(&self, net: &'n Network) -> &'n str {
        net.layers().get(self.layer).map_or("", |l| l.name.as_str())
    }

    /// Ranks image `index` from its forward trace.
    pub fn offer(&mut self, index: usize, trace: &Trace) -> Result<()> {
        let output = trace.output(self.layer)?.data();
        match &self.units {
            Units::Maps { height, width, .. } => {
                let plane = height * width;
                let base = index
                    .checked_mul(plane)
                    .ok_or_else(|| Error::out_of_range("image index", index, "a smaller set"))?;
                for (best, values) in self.best.iter_mut().zip(output.chunks_exact(plane)) {
                    let (at, value) = first_max(values);
                    best.offer(-value, base + at);
                }
            }
            Units::Vector { .. } => {
                for (best, &value) in self.best.iter_mut().zip(output) {
                    best.offer(-value, index);
                }
            }
        }
        Ok(())
    }

    /// Ranks up to `n` more images of `images`; returns `(images done, images in all)`.
    pub fn step(&mut self, net: &Network, images: &IdxImages, n: usize) -> Result<(usize, usize)> {
        let end = self.done.saturating_add(n).min(self.count);
        for i in self.done..end {
            self.offer(i, &net.forward(&images.image(i)?)?)?;
        }
        self.done = end;
        Ok(self.progress())
    }

    /// `(images done, images in all)`.
    pub fn progress(&self) -> (usize, usize) {
        (self.done, self.count)
    }

    /// Per unit (channel or vector unit), its top images, best first.
    pub fn result(&self) -> Vec<Vec<Patch>> {
        let (h, w) = self.input;
        self.best
            .iter()
            .map(|best| {
                best.items
                    .iter()
                    .map(|&(negated, key)| match &self.units {
                        Units::Maps {
                            height,
                            width,
                            field,
                            ..
                        } => {
                            let at = key % (height * width);
                            let position = (at / width, at % width);
                            Patch {
                                index: key / (height * width),
                                value: -negated,
                                position: Some(position),
                                bbox: field.bbox(position, h, w),
                            }
                        }
                        Units::Vector { .. } => Patch {
                            index: key,
                            value: -negated,
                            position: None,
                            bbox: [0, 0, h, w],
                        },
                    })
                    .collect()
            })
            .collect()
    }

    /// The side of a crop in input pixels (the receptive field's size; the input's height for vectors).
    pub fn crop_size(&self) -> usize {
        match &self.units {
            Units::Maps { field, .. } => usize::try_from(field.size).unwrap_or(usize::MAX),
            Units::Vector { .. } => self.input.0.max(self.input.1),
        }
    }

    /// One `H × W` plane (of the input or of a projection) cut to the patch: `S × S` values (`S` =
    /// [`PatchSearch::crop_size`]) laid out as the receptive field, zero where it overhangs the image.
    pub fn crop(&self, plane: &[f32], patch: &Patch) -> Vec<f32> {
        let (h, w) = self.input;
        let size = self.crop_size();
        let (top, left) = match (&self.units, patch.position) {
            (Units::Maps { field, .. }, Some((y, x))) => {
                let start = |u: usize| {
                    (u as i64)
                        .saturating_mul(field.jump)
                        .saturating_add(field.offset)
                };
                (start(y), start(x))
            }
            _ => (0, 0),
        };
        let mut out = vec![0.0; size.saturating_mul(size)];
        for (ty, row) in out.chunks_exact_mut(size.max(1)).enumerate() {
            let sy = top.saturating_add(ty as i64);
            if !(0..h as i64).contains(&sy) {
                continue;
            }
            for (tx, value) in row.iter_mut().enumerate() {
                let sx = left.saturating_add(tx as i64);
                if (0..w as i64).contains(&sx) {
                    *value = plane
                        .get(sy as usize * w + sx as usize)
                        .copied()
                        .unwrap_or(0.0);
                }
            }
        }
        out
    }

    /// The deconvnet projection `[C, H, W]` of `unit` at `patch`, from `image` (the patch's image).
    pub fn projection(
        &self,
        net: &Network,
        image: &Tensor,
        unit: usize,
        patch: &Patch,
    ) -> Result<Tensor> {
        let trace = net.forward(image)?;
        match (&self.units, patch.position) {
            (Units::Maps { block, .. }, Some((y, x))) => {
                Ok(deconvnet::deconv(net, &trace, &block.name, unit, Unit::At { y, x })?.map)
            }
            (Units::Vector { layer, units }, _) if unit < *units => {
                let output = trace.output(*layer)?;
                let mut seed = Tensor::zeros(output.shape());
                seed.data_mut()[unit] = output.data()[unit];
                trace.backward(*layer, seed, ReluRule::Deconvnet, None, None)
            }
            _ => Err(Error::out_of_range(
                "unit of the patch",
                unit,
                format!("0 to {}", self.best.len().saturating_sub(1)),
            )),
        }
    }
}

/// The index and value of the first largest of `values` (non-empty, finite).
fn first_max(values: &[f32]) -> (usize, f32) {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
}

fn three_dims(shape: &[usize]) -> Result<[usize; 3]> {
    <[usize; 3]>::try_from(shape).map_err(|_| Error::internal("a conv block's output is not CHW"))
}

/// The layer `layer` when its output is a vector; an error naming the usable layers otherwise.
fn vector_layer(net: &Network, layer: &str) -> Result<(Units, usize)> {
    let index = net.layer_index(layer)?;
    match net.layers()[index].output_shape[..] {
        [units] if !matches!(net.layers()[index].layer, Layer::LogSoftmax) => Ok((
            Units::Vector {
                layer: index,
                units,
            },
            index,
        )),
        _ => {
            let usable: Vec<String> = deconvnet::conv_blocks(net)
                .into_iter()
                .map(|b| b.name)
                .chain(
                    net.layers()
                        .iter()
                        .filter(|l| {
                            l.output_shape.len() == 1 && l.layer.type_name() != "log_softmax"
                        })
                        .map(|l| l.name.clone()),
                )
                .collect();
            Err(Error::option(
                LAYER.key,
                format!(
                    "patches rank the channels of a conv block or the units of a vector layer, not {layer:?} \
                     (usable: {})",
                    usable.join(", ")
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::testing::{idx_images, mnist_lenet};
    use crate::rng::Rng;

    #[test]
    fn lenet_receptive_fields_follow_the_manifest() {
        let net = mnist_lenet(1);
        // conv1 (k5, p2) → pool1 (2) → conv2 (k5) → pool2 (2): sizes 5, 6, 14, 16; jumps 1, 2, 2, 4.
        let field = |name: &str| receptive_field(&net, net.layer_index(name).unwrap()).unwrap();
        let f = |jump, size, offset| Some(ReceptiveField { jump, size, offset });
        assert_eq!(field("conv1"), f(1, 5, -2));
        assert_eq!(field("pool1"), f(2, 6, -2));
        assert_eq!(field("conv2"), f(2, 14, -2));
        assert_eq!(field("pool2"), f(4, 16, -2));
        assert_eq!(field("fc1"), None);
        let pool2 = field("pool2").unwrap();
        assert_eq!(pool2.bbox((0, 0), 28, 28), [0, 0, 14, 14]);
        assert_eq!(pool2.bbox((2, 1), 28, 28), [6, 2, 22, 18]);
        assert_eq!(pool2.bbox((4, 4), 28, 28), [14, 14, 28, 28]);
    }

    /// Brute force: every image's score on every channel, sorted by (−v, index).
    fn brute_force(net: &Network, set: &IdxImages, layer: &str, top: usize) -> Vec<Vec<usize>> {
        let index = ConvBlock::find(net, layer).unwrap().activations;
        let scores: Vec<Vec<f32>> = (0..set.count)
            .map(|i| {
                let trace = net.forward(&set.image(i).unwrap()).unwrap();
                let out = trace.output(index).unwrap();
                let (c, _, _) = out.chw().unwrap();
                (0..c)
                    .map(|k| {
                        out.channel(k)
                            .unwrap()
                            .iter()
                            .copied()
                            .fold(f32::MIN, f32::max)
                    })
                    .collect()
            })
            .collect();
        (0..scores[0].len())
            .map(|k| {
                let mut order: Vec<usize> = (0..set.count).collect();
                order.sort_by(|&a, &b| scores[b][k].total_cmp(&scores[a][k]).then(a.cmp(&b)));
                order.truncate(top);
                order
            })
            .collect()
    }

    #[test]
    fn the_search_in_steps_ranks_like_a_full_sort() {
        let net = mnist_lenet(5);
        let mut set = idx_images(&mut Rng::new(6), 40);
        // Image 7 repeated at 30: equal scores everywhere, so the lower index must come first.
        let copy = set.pixels[7 * 784..8 * 784].to_vec();
        set.pixels[30 * 784..31 * 784].copy_from_slice(&copy);
        let mut search = PatchSearch::new(&net, "conv2", 9, 40).unwrap();
        assert_eq!(search.layer_name(&net), "pool2");
        assert_eq!(search.step(&net, &set, 15).unwrap(), (15, 40));
        assert_eq!(search.step(&net, &set, 100).unwrap(), (40, 40));
        let result = search.result();
        let expected = brute_force(&net, &set, "pool2", 9);
        assert_eq!(result.len(), 16);
        for (channel, (patches, want)) in result.iter().zip(&expected).enumerate() {
            let got: Vec<usize> = patches.iter().map(|p| p.index).collect();
            assert_eq!(&got, want, "channel {channel}");
            let seven = got.iter().position(|&i| i == 7);
            let thirty = got.iter().position(|&i| i == 30);
            if let (Some(a), Some(b)) = (seven, thirty) {
                assert_eq!(b, a + 1, "the copy follows the original");
            }
            for p in patches {
                let trace = net.forward(&set.image(p.index).unwrap()).unwrap();
                let (y, x) = p.position.unwrap();
                let plane = trace
                    .output(search.layer)
                    .unwrap()
                    .channel(channel)
                    .unwrap();
                assert_eq!(plane[y * 5 + x], p.value);
                assert_eq!(plane.iter().position(|&v| v == p.value), Some(y * 5 + x));
                assert_eq!(p.bbox, pool2_box(y, x));
            }
        }
    }

    /// pool2's receptive field by hand: rows 4y − 2 to 4y + 14, clipped to the 28×28 image.
    fn pool2_box(y: usize, x: usize) -> [usize; 4] {
        let span = |u: usize| ((4 * u).saturating_sub(2), (4 * u + 14).min(28));
        let ((y0, y1), (x0, x1)) = (span(y), span(x));
        [y0, x0, y1, x1]
    }

    #[test]
    fn vector_units_rank_whole_images_and_project_with_the_deconvnet_rules() {
        let net = mnist_lenet(8);
        let set = idx_images(&mut Rng::new(9), 12);
        let mut search = PatchSearch::new(&net, "fc2", 3, 12).unwrap();
        search.step(&net, &set, 12).unwrap();
        let result = search.result();
        assert_eq!(result.len(), 84);
        let fc2 = net.layer_index("fc2").unwrap();
        // A unit whose best response is positive (the deconvnet's rectification is positively homogeneous).
        let u = (0..84).find(|&u| result[u][0].value > 0.0).unwrap();
        let p = &result[u][0];
        assert_eq!((p.bbox, p.position), ([0, 0, 28, 28], None));
        let image = set.image(p.index).unwrap();
        let trace = net.forward(&image).unwrap();
        assert_eq!(trace.output(fc2).unwrap().data()[u], p.value);
        // A seed of v·e_u (v > 0) gives v times the projection of e_u.
        let projection = search.projection(&net, &image, u, p).unwrap();
        let mut unit = Tensor::zeros(&[84]);
        unit.data_mut()[u] = 1.0;
        let one = trace
            .backward(fc2, unit, ReluRule::Deconvnet, None, None)
            .unwrap();
        for (a, b) in projection.data().iter().zip(one.data()) {
            assert!((a - p.value * b).abs() <= 1e-5 * (1.0 + a.abs()), "{a} {b}");
        }
        assert!(search.projection(&net, &image, 84, p).is_err());
    }

    #[test]
    fn conv_projections_are_the_deconvnet_of_the_strongest_unit() {
        let net = mnist_lenet(2);
        let set = idx_images(&mut Rng::new(3), 6);
        let mut search = PatchSearch::new(&net, "pool1", 2, 6).unwrap();
        search.step(&net, &set, 6).unwrap();
        let p = &search.result()[4][0];
        let image = set.image(p.index).unwrap();
        let trace = net.forward(&image).unwrap();
        let want = deconvnet::deconv(&net, &trace, "conv1", 4, Unit::Max).unwrap();
        assert_eq!(want.position, p.position);
        assert_eq!(search.projection(&net, &image, 4, p).unwrap(), want.map);
        // pool1's field is 6 pixels wide, starting 2 above and left of twice the unit's position.
        assert_eq!(search.crop_size(), 6);
        let (y, x) = p.position.unwrap();
        let crop = search.crop(image.data(), p);
        for ty in 0..6 {
            for tx in 0..6 {
                let (sy, sx) = ((2 * y + ty) as i64 - 2, (2 * x + tx) as i64 - 2);
                let inside = (0..28).contains(&sy) && (0..28).contains(&sx);
                let want = if inside {
                    image.data()[sy as usize * 28 + sx as usize]
                } else {
                    0.0
                };
                assert_eq!(crop[ty * 6 + tx], want, "({ty}, {tx})");
            }
        }
    }

    #[test]
    fn layers_without_units_to_rank_are_refused() {
        let net = mnist_lenet(0);
        for bad in ["relu1", "log_softmax", "nope"] {
            assert!(PatchSearch::new(&net, bad, 9, 10).is_err(), "{bad}");
        }
        let e = PatchSearch::new(&net, "relu1", 9, 10)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("usable: conv1, conv2, flatten, fc1"), "{e}");
        assert!(PatchSearch::new(&net, "fc1", 0, 10).is_err());
        assert!(PatchSearch::new(&net, "fc1", 101, 10).is_err());
    }
}
