//! Sessions: one run of a flow kept in the store, from its start to its end, across pauses,
//! closed terminals, crashes and edits to the flow.
//!
//! This is the library's one place for session orchestration, so that an embedder can do
//! everything the `trustguide` command does and the binary only turns arguments into calls:
//! - [`Session::start`] makes the engine (with what the flow recorded last time) and the
//!   session's row in the store;
//! - [`find_resumable`] and [`load_saved_flow`] find a session to go on with and load the flow
//!   it ran (or the copy saved with it when the file is gone or broken);
//!   [`Session::resume`] restores the engine, asking the participants through the
//!   [`FrontEnd`] where to go on when the step they stopped at was edited away;
//! - [`Session::run`] drives the engine to the end through a front-end, recording every answer
//!   in the store (and a transcript when asked), and applies what the end means (the couple's
//!   pause word, forgetting the session at the quick exit).
//!
//! Nothing here prints: what the participants see goes through the front-end, and what the
//! command line says around a run (the `Ended` it gets back) is the binary's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use chrono::{DateTime, FixedOffset};
use minijinja::Value;

use crate::engine::{Engine, Finished, MissingStep, Person, Question, RestoreError, RuntimeError};
use crate::flow::{Diagnostics, Library, Origin, Outcome};
use crate::run::{drive, DriveError, FrontEnd, PauseSignal, PauseWordError, Recorder};
use crate::store::{
    resumable_status, NewSession, Resumable, SavedFlow, SessionRecorder, Store, StoreError,
    StoredEvent,
};
use crate::transcript::TranscriptWriter;

/// The time now, for the timestamps of a run (fixed in tests).
pub type Clock = Box<dyn Fn() -> DateTime<FixedOffset>>;

/// The flow in which a couple chooses their own pause word.
pub const PAUSE_SIGNAL_FLOW: &str = "pause-signal";

/// The store's setting that holds the couple's pause word.
const PAUSE_WORD_SETTING: &str = "pause_word";
/// The couple's names from the last session (a JSON list); `names:ROLE,ROLE` holds the names
/// given to those roles.
const NAMES_SETTING: &str = "names";
/// The region last given with `--region`.
const REGION_SETTING: &str = "region";

/// Why a session could not start, resume or go on.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The store could not be read or written before the run began.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Saving failed during the run; what was saved before is intact.
    #[error(
        "{error}\nSession {session} is kept up to the last saved answer; `trustguide resume {session}` goes on from there."
    )]
    Saving {
        /// The session kept up to its last saved answer.
        session: i64,
        /// What the store said (part of this error's own message, so not a separate cause).
        error: StoreError,
    },
    /// The flow failed at run time (names file, line and step).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The front-end failed (input ended, an answers file without an answer, the terminal).
    #[error(transparent)]
    Drive(DriveError),
    /// The flow could not be loaded; the diagnostics say why, each at its line.
    #[error("the flow could not be loaded ({} errors)", .0.errors().count())]
    Flow(Diagnostics),
    /// The session's flow is not in the library.
    #[error("flow `{0}` is not available")]
    FlowUnavailable(String),
    /// There is no store yet, or no session with that id, or none left to resume.
    #[error("{0}")]
    NoSession(String),
    /// The session paused for safety in a way that ended the exercise for that day.
    #[error(
        "session {id} ({flow}, {day}) paused for safety, and that ended the exercise for that day; \
         it is kept (`trustguide show {id}`). When you are both ready, another day, \
         `trustguide run {flow}` starts the exercise again. If anyone is in danger, `trustguide help-now` lists where to find help"
    )]
    EndedForToday {
        /// The session.
        id: i64,
        /// Its flow's id.
        flow: String,
        /// The day it started (YYYY-MM-DD).
        day: String,
    },
    /// The session is over.
    #[error("session {id} ({flow}, {day}) already ended ({status}); there is nothing to resume")]
    AlreadyEnded {
        /// The session.
        id: i64,
        /// Its flow's id.
        flow: String,
        /// The day it started (YYYY-MM-DD).
        day: String,
        /// How it ended, in words.
        status: String,
    },
    /// The step the session stood at is gone, and no earlier step of it is left.
    #[error(
        "step `{}` of flow `{}` no longer exists, and no earlier step of this session does either; \
         choose one with --from STEP", .0.step, .0.flow
    )]
    NoEarlierStep(MissingStep),
    /// The step is gone, and this front-end cannot ask where to go on.
    #[error("{question} To do so, run again with --from {nearest}")]
    ChooseStep {
        /// The question that could not be asked.
        question: String,
        /// The nearest earlier step that still exists.
        nearest: String,
    },
    /// The participants chose not to go on from the nearest earlier step.
    #[error("not resumed; choose a step with --from STEP")]
    NotResumed,
}

