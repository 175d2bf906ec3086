//! The YAML parser settings every reader shares: flows, answers files and the safety profile.
//!
//! A module of its own, below both `flow` and `safety`, so that neither has to reach into the
//! other for them.

use serde_saphyr::Options;

/// YAML parser settings shared by flows, answers files and the safety profile: bounded, so
/// that alias bombs and deep nesting fail fast with a message instead of eating memory.
pub fn options() -> Options {
    // YAML 1.2 booleans only: an option labelled `No` or `y` stays text.
    serde_saphyr::options! { with_snippet: false, strict_booleans: true }
}
