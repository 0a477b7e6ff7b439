//! UMAP (McInnes, Healy & Melville, "UMAP: Uniform Manifold Approximation and Projection", 2018), following
//! umap-learn 0.5's `UMAP(n_neighbors=15, min_dist=0.1, init="pca")`:
//!
//! 1. **Graph.** Each point's `k − 1` nearest other points (`k` = `n_neighbors` counts the point itself),
//!    Euclidean distances `d_ij`; `ρ_i` = the distance to the nearest one, `σ_i` by binary search so that
//!    `Σ_j exp(−max(0, d_ij − ρ_i) / σ_i) = log₂ k` (64 steps, floored at 1e-3 × the mean distance);
//!    memberships `v_ij = exp(−max(0, d_ij − ρ_i) / σ_i)`, made symmetric by the fuzzy union
//!    `v + vᵀ − v ∘ vᵀ`. Edges below `max v / epochs` are dropped.
//! 2. **Curve.** Low-dimensional similarity `1 / (1 + a‖y_i − y_j‖^{2b})`, `(a, b)` fitted by least squares
//!    to `1` below `min_dist` and `exp(−(x − min_dist) / spread)` above, on 300 points of `[0, 3·spread]`
//!    ([`fit_ab`]).
//! 3. **Layout.** Start: the first two principal components scaled to `[0, 10]`. Then `epochs` (500 up to
//!    10,000 points, else 200) of stochastic gradient descent: edge `(i, j)` is sampled every
//!    `max v / v_ij` epochs, pulls `y_i` and `y_j` together with coefficient
//!    `−2ab d^{2(b−1)} / (1 + a d^{2b})` and pushes `y_i` from 5 random points per sample with
//!    `2b / ((0.001 + d²)(1 + a d^{2b}))`, each gradient coordinate clipped to ±4, at a learning rate that
//!    falls linearly from 1 to 0.
//!
//! [`Umap::step`] runs a few epochs and returns (a worker animates and cancels between calls);
//! [`Umap::place`] optimises one new point against the fixed map, as umap-learn's `transform`.
//! Negative samples come from convscope's seeded generator, so a run is reproducible but does not repeat
//! umap-learn's random stream.

use super::check_matrix;
use super::neighbors::{nearest_neighbors, query};
use super::pca::Pca;
use crate::error::{Error, Result};
use crate::rng::Rng;
use ndarray::{Array2, ArrayView1, ArrayView2};

/// The settings of a UMAP run (defaults: umap-learn's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UmapOptions {
    /// `k`, the point itself included.
    pub neighbors: usize,
    pub min_dist: f64,
    pub spread: f64,
    /// `None`: 500 for up to 10,000 points, else 200.
    pub epochs: Option<usize>,
    pub negative_sample_rate: usize,
    pub seed: u64,
}

impl Default for UmapOptions {
    fn default() -> Self {
        UmapOptions {
            neighbors: 15,
            min_dist: 0.1,
            spread: 1.0,
            epochs: None,
            negative_sample_rate: 5,
            seed: 0,
        }
    }
}

/// The edges of a fuzzy graph and when each is next sampled.
#[derive(Debug, Clone)]
struct Schedule {
    head: Vec<usize>,
    tail: Vec<usize>,
    epochs_per_sample: Vec<f64>,
    next_sample: Vec<f64>,
    epochs_per_negative: Vec<f64>,
    next_negative: Vec<f64>,
}

impl Schedule {
    /// Edges `(head, tail, weight)`, those below `max / epochs` dropped.
    fn new(edges: &[(usize, usize, f64)], epochs: usize, negative_rate: usize) -> Schedule {
        let max = edges.iter().map(|e| e.2).fold(0f64, f64::max);
        let kept: Vec<&(usize, usize, f64)> = edges
            .iter()
            .filter(|e| e.2 >= max / epochs as f64 && e.2 > 0.0)
            .collect();
        let per_sample: Vec<f64> = kept.iter().map(|e| max / e.2).collect();
        let per_negative: Vec<f64> = per_sample
            .iter()
            .map(|s| s / negative_rate.max(1) as f64)
            .collect();
        Schedule {
            head: kept.iter().map(|e| e.0).collect(),
            tail: kept.iter().map(|e| e.1).collect(),
            next_sample: per_sample.clone(),
            epochs_per_sample: per_sample,
            next_negative: per_negative.clone(),
            epochs_per_negative: per_negative,
        }
    }
}

