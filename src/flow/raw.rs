//! The serde mirror of a flow file: exactly what the YAML says, with source positions.
//!
//! Nothing here is trusted yet. These types say which fields each part of a flow has and of
//! what type; the shape pass (`shape.rs`) reads them from the YAML tree, reporting every
//! unknown field and wrong type, and the checks in `load.rs` turn them into the validated
//! model in `model.rs`. The engine never sees these types. The JSON Schema is derived from
//! them too.
//!
//! A field a flow must have is still an `Option` here, marked required for the schema:
//! serde would stop at a missing field, and `load.rs` reports it with the others instead.

use indexmap::IndexMap;
use minijinja::Value;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::shape::SPANNED;

/// Where a value starts in the file: 1-based line and column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Pos {
    line: u32,
    column: u32,
}

impl Pos {
    pub fn new(line: u32, column: u32) -> Pos {
        Pos { line, column }
    }
    pub fn line(&self) -> u64 {
        u64::from(self.line)
    }
    pub fn column(&self) -> u64 {
        u64::from(self.column)
    }
}

/// A value and where it starts in the file.
///
/// The shape pass (`shape.rs`) answers the newtype name [`SPANNED`] with the position and
/// the value; no other deserializer reads the raw types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sp<T> {
    pub value: T,
    pub referenced: Pos,
}

impl<T> Sp<T> {
    pub fn new(value: T, referenced: Pos) -> Sp<T> {
        Sp { value, referenced }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpVisitor<T> {
            type Value = Sp<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a line, a column and a value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Sp<T>, A::Error> {
                let missing = || de::Error::custom("a position and a value");
                let line: u32 = seq.next_element()?.ok_or_else(missing)?;
                let column: u32 = seq.next_element()?.ok_or_else(missing)?;
                let value: T = seq.next_element()?.ok_or_else(missing)?;
                Ok(Sp::new(value, Pos::new(line, column)))
            }
        }
        deserializer.deserialize_newtype_struct(SPANNED, SpVisitor(std::marker::PhantomData))
    }
}

/// A trustguide flow: a guided exercise of steps that show text, ask questions and branch on the answers. See docs/flow-format.md.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    /// The flow's id: lowercase letters, digits, `-` and `_`, starting with a letter. It is also the file's name (`ID.yaml`) and what `trustguide run ID` and `call: ID` use.
    #[schemars(with = "String")]
    #[schemars(required)]
    pub flow: Option<Sp<String>>,
    /// The name people see in `trustguide list` and at the start of a run.
    #[schemars(with = "Text")]
    #[schemars(required)]
    pub title: Option<Sp<String>>,
    /// One or two sentences on what the exercise is for, shown by `trustguide list`.
    #[schemars(with = "Option<Text>")]
    #[serde(default)]
    pub summary: Option<String>,
    /// About how many minutes the exercise takes, shown by `trustguide list`.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub minutes: Option<Sp<u32>>,
    /// Words to group flows by, such as `daily` or `weekly`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The roles taking part, in snake_case, such as `[speaker, listener]`. Each role is also a variable holding that person's name.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub participants: Vec<Sp<String>>,
    /// Variables and their starting values, such as `{ rounds: 0 }`, for templates and expressions to use.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub vars: IndexMap<Sp<String>, Value>,
    /// The steps, in order. Each starts with `- `.
    #[schemars(with = "Vec<RawStep>")]
    #[schemars(required)]
    pub steps: Option<Sp<Vec<Sp<RawStep>>>>,
    /// Scripted playthroughs that `trustguide test` runs: answers in, the expected ending out.
    #[serde(default)]
    #[schemars(with = "Vec<RawTest>")]
    pub tests: Vec<Sp<RawTest>>,
    /// What this flow adds to the safety screening: more patterns, and categories of its own. A flow cannot switch any screening off.
    #[schemars(with = "Option<RawFlowSafety>")]
    pub safety: Option<Sp<RawFlowSafety>>,
    /// How `trustguide progress` shows the metrics this flow's `record` keeps, by metric: a title, the range, and which way is better.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, RawMetric>")]
    pub metrics: IndexMap<Sp<String>, Sp<RawMetric>>,
}

