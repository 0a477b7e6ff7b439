//! Image decoding to luminance, and the preprocessing that turns any digit picture into an MNIST-like input.
//!
//! # Decoding
//! [`decode`] recognizes the format by its magic bytes (never by a file name):
//! - PNG (`89 50 4E 47 ...`): every colour type and bit depth; palettes and `tRNS` are expanded, 16-bit samples
//!   kept at full precision;
//! - JPEG (`FF D8 FF`): grayscale, RGB and CMYK (converted as `R = (1 − C)(1 − K)`, ...), 16-bit lossless
//!   grayscale scaled by 65535;
//! - PGM/PPM (`P2`, `P5` gray, `P3`, `P6` colour): `maxval` up to 65535 (two big-endian bytes per sample above
//!   255), `#` comments in the header.
//!
//! Colour becomes luminance with the Rec. 601 weights `Y = 0.299 R + 0.587 G + 0.114 B` (what PIL's
//! `convert("L")` uses), and alpha is composited over white, `Y' = α·Y + (1 − α)`, because a transparent canvas
//! shows white behind the pen. Samples are taken as stored (no gamma decoding). The result, [`GrayImage`],
//! holds luminance in `[0, 1]` (0 = black), row-major. Declared dimensions are checked before any pixel buffer
//! is allocated: zero-sized images and images over [`MAX_PIXELS`] are rejected.
//!
//! # MNIST-style preprocessing
//! [`preprocess_mnist`] follows the preparation of MNIST (LeCun et al., 1998): "size normalized to fit in a
//! 20x20 pixel box while preserving their aspect ratio ... centered in a 28x28 image by computing the center of
//! mass of the pixels". For an `out_h × out_w` output:
//! 1. **Polarity.** The background level `b` is the median of the outermost ring of pixels. MNIST has white ink
//!    on black, so ink is `b − Y` when the background is light (`b > 0.5`) and `Y − b` otherwise, clipped at 0.
//!    Subtracting `b` (not 0 or 1) also turns grey paper into a clean zero background.
//! 2. **Contrast.** Ink is divided by its maximum, so the strongest stroke is 1. When that maximum is below
//!    [`MIN_CONTRAST`] the image has no ink and the function returns an error.
//! 3. **Bounding box** of the pixels whose normalized ink exceeds [`BOX_THRESHOLD`].
//! 4. **Size normalization.** The box is scaled, aspect ratio preserved, so that its longer side becomes
//!    `round(20/28 · min(out_h, out_w))` pixels (20 for 28×28), with area averaging: each output pixel is the
//!    mean of the source area it covers, which anti-aliases when shrinking and is exact at scale 1. The scaled
//!    patch is stretched again so its strongest pixel is 1 (thin strokes of a large image would otherwise
//!    average away to a faint grey).
//! 5. **Centring.** The patch is pasted, shifted by a whole number of pixels, so that its centre of mass (in
//!    pixel indices) lands on pixel `(out_h / 2, out_w / 2)`, which is (14, 14) for 28×28: the convention the
//!    MNIST files follow (run on the t10k digits themselves, this procedure returns 97.6% of them with a mean
//!    absolute change below 0.01). Parts that fall outside are clipped, as in MNIST.
//! 6. The `[out_h, out_w]` map is replicated into `channels` planes: a `[C, H, W]` tensor in `[0, 1]`, ink = 1.

use std::io::Cursor;
use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The largest image accepted, in pixels (50 megapixels).
pub const MAX_PIXELS: usize = 50_000_000;
/// The smallest ink contrast (in luminance units, black to white = 1) that counts as a drawing.
pub const MIN_CONTRAST: f32 = 0.1;
/// Pixels whose normalized ink exceeds this value define the digit's bounding box.
pub const BOX_THRESHOLD: f32 = 0.1;
/// MNIST digits fill a 20-pixel box inside the 28-pixel image.
const BOX_FRACTION: f64 = 20.0 / 28.0;
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const JPEG_SIGNATURE: [u8; 3] = [0xFF, 0xD8, 0xFF];
/// jpeg-decoder 0.3 computes `(block_row + 1) · 8` in 16 bits, which overflows (a panic where overflow checks
/// are on) for images taller than 8191 blocks of 8 rows; such JPEGs are refused up front.
const JPEG_MAX_HEIGHT: usize = 8191 * 8;

/// A grayscale image: luminance in `[0, 1]` (0 = black, 1 = white), `height × width` values row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f32>,
}

/// Decodes a PNG, JPEG, PGM or PPM image, recognized by its magic bytes, to luminance.
pub fn decode(bytes: &[u8]) -> Result<GrayImage> {
    match bytes {
        _ if bytes.starts_with(&PNG_SIGNATURE) => decode_png(bytes),
        _ if bytes.starts_with(&JPEG_SIGNATURE) => decode_jpeg(bytes),
        [b'P', kind @ (b'2' | b'3' | b'5' | b'6'), ..] => decode_pnm(*kind, bytes),
        _ => Err(Error::image(
            "unrecognized format: expected a PNG, JPEG, PGM (P2/P5) or PPM (P3/P6) file",
        )),
    }
}

