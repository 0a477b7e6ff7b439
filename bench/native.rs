//! Native timing harness: `cargo bench --bench native [-- FILTER]`. Prints the best and median time per call of each
//! operation on the shipped LeNet-5 (or `$CONVSCOPE_BENCH_MODEL`) and a t10k digit. The wasm figures come from `bench/wasm.mjs`.

use convscope::explain::attribution::{attribute, Method, Options};
use convscope::explain::deconvnet::deconv_all;
use convscope::explain::texture::{Backbone, RandomNet, Synthesis, SynthesisOptions};
use convscope::io::idx;
use convscope::layers::relu::ReluRule;
use convscope::model::network::Network;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// Median of `rounds` measurements, each averaging enough calls to last ~20 ms. Without `--bench` (that is,
/// under `cargo test --all-targets`) each operation runs once, as a smoke test, and nothing is timed.
fn time(name: &str, filter: &str, mut f: impl FnMut()) {
    if !name.contains(filter) {
        return;
    }
    f();
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < Duration::from_millis(20) {
        f();
        calls += 1;
    }
    let mut rounds: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    let show = |s: f64| {
        if s < 1e-3 {
            format!("{:.1} µs", s * 1e6)
        } else {
            format!("{:.2} ms", s * 1e3)
        }
    };
    println!(
        "{name:<40} {:>10} {:>10}",
        show(rounds[0]),
        show(rounds[rounds.len() / 2])
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = std::env::var("CONVSCOPE_BENCH_MODEL")
        .unwrap_or_else(|_| "www/models/lenet5-mnist.json".into());
    let net = Network::load(&root.join(model))?;
    let images = idx::read_images(root.join("tests/data/mnist/t10k-images-idx3-ubyte.gz"))?;
    let image = images.image(0)?;
    let trace = net.forward(&image)?;
    println!("convscope native benchmarks (1 thread; per call: best and median of 15 rounds)");
    println!("{:<40} {:>10} {:>10}", "", "best", "median");
    time("forward", &filter, || {
        black_box(net.forward(black_box(&image)).ok());
    });
    for (i, l) in net.layers().iter().enumerate() {
        let x = trace.layer_input(i);
        time(&format!("  layer {}", l.name), &filter, || {
            black_box(l.layer.forward(black_box(x)).ok());
        });
    }
    time("gradient backward (given the trace)", &filter, || {
        black_box(trace.target_backward(7, false, ReluRule::Gradient).ok());
    });
    time("deconvnet: all 22 reconstructions", &filter, || {
        black_box(deconv_all(&net, &trace).ok());
    });
    let options = Options::default();
    for method in Method::ALL {
        time(&format!("attribute {}", method.name()), &filter, || {
            black_box(attribute(&net, &image, method, &options).ok());
        });
    }
    texture(&filter, root)
}

/// Issue 16's benchmark: a 128 × 128 RGB texture through the random network (bundled fur.png), one step
/// timed like the rest, then (with `--bench`) the 200 steps of the default run timed once.
fn texture(filter: &str, root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let name = "texture 128x128 RGB random net: one step";
    if !name.contains(filter) {
        return Ok(());
    }
    let style = convscope::io::image::read_rgb(root.join("www/data/textures/fur.png"))?;
    let random = RandomNet::default();
    let mut options = SynthesisOptions::new(1);
    options.steps = convscope::explain::featureviz::render::MAX_STEPS;
    let mut synthesis = Synthesis::texture(Backbone::Random(&random), &style, options)?;
    time(name, filter, || {
        black_box(synthesis.step(Backbone::Random(&random), 1).ok());
    });
    if std::env::args().any(|a| a == "--bench") {
        let start = Instant::now();
        let done = Synthesis::texture(Backbone::Random(&random), &style, SynthesisOptions::new(1))?
            .run(Backbone::Random(&random))?;
        println!(
            "{:<40} {:>10}   (style loss {:.3e} -> {:.3e})",
            "texture 128x128 RGB: 200 steps, once",
            format!("{:.2} s", start.elapsed().as_secs_f64()),
            done.history[0],
            done.losses.style
        );
    }
    Ok(())
}
