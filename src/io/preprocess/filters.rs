//! The small image filters of the preprocessing, on `width × height` maps of `f32` stored row-major: box
//! means, max filters (grey-level dilation with a square), closings, block means and bilinear upsampling.

/// How a window that reaches past an edge is filled.
#[derive(Clone, Copy, PartialEq)]
enum Edge {
    /// Only the pixels inside count.
    Clip,
    /// Point reflection through the edge pixel, `v(−k) = 2 v(0) − v(k)`: continues a ramp.
    Extrapolate,
}

/// One separable pass of `reduce` over the window `[i − radius, i + radius]` along rows (`along_x`) or
/// columns. `reduce` sees the window's samples in order (the clipped ones left out, or the extrapolated ones in
/// their place), so sums are taken in the same order whatever the pass.
fn pass(
    values: &[f32],
    (width, height): (usize, usize),
    radius: usize,
    along_x: bool,
    edge: Edge,
    reduce: &dyn Fn(&[f32]) -> f32,
) -> Vec<f32> {
    let (len, lines) = if along_x {
        (width, height)
    } else {
        (height, width)
    };
    let index = |line: usize, q: usize| {
        if along_x {
            line * width + q
        } else {
            q * width + line
        }
    };
    let mut out = vec![0.0; values.len()];
    let mut samples = vec![0.0f32; len];
    let mut window = Vec::with_capacity(2 * radius + 1);
    let last = len as i64 - 1;
    for line in 0..lines {
        for (q, sample) in samples.iter_mut().enumerate() {
            *sample = values[index(line, q)];
        }
        for position in 0..len {
            let (lo, hi) = (
                position.saturating_sub(radius),
                (position + radius).min(len - 1),
            );
            let reduced = if edge == Edge::Clip || (position >= radius && position + radius < len) {
                reduce(&samples[lo..=hi])
            } else {
                window.clear();
                for q in position as i64 - radius as i64..=(position + radius) as i64 {
                    window.push(match q {
                        0.. if q <= last => samples[q as usize],
                        ..0 => 2.0 * samples[0] - samples[(-q).min(last) as usize],
                        _ => 2.0 * samples[len - 1] - samples[(2 * last - q).max(0) as usize],
                    });
                }
                reduce(&window)
            };
            out[index(line, position)] = reduced;
        }
    }
    out
}

/// Applies `reduce` over every `(2 radius + 1)²` square window, as a row pass then a column pass.
fn separable(
    values: &[f32],
    size: (usize, usize),
    radius: usize,
    edge: Edge,
    reduce: &dyn Fn(&[f32]) -> f32,
) -> Vec<f32> {
    if radius == 0 {
        return values.to_vec();
    }
    let rows = pass(values, size, radius, true, edge, reduce);
    pass(&rows, size, radius, false, edge, reduce)
}

/// The mean over each clipped square window of radius `radius`.
pub fn box_mean(values: &[f32], width: usize, height: usize, radius: usize) -> Vec<f32> {
    separable(values, (width, height), radius, Edge::Clip, &|window| {
        let sum = window.iter().fold(0.0f32, |s, v| s + v);
        sum / window.len().max(1) as f32
    })
}

/// The maximum (grey-level dilation) over each clipped square window of radius `radius`.
pub fn max_filter(values: &[f32], width: usize, height: usize, radius: usize) -> Vec<f32> {
    separable(values, (width, height), radius, Edge::Clip, &|window| {
        window.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    })
}

/// A grey-level closing (a max filter, then a min filter, over squares of radius `radius`): removes dark
/// features narrower than `2 radius + 1` (filling them with the level of the darker side next to them) and
/// reproduces any map that is monotone along each axis, edges included. The max filter clips its windows; the min filter extends the dilated map past the edges by point
/// reflection, so that a ramp into an edge is not flattened.
pub fn closing(values: &[f32], width: usize, height: usize, radius: usize) -> Vec<f32> {
    let dilated = max_filter(values, width, height, radius);
    separable(
        &dilated,
        (width, height),
        radius,
        Edge::Extrapolate,
        &|window| window.iter().copied().fold(f32::INFINITY, f32::min),
    )
}

/// Means of `block × block` tiles (the last row and column of tiles may be partial): a
/// `ceil(width / block) × ceil(height / block)` map and its width and height.
pub fn block_mean(
    values: &[f32],
    width: usize,
    height: usize,
    block: usize,
) -> (Vec<f32>, usize, usize) {
    let block = block.max(1);
    let (coarse_w, coarse_h) = (width.div_ceil(block), height.div_ceil(block));
    let mut sums = vec![0.0f32; coarse_w * coarse_h];
    let mut counts = vec![0u32; coarse_w * coarse_h];
    for (y, row) in values.chunks_exact(width).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            let cell = (y / block) * coarse_w + x / block;
            sums[cell] += v;
            counts[cell] += 1;
        }
    }
    let means = sums
        .iter()
        .zip(&counts)
        .map(|(&s, &n)| s / n.max(1) as f32)
        .collect();
    (means, coarse_w, coarse_h)
}

