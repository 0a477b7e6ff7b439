//! `convscope monitor build | check | eval`: the runtime monitor of neuron activation patterns
//! (`convscope::explain::monitor`).

use crate::args::Args;
use crate::input::{self, DATASET_OPTIONS, INPUT_OPTIONS};
use convscope::catalogue::options::Values;
use convscope::explain::monitor::eval::{Detector, Evaluation, Labelled, Rates, Scores};
use convscope::explain::monitor::file::manifest as monitor_file;
use convscope::explain::monitor::{
    BuildOptions, GammaChoice, Monitor, DEFAULT_CLUSTERS, DEFAULT_LAYER, DEFAULT_WARNING_RATE,
};
use convscope::io::idx;
use convscope::model::network::Network;
use convscope::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const USAGE: &str = "usage:
  convscope monitor build --model M --images IDX --labels IDX [--count N] --out FILE [--layer fc2]
                          [--gamma G | --warning-rate R] [--clusters K] [--seed S] [--update-manifest] [--json]
      records the on/off pattern of the layer for every correctly classified image; the default γ is G, or
      else the smallest γ at which at most R (default 0.07) of held-out training images warn;
      --update-manifest writes {file, layer, gamma, build statistics} into the manifest's \"monitor\" field
  convscope monitor check --model M [--monitor FILE] [--gamma G] (--image F | --idx IMAGES [--index I]
                          [--count N]) [--json]
      one line per image; the monitor file defaults to the manifest's \"monitor\" entry
  convscope monitor eval  --model M [--monitor FILE] --images IDX --labels IDX --ood-images IDX
                          [--count N] [--max-gamma G] [--json]
      the paper's table for γ = 0…G (default: 6, or more to include the monitor's γ + 2) and AUROC of every
      detector against the out-of-distribution set; --count N uses the first N images of --images and of
      --ood-images";

pub fn run(argv: &[String]) -> Result<()> {
    match argv.split_first() {
        Some((sub, rest)) if sub == "build" => build(rest),
        Some((sub, rest)) if sub == "check" => check(rest),
        Some((sub, rest)) if sub == "eval" => eval(rest),
        Some((sub, _)) => Err(Error::unknown(
            "monitor subcommand",
            sub,
            &["build", "check", "eval"],
        )),
        None => Err(Error::option(
            "monitor",
            "needs a subcommand: build, check or eval (run `convscope monitor --help`)",
        )),
    }
}

fn build(argv: &[String]) -> Result<()> {
    let mut valued = DATASET_OPTIONS.to_vec();
    valued.extend([
        "model",
        "out",
        "layer",
        "gamma",
        "warning-rate",
        "clusters",
        "seed",
    ]);
    let args = Args::parse(argv, &valued, &["update-manifest", "json"])?;
    let gamma = gamma_choice(&args)?;
    let manifest_path = Path::new(args.required("model")?);
    let net = Network::load(manifest_path)?;
    let data = input::dataset(&args)?;
    let out = PathBuf::from(args.required("out")?);
    let options = BuildOptions {
        layer: args.or("layer", DEFAULT_LAYER.to_string())?,
        gamma,
        clusters: args.or("clusters", DEFAULT_CLUSTERS)?,
        seed: args.or("seed", 0)?,
    };
    let started = Instant::now();
    let monitor = Monitor::build(&net, &data.images, &data.labels, &options)?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes = monitor.to_bytes();
    std::fs::write(&out, &bytes).map_err(|e| Error::io(out.display().to_string(), e))?;
    let (entry, inside) = monitor_file::entry(&monitor, manifest_path, &out)?;
    if args.flag("update-manifest") {
        if !inside {
            return Err(Error::option(
                "update-manifest",
                format!(
                    "the monitor file {} is not inside the manifest's directory (the manifest refers to \
                     files relative to itself)",
                    out.display()
                ),
            ));
        }
        monitor_file::register(manifest_path, &entry)?;
    }
    if args.flag("json") {
        println!("{entry}");
        return Ok(());
    }
    print_build(&net, &monitor, bytes.len(), &out, seconds);
    if args.flag("update-manifest") {
        println!(
            "wrote the \"monitor\" entry into {}",
            manifest_path.display()
        );
    }
    Ok(())
}

/// `--gamma G` (a fixed γ) or `--warning-rate R` (calibrate γ; the default).
fn gamma_choice(args: &Args) -> Result<GammaChoice> {
    match (args.opt("gamma")?, args.opt("warning-rate")?) {
        (Some(gamma), None) => Ok(GammaChoice::Fixed(gamma)),
        (None, rate) => Ok(GammaChoice::Calibrated {
            warning_rate: rate.unwrap_or(DEFAULT_WARNING_RATE),
        }),
        (Some(_), Some(_)) => Err(Error::option(
            "gamma",
            "give --gamma (a fixed γ) or --warning-rate (calibrate γ), not both",
        )),
    }
}

