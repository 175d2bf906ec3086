//! The `trustguide` command: parse arguments, run, map the result to an exit code.

mod cli;

fn main() {
    // `trustguide schema | head`: when the reader leaves, end quietly as other command-line
    // tools do, instead of failing on the next write. Rust ignores SIGPIPE by default.
    // SAFETY: restoring the default action of one signal, before any other thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    std::process::exit(cli::main());
}
