//! The deconvnet figures of `convscope deconv --out F.png`: one channel (input, pooled map, reconstruction), and
//! the blocks of every channel of every conv layer for one image (the assignment's figure, `--all` and
//! `--digits`). Each channel's pooled map (viridis, one scale per layer) stands beside its reconstruction (the
//! `display` colormap, each map scaled to its own largest |value|).

use super::{map_grid, Colormap, GridOptions, Legend, Panel, RgbImage, Scale};
use crate::error::Result;
use crate::explain::deconvnet::{conv_blocks, ConvBlock, Reconstruction, Unit};
use crate::model::network::{Network, Trace};
use crate::tensor::Tensor;

/// Pixels per input pixel in the figures (28 × 28 maps become 84 × 84).
const ZOOM: usize = 3;
const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [30, 30, 30];
const MARGIN: usize = 8;

/// One channel's figure: the input, the channel's pooled map and its reconstruction `r`.
pub fn channel(
    net: &Network,
    trace: &Trace,
    index: usize,
    r: &Reconstruction,
    unit: Unit,
    display: Colormap,
) -> Result<RgbImage> {
    let (layer, channel) = (r.layer.as_str(), r.channel);
    let block = ConvBlock::find(net, layer)?;
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
    let map = upsampled(trace, &block, channel, h)?;
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
    Ok(map_grid(&panels, &options))
}

/// "t10k[3], label 0, predicted 0 (99.9%)".
pub fn caption(net: &Network, trace: &Trace, index: usize, label: Option<usize>) -> String {
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
pub fn header(net: &Network, display: Colormap) -> RgbImage {
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
        .map(|(i, l)| super::canvas::text_width(l, if i == 0 { 2 } else { 1 }));
    let height =
        2 * MARGIN + super::canvas::text_height(2) + 2 * (super::canvas::text_height(1) + 4);
    let mut image = RgbImage::new(width.max().unwrap_or(0) + 2 * MARGIN, height, WHITE);
    let mut top = MARGIN;
    for (i, line) in lines.iter().enumerate() {
        let scale = if i == 0 { 2 } else { 1 };
        image.draw_text(MARGIN, top, line, scale, INK);
        top += super::canvas::text_height(scale) + 4;
    }
    image
}

/// One image's block: a grid per conv layer, the first starting with the input; each channel's pooled map
/// (upsampled by a whole factor towards the input size) followed by its reconstruction.
pub fn digit_block(
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
pub fn stack(parts: &[RgbImage]) -> RgbImage {
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
