#![warn(missing_docs)]
//! trustguide: guided exercises for couples rebuilding trust, run from YAML flows.
//!
//! The library is the engine and everything a front-end needs around it:
//! - [`flow`] finds, loads and checks flows into a [`flow::Library`];
//! - [`engine`] runs one flow as a pure state machine (no terminal, files or clock);
//! - [`transcript`] records a run as the contract's JSON;
//! - [`term`] holds the front-ends that drive the engine: terminal, plain and headless.
//!
//! trustguide is educational, not therapy. It never diagnoses and never promises outcomes.

pub mod content;
pub mod engine;
pub mod flow;
pub mod flowtest;
pub(crate) mod render;
pub mod run;
pub mod safety;
pub mod schedule;
pub mod session;
pub mod store;
pub mod term;
pub mod transcript;
pub(crate) mod yaml;
