//! The catalogue entries of the Gram matrix view, texture synthesis and style transfer, and the reading of
//! their checked options into [`SynthesisOptions`] (the CLI and the bindings share it).

use super::features::FeatureNet;
use super::loss::StyleTarget;
use super::synthesis::{StartFrom, SynthesisOptions, MAX_SIDE};
use crate::catalogue::options::{Choice, Item, Kind, OptionSpec, Values};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::explain::featureviz::render::MAX_STEPS;
use crate::explain::gram::gram;
use crate::model::network::Network;
use crate::tensor::Tensor;

const GATYS_2015: Paper = Paper {
    title: "Texture Synthesis Using Convolutional Neural Networks",
    authors: "Gatys, Ecker & Bethge",
    year: 2015,
    url: "https://arxiv.org/abs/1505.07376",
};

const GATYS_2016: Paper = Paper {
    title: "Image Style Transfer Using Convolutional Neural Networks",
    authors: "Gatys, Ecker & Bethge",
    year: 2016,
    url: "https://openaccess.thecvf.com/content_cvpr_2016/html/Gatys_Image_Style_Transfer_CVPR_2016_paper.html",
};

/// The layer whose Gram matrix is shown.
pub const GRAM_LAYER: OptionSpec = OptionSpec {
    key: "layer",
    flag: "layer",
    label: "Layer",
    help: "a layer of the conv prefix (conv, ReLU or max-pool), by name",
    kind: Kind::Layer {
        types: &["conv2d", "relu", "max_pool2d"],
    },
    common: false,
    required: true,
};

pub const GRAM: Technique = Technique {
    id: "gram",
    label: "Gram matrix",
    family: Family::Texture,
    command: "gram",
    output: OutputKind::Matrix,
    long_running: false,
    stateful: None,
    summary: "Which channels of a layer fire together in this image, wherever they fire: its style.",
    explanation: "G = F Fᵀ / (H·W) of a layer's C × HW feature matrix F: entry (i, j) is the mean over all \
                  positions of channel i times channel j. Where things are is averaged away; what stays is \
                  which features co-occur, the texture statistics that texture synthesis and style transfer \
                  match.",
    paper: Some(GATYS_2015),
    options: &[GRAM_LAYER],
};

const NETS: &[Choice] = &[
    Choice {
        value: "random",
        label: "random multi-scale network (RGB)",
    },
    Choice {
        value: "model",
        label: "the loaded model (grayscale)",
    },
];

pub const NET: OptionSpec = OptionSpec {
    key: "net",
    flag: "net",
    label: "Network",
    help: "whose features describe the style: the built-in random network (RGB) or the loaded model (luminance)",
    kind: Kind::Choice {
        choices: NETS,
        default: "random",
    },
    common: true,
    required: false,
};

pub const STEPS: OptionSpec = OptionSpec {
    key: "steps",
    flag: "steps",
    label: "Steps",
    help: "optimizer steps (Adam on the pixels)",
    kind: Kind::Int {
        min: 0,
        max: Some(MAX_STEPS as u64),
        default: Some(200),
    },
    common: true,
    required: false,
};

pub const SEED: OptionSpec = OptionSpec {
    common: true,
    ..OptionSpec::seed("seed of the start noise", 1)
};

pub const LR: OptionSpec = OptionSpec {
    key: "lr",
    flag: "lr",
    label: "Learning rate",
    help: "Adam's step size, in pixel units",
    kind: Kind::Float {
        min: 1e-4,
        max: 10.0,
        step: 0.01,
        default: Some(0.05),
        per_pixel: false,
    },
    common: true,
    required: false,
};

pub const LAYER_WEIGHTS: OptionSpec = OptionSpec {
    key: "layerWeights",
    flag: "layer-weights",
    label: "Layer weights",
    help: "the weight of each style layer (default 1 each)",
    kind: Kind::List {
        item: Item::Number {
            min: 0.0,
            max: 1e6,
            whole: false,
        },
        len: None,
    },
    common: true,
    required: false,
};

