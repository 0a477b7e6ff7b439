//! Grids of titled 2-D maps, the CLI's PNG output (`convscope activations --out grid.png`).
//!
//! Each [`Panel`] is a `height × width` map of values, coloured through its own [`Scale`] and [`Colormap`] and
//! enlarged with nearest-neighbour so that one value becomes a `zoom × zoom` block (1-row strips are stretched
//! to at least [`MIN_STRIP_HEIGHT`] pixels so that they stay visible). Panels are laid out left to right in
//! rows, each with its title above it; the grid's title is on top and an optional legend strip at the bottom
//! shows the colour bar between the numeric low and high ends of its scale:
//!
//! ```text
//! margin ┌ title (2× font) ─────────────────────────────┐
//!        │ [title 0]   [title 1]   [title 2]            │
//!        │ ▓▓▓▓▓▓▓▓▓   ▓▓▓▓▓▓▓▓▓   ▓▓▓▓▓▓▓▓▓            │  cells: panel title, gap, map
//!        │ [title 3]   ...                              │
//!        │ -0.53 ████████████████████ 2.1               │  legend: low, colour bar, high
//!        └──────────────────────────────────────────────┘
//! ```
//!
//! NaN values (and values missing from a short buffer) are drawn in [`NAN_COLOR`].

use super::canvas::{text_height, text_width, RgbImage};
use super::colormap::{Colormap, Rgb, Scale};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Colour of NaN or missing values: magenta, which none of the colormaps contains.
pub const NAN_COLOR: Rgb = [255, 0, 255];
/// Minimum pixel height of a drawn map, so that a 1-D vector shows as a visible strip.
pub const MIN_STRIP_HEIGHT: usize = 12;
const BACKGROUND: Rgb = [255, 255, 255];
const TEXT: Rgb = [30, 30, 30];
const MARGIN: usize = 8;
const GAP: usize = 6;
/// Space between a panel's title and its map, and between the grid title and the grid.
const TITLE_GAP: usize = 3;
const TITLE_SCALE: usize = 2;
/// With automatic zoom, the longest map side is enlarged to about this many pixels.
const AUTO_SIDE: usize = 96;
const MAX_ZOOM: usize = 32;
const LEGEND_BAR_WIDTH: usize = 160;
const LEGEND_BAR_HEIGHT: usize = 10;
/// The largest grid [`feature_grid`] draws, in pixels.
const MAX_GRID_PIXELS: usize = 50_000_000;

/// One titled map: `height × width` values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel<'a> {
    pub title: String,
    pub height: usize,
    pub width: usize,
    pub values: &'a [f32],
    pub colormap: Colormap,
    pub scale: Scale,
}

/// The legend strip: the colormap's bar between the scale's low and high values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Legend {
    pub colormap: Colormap,
    pub scale: Scale,
}

/// How [`map_grid`] lays panels out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GridOptions {
    /// Drawn at twice the font size above the grid; empty for none.
    pub title: String,
    /// Panels per row; 0 picks `ceil(√n)`.
    pub columns: usize,
    /// Pixels per value (at most 32); 0 enlarges the longest map side to about 96 pixels.
    pub zoom: usize,
    pub legend: Option<Legend>,
}

/// Pixel positions of everything [`map_grid`] draws.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Layout {
    /// Block width and height of one value.
    zoom: usize,
    block_height: usize,
    columns: usize,
    cell_width: usize,
    cell_height: usize,
    /// Top of the first row of cells.
    grid_top: usize,
    /// Top of the legend strip.
    legend_top: usize,
    width: usize,
    height: usize,
}

fn layout(panels: &[Panel], options: &GridOptions) -> Layout {
    let longest_side = panels
        .iter()
        .map(|p| p.height.max(p.width))
        .max()
        .unwrap_or(1)
        .max(1);
    let zoom = match options.zoom {
        0 => AUTO_SIDE / longest_side,
        z => z,
    }
    .clamp(1, MAX_ZOOM);
    let min_rows = panels.iter().map(|p| p.height).min().unwrap_or(1).max(1);
    let block_height = zoom.max(MIN_STRIP_HEIGHT.div_ceil(min_rows));
    let columns = match options.columns {
        0 => (panels.len() as f64).sqrt().ceil() as usize,
        c => c,
    }
    .clamp(1, panels.len().max(1));
    let rows = panels.len().div_ceil(columns);

    let map_width = panels.iter().map(|p| p.width * zoom).max().unwrap_or(0);
    let map_height = panels
        .iter()
        .map(|p| p.height * block_height)
        .max()
        .unwrap_or(0);
    let title_width = panels
        .iter()
        .map(|p| text_width(&p.title, 1))
        .max()
        .unwrap_or(0);
    let cell_width = map_width.max(title_width);
    let cell_height = text_height(1) + TITLE_GAP + map_height;
    let grid_width = (columns * (cell_width + GAP)).saturating_sub(GAP);
    let grid_height = (rows * (cell_height + GAP)).saturating_sub(GAP);

    let header_height = if options.title.is_empty() {
        0
    } else {
        text_height(TITLE_SCALE) + 2 * TITLE_GAP
    };
    let grid_top = MARGIN + header_height;
    let legend_gap = if rows > 0 && options.legend.is_some() {
        GAP + TITLE_GAP
    } else {
        0
    };
    let legend_top = grid_top + grid_height + legend_gap;
    let legend_width = options.legend.map_or(0, |l| legend_width(&l));
    let legend_height = if options.legend.is_some() {
        LEGEND_BAR_HEIGHT
    } else {
        0
    };
    let content_width = grid_width
        .max(text_width(&options.title, TITLE_SCALE))
        .max(legend_width);
    Layout {
        zoom,
        block_height,
        columns,
        cell_width,
        cell_height,
        grid_top,
        legend_top,
        width: content_width.max(1) + 2 * MARGIN,
        height: legend_top + legend_height + MARGIN,
    }
}

