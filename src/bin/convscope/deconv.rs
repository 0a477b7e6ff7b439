//! `convscope deconv`: Zeiler & Fergus deconvnet reconstructions (`convscope::explain::deconvnet`) as JSON or
//! PNG figures.
//!
//! - one channel: `--layer conv2 --channel 7 [--unit max|Y,X]`, printed with `--json` as
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
use convscope::explain::deconvnet::{self, conv_blocks, ConvBlock, Reconstruction, Unit};
use convscope::io::idx;
use convscope::model::network::{Network, Trace};
use convscope::render::{self, map_grid, Colormap, GridOptions, Legend, Panel, RgbImage, Scale};
use convscope::{Error, Result, Tensor};
use serde::Serialize;
use std::path::Path;

/// Pixels per input pixel in the figures (28 × 28 maps become 84 × 84).
const ZOOM: usize = 3;
const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [30, 30, 30];
const MARGIN: usize = 8;

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
        return Err(Error::invalid("--labels goes with --digits"));
    }
    let (index, image) = input::single_image(&args, &net)?;
    let trace = net.forward(&image)?;
    if args.flag("all") {
        if ["layer", "channel", "unit"]
            .iter()
            .any(|k| args.get(k).is_some())
        {
            return Err(Error::invalid(
                "--all reconstructs whole channels of every conv layer: drop --layer, --channel and --unit",
            ));
        }
        let all = deconvnet::deconv_all(&net, &trace)?;
        return match output(&args)? {
            Output::Json => print_json(&all.iter().map(|r| Json::new(r, true)).collect::<Vec<_>>()),
            Output::Png(path) => {
                let caption = caption(&net, &trace, index, None);
                let mut parts = vec![header(&net, display)];
                parts.extend(digit_block(&net, &trace, &all, &caption, display)?);
                save(&stack(&parts), path)
            }
        };
    }
    let layer = args.required("layer")?;
    let channel: usize = args
        .opt("channel")?
        .ok_or_else(|| Error::invalid("--channel K is required (or --all)"))?;
    let unit: Unit = args.get("unit").unwrap_or("all").parse()?;
    let r = deconvnet::deconv(&net, &trace, layer, channel, unit)?;
    match output(&args)? {
        Output::Json => print_json(&Json::new(&r, false)),
        Output::Png(path) => {
            let block = ConvBlock::find(&net, layer)?;
            let [_, h, w] = net.input_shape();
            let input = flat(trace.input())?;
            let recon = flat(&r.map)?;
            let options = GridOptions {
                title: format!("image {index}: {layer} channel {channel}, unit {unit}"),
                columns: 3,
                zoom: ZOOM,
                legend: Some(Legend {
                    colormap: display,
                    scale: Scale::fit(&recon, display),
                }),
            };
            let map = upsampled(&trace, &block, channel, h)?;
            let map_scale = Scale::range(0.0, r.strength.max(0.0));
            let panels = [
                panel(
                    "input".into(),
                    h,
                    w,
                    &input,
                    Colormap::Gray,
                    Scale::range(0.0, 1.0),
                ),
                panel(
                    format!("pooled {}", short(r.strength)),
                    map.1,
                    map.2,
                    &map.0,
                    Colormap::Viridis,
                    map_scale,
                ),
                panel(
                    "deconvnet".into(),
                    h,
                    w,
                    &recon,
                    display,
                    Scale::fit(&recon, display),
                ),
            ];
            save(&map_grid(&panels, &options), path)
        }
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

fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| Error::invalid(e.to_string()))?;
    println!("{text}");
    Ok(())
}

enum Output<'a> {
    Json,
    Png(&'a str),
}

fn output(args: &Args) -> Result<Output<'_>> {
    match (args.flag("json"), args.get("out")) {
        (true, None) => Ok(Output::Json),
        (false, Some(path)) => Ok(Output::Png(path)),
        _ => Err(Error::invalid(
            "give exactly one of --json or --out FILE.png",
        )),
    }
}

