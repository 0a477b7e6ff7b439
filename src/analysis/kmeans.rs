//! k-means clustering of the rows of a `points × features` matrix: k-means++ seeding (Arthur & Vassilvitskii
//! 2007), then Lloyd iterations until no assignment changes, restarted `restarts` times from one seeded
//! stream, keeping the run of least inertia `Σ_r ‖x_r − c_{label(r)}‖²` (scikit-learn's `KMeans(n_init=…)`).
//!
//! Distances are summed in `f32`, centres are means summed in `f64`; the same seed gives the same clusters
//! on every platform. The monitor's box abstraction calls [`lloyd`] once per class on one shared stream.

use super::check_matrix;
use crate::error::{Error, Result};
use crate::rng::Rng;
use ndarray::{Array2, ArrayView1, ArrayView2};

/// How to cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KMeansOptions {
    /// `k`; fewer clusters come out when there are fewer distinct points.
    pub clusters: usize,
    /// Independent seedings (scikit-learn's `n_init`); the least inertia wins.
    pub restarts: usize,
    /// Lloyd iterations at most per run.
    pub max_iterations: usize,
    pub seed: u64,
}

impl Default for KMeansOptions {
    fn default() -> Self {
        KMeansOptions {
            clusters: 8,
            restarts: 10,
            max_iterations: 300,
            seed: 0,
        }
    }
}

/// The result of a clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// `clusters × features`.
    pub centres: Array2<f32>,
    /// Per point its cluster, in `0..centres.nrows()`.
    pub labels: Vec<usize>,
    /// `Σ_r ‖x_r − c_{label(r)}‖²`.
    pub inertia: f64,
    /// Lloyd iterations run (of the kept run).
    pub iterations: usize,
}

