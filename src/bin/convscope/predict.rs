//! `convscope predict`, `eval` and `activations`.

use crate::args::Args;
use crate::input::{self, INPUT_OPTIONS};
use convscope::catalogue::options::Values;
use convscope::explain::inspect;
use convscope::render;
use convscope::train::evaluate;
use convscope::{Error, Result};
use std::path::Path;

pub fn predict(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &INPUT_OPTIONS, &["json"])?;
    let net = input::model(&args)?;
    for (index, image) in input::images(&args, &net)? {
        let p = net.predict(&image)?;
        if args.flag("json") {
            // A struct rather than `json!`, so that the f32 values print in their shortest exact form.
            #[derive(serde::Serialize)]
            struct Line<'a> {
                index: usize,
                label: usize,
                logits: &'a [f32],
                probs: &'a [f32],
            }
            let line = Line {
                index,
                label: p.label,
                logits: &p.logits,
                probs: &p.probs,
            };
            println!("{}", to_json(&line)?);
        } else {
            println!(
                "image {index}: {} ({:.2}%)",
                net.labels()[p.label],
                p.probs[p.label] * 100.0
            );
        }
    }
    Ok(())
}

pub fn eval(argv: &[String]) -> Result<()> {
    let mut valued = input::DATASET_OPTIONS.to_vec();
    valued.push("model");
    let args = Args::parse(argv, &valued, &["json"])?;
    let net = input::model(&args)?;
    let data = input::dataset(&args)?;
    let ev = evaluate(&net, &data)?;
    if args.flag("json") {
        let out = serde_json::json!({
            "accuracy": ev.accuracy(), "correct": ev.correct, "total": ev.total,
            "labels": net.labels(), "confusion": ev.confusion,
        });
        println!("{out}");
    } else {
        println!(
            "accuracy {:.2}% ({}/{})",
            ev.accuracy() * 100.0,
            ev.correct,
            ev.total
        );
        println!("confusion matrix (rows: true label, columns: predicted)");
        let width = ev
            .confusion
            .iter()
            .flatten()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(3);
        print!("{:>w$} ", "", w = width);
        for k in 0..ev.confusion.len() {
            print!("{k:>width$} ");
        }
        println!();
        for (k, row) in ev.confusion.iter().enumerate() {
            print!("{k:>width$} ");
            for v in row {
                print!("{v:>width$} ");
            }
            println!();
        }
    }
    Ok(())
}

/// `convscope activations`: one layer's output for one image, as JSON (`{"layer", "shape", "data"}`, what the
/// page's layer explorer downloads) or as a PNG grid of its channels.
pub fn activations(argv: &[String]) -> Result<()> {
    let mut valued = INPUT_OPTIONS.to_vec();
    valued.extend(["layer", "out", "colormap"]);
    let args = Args::parse(argv, &valued, &["json"])?;
    let net = input::model(&args)?;
    let (_, image) = input::single_image(&args, &net)?;
    let technique = &inspect::ACTIVATIONS;
    let values = Values::from_flags(technique.id, technique.options, args.given(&["layer"]))?;
    let index = input::layer(&net, values.text(&inspect::ACTIVATIONS_LAYER))?;
    let layer = &net.layers()[index]; // `input::layer` returned a valid index
    let out = one_output(&args)?;
    let colormap = args
        .get("colormap")
        .unwrap_or("viridis")
        .parse::<render::colormap::Colormap>()?;
    let trace = net.forward(&image)?;
    let maps = trace.output(index)?;
    match out {
        None => print_layer(&layer.name, maps),
        Some(out) => {
            let title = format!(
                "layer {}: {} ({}) {:?}",
                index + 1,
                layer.name,
                layer.layer.type_name(),
                layer.output_shape
            );
            save_grid(out, &render::grid::feature_grid(maps, &title, colormap)?)
        }
    }
}

/// `convscope filters`: a layer's weights as JSON (`{"layer", "shape", "data"}`) or a PNG grid (diverging
/// colormap, one tile per kernel and input channel, or the whole matrix of a linear layer).
pub fn filters(argv: &[String]) -> Result<()> {
    let args = Args::parse(argv, &["model", "layer", "out"], &["json"])?;
    let net = input::model(&args)?;
    let technique = &inspect::FILTERS;
    let values = Values::from_flags(technique.id, technique.options, args.given(&["layer"]))?;
    let layer = values.text(&inspect::FILTERS_LAYER).ok_or_else(|| {
        Error::option("layer", "--layer L is required (a conv2d or linear layer)")
    })?;
    let weights = inspect::filters(&net, layer)?;
    match one_output(&args)? {
        None => print_layer(layer, &weights),
        Some(out) => {
            let title = format!("{layer} weights {:?}", weights.shape());
            let img = render::grid::feature_grid(
                &render::grid::as_planes(&weights)?,
                &title,
                render::colormap::Colormap::Diverging,
            )?;
            save_grid(out, &img)
        }
    }
}

/// The PNG file of a command that prints JSON (`--json`: None) or draws a PNG (`--out FILE`): exactly one.
fn one_output(args: &Args) -> Result<Option<&str>> {
    match (args.flag("json"), args.get("out")) {
        (true, None) => Ok(None),
        (false, Some(out)) => Ok(Some(out)),
        _ => Err(Error::option(
            "out",
            "give exactly one of --json or --out FILE.png",
        )),
    }
}

/// Writes a PNG figure to `out` and says so on stderr.
fn save_grid(out: &str, img: &render::RgbImage) -> Result<()> {
    render::png::write_png(Path::new(out), img)?;
    eprintln!("wrote {out}");
    Ok(())
}

/// Prints a layer's tensor as `--json` does: `{"layer", "shape", "data"}`, the f32 values in their shortest
/// exact form.
fn print_layer(layer: &str, tensor: &convscope::tensor::Tensor) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Json<'a> {
        layer: &'a str,
        shape: &'a [usize],
        data: &'a [f32],
    }
    let json = Json {
        layer,
        shape: tensor.shape(),
        data: tensor.data(),
    };
    println!("{}", to_json(&json)?);
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("cannot write JSON: {e}")))
}
