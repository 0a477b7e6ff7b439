//! Colormaps and value scales: a [`Scale`] maps a value to `t` in `[0, 1]`, a [`Colormap`] maps `t` to a colour.
//!
//! Viridis, magma, inferno and plasma are matplotlib's perceptually uniform maps (van der Walt & Smith, 2015):
//! each is stored as 33 anchors sampled from matplotlib's 256-entry tables at `t = k/32` and interpolated
//! linearly, within 3/255 of matplotlib everywhere. They were printed with (matplotlib 3.11):
//!
//! ```python
//! import numpy as np, matplotlib
//! lut = np.array(matplotlib.colormaps["viridis"].colors) * 255
//! print(np.round(lut[np.round(np.arange(33) * 255 / 32).astype(int)]).astype(int).tolist())
//! ```
//!
//! `Diverging` is matplotlib's `RdBu_r`, which is itself the linear interpolation of ColorBrewer's 11-class RdBu
//! (reversed: blue for negative, white at the centre, red for positive), so its 11 anchors are exact. `Gray` runs
//! from black to white.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// An RGB colour, 8 bits per channel.
pub type Rgb = [u8; 3];

/// A colormap from `t ∈ [0, 1]` to a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colormap {
    Viridis,
    Magma,
    Inferno,
    Plasma,
    Gray,
    /// Blue–white–red (matplotlib's `RdBu_r`); use with [`Scale::symmetric`] so that zero is white.
    Diverging,
}

impl Colormap {
    /// Every colormap, in the order of their names in error messages.
    pub const ALL: [Colormap; 6] = [
        Colormap::Viridis,
        Colormap::Magma,
        Colormap::Inferno,
        Colormap::Plasma,
        Colormap::Gray,
        Colormap::Diverging,
    ];

    /// The name that [`FromStr`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Inferno => "inferno",
            Colormap::Plasma => "plasma",
            Colormap::Gray => "gray",
            Colormap::Diverging => "diverging",
        }
    }

    /// Whether the map diverges from a neutral centre, for values whose sign matters (drawn with
    /// [`Scale::symmetric`], zero at `t = 0.5`); the others run from low to high.
    pub fn signed(self) -> bool {
        matches!(self, Colormap::Diverging)
    }

    /// The colormap sampled at `t = i/255` for `i = 0..256`: 256 RGB triples, the table the page draws with.
    pub fn lut(self) -> Vec<u8> {
        (0..=255u8)
            .flat_map(|i| self.rgb(f32::from(i) / 255.0))
            .collect()
    }

    /// The colour at `t`, clamped to `[0, 1]` (NaN counts as 0), interpolated linearly between anchors.
    pub fn rgb(self, t: f32) -> Rgb {
        let anchors = self.anchors();
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let intervals = anchors.len() - 1;
        let position = t * intervals as f32;
        let index = (position.floor() as usize).min(intervals - 1);
        let fraction = position - index as f32;
        let (low, high) = (anchors[index], anchors[index + 1]);
        std::array::from_fn(|c| {
            let (a, b) = (f32::from(low[c]), f32::from(high[c]));
            (a + (b - a) * fraction).round() as u8
        })
    }

    fn anchors(self) -> &'static [Rgb] {
        match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Magma => &MAGMA,
            Colormap::Inferno => &INFERNO,
            Colormap::Plasma => &PLASMA,
            Colormap::Gray => &[[0, 0, 0], [255, 255, 255]],
            Colormap::Diverging => &RDBU_R,
        }
    }
}

impl FromStr for Colormap {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Colormap::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Colormap::ALL.iter().map(|c| c.name()).collect();
                Error::unknown("colormap", name, &names)
            })
    }
}

impl fmt::Display for Colormap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A linear map from values in `[low, high]` to `t ∈ [0, 1]`, clamping outside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    low: f32,
    high: f32,
}

