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
//! (`Σ` is [`crate::analysis::stats::pooled_covariance`], `P` [`crate::analysis::linalg::Cholesky::inverse`].)
//!
//! Score of an input: its squared Mahalanobis distance to the closest class mean,
//! `min_c (x − μ_c)ᵀ P (x − μ_c)` (the paper's confidence score with the sign flipped, so that larger means
//! more unusual). Stored as `classes × n` means (a class without training images has no mean and is skipped)
//! and the `n × n` symmetric precision matrix `P`.

use crate::analysis::linalg::Cholesky;
use crate::analysis::stats::{pooled_covariance, Pooled};
use crate::error::{Error, Result};
use ndarray::ArrayView2;

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
            return Err(Error::out_of_range(
                "the neurons of the Mahalanobis detector",
                0,
                "at least 1",
            ));
        }
        let groups = per_class
            .iter()
            .map(|points| {
                let rows = points.len() / n;
                ArrayView2::from_shape((rows, n), &points[..rows * n])
                    .map_err(|e| Error::internal(format!("class activations as a matrix: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let Pooled {
            means: class_means,
            mut covariance,
            ..
        } = pooled_covariance(&groups, n).map_err(|_| {
            Error::out_of_range(
                "the number of training activations of the Mahalanobis detector",
                0,
                "at least 1",
            )
        })?;
        let present: Vec<bool> = class_means.iter().map(Option::is_some).collect();
        let means: Vec<f32> = class_means
            .iter()
            .flat_map(|m| match m {
                Some(m) => m.iter().map(|&v| v as f32).collect(),
                None => vec![0f32; n],
            })
            .collect();
        let mean_variance = (0..n).map(|i| covariance[[i, i]]).sum::<f64>() / n as f64;
        let ridge = (RIDGE * mean_variance).max(1e-12);
        for i in 0..n {
            covariance[[i, i]] += ridge;
        }
        let precision = Cholesky::factor(covariance.view())
            .map_err(|_| {
                Error::non_finite("the activation covariance (it is not positive definite)")
            })?
            .inverse()
            .iter()
            .map(|&v| v as f32)
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

#[cfg(test)]
mod tests {
    use super::*;

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