pub const SIZE: OptionSpec = OptionSpec {
    key: "size",
    flag: "size",
    label: "Size",
    help: "height and width of the texture (default: the style image's)",
    kind: Kind::List {
        item: Item::Number {
            min: 1.0,
            max: MAX_SIDE as f64,
            whole: true,
        },
        len: Some(2),
    },
    common: false,
    required: false,
};

pub const TEXTURE_LAYERS: OptionSpec = OptionSpec {
    key: "layers",
    flag: "layers",
    label: "Style layers",
    help: "the layers whose Gram matrices are matched (default: every ReLU and max-pool of the conv prefix; \
           through the random network its maps, `random`)",
    kind: Kind::List {
        item: Item::Layer,
        len: None,
    },
    common: false,
    required: false,
};

pub const TEXTURE: Technique = Technique {
    id: "texture",
    label: "Texture synthesis",
    family: Family::Texture,
    command: "texture",
    output: OutputKind::Volume,
    long_running: true,
    stateful: None,
    summary: "A new image with the style image's texture: the same features co-occur, nowhere in the same place.",
    explanation: "Starting from seeded uniform noise in [0, 1], the pixels are optimized (Adam) until the Gram \
                  matrices of the chosen layers match the style image's: the relative style loss \
                  Σ_l w_l ‖G_l − Ĝ_l‖² / ‖Ĝ_l‖². Through the loaded model (luminance) or a built-in network \
                  of 128 random filters at 3, 5, 7 and 11 px (RGB), which Ustyuzhaninov et al. (2017) found \
                  synthesizes natural textures about as well as a trained VGG.",
    paper: Some(GATYS_2015),
    options: &[NET, SIZE, TEXTURE_LAYERS, LAYER_WEIGHTS, STEPS, SEED, LR],
};

pub const STYLE_LAYERS: OptionSpec = OptionSpec {
    key: "styleLayers",
    flag: "style-layers",
    label: "Style layers",
    help: "the layers whose Gram matrices are matched (default: the style layers below the content layer; \
           through the random network its maps, `random`)",
    kind: Kind::List {
        item: Item::Layer,
        len: None,
    },
    common: false,
    required: false,
};

pub const CONTENT_LAYER: OptionSpec = OptionSpec {
    key: "contentLayer",
    flag: "content-layer",
    label: "Content layer",
    help: "the layer whose features keep the content (default: the last ReLU of the conv prefix; through the \
           random network `random-coarse`, its 7 and 11 px maps averaged over 8 × 8 blocks, coarser than the \
           style's `random`)",
    kind: Kind::Layer {
        types: &["conv2d", "relu", "max_pool2d"],
    },
    common: false,
    required: false,
};

pub const CONTENT_WEIGHT: OptionSpec = OptionSpec {
    key: "contentWeight",
    flag: "content-weight",
    label: "Content weight α",
    help: "weight of the relative content loss",
    kind: Kind::Float {
        min: 0.0,
        max: 1e6,
        step: 0.1,
        default: Some(1.0),
        per_pixel: false,
    },
    common: false,
    required: false,
};

pub const STYLE_WEIGHT: OptionSpec = OptionSpec {
    key: "styleWeight",
    flag: "style-weight",
    label: "Style weight β",
    help: "weight of the relative style loss (default: 1 through the model, 3 through the random network)",
    kind: Kind::Float {
        min: 0.0,
        max: 1e6,
        step: 0.1,
        default: None,
        per_pixel: false,
    },
    common: false,
    required: false,
};

const STARTS: &[Choice] = &[
    Choice {
        value: "content",
        label: "the content image",
    },
    Choice {
        value: "noise",
        label: "seeded noise",
    },
];

pub const START: OptionSpec = OptionSpec {
    key: "start",
    flag: "start",
    label: "Start from",
    help: "where the optimization starts",
    kind: Kind::Choice {
        choices: STARTS,
        default: "content",
    },
    common: false,
    required: false,
};

