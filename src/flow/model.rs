//! The validated flow: what the engine runs.
//!
//! Every value here has passed the loader's checks: step targets resolve to indexes, roles to
//! participant positions, ranges are sane. The engine relies on that and never re-checks.

use std::collections::HashMap;
use std::path::PathBuf;

use minijinja::Value;

/// Where a flow was loaded from; shown by `trustguide list` and in every diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file given by path on the command line.
    Path(PathBuf),
    /// `./flows/` in the current folder.
    Local(PathBuf),
    /// The user's flows folder (`$TRUSTGUIDE_HOME/flows`).
    User(PathBuf),
    /// Embedded in the binary; the name is the file under `flows/`.
    Builtin(&'static str),
}

/// The file as messages name it (as [`Origin::display_name`], without allocating).
impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Path(p) | Origin::Local(p) | Origin::User(p) => write!(f, "{}", p.display()),
            Origin::Builtin(name) => write!(f, "flows/{name} (built in)"),
        }
    }
}

impl Origin {
    /// The name used in diagnostics: the path, or `flows/NAME` for a built-in.
    pub fn display_name(&self) -> String {
        self.to_string()
    }

    /// One word for `trustguide list`.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Path(_) => "path",
            Origin::Local(_) => "./flows",
            Origin::User(_) => "user",
            Origin::Builtin(_) => "built-in",
        }
    }
}

/// How a flow or a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The flow reached its end: an `end: completed` step, `next: end`, or past its last step.
    Completed,
    /// An `end: stopped` step ended it (or a called flow that stopped).
    Stopped,
    /// A safety trigger ended the run ([`crate::engine::Finished::resumable`] says whether the
    /// participants chose to come back to it).
    SafetyStop,
    /// The participants paused (`/pause`, or their pause word); the session can be resumed.
    Paused,
}

impl Outcome {
    /// The outcome as transcripts and sessions write it: `completed`, `stopped`,
    /// `safety_stop` or `paused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Stopped => "stopped",
            Outcome::SafetyStop => "safety_stop",
            Outcome::Paused => "paused",
        }
    }
}

/// Where a jump lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The step at this index in the flow's `steps`.
    Step(usize),
    /// `goto: end`: the flow ends as completed.
    End,
}

/// An expression: as written, with its line for runtime messages, and compiled once when the
/// flow loaded (the engine evaluates that compiled form on every visit).
#[derive(Debug, Clone)]
pub struct ExprSource {
    /// The minijinja expression, as the author wrote it.
    pub source: String,
    /// The line it is on in the flow's file.
    pub line: u32,
    /// The compiled expression; `None` only in a flow that did not load (it failed to compile,
    /// and the loader reported it), which the engine never runs.
    pub(crate) compiled: Option<std::sync::Arc<minijinja::Expression<'static, 'static>>>,
}

/// One entry of a `next:` list.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The condition; `None` when the branch has no `when` and is always taken.
    pub when: Option<ExprSource>,
    /// Where the run goes when this branch is taken.
    pub goto: Target,
}

/// A step's `next:`: where the run goes after the step, unless it ends there or a chosen
/// option's `goto` decides.
#[derive(Debug, Clone)]
pub enum Next {
    /// No `next`: fall through to the step below (or end after the last step).
    FallThrough,
    /// `next: ID` or `next: end`: always this target.
    Goto(Target),
    /// A list of branches: the first whose `when` is true (or has none) wins; when none
    /// does, the run falls through to the step below.
    Branches(Vec<Branch>),
}

/// Who answers a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Whoever is at the keyboard.
    Anyone,
    /// The participant at this position in `participants`.
    Role(usize),
    /// Each participant in turn; the answer becomes a map `{role: answer}`.
    Both,
}

/// A step's own `safety: {when, category, stop}`, checked after the answer is stored.
#[derive(Debug, Clone)]
pub struct SafetyTrigger {
    /// The expression that, when true, pauses the run.
    pub when: ExprSource,
    /// The category id: a global one or one the flow defines.
    pub category: String,
    /// Whether the trigger ends the exercise (`stop: true`, the default) or lets the
    /// participants go on after a confirmed choice.
    pub stop: bool,
}

