//! Cleaning the thresholded ink mask of a photo: ruled lines out, then the digit's connected components kept
//! and specks and far-off marks dropped.
//!
//! - **Ruled lines.** A row of which at least [`LINE_FILL`] of the pixels are ink is a line candidate (a
//!   notebook line crosses the whole photo; a digit, at most 20/28 of the frame in MNIST and rarely more in a
//!   photo, never covers that much); its ink pixels whose
//!   vertical run of ink is at most `thickness` pixels long are removed (where a stroke crosses the line the run
//!   is longer, so the stroke stays). Columns are treated the same way (margin lines). Nothing is removed when
//!   that would remove all the ink: a lone horizontal stroke is a drawing, not a ruled line.
//! - **Components** are 8-connected. The largest is the digit's main mass; any other is kept when its area is
//!   at least [`MIN_PART`] of the main one's, its bounding box lies within [`MAX_GAP`] × the main box's longer
//!   side of the main box (broken strokes of a digit) and it is not a thin piece of a line.

/// The fraction of a row (column) that must be ink for it to hold a ruled line.
pub const LINE_FILL: f32 = 0.75;
/// A component smaller than this fraction of the largest is a speck.
pub const MIN_PART: f32 = 0.04;
/// How far (in units of the kept box's longer side) a component may lie from the kept ones.
pub const MAX_GAP: f32 = 0.35;

