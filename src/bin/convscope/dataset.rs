//! `convscope patches`, `neighbours` and `embed`: the dataset views (`convscope::explain::dataset`) over the
//! images of `--images IDX`, as JSON or PNG figures. Options are the catalogue's (`--layer`, `--top`,
//! `--count`, `--metric`, and each map's own); ties rank by the lower image index.
//!
//! - `patches`: per unit (channel or vector unit) the list of `{"index", "value", "position": [y, x],
//!   "box": [y0, x0, y1, x1]}`, best first (`position` for conv channels only; boxes half-open);
//! - `neighbours`: `{"layer", "metric", "query", "neighbours": [{"index", "distance"}], "pixels": [...]}`,
//!   or a figure: the query, then its nearest images by the layer's features, then by pixels;
//! - `embed`: `{"method", "layer", "points": [[x, y], …], "explained_variance": […],
//!   "explained_variance_ratio": […] (PCA), "kl_divergence": … (t-SNE)}` in input order.

use crate::args::Args;
use crate::deconv::{output, print_json, save, Output};
use crate::input;
use convscope::analysis::features::{source, FeaturePass, PIXELS};
use convscope::catalogue::options::Values;
use convscope::catalogue::Technique;
use convscope::explain::dataset::embedding::{EmbeddingRun, Method};
use convscope::explain::dataset::neighbours::{self, nearest, Metric, Neighbour, METRIC};
use convscope::explain::dataset::patches::{self, Patch, PatchSearch};
use convscope::explain::dataset::FEATURES;
use convscope::io::idx::IdxImages;
use convscope::model::network::Network;
use convscope::render::patches::{patch_grid, UnitRow};
use convscope::render::scatter::{scatter, Scatter};
use convscope::{Error, Result};
use ndarray::Array2;
use serde::Serialize;

/// The flags of a technique's options (what `Values::from_flags` checks).
fn flags(t: &Technique) -> Vec<&'static str> {
    t.options.iter().map(|o| o.flag).collect()
}

/// The first `--count N` images of `--images IDX|DIR|A.png B.png ...` (all without `--count`).
fn data_set(args: &Args, net: &Network) -> Result<IdxImages> {
    Ok(input::image_set(args, net)?.0)
}

fn required_layer<'v>(
    values: &'v Values,
    spec: &convscope::catalogue::options::OptionSpec,
) -> Result<&'v str> {
    values
        .text(spec)
        .ok_or_else(|| Error::option("layer", "--layer L is required (a layer name)"))
}

/// One patch as `--json` prints it.
#[derive(Serialize)]
struct PatchJson {
    index: usize,
    value: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<[usize; 2]>,
    #[serde(rename = "box")]
    bbox: [usize; 4],
}

pub fn patches(argv: &[String]) -> Result<()> {
    let t = &patches::TECHNIQUE;
    let mut valued = vec!["model", "images...", "out"];
    valued.extend(flags(t));
    let args = Args::parse(argv, &valued, &["json"])?;
    let net = input::model(&args)?;
    let set = data_set(&args, &net)?;
    let values = Values::from_flags(t.id, t.options, args.given(&flags(t)))?;
    let count = set.count;
    let top = values.usize_or_default(&patches::TOP);
    let mut search = PatchSearch::new(&net, required_layer(&values, &patches::LAYER)?, top, count)?;
    search.step(&net, &set, count)?;
    let result = search.result();
    match output(&args)? {
        Output::Json => {
            let json: Vec<Vec<PatchJson>> = result
                .iter()
                .map(|unit| {
                    unit.iter()
                        .map(|p| PatchJson {
                            index: p.index,
                            value: p.value,
                            position: p.position.map(|(y, x)| [y, x]),
                            bbox: p.bbox,
                        })
                        .collect()
                })
                .collect();
            print_json(&json)
        }
        Output::Png(path) => {
            let rows = result
                .iter()
                .enumerate()
                .map(|(unit, list)| patch_row(&net, &set, &search, unit, list))
                .collect::<Result<Vec<_>>>()?;
            let title = format!("top {top} of {count} images, {}", search.layer_name(&net));
            let size = search.crop_size();
            save(&patch_grid(&title, &rows, [size, size]), path)
        }
    }
}

