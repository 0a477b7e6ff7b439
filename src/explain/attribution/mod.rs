//! Attribution methods: which input pixels give a class its score.
//!
//! Every method explains one *target score* `f(x)` — the pre-softmax logit `z_c` of a class `c` (default: the
//! predicted class) or, with [`Output::LogProb`], its log-probability `log_softmax(z)_c` — in terms of the raw
//! input pixels `x: [C, H, W]` (before the manifest's normalization; see [`crate::model::network`]).
//!
//! | method | map | module |
//! |---|---|---|
//! | gradient | `∂f/∂x` (Simonyan et al. 2013) | [`gradient`] |
//! | saliency | `\|∂f/∂x\|` | [`gradient`] |
//! | guided backprop | backward pass with ReLU rule `max(g, 0)·[x > 0]` (Springenberg et al. 2014) | [`gradient`] |
//! | deconvnet | backward pass with ReLU rule `max(g, 0)` (Zeiler & Fergus 2013) | [`gradient`] |
//! | gradient × input | `x ⊙ ∂f/∂x` | [`gradient`] |
//! | integrated gradients | `(x − b) ⊙ Σ_k w_k ∇f(b + α_k (x − b))`, trapezoid rule (Sundararajan et al. 2017) | [`integrated`] |
//! | SmoothGrad | mean of a gradient method over `x + N(0, σ²)` (Smilkov et al. 2017) | [`smoothgrad`] |
//! | Grad-CAM | `ReLU(Σ_k α_k A_k)` upsampled, `α_k = mean_ij ∂f/∂A_kij` (Selvaraju et al. 2017) | [`gradcam`] |
//! | guided Grad-CAM | guided backprop ⊙ upsampled Grad-CAM | [`gradcam`] |
//! | occlusion | mean drop of `f` over the windows covering a pixel when they are filled (Zeiler & Fergus 2013) | [`occlusion`] |
//!
//! Shapes: every map is `[C, H, W]` like the input, except Grad-CAM's, which is `[H, W]` (one heat map for all
//! input channels). The entry point is [`attribute`]; [`attribute_with_progress`] also reports the progress of
//! the long methods (integrated gradients, SmoothGrad, occlusion) so that a Web Worker can show it.
//!
//! The numbers follow the PyTorch/Captum conventions written down in `tests/reference/README.md` and are
//! tested against its float64 references.

pub mod gradcam;
pub mod gradient;
pub mod integrated;
pub mod job;
pub mod occlusion;
pub mod smoothgrad;

use crate::catalogue::options::{Choice, Kind, OptionSpec, Values};
use crate::catalogue::Technique;
use crate::error::{Error, Result};
use crate::layers::relu::ReluRule;
use crate::layers::softmax;
use crate::model::network::{Network, Trace};
use crate::tensor::Tensor;
pub use integrated::BATCH;
pub use job::{Job, Step};
use serde::Deserialize;
use std::str::FromStr;

/// The attribution methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Method {
    Gradient,
    Saliency,
    GuidedBackprop,
    Deconvnet,
    GradientXInput,
    IntegratedGradients,
    SmoothGrad,
    GradCam,
    GuidedGradCam,
    Occlusion,
}

impl Method {
    /// The method the page's attribution panel opens with and `convscope attribute` runs without
    /// `--method`: declared, not read from the order of [`Method::ALL`].
    pub const DEFAULT: Method = Method::IntegratedGradients;

    /// Every method, in the order the CLI and the page list them.
    pub const ALL: [Method; 10] = [
        Method::Gradient,
        Method::Saliency,
        Method::GuidedBackprop,
        Method::Deconvnet,
        Method::GradientXInput,
        Method::IntegratedGradients,
        Method::SmoothGrad,
        Method::GradCam,
        Method::GuidedGradCam,
        Method::Occlusion,
    ];

