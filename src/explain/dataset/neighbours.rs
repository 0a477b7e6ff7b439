//! Nearest neighbours of an input among the images of a data set, in a layer's feature space or in pixel
//! space (the TensorFlow Embedding Projector's neighbour list; shown side by side, they tell where the
//! network's notion of "similar" departs from the pixels').
//!
//! With `a` the query's features and `b` an image's, summed in `f64` in feature order:
//!
//! ```text
//! euclidean  d = √ Σ_i (a_i − b_i)²
//! cosine     d = max(0, 1 − Σ a_i b_i / (√Σ a_i² · √Σ b_i²))      (1 when either vector is all zeros)
//! ```
//!
//! The `k` smallest `d`, ascending, ties by the lower index. `tests/reference/dataset.py` computes the same
//! in numpy, in the same order of operations, and `tests/dataset.rs` compares the two exactly.

use super::{COUNT, FEATURES};
use crate::analysis::neighbors::Best;
use crate::catalogue::options::{Choice, Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Technique};
use crate::error::{Error, Result};
use ndarray::ArrayView2;
use std::str::FromStr;

/// The largest `top` accepted.
pub const MAX_TOP: usize = 1000;

pub const METRIC: OptionSpec = OptionSpec {
    key: "metric",
    flag: "metric",
    label: "Distance",
    help: "cosine = 1 − cos of the angle between the feature vectors; euclidean = their distance",
    kind: Kind::Choice {
        choices: &[
            Choice {
                value: "cosine",
                label: "Cosine",
            },
            Choice {
                value: "euclidean",
                label: "Euclidean",
            },
        ],
        default: "cosine",
    },
    common: false,
    required: false,
};

pub const TOP: OptionSpec = OptionSpec {
    key: "top",
    flag: "top",
    label: "Top",
    help: "neighbours to list, nearest first",
    kind: Kind::Int {
        min: 1,
        max: Some(MAX_TOP as u64),
        default: Some(10),
    },
    common: false,
    required: false,
};

pub const TECHNIQUE: Technique = Technique {
    id: "neighbours",
    label: "Nearest neighbours",
    family: Family::Dataset,
    command: "neighbours",
    output: OutputKind::Gallery,
    long_running: false,
    stateful: Some("data set"),
    summary: "The data set's images the network finds most like this one, beside the most alike in pixels.",
    explanation: "The input and every image of the data set go through the network; the images whose outputs \
                  at the chosen layer are closest to the input's (cosine or Euclidean distance) are listed \
                  nearest first, next to the nearest by raw pixels.",
    paper: None,
    options: &[FEATURES, METRIC, TOP, COUNT],
};

/// How two feature vectors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    Euclidean,
}

impl FromStr for Metric {
    type Err = Error;
    fn from_str(text: &str) -> Result<Metric> {
        match text {
            "cosine" => Ok(Metric::Cosine),
            "euclidean" => Ok(Metric::Euclidean),
            other => Err(Error::unknown("metric", other, &["cosine", "euclidean"])),
        }
    }
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::Euclidean => "euclidean",
        }
    }
}

/// One neighbour: the image's index in the data set and its distance to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub index: usize,
    pub distance: f64,
}

/// The distance from `query` to each row of `data` (`N × D`, `D` = the query's length; see the header).
pub fn distances(data: ArrayView2<f32>, query: &[f32], metric: Metric) -> Result<Vec<f64>> {
    if data.ncols() != query.len() {
        return Err(Error::shape(
            "the query's features",
            &[data.ncols()],
            &[query.len()],
        ));
    }
    if !query.iter().all(|v| v.is_finite()) {
        return Err(Error::non_finite("the query's features"));
    }
    let query_norm = query
        .iter()
        .fold(0f64, |s, &a| s + f64::from(a) * f64::from(a))
        .sqrt();
    data.rows()
        .into_iter()
        .map(|row| {
            let (mut squares, mut dot, mut norm) = (0f64, 0f64, 0f64);
            for (&a, &b) in query.iter().zip(row.iter()) {
                let (a, b) = (f64::from(a), f64::from(b));
                let d = a - b;
                squares += d * d;
                dot += a * b;
                norm += b * b;
            }
            let distance = match metric {
                Metric::Euclidean => squares.sqrt(),
                Metric::Cosine if query_norm == 0.0 || norm == 0.0 => 1.0,
                Metric::Cosine => (1.0 - dot / (query_norm * norm.sqrt())).max(0.0),
            };
            if distance.is_finite() {
                Ok(distance)
            } else {
                Err(Error::non_finite("the data set's features"))
            }
        })
        .collect()
}

/// The `k` rows of `data` nearest to `query` (`1 ≤ k ≤ N`), nearest first, ties by the lower index.
pub fn nearest(
    data: ArrayView2<f32>,
    query: &[f32],
    metric: Metric,
    k: usize,
) -> Result<Vec<Neighbour>> {
    if k == 0 || k > data.nrows() {
        return Err(Error::out_of_range(
            "top (neighbours)",
            k,
            format!("1 to {} (the images of the data set)", data.nrows()),
        ));
    }
    let mut best = Best::new(k);
    for (index, d) in distances(data, query, metric)?.into_iter().enumerate() {
        best.offer(d, index);
    }
    Ok(best
        .items
        .into_iter()
        .map(|(distance, index)| Neighbour { index, distance })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_computed_distances() {
        let data = array![[3.0f32, 4.0], [0.0, 0.0], [1.0, 0.0], [-2.0, 0.0]];
        let d = distances(data.view(), &[1.0, 0.0], Metric::Euclidean).unwrap();
        assert_eq!(d, [20f64.sqrt(), 1.0, 0.0, 3.0]);
        let d = distances(data.view(), &[1.0, 0.0], Metric::Cosine).unwrap();
        assert_eq!(d, [1.0 - 0.6, 1.0, 0.0, 2.0]);
        assert_eq!(
            distances(data.view(), &[0.0, 0.0], Metric::Cosine).unwrap(),
            [1.0; 4]
        );
        assert!(distances(data.view(), &[1.0], Metric::Cosine).is_err());
        assert!(distances(data.view(), &[f32::NAN, 0.0], Metric::Cosine).is_err());
    }

    #[test]
    fn ties_go_to_the_lower_index() {
        // Rows 1 and 3 are the same point; rows 0 and 2 are at the same distance the other way.
        let data = array![
            [2.0f32, 0.0],
            [1.0, 1.0],
            [0.0, 2.0],
            [1.0, 1.0],
            [5.0, 5.0]
        ];
        let got = nearest(data.view(), &[1.0, 1.0], Metric::Euclidean, 4).unwrap();
        let order: Vec<usize> = got.iter().map(|n| n.index).collect();
        assert_eq!(order, [1, 3, 0, 2]);
        assert_eq!(got[2].distance, 2f64.sqrt());
        assert!(nearest(data.view(), &[1.0, 1.0], Metric::Euclidean, 6).is_err());
        assert!(nearest(data.view(), &[1.0, 1.0], Metric::Euclidean, 0).is_err());
        assert_eq!("cosine".parse::<Metric>().unwrap(), Metric::Cosine);
        assert!("manhattan".parse::<Metric>().is_err());
    }
}
