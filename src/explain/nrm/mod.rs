//! The neural response map (after the Neural Response Map package for TensorFlow and the response maps of
//! arXiv:1807.01281): the neurons of chosen layers laid out in 2-D so that neurons whose activations are
//! correlated over a set of inputs sit close, then one input's activations (or the mean over several)
//! painted over that layout.
//!
//! - [`train`]: per neuron the activation over sample inputs (a conv channel's mean over its positions, or
//!   every unit), neurons that never vary dropped, each standardised by its mean and standard deviation
//!   over the inputs, the Pearson or Spearman correlation `r` between neurons, t-SNE on the dissimilarity
//!   `1 − r` (the neighbour lists taken from that matrix, as scikit-learn's `metric="precomputed"`), and the
//!   layout scaled into `[0, 1]²`: a [`ResponseMap`], saved as JSON;
//! - [`generate`]: a map on a grid of `height × width` pixels from one input's standardised activations (or
//!   their mean over several inputs), by nearest-neuron or linear (Delaunay, [`delaunay`]) interpolation,
//!   optionally with the layout pushed into a disc ([`generate::circle`]), and per pixel the layer of the
//!   nearest neuron (which layer each region holds).
//!
//! The package's four calls are [`ResponseMap::train`] (`NeuralResponseMap(model)` + `TrainMap(inputs,
//! layers)`), [`ResponseMap::generate`] (`GenerateMap(inputs, method, cmap, size)`) and the `circle` option
//! (`CircleProjection()`).

pub mod delaunay;
pub mod generate;
pub mod train;

pub use generate::{Interpolation, Surface};
pub use train::{Correlation, Neuron, ResponseMap, Settings, Training, Units};

use crate::catalogue::options::{Choice, Item, Kind, OptionSpec};
use crate::catalogue::{inputs::COUNT, Family, OutputKind, Paper, Technique};
use crate::render::colormap::Colormap;

/// The most neurons a map holds (the correlation matrix is `N × N`).
pub const MAX_NEURONS: usize = 2_000;
/// The default number of sample inputs.
pub const DEFAULT_COUNT: usize = 1_000;
/// The default side of a generated map, in pixels.
pub const DEFAULT_SIDE: usize = 128;
/// The largest side of a generated map.
pub const MAX_SIDE: usize = 1_024;

pub const DEEPMIND: Paper = Paper {
    title: "Human-level performance in first-person multiplayer games with population-based deep \
            reinforcement learning",
    authors: "Jaderberg et al.",
    year: 2018,
    url: "https://arxiv.org/abs/1807.01281",
};

pub const LAYERS: OptionSpec = OptionSpec {
    key: "layers",
    flag: "layers",
    label: "Layers",
    help: "the layers whose neurons are mapped (default: every conv2d and linear layer)",
    kind: Kind::List {
        item: Item::Layer,
        len: None,
    },
    common: false,
    required: false,
};

const CORRELATIONS: &[Choice] = &[
    Choice {
        value: "pearson",
        label: "Pearson",
    },
    Choice {
        value: "spearman",
        label: "Spearman (ranks)",
    },
];

pub const CORRELATION: OptionSpec = OptionSpec {
    key: "correlation",
    flag: "correlation",
    label: "Correlation",
    help: "how two neurons' activations over the inputs are compared",
    kind: Kind::Choice {
        choices: CORRELATIONS,
        default: "pearson",
    },
    common: false,
    required: false,
};

const UNIT_CHOICES: &[Choice] = &[
    Choice {
        value: "mean",
        label: "one per conv channel (mean over positions)",
    },
    Choice {
        value: "all",
        label: "every unit",
    },
];

pub const UNITS: OptionSpec = OptionSpec {
    key: "units",
    flag: "units",
    label: "Neurons",
    help: "a conv channel as one neuron (its mean over positions) or every unit (at most 2,000 in all)",
    kind: Kind::Choice {
        choices: UNIT_CHOICES,
        default: "mean",
    },
    common: false,
    required: false,
};

pub const PERPLEXITY: OptionSpec = OptionSpec::float(
    "perplexity",
    "perplexity",
    "Perplexity",
    "t-SNE's effective number of neighbours per neuron (below the number of neurons kept)",
    [2.0, 100.0, 1.0],
    Some(30.0),
);

pub const ITERATIONS: OptionSpec = OptionSpec::int(
    "iterations",
    "iterations",
    "Iterations",
    "t-SNE gradient steps in all, the 250 exaggerated ones included",
    [250, 100_000, 1000],
);

