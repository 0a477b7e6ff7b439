#!/usr/bin/env python3
"""Reference for convscope's dataset views (src/explain/dataset): maximally activating patches and nearest
neighbours, in numpy only, from the shipped weights — nothing of convscope's code or output is used.

The network is rebuilt from the manifest (www/models/lenet5-mnist.json) and its safetensors file (parsed here:
an 8-byte little-endian header length, a JSON header, raw little-endian f32 tensors), and run in float64 on
the first IMAGES MNIST t10k digits (pixel / 255 as float32, then float64). Definitions, as in the Rust docs:

- patches: for a conv block's pooled maps, image i scores max over the channel's map, at its first maximum in
  row-major order; for a vector layer, the unit's output. Ranking: score descending, ties by the lower index.
  The box of a pooled unit is found by growing its support backwards through pool and conv layers (each
  output row y of a layer with kernel k, stride s, padding p reads input rows y*s - p ... y*s - p + k - 1),
  clipped to the image, half-open [y0, x0, y1, x1).
- neighbours: euclidean = sqrt(sum (a - b)^2), cosine = max(0, 1 - a.b / (|a| |b|)) (1 for a zero vector),
  summed in float64 one feature after another (the order convscope sums in, so that pixel-space distances,
  whose features are the same float32 values on both sides, agree to the last bit); the TOP smallest,
  ties by the lower index.

    python3 tests/reference/dataset.py          # writes tests/reference/dataset.json (read by tests/dataset.rs)

Needs numpy only (the committed file: numpy 2.4.6, Python 3.11).
"""
import gzip
import json
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "www/models/lenet5-mnist.json"
IMAGES_FILE = ROOT / "tests/data/mnist/t10k-images-idx3-ubyte.gz"
IMAGES = 1000
QUERIES = [1000, 1001, 1002, 1003, 1004]
PATCH_LAYERS = ["pool1", "pool2", "fc1", "fc2"]
PATCH_TOP = 9
NEIGHBOUR_LAYERS = ["pixels", "pool2", "fc2"]
NEIGHBOUR_TOP = 10


def read_idx_images(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    magic, count, height, width = struct.unpack(">IIII", raw[:16])
    assert magic == 0x803
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(count, height, width)


def read_safetensors(path: Path) -> dict:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", name
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)
    return tensors


def conv2d(x, weight, bias, stride, padding):
    """x: N×C×H×W, weight: O×C×k×k → N×O×H'×W' (cross-correlation, as PyTorch)."""
    k = weight.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,ocij->nohw", windows, weight, optimize=True) + bias[None, :, None, None]


def max_pool(x, kernel, stride):
    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5))


def forward(manifest: dict, weights: dict, pixels: np.ndarray) -> dict:
    """Every layer's output by name, for images N×H×W in [0, 1]."""
    norm = manifest.get("normalization")
    x = pixels[:, None, :, :]
    if norm:
        x = (x - np.array(norm["mean"])[None, :, None, None]) / np.array(norm["std"])[None, :, None, None]
    outputs = {}
    for layer in manifest["layers"]:
        name, kind = layer["name"], layer["type"]
        if kind == "conv2d":
            x = conv2d(x, weights[f"{name}.weight"], weights[f"{name}.bias"], layer.get("stride", 1),
                       layer.get("padding", 0))
        elif kind == "relu":
            x = np.maximum(x, 0.0)
        elif kind == "max_pool2d":
            x = max_pool(x, layer["kernel_size"], layer.get("stride") or layer["kernel_size"])
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "linear":
            x = x @ weights[f"{name}.weight"].T + weights[f"{name}.bias"]
        elif kind == "log_softmax":
            shifted = x - x.max(axis=1, keepdims=True)
            x = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        outputs[name] = x
    return outputs


