//! A dense row-major `f32` tensor: a shape and a flat buffer.
//!
//! Layouts used throughout the crate: feature maps are CHW (one image; a batch is a loop), conv kernels OIHW,
//! linear weights `[out, in]` (PyTorch's), vectors `[n]`. The flat buffer is what the bindings hand to JS as a
//! `Float32Array` without any reshaping, and what the index arithmetic in `layers/` works on (as llm.c does).

use crate::error::{Error, Result};
use ndarray::{ArrayView3, ArrayViewD, IxDyn};

/// The most values one tensor, weight matrix or kernel buffer may hold (2^26, 256 MiB of `f32`). Shapes are
/// checked against it when a network is built, so every size and offset the kernels compute stays far below
/// `usize::MAX`, also in 32-bit WebAssembly where that is 2^32.
pub const MAX_VALUES: usize = 1 << 26;

/// `Π factors`, or `None` when it overflows `usize`.
pub fn checked_product(factors: &[usize]) -> Option<usize> {
    factors.iter().try_fold(1usize, |n, &f| n.checked_mul(f))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Tensor {
            shape: shape.to_vec(),
            data: vec![0.0; shape.iter().product()],
        }
    }

    /// Wraps `data` as a tensor of `shape`; errors when the element count differs.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Self> {
        if checked_product(shape) != Some(data.len()) {
            return Err(Error::shape("tensor data", shape, &[data.len()]));
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    pub fn data(&self) -> &[f32] {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The same data under another shape with the same element count (used by flatten and its backward).
    pub fn reshaped(self, shape: &[usize]) -> Result<Self> {
        Tensor::from_vec(shape, self.data)
    }

    /// `(channels, height, width)` of a CHW tensor.
    pub fn chw(&self) -> Result<(usize, usize, usize)> {
        match self.shape[..] {
            [c, h, w] => Ok((c, h, w)),
            _ => Err(Error::out_of_range(
                format!(
                    "number of dimensions of the feature map of shape {:?}:",
                    self.shape
                ),
                self.shape.len(),
                "3 (C×H×W)",
            )),
        }
    }

    /// One channel of a CHW tensor as a slice of `h*w` values.
    pub fn channel(&self, c: usize) -> Result<&[f32]> {
        let (channels, h, w) = self.chw()?;
        if c >= channels {
            return Err(Error::out_of_range(
                "channel",
                c,
                format!("0 to {} (the map has {channels} channels)", channels - 1),
            ));
        }
        Ok(&self.data[c * h * w..(c + 1) * h * w])
    }

    /// A zero-copy n-dimensional view of the tensor (row-major, its own shape), for Rust users of the crate
    /// who want ndarray's indexing and arithmetic; the kernels work on [`Tensor::data`].
    pub fn view(&self) -> Result<ArrayViewD<'_, f32>> {
        ArrayViewD::from_shape(IxDyn(&self.shape), &self.data)
            .map_err(|e| Error::internal(format!("tensor of shape {:?}: {e}", self.shape)))
    }

    /// A zero-copy `[C, H, W]` view of a feature map: `view[[c, i, j]]` is `data[(c·H + i)·W + j]`.
    pub fn view_chw(&self) -> Result<ArrayView3<'_, f32>> {
        let (c, h, w) = self.chw()?;
        ArrayView3::from_shape((c, h, w), &self.data)
            .map_err(|e| Error::internal(format!("feature map {:?}: {e}", self.shape)))
    }

    /// Errors when any value is NaN or infinite; `what` names the tensor in the message.
    pub fn check_finite(&self, what: &str) -> Result<()> {
        if self.data.iter().all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(Error::non_finite(what.to_string()))
        }
    }

    /// Smallest and largest value (0, 0 for an empty tensor).
    pub fn min_max(&self) -> (f32, f32) {
        min_max(&self.data)
    }
}

/// Several signals on one map (shape `shape`), interleaved and kept sparse: the listed flat positions (each
/// at most once, in any order), with the values of the signals at `positions[r]` in
/// `values[r·lanes..(r + 1)·lanes]`; every other position is zero in all signals.
///
/// Backward passes that send several signals down one forward pass (the deconvnet's channels) travel this
/// way: unpooling moves rows to their switches, a ReLU touches only listed rows, and a transposed convolution
/// scatters each row with one multiply-add over all the lanes (`pool::unpool_lanes`,
/// `relu::backward_lanes`, `conv2d::transpose_lanes`).
#[derive(Debug, Clone, PartialEq)]
pub struct Lanes {
    pub shape: Vec<usize>,
    pub lanes: usize,
    pub positions: Vec<usize>,
    pub values: Vec<f32>,
}

