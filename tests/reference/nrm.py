#!/usr/bin/env python3
"""Reference figures for convscope's neural response map and CNN-VIS orderings (issue 18), from numpy, scipy
and scikit-learn: independent implementations of the same definitions on the same numbers.

The inputs are written by convscope itself (its forward pass is checked against PyTorch elsewhere):

    cargo test --test nrm -- --ignored write_inputs
    /tmp/analysis-venv/bin/python tests/reference/nrm.py      # any Python with numpy, scipy, scikit-learn

reads target/nrm/ and writes tests/reference/nrm.json (read by tests/nrm.rs):

  * the activations of the response-map neurons of conv2, fc2 and fc3 (conv channels: mean over positions)
    over the first 300 MNIST t10k digits: the neurons that vary, numpy's Pearson correlation
    (np.corrcoef) and scipy's Spearman correlation (upper triangles), and scikit-learn's
    TSNE(metric="precomputed", init="random", method="barnes_hut") KL divergence on 1 - Pearson for five
    seeds;
  * k-means inertia of scikit-learn's KMeans(n_init=10) on: the 16 relu2 maps of t10k[0] (k = 4), their
    row 5 (k = 3), the 6 conv1 maps (k = 2) and the 110 neurons' standardised activation rows (k = 8);
  * the PCA ordering (numpy SVD, component sign fixed so its largest-magnitude loading is positive,
    channels by projection, largest first) of the relu2 maps, of their row 5 and of the conv1 maps.
"""
import json
from pathlib import Path

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.cluster import KMeans
from sklearn.manifold import TSNE

ROOT = Path(__file__).resolve().parent.parent.parent
INPUTS = ROOT / "target" / "nrm"


def load(name, shape):
    return np.fromfile(INPUTS / f"{name}.f32", dtype="<f4").reshape(shape).astype(np.float64)


def upper(m):
    i, j = np.triu_indices(m.shape[0])
    return [float(f"{v:.9g}") for v in m[i, j]]


def pca_order(points):
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    v = vt[0]
    if v[np.argmax(np.abs(v))] < 0:
        v = -v
    projection = centred @ v
    order = sorted(range(len(projection)), key=lambda k: (-projection[k], k))
    return order, projection


def main():
    meta = json.loads((INPUTS / "inputs.json").read_text())
    acts = load("activations", (meta["count"], meta["neurons"]))
    std = acts.std(axis=0)
    kept = [j for j in range(acts.shape[1]) if std[j] > 0 and np.any(acts[:, j] != acts[0, j])]
    x = acts[:, kept]
    pearson = np.corrcoef(x, rowvar=False)
    spearman = scipy.stats.spearmanr(x).statistic
    distances = np.clip(1.0 - pearson, 0.0, None)
    np.fill_diagonal(distances, 0.0)
    kls = []
    for seed in range(5):
        tsne = TSNE(n_components=2, perplexity=30.0, metric="precomputed", init="random",
                    method="barnes_hut", random_state=seed, max_iter=1000)
        tsne.fit(distances)
        kls.append(float(tsne.kl_divergence_))
        print(f"t-SNE seed {seed}: KL {tsne.kl_divergence_:.4f}")
    relu2 = load("relu2", (16, 10, 10))
    conv1 = load("conv1", (6, 28, 28))
    standardised = ((x - x.mean(axis=0)) / x.std(axis=0)).T
    data = {
        "relu2-maps": relu2.reshape(16, -1),
        "relu2-slice5": relu2[:, 5, :],
        "conv1-maps": conv1.reshape(6, -1),
        "neurons": standardised,
    }
    kmeans = []
    for name, k in [("relu2-maps", 4), ("relu2-slice5", 3), ("conv1-maps", 2), ("neurons", 8)]:
        fit = KMeans(n_clusters=k, n_init=10, random_state=0).fit(data[name])
        kmeans.append({"name": name, "k": k, "inertia": float(fit.inertia_), "labels": fit.labels_.tolist()})
        print(f"k-means {name} k={k}: inertia {fit.inertia_:.6g}")
    pca = []
    for name in ["relu2-maps", "relu2-slice5", "conv1-maps"]:
        order, projection = pca_order(data[name])
        pca.append({"name": name, "order": order, "projection": [float(v) for v in projection]})
    out = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__},
        "count": meta["count"], "layers": meta["layers"], "checksum": float(acts.sum()),
        "kept": kept, "pearson_upper": upper(pearson), "spearman_upper": upper(spearman),
        "tsne_kl": kls, "tsne_kl_mean": float(np.mean(kls)), "kmeans": kmeans, "pca": pca,
    }
    (ROOT / "tests" / "reference" / "nrm.json").write_text(json.dumps(out) + "\n")
    print(f"{len(kept)} of {acts.shape[1]} neurons vary; mean KL {np.mean(kls):.4f}")


if __name__ == "__main__":
    main()
