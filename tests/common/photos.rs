//! A generator of synthetic phone photos of handwritten digits: t10k digits drawn onto paper-like RGB
//! backgrounds, to test the preprocessing of `--image` and the page's upload (docs/preprocessing.md states every
//! parameter and the measured accuracies).
//!
//! One photo is made in this order, every number drawn from a [`Rng`] seeded by the set's `u64` seed and the
//! condition, so a seed always gives the same bytes:
//! 1. **Frame:** `width` and `height` each uniform in 120..=240 pixels.
//! 2. **Paper:** a grey level `g` uniform in [0.70, 0.95], slightly warm: RGB `(g, 0.98 g, 0.92 g)`.
//! 3. **Ruled lines** (notebook paper): horizontal lines every `pitch` pixels (10–20 % of the shorter side,
//!    random phase), 1–2 pixels thick, light blue `(0.55, 0.70, 0.92)` or grey `(0.62, 0.62, 0.66)` at opacity
//!    0.6–1; with probability ½ a red margin line `(0.85, 0.25, 0.25)`, 1–2 pixels thick, at 8–25 % of the width.
//! 4. **Digit:** a t10k digit (bilinearly upscaled) whose ink bounding box is `scale` × the shorter side tall
//!    (45–60 %, or 25–70 % under *placement*), its box centre at the frame centre ± 5 % (anywhere the box fits
//!    under *placement*).
//! 5. **Pen width:** the upscaled ink is eroded (min filter) or dilated (max filter) with a disc of radius
//!    `|pen|` pixels (a round nib): thinner pens −0.45 k to −0.2 k, thicker +0.25 k to +0.8 k, where `k` is the upscaling
//!    factor (an MNIST stroke is about 2.5 k pixels wide).
//! 6. **Ink colour:** black `(0.10, 0.10, 0.12)` at opacity 1, blue ballpoint `(0.12, 0.20, 0.55)` at 0.95 or
//!    pencil grey `(0.42, 0.42, 0.45)` at 0.9, composited over the paper.
//! 7. **Shadow:** the whole photo multiplied by `1 − depth · smoothstep(t)`, `depth` in [0.40, 0.60], `t` rising
//!    from 0 at a random 20–50 % of the way across to 1 at the far edge, towards a side or a corner.
//! 8. **Blur:** a Gaussian of σ uniform in [0.8, 2.0] pixels (separable, 3σ radius, edges clamped).
//! 9. **Noise:** Gaussian noise of σ = 10 or 20 grey levels (of 255) added to each channel independently, then
//!    rounding to 8 bits.
//!
//! Each [`Condition`] changes one of these from the clean baseline (black ink, no lines, no shadow, no blur, no
//! noise, no pen change); [`Condition::Combined`] draws all of them at once (noise 10 or 20, a shadow, lines
//! with probability ½, blur σ in [0.5, 1.5], free placement, any pen and ink).

use convscope::io::idx::IdxImages;
use convscope::render::RgbImage;
use convscope::rng::Rng;

/// The seed of the development photo set (tuning looks at these photos only).
pub const DEVELOPMENT_SEED: u64 = 20_261_201;
/// The seed of the held-out acceptance set, never used while tuning.
pub const HELD_OUT_SEED: u64 = 0x00C0_FFEE_5EED_0014;

type Rgb = [f32; 3];

/// What varies from the clean baseline photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Clean,
    Noise10,
    Noise20,
    Shadow,
    Ruled,
    Blur,
    Placement,
    Pen,
    Ink,
    Combined,
}

impl Condition {
    pub const ALL: [Condition; 10] = [
        Condition::Clean,
        Condition::Noise10,
        Condition::Noise20,
        Condition::Shadow,
        Condition::Ruled,
        Condition::Blur,
        Condition::Placement,
        Condition::Pen,
        Condition::Ink,
        Condition::Combined,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Condition::Clean => "clean",
            Condition::Noise10 => "noise σ=10",
            Condition::Noise20 => "noise σ=20",
            Condition::Shadow => "shadow",
            Condition::Ruled => "ruled lines",
            Condition::Blur => "blur",
            Condition::Placement => "placement",
            Condition::Pen => "pen width",
            Condition::Ink => "ink colour",
            Condition::Combined => "combined",
        }
    }
}

/// A shadow darkening the photo towards a side or a corner.
#[derive(Debug, Clone, PartialEq)]
pub struct Shadow {
    /// Unit direction in which the shadow deepens, e.g. `(1, 0)` (right side) or `(0.71, 0.71)` (corner).
    pub direction: (f32, f32),
    /// Where along that direction (0 = the bright end, 1 = the dark end) the shadow starts.
    pub start: f32,
    /// The fraction of the light removed at the dark end.
    pub depth: f32,
}