/// One unit's crops and projections for the figure.
fn patch_row(
    net: &Network,
    set: &IdxImages,
    search: &PatchSearch,
    unit: usize,
    list: &[Patch],
) -> Result<UnitRow> {
    let mut row = UnitRow {
        title: format!("{} unit {unit}", search.layer_name(net)),
        crops: Vec::new(),
        projections: Vec::new(),
        captions: Vec::new(),
    };
    for p in list {
        let image = set.image(p.index)?;
        let projection = search.projection(net, &image, unit, p)?;
        row.crops.push(search.crop(image.data(), p));
        row.projections.push(search.crop(projection.data(), p));
        row.captions.push(format!("#{}", p.index));
    }
    Ok(row)
}

#[derive(Serialize)]
struct NeighbourJson {
    index: usize,
    distance: f64,
}

fn neighbour_json(list: &[Neighbour]) -> Vec<NeighbourJson> {
    list.iter()
        .map(|n| NeighbourJson {
            index: n.index,
            distance: n.distance,
        })
        .collect()
}

pub fn neighbours(argv: &[String]) -> Result<()> {
    let t = &neighbours::TECHNIQUE;
    let mut valued = vec![
        "model",
        "images...",
        "image",
        "idx",
        "index",
        "stages",
        "out",
    ];
    valued.extend(flags(t));
    let args = Args::parse(argv, &valued, &["json"])?;
    let net = input::model(&args)?;
    let set = data_set(&args, &net)?;
    let values = Values::from_flags(t.id, t.options, args.given(&flags(t)))?;
    let layer = required_layer(&values, &FEATURES)?;
    let metric: Metric = values.text_or_default(&METRIC).parse()?;
    let top = values.usize_or_default(&neighbours::TOP);
    let count = set.count;
    let (query_index, query) = input::query_image(&args, &net)?;
    let spaces: Vec<&str> = if layer == PIXELS {
        vec![PIXELS]
    } else {
        vec![layer, PIXELS]
    };
    let mut pass = FeaturePass::new(&net, &set, &spaces, count)?;
    pass.step(&net, &set, count)?;
    let matrices = pass.finish()?;
    let trace = net.forward(&query)?;
    let mut lists = Vec::new();
    for (space, data) in spaces.iter().zip(&matrices) {
        let features = match source(&net, space)?.0 {
            Some(index) => trace.output(index)?.data(),
            None => query.data(),
        };
        lists.push(nearest(data.view(), features, metric, top)?);
    }
    let by_pixels = lists.last().map_or(&[][..], |l| &l[..]);
    let query_index = args.get("idx").map(|_| query_index);
    match output(&args)? {
        Output::Json => print_json(&serde_json::json!({
            "layer": layer, "metric": metric.name(), "query": query_index,
            "neighbours": neighbour_json(&lists[0]),
            "pixels": neighbour_json(by_pixels),
        })),
        Output::Png(path) => {
            let query_row = UnitRow {
                title: "query".into(),
                crops: vec![query.data().to_vec()],
                projections: Vec::new(),
                captions: vec![query_index.map_or("image".into(), |i| format!("#{i}"))],
            };
            let rows = [
                query_row,
                neighbour_row(&set, &format!("{layer}, {}", metric.name()), &lists[0])?,
                neighbour_row(&set, "pixels", by_pixels)?,
            ];
            let title = format!("nearest {top} of {count} images");
            save(&patch_grid(&title, &rows, [set.height, set.width]), path)
        }
    }
}

/// One row of the neighbours figure: the images of `list`, captioned by index and distance.
fn neighbour_row(set: &IdxImages, title: &str, list: &[Neighbour]) -> Result<UnitRow> {
    let mut row = UnitRow {
        title: title.to_string(),
        crops: Vec::new(),
        projections: Vec::new(),
        captions: Vec::new(),
    };
    for n in list {
        row.crops.push(set.image(n.index)?.data().to_vec());
        row.captions.push(format!("#{} {:.3}", n.index, n.distance));
    }
    Ok(row)
}