/// How one recorded metric is shown by `trustguide progress`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    /// The metric's name for people, such as "Calm about each other's activities".
    #[schemars(with = "Option<Text>")]
    pub title: Option<Sp<String>>,
    /// The lowest value it can have (bars start here).
    #[schemars(with = "Option<f64>")]
    pub min: Option<Sp<f64>>,
    /// The highest value it can have (a full bar).
    #[schemars(with = "Option<f64>")]
    pub max: Option<Sp<f64>>,
    /// `higher` or `lower`: which way is better, so that a change can be called better or worse.
    pub better: Option<RawBetter>,
}

/// Which way of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawBetter {
    /// Higher values are better.
    Higher,
    /// Lower values are better.
    Lower,
}

/// What a flow adds to the safety screening. Nothing can be taken away.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlowSafety {
    /// More patterns for a category, by category id: a built-in one (such as `self_harm`) or one of this flow's `categories`.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Vec<String>>")]
    pub patterns: IndexMap<Sp<String>, Vec<Sp<String>>>,
    /// This flow's own safety categories, by id, each with the message shown when an answer matches.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, RawFlowCategory>")]
    pub categories: IndexMap<Sp<String>, Sp<RawFlowCategory>>,
}

/// A safety category of this flow.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlowCategory {
    /// What the participants read when an answer matches this category.
    #[schemars(with = "Text")]
    #[schemars(required)]
    pub message: Option<Sp<String>>,
    /// `true` (the default): a match ends the session with the help message; `false`: the message is shown and the session goes on.
    #[serde(default = "yes")]
    pub stop: bool,
    /// The patterns that match an answer to this category.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub patterns: Vec<Sp<String>>,
}

/// One step: it shows text, asks a question, or both, then goes on.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("if" = { "required": ["ask"] }, "then" = { "required": ["prompt"] }))]
pub struct RawStep {
    /// The step's name, in snake_case. Needed on a step that asks (the answer is stored under it) or that something jumps to.
    #[schemars(with = "Option<String>")]
    pub id: Option<Sp<String>>,
    /// Text to show. On a step that asks, it is shown before the question. `{{ name }}` puts in a variable.
    #[schemars(with = "Option<Text>")]
    pub say: Option<Sp<String>>,
    /// The kind of question: `text`, `choice`, `multi`, `confirm`, `scale`, `number`, `date`, `time` or `list`. Needs a `prompt`.
    #[schemars(with = "Option<AskKindName>")]
    pub ask: Option<Sp<AskKindName>>,
    /// The question to ask. `{{ name }}` puts in a variable.
    #[schemars(with = "Option<Text>")]
    pub prompt: Option<Sp<String>>,
    /// Who answers: one of the `participants`, or `both` (each in turn). Left out: whoever is at the keyboard.
    #[schemars(with = "Option<String>")]
    pub who: Option<Sp<String>>,
    /// Consecutive `who: both` steps with the same `group` are asked of one person, all of them, then of the other: one handover instead of one per question.
    #[schemars(with = "Option<String>")]
    pub group: Option<Sp<String>>,
    /// `true`: the answer is not left on the screen, and is left out of shared exports.
    #[serde(default)]
    pub private: bool,
    /// `true`: an empty answer is allowed; its value is then `none`.
    #[serde(default)]
    pub optional: bool,
    /// `false`: the answer is used while the flow runs and never written to this computer (not to history, exports or the saved place to resume from); a session left after it asks it again. For questions whose answer alone could put someone at risk, such as a safety check's.
    #[serde(default = "keep_default")]
    pub keep: bool,
    /// Variables to change after the answer, as `{ name: expression }`, in order.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Expr>")]
    pub set: IndexMap<Sp<String>, Sp<String>>,
    /// Where to go after this step: a step id, `end`, or a list of branches (`- when: expression` / `goto: step_id`). Left out: the step below.
    #[schemars(with = "Option<RawNext>")]
    pub next: Option<Box<Sp<RawNext>>>,
    /// Run another flow, by its id, then come back here.
    #[schemars(with = "Option<String>")]
    pub call: Option<Box<Sp<String>>>,
    /// Seconds for a timed turn: a countdown that Enter can end early.
    #[schemars(with = "Option<u32>")]
    pub timer: Option<Box<Sp<u32>>>,
    /// A safety check after the answer: when `when` is true, the session stops (or pauses) with the help of `category`.
    #[schemars(with = "Option<RawSafety>")]
    pub safety: Option<Box<Sp<RawSafety>>>,
    /// End the flow at this step: `completed` or `stopped`. The `say` text is the closing words.
    #[schemars(with = "Option<RawOutcome>")]
    pub end: Option<Box<Sp<RawOutcome>>>,
    /// Numbers to keep when the flow ends here, as `{ metric: expression }`, for `trustguide progress`. Only on a step with `end`.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Expr>")]
    pub record: IndexMap<String, Sp<String>>,
    /// Check-ins to plan when the flow ends here, for `trustguide schedule` and calendars. Only on a step with `end`.
    #[schemars(with = "Option<RawSchedule>")]
    pub schedule: Option<Sp<Box<RawSchedule>>>,
    // Fields of particular ask kinds. Which ones a kind accepts is checked in `load.rs`,
    /// For `ask: text`: `true` lets the answer run over several lines, until an empty one.
    // where the message can name the step and the kind.
    #[schemars(with = "Option<bool>")]
    pub multiline: Option<Box<Sp<bool>>>,
    /// For `ask: text`: the fewest characters an answer may have.
    #[schemars(with = "Option<usize>")]
    pub min_length: Option<Box<Sp<usize>>>,
    /// For `ask: text`: the most characters an answer may have.
    #[schemars(with = "Option<usize>")]
    pub max_length: Option<Box<Sp<usize>>>,
    /// For `ask: choice` and `ask: multi`: the options, each a label, or a map with `label` (and `value`, `goto`, `safety`).
    #[schemars(with = "Option<Vec<RawOption>>")]
    pub options: Option<Sp<Vec<Sp<RawOption>>>>,
    /// The smallest answer: a number (`scale`, `number`), the fewest entries (`multi`, `list`), a date (`today`, `+7d`, `2026-03-14`) or a time (`"07:30"`).
    #[schemars(with = "Option<Bound>")]
    pub min: Option<Box<Sp<Value>>>,
    /// The largest answer: a number (`scale`, `number`), the most entries (`multi`, `list`), a date (`today`, `+7d`, `2026-03-14`) or a time (`"21:00"`).
    #[schemars(with = "Option<Bound>")]
    pub max: Option<Box<Sp<Value>>>,
    /// For `ask: scale`: words for some of the numbers, such as `{ 0: not at all, 10: completely }`.
    #[schemars(with = "Option<std::collections::BTreeMap<i64, String>>")]
    pub labels: Option<Box<Sp<ScaleLabels>>>,
    /// For `ask: confirm`: the answer when Enter is pressed alone.
    #[schemars(with = "Option<bool>")]
    pub default: Option<Box<Sp<bool>>>,
    /// For `ask: number`: `true` allows whole numbers only.
    #[schemars(with = "Option<bool>")]
    pub integer: Option<Box<Sp<bool>>>,
}

