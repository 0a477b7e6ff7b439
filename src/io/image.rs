//! Image decoding to luminance: PNG, JPEG, PGM and PPM files and canvas RGBA data.
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
//! The MNIST-style preprocessing of a decoded image, robust to photos of paper, lives in
//! [`super::preprocess`]; [`preprocess_mnist`] is re-exported here.

use std::io::Cursor;
use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

pub use super::preprocess::{preprocess_mnist, BOX_THRESHOLD, MIN_CONTRAST};

/// The largest image accepted, in pixels (50 megapixels).
pub const MAX_PIXELS: usize = 50_000_000;
/// The first 8 bytes of every PNG file.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
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
    let picture = decode_as(bytes, Output::Gray)?;
    Ok(GrayImage {
        width: picture.width,
        height: picture.height,
        pixels: picture.pixels,
    })
}

/// Decodes an image like [`decode`], to RGB planes `[3, H, W]` in `[0, 1]` (gray repeated in the three
/// planes, alpha composited over white in each).
pub fn decode_rgb(bytes: &[u8]) -> Result<Tensor> {
    let picture = decode_as(bytes, Output::Rgb)?;
    Tensor::from_vec(&[3, picture.height, picture.width], picture.pixels)
}

/// Reads and decodes an image file to RGB planes ([`decode_rgb`]).
pub fn read_rgb(path: impl AsRef<Path>) -> Result<Tensor> {
    decode_rgb(&super::files::read_capped(
        path.as_ref(),
        super::files::MAX_IMAGE_BYTES,
    )?)
}

/// What a decoder makes of the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Luminance, one plane.
    Gray,
    /// Three planes R, G, B.
    Rgb,
}

/// Decoded planes: `planes × height × width` values, plane after plane.
struct Picture {
    width: usize,
    height: usize,
    pixels: Vec<f32>,
}