/// The flags `embed` accepts: every map's options.
fn embed_flags() -> Vec<&'static str> {
    let mut all: Vec<&str> = Method::ALL
        .iter()
        .flat_map(|m| flags(m.technique()))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

pub fn embed(argv: &[String]) -> Result<()> {
    let mut valued = vec!["model", "images...", "labels", "method", "out"];
    let method_flags = embed_flags();
    valued.extend(&method_flags);
    let args = Args::parse(argv, &valued, &["json"])?;
    let method: Method = args
        .get("method")
        .ok_or_else(|| Error::option("method", "--method pca|tsne|umap is required"))?
        .parse()?;
    let t = method.technique();
    let net = input::model(&args)?;
    let (set, names) = input::image_set(&args, &net)?;
    let labels = input::set_labels(&args, &net, names.as_deref(), set.count)?;
    let values = Values::from_flags(t.id, t.options, args.given(&method_flags))?;
    let layer = required_layer(&values, &FEATURES)?;
    let count = set.count;
    let logits = net.layers()[net.logits_index()].name.clone();
    let mut pass = FeaturePass::new(&net, &set, &[layer, &logits], count)?;
    pass.step(&net, &set, count)?;
    let mut matrices = pass.finish()?.into_iter();
    let (features, logits) = matrices
        .next()
        .zip(matrices.next())
        .ok_or_else(|| Error::internal("a feature pass lost a matrix"))?;
    let mut run = EmbeddingRun::new(method, features.view(), &values)?;
    while !run.is_done() {
        let (done, all) = run.step(50);
        match run.kl_divergence() {
            Some(kl) => eprintln!("{} {done}/{all}: KL divergence {kl:.4}", t.id),
            None => eprintln!("{} {done}/{all}", t.id),
        }
    }
    let points = run.points();
    match output(&args)? {
        Output::Json => {
            let variance = run.explained_variance();
            let out = serde_json::json!({
                "method": t.id, "layer": layer,
                "points": points.rows().into_iter().map(|r| [r[0], r[1]]).collect::<Vec<_>>(),
                "explained_variance": variance.as_ref().map(|v| &v.0),
                "explained_variance_ratio": variance.as_ref().map(|v| &v.1),
                "kl_divergence": run.kl_divergence(),
            });
            print_json(&strip_nulls(out))
        }
        Output::Png(path) => {
            map_figure(labels.as_deref(), &net, &run, layer, &points, &logits, path)
        }
    }
}

/// Drops the keys whose value is `null` (the figures a method does not have).
fn strip_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        other => other,
    }
}

/// The scatter: coloured by `--labels` (misclassified images crossed) or, without labels, by prediction.
fn map_figure(
    labels: Option<&[u8]>,
    net: &Network,
    run: &EmbeddingRun,
    layer: &str,
    points: &Array2<f32>,
    logits: &Array2<f32>,
    path: &str,
) -> Result<()> {
    let predicted: Vec<usize> = logits
        .rows()
        .into_iter()
        .map(|r| convscope::model::network::argmax(r.as_slice().unwrap_or(&[])))
        .collect();
    let (classes, marked) = match labels {
        Some(labels) => {
            let labels: Vec<usize> = labels.iter().map(|&l| usize::from(l)).collect();
            let marked = labels.iter().zip(&predicted).map(|(l, p)| l != p).collect();
            (labels, marked)
        }
        None => (predicted.clone(), vec![false; predicted.len()]),
    };
    let mut title = format!(
        "{} of {layer}, {} images",
        run.method.technique().label,
        points.nrows()
    );
    if let Some(kl) = run.kl_divergence() {
        title += &format!(", KL {kl:.3}");
    }
    if let Some((_, ratio)) = run.explained_variance() {
        let share = ratio.iter().take(2).sum::<f64>() * 100.0;
        title += &format!(", {share:.1}% of the variance");
    }
    let image = scatter(&Scatter {
        points: points.view(),
        classes: &classes,
        marked: &marked,
        labels: net.labels(),
        title: &title,
    });
    save(&image, path)
}
