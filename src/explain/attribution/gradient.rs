//! The attribution methods that are one backward pass from the target score to the raw input `x: [C, H, W]`,
//! differing only in how ReLUs pass the signal back ([`ReluRule`]) and in a pointwise finish:
//!
//! - gradient `∂f/∂x` and saliency `|∂f/∂x|` (Simonyan, Vedaldi & Zisserman 2013);
//! - guided backpropagation, ReLU rule `max(g, 0)·[x > 0]` (Springenberg et al. 2014);
//! - deconvnet attribution, ReLU rule `max(g, 0)` (Zeiler & Fergus 2013);
//! - gradient × input `x ⊙ ∂f/∂x`.
//!
//! Max-pooling sends the signal to its switches and convolutions transpose, as in the true gradient.
//! Output: `[C, H, W]`.

use super::{Method, TargetScore, COMMON};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::{Network, Trace};
use crate::tensor::Tensor;

const SIMONYAN: Paper = Paper {
    title: "Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps",
    authors: "Simonyan, Vedaldi & Zisserman",
    year: 2013,
    url: "https://arxiv.org/abs/1312.6034",
};

/// A single-pass method's catalogue entry: the common options, a quick signed or unsigned map.
const fn single_pass(
    id: &'static str,
    label: &'static str,
    output: OutputKind,
    summary: &'static str,
    explanation: &'static str,
    paper: Paper,
) -> Technique {
    Technique {
        id,
        label,
        family: Family::Attribution,
        command: "attribute",
        output,
        long_running: false,
        stateful: None,
        summary,
        explanation,
        paper: Some(paper),
        options: &COMMON,
    }
}

pub const GRADIENT: Technique = single_pass(
    "gradient",
    "Gradient",
    OutputKind::SignedMap,
    "Red pixels raise the class score when brightened, blue ones lower it.",
    "The derivative of the class score with respect to each input pixel, ∂f/∂x, from one backward pass: how \
     much the score changes when that pixel alone changes a little.",
    SIMONYAN,
);

pub const SALIENCY: Technique = single_pass(
    "saliency",
    "Saliency |∂f/∂x|",
    OutputKind::UnsignedMap,
    "Bright pixels are those the class score is most sensitive to, either way.",
    "The absolute value of the gradient of the class score, |∂f/∂x|: the saliency map of Simonyan et al., \
     which drops the direction and keeps the sensitivity.",
    SIMONYAN,
);

pub const GUIDED_BACKPROP: Technique = single_pass(
    "guided-backprop",
    "Guided backprop",
    OutputKind::SignedMap,
    "Sharp outlines of the strokes that support the class.",
    "A backward pass in which every ReLU passes only positive signal, and only where its input was positive \
     (max(g, 0)·[x > 0]): the gradient with the negative evidence removed at each layer.",
    Paper {
        title: "Striving for Simplicity: The All Convolutional Net",
        authors: "Springenberg, Dosovitskiy, Brox & Riedmiller",
        year: 2014,
        url: "https://arxiv.org/abs/1412.6806",
    },
);

pub const DECONVNET: Technique = single_pass(
    "deconvnet",
    "Deconvnet",
    OutputKind::SignedMap,
    "The input patterns the class score responds to, as the deconvnet reconstructs them.",
    "A backward pass from the class score in which every ReLU rectifies the signal itself (max(g, 0)), \
     whatever its forward input was: Zeiler & Fergus' deconvnet started from the score.",
    crate::explain::deconvnet::ZEILER_FERGUS,
);

pub const GRADIENT_X_INPUT: Technique = single_pass(
    "gradient-x-input",
    "Gradient × input",
    OutputKind::SignedMap,
    "Each pixel's gradient weighted by its ink: only drawn pixels light up.",
    "The gradient multiplied pixel by pixel by the input, x ⊙ ∂f/∂x: a first-order estimate of each pixel's \
     contribution to the score relative to a black image.",
    Paper {
        title: "Not Just a Black Box: Learning Important Features Through Propagating Activation Differences",
        authors: "Shrikumar, Greenside, Shcherbina & Kundaje",
        year: 2016,
        url: "https://arxiv.org/abs/1605.01713",
    },
);

/// The map of a single-pass `method` for the input of `trace`; errors for the other methods.
pub fn attribution(trace: &Trace, target: &TargetScore, method: Method) -> Result<Tensor> {
    let rule = method.relu_rule().ok_or_else(|| {
        Error::internal(format!(
            "{} is not a single-backward-pass method; those are {}",
            method.name(),
            method_names()
        ))
    })?;
    let mut map = target.input_gradient(trace, rule)?;
    finish(method, &mut map, trace.input());
    Ok(map)
}

/// The pointwise finish of a single-pass method on the signal `map` that reached the input `x`: `|g|` for
/// saliency, `x ⊙ g` for gradient × input, nothing for the others.
pub fn finish(method: Method, map: &mut Tensor, x: &Tensor) {
    match method {
        Method::Saliency => map.data_mut().iter_mut().for_each(|g| *g = g.abs()),
        Method::GradientXInput => {
            for (g, x) in map.data_mut().iter_mut().zip(x.data()) {
                *g *= x;
            }
        }
        _ => {}
    }
}

/// Whether [`finish`] leaves the signal as it is, so that a mean of maps is the map of the mean signal.
pub fn finish_is_identity(method: Method) -> bool {
    !matches!(method, Method::Saliency | Method::GradientXInput)
}

