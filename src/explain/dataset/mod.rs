//! The dataset views (issue 17): techniques that look at many inputs at once, each in its own file with its
//! catalogue entry — the maximally activating patches of a unit ([`patches`], Zeiler & Fergus fig. 2), the
//! nearest neighbours of an input in a layer's feature space and in pixel space ([`neighbours`]) and 2-D maps
//! of a layer's features ([`embedding`]: PCA, t-SNE, UMAP). The maths is in [`crate::analysis`]; these files
//! choose the layer, rank, and shape the results.
//!
//! A data set is an IDX image set (`pixel / 255`, the shape of the model's input) read in index order; every
//! ranking breaks ties by the lower index.

pub mod embedding;
pub mod job;
pub mod neighbours;
pub mod patches;

use crate::catalogue::options::{Kind, OptionSpec};
use crate::error::{Error, Result};
use crate::io::idx::IdxImages;
use crate::model::network::Network;

/// The feature space of the neighbours and the maps: a layer's output, or the pixels.
pub const FEATURES: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Features",
    help: "the layer whose outputs are compared (any layer by name), or pixels",
    kind: Kind::Layer { types: &[] },
    common: false,
    required: true,
};

/// How many images of the set to use, from the first (the CLI's shared `--count`).
pub use crate::catalogue::inputs::COUNT;

/// The number of images a technique reads: `given` (checked against the set's `available`), or all.
pub fn image_count(given: Option<u64>, available: usize) -> Result<usize> {
    match given {
        None => Ok(available),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|&n| (1..=available).contains(&n))
            .ok_or_else(|| {
                Error::out_of_range(
                    "count (images of the data set)",
                    n,
                    format!("1 to {available}"),
                )
            }),
    }
}

/// The images of a data set and, when known, their labels (one per image).
#[derive(Debug, Clone, PartialEq)]
pub struct DataSet {
    pub images: IdxImages,
    pub labels: Option<Vec<u8>>,
}

impl DataSet {
    /// Checks that the labels, if any, are one per image, and that the images have the model's input shape.
    pub fn new(net: &Network, images: IdxImages, labels: Option<Vec<u8>>) -> Result<DataSet> {
        let [c, h, w] = net.input_shape();
        if (c, h, w) != (1, images.height, images.width) {
            return Err(Error::shape(
                "the data set's images (one channel)",
                &[c, h, w],
                &[1, images.height, images.width],
            ));
        }
        if images.count < 2 {
            return Err(Error::out_of_range(
                "the number of images in the data set",
                images.count,
                "at least 2",
            ));
        }
        if let Some(labels) = &labels {
            if labels.len() != images.count {
                return Err(Error::shape(
                    "labels (one per image)",
                    &[images.count],
                    &[labels.len()],
                ));
            }
        }
        Ok(DataSet { images, labels })
    }

    pub fn len(&self) -> usize {
        self.images.count
    }

    pub fn is_empty(&self) -> bool {
        self.images.count == 0
    }
}
