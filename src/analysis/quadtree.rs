//! A quadtree over 2-D points for Barnes-Hut sums of the t-SNE repulsion (van der Maaten 2014):
//!
//! ```text
//! F_rep(y) = Σ_j w_j² (y − y_j),   Z(y) = Σ_j w_j,   w_j = 1 / (1 + ‖y − y_j‖²)
//! ```
//!
//! A cell of squared width `s²` (its larger side) whose centre of mass `c` lies at squared distance `d²`
//! from `y` stands for all its `m` points when `s² / d² < θ²` (scikit-learn's criterion): it adds
//! `m w_c² (y − c)` and `m w_c`. Otherwise its children are visited; a leaf (at most [`LEAF_SIZE`] points,
//! or the deepest level) is summed exactly, leaving the query point itself out. The tree is walked once per
//! group of at most [`GROUP`] points, not once per point ([`QuadTree::repulsions`]): `d` is measured from
//! the group's bounding box, the nearest any of its points can be, so a cell the group accepts every one of
//! its points would accept. Each point then sums the accepted cells and the near leaves' points together,
//! four lanes at a time.
//!
//! Points are sorted along a Morton (Z-order) curve of 16 bits per axis, so every cell holds a contiguous
//! run of them; the cells are stored in depth-first order with the index just past each subtree, so a query
//! walks the array without a stack.

/// Points in a leaf at most (a leaf is summed exactly).
const LEAF_SIZE: usize = 8;
/// Points of a group at most: the cells that walk the tree once for all their points.
const GROUP: usize = 32;
/// Levels below the root at most (the Morton code has this many bits per axis).
const DEPTH: u32 = 16;

#[derive(Debug, Clone, Copy)]
struct Cell {
    centre: [f32; 2],
    count: f32,
    squared_width: f32,
    start: u32,
    end: u32,
    /// Index of the first cell after this cell's subtree.
    skip: u32,
    leaf: bool,
}

/// The tree of one set of points.
#[derive(Debug, Clone)]
pub(crate) struct QuadTree {
    cells: Vec<Cell>,
    /// Point positions in tree order.
    points: Vec<[f32; 2]>,
    /// `order[t]`: the caller's index of the point at tree position `t`.
    order: Vec<usize>,
}

