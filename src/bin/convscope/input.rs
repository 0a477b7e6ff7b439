//! The inputs every analysis command shares: `--model MANIFEST` and either `--image FILE` (any PNG/JPEG/PGM,
//! MNIST-style preprocessing; `--stages F.png` writes its steps) or `--idx IMAGES [--index I] [--count N]`.

use convscope::io::preprocess::preprocess_stages;
use convscope::io::{idx, image};
use convscope::model::network::Network;
use convscope::render;
use convscope::{Error, Result, Tensor};
use std::path::Path;

use crate::args::Args;

/// Options of [`images`] and [`model`], for `Args::parse`.
pub const INPUT_OPTIONS: [&str; 6] = ["model", "image", "idx", "index", "count", "stages"];

pub fn model(args: &Args) -> Result<Network> {
    Network::load(Path::new(args.required("model")?))
}

/// The selected images as `(index, raw pixels [C, H, W])`.
pub fn images(args: &Args, net: &Network) -> Result<Vec<(usize, Tensor)>> {
    select(args, net, Some("count"))
}

/// One image chosen by `--image F` or `--idx IMAGES --index I`, for a command whose `--count` is not about
/// its input (`neighbours`: the images of the data set searched).
pub fn query_image(args: &Args, net: &Network) -> Result<(usize, Tensor)> {
    let mut all = select(args, net, None)?;
    all.truncate(1);
    all.pop()
        .ok_or_else(|| Error::option("index", "no image selected"))
}

/// [`images`], the number of images read from `count_key` (`None`: one).
fn select(args: &Args, net: &Network, count_key: Option<&str>) -> Result<Vec<(usize, Tensor)>> {
    let given_count = count_key.and_then(|k| args.get(k));
    let [c, h, w] = net.input_shape();
    match (args.get("image"), args.get("idx")) {
        (Some(path), None) => {
            if args.get("index").is_some() || given_count.is_some() {
                return Err(Error::option(
                    "index",
                    "--index and --count go with --idx, not --image",
                ));
            }
            let stages = preprocess_stages(&image::read(Path::new(path))?, c, h, w)?;
            if let Some(out) = args.get("stages") {
                render::write_png(out, &render::stages_strip(&stages, path))?;
            }
            Ok(vec![(0, stages.output)])
        }
        (None, Some(path)) => {
            if args.get("stages").is_some() {
                return Err(Error::option(
                    "stages",
                    "--stages shows the preprocessing of an --image",
                ));
            }
            let set = idx::read_images(Path::new(path))?;
            let start: usize = args.or("index", 0)?;
            let count: usize = match count_key {
                Some(key) => args.or(key, 1)?,
                None => 1,
            };
            if start >= set.count || count == 0 {
                return Err(Error::option(
                    "index",
                    format!(
                        "--index {start} --count {count} selects nothing from {} images",
                        set.count
                    ),
                ));
            }
            (start..(start + count).min(set.count))
                .map(|i| Ok((i, set.image(i)?)))
                .collect()
        }
        _ => Err(Error::option(
            "image",
            "give exactly one of --image FILE or --idx IMAGES",
        )),
    }
}

/// One selected image (commands that explain a single input).
pub fn single_image(args: &Args, net: &Network) -> Result<(usize, Tensor)> {
    let mut all = images(args, net)?;
    if all.len() != 1 {
        return Err(Error::option(
            "count",
            "this command explains one image: drop --count",
        ));
    }
    Ok(all.remove(0))
}

/// The layer `name` names: a manifest layer name, or (the documented alias of `activations`) its 1-based
/// number.
pub fn layer(net: &Network, name: Option<&str>) -> Result<usize> {
    let name =
        name.ok_or_else(|| Error::option("layer", "--layer L is required (a layer name)"))?;
    let layers = net.layers();
    match name.parse::<usize>() {
        Ok(number) if (1..=layers.len()).contains(&number) => Ok(number - 1),
        Ok(number) => {
            let list: Vec<String> = layers
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{} {}", i + 1, l.name))
                .collect();
            Err(Error::out_of_range(
                "--layer",
                number,
                format!("a name or 1-based number of: {}", list.join(", ")),
            ))
        }
        Err(_) => net.layer_index(name),
    }
}