/// Ruled notebook lines and an optional margin line.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruled {
    pub pitch: usize,
    pub phase: usize,
    pub thickness: usize,
    pub colour: Rgb,
    pub opacity: f32,
    /// Left column and thickness of the red margin line.
    pub margin: Option<(usize, usize)>,
}

/// Every parameter of one photo (see the module documentation for their ranges).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub width: usize,
    pub height: usize,
    pub paper: Rgb,
    pub ruled: Option<Ruled>,
    /// Height of the digit's ink box over the frame's shorter side.
    pub scale: f32,
    /// Centre of the digit's ink box, in fractions of the frame's width and height.
    pub centre: (f32, f32),
    /// Pen change in units of the upscaling factor: < 0 erodes, > 0 dilates.
    pub pen: f32,
    pub ink: Rgb,
    pub ink_opacity: f32,
    pub shadow: Option<Shadow>,
    pub blur_sigma: f32,
    pub noise_sigma: f32,
}

/// One generated photo and the t10k digit it shows.
pub struct Photo {
    pub index: usize,
    pub label: u8,
    pub params: Params,
    pub image: RgbImage,
}

fn uniform(rng: &mut Rng, low: f32, high: f32) -> f32 {
    low + (high - low) * rng.uniform()
}

fn paper(rng: &mut Rng) -> Rgb {
    let g = uniform(rng, 0.70, 0.95);
    [g, 0.98 * g, 0.92 * g]
}

fn ruled(rng: &mut Rng, width: usize, height: usize) -> Ruled {
    let pitch = (uniform(rng, 0.10, 0.20) * width.min(height) as f32).round() as usize;
    let colour = if rng.below(2) == 0 {
        [0.55, 0.70, 0.92]
    } else {
        [0.62, 0.62, 0.66]
    };
    let margin = (rng.below(2) == 0).then(|| {
        let x = (uniform(rng, 0.08, 0.25) * width as f32) as usize;
        (x, 1 + rng.below(2))
    });
    Ruled {
        pitch,
        phase: rng.below(pitch),
        thickness: 1 + rng.below(2),
        colour,
        opacity: uniform(rng, 0.6, 1.0),
        margin,
    }
}

fn shadow(rng: &mut Rng) -> Shadow {
    const DIRECTIONS: [(f32, f32); 8] = [
        (1.0, 0.0),
        (-1.0, 0.0),
        (0.0, 1.0),
        (0.0, -1.0),
        (0.71, 0.71),
        (-0.71, 0.71),
        (0.71, -0.71),
        (-0.71, -0.71),
    ];
    Shadow {
        direction: DIRECTIONS[rng.below(DIRECTIONS.len())],
        start: uniform(rng, 0.2, 0.5),
        depth: uniform(rng, 0.4, 0.6),
    }
}

/// A pen change: a thinner or a thicker pen, equally likely.
fn pen(rng: &mut Rng) -> f32 {
    if rng.below(2) == 0 {
        -uniform(rng, 0.2, 0.45)
    } else {
        uniform(rng, 0.25, 0.8)
    }
}

fn ink(rng: &mut Rng) -> (Rgb, f32) {
    match rng.below(3) {
        0 => ([0.10, 0.10, 0.12], 1.0),
        1 => ([0.12, 0.20, 0.55], 0.95),
        _ => ([0.42, 0.42, 0.45], 0.9),
    }
}

