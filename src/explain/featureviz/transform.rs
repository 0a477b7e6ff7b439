//! Transformation robustness (Mordvintsev et al. 2015; Olah et al. 2017): before every step the image is
//! jittered, scaled and slightly rotated at random, so the optimizer cannot rely on patterns that only work
//! at one exact position — the images come out smoother and more natural.
//!
//! The three combine into one affine warp about the image centre `c = ((H−1)/2, (W−1)/2)`: output pixel `p`
//! reads the input at `q = R(−θ)(p − c)/s + c − t` with bilinear interpolation and zeros outside (the
//! MNIST background). Since the warp `y = W x` is linear, its backward pass is its adjoint `Wᵀ`: the same
//! four taps per output pixel, scattered instead of gathered (tested by `⟨W x, y⟩ = ⟨x, Wᵀ y⟩`).
//!
//! Shapes: images `[C, H, W]` flat; the same warp applies to every channel.

use crate::error::{Error, Result};
use crate::rng::Rng;

/// How much random motion each step adds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transforms {
    /// Largest shift in pixels, drawn as a whole number in `[−jitter, jitter]` along each axis.
    pub jitter: usize,
    /// Largest relative change of size: the factor is uniform in `[1 − scale, 1 + scale]`.
    pub scale: f32,
    /// Largest rotation in degrees, uniform in `[−rotate, rotate]`.
    pub rotate: f32,
}

impl Transforms {
    /// No motion at all (feature inversion and DeepDream use this).
    pub const NONE: Transforms = Transforms {
        jitter: 0,
        scale: 0.0,
        rotate: 0.0,
    };

    /// Checks the ranges: jitter at most 8 px, scale in `[0, 0.5]`, rotation in `[0, 45]` degrees.
    pub fn check(&self) -> Result<()> {
        if self.jitter > 8 {
            return Err(Error::out_of_range("jitter", self.jitter, "0 to 8 pixels"));
        }
        if !(0.0..=0.5).contains(&self.scale) {
            return Err(Error::out_of_range("scale", self.scale, "0 to 0.5"));
        }
        if !(0.0..=45.0).contains(&self.rotate) {
            return Err(Error::out_of_range(
                "rotate",
                self.rotate,
                "0 to 45 degrees",
            ));
        }
        Ok(())
    }

    /// Whether any motion is drawn at all.
    pub fn is_none(&self) -> bool {
        self.jitter == 0 && self.scale == 0.0 && self.rotate == 0.0
    }

    /// A random warp of a `height × width` plane: shift first drawn, then scale, then angle.
    pub fn draw(&self, rng: &mut Rng, height: usize, width: usize) -> Warp {
        let span = 2 * self.jitter + 1;
        let dy = rng.below(span) as f32 - self.jitter as f32;
        let dx = rng.below(span) as f32 - self.jitter as f32;
        let factor = 1.0 + self.scale * (2.0 * rng.uniform() - 1.0);
        let degrees = self.rotate * (2.0 * rng.uniform() - 1.0);
        Warp::new(height, width, (dy, dx), factor, degrees)
    }
}

/// One affine warp of a plane, as four bilinear taps `(input index, weight)` per output pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Warp {
    plane: usize,
    taps: Vec<[(u32, f32); 4]>,
}

impl Warp {
    /// The warp that shifts by `(dy, dx)` pixels, scales by `factor` and rotates by `degrees` about the centre.
    pub fn new(height: usize, width: usize, shift: (f32, f32), factor: f32, degrees: f32) -> Warp {
        let (sin, cos) = (degrees as f64).to_radians().sin_cos();
        let inv = 1.0 / factor as f64;
        let (cy, cx) = ((height as f64 - 1.0) / 2.0, (width as f64 - 1.0) / 2.0);
        let mut taps = Vec::with_capacity(height * width);
        for y in 0..height {
            for x in 0..width {
                let (py, px) = (y as f64 - cy, x as f64 - cx);
                let qy = (cos * py - sin * px) * inv + cy - shift.0 as f64;
                let qx = (sin * py + cos * px) * inv + cx - shift.1 as f64;
                taps.push(bilinear_taps(qy, qx, height, width));
            }
        }
        Warp {
            plane: height * width,
            taps,
        }
    }

