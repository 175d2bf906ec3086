//! The serde mirror of a flow file: exactly what the YAML says, with source positions.
//!
//! Nothing here is trusted yet. These types exist so that serde can reject unknown fields and
//! wrong types at the right line; the checks in `load.rs` turn them into the validated model in
//! `model.rs`. The engine never sees these types.

use indexmap::IndexMap;
use minijinja::Value;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A position-carrying value, as the YAML parser hands it to us.
pub type Sp<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub flow: Sp<String>,
    pub title: Sp<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub minutes: Option<Sp<u32>>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub participants: Vec<Sp<String>>,
    #[serde(default)]
    pub vars: IndexMap<String, Value>,
    pub steps: Sp<Vec<Sp<RawStep>>>,
    #[serde(default)]
    pub tests: Vec<Sp<RawTest>>,
    /// Additions to the global safety profile.
    pub safety: Option<Sp<RawFlowSafety>>,
}

/// What a flow adds to the global safety profile: patterns for its categories, and
/// categories of its own. There is no way to take anything away.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlowSafety {
    /// Extra patterns for a global category or one of the flow's own, by category id.
    #[serde(default)]
    pub patterns: IndexMap<String, Vec<Sp<String>>>,
    /// The flow's own categories.
    #[serde(default)]
    pub categories: IndexMap<String, Sp<RawFlowCategory>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlowCategory {
    pub message: Sp<String>,
    #[serde(default = "yes")]
    pub stop: bool,
    #[serde(default)]
    pub patterns: Vec<Sp<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub id: Option<Sp<String>>,
    pub say: Option<Sp<String>>,
    pub ask: Option<Sp<AskKindName>>,
    pub prompt: Option<Sp<String>>,
    pub who: Option<Sp<String>>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub set: IndexMap<String, Sp<String>>,
    pub next: Option<Sp<RawNext>>,
    pub call: Option<Sp<String>>,
    pub timer: Option<Sp<u32>>,
    pub safety: Option<Sp<RawSafety>>,
    pub end: Option<Sp<RawOutcome>>,
    #[serde(default)]
    pub record: IndexMap<String, Sp<String>>,
    // Fields of particular ask kinds. Which ones a kind accepts is checked in `load.rs`,
    // where the message can name the step and the kind.
    pub multiline: Option<Sp<bool>>,
    pub min_length: Option<Sp<usize>>,
    pub max_length: Option<Sp<usize>>,
    pub options: Option<Sp<Vec<Sp<RawOption>>>>,
    pub min: Option<Sp<Value>>,
    pub max: Option<Sp<Value>>,
    pub labels: Option<Sp<IndexMap<i64, String>>>,
    pub default: Option<Sp<bool>>,
    pub integer: Option<Sp<bool>>,
}

/// The names of the ask kinds; serde rejects anything else with the list of known ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawOutcome {
    Completed,
    Stopped,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    pub when: Sp<String>,
    pub category: Sp<String>,
    #[serde(default = "yes")]
    pub stop: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBranch {
    pub when: Option<Sp<String>>,
    pub goto: Sp<String>,
}

/// `next:` is either one step id or a list of branches.
#[derive(Debug)]
pub enum RawNext {
    Goto(String),
    Branches(Vec<Sp<RawBranch>>),
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOptionFull {
    pub label: Sp<String>,
    pub value: Option<Value>,
    pub goto: Option<Sp<String>>,
    pub safety: Option<Sp<String>>,
}

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
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawOption, A::Error> {
                RawOptionFull::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|full| RawOption::Full(Box::new(full)))
            }
        }
        deserializer.deserialize_any(OptionVisitor)
    }
}

/// A scripted playthrough under `tests:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTest {
    pub name: Sp<String>,
    #[serde(default)]
    pub answers: IndexMap<Sp<String>, Value>,
    #[serde(default, rename = "as")]
    pub names: Vec<String>,
    #[serde(default)]
    pub expect: RawExpect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub outcome: Option<String>,
    pub ends_at: Option<Sp<String>>,
    #[serde(default)]
    pub vars: IndexMap<String, Value>,
    #[serde(default)]
    pub records: IndexMap<String, Value>,
}