/// The curve parameters and the negative sampling of one layout.
#[derive(Debug, Clone, Copy)]
struct Curve {
    a: f64,
    b: f64,
}

impl Curve {
    fn attraction(&self, d2: f64) -> f64 {
        if d2 > 0.0 {
            let db = d2.powf(self.b);
            -2.0 * self.a * self.b * db / d2 / (self.a * db + 1.0)
        } else {
            0.0
        }
    }

    fn repulsion(&self, d2: f64) -> f64 {
        2.0 * self.b / ((0.001 + d2) * (self.a * d2.powf(self.b) + 1.0))
    }
}

fn clip(v: f64) -> f64 {
    v.clamp(-4.0, 4.0)
}

fn squared(a: [f32; 2], b: [f32; 2]) -> f64 {
    let (dx, dy) = (f64::from(a[0] - b[0]), f64::from(a[1] - b[1]));
    dx * dx + dy * dy
}

/// One epoch `n` of SGD at learning rate `alpha`. Heads index `moving`; tails index `fixed` when given
/// (placing new points: only heads move), else `moving` too (fitting: both ends move).
fn sgd_epoch(
    s: &mut Schedule,
    curve: Curve,
    n: f64,
    alpha: f64,
    moving: &mut [[f32; 2]],
    fixed: Option<&[[f32; 2]]>,
    rng: &mut Rng,
) {
    let vertices = fixed.map_or(moving.len(), <[_]>::len);
    for e in 0..s.head.len() {
        if s.next_sample[e] > n {
            continue;
        }
        let (j, k) = (s.head[e], s.tail[e]);
        let other = fixed.map_or_else(|| moving[k], |f| f[k]);
        let coeff = curve.attraction(squared(moving[j], other));
        for d in 0..2 {
            let g = clip(coeff * f64::from(moving[j][d] - other[d])) * alpha;
            moving[j][d] += g as f32;
            if fixed.is_none() {
                moving[k][d] -= g as f32;
            }
        }
        s.next_sample[e] += s.epochs_per_sample[e];
        let negatives = ((n - s.next_negative[e]) / s.epochs_per_negative[e]).max(0.0) as usize;
        for _ in 0..negatives {
            let k = rng.below(vertices);
            let other = fixed.map_or_else(|| moving[k], |f| f[k]);
            let d2 = squared(moving[j], other);
            if d2 <= 0.0 {
                continue; // itself, or a point at the same place: no direction to push in
            }
            let coeff = curve.repulsion(d2);
            for d in 0..2 {
                moving[j][d] += (clip(coeff * f64::from(moving[j][d] - other[d])) * alpha) as f32;
            }
        }
        s.next_negative[e] += negatives as f64 * s.epochs_per_negative[e];
    }
}

/// `(σ, ρ)` of one point from its distances to its `k − 1` nearest others (ascending), as umap-learn's
/// `smooth_knn_dist` with `local_connectivity` 1 (`connect`) or 0; `mean` is the floor's reference distance.
fn smooth_knn(distances: &[f64], k: usize, connect: bool, mean: f64) -> (f64, f64) {
    let rho = if connect {
        distances.iter().copied().find(|&d| d > 0.0).unwrap_or(0.0)
    } else {
        0.0
    };
    let target = (k as f64).log2();
    let (mut lo, mut hi, mut mid) = (0.0f64, f64::INFINITY, 1.0f64);
    for _ in 0..64 {
        let psum: f64 = distances
            .iter()
            .map(|&d| {
                if d - rho > 0.0 {
                    (-(d - rho) / mid).exp()
                } else {
                    1.0
                }
            })
            .sum();
        if (psum - target).abs() < 1e-5 {
            break;
        }
        if psum > target {
            hi = mid;
            mid = (lo + hi) / 2.0;
        } else {
            lo = mid;
            mid = if hi == f64::INFINITY {
                mid * 2.0
            } else {
                (lo + hi) / 2.0
            };
        }
    }
    (mid.max(1e-3 * mean), rho)
}

fn membership(d: f64, sigma: f64, rho: f64) -> f64 {
    if d - rho <= 0.0 || sigma == 0.0 {
        1.0
    } else {
        (-(d - rho) / sigma).exp()
    }
}

