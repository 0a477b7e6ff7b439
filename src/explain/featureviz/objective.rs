//! Objectives: what an optimized image should make the network do, as a small algebra after Lucid's
//! `objectives` (Olah et al. 2017). An [`Objective`] is a weighted sum of terms, each a function of the
//! forward passes of a batch of images; the optimizer climbs it.
//!
//! ```text
//! channel(L, k)         mean over positions of channel k of layer L's output       (a conv feature)
//! unit(L, k, y, x)      L's output at channel k, row y, column x                     (one spatial unit)
//! neuron(L, i)          value i of L's (flat) output                                 (an fc unit)
//! class_logit(k)        the class score before the softmax
//! class_log_prob(k)     log p(k), the network's log_softmax output
//! energy(L)             mean of the squares of L's output                            (DeepDream)
//! feature_match(L, Φ₀)  −‖Φ_L(x) − Φ₀‖² / ‖Φ₀‖²                                      (feature inversion)
//! diversity(L)          −1/B Σ_i Σ_{j≠i} cos(G_i, G_j), G_i the Gram matrix of image i at L
//! ```
//!
//! Terms combine with `+`, `-`, unary `-` and `weight * objective`: `channel("conv2", 5) - 0.5 *
//! diversity("conv1")`. Every term but diversity applies to each image of the batch and is summed over it.
//! Layers are named by their manifest name and mean that layer's output.
//!
//! **Dead ReLUs.** A channel, unit or neuron term on a layer behind a ReLU (the ReLU itself, or a max-pool
//! after it) has no gradient while its units are all zero: the optimizer would never move. While the
//! selected units are all ≤ 0, the term is evaluated on the pre-activation instead (the conv or linear layer
//! before the ReLU: the same units, or the channel mean when pooling changed the shape) and counts with that
//! value; once the units come alive the term is the one asked for. A feature match behind a ReLU likewise
//! pulls the units that its target has on and the image has off up through the pre-activation (see
//! `revive`); both pulls are deliberate departures from the true gradient, taken only at dead units.

use crate::error::{Error, Result};
use crate::explain::gram;
use crate::layers::relu::ReluRule;
use crate::layers::Layer;
use crate::model::network::Network;
use crate::model::trace::Trace;
use crate::tensor::Tensor;
use std::collections::BTreeMap;
use std::ops::{Add, Mul, Neg, Sub};

/// One term of an objective; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Channel {
        layer: String,
        channel: usize,
        unit: Option<(usize, usize)>,
    },
    Neuron {
        layer: String,
        index: usize,
    },
    Class {
        class: usize,
        log_prob: bool,
    },
    Energy {
        layer: String,
    },
    FeatureMatch {
        layer: String,
        target: Tensor,
    },
    Diversity {
        layer: String,
    },
}

/// A weighted sum of terms, maximized by the optimizer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Objective {
    pub terms: Vec<(f64, Term)>,
}

impl From<Term> for Objective {
    fn from(term: Term) -> Objective {
        Objective {
            terms: vec![(1.0, term)],
        }
    }
}

impl Objective {
    /// Mean over positions of channel `channel` of `layer`'s output.
    pub fn channel(layer: &str, channel: usize) -> Objective {
        Term::Channel {
            layer: layer.to_string(),
            channel,
            unit: None,
        }
        .into()
    }
    /// `layer`'s output at channel `channel`, row `y`, column `x`.
    pub fn unit(layer: &str, channel: usize, y: usize, x: usize) -> Objective {
        Term::Channel {
            layer: layer.to_string(),
            channel,
            unit: Some((y, x)),
        }
        .into()
    }
    /// Value `index` of `layer`'s output (an fc neuron).
    pub fn neuron(layer: &str, index: usize) -> Objective {
        Term::Neuron {
            layer: layer.to_string(),
            index,
        }
        .into()
    }
    /// The score of class `class` before the softmax.
    pub fn class_logit(class: usize) -> Objective {
        Term::Class {
            class,
            log_prob: false,
        }
        .into()
    }
    /// The log-probability of class `class`.
    pub fn class_log_prob(class: usize) -> Objective {
        Term::Class {
            class,
            log_prob: true,
        }
        .into()
    }
    /// Mean of the squares of `layer`'s output.
    pub fn energy(layer: &str) -> Objective {
        Term::Energy {
            layer: layer.to_string(),
        }
        .into()
    }
    /// `−‖Φ(x) − Φ₀‖² / ‖Φ₀‖²` at `layer`, `Φ₀ = target`.
    pub fn feature_match(layer: &str, target: Tensor) -> Objective {
        Term::FeatureMatch {
            layer: layer.to_string(),
            target,
        }
        .into()
    }
    /// Lucid's diversity of a batch at `layer` (a conv layer).
    pub fn diversity(layer: &str) -> Objective {
        Term::Diversity {
            layer: layer.to_string(),
        }
        .into()
    }

