//! The preprocessing that turns any picture of a digit, a clean drawing or a phone photo of paper, into an
//! MNIST-like input, and the intermediate images of each step ([`Stages`]) for the page's strip and the CLI.
//!
//! [`preprocess_stages`] follows the preparation of MNIST (LeCun et al., 1998: "size normalized to fit in a
//! 20x20 pixel box while preserving their aspect ratio ... centered in a 28x28 image by computing the center of
//! mass of the pixels") after finding the ink robustly, so that noise, shadows and ruled paper do not count as
//! ink. docs/preprocessing.md shows the steps on photos and the accuracies they reach.
//! 1. **Working copy.** An image longer than [`WORKING_SIDE`] pixels is area-averaged down to that size.
//! 2. **Polarity.** The background level is the median of the outermost ring of pixels; when it is light
//!    (above ½) the ink is dark, otherwise light. The image is turned into *lightness* `L` (paper bright):
//!    `L = Y`, or `L = 1 − Y` for light ink on a dark background.
//! 3. **Background.** A large-scale estimate `B` of the paper: `L` averaged over `d × d` tiles (`d` = the
//!    shorter side / 32, at least 1), a grey-level closing (max filter, then min filter) over a square of
//!    radius 0.2 × the tiles' shorter side, which removes every dark stroke narrower than that window while it
//!    reproduces any shading that is monotone across the window (a shadow's ramp), then bilinear interpolation
//!    back to full size.
//! 4. **Normalized ink** `n = max(0, B − L) / B`: darkness relative to the local paper, so a shadow divides
//!    out. If the strongest `B − L` is under [`MIN_CONTRAST`] the image is blank.
//! 5. **Threshold.** `n` is averaged over squares of radius (shorter side / 100), which averages noise away on
//!    photos and is the identity on small images, and thresholded at Otsu's level (the split of its 256-bin
//!    histogram with the largest between-class variance): the ink mask.
//! 6. **Cleaning** ([`mask`]): ruled lines (rows or columns mostly ink, thin where no stroke crosses them)
//!    are removed, then the digit's connected components are kept and specks and far-off marks dropped.
//! 7. **Cleaned ink:** `n` inside the kept components grown by `1 +` (shorter side / 40) pixels (the
//!    anti-aliased rim of a stroke lies just outside the mask), minus the level of the paper around it (mean +
//!    2 standard deviations of `n` outside), 0 elsewhere, then divided by its maximum.
//! 8. **Bounding box** of the cleaned ink above [`BOX_THRESHOLD`].
//! 9. **Size normalization.** The box is scaled, aspect ratio preserved, so that its longer side becomes
//!    `round(20/28 · min(out_h, out_w))` pixels (20 for 28×28), with area averaging: each output pixel is the
//!    mean of the source area it covers, which anti-aliases when shrinking and is exact at scale 1. The scaled
//!    patch is stretched again so its strongest pixel is 1 (thin strokes of a large image would otherwise
//!    average away to a faint grey).
//! 10. **Centring.** The patch is pasted, shifted by a whole number of pixels, so that its centre of mass (in
//!     pixel indices) lands on pixel `(out_h / 2, out_w / 2)`, which is (14, 14) for 28×28: the convention the
//!     MNIST files follow. Parts that fall outside are clipped, as in MNIST.
//! 11. The `[out_h, out_w]` map is replicated into `channels` planes: a `[C, H, W]` tensor in `[0, 1]`, ink = 1.
//!
//! On a clean image (a uniform background, ink of at most a fifth of the shorter side wide) steps 3–7 give
//! back exactly the ink relative to the border's level, so drawings and the MNIST digits themselves pass as
//! they did before photos were handled.

mod filters;
pub mod mask;