/// The fuzzy union `v + vᵀ − v∘vᵀ` of the directed memberships, as sorted edges `(i, j, w)`, both directions.
fn fuzzy_union(directed: Vec<(usize, usize, f64)>) -> Vec<(usize, usize, f64)> {
    let mut both: Vec<(usize, usize, f64, f64)> = Vec::with_capacity(2 * directed.len());
    for (i, j, v) in directed {
        both.push((i, j, v, 0.0));
        both.push((j, i, 0.0, v));
    }
    both.sort_unstable_by_key(|x| (x.0, x.1));
    let mut edges: Vec<(usize, usize, f64)> = Vec::with_capacity(both.len());
    let mut parts: Vec<(f64, f64)> = Vec::with_capacity(both.len());
    for (i, j, forward, backward) in both {
        match (edges.last(), parts.last_mut()) {
            (Some(&(pi, pj, _)), Some(p)) if (pi, pj) == (i, j) => {
                p.0 += forward;
                p.1 += backward;
            }
            _ => {
                edges.push((i, j, 0.0));
                parts.push((forward, backward));
            }
        }
    }
    for (e, (a, b)) in edges.iter_mut().zip(parts) {
        e.2 = a + b - a * b;
    }
    edges.retain(|e| e.2 > 0.0);
    edges
}

/// The symmetric fuzzy graph of the rows of `x` with `k` neighbours (the point included).
fn fuzzy_graph(x: ArrayView2<f32>, k: usize) -> Result<Vec<(usize, usize, f64)>> {
    let nn = nearest_neighbors(x, k - 1)?;
    let distances = nn.distances.mapv(|d| f64::from(d).sqrt());
    // umap-learn's means include each point's zero distance to itself.
    let mean = distances.sum() / (distances.nrows() * k) as f64;
    let mut directed = Vec::with_capacity(nn.indices.len());
    for (i, (row, d)) in nn
        .indices
        .rows()
        .into_iter()
        .zip(distances.rows())
        .enumerate()
    {
        let d: Vec<f64> = d.to_vec();
        let row_mean = d.iter().sum::<f64>() / k as f64;
        let (sigma, rho) = smooth_knn(&d, k, true, if rho_positive(&d) { row_mean } else { mean });
        for (&j, &dj) in row.iter().zip(&d) {
            directed.push((i, j, membership(dj, sigma, rho)));
        }
    }
    Ok(fuzzy_union(directed))
}

fn rho_positive(d: &[f64]) -> bool {
    d.iter().any(|&v| v > 0.0)
}

/// `(a, b)` of the curve `1 / (1 + a x^{2b})` fitted to the target of `min_dist` and `spread` (as
/// umap-learn's `find_ab_params`), by Levenberg–Marquardt from `(1, 1)`.
pub fn fit_ab(spread: f64, min_dist: f64) -> Result<(f64, f64)> {
    if !(spread.is_finite() && spread > 0.0 && min_dist.is_finite() && min_dist >= 0.0) {
        return Err(Error::out_of_range(
            "UMAP's spread and min_dist",
            format!("{spread} and {min_dist}"),
            "spread > 0, min_dist ≥ 0",
        ));
    }
    let xs: Vec<f64> = (0..300).map(|i| 3.0 * spread * i as f64 / 299.0).collect();
    let target: Vec<f64> = xs
        .iter()
        .map(|&x| {
            if x < min_dist {
                1.0
            } else {
                (-(x - min_dist) / spread).exp()
            }
        })
        .collect();
    // Residuals and Jacobian columns ∂/∂a, ∂/∂b at (a, b).
    let model = |a: f64, b: f64| {
        let mut out = (0.0, [0.0; 2], [[0.0; 2]; 2]);
        for (&x, &t) in xs.iter().zip(&target) {
            let u = if x > 0.0 { x.powf(2.0 * b) } else { 0.0 };
            let f = 1.0 / (1.0 + a * u);
            let r = f - t;
            let ja = -u * f * f;
            let jb = if x > 0.0 {
                -a * u * 2.0 * x.ln() * f * f
            } else {
                0.0
            };
            out.0 += r * r;
            out.1 = [out.1[0] + ja * r, out.1[1] + jb * r];
            out.2 = [
                [out.2[0][0] + ja * ja, out.2[0][1] + ja * jb],
                [0.0, out.2[1][1] + jb * jb],
            ];
        }
        out
    };
    let (mut a, mut b, mut lambda) = (1.0f64, 1.0f64, 1e-3f64);
    let (mut cost, mut g, mut h) = model(a, b);
    for _ in 0..500 {
        let (h00, h01, h11) = (h[0][0] * (1.0 + lambda), h[0][1], h[1][1] * (1.0 + lambda));
        let det = h00 * h11 - h01 * h01;
        let da = -(h11 * g[0] - h01 * g[1]) / det;
        let db = -(h00 * g[1] - h01 * g[0]) / det;
        let (c, g2, h2) = model(a + da, b + db);
        if c.is_finite() && c < cost {
            let small = (cost - c) <= 1e-15 * cost;
            (a, b, cost, g, h) = (a + da, b + db, c, g2, h2);
            lambda = (lambda / 10.0).max(1e-12);
            if small {
                break;
            }
        } else {
            lambda *= 10.0;
            if lambda > 1e12 {
                break;
            }
        }
    }
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
        return Err(Error::internal("the UMAP curve fit did not converge"));
    }
    Ok((a, b))
}

