#!/usr/bin/python3
"""Reference attributions and deconvnet reconstructions for convscope, computed with plain torch
autograd in float64 (the float32 weights are converted to double, so the references carry no
float32 rounding; convscope computes in f32 and is compared with a tolerance).

Usage:
  /usr/bin/python3 tests/reference/make_references.py --manifest M.json \
      --images tests/data/mnist/t10k-images-idx3-ubyte.gz \
      --labels tests/data/mnist/t10k-labels-idx1-ubyte.gz --count 8 --out DIR

Images: t10k indices 0..count-1 plus the first t10k image of each digit in --digits (0,1,5,8).
"Full" images (the first image, and the first image of each of those digits) also get integrated
gradients, occlusion and the deconvnet reconstructions of every conv channel (22 for LeNet-5) in
modes "all" and "max"; the first image additionally gets option variants (log_prob output, other
target, other IG/occlusion/Grad-CAM settings, single-unit "y,x" deconvnet) and every layer's
activations.

Output: DIR/index.json (provenance, conventions, list of files) and one DIR/t10k-NNNNN.json per
image. Numbers are rounded to 7 significant digits. Conventions: see README.md next to this file.
"""

import argparse
import datetime
import json
import math
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lenet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# ---------------------------------------------------------------------------------------------
# JSON output: compact, 7 significant digits.


def _num(v):
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"non-finite value {v} in reference output")
    text = f"{v:.7g}"
    return "0" if text == "-0" else text


def to_json(obj):
    if isinstance(obj, dict):
        return "{" + ",".join(f"{to_json(str(k))}:{to_json(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in obj) + "]"
    if isinstance(obj, torch.Tensor):
        return to_json(obj.detach().reshape(-1).tolist())
    if isinstance(obj, np.ndarray):
        return to_json(obj.reshape(-1).tolist())
    if isinstance(obj, bool) or obj is None:
        return {True: "true", False: "false", None: "null"}[obj]
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, (float, np.floating)):
        return _num(obj)
    if isinstance(obj, str):
        return json.dumps(obj)
    raise TypeError(f"cannot serialise {type(obj)}")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(to_json(obj))
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# Attribution methods (x: raw pixels [1, C, H, W] float64; results [C, H, W] unless stated).


def gradient(model, x, target, output="logit", rule="gradient"):
    """d score / d x with the given ReLU backward rule (gradient | guided | deconvnet)."""
    x = x.detach().clone().requires_grad_(True)
    with model.relu_rule(rule):
        score = model.score(x, target, output).sum()
        (grad,) = torch.autograd.grad(score, x)
    return grad[0]


def score_of(model, x, target, output="logit"):
    with torch.no_grad():
        return model.score(x, target, output)


def trapezoid_weights(steps):
    """w_k = 1/(n-1) inside, 0.5/(n-1) at both ends; alphas linspace(0, 1, n)."""
    if steps < 2:
        raise ValueError("integrated gradients needs at least 2 steps")
    weights = torch.full((steps,), 1.0 / (steps - 1), dtype=torch.float64)
    weights[0] *= 0.5
    weights[-1] *= 0.5
    return torch.linspace(0.0, 1.0, steps, dtype=torch.float64), weights


def integrated_gradients(model, x, target, output="logit", steps=50, baseline=0.0):
    """attr = (x - b) * sum_k w_k grad(b + alpha_k (x - b)); gap = sum(attr) - (f(x) - f(b))."""
    alphas, weights = trapezoid_weights(steps)
    b = torch.full_like(x, baseline)
    path = (b + alphas.reshape(-1, 1, 1, 1) * (x - b)).requires_grad_(True)
    scores = model.score(path, target, output)
    (grads,) = torch.autograd.grad(scores.sum(), path)
    attr = (x - b)[0] * (weights.reshape(-1, 1, 1, 1) * grads).sum(dim=0)
    f_x = score_of(model, x, target, output).item()
    f_b = score_of(model, b, target, output).item()
    gap = attr.sum().item() - (f_x - f_b)
    return attr, gap, f_x, f_b


