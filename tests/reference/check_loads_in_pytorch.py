#!/usr/bin/python3
"""Proves that convscope's shipped model is an ordinary PyTorch model: builds the network from the
manifest (tests/reference/lenet.py), loads the .safetensors with load_state_dict(strict=True),
and prints the MNIST t10k accuracy (float32, as shipped). If the convscope CLI has been built it
is run on a few t10k images and its logits are compared with PyTorch's (float64).

Usage:
  /usr/bin/python3 tests/reference/check_loads_in_pytorch.py [--manifest www/models/lenet5-mnist.json]
      [--cli target/release/convscope] [--cli-count 20]
      [--cli-args "predict --json --model {manifest} --idx {images} --index {index}"]

--cli-args is a template: {manifest}, {images} (t10k IDX path), {index} are substituted; the
command must print JSON with a "logits" array (an object, or a list whose first object has one).
Exit status: 1 if the model does not load or is not a convscope manifest, 0 otherwise (a CLI
mismatch is reported, and gives status 1 only if it exceeds --max-rel).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def accuracy(model, images, labels, batch=1000):
    correct = 0
    with torch.no_grad():
        for start in range(0, images.shape[0], batch):
            logits = model.logits(images[start : start + batch])
            correct += int((logits.argmax(dim=1).numpy() == labels[start : start + batch]).sum())
    return correct / images.shape[0]


def cli_logits(command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"exit {result.returncode}: {result.stderr.strip()[:300]}")
    doc = json.loads(result.stdout)
    if isinstance(doc, list):
        doc = doc[0]
    return torch.tensor(doc["logits"], dtype=torch.float64)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", default=os.path.join(REPO, "www/models/lenet5-mnist.json"))
    parser.add_argument("--images", default=os.path.join(REPO, "tests/data/mnist/t10k-images-idx3-ubyte.gz"))
    parser.add_argument("--labels", default=os.path.join(REPO, "tests/data/mnist/t10k-labels-idx1-ubyte.gz"))
    parser.add_argument("--cli", default=os.path.join(REPO, "target/release/convscope"))
    parser.add_argument("--cli-args", default="predict --json --model {manifest} --idx {images} --index {index}")
    parser.add_argument("--cli-count", type=int, default=20)
    parser.add_argument("--max-rel", type=float, default=1e-4)
    args = parser.parse_args()

    print(f"torch {torch.__version__}")
    if not os.path.exists(args.manifest):
        print(f"{args.manifest} does not exist (no shipped model yet)")
        return 1
    try:
        model32 = lenet.load_model(args.manifest, dtype=torch.float32)
    except Exception as err:  # report any load failure (strict state-dict mismatch, bad file) plainly
        print(f"FAILED to load {args.manifest} in PyTorch: {err}")
        return 1
    print(f"loaded {os.path.relpath(args.manifest, REPO)} with load_state_dict(strict=True): "
          f"{sum(p.numel() for p in model32.parameters())} parameters")

    images32 = lenet.load_images(args.images, dtype=torch.float32)
    labels = lenet.load_labels(args.labels)
    acc = accuracy(model32, images32, labels)
    print(f"t10k accuracy (PyTorch, float32): {acc:.4f} ({round(acc * len(labels))}/{len(labels)})")
    claimed = (model32.manifest.get("metrics") or {}).get("test_accuracy")
    if claimed is not None:
        print(f"manifest metrics.test_accuracy: {claimed}")

    if not os.path.exists(args.cli):
        print(f"{args.cli} not built; skipping the CLI comparison")
        return 0
    model64 = lenet.load_model(args.manifest, dtype=torch.float64)
    images64 = lenet.load_images(args.images, dtype=torch.float64)
    worst = 0.0
    for index in range(args.cli_count):
        template = args.cli_args.format(manifest=args.manifest, images=args.images, index=index)
        command = [args.cli] + shlex.split(template)
        try:
            theirs = cli_logits(command)
        except (RuntimeError, ValueError, KeyError, IndexError, subprocess.TimeoutExpired) as err:
            print(f"CLI comparison skipped: `{' '.join(command)}` failed: {err}")
            return 0
        with torch.no_grad():
            ours = model64.logits(images64[index : index + 1])[0]
        worst = max(worst, ((theirs - ours).abs().max() / ours.abs().max()).item())
    print(f"convscope CLI vs PyTorch float64 logits on t10k[0..{args.cli_count}]: "
          f"max relative difference {worst:.2e} (max|diff| / max|logit| per image)")
    return 1 if worst > args.max_rel else 0


if __name__ == "__main__":
    sys.exit(main())