/// Reads and decodes an image file.
pub fn read(path: impl AsRef<Path>) -> Result<GrayImage> {
    let path = path.as_ref();
    decode(&super::files::read_capped(
        path,
        super::files::MAX_IMAGE_BYTES,
    )?)
}

/// Luminance of RGBA pixels (a canvas's `ImageData`: 4 bytes per pixel, row-major), alpha over white.
pub fn from_rgba(rgba: &[u8], width: usize, height: usize) -> Result<GrayImage> {
    let count = check_dimensions(width, height)?;
    if rgba.len() != count * 4 {
        return Err(Error::image(format!(
            "RGBA data of {width}×{height} pixels needs {} bytes, got {}",
            count * 4,
            rgba.len()
        )));
    }
    from_samples(width, height, 4, rgba.iter().map(|&b| unit8(b)))
}

/// Checks declared dimensions (both sides at least 1, at most [`MAX_PIXELS`] pixels) and returns the pixel
/// count.
pub fn check_dimensions(width: usize, height: usize) -> Result<usize> {
    if width == 0 || height == 0 {
        return Err(Error::image(format!(
            "the image is {width}×{height} pixels; both sides must be at least 1"
        )));
    }
    match width.checked_mul(height) {
        Some(count) if count <= MAX_PIXELS => Ok(count),
        _ => Err(Error::image(format!(
            "the image is {width}×{height} pixels, over the limit of {MAX_PIXELS} pixels; downscale it first"
        ))),
    }
}

fn unit8(sample: u8) -> f32 {
    f32::from(sample) / 255.0
}

/// The two bytes of a `chunks_exact(2)` item as an array.
fn byte_pair(pair: &[u8]) -> [u8; 2] {
    match *pair {
        [first, second] => [first, second],
        _ => [0, 0],
    }
}

/// Rec. 601 luma.
fn luma(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// `value` composited with opacity `alpha` over white.
fn over_white(value: f32, alpha: f32) -> f32 {
    alpha * value + (1.0 - alpha)
}

/// Luminance of one pixel given as 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) samples in `[0, 1]`.
fn pixel_luminance(samples: &[f32]) -> f32 {
    match *samples {
        [gray] => gray,
        [gray, alpha] => over_white(gray, alpha),
        [r, g, b] => luma(r, g, b),
        [r, g, b, alpha] => over_white(luma(r, g, b), alpha),
        // Callers pass 1 to 4 samples (see `from_samples`).
        _ => 1.0,
    }
}

/// A grayscale image from interleaved samples in `[0, 1]`, `channels` (1 to 4) per pixel as in
/// [`pixel_luminance`]. Dimensions must have been checked; errors when the samples run out.
fn from_samples(
    width: usize,
    height: usize,
    channels: usize,
    mut samples: impl Iterator<Item = f32>,
) -> Result<GrayImage> {
    let mut pixel = [0.0f32; 4];
    let Some(pixel) = pixel.get_mut(..channels) else {
        return Err(Error::image(format!(
            "{channels} samples per pixel is not supported"
        )));
    };
    let count = width * height;
    let mut pixels = Vec::with_capacity(count);
    for _ in 0..count {
        for slot in pixel.iter_mut() {
            *slot = samples.next().ok_or_else(|| {
                Error::image(format!(
                    "the pixel data of a {width}×{height} image is incomplete"
                ))
            })?;
        }
        pixels.push(pixel_luminance(pixel).clamp(0.0, 1.0));
    }
    Ok(GrayImage {
        width,
        height,
        pixels,
    })
}

/// png 0.18 panics on a `PLTE` chunk that is not a whole number of RGB entries or holds more than 256 of
/// them (both forbidden by the PNG specification), so such files are refused before decoding.
fn check_png_palette(bytes: &[u8]) -> Result<()> {
    let mut at = PNG_SIGNATURE.len();
    while let Some(header) = bytes.get(at..at + 8) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if &header[4..] == b"PLTE" && (length == 0 || length % 3 != 0 || length > 3 * 256) {
            return Err(Error::image(format!(
                "invalid PNG: a palette of {length} bytes is not 1 to 256 RGB entries"
            )));
        }
        match at.checked_add(12).and_then(|a| a.checked_add(length)) {
            Some(next) => at = next,
            None => break,
        }
    }
    Ok(())
}