    /// The catalogue entry, declared in the method's own file.
    pub fn technique(self) -> &'static Technique {
        match self {
            Method::Gradient => &gradient::GRADIENT,
            Method::Saliency => &gradient::SALIENCY,
            Method::GuidedBackprop => &gradient::GUIDED_BACKPROP,
            Method::Deconvnet => &gradient::DECONVNET,
            Method::GradientXInput => &gradient::GRADIENT_X_INPUT,
            Method::IntegratedGradients => &integrated::TECHNIQUE,
            Method::SmoothGrad => &smoothgrad::TECHNIQUE,
            Method::GradCam => &gradcam::GRAD_CAM,
            Method::GuidedGradCam => &gradcam::GUIDED_GRAD_CAM,
            Method::Occlusion => &occlusion::TECHNIQUE,
        }
    }

    /// The catalogue id, used by the CLI, the JS API and the reference files (`"guided-backprop"`, ...).
    pub fn name(self) -> &'static str {
        self.technique().id
    }

    /// The ReLU rule of the methods that are one backward pass ([`gradient`]); `None` for the others.
    pub fn relu_rule(self) -> Option<ReluRule> {
        match self {
            Method::Gradient | Method::Saliency | Method::GradientXInput => {
                Some(ReluRule::Gradient)
            }
            Method::GuidedBackprop => Some(ReluRule::Guided),
            Method::Deconvnet => Some(ReluRule::Deconvnet),
            _ => None,
        }
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(name: &str) -> Result<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                Error::unknown("attribution method", name, &names)
            })
    }
}

impl TryFrom<String> for Method {
    type Error = Error;

    fn try_from(name: String) -> Result<Method> {
        name.parse()
    }
}

/// Which score of the target class is explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// The pre-softmax class score `z_c`.
    #[default]
    Logit,
    /// `log_softmax(z)_c`, computed from the logits (see [`TargetScore`]).
    LogProb,
}

impl Output {
    /// The option value: `"logit"` or `"log_prob"` (the values of [`OUTPUT`]).
    pub fn name(self) -> &'static str {
        match self {
            Output::Logit => OUTPUT_CHOICES[0].value,
            Output::LogProb => OUTPUT_CHOICES[1].value,
        }
    }

    fn from_name(name: &str) -> Output {
        if name == Output::LogProb.name() {
            Output::LogProb
        } else {
            Output::Logit
        }
    }
}

const OUTPUT_CHOICES: [Choice; 2] = [
    Choice {
        value: "logit",
        label: "Logit",
    },
    Choice {
        value: "log_prob",
        label: "Log-probability",
    },
];

/// The class whose score is explained (every attribution method).
pub const TARGET: OptionSpec = OptionSpec {
    key: "target",
    flag: "target",
    label: "Target class",
    help: "class to explain; empty = the predicted class",
    kind: Kind::Class,
    common: true,
    required: false,
};

/// Which score of the target class is explained (every attribution method).
pub const OUTPUT: OptionSpec = OptionSpec {
    key: "output",
    flag: "output",
    label: "Score",
    help: "the pre-softmax logit or the log-probability of the target class",
    kind: Kind::Choice {
        choices: &OUTPUT_CHOICES,
        default: "logit",
    },
    common: true,
    required: false,
};

/// The options of the methods that take no others.
pub const COMMON: [OptionSpec; 2] = [TARGET, OUTPUT];

/// The integrated-gradients baseline `b`: one raw pixel value everywhere, or a whole image.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    untagged,
    expecting = "a baseline pixel value (number) or a whole baseline image (array of C·H·W numbers)"
)]
pub enum Baseline {
    Value(f32),
    Image(Vec<f32>),
}

impl Default for Baseline {
    /// The all-black (all-zero) image.
    fn default() -> Self {
        Baseline::Value(0.0)
    }
}

