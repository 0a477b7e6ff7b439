//! The layers of the random network ([`super::random_net`]) that texture synthesis and style transfer read:
//! its 128 maps themselves, or a coarse view of them — the maps of the larger scales averaged over
//! `B × B` blocks — that stands in for the deep layer of Gatys et al. (2016)'s content representation.
//!
//! One convolutional layer of random filters keeps so much of the image in its 128 full-resolution maps that
//! matching them pins nearly every pixel: with them as the content layer, content and style fight (a
//! transfer lowers the style loss only 1.5–2× before the content error passes 0.4). A deep VGG layer is
//! coarse — large receptive fields, few positions — and that is what lets the style's shallow statistics
//! change while the layout stays. Averaging the 7 and 11 px maps over 8 × 8 blocks gives the same shape of
//! representation from the same network (docs/texture.md has the measurements that chose it).
//!
//! ```text
//! coarse[c, i, j] = mean over the block (i, j) of maps[c0 + c, y, x],  y ∈ [iB, iB + B) ∩ [0, H), x likewise
//! ```
//!
//! Shapes: maps `[128, H, W]`; a layer `[128 − c0, ⌈H/B⌉, ⌈W/B⌉]` (the last blocks may be ragged: they
//! average what they cover); its backward spreads each block's signal evenly over the block's positions.

use super::random_net::{FILTERS, SCALES};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The name of the random network's maps themselves (the default style layer).
pub const RANDOM_LAYER: &str = "random";
/// The name of its coarse layer (the default content layer of a transfer).
pub const COARSE_LAYER: &str = "random-coarse";
/// The names of the random network's layers.
pub const RANDOM_LAYERS: [&str; 2] = [RANDOM_LAYER, COARSE_LAYER];

/// The first scale the coarse layer keeps (index into [`SCALES`]: 7 and 11 px).
pub const COARSE_FIRST_SCALE: usize = 2;
/// The side of the coarse layer's blocks, in pixels.
pub const COARSE_BLOCK: usize = 8;

/// A layer of the random network: the maps from scale `first_scale` on, averaged over `block × block`
/// blocks (block 1, first scale 0: the maps themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomLayer {
    pub first_scale: usize,
    pub block: usize,
}

impl RandomLayer {
    /// The layer named `name` (one of [`RANDOM_LAYERS`]).
    pub fn named(name: &str) -> Result<RandomLayer> {
        match name {
            RANDOM_LAYER => Ok(RandomLayer {
                first_scale: 0,
                block: 1,
            }),
            COARSE_LAYER => Ok(RandomLayer {
                first_scale: COARSE_FIRST_SCALE,
                block: COARSE_BLOCK,
            }),
            other => Err(Error::unknown(
                "layer of the random network",
                other,
                &RANDOM_LAYERS,
            )),
        }
    }

    fn first_map(&self) -> usize {
        self.first_scale.min(SCALES.len()) * FILTERS
    }

    /// This layer of the network's maps `[128, H, W]`.
    pub fn read(&self, maps: &Tensor) -> Result<Tensor> {
        let (c, h, w) = maps.chw()?;
        let first = self.first_map().min(c);
        if self.block == 1 && first == 0 {
            return Ok(maps.clone());
        }
        let b = self.block;
        let (ph, pw) = (h.div_ceil(b), w.div_ceil(b));
        let mut out = vec![0.0f32; (c - first) * ph * pw];
        for (k, plane) in maps.data()[first * h * w..].chunks_exact(h * w).enumerate() {
            let pooled = &mut out[k * ph * pw..(k + 1) * ph * pw];
            for i in 0..ph {
                for j in 0..pw {
                    let (y0, y1) = (i * b, (i * b + b).min(h));
                    let (x0, x1) = (j * b, (j * b + b).min(w));
                    let sum: f32 = (y0..y1)
                        .map(|y| plane[y * w + x0..y * w + x1].iter().sum::<f32>())
                        .sum();
                    pooled[i * pw + j] = sum / ((y1 - y0) * (x1 - x0)) as f32;
                }
            }
        }
        Tensor::from_vec(&[c - first, ph, pw], out)
    }

    /// Adds to `total` (`[128, H, W]`, the signal at the maps) the signal at the maps of a loss whose
    /// signal at this layer is `signal`.
    pub fn backward(&self, signal: &Tensor, total: &mut Tensor) -> Result<()> {
        let (c, h, w) = total.chw()?;
        let first = self.first_map().min(c);
        let b = self.block;
        let (ph, pw) = (h.div_ceil(b), w.div_ceil(b));
        if signal.shape() != [c - first, ph, pw] {
            return Err(Error::shape(
                "signal at a random-network layer",
                &[c - first, ph, pw],
                signal.shape(),
            ));
        }
        let planes = total.data_mut()[first * h * w..].chunks_exact_mut(h * w);
        for (plane, pooled) in planes.zip(signal.data().chunks_exact(ph * pw)) {
            for y in 0..h {
                let (i, rows) = (y / b, (b.min(h - y / b * b)) as f32);
                for x in 0..w {
                    let j = x / b;
                    let cols = b.min(w - j * b) as f32;
                    plane[y * w + x] += pooled[i * pw + j] / (rows * cols);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-computed 1-map case at block 2 on 3 × 3 (ragged last blocks), and the adjoint identity
    /// ⟨read(m), s⟩ = ⟨m, backward(s)⟩ of the coarse layer.
    #[test]
    fn block_means_and_their_adjoint() {
        let layer = RandomLayer {
            first_scale: 0,
            block: 2,
        };
        let maps = Tensor::from_vec(&[1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap();
        let pooled = layer.read(&maps).unwrap();
        assert_eq!(pooled.shape(), [1, 2, 2]);
        assert_eq!(pooled.data(), [3.0, 4.5, 7.5, 9.0]);
        let mut rng = crate::rng::Rng::new(3);
        let coarse = RandomLayer::named(COARSE_LAYER).unwrap();
        let (h, w) = (13, 10);
        let maps = Tensor::from_vec(
            &[128, h, w],
            (0..128 * h * w).map(|_| rng.normal()).collect(),
        )
        .unwrap();
        let read = coarse.read(&maps).unwrap();
        assert_eq!(read.shape(), [64, 2, 2]);
        let signal = Tensor::from_vec(
            read.shape(),
            (0..read.len()).map(|_| rng.normal()).collect(),
        )
        .unwrap();
        let mut back = Tensor::zeros(&[128, h, w]);
        coarse.backward(&signal, &mut back).unwrap();
        let dot = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(&x, &y)| x as f64 * y as f64)
                .sum::<f64>()
        };
        let (left, right) = (
            dot(read.data(), signal.data()),
            dot(maps.data(), back.data()),
        );
        assert!(
            (left - right).abs() < 1e-4 * left.abs().max(1.0),
            "{left} vs {right}"
        );
        assert!(back.data()[..64 * h * w].iter().all(|&v| v == 0.0));
        assert!(RandomLayer::named("relu1").is_err());
    }
}
