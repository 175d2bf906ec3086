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

impl Origin {
    /// The name used in diagnostics: the path, or `flows/NAME` for a built-in.
    pub fn display_name(&self) -> String {
        match self {
            Origin::Path(p) | Origin::Local(p) | Origin::User(p) => p.display().to_string(),
            Origin::Builtin(name) => format!("flows/{name} (built in)"),
        }
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
    Completed,
    Stopped,
    SafetyStop,
    Paused,
}

impl Outcome {
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
    Step(usize),
    /// `goto: end`: the flow ends as completed.
    End,
}

/// An expression as written, kept with its line for runtime messages.
#[derive(Debug, Clone)]
pub struct ExprSource {
    pub source: String,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Branch {
    pub when: Option<ExprSource>,
    pub goto: Target,
}

#[derive(Debug, Clone)]
pub enum Next {
    /// No `next`: fall through to the step below (or end after the last step).
    FallThrough,
    Goto(Target),
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

#[derive(Debug, Clone)]
pub struct SafetyTrigger {
    pub when: ExprSource,
    pub category: String,
    pub stop: bool,
}

#[derive(Debug, Clone)]
pub struct ChoiceOption {
    pub label: String,
    pub value: Value,
    pub goto: Option<Target>,
    pub safety: Option<String>,
}

/// A bound on a date answer: a fixed date, or days relative to the session's today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    Fixed(chrono::NaiveDate),
    DaysFromToday(i64),
}

#[derive(Debug, Clone)]
pub enum AskKind {
    Text {
        multiline: bool,
        min_length: Option<usize>,
        max_length: Option<usize>,
    },
    Choice {
        options: Vec<ChoiceOption>,
    },
    Multi {
        options: Vec<ChoiceOption>,
        min: Option<usize>,
        max: Option<usize>,
    },
    Confirm {
        default: Option<bool>,
    },
    Scale {
        min: i64,
        max: i64,
        labels: Vec<(i64, String)>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    Date {
        min: Option<DateBound>,
        max: Option<DateBound>,
    },
    Time {
        min: Option<chrono::NaiveTime>,
        max: Option<chrono::NaiveTime>,
    },
    List {
        min: Option<usize>,
        max: Option<usize>,
    },
}

impl AskKind {
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

/// A compiled template: its name in the library's template environment.
#[derive(Debug, Clone)]
pub struct TemplateRef {
    pub name: String,
    /// The template is plain text without any `{{`/`{%`: no rendering needed.
    pub literal: Option<String>,
    /// Text and plain `{{ variable }}` references only: filled in without minijinja.
    pub simple: Option<Vec<crate::render::Part>>,
    /// The text of a simple template, which is not compiled into the environment: minijinja
    /// compiles it only to word the error when a variable in it is undefined.
    pub source: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Ask {
    pub kind: AskKind,
    pub prompt: TemplateRef,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// The step's id; steps that only say something may have none.
    pub id: Option<String>,
    /// What the transcript calls this step: its id, or `#N` (1-based) when it has none.
    pub label: String,
    /// The line the step starts on in its file.
    pub line: u32,
    pub say: Option<TemplateRef>,
    pub ask: Option<Ask>,
    pub who: Who,
    pub private: bool,
    pub optional: bool,
    pub set: Vec<(String, ExprSource)>,
    pub next: Next,
    /// The id of the flow this step calls; the library makes sure it is loaded.
    pub call: Option<String>,
    pub timer: Option<u32>,
    pub safety: Option<SafetyTrigger>,
    pub end: Option<Outcome>,
    pub record: Vec<(String, ExprSource)>,
    /// Boxed: few steps have one, and it is most of a step's size.
    pub schedule: Option<Box<ScheduleSpec>>,
}

/// `schedule:` on an ending step, checked.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub name: String,
    pub title: TemplateRef,
    pub note: Option<TemplateRef>,
    pub times: ExprSource,
    pub every_days: Option<ExprSource>,
    pub start: Option<ExprSource>,
    pub until: ExprSource,
    pub minutes: u32,
    pub remind: u32,
}

/// One `tests:` case.
#[derive(Debug, Clone)]
pub struct FlowTest {
    pub name: String,
    pub line: u32,
    pub answers: Vec<(String, Value)>,
    pub names: Vec<String>,
    pub previous: Vec<(String, Value)>,
    pub expect_outcome: Option<String>,
    pub expect_ends_at: Option<String>,
    pub expect_vars: Vec<(String, Value)>,
    pub expect_records: Vec<(String, Value)>,
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
    pub id: String,
    pub message: String,
    /// Whether a trigger ends the session (`false` lets the participants go on, deliberately).
    pub stop: bool,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub minutes: Option<u32>,
    pub tags: Vec<String>,
    pub participants: Vec<String>,
    pub vars: Vec<(String, Value)>,
    pub steps: Vec<Step>,
    pub tests: Vec<FlowTest>,
    pub origin: Origin,
    /// What the flow adds to the global safety profile.
    pub safety: FlowSafety,
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