/// One entry of a `choice` or `multi` step's `options`.
#[derive(Debug, Clone)]
pub struct ChoiceOption {
    /// The text shown in the menu (plain text, not a template).
    pub label: String,
    /// The answer stored when the option is chosen; the label when the author gave none.
    pub value: Value,
    /// The step to jump to when this option is chosen (`choice` steps only).
    pub goto: Option<Target>,
    /// Choosing this option pauses the run for safety with this category id.
    pub safety: Option<String>,
}

/// A bound on a date answer: a fixed date, or days relative to the session's today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    /// A calendar date (`2026-03-14`).
    Fixed(chrono::NaiveDate),
    /// Days after (or, when negative, before) the session's today: `+7d`, `-3d`; `today` is 0.
    DaysFromToday(i64),
}

/// What a step asks for, with the bounds its answer must keep; `None` bounds are open.
#[derive(Debug, Clone)]
pub enum AskKind {
    /// `ask: text`: free text, screened for safety.
    Text {
        /// Lines are read until an empty one, instead of a single line.
        multiline: bool,
        /// The fewest characters an answer may have.
        min_length: Option<usize>,
        /// The most characters an answer may have (every text answer is also held to 20,000).
        max_length: Option<usize>,
    },
    /// `ask: choice`: one option from a menu.
    Choice {
        /// The options, in the order they are shown.
        options: Vec<ChoiceOption>,
    },
    /// `ask: multi`: any number of options; the answer is the list of their values.
    Multi {
        /// The options, in the order they are shown.
        options: Vec<ChoiceOption>,
        /// The fewest options to choose (`None`: 1, or 0 on an optional step).
        min: Option<usize>,
        /// The most options to choose.
        max: Option<usize>,
    },
    /// `ask: confirm`: yes or no.
    Confirm {
        /// The answer preselected at the keyboard, if any.
        default: Option<bool>,
    },
    /// `ask: scale`: a whole number from `min` to `max`.
    Scale {
        /// The lowest value (0 when the author gave none).
        min: i64,
        /// The highest value (10 when the author gave none); always above `min`.
        max: i64,
        /// Words shown beside some values, as `(value, label)`, in the file's order.
        labels: Vec<(i64, String)>,
    },
    /// `ask: number`: any number within the bounds.
    Number {
        /// The smallest number accepted.
        min: Option<f64>,
        /// The largest number accepted.
        max: Option<f64>,
        /// Only whole numbers are accepted.
        integer: bool,
    },
    /// `ask: date`: a `YYYY-MM-DD` date.
    Date {
        /// The earliest date accepted.
        min: Option<DateBound>,
        /// The latest date accepted.
        max: Option<DateBound>,
    },
    /// `ask: time`: a 24-hour `HH:MM` time.
    Time {
        /// The earliest time accepted.
        min: Option<chrono::NaiveTime>,
        /// The latest time accepted.
        max: Option<chrono::NaiveTime>,
    },
    /// `ask: list`: entries of free text, each screened for safety.
    List {
        /// The fewest entries.
        min: Option<usize>,
        /// The most entries.
        max: Option<usize>,
    },
}

impl AskKind {
    /// The kind as written after `ask:` (`text`, `choice`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            AskKind::Text { .. } => "text",
            AskKind::Choice { .. } => "choice",
            AskKind::Multi { .. } => "multi",
            AskKind::Confirm { .. } => "confirm",
            AskKind::Scale { .. } => "scale",
            AskKind::Number { .. } => "number",
            AskKind::Date { .. } => "date",
            AskKind::Time { .. } => "time",
            AskKind::List { .. } => "list",
        }
    }

    /// Whether the answer is typed free text (and so screened for safety).
    pub fn is_free_text(&self) -> bool {
        matches!(self, AskKind::Text { .. } | AskKind::List { .. })
    }
}

/// A flow's text (a `say`, a `prompt`, a schedule's title), ready to show: as it is, filled in
/// directly, or rendered by minijinja.
#[derive(Debug, Clone)]
pub enum TemplateRef {
    /// Plain text without any `{{`/`{%`: shown as it is.
    Literal(String),
    /// Text and plain `{{ variable }}` references only: filled in without minijinja.
    Simple {
        /// The template's name (`FLOW/STEP/PART`), for an error message.
        name: String,
        /// The text and the variables, in order.
        parts: Vec<crate::render::Part>,
        /// The text as written: minijinja compiles it only to word the error when a
        /// variable in it is undefined.
        source: String,
    },
    /// Anything else: compiled into the library's template environment under its name
    /// (`FLOW/STEP/PART`).
    Compiled(String),
}