/// A sum of backward passes from the target score, `Σ_b ∂f/∂x` at the inputs of several forward passes
/// (integrated gradients sums the points of its path, SmoothGrad its noisy samples), each pass weighted by
/// its seed.
///
/// The passes travel in batches ([`Network::backward_batch`]) and only down to the end of the network's
/// [`Network::linear_prefix`]: below it the backward step is linear and the same for every pass, so the
/// signals are summed there (in `f64`) and the sum is sent the rest of the way once. For LeNet-5 this
/// replaces a transposed `conv1` per pass by one in all.
pub struct GradientSum<'n> {
    net: &'n Network,
    rule: ReluRule,
    /// Where the signals are summed: the output of this layer, or the raw input.
    at: Option<usize>,
    sum: Vec<f64>,
}

impl<'n> GradientSum<'n> {
    pub fn new(net: &'n Network, rule: ReluRule) -> GradientSum<'n> {
        let at = net.linear_prefix();
        let len = match at {
            Some(j) => net.layers()[j].output_shape.iter().product(),
            None => net.input_shape().iter().product(),
        };
        GradientSum {
            net,
            rule,
            at,
            sum: vec![0.0; len],
        }
    }

    /// A sum resumed from [`GradientSum::into_partial`] (an empty `partial` starts from zero), so that a
    /// long method can run in steps with exactly the additions of one run.
    pub fn resume(net: &'n Network, rule: ReluRule, partial: Vec<f64>) -> GradientSum<'n> {
        let mut sum = GradientSum::new(net, rule);
        if partial.len() == sum.sum.len() {
            sum.sum = partial;
        }
        sum
    }

    /// The partial sum, to resume later.
    pub fn into_partial(self) -> Vec<f64> {
        self.sum
    }

    /// Adds the backward passes of `seeds[b]` (signals at the logits, shaped like them) through `traces[b]`.
    pub fn add(
        &mut self,
        traces: &[&Trace],
        seeds: Vec<Tensor>,
        target: &TargetScore,
    ) -> Result<()> {
        let signals = self
            .net
            .backward_batch(traces, target.logits, seeds, self.rule, self.at)?;
        for signal in signals {
            for (s, v) in self.sum.iter_mut().zip(signal.data()) {
                *s += *v as f64;
            }
        }
        Ok(())
    }

    /// `scale · Σ` with respect to the raw input (`[C, H, W]`), finishing the summed signal's way through the
    /// linear prefix in `f32` through `trace` (any forward pass: the prefix does not look at it).
    pub fn finish(self, trace: &Trace, scale: f64) -> Result<Vec<f64>> {
        let scaled = self.sum.iter().map(|s| s * scale);
        match self.at {
            None => Ok(scaled.collect()),
            Some(j) => {
                let shape = &self.net.layers()[j].output_shape;
                let signal = Tensor::from_vec(shape, scaled.map(|s| s as f32).collect())?;
                let input = trace.backward(j, signal, self.rule, None, None)?;
                Ok(input.data().iter().map(|&v| v as f64).collect())
            }
        }
    }
}

/// The names of the single-pass methods, for error messages: `"gradient, saliency, ..."`.
pub fn method_names() -> String {
    let names: Vec<&str> = Method::ALL
        .iter()
        .filter(|m| m.relu_rule().is_some())
        .map(|m| m.name())
        .collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::attribution::Output;
    use crate::model::manifest::Manifest;

    /// `x: [1, 1, 2]` → flatten → `h = W₁x` → ReLU → `f = W₂ relu(h)`, no normalization.
    fn two_layer(w1: [f32; 4], w2: [f32; 2]) -> Network {
        let manifest = Manifest::parse(
            r#"{"name": "two-layer", "input": {"channels": 1, "height": 1, "width": 2}, "weights": "none",
                "layers": [{"name": "flatten", "type": "flatten"},
                           {"name": "fc1", "type": "linear", "in_features": 2, "out_features": 2},
                           {"name": "relu", "type": "relu"},
                           {"name": "fc2", "type": "linear", "in_features": 2, "out_features": 1}]}"#,
        )
        .unwrap();
        let mut net = Network::init_random(manifest, 0).unwrap();
        for (i, w, b) in net.parameters_mut() {
            b.fill(0.0);
            w.copy_from_slice(if i == 1 { &w1 } else { &w2 });
        }
        net
    }

    #[test]
    fn the_five_methods_by_hand() {
        // x = (1, 2), W₁ = [[1, -1], [1, 1]]: h = (-1, 3), relu(h) = (0, 3); W₂ = [1, -2]: f = -6.
        // dF/dh = W₂ = (1, -2). Gradient: mask (0, 1) → (0, -2), Wᵀ₁ (0, -2) = (-2, -2).
        // Guided: max(g, 0)·mask = (0, 0) → 0. Deconvnet: max(g, 0) = (1, 0) → Wᵀ₁ (1, 0) = (1, -1).
        let net = two_layer([1.0, -1.0, 1.0, 1.0], [1.0, -2.0]);
        let x = net.image(vec![1.0, 2.0]).unwrap();
        let trace = net.forward(&x).unwrap();
        let target = TargetScore::new(&net, &trace, None, Output::Logit).unwrap();
        assert_eq!(target.score(&trace).unwrap(), -6.0);
        let map = |m| attribution(&trace, &target, m).unwrap().into_data();
        assert_eq!(map(Method::Gradient), [-2.0, -2.0]);
        assert_eq!(map(Method::Saliency), [2.0, 2.0]);
        assert_eq!(map(Method::GuidedBackprop), [0.0, 0.0]);
        assert_eq!(map(Method::Deconvnet), [1.0, -1.0]);
        assert_eq!(map(Method::GradientXInput), [-2.0, -4.0]);
        let err = attribution(&trace, &target, Method::Occlusion).unwrap_err();
        assert!(err.to_string().contains("guided-backprop"), "{err}");
    }
}