impl SessionError {
    /// A failure while driving a run: a store failure keeps the session id it concerns.
    fn driving(session: Option<i64>, e: DriveError) -> SessionError {
        match (e, session) {
            // Another trustguide has it now: resuming it here is not the advice.
            (DriveError::Store(error @ StoreError::NotOwner { .. }), _) => {
                SessionError::Store(error)
            }
            (DriveError::Store(error), Some(session)) => SessionError::Saving { session, error },
            (DriveError::Store(source), None) => SessionError::Store(source),
            (DriveError::Runtime(e), _) => SessionError::Runtime(e),
            (e, _) => SessionError::Drive(e),
        }
    }
}

/// What the end of a run means for the session, for the front-end to say.
#[derive(Debug)]
pub struct Ended {
    /// How the run ended.
    pub finished: Finished,
    /// The session's id in the store (`None` when nothing is saved).
    pub session: Option<i64>,
    /// The participants left by the quick exit: say nothing more.
    pub left_quickly: bool,
    /// The session was deleted at the quick exit, as the participants asked.
    pub forgotten: bool,
    /// After the pause-signal flow: what became of the word the couple chose.
    pub pause_word: Option<PauseWord>,
}

/// What became of the pause word chosen in the pause-signal flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseWord {
    /// Saved: typing it at any question pauses and saves the session.
    Saved(String),
    /// Not fit to be a pause word, and why.
    Refused(PauseWordError),
    /// Nothing is saved in this run (`--no-save`).
    NotSaved,
}

/// A session ready to run: its engine and where its record goes.
///
/// ```
/// use trustguide::flow::{Library, Origin};
/// use trustguide::session::{find_resumable, Session};
/// use trustguide::store::Store;
/// use trustguide::term::headless::{AnswerBook, Headless};
/// use trustguide::transcript::TranscriptWriter;
///
/// let home = tempfile::tempdir()?;
/// let mut store = Store::open(home.path())?;
/// let mut lib = Library::builtin();
/// let flow = lib
///     .add_source(
///         "flow: two\ntitle: Two\nsteps:\n  - { id: first, ask: text, prompt: First? }\n  \
///          - { id: second, ask: text, prompt: Second? }\n",
///         Origin::Path("two.yaml".into()),
///     )
///     .expect("the flow loads");
/// let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T19:30:00+00:00")?;
/// let clock = move || Box::new(move || now) as trustguide::session::Clock;
/// let no_transcript = || None::<&mut TranscriptWriter<std::io::Sink>>;
///
/// // One evening: the first answer, then `/pause`. The answer is on disk before the next
/// // question is shown.
/// let book = AnswerBook::parse("evening-1.yaml", "first: one\nsecond: /pause\n")
///     .map_err(|d| d.to_string())?;
/// let mut front = Headless::new(book, std::io::sink());
/// let session = Session::start(&lib, flow, &[], now, Some(&mut store), true)?;
/// let ended = session.run(&mut front, no_transcript(), clock())?;
/// assert_eq!(ended.finished.outcome.as_str(), "paused");
///
/// // Another evening: the newest paused session goes on after its last saved answer.
/// let saved = find_resumable(&store, None)?;
/// let book = AnswerBook::parse("evening-2.yaml", "second: two\n").map_err(|d| d.to_string())?;
/// let mut front = Headless::new(book, std::io::sink());
/// let session = Session::resume(&lib, &saved, &mut store, None, &mut front, now)?;
/// let ended = session.run(&mut front, no_transcript(), clock())?;
/// assert_eq!(ended.finished.outcome.as_str(), "completed");
/// let events = store.session(saved.id)?.events;
/// let answers: Vec<_> = events.into_iter().filter_map(|e| e.answer).collect();
/// assert_eq!(answers, ["one", "two"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session<'lib, 's> {
    engine: Engine<'lib>,
    /// Where the run is recorded: the store and the session's id (`None`: nothing is kept).
    record: Option<(&'s mut Store, i64)>,
    /// What the store recorded before a resume, for a transcript that reads as one run.
    earlier: Vec<StoredEvent>,
    notices: Vec<String>,
}

