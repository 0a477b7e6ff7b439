"""Independent PyTorch reference for convscope: the network built from a convscope manifest.

The manifest (``{"format": "convscope-manifest", "version": 1, ...}``) lists the layers in order;
this module builds them generically as a sequence of torch modules whose names are the manifest
layer names, so the state-dict keys are exactly the safetensors tensor names (``conv1.weight``,
``conv1.bias``, ..., ``fc3.bias``) and the weights load with ``load_state_dict(strict=True)``.

The network takes raw pixels ``x`` in [0, 1] (shape [N, C, H, W]) and first applies the manifest's
per-channel normalization ``(x - mean) / std``; every gradient computed by the reference scripts is
therefore taken with respect to the raw pixels (chain rule through the normalization).

ReLU backward rules can be switched for the whole network (``relu_rule``):
  * ``"gradient"``  – ordinary autograd: grad_in = grad_out * (input > 0)
  * ``"guided"``    – guided backpropagation (Springenberg et al. 2015):
                      grad_in = relu(grad_out) * (input > 0)
  * ``"deconvnet"`` – Zeiler & Fergus deconvnet: grad_in = relu(grad_out) (forward input ignored)
Max-pool backward is PyTorch's own: the gradient goes to the first maximum of each window in
row-major order (the "switches").
"""

import contextlib
import gzip
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

RELU_RULES = ("gradient", "guided", "deconvnet")


class _GuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out.clamp(min=0) * (x > 0).to(grad_out.dtype)


class _DeconvReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.clamp(min=0)


class SwitchableReLU(nn.ReLU):
    """ReLU whose backward rule is one of RELU_RULES (forward is always max(x, 0))."""

    def __init__(self):
        super().__init__()
        self.rule = "gradient"

    def forward(self, x):
        if self.rule == "gradient":
            return F.relu(x)
        if self.rule == "guided":
            return _GuidedReLU.apply(x)
        if self.rule == "deconvnet":
            return _DeconvReLU.apply(x)
        raise ValueError(f"unknown ReLU rule {self.rule!r}")


