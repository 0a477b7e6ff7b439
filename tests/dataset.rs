//! The dataset views against the numpy reference (`tests/reference/dataset.py`, its output
//! `tests/reference/dataset.json` committed beside it): maximally activating patches and nearest neighbours of
//! the shipped LeNet-5 over the first 1,000 MNIST t10k digits, same order and same ties.
//!
//! The reference rebuilds the network in numpy (float64) from the manifest and the safetensors file, so the
//! scores differ from ours (float32) in the last digits only: image indices, positions and boxes must be
//! equal, scores within 1e-5 relative. Pixel-space distances come from the same float32 pixels summed in the
//! same order on both sides, and agree to the last bit (1e-15, what a JSON round trip leaves).
//!
//! A user's own set of PNG pictures is the same data set: the t10k digits written as PNG files give back the
//! IDX bytes, the same features and the same neighbours.

mod common {
    pub mod pictures;
}

use convscope::analysis::features::{source, FeaturePass};
use convscope::explain::dataset::neighbours::{nearest, Metric};
use convscope::explain::dataset::patches::PatchSearch;
use convscope::io::idx::{self, IdxImages};
use convscope::io::pictures::{labels_from_names, list_pngs, read_pictures, PictureSet};
use convscope::model::network::Network;
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn setup() -> (Network, IdxImages, Value) {
    let net = Network::load(&root().join("www/models/lenet5-mnist.json")).unwrap();
    let images =
        idx::read_images(root().join("tests/data/mnist/t10k-images-idx3-ubyte.gz")).unwrap();
    let text = std::fs::read_to_string(root().join("tests/reference/dataset.json")).unwrap();
    (net, images, serde_json::from_str(&text).unwrap())
}

