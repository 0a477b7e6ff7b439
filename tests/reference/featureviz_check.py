#!/usr/bin/env python3
"""Independent check of convscope's feature visualizations (issue 15's acceptance), in float64 PyTorch.

Reads the class images and the conv2 channel images that `cargo test --release --test featureviz --
--ignored full_measurement` writes to tests/reference/featureviz-images.json (raw pixels in [0, 1], each
optimized by convscope from seeded noise with the default options) and recomputes, with the reference
network of lenet.py (not convscope's forward pass):

  * each class image's probability of its class under the shipped MNIST model, the smallest such
    probability over the eight +-2 px shifts (zero fill) and after a Gaussian blur of sigma 1 px (kernel cut
    at 3 sigma, renormalized at the borders), and the label the seed-2 LeNet
    (tests/data/lenet5-mnist-seed2, never seen by the optimizer) gives it;
  * each conv2 channel image's mean conv2 activation of its channel, against the largest mean activation of
    that channel over the 10,000 t10k digits.

Writes tests/reference/featureviz-check.json and prints a summary; exits 1 if an acceptance figure fails.
Usage (from the repository root): /usr/bin/python3 tests/reference/featureviz_check.py
"""

import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def shifted(x, dy, dx):
    """x [28, 28] moved by (dy, dx) pixels, zeros shifted in."""
    out = np.zeros_like(x)
    h, w = x.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def blurred(x, sigma=1.0):
    """Separable Gaussian blur, kernel cut at ceil(3 sigma), weights renormalized inside the image."""
    r = math.ceil(3 * sigma)
    k = np.exp(-(np.arange(-r, r + 1) ** 2) / (2 * sigma**2))

    def along(a, axis):
        out = np.empty_like(a)
        n = a.shape[axis]
        for i in range(n):
            lo, hi = max(i - r, 0), min(i + r, n - 1)
            w = k[lo - i + r : hi - i + r + 1]
            seg = np.take(a, np.arange(lo, hi + 1), axis=axis)
            val = np.tensordot(seg, w, axes=([axis], [0])) / w.sum()
            if axis == 0:
                out[i, :] = val
            else:
                out[:, i] = val
        return out

    return along(along(x, 1), 0)


def probs(model, images):
    x = torch.from_numpy(np.stack(images)[:, None]).to(torch.float64)
    with torch.no_grad():
        return torch.softmax(model.logits(x), dim=1).numpy()


def conv2_means(model, x):
    with torch.no_grad():
        outputs = dict(model.forward_all(x))
    return outputs["conv2"].mean(dim=(2, 3)).numpy()


def main():
    with open(os.path.join(ROOT, "tests/reference/featureviz-images.json")) as f:
        record = json.load(f)
    model = lenet.load_model(os.path.join(ROOT, "www/models/lenet5-mnist.json"))
    second = lenet.load_model(os.path.join(ROOT, "tests/data/lenet5-mnist-seed2/lenet5-mnist-seed2.json"))

    classes = []
    for k, data in enumerate(record["class"]):
        x = np.array(data, dtype=np.float64).reshape(28, 28)
        shifts = [shifted(x, dy, dx) for dy in (-2, 0, 2) for dx in (-2, 0, 2) if (dy, dx) != (0, 0)]
        p = probs(model, [x] + shifts + [blurred(x)])[:, k]
        q = probs(second, [x])[0]
        classes.append(
            {
                "class": k,
                "p": float(p[0]),
                "min_p_shifted": float(p[1:9].min()),
                "p_blurred": float(p[9]),
                "second_label": int(q.argmax()),
                "second_p": float(q[k]),
            }
        )

    digits = lenet.load_images(os.path.join(ROOT, "tests/data/mnist/t10k-images-idx3-ubyte.gz"))
    best = np.max(np.concatenate([conv2_means(model, digits[i : i + 1000]) for i in range(0, 10000, 1000)]), axis=0)
    images = torch.tensor(record["conv2"], dtype=torch.float64).reshape(-1, 1, 28, 28)
    mine = conv2_means(model, images)
    channels = [
        {"channel": k, "image_mean": float(mine[k, k]), "best_digit_mean": float(best[k])}
        for k in range(len(record["conv2"]))
    ]

    summary = {
        "min_p": min(c["p"] for c in classes),
        "min_p_shifted_or_blurred": min(min(c["min_p_shifted"], c["p_blurred"]) for c in classes),
        "second_network_agrees": sum(c["second_label"] == c["class"] for c in classes),
        "conv2_channels_beating_digits": sum(c["image_mean"] > c["best_digit_mean"] for c in channels),
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
    out = {"summary": summary, "classes": classes, "conv2": channels}
    with open(os.path.join(ROOT, "tests/reference/featureviz-check.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(summary, indent=1))
    ok = (
        summary["min_p"] >= 0.99
        and summary["min_p_shifted_or_blurred"] >= 0.9
        and summary["second_network_agrees"] >= 8
        and summary["conv2_channels_beating_digits"] == len(channels)
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
