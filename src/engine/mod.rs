//! The engine: a pure state machine that runs a flow.
//!
//! It reads no terminal, no file and no clock (the time is given to [`Engine::new`]). A
//! front-end calls [`Engine::next_event`] to get the next thing to present, shows it, and when that
//! is a question, hands the answer back with [`Engine::answer`]. Every front-end (terminal,
//! plain, headless, tests, embedders) drives this same loop, so a flow behaves the same
//! everywhere.
//!
//! Within one step the order is the contract's: show `say`, run the `timer`, `call` a
//! sub-flow, ask (each participant in turn for `who: both`), store the answer, evaluate `set`,
//! then choose where to go (`end`, an option's `goto`, `next`, or the step below).

mod answer;
mod scope;
mod snapshot;
mod when;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use indexmap::IndexMap;
use minijinja::Value;

pub use answer::{accept, answer_words, parse_yes_no, Accepted, Reply, MAX_TEXT_CHARS};
pub(crate) use scope::Scope;
pub use snapshot::{
    MissingStep, RestoreError, Restored, SafetyPause, Snapshot, SnapshotError, SNAPSHOT_VERSION,
};
pub use when::{echo, DATE_HINT, TIME_HINT};

use crate::flow::ScheduleSpec;
use crate::flow::{
    Ask, AskKind, ExprSource, Flow, Library, Next, Outcome, Step, Target, TemplateRef, Who,
};
use crate::safety::Screen;
use crate::schedule::{Schedule, ScheduleValues};

/// What the participants chose after a safety trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafetyChoice {
    /// Go on with the exercise (only after a trigger with `stop: false`, and deliberately).
    Continue,
    /// Save and stop for now (only after a trigger with `stop: false`).
    Pause,
    /// End the session.
    End,
}

/// Bounds on one run, so a flow with a loop and no way out stops with a message.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Steps entered in one run, counting every visit of a looping step.
    pub max_steps: u64,
    /// Nested `call`s.
    pub max_call_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 1_000_000,
            max_call_depth: 16,
        }
    }
}

/// Someone taking part: their role in the flow and the name they gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The role, as the flow's `participants` names it (`speaker`, `partner_a`).
    pub role: String,
    /// The name given for the role (the role itself when none was given).
    pub name: String,
}

/// How far along a run is: "step 4 of ~12".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Steps entered so far in this run, this one included.
    pub step: u64,
    /// An estimate: steps so far plus the fewest still to come.
    pub estimated_total: u64,
}

/// A question waiting for an answer.
#[derive(Debug, Clone)]
pub struct Question<'lib> {
    /// The step id (`flow/step` inside a called flow).
    pub step: String,
    /// Who should answer; `None` means whoever is at the keyboard.
    pub who: Option<Person>,
    /// The question, with its template filled in.
    pub prompt: String,
    /// What kind of answer it takes (text, choice, scale...), with its options and bounds.
    pub kind: &'lib AskKind,
    /// The answer is left out of `show` and exports unless `--include-private` is given.
    pub private: bool,
    /// The question may be skipped.
    pub optional: bool,
    /// `false` (the step's `keep: false`): a recorder that keeps anything on this machine
    /// must not keep the answer; the engine's snapshots leave it out.
    pub keep: bool,
    /// For `who: both`: whose turn this is (0-based).
    pub turn: usize,
    /// For `who: both`: how many turns the step has (1 otherwise).
    pub turns: usize,
    /// How far along the run is.
    pub progress: Progress,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The contract's outcome: completed, stopped, paused or safety_stop.
    pub outcome: Outcome,
    /// The step it ended at.
    pub ended_at: String,
    /// The flow's variables (declared `vars` and what `set` wrote).
    pub vars: IndexMap<String, Value>,
    /// Metrics from `record`.
    pub records: IndexMap<String, Value>,
    /// The check-in schedule the ending step made (`schedule:`).
    pub schedule: Option<Schedule>,
    /// The session can be picked up again from here: a pause, or a safety pause the
    /// participants chose to come back to (a resume then asks first whether everyone is safe).
    pub resumable: bool,
}

/// What the engine asks a front-end to present next.
#[derive(Debug, Clone)]
pub enum Event<'lib> {
    /// Text to show.
    Say {
        /// The step's label.
        step: String,
        /// The text, with its template filled in.
        text: String,
        /// How far along the run is.
        progress: Progress,
    },
    /// A timed turn: count down, let Enter end it early. Headless runs skip it.
    Timer {
        /// The step's label.
        step: String,
        /// How long the turn lasts.
        seconds: u32,
    },
    /// A question; answer it with [`Engine::answer`] before calling [`Engine::next_event`] again.
    Ask(Question<'lib>),
    /// A safety trigger fired: the run holds here, before anything else happens, until
    /// [`Engine::resolve_safety`] says what the participants chose. The category is for a
    /// transcript the user asked for, never for the screen (the partner in the room may be the
    /// danger) nor for anything kept on this machine. It is `None` for a pause a run was
    /// restored at: a [`Snapshot`] never holds it. When `stop` is set, going on is not possible
    /// in this session.
    ///
    /// The answer that caused it is already withdrawn: the engine stands before the question
    /// again, so a snapshot taken now holds neither the answer nor anything made from it, and
    /// going on asks the question again. `who` is the person who gave it (when the question
    /// was for someone in particular): the one to ask whether everyone is safe.
    Safety {
        /// The step whose answer (or trigger) caused it.
        step: String,
        /// What was noticed: for a transcript the user asked for, and nothing else.
        category: Option<String>,
        /// Going on is not offered; the exercise ends for today.
        stop: bool,
        /// The person whose answer caused it, when the question was theirs.
        who: Option<Person>,
    },
    /// The run is over.
    Finished(Finished),
}

