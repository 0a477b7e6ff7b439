//! The decorrelated Fourier parameterization of an image (Olah, Mordvintsev & Schubert, *Feature
//! Visualization*, Distill 2017; Lucid's `fft_image`): the optimized numbers are the coefficients of the
//! image's real 2-D DFT (`rfft2`: `H × (W/2 + 1)` complex bins per channel), each scaled by `1/f^decay`, so
//! that a step of the same size in every coefficient changes low frequencies more than high ones and the
//! optimizer sees an image whose pixels are decorrelated.
//!
//! With `φ = 2π(u·h/H + v·w/W)`, `s[u, v]` the scale and `α_v = 1` for `v = 0` (and `v = W/2`, `W` even),
//! else 2 (each such bin stands for itself and its Hermitian twin):
//!
//! ```text
//! image       x[h, w]  = 1/(HW) Σ_{u<H, v≤W/2} α_v s[u,v] (re[u,v] cos φ − im[u,v] sin φ)    (numpy irfft2)
//! adjoint     ∂/∂re    = α_v s[u,v]/(HW) · Re Y[u,v],  ∂/∂im = α_v s[u,v]/(HW) · Im Y[u,v],
//!             Y = rfft2(g) = Σ_{h,w} g[h,w] e^{−iφ}
//! inverse     re + i·im = rfft2(x) / s           (image(coefficients(x)) = x)
//! ```
//!
//! `s[u, v] = k / max(f, 1/max(H, W))^decay` with `f = √(fy² + fx²)` the frequency in cycles per pixel
//! (numpy's `fftfreq`), and `k` chosen so that coefficients of unit variance give pixels of unit variance: a
//! learning rate means about the same in both parameterizations. The transforms are direct separable DFTs
//! in `f64` over tables of twiddles: a 28 × 28 image costs about 24 000 complex products each way, so no FFT
//! crate is needed.
//!
//! Layout: coefficients `[C, H, W/2 + 1, 2]` (re, im), images `[C, H, W]`.

use crate::error::{Error, Result};

/// The Fourier basis of `channels × height × width` images.
#[derive(Debug, Clone, PartialEq)]
pub struct FourierBasis {
    channels: usize,
    height: usize,
    width: usize,
    /// `W/2 + 1`.
    bins: usize,
    /// `s[u, v] · α_v / (H·W)`, row-major `[H, bins]`.
    weight: Vec<f64>,
    /// `s[u, v]` and `1/s[u, v]`, row-major `[H, bins]`.
    scale: Vec<f64>,
    inverse_scale: Vec<f64>,
    /// `(cos, sin)` of `2πk/H` and of `2πk/W`.
    turn_h: Vec<(f64, f64)>,
    turn_w: Vec<(f64, f64)>,
}

fn turns(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / n as f64;
            (a.cos(), a.sin())
        })
        .collect()
}

/// numpy's `fftfreq(n)[k]`: `k/n` for `k < (n+1)/2`, else `(k − n)/n`.
fn frequency(k: usize, n: usize) -> f64 {
    if 2 * k < n + 1 {
        k as f64 / n as f64
    } else {
        (k as f64 - n as f64) / n as f64
    }
}

impl FourierBasis {
    /// The basis with spectrum decay `decay` (1 in Lucid; 0 gives a plain orthogonal DFT).
    pub fn new(channels: usize, height: usize, width: usize, decay: f64) -> Result<FourierBasis> {
        if channels == 0 || height == 0 || width == 0 {
            return Err(Error::shape(
                "image of the Fourier basis",
                &[1, 1, 1],
                &[channels, height, width],
            ));
        }
        if !(decay.is_finite() && (0.0..=4.0).contains(&decay)) {
            return Err(Error::out_of_range("spectrum decay", decay, "0 to 4"));
        }
        let bins = width / 2 + 1;
        let floor = 1.0 / height.max(width) as f64;
        let mut scale = Vec::with_capacity(height * bins);
        let mut alpha = Vec::with_capacity(height * bins);
        for u in 0..height {
            for v in 0..bins {
                let f = frequency(u, height).hypot(v as f64 / width as f64);
                scale.push(1.0 / f.max(floor).powf(decay));
                alpha.push(if v == 0 || 2 * v == width { 1.0 } else { 2.0 });
            }
        }
        let pixels = (height * width) as f64;
        let variance: f64 = scale
            .iter()
            .zip(&alpha)
            .map(|(s, a)| (a * s / pixels).powi(2))
            .sum();
        let k = 1.0 / variance.sqrt();
        scale.iter_mut().for_each(|s| *s *= k);
        let weight = scale
            .iter()
            .zip(&alpha)
            .map(|(s, a)| s * a / pixels)
            .collect();
        let inverse_scale = scale.iter().map(|s| 1.0 / s).collect();
        Ok(FourierBasis {
            channels,
            height,
            width,
            bins,
            weight,
            scale,
            inverse_scale,
            turn_h: turns(height),
            turn_w: turns(width),
        })
    }

