//! IDX files, the format of the MNIST data set (LeCun, Cortes & Burges), raw or gzip-compressed.
//!
//! Layout, all integers big-endian:
//!
//! ```text
//! magic: 0x00 0x00 <type> <ndims>     type 0x08 = unsigned byte; images 0x00000803, labels 0x00000801
//! ndims × u32 dimension sizes         images: count, height, width; labels: count
//! count·height·width data bytes       row-major, one byte per pixel (0 = background, 255 = full ink)
//! ```
//!
//! Files whose first two bytes are the gzip magic `1f 8b` are decompressed first, with the output capped at
//! [`MAX_DECOMPRESSED_BYTES`] so that a gzip bomb is rejected instead of exhausting memory. Every malformed
//! input (wrong magic, truncated header or data, dimension products that overflow, trailing bytes) is an
//! [`Error::BadIdx`] that says what was found and what was expected.
//!
//! [`IdxImages::image`] turns one image into a `[1, H, W]` tensor with values `pixel / 255` in `[0, 1]`.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Magic number of an image file: unsigned bytes, three dimensions.
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a label file: unsigned bytes, one dimension.
const LABELS_MAGIC: u32 = 0x0000_0801;
/// The largest decompressed size accepted from a gzip stream (256 MiB). MNIST's training images are 47 MB and
/// EMNIST-digits' 188 MB; a larger output is treated as a gzip bomb.
pub const MAX_DECOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A set of 8-bit grayscale images, `count × height × width` bytes in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub count: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// Image `i` as a `[1, height, width]` tensor with values `pixel / 255`.
    pub fn image(&self, i: usize) -> Result<Tensor> {
        let pixels = self.image_bytes(i)?;
        let data = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
        Tensor::from_vec(&[1, self.height, self.width], data)
    }

    /// The images at `indices`, in that order (repetitions allowed); errors on an index out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<IdxImages> {
        let mut pixels = Vec::with_capacity(indices.len().saturating_mul(self.image_len()));
        for &i in indices {
            pixels.extend_from_slice(self.image_bytes(i)?);
        }
        Ok(IdxImages {
            count: indices.len(),
            height: self.height,
            width: self.width,
            pixels,
        })
    }

    /// The first `n` images; errors when the set has fewer.
    pub fn first(&self, n: usize) -> Result<IdxImages> {
        if n > self.count {
            return Err(Error::out_of_range(
                "number of images",
                n,
                format!("0 to the {} of the set", self.count),
            ));
        }
        let bytes = n.saturating_mul(self.image_len()).min(self.pixels.len());
        Ok(IdxImages {
            count: n,
            height: self.height,
            width: self.width,
            pixels: self.pixels[..bytes].to_vec(),
        })
    }

    fn image_len(&self) -> usize {
        self.height.saturating_mul(self.width)
    }

    /// The bytes of image `i`, checked against both `count` and the pixel buffer (the fields are public).
    fn image_bytes(&self, i: usize) -> Result<&[u8]> {
        let len = self.image_len();
        let start = i.checked_mul(len).filter(|_| i < self.count);
        let bytes = start.and_then(|s| self.pixels.get(s..s.checked_add(len)?));
        bytes.ok_or_else(|| {
            Error::out_of_range(
                "image index",
                i,
                format!(
                    "0 to {}: the set has {} images of {}×{} pixels ({} bytes)",
                    self.count.saturating_sub(1),
                    self.count,
                    self.height,
                    self.width,
                    self.pixels.len()
                ),
            )
        })
    }
}

/// Parses an IDX image file (magic `0x00000803`), raw or gzip-compressed.
pub fn parse_images(bytes: &[u8]) -> Result<IdxImages> {
    let raw = gunzip_if_compressed(bytes, MAX_DECOMPRESSED_BYTES)?;
    let (dims, data) = split_header(&raw, IMAGES_MAGIC, "an image file")?;
    let [count, height, width] = dims[..] else {
        return Err(Error::idx(format!(
            "an image file needs 3 dimensions, got {}",
            dims.len()
        )));
    };
    if height == 0 || width == 0 {
        return Err(Error::idx(format!(
            "images of {height}×{width} pixels: both sides must be at least 1"
        )));
    }
    check_payload_len(&dims, data.len())?;
    Ok(IdxImages {
        count,
        height,
        width,
        pixels: data.to_vec(),
    })
}