impl<'lib, 's> Session<'lib, 's> {
    /// Starts a session of flow `index` with the participants' `names`, at `now`.
    ///
    /// The engine gets what this flow recorded in its newest finished session (its
    /// `previous`). With `save`, the session is recorded in `store` as it runs; without it
    /// (or without a store), nothing of it is kept.
    pub fn start(
        lib: &'lib Library,
        index: usize,
        names: &[String],
        now: DateTime<FixedOffset>,
        store: Option<&'s mut Store>,
        save: bool,
    ) -> Result<Session<'lib, 's>, SessionError> {
        let flow = lib.flow(index);
        let previous = match &store {
            Some(store) => store.previous_metrics(&flow.id)?,
            None => Vec::new(),
        };
        let engine = Engine::new(lib, index, names, now)?.with_previous(&previous);
        let record = match store {
            Some(store) if save => {
                let new = NewSession {
                    flow: flow.id.clone(),
                    title: flow.title.clone(),
                    people: engine.people().to_vec(),
                    clock: now,
                    flows: saved_flows(lib),
                };
                let id = store.begin(&new, now)?;
                Some((store, id))
            }
            _ => None,
        };
        Ok(Session {
            engine,
            record,
            earlier: Vec::new(),
            notices: Vec::new(),
        })
    }

    /// Picks `saved` up again, from its last saved answer (or from the beginning, when none
    /// was saved), with the flows `lib` holds now (see [`load_saved_flow`]).
    ///
    /// A flow edited since the session started is matched up by step id. When the step the
    /// session stood at is gone, the participants are asked through `front` whether to go on
    /// from the nearest earlier step that still exists; a front-end that cannot ask gets
    /// [`SessionError::ChooseStep`]. `from` chooses the step instead.
    pub fn resume(
        lib: &'lib Library,
        saved: &Resumable,
        store: &'s mut Store,
        from: Option<&str>,
        front: &mut dyn FrontEnd,
        now: DateTime<FixedOffset>,
    ) -> Result<Session<'lib, 's>, SessionError> {
        let names: Vec<String> = saved.people.iter().map(|p| p.name.clone()).collect();
        let mut start_at = HashMap::new();
        if let Some(step) = from {
            start_at.insert(saved.flow.clone(), step.to_owned());
        }
        let (engine, notices, keep_seq) = restore(lib, saved, &names, start_at, front)?;
        let previous = store.previous_metrics(&saved.flow)?;
        let engine = engine.with_previous(&previous);
        store.reopen(saved, keep_seq, now)?;
        let earlier = store.session(saved.id)?.events;
        Ok(Session {
            engine,
            record: Some((store, saved.id)),
            earlier,
            notices,
        })
    }

    /// The session's id in the store (`None` when nothing is saved).
    pub fn id(&self) -> Option<i64> {
        self.record.as_ref().map(|(_, id)| *id)
    }

    /// The engine, before the run (its flow, its people).
    pub fn engine(&self) -> &Engine<'lib> {
        &self.engine
    }

    /// Who gave the last saved answer, when the flow names who answers it: a resumed session
    /// starts with them at the keyboard, so that a question for the other shows the handover.
    pub fn last_at_keyboard(&self) -> Option<&Person> {
        let last = self.earlier.iter().rev().find(|e| e.kind == "ask")?;
        let role = last.who.as_deref()?;
        self.engine.people().iter().find(|p| p.role == role)
    }

    /// What restoring had to tell the participants (a flow edited since, a step chosen).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Runs the session to its end through `front`: every answer is in the store before the
    /// next question, and in `transcript` when one is given (after what an earlier sitting
    /// recorded, so that it reads as one run). Then the end is applied: the couple's pause
    /// word after the pause-signal flow, and the session deleted at the quick exit when the
    /// participants asked for that.
    pub fn run<W: Write>(
        mut self,
        front: &mut dyn FrontEnd,
        transcript: Option<&mut TranscriptWriter<W>>,
        clock: Clock,
    ) -> Result<Ended, SessionError> {
        let id = self.id();
        let mut recorder = match &mut self.record {
            Some((store, id)) => Some(StoreRecorder(store.recorder(*id, clock)?)),
            None => None,
        };
        let mut recorders: Vec<&mut dyn Recorder> = Vec::new();
        if let Some(r) = recorder.as_mut() {
            recorders.push(r);
        }
        if let Some(t) = transcript {
            replay(t, &self.earlier).map_err(|e| SessionError::Drive(DriveError::Transcript(e)))?;
            recorders.push(t);
        }
        let result = drive(&mut self.engine, front, &mut recorders);
        drop(recorders);
        drop(recorder);
        let finished = result.map_err(|e| SessionError::driving(id, e))?;
        let left_quickly = front.left_quickly();
        let mut forgotten = false;
        if let Some((store, id)) = &mut self.record {
            if left_quickly && front.wants_forgotten() {
                store.forget(*id)?;
                forgotten = true;
            }
        }
        let pause_word = if self.engine.flow().id == PAUSE_SIGNAL_FLOW
            && finished.outcome == Outcome::Completed
            && !forgotten
        {
            save_pause_word(
                self.record.as_mut().map(|(store, _)| &mut **store),
                &finished,
            )?
        } else {
            None
        };
        Ok(Ended {
            finished,
            session: id,
            left_quickly,
            forgotten,
            pause_word,
        })
    }
}

