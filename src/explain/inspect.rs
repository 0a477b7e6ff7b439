//! The views of the network itself: its prediction, every layer's output (activations) and its weights
//! (filters), with their catalogue entries. The work is the forward pass ([`Network::forward`]); this file
//! picks out what each view shows.

use crate::catalogue::options::{Kind, OptionSpec};
use crate::catalogue::{Family, OutputKind, Technique};
use crate::error::{Error, Result};
use crate::model::network::{Layer, Network};
use crate::tensor::Tensor;

pub const PREDICTION: Technique = Technique {
    id: "predict",
    label: "Prediction",
    family: Family::Prediction,
    command: "predict",
    output: OutputKind::Table,
    long_running: false,
    stateful: None,
    summary: "The class the network picks, with its probability and every class's score.",
    explanation:
        "One forward pass: the logits of the last linear layer and their softmax probabilities; \
                  the label is the class with the largest logit.",
    paper: None,
    options: &[],
};

/// The layer whose output is shown.
pub const ACTIVATIONS_LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "the layer whose output is shown, by name (the CLI also takes its 1-based number)",
    kind: Kind::Layer { types: &[] },
    common: false,
    required: true,
};

pub const ACTIVATIONS: Technique = Technique {
    id: "activations",
    label: "Layer activations",
    family: Family::Activations,
    command: "activations",
    output: OutputKind::Volume,
    long_running: false,
    stateful: None,
    summary: "What each channel of a layer responds to in this image: bright = strong response.",
    explanation:
        "The output of one layer of the forward pass, channel by channel: a conv layer's feature \
                  maps before the ReLU, after it, after pooling, or a linear layer's units.",
    paper: None,
    options: &[ACTIVATIONS_LAYER],
};

/// The layer whose weights are shown.
pub const FILTERS_LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "a conv2d or linear layer, by name",
    kind: Kind::Layer {
        types: &["conv2d", "linear"],
    },
    common: false,
    required: true,
};

pub const FILTERS: Technique = Technique {
    id: "filters",
    label: "Filters",
    family: Family::Filters,
    command: "filters",
    output: OutputKind::Matrix,
    long_running: false,
    stateful: None,
    summary: "The learned weights of a layer: each conv kernel as a small image, red positive, blue negative.",
    explanation: "A conv layer's kernels (out channels × in channels × height × width) or a linear layer's \
                  weight matrix (outputs × inputs), as stored in the weights file; they do not depend on \
                  the image.",
    paper: None,
    options: &[FILTERS_LAYER],
};

/// The weights of the layer called `layer`: OIHW for conv2d, `[out, in]` for linear.
pub fn filters(net: &Network, layer: &str) -> Result<Tensor> {
    let index = net.layer_index(layer)?;
    let named = net
        .layers()
        .get(index)
        .ok_or_else(|| Error::internal(format!("layer index {index} out of range")))?;
    match &named.layer {
        Layer::Conv2d { params, weight, .. } => {
            Tensor::from_vec(&params.weight_shape(), weight.clone())
        }
        Layer::Linear { params, weight, .. } => {
            Tensor::from_vec(&params.weight_shape(), weight.clone())
        }
        _ => Err(Error::option(
            FILTERS_LAYER.key,
            format!("layer {layer:?} has no filters; pick a conv2d or linear layer"),
        )),
    }
}
