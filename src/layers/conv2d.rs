//! 2-D convolution as PyTorch computes it (cross-correlation, zero padding), its backward pass and its
//! transpose.
//!
//! Forward, for input `x: [C, H, W]`, kernels `w: [O, C, K, K]` (OIHW), bias `b: [O]`:
//! `y[o, i, j] = b[o] + Σ_c Σ_ky Σ_kx w[o, c, ky, kx] · x[c, i·s + ky − p, j·s + kx − p]`, output `[O, H', W']`
//! with `H' = (H + 2p − K) / s + 1`.
//!
//! The transpose (`x̂ = convᵀ(ŷ)`, kernels flipped and channels swapped) is at the same time the gradient with
//! respect to the input and the "filtering" step of the Zeiler & Fergus deconvnet, so there is one function
//! for both: [`transpose`]. It satisfies ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for the bias-free convolution.

use crate::error::{Error, Result};
use crate::tensor::{axpy, Tensor};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of a square-kernel convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conv2dParams {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel_size: usize,
    #[serde(default = "one")]
    pub stride: usize,
    #[serde(default)]
    pub padding: usize,
}

fn one() -> usize {
    1
}

impl Conv2dParams {
    /// Output height and width for an input of `h × w`; errors when the kernel does not fit or stride is 0.
    pub fn out_dims(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        if self.stride == 0
            || self.kernel_size == 0
            || self.in_channels == 0
            || self.out_channels == 0
        {
            return Err(Error::manifest(format!(
                "conv2d needs positive channels, kernel_size and stride, got {self:?}"
            )));
        }
        let (ph, pw) = (h + 2 * self.padding, w + 2 * self.padding);
        if self.kernel_size > ph || self.kernel_size > pw {
            return Err(Error::manifest(format!(
                "conv2d kernel {k}×{k} does not fit a padded {ph}×{pw} input",
                k = self.kernel_size
            )));
        }
        Ok((
            (ph - self.kernel_size) / self.stride + 1,
            (pw - self.kernel_size) / self.stride + 1,
        ))
    }

    /// `[O, C, K, K]`.
    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels,
            self.kernel_size,
            self.kernel_size,
        ]
    }

    fn check_input(&self, x: &Tensor) -> Result<(usize, usize, usize)> {
        let (c, h, w) = x.chw()?;
        if c != self.in_channels {
            return Err(Error::shape(
                "conv2d input",
                &[self.in_channels, h, w],
                x.shape(),
            ));
        }
        Ok((c, h, w))
    }
}

/// Output positions `o` (in `0..n_out`) whose input index `o·s + k − p` lies in `0..n_in`, as a range.
fn valid_range(k: usize, s: usize, p: usize, n_in: usize, n_out: usize) -> (usize, usize) {
    let lo = if p > k { (p - k).div_ceil(s) } else { 0 };
    let hi = if n_in + p > k {
        ((n_in + p - k - 1) / s + 1).min(n_out)
    } else {
        0
    };
    (lo, hi.max(lo))
}

/// Kernel taps `k` (in `0..kernel`) whose input index `o·s + k − p` lies in `0..n_in`, for output position `o`.
fn tap_range(o: usize, s: usize, p: usize, n_in: usize, kernel: usize) -> (usize, usize) {
    let lo = p.saturating_sub(o * s);
    let hi = kernel.min((n_in + p).saturating_sub(o * s));
    (lo, hi.max(lo))
}

fn check_weights(p: &Conv2dParams, weight: &[f32], bias: Option<&[f32]>) -> Result<()> {
    let ws = p.weight_shape();
    if weight.len() != ws.iter().product::<usize>() {
        return Err(Error::shape("conv2d weight", &ws, &[weight.len()]));
    }
    if let Some(b) = bias {
        if b.len() != p.out_channels {
            return Err(Error::shape("conv2d bias", &[p.out_channels], &[b.len()]));
        }
    }
    Ok(())
}

