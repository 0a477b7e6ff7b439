//! Grad-CAM and guided Grad-CAM (Selvaraju et al. 2017).
//!
//! For the output `A: [K, h, w]` of a layer with a C×H×W output (default: the last convolution after its
//! ReLU, `relu2` in LeNet-5):
//!
//! `α_k = (1/hw) Σ_ij ∂f/∂A_kij`, `cam = ReLU(Σ_k α_k A_k)` `[h, w]`,
//!
//! upsampled to the input's `H × W` bilinearly with PyTorch's `align_corners=False` sampling
//! ([`upsample_bilinear`]). Guided Grad-CAM is guided backprop `[C, H, W]` times the upsampled cam (broadcast
//! over the channels). The gradient `∂f/∂A` is the network's backward pass stopped at the layer.

use super::{TargetScore, COMMON};
use crate::catalogue::options::{Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::model::network::{Layer, Network, Trace};
use crate::tensor::Tensor;

/// The layer whose output is weighted.
pub const LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "a layer with a C×H×W output (a conv layer's name means the ReLU after it); empty = the last one",
    kind: Kind::Layer {
        types: &["conv2d", "relu", "max_pool2d"],
    },
    common: false,
    required: false,
};

const SELVARAJU: Paper = Paper {
    title: "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization",
    authors: "Selvaraju, Cogswell, Das, Vedantam, Parikh & Batra",
    year: 2017,
    url: "https://arxiv.org/abs/1610.02391",
};

const OPTIONS: [OptionSpec; 3] = [COMMON[0], COMMON[1], LAYER];

pub const GRAD_CAM: Technique = Technique {
    id: "grad-cam",
    label: "Grad-CAM",
    family: Family::Attribution,
    command: "attribute",
    output: OutputKind::UnsignedMap,
    long_running: false,
    stateful: None,
    summary: "A coarse heat map of where in the image the evidence for the class lies.",
    explanation: "Each channel of a late conv layer's maps is weighted by the mean gradient of the class \
                  score over it; the weighted sum, rectified, is upsampled bilinearly to the input size.",
    paper: Some(SELVARAJU),
    options: &OPTIONS,
};

pub const GUIDED_GRAD_CAM: Technique = Technique {
    id: "guided-grad-cam",
    label: "Guided Grad-CAM",
    family: Family::Attribution,
    command: "attribute",
    output: OutputKind::SignedMap,
    long_running: false,
    stateful: None,
    summary: "Guided backprop's sharp strokes, kept only where Grad-CAM finds the class.",
    explanation:
        "The guided-backprop map multiplied pixel by pixel by the upsampled Grad-CAM map: fine \
                  detail from the one, class localisation from the other.",
    paper: Some(SELVARAJU),
    options: &OPTIONS,
};

/// A class activation map before upsampling.
#[derive(Debug, Clone, PartialEq)]
pub struct Cam {
    /// Index of the layer whose output `A` was weighted.
    pub layer_index: usize,
    pub layer: String,
    /// `α_k`, one per channel of `A`.
    pub channel_weights: Vec<f32>,
    /// `ReLU(Σ_k α_k A_k)`, `[h, w]`.
    pub map: Tensor,
}

impl Cam {
    /// The map upsampled to the network's input size, `[H, W]`.
    pub fn upsampled(&self, net: &Network) -> Result<Tensor> {
        let [_, height, width] = net.input_shape();
        let (h, w) = match *self.map.shape() {
            [h, w] => (h, w),
            _ => return Err(Error::internal("a class activation map must be [h, w]")),
        };
        Tensor::from_vec(
            &[height, width],
            upsample_bilinear(self.map.data(), (h, w), (height, width))?,
        )
    }
}

/// The layer Grad-CAM weights. `None`: the last conv layer, or the ReLU right after it. A conv layer's name
/// also means the ReLU right after it (`"conv2"` → `relu2`), as the conv blocks are named after their
/// convolution; any other name must have a C×H×W output.
pub fn resolve_layer(net: &Network, name: Option<&str>) -> Result<usize> {
    let layers = net.layers();
    let index = match name {
        Some(name) => net.layer_index(name)?,
        None => layers
            .iter()
            .rposition(|l| matches!(l.layer, Layer::Conv2d { .. }))
            .ok_or_else(|| {
                Error::option(
                    LAYER.key,
                    "the model has no conv layer; give Grad-CAM a layer with a C×H×W output",
                )
            })?,
    };
    // `index` is a valid position: it comes from `layer_index` or `rposition`.
    let index = match (
        &layers[index].layer,
        layers.get(index + 1).map(|l| &l.layer),
    ) {
        (Layer::Conv2d { .. }, Some(Layer::Relu)) => index + 1,
        _ => index,
    };
    let layer = &layers[index];
    if layer.output_shape.len() != 3 {
        let candidates: Vec<&str> = layers
            .iter()
            .filter(|l| l.output_shape.len() == 3)
            .map(|l| l.name.as_str())
            .collect();
        return Err(Error::option(
            LAYER.key,
            format!(
                "Grad-CAM needs a layer with a C×H×W output, but {:?} outputs {:?}; pick one of \
                 {candidates:?}",
                layer.name, layer.output_shape
            ),
        ));
    }
    Ok(index)
}