impl Scale {
    /// `min ↦ 0`, `max ↦ 1`. The bounds are swapped if given in the wrong order; a non-finite bound is replaced
    /// by the other one (0 if both are non-finite), so a scale is always finite.
    pub fn range(min: f32, max: f32) -> Scale {
        let (a, b) = match (min.is_finite(), max.is_finite()) {
            (true, true) => (min, max),
            (true, false) => (min, min),
            (false, true) => (max, max),
            (false, false) => (0.0, 0.0),
        };
        Scale {
            low: a.min(b),
            high: a.max(b),
        }
    }

    /// `−max_abs ↦ 0`, `0 ↦ 0.5`, `max_abs ↦ 1` (the sign of `max_abs` is ignored).
    pub fn symmetric(max_abs: f32) -> Scale {
        let m = max_abs.abs();
        Scale::range(-m, m)
    }

    /// The scale that fits `values` (non-finite ones ignored): symmetric about zero for the diverging map,
    /// otherwise their minimum to maximum.
    pub fn fit(values: &[f32], colormap: Colormap) -> Scale {
        let (min, max) = crate::tensor::min_max(values);
        match colormap {
            Colormap::Diverging => Scale::symmetric(min.abs().max(max.abs())),
            _ => Scale::range(min, max),
        }
    }

    pub fn low(self) -> f32 {
        self.low
    }

    pub fn high(self) -> f32 {
        self.high
    }

    /// Where `value` falls: `(value − low) / (high − low)` clamped to `[0, 1]`; 0.5 for every value when the
    /// scale is constant (`low == high`); `None` for NaN. Computed in `f64` so that wide ranges cannot overflow.
    pub fn t(self, value: f32) -> Option<f32> {
        if value.is_nan() {
            return None;
        }
        let span = f64::from(self.high) - f64::from(self.low);
        if span <= 0.0 {
            return Some(0.5);
        }
        let t = (f64::from(value) - f64::from(self.low)) / span;
        Some(t.clamp(0.0, 1.0) as f32)
    }
}

#[rustfmt::skip]
const VIRIDIS: [Rgb; 33] = [
    [68, 1, 84], [71, 13, 96], [72, 24, 106], [72, 35, 116], [71, 45, 123], [69, 55, 129], [66, 64, 134],
    [62, 73, 137], [59, 82, 139], [55, 91, 141], [51, 99, 141], [47, 107, 142], [44, 114, 142], [41, 122, 142],
    [38, 130, 142], [35, 137, 142], [33, 145, 140], [31, 151, 139], [31, 159, 136], [33, 166, 133],
    [39, 173, 129], [49, 181, 123], [61, 188, 116], [76, 194, 108], [92, 200, 99], [110, 206, 88],
    [129, 211, 77], [149, 216, 64], [170, 220, 50], [192, 223, 37], [213, 226, 26], [234, 229, 26],
    [253, 231, 37],
];

#[rustfmt::skip]
const MAGMA: [Rgb; 33] = [
    [0, 0, 4], [3, 3, 18], [10, 8, 34], [19, 13, 52], [29, 17, 71], [41, 17, 90], [54, 16, 107], [68, 15, 118],
    [81, 18, 124], [93, 23, 127], [106, 28, 129], [118, 33, 129], [131, 38, 129], [144, 42, 129],
    [156, 46, 127], [170, 51, 125], [183, 55, 121], [194, 59, 117], [207, 64, 112], [219, 71, 106],
    [229, 80, 100], [238, 91, 94], [244, 105, 92], [249, 120, 93], [251, 135, 97], [253, 150, 104],
    [254, 165, 113], [254, 180, 123], [254, 194, 135], [254, 209, 148], [253, 224, 161], [252, 238, 176],
    [252, 253, 191],
];

