//! Front-ends: the thin layers that show engine events and bring answers back.
//!
//! Each implements [`crate::run::FrontEnd`] and is driven by [`crate::run::drive`]. The
//! terminal front-end (dialoguer prompts, or numbered plain prompts for screen readers) is in
//! [`terminal`]; the headless one (answers file in, transcript out) in [`headless`].

pub mod headless;
pub mod terminal;
mod timer;