/// The im2col matrix `[C·K·K, H'·W']`: row `(c, ky, kx)` holds the input values that tap meets at every output
/// position (zero where it falls in the padding).
fn im2col(
    p: &Conv2dParams,
    x: &[f32],
    (h, w): (usize, usize),
    (oh, ow): (usize, usize),
) -> Vec<f32> {
    let (k, s, pad) = (p.kernel_size, p.stride, p.padding);
    let n = oh * ow;
    let mut cols = vec![0.0f32; p.in_channels * k * k * n];
    for (row, col_row) in cols.chunks_exact_mut(n).enumerate() {
        let (c, ky, kx) = (row / (k * k), row / k % k, row % k);
        let (oy0, oy1) = valid_range(ky, s, pad, h, oh);
        let (ox0, ox1) = valid_range(kx, s, pad, w, ow);
        for oy in oy0..oy1 {
            let src = (c * h + oy * s + ky - pad) * w;
            let dst = &mut col_row[oy * ow + ox0..oy * ow + ox1];
            if s == 1 {
                let start = src + ox0 + kx - pad;
                dst.copy_from_slice(&x[start..start + dst.len()]);
            } else {
                for (t, d) in dst.iter_mut().enumerate() {
                    *d = x[src + (ox0 + t) * s + kx - pad];
                }
            }
        }
    }
    cols
}

/// Forward pass. `x: [C, H, W]` → `[O, H', W']`, as im2col followed by the product `W · cols`.
pub fn forward(p: &Conv2dParams, x: &Tensor, weight: &[f32], bias: &[f32]) -> Result<Tensor> {
    let (_, h, w) = p.check_input(x)?;
    check_weights(p, weight, Some(bias))?;
    let (oh, ow) = p.out_dims(h, w)?;
    let n = oh * ow;
    let cols = im2col(p, x.data(), (h, w), (oh, ow));
    let mut y = Tensor::zeros(&[p.out_channels, oh, ow]);
    for (plane, &b) in y.data_mut().chunks_exact_mut(n).zip(bias) {
        plane.fill(b);
    }
    multiply(y.data_mut(), weight, &cols, n);
    Ok(y)
}

/// `planes += kernels · cols`: `planes` holds `O` output planes of `n` values (bias already in place),
/// `kernels` their `O` rows of the weight matrix, `cols` the im2col matrix `[taps, n]`. Register-blocked: a
/// tile of up to four planes × eight positions is accumulated over every tap in locals and stored once, so
/// the inner loop does two vector loads per 32 multiply-adds and no stores.
fn multiply(planes: &mut [f32], kernels: &[f32], cols: &[f32], n: usize) {
    let taps = cols.len() / n.max(1);
    for (block, ks) in planes.chunks_mut(4 * n).zip(kernels.chunks(4 * taps)) {
        match block.len() / n.max(1) {
            4 => tiles::<4>(block, ks, cols, n, taps),
            3 => tiles::<3>(block, ks, cols, n, taps),
            2 => tiles::<2>(block, ks, cols, n, taps),
            _ => tiles::<1>(block, ks, cols, n, taps),
        }
    }
}

/// [`multiply`] for a block of exactly `O` planes: tiles of eight positions, then four, then one.
fn tiles<const O: usize>(planes: &mut [f32], kernels: &[f32], cols: &[f32], n: usize, taps: usize) {
    let mut x = 0;
    while x + 8 <= n {
        tile::<O, 8>(planes, kernels, cols, n, taps, x);
        x += 8;
    }
    while x + 4 <= n {
        tile::<O, 4>(planes, kernels, cols, n, taps, x);
        x += 4;
    }
    while x < n {
        tile::<O, 1>(planes, kernels, cols, n, taps, x);
        x += 1;
    }
}

#[inline(always)]
fn tile<const O: usize, const W: usize>(
    planes: &mut [f32],
    kernels: &[f32],
    cols: &[f32],
    n: usize,
    taps: usize,
    x: usize,
) {
    let mut acc = [[0.0f32; W]; O];
    for t in 0..taps {
        let col = &cols[t * n + x..t * n + x + W];
        for (o, row) in acc.iter_mut().enumerate() {
            let w = kernels[o * taps + t];
            for (a, c) in row.iter_mut().zip(col) {
                *a += w * c;
            }
        }
    }
    for (o, row) in acc.iter().enumerate() {
        for (p, a) in planes[o * n + x..o * n + x + W].iter_mut().zip(row) {
            *p += a;
        }
    }
}

