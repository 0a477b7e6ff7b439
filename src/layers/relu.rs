//! ReLU, `y = max(x, 0)`, and the three ways of sending a signal back through it.
//!
//! - [`ReluRule::Gradient`]: the true gradient, `g · [x > 0]`.
//! - [`ReluRule::Deconvnet`]: Zeiler & Fergus (2013) rectify the signal and ignore the forward input, `max(g, 0)`.
//! - [`ReluRule::Guided`]: guided backpropagation (Springenberg et al. 2014), `max(g, 0) · [x > 0]`.

use super::simd::F32x4;
use crate::error::{Error, Result};
use crate::tensor::{Lanes, Tensor};

/// How a backward pass goes through ReLU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReluRule {
    Gradient,
    Deconvnet,
    Guided,
}

pub fn forward(x: &Tensor) -> Tensor {
    let mut y = x.clone();
    rectify(y.data_mut());
    y
}

/// `v = max(v, 0)` in place, four lanes at a time (NaN becomes 0, as with `f32::max`).
pub fn rectify(values: &mut [f32]) {
    let zero = F32x4::splat(0.0);
    let mut chunks = values.chunks_exact_mut(4);
    for chunk in &mut chunks {
        zero.max(F32x4::load(chunk, 0)).store(chunk, 0);
    }
    for v in chunks.into_remainder() {
        *v = v.max(0.0);
    }
}

/// Sends `g` (shaped like the layer's output) back through a ReLU whose forward input was `x`.
pub fn backward(rule: ReluRule, x: &Tensor, g: &Tensor) -> Result<Tensor> {
    let mut out = g.clone();
    backward_in_place(rule, x, &mut out)?;
    Ok(out)
}

/// [`backward`] overwriting the signal, four lanes at a time.
pub fn backward_in_place(rule: ReluRule, x: &Tensor, g: &mut Tensor) -> Result<()> {
    if x.shape() != g.shape() {
        return Err(Error::shape("relu backward signal", x.shape(), g.shape()));
    }
    let zero = F32x4::splat(0.0);
    let step = |x: F32x4, g: F32x4| match rule {
        ReluRule::Gradient => F32x4::select(x.gt(zero), g, zero),
        ReluRule::Deconvnet => zero.max(g),
        ReluRule::Guided => F32x4::select(x.gt(zero), zero.max(g), zero),
    };
    let mut signal = g.data_mut().chunks_exact_mut(4);
    let mut input = x.data().chunks_exact(4);
    for (g, x) in (&mut signal).zip(&mut input) {
        step(F32x4::load(x, 0), F32x4::load(g, 0)).store(g, 0);
    }
    for (g, &x) in signal.into_remainder().iter_mut().zip(input.remainder()) {
        *g = step(F32x4::splat(x), F32x4::splat(*g)).to_array()[0];
    }
    Ok(())
}

/// [`backward`] for interleaved signals: only the listed rows are touched.
pub fn backward_lanes(rule: ReluRule, x: &Tensor, mut g: Lanes) -> Result<Lanes> {
    if x.shape() != g.shape.as_slice() {
        return Err(Error::shape("relu backward signal", x.shape(), &g.shape));
    }
    let rows = g.values.chunks_exact_mut(g.lanes.max(1));
    for (&p, row) in g.positions.iter().zip(rows) {
        let open = x.data().get(p).is_some_and(|&v| v > 0.0);
        for v in row {
            *v = match rule {
                ReluRule::Deconvnet => v.max(0.0),
                ReluRule::Gradient if open => *v,
                ReluRule::Guided if open => v.max(0.0),
                ReluRule::Gradient | ReluRule::Guided => 0.0,
            };
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_three_rules_by_hand() {
        let x = Tensor::from_vec(&[4], vec![1.0, 1.0, -1.0, -1.0]).unwrap();
        let g = Tensor::from_vec(&[4], vec![2.0, -3.0, 5.0, -7.0]).unwrap();
        assert_eq!(forward(&x).data(), &[1.0, 1.0, 0.0, 0.0]);
        assert_eq!(
            backward(ReluRule::Gradient, &x, &g).unwrap().data(),
            &[2.0, -3.0, 0.0, 0.0]
        );
        assert_eq!(
            backward(ReluRule::Deconvnet, &x, &g).unwrap().data(),
            &[2.0, 0.0, 5.0, 0.0]
        );
        assert_eq!(
            backward(ReluRule::Guided, &x, &g).unwrap().data(),
            &[2.0, 0.0, 0.0, 0.0]
        );
        assert!(backward(ReluRule::Gradient, &x, &Tensor::zeros(&[3])).is_err());
        // Vectors and a tail: every rule against its scalar definition.
        let x =
            Tensor::from_vec(&[11], (0..11).map(|i| [1.0, -1.0, 0.0][i % 3]).collect()).unwrap();
        let g = Tensor::from_vec(&[11], (0..11).map(|i| i as f32 - 5.5).collect()).unwrap();
        for rule in [ReluRule::Gradient, ReluRule::Deconvnet, ReluRule::Guided] {
            let want: Vec<f32> = x
                .data()
                .iter()
                .zip(g.data())
                .map(|(&x, &g)| match rule {
                    ReluRule::Gradient => {
                        if x > 0.0 {
                            g
                        } else {
                            0.0
                        }
                    }
                    ReluRule::Deconvnet => g.max(0.0),
                    ReluRule::Guided => {
                        if x > 0.0 {
                            g.max(0.0)
                        } else {
                            0.0
                        }
                    }
                })
                .collect();
            assert_eq!(
                backward(rule, &x, &g).unwrap().data(),
                &want[..],
                "{rule:?}"
            );
        }
    }

    #[test]
    fn lanes_equal_each_signal() {
        let x = Tensor::from_vec(&[2, 3], vec![1.0, -1.0, 0.0, 2.0, -3.0, 0.5]).unwrap();
        let signals: Vec<Tensor> = (0..3)
            .map(|b| {
                let values = (0..6).map(|i| ((i + 2 * b) % 5) as f32 - 2.0).collect();
                Tensor::from_vec(&[2, 3], values).unwrap()
            })
            .collect();
        for rule in [ReluRule::Gradient, ReluRule::Deconvnet, ReluRule::Guided] {
            let lanes = Lanes::interleave(&signals).unwrap();
            let got = backward_lanes(rule, &x, lanes).unwrap().split().unwrap();
            for (signal, got) in signals.iter().zip(&got) {
                assert_eq!(got, &backward(rule, &x, signal).unwrap(), "{rule:?}");
            }
        }
        let lanes = Lanes::interleave(&signals).unwrap();
        assert!(backward_lanes(ReluRule::Gradient, &Tensor::zeros(&[6]), lanes).is_err());
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn rectify_every_tail_length_and_nan() {
        for n in 0..11 {
            let mut v: Vec<f32> = (0..n).map(|i| i as f32 - 4.5).collect();
            rectify(&mut v);
            let want: Vec<f32> = (0..n).map(|i| (i as f32 - 4.5).max(0.0)).collect();
            assert_eq!(v, want);
        }
        let mut v = [f32::NAN, -0.0, 1.0, f32::NAN, 2.0];
        rectify(&mut v);
        assert_eq!(v, [0.0, 0.0, 1.0, 0.0, 2.0]);
    }
}
