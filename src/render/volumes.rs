//! The figures of the response maps and the volume views for the CLI: response maps side by side with one
//! shared scale and the layer regions beneath ([`response_maps`]), and weight-gradient volumes as grids of
//! `O × I` kernels ([`kernel_volume`], [`kernels_side_by_side`]).

use super::canvas::{text_height, text_width, RgbImage};
use super::colormap::{Colormap, Rgb, Scale};
use super::scatter::class_color;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

const BACKGROUND: Rgb = [255, 255, 255];
const TEXT: Rgb = [30, 30, 30];
const MARGIN: usize = 8;
const GAP: usize = 10;

/// `parts` left to right, top-aligned, `GAP` apart, on white.
pub fn side_by_side(parts: &[RgbImage]) -> RgbImage {
    let width = parts
        .iter()
        .map(|p| p.width + GAP)
        .sum::<usize>()
        .saturating_sub(GAP);
    let height = parts.iter().map(|p| p.height).max().unwrap_or(0);
    let mut out = RgbImage::new(width, height, BACKGROUND);
    let mut left = 0;
    for part in parts {
        blit(&mut out, part, left, 0);
        left += part.width + GAP;
    }
    out
}

/// Copies `src` into `dst` with its top-left corner at `(x, y)`, clipped.
fn blit(dst: &mut RgbImage, src: &RgbImage, x: usize, y: usize) {
    let width = src.width.min(dst.width.saturating_sub(x));
    for row in 0..src.height.min(dst.height.saturating_sub(y)) {
        let from = row * src.width * 3;
        let to = ((y + row) * dst.width + x) * 3;
        dst.data[to..to + width * 3].copy_from_slice(&src.data[from..from + width * 3]);
    }
}

/// A titled `height × width` map, each value a `zoom × zoom` block; NaN stays white.
fn titled_map(
    title: &str,
    values: &[f32],
    width: usize,
    zoom: usize,
    paint: impl Fn(f32) -> Option<Rgb>,
) -> RgbImage {
    let height = values.len() / width.max(1);
    let top = text_height(1) + 4;
    let mut out = RgbImage::new(
        (width * zoom).max(text_width(title, 1)),
        top + height * zoom,
        BACKGROUND,
    );
    out.draw_text(0, 0, title, 1, TEXT);
    for (i, &v) in values.iter().enumerate() {
        if let Some(color) = paint(v) {
            out.fill_rect(
                (i % width) * zoom,
                top + (i / width) * zoom,
                zoom,
                zoom,
                color,
            );
        }
    }
    out
}

/// A colour bar from `scale.low()` to `scale.high()` with its two numbers.
fn legend(colormap: Colormap, scale: Scale, label: &str) -> RgbImage {
    let (low, high) = (
        format!("{:.2}", scale.low()),
        format!("{:.2}", scale.high()),
    );
    let bar = 160;
    let width = text_width(&low, 1) + bar + text_width(&high, 1) + text_width(label, 1) + 4 * 6;
    let mut out = RgbImage::new(width, 12, BACKGROUND);
    let left = out.draw_text(0, 2, &low, 1, TEXT) + 6;
    for x in 0..bar {
        out.fill_rect(
            left + x,
            0,
            1,
            12,
            colormap.rgb(x as f32 / (bar - 1) as f32),
        );
    }
    let right = left + bar + 6;
    let right = right + out.draw_text(right, 2, &high, 1, TEXT) + 12;
    out.draw_text(right, 2, label, 1, TEXT);
    out
}

/// Response maps side by side (`(title, height × width values)`, NaN outside a disc) on one scale fitted to
/// all of them, a legend, and beneath the first map the layer each region holds (`regions`, indices into
/// `layers`) in the class palette with the layer names.
pub fn response_maps(
    maps: &[(String, Vec<f32>)],
    width: usize,
    regions: &[Option<usize>],
    layers: &[String],
    colormap: Colormap,
) -> Result<RgbImage> {
    if maps.is_empty() || width == 0 {
        return Err(Error::option("maps", "nothing to draw"));
    }
    let all: Vec<f32> = maps.iter().flat_map(|m| m.1.iter().copied()).collect();
    let scale = Scale::fit(&all, colormap);
    let zoom = (256 / width).clamp(1, 4);
    let panels: Vec<RgbImage> = maps
        .iter()
        .map(|(title, values)| {
            titled_map(title, values, width, zoom, |v| {
                scale.t(v).map(|t| colormap.rgb(t))
            })
        })
        .collect();
    let region_values: Vec<f32> = regions
        .iter()
        .map(|r| r.map_or(f32::NAN, |l| l as f32))
        .collect();
    let layer_map = titled_map("layers", &region_values, width, zoom, |v| {
        (!v.is_nan()).then(|| class_color(v as usize))
    });
    let mut key = RgbImage::new(
        layers
            .iter()
            .map(|l| text_width(l, 1) + 22)
            .sum::<usize>()
            .max(1),
        12,
        BACKGROUND,
    );
    let mut left = 0;
    for (i, name) in layers.iter().enumerate() {
        key.fill_rect(left, 1, 9, 9, class_color(i));
        left += 12 + key.draw_text(left + 12, 2, name, 1, TEXT) + 10;
    }
    let body = super::deconv_figure::stack(&[
        side_by_side(&panels),
        RgbImage::new(1, GAP, BACKGROUND),
        legend(colormap, scale, "standardised activation"),
        RgbImage::new(1, GAP, BACKGROUND),
        layer_map,
        RgbImage::new(1, 4, BACKGROUND),
        key,
    ]);
    Ok(framed(&body))
}

