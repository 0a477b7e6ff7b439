//! Max pooling with switches, and unpooling.
//!
//! Forward, for `x: [C, H, W]`, window `K`, stride `s` (no padding): `y[c, i, j] = max x[c, i·s + u, j·s + v]`
//! over `0 ≤ u, v < K`, output `[C, (H − K)/s + 1, (W − K)/s + 1]` (PyTorch's floor mode). The position of each
//! maximum is returned as data — the *switches* of Zeiler & Fergus — as a flat index into `x`. Ties go to the
//! first maximum in row-major window order, as PyTorch's CPU kernel does, so switches are deterministic.
//!
//! [`unpool`] places each value back at its switch (summing where overlapping windows share one). It is both
//! the gradient of max pooling and the deconvnet's unpooling; the maximum is never searched for again.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Window and stride of a max pool (stride defaults to the window, as in PyTorch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolParams {
    pub kernel_size: usize,
    #[serde(default)]
    pub stride: Option<usize>,
}

impl PoolParams {
    pub fn stride(&self) -> usize {
        self.stride.unwrap_or(self.kernel_size)
    }

    /// Output height and width for an `h × w` input.
    pub fn out_dims(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        let (k, s) = (self.kernel_size, self.stride());
        if k == 0 || s == 0 {
            return Err(Error::manifest(format!(
                "max_pool2d needs a positive kernel_size and stride, got {self:?}"
            )));
        }
        if k > h || k > w {
            return Err(Error::manifest(format!(
                "max_pool2d window {k}×{k} does not fit a {h}×{w} map"
            )));
        }
        Ok(((h - k) / s + 1, (w - k) / s + 1))
    }
}

/// Where each pooled maximum came from: flat indices into the `[C, H, W]` input, one per output value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switches {
    pub input_shape: [usize; 3],
    pub indices: Vec<u32>,
}

/// Max pooling: returns the pooled maps and their switches.
pub fn forward(p: &PoolParams, x: &Tensor) -> Result<(Tensor, Switches)> {
    let (c, h, w) = x.chw()?;
    let (oh, ow) = p.out_dims(h, w)?;
    if c * h * w > u32::MAX as usize {
        return Err(Error::invalid("feature map too large for 32-bit switches"));
    }
    let (k, s) = (p.kernel_size, p.stride());
    let xd = x.data();
    let mut y = Vec::with_capacity(c * oh * ow);
    let mut indices = Vec::with_capacity(c * oh * ow);
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let first = (ch * h + oy * s) * w + ox * s;
                let (mut best, mut best_value) = (first, xd[first]);
                for u in 0..k {
                    let row = first + u * w;
                    for (i, &v) in xd[row..row + k].iter().enumerate() {
                        // Branch-free update (a select, not a jump): maxima fall anywhere in the window.
                        let better = v > best_value;
                        best = if better { row + i } else { best };
                        best_value = if better { v } else { best_value };
                    }
                }
                y.push(best_value);
                indices.push(best as u32);
            }
        }
    }
    Ok((
        Tensor::from_vec(&[c, oh, ow], y)?,
        Switches {
            input_shape: [c, h, w],
            indices,
        },
    ))
}

/// Unpooling: `y: [C, H', W']` → `[C, H, W]` with each value at its switch and zeros elsewhere.
pub fn unpool(y: &Tensor, switches: &Switches) -> Result<Tensor> {
    if y.len() != switches.indices.len() {
        return Err(Error::shape(
            "unpool input",
            &[switches.indices.len()],
            &[y.len()],
        ));
    }
    let mut x = Tensor::zeros(&switches.input_shape);
    let xd = x.data_mut();
    for (&v, &i) in y.data().iter().zip(&switches.indices) {
        let slot = xd
            .get_mut(i as usize)
            .ok_or_else(|| Error::invalid("a pooling switch points outside its map"))?;
        *slot += v;
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p2() -> PoolParams {
        PoolParams {
            kernel_size: 2,
            stride: None,
        }
    }

    #[test]
    fn pooled_values_and_switches_by_hand() {
        // 1×4×4:            pooled 2×2:
        //  1 3 | 0 0          3 5
        //  2 0 | 5 1          9 7
        //  ----+----
        //  9 8 | 7 7
        //  0 9 | 7 6
        let x = Tensor::from_vec(
            &[1, 4, 4],
            vec![
                1., 3., 0., 0., 2., 0., 5., 1., 9., 8., 7., 7., 0., 9., 7., 6.,
            ],
        )
        .unwrap();
        let (y, sw) = forward(&p2(), &x).unwrap();
        assert_eq!(y.data(), &[3., 5., 9., 7.]);
        // Ties (9 at 8 and 13, 7 at 10, 11, 14) go to the first in row-major window order.
        assert_eq!(sw.indices, vec![1, 6, 8, 10]);
        let back = unpool(&y, &sw).unwrap();
        assert_eq!(
            back.data(),
            &[0., 3., 0., 0., 0., 0., 5., 0., 9., 0., 7., 0., 0., 0., 0., 0.]
        );
    }

    #[test]
    fn ties_are_deterministic_on_constant_maps() {
        let x = Tensor::from_vec(&[2, 2, 2], vec![4.0; 8]).unwrap();
        let (_, a) = forward(&p2(), &x).unwrap();
        let (_, b) = forward(&p2(), &x).unwrap();
        assert_eq!(a.indices, vec![0, 4]);
        assert_eq!(a, b);
    }

    #[test]
    fn unpool_is_the_adjoint_of_gathering_at_switches() {
        // ⟨pool(x), y⟩ = ⟨x, unpool(y)⟩ when the switches are held fixed (pool is a gather).
        let x =
            Tensor::from_vec(&[1, 5, 5], (0..25).map(|i| ((i * 7) % 11) as f32).collect()).unwrap();
        let p = PoolParams {
            kernel_size: 3,
            stride: Some(1),
        };
        let (y, sw) = forward(&p, &x).unwrap();
        let g =
            Tensor::from_vec(y.shape(), (0..y.len()).map(|i| i as f32 - 4.0).collect()).unwrap();
        let lhs: f32 = y.data().iter().zip(g.data()).map(|(a, b)| a * b).sum();
        let rhs: f32 = x
            .data()
            .iter()
            .zip(unpool(&g, &sw).unwrap().data())
            .map(|(a, b)| a * b)
            .sum();
        assert_eq!(lhs, rhs);
    }

    #[test]
    fn odd_sizes_floor_and_bad_inputs_error() {
        let x = Tensor::zeros(&[3, 5, 7]);
        let (y, _) = forward(&p2(), &x).unwrap();
        assert_eq!(y.shape(), &[3, 2, 3]);
        assert!(forward(
            &PoolParams {
                kernel_size: 8,
                stride: None
            },
            &x
        )
        .is_err());
        assert!(forward(
            &PoolParams {
                kernel_size: 2,
                stride: Some(0)
            },
            &x
        )
        .is_err());
        let sw = Switches {
            input_shape: [1, 2, 2],
            indices: vec![9],
        };
        assert!(unpool(&Tensor::zeros(&[1, 1, 1]), &sw).is_err());
        assert!(unpool(&Tensor::zeros(&[1, 1, 2]), &sw).is_err());
    }
}
