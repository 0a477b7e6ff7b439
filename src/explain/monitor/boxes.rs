//! Box abstraction (Henzinger, Lukina & Schilling, "Outside the Box: Abstraction-Based Monitoring of Neural
//! Networks", ECAI 2020), on real-valued activation vectors of the monitored layer (the monitor passes them
//! scaled to unit length, see [`super::features`]).
//!
//! Build: per class, the activation vectors `x ∈ ℝⁿ` of its correctly classified training images are
//! clustered by k-means ([`crate::analysis::kmeans::lloyd`]: k-means++ seeding, Lloyd iterations); each cluster `j` is abstracted by its bounding
//! box `[lo_j, hi_j] ⊂ ℝⁿ` (per-neuron minimum and maximum).
//!
//! Query for an input predicted as class `c`: how far it lies outside the nearest box of `c`,
//!
//! ```text
//! score(x) = min_j Σ_i max(0, lo_ji − x_i, x_i − hi_ji) / s_i
//! ```
//!
//! with `s_i` the standard deviation of neuron `i` over all recorded activations (floored at 1% of the mean
//! standard deviation, so a neuron that never varies in training counts strongly but finitely). The paper's
//! monitor warns when the input is outside every box, i.e. `score > 0`; the score itself ranks inputs for
//! AUROC.

use crate::analysis::kmeans::lloyd;
use crate::error::{Error, Result};
use crate::rng::Rng;
use ndarray::ArrayView2;

/// Lloyd iterations at most (k-means stops earlier when no assignment changes).
const KMEANS_ITERATIONS: usize = 50;

/// The boxes of every class and the per-neuron scale of the score.
#[derive(Debug, Clone, PartialEq)]
pub struct Boxes {
    neurons: usize,
    scale: Vec<f32>,
    classes: Vec<ClassBoxes>,
}

/// The boxes of one class: `clusters × neurons` lower and upper bounds, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassBoxes {
    pub lo: Vec<f32>,
    pub hi: Vec<f32>,
}

impl ClassBoxes {
    /// Number of boxes for `neurons` neurons.
    pub fn count(&self, neurons: usize) -> usize {
        self.lo.len().checked_div(neurons).unwrap_or(0)
    }
}

impl Boxes {
    /// Clusters each class's activations (`per_class[c]` is a flat `count × neurons` buffer) into at most
    /// `clusters` boxes; `seed` makes the k-means seeding reproducible.
    pub fn build(
        neurons: usize,
        per_class: &[Vec<f32>],
        clusters: usize,
        seed: u64,
    ) -> Result<Boxes> {
        if neurons == 0 || clusters == 0 {
            return Err(Error::out_of_range(
                "the neurons and clusters of a box abstraction",
                format!("{neurons} and {clusters}"),
                "at least 1 each",
            ));
        }
        let scale = neuron_scale(neurons, per_class);
        let mut rng = Rng::new(seed);
        let classes = per_class
            .iter()
            .map(|points| {
                let rows = points.len() / neurons;
                let view = ArrayView2::from_shape((rows, neurons), &points[..rows * neurons])
                    .map_err(|e| Error::internal(format!("class activations as a matrix: {e}")))?;
                let clustering = lloyd(view, clusters, KMEANS_ITERATIONS, &mut rng);
                Ok(bounding_boxes(points, neurons, &clustering.labels))
            })
            .collect::<Result<_>>()?;
        Ok(Boxes {
            neurons,
            scale,
            classes,
        })
    }

    /// Takes stored statistics after checking them (finite, `lo ≤ hi`, positive scale, whole rows).
    pub fn from_parts(neurons: usize, scale: Vec<f32>, classes: Vec<ClassBoxes>) -> Result<Boxes> {
        if scale.len() != neurons || !scale.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(Error::monitor(format!(
                "the box scale needs {neurons} positive finite values"
            )));
        }
        for (c, b) in classes.iter().enumerate() {
            let whole = b.lo.len() == b.hi.len() && b.lo.len() % neurons.max(1) == 0;
            let ordered =
                b.lo.iter()
                    .zip(&b.hi)
                    .all(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo <= hi);
            if !whole || !ordered {
                return Err(Error::monitor(format!(
                    "the boxes of class {c} are not finite, ordered (lower ≤ upper) bounds"
                )));
            }
        }
        Ok(Boxes {
            neurons,
            scale,
            classes,
        })
    }

    pub fn scale(&self) -> &[f32] {
        &self.scale
    }

    pub fn classes(&self) -> &[ClassBoxes] {
        &self.classes
    }

    /// Scaled distance of `x` outside the nearest box of `class` (0 inside a box); infinite when the class
    /// has no box or `x` has another width.
    pub fn score(&self, class: usize, x: &[f32]) -> f64 {
        let Some(b) = self.classes.get(class) else {
            return f64::INFINITY;
        };
        if x.len() != self.neurons {
            return f64::INFINITY;
        }
        b.lo.chunks_exact(self.neurons)
            .zip(b.hi.chunks_exact(self.neurons))
            .map(|(lo, hi)| {
                x.iter()
                    .zip(lo.iter().zip(hi))
                    .zip(&self.scale)
                    .map(|((&v, (&l, &h)), &s)| f64::from((l - v).max(v - h).max(0.0) / s))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min)
    }
}

