//! The t10k digits written out as a folder of PNG files (8-bit grayscale, white ink on black, named
//! `<label>_<index>.png`), the way MNIST is often shared: a user's own picture set for the dataset views'
//! round trips (`convscope::io::pictures`).

use convscope::io::idx::IdxImages;
use std::path::{Path, PathBuf};

/// An 8-bit grayscale PNG of `width × height` bytes.
pub fn gray_png(width: usize, height: usize, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

/// Writes the first `n` images of `images` into `dir` as `<label>_<index:05>.png`, returning the paths in
/// index order (which is also their name order within a label, not across labels).
pub fn write_digit_pngs(dir: &Path, images: &IdxImages, labels: &[u8], n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let size = images.height * images.width;
    (0..n)
        .map(|i| {
            let path = dir.join(format!("{}_{i:05}.png", labels[i]));
            let bytes = &images.pixels[i * size..(i + 1) * size];
            std::fs::write(&path, gray_png(images.width, images.height, bytes)).unwrap();
            path
        })
        .collect()
}
