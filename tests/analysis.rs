//! The analysis module against scikit-learn and umap-learn (`tests/reference/analysis.py`, its outputs
//! committed beside it) on the fc2 and pool2 features of the shipped LeNet-5 over the MNIST t10k digits.
//!
//! The regular tests use the first 500 digits and stay fast. The acceptance run on all 10,000 is
//! `cargo test --test analysis -- --ignored --nocapture acceptance` (docs/analysis.md has its figures).

use convscope::analysis::features::layer_features;
use convscope::analysis::kmeans::{kmeans, KMeansOptions};
use convscope::analysis::neighbors::trustworthiness;
use convscope::analysis::pca::Pca;
use convscope::analysis::stats::{pearson, spearman};
use convscope::analysis::tsne::{Tsne, TsneOptions};
use convscope::analysis::umap::{fit_ab, Umap, UmapOptions};
use convscope::io::idx;
use convscope::model::network::Network;
use ndarray::{s, Array2};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A layer's outputs for the first `count` t10k digits.
fn features(layer: &str, count: usize) -> Array2<f32> {
    let net = Network::load(&root().join("www/models/lenet5-mnist.json")).unwrap();
    let images =
        idx::read_images(root().join("tests/data/mnist/t10k-images-idx3-ubyte.gz")).unwrap();
    layer_features(&net, &images, layer, count).unwrap()
}

