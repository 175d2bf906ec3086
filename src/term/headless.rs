//! The headless front-end: answers come from a YAML file, the run is printed as plain text.
//!
//! The answers file maps step ids to an answer, or to a list of answers used in order when a
//! step is visited more than once. `who: both` steps take a map `{role: answer}`. A single
//! (non-list) answer is reused on every visit. Every problem names the answers file and the
//! line, and the step it was meant for.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use indexmap::IndexMap;
use minijinja::value::ValueKind;
use minijinja::Value;
use serde_saphyr::Spanned;

use crate::engine::{Finished, Progress, Question, Reply, SafetyChoice};
use crate::flow::load::{decode_source, yaml_error, yaml_options};
use crate::flow::suggest::nearest;
use crate::flow::{AskKind, Diagnostic, Library};
use crate::printable::printable;
use crate::run::{DriveError, FrontEnd, Input};

/// The answers of one headless run.
#[derive(Debug)]
pub struct AnswerBook {
    file: String,
    entries: IndexMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    line: u32,
    column: u32,
    value: Value,
    /// How many answers were taken from a list so far.
    used: usize,
    /// For `who: both`: the map being answered turn by turn.
    current: Option<Value>,
    /// A list value was taken whole, as one answer (a `list` or `multi` step).
    whole: bool,
}

