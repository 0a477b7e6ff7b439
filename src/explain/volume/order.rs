//! A layer's maps reordered (CNN-VIS): the channels of an output stack `[C, H, W]` as `C` points, each
//! either its whole map flattened (`H·W` values) or its row `y` (a horizontal slice through the whole
//! volume, `W` values), then
//!
//! - k-means (plain k-means++ with [`RESTARTS`] restarts from the seed, [`crate::analysis::kmeans`]): the clusters in
//!   the order of their lowest channel, and within a cluster the channels by their distance to its centre
//!   (ties to the lower channel);
//! - PCA ([`crate::analysis::pca`]): the channels by their projection on the first principal component,
//!   largest first (ties to the lower channel), the component's sign fixed so that its largest-magnitude
//!   loading is positive.
//!
//! The result is the permutation (`order[i]` = the channel shown at place `i`) and the stack reordered.

use crate::analysis::kmeans::{kmeans, KMeansOptions};
use crate::analysis::pca::Pca;
use crate::catalogue::options::{Choice, Kind, OptionSpec, Values};
use crate::catalogue::{Family, OutputKind, Technique};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use ndarray::{Array2, ArrayView2};
use std::str::FromStr;

pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "the layer whose output stack [C, H, W] is reordered",
    kind: Kind::Layer {
        types: &["conv2d", "relu", "max_pool2d"],
    },
    common: false,
    required: true,
};

const BY_CHOICES: &[Choice] = &[
    Choice {
        value: "kmeans",
        label: "k-means clusters",
    },
    Choice {
        value: "pca",
        label: "first principal component",
    },
];

pub const BY: OptionSpec = OptionSpec {
    key: "by",
    flag: "by",
    label: "Order by",
    help: "k-means clusters, or the projection on the first principal component",
    kind: Kind::Choice {
        choices: BY_CHOICES,
        default: "kmeans",
    },
    common: false,
    required: false,
};

pub const K: OptionSpec = OptionSpec::int(
    "k",
    "k",
    "Clusters",
    "k-means's number of clusters (at most the number of channels)",
    [1, 256, 4],
);

pub const SLICE: OptionSpec = OptionSpec {
    key: "slice",
    flag: "slice",
    label: "Slice (row)",
    help:
        "compare the channels on this row y only (a slice through every map); not given: whole maps",
    kind: Kind::Int {
        min: 0,
        max: None,
        default: None,
    },
    common: false,
    required: false,
};

pub const SEED: OptionSpec = OptionSpec::seed("seed of the k-means++ seeding", 0);

pub const TECHNIQUE: Technique = Technique {
    id: "order",
    label: "Ordered maps",
    family: Family::Volumes,
    command: "order",
    output: OutputKind::Volume,
    long_running: false,
    stateful: None,
    summary: "A layer's maps regrouped so that alike maps sit side by side.",
    explanation: "Every channel of the layer's output is a point (its whole map, or one row of it). k-means \
                  groups them into k clusters, shown one after another; or PCA orders them by their \
                  coordinate on the direction along which the maps vary most.",
    paper: None,
    options: &[LAYER, BY, K, SLICE, SEED],
};

/// k-means restarts: a layer has at most a few hundred channels, and 10 restarts of the plain k-means++
/// seeding (scikit-learn's greedy one tries several candidates per centre) fall short of scikit-learn's
/// `KMeans(n_init=10)` by up to 4% on LeNet-5's relu2 maps; 100 reach it (`tests/nrm.rs`).
pub const RESTARTS: usize = 100;

/// What the channels are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    KMeans { k: usize, seed: u64 },
    Pca,
}

/// What a channel's point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Maps,
    /// Row `y` of every map.
    Slice(usize),
}

impl By {
    /// The ordering the checked options give.
    pub fn from_values(values: &Values) -> Result<By> {
        match values.text_or_default(&BY) {
            "pca" => Ok(By::Pca),
            "kmeans" => Ok(By::KMeans {
                k: values.usize_or_default(&K),
                seed: values.int(&SEED).unwrap_or(0),
            }),
            other => Err(Error::unknown("ordering", other, &["kmeans", "pca"])),
        }
    }
}

impl FromStr for Over {
    type Err = Error;
    /// `maps`, or a row number.
    fn from_str(text: &str) -> Result<Over> {
        match text {
            "maps" => Ok(Over::Maps),
            row => row
                .parse()
                .map(Over::Slice)
                .map_err(|_| Error::option("slice", format!("{row:?}: a row number or maps"))),
        }
    }
}

impl Over {
    pub fn from_values(values: &Values) -> Over {
        values
            .int(&SLICE)
            .and_then(|y| usize::try_from(y).ok())
            .map_or(Over::Maps, Over::Slice)
    }
}

/// A reordering of a stack's channels.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordering {
    /// `order[i]`: the channel at place `i`.
    pub order: Vec<usize>,
    /// k-means: per channel its cluster (numbered in the order shown); the inertia.
    pub clusters: Option<Vec<usize>>,
    pub inertia: Option<f64>,
    /// PCA: per channel its projection on the first component; that component's share of the variance.
    pub projection: Option<Vec<f64>>,
    pub explained: Option<f64>,
    /// The stack reordered, `[C, H, W]`.
    pub volume: Tensor,
}

