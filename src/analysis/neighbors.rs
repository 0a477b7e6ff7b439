//! Exact k nearest neighbours by squared Euclidean distance, and the trustworthiness of an embedding.
//!
//! Neighbours of a point are the other points sorted by `(‖x_i − x_j‖², j)`: closest first, ties by lower
//! index. Brute force, `O(N² D)`, each pair computed once.
//!
//! Trustworthiness (Venna & Kaski 2001; `sklearn.manifold.trustworthiness`), with `r(i, j)` the rank of `j`
//! among the neighbours of `i` in the input space and `U_k(i)` the `k` nearest neighbours of `i` in the
//! embedding:
//!
//! ```text
//! T(k) = 1 − 2 / (N k (2N − 3k − 1)) · Σ_i Σ_{j ∈ U_k(i)} max(0, r(i, j) − k)
//! ```

use super::check_matrix;
use crate::error::{Error, Result};
use ndarray::{Array2, ArrayView1, ArrayView2};

/// Each point's `k` nearest other points.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbors {
    /// `N × k` indices, closest first.
    pub indices: Array2<usize>,
    /// `N × k` squared Euclidean distances, ascending.
    pub distances: Array2<f32>,
}

/// `‖a − b‖²` over the common length, summed in eight lanes (vectorises like [`crate::tensor::dot`]).
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let whole = n - n % 8;
    let mut lanes = [0.0f32; 8];
    for (x, y) in a[..whole].chunks_exact(8).zip(b[..whole].chunks_exact(8)) {
        for ((lane, &p), &q) in lanes.iter_mut().zip(x).zip(y) {
            *lane += (p - q) * (p - q);
        }
    }
    let rest: f32 = a[whole..n]
        .iter()
        .zip(&b[whole..n])
        .map(|(p, q)| (p - q) * (p - q))
        .sum();
    lanes.iter().sum::<f32>() + rest
}

/// The `k` smallest `(key, index)` pairs seen so far, ascending: ties by lower index, whatever the order in
/// which they are offered. (The dataset views rank with it too: a largest value is the smallest negated one.)
#[derive(Debug, Clone)]
pub(crate) struct Best<K> {
    k: usize,
    pub(crate) items: Vec<(K, usize)>,
}

