//! 2-D convolution as PyTorch computes it (cross-correlation, zero padding), its backward pass and its
//! transpose.
//!
//! For input `x: [C, H, W]`, kernels `w: [O, C, K, K]` (OIHW), bias `b: [O]`, stride `s` and padding `p`:
//!
//! `y[o, i, j] = b[o] + Σ_c Σ_ky Σ_kx w[o, c, ky, kx] · x[c, i·s + ky − p, j·s + kx − p]`
//!
//! (`x` is zero outside the map), output `[O, H', W']` with `H' = (H + 2p − K) / s + 1`
//! ([`Conv2dParams::out_dims`]). [`reference`] computes exactly that, as plain loops; it is the definition the
//! tests and the property test hold the fast paths to:
//!
//! - [`forward`] (`fast.rs`): a register-blocked product of the `[O, C·K·K]` weight matrix with the input
//!   values every tap meets, read from `K` shifted copies of the input for stride 1 and from an im2col matrix
//!   otherwise, four output positions per vector.
//! - [`transpose`], [`transpose_lanes`], [`accumulate_param_grads`] (`transpose.rs`): the transpose
//!   (`x̂ = convᵀ(ŷ)`, kernels flipped and channels swapped) is at the same time the gradient with respect to
//!   the input and the "filtering" step of the Zeiler & Fergus deconvnet, so there is one function for both.
//!   It satisfies ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for the bias-free convolution.
//!
//! Sizes: every buffer the kernels allocate is bounded by [`Conv2dParams::check_size`] (at most
//! [`MAX_VALUES`] values, computed with checked arithmetic), so no index computation can wrap, on 64-bit
//! hosts or in 32-bit WebAssembly.

mod fast;
pub mod reference;
mod transpose;

pub use fast::forward;
pub(crate) use fast::product;
pub use transpose::{accumulate_param_grads, transpose, transpose_lanes};

