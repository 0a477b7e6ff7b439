//! `convscope visualize` (activation maximization, class images, `--atlas L`), `convscope dream` and
//! `convscope invert`: the feature-visualization techniques of `convscope::explain::featureviz`, their flags
//! read from the catalogue, each run to its end through its step-wise job (`convscope::explain::job`, the
//! same bits as the page's worker gets). Output: `--json` prints `{"shape":[C,H,W],"data":[…],
//! "objective":v,"history":[…]}` (raw pixels in [0, 1]; `[B,C,H,W]` for a batch; an array of those with a
//! `title` each for an atlas), `--out F.png` writes the images as a titled gray grid and `--out F.idx` as
//! an IDX file (8-bit), which `convscope predict --idx F` reads back.

use crate::args::Args;
use crate::input::{self, INPUT_OPTIONS};
use convscope::catalogue::options::{Kind, Values};
use convscope::catalogue::Technique;
use convscope::explain::featureviz::{atlas, dream, inversion, visualize, Picture};
use convscope::explain::job::{Job, Output};
use convscope::io::idx::{self, IdxImages};
use convscope::model::network::Network;
use convscope::{render, Error, Result, Tensor};
use serde::Serialize;
use std::path::Path;

/// `convscope visualize`: one objective, or with `--atlas L` every cell of a layer (or `class`).
pub fn visualize(argv: &[String]) -> Result<()> {
    let techniques = [&visualize::TECHNIQUE, &atlas::TECHNIQUE];
    let args = parse(argv, &techniques, &[])?;
    let technique = techniques[usize::from(args.get(atlas::LAYER.flag).is_some())];
    let net = input::model(&args)?;
    let output = run(
        &net,
        technique,
        None,
        &values(&args, technique, &techniques)?,
    )?;
    let heading = match args.get(atlas::LAYER.flag) {
        Some(layer) => atlas::heading(layer),
        None => format!(
            "{} {}",
            technique.label,
            args.get(visualize::OBJECTIVE.flag).unwrap_or_default()
        ),
    };
    emit(&args, &net, technique, &heading, &output)
}

/// `convscope dream` and `convscope invert`: on one input image.
fn on_image(technique: &'static Technique, argv: &[String]) -> Result<()> {
    let args = parse(argv, &[technique], &INPUT_OPTIONS)?;
    let net = input::model(&args)?;
    let (_, image) = input::single_image(&args, &net)?;
    let output = run(
        &net,
        technique,
        Some(&image),
        &values(&args, technique, &[technique])?,
    )?;
    let subject = output.first().map_or("", |p| p.title.as_str());
    let heading = format!("{} {subject}", technique.label);
    emit(&args, &net, technique, &heading, &output)
}

pub fn dream(argv: &[String]) -> Result<()> {
    on_image(&dream::TECHNIQUE, argv)
}

pub fn invert(argv: &[String]) -> Result<()> {
    on_image(&inversion::TECHNIQUE, argv)
}

