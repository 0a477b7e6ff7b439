//! Exact k nearest neighbours by squared Euclidean distance, and the trustworthiness of an embedding.
//!
//! Neighbours of a point are the other points sorted by `(‖x_i − x_j‖², j)`: closest first, ties by lower
//! index. Exact, `O(N² D)`: the inner products of all pairs by the linear layer's batched kernel bound each
//! point's candidates, which are then measured one by one ([`nearest_neighbors`]).
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
use crate::layers::linear::{forward_batch, LinearParams};
use crate::tensor::{dot, Tensor};
use ndarray::{Array2, ArrayView1, ArrayView2};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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

/// Rows of `x` whose products with every row are taken at once (64 × N products, 2.5 MB for N = 10,000).
const BLOCK: usize = 64;

/// The `k` nearest other rows of each row of `x` (finite, `1 ≤ k < N`): the same result as offering every
/// pair's [`squared_distance`] to a [`Best`], found faster. The products `⟨x_i, x_j⟩` of a block of rows with
/// all rows come from the linear layer's batched kernel ([`linear::forward_batch`], `N² D` multiply-adds
/// four lanes wide); `a_ij = ‖x_i‖² + ‖x_j‖² − 2⟨x_i, x_j⟩` then differs from `squared_distance(x_i, x_j)` by
/// at most `c (‖x_i‖² + ‖x_j‖²)` ([`slack`]), so every `j` whose exact distance can be among the `k` smallest
/// has `a_ij ≤ A + 2c (‖x_i‖² + max_j ‖x_j‖²)` with `A` the `k`-th smallest `a_ij`; only those are measured
/// exactly and ranked (a few more than `k` per row).
pub fn nearest_neighbors(x: ArrayView2<f32>, k: usize) -> Result<Neighbors> {
    check_matrix(x, "points", 2)?;
    let (n, d) = x.dim();
    if k == 0 || k >= n {
        return Err(Error::out_of_range(
            "the number of neighbours",
            k,
            format!("1 to {} (fewer than the points)", n - 1),
        ));
    }
    let data = contiguous(x);
    let rows: Vec<&[f32]> = data.chunks_exact(d).collect();
    let norms: Vec<f32> = rows.iter().map(|r| dot(r, r)).collect();
    let slack = slack(&norms, d);
    let inputs = rows
        .iter()
        .map(|r| Tensor::from_vec(&[d], r.to_vec()))
        .collect::<Result<Vec<_>>>()?;
    let inputs: Vec<&Tensor> = inputs.iter().collect();
    let mut out = Neighbors {
        indices: Array2::zeros((n, k)),
        distances: Array2::zeros((n, k)),
    };
    let mut products = vec![0f32; BLOCK * n];
    for (b, block) in data.chunks(BLOCK * d).enumerate() {
        let m = block.len() / d;
        let params = LinearParams {
            in_features: d,
            out_features: m,
        };
        // `columns[j][r] = ⟨x_j, x_{b·BLOCK + r}⟩`, stored row by row of the block.
        let columns = forward_batch(&params, &inputs, block, &vec![0.0; m])?;
        for (j, column) in columns.iter().enumerate() {
            for (r, &v) in column.data().iter().enumerate() {
                products[r * n + j] = v;
            }
        }
        for (r, estimate) in products.chunks_exact_mut(n).take(m).enumerate() {
            let i = b * BLOCK + r;
            for (e, &nj) in estimate.iter_mut().zip(&norms) {
                *e = norms[i] + nj - 2.0 * *e;
            }
            estimate[i] = f32::INFINITY;
            let best = exact_nearest(&rows, i, estimate, k, slack(norms[i]));
            for (m, &(dist, j)) in best.iter().enumerate() {
                out.indices[[i, m]] = j;
                out.distances[[i, m]] = dist;
            }
        }
    }
    Ok(out)
}

