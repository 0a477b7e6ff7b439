//! Image priors that keep an optimized image natural (Mahendran & Vedaldi 2015; Yosinski et al. 2015).
//!
//! Differentiable penalties, averaged over the `N = C·H·W` pixels so that their weights mean the same at
//! every image size (shapes `[C, H, W]` flat):
//!
//! ```text
//! α-norm            R_α(x)  = 1/N Σ_p |x_p|^α                          (α = 2: L2 decay)
//! total variation   R_TV(x) = 1/N Σ_{c, h<H−1, w<W−1} ((x[h,w+1] − x[h,w])² + (x[h+1,w] − x[h,w])²)^{β/2}
//! ```
//!
//! and two projections applied between steps: a Gaussian blur every `k` steps (Yosinski et al. 2015) and
//! clipping to the valid pixel range `[0, 1]`.

use crate::error::{Error, Result};

/// The priors of one optimization (weights 0 turn a term off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regularizers {
    /// Weight of the α-norm `R_α`.
    pub norm: f32,
    /// Its exponent α (2 is L2 decay; Mahendran & Vedaldi use 6).
    pub alpha: f32,
    /// Weight of the total variation `R_TV`.
    pub tv: f32,
    /// Its exponent β (2 is smooth; 1 is the classic TV).
    pub beta: f32,
    /// Blur the image every `blur_every` steps (0: never) ...
    pub blur_every: usize,
    /// ... with a Gaussian of this standard deviation in pixels.
    pub blur_sigma: f32,
    /// Clip the image to `[0, 1]` after every step.
    pub clip: bool,
}

impl Regularizers {
    /// No priors, no blur, no clipping.
    pub const NONE: Regularizers = Regularizers {
        norm: 0.0,
        alpha: 2.0,
        tv: 0.0,
        beta: 2.0,
        blur_every: 0,
        blur_sigma: 0.0,
        clip: false,
    };

    /// Checks the ranges: weights finite and ≥ 0, α in `[1, 8]`, β in `[1, 3]`, σ in `[0, 4]`.
    pub fn check(&self) -> Result<()> {
        let weight = |name: &str, v: f32| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::out_of_range(name, v, "a finite weight ≥ 0"))
            }
        };
        weight("norm weight", self.norm)?;
        weight("total variation weight", self.tv)?;
        if !(1.0..=8.0).contains(&self.alpha) {
            return Err(Error::out_of_range("alpha", self.alpha, "1 to 8"));
        }
        if !(1.0..=3.0).contains(&self.beta) {
            return Err(Error::out_of_range("beta", self.beta, "1 to 3"));
        }
        if !(0.0..=4.0).contains(&self.blur_sigma) {
            return Err(Error::out_of_range(
                "blur sigma",
                self.blur_sigma,
                "0 to 4 pixels",
            ));
        }
        Ok(())
    }

    /// The weighted penalty `norm·R_α + tv·R_TV` of image `x` (`[C, H, W]`), and its gradient.
    pub fn penalty(&self, x: &[f32], height: usize, width: usize) -> (f64, Vec<f32>) {
        let mut grad = vec![0.0f32; x.len()];
        let mut value = 0.0;
        if self.norm > 0.0 {
            value += self.norm as f64 * alpha_norm(x, self.alpha, self.norm, &mut grad);
        }
        if self.tv > 0.0 {
            value +=
                self.tv as f64 * total_variation(x, height, width, self.beta, self.tv, &mut grad);
        }
        (value, grad)
    }
}

/// `R_α(x)`; adds `weight·∂R_α/∂x` to `grad`.
pub fn alpha_norm(x: &[f32], alpha: f32, weight: f32, grad: &mut [f32]) -> f64 {
    let n = x.len().max(1) as f64;
    let a = alpha as f64;
    let mut sum = 0.0;
    for (g, &v) in grad.iter_mut().zip(x) {
        let m = (v as f64).abs();
        sum += m.powf(a);
        if m > 0.0 {
            *g += (weight as f64 * a * m.powf(a - 1.0) * (v as f64).signum() / n) as f32;
        }
    }
    sum / n
}

/// `R_TV(x)` of a `[C, height, width]` image; adds `weight·∂R_TV/∂x` to `grad`.
pub fn total_variation(
    x: &[f32],
    height: usize,
    width: usize,
    beta: f32,
    weight: f32,
    grad: &mut [f32],
) -> f64 {
    let n = x.len().max(1) as f64;
    let b = beta as f64;
    let plane = height * width;
    let mut sum = 0.0;
    for c in 0..x.len() / plane.max(1) {
        let base = c * plane;
        for h in 0..height.saturating_sub(1) {
            for w in 0..width.saturating_sub(1) {
                let at = base + h * width + w;
                let (right, down) = (at + 1, at + width);
                let dx = x[right] as f64 - x[at] as f64;
                let dy = x[down] as f64 - x[at] as f64;
                let r = dx * dx + dy * dy;
                if r == 0.0 {
                    continue;
                }
                sum += r.powf(b / 2.0);
                // ∂r^{β/2}/∂d = β·r^{β/2 − 1}·d
                let k = weight as f64 * b * r.powf(b / 2.0 - 1.0) / n;
                grad[right] += (k * dx) as f32;
                grad[down] += (k * dy) as f32;
                grad[at] -= (k * (dx + dy)) as f32;
            }
        }
    }
    sum / n
}

