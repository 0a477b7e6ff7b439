//! A labelled image set: IDX images with their labels, checked to agree.

use crate::error::{Error, Result};
use crate::io::idx::{self, IdxImages};
use crate::tensor::Tensor;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Dataset {
    pub images: IdxImages,
    pub labels: Vec<u8>,
}

impl Dataset {
    pub fn new(images: IdxImages, labels: Vec<u8>) -> Result<Dataset> {
        if images.count != labels.len() {
            return Err(Error::idx(format!(
                "{} images but {} labels",
                images.count,
                labels.len()
            )));
        }
        Ok(Dataset { images, labels })
    }

    pub fn read(images: &Path, labels: &Path) -> Result<Dataset> {
        Dataset::new(idx::read_images(images)?, idx::read_labels(labels)?)
    }

    /// The first `n` images and their labels; errors when the set has fewer.
    pub fn first(&self, n: usize) -> Result<Dataset> {
        let images = self.images.first(n)?;
        let labels = self.labels.get(..n).ok_or_else(|| {
            Error::out_of_range(
                "number of images",
                n,
                format!("0 to the {} labels", self.labels.len()),
            )
        })?;
        Dataset::new(images, labels.to_vec())
    }

    /// Errors on a label that is not one of `classes` classes.
    pub fn check_labels(&self, classes: usize) -> Result<()> {
        match self.labels.iter().find(|&&l| l as usize >= classes) {
            Some(&bad) => Err(Error::out_of_range(
                "label",
                bad,
                format!(
                    "0 to {} (the model has {classes} classes)",
                    classes.saturating_sub(1)
                ),
            )),
            None => Ok(()),
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as `[1, H, W]` in `[0, 1]` and its label.
    pub fn get(&self, i: usize) -> Result<(Tensor, usize)> {
        let label = *self.labels.get(i).ok_or_else(|| {
            Error::out_of_range(
                "sample",
                i,
                format!("0 to {}", self.len().saturating_sub(1)),
            )
        })?;
        Ok((self.images.image(i)?, label as usize))
    }

    /// Mean and standard deviation of all pixels in `[0, 1]` (for the manifest's normalization).
    pub fn pixel_stats(&self) -> (f32, f32) {
        let n = self.images.pixels.len().max(1) as f64;
        let mean = self
            .images
            .pixels
            .iter()
            .map(|&p| p as f64 / 255.0)
            .sum::<f64>()
            / n;
        let var = self
            .images
            .pixels
            .iter()
            .map(|&p| (p as f64 / 255.0 - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean as f32, var.sqrt().max(1e-6) as f32)
    }
}
