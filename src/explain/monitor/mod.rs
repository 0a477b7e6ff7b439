//! Runtime monitoring of neuron activation patterns (Cheng, Nührenberg & Yasuoka, "Runtime Monitoring Neuron
//! Activation Patterns", DATE 2019), with stronger detectors on the same layer for comparison.
//!
//! **Build.** Every training image goes through the network; for each one it classifies correctly, the on/off
//! pattern `p(x) ∈ {0,1}ⁿ` of the monitored layer (`p_i = [x_i > 0]`; by default the 84 units of `fc2`,
//! whose signs are exactly the on/off states of the following ReLU) joins the set `S_c` of its class `c`.
//!
//! **Query.** For an input predicted as class `c`, `d = min_{s ∈ S_c} Hamming(p(x), s)`. The monitor warns
//! when `d > γ`. This is the paper's γ-enlargement, exactly: the comfort zone of class `c` is every pattern
//! within Hamming distance γ of a recorded one, and `p(x)` lies in it if and only if `d ≤ γ`. The default γ
//! is calibrated on training data ([`GammaChoice::Calibrated`]): the smallest γ at which at most 7% of
//! held-out training images warn.
//!
//! The default layer is the paper's: `fc2`, the last hidden layer (84 units). The shipped LeNet-5 is trained
//! with dropout on its hidden fully connected layers (`train::dropout`), which makes these patterns stable
//! enough for the monitor: without it, no γ on `fc2` or `fc1` warned on ≤ 7% of MNIST t10k while catching
//! ≥ 75% of its misclassifications. `docs/monitor.md` has the tables.
//!
//! **Beyond the paper**, on the real-valued activations of the same layer and the same training images:
//! per-class k-means boxes ([`boxes`], Henzinger et al. 2020) and class-conditional Gaussians with a shared
//! covariance ([`mahalanobis`], Lee et al. 2018); and the max-softmax baseline (Hendrycks & Gimpel 2017).
//! [`eval`] compares them by AUROC and tabulates the paper's γ table. Both real-valued detectors see the
//! activation vector scaled to unit length, `x / ‖x‖₂` ([`features`], as in SSD, Sehwag et al. 2021): the
//! length of `x` grows with the network's confidence, and without the scaling confidently classified test
//! digits land far from the class means (on a 98.9%-accurate LeNet-5, MNIST vs Fashion-MNIST AUROC of the
//! Mahalanobis score on `fc2` is 0.83 raw and 0.99 scaled).
//!
//! Shapes: the monitored layer's output, whatever its shape (`[84]`, or `[16, 5, 5]` for a pooled conv
//! layer), is read flat in row-major order as `n` neurons. The whole monitor is one versioned binary file
//! ([`file`]).

pub mod boxes;
pub mod eval;
pub mod file;
pub mod mahalanobis;
pub mod pattern;

