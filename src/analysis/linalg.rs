//! Dense linear algebra on small symmetric matrices, in `f64`.
//!
//! - [`Cholesky`]: `A = L Lᵀ` for a symmetric positive definite `A` (`n × n`), with solves and the inverse
//!   `A⁻¹ = L⁻ᵀ L⁻¹` (the monitor's Mahalanobis precision matrix).
//! - [`symmetric_eigen`]: `A = V diag(λ) Vᵀ` by Householder reduction to tridiagonal form and the implicit QL
//!   algorithm (`tred2` / `tql2` of EISPACK, as in JAMA), eigenvalues in descending order, `O(n³)`.

use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

/// The lower triangular Cholesky factor `L` of a symmetric positive definite matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky {
    l: Array2<f64>,
}

impl Cholesky {
    /// Factors `a` (`n × n`, only its lower triangle is read). Fails when `a` is not positive definite.
    pub fn factor(a: ArrayView2<f64>) -> Result<Cholesky> {
        let n = a.nrows();
        if a.ncols() != n {
            return Err(Error::shape("a Cholesky matrix", &[n, n], a.shape()));
        }
        let mut l = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in 0..=i {
                let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
                if i == j {
                    let pivot = a[[i, i]] - s;
                    if !(pivot.is_finite() && pivot > 0.0) {
                        return Err(Error::non_finite(
                            "the Cholesky factorisation (the matrix is not positive definite)",
                        ));
                    }
                    l[[i, i]] = pivot.sqrt();
                } else {
                    l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
                }
            }
        }
        Ok(Cholesky { l })
    }

    /// The factor `L`.
    pub fn factor_l(&self) -> ArrayView2<'_, f64> {
        self.l.view()
    }

    /// `x` with `A x = b`, by forward then backward substitution.
    pub fn solve(&self, b: ArrayView1<f64>) -> Result<Array1<f64>> {
        let (l, n) = (&self.l, self.l.nrows());
        if b.len() != n {
            return Err(Error::shape("the right-hand side", &[n], &[b.len()]));
        }
        let mut y = Array1::<f64>::zeros(n);
        for i in 0..n {
            let s: f64 = (0..i).map(|k| l[[i, k]] * y[k]).sum();
            y[i] = (b[i] - s) / l[[i, i]];
        }
        let mut x = Array1::<f64>::zeros(n);
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|k| l[[k, i]] * x[k]).sum();
            x[i] = (y[i] - s) / l[[i, i]];
        }
        Ok(x)
    }

    /// `A⁻¹ = L⁻ᵀ L⁻¹`, exactly symmetric.
    pub fn inverse(&self) -> Array2<f64> {
        let (l, n) = (&self.l, self.l.nrows());
        // Columns of L⁻¹ by forward substitution: L y = e_k.
        let mut l_inv = Array2::<f64>::zeros((n, n));
        for k in 0..n {
            for i in k..n {
                let s: f64 = (k..i).map(|m| l[[i, m]] * l_inv[[m, k]]).sum();
                let rhs = if i == k { 1.0 } else { 0.0 };
                l_inv[[i, k]] = (rhs - s) / l[[i, i]];
            }
        }
        // P[i][j] = Σ_m L⁻¹[m][i] L⁻¹[m][j], m ≥ max(i, j); symmetric by construction.
        let mut p = Array2::<f64>::zeros((n, n));
        for i in 0..n {
            for j in i..n {
                let v: f64 = (j..n).map(|m| l_inv[[m, i]] * l_inv[[m, j]]).sum();
                p[[i, j]] = v;
                p[[j, i]] = v;
            }
        }
        p
    }
}

/// Eigenvalues (descending) and eigenvectors of a symmetric matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricEigen {
    /// `λ_0 ≥ λ_1 ≥ … ≥ λ_{n−1}`.
    pub values: Array1<f64>,
    /// `n × n`: row `k` is the unit eigenvector of `values[k]` (its sign is arbitrary).
    pub vectors: Array2<f64>,
}

