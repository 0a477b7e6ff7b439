//! Training a response map, step by step ([`Training`]): first the forward passes over the sample inputs
//! (one unit of work per input), then the t-SNE iterations (one unit each).
//!
//! Shapes: activations `inputs × neurons` (row-major, one row per input), the correlation `kept × kept`,
//! the layout `kept × 2` in `[0, 1]²`.
//!
//! t-SNE's neighbour lists come from the dissimilarity `d_ij = 1 − r_ij`: each neuron's
//! `k = min(N − 1, ⌊3·perplexity + 1⌋)` nearest other neurons (ties to the lower index), with `d²` as the
//! distances of the affinities, as scikit-learn's Barnes-Hut `TSNE(metric="precomputed")` does (it squares
//! whatever the neighbour search returns). The map starts from seeded noise (PCA needs the points, which a
//! distance matrix does not give).

use super::{CORRELATION, ITERATIONS, LAYERS, MAX_NEURONS, PERPLEXITY, SEED, UNITS};
use crate::analysis::stats::{pearson, spearman};
use crate::analysis::tsne::{Tsne, TsneInit, TsneOptions};
use crate::catalogue::options::Values;
use crate::error::{Error, Result};
use crate::io::idx::IdxImages;
use crate::layers::Layer;
use crate::model::network::{Network, Trace};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The `format` of a map file.
pub const FORMAT: &str = "convscope-response-map";

/// How two neurons' activations are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Correlation {
    Pearson,
    Spearman,
}

impl FromStr for Correlation {
    type Err = Error;
    fn from_str(text: &str) -> Result<Correlation> {
        match text {
            "pearson" => Ok(Correlation::Pearson),
            "spearman" => Ok(Correlation::Spearman),
            other => Err(Error::unknown(
                "correlation",
                other,
                &["pearson", "spearman"],
            )),
        }
    }
}

impl Correlation {
    /// The `variables × variables` correlation of the columns of `x`.
    pub fn matrix(self, x: ArrayView2<f32>) -> Result<Array2<f64>> {
        match self {
            Correlation::Pearson => pearson(x),
            Correlation::Spearman => spearman(x),
        }
    }
}

/// What a neuron of a conv layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// One per channel: its mean over the positions.
    Mean,
    /// Every unit of the layer's output.
    All,
}

impl FromStr for Units {
    type Err = Error;
    fn from_str(text: &str) -> Result<Units> {
        match text {
            "mean" => Ok(Units::Mean),
            "all" => Ok(Units::All),
            other => Err(Error::unknown("units", other, &["mean", "all"])),
        }
    }
}

/// How a map was trained (stored in the map file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub layers: Vec<String>,
    /// Sample inputs (the first `count` of the set).
    pub count: usize,
    pub correlation: Correlation,
    pub units: Units,
    pub perplexity: f64,
    pub iterations: usize,
    pub seed: u64,
}

impl Settings {
    /// The settings the checked options give on `net` (layers: every conv2d and linear layer by default),
    /// for `count` inputs.
    pub fn from_values(net: &Network, values: &Values, count: usize) -> Result<Settings> {
        let layers = match values.texts(&LAYERS) {
            Some(list) => list.to_vec(),
            None => net
                .layers()
                .iter()
                .filter(|l| matches!(l.layer, Layer::Conv2d { .. } | Layer::Linear { .. }))
                .map(|l| l.name.clone())
                .collect(),
        };
        Ok(Settings {
            layers,
            count,
            correlation: values.text_or_default(&CORRELATION).parse()?,
            units: values.text_or_default(&UNITS).parse()?,
            perplexity: values.float_or_default(&PERPLEXITY),
            iterations: values.usize_or_default(&ITERATIONS),
            seed: values.int(&SEED).unwrap_or(SEED.int_default()),
        })
    }
}

/// One neuron of the map: `unit` is the channel (conv layers, [`Units::Mean`]) or the flat index into the
/// layer's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neuron {
    /// `layer:unit`, with `@y,x` for a conv unit under [`Units::All`].
    pub id: String,
    pub layer: String,
    pub unit: usize,
}

/// A trained response map (the map file's content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseMap {
    pub format: String,
    pub version: u32,
    pub settings: Settings,
    /// The neurons kept (those that vary over the inputs), in layer order.
    pub neurons: Vec<Neuron>,
    /// Per kept neuron its place, in `[0, 1]²` (the t-SNE layout scaled, aspect kept, centred).
    pub layout: Vec<[f32; 2]>,
    /// Per kept neuron its mean and standard deviation over the inputs (`N` in the denominator).
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// The ids of the neurons dropped because they never vary over the inputs.
    pub dropped: Vec<String>,
    /// t-SNE's final KL divergence.
    pub kl_divergence: Option<f64>,
    /// `kept × kept`, row-major rows.
    pub correlation: Vec<Vec<f32>>,
}