/// `s(‖x_i‖²)`: how far above the `k`-th smallest estimate of row `i` an exact `k`-nearest neighbour's
/// estimate can be, `2c (‖x_i‖² + max_j ‖x_j‖²)`. In `f32` (unit roundoff `u`) the norms and the kernel's
/// products are each within `γ_D (‖x_i‖² + ‖x_j‖²)` of the truth, `γ_D ≈ D u`, the estimate's two roundings
/// add `3u` of that, and [`squared_distance`] is within `γ_{D+2} · 2 (‖x_i‖² + ‖x_j‖²)`: so
/// `c = (4D + 11) u` bounds the difference between an estimate and the exact distance we rank by; twice that
/// is taken. Infinite (every row measured) where the norms come near overflow.
fn slack(norms: &[f32], d: usize) -> impl Fn(f32) -> f32 {
    let largest = norms.iter().fold(0f32, |m, &v| m.max(v));
    let c = (4 * d + 16) as f32 * f32::EPSILON;
    move |norm| {
        if largest < f32::MAX / 16.0 {
            2.0 * c * (norm + largest)
        } else {
            f32::INFINITY
        }
    }
}

/// `v`'s place in [`f32::total_cmp`]'s order, as an unsigned integer.
fn order_key(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

/// The `k`-th smallest of `values` in [`f32::total_cmp`]'s order (`1 ≤ k ≤ len`): one pass keeping the `k`
/// smallest in a heap, most values rejected by one comparison.
fn kth_smallest(values: &[f32], k: usize) -> f32 {
    let mut heap: BinaryHeap<(u32, usize)> = BinaryHeap::with_capacity(k + 1);
    for (j, &v) in values.iter().enumerate() {
        let key = order_key(v);
        if heap.len() < k {
            heap.push((key, j));
        } else if heap.peek().is_some_and(|&(top, _)| key < top) {
            heap.pop();
            heap.push((key, j));
        }
    }
    heap.peek().map_or(f32::INFINITY, |&(_, j)| values[j])
}

/// Row `i`'s `k` nearest other rows (ascending `(squared_distance, j)`), measuring exactly only the rows `j`
/// whose `estimate[j]` is at most `slack` above the `k`-th smallest estimate (`estimate[i]` is `+∞`).
fn exact_nearest(
    rows: &[&[f32]],
    i: usize,
    estimate: &[f32],
    k: usize,
    slack: f32,
) -> Vec<(f32, usize)> {
    let limit = kth_smallest(estimate, k) + slack;
    let mut best = Best::new(k);
    for (j, &e) in estimate.iter().enumerate() {
        // Not `e <= limit`: a NaN estimate or limit keeps the row (measured, never lost).
        if j != i && e.partial_cmp(&limit) != Some(Ordering::Greater) {
            best.offer(squared_distance(rows[i], rows[j]), j);
        }
    }
    best.items
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

    /// Every pair offered to a [`Best`]: the definition [`nearest_neighbors`] must equal bit for bit.
    fn every_pair(x: ArrayView2<f32>, k: usize) -> Vec<Vec<(f32, usize)>> {
        let rows: Vec<Vec<f32>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
        (0..rows.len())
            .map(|i| {
                let mut best = Best::new(k);
                for (j, row) in rows.iter().enumerate().filter(|&(j, _)| j != i) {
                    best.offer(squared_distance(&rows[i], row), j);
                }
                best.items
            })
            .collect()
    }

    #[test]
    fn the_product_path_equals_every_pair_measured() {
        let mut rng = crate::rng::Rng::new(11);
        // 150 points in 84 (two blocks, a partial one) and in 3 dimensions: noise, coarse values with many
        // ties, repeated rows, and values whose norms overflow (every row then measured exactly).
        for (d, scale, round) in [(84, 3.0f32, false), (3, 1.0, true), (5, 1e19, false)] {
            let mut x = Array2::from_shape_fn((150, d), |_| rng.normal() * scale);
            if round {
                x.mapv_inplace(|v| v.round());
            }
            for i in 0..10 {
                let row = x.row(i).to_owned();
                x.row_mut(100 + i).assign(&row);
            }
            for k in [1, 7, 90, 149] {
                let nn = nearest_neighbors(x.view(), k).unwrap();
                for (i, want) in every_pair(x.view(), k).iter().enumerate() {
                    let got: Vec<(f32, usize)> = nn
                        .distances
                        .row(i)
                        .iter()
                        .zip(nn.indices.row(i))
                        .map(|(&d, &j)| (d, j))
                        .collect();
                    assert_eq!(&got, want, "d {d}, k {k}, row {i}");
                }
            }
        }
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
