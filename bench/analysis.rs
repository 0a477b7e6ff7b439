//! Timing of the analysis module on the shipped LeNet-5 and the MNIST t10k digits:
//! `cargo bench --bench analysis [-- FILTER]`. Each operation runs once per round (they take seconds), three
//! rounds, best and median printed, with the quality figures of the result (KL divergence, trustworthiness).
//! Without `--bench` (under `cargo test --all-targets`) everything runs once on 300 digits, as a smoke test.

use convscope::analysis::features::layer_features;
use convscope::analysis::kmeans::{kmeans, KMeansOptions};
use convscope::analysis::neighbors::{nearest_neighbors, trustworthiness};
use convscope::analysis::pca::Pca;
use convscope::analysis::tsne::{Tsne, TsneOptions};
use convscope::io::idx;
use convscope::model::network::Network;
use ndarray::Array2;
use std::path::Path;
use std::time::Instant;

/// Runs `f` once (smoke) or three times (`--bench`), printing the best and median seconds and what the
/// last run returned.
fn time(name: &str, filter: &str, benching: bool, mut f: impl FnMut() -> String) {
    if !name.contains(filter) {
        return;
    }
    let rounds = if benching { 3 } else { 1 };
    let mut seconds = Vec::new();
    let mut note = String::new();
    for _ in 0..rounds {
        let t = Instant::now();
        note = f();
        seconds.push(t.elapsed().as_secs_f64());
    }
    seconds.sort_by(f64::total_cmp);
    println!(
        "{name:<44} {:>8.3} s {:>8.3} s  {note}",
        seconds[0],
        seconds[seconds.len() / 2]
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let benching = std::env::args().any(|a| a == "--bench");
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    let count = if benching { 10_000 } else { 300 };
    let net = Network::load(&root.join("www/models/lenet5-mnist.json")).expect("the shipped model");
    let images = idx::read_images(root.join("tests/data/mnist/t10k-images-idx3-ubyte.gz"))
        .expect("the t10k images");
    let mut fc2 = Array2::zeros((0, 0));
    time(
        &format!("fc2 features of {count} digits"),
        &filter,
        benching,
        || {
            fc2 = layer_features(&net, &images, "fc2", count).expect("features");
            format!("{:?}", fc2.dim())
        },
    );
    let pool2 = layer_features(&net, &images, "pool2", count).expect("features");
    time(
        &format!("PCA of {count} × 400 (pool2)"),
        &filter,
        benching,
        || {
            let pca = Pca::fit(pool2.view(), 20).expect("PCA");
            format!("top ratio {:.4}", pca.explained_variance_ratio[0])
        },
    );
    time(
        &format!("k-means k=10 ×10 restarts, {count} × 84"),
        &filter,
        benching,
        || {
            let options = KMeansOptions {
                clusters: 10,
                ..Default::default()
            };
            format!(
                "inertia {:.3}",
                kmeans(fc2.view(), &options).expect("k-means").inertia
            )
        },
    );
    time(
        &format!("91 nearest neighbours, {count} × 84"),
        &filter,
        benching,
        || {
            let nn = nearest_neighbors(fc2.view(), 91).expect("kNN");
            format!("{}", nn.indices.ncols())
        },
    );
    time(
        &format!("t-SNE of {count} × 84, 1000 iterations"),
        &filter,
        benching,
        || {
            let mut tsne = Tsne::new(fc2.view(), &TsneOptions::default()).expect("t-SNE");
            let kl = tsne.run().kl_divergence.unwrap_or(f64::NAN);
            let t = trustworthiness(fc2.view(), tsne.embedding().view(), 10).expect("T");
            format!("KL {kl:.4}, trustworthiness(10) {t:.4}")
        },
    );
}
