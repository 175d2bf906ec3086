//! A flow file as a YAML tree with positions: the one reading of a flow's YAML.
//!
//! serde-saphyr parses the text, with the bounded options every YAML file of trustguide is
//! read with, into this tree of maps, lists and scalars, each with where it starts and ends.
//! `shape.rs` then turns the tree into the raw types.
//!
//! Why a tree, and not serde straight into the raw types: serde stops at the first wrong
//! field, and an author should see every mistake of a file in one run. With the whole file in
//! hand first, the shape pass can report every unknown field, wrong type and misspelt value,
//! then let the semantic checks run on the rest. YAML that does not parse at all is explained
//! in `yaml_mistakes.rs`.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Where a node is in the file: 1-based line and column of its first character, and its
/// bytes (`offset..offset + len`) in the text; `len` is 0 for a map or a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub offset: u32,
    pub len: u32,
}

/// One value of the file.
#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    pub at: Span,
}

/// What a node holds, its scalars already typed by YAML 1.2's rules (with `true`/`false` the
/// only booleans: an option labelled `No` stays text).
#[derive(Debug)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Seq(Vec<Node>),
    /// Entries in file order; a key written twice is kept twice, for the shape pass to report.
    Map(Vec<(Node, Node)>),
}

impl Kind {
    /// What this is, for messages: "a list", "the number 5", "the text 'ten'".
    pub fn describe(&self) -> String {
        match self {
            Kind::Null => "nothing".to_owned(),
            Kind::Bool(b) => format!("`{b}`"),
            Kind::Int(n) => format!("the number {n}"),
            Kind::Float(n) => format!("the number {n}"),
            Kind::Str(s) => {
                let short: String = s.chars().take(40).collect();
                let more = if short.len() < s.len() { "…" } else { "" };
                format!("the text '{short}{more}'")
            }
            Kind::Seq(_) => "a list".to_owned(),
            Kind::Map(_) => "a map of fields".to_owned(),
        }
    }
}

impl Node {
    /// The node's own text in `source` (a scalar as written, quotes included); "" for a map
    /// or a list.
    pub fn text<'s>(&self, source: &'s str) -> &'s str {
        let start = self.at.offset as usize;
        source
            .get(start..start + self.at.len as usize)
            .unwrap_or_default()
    }
}

/// The most values a flow file may hold.
pub const MAX_NODES: usize = 2_000_000;

/// The most values aliases (`*name`) may repeat in a flow file.
const MAX_REPLAYED: usize = 250_000;

/// Reads `source` into a tree; a YAML error is serde-saphyr's, for `yaml_mistakes` to explain.
pub fn read(source: &str) -> Result<Node, serde_saphyr::Error> {
    let mut options = crate::yaml::options();
    // Repeated keys reach the shape pass, which reports every one of them (and says that a
    // repeated `id:` usually means a missing `- `) instead of stopping at the first.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    // A flow file of the largest size allowed (4 MiB, about 36,000 steps) has about a million
    // values; serde-saphyr's default of 250,000 suits a configuration file. Aliases keep their
    // own, smaller limits, so an alias bomb still stops early.
    let mut budget = options.budget.take().unwrap_or_default();
    budget.max_nodes = budget.max_nodes.max(MAX_NODES);
    budget.max_events = budget.max_events.max(2 * MAX_NODES);
    // What aliases may repeat stays as small as before the raise: 250,000 values.
    budget.max_recorded_anchor_events = budget.max_recorded_anchor_events.min(MAX_REPLAYED);
    options.alias_limits.max_total_replayed_events = options
        .alias_limits
        .max_total_replayed_events
        .min(MAX_REPLAYED);
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options(source, options)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<Kind>::deserialize(deserializer)?;
        let at = spanned.referenced;
        let span = at.span();
        let narrow = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Node {
            kind: spanned.value,
            at: Span {
                line: narrow(at.line()),
                column: narrow(at.column()),
                offset: narrow(span.byte_offset().unwrap_or(0)),
                len: narrow(span.byte_len().unwrap_or(0)),
            },
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        Kind::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Kind, E> {
        Ok(i64::try_from(v).map_or(Kind::Float(v as f64), Kind::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Kind, E> {
        Ok(i64::try_from(v).map_or(Kind::Float(v as f64), Kind::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Kind, E> {
        Ok(i64::try_from(v).map_or(Kind::Float(v as f64), Kind::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Kind, E> {
        Ok(Kind::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind::Str(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Kind, E> {
        Ok(Kind::Str(v.into_boxed_str()))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Kind, E> {
        Ok(Kind::Str(String::from_utf8_lossy(v).into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Kind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Kind::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_typed_and_keep_their_place() {
        let source = "flow: x\nminutes: 10\nok: true\nno: No\nempty:\nsay: \"quoted: yes\"\n";
        let tree = read(source).expect("reads");
        let Kind::Map(entries) = &tree.kind else {
            panic!("a map: {tree:?}")
        };
        let kinds: Vec<String> = entries.iter().map(|(_, v)| v.kind.describe()).collect();
        assert_eq!(
            kinds,
            [
                "the text 'x'",
                "the number 10",
                "`true`",
                "the text 'No'",
                "nothing",
                "the text 'quoted: yes'"
            ]
        );
        let (key, value) = &entries[5];
        assert_eq!((key.at.line, key.at.column), (6, 1));
        assert_eq!(value.text(source), "\"quoted: yes\"");
    }

    #[test]
    fn a_repeated_key_is_kept_for_the_shape_pass() {
        let tree = read("id: a\nid: b\n").expect("reads");
        let Kind::Map(entries) = &tree.kind else {
            panic!("a map")
        };
        assert_eq!(entries.len(), 2);
    }
}
