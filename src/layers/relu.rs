//! ReLU, `y = max(x, 0)`, and the three ways of sending a signal back through it.
//!
//! - [`ReluRule::Gradient`]: the true gradient, `g · [x > 0]`.
//! - [`ReluRule::Deconvnet`]: Zeiler & Fergus (2013) rectify the signal and ignore the forward input, `max(g, 0)`.
//! - [`ReluRule::Guided`]: guided backpropagation (Springenberg et al. 2014), `max(g, 0) · [x > 0]`.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// How a backward pass goes through ReLU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReluRule {
    Gradient,
    Deconvnet,
    Guided,
}

pub fn forward(x: &Tensor) -> Tensor {
    let mut y = x.clone();
    for v in y.data_mut() {
        *v = v.max(0.0);
    }
    y
}

/// Sends `g` (shaped like the layer's output) back through a ReLU whose forward input was `x`.
pub fn backward(rule: ReluRule, x: &Tensor, g: &Tensor) -> Result<Tensor> {
    if x.shape() != g.shape() {
        return Err(Error::shape("relu backward signal", x.shape(), g.shape()));
    }
    let mut out = g.clone();
    for (o, &xi) in out.data_mut().iter_mut().zip(x.data()) {
        *o = match rule {
            ReluRule::Gradient => {
                if xi > 0.0 {
                    *o
                } else {
                    0.0
                }
            }
            ReluRule::Deconvnet => o.max(0.0),
            ReluRule::Guided => {
                if xi > 0.0 {
                    o.max(0.0)
                } else {
                    0.0
                }
            }
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_rules_by_hand() {
        let x = Tensor::from_vec(&[4], vec![1.0, 1.0, -1.0, -1.0]).unwrap();
        let g = Tensor::from_vec(&[4], vec![2.0, -3.0, 5.0, -7.0]).unwrap();
        assert_eq!(forward(&x).data(), &[1.0, 1.0, 0.0, 0.0]);
        assert_eq!(
            backward(ReluRule::Gradient, &x, &g).unwrap().data(),
            &[2.0, -3.0, 0.0, 0.0]
        );
        assert_eq!(
            backward(ReluRule::Deconvnet, &x, &g).unwrap().data(),
            &[2.0, 0.0, 5.0, 0.0]
        );
        assert_eq!(
            backward(ReluRule::Guided, &x, &g).unwrap().data(),
            &[2.0, 0.0, 0.0, 0.0]
        );
        assert!(backward(ReluRule::Gradient, &x, &Tensor::zeros(&[3])).is_err());
    }
}