    /// Number of coefficients: `C · H · (W/2 + 1) · 2`.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.bins * 2
    }

    /// Always false: a basis has at least one coefficient.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The image `[C, H, W]` (flat) of the coefficients `theta`.
    pub fn image(&self, theta: &[f32]) -> Result<Vec<f32>> {
        self.check(theta.len(), self.len(), "Fourier coefficients")?;
        let (h_n, w_n, bins) = (self.height, self.width, self.bins);
        let mut out = Vec::with_capacity(self.channels * h_n * w_n);
        for spectrum in theta.chunks_exact(h_n * bins * 2) {
            // C[h, v] = Σ_u weight·(re + i·im)·e^{+2πi·uh/H}
            let mut columns = vec![(0.0f64, 0.0f64); h_n * bins];
            for u in 0..h_n {
                for v in 0..bins {
                    let at = u * bins + v;
                    let (re, im) = (spectrum[2 * at] as f64, spectrum[2 * at + 1] as f64);
                    let (re, im) = (re * self.weight[at], im * self.weight[at]);
                    for h in 0..h_n {
                        let (c, s) = self.turn_h[(u * h) % h_n];
                        let cell = &mut columns[h * bins + v];
                        cell.0 += re * c - im * s;
                        cell.1 += re * s + im * c;
                    }
                }
            }
            // x[h, w] = Σ_v Re(C[h, v]·e^{+2πi·vw/W})
            for row in columns.chunks_exact(bins) {
                for w in 0..w_n {
                    let sum: f64 = row
                        .iter()
                        .enumerate()
                        .map(|(v, &(re, im))| {
                            let (c, s) = self.turn_w[(v * w) % w_n];
                            re * c - im * s
                        })
                        .sum();
                    out.push(sum as f32);
                }
            }
        }
        Ok(out)
    }

    /// `Y = rfft2(x)` per channel, `[C, H, bins]` complex.
    fn forward_dft(&self, x: &[f32]) -> Result<Vec<(f64, f64)>> {
        let (h_n, w_n, bins) = (self.height, self.width, self.bins);
        self.check(x.len(), self.channels * h_n * w_n, "image")?;
        let mut out = Vec::with_capacity(self.channels * h_n * bins);
        for plane in x.chunks_exact(h_n * w_n) {
            // R[h, v] = Σ_w x[h, w]·e^{−2πi·vw/W}
            let rows: Vec<(f64, f64)> = plane
                .chunks_exact(w_n)
                .flat_map(|row| {
                    (0..bins).map(move |v| {
                        row.iter()
                            .enumerate()
                            .fold((0.0, 0.0), |(re, im), (w, &g)| {
                                let (c, s) = self.turn_w[(v * w) % w_n];
                                (re + g as f64 * c, im - g as f64 * s)
                            })
                    })
                })
                .collect();
            // Y[u, v] = Σ_h R[h, v]·e^{−2πi·uh/H}
            for u in 0..h_n {
                for v in 0..bins {
                    let mut cell = (0.0, 0.0);
                    for h in 0..h_n {
                        let (c, s) = self.turn_h[(u * h) % h_n];
                        let (re, im) = rows[h * bins + v];
                        cell.0 += re * c + im * s;
                        cell.1 += im * c - re * s;
                    }
                    out.push(cell);
                }
            }
        }
        Ok(out)
    }

    /// The gradient with respect to the coefficients of a loss whose gradient with respect to the image is
    /// `grad` (the adjoint of [`FourierBasis::image`]).
    pub fn adjoint(&self, grad: &[f32]) -> Result<Vec<f32>> {
        self.scaled_dft(grad, &self.weight)
    }

    /// The coefficients of an image: `image(coefficients(x)) = x` up to rounding.
    pub fn coefficients(&self, x: &[f32]) -> Result<Vec<f32>> {
        self.scaled_dft(x, &self.inverse_scale)
    }

    /// `rfft2(x)` with every bin multiplied by `factor[u, v]`, as `[C, H, bins, 2]`.
    fn scaled_dft(&self, x: &[f32], factor: &[f64]) -> Result<Vec<f32>> {
        let y = self.forward_dft(x)?;
        let per_plane = self.height * self.bins;
        Ok(y.iter()
            .enumerate()
            .flat_map(|(i, &(re, im))| {
                let f = factor[i % per_plane];
                [(re * f) as f32, (im * f) as f32]
            })
            .collect())
    }

    fn check(&self, got: usize, want: usize, what: &str) -> Result<()> {
        if got == want {
            Ok(())
        } else {
            Err(Error::shape(what, &[want], &[got]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn noise(rng: &mut Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.uniform()).collect()
    }

    #[test]
    fn images_round_trip_through_their_coefficients() {
        let mut rng = Rng::new(1);
        for &(c, h, w) in &[(1, 28, 28), (2, 5, 7), (1, 1, 1), (1, 6, 1), (3, 4, 9)] {
            let basis = FourierBasis::new(c, h, w, 1.0).expect("basis");
            let x = noise(&mut rng, c * h * w);
            let back = basis
                .image(&basis.coefficients(&x).expect("coefficients"))
                .expect("image");
            let worst = x
                .iter()
                .zip(&back)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-5, "{c}x{h}x{w}: {worst}");
        }
    }

    #[test]
    fn the_adjoint_identity_holds() {
        // ⟨image(θ), g⟩ = ⟨θ, adjoint(g)⟩ for random θ and g.
        let mut rng = Rng::new(2);
        for &(c, h, w) in &[(1, 28, 28), (2, 5, 6), (1, 3, 7)] {
            let basis = FourierBasis::new(c, h, w, 1.0).expect("basis");
            let theta: Vec<f32> = (0..basis.len()).map(|_| rng.normal()).collect();
            let g: Vec<f32> = (0..c * h * w).map(|_| rng.normal()).collect();
            let x = basis.image(&theta).expect("image");
            let back = basis.adjoint(&g).expect("adjoint");
            let dot = |a: &[f32], b: &[f32]| {
                a.iter()
                    .zip(b)
                    .map(|(&p, &q)| p as f64 * q as f64)
                    .sum::<f64>()
            };
            let (left, right) = (dot(&x, &g), dot(&theta, &back));
            assert!(
                (left - right).abs() < 1e-4 * (1.0 + left.abs()),
                "{left} vs {right}"
            );
        }
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        // L(θ) = Σ_p t_p·x_p² with x = image(θ): ∂L/∂θ = adjoint(2·t·x).
        let mut rng = Rng::new(4);
        let basis = FourierBasis::new(1, 6, 5, 1.0).expect("basis");
        let theta: Vec<f32> = (0..basis.len()).map(|_| rng.normal()).collect();
        let t: Vec<f32> = (0..30).map(|_| rng.normal()).collect();
        let loss = |theta: &[f32]| -> f64 {
            let x = basis.image(theta).expect("image");
            x.iter()
                .zip(&t)
                .map(|(&x, &t)| t as f64 * (x as f64).powi(2))
                .sum()
        };
        let x = basis.image(&theta).expect("image");
        let g: Vec<f32> = x.iter().zip(&t).map(|(x, t)| 2.0 * t * x).collect();
        let analytic = basis.adjoint(&g).expect("adjoint");
        let eps = 1e-2f32;
        for i in 0..theta.len() {
            let (mut plus, mut minus) = (theta.clone(), theta.clone());
            plus[i] += eps;
            minus[i] -= eps;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * eps as f64);
            let a = analytic[i] as f64;
            assert!(
                (numeric - a).abs() < 2e-3 * (1.0 + a.abs()),
                "{i}: {numeric} vs {a}"
            );
        }
    }

    #[test]
    fn unit_coefficients_give_unit_pixel_variance_and_low_frequencies_dominate() {
        let basis = FourierBasis::new(1, 28, 28, 1.0).expect("basis");
        let mut rng = Rng::new(5);
        let mut sum_sq = 0.0f64;
        let trials = 20;
        for _ in 0..trials {
            let theta: Vec<f32> = (0..basis.len()).map(|_| rng.normal()).collect();
            let x = basis.image(&theta).expect("image");
            sum_sq += x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
        }
        let variance = sum_sq / (trials * 28 * 28) as f64;
        assert!((variance - 1.0).abs() < 0.15, "pixel variance {variance}");
        assert!(basis.scale[0] > 10.0 * basis.scale[14 * basis.bins + 14]);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(FourierBasis::new(1, 0, 3, 1.0).is_err());
        assert!(FourierBasis::new(1, 3, 3, f64::NAN).is_err());
        let basis = FourierBasis::new(1, 3, 3, 1.0).expect("basis");
        assert!(matches!(
            basis.image(&[0.0; 3]),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(basis.coefficients(&[0.0; 8]).is_err());
    }
}
