//! Fully connected layer, PyTorch layout: `y = W x + b` with `W: [out, in]`, `x: [in]`, `y: [out]`.
//! Backward: `∂L/∂x = Wᵀ g`, `∂L/∂W += g xᵀ`, `∂L/∂b += g`.

use super::simd::F32x4;
use crate::error::{Error, Result};
use crate::tensor::{axpy, checked_product, Tensor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearParams {
    pub in_features: usize,
    pub out_features: usize,
}

impl LinearParams {
    pub fn weight_shape(&self) -> [usize; 2] {
        [self.out_features, self.in_features]
    }

    fn check(&self, x: &Tensor, weight: &[f32]) -> Result<()> {
        if x.shape() != [self.in_features] {
            return Err(Error::shape("linear input", &[self.in_features], x.shape()));
        }
        if Some(weight.len()) != checked_product(&self.weight_shape()) {
            return Err(Error::shape(
                "linear weight",
                &self.weight_shape(),
                &[weight.len()],
            ));
        }
        Ok(())
    }
}

/// The definition, `y[o] = b[o] + Σ_i W[o, i] · x[i]`, as a plain loop summed in `f64` (the fast paths below
/// are tested against it, and whole networks in `tests/properties.rs`).
pub fn reference(p: &LinearParams, x: &Tensor, weight: &[f32], bias: &[f32]) -> Result<Tensor> {
    p.check(x, weight)?;
    if bias.len() != p.out_features {
        return Err(Error::shape(
            "linear bias",
            &[p.out_features],
            &[bias.len()],
        ));
    }
    let y = weight
        .chunks_exact(p.in_features.max(1))
        .zip(bias)
        .map(|(row, &b)| {
            let dot: f64 = row
                .iter()
                .zip(x.data())
                .map(|(&w, &v)| w as f64 * v as f64)
                .sum();
            (b as f64 + dot) as f32
        })
        .collect();
    Tensor::from_vec(&[p.out_features], y)
}

/// `x: [in]` → `[out]` ([`forward_batch`] with one input).
pub fn forward(p: &LinearParams, x: &Tensor, weight: &[f32], bias: &[f32]) -> Result<Tensor> {
    let mut y = forward_batch(p, &[x], weight, bias)?;
    y.pop()
        .ok_or_else(|| Error::internal("a batch of one input gave no output"))
}

/// [`forward`] for a batch of inputs `xs[b]: [in]` → `[out]`, as one product: every weight row is read once
/// per block of four inputs rather than once per input (fc1 of LeNet-5 has 48,000 weights, too many for the
/// L1 cache), and two rows × four inputs are accumulated at a time.
pub fn forward_batch(
    p: &LinearParams,
    xs: &[&Tensor],
    weight: &[f32],
    bias: &[f32],
) -> Result<Vec<Tensor>> {
    if bias.len() != p.out_features {
        return Err(Error::shape(
            "linear bias",
            &[p.out_features],
            &[bias.len()],
        ));
    }
    for x in xs {
        p.check(x, weight)?;
    }
    let mut ys = vec![vec![0.0f32; p.out_features]; xs.len()];
    // Blocks of four inputs, then the rest one by one (fewer instances of the kernel, a smaller wasm).
    let whole = xs.len() / 4 * 4;
    let (blocks, rest) = (xs.split_at(whole), ys.split_at_mut(whole));
    for (inputs, outputs) in blocks.0.chunks(4).zip(rest.0.chunks_mut(4)) {
        let inputs: Vec<&[f32]> = inputs.iter().map(|x| x.data()).collect();
        rows::<4>(p, &inputs, weight, bias, outputs);
    }
    for (input, output) in blocks.1.iter().zip(rest.1.chunks_mut(1)) {
        rows::<1>(p, &[input.data()], weight, bias, output);
    }
    ys.into_iter()
        .map(|y| Tensor::from_vec(&[p.out_features], y))
        .collect()
}

/// `ys[b][o] = bias[o] + ⟨weight[o], xs[b]⟩` for `B` inputs (four or one), `R` rows at a time: four for one
/// input, two for four (the `R·B` sums are independent chains of additions, enough of them to hide their latency,
/// and few enough to stay in registers: eight rows for one input spill and take 50% longer).
fn rows<const B: usize>(
    p: &LinearParams,
    xs: &[&[f32]],
    weight: &[f32],
    bias: &[f32],
    ys: &mut [Vec<f32>],
) {
    if B == 1 {
        row_blocks::<4, B>(p, xs, weight, bias, ys)
    } else {
        row_blocks::<2, B>(p, xs, weight, bias, ys)
    }
}

fn row_blocks<const R: usize, const B: usize>(
    p: &LinearParams,
    xs: &[&[f32]],
    weight: &[f32],
    bias: &[f32],
    ys: &mut [Vec<f32>],
) {
    let n = p.in_features;
    let xs: [&[f32]; B] = std::array::from_fn(|b| &xs[b][..n]);
    let mut blocks = weight.chunks_exact(R * n);
    let mut o = 0;
    for block in &mut blocks {
        let sums = dots::<R, B>(std::array::from_fn(|r| &block[r * n..(r + 1) * n]), &xs);
        for (r, row) in sums.iter().enumerate() {
            for (y, sum) in ys.iter_mut().zip(row) {
                y[o + r] = bias[o + r] + sum;
            }
        }
        o += R;
    }
    for row in blocks.remainder().chunks_exact(n) {
        let [sums] = dots::<1, B>([row], &xs);
        for (y, sum) in ys.iter_mut().zip(sums) {
            y[o] = bias[o] + sum;
        }
        o += 1;
    }
}

/// `⟨rows[r], xs[b]⟩` for every pair, four lanes at a time (the same order of additions for every input
/// count, so an image's result does not depend on its batch).
#[inline(always)]
fn dots<const R: usize, const B: usize>(rows: [&[f32]; R], xs: &[&[f32]; B]) -> [[f32; B]; R] {
    let n = xs.first().map_or(0, |x| x.len());
    assert!(xs.iter().chain(&rows).all(|s| s.len() == n));
    let vectors = n / 4;
    let mut acc = [[F32x4::splat(0.0); B]; R];
    for i in (0..vectors).map(|v| 4 * v) {
        // SAFETY: i + 4 ≤ n, the length of every row and input (asserted above).
        let inputs: [F32x4; B] =
            std::array::from_fn(|b| unsafe { F32x4::load_unchecked(xs[b], i) });
        for (sums, row) in acc.iter_mut().zip(&rows) {
            let w = unsafe { F32x4::load_unchecked(row, i) };
            for (sum, input) in sums.iter_mut().zip(&inputs) {
                *sum = sum.mul_add(w, *input);
            }
        }
    }
    std::array::from_fn(|r| {
        std::array::from_fn(|b| {
            let [s0, s1, s2, s3] = acc[r][b].to_array();
            let tail: f32 = (4 * vectors..n).map(|i| rows[r][i] * xs[b][i]).sum();
            ((s0 + s2) + (s1 + s3)) + tail
        })
    })
}

/// `∂L/∂x = Wᵀ g` for `g: [out]`.
pub fn backward_input(p: &LinearParams, g: &Tensor, weight: &[f32]) -> Result<Tensor> {
    let mut dx = backward_input_batch(p, &[g], weight)?;
    dx.pop()
        .ok_or_else(|| Error::internal("a batch of one signal gave no gradient"))
}

/// [`backward_input`] for a batch of signals `gs[b]: [out]` → `[in]`: eight input positions × up to four
/// signals accumulate over the rows in registers, each weight row read once per block of signals; rows where
/// every signal of the block is zero (ReLU-masked) are skipped.
pub fn backward_input_batch(
    p: &LinearParams,
    gs: &[&Tensor],
    weight: &[f32],
) -> Result<Vec<Tensor>> {
    if Some(weight.len()) != checked_product(&p.weight_shape()) {
        return Err(Error::shape(
            "linear weight",
            &p.weight_shape(),
            &[weight.len()],
        ));
    }
    for g in gs {
        if g.shape() != [p.out_features] {
            return Err(Error::shape(
                "linear output gradient",
                &[p.out_features],
                g.shape(),
            ));
        }
    }
    let mut dxs = vec![vec![0.0f32; p.in_features]; gs.len()];
    let whole = gs.len() / 4 * 4;
    let (blocks, rest) = (gs.split_at(whole), dxs.split_at_mut(whole));
    for (signals, outputs) in blocks.0.chunks(4).zip(rest.0.chunks_mut(4)) {
        let signals: Vec<&[f32]> = signals.iter().map(|g| g.data()).collect();
        columns::<4>(p, &signals, weight, outputs);
    }
    for (signal, output) in blocks.1.iter().zip(rest.1.chunks_mut(1)) {
        columns::<1>(p, &[signal.data()], weight, output);
    }
    dxs.into_iter()
        .map(|dx| Tensor::from_vec(&[p.in_features], dx))
        .collect()
}

/// `dxs[b][i] = Σ_o weight[o][i] · gs[b][o]` for `B` signals (four or one), in blocks of `4·C` inputs: `C` =
/// 4 for one signal, 2 for four (`B·C` independent sums per block).
fn columns<const B: usize>(p: &LinearParams, gs: &[&[f32]], weight: &[f32], dxs: &mut [Vec<f32>]) {
    let n = p.in_features;
    // The rows that matter to this block of signals, with each signal's value.
    let active: Vec<(&[f32], [f32; B])> = weight
        .chunks_exact(n)
        .enumerate()
        .map(|(o, row)| (row, std::array::from_fn(|b| gs[b][o])))
        .filter(|(_, g)| g.iter().any(|v| *v != 0.0))
        .collect();
    let mut i = 0;
    if B == 1 {
        i = column_blocks::<B, 4>(&active, n, i, dxs);
    }
    i = column_blocks::<B, 2>(&active, n, i, dxs);
    i = column_blocks::<B, 1>(&active, n, i, dxs);
    for i in i..n {
        for (b, dx) in dxs.iter_mut().enumerate() {
            dx[i] = active.iter().map(|(row, g)| row[i] * g[b]).sum();
        }
    }
}

/// [`columns`] from input `i` on, in blocks of `4·C` inputs while they fit; returns where it stopped.
fn column_blocks<const B: usize, const C: usize>(
    active: &[(&[f32], [f32; B])],
    n: usize,
    mut i: usize,
    dxs: &mut [Vec<f32>],
) -> usize {
    assert!(active.iter().all(|(row, _)| row.len() == n));
    while i + 4 * C <= n {
        let mut acc = [[F32x4::splat(0.0); C]; B];
        for (row, g) in active {
            // SAFETY: i + 4·C ≤ n = row.len() (asserted above).
            let w: [F32x4; C] =
                std::array::from_fn(|c| unsafe { F32x4::load_unchecked(row, i + 4 * c) });
            for (sums, &gv) in acc.iter_mut().zip(g) {
                let gv = F32x4::splat(gv);
                for (sum, w) in sums.iter_mut().zip(&w) {
                    *sum = sum.mul_add(*w, gv);
                }
            }
        }
        for (dx, sums) in dxs.iter_mut().zip(&acc) {
            for (c, sum) in sums.iter().enumerate() {
                sum.store(dx, i + 4 * c);
            }
        }
        i += 4 * C;
    }
    i
}

/// `dweight += g xᵀ`, `dbias += g`.
pub fn accumulate_param_grads(
    p: &LinearParams,
    x: &Tensor,
    g: &Tensor,
    dweight: &mut [f32],
    dbias: &mut [f32],
) -> Result<()> {
    p.check(x, dweight)?;
    if g.shape() != [p.out_features] || dbias.len() != p.out_features {
        return Err(Error::shape(
            "linear output gradient",
            &[p.out_features],
            g.shape(),
        ));
    }
    for ((row, db), &gv) in dweight
        .chunks_exact_mut(p.in_features)
        .zip(dbias.iter_mut())
        .zip(g.data())
    {
        axpy(gv, x.data(), row);
        *db += gv;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn forward_and_backward_by_hand() {
        let p = LinearParams {
            in_features: 3,
            out_features: 2,
        };
        let w = [1.0, 2.0, 3.0, -1.0, 0.0, 1.0];
        let x = Tensor::from_vec(&[3], vec![1.0, 1.0, 2.0]).unwrap();
        let y = forward(&p, &x, &w, &[0.5, -0.5]).unwrap();
        assert_eq!(y.data(), &[9.5, 0.5]);
        let g = Tensor::from_vec(&[2], vec![1.0, 2.0]).unwrap();
        assert_eq!(
            backward_input(&p, &g, &w).unwrap().data(),
            &[-1.0, 2.0, 5.0]
        );
        let mut dw = [0.0; 6];
        let mut db = [0.0; 2];
        accumulate_param_grads(&p, &x, &g, &mut dw, &mut db).unwrap();
        assert_eq!(dw, [1.0, 1.0, 2.0, 2.0, 2.0, 4.0]);
        assert_eq!(db, [1.0, 2.0]);
        assert!(forward(&p, &Tensor::zeros(&[4]), &w, &[0.0, 0.0]).is_err());
        assert!(forward(&p, &x, &w[..5], &[0.0, 0.0]).is_err());
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn batches_equal_single_inputs_and_the_definition() {
        use crate::rng::Rng;
        let mut rng = Rng::new(3);
        // Input sizes with and without a tail of vectors; odd output counts; batches of 1 to 9 (blocks of
        // four and their remainders); zero signals (skipped rows).
        for &(n_in, n_out) in &[(16, 6), (13, 5), (3, 1), (400, 120), (9, 7)] {
            let p = LinearParams {
                in_features: n_in,
                out_features: n_out,
            };
            let w: Vec<f32> = (0..n_in * n_out).map(|_| rng.normal()).collect();
            let bias: Vec<f32> = (0..n_out).map(|_| rng.normal()).collect();
            for batch in [1, 2, 3, 4, 5, 9] {
                let xs: Vec<Tensor> = (0..batch)
                    .map(|_| {
                        Tensor::from_vec(&[n_in], (0..n_in).map(|_| rng.normal()).collect())
                            .unwrap()
                    })
                    .collect();
                let gs: Vec<Tensor> = (0..batch)
                    .map(|b| {
                        let g =
                            (0..n_out).map(|o| if (o + b) % 3 == 0 { 0.0 } else { rng.normal() });
                        Tensor::from_vec(&[n_out], g.collect()).unwrap()
                    })
                    .collect();
                let ys = forward_batch(&p, &xs.iter().collect::<Vec<_>>(), &w, &bias).unwrap();
                let dxs = backward_input_batch(&p, &gs.iter().collect::<Vec<_>>(), &w).unwrap();
                for b in 0..batch {
                    assert_eq!(ys[b], forward(&p, &xs[b], &w, &bias).unwrap());
                    assert_eq!(dxs[b], backward_input(&p, &gs[b], &w).unwrap());
                    let want = reference(&p, &xs[b], &w, &bias).unwrap();
                    for (got, want) in ys[b].data().iter().zip(want.data()) {
                        assert!((got - want).abs() < 1e-4 * want.abs().max(1.0));
                    }
                    for i in 0..n_in {
                        let want: f64 = (0..n_out)
                            .map(|o| w[o * n_in + i] as f64 * gs[b].data()[o] as f64)
                            .sum();
                        assert!(
                            (dxs[b].data()[i] as f64 - want).abs() < 1e-4 * want.abs().max(1.0)
                        );
                    }
                }
            }
        }
    }
}
