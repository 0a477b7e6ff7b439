//! 2-D convolution as PyTorch computes it (cross-correlation, zero padding), its backward pass and its
//! transpose.
//!
//! Forward, for input `x: [C, H, W]`, kernels `w: [O, C, K, K]` (OIHW), bias `b: [O]`:
//! `y[o, i, j] = b[o] + Σ_c Σ_ky Σ_kx w[o, c, ky, kx] · x[c, i·s + ky − p, j·s + kx − p]`, output `[O, H', W']`
//! with `H' = (H + 2p − K) / s + 1`. It runs as a register-blocked product of the `[O, C·K·K]` weight matrix
//! with the input values every tap meets, read from `K` shifted copies of the input for stride 1 and from an
//! im2col matrix otherwise (the private `Kernel`), four output positions per vector ([`F32x4`]).
//!
//! The transpose (`x̂ = convᵀ(ŷ)`, kernels flipped and channels swapped) is at the same time the gradient with
//! respect to the input and the "filtering" step of the Zeiler & Fergus deconvnet, so there is one function
//! for both: [`transpose`]. It satisfies ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for the bias-free convolution.

use super::simd::F32x4;
use crate::error::{Error, Result};
use crate::tensor::{axpy, Lanes, Tensor};
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

/// Vectors of four output positions per tile of the blocked product ([`Product`]); with four planes that
/// is eight accumulators, which V8 keeps in registers (three vectors spill).
const V: usize = 2;

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
    let (oh, ow) = p.out_dims(h, w)?;
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
    }
    .run(y.data_mut());
    Ok(y)
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
/// for its multiply-adds; no bounds are checked inside it (they are checked once per tile).
struct Product<'a> {
    kernels: &'a [f32],
    bias: &'a [f32],
    source: &'a [f32],
    offsets: &'a [usize],
    positions: usize,
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
        let mut v = 0;
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

/// Calls `f(o, c, ky, kx0, input_start, n, value)` for every non-zero `g[o, i, j]` and every input channel `c` and
/// kernel row `ky` whose taps `kx0..kx0 + n` meet the input row starting at flat index `input_start`.
/// Gradients that reach a conv layer come through unpooling and ReLU and are mostly zeros, so the parameter
/// gradients are driven by the non-zeros (as [`transpose`] is).
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
/// The signals that reach a conv layer come through unpooling and ReLU and are mostly zeros, so the scatter
/// is driven by the non-zeros; it writes into a zero-padded copy of the input (no window is clipped at the
/// borders), each kernel row as vectors of four taps plus the remainder, and drops the padding at the end.
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
    let (c_in, k, s, pad) = (p.in_channels, p.kernel_size, p.stride, p.padding);
    // Windows start at (i·s, j·s) of the padded map and end inside it (that is what out_dims counts).
    let (hp, wp) = (h + 2 * pad, w + 2 * pad);
    let mut padded = vec![0.0f32; c_in * hp * wp];
    // Every window lies inside the padded map, the last one included (rows (oh − 1)·s + K ≤ hp and columns
    // (ow − 1)·s + K ≤ wp, as out_dims counts): the scatter needs no bounds checks.
    assert!(((c_in - 1) * hp + (oh - 1) * s + k - 1) * wp + (ow - 1) * s + k <= padded.len());
    let plane = c_in * k * k;
    for (map, kernels) in y
        .data()
        .chunks_exact(oh * ow)
        .zip(weight.chunks_exact(plane))
    {
        for (i, row) in map.chunks_exact(ow).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                let value = F32x4::splat(v);
                for (c, kernel) in kernels.chunks_exact(k * k).enumerate() {
                    let start = (c * hp + i * s) * wp + j * s;
                    for (ky, taps) in kernel.chunks_exact(k).enumerate() {
                        // SAFETY: the window of (i, j) lies inside the padded map (asserted above).
                        unsafe { scatter_row(&mut padded, start + ky * wp, taps, v, value) };
                    }
                }
            }
        }
    }
    if pad == 0 {
        return Tensor::from_vec(&[c_in, h, w], padded);
    }
    let mut x = Tensor::zeros(&[c_in, h, w]);
    for (c, plane) in x.data_mut().chunks_exact_mut(h * w).enumerate() {
        for (r, row) in plane.chunks_exact_mut(w).enumerate() {
            let start = (c * hp + r + pad) * wp + pad;
            copy(row, &padded[start..start + w]);
        }
    }
    Ok(x)
}

