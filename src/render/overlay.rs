//! An attribution map drawn over its input image for the CLI's `attribute --out F.png`.

use super::colormap::{Colormap, Scale};
use super::RgbImage;
use crate::error::Result;
use crate::explain::attribution::Attribution;
use crate::tensor::Tensor;

/// Pixels per map value in the PNG.
const ZOOM: usize = 10;
/// Largest opacity of the colour over the input.
const OPACITY: f32 = 0.85;
const MARGIN: usize = 8;
/// The input is drawn as dark ink (gray level `1 − INK` at pixel value 1) on white, the colour of 0 in the
/// diverging colormap.
const INK: f32 = 0.6;

/// The map (summed over channels) over the input (mean of the channels, as dark ink on white). Signed maps use the diverging
/// colormap centred on 0 (blue negative, red positive), others the sequential inferno; the colour's opacity
/// grows with the value's distance from the scale's neutral point (0), so unimportant pixels show the input.
pub fn attribution(result: &Attribution, image: &Tensor, labels: &[String]) -> Result<RgbImage> {
    let (channels, h, w) = image.chw()?;
    let plane = h * w;
    let mut values = vec![0.0f32; plane];
    for chunk in result.map.data().chunks_exact(plane) {
        for (v, m) in values.iter_mut().zip(chunk) {
            *v += m;
        }
    }
    let (colormap, scale) = if result.signed {
        let (low, high) = crate::tensor::min_max(&values);
        (
            Colormap::Diverging,
            Scale::symmetric(low.abs().max(high.abs())),
        )
    } else {
        (Colormap::Inferno, Scale::fit(&values, Colormap::Inferno))
    };
    let label = labels
        .get(result.target)
        .map_or(String::new(), |l| format!(" ({l})"));
    let title = format!(
        "{} class {}{label}: {:.3e} .. {:.3e}",
        result.method.name(),
        result.target,
        scale.low(),
        scale.high()
    );
    let top = MARGIN + super::canvas::text_height(1) + MARGIN;
    let width = (w * ZOOM).max(super::canvas::text_width(&title, 1)) + 2 * MARGIN;
    let mut out = RgbImage::new(width, top + h * ZOOM + MARGIN, [255, 255, 255]);
    out.draw_text(MARGIN, MARGIN, &title, 1, [30, 30, 30]);
    for (p, &v) in values.iter().enumerate() {
        let gray = (0..channels)
            .map(|c| image.data()[c * plane + p])
            .sum::<f32>()
            / channels as f32;
        let t = scale.t(v).unwrap_or(0.5);
        let strength = if result.signed {
            (2.0 * t - 1.0).abs()
        } else {
            t
        };
        let alpha = OPACITY * strength;
        let color = colormap.rgb(t);
        let base = 255.0 * (1.0 - INK * gray.clamp(0.0, 1.0));
        let mixed = color.map(|c| ((1.0 - alpha) * base + alpha * f32::from(c)).round() as u8);
        out.fill_rect(
            MARGIN + (p % w) * ZOOM,
            top + (p / w) * ZOOM,
            ZOOM,
            ZOOM,
            mixed,
        );
    }
    Ok(out)
}
