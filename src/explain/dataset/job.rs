//! The dataset views step by step, for [`crate::explain::job::Job`]: a [`DatasetJob`] ranks patches a few
//! images at a time, or optimizes a map a few iterations at a time (the map's current points are its
//! preview, so a t-SNE map animates). A job owns what it works on (the images, shared; the feature matrix of
//! a map), so it lives beside its network and every step takes that network.

use super::embedding::{EmbeddingRun, Method};
use super::patches::{self, PatchSearch};
use super::{image_count, COUNT, FEATURES};
use crate::catalogue::options::Values;
use crate::catalogue::{OutputKind, Technique};
use crate::error::{Error, Result};
use crate::explain::job::{Output, Step};
use crate::io::idx::IdxImages;
use crate::model::network::Network;
use ndarray::Array2;
use std::sync::Arc;

/// Iterations (or epochs) a map does per unit of budget: one unit is about one forward pass of work.
const MAP_ITERATIONS_PER_UNIT: usize = 1;

/// A dataset view being computed.
#[derive(Debug, Clone)]
pub enum DatasetJob {
    Patches {
        images: Arc<IdxImages>,
        search: Box<PatchSearch>,
    },
    /// A map of the features of `layer` (a layer name or `pixels`).
    Map {
        run: Box<EmbeddingRun>,
        layer: String,
    },
}

/// A map as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct MapState {
    pub method: Method,
    /// `N × 2`, row-major, in data-set order.
    pub points: Vec<f32>,
    pub kl_divergence: Option<f64>,
    /// PCA: the variance of each of the first components and its share.
    pub explained_variance: Option<(Vec<f64>, Vec<f64>)>,
}

impl DatasetJob {
    /// Starts `technique` (`patches`, `pca`, `tsne` or `umap`) with its checked options over `images`;
    /// `features(layer)` gives a map the features of the options' layer over every image (rows in data-set
    /// order), read beforehand by the caller, who keeps them for the next map.
    pub fn start(
        net: &Network,
        technique: &Technique,
        images: Arc<IdxImages>,
        features: impl FnOnce(&str) -> Result<Arc<Array2<f32>>>,
        values: &Values,
    ) -> Result<DatasetJob> {
        let count = image_count(values.int(&COUNT), images.count)?;
        if technique.id == patches::TECHNIQUE.id {
            let layer = values
                .text(&patches::LAYER)
                .ok_or_else(|| Error::option("layer", "patches needs a layer"))?;
            let top = values.usize_or_default(&patches::TOP);
            return DatasetJob::patches(net, images, layer, top, count);
        }
        let method: Method = technique.id.parse().map_err(|_| {
            Error::option(
                "technique",
                format!(
                    "{} does not run step by step (call it directly)",
                    technique.id
                ),
            )
        })?;
        let layer = values.text(&FEATURES).ok_or_else(|| {
            Error::option(
                "layer",
                "give the layer whose features to use (or \"pixels\")",
            )
        })?;
        let matrix = features(layer)?;
        let rows = matrix.slice(ndarray::s![..count, ..]);
        Ok(DatasetJob::Map {
            run: Box::new(EmbeddingRun::new(method, rows, values)?),
            layer: layer.to_string(),
        })
    }

    /// A patch search over the first `count` of `images`.
    pub fn patches(
        net: &Network,
        images: Arc<IdxImages>,
        layer: &str,
        top: usize,
        count: usize,
    ) -> Result<DatasetJob> {
        if count == 0 || count > images.count {
            return Err(Error::out_of_range(
                "count (images of the data set)",
                count,
                format!("1 to {}", images.count),
            ));
        }
        let search = Box::new(PatchSearch::new(net, layer, top, count)?);
        Ok(DatasetJob::Patches { images, search })
    }

    /// The kind of output: ranked images, or a map.
    pub fn kind(&self) -> OutputKind {
        match self {
            DatasetJob::Patches { .. } => OutputKind::Gallery,
            DatasetJob::Map { .. } => OutputKind::Scatter,
        }
    }

    /// `(units done, units in all)`: images ranked, or map iterations.
    pub fn progress(&self) -> (usize, usize) {
        match self {
            DatasetJob::Patches { search, .. } => search.progress(),
            DatasetJob::Map { run, .. } => run.progress(),
        }
    }

    /// Runs about `budget` units of work (images ranked, or map iterations): a map's preview is its points
    /// as they stand.
    pub fn step(&mut self, net: &Network, budget: usize) -> Result<Step> {
        match self {
            DatasetJob::Patches { images, search } => {
                let (done, total) = search.step(net, images, budget)?;
                let result = (done == total).then(|| Output::Patches(search.result()));
                Ok(Step {
                    done,
                    total,
                    preview: None,
                    result,
                })
            }
            DatasetJob::Map { run, .. } => {
                let (done, total) = run.step(budget.saturating_mul(MAP_ITERATIONS_PER_UNIT));
                let state = Output::Map(map_state(run));
                let finished = done == total;
                Ok(Step {
                    done,
                    total,
                    preview: (!finished).then(|| state.clone()),
                    result: finished.then_some(state),
                })
            }
        }
    }

