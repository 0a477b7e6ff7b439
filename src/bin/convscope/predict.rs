//! `convscope predict`, `eval` and `activations`.

use crate::args::Args;
use crate::input::{self, INPUT_OPTIONS};
use convscope::render;
use convscope::train::{evaluate, Dataset};
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
            println!(
                "{}",
                serde_json::to_string(&line).map_err(|e| Error::invalid(e.to_string()))?
            );
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
    let args = Args::parse(argv, &["model", "images", "labels"], &["json"])?;
    let net = input::model(&args)?;
    let data = Dataset::read(
        Path::new(args.required("images")?),
        Path::new(args.required("labels")?),
    )?;
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

pub fn activations(argv: &[String]) -> Result<()> {
    let mut valued = INPUT_OPTIONS.to_vec();
    valued.extend(["layer", "out", "colormap"]);
    let args = Args::parse(argv, &valued, &[])?;
    let net = input::model(&args)?;
    let (_, image) = input::single_image(&args, &net)?;
    let number: usize = args
        .opt("layer")?
        .ok_or_else(|| Error::invalid("--layer N is required (1-based)"))?;
    let layers = net.layers();
    let Some(layer) = number.checked_sub(1).and_then(|i| layers.get(i)) else {
        let list: Vec<String> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{} {}", i + 1, l.name))
            .collect();
        return Err(Error::invalid(format!(
            "--layer {number} out of range; the layers are: {}",
            list.join(", ")
        )));
    };
    let colormap = args
        .get("colormap")
        .unwrap_or("viridis")
        .parse::<render::colormap::Colormap>()?;
    let trace = net.forward(&image)?;
    let maps = trace.output(number - 1)?;
    let title = format!(
        "layer {number}: {} ({}) {:?}",
        layer.name,
        layer.layer.type_name(),
        layer.output_shape
    );
    let img = render::grid::feature_grid(maps, &title, colormap)?;
    let out = args.required("out")?;
    render::png::write_png(Path::new(out), &img)?;
    eprintln!("wrote {out}");
    Ok(())
}
