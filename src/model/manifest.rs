//! The model manifest: architecture, input shape, normalization, labels and the weights file, as JSON.
//!
//! ```json
//! { "format": "convscope-manifest", "version": 1, "name": "lenet5-mnist",
//!   "input": {"channels": 1, "height": 28, "width": 28},
//!   "normalization": {"mean": [0.1307], "std": [0.3081]},
//!   "labels": ["0", "1", ...],
//!   "layers": [ {"name": "conv1", "type": "conv2d", "in_channels": 1, "out_channels": 6, "kernel_size": 5, "padding": 2},
//!               {"name": "relu1", "type": "relu"}, {"name": "pool1", "type": "max_pool2d", "kernel_size": 2},
//!               ..., {"name": "flatten", "type": "flatten"},
//!               {"name": "fc1", "type": "linear", "in_features": 400, "out_features": 120}, ...,
//!               {"name": "log_softmax", "type": "log_softmax"} ],
//!   "weights": "lenet5-mnist.safetensors",
//!   "dataset": {...}, "metrics": {...}, "training": {...} }
//! ```
//! Layers with parameters read `{name}.weight` and `{name}.bias` from the weights file (PyTorch's state_dict
//! names when the layer names are the module's attribute names). Fields convscope does not interpret
//! (dataset, metrics, training, monitor, ...) are kept as they are and written back unchanged.

use crate::error::{Error, Result};
use crate::layers::conv2d::Conv2dParams;
use crate::layers::linear::LinearParams;
use crate::layers::pool::PoolParams;
use crate::layers::Layer;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "convscope-manifest";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default = "format_name")]
    pub format: String,
    #[serde(default = "version_one")]
    pub version: u32,
    pub name: String,
    pub input: InputShape,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
    #[serde(default)]
    pub labels: Vec<String>,
    pub layers: Vec<LayerSpec>,
    /// Path of the `.safetensors` file, relative to the manifest.
    pub weights: String,
    /// Everything else (dataset, metrics, training, monitor, ...), preserved on round trips.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn format_name() -> String {
    FORMAT.to_string()
}
fn version_one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

/// Per-channel `(x − mean) / std`, applied to the raw `[0, 1]` pixels before the first layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// One entry of the manifest's `layers`: a name and the layer, as `{"name": ..., "type": ..., params...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSpec {
    pub name: String,
    #[serde(flatten)]
    pub layer: Layer,
}

