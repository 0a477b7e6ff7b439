//! The transposed convolution `x̂ = convᵀ(ŷ)` (kernels flipped, channels swapped): the gradient of the forward
//! pass with respect to its input and the deconvnet's filtering step, for one signal ([`transpose`]) or
//! interleaved ones ([`transpose_lanes`]), and the parameter gradients ([`accumulate_param_grads`]). Signals
//! that reach a conv layer come through unpooling and ReLU and are mostly zeros, so every scatter here is
//! driven by the non-zeros. Tested against [`super::reference::transpose`] and the adjoint identity.

use super::super::simd::F32x4;
use super::{check_transpose, check_weights, copy, tap_range, Conv2dParams};
use crate::error::{Error, Result};
use crate::tensor::{axpy, Lanes, Tensor};

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
    let (oh, ow) = check_transpose(p, weight, y.shape(), (h, w))?;
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
    let (oh, ow) = check_transpose(p, weight, &g.shape, (h, w))?;
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
    let (oh, ow) = p.check_size(h, w)?;
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
    use super::super::forward;
    use super::super::reference;
    use super::super::tests::{assert_close, for_each_transpose_case, params, random};
    use super::*;
    use crate::rng::Rng;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn adjoint_identity_and_the_plain_transpose() {
        for_each_transpose_case(1, |rng, p, (h, w), (oh, ow)| {
            let (c, o) = (p.in_channels, p.out_channels);
            let x = random(rng, &[c, h, w]);
            let y = random(rng, &[o, oh, ow]);
            let wt = random(rng, &p.weight_shape());
            let cx = forward(&p, &x, wt.data(), &vec![0.0; o]).unwrap();
            let cty = transpose(&p, &y, wt.data(), h, w).unwrap();
            let plain = reference::transpose(&p, &y, wt.data(), h, w).unwrap();
            assert_close(&cty, &plain, &p);
            let inner = |a: &Tensor, b: &Tensor| -> f64 {
                let pairs = a.data().iter().zip(b.data());
                pairs.map(|(a, b)| *a as f64 * *b as f64).sum()
            };
            let (lhs, rhs) = (inner(&cx, &y), inner(&x, &cty));
            assert!(
                (lhs - rhs).abs() <= 1e-4 * lhs.abs().max(1.0),
                "{lhs} vs {rhs} for {p:?}"
            );
        });
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn transposed_lanes_equal_each_signal() {
        for_each_transpose_case(7, |rng, p, (h, w), (oh, ow)| {
            let o = p.out_channels;
            let weight = random(rng, &p.weight_shape()).into_data();
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
                assert_close(got, &want, &p);
            }
            // One lane adds the same products in the same order as the plain transpose.
            let one = Lanes::interleave(&signals[..1]).unwrap();
            let alone = transpose_lanes(&p, one, &weight, h, w)
                .unwrap()
                .split()
                .unwrap();
            assert_eq!(alone[0], transpose(&p, &signals[0], &weight, h, w).unwrap());
            assert!(transpose_lanes(&p, lanes.clone(), &weight[1..], h, w).is_err());
            assert!(transpose_lanes(&p, lanes, &weight, h, w + 1 + p.stride).is_err());
        });
    }

    /// `(f(v + ε·e_i) − f(v − ε·e_i)) / 2ε` with ε = 0.01, leaving `values` as it was.
    fn central_difference(values: &mut [f32], i: usize, f: impl Fn(&[f32]) -> f64) -> f64 {
        let (keep, eps) = (values[i], 1e-2);
        values[i] = keep + eps;
        let up = f(values);
        values[i] = keep - eps;
        let down = f(values);
        values[i] = keep;
        (up - down) / (2.0 * eps as f64)
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
        for (i, &got) in dw.iter().enumerate() {
            let fd = central_difference(&mut wt, i, |wt| loss(wt, &b));
            assert!(
                (fd - got as f64).abs() < 1e-3 * fd.abs().max(1.0),
                "w[{i}]: {fd} vs {got}"
            );
        }
        for (i, &got) in db.iter().enumerate() {
            let fd = central_difference(&mut b, i, |b| loss(&wt, b));
            assert!((fd - got as f64).abs() < 1e-3 * fd.abs().max(1.0));
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
        let loss = |values: &[f32]| -> f64 {
            let x = Tensor::from_vec(&[2, 5, 4], values.to_vec()).unwrap();
            let y = forward(&p, &x, &wt, &b).unwrap();
            y.data()
                .iter()
                .zip(r.data())
                .map(|(a, c)| (*a * *c) as f64)
                .sum()
        };
        for i in 0..x.len() {
            let fd = central_difference(x.data_mut(), i, loss);
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
