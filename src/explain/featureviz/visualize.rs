//! Activation maximization and class models (Erhan et al. 2009; Simonyan, Vedaldi & Zisserman 2013;
//! Yosinski et al. 2015; Olah, Mordvintsev & Schubert 2017): the catalogue entry of `visualize`, and the
//! options the feature-visualization techniques share, read into an [`Objective`] and [`RenderOptions`].
//! The optimizer itself is [`super::render`].
//!
//! The priors' weights default to what the objective calls for: class scores are an order of magnitude
//! larger than a channel's mean, so an objective made of class terms gets [`atlas::class_options`]' strong
//! priors (L2 100, TV 20) and the others [`atlas::unit_options`]' weak ones (L2 1, TV 0.5).

use super::atlas;
use super::objective::Objective;
use super::render::{Parameterization, RenderOptions, MAX_BATCH, MAX_STEPS};
use crate::catalogue::options::{Choice, Kind, OptionSpec, Values};
use crate::catalogue::{Family, OutputKind, Paper, Technique};
use crate::error::{Error, Result};
use crate::model::network::Network;

/// What to climb, in the CLI's notation ([`Objective::parse`]); comma-separated terms are added.
pub const OBJECTIVE: OptionSpec = OptionSpec {
    key: "objective",
    flag: "objective",
    label: "Objective",
    help: "class:K, logprob:K, LAYER:K (a channel's mean or an fc unit) or LAYER:K@Y,X; terms joined by \
           commas are added",
    kind: Kind::Text,
    common: false,
    required: true,
};

/// Minimize instead of maximize.
pub const NEGATIVE: OptionSpec = OptionSpec {
    key: "negative",
    flag: "negative",
    label: "Negative",
    help: "minimize the objective instead: the image that switches it off hardest",
    kind: Kind::Flag,
    common: false,
    required: false,
};

/// Pixels or the decorrelated Fourier basis ([`Parameterization`]).
pub const PARAM: OptionSpec = OptionSpec {
    key: "param",
    flag: "param",
    label: "Parameterization",
    help:
        "optimize the pixels, or the coefficients of a decorrelated Fourier basis (smoother images)",
    kind: Kind::Choice {
        choices: &[
            Choice {
                value: "fourier",
                label: "Fourier",
            },
            Choice {
                value: "pixel",
                label: "Pixels",
            },
        ],
        default: "fourier",
    },
    common: false,
    required: false,
};

pub const STEPS: OptionSpec = OptionSpec::int(
    "steps",
    "steps",
    "Steps",
    "Adam steps",
    [1, MAX_STEPS as u64, 256],
);
pub const LR: OptionSpec = OptionSpec::float(
    "lr",
    "lr",
    "Learning rate",
    "Adam's step size",
    [0.001, 10.0, 0.001],
    Some(0.05),
);
pub const JITTER: OptionSpec = OptionSpec::int(
    "jitter",
    "jitter",
    "Jitter",
    "largest random shift each step, in pixels",
    [0, 8, 2],
);
pub const SCALE: OptionSpec = OptionSpec::float(
    "scale",
    "scale",
    "Scale",
    "largest random change of size each step (0.1 = ±10 %)",
    [0.0, 0.5, 0.01],
    Some(0.1),
);
pub const ROTATE: OptionSpec = OptionSpec::float(
    "rotate",
    "rotate",
    "Rotate",
    "largest random rotation each step, in degrees",
    [0.0, 45.0, 1.0],
    Some(10.0),
);
pub const TV: OptionSpec = OptionSpec::float(
    "tv",
    "tv",
    "Total variation",
    "weight of the total-variation prior (empty: 20 for class objectives, 0.5 otherwise)",
    [0.0, 10_000.0, 0.01],
    None,
);
pub const L2: OptionSpec = OptionSpec::float(
    "l2",
    "l2",
    "L2 decay",
    "weight of the L2 prior (empty: 100 for class objectives, 1 otherwise)",
    [0.0, 10_000.0, 0.01],
    None,
);
pub const BLUR_EVERY: OptionSpec = OptionSpec::int(
    "blurEvery",
    "blur-every",
    "Blur every",
    "blur the image (σ 0.5 px) every k steps; 0 = never",
    [0, 10_000, 4],
);
pub const BATCH: OptionSpec = OptionSpec::int(
    "batch",
    "batch",
    "Batch",
    "images optimized together",
    [1, MAX_BATCH as u64, 1],
);
pub const DIVERSITY: OptionSpec = OptionSpec::float(
    "diversity",
    "diversity",
    "Diversity",
    "weight of the diversity term that pushes the batch's images apart (Gram matrices of the last conv \
     block's output)",
    [0.0, 10_000.0, 0.01],
    Some(0.0),
);
pub const SEED: OptionSpec =
    OptionSpec::seed("seed of the start noise and of every random transform", 1);