fn reference(name: &str) -> Value {
    let path = root().join("tests/reference").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

/// The features are the ones the reference script saw.
fn small() -> (Array2<f32>, Value) {
    let r = reference("analysis-small.json");
    let n = r["points"].as_u64().unwrap() as usize;
    let x = features("fc2", n);
    let sum: f64 = x.iter().map(|&v| f64::from(v)).sum();
    let want = r["fc2_checksum"].as_f64().unwrap();
    assert!(
        (sum - want).abs() < 1e-6 * want.abs(),
        "features changed: {sum} vs {want}"
    );
    (x, r)
}

/// Top-20 explained-variance ratios to 1e-4 relative; components whose eigenvalue is more than 1% from its
/// neighbours' equal (same sign convention) to 1e-5.
fn assert_pca_matches(pca: &Pca, want_ratio: &[f64], want_components: Option<&Array2<f64>>) {
    for (k, (got, want)) in pca
        .explained_variance_ratio
        .iter()
        .zip(want_ratio)
        .enumerate()
    {
        assert!(
            (got - want).abs() <= 1e-4 * want,
            "ratio {k}: {got} vs {want}"
        );
    }
    let Some(want) = want_components else { return };
    let var = &pca.explained_variance;
    for k in 0..want.nrows() {
        let gap = |j: usize| (var[k] - var[j]).abs() / var[k];
        let separated = (k == 0 || gap(k - 1) > 0.01) && (k + 1 >= var.len() || gap(k + 1) > 0.01);
        if separated {
            let diff = (&pca.components.row(k) - &want.row(k)).mapv(f64::abs);
            assert!(
                diff.iter().all(|&d| d < 1e-5),
                "component {k} differs by {}",
                diff.sum()
            );
        }
    }
}

#[test]
fn pca_equals_scikit_learn() {
    let (x, r) = small();
    let pca = Pca::fit(x.view(), 20).unwrap();
    let want = &r["pca_fc2"];
    assert_pca_matches(
        &pca,
        &floats(&want["explained_variance_ratio"]),
        Some(&matrix(&want["components"])),
    );
    for (got, want) in pca
        .explained_variance
        .iter()
        .zip(floats(&want["explained_variance"]))
    {
        assert!((got - want).abs() <= 1e-6 * want, "{got} vs {want}");
    }
}

#[test]
fn kmeans_inertia_is_within_one_percent_of_scikit_learn() {
    let (x, r) = small();
    let options = KMeansOptions {
        clusters: 10,
        ..Default::default()
    };
    let got = kmeans(x.view(), &options).unwrap().inertia;
    let want = r["kmeans_fc2_inertia"].as_f64().unwrap();
    assert!(got <= want * 1.01, "inertia {got} vs scikit-learn's {want}");
    assert_eq!(kmeans(x.view(), &options).unwrap().inertia, got);
}

#[test]
fn correlation_matrices_equal_numpy_and_scipy() {
    let (x, r) = small();
    let pool2 = features("pool2", x.nrows());
    for (key, data) in [
        ("correlation_fc2_first_16", x.slice(s![.., ..16])),
        ("correlation_pool2_first_24", pool2.slice(s![.., ..24])),
    ] {
        for (name, got) in [
            ("pearson", pearson(data).unwrap()),
            ("spearman", spearman(data).unwrap()),
        ] {
            let want = matrix(&r[key][name]);
            let worst = (&got - &want).mapv(f64::abs).fold(0f64, |m, &d| m.max(d));
            assert!(worst < 1e-5, "{key} {name}: off by {worst}");
        }
    }
}

#[test]
fn trustworthiness_equals_scikit_learn() {
    let (x, r) = small();
    let map = Pca::fit(x.view(), 2)
        .unwrap()
        .transform(x.view())
        .unwrap()
        .mapv(|v| v as f32);
    let got = trustworthiness(x.view(), map.view(), 10).unwrap();
    let want = r["trustworthiness_10_of_pca2"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
}

/// 500 points: KL within 10% of scikit-learn's and trustworthiness within 0.01 (looser than the 10,000-point
/// acceptance bounds of 5% and 0.005: a small map varies more from one implementation's path to another's).
#[test]
fn tsne_of_500_digits_matches_scikit_learn() {
    let (x, r) = small();
    let mut tsne = Tsne::new(x.view(), &TsneOptions::default()).unwrap();
    let kl = tsne.run().kl_divergence.unwrap();
    let t = trustworthiness(x.view(), tsne.embedding().view(), 10).unwrap();
    let want = &r["tsne_fc2"];
    let (want_kl, want_t) = (
        want["kl_divergence"].as_f64().unwrap(),
        want["trustworthiness_10"].as_f64().unwrap(),
    );
    println!("t-SNE 500: KL {kl:.4} (sklearn {want_kl:.4}), T {t:.4} (sklearn {want_t:.4})");
    assert!(
        (kl - want_kl).abs() < 0.10 * want_kl,
        "KL {kl} vs {want_kl}"
    );
    assert!((t - want_t).abs() < 0.01, "trustworthiness {t} vs {want_t}");
}

#[test]
fn umap_curve_parameters_equal_umap_learn() {
    let r = reference("analysis-small.json");
    let want = floats(&r["umap_ab_min_dist_0.1"]);
    let (a, b) = fit_ab(1.0, 0.1).unwrap();
    assert!(
        (a - want[0]).abs() < 1e-4 * want[0] && (b - want[1]).abs() < 1e-4 * want[1],
        "{a} {b} vs {want:?}"
    );
}

/// 500 points: trustworthiness within 0.01 of umap-learn's (PCA initialisation on both sides).
#[test]
fn umap_of_500_digits_matches_umap_learn() {
    let (x, r) = small();
    let mut umap = Umap::new(x.view(), &UmapOptions::default()).unwrap();
    umap.run();
    let t = trustworthiness(x.view(), umap.embedding().view(), 10).unwrap();
    let want = r["umap_fc2"]["pca"]["trustworthiness_10"].as_f64().unwrap();
    println!("UMAP 500: T {t:.4} (umap-learn {want:.4})");
    assert!((t - want).abs() < 0.01, "trustworthiness {t} vs {want}");
}

fn features_dir() -> PathBuf {
    root().join("target/analysis")
}

/// Writes the fc2 and pool2 features of all t10k digits (little-endian f32, row-major) for
/// `tests/reference/analysis.py`.
#[test]
#[ignore]
fn write_features() {
    std::fs::create_dir_all(features_dir()).unwrap();
    for layer in ["fc2", "pool2"] {
        let x = features(layer, 10_000);
        let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(features_dir().join(format!("t10k-{layer}.f32")), bytes).unwrap();
    }
}

/// The acceptance figures on all 10,000 t10k digits: PCA ratios to 1e-4, t-SNE KL within 5% and
/// trustworthiness within 0.005 of scikit-learn's, UMAP trustworthiness within 0.005 of umap-learn's.
#[test]
#[ignore]
fn acceptance_on_all_t10k_digits() {
    let r = reference("analysis-t10k.json");
    let x = features("fc2", 10_000);
    let pool2 = features("pool2", 10_000);
    assert_pca_matches(
        &Pca::fit(x.view(), 20).unwrap(),
        &floats(&r["pca_fc2_explained_variance_ratio_20"]),
        None,
    );
    assert_pca_matches(
        &Pca::fit(pool2.view(), 20).unwrap(),
        &floats(&r["pca_pool2_explained_variance_ratio_20"]),
        None,
    );
    let start = std::time::Instant::now();
    let mut tsne = Tsne::new(x.view(), &TsneOptions::default()).unwrap();
    let kl = tsne.run().kl_divergence.unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let t = trustworthiness(x.view(), tsne.embedding().view(), 10).unwrap();
    let want = &r["tsne_fc2"];
    let (want_kl, want_t) = (
        want["kl_divergence"].as_f64().unwrap(),
        want["trustworthiness_10"].as_f64().unwrap(),
    );
    println!("t-SNE 10000: KL {kl:.4} (sklearn {want_kl:.4}), T {t:.4} (sklearn {want_t:.4}), {seconds:.1} s");
    let start = std::time::Instant::now();
    let mut umap = Umap::new(x.view(), &UmapOptions::default()).unwrap();
    umap.run();
    let seconds = start.elapsed().as_secs_f64();
    let tu = trustworthiness(x.view(), umap.embedding().view(), 10).unwrap();
    let want_u = r["umap_fc2"]["pca"]["trustworthiness_10"].as_f64().unwrap();
    println!("UMAP 10000: T {tu:.4} (umap-learn, PCA init {want_u:.4}), {seconds:.1} s");
    assert!(
        (kl - want_kl).abs() < 0.05 * want_kl,
        "KL {kl} vs {want_kl}"
    );
    assert!(
        (t - want_t).abs() < 0.005,
        "trustworthiness {t} vs {want_t}"
    );
    assert!(
        (tu - want_u).abs() < 0.005,
        "UMAP trustworthiness {tu} vs {want_u}"
    );
}
