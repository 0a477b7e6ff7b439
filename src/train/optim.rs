//! Optimizers over the network's parameters, given the batch gradient.
//! - SGD with momentum (PyTorch's form): `v ← μ v + g + λ w`, `w ← w − η v`.
//! - Adam (Kingma & Ba 2015): `m ← β₁ m + (1−β₁) g`, `v ← β₂ v + (1−β₂) g²`,
//!   `w ← w − η m̂ / (√v̂ + ε)` with bias-corrected `m̂, v̂`.

use crate::error::{Error, Result};
use crate::model::network::{Gradients, Network};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptimizerKind {
    Sgd {
        momentum: f32,
        weight_decay: f32,
    },
    Adam {
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: f32,
    },
}

impl OptimizerKind {
    /// `"sgd"` (momentum 0.9) or `"adam"` (β = 0.9, 0.999, ε = 1e-8).
    pub fn parse(name: &str, weight_decay: f32) -> Result<OptimizerKind> {
        match name {
            "sgd" => Ok(OptimizerKind::Sgd {
                momentum: 0.9,
                weight_decay,
            }),
            "adam" => Ok(OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay,
            }),
            other => Err(Error::unknown("optimizer", other, &["sgd", "adam"])),
        }
    }
}

/// Optimizer state: one or two moment buffers per parameter tensor.
#[derive(Debug, Clone)]
pub struct Optimizer {
    kind: OptimizerKind,
    first: Gradients,
    second: Gradients,
    steps: i32,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, net: &Network) -> Optimizer {
        Optimizer {
            kind,
            first: net.zero_gradients(),
            second: net.zero_gradients(),
            steps: 0,
        }
    }

    /// One update with learning rate `lr` from the batch gradient `grads`.
    pub fn step(&mut self, net: &mut Network, grads: &Gradients, lr: f32) -> Result<()> {
        self.steps += 1;
        let t = self.steps;
        for (i, weight, bias) in net.parameters_mut() {
            let (Some((gw, gb)), Some((m_w, m_b)), Some((v_w, v_b))) = (
                grads.layers.get(i).and_then(Option::as_ref),
                self.first.layers.get_mut(i).and_then(Option::as_mut),
                self.second.layers.get_mut(i).and_then(Option::as_mut),
            ) else {
                return Err(Error::internal("gradients do not match the network"));
            };
            for (p, g, m, v) in [(weight, gw, m_w, v_w), (bias, gb, m_b, v_b)] {
                update(self.kind, t, lr, p, g, m, v);
            }
        }
        Ok(())
    }
}

fn update(
    kind: OptimizerKind,
    t: i32,
    lr: f32,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    match kind {
        OptimizerKind::Sgd {
            momentum,
            weight_decay,
        } => {
            for ((p, g), m) in p.iter_mut().zip(g).zip(m.iter_mut()) {
                *m = momentum * *m + g + weight_decay * *p;
                *p -= lr * *m;
            }
        }
        OptimizerKind::Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            let c1 = 1.0 - beta1.powi(t);
            let c2 = 1.0 - beta2.powi(t);
            for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                let g = g + weight_decay * *p;
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_lr_and_sgd_accumulates_momentum() {
        let kind = OptimizerKind::parse("adam", 0.0).unwrap();
        let (mut p, mut m, mut v) = ([1.0f32, -1.0], [0.0; 2], [0.0; 2]);
        update(kind, 1, 0.1, &mut p, &[0.5, -2.0], &mut m, &mut v);
        // m̂ = g, v̂ = g², so the step is lr·sign(g) (up to ε).
        assert!(
            (p[0] - 0.9).abs() < 1e-6 && (p[1] + 0.9).abs() < 1e-6,
            "{p:?}"
        );
        let kind = OptimizerKind::parse("sgd", 0.0).unwrap();
        let (mut p, mut m, mut v) = ([0.0f32], [0.0], [0.0]);
        update(kind, 1, 0.1, &mut p, &[1.0], &mut m, &mut v);
        update(kind, 2, 0.1, &mut p, &[1.0], &mut m, &mut v);
        // v1 = 1, v2 = 0.9 + 1 = 1.9 → p = −0.1 − 0.19.
        assert!((p[0] + 0.29).abs() < 1e-6);
        assert!(OptimizerKind::parse("rmsprop", 0.0).is_err());
    }
}
