//! Log-softmax and its backward pass, plus the softmax probabilities.
//! `log_softmax(z)_i = z_i − log Σ_j exp z_j` (computed with the max subtracted, so it never overflows);
//! backward: `∂L/∂z = g − softmax(z) · Σ_i g_i`. With `g = −onehot(label)` this is the cross-entropy gradient
//! `softmax(z) − onehot(label)`.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

pub fn log_softmax(z: &Tensor) -> Tensor {
    let max = z.data().iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let log_sum = z.data().iter().map(|v| (v - max).exp()).sum::<f32>().ln();
    let mut y = z.clone();
    for v in y.data_mut() {
        *v = (*v - max) - log_sum;
    }
    y
}

/// Probabilities `exp(log_softmax(z))`.
pub fn softmax(z: &Tensor) -> Tensor {
    let mut p = log_softmax(z);
    for v in p.data_mut() {
        *v = v.exp();
    }
    p
}

/// Gradient with respect to the logits `z` given the gradient `g` with respect to `log_softmax(z)`.
/// Computed in f64 from the logits and without cancellation: since `Σ_j p_j = 1`,
/// `g_i − p_i Σ_j g_j = g_i Σ_{j≠i} p_j − p_i Σ_{j≠i} g_j`, and the sums that leave out `i` are taken from
/// prefix and suffix sums, never as a total minus a term. For a confident class `1 − p_c` is tiny, and forming
/// it as `1 − p_c` would cancel to zero (in f32 from about `1e-7`, in f64 from about `1e-16`). With
/// `g = onehot(c)` this is the log-probability gradient `e_c − softmax(z)`, with entry `c` equal to
/// `Σ_{j≠c} p_j` (what [`crate::explain::attribution::TargetScore`] sends back).
pub fn backward(z: &Tensor, g: &Tensor) -> Result<Tensor> {
    if z.shape() != g.shape() {
        return Err(Error::shape(
            "log_softmax backward signal",
            z.shape(),
            g.shape(),
        ));
    }
    let max = z
        .data()
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let log_sum = z
        .data()
        .iter()
        .map(|&v| (v as f64 - max).exp())
        .sum::<f64>()
        .ln();
    let p: Vec<f64> = z
        .data()
        .iter()
        .map(|&v| (v as f64 - max - log_sum).exp())
        .collect();
    let g64: Vec<f64> = g.data().iter().map(|&v| v as f64).collect();
    let p_others = sums_leaving_each_out(&p);
    let g_others = sums_leaving_each_out(&g64);
    let mut dz = g.clone();
    for (i, d) in dz.data_mut().iter_mut().enumerate() {
        *d = (g64[i] * p_others[i] - p[i] * g_others[i]) as f32;
    }
    Ok(dz)
}

/// `out[i] = Σ_{j≠i} v_j`, as the sum before `i` plus the sum after it (no subtraction).
fn sums_leaving_each_out(v: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    let mut before = 0.0;
    for (o, &x) in out.iter_mut().zip(v) {
        *o = before;
        before += x;
    }
    let mut after = 0.0;
    for (o, &x) in out.iter_mut().zip(v).rev() {
        *o += after;
        after += x;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stable_for_large_logits_and_gradient_by_finite_differences() {
        let z = Tensor::from_vec(&[3], vec![1000.0, 1001.0, 999.0]).unwrap();
        let y = log_softmax(&z);
        let expect = [-1.407_606, -0.407_606, -2.407_606];
        for (a, b) in y.data().iter().zip(expect) {
            assert!((a - b).abs() < 1e-5);
        }
        let z = Tensor::from_vec(&[4], vec![0.3, -1.2, 2.0, 0.0]).unwrap();
        let g = Tensor::from_vec(&[4], vec![0.0, -1.0, 0.5, 0.25]).unwrap();
        let dz = backward(&z, &g).unwrap();
        let loss = |z: &Tensor| -> f64 {
            log_softmax(z)
                .data()
                .iter()
                .zip(g.data())
                .map(|(a, b)| (*a * *b) as f64)
                .sum()
        };
        for i in 0..4 {
            let mut up = z.clone();
            up.data_mut()[i] += 1e-3;
            let mut down = z.clone();
            down.data_mut()[i] -= 1e-3;
            let fd = (loss(&up) - loss(&down)) / 2e-3;
            assert!(
                (fd - dz.data()[i] as f64).abs() < 1e-3,
                "{fd} vs {}",
                dz.data()[i]
            );
        }
        let p = softmax(&z);
        assert!((p.data().iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // A confident prediction: d log p_0 / d z_0 = 1 − p_0 = Σ_{i>0} p_i ≈ 2·e^−z_0 is kept, not cancelled,
        // in f32 (z_0 = 20) and beyond f64's resolution of 1 − p_0 (z_0 = 40, 1 − p_0 ≈ 8.5e−18). The other
        // entries are −p_i ≈ −e^−z_0.
        let g = Tensor::from_vec(&[3], vec![1.0, 0.0, 0.0]).unwrap();
        for z0 in [20.0f32, 40.0] {
            let z = Tensor::from_vec(&[3], vec![z0, 0.0, 0.0]).unwrap();
            let dz = backward(&z, &g).unwrap();
            let p = (-f64::from(z0)).exp();
            for (&got, want) in dz.data().iter().zip([2.0 * p, -p, -p]) {
                assert!(
                    (f64::from(got) - want).abs() < 1e-6 * want.abs(),
                    "z_0 = {z0}: {got} vs {want}"
                );
            }
        }
    }
}