/// Why [`Engine::answer`] did not take an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// No question is waiting: a front-end answered out of turn (a programming error).
    #[error("no question is waiting for an answer")]
    NotWaiting,
    /// The answer does not fit the question; the question stays open, and the message
    /// (for the participants) says what a valid answer looks like.
    #[error("{0}")]
    Refused(String),
}

/// A fault in a flow found while running it (a template or expression that fails at run
/// time, a loop that never ends). It names the flow's file, the line and the step.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}:{line}: step `{step}`: {message}")]
pub struct RuntimeError {
    /// The flow's file, as shown to the author.
    pub file: String,
    /// The line of the failing expression or template (0 when there is none).
    pub line: u32,
    /// The step's label.
    pub step: String,
    /// What went wrong, in one sentence.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    Say,
    Timer,
    Call,
    Ask { turn: usize },
    Settle { option: Option<usize> },
}

struct Frame {
    flow: usize,
    step: usize,
    phase: Phase,
    scope: Arc<Scope>,
}

/// What the engine is doing between calls.
enum State<'lib> {
    Running,
    /// A safety trigger fired; waiting for the participants' choice.
    Hold {
        step: String,
        /// `None` when restored from a snapshot (which never holds it).
        category: Option<String>,
        stop: bool,
        who: Option<Person>,
    },
    Waiting(Question<'lib>),
    Done(Finished),
}

/// One run of a flow, as a pure state machine: it hands out [`Event`]s and takes answers
/// back, and does no I/O (no terminal, no files, no clock: `now` is given).
///
/// Every typed answer is screened for risk with the built-in safety profile (plus what the
/// flows in the run add); an answer that suggests someone is at risk holds the run at
/// [`Event::Safety`] until [`Engine::resolve_safety`] says what the participants chose.
///
/// ```
/// use trustguide::engine::{Engine, Event, Reply};
/// use trustguide::flow::{Library, Origin};
///
/// let mut lib = Library::builtin();
/// let flow = lib
///     .add_source(
///         "flow: hello\ntitle: Hello\nparticipants: [partner]\nsteps:\n  \
///          - { id: mood, ask: choice, prompt: 'How are you, {{ partner }}?', options: [calm, tense] }\n  \
///          - { end: completed, say: 'You said {{ mood }}.' }\n",
///         Origin::Path("hello.yaml".into()),
///     )
///     .expect("the flow loads");
/// let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T19:30:00+00:00").unwrap();
/// let mut engine = Engine::new(&lib, flow, &["Sam".to_owned()], now).expect("starts");
/// let mut shown = Vec::new();
/// loop {
///     match engine.next_event().expect("runs") {
///         Event::Ask(question) => {
///             assert_eq!(question.prompt, "How are you, Sam?");
///             engine.answer(Reply::Text("calm".into())).expect("a valid answer");
///         }
///         Event::Say { text, .. } => shown.push(text),
///         Event::Finished(end) => {
///             assert_eq!(end.outcome.as_str(), "completed");
///             break;
///         }
///         other => panic!("not in this flow: {other:?}"),
///     }
/// }
/// assert_eq!(shown, ["You said calm."]);
/// ```
pub struct Engine<'lib> {
    lib: &'lib Library,
    frames: Vec<Frame>,
    people: Vec<Person>,
    today: NaiveDate,
    state: State<'lib>,
    /// Screens every free-text answer (the global safety profile unless told otherwise).
    screen: Option<&'lib dyn Screen>,
    /// Where the current step stands with its safety triggers.
    screening: Screening,
    steps_entered: u64,
    records: IndexMap<String, Value>,
    schedule: Option<Schedule>,
    /// The outermost flow's metrics from an earlier session, as `previous` shows them.
    previous: Value,
    /// Every way taken from one step to the next, when asked for (`with_trace`).
    trace: Option<Vec<Way>>,
    limits: Limits,
    /// Where the run stood just before the first `keep: false` question whose answer is
    /// still held, and the depth of the frame that holds it. While it is set, a snapshot is
    /// this one (a session saved then asks those questions again); it is let go when that
    /// frame's flow returns to its caller, without those answers.
    unkept: Option<(usize, Snapshot)>,
}

/// Where a frame stands: its depth, its flow (a library index) and its step.
type Place = (usize, usize, usize);

/// Where the current step stands with its safety triggers: one of three, never two at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screening {
    /// The next answer is screened, and the step's triggers are checked when it settles.
    Due,
    /// The step's last answer came in and its triggers were checked then: settle without
    /// checking them again.
    Checked,
    /// The participants went on after a trigger at this place: the next answer there (or
    /// its settling) does not hold the run again.
    Cleared(Place),
}