    /// Reads the CLI's notation: `class:K`, `logprob:K`, `L:K` (a channel mean when `L`'s output is a map,
    /// a neuron when it is a vector) or `L:K@Y,X` (one unit of a map).
    pub fn parse(spec: &str, net: &Network) -> Result<Objective> {
        let bad = |why: &str| Error::option("objective", format!("{spec:?}: {why}"));
        let (name, rest) = spec
            .split_once(':')
            .ok_or_else(|| bad("use class:K, logprob:K, LAYER:K or LAYER:K@Y,X"))?;
        let (index, unit) = match rest.split_once('@') {
            Some((k, at)) => {
                let (y, x) = at.split_once(',').ok_or_else(|| bad("a unit is @Y,X"))?;
                let number = |s: &str| {
                    s.trim()
                        .parse::<usize>()
                        .map_err(|_| bad("not a whole number"))
                };
                (k, Some((number(y)?, number(x)?)))
            }
            None => (rest, None),
        };
        let k: usize = index
            .trim()
            .parse()
            .map_err(|_| bad("not a whole number"))?;
        Ok(match (name, unit) {
            ("class", None) => Objective::class_logit(k),
            ("logprob", None) => Objective::class_log_prob(k),
            (layer, Some((y, x))) => Objective::unit(layer, k, y, x),
            (layer, None) => {
                let i = layer_index(net, layer)?;
                match net.layers()[i].output_shape.len() {
                    3 => Objective::channel(layer, k),
                    _ => Objective::neuron(layer, k),
                }
            }
        })
    }
}

impl Add for Objective {
    type Output = Objective;
    fn add(mut self, other: Objective) -> Objective {
        self.terms.extend(other.terms);
        self
    }
}

impl Mul<Objective> for f64 {
    type Output = Objective;
    fn mul(self, mut objective: Objective) -> Objective {
        objective.terms.iter_mut().for_each(|(w, _)| *w *= self);
        objective
    }
}

impl Neg for Objective {
    type Output = Objective;
    fn neg(self) -> Objective {
        -1.0 * self
    }
}

impl Sub for Objective {
    type Output = Objective;
    fn sub(self, other: Objective) -> Objective {
        self + -other
    }
}

pub(super) fn layer_index(net: &Network, name: &str) -> Result<usize> {
    let names: Vec<&str> = net.layers().iter().map(|l| l.name.as_str()).collect();
    names
        .iter()
        .position(|n| *n == name)
        .ok_or_else(|| Error::unknown("layer", name, &names))
}

/// What a resolved term reads at its layer.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Channel `channel` of a map: its mean, or one unit.
    Region {
        channel: usize,
        unit: Option<(usize, usize)>,
    },
    /// One value of the flat output.
    Value(usize),
    Energy,
    /// The target features and `‖Φ₀‖²`.
    Match(Tensor, f64),
    Diversity,
}

/// A term checked against a network: its layer index and, for a term behind a ReLU, the pre-activation to
/// climb while the term's units are dead.
#[derive(Debug, Clone, PartialEq)]
struct Resolved {
    weight: f64,
    layer: usize,
    kind: Kind,
    fallback: Option<(usize, Kind)>,
    /// The pre-activation layer, for a term behind a ReLU.
    pre: Option<usize>,
}

/// An objective checked against one network, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    terms: Vec<Resolved>,
}