use super::image::{check_dimensions, GrayImage, MAX_PIXELS};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The smallest ink contrast (in luminance units, black to white = 1) that counts as a drawing.
pub const MIN_CONTRAST: f32 = 0.1;
/// Pixels whose cleaned ink exceeds this value define the digit's bounding box.
pub const BOX_THRESHOLD: f32 = 0.1;
/// Images are analysed at most this many pixels on their longer side.
pub const WORKING_SIDE: usize = 512;
/// MNIST digits fill a 20-pixel box inside the 28-pixel image.
const BOX_FRACTION: f64 = 20.0 / 28.0;
/// The background is estimated on tiles of (shorter side / this) pixels.
const BACKGROUND_TILES: usize = 32;
/// The closing's radius, as a fraction of the tiled image's shorter side.
const CLOSING_FRACTION: f32 = 0.2;
/// The noise-averaging box's radius is the shorter side over this.
const SMOOTHING_DIVISOR: usize = 100;
/// The kept ink mask is grown by 1 + the shorter side over this, to take in the strokes' anti-aliased rims.
const RIM_DIVISOR: usize = 40;

/// Every step of [`preprocess_stages`] as an image, for display. `grey` is luminance (0 = black); the others
/// are ink maps in `[0, 1]` with 1 = ink, as the network sees its input.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    /// Step 1: the working copy's luminance.
    pub grey: GrayImage,
    /// Step 4: ink relative to the estimated background, divided by its maximum.
    pub normalized: GrayImage,
    /// Steps 5–6: 1 = kept ink, 0.5 = thresholded but removed (ruled lines, specks, far marks), 0 = paper.
    pub mask: GrayImage,
    /// Steps 7–9: the cleaned ink of the bounding box, size-normalized (the 20-pixel patch).
    pub crop: GrayImage,
    /// Steps 10–11: the `[channels, out_h, out_w]` input.
    pub output: Tensor,
}

/// Turns a picture of a digit into an MNIST-like `[channels, out_h, out_w]` tensor in `[0, 1]`, ink = 1; see
/// the module documentation for the procedure. Errors on a blank image or impossible sizes.
pub fn preprocess_mnist(
    img: &GrayImage,
    channels: usize,
    out_h: usize,
    out_w: usize,
) -> Result<Tensor> {
    preprocess_stages(img, channels, out_h, out_w).map(|stages| stages.output)
}

/// [`preprocess_mnist`] with the image of every step.
pub fn preprocess_stages(
    img: &GrayImage,
    channels: usize,
    out_h: usize,
    out_w: usize,
) -> Result<Stages> {
    let out_len = check_request(img, channels, out_h, out_w)?;
    let grey = working_copy(img);
    let ink = find_ink(&grey)?;
    let bounds = ink_bounding_box(&ink.cleaned, grey.width)
        .ok_or_else(|| Error::image("no ink found: the image is blank"))?;
    let target = ((BOX_FRACTION * out_h.min(out_w) as f64).round() as usize).max(1);
    let longer = bounds.width.max(bounds.height) as f64;
    let scaled_side =
        |side: usize| ((side as f64 * target as f64 / longer).round() as usize).max(1);
    let (patch_w, patch_h) = (scaled_side(bounds.width), scaled_side(bounds.height));
    let mut patch = resample_area(&ink.cleaned, grey.width, &bounds, patch_w, patch_h);
    let peak = patch.iter().fold(0.0f32, |m, &v| m.max(v));
    if peak > 0.0 {
        patch.iter_mut().for_each(|v| *v = (*v / peak).min(1.0));
    }
    let plane = centred(&patch, patch_w, out_h, out_w, out_len);
    let map = |pixels: Vec<f32>| GrayImage {
        width: grey.width,
        height: grey.height,
        pixels,
    };
    Ok(Stages {
        normalized: map(ink.normalized),
        mask: map(ink.mask),
        crop: GrayImage {
            width: patch_w,
            height: patch_h,
            pixels: patch,
        },
        output: Tensor::from_vec(&[channels, out_h, out_w], plane.repeat(channels))?,
        grey,
    })
}

