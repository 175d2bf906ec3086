//! Running a flow: the one loop every front-end shares, and the two seams around it.
//!
//! [`drive`] takes the engine from event to event. A [`FrontEnd`] decides how a say, a timer,
//! a question and a safety pause are shown and brings the participants' input back; a
//! [`Recorder`] keeps what happened (the session store, a transcript). This module sits
//! between the engine and everything that does I/O, so that the front-ends (`term`) and the
//! store (`store`, `session`) depend on it and never on each other.

use std::io::{self, Write};

use minijinja::Value;

use crate::engine::{
    AnswerError, Engine, Event, Finished, Person, Progress, Question, Reply, RuntimeError,
    SafetyChoice, SnapshotError,
};
use crate::store::StoreError;
use crate::transcript::TranscriptWriter;

/// What a front-end brings back for a question.
#[derive(Debug, Clone)]
pub enum Input {
    /// An answer, for [`Engine::answer`] to check.
    Reply(Reply),
    /// The participants asked to pause here (`/pause`, Esc in a menu).
    Pause,
}

/// The pause signal: what a participant can type at any prompt to pause and save at once.
/// `/pause` always works; a couple can add a word of their own (the `pause-signal` flow).
#[derive(Debug, Clone, Default)]
pub struct PauseSignal {
    /// The couple's own word or short phrase, lowercased.
    word: Option<String>,
}

/// What everyone can type to pause.
pub const PAUSE_COMMAND: &str = "/pause";

/// Answers people give to ordinary questions: as a pause word they would pause a session
/// that someone meant to answer.
const EVERYDAY_ANSWERS: &[&str] = &[
    "yes", "no", "y", "n", "ok", "okay", "fine", "good", "done", "skip", "none", "nothing", "nope",
    "yeah", "yep", "maybe", "idk", "sure", "same", "both", "neither", "next", "pass",
];

impl PauseSignal {
    /// The signal with the couple's own word (already checked with [`PauseSignal::check`]).
    pub fn with_word(word: Option<&str>) -> PauseSignal {
        PauseSignal {
            word: word.map(|w| w.trim().to_lowercase()),
        }
    }

    /// Whether `typed` asks to pause: `/pause` or the couple's word, alone on the line,
    /// however it is typed: "Pineapple!" for pineapple, "Time out" for time-out.
    pub fn matches(&self, typed: &str) -> bool {
        let typed = typed.trim();
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        };
        typed.eq_ignore_ascii_case(PAUSE_COMMAND)
            || self
                .word
                .as_deref()
                .is_some_and(|w| !words(w).is_empty() && words(typed) == words(w))
    }

    /// The couple's word, if they chose one.
    pub fn word(&self) -> Option<&str> {
        self.word.as_deref()
    }

    /// A word or short phrase fit to be a pause word, lowercased; or why not.
    pub fn check(word: &str) -> Result<String, PauseWordError> {
        let word = word
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        if letters < 3 {
            return Err(PauseWordError::TooShort);
        }
        if word.chars().count() > 30 || word.split(' ').count() > 3 {
            return Err(PauseWordError::TooLong);
        }
        if word.starts_with('/') {
            return Err(PauseWordError::Slash);
        }
        if EVERYDAY_ANSWERS.contains(&word.as_str()) {
            return Err(PauseWordError::Everyday(word));
        }
        Ok(word)
    }
}

/// Why a word cannot be the couple's pause word (the message says it to them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PauseWordError {
    /// Fewer than three letters: typed by accident too easily.
    #[error("a pause word needs at least three letters")]
    TooShort,
    /// More than three words or 30 characters: too long to type in a hurry.
    #[error("a pause word is one to three words, at most 30 characters")]
    TooLong,
    /// Starts with `/`, like the commands.
    #[error("a pause word cannot start with `/`")]
    Slash,
    /// An answer people give to ordinary questions: typing it to answer would pause.
    #[error("`{0}` is an everyday answer; typing it to answer a question would pause the session")]
    Everyday(String),
}

/// What a safety pause shows besides [`SAFETY_PAUSE_TEXT`]: the most urgent help first (the
/// emergency number and the region's main crisis line), the rest of the region's help one key
/// away, and two cards. The same for every category: nothing on it says what was noticed.
#[derive(Debug, Clone, Default)]
pub struct SafetyHelp {
    /// A few short lines: the emergency number and the region's main crisis line.
    pub urgent: String,
    /// Every help resource for the region, as text.
    pub resources: String,
    /// The grounding card (a minute's breathing and noticing), as text.
    pub grounding: String,
    /// The safety-plan card, as text.
    pub plan: String,
}

