//! The `convscope` binary end to end: `predict --json` against PyTorch's logits for the shipped weights,
//! `eval`, `activations`, and one-line errors with exit code 2 on bad input.

mod common {
    pub mod pictures;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn convscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_convscope"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

const MODEL: &str = "www/models/lenet5-mnist.json";
const T10K: &str = "tests/data/mnist/t10k-images-idx3-ubyte.gz";
const LABELS: &str = "tests/data/mnist/t10k-labels-idx1-ubyte.gz";

#[test]
fn predict_json_matches_pytorch_logits_on_the_shipped_weights() {
    let out = convscope(&[
        "predict", "--model", MODEL, "--idx", T10K, "--index", "0", "--count", "8", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    for line in &lines {
        let i = line["index"].as_u64().unwrap() as usize;
        let path = root().join(format!(
            "tests/data/reference-lenet5-mnist/t10k-{i:05}.json"
        ));
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let ours: Vec<f64> = line["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let theirs: Vec<f64> = reference["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() <= 1e-4 * scale, "image {i}: {a} vs {b}");
        }
        assert_eq!(line["label"], reference["predicted"]);
        let probs: f64 = line["probs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((probs - 1.0).abs() < 1e-5);
    }
}

#[test]
fn eval_json_reports_accuracy_and_confusion() {
    let out = convscope(&[
        "eval", "--model", MODEL, "--images", T10K, "--labels", LABELS, "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 10_000);
    let confusion = v["confusion"].as_array().unwrap();
    let diagonal: u64 = (0..10).map(|k| confusion[k][k].as_u64().unwrap()).sum();
    assert_eq!(diagonal, v["correct"].as_u64().unwrap());
    assert!(v["accuracy"].as_f64().unwrap() >= 0.99);
}

#[test]
fn activations_writes_a_png_grid_for_a_1_based_layer() {
    let dir = std::env::temp_dir().join(format!("convscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("grid.png");
    let out = convscope(&[
        "activations",
        "--model",
        MODEL,
        "--idx",
        T10K,
        "--index",
        "3",
        "--layer",
        "1",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = convscope::io::image::read(&png).unwrap();
    assert!(
        img.width > 6 * 28 && img.height > 28,
        "{}×{}",
        img.width,
        img.height
    );
    // Feed the grid back in as an --image: any PNG is accepted and preprocessed.
    let out = convscope(&[
        "predict",
        "--model",
        MODEL,
        "--image",
        png.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn assert_clean_error(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(
        err.starts_with("convscope: ") && err.contains(needle),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn bad_input_is_one_line_on_stderr_and_exit_code_2() {
    assert_clean_error(
        &convscope(&["predict", "--model", "nope.json", "--idx", T10K]),
        "nope.json",
    );
    assert_clean_error(
        &convscope(&[
            "predict", "--model", MODEL, "--idx", T10K, "--index", "10000",
        ]),
        "selects nothing",
    );
    assert_clean_error(
        &convscope(&["predict", "--model", MODEL, "--image", "Cargo.toml"]),
        "bad image",
    );
    assert_clean_error(
        &convscope(&["predict", "--modle", MODEL]),
        "unknown option --modle",
    );
    assert_clean_error(
        &convscope(&[
            "activations",
            "--model",
            MODEL,
            "--idx",
            T10K,
            "--layer",
            "14",
            "--out",
            "x.png",
        ]),
        "out of range",
    );
    assert_clean_error(&convscope(&["frobnicate"]), "unknown command");
    let dir = std::env::temp_dir().join(format!("convscope-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join(MODEL), dir.join("lenet5-mnist.json")).unwrap();
    let weights = std::fs::read(root().join("www/models/lenet5-mnist.safetensors")).unwrap();
    std::fs::write(
        dir.join("lenet5-mnist.safetensors"),
        &weights[..weights.len() / 3],
    )
    .unwrap();
    let manifest = dir.join("lenet5-mnist.json");
    assert_clean_error(
        &convscope(&[
            "predict",
            "--model",
            manifest.to_str().unwrap(),
            "--idx",
            T10K,
        ]),
        "bad weights file",
    );
    std::fs::remove_dir_all(&dir).ok();
    assert!(Path::new(&root().join(MODEL)).exists());
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The ids listed between `<!-- techniques -->` markers of a doc, in order.
fn documented_ids(doc: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let start = text.find("<!-- techniques").expect("the techniques marker");
    let end = text.find("<!-- /techniques -->").expect("the end marker");
    text[start..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn cli_help_the_js_catalogue_and_the_docs_list_the_same_techniques() {
    let catalogue: Vec<String> = convscope::catalogue::techniques()
        .iter()
        .map(|t| t.id.to_string())
        .collect();
    let help = stdout(&convscope(&["help"]));
    let section = help.split("techniques:\n").nth(1).unwrap();
    let listed: Vec<String> = section
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(listed, catalogue, "convscope help");
    assert_eq!(documented_ids("docs/cli.md"), catalogue, "docs/cli.md");
    assert_eq!(
        documented_ids("docs/js-api.md"),
        catalogue,
        "docs/js-api.md"
    );
    // Each technique also appears, with every option flag, in the help of the command that runs it.
    for t in convscope::catalogue::techniques() {
        let command = t.command.split(' ').next().unwrap();
        let text = stdout(&convscope(&[command, "--help"]));
        assert!(
            text.contains(&format!("  {} — ", t.id)),
            "{command} --help lacks {}",
            t.id
        );
        for o in t.options {
            assert!(
                text.contains(&format!("--{}", o.flag)),
                "{command} --help lacks --{}",
                o.flag
            );
        }
    }
}

#[test]
fn every_command_has_its_own_help() {
    for command in [
        "predict",
        "eval",
        "train",
        "activations",
        "filters",
        "deconv",
        "attribute",
        "visualize",
        "dream",
        "invert",
    ] {
        let text = stdout(&convscope(&[command, "--help"]));
        assert!(
            text.starts_with(&format!("usage: convscope {command} ")),
            "{text}"
        );
        assert_eq!(stdout(&convscope(&["help", command])), text);
    }
    let text = stdout(&convscope(&["monitor", "check", "--help"]));
    assert!(
        text.contains("convscope monitor build") && text.contains("monitor-check"),
        "{text}"
    );
    let text = stdout(&convscope(&["attribute", "--help"]));
    assert!(
        text.contains("--steps") && text.contains("whole number 2 to 100000, default 50"),
        "{text}"
    );
}

/// The JSON one command prints.
fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&stdout(&convscope(args))).unwrap()
}

#[test]
fn one_vocabulary_with_its_documented_aliases() {
    let input = ["--model", MODEL, "--idx", T10K, "--index", "1"];
    let run = |extra: &[&str]| {
        let mut args = vec![extra[0]];
        args.extend(input);
        args.extend(&extra[1..]);
        json(&args)
    };
    // A layer means that layer's output: the deconvnet's `conv2` is the alias of pool2.
    assert_eq!(
        run(&["deconv", "--layer", "pool2", "--channel", "3", "--json"]),
        run(&["deconv", "--layer", "conv2", "--channel", "3", "--json"])
    );
    // --log-prob is --output log_prob.
    let log_prob = run(&[
        "attribute",
        "--method",
        "gradient",
        "--output",
        "log_prob",
        "--json",
    ]);
    assert_eq!(log_prob["output"], "log_prob");
    assert_eq!(
        log_prob,
        run(&["attribute", "--method", "gradient", "--log-prob", "--json"])
    );
    // A method option another method has is an error naming both.
    let mut args = vec!["attribute"];
    args.extend(input);
    args.extend(["--method", "gradient", "--steps", "8", "--json"]);
    assert_clean_error(
        &convscope(&args),
        "option steps: gradient has no such option",
    );
    let mut args = vec!["attribute"];
    args.extend(input);
    args.extend(["--method", "integrated-gradients", "--steps", "1.5"]);
    assert_clean_error(&convscope(&args), "whole number");
    // Filters: conv1's kernels, OIHW.
    let filters = json(&["filters", "--model", MODEL, "--layer", "conv1", "--json"]);
    assert_eq!(filters["shape"], serde_json::json!([6, 1, 5, 5]));
    assert_eq!(filters["data"].as_array().unwrap().len(), 150);
}

#[test]
fn activations_take_a_layer_name_or_its_number() {
    let dir = std::env::temp_dir().join(format!("convscope-act-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = |layer: &str| {
        let out = dir.join(format!("{layer}.png"));
        stdout(&convscope(&[
            "activations",
            "--model",
            MODEL,
            "--idx",
            T10K,
            "--index",
            "0",
            "--layer",
            layer,
            "--out",
            out.to_str().unwrap(),
        ]));
        std::fs::read(out).unwrap()
    };
    assert_eq!(png("relu2"), png("5"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn activations_print_a_layer_as_json() {
    // The arguments as one line (the test paths hold no spaces).
    let run = |extra: &str| {
        let line = format!("activations --model {MODEL} --idx {T10K} --index 0 {extra}");
        convscope(&line.split(' ').collect::<Vec<_>>())
    };
    let json =
        |extra: &str| serde_json::from_str::<serde_json::Value>(&stdout(&run(extra))).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        let data = v["data"].as_array().unwrap();
        data.iter().map(|x| x.as_f64().unwrap() as f32).collect()
    };
    // pool1 is the 2×2 max-pool of relu1: recomputed here from relu1's JSON, value for value.
    let relu1 = json("--layer relu1 --json");
    let pool1 = json("--layer pool1 --json");
    assert_eq!(pool1["layer"], "pool1");
    assert_eq!(relu1["shape"], serde_json::json!([6, 28, 28]));
    assert_eq!(pool1["shape"], serde_json::json!([6, 14, 14]));
    let (r, p) = (floats(&relu1), floats(&pool1));
    for c in 0..6 {
        for y in 0..14 {
            for x in 0..14 {
                let at = |dy: usize, dx: usize| r[c * 784 + (2 * y + dy) * 28 + 2 * x + dx];
                let max = at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
                assert_eq!(p[c * 196 + y * 14 + x], max, "pool1 channel {c} at {y},{x}");
            }
        }
    }
    assert!(
        p.iter().any(|&v| v > 0.0),
        "digit 0 (a 7) switches some unit on"
    );
    // The output layer's ten values are the logits `predict --json` prints; its number is an alias.
    let fc3 = json("--layer fc3 --json");
    assert_eq!(
        (fc3["layer"].as_str(), fc3["shape"].clone()),
        (Some("fc3"), serde_json::json!([10]))
    );
    let predicted: serde_json::Value = serde_json::from_str(&stdout(&convscope(&[
        "predict", "--model", MODEL, "--idx", T10K, "--index", "0", "--json",
    ])))
    .unwrap();
    assert_eq!(fc3["data"], predicted["logits"]);
    assert_eq!(json("--layer 12 --json"), fc3);
    assert_clean_error(
        &run("--layer fc3 --json --out x.png"),
        "exactly one of --json or --out",
    );
    assert_clean_error(&run("--layer fc3"), "exactly one of --json or --out");
}

/// A copy of the shipped model in a fresh folder whose manifest names `weights`.
fn model_in(dir: &Path, weights: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(MODEL)).unwrap()).unwrap();
    manifest["weights"] = weights.into();
    let path = dir.join("m.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    path
}

/// Issue "Hardening I", scope 3: file access is confined to the manifest's folder, regular files only, size
/// checked before reading, and no error echoes a file's contents.
#[test]
fn file_access_is_confined_and_errors_do_not_leak_contents() {
    let dir = std::env::temp_dir().join(format!("convscope-files-{}", std::process::id()));
    let predict = |manifest: &Path| {
        convscope(&[
            "predict",
            "--model",
            manifest.to_str().unwrap(),
            "--idx",
            T10K,
        ])
    };
    let secret = dir.join("secret.txt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&secret, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    for (weights, needle) in [
        ("../../../../etc/passwd", "no .."),
        ("../secret.txt", "no .."),
        (secret.to_str().unwrap(), "relative"),
        ("https://example.org/w.safetensors", "URL scheme"),
    ] {
        let out = predict(&model_in(&dir.join("inner"), weights));
        assert_clean_error(&out, needle);
    }
    #[cfg(unix)]
    {
        let link = dir.join("inner/link.safetensors");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        assert_clean_error(
            &predict(&model_in(&dir.join("inner"), "link.safetensors")),
            "leads out of the manifest's folder",
        );
    }
    // A text file inside the folder as weights: an error that does not echo its first bytes.
    std::fs::copy(&secret, dir.join("inner/passwd.safetensors")).unwrap();
    let out = predict(&model_in(&dir.join("inner"), "passwd.safetensors"));
    assert_clean_error(&out, "bad weights file");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("3475222254926655346") && !err.contains("root"),
        "{err}"
    );
    // Devices, directories and pipes are refused before anything is read.
    if Path::new("/dev/zero").exists() {
        for (flag, path) in [("--image", "/dev/zero"), ("--idx", "/dev/urandom")] {
            let out = convscope(&["predict", "--model", MODEL, flag, path]);
            assert_clean_error(&out, "not a regular file");
        }
        let out = convscope(&["predict", "--model", "/dev/zero", "--idx", T10K]);
        assert_clean_error(&out, "not a regular file");
        let out = predict(&model_in(&dir.join("dev"), "zero"));
        assert_clean_error(&out, "zero");
    }
    let refused = |image: &Path| {
        let out = convscope(&[
            "predict",
            "--model",
            MODEL,
            "--image",
            image.to_str().unwrap(),
        ]);
        assert_clean_error(&out, "not a regular file");
    };
    refused(&dir);
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.map(|s| s.success()).unwrap_or(false) {
        refused(&fifo);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A JSON file of `tests/reference/`.
fn reference(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("tests/reference").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A command line as words, `$M`, `$T` and `$L` standing for the model, the t10k images and labels.
fn words(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| match w {
            "$M" => MODEL.to_string(),
            "$T" => T10K.to_string(),
            "$L" => LABELS.to_string(),
            other => other.to_string(),
        })
        .collect()
}

fn run(line: &str) -> Output {
    let args = words(line);
    convscope(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn run_json(line: &str) -> serde_json::Value {
    serde_json::from_str(&stdout(&run(line))).unwrap()
}

/// Runs `line --out F.png` and reads the figure back.
fn figure(line: &str) -> convscope::io::image::GrayImage {
    let dir = std::env::temp_dir().join(format!("convscope-figure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{}.png", line.len()));
    let out = run(&format!("{line} --out {}", png.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = convscope::io::image::read(&png).unwrap();
    std::fs::remove_file(&png).ok();
    image
}

#[test]
fn patches_json_equals_the_numpy_reference_and_the_figure_is_drawn() {
    let want = &reference("dataset.json")["patches"]["pool2"];
    // `conv2` names the same activations as `pool2` (the deconvnet's alias).
    let got = run_json("patches --model $M --images $T --layer conv2 --count 1000 --json");
    let (got, want) = (got.as_array().unwrap(), want.as_array().unwrap());
    assert_eq!(got.len(), 16);
    for (g, w) in got.iter().zip(want) {
        for (p, q) in g.as_array().unwrap().iter().zip(w.as_array().unwrap()) {
            for key in ["index", "position", "box"] {
                assert_eq!(p[key], q[key], "{key}");
            }
            let (a, b) = (p["value"].as_f64().unwrap(), q["value"].as_f64().unwrap());
            assert!((a - b).abs() < 1e-5 * b.abs(), "{a} vs {b}");
        }
    }
    // 84 rows of 4 crops and 4 projections of 28 pixels, zoom 2.
    let img = figure("patches --model $M --images $T --layer fc2 --top 4 --count 200");
    assert!(
        img.width > 8 * 56 && img.height > 84 * 56,
        "{}×{}",
        img.width,
        img.height
    );
    let out = run("patches --model $M --images $T --layer relu1 --json");
    assert_clean_error(&out, "usable: conv1, conv2");
}

#[test]
fn neighbours_json_equals_the_numpy_reference() {
    let reference = reference("dataset.json");
    let indices = |list: &serde_json::Value| -> Vec<u64> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| n["index"].as_u64().unwrap())
            .collect()
    };
    for case in reference["neighbours"].as_array().unwrap().iter().take(6) {
        let (layer, metric) = (
            case["layer"].as_str().unwrap(),
            case["metric"].as_str().unwrap(),
        );
        let got = run_json(&format!(
            "neighbours --model $M --images $T --count 1000 --idx $T --index {} --layer {layer} \
             --metric {metric} --json",
            case["query"]
        ));
        assert_eq!(
            indices(&got["neighbours"]),
            indices(&case["top"]),
            "{layer} {metric}"
        );
        assert_eq!(got["query"], case["query"]);
        if layer == "pixels" {
            assert_eq!(got["pixels"], got["neighbours"]);
        }
    }
    let out =
        run("neighbours --model $M --images $T --idx $T --layer fc2 --metric manhattan --json");
    assert_clean_error(&out, "manhattan");
}

#[test]
fn the_neighbours_figure_shows_the_query_then_both_lists() {
    // A title, then three rows (the query; 6 neighbours by fc2; 6 by pixels) of 28-pixel images at zoom 2.
    let img = figure(
        "neighbours --model $M --images $T --count 300 --idx $T --index 7 --layer fc2 --top 6",
    );
    assert!(
        img.width >= 6 * 56 && img.height > 3 * 56,
        "{}×{}",
        img.width,
        img.height
    );
    // The query is image 7 of the set searched: its own nearest image by pixels, at distance 0, so the
    // query row's image appears again in the pixel row.
    let got = run_json(
        "neighbours --model $M --images $T --count 300 --idx $T --index 7 --layer fc2 --top 6 \
         --metric euclidean --json",
    );
    assert_eq!(got["pixels"][0]["index"], 7);
    assert_eq!(got["pixels"][0]["distance"], 0.0);
    let out = run("neighbours --model $M --images $T --idx $T --layer fc2 --json --out x.png");
    assert_clean_error(&out, "exactly one of --json or --out");
}

#[test]
fn embed_pca_reports_sklearns_explained_variance_and_tsne_equals_the_library() {
    let want = &reference("analysis-small.json")["pca_fc2"]["explained_variance_ratio"];
    let got = run_json("embed --model $M --images $T --count 500 --layer fc2 --method pca --json");
    assert_eq!(got["method"], "pca");
    assert_eq!(got["points"].as_array().unwrap().len(), 500);
    let ratios = got["explained_variance_ratio"].as_array().unwrap();
    for (a, b) in ratios.iter().zip(want.as_array().unwrap()).take(20) {
        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
        assert!((a - b).abs() <= 1e-4 * b, "{a} vs {b}");
    }
    assert!(got.get("kl_divergence").is_none());
    // t-SNE through the CLI is the library's run, point for point.
    let got = run_json(
        "embed --model $M --images $T --count 120 --layer pool2 --method tsne --perplexity 10 \
         --iterations 300 --json",
    );
    let net = convscope::model::network::Network::load(&root().join(MODEL)).unwrap();
    let images = convscope::io::idx::read_images(root().join(T10K)).unwrap();
    let x = convscope::analysis::features::layer_features(&net, &images, "pool2", 120).unwrap();
    let options = convscope::analysis::tsne::TsneOptions {
        perplexity: 10.0,
        iterations: 300,
        ..Default::default()
    };
    let mut tsne = convscope::analysis::tsne::Tsne::new(x.view(), &options).unwrap();
    tsne.run();
    let map = tsne.embedding();
    for (p, row) in got["points"].as_array().unwrap().iter().zip(map.rows()) {
        assert_eq!(p[0].as_f64().unwrap() as f32, row[0]);
        assert_eq!(p[1].as_f64().unwrap() as f32, row[1]);
    }
    let kl = got["kl_divergence"].as_f64().unwrap();
    assert!((kl - tsne.kl_divergence().unwrap()).abs() < 1e-12, "{kl}");
    let out = run("embed --model $M --images $T --layer fc2 --method tsne --neighbors 5 --json");
    assert_clean_error(&out, "tsne has no such option");
}

#[test]
fn embed_draws_a_map_coloured_by_label() {
    let img = figure(
        "embed --model $M --images $T --labels $L --count 300 --layer fc2 --method umap \
         --iterations 50",
    );
    assert!(
        img.width > 720 && img.height > 720,
        "{}×{}",
        img.width,
        img.height
    );
}

/// How many of the first `n` test images the shipped model classifies correctly, computed with the library.
fn correct_of_first(n: usize) -> usize {
    let net = convscope::model::network::Network::load(&root().join(MODEL)).unwrap();
    let images = convscope::io::idx::read_images(root().join(T10K)).unwrap();
    let labels = convscope::io::idx::read_labels(root().join(LABELS)).unwrap();
    (0..n)
        .filter(|&i| net.predict(&images.image(i).unwrap()).unwrap().label == labels[i] as usize)
        .count()
}

#[test]
fn count_takes_the_first_n_images_of_a_data_set() {
    // The model misses 5 of the first 700 images, 5 of the first 800 and 2 of the first 600.
    let correct = correct_of_first(700);
    assert!(correct < 700);
    let v = json(&[
        "eval", "--model", MODEL, "--images", T10K, "--labels", LABELS, "--count", "700", "--json",
    ]);
    assert_eq!(v["total"], 700);
    assert_eq!(v["correct"].as_u64().unwrap() as usize, correct);
    // serde_json's default float parsing may miss the last bit.
    assert!((v["accuracy"].as_f64().unwrap() - correct as f64 / 700.0).abs() < 1e-15);
    let text = stdout(&convscope(&[
        "eval", "--model", MODEL, "--images", T10K, "--labels", LABELS, "--count", "700",
    ]));
    let expected = format!(
        "accuracy {:.2}% ({correct}/700)",
        correct as f64 / 700.0 * 100.0
    );
    assert!(text.starts_with(&expected), "{text}");

    let dir = std::env::temp_dir().join(format!("convscope-count-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let monitor = dir.join("m.bin");
    let monitor = monitor.to_str().unwrap();
    let entry = json(&[
        "monitor", "build", "--model", MODEL, "--images", T10K, "--labels", LABELS, "--count",
        "800", "--gamma", "0", "--out", monitor, "--json",
    ]);
    assert_eq!(entry["build"]["images"], 800);
    assert_eq!(
        entry["build"]["correct"].as_u64().unwrap() as usize,
        correct_of_first(800)
    );
    const FASHION: &str = "tests/data/fashion-mnist/t10k-images-idx3-ubyte.gz";
    let report = json(&[
        "monitor",
        "eval",
        "--model",
        MODEL,
        "--monitor",
        monitor,
        "--images",
        T10K,
        "--labels",
        LABELS,
        "--ood-images",
        FASHION,
        "--count",
        "600",
        "--json",
    ]);
    assert_eq!(
        (report["inputs"].as_u64(), report["ood_inputs"].as_u64()),
        (Some(600), Some(600))
    );
    assert_eq!(
        report["misclassified"].as_u64().unwrap() as usize,
        600 - correct_of_first(600)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn count_is_at_least_one_and_never_past_the_file() {
    // `command` on the t10k data set with `extra` options and `--count count`.
    let on_t10k = |command: &[&str], extra: &[&str], count: &str| {
        let data = ["--model", MODEL, "--images", T10K, "--labels", LABELS];
        let args: Vec<&str> = [command, &data, extra, &["--count", count]].concat();
        convscope(&args)
    };
    let eval = |count: &str| on_t10k(&["eval"], &[], count);
    assert_clean_error(
        &eval("0"),
        "--count 0 is out of range (allowed: 1 or more images)",
    );
    assert_clean_error(
        &eval("10001"),
        "--count 10001 is out of range (allowed: 1 to 10000: tests/data/mnist/t10k-images-idx3-ubyte.gz \
         has 10000 images)",
    );
    assert_clean_error(&eval("many"), "--count \"many\"");
    assert_clean_error(
        &on_t10k(&["monitor", "eval"], &["--ood-images", T10K], "10001"),
        "--count 10001 is out of range",
    );
    assert_clean_error(
        &on_t10k(&["monitor", "build"], &["--out", "/nonexistent/m.bin"], "0"),
        "--count 0 is out of range",
    );
    assert_clean_error(
        &convscope(&[
            "predict", "--model", MODEL, "--idx", T10K, "--index", "9995", "--count", "6",
        ]),
        "allowed: 1 to 5: tests/data/mnist/t10k-images-idx3-ubyte.gz has 10000 images, 5 from --index 9995",
    );
    let last = stdout(&convscope(&[
        "predict", "--model", MODEL, "--idx", T10K, "--index", "9995", "--count", "5",
    ]));
    assert_eq!(last.lines().count(), 5);
}

/// A scratch file path for one test's output.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("convscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    let values = value.as_array().unwrap().iter();
    values.map(|v| v.as_f64().unwrap() as f32).collect()
}

#[test]
fn visualize_json_is_the_core_render_bit_for_bit() {
    use convscope::explain::featureviz::{atlas, Objective, Parameterization, Render};
    let line =
        "visualize --model $M --objective class:3,conv2:5 --steps 30 --param pixel --seed 5 --json";
    let text = stdout(&run(line));
    let printed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let net = convscope::model::network::Network::load(&root().join(MODEL)).unwrap();
    let mut options = atlas::unit_options(5);
    (options.steps, options.param) = (30, Parameterization::Pixels);
    let objective = Objective::class_logit(3) + Objective::channel("conv2", 5);
    let core = Render::new(&net, &objective, options)
        .unwrap()
        .run(&net)
        .unwrap();
    assert_eq!(printed["shape"], serde_json::json!([1, 28, 28]));
    // Read with Rust's correctly rounded parser (serde_json's may be 1 ulp off without float_roundtrip).
    let numbers = |key: &str| -> Vec<f64> {
        let start = text.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
        let (rest, stops) = match text[start..].strip_prefix('[') {
            Some(array) => (array, &[']'][..]),
            None => (&text[start..], &[',', '}'][..]),
        };
        let end = rest.find(stops).unwrap();
        rest[..end]
            .split(',')
            .map(|v| v.parse::<f64>().unwrap())
            .collect()
    };
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let data: Vec<f32> = numbers("data").iter().map(|&v| v as f32).collect();
    assert_eq!(bits(&data), bits(core.images[0].data()));
    assert_eq!(numbers("objective"), [core.objective]);
    assert_eq!(numbers("history"), core.history);
    // A batch prints one [B, C, H, W] object.
    let batch =
        run_json("visualize --model $M --objective fc2:3 --batch 2 --diversity 1 --steps 5 --json");
    assert_eq!(batch["shape"], serde_json::json!([2, 1, 28, 28]));
    assert_eq!(batch["data"].as_array().unwrap().len(), 2 * 784);
}

#[test]
fn class_images_are_predicted_as_their_class_by_convscope_predict() {
    // The ten class images (defaults: 256 Fourier steps from seeded noise), written as 8-bit IDX.
    let file = scratch("classes.idx");
    let out = run(&format!(
        "visualize --model $M --atlas class --out {}",
        file.display()
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let single = scratch("class3.idx");
    let out = run(&format!(
        "visualize --model $M --objective class:3 --out {}",
        single.display()
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (path, classes) in [(&file, (0..10).collect::<Vec<u64>>()), (&single, vec![3])] {
        let text = stdout(&run(&format!(
            "predict --model $M --idx {} --count {} --json",
            path.display(),
            classes.len()
        )));
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), classes.len());
        for (line, class) in lines.iter().zip(classes) {
            let p = line["probs"][class as usize].as_f64().unwrap();
            assert!(line["label"] == class && p >= 0.99, "class {class}: {line}");
        }
    }
}

#[test]
fn an_atlas_is_a_titled_grid_or_an_array_of_cells() {
    let cells = run_json("visualize --model $M --atlas conv2 --steps 3 --json");
    let cells = cells.as_array().unwrap();
    assert_eq!(cells.len(), 16);
    assert_eq!(
        (cells[5]["title"].as_str(), &cells[5]["shape"]),
        (Some("conv2:5"), &serde_json::json!([1, 28, 28]))
    );
    let grid = figure("visualize --model $M --atlas relu1 --steps 3");
    // Six cells of 28 px at zoom 3 in a 3 × 2 grid, with a title line.
    assert!(
        grid.width >= 3 * 84 && grid.height >= 2 * 84 && grid.height < 3 * 84 + 60,
        "{}x{}",
        grid.width,
        grid.height
    );
}

#[test]
fn dream_grows_the_input_and_invert_reconstructs_it() {
    let dream = run_json("dream --model $M --idx $T --index 0 --json");
    assert_eq!(dream["shape"], serde_json::json!([1, 55, 55]));
    let pixels = floats(&dream["data"]);
    assert!(pixels.iter().all(|v| (0.0..=1.0).contains(v)));
    let energy = dream["history"].as_array().unwrap();
    assert_eq!(energy.len(), 60);
    assert!(
        energy[59].as_f64() > energy[40].as_f64(),
        "{:?}",
        &energy[40..]
    );
    let inverted = run_json("invert --model $M --idx $T --index 0 --layer pool1 --json");
    let digit = convscope::io::idx::read_images(root().join(T10K))
        .unwrap()
        .image(0)
        .unwrap();
    let x = convscope::Tensor::from_vec(&[1, 28, 28], floats(&inverted["data"])).unwrap();
    let r = convscope::explain::featureviz::inversion::pixel_correlation(&x, &digit);
    assert!(r >= 0.95, "pool1 inversion: pixel correlation {r}");
}

#[test]
fn bad_featureviz_flags_are_clear_errors() {
    for (line, needle) in [
        (
            "visualize --model $M --json",
            "visualize needs an objective",
        ),
        (
            "visualize --model $M --objective class:12 --json",
            "out of range (allowed: 0 to 9)",
        ),
        (
            "visualize --model $M --objective dog:1 --json",
            "unknown layer",
        ),
        (
            "visualize --model $M --objective class --json",
            "use class:K, logprob:K",
        ),
        (
            "visualize --model $M --atlas conv2 --batch 2 --json",
            "atlas has no such option",
        ),
        (
            "visualize --model $M --objective class:1 --negative=yes --json",
            "--negative takes no value",
        ),
        (
            "visualize --model $M --objective class:1 --param fft --json",
            "fourier, pixel",
        ),
        (
            "visualize --model $M --objective class:1 --lr 0 --json",
            "from 0.001 to 10",
        ),
        (
            "visualize --model $M --objective class:1 --json --out x.png",
            "give --json or --out",
        ),
        (
            "visualize --model $M --atlas class --out x.idx --param pixel --tv -1",
            "from 0 to 10000",
        ),
        ("dream --model $M --layer fc1 --idx $T --json", "fc1"),
        (
            "dream --model $M --json",
            "give exactly one of --image FILE or --idx IMAGES",
        ),
        (
            "invert --model $M --idx $T --json",
            "invert needs the layer",
        ),
    ] {
        assert_clean_error(&run(line), needle);
    }
}

#[test]
fn gram_json_matches_the_library_and_the_reference() {
    let out = json(&[
        "gram", "--model", MODEL, "--idx", T10K, "--index", "0", "--layer", "relu1", "--json",
    ]);
    assert_eq!(out["layer"], "relu1");
    assert_eq!(out["shape"], serde_json::json!([6, 6]));
    let data: Vec<f64> = out["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/reference/texture-gram.json")).unwrap(),
    )
    .unwrap();
    let want: Vec<f64> = reference["cases"][0]["grams"]["relu1"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in data.iter().zip(&want) {
        assert!((a - b).abs() < 1e-5 * scale, "{a} vs {b}");
    }
    let e = convscope(&[
        "gram", "--model", MODEL, "--idx", T10K, "--layer", "fc1", "--json",
    ]);
    assert_clean_error(&e, "fc1");
}

#[test]
fn texture_and_style_print_the_documented_json_and_write_pngs() {
    let dir = std::env::temp_dir().join(format!("convscope-texture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = json(&[
        "texture",
        "--style",
        "www/data/textures/brick.png",
        "--net",
        "model",
        "--model",
        MODEL,
        "--size",
        "24,20",
        "--layers",
        "relu1,pool1",
        "--layer-weights",
        "1,0.5",
        "--steps",
        "20",
        "--seed",
        "3",
        "--json",
    ]);
    assert_eq!(out["shape"], serde_json::json!([1, 24, 20]));
    assert_eq!(out["data"].as_array().unwrap().len(), 24 * 20);
    assert!(out["content_loss"].is_null());
    let history = out["history"].as_array().unwrap();
    assert_eq!(history.len(), 20);
    let first = history[0].as_f64().unwrap();
    assert!(out["style_loss"].as_f64().unwrap() < first, "{out}");
    let png = dir.join("texture.png");
    let done = convscope(&[
        "texture",
        "--style",
        "www/data/textures/fur.png",
        "--size",
        "16,16",
        "--steps",
        "3",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let image = convscope::io::image::read_rgb(&png).unwrap();
    assert_eq!(image.shape(), [3, 16, 16]);
    let out = json(&[
        "style",
        "--content",
        "www/data/textures/cat.png",
        "--style",
        "www/data/textures/fur.png",
        "--steps",
        "2",
        "--json",
    ]);
    assert_eq!(out["shape"], serde_json::json!([3, 128, 128]));
    assert!(out["content_loss"].as_f64().unwrap() >= 0.0);
    assert_clean_error(
        &convscope(&[
            "texture",
            "--style",
            "www/data/textures/fur.png",
            "--net",
            "model",
            "--json",
        ]),
        "--model",
    );
    assert_clean_error(
        &convscope(&[
            "texture",
            "--style",
            "www/data/textures/fur.png",
            "--size",
            "0,3",
            "--json",
        ]),
        "size",
    );
    assert_clean_error(
        &convscope(&["style", "--style", "www/data/textures/fur.png", "--json"]),
        "--content",
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn attribute_without_a_method_runs_the_declared_default() {
    // Integrated gradients with 8 steps on t10k image 3.
    let input = format!("attribute --model {MODEL} --idx {T10K} --index 3 --steps 8");
    let input: Vec<&str> = input.split(' ').collect();
    let default = json(&[&input[..], &["--json"]].concat());
    let named = json(&[&input[..], &["--method", "integrated-gradients", "--json"]].concat());
    assert_eq!(default["method"], "integrated-gradients");
    assert_eq!(default, named);
    let help = stdout(&convscope(&["attribute", "--help"]));
    let marked: Vec<&str> = help
        .lines()
        .filter(|l| l.contains("(the default)"))
        .collect();
    assert_eq!(marked.len(), 1, "{help}");
    assert!(
        marked[0]
            .trim_start()
            .starts_with("integrated-gradients — "),
        "{help}"
    );
}

#[test]
fn a_folder_or_list_of_png_files_is_the_same_data_set_as_its_idx_file() {
    let images = convscope::io::idx::read_images(root().join(T10K)).unwrap();
    let labels = convscope::io::idx::read_labels(root().join(LABELS)).unwrap();
    let dir = std::env::temp_dir().join(format!("convscope-cli-pngs-{}", std::process::id()));
    let n = 200;
    let files = common::pictures::write_digit_pngs(&dir, &images, &labels, n);
    let listed: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    // Several files, in the order given: the IDX set's first 200 images.
    let query = "--idx $T --index 250 --layer fc2 --json";
    let from_idx = run_json(&format!(
        "neighbours --model $M --images $T --count {n} {query}"
    ));
    let from_files = run_json(&format!(
        "neighbours --model $M --images {} {query}",
        listed.join(" ")
    ));
    assert_eq!(from_files, from_idx);
    // A folder, in name order, with `--count` and labels from the names; the PCA map equals the IDX set's
    // in that order.
    let order: Vec<usize> = {
        let mut named: Vec<(String, usize)> = (0..n)
            .map(|i| (format!("{}_{i:05}.png", labels[i]), i))
            .collect();
        named.sort();
        named.into_iter().map(|(_, i)| i).collect()
    };
    let subset = images.subset(&order[..150]).unwrap();
    let reordered = dir.join("reordered.idx");
    std::fs::write(
        &reordered,
        convscope::io::idx::encode_images(&subset).unwrap(),
    )
    .unwrap();
    let pca = |images: &str, labels: &str| {
        run_json(&format!("embed --model $M --images {images} --count 150 {labels} --layer fc2 --method pca --json"))
    };
    let folder = dir.display().to_string();
    assert_eq!(
        pca(&folder, "--labels names"),
        pca(&reordered.display().to_string(), "")
    );
    let img = figure(&format!(
        "embed --model $M --images {folder} --labels names --layer pool2 --method pca"
    ));
    assert!(img.width > 720, "{}", img.width);
    // Hostile sets: a label file too short, names without labels, an IDX set with --labels names, a
    // truncated picture (named in the message), a folder without PNG files.
    let short = dir.join("short.idx");
    std::fs::write(
        &short,
        convscope::io::idx::encode_labels(&labels[..10]).unwrap(),
    )
    .unwrap();
    let out = run(&format!(
        "embed --model $M --images {folder} --labels {} --layer fc2 --method pca --json",
        short.display()
    ));
    assert_clean_error(&out, "labels (one per image)");
    let png = std::fs::read(&files[0]).unwrap();
    std::fs::write(dir.join("zz.png"), &png).unwrap();
    let out = run(&format!(
        "embed --model $M --images {folder} --labels names --layer fc2 --method pca --json"
    ));
    assert_clean_error(
        &out,
        "\"zz.png\" does not start with a class number from 0 to 9",
    );
    std::fs::write(dir.join("zz.png"), &png[..60]).unwrap();
    let out = run(&format!(
        "embed --model $M --images {folder} --layer fc2 --method pca --json"
    ));
    assert_clean_error(&out, "zz.png: ");
    let out = run(
        "embed --model $M --images $T --count 50 --labels names --layer fc2 --method pca --json",
    );
    assert_clean_error(
        &out,
        "--labels names reads the labels from the names of PNG pictures",
    );
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run(&format!(
        "patches --model $M --images {} --layer conv1 --json",
        empty.display()
    ));
    assert_clean_error(&out, "no .png files");
    std::fs::remove_dir_all(&dir).unwrap();
}
