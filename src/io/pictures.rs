//! A data set of pictures — a user's own PNG files — as an [`IdxImages`] set of the model's input size, so
//! that every dataset view reads it exactly as it reads the t10k IDX files.
//!
//! Each picture is decoded by [`super::image::decode`] (PNG; JPEG and PGM/PPM are read too) to luminance `Y`,
//! then made an input of `H × W` pixels (28×28 for LeNet-5):
//! - **a picture of the input size is taken as it is**, pixel for pixel: the ink is `Y` when the picture's
//!   border is dark (the MNIST digits written out as PNG files, white on black) and `1 − Y` when its border is
//!   light (dark ink on white paper), the polarity rule of step 2 of [`super::preprocess`] (the median of the
//!   outermost ring of pixels above ½ means light paper). Nothing is moved or rescaled: a set already made
//!   like MNIST stays the set it is;
//! - **a picture of any other size goes through the MNIST-style preprocessing of `--image`**
//!   ([`preprocess_mnist`]: ink found, size-normalized to a 20-pixel box, centred by its centre of mass).
//!
//! The set is stored like an IDX file, one byte per pixel, `round(255 · ink)`: an 8-bit grayscale PNG of the
//! input size gives back its bytes exactly (the t10k digits written as PNG files are the IDX set, bit for
//! bit), and a preprocessed picture is rounded to steps of 1/255 (at most 0.002 from the input `--image`
//! gives the model).
//!
//! Labels come from an IDX label file in the pictures' order, or from the file names
//! ([`labels_from_names`]): a name that starts with the class number, `7_0001.png`, `7-a.png` or `7.png`, is
//! labelled 7. A folder is read in the byte order of its file names ([`list_pngs`]).
//!
//! Hostile input: the number of pictures is checked (at least one, at most the caller's cap) before any is
//! decoded; every error names the picture (`digits/3_12.png: bad image: ...`).

use std::path::{Path, PathBuf};

use super::files::{read_capped, MAX_IMAGE_BYTES};
use super::idx::IdxImages;
use super::image::{decode, preprocess_mnist, GrayImage};
use super::preprocess::border_median;
use crate::error::{Error, Result};

/// The most pictures the CLI reads into one set (MNIST's training set has 60,000; use an IDX file for more).
pub const MAX_PICTURES: usize = 100_000;

/// A set of pictures being read: every picture pushed becomes one image of `height × width` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct PictureSet {
    images: IdxImages,
    names: Vec<String>,
}

impl PictureSet {
    /// An empty set for `count` pictures of input size `height × width`; errors when `count` is 0 or more
    /// than `max` (checked before anything is decoded).
    pub fn new(count: usize, height: usize, width: usize, max: usize) -> Result<PictureSet> {
        if count == 0 || count > max {
            return Err(Error::out_of_range(
                "the number of pictures in the data set",
                count,
                format!("1 to {max} (use an IDX file for larger sets)"),
            ));
        }
        Ok(PictureSet {
            images: IdxImages {
                count: 0,
                height,
                width,
                pixels: Vec::with_capacity(count.saturating_mul(height).saturating_mul(width)),
            },
            names: Vec::with_capacity(count),
        })
    }

    /// Decodes the picture `name` (its file's `bytes`) and appends it as the next image.
    pub fn push(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let named = |e: Error| match e {
            Error::BadImage { reason } => Error::image(format!("{name}: {reason}")),
            other => Error::image(format!("{name}: {other}")),
        };
        let gray = decode(bytes).map_err(named)?;
        let ink = input_ink(&gray, self.images.height, self.images.width).map_err(named)?;
        self.images.pixels.extend(
            ink.iter()
                .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
        );
        self.images.count += 1;
        self.names.push(name.to_string());
        Ok(())
    }

    /// The images, in the order pushed, and the pictures' names.
    pub fn finish(self) -> (IdxImages, Vec<String>) {
        (self.images, self.names)
    }
}

/// The ink of a decoded picture as an `height × width` input in `[0, 1]` (see the module header).
fn input_ink(gray: &GrayImage, height: usize, width: usize) -> Result<Vec<f32>> {
    if (gray.height, gray.width) != (height, width) {
        return Ok(preprocess_mnist(gray, 1, height, width)?.data().to_vec());
    }
    if border_median(gray) > 0.5 {
        Ok(gray.pixels.iter().map(|&y| 1.0 - y).collect())
    } else {
        Ok(gray.pixels.clone())
    }
}

/// Reads the picture files at `paths` (each at most [`MAX_IMAGE_BYTES`]) into a set of `height × width`
/// images, refusing more than `max` files before reading any.
pub fn read_pictures(
    paths: &[PathBuf],
    height: usize,
    width: usize,
    max: usize,
) -> Result<(IdxImages, Vec<String>)> {
    let mut set = PictureSet::new(paths.len(), height, width, max)?;
    for path in paths {
        set.push(
            &path.display().to_string(),
            &read_capped(path, MAX_IMAGE_BYTES)?,
        )?;
    }
    Ok(set.finish())
}

/// The `.png` files (any case) directly in folder `dir`, sorted by name (byte order).
pub fn list_pngs(dir: &Path) -> Result<Vec<PathBuf>> {
    let shown = || dir.display().to_string();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(shown(), e))? {
        let path = entry.map_err(|e| Error::io(shown(), e))?.path();
        let png = path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("png"));
        if png && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(Error::io(shown(), "the folder holds no .png files"));
    }
    files.sort();
    Ok(files)
}

