//! Writes a sample of the generated phone photos (`tests/common/photos.rs`: t10k digits on paper, every
//! condition) as PNG files with an index, `photos.json`, for the page's upload test
//! (`tests/e2e/photos.test.mjs`): per photo its file, condition, t10k index, true label, the label the
//! CLI's `--image` path gives it (`image::decode`, `preprocess_mnist`, `predict` with the shipped MNIST model) and
//! the generator's parameters.
//!
//! `cargo run --example photo_set -- OUT_DIR [PER_CONDITION] [held-out|development]` (defaults: 5, held-out).
//! The first `n` photos of a condition are the first `n` of `tests/photos.rs`'s acceptance set of that seed.

#[path = "../tests/common/photos.rs"]
mod photos;

use convscope::io::{idx, image};
use convscope::model::network::Network;
use convscope::render::encode_png;
use photos::{photo_set, Condition, DEVELOPMENT_SEED, HELD_OUT_SEED};
use std::path::{Path, PathBuf};

fn main() {
    if let Err(message) = run(std::env::args().skip(1).collect()) {
        eprintln!("photo_set: {message}");
        std::process::exit(2);
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let usage = "usage: photo_set OUT_DIR [PER_CONDITION] [held-out|development]";
    let out = PathBuf::from(args.first().ok_or(usage)?);
    let per_condition: usize = match args.get(1) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("{n:?} is not a count; {usage}"))?,
        None => 5,
    };
    let seed = match args.get(2).map(String::as_str) {
        None | Some("held-out") => HELD_OUT_SEED,
        Some("development") => DEVELOPMENT_SEED,
        Some(other) => return Err(format!("unknown seed {other:?}; {usage}")),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("tests/data/mnist");
    let images =
        idx::read_images(data.join("t10k-images-idx3-ubyte.gz")).map_err(|e| e.to_string())?;
    let labels =
        idx::read_labels(data.join("t10k-labels-idx1-ubyte.gz")).map_err(|e| e.to_string())?;
    let net =
        Network::load(&root.join("www/models/lenet5-mnist.json")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut index = Vec::new();
    for (c, condition) in Condition::ALL.into_iter().enumerate() {
        for (i, photo) in photo_set(&images, &labels, condition, seed, per_condition)
            .into_iter()
            .enumerate()
        {
            let file = format!("photo-{c:02}-{i:03}.png");
            let png = encode_png(&photo.image).map_err(|e| e.to_string())?;
            std::fs::write(out.join(&file), &png).map_err(|e| format!("{file}: {e}"))?;
            index.push(serde_json::json!({
                "file": file,
                "condition": condition.name(),
                "index": photo.index,
                "label": photo.label,
                "native": native_label(&net, &png),
                "params": format!("{:?}", photo.params),
            }));
        }
    }
    let text = serde_json::to_string_pretty(&index).map_err(|e| e.to_string())?;
    std::fs::write(out.join("photos.json"), text).map_err(|e| format!("photos.json: {e}"))?;
    eprintln!("photo_set: {} photos in {}", index.len(), out.display());
    Ok(())
}

/// The label `convscope predict --image` prints for a PNG file; `None` when it refuses the image.
fn native_label(net: &Network, png: &[u8]) -> Option<usize> {
    let [c, h, w] = net.input_shape();
    let input = image::preprocess_mnist(&image::decode(png).ok()?, c, h, w).ok()?;
    Some(net.predict(&input).ok()?.label)
}