impl QuadTree {
    /// Builds the tree of `points` (finite).
    pub(crate) fn new(points: &[[f32; 2]]) -> QuadTree {
        let (lo, hi) = bounds(points);
        let width = [(hi[0] - lo[0]).max(1e-6), (hi[1] - lo[1]).max(1e-6)];
        let cells_per_axis = (1u32 << DEPTH) as f32;
        let quantise = |v: f32, a: usize| {
            (((v - lo[a]) / width[a] * cells_per_axis) as u32).min((1 << DEPTH) - 1)
        };
        let mut keyed: Vec<(u32, usize)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (interleave(quantise(p[0], 0), quantise(p[1], 1)), i))
            .collect();
        keyed.sort_unstable();
        let mut tree = QuadTree {
            cells: Vec::with_capacity(points.len() / 2 + 1),
            points: keyed.iter().map(|&(_, i)| points[i]).collect(),
            order: keyed.iter().map(|&(_, i)| i).collect(),
        };
        let codes: Vec<u32> = keyed.iter().map(|&(c, _)| c).collect();
        let root_width = width[0].max(width[1]);
        if !points.is_empty() {
            tree.build(&codes, 0, points.len(), 0, root_width * root_width);
        }
        tree
    }

    /// Appends the cell of tree positions `start..end` at `depth` and its subtree.
    fn build(&mut self, codes: &[u32], start: usize, end: usize, depth: u32, squared_width: f32) {
        let mut sum = [0f64; 2];
        for p in &self.points[start..end] {
            sum[0] += f64::from(p[0]);
            sum[1] += f64::from(p[1]);
        }
        let m = (end - start) as f64;
        let index = self.cells.len();
        let leaf = end - start <= LEAF_SIZE || depth == DEPTH;
        self.cells.push(Cell {
            centre: [(sum[0] / m) as f32, (sum[1] / m) as f32],
            count: m as f32,
            squared_width,
            start: start as u32,
            end: end as u32,
            skip: 0,
            leaf,
        });
        if !leaf {
            let shift = 2 * (DEPTH - 1 - depth);
            let mut from = start;
            for quadrant in 0..4u32 {
                let to = from + codes[from..end].partition_point(|&c| (c >> shift) & 3 <= quadrant);
                if to > from {
                    self.build(codes, from, to, depth + 1, squared_width / 4.0);
                }
                from = to;
            }
        }
        self.cells[index].skip = self.cells.len() as u32;
    }

    /// Position in tree order `t`, and the caller's index of that point.
    pub(crate) fn point(&self, t: usize) -> ([f32; 2], usize) {
        (self.points[t], self.order[t])
    }

    /// `(F_rep(y_t), Z(y_t))` of every point, in tree order, each leaving itself out: Barnes-Hut with one
    /// walk of the tree per group (the largest cells of at most [`GROUP`] points, or leaves) instead of per
    /// point. A cell stands for its points when `s² < θ² d²` with `d` the distance from its centre of mass to
    /// the group's bounding box (the nearest any point of the group can be), so every cell the group accepts,
    /// each of its points would accept too: the sums are at least as fine as the per-point walk's. The
    /// points of the leaves that were too near go into the same lanes one by one (count 1), the point itself
    /// among them (it adds `w = 1` to `Z` and nothing to the force: taken off after the sum).
    pub(crate) fn repulsions(&self, squared_theta: f32) -> Vec<([f32; 2], f32)> {
        let mut out = vec![([0f32; 2], 0f32); self.points.len()];
        let mut far = Far::default();
        let mut k = 0;
        while let Some(group) = self.cells.get(k) {
            if !(group.leaf || group.count <= GROUP as f32) {
                k += 1;
                continue;
            }
            let (start, end) = (group.start as usize, group.end as usize);
            self.accepted(&self.points[start..end], squared_theta, &mut far);
            for (slot, &y) in out[start..end].iter_mut().zip(&self.points[start..end]) {
                let (force, z) = far.sum(y);
                *slot = (force, z - 1.0);
            }
            k = group.skip as usize;
        }
        out
    }

    /// Fills `far` with the cells the points of `group` accept and the points of the leaves they do not,
    /// padded to whole lanes with empty cells.
    fn accepted(&self, group: &[[f32; 2]], squared_theta: f32, far: &mut Far) {
        let (lo, hi) = bounds(group);
        far.clear();
        let mut k = 0;
        while let Some(cell) = self.cells.get(k) {
            let [cx, cy] = cell.centre;
            let dx = (lo[0] - cx).max(cx - hi[0]).max(0.0);
            let dy = (lo[1] - cy).max(cy - hi[1]).max(0.0);
            if cell.squared_width < squared_theta * (dx * dx + dy * dy) {
                far.push(cell.centre, cell.count);
            } else if cell.leaf {
                for &p in &self.points[cell.start as usize..cell.end as usize] {
                    far.push(p, 1.0);
                }
            } else {
                k += 1;
                continue;
            }
            k = cell.skip as usize;
        }
        while far.x.len() % LANES != 0 {
            far.push(lo, 0.0);
        }
    }
}