/// Session `id` if it can be resumed, or the newest one that can when `id` is `None`; an
/// error that says why not otherwise (no such session, ended, ended for today at a safety
/// pause).
pub fn find_resumable(store: &Store, id: Option<i64>) -> Result<Resumable, SessionError> {
    let Some(saved) = store.resumable(id)? else {
        return Err(SessionError::NoSession(match id {
            Some(id) => format!("no session {id}; `trustguide history` lists them"),
            None => "there is no session to resume".to_owned(),
        }));
    };
    if saved.status == "safety_stop" {
        return Err(SessionError::EndedForToday {
            id: saved.id,
            flow: saved.flow.clone(),
            day: day(&saved.started_at).to_owned(),
        });
    }
    if !resumable_status(&saved.status) {
        return Err(SessionError::AlreadyEnded {
            id: saved.id,
            flow: saved.flow.clone(),
            day: day(&saved.started_at).to_owned(),
            status: saved.status.replace('_', " "),
        });
    }
    Ok(saved)
}

/// Loads the flow `saved` ran into `lib`: from the file it was run from (or by its id), or,
/// when that is gone or broken, from the copy saved with the session. Returns the notices to
/// show (that the saved copy is used).
pub fn load_saved_flow(lib: &mut Library, saved: &Resumable) -> Result<Vec<String>, SessionError> {
    let root = saved.flows.get(&saved.flow);
    let from = root
        .and_then(|f| f.path.clone())
        .unwrap_or_else(|| saved.flow.clone());
    let Err(diags) = lib.load(&from) else {
        return Ok(Vec::new());
    };
    let Some(copy) = root else {
        return Err(SessionError::Flow(diags));
    };
    let origin = Origin::Path(format!("{from} (the copy saved with session {})", saved.id).into());
    lib.add_source(&copy.source, origin)
        .map_err(SessionError::Flow)?;
    Ok(vec![format!(
        "The flow could not be loaded from {from}; going on with the copy saved when the session started."
    )])
}

/// `/pause`, and the couple's own word if they chose one.
pub fn pause_signal(store: Option<&Store>) -> Result<PauseSignal, StoreError> {
    let word = match store {
        Some(store) => store.setting(PAUSE_WORD_SETTING)?,
        None => None,
    };
    // A word saved by hand-editing the database is checked like a new one.
    Ok(PauseSignal::with_word(
        word.and_then(|w| PauseSignal::check(&w).ok()).as_deref(),
    ))
}

/// The names last used for a flow's roles, remembered in the data folder so that a daily
/// practice starts without typing them again: first the names given to exactly these roles
/// last time, else (for a flow with as many roles) the couple's names from any exercise.
/// `None` when nothing fits. Names are suggestions: the person at the keyboard picks them,
/// swaps them or types others.
pub fn remembered_names(
    store: Option<&Store>,
    roles: &[String],
) -> Result<Option<Vec<String>>, StoreError> {
    let Some(store) = store else {
        return Ok(None);
    };
    let read = |key: &str| -> Result<Option<Vec<String>>, StoreError> {
        Ok(store
            .setting(key)?
            .and_then(|json| serde_json::from_str::<Vec<String>>(&json).ok())
            .filter(|names| names.iter().all(|n| !n.trim().is_empty())))
    };
    if let Some(names) = read(&roles_setting(roles))? {
        if names.len() == roles.len() {
            return Ok(Some(names));
        }
    }
    Ok(read(NAMES_SETTING)?.filter(|names| names.len() == roles.len()))
}