def routing(model, x, kinds=("relu", "max_pool2d")):
    """Per batch element, the discrete decisions of a forward pass, flattened into one integer row: the
    on/off state of every ReLU and the switch (argmax position) of every max-pool, for the layer types
    in `kinds`."""
    found = []
    with torch.no_grad():
        h = model.normalize(x)
        for name, spec in zip(model.layer_names, model.layer_specs):
            if spec["type"] == "max_pool2d":
                pool = model.layer(name)
                h, where = F.max_pool2d_with_indices(h, pool.kernel_size, pool.stride)
                if "max_pool2d" in kinds:
                    found.append(where.reshape(len(x), -1))
            else:
                if spec["type"] == "relu" and "relu" in kinds:
                    found.append((h > 0).reshape(len(x), -1).long())
                h = model.layer(name)(h)
    return torch.cat(found, dim=1)


def ig_kinks(model, model32, x, steps=50, baseline=0.0):
    """Path points of an integrated-gradients case where a float32 forward pass routes differently from the
    float64 one (a ReLU on the other side of zero, or another max-pool switch): the path meets a kink at a
    float32/float64 near-tie there, and no float32 implementation can match the float64 gradient."""
    alphas, _ = trapezoid_weights(steps)
    b = torch.full_like(x, baseline)
    path = b + alphas.reshape(-1, 1, 1, 1) * (x - b)
    differs = (routing(model, path) != routing(model32, path.float())).any(dim=1)
    return [k for k in range(steps) if differs[k]]


def grad_cam(model, x, target, output="logit", layer="relu2"):
    """cam = relu(sum_k alpha_k A_k), alpha_k = mean_ij dScore/dA_kij, A = output of `layer`;
    returns (cam [h, w], alphas [K], cam bilinearly upsampled to the input size [H, W])."""
    x = x.detach()
    outputs = model.forward_all(x)
    names = [name for name, _ in outputs]
    activation = outputs[names.index(layer)][1]
    logits = outputs[-2][1] if model.layer_specs[-1]["type"] == "log_softmax" else outputs[-1][1]
    values = logits if output == "logit" else F.log_softmax(logits, dim=1)
    (grad,) = torch.autograd.grad(values[0, target], activation)
    alphas = grad[0].mean(dim=(1, 2))
    cam = F.relu((alphas.reshape(-1, 1, 1) * activation[0]).sum(dim=0)).detach()
    size = x.shape[-2:]
    upsampled = F.interpolate(cam[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    return cam, alphas.detach(), upsampled


def occlusion(model, x, target, output="logit", window=5, stride=1, fill=0.0):
    """Captum-style occlusion: per-pixel mean of f(x) - f(x with window filled) over the windows
    (top-left y = 0, S, ... while y + W <= H; same for x) that cover the pixel; 0 where none."""
    _, channels, height, width = x.shape
    ys = list(range(0, height - window + 1, stride))
    xs = list(range(0, width - window + 1, stride))
    batch = x.repeat(len(ys) * len(xs), 1, 1, 1)
    masks = torch.zeros((len(ys) * len(xs), 1, height, width), dtype=x.dtype)
    for i, y0 in enumerate(ys):
        for j, x0 in enumerate(xs):
            masks[i * len(xs) + j, :, y0 : y0 + window, x0 : x0 + window] = 1.0
    batch = batch * (1 - masks) + fill * masks
    f_x = score_of(model, x, target, output)
    drops = f_x - score_of(model, batch, target, output)
    total = (drops.reshape(-1, 1, 1, 1) * masks).sum(dim=0)
    count = masks.sum(dim=0)
    attr = torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))
    return attr.expand(channels, height, width).clone()


# ---------------------------------------------------------------------------------------------
# Zeiler & Fergus deconvnet reconstruction.