pub const STYLE: Technique = Technique {
    id: "style-transfer",
    label: "Style transfer",
    family: Family::Texture,
    command: "style",
    output: OutputKind::Volume,
    long_running: true,
    stateful: None,
    summary: "The content image painted in the style image's texture.",
    explanation: "The pixels are optimized (Adam) to minimize α·‖F − F̂‖²/‖F̂‖², the relative error of the \
                  content layer's features against the content image's, plus β times the relative Gram \
                  style loss of the style layers against the style image's, starting from the content image \
                  or noise. Deep layers keep the layout, shallow layers' Gram matrices carry the texture.",
    paper: Some(GATYS_2016),
    options: &[
        NET,
        CONTENT_LAYER,
        STYLE_LAYERS,
        LAYER_WEIGHTS,
        CONTENT_WEIGHT,
        STYLE_WEIGHT,
        START,
        STEPS,
        SEED,
        LR,
    ],
};

/// Which network a texture or transfer runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Model,
    Random,
}

/// The `net` option.
pub fn net_from(values: &Values) -> Net {
    match values.text_or_default(&NET) {
        "model" => Net::Model,
        _ => Net::Random,
    }
}

/// The [`SynthesisOptions`] of `technique`'s checked option values.
pub fn options_from(values: &Values, technique: &Technique) -> Result<SynthesisOptions> {
    let mut options = SynthesisOptions::new(values.int(&SEED).unwrap_or(SEED.int_default()));
    options.steps = values.usize_or_default(&STEPS);
    options.lr = values.float_or_default(&LR) as f32;
    options.layer_weights = values.floats(&LAYER_WEIGHTS).map(<[f32]>::to_vec);
    if technique.id == TEXTURE.id {
        options.style_layers = values.texts(&TEXTURE_LAYERS).map(<[String]>::to_vec);
        options.size = values.floats(&SIZE).map(|s| (s[0] as usize, s[1] as usize));
    } else {
        options.style_layers = values.texts(&STYLE_LAYERS).map(<[String]>::to_vec);
        options.content_layer = values.text(&CONTENT_LAYER).map(str::to_string);
        options.content_weight = values.float_or_default(&CONTENT_WEIGHT) as f32;
        options.style_weight = values.float(&STYLE_WEIGHT).map(|w| w as f32);
        options.start = match values.text_or_default(&START) {
            "noise" => StartFrom::Noise,
            _ => StartFrom::Content,
        };
    }
    Ok(options)
}

/// The Gram matrix `[C, C]` of `layer`'s output (a layer of the conv prefix) for `image` (`[C, H, W]` at any
/// size the prefix accepts).
pub fn gram_of(net: &Network, image: &Tensor, layer: &str) -> Result<Tensor> {
    let index = net.layer_index(layer)?;
    if index >= net.conv_prefix() {
        return Err(Error::option(
            GRAM_LAYER.key,
            format!(
                "{layer} is not in the conv prefix: a Gram matrix needs a layer with feature maps"
            ),
        ));
    }
    let trace = net.forward_prefix(image, index)?;
    gram(&trace.outputs()[index])
}

/// The relative style distance `‖G − Ĝ‖²_F / ‖Ĝ‖²_F` at `layer` between `image` and `reference` (either
/// size the prefix accepts; `Ĝ` is the reference's Gram matrix).
pub fn style_distance(
    net: &Network,
    image: &Tensor,
    reference: &Tensor,
    layer: &str,
) -> Result<f64> {
    let features = FeatureNet::model(net, &[layer.to_string()])?;
    let names = [layer.to_string()];
    let target = StyleTarget::new(&features.forward(reference)?.maps, &[1.0], &names)?;
    let distances = target.distances(&features.forward(image)?.maps)?;
    distances
        .first()
        .copied()
        .ok_or_else(|| Error::internal("no style distance"))
}
