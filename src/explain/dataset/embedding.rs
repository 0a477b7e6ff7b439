//! Embedding maps: the images of a data set as points in 2-D, from a layer's features (or the pixels), by PCA
//! (exact: the first two principal components, with the explained variance of the first twenty), t-SNE
//! (Barnes-Hut, scikit-learn's schedule; the KL divergence) or UMAP (umap-learn's defaults), the Embedding
//! Projector's three maps. The maths is in [`crate::analysis`] (`docs/analysis.md`); this file declares the
//! three techniques, reads their options and runs them step by step ([`EmbeddingRun`]), so a map can animate
//! while it optimizes, and places a new point on a finished map ([`EmbeddingRun::place`]: exactly for PCA,
//! by optimizing its position against the fixed map for t-SNE and UMAP).
//!
//! Shapes: features `N × D` (one row per image, in data-set order), the map `N × 2`.

use super::{COUNT, FEATURES};
use crate::analysis::pca::Pca;
use crate::analysis::tsne::{Tsne, TsneOptions};
use crate::analysis::umap::{Umap, UmapOptions};
use crate::catalogue::options::{Kind, OptionSpec, Values};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use ndarray::{Array2, ArrayView1, ArrayView2};
use std::str::FromStr;

/// Principal components whose explained variance a PCA map reports.
pub const REPORTED_COMPONENTS: usize = 20;

pub const PEARSON: Paper = Paper {
    title: "On lines and planes of closest fit to systems of points in space",
    authors: "Pearson",
    year: 1901,
    url: "https://doi.org/10.1080/14786440109462720",
};

pub const VAN_DER_MAATEN_HINTON: Paper = Paper {
    title: "Visualizing Data using t-SNE",
    authors: "van der Maaten & Hinton",
    year: 2008,
    url: "https://jmlr.org/papers/v9/vandermaaten08a.html",
};

pub const MCINNES: Paper = Paper {
    title: "UMAP: Uniform Manifold Approximation and Projection for Dimension Reduction",
    authors: "McInnes, Healy & Melville",
    year: 2018,
    url: "https://arxiv.org/abs/1802.03426",
};

pub const PERPLEXITY: OptionSpec = OptionSpec {
    key: "perplexity",
    flag: "perplexity",
    label: "Perplexity",
    help: "the effective number of neighbours each point keeps (below the number of images)",
    kind: Kind::Float {
        min: 2.0,
        max: 100.0,
        step: 1.0,
        default: Some(30.0),
        per_pixel: false,
    },
    common: false,
    required: false,
};

pub const EARLY_EXAGGERATION: OptionSpec = OptionSpec {
    key: "earlyExaggeration",
    flag: "early-exaggeration",
    label: "Early exaggeration",
    help: "the factor on the affinities during the first 250 iterations",
    kind: Kind::Float {
        min: 1.0,
        max: 100.0,
        step: 0.5,
        default: Some(12.0),
        per_pixel: false,
    },
    common: false,
    required: false,
};

pub const LEARNING_RATE: OptionSpec = OptionSpec {
    key: "learningRate",
    flag: "learning-rate",
    label: "Learning rate",
    help: "the gradient step; 0 = automatic, max(N / early exaggeration / 4, 50)",
    kind: Kind::Float {
        min: 0.0,
        max: 100_000.0,
        step: 10.0,
        default: Some(0.0),
        per_pixel: false,
    },
    common: false,
    required: false,
};

pub const TSNE_ITERATIONS: OptionSpec = OptionSpec {
    key: "iterations",
    flag: "iterations",
    label: "Iterations",
    help: "gradient steps in all, the 250 exaggerated ones included",
    kind: Kind::Int {
        min: 250,
        max: Some(100_000),
        default: Some(1000),
    },
    common: false,
    required: false,
};

pub const NEIGHBORS: OptionSpec = OptionSpec {
    key: "neighbors",
    flag: "neighbors",
    label: "Neighbours",
    help: "the size of each point's neighbourhood, the point included (below the number of images)",
    kind: Kind::Int {
        min: 2,
        max: Some(200),
        default: Some(15),
    },
    common: false,
    required: false,
};