use super::simd::F32x4;
use crate::error::{Error, Result};
use crate::tensor::{checked_product, Tensor, MAX_VALUES};
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
    /// Output height and width for an input of `h × w`; errors when the kernel does not fit, a size is 0 or
    /// the padded size overflows.
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
        let (ph, pw) = self.padded_dims(h, w)?;
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

    /// `(H + 2p, W + 2p)`; an error when that overflows.
    pub fn padded_dims(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        let grow = |n: usize| self.padding.checked_mul(2)?.checked_add(n);
        match (grow(h), grow(w)) {
            (Some(ph), Some(pw)) => Ok((ph, pw)),
            _ => Err(Error::manifest(format!(
                "conv2d padding {} is too large for a {h}×{w} input",
                self.padding
            ))),
        }
    }

    /// [`Conv2dParams::out_dims`], after checking that every buffer the kernels use for an `h × w` input
    /// (the output, the forward pass's shifted copies or im2col matrix, the transpose's padded map, the
    /// weights) holds at most [`MAX_VALUES`] values.
    pub fn check_size(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        let (oh, ow) = self.out_dims(h, w)?;
        let (hp, wp) = self.padded_dims(h, w)?;
        let (c, o, k) = (self.in_channels, self.out_channels, self.kernel_size);
        let buffers = [
            checked_product(&[k, c, hp, ow]),
            checked_product(&[c, k, k, oh, ow]),
            checked_product(&[c, k, k]).and_then(|n| n.checked_mul(8)),
            checked_product(&[c, hp, wp]),
            checked_product(&[o, oh, ow]),
            checked_product(&[o, c, k, k]),
        ];
        // Each bounded by MAX_VALUES, their sums below stay far from usize::MAX (2^32 in wasm).
        match buffers
            .iter()
            .try_fold(0, |m: usize, n| n.map(|n| m.max(n)))
        {
            Some(largest) if largest <= MAX_VALUES => Ok((oh, ow)),
            _ => Err(Error::manifest(format!(
                "conv2d {self:?} on a {h}×{w} input needs buffers of more than {MAX_VALUES} values"
            ))),
        }
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

    /// `(C, H, W)` of an input, checking its channel count.
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

/// Checks the arguments of a transpose of the outputs `y_shape` back to an `h × w` input; returns `(H', W')`.
fn check_transpose(
    p: &Conv2dParams,
    weight: &[f32],
    y_shape: &[usize],
    (h, w): (usize, usize),
) -> Result<(usize, usize)> {
    check_weights(p, weight, None)?;
    let (oh, ow) = p.check_size(h, w)?;
    if y_shape != [p.out_channels, oh, ow] {
        return Err(Error::shape(
            "conv2d transpose input",
            &[p.out_channels, oh, ow],
            y_shape,
        ));
    }
    Ok((oh, ow))
}

fn check_weights(p: &Conv2dParams, weight: &[f32], bias: Option<&[f32]>) -> Result<()> {
    let ws = p.weight_shape();
    if Some(weight.len()) != checked_product(&ws) {
        return Err(Error::shape("conv2d weight", &ws, &[weight.len()]));
    }
    if let Some(b) = bias {
        if b.len() != p.out_channels {
            return Err(Error::shape("conv2d bias", &[p.out_channels], &[b.len()]));
        }
    }
    Ok(())
}

/// Copies `src` to `dst` (same length) four values at a time; lengths of four or more end with one
/// overlapping vector instead of a scalar tail. (`copy_from_slice` becomes `memory.copy` in wasm, which
/// costs a call for the rows of a few values im2col copies.)
#[inline(always)]
fn copy(dst: &mut [f32], src: &[f32]) {
    let n = dst.len().min(src.len());
    if n < 4 {
        dst[..n].copy_from_slice(&src[..n]);
        return;
    }
    let mut i = 0;
    while i + 4 < n {
        F32x4::load(src, i).store(dst, i);
        i += 4;
    }
    F32x4::load(src, n - 4).store(dst, n - 4);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// `(in_channels, out_channels, kernel_size, stride, padding)`.
    pub(super) fn params(c: usize, o: usize, k: usize, s: usize, p: usize) -> Conv2dParams {
        Conv2dParams {
            in_channels: c,
            out_channels: o,
            kernel_size: k,
            stride: s,
            padding: p,
        }
    }

    /// `(C, O, K, stride, padding, H, W)` of the transpose tests: LeNet's two layers, strides 2 and 3,
    /// padding as wide as the kernel allows.
    const TRANSPOSE_CASES: [(usize, usize, usize, usize, usize, usize, usize); 5] = [
        (1, 6, 5, 1, 2, 28, 28),
        (6, 16, 5, 1, 0, 14, 14),
        (2, 3, 3, 2, 1, 9, 7),
        (3, 2, 4, 3, 2, 10, 11),
        (1, 1, 3, 1, 2, 3, 3),
    ];

    /// Asserts `|got − want| ≤ 1e-5 · max(|want|, 1)` value by value, and equal shapes.
    pub(super) fn assert_close(got: &Tensor, want: &Tensor, what: &dyn std::fmt::Debug) {
        assert_eq!(got.shape(), want.shape(), "{what:?}");
        for (a, b) in got.data().iter().zip(want.data()) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{a} vs {b}: {what:?}"
            );
        }
    }

    /// Runs `f(rng, params, (h, w), (h', w'))` on every case of [`TRANSPOSE_CASES`].
    pub(super) fn for_each_transpose_case(
        seed: u64,
        mut f: impl FnMut(&mut Rng, Conv2dParams, (usize, usize), (usize, usize)),
    ) {
        let mut rng = Rng::new(seed);
        for (c, o, k, s, pad, h, w) in TRANSPOSE_CASES {
            let p = params(c, o, k, s, pad);
            let out = p.out_dims(h, w).unwrap();
            f(&mut rng, p, (h, w), out);
        }
    }

    pub(super) fn random(rng: &mut Rng, shape: &[usize]) -> Tensor {
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
    fn absurd_sizes_are_errors_not_wrapped_sizes() {
        // Padding 2^62 (2^30 in 32-bit wasm) and 2^31 overflow or exceed the buffer bound.
        for padding in [usize::MAX / 4 + 1, usize::MAX / 2, 1 << 30, 1 << 31] {
            let p = params(1, 1, 5, 1, padding);
            assert!(p.check_size(28, 28).is_err(), "padding {padding}");
        }
        // A huge stride keeps the output small ((2 + 2s − 1) / s + 1 = 3) but not the padded map of the
        // transpose.
        let huge = usize::MAX / 8;
        let p = params(1, 1, 1, huge, huge);
        assert_eq!(p.out_dims(2, 2).unwrap(), (3, 3));
        assert!(p.check_size(2, 2).is_err());
        assert!(params(1 << 20, 1 << 20, 1, 1, 0).check_size(1, 1).is_err());
        assert_eq!(params(1, 6, 5, 1, 2).check_size(28, 28).unwrap(), (28, 28));
        assert!(params(1, 1, 5, 1, 2)
            .padded_dims(usize::MAX - 3, 1)
            .is_err());
    }
}