/// Per layer, the signal at that layer's output for each image of the batch.
pub type Signals = BTreeMap<usize, Vec<Tensor>>;

impl Objective {
    /// Checks every layer, channel, unit and target against `net`.
    pub fn bind(&self, net: &Network) -> Result<Bound> {
        if self.terms.is_empty() {
            return Err(Error::option(
                "objective",
                "an objective needs at least one term",
            ));
        }
        let terms = self
            .terms
            .iter()
            .map(|(weight, term)| {
                if !weight.is_finite() {
                    return Err(Error::out_of_range(
                        "objective weight",
                        weight,
                        "a finite number",
                    ));
                }
                resolve(net, *weight, term)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Bound { terms })
    }
}

fn resolve(net: &Network, weight: f64, term: &Term) -> Result<Resolved> {
    let (layer, kind) = match term {
        Term::Channel {
            layer,
            channel,
            unit,
        } => (
            layer_index(net, layer)?,
            Kind::Region {
                channel: *channel,
                unit: *unit,
            },
        ),
        Term::Neuron { layer, index } => (layer_index(net, layer)?, Kind::Value(*index)),
        Term::Class { class, log_prob } => {
            let (layer, _) = net.target_layer(*log_prob)?;
            (layer, Kind::Value(*class))
        }
        Term::Energy { layer } => (layer_index(net, layer)?, Kind::Energy),
        Term::FeatureMatch { layer, target } => {
            let norm: f64 = target.data().iter().map(|&v| (v as f64).powi(2)).sum();
            if norm == 0.0 || !norm.is_finite() {
                return Err(Error::option(
                    "target features",
                    "all zero or not finite: nothing to match",
                ));
            }
            (layer_index(net, layer)?, Kind::Match(target.clone(), norm))
        }
        Term::Diversity { layer } => (layer_index(net, layer)?, Kind::Diversity),
    };
    check_kind(net, layer, &kind)?;
    let pre = pre_activation(net, layer);
    let fallback = pre.and_then(|pre| lift(net, layer, pre, &kind));
    Ok(Resolved {
        weight,
        layer,
        kind,
        fallback,
        pre,
    })
}

fn check_kind(net: &Network, layer: usize, kind: &Kind) -> Result<()> {
    let l = &net.layers()[layer];
    let shape = l.output_shape.as_slice();
    let what = |w: &str| format!("{w} of {}", l.name);
    match (kind, shape) {
        (Kind::Region { channel, unit }, &[c, h, w]) => {
            if *channel >= c {
                return Err(Error::out_of_range(
                    what("channel"),
                    channel,
                    format!("0 to {}", c - 1),
                ));
            }
            match unit {
                Some((y, x)) if *y >= h || *x >= w => Err(Error::out_of_range(
                    what("unit"),
                    format!("{y},{x}"),
                    format!("rows 0 to {}, columns 0 to {}", h - 1, w - 1),
                )),
                _ => Ok(()),
            }
        }
        (Kind::Region { .. }, _) | (Kind::Diversity, &[_]) => Err(Error::option(
            "objective",
            format!("{} has no feature maps (output shape {shape:?})", l.name),
        )),
        (Kind::Value(i), _) => {
            let n: usize = shape.iter().product();
            if *i >= n {
                return Err(Error::out_of_range(
                    what("index"),
                    i,
                    format!("0 to {}", n - 1),
                ));
            }
            Ok(())
        }
        (Kind::Match(target, _), _) if target.shape() != shape => {
            Err(Error::shape(what("target features"), shape, target.shape()))
        }
        _ => Ok(()),
    }
}

/// The conv or linear layer whose output reaches `layer` through a ReLU and then only ReLUs and max-pools;
/// `None` when no ReLU lies in between.
fn pre_activation(net: &Network, layer: usize) -> Option<usize> {
    let layers = net.layers();
    let mut seen_relu = false;
    for i in (0..=layer).rev() {
        match layers[i].layer {
            Layer::Relu => seen_relu = true,
            Layer::MaxPool2d(_) => {}
            Layer::Conv2d { .. } | Layer::Linear { .. } if seen_relu && i < layer => {
                return Some(i)
            }
            _ => return None,
        }
    }
    None
}

/// The same units at the pre-activation `pre`, for the terms that select units.
fn lift(net: &Network, layer: usize, pre: usize, kind: &Kind) -> Option<(usize, Kind)> {
    let same_shape = net.layers()[layer].output_shape == net.layers()[pre].output_shape;
    match kind {
        Kind::Value(_) | Kind::Region { .. } if same_shape => Some((pre, kind.clone())),
        Kind::Region { channel, .. } => Some((
            pre,
            Kind::Region {
                channel: *channel,
                unit: None,
            },
        )),
        _ => None,
    }
}

/// The selected values of a unit-selecting term (`None` for the others).
fn selection<'a>(kind: &Kind, a: &'a Tensor) -> Option<&'a [f32]> {
    let (_, h, w) = a.chw().unwrap_or((1, 1, a.len()));
    match kind {
        Kind::Region {
            channel,
            unit: None,
        } => a.data().get(channel * h * w..(channel + 1) * h * w),
        Kind::Region {
            channel,
            unit: Some((y, x)),
        } => a.data().get(channel * h * w + y * w + x..).map(|s| &s[..1]),
        Kind::Value(i) => a.data().get(*i..*i + 1),
        _ => None,
    }
}

