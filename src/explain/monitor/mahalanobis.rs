//! Class-conditional Gaussians with a shared covariance (Lee, Lee, Lee & Shin, "A Simple Unified Framework
//! for Detecting Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018), on real-valued
//! activation vectors `x ∈ ℝⁿ` of the monitored layer (the monitor passes them scaled to unit length, see
//! [`super::features`]).
//!
//! Build, over the correctly classified training images (`N` in all, `N_c` of class `c`):
//!
//! ```text
//! μ_c = (1/N_c) Σ_{x ∈ c} x
//! Σ   = (1/N) Σ_c Σ_{x ∈ c} (x − μ_c)(x − μ_c)ᵀ + λI,    λ = 10⁻³ · tr(Σ)/n  (ridge: dead neurons have zero variance)
//! P   = Σ⁻¹                                             (Cholesky factorisation, in f64)
//! ```
//!
//! Score of an input: its squared Mahalanobis distance to the closest class mean,
//! `min_c (x − μ_c)ᵀ P (x − μ_c)` (the paper's confidence score with the sign flipped, so that larger means
//! more unusual). Stored as `classes × n` means (a class without training images has no mean and is skipped)
//! and the `n × n` symmetric precision matrix `P`.

use crate::error::{Error, Result};

/// Ridge added to the covariance, relative to its mean variance.
const RIDGE: f64 = 1e-3;

#[derive(Debug, Clone, PartialEq)]
pub struct Mahalanobis {
    neurons: usize,
    /// `classes × neurons`.
    means: Vec<f32>,
    /// Whether class `c` had training images (its mean is used).
    present: Vec<bool>,
    /// `neurons × neurons`, symmetric.
    precision: Vec<f32>,
}

impl Mahalanobis {
    /// Fits the class means and the shared precision; `per_class[c]` is a flat `count × neurons` buffer.
    pub fn build(neurons: usize, per_class: &[Vec<f32>]) -> Result<Mahalanobis> {
        let n = neurons;
        if n == 0 {
            return Err(Error::invalid(
                "the Mahalanobis detector needs at least one neuron",
            ));
        }
        let mut means = vec![0f32; per_class.len() * n];
        let mut present = vec![false; per_class.len()];
        let mut scatter = vec![0f64; n * n];
        let mut total = 0usize;
        for ((points, mean_out), here) in per_class
            .iter()
            .zip(means.chunks_exact_mut(n))
            .zip(&mut present)
        {
            let count = points.len() / n;
            if count == 0 {
                continue;
            }
            *here = true;
            total += count;
            let mut mean = vec![0f64; n];
            for x in points.chunks_exact(n) {
                for (m, &v) in mean.iter_mut().zip(x) {
                    *m += f64::from(v);
                }
            }
            for m in &mut mean {
                *m /= count as f64;
            }
            let mut centred = vec![0f64; n];
            for x in points.chunks_exact(n) {
                for ((d, &v), m) in centred.iter_mut().zip(x).zip(&mean) {
                    *d = f64::from(v) - m;
                }
                // Upper triangle only; mirrored below.
                for (i, &di) in centred.iter().enumerate() {
                    if di != 0.0 {
                        for (s, &dj) in scatter[i * n + i..(i + 1) * n]
                            .iter_mut()
                            .zip(&centred[i..])
                        {
                            *s += di * dj;
                        }
                    }
                }
            }
            for (o, m) in mean_out.iter_mut().zip(&mean) {
                *o = *m as f32;
            }
        }
        if total == 0 {
            return Err(Error::invalid(
                "the Mahalanobis detector needs at least one training activation",
            ));
        }
        let mut covariance = scatter;
        for i in 0..n {
            for j in i..n {
                covariance[i * n + j] /= total as f64;
                covariance[j * n + i] = covariance[i * n + j];
            }
        }
        let mean_variance = (0..n).map(|i| covariance[i * n + i]).sum::<f64>() / n as f64;
        let ridge = (RIDGE * mean_variance).max(1e-12);
        for i in 0..n {
            covariance[i * n + i] += ridge;
        }
        let precision = invert_spd(&covariance, n)?
            .into_iter()
            .map(|v| v as f32)
            .collect();
        Mahalanobis::from_parts(n, means, present, precision)
    }

    /// Takes stored statistics after checking them: finite means, a finite symmetric precision with a
    /// positive diagonal.
    pub fn from_parts(
        neurons: usize,
        means: Vec<f32>,
        present: Vec<bool>,
        precision: Vec<f32>,
    ) -> Result<Mahalanobis> {
        let n = neurons;
        if means.len() != present.len() * n || !means.iter().all(|m| m.is_finite()) {
            return Err(Error::monitor(format!(
                "the class means must be {} finite values",
                present.len() * n
            )));
        }
        let symmetric = (0..n).all(|i| {
            (i..n).all(|j| {
                precision.get(i * n + j).map(|v| v.to_bits())
                    == precision.get(j * n + i).map(|v| v.to_bits())
            })
        });
        if precision.len() != n * n
            || !precision.iter().all(|v| v.is_finite())
            || !symmetric
            || !(0..n).all(|i| precision[i * n + i] > 0.0)
        {
            return Err(Error::monitor(format!(
                "the precision matrix must be a finite symmetric {n}×{n} matrix with a positive diagonal"
            )));
        }
        Ok(Mahalanobis {
            neurons,
            means,
            present,
            precision,
        })
    }

    pub fn means(&self) -> &[f32] {
        &self.means
    }

    pub fn present(&self) -> &[bool] {
        &self.present
    }