/// Per-neuron standard deviation over all points, floored at 1% of the mean standard deviation (and at
/// `1e-6`), so that every scale is positive.
fn neuron_scale(neurons: usize, per_class: &[Vec<f32>]) -> Vec<f32> {
    let mut sum = vec![0f64; neurons];
    let mut sum_sq = vec![0f64; neurons];
    let mut count = 0usize;
    for point in per_class.iter().flat_map(|p| p.chunks_exact(neurons)) {
        for ((s, q), &v) in sum.iter_mut().zip(&mut sum_sq).zip(point) {
            *s += f64::from(v);
            *q += f64::from(v) * f64::from(v);
        }
        count += 1;
    }
    let n = count.max(1) as f64;
    let std: Vec<f64> = sum
        .iter()
        .zip(&sum_sq)
        .map(|(s, q)| (q / n - (s / n) * (s / n)).max(0.0).sqrt())
        .collect();
    let floor = (0.01 * std.iter().sum::<f64>() / neurons.max(1) as f64).max(1e-6);
    std.iter().map(|s| s.max(floor) as f32).collect()
}

/// The bounding box of each non-empty cluster.
fn bounding_boxes(points: &[f32], neurons: usize, assignment: &[usize]) -> ClassBoxes {
    let clusters = assignment.iter().max().map_or(0, |m| m + 1);
    let mut lo = vec![f32::INFINITY; clusters * neurons];
    let mut hi = vec![f32::NEG_INFINITY; clusters * neurons];
    let mut used = vec![false; clusters];
    for (r, &j) in points.chunks_exact(neurons).zip(assignment) {
        used[j] = true;
        let range = j * neurons..(j + 1) * neurons;
        for ((l, h), &v) in lo[range.clone()].iter_mut().zip(&mut hi[range]).zip(r) {
            *l = l.min(v);
            *h = h.max(v);
        }
    }
    let keep = |bounds: Vec<f32>| -> Vec<f32> {
        bounds
            .chunks_exact(neurons)
            .zip(&used)
            .filter(|(_, &u)| u)
            .flat_map(|(b, _)| b.iter().copied())
            .collect()
    };
    ClassBoxes {
        lo: keep(lo),
        hi: keep(hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_bound_the_two_clusters_of_two_distant_groups() {
        // Class 0: two tight groups around (0, 0) and (10, 10).
        let points = vec![0.0, 0.0, 1.0, 0.5, 10.0, 10.0, 11.0, 9.0, 0.5, 1.0];
        let boxes = Boxes::build(2, &[points, Vec::new()], 2, 7).unwrap();
        let b = &boxes.classes()[0];
        assert_eq!(b.count(2), 2);
        let mut pairs: Vec<(Vec<f32>, Vec<f32>)> =
            b.lo.chunks_exact(2)
                .zip(b.hi.chunks_exact(2))
                .map(|(l, h)| (l.to_vec(), h.to_vec()))
                .collect();
        pairs.sort_by(|a, b| a.0[0].total_cmp(&b.0[0]));
        assert_eq!(pairs[0], (vec![0.0, 0.0], vec![1.0, 1.0]));
        assert_eq!(pairs[1], (vec![10.0, 9.0], vec![11.0, 10.0]));
        // Inside a box: 0; between the boxes the distance is to the nearer one, scaled per neuron.
        assert_eq!(boxes.score(0, &[0.5, 0.5]), 0.0);
        let s = boxes.scale();
        let expected = f64::from(4.0 / s[0]) + f64::from(4.0 / s[1]);
        assert!((boxes.score(0, &[5.0, 5.0]) - expected).abs() < 1e-5);
        // A class without training images has no box.
        assert_eq!(boxes.score(1, &[0.0, 0.0]), f64::INFINITY);
        assert_eq!(boxes.score(9, &[0.0, 0.0]), f64::INFINITY);
    }

    #[test]
    fn scale_is_the_standard_deviation_with_a_positive_floor() {
        // Neuron 0 takes 0 and 2 (std 1); neuron 1 is constant.
        let scale = neuron_scale(2, &[vec![0.0, 3.0], vec![2.0, 3.0]]);
        assert!((scale[0] - 1.0).abs() < 1e-6);
        assert!((scale[1] - 0.005).abs() < 1e-6);
    }

    #[test]
    fn stored_boxes_are_checked() {
        let ok = ClassBoxes {
            lo: vec![0.0, 1.0],
            hi: vec![1.0, 1.0],
        };
        assert!(Boxes::from_parts(2, vec![1.0, 1.0], vec![ok.clone()]).is_ok());
        assert!(Boxes::build(0, &[vec![1.0]], 2, 0).is_err());
        assert!(Boxes::build(1, &[vec![1.0]], 0, 0).is_err());
        assert!(Boxes::from_parts(2, vec![1.0, 0.0], vec![ok.clone()]).is_err());
        let inverted = ClassBoxes {
            lo: vec![2.0, 1.0],
            hi: vec![1.0, 1.0],
        };
        assert!(Boxes::from_parts(2, vec![1.0, 1.0], vec![inverted]).is_err());
        let ragged = ClassBoxes {
            lo: vec![0.0],
            hi: vec![1.0],
        };
        assert!(Boxes::from_parts(2, vec![1.0, 1.0], vec![ragged]).is_err());
    }
}