/// Calls `f(o, c, ky, kx0, input_start, n, value)` for every non-zero `g[o, i, j]` and every input channel `c` and
/// kernel row `ky` whose taps `kx0..kx0 + n` meet the input row starting at flat index `input_start`.
/// Gradients that reach a conv layer come through unpooling and ReLU and are mostly zeros, so both
/// backward products are driven by the non-zeros.
fn for_each_nonzero(
    p: &Conv2dParams,
    g: &[f32],
    (h, w): (usize, usize),
    (oh, ow): (usize, usize),
    mut f: impl FnMut(usize, usize, usize, usize, usize, usize, f32),
) {
    let (k, s, pad) = (p.kernel_size, p.stride, p.padding);
    for (at, &v) in g.iter().enumerate().filter(|(_, v)| **v != 0.0) {
        let (o, i, j) = (at / (oh * ow), at / ow % oh, at % ow);
        let (kx0, kx1) = tap_range(j, s, pad, w, k);
        let (ky0, ky1) = tap_range(i, s, pad, h, k);
        if kx0 >= kx1 {
            continue;
        }
        let column = j * s + kx0 - pad;
        for c in 0..p.in_channels {
            for ky in ky0..ky1 {
                f(
                    o,
                    c,
                    ky,
                    kx0,
                    (c * h + i * s + ky - pad) * w + column,
                    kx1 - kx0,
                    v,
                );
            }
        }
    }
}

/// The transposed convolution (no bias): `ŷ: [O, H', W']` → `[C, H, W]` for an input size of `h × w`.
/// This is the gradient of the forward pass with respect to its input, and the deconvnet's filtering step:
/// every non-zero `ŷ[o, i, j]` adds `ŷ[o, i, j] · w[o, c, ·, ·]` to the input window it was computed from.
pub fn transpose(
    p: &Conv2dParams,
    y: &Tensor,
    weight: &[f32],
    h: usize,
    w: usize,
) -> Result<Tensor> {
    check_weights(p, weight, None)?;
    let (oh, ow) = p.out_dims(h, w)?;
    if y.shape() != [p.out_channels, oh, ow] {
        return Err(Error::shape(
            "conv2d transpose input",
            &[p.out_channels, oh, ow],
            y.shape(),
        ));
    }
    let k = p.kernel_size;
    let mut x = Tensor::zeros(&[p.in_channels, h, w]);
    let xd = x.data_mut();
    for_each_nonzero(
        p,
        y.data(),
        (h, w),
        (oh, ow),
        |o, c, ky, kx0, start, n, v| {
            let taps = &weight[((o * p.in_channels + c) * k + ky) * k + kx0..][..n];
            axpy(v, taps, &mut xd[start..start + n]);
        },
    );
    Ok(x)
}

