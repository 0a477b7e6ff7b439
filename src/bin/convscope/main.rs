//! The `convscope` command line: argument parsing and printing only; the work is in the library.
//! Errors are one line on stderr and exit code 2.

mod args;
mod attribute;
mod dataset;
mod deconv;
mod help;
mod input;
mod monitor;
mod nrm;
mod predict;
mod texture;
mod train;
mod visualize;
mod volume;

use convscope::{Error, Result};

fn run(argv: &[String]) -> Result<()> {
    let commands = [
        "predict",
        "eval",
        "activations",
        "filters",
        "train",
        "deconv",
        "attribute",
        "monitor",
        "patches",
        "neighbours",
        "embed",
        "visualize",
        "dream",
        "invert",
        "gram",
        "texture",
        "style",
        "nrm",
        "order",
        "weight-gradient",
    ];
    let Some((command, rest)) = argv.split_first() else {
        return Err(Error::option(
            "command",
            "no command given (run `convscope help` for the list)",
        ));
    };
    if command == "help" || command == "--help" || command == "-h" {
        match rest.first() {
            Some(name) => print!("{}", help::command(name, monitor::USAGE)?),
            None => print!("{}", help::general()),
        }
        return Ok(());
    }
    if rest.iter().any(|a| a == "--help" || a == "-h") && commands.contains(&command.as_str()) {
        print!("{}", help::command(command, monitor::USAGE)?);
        return Ok(());
    }
    match command.as_str() {
        "predict" => predict::predict(rest),
        "eval" => predict::eval(rest),
        "activations" => predict::activations(rest),
        "filters" => predict::filters(rest),
        "train" => train::run(rest),
        "deconv" => deconv::run(rest),
        "attribute" => attribute::run(rest),
        "monitor" => monitor::run(rest),
        "visualize" => visualize::visualize(rest),
        "dream" => visualize::dream(rest),
        "invert" => visualize::invert(rest),
        "patches" => dataset::patches(rest),
        "neighbours" => dataset::neighbours(rest),
        "embed" => dataset::embed(rest),
        "gram" => texture::gram(rest),
        "texture" => texture::texture(rest),
        "style" => texture::style(rest),
        "nrm" => nrm::run(rest),
        "order" => volume::order(rest),
        "weight-gradient" => volume::weight_gradient_command(rest),
        other => Err(Error::unknown("command", other, &commands)),
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