pub const MIN_DIST: OptionSpec = OptionSpec {
    key: "minDist",
    flag: "min-dist",
    label: "Minimum distance",
    help: "how tightly points may pack on the map",
    kind: Kind::Float {
        min: 0.0,
        max: 1.0,
        step: 0.05,
        default: Some(0.1),
        per_pixel: false,
    },
    common: false,
    required: false,
};

pub const UMAP_ITERATIONS: OptionSpec = OptionSpec {
    key: "iterations",
    flag: "iterations",
    label: "Epochs",
    help: "optimization epochs (default: 500 up to 10,000 images, else 200)",
    kind: Kind::Int {
        min: 1,
        max: Some(100_000),
        default: None,
    },
    common: false,
    required: false,
};

pub const SEED: OptionSpec = OptionSpec::seed("seed of the negative sampling", 0);

const fn map(
    id: &'static str,
    label: &'static str,
    summary: &'static str,
    explanation: &'static str,
    paper: Paper,
    options: &'static [OptionSpec],
) -> Technique {
    Technique {
        id,
        label,
        family: Family::Dataset,
        command: "embed",
        output: OutputKind::Scatter,
        long_running: true,
        stateful: Some("data set"),
        summary,
        explanation,
        paper: Some(paper),
        options,
    }
}

pub const PCA: Technique = map(
    "pca",
    "PCA map",
    "The two directions along which the images' features vary most: a faithful but crowded map.",
    "Principal component analysis of the features of every image: the map shows each image's coordinates \
     on the first two components (the eigenvectors of the covariance with the largest eigenvalues), with the \
     share of the variance each component explains.",
    PEARSON,
    &[FEATURES, COUNT],
);

pub const TSNE: Technique = map(
    "tsne",
    "t-SNE map",
    "Images the network sees as alike sit together; distances between clusters mean little.",
    "t-SNE places the images so that each one's nearest neighbours in feature space stay its neighbours on \
     the map: it minimises the KL divergence between neighbour probabilities (Gaussian, at the given \
     perplexity) in feature space and Student-t ones on the map, with the Barnes-Hut approximation of van der \
     Maaten (2014).",
    VAN_DER_MAATEN_HINTON,
    &[
        FEATURES,
        PERPLEXITY,
        EARLY_EXAGGERATION,
        LEARNING_RATE,
        TSNE_ITERATIONS,
        COUNT,
    ],
);

pub const UMAP: Technique = map(
    "umap",
    "UMAP map",
    "Like t-SNE, neighbours stay together; UMAP keeps more of the layout between clusters.",
    "UMAP builds a fuzzy graph of each image's nearest neighbours in feature space and lays it out in 2-D by \
     stochastic gradient descent, pulling neighbours together and pushing random pairs apart.",
    MCINNES,
    &[
        FEATURES,
        NEIGHBORS,
        MIN_DIST,
        UMAP_ITERATIONS,
        SEED,
        COUNT,
    ],
);

/// Which map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Pca,
    Tsne,
    Umap,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Pca, Method::Tsne, Method::Umap];

    pub fn technique(self) -> &'static Technique {
        match self {
            Method::Pca => &PCA,
            Method::Tsne => &TSNE,
            Method::Umap => &UMAP,
        }
    }
}

impl FromStr for Method {
    type Err = Error;
    fn from_str(text: &str) -> Result<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.technique().id == text)
            .ok_or_else(|| Error::unknown("embedding method", text, &["pca", "tsne", "umap"]))
    }
}

/// The run of one method.
#[derive(Debug, Clone)]
enum State {
    Pca(Box<(Pca, Array2<f32>)>),
    Tsne(Box<Tsne>),
    Umap(Box<Umap>),
}

/// A map being computed, step by step.
#[derive(Debug, Clone)]
pub struct EmbeddingRun {
    pub method: Method,
    state: State,
}

/// The t-SNE settings the options give.
pub fn tsne_options(values: &Values) -> TsneOptions {
    let rate = values.float_or_default(&LEARNING_RATE);
    TsneOptions {
        perplexity: values.float_or_default(&PERPLEXITY),
        iterations: values.usize_or_default(&TSNE_ITERATIONS),
        early_exaggeration: values.float_or_default(&EARLY_EXAGGERATION),
        learning_rate: (rate > 0.0).then_some(rate),
        ..TsneOptions::default()
    }
}