/// A scale's `labels:`, each number with where it is written.
pub type ScaleLabels = IndexMap<Sp<i64>, String>;

/// The kind of question a step asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AskKindName {
    Text,
    Choice,
    Multi,
    Confirm,
    Scale,
    Number,
    Date,
    Time,
    List,
}

impl AskKindName {
    pub fn as_str(self) -> &'static str {
        match self {
            AskKindName::Text => "text",
            AskKindName::Choice => "choice",
            AskKindName::Multi => "multi",
            AskKindName::Confirm => "confirm",
            AskKindName::Scale => "scale",
            AskKindName::Number => "number",
            AskKindName::Date => "date",
            AskKindName::Time => "time",
            AskKindName::List => "list",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawOutcome {
    Completed,
    Stopped,
}

/// Text in a flow (or an expression): YAML may also read a bare number or `true` as text, and
/// the flow takes it as written. (For the schema only.)
struct Text;

impl JsonSchema for Text {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Text".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// An expression: usually text such as `rounds + 1`, but a bare number or `true` is one too,
/// so its schema is a text's. (For the schema only.)
type Expr = Text;

/// `min` and `max`: a number, a date (`today`, `+7d`, `-3d`, `2026-03-14`) or a time
/// (`07:30`). (For the schema only.)
struct Bound;

impl JsonSchema for Bound {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bound".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [
                { "type": "number" },
                { "type": "string", "pattern": "^(today|[+-][0-9]+d|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}:[0-9]{2})$" }
            ]
        })
    }
}

/// How a test's run may end.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ExpectedOutcome {
    Completed,
    Stopped,
    SafetyStop,
    Paused,
}

