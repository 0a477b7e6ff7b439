#!/usr/bin/python3
"""Writes the safetensors interoperability fixtures into tests/data/ (see README.md here).

1. fixture-numpy.safetensors  – a few F32 tensors with known values written by
   `safetensors.numpy.save_file` (plus a `__metadata__` entry), and fixture-numpy.json with the
   expected names, shapes and row-major values;
   fixture-numpy-f64.safetensors – one F64 tensor (a dtype convscope does not load; error test).
2. torch-lenet-random.safetensors – a plain PyTorch LeNet-5 with torch.manual_seed(0) default
   initialisation, saved by `safetensors.torch.save_file(model.state_dict(), ...)`, its manifest
   torch-lenet-random.json, and torch-lenet-random-logits.json: the fc3 logits (computed in
   float64 from the float32 weights) for the first 5 MNIST t10k images.

Usage: /usr/bin/python3 tests/reference/make_safetensors_fixture.py [--out tests/data]
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class PlainLeNet5(nn.Module):
    """LeNet-5 written the usual PyTorch way (independent of the manifest builder in lenet.py)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):  # x already normalized
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def numpy_fixture(out_dir):
    tensors = {
        "arange": np.arange(5, dtype=np.float32),
        "matrix": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.0).astype(np.float32),
        "chw": (np.arange(24, dtype=np.float32) / 8.0).reshape(2, 3, 4).astype(np.float32),
        "oihw": (np.arange(2 * 1 * 3 * 3, dtype=np.float32) - 9.0).reshape(2, 1, 3, 3),
        "scalar": np.array(3.25, dtype=np.float32),
        "specials": np.array([0.0, -0.0, 1e-45, 3.4028235e38, -1.5, 0.1], dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    metadata = {"producer": "convscope tests/reference/make_safetensors_fixture.py", "purpose": "fixture"}
    path = os.path.join(out_dir, "fixture-numpy.safetensors")
    save_numpy(tensors, path, metadata=metadata)
    expected = {
        "file": "fixture-numpy.safetensors",
        "writer": "safetensors.numpy.save_file",
        "metadata": metadata,
        "tensors": [
            {
                "name": name,
                "dtype": "F32",
                "shape": list(array.shape),
                # float(np.float32) is exact; repr() round-trips to the same f32.
                "values": [float(v) for v in array.reshape(-1)],
            }
            for name, array in sorted(tensors.items())
        ],
    }
    with open(os.path.join(out_dir, "fixture-numpy.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    save_numpy(
        {"double": np.array([1.0, 2.0], dtype=np.float64)},
        os.path.join(out_dir, "fixture-numpy-f64.safetensors"),
    )
    for name in ("fixture-numpy.safetensors", "fixture-numpy-f64.safetensors"):
        os.chmod(os.path.join(out_dir, name), 0o644)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), fixture-numpy.json, fixture-numpy-f64.safetensors")


def torch_lenet_fixture(out_dir, images_path, count=5):
    torch.manual_seed(0)
    model = PlainLeNet5().eval()
    weights_name = "torch-lenet-random.safetensors"
    save_torch(model.state_dict(), os.path.join(out_dir, weights_name), metadata={"seed": "0"})
    os.chmod(os.path.join(out_dir, weights_name), 0o644)
    manifest = lenet.lenet5_manifest("torch-lenet-random", weights_name)
    manifest["description"] = "PyTorch LeNet-5, default init with torch.manual_seed(0); untrained (test fixture)"
    manifest_path = os.path.join(out_dir, "torch-lenet-random.json")
    with open(manifest_path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    images = lenet.load_images(images_path)[:count]  # float64 raw pixels
    mean, std = 0.1307, 0.3081
    with torch.no_grad():
        plain = model.double()(((images - mean) / std))
        reloaded = lenet.load_model(manifest_path).logits(images)
    diff = (plain - reloaded).abs().max().item()
    if diff > 1e-12:
        raise SystemExit(f"manifest model disagrees with plain PyTorch LeNet: {diff}")
    result = {
        "manifest": "torch-lenet-random.json",
        "images": os.path.relpath(images_path, REPO),
        "indices": list(range(count)),
        "dtype": "float64 forward of the float32 weights",
        "torch": torch.__version__,
        "logits": [[float(f"{v:.9g}") for v in row] for row in plain.tolist()],
        "predicted": plain.argmax(dim=1).tolist(),
    }
    with open(os.path.join(out_dir, "torch-lenet-random-logits.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"wrote {manifest_path}, {weights_name}, torch-lenet-random-logits.json (max |plain - manifest| = {diff:.1e})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "data"))
    parser.add_argument("--images", default=os.path.join(REPO, "tests", "data", "mnist", "t10k-images-idx3-ubyte.gz"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    numpy_fixture(args.out)
    torch_lenet_fixture(args.out, args.images)


if __name__ == "__main__":
    main()
