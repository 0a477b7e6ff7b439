//! t-SNE (van der Maaten & Hinton 2008) with the Barnes-Hut gradient (van der Maaten 2014), following
//! scikit-learn's `TSNE(method="barnes_hut")` step for step:
//!
//! 1. **Affinities.** Each point's `k = min(N − 1, ⌊3·perplexity + 1⌋)` nearest neighbours by squared
//!    Euclidean distance `d_ij`; `p_{j|i} = exp(−β_i d_ij) / Σ_l exp(−β_i d_il)` with `β_i` found by binary
//!    search so that the entropy of `p_{·|i}` is `ln(perplexity)` (to 1e-5, 100 steps at most); then
//!    `P = (P_cond + P_condᵀ) / Σ`, sparse and symmetric.
//! 2. **Map.** `y_i ∈ ℝ²`, `w_ij = 1 / (1 + ‖y_i − y_j‖²)`, `q_ij = w_ij / Z`, `Z = Σ_{k≠l} w_kl`;
//!    `KL(P‖Q) = Σ p_ij ln(p_ij / q_ij)` over the stored `p_ij`, and
//!    `∂KL/∂y_i = 4 [Σ_j p_ij w_ij (y_i − y_j) − Σ_j w_ij² (y_i − y_j) / Z]`: the attraction exactly over
//!    the sparse `P`, the repulsion and `Z` by Barnes-Hut with θ = 0.5 ([`super::quadtree`]: one tree walk
//!    per group of at most 32 points, with scikit-learn's criterion taken from the group's box, so at least
//!    as fine as its per-point walk).
//! 3. **Optimisation.** Initial map: the first two principal components scaled so the first has standard
//!    deviation 1e-4 (scikit-learn's `init="pca"`), or Gaussian noise of that size. Gradient descent with
//!    momentum 0.5 and `P` multiplied by the early exaggeration (12) for the first 250 iterations, then
//!    momentum 0.8 (momentum and gains restart there, as in scikit-learn); per-coordinate gains (+0.2 when
//!    the gradient changes sign, ×0.8 otherwise, at least 0.01); learning rate `max(N / 12 / 4, 50)`
//!    (scikit-learn's `"auto"`).
//!
//! [`Tsne::step`] runs a few iterations and returns, so a worker can draw the map as it forms and stop at
//! any time. [`Tsne::place`] puts a new point on the finished map without moving the others.
//! The KL divergence is reported with the true (not exaggerated) `P` every 50 iterations and at the end.

use super::check_matrix;
use super::neighbors::{nearest_neighbors, query};
use super::pca::Pca;
use super::quadtree::QuadTree;
use crate::error::{Error, Result};
use crate::rng::Rng;
use ndarray::{Array2, ArrayView1, ArrayView2};

/// Iterations between two KL evaluations.
const KL_EVERY: usize = 50;
/// Floor inside the logarithms of the KL divergence (scikit-learn's `FLOAT32_TINY`).
const TINY: f64 = f32::MIN_POSITIVE as f64;

/// How the map starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TsneInit {
    /// The first two principal components, scaled to a standard deviation of 1e-4 along the first.
    Pca,
    /// Independent normal coordinates of standard deviation 1e-4.
    Random { seed: u64 },
}

/// The settings of a t-SNE run (defaults: scikit-learn's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TsneOptions {
    pub perplexity: f64,
    /// Iterations in all, the exaggerated ones included.
    pub iterations: usize,
    pub early_exaggeration: f64,
    /// Iterations with exaggerated affinities and momentum 0.5.
    pub exaggeration_iterations: usize,
    /// `None`: `max(N / early_exaggeration / 4, 50)`.
    pub learning_rate: Option<f64>,
    /// Barnes-Hut opening angle (0: exact repulsion).
    pub theta: f64,
    pub init: TsneInit,
}