/// The channels of `volume` (`[C, H, W]`) as points (`C × H·W`, or `C × W` for a slice).
pub fn points(volume: &Tensor, over: Over) -> Result<Array2<f32>> {
    let (c, h, w) = volume.chw()?;
    let data = volume.data();
    match over {
        Over::Maps => Array2::from_shape_vec((c, h * w), data.to_vec())
            .map_err(|e| Error::internal(format!("maps as points: {e}"))),
        Over::Slice(y) if y < h => Ok(Array2::from_shape_fn((c, w), |(k, x)| {
            data[(k * h + y) * w + x]
        })),
        Over::Slice(y) => Err(Error::out_of_range(
            "slice (row)",
            y,
            format!("0 to {} (the maps' height)", h - 1),
        )),
    }
}

/// The k-means order of `points` and each channel's cluster, numbered in the order shown.
fn kmeans_order(
    points: ArrayView2<f32>,
    k: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>, f64)> {
    let c = points.nrows();
    if k == 0 || k > c {
        return Err(Error::out_of_range(
            "k (clusters)",
            k,
            format!("1 to {c} (the channels)"),
        ));
    }
    let options = KMeansOptions {
        clusters: k,
        seed,
        restarts: RESTARTS,
        ..KMeansOptions::default()
    };
    let clustering = kmeans(points, &options)?;
    let labels = &clustering.labels;
    let mut rank: Vec<usize> = Vec::new();
    for &l in labels {
        if !rank.contains(&l) {
            rank.push(l);
        }
    }
    let place = |l: usize| rank.iter().position(|&r| r == l).unwrap_or(usize::MAX);
    let distance = |i: usize| -> f32 {
        let centre = clustering.centres.row(labels[i]);
        points
            .row(i)
            .iter()
            .zip(centre)
            .map(|(a, b)| (a - b) * (a - b))
            .sum()
    };
    let mut order: Vec<usize> = (0..c).collect();
    order.sort_by(|&a, &b| {
        place(labels[a])
            .cmp(&place(labels[b]))
            .then(distance(a).total_cmp(&distance(b)))
            .then(a.cmp(&b))
    });
    let clusters = labels.iter().map(|&l| place(l)).collect();
    Ok((order, clusters, clustering.inertia))
}

/// The channels of `volume` (`[C, H, W]`, `C ≥ 2`) ordered `by` over whole maps or a slice.
pub fn order(volume: &Tensor, by: By, over: Over) -> Result<Ordering> {
    let x = points(volume, over)?;
    let mut result = Ordering {
        order: Vec::new(),
        clusters: None,
        inertia: None,
        projection: None,
        explained: None,
        volume: volume.clone(),
    };
    match by {
        By::KMeans { k, seed } => {
            let (order, clusters, inertia) = kmeans_order(x.view(), k, seed)?;
            (result.order, result.clusters, result.inertia) =
                (order, Some(clusters), Some(inertia));
        }
        By::Pca => {
            let pca = Pca::fit(x.view(), 1)?;
            let projection: Vec<f64> = pca.transform(x.view())?.column(0).to_vec();
            let mut order: Vec<usize> = (0..x.nrows()).collect();
            order.sort_by(|&a, &b| projection[b].total_cmp(&projection[a]).then(a.cmp(&b)));
            result.order = order;
            result.projection = Some(projection);
            result.explained = pca.explained_variance_ratio.first().copied();
        }
    }
    result.volume = permuted(volume, &result.order)?;
    Ok(result)
}

/// `volume`'s channels in `order`.
pub fn permuted(volume: &Tensor, order: &[usize]) -> Result<Tensor> {
    let (c, h, w) = volume.chw()?;
    let plane = h * w;
    let mut data = Vec::with_capacity(c * plane);
    for &k in order {
        data.extend_from_slice(volume.channel(k)?);
    }
    Tensor::from_vec(&[c, h, w], data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four 1 × 2 maps: channels 0 and 2 near (0, 0), 1 and 3 near (10, 10).
    fn stack() -> Tensor {
        Tensor::from_vec(&[4, 1, 2], vec![0.0, 0.0, 10.0, 10.0, 0.5, 0.0, 9.0, 10.0]).unwrap()
    }

    #[test]
    fn kmeans_groups_alike_maps_and_pca_sorts_by_the_first_component() {
        let o = order(&stack(), By::KMeans { k: 2, seed: 1 }, Over::Maps).unwrap();
        assert_eq!(o.order, [0, 2, 1, 3]);
        assert_eq!(o.clusters.as_deref(), Some(&[0, 1, 0, 1][..]));
        // Centres (0.25, 0) and (9.5, 10): inertia 2 · 0.25² + 2 · 0.5² = 0.625.
        assert!((o.inertia.unwrap() - 0.625).abs() < 1e-6);
        assert_eq!(
            o.volume.data(),
            &[0.0, 0.0, 0.5, 0.0, 10.0, 10.0, 9.0, 10.0]
        );
        let p = order(&stack(), By::Pca, Over::Maps).unwrap();
        // The first component points along (1, 1) with a positive largest loading: the large maps first.
        assert_eq!(p.order, [1, 3, 2, 0]);
        let s = order(&stack(), By::Pca, Over::Slice(0)).unwrap();
        assert_eq!(s.order, p.order);
        assert!(order(&stack(), By::Pca, Over::Slice(1)).is_err());
        assert!(order(&stack(), By::KMeans { k: 5, seed: 0 }, Over::Maps).is_err());
    }
}
