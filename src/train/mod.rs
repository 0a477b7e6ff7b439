//! Training: a labelled data set, augmentation, dropout, optimizers, the mini-batch loop and evaluation.
//!
//! Loss: mean cross-entropy over a batch, `−(1/B) Σ log_softmax(f(x))[label]`, whose gradient at the
//! log-softmax output is `−onehot(label)/B`; [`crate::model::network::Network::backward`] takes it from there.
//! Everything is seeded: the same data, configuration and seed give bit-identical weights on every machine
//! (gradients are summed over a fixed number of shards in a fixed order, whatever the number of threads).

pub mod augment;
pub mod dataset;
pub mod dropout;
pub mod evaluate;
pub mod optim;
pub mod trainer;

pub use dataset::Dataset;
pub use evaluate::{evaluate, Evaluation};
pub use optim::{Optimizer, OptimizerKind};
pub use trainer::{train, EpochReport, TrainConfig};
