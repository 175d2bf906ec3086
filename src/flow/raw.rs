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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    #[schemars(with = "String")]
    #[schemars(required)]
    pub flow: Option<Sp<String>>,
    #[schemars(with = "String")]
    #[schemars(required)]
    pub title: Option<Sp<String>>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub minutes: Option<Sp<u32>>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub participants: Vec<Sp<String>>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub vars: IndexMap<String, Value>,
    #[schemars(with = "Vec<RawStep>")]
    #[schemars(required)]
    pub steps: Option<Sp<Vec<Sp<RawStep>>>>,
    #[serde(default)]
    #[schemars(with = "Vec<RawTest>")]
    pub tests: Vec<Sp<RawTest>>,
    /// Additions to the global safety profile.
    #[schemars(with = "Option<RawFlowSafety>")]
    pub safety: Option<Sp<RawFlowSafety>>,
}

/// What a flow adds to the global safety profile: patterns for its categories, and
/// categories of its own. There is no way to take anything away.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlowSafety {
    /// Extra patterns for a global category or one of the flow's own, by category id.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Vec<String>>")]
    pub patterns: IndexMap<String, Vec<Sp<String>>>,
    /// The flow's own categories.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, RawFlowCategory>")]
    pub categories: IndexMap<String, Sp<RawFlowCategory>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFlowCategory {
    #[schemars(with = "String")]
    #[schemars(required)]
    pub message: Option<Sp<String>>,
    #[serde(default = "yes")]
    pub stop: bool,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub patterns: Vec<Sp<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    #[schemars(with = "Option<String>")]
    pub id: Option<Sp<String>>,
    #[schemars(with = "Option<String>")]
    pub say: Option<Sp<String>>,
    #[schemars(with = "Option<AskKindName>")]
    pub ask: Option<Sp<AskKindName>>,
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Sp<String>>,
    #[schemars(with = "Option<String>")]
    pub who: Option<Sp<String>>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, String>")]
    pub set: IndexMap<String, Sp<String>>,
    #[schemars(with = "Option<RawNext>")]
    pub next: Option<Box<Sp<RawNext>>>,
    #[schemars(with = "Option<String>")]
    pub call: Option<Box<Sp<String>>>,
    #[schemars(with = "Option<u32>")]
    pub timer: Option<Box<Sp<u32>>>,
    #[schemars(with = "Option<RawSafety>")]
    pub safety: Option<Box<Sp<RawSafety>>>,
    #[schemars(with = "Option<RawOutcome>")]
    pub end: Option<Box<Sp<RawOutcome>>>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, String>")]
    pub record: IndexMap<String, Sp<String>>,
    /// A check-in schedule made when the flow ends here (only on an `end` step).
    #[schemars(with = "Option<RawSchedule>")]
    pub schedule: Option<Sp<Box<RawSchedule>>>,
    // Fields of particular ask kinds. Which ones a kind accepts is checked in `load.rs`,
    // where the message can name the step and the kind.
    #[schemars(with = "Option<bool>")]
    pub multiline: Option<Box<Sp<bool>>>,
    #[schemars(with = "Option<usize>")]
    pub min_length: Option<Box<Sp<usize>>>,
    #[schemars(with = "Option<usize>")]
    pub max_length: Option<Box<Sp<usize>>>,
    #[schemars(with = "Option<Vec<RawOption>>")]
    pub options: Option<Sp<Vec<Sp<RawOption>>>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub min: Option<Box<Sp<Value>>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub max: Option<Box<Sp<Value>>>,
    #[schemars(with = "Option<std::collections::BTreeMap<i64, String>>")]
    pub labels: Option<Box<Sp<IndexMap<i64, String>>>>,
    #[schemars(with = "Option<bool>")]
    pub default: Option<Box<Sp<bool>>>,
    #[schemars(with = "Option<bool>")]
    pub integer: Option<Box<Sp<bool>>>,
}

/// The names of the ask kinds; serde rejects anything else with the list of known ones.
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    #[schemars(with = "String")]
    #[schemars(required)]
    pub when: Option<Sp<String>>,
    #[schemars(with = "String")]
    #[schemars(required)]
    pub category: Option<Sp<String>>,
    #[serde(default = "yes")]
    pub stop: bool,
}

fn yes() -> bool {
    true
}

/// `schedule:` on an ending step: check-ins for `trustguide schedule` and its calendar export.
/// `title` and `note` are templates; `times`, `every_days`, `start` and `until` are expressions.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    /// A newer schedule with the same name replaces an older one (default: the flow's id).
    #[schemars(with = "Option<String>")]
    pub name: Option<Sp<String>>,
    /// The calendar entry's title (a template).
    #[schemars(with = "String")]
    #[schemars(required)]
    pub title: Option<Sp<String>>,
    /// The calendar entry's description (a template).
    #[schemars(with = "Option<String>")]
    pub note: Option<Sp<String>>,
    /// An expression giving a time `"19:00"` or a list of times.
    #[schemars(with = "String")]
    #[schemars(required)]
    pub times: Option<Sp<String>>,
    /// An expression giving the number of days between check-in days (default 1).
    #[schemars(with = "Option<String>")]
    pub every_days: Option<Sp<String>>,
    /// An expression giving the first day, `YYYY-MM-DD` (default today).
    #[schemars(with = "Option<String>")]
    pub start: Option<Sp<String>>,
    /// An expression giving the last day, `YYYY-MM-DD`.
    #[schemars(with = "String")]
    #[schemars(required)]
    pub until: Option<Sp<String>>,
    /// Length of each check-in in minutes (default 15).
    #[schemars(with = "Option<u32>")]
    pub minutes: Option<Sp<u32>>,
    /// Minutes before each check-in that the calendar reminds (default 10; 0 for none).
    #[schemars(with = "Option<u32>")]
    pub remind: Option<Sp<u32>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBranch {
    #[schemars(with = "Option<String>")]
    pub when: Option<Sp<String>>,
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

/// An option written as a map. Read by hand in [`RawOption`]'s visitor (serde's derived
/// reader would stop at an unknown field); the fields it has are those listed here.
#[derive(Debug, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOptionFull {
    #[schemars(with = "String")]
    #[schemars(required)]
    pub label: Option<Sp<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub value: Option<Value>,
    #[schemars(with = "Option<String>")]
    pub goto: Option<Sp<String>>,
    #[schemars(with = "Option<String>")]
    pub safety: Option<Sp<String>>,
    /// Fields an option does not have, for `load.rs` to report.
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
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
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

/// A scripted playthrough under `tests:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    #[schemars(with = "String")]
    #[schemars(required)]
    pub name: Option<Sp<String>>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub answers: IndexMap<Sp<String>, Value>,
    #[serde(default, rename = "as")]
    pub names: Vec<String>,
    /// What `previous` holds in this case: the metrics of an earlier session of the flow.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub previous: IndexMap<String, Value>,
    #[serde(default)]
    pub expect: RawExpect,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    #[schemars(with = "Option<String>")]
    pub outcome: Option<Sp<String>>,
    #[schemars(with = "Option<String>")]
    pub ends_at: Option<Sp<String>>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub vars: IndexMap<String, Value>,
    #[serde(default)]
    #[schemars(with = "IndexMap<String, serde_json::Value>")]
    pub records: IndexMap<String, Value>,
    /// Fields of the schedule the run made (`times`, `every_days`, `start`, `until`, ...).
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
