//! `convscope deconv`: Zeiler & Fergus deconvnet reconstructions (`convscope::explain::deconvnet`) as JSON or
//! PNG figures.
//!
//! - one channel: `--layer pool2 --channel 7 [--unit max|Y,X]` (the options of the catalogue's `deconv`;
//!   `--layer conv2` is the traditional alias of the same activations), printed with `--json` as
//!   `{"shape": [H, W], "data": [...], "strength": s}` (raw values, before any display scaling) or drawn with
//!   `--out F.png` (input, pooled map, reconstruction);
//! - every channel of every conv layer: `--all` (`--json` prints them as an array, `--out` draws them);
//! - the assignment's figure: `--idx IMAGES --labels LABELS --digits 0,1,5,8 --out F.png`, one block per digit
//!   for the first image of that digit the model classifies correctly.
//!
//! In the figures each channel's pooled map (viridis, one scale per layer) stands beside its reconstruction
//! (`--display`, default `diverging`: blue negative, white zero, red positive, each map scaled to its own
//! largest |value|; `gray` is the usual min-to-max grayscale).

use crate::args::Args;
use crate::input::{self, INPUT_OPTIONS};
use convscope::catalogue::options::Values;
use convscope::explain::deconvnet::{self, Reconstruction, Unit, CHANNEL, LAYER, TECHNIQUE, UNIT};
use convscope::io::idx;
use convscope::model::network::Network;
use convscope::render::{self, deconv_figure as figure, Colormap, RgbImage};
use convscope::{Error, Result};
use serde::Serialize;
use std::path::Path;

pub fn run(argv: &[String]) -> Result<()> {
    let mut valued = INPUT_OPTIONS.to_vec();
    valued.extend([
        "layer", "channel", "unit", "out", "display", "labels", "digits",
    ]);
    let args = Args::parse(argv, &valued, &["json", "all"])?;
    let net = input::model(&args)?;
    let display: Colormap = args.get("display").unwrap_or("diverging").parse()?;
    if let Some(digits) = args.get("digits") {
        return digits_figure(&args, &net, digits, display);
    }
    if args.get("labels").is_some() {
        return Err(Error::option("labels", "--labels goes with --digits"));
    }
    let (index, image) = input::single_image(&args, &net)?;
    let trace = net.forward(&image)?;
    if args.flag("all") {
        if ["layer", "channel", "unit"]
            .iter()
            .any(|k| args.get(k).is_some())
        {
            return Err(Error::option(
                "all",
                "--all reconstructs whole channels of every conv layer: drop --layer, --channel and --unit",
            ));
        }
        let all = deconvnet::deconv_all(&net, &trace)?;
        return match output(&args)? {
            Output::Json => print_json(&all.iter().map(|r| Json::new(r, true)).collect::<Vec<_>>()),
            Output::Png(path) => {
                let caption = figure::caption(&net, &trace, index, None);
                let mut parts = vec![figure::header(&net, display)];
                parts.extend(figure::digit_block(&net, &trace, &all, &caption, display)?);
                save(&figure::stack(&parts), path)
            }
        };
    }
    let values = Values::from_flags(
        TECHNIQUE.id,
        TECHNIQUE.options,
        args.given(&["layer", "channel", "unit"]),
    )?;
    let layer = values
        .text(&LAYER)
        .ok_or_else(|| Error::option("layer", "--layer L is required (or --all)"))?;
    let channel = values
        .int(&CHANNEL)
        .and_then(|c| usize::try_from(c).ok())
        .ok_or_else(|| Error::option("channel", "--channel K is required (or --all)"))?;
    let unit: Unit = values.text_or_default(&UNIT).parse()?;
    let r = deconvnet::deconv(&net, &trace, layer, channel, unit)?;
    match output(&args)? {
        Output::Json => print_json(&Json::new(&r, false)),
        Output::Png(path) => save(
            &figure::channel(&net, &trace, index, &r, unit, display)?,
            path,
        ),
    }
}