def support_box(manifest: dict, layer_name: str, y: int, x: int, height: int, width: int) -> list:
    """The input rows and columns that reach unit (y, x) of layer_name, grown backwards layer by layer."""
    layers = manifest["layers"]
    upto = [l["name"] for l in layers].index(layer_name)
    rows, cols = (y, y + 1), (x, x + 1)
    for layer in reversed(layers[:upto + 1]):
        if layer["type"] == "conv2d":
            k, s, p = layer["kernel_size"], layer.get("stride", 1), layer.get("padding", 0)
        elif layer["type"] == "max_pool2d":
            k, s, p = layer["kernel_size"], layer.get("stride") or layer["kernel_size"], 0
        else:
            continue
        rows = (rows[0] * s - p, (rows[1] - 1) * s - p + k)
        cols = (cols[0] * s - p, (cols[1] - 1) * s - p + k)
    clip = lambda v, limit: int(min(max(v, 0), limit))
    return [clip(rows[0], height), clip(cols[0], width), clip(rows[1], height), clip(cols[1], width)]


def ranked(scores: np.ndarray, top: int) -> np.ndarray:
    """Indices of the `top` largest scores, ties by the lower index."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    return order[:top]


def patches(manifest, outputs, layer, height, width):
    out = outputs[layer]
    units = []
    if out.ndim == 4:
        n, c, h, w = out.shape
        flat = out.reshape(n, c, h * w)
        for k in range(c):
            scores = flat[:, k, :].max(axis=1)
            first = flat[:, k, :].argmax(axis=1)  # numpy's argmax returns the first maximum
            units.append([{
                "index": int(i), "value": float(scores[i]),
                "position": [int(first[i] // w), int(first[i] % w)],
                "box": support_box(manifest, layer, int(first[i] // w), int(first[i] % w), height, width),
            } for i in ranked(scores, PATCH_TOP)])
    else:
        for u in range(out.shape[1]):
            units.append([{"index": int(i), "value": float(out[i, u]), "box": [0, 0, height, width]}
                          for i in ranked(out[:, u], PATCH_TOP)])
    return units


def distances(data: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    squares = np.zeros(data.shape[0])
    dot = np.zeros(data.shape[0])
    norm = np.zeros(data.shape[0])
    query_norm = 0.0
    for j in range(data.shape[1]):
        query_norm += query[j] * query[j]
    query_norm = np.sqrt(query_norm)
    for j in range(data.shape[1]):
        a, b = query[j], data[:, j]
        d = a - b
        squares += d * d
        dot += a * b
        norm += b * b
    if metric == "euclidean":
        return np.sqrt(squares)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = np.maximum(0.0, 1.0 - dot / (query_norm * np.sqrt(norm)))
    return np.where((norm == 0.0) | (query_norm == 0.0), 1.0, cosine)


def main() -> None:
    manifest = json.loads(MANIFEST.read_text())
    weights = read_safetensors(MANIFEST.parent / manifest["weights"])
    images = read_idx_images(IMAGES_FILE)
    _, height, width = images.shape
    chosen = list(range(IMAGES)) + QUERIES
    pixels32 = images[chosen].astype(np.float32) / np.float32(255)
    outputs = forward(manifest, weights, pixels32.astype(np.float64))
    outputs["pixels"] = pixels32.reshape(len(chosen), -1).astype(np.float64)
    data = {name: out[:IMAGES] for name, out in outputs.items()}
    result = {
        "script": "tests/reference/dataset.py",
        "numpy": np.__version__,
        "images": IMAGES,
        "patches": {layer: patches(manifest, data, layer, height, width) for layer in PATCH_LAYERS},
        "neighbours": [],
    }
    for q, query_index in enumerate(QUERIES):
        for layer in NEIGHBOUR_LAYERS:
            features = data[layer].reshape(IMAGES, -1)
            query = outputs[layer][IMAGES + q].reshape(-1)
            for metric in ("cosine", "euclidean"):
                d = distances(features, query, metric)
                top = np.lexsort((np.arange(IMAGES), d))[:NEIGHBOUR_TOP]
                result["neighbours"].append({
                    "query": query_index, "layer": layer, "metric": metric,
                    "top": [{"index": int(i), "distance": float(d[i])} for i in top],
                })
    path = ROOT / "tests/reference/dataset.json"
    path.write_text(json.dumps(result, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
