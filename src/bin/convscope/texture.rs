//! `convscope gram`, `convscope texture` and `convscope style`: Gram matrices, texture synthesis and style
//! transfer (`convscope::explain::texture`), their options read from the catalogue entries.
//!
//! - `gram --model M (--image F | --idx IMAGES --index I) --layer L --json`: `{"layer", "shape": [C, C],
//!   "data": [...]}` of the (preprocessed) input;
//! - `texture --style IMG [--net model|random] [--model M] ... (--out F.png | --json)` and
//!   `style --content IMG --style IMG ... (--out F.png | --json)`: the synthesized image, with `--json`
//!   `{"shape": [C, H, W], "data": [...], "style_loss", "content_loss", "history": [...]}` (raw pixels in
//!   [0, 1]; `content_loss` is null for a texture). Images are read at their own size: luminance through
//!   the model, RGB through the random network.

use crate::args::Args;
use crate::input::{self, INPUT_OPTIONS};
use convscope::catalogue::options::{OptionSpec, Values};
use convscope::explain::texture::{self, Backbone, RandomNet, Synthesis, Synthesized};
use convscope::io::image;
use convscope::model::network::Network;
use convscope::render;
use convscope::{Error, Result, Tensor};
use serde_json::json;
use std::path::Path;

pub fn gram(argv: &[String]) -> Result<()> {
    let mut valued = INPUT_OPTIONS.to_vec();
    valued.push("layer");
    let args = Args::parse(argv, &valued, &["json"])?;
    if !args.flag("json") {
        return Err(Error::option("json", "gram prints JSON: add --json"));
    }
    let net = input::model(&args)?;
    let values = Values::from_flags(
        texture::GRAM.id,
        texture::GRAM.options,
        args.given(&["layer"]),
    )?;
    let layer = values
        .text(&texture::GRAM_LAYER)
        .ok_or_else(|| Error::option("layer", "--layer L is required"))?;
    let (_, image) = input::single_image(&args, &net)?;
    let g = texture::gram_of(&net, &image, layer)?;
    println!(
        "{}",
        json!({ "layer": layer, "shape": g.shape(), "data": g.data() })
    );
    Ok(())
}

/// The flags of a technique's options.
fn flags(options: &[OptionSpec]) -> Vec<&'static str> {
    options.iter().map(|o| o.flag).collect()
}

pub fn texture(argv: &[String]) -> Result<()> {
    run(argv, &texture::TEXTURE, false)
}

pub fn style(argv: &[String]) -> Result<()> {
    run(argv, &texture::STYLE, true)
}

fn run(argv: &[String], technique: &convscope::catalogue::Technique, transfer: bool) -> Result<()> {
    let own = flags(technique.options);
    let mut valued = vec!["model", "style", "out"];
    if transfer {
        valued.push("content");
    }
    valued.extend(&own);
    let args = Args::parse(argv, &valued, &["json"])?;
    let values = Values::from_flags(technique.id, technique.options, args.given(&own))?;
    let options = texture::options_from(&values, technique)?;
    let random = RandomNet::default();
    let net = match (texture::net_from(&values), args.get("model")) {
        (texture::Net::Model, Some(path)) => Some(Network::load(Path::new(path))?),
        (texture::Net::Model, None) => {
            return Err(Error::option(
                "model",
                "--net model needs --model M (or use --net random)",
            ))
        }
        (texture::Net::Random, Some(_)) => {
            return Err(Error::option("model", "--model goes with --net model"))
        }
        (texture::Net::Random, None) => None,
    };
    let backbone = net
        .as_ref()
        .map_or(Backbone::Random(&random), Backbone::Model);
    let style = read_image(args.required("style")?, &backbone)?;
    let synthesis = if transfer {
        let content = read_image(args.required("content")?, &backbone)?;
        Synthesis::transfer(backbone, &content, &style, options)?
    } else {
        Synthesis::texture(backbone, &style, options)?
    };
    let done = synthesis.run(backbone)?;
    match (args.get("out"), args.flag("json")) {
        (Some(path), false) => render::write_png(path, &render::picture(&done.image)?),
        (None, true) => print_json(&done),
        _ => Err(Error::option(
            "out",
            "give exactly one of --out F.png or --json",
        )),
    }
}

/// An image file as the backbone takes it: luminance `[1, H, W]` for the model, RGB `[3, H, W]` for the
/// random network.
fn read_image(path: &str, backbone: &Backbone) -> Result<Tensor> {
    match backbone {
        Backbone::Model(net) => {
            let gray = image::read(Path::new(path))?;
            if net.input_shape()[0] != 1 {
                return Err(Error::option(
                    "net",
                    "the model takes colour images; texture synthesis through the model needs a grayscale model",
                ));
            }
            Tensor::from_vec(&[1, gray.height, gray.width], gray.pixels)
        }
        Backbone::Random(_) => image::read_rgb(Path::new(path)),
    }
}

fn print_json(done: &Synthesized) -> Result<()> {
    println!(
        "{}",
        json!({
            "shape": done.image.shape(),
            "data": done.image.data(),
            "style_loss": done.losses.style,
            "content_loss": done.losses.content,
            "history": done.history,
        })
    );
    Ok(())
}
