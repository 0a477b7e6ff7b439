//! The built-in random multi-scale network for colour textures (Ustyuzhaninov, Brendel, Gatys & Bethge,
//! *What does it take to generate natural textures?*, ICLR 2017): one convolutional layer of random filters
//! at several scales and a ReLU, no training, no pooling.
//!
//! [`FILTERS`] filters at each of the [`SCALES`] sizes (3, 5, 7 and 11 px: 128 maps), each scale a
//! convolution of its own size (not zero-padded to the largest) with "same" padding `k/2`, so every map is
//! `H × W`. Shapes: image `[3, H, W]` raw pixels in `[0, 1]`, centred (`x − 0.5`) before the convolution;
//! features `[128, H, W]` after the ReLU, the scales in order.
//!
//! Weights: drawn from [`Rng`] seeded with [`SEED`], uniform in `[−1, 1]`; each filter then has its mean
//! removed (over its three channels and all taps, so a flat image gives no response) and is scaled to unit
//! L2 norm, so the four scales respond with comparable strength. Biases are 0. The draws are integer
//! arithmetic and the mean and norm are `f64` sums of a fixed order, so the weights are the same bits on every
//! platform (`tests/texture.rs` pins their hash natively; `tests/web.rs` in wasm).
//!
//! The backward pass of each scale is again a convolution (stride 1, "same" padding): with the kernels
//! flipped and their channels swapped it is the transposed convolution, on the fast forward kernel.

use crate::error::{Error, Result};
use crate::layers::conv2d::{self, Conv2dParams};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The filter sizes, in pixels.
pub const SCALES: [usize; 4] = [3, 5, 7, 11];
/// Filters per scale.
pub const FILTERS: usize = 32;
/// Input channels (RGB).
pub const CHANNELS: usize = 3;
/// The seed of the weights: the same network in the CLI and the page.
pub const SEED: u64 = 2017;

/// One scale: its convolution and the flipped kernels of its transpose.
#[derive(Debug, Clone, PartialEq)]
struct Scale {
    forward: Conv2dParams,
    weight: Vec<f32>,
    /// `[C, O, K, K]`: `weight[o, c, K−1−y, K−1−x]`, the kernels of the transposed convolution.
    transpose: Conv2dParams,
    flipped: Vec<f32>,
}

/// The random multi-scale network (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomNet {
    scales: Vec<Scale>,
}

/// A forward pass: the features after the ReLU, `[128, H, W]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomTrace {
    pub features: Tensor,
}

impl Default for RandomNet {
    fn default() -> Self {
        RandomNet::new(SEED)
    }
}

impl RandomNet {
    /// The network drawn from `seed` ([`SEED`] is the built-in one).
    pub fn new(seed: u64) -> RandomNet {
        let mut rng = Rng::new(seed);
        let scales = SCALES.iter().map(|&k| Scale::draw(&mut rng, k)).collect();
        RandomNet { scales }
    }

    /// How many feature maps the network has (128).
    pub fn maps(&self) -> usize {
        self.scales.len() * FILTERS
    }

    /// Every weight, scale after scale, each `[32, 3, K, K]` (OIHW).
    pub fn weights(&self) -> impl Iterator<Item = f32> + '_ {
        self.scales.iter().flat_map(|s| s.weight.iter().copied())
    }

    /// The features of a `[3, H, W]` image.
    pub fn forward(&self, image: &Tensor) -> Result<RandomTrace> {
        let (c, h, w) = image.chw()?;
        if c != CHANNELS {
            return Err(Error::shape("image", &[CHANNELS, h, w], image.shape()));
        }
        image.check_finite("the image")?;
        let centred = Tensor::from_vec(
            image.shape(),
            image.data().iter().map(|v| v - 0.5).collect(),
        )?;
        let plane = h * w;
        let mut features = Vec::with_capacity(self.maps() * plane);
        let zeros = [0.0f32; FILTERS];
        for scale in &self.scales {
            let y = conv2d::forward(&scale.forward, &centred, &scale.weight, &zeros)?;
            features.extend(y.data().iter().map(|v| v.max(0.0)));
        }
        Ok(RandomTrace {
            features: Tensor::from_vec(&[self.maps(), h, w], features)?,
        })
    }

    /// The gradient with respect to the image's pixels of a loss whose gradient at the features of `trace`
    /// is `grad` (`[128, H, W]`).
    pub fn backward(&self, trace: &RandomTrace, grad: &Tensor) -> Result<Tensor> {
        let f = &trace.features;
        if grad.shape() != f.shape() {
            return Err(Error::shape(
                "signal at the features",
                f.shape(),
                grad.shape(),
            ));
        }
        let (_, h, w) = f.chw()?;
        let plane = h * w;
        let mut out = vec![0.0f32; CHANNELS * plane];
        let zeros = [0.0f32; CHANNELS];
        let scale_len = FILTERS * plane;
        for (s, scale) in self.scales.iter().enumerate() {
            let range = s * scale_len..(s + 1) * scale_len;
            // Through the ReLU: the signal where the unit was on.
            let masked = f.data()[range.clone()]
                .iter()
                .zip(&grad.data()[range])
                .map(|(&y, &g)| if y > 0.0 { g } else { 0.0 })
                .collect();
            let masked = Tensor::from_vec(&[FILTERS, h, w], masked)?;
            let x = conv2d::forward(&scale.transpose, &masked, &scale.flipped, &zeros)?;
            crate::tensor::axpy(1.0, x.data(), &mut out);
        }
        Tensor::from_vec(&[CHANNELS, h, w], out)
    }
}