/// The eigendecomposition of the symmetric `a` (`n × n`, finite; only the lower triangle is read).
pub fn symmetric_eigen(a: ArrayView2<f64>) -> Result<SymmetricEigen> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(Error::shape("a symmetric matrix", &[n, n], a.shape()));
    }
    if !a.iter().all(|v| v.is_finite()) {
        return Err(Error::non_finite("the matrix to diagonalise"));
    }
    if n == 0 {
        return Ok(SymmetricEigen {
            values: Array1::zeros(0),
            vectors: Array2::zeros((0, 0)),
        });
    }
    let mut v = Array2::from_shape_fn((n, n), |(i, j)| a[[i.max(j), i.min(j)]]);
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];
    householder_tridiagonal(&mut v, &mut d, &mut e);
    accumulate_householder(&mut v, &mut d, &mut e);
    // The QL sweeps rotate columns of V: work on its transpose so that they are contiguous rows.
    let mut rows = v.t().as_standard_layout().into_owned();
    tridiagonal_ql(&mut d, &mut e, &mut rows)?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| d[j].total_cmp(&d[i]).then(i.cmp(&j)));
    Ok(SymmetricEigen {
        values: order.iter().map(|&k| d[k]).collect(),
        vectors: Array2::from_shape_fn((n, n), |(k, i)| rows[[order[k], i]]),
    })
}

/// `tred2`, first half: reduces `v` (holding `A`) to tridiagonal form by Householder reflections; leaves the
/// diagonal in `d`, the subdiagonal in `e[1..]` and the reflections in `v`.
fn householder_tridiagonal(v: &mut Array2<f64>, d: &mut [f64], e: &mut [f64]) {
    let n = d.len();
    for j in 0..n {
        d[j] = v[[n - 1, j]];
    }
    for i in (1..n).rev() {
        let scale: f64 = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = 0.0;
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[[i - 1, j]];
                v[[i, j]] = 0.0;
                v[[j, i]] = 0.0;
            }
            d[i] = h;
            continue;
        }
        for dk in &mut d[..i] {
            *dk /= scale;
            h += *dk * *dk;
        }
        let mut f = d[i - 1];
        let mut g = if f > 0.0 { -h.sqrt() } else { h.sqrt() };
        e[i] = scale * g;
        h -= f * g;
        d[i - 1] = f - g;
        e[..i].fill(0.0);
        for j in 0..i {
            f = d[j];
            v[[j, i]] = f;
            g = e[j] + v[[j, j]] * f;
            for k in j + 1..i {
                g += v[[k, j]] * d[k];
                e[k] += v[[k, j]] * f;
            }
            e[j] = g;
        }
        f = 0.0;
        for j in 0..i {
            e[j] /= h;
            f += e[j] * d[j];
        }
        let hh = f / (h + h);
        for j in 0..i {
            e[j] -= hh * d[j];
        }
        for j in 0..i {
            let (f, g) = (d[j], e[j]);
            for k in j..i {
                v[[k, j]] -= f * e[k] + g * d[k];
            }
            d[j] = v[[i - 1, j]];
            v[[i, j]] = 0.0;
        }
        d[i] = h;
    }
}

/// `tred2`, second half: turns the stored reflections into the orthogonal `V` with `Vᵀ A V` tridiagonal.
fn accumulate_householder(v: &mut Array2<f64>, d: &mut [f64], e: &mut [f64]) {
    let n = d.len();
    for i in 0..n - 1 {
        v[[n - 1, i]] = v[[i, i]];
        v[[i, i]] = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v[[k, i + 1]] / h;
            }
            for j in 0..=i {
                let g: f64 = (0..=i).map(|k| v[[k, i + 1]] * v[[k, j]]).sum();
                for k in 0..=i {
                    v[[k, j]] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            v[[k, i + 1]] = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v[[n - 1, j]];
        v[[n - 1, j]] = 0.0;
    }
    v[[n - 1, n - 1]] = 1.0;
    e[0] = 0.0;
}

/// `tql2`: the implicit QL algorithm on the tridiagonal `(d, e)`; `d` ends as the eigenvalues and row `k`
/// of `rows` (which holds `Vᵀ`) as the eigenvector of `d[k]`.
fn tridiagonal_ql(d: &mut [f64], e: &mut [f64], rows: &mut Array2<f64>) -> Result<()> {
    let n = d.len();
    e.copy_within(1.., 0);
    e[n - 1] = 0.0;
    let (mut f, mut tst1) = (0.0f64, 0.0f64);
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let m = (l..n).find(|&m| e[m].abs() <= eps * tst1).unwrap_or(n - 1);
        let mut sweeps = 0;
        while m > l && e[l].abs() > eps * tst1 {
            sweeps += 1;
            if sweeps > 100 {
                return Err(Error::internal(
                    "the QL eigenvalue iteration did not converge in 100 sweeps",
                ));
            }
            f += ql_sweep(d, e, rows, l, m);
        }
        d[l] += f;
        e[l] = 0.0;
    }
    Ok(())
}