    /// The running map and the layer it maps (to place a new point on it), if this job is one.
    pub fn embedding(&self) -> Option<(&EmbeddingRun, &str)> {
        match self {
            DatasetJob::Map { run, layer } => Some((run, layer)),
            DatasetJob::Patches { .. } => None,
        }
    }

    /// The patch search (for crops and projections) and its images, if this job is one.
    pub fn search(&self) -> Option<(&PatchSearch, &IdxImages)> {
        match self {
            DatasetJob::Patches { search, images } => Some((search, images)),
            DatasetJob::Map { .. } => None,
        }
    }
}

fn map_state(run: &EmbeddingRun) -> MapState {
    MapState {
        method: run.method,
        points: run.points().iter().copied().collect(),
        kl_divergence: run.kl_divergence(),
        explained_variance: run.explained_variance(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::features::layer_features;
    use crate::analysis::tsne::{Tsne, TsneOptions};
    use crate::catalogue;
    use crate::explain::job::Job;
    use crate::model::network::testing::{idx_images, mnist_lenet};
    use crate::rng::Rng;

    fn values(id: &str, json: serde_json::Value) -> (&'static Technique, Values) {
        let technique = catalogue::find(id).unwrap();
        (technique, technique.values_from_json(&json).unwrap())
    }

    fn unread(layer: &str) -> Result<Arc<Array2<f32>>> {
        Err(Error::option("layer", format!("{layer} was not read")))
    }

    #[test]
    fn a_patch_job_in_steps_equals_the_search_in_one_go() {
        let net = mnist_lenet(1);
        let images = Arc::new(idx_images(&mut Rng::new(2), 30));
        let (t, v) = values(
            "patches",
            serde_json::json!({ "layer": "pool1", "top": 4, "count": 25 }),
        );
        let job = DatasetJob::start(&net, t, images.clone(), unread, &v).unwrap();
        let mut job = Job::Dataset(Box::new(job));
        assert_eq!((job.kind(), job.progress()), (OutputKind::Gallery, (0, 25)));
        let mut search = PatchSearch::new(&net, "pool1", 4, 25).unwrap();
        search.step(&net, &images, 25).unwrap();
        let first = job.step(&net, 10).unwrap();
        assert_eq!((first.done, first.total, first.result), (10, 25, None));
        job.step(&net, 10).unwrap();
        let last = job.step(&net, 10).unwrap();
        assert_eq!((last.done, last.total), (25, 25));
        assert_eq!(last.result, Some(Output::Patches(search.result())));
        assert!(job.step(&net, 0).is_err());
        let (t, v) = values(
            "patches",
            serde_json::json!({ "layer": "pool1", "count": 31 }),
        );
        let e = DatasetJob::start(&net, t, images, unread, &v).unwrap_err();
        assert!(e.to_string().contains("1 to 30"), "{e}");
    }

    #[test]
    fn a_map_job_previews_every_step_and_ends_as_the_plain_run() {
        let net = mnist_lenet(3);
        let images = Arc::new(idx_images(&mut Rng::new(4), 60));
        let x = Arc::new(layer_features(&net, &images, "fc1", 60).unwrap());
        let (t, v) = values(
            "tsne",
            serde_json::json!({ "layer": "fc1", "perplexity": 5, "iterations": 260 }),
        );
        let features = |layer: &str| {
            assert_eq!(layer, "fc1");
            Ok(x.clone())
        };
        let mut job = Job::Dataset(Box::new(
            DatasetJob::start(&net, t, images.clone(), features, &v).unwrap(),
        ));
        assert_eq!(job.kind(), OutputKind::Scatter);
        let step = job.step(&net, 100).unwrap();
        assert_eq!((step.done, step.total), (100, 260));
        assert!(matches!(step.preview, Some(Output::Map(ref m)) if m.points.len() == 120));
        let last = job.run(&net).unwrap();
        let mut plain = Tsne::new(
            x.view(),
            &TsneOptions {
                perplexity: 5.0,
                iterations: 260,
                ..TsneOptions::default()
            },
        )
        .unwrap();
        plain.run();
        let Output::Map(map) = last else {
            panic!("a map job gives a map")
        };
        assert_eq!(
            map.points,
            plain.embedding().iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(map.kl_divergence, plain.kl_divergence());
        let (t, v) = values("pca", serde_json::json!({ "layer": "fc2" }));
        let e = DatasetJob::start(&net, t, images.clone(), unread, &v).unwrap_err();
        assert!(e.to_string().contains("fc2 was not read"), "{e}");
        let (t, v) = values("neighbours", serde_json::json!({ "layer": "fc2" }));
        let e = DatasetJob::start(&net, t, images, unread, &v).unwrap_err();
        assert!(
            e.to_string()
                .contains("neighbours does not run step by step"),
            "{e}"
        );
    }
}
