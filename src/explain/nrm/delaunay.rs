//! Delaunay triangulation of points in the plane by Bowyer–Watson (Bowyer 1981, Watson 1981): start from a
//! triangle that holds every point, insert the points one by one, remove the triangles whose circumcircle
//! holds the new point and join the hole's boundary to it; at the end drop the triangles that touch the
//! outer triangle. `O(N²)` for `N` points (enough for the ≤ 2,000 neurons of a response map), in `f64`.
//!
//! A point that coincides with one already inserted is left out (it gets no triangle). Near the convex
//! hull a few thin triangles can be missing (the outer triangle is finite); callers treat what no triangle
//! covers as outside.

/// A triangle: three indices into the points, counter-clockwise.
pub type Triangle = [usize; 3];

/// Twice the signed area of `a b c` (positive when counter-clockwise).
pub fn orientation(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// The convex hull of `points`, counter-clockwise, without collinear points (Andrew's monotone chain).
pub fn convex_hull(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let mut hull: Vec<[f64; 2]> = Vec::new();
    for pass in 0..2 {
        let start = hull.len();
        let chain: Box<dyn Iterator<Item = &[f64; 2]>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in chain {
            while hull.len() >= start + 2
                && orientation(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Whether `p` lies in the counter-clockwise convex polygon `hull` (edges included, to `1e-12`); a hull of
/// fewer than three points holds nothing.
pub fn in_hull(hull: &[[f64; 2]], p: [f64; 2]) -> bool {
    let n = hull.len();
    n >= 3 && (0..n).all(|i| orientation(hull[i], hull[(i + 1) % n], p) >= -1e-12)
}

/// Whether `p` lies strictly inside the circumcircle of the counter-clockwise triangle `a b c`.
fn in_circumcircle(a: [f64; 2], b: [f64; 2], c: [f64; 2], p: [f64; 2]) -> bool {
    let (ax, ay) = (a[0] - p[0], a[1] - p[1]);
    let (bx, by) = (b[0] - p[0], b[1] - p[1]);
    let (cx, cy) = (c[0] - p[0], c[1] - p[1]);
    let det = (ax * ax + ay * ay) * (bx * cy - cx * by) - (bx * bx + by * by) * (ax * cy - cx * ay)
        + (cx * cx + cy * cy) * (ax * by - bx * ay);
    det > 0.0
}

/// The Delaunay triangles of `points` (finite), counter-clockwise.
pub fn triangulate(points: &[[f64; 2]]) -> Vec<Triangle> {
    let n = points.len();
    if n < 3 {
        return Vec::new();
    }
    let (lo, hi) = points.iter().fold(
        ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]),
        |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1])],
                [hi[0].max(p[0]), hi[1].max(p[1])],
            )
        },
    );
    let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-9) * 100.0;
    let mut all = points.to_vec();
    all.push([centre[0] - span, centre[1] - span]);
    all.push([centre[0] + span, centre[1] - span]);
    all.push([centre[0], centre[1] + span]);
    let mut triangles: Vec<Triangle> = vec![[n, n + 1, n + 2]];
    let mut inserted: Vec<usize> = Vec::with_capacity(n);
    for i in 0..n {
        let p = all[i];
        if inserted.iter().any(|&j| all[j] == p) {
            continue;
        }
        let (bad, good): (Vec<Triangle>, Vec<Triangle>) = triangles
            .into_iter()
            .partition(|t| in_circumcircle(all[t[0]], all[t[1]], all[t[2]], p));
        triangles = good;
        let mut edges: Vec<[usize; 2]> = bad
            .iter()
            .flat_map(|t| [[t[0], t[1]], [t[1], t[2]], [t[2], t[0]]])
            .collect();
        let key = |e: &[usize; 2]| (e[0].min(e[1]), e[0].max(e[1]));
        let mut keys: Vec<(usize, usize)> = edges.iter().map(key).collect();
        keys.sort_unstable();
        edges.retain(|e| {
            let k = key(e);
            let first = keys.partition_point(|x| *x < k);
            keys.get(first + 1) != Some(&k)
        });
        for [a, b] in edges {
            // The boundary edges keep the orientation of their bad triangle, so `a b p` is counter-clockwise.
            triangles.push([a, b, i]);
        }
        inserted.push(i);
    }
    triangles.retain(|t| t.iter().all(|&v| v < n));
    triangles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn a_square_makes_two_triangles() {
        let t = triangulate(&[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
        assert_eq!(t.len(), 2, "{t:?}");
    }

    /// Random points: every triangle counter-clockwise, no point inside any triangle's circumcircle (the
    /// Delaunay property), the triangles' areas summing to the convex hull's (up to the thin ones the
    /// finite outer triangle may miss: within 1%).
    #[test]
    fn random_points_are_triangulated_the_delaunay_way() {
        let mut rng = Rng::new(3);
        let points: Vec<[f64; 2]> = (0..200)
            .map(|_| [f64::from(rng.uniform()), f64::from(rng.uniform())])
            .collect();
        let triangles = triangulate(&points);
        let mut area = 0.0;
        for t in &triangles {
            let [a, b, c] = t.map(|i| points[i]);
            let o = orientation(a, b, c);
            assert!(o > 0.0, "{t:?}");
            area += o / 2.0;
            for (i, &p) in points.iter().enumerate() {
                if !t.contains(&i) {
                    assert!(!in_circumcircle(a, b, c, p), "{t:?} holds point {i}");
                }
            }
        }
        let hull = hull_area(&points);
        assert!((area - hull).abs() < 0.01 * hull, "{area} vs {hull}");
        // Euler: a triangulation of N points with h on the hull has 2N − 2 − h triangles.
        assert!(
            triangles.len() > 2 * points.len() - 2 - 40,
            "{}",
            triangles.len()
        );
    }

    #[test]
    fn the_hull_holds_its_points_and_nothing_beyond() {
        let points = [
            [0.0, 0.0],
            [1.0, 0.0],
            [0.5, 0.5],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.5, 0.0],
        ];
        let hull = convex_hull(&points);
        // The square's corners, counter-clockwise; the collinear (0.5, 0) and the inner point left out.
        assert_eq!(hull, vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]);
        assert!(points.iter().all(|&p| in_hull(&hull, p)));
        assert!(!in_hull(&hull, [1.0 + 1e-9, 0.5]) && !in_hull(&hull, [0.5, -1e-9]));
        assert!(!in_hull(&hull[..2], [0.5, 0.0]), "a segment holds nothing");
        assert!((hull_area(&points) - 1.0).abs() < 1e-12);
    }

    /// Area of the convex hull.
    fn hull_area(points: &[[f64; 2]]) -> f64 {
        let hull = convex_hull(points);
        let n = hull.len();
        (0..n)
            .map(|i| {
                let (a, b) = (hull[i], hull[(i + 1) % n]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum::<f64>()
            / 2.0
    }
}