#[rustfmt::skip]
const INFERNO: [Rgb; 33] = [
    [0, 0, 4], [4, 3, 18], [11, 7, 36], [21, 11, 55], [33, 12, 74], [47, 10, 91], [61, 9, 101], [74, 12, 107],
    [87, 16, 110], [100, 21, 110], [113, 25, 110], [125, 30, 109], [138, 34, 106], [151, 39, 102],
    [163, 44, 97], [176, 49, 91], [188, 55, 84], [198, 61, 77], [208, 69, 69], [218, 78, 60], [227, 89, 51],
    [235, 100, 41], [241, 113, 31], [246, 126, 20], [249, 140, 10], [251, 155, 6], [252, 170, 15],
    [251, 186, 31], [249, 201, 50], [245, 217, 73], [242, 232, 101], [243, 245, 134], [252, 255, 164],
];

#[rustfmt::skip]
const PLASMA: [Rgb; 33] = [
    [13, 8, 135], [34, 6, 144], [49, 5, 151], [63, 4, 156], [76, 2, 161], [89, 1, 165], [102, 0, 167],
    [114, 1, 168], [126, 3, 168], [138, 9, 165], [149, 17, 161], [160, 26, 156], [170, 35, 149],
    [179, 44, 142], [188, 53, 135], [196, 62, 127], [204, 71, 120], [210, 79, 113], [217, 88, 106],
    [223, 98, 99], [229, 107, 93], [235, 117, 86], [240, 127, 79], [244, 137, 72], [248, 148, 65],
    [251, 159, 58], [253, 171, 51], [254, 183, 45], [253, 195, 40], [252, 208, 37], [249, 221, 37],
    [245, 235, 39], [240, 249, 33],
];