/// A step's question: what it asks for and how it is worded.
#[derive(Debug, Clone)]
pub struct Ask {
    /// The kind of answer, with its bounds and options.
    pub kind: AskKind,
    /// The question (`prompt:`), a template.
    pub prompt: TemplateRef,
}

/// One step of a flow, checked.
#[derive(Debug, Clone)]
pub struct Step {
    /// The step's id; steps that only say something may have none.
    pub id: Option<String>,
    /// What the transcript calls this step: its id, or `#N` (1-based) when it has none.
    pub label: String,
    /// The line the step starts on in its file.
    pub line: u32,
    /// Text to show (`say:`); on an asking step it is shown before the question.
    pub say: Option<TemplateRef>,
    /// The question, on a step that asks; its answer is stored under the step's `id`.
    pub ask: Option<Ask>,
    /// Who answers the question.
    pub who: Who,
    /// The `group` of `who: both` steps this one is asked in, one person at a time.
    pub group: Option<StepGroup>,
    /// The answer does not stay on the screen, and exports leave it out unless asked not to.
    pub private: bool,
    /// An empty answer is allowed; its value is `none`.
    pub optional: bool,
    /// `keep: false`: the answer is never written to this computer; a run saved while it is
    /// held asks it again (see `Engine::snapshot`).
    pub keep: bool,
    /// `set:` as `(variable, expression)`, evaluated in order after the answer is stored.
    pub set: Vec<(String, ExprSource)>,
    /// Where the run goes after this step.
    pub next: Next,
    /// The id of the flow this step calls; the library makes sure it is loaded.
    pub call: Option<String>,
    /// Seconds of a timed turn (at least 1), counted down after `say` and before the step
    /// calls or asks; headless runs skip it.
    pub timer: Option<u32>,
    /// The step's own safety trigger, checked after the answer is stored.
    pub safety: Option<SafetyTrigger>,
    /// `end:`: the flow ends at this step as [`Outcome::Completed`] or [`Outcome::Stopped`].
    pub end: Option<Outcome>,
    /// `record:` as `(metric, expression)`, evaluated when the flow ends here (`end` steps
    /// only).
    pub record: Vec<(String, ExprSource)>,
    /// Boxed: few steps have one, and it is most of a step's size.
    pub schedule: Option<Box<ScheduleSpec>>,
}

/// Consecutive `who: both` steps asked of one person, all of them, then of the next: the
/// positions of the group's first and last steps. Only the last may go elsewhere, and only
/// the first shows text before its question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepGroup {
    /// The first step of the group.
    pub first: usize,
    /// The last step of the group.
    pub last: usize,
}

/// How one recorded metric is shown (`metrics:` in a flow).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The metric's name in `record`.
    pub name: String,
    /// Its name for people (the metric's name when none is given).
    pub title: String,
    /// The lowest and highest values it can have, when known.
    pub range: Option<(f64, f64)>,
    /// `Some(true)`: higher is better; `Some(false)`: lower is; `None`: neither.
    pub higher_is_better: Option<bool>,
}

/// `schedule:` on an ending step, checked.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    /// The schedule's name (the flow's id when not given); a newer schedule with the same
    /// name replaces an older one.
    pub name: String,
    /// Each check-in's calendar title, a template.
    pub title: TemplateRef,
    /// Each check-in's calendar description, a template.
    pub note: Option<TemplateRef>,
    /// An expression giving a time (`"19:00"`) or a list of times a day; `None` for days
    /// with no time (all-day calendar entries).
    pub times: Option<ExprSource>,
    /// An expression giving the days between check-in days; `None` means every day.
    pub every_days: Option<ExprSource>,
    /// An expression giving the first day (`YYYY-MM-DD`); `None` means today.
    pub start: Option<ExprSource>,
    /// An expression giving the last day with check-ins (`YYYY-MM-DD`).
    pub until: ExprSource,
    /// Each check-in's length in minutes (1 to 1440; 15 when not given).
    pub minutes: u32,
    /// Minutes before each check-in that the calendar reminds; 0 for no reminder (10 when not
    /// given).
    pub remind: u32,
}