    /// `W x` for every channel of `x` (`[C, H, W]` flat).
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let mut out = Vec::with_capacity(x.len());
        for plane in x.chunks_exact(self.plane) {
            out.extend(self.taps.iter().map(|taps| {
                taps.iter()
                    .map(|&(i, w)| w * plane[i as usize])
                    .sum::<f32>()
            }));
        }
        out
    }

    /// `Wᵀ g`: the backward pass of [`Warp::apply`].
    pub fn adjoint(&self, g: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0f32; g.len()];
        for (plane, grads) in out
            .chunks_exact_mut(self.plane)
            .zip(g.chunks_exact(self.plane))
        {
            for (taps, &gv) in self.taps.iter().zip(grads) {
                for &(i, w) in taps {
                    plane[i as usize] += w * gv;
                }
            }
        }
        out
    }
}

/// The four taps that interpolate position `(qy, qx)`; taps outside the plane get weight 0 (at index 0).
pub(super) fn bilinear_taps(qy: f64, qx: f64, height: usize, width: usize) -> [(u32, f32); 4] {
    let (y0, x0) = (qy.floor(), qx.floor());
    let (fy, fx) = (qy - y0, qx - x0);
    let mut taps = [(0u32, 0.0f32); 4];
    let corners = [
        (y0, x0, (1.0 - fy) * (1.0 - fx)),
        (y0, x0 + 1.0, (1.0 - fy) * fx),
        (y0 + 1.0, x0, fy * (1.0 - fx)),
        (y0 + 1.0, x0 + 1.0, fy * fx),
    ];
    for (tap, (y, x, w)) in taps.iter_mut().zip(corners) {
        let inside = y >= 0.0 && x >= 0.0 && y < height as f64 && x < width as f64;
        if inside && w != 0.0 {
            *tap = ((y as usize * width + x as usize) as u32, w as f32);
        }
    }
    taps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(&p, &q)| p as f64 * q as f64).sum()
    }

    #[test]
    fn the_adjoint_identity_holds_for_random_warps() {
        let mut rng = Rng::new(11);
        let transforms = Transforms {
            jitter: 3,
            scale: 0.2,
            rotate: 15.0,
        };
        for _ in 0..20 {
            let warp = transforms.draw(&mut rng, 28, 27);
            let x: Vec<f32> = (0..2 * 28 * 27).map(|_| rng.normal()).collect();
            let y: Vec<f32> = (0..2 * 28 * 27).map(|_| rng.normal()).collect();
            let (left, right) = (dot(&warp.apply(&x), &y), dot(&x, &warp.adjoint(&y)));
            assert!(
                (left - right).abs() < 1e-3 * (1.0 + left.abs()),
                "{left} vs {right}"
            );
        }
    }

    #[test]
    fn a_whole_pixel_shift_moves_pixels_exactly_and_fills_zeros() {
        // Shift by (1, 2): out[y][x] = in[y − 1][x − 2].
        let x: Vec<f32> = (0..12).map(|v| v as f32 + 1.0).collect();
        let warp = Warp::new(3, 4, (1.0, 2.0), 1.0, 0.0);
        let y = warp.apply(&x);
        assert_eq!(y, [0., 0., 0., 0., 0., 0., 1., 2., 0., 0., 5., 6.]);
        let identity = Warp::new(3, 4, (0.0, 0.0), 1.0, 0.0);
        assert_eq!(identity.apply(&x), x);
    }

    #[test]
    fn a_half_turn_reverses_the_plane() {
        let x: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let y = Warp::new(3, 3, (0.0, 0.0), 1.0, 180.0).apply(&x);
        let reversed: Vec<f32> = x.iter().rev().copied().collect();
        assert!(
            y.iter().zip(&reversed).all(|(a, b)| (a - b).abs() < 1e-5),
            "{y:?}"
        );
    }

    #[test]
    fn ranges_are_checked() {
        assert!(Transforms::NONE.check().is_ok() && Transforms::NONE.is_none());
        let bad = Transforms {
            jitter: 9,
            ..Transforms::NONE
        };
        assert!(matches!(bad.check(), Err(Error::OutOfRange { .. })));
        let bad = Transforms {
            rotate: f32::NAN,
            ..Transforms::NONE
        };
        assert!(bad.check().is_err());
    }
}