impl Lanes {
    /// The rows of a dense interleaved buffer (`dense[p·lanes + b]` = signal `b` at position `p`) where any
    /// signal is non-zero.
    pub fn from_dense(shape: &[usize], lanes: usize, dense: &[f32]) -> Lanes {
        let mut out = Lanes {
            shape: shape.to_vec(),
            lanes,
            positions: Vec::new(),
            values: Vec::new(),
        };
        for (p, row) in dense.chunks_exact(lanes.max(1)).enumerate() {
            if row.iter().any(|v| *v != 0.0) {
                out.positions.push(p);
                out.values.extend_from_slice(row);
            }
        }
        out
    }

    /// Interleaves signals of one shape.
    pub fn interleave(signals: &[Tensor]) -> Result<Lanes> {
        let shape = signals.first().map_or(&[][..], |s| s.shape());
        let lanes = signals.len();
        let mut dense = vec![0.0; shape.iter().product::<usize>() * lanes];
        for (b, signal) in signals.iter().enumerate() {
            if signal.shape() != shape {
                return Err(Error::shape("interleaved signal", shape, signal.shape()));
            }
            for (slot, &v) in dense.iter_mut().skip(b).step_by(lanes).zip(signal.data()) {
                *slot = v;
            }
        }
        Ok(Lanes::from_dense(shape, lanes, &dense))
    }

    /// The signals as separate dense tensors.
    pub fn split(self) -> Result<Vec<Tensor>> {
        let mut maps = vec![Tensor::zeros(&self.shape); self.lanes];
        for (&p, row) in self
            .positions
            .iter()
            .zip(self.values.chunks_exact(self.lanes.max(1)))
        {
            for (map, &v) in maps.iter_mut().zip(row) {
                let slot = map
                    .data_mut()
                    .get_mut(p)
                    .ok_or_else(|| Error::internal("a signal position lies outside its map"))?;
                *slot = v;
            }
        }
        Ok(maps)
    }
}

/// Smallest and largest finite value of a slice (0, 0 when there is none).
pub fn min_max(values: &[f32]) -> (f32, f32) {
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    for &v in values.iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        (0.0, 0.0)
    } else {
        (lo, hi)
    }
}

/// `Σ a[i]·b[i]` with eight independent accumulators so that the compiler can vectorise the reduction
/// (floating-point addition is not reassociated otherwise).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `y[i] += alpha * x[i]`.
#[inline]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_sum_for_all_tail_lengths() {
        for n in 0..40 {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (*x as f64) * (*y as f64))
                .sum();
            assert!((dot(&a, &b) as f64 - naive).abs() < 1e-5, "n={n}");
        }
    }

    #[test]
    fn lanes_interleave_and_split_back() {
        let a = Tensor::from_vec(&[2, 2], vec![0.0, 1.0, 0.0, 2.0]).unwrap();
        let b = Tensor::from_vec(&[2, 2], vec![0.0, 0.0, 0.0, -3.0]).unwrap();
        let lanes = Lanes::interleave(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(lanes.positions, vec![1, 3]);
        assert_eq!(lanes.values, vec![1.0, 0.0, 2.0, -3.0]);
        assert_eq!(lanes.split().unwrap(), vec![a.clone(), b]);
        assert!(Lanes::interleave(&[a, Tensor::zeros(&[4])]).is_err());
        assert!(Lanes::interleave(&[]).unwrap().split().unwrap().is_empty());
    }

    #[test]
    fn views_share_the_data_in_row_major_order() {
        let t = Tensor::from_vec(&[2, 3, 4], (0..24).map(|v| v as f32).collect()).unwrap();
        let chw = t.view_chw().unwrap();
        assert_eq!(chw.dim(), (2, 3, 4));
        assert_eq!(chw[[1, 2, 3]], 23.0);
        assert_eq!(chw[[1, 0, 2]], 14.0);
        assert_eq!(chw.as_ptr(), t.data().as_ptr());
        let any = t.view().unwrap();
        assert_eq!(any.shape(), &[2, 3, 4]);
        assert_eq!(any.sum(), (0..24).sum::<i32>() as f32);
        let v = Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(v.view().unwrap().ndim(), 1);
        assert!(v.view_chw().is_err());
    }

    #[test]
    fn from_vec_rejects_wrong_count_and_min_max_skips_nan() {
        assert!(Tensor::from_vec(&[2, 3], vec![0.0; 5]).is_err());
        let t = Tensor::from_vec(&[3], vec![f32::NAN, -2.0, 5.0]).unwrap();
        assert_eq!(t.min_max(), (-2.0, 5.0));
        assert!(t.check_finite("t").is_err());
        assert_eq!(Tensor::zeros(&[0]).min_max(), (0.0, 0.0));
    }
}
