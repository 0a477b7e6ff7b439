//! `convscope attribute`: one attribution map for one image, as JSON (`--json`: raw values), as a PNG overlaid on
//! the input (`--out F.png`) or as a one-line summary.
//!
//! ```text
//! convscope attribute --model M (--image F | --idx IMAGES --index I) --method NAME [--target C] [--log-prob]
//!     [--steps N] [--baseline V]                       integrated-gradients
//!     [--samples N] [--sigma S] [--seed N] [--base M]  smoothgrad
//!     [--layer L]                                      grad-cam, guided-grad-cam
//!     [--window W] [--stride S] [--fill V]             occlusion
//!     [--json | --out F.png]
//! ```
//! A method option given to a method that does not use it is an error, so that a typo is not silently ignored.

use crate::args::Args;
use crate::input::{self, INPUT_OPTIONS};
use convscope::explain::attribution::{self, Attribution, Baseline, Method, Options, Output};
use convscope::render::colormap::{Colormap, Scale};
use convscope::render::{self, RgbImage};
use convscope::{Error, Result, Tensor};
use serde::Serialize;
use std::path::Path;

/// The options each method reads, besides `--target` and `--log-prob`.
fn method_options(method: Method) -> &'static [&'static str] {
    match method {
        Method::IntegratedGradients => &["steps", "baseline"],
        Method::SmoothGrad => &["samples", "sigma", "seed", "base"],
        Method::GradCam | Method::GuidedGradCam => &["layer"],
        Method::Occlusion => &["window", "stride", "fill"],
        _ => &[],
    }
}

/// Every method-specific option.
const METHOD_OPTIONS: [&str; 10] = [
    "steps", "baseline", "samples", "sigma", "seed", "base", "layer", "window", "stride", "fill",
];

pub fn run(argv: &[String]) -> Result<()> {
    let mut valued = INPUT_OPTIONS.to_vec();
    valued.extend(METHOD_OPTIONS);
    valued.extend(["method", "target", "out"]);
    let args = Args::parse(argv, &valued, &["log-prob", "json"])?;
    let method: Method = args.required("method")?.parse()?;
    let options = options(&args, method)?;
    if args.flag("json") && args.get("out").is_some() {
        return Err(Error::invalid("give --json or --out, not both"));
    }
    let net = input::model(&args)?;
    let (index, image) = input::single_image(&args, &net)?;
    let result = attribution::attribute(&net, &image, method, &options)?;
    if args.flag("json") {
        println!("{}", json(&result)?);
    } else if let Some(out) = args.get("out") {
        render::write_png(Path::new(out), &overlay(&result, &image, net.labels())?)?;
        eprintln!("wrote {out}");
    } else {
        let (low, high) = result.map.min_max();
        print!(
            "image {index}: {} for class {} (score {}), map {:?} in [{low}, {high}]",
            method.name(),
            result.target,
            result.score,
            result.map.shape()
        );
        if let Some(gap) = result.completeness_gap {
            print!(", completeness gap {gap}");
        }
        println!();
    }
    Ok(())
}

fn options(args: &Args, method: Method) -> Result<Options> {
    let used = method_options(method);
    for key in &METHOD_OPTIONS {
        if args.get(key).is_some() && !used.contains(key) {
            return Err(Error::invalid(format!(
                "--{key} does not apply to {}{}",
                method.name(),
                if used.is_empty() {
                    String::new()
                } else {
                    format!(" (it takes --{})", used.join(" --"))
                }
            )));
        }
    }
    let defaults = Options::default();
    Ok(Options {
        target: args.opt("target")?,
        output: if args.flag("log-prob") {
            Output::LogProb
        } else {
            Output::Logit
        },
        steps: args.or("steps", defaults.steps)?,
        baseline: args
            .opt("baseline")?
            .map_or(defaults.baseline, Baseline::Value),
        samples: args.or("samples", defaults.samples)?,
        sigma: args.or("sigma", defaults.sigma)?,
        seed: args.or("seed", defaults.seed)?,
        base: args.or("base", defaults.base)?,
        layer: args.get("layer").map(str::to_string),
        window: args.or("window", defaults.window)?,
        stride: args.or("stride", defaults.stride)?,
        fill: args.or("fill", defaults.fill)?,
    })
}