/// The UMAP settings the options give.
pub fn umap_options(values: &Values) -> UmapOptions {
    UmapOptions {
        neighbors: values.usize_or_default(&NEIGHBORS),
        min_dist: values.float_or_default(&MIN_DIST),
        epochs: values
            .int(&UMAP_ITERATIONS)
            .and_then(|e| usize::try_from(e).ok()),
        seed: values.int(&SEED).unwrap_or(SEED.int_default()),
        ..UmapOptions::default()
    }
}

impl EmbeddingRun {
    /// Prepares the map of the rows of `features` (`N × D`, `N ≥ 3`) with the method's checked `values`
    /// (the features are chosen by the caller: `layer` and `count` are read there). The neighbour search and
    /// the affinities of t-SNE and UMAP happen here; the optimization in [`EmbeddingRun::step`].
    pub fn new(method: Method, features: ArrayView2<f32>, values: &Values) -> Result<EmbeddingRun> {
        let state = match method {
            Method::Pca => {
                let components = REPORTED_COMPONENTS.min(features.ncols());
                let pca = Pca::fit(features, components.max(2).min(features.ncols()))?;
                let projected = pca.transform(features)?;
                let points = Array2::from_shape_fn((features.nrows(), 2), |(i, a)| {
                    projected.get((i, a)).map_or(0.0, |&v| v as f32)
                });
                State::Pca(Box::new((pca, points)))
            }
            Method::Tsne => State::Tsne(Box::new(Tsne::new(features, &tsne_options(values))?)),
            Method::Umap => State::Umap(Box::new(Umap::new(features, &umap_options(values))?)),
        };
        Ok(EmbeddingRun { method, state })
    }

    /// Runs up to `n` more iterations (epochs for UMAP); returns `(done, in all)`. PCA is done at once.
    pub fn step(&mut self, n: usize) -> (usize, usize) {
        match &mut self.state {
            State::Pca(_) => (1, 1),
            State::Tsne(tsne) => {
                let p = tsne.step(n);
                (p.iteration, p.iterations)
            }
            State::Umap(umap) => umap.step(n),
        }
    }

    /// `(done, in all)` without running anything.
    pub fn progress(&self) -> (usize, usize) {
        match &self.state {
            State::Pca(_) => (1, 1),
            State::Tsne(tsne) => {
                let p = tsne.progress();
                (p.iteration, p.iterations)
            }
            State::Umap(umap) => umap.progress(),
        }
    }

    pub fn is_done(&self) -> bool {
        let (done, all) = self.progress();
        done == all
    }

    /// The map as it stands, `N × 2`, in data-set order.
    pub fn points(&self) -> Array2<f32> {
        match &self.state {
            State::Pca(pca) => pca.1.clone(),
            State::Tsne(tsne) => tsne.embedding(),
            State::Umap(umap) => umap.embedding(),
        }
    }

    /// PCA: the variance along each of the first components and its share of the total.
    pub fn explained_variance(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        match &self.state {
            State::Pca(pca) => Some((
                pca.0.explained_variance.to_vec(),
                pca.0.explained_variance_ratio.to_vec(),
            )),
            _ => None,
        }
    }

    /// t-SNE: the KL divergence at its latest evaluation (every 50 iterations and at the last).
    pub fn kl_divergence(&self) -> Option<f64> {
        match &self.state {
            State::Tsne(tsne) => tsne.kl_divergence(),
            _ => None,
        }
    }

    /// Where a new point with features `x` (`D` values) lands on the map, the map held fixed.
    pub fn place(&self, x: ArrayView1<f32>) -> Result<[f32; 2]> {
        match &self.state {
            State::Pca(pca) => {
                let p = pca.0.project(x)?;
                Ok([p[0] as f32, p.get(1).map_or(0.0, |&v| v as f32)])
            }
            State::Tsne(tsne) => tsne.place(x),
            State::Umap(umap) => umap.place(x),
        }
    }
}
