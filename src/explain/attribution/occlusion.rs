//! Occlusion sensitivity (Zeiler & Fergus 2013), with Captum's per-pixel averaging.
//!
//! A `W × W` window (all channels) slides over the input with stride `S`, top-left corners
//! `y = 0, S, 2S, …` while `y + W ≤ H` (the same for `x`). Each placement fills the window with the raw value
//! `fill` and records the drop of the target score `d = f(x) − f(x with the window filled)`. A pixel's
//! attribution is the mean drop over the windows covering it, 0 where none does (the last rows/columns when
//! `S` does not divide `H − W`). Output `[C, H, W]`, the same map in every channel.
//!
//! One forward pass per window, on a single reused image buffer: the window is filled in place and restored
//! afterwards. A window whose pixels already all equal `fill` leaves the image unchanged, so its drop is
//! exactly 0 and its forward pass is skipped (on MNIST digits with `fill = 0` that is the blank border, a
//! large share of the windows).

use super::{TargetScore, COMMON};
use crate::catalogue::options::{Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Technique};
use crate::error::{Error, Result};
use crate::model::network::Trace;
use crate::tensor::Tensor;

/// The window side `W` (at most the image's smaller side, checked against the image).
pub const WINDOW: OptionSpec = OptionSpec {
    key: "window",
    flag: "window",
    label: "Window",
    help: "side of the occluding square, pixels",
    kind: Kind::Int {
        min: 1,
        max: None,
        default: Some(5),
    },
    common: false,
    required: false,
};

pub const STRIDE: OptionSpec = OptionSpec {
    key: "stride",
    flag: "stride",
    label: "Stride",
    help: "step between window positions, pixels",
    kind: Kind::Int {
        min: 1,
        max: None,
        default: Some(1),
    },
    common: false,
    required: false,
};

pub const FILL: OptionSpec = OptionSpec {
    key: "fill",
    flag: "fill",
    label: "Fill",
    help: "raw pixel value put inside the window (0 = black)",
    kind: Kind::Float {
        min: 0.0,
        max: 1.0,
        step: 0.01,
        default: Some(0.0),
        per_pixel: false,
    },
    common: false,
    required: false,
};

pub const TECHNIQUE: Technique = Technique {
    id: "occlusion",
    label: "Occlusion",
    family: Family::Attribution,
    command: "attribute",
    output: OutputKind::SignedMap,
    long_running: true,
    stateful: None,
    summary: "Red where covering the image lowers the class score: the parts the model needs.",
    explanation: "A square window slides over the image and is filled with a constant; each pixel gets the \
                  mean drop of the class score over the windows that cover it. No gradients: only forward \
                  passes.",
    paper: Some(crate::explain::deconvnet::ZEILER_FERGUS),
    options: &[COMMON[0], COMMON[1], WINDOW, STRIDE, FILL],
};

/// Occlusion parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Window side `W`, `1 ≤ W ≤ min(H, W_image)`.
    pub window: usize,
    /// Step `S ≥ 1` between window positions.
    pub stride: usize,
    /// Raw pixel value put in the window.
    pub fill: f32,
}

impl Params {
    /// Checks the parameters against an `h × w` image and returns the window corners along each axis.
    fn corners(&self, h: usize, w: usize) -> Result<(Vec<usize>, Vec<usize>)> {
        if self.window == 0 || self.window > h.min(w) {
            return Err(Error::out_of_range(
                "occlusion window",
                self.window,
                format!("1 to {} pixels for a {h}×{w} image", h.min(w)),
            ));
        }
        STRIDE.check_int(TECHNIQUE.id, self.stride as u64)?;
        if !self.fill.is_finite() {
            return Err(Error::out_of_range(
                "occlusion fill",
                self.fill,
                "a finite number",
            ));
        }
        let along = |n: usize| (0..=n - self.window).step_by(self.stride).collect();
        Ok((along(h), along(w)))
    }
}

/// Occlusion in steps: the window placements done so far and their summed drops. [`occlusion`] runs it to the
/// end in one call; [`super::Job`] a few windows at a time, with the same additions in the same order.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    params: Params,
    /// Every window's top-left corner `(y, x)`, row by row.
    corners: Vec<(usize, usize)>,
    /// `f(x)` of the clean input.
    clean: f32,
    next: usize,
    drop_sum: Vec<f64>,
    cover: Vec<u32>,
}