fn close(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * a.abs().max(b.abs()).max(1e-3)
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn patches_equal_the_numpy_reference() {
    let (net, images, reference) = setup();
    let count = reference["images"].as_u64().unwrap() as usize;
    let layers = reference["patches"].as_object().unwrap();
    assert_eq!(layers.len(), 4);
    for (layer, units) in layers {
        let mut search = PatchSearch::new(&net, layer, 9, count).unwrap();
        search.step(&net, &images, count).unwrap();
        let ours = search.result();
        let theirs = units.as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{layer}");
        for (unit, (mine, want)) in ours.iter().zip(theirs).enumerate() {
            let want = want.as_array().unwrap();
            let indices: Vec<usize> = mine.iter().map(|p| p.index).collect();
            let expected: Vec<usize> = want
                .iter()
                .map(|p| p["index"].as_u64().unwrap() as usize)
                .collect();
            assert_eq!(indices, expected, "{layer} unit {unit}");
            for (p, w) in mine.iter().zip(want) {
                let value = w["value"].as_f64().unwrap();
                assert!(
                    close(f64::from(p.value), value, 1e-5),
                    "{layer} {unit}: {} vs {value}",
                    p.value
                );
                assert_eq!(
                    p.bbox.to_vec(),
                    usizes(&w["box"]),
                    "{layer} unit {unit} box"
                );
                let position = p.position.map(|(y, x)| vec![y, x]);
                assert_eq!(
                    position,
                    w.get("position").map(usizes),
                    "{layer} unit {unit}"
                );
            }
        }
    }
}

#[test]
fn neighbours_equal_the_numpy_reference() {
    let (net, images, reference) = setup();
    let count = reference["images"].as_u64().unwrap() as usize;
    let spaces = ["pixels", "pool2", "fc2"];
    let mut pass = FeaturePass::new(&net, &images, &spaces, count).unwrap();
    pass.step(&net, &images, count).unwrap();
    let matrices = pass.finish().unwrap();
    let cases = reference["neighbours"].as_array().unwrap();
    assert_eq!(cases.len(), 5 * 3 * 2);
    for case in cases {
        let query = case["query"].as_u64().unwrap() as usize;
        let layer = case["layer"].as_str().unwrap();
        let metric: Metric = case["metric"].as_str().unwrap().parse().unwrap();
        let image = images.image(query).unwrap();
        let trace = net.forward(&image).unwrap();
        let features = match source(&net, layer).unwrap().0 {
            Some(index) => trace.output(index).unwrap().data().to_vec(),
            None => image.data().to_vec(),
        };
        let data = &matrices[spaces.iter().position(|s| *s == layer).unwrap()];
        let ours = nearest(data.view(), &features, metric, 10).unwrap();
        let want = case["top"].as_array().unwrap();
        let indices: Vec<usize> = ours.iter().map(|n| n.index).collect();
        let expected: Vec<usize> = want
            .iter()
            .map(|n| n["index"].as_u64().unwrap() as usize)
            .collect();
        assert_eq!(indices, expected, "query {query} {layer} {metric:?}");
        let bound = if layer == "pixels" { 1e-15 } else { 1e-5 };
        for (n, w) in ours.iter().zip(want) {
            let distance = w["distance"].as_f64().unwrap();
            assert!(
                close(n.distance, distance, bound),
                "{layer} {metric:?}: {} vs {distance}",
                n.distance
            );
        }
    }
}

#[test]
fn the_t10k_digits_as_png_files_are_the_idx_set() {
    let (net, images, _) = setup();
    let labels =
        idx::read_labels(root().join("tests/data/mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
    let n = 300;
    let dir = std::env::temp_dir().join(format!("convscope-png-set-{}", std::process::id()));
    let written = common::pictures::write_digit_pngs(&dir, &images, &labels, n);
    // Read in index order (the paths as written), the bytes and labels are the IDX set's.
    let (set, names) = read_pictures(&written, 28, 28, n).unwrap();
    let first = images.first(n).unwrap();
    assert_eq!(set, first);
    assert_eq!(labels_from_names(&names, 10).unwrap(), &labels[..n]);
    // Read as a folder (name order: by label, then index), it is the IDX set's images in that order.
    let listed = list_pngs(&dir).unwrap();
    let (by_name, names) = read_pictures(&listed, 28, 28, n).unwrap();
    let order: Vec<usize> = names
        .iter()
        .map(|name| name[name.len() - 9..name.len() - 4].parse().unwrap())
        .collect();
    assert_eq!(by_name, first.subset(&order).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
    // The same features and neighbours, computed from either set.
    let spaces = ["pixels", "pool2", "fc2"];
    let features = |set: &IdxImages| {
        let mut pass = FeaturePass::new(&net, set, &spaces, n).unwrap();
        pass.step(&net, set, n).unwrap();
        pass.finish().unwrap()
    };
    let (ours, theirs) = (features(&set), features(&first));
    assert_eq!(ours, theirs);
    let query = images.image(n + 1).unwrap();
    let trace = net.forward(&query).unwrap();
    let fc2 = trace
        .output(source(&net, "fc2").unwrap().0.unwrap())
        .unwrap();
    let near = nearest(ours[2].view(), fc2.data(), Metric::Cosine, 10).unwrap();
    assert_eq!(
        near,
        nearest(theirs[2].view(), fc2.data(), Metric::Cosine, 10).unwrap()
    );
    assert!(near[0].distance > 0.0 && near.windows(2).all(|w| w[0].distance <= w[1].distance));
}

#[test]
fn a_picture_set_refuses_garbage_truncation_and_counts_it_cannot_hold() {
    let (_, images, _) = setup();
    let png = common::pictures::gray_png(28, 28, &images.pixels[..784]);
    let mut set = PictureSet::new(3, 28, 28, 10).unwrap();
    set.push("one.png", &png).unwrap();
    for (name, bytes) in [
        ("cut.png", &png[..png.len() / 2]),
        ("junk.png", &b"GIF89a..."[..]),
        ("empty.png", &[][..]),
    ] {
        let e = set.push(name, bytes).unwrap_err().to_string();
        assert!(e.starts_with(&format!("bad image: {name}: ")), "{e}");
    }
    assert_eq!(set.finish().0.count, 1);
    let e = PictureSet::new(1_000_001, 28, 28, 100_000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1000001") && e.contains("1 to 100000"), "{e}");
    assert!(PictureSet::new(0, 28, 28, 10).is_err());
}