def pool_after(model, conv_layer):
    """Name of the first max_pool2d layer after `conv_layer` in the manifest."""
    names = model.layer_names
    start = names.index(conv_layer)
    for spec in model.layer_specs[start + 1 :]:
        if spec["type"] == "max_pool2d":
            return spec["name"]
    raise ValueError(f"no max_pool2d after {conv_layer}")


def deconv_reconstruction(model, x, conv_layer, channel, unit="all"):
    """Backward of sum(P * seed) w.r.t. raw x with the deconvnet ReLU rule, where P is the pooled
    output of `conv_layer`'s block and seed keeps channel `channel` only (unit "all"), or only its
    strongest unit (unit "max", first maximum in row-major order), or unit "y,x".
    Returns (reconstruction [H, W], strength = max P[channel], (y, x) of the seeded unit or None)."""
    pool = pool_after(model, conv_layer)
    x = x.detach().clone().requires_grad_(True)
    with model.relu_rule("deconvnet"):
        outputs = dict(model.forward_all(x))
        pooled = outputs[pool]
        plane = pooled[0, channel].detach()
        seed = torch.zeros_like(pooled)
        position = None
        if unit == "all":
            seed[0, channel] = plane
        else:
            if unit == "max":
                flat = int(torch.argmax(plane.reshape(-1)).item())  # first maximum
                position = divmod(flat, plane.shape[1])
            else:
                position = tuple(int(v) for v in unit.split(","))
            seed[0, channel, position[0], position[1]] = plane[position[0], position[1]]
        (grad,) = torch.autograd.grad(pooled, x, grad_outputs=seed)
    return grad[0, 0], plane.max().item(), position


def explicit_deconvnet_lenet(model, x, conv_layer, channel):
    """Independent check for LeNet-5: the Z&F pipeline written out (unpool with switches,
    rectify, transposed convolution without bias, divide by std)."""
    x = x.detach()
    with torch.no_grad():
        h = model.normalize(x)
        a1 = F.relu(model.conv1(h))
        p1, idx1 = F.max_pool2d_with_indices(a1, 2, 2)
        a2 = F.relu(model.conv2(p1))
        p2, idx2 = F.max_pool2d_with_indices(a2, 2, 2)
        if conv_layer == "conv2":
            seed = torch.zeros_like(p2)
            seed[0, channel] = p2[0, channel]
            r = F.max_unpool2d(seed, idx2, 2, 2, output_size=a2.shape[-2:])
            r = F.conv_transpose2d(F.relu(r), model.conv2.weight)
        else:
            seed = torch.zeros_like(p1)
            seed[0, channel] = p1[0, channel]
            r = seed
        r = F.max_unpool2d(r, idx1, 2, 2, output_size=a1.shape[-2:])
        r = F.conv_transpose2d(F.relu(r), model.conv1.weight, padding=2)
        return (r / model.norm_std)[0, 0]


# ---------------------------------------------------------------------------------------------


def case(method, options, target, data, **extra):
    entry = {"method": method, "options": options, "target": target, "shape": list(data.shape), "data": data}
    entry.update(extra)
    return entry


def image_cases(model, x, target, full):
    """Attribution cases for the default options (+ IG and occlusion for full images)."""
    grad = gradient(model, x, target)
    guided = gradient(model, x, target, rule="guided")
    cam, alphas, cam_up = grad_cam(model, x, target)
    cases = [
        case("gradient", {}, target, grad),
        case("saliency", {}, target, grad.abs()),
        case("guided-backprop", {}, target, guided),
        case("deconvnet", {}, target, gradient(model, x, target, rule="deconvnet")),
        case("gradient-x-input", {}, target, grad * x[0]),
        case("grad-cam", {}, target, cam_up[None], layer="relu2", cam=cam, cam_shape=list(cam.shape), channel_weights=alphas),
        case("guided-grad-cam", {}, target, guided * cam_up[None], layer="relu2"),
    ]
    if full:
        attr, gap, f_x, f_b = integrated_gradients(model, x, target)
        cases.append(case("integrated-gradients", {}, target, attr, steps=50, baseline=0.0,
                          completeness_gap=gap, score_input=f_x, score_baseline=f_b))
        cases.append(case("occlusion", {}, target, occlusion(model, x, target), window=5, stride=1, fill=0.0))
    return cases


