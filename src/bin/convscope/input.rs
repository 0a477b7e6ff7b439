//! The inputs every analysis command shares: `--model MANIFEST` and either `--image FILE` (any PNG/JPEG/PGM,
//! MNIST-style preprocessing; `--stages F.png` writes its steps) or `--idx IMAGES [--index I] [--count N]`;
//! and the data sets, `--images IDX [--labels IDX] [--count N]` ([`dataset`], [`dataset_images`]), or for
//! the dataset views also `--images DIR|A.png B.png ... [--labels IDX|names]` ([`image_set`], [`set_labels`]).

use convscope::catalogue::inputs::COUNT;
use convscope::catalogue::options::Kind;
use convscope::io::idx::{self, IdxImages};
use convscope::io::image;
use convscope::io::pictures::{self, MAX_PICTURES};
use convscope::io::preprocess::preprocess_stages;
use convscope::model::network::Network;
use convscope::render;
use convscope::train::Dataset;
use convscope::{Error, Result, Tensor};
use std::io::Read;
use std::path::{Path, PathBuf};

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
            let count = match count_key {
                Some(_) => count(args)?.unwrap_or(1),
                None => 1,
            };
            if start >= set.count {
                return Err(Error::option(
                    "index",
                    format!(
                        "--index {start} selects nothing from the {} images of {path}",
                        set.count
                    ),
                ));
            }
            check_count(count, set.count, start, path)?;
            (start..start + count)
                .map(|i| Ok((i, set.image(i)?)))
                .collect()
        }
        _ => Err(Error::option(
            "image",
            "give exactly one of --image FILE or --idx IMAGES",
        )),
    }
}

/// `--count N`, if given: a whole number of at least the minimum its declaration in the catalogue gives
/// ([`COUNT`]). Every command's count goes through here.
pub fn count(args: &Args) -> Result<Option<usize>> {
    let Some(n) = args.opt::<usize>(COUNT.flag)? else {
        return Ok(None);
    };
    let min = match COUNT.kind {
        Kind::Int { min, .. } => usize::try_from(min).unwrap_or(usize::MAX),
        _ => 0,
    };
    if n < min {
        return Err(Error::out_of_range(
            "--count",
            n,
            format!("{min} or more images"),
        ));
    }
    Ok(Some(n))
}

/// Errors when `count` images from image `start` run past the `total` images of `file`.
fn check_count(count: usize, total: usize, start: usize, file: &str) -> Result<()> {
    let available = total.saturating_sub(start);
    if count > available {
        let from = if start > 0 {
            format!(", {available} from --index {start}")
        } else {
            String::new()
        };
        return Err(Error::out_of_range(
            "--count",
            count,
            format!("1 to {available}: {file} has {total} images{from}"),
        ));
    }
    Ok(())
}

/// Options of [`dataset`], for `Args::parse`.
pub const DATASET_OPTIONS: [&str; 3] = ["images", "labels", "count"];

/// A labelled data set, `--images IDX --labels IDX [--count N]`: the first `N` images and their labels
/// (all of them without `--count`).
pub fn dataset(args: &Args) -> Result<Dataset> {
    let images = args.required("images")?;
    let data = Dataset::read(Path::new(images), Path::new(args.required("labels")?))?;
    match count(args)? {
        Some(n) => {
            check_count(n, data.len(), 0, images)?;
            data.first(n)
        }
        None => Ok(data),
    }
}

/// The images of `--FLAG IDX`, the first `N` under `--count N` (a data set without labels).
pub fn dataset_images(args: &Args, flag: &str) -> Result<IdxImages> {
    let path = args.required(flag)?;
    let set = idx::read_images(Path::new(path))?;
    match count(args)? {
        Some(n) => {
            check_count(n, set.count, 0, path)?;
            set.first(n)
        }
        None => Ok(set),
    }
}

/// The data set of `--images`: an IDX image file, or PNG pictures — one or more files, or a folder of
/// them — made inputs of the model's size (`convscope::io::pictures`); the first `N` under `--count N`
/// (only those are decoded). The pictures' names come with them (for `--labels names`); `None` for IDX.
pub fn image_set(args: &Args, net: &Network) -> Result<(IdxImages, Option<Vec<String>>)> {
    let given = args.all("images");
    let first = *given
        .first()
        .ok_or_else(|| Error::option("images", "--images is required"))?;
    let mut paths: Vec<PathBuf> = match given[..] {
        [one] if Path::new(one).is_dir() => pictures::list_pngs(Path::new(one))?,
        [one] if !starts_like_png(Path::new(one))? => {
            return Ok((dataset_images(args, "images")?, None))
        }
        _ => given.iter().map(PathBuf::from).collect(),
    };
    if let Some(n) = count(args)? {
        check_count(n, paths.len(), 0, first)?;
        paths.truncate(n);
    }
    let [_, height, width] = net.input_shape();
    let (images, names) = pictures::read_pictures(&paths, height, width, MAX_PICTURES)?;
    Ok((images, Some(names)))
}

/// Whether the file at `path` starts with the PNG signature (a picture set of one file, not IDX).
fn starts_like_png(path: &Path) -> Result<bool> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(8).read_to_end(&mut head))
        .map_err(|e| Error::io(path.display().to_string(), e))?;
    Ok(head == image::PNG_SIGNATURE)
}

/// The labels of the first `count` images from `--labels`: an IDX label file (at least `count` labels), or
/// `names` for pictures named by their class (`7_0001.png`); `None` without `--labels`.
pub fn set_labels(
    args: &Args,
    net: &Network,
    names: Option<&[String]>,
    count: usize,
) -> Result<Option<Vec<u8>>> {
    let mut labels = match (args.get("labels"), names) {
        (None, _) => return Ok(None),
        (Some("names"), Some(names)) => pictures::labels_from_names(names, net.labels().len())?,
        (Some("names"), None) => {
            return Err(Error::option(
                "labels",
                "--labels names reads the labels from the names of PNG pictures; \
                 give an IDX set an IDX label file",
            ))
        }
        (Some(file), _) => idx::read_labels(Path::new(file))?,
    };
    if labels.len() < count {
        return Err(Error::shape(
            "labels (one per image)",
            &[count],
            &[labels.len()],
        ));
    }
    labels.truncate(count);
    Ok(Some(labels))
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