/// Bilinear interpolation of a `coarse_w × coarse_h` map of `block × block` tiles back to `width × height`:
/// each tile's value sits at the tile's centre, and pixels beyond the outer centres take the edge value.
pub fn upsample(
    coarse: &[f32],
    coarse_w: usize,
    coarse_h: usize,
    block: usize,
    width: usize,
    height: usize,
) -> Vec<f32> {
    // For pixel `p`: the two tile indices around it and the weight of the second.
    let axis = |p: usize, tiles: usize| {
        let u = ((p as f32 + 0.5) / block as f32 - 0.5).clamp(0.0, (tiles - 1) as f32);
        let low = (u.floor() as usize).min(tiles - 1);
        (low, (low + 1).min(tiles - 1), u - low as f32)
    };
    let columns: Vec<_> = (0..width).map(|x| axis(x, coarse_w)).collect();
    let mut out = Vec::with_capacity(width * height);
    for y in 0..height {
        let (y0, y1, fy) = axis(y, coarse_h);
        let (top, bottom) = (&coarse[y0 * coarse_w..], &coarse[y1 * coarse_w..]);
        for &(x0, x1, fx) in &columns {
            let upper = top[x0] + fx * (top[x1] - top[x0]);
            let lower = bottom[x0] + fx * (bottom[x1] - bottom[x0]);
            out.push(upper + fy * (lower - upper));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_clips_its_window_at_the_edges() {
        // Row [0, 3, 6] with radius 1: means of [0, 3], [0, 3, 6], [3, 6].
        assert_eq!(box_mean(&[0.0, 3.0, 6.0], 3, 1, 1), vec![1.5, 3.0, 4.5]);
        // A column is averaged the same way.
        assert_eq!(box_mean(&[0.0, 3.0, 6.0], 1, 3, 1), vec![1.5, 3.0, 4.5]);
    }

    #[test]
    fn closing_removes_dark_strokes_narrower_than_the_window_and_keeps_a_ramp() {
        // A ramp along x and y (a shadow) with a dark 3-pixel stroke in columns 5 to 7.
        let (w, h) = (12, 5);
        let ramp = |x: usize, y: usize| 0.5 + 0.04 * x as f32 - 0.02 * y as f32;
        let mut image: Vec<f32> = (0..w * h).map(|i| ramp(i % w, i / w)).collect();
        for y in 0..h {
            image[y * w + 5..y * w + 8].fill(0.1);
        }
        let closed = closing(&image, w, h, 2);
        for (i, got) in closed.iter().enumerate() {
            let (x, y) = (i % w, i / w);
            if (5..8).contains(&x) {
                // Inside the stroke: the paper just before it, up to the true level.
                assert!(
                    *got >= ramp(4, y) - 1e-6 && *got <= ramp(x, y) + 1e-6,
                    "({x}, {y}): {got}"
                );
            } else {
                // Elsewhere exact, the edges included (a clipped min filter would flatten them).
                assert!(
                    (got - ramp(x, y)).abs() < 1e-5,
                    "({x}, {y}): {got} vs {}",
                    ramp(x, y)
                );
            }
        }
    }

    #[test]
    fn block_means_and_upsampling_reproduce_a_linear_ramp_between_tile_centres() {
        let (w, h) = (8, 2);
        let ramp: Vec<f32> = (0..w * h).map(|i| (i % w) as f32).collect();
        let (coarse, cw, ch) = block_mean(&ramp, w, h, 2);
        assert_eq!((cw, ch), (4, 1));
        assert_eq!(coarse, vec![0.5, 2.5, 4.5, 6.5]);
        let back = upsample(&coarse, cw, ch, 2, w, h);
        // Exact between the outer tile centres (x = 0.5 .. 6.5), the edge value beyond.
        let expected = [0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.5];
        for (got, want) in back.iter().zip(expected.iter().cycle()) {
            assert!((got - want).abs() < 1e-6, "{back:?}");
        }
        // Partial tiles: a 5-wide map in tiles of 2 has 3 tiles, the last of one pixel.
        assert_eq!(
            block_mean(&[1.0, 1.0, 2.0, 2.0, 7.0], 5, 1, 2).0,
            vec![1.0, 2.0, 7.0]
        );
    }
}