def variant_cases(model, x, predicted):
    """Non-default options, on one image."""
    other = (predicted + 1) % 10
    cases = [
        case("gradient", {"output": "log_prob"}, predicted, gradient(model, x, predicted, output="log_prob")),
        case("gradient", {"target": other}, other, gradient(model, x, other)),
        case("guided-backprop", {"target": other}, other, gradient(model, x, other, rule="guided")),
        case("deconvnet", {"output": "log_prob"}, predicted, gradient(model, x, predicted, output="log_prob", rule="deconvnet")),
    ]
    attr, gap, f_x, f_b = integrated_gradients(model, x, predicted, steps=16, baseline=0.5)
    cases.append(case("integrated-gradients", {"steps": 16, "baseline": 0.5}, predicted, attr,
                      completeness_gap=gap, score_input=f_x, score_baseline=f_b))
    attr, gap, f_x, f_b = integrated_gradients(model, x, predicted, output="log_prob", steps=8)
    cases.append(case("integrated-gradients", {"steps": 8, "output": "log_prob"}, predicted, attr,
                      completeness_gap=gap, score_input=f_x, score_baseline=f_b))
    for layer in ("relu1", "conv2", "pool2"):
        cam, alphas, cam_up = grad_cam(model, x, predicted, layer=layer)
        cases.append(case("grad-cam", {"layer": layer}, predicted, cam_up[None], layer=layer, cam=cam,
                          cam_shape=list(cam.shape), channel_weights=alphas))
    cam, _, cam_up = grad_cam(model, x, other, layer="pool1")
    cases.append(case("guided-grad-cam", {"layer": "pool1", "target": other}, other,
                      gradient(model, x, other, rule="guided") * cam_up[None], layer="pool1"))
    cases.append(case("occlusion", {"window": 6, "stride": 4, "fill": 0.5}, predicted,
                      occlusion(model, x, predicted, window=6, stride=4, fill=0.5)))
    cases.append(case("occlusion", {"window": 3, "stride": 2, "output": "log_prob"}, predicted,
                      occlusion(model, x, predicted, output="log_prob", window=3, stride=2)))
    return cases


def deconv_cases(model, x, units=("all", "max")):
    cases = []
    for conv_layer in [s["name"] for s in model.layer_specs if s["type"] == "conv2d"]:
        channels = model.layer(conv_layer).out_channels
        for channel in range(channels):
            for unit in units:
                recon, strength, position = deconv_reconstruction(model, x, conv_layer, channel, unit)
                entry = {"layer": conv_layer, "channel": channel, "unit": unit, "strength": strength,
                         "shape": list(recon.shape), "data": recon}
                if position is not None:
                    entry["position"] = list(position)
                cases.append(entry)
    return cases


def self_checks(model, x):
    """Explicit Z&F pipeline vs autograd (LeNet-5 layer names only); returns max abs difference."""
    names = set(model.layer_names)
    if not {"conv1", "conv2"} <= names:
        return None
    worst = 0.0
    for conv_layer, channels in (("conv1", model.conv1.out_channels), ("conv2", model.conv2.out_channels)):
        for channel in range(channels):
            auto, _, _ = deconv_reconstruction(model, x, conv_layer, channel, "all")
            manual = explicit_deconvnet_lenet(model, x, conv_layer, channel)
            worst = max(worst, (auto - manual).abs().max().item())
    if worst > 1e-10:
        raise SystemExit(f"explicit deconvnet disagrees with autograd: {worst}")
    return worst