use crate::catalogue::options::{Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::io::idx::IdxImages;
use crate::model::network::{Layer, Network, Trace};
use boxes::Boxes;
use eval::Scores;
use mahalanobis::Mahalanobis;
use pattern::{Nearest, PatternSet};
use serde_json::json;

/// The layer monitored unless another is named: LeNet-5's last hidden layer (84 units), as in the paper.
pub const DEFAULT_LAYER: &str = "fc2";
/// The share of held-out training images allowed to warn when γ is calibrated (the default).
pub const DEFAULT_WARNING_RATE: f64 = 0.07;
/// Every `HOLD_OUT_EVERY`-th training image is held out of the pattern sets while γ is calibrated.
pub const HOLD_OUT_EVERY: usize = 10;
/// k-means clusters per class for the box abstraction.
pub const DEFAULT_CLUSTERS: usize = 10;
/// The monitor file's name in the manifest's `"monitor"` entry.
pub const FORMAT: &str = "convscope-monitor";

/// The Hamming distance above which the monitor warns; not given = the monitor's own γ.
pub const GAMMA: OptionSpec = OptionSpec {
    key: "gamma",
    flag: "gamma",
    label: "γ",
    help: "warn when the nearest training pattern differs in more than γ neurons; empty = the monitor's γ",
    kind: Kind::Int {
        min: 0,
        max: None,
        default: None,
    },
    common: false,
    required: false,
};

pub const TECHNIQUE: Technique = Technique {
    id: "monitor-check",
    label: "Runtime monitor",
    family: Family::Monitor,
    command: "monitor check",
    output: OutputKind::Table,
    long_running: false,
    stateful: Some("a monitor file built once from the training set (convscope monitor build)"),
    summary: "A warning when the image switches the network's neurons on and off in a way no training image \
              of the predicted class did.",
    explanation: "The on/off pattern of a hidden layer's neurons is compared with the patterns recorded for \
                  the predicted class on the correctly classified training images; the monitor warns when \
                  the nearest one is more than γ neurons away (Hamming distance).",
    paper: Some(Paper {
        title: "Runtime Monitoring Neuron Activation Patterns",
        authors: "Cheng, Nührenberg & Yasuoka",
        year: 2019,
        url: "https://arxiv.org/abs/1809.06573",
    }),
    options: &[GAMMA],
};

/// How the monitor's default γ is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GammaChoice {
    /// This γ.
    Fixed(u32),
    /// The smallest γ at which at most `warning_rate` of the held-out training images warn: every
    /// [`HOLD_OUT_EVERY`]-th image is left out of the pattern sets, its distance to the others' patterns
    /// measured, and then its pattern is recorded too. The choice sees training data only, never the test set.
    Calibrated { warning_rate: f64 },
}

/// How to build a monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildOptions {
    pub layer: String,
    pub gamma: GammaChoice,
    pub clusters: usize,
    pub seed: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            layer: DEFAULT_LAYER.to_string(),
            gamma: GammaChoice::Calibrated {
                warning_rate: DEFAULT_WARNING_RATE,
            },
            clusters: DEFAULT_CLUSTERS,
            seed: 0,
        }
    }
}

/// How a calibrated γ was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Training images held out (correctly classified or not).
    pub held_out: usize,
    /// Of those, how many warn at the chosen γ.
    pub warned: usize,
    /// The warning rate asked for.
    pub target: f64,
}

/// What the build saw.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildStats {
    /// Training images run through the network.
    pub images: usize,
    /// Correctly classified training images per class (the images whose patterns were recorded).
    pub correct: Vec<usize>,
    /// k-means clusters requested per class.
    pub clusters: usize,
    /// How γ was calibrated (`None` for a fixed γ).
    pub calibration: Option<Calibration>,
}

/// The monitor of one layer: per-class pattern sets and the statistics of the other detectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    layer: String,
    neurons: usize,
    gamma: u32,
    /// [`fingerprint`] of the network the monitor was built with.
    model: u64,
    stats: BuildStats,
    patterns: Vec<PatternSet>,
    boxes: Boxes,
    mahalanobis: Mahalanobis,
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The predicted class.
    pub label: usize,
    pub gamma: u32,
    /// Hamming distance to the nearest recorded pattern of `label`; `None` when no training image of that class
    /// was classified correctly (the monitor then always warns).
    pub distance: Option<u32>,
    /// `distance > gamma`.
    pub warn: bool,
    /// The input's packed pattern.
    pub pattern: Vec<u64>,
    /// The nearest recorded pattern of `label`, packed.
    pub nearest: Option<Vec<u64>>,
}