/// `map[start..start + K] += v · taps` (`K = taps.len()`), four lanes at a time (`value` is `v` in every
/// lane).
///
/// # Safety
/// `start + taps.len() <= map.len()`.
#[inline(always)]
unsafe fn scatter_row(map: &mut [f32], start: usize, taps: &[f32], v: f32, value: F32x4) {
    let k = taps.len();
    let mut t = 0;
    while t + 4 <= k {
        let sum = F32x4::load_unchecked(map, start + t).mul_add(F32x4::load(taps, t), value);
        sum.store_unchecked(map, start + t);
        t += 4;
    }
    for (i, &tap) in taps.iter().enumerate().skip(t) {
        *map.get_unchecked_mut(start + i) += tap * v;
    }
}

/// [`transpose`] for interleaved signals (`g: [O, H', W']` per lane → `[C, H, W]`), written as a scatter:
/// each row adds `value · w[o, c, ·, ·]` to the input window its position was computed from, one multiply-add
/// over all the lanes per tap. Rows where few signals are non-zero (a deconvnet seed's own channel, before
/// the channels mix) are scattered signal by signal.
pub fn transpose_lanes(
    p: &Conv2dParams,
    g: Lanes,
    weight: &[f32],
    h: usize,
    w: usize,
) -> Result<Lanes> {
    check_weights(p, weight, None)?;
    let (oh, ow) = p.out_dims(h, w)?;
    if g.shape != [p.out_channels, oh, ow] {
        return Err(Error::shape(
            "conv2d transpose input",
            &[p.out_channels, oh, ow],
            &g.shape,
        ));
    }
    let (c_in, k, s, pad, l) = (p.in_channels, p.kernel_size, p.stride, p.padding, g.lanes);
    let mut out = vec![0.0; c_in * h * w * l];
    for (&at, values) in g.positions.iter().zip(g.values.chunks_exact(l.max(1))) {
        let active = values.iter().filter(|v| **v != 0.0).count();
        let (o, i, j) = (at / (oh * ow), at / ow % oh, at % ow);
        let (ky0, ky1) = tap_range(i, s, pad, h, k);
        let (kx0, kx1) = tap_range(j, s, pad, w, k);
        if active == 0 || o >= p.out_channels || kx0 >= kx1 {
            continue;
        }
        let (n, column) = (kx1 - kx0, j * s + kx0 - pad);
        let kernels = &weight[o * c_in * k * k..][..c_in * k * k];
        // The n·l values of the input row that kernel row (c, ky) reaches, and that kernel row's first tap.
        let span = |c: usize, ky: usize| {
            let start = ((c * h + i * s + ky - pad) * w + column) * l;
            (start..start + n * l, (c * k + ky) * k + kx0)
        };
        if l == 1 {
            // One signal: the rows of `out` are the map's rows, scattered four taps at a time.
            let (v, value) = (values[0], F32x4::splat(values[0]));
            for c in 0..c_in {
                for ky in ky0..ky1 {
                    let (inputs, tap0) = span(c, ky);
                    let row = &mut out[inputs];
                    // SAFETY: `row` holds the n = taps.len() values the taps reach (one lane).
                    unsafe { scatter_row(row, 0, &kernels[tap0..tap0 + n], v, value) };
                }
            }
        } else if 4 * active <= l {
            for (b, &v) in values.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                for c in 0..c_in {
                    for ky in ky0..ky1 {
                        let (inputs, tap0) = span(c, ky);
                        let slots = out[inputs].chunks_exact_mut(l);
                        for (slot, &tap) in slots.zip(&kernels[tap0..tap0 + n]) {
                            slot[b] += tap * v;
                        }
                    }
                }
            }
        } else {
            for c in 0..c_in {
                for ky in ky0..ky1 {
                    let (inputs, tap0) = span(c, ky);
                    let slots = out[inputs].chunks_exact_mut(l);
                    for (slot, &tap) in slots.zip(&kernels[tap0..tap0 + n]) {
                        axpy(tap, values, slot);
                    }
                }
            }
        }
    }
    Ok(Lanes::from_dense(&[c_in, h, w], l, &out))
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

    /// The definition, summed in f64: `y[o, i, j] = b[o] + Σ w[o, c, ky, kx] · x[c, i·s + ky − p, j·s + kx − p]`.
    fn naive(p: &Conv2dParams, x: &Tensor, weight: &[f32], bias: &[f32]) -> Vec<f64> {
        let (c_in, h, w) = x.chw().unwrap();
        let (oh, ow) = p.out_dims(h, w).unwrap();
        let (k, s, pad) = (p.kernel_size, p.stride, p.padding);
        let mut y = Vec::new();
        for o in 0..p.out_channels {
            for i in 0..oh {
                for j in 0..ow {
                    let mut sum = bias[o] as f64;
                    for c in 0..c_in {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (r, q) = (
                                    (i * s + ky) as isize - pad as isize,
                                    (j * s + kx) as isize - pad as isize,
                                );
                                if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < w {
                                    let xv = x.data()[(c * h + r as usize) * w + q as usize];
                                    sum += weight[((o * c_in + c) * k + ky) * k + kx] as f64
                                        * xv as f64;
                                }
                            }
                        }
                    }
                    y.push(sum);
                }
            }
        }
        y
    }

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
            let want = naive(&p, &x, wt.data(), b.data());
            let kernels: &[Kernel] = if s == 1 {
                &[Kernel::Shifted, Kernel::Im2col]
            } else {
                &[Kernel::Im2col]
            };
            for &kernel in kernels {
                let got = forward_with(&p, &x, wt.data(), b.data(), kernel).unwrap();
                assert_eq!(
                    got.shape(),
                    &[o, p.out_dims(h, w).unwrap().0, p.out_dims(h, w).unwrap().1]
                );
                for (a, b) in got.data().iter().zip(&want) {
                    assert!(
                        (*a as f64 - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{a} vs {b}: {kernel:?} {p:?} on {h}×{w}"
                    );
                }
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

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn transposed_lanes_equal_each_signal() {
        let mut rng = Rng::new(7);
        for &(c, o, k, s, pad, h, w) in &[
            (1, 6, 5, 1, 2, 28, 28),
            (6, 16, 5, 1, 0, 14, 14),
            (2, 3, 3, 2, 1, 9, 7),
            (3, 2, 4, 3, 2, 10, 11),
            (1, 1, 3, 1, 2, 3, 3),
        ] {
            let p = params(c, o, k, s, pad);
            let (oh, ow) = p.out_dims(h, w).unwrap();
            let weight = random(&mut rng, &p.weight_shape()).into_data();
            // Five signals with about two zeros in three, as after unpooling, one of them non-zero in a single
            // channel (scattered lane by lane where it alone is non-zero).
            let mut signals: Vec<Tensor> = (0..5)
                .map(|_| {
                    let values = (0..o * oh * ow)
                        .map(|_| (rng.uniform() < 0.35) as u8 as f32 * rng.normal())
                        .collect();
                    Tensor::from_vec(&[o, oh, ow], values).unwrap()
                })
                .collect();
            signals[4].data_mut()[oh * ow..].fill(0.0);
            let lanes = Lanes::interleave(&signals).unwrap();
            let together = transpose_lanes(&p, lanes.clone(), &weight, h, w)
                .unwrap()
                .split()
                .unwrap();
            for (signal, got) in signals.iter().zip(&together) {
                let want = transpose(&p, signal, &weight, h, w).unwrap();
                assert_eq!(got.shape(), want.shape());
                for (a, b) in got.data().iter().zip(want.data()) {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "{a} vs {b} for {p:?}"
                    );
                }
            }
            // One lane adds the same products in the same order as the plain transpose.
            let one = Lanes::interleave(&signals[..1]).unwrap();
            let alone = transpose_lanes(&p, one, &weight, h, w)
                .unwrap()
                .split()
                .unwrap();
            assert_eq!(alone[0], transpose(&p, &signals[0], &weight, h, w).unwrap());
            assert!(transpose_lanes(&p, lanes.clone(), &weight[1..], h, w).is_err());
            assert!(transpose_lanes(&p, lanes, &weight, h, w + 1 + s).is_err());
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

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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