/// What the participants see when a safety trigger pauses a flow: calm and neutral, and the
/// same whatever was noticed, because the partner in the room may be the danger. It names no
/// category and no answer.
pub const SAFETY_PAUSE_TEXT: &str =
    "Let's pause here. Your wellbeing matters more than this exercise.";

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// The flow failed at run time (names file, line and step).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The answers file has no usable answer (names file, line and step).
    #[error("{0}")]
    Answers(String),
    /// The session store could not save (names the file and what to do).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Where the run stands could not be written down.
    #[error("where the run stands could not be saved: {0}")]
    Snapshot(#[from] SnapshotError),
    /// The engine refused a call out of turn (a front-end's mistake, not the participants').
    #[error(transparent)]
    Engine(#[from] AnswerError),
    /// Standard input ended before the flow did.
    #[error("input ended before the flow finished (at step `{0}`)")]
    InputClosed(String),
    /// The terminal or the answers file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The transcript could not be written (a full disk, a file-size limit).
    #[error("the transcript could not be written: {0}")]
    Transcript(io::Error),
}

/// How a front-end presents the engine's events.
pub trait FrontEnd {
    /// Shows a text of the flow.
    fn say(&mut self, step: &str, text: &str, progress: Progress) -> Result<(), DriveError>;
    /// Runs a timed turn of `seconds` (a headless run goes straight on).
    fn timer(&mut self, step: &str, seconds: u32) -> Result<(), DriveError>;
    /// Gets an answer. `problem` is set when the previous answer to this question was refused.
    fn ask(&mut self, question: &Question<'_>, problem: Option<&str>) -> Result<Input, DriveError>;
    /// Called once an answer is accepted.
    fn answered(&mut self, _question: &Question<'_>, _value: &Value) -> Result<(), DriveError> {
        Ok(())
    }
    /// A safety trigger fired. Show a calm pause and where to find help, the same for every
    /// category (a front-end is never told which), and bring back what the participants
    /// chose. With `stop`, going on is not offered; `who` wrote the answer that caused it.
    fn safety_stop(
        &mut self,
        step: &str,
        stop: bool,
        who: Option<&Person>,
    ) -> Result<SafetyChoice, DriveError>;
    /// The run is over: say how it ended.
    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError>;
    /// Asks the participants a yes-or-no question outside the flow (resuming a session whose
    /// step was edited away: "go on from the nearest earlier step?"). `None` means this
    /// front-end cannot ask (headless); the caller then says how to choose instead.
    fn confirm(&mut self, _question: &str) -> Result<Option<bool>, DriveError> {
        Ok(None)
    }
    /// Whether the participants left by the quick exit: nothing more is shown after it.
    fn left_quickly(&self) -> bool {
        false
    }
    /// Whether, at the quick exit, the participants asked to delete this session.
    fn wants_forgotten(&self) -> bool {
        false
    }
}

/// Something that keeps a record of a run as it happens: a transcript file, the session
/// store. Each call comes right after the participants saw (or gave) what it records.
pub trait Recorder {
    /// A text the participants were shown.
    fn said(&mut self, step: &str, text: &str) -> Result<(), DriveError>;
    /// An accepted answer; `engine` is already past it (for a snapshot). A recorder that
    /// keeps anything on this machine must not keep an answer whose question says `keep:
    /// false` ([`Question::keep`]).
    fn answered(
        &mut self,
        question: &Question<'_>,
        value: &Value,
        engine: &Engine<'_>,
    ) -> Result<(), DriveError>;
    /// The answer that caused a safety pause. The engine has already withdrawn it; a
    /// recorder that keeps anything on this machine must not keep it. (A transcript the user
    /// asked for writes it, as the contract's `ask` event before the `safety` one.)
    fn withheld(&mut self, question: &Question<'_>, value: &Value) -> Result<(), DriveError>;
    /// The run is held at a safety pause; `engine` stands before the question again. `stop`
    /// says the pause ends the exercise for today. The category (`None` at a pause a run was
    /// restored at) is for a transcript the user asked for: a recorder that keeps anything on
    /// this machine must not keep it, since what was noticed says what was written.
    fn safety(
        &mut self,
        step: &str,
        category: Option<&str>,
        stop: bool,
        engine: &Engine<'_>,
    ) -> Result<(), DriveError>;
    /// The run is over.
    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError>;
}

impl<W: Write> Recorder for TranscriptWriter<W> {
    fn said(&mut self, step: &str, text: &str) -> Result<(), DriveError> {
        self.say(step, text).map_err(DriveError::Transcript)
    }

    fn answered(
        &mut self,
        question: &Question<'_>,
        value: &Value,
        _engine: &Engine<'_>,
    ) -> Result<(), DriveError> {
        let who = question.who.as_ref().map(|p| p.role.as_str());
        self.ask(&question.step, who, &question.prompt, value)
            .map_err(DriveError::Transcript)
    }

    fn withheld(&mut self, question: &Question<'_>, value: &Value) -> Result<(), DriveError> {
        let who = question.who.as_ref().map(|p| p.role.as_str());
        self.ask(&question.step, who, &question.prompt, value)
            .map_err(DriveError::Transcript)
    }

    fn safety(
        &mut self,
        step: &str,
        category: Option<&str>,
        _stop: bool,
        _engine: &Engine<'_>,
    ) -> Result<(), DriveError> {
        TranscriptWriter::safety(self, step, category).map_err(DriveError::Transcript)
    }

    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError> {
        self.finish(finished).map_err(DriveError::Transcript)
    }
}

/// Runs `engine` to the end through `front`, telling each recorder what happens.
pub fn drive(
    engine: &mut Engine<'_>,
    front: &mut dyn FrontEnd,
    recorders: &mut [&mut dyn Recorder],
) -> Result<Finished, DriveError> {
    loop {
        match engine.next_event()? {
            Event::Say {
                step,
                text,
                progress,
            } => {
                front.say(&step, &text, progress)?;
                for r in recorders.iter_mut() {
                    r.said(&step, &text)?;
                }
            }
            Event::Timer { step, seconds } => front.timer(&step, seconds)?,
            Event::Safety {
                step,
                category,
                stop,
                who,
            } => {
                for r in recorders.iter_mut() {
                    r.safety(&step, category.as_deref(), stop, engine)?;
                }
                let choice = front.safety_stop(&step, stop, who.as_ref())?;
                engine.resolve_safety(choice);
            }
            Event::Ask(question) => {
                let mut problem: Option<String> = None;
                loop {
                    match front.ask(&question, problem.as_deref())? {
                        Input::Pause => {
                            engine.pause();
                            break;
                        }
                        Input::Reply(reply) => match engine.answer(reply) {
                            Ok(accepted) if engine.holds_for_safety() => {
                                for r in recorders.iter_mut() {
                                    r.withheld(&question, &accepted.value)?;
                                }
                                break;
                            }
                            Ok(accepted) => {
                                for r in recorders.iter_mut() {
                                    r.answered(&question, &accepted.value, engine)?;
                                }
                                front.answered(&question, &accepted.value)?;
                                break;
                            }
                            Err(AnswerError::Refused(message)) => problem = Some(message),
                            Err(e @ AnswerError::NotWaiting) => return Err(e.into()),
                        },
                    }
                }
            }
            Event::Finished(finished) => {
                for r in recorders.iter_mut() {
                    r.finished(&finished)?;
                }
                front.finished(&finished)?;
                return Ok(finished);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PauseSignal;

    #[test]
    fn the_couples_word_pauses_like_the_command() {
        let signal = PauseSignal::with_word(Some("red kite"));
        for typed in [
            "/pause",
            " /PAUSE ",
            "red kite",
            "Red  Kite",
            " RED KITE\n",
            "Red kite!",
            "red-kite.",
        ] {
            assert!(signal.matches(typed), "{typed:?}");
        }
        for typed in [
            "a red kite flew over",
            "red",
            "kite",
            "redkite",
            "pause",
            "",
            "!",
        ] {
            assert!(!signal.matches(typed), "{typed:?}");
        }
        assert!(!PauseSignal::default().matches("red kite"));
    }

    #[test]
    fn a_pause_word_must_not_be_an_everyday_answer() {
        assert_eq!(
            PauseSignal::check("  Red   Kite "),
            Ok("red kite".to_owned())
        );
        assert_eq!(PauseSignal::check("pineapple"), Ok("pineapple".to_owned()));
        for bad in [
            "no",
            "OK",
            "yes",
            "7",
            "ab",
            "/stop",
            "one two three four",
            "",
        ] {
            assert!(PauseSignal::check(bad).is_err(), "{bad:?}");
        }
    }
}