impl AnswerBook {
    /// Reads an answers file.
    pub fn read(path: &Path) -> Result<AnswerBook, Diagnostic> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| crate::flow::load::unreadable(&file, "the answers file", &e))?;
        if bytes.len() as u64 > crate::flow::load::MAX_FLOW_BYTES {
            let mb = |n: u64| n as f64 / (1024.0 * 1024.0);
            return Err(Diagnostic::new(
                crate::flow::Code::File,
                &file,
                format!(
                    "the answers file is {:.1} MB; an answers file may be at most {:.0} MB",
                    mb(bytes.len() as u64),
                    mb(crate::flow::load::MAX_FLOW_BYTES)
                ),
            )
            .with_help("an answers file holds one `step: answer` line per question; is this the right file?"));
        }
        let text = decode_source(&file, bytes)?;
        AnswerBook::parse(&file, &text)
    }

    /// Parses answers from text; `file` names it in messages.
    pub fn parse(file: &str, text: &str) -> Result<AnswerBook, Diagnostic> {
        if text.trim().is_empty() {
            return Ok(AnswerBook {
                file: file.to_owned(),
                entries: IndexMap::new(),
            });
        }
        let raw: IndexMap<Spanned<String>, Value> =
            serde_saphyr::from_str_with_options(text, yaml_options()).map_err(|e| {
                let mut d = yaml_error(file, text, &e);
                if d.message.starts_with("a file holds one flow") {
                    d.message = "one YAML document per answers file: `---` starts a second one here".to_owned();
                    d.help = Some("remove the `---` and put every answer in one document, one `step: answer` line per question".to_owned());
                    d.fix = None;
                }
                if d.message.contains("invalid type") {
                    d = d.with_help(
                        "an answers file maps step ids to answers, e.g. `topic: chores`",
                    );
                }
                d
            })?;
        let entries = raw
            .into_iter()
            .map(|(key, value)| {
                let entry = Entry {
                    line: key.referenced.line() as u32,
                    column: key.referenced.column() as u32,
                    value,
                    used: 0,
                    current: None,
                    whole: false,
                };
                (key.value, entry)
            })
            .collect();
        Ok(AnswerBook {
            file: file.to_owned(),
            entries,
        })
    }

    /// An answers book from a flow's `tests:` case.
    pub fn from_pairs(file: &str, pairs: &[(String, Value)]) -> AnswerBook {
        let entries = pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Entry {
                        line: 0,
                        column: 0,
                        value: v.clone(),
                        used: 0,
                        current: None,
                        whole: false,
                    },
                )
            })
            .collect();
        AnswerBook {
            file: file.to_owned(),
            entries,
        }
    }

    /// Checks that every key names a step of `flow` or of a flow it calls.
    pub fn check_keys(&self, lib: &Library, flow: usize) -> Result<(), String> {
        let mut known: HashSet<String> = HashSet::new();
        let mut pending = vec![(flow, true)];
        let mut seen = HashSet::new();
        while let Some((index, top)) = pending.pop() {
            if !seen.insert(index) {
                continue;
            }
            let f = lib.flow(index);
            for step in &f.steps {
                if step.ask.is_none() {
                    continue;
                }
                let id = step.id.clone().unwrap_or_default();
                if !top {
                    known.insert(format!("{}/{id}", f.id));
                }
                known.insert(id);
                if let Some(callee) = step.call.as_ref().and_then(|c| lib.index_of(c)) {
                    pending.push((callee, false));
                }
            }
            for step in &f.steps {
                if let Some(callee) = step.call.as_ref().and_then(|c| lib.index_of(c)) {
                    pending.push((callee, false));
                }
            }
        }
        for (key, entry) in &self.entries {
            if !known.contains(key) {
                let hint = nearest(key, known.iter().map(String::as_str))
                    .map(|h| format!("; did you mean `{h}`?"))
                    .unwrap_or_default();
                return Err(format!(
                    "{}: `{key}` is not a question of flow `{}`{hint}",
                    self.at(entry.line, entry.column),
                    lib.flow(flow).id
                ));
            }
        }
        Ok(())
    }

    /// Keys whose list answers were not all used, for a closing note.
    pub fn unused(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, e)| {
                e.value.kind() == ValueKind::Seq && !e.whole && e.used < e.value.len().unwrap_or(0)
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Where an entry stands in the answers file, for messages.
    fn at(&self, line: u32, column: u32) -> String {
        match line {
            0 => self.file.clone(),
            line => format!("{}:{line}:{column}", self.file),
        }
    }

    /// The answer for `question` and the entry's (line, column), or a message naming the
    /// file, line and step.
    fn take(&mut self, question: &Question<'_>) -> Result<(Value, (u32, u32)), String> {
        let step = question.step.as_str();
        let key = if self.entries.contains_key(step) {
            step
        } else {
            step.rsplit('/').next().unwrap_or(step)
        };
        let Some(entry) = self.entries.get_mut(key) else {
            let who = question
                .who
                .as_ref()
                .map(|p| format!(" (asked of {})", p.role))
                .unwrap_or_default();
            return Err(format!(
                "{}: no answer for step `{step}`{who}: \"{}\"",
                self.file, question.prompt
            ));
        };
        let position = (entry.line, entry.column);
        if question.turns > 1 && question.turn > 0 {
            if let Some(map) = &entry.current {
                let picked = pick_role(map, question);
                return picked
                    .map(|v| (v, position))
                    .map_err(|m| format!("{}: {m}", self.at(position.0, position.1)));
            }
        }
        let value = if is_answer_list(&entry.value, question.kind, question.turns > 1) {
            let len = entry.value.len().unwrap_or(0);
            if entry.used >= len {
                let reached = entry.used + 1;
                return Err(format!(
                    "{}: step `{step}` was reached {reached} times, but the answers file gives {len} answer{}",
                    self.at(position.0, position.1),
                    if len == 1 { "" } else { "s" }
                ));
            }
            let v = entry
                .value
                .get_item_by_index(entry.used)
                .map_err(|e| e.to_string())?;
            entry.used += 1;
            v
        } else {
            entry.whole = true;
            entry.value.clone()
        };
        if question.turns > 1 {
            entry.current = Some(value.clone());
            let picked = pick_role(&value, question);
            return picked
                .map(|v| (v, position))
                .map_err(|m| format!("{}: {m}", self.at(position.0, position.1)));
        }
        Ok((value, position))
    }
}

/// Whether a list value is several answers (one per visit) rather than one list answer.
pub(crate) fn is_answer_list(value: &Value, kind: &AskKind, both: bool) -> bool {
    if value.kind() != ValueKind::Seq {
        return false;
    }
    if both {
        return true;
    }
    match kind {
        // A flat list is one multi-select or one list answer; a list of lists is several.
        AskKind::Multi { .. } | AskKind::List { .. } => value
            .get_item_by_index(0)
            .is_ok_and(|first| first.kind() == ValueKind::Seq),
        _ => true,
    }
}

fn pick_role(map: &Value, question: &Question<'_>) -> Result<Value, String> {
    let role = question
        .who
        .as_ref()
        .map(|p| p.role.as_str())
        .unwrap_or_default();
    if map.kind() != ValueKind::Map {
        return Err(format!(
            "step `{}` is answered by each participant: give a map such as `{{{role}: ...}}`",
            question.step
        ));
    }
    match map.get_attr(role) {
        Ok(v) if !v.is_undefined() => Ok(v),
        _ => Err(format!(
            "step `{}` has no answer for `{role}`",
            question.step
        )),
    }
}