/// What `monitor build` made: the monitor, its file, its calibration and each class's patterns and boxes.
fn print_build(net: &Network, monitor: &Monitor, bytes: usize, out: &Path, seconds: f64) {
    let stats = monitor.stats();
    println!(
        "monitor of layer {:?} ({} neurons), default γ = {}: {} bytes written to {}",
        monitor.layer(),
        monitor.neurons(),
        monitor.gamma(),
        bytes,
        out.display()
    );
    println!(
        "{} training images, {} classified correctly, in {seconds:.1} s",
        stats.images,
        stats.correct.iter().sum::<usize>()
    );
    if let Some(c) = stats.calibration {
        println!(
            "γ calibrated on {} held-out training images (every {}th): {} ({:.2}%) warn at γ = {}, target ≤ {:.2}%",
            c.held_out,
            convscope::explain::monitor::HOLD_OUT_EVERY,
            c.warned,
            100.0 * c.warned as f64 / c.held_out.max(1) as f64,
            monitor.gamma(),
            100.0 * c.target
        );
    }
    println!("class  correct  distinct patterns  boxes");
    for (c, label) in net.labels().iter().enumerate() {
        let patterns = monitor.patterns(c).map_or(0, |s| s.len());
        let boxes = monitor
            .boxes()
            .classes()
            .get(c)
            .map_or(0, |b| b.count(monitor.neurons()));
        let correct = stats.correct.get(c).copied().unwrap_or(0);
        println!("{label:>5}  {correct:>7}  {patterns:>17}  {boxes:>5}");
    }
}

/// `--monitor FILE`, or the file named by the manifest's `"monitor"` entry (inside the manifest's folder).
fn load_monitor(args: &Args, net: &Network) -> Result<Monitor> {
    monitor_file::read(
        net,
        Path::new(args.required("model")?),
        args.get("monitor").map(Path::new),
    )
}

/// One line of `monitor check --json`.
#[derive(Serialize)]
struct CheckLine {
    index: usize,
    label: usize,
    warn: bool,
    distance: Option<u32>,
}

fn check(argv: &[String]) -> Result<()> {
    let mut options = INPUT_OPTIONS.to_vec();
    options.extend(["monitor", "gamma"]);
    let args = Args::parse(argv, &options, &["json"])?;
    let net = input::model(&args)?;
    let monitor = load_monitor(&args, &net)?;
    let technique = &convscope::explain::monitor::TECHNIQUE;
    let values = Values::from_flags(technique.id, technique.options, args.given(&["gamma"]))?;
    let gamma = values
        .int(&convscope::explain::monitor::GAMMA)
        .map(|g| u32::try_from(g).unwrap_or(u32::MAX));
    for (index, image) in input::images(&args, &net)? {
        let trace = net.forward(&image)?;
        let result = monitor.check(&net, &trace, gamma)?;
        if args.flag("json") {
            let line = CheckLine {
                index,
                label: result.label,
                warn: result.warn,
                distance: result.distance,
            };
            println!(
                "{}",
                serde_json::to_string(&line).map_err(|e| Error::internal(e.to_string()))?
            );
        } else {
            let label = net.labels().get(result.label).map_or("?", String::as_str);
            let distance = result
                .distance
                .map_or("∞ (no recorded pattern)".to_string(), |d| d.to_string());
            let verdict = if result.warn {
                "unfamiliar pattern"
            } else {
                "seen in training"
            };
            println!(
                "image {index}: predicted {label}, Hamming distance {distance}, γ = {}: {verdict}",
                result.gamma
            );
        }
    }
    Ok(())
}

/// Predictions and scores of every image of a set, with the packed patterns (kept to time the search).
fn score_set(
    net: &Network,
    monitor: &Monitor,
    images: &idx::IdxImages,
) -> Result<Vec<(usize, Vec<u64>, Scores)>> {
    (0..images.count)
        .map(|i| {
            let trace = net.forward(&images.image(i)?)?;
            let check = monitor.check(net, &trace, None)?;
            Ok((check.label, check.pattern, monitor.scores(net, &trace)?))
        })
        .collect()
}

#[derive(Serialize)]
struct EvalReport<'a> {
    layer: &'a str,
    neurons: usize,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    search_microseconds_per_query: f64,
}

