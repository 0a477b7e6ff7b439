//! Fuzzing of the file parsers with thousands of deterministic mutations of valid files: IDX (raw and gzip),
//! PNG, JPEG, PGM/PPM, safetensors weights and the model manifest. Every input must give `Ok` with sane values or an `Err` with a non-empty reason;
//! a panic fails the test and names the mutation that caused it. Decoded images also go through the MNIST
//! preprocessing, the path a user's upload takes.
//!
//! The PNG decoder's answers on valid files (every colour type and depth) and its refusals (a palette that is
//! not whole RGB entries, a size over the pixel limit) are checked here too, on files written by [`png_file`],
//! the helper that writes the seed PNGs.
//!
//! One-off runs of 1,000,000 mutations per seed file (set `MUTATIONS_PER_SEED`) found two panics inside the
//! decoders, both now refused up front in `io::image`: png 0.18's palette expansion on a `PLTE` chunk that is
//! not whole RGB entries, and jpeg-decoder 0.3's 16-bit row counter on JPEGs taller than 65528 rows.

mod common;

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{crc32, fix_png_crcs, mutations, Mutator};
use convscope::io::idx::{self, IdxImages};
use convscope::io::image::{self, GrayImage, MAX_PIXELS};
use convscope::io::pictures::PictureSet;
use convscope::io::safetensors;
use convscope::model::manifest::Manifest;
use convscope::model::network::Network;
use convscope::{Error, Result, Tensor};

const MUTATIONS_PER_SEED: usize = 8000;