/// Prints the run as readable text while taking answers from an [`AnswerBook`].
pub struct Headless<W: Write> {
    book: AnswerBook,
    out: W,
    /// (line, column) of the answer just given, for a message if the engine refuses it.
    position: (u32, u32),
    /// A text answer of `/pause` (or the couple's word) pauses, as at the keyboard.
    pause: crate::run::PauseSignal,
    help: Option<crate::run::SafetyHelp>,
}

impl<W: Write> Headless<W> {
    /// What has been written so far (for a test that reads what the run showed).
    pub fn written(&self) -> &W {
        &self.out
    }

    /// A headless front-end that takes answers from `book` and writes what it shows to `out`.
    pub fn new(book: AnswerBook, out: W) -> Headless<W> {
        Headless {
            book,
            out,
            position: (0, 0),
            pause: crate::run::PauseSignal::default(),
            help: None,
        }
    }

    /// What a safety pause shows: the calm messages and the help for the region.
    pub fn with_help(mut self, help: crate::run::SafetyHelp) -> Headless<W> {
        self.help = Some(help);
        self
    }

    /// What pauses the run when it stands as an answer: `/pause` and the couple's word.
    pub fn with_pause_signal(mut self, pause: crate::run::PauseSignal) -> Headless<W> {
        self.pause = pause;
        self
    }

    /// The answers it takes from.
    pub fn book(&self) -> &AnswerBook {
        &self.book
    }
}

impl<W: Write> FrontEnd for Headless<W> {
    fn say(&mut self, _step: &str, text: &str, _progress: Progress) -> Result<(), DriveError> {
        writeln!(self.out, "{}\n", printable(text))?;
        Ok(())
    }

    fn timer(&mut self, _step: &str, _seconds: u32) -> Result<(), DriveError> {
        Ok(())
    }

    fn ask(&mut self, question: &Question<'_>, problem: Option<&str>) -> Result<Input, DriveError> {
        if let Some(problem) = problem {
            return Err(DriveError::Answers(format!(
                "{}: step `{}`: {problem}",
                self.book.at(self.position.0, self.position.1),
                question.step
            )));
        }
        let (value, position) = self.book.take(question).map_err(DriveError::Answers)?;
        self.position = position;
        if value.as_str().is_some_and(|t| self.pause.matches(t)) {
            return Ok(Input::Pause);
        }
        Ok(Input::Reply(Reply::Value(value)))
    }

    fn answered(&mut self, question: &Question<'_>, value: &Value) -> Result<(), DriveError> {
        let who = question
            .who
            .as_ref()
            .map(|p| format!("{}: ", p.name))
            .unwrap_or_default();
        let shown = if question.private {
            "(private)".to_owned()
        } else {
            display_value(value)
        };
        writeln!(
            self.out,
            "? {who}{}\n> {}\n",
            printable(&question.prompt),
            printable(&shown)
        )?;
        Ok(())
    }

    /// Without anyone to ask, a safety pause ends the run, after the same calm words and
    /// help for the region as at the keyboard. Where the trigger allows going on later, the
    /// session is kept to resume (at the keyboard, where someone can say everyone is safe).
    fn safety_stop(
        &mut self,
        _step: &str,
        stop: bool,
        _who: Option<&crate::engine::Person>,
    ) -> Result<SafetyChoice, DriveError> {
        writeln!(self.out, "{}\n", crate::run::SAFETY_PAUSE_TEXT)?;
        if let Some(help) = &self.help {
            writeln!(self.out, "{}\n", help.urgent.trim_end())?;
            writeln!(self.out, "{}\n", help.resources.trim_end())?;
        }
        Ok(if stop {
            SafetyChoice::End
        } else {
            SafetyChoice::Pause
        })
    }

    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError> {
        writeln!(
            self.out,
            "[{} at {}]",
            finished.outcome.as_str(),
            finished.ended_at
        )?;
        self.out.flush()?;
        Ok(())
    }
}

/// An answer as a person would read it.
pub fn display_value(value: &Value) -> String {
    match value.kind() {
        ValueKind::None | ValueKind::Undefined => "(no answer)".to_owned(),
        ValueKind::Bool => if value.is_true() { "yes" } else { "no" }.to_owned(),
        ValueKind::Seq => value
            .try_iter()
            .map(|items| {
                items
                    .map(|v| display_value(&v))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        _ => value.to_string(),
    }
}