/// The region last given with `--region`, for help resources in later sessions.
pub fn remembered_region(store: Option<&Store>) -> Result<Option<String>, StoreError> {
    match store {
        Some(store) => Ok(store
            .setting(REGION_SETTING)?
            .filter(|r| !r.trim().is_empty())),
        None => Ok(None),
    }
}

/// Remembers a region given with `--region` (see [`remembered_region`]).
pub fn remember_region(store: &mut Store, region: &str) -> Result<(), StoreError> {
    store.set_setting(REGION_SETTING, Some(region.trim()))
}

/// Remembers the names given to a flow's roles (see [`remembered_names`]).
pub fn remember_names(
    store: &mut Store,
    roles: &[String],
    names: &[String],
) -> Result<(), StoreError> {
    if names.is_empty() || names.len() != roles.len() {
        return Ok(());
    }
    let json = serde_json::to_string(names).unwrap_or_default();
    // Reading is cheaper than writing: each write is a commit on the way to the first
    // question, and most runs remember the names they already had.
    let mut keys = vec![roles_setting(roles)];
    if names.len() == 2 {
        keys.push(NAMES_SETTING.to_owned());
    }
    for key in &keys {
        if store.setting(key)?.as_deref() != Some(json.as_str()) {
            store.set_setting(key, Some(&json))?;
        }
    }
    Ok(())
}

/// Forgets every remembered name; `true` if there were any.
pub fn forget_names(store: &mut Store) -> Result<bool, StoreError> {
    let keys = store.setting_keys(NAMES_SETTING)?;
    for key in &keys {
        store.set_setting(key, None)?;
    }
    Ok(!keys.is_empty())
}

/// The remembered names, by roles (`speaker, listener: Sam, Alex`), for `trustguide names`.
pub fn all_remembered_names(store: &Store) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let mut all = Vec::new();
    for key in store.setting_keys(NAMES_SETTING)? {
        let Some(json) = store.setting(&key)? else {
            continue;
        };
        let Ok(names) = serde_json::from_str::<Vec<String>>(&json) else {
            continue;
        };
        let roles = match key
            .strip_prefix(NAMES_SETTING)
            .and_then(|k| k.strip_prefix(':'))
        {
            Some(roles) => roles.replace(',', ", "),
            None => "the couple".to_owned(),
        };
        all.push((roles, names));
    }
    Ok(all)
}

fn roles_setting(roles: &[String]) -> String {
    format!("{NAMES_SETTING}:{}", roles.join(","))
}

/// Every flow the library holds, with its text, for the session record.
pub fn saved_flows(lib: &Library) -> BTreeMap<String, SavedFlow> {
    (0..lib.len())
        .map(|i| {
            let flow = lib.flow(i);
            let path = match &flow.origin {
                Origin::Path(p) => std::fs::canonicalize(p)
                    .ok()
                    .map(|p| p.display().to_string()),
                _ => None,
            };
            (
                flow.id.clone(),
                SavedFlow::of(lib.source(i)).with_path(path),
            )
        })
        .collect()
}

/// The day of an RFC 3339 time (YYYY-MM-DD).
pub fn day(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

/// The session store as a run's recorder: each event as it happens, each answer with a
/// snapshot of where the run stands, in one transaction.
struct StoreRecorder<'s>(SessionRecorder<'s>);

impl Recorder for StoreRecorder<'_> {
    fn said(&mut self, step: &str, text: &str) -> Result<(), DriveError> {
        Ok(self.0.said(step, text)?)
    }

    fn answered(
        &mut self,
        question: &Question<'_>,
        value: &Value,
        engine: &Engine<'_>,
    ) -> Result<(), DriveError> {
        if !question.keep {
            // `keep: false`: nothing of it is written, and the saved place stays before it.
            return Ok(());
        }
        Ok(self.0.answered(question, value, &engine.snapshot())?)
    }

    /// The answer that caused a safety pause is never written here: not as an event, and
    /// not in a snapshot (the engine has withdrawn it from its own).
    fn withheld(&mut self, _question: &Question<'_>, _value: &Value) -> Result<(), DriveError> {
        Ok(())
    }

    /// Never the category: what was noticed says too much about what was written.
    fn safety(
        &mut self,
        step: &str,
        _category: Option<&str>,
        stop: bool,
        engine: &Engine<'_>,
    ) -> Result<(), DriveError> {
        Ok(self.0.safety(step, stop, &engine.snapshot())?)
    }

    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError> {
        Ok(self.0.finished(finished)?)
    }
}

