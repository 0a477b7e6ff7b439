//! Data augmentation: a small random rotation about the centre and a random shift, with bilinear sampling
//! and zero fill (the MNIST background), applied to a `[C, H, W]` image.

use crate::rng::Rng;
use crate::tensor::Tensor;

/// Largest rotation (degrees) and shift (pixels) drawn uniformly in `±` the value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    pub max_degrees: f32,
    pub max_shift: f32,
}

impl Augment {
    pub fn apply(&self, image: &Tensor, rng: &mut Rng) -> Tensor {
        let angle = (2.0 * rng.uniform() - 1.0) * self.max_degrees.to_radians();
        let dx = (2.0 * rng.uniform() - 1.0) * self.max_shift;
        let dy = (2.0 * rng.uniform() - 1.0) * self.max_shift;
        transform(image, angle, dx, dy)
    }
}

/// Rotates by `angle` radians about the centre, then shifts by `(dx, dy)`: output pixel `p` samples the input
/// at `R(−angle)(p − centre − d) + centre`.
pub fn transform(image: &Tensor, angle: f32, dx: f32, dy: f32) -> Tensor {
    let Ok((c, h, w)) = image.chw() else {
        return image.clone();
    };
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    let (sin, cos) = angle.sin_cos();
    let mut out = Tensor::zeros(image.shape());
    let src = image.data();
    let dst = out.data_mut();
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (x as f32 - cx - dx, y as f32 - cy - dy);
            let sx = cos * u + sin * v + cx;
            let sy = -sin * u + cos * v + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            for ch in 0..c {
                let at = |yy: f32, xx: f32| -> f32 {
                    if yy < 0.0 || xx < 0.0 || yy >= h as f32 || xx >= w as f32 {
                        0.0
                    } else {
                        src[(ch * h + yy as usize) * w + xx as usize]
                    }
                };
                let v = at(y0, x0) * (1.0 - fx) * (1.0 - fy)
                    + at(y0, x0 + 1.0) * fx * (1.0 - fy)
                    + at(y0 + 1.0, x0) * (1.0 - fx) * fy
                    + at(y0 + 1.0, x0 + 1.0) * fx * fy;
                dst[(ch * h + y) * w + x] = v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_shift_and_quarter_turn() {
        let img = Tensor::from_vec(&[1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap();
        assert_eq!(transform(&img, 0.0, 0.0, 0.0), img);
        // Shift right by one: column 0 becomes background.
        assert_eq!(
            transform(&img, 0.0, 1.0, 0.0).data(),
            &[0., 1., 2., 0., 4., 5., 0., 7., 8.]
        );
        // A quarter turn maps the 3×3 grid onto itself (up to rounding of sin/cos); with rows counted
        // downwards a positive angle turns the picture clockwise on screen.
        let r = transform(&img, std::f32::consts::FRAC_PI_2, 0.0, 0.0);
        let expect = [7., 4., 1., 8., 5., 2., 9., 6., 3.];
        for (a, b) in r.data().iter().zip(expect) {
            assert!((a - b).abs() < 1e-4, "{:?}", r.data());
        }
    }
}
