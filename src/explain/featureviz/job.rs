//! The feature-visualization techniques step by step, for [`crate::explain::job::Job`]: `visualize` and
//! `invert` are one [`Render`], `atlas` an [`Atlas`] of renders, `dream` a [`Dream`]. Every step reports the
//! pictures as they stand — the images being optimized (an atlas's finished cells and the one in
//! progress) — and, after the last, the finished pictures: what [`Render::run`], [`Atlas::run`] and
//! [`Dream::run`] give, bit for bit.

use super::atlas::{self, Atlas};
use super::dream::{Dream, DreamOptions};
use super::render::{Picture, Render};
use super::{inversion, visualize};
use crate::catalogue::options::Values;
use crate::catalogue::Technique;
use crate::error::{Error, Result};
use crate::model::network::Network;
use crate::tensor::Tensor;

/// A feature visualization in progress.
#[derive(Debug, Clone)]
pub enum Job {
    /// Activation maximization or feature inversion: one render, titled by its objective or layer.
    Render {
        title: String,
        render: Render,
    },
    Atlas(Atlas),
    Dream {
        title: String,
        dream: Dream,
    },
}

/// What one [`Job::step`] reports: steps done of all, the pictures as they stand, and whether those are
/// the finished result.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub done: usize,
    pub total: usize,
    pub pictures: Vec<Picture>,
    pub finished: bool,
}

impl Job {
    /// Starts `technique` (`visualize`, `atlas`, `dream` or `invert`) with its checked options: `visualize`
    /// and `atlas` start from seeded noise (no image), `dream` and `invert` from `image`.
    pub fn start(
        net: &Network,
        technique: &Technique,
        image: Option<&Tensor>,
        values: &Values,
    ) -> Result<Job> {
        let from_noise = matches!(technique.id, "visualize" | "atlas");
        let wrong = |what: &str| Error::option("image", format!("{} {what}", technique.id));
        match (technique.id, image) {
            (_, Some(_)) if from_noise => Err(wrong("starts from seeded noise: give no image")),
            (_, None) if !from_noise => Err(wrong("works on an input image: give one")),
            ("visualize", _) => {
                let (objective, options) = visualize::from_values(net, values)?;
                let title = values.text(&visualize::OBJECTIVE).unwrap_or_default();
                Ok(Job::Render {
                    title: title.to_string(),
                    render: Render::new(net, &objective, options)?,
                })
            }
            ("atlas", _) => {
                let (cells, options) = atlas::from_values(net, values)?;
                Ok(Job::Atlas(Atlas::new(net, cells, options)?))
            }
            ("dream", Some(image)) => {
                let options = DreamOptions::from_values(net, values)?;
                Ok(Job::Dream {
                    title: options.layer.clone(),
                    dream: Dream::new(net, image, options)?,
                })
            }
            ("invert", Some(image)) => {
                let (layer, options) = inversion::from_values(values)?;
                let render = inversion::invert(net, image, &layer, options)?;
                Ok(Job::Render {
                    title: layer,
                    render,
                })
            }
            _ => Err(Error::internal(format!(
                "{} is not a feature visualization",
                technique.id
            ))),
        }
    }

    /// Steps done, of all.
    pub fn progress(&self) -> (usize, usize) {
        match self {
            Job::Render { render, .. } => render.progress(),
            Job::Atlas(atlas) => atlas.progress(),
            Job::Dream { dream, .. } => dream.progress(),
        }
    }

    /// Runs up to `budget` more steps on `net` (an atlas: never past the end of the cell in progress).
    pub fn step(&mut self, net: &Network, budget: usize) -> Result<Step> {
        let (pictures, finished) = match self {
            Job::Render { title, render } => {
                let progress = render.step(net, budget)?;
                if progress.done() {
                    let r = render.finish(net)?;
                    (
                        Picture::batch(title, r.images, r.objective, &r.history),
                        true,
                    )
                } else {
                    let history = render.history();
                    (
                        Picture::batch(title, progress.images, progress.objective, history),
                        false,
                    )
                }
            }
            Job::Atlas(atlas) => {
                atlas.step(net, budget)?;
                (atlas_pictures(atlas)?, atlas.current().is_none())
            }
            Job::Dream { title, dream } => {
                let progress = dream.step(net, budget)?;
                let picture = Picture::batch(
                    title,
                    vec![progress.image],
                    progress.energy,
                    dream.history(),
                );
                (picture, progress.step >= progress.steps)
            }
        };
        let (done, total) = self.progress();
        Ok(Step {
            done,
            total,
            pictures,
            finished,
        })
    }
}