/// A rectangle of pixels, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Box {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Box {
    fn point(x: usize, y: usize) -> Box {
        Box {
            x0: x,
            y0: y,
            x1: x,
            y1: y,
        }
    }

    fn union(self, other: Box) -> Box {
        Box {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// The empty pixels between two boxes (0 when they overlap or touch): the larger of the horizontal and
    /// vertical gaps.
    fn gap(self, other: Box) -> usize {
        let horizontal =
            (other.x0.saturating_sub(self.x1 + 1)).max(self.x0.saturating_sub(other.x1 + 1));
        let vertical =
            (other.y0.saturating_sub(self.y1 + 1)).max(self.y0.saturating_sub(other.y1 + 1));
        horizontal.max(vertical)
    }

    fn longer_side(self) -> usize {
        (self.x1 - self.x0 + 1).max(self.y1 - self.y0 + 1)
    }
}

/// The length of the run of ink through `(x, y)` of a `width × height` mask, along a column (`vertical`) or a
/// row.
fn run_through(
    mask: &[bool],
    width: usize,
    height: usize,
    (x, y): (usize, usize),
    vertical: bool,
) -> usize {
    let ink = |q: usize| {
        if vertical {
            mask[q * width + x]
        } else {
            mask[y * width + q]
        }
    };
    let (position, len) = if vertical { (y, height) } else { (x, width) };
    let before = (0..position).rev().take_while(|&q| ink(q)).count();
    let after = (position..len).take_while(|&q| ink(q)).count();
    before + after
}

/// Marks in `removed` the thin ink of the rows (`rows`) or of the columns of a mask that are mostly ink.
fn mark_lines(mask: &[bool], width: usize, thickness: usize, rows: bool, removed: &mut [bool]) {
    let height = mask.len() / width;
    let (lines, len) = if rows {
        (height, width)
    } else {
        (width, height)
    };
    let pixel = |line: usize, i: usize| if rows { (i, line) } else { (line, i) };
    for line in 0..lines {
        let filled = (0..len)
            .filter(|&i| {
                let (x, y) = pixel(line, i);
                mask[y * width + x]
            })
            .count();
        if (filled as f32) < LINE_FILL * len as f32 {
            continue;
        }
        for i in 0..len {
            let (x, y) = pixel(line, i);
            // A row's ink is judged by its run along the column, and a column's along the row.
            if mask[y * width + x] && run_through(mask, width, height, (x, y), rows) <= thickness {
                removed[y * width + x] = true;
            }
        }
    }
}

/// Removes ruled lines from a `width`-wide mask (see the module documentation); true when it removed any.
pub fn remove_lines(mask: &mut [bool], width: usize, thickness: usize) -> bool {
    if width == 0 {
        return false;
    }
    // Rows first, then columns of what is left, so that a crossing of two lines goes too.
    let mut cleaned = mask.to_vec();
    for rows in [true, false] {
        let mut removed = vec![false; mask.len()];
        mark_lines(&cleaned, width, thickness, rows, &mut removed);
        for (m, r) in cleaned.iter_mut().zip(removed) {
            *m &= !r;
        }
    }
    if cleaned == mask || !cleaned.contains(&true) {
        return false;
    }
    mask.copy_from_slice(&cleaned);
    true
}

/// One 8-connected component: its pixel indices and bounding box.
struct Component {
    pixels: Vec<usize>,
    bounds: Box,
}

fn components(mask: &[bool], width: usize) -> Vec<Component> {
    let height = mask.len() / width.max(1);
    let mut seen = vec![false; mask.len()];
    let mut found = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let (mut pixels, mut stack) = (Vec::new(), vec![start]);
        let mut bounds = Box::point(start % width, start / width);
        while let Some(p) = stack.pop() {
            let (x, y) = (p % width, p / width);
            pixels.push(p);
            bounds = bounds.union(Box::point(x, y));
            for ny in y.saturating_sub(1)..(y + 2).min(height) {
                for nx in x.saturating_sub(1)..(x + 2).min(width) {
                    let q = ny * width + nx;
                    if mask[q] && !seen[q] {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
        found.push(Component { pixels, bounds });
    }
    found
}

impl Component {
    /// A leftover of a ruled line: at most `thickness` pixels across and at least three times longer.
    fn line_like(&self, thickness: usize) -> bool {
        let width = self.bounds.x1 - self.bounds.x0 + 1;
        let height = self.bounds.y1 - self.bounds.y0 + 1;
        (height <= thickness && width >= 3 * height) || (width <= thickness && height >= 3 * width)
    }
}

/// The pixels of the digit's components (see the module documentation), as a mask; `None` without ink.
/// Components that look like pieces of ruled lines `thickness` pixels thick are dropped too.
pub fn keep_digit(mask: &[bool], width: usize, thickness: usize) -> Option<Vec<bool>> {
    let mut parts = components(mask, width);
    parts.sort_by_key(|c| std::cmp::Reverse(c.pixels.len()));
    let main = parts.first()?;
    let (main_area, main_box) = (main.pixels.len() as f32, main.bounds);
    let reach = MAX_GAP * main_box.longer_side() as f32;
    let mut kept = vec![false; mask.len()];
    for (rank, part) in parts.iter().enumerate() {
        let large = part.pixels.len() as f32 >= MIN_PART * main_area;
        let near = part.bounds.gap(main_box) as f32 <= reach;
        if rank == 0 || (large && near && !part.line_like(thickness)) {
            part.pixels.iter().for_each(|&p| kept[p] = true);
        }
    }
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mask from rows of text: `#` is ink.
    fn mask(rows: &[&str]) -> (Vec<bool>, usize) {
        let width = rows[0].len();
        (
            rows.iter()
                .flat_map(|r| r.bytes().map(|b| b == b'#'))
                .collect(),
            width,
        )
    }

    fn text(mask: &[bool], width: usize) -> Vec<String> {
        mask.chunks(width)
            .map(|r| r.iter().map(|&m| if m { '#' } else { '.' }).collect())
            .collect()
    }

    #[test]
    fn ruled_lines_go_and_the_strokes_crossing_them_stay() {
        let (mut m, w) = mask(&[
            "#.........",
            "#...##....",
            "##########",
            "#...##....",
            "#...##....",
            "#.........",
        ]);
        assert!(remove_lines(&mut m, w, 1));
        assert_eq!(
            text(&m, w),
            [
                "..........",
                "....##....",
                "....##....",
                "....##....",
                "....##....",
                "..........",
            ]
        );
        // A lone line is kept: it is the drawing.
        let (mut lone, w) = mask(&["....", "####", "...."]);
        assert!(!remove_lines(&mut lone, w, 1));
        assert_eq!(text(&lone, w), ["....", "####", "...."]);
    }

    #[test]
    fn specks_and_far_components_are_dropped_and_near_parts_kept() {
        let (m, w) = mask(&[
            "###...........#",
            "###..#........#",
            "###...........#",
            "...............",
            "##.............",
        ]);
        // The main 3×3 box allows gaps up to 0.35 × 3 = 1.05 pixels. The 3-pixel bar at x = 14 is 11 empty
        // columns away and the speck at (5, 1) 2: both dropped. The 2-pixel piece at the bottom left is one
        // empty row below the box: kept.
        let kept = keep_digit(&m, w, 1).unwrap();
        assert_eq!(
            text(&kept, w),
            [
                "###............",
                "###............",
                "###............",
                "...............",
                "##.............",
            ]
        );
        assert!(keep_digit(&[false; 6], 3, 1).is_none());
        // A thin piece of a line next to the digit goes; the same piece drawn thicker stays.
        let (m, w) = mask(&["###.....", "###.####", "###....."]);
        assert_eq!(
            text(&keep_digit(&m, w, 1).unwrap(), w),
            ["###.....", "###.....", "###....."]
        );
        let (m, w) = mask(&["###.....", "###.####", "###.####"]);
        assert_eq!(
            text(&keep_digit(&m, w, 1).unwrap(), w),
            ["###.....", "###.####", "###.####"]
        );
    }
}