fn decode_png(bytes: &[u8]) -> Result<GrayImage> {
    check_png_palette(bytes)?;
    let png_error = |e: png::DecodingError| Error::image(format!("invalid PNG: {e}"));
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palettes become RGB, low bit depths 8 bits, tRNS an alpha channel; 16-bit samples stay 16-bit.
    decoder.set_transformations(png::Transformations::EXPAND);
    let header = decoder.read_header_info().map_err(png_error)?;
    let (width, height) = (header.width as usize, header.height as usize);
    check_dimensions(width, height)?;
    let mut reader = decoder.read_info().map_err(png_error)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::image("the PNG's frame does not fit in memory"))?;
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).map_err(png_error)?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(Error::image("the PNG's palette was not expanded"));
        }
    };
    let (width, height) = (frame.width as usize, frame.height as usize);
    check_dimensions(width, height)?;
    let data = buffer.get(..frame.buffer_size()).unwrap_or(&buffer);
    match frame.bit_depth {
        png::BitDepth::Sixteen => from_samples(
            width,
            height,
            channels,
            data.chunks_exact(2)
                .map(|p| f32::from(u16::from_be_bytes(byte_pair(p))) / 65535.0),
        ),
        _ => from_samples(width, height, channels, data.iter().map(|&b| unit8(b))),
    }
}

fn decode_jpeg(bytes: &[u8]) -> Result<GrayImage> {
    let jpeg_error = |e: jpeg_decoder::Error| Error::image(format!("invalid JPEG: {e}"));
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| Error::image("invalid JPEG: no frame header"))?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    check_dimensions(width, height)?;
    if height > JPEG_MAX_HEIGHT {
        return Err(Error::image(format!(
            "JPEGs taller than {JPEG_MAX_HEIGHT} rows are not supported (this one has {height}); \
             convert it to PNG"
        )));
    }
    decoder.set_max_decoding_buffer_size(MAX_PIXELS * 4);
    let data = decoder.decode().map_err(jpeg_error)?;
    use jpeg_decoder::PixelFormat;
    match info.pixel_format {
        PixelFormat::L8 => from_samples(width, height, 1, data.iter().map(|&b| unit8(b))),
        PixelFormat::L16 => from_samples(
            width,
            height,
            1,
            data.chunks_exact(2)
                .map(|p| f32::from(u16::from_ne_bytes(byte_pair(p))) / 65535.0),
        ),
        PixelFormat::RGB24 => from_samples(width, height, 3, data.iter().map(|&b| unit8(b))),
        PixelFormat::CMYK32 => {
            from_samples(width, height, 3, data.chunks_exact(4).flat_map(cmyk_to_rgb))
        }
    }
}

/// `R = (1 − C)(1 − K)`, likewise for G with M and B with Y.
fn cmyk_to_rgb(cmyk: &[u8]) -> [f32; 3] {
    match *cmyk {
        [c, m, y, k] => {
            let white = 1.0 - unit8(k);
            [
                (1.0 - unit8(c)) * white,
                (1.0 - unit8(m)) * white,
                (1.0 - unit8(y)) * white,
            ]
        }
        // Callers pass `chunks_exact(4)`.
        _ => [1.0; 3],
    }
}

/// A cursor over a PNM header: decimal numbers separated by whitespace and `#` comments.
struct PnmTokens<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl PnmTokens<'_> {
    fn skip_whitespace_and_comments(&mut self) {
        while let Some(&byte) = self.bytes.get(self.position) {
            if byte == b'#' {
                while let Some(&c) = self.bytes.get(self.position) {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.position += 1;
                }
            } else if byte.is_ascii_whitespace() {
                self.position += 1;
            } else {
                break;
            }
        }
    }

    /// The next decimal number; `what` names it in errors.
    fn number(&mut self, what: &str) -> Result<u32> {
        self.skip_whitespace_and_comments();
        let start = self.position;
        let mut value: u32 = 0;
        while let Some(&digit) = self.bytes.get(self.position).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u32::from(digit - b'0')))
                .ok_or_else(|| Error::image(format!("PNM {what} is too large")))?;
            self.position += 1;
        }
        if self.position == start {
            return Err(Error::image(format!(
                "PNM: expected the {what} (a decimal number) at byte {start}"
            )));
        }
        Ok(value)
    }
}

