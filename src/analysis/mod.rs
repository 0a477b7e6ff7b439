//! Analysis of many inputs at once: plain maths over matrices, with ndarray types, tested against small known
//! answers and against scikit-learn / umap-learn (`tests/analysis.rs`, `tests/reference/analysis.py`).
//!
//! A data matrix is `rows × columns` = `points × features` (one input per row, as scikit-learn has it), `f32`
//! in and `f64` wherever sums over many points are taken.
//!
//! - [`features`]: a layer's outputs (or the pixels) over a set of images, as a matrix;
//! - [`stats`]: means, covariance (also pooled within groups), Pearson and Spearman correlation matrices;
//! - [`linalg`]: Cholesky factorisation (solve, inverse) and the symmetric eigendecomposition;
//! - [`kmeans`]: k-means++ seeding and Lloyd iterations, with restarts (the monitor's boxes use it);
//! - [`pca`]: exact principal components (explained variance, sign-fixed components, projection);
//! - [`neighbors`]: exact k nearest neighbours and the trustworthiness of an embedding;
//! - [`tsne`]: Barnes-Hut t-SNE (van der Maaten 2014), step-wise, and placing a new point on a fixed map;
//! - [`umap`]: UMAP (McInnes, Healy & Melville 2018), step-wise, and placing a new point on a fixed map.
//!
//! Every entry point checks its input (non-empty, finite) and returns an [`Error`](crate::Error) instead of
//! producing NaN.

pub mod features;
pub mod kmeans;
pub mod linalg;
pub mod neighbors;
pub mod pca;
mod quadtree;
pub mod stats;
pub mod tsne;
pub mod umap;

use crate::error::{Error, Result};
use ndarray::ArrayView2;

/// Checks that `x` has at least `min_rows` rows, at least one column and only finite values.
pub(crate) fn check_matrix(x: ArrayView2<f32>, what: &str, min_rows: usize) -> Result<()> {
    if x.nrows() < min_rows || x.ncols() == 0 {
        return Err(Error::out_of_range(
            format!("the number of {what} (rows × columns)"),
            format!("{} × {}", x.nrows(), x.ncols()),
            format!("at least {min_rows} × 1"),
        ));
    }
    if !x.iter().all(|v| v.is_finite()) {
        return Err(Error::non_finite(what.to_string()));
    }
    Ok(())
}