fn eval(argv: &[String]) -> Result<()> {
    let mut valued = DATASET_OPTIONS.to_vec();
    valued.extend(["model", "monitor", "ood-images", "max-gamma"]);
    let args = Args::parse(argv, &valued, &["json"])?;
    let net = input::model(&args)?;
    let monitor = load_monitor(&args, &net)?;
    let data = input::dataset(&args)?;
    let ood_images = input::dataset_images(&args, "ood-images")?;
    let scored = score_set(&net, &monitor, &data.images)?;
    let inputs: Vec<Labelled> = scored
        .iter()
        .zip(&data.labels)
        .map(|((predicted, _, scores), &label)| Labelled {
            misclassified: *predicted != usize::from(label),
            scores: *scores,
        })
        .collect();
    let ood: Vec<Scores> = score_set(&net, &monitor, &ood_images)?
        .into_iter()
        .map(|s| s.2)
        .collect();
    let max_gamma = args.or("max-gamma", 6.max(monitor.gamma() + 2))?;
    let evaluation = Evaluation::new(&inputs, &ood, 0..=max_gamma, monitor.gamma())?;

    // The search alone (no forward pass), over the in-distribution patterns, a few rounds.
    const ROUNDS: usize = 5;
    let started = Instant::now();
    let mut checksum = 0u64;
    for _ in 0..ROUNDS {
        for (label, pattern, _) in &scored {
            let nearest = monitor.nearest(*label, std::hint::black_box(pattern));
            checksum += nearest.map_or(0, |n| u64::from(n.distance));
        }
    }
    std::hint::black_box(checksum);
    let microseconds =
        started.elapsed().as_secs_f64() * 1e6 / (ROUNDS * scored.len()).max(1) as f64;

    if args.flag("json") {
        let report = EvalReport {
            layer: monitor.layer(),
            neurons: monitor.neurons(),
            evaluation: &evaluation,
            search_microseconds_per_query: microseconds,
        };
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| Error::internal(e.to_string()))?
        );
        return Ok(());
    }
    print_evaluation(&monitor, &evaluation, microseconds);
    Ok(())
}

fn percent(share: Option<f64>) -> String {
    share.map_or("—".to_string(), |s| format!("{:.2}%", 100.0 * s))
}

fn print_rates(lead: &str, r: &Rates) {
    println!(
        "{lead} {:>8} {:>10} {:>12} {:>12} {:>10}",
        r.warned,
        percent(r.warning_rate),
        percent(r.warned_misclassified),
        percent(r.misclassified_caught),
        percent(r.ood_warning_rate)
    );
}

fn print_evaluation(monitor: &Monitor, e: &Evaluation, microseconds: f64) {
    let patterns: usize = (0..monitor.classes())
        .filter_map(|c| monitor.patterns(c))
        .map(|s| s.len())
        .sum();
    println!(
        "monitor: layer {:?}, {} neurons, {patterns} distinct patterns from {} training images; default γ = {}",
        monitor.layer(),
        monitor.neurons(),
        monitor.stats().images,
        monitor.gamma()
    );
    println!(
        "in-distribution: {} images, {} misclassified; out-of-distribution: {} images\n",
        e.inputs, e.misclassified, e.ood_inputs
    );
    println!("pattern monitor (warn when the Hamming distance to the nearest pattern of the predicted class > γ)");
    println!(
        "{:>5} {:>8} {:>10} {:>12} {:>12} {:>10}",
        "γ", "warned", "warn rate", "warned wrong", "wrong caught", "OOD warned"
    );
    for row in &e.gamma {
        print_rates(&format!("{:>5}", row.gamma), &row.rates);
    }
    println!("\ndetectors (AUROC: in-distribution vs OOD, correct vs misclassified; threshold at 95% TPR in-distribution)");
    println!(
        "{:<24} {:>9} {:>9} {:>10} {:>8} {:>10} {:>12} {:>12} {:>10}",
        "detector",
        "AUROC OOD",
        "AUROC err",
        "threshold",
        "warned",
        "warn rate",
        "warned wrong",
        "wrong caught",
        "OOD warned"
    );
    for d in &e.detectors {
        let auroc = |a: Option<f64>| a.map_or("—".to_string(), |v| format!("{v:.4}"));
        let lead = |rule: &str, threshold: f64| {
            format!(
                "{:<24} {:>9} {:>9} {:>10.3}",
                format!("{} {rule}", d.detector.name()),
                auroc(d.auroc_ood),
                auroc(d.auroc_misclassified),
                threshold
            )
        };
        print_rates(&lead("@95% TPR", d.at_95_tpr.threshold), &d.at_95_tpr.rates);
        if let Some(native) = &d.native {
            let rule = match d.detector {
                Detector::Pattern => format!("γ = {}", e.default_gamma),
                _ => "outside boxes".to_string(),
            };
            print_rates(&lead(&rule, native.threshold), &native.rates);
        }
    }
    let largest = (0..monitor.classes())
        .filter_map(|c| monitor.patterns(c))
        .map(|s| s.len())
        .max()
        .unwrap_or(0);
    println!(
        "\nnearest-pattern search: {microseconds:.2} µs per query (mean over the in-distribution queries; largest class set \
         {largest} patterns)"
    );
}
