//! The dataset views step by step, for a Web Worker: a [`DatasetJob`] ranks patches a few images at a time,
//! or optimizes a map a few iterations at a time (the map's current points are its preview, so a t-SNE map
//! animates). A job owns what it works on (the images, shared; the feature matrix of a map), so it lives
//! beside its network and every step takes that network.

use super::embedding::{EmbeddingRun, Method};
use super::patches::{Patch, PatchSearch};
use crate::catalogue::options::Values;
use crate::error::{Error, Result};
use crate::io::idx::IdxImages;
use crate::model::network::Network;
use ndarray::ArrayView2;
use std::sync::Arc;

/// Iterations (or epochs) a map does per unit of budget: one unit is about one forward pass of work.
const MAP_ITERATIONS_PER_UNIT: usize = 1;

/// A dataset view being computed.
pub enum DatasetJob {
    Patches {
        images: Arc<IdxImages>,
        search: Box<PatchSearch>,
    },
    Map(Box<EmbeddingRun>),
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

/// What a job gives.
#[derive(Debug, Clone, PartialEq)]
pub enum DatasetOutput {
    /// Per unit, its top images, best first.
    Patches(Vec<Vec<Patch>>),
    Map(MapState),
}

/// What one step reports (units of work done of `total`; the result once done; a map's preview).
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetStep {
    pub done: usize,
    pub total: usize,
    pub preview: Option<DatasetOutput>,
    pub result: Option<DatasetOutput>,
}

impl DatasetJob {
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

    /// A map of `features` (`N × D`) by `method` with its checked options.
    pub fn map(method: Method, features: ArrayView2<f32>, values: &Values) -> Result<DatasetJob> {
        Ok(DatasetJob::Map(Box::new(EmbeddingRun::new(
            method, features, values,
        )?)))
    }

    /// Runs about `budget` units of work (images ranked, or map iterations).
    pub fn step(&mut self, net: &Network, budget: usize) -> Result<DatasetStep> {
        if budget == 0 {
            return Err(Error::out_of_range("work per step", 0, "at least 1"));
        }
        match self {
            DatasetJob::Patches { images, search } => {
                let (done, total) = search.step(net, images, budget)?;
                let result = (done == total).then(|| DatasetOutput::Patches(search.result()));
                Ok(DatasetStep {
                    done,
                    total,
                    preview: None,
                    result,
                })
            }
            DatasetJob::Map(run) => {
                let (done, total) = run.step(budget.saturating_mul(MAP_ITERATIONS_PER_UNIT));
                let state = DatasetOutput::Map(map_state(run));
                let finished = done == total;
                Ok(DatasetStep {
                    done,
                    total,
                    preview: (!finished).then(|| state.clone()),
                    result: finished.then_some(state),
                })
            }
        }
    }

    /// The running map (to place a new point on it), if this job is one.
    pub fn embedding(&self) -> Option<&EmbeddingRun> {
        match self {
            DatasetJob::Map(run) => Some(run),
            DatasetJob::Patches { .. } => None,
        }
    }

    /// The patch search (for crops and projections), if this job is one.
    pub fn search(&self) -> Option<&PatchSearch> {
        match self {
            DatasetJob::Patches { search, .. } => Some(search),
            DatasetJob::Map(_) => None,
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
    use crate::model::network::testing::{idx_images, mnist_lenet};
    use crate::rng::Rng;

    #[test]
    fn a_patch_job_in_steps_equals_the_search_in_one_go() {
        let net = mnist_lenet(1);
        let images = Arc::new(idx_images(&mut Rng::new(2), 30));
        let mut job = DatasetJob::patches(&net, images.clone(), "pool1", 4, 25).unwrap();
        let mut search = PatchSearch::new(&net, "pool1", 4, 25).unwrap();
        search.step(&net, &images, 25).unwrap();
        let first = job.step(&net, 10).unwrap();
        assert_eq!((first.done, first.total, first.result), (10, 25, None));
        job.step(&net, 10).unwrap();
        let last = job.step(&net, 10).unwrap();
        assert_eq!((last.done, last.total), (25, 25));
        assert_eq!(last.result, Some(DatasetOutput::Patches(search.result())));
        assert!(job.step(&net, 0).is_err());
        assert!(DatasetJob::patches(&net, images, "pool1", 4, 31).is_err());
    }

    #[test]
    fn a_map_job_previews_every_step_and_ends_as_the_plain_run() {
        let net = mnist_lenet(3);
        let images = idx_images(&mut Rng::new(4), 60);
        let x = layer_features(&net, &images, "fc1", 60).unwrap();
        let values = super::super::embedding::TSNE
            .values_from_json(&serde_json::json!({ "perplexity": 5, "iterations": 260 }))
            .unwrap();
        let mut job = DatasetJob::map(Method::Tsne, x.view(), &values).unwrap();
        let step = job.step(&net, 100).unwrap();
        assert_eq!((step.done, step.total), (100, 260));
        assert!(matches!(step.preview, Some(DatasetOutput::Map(ref m)) if m.points.len() == 120));
        let last = loop {
            let step = job.step(&net, 100).unwrap();
            if let Some(result) = step.result {
                break result;
            }
        };
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
        let DatasetOutput::Map(map) = last else {
            panic!("a map job gives a map")
        };
        assert_eq!(
            map.points,
            plain.embedding().iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(map.kl_divergence, plain.kl_divergence());
        assert!(job.embedding().is_some() && job.search().is_none());
    }
}
