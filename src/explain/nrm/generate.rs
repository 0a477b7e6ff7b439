//! Drawing a response map: the neurons' values painted at their layout places and interpolated over a grid
//! of `height × width` pixels (pixel `(y, x)` samples the layout at `((x + ½)/width, (y + ½)/height)`).
//!
//! - nearest: each pixel takes the value of the nearest neuron (ties to the lower index);
//! - linear: inside a Delaunay triangle of the layout ([`super::delaunay`]) the barycentric mix of its three
//!   neurons' values (what `scipy.interpolate.griddata(method="linear")` does); NaN (not drawn) outside the
//!   layout's convex hull, as griddata's default `fill_value`, so no flat wedges of the hull's outer
//!   neurons fill the corners; the nearest neuron's value inside the hull where no triangle covers the
//!   pixel (a thin one the triangulation missed, [`super::delaunay`]);
//! - circle projection: the layout, a square, is first pushed into the inscribed disc by the elliptical grid
//!   mapping `(u, v) = (x √(1 − y²/2), y √(1 − x²/2))` on `[−1, 1]²` (Fong 2015), which keeps the square's
//!   centre lines and sends its edges to the circle; pixels outside the disc are NaN (not drawn).
//!
//! A [`Surface`] holds the per-pixel weights of one layout, size and method, so painting a new input (the
//! page, live while drawing) is one weighted sum per pixel.

use super::delaunay::{convex_hull, in_hull, orientation, triangulate};
use super::{ResponseMap, CIRCLE, DEFAULT_SIDE, METHOD, SIZE};
use crate::catalogue::options::Values;
use crate::error::{Error, Result};
use std::str::FromStr;

/// How values fill the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    Nearest,
    Linear,
}

impl FromStr for Interpolation {
    type Err = Error;
    fn from_str(text: &str) -> Result<Interpolation> {
        match text {
            "nearest" => Ok(Interpolation::Nearest),
            "linear" => Ok(Interpolation::Linear),
            other => Err(Error::unknown(
                "interpolation method",
                other,
                &["nearest", "linear"],
            )),
        }
    }
}

/// Which way round a `size` option's two numbers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeOrder {
    /// The CLI's `--size H,W`.
    HeightWidth,
    /// The JS and Rust API's `size: [width, height]`, as the package's `size=(width, height)`.
    WidthHeight,
}

/// How to draw a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    pub method: Interpolation,
    pub height: usize,
    pub width: usize,
    pub circle: bool,
}

impl GenerateOptions {
    /// The options the checked `values` give (size: 128 × 128 unless given).
    pub fn from_values(values: &Values, order: SizeOrder) -> Result<GenerateOptions> {
        let (height, width) = match values.floats(&SIZE) {
            None => (DEFAULT_SIDE, DEFAULT_SIDE),
            Some(&[a, b]) => match order {
                SizeOrder::HeightWidth => (a as usize, b as usize),
                SizeOrder::WidthHeight => (b as usize, a as usize),
            },
            Some(other) => return Err(Error::shape("size", &[2], &[other.len()])),
        };
        Ok(GenerateOptions {
            method: values.text_or_default(&METHOD).parse()?,
            height,
            width,
            circle: values.flag(&CIRCLE),
        })
    }
}

/// `p ∈ [0, 1]²` pushed into the disc of radius ½ about `(½, ½)` (elliptical grid mapping).
pub fn circle(p: [f32; 2]) -> [f32; 2] {
    let (x, y) = (2.0 * p[0] - 1.0, 2.0 * p[1] - 1.0);
    let u = x * (1.0 - y * y / 2.0).max(0.0).sqrt();
    let v = y * (1.0 - x * x / 2.0).max(0.0).sqrt();
    [(u + 1.0) / 2.0, (v + 1.0) / 2.0]
}

/// Per pixel the neurons it mixes and their weights (empty outside the disc).
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    pub height: usize,
    pub width: usize,
    mix: Vec<Vec<(usize, f32)>>,
    /// Per pixel the nearest neuron (`None` outside the disc).
    nearest: Vec<Option<usize>>,
}