impl Default for TsneOptions {
    fn default() -> Self {
        TsneOptions {
            perplexity: 30.0,
            iterations: 1000,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            learning_rate: None,
            theta: 0.5,
            init: TsneInit::Pca,
        }
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Iterations done.
    pub iteration: usize,
    pub iterations: usize,
    /// The KL divergence at the latest evaluation (every 50 iterations and at the last one).
    pub kl_divergence: Option<f64>,
}

/// The symmetric joint probabilities, compressed rows.
#[derive(Debug, Clone, PartialEq)]
struct Affinities {
    indptr: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f32>,
}

/// A t-SNE run in progress.
#[derive(Debug, Clone)]
pub struct Tsne {
    options: TsneOptions,
    learning_rate: f32,
    p: Affinities,
    y: Vec<[f32; 2]>,
    update: Vec<[f32; 2]>,
    gains: Vec<[f32; 2]>,
    iteration: usize,
    kl: Option<f64>,
    /// The input points, kept to place new ones.
    data: Option<Array2<f32>>,
}

/// `p_{·|i}` over one point's neighbour distances: the binary search on `β` of scikit-learn's
/// `_binary_search_perplexity`.
fn conditional_row(distances: &[f32], perplexity: f64) -> Vec<f64> {
    let desired = perplexity.ln();
    let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
    let mut p = vec![0f64; distances.len()];
    for _ in 0..100 {
        let mut sum = 0.0;
        for (pj, &d) in p.iter_mut().zip(distances) {
            *pj = (-f64::from(d) * beta).exp();
            sum += *pj;
        }
        if sum == 0.0 {
            sum = 1e-8;
        }
        let mut weighted = 0.0;
        for (pj, &d) in p.iter_mut().zip(distances) {
            *pj /= sum;
            weighted += f64::from(d) * *pj;
        }
        let excess = sum.ln() + beta * weighted - desired;
        if excess.abs() <= 1e-5 {
            break;
        }
        if excess > 0.0 {
            lo = beta;
            beta = if hi == f64::INFINITY {
                beta * 2.0
            } else {
                (beta + hi) / 2.0
            };
        } else {
            hi = beta;
            beta = if lo == f64::NEG_INFINITY {
                beta / 2.0
            } else {
                (beta + lo) / 2.0
            };
        }
    }
    p
}

/// `P = (P_cond + P_condᵀ) / Σ` from each point's neighbours (`N × k` indices and distances).
fn joint_probabilities(
    indices: ArrayView2<usize>,
    distances: ArrayView2<f32>,
    perplexity: f64,
) -> Affinities {
    let n = indices.nrows();
    let mut entries: Vec<(usize, usize, f64)> = Vec::with_capacity(2 * indices.len());
    for (i, (row, d)) in indices.rows().into_iter().zip(distances.rows()).enumerate() {
        let d: Vec<f32> = d.iter().copied().collect();
        for (&j, p) in row.iter().zip(conditional_row(&d, perplexity)) {
            entries.push((i, j, p));
            entries.push((j, i, p));
        }
    }
    entries.sort_unstable_by_key(|e| (e.0, e.1));
    let total: f64 = entries.iter().map(|e| e.2).sum::<f64>().max(f64::EPSILON);
    let mut p = Affinities {
        indptr: vec![0; n + 1],
        indices: Vec::with_capacity(entries.len()),
        values: Vec::with_capacity(entries.len()),
    };
    let mut last = None;
    let mut merged: Vec<f64> = Vec::with_capacity(entries.len());
    for (i, j, v) in entries {
        if last == Some((i, j)) {
            if let Some(m) = merged.last_mut() {
                *m += v;
            }
            continue;
        }
        last = Some((i, j));
        p.indptr[i + 1] += 1;
        p.indices.push(j);
        merged.push(v);
    }
    for i in 0..n {
        p.indptr[i + 1] += p.indptr[i];
    }
    p.values = merged.iter().map(|v| (v / total) as f32).collect();
    p
}

/// The starting map: `N` points of standard deviation 1e-4 (along the first axis for PCA).
fn initial_map(data: Option<ArrayView2<f32>>, n: usize, init: TsneInit) -> Result<Vec<[f32; 2]>> {
    match (init, data) {
        (TsneInit::Random { seed }, _) => {
            let mut rng = Rng::new(seed);
            Ok((0..n)
                .map(|_| [rng.normal() * 1e-4, rng.normal() * 1e-4])
                .collect())
        }
        (TsneInit::Pca, Some(x)) => {
            let projected = Pca::fit(x, 2)?.transform(x)?;
            let first = projected.column(0);
            let mean = first.sum() / n as f64;
            let std =
                (first.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64).sqrt();
            let scale = if std > 0.0 { 1e-4 / std } else { 1.0 };
            Ok(projected
                .rows()
                .into_iter()
                .map(|r| [(r[0] * scale) as f32, (r[1] * scale) as f32])
                .collect())
        }
        (TsneInit::Pca, None) => Err(Error::option(
            "init",
            "PCA initialisation needs the points themselves, not only their distances",
        )),
    }
}

impl Tsne {
    /// Prepares a run on the rows of `x` (`N × D`, finite, `N > perplexity`, `D ≥ 2` for PCA init).
    pub fn new(x: ArrayView2<f32>, options: &TsneOptions) -> Result<Tsne> {
        check_matrix(x, "points to embed", 2)?;
        let k = neighbour_count(x.nrows(), options)?;
        let nn = nearest_neighbors(x, k)?;
        let mut tsne =
            Tsne::from_neighbors(nn.indices.view(), nn.distances.view(), Some(x), options)?;
        tsne.data = Some(x.to_owned());
        Ok(tsne)
    }

