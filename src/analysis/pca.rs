//! Exact principal component analysis of a `points × features` matrix `X` (`N × D`):
//!
//! ```text
//! μ = column means,   Σ = (X − μ)ᵀ(X − μ) / (N − 1) = V diag(λ) Vᵀ   (λ descending)
//! explained variance ratio_k = λ_k / Σ_i λ_i,    projection of x = V_kᵀ (x − μ)
//! ```
//!
//! The covariance comes from [`super::stats::covariance`], the eigenvectors from
//! [`super::linalg::symmetric_eigen`]. Each component's sign is fixed so that its largest-magnitude loading
//! is positive (scikit-learn's `svd_flip(u_based_decision=False)`), so two runs, or this and scikit-learn's
//! `PCA`, agree up to the precision of the eigenvalues. Negative round-off eigenvalues count as 0.

use super::linalg::symmetric_eigen;
use super::stats::covariance;
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// `D` column means.
    pub mean: Array1<f64>,
    /// `K × D`: row `k` is the unit component `k`.
    pub components: Array2<f64>,
    /// `K` eigenvalues of the covariance (variance along each component, `N − 1` in the denominator).
    pub explained_variance: Array1<f64>,
    /// `K` shares of the total variance.
    pub explained_variance_ratio: Array1<f64>,
}

impl Pca {
    /// Fits the first `components` (1 to `D`) principal components of `x` (at least 2 finite rows).
    pub fn fit(x: ArrayView2<f32>, components: usize) -> Result<Pca> {
        let (mean, cov) = covariance(x, 1)?;
        let d = x.ncols();
        if components == 0 || components > d {
            return Err(Error::out_of_range(
                "the number of principal components",
                components,
                format!("1 to {d} (the number of features)"),
            ));
        }
        let eig = symmetric_eigen(cov.view())?;
        let values = eig.values.mapv(|v| v.max(0.0));
        let total = values.sum();
        let mut vectors = eig.vectors.slice(ndarray::s![..components, ..]).to_owned();
        for mut row in vectors.axis_iter_mut(Axis(0)) {
            let largest = row
                .iter()
                .copied()
                .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            if largest < 0.0 {
                row.mapv_inplace(|v| -v);
            }
        }
        let explained_variance = values.slice(ndarray::s![..components]).to_owned();
        let explained_variance_ratio = if total > 0.0 {
            explained_variance.mapv(|v| v / total)
        } else {
            Array1::zeros(components)
        };
        Ok(Pca {
            mean,
            components: vectors,
            explained_variance,
            explained_variance_ratio,
        })
    }

    /// Coordinates of the rows of `x` (`M × D`) on the components: `M × K`.
    pub fn transform(&self, x: ArrayView2<f32>) -> Result<Array2<f64>> {
        let d = self.mean.len();
        if x.ncols() != d {
            return Err(Error::shape(
                "the points to project",
                &[x.nrows(), d],
                x.shape(),
            ));
        }
        if !x.iter().all(|v| v.is_finite()) {
            return Err(Error::non_finite("the points to project"));
        }
        let mut out = Array2::<f64>::zeros((x.nrows(), self.components.nrows()));
        for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
            o.assign(&self.project_finite(row));
        }
        Ok(out)
    }

    /// Coordinates of one point (`D` values) on the components.
    pub fn project(&self, x: ArrayView1<f32>) -> Result<Array1<f64>> {
        let view = x.view().insert_axis(Axis(0));
        Ok(self.transform(view)?.row(0).to_owned())
    }

    fn project_finite(&self, x: ArrayView1<f32>) -> Array1<f64> {
        let centred: Array1<f64> = x
            .iter()
            .zip(&self.mean)
            .map(|(&v, m)| f64::from(v) - m)
            .collect();
        self.components.dot(&centred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn points_on_a_line_have_one_component() {
        // Points along (3, 4)/5 through (1, 1): all the variance on that direction.
        let x = array![[1.0f32, 1.0], [4.0, 5.0], [-2.0, -3.0], [7.0, 9.0]];
        let pca = Pca::fit(x.view(), 2).unwrap();
        assert!((pca.explained_variance_ratio[0] - 1.0).abs() < 1e-12);
        assert!(pca.explained_variance_ratio[1].abs() < 1e-12);
        let c = pca.components.row(0);
        assert!(
            (c[0] - 0.6).abs() < 1e-12 && (c[1] - 0.8).abs() < 1e-12,
            "{c}"
        );
        // Variance along the line: t ∈ {0, 5, −5, 10} · (3, 4)/5 → t = 0, 5, −5, 10 around 2.5: Σ(t − 2.5)² / 3 = 125/3.
        assert!((pca.explained_variance[0] - 125.0 / 3.0).abs() < 1e-9);
        let p = pca.project(array![4.0f32, 5.0].view()).unwrap();
        // Mean (2.5, 3): (4, 5) − mean = (1.5, 2) → 2.5 along the component.
        assert!((p[0] - 2.5).abs() < 1e-9 && p[1].abs() < 1e-9, "{p}");
        assert!(Pca::fit(x.view(), 3).is_err());
        assert!(pca.project(array![1.0f32].view()).is_err());
    }
}