/// A per-image term's value at output `a` and its gradient with respect to `a`, scaled by `weight`.
fn per_image(kind: &Kind, a: &Tensor, weight: f64, grad: &mut Tensor) -> Result<f64> {
    let data = a.data();
    let g = grad.data_mut();
    let (_, h, w) = a.chw().unwrap_or((1, 1, a.len()));
    Ok(match kind {
        Kind::Region {
            channel,
            unit: None,
        } => {
            let range = channel * h * w..(channel + 1) * h * w;
            let share = weight / (h * w) as f64;
            g[range.clone()].iter_mut().for_each(|v| *v += share as f32);
            data[range].iter().map(|&v| v as f64).sum::<f64>() * share
        }
        Kind::Region {
            channel,
            unit: Some((y, x)),
        } => {
            let at = channel * h * w + y * w + x;
            g[at] += weight as f32;
            weight * data[at] as f64
        }
        Kind::Value(i) => {
            g[*i] += weight as f32;
            weight * data[*i] as f64
        }
        Kind::Energy => {
            let n = data.len() as f64;
            for (gv, &v) in g.iter_mut().zip(data) {
                *gv += (weight * 2.0 * v as f64 / n) as f32;
            }
            weight * data.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n
        }
        Kind::Match(target, norm) => {
            let mut sum = 0.0;
            for ((gv, &v), &t) in g.iter_mut().zip(data).zip(target.data()) {
                let d = v as f64 - t as f64;
                sum += d * d;
                *gv -= (weight * 2.0 * d / norm) as f32;
            }
            -weight * sum / norm
        }
        Kind::Diversity => return Err(Error::internal("diversity is a batch term")),
    })
}

/// The diversity of a batch at one layer; adds `weight·∂/∂a_b` to each image's signal.
fn diversity(outputs: &[&Tensor], weight: f64, grads: &mut [Tensor]) -> Result<f64> {
    let b = outputs.len();
    if b < 2 {
        return Ok(0.0);
    }
    let grams = outputs
        .iter()
        .map(|a| gram::gram(a))
        .collect::<Result<Vec<_>>>()?;
    let mut value = 0.0;
    for i in 0..b {
        let mut upstream = vec![0.0f32; grams[i].len()];
        for j in (0..b).filter(|&j| j != i) {
            let (cos, dcos) = gram::cosine(grams[i].data(), grams[j].data());
            value -= cos / b as f64;
            // Each unordered pair appears twice in the sum: the gradient of image i takes both.
            for (u, d) in upstream.iter_mut().zip(dcos) {
                *u -= (2.0 * weight / b as f64) as f32 * d;
            }
        }
        let upstream = Tensor::from_vec(grams[i].shape(), upstream)?;
        let back = gram::gram_backward(outputs[i], &upstream)?;
        crate::tensor::axpy(1.0, back.data(), grads[i].data_mut());
    }
    Ok(weight * value)
}

