//! Integration tests: the real `trustguide` binary, run the way a person or a script runs it.
//!
//! One test binary with modules, built once. [`util::Test`] sets up a private folder
//! (`TRUSTGUIDE_HOME`, a fixed `TRUSTGUIDE_NOW`, no colour) and prints the command, folder,
//! stdout and stderr whenever an expectation fails.

mod util;

mod architecture;
mod authoring;
mod builtin_flows;
mod conventions;
mod diagnostics;
mod embedding;
mod headless;
mod library;
mod nothing_lost;
mod pause;
mod safety;
mod schedule;
mod schema;
mod store;
mod terminal;