/// Grad-CAM on the output of layer `layer` (an index; see [`resolve_layer`] for names).
pub fn grad_cam(net: &Network, trace: &Trace, layer: usize, target: &TargetScore) -> Result<Cam> {
    let named = net
        .layers()
        .get(layer)
        .ok_or_else(|| Error::internal(format!("layer index {layer} out of range")))?;
    let activation = trace.output(layer)?;
    let (_, h, w) = activation.chw()?;
    if layer >= target.logits {
        return Err(Error::option(
            LAYER.key,
            format!(
                "Grad-CAM's layer {:?} must come before the class scores",
                named.name
            ),
        ));
    }
    let grad = trace.backward(
        target.logits,
        target.logit_gradient(trace)?,
        ReluRule::Gradient,
        Some(layer),
        None,
    )?;
    let plane = h * w;
    let channel_weights: Vec<f32> = grad
        .data()
        .chunks_exact(plane)
        .map(|g| (g.iter().map(|&v| v as f64).sum::<f64>() / plane as f64) as f32)
        .collect();
    let mut weighted = vec![0.0f64; plane];
    for (&alpha, a) in channel_weights
        .iter()
        .zip(activation.data().chunks_exact(plane))
    {
        for (s, &v) in weighted.iter_mut().zip(a) {
            *s += alpha as f64 * v as f64;
        }
    }
    Ok(Cam {
        layer_index: layer,
        layer: named.name.clone(),
        channel_weights,
        map: Tensor::from_vec(
            &[h, w],
            weighted.iter().map(|&v| v.max(0.0) as f32).collect(),
        )?,
    })
}

/// Guided backprop `[C, H, W]` of the input of `trace`, each channel multiplied by the upsampled `cam`.
pub fn guided_grad_cam(
    net: &Network,
    trace: &Trace,
    cam: &Cam,
    target: &TargetScore,
) -> Result<Tensor> {
    let heat = cam.upsampled(net)?;
    let mut guided = target.input_gradient(trace, ReluRule::Guided)?;
    for channel in guided.data_mut().chunks_exact_mut(heat.len()) {
        for (g, c) in channel.iter_mut().zip(heat.data()) {
            *g *= c;
        }
    }
    Ok(guided)
}

/// Bilinear resampling of a row-major `h × w` map to `out_h × out_w`, as PyTorch's
/// `F.interpolate(mode="bilinear", align_corners=False)`: output pixel `i` samples the input at
/// `max((i + 0.5)·(h/out_h) − 0.5, 0)`, clamping the right/bottom neighbour at the border.
pub fn upsample_bilinear(
    map: &[f32],
    (h, w): (usize, usize),
    (out_h, out_w): (usize, usize),
) -> Result<Vec<f32>> {
    if h == 0 || w == 0 || out_h == 0 || out_w == 0 || map.len() != h * w {
        return Err(Error::shape("map to upsample", &[h, w], &[map.len()]));
    }
    // (lower index, upper index, weight of the upper one) along one axis.
    let taps = |n_in: usize, n_out: usize| -> Vec<(usize, usize, f32)> {
        let scale = n_in as f32 / n_out as f32;
        (0..n_out)
            .map(|i| {
                let src = (scale * (i as f32 + 0.5) - 0.5).max(0.0);
                let lo = (src as usize).min(n_in - 1);
                (lo, (lo + 1).min(n_in - 1), src - lo as f32)
            })
            .collect()
    };
    let (rows, cols) = (taps(h, out_h), taps(w, out_w));
    let mut out = Vec::with_capacity(out_h * out_w);
    for &(y0, y1, ly) in &rows {
        for &(x0, x1, lx) in &cols {
            let at = |y: usize, x: usize| map[y * w + x];
            out.push(
                (1.0 - ly) * ((1.0 - lx) * at(y0, x0) + lx * at(y0, x1))
                    + ly * ((1.0 - lx) * at(y1, x0) + lx * at(y1, x1)),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_matches_pytorch_align_corners_false() {
        // F.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode="bilinear", align_corners=False)
        let up = upsample_bilinear(&[1.0, 2.0, 3.0, 4.0], (2, 2), (4, 4)).unwrap();
        let expected = [
            1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0,
        ];
        assert_eq!(up, expected);
        // Same size is the identity; downsampling 1×4 → 1×2 averages neighbour pairs.
        let m: Vec<f32> = (0..6).map(|v| v as f32).collect();
        assert_eq!(upsample_bilinear(&m, (2, 3), (2, 3)).unwrap(), m);
        assert_eq!(
            upsample_bilinear(&[0.0, 1.0, 2.0, 3.0], (1, 4), (1, 2)).unwrap(),
            [0.5, 2.5]
        );
        // 5×5 → 28×28 (pool2 to the input): corners copy the corner values.
        let m: Vec<f32> = (0..25).map(|v| v as f32).collect();
        let up = upsample_bilinear(&m, (5, 5), (28, 28)).unwrap();
        assert_eq!((up[0], up[27], up[28 * 27 + 27]), (0.0, 4.0, 24.0));
        assert!(upsample_bilinear(&m, (5, 4), (28, 28)).is_err());
    }
}