/// Index and width of a layer a monitor can watch, or why it cannot.
fn monitored_layer(net: &Network, name: &str) -> std::result::Result<(usize, usize), String> {
    let layers = net.layers();
    let Some((index, layer)) = layers.iter().enumerate().find(|(_, l)| l.name == name) else {
        let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        return Err(format!("no layer named {name:?}; the layers are {names:?}"));
    };
    if matches!(layer.layer, Layer::LogSoftmax) {
        return Err(format!(
            "layer {name:?} is a log-softmax: its outputs are never positive, so it has no on/off pattern"
        ));
    }
    let neurons: usize = layer.output_shape.iter().product();
    if neurons == 0 {
        return Err(format!("layer {name:?} has no outputs to monitor"));
    }
    if neurons > file::MAX_NEURONS {
        return Err(format!(
            "layer {name:?} has {neurons} outputs; a monitor watches at most {} (pick a pooled or fully \
             connected layer)",
            file::MAX_NEURONS
        ));
    }
    Ok((index, neurons))
}

/// The smallest γ ≤ `neurons` at which at most `warning_rate` of the held-out `distances` exceed it (`None`:
/// no recorded pattern, always a warning), with the number that still warn.
fn calibrate(distances: &[Option<u32>], neurons: usize, warning_rate: f64) -> Result<(u32, usize)> {
    if distances.is_empty() {
        return Err(Error::option(
            "warning-rate",
            format!("too few images to calibrate γ (every {HOLD_OUT_EVERY}th is held out): give a fixed γ"),
        ));
    }
    let allowed = (warning_rate * distances.len() as f64).floor() as usize;
    let warned_at = |gamma: u32| {
        distances
            .iter()
            .filter(|d| d.map_or(true, |d| d > gamma))
            .count()
    };
    let max = neurons as u32;
    let gamma = (0..=max).find(|&g| warned_at(g) <= allowed).unwrap_or(max);
    Ok((gamma, warned_at(gamma)))
}

/// A 64-bit FNV-1a hash of everything that decides a network's activations: the layer names and kinds, the
/// normalization and the bits of every weight and bias, in layer order.
pub fn fingerprint(net: &Network) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    if let Some(n) = &net.manifest().normalization {
        for v in n.mean.iter().chain(&n.std) {
            feed(&v.to_le_bytes());
        }
    }
    for layer in net.layers() {
        feed(layer.name.as_bytes());
        feed(layer.layer.type_name().as_bytes());
        if let Some((weight, bias)) = layer.layer.params() {
            for v in weight.iter().chain(bias) {
                feed(&v.to_le_bytes());
            }
        }
    }
    hash
}

/// What the real-valued detectors see: the activations scaled to unit Euclidean length (all zeros stay zero).
pub fn features(values: &[f32]) -> Vec<f32> {
    let length = values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt();
    if length > 0.0 && length.is_finite() {
        values
            .iter()
            .map(|&v| (f64::from(v) / length) as f32)
            .collect()
    } else {
        values.to_vec()
    }
}

/// What one pass over the training images records: per class, the [`features`] of every correctly
/// classified image (flattened) and the packed patterns to keep; and the held-out images as
/// (predicted class, pattern, whether it is correct).
struct Recorded {
    activations: Vec<Vec<f32>>,
    packed: Vec<Vec<u64>>,
    kept_apart: Vec<(usize, Vec<u64>, bool)>,
}

/// Errors when `options` cannot build a monitor of `net` from these images; else the monitored layer's
/// index and width.
fn check_build(
    net: &Network,
    images: &IdxImages,
    labels: &[u8],
    options: &BuildOptions,
) -> Result<(usize, usize)> {
    let (index, neurons) =
        monitored_layer(net, &options.layer).map_err(|reason| Error::option("layer", reason))?;
    let classes = net.labels().len();
    if classes == 0 || classes > file::MAX_CLASSES {
        return Err(Error::out_of_range(
            "number of classes of the model",
            classes,
            format!("1 to {} for a monitor", file::MAX_CLASSES),
        ));
    }
    if labels.len() != images.count {
        return Err(Error::option(
            "labels",
            format!("{} images but {} labels", images.count, labels.len()),
        ));
    }
    if images.count > u32::MAX as usize {
        return Err(Error::out_of_range(
            "number of training images",
            images.count,
            "at most 2³²",
        ));
    }
    match options.gamma {
        GammaChoice::Fixed(gamma) if gamma as usize > neurons => {
            return Err(Error::out_of_range(
                "γ",
                gamma,
                format!("0 to the layer's {neurons} neurons"),
            ))
        }
        GammaChoice::Calibrated { warning_rate } if !(0.0..=1.0).contains(&warning_rate) => {
            return Err(Error::out_of_range(
                "target warning rate",
                warning_rate,
                "0 to 1",
            ))
        }
        _ => {}
    }
    if options.clusters == 0 || options.clusters > file::MAX_CLUSTERS {
        return Err(Error::out_of_range(
            "number of clusters",
            options.clusters,
            format!("1 to {}", file::MAX_CLUSTERS),
        ));
    }
    Ok((index, neurons))
}