/// The techniques' flags (valued ones and `flag` options) with `model`, `out`, `json` and `extra`.
fn parse(argv: &[String], techniques: &[&'static Technique], extra: &[&str]) -> Result<Args> {
    let (mut valued, mut flags) = (vec!["model", "out"], vec!["json"]);
    valued.extend(extra);
    for option in techniques.iter().flat_map(|t| t.options) {
        let list = if option.kind == Kind::Flag {
            &mut flags
        } else {
            &mut valued
        };
        if !list.contains(&option.flag) {
            list.push(option.flag);
        }
    }
    Args::parse(argv, &valued, &flags)
}

/// The flags of `technique` checked by its catalogue entry; a flag of one of the `others` that
/// `technique` does not take is an error naming it.
fn values(args: &Args, technique: &Technique, all: &[&'static Technique]) -> Result<Values> {
    let flags: Vec<&str> = all
        .iter()
        .flat_map(|t| t.options.iter().map(|o| o.flag))
        .collect();
    let mut given: Vec<(&str, &str)> = args.given(&flags).collect();
    for option in all.iter().flat_map(|t| t.options) {
        if option.kind == Kind::Flag
            && args.flag(option.flag)
            && !given.iter().any(|(f, _)| *f == option.flag)
        {
            given.push((option.flag, "true"));
        }
    }
    Values::from_flags(technique.id, technique.options, given)
}

/// The technique's job run to its end: its pictures.
fn run(
    net: &Network,
    technique: &'static Technique,
    image: Option<&Tensor>,
    values: &Values,
) -> Result<Vec<Picture>> {
    match Job::start(net, technique, image, values)?.run(net)? {
        Output::Pictures(pictures) => Ok(pictures),
        _ => Err(Error::internal(format!("{} gave no images", technique.id))),
    }
}

/// One image as `--json` prints it.
#[derive(Serialize)]
struct JsonImage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    shape: Vec<usize>,
    data: Vec<f32>,
    objective: f64,
    history: &'a [f64],
}

fn json_image<'a>(p: &'a Picture, title: Option<&'a str>) -> JsonImage<'a> {
    JsonImage {
        title,
        shape: p.image.shape().to_vec(),
        data: p.image.data().to_vec(),
        objective: p.objective,
        history: &p.history,
    }
}

/// The batch of a single render as one object (`[B, C, H, W]` when B > 1); an atlas's cells as an array.
fn json(technique: &Technique, pictures: &[Picture]) -> Result<String> {
    let one = json_image;
    let text = if technique.id == atlas::TECHNIQUE.id {
        serde_json::to_string(
            &pictures
                .iter()
                .map(|p| one(p, Some(&p.title)))
                .collect::<Vec<_>>(),
        )
    } else {
        let first = pictures
            .first()
            .ok_or_else(|| Error::internal("no image"))?;
        let mut object = one(first, None);
        if pictures.len() > 1 {
            object.shape.insert(0, pictures.len());
            object.data = pictures
                .iter()
                .flat_map(|p| p.image.data().iter().copied())
                .collect();
        }
        serde_json::to_string(&object)
    };
    text.map_err(|e| Error::internal(format!("cannot write JSON: {e}")))
}

/// Prints or writes the pictures; `heading` ("Activation maximization class:3", "Class images", ...) and the
/// model's name title a PNG.
fn emit(
    args: &Args,
    net: &Network,
    technique: &Technique,
    heading: &str,
    pictures: &[Picture],
) -> Result<()> {
    match (args.flag("json"), args.get("out")) {
        (true, Some(_)) => Err(Error::option("out", "give --json or --out, not both")),
        (true, None) => {
            println!("{}", json(technique, pictures)?);
            Ok(())
        }
        (false, Some(out)) => {
            let title = format!("{heading} ({})", net.manifest().name);
            write(Path::new(out), &title, pictures)?;
            eprintln!("wrote {out}");
            Ok(())
        }
        (false, None) => {
            for p in pictures {
                println!(
                    "{}: {} {:?}, objective {}",
                    technique.id,
                    p.title,
                    p.image.shape(),
                    p.objective
                );
            }
            Ok(())
        }
    }
}

/// `--out`: a titled gray PNG grid, or an IDX file of 8-bit images (`.idx`, one-channel images).
fn write(out: &Path, title: &str, pictures: &[Picture]) -> Result<()> {
    if out.extension().is_some_and(|e| e == "idx") {
        return std::fs::write(out, idx::encode_images(&to_idx(pictures)?)?)
            .map_err(|e| Error::io(out.display().to_string(), e));
    }
    let titled: Vec<(String, &Tensor)> = pictures
        .iter()
        .map(|p| (p.title.clone(), &p.image))
        .collect();
    render::write_png(out, &atlas::grid(&titled, title, 0)?)
}

/// The pictures as 8-bit IDX images (`round(255·x)`).
fn to_idx(pictures: &[Picture]) -> Result<IdxImages> {
    let (c, height, width) = pictures
        .first()
        .ok_or_else(|| Error::internal("no image"))?
        .image
        .chw()?;
    if c != 1 {
        return Err(Error::option(
            "out",
            "an IDX file holds one-channel images: write a PNG",
        ));
    }
    let pixels = pictures
        .iter()
        .flat_map(|p| {
            p.image
                .data()
                .iter()
                .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        })
        .collect();
    Ok(IdxImages {
        count: pictures.len(),
        height,
        width,
        pixels,
    })
}