impl Bound {
    /// The objective's value over the forward passes `traces` (one per image) and the signals to send back
    /// from each layer it reads.
    pub fn evaluate(&self, net: &Network, traces: &[Trace]) -> Result<(f64, Signals)> {
        let mut signals = Signals::new();
        let mut value = 0.0;
        for term in &self.terms {
            if term.kind == Kind::Diversity {
                let outputs: Vec<&Tensor> =
                    traces.iter().map(|t| &t.outputs()[term.layer]).collect();
                let grads = layer_signals(&mut signals, net, term.layer, traces.len());
                value += diversity(&outputs, term.weight, grads)?;
                continue;
            }
            for (b, trace) in traces.iter().enumerate() {
                let a = &trace.outputs()[term.layer];
                let dead = selection(&term.kind, a).is_some_and(|s| s.iter().all(|&v| v <= 0.0));
                let (layer, kind) = match &term.fallback {
                    Some((pre, kind)) if dead => (*pre, kind),
                    _ => (term.layer, &term.kind),
                };
                let grads = layer_signals(&mut signals, net, layer, traces.len());
                value += per_image(kind, &trace.outputs()[layer], term.weight, &mut grads[b])?;
                if let (Kind::Match(target, norm), Some(pre)) = (&term.kind, term.pre) {
                    let lifted = revive(trace, term.layer, pre, target, term.weight / norm)?;
                    let grads = layer_signals(&mut signals, net, pre, traces.len());
                    crate::tensor::axpy(1.0, lifted.data(), grads[b].data_mut());
                }
            }
        }
        Ok((value, signals))
    }
}

/// The signal at the pre-activation `pre` that revives the dead units of a feature match at `layer`: the
/// units whose target is positive while the image gives 0 have no gradient through the ReLU, so their pull
/// `2·weight·(t − a)` (`weight = w/‖Φ₀‖²`) goes down through the pooling switches and past the ReLUs (the
/// deconvnet rule passes positive signals whatever the input) to the pre-activation. Zero when none is dead.
fn revive(trace: &Trace, layer: usize, pre: usize, target: &Tensor, weight: f64) -> Result<Tensor> {
    let a = &trace.outputs()[layer];
    let pull: Vec<f32> = a
        .data()
        .iter()
        .zip(target.data())
        .map(|(&v, &t)| {
            if v <= 0.0 && t > 0.0 {
                (2.0 * weight * (t - v) as f64) as f32
            } else {
                0.0
            }
        })
        .collect();
    let pull = Tensor::from_vec(a.shape(), pull)?;
    trace.backward(layer, pull, ReluRule::Deconvnet, Some(pre), None)
}

fn layer_signals<'s>(
    signals: &'s mut Signals,
    net: &Network,
    layer: usize,
    batch: usize,
) -> &'s mut Vec<Tensor> {
    signals
        .entry(layer)
        .or_insert_with(|| vec![Tensor::zeros(&net.layers()[layer].output_shape); batch])
}

/// The gradient with respect to the raw input pixels of each image, from the signals at several layers:
/// one backward pass per image from the deepest layer, adding each shallower layer's signal on the way down.
pub fn input_gradients(traces: &[Trace], mut signals: Signals) -> Result<Vec<Tensor>> {
    let mut carried: Option<(usize, Vec<Tensor>)> = None;
    while let Some((layer, mut gs)) = signals.pop_last() {
        if let Some((from, above)) = carried.take() {
            for ((g, a), trace) in gs.iter_mut().zip(above).zip(traces) {
                let back = trace.backward(from, a, ReluRule::Gradient, Some(layer), None)?;
                crate::tensor::axpy(1.0, back.data(), g.data_mut());
            }
        }
        carried = Some((layer, gs));
    }
    let (from, gs) = carried.ok_or_else(|| Error::internal("an objective without signals"))?;
    gs.into_iter()
        .zip(traces)
        .map(|(g, trace)| trace.backward(from, g, ReluRule::Gradient, None, None))
        .collect()
}
