//! `convscope order` and `convscope weight-gradient`: CNN-VIS's volume views
//! (`convscope::explain::volume`).
//!
//! - `order ... --layer L --by kmeans|pca [--k K] [--slice Y] [--seed S] (--json | --out F.png)`: JSON
//!   `{"layer", "by", "over": "maps" | Y, "shape": [C, H, W], "order", "clusters", "inertia" (k-means),
//!   "projection", "explained" (PCA)}`; the PNG shows the maps before and after;
//! - `weight-gradient ... --layer conv1|conv2 [--target C] --json` → `{"shape": [O, I, kh, kw], "data",
//!   "target"}`; `--compare REF[,SIMILAR,DISSIMILAR] --images IDX --labels IDX [--count N] [--per-class N]
//!   (--out F.png | --json)` for the class comparison (the other two classes default to the ones most and
//!   least confused with REF over the data set).

use crate::args::Args;
use crate::deconv::{output, print_json, save, Output};
use crate::input;
use convscope::catalogue::options::{OptionSpec, Values};
use convscope::catalogue::Technique;
use convscope::explain::volume::order::{self as ordering, By, Over};
use convscope::explain::volume::weight_gradient::{
    self as wg, compare, conv_layer, pick_classes, weight_gradient,
};
use convscope::render::colormap::{Colormap, Scale};
use convscope::render::grid::{map_grid, GridOptions, Legend, Panel};
use convscope::render::volumes::kernels_side_by_side;
use convscope::render::RgbImage;
use convscope::{Error, Result, Tensor};

fn flags(t: &Technique) -> Vec<&'static str> {
    t.options.iter().map(|o| o.flag).collect()
}

fn required_text<'v>(values: &'v Values, spec: &OptionSpec) -> Result<&'v str> {
    values
        .text(spec)
        .ok_or_else(|| Error::option(spec.flag, format!("--{} is required", spec.flag)))
}

pub fn order(argv: &[String]) -> Result<()> {
    let t = &ordering::TECHNIQUE;
    let mut valued = input::INPUT_OPTIONS.to_vec();
    valued.push("out");
    valued.extend(flags(t));
    let args = Args::parse(argv, &valued, &["json"])?;
    let net = input::model(&args)?;
    let values = Values::from_flags(t.id, t.options, args.given(&flags(t)))?;
    let layer = required_text(&values, &ordering::LAYER)?;
    let index = net.layer_index(layer)?;
    let (_, image) = input::single_image(&args, &net)?;
    let trace = net.forward(&image)?;
    let volume = trace.output(index)?;
    let (by, over) = (By::from_values(&values)?, Over::from_values(&values));
    let result = ordering::order(volume, by, over)?;
    let by_name = values.text_or_default(&ordering::BY);
    match output(&args)? {
        Output::Json => {
            let over = match over {
                Over::Maps => serde_json::json!("maps"),
                Over::Slice(y) => serde_json::json!(y),
            };
            print_json(&serde_json::json!({
                "layer": layer, "by": by_name, "over": over, "shape": volume.shape(),
                "order": result.order, "clusters": result.clusters, "inertia": result.inertia,
                "projection": result.projection, "explained": result.explained,
            }))
        }
        Output::Png(path) => save(&order_figure(layer, by_name, volume, &result)?, path),
    }
}