fn decode_as(bytes: &[u8], output: Output) -> Result<Picture> {
    match bytes {
        _ if bytes.starts_with(&PNG_SIGNATURE) => decode_png(bytes, output),
        _ if bytes.starts_with(&JPEG_SIGNATURE) => decode_jpeg(bytes, output),
        [b'P', kind @ (b'2' | b'3' | b'5' | b'6'), ..] => decode_pnm(*kind, bytes, output),
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
    let picture = from_samples(
        width,
        height,
        4,
        rgba.iter().map(|&b| unit8(b)),
        Output::Gray,
    )?;
    Ok(GrayImage {
        width,
        height,
        pixels: picture.pixels,
    })
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

/// The colour of one pixel given as 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA) samples in `[0, 1]`,
/// alpha composited over white.
fn pixel_rgb(samples: &[f32]) -> [f32; 3] {
    match *samples {
        [gray] => [gray; 3],
        [gray, alpha] => [over_white(gray, alpha); 3],
        [r, g, b] => [r, g, b],
        [r, g, b, alpha] => [r, g, b].map(|v| over_white(v, alpha)),
        // Callers pass 1 to 4 samples (see `from_samples`).
        _ => [1.0; 3],
    }
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

/// Luminance or RGB planes from interleaved samples in `[0, 1]`, `channels` (1 to 4) per pixel as in
/// [`pixel_luminance`] and [`pixel_rgb`]. Dimensions must have been checked; errors when the samples run
/// out.
fn from_samples(
    width: usize,
    height: usize,
    channels: usize,
    mut samples: impl Iterator<Item = f32>,
    output: Output,
) -> Result<Picture> {
    let mut pixel = [0.0f32; 4];
    let Some(pixel) = pixel.get_mut(..channels) else {
        return Err(Error::image(format!(
            "{channels} samples per pixel is not supported"
        )));
    };
    let count = width * height;
    let planes = if output == Output::Rgb { 3 } else { 1 };
    let mut pixels = vec![0.0f32; planes * count];
    for at in 0..count {
        for slot in pixel.iter_mut() {
            *slot = samples.next().ok_or_else(|| {
                Error::image(format!(
                    "the pixel data of a {width}×{height} image is incomplete"
                ))
            })?;
        }
        match output {
            Output::Gray => pixels[at] = pixel_luminance(pixel).clamp(0.0, 1.0),
            Output::Rgb => {
                for (k, v) in pixel_rgb(pixel).into_iter().enumerate() {
                    pixels[k * count + at] = v.clamp(0.0, 1.0);
                }
            }
        }
    }
    Ok(Picture {
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

fn decode_png(bytes: &[u8], output: Output) -> Result<Picture> {
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
            output,
        ),
        _ => from_samples(
            width,
            height,
            channels,
            data.iter().map(|&b| unit8(b)),
            output,
        ),
    }
}

fn decode_jpeg(bytes: &[u8], output: Output) -> Result<Picture> {
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
        PixelFormat::L8 => from_samples(width, height, 1, data.iter().map(|&b| unit8(b)), output),
        PixelFormat::L16 => from_samples(
            width,
            height,
            1,
            data.chunks_exact(2)
                .map(|p| f32::from(u16::from_ne_bytes(byte_pair(p))) / 65535.0),
            output,
        ),
        PixelFormat::RGB24 => {
            from_samples(width, height, 3, data.iter().map(|&b| unit8(b)), output)
        }
        PixelFormat::CMYK32 => from_samples(
            width,
            height,
            3,
            data.chunks_exact(4).flat_map(cmyk_to_rgb),
            output,
        ),
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

fn decode_pnm(kind: u8, bytes: &[u8], output: Output) -> Result<Picture> {
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
            output,
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
        from_samples(width, height, channels, values.into_iter(), output)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // JPEGs made with Pillow 12 (`pip install pillow`), quality 100, so every quantization table is all ones:
    //   from PIL import Image; import io
    //   def enc(img, **kw): b = io.BytesIO(); img.save(b, "JPEG", quality=100, optimize=True, **kw); return b.getvalue()
    //   g = Image.new("L", (16, 8), 0); g.paste(255, (8, 0, 16, 8)); enc(g)          # gray_jpeg()
    //   enc(Image.new("RGB", (8, 8), (255, 0, 0)), subsampling=0)                    # red_jpeg()
    //   enc(Image.new("CMYK", (8, 8), (0, 0, 0, 255)))                               # cmyk_jpeg(BLACK_CMYK_SCAN)
    //   enc(Image.new("CMYK", (8, 8), (255, 0, 0, 0)))                               # cmyk_jpeg(CYAN_CMYK_SCAN)
    // Every 8×8 block is uniform, so the DCT keeps only DC terms and decoding is exact up to DC quantization.
    // Each file is rebuilt from its segments: start of image, an APP segment, quantization tables of ones, the
    // frame (SOF0), the Huffman tables, the scan header and the entropy-coded scan with the end-of-image marker.
    const JFIF_APP0: &[u8] = &[
        0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ];
    const ADOBE_APP14: &[u8] = &[
        0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00,
        0x00,
    ];
    const GRAY_FRAME: &[u8] = &[
        0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00,
    ];
    const RED_FRAME: &[u8] = &[
        0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x08, 0x00, 0x08, 0x03, 0x01, 0x11, 0x00, 0x02, 0x11,
        0x01, 0x03, 0x11, 0x01,
    ];
    const CMYK_FRAME: &[u8] = &[
        0xff, 0xc0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04, 0x43, 0x11, 0x00, 0x4d, 0x11,
        0x00, 0x59, 0x11, 0x00, 0x4b, 0x11, 0x00,
    ];
    const GRAY_SCAN: &[u8] = &[
        0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x3f, 0xf3, 0xfc, 0x3f, 0xff,
        0xd9,
    ];
    const RED_SCAN: &[u8] = &[
        0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x17,
        0xc5, 0x3a, 0xfe, 0x1f, 0xff, 0xd9,
    ];
    /// The CMYK files' scan header; their scans differ.
    const CMYK_SCAN_HEADER: &[u8] = &[
        0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00, 0x4d, 0x00, 0x59, 0x00, 0x4b, 0x00, 0x00, 0x3f,
        0x00,
    ];
    const BLACK_CMYK_SCAN: &[u8] = &[0x7f, 0x07, 0xf0, 0x7f, 0x09, 0xff, 0x00, 0xbf, 0xff, 0xd9];
    const CYAN_CMYK_SCAN: &[u8] = &[0x9f, 0xf9, 0xfc, 0x1f, 0xc1, 0xfc, 0x3f, 0xff, 0xd9];

    /// A Huffman table: `(class << 4 | id, how many codes of each length from 1, the symbols)`.
    type Huffman<'a> = (u8, &'a [u8], &'a [u8]);

    /// Start of image, `app`, `tables` quantization tables of ones (ids 0, 1, ...), `frame`, the `huffman`
    /// tables, then `scan`.
    fn jpeg(app: &[u8], tables: u8, frame: &[u8], huffman: &[Huffman], scan: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0xff, 0xd8];
        out.extend_from_slice(app);
        for id in 0..tables {
            out.extend_from_slice(&[0xff, 0xdb, 0x00, 0x43, id]);
            out.extend_from_slice(&[1; 64]);
        }
        out.extend_from_slice(frame);
        for &(table, counts, symbols) in huffman {
            let len = (2 + 1 + 16 + symbols.len()) as u16;
            out.extend_from_slice(&[0xff, 0xc4]);
            out.extend_from_slice(&len.to_be_bytes());
            out.push(table);
            out.extend((0..16).map(|i| counts.get(i).copied().unwrap_or(0)));
            out.extend_from_slice(symbols);
        }
        scan.iter().for_each(|part| out.extend_from_slice(part));
        out
    }

    fn gray_jpeg() -> Vec<u8> {
        jpeg(
            JFIF_APP0,
            1,
            GRAY_FRAME,
            &[(0x00, &[0x01], &[0x0b]), (0x10, &[0x01], &[0x00])],
            &[GRAY_SCAN],
        )
    }

    fn red_jpeg() -> Vec<u8> {
        jpeg(
            JFIF_APP0,
            2,
            RED_FRAME,
            &[
                (0x00, &[0x01], &[0x09]),
                (0x10, &[0x01], &[0x00]),
                (0x01, &[0x01, 0x01], &[0x09, 0x0a]),
                (0x11, &[0x01], &[0x00]),
            ],
            &[RED_SCAN],
        )
    }

    fn cmyk_jpeg(scan: &[u8]) -> Vec<u8> {
        jpeg(
            ADOBE_APP14,
            1,
            CMYK_FRAME,
            &[
                (0x00, &[0x01, 0x01], &[0x0a, 0x0b]),
                (0x10, &[0x01], &[0x00]),
            ],
            &[CMYK_SCAN_HEADER, scan],
        )
    }

    pub(crate) fn assert_close(got: &[f32], want: &[f32], tolerance: f32) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tolerance,
                "pixel {i}: {g} vs {w} (all: {got:?})"
            );
        }
    }

    pub(crate) fn bad_image_reason<T: std::fmt::Debug>(result: Result<T>) -> String {
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
        let gray = decode(&gray_jpeg()).unwrap();
        assert_eq!((gray.width, gray.height), (16, 8));
        let mut expected = vec![0.0; 128];
        for row in expected.chunks_exact_mut(16) {
            row[8..].fill(1.0);
        }
        assert_close(&gray.pixels, &expected, 2.0 / 255.0);

        let red = decode(&red_jpeg()).unwrap();
        assert_close(&red.pixels, &[0.299; 64], 2.0 / 255.0);
        let black = decode(&cmyk_jpeg(BLACK_CMYK_SCAN)).unwrap();
        assert_close(&black.pixels, &[0.0; 64], 2.0 / 255.0);
        // Cyan: R = 0, G = B = 1.
        let cyan = decode(&cmyk_jpeg(CYAN_CMYK_SCAN)).unwrap();
        assert_close(&cyan.pixels, &[0.587 + 0.114; 64], 2.0 / 255.0);

        assert!(bad_image_reason(decode(&gray_jpeg()[..100])).starts_with("invalid JPEG"));
    }

    #[test]
    fn jpeg_taller_than_the_decoder_can_count_is_refused() {
        // SOF0 marker, then length (2 bytes), precision (1), height (2).
        let gray = gray_jpeg();
        let sof = gray.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let mut tall = gray;
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
}