/// Clusters the rows of `points` (finite, at least one row).
pub fn kmeans(points: ArrayView2<f32>, options: &KMeansOptions) -> Result<Clustering> {
    check_matrix(points, "points to cluster", 1)?;
    if options.clusters == 0 || options.restarts == 0 {
        return Err(Error::out_of_range(
            "the number of clusters and of restarts",
            format!("{} and {}", options.clusters, options.restarts),
            "at least 1 each",
        ));
    }
    let mut rng = Rng::new(options.seed);
    let mut best: Option<Clustering> = None;
    for _ in 0..options.restarts {
        let run = lloyd(points, options.clusters, options.max_iterations, &mut rng);
        if best.as_ref().map_or(true, |b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    best.ok_or_else(|| Error::internal("k-means ran no restart"))
}

fn squared_distance(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The nearest centre of `r` (the first on ties).
fn closest(r: ArrayView1<f32>, centres: &[Vec<f32>]) -> usize {
    let mut best = (0, f32::INFINITY);
    for (j, c) in centres.iter().enumerate() {
        let d = squared_distance(r, ArrayView1::from(c.as_slice()));
        if d < best.1 {
            best = (j, d);
        }
    }
    best.0
}

/// k-means++: the first centre uniformly, each next one with probability proportional to the squared
/// distance to the nearest chosen centre. Stops early when every point coincides with a centre.
fn seed_centres(points: ArrayView2<f32>, k: usize, rng: &mut Rng) -> Vec<Vec<f32>> {
    let count = points.nrows();
    if count == 0 {
        return Vec::new();
    }
    let first = points.row(rng.below(count));
    let mut centres: Vec<Vec<f32>> = vec![first.to_vec()];
    let mut nearest: Vec<f32> = points
        .rows()
        .into_iter()
        .map(|r| squared_distance(r, first))
        .collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().map(|&d| f64::from(d)).sum();
        if total <= 0.0 {
            break; // fewer distinct points than k
        }
        let mut target = f64::from(rng.uniform()) * total;
        let mut pick = count - 1;
        for (i, &d) in nearest.iter().enumerate() {
            target -= f64::from(d);
            if target < 0.0 {
                pick = i;
                break;
            }
        }
        let centre = points.row(pick);
        for (n, r) in nearest.iter_mut().zip(points.rows()) {
            *n = n.min(squared_distance(r, centre));
        }
        centres.push(centre.to_vec());
    }
    centres
}

/// One k-means run on `points` (`count × features`, `count` may be 0): k-means++ seeding from `rng`, then at
/// most `max_iterations` Lloyd steps (each centre moves to the mean of its points; an empty cluster keeps its
/// centre), stopping when no assignment changes.
pub fn lloyd(
    points: ArrayView2<f32>,
    k: usize,
    max_iterations: usize,
    rng: &mut Rng,
) -> Clustering {
    let features = points.ncols();
    let mut centres = seed_centres(points, k.min(points.nrows()), rng);
    let assign = |centres: &[Vec<f32>]| -> Vec<usize> {
        points
            .rows()
            .into_iter()
            .map(|r| closest(r, centres))
            .collect()
    };
    let mut assignment = assign(&centres);
    let mut iterations = 0;
    for _ in 0..max_iterations {
        iterations += 1;
        let mut sums = vec![vec![0f64; features]; centres.len()];
        let mut counts = vec![0usize; centres.len()];
        for (r, &j) in points.rows().into_iter().zip(&assignment) {
            counts[j] += 1;
            for (s, &v) in sums[j].iter_mut().zip(r.iter()) {
                *s += f64::from(v);
            }
        }
        for ((c, s), &n) in centres.iter_mut().zip(&sums).zip(&counts) {
            if n > 0 {
                for (cv, sv) in c.iter_mut().zip(s) {
                    *cv = (sv / n as f64) as f32;
                }
            }
        }
        let next = assign(&centres);
        if next == assignment {
            break;
        }
        assignment = next;
    }
    let inertia = points
        .rows()
        .into_iter()
        .zip(&assignment)
        .map(|(r, &j)| f64::from(squared_distance(r, ArrayView1::from(centres[j].as_slice()))))
        .sum();
    Clustering {
        centres: Array2::from_shape_fn((centres.len(), features), |(j, i)| centres[j][i]),
        labels: assignment,
        inertia,
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn two_distant_groups_are_found_with_their_inertia() {
        let points = array![
            [0.0f32, 0.0],
            [1.0, 0.5],
            [10.0, 10.0],
            [11.0, 9.0],
            [0.5, 1.0]
        ];
        let c = kmeans(
            points.view(),
            &KMeansOptions {
                clusters: 2,
                ..Default::default()
            },
        )
        .unwrap();
        let l = &c.labels;
        assert!(
            l[0] == l[1] && l[0] == l[4] && l[2] == l[3] && l[0] != l[2],
            "{l:?}"
        );
        // Centres (0.5, 0.5) and (10.5, 9.5): inertia (0.5 + 0.25 + 0.25) + (0.5 + 0.5) = 2.
        assert!((c.inertia - 2.0).abs() < 1e-6, "{}", c.inertia);
        let again = kmeans(
            points.view(),
            &KMeansOptions {
                clusters: 2,
                ..Default::default()
            },
        );
        assert_eq!(again.unwrap(), c);
    }

    #[test]
    fn fewer_distinct_points_than_clusters() {
        let points = array![[1.0f32], [1.0], [2.0]];
        let c = kmeans(
            points.view(),
            &KMeansOptions {
                clusters: 5,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(c.centres.nrows(), 2);
        assert_eq!(c.inertia, 0.0);
        let empty = Array2::<f32>::zeros((0, 3));
        assert_eq!(
            lloyd(empty.view(), 3, 10, &mut Rng::new(0)).labels,
            Vec::<usize>::new()
        );
        assert!(kmeans(empty.view(), &KMeansOptions::default()).is_err());
        let zero = KMeansOptions {
            clusters: 0,
            ..Default::default()
        };
        assert!(kmeans(points.view(), &zero).is_err());
        assert!(kmeans(array![[f32::NAN]].view(), &KMeansOptions::default()).is_err());
    }
}