/// Runs every image through `net` and records layer `index` (see [`Recorded`]); when `calibrating`, every
/// [`HOLD_OUT_EVERY`]th image is held out of the pattern sets.
fn record(
    net: &Network,
    images: &IdxImages,
    labels: &[u8],
    index: usize,
    calibrating: bool,
) -> Result<Recorded> {
    let classes = net.labels().len();
    let held_out = |i: usize| calibrating && i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1;
    let mut activations = vec![Vec::new(); classes];
    let mut packed = vec![Vec::new(); classes];
    let mut kept_apart: Vec<(usize, Vec<u64>, bool)> = Vec::new();
    for (i, &label) in labels.iter().enumerate() {
        let label = usize::from(label);
        if label >= classes {
            return Err(Error::option(
                "labels",
                format!("label {label} of image {i} is not a class of the model (0..{classes})"),
            ));
        }
        let trace = net.forward(&images.image(i)?)?;
        let predicted = trace.prediction().label;
        let values = trace.output(index)?.data();
        if held_out(i) {
            kept_apart.push((predicted, pattern::pack(values), predicted == label));
        }
        if predicted != label {
            continue;
        }
        activations[label].extend(features(values));
        if !held_out(i) {
            packed[label].extend(pattern::pack(values));
        }
    }
    Ok(Recorded {
        activations,
        packed,
        kept_apart,
    })
}

/// The default γ: the fixed one, or the one calibrated on the held-out images (which then join the
/// pattern sets of their predicted class when they are correct).
fn choose_gamma(
    choice: GammaChoice,
    packed: &mut [Vec<u64>],
    kept_apart: Vec<(usize, Vec<u64>, bool)>,
    neurons: usize,
) -> Result<(u32, Option<Calibration>)> {
    let words = pattern::words_for(neurons);
    match choice {
        GammaChoice::Fixed(gamma) => Ok((gamma, None)),
        GammaChoice::Calibrated { warning_rate } => {
            let sets: Vec<PatternSet> = packed
                .iter()
                .map(|rows| PatternSet::from_rows(words, rows))
                .collect();
            let distances: Vec<Option<u32>> = kept_apart
                .iter()
                .map(|(predicted, p, _)| Some(sets.get(*predicted)?.nearest(p)?.distance))
                .collect();
            let (gamma, warned) = calibrate(&distances, neurons, warning_rate)?;
            for (predicted, p, correct) in kept_apart {
                if correct {
                    packed[predicted].extend(p);
                }
            }
            let calibration = Calibration {
                held_out: distances.len(),
                warned,
                target: warning_rate,
            };
            Ok((gamma, Some(calibration)))
        }
    }
}

