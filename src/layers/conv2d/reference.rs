//! What a convolution computes, as plain loops over the definition in the module header: no blocking, no
//! vectors, no shifted copies, sums in `f64` rounded to `f32` once. Slow (it is the definition, not a
//! kernel); the fast paths in this module are tested against it, and so are whole networks in
//! `tests/properties.rs`.

use super::{check_transpose, check_weights, Conv2dParams};
use crate::error::Result;
use crate::tensor::Tensor;

/// The input value tap `(ky, kx)` of output `(i, j)` meets: `x[c, i·s + ky − p, j·s + kx − p]`, or `None`
/// in the zero padding.
fn tap(
    p: &Conv2dParams,
    (h, w): (usize, usize),
    (i, j): (usize, usize),
    (ky, kx): (usize, usize),
) -> Option<(usize, usize)> {
    let r = (i * p.stride + ky).checked_sub(p.padding)?;
    let q = (j * p.stride + kx).checked_sub(p.padding)?;
    (r < h && q < w).then_some((r, q))
}

/// `y[o, i, j] = b[o] + Σ_c Σ_ky Σ_kx w[o, c, ky, kx] · x[c, i·s + ky − p, j·s + kx − p]`.
/// `x: [C, H, W]`, `weight: [O, C, K, K]`, `bias: [O]` → `[O, H', W']`.
pub fn forward(p: &Conv2dParams, x: &Tensor, weight: &[f32], bias: &[f32]) -> Result<Tensor> {
    let (c_in, h, w) = p.check_input(x)?;
    check_weights(p, weight, Some(bias))?;
    let (oh, ow) = p.check_size(h, w)?;
    let k = p.kernel_size;
    let mut y = Vec::with_capacity(p.out_channels * oh * ow);
    for o in 0..p.out_channels {
        for i in 0..oh {
            for j in 0..ow {
                let mut sum = bias[o] as f64;
                for c in 0..c_in {
                    for ky in 0..k {
                        for kx in 0..k {
                            if let Some((r, q)) = tap(p, (h, w), (i, j), (ky, kx)) {
                                let wv = weight[((o * c_in + c) * k + ky) * k + kx];
                                sum += wv as f64 * x.data()[(c * h + r) * w + q] as f64;
                            }
                        }
                    }
                }
                y.push(sum as f32);
            }
        }
    }
    Tensor::from_vec(&[p.out_channels, oh, ow], y)
}

/// The transpose: `x̂[c, r, q] = Σ_o Σ_i Σ_j ŷ[o, i, j] · w[o, c, ky, kx]` over the taps `(ky, kx)` with
/// `r = i·s + ky − p`, `q = j·s + kx − p`. `y: [O, H', W']` → `[C, H, W]` for an `h × w` input.
pub fn transpose(
    p: &Conv2dParams,
    y: &Tensor,
    weight: &[f32],
    h: usize,
    w: usize,
) -> Result<Tensor> {
    let (oh, ow) = check_transpose(p, weight, y.shape(), (h, w))?;
    let (c_in, k) = (p.in_channels, p.kernel_size);
    let mut x = vec![0.0f64; c_in * h * w];
    for (at, &v) in y.data().iter().enumerate() {
        let (o, i, j) = (at / (oh * ow), at / ow % oh, at % ow);
        for c in 0..c_in {
            for ky in 0..k {
                for kx in 0..k {
                    if let Some((r, q)) = tap(p, (h, w), (i, j), (ky, kx)) {
                        let wv = weight[((o * c_in + c) * k + ky) * k + kx];
                        x[(c * h + r) * w + q] += v as f64 * wv as f64;
                    }
                }
            }
        }
    }
    Tensor::from_vec(&[c_in, h, w], x.into_iter().map(|v| v as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::super::tests::params;
    use super::*;

    #[test]
    fn hand_computed_small_case() {
        // x = [[1,2,3],[4,5,6],[7,8,9]], k = [[1,0],[0,-1]], b = 0.5, padding 0:
        // y[i][j] = x[i][j] - x[i+1][j+1] + 0.5 = -4 + 0.5 everywhere.
        let p = params(1, 1, 2, 1, 0);
        let x = Tensor::from_vec(&[1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap();
        let kernel = [1.0, 0.0, 0.0, -1.0];
        let y = forward(&p, &x, &kernel, &[0.5]).unwrap();
        assert_eq!(y.data(), &[-3.5, -3.5, -3.5, -3.5]);
        // Padding 1, stride 2: output (i, j) is x[2i−1][2j−1] − x[2i][2j] + 0.5, with zeros off the map.
        let p = params(1, 1, 2, 2, 1);
        let y = forward(&p, &x, &kernel, &[0.5]).unwrap();
        assert_eq!(y.shape(), &[1, 2, 2]);
        assert_eq!(y.data(), &[-0.5, -2.5, -6.5, 5.0 - 9.0 + 0.5]);
        // The transpose of a 1 at output (1, 1) puts the kernel back on the window it came from, x[1..3][1..3].
        let mut g = Tensor::zeros(&[1, 2, 2]);
        g.data_mut()[3] = 1.0;
        let t = transpose(&p, &g, &kernel, 3, 3).unwrap();
        assert_eq!(t.data(), &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0]);
    }
}
