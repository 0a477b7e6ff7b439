#!/usr/bin/env python3
"""Reference figures for convscope's analysis module (src/analysis), from scikit-learn and umap-learn.

Independent implementations of the same definitions: numpy/scipy for covariance and correlations,
sklearn.decomposition.PCA, sklearn.cluster.KMeans, sklearn.manifold.TSNE and trustworthiness, umap.UMAP.

The features are the fc2 (and pool2) outputs of the shipped LeNet-5 on the MNIST t10k digits, written by
convscope itself (the forward pass is checked against PyTorch elsewhere, tests/reference/lenet.py):

    cargo test --test analysis -- --ignored write_features
    python3 tests/reference/analysis.py [--full] [--features target/analysis]

writes tests/reference/analysis-small.json (first 500 digits; read by tests/analysis.rs) and, with --full,
tests/reference/analysis-t10k.json (all 10,000 digits: the acceptance figures quoted in docs/analysis.md).
Versions used: see the "versions" entry of each output.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.stats
import sklearn
import umap
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from umap.umap_ import find_ab_params

HERE = Path(__file__).resolve().parent
SMALL = 500


def load(features: Path, layer: str, width: int) -> np.ndarray:
    raw = np.fromfile(features / f"t10k-{layer}.f32", dtype="<f4")
    return raw.reshape(-1, width)


def correlations(x: np.ndarray) -> dict:
    """Pearson and Spearman matrices of the columns, with convscope's convention for a constant column
    (numpy and scipy give NaN: here 0 off the diagonal, 1 on it)."""
    out = {}
    for name, m in (("pearson", np.corrcoef(x, rowvar=False)),
                    ("spearman", scipy.stats.spearmanr(x).statistic)):
        m = np.array(m, dtype=np.float64)
        constant = np.ptp(x, axis=0) == 0
        m[constant, :] = 0.0
        m[:, constant] = 0.0
        np.fill_diagonal(m, 1.0)
        out[name] = m.tolist()
    out["constant_columns"] = np.flatnonzero(np.ptp(x, axis=0) == 0).tolist()
    return out


def pca_figures(x: np.ndarray, k: int) -> dict:
    pca = PCA(n_components=k, svd_solver="full").fit(x.astype(np.float64))
    return {
        "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
        "explained_variance": pca.explained_variance_.tolist(),
        "components": pca.components_.tolist(),
    }


def tsne_figures(x: np.ndarray) -> dict:
    t0 = time.perf_counter()
    tsne = TSNE(n_components=2, perplexity=30.0, max_iter=1000, init="pca", method="barnes_hut",
                angle=0.5, random_state=0)
    y = tsne.fit_transform(x)
    seconds = time.perf_counter() - t0
    return {"kl_divergence": float(tsne.kl_divergence_), "trustworthiness_10": float(trustworthiness(x, y, n_neighbors=10)),
            "seconds": seconds, "n_iter": int(tsne.n_iter_)}


def umap_figures(x: np.ndarray) -> dict:
    out = {}
    for init in ("spectral", "pca"):
        t0 = time.perf_counter()
        y = umap.UMAP(n_neighbors=15, min_dist=0.1, init=init, random_state=0).fit_transform(x)
        out[init] = {"trustworthiness_10": float(trustworthiness(x, y, n_neighbors=10)),
                     "seconds": time.perf_counter() - t0}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", type=Path, default=HERE.parent.parent / "target/analysis")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    fc2 = load(args.features, "fc2", 84)
    pool2 = load(args.features, "pool2", 400)
    versions = {"numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                "umap-learn": umap.__version__}

    x = fc2[:SMALL]
    a, b = find_ab_params(1.0, 0.1)
    pca2 = PCA(n_components=2, svd_solver="full").fit_transform(x.astype(np.float64))
    small = {
        "versions": versions,
        "points": SMALL,
        "fc2_checksum": float(np.sum(x, dtype=np.float64)),
        "pca_fc2": pca_figures(x, 20),
        "kmeans_fc2_inertia": float(KMeans(n_clusters=10, n_init=10, random_state=0).fit(x).inertia_),
        "correlation_pool2_first_24": correlations(pool2[:SMALL, :24]),
        "correlation_fc2_first_16": correlations(x[:, :16]),
        "trustworthiness_10_of_pca2": float(trustworthiness(x, pca2, n_neighbors=10)),
        "tsne_fc2": tsne_figures(x),
        "umap_ab_min_dist_0.1": [float(a), float(b)],
        "umap_fc2": umap_figures(x),
    }
    (HERE / "analysis-small.json").write_text(json.dumps(small, indent=1) + "\n")
    print("small:", {k: v for k, v in small.items() if k.startswith(("tsne", "umap", "kmeans", "trust"))})

    if args.full:
        full = {
            "versions": versions,
            "points": len(fc2),
            "fc2_checksum": float(np.sum(fc2, dtype=np.float64)),
            "pca_fc2_explained_variance_ratio_20": pca_figures(fc2, 20)["explained_variance_ratio"],
            "pca_pool2_explained_variance_ratio_20": pca_figures(pool2, 20)["explained_variance_ratio"],
            "kmeans_fc2_inertia": float(KMeans(n_clusters=10, n_init=10, random_state=0).fit(fc2).inertia_),
            "tsne_fc2": tsne_figures(fc2),
            "umap_fc2": umap_figures(fc2),
        }
        (HERE / "analysis-t10k.json").write_text(json.dumps(full, indent=1) + "\n")
        print("full:", {k: v for k, v in full.items() if k.startswith(("tsne", "umap", "kmeans"))})


if __name__ == "__main__":
    main()
