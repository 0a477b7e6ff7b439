//! The bridge from a network to the matrices of this module: one row per input image, one column per unit of
//! a layer's output (read flat, row-major: `[16, 5, 5]` becomes 400 columns), or per pixel.

use crate::error::{Error, Result};
use crate::io::idx::IdxImages;
use crate::model::network::Network;
use ndarray::Array2;

/// The name that selects the input pixels (`pixel / 255`, before the network's normalization) instead of a
/// layer's output.
pub const PIXELS: &str = "pixels";

/// The outputs of the layer named `layer` (or [`PIXELS`]) for the first `count` of `images`:
/// `count × units`.
pub fn layer_features(
    net: &Network,
    images: &IdxImages,
    layer: &str,
    count: usize,
) -> Result<Array2<f32>> {
    if count == 0 || count > images.count {
        return Err(Error::out_of_range(
            "the number of images",
            count,
            format!("1 to {}", images.count),
        ));
    }
    let index = if layer == PIXELS {
        None
    } else {
        Some(net.layer_index(layer)?)
    };
    let mut rows: Vec<f32> = Vec::new();
    let mut width = 0;
    for i in 0..count {
        let image = images.image(i)?;
        let values = match index {
            None => image.data().to_vec(),
            Some(index) => {
                let trace = net.forward(&image)?;
                trace.output(index)?.data().to_vec()
            }
        };
        width = values.len();
        rows.extend(values);
    }
    Array2::from_shape_vec((count, width), rows)
        .map_err(|e| Error::internal(format!("features as a matrix: {e}")))
}