/// ColorBrewer RdBu (11 classes), reversed.
#[rustfmt::skip]
const RDBU_R: [Rgb; 11] = [
    [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
    [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_diverging_map_is_signed_and_its_centre_is_white() {
        let signed: Vec<Colormap> = Colormap::ALL.into_iter().filter(|c| c.signed()).collect();
        assert_eq!(signed, [Colormap::Diverging]);
        // RdBu_r's middle anchor is ColorBrewer's #f7f7f7: zero is (near) white.
        assert_eq!(Colormap::Diverging.rgb(0.5), [247, 247, 247]);
        // The unsigned maps run from dark to light.
        for c in Colormap::ALL.into_iter().filter(|c| !c.signed()) {
            let luma = |rgb: Rgb| rgb.iter().map(|&v| u32::from(v)).sum::<u32>();
            assert!(luma(c.rgb(0.0)) < luma(c.rgb(1.0)), "{c}");
        }
    }

    fn assert_near(got: Rgb, want: Rgb, tolerance: u8, what: &str) {
        for c in 0..3 {
            assert!(
                got[c].abs_diff(want[c]) <= tolerance,
                "{what}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn endpoints_match_matplotlib_exactly() {
        assert_eq!(Colormap::Viridis.rgb(0.0), [68, 1, 84]);
        assert_eq!(Colormap::Viridis.rgb(1.0), [253, 231, 37]);
        assert_eq!(Colormap::Magma.rgb(0.0), [0, 0, 4]);
        assert_eq!(Colormap::Magma.rgb(1.0), [252, 253, 191]);
        assert_eq!(Colormap::Inferno.rgb(1.0), [252, 255, 164]);
        assert_eq!(Colormap::Plasma.rgb(0.0), [13, 8, 135]);
        assert_eq!(Colormap::Gray.rgb(0.0), [0, 0, 0]);
        assert_eq!(Colormap::Gray.rgb(1.0), [255, 255, 255]);
        assert_eq!(Colormap::Diverging.rgb(0.0), [5, 48, 97]);
        assert_eq!(Colormap::Diverging.rgb(0.5), [247, 247, 247]);
        assert_eq!(Colormap::Diverging.rgb(1.0), [103, 0, 31]);
    }

    #[test]
    fn interior_colours_are_within_three_levels_of_matplotlib() {
        // matplotlib.colormaps[name](t, bytes=True) for t = 0.25, 0.5, 0.75.
        let reference: [(Colormap, [Rgb; 3]); 6] = [
            (
                Colormap::Viridis,
                [[58, 82, 139], [32, 144, 140], [94, 201, 97]],
            ),
            (
                Colormap::Magma,
                [[80, 18, 123], [182, 54, 121], [251, 136, 97]],
            ),
            (
                Colormap::Inferno,
                [[87, 15, 109], [187, 55, 84], [249, 142, 8]],
            ),
            (
                Colormap::Plasma,
                [[126, 3, 167], [203, 71, 119], [248, 149, 64]],
            ),
            (
                Colormap::Diverging,
                [[107, 172, 208], [247, 246, 246], [228, 128, 101]],
            ),
            (
                Colormap::Gray,
                [[64, 64, 64], [128, 128, 128], [192, 192, 192]],
            ),
        ];
        for (map, colours) in reference {
            for (t, want) in [0.25, 0.5, 0.75].into_iter().zip(colours) {
                assert_near(map.rgb(t), want, 3, &format!("{map} at {t}"));
            }
        }
    }

    #[test]
    fn rgb_clamps_and_survives_nan() {
        for map in Colormap::ALL {
            assert_eq!(map.rgb(-3.0), map.rgb(0.0));
            assert_eq!(map.rgb(7.0), map.rgb(1.0));
            assert_eq!(map.rgb(f32::NAN), map.rgb(0.0));
            assert_eq!(map.rgb(f32::INFINITY), map.rgb(1.0));
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for map in Colormap::ALL {
            assert_eq!(map.name().parse::<Colormap>().unwrap(), map);
            assert_eq!(map.to_string(), map.name());
        }
        let err = "jet".parse::<Colormap>().unwrap_err().to_string();
        assert!(
            err.contains("\"jet\"")
                && err.contains("viridis, magma, inferno, plasma, gray, diverging"),
            "{err}"
        );
    }

    #[test]
    fn range_scale_maps_linearly_and_clamps() {
        let s = Scale::range(-1.0, 3.0);
        assert_eq!(s.t(-1.0), Some(0.0));
        assert_eq!(s.t(0.0), Some(0.25));
        assert_eq!(s.t(3.0), Some(1.0));
        assert_eq!(s.t(10.0), Some(1.0));
        assert_eq!(s.t(f32::NEG_INFINITY), Some(0.0));
        assert_eq!(s.t(f32::NAN), None);
        assert_eq!(
            Scale::range(3.0, -1.0),
            s,
            "bounds given in the wrong order"
        );
    }

    #[test]
    fn symmetric_scale_puts_zero_in_the_middle() {
        let s = Scale::symmetric(-2.0);
        assert_eq!((s.low(), s.high()), (-2.0, 2.0));
        assert_eq!(s.t(0.0), Some(0.5));
        assert_eq!(s.t(-2.0), Some(0.0));
        assert_eq!(s.t(1.0), Some(0.75));
    }

    #[test]
    fn degenerate_scales_do_not_divide_by_zero() {
        assert_eq!(Scale::range(4.0, 4.0).t(4.0), Some(0.5));
        assert_eq!(Scale::range(4.0, 4.0).t(-9.0), Some(0.5));
        assert_eq!(Scale::symmetric(0.0).t(1.0), Some(0.5));
        let nan = Scale::range(f32::NAN, 2.0);
        assert_eq!((nan.low(), nan.high()), (2.0, 2.0));
        let none = Scale::symmetric(f32::INFINITY);
        assert_eq!((none.low(), none.high()), (0.0, 0.0));
        let wide = Scale::range(-f32::MAX, f32::MAX);
        assert_eq!(wide.t(0.0), Some(0.5));
    }

    #[test]
    fn fit_is_symmetric_only_for_the_diverging_map() {
        let values = [-1.0, 0.5, f32::NAN, 3.0];
        let diverging = Scale::fit(&values, Colormap::Diverging);
        assert_eq!((diverging.low(), diverging.high()), (-3.0, 3.0));
        let viridis = Scale::fit(&values, Colormap::Viridis);
        assert_eq!((viridis.low(), viridis.high()), (-1.0, 3.0));
        let empty = Scale::fit(&[], Colormap::Gray);
        assert_eq!(empty.t(1.0), Some(0.5));
    }
}
