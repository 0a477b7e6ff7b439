//! Building a network: from a manifest and a safetensors file, strictly (like PyTorch's
//! `load_state_dict(strict=True)`: a missing or unexpected tensor is an error, and so is a wrong shape or a
//! value outside the stated bound), or freshly initialised for training.

use crate::error::{Error, Result};
use crate::io::safetensors::{self, SafeTensors};
use crate::model::manifest::Manifest;
use crate::model::network::{NamedLayer, Network};
use crate::rng::Rng;
use std::path::Path;

/// The largest weight or bias magnitude a weights file may hold. Trained LeNet-5 weights stay below 2; a
/// value near `f32::MAX` only produces overflow or finite nonsense.
pub const MAX_ABS_WEIGHT: f32 = 1e4;

/// Takes `{name}.{suffix}` of `layer` from `weights`, checking its shape and values.
fn fetch(
    weights: &SafeTensors,
    layer: &NamedLayer,
    suffix: &str,
    shape: &[usize],
) -> Result<Vec<f32>> {
    let key = format!("{}.{suffix}", layer.name);
    let t = weights.get(&key).ok_or_else(|| {
        Error::weights(format!(
            "tensor {key:?} is missing (layer {:?} needs it)",
            layer.name
        ))
    })?;
    if t.shape() != shape {
        return Err(Error::weights(format!(
            "tensor {key:?} has shape {:?}, the manifest needs {shape:?}",
            t.shape()
        )));
    }
    if !t.data().iter().all(|v| v.is_finite()) {
        return Err(Error::weights(format!(
            "tensor {key:?} contains NaN or infinite values"
        )));
    }
    if let Some(v) = t.data().iter().find(|v| v.abs() > MAX_ABS_WEIGHT) {
        return Err(Error::weights(format!(
            "tensor {key:?} holds {v:e}, beyond the bound |w| ≤ {MAX_ABS_WEIGHT:e}"
        )));
    }
    Ok(t.data().to_vec())
}

impl Network {
    /// Builds the network and takes `{name}.weight` / `{name}.bias` for every layer with parameters; like
    /// PyTorch's `load_state_dict(strict=True)`, a missing or unexpected tensor is an error, and so is a wrong
    /// shape, a non-finite value or one beyond [`MAX_ABS_WEIGHT`].
    pub fn new(manifest: Manifest, weights: &SafeTensors) -> Result<Network> {
        let mut net = Network::skeleton(manifest)?;
        let mut used = 0;
        for l in net.layers_mut() {
            let Some(shapes) = l.layer.param_shapes()? else {
                continue;
            };
            let w = fetch(weights, l, "weight", &shapes.weight)?;
            let b = fetch(weights, l, "bias", &[shapes.bias])?;
            if let Some((weight, bias)) = l.layer.params_mut() {
                *weight = w;
                *bias = b;
            }
            used += 2;
        }
        if used != weights.tensors.len() {
            let expected = |n: &str| {
                net.layers().iter().any(|l| {
                    l.layer.params().is_some()
                        && (n == format!("{}.weight", l.name) || n == format!("{}.bias", l.name))
                })
            };
            let unexpected: Vec<&str> = weights
                .tensors
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !expected(n))
                .collect();
            return Err(Error::weights(format!(
                "unexpected tensors {unexpected:?}: the manifest has no layer for them"
            )));
        }
        Ok(net)
    }

    /// Builds a network from manifest JSON and safetensors bytes (what the page fetches).
    pub fn from_bytes(manifest_json: &str, weights: &[u8]) -> Result<Network> {
        Network::new(
            Manifest::parse(manifest_json)?,
            &safetensors::parse(weights)?,
        )
    }

    /// Loads a manifest file and the weights file it names, through the manifest-relative resolver
    /// ([`crate::io::files`]): the weights must lie inside the manifest's folder, be a regular file and stay
    /// under the size cap; errors never echo file contents.
    pub fn load(manifest_path: &Path) -> Result<Network> {
        use crate::io::files::{read_text, ManifestDir, MAX_MANIFEST_BYTES, MAX_WEIGHTS_BYTES};
        let manifest = Manifest::parse(&read_text(manifest_path, MAX_MANIFEST_BYTES)?)?;
        let bytes = ManifestDir::of(manifest_path)?.read(
            "weights",
            &manifest.weights,
            MAX_WEIGHTS_BYTES,
        )?;
        Network::new(manifest, &safetensors::parse(&bytes)?)
    }

    /// A freshly initialised network, as PyTorch initialises `nn.Conv2d` and `nn.Linear`: weights and biases
    /// uniform in `±1/√fan_in` (Kaiming-uniform with a = √5).
    pub fn init_random(manifest: Manifest, seed: u64) -> Result<Network> {
        let mut net = Network::skeleton(manifest)?;
        let mut rng = Rng::new(seed);
        for l in net.layers_mut() {
            let Some(shapes) = l.layer.param_shapes()? else {
                continue;
            };
            let bound = 1.0 / (shapes.fan_in as f32).sqrt();
            let mut draw = |n: usize| {
                (0..n)
                    .map(|_| (2.0 * rng.uniform() - 1.0) * bound)
                    .collect::<Vec<f32>>()
            };
            let (w, b) = (draw(shapes.weight.iter().product()), draw(shapes.bias));
            if let Some((weight, bias)) = l.layer.params_mut() {
                *weight = w;
                *bias = b;
            }
        }
        Ok(net)
    }
}
