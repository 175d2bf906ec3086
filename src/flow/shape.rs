//! The shape pass: the YAML tree into the raw types, with every wrong field reported.
//!
//! The raw types derive `Deserialize`, so what a flow may contain is written once, in
//! `raw.rs` (the JSON Schema comes from the same types). This module is the serde
//! deserializer that reads them from the tree of `tree.rs`, and it never stops at a mistake:
//! it writes the problem down and goes on with a stand-in of the type asked for (an unknown
//! field is skipped, a wrong value becomes `0`, `""`, `false`, an empty list, the first
//! variant), so that one run finds the second and the tenth mistake too. The stand-ins never
//! reach a flow: any problem here makes the load fail, after the semantic checks have run on
//! the rest. For that to work, a raw type must not make serde fail: fields that must be there
//! are `Option`s that `load.rs` checks, and the hand-written visitors accept every shape.
//!
//! The messages name the field and say what it should be in plain words ("`minutes` should
//! be a whole number, not the text 'ten'"), with "did you mean" for names and values.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::codes::Code;
use super::suggest::nearest;
use super::tree::{Kind, Node, Span};

/// The newtype name by which [`super::raw::Sp`] asks for a value's position: this
/// deserializer answers it with `(line, column, value)`.
pub const SPANNED: &str = "$trustguide::Spanned";

/// A mistake in the shape of the file: where, what, and a hint.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: Code,
    pub at: Span,
    pub message: String,
    pub help: Option<String>,
    /// The name or value meant, for "did you mean" and its fix.
    pub suggestion: Option<&'static str>,
}

/// Reads `T` from `tree`. Returns the value (`None` only if a hand-written visitor failed,
/// which the message then says) and every problem found, in file order.
pub fn shape<T: de::DeserializeOwned>(tree: &Node, source: &str) -> (Option<T>, Vec<Problem>) {
    let shaper = Shaper {
        source,
        problems: RefCell::new(Vec::new()),
    };
    let value = T::deserialize(NodeDe {
        node: tree,
        cx: &shaper,
        what: What::Top,
        read_as: None,
    })
    .ok();
    let mut problems = shaper.problems.into_inner();
    problems.sort_by_key(|p| (p.at.line, p.at.column));
    (value, problems)
}

struct Shaper<'s> {
    source: &'s str,
    problems: RefCell<Vec<Problem>>,
}

impl Shaper<'_> {
    fn record(&self, code: Code, at: Span, message: String, help: Option<String>) {
        self.problems.borrow_mut().push(Problem {
            code,
            at,
            message,
            help,
            suggestion: None,
        });
    }

    fn record_near(&self, code: Code, at: Span, message: String, near: &'static str) {
        self.problems.borrow_mut().push(Problem {
            code,
            at,
            message,
            help: None,
            suggestion: Some(near),
        });
    }
}

/// The error serde sees. Every problem is written down where it is found; an error only
/// travels up when a visitor refused a value, and then it is written down once.
#[derive(Debug)]
pub struct Stop {
    message: String,
    recorded: bool,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Stop {
            message: msg.to_string(),
            recorded: false,
        }
    }
}

/// What the node being read is, for messages.
#[derive(Clone, Copy)]
enum What<'a> {
    /// The whole file.
    Top,
    /// The value of a field or key.
    Field(&'a str),
    /// An item of the list under a field.
    Item(&'a str),
    /// A key of a map.
    Key,
}

impl What<'_> {
    fn name(self) -> String {
        match self {
            What::Top => "the file".to_owned(),
            What::Field(f) => format!("`{f}`"),
            What::Item(f) => format!("each item of `{f}`"),
            What::Key => "a name before `:`".to_owned(),
        }
    }
}

/// Plain names for the raw types, in messages about their fields.
fn struct_noun(name: &str) -> &'static str {
    match name {
        "RawFlow" => "the flow's top level",
        "RawStep" => "a step",
        "RawSafety" => "a step's `safety:`",
        "RawSchedule" => "`schedule:`",
        "RawBranch" => "a branch of `next:`",
        "RawOptionFull" => "an option",
        "RawTest" => "a test",
        "RawExpect" => "`expect:`",
        "RawFlowSafety" => "the flow's `safety:`",
        "RawFlowCategory" => "a safety category",
        _ => "this map",
    }
}