/// A Gaussian blur of standard deviation `sigma` pixels of every plane of `x` (`[C, height, width]`), in
/// place: separable, the kernel cut at 3σ and renormalized over the taps inside the plane at the borders.
pub fn gaussian_blur(x: &mut [f32], height: usize, width: usize, sigma: f32) {
    if sigma <= 0.0 || height * width == 0 {
        return;
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-radius..=radius)
        .map(|d| (-(d * d) as f64 / (2.0 * (sigma as f64).powi(2))).exp())
        .collect();
    let pass =
        |src: &[f32], dst: &mut [f32], len: usize, stride: usize, lines: usize, step: usize| {
            for line in 0..lines {
                for i in 0..len as isize {
                    let (mut acc, mut total) = (0.0f64, 0.0f64);
                    for (k, &w) in kernel.iter().enumerate() {
                        let j = i + k as isize - radius;
                        if (0..len as isize).contains(&j) {
                            acc += w * src[line * step + j as usize * stride] as f64;
                            total += w;
                        }
                    }
                    dst[line * step + i as usize * stride] = (acc / total) as f32;
                }
            }
        };
    for plane in x.chunks_exact_mut(height * width) {
        let mut rows = vec![0.0f32; plane.len()];
        pass(plane, &mut rows, width, 1, height, width);
        pass(&rows, plane, height, width, width, 1);
    }
}

/// Clips every value to `[0, 1]`.
pub fn clip(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Checks `penalty`'s gradient against central differences at a random image.
    fn check_gradient(reg: Regularizers, seed: u64) {
        let (h, w) = (5, 6);
        let mut rng = Rng::new(seed);
        let x: Vec<f32> = (0..2 * h * w).map(|_| rng.normal()).collect();
        let (_, analytic) = reg.penalty(&x, h, w);
        let eps = 1e-3f32;
        for i in 0..x.len() {
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus[i] += eps;
            minus[i] -= eps;
            let numeric =
                (reg.penalty(&plus, h, w).0 - reg.penalty(&minus, h, w).0) / (2.0 * eps as f64);
            let a = analytic[i] as f64;
            assert!(
                (numeric - a).abs() < 1e-3 * (1.0 + a.abs()),
                "{reg:?} at {i}: {numeric} vs {a}"
            );
        }
    }

    #[test]
    fn l2_and_alpha_norms_match_finite_differences() {
        check_gradient(
            Regularizers {
                norm: 0.7,
                ..Regularizers::NONE
            },
            1,
        );
        check_gradient(
            Regularizers {
                norm: 0.3,
                alpha: 6.0,
                ..Regularizers::NONE
            },
            2,
        );
    }

    #[test]
    fn total_variation_matches_finite_differences() {
        check_gradient(
            Regularizers {
                tv: 0.9,
                ..Regularizers::NONE
            },
            3,
        );
        check_gradient(
            Regularizers {
                tv: 0.4,
                beta: 1.5,
                ..Regularizers::NONE
            },
            4,
        );
        check_gradient(
            Regularizers {
                norm: 0.2,
                tv: 0.5,
                beta: 1.0,
                ..Regularizers::NONE
            },
            5,
        );
    }

    #[test]
    fn hand_computed_penalties() {
        // x = [[0, 1], [2, 3]]: one TV cell, dx = 1, dy = 2, r = 5; N = 4.
        let x = [0.0, 1.0, 2.0, 3.0];
        let mut g = [0.0; 4];
        assert!((total_variation(&x, 2, 2, 2.0, 1.0, &mut g) - 5.0 / 4.0).abs() < 1e-12);
        assert_eq!(g, [-1.5, 0.5, 1.0, 0.0]);
        let mut g = [0.0; 4];
        assert!((alpha_norm(&x, 2.0, 1.0, &mut g) - 14.0 / 4.0).abs() < 1e-12);
        assert_eq!(g, [0.0, 0.5, 1.0, 1.5]);
    }

    #[test]
    fn blur_keeps_constants_and_spreads_a_point() {
        let mut flat = vec![0.25f32; 2 * 7 * 5];
        gaussian_blur(&mut flat, 7, 5, 1.0);
        assert!(flat.iter().all(|v| (v - 0.25).abs() < 1e-6));
        // 19 × 19: no pixel within reach of the spread point has its kernel cut by a border.
        let mut point = vec![0.0f32; 19 * 19];
        let c = 9 * 19 + 9;
        point[c] = 1.0;
        gaussian_blur(&mut point, 19, 19, 1.0);
        let total: f32 = point.iter().sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
        // The centre keeps (1/(√(2π)·σ))² of the mass, up to the cut at 3σ.
        let centre = 1.0 / (std::f32::consts::TAU);
        assert!((point[c] - centre).abs() < 2e-3, "{}", point[c]);
        assert!(
            (point[c - 1] - point[c + 1]).abs() < 1e-7
                && (point[c - 19] - point[c - 1]).abs() < 1e-7
        );
    }

    #[test]
    fn clipping_and_ranges() {
        let mut x = [-1.0, 0.5, 2.0];
        clip(&mut x);
        assert_eq!(x, [0.0, 0.5, 1.0]);
        assert!(Regularizers::NONE.check().is_ok());
        assert!(Regularizers {
            tv: -1.0,
            ..Regularizers::NONE
        }
        .check()
        .is_err());
        assert!(Regularizers {
            alpha: 0.5,
            ..Regularizers::NONE
        }
        .check()
        .is_err());
        assert!(Regularizers {
            blur_sigma: f32::NAN,
            ..Regularizers::NONE
        }
        .check()
        .is_err());
    }
}