/// Parses an IDX label file (magic `0x00000801`), raw or gzip-compressed: one byte per example.
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>> {
    let raw = gunzip_if_compressed(bytes, MAX_DECOMPRESSED_BYTES)?;
    let (dims, data) = split_header(&raw, LABELS_MAGIC, "a label file")?;
    check_payload_len(&dims, data.len())?;
    Ok(data.to_vec())
}

/// Any IDX file of unsigned bytes: its dimensions and its data, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Decodes an IDX file of unsigned bytes (type `0x08`) with 1 to 4 dimensions, raw or gzip-compressed: the
/// one IDX decoder, which the JS API exports as `decodeIdx`.
pub fn decode(bytes: &[u8]) -> Result<Idx> {
    let raw = gunzip_if_compressed(bytes, MAX_DECOMPRESSED_BYTES)?;
    let ndims = match raw.get(..4) {
        Some([0, 0, 0x08, n @ 1..=4]) => u32::from(*n),
        Some(_) => {
            return Err(Error::idx(
                "the magic number is not 0x0000080N (unsigned bytes, N = 1 to 4 dimensions)",
            ))
        }
        None => {
            return Err(Error::idx(
                "the file is too short for the 4-byte magic number",
            ))
        }
    };
    let (dims, data) = split_header(&raw, 0x0800 | ndims, "an IDX file of unsigned bytes")?;
    check_payload_len(&dims, data.len())?;
    Ok(Idx {
        dims,
        data: data.to_vec(),
    })
}

/// Reads and parses an IDX image file; parse errors name the file.
pub fn read_images(path: impl AsRef<Path>) -> Result<IdxImages> {
    let path = path.as_ref();
    parse_images(&read_file(path)?).map_err(|e| name_file(e, path))
}

/// Reads and parses an IDX label file; parse errors name the file.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    parse_labels(&read_file(path)?).map_err(|e| name_file(e, path))
}

/// Serializes images as an uncompressed IDX file. Errors when the pixel buffer does not hold exactly
/// `count·height·width` bytes or a dimension does not fit the format's 32-bit fields.
pub fn encode_images(images: &IdxImages) -> Result<Vec<u8>> {
    let dims = [images.count, images.height, images.width];
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if expected != Some(images.pixels.len()) {
        return Err(Error::shape(
            "IDX images to encode (count·height·width pixel bytes)",
            &dims,
            &[images.pixels.len()],
        ));
    }
    encode(IMAGES_MAGIC, &dims, &images.pixels)
}

/// Serializes labels as an uncompressed IDX file.
pub fn encode_labels(labels: &[u8]) -> Result<Vec<u8>> {
    encode(LABELS_MAGIC, &[labels.len()], labels)
}

fn encode(magic: u32, dims: &[usize], data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&magic.to_be_bytes());
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            Error::out_of_range("IDX dimension", d, "0 to 4294967295 (a 32-bit size field)")
        })?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    Ok(out)
}

/// A raw IDX file is at most its header and [`MAX_DECOMPRESSED_BYTES`] of data.
fn read_file(path: &Path) -> Result<Vec<u8>> {
    super::files::read_capped(path, MAX_DECOMPRESSED_BYTES + 4 + 4 * 255)
}

fn name_file(error: Error, path: &Path) -> Error {
    match error {
        Error::BadIdx { reason } => Error::idx(format!("{}: {reason}", path.display())),
        other => other,
    }
}

/// The input itself, or its gzip-decompressed content (at most `limit` bytes) when it starts with the gzip
/// magic.
fn gunzip_if_compressed(bytes: &[u8], limit: u64) -> Result<Cow<'_, [u8]>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::idx(format!("the gzip stream is corrupt: {e}")))?;
    if out.len() as u64 > limit {
        return Err(Error::idx(format!(
            "the gzip stream decompresses to more than {limit} bytes; \
             decompress it yourself if the file is genuine"
        )));
    }
    Ok(Cow::Owned(out))
}

