//! The `convscope` command line: argument parsing and printing only; the work is in the library.
fn main() {
    eprintln!("convscope: the command line is being written");
    std::process::exit(2);
}