// JPEGs made with Pillow 12 (`pip install pillow`):
//   from PIL import Image, ImageDraw; import io
//   p = Image.new("RGB", (24, 16), (250, 250, 245)); p.paste((20, 30, 40), (8, 3, 12, 13))
//   p.save(b := io.BytesIO(), "JPEG", quality=80, optimize=True, progressive=True, subsampling=2)  # PROGRESSIVE_RGB_JPEG
//   g = Image.new("L", (16, 16), 255); ImageDraw.Draw(g).line((3, 2, 12, 2, 6, 14), fill=0, width=2)
//   g.save(b := io.BytesIO(), "JPEG", quality=75, optimize=True)                                  # BASELINE_GRAY_JPEG
/// 24×16, progressive, 4:2:0 chroma subsampling.
const PROGRESSIVE_RGB_JPEG: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x06, 0x04, 0x05, 0x06, 0x05, 0x04, 0x06,
    0x06, 0x05, 0x06, 0x07, 0x07, 0x06, 0x08, 0x0a, 0x10, 0x0a, 0x0a, 0x09, 0x09, 0x0a, 0x14, 0x0e,
    0x0f, 0x0c, 0x10, 0x17, 0x14, 0x18, 0x18, 0x17, 0x14, 0x16, 0x16, 0x1a, 0x1d, 0x25, 0x1f, 0x1a,
    0x1b, 0x23, 0x1c, 0x16, 0x16, 0x20, 0x2c, 0x20, 0x23, 0x26, 0x27, 0x29, 0x2a, 0x29, 0x19, 0x1f,
    0x2d, 0x30, 0x2d, 0x28, 0x30, 0x25, 0x28, 0x29, 0x28, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x07, 0x07,
    0x07, 0x0a, 0x08, 0x0a, 0x13, 0x0a, 0x0a, 0x13, 0x28, 0x1a, 0x16, 0x1a, 0x28, 0x28, 0x28, 0x28,
    0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28,
    0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28,
    0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0x28, 0xff, 0xc2,
    0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x18, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xff, 0xc4, 0x00, 0x16, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x07, 0xff, 0xc4, 0x00, 0x14, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff,
    0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x10, 0x03, 0x10, 0x00, 0x00, 0x01, 0xd4, 0x08, 0xae,
    0x22, 0x0b, 0xaa, 0x1f, 0xff, 0xc4, 0x00, 0x17, 0x10, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x03, 0x10, 0x00, 0xff, 0xda, 0x00,
    0x08, 0x01, 0x01, 0x00, 0x01, 0x05, 0x02, 0xe0, 0x12, 0xb2, 0x1a, 0x01, 0xb6, 0x3f, 0x3f, 0xff,
    0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x10, 0xff, 0xda, 0x00, 0x08, 0x01, 0x03, 0x01, 0x01, 0x3f, 0x01, 0x3f,
    0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xff, 0xda, 0x00, 0x08, 0x01, 0x02, 0x01, 0x01, 0x3f, 0x01,
    0x3f, 0xff, 0xc4, 0x00, 0x1c, 0x10, 0x00, 0x01, 0x04, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x11, 0x12, 0x10, 0x13, 0x71, 0x00, 0xff,
    0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x06, 0x3f, 0x02, 0xf3, 0xfb, 0x92, 0xd8, 0xa4, 0x45, 0x47,
    0x72, 0xfe, 0xe5, 0x36, 0x6f, 0x11, 0x53, 0xdc, 0x7f, 0xff, 0xc4, 0x00, 0x1b, 0x10, 0x00, 0x01,
    0x05, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x10,
    0x11, 0x31, 0x41, 0x51, 0x61, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x21,
    0xf7, 0x55, 0x3a, 0x13, 0x67, 0x27, 0x17, 0xaa, 0x9d, 0x18, 0xb3, 0x81, 0xa9, 0xff, 0xda, 0x00,
    0x0c, 0x03, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10, 0xf7, 0xef, 0xff, 0xc4, 0x00,
    0x16, 0x11, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x10, 0x31, 0xff, 0xda, 0x00, 0x08, 0x01, 0x03, 0x01, 0x01, 0x3f, 0x10, 0x35,
    0x7f, 0xff, 0xc4, 0x00, 0x16, 0x11, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x10, 0xff, 0xda, 0x00, 0x08, 0x01, 0x02, 0x01,
    0x01, 0x3f, 0x10, 0x24, 0x73, 0xff, 0xc4, 0x00, 0x19, 0x10, 0x00, 0x02, 0x03, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x71, 0x10, 0x31, 0x41, 0x00,
    0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x10, 0xe7, 0x35, 0xf5, 0x72, 0x28, 0x03,
    0x65, 0x4d, 0x7d, 0x5c, 0x8a, 0x01, 0xd8, 0xff, 0xd9,
];
/// 16×16, baseline, grayscale, with AC coefficients.
const BASELINE_GRAY_JPEG: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08,
    0x07, 0x07, 0x07, 0x09, 0x09, 0x08, 0x0a, 0x0c, 0x14, 0x0d, 0x0c, 0x0b, 0x0b, 0x0c, 0x19, 0x12,
    0x13, 0x0f, 0x14, 0x1d, 0x1a, 0x1f, 0x1e, 0x1d, 0x1a, 0x1c, 0x1c, 0x20, 0x24, 0x2e, 0x27, 0x20,
    0x22, 0x2c, 0x23, 0x1c, 0x1c, 0x28, 0x37, 0x29, 0x2c, 0x30, 0x31, 0x34, 0x34, 0x34, 0x1f, 0x27,
    0x39, 0x3d, 0x38, 0x32, 0x3c, 0x2e, 0x33, 0x34, 0x32, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10,
    0x00, 0x10, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x17, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x05, 0x06, 0x07, 0xff,
    0xc4, 0x00, 0x24, 0x10, 0x00, 0x02, 0x01, 0x04, 0x02, 0x02, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x11, 0x00, 0x12, 0x15, 0x21, 0x61,
    0x13, 0x31, 0x41, 0x42, 0x51, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0xd5,
    0xf2, 0x4b, 0x1e, 0x55, 0x73, 0xb8, 0xc7, 0x35, 0x8f, 0x31, 0xf0, 0xb4, 0xab, 0x10, 0x46, 0xa7,
    0xf1, 0x91, 0x54, 0xf6, 0x7d, 0x92, 0x5f, 0xb3, 0x9d, 0x8d, 0x82, 0x06, 0xbe, 0x3e, 0x78, 0x8f,
    0x14, 0x8b, 0x30, 0x5c, 0xf2, 0xe1, 0x45, 0x74, 0xcb, 0x64, 0xbb, 0xda, 0xed, 0xb4, 0xe8, 0x26,
    0xd5, 0xb6, 0x3a, 0x50, 0xd5, 0x32, 0x0e, 0xc2, 0x3d, 0x84, 0x3d, 0x82, 0xc6, 0x55, 0xc9, 0x56,
    0x04, 0x17, 0x41, 0xfd, 0x1c, 0xb4, 0xbe, 0x5c, 0x9e, 0xcf, 0x63, 0xad, 0xb8, 0x45, 0x47, 0x3d,
    0x6c, 0xd0, 0x44, 0xcf, 0x1d, 0x2c, 0x11, 0xb3, 0xbc, 0xcf, 0xfa, 0xa0, 0x0a, 0xac, 0x7d, 0x9d,
    0x0d, 0xe8, 0xeb, 0xee, 0x7d, 0x03, 0xc0, 0xf1, 0x2b, 0x13, 0x63, 0xd8, 0xfc, 0x54, 0xb5, 0x0f,
    0x1c, 0xd7, 0x09, 0x9d, 0xaa, 0xae, 0x15, 0x08, 0xaa, 0x3e, 0xbd, 0x4c, 0x87, 0xb4, 0x8f, 0xe9,
    0x57, 0x63, 0xb1, 0xd0, 0xf4, 0x08, 0x50, 0xa3, 0xf1, 0xcf, 0xff, 0xd9,
];