/// The two numbers a legend prints at the ends of its bar.
fn legend_labels(legend: &Legend) -> (String, String) {
    (
        format_value(legend.scale.low()),
        format_value(legend.scale.high()),
    )
}

fn legend_width(legend: &Legend) -> usize {
    let (low, high) = legend_labels(legend);
    text_width(&low, 1) + GAP + LEGEND_BAR_WIDTH + GAP + text_width(&high, 1)
}

/// Draws `panels` in a grid with titles and an optional legend (see the module documentation).
pub fn map_grid(panels: &[Panel], options: &GridOptions) -> RgbImage {
    let layout = layout(panels, options);
    let mut image = RgbImage::new(layout.width, layout.height, BACKGROUND);
    image.draw_text(MARGIN, MARGIN, &options.title, TITLE_SCALE, TEXT);
    for (i, panel) in panels.iter().enumerate() {
        let left = MARGIN + (i % layout.columns) * (layout.cell_width + GAP);
        let top = layout.grid_top + (i / layout.columns) * (layout.cell_height + GAP);
        image.draw_text(left, top, &panel.title, 1, TEXT);
        let map_top = top + text_height(1) + TITLE_GAP;
        for y in 0..panel.height {
            for x in 0..panel.width {
                let value = panel.values.get(y * panel.width + x).copied();
                let color = match value.and_then(|v| panel.scale.t(v)) {
                    Some(t) => panel.colormap.rgb(t),
                    None => NAN_COLOR,
                };
                image.fill_rect(
                    left + x * layout.zoom,
                    map_top + y * layout.block_height,
                    layout.zoom,
                    layout.block_height,
                    color,
                );
            }
        }
    }
    if let Some(legend) = options.legend {
        draw_legend(&mut image, &legend, MARGIN, layout.legend_top);
    }
    image
}

fn draw_legend(image: &mut RgbImage, legend: &Legend, left: usize, top: usize) {
    let (low, high) = legend_labels(legend);
    let text_top = top + (LEGEND_BAR_HEIGHT - text_height(1)) / 2;
    let bar_left = left + image.draw_text(left, text_top, &low, 1, TEXT) + GAP;
    for x in 0..LEGEND_BAR_WIDTH {
        let t = x as f32 / (LEGEND_BAR_WIDTH - 1) as f32;
        image.fill_rect(
            bar_left + x,
            top,
            1,
            LEGEND_BAR_HEIGHT,
            legend.colormap.rgb(t),
        );
    }
    image.draw_text(bar_left + LEGEND_BAR_WIDTH + GAP, text_top, &high, 1, TEXT);
}

/// Draws every channel of a `[C, H, W]` tensor (also `[H, W]`, and `[N]` as a strip) with one shared scale
/// ([`Scale::fit`]: symmetric about zero for the diverging map), channel numbers as panel titles when there are
/// several, and a legend.
pub fn feature_grid(maps: &Tensor, title: &str, colormap: Colormap) -> Result<RgbImage> {
    let (channels, height, width) = match *maps.shape() {
        [c, h, w] => (c, h, w),
        [h, w] => (1, h, w),
        [n] => (1, 1, n),
        ref other => {
            return Err(Error::internal(format!(
                "feature_grid draws [C, H, W], [H, W] or [N] tensors, got shape {other:?}"
            )))
        }
    };
    if maps.is_empty() {
        return Err(Error::shape("maps to draw", &[1], maps.shape()));
    }
    let scale = Scale::fit(maps.data(), colormap);
    let panels: Vec<Panel> = maps
        .data()
        .chunks_exact(height * width)
        .enumerate()
        .map(|(c, values)| Panel {
            title: if channels > 1 {
                c.to_string()
            } else {
                String::new()
            },
            height,
            width,
            values,
            colormap,
            scale,
        })
        .collect();
    let options = GridOptions {
        title: title.to_string(),
        legend: Some(Legend { colormap, scale }),
        ..GridOptions::default()
    };
    let size = layout(&panels, &options);
    if size.width.saturating_mul(size.height) > MAX_GRID_PIXELS {
        return Err(Error::out_of_range(
            format!("the pixel count of a grid of {channels} maps of {height}×{width}"),
            size.width.saturating_mul(size.height),
            format!("at most {MAX_GRID_PIXELS}; select fewer channels"),
        ));
    }
    Ok(map_grid(&panels, &options))
}