impl Baseline {
    /// The baseline as an image shaped like the input `[C, H, W]`.
    pub fn image(&self, shape: [usize; 3]) -> Result<Tensor> {
        let baseline = match self {
            Baseline::Value(v) => Tensor::from_vec(&shape, vec![*v; shape.iter().product()])?,
            Baseline::Image(data) => {
                if data.len() != shape.iter().product::<usize>() {
                    return Err(Error::shape("baseline image", &shape, &[data.len()]));
                }
                Tensor::from_vec(&shape, data.clone())?
            }
        };
        baseline.check_finite("the integrated-gradients baseline")?;
        Ok(baseline)
    }
}

/// The resolved parameters of [`attribute`] for the Rust API: every method's options in one struct, each method
/// reading its own. Callers outside Rust go through a method's catalogue entry instead
/// ([`Options::from_json`], the CLI's flags), where a key the method does not have is an error; the defaults
/// and ranges are the catalogue's ([`TARGET`], [`OUTPUT`], [`integrated::STEPS`], ...). Deserializing this
/// struct directly (camelCase keys, unknown keys are an error) is kept for the reference files' options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Options {
    /// Class to explain; `None` = the predicted class.
    pub target: Option<usize>,
    pub output: Output,
    /// Integrated gradients: number of points on the path (≥ 2, default 50).
    pub steps: usize,
    /// Integrated gradients: the baseline (default: all zero).
    pub baseline: Baseline,
    /// SmoothGrad: number of noisy samples (default 50).
    pub samples: usize,
    /// SmoothGrad: noise standard deviation as a fraction of the image's value range (default 0.15).
    pub sigma: f32,
    /// SmoothGrad: noise seed (default 0).
    pub seed: u64,
    /// SmoothGrad: the gradient method that is averaged (default gradient).
    pub base: Method,
    /// Grad-CAM layer (default: the last conv layer after its ReLU, `relu2` in LeNet-5).
    pub layer: Option<String>,
    /// Occlusion: window side in pixels (default 5).
    pub window: usize,
    /// Occlusion: step between windows (default 1).
    pub stride: usize,
    /// Occlusion: raw pixel value the window is filled with (default 0).
    pub fill: f32,
}

impl Default for Options {
    /// The defaults the catalogue declares.
    fn default() -> Self {
        Options::from_values(&Values::default())
    }
}

impl Options {
    /// The parameters from options checked against a method's catalogue entry
    /// ([`Technique::values_from_json`], or the CLI's flags): what was given, the declared default otherwise.
    pub fn from_values(values: &Values) -> Options {
        let baseline = match values.floats(&integrated::BASELINE) {
            Some(image) => Baseline::Image(image.to_vec()),
            None => Baseline::Value(values.float_or_default(&integrated::BASELINE) as f32),
        };
        Options {
            target: values
                .int(&TARGET)
                .map(|c| usize::try_from(c).unwrap_or(usize::MAX)),
            output: Output::from_name(values.text_or_default(&OUTPUT)),
            steps: values.usize_or_default(&integrated::STEPS),
            baseline,
            samples: values.usize_or_default(&smoothgrad::SAMPLES),
            sigma: values.float_or_default(&smoothgrad::SIGMA) as f32,
            seed: values
                .int(&smoothgrad::SEED)
                .unwrap_or(smoothgrad::SEED.int_default()),
            base: values
                .text_or_default(&smoothgrad::BASE)
                .parse()
                .unwrap_or(Method::Gradient),
            layer: values.text(&gradcam::LAYER).map(str::to_string),
            window: values.usize_or_default(&occlusion::WINDOW),
            stride: values.usize_or_default(&occlusion::STRIDE),
            fill: values.float_or_default(&occlusion::FILL) as f32,
        }
    }

    /// The options of one call of `method` from a JS options object (`null` = none): a key the method does
    /// not have is an error naming the key and the method, and so is a value of the wrong type or range.
    pub fn from_json(method: Method, options: &serde_json::Value) -> Result<Options> {
        Ok(Options::from_values(
            &method.technique().values_from_json(options)?,
        ))
    }
}