/// A UMAP run in progress.
#[derive(Debug, Clone)]
pub struct Umap {
    options: UmapOptions,
    curve: Curve,
    schedule: Schedule,
    y: Vec<[f32; 2]>,
    epoch: usize,
    epochs: usize,
    rng: Rng,
    data: Array2<f32>,
}

/// The starting map: PCA scaled to at most 10 in magnitude, 1e-4 noise, then each axis to `[0, 10]`.
fn initial_map(x: ArrayView2<f32>, rng: &mut Rng) -> Result<Vec<[f32; 2]>> {
    let p = Pca::fit(x, 2)?.transform(x)?;
    let largest = p.iter().fold(0f64, |m, v| m.max(v.abs()));
    let expand = if largest > 0.0 { 10.0 / largest } else { 1.0 };
    let mut y: Vec<[f32; 2]> = p
        .rows()
        .into_iter()
        .map(|r| {
            let mut noisy = |v: f64| (v * expand) as f32 + rng.normal() * 1e-4;
            [noisy(r[0]), noisy(r[1])]
        })
        .collect();
    for a in 0..2 {
        let lo = y.iter().map(|p| p[a]).fold(f32::INFINITY, f32::min);
        let hi = y.iter().map(|p| p[a]).fold(f32::NEG_INFINITY, f32::max);
        let width = if hi > lo { hi - lo } else { 1.0 };
        for p in &mut y {
            p[a] = 10.0 * (p[a] - lo) / width;
        }
    }
    Ok(y)
}

impl Umap {
    /// Prepares a run on the rows of `x` (`N × D`, finite, `N > neighbors`, `D ≥ 2`).
    pub fn new(x: ArrayView2<f32>, options: &UmapOptions) -> Result<Umap> {
        check_matrix(x, "points to embed", 2)?;
        let n = x.nrows();
        if options.neighbors < 2 || options.neighbors > n {
            return Err(Error::out_of_range(
                "the number of UMAP neighbours",
                options.neighbors,
                format!("2 to {n} (the number of points)"),
            ));
        }
        let (a, b) = fit_ab(options.spread, options.min_dist)?;
        let epochs = options
            .epochs
            .unwrap_or(if n <= 10_000 { 500 } else { 200 })
            .max(1);
        let edges = fuzzy_graph(x, options.neighbors)?;
        let mut rng = Rng::new(options.seed);
        let y = initial_map(x, &mut rng)?;
        Ok(Umap {
            options: *options,
            curve: Curve { a, b },
            schedule: Schedule::new(&edges, epochs, options.negative_sample_rate),
            y,
            epoch: 0,
            epochs,
            rng,
            data: x.to_owned(),
        })
    }

    /// Runs up to `epochs` more epochs; returns `(epochs done, epochs in all)`.
    pub fn step(&mut self, epochs: usize) -> (usize, usize) {
        let end = self.epoch.saturating_add(epochs).min(self.epochs);
        while self.epoch < end {
            let alpha = 1.0 - self.epoch as f64 / self.epochs as f64;
            let n = self.epoch as f64;
            sgd_epoch(
                &mut self.schedule,
                self.curve,
                n,
                alpha,
                &mut self.y,
                None,
                &mut self.rng,
            );
            self.epoch += 1;
        }
        (self.epoch, self.epochs)
    }

    /// Runs to the end.
    pub fn run(&mut self) -> (usize, usize) {
        self.step(self.epochs)
    }

    /// `(epochs done, epochs in all)`.
    pub fn progress(&self) -> (usize, usize) {
        (self.epoch, self.epochs)
    }

    /// The curve parameters `(a, b)`.
    pub fn curve(&self) -> (f64, f64) {
        (self.curve.a, self.curve.b)
    }

    /// The current map, `N × 2`.
    pub fn embedding(&self) -> Array2<f32> {
        Array2::from_shape_fn((self.y.len(), 2), |(i, a)| self.y[i][a])
    }