pub const ERHAN: Paper = Paper {
    title: "Visualizing Higher-Layer Features of a Deep Network",
    authors: "Erhan, Bengio, Courville & Vincent",
    year: 2009,
    url: "https://www.researchgate.net/publication/265022827_Visualizing_Higher-Layer_Features_of_a_Deep_Network",
};

pub const TECHNIQUE: Technique = Technique {
    id: "visualize",
    label: "Activation maximization",
    family: Family::FeatureVisualization,
    command: "visualize",
    output: OutputKind::Images,
    long_running: true,
    stateful: None,
    summary: "The input a channel, a unit or a class likes best, grown from faint noise.",
    explanation: "Gradient ascent on the pixels (Adam) from seeded noise until the objective — a conv \
                  channel's mean, one unit, an fc neuron, a class logit (Simonyan et al. 2013's class \
                  models) or a sum of them — is as high as it gets, with the priors that keep the image \
                  natural (Yosinski et al. 2015): L2 decay, total variation, a blur every few steps, \
                  clipping to [0, 1], and random jitter, scaling and rotation each step; the decorrelated \
                  Fourier basis of Olah, Mordvintsev & Schubert (Distill 2017) makes smoother images than \
                  plain pixels. A batch with a diversity term shows several different preferred inputs.",
    paper: Some(ERHAN),
    options: &[
        OBJECTIVE, NEGATIVE, PARAM, STEPS, LR, JITTER, SCALE, ROTATE, TV, L2, BLUR_EVERY, BATCH,
        DIVERSITY, SEED,
    ],
};

/// The objective of an option text: terms `class:K`, `logprob:K`, `L:K`, `L:K@Y,X` joined by commas and
/// added, negated when `negative`.
pub fn objective(net: &Network, spec: &str, negative: bool) -> Result<Objective> {
    let mut terms = spec
        .split(',')
        .map(|term| Objective::parse(term.trim(), net));
    let first = terms
        .next()
        .ok_or_else(|| Error::option("objective", "is empty"))??;
    let sum = terms.try_fold(first, |sum, term| Ok::<_, Error>(sum + term?))?;
    Ok(if negative { -sum } else { sum })
}

/// Whether every term of an objective text is a class term (class images take the strong priors).
pub fn is_class_objective(spec: &str) -> bool {
    spec.split(',')
        .all(|term| matches!(term.trim().split_once(':'), Some(("class" | "logprob", _))))
}

/// `base` with the render options of `values` that were given (those of [`TECHNIQUE`] that the
/// technique reading them has).
pub fn render_options(mut base: RenderOptions, values: &Values) -> RenderOptions {
    if let Some(seed) = values.int(&SEED) {
        base.seed = seed;
    }
    if values.has(&PARAM) {
        base.param = match values.text_or_default(&PARAM) {
            "pixel" => Parameterization::Pixels,
            _ => Parameterization::Fourier { decay: 1.0 },
        };
    }
    let count =
        |spec: &OptionSpec, default: usize| values.int(spec).map_or(default, |v| v as usize);
    base.steps = count(&STEPS, base.steps);
    base.batch = count(&BATCH, base.batch);
    base.transforms.jitter = count(&JITTER, base.transforms.jitter);
    base.regularizers.blur_every = count(&BLUR_EVERY, base.regularizers.blur_every);
    let weight = |spec: &OptionSpec, default: f32| values.float(spec).map_or(default, |v| v as f32);
    base.lr = weight(&LR, base.lr);
    base.transforms.scale = weight(&SCALE, base.transforms.scale);
    base.transforms.rotate = weight(&ROTATE, base.transforms.rotate);
    base.regularizers.tv = weight(&TV, base.regularizers.tv);
    base.regularizers.norm = weight(&L2, base.regularizers.norm);
    base
}

/// The objective and options of a `visualize` call from its checked options.
pub fn from_values(net: &Network, values: &Values) -> Result<(Objective, RenderOptions)> {
    let spec = values.text(&OBJECTIVE).ok_or_else(|| {
        Error::option(
            "objective",
            "visualize needs an objective, e.g. class:3 or conv2:5",
        )
    })?;
    let mut objective = objective(net, spec, values.flag(&NEGATIVE))?;
    let seed = values.int(&SEED).unwrap_or(SEED.int_default());
    let base = if is_class_objective(spec) {
        atlas::class_options(seed)
    } else {
        atlas::unit_options(seed)
    };
    let diversity = values.float_or_default(&DIVERSITY);
    if diversity > 0.0 {
        objective = objective + diversity * Objective::diversity(&diversity_layer(net)?);
    }
    Ok((objective, render_options(base, values)))
}

/// The layer the diversity term compares: the last layer of the network's conv prefix.
fn diversity_layer(net: &Network) -> Result<String> {
    let prefix = net.conv_prefix();
    prefix
        .checked_sub(1)
        .map(|last| net.layers()[last].name.clone())
        .ok_or_else(|| Error::option("diversity", "the network has no conv layers to compare"))
}