impl Monitor {
    /// Runs `images` through `net` and records, for every correctly classified one, its pattern and its
    /// [`features`] under its class.
    pub fn build(
        net: &Network,
        images: &IdxImages,
        labels: &[u8],
        options: &BuildOptions,
    ) -> Result<Monitor> {
        let (index, neurons) = check_build(net, images, labels, options)?;
        let calibrating = matches!(options.gamma, GammaChoice::Calibrated { .. });
        let Recorded {
            activations,
            mut packed,
            kept_apart,
        } = record(net, images, labels, index, calibrating)?;
        let correct: Vec<usize> = activations.iter().map(|a| a.len() / neurons).collect();
        if correct.iter().all(|&c| c == 0) {
            return Err(Error::option(
                "images",
                "the network classifies none of the images correctly: nothing to record",
            ));
        }
        let (gamma, calibration) = choose_gamma(options.gamma, &mut packed, kept_apart, neurons)?;
        let words = pattern::words_for(neurons);
        Ok(Monitor {
            layer: options.layer.clone(),
            neurons,
            gamma,
            model: fingerprint(net),
            stats: BuildStats {
                images: images.count,
                correct,
                clusters: options.clusters,
                calibration,
            },
            patterns: packed
                .iter()
                .map(|rows| PatternSet::from_rows(words, rows))
                .collect(),
            boxes: Boxes::build(neurons, &activations, options.clusters, options.seed)?,
            mahalanobis: Mahalanobis::build(neurons, &activations)?,
        })
    }

