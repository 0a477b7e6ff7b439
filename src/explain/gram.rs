//! Gram matrices of feature maps (Gatys, Ecker & Bethge 2015), with their backward pass.
//!
//! For a `[C, H, W]` map, `F` is the `C × HW` matrix of its channels and
//!
//! ```text
//! G = F Fᵀ / (H·W)          G[i][j] = mean over positions of F[i, p]·F[j, p]      (shape [C, C])
//! ∂L/∂F = (∂L/∂G + ∂L/∂Gᵀ) F / (H·W)                                              (shape [C, H, W])
//! ```
//!
//! Both are products of the blocked kernel of the convolution (`layers::conv2d::product`, four output
//! values per vector): the forward pass multiplies `F` by `Fᵀ` in chunks of [`CHUNK`] positions, each summed
//! in `f32` and the chunks added in `f64`, so a 128-map Gram matrix at 128 × 128 (268 M multiply-adds, of
//! which only the tiles that reach the upper triangle, about half, are computed) runs at the kernel's speed
//! and still matches a float64 reference to about 1e-6 relative; the result is exactly symmetric (the upper
//! triangle is mirrored). Feature visualization's diversity term compares the Gram matrices of a batch of
//! images ([`cosine`]); texture synthesis and style transfer
//! (`crate::explain::texture`) match them to a style image's.

use crate::error::{Error, Result};
use crate::layers::conv2d::product;
use crate::tensor::Tensor;

/// Positions per `f32` partial sum of [`gram`].
pub const CHUNK: usize = 256;

/// `G = F Fᵀ / (H·W)` of a `[C, H, W]` map: a `[C, C]` tensor.
pub fn gram(features: &Tensor) -> Result<Tensor> {
    let (c, h, w) = features.chw()?;
    let plane = h * w;
    let x = features.data();
    // Fᵀ, `[H·W, pitch]` with the rows padded to whole vectors: tap p of the product reads F[·, p].
    let pitch = c.div_ceil(4) * 4;
    let mut transposed = vec![0.0f32; plane * pitch];
    for (i, row) in x.chunks_exact(plane).enumerate() {
        for (p, &v) in row.iter().enumerate() {
            transposed[p * pitch + i] = v;
        }
    }
    let zeros = vec![0.0f32; c];
    let mut sums = vec![0.0f64; c * c];
    let (mut kernels, mut partial) = (Vec::new(), vec![0.0f32; c * c]);
    for p0 in (0..plane).step_by(CHUNK) {
        let p1 = (p0 + CHUNK).min(plane);
        kernels.clear();
        for row in x.chunks_exact(plane) {
            kernels.extend_from_slice(&row[p0..p1]);
        }
        let offsets: Vec<usize> = (p0..p1).map(|p| p * pitch).collect();
        // The upper triangle only (j ≥ i): the lower one is its mirror.
        product(
            &kernels,
            &zeros,
            &transposed,
            &offsets,
            c,
            true,
            &mut partial,
        )?;
        for i in 0..c {
            for j in i..c {
                sums[i * c + j] += partial[i * c + j] as f64;
            }
        }
    }
    let mut g = vec![0.0f32; c * c];
    for i in 0..c {
        for j in i..c {
            let v = (sums[i * c + j] / plane as f64) as f32;
            g[i * c + j] = v;
            g[j * c + i] = v;
        }
    }
    Tensor::from_vec(&[c, c], g)
}

/// The signal at the map from the signal `grad` (`[C, C]`) at its Gram matrix:
/// `(grad + gradᵀ) F / (H·W)`, shaped like `features`.
pub fn gram_backward(features: &Tensor, grad: &Tensor) -> Result<Tensor> {
    let (c, h, w) = features.chw()?;
    if grad.shape() != [c, c] {
        return Err(Error::shape(
            "signal at the Gram matrix",
            &[c, c],
            grad.shape(),
        ));
    }
    let plane = h * w;
    let gd = grad.data();
    let mut weights = vec![0.0f32; c * c];
    for i in 0..c {
        for j in 0..c {
            weights[i * c + j] =
                ((gd[i * c + j] as f64 + gd[j * c + i] as f64) / plane as f64) as f32;
        }
    }
    // The product reads whole vectors past the last plane's end: pad F to them.
    let mut source = features.data().to_vec();
    source.resize(c * plane + 4, 0.0);
    let offsets: Vec<usize> = (0..c).map(|j| j * plane).collect();
    let mut out = vec![0.0f32; c * plane];
    product(
        &weights,
        &vec![0.0; c],
        &source,
        &offsets,
        plane,
        false,
        &mut out,
    )?;
    Tensor::from_vec(features.shape(), out)
}

