#!/usr/bin/env python3
"""The PyTorch eager peer of bench/wasm.mjs: the same methods on the same network (the shipped LeNet-5,
float32, loaded from its manifest by tests/reference/lenet.py), the same input (t10k digit 0) and the same
timing (a warm-up, as many calls as fit in ~30 ms per round, best and median of 15 rounds), one thread.

On this shared VM only ratios measured in one session mean something, so run it beside the wasm benchmark
(bench/README.md says how the figures were taken). Plain autograd, no Captum: integrated gradients runs its 50
path points as one batch, occlusion its 576 windows as one batch (tests/reference/make_references.py's
functions, which the reference tests check convscope against; integrated gradients rewritten in float32).

Usage: /usr/bin/python3 bench/pytorch.py [FILTER]    (needs torch)
"""
import pathlib
import sys
import time

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "reference"))
import lenet  # noqa: E402
import make_references as ref  # noqa: E402


def timed(name, f, filter_text):
    if filter_text not in name:
        return
    f()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.030:
        f()
        calls += 1
    calls = max(calls, 1)
    rounds = []
    for _ in range(15):
        t = time.perf_counter()
        for _ in range(calls):
            f()
        rounds.append((time.perf_counter() - t) / calls)
    rounds.sort()

    def show(seconds):
        return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"

    print(f"{name:<44} {show(rounds[0]):>10} {show(rounds[len(rounds) // 2]):>10}", flush=True)


def integrated_gradients(model, x, target, steps=50):
    """make_references.integrated_gradients (trapezoid rule, black baseline, the completeness gap's two scores)
    in the input's dtype: the reference's float64 path weights would turn a float32 run into a float64 one."""
    alphas = torch.linspace(0.0, 1.0, steps, dtype=x.dtype).reshape(-1, 1, 1, 1)
    weights = torch.full((steps, 1, 1, 1), 1.0 / (steps - 1), dtype=x.dtype)
    weights[0] *= 0.5
    weights[-1] *= 0.5
    path = (alphas * x).requires_grad_(True)
    (grads,) = torch.autograd.grad(model.score(path, target).sum(), path)
    attr = x[0] * (weights * grads).sum(dim=0)
    gap = attr.sum() - (ref.score_of(model, x, target) - ref.score_of(model, torch.zeros_like(x), target))
    return attr, gap


def main():
    filter_text = sys.argv[1] if len(sys.argv) > 1 else ""
    torch.set_num_threads(1)
    model = lenet.load_model(str(ROOT / "www/models/lenet5-mnist.json"), dtype=torch.float32)
    model.eval()
    images = lenet.load_images(str(ROOT / "tests/data/mnist/t10k-images-idx3-ubyte.gz"), dtype=torch.float32)
    x = images[:1]
    with torch.no_grad():
        target = int(model.logits(x).argmax())

    def predict():
        with torch.no_grad():
            return torch.softmax(model.logits(x), dim=1)

    print(f"PyTorch {torch.__version__} eager (float32, {torch.get_num_threads()} thread; per call: best and "
          "median of 15 rounds)")
    print(f"{'':<44} {'best':>10} {'median':>10}")
    timed("predict (forward + softmax)", predict, filter_text)
    for method, rule in [("gradient", "gradient"), ("guided-backprop", "guided"), ("deconvnet", "deconvnet")]:
        timed(f"attribute {method}", lambda rule=rule: ref.gradient(model, x, target, rule=rule), filter_text)
    timed("attribute saliency", lambda: ref.gradient(model, x, target).abs().amax(dim=0), filter_text)
    timed("attribute integrated-gradients", lambda: integrated_gradients(model, x, target), filter_text)
    timed("attribute grad-cam", lambda: ref.grad_cam(model, x, target), filter_text)
    timed("attribute occlusion", lambda: ref.occlusion(model, x, target, window=5, stride=1), filter_text)


if __name__ == "__main__":
    main()