/// A reconstruction as printed by `--json`; f32 values keep their shortest decimal form.
#[derive(Serialize)]
struct Json<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<usize>,
    shape: Vec<usize>,
    data: &'a [f32],
    strength: f32,
    /// The seeded unit `[y, x]` of the pooled map, for `--unit max` and `--unit Y,X`.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<[usize; 2]>,
}

impl<'a> Json<'a> {
    /// With `named`, the layer and channel are included (for `--all`).
    fn new(r: &'a Reconstruction, named: bool) -> Json<'a> {
        Json {
            layer: named.then_some(r.layer.as_str()),
            channel: named.then_some(r.channel),
            shape: r.shape(),
            data: r.data(),
            strength: r.strength,
            position: r.position.map(|(y, x)| [y, x]),
        }
    }
}

pub fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::internal(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

pub enum Output<'a> {
    Json,
    Png(&'a str),
}

pub fn output(args: &Args) -> Result<Output<'_>> {
    match (args.flag("json"), args.get("out")) {
        (true, None) => Ok(Output::Json),
        (false, Some(path)) => Ok(Output::Png(path)),
        _ => Err(Error::option(
            "out",
            "give exactly one of --json or --out FILE.png",
        )),
    }
}

/// The figure of the assignment: for each digit of `digits`, the first image of `--idx` labelled with it
/// (`--labels`) that the model classifies correctly, and its 22 (for LeNet-5) reconstructions.
fn digits_figure(args: &Args, net: &Network, digits: &str, display: Colormap) -> Result<()> {
    if args.get("image").is_some() || args.get("index").is_some() || args.get("count").is_some() {
        return Err(Error::option(
            "digits",
            "--digits picks its images from --idx and --labels: drop --image, --index and --count",
        ));
    }
    if ["layer", "channel", "unit"]
        .iter()
        .any(|k| args.get(k).is_some())
        || args.flag("json")
    {
        return Err(Error::option(
            "digits",
            "--digits draws every channel into a PNG: drop --layer, --channel, --unit and --json",
        ));
    }
    let images = idx::read_images(Path::new(args.required("idx")?))?;
    let labels = idx::read_labels(Path::new(args.required("labels")?))?;
    let path = args.required("out")?;
    if labels.len() != images.count {
        return Err(Error::shape(
            "labels (one per image)",
            &[images.count],
            &[labels.len()],
        ));
    }
    let classes = net.labels().len();
    let mut parts = vec![figure::header(net, display)];
    for digit in digits.split(',') {
        let wanted: usize = digit
            .trim()
            .parse()
            .ok()
            .filter(|&d| d < classes)
            .ok_or_else(|| {
                Error::option(
                    "digits",
                    format!(
                        "--digits {digits:?}: {digit:?} is not a class of this model (0 to {})",
                        classes.saturating_sub(1)
                    ),
                )
            })?;
        let mut found = None;
        for (index, &label) in labels.iter().enumerate() {
            if usize::from(label) != wanted {
                continue;
            }
            let trace = net.forward(&images.image(index)?)?;
            if trace.prediction().label == wanted {
                found = Some((index, trace));
                break;
            }
        }
        let (index, trace) = found.ok_or_else(|| {
            Error::option(
                "digits",
                format!("no image labelled {wanted} is classified correctly"),
            )
        })?;
        let all = deconvnet::deconv_all(net, &trace)?;
        let caption = figure::caption(net, &trace, index, Some(wanted));
        eprintln!("{caption}");
        parts.extend(figure::digit_block(net, &trace, &all, &caption, display)?);
    }
    save(&figure::stack(&parts), path)
}

pub fn save(image: &RgbImage, path: &str) -> Result<()> {
    render::write_png(Path::new(path), image)?;
    eprintln!("wrote {path} ({}×{})", image.width, image.height);
    Ok(())
}