/// One `tests:` case.
#[derive(Debug, Clone)]
pub struct FlowTest {
    /// The case's `name`, shown when it passes or fails.
    pub name: String,
    /// The line the case starts on in the flow's file.
    pub line: u32,
    /// The answers, by step id (or `flow-id/step` in a called flow), as in an answers file.
    pub answers: Vec<(String, Value)>,
    /// Where each answer's step id is written in the file (line, column), by index.
    pub answer_at: Vec<(u32, u32)>,
    /// The participants' names (`as:`), in role order; a role without one goes by its name.
    pub names: Vec<String>,
    /// What `previous` holds in the case: an earlier session's metrics, by metric name.
    pub previous: Vec<(String, Value)>,
    /// The outcome expected (`completed`, `stopped`, `safety_stop` or `paused`).
    pub expect_outcome: Option<String>,
    /// The step the run is expected to end at, as transcripts name it (`flow-id/step` inside
    /// a called flow).
    pub expect_ends_at: Option<String>,
    /// Variables expected at the end; only those named are compared.
    pub expect_vars: Vec<(String, Value)>,
    /// Recorded metrics expected at the end; only those named are compared.
    pub expect_records: Vec<(String, Value)>,
    /// Texts the run is expected to show (each a part of a `say` or a question).
    pub expect_shows: Vec<String>,
    /// Fields of the schedule the run is expected to make; only those named are compared.
    pub expect_schedule: Vec<(String, Value)>,
}

/// A flow's additions to the global safety profile (`safety:` at the top of the file).
#[derive(Debug, Clone, Default)]
pub struct FlowSafety {
    /// The flow's own categories, with their messages.
    pub categories: Vec<FlowCategory>,
    /// The added patterns (for global categories and the flow's own), compiled; `None` when
    /// the flow adds none.
    pub detector: Option<std::sync::Arc<crate::safety::Detector>>,
}

impl FlowSafety {
    /// The first category the flow's own patterns find in `text`.
    pub fn screen(&self, text: &str) -> Option<String> {
        let detector = self.detector.as_ref()?;
        detector.scan(text).first().map(|c| (*c).to_owned())
    }

    /// The flow's own category with this id.
    pub fn category(&self, id: &str) -> Option<&FlowCategory> {
        self.categories.iter().find(|c| c.id == id)
    }
}

/// A category a flow defines for itself.
#[derive(Debug, Clone)]
pub struct FlowCategory {
    /// The category's id, as steps, options and patterns name it.
    pub id: String,
    /// The category's `message`, trimmed; the pause itself shows the same calm words whatever
    /// the category.
    pub message: String,
    /// Whether a trigger ends the session (`false` lets the participants go on, deliberately).
    pub stop: bool,
}

/// A loaded and checked flow: everything the engine needs to run it.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The flow's id, as in its file name and `trustguide run ID`.
    pub id: String,
    /// Shown by `trustguide list` and at the start of a run.
    pub title: String,
    /// One or two sentences, trimmed; empty when the flow has none.
    pub summary: String,
    /// The estimated duration in minutes, shown by `trustguide list`.
    pub minutes: Option<u32>,
    /// Words shown by `trustguide list`.
    pub tags: Vec<String>,
    /// The roles, in order; [`Who::Role`] holds a position in this list, and each role is
    /// also a variable holding that person's name.
    pub participants: Vec<String>,
    /// The initial variables (`vars:`), in the file's order.
    pub vars: Vec<(String, Value)>,
    /// The steps, in order; [`Target::Step`] holds an index into this list.
    pub steps: Vec<Step>,
    /// The scripted playthroughs under `tests:`.
    pub tests: Vec<FlowTest>,
    /// Where the flow was loaded from.
    pub origin: Origin,
    /// What the flow adds to the global safety profile.
    pub safety: FlowSafety,
    /// How `trustguide progress` shows the metrics the flow records, in the file's order.
    pub metrics: Vec<Metric>,
    pub(crate) step_index: HashMap<String, usize>,
    /// For each step, the fewest steps still to show before the flow can end (for "step 4 of ~12").
    pub(crate) min_remaining: Vec<u32>,
}

impl Flow {
    /// The index of the step with this id.
    pub fn step_by_id(&self, id: &str) -> Option<usize> {
        self.step_index.get(id).copied()
    }

    /// The fewest steps a run can still show from step `index` to the end.
    pub fn min_remaining(&self, index: usize) -> u32 {
        self.min_remaining.get(index).copied().unwrap_or(0)
    }
}
