//! Max pooling with switches, and unpooling.
//!
//! Forward, for `x: [C, H, W]`, window `K`, stride `s` (no padding): `y[c, i, j] = max x[c, i·s + u, j·s + v]`
//! over `0 ≤ u, v < K`, output `[C, (H − K)/s + 1, (W − K)/s + 1]` (PyTorch's floor mode). The position of each
//! maximum is returned as data — the *switches* of Zeiler & Fergus — as a flat index into `x`. Ties go to the
//! first maximum in row-major window order, as PyTorch's CPU kernel does, so switches are deterministic.
//!
//! [`unpool`] places each value back at its switch (summing where overlapping windows share one). It is both
//! the gradient of max pooling and the deconvnet's unpooling; the maximum is never searched for again.

use super::simd::{F32x4, U32x4};
use crate::error::{Error, Result};
use crate::tensor::{Lanes, Tensor};
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

/// Max pooling: returns the pooled maps and their switches (2×2 windows of stride 2 four at a time, any other
/// window as [`reference`] does).
pub fn forward(p: &PoolParams, x: &Tensor) -> Result<(Tensor, Switches)> {
    pool_with(p, x, true)
}

/// The definition, window by window in row-major order, the first maximum winning ties: what [`forward`]
/// computes (its fast path is tested against this, and whole networks in `tests/properties.rs`).
pub fn reference(p: &PoolParams, x: &Tensor) -> Result<(Tensor, Switches)> {
    pool_with(p, x, false)
}

fn pool_with(p: &PoolParams, x: &Tensor, fast: bool) -> Result<(Tensor, Switches)> {
    let (c, h, w) = x.chw()?;
    let (oh, ow) = p.out_dims(h, w)?;
    if c * h * w > u32::MAX as usize {
        return Err(Error::out_of_range(
            "max_pool2d input size",
            c * h * w,
            "at most 2^32 values (the switches are 32-bit)",
        ));
    }
    let mut y = vec![0.0; c * oh * ow];
    let mut indices = vec![0u32; c * oh * ow];
    if fast && p.kernel_size == 2 && p.stride() == 2 {
        pool_2x2(x.data(), (c, h, w), (oh, ow), &mut y, &mut indices);
    } else {
        pool_any(p, x.data(), (c, h, w), (oh, ow), &mut y, &mut indices);
    }
    Ok((
        Tensor::from_vec(&[c, oh, ow], y)?,
        Switches {
            input_shape: [c, h, w],
            indices,
        },
    ))
}

/// Any window and stride, one output at a time.
fn pool_any(
    p: &PoolParams,
    xd: &[f32],
    (c, h, w): (usize, usize, usize),
    (oh, ow): (usize, usize),
    y: &mut [f32],
    indices: &mut [u32],
) {
    let (k, s) = (p.kernel_size, p.stride());
    let mut out = 0;
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
                y[out] = best_value;
                indices[out] = best as u32;
                out += 1;
            }
        }
    }
}

/// 2×2 windows with stride 2, four outputs at a time: the two input rows of a row of windows are split into
/// their even and odd columns, and the four candidates are compared in row-major window order (strictly
/// greater wins, so ties keep the first). The last vector of a row ends at `W'` and may overlap the one
/// before it (computing the same values again); rows of fewer than four windows go one by one.
fn pool_2x2(
    xd: &[f32],
    (c, h, w): (usize, usize, usize),
    (oh, ow): (usize, usize),
    y: &mut [f32],
    indices: &mut [u32],
) {
    for ch in 0..c {
        for oy in 0..oh {
            let top = (ch * h + 2 * oy) * w;
            let out = (ch * oh + oy) * ow;
            let y = &mut y[out..out + ow];
            let indices = &mut indices[out..out + ow];
            if ow < 4 {
                for ox in 0..ow {
                    let first = top + 2 * ox;
                    let mut best = (first, xd[first]);
                    for at in [first + 1, first + w, first + w + 1] {
                        if xd[at] > best.1 {
                            best = (at, xd[at]);
                        }
                    }
                    y[ox] = best.1;
                    indices[ox] = best.0 as u32;
                }
                continue;
            }
            let mut ox = 0;
            loop {
                windows(xd, top, w, ox, y, indices);
                if ox + 4 == ow {
                    break;
                }
                ox = (ox + 4).min(ow - 4);
            }
        }
    }
}