/// Cosine similarity `⟨a, b⟩ / (‖a‖·‖b‖)` of two matrices read as vectors, with its gradient with respect to
/// `a`: `(b/‖b‖ − cos·a/‖a‖) / ‖a‖`. Both are 0 when either matrix is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> (f64, Vec<f32>) {
    let norm = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        return (0.0, vec![0.0; a.len()]);
    }
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
    let cos = dot / (na * nb);
    let grad = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| ((y as f64 / nb - cos * x as f64 / na) / na) as f32)
        .collect();
    (cos, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random_map(rng: &mut Rng, shape: &[usize]) -> Tensor {
        let n = shape.iter().product();
        Tensor::from_vec(shape, (0..n).map(|_| rng.normal()).collect()).expect("shape")
    }

    #[test]
    fn gram_of_a_hand_computed_map() {
        // Two channels on a 1×2 map: F = [[1, 2], [3, -1]], F Fᵀ = [[5, 1], [1, 10]], divided by H·W = 2.
        let f = Tensor::from_vec(&[2, 1, 2], vec![1.0, 2.0, 3.0, -1.0]).expect("shape");
        let g = gram(&f).expect("gram");
        assert_eq!(g.shape(), [2, 2]);
        assert_eq!(g.data(), [2.5, 0.5, 0.5, 5.0]);
    }

    #[test]
    fn gram_backward_matches_finite_differences() {
        let mut rng = Rng::new(3);
        let f = random_map(&mut rng, &[3, 2, 3]);
        let upstream = random_map(&mut rng, &[3, 3]);
        let loss = |f: &Tensor| -> f64 {
            let g = gram(f).expect("gram");
            g.data()
                .iter()
                .zip(upstream.data())
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum()
        };
        let analytic = gram_backward(&f, &upstream).expect("backward");
        let eps = 1e-2f32;
        for i in 0..f.len() {
            let (mut plus, mut minus) = (f.clone(), f.clone());
            plus.data_mut()[i] += eps;
            minus.data_mut()[i] -= eps;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * eps as f64);
            let a = analytic.data()[i] as f64;
            assert!(
                (numeric - a).abs() < 1e-3 * (1.0 + a.abs()),
                "{i}: {numeric} vs {a}"
            );
        }
    }

    #[test]
    fn cosine_gradient_matches_finite_differences() {
        let mut rng = Rng::new(9);
        let a: Vec<f32> = (0..6).map(|_| rng.normal()).collect();
        let b: Vec<f32> = (0..6).map(|_| rng.normal()).collect();
        let (cos, grad) = cosine(&a, &b);
        assert!((cosine(&a, &a).0 - 1.0).abs() < 1e-12 && cos.abs() <= 1.0);
        let eps = 1e-3f32;
        for i in 0..a.len() {
            let (mut plus, mut minus) = (a.clone(), a.clone());
            plus[i] += eps;
            minus[i] -= eps;
            let numeric = (cosine(&plus, &b).0 - cosine(&minus, &b).0) / (2.0 * eps as f64);
            assert!(
                (numeric - grad[i] as f64).abs() < 1e-4,
                "{i}: {numeric} vs {}",
                grad[i]
            );
        }
        assert_eq!(cosine(&[0.0; 6], &b), (0.0, vec![0.0; 6]));
    }

    #[test]
    fn a_signal_of_the_wrong_shape_is_an_error() {
        let f = Tensor::zeros(&[2, 2, 2]);
        assert!(matches!(
            gram_backward(&f, &Tensor::zeros(&[3, 3])),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}