/// A way a run went: in flow `flow` (a library index), from step `from` to step `to` (`None`:
/// the flow ended there). What `trustguide test` counts to say which ways no test takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Way {
    /// The flow, as a library index.
    pub flow: usize,
    /// The step left, as an index into the flow's steps.
    pub from: usize,
    /// The step entered; `None` when the flow ended there.
    pub to: Option<usize>,
}

impl<'lib> Engine<'lib> {
    /// Starts flow `flow` (an index from [`Library::load`]) with the participants' names in
    /// the order of the flow's `participants` (missing names default to the role), at `now`.
    ///
    /// Every typed answer is screened with the built-in safety profile from the start; use
    /// [`Engine::with_screen`] for another screen. Only tests switch screening off
    /// ([`Engine::without_safety_screen_for_tests`]).
    pub fn new(
        lib: &'lib Library,
        flow: usize,
        names: &[String],
        now: DateTime<FixedOffset>,
    ) -> Result<Engine<'lib>, RuntimeError> {
        let mut engine = Engine::bare(lib, flow, names, now)?;
        engine.push_frame(flow)?;
        Ok(engine)
    }

    /// An engine with no frame yet: the start of [`Engine::new`] and [`Engine::restore`].
    fn bare(
        lib: &'lib Library,
        flow: usize,
        names: &[String],
        now: DateTime<FixedOffset>,
    ) -> Result<Engine<'lib>, RuntimeError> {
        // The profile compiles on first use: the first question does not wait for it.
        let screen: &'lib dyn Screen = &crate::safety::BuiltinScreen;
        Ok(Engine {
            lib,
            frames: Vec::new(),
            people: people(lib.flow(flow), names),
            today: now.date_naive(),
            state: State::Running,
            screen: Some(screen),
            screening: Screening::Due,
            steps_entered: 0,
            records: IndexMap::new(),
            schedule: None,
            previous: previous_value(lib.flow(flow), &[]),
            trace: None,
            limits: Limits::default(),
            unkept: None,
        })
    }

    /// What `previous` holds: the metrics an earlier session of this flow recorded (a
    /// front-end reads them from the store). Metrics the flow records but that are not given
    /// are `none`, so `previous.x is none` tells a first session from a later one.
    pub fn with_previous(mut self, metrics: &[(String, Value)]) -> Engine<'lib> {
        let top = self.frames.first().map_or(0, |f| f.flow);
        self.previous = previous_value(self.lib.flow(top), metrics);
        if let Some(frame) = self.frames.first_mut() {
            Arc::make_mut(&mut frame.scope).previous = self.previous.clone();
        }
        self
    }

    /// Keeps every way the run takes between steps ([`Engine::trace`]).
    pub fn with_trace(mut self) -> Engine<'lib> {
        self.trace = Some(Vec::new());
        self
    }

    /// The ways taken so far, in order (empty unless [`Engine::with_trace`]).
    pub fn trace(&self) -> &[Way] {
        self.trace.as_deref().unwrap_or_default()
    }

    fn took(&mut self, flow: usize, from: usize, to: Option<usize>) {
        if let Some(trace) = &mut self.trace {
            trace.push(Way { flow, from, to });
        }
    }

    /// The engine with other bounds on the run (steps, nested calls).
    pub fn with_limits(mut self, limits: Limits) -> Engine<'lib> {
        self.limits = limits;
        self
    }

    /// The flow being run (the outermost one).
    pub fn flow(&self) -> &'lib Flow {
        self.lib.flow(self.frames.first().map_or(0, |f| f.flow))
    }

    /// The participants, in the order of the flow's roles.
    pub fn people(&self) -> &[Person] {
        &self.people
    }

    /// The question waiting for an answer, if any.
    pub fn pending(&self) -> Option<&Question<'lib>> {
        match &self.state {
            State::Waiting(q) => Some(q),
            _ => None,
        }
    }

    fn push_frame(&mut self, flow: usize) -> Result<(), RuntimeError> {
        let f = self.lib.flow(flow);
        // A called flow's roles take the names of the people in the same positions.
        let names: Vec<(String, Value)> = f
            .participants
            .iter()
            .enumerate()
            .map(|(i, role)| {
                let name = self
                    .people
                    .get(i)
                    .map_or(role.as_str(), |p| p.name.as_str());
                (role.clone(), Value::from(name))
            })
            .collect();
        let scope = Scope {
            vars: f.vars.iter().cloned().collect(),
            answers: Default::default(),
            names: Arc::new(names),
            today: Value::from(self.today.format("%Y-%m-%d").to_string()),
            // Only the outermost flow's earlier metrics are known; a called flow sees `none`s.
            previous: if self.frames.is_empty() {
                self.previous.clone()
            } else {
                previous_value(f, &[])
            },
        };
        self.frames.push(Frame {
            flow,
            step: 0,
            phase: Phase::Say,
            scope: Arc::new(scope),
        });
        self.steps_entered += 1;
        Ok(())
    }

    /// The step id as events name it: `step`, or `flow/step` inside a called flow.
    fn step_name(&self) -> String {
        let frame = self.frame();
        let label = &self.lib.flow(frame.flow).steps[frame.step].label;
        if self.frames.len() > 1 {
            format!("{}/{}", self.lib.flow(frame.flow).id, label)
        } else {
            label.clone()
        }
    }

    /// Runs one render or expression under the template guard (half a second, 64 MB), which
    /// names the file, line and step if it has to stop the process.
    fn guarded<T>(&self, line: u32, f: impl FnOnce() -> T) -> T {
        let frame = self.frame();
        let flow = self.lib.flow(frame.flow);
        let label = &flow.steps[frame.step].label;
        let (called, slash) = if self.frames.len() > 1 {
            (flow.id.as_str(), "/")
        } else {
            ("", "")
        };
        crate::guard::scope(
            format_args!("{}:{line}: step `{called}{slash}{label}`", flow.origin),
            f,
        )
    }

    fn fault(&self, line: u32, message: impl Into<String>) -> RuntimeError {
        let frame = self.frame();
        let flow = self.lib.flow(frame.flow);
        RuntimeError {
            file: flow.origin.display_name(),
            line,
            step: self.step_name(),
            message: message.into(),
        }
    }

    fn progress(&self) -> Progress {
        let mut remaining: u64 = 0;
        // Each frame's current step is already counted in `steps_entered`.
        for frame in &self.frames {
            let flow = self.lib.flow(frame.flow);
            let mut r = u64::from(flow.min_remaining(frame.step));
            // A call made (its flow running in a frame above, or finished) counts there.
            if let Some(callee) = &flow.steps[frame.step].call {
                if !matches!(frame.phase, Phase::Say | Phase::Timer | Phase::Call) {
                    r = r.saturating_sub(u64::from(self.lib.called_steps(callee)));
                }
            }
            remaining += r.saturating_sub(1);
            // The turns of a group still to come ask each of its steps again.
            if let Some(group) = flow.steps[frame.step].group {
                let size = (group.last - group.first + 1) as u64;
                let people = flow.participants.len() as u64;
                let turns_left = match frame.phase {
                    Phase::Ask { turn } => people.saturating_sub(1 + turn as u64),
                    Phase::Say | Phase::Timer | Phase::Call if frame.step == group.first => {
                        people.saturating_sub(1)
                    }
                    _ => 0,
                };
                remaining += size * turns_left;
            }
        }
        Progress {
            step: self.steps_entered,
            estimated_total: self.steps_entered + remaining,
        }
    }

    /// Evaluates a `schedule:` at the end of the flow and checks what it gives.
    fn make_schedule(&self, spec: &ScheduleSpec, line: u32) -> Result<Schedule, RuntimeError> {
        let optional = |src: &Option<ExprSource>| match src {
            Some(src) => self.eval(src).map(Some),
            None => Ok(None),
        };
        let values = ScheduleValues {
            name: &spec.name,
            title: self.render(&spec.title, line)?,
            note: match &spec.note {
                Some(n) => Some(self.render(n, line)?),
                None => None,
            },
            times: optional(&spec.times)?,
            every_days: optional(&spec.every_days)?,
            start: optional(&spec.start)?,
            until: self.eval(&spec.until)?,
            minutes: spec.minutes,
            remind: spec.remind,
        };
        Schedule::from_values(values, self.today).map_err(|why| self.fault(line, why))
    }

    fn render(&self, template: &TemplateRef, line: u32) -> Result<String, RuntimeError> {
        let frame = self.frame();
        let ctx = || Value::from_dyn_object(frame.scope.clone());
        let env = self.lib.env();
        let rendered = match template {
            TemplateRef::Literal(text) => return Ok(text.clone()),
            TemplateRef::Simple {
                name,
                parts,
                source,
            } => match crate::render::fill(parts, |k| frame.scope.get(k).cloned()) {
                Some(text) => return Ok(text.trim_end().to_owned()),
                // A variable is undefined: minijinja words the error.
                None => self.guarded(line, || {
                    env.template_from_named_str(name, source)
                        .and_then(|t| t.render(ctx()))
                }),
            },
            TemplateRef::Compiled(name) => self.guarded(line, || {
                env.get_template(name).and_then(|t| t.render(ctx()))
            }),
        }
        .map_err(|e| self.fault(line + e.line().map_or(0, |l| l as u32 - 1), describe(&e)))?;
        Ok(rendered.trim_end().to_owned())
    }

    /// Evaluates an expression of the current flow, compiled when the flow loaded.
    fn eval(&self, src: &ExprSource) -> Result<Value, RuntimeError> {
        let Some(compiled) = &src.compiled else {
            // The loader refuses a flow whose expression did not compile; never reached.
            return Err(self.fault(src.line, format!("`{}` was not compiled", src.source)));
        };
        self.guarded(src.line, || {
            compiled.eval(Value::from_dyn_object(self.frame().scope.clone()))
        })
        .map_err(|e| self.fault(src.line, format!("`{}`: {}", src.source, describe(&e))))
    }

    /// Advances the run to the next thing to present.
    ///
    /// While a question is waiting, this returns that question again; after the run ends, it
    /// returns the same [`Event::Finished`].
    pub fn next_event(&mut self) -> Result<Event<'lib>, RuntimeError> {
        loop {
            match &self.state {
                State::Waiting(q) => return Ok(Event::Ask(q.clone())),
                State::Hold {
                    step,
                    category,
                    stop,
                    who,
                } => {
                    return Ok(Event::Safety {
                        step: step.clone(),
                        category: category.clone(),
                        stop: *stop,
                        who: who.clone(),
                    })
                }
                State::Done(f) => return Ok(Event::Finished(f.clone())),
                State::Running => {}
            }
            let lib = self.lib;
            let frame = self.frame_mut();
            let flow = lib.flow(frame.flow);
            let step = &flow.steps[frame.step];
            match frame.phase {
                Phase::Say => {
                    frame.phase = Phase::Timer;
                    if let Some(say) = &step.say {
                        let text = self.render(say, step.line)?;
                        return Ok(Event::Say {
                            step: self.step_name(),
                            text,
                            progress: self.progress(),
                        });
                    }
                }
                Phase::Timer => {
                    frame.phase = Phase::Call;
                    if let Some(seconds) = step.timer {
                        return Ok(Event::Timer {
                            step: self.step_name(),
                            seconds,
                        });
                    }
                }
                Phase::Call => {
                    // A group's later steps are entered this way only in its last person's
                    // turn; the earlier turns went from question to question directly.
                    let turn = match step.group {
                        Some(group) if frame.step != group.first => {
                            flow.participants.len().saturating_sub(1)
                        }
                        _ => 0,
                    };
                    frame.phase = Phase::Ask { turn };
                    if let Some(callee) = &step.call {
                        if self.frames.len() >= self.limits.max_call_depth {
                            return Err(self.fault(step.line, format!("`call: {callee}` nests deeper than {} flows; does a flow call itself?", self.limits.max_call_depth)));
                        }
                        let index = lib.index_of(callee).ok_or_else(|| {
                            self.fault(
                                step.line,
                                format!("`call: {callee}`: that flow is not loaded"),
                            )
                        })?;
                        self.push_frame(index)?;
                    }
                }
                Phase::Ask { turn } => match &step.ask {
                    None => frame.phase = Phase::Settle { option: None },
                    Some(ask) => {
                        if !step.keep && self.unkept.is_none() {
                            // Standing before the question: a run restored from here asks it.
                            self.unkept = Some((self.frames.len(), self.live_snapshot()));
                        }
                        let question = self.question(ask, turn)?;
                        self.state = State::Waiting(question.clone());
                        return Ok(Event::Ask(question));
                    }
                },
                Phase::Settle { option } => {
                    self.settle(option)?;
                }
            }
        }
    }

    fn question(&self, ask: &'lib Ask, turn: usize) -> Result<Question<'lib>, RuntimeError> {
        let frame = self.frame();
        let step = &self.lib.flow(frame.flow).steps[frame.step];
        let who = match step.who {
            Who::Anyone => None,
            Who::Role(i) => self.person(frame, i),
            Who::Both => self.person(frame, turn),
        };
        Ok(Question {
            step: self.step_name(),
            who,
            prompt: self.render(&ask.prompt, step.line)?,
            kind: &ask.kind,
            private: step.private,
            optional: step.optional,
            keep: step.keep,
            turn,
            turns: if step.who == Who::Both {
                self.lib.flow(frame.flow).participants.len()
            } else {
                1
            },
            progress: self.progress(),
        })
    }

    /// The person playing role `i` of the current flow.
    fn person(&self, frame: &Frame, i: usize) -> Option<Person> {
        let role = self.lib.flow(frame.flow).participants.get(i)?;
        let name = frame
            .scope
            .names
            .get(i)
            .and_then(|(_, n)| n.as_str())
            .unwrap_or(role);
        Some(Person {
            role: role.clone(),
            name: name.to_owned(),
        })
    }

    /// Answers the waiting question. On a refusal the question stays open and the message
    /// says what a valid answer looks like; on success the run moves on.
    pub fn answer(&mut self, reply: Reply) -> Result<Accepted, AnswerError> {
        let State::Waiting(question) = &self.state else {
            return Err(AnswerError::NotWaiting);
        };
        let accepted = accept(question.kind, question.optional, reply, self.today)
            .map_err(AnswerError::Refused)?;
        let who = question.who.clone();
        let place = self.place();
        // The first answer after the participants went on past a trigger here is theirs to
        // give: it does not hold the run again.
        let cleared = self.screening == Screening::Cleared(place);
        if cleared {
            self.screening = Screening::Due;
        }
        // Every typed answer is screened, whatever the flow says: the global profile first,
        // then what the flows in this run add to it.
        let screened = if question.kind.is_free_text() && !cleared {
            free_text(&accepted.value).iter().find_map(|t| {
                self.screen
                    .and_then(|screen| screen.screen(t))
                    .or_else(|| self.flows_in_run().find_map(|f| f.safety.screen(t)))
            })
        } else {
            None
        };
        let lib = self.lib;
        let frame = self.frame_mut();
        let flow = lib.flow(frame.flow);
        let step = &flow.steps[frame.step];
        // An option with `safety:` holds the run the moment it is picked, like a screened
        // answer: on a `who: both` step the other partner is not asked first.
        let picked = match (&step.ask, accepted.option) {
            (
                Some(Ask {
                    kind: AskKind::Choice { options },
                    ..
                }),
                Some(i),
            ) if !cleared => options.get(i).and_then(|o| o.safety.clone()),
            _ => None,
        };
        let direct = screened.or(picked);
        let id = step.id.as_deref().unwrap_or(&step.label);
        let scope = Arc::make_mut(&mut frame.scope);
        let Phase::Ask { turn } = frame.phase else {
            return Err(AnswerError::NotWaiting);
        };
        // What the answer replaces, to put back if it holds the run.
        let before =
            (direct.is_some() || step.safety.is_some()).then(|| scope.answers.get(id).cloned());
        let mut moved_in_group = false;
        if step.who == Who::Both {
            let mut map: BTreeMap<String, Value> = if turn == 0 {
                BTreeMap::new()
            } else {
                scope
                    .answers
                    .get(id)
                    .and_then(|v| v.try_iter().ok().map(|keys| (v, keys)))
                    .map(|(v, keys)| {
                        keys.filter_map(|k| Some((k.as_str()?.to_owned(), v.get_item(&k).ok()?)))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            map.insert(flow.participants[turn].clone(), accepted.value.clone());
            scope.answers.insert(id.to_owned(), Value::from(map));
            let more_turns = turn + 1 < flow.participants.len() && direct.is_none();
            frame.phase = match step.group {
                // A group: the same person's next question, or the next person from the
                // group's first question. Each counts as a step entered.
                Some(group) if more_turns => {
                    let (to, turn) = if frame.step < group.last {
                        (frame.step + 1, turn)
                    } else {
                        (group.first, turn + 1)
                    };
                    frame.step = to;
                    moved_in_group = true;
                    Phase::Ask { turn }
                }
                _ if more_turns => Phase::Ask { turn: turn + 1 },
                _ => Phase::Settle {
                    option: accepted.option,
                },
            };
        } else {
            scope.answers.insert(id.to_owned(), accepted.value.clone());
            frame.phase = Phase::Settle {
                option: accepted.option,
            };
        }
        let settling = matches!(frame.phase, Phase::Settle { .. });
        if moved_in_group {
            self.steps_entered += 1;
        }
        self.state = State::Running;
        if !settling {
            return Ok(accepted);
        }
        // The step's triggers are checked now, before anything records the answer, so that an
        // answer that holds the run is never saved. A `when` that fails to evaluate is left
        // for settling, which reports it.
        let trigger = match direct {
            Some(category) => Some((self.stops(&category), category)),
            None if cleared => None,
            None => match self.step_trigger() {
                Ok(trigger) => trigger,
                Err(_) => return Ok(accepted),
            },
        };
        self.screening = Screening::Checked;
        if let Some((stop, category)) = trigger {
            self.screening = Screening::Due;
            let id = id.to_owned();
            let frame = self.frame_mut();
            let scope = Arc::make_mut(&mut frame.scope);
            match before.flatten() {
                Some(value) => scope.answers.insert(id, value),
                None => scope.answers.remove(&id),
            };
            frame.phase = Phase::Ask { turn };
            self.state = State::Hold {
                step: self.step_name(),
                category: Some(category),
                stop,
                who,
            };
        }
        Ok(accepted)
    }

    /// Whether the run is held at a safety pause ([`Event::Safety`]). Right after
    /// [`Engine::answer`], this says the answer caused it: a front-end must not keep it.
    pub fn holds_for_safety(&self) -> bool {
        matches!(self.state, State::Hold { .. })
    }

    /// The frame the run stands in. A running engine always has one: `new` and `restore`
    /// push the first, and the last is popped only when the outermost flow ends.
    fn frame(&self) -> &Frame {
        self.frames.last().expect("a running engine has a frame")
    }

    /// The frame the run stands in, to change.
    fn frame_mut(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("a running engine has a frame")
    }

    fn place(&self) -> Place {
        let frame = self.frame();
        (self.frames.len(), frame.flow, frame.step)
    }

    /// Whether a trigger of `category` rules out going on. A flow's own category says for
    /// itself; the global ones always say for themselves (a flow cannot soften them).
    fn stops(&self, category: &str) -> bool {
        match self
            .flows_in_run()
            .find_map(|f| f.safety.category(category))
        {
            Some(own) if self.screen.is_none_or(|s| !s.knows(category)) => own.stop,
            _ => self.screen.is_none_or(|s| s.stops(category)),
        }
    }

    /// The current step's own `safety: {when, category, stop}`, if its expression is true now.
    fn step_trigger(&self) -> Result<Option<(bool, String)>, RuntimeError> {
        let frame = self.frame();
        let step = &self.lib.flow(frame.flow).steps[frame.step];
        if let Some(t) = &step.safety {
            if self.eval(&t.when)?.is_true() {
                return Ok(Some((t.stop, t.category.clone())));
            }
        }
        Ok(None)
    }

    /// What the participants chose after a safety trigger ([`Event::Safety`]): go on (only
    /// where the trigger allows it), stop and save to come back later (likewise), or end the
    /// session. A choice the trigger does not allow ends the session.
    ///
    /// Going on asks the question again (the answer that caused the pause was withdrawn);
    /// the next answer to it does not hold the run again. Stopping, either way, ends the run
    /// as `safety_stop`; after [`SafetyChoice::Pause`] it is [`Finished::resumable`], and a
    /// restored run starts at this same pause.
    pub fn resolve_safety(&mut self, choice: SafetyChoice) {
        let State::Hold { stop, .. } = &self.state else {
            return;
        };
        let stop = *stop;
        match choice {
            SafetyChoice::Continue if !stop => {
                self.screening = Screening::Cleared(self.place());
                self.state = State::Running;
            }
            SafetyChoice::Pause if !stop => {
                self.records.clear();
                self.schedule = None;
                self.finish_run(Outcome::SafetyStop);
                if let State::Done(f) = &mut self.state {
                    f.resumable = true;
                }
            }
            _ => self.finish_run(Outcome::SafetyStop),
        }
    }

    /// The flows of the frames now running, innermost first.
    fn flows_in_run(&self) -> impl Iterator<Item = &'lib crate::flow::Flow> + '_ {
        let lib = self.lib;
        self.frames.iter().rev().map(move |f| lib.flow(f.flow))
    }

    /// Screens free-text answers with `screen` instead of the built-in profile.
    pub fn with_screen(mut self, screen: &'lib dyn Screen) -> Engine<'lib> {
        self.screen = Some(screen);
        self
    }

    /// Switches the global safety screen off. For tests of a flow's own logic only: a run
    /// people take part in must screen every typed answer (a flow's own patterns and triggers
    /// still apply).
    pub fn without_safety_screen_for_tests(mut self) -> Engine<'lib> {
        self.screen = None;
        self
    }

    /// Ends the run here as paused by the participants (the pause signal, Esc in a menu).
    pub fn pause(&mut self) -> Finished {
        if let State::Done(f) = &self.state {
            return f.clone();
        }
        self.records.clear();
        self.schedule = None;
        self.finish_run(Outcome::Paused);
        match &mut self.state {
            State::Done(f) => {
                f.resumable = true;
                f.clone()
            }
            _ => unreachable!("finish_run always ends the run"),
        }
    }

    /// Settles the current step once its answer is in (or it asked nothing), in passes:
    /// its safety triggers, then `set`, then either its end (records and schedule) or the
    /// way on.
    fn settle(&mut self, option: Option<usize>) -> Result<(), RuntimeError> {
        let (flow_index, step_index) = {
            let frame = self.frame();
            (frame.flow, frame.step)
        };
        let lib = self.lib;
        let step = &lib.flow(flow_index).steps[step_index];
        if self.holds_at_settle(step, option)? {
            return Ok(());
        }
        self.apply_set(step)?;
        if let Some(outcome) = step.end {
            for (name, src) in &step.record {
                let value = self.eval(src)?;
                self.records.insert(name.clone(), value);
            }
            if let Some(spec) = &step.schedule {
                self.schedule = Some(self.make_schedule(spec, step.line)?);
            }
            self.took(flow_index, step_index, None);
            return self.finish_frame(outcome);
        }
        let next_step = self.way_on(step, option)?;
        self.took(flow_index, step_index, next_step);
        match next_step {
            Some(i) => self.enter(i, step.line),
            None => self.finish_frame(Outcome::Completed),
        }
    }

    /// Safety first: a trigger ends the step before `set` or `next` can run. A step whose
    /// answer came in was checked then; one without a question (or restored at this point)
    /// is checked here. Whether the run now holds at a safety pause.
    fn holds_at_settle(
        &mut self,
        step: &Step,
        option: Option<usize>,
    ) -> Result<bool, RuntimeError> {
        let checked = self.screening == Screening::Checked;
        let cleared = self.screening == Screening::Cleared(self.place());
        if checked || cleared {
            self.screening = Screening::Due;
            return Ok(false);
        }
        let chosen = match (&step.ask, option) {
            (
                Some(Ask {
                    kind: AskKind::Choice { options },
                    ..
                }),
                Some(i),
            ) => options.get(i).and_then(|o| o.safety.clone()),
            _ => None,
        };
        let trigger = match chosen {
            Some(category) => Some((self.stops(&category), category)),
            None => self.step_trigger()?,
        };
        let Some((stop, category)) = trigger else {
            return Ok(false);
        };
        self.state = State::Hold {
            step: self.step_name(),
            category: Some(category),
            stop,
            who: None,
        };
        Ok(true)
    }

    /// The step's `set`, in order, into the flow's variables.
    fn apply_set(&mut self, step: &Step) -> Result<(), RuntimeError> {
        for (name, src) in &step.set {
            let value = self.eval(src)?;
            let scope = Arc::make_mut(&mut self.frame_mut().scope);
            match scope.vars.get_mut(name) {
                Some(slot) => *slot = value,
                None => {
                    scope.vars.insert(name.clone(), value);
                }
            }
        }
        Ok(())
    }

    /// Where the run goes after the current step: a chosen option's `goto`, the first `next`
    /// branch whose `when` holds, or the step below. `None`: the flow ends.
    fn way_on(&self, step: &Step, option: Option<usize>) -> Result<Option<usize>, RuntimeError> {
        let option_goto = match (&step.ask, option) {
            (
                Some(Ask {
                    kind: AskKind::Choice { options },
                    ..
                }),
                Some(i),
            ) => options.get(i).and_then(|o| o.goto),
            _ => None,
        };
        let target = match option_goto {
            Some(t) => Some(t),
            None => match &step.next {
                Next::FallThrough => None,
                Next::Goto(t) => Some(*t),
                Next::Branches(branches) => {
                    let mut chosen = None;
                    for branch in branches {
                        let taken = match &branch.when {
                            Some(src) => self.eval(src)?.is_true(),
                            None => true,
                        };
                        if taken {
                            chosen = Some(branch.goto);
                            break;
                        }
                    }
                    chosen
                }
            },
        };
        let frame = self.frame();
        let steps = self.lib.flow(frame.flow).steps.len();
        Ok(match target {
            Some(Target::Step(i)) => Some(i),
            Some(Target::End) => None,
            None if frame.step + 1 < steps => Some(frame.step + 1),
            None => None,
        })
    }

    /// Enters step `i` of the current flow, within the bound on steps (a loop without a way
    /// out stops with a message naming the line it left from).
    fn enter(&mut self, i: usize, line: u32) -> Result<(), RuntimeError> {
        self.steps_entered += 1;
        if self.steps_entered > self.limits.max_steps {
            return Err(self.fault(
                line,
                format!(
                    "the run went past {} steps; a loop in this flow may have no way out",
                    self.limits.max_steps
                ),
            ));
        }
        let frame = self.frame_mut();
        frame.step = i;
        frame.phase = Phase::Say;
        Ok(())
    }

    /// Ends the innermost flow. A called flow that completes hands control back to its
    /// caller (its variables become visible under its id, with `-` as `_`); a stop ends the
    /// whole run.
    fn finish_frame(&mut self, outcome: Outcome) -> Result<(), RuntimeError> {
        if self.frames.len() > 1 && outcome == Outcome::Completed {
            let depth = self.frames.len();
            let mut done = self.frames.pop().expect("checked above");
            if self.unkept.as_ref().is_some_and(|(d, _)| *d == depth) {
                // The answers that are not kept stay with the flow that asked them.
                self.unkept = None;
                let flow = self.lib.flow(done.flow);
                let scope = Arc::make_mut(&mut done.scope);
                for id in flow
                    .steps
                    .iter()
                    .filter(|s| !s.keep)
                    .filter_map(|s| s.id.as_ref())
                {
                    scope.answers.remove(id);
                }
            }
            // `safety-check` is read as `safety_check`: a `-` cannot stand in a variable name.
            let id = self.lib.flow(done.flow).id.replace('-', "_");
            let frame = self.frames.last_mut().expect("checked above");
            let scope = Arc::make_mut(&mut frame.scope);
            scope.answers.insert(id, Value::from_dyn_object(done.scope));
            // The caller goes on with its own question, if the calling step has one.
            frame.phase = Phase::Ask { turn: 0 };
            return Ok(());
        }
        self.finish_run(outcome);
        Ok(())
    }

    /// Ends the whole run, whatever frame it is in.
    fn finish_run(&mut self, outcome: Outcome) {
        let vars = match self.frames.first() {
            Some(f) => f
                .scope
                .vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            None => IndexMap::new(),
        };
        self.state = State::Done(Finished {
            outcome,
            ended_at: self.step_name(),
            vars,
            records: std::mem::take(&mut self.records),
            schedule: self.schedule.take(),
            resumable: false,
        });
    }
}

/// `previous` for `flow`: each metric its ending steps record, from `metrics` or `none`.
fn previous_value(flow: &Flow, metrics: &[(String, Value)]) -> Value {
    let mut map: BTreeMap<String, Value> = flow
        .steps
        .iter()
        .flat_map(|s| {
            s.record
                .iter()
                .map(|(name, _)| (name.clone(), Value::from(())))
        })
        .collect();
    for (name, value) in metrics {
        if let Some(slot) = map.get_mut(name) {
            *slot = value.clone();
        }
    }
    Value::from(map)
}

/// The texts in a typed answer: the answer itself, or each entry of a list.
fn free_text(value: &Value) -> Vec<String> {
    match value.as_str() {
        Some(s) => vec![s.to_owned()],
        None => value
            .try_iter()
            .map(|items| {
                items
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The flow's roles with the names given for them (a missing name defaults to the role).
fn people(flow: &Flow, names: &[String]) -> Vec<Person> {
    flow.participants
        .iter()
        .enumerate()
        .map(|(i, role)| Person {
            role: role.clone(),
            // A name is printed on every handover: never a terminal escape.
            name: names
                .get(i)
                .map(|n| crate::printable::printable(n).into_owned())
                .unwrap_or_else(|| role.clone()),
        })
        .collect()
}

/// A minijinja error as one readable sentence.
fn describe(e: &minijinja::Error) -> String {
    use minijinja::ErrorKind;
    match e.kind() {
        ErrorKind::UndefinedError => format!(
            "uses an undefined variable{}",
            e.detail().map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        ErrorKind::OutOfFuel => "the template ran too long (does it loop without end?)".to_owned(),
        _ => e
            .detail()
            .map(str::to_owned)
            .unwrap_or_else(|| e.kind().to_string()),
    }
}

#[cfg(test)]
mod tests;