/// Where a layer's neurons come from.
#[derive(Debug, Clone, PartialEq)]
struct Source {
    index: usize,
    name: String,
    /// `[C, H, W]` or `[N]`.
    shape: Vec<usize>,
}

/// The neurons of `sources` under `units`.
fn neurons_of(sources: &[Source], units: Units) -> Vec<Neuron> {
    let mut out = Vec::new();
    for s in sources {
        let neuron = |id: String, unit| Neuron {
            id,
            layer: s.name.clone(),
            unit,
        };
        match (s.shape.as_slice(), units) {
            (&[c, _, _], Units::Mean) => {
                out.extend((0..c).map(|k| neuron(format!("{}:{k}", s.name), k)))
            }
            (&[_, h, w], Units::All) => out.extend((0..s.shape.iter().product()).map(|u| {
                let (k, y, x) = (u / (h * w), u / w % h, u % w);
                neuron(format!("{}:{k}@{y},{x}", s.name), u)
            })),
            _ => out.extend(
                (0..s.shape.iter().product()).map(|u| neuron(format!("{}:{u}", s.name), u)),
            ),
        }
    }
    out
}

/// The activations of every neuron of `sources` in one forward pass.
fn activations(trace: &Trace, sources: &[Source], units: Units, out: &mut Vec<f32>) -> Result<()> {
    for s in sources {
        let values = trace.output(s.index)?.data();
        match (s.shape.as_slice(), units) {
            (&[c, h, w], Units::Mean) => out.extend((0..c).map(|k| {
                let sum: f64 = values[k * h * w..(k + 1) * h * w]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum();
                (sum / (h * w) as f64) as f32
            })),
            _ => out.extend_from_slice(values),
        }
    }
    Ok(())
}