impl Surface {
    /// The weights for `layout` (finite points, at least one) on a grid of `options`' size.
    pub fn new(layout: &[[f32; 2]], options: &GenerateOptions) -> Result<Surface> {
        let (h, w) = (options.height, options.width);
        if !(2..=super::MAX_SIDE).contains(&h) || !(2..=super::MAX_SIDE).contains(&w) {
            return Err(Error::out_of_range(
                "the map size (height × width)",
                format!("{h} × {w}"),
                format!("2 to {} each", super::MAX_SIDE),
            ));
        }
        if layout.is_empty() || !layout.iter().flatten().all(|v| v.is_finite()) {
            return Err(Error::non_finite("the layout (or it is empty)"));
        }
        let points: Vec<[f64; 2]> = layout
            .iter()
            .map(|&p| if options.circle { circle(p) } else { p })
            .map(|p| [f64::from(p[0]), f64::from(p[1])])
            .collect();
        let linear = options.method == Interpolation::Linear;
        // Linear interpolation, as scipy's griddata, draws nothing outside the layout's convex hull.
        let hull = if linear {
            convex_hull(&points)
        } else {
            Vec::new()
        };
        let grid = Grid { h, w };
        let inside = |c: [f64; 2]| {
            (!options.circle || (c[0] - 0.5).powi(2) + (c[1] - 0.5).powi(2) <= 0.25)
                && (!linear || hull.len() < 3 || in_hull(&hull, c))
        };
        let nearest: Vec<Option<usize>> = (0..h * w)
            .map(|i| {
                let c = grid.centre(i / w, i % w);
                inside(c).then(|| closest(&points, c))
            })
            .collect();
        let mut mix: Vec<Vec<(usize, f32)>> = nearest
            .iter()
            .map(|n| n.map_or_else(Vec::new, |i| vec![(i, 1.0)]))
            .collect();
        if linear {
            for t in triangulate(&points) {
                fill_triangle(&points, t, grid, &inside, &mut mix);
            }
        }
        Ok(Surface {
            height: h,
            width: w,
            mix,
            nearest,
        })
    }

    /// The map of `values` (one per neuron of the layout): `height × width`, row-major, NaN outside the disc
    /// (and, linear, outside the layout's hull).
    pub fn paint(&self, values: &[f32]) -> Result<Vec<f32>> {
        let n = self
            .mix
            .iter()
            .flatten()
            .map(|&(i, _)| i + 1)
            .max()
            .unwrap_or(0);
        if values.len() < n {
            return Err(Error::shape(
                "the values (one per neuron)",
                &[n],
                &[values.len()],
            ));
        }
        Ok(self
            .mix
            .iter()
            .map(|m| match m.is_empty() {
                true => f32::NAN,
                false => m.iter().map(|&(i, wt)| wt * values[i]).sum(),
            })
            .collect())
    }

    /// Per pixel `region[nearest neuron]` (`None` outside the disc): with the neurons' layers, which layer
    /// each region of the map holds.
    pub fn regions(&self, region: &[usize]) -> Vec<Option<usize>> {
        self.nearest
            .iter()
            .map(|n| n.and_then(|i| region.get(i).copied()))
            .collect()
    }
}

/// A grid of `h × w` pixels over the unit square.
#[derive(Debug, Clone, Copy)]
struct Grid {
    h: usize,
    w: usize,
}

impl Grid {
    /// The centre of pixel `(y, x)` in the unit square, `[x, y]`.
    fn centre(self, y: usize, x: usize) -> [f64; 2] {
        [
            (x as f64 + 0.5) / self.w as f64,
            (y as f64 + 0.5) / self.h as f64,
        ]
    }
}

/// Sets the pixels of `mix` whose centres lie in triangle `t` (and `inside`) to its barycentric mix.
fn fill_triangle(
    points: &[[f64; 2]],
    t: [usize; 3],
    grid: Grid,
    inside: &impl Fn([f64; 2]) -> bool,
    mix: &mut [Vec<(usize, f32)>],
) {
    let corners = t.map(|i| points[i]);
    let (lo, hi) = corners.iter().fold(([1f64; 2], [0f64; 2]), |(lo, hi), p| {
        (
            [lo[0].min(p[0]), lo[1].min(p[1])],
            [hi[0].max(p[0]), hi[1].max(p[1])],
        )
    });
    for y in pixel_range(lo[1], hi[1], grid.h) {
        for x in pixel_range(lo[0], hi[0], grid.w) {
            let c = grid.centre(y, x);
            if let (Some(b), true) = (barycentric(corners, c), inside(c)) {
                mix[y * grid.w + x] = (0..3).map(|k| (t[k], b[k] as f32)).collect();
            }
        }
    }
}