/// The parameters of one photo under `condition`.
pub fn params(condition: Condition, rng: &mut Rng) -> Params {
    let width = 120 + rng.below(121);
    let height = 120 + rng.below(121);
    let mut p = Params {
        width,
        height,
        paper: paper(rng),
        ruled: None,
        scale: uniform(rng, 0.45, 0.60),
        centre: (uniform(rng, 0.45, 0.55), uniform(rng, 0.45, 0.55)),
        pen: 0.0,
        ink: [0.10, 0.10, 0.12],
        ink_opacity: 1.0,
        shadow: None,
        blur_sigma: 0.0,
        noise_sigma: 0.0,
    };
    let placement = |p: &mut Params, rng: &mut Rng| {
        p.scale = uniform(rng, 0.25, 0.70);
        // The box centre anywhere the box fits (its width is at most its height for nearly every digit).
        let half_x = 0.5 * p.scale * width.min(height) as f32 / width as f32;
        let half_y = 0.5 * p.scale * width.min(height) as f32 / height as f32;
        p.centre = (
            uniform(rng, half_x, 1.0 - half_x),
            uniform(rng, half_y, 1.0 - half_y),
        );
    };
    match condition {
        Condition::Clean => {}
        Condition::Noise10 => p.noise_sigma = 10.0,
        Condition::Noise20 => p.noise_sigma = 20.0,
        Condition::Shadow => p.shadow = Some(shadow(rng)),
        Condition::Ruled => p.ruled = Some(ruled(rng, width, height)),
        Condition::Blur => p.blur_sigma = uniform(rng, 0.8, 2.0),
        Condition::Placement => placement(&mut p, rng),
        Condition::Pen => p.pen = pen(rng),
        Condition::Ink => (p.ink, p.ink_opacity) = ink(rng),
        Condition::Combined => {
            p.noise_sigma = if rng.below(2) == 0 { 10.0 } else { 20.0 };
            p.shadow = Some(shadow(rng));
            p.ruled = (rng.below(2) == 0).then(|| ruled(rng, width, height));
            p.blur_sigma = uniform(rng, 0.5, 1.5);
            placement(&mut p, rng);
            p.pen = if rng.below(3) == 0 { 0.0 } else { pen(rng) };
            (p.ink, p.ink_opacity) = ink(rng);
        }
    }
    p
}

/// A single-channel `width × height` map.
struct Map {
    width: usize,
    height: usize,
    values: Vec<f32>,
}

