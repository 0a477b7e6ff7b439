#!/usr/bin/env python3
"""Independent float64 PyTorch reference for convscope's Gram matrices (issue 16).

For the shipped MNIST model (www/models/lenet5-mnist.json, built by lenet.py from the manifest, not from
convscope's code) and inputs

  * t10k images 0, 1 and 2 at 28 x 28, and
  * a 56 x 56 mosaic of t10k images 3, 4, 5 and 6 (2 x 2, row-major), through the conv prefix,

writes, for every layer of the conv prefix (conv1 ... pool2), the Gram matrix G = F F^T / (H W) of the
layer's [C, H, W] output (F = its C x HW matrix), and the relative style distance
||G(a) - G(b)||_F^2 / ||G(b)||_F^2 between images 0 (a) and 1 (b) at each layer, to
tests/reference/texture-gram.json. tests/texture.rs compares convscope's to 1e-5 relative.

Usage (from the repository root): /usr/bin/python3 tests/reference/texture_check.py
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PREFIX = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2")


def grams(model, x):
    """{layer: G as a list of rows} for the conv-prefix layers of x [1, 1, H, W]."""
    out = {}
    h = model.normalize(x)
    for name in PREFIX:
        h = model.layer(name)(h)
        c = h.shape[1]
        f = h.reshape(c, -1)
        out[name] = (f @ f.T / f.shape[1]).tolist()
    return out


def main():
    model = lenet.load_model(os.path.join(ROOT, "www/models/lenet5-mnist.json"))
    images = lenet.load_images(os.path.join(ROOT, "tests/data/mnist/t10k-images-idx3-ubyte.gz"))
    cases = []
    for i in (0, 1, 2):
        cases.append({"name": f"t10k-{i}", "indices": [i], "grams": grams(model, images[i : i + 1])})
    top = torch.cat([images[3], images[4]], dim=2)
    bottom = torch.cat([images[5], images[6]], dim=2)
    mosaic = torch.cat([top, bottom], dim=1).unsqueeze(0)
    cases.append({"name": "mosaic-3456", "indices": [3, 4, 5, 6], "grams": grams(model, mosaic)})
    a, b = cases[0]["grams"], cases[1]["grams"]
    distance = {}
    for name in PREFIX:
        ga, gb = torch.tensor(a[name], dtype=torch.float64), torch.tensor(b[name], dtype=torch.float64)
        distance[name] = float(((ga - gb) ** 2).sum() / (gb**2).sum())
    out = {
        "model": "www/models/lenet5-mnist.json",
        "torch": torch.__version__,
        "cases": cases,
        "style_distance_0_vs_1": distance,
    }
    path = os.path.join(ROOT, "tests/reference/texture-gram.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: {len(cases)} inputs x {len(PREFIX)} layers; distances 0 vs 1: {distance}")


if __name__ == "__main__":
    main()