/// The score being explained, resolved against a network and the forward pass of the input.
///
/// Both outputs are computed from the logits `z`. For [`Output::LogProb`], `f = z_c − log Σ_j exp z_j` and the
/// signal sent back from the logits is `∂f/∂z = e_c − softmax(z)`, the log-softmax backward of `e_c`
/// ([`softmax::backward`], in `f64` with `1 − p_c` formed as `Σ_{j≠c} p_j`: for a confident prediction `p_c`
/// rounds to 1, and `1 − p_c` would cancel — errors of several percent on the trained LeNet-5 in `f32`, against
/// the float64 references). Starting from the logits, log-probabilities work for any network, with or without a
/// final log-softmax layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetScore {
    pub class: usize,
    pub output: Output,
    /// Index of the layer whose output are the logits ([`Network::logits_index`]).
    pub logits: usize,
}

impl TargetScore {
    /// `class: None` picks the class `trace` predicts. Errors when the class is out of range.
    pub fn new(
        net: &Network,
        trace: &Trace,
        class: Option<usize>,
        output: Output,
    ) -> Result<TargetScore> {
        let logits = net.logits_index();
        let classes: usize = net
            .layers()
            .get(logits)
            .map_or(0, |l| l.output_shape.iter().product());
        let class = match class {
            Some(c) => c,
            None => trace.prediction().label,
        };
        if class >= classes {
            return Err(Error::out_of_range(
                "target class",
                class,
                format!(
                    "the model has {classes} classes, 0 to {}",
                    classes.saturating_sub(1)
                ),
            ));
        }
        Ok(TargetScore {
            class,
            output,
            logits,
        })
    }

    /// The logits of a forward pass of the same network.
    fn logit_values<'t>(&self, trace: &'t Trace) -> Result<&'t [f32]> {
        let z = trace.output(self.logits)?.data();
        if self.class >= z.len() {
            return Err(Error::out_of_range(
                "target class",
                self.class,
                format!("0 to {}", z.len().saturating_sub(1)),
            ));
        }
        Ok(z)
    }

    /// `f(x)` from a forward pass of the same network.
    pub fn score(&self, trace: &Trace) -> Result<f32> {
        let z = self.logit_values(trace)?;
        let zc = z[self.class]; // in range: `logit_values` checked it

        Ok(match self.output {
            Output::Logit => zc,
            Output::LogProb => (zc as f64 - log_sum_exp(z)) as f32,
        })
    }

    /// `∂f/∂z` at the logits: `e_c` for the logit, `e_c − softmax(z)` for the log-probability (the log-softmax
    /// backward of `e_c`, see [`softmax::backward`]).
    pub fn logit_gradient(&self, trace: &Trace) -> Result<Tensor> {
        let z = self.logit_values(trace)?;
        let mut seed = Tensor::zeros(&[z.len()]);
        // `seed` has one entry per logit and `logit_values` checked the class against them.
        seed.data_mut()[self.class] = 1.0;
        match self.output {
            Output::Logit => Ok(seed),
            Output::LogProb => softmax::backward(&Tensor::from_vec(&[z.len()], z.to_vec())?, &seed),
        }
    }

    /// `∂f/∂x` with respect to the raw input of `trace`, the ReLUs passing the signal by `rule`.
    pub fn input_gradient(&self, trace: &Trace, rule: ReluRule) -> Result<Tensor> {
        trace.backward(self.logits, self.logit_gradient(trace)?, rule, None, None)
    }
}

/// `log Σ_j exp z_j` in `f64`, with the maximum factored out.
fn log_sum_exp(z: &[f32]) -> f64 {
    let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    max + z.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln()
}

