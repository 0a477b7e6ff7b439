//! Long-running techniques in steps: a [`Job`] runs any technique the catalogue marks `long_running` (and
//! the short attribution methods, done in one step) a budget of work at a time and reports
//! [`Step`]`{ done, total, preview, result }`, so that a Web Worker can post progress (and a live preview,
//! when the technique has one) and stop at once between steps, without `SharedArrayBuffer`.
//!
//! The set of jobs is closed: one variant per family, each driven by its own module's step-wise type (an
//! attribution [`attribution::Job`], a feature visualization [`featureviz::job::Job`], a dataset view
//! [`DatasetJob`], ...). A job owns its input and options, not the network:
//! every [`Job::step`] takes the network the job was started with. The one-shot calls of each technique
//! are their job run to the end, so both paths give the same bits.
//!
//! What "one unit of work" is depends on the technique (a forward/backward pass of an attribution method,
//! an optimizer step, ...); [`Step::done`] and [`Step::total`] count those units.

use crate::catalogue::options::Values;
use crate::catalogue::{Family, OutputKind, Technique};
use crate::error::{Error, Result};
use crate::explain::attribution::{self, Attribution, Method, Options};
use crate::explain::dataset::job::{DatasetJob, MapState};
use crate::explain::dataset::patches::Patch;
use crate::explain::featureviz::{self, Picture};
use crate::explain::texture::{self, Losses};
use crate::model::network::Network;
use crate::tensor::Tensor;

/// A technique being computed step by step.
#[derive(Debug, Clone)]
pub enum Job {
    Attribution(attribution::Job),
    FeatureViz(featureviz::job::Job),
    Texture(texture::job::Job),
    /// A patch search or a map over a data set (started by [`DatasetJob::start`]).
    Dataset(Box<DatasetJob>),
}

/// What a job produces: its result, or a preview of it while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Attribution(Attribution),
    /// Titled images in the input's pixel range (feature visualization).
    Pictures(Vec<Picture>),
    /// A synthesized image `[C, H, W]` in `[0, 1]` (texture synthesis, style transfer), the total loss at
    /// every step so far and, in a result, its losses.
    Synthesis {
        image: Tensor,
        history: Vec<f64>,
        losses: Option<Losses>,
    },
    /// Per unit of a layer, its top images of a data set, best first.
    Patches(Vec<Vec<Patch>>),
    /// A 2-D map of a data set.
    Map(MapState),
}

/// What one [`Job::step`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Units of work done, of `total`.
    pub done: usize,
    pub total: usize,
    /// The technique's current state, for a live view, when it has one (`None` for attribution).
    pub preview: Option<Output>,
    /// The result, once the last unit is done.
    pub result: Option<Output>,
}

impl Step {
    /// `output` as the preview while the job runs, as the result once it is `finished`.
    fn of(done: usize, total: usize, output: Output, finished: bool) -> Step {
        let (preview, result) = if finished {
            (None, Some(output))
        } else {
            (Some(output), None)
        };
        Step {
            done,
            total,
            preview,
            result,
        }
    }
}

impl Job {
    /// Starts `technique` on `net` with options `values` (checked against its catalogue entry), on `image`
    /// (raw pixels `[C, H, W]`) for the techniques that take one. Errors for a technique that does not run
    /// step by step, for a missing or unexpected image, and for a dataset view (those start from their data
    /// set: [`DatasetJob::start`]).
    pub fn start(
        net: &Network,
        technique: &'static Technique,
        image: Option<&Tensor>,
        values: &Values,
    ) -> Result<Job> {
        match technique.family {
            Family::Attribution => {
                let method: Method = technique.id.parse()?;
                let image = image.ok_or_else(|| Error::option("image", needs_image(technique)))?;
                let options = Options::from_values(values);
                Ok(Job::Attribution(attribution::Job::start(
                    net, image, method, &options,
                )?))
            }
            Family::FeatureVisualization => Ok(Job::FeatureViz(featureviz::job::Job::start(
                net, technique, image, values,
            )?)),
            Family::Texture if technique.long_running => Err(Error::option(
                "style",
                format!("{} needs a style image: start it with one", technique.id),
            )),
            Family::Dataset => Err(Error::option(
                "technique",
                format!(
                    "{} works on a data set: start it from one (dataset.start)",
                    technique.id
                ),
            )),
            _ => Err(Error::option(
                "technique",
                format!(
                    "{} does not run step by step (call it directly)",
                    technique.id
                ),
            )),
        }
    }

