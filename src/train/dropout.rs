//! Dropout (Srivastava et al. 2014) for training: after the ReLU of every hidden fully connected layer, each
//! unit is zeroed with probability `p` and the kept ones are scaled by `1/(1 − p)` ("inverted" dropout, as
//! `torch.nn.Dropout` does), so inference runs the network unchanged. The manifest's architecture does not
//! change either: dropout has no parameters and is a training option only.
//!
//! Why it is there: it makes the hidden layers' on/off patterns redundant and stable, which is what the
//! runtime monitor (`explain::monitor`) reads. docs/monitor.md has the measurements.

use crate::error::{Error, Result};
use crate::model::network::{Layer, Network, Trace};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Where dropout applies in a network and with which probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropout {
    p: f32,
    /// Indices of the ReLU layers whose input is a linear layer's output, ascending.
    layers: Vec<usize>,
}

impl Dropout {
    /// Dropout with probability `p` after every ReLU that follows a linear layer whose output is not the
    /// network's last linear layer (the ReLUs of the hidden fully connected layers). `p = 0` turns it off.
    pub fn new(net: &Network, p: f32) -> Result<Dropout> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::out_of_range("dropout probability", p, "0 ≤ p < 1"));
        }
        let kinds = net.layers();
        let layers = if p == 0.0 {
            Vec::new()
        } else {
            (1..kinds.len())
                .filter(|&i| {
                    matches!(kinds[i].layer, Layer::Relu)
                        && matches!(kinds[i - 1].layer, Layer::Linear { .. })
                })
                .collect()
        };
        Ok(Dropout { p, layers })
    }

    pub fn layers(&self) -> &[usize] {
        &self.layers
    }

    /// Runs the network forward with fresh masks drawn from `rng` (in layer order, one uniform per unit)
    /// applied after the dropout layers. The masks are part of the trace: its backward pass
    /// ([`Trace::backward`]) goes through them.
    pub fn forward<'n>(
        &self,
        net: &'n Network,
        image: &Tensor,
        rng: &mut Rng,
    ) -> Result<Trace<'n>> {
        let keep = 1.0 / (1.0 - self.p);
        let masks = self
            .layers
            .iter()
            .map(|&i| {
                // A layer the network lacks gets an empty mask, which forward_masked refuses.
                let units = net
                    .layers()
                    .get(i)
                    .map_or(0, |l| l.output_shape.iter().product());
                let mask = (0..units)
                    .map(|_| if rng.uniform() < self.p { 0.0 } else { keep })
                    .collect();
                (i, mask)
            })
            .collect();
        net.forward_masked(image, masks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::relu::ReluRule;
    use crate::model::manifest::{InputShape, Manifest};
    use crate::model::network::Masks;

    fn small_net(seed: u64) -> Network {
        let shape = InputShape {
            channels: 1,
            height: 12,
            width: 12,
        };
        let labels = (0..3).map(|i| i.to_string()).collect();
        let manifest = Manifest::lenet5("t", shape, labels).expect("manifest");
        Network::init_random(manifest, seed).expect("network")
    }

    fn image(net: &Network, seed: u64) -> Tensor {
        let mut rng = Rng::new(seed);
        let n = net.input_shape().iter().product();
        net.image((0..n).map(|_| rng.uniform()).collect())
            .expect("image")
    }

    /// Loss −log_softmax[label] of the network with the given masks applied after the dropout layers.
    fn masked_loss(net: &Network, x: &Tensor, masks: &Masks, label: usize) -> f64 {
        let trace = net.forward_masked(x, masks.clone()).expect("forward");
        -(trace.outputs().last().expect("output").data()[label] as f64)
    }

    #[test]
    fn finds_the_hidden_fully_connected_relus() {
        let net = small_net(1);
        let names: Vec<&str> = Dropout::new(&net, 0.5)
            .expect("dropout")
            .layers()
            .iter()
            .map(|&i| net.layers()[i].name.as_str())
            .collect();
        assert_eq!(names, ["relu3", "relu4"]);
        assert!(Dropout::new(&net, 0.0).expect("off").layers().is_empty());
        for bad in [1.0, -0.1, f32::NAN] {
            assert!(Dropout::new(&net, bad).is_err(), "p = {bad} accepted");
        }
    }

    #[test]
    fn masks_drop_about_p_and_scale_the_rest() {
        let net = small_net(2);
        let dropout = Dropout::new(&net, 0.3).expect("dropout");
        let mut rng = Rng::new(7);
        let (mut dropped, mut total) = (0usize, 0usize);
        for s in 0..200 {
            let trace = dropout
                .forward(&net, &image(&net, s), &mut rng)
                .expect("forward");
            assert_eq!(trace.masks().len(), 2);
            for (layer, mask) in trace.masks() {
                let before = trace.layer_input(*layer).data();
                let after = trace.outputs()[*layer].data();
                for ((&m, &a), &b) in mask.iter().zip(after).zip(before) {
                    assert!(m == 0.0 || (m - 1.0 / 0.7).abs() < 1e-6, "multiplier {m}");
                    assert_eq!(a, b.max(0.0) * m);
                }
                dropped += mask.iter().filter(|&&m| m == 0.0).count();
                total += mask.len();
            }
        }
        let rate = dropped as f64 / total as f64;
        assert!((rate - 0.3).abs() < 0.01, "dropped {rate} of {total} units");
    }

    /// The parameter gradient through the masks equals central finite differences of the masked loss.
    #[test]
    fn gradient_through_masks_matches_finite_differences() {
        let mut net = small_net(3);
        let dropout = Dropout::new(&net, 0.5).expect("dropout");
        let x = image(&net, 11);
        let label = 1;
        let trace = dropout
            .forward(&net, &x, &mut Rng::new(5))
            .expect("forward");
        let masks = trace.masks().clone();
        assert!(masks.iter().any(|(_, m)| m.contains(&0.0)));
        let out = trace.outputs().len() - 1;
        let mut seed = Tensor::zeros(trace.outputs()[out].shape());
        seed.data_mut()[label] = -1.0;
        let mut grads = net.zero_gradients();
        trace
            .backward(out, seed, ReluRule::Gradient, None, Some(&mut grads))
            .expect("backward");
        drop(trace);

        let eps = 1e-3f32;
        let mut checked = 0;
        let layer_ids: Vec<usize> = net.parameters_mut().map(|(i, _, _)| i).collect();
        for layer in layer_ids {
            let (dw, _) = grads.layers[layer].clone().expect("gradient");
            for k in (0..dw.len()).step_by(dw.len() / 7 + 1) {
                let shift = |net: &mut Network, delta: f32| {
                    if let Some((_, w, _)) = net.parameters_mut().find(|(i, _, _)| *i == layer) {
                        w[k] += delta;
                    }
                };
                shift(&mut net, eps);
                let up = masked_loss(&net, &x, &masks, label);
                shift(&mut net, -2.0 * eps);
                let down = masked_loss(&net, &x, &masks, label);
                shift(&mut net, eps);
                let numeric = (up - down) / (2.0 * eps as f64);
                let analytic = dw[k] as f64;
                assert!(
                    (numeric - analytic).abs() <= 2e-3 + 2e-2 * analytic.abs(),
                    "layer {layer} weight {k}: numeric {numeric} analytic {analytic}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 30, "checked {checked} weights");
    }
}
