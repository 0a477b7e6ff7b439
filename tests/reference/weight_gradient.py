#!/usr/bin/env python3
"""Reference weight gradients for convscope's weight-gradient view (issue 18), from PyTorch autograd.

For the first four MNIST t10k digits and the shipped LeNet-5 (float64, the network of lenet.py built from
the manifest, not convscope's code): d logits[target] / d W for the weights of conv1 and conv2, shape
[O, I, kh, kw], with target the predicted class, plus one case with another target (image 0, class 3).
Writes tests/reference/weight-gradient.json, which tests/nrm.rs compares with
convscope::explain::volume::weight_gradient to 1e-4 relative (to the largest magnitude of each gradient).

Usage (from the repository root): /usr/bin/python3 tests/reference/weight_gradient.py
(Debian's python3-torch 1.13.1, as the other PyTorch references; see tests/reference/README.md).
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def gradients(model, x, target):
    model.zero_grad()
    score = model.score(x, target)[0]
    score.backward()
    return {name: model.layer(name).weight.grad.detach().clone() for name in ("conv1", "conv2")}


def main():
    manifest = os.path.join(ROOT, "www/models/lenet5-mnist.json")
    model = lenet.load_model(manifest)
    images = lenet.load_images(os.path.join(ROOT, "tests/data/mnist/t10k-images-idx3-ubyte.gz"))
    cases = [(i, None) for i in range(4)] + [(0, 3)]
    out = []
    for index, target in cases:
        x = images[index : index + 1]
        with torch.no_grad():
            predicted = int(model.logits(x).argmax(dim=1)[0])
        used = predicted if target is None else target
        grads = gradients(model, x, used)
        out.append({
            "index": index,
            "target": used,
            "given_target": target,
            "layers": {
                name: {"shape": list(g.shape), "data": [float(f"{v:.9g}") for v in g.flatten().tolist()]}
                for name, g in grads.items()
            },
        })
        print(f"t10k[{index}] target {used}: max |dW| conv1 {grads['conv1'].abs().max():.4f}, "
              f"conv2 {grads['conv2'].abs().max():.4f}")
    result = {"torch": torch.__version__, "dtype": "float64", "model": "www/models/lenet5-mnist.json",
              "cases": out}
    with open(os.path.join(ROOT, "tests/reference/weight-gradient.json"), "w", encoding="utf-8") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
