//! The fast forward pass: a register-blocked product of the `[O, C·K·K]` weight matrix with the input values
//! every tap meets, read from `K` shifted copies of the input for stride 1 and from an im2col matrix
//! otherwise (the private `Kernel`), four output positions per vector ([`F32x4`]). Tested against
//! [`super::reference::forward`].

use super::super::simd::F32x4;
use super::{check_weights, copy, valid_range, Conv2dParams};
use crate::error::Result;
use crate::tensor::Tensor;

/// Vectors of four output positions per tile of the blocked product ([`Product`]); with four planes that
/// is eight accumulators, which V8 keeps in registers (three vectors spill).
const V: usize = 2;

/// The im2col matrix `[C·K·K, pitch]` (`pitch` = `H'·W'` rounded up to whole tiles, zeros beyond): row
/// `(c, ky, kx)` holds the input values that tap meets at every output position (zero where it falls in the
/// padding).
fn im2col(
    p: &Conv2dParams,
    x: &[f32],
    (h, w): (usize, usize),
    (oh, ow): (usize, usize),
    pitch: usize,
) -> Vec<f32> {
    let (k, s, pad) = (p.kernel_size, p.stride, p.padding);
    let mut cols = vec![0.0f32; p.in_channels * k * k * pitch];
    for (row, col_row) in cols.chunks_exact_mut(pitch).enumerate() {
        let (c, ky, kx) = (row / (k * k), row / k % k, row % k);
        let (oy0, oy1) = valid_range(ky, s, pad, h, oh);
        let (ox0, ox1) = valid_range(kx, s, pad, w, ow);
        for oy in oy0..oy1 {
            let src = (c * h + oy * s + ky - pad) * w;
            let dst = &mut col_row[oy * ow + ox0..oy * ow + ox1];
            if s == 1 {
                let start = src + ox0 + kx - pad;
                copy(dst, &x[start..start + dst.len()]);
            } else {
                for (t, d) in dst.iter_mut().enumerate() {
                    *d = x[src + (ox0 + t) * s + kx - pad];
                }
            }
        }
    }
    cols
}

/// How [`forward`] lays out the product's right-hand side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// Stride 1 only: `K` copies of the zero-padded input, copy `kx` shifted left by `kx` columns and cut
    /// to rows of `W'` values. Tap `(c, ky, kx)` meets output position `(i, j)` in copy `kx` at
    /// `(c·H_p + i + ky)·W' + j`, a fixed offset per tap from position `i·W' + j`: the product runs over exactly
    /// the `H'·W'` outputs, from `K` copies of the input instead of im2col's `K²`.
    Shifted,
    /// [`im2col`], then the product over the `H'·W'` positions.
    Im2col,
}

impl Kernel {
    /// Shifted copies for stride 1 (LeNet-5's two conv layers: 13 and 23 µs in wasm against 19 and 28 with
    /// im2col), im2col for larger strides.
    fn for_params(p: &Conv2dParams) -> Kernel {
        if p.stride == 1 {
            Kernel::Shifted
        } else {
            Kernel::Im2col
        }
    }
}

/// Forward pass. `x: [C, H, W]` → `[O, H', W']`, as a register-blocked product of the `[O, C·K·K]` weight
/// matrix with the taps of every output position (see the module header).
pub fn forward(p: &Conv2dParams, x: &Tensor, weight: &[f32], bias: &[f32]) -> Result<Tensor> {
    forward_with(p, x, weight, bias, Kernel::for_params(p))
}

