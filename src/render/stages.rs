//! The preprocessing strip: the images of [`preprocess_stages`](crate::io::preprocess::preprocess_stages)
//! side by side in grey (the photo's luminance, the normalized ink, the mask, the 20-pixel crop and the
//! network's input), the small ones enlarged by a whole factor so that each is about as tall as the photo.
//! The CLI writes it with `--stages F.png`.

use super::canvas::RgbImage;
use super::colormap::{Colormap, Scale};
use super::grid::{map_grid, GridOptions, Panel};
use crate::io::preprocess::Stages;

/// `values` (`width` wide) enlarged `zoom` times by repetition (nearest neighbour).
pub fn enlarged(values: &[f32], width: usize, zoom: usize) -> Vec<f32> {
    values
        .chunks(width.max(1))
        .flat_map(|row| {
            let wide: Vec<f32> = row.iter().flat_map(|&v| [v].repeat(zoom)).collect();
            wide.repeat(zoom)
        })
        .collect()
}

/// The five stages in one row under `title`; the input's first channel stands for all.
pub fn stages_strip(stages: &Stages, title: &str) -> RgbImage {
    let photo_side = stages.grey.width.max(stages.grey.height);
    let [out_h, out_w] = match *stages.output.shape() {
        [_, h, w] => [h, w],
        _ => [0, 0],
    };
    let zoom = |side: usize| (photo_side / side.max(1)).clamp(1, 16);
    let (crop_zoom, output_zoom) = (
        zoom(stages.crop.width.max(stages.crop.height)),
        zoom(out_h.max(out_w)),
    );
    let crop = enlarged(&stages.crop.pixels, stages.crop.width, crop_zoom);
    let plane = stages.output.data().get(..out_h * out_w).unwrap_or(&[]);
    let output = enlarged(plane, out_w, output_zoom);
    let panel = |title: &str, (width, height), values| Panel {
        title: title.to_string(),
        width,
        height,
        values,
        colormap: Colormap::Gray,
        scale: Scale::range(0.0, 1.0),
    };
    let size = (stages.grey.width, stages.grey.height);
    let panels = [
        panel("grey", size, &stages.grey.pixels[..]),
        panel("normalized", size, &stages.normalized.pixels[..]),
        panel("mask", size, &stages.mask.pixels[..]),
        panel(
            "crop",
            (
                stages.crop.width * crop_zoom,
                stages.crop.height * crop_zoom,
            ),
            &crop[..],
        ),
        panel(
            "input",
            (out_w * output_zoom, out_h * output_zoom),
            &output[..],
        ),
    ];
    let options = GridOptions {
        title: title.to_string(),
        columns: panels.len(),
        zoom: 1,
        legend: None,
    };
    map_grid(&panels, &options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::GrayImage;
    use crate::io::preprocess::preprocess_stages;

    #[test]
    fn the_strip_shows_each_stage_at_a_comparable_size() {
        // A dark bar on light paper, 60×40.
        let mut pixels = vec![0.9; 60 * 40];
        for y in 10..30 {
            pixels[y * 60 + 28..y * 60 + 33].fill(0.1);
        }
        let img = GrayImage {
            width: 60,
            height: 40,
            pixels,
        };
        let stages = preprocess_stages(&img, 1, 28, 28).unwrap();
        assert_eq!(
            enlarged(&[1.0, 2.0], 2, 2),
            vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]
        );
        let strip = stages_strip(&stages, "a bar");
        // Five panels of at least 56 pixels (the 28×28 input enlarged twice to match the 60-pixel photo).
        assert!(strip.width >= 60 * 3 + 56 * 2, "{}", strip.width);
        assert!(strip.height >= 56, "{}", strip.height);
        // The grey panel shows the paper (0.9 of white) and the mask panel black paper and white ink.
        let colours: std::collections::HashSet<_> = strip.data.chunks(3).map(|c| c[0]).collect();
        assert!(
            colours.iter().any(|c| (228..=231).contains(c)),
            "{colours:?}"
        );
        assert!(
            colours.contains(&0) && colours.contains(&255),
            "{colours:?}"
        );
    }
}