/// Outputs `ox..ox + 4` of the row of windows whose top-left input is `top` (see [`pool_2x2`]).
#[inline(always)]
fn windows(xd: &[f32], top: usize, w: usize, ox: usize, y: &mut [f32], indices: &mut [u32]) {
    // Candidates in window order: (0, 0), (0, 1), (1, 0), (1, 1).
    let start = top + 2 * ox;
    let (even, odd) = F32x4::even_odd(F32x4::load(xd, start), F32x4::load(xd, start + 4));
    let (below, below_odd) =
        F32x4::even_odd(F32x4::load(xd, start + w), F32x4::load(xd, start + w + 4));
    let first = start as u32;
    let base = U32x4::new(first, first + 2, first + 4, first + 6);
    let mut best = even;
    let mut at = base;
    for (candidate, step) in [(odd, 1), (below, w as u32), (below_odd, w as u32 + 1)] {
        let better = candidate.gt(best);
        best = F32x4::select(better, candidate, best);
        at = U32x4::select(better, base + U32x4::splat(step), at);
    }
    best.store(y, ox);
    at.store(indices, ox);
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
            .ok_or_else(|| Error::internal("a pooling switch points outside its map"))?;
        *slot += v;
    }
    Ok(x)
}

/// [`unpool`] for interleaved signals: every row moves to its position's switch; rows meeting at one switch
/// (overlapping windows) are summed.
pub fn unpool_lanes(y: Lanes, switches: &Switches) -> Result<Lanes> {
    if y.shape.iter().product::<usize>() != switches.indices.len() {
        return Err(Error::shape(
            "unpool input",
            &[switches.indices.len()],
            &y.shape,
        ));
    }
    let l = y.lanes;
    let mut row_at = vec![usize::MAX; switches.input_shape.iter().product()];
    let mut out = Lanes {
        shape: switches.input_shape.to_vec(),
        lanes: l,
        positions: Vec::with_capacity(y.positions.len()),
        values: Vec::with_capacity(y.values.len()),
    };
    for (&p, row) in y.positions.iter().zip(y.values.chunks_exact(l.max(1))) {
        let outside = || Error::internal("a pooling switch points outside its map");
        let target = *switches.indices.get(p).ok_or_else(outside)? as usize;
        let existing = row_at.get_mut(target).ok_or_else(outside)?;
        if *existing == usize::MAX {
            *existing = out.positions.len();
            out.positions.push(target);
            out.values.extend_from_slice(row);
        } else {
            let sum = &mut out.values[*existing * l..][..l];
            sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
    }
    Ok(out)
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

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn fast_paths_equal_the_window_by_window_definition() {
        use crate::layers::relu;
        use crate::rng::Rng;
        let mut rng = Rng::new(5);
        for &(c, h, w) in &[
            (6, 28, 28),
            (16, 10, 10),
            (2, 5, 7),
            (3, 8, 2),
            (1, 2, 9),
            (2, 12, 18),
        ] {
            // Values on a coarse grid, half of them negative: ties inside windows, and windows the ReLU zeroes.
            let values = (0..c * h * w)
                .map(|_| (rng.normal() * 2.0).round())
                .collect();
            let x = Tensor::from_vec(&[c, h, w], values).unwrap();
            // After a ReLU: windows of zeros (ties everywhere) go to their first position.
            for (what, x) in [("raw", x.clone()), ("relu", relu::forward(&x))] {
                let (y, sw) = forward(&p2(), &x).unwrap();
                let (want, want_at) = reference(&p2(), &x).unwrap();
                assert_eq!((&y, &sw), (&want, &want_at), "{what} {c}×{h}×{w}");
            }
        }
    }

    #[test]
    fn unpooling_lanes_equals_unpooling_each_signal() {
        let x =
            Tensor::from_vec(&[2, 5, 5], (0..50).map(|i| ((i * 7) % 11) as f32).collect()).unwrap();
        let p = PoolParams {
            kernel_size: 3,
            stride: Some(1),
        };
        let (y, switches) = forward(&p, &x).unwrap();
        let signals: Vec<Tensor> = (0..3)
            .map(|b| {
                let values = (0..y.len()).map(|i| ((i * b) % 5) as f32 - 2.0).collect();
                Tensor::from_vec(y.shape(), values).unwrap()
            })
            .collect();
        let lanes = Lanes::interleave(&signals).unwrap();
        let unpooled = unpool_lanes(lanes.clone(), &switches)
            .unwrap()
            .split()
            .unwrap();
        for (signal, got) in signals.iter().zip(&unpooled) {
            assert_eq!(got, &unpool(signal, &switches).unwrap());
        }
        let other = Switches {
            input_shape: [1, 2, 2],
            indices: vec![0; 3],
        };
        assert!(unpool_lanes(lanes, &other).is_err());
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