pub const SEED: OptionSpec = OptionSpec::seed("seed of t-SNE's random starting layout", 0);

pub const TRAIN: Technique = Technique {
    id: "response-map",
    label: "Neural response map",
    family: Family::ResponseMap,
    command: "nrm train",
    output: OutputKind::Scatter,
    long_running: true,
    stateful: Some("map trained once"),
    summary: "Every neuron of the chosen layers as a point; neurons that fire together over the inputs sit \
              together.",
    explanation: "Each neuron's activation (a conv channel's mean over its positions) over the sample inputs \
                  (default: the first 1,000); neurons that never vary are dropped. The Pearson (or Spearman) \
                  correlation r between every two neurons gives the dissimilarity 1 − r, and t-SNE lays the \
                  neurons out in 2-D so that correlated neurons are neighbours.",
    paper: Some(DEEPMIND),
    options: &[LAYERS, COUNT, CORRELATION, UNITS, PERPLEXITY, ITERATIONS, SEED],
};

const METHODS: &[Choice] = &[
    Choice {
        value: "nearest",
        label: "nearest neuron",
    },
    Choice {
        value: "linear",
        label: "linear (Delaunay)",
    },
];

pub const METHOD: OptionSpec = OptionSpec {
    key: "method",
    flag: "method",
    label: "Interpolation",
    help: "how the neurons' values fill the grid: the nearest neuron's, or linear over their Delaunay \
           triangles (the nearest neuron's outside them)",
    kind: Kind::Choice {
        choices: METHODS,
        default: "nearest",
    },
    common: false,
    required: false,
};

/// One choice per colormap of [`Colormap::ALL`] (a test keeps them in step).
const COLORMAPS: &[Choice] = &[
    Choice {
        value: "viridis",
        label: "viridis",
    },
    Choice {
        value: "magma",
        label: "magma",
    },
    Choice {
        value: "inferno",
        label: "inferno",
    },
    Choice {
        value: "plasma",
        label: "plasma",
    },
    Choice {
        value: "gray",
        label: "gray",
    },
    Choice {
        value: "diverging",
        label: "diverging",
    },
];

pub const COLORMAP: OptionSpec = OptionSpec {
    key: "colormap",
    flag: "colormap",
    label: "Colormap",
    help: "any colormap of colormaps()",
    kind: Kind::Choice {
        choices: COLORMAPS,
        default: "viridis",
    },
    common: false,
    required: false,
};

pub const SIZE: OptionSpec = OptionSpec {
    key: "size",
    flag: "size",
    label: "Size",
    help: "the map's size in pixels: height,width on the CLI (default 128,128); the JS and Rust API's `size` \
           is [width, height], as the package's",
    kind: Kind::List {
        item: Item::Number {
            min: 2.0,
            max: MAX_SIDE as f64,
            whole: true,
        },
        len: Some(2),
    },
    common: false,
    required: false,
};

pub const CIRCLE: OptionSpec = OptionSpec {
    key: "circle",
    flag: "circle",
    label: "Circle projection",
    help: "push the square layout into a disc (the package's CircleProjection)",
    kind: Kind::Flag,
    common: false,
    required: false,
};

pub const GENERATE: Technique = Technique {
    id: "response-map-generate",
    label: "Response map of an input",
    family: Family::ResponseMap,
    command: "nrm generate",
    output: OutputKind::UnsignedMap,
    long_running: false,
    stateful: Some("map trained once"),
    summary: "Where on the neuron map an input (or a class's inputs) lights up: bright regions are neurons \
              active above their usual level.",
    explanation: "The input's activation of every neuron of a trained response map, standardised by that \
                  neuron's mean and standard deviation over the training inputs (averaged over several inputs \
                  when given), painted at the neurons' places and interpolated over a grid: the nearest \
                  neuron's value, or linearly over the Delaunay triangles of the layout.",
    paper: Some(DEEPMIND),
    options: &[METHOD, COLORMAP, SIZE, CIRCLE],
};

/// The colormap named by the `colormap` option.
pub fn colormap(values: &crate::catalogue::options::Values) -> crate::Result<Colormap> {
    values.text_or_default(&COLORMAP).parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_colormap_is_a_choice() {
        let names: Vec<&str> = Colormap::ALL.iter().map(|c| c.name()).collect();
        let choices: Vec<&str> = COLORMAPS.iter().map(|c| c.value).collect();
        assert_eq!(names, choices);
    }
}