fn forward_with(
    p: &Conv2dParams,
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    kernel: Kernel,
) -> Result<Tensor> {
    let (c_in, h, w) = p.check_input(x)?;
    check_weights(p, weight, Some(bias))?;
    let (oh, ow) = p.check_size(h, w)?;
    let k = p.kernel_size;
    let tile = 4 * V;
    let (source, offsets) = match kernel {
        Kernel::Shifted if p.stride == 1 => {
            let (hp, pad) = (h + 2 * p.padding, p.padding);
            let copy_len = c_in * hp * ow;
            let offsets: Vec<usize> = (0..c_in * k * k)
                .map(|t| t % k * copy_len + (t / (k * k) * hp + t / k % k) * ow)
                .collect();
            // Room for the last tile's reads past the last copy (they only reach positions beyond H'·W').
            let mut shifted = vec![0.0f32; k * copy_len + tile];
            for kx in 0..k {
                // Output column j of copy kx reads input column j + kx − pad, where that lies in 0..w.
                let (j0, j1) = (pad.saturating_sub(kx), ow.min((w + pad).saturating_sub(kx)));
                if j0 >= j1 {
                    continue;
                }
                for (c, plane) in x.data().chunks_exact(h * w).enumerate() {
                    for (i, row) in plane.chunks_exact(w).enumerate() {
                        let start = kx * copy_len + (c * hp + pad + i) * ow;
                        let from = j0 + kx - pad;
                        copy(
                            &mut shifted[start + j0..start + j1],
                            &row[from..from + j1 - j0],
                        );
                    }
                }
            }
            (shifted, offsets)
        }
        _ => {
            let n = oh * ow;
            let pitch = n.div_ceil(tile) * tile;
            let cols = im2col(p, x.data(), (h, w), (oh, ow), pitch);
            let offsets = (0..c_in * k * k).map(|t| t * pitch).collect();
            (cols, offsets)
        }
    };
    let mut y = Tensor::zeros(&[p.out_channels, oh, ow]);
    Product {
        kernels: weight,
        bias,
        source: &source,
        offsets: &offsets,
        positions: oh * ow,
        upper: false,
    }
    .run(y.data_mut());
    Ok(y)
}

/// `y[o, p] = bias[o] + Σ_t kernels[o, t] · source[offsets[t] + p]` for `p` in `0..positions`, `y` shaped
/// `[bias.len(), positions]`: the blocked product behind [`forward`], for other products of that form (the
/// Gram matrices of `crate::explain::gram`). An error when the shapes disagree or a read would pass the end
/// of `source` (every tap reads `4·⌈positions/4⌉` values from its offset). With `upper`, the tiles whose
/// positions all lie below their planes' indices (`p < o`: the lower triangle of a square product such as a
/// Gram matrix) are skipped and those outputs left as they were; every other output is the same bits.
pub(crate) fn product(
    kernels: &[f32],
    bias: &[f32],
    source: &[f32],
    offsets: &[usize],
    positions: usize,
    upper: bool,
    y: &mut [f32],
) -> Result<()> {
    let reach = offsets
        .iter()
        .max()
        .and_then(|m| m.checked_add(4 * positions.div_ceil(4)));
    if !matches!(reach, Some(r) if r <= source.len())
        || kernels.len() != bias.len() * offsets.len()
        || y.len() != bias.len() * positions
    {
        return Err(crate::error::Error::internal(
            "a blocked product's operands do not fit its shapes",
        ));
    }
    Product {
        kernels,
        bias,
        source,
        offsets,
        positions,
        upper,
    }
    .run(y);
    Ok(())
}

/// Output planes per block of the product: four, or three when `O` is a multiple of three but not of four
/// (LeNet's conv1 has 6).
fn plane_block(out_channels: usize) -> usize {
    if out_channels % 4 != 0 && out_channels % 3 == 0 {
        3
    } else {
        4
    }
}

/// `y[o, p] = bias[o] + Σ_t kernels[o, t] · source[offsets[t] + p]` for the output positions `p` in
/// `0..H'·W'` (row-major): `offsets[t]` is where tap `t` meets position 0, in the im2col matrix or in the
/// shifted copies of the input ([`Kernel`]).
///
/// Register-blocked: a tile of a block of planes × [`V`] vectors of positions is accumulated over every
/// tap in registers and stored once, so the inner loop does `V` vector loads and one broadcast per plane
/// for its multiply-adds; no bounds are checked inside it (they are checked once per tile). With `upper`,
/// tiles of positions all below the block's first plane are skipped (see [`product`]).
struct Product<'a> {
    kernels: &'a [f32],
    bias: &'a [f32],
    source: &'a [f32],
    offsets: &'a [usize],
    positions: usize,
    upper: bool,
}