class Flatten(nn.Module):
    """[N, C, H, W] -> [N, C*H*W] in C, H, W order (torch's row-major order)."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)


class LogSoftmax(nn.Module):
    def forward(self, x):
        return F.log_softmax(x, dim=1)


def _build_layer(spec):
    kind = spec["type"]
    if kind == "conv2d":
        return nn.Conv2d(
            spec["in_channels"],
            spec["out_channels"],
            spec["kernel_size"],
            stride=spec.get("stride", 1),
            padding=spec.get("padding", 0),
        )
    if kind == "relu":
        return SwitchableReLU()
    if kind == "max_pool2d":
        return nn.MaxPool2d(spec["kernel_size"], stride=spec.get("stride", spec["kernel_size"]))
    if kind == "flatten":
        return Flatten()
    if kind == "linear":
        return nn.Linear(spec["in_features"], spec["out_features"])
    if kind == "log_softmax":
        return LogSoftmax()
    raise ValueError(f"unsupported layer type {kind!r} in manifest")


class ManifestNet(nn.Module):
    """Sequential network described by a convscope manifest, normalization included."""

    def __init__(self, manifest):
        super().__init__()
        self.manifest = manifest
        self.layer_specs = manifest["layers"]
        self.layer_names = [spec["name"] for spec in self.layer_specs]
        for spec in self.layer_specs:
            self.add_module(spec["name"], _build_layer(spec))
        norm = manifest.get("normalization", {"mean": [0.0], "std": [1.0]})
        channels = manifest["input"]["channels"]
        mean = torch.tensor(norm["mean"], dtype=torch.float64).reshape(1, channels, 1, 1)
        std = torch.tensor(norm["std"], dtype=torch.float64).reshape(1, channels, 1, 1)
        # Not part of the state dict: the safetensors file holds only the layer parameters.
        self.register_buffer("norm_mean", mean, persistent=False)
        self.register_buffer("norm_std", std, persistent=False)

    def layer(self, name):
        return getattr(self, name)

    def normalize(self, x):
        return (x - self.norm_mean) / self.norm_std

    def forward_all(self, x):
        """Returns [(name, output)] for every manifest layer, in order (input x is raw pixels)."""
        outputs = []
        h = self.normalize(x)
        for name in self.layer_names:
            h = self.layer(name)(h)
            outputs.append((name, h))
        return outputs

    def logits(self, x):
        """Output of the last layer that is not log_softmax (fc3 for LeNet-5)."""
        outputs = self.forward_all(x)
        for (name, out), spec in zip(reversed(outputs), reversed(self.layer_specs)):
            if spec["type"] != "log_softmax":
                return out
        raise ValueError("manifest has no layer before log_softmax")

    def forward(self, x):
        return self.forward_all(x)[-1][1]

    def score(self, x, target, output="logit"):
        """Target score per batch element: logit of class `target`, or its log-probability."""
        logits = self.logits(x)
        if output == "logit":
            values = logits
        elif output == "log_prob":
            values = F.log_softmax(logits, dim=1)
        else:
            raise ValueError(f"unknown output {output!r}")
        return values[:, target]

    @contextlib.contextmanager
    def relu_rule(self, rule):
        """Temporarily switches the backward rule of every ReLU."""
        if rule not in RELU_RULES:
            raise ValueError(f"unknown ReLU rule {rule!r}")
        relus = [m for m in self.modules() if isinstance(m, SwitchableReLU)]
        for m in relus:
            m.rule = rule
        try:
            yield self
        finally:
            for m in relus:
                m.rule = "gradient"


def load_manifest(path):
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("format") != "convscope-manifest":
        raise ValueError(f"{path}: not a convscope manifest")
    return manifest


def load_model(manifest_path, dtype=torch.float64, weights_path=None):
    """Builds the model from a manifest and loads its safetensors weights (strict=True).

    The weights file is the manifest's "weights" entry, relative to the manifest's directory,
    unless `weights_path` is given. Parameters are converted to `dtype` after loading.
    """
    from safetensors.torch import load_file

    manifest = load_manifest(manifest_path)
    if weights_path is None:
        weights_path = os.path.join(os.path.dirname(os.path.abspath(manifest_path)), manifest["weights"])
    model = ManifestNet(manifest)
    state = load_file(weights_path)
    model.load_state_dict(state, strict=True)
    model = model.to(dtype)
    model.eval()
    return model


def read_idx(path):
    """Reads an IDX file (optionally .gz) into a numpy array (uint8 data, big-endian dims)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size mismatch")
    return body.reshape(dims)


def load_images(path, dtype=torch.float64):
    """IDX images [N, H, W] -> tensor [N, 1, H, W] of raw pixels in [0, 1] (byte / 255)."""
    images = read_idx(path)
    return torch.from_numpy(images.astype(np.float64) / 255.0).to(dtype).unsqueeze(1)


def load_labels(path):
    return read_idx(path).astype(np.int64)


def lenet5_manifest(name, weights, mean=0.1307, std=0.3081, labels=None):
    """The LeNet-5 manifest used by convscope (28x28x1 input, 10 classes)."""
    return {
        "format": "convscope-manifest",
        "version": 1,
        "name": name,
        "input": {"channels": 1, "height": 28, "width": 28},
        "normalization": {"mean": [mean], "std": [std]},
        "labels": labels if labels is not None else [str(d) for d in range(10)],
        "layers": [
            {"name": "conv1", "type": "conv2d", "in_channels": 1, "out_channels": 6,
             "kernel_size": 5, "stride": 1, "padding": 2},
            {"name": "relu1", "type": "relu"},
            {"name": "pool1", "type": "max_pool2d", "kernel_size": 2, "stride": 2},
            {"name": "conv2", "type": "conv2d", "in_channels": 6, "out_channels": 16,
             "kernel_size": 5, "stride": 1, "padding": 0},
            {"name": "relu2", "type": "relu"},
            {"name": "pool2", "type": "max_pool2d", "kernel_size": 2, "stride": 2},
            {"name": "flatten", "type": "flatten"},
            {"name": "fc1", "type": "linear", "in_features": 400, "out_features": 120},
            {"name": "relu3", "type": "relu"},
            {"name": "fc2", "type": "linear", "in_features": 120, "out_features": 84},
            {"name": "relu4", "type": "relu"},
            {"name": "fc3", "type": "linear", "in_features": 84, "out_features": 10},
            {"name": "log_softmax", "type": "log_softmax"},
        ],
        "weights": weights,
    }