/// Checks the magic number and splits the header's dimensions from the data that follows.
fn split_header<'a>(bytes: &'a [u8], magic: u32, what: &str) -> Result<(Vec<usize>, &'a [u8])> {
    let Some((magic_bytes, rest)) = bytes.split_first_chunk::<4>() else {
        return Err(Error::idx(format!(
            "the file is {} bytes long, too short for the 4-byte magic number",
            bytes.len()
        )));
    };
    let found = u32::from_be_bytes(*magic_bytes);
    if found != magic {
        let hint = match found {
            IMAGES_MAGIC => " (this is an image file)",
            LABELS_MAGIC => " (this is a label file)",
            _ => "",
        };
        return Err(Error::idx(format!(
            "magic number 0x{found:08x}{hint}, expected 0x{magic:08x} for {what}"
        )));
    }
    let ndims = usize::from(magic_bytes[3]);
    let header_len = 4 * ndims;
    let (Some(dim_bytes), Some(data)) = (rest.get(..header_len), rest.get(header_len..)) else {
        return Err(Error::idx(format!(
            "truncated header: {ndims} dimensions need {} bytes, the file has {}",
            4 + header_len,
            bytes.len()
        )));
    };
    let dims = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    Ok((dims, data))
}

/// Checks that the data holds exactly the product of the dimensions in bytes.
fn check_payload_len(dims: &[usize], found: usize) -> Result<()> {
    let Some(expected) = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) else {
        return Err(Error::idx(format!(
            "dimensions {dims:?} multiply to more bytes than can be addressed"
        )));
    };
    if found < expected {
        return Err(Error::idx(format!(
            "truncated data: dimensions {dims:?} need {expected} bytes, {found} follow the header"
        )));
    }
    if found > expected {
        return Err(Error::idx(format!(
            "{} trailing bytes after the {expected} bytes that dimensions {dims:?} describe",
            found - expected
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sample() -> IdxImages {
        IdxImages {
            count: 3,
            height: 2,
            width: 2,
            pixels: vec![0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40],
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn bad_idx_reason(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::BadIdx { reason }) => reason,
            other => panic!("expected BadIdx, got {other:?}"),
        }
    }

    #[test]
    fn first_keeps_the_leading_images_and_refuses_more_than_the_set_has() {
        let set = sample();
        let two = set.first(2).unwrap();
        assert_eq!((two.count, two.height, two.width), (2, 2, 2));
        assert_eq!(two.pixels, &set.pixels[..8]);
        assert_eq!(two.image(1).unwrap(), set.image(1).unwrap());
        assert_eq!(set.first(3).unwrap(), set);
        assert_eq!(set.first(0).unwrap().pixels, Vec::<u8>::new());
        assert!(set.first(4).unwrap_err().to_string().contains("0 to the 3"));
    }

    #[test]
    fn images_header_is_big_endian_and_round_trips_raw_and_gzip() {
        let bytes = encode_images(&sample()).unwrap();
        assert_eq!(
            &bytes[..16],
            &[0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2]
        );
        assert_eq!(bytes.len(), 16 + 12);
        assert_eq!(parse_images(&bytes).unwrap(), sample());
        assert_eq!(parse_images(&gzip(&bytes)).unwrap(), sample());
    }

    #[test]
    fn labels_round_trip_raw_and_gzip() {
        let labels = [7u8, 2, 1, 0, 4];
        let bytes = encode_labels(&labels).unwrap();
        assert_eq!(&bytes[..8], &[0, 0, 8, 1, 0, 0, 0, 5]);
        assert_eq!(parse_labels(&bytes).unwrap(), labels);
        assert_eq!(parse_labels(&gzip(&bytes)).unwrap(), labels);
    }

    #[test]
    fn image_scales_pixels_to_unit_range() {
        let t = sample().image(0).unwrap();
        assert_eq!(t.shape(), &[1, 2, 2]);
        assert_eq!(t.data(), &[0.0, 1.0, 0.2, 0.4]);
        assert!(sample().image(3).is_err());
    }

    #[test]
    fn subset_picks_images_in_order_and_rejects_out_of_range() {
        let s = sample().subset(&[2, 0, 2]).unwrap();
        assert_eq!(s.count, 3);
        assert_eq!(
            s.pixels,
            vec![10, 20, 30, 40, 0, 255, 51, 102, 10, 20, 30, 40]
        );
        assert!(sample().subset(&[1, 3]).is_err());
        let truncated = IdxImages {
            pixels: vec![0; 5],
            ..sample()
        };
        assert!(
            truncated.image(1).is_err(),
            "pixel buffer shorter than count claims"
        );
    }

    #[test]
    fn wrong_magic_names_both_numbers() {
        let labels = encode_labels(&[1, 2]).unwrap();
        let reason = bad_idx_reason(parse_images(&labels));
        assert!(
            reason.contains("0x00000801") && reason.contains("0x00000803"),
            "{reason}"
        );
        assert!(reason.contains("label file"), "{reason}");
        let float_type = [0u8, 0, 0x0d, 3, 0, 0, 0, 0];
        assert!(bad_idx_reason(parse_images(&float_type)).contains("0x00000d03"));
    }

    #[test]
    fn truncation_at_every_length_is_rejected() {
        let bytes = encode_images(&sample()).unwrap();
        for len in 0..bytes.len() {
            let reason = bad_idx_reason(parse_images(&bytes[..len]));
            assert!(!reason.is_empty());
        }
        let labels = encode_labels(&[1, 2, 3]).unwrap();
        for len in 0..labels.len() {
            bad_idx_reason(parse_labels(&labels[..len]));
        }
    }

    #[test]
    fn trailing_bytes_are_rejected_with_their_count() {
        let mut bytes = encode_images(&sample()).unwrap();
        bytes.extend_from_slice(&[9, 9]);
        let reason = bad_idx_reason(parse_images(&bytes));
        assert!(reason.starts_with("2 trailing bytes"), "{reason}");
    }

    #[test]
    fn huge_dimensions_are_rejected_without_allocating() {
        // 0xffffffff³ overflows 64 bits; 0xffffffff × 0xffffffff × 1 does not but exceeds the data.
        let overflowing = [
            0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        ];
        assert!(!bad_idx_reason(parse_images(&overflowing)).is_empty());
        let too_big = [
            0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 1,
        ];
        assert!(bad_idx_reason(parse_images(&too_big)).contains("truncated data"));
        let zero_width = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0];
        assert!(bad_idx_reason(parse_images(&zero_width)).contains("0 pixels"));
    }

    #[test]
    fn gzip_bomb_and_corrupt_gzip_are_rejected() {
        // The same bound as MAX_DECOMPRESSED_BYTES, scaled down so that the test stays small.
        let bomb = gzip(&[0u8; 1001]);
        assert!(bad_idx_reason(gunzip_if_compressed(&bomb, 1000)).contains("more than 1000 bytes"));
        assert_eq!(gunzip_if_compressed(&bomb, 1001).unwrap().len(), 1001);
        let mut corrupt = gzip(&encode_labels(&[1, 2, 3]).unwrap());
        let n = corrupt.len();
        corrupt.truncate(n - 6);
        assert!(bad_idx_reason(parse_labels(&corrupt)).contains("gzip"));
    }

    #[test]
    fn encode_rejects_inconsistent_buffers() {
        let bad = IdxImages {
            count: 4,
            ..sample()
        };
        assert!(encode_images(&bad).is_err());
    }

    #[test]
    fn read_reports_missing_file_and_names_file_on_parse_error() {
        let dir = std::env::temp_dir().join(format!("convscope-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.idx");
        assert!(matches!(read_images(&missing), Err(Error::Io { .. })));
        let path = dir.join("labels.idx");
        std::fs::write(&path, encode_labels(&[3, 1]).unwrap()).unwrap();
        assert_eq!(read_labels(&path).unwrap(), vec![3, 1]);
        let reason = bad_idx_reason(read_images(&path));
        assert!(reason.starts_with(&path.display().to_string()), "{reason}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