    /// Places a new point `x` (`D` features) on the map, the map fixed (umap-learn's `transform`): its
    /// memberships to its `k` nearest input points (`ρ = 0`), a start at their weighted mean position, then
    /// `epochs / 3` epochs (100 by default) of SGD moving only the new point, at a learning rate from 1/4.
    pub fn place(&self, x: ArrayView1<f32>) -> Result<[f32; 2]> {
        let k = self.options.neighbors.min(self.data.nrows());
        let (idx, d2) = query(self.data.view(), x, k)?;
        let d: Vec<f64> = d2.iter().map(|&v| f64::from(v).sqrt()).collect();
        let mean = d.iter().sum::<f64>() / k as f64;
        // umap-learn's transform skips the first neighbour in the σ search (it expects the point itself there).
        let (sigma, rho) = smooth_knn(&d[1.min(d.len())..], k, false, mean);
        let weights: Vec<f64> = d.iter().map(|&dj| membership(dj, sigma, rho)).collect();
        let total: f64 = weights.iter().sum();
        let mut start = [0f64; 2];
        for (&j, &w) in idx.iter().zip(&weights) {
            start[0] += w / total * f64::from(self.y[j][0]);
            start[1] += w / total * f64::from(self.y[j][1]);
        }
        let mut moving = [[start[0] as f32, start[1] as f32]];
        let epochs = if self.options.epochs.is_none() {
            100
        } else {
            (self.epochs / 3).max(1)
        };
        let edges: Vec<(usize, usize, f64)> =
            idx.iter().zip(&weights).map(|(&j, &w)| (0, j, w)).collect();
        let mut schedule = Schedule::new(&edges, epochs, self.options.negative_sample_rate);
        let mut rng = Rng::new(self.options.seed ^ 0x5EED);
        for epoch in 0..epochs {
            let alpha = 0.25 * (1.0 - epoch as f64 / epochs as f64);
            sgd_epoch(
                &mut schedule,
                self.curve,
                epoch as f64,
                alpha,
                &mut moving,
                Some(&self.y),
                &mut rng,
            );
        }
        Ok(moving[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuzzy_union_of_a_known_pair() {
        // v_01 = 0.5, v_10 = 0.5 → 0.75 both ways; v_12 = 1 alone → 1 both ways.
        let edges = fuzzy_union(vec![(0, 1, 0.5), (1, 0, 0.5), (1, 2, 1.0)]);
        assert_eq!(
            edges,
            vec![(0, 1, 0.75), (1, 0, 0.75), (1, 2, 1.0), (2, 1, 1.0)]
        );
    }

    #[test]
    fn smooth_knn_reaches_log2_k() {
        let d = [1.0, 1.5, 2.0, 2.2, 3.0, 3.1, 4.0];
        let (sigma, rho) = smooth_knn(&d, 8, true, 1.0);
        assert_eq!(rho, 1.0);
        let psum: f64 = d.iter().map(|&x| membership(x, sigma, rho)).sum();
        assert!((psum - 3.0).abs() < 1e-5, "{psum}");
    }

    #[test]
    fn two_blobs_stay_apart_and_a_point_is_placed_in_its_own() {
        let mut rng = Rng::new(2);
        let x = Array2::from_shape_fn((120, 4), |(i, _)| {
            rng.normal() + if i < 60 { 0.0 } else { 8.0 }
        });
        let options = UmapOptions {
            epochs: Some(200),
            ..Default::default()
        };
        let mut umap = Umap::new(x.view(), &options).unwrap();
        assert_eq!(umap.step(50), (50, 200));
        assert_eq!(umap.run(), (200, 200));
        let map = umap.embedding();
        let centre = |r: std::ops::Range<usize>| {
            let m = map.slice(ndarray::s![r, ..]);
            [
                m.column(0).mean().unwrap_or(0.0),
                m.column(1).mean().unwrap_or(0.0),
            ]
        };
        let (c0, c1) = (centre(0..60), centre(60..120));
        let placed = umap.place(x.row(70)).unwrap();
        let dist = |p: [f32; 2], c: [f32; 2]| (p[0] - c[0]).hypot(p[1] - c[1]);
        assert!(
            dist(placed, c1) < dist(placed, c0),
            "{placed:?} {c0:?} {c1:?}"
        );
        let t = super::super::neighbors::trustworthiness(x.view(), map.view(), 5).unwrap();
        assert!(t > 0.85, "{t}");
    }
}