/// The smallest box around `points`: `(lower corner, upper corner)`.
fn bounds(points: &[[f32; 2]]) -> ([f32; 2], [f32; 2]) {
    let mut lo = [f32::INFINITY; 2];
    let mut hi = [f32::NEG_INFINITY; 2];
    for p in points {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    (lo, hi)
}

/// Lanes of the far-field sums (the accepted cells, summed `LANES` at a time).
const LANES: usize = 4;

/// The cells a leaf accepted, as columns (`x`, `y`, point count).
#[derive(Debug, Default)]
struct Far {
    x: Vec<f32>,
    y: Vec<f32>,
    count: Vec<f32>,
}

impl Far {
    fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.count.clear();
    }

    fn push(&mut self, centre: [f32; 2], count: f32) {
        self.x.push(centre[0]);
        self.y.push(centre[1]);
        self.count.push(count);
    }

    /// `Σ m w² (y − c)` and `Σ m w` over the cells (a whole number of lanes), `w = 1 / (1 + ‖y − c‖²)`: four
    /// independent lanes, added at the end (a fixed order, the same on every platform).
    fn sum(&self, y: [f32; 2]) -> ([f32; 2], f32) {
        let (mut fx, mut fy, mut z) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
        let lanes = self
            .x
            .chunks_exact(LANES)
            .zip(self.y.chunks_exact(LANES))
            .zip(self.count.chunks_exact(LANES));
        for ((xs, ys), ms) in lanes {
            for l in 0..LANES {
                let (dx, dy) = (y[0] - xs[l], y[1] - ys[l]);
                let w = 1.0 / (1.0 + dx * dx + dy * dy);
                let mw = ms[l] * w;
                z[l] += mw;
                fx[l] += mw * w * dx;
                fy[l] += mw * w * dy;
            }
        }
        let total = |v: [f32; LANES]| (v[0] + v[1]) + (v[2] + v[3]);
        ([total(fx), total(fy)], total(z))
    }
}

/// The Morton code of `(x, y)`: the bits of `x` at even positions, of `y` at odd ones.
fn interleave(x: u32, y: u32) -> u32 {
    let spread = |mut v: u32| {
        v &= 0xffff;
        v = (v | (v << 8)) & 0x00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    spread(x) | (spread(y) << 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn exact(points: &[[f32; 2]], y: [f32; 2], skip: usize) -> ([f64; 2], f64) {
        let (mut f, mut z) = ([0f64; 2], 0f64);
        for (_, p) in points.iter().enumerate().filter(|(j, _)| *j != skip) {
            let (dx, dy) = (f64::from(y[0] - p[0]), f64::from(y[1] - p[1]));
            let w = 1.0 / (1.0 + dx * dx + dy * dy);
            z += w;
            f[0] += w * w * dx;
            f[1] += w * w * dy;
        }
        (f, z)
    }

    #[test]
    fn theta_zero_is_exact_and_theta_half_is_close() {
        let mut rng = Rng::new(5);
        let points: Vec<[f32; 2]> = (0..300)
            .map(|_| [rng.normal() * 10.0, rng.normal() * 3.0])
            .collect();
        let tree = QuadTree::new(&points);
        let exact_sums = tree.repulsions(0.0);
        assert_eq!(exact_sums.len(), 300);
        let approximate = tree.repulsions(0.25);
        let mut worst = 0f64;
        for t in 0..300 {
            let (y, i) = tree.point(t);
            let (want_f, want_z) = exact(&points, y, i);
            let (f, z) = exact_sums[t];
            assert!(
                (f64::from(z) - want_z).abs() < 1e-4 * want_z,
                "{z} vs {want_z}"
            );
            for a in 0..2 {
                assert!(
                    (f64::from(f[a]) - want_f[a]).abs() < 1e-4 * want_z,
                    "{f:?} {want_f:?}"
                );
            }
            let (f, z) = approximate[t];
            assert!(
                (f64::from(z) - want_z).abs() < 0.02 * want_z,
                "{z} vs {want_z}"
            );
            let norm = want_f[0].hypot(want_f[1]);
            let err = (f64::from(f[0]) - want_f[0]).hypot(f64::from(f[1]) - want_f[1]);
            assert!(err < 0.05 * norm.max(1e-3), "{f:?} {want_f:?}");
            worst = worst.max((f64::from(z) - want_z).abs() / want_z);
        }
        // θ = 0.5 approximates: some cell stood for its points somewhere.
        assert!(worst > 0.0);
    }

    #[test]
    fn morton_codes_interleave_bits() {
        assert_eq!(interleave(0b11, 0b00), 0b0101);
        assert_eq!(interleave(0b00, 0b11), 0b1010);
        assert_eq!(interleave(0xffff, 0xffff), u32::MAX);
        // Coincident points end up in one deepest-level leaf and are summed exactly, each without itself.
        let tree = QuadTree::new(&[[1.0, 1.0]; 20]);
        assert!(tree
            .repulsions(0.25)
            .iter()
            .all(|&(f, z)| z == 19.0 && f == [0.0, 0.0]));
    }
}
