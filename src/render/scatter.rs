//! The map figure of `convscope embed --out`: one dot per image at its 2-D position, coloured by class from a
//! colour-blind-safe palette ([`CLASS_COLORS`], Paul Tol's "muted" scheme and a dark grey), misclassified
//! images marked with a black cross, and a legend of the classes. The page draws with the same palette
//! (`Model.classColors()`).

use super::canvas::{text_height, text_width, RgbImage};
use super::colormap::Rgb;
use ndarray::ArrayView2;

/// Ten class colours that stay distinct under the common colour-vision deficiencies (Paul Tol's "muted"
/// palette, https://personal.sron.nl/~pault/, with a dark grey as the tenth). Classes past ten reuse them.
pub const CLASS_COLORS: [Rgb; 10] = [
    [0xCC, 0x66, 0x77],
    [0x33, 0x22, 0x88],
    [0xDD, 0xCC, 0x77],
    [0x11, 0x77, 0x33],
    [0x88, 0xCC, 0xEE],
    [0x88, 0x22, 0x55],
    [0x44, 0xAA, 0x99],
    [0x99, 0x99, 0x33],
    [0xAA, 0x44, 0x99],
    [0x55, 0x55, 0x55],
];

const BACKGROUND: Rgb = [255, 255, 255];
const TEXT: Rgb = [30, 30, 30];
const MARK: Rgb = [0, 0, 0];
const SIDE: usize = 720;
const MARGIN: usize = 12;
const DOT: usize = 3;
const LEGEND_WIDTH: usize = 150;

/// The colour of class `class`.
pub fn class_color(class: usize) -> Rgb {
    CLASS_COLORS[class % CLASS_COLORS.len()]
}

/// What to draw: `points` (`N × 2`), each point's class and whether it is marked (misclassified), the class
/// names for the legend, and a title.
pub struct Scatter<'a> {
    pub points: ArrayView2<'a, f32>,
    pub classes: &'a [usize],
    pub marked: &'a [bool],
    pub labels: &'a [String],
    pub title: &'a str,
}

/// Draws the map scaled to fit a square, the title above and the legend to its right.
pub fn scatter(s: &Scatter) -> RgbImage {
    let top = MARGIN + text_height(2) + MARGIN;
    let width = MARGIN + SIDE + MARGIN + LEGEND_WIDTH;
    let mut image = RgbImage::new(width, top + SIDE + MARGIN, BACKGROUND);
    image.draw_text(MARGIN, MARGIN, s.title, 2, TEXT);
    let range = |axis: usize| {
        let column = s.points.column(axis);
        let lo = column.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = column.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (lo, if hi > lo { hi - lo } else { 1.0 })
    };
    let ((x0, xw), (y0, yw)) = (range(0), range(1));
    let span = (SIDE - DOT) as f32;
    let at = |p: [f32; 2]| {
        let x = ((p[0] - x0) / xw * span).clamp(0.0, span) as usize;
        let y = ((1.0 - (p[1] - y0) / yw) * span).clamp(0.0, span) as usize;
        (MARGIN + x, top + y)
    };
    for (i, row) in s.points.rows().into_iter().enumerate() {
        let (x, y) = at([row[0], row[1]]);
        let class = s.classes.get(i).copied().unwrap_or(0);
        image.fill_rect(x, y, DOT, DOT, class_color(class));
    }
    for (i, row) in s.points.rows().into_iter().enumerate() {
        if s.marked.get(i).copied().unwrap_or(false) {
            let (x, y) = at([row[0], row[1]]);
            for d in 0..5 {
                image.fill_rect(
                    (x + d).saturating_sub(1),
                    (y + d).saturating_sub(1),
                    1,
                    1,
                    MARK,
                );
                image.fill_rect(
                    (x + 3).saturating_sub(d),
                    (y + d).saturating_sub(1),
                    1,
                    1,
                    MARK,
                );
            }
        }
    }
    legend(&mut image, MARGIN + SIDE + MARGIN, top, s);
    image
}

fn legend(image: &mut RgbImage, left: usize, top: usize, s: &Scatter) {
    let line = text_height(1) + 6;
    for (class, name) in s.labels.iter().enumerate() {
        let y = top + class * line;
        image.fill_rect(left, y, 10, 10, class_color(class));
        let name: String = name.chars().take(20).collect();
        image.draw_text(left + 16, y + 2, &name, 1, TEXT);
    }
    if s.marked.iter().any(|&m| m) {
        let y = top + s.labels.len() * line + 4;
        for d in 0..5 {
            image.fill_rect(left + 2 + d, y + 2 + d, 1, 1, MARK);
            image.fill_rect(left + 6 - d, y + 2 + d, 1, 1, MARK);
        }
        let text = "misclassified";
        if text_width(text, 1) + 16 < LEGEND_WIDTH {
            image.draw_text(left + 16, y + 2, text, 1, TEXT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn points_land_in_their_class_colour_and_corners_map_to_corners() {
        let points = array![[0.0f32, 0.0], [1.0, 1.0], [0.5, 0.5]];
        let labels: Vec<String> = (0..3).map(|i| i.to_string()).collect();
        let image = scatter(&Scatter {
            points: points.view(),
            classes: &[0, 1, 2],
            marked: &[false, false, true],
            labels: &labels,
            title: "map",
        });
        let top = MARGIN + text_height(2) + MARGIN;
        // (0, 0) is the bottom-left corner, (1, 1) the top-right one.
        assert_eq!(
            image.pixel(MARGIN + 1, top + SIDE - 2),
            Some(class_color(0))
        );
        assert_eq!(
            image.pixel(MARGIN + SIDE - 2, top + 1),
            Some(class_color(1))
        );
        let centre = (MARGIN + (SIDE - DOT) / 2, top + (SIDE - DOT) / 2);
        assert_eq!(image.pixel(centre.0 + 1, centre.1 + 1), Some(MARK));
        // Every colour of the palette is distinct.
        for (i, a) in CLASS_COLORS.iter().enumerate() {
            assert!(CLASS_COLORS[..i].iter().all(|b| b != a));
        }
        assert_eq!(class_color(13), CLASS_COLORS[3]);
    }
}