impl Product<'_> {
    fn run(&self, y: &mut [f32]) {
        let reach = self
            .offsets
            .iter()
            .max()
            .map_or(0, |m| m + 4 * self.positions.div_ceil(4));
        assert!(
            reach <= self.source.len(),
            "conv2d product reads past its source"
        );
        assert!(self.kernels.len() == self.bias.len() * self.offsets.len());
        let out_channels = self.bias.len();
        let block = plane_block(out_channels);
        let mut o0 = 0;
        while o0 < out_channels {
            match (out_channels - o0).min(block) {
                4 => self.planes::<4>(o0, y),
                3 => self.planes::<3>(o0, y),
                2 => self.planes::<2>(o0, y),
                _ => self.planes::<1>(o0, y),
            }
            o0 += block;
        }
    }

    fn planes<const B: usize>(&self, o0: usize, y: &mut [f32]) {
        let vectors = self.positions.div_ceil(4);
        // The first tile that reaches position o0 (tiles keep their alignment: the same outputs, bit for bit).
        let mut v = if self.upper { o0 / (4 * V) * V } else { 0 };
        while v + V <= vectors {
            self.tile::<B, V>(o0, 4 * v, y);
            v += V;
        }
        while v < vectors {
            self.tile::<B, 1>(o0, 4 * v, y);
            v += 1;
        }
    }

    /// Planes `o0..o0 + B` at positions `x0..x0 + 4·W`.
    #[inline(always)]
    fn tile<const B: usize, const W: usize>(&self, o0: usize, x0: usize, y: &mut [f32]) {
        let taps = self.offsets.len();
        let mut acc = [[F32x4::splat(0.0); W]; B];
        for (o, row) in acc.iter_mut().enumerate() {
            *row = [F32x4::splat(self.bias[o0 + o]); W];
        }
        let kernels = &self.kernels[o0 * taps..(o0 + B) * taps];
        for (t, &offset) in self.offsets.iter().enumerate() {
            let at = offset + x0;
            // SAFETY: `at + 4·W ≤ max offset + 4·vectors ≤ source.len()` ([`Product::run`] asserts it, and
            // tiles end by the last vector); `o·taps + t < B·taps = kernels.len()`.
            let inputs: [F32x4; W] =
                std::array::from_fn(|v| unsafe { F32x4::load_unchecked(self.source, at + 4 * v) });
            for (o, sums) in acc.iter_mut().enumerate() {
                let wv = unsafe { F32x4::load_splat_unchecked(kernels, o * taps + t) };
                for (sum, input) in sums.iter_mut().zip(&inputs) {
                    *sum = sum.mul_add(*input, wv);
                }
            }
        }
        // The last vector of a plane may be partial.
        let n = self.positions;
        for (o, sums) in acc.iter().enumerate() {
            let out = &mut y[(o0 + o) * n..][..n];
            for (v, sum) in sums.iter().enumerate() {
                let p = x0 + 4 * v;
                if p + 4 <= n {
                    sum.store(out, p);
                } else if p < n {
                    out[p..].copy_from_slice(&sum.to_array()[..n - p]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::reference;
    use super::super::tests::{assert_close, params, random};
    use super::*;
    use crate::rng::Rng;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn shifted_and_im2col_kernels_equal_the_definition() {
        let mut rng = Rng::new(11);
        // (C, O, K, stride, padding, H, W): LeNet's two layers, odd sizes, every plane block (1 to 4 and
        // remainders), output rows of 1 to 13 columns (partial vectors), padding wider than the kernel.
        for &(c, o, k, s, pad, h, w) in &[
            (1, 6, 5, 1, 2, 28, 28),
            (6, 16, 5, 1, 0, 14, 14),
            (1, 1, 3, 1, 1, 5, 5),
            (2, 5, 3, 1, 0, 7, 9),
            (3, 7, 2, 1, 1, 6, 13),
            (1, 2, 1, 1, 0, 3, 1),
            (2, 9, 4, 1, 3, 4, 5),
            (4, 3, 3, 2, 1, 9, 8),
            (2, 8, 5, 3, 2, 11, 10),
            (5, 12, 3, 1, 1, 8, 8),
        ] {
            let p = params(c, o, k, s, pad);
            let x = random(&mut rng, &[c, h, w]);
            let wt = random(&mut rng, &p.weight_shape());
            let b = random(&mut rng, &[o]);
            let want = reference::forward(&p, &x, wt.data(), b.data()).unwrap();
            let kernels: &[Kernel] = if s == 1 {
                &[Kernel::Shifted, Kernel::Im2col]
            } else {
                &[Kernel::Im2col]
            };
            for &kernel in kernels {
                let got = forward_with(&p, &x, wt.data(), b.data(), kernel).unwrap();
                assert_close(&got, &want, &(kernel, p, h, w));
            }
            let picked = forward(&p, &x, wt.data(), b.data()).unwrap();
            assert_eq!(picked.len(), want.len());
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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
}