impl Scale {
    fn draw(rng: &mut Rng, k: usize) -> Scale {
        let taps = CHANNELS * k * k;
        let mut weight = Vec::with_capacity(FILTERS * taps);
        for _ in 0..FILTERS {
            let raw: Vec<f64> = (0..taps)
                .map(|_| 2.0 * rng.uniform() as f64 - 1.0)
                .collect();
            let mean = raw.iter().sum::<f64>() / taps as f64;
            let norm = raw
                .iter()
                .map(|v| (v - mean) * (v - mean))
                .sum::<f64>()
                .sqrt();
            weight.extend(raw.iter().map(|v| ((v - mean) / norm) as f32));
        }
        let mut flipped = vec![0.0f32; weight.len()];
        for o in 0..FILTERS {
            for c in 0..CHANNELS {
                for t in 0..k * k {
                    flipped[(c * FILTERS + o) * k * k + (k * k - 1 - t)] =
                        weight[(o * CHANNELS + c) * k * k + t];
                }
            }
        }
        let forward = Conv2dParams {
            in_channels: CHANNELS,
            out_channels: FILTERS,
            kernel_size: k,
            stride: 1,
            padding: k / 2,
        };
        let transpose = Conv2dParams {
            in_channels: FILTERS,
            out_channels: CHANNELS,
            ..forward
        };
        Scale {
            forward,
            weight,
            transpose,
            flipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::conv2d::reference;

    #[test]
    fn the_backward_pass_is_the_transposed_convolution() {
        let net = RandomNet::new(5);
        let mut rng = Rng::new(1);
        let (h, w) = (9, 7);
        let x = Tensor::from_vec(&[3, h, w], (0..3 * h * w).map(|_| rng.uniform()).collect())
            .expect("x");
        let trace = net.forward(&x).expect("forward");
        assert_eq!(trace.features.shape(), [128, h, w]);
        let g = Tensor::from_vec(
            &[128, h, w],
            (0..128 * h * w).map(|_| rng.normal()).collect(),
        )
        .expect("g");
        let got = net.backward(&trace, &g).expect("backward");
        let plane = h * w;
        let mut want = vec![0.0f32; 3 * plane];
        for (s, scale) in net.scales.iter().enumerate() {
            let part = &g.data()[s * FILTERS * plane..(s + 1) * FILTERS * plane];
            let on = &trace.features.data()[s * FILTERS * plane..(s + 1) * FILTERS * plane];
            let masked: Vec<f32> = part
                .iter()
                .zip(on)
                .map(|(&g, &y)| if y > 0.0 { g } else { 0.0 })
                .collect();
            let masked = Tensor::from_vec(&[FILTERS, h, w], masked).expect("masked");
            let t = reference::transpose(&scale.forward, &masked, &scale.weight, h, w)
                .expect("transpose");
            for (a, b) in want.iter_mut().zip(t.data()) {
                *a += b;
            }
        }
        for (a, b) in got.data().iter().zip(&want) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn filters_have_zero_mean_and_unit_norm() {
        let net = RandomNet::default();
        for scale in &net.scales {
            let k = scale.forward.kernel_size;
            for filter in scale.weight.chunks_exact(CHANNELS * k * k) {
                let sum: f64 = filter.iter().map(|&v| v as f64).sum();
                let norm: f64 = filter.iter().map(|&v| v as f64 * v as f64).sum();
                assert!(
                    sum.abs() < 1e-5 && (norm - 1.0).abs() < 1e-5,
                    "{sum} {norm}"
                );
            }
        }
        assert!(net
            .forward(&Tensor::zeros(&[1, 4, 4]))
            .is_err_and(|e| matches!(e, Error::ShapeMismatch { .. })));
    }
}