/// The engine for a saved session, the notices to show, and which events stay (those up to
/// its snapshot).
fn restore<'lib>(
    lib: &'lib Library,
    saved: &Resumable,
    names: &[String],
    mut start_at: HashMap<String, String>,
    front: &mut dyn FrontEnd,
) -> Result<(Engine<'lib>, Vec<String>, i64), SessionError> {
    let Some(snapshot) = &saved.snapshot else {
        // Stopped before the first answer: start again from the top.
        let index = lib
            .index_of(&saved.flow)
            .ok_or_else(|| SessionError::FlowUnavailable(saved.flow.clone()))?;
        return Ok((Engine::new(lib, index, names, saved.clock)?, Vec::new(), 0));
    };
    let changed: HashSet<String> = Store::flows_changed(&saved.flows, lib)
        .into_iter()
        .collect();
    loop {
        match Engine::restore(lib, snapshot, names, saved.clock, &changed, &start_at) {
            Ok((engine, restored)) => return Ok((engine, restored.notices, saved.snapshot_seq)),
            Err(RestoreError::Runtime(fault)) => return Err(fault.into()),
            Err(RestoreError::MissingStep(missing)) => {
                let Some(nearest) = nearest_earlier_step(saved, &missing, lib) else {
                    return Err(SessionError::NoEarlierStep(missing));
                };
                let question = format!(
                    "Step `{}` of flow `{}` no longer exists (the flow was edited). Go on from `{nearest}`, the nearest earlier step that does?",
                    missing.step, missing.flow
                );
                match front.confirm(&question) {
                    Ok(Some(true)) => {}
                    Ok(Some(false)) => return Err(SessionError::NotResumed),
                    Ok(None) => return Err(SessionError::ChooseStep { question, nearest }),
                    Err(e) => return Err(SessionError::driving(None, e)),
                }
                start_at.insert(missing.flow.clone(), nearest);
            }
        }
    }
}

/// The nearest step before the missing one, in the flow as saved with the session, that the
/// flow still has.
fn nearest_earlier_step(saved: &Resumable, missing: &MissingStep, lib: &Library) -> Option<String> {
    let old = saved.flows.get(&missing.flow)?;
    // The flow's one reader; the saved copy was a flow that loaded when the session started.
    let raw = crate::flow::load::read_raw("", &old.source).0?;
    let ids: Vec<Option<String>> = raw
        .steps?
        .value
        .iter()
        .map(|s| s.value.id.as_ref().map(|id| id.value.clone()))
        .collect();
    let current = lib.flow(lib.index_of(&missing.flow)?);
    let position = ids
        .iter()
        .position(|id| id.as_deref() == Some(missing.step.as_str()))?;
    ids[..position]
        .iter()
        .rev()
        .filter_map(|id| id.as_deref())
        .find(|id| current.step_by_id(id).is_some())
        .map(str::to_owned)
}

/// Writes events recorded before a resume into a new transcript, so it reads as one run.
fn replay<W: Write>(t: &mut TranscriptWriter<W>, earlier: &[StoredEvent]) -> std::io::Result<()> {
    for e in earlier {
        match e.kind.as_str() {
            "say" => t.say(&e.step, e.text.as_deref().unwrap_or_default())?,
            "ask" => {
                let answer = e.answer.clone().unwrap_or(serde_json::Value::Null);
                t.ask(
                    &e.step,
                    e.who.as_deref(),
                    e.prompt.as_deref().unwrap_or_default(),
                    &answer,
                )?
            }
            // The store never kept what the pause noticed.
            "safety" => t.safety(&e.step, None)?,
            _ => {}
        }
    }
    Ok(())
}

/// After the pause-signal flow: its `pause_word` variable becomes the couple's pause word.
fn save_pause_word(
    store: Option<&mut Store>,
    finished: &Finished,
) -> Result<Option<PauseWord>, SessionError> {
    let Some(typed) = finished
        .vars
        .get(PAUSE_WORD_SETTING)
        .and_then(|v| v.as_str().map(str::to_owned))
    else {
        return Ok(None);
    };
    Ok(Some(match PauseSignal::check(&typed) {
        Err(why) => PauseWord::Refused(why),
        Ok(word) => match store {
            Some(store) => {
                store.set_setting(PAUSE_WORD_SETTING, Some(&word))?;
                PauseWord::Saved(word)
            }
            None => PauseWord::NotSaved,
        },
    }))
}