// The png crate cannot write interlaced files; this one was made with pypng 0.20220715 (`pip install pypng`):
//   rows = [[(x * 37 + y * 91 + c * 53) * 211 % 65536 for x in range(5) for c in range(4)] for y in range(4)]
//   png.Writer(5, 4, greyscale=False, alpha=True, bitdepth=16, interlace=True, compression=9).write(f, rows)
/// 5×4, RGBA, 16 bits per sample, Adam7-interlaced.
const INTERLACED_RGBA16_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04, 0x10, 0x06, 0x00, 0x00, 0x01, 0x61, 0xa4, 0x19,
    0x95, 0x00, 0x00, 0x00, 0xb3, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x01, 0xa8, 0x00, 0x57, 0xff,
    0x00, 0x00, 0x00, 0x2b, 0xaf, 0x57, 0x5e, 0x83, 0x0d, 0x00, 0x79, 0xfc, 0xa5, 0xab, 0xd1, 0x5a,
    0xfd, 0x09, 0x00, 0x3c, 0xfe, 0x68, 0xad, 0x94, 0x5c, 0xc0, 0x0b, 0x00, 0x96, 0x02, 0xc1, 0xb1,
    0xed, 0x60, 0x19, 0x0f, 0xd3, 0x00, 0xfe, 0xaf, 0x2a, 0x5e, 0x56, 0x0d, 0x0f, 0xfe, 0x3b, 0xad,
    0x67, 0x5c, 0x93, 0x0b, 0x00, 0x1e, 0x7f, 0x4a, 0x2e, 0x75, 0xdd, 0xa1, 0x8c, 0x5b, 0x7d, 0x87,
    0x2c, 0xb2, 0xdb, 0xde, 0x8a, 0x00, 0xb4, 0x81, 0xe0, 0x30, 0x0b, 0xdf, 0x37, 0x8e, 0xf1, 0x7f,
    0x1d, 0x2e, 0x48, 0xdd, 0x74, 0x8c, 0x00, 0x4b, 0x01, 0x76, 0xb0, 0xa2, 0x5f, 0xce, 0x0e, 0x69,
    0x80, 0x95, 0x2f, 0xc0, 0xde, 0xec, 0x8d, 0x87, 0xff, 0xb3, 0xae, 0xdf, 0x5d, 0x0b, 0x0c, 0xa6,
    0x7e, 0xd2, 0x2d, 0xfd, 0xdc, 0x29, 0x8b, 0xc4, 0xfd, 0xf0, 0xac, 0x1c, 0x5b, 0x48, 0x0a, 0x00,
    0xe1, 0x03, 0x0c, 0xb2, 0x38, 0x61, 0x64, 0x10, 0xff, 0x82, 0x2b, 0x31, 0x56, 0xe0, 0x82, 0x8f,
    0x1e, 0x01, 0x49, 0xb0, 0x75, 0x5f, 0xa1, 0x0e, 0x3c, 0x80, 0x68, 0x2f, 0x93, 0xde, 0xbf, 0x8d,
    0x5a, 0xff, 0x86, 0xae, 0xb2, 0x5d, 0xde, 0x0c, 0x59, 0xee, 0x4c, 0x6f, 0x6e, 0xa0, 0x3d, 0xbc,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The message of an error, checked to say something.