/// Checks the image and the requested output shape; returns `out_h · out_w`.
fn check_request(img: &GrayImage, channels: usize, out_h: usize, out_w: usize) -> Result<usize> {
    let shape = format!("{channels}×{out_h}×{out_w}");
    let out_len = out_h.checked_mul(out_w).filter(|&n| n <= MAX_PIXELS);
    let total = out_len.and_then(|n| n.checked_mul(channels));
    let (Some(out_len), Some(total)) = (out_len, total) else {
        return Err(Error::out_of_range(
            "preprocessing output shape",
            shape,
            format!("at most {MAX_PIXELS} values per channel"),
        ));
    };
    if total == 0 {
        return Err(Error::out_of_range(
            "preprocessing output shape",
            shape,
            "no zero dimension",
        ));
    }
    let count = check_dimensions(img.width, img.height)?;
    if img.pixels.len() != count {
        return Err(Error::image(format!(
            "a {}×{} image needs {count} pixels, got {}",
            img.width,
            img.height,
            img.pixels.len()
        )));
    }
    if !img.pixels.iter().all(|v| v.is_finite()) {
        return Err(Error::image("pixel values must be finite"));
    }
    Ok(out_len)
}

/// Step 1: the image itself, or area-averaged down so that its longer side is [`WORKING_SIDE`].
fn working_copy(img: &GrayImage) -> GrayImage {
    let longer = img.width.max(img.height);
    if longer <= WORKING_SIDE {
        return img.clone();
    }
    let scale = |side: usize| {
        ((side * WORKING_SIDE) as f64 / longer as f64)
            .round()
            .max(1.0) as usize
    };
    let (width, height) = (scale(img.width), scale(img.height));
    let all = Bounds {
        x: 0,
        y: 0,
        width: img.width,
        height: img.height,
    };
    GrayImage {
        width,
        height,
        pixels: resample_area(&img.pixels, img.width, &all, width, height),
    }
}

/// The outcome of steps 2–7, each a map of the working copy's size.
struct Ink {
    normalized: Vec<f32>,
    mask: Vec<f32>,
    cleaned: Vec<f32>,
}

/// Step 2: the border's median level.
pub(crate) fn border_median(img: &GrayImage) -> f32 {
    let mut border = Vec::new();
    for (y, row) in img.pixels.chunks_exact(img.width).enumerate() {
        if y == 0 || y + 1 == img.height {
            border.extend_from_slice(row);
        } else {
            border.extend(row.first());
            border.extend(row.last().filter(|_| img.width > 1));
        }
    }
    // The border holds at least the first row, so `middle < border.len()`.
    let middle = border.len() / 2;
    let (_, &mut median, _) = border.select_nth_unstable_by(middle, f32::total_cmp);
    median
}

/// Step 3: the background estimate of a lightness map.
fn background(lightness: &[f32], width: usize, height: usize) -> Vec<f32> {
    let block = (width.min(height) / BACKGROUND_TILES).max(1);
    let (tiles, tiles_w, tiles_h) = filters::block_mean(lightness, width, height, block);
    let radius = ((CLOSING_FRACTION * tiles_w.min(tiles_h) as f32).round() as usize).max(1);
    let closed = filters::closing(&tiles, tiles_w, tiles_h, radius);
    filters::upsample(&closed, tiles_w, tiles_h, block, width, height)
}

/// Steps 2–7 (see the module documentation).
fn find_ink(grey: &GrayImage) -> Result<Ink> {
    let (width, height) = (grey.width, grey.height);
    let light_background = border_median(grey) > 0.5;
    let lightness: Vec<f32> = if light_background {
        grey.pixels.clone()
    } else {
        grey.pixels.iter().map(|v| 1.0 - v).collect()
    };
    let paper = background(&lightness, width, height);
    let darkness: Vec<f32> = paper
        .iter()
        .zip(&lightness)
        .map(|(b, l)| (b - l).max(0.0))
        .collect();
    let contrast = darkness.iter().fold(0.0f32, |m, &v| m.max(v));
    if contrast < MIN_CONTRAST {
        return Err(Error::image(format!(
            "no ink found: the image is blank (its strongest stroke differs from the {} background by \
             {contrast:.3}, less than {MIN_CONTRAST}); draw or load a digit",
            if light_background { "light" } else { "dark" }
        )));
    }
    let relative: Vec<f32> = darkness
        .iter()
        .zip(&paper)
        .map(|(d, b)| (d / b.max(MIN_CONTRAST)).min(1.0))
        .collect();
    let smoothing = width.min(height) / SMOOTHING_DIVISOR;
    let smoothed = filters::box_mean(&relative, width, height, smoothing);
    let threshold = otsu(&smoothed);
    let thresholded: Vec<bool> = smoothed.iter().map(|&v| v > threshold).collect();
    let mut mask = thresholded.clone();
    let line_thickness = 2 + width.min(height) / 80;
    mask::remove_lines(&mut mask, width, line_thickness);
    let kept = mask::keep_digit(&mask, width, line_thickness)
        .ok_or_else(|| Error::image("no ink found: the image is blank"))?;
    let rim = 1 + width.min(height) / RIM_DIVISOR;
    let cleaned = cleaned_ink(&relative, &kept, width, rim);
    let peak = relative
        .iter()
        .fold(0.0f32, |m, &v| m.max(v))
        .max(f32::MIN_POSITIVE);
    Ok(Ink {
        normalized: relative.iter().map(|v| v / peak).collect(),
        mask: thresholded
            .iter()
            .zip(&kept)
            .map(|(&m, &k)| {
                if k {
                    1.0
                } else if m {
                    0.5
                } else {
                    0.0
                }
            })
            .collect(),
        cleaned,
    })
}