fn decode_pnm(kind: u8, bytes: &[u8]) -> Result<GrayImage> {
    let mut tokens = PnmTokens { bytes, position: 2 };
    let width = tokens.number("width")? as usize;
    let height = tokens.number("height")? as usize;
    let maxval = tokens.number("maxval")?;
    if !(1..=65535).contains(&maxval) {
        return Err(Error::image(format!(
            "PNM maxval {maxval} is outside 1..=65535"
        )));
    }
    let count = check_dimensions(width, height)?;
    let channels = if matches!(kind, b'2' | b'5') { 1 } else { 3 };
    let sample_count = count * channels;
    let scale = maxval as f32;
    let out_of_range = || {
        Error::image(format!(
            "PNM sample larger than the declared maxval {maxval}"
        ))
    };
    let truncated = |needed: usize| {
        Error::image(format!(
            "truncated PNM: {width}×{height} pixels need {needed} bytes of samples, {} follow the header",
            bytes.len().saturating_sub(tokens.position)
        ))
    };
    if matches!(kind, b'5' | b'6') {
        // Exactly one whitespace byte separates maxval from the raster.
        if !bytes
            .get(tokens.position)
            .is_some_and(u8::is_ascii_whitespace)
        {
            return Err(Error::image(
                "PNM: expected one whitespace byte after maxval",
            ));
        }
        let start = tokens.position + 1;
        let bytes_per_sample = if maxval > 255 { 2 } else { 1 };
        let needed = sample_count * bytes_per_sample;
        let raster = start
            .checked_add(needed)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| truncated(needed))?;
        let values: Vec<u32> = if bytes_per_sample == 2 {
            raster
                .chunks_exact(2)
                .map(|p| u32::from(u16::from_be_bytes(byte_pair(p))))
                .collect()
        } else {
            raster.iter().map(|&b| u32::from(b)).collect()
        };
        if values.iter().any(|&v| v > maxval) {
            return Err(out_of_range());
        }
        from_samples(
            width,
            height,
            channels,
            values.into_iter().map(|v| v as f32 / scale),
        )
    } else {
        // Every ASCII sample takes at least one byte: a bound on the allocation below.
        if sample_count > bytes.len().saturating_sub(tokens.position) {
            return Err(truncated(sample_count));
        }
        let mut values = Vec::with_capacity(sample_count);
        for _ in 0..sample_count {
            let value = tokens.number("sample")?;
            if value > maxval {
                return Err(out_of_range());
            }
            values.push(value as f32 / scale);
        }
        from_samples(width, height, channels, values.into_iter())
    }
}