/// The pixel indices whose centres `(i + ½)/n` may lie in `[lo, hi]`.
fn pixel_range(lo: f64, hi: f64, n: usize) -> std::ops::Range<usize> {
    let first = (lo * n as f64 - 0.5).floor().max(0.0) as usize;
    let last = ((hi * n as f64 - 0.5).ceil().max(0.0) as usize + 1).min(n);
    first.min(last)..last
}

/// The index of the point nearest to `c` (the lower one on ties).
fn closest(points: &[[f64; 2]], c: [f64; 2]) -> usize {
    let mut best = (0, f64::INFINITY);
    for (i, p) in points.iter().enumerate() {
        let d = (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2);
        if d < best.1 {
            best = (i, d);
        }
    }
    best.0
}

/// The barycentric coordinates of `p` in the triangle, if it lies inside (edges included).
fn barycentric(t: [[f64; 2]; 3], p: [f64; 2]) -> Option<[f64; 3]> {
    let area = orientation(t[0], t[1], t[2]);
    if area <= 0.0 {
        return None;
    }
    let b = [
        orientation(t[1], t[2], p) / area,
        orientation(t[2], t[0], p) / area,
        orientation(t[0], t[1], p) / area,
    ];
    b.iter().all(|&v| v >= -1e-12).then_some(b)
}

/// A drawn map: values, and per pixel the index (in the map's layers) of the layer its nearest neuron is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub height: usize,
    pub width: usize,
    /// `height × width`, row-major; NaN outside the disc of a circle projection and outside the layout's
    /// convex hull when linear.
    pub values: Vec<f32>,
    pub regions: Vec<Option<usize>>,
}

impl ResponseMap {
    /// The [`Surface`] of this map's layout for `options`.
    pub fn surface(&self, options: &GenerateOptions) -> Result<Surface> {
        Surface::new(&self.layout, options)
    }