/// Every finished cell's picture, then the cell in progress's images so far.
fn atlas_pictures(atlas: &Atlas) -> Result<Vec<Picture>> {
    let cells = atlas.cells();
    let mut pictures: Vec<Picture> = atlas
        .finished()
        .iter()
        .zip(cells)
        .flat_map(|(r, cell)| {
            Picture::batch(&cell.title, r.images.clone(), r.objective, &r.history)
        })
        .collect();
    if let (Some(render), Some(cell)) = (atlas.current(), cells.get(atlas.finished().len())) {
        let history = render.history();
        let objective = history.last().copied().unwrap_or(f64::NAN);
        pictures.extend(Picture::batch(
            &cell.title,
            render.images()?,
            objective,
            history,
        ));
    }
    Ok(pictures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use crate::explain::featureviz::Objective;
    use serde_json::json;

    fn start(
        net: &Network,
        id: &str,
        image: Option<&Tensor>,
        options: serde_json::Value,
    ) -> Result<Job> {
        let technique = catalogue::find(id)?;
        Job::start(
            net,
            technique,
            image,
            &technique.values_from_json(&options)?,
        )
    }

    /// Runs `job` in steps of `k`: the finished pictures and the number of pictures of every preview.
    fn in_steps(net: &Network, mut job: Job, k: usize) -> (Vec<Picture>, Vec<usize>) {
        let mut previews = Vec::new();
        loop {
            let step = job.step(net, k).unwrap();
            assert!(step.done <= step.total);
            if step.finished {
                assert_eq!(step.done, step.total);
                return (step.pictures, previews);
            }
            previews.push(step.pictures.len());
        }
    }

    #[test]
    fn visualize_in_steps_is_the_render_bit_for_bit() {
        let (net, _) = crate::testing::shipped(2);
        let options = json!({ "objective": "class:3, conv2:5", "steps": 12, "param": "pixel", "l2": 50, "seed": 4 });
        let (pictures, previews) =
            in_steps(&net, start(&net, "visualize", None, options).unwrap(), 5);
        assert_eq!(previews, [1, 1]);
        let mut expected = atlas::unit_options(4);
        expected.steps = 12;
        expected.param = crate::explain::featureviz::Parameterization::Pixels;
        expected.regularizers.norm = 50.0;
        let objective = Objective::class_logit(3) + Objective::channel("conv2", 5);
        let whole = Render::new(&net, &objective, expected)
            .unwrap()
            .run(&net)
            .unwrap();
        assert_eq!(pictures.len(), 1);
        assert_eq!(pictures[0].title, "class:3, conv2:5");
        assert_eq!(pictures[0].image, whole.images[0]);
        assert_eq!(
            (pictures[0].objective, &pictures[0].history),
            (whole.objective, &whole.history)
        );
        // --negative: the same climb on the negated objective, which ends far lower.
        let run = |negative: bool| {
            let options = json!({ "objective": "conv2:5", "negative": negative, "steps": 40 });
            in_steps(&net, start(&net, "visualize", None, options).unwrap(), 40)
                .0
                .remove(0)
        };
        let (high, low) = (run(false), run(true));
        let mean = |p: &Picture| {
            let trace = net.forward(&p.image).unwrap();
            let a = &trace.outputs()[net.layer_index("conv2").unwrap()];
            a.data()[5 * 100..6 * 100]
                .iter()
                .map(|&v| v as f64)
                .sum::<f64>()
                / 100.0
        };
        assert!(
            (mean(&high) - high.objective).abs() < 1e-5
                && (mean(&low) + low.objective).abs() < 1e-5
        );
        assert!(
            mean(&low) < 0.0 && mean(&high) > 1.0,
            "{} {}",
            mean(&low),
            mean(&high)
        );
    }

    #[test]
    fn an_atlas_fills_cell_by_cell_and_equals_render_cells() {
        let (net, _) = crate::testing::shipped(2);
        let options = json!({ "layer": "relu1", "steps": 6, "seed": 3 });
        let (pictures, previews) = in_steps(&net, start(&net, "atlas", None, options).unwrap(), 4);
        // Six cells of six steps in steps of at most four, never across a cell: 4 + 2 per cell.
        assert_eq!(previews, [1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
        let mut expected = atlas::unit_options(3);
        expected.steps = 6;
        let cells = atlas::cells(&net, "relu1").unwrap();
        let whole = atlas::render_cells(&net, &cells, &expected).unwrap();
        let titles: Vec<&str> = pictures.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            ["relu1:0", "relu1:1", "relu1:2", "relu1:3", "relu1:4", "relu1:5"]
        );
        for (p, r) in pictures.iter().zip(&whole) {
            assert_eq!((&p.image, p.objective), (&r.images[0], r.objective));
        }
        let classes = start(&net, "atlas", None, json!({ "steps": 1 })).unwrap();
        assert_eq!(classes.progress(), (0, 10));
    }

    #[test]
    fn dream_and_invert_in_steps_are_their_one_shot_runs() {
        let (net, image) = crate::testing::shipped(2);
        let (dreamed, _) = in_steps(
            &net,
            start(
                &net,
                "dream",
                Some(&image),
                json!({ "steps": 3, "octaves": 2 }),
            )
            .unwrap(),
            2,
        );
        let mut options = DreamOptions::new("relu2");
        (options.steps, options.octaves) = (3, 2);
        let whole = Dream::new(&net, &image, options)
            .unwrap()
            .run(&net)
            .unwrap();
        assert_eq!(dreamed[0].image, whole);
        assert_eq!(
            (dreamed[0].title.as_str(), dreamed[0].image.shape()),
            ("relu2", &[1, 39, 39][..])
        );
        let (inverted, _) = in_steps(
            &net,
            start(
                &net,
                "invert",
                Some(&image),
                json!({ "layer": "pool1", "steps": 7 }),
            )
            .unwrap(),
            3,
        );
        let mut options = inversion::default_options(1);
        options.steps = 7;
        let whole = inversion::invert(&net, &image, "pool1", options)
            .unwrap()
            .run(&net)
            .unwrap();
        assert_eq!(
            (&inverted[0].image, inverted[0].objective),
            (&whole.images[0], whole.objective)
        );
    }

    #[test]
    fn bad_calls_are_errors_that_say_what_to_do() {
        let (net, image) = crate::testing::shipped(2);
        for (id, image, options, needle) in [
            ("visualize", None, json!({}), "visualize needs an objective"),
            (
                "visualize",
                Some(&image),
                json!({ "objective": "class:1" }),
                "visualize starts from seeded noise",
            ),
            (
                "visualize",
                None,
                json!({ "objective": "class:10" }),
                "0 to 9",
            ),
            (
                "visualize",
                None,
                json!({ "objective": "conv9:1" }),
                "conv9",
            ),
            (
                "visualize",
                None,
                json!({ "objective": "class:1", "negative": 1 }),
                "true or false",
            ),
            (
                "visualize",
                None,
                json!({ "objective": "class:1", "batch": 65 }),
                "1 to 64",
            ),
            ("atlas", None, json!({ "layer": "pool9" }), "pool9"),
            ("dream", None, json!({}), "dream works on an input image"),
            ("dream", Some(&image), json!({ "layer": "fc1" }), "fc1"),
            ("invert", Some(&image), json!({}), "invert needs the layer"),
        ] {
            let e =
                start(&net, id, image, options).and_then(|mut job| job.step(&net, 1).map(|_| ()));
            let e = e.unwrap_err().to_string();
            assert!(e.contains(needle), "{id}: {e}");
        }
    }
}
