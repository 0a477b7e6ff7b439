//! The `convscope` command line: argument parsing and printing only; the work is in the library.
//! Errors are one line on stderr and exit code 2.

mod args;
mod attribute;
mod deconv;
mod input;
mod monitor;
mod predict;
mod train;

use convscope::{Error, Result};

const USAGE: &str = "convscope — a microscope for convolutional networks

usage: convscope <command> [options]
  predict     --model M (--image F | --idx IMAGES [--index I] [--count N]) [--json]
  eval        --model M --images IDX --labels IDX [--json]
  train       --train-images IDX --train-labels IDX [--test-images IDX --test-labels IDX] --out DIR/NAME [options]
  activations --model M (--image F | --idx IMAGES --index I) --layer N --out grid.png [--colormap NAME]
  deconv      --model M (--image F | --idx IMAGES --index I) --layer conv1|conv2 --channel K [--unit max|Y,X] [--json | --out F.png]
  attribute   --model M (--image F | --idx IMAGES --index I) --method NAME [--target C] [...] [--json | --out F.png]
  monitor     build | check | eval ...
Run `convscope <command> --help` for a command's options.";

fn run(argv: &[String]) -> Result<()> {
    let Some((command, rest)) = argv.split_first() else {
        return Err(Error::invalid(
            "no command given (run `convscope help` for the list)",
        ));
    };
    if rest.iter().any(|a| a == "--help" || a == "-h") || command == "help" || command == "--help" {
        println!("{USAGE}");
        return Ok(());
    }
    match command.as_str() {
        "predict" => predict::predict(rest),
        "eval" => predict::eval(rest),
        "activations" => predict::activations(rest),
        "train" => train::run(rest),
        "deconv" => deconv::run(rest),
        "attribute" => attribute::run(rest),
        "monitor" => monitor::run(rest),
        other => Err(Error::invalid(format!(
            "unknown command {other:?} (run `convscope help` for the list)"
        ))),
    }
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        // `println!` panics when the reader of stdout went away (`convscope predict … | head`): that is the
        // reader's choice, not an error, so end quietly as a program killed by SIGPIPE would.
        if info.to_string().contains("Broken pipe") {
            std::process::exit(0);
        }
        eprintln!("convscope: internal error: {info}");
        std::process::exit(2);
    }));
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&argv) {
        eprintln!("convscope: {e}");
        std::process::exit(2);
    }
}