/// A safety check on a step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    /// An expression; when it is true after the answer, the check acts.
    #[schemars(with = "Expr")]
    #[schemars(required)]
    pub when: Option<Sp<String>>,
    /// The safety category whose help is shown: a built-in one or one of the flow's own.
    #[schemars(with = "String")]
    #[schemars(required)]
    pub category: Option<Sp<String>>,
    /// `true` (the default): the session ends with the help message; `false`: it pauses and can go on.
    #[serde(default = "yes")]
    pub stop: bool,
}

fn yes() -> bool {
    true
}

/// Check-ins planned when the flow ends, for `trustguide schedule` and its calendar file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    /// A name for this schedule; a newer schedule with the same name replaces the older one. Default: the flow's id.
    #[schemars(with = "Option<String>")]
    pub name: Option<Sp<String>>,
    /// The calendar entry's title. `{{ name }}` puts in a variable.
    #[schemars(with = "Text")]
    #[schemars(required)]
    pub title: Option<Sp<String>>,
    /// The calendar entry's description. `{{ name }}` puts in a variable.
    #[schemars(with = "Option<Text>")]
    pub note: Option<Sp<String>>,
    /// An expression giving the time of day, such as `"'19:00'"`, or a list of times. Left out: a day to remember, with no time (an all-day calendar entry).
    #[schemars(with = "Option<Expr>")]
    pub times: Option<Sp<String>>,
    /// An expression giving the number of days between check-in days (default 1).
    #[schemars(with = "Option<Expr>")]
    pub every_days: Option<Sp<String>>,
    /// An expression giving the first day, `YYYY-MM-DD` (default today).
    #[schemars(with = "Option<Expr>")]
    pub start: Option<Sp<String>>,
    /// An expression giving the last day, `YYYY-MM-DD`.
    #[schemars(with = "Expr")]
    #[schemars(required)]
    pub until: Option<Sp<String>>,
    /// How long each check-in lasts, in minutes (default 15).
    #[schemars(with = "Option<u32>")]
    pub minutes: Option<Sp<u32>>,
    /// How many minutes before each check-in the calendar reminds (default 10; 0 for none).
    #[schemars(with = "Option<u32>")]
    pub remind: Option<Sp<u32>>,
}

/// One branch of `next`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBranch {
    /// An expression; the first branch whose `when` is true (or that has none) is taken.
    #[schemars(with = "Option<Expr>")]
    pub when: Option<Sp<String>>,
    /// The step id to go to, or `end`.
    #[schemars(with = "String")]
    #[schemars(required)]
    pub goto: Option<Sp<String>>,
}