/// Plain names for the raw enums: what one value is, and where it is written.
fn enum_noun(name: &str) -> &'static str {
    match name {
        "AskKindName" => "an ask kind",
        "RawOutcome" => "a way to end (`end:`)",
        _ => "a value allowed here",
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    node: &'a Node,
    cx: &'a Shaper<'a>,
    what: What<'a>,
    /// For a misspelt field name: the name it is read as (the problem is written down).
    read_as: Option<&'static str>,
}

impl<'a> NodeDe<'a> {
    /// Writes down that this node is not what was asked for.
    fn wrong(&self, expected: &str) {
        let found = self.node.kind.describe();
        let message = format!("{} should be {expected}, not {found}", self.what.name());
        // A value with one right spelling gets it as the fix: `yes` is `true`, `ten` is `10`.
        if let Some(meant) = self.meant(expected) {
            self.cx
                .record_near(Code::WrongType, self.node.at, message, meant);
            return;
        }
        let help = self.hint(expected);
        self.cx.record(Code::WrongType, self.node.at, message, help);
    }

    /// The value meant, when the text written has exactly one: `yes` for a yes/no field,
    /// a number written in words for a number field.
    fn meant(&self, expected: &str) -> Option<&'static str> {
        let Kind::Str(s) = &self.node.kind else {
            return None;
        };
        let said = s.trim().to_lowercase();
        if expected == "`true` or `false`" {
            return match said.as_str() {
                "yes" | "y" | "on" => Some("true"),
                "no" | "n" | "off" => Some("false"),
                _ => None,
            };
        }
        if !expected.starts_with("a whole number") && expected != "a number" {
            return None;
        }
        const WORDS: [(&str, &str); 16] = [
            ("zero", "0"),
            ("one", "1"),
            ("two", "2"),
            ("three", "3"),
            ("four", "4"),
            ("five", "5"),
            ("six", "6"),
            ("seven", "7"),
            ("eight", "8"),
            ("nine", "9"),
            ("ten", "10"),
            ("fifteen", "15"),
            ("twenty", "20"),
            ("thirty", "30"),
            ("forty-five", "45"),
            ("sixty", "60"),
        ];
        WORDS.iter().find(|(w, _)| *w == said).map(|(_, n)| *n)
    }

    /// A hint for the usual causes of a wrong shape.
    fn hint(&self, expected: &str) -> Option<String> {
        let line_rest = self.rest_of_line();
        match &self.node.kind {
            Kind::Map(_) | Kind::Seq(_) if expected == "text" => {
                let first = line_rest.chars().next()?;
                if !matches!(first, '{' | '[') {
                    return None;
                }
                let quoted = crate::flow::yaml_mistakes::double_quoted(line_rest.trim_end());
                Some(format!(
                    "text starting with `{first}` needs quotes, or YAML reads it as a {}: write {quoted}",
                    if first == '{' { "map" } else { "list" }
                ))
            }
            Kind::Map(_) if expected == "a list" => Some(
                "start each item with `- ` (a dash and a space), one item under another".to_owned(),
            ),
            _ => None,
        }
    }

    /// The source from this node to the end of its line.
    fn rest_of_line(&self) -> &'a str {
        let source = self.cx.source;
        let start = (self.node.at.offset as usize).min(source.len());
        let rest = source.get(start..).unwrap_or_default();
        rest.split('\n').next().unwrap_or_default()
    }

    /// Passes a visitor's result on; a refusal is written down here, once.
    fn check<T>(&self, result: Result<T, Stop>) -> Result<T, Stop> {
        result.map_err(|mut e| {
            if !e.recorded {
                let message = format!("{}: {}", self.what.name(), e.message);
                self.cx.record(Code::WrongType, self.node.at, message, None);
                e.recorded = true;
            }
            e
        })
    }

    /// The node as a whole number, if it is one.
    fn int(&self) -> Option<i64> {
        match self.node.kind {
            Kind::Int(n) => Some(n),
            Kind::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    /// The node as text: a string, or a number or boolean as it is written.
    fn text(&self) -> Option<&'a str> {
        if let Some(name) = self.read_as {
            return Some(name);
        }
        match &self.node.kind {
            Kind::Str(s) => Some(s),
            Kind::Bool(_) | Kind::Int(_) | Kind::Float(_) => Some(self.node.text(self.cx.source)),
            _ => None,
        }
    }

    fn empty_seq<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        let items: &[Node] = &[];
        self.check(visitor.visit_seq(SeqDe {
            items: items.iter(),
            cx: self.cx,
            what: self.what,
        }))
    }

    fn map_of<'de, V: Visitor<'de>>(
        self,
        visitor: V,
        entries: &'a [(Node, Node)],
        fields: Option<(&'static str, &'static [&'static str])>,
    ) -> Result<V::Value, Stop> {
        self.check(visitor.visit_map(MapDe {
            all: entries,
            entries: entries.iter(),
            value: None,
            key: None,
            seen: Vec::new(),
            repeats_reported: false,
            fields,
            cx: self.cx,
        }))
    }
}

macro_rules! unsigned {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
            match self.int().and_then(|n| <$ty>::try_from(n).ok()) {
                Some(n) => self.check(visitor.$visit(n)),
                None => {
                    self.wrong("a whole number, 0 or more");
                    self.check(visitor.$visit(0))
                }
            }
        }
    )*};
}