    /// Prepares a run from each point's neighbours: `N × k` indices and their distances, used as given
    /// (squared Euclidean in [`Tsne::new`]; any dissimilarity, as scikit-learn's `metric="precomputed"`).
    /// `data` is needed for PCA initialisation only.
    pub fn from_neighbors(
        indices: ArrayView2<usize>,
        distances: ArrayView2<f32>,
        data: Option<ArrayView2<f32>>,
        options: &TsneOptions,
    ) -> Result<Tsne> {
        let n = indices.nrows();
        check_options(n, options)?;
        if distances.dim() != indices.dim() || indices.iter().any(|&j| j >= n) {
            return Err(Error::shape(
                "the neighbour distances",
                indices.shape(),
                distances.shape(),
            ));
        }
        if !distances.iter().all(|d| d.is_finite() && *d >= 0.0) {
            return Err(Error::non_finite(
                "the neighbour distances (or a negative one)",
            ));
        }
        let y = initial_map(data, n, options.init)?;
        let rate = options
            .learning_rate
            .unwrap_or((n as f64 / options.early_exaggeration / 4.0).max(50.0));
        Ok(Tsne {
            options: *options,
            learning_rate: rate as f32,
            p: joint_probabilities(indices, distances, options.perplexity),
            update: vec![[0.0; 2]; n],
            gains: vec![[1.0; 2]; n],
            y,
            iteration: 0,
            kl: None,
            data: None,
        })
    }

    /// Runs up to `steps` more iterations (fewer at the end of the run).
    pub fn step(&mut self, steps: usize) -> Progress {
        let end = self
            .iteration
            .saturating_add(steps)
            .min(self.options.iterations);
        while self.iteration < end {
            self.iterate();
        }
        self.progress()
    }

    /// Runs to the end.
    pub fn run(&mut self) -> Progress {
        self.step(self.options.iterations)
    }

    pub fn progress(&self) -> Progress {
        Progress {
            iteration: self.iteration,
            iterations: self.options.iterations,
            kl_divergence: self.kl,
        }
    }

    /// The current map, `N × 2`.
    pub fn embedding(&self) -> Array2<f32> {
        Array2::from_shape_fn((self.y.len(), 2), |(i, a)| self.y[i][a])
    }

    /// The latest KL divergence (see [`Progress::kl_divergence`]).
    pub fn kl_divergence(&self) -> Option<f64> {
        self.kl
    }