/// A weight tensor as planes for [`feature_grid`]: conv kernels `[O, I, kh, kw]` become `O·I` planes of
/// `kh × kw` (kernel by kernel, input channel by input channel); other shapes are drawn as they are.
pub fn as_planes(weights: &Tensor) -> Result<Tensor> {
    match *weights.shape() {
        [o, i, kh, kw] => Tensor::from_vec(&[o * i, kh, kw], weights.data().to_vec()),
        _ => Ok(weights.clone()),
    }
}

/// A short label for a value: up to 4 significant digits without trailing zeros, or scientific notation for
/// magnitudes from 10⁴ up and below 10⁻³.
fn format_value(value: f32) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".to_string()
    } else if !value.is_finite() || !(1e-3..1e4).contains(&magnitude) {
        format!("{value:.2e}")
    } else {
        let decimals = (3 - magnitude.log10().floor() as i32).max(0) as usize;
        let text = format!("{value:.decimals$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::image::decode;

    fn panel<'a>(title: &str, height: usize, width: usize, values: &'a [f32]) -> Panel<'a> {
        Panel {
            title: title.to_string(),
            height,
            width,
            values,
            colormap: Colormap::Gray,
            scale: Scale::range(0.0, 1.0),
        }
    }

    #[test]
    fn grid_dimensions_follow_the_layout_arithmetic() {
        let values = [0.5; 12];
        let panels: Vec<Panel> = (0..5)
            .map(|i| panel(&format!("p{i}"), 4, 3, &values))
            .collect();
        let options = GridOptions {
            columns: 2,
            zoom: 10,
            ..GridOptions::default()
        };
        let img = map_grid(&panels, &options);
        // Cells 30 wide (map 3·10 > title "p0" 11) and 7 + 3 + 40 = 50 tall; 2 columns, 3 rows, gaps of 6,
        // margins of 8.
        assert_eq!(img.width, 8 + (2 * 30 + 6) + 8);
        assert_eq!(img.height, 8 + (3 * 50 + 2 * 6) + 8);
        assert_eq!(img.data.len(), img.width * img.height * 3);
    }

    #[test]
    fn maps_are_enlarged_blocks_of_their_colour() {
        let values = [0.0, 1.0, f32::NAN];
        let panels = [panel("", 1, 3, &values)];
        let options = GridOptions {
            zoom: 4,
            ..GridOptions::default()
        };
        let img = map_grid(&panels, &options);
        // One row of values: blocks 4 wide and max(4, 12) = 12 tall, below an empty title line.
        let top = MARGIN + 7 + TITLE_GAP;
        for y in top..top + 12 {
            for x in 0..12 {
                let expected = [[0, 0, 0], [255, 255, 255], NAN_COLOR][x / 4];
                assert_eq!(img.pixel(MARGIN + x, y), Some(expected), "({x}, {y})");
            }
        }
        assert_eq!(img.pixel(MARGIN, top + 12), Some(BACKGROUND));
        assert_eq!(img.height, top + 12 + MARGIN);
    }

    #[test]
    fn missing_values_are_drawn_as_nan() {
        let values = [1.0];
        let img = map_grid(
            &[panel("", 2, 2, &values)],
            &GridOptions {
                zoom: 6,
                ..GridOptions::default()
            },
        );
        let top = MARGIN + 7 + TITLE_GAP;
        assert_eq!(img.pixel(MARGIN, top), Some([255, 255, 255]));
        assert_eq!(img.pixel(MARGIN + 6, top), Some(NAN_COLOR));
        assert_eq!(img.pixel(MARGIN + 6, top + 6), Some(NAN_COLOR));
    }

    #[test]
    fn legend_bar_runs_through_the_colormap_between_its_labels() {
        let legend = Legend {
            colormap: Colormap::Viridis,
            scale: Scale::range(-0.5, 2.0),
        };
        let options = GridOptions {
            legend: Some(legend),
            ..GridOptions::default()
        };
        let img = map_grid(&[], &options);
        let bar_left = MARGIN + text_width("-0.5", 1) + GAP;
        let bar_right = bar_left + LEGEND_BAR_WIDTH - 1;
        let top = layout(&[], &options).legend_top;
        assert_eq!(img.pixel(bar_left, top), Some(Colormap::Viridis.rgb(0.0)));
        assert_eq!(
            img.pixel(bar_right, top + LEGEND_BAR_HEIGHT - 1),
            Some(Colormap::Viridis.rgb(1.0))
        );
        assert_eq!(img.pixel(bar_left - 1, top), Some(BACKGROUND));
        assert_eq!(img.width, MARGIN + legend_width(&legend) + MARGIN);
        // The "-" of "-0.5" is the middle row of the first glyph: ink at the label's left edge.
        let text_top = top + (LEGEND_BAR_HEIGHT - 7) / 2;
        assert_eq!(img.pixel(MARGIN, text_top + 3), Some(TEXT));
    }

    #[test]
    fn feature_grid_draws_every_channel_with_one_diverging_scale() {
        let maps = Tensor::from_vec(
            &[3, 2, 2],
            vec![0.0, 1.0, -2.0, 0.5, 2.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0],
        )
        .unwrap();
        let img = feature_grid(&maps, "conv1", Colormap::Diverging).unwrap();
        let options = GridOptions {
            title: "conv1".to_string(),
            legend: Some(Legend {
                colormap: Colormap::Diverging,
                scale: Scale::symmetric(2.0),
            }),
            ..GridOptions::default()
        };
        let values = maps.data();
        let panels: Vec<Panel> = (0..3)
            .map(|c| Panel {
                title: c.to_string(),
                height: 2,
                width: 2,
                values: &values[c * 4..c * 4 + 4],
                colormap: Colormap::Diverging,
                scale: Scale::symmetric(2.0),
            })
            .collect();
        assert_eq!(img, map_grid(&panels, &options));
        // Automatic zoom 96/2 = 48 is capped at 32; 2 columns for 3 panels.
        let l = layout(&panels, &options);
        assert_eq!((l.zoom, l.columns), (32, 2));
        // Channel 0's first value 0 is the diverging map's white centre.
        let map_top = l.grid_top + 7 + TITLE_GAP;
        assert_eq!(img.pixel(MARGIN, map_top), Some([247, 247, 247]));
        assert_eq!(
            img.pixel(MARGIN, map_top + 32),
            Some(Colormap::Diverging.rgb(0.0))
        );
        // The PNG decodes to an image of the same size.
        let png = crate::render::encode_png(&img).unwrap();
        let gray = decode(&png).unwrap();
        assert_eq!((gray.width, gray.height), (img.width, img.height));
    }

    #[test]
    fn feature_grid_shows_vectors_as_visible_strips_and_rejects_bad_shapes() {
        let logits = Tensor::from_vec(&[10], (0..10).map(|i| i as f32).collect()).unwrap();
        let img = feature_grid(&logits, "logits", Colormap::Viridis).unwrap();
        let header = 14 + 2 * TITLE_GAP;
        let map_top = MARGIN + header + 7 + TITLE_GAP;
        // Zoom 96/10 = 9; the strip is 12 pixels tall.
        for y in map_top..map_top + MIN_STRIP_HEIGHT {
            assert_eq!(img.pixel(MARGIN, y), Some(Colormap::Viridis.rgb(0.0)));
            assert_eq!(
                img.pixel(MARGIN + 9 * 9, y),
                Some(Colormap::Viridis.rgb(1.0))
            );
        }
        assert_eq!(
            img.pixel(MARGIN, map_top + MIN_STRIP_HEIGHT),
            Some(BACKGROUND)
        );

        let constant = Tensor::from_vec(&[2, 2], vec![3.0; 4]).unwrap();
        assert!(feature_grid(&constant, "", Colormap::Magma).is_ok());
        assert!(feature_grid(&Tensor::zeros(&[1, 1, 1, 1]), "", Colormap::Gray).is_err());
        assert!(feature_grid(&Tensor::zeros(&[0, 4, 4]), "", Colormap::Gray).is_err());
        // 2000 strips of 1000 values: 45 columns of 1006 pixels, 45 rows of 28, over 50 megapixels.
        let reason =
            feature_grid(&Tensor::zeros(&[2000, 1, 1000]), "", Colormap::Gray).unwrap_err();
        assert!(
            reason.to_string().contains("select fewer channels"),
            "{reason}"
        );
    }

    #[test]
    fn values_are_labelled_compactly() {
        let cases = [
            (0.0, "0"),
            (2.0, "2"),
            (-0.5, "-0.5"),
            (0.123456, "0.1235"),
            (123.456, "123.5"),
            (1234.4, "1234"),
            (12345.0, "1.23e4"),
            (0.0001234, "1.23e-4"),
            (f32::INFINITY, "inf"),
        ];
        for (value, text) in cases {
            assert_eq!(format_value(value), text, "{value}");
        }
    }
}