    pub fn precision(&self) -> &[f32] {
        &self.precision
    }

    /// `(x − μ_c)ᵀ P (x − μ_c)` for class `c`; `None` when the class has no mean or `x` another width.
    pub fn distance(&self, class: usize, x: &[f32]) -> Option<f64> {
        let n = self.neurons;
        if !*self.present.get(class)? || x.len() != n {
            return None;
        }
        let mean = self.means.get(class * n..(class + 1) * n)?;
        let d: Vec<f32> = x.iter().zip(mean).map(|(v, m)| v - m).collect();
        let quadratic = self
            .precision
            .chunks_exact(n)
            .zip(&d)
            .map(|(row, &di)| f64::from(di) * f64::from(crate::tensor::dot(row, &d)))
            .sum::<f64>();
        Some(quadratic)
    }

    /// Squared distance to the closest class mean (infinite for a vector of another width).
    pub fn score(&self, x: &[f32]) -> f64 {
        (0..self.present.len())
            .filter_map(|c| self.distance(c, x))
            .fold(f64::INFINITY, f64::min)
    }
}

/// Inverse of a symmetric positive definite `n × n` matrix: `A = L Lᵀ` (Cholesky), `A⁻¹ = L⁻ᵀ L⁻¹`.
fn invert_spd(a: &[f64], n: usize) -> Result<Vec<f64>> {
    let mut l = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let pivot = a[i * n + i] - s;
                if !(pivot.is_finite() && pivot > 0.0) {
                    return Err(Error::non_finite(
                        "the activation covariance (it is not positive definite)",
                    ));
                }
                l[i * n + i] = pivot.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    // Columns of L⁻¹ by forward substitution: L y = e_k.
    let mut l_inv = vec![0f64; n * n];
    for k in 0..n {
        for i in k..n {
            let s: f64 = (k..i).map(|m| l[i * n + m] * l_inv[m * n + k]).sum();
            let rhs = if i == k { 1.0 } else { 0.0 };
            l_inv[i * n + k] = (rhs - s) / l[i * n + i];
        }
    }
    // P[i][j] = Σ_m L⁻¹[m][i] L⁻¹[m][j], m ≥ max(i, j); symmetric by construction.
    let mut p = vec![0f64; n * n];
    for i in 0..n {
        for j in i..n {
            let v: f64 = (j..n).map(|m| l_inv[m * n + i] * l_inv[m * n + j]).sum();
            p[i * n + j] = v;
            p[j * n + i] = v;
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_known_spd_matrix() {
        // [[4, 2], [2, 3]]⁻¹ = [[3, −2], [−2, 4]] / 8.
        let p = invert_spd(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        let expected = [0.375, -0.25, -0.25, 0.5];
        for (a, b) in p.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{p:?}");
        }
        assert!(invert_spd(&[1.0, 2.0, 2.0, 1.0], 2).is_err());
    }

    #[test]
    fn fits_means_and_shared_covariance_by_hand() {
        // Class 0: (0, 0), (2, 0) → mean (1, 0); class 1: (10, 1), (10, −1) → mean (10, 0).
        // Pooled covariance over N = 4: diag(2/4, 2/4) = diag(0.5, 0.5); ridge 1e-3 · 0.5.
        let m = Mahalanobis::build(2, &[vec![0.0, 0.0, 2.0, 0.0], vec![10.0, 1.0, 10.0, -1.0]])
            .unwrap();
        assert_eq!(m.means(), &[1.0, 0.0, 10.0, 0.0]);
        let var = 0.5 + 0.5e-3;
        assert!((f64::from(m.precision()[0]) - 1.0 / var).abs() < 1e-5);
        assert_eq!(m.precision()[1], 0.0);
        // (3, 1) from class 0's mean: (2² + 1²) / var; from class 1's: (7² + 1²) / var.
        let d0 = m.distance(0, &[3.0, 1.0]).unwrap();
        assert!((d0 - 5.0 / var).abs() < 1e-4, "{d0}");
        assert!((m.score(&[3.0, 1.0]) - d0).abs() < 1e-12);
        assert_eq!(m.distance(2, &[3.0, 1.0]), None);
        assert_eq!(m.score(&[3.0]), f64::INFINITY);
    }

    #[test]
    fn classes_without_images_are_skipped() {
        let m = Mahalanobis::build(1, &[Vec::new(), vec![1.0, 3.0]]).unwrap();
        assert_eq!(m.present(), &[false, true]);
        assert_eq!(m.distance(0, &[2.0]), None);
        assert_eq!(m.distance(1, &[2.0]), Some(0.0));
        assert!(Mahalanobis::build(1, &[Vec::new()]).is_err());
        assert!(Mahalanobis::build(0, &[vec![1.0]]).is_err());
    }

    #[test]
    fn stored_statistics_are_checked() {
        let ok = |p: Vec<f32>| Mahalanobis::from_parts(2, vec![0.0; 2], vec![true], p);
        assert!(ok(vec![1.0, 0.5, 0.5, 1.0]).is_ok());
        assert!(ok(vec![1.0, 0.5, 0.4, 1.0]).is_err());
        assert!(ok(vec![1.0, 0.0, 0.0, 0.0]).is_err());
        assert!(ok(vec![1.0, f32::NAN, f32::NAN, 1.0]).is_err());
        assert!(ok(vec![1.0, 0.0, 0.0]).is_err());
        assert!(Mahalanobis::from_parts(
            2,
            vec![f32::INFINITY, 0.0],
            vec![true],
            vec![1.0, 0.0, 0.0, 1.0]
        )
        .is_err());
    }
}
