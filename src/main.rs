//! The `trustguide` command: parse arguments, run, map the result to an exit code.

mod cli;

/// Counts what a template allocates, to stop one that runs away (see `trustguide::guard`).
#[global_allocator]
static ALLOCATOR: trustguide::guard::BudgetAllocator = trustguide::guard::BudgetAllocator;

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
    // Under a file-size limit (`ulimit -f`), a write past it would kill the process with no
    // word. Ignored, the write fails with EFBIG instead, and the usual message names the file
    // that could not be written; what was saved before stays intact.
    // SAFETY: as above, one signal's disposition set before any other thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGXFSZ,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
    trustguide::guard::watch();
    std::process::exit(cli::main());
}