    /// The map of `net`'s responses to `images` (their mean when several): the package's `GenerateMap`.
    pub fn generate(
        &self,
        net: &crate::model::network::Network,
        images: &[crate::Tensor],
        options: &GenerateOptions,
    ) -> Result<Generated> {
        let surface = self.surface(options)?;
        let values = surface.paint(&self.mean_responses(net, images)?)?;
        Ok(Generated {
            height: surface.height,
            width: surface.width,
            values,
            regions: surface.regions(&self.layer_of_neurons()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn options(method: Interpolation, circle: bool) -> GenerateOptions {
        GenerateOptions {
            method,
            height: 40,
            width: 50,
            circle,
        }
    }

    fn scattered(n: usize) -> Vec<[f32; 2]> {
        let mut rng = Rng::new(7);
        let mut p: Vec<[f32; 2]> = (0..n).map(|_| [rng.uniform(), rng.uniform()]).collect();
        p.extend([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
        p
    }

    /// Linear interpolation reproduces a linear function exactly wherever a triangle covers the pixel, and
    /// the corners make the hull the whole square, so every pixel.
    #[test]
    fn linear_interpolation_is_exact_on_a_plane() {
        let layout = scattered(60);
        let f = |p: [f32; 2]| 0.3 + 2.0 * p[0] - 1.5 * p[1];
        let values: Vec<f32> = layout.iter().map(|&p| f(p)).collect();
        let o = options(Interpolation::Linear, false);
        let map = Surface::new(&layout, &o).unwrap().paint(&values).unwrap();
        for y in 0..o.height {
            for x in 0..o.width {
                let c = [(x as f32 + 0.5) / 50.0, (y as f32 + 0.5) / 40.0];
                let got = map[y * o.width + x];
                assert!((got - f(c)).abs() < 1e-4, "({y}, {x}): {got} vs {}", f(c));
            }
        }
    }

    #[test]
    fn nearest_takes_the_closest_neurons_value() {
        let layout = scattered(30);
        let values: Vec<f32> = (0..layout.len()).map(|i| i as f32).collect();
        let o = options(Interpolation::Nearest, false);
        let surface = Surface::new(&layout, &o).unwrap();
        let map = surface.paint(&values).unwrap();
        let (y, x) = (13, 31);
        let c = [(x as f32 + 0.5) / 50.0, (y as f32 + 0.5) / 40.0];
        let d = |p: [f32; 2]| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2);
        let want = (0..layout.len())
            .min_by(|&a, &b| d(layout[a]).total_cmp(&d(layout[b])))
            .unwrap();
        assert_eq!(map[y * 50 + x], want as f32);
        let regions = surface.regions(&vec![7; layout.len()]);
        assert!(regions.iter().all(|r| *r == Some(7)));
        assert!(surface.paint(&values[..3]).is_err());
    }

    #[test]
    fn the_circle_projection_sends_the_square_into_the_disc() {
        for p in [[0.0, 0.0], [1.0, 0.5], [0.5, 1.0], [1.0, 1.0], [0.2, 0.9]] {
            let q = circle(p);
            let r = ((q[0] - 0.5).powi(2) + (q[1] - 0.5).powi(2)).sqrt();
            assert!(r <= 0.5 + 1e-6, "{p:?} → {q:?}");
        }
        // Corners and edge midpoints land on the circle; the centre stays.
        let q = circle([1.0, 1.0]);
        assert!((q[0] - (0.5 + 0.5 / 2f32.sqrt())).abs() < 1e-6, "{q:?}");
        assert_eq!(circle([0.5, 0.5]), [0.5, 0.5]);
        assert_eq!(circle([1.0, 0.5]), [1.0, 0.5]);
        // Nearest fills the whole disc (linear stops at the projected layout's hull, tested below).
        let o = options(Interpolation::Nearest, true);
        let map = Surface::new(&scattered(40), &o)
            .unwrap()
            .paint(&[1.0; 44])
            .unwrap();
        assert!(map[0].is_nan() && map[20 * 50 + 25] == 1.0);
        let drawn = map.iter().filter(|v| !v.is_nan()).count() as f64;
        // The disc inscribed in a 40 × 50 grid's unit square is an ellipse of π/4 of its pixels.
        assert!(
            (drawn / 2000.0 - std::f64::consts::FRAC_PI_4).abs() < 0.02,
            "{drawn}"
        );
        assert!(
            (map.iter()
                .filter(|v| !v.is_nan())
                .all(|&v| (v - 1.0).abs() < 1e-5))
        );
    }

    /// Linear: pixels outside the layout's convex hull are NaN and belong to no region; inside it they are
    /// drawn; nearest draws every pixel.
    #[test]
    fn linear_maps_are_masked_outside_the_hull() {
        // A right triangle in the lower-left quarter of the square, with points inside it.
        let mut layout = vec![[0.1, 0.1], [0.5, 0.1], [0.1, 0.5]];
        layout.extend([[0.2, 0.2], [0.3, 0.15], [0.15, 0.3]]);
        let values = vec![1.0; layout.len()];
        let o = options(Interpolation::Linear, false);
        let surface = Surface::new(&layout, &o).unwrap();
        let map = surface.paint(&values).unwrap();
        let regions = surface.regions(&[0; 6]);
        let at = |x: f64, y: f64| ((y * 40.0) as usize) * 50 + (x * 50.0) as usize;
        for (x, y, drawn) in [
            (0.2, 0.2, true),
            (0.29, 0.19, true),
            (0.4, 0.4, false), // beyond the hypotenuse x + y = 0.6
            (0.05, 0.05, false),
            (0.9, 0.9, false),
        ] {
            let i = at(x, y);
            assert_eq!(!map[i].is_nan(), drawn, "({x}, {y}): {}", map[i]);
            assert_eq!(regions[i].is_some(), drawn, "({x}, {y})");
        }
        // The drawn part is the triangle's area, 0.08 of the square, to a pixel row's worth.
        let drawn = map.iter().filter(|v| !v.is_nan()).count() as f64 / 2000.0;
        assert!((drawn - 0.08).abs() < 0.015, "{drawn}");
        assert!(map
            .iter()
            .filter(|v| !v.is_nan())
            .all(|&v| (v - 1.0).abs() < 1e-5));
        let nearest = Surface::new(&layout, &options(Interpolation::Nearest, false)).unwrap();
        assert!(nearest.paint(&values).unwrap().iter().all(|v| *v == 1.0));
    }

    #[test]
    fn bad_sizes_and_layouts_are_refused() {
        let mut o = options(Interpolation::Nearest, false);
        o.height = 1;
        assert!(Surface::new(&scattered(5), &o).is_err());
        let o = options(Interpolation::Nearest, false);
        assert!(Surface::new(&[], &o).is_err());
        assert!(Surface::new(&[[f32::NAN, 0.0]], &o).is_err());
    }
}