/// Otsu's threshold of non-negative values: the upper edge of the bin of their 256-bin histogram over
/// `[0, max]` that splits them into two classes with the largest between-class variance.
fn otsu(values: &[f32]) -> f32 {
    const BINS: usize = 256;
    let peak = values.iter().fold(0.0f32, |m, &v| m.max(v));
    if peak <= 0.0 {
        return 0.0;
    }
    let scale = (BINS - 1) as f32 / peak;
    let mut histogram = [0u64; BINS];
    for &v in values {
        histogram[((v.max(0.0) * scale).round() as usize).min(BINS - 1)] += 1;
    }
    let total = values.len() as f64;
    let sum: f64 = histogram
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    let (mut below, mut below_sum, mut best, mut best_bin) = (0.0f64, 0.0f64, -1.0f64, 0);
    for (i, &n) in histogram.iter().enumerate() {
        below += n as f64;
        below_sum += i as f64 * n as f64;
        let above = total - below;
        if below == 0.0 || above == 0.0 {
            continue;
        }
        let gap = below_sum / below - (sum - below_sum) / above;
        let variance = below * above * gap * gap;
        if variance > best {
            (best, best_bin) = (variance, i);
        }
    }
    (best_bin as f32 + 0.5) / scale
}

/// Step 7: `relative` inside the kept mask grown by `grow` pixels, less the paper's level outside it.
fn cleaned_ink(relative: &[f32], kept: &[bool], width: usize, grow: usize) -> Vec<f32> {
    let height = relative.len() / width;
    let kept: Vec<f32> = kept.iter().map(|&k| f32::from(u8::from(k))).collect();
    let inside = filters::max_filter(&kept, width, height, grow);
    let outside: Vec<f64> = relative
        .iter()
        .zip(&inside)
        .filter(|(_, &m)| m == 0.0)
        .map(|(&v, _)| f64::from(v))
        .collect();
    let count = outside.len().max(1) as f64;
    let mean = outside.iter().sum::<f64>() / count;
    let variance = outside.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
    let floor = (mean + 2.0 * variance.sqrt()) as f32;
    relative
        .iter()
        .zip(&inside)
        .map(|(&v, &m)| if m > 0.0 { (v - floor).max(0.0) } else { 0.0 })
        .collect()
}

/// Step 10: the patch pasted into an `out_h × out_w` plane with its centre of mass at the centre pixel.
fn centred(patch: &[f32], patch_w: usize, out_h: usize, out_w: usize, out_len: usize) -> Vec<f32> {
    let (centre_x, centre_y) = centre_of_mass(patch, patch_w);
    let offset_x = ((out_w / 2) as f64 - centre_x).round() as i64;
    let offset_y = ((out_h / 2) as f64 - centre_y).round() as i64;
    let mut plane = vec![0.0f32; out_len];
    for (y, row) in patch.chunks_exact(patch_w).enumerate() {
        let Some(out_y) = shifted_index(y, offset_y, out_h) else {
            continue;
        };
        for (x, &value) in row.iter().enumerate() {
            if let Some(out_x) = shifted_index(x, offset_x, out_w) {
                plane[out_y * out_w + out_x] = value;
            }
        }
    }
    plane
}