impl Run {
    /// Checks the parameters against the input of `trace`.
    pub fn new(trace: &Trace, target: &TargetScore, params: &Params) -> Result<Run> {
        let (_, h, w) = trace.input().chw()?;
        let (ys, xs) = params.corners(h, w)?;
        Ok(Run {
            params: *params,
            corners: ys
                .iter()
                .flat_map(|&y| xs.iter().map(move |&x| (y, x)))
                .collect(),
            clean: target.score(trace)?,
            next: 0,
            drop_sum: vec![0.0f64; h * w],
            cover: vec![0u32; h * w],
        })
    }

    /// `(windows done, windows in all)`.
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.corners.len())
    }

    /// Runs the next `windows` window placements, calling `progress(done, windows)` after each.
    pub fn advance(
        &mut self,
        trace: &Trace,
        target: &TargetScore,
        windows: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<()> {
        let x = trace.input();
        let (channels, h, w) = x.chw()?;
        let (win, fill) = (self.params.window, self.params.fill);
        let mut image = x.clone();
        // The rows of one window placement as ranges into the flat [C, H, W] buffer.
        let rows = |y0: usize, x0: usize| {
            (0..channels).flat_map(move |c| {
                (y0..y0 + win).map(move |y| {
                    let start = (c * h + y) * w + x0;
                    start..start + win
                })
            })
        };
        let end = self.next.saturating_add(windows).min(self.corners.len());
        for i in self.next..end {
            let (y0, x0) = self.corners[i];
            let unchanged = rows(y0, x0).all(|r| x.data()[r].iter().all(|&v| v == fill));
            let drop = if unchanged {
                0.0
            } else {
                for r in rows(y0, x0) {
                    image.data_mut()[r].fill(fill);
                }
                let occluded = target.score(&trace.network().forward(&image)?)?;
                for r in rows(y0, x0) {
                    image.data_mut()[r.clone()].copy_from_slice(&x.data()[r]);
                }
                self.clean - occluded
            };
            for y in y0..y0 + win {
                for p in y * w + x0..y * w + x0 + win {
                    self.drop_sum[p] += drop as f64;
                    self.cover[p] += 1;
                }
            }
            self.next = i + 1;
            progress(i + 1, self.corners.len());
        }
        Ok(())
    }

    /// The map: each pixel's mean drop over the windows that covered it (0 where none did).
    pub fn finish(&self, trace: &Trace) -> Result<Tensor> {
        if self.next < self.corners.len() {
            return Err(Error::internal("occlusion finished before its last window"));
        }
        let (channels, h, w) = trace.input().chw()?;
        let plane: Vec<f32> = self
            .drop_sum
            .iter()
            .zip(&self.cover)
            .map(|(&s, &n)| if n > 0 { (s / n as f64) as f32 } else { 0.0 })
            .collect();
        Tensor::from_vec(&[channels, h, w], plane.repeat(channels))
    }
}

/// Occlusion map of the input of `trace`, calling `progress(done, windows)` after each window.
pub fn occlusion(
    trace: &Trace,
    target: &TargetScore,
    params: &Params,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Tensor> {
    let mut run = Run::new(trace, target, params)?;
    run.advance(trace, target, usize::MAX, progress)?;
    run.finish(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_follow_the_window_and_stride() {
        let p = Params {
            window: 6,
            stride: 4,
            fill: 0.5,
        };
        assert_eq!(p.corners(28, 28).unwrap().0, vec![0, 4, 8, 12, 16, 20]);
        let p = Params {
            window: 3,
            stride: 2,
            fill: 0.0,
        };
        assert_eq!(p.corners(5, 4).unwrap(), (vec![0, 2], vec![0]));
        for bad in [
            Params { window: 0, ..p },
            Params { window: 5, ..p },
            Params { stride: 0, ..p },
            Params {
                fill: f32::NAN,
                ..p
            },
        ] {
            assert!(bad.corners(5, 4).is_err(), "{bad:?}");
        }
    }
}