    /// Starts `technique` (texture synthesis or style transfer) like [`Job::start`], with the style image
    /// `style` (`[C, H, W]`, any size) besides `image` (a transfer's content; none for a texture).
    pub fn start_styled(
        net: &Network,
        technique: &'static Technique,
        image: Option<&Tensor>,
        style: &Tensor,
        values: &Values,
    ) -> Result<Job> {
        if technique.family != Family::Texture || !technique.long_running {
            return Err(Error::option(
                "style",
                format!("{} takes no style image", technique.id),
            ));
        }
        Ok(Job::Texture(texture::job::Job::start(
            net, technique, image, style, values,
        )?))
    }

    /// The kind of output the job gives (its preview's and its result's).
    pub fn kind(&self) -> OutputKind {
        match self {
            Job::Attribution(job) if job.signed() => OutputKind::SignedMap,
            Job::Attribution(_) => OutputKind::UnsignedMap,
            Job::FeatureViz(_) => OutputKind::Images,
            Job::Texture(_) => OutputKind::Volume,
            Job::Dataset(job) => job.kind(),
        }
    }

    /// `(units done, units in all)`.
    pub fn progress(&self) -> (usize, usize) {
        match self {
            Job::Attribution(job) => job.progress(),
            Job::FeatureViz(job) => job.progress(),
            Job::Texture(job) => job.progress(),
            Job::Dataset(job) => job.progress(),
        }
    }

    /// Runs about `budget` more units of work on `net`, the network the job was started with, and reports
    /// the progress, the preview and, once complete, the result.
    pub fn step(&mut self, net: &Network, budget: usize) -> Result<Step> {
        if budget == 0 {
            return Err(Error::out_of_range("work per step", 0, "at least 1"));
        }
        match self {
            Job::Attribution(job) => {
                let step = job.step(net, budget)?;
                Ok(Step {
                    done: step.done,
                    total: step.total,
                    preview: None,
                    result: step.result.map(Output::Attribution),
                })
            }
            Job::FeatureViz(job) => {
                let step = job.step(net, budget)?;
                let output = Output::Pictures(step.pictures);
                Ok(Step::of(step.done, step.total, output, step.finished))
            }
            Job::Texture(job) => {
                let step = job.step(net, budget)?;
                let finished = step.losses.is_some();
                let output = Output::Synthesis {
                    image: step.image,
                    history: step.history,
                    losses: step.losses,
                };
                Ok(Step::of(step.done, step.total, output, finished))
            }
            Job::Dataset(job) => job.step(net, budget),
        }
    }

    /// Runs the remaining work: the result.
    pub fn run(mut self, net: &Network) -> Result<Output> {
        loop {
            if let Some(result) = self.step(net, usize::MAX)?.result {
                return Ok(result);
            }
        }
    }
}

/// The message for a technique started without the image it works on.
fn needs_image(technique: &Technique) -> String {
    format!("{} works on an input image: give one", technique.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    /// The generic job gives the attribution job's steps and result, bit for bit.
    #[test]
    fn an_attribution_job_steps_like_the_attribution_module() {
        let (net, image) = crate::testing::shipped(5);
        let technique = catalogue::find("smoothgrad").unwrap();
        let values = technique
            .values_from_json(&serde_json::json!({ "samples": 12, "target": 3 }))
            .unwrap();
        let options = Options::from_values(&values);
        let whole = attribution::attribute(&net, &image, Method::SmoothGrad, &options).unwrap();
        let mut job = Job::start(&net, technique, Some(&image), &values).unwrap();
        let mut inner =
            attribution::Job::start(&net, &image, Method::SmoothGrad, &options).unwrap();
        assert_eq!(job.progress(), (0, 12));
        let result = loop {
            let step = job.step(&net, 5).unwrap();
            let expected = inner.step(&net, 5).unwrap();
            assert_eq!((step.done, step.total), (expected.done, expected.total));
            assert_eq!(step.preview, None);
            if let Some(result) = step.result {
                break result;
            }
        };
        assert_eq!(result, Output::Attribution(whole));
        assert_eq!(job.kind(), OutputKind::SignedMap);
        assert!(job.step(&net, 0).is_err());
    }

    #[test]
    fn jobs_refuse_what_they_cannot_run() {
        let (net, image) = crate::testing::shipped(5);
        let none = Values::default();
        let e = Job::start(&net, catalogue::find("occlusion").unwrap(), None, &none)
            .unwrap_err()
            .to_string();
        assert!(e.contains("occlusion works on an input image"), "{e}");
        let e = Job::start(
            &net,
            catalogue::find("deconv").unwrap(),
            Some(&image),
            &none,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("deconv does not run step by step"), "{e}");
        let e = Job::start(&net, catalogue::find("tsne").unwrap(), None, &none)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tsne works on a data set"), "{e}");
    }
}
