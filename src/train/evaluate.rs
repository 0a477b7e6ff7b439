//! Accuracy and confusion matrix of a network on a labelled set.

use crate::error::Result;
use crate::model::network::Network;
use crate::train::dataset::Dataset;
use crate::train::trainer::run_shards;

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub correct: usize,
    pub total: usize,
    /// `confusion[true_label][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

impl Evaluation {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total.max(1) as f64
    }
}

/// Runs every image of `data` through `net`.
pub fn evaluate(net: &Network, data: &Dataset) -> Result<Evaluation> {
    let classes = net.labels().len();
    data.check_labels(classes)?;
    const SHARDS: usize = 8;
    let chunk = data.len().div_ceil(SHARDS).max(1);
    let parts = run_shards(SHARDS, |s| -> Result<Vec<Vec<usize>>> {
        let mut confusion = vec![vec![0usize; classes]; classes];
        for i in (s * chunk)..((s + 1) * chunk).min(data.len()) {
            let (image, label) = data.get(i)?;
            let predicted = net.predict(&image)?.label;
            confusion[label][predicted] += 1;
        }
        Ok(confusion)
    });
    let mut confusion = vec![vec![0usize; classes]; classes];
    for part in parts {
        for (row, part_row) in confusion.iter_mut().zip(part?) {
            for (a, b) in row.iter_mut().zip(part_row) {
                *a += b;
            }
        }
    }
    let correct = (0..classes).map(|k| confusion[k][k]).sum();
    Ok(Evaluation {
        correct,
        total: data.len(),
        confusion,
    })
}