/// Accumulates the parameter gradients: `dweight += ∂L/∂w`, `dbias += ∂L/∂b` given the forward input `x` and
/// the output gradient `dy: [O, H', W']`.
pub fn accumulate_param_grads(
    p: &Conv2dParams,
    x: &Tensor,
    dy: &Tensor,
    dweight: &mut [f32],
    dbias: &mut [f32],
) -> Result<()> {
    let (_, h, w) = p.check_input(x)?;
    check_weights(p, dweight, Some(dbias))?;
    let (oh, ow) = p.out_dims(h, w)?;
    if dy.shape() != [p.out_channels, oh, ow] {
        return Err(Error::shape(
            "conv2d output gradient",
            &[p.out_channels, oh, ow],
            dy.shape(),
        ));
    }
    for (db, plane) in dbias.iter_mut().zip(dy.data().chunks_exact(oh * ow)) {
        *db += plane.iter().sum::<f32>();
    }
    let (k, xd) = (p.kernel_size, x.data());
    for_each_nonzero(
        p,
        dy.data(),
        (h, w),
        (oh, ow),
        |o, c, ky, kx0, start, n, v| {
            let taps = &mut dweight[((o * p.in_channels + c) * k + ky) * k + kx0..][..n];
            axpy(v, &xd[start..start + n], taps);
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// `(in_channels, out_channels, kernel_size, stride, padding)`.
    fn params(c: usize, o: usize, k: usize, s: usize, p: usize) -> Conv2dParams {
        Conv2dParams {
            in_channels: c,
            out_channels: o,
            kernel_size: k,
            stride: s,
            padding: p,
        }
    }

    fn random(rng: &mut Rng, shape: &[usize]) -> Tensor {
        let n = shape.iter().product();
        Tensor::from_vec(shape, (0..n).map(|_| rng.normal()).collect()).unwrap()
    }

    #[test]
    fn out_dims_follow_pytorch_formula() {
        let p = params(1, 6, 5, 1, 2);
        assert_eq!(p.out_dims(28, 28).unwrap(), (28, 28));
        let p = params(6, 16, 5, 1, 0);
        assert_eq!(p.out_dims(14, 14).unwrap(), (10, 10));
        let p = params(1, 1, 3, 2, 1);
        assert_eq!(p.out_dims(7, 8).unwrap(), (4, 4));
        let p = params(1, 1, 6, 1, 0);
        assert!(p.out_dims(5, 9).is_err());
        let p = params(1, 1, 3, 0, 0);
        assert!(p.out_dims(5, 5).is_err());
    }

    #[test]
    fn hand_computed_small_case() {
        // x = [[1,2,3],[4,5,6],[7,8,9]], k = [[1,0],[0,-1]], b = 0.5, padding 0:
        // y[i][j] = x[i][j] - x[i+1][j+1] + 0.5 = -4 + 0.5 everywhere.
        let p = params(1, 1, 2, 1, 0);
        let x = Tensor::from_vec(&[1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap();
        let y = forward(&p, &x, &[1.0, 0.0, 0.0, -1.0], &[0.5]).unwrap();
        assert_eq!(y.shape(), &[1, 2, 2]);
        assert_eq!(y.data(), &[-3.5, -3.5, -3.5, -3.5]);
        // With padding 1 the corner output sees only x[0][0] under the kernel's -1 tap: y[0][0] = -1 + 0.5.
        let p1 = Conv2dParams { padding: 1, ..p };
        let y1 = forward(&p1, &x, &[1.0, 0.0, 0.0, -1.0], &[0.5]).unwrap();
        assert_eq!(y1.shape(), &[1, 4, 4]);
        assert_eq!(y1.data()[0], -0.5);
        assert_eq!(y1.data()[15], 9.5);
    }

    #[test]
    fn adjoint_identity_for_strides_and_paddings() {
        let mut rng = Rng::new(1);
        for &(c, o, k, s, pad, h, w) in &[
            (1, 6, 5, 1, 2, 28, 28),
            (6, 16, 5, 1, 0, 14, 14),
            (2, 3, 3, 2, 1, 9, 7),
            (3, 2, 4, 3, 2, 10, 11),
        ] {
            let p = params(c, o, k, s, pad);
            let (oh, ow) = p.out_dims(h, w).unwrap();
            let x = random(&mut rng, &[c, h, w]);
            let y = random(&mut rng, &[o, oh, ow]);
            let wt = random(&mut rng, &p.weight_shape());
            let zero_bias = vec![0.0; o];
            let cx = forward(&p, &x, wt.data(), &zero_bias).unwrap();
            let cty = transpose(&p, &y, wt.data(), h, w).unwrap();
            let lhs: f64 = cx
                .data()
                .iter()
                .zip(y.data())
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum();
            let rhs: f64 = x
                .data()
                .iter()
                .zip(cty.data())
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum();
            assert!(
                (lhs - rhs).abs() <= 1e-4 * lhs.abs().max(1.0),
                "{lhs} vs {rhs} for {p:?}"
            );
        }
    }

    #[test]
    fn parameter_gradients_match_finite_differences() {
        let mut rng = Rng::new(2);
        let p = params(2, 3, 3, 2, 1);
        let x = random(&mut rng, &[2, 7, 6]);
        let mut wt = random(&mut rng, &p.weight_shape()).into_data();
        let mut b = vec![0.1, -0.2, 0.3];
        let (oh, ow) = p.out_dims(7, 6).unwrap();
        let r = random(&mut rng, &[3, oh, ow]);
        // L = ⟨conv(x), r⟩, so dL/dy = r.
        let loss = |wt: &[f32], b: &[f32]| -> f64 {
            let y = forward(&p, &x, wt, b).unwrap();
            y.data()
                .iter()
                .zip(r.data())
                .map(|(a, c)| *a as f64 * *c as f64)
                .sum()
        };
        let mut dw = vec![0.0; wt.len()];
        let mut db = vec![0.0; 3];
        accumulate_param_grads(&p, &x, &r, &mut dw, &mut db).unwrap();
        let eps = 1e-2;
        for i in 0..wt.len() {
            let keep = wt[i];
            wt[i] = keep + eps;
            let up = loss(&wt, &b);
            wt[i] = keep - eps;
            let down = loss(&wt, &b);
            wt[i] = keep;
            let fd = (up - down) / (2.0 * eps as f64);
            assert!(
                (fd - dw[i] as f64).abs() < 1e-3 * fd.abs().max(1.0),
                "w[{i}]: {fd} vs {}",
                dw[i]
            );
        }
        for i in 0..3 {
            let keep = b[i];
            b[i] = keep + eps;
            let up = loss(&wt, &b);
            b[i] = keep - eps;
            let down = loss(&wt, &b);
            b[i] = keep;
            let fd = (up - down) / (2.0 * eps as f64);
            assert!((fd - db[i] as f64).abs() < 1e-3 * fd.abs().max(1.0));
        }
    }

    #[test]
    fn input_gradient_matches_finite_differences() {
        let mut rng = Rng::new(3);
        let p = params(2, 2, 3, 1, 1);
        let mut x = random(&mut rng, &[2, 5, 4]);
        let wt = random(&mut rng, &p.weight_shape()).into_data();
        let b = vec![0.0; 2];
        let r = random(&mut rng, &[2, 5, 4]);
        let dx = transpose(&p, &r, &wt, 5, 4).unwrap();
        let eps = 1e-2;
        for i in 0..x.len() {
            let keep = x.data()[i];
            x.data_mut()[i] = keep + eps;
            let up: f64 = forward(&p, &x, &wt, &b)
                .unwrap()
                .data()
                .iter()
                .zip(r.data())
                .map(|(a, c)| (*a * *c) as f64)
                .sum();
            x.data_mut()[i] = keep - eps;
            let down: f64 = forward(&p, &x, &wt, &b)
                .unwrap()
                .data()
                .iter()
                .zip(r.data())
                .map(|(a, c)| (*a * *c) as f64)
                .sum();
            x.data_mut()[i] = keep;
            let fd = (up - down) / (2.0 * eps as f64);
            assert!((fd - dx.data()[i] as f64).abs() < 1e-3 * fd.abs().max(1.0));
        }
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let p = params(2, 1, 3, 1, 0);
        let x = Tensor::zeros(&[1, 5, 5]);
        assert!(matches!(
            forward(&p, &x, &[0.0; 18], &[0.0]),
            Err(Error::ShapeMismatch { .. })
        ));
        let x = Tensor::zeros(&[2, 5, 5]);
        assert!(forward(&p, &x, &[0.0; 17], &[0.0]).is_err());
        assert!(forward(&p, &x, &[0.0; 18], &[0.0, 1.0]).is_err());
        assert!(transpose(&p, &Tensor::zeros(&[1, 2, 2]), &[0.0; 18], 5, 5).is_err());
    }
}