/// The figure of the assignment: for each digit of `digits`, the first image of `--idx` labelled with it
/// (`--labels`) that the model classifies correctly, and its 22 (for LeNet-5) reconstructions.
fn digits_figure(args: &Args, net: &Network, digits: &str, display: Colormap) -> Result<()> {
    if args.get("image").is_some() || args.get("index").is_some() || args.get("count").is_some() {
        return Err(Error::invalid(
            "--digits picks its images from --idx and --labels: drop --image, --index and --count",
        ));
    }
    if ["layer", "channel", "unit"]
        .iter()
        .any(|k| args.get(k).is_some())
        || args.flag("json")
    {
        return Err(Error::invalid(
            "--digits draws every channel into a PNG: drop --layer, --channel, --unit and --json",
        ));
    }
    let images = idx::read_images(Path::new(args.required("idx")?))?;
    let labels = idx::read_labels(Path::new(args.required("labels")?))?;
    let path = args.required("out")?;
    if labels.len() != images.count {
        return Err(Error::invalid(format!(
            "{} labels for {} images",
            labels.len(),
            images.count
        )));
    }
    let classes = net.labels().len();
    let mut parts = vec![header(net, display)];
    for digit in digits.split(',') {
        let wanted: usize = digit
            .trim()
            .parse()
            .ok()
            .filter(|&d| d < classes)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "--digits {digits:?}: {digit:?} is not a class of this model (0 to {})",
                    classes.saturating_sub(1)
                ))
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
            Error::invalid(format!(
                "no image labelled {wanted} is classified correctly"
            ))
        })?;
        let all = deconvnet::deconv_all(net, &trace)?;
        let caption = caption(net, &trace, index, Some(wanted));
        eprintln!("{caption}");
        parts.extend(digit_block(net, &trace, &all, &caption, display)?);
    }
    save(&stack(&parts), path)
}

/// "t10k[3], label 0, predicted 0 (99.9%)".
fn caption(net: &Network, trace: &Trace, index: usize, label: Option<usize>) -> String {
    let p = trace.prediction();
    let name = |k: usize| {
        net.labels()
            .get(k)
            .cloned()
            .unwrap_or_else(|| k.to_string())
    };
    let label = label.map_or(String::new(), |l| format!(", label {}", name(l)));
    let confidence = p.probs.get(p.label).copied().unwrap_or(0.0) * 100.0;
    format!(
        "image {index}{label}, predicted {} ({confidence:.1}%)",
        name(p.label)
    )
}

/// The figure's title lines and the colour bar of the reconstructions.
fn header(net: &Network, display: Colormap) -> RgbImage {
    let lines = [
        format!("Zeiler & Fergus deconvnet, {}", net.manifest().name),
        "each conv channel: its pooled activation map (viridis, one scale per layer) and the map projected \
         back to pixels"
            .to_string(),
        format!(
            "by unpooling with the switches, rectifying and transposed filtering ({display}, each scaled to \
             its own largest |value|)"
        ),
    ];
    let width = lines
        .iter()
        .enumerate()
        .map(|(i, l)| render::canvas::text_width(l, if i == 0 { 2 } else { 1 }));
    let height =
        2 * MARGIN + render::canvas::text_height(2) + 2 * (render::canvas::text_height(1) + 4);
    let mut image = RgbImage::new(width.max().unwrap_or(0) + 2 * MARGIN, height, WHITE);
    let mut top = MARGIN;
    for (i, line) in lines.iter().enumerate() {
        let scale = if i == 0 { 2 } else { 1 };
        image.draw_text(MARGIN, top, line, scale, INK);
        top += render::canvas::text_height(scale) + 4;
    }
    image
}