    /// Parses a monitor file (see [`file`]); check it against the network with [`Monitor::layer_index`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Monitor> {
        file::decode(bytes)
    }

    /// Parses a monitor file and checks that it was built for `net`: the layer and classes fit, and the
    /// weights are the same ([`fingerprint`]), so a monitor left over from an earlier training run is refused.
    pub fn load(bytes: &[u8], net: &Network) -> Result<Monitor> {
        let monitor = Monitor::from_bytes(bytes)?;
        monitor.layer_index(net)?;
        let model = fingerprint(net);
        if model != monitor.model {
            return Err(Error::monitor(format!(
                "it was built for other weights (model fingerprint {:016x}, this model's is {model:016x})",
                monitor.model
            )));
        }
        Ok(monitor)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        file::encode(self)
    }

    /// [`fingerprint`] of the network the monitor was built with.
    pub fn model_fingerprint(&self) -> u64 {
        self.model
    }
    /// The monitored layer's name.
    pub fn layer(&self) -> &str {
        &self.layer
    }
    pub fn neurons(&self) -> usize {
        self.neurons
    }
    /// The default γ.
    pub fn gamma(&self) -> u32 {
        self.gamma
    }
    pub fn classes(&self) -> usize {
        self.patterns.len()
    }
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }
    /// The recorded patterns of `class`.
    pub fn patterns(&self, class: usize) -> Option<&PatternSet> {
        self.patterns.get(class)
    }
    pub fn boxes(&self) -> &Boxes {
        &self.boxes
    }
    pub fn mahalanobis(&self) -> &Mahalanobis {
        &self.mahalanobis
    }

    /// Index of the monitored layer in `net`, checking that the monitor was built for a network like it
    /// (layer present and watchable, same width, same number of classes).
    pub fn layer_index(&self, net: &Network) -> Result<usize> {
        let (index, neurons) = monitored_layer(net, &self.layer)
            .map_err(|reason| Error::monitor(format!("it does not fit this model: {reason}")))?;
        if neurons != self.neurons {
            return Err(Error::monitor(format!(
                "it watches {} neurons of layer {:?}, but this model's layer has {neurons}",
                self.neurons, self.layer
            )));
        }
        if net.labels().len() != self.classes() {
            return Err(Error::monitor(format!(
                "it was built for {} classes, this model has {}",
                self.classes(),
                net.labels().len()
            )));
        }
        Ok(index)
    }

    /// The monitored layer's values in a forward trace of `net`.
    pub fn activations<'t>(&self, net: &Network, trace: &'t Trace) -> Result<&'t [f32]> {
        let index = self.layer_index(net)?;
        trace.output(index).map(|t| t.data())
    }

    /// The nearest recorded pattern of `class` to a packed pattern.
    pub fn nearest(&self, class: usize, pattern: &[u64]) -> Option<Nearest> {
        self.patterns.get(class)?.nearest(pattern)
    }

    /// The pattern monitor's verdict for a packed pattern predicted as `label`, with γ (default: the
    /// monitor's).
    pub fn check_pattern(&self, label: usize, pattern: Vec<u64>, gamma: Option<u32>) -> Check {
        let gamma = gamma.unwrap_or(self.gamma);
        let nearest = self.nearest(label, &pattern);
        let distance = nearest.map(|n| n.distance);
        Check {
            label,
            gamma,
            distance,
            warn: distance.map_or(true, |d| d > gamma),
            nearest: nearest.and_then(|n| Some(self.patterns.get(label)?.get(n.index)?.to_vec())),
            pattern,
        }
    }

    /// The pattern monitor's verdict on a forward trace of `net`.
    pub fn check(&self, net: &Network, trace: &Trace, gamma: Option<u32>) -> Result<Check> {
        let values = self.activations(net, trace)?;
        let label = trace.prediction().label;
        Ok(self.check_pattern(label, pattern::pack(values), gamma))
    }

    /// Every detector's score on a forward trace of `net` (larger = more unusual; see [`eval::Detector`]).
    pub fn scores(&self, net: &Network, trace: &Trace) -> Result<Scores> {
        let values = self.activations(net, trace)?;
        let prediction = trace.prediction();
        let label = prediction.label;
        let distance = self
            .nearest(label, &pattern::pack(values))
            .map(|n| n.distance);
        let logits = &prediction.logits;
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let max_softmax = logits
            .iter()
            .map(|&z| (f64::from(z) - f64::from(max)).exp())
            .sum::<f64>()
            .ln();
        let features = features(values);
        Ok(Scores {
            // No recorded pattern: farther than any pattern can be.
            pattern: f64::from(distance.unwrap_or(self.neurons as u32 + 1)),
            r#box: self.boxes.score(label, &features),
            mahalanobis: self.mahalanobis.score(&features),
            max_softmax,
        })
    }

    /// The `"monitor"` entry of the model manifest: the file (relative to the manifest), the layer, the default
    /// γ and the build statistics.
    pub fn manifest_entry(&self, file: &str) -> serde_json::Value {
        let per_class: Vec<serde_json::Value> = self
            .stats
            .correct
            .iter()
            .zip(&self.patterns)
            .zip(self.boxes.classes())
            .map(|((correct, set), boxes)| {
                json!({"correct": correct, "patterns": set.len(), "boxes": boxes.count(self.neurons)})
            })
            .collect();
        json!({
            "file": file,
            "format": FORMAT,
            "version": file::VERSION,
            "layer": self.layer,
            "neurons": self.neurons,
            "gamma": self.gamma,
            "model_fingerprint": format!("{:016x}", self.model),
            "build": {
                "images": self.stats.images,
                "correct": self.stats.correct.iter().sum::<usize>(),
                "patterns": self.patterns.iter().map(PatternSet::len).sum::<usize>(),
                "clusters": self.stats.clusters,
                "gamma_calibration": self.stats.calibration.map(|c| json!({
                    "held_out": c.held_out,
                    "warned": c.warned,
                    "target_warning_rate": c.target,
                })),
                "per_class": per_class,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_picks_the_smallest_gamma_within_the_allowed_warnings() {
        // Distances 0, 1, 3 and one input without any recorded pattern (always warns); 4 held out.
        let d = [Some(0), Some(1), Some(3), None];
        // At most 25% (one) may warn: γ = 3 leaves only the unmatched one.
        assert_eq!(calibrate(&d, 5, 0.25).unwrap(), (3, 1));
        // Half may warn: γ = 1 (3 and None warn).
        assert_eq!(calibrate(&d, 5, 0.5).unwrap(), (1, 2));
        // None allowed is impossible here: γ = n, with the unmatched input still warning.
        assert_eq!(calibrate(&d, 5, 0.0).unwrap(), (5, 1));
        assert!(calibrate(&[], 5, 0.1).is_err());
    }
}
