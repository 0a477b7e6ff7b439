//! The patch figure of `convscope patches --out`: one row per unit (a conv channel or a vector unit), its top
//! images cropped to the unit's receptive field (gray, 0 to 1) followed by the deconvnet projections of the
//! same unit cropped the same way (diverging, each scaled to its own largest |value|), as in Zeiler &
//! Fergus's figure 2.

use super::canvas::RgbImage;
use super::colormap::{Colormap, Scale};
use super::deconv_figure::stack;
use super::grid::{map_grid, GridOptions, Panel};

/// Pixels per crop side the figure aims at.
const TILE: usize = 64;

/// One unit's row: `S × S` crops of its top images, their projections and a caption per crop.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRow {
    pub title: String,
    pub crops: Vec<Vec<f32>>,
    pub projections: Vec<Vec<f32>>,
    pub captions: Vec<String>,
}

/// The figure: `title` on top, then one row per unit; crops are `height × width`. A row without
/// projections is a plain row of images (the neighbours figure of `convscope neighbours --out`).
pub fn patch_grid(title: &str, rows: &[UnitRow], [height, width]: [usize; 2]) -> RgbImage {
    let zoom = (TILE / height.max(width).max(1)).max(1);
    let mut parts = Vec::with_capacity(rows.len() + 1);
    parts.push(map_grid(
        &[],
        &GridOptions {
            title: title.to_string(),
            ..GridOptions::default()
        },
    ));
    for row in rows {
        let crops = row
            .crops
            .iter()
            .zip(&row.captions)
            .map(|(values, caption)| Panel {
                title: caption.clone(),
                height,
                width,
                values,
                colormap: Colormap::Gray,
                scale: Scale::range(0.0, 1.0),
            });
        let projections = row.projections.iter().map(|values| Panel {
            title: String::new(),
            height,
            width,
            values,
            colormap: Colormap::Diverging,
            scale: Scale::fit(values, Colormap::Diverging),
        });
        let panels: Vec<Panel> = crops.chain(projections).collect();
        parts.push(map_grid(
            &panels,
            &GridOptions {
                title: row.title.clone(),
                columns: panels.len(),
                zoom,
                legend: None,
            },
        ));
    }
    stack(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_hold_crops_then_projections() {
        let row = UnitRow {
            title: "pool2 channel 0".into(),
            crops: vec![vec![1.0; 4], vec![0.0; 4]],
            projections: vec![vec![-1.0, 1.0, 0.0, 0.0], vec![0.0; 4]],
            captions: vec!["#3".into(), "#9".into()],
        };
        let image = patch_grid("patches", &[row.clone(), row], [2, 2]);
        let one = patch_grid("patches", &[], [2, 2]);
        assert!(image.height > one.height && image.width >= 4 * 2 * 32);
        // The first crop is all ink (white in gray) and the first projection has a blue and a red pixel.
        let colors: std::collections::HashSet<[u8; 3]> = image
            .data
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        assert!(colors.contains(&Colormap::Gray.rgb(1.0)));
        assert!(colors.contains(&Colormap::Diverging.rgb(0.0)));
        assert!(colors.contains(&Colormap::Diverging.rgb(1.0)));
    }
}