def pool_switch_mismatches(manifest_path, images):
    """Number of max-pool switches (argmax positions) that differ between a float32 and the
    float64 forward pass on `images`; non-zero means f32 implementations may route differently."""
    switches = [
        routing(lenet.load_model(manifest_path, dtype=dtype), images.to(dtype), kinds=("max_pool2d",))
        for dtype in (torch.float32, torch.float64)
    ]
    return int((switches[0] != switches[1]).sum().item())


def captum_crosscheck(model, x, target, cases):
    """Relative max differences (max|ours - captum| / max|ours|) against Captum, if installed."""
    try:
        import captum
        from captum.attr import (Deconvolution, GuidedBackprop, GuidedGradCam, InputXGradient,
                                 IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion, Saliency)
    except ImportError:
        return None

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, inp):
            return self.inner.logits(inp)

    warnings.filterwarnings("ignore", module="captum")
    net = Logits(model)
    ours = {c["method"]: c["data"] for c in cases if not c["options"]}
    x = x.detach()
    theirs = {
        "gradient": Saliency(net).attribute(x, target=target, abs=False),
        "saliency": Saliency(net).attribute(x, target=target, abs=True),
        "gradient-x-input": InputXGradient(net).attribute(x, target=target),
        "guided-backprop": GuidedBackprop(net).attribute(x, target=target),
        "deconvnet": Deconvolution(net).attribute(x, target=target),
        "grad-cam": LayerAttribution.interpolate(
            LayerGradCam(net, model.relu2).attribute(x, target=target, relu_attributions=True), (28, 28), interpolate_mode="bilinear"),
        "guided-grad-cam": GuidedGradCam(net, model.relu2).attribute(x, target=target, interpolate_mode="bilinear"),
    }
    if "integrated-gradients" in ours:
        steps = 50
        ig = IntegratedGradients(net).attribute(x, baselines=0.0, target=target, n_steps=steps,
                                                method="riemann_trapezoid")
        # Captum's riemann_trapezoid uses step 1/n (ends 0.5/n) with alphas linspace(0, 1, n);
        # the convention here is the trapezoid rule 1/(n-1): rescale Captum by n/(n-1).
        theirs["integrated-gradients"] = ig * steps / (steps - 1)
    if "occlusion" in ours:
        theirs["occlusion"] = Occlusion(net).attribute(x, target=target, sliding_window_shapes=(1, 5, 5),
                                                        strides=(1, 1, 1), baselines=0.0)
    result = {"captum": captum.__version__}
    for method, reference in theirs.items():
        mine = ours[method].reshape(-1)
        other = reference.detach().reshape(-1)
        scale = max(mine.abs().max().item(), 1e-300)
        result[method] = (mine - other).abs().max().item() / scale
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--images", default=os.path.join(REPO, "tests/data/mnist/t10k-images-idx3-ubyte.gz"))
    parser.add_argument("--labels", default=os.path.join(REPO, "tests/data/mnist/t10k-labels-idx1-ubyte.gz"))
    parser.add_argument("--count", type=int, default=8, help="t10k indices 0..count-1")
    parser.add_argument("--digits", default="0,1,5,8", help="also (fully) the first t10k image of each digit")
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-captum", action="store_true", help="skip the Captum cross-check")
    args = parser.parse_args()

    torch.set_grad_enabled(True)
    model = lenet.load_model(args.manifest, dtype=torch.float64)
    images = lenet.load_images(args.images, dtype=torch.float64)
    labels = lenet.load_labels(args.labels)
    digits = [int(d) for d in args.digits.split(",") if d != ""]
    firsts = [int(np.nonzero(labels == d)[0][0]) for d in digits]
    indices = sorted(set(range(args.count)) | set(firsts))
    variants_on = indices[0]
    full = set(firsts) | {variants_on}

    os.makedirs(args.out, exist_ok=True)
    entries = []
    crosschecks = {}
    deconv_check = None
    model32 = lenet.load_model(args.manifest, dtype=torch.float32)
    left_out = []
    for index in indices:
        x = images[index : index + 1]
        with torch.no_grad():
            logits = model.logits(x)[0]
        predicted = int(torch.argmax(logits).item())
        is_full = index in full
        record = {
            "index": index,
            "label": int(labels[index]),
            "pixels_u8": [int(round(v * 255)) for v in x.reshape(-1).tolist()],
            "logits": logits,
            "log_probs": F.log_softmax(logits, dim=0),
            "predicted": predicted,
            "attributions": image_cases(model, x, predicted, is_full),
        }
        if index == variants_on:
            record["attributions"] += variant_cases(model, x, predicted)
            record["activations"] = [
                {"name": name, "shape": list(out.shape[1:]), "data": out[0].detach()}
                for name, out in model.forward_all(x)
            ]
            record["deconv_units"] = [
                {"layer": layer, "channel": channel, "unit": unit, "strength": strength,
                 "shape": list(recon.shape), "data": recon, "position": list(position)}
                for layer, channel, unit in (("conv1", 2, "3,4"), ("conv2", 5, "1,2"), ("conv2", 15, "4,4"))
                for recon, strength, position in [deconv_reconstruction(model, x, layer, channel, unit)]
            ]
        kept = []
        for c in record["attributions"]:
            opts = c["options"]
            kinks = c["method"] == "integrated-gradients" and ig_kinks(
                model, model32, x, opts.get("steps", 50), opts.get("baseline", 0.0))
            if kinks:
                print(f"t10k[{index}] integrated-gradients {opts}: float32 and float64 route differently at "
                      f"path steps {kinks} (a near-tie at a ReLU or max-pool); case left out")
                left_out.append({"index": index, "options": opts, "steps": kinks})
            else:
                kept.append(c)
        record["attributions"] = kept
        if is_full:
            record["deconv"] = deconv_cases(model, x)
            deconv_check = max(deconv_check or 0.0, self_checks(model, x) or 0.0)
            if not args.no_captum:
                check = captum_crosscheck(model, x, predicted, record["attributions"])
                if check is not None:
                    crosschecks[str(index)] = check
        name = f"t10k-{index:05d}.json"
        write_json(os.path.join(args.out, name), record)
        entries.append({"index": index, "label": int(labels[index]), "predicted": predicted, "file": name,
                        "full": is_full, "variants": index == variants_on})
        print(f"t10k[{index}] label {labels[index]} predicted {predicted} -> {name}"
              f" ({os.path.getsize(os.path.join(args.out, name)) // 1024} KiB)")

    mismatches = pool_switch_mismatches(args.manifest, images[indices])
    index_doc = {
        "format": "convscope-reference",
        "version": 1,
        "generated": datetime.date.today().isoformat(),
        "generator": "tests/reference/make_references.py",
        "manifest": os.path.relpath(os.path.abspath(args.manifest), REPO),
        "images": os.path.relpath(os.path.abspath(args.images), REPO),
        "torch": torch.__version__,
        "dtype": "float64 (float32 weights converted to double)",
        "rounding": "7 significant digits",
        "target": "predicted class logit unless options say otherwise",
        "data_layout": "row-major; input-space attributions [C,H,W], deconv reconstructions [H,W]",
        "deconv_explicit_vs_autograd_max_abs": deconv_check,
        "pool_switch_f32_vs_f64_mismatches": mismatches,
        "captum_crosscheck_max_rel": crosschecks or None,
        "integrated_gradients_left_out_at_kinks": left_out,
        "files": entries,
    }
    write_json(os.path.join(args.out, "index.json"), index_doc)
    total = sum(os.path.getsize(os.path.join(args.out, e["file"])) for e in entries)
    print(f"wrote {len(entries)} files to {args.out} ({total / 1e6:.2f} MB)")
    print(f"max-pool switches differing between float32 and float64 on these images: {mismatches}")
    for index, check in crosschecks.items():
        worst = max(v for k, v in check.items() if k != "captum")
        print(f"captum {check['captum']} cross-check t10k[{index}]: worst relative difference {worst:.2e}")


if __name__ == "__main__":
    main()
