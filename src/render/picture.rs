//! Raw-pixel images (`[1, H, W]` gray or `[3, H, W]` RGB, values in `[0, 1]`) as pictures (the texture
//! and style transfer outputs).

use super::canvas::RgbImage;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

const WHITE: [u8; 3] = [255, 255, 255];

/// `[1 | 3, H, W]` pixels in `[0, 1]` (clamped) as an RGB picture, each pixel a `zoom × zoom` square.
pub fn picture_zoomed(pixels: &Tensor, zoom: usize) -> Result<RgbImage> {
    let (c, h, w) = pixels.chw()?;
    if c != 1 && c != 3 {
        return Err(Error::shape("picture", &[3, h, w], pixels.shape()));
    }
    let zoom = zoom.max(1);
    let mut out = RgbImage::new(w * zoom, h * zoom, WHITE);
    let plane = h * w;
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    for y in 0..h {
        for x in 0..w {
            let at = y * w + x;
            let rgb = if c == 1 {
                [byte(pixels.data()[at]); 3]
            } else {
                [0, 1, 2].map(|k| byte(pixels.data()[k * plane + at]))
            };
            out.fill_rect(x * zoom, y * zoom, zoom, zoom, rgb);
        }
    }
    Ok(out)
}

/// [`picture_zoomed`] at zoom 1.
pub fn picture(pixels: &Tensor) -> Result<RgbImage> {
    picture_zoomed(pixels, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_and_rgb_pixels_become_bytes() {
        let gray = Tensor::from_vec(&[1, 1, 2], vec![0.0, 1.5]).expect("gray");
        assert_eq!(picture(&gray).expect("p").data, [0, 0, 0, 255, 255, 255]);
        let rgb = Tensor::from_vec(&[3, 1, 1], vec![1.0, 0.5, 0.0]).expect("rgb");
        assert_eq!(
            picture_zoomed(&rgb, 2).expect("p").data,
            [255, 128, 0].repeat(4)
        );
        assert!(picture(&Tensor::zeros(&[2, 1, 1])).is_err());
    }
}