/// A method's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub method: Method,
    /// `[C, H, W]` like the input; `[H, W]` for Grad-CAM. Raw values (no display scaling).
    pub map: Tensor,
    /// The class explained.
    pub target: usize,
    pub output: Output,
    /// `f(x)`, the target score at the input.
    pub score: f32,
    /// Whether the map's sign means something (diverging colormap). False for saliency, Grad-CAM and
    /// SmoothGrad over saliency, which are never negative.
    pub signed: bool,
    /// Integrated gradients: `f(b)`, the score at the baseline.
    pub baseline_score: Option<f32>,
    /// Integrated gradients: `Σ map − (f(x) − f(b))`, zero for an exact path integral.
    pub completeness_gap: Option<f32>,
    /// Grad-CAM and guided Grad-CAM: the layer, the channel weights and the map before upsampling.
    pub cam: Option<gradcam::Cam>,
}

/// Runs `method` on `image` (raw pixels `[C, H, W]`).
pub fn attribute(
    net: &Network,
    image: &Tensor,
    method: Method,
    options: &Options,
) -> Result<Attribution> {
    attribute_with_progress(net, image, method, options, &mut |_, _| {})
}

/// [`attribute`], calling `progress(done, total)` after each forward/backward unit of the long methods
/// (a path point, a noisy sample, an occlusion window); the short methods do not call it.
pub fn attribute_with_progress(
    net: &Network,
    image: &Tensor,
    method: Method,
    options: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Attribution> {
    let trace = net.forward(image)?;
    let mut job = Job::start_with(&trace, method, options)?;
    job.advance(&trace, usize::MAX, progress)?;
    job.finish(&trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip_and_unknown_names_list_the_methods() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>().unwrap(), m);
        }
        let err = "grad_cam".parse::<Method>().unwrap_err().to_string();
        assert!(
            err.contains("grad-cam") && err.contains("occlusion"),
            "{err}"
        );
        assert_eq!(
            Method::ALL
                .iter()
                .filter(|m| m.relu_rule().is_some())
                .count(),
            5
        );
    }

    #[test]
    fn options_parse_from_js_style_json_with_defaults() {
        let o: Options = serde_json::from_str(
            r#"{"target": 3, "output": "log_prob", "steps": 16, "baseline": 0.5, "base": "guided-backprop",
                "layer": "pool1", "window": 6, "stride": 4, "fill": 0.5, "samples": 7, "sigma": 0.2, "seed": 9}"#,
        )
        .unwrap();
        assert_eq!(
            o,
            Options {
                target: Some(3),
                output: Output::LogProb,
                steps: 16,
                baseline: Baseline::Value(0.5),
                samples: 7,
                sigma: 0.2,
                seed: 9,
                base: Method::GuidedBackprop,
                layer: Some("pool1".into()),
                window: 6,
                stride: 4,
                fill: 0.5,
            }
        );
        let o: Options = serde_json::from_str(r#"{"baseline": [0, 0.5]}"#).unwrap();
        assert_eq!(o.baseline, Baseline::Image(vec![0.0, 0.5]));
        assert_eq!(o.steps, 50);
        assert_eq!(
            serde_json::from_str::<Options>("{}").unwrap(),
            Options::default()
        );
        let err = serde_json::from_str::<Options>(r#"{"stpes": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("stpes"), "{err}");
        let err = serde_json::from_str::<Options>(r#"{"base": "nope"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown attribution method"), "{err}");
        let err = serde_json::from_str::<Options>(r#"{"output": "prob"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("log_prob"), "{err}");
    }

    #[test]
    fn baseline_images_are_checked() {
        assert_eq!(
            Baseline::Value(0.25).image([1, 1, 2]).unwrap().data(),
            &[0.25, 0.25]
        );
        assert!(Baseline::Value(f32::NAN).image([1, 1, 2]).is_err());
        assert!(Baseline::Image(vec![0.0; 3]).image([1, 1, 2]).is_err());
        assert_eq!(
            Baseline::Image(vec![1.0, 2.0])
                .image([1, 2, 1])
                .unwrap()
                .shape(),
            &[1, 2, 1]
        );
    }
}