/// Turns a picture of a digit into an MNIST-like `[channels, out_h, out_w]` tensor in `[0, 1]`, ink = 1; see
/// the module documentation for the procedure. Errors on a blank image or impossible sizes.
pub fn preprocess_mnist(
    img: &GrayImage,
    channels: usize,
    out_h: usize,
    out_w: usize,
) -> Result<Tensor> {
    let out_len = out_h.checked_mul(out_w).filter(|&n| n <= MAX_PIXELS);
    let total = out_len.and_then(|n| n.checked_mul(channels));
    let (Some(out_len), Some(total)) = (out_len, total) else {
        return Err(Error::invalid(format!(
            "output of {channels}×{out_h}×{out_w} values is too large"
        )));
    };
    if total == 0 {
        return Err(Error::invalid(format!(
            "output shape {channels}×{out_h}×{out_w} has a zero dimension"
        )));
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

    let ink = normalized_ink(img)?;
    let bounds = ink_bounding_box(&ink, img.width)
        .ok_or_else(|| Error::image("no ink found: the image is blank"))?;
    let target = ((BOX_FRACTION * out_h.min(out_w) as f64).round() as usize).max(1);
    let longer = bounds.width.max(bounds.height) as f64;
    let scaled_side =
        |side: usize| ((side as f64 * target as f64 / longer).round() as usize).max(1);
    let (patch_w, patch_h) = (scaled_side(bounds.width), scaled_side(bounds.height));
    let mut patch = resample_area(&ink, img.width, &bounds, patch_w, patch_h);
    let peak = patch.iter().fold(0.0f32, |m, &v| m.max(v));
    if peak > 0.0 {
        patch.iter_mut().for_each(|v| *v = (*v / peak).min(1.0));
    }

    let (centre_x, centre_y) = centre_of_mass(&patch, patch_w);
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
    let data = plane.repeat(channels);
    Tensor::from_vec(&[channels, out_h, out_w], data)
}

/// `index + offset` when it lies in `0..len`.
fn shifted_index(index: usize, offset: i64, len: usize) -> Option<usize> {
    let shifted = i64::try_from(index).ok()?.checked_add(offset)?;
    usize::try_from(shifted).ok().filter(|&i| i < len)
}

/// Steps 1–2 of the procedure: ink relative to the border's median level, scaled so that its maximum is 1.
fn normalized_ink(img: &GrayImage) -> Result<Vec<f32>> {
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
    let (_, &mut background, _) = border.select_nth_unstable_by(middle, f32::total_cmp);
    let light_background = background > 0.5;
    let mut ink: Vec<f32> = img
        .pixels
        .iter()
        .map(|&v| {
            let deviation = if light_background {
                background - v
            } else {
                v - background
            };
            deviation.max(0.0)
        })
        .collect();
    let peak = ink.iter().fold(0.0f32, |m, &v| m.max(v));
    if peak < MIN_CONTRAST {
        return Err(Error::image(format!(
            "no ink found: the image is blank (its strongest stroke differs from the {} background by {peak:.3}, \
             less than {MIN_CONTRAST}); draw or load a digit",
            if light_background { "light" } else { "dark" }
        )));
    }
    ink.iter_mut().for_each(|v| *v = (*v / peak).min(1.0));
    Ok(ink)
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
mod tests {
    use super::*;

    // JPEGs made with Pillow 12 (`pip install pillow`):
    //   from PIL import Image; import io
    //   def enc(img, **kw): b = io.BytesIO(); img.save(b, "JPEG", quality=100, optimize=True, **kw); return b.getvalue()
    //   g = Image.new("L", (16, 8), 0); g.paste(255, (8, 0, 16, 8)); enc(g)          # GRAY_JPEG
    //   enc(Image.new("RGB", (8, 8), (255, 0, 0)), subsampling=0)                    # RED_JPEG
    //   enc(Image.new("CMYK", (8, 8), (0, 0, 0, 255)))                               # BLACK_CMYK_JPEG
    //   enc(Image.new("CMYK", (8, 8), (255, 0, 0, 0)))                               # CYAN_CMYK_JPEG
    // Every 8×8 block is uniform, so the DCT keeps only DC terms and decoding is exact up to DC quantization.
    const GRAY_JPEG: &[u8] = &[
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff,
        0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00,
        0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0b, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08,
        0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xf3, 0xfc, 0x3f, 0xff, 0xd9,
    ];
    const RED_JPEG: &[u8] = &[
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff,
        0xdb, 0x00, 0x43, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x08,
        0x00, 0x08, 0x03, 0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
        0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x09, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00, 0x15,
        0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x09, 0x0a, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x0c,
        0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x17, 0xc5, 0x3a, 0xfe, 0x1f,
        0xff, 0xd9,
    ];
    const BLACK_CMYK_JPEG: &[u8] = &[
        0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x00,
        0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04, 0x43, 0x11, 0x00, 0x4d, 0x11, 0x00, 0x59, 0x11,
        0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0b, 0xff, 0xc4, 0x00,
        0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00, 0x4d, 0x00, 0x59, 0x00,
        0x4b, 0x00, 0x00, 0x3f, 0x00, 0x7f, 0x07, 0xf0, 0x7f, 0x09, 0xff, 0x00, 0xbf, 0xff, 0xd9,
    ];
    const CYAN_CMYK_JPEG: &[u8] = &[
        0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00,
        0x00, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
        0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xff, 0xc0, 0x00,
        0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04, 0x43, 0x11, 0x00, 0x4d, 0x11, 0x00, 0x59, 0x11,
        0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0b, 0xff, 0xc4, 0x00,
        0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00, 0x4d, 0x00, 0x59, 0x00,
        0x4b, 0x00, 0x00, 0x3f, 0x00, 0x9f, 0xf9, 0xfc, 0x1f, 0xc1, 0xfc, 0x3f, 0xff, 0xd9,
    ];

    fn assert_close(got: &[f32], want: &[f32], tolerance: f32) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tolerance,
                "pixel {i}: {g} vs {w} (all: {got:?})"
            );
        }
    }

    fn bad_image_reason<T: std::fmt::Debug>(result: Result<T>) -> String {
        match result {
            Err(Error::BadImage { reason }) => reason,
            other => panic!("expected BadImage, got {other:?}"),
        }
    }

    #[test]
    fn pgm_binary_and_ascii_decode_to_known_luminance() {
        let mut p5 = b"P5\n# made by hand\n3 1\n255\n".to_vec();
        p5.extend_from_slice(&[0, 51, 255]);
        let img = decode(&p5).unwrap();
        assert_eq!((img.width, img.height), (3, 1));
        assert_close(&img.pixels, &[0.0, 0.2, 1.0], 1e-6);

        let p2 = b"P2 2 2 # comment after the height\n10\n0 5\n10\n  2\n";
        let img = decode(p2).unwrap();
        assert_eq!((img.width, img.height), (2, 2));
        assert_close(&img.pixels, &[0.0, 0.5, 1.0, 0.2], 1e-6);
    }

    #[test]
    fn sixteen_bit_pgm_reads_two_big_endian_bytes_per_sample() {
        let mut p5 = b"P5 3 1 1000\n".to_vec();
        for v in [0u16, 500, 1000] {
            p5.extend_from_slice(&v.to_be_bytes());
        }
        assert_close(&decode(&p5).unwrap().pixels, &[0.0, 0.5, 1.0], 1e-6);
    }

    #[test]
    fn ppm_colour_becomes_rec601_luma() {
        let mut p6 = b"P6 3 1 255\n".to_vec();
        p6.extend_from_slice(&[255, 0, 0, 0, 255, 0, 0, 0, 255]);
        assert_close(&decode(&p6).unwrap().pixels, &[0.299, 0.587, 0.114], 1e-6);
        let p3 = b"P3\n3 1\n1\n1 0 0  0 1 0  1 1 1\n";
        assert_close(&decode(p3).unwrap().pixels, &[0.299, 0.587, 1.0], 1e-6);
    }

    #[test]
    fn pnm_rejects_bad_headers_and_samples_with_reasons() {
        let cases: [(&[u8], &str); 8] = [
            (b"P5 2 1 0\n\x00\x00", "maxval 0"),
            (b"P5 2 1 70000\n\x00\x00\x00\x00", "maxval 70000"),
            (b"P2 2 1 9\n3 10\n", "larger than the declared maxval 9"),
            (b"P5 2 2 255\n\x00\x00\x00", "truncated PNM"),
            (b"P2 4 4 255\n0 0", "truncated PNM"),
            (b"P5 1 1 255x\x00", "one whitespace byte"),
            (b"P5 0 4 255\n", "0×4 pixels"),
            (b"P5 10000 10000 255\n", "over the limit"),
        ];
        for (bytes, expected) in cases {
            let reason = bad_image_reason(decode(bytes));
            assert!(reason.contains(expected), "{reason:?} lacks {expected:?}");
        }
        assert!(bad_image_reason(decode(b"P2 99999999999 1 1\n")).contains("too large"));
        assert!(bad_image_reason(decode(b"P2 # only a comment")).contains("width"));
    }

    // PNG decoding is tested in tests/fuzz_parsers.rs, on files written with the png crate by the helper
    // that also writes the fuzzer's seed PNGs.

    #[test]
    fn jpeg_gray_rgb_and_cmyk_decode_to_known_luminance() {
        let gray = decode(GRAY_JPEG).unwrap();
        assert_eq!((gray.width, gray.height), (16, 8));
        let mut expected = vec![0.0; 128];
        for row in expected.chunks_exact_mut(16) {
            row[8..].fill(1.0);
        }
        assert_close(&gray.pixels, &expected, 2.0 / 255.0);

        let red = decode(RED_JPEG).unwrap();
        assert_close(&red.pixels, &[0.299; 64], 2.0 / 255.0);
        let black = decode(BLACK_CMYK_JPEG).unwrap();
        assert_close(&black.pixels, &[0.0; 64], 2.0 / 255.0);
        // Cyan: R = 0, G = B = 1.
        let cyan = decode(CYAN_CMYK_JPEG).unwrap();
        assert_close(&cyan.pixels, &[0.587 + 0.114; 64], 2.0 / 255.0);

        assert!(bad_image_reason(decode(&GRAY_JPEG[..100])).starts_with("invalid JPEG"));
    }

    #[test]
    fn jpeg_taller_than_the_decoder_can_count_is_refused() {
        // SOF0 marker, then length (2 bytes), precision (1), height (2).
        let sof = GRAY_JPEG
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .unwrap();
        let mut tall = GRAY_JPEG.to_vec();
        tall[sof + 5..sof + 7].copy_from_slice(&65529u16.to_be_bytes());
        assert!(bad_image_reason(decode(&tall)).contains("taller than 65528 rows"));
        // The same edit to a smaller height is read (the patch is in the right place).
        tall[sof + 5..sof + 7].copy_from_slice(&4u16.to_be_bytes());
        assert_eq!(decode(&tall).unwrap().height, 4);
    }

    #[test]
    fn unknown_formats_and_empty_input_are_rejected() {
        for bytes in [&b""[..], b"GIF89a", b"P4 1 1\n\x00", b"\x89PNX"] {
            assert!(bad_image_reason(decode(bytes)).starts_with("unrecognized format"));
        }
    }

    #[test]
    fn from_rgba_composites_over_white_and_checks_length() {
        let img = from_rgba(
            &[0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 255, 255],
            2,
            2,
        )
        .unwrap();
        assert_close(&img.pixels, &[0.0, 1.0, 1.0, 0.114], 1e-6);
        assert!(from_rgba(&[0; 15], 2, 2).is_err());
        assert!(from_rgba(&[], 0, 0).is_err());
    }

    #[test]
    fn area_weights_split_overlapping_cells() {
        let weights = area_weights(3, 2);
        assert_eq!(weights.len(), 2);
        let expected = [
            [(0, 2.0 / 3.0), (1, 1.0 / 3.0)],
            [(1, 1.0 / 3.0), (2, 2.0 / 3.0)],
        ];
        for (got, want) in weights.iter().zip(expected) {
            for (&(gi, gw), (wi, ww)) in got.iter().zip(want) {
                assert_eq!(gi, wi);
                assert!((gw - ww).abs() < 1e-6);
            }
        }
        assert_eq!(
            area_weights(4, 4),
            (0..4).map(|i| vec![(i, 1.0)]).collect::<Vec<_>>()
        );
        assert_eq!(area_weights(1, 3), vec![vec![(0, 1.0)]; 3]);
    }

    /// A `width × height` image of `background` with the given rectangles (x, y, w, h, value) painted on it.
    fn canvas(
        width: usize,
        height: usize,
        background: f32,
        rects: &[(usize, usize, usize, usize, f32)],
    ) -> GrayImage {
        let mut pixels = vec![background; width * height];
        for &(x0, y0, w, h, value) in rects {
            for y in y0..y0 + h {
                pixels[y * width + x0..y * width + x0 + w].fill(value);
            }
        }
        GrayImage {
            width,
            height,
            pixels,
        }
    }

    /// Bounding box (x0, y0, x1, y1) inclusive of the values above 0.5 in a square plane.
    fn plane_box(plane: &[f32], width: usize) -> (usize, usize, usize, usize) {
        let ink: Vec<usize> = (0..plane.len()).filter(|&i| plane[i] > 0.5).collect();
        let xs = ink.iter().map(|i| i % width);
        let ys = ink.iter().map(|i| i / width);
        (
            xs.clone().min().unwrap(),
            ys.clone().min().unwrap(),
            xs.max().unwrap(),
            ys.max().unwrap(),
        )
    }

    #[test]
    fn square_blob_becomes_a_centred_20_pixel_square() {
        // A 30×30 black square on white, far from the centre of a 100×100 image.
        let img = canvas(100, 100, 1.0, &[(50, 10, 30, 30, 0.0)]);
        let out = preprocess_mnist(&img, 1, 28, 28).unwrap();
        assert_eq!(out.shape(), &[1, 28, 28]);
        // Scaled by 20/30 to 20×20 with centre of mass (9.5, 9.5), pasted at offset round(14 − 9.5) = 5.
        for (i, &v) in out.data().iter().enumerate() {
            let (x, y) = (i % 28, i / 28);
            let inside = (5..25).contains(&x) && (5..25).contains(&y);
            assert!(
                (v - if inside { 1.0 } else { 0.0 }).abs() < 1e-5,
                "({x}, {y}) = {v}"
            );
        }
    }

    #[test]
    fn dark_on_light_equals_its_inverse_and_grey_paper_equals_white() {
        // An "L" with an anti-aliased grey edge.
        let rects = [
            (20, 10, 6, 40, 1.0),
            (20, 44, 25, 6, 1.0),
            (26, 10, 1, 34, 0.4),
        ];
        let light_on_dark = canvas(60, 60, 0.0, &rects);
        let mut dark_on_light = light_on_dark.clone();
        dark_on_light.pixels.iter_mut().for_each(|v| *v = 1.0 - *v);
        let a = preprocess_mnist(&light_on_dark, 1, 28, 28).unwrap();
        let b = preprocess_mnist(&dark_on_light, 1, 28, 28).unwrap();
        assert_close(a.data(), b.data(), 1e-6);
        // Grey paper (0.8) with ink at 0.2: the same contrast relative to its background.
        let mut grey_paper = dark_on_light.clone();
        grey_paper
            .pixels
            .iter_mut()
            .for_each(|v| *v = 0.2 + 0.6 * *v);
        let c = preprocess_mnist(&grey_paper, 1, 28, 28).unwrap();
        assert_close(a.data(), c.data(), 1e-5);
        assert!(a.data().iter().any(|&v| v > 0.99));
    }

    /// A 28×28 MNIST-like "0": a ring 20 rows tall with grey side rims and a thicker bottom, centre of mass
    /// near pixel (14, 14).
    fn mnist_like_ring() -> GrayImage {
        canvas(
            28,
            28,
            0.0,
            &[
                (8, 4, 13, 20, 0.5),
                (9, 4, 11, 20, 1.0),
                (11, 7, 7, 13, 0.0),
            ],
        )
    }

    #[test]
    fn mnist_like_digit_is_left_unchanged() {
        let img = mnist_like_ring();
        let (cx, cy) = centre_of_mass(&img.pixels, 28);
        assert!(
            (cx - 14.0).abs() < 0.5 && (cy - 14.0).abs() < 0.5,
            "({cx}, {cy})"
        );
        let out = preprocess_mnist(&img, 1, 28, 28).unwrap();
        assert_close(out.data(), &img.pixels, 1e-6);
    }

    #[test]
    fn off_centre_digit_is_translated_so_its_centre_of_mass_is_central() {
        // A "7": bar on top, stem on the right, 20 tall, centre of mass off to the right and up.
        let img = canvas(28, 28, 0.0, &[(2, 1, 16, 3, 1.0), (14, 4, 4, 17, 0.8)]);
        let out = preprocess_mnist(&img, 1, 28, 28).unwrap();
        let (cx, cy) = centre_of_mass(out.data(), 28);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "({cx}, {cy})"
        );
        // The digit is 20 tall already, so the pixels are only moved: same multiset of values.
        let sorted = |v: &[f32]| {
            let mut v = v.to_vec();
            v.sort_by(f32::total_cmp);
            v
        };
        assert_eq!(sorted(out.data()), sorted(&img.pixels));
    }

    #[test]
    fn blank_images_are_rejected() {
        for img in [
            canvas(28, 28, 1.0, &[]),
            canvas(5, 3, 0.3, &[]),
            // A single pixel is its own border, hence background.
            canvas(1, 1, 0.0, &[]),
        ] {
            let reason = bad_image_reason(preprocess_mnist(&img, 1, 28, 28));
            assert!(
                reason.starts_with("no ink found: the image is blank"),
                "{reason}"
            );
        }
        // Paper texture with a contrast of 0.05 is still blank.
        let faint = canvas(40, 40, 0.9, &[(10, 10, 5, 5, 0.85)]);
        assert!(bad_image_reason(preprocess_mnist(&faint, 1, 28, 28)).starts_with("no ink found"));
    }

    #[test]
    fn any_input_size_gives_a_valid_map_with_a_20_pixel_box() {
        let mut diagonal = canvas(1500, 1000, 1.0, &[]);
        for i in 0..1000 {
            diagonal.pixels[i * 1500 + 100 + i] = 0.0;
        }
        let cases = [
            (
                "1×5 with one dark pixel",
                canvas(1, 5, 1.0, &[(0, 2, 1, 1, 0.0)]),
                20,
            ),
            (
                "landscape stroke",
                canvas(300, 40, 1.0, &[(10, 18, 280, 3, 0.0)]),
                20,
            ),
            (
                "portrait stroke",
                canvas(7, 500, 0.0, &[(3, 5, 1, 490, 1.0)]),
                20,
            ),
            ("one-pixel diagonal", diagonal, 20),
        ];
        for (name, img, expected_side) in cases {
            let out = preprocess_mnist(&img, 1, 28, 28).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(out.data().iter().all(|v| (0.0..=1.0).contains(v)), "{name}");
            assert!(
                (out.min_max().1 - 1.0).abs() < 1e-6,
                "{name}: peak {:?}",
                out.min_max()
            );
            let (x0, y0, x1, y1) = plane_box(out.data(), 28);
            assert_eq!((x1 - x0 + 1).max(y1 - y0 + 1), expected_side, "{name}");
        }
    }

    #[test]
    fn output_size_and_channels_follow_the_request() {
        let img = mnist_like_ring();
        let out = preprocess_mnist(&img, 3, 32, 40).unwrap();
        assert_eq!(out.shape(), &[3, 32, 40]);
        let plane = out.channel(0).unwrap();
        assert_eq!(out.channel(1).unwrap(), plane);
        assert_eq!(out.channel(2).unwrap(), plane);
        // The box's longer side is round(20/28 · 32) = 23.
        let (x0, y0, x1, y1) = plane_box(plane, 40);
        assert_eq!((y1 - y0 + 1), 23, "box {:?}", (x0, y0, x1, y1));
    }

    #[test]
    fn preprocess_rejects_bad_arguments() {
        let img = mnist_like_ring();
        assert!(preprocess_mnist(&img, 0, 28, 28).is_err());
        assert!(preprocess_mnist(&img, 1, 0, 28).is_err());
        assert!(preprocess_mnist(&img, 1, usize::MAX, 2).is_err());
        let short = GrayImage {
            pixels: vec![0.0; 10],
            ..img.clone()
        };
        assert!(preprocess_mnist(&short, 1, 28, 28).is_err());
        let mut nan = img;
        nan.pixels[3] = f32::NAN;
        assert!(preprocess_mnist(&nan, 1, 28, 28).is_err());
    }

    #[test]
    fn real_mnist_digits_change_little() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/mnist/t10k-images-idx3-ubyte.gz"
        );
        let images = crate::io::idx::read_images(path).unwrap();
        // MNIST's digits were made by this procedure, so it should (nearly) reproduce them.
        let mut unchanged = 0;
        for i in 0..200 {
            let original = images.image(i).unwrap();
            let img = GrayImage {
                width: 28,
                height: 28,
                pixels: original.data().to_vec(),
            };
            let out = preprocess_mnist(&img, 1, 28, 28).unwrap();
            let mean_abs: f32 = out
                .data()
                .iter()
                .zip(original.data())
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>()
                / 784.0;
            assert!(mean_abs < 0.1, "digit {i}: mean |difference| {mean_abs}");
            unchanged += usize::from(mean_abs < 0.01);
        }
        assert!(unchanged >= 195, "only {unchanged} of 200 digits kept");
    }
}