/// Errors when a layer's `"type"` is not a string: serde reads a number there as the index of a variant
/// (`"type": 5` would be the sixth layer type), which no manifest means.
fn check_layer_types(text: &str) -> Result<()> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::manifest(format!("not a valid manifest: {e}")))?;
    let layers = value.get("layers").and_then(|l| l.as_array());
    for (i, layer) in layers.into_iter().flatten().enumerate() {
        match layer.get("type") {
            Some(t) if !t.is_string() => {
                return Err(Error::manifest(format!(
                    "layer {} has \"type\": {t}; a type is a name such as \"conv2d\" or \"relu\"",
                    i + 1
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

impl Manifest {
    /// Parses manifest JSON; the network checks the architecture when it is built.
    pub fn parse(text: &str) -> Result<Manifest> {
        // A byte-order mark is not JSON, but some editors write one.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        check_layer_types(text)?;
        let manifest: Manifest = serde_json::from_str(text)
            .map_err(|e| Error::manifest(format!("not a valid manifest: {e}")))?;
        if manifest.format != FORMAT {
            return Err(Error::manifest(format!(
                "\"format\" is {:?}, expected {FORMAT:?}",
                manifest.format
            )));
        }
        if manifest.version != 1 {
            return Err(Error::manifest(format!(
                "version {} is not supported (this convscope reads version 1)",
                manifest.version
            )));
        }
        Ok(manifest)
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::manifest(e.to_string()))
    }

    /// The LeNet-5 of the brief for a `channels × height × width` input and `classes` outputs:
    /// conv 6@5×5 pad 2 → ReLU → max-pool 2 → conv 16@5×5 → ReLU → max-pool 2 → fc 120 → ReLU → fc 84 → ReLU →
    /// fc classes → log-softmax. For 28×28 inputs fc1 has 16·5·5 = 400 inputs.
    pub fn lenet5(name: &str, input: InputShape, labels: Vec<String>) -> Result<Manifest> {
        let c2 = Conv2dParams {
            in_channels: 6,
            out_channels: 16,
            kernel_size: 5,
            stride: 1,
            padding: 0,
        };
        let c1 = Conv2dParams {
            in_channels: input.channels,
            out_channels: 6,
            kernel_size: 5,
            stride: 1,
            padding: 2,
        };
        let pool = PoolParams {
            kernel_size: 2,
            stride: Some(2),
        };
        let (h, w) = c1.out_dims(input.height, input.width)?;
        let (h, w) = pool.out_dims(h, w)?;
        let (h, w) = c2.out_dims(h, w)?;
        let (h, w) = pool.out_dims(h, w)?;
        let flat = 16 * h * w;
        let layer = |name: &str, layer| LayerSpec {
            name: name.to_string(),
            layer,
        };
        Ok(Manifest {
            format: format_name(),
            version: 1,
            name: name.to_string(),
            input,
            normalization: None,
            layers: vec![
                layer("conv1", Layer::conv2d(c1)),
                layer("relu1", Layer::Relu),
                layer("pool1", Layer::MaxPool2d(pool)),
                layer("conv2", Layer::conv2d(c2)),
                layer("relu2", Layer::Relu),
                layer("pool2", Layer::MaxPool2d(pool)),
                layer("flatten", Layer::Flatten),
                layer(
                    "fc1",
                    Layer::linear(LinearParams {
                        in_features: flat,
                        out_features: 120,
                    }),
                ),
                layer("relu3", Layer::Relu),
                layer(
                    "fc2",
                    Layer::linear(LinearParams {
                        in_features: 120,
                        out_features: 84,
                    }),
                ),
                layer("relu4", Layer::Relu),
                layer(
                    "fc3",
                    Layer::linear(LinearParams {
                        in_features: 84,
                        out_features: labels.len(),
                    }),
                ),
                layer("log_softmax", Layer::LogSoftmax),
            ],
            labels,
            weights: format!("{name}.safetensors"),
            extra: serde_json::Map::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenet5_round_trips_through_json_and_keeps_extra_fields() {
        let labels = (0..10).map(|i| i.to_string()).collect();
        let mut m = Manifest::lenet5(
            "t",
            InputShape {
                channels: 1,
                height: 28,
                width: 28,
            },
            labels,
        )
        .unwrap();
        m.extra
            .insert("metrics".into(), serde_json::json!({"test_accuracy": 0.99}));
        let text = m.to_json().unwrap();
        assert!(text.contains("\"type\": \"max_pool2d\""));
        let back = Manifest::parse(&text).unwrap();
        assert_eq!(back, m);
        assert!(matches!(
            back.layers[7].layer,
            Layer::Linear {
                params: LinearParams {
                    in_features: 400,
                    out_features: 120
                },
                ..
            }
        ));
    }

    #[test]
    fn bad_manifests_are_clear_errors() {
        let err = Manifest::parse("{").unwrap_err().to_string();
        assert!(err.contains("bad model manifest"), "{err}");
        let err = Manifest::parse(r#"{"name":"x","input":{"channels":1,"height":2,"width":2},"layers":[{"name":"a","type":"dropout"}],"weights":"w"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("dropout"), "{err}");
        let err = Manifest::parse(r#"{"format":"other","name":"x","input":{"channels":1,"height":2,"width":2},"layers":[],"weights":"w"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("format"), "{err}");
    }

    #[test]
    fn numeric_layer_types_are_refused_and_a_byte_order_mark_is_accepted() {
        let text = |kind: &str| {
            format!(
                r#"{{"name":"x","input":{{"channels":1,"height":2,"width":2}},"layers":[{{"name":"a","type":{kind}}}],"weights":"w"}}"#
            )
        };
        // Serde alone reads 5 as the sixth variant (log_softmax).
        let err = Manifest::parse(&text("5")).unwrap_err().to_string();
        assert!(err.contains("layer 1 has \"type\": 5"), "{err}");
        assert!(Manifest::parse(&text("null")).is_err());
        let relu = Manifest::parse(&text("\"relu\"")).unwrap();
        assert_eq!(relu.layers[0].layer, Layer::Relu);
        let with_bom = format!("\u{feff}{}", text("\"relu\""));
        assert_eq!(Manifest::parse(&with_bom).unwrap(), relu);
    }
}
