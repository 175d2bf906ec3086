//! trustguide: guided exercises for couples rebuilding trust, run from YAML flows.
//!
//! The library is the engine and everything a front-end needs around it; the `trustguide`
//! binary only turns its arguments into calls to it.
//! - [`flow`] finds, loads and checks flows into a [`flow::Library`] (every problem reported,
//!   at its line);
//! - [`engine`] runs one flow as a pure state machine (no terminal, files or clock), screening
//!   every typed answer for risk with the built-in [`safety`] profile;
//! - [`run`] is the one loop between the engine and a [`run::FrontEnd`] (how a run is shown)
//!   and its [`run::Recorder`]s (what keeps it);
//! - [`session`] starts, runs and resumes sessions kept in the [`store`], an SQLite file on
//!   this machine, owner-only;
//! - [`term`] holds the front-ends: the terminal (rich or plain) and headless (an answers file);
//! - [`transcript`] records a run as the contract's JSON; [`schedule`] turns a flow's
//!   check-in schedule into dates and iCalendar; [`content`] holds the cards flows include;
//!   [`flowtest`] runs a flow's own `tests:`; [`private_file`] writes a file a partner
//!   should not read (owner-only, whole or not at all), and [`printable`] makes an answer
//!   safe to print (no terminal escapes); [`guard`] bounds the time and memory one template
//!   may take.
//!
//! Start with [`engine::Engine`] to drive a flow yourself, or [`session::Session`] to keep
//! and resume sessions as the `trustguide` command does.
//!
//! trustguide is educational, not therapy. It never diagnoses and never promises outcomes.
#![warn(missing_docs)]

pub mod content;
pub mod engine;
pub mod flow;
pub mod flowtest;
pub mod guard;
pub mod printable;
pub mod private_file;
pub(crate) mod render;
pub mod run;
pub mod safety;
pub mod schedule;
pub mod session;
pub mod store;
pub mod term;
pub mod transcript;
pub(crate) mod yaml;