/// One image's block: a grid per conv layer, the first starting with the input; each channel's pooled map
/// (upsampled by a whole factor towards the input size) followed by its reconstruction.
fn digit_block(
    net: &Network,
    trace: &Trace,
    all: &[Reconstruction],
    caption: &str,
    display: Colormap,
) -> Result<Vec<RgbImage>> {
    let [_, h, w] = net.input_shape();
    let input = flat(trace.input())?;
    let mut grids = Vec::new();
    for (b, block) in conv_blocks(net).iter().enumerate() {
        let map_scale = Scale::range(0.0, activations(trace, block)?.min_max().1.max(0.0));
        let mut maps = Vec::new();
        let mut recons = Vec::new();
        for r in all.iter().filter(|r| r.layer == block.name) {
            maps.push(upsampled(trace, block, r.channel, h)?);
            recons.push((r, flat(&r.map)?));
        }
        let mut panels = Vec::new();
        if b == 0 {
            panels.push(panel(
                "input".into(),
                h,
                w,
                &input,
                Colormap::Gray,
                Scale::range(0.0, 1.0),
            ));
        }
        for ((values, mh, mw), (r, recon)) in maps.iter().zip(&recons) {
            let title = format!("{}.{} {}", block.name, r.channel, short(r.strength));
            panels.push(panel(title, *mh, *mw, values, Colormap::Viridis, map_scale));
            panels.push(panel(
                "deconv".into(),
                h,
                w,
                recon,
                display,
                Scale::fit(recon, display),
            ));
        }
        // Pairs per row: all of conv1's six (after the input), eight of conv2's sixteen.
        let columns = if b == 0 { panels.len() } else { 16 };
        grids.push(map_grid(
            &panels,
            &GridOptions {
                title: if b == 0 {
                    caption.to_string()
                } else {
                    String::new()
                },
                columns,
                zoom: ZOOM,
                legend: None,
            },
        ));
    }
    Ok(grids)
}

fn panel<'a>(
    title: String,
    height: usize,
    width: usize,
    values: &'a [f32],
    colormap: Colormap,
    scale: Scale,
) -> Panel<'a> {
    Panel {
        title,
        height,
        width,
        values,
        colormap,
        scale,
    }
}

/// Channel `channel` of a block's pooled activations, enlarged by the whole factor that brings its height
/// closest to `height` from below (2 for LeNet-5's 14 × 14 maps, 5 for its 5 × 5 maps): `(values, h, w)`.
fn upsampled(
    trace: &Trace,
    block: &ConvBlock,
    channel: usize,
    height: usize,
) -> Result<(Vec<f32>, usize, usize)> {
    let maps = activations(trace, block)?;
    let (_, mh, mw) = maps.chw()?;
    let plane = maps.channel(channel)?;
    let f = (height / mh.max(1)).max(1);
    let values = (0..mh * f)
        .flat_map(|y| (0..mw * f).map(move |x| plane[(y / f) * mw + x / f]))
        .collect();
    Ok((values, mh * f, mw * f))
}

/// The pooled maps `P` of a conv block.
fn activations<'a>(trace: &'a Trace, block: &ConvBlock) -> Result<&'a Tensor> {
    trace.output(block.activations)
}

/// A `[C, H, W]` map as `H × W` values for display: the sum over channels (the map itself for one channel).
fn flat(map: &Tensor) -> Result<Vec<f32>> {
    let (_, h, w) = map.chw()?;
    let mut sum = vec![0.0; h * w];
    for plane in map.data().chunks_exact((h * w).max(1)) {
        sum.iter_mut().zip(plane).for_each(|(s, v)| *s += v);
    }
    Ok(sum)
}

/// A strength for a 14-character title: 3 significant digits.
fn short(value: f32) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Images one above the other, left-aligned on white.
fn stack(parts: &[RgbImage]) -> RgbImage {
    let width = parts.iter().map(|p| p.width).max().unwrap_or(0);
    let height = parts.iter().map(|p| p.height).sum();
    let mut out = RgbImage::new(width, height, WHITE);
    let mut top = 0;
    for part in parts {
        for y in 0..part.height {
            let src = &part.data[y * part.width * 3..(y + 1) * part.width * 3];
            let start = (top + y) * width * 3;
            out.data[start..start + src.len()].copy_from_slice(src);
        }
        top += part.height;
    }
    out
}

fn save(image: &RgbImage, path: &str) -> Result<()> {
    render::write_png(Path::new(path), image)?;
    eprintln!("wrote {path} ({}×{})", image.width, image.height);
    Ok(())
}
