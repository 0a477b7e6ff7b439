//! The bridge from a network to the matrices of this module: one row per input image, one column per unit of
//! a layer's output (read flat, row-major: `[16, 5, 5]` becomes 400 columns), or per pixel.
//!
//! [`FeaturePass`] reads several layers in one forward pass per image and goes a few images at a time, so a
//! Web Worker can report progress and stop between steps; [`layer_features`] is one such pass run to the end.

use crate::error::{Error, Result};
use crate::io::idx::IdxImages;
use crate::model::network::Network;
use ndarray::Array2;

/// The name that selects the input pixels (`pixel / 255`, before the network's normalization) instead of a
/// layer's output.
pub const PIXELS: &str = "pixels";

/// A pass over the first `count` images of a set that keeps the outputs of some layers (or the pixels).
#[derive(Debug, Clone)]
pub struct FeaturePass {
    /// Per source: the layer index (`None` = the pixels) and its width.
    sources: Vec<(Option<usize>, usize)>,
    /// Per source: `done × width` values so far, row-major.
    rows: Vec<Vec<f32>>,
    done: usize,
    count: usize,
}

/// The layer index `name` selects (`None` for [`PIXELS`]) and the number of values it gives per image.
pub fn source(net: &Network, name: &str) -> Result<(Option<usize>, usize)> {
    if name == PIXELS {
        return Ok((None, net.input_shape().iter().product()));
    }
    let index = net.layer_index(name)?;
    let width = net.layers()[index].output_shape.iter().product();
    Ok((Some(index), width))
}

impl FeaturePass {
    /// A pass over the first `count` of `images` (`1 ≤ count ≤ images.count`) keeping `layers` (names, or
    /// [`PIXELS`]).
    pub fn new(net: &Network, images: &IdxImages, layers: &[&str], count: usize) -> Result<Self> {
        if count == 0 || count > images.count {
            return Err(Error::out_of_range(
                "the number of images",
                count,
                format!("1 to {}", images.count),
            ));
        }
        let sources = layers
            .iter()
            .map(|name| source(net, name))
            .collect::<Result<Vec<_>>>()?;
        let rows = sources
            .iter()
            .map(|&(_, width)| Vec::with_capacity(width.saturating_mul(count)))
            .collect();
        Ok(FeaturePass {
            sources,
            rows,
            done: 0,
            count,
        })
    }

    /// Reads up to `n` more images; returns `(images done, images in all)`.
    pub fn step(&mut self, net: &Network, images: &IdxImages, n: usize) -> Result<(usize, usize)> {
        let end = self.done.saturating_add(n).min(self.count);
        let needs_forward = self.sources.iter().any(|s| s.0.is_some());
        for i in self.done..end {
            let image = images.image(i)?;
            let trace = if needs_forward {
                Some(net.forward(&image)?)
            } else {
                None
            };
            for (&(layer, width), rows) in self.sources.iter().zip(&mut self.rows) {
                let values = match (layer, &trace) {
                    (Some(index), Some(trace)) => trace.output(index)?.data(),
                    _ => image.data(),
                };
                if values.len() != width {
                    return Err(Error::shape("a feature row", &[width], &[values.len()]));
                }
                rows.extend_from_slice(values);
            }
        }
        self.done = end;
        Ok((self.done, self.count))
    }

    pub fn is_done(&self) -> bool {
        self.done == self.count
    }

    /// The matrices, one per source in the order given (`count × width`); an error before the pass is done.
    pub fn finish(self) -> Result<Vec<Array2<f32>>> {
        if !self.is_done() {
            return Err(Error::option(
                "features",
                format!(
                    "the pass has read {} of {} images: step it to the end first",
                    self.done, self.count
                ),
            ));
        }
        let count = self.count;
        self.sources
            .iter()
            .zip(self.rows)
            .map(|(&(_, width), rows)| {
                Array2::from_shape_vec((count, width), rows)
                    .map_err(|e| Error::internal(format!("features as a matrix: {e}")))
            })
            .collect()
    }
}

/// The outputs of the layer named `layer` (or [`PIXELS`]) for the first `count` of `images`:
/// `count × units`.
pub fn layer_features(
    net: &Network,
    images: &IdxImages,
    layer: &str,
    count: usize,
) -> Result<Array2<f32>> {
    let mut pass = FeaturePass::new(net, images, &[layer], count)?;
    pass.step(net, images, count)?;
    pass.finish()?
        .pop()
        .ok_or_else(|| Error::internal("a feature pass without its matrix"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::network::testing::{idx_images, mnist_lenet};
    use crate::rng::Rng;

    #[test]
    fn a_pass_in_steps_equals_one_forward_per_image() {
        let net = mnist_lenet(3);
        let set = idx_images(&mut Rng::new(4), 5);
        let mut pass = FeaturePass::new(&net, &set, &["pixels", "fc2"], 5).unwrap();
        assert_eq!(pass.step(&net, &set, 2).unwrap(), (2, 5));
        assert!(pass.clone().finish().is_err());
        assert_eq!(pass.step(&net, &set, 10).unwrap(), (5, 5));
        let [pixels, fc2] = <[Array2<f32>; 2]>::try_from(pass.finish().unwrap()).unwrap();
        let fc2_index = net.layer_index("fc2").unwrap();
        for i in 0..5 {
            let image = set.image(i).unwrap();
            assert_eq!(pixels.row(i).to_vec(), image.data());
            let trace = net.forward(&image).unwrap();
            assert_eq!(fc2.row(i).to_vec(), trace.output(fc2_index).unwrap().data());
        }
        assert_eq!(layer_features(&net, &set, "fc2", 5).unwrap(), fc2);
        assert!(FeaturePass::new(&net, &set, &["fc9"], 5).is_err());
        assert!(FeaturePass::new(&net, &set, &["fc2"], 6).is_err());
        assert!(FeaturePass::new(&net, &set, &["fc2"], 0).is_err());
    }
}
