//! Texture synthesis and style transfer step by step, for [`crate::explain::job::Job`]: one [`Synthesis`]
//! through the network its `net` option names — the loaded model the job is stepped with, or the built-in
//! random network, which the job owns. Every step reports the image as it stands and the loss history;
//! after the last, the finished image with its losses: what [`Synthesis::run`] gives, bit for bit.

use super::catalogue::{net_from, options_from, Net, STYLE, TEXTURE};
use super::random_net::RandomNet;
use super::synthesis::{Backbone, Losses, Synthesis, Synthesized};
use crate::catalogue::options::Values;
use crate::catalogue::Technique;
use crate::error::{Error, Result};
use crate::model::network::Network;
use crate::tensor::Tensor;

/// A texture synthesis or style transfer in progress.
#[derive(Debug, Clone)]
pub struct Job {
    /// The random network (`net: "random"`); `None`: through the model the job is stepped with.
    random: Option<RandomNet>,
    synthesis: Synthesis,
}

/// What one [`Job::step`] reports: steps done of all, the image as it stands with the total loss at every
/// step so far, and, after the last step, the losses of the finished image.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub done: usize,
    pub total: usize,
    pub image: Tensor,
    pub history: Vec<f64>,
    /// `Some` once finished.
    pub losses: Option<Losses>,
}

impl Job {
    /// Starts `technique` (`texture` or `style-transfer`) with its checked options: a texture from seeded
    /// noise with the Gram matrices of `style` (no `content`), a transfer of `content` (`[C, H, W]` raw
    /// pixels, C = 1 through the model, 3 through the random network) into `style`'s.
    pub fn start(
        net: &Network,
        technique: &Technique,
        content: Option<&Tensor>,
        style: &Tensor,
        values: &Values,
    ) -> Result<Job> {
        let options = options_from(values, technique)?;
        let random = match net_from(values) {
            Net::Random => Some(RandomNet::default()),
            Net::Model => None,
        };
        let backbone = backbone(random.as_ref(), net);
        let wrong = |what: &str| Error::option("image", format!("{} {what}", technique.id));
        let synthesis = match (technique.id, content) {
            (id, None) if id == TEXTURE.id => Synthesis::texture(backbone, style, options)?,
            (id, Some(_)) if id == TEXTURE.id => {
                return Err(wrong(
                    "starts from seeded noise: give no image, only the style",
                ))
            }
            (id, Some(content)) if id == STYLE.id => {
                Synthesis::transfer(backbone, content, style, options)?
            }
            (id, None) if id == STYLE.id => {
                return Err(wrong("works on a content image: give one"))
            }
            _ => {
                return Err(Error::internal(format!(
                    "{} is not a texture synthesis",
                    technique.id
                )))
            }
        };
        Ok(Job { random, synthesis })
    }

    /// Steps done, of all.
    pub fn progress(&self) -> (usize, usize) {
        self.synthesis.progress()
    }

    /// Runs up to `budget` more steps (through `net`, the network the job was started with, when it runs
    /// through the model).
    pub fn step(&mut self, net: &Network, budget: usize) -> Result<Step> {
        let backbone = backbone(self.random.as_ref(), net);
        let progress = self.synthesis.step(backbone, budget)?;
        let (done, total) = self.progress();
        if progress.done() {
            let Synthesized {
                image,
                losses,
                history,
            } = self.synthesis.finish(backbone)?;
            return Ok(Step {
                done,
                total,
                image,
                history,
                losses: Some(losses),
            });
        }
        Ok(Step {
            done,
            total,
            image: progress.image,
            history: self.synthesis.history().to_vec(),
            losses: None,
        })
    }
}

/// The random network when there is one, else the model.
fn backbone<'n>(random: Option<&'n RandomNet>, net: &'n Network) -> Backbone<'n> {
    random.map_or(Backbone::Model(net), Backbone::Random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use serde_json::json;

    fn values(technique: &Technique, options: serde_json::Value) -> Values {
        technique.values_from_json(&options).unwrap()
    }

    fn colour(h: usize, w: usize) -> Tensor {
        let data = (0..3 * h * w)
            .map(|i| ((i * 37 % 101) as f32 / 100.0).clamp(0.0, 1.0))
            .collect();
        Tensor::from_vec(&[3, h, w], data).unwrap()
    }

    /// A random-network texture in steps of 2 previews every step and ends at the one-shot run.
    #[test]
    fn a_texture_job_steps_to_the_synthesis_run() {
        let (net, _) = crate::testing::shipped(0);
        let technique = catalogue::find("texture").unwrap();
        let v = values(technique, json!({ "steps": 5, "size": [8, 6], "seed": 2 }));
        let options = options_from(&v, technique).unwrap();
        let style = colour(10, 10);
        let random = RandomNet::default();
        let expected = Synthesis::texture(Backbone::Random(&random), &style, options)
            .unwrap()
            .run(Backbone::Random(&random))
            .unwrap();
        let mut job = Job::start(&net, technique, None, &style, &v).unwrap();
        let mut reports = Vec::new();
        let last = loop {
            let step = job.step(&net, 2).unwrap();
            reports.push((step.done, step.history.len(), step.losses.is_some()));
            if step.losses.is_some() {
                break step;
            }
            assert_eq!(step.image.shape(), [3, 8, 6]);
        };
        assert_eq!(reports, [(2, 2, false), (4, 4, false), (5, 5, true)]);
        assert_eq!(last.image, expected.image);
        assert_eq!(last.history, expected.history);
        assert_eq!(last.losses, Some(expected.losses));
    }

    /// A transfer through the model runs on the network it is stepped with; wrong inputs are errors.
    #[test]
    fn a_transfer_job_runs_through_the_model_and_checks_its_images() {
        let (net, digit) = crate::testing::shipped(3);
        let (_, style) = crate::testing::shipped(0);
        let technique = catalogue::find("style-transfer").unwrap();
        let v = values(technique, json!({ "net": "model", "steps": 3 }));
        let options = options_from(&v, technique).unwrap();
        let expected = Synthesis::transfer(Backbone::Model(&net), &digit, &style, options)
            .unwrap()
            .run(Backbone::Model(&net))
            .unwrap();
        let mut job = Job::start(&net, technique, Some(&digit), &style, &v).unwrap();
        let step = job.step(&net, 10).unwrap();
        assert_eq!((step.done, step.total), (3, 3));
        assert_eq!(step.image, expected.image);
        assert_eq!(step.losses, Some(expected.losses));
        assert!(expected.losses.content.is_some());
        let e = Job::start(&net, technique, None, &style, &v).unwrap_err();
        assert!(e.to_string().contains("works on a content image"), "{e}");
        let texture = catalogue::find("texture").unwrap();
        let e = Job::start(&net, texture, Some(&digit), &style, &Values::default()).unwrap_err();
        assert!(e.to_string().contains("give no image"), "{e}");
        // A grayscale digit through the RGB network.
        let e = Job::start(&net, texture, None, &style, &Values::default()).unwrap_err();
        assert!(e.to_string().contains("image"), "{e}");
    }
}