/// `image` with a white margin.
fn framed(image: &RgbImage) -> RgbImage {
    let mut out = RgbImage::new(
        image.width + 2 * MARGIN,
        image.height + 2 * MARGIN,
        BACKGROUND,
    );
    blit(&mut out, image, MARGIN, MARGIN);
    out
}

/// A weight volume `[O, I, kh, kw]` as a grid: row `o`, column `i` holds kernel `(o, i)`, each value a
/// `zoom × zoom` block on the diverging map of `scale`, kernels one pixel apart.
pub fn kernel_volume(volume: &Tensor, scale: Scale, zoom: usize) -> Result<RgbImage> {
    let &[o, i, kh, kw] = volume.shape() else {
        return Err(Error::shape(
            "a weight volume [O, I, kh, kw]",
            &[0, 0, 0, 0],
            volume.shape(),
        ));
    };
    let (cell_w, cell_h) = (kw * zoom + 1, kh * zoom + 1);
    let mut out = RgbImage::new(i * cell_w, o * cell_h, BACKGROUND);
    for (flat, &v) in volume.data().iter().enumerate() {
        let (x, y) = (flat % kw, flat / kw % kh);
        let (c, r) = (flat / (kw * kh) % i, flat / (kw * kh * i));
        let color = Colormap::Diverging.rgb(scale.t(v).unwrap_or(0.5));
        out.fill_rect(
            c * cell_w + x * zoom,
            r * cell_h + y * zoom,
            zoom,
            zoom,
            color,
        );
    }
    Ok(out)
}

/// Titled weight volumes side by side on one symmetric scale, a legend and a title.
pub fn kernels_side_by_side(title: &str, volumes: &[(String, &Tensor)]) -> Result<RgbImage> {
    let max_abs = volumes
        .iter()
        .flat_map(|(_, t)| t.data().iter())
        .fold(0f32, |m, v| m.max(v.abs()));
    let scale = Scale::symmetric(max_abs);
    let zoom = match volumes
        .first()
        .map(|v| v.1.shape().get(3).copied().unwrap_or(1))
    {
        Some(kw) if kw <= 5 => 4,
        _ => 2,
    };
    let mut panels = Vec::new();
    for (name, volume) in volumes {
        let grid = kernel_volume(volume, scale, zoom)?;
        let mut panel = RgbImage::new(
            grid.width.max(text_width(name, 1)),
            grid.height + 12,
            BACKGROUND,
        );
        panel.draw_text(0, 0, name, 1, TEXT);
        blit(&mut panel, &grid, 0, 12);
        panels.push(panel);
    }
    let mut head = RgbImage::new(text_width(title, 1).max(1), 12, BACKGROUND);
    head.draw_text(0, 0, title, 1, TEXT);
    let body = super::deconv_figure::stack(&[
        head,
        side_by_side(&panels),
        RgbImage::new(1, GAP, BACKGROUND),
        legend(Colormap::Diverging, scale, "gradient"),
    ]);
    Ok(framed(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_volume_puts_kernel_o_i_at_row_o_column_i() {
        // [2, 3, 1, 1]: kernel (1, 2) is the only positive value.
        let mut data = vec![0.0; 6];
        data[5] = 1.0;
        let t = Tensor::from_vec(&[2, 3, 1, 1], data).unwrap();
        let image = kernel_volume(&t, Scale::symmetric(1.0), 3).unwrap();
        assert_eq!((image.width, image.height), (12, 8));
        assert_eq!(
            image.pixel(2 * 4 + 1, 4 + 1),
            Some(Colormap::Diverging.rgb(1.0))
        );
        assert_eq!(image.pixel(1, 1), Some(Colormap::Diverging.rgb(0.5)));
        assert!(kernel_volume(&Tensor::zeros(&[2, 2]), Scale::symmetric(1.0), 1).is_err());
    }

    #[test]
    fn response_maps_leave_the_outside_of_the_disc_white() {
        let maps = vec![("a".to_string(), vec![f32::NAN, 0.0, 1.0, 2.0])];
        let image = response_maps(
            &maps,
            2,
            &[None, Some(0), Some(1), Some(1)],
            &["x".into(), "y".into()],
            Colormap::Viridis,
        )
        .unwrap();
        let top = MARGIN + text_height(1) + 4;
        assert_eq!(image.pixel(MARGIN, top), Some(BACKGROUND));
        assert_eq!(
            image.pixel(MARGIN + 4, top),
            Some(Colormap::Viridis.rgb(0.0))
        );
        assert!(response_maps(&[], 2, &[], &[], Colormap::Viridis).is_err());
    }
}