/// `index + offset` when it lies in `0..len`.
fn shifted_index(index: usize, offset: i64, len: usize) -> Option<usize> {
    let shifted = i64::try_from(index).ok()?.checked_add(offset)?;
    usize::try_from(shifted).ok().filter(|&i| i < len)
}

/// A rectangle of pixels: columns `x..x + width`, rows `y..y + height`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    x: usize,
    y: usize,
    width: usize,
    height: usize,
}

/// The smallest rectangle holding every pixel whose ink exceeds [`BOX_THRESHOLD`]; `None` if there is none.
fn ink_bounding_box(ink: &[f32], width: usize) -> Option<Bounds> {
    let mut found: Option<(usize, usize, usize, usize)> = None;
    for (i, _) in ink.iter().enumerate().filter(|(_, &v)| v > BOX_THRESHOLD) {
        let (x, y) = (i % width, i / width);
        found = Some(match found {
            None => (x, y, x, y),
            Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
        });
    }
    found.map(|(x0, y0, x1, y1)| Bounds {
        x: x0,
        y: y0,
        width: x1 - x0 + 1,
        height: y1 - y0 + 1,
    })
}

/// For each of `dst` output cells, the source cells it covers and their weights (summing to 1). Output cell `j`
/// covers the source interval `[j·src/dst, (j+1)·src/dst)`; a source cell's weight is its overlap with that
/// interval divided by the interval's length.
fn area_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let ratio = src as f64 / dst as f64;
    (0..dst)
        .map(|j| {
            let (low, high) = (j as f64 * ratio, (j + 1) as f64 * ratio);
            let first = low.floor() as usize;
            let last = (high.ceil() as usize).min(src);
            (first..last)
                .filter_map(|i| {
                    let overlap = high.min(i as f64 + 1.0) - low.max(i as f64);
                    (overlap > 0.0).then_some((i, (overlap / ratio) as f32))
                })
                .collect()
        })
        .collect()
}

/// Area-averaging resample of the `bounds` region of a `width`-wide map to `out_w × out_h`, done separably:
/// rows first, then columns.
fn resample_area(
    map: &[f32],
    width: usize,
    bounds: &Bounds,
    out_w: usize,
    out_h: usize,
) -> Vec<f32> {
    let columns = area_weights(bounds.width, out_w);
    let rows = area_weights(bounds.height, out_h);
    let mut horizontal = vec![0.0f32; bounds.height * out_w];
    for (y, out_row) in horizontal.chunks_exact_mut(out_w).enumerate() {
        let start = (bounds.y + y) * width + bounds.x;
        let source = &map[start..start + bounds.width];
        for (out, weights) in out_row.iter_mut().zip(&columns) {
            *out = weights.iter().map(|&(i, w)| w * source[i]).sum();
        }
    }
    let mut result = vec![0.0f32; out_h * out_w];
    for (out_row, weights) in result.chunks_exact_mut(out_w).zip(&rows) {
        for &(y, w) in weights {
            let source = &horizontal[y * out_w..(y + 1) * out_w];
            for (out, &value) in out_row.iter_mut().zip(source) {
                *out += w * value;
            }
        }
    }
    result
}

/// Centre of mass `(x, y)` of a `width`-wide map in pixel indices; the geometric centre when the map has no
/// mass.
fn centre_of_mass(map: &[f32], width: usize) -> (f64, f64) {
    let (mut mass, mut sum_x, mut sum_y) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &v) in map.iter().enumerate() {
        let v = f64::from(v);
        mass += v;
        sum_x += v * (i % width) as f64;
        sum_y += v * (i / width) as f64;
    }
    if mass > 0.0 {
        (sum_x / mass, sum_y / mass)
    } else {
        let height = map.len() / width.max(1);
        ((width as f64 - 1.0) / 2.0, (height as f64 - 1.0) / 2.0)
    }
}

#[cfg(test)]
mod tests;