    fn iterate(&mut self) {
        let i = self.iteration;
        let exploring = i < self.options.exaggeration_iterations;
        if i == self.options.exaggeration_iterations {
            self.update.fill([0.0; 2]);
            self.gains.fill([1.0; 2]);
        }
        let exaggeration = if exploring {
            self.options.early_exaggeration as f32
        } else {
            1.0
        };
        let momentum = if exploring { 0.5 } else { 0.8 };
        let with_kl = (i + 1) % KL_EVERY == 0 || i + 1 == self.options.iterations;
        let (grad, kl) = self.gradient(exaggeration, with_kl);
        if kl.is_some() {
            self.kl = kl;
        }
        for (((y, u), g), gain) in self
            .y
            .iter_mut()
            .zip(&mut self.update)
            .zip(&grad)
            .zip(&mut self.gains)
        {
            for a in 0..2 {
                gain[a] = if u[a] * g[a] < 0.0 {
                    gain[a] + 0.2
                } else {
                    gain[a] * 0.8
                };
                gain[a] = gain[a].max(0.01);
                u[a] = momentum * u[a] - self.learning_rate * g[a] * gain[a];
                y[a] += u[a];
            }
        }
        self.iteration += 1;
    }

    /// `∂KL/∂y` with `P` multiplied by `exaggeration`, and the KL divergence (true `P`) when asked.
    fn gradient(&self, exaggeration: f32, with_kl: bool) -> (Vec<[f32; 2]>, Option<f64>) {
        let n = self.y.len();
        let tree = QuadTree::new(&self.y);
        let squared_theta = (self.options.theta * self.options.theta) as f32;
        let mut repulsion = vec![[0f32; 2]; n];
        let mut z = 0f64;
        for (t, (f, zi)) in tree.repulsions(squared_theta).into_iter().enumerate() {
            repulsion[tree.point(t).1] = f;
            z += f64::from(zi);
        }
        let z = z.max(f64::MIN_POSITIVE);
        let inv_z = (1.0 / z) as f32;
        let mut kl = 0f64;
        let mut grad = vec![[0f32; 2]; n];
        for (i, g) in grad.iter_mut().enumerate() {
            let yi = self.y[i];
            let mut attraction = [0f32; 2];
            let range = self.p.indptr[i]..self.p.indptr[i + 1];
            for (&j, &p) in self.p.indices[range.clone()]
                .iter()
                .zip(&self.p.values[range])
            {
                let (dx, dy) = (yi[0] - self.y[j][0], yi[1] - self.y[j][1]);
                let w = 1.0 / (1.0 + dx * dx + dy * dy);
                let pw = p * exaggeration * w;
                attraction[0] += pw * dx;
                attraction[1] += pw * dy;
                if with_kl {
                    let (p, q) = (f64::from(p), f64::from(w) / z);
                    kl += p * (p.max(TINY) / q.max(TINY)).ln();
                }
            }
            for a in 0..2 {
                g[a] = 4.0 * (attraction[a] - repulsion[i][a] * inv_z);
            }
        }
        (grad, with_kl.then_some(kl))
    }

    /// The map position of a new point `x` (`D` features) that best fits the finished map: its affinities
    /// `p_j` to its neighbours among the input points (same perplexity), then `y` minimising
    /// `KL(p‖q(y))`, `q_j(y) ∝ 1 / (1 + ‖y − y_j‖²)` over all map points, which stay where they are.
    /// Gradient descent with backtracking from the `p`-weighted mean of the neighbours' positions.
    pub fn place(&self, x: ArrayView1<f32>) -> Result<[f32; 2]> {
        let data = self.data.as_ref().ok_or_else(|| {
            Error::option(
                "place",
                "a map built from distances alone cannot place new points",
            )
        })?;
        let k = neighbour_count(data.nrows() + 1, &self.options)?.min(data.nrows());
        let (idx, d) = query(data.view(), x, k)?;
        let p = conditional_row(&d, self.options.perplexity);
        let mut y = [0f64; 2];
        for (&j, &pj) in idx.iter().zip(&p) {
            y[0] += pj * f64::from(self.y[j][0]);
            y[1] += pj * f64::from(self.y[j][1]);
        }
        let (mut cost, mut grad) = self.placement_cost(&idx, &p, y);
        let mut step = 1.0;
        for _ in 0..200 {
            let norm2 = grad[0] * grad[0] + grad[1] * grad[1];
            if norm2 < 1e-18 {
                break;
            }
            let trial = [y[0] - step * grad[0], y[1] - step * grad[1]];
            let (c, g) = self.placement_cost(&idx, &p, trial);
            if c <= cost - 1e-4 * step * norm2 {
                (y, cost, grad) = (trial, c, g);
                step *= 2.0;
            } else {
                step *= 0.5;
                if step < 1e-12 {
                    break;
                }
            }
        }
        Ok([y[0] as f32, y[1] as f32])
    }