/// The layers named in `settings`, checked: known, and their neurons at most [`MAX_NEURONS`].
fn sources(net: &Network, settings: &Settings) -> Result<(Vec<Source>, Vec<Neuron>)> {
    if settings.layers.is_empty() {
        return Err(Error::option("layers", "name at least one layer"));
    }
    let sources = settings
        .layers
        .iter()
        .map(|name| {
            let index = net.layer_index(name)?;
            Ok(Source {
                index,
                name: name.clone(),
                shape: net.layers()[index].output_shape.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let neurons = neurons_of(&sources, settings.units);
    if neurons.len() > MAX_NEURONS {
        return Err(Error::out_of_range(
            "the number of neurons of the chosen layers",
            neurons.len(),
            format!(
                "at most {MAX_NEURONS} (the correlation matrix is neurons × neurons): choose fewer layers \
                 or one neuron per conv channel (units mean)"
            ),
        ));
    }
    Ok((sources, neurons))
}

/// Where a training stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Units of work done (inputs read, then t-SNE iterations), of `total`.
    pub done: usize,
    pub total: usize,
    pub kl_divergence: Option<f64>,
}

/// The statistics of the kept neurons and their t-SNE run.
#[derive(Debug, Clone)]
struct Fit {
    kept: Vec<usize>,
    mean: Vec<f32>,
    std: Vec<f32>,
    correlation: Array2<f64>,
    tsne: Tsne,
}

/// A response map being trained.
#[derive(Debug, Clone)]
pub struct Training {
    settings: Settings,
    images: IdxImages,
    sources: Vec<Source>,
    neurons: Vec<Neuron>,
    rows: Vec<f32>,
    done: usize,
    fit: Option<Box<Fit>>,
}

impl Training {
    /// Prepares the training on the first `settings.count` of `images` (1 to their number).
    pub fn new(net: &Network, images: &IdxImages, settings: Settings) -> Result<Training> {
        if settings.count < 3 || settings.count > images.count {
            return Err(Error::out_of_range(
                "the number of sample inputs",
                settings.count,
                format!("3 to {} (the images given)", images.count),
            ));
        }
        let (sources, neurons) = sources(net, &settings)?;
        let images = images.first(settings.count)?;
        Ok(Training {
            rows: Vec::with_capacity(neurons.len().saturating_mul(settings.count)),
            settings,
            images,
            sources,
            neurons,
            done: 0,
            fit: None,
        })
    }

    pub fn progress(&self) -> Progress {
        let tsne = self.fit.as_ref().map(|f| f.tsne.progress());
        Progress {
            done: self.done + tsne.map_or(0, |p| p.iteration),
            total: self.settings.count + self.settings.iterations,
            kl_divergence: tsne.and_then(|p| p.kl_divergence),
        }
    }

    pub fn is_done(&self) -> bool {
        let p = self.progress();
        p.done == p.total
    }

    /// Does about `budget` more units of work on `net` (the network the training was started with).
    pub fn step(&mut self, net: &Network, budget: usize) -> Result<Progress> {
        let mut left = budget;
        while left > 0 && self.done < self.settings.count {
            let trace = net.forward(&self.images.image(self.done)?)?;
            activations(&trace, &self.sources, self.settings.units, &mut self.rows)?;
            self.done += 1;
            left -= 1;
        }
        if self.done == self.settings.count && self.fit.is_none() {
            self.fit = Some(Box::new(self.fit()?));
        }
        if let Some(fit) = self.fit.as_mut() {
            fit.tsne.step(left);
        }
        Ok(self.progress())
    }

    /// The activations read so far, `inputs × neurons` (all neurons, constant ones included).
    pub fn activations(&self) -> Result<Array2<f32>> {
        Array2::from_shape_vec((self.done, self.neurons.len()), self.rows.clone())
            .map_err(|e| Error::internal(format!("activations as a matrix: {e}")))
    }

    /// The kept neurons' statistics, correlation and prepared t-SNE run.
    fn fit(&self) -> Result<Fit> {
        let x = self.activations()?;
        let n = x.nrows() as f64;
        let mut kept = Vec::new();
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for (j, column) in x.columns().into_iter().enumerate() {
            let m = column.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let var = column
                .iter()
                .map(|&v| (f64::from(v) - m).powi(2))
                .sum::<f64>()
                / n;
            if column.iter().any(|&v| v != column[0]) && var > 0.0 {
                kept.push(j);
                mean.push(m as f32);
                std.push(var.sqrt() as f32);
            }
        }
        let perplexity = self.settings.perplexity;
        if (kept.len() as f64) <= perplexity.max(2.0) {
            return Err(Error::out_of_range(
                "the number of neurons that vary over the inputs",
                kept.len(),
                format!(
                    "more than the perplexity ({perplexity}): add layers or lower the perplexity"
                ),
            ));
        }
        let columns = x.select(ndarray::Axis(1), &kept);
        let correlation = self.settings.correlation.matrix(columns.view())?;
        let tsne = layout_run(correlation.view(), &self.settings)?;
        Ok(Fit {
            kept,
            mean,
            std,
            correlation,
            tsne,
        })
    }

    /// The layout as it stands (`None` before the t-SNE phase), in `[0, 1]²`.
    pub fn layout(&self) -> Option<Vec<[f32; 2]>> {
        self.fit
            .as_ref()
            .map(|f| unit_square(f.tsne.embedding().view()))
    }

    /// The trained map; an error before the last step.
    pub fn finish(self) -> Result<ResponseMap> {
        let layout = self.layout();
        let (Some(fit), Some(layout), true) = (self.fit, layout, self.done == self.settings.count)
        else {
            return Err(Error::option(
                "training",
                "the response map is not trained yet: step it to the end first",
            ));
        };
        let dropped = (0..self.neurons.len())
            .filter(|j| !fit.kept.contains(j))
            .map(|j| self.neurons[j].id.clone())
            .collect();
        Ok(ResponseMap {
            format: FORMAT.into(),
            version: 1,
            neurons: fit.kept.iter().map(|&j| self.neurons[j].clone()).collect(),
            layout,
            mean: fit.mean,
            std: fit.std,
            dropped,
            kl_divergence: fit.tsne.kl_divergence(),
            correlation: fit
                .correlation
                .rows()
                .into_iter()
                .map(|r| r.iter().map(|&v| v as f32).collect())
                .collect(),
            settings: self.settings,
        })
    }
}

/// Each row's `k` nearest other columns by `d = 1 − r` (ties to the lower index), with `d²`.
pub fn neighbour_lists(correlation: ArrayView2<f64>, k: usize) -> (Array2<usize>, Array2<f32>) {
    let n = correlation.nrows();
    let mut indices = Array2::<usize>::zeros((n, k));
    let mut distances = Array2::<f32>::zeros((n, k));
    for i in 0..n {
        let mut order: Vec<(f64, usize)> = (0..n)
            .filter(|&j| j != i)
            .map(|j| ((1.0 - correlation[[i, j]]).max(0.0), j))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (slot, &(d, j)) in order.iter().take(k).enumerate() {
            indices[[i, slot]] = j;
            distances[[i, slot]] = (d * d) as f32;
        }
    }
    (indices, distances)
}

/// The t-SNE run on `1 − correlation` with the settings' perplexity, iterations and seed.
pub fn layout_run(correlation: ArrayView2<f64>, settings: &Settings) -> Result<Tsne> {
    let n = correlation.nrows();
    let options = TsneOptions {
        perplexity: settings.perplexity,
        iterations: settings.iterations,
        init: TsneInit::Random {
            seed: settings.seed,
        },
        ..TsneOptions::default()
    };
    let k = ((3.0 * settings.perplexity + 1.0) as usize).clamp(1, n.saturating_sub(1).max(1));
    let (indices, distances) = neighbour_lists(correlation, k);
    Tsne::from_neighbors(indices.view(), distances.view(), None, &options)
}

/// `points` (`N × 2`) scaled into `[0, 1]²`: the longer side spans `[0, 1]`, the other is centred.
pub fn unit_square(points: ArrayView2<f32>) -> Vec<[f32; 2]> {
    let bound = |a: usize| {
        points
            .column(a)
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    };
    let (x, y) = (bound(0), bound(1));
    let span = (x.1 - x.0).max(y.1 - y.0);
    let scale = if span > 0.0 { 1.0 / span } else { 0.0 };
    let offset = |(lo, hi): (f32, f32)| 0.5 - (hi - lo) * scale / 2.0 - lo * scale;
    let (ox, oy) = (offset(x), offset(y));
    points
        .rows()
        .into_iter()
        .map(|r| [r[0] * scale + ox, r[1] * scale + oy])
        .collect()
}

impl ResponseMap {
    /// Trains a map on `net` over `images` (the package's `TrainMap`).
    pub fn train(net: &Network, images: &IdxImages, settings: Settings) -> Result<ResponseMap> {
        let mut training = Training::new(net, images, settings)?;
        while !training.is_done() {
            training.step(net, usize::MAX)?;
        }
        training.finish()
    }

    /// Reads a map file, checking its format and that its arrays agree.
    pub fn from_json(text: &str) -> Result<ResponseMap> {
        let map: ResponseMap = serde_json::from_str(text)
            .map_err(|e| Error::option("map", format!("not a response map file: {e}")))?;
        let n = map.neurons.len();
        if map.format != FORMAT || map.version != 1 {
            return Err(Error::option(
                "map",
                format!(
                    "format {:?} version {}: expected {FORMAT:?} version 1",
                    map.format, map.version
                ),
            ));
        }
        let square = map.correlation.len() == n && map.correlation.iter().all(|r| r.len() == n);
        if map.layout.len() != n || map.mean.len() != n || map.std.len() != n || !square || n < 3 {
            return Err(Error::shape(
                "the map's layout, mean, std and correlation (one per neuron)",
                &[n],
                &[map.layout.len()],
            ));
        }
        let finite = map
            .layout
            .iter()
            .flatten()
            .chain(&map.mean)
            .all(|v| v.is_finite());
        if !finite || !map.std.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(Error::non_finite(
                "the map's layout, mean or std (or a std ≤ 0)",
            ));
        }
        Ok(map)
    }

    /// The standardised activation `(a − mean) / std` of every neuron for one forward pass of `net`.
    pub fn responses(&self, net: &Network, image: &crate::Tensor) -> Result<Vec<f32>> {
        let trace = net.forward(image)?;
        let mut out = Vec::with_capacity(self.neurons.len());
        for ((neuron, mean), std) in self.neurons.iter().zip(&self.mean).zip(&self.std) {
            let index = net.layer_index(&neuron.layer)?;
            let values = trace.output(index)?.data();
            let shape = &net.layers()[index].output_shape;
            let a = match (shape.as_slice(), self.settings.units) {
                (&[_, h, w], Units::Mean) => {
                    let plane = values.get(neuron.unit * h * w..(neuron.unit + 1) * h * w);
                    plane.map(|p| {
                        (p.iter().map(|&v| f64::from(v)).sum::<f64>() / (h * w) as f64) as f32
                    })
                }
                _ => values.get(neuron.unit).copied(),
            }
            .ok_or_else(|| {
                Error::out_of_range(
                    format!("neuron {}", neuron.id),
                    neuron.unit,
                    "a unit of the model's layer",
                )
            })?;
            out.push((a - mean) / std);
        }
        Ok(out)
    }

    /// The mean of [`ResponseMap::responses`] over `images` (at least one).
    pub fn mean_responses(&self, net: &Network, images: &[crate::Tensor]) -> Result<Vec<f32>> {
        if images.is_empty() {
            return Err(Error::out_of_range("the number of inputs", 0, "at least 1"));
        }
        let mut sum = vec![0f64; self.neurons.len()];
        for image in images {
            for (s, v) in sum.iter_mut().zip(self.responses(net, image)?) {
                *s += f64::from(v);
            }
        }
        Ok(sum
            .iter()
            .map(|s| (s / images.len() as f64) as f32)
            .collect())
    }

    /// Per neuron the index of its layer in [`Settings::layers`].
    pub fn layer_of_neurons(&self) -> Vec<usize> {
        self.neurons
            .iter()
            .map(|n| {
                self.settings
                    .layers
                    .iter()
                    .position(|l| *l == n.layer)
                    .unwrap_or(0)
            })
            .collect()
    }
}