/// One implicitly shifted QL sweep over `l..=m`; returns the shift applied to `d[l + 2..]`.
fn ql_sweep(d: &mut [f64], e: &mut [f64], rows: &mut Array2<f64>, l: usize, m: usize) -> f64 {
    let n = d.len();
    let mut g = d[l];
    let mut p = (d[l + 1] - g) / (2.0 * e[l]);
    let mut r = p.hypot(1.0);
    if p < 0.0 {
        r = -r;
    }
    d[l] = e[l] / (p + r);
    d[l + 1] = e[l] * (p + r);
    let dl1 = d[l + 1];
    let shift = g - d[l];
    for di in &mut d[l + 2..n] {
        *di -= shift;
    }
    p = d[m];
    let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
    let el1 = e[l + 1];
    let (mut s, mut s2) = (0.0, 0.0);
    for i in (l..m).rev() {
        c3 = c2;
        c2 = c;
        s2 = s;
        g = c * e[i];
        let h = c * p;
        r = p.hypot(e[i]);
        e[i + 1] = s * r;
        s = e[i] / r;
        c = p / r;
        p = c * d[i] - s * g;
        d[i + 1] = h + s * (c * g + s * d[i]);
        let (head, tail) = rows.view_mut().split_at(ndarray::Axis(0), i + 1);
        let mut row_i = head.index_axis_move(ndarray::Axis(0), i);
        let mut row_next = tail.index_axis_move(ndarray::Axis(0), 0);
        for (a, b) in row_i.iter_mut().zip(row_next.iter_mut()) {
            let h = *b;
            *b = s * *a + c * h;
            *a = c * *a - s * h;
        }
    }
    p = -s * s2 * c3 * el1 * e[l] / dl1;
    e[l] = s * p;
    d[l] = c * p;
    shift
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_inverse_and_solve_of_a_known_matrix() {
        // [[4, 2], [2, 3]]⁻¹ = [[3, −2], [−2, 4]] / 8.
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let c = Cholesky::factor(a.view()).unwrap();
        let expected = array![[0.375, -0.25], [-0.25, 0.5]];
        assert!((c.inverse() - &expected).iter().all(|d| d.abs() < 1e-12));
        let x = c.solve(array![1.0, 1.0].view()).unwrap();
        assert!(
            (x[0] - 0.125).abs() < 1e-12 && (x[1] - 0.25).abs() < 1e-12,
            "{x}"
        );
        assert!(Cholesky::factor(array![[1.0, 2.0], [2.0, 1.0]].view()).is_err());
        assert!(Cholesky::factor(Array2::zeros((2, 3)).view()).is_err());
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2, 1, 0], [1, 2, 0], [0, 0, 5]]: eigenvalues 5, 3, 1.
        let a = array![[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 5.0]];
        let eig = symmetric_eigen(a.view()).unwrap();
        for (got, want) in eig.values.iter().zip([5.0, 3.0, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{}", eig.values);
        }
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let want = [[0.0, 0.0, 1.0], [h, h, 0.0], [h, -h, 0.0]];
        for (row, w) in eig.vectors.rows().into_iter().zip(want) {
            let dot: f64 = row.iter().zip(w).map(|(a, b)| a * b).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-12, "{}", eig.vectors);
        }
    }

    #[test]
    fn eigen_reconstructs_a_random_symmetric_matrix() {
        let mut rng = crate::rng::Rng::new(3);
        let n = 17;
        let b = Array2::from_shape_fn((n, n), |_| f64::from(rng.normal()));
        let a = b.t().dot(&b) - 3.0 * Array2::<f64>::eye(n);
        let eig = symmetric_eigen(a.view()).unwrap();
        let v = &eig.vectors;
        let rebuilt = v.t().dot(&Array2::from_diag(&eig.values)).dot(v);
        assert!((rebuilt - &a).iter().all(|d| d.abs() < 1e-9));
        assert!((v.dot(&v.t()) - Array2::<f64>::eye(n))
            .iter()
            .all(|d| d.abs() < 1e-12));
        assert!(eig.values.windows(2).into_iter().all(|w| w[0] >= w[1]));
        assert!(symmetric_eigen(array![[f64::NAN]].view()).is_err());
    }
}