    /// `−Σ_j p_j ln w_j + ln Σ_l w_l` at `y` and its gradient (exact, over every map point).
    fn placement_cost(&self, idx: &[usize], p: &[f64], y: [f64; 2]) -> (f64, [f64; 2]) {
        let w = |yj: [f32; 2]| {
            let (dx, dy) = (y[0] - f64::from(yj[0]), y[1] - f64::from(yj[1]));
            (1.0 / (1.0 + dx * dx + dy * dy), dx, dy)
        };
        let (mut z, mut rep) = (0f64, [0f64; 2]);
        for &yj in &self.y {
            let (wj, dx, dy) = w(yj);
            z += wj;
            rep[0] += wj * wj * dx;
            rep[1] += wj * wj * dy;
        }
        let (mut cost, mut att) = (z.ln(), [0f64; 2]);
        for (&j, &pj) in idx.iter().zip(p) {
            let (wj, dx, dy) = w(self.y[j]);
            cost -= pj * wj.ln();
            att[0] += pj * wj * dx;
            att[1] += pj * wj * dy;
        }
        (
            cost,
            [2.0 * (att[0] - rep[0] / z), 2.0 * (att[1] - rep[1] / z)],
        )
    }
}

fn check_options(n: usize, options: &TsneOptions) -> Result<()> {
    if !(options.perplexity > 0.0 && options.perplexity < n as f64) {
        return Err(Error::out_of_range(
            "the perplexity",
            options.perplexity,
            format!("above 0 and below the number of points ({n})"),
        ));
    }
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(options.early_exaggeration) || !options.learning_rate.map_or(true, positive) {
        return Err(Error::option(
            "early-exaggeration / learning-rate",
            "must be positive and finite",
        ));
    }
    if !(options.theta.is_finite() && (0.0..=1.0).contains(&options.theta)) {
        return Err(Error::out_of_range(
            "the Barnes-Hut angle θ",
            options.theta,
            "0 to 1",
        ));
    }
    Ok(())
}

/// `min(N − 1, ⌊3·perplexity + 1⌋)`.
fn neighbour_count(n: usize, options: &TsneOptions) -> Result<usize> {
    check_options(n, options)?;
    Ok(((3.0 * options.perplexity + 1.0) as usize).clamp(1, n - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(n: usize, seed: u64) -> Array2<f32> {
        let mut rng = Rng::new(seed);
        Array2::from_shape_fn((n, 5), |(i, a)| {
            rng.normal() + if a == i % 3 { 6.0 } else { 0.0 }
        })
    }

    #[test]
    fn the_binary_search_reaches_the_perplexity() {
        let mut rng = Rng::new(1);
        let d: Vec<f32> = (0..91).map(|_| rng.uniform() * 40.0).collect();
        let p = conditional_row(&d, 30.0);
        let entropy: f64 = p.iter().filter(|&&v| v > 0.0).map(|v| -v * v.ln()).sum();
        assert!((entropy.exp() - 30.0).abs() < 1e-3, "{}", entropy.exp());
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn affinities_are_symmetric_and_sum_to_one() {
        let tsne = Tsne::new(
            blobs(40, 2).view(),
            &TsneOptions {
                perplexity: 5.0,
                ..Default::default()
            },
        )
        .unwrap();
        let p = &tsne.p;
        let get = |i: usize, j: usize| {
            let r = p.indptr[i]..p.indptr[i + 1];
            p.indices[r.clone()]
                .iter()
                .position(|&c| c == j)
                .map(|k| p.values[r.start + k])
        };
        for i in 0..40 {
            for &j in &p.indices[p.indptr[i]..p.indptr[i + 1]] {
                assert_eq!(get(i, j), get(j, i));
            }
        }
        let total: f64 = p.values.iter().map(|&v| f64::from(v)).sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
    }

    /// The exact KL divergence over all pairs, in f64.
    fn exact_kl(tsne: &Tsne, y: &[[f64; 2]]) -> f64 {
        let w = |i: usize, j: usize| {
            1.0 / (1.0 + (y[i][0] - y[j][0]).powi(2) + (y[i][1] - y[j][1]).powi(2))
        };
        let n = y.len();
        let z: f64 = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|(i, j)| i != j)
            .map(|(i, j)| w(i, j))
            .sum();
        let mut kl = 0.0;
        for i in 0..n {
            for k in tsne.p.indptr[i]..tsne.p.indptr[i + 1] {
                let p = f64::from(tsne.p.values[k]);
                kl += p * (p / (w(i, tsne.p.indices[k]) / z)).ln();
            }
        }
        kl
    }

    #[test]
    fn the_gradient_is_the_derivative_of_the_kl_divergence() {
        let options = TsneOptions {
            perplexity: 5.0,
            theta: 0.0,
            init: TsneInit::Random { seed: 3 },
            ..Default::default()
        };
        let mut tsne = Tsne::new(blobs(40, 4).view(), &options).unwrap();
        let mut rng = Rng::new(9);
        for y in &mut tsne.y {
            *y = [rng.normal() * 2.0, rng.normal() * 2.0];
        }
        let (grad, kl) = tsne.gradient(1.0, true);
        let y64: Vec<[f64; 2]> = tsne
            .y
            .iter()
            .map(|p| [f64::from(p[0]), f64::from(p[1])])
            .collect();
        let kl_exact = exact_kl(&tsne, &y64);
        assert!(
            (kl.unwrap() - kl_exact).abs() < 1e-5 * kl_exact,
            "{kl:?} vs {kl_exact}"
        );
        let h = 1e-5;
        for (i, a) in [(0, 0), (7, 1), (39, 0)] {
            let mut plus = y64.clone();
            plus[i][a] += h;
            let mut minus = y64.clone();
            minus[i][a] -= h;
            let numeric = (exact_kl(&tsne, &plus) - exact_kl(&tsne, &minus)) / (2.0 * h);
            let analytic = f64::from(grad[i][a]);
            assert!(
                (numeric - analytic).abs() < 1e-3 * numeric.abs().max(1e-2),
                "{numeric} vs {analytic}"
            );
        }
    }

    #[test]
    fn the_map_separates_blobs_and_places_their_points() {
        let x = blobs(150, 6);
        let options = TsneOptions {
            perplexity: 10.0,
            iterations: 500,
            ..Default::default()
        };
        let mut tsne = Tsne::new(x.view(), &options).unwrap();
        let mid = tsne.step(100);
        assert_eq!((mid.iteration, mid.iterations), (100, 500));
        let done = tsne.run();
        assert_eq!(done.iteration, 500);
        let map = tsne.embedding();
        let t = super::super::neighbors::trustworthiness(x.view(), map.view(), 10).unwrap();
        assert!(t > 0.9, "trustworthiness {t}");
        // A point placed again lands among its own blob, near where the map put it.
        let placed = tsne.place(x.row(4)).unwrap();
        let own = [map[[4, 0]], map[[4, 1]]];
        let spread = map.column(0).iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(
            (placed[0] - own[0]).hypot(placed[1] - own[1]) < 0.2 * spread,
            "{placed:?} vs {own:?}"
        );
        assert!(Tsne::new(
            x.view(),
            &TsneOptions {
                perplexity: 150.0,
                ..Default::default()
            }
        )
        .is_err());
    }
}