impl<K: PartialOrd + Copy> Best<K> {
    pub(crate) fn new(k: usize) -> Best<K> {
        Best {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    pub(crate) fn offer(&mut self, d: K, j: usize) {
        let below = |a: (K, usize), b: (K, usize)| a.0 < b.0 || (a.0 == b.0 && a.1 < b.1);
        if self.items.len() == self.k && !self.items.last().is_some_and(|&w| below((d, j), w)) {
            return;
        }
        let at = self.items.partition_point(|&w| below(w, (d, j)));
        self.items.insert(at, (d, j));
        self.items.truncate(self.k);
    }
}

/// Rows of `x` as one contiguous row-major buffer.
fn contiguous(x: ArrayView2<f32>) -> Vec<f32> {
    x.iter().copied().collect()
}

/// The `k` nearest other rows of each row of `x` (finite, `1 ≤ k < N`).
pub fn nearest_neighbors(x: ArrayView2<f32>, k: usize) -> Result<Neighbors> {
    check_matrix(x, "points", 2)?;
    let n = x.nrows();
    if k == 0 || k >= n {
        return Err(Error::out_of_range(
            "the number of neighbours",
            k,
            format!("1 to {} (fewer than the points)", n - 1),
        ));
    }
    let data = contiguous(x);
    let rows: Vec<&[f32]> = data.chunks_exact(x.ncols()).collect();
    let mut best: Vec<Best<f32>> = (0..n).map(|_| Best::new(k)).collect();
    for i in 0..n {
        for j in i + 1..n {
            let d = squared_distance(rows[i], rows[j]);
            best[i].offer(d, j);
            best[j].offer(d, i);
        }
    }
    let mut out = Neighbors {
        indices: Array2::zeros((n, k)),
        distances: Array2::zeros((n, k)),
    };
    for (i, b) in best.iter().enumerate() {
        for (m, &(d, j)) in b.items.iter().enumerate() {
            out.indices[[i, m]] = j;
            out.distances[[i, m]] = d;
        }
    }
    Ok(out)
}

/// The `k` rows of `data` nearest to `point` (`1 ≤ k ≤ N`): indices and squared distances, closest first.
pub fn query(
    data: ArrayView2<f32>,
    point: ArrayView1<f32>,
    k: usize,
) -> Result<(Vec<usize>, Vec<f32>)> {
    check_matrix(data, "points", 1)?;
    if point.len() != data.ncols() {
        return Err(Error::shape(
            "the query point",
            &[data.ncols()],
            &[point.len()],
        ));
    }
    if !point.iter().all(|v| v.is_finite()) {
        return Err(Error::non_finite("the query point"));
    }
    if k == 0 || k > data.nrows() {
        return Err(Error::out_of_range(
            "the number of neighbours",
            k,
            format!("1 to {}", data.nrows()),
        ));
    }
    let p: Vec<f32> = point.iter().copied().collect();
    let mut best = Best::new(k);
    for (j, row) in data.rows().into_iter().enumerate() {
        let row: Vec<f32> = row.iter().copied().collect();
        best.offer(squared_distance(&p, &row), j);
    }
    Ok(best.items.into_iter().map(|(d, j)| (j, d)).unzip())
}

/// Trustworthiness of `embedding` (`N × d`) for the points `x` (`N × D`) at `k` neighbours (`1 ≤ k < N/2`):
/// 1 when every embedded neighbourhood holds only input-space neighbours, lower the farther the intruders.
pub fn trustworthiness(x: ArrayView2<f32>, embedding: ArrayView2<f32>, k: usize) -> Result<f64> {
    check_matrix(x, "points", 2)?;
    let n = x.nrows();
    if embedding.nrows() != n {
        return Err(Error::shape(
            "the embedding",
            &[n, embedding.ncols()],
            embedding.shape(),
        ));
    }
    if k == 0 || 2 * k >= n {
        return Err(Error::out_of_range(
            "the number of neighbours for trustworthiness",
            k,
            format!("1 to {} (fewer than half the points)", (n - 1) / 2),
        ));
    }
    let embedded = nearest_neighbors(embedding, k)?;
    let data = contiguous(x);
    let rows: Vec<&[f32]> = data.chunks_exact(x.ncols()).collect();
    let mut penalty = 0f64;
    let mut distances = vec![0f32; n];
    for i in 0..n {
        for (d, row) in distances.iter_mut().zip(&rows) {
            *d = squared_distance(rows[i], row);
        }
        for &j in embedded.indices.row(i) {
            let dj = distances[j];
            // 1-based rank of j among the others, ties by lower index.
            let rank = 1
                + (0..n)
                    .filter(|&l| l != i && (distances[l] < dj || (distances[l] == dj && l < j)))
                    .count();
            penalty += rank.saturating_sub(k) as f64;
        }
    }
    let (n, k) = (n as f64, k as f64);
    Ok(1.0 - penalty * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn neighbours_on_a_line_with_ties_by_index() {
        let x = array![[0.0f32], [1.0], [3.0], [-1.0]];
        let nn = nearest_neighbors(x.view(), 2).unwrap();
        // Point 0 sees 1 and 3 at distance 1 (tie: lower index first).
        assert_eq!(nn.indices.row(0).to_vec(), vec![1, 3]);
        assert_eq!(nn.distances.row(0).to_vec(), vec![1.0, 1.0]);
        assert_eq!(nn.indices.row(2).to_vec(), vec![1, 0]);
        assert_eq!(nn.distances.row(2).to_vec(), vec![4.0, 9.0]);
        let (idx, d) = query(x.view(), array![2.9f32].view(), 1).unwrap();
        assert_eq!((idx, d.len()), (vec![2], 1));
        assert!(nearest_neighbors(x.view(), 4).is_err());
        assert_eq!(squared_distance(&[1.0; 11], &[3.0; 11]), 44.0);
    }

    #[test]
    fn trustworthiness_by_hand() {
        // Six points on a line; an embedding that keeps the order is perfectly trustworthy.
        let x = array![[0.0f32], [1.0], [2.0], [3.0], [4.0], [5.0]];
        assert_eq!(trustworthiness(x.view(), x.view(), 2).unwrap(), 1.0);
        // Swap points 0 and 5 in the embedding: embedded order 5, 1, 2, 3, 4, 0.
        let e = array![[5.0f32], [1.0], [2.0], [3.0], [4.0], [0.0]];
        // Embedded 2-NN (ties by index) and their input ranks r, penalty max(0, r − 2): point 0 (at 5):
        // 4 (r 4), 3 (r 3) → 3; point 1: 2 (r 2), 5 (r 5) → 3; point 4: 0 (r 5), 3 (r 1) → 3; point 5
        // (at 0): 1 (r 4), 2 (r 3) → 3; points 2 and 3 keep their input neighbours → 0. Σ = 12, and
        // sklearn.manifold.trustworthiness gives 0.6 as well.
        let t = trustworthiness(x.view(), e.view(), 2).unwrap();
        let want = 1.0 - 12.0 * 2.0 / (6.0 * 2.0 * (12.0 - 6.0 - 1.0));
        assert!((t - want).abs() < 1e-12, "{t} vs {want}");
        assert!(trustworthiness(x.view(), e.view(), 3).is_err());
    }
}
