//! Tests of the preprocessing on hand-made images and on the t10k digits.

use super::*;
use crate::io::image::tests::{assert_close, bad_image_reason};

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