fn assert_explained(error: &Error, input: &str) {
    let reason = match error {
        Error::BadImage { reason } | Error::BadIdx { reason } => reason.clone(),
        other => other.to_string(),
    };
    assert!(!reason.trim().is_empty(), "{input}: empty error {error:?}");
}

fn check_gray_image(result: Result<GrayImage>, input: &str) {
    let img = match result {
        Ok(img) => img,
        Err(e) => return assert_explained(&e, input),
    };
    assert!(
        img.width > 0 && img.height > 0,
        "{input}: {}×{}",
        img.width,
        img.height
    );
    assert!(img.width * img.height <= MAX_PIXELS, "{input}: too large");
    assert_eq!(img.pixels.len(), img.width * img.height, "{input}");
    assert!(
        img.pixels.iter().all(|v| (0.0..=1.0).contains(v)),
        "{input}: luminance outside [0, 1]"
    );
    match image::preprocess_mnist(&img, 1, 28, 28) {
        Ok(t) => {
            assert_eq!(t.shape(), &[1, 28, 28], "{input}");
            assert!(
                t.data().iter().all(|v| (0.0..=1.0).contains(v)),
                "{input}: preprocessed outside [0, 1]"
            );
        }
        Err(e) => assert_explained(&e, input),
    }
}

fn check_idx_images(result: Result<IdxImages>, input: &str) {
    let set = match result {
        Ok(set) => set,
        Err(e) => return assert_explained(&e, input),
    };
    assert_eq!(
        set.pixels.len(),
        set.count * set.height * set.width,
        "{input}"
    );
    if set.count > 0 {
        let first = set.image(0).unwrap();
        assert!(
            first.data().iter().all(|v| (0.0..=1.0).contains(v)),
            "{input}"
        );
    }
}

fn check_idx_labels(result: Result<Vec<u8>>, input: &str) {
    if let Err(e) = result {
        assert_explained(&e, input);
    }
}

/// Runs `check` on every truncation of `seed_file` and on `count` mutations of it, naming the input that
/// panicked. `prepare` may touch up a mutation (fixing PNG checksums) before the check.
fn fuzz(
    name: &str,
    seed_file: &[u8],
    seed: u64,
    prepare: fn(usize, &mut [u8]),
    check: impl Fn(&[u8], &str),
) {
    let truncations = (0..seed_file.len()).map(|len| {
        (
            format!("{name} truncated to {len} bytes"),
            seed_file[..len].to_vec(),
        )
    });
    let mutated = mutations(seed_file, seed, MUTATIONS_PER_SEED)
        .enumerate()
        .map(|(i, mut bytes)| {
            prepare(i, &mut bytes);
            (format!("{name} mutation {i} (seed {seed})"), bytes)
        });
    for (label, bytes) in truncations.chain(mutated) {
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&bytes, &label)));
        if outcome.is_err() {
            panic!("{label} panicked; input bytes: {bytes:02x?}");
        }
    }
}

fn unchanged(_: usize, _: &mut [u8]) {}