macro_rules! signed {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
            match self.int().and_then(|n| <$ty>::try_from(n).ok()) {
                Some(n) => self.check(visitor.$visit(n)),
                None => {
                    self.wrong("a whole number");
                    self.check(visitor.$visit(0))
                }
            }
        }
    )*};
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        let result = match &self.node.kind {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(*b),
            Kind::Int(n) => visitor.visit_i64(*n),
            Kind::Float(f) => visitor.visit_f64(*f),
            Kind::Str(s) => visitor.visit_str(s),
            Kind::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter(),
                cx: self.cx,
                what: self.what,
            }),
            Kind::Map(entries) => return self.map_of(visitor, entries, None),
        };
        self.check(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.node.kind {
            Kind::Bool(b) => self.check(visitor.visit_bool(b)),
            _ => {
                self.wrong("`true` or `false`");
                self.check(visitor.visit_bool(false))
            }
        }
    }

    unsigned!(deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64);
    signed!(deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.node.kind {
            Kind::Int(n) => self.check(visitor.visit_f64(n as f64)),
            Kind::Float(f) => self.check(visitor.visit_f64(f)),
            _ => {
                self.wrong("a number");
                self.check(visitor.visit_f64(0.0))
            }
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.text() {
            Some(text) => self.check(visitor.visit_str(text)),
            None => {
                self.wrong("text");
                self.check(visitor.visit_str(""))
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.node.kind {
            Kind::Null => self.check(visitor.visit_none()),
            _ => self.check(visitor.visit_some(self)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.check(visitor.visit_unit())
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        self.check(visitor.visit_unit())
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        if name == SPANNED {
            let result = visitor.visit_seq(SpannedDe {
                node: self,
                next: 0,
            });
            return self.check(result);
        }
        self.check(visitor.visit_newtype_struct(self))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match &self.node.kind {
            Kind::Seq(items) => self.check(visitor.visit_seq(SeqDe {
                items: items.iter(),
                cx: self.cx,
                what: self.what,
            })),
            Kind::Null => self.empty_seq(visitor),
            _ => {
                self.wrong("a list");
                self.empty_seq(visitor)
            }
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match &self.node.kind {
            Kind::Map(entries) => self.map_of(visitor, entries, None),
            Kind::Null => self.map_of(visitor, &[], None),
            _ => {
                self.wrong("a map of `name: value` lines");
                self.map_of(visitor, &[], None)
            }
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        match &self.node.kind {
            Kind::Map(entries) => self.map_of(visitor, entries, Some((name, fields))),
            Kind::Null => self.map_of(visitor, &[], Some((name, fields))),
            _ => {
                let some: Vec<String> = fields.iter().take(3).map(|f| format!("`{f}:`")).collect();
                self.wrong(&format!("a map of fields such as {}", some.join(", ")));
                self.map_of(visitor, &[], Some((name, fields)))
            }
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        let given = self.text();
        let variant = match given {
            Some(v) if variants.contains(&v) => v,
            _ => {
                let shown = given.map_or_else(|| self.node.kind.describe(), |v| format!("`{v}`"));
                let message = format!("{shown} is not {}", enum_noun(name));
                let near = given.and_then(|v| nearest(v, variants.iter().copied()));
                match near {
                    Some(near) => {
                        self.cx
                            .record_near(Code::UnknownValue, self.node.at, message, near)
                    }
                    None => {
                        let all: Vec<String> = variants.iter().map(|v| format!("`{v}`")).collect();
                        let help = format!("use one of {}", all.join(", "));
                        self.cx
                            .record(Code::UnknownValue, self.node.at, message, Some(help));
                    }
                }
                // Read on as the value meant, so the checks after this one agree with it.
                near.or(variants.first().copied()).unwrap_or_default()
            }
        };
        let access: de::value::StrDeserializer<'_, Stop> = variant.into_deserializer();
        self.check(visitor.visit_enum(access))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.check(visitor.visit_unit())
    }
}

/// The items of a list.
struct SeqDe<'a> {
    items: std::slice::Iter<'a, Node>,
    cx: &'a Shaper<'a>,
    what: What<'a>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = Stop;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Stop> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let what = match self.what {
            What::Field(f) | What::Item(f) => What::Item(f),
            other => other,
        };
        seed.deserialize(NodeDe {
            node,
            cx: self.cx,
            what,
            read_as: None,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of a map; for a struct, unknown and repeated fields are written down and
/// skipped.
struct MapDe<'a> {
    /// All the entries, to see whether a field is written somewhere in the map.
    all: &'a [(Node, Node)],
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
    key: Option<&'a str>,
    seen: Vec<&'a str>,
    /// A repeated field of a step was reported: the ones after it are skipped quietly.
    repeats_reported: bool,
    /// The struct's name and fields, when the map is one.
    fields: Option<(&'static str, &'static [&'static str])>,
    cx: &'a Shaper<'a>,
}

impl<'a> MapDe<'a> {
    /// The key's name, when it is text (or a number, as written).
    fn key_name(&self, key: &'a Node) -> Option<&'a str> {
        match &key.kind {
            Kind::Str(s) => Some(s),
            Kind::Bool(_) | Kind::Int(_) | Kind::Float(_) => Some(key.text(self.cx.source)),
            _ => None,
        }
    }

    /// Whether the entry is to be read, and under which name: a misspelt field is read as
    /// the field it is nearest to, when the map does not have that one too, so the checks
    /// after this one see what the author meant (`promt:` does not also cause "no prompt").
    /// Every problem is written down.
    fn accept(&mut self, key: &'a Node, name: Option<&'a str>) -> Accept {
        let noun = self.fields.map_or("this map", |(s, _)| struct_noun(s));
        let mut read_as = None;
        if let (Some((_, fields)), Some(name)) = (self.fields, name) {
            if !fields.contains(&name) {
                let near = nearest(name, fields.iter().copied());
                let message = format!("`{name}` is not a field of {noun}");
                match near {
                    Some(near) => self
                        .cx
                        .record_near(Code::UnknownField, key.at, message, near),
                    None => {
                        let help = format!("{noun} can have: {}", fields.join(", "));
                        self.cx
                            .record(Code::UnknownField, key.at, message, Some(help));
                    }
                }
                let written = |field: &str| {
                    self.all
                        .iter()
                        .any(|(k, _)| self.key_name(k) == Some(field))
                };
                match near {
                    Some(near) if !written(near) && !self.seen.contains(&near) => {
                        self.seen.push(near);
                        read_as = Some(near);
                    }
                    _ => return Accept::Skip,
                }
                return Accept::As(read_as);
            }
        }
        if let Some(name) = name {
            if self.seen.contains(&name) && self.repeats_reported {
                // A missing `- ` repeats every field of the step above: one report says it.
                return Accept::Skip;
            }
            if self.seen.contains(&name) {
                self.repeats_reported = self.fields.is_some_and(|(s, _)| s == "RawStep");
                let help = if self.fields.is_some_and(|(s, _)| s == "RawStep") {
                    "if a new step starts here, begin it with `- ` (a dash and a space)".to_owned()
                } else {
                    "keep one of them".to_owned()
                };
                self.cx.record(
                    Code::RepeatedField,
                    key.at,
                    format!("`{name}` is written twice in {noun}"),
                    Some(help),
                );
                return Accept::Skip;
            }
            self.seen.push(name);
        }
        Accept::As(read_as)
    }
}

/// What [`MapDe::accept`] decided about an entry.
enum Accept {
    Skip,
    /// Read it, under this name if it is misspelt.
    As(Option<&'static str>),
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        loop {
            let Some((key, value)) = self.entries.next() else {
                return Ok(None);
            };
            let name = self.key_name(key);
            let Accept::As(read_as) = self.accept(key, name) else {
                continue;
            };
            self.value = Some(value);
            self.key = read_as.or(name);
            return seed
                .deserialize(NodeDe {
                    node: key,
                    cx: self.cx,
                    what: What::Key,
                    read_as,
                })
                .map(Some);
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        let Some(node) = self.value.take() else {
            return Err(de::Error::custom("a value without a key"));
        };
        seed.deserialize(NodeDe {
            node,
            cx: self.cx,
            what: self.key.map_or(What::Field("?"), What::Field),
            read_as: None,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A value with its position, for [`super::raw::Sp`]: line, column, then the value.
struct SpannedDe<'a> {
    node: NodeDe<'a>,
    next: u8,
}

impl<'de> de::SeqAccess<'de> for SpannedDe<'_> {
    type Error = Stop;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Stop> {
        let at = self.node.node.at;
        self.next += 1;
        match self.next {
            1 => seed.deserialize(at.line.into_deserializer()).map(Some),
            2 => seed.deserialize(at.column.into_deserializer()).map(Some),
            3 => seed.deserialize(self.node).map(Some),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::raw::RawFlow;

    fn problems(source: &str) -> Vec<(u32, String)> {
        let tree = super::super::tree::read(source).expect("the YAML parses");
        let (_, problems) = shape::<RawFlow>(&tree, source);
        problems
            .into_iter()
            .map(|p| {
                let help = p
                    .help
                    .or(p.suggestion.map(|s| format!("did you mean `{s}`?")))
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                (p.at.line, format!("{}{help}", p.message))
            })
            .collect()
    }

    #[test]
    fn every_wrong_field_is_reported_not_just_the_first() {
        let source = "flow: x\ntitle: T\nminutes: ten\nsteps:\n  - id: a\n    promt: hi\n    ask: confrim\n  - id: b\n    say: hi\n    private: yes\n    end: stop\n  - id: c\n    sya: there\n";
        assert_eq!(
            problems(source),
            [
                (
                    3,
                    "`minutes` should be a whole number, 0 or more, not the text 'ten' (did you mean `10`?)".to_owned()
                ),
                (
                    6,
                    "`promt` is not a field of a step (did you mean `prompt`?)".to_owned()
                ),
                (
                    7,
                    "`confrim` is not an ask kind (did you mean `confirm`?)".to_owned()
                ),
                (
                    10,
                    "`private` should be `true` or `false`, not the text 'yes' (did you mean `true`?)"
                        .to_owned()
                ),
                (
                    11,
                    "`stop` is not a way to end (`end:`) (use one of `completed`, `stopped`)"
                        .to_owned()
                ),
                (
                    13,
                    "`sya` is not a field of a step (did you mean `say`?)".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_repeated_field_in_a_step_suggests_a_missing_dash() {
        let source =
            "flow: x\ntitle: T\nsteps:\n  - id: a\n    say: hi\n    id: b\n    say: there\n";
        let found = problems(source);
        assert_eq!(
            found.len(),
            1,
            "one report for all the repeated fields: {found:?}"
        );
        assert_eq!(found[0].0, 6);
        assert!(
            found[0].1.contains("`id` is written twice in a step"),
            "{found:?}"
        );
        assert!(found[0].1.contains("begin it with `- `"), "{found:?}");
    }

    #[test]
    fn a_template_read_as_a_map_says_to_quote_it() {
        let source = "flow: x\ntitle: T\nsteps:\n  - prompt: {{ name }}\n";
        let found = problems(source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].1.contains("needs quotes") && found[0].1.contains(r#""{{ name }}""#),
            "{found:?}"
        );
    }

    #[test]
    fn steps_written_as_a_map_say_to_use_dashes() {
        let source = "flow: x\ntitle: T\nsteps:\n  id: a\n  say: hi\n";
        let found = problems(source);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("`steps` should be a list"), "{found:?}");
        assert!(found[0].1.contains("`- `"), "{found:?}");
    }
}
