//! The transcript of a run, as the contract's JSON.
//!
//! It is written as the run goes (events stream straight to the file), so a run of a hundred
//! thousand steps never holds its whole history in memory.

use std::io::{self, Write};

use indexmap::IndexMap;
use minijinja::Value;
use serde::{Deserialize, Serialize};

use crate::engine::Finished;

#[derive(Serialize)]
struct SayEvent<'a> {
    step: &'a str,
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct AskEvent<'a, A: Serialize> {
    step: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    who: Option<&'a str>,
    prompt: &'a str,
    answer: &'a A,
}

#[derive(Serialize)]
struct SafetyEvent<'a> {
    step: &'a str,
    kind: &'static str,
    category: &'a str,
}

#[derive(Serialize)]
struct Tail<'a> {
    outcome: &'a str,
    ended_at: &'a str,
    vars: &'a IndexMap<String, Value>,
    records: &'a IndexMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<&'a crate::schedule::Schedule>,
}

/// The category a transcript gives a safety pause whose category was not kept: one that
/// happened before the session was resumed (the store records only where and when a pause
/// happened, never what was noticed).
pub const CATEGORY_NOT_KEPT: &str = "not_kept";

/// Writes a transcript event by event.
pub struct TranscriptWriter<W: Write> {
    out: W,
    events: u64,
}

impl<W: Write> TranscriptWriter<W> {
    /// Starts the document: `{"flow": ..., "events": [`.
    pub fn start(mut out: W, flow: &str) -> io::Result<TranscriptWriter<W>> {
        out.write_all(b"{\"flow\":")?;
        serde_json::to_writer(&mut out, flow)?;
        out.write_all(b",\"events\":[")?;
        Ok(TranscriptWriter { out, events: 0 })
    }

    fn event<T: Serialize>(&mut self, event: &T) -> io::Result<()> {
        if self.events > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n  ")?;
        serde_json::to_writer(&mut self.out, event)?;
        self.events += 1;
        Ok(())
    }

    /// A `say` event: the text shown at `step`.
    pub fn say(&mut self, step: &str, text: &str) -> io::Result<()> {
        self.event(&SayEvent {
            step,
            kind: "say",
            text,
        })
    }

    /// An `ask` event: the question as shown at `step`, the answer, and the role of who
    /// answered (`None` leaves `who` out, for a step that names nobody).
    pub fn ask<A: Serialize>(
        &mut self,
        step: &str,
        who: Option<&str>,
        prompt: &str,
        answer: &A,
    ) -> io::Result<()> {
        self.event(&AskEvent {
            step,
            kind: "ask",
            who,
            prompt,
            answer,
        })
    }

    /// A safety event. `category` is `None` for a pause recorded before a resume: the session
    /// store never keeps the category, so the resumed run's transcript says [`CATEGORY_NOT_KEPT`].
    pub fn safety(&mut self, step: &str, category: Option<&str>) -> io::Result<()> {
        self.event(&SafetyEvent {
            step,
            kind: "safety",
            category: category.unwrap_or(CATEGORY_NOT_KEPT),
        })
    }

    /// Closes the document with the outcome, variables and records.
    pub fn finish(&mut self, finished: &Finished) -> io::Result<()> {
        self.out.write_all(b"\n],")?;
        let tail = serde_json::to_string(&Tail {
            outcome: finished.outcome.as_str(),
            ended_at: &finished.ended_at,
            vars: &finished.vars,
            records: &finished.records,
            schedule: finished.schedule.as_ref(),
        })?;
        // Splice the tail's fields into the open object: drop its leading `{`.
        self.out.write_all(&tail.as_bytes()[1..])?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// The writer, for a caller that wrote into memory.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A transcript read back, for tests and `trustguide test`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Transcript {
    /// The id of the flow that was run.
    pub flow: String,
    /// `completed`, `stopped`, `safety_stop` or `paused`.
    pub outcome: String,
    /// The step the run ended at (`flow-id/step` inside a called flow).
    pub ended_at: String,
    /// The events in order, each a `say`, `ask` or `safety` object as written.
    pub events: Vec<serde_json::Value>,
    /// The flow's declared `vars` and whatever `set` wrote, at the end.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// The metrics the ending step recorded.
    pub records: serde_json::Map<String, serde_json::Value>,
    /// The check-in schedule the run made, if its ending step has `schedule:`.
    #[serde(default)]
    pub schedule: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Outcome;

    #[test]
    fn writes_the_contract_shape() {
        let mut w = TranscriptWriter::start(Vec::new(), "listening").expect("start");
        w.say("welcome", "Hello \"you\"").expect("say");
        w.ask("topic", Some("speaker"), "What?", &Value::from("chores"))
            .expect("ask");
        let mut vars = IndexMap::new();
        vars.insert("rounds".to_owned(), Value::from(2));
        w.finish(&Finished {
            outcome: Outcome::Completed,
            ended_at: "wrap_up".into(),
            vars,
            records: IndexMap::new(),
            schedule: None,
            resumable: false,
        })
        .expect("finish");
        let bytes = w.into_inner();
        let t: Transcript = serde_json::from_slice(&bytes).expect("valid JSON");
        assert_eq!(t.flow, "listening");
        assert_eq!(t.outcome, "completed");
        assert_eq!(t.ended_at, "wrap_up");
        assert_eq!(t.events.len(), 2);
        assert_eq!(t.events[1]["who"], "speaker");
        assert_eq!(t.events[1]["answer"], "chores");
        assert_eq!(t.vars["rounds"], 2);
    }
}
