//! The `trustguide` command: parse arguments, run, map the result to an exit code.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
