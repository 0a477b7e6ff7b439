//! An 8-bit RGB pixel buffer with the few drawing operations that the grids need: filled rectangles and text
//! in the built-in 5×7 font ([`super::font`]), enlarged by a whole-number factor. Drawing clips at the edges.

use super::colormap::Rgb;
use super::font;

/// `height` rows of `width` RGB pixels, 3 bytes each, row-major, top row first.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl RgbImage {
    /// An image filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> RgbImage {
        RgbImage {
            width,
            height,
            data: background.repeat(width * height),
        }
    }

    /// The colour at `(x, y)`, `None` outside the image.
    pub fn pixel(&self, x: usize, y: usize) -> Option<Rgb> {
        if x >= self.width {
            return None;
        }
        let start = (y.checked_mul(self.width)? + x) * 3;
        self.data.get(start..start + 3)?.try_into().ok()
    }

    /// Fills the rectangle of `width × height` pixels whose top-left corner is `(x, y)`, clipped to the image.
    pub fn fill_rect(&mut self, x: usize, y: usize, width: usize, height: usize, color: Rgb) {
        let x_end = x.saturating_add(width).min(self.width);
        let y_end = y.saturating_add(height).min(self.height);
        if x >= x_end {
            return;
        }
        for row in y..y_end {
            let start = (row * self.width + x) * 3;
            let end = (row * self.width + x_end) * 3;
            for pixel in self.data[start..end].chunks_exact_mut(3) {
                pixel.copy_from_slice(&color);
            }
        }
    }

    /// Draws `text` with its top-left corner at `(x, y)`, each font pixel a `scale × scale` square; returns the
    /// width drawn ([`text_width`]).
    pub fn draw_text(&mut self, x: usize, y: usize, text: &str, scale: usize, color: Rgb) -> usize {
        for (i, c) in text.chars().enumerate() {
            let left = x.saturating_add(i * font::ADVANCE * scale);
            for gy in 0..font::GLYPH_HEIGHT {
                for gx in (0..font::GLYPH_WIDTH).filter(|&gx| font::is_ink(c, gx, gy)) {
                    self.fill_rect(left + gx * scale, y + gy * scale, scale, scale, color);
                }
            }
        }
        text_width(text, scale)
    }
}

/// Width in pixels of `text` drawn at `scale` (no trailing gap after the last character).
pub fn text_width(text: &str, scale: usize) -> usize {
    let count = text.chars().count();
    (count * font::ADVANCE).saturating_sub(1) * scale
}

/// Height in pixels of a line of text drawn at `scale`.
pub fn text_height(scale: usize) -> usize {
    font::GLYPH_HEIGHT * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Rgb = [255, 255, 255];
    const INK: Rgb = [10, 20, 30];

    #[test]
    fn fill_rect_clips_at_the_edges() {
        let mut img = RgbImage::new(4, 3, WHITE);
        img.fill_rect(2, 1, 10, 10, INK);
        let inked: Vec<(usize, usize)> = (0..3)
            .flat_map(|y| (0..4).map(move |x| (x, y)))
            .filter(|&(x, y)| img.pixel(x, y) == Some(INK))
            .collect();
        assert_eq!(inked, [(2, 1), (3, 1), (2, 2), (3, 2)]);
        img.fill_rect(7, 0, 2, 2, INK);
        img.fill_rect(0, 9, 2, 2, INK);
        img.fill_rect(usize::MAX, usize::MAX, usize::MAX, 1, INK);
        assert_eq!(img.data.iter().filter(|&&b| b == 10).count(), 4);
        assert_eq!(img.pixel(4, 0), None);
        assert_eq!(img.pixel(0, 3), None);
    }

    #[test]
    fn text_puts_ink_where_the_glyph_has_it() {
        // "-" is a full-width bar in the glyph's middle row (row 3); at scale 2 it covers rows 3·2..3·2+2.
        let mut img = RgbImage::new(20, 20, WHITE);
        let width = img.draw_text(1, 2, "-", 2, INK);
        assert_eq!(width, 10);
        for y in 0..20 {
            for x in 0..20 {
                let expected = (1..11).contains(&x) && (8..10).contains(&y);
                assert_eq!(img.pixel(x, y) == Some(INK), expected, "({x}, {y})");
            }
        }
    }

    #[test]
    fn text_advances_six_pixels_per_character_and_clips() {
        let mut img = RgbImage::new(12, 7, WHITE);
        img.draw_text(0, 0, "LL", 1, INK);
        // "L" has its vertical bar in column 0: at x = 0 and x = 6.
        for x in 0..12 {
            assert_eq!(img.pixel(x, 0) == Some(INK), x == 0 || x == 6, "x = {x}");
        }
        assert_eq!(text_width("LL", 1), 11);
        assert_eq!(text_width("", 3), 0);
        assert_eq!(text_height(2), 14);
        // Text running off the image is clipped, not a panic.
        img.draw_text(10, 5, "WWW", 3, INK);
    }
}