impl Map {
    fn at(&self, x: i64, y: i64) -> f32 {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return 0.0;
        }
        self.values[y as usize * self.width + x as usize]
    }

    fn bilinear(&self, x: f32, y: f32) -> f32 {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = self.at(x0, y0) * (1.0 - fx) + self.at(x0 + 1, y0) * fx;
        let bottom = self.at(x0, y0 + 1) * (1.0 - fx) + self.at(x0 + 1, y0 + 1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// A min (`erode`) or max filter over a disc of radius `radius` (a round pen nib); the outside counts as
    /// no ink.
    fn morphology(&self, radius: usize, erode: bool) -> Map {
        let r = radius as i64;
        // Half-widths of the disc's rows.
        let spans: Vec<(i64, i64)> = (-r..=r)
            .map(|dy| (dy, ((r * r - dy * dy) as f64).sqrt().floor() as i64))
            .collect();
        let mut values = Vec::with_capacity(self.values.len());
        for y in 0..self.height as i64 {
            for x in 0..self.width as i64 {
                let mut acc = if erode { 1.0f32 } else { 0.0 };
                for &(dy, half) in &spans {
                    for dx in -half..=half {
                        let v = self.at(x + dx, y + dy);
                        acc = if erode { acc.min(v) } else { acc.max(v) };
                    }
                }
                values.push(acc);
            }
        }
        Map { values, ..*self }
    }
}

/// The digit's ink (1 = ink) over the whole frame: upscaled, placed and with the pen change applied.
fn digit_alpha(digit: &[f32], p: &Params) -> Map {
    let source = Map {
        width: 28,
        height: 28,
        values: digit.to_vec(),
    };
    let inked = |along_x: bool| {
        (0..28).filter(move |&i| {
            (0..28).any(|j| {
                let (x, y) = if along_x { (i, j) } else { (j, i) };
                digit[y * 28 + x] > 0.1
            })
        })
    };
    let span = |along_x: bool| {
        let first = inked(along_x).next().unwrap_or(0) as f32;
        let last = inked(along_x).next_back().unwrap_or(27) as f32;
        (first, last + 1.0)
    };
    let ((x0, x1), (y0, y1)) = (span(true), span(false));
    let short = p.width.min(p.height) as f32;
    let k = (p.scale * short / (y1 - y0)).min(0.95 * p.width as f32 / (x1 - x0));
    let (cx, cy) = (p.centre.0 * p.width as f32, p.centre.1 * p.height as f32);
    let mut values = Vec::with_capacity(p.width * p.height);
    for y in 0..p.height {
        for x in 0..p.width {
            // Pixel centres map to source coordinates; source pixel i covers [i, i + 1).
            let u = (x as f32 + 0.5 - cx) / k + 0.5 * (x0 + x1) - 0.5;
            let v = (y as f32 + 0.5 - cy) / k + 0.5 * (y0 + y1) - 0.5;
            values.push(source.bilinear(u, v));
        }
    }
    let alpha = Map {
        width: p.width,
        height: p.height,
        values,
    };
    let radius = (p.pen.abs() * k).round() as usize;
    if radius == 0 {
        alpha
    } else {
        alpha.morphology(radius, p.pen < 0.0)
    }
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [0, 1, 2].map(|c| a[c] * (1.0 - t) + b[c] * t)
}

/// The paper's colour at `(x, y)`, ruled lines included.
fn paper_at(p: &Params, x: usize, y: usize) -> Rgb {
    let Some(r) = &p.ruled else {
        return p.paper;
    };
    let mut colour = p.paper;
    if (y + r.pitch - r.phase) % r.pitch < r.thickness {
        colour = mix(colour, r.colour, r.opacity);
    }
    if let Some((left, thickness)) = r.margin {
        if (left..left + thickness).contains(&x) {
            colour = mix(colour, [0.85, 0.25, 0.25], 0.9);
        }
    }
    colour
}

fn shade(p: &Params, x: usize, y: usize) -> f32 {
    let Some(s) = &p.shadow else {
        return 1.0;
    };
    let (u, v) = (x as f32 / p.width as f32, y as f32 / p.height as f32);
    let (dx, dy) = s.direction;
    // Position along the direction, 0 at the bright end and 1 at the dark end.
    let low = dx.min(0.0) + dy.min(0.0);
    let high = dx.max(0.0) + dy.max(0.0);
    let along = (u * dx + v * dy - low) / (high - low);
    let t = ((along - s.start) / (1.0 - s.start)).clamp(0.0, 1.0);
    1.0 - s.depth * t * t * (3.0 - 2.0 * t)
}

/// Gaussian blur of σ pixels of one interleaved RGB float plane, separably, edges clamped.
fn blur(rgb: &mut [f32], width: usize, height: usize, sigma: f32) {
    let radius = (3.0 * sigma).ceil() as i64;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|d| (-(d * d) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let pass = |src: &[f32], along_x: bool| {
        let mut out = vec![0.0; src.len()];
        for y in 0..height as i64 {
            for x in 0..width as i64 {
                for (d, w) in (-radius..=radius).zip(&kernel) {
                    let (sx, sy) = if along_x {
                        ((x + d).clamp(0, width as i64 - 1), y)
                    } else {
                        (x, (y + d).clamp(0, height as i64 - 1))
                    };
                    let (to, from) = (
                        (y as usize * width + x as usize) * 3,
                        (sy as usize * width + sx as usize) * 3,
                    );
                    for c in 0..3 {
                        out[to + c] += w / total * src[from + c];
                    }
                }
            }
        }
        out
    };
    let blurred = pass(&pass(rgb, true), false);
    rgb.copy_from_slice(&blurred);
}

/// Renders a 28×28 t10k digit (ink in [0, 1], row-major) as a photo with the parameters `p`; `rng` draws the
/// noise.
pub fn render(digit: &[f32], p: &Params, rng: &mut Rng) -> RgbImage {
    let alpha = digit_alpha(digit, p);
    let mut rgb = Vec::with_capacity(p.width * p.height * 3);
    for y in 0..p.height {
        for x in 0..p.width {
            let a = alpha.values[y * p.width + x].clamp(0.0, 1.0) * p.ink_opacity;
            let colour = mix(paper_at(p, x, y), p.ink, a);
            let s = shade(p, x, y);
            rgb.extend(colour.map(|c| c * s));
        }
    }
    if p.blur_sigma > 0.0 {
        blur(&mut rgb, p.width, p.height, p.blur_sigma);
    }
    let data = rgb
        .iter()
        .map(|&c| {
            (c * 255.0 + p.noise_sigma * rng.normal())
                .round()
                .clamp(0.0, 255.0) as u8
        })
        .collect();
    RgbImage {
        width: p.width,
        height: p.height,
        data,
    }
}

/// `count` photos of random t10k digits under `condition`, reproducibly from `seed`.
pub fn photo_set(
    images: &IdxImages,
    labels: &[u8],
    condition: Condition,
    seed: u64,
    count: usize,
) -> Vec<Photo> {
    let stream = Condition::ALL
        .iter()
        .position(|&c| c == condition)
        .unwrap_or(0) as u64;
    let mut rng = Rng::new(seed ^ (stream + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (0..count)
        .map(|_| {
            let index = rng.below(images.count);
            let digit = images.image(index).unwrap();
            let params = params(condition, &mut rng);
            let image = render(digit.data(), &params, &mut rng);
            Photo {
                index,
                label: labels[index],
                params,
                image,
            }
        })
        .collect()
}