/// `next:` is either one step id or a list of branches.
#[derive(Debug)]
pub enum RawNext {
    Goto(String),
    Branches(Vec<Sp<RawBranch>>),
    /// Anything else, described ("a map of fields"), for `load.rs` to report.
    Invalid(&'static str),
}

impl<'de> Deserialize<'de> for RawNext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NextVisitor;
        impl<'de> Visitor<'de> for NextVisitor {
            type Value = RawNext;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a step id, or a list of `- when: EXPR` / `goto: ID` branches")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNext, E> {
                Ok(RawNext::Goto(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNext, E> {
                Ok(RawNext::Goto(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNext, E> {
                Ok(RawNext::Goto(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawNext, E> {
                Ok(RawNext::Invalid("`true` or `false`"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawNext, E> {
                Ok(RawNext::Invalid("nothing"))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawNext, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(RawNext::Invalid("a map of fields"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNext, A::Error> {
                let mut branches = Vec::new();
                while let Some(branch) = seq.next_element()? {
                    branches.push(branch);
                }
                Ok(RawNext::Branches(branches))
            }
        }
        deserializer.deserialize_any(NextVisitor)
    }
}

/// A choice option: a plain string, or `{label, value, goto, safety}`.
#[derive(Debug)]
pub enum RawOption {
    Label(String),
    Full(Box<RawOptionFull>),
    /// Anything else, described ("a list", "nothing"), for `load.rs` to report.
    Invalid(&'static str),
}

/// An option written as a map.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOptionFull {
    /// What the participants see.
    #[schemars(with = "Text")]
    #[schemars(required)]
    pub label: Option<Sp<String>>,
    /// What the answer holds when this option is chosen (default: the label).
    #[schemars(with = "Option<serde_json::Value>")]
    pub value: Option<Value>,
    /// For `ask: choice`: the step to go to when this option is chosen.
    #[schemars(with = "Option<String>")]
    pub goto: Option<Sp<String>>,
    /// A safety category: choosing this option pauses the session with that category's help.
    #[schemars(with = "Option<String>")]
    pub safety: Option<Sp<String>>,
    #[schemars(skip)]
    pub unknown: Vec<Sp<String>>,
}

/// The fields of an option written as a map.
pub const OPTION_FIELDS: &[&str] = &["label", "value", "goto", "safety"];

impl<'de> Deserialize<'de> for RawOption {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OptionVisitor;
        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = RawOption;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an option label, or a map with `label` (and `value`, `goto`, `safety`)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawOption, E> {
                Ok(RawOption::Label(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawOption, E> {
                Ok(RawOption::Label(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawOption, E> {
                Ok(RawOption::Label(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawOption, E> {
                Ok(RawOption::Label(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawOption, E> {
                Ok(RawOption::Label(if v { "yes" } else { "no" }.to_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawOption, E> {
                Ok(RawOption::Invalid("nothing"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawOption, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(RawOption::Invalid("a list"))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawOption, A::Error> {
                let mut full = RawOptionFull::default();
                while let Some(key) = map.next_key::<Sp<String>>()? {
                    match key.value.as_str() {
                        "label" => full.label = map.next_value()?,
                        "value" => full.value = map.next_value()?,
                        "goto" => full.goto = map.next_value()?,
                        "safety" => full.safety = map.next_value()?,
                        // A misspelt field is read as the one it is nearest to, when that
                        // one is not given yet, so the checks after agree with the author.
                        other => {
                            match super::suggest::nearest(other, OPTION_FIELDS.iter().copied()) {
                                Some("label") if full.label.is_none() => {
                                    full.label = map.next_value()?
                                }
                                Some("value") if full.value.is_none() => {
                                    full.value = map.next_value()?
                                }
                                Some("goto") if full.goto.is_none() => {
                                    full.goto = map.next_value()?
                                }
                                Some("safety") if full.safety.is_none() => {
                                    full.safety = map.next_value()?
                                }
                                _ => {
                                    map.next_value::<de::IgnoredAny>()?;
                                }
                            }
                            full.unknown.push(key);
                        }
                    }
                }
                Ok(RawOption::Full(Box::new(full)))
            }
        }
        deserializer.deserialize_any(OptionVisitor)
    }
}

/// A scripted playthrough for `trustguide test`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    /// What the test is called in `trustguide test`'s report.
    #[schemars(with = "String")]
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    /// The answers, by step id (or `flow-id/step` for a called flow). For a `who: both` step, a map by role.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub answers: IndexMap<Sp<String>, Value>,
    /// The participants' names, in the order of `participants` (default: made-up names).
    #[serde(default, rename = "as")]
    pub names: Vec<String>,
    /// What `previous` holds in this test: the metrics of an earlier session of the flow.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub previous: IndexMap<String, Value>,
    /// What the run must end with.
    #[serde(default)]
    pub expect: RawExpect,
}

/// What a test expects of its run.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// How the run ends: `completed`, `stopped`, `safety_stop` or `paused`.
    #[schemars(with = "Option<ExpectedOutcome>")]
    pub outcome: Option<Sp<String>>,
    /// The step id the run ends at.
    #[schemars(with = "Option<String>")]
    pub ends_at: Option<Sp<String>>,
    /// Variables and the values they must have at the end.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub vars: IndexMap<Sp<String>, Value>,
    /// Metrics and the values the run must record.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub records: IndexMap<String, Value>,
    /// Texts the run must show: each a part of something said or asked, such as
    /// `["Thank you both"]`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub shows: Vec<Sp<String>>,
    /// Fields of the schedule the run must make (`times`, `every_days`, `start`, `until`...).
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub schedule: IndexMap<String, Value>,
}

// The two shapes `next` and an option can take are read by hand above; their schemas say the
// same in JSON Schema.
impl JsonSchema for RawNext {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Next".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Where to go after this step: a step id (or `end`), or a list of branches; the first whose `when` is true (or that has no `when`) wins.",
            "oneOf": [
                {"type": "string", "description": "a step id, or `end`"},
                {"type": "array", "items": generator.subschema_for::<RawBranch>()}
            ]
        })
    }
}

impl JsonSchema for RawOption {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ChoiceOption".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An option: its label, or a map with `label` and optionally `value`, `goto` and `safety`.",
            "oneOf": [
                {"type": "string"},
                generator.subschema_for::<RawOptionFull>()
            ]
        })
    }
}

/// `keep:` is `true` unless a step says otherwise.
fn keep_default() -> bool {
    true
}
