//! Means, covariances and correlation matrices of the columns of `points × features` matrices, in `f64`.
//!
//! ```text
//! μ        = (1/N) Σ_r x_r
//! S        = Σ_r (x_r − μ)(x_r − μ)ᵀ                          (scatter)
//! Σ        = S / (N − ddof)                                   (covariance; ddof 1 as numpy.cov, 0 for the MLE)
//! Σ_pooled = (1/N) Σ_g Σ_{r ∈ g} (x_r − μ_g)(x_r − μ_g)ᵀ       (within-group, as the Mahalanobis detector)
//! ρ_ij     = S_ij / √(S_ii S_jj)                              (Pearson, as numpy.corrcoef(x, rowvar=False))
//! ```
//!
//! Spearman's ρ is Pearson's on the ranks of each column (ties get their average rank, as
//! `scipy.stats.spearmanr`). A column that never varies has no defined correlation (numpy gives NaN): here its
//! correlation with every other column is 0 and with itself 1.

use super::check_matrix;
use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// Column means, summed in `f64` in row order.
pub fn column_means(x: ArrayView2<f32>) -> Array1<f64> {
    let mut mean = Array1::<f64>::zeros(x.ncols());
    for row in x.rows() {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    let count = x.nrows().max(1) as f64;
    mean.mapv_inplace(|m| m / count);
    mean
}

/// Adds the scatter `Σ_r (x_r − μ)(x_r − μ)ᵀ` of the rows of `x` into the upper triangle of `scatter`
/// (`columns × columns`, row-major; the lower triangle is left alone).
fn add_scatter(x: ArrayView2<f32>, mean: ArrayView1<f64>, scatter: &mut [f64]) {
    let n = mean.len();
    let mut centred = vec![0f64; n];
    for row in x.rows() {
        for ((d, &v), m) in centred.iter_mut().zip(row).zip(mean) {
            *d = f64::from(v) - m;
        }
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
}

/// Divides the upper triangle of `scatter` by `divisor` and mirrors it into the lower one.
fn finish(mut scatter: Vec<f64>, n: usize, divisor: f64) -> Array2<f64> {
    for i in 0..n {
        for j in i..n {
            scatter[i * n + j] /= divisor;
            scatter[j * n + i] = scatter[i * n + j];
        }
    }
    Array2::from_shape_fn((n, n), |(i, j)| scatter[i * n + j])
}

/// Group means and the covariance of every row around its own group's mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Pooled {
    /// Per group its mean, `None` for an empty group.
    pub means: Vec<Option<Array1<f64>>>,
    /// `(1/N) Σ_g Σ_{r ∈ g} (x_r − μ_g)(x_r − μ_g)ᵀ`, `N` the rows of all groups.
    pub covariance: Array2<f64>,
    /// `N`.
    pub count: usize,
}

/// The pooled within-group covariance of `groups` (each `rows × columns`, all with `columns` columns; empty
/// groups allowed, but not all of them). The values are not checked for finiteness here.
pub fn pooled_covariance(groups: &[ArrayView2<f32>], columns: usize) -> Result<Pooled> {
    if let Some(g) = groups.iter().find(|g| g.ncols() != columns) {
        return Err(Error::shape(
            "a group of points",
            &[g.nrows(), columns],
            g.shape(),
        ));
    }
    let mut scatter = vec![0f64; columns * columns];
    let mut count = 0;
    let means = groups
        .iter()
        .map(|g| {
            if g.nrows() == 0 {
                return None;
            }
            count += g.nrows();
            let mean = column_means(*g);
            add_scatter(*g, mean.view(), &mut scatter);
            Some(mean)
        })
        .collect();
    if count == 0 {
        return Err(Error::out_of_range("the number of points", 0, "at least 1"));
    }
    Ok(Pooled {
        means,
        covariance: finish(scatter, columns, count as f64),
        count,
    })
}

/// Column means and covariance `S / (N − ddof)` of `x` (`points × features`, finite, more than `ddof` rows).
pub fn covariance(x: ArrayView2<f32>, ddof: usize) -> Result<(Array1<f64>, Array2<f64>)> {
    check_matrix(x, "points", ddof + 1)?;
    let mean = column_means(x);
    let n = x.ncols();
    let mut scatter = vec![0f64; n * n];
    add_scatter(x, mean.view(), &mut scatter);
    Ok((mean, finish(scatter, n, (x.nrows() - ddof) as f64)))
}

/// Pearson correlation between the columns of `x` (`observations × variables`): `variables × variables`.
pub fn pearson(x: ArrayView2<f32>) -> Result<Array2<f64>> {
    let (_, cov) = covariance(x, 0)?;
    let scale: Vec<f64> = cov.diag().iter().map(|v| v.sqrt()).collect();
    Ok(Array2::from_shape_fn(cov.dim(), |(i, j)| {
        if i == j {
            1.0
        } else if scale[i] > 0.0 && scale[j] > 0.0 {
            (cov[[i, j]] / (scale[i] * scale[j])).clamp(-1.0, 1.0)
        } else {
            0.0
        }
    }))
}

/// Spearman rank correlation between the columns of `x` (`observations × variables`).
pub fn spearman(x: ArrayView2<f32>) -> Result<Array2<f64>> {
    check_matrix(x, "observations", 1)?;
    let mut ranks = Array2::<f32>::zeros(x.dim());
    for (column, mut out) in x.axis_iter(Axis(1)).zip(ranks.axis_iter_mut(Axis(1))) {
        out.assign(&average_ranks(column));
    }
    pearson(ranks.view())
}

/// 1-based ranks of `values`, ties sharing their average rank (`scipy.stats.rankdata(method="average")`).
pub fn average_ranks(values: ArrayView1<f32>) -> Array1<f32> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = Array1::<f32>::zeros(values.len());
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end: their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f32 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn covariance_by_hand() {
        // Columns (1, 2, 3) and (2, 4, 7): means 2 and 13/3; numpy.cov: [[1, 2.5], [2.5, 6.3333…]].
        let x = array![[1.0f32, 2.0], [2.0, 4.0], [3.0, 7.0]];
        let (mean, cov) = covariance(x.view(), 1).unwrap();
        assert!((mean[1] - 13.0 / 3.0).abs() < 1e-12);
        let want = array![[1.0, 2.5], [2.5, 19.0 / 3.0]];
        assert!((cov - want).iter().all(|d| d.abs() < 1e-12));
        assert!(covariance(x.slice(ndarray::s![..1, ..]), 1).is_err());
        assert!(covariance(array![[f32::NAN]].view(), 0).is_err());
    }

    #[test]
    fn pooled_covariance_uses_each_groups_mean() {
        // Groups {0, 2} and {10, 12} in one column: each deviates by ±1 from its mean, so Σ = 4/4 = 1.
        let a = array![[0.0f32], [2.0]];
        let b = array![[10.0f32], [12.0]];
        let empty = Array2::<f32>::zeros((0, 1));
        let p = pooled_covariance(&[a.view(), empty.view(), b.view()], 1).unwrap();
        assert_eq!(p.covariance, array![[1.0]]);
        assert_eq!(p.means[1], None);
        assert_eq!(p.means[2], Some(array![11.0]));
        assert!(pooled_covariance(&[empty.view()], 1).is_err());
        assert!(pooled_covariance(&[a.view()], 2).is_err());
    }

    #[test]
    fn correlations_by_hand() {
        // y = 2x exactly, z = −x³ (monotone decreasing), w constant.
        let x = array![
            [1.0f32, 2.0, -1.0, 5.0],
            [2.0, 4.0, -8.0, 5.0],
            [3.0, 6.0, -27.0, 5.0],
            [4.0, 8.0, -64.0, 5.0]
        ];
        let p = pearson(x.view()).unwrap();
        assert!((p[[0, 1]] - 1.0).abs() < 1e-12);
        assert!(p[[0, 2]] < -0.9 && p[[0, 2]] > -1.0, "{p}");
        assert_eq!((p[[0, 3]], p[[3, 3]]), (0.0, 1.0));
        let s = spearman(x.view()).unwrap();
        assert!((s[[0, 2]] + 1.0).abs() < 1e-12, "{s}");
        assert_eq!(p, p.t());
    }

    #[test]
    fn ties_share_their_average_rank() {
        let r = average_ranks(array![3.0f32, 1.0, 3.0, 2.0, 3.0].view());
        assert_eq!(r, array![4.0, 1.0, 4.0, 2.0, 4.0]);
    }
}
