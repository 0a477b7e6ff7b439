//! Training: data, optimizers, the loop.