/// Every other PNG mutation gets valid chunk CRCs, so that it reaches the decoder rather than the checksum test.
fn fix_every_other_png(i: usize, bytes: &mut [u8]) {
    if i % 2 == 0 {
        fix_png_crcs(bytes);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The first `n` digits of the MNIST test set shipped in tests/data.
fn mnist_digits(n: usize) -> IdxImages {
    let set = idx::read_images(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/mnist/t10k-images-idx3-ubyte.gz"
    ))
    .unwrap();
    set.subset(&(0..n).collect::<Vec<_>>()).unwrap()
}

fn png_file(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<(&[u8], &[u8])>,
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    if let Some((plte, trns)) = palette {
        encoder.set_palette(plte);
        encoder.set_trns(trns);
    }
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

#[test]
fn mutator_is_deterministic_and_varied() {
    let seed_file: Vec<u8> = (0..200).map(|i| i as u8).collect();
    let a: Vec<Vec<u8>> = mutations(&seed_file, 7, 300).collect();
    let b: Vec<Vec<u8>> = Mutator::new(&seed_file, 7).take(300).collect();
    assert_eq!(a, b);
    let c: Vec<Vec<u8>> = mutations(&seed_file, 8, 300).collect();
    assert_ne!(a, c);
    assert!(a.iter().any(|m| m.is_empty()), "some truncation to nothing");
    assert!(
        a.iter().any(|m| m.len() > seed_file.len()),
        "some insertion"
    );
    assert!(
        a.iter().any(|m| !m.is_empty() && m.len() < seed_file.len()),
        "some shortening"
    );
    assert!(
        a.iter()
            .any(|m| m.len() == seed_file.len() && *m != seed_file),
        "some in-place change"
    );
    assert!(
        a.iter().any(|m| m.windows(4).any(|w| w == [0xFF; 4])),
        "some huge field"
    );
    let distinct: std::collections::HashSet<&Vec<u8>> = a.iter().collect();
    assert!(
        distinct.len() > 250,
        "only {} distinct mutations",
        distinct.len()
    );
}

#[test]
fn crc32_matches_the_standard_check_value_and_repairs_png_chunks() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    let valid = png_file(
        2,
        2,
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        None,
        &[1, 2, 3, 4],
    );
    let mut damaged = valid.clone();
    // The IHDR chunk's CRC sits at 8 (signature) + 4 (length) + 4 (type) + 13 (data) = 29.
    damaged[29] ^= 0xFF;
    assert!(image::decode(&damaged).is_err());
    fix_png_crcs(&mut damaged);
    assert_eq!(damaged, valid);
}

#[test]
fn png_decodes_every_colour_type_and_depth() {
    use png::{BitDepth, ColorType};
    // Palette: entry 0 green, entry 1 black but fully transparent (tRNS), 2 bits per index.
    let palette: (&[u8], &[u8]) = (&[0, 255, 0, 0, 0, 0], &[255, 0]);
    let cases: [(&str, Vec<u8>, &[f32]); 7] = [
        (
            "8-bit gray",
            png_file(
                3,
                1,
                ColorType::Grayscale,
                BitDepth::Eight,
                None,
                &[0, 51, 255],
            ),
            &[0.0, 0.2, 1.0],
        ),
        (
            "16-bit gray",
            png_file(
                2,
                1,
                ColorType::Grayscale,
                BitDepth::Sixteen,
                None,
                &[0x80, 0x00, 0xff, 0xff],
            ),
            &[32768.0 / 65535.0, 1.0],
        ),
        (
            // One bit per pixel, 0b1010_0000 → white, black, white, black.
            "1-bit gray",
            png_file(
                4,
                1,
                ColorType::Grayscale,
                BitDepth::One,
                None,
                &[0b1010_0000],
            ),
            &[1.0, 0.0, 1.0, 0.0],
        ),
        (
            "RGB",
            png_file(
                2,
                1,
                ColorType::Rgb,
                BitDepth::Eight,
                None,
                &[255, 0, 0, 0, 0, 255],
            ),
            &[0.299, 0.114],
        ),
        (
            // Black at alpha 0, 255 and 51: white, black, 0.8 (alpha composited over white).
            "RGBA",
            png_file(
                3,
                1,
                ColorType::Rgba,
                BitDepth::Eight,
                None,
                &[0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 51],
            ),
            &[1.0, 0.0, 0.8],
        ),
        (
            "gray and alpha",
            png_file(
                1,
                1,
                ColorType::GrayscaleAlpha,
                BitDepth::Eight,
                None,
                &[0, 102],
            ),
            &[0.6],
        ),
        (
            "palette",
            png_file(
                2,
                1,
                ColorType::Indexed,
                BitDepth::Two,
                Some(palette),
                &[0b0001_0000],
            ),
            &[0.587, 1.0],
        ),
    ];
    for (name, file, expected) in cases {
        let pixels = image::decode(&file).unwrap().pixels;
        assert_eq!(pixels.len(), expected.len(), "{name}: {pixels:?}");
        for (got, want) in pixels.iter().zip(expected) {
            assert!(
                (got - want).abs() <= 1e-6,
                "{name}: {pixels:?} vs {expected:?}"
            );
        }
    }
}

#[test]
fn png_palette_that_is_not_whole_rgb_entries_is_refused() {
    // The PLTE chunk of 2 entries: length at 33 (signature 8 + IHDR 25), data from 41.
    let palette: (&[u8], &[u8]) = (&[0, 255, 0, 0, 0, 0], &[255, 0]);
    let valid = png_file(
        2,
        1,
        png::ColorType::Indexed,
        png::BitDepth::Two,
        Some(palette),
        &[0b0001_0000],
    );
    assert_eq!(&valid[37..41], b"PLTE");
    for bad_length in [0u32, 5, 771] {
        let mut bad = valid.clone();
        bad[33..37].copy_from_slice(&bad_length.to_be_bytes());
        let error = image::decode(&bad).unwrap_err();
        assert!(
            matches!(&error, Error::BadImage { reason }
                if reason.contains(&format!("a palette of {bad_length} bytes"))),
            "{error:?}"
        );
    }
}

#[test]
fn png_over_the_pixel_limit_is_rejected_from_its_header() {
    let mut out = Vec::new();
    let encoder = png::Encoder::new(&mut out, 8000, 8000);
    drop(encoder.write_header().unwrap());
    let error = image::decode(&out).unwrap_err();
    assert!(
        matches!(&error, Error::BadImage { reason }
            if reason.contains("8000×8000") && reason.contains("over the limit")),
        "{error:?}"
    );
    let truncated = png_file(
        2,
        2,
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        None,
        &[1, 2, 3, 4],
    );
    let error = image::decode(&truncated[..truncated.len() - 20]).unwrap_err();
    assert!(
        matches!(&error, Error::BadImage { reason } if reason.starts_with("invalid PNG")),
        "{error:?}"
    );
}

#[test]
fn fuzz_idx_images_and_labels_raw_and_gzip() {
    let digits = mnist_digits(2);
    let images = idx::encode_images(&digits).unwrap();
    let labels = idx::encode_labels(&[7, 2, 1, 0, 4]).unwrap();
    let check_images =
        |bytes: &[u8], input: &str| check_idx_images(idx::parse_images(bytes), input);
    let check_labels =
        |bytes: &[u8], input: &str| check_idx_labels(idx::parse_labels(bytes), input);
    fuzz("raw IDX images", &images, 1, unchanged, check_images);
    fuzz(
        "gzip IDX images",
        &gzip(&images),
        2,
        unchanged,
        check_images,
    );
    fuzz("raw IDX labels", &labels, 3, unchanged, check_labels);
    fuzz(
        "gzip IDX labels",
        &gzip(&labels),
        4,
        unchanged,
        check_labels,
    );
}

#[test]
fn fuzz_png() {
    use png::{BitDepth, ColorType};
    let digit = mnist_digits(1).pixels;
    let gray = png_file(28, 28, ColorType::Grayscale, BitDepth::Eight, None, &digit);
    let palette: (&[u8], &[u8]) = (&[0, 0, 0, 255, 255, 255, 200, 10, 10], &[255, 128]);
    let indexed = png_file(
        6,
        3,
        ColorType::Indexed,
        BitDepth::Two,
        Some(palette),
        &[
            0b0001_1000,
            0b0100_0000,
            0b1001_0000,
            0b0001_0000,
            0b0000_0110,
            0b1000_0000,
        ],
    );
    let check = |bytes: &[u8], input: &str| check_gray_image(image::decode(bytes), input);
    // The seeds themselves decode.
    for seed_file in [&gray, INTERLACED_RGBA16_PNG, &indexed] {
        image::decode(seed_file).unwrap();
    }
    fuzz("gray PNG", &gray, 11, fix_every_other_png, check);
    fuzz(
        "interlaced RGBA16 PNG",
        INTERLACED_RGBA16_PNG,
        12,
        fix_every_other_png,
        check,
    );
    fuzz("palette PNG", &indexed, 13, fix_every_other_png, check);
    // The same damaged files as a user's picture set: an explained error or a 28×28 input, never a panic.
    let check_set = |bytes: &[u8], input: &str| {
        let mut set = PictureSet::new(1, 28, 28, 1).unwrap();
        match set.push(input, bytes) {
            Ok(()) => assert_eq!(set.finish().0.pixels.len(), 784, "{input}"),
            Err(e) => assert_explained(&e, input),
        }
    };
    fuzz(
        "gray PNG in a set",
        &gray,
        14,
        fix_every_other_png,
        check_set,
    );
    fuzz(
        "palette PNG in a set",
        &indexed,
        15,
        fix_every_other_png,
        check_set,
    );
}

#[test]
fn fuzz_jpeg() {
    let check = |bytes: &[u8], input: &str| check_gray_image(image::decode(bytes), input);
    for seed_file in [PROGRESSIVE_RGB_JPEG, BASELINE_GRAY_JPEG] {
        assert!(image::decode(seed_file).is_ok());
    }
    fuzz(
        "progressive RGB JPEG",
        PROGRESSIVE_RGB_JPEG,
        21,
        unchanged,
        check,
    );
    fuzz(
        "baseline gray JPEG",
        BASELINE_GRAY_JPEG,
        22,
        unchanged,
        check,
    );
}

#[test]
fn fuzz_pgm_and_ppm() {
    let mut p5 = b"P5\n# an MNIST digit\n28 28\n255\n".to_vec();
    p5.extend_from_slice(&mnist_digits(1).pixels);
    let p2 = b"P2\n# a tiny stroke\n4 3\n15\n15 15 15 15\n15 0 0 15\n15 15 15 15\n".to_vec();
    let mut p6 = b"P6 3 2 65535\n".to_vec();
    p6.extend((0..18u16).flat_map(|i| (i * 3641).to_be_bytes()));
    let p3 = b"P3 2 2 255\n255 0 0  0 255 0\n0 0 255  255 255 255\n".to_vec();
    let check = |bytes: &[u8], input: &str| check_gray_image(image::decode(bytes), input);
    for seed_file in [&p5, &p2, &p6, &p3] {
        assert!(image::decode(seed_file).is_ok());
    }
    fuzz("P5 PGM", &p5, 31, unchanged, check);
    fuzz("P2 PGM", &p2, 32, unchanged, check);
    fuzz("P6 16-bit PPM", &p6, 33, unchanged, check);
    fuzz("P3 PPM", &p3, 34, unchanged, check);
}

/// A small network whose weights file is mostly header, so that mutations reach the safetensors header as
/// often as the tensor bytes.
fn tiny_network_files() -> (String, Vec<u8>) {
    let manifest = r#"{"name": "tiny", "input": {"channels": 1, "height": 6, "width": 6},
        "layers": [{"name": "conv", "type": "conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1},
                   {"name": "relu", "type": "relu"}, {"name": "pool", "type": "max_pool2d", "kernel_size": 2},
                   {"name": "flatten", "type": "flatten"},
                   {"name": "fc", "type": "linear", "in_features": 18, "out_features": 3},
                   {"name": "log_softmax", "type": "log_softmax"}],
        "weights": "tiny.safetensors"}"#;
    let net = Network::init_random(Manifest::parse(manifest).unwrap(), 5).unwrap();
    (manifest.to_string(), net.to_safetensors().unwrap())
}

/// A model that loads must predict finite probabilities; one that does not must say why.
fn check_network(result: Result<Network>, input: &str) {
    match result {
        Ok(net) => {
            let p = net.predict(&Tensor::zeros(&net.input_shape())).unwrap();
            assert!(
                p.probs.iter().all(|v| v.is_finite()),
                "{input}: non-finite prediction"
            );
        }
        Err(e) => assert!(!e.to_string().trim().is_empty(), "{input}: empty error"),
    }
}

#[test]
fn fuzz_safetensors_weights() {
    let (manifest, weights) = tiny_network_files();
    check_network(Network::from_bytes(&manifest, &weights), "the seed files");
    fuzz("safetensors", &weights, 41, unchanged, |bytes, label| {
        if let Ok(parsed) = safetensors::parse(bytes) {
            // Whatever parses re-serializes to a file that parses back to the same bytes (compared as bytes:
            // a NaN in the data is not equal to itself).
            let again = safetensors::serialize(&parsed.tensors, &parsed.metadata).unwrap();
            let reparsed = safetensors::parse(&again).unwrap();
            let third = safetensors::serialize(&reparsed.tensors, &reparsed.metadata).unwrap();
            assert_eq!(third, again, "{label}");
        }
        check_network(Network::from_bytes(&manifest, bytes), label);
    });
}

#[test]
fn fuzz_manifest_json() {
    let (manifest, weights) = tiny_network_files();
    fuzz(
        "manifest",
        manifest.as_bytes(),
        43,
        unchanged,
        |bytes, label| {
            let text = String::from_utf8_lossy(bytes);
            check_network(Network::from_bytes(&text, &weights), label);
        },
    );
}
