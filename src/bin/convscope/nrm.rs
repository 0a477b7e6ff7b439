//! `convscope nrm train` and `convscope nrm generate`: the neural response map
//! (`convscope::explain::nrm`).
//!
//! - `train --model M --images IDX [--count N] [--layers L1,L2] [--correlation pearson|spearman]
//!   [--units mean|all] [--perplexity P] [--iterations N] [--seed S] --out map.json` writes the map file
//!   (`{"format", "version", "settings", "neurons": [{"id", "layer", "unit"}], "layout": [[x, y]], "mean",
//!   "std", "dropped", "kl_divergence", "correlation": [[…]]}`); the first 1,000 images by default;
//! - `generate --model M --map map.json (--image F | --idx IMAGES [--index I] [--count N]) [--labels IDX]
//!   [--method nearest|linear] [--colormap viridis] [--size H,W] [--circle] (--out F.png | --json)`: the map
//!   of one input or the mean over the selected ones; with `--labels`, one map per class of the selected
//!   images, side by side.

use crate::args::Args;
use crate::deconv::{output, print_json, save, Output};
use crate::input;
use convscope::catalogue::options::Values;
use convscope::catalogue::Technique;
use convscope::explain::nrm::generate::{GenerateOptions, SizeOrder};
use convscope::explain::nrm::{self, ResponseMap, Settings, Training};
use convscope::io::idx;
use convscope::render::volumes::response_maps;
use convscope::{Error, Result, Tensor};
use std::path::Path;

pub const USAGE: &str = "usage: convscope nrm train --model M --images IDX [--count N] [--layers L1,L2] \
    [--correlation pearson|spearman] [--units mean|all] [--perplexity P] [--iterations N] [--seed S] --out map.json\n       \
    convscope nrm generate --model M --map map.json (--image F | --idx IMAGES [--index I] [--count N]) \
    [--labels IDX] [--method nearest|linear] [--colormap viridis] [--size H,W] [--circle] (--out F.png | --json)";

fn flags(t: &Technique) -> Vec<&'static str> {
    t.options.iter().map(|o| o.flag).collect()
}

pub fn run(argv: &[String]) -> Result<()> {
    match argv.split_first() {
        Some((sub, rest)) if sub == "train" => train(rest),
        Some((sub, rest)) if sub == "generate" => generate(rest),
        Some((other, _)) => Err(Error::unknown("nrm command", other, &["train", "generate"])),
        None => Err(Error::option("nrm", format!("name a subcommand\n{USAGE}"))),
    }
}

fn train(argv: &[String]) -> Result<()> {
    let t = &nrm::TRAIN;
    let mut valued = vec!["model", "images", "out"];
    valued.extend(flags(t));
    let args = Args::parse(argv, &valued, &[])?;
    let net = input::model(&args)?;
    let path = args.required("images")?;
    let images = idx::read_images(Path::new(path))?;
    let values = Values::from_flags(t.id, t.options, args.given(&flags(t)))?;
    let count = match input::count(&args)? {
        Some(n) => n,
        None => nrm::DEFAULT_COUNT.min(images.count),
    };
    let out = args.required("out")?;
    let settings = Settings::from_values(&net, &values, count)?;
    let mut training = Training::new(&net, &images, settings)?;
    while !training.is_done() {
        let p = training.step(&net, 100)?;
        match p.kl_divergence {
            Some(kl) => eprintln!("response map {}/{}: KL divergence {kl:.4}", p.done, p.total),
            None => eprintln!("response map {}/{}", p.done, p.total),
        }
    }
    let map = training.finish()?;
    let text = serde_json::to_string(&map)
        .map_err(|e| Error::internal(format!("cannot write the map: {e}")))?;
    std::fs::write(out, text).map_err(|e| Error::io(out, e))?;
    eprintln!(
        "wrote {out}: {} neurons ({} constant ones dropped), KL divergence {:.4}",
        map.neurons.len(),
        map.dropped.len(),
        map.kl_divergence.unwrap_or(f64::NAN)
    );
    Ok(())
}

fn generate(argv: &[String]) -> Result<()> {
    let t = &nrm::GENERATE;
    let mut valued = input::INPUT_OPTIONS.to_vec();
    valued.extend(["map", "labels", "out"]);
    valued.extend(flags(t).into_iter().filter(|f| *f != "circle"));
    let args = Args::parse(argv, &valued, &["json", "circle"])?;
    let net = input::model(&args)?;
    let map_path = args.required("map")?;
    let text = std::fs::read_to_string(map_path).map_err(|e| Error::io(map_path, e))?;
    let map = ResponseMap::from_json(&text)?;
    let option_flags = flags(t);
    let mut given: Vec<(&str, &str)> = args.given(&option_flags).collect();
    if args.flag("circle") {
        given.push(("circle", "true"));
    }
    let values = Values::from_flags(t.id, t.options, given)?;
    let options = GenerateOptions::from_values(&values, SizeOrder::HeightWidth)?;
    let selected = input::images(&args, &net)?;
    let groups = groups(&args, &selected)?;
    let surface = map.surface(&options)?;
    let mut maps = Vec::new();
    for (title, images) in &groups {
        maps.push((
            title.clone(),
            surface.paint(&map.mean_responses(&net, images)?)?,
        ));
    }
    let regions = surface.regions(&map.layer_of_neurons());
    match output(&args)? {
        Output::Json => {
            let finite = |v: &Vec<f32>| {
                v.iter()
                    .map(|x| x.is_finite().then_some(*x))
                    .collect::<Vec<_>>()
            };
            let out = serde_json::json!({
                "height": options.height, "width": options.width, "layers": map.settings.layers,
                "maps": maps.iter().map(|(title, v)| serde_json::json!({"title": title, "values": finite(v)})).collect::<Vec<_>>(),
                "regions": regions,
            });
            print_json(&out)
        }
        Output::Png(path) => {
            let colormap = nrm::colormap(&values)?;
            save(
                &response_maps(
                    &maps,
                    options.width,
                    &regions,
                    &map.settings.layers,
                    colormap,
                )?,
                path,
            )
        }
    }
}

/// The selected images as one group (titled by its indices), or with `--labels` one group per class.
fn groups(args: &Args, selected: &[(usize, Tensor)]) -> Result<Vec<(String, Vec<Tensor>)>> {
    let images: Vec<Tensor> = selected.iter().map(|(_, t)| t.clone()).collect();
    let Some(labels) = args.get("labels") else {
        let title = match selected {
            [(i, _)] if args.get("idx").is_some() => format!("image {i}"),
            [_] => "input".to_string(),
            [(first, _), .., (last, _)] => format!("mean of images {first}-{last}"),
            [] => return Err(Error::option("index", "no image selected")),
        };
        return Ok(vec![(title, images)]);
    };
    let labels = idx::read_labels(Path::new(labels))?;
    let mut by_class: Vec<(u8, Vec<Tensor>)> = Vec::new();
    for (i, image) in selected {
        let label = *labels
            .get(*i)
            .ok_or_else(|| Error::shape("labels (one per image)", &[i + 1], &[labels.len()]))?;
        match by_class.iter_mut().find(|(l, _)| *l == label) {
            Some((_, list)) => list.push(image.clone()),
            None => by_class.push((label, vec![image.clone()])),
        }
    }
    by_class.sort_by_key(|(l, _)| *l);
    Ok(by_class
        .into_iter()
        .map(|(l, list)| (format!("class {l} ({} images)", list.len()), list))
        .collect())
}
