//! `convscope attribute`: one attribution map for one image, as JSON (`--json`: raw values), as a PNG overlaid on
//! the input (`--out F.png`, drawn by `convscope::render::overlay`) or as a one-line summary. The method's
//! options are the catalogue's: `convscope attribute --help` lists them, and one the method does not have is
//! an error.

use crate::args::Args;
use crate::input::{self, INPUT_OPTIONS};
use convscope::catalogue::options::Values;
use convscope::explain::attribution::{self, Attribution, Method, Options, OUTPUT};
use convscope::render::{self, overlay};
use convscope::{Error, Result, Tensor};
use serde::Serialize;
use std::path::Path;

/// Every attribution method's option flags (each method accepts its own; the rest are errors).
fn method_flags() -> Vec<&'static str> {
    let mut flags: Vec<&str> = Method::ALL
        .iter()
        .flat_map(|m| m.technique().options.iter().map(|o| o.flag))
        .collect();
    flags.sort_unstable();
    flags.dedup();
    flags
}

pub fn run(argv: &[String]) -> Result<()> {
    let flags = method_flags();
    let mut valued = INPUT_OPTIONS.to_vec();
    valued.extend(&flags);
    valued.extend(["method", "out"]);
    let args = Args::parse(argv, &valued, &["log-prob", "json"])?;
    let method: Method = match args.get("method") {
        Some(id) => id.parse()?,
        None => Method::DEFAULT,
    };
    let options = options(&args, method, &flags)?;
    if args.flag("json") && args.get("out").is_some() {
        return Err(Error::option("out", "give --json or --out, not both"));
    }
    let net = input::model(&args)?;
    let (index, image) = input::single_image(&args, &net)?;
    let result = attribution::attribute(&net, &image, method, &options)?;
    if args.flag("json") {
        println!("{}", json(&result)?);
    } else if let Some(out) = args.get("out") {
        render::write_png(
            Path::new(out),
            &overlay::attribution(&result, &image, net.labels())?,
        )?;
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

/// The method's options from the flags, checked by its catalogue entry; `--log-prob` is an alias of
/// `--output log_prob`.
fn options(args: &Args, method: Method, flags: &[&str]) -> Result<Options> {
    let mut given: Vec<(&str, &str)> = args.given(flags).collect();
    if args.flag("log-prob") {
        if args.get(OUTPUT.flag).is_some() {
            return Err(Error::option(
                "log-prob",
                "--log-prob is --output log_prob: give one of them",
            ));
        }
        given.push((OUTPUT.flag, "log_prob"));
    }
    let technique = method.technique();
    Ok(Options::from_values(&Values::from_flags(
        technique.id,
        technique.options,
        given,
    )?))
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
    .map_err(|e| Error::internal(format!("cannot write JSON: {e}")))
}
