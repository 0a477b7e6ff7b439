//! PNG output of an [`RgbImage`]: 8-bit RGB, no interlacing, default compression.

use std::path::Path;

use super::canvas::RgbImage;
use crate::error::{Error, Result};

/// Encodes `image` as a PNG file in memory.
pub fn encode_png(image: &RgbImage) -> Result<Vec<u8>> {
    let invalid = || {
        Error::internal(format!(
            "cannot encode a {}×{} image from {} bytes as PNG (sides must be 1..2³¹, 3 bytes per pixel)",
            image.width,
            image.height,
            image.data.len()
        ))
    };
    let width = u32::try_from(image.width).map_err(|_| invalid())?;
    let height = u32::try_from(image.height).map_err(|_| invalid())?;
    let expected = image
        .width
        .checked_mul(image.height)
        .and_then(|n| n.checked_mul(3));
    if width == 0 || height == 0 || expected != Some(image.data.len()) {
        return Err(invalid());
    }
    let encoding_error =
        |e: ::png::EncodingError| Error::internal(format!("PNG encoding failed: {e}"));
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(encoding_error)?;
    writer
        .write_image_data(&image.data)
        .map_err(encoding_error)?;
    writer.finish().map_err(encoding_error)?;
    Ok(out)
}

/// Encodes `image` and writes it to `path`.
pub fn write_png(path: impl AsRef<Path>, image: &RgbImage) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_png(image)?;
    std::fs::write(path, bytes).map_err(|e| Error::io(path.display().to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::decode;

    #[test]
    fn png_round_trips_through_the_decoder() {
        let mut img = RgbImage::new(3, 2, [255, 255, 255]);
        img.fill_rect(0, 0, 1, 1, [0, 0, 0]);
        img.fill_rect(1, 0, 1, 1, [255, 0, 0]);
        img.fill_rect(2, 1, 1, 1, [0, 0, 255]);
        let gray = decode(&encode_png(&img).unwrap()).unwrap();
        assert_eq!((gray.width, gray.height), (3, 2));
        let expected = [0.0, 0.299, 1.0, 1.0, 1.0, 0.114];
        for (got, want) in gray.pixels.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{:?}", gray.pixels);
        }
        let decoder = ::png::Decoder::new(std::io::Cursor::new(encode_png(&img).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buffer).unwrap();
        assert_eq!(buffer, img.data, "the RGB bytes themselves survive");
    }

    #[test]
    fn inconsistent_or_empty_images_are_rejected() {
        let empty = RgbImage::new(0, 5, [0, 0, 0]);
        assert!(encode_png(&empty).is_err());
        let short = RgbImage {
            data: vec![0; 5],
            ..RgbImage::new(2, 1, [0, 0, 0])
        };
        assert!(encode_png(&short).is_err());
    }

    #[test]
    fn write_png_reports_an_unwritable_path() {
        let img = RgbImage::new(1, 1, [0, 0, 0]);
        let dir = std::env::temp_dir().join(format!("convscope-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("one.png");
        write_png(&path, &img).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), encode_png(&img).unwrap());
        let missing = dir.join("no-such-dir").join("x.png");
        assert!(matches!(write_png(&missing, &img), Err(Error::Io { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