/// The label of every picture from its file name (the part after the last `/` or `\`): the class number
/// it starts with, `7_0001.png` → 7, which must be below `classes`.
pub fn labels_from_names(names: &[String], classes: usize) -> Result<Vec<u8>> {
    names
        .iter()
        .map(|name| {
            let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
            let digits = file.bytes().take_while(u8::is_ascii_digit).count();
            file[..digits]
                .parse::<usize>()
                .ok()
                .filter(|&class| class < classes)
                .and_then(|class| u8::try_from(class).ok())
                .ok_or_else(|| {
                    Error::option(
                        "labels",
                        format!(
                            "the file name {file:?} does not start with a class number from 0 to {} \
                             (name the pictures like 7_0001.png, or give the labels as an IDX file)",
                            classes.saturating_sub(1)
                        ),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `width × height` gray levels (written as RGB, so that the colour path is read too).
    fn gray_png(width: usize, height: usize, data: &[u8]) -> Vec<u8> {
        let data = data.iter().flat_map(|&v| [v, v, v]).collect();
        crate::render::encode_png(&crate::render::RgbImage {
            width,
            height,
            data,
        })
        .unwrap()
    }

    #[test]
    fn a_picture_of_the_input_size_keeps_its_bytes_and_light_paper_is_inverted() {
        let dark = [0u8, 0, 0, 0, 200, 0, 0, 0, 0];
        let light: Vec<u8> = dark.iter().map(|&b| 255 - b).collect();
        let mut set = PictureSet::new(2, 3, 3, 10).unwrap();
        set.push("dark.png", &gray_png(3, 3, &dark)).unwrap();
        set.push("light.png", &gray_png(3, 3, &light)).unwrap();
        let (images, names) = set.finish();
        assert_eq!((images.count, images.height, images.width), (2, 3, 3));
        assert_eq!(&images.pixels[..9], &dark);
        assert_eq!(&images.pixels[9..], &dark, "1 − Y of the light picture");
        assert_eq!(names, ["dark.png", "light.png"]);
    }

    #[test]
    fn a_larger_picture_is_preprocessed_like_an_image_input() {
        // A 56×56 white page with a dark bar: the preprocessing's output, rounded to bytes.
        let mut page = vec![255u8; 56 * 56];
        for y in 10..46 {
            for x in 26..30 {
                page[y * 56 + x] = 0;
            }
        }
        let png = gray_png(56, 56, &page);
        let expected = preprocess_mnist(&decode(&png).unwrap(), 1, 28, 28).unwrap();
        let mut set = PictureSet::new(1, 28, 28, 1).unwrap();
        set.push("bar.png", &png).unwrap();
        let (images, _) = set.finish();
        for (&byte, &v) in images.pixels.iter().zip(expected.data()) {
            assert!((f32::from(byte) / 255.0 - v).abs() <= 0.5 / 255.0 + 1e-6);
        }
        assert!(images.pixels.contains(&255), "the strongest ink is 1");
    }

    #[test]
    fn counts_and_bad_pictures_are_refused_with_the_picture_named() {
        for count in [0, 11] {
            let e = PictureSet::new(count, 28, 28, 10).unwrap_err().to_string();
            assert!(e.contains("1 to 10"), "{e}");
        }
        let png = gray_png(3, 3, &[0; 9]);
        let mut set = PictureSet::new(2, 3, 3, 10).unwrap();
        let e = set.push("cut.png", &png[..png.len() - 20]).unwrap_err();
        assert!(
            matches!(&e, Error::BadImage { reason } if reason.starts_with("cut.png: ")),
            "{e:?}"
        );
        let e = set.push("notes.png", b"hello").unwrap_err().to_string();
        assert!(e.contains("notes.png: unrecognized format"), "{e}");
        let e = set
            .push("blank.png", &gray_png(4, 4, &[255; 16]))
            .unwrap_err();
        assert!(e.to_string().contains("blank.png: no ink found"), "{e}");
        assert_eq!(set.finish().0.count, 0, "nothing half-pushed");
    }

    #[test]
    fn labels_are_the_leading_class_numbers_of_the_file_names() {
        let names: Vec<String> = ["a/7_0001.png", "3-x.png", "0.png", "c\\9_1.PNG"]
            .map(String::from)
            .to_vec();
        assert_eq!(labels_from_names(&names, 10).unwrap(), [7, 3, 0, 9]);
        for bad in [
            "x7.png",
            "10_a.png",
            "_1.png",
            "99999999999999999999999.png",
        ] {
            let e = labels_from_names(&[bad.to_string()], 10)
                .unwrap_err()
                .to_string();
            assert!(e.contains("from 0 to 9"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_folder_is_listed_in_name_order_png_files_only() {
        let dir = std::env::temp_dir().join(format!("convscope-pictures-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub.png")).unwrap();
        for name in ["b.png", "a.PNG", "c.txt"] {
            std::fs::write(dir.join(name), [0u8]).unwrap();
        }
        let listed = list_pngs(&dir).unwrap();
        assert_eq!(listed, [dir.join("a.PNG"), dir.join("b.png")]);
        let empty = dir.join("sub.png");
        assert!(list_pngs(&empty)
            .unwrap_err()
            .to_string()
            .contains("no .png files"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
