//! The network's conv prefix on images of any size: the leading run of conv, ReLU and max-pool layers
//! (LeNet-5's `conv1 … pool2`) does not depend on the manifest's input size, so it can run on a larger image
//! — DeepDream's octaves grow the image from the input size upwards. Only that run: a flatten or linear layer
//! needs the manifest's size. Shapes: the image `[C, H, W]` raw pixels (normalized here, as the full pass
//! does), each output `[C_l, H_l, W_l]`.

use crate::error::{Error, Result};
use crate::layers::pool::Switches;
use crate::layers::relu::ReluRule;
use crate::layers::Layer;
use crate::model::network::Network;
use crate::tensor::Tensor;

/// The forward pass of the first `outputs.len()` layers of the prefix, with the max-pools' switches.
#[derive(Debug, Clone)]
pub struct PrefixTrace<'n> {
    net: &'n Network,
    normalized: Tensor,
    outputs: Vec<Tensor>,
    switches: Vec<Option<Switches>>,
}

impl Network {
    /// How many leading layers are conv, ReLU or max-pool layers.
    pub fn conv_prefix(&self) -> usize {
        self.layers()
            .iter()
            .take_while(|l| {
                matches!(
                    l.layer,
                    Layer::Conv2d { .. } | Layer::Relu | Layer::MaxPool2d(_)
                )
            })
            .count()
    }

    /// Runs layers `0..=last` (all in the conv prefix) on `image`, whose channels are the input's and whose
    /// size may be anything the layers accept.
    pub fn forward_prefix(&self, image: &Tensor, last: usize) -> Result<PrefixTrace<'_>> {
        let prefix = self.conv_prefix();
        if last >= prefix {
            return Err(Error::option(
                "layer",
                format!(
                    "{} is not in the conv prefix (the layers before the first flatten or linear layer)",
                    self.layers().get(last).map_or("?", |l| l.name.as_str())
                ),
            ));
        }
        let (c, h, w) = image.chw()?;
        let channels = self.input_shape()[0];
        if c != channels {
            return Err(Error::shape("image", &[channels, h, w], image.shape()));
        }
        image.check_finite("the image")?;
        let mut normalized = image.clone();
        if let Some(n) = &self.manifest().normalization {
            for ((plane, mean), std) in normalized
                .data_mut()
                .chunks_exact_mut(h * w)
                .zip(&n.mean)
                .zip(&n.std)
            {
                plane.iter_mut().for_each(|v| *v = (*v - mean) / std);
            }
        }
        let mut trace = PrefixTrace {
            net: self,
            normalized,
            outputs: Vec::with_capacity(last + 1),
            switches: Vec::with_capacity(last + 1),
        };
        for l in &self.layers()[..=last] {
            let x = trace.outputs.last().unwrap_or(&trace.normalized);
            let (y, switches) = l.layer.forward(x)?;
            trace.outputs.push(y);
            trace.switches.push(switches);
        }
        Ok(trace)
    }
}

impl PrefixTrace<'_> {
    /// The output of each layer run, in order.
    pub fn outputs(&self) -> &[Tensor] {
        &self.outputs
    }

    /// The true gradient with respect to the raw pixels of a loss whose gradient at the output of layer
    /// `from` is `grad`.
    pub fn backward(&self, from: usize, grad: Tensor) -> Result<Tensor> {
        let out = self.outputs.get(from).ok_or_else(|| {
            Error::out_of_range(
                "layer index",
                from,
                format!("0 to {}", self.outputs.len() - 1),
            )
        })?;
        if grad.shape() != out.shape() {
            return Err(Error::shape("signal", out.shape(), grad.shape()));
        }
        let mut g = grad;
        for i in (0..=from).rev() {
            let x = i
                .checked_sub(1)
                .map_or(&self.normalized, |j| &self.outputs[j]);
            g = self.net.layers()[i].layer.backward(
                x,
                self.switches[i].as_ref(),
                g,
                ReluRule::Gradient,
            )?;
        }
        self.net.denormalize(&mut g);
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::network::testing::small_lenet;
    use crate::rng::Rng;
    use crate::tensor::Tensor;

    #[test]
    fn at_the_input_size_the_prefix_equals_the_full_pass() {
        let net = small_lenet(3);
        let [c, h, w] = net.input_shape();
        let mut rng = Rng::new(1);
        let x = Tensor::from_vec(&[c, h, w], (0..c * h * w).map(|_| rng.uniform()).collect())
            .expect("x");
        let last = net.conv_prefix() - 1;
        let full = net.forward(&x).expect("forward");
        let prefix = net.forward_prefix(&x, last).expect("prefix");
        assert_eq!(prefix.outputs(), &full.outputs()[..=last]);
        let g = Tensor::from_vec(
            full.outputs()[last].shape(),
            (0..full.outputs()[last].len())
                .map(|_| rng.normal())
                .collect(),
        )
        .expect("g");
        let want = full
            .backward(
                last,
                g.clone(),
                crate::layers::relu::ReluRule::Gradient,
                None,
                None,
            )
            .expect("backward");
        assert_eq!(prefix.backward(last, g).expect("backward"), want);
        assert!(net.forward_prefix(&x, net.conv_prefix()).is_err());
    }
}