/// The maps before (channel numbers) and after (original channel and, for k-means, cluster).
fn order_figure(
    layer: &str,
    by: &str,
    volume: &Tensor,
    result: &ordering::Ordering,
) -> Result<RgbImage> {
    let (c, h, w) = volume.chw()?;
    let scale = Scale::fit(volume.data(), Colormap::Viridis);
    let panels = |v: &Tensor, title: &dyn Fn(usize) -> String| -> Result<Vec<(String, Vec<f32>)>> {
        (0..c)
            .map(|k| Ok((title(k), v.channel(k)?.to_vec())))
            .collect()
    };
    let before = panels(volume, &|k| format!("{k}"))?;
    let after = panels(&result.volume, &|k| {
        let original = result.order[k];
        match &result.clusters {
            Some(clusters) => format!("{original}/c{}", clusters[original]),
            None => format!("{original}"),
        }
    })?;
    let grid = |title: String, maps: &[(String, Vec<f32>)], legend: bool| {
        let list: Vec<Panel> = maps
            .iter()
            .map(|(t, v)| Panel {
                title: t.clone(),
                height: h,
                width: w,
                values: v,
                colormap: Colormap::Viridis,
                scale,
            })
            .collect();
        map_grid(
            &list,
            &GridOptions {
                title,
                columns: c.min(8),
                zoom: 0,
                legend: legend.then_some(Legend {
                    colormap: Colormap::Viridis,
                    scale,
                }),
            },
        )
    };
    let detail = match (result.inertia, result.explained) {
        (Some(inertia), _) => format!(", inertia {inertia:.1}"),
        (_, Some(share)) => format!(", PC1 {:.1}% of the variance", share * 100.0),
        _ => String::new(),
    };
    Ok(convscope::render::deconv_figure::stack(&[
        grid(format!("{layer}: channel order"), &before, false),
        grid(format!("ordered by {by}{detail}"), &after, true),
    ]))
}

pub fn weight_gradient_command(argv: &[String]) -> Result<()> {
    if argv
        .iter()
        .any(|a| a == "--compare" || a.starts_with("--compare="))
    {
        return comparison(argv);
    }
    let t = &wg::TECHNIQUE;
    let mut valued = input::INPUT_OPTIONS.to_vec();
    valued.extend(flags(t));
    let args = Args::parse(argv, &valued, &["json"])?;
    if !args.flag("json") {
        return Err(Error::option(
            "json",
            "weight-gradient prints --json (or use --compare ... --out F.png)",
        ));
    }
    let net = input::model(&args)?;
    let values = Values::from_flags(t.id, t.options, args.given(&flags(t)))?;
    let (index, _) = conv_layer(&net, required_text(&values, &wg::LAYER)?)?;
    let (_, image) = input::single_image(&args, &net)?;
    let target = target(&values, &wg::TARGET);
    let (gradient, target) = weight_gradient(&net, &image, index, target)?;
    print_json(
        &serde_json::json!({ "shape": gradient.shape(), "data": gradient.data(), "target": target }),
    )
}

fn target(values: &Values, spec: &OptionSpec) -> Option<usize> {
    values.int(spec).and_then(|v| usize::try_from(v).ok())
}

fn comparison(argv: &[String]) -> Result<()> {
    let t = &wg::COMPARISON;
    let mut valued = vec!["model", "out"];
    valued.extend(input::DATASET_OPTIONS);
    valued.extend(flags(t));
    let args = Args::parse(argv, &valued, &["json"])?;
    let net = input::model(&args)?;
    let data = input::dataset(&args)?;
    let values = Values::from_flags(t.id, t.options, args.given(&flags(t)))?;
    let (index, _) = conv_layer(&net, required_text(&values, &wg::LAYER)?)?;
    let given = values.floats(&wg::COMPARE).unwrap_or(&[]);
    let classes = pick_classes(&net, &data, given)?;
    let per_class = values.usize_or_default(&wg::PER_CLASS);
    let result = compare(
        &net,
        &data,
        index,
        classes,
        target(&values, &wg::TARGET),
        per_class,
    )?;
    let labels = net.labels();
    let roles = ["reference", "similar", "dissimilar"];
    match output(&args)? {
        Output::Json => print_json(&serde_json::json!({
            "classes": result.classes, "target": result.target, "indices": result.indices,
            "cosine": result.cosine, "shape": result.means[0].shape(),
            "means": result.means.iter().map(|m| m.data()).collect::<Vec<_>>(),
        })),
        Output::Png(path) => {
            let volumes: Vec<(String, &Tensor)> = (0..3)
                .map(|k| {
                    let c = result.classes[k];
                    let name = labels.get(c).cloned().unwrap_or_else(|| c.to_string());
                    let title = format!(
                        "{} {name}: {} images, cos {:.2}",
                        roles[k],
                        result.indices[k].len(),
                        result.cosine[k]
                    );
                    (title, &result.means[k])
                })
                .collect();
            let layer = &net.layers()[index].name;
            let title = format!(
                "mean d logit[{}] / d {layer} weights [O rows, I columns]",
                result.target
            );
            save(&kernels_side_by_side(&title, &volumes)?, path)
        }
    }
}