/// The displayed shape: `[H, W]` for one-channel inputs, else the map's own shape.
fn display_shape(map: &Tensor) -> Vec<usize> {
    match *map.shape() {
        [1, h, w] => vec![h, w],
        ref other => other.to_vec(),
    }
}

/// What `--json` prints: the raw map values (f32, shortest round-trip form) and what the method reports.
#[derive(Serialize)]
struct JsonOutput<'a> {
    method: &'static str,
    target: usize,
    output: &'static str,
    score: f32,
    signed: bool,
    shape: Vec<usize>,
    data: &'a [f32],
    #[serde(skip_serializing_if = "Option::is_none")]
    completeness_gap: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel_weights: Option<&'a [f32]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cam_shape: Option<&'a [usize]>,
    /// The Grad-CAM map before upsampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    cam: Option<&'a [f32]>,
}

fn json(result: &Attribution) -> Result<String> {
    let cam = result.cam.as_ref();
    serde_json::to_string(&JsonOutput {
        method: result.method.name(),
        target: result.target,
        output: result.output.name(),
        score: result.score,
        signed: result.signed,
        shape: display_shape(&result.map),
        data: result.map.data(),
        completeness_gap: result.completeness_gap,
        baseline_score: result.baseline_score,
        layer: cam.map(|c| c.layer.as_str()),
        channel_weights: cam.map(|c| &c.channel_weights[..]),
        cam_shape: cam.map(|c| c.map.shape()),
        cam: cam.map(|c| c.map.data()),
    })
    .map_err(|e| Error::invalid(format!("cannot write JSON: {e}")))
}

/// Pixels per map value in the PNG.
const ZOOM: usize = 10;
/// Largest opacity of the colour over the input.
const OPACITY: f32 = 0.85;
const MARGIN: usize = 8;
/// The input is drawn as dark ink (gray level `1 − INK` at pixel value 1) on white, the colour of 0 in the
/// diverging colormap.
const INK: f32 = 0.6;

/// The map (summed over channels) over the input (mean of the channels, as dark ink on white). Signed maps use the diverging
/// colormap centred on 0 (blue negative, red positive), others the sequential inferno; the colour's opacity
/// grows with the value's distance from the scale's neutral point (0), so unimportant pixels show the input.
fn overlay(result: &Attribution, image: &Tensor, labels: &[String]) -> Result<RgbImage> {
    let (channels, h, w) = image.chw()?;
    let plane = h * w;
    let mut values = vec![0.0f32; plane];
    for chunk in result.map.data().chunks_exact(plane) {
        for (v, m) in values.iter_mut().zip(chunk) {
            *v += m;
        }
    }
    let (colormap, scale) = if result.signed {
        let (low, high) = convscope::tensor::min_max(&values);
        (
            Colormap::Diverging,
            Scale::symmetric(low.abs().max(high.abs())),
        )
    } else {
        (Colormap::Inferno, Scale::fit(&values, Colormap::Inferno))
    };
    let label = labels
        .get(result.target)
        .map_or(String::new(), |l| format!(" ({l})"));
    let title = format!(
        "{} class {}{label}: {:.3e} .. {:.3e}",
        result.method.name(),
        result.target,
        scale.low(),
        scale.high()
    );
    let top = MARGIN + render::canvas::text_height(1) + MARGIN;
    let width = (w * ZOOM).max(render::canvas::text_width(&title, 1)) + 2 * MARGIN;
    let mut out = RgbImage::new(width, top + h * ZOOM + MARGIN, [255, 255, 255]);
    out.draw_text(MARGIN, MARGIN, &title, 1, [30, 30, 30]);
    for (p, &v) in values.iter().enumerate() {
        let gray = (0..channels)
            .map(|c| image.data()[c * plane + p])
            .sum::<f32>()
            / channels as f32;
        let t = scale.t(v).unwrap_or(0.5);
        let strength = if result.signed {
            (2.0 * t - 1.0).abs()
        } else {
            t
        };
        let alpha = OPACITY * strength;
        let color = colormap.rgb(t);
        let base = 255.0 * (1.0 - INK * gray.clamp(0.0, 1.0));
        let mixed = color.map(|c| ((1.0 - alpha) * base + alpha * f32::from(c)).round() as u8);
        out.fill_rect(
            MARGIN + (p % w) * ZOOM,
            top + (p / w) * ZOOM,
            ZOOM,
            ZOOM,
            mixed,
        );
    }
    Ok(out)
}
