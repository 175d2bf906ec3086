//! A serde deserializer straight over the YAML parser's events, for the plain YAML that flows
//! are written in; anything else is handed back to serde-saphyr.
//!
//! serde-saphyr is the reader of record: it has the budgets against hostile files, the full
//! YAML 1.2 rules and the error messages. It also spends about twice as long per event as the
//! parser underneath it (granit-parser), which made `check` on a 10,000-step flow miss its
//! time target. Nearly every flow is plain YAML: mappings, lists and text, no anchors, tags or
//! merge keys. This reader takes the same parser's events and handles exactly that, and says
//! "not mine" ([`Unsupported`]) at the first thing it is not sure of: an anchor or alias, a
//! tag, a `<<` key, a repeated key, a second document, deep nesting, a plain scalar whose type
//! is not obvious where any type may go (`0x1F`, `1e3`, `.inf`, `True`, `10:30`...), a null
//! where text is wanted, or any error. (Where text is wanted, serde-saphyr takes a plain
//! scalar's text as written, `12` and `no` included, and so does this reader.) The caller then reads the file with serde-saphyr, so a message is always
//! serde-saphyr's and a value always means what serde-saphyr says it means.
//!
//! The tests in `read.rs` read every shipped flow both ways and compare the results.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StrInput};

/// The newtype name [`super::raw::Sp`] asks for; this reader answers it with the value's
/// position, serde-saphyr with its own spanned value.
pub const SPANNED: &str = "trustguide::flow::raw::Sp";

/// Deeper than this is left to serde-saphyr (whose own limit is 64 levels).
const MAX_DEPTH: usize = 48;

/// The reader met something it leaves to serde-saphyr.
#[derive(Debug)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl de::Error for Unsupported {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Unsupported(msg.to_string())
    }
}

fn unsupported<T>(what: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(what.into()))
}

/// Reads one YAML document of plain YAML into `T`.
pub fn from_str<T: DeserializeOwned>(source: &str) -> Result<T, Unsupported> {
    let mut reader = Reader {
        parser: Parser::new_from_str(source),
        peeked: None,
        depth: 0,
    };
    match reader.next()?.0 {
        Event::StreamStart => {}
        _ => return unsupported("no stream start"),
    }
    match reader.next()?.0 {
        Event::DocumentStart(..) => {}
        _ => return unsupported("not one document"),
    }
    let value = T::deserialize(&mut reader)?;
    match reader.next()?.0 {
        Event::DocumentEnd => {}
        _ => return unsupported("more after the document"),
    }
    match reader.next()?.0 {
        Event::StreamEnd => Ok(value),
        _ => unsupported("a second document"),
    }
}

struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    /// The next event and where it starts (line, 1-based column): only the start is kept, so
    /// the events moved around are small.
    peeked: Option<(Event<'a>, [u32; 2])>,
    depth: usize,
}

/// What a plain (unquoted) scalar is, under the YAML 1.2 core schema with YAML 1.2 booleans.
#[derive(Debug, PartialEq)]
enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text,
    /// Something serde-saphyr should decide.
    Unsure,
}

fn classify(s: &str) -> Plain {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" => return Plain::Bool(true),
        "false" => return Plain::Bool(false),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        let plain_digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        if plain_digits(digits) && (digits == "0" || !digits.starts_with('0')) {
            return s.parse().map_or(Plain::Unsure, Plain::Int);
        }
        if let Some((whole, frac)) = digits.split_once('.') {
            if plain_digits(whole)
                && plain_digits(frac)
                && (whole == "0" || !whole.starts_with('0'))
            {
                return s.parse().map_or(Plain::Unsure, Plain::Float);
            }
        }
        // A digit first and then a letter no number has (`+14d`, `3rd`, `5 minutes`) is text.
        let lower = digits.to_ascii_lowercase();
        let number_prefix = ["0x", "0o", "0b"].iter().any(|p| lower.starts_with(p));
        let non_number = |c: char| c.is_ascii_whitespace() || (c.is_ascii_alphabetic() && c != 'e');
        if digits.starts_with(|c: char| c.is_ascii_digit())
            && !number_prefix
            && lower.contains(non_number)
        {
            return Plain::Text;
        }
        return Plain::Unsure;
    }
    // `True` and `FALSE` are booleans in YAML 1.2 too; other spellings are left to
    // serde-saphyr. (`yes`, `no`, `on`, `y` are text with YAML 1.2 booleans.)
    if matches!(s.len(), 4 | 5)
        && matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "null")
    {
        return Plain::Unsure;
    }
    Plain::Text
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, [u32; 2]), Unsupported> {
        if let Some(e) = self.peeked.take() {
            return Ok(e);
        }
        match self.parser.next() {
            // The same numbering serde-saphyr's locations use.
            Some(Ok((e, span))) => Ok((e, [span.start.line() as u32, span.start.col() as u32 + 1])),
            Some(Err(e)) => unsupported(e.to_string()),
            None => unsupported("the events ended early"),
        }
    }

    fn peek(&mut self) -> Result<&(Event<'a>, [u32; 2]), Unsupported> {
        if self.peeked.is_none() {
            let e = self.next()?;
            self.peeked = Some(e);
        }
        match &self.peeked {
            Some(e) => Ok(e),
            None => unsupported("no event"),
        }
    }

    /// The next scalar's text and style; anything else (or an anchor or tag) is unsupported.
    fn scalar(&mut self) -> Result<(Cow<'a, str>, ScalarStyle), Unsupported> {
        match self.next()?.0 {
            Event::Scalar(text, style, 0, None) => Ok((text, style)),
            Event::Scalar(..) => unsupported("an anchor or tag on a scalar"),
            _ => unsupported("expected a scalar"),
        }
    }

    /// The next scalar, which must be plain, and what it is.
    fn plain(&mut self) -> Result<Plain, Unsupported> {
        let (text, style) = self.scalar()?;
        if style != ScalarStyle::Plain {
            return unsupported("a quoted or block scalar where a value was expected");
        }
        Ok(classify(&text))
    }

    fn enter(&mut self) -> Result<(), Unsupported> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return unsupported("nested too deeply");
        }
        Ok(())
    }

    fn sequence<V: Visitor<'a>>(&mut self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.next()?.0 {
            Event::SequenceStart(_, 0, None) => {}
            _ => return unsupported("expected a plain list"),
        }
        self.enter()?;
        let value = visitor.visit_seq(Items { reader: self })?;
        match self.next()?.0 {
            Event::SequenceEnd => {}
            _ => return unsupported("a list with more items than read"),
        }
        self.depth -= 1;
        Ok(value)
    }

    fn mapping<V: Visitor<'a>>(&mut self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.next()?.0 {
            Event::MappingStart(_, 0, None) => {}
            _ => return unsupported("expected a plain mapping"),
        }
        self.enter()?;
        let value = visitor.visit_map(Entries {
            reader: self,
            seen: Seen::default(),
        })?;
        match self.next()?.0 {
            Event::MappingEnd => {}
            _ => return unsupported("a mapping with more entries than read"),
        }
        self.depth -= 1;
        Ok(value)
    }

    /// Skips one node of any shape (for fields serde ignores).
    fn skip(&mut self) -> Result<(), Unsupported> {
        let mut open = 0usize;
        loop {
            match self.next()?.0 {
                Event::Scalar(_, _, 0, None) => {}
                Event::SequenceStart(_, 0, None) | Event::MappingStart(_, 0, None) => open += 1,
                Event::SequenceEnd | Event::MappingEnd => open -= 1,
                _ => return unsupported("an anchor, alias or tag"),
            }
            if open == 0 {
                return Ok(());
            }
            if open > MAX_DEPTH {
                return unsupported("nested too deeply");
            }
        }
    }
}

struct Items<'r, 'a> {
    reader: &'r mut Reader<'a>,
}

impl<'a> de::SeqAccess<'a> for Items<'_, 'a> {
    type Error = Unsupported;
    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unsupported> {
        if matches!(self.reader.peek()?.0, Event::SequenceEnd) {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

struct Entries<'r, 'a> {
    reader: &'r mut Reader<'a>,
    seen: Seen<'a>,
}

/// The keys of one mapping so far: a short list (a step has a handful of keys), and a set
/// once it grows long.
#[derive(Default)]
struct Seen<'a> {
    few: Vec<Cow<'a, str>>,
    many: HashSet<Cow<'a, str>>,
}

impl<'a> Seen<'a> {
    /// Adds `key`; false if it was there already.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&key) {
                return false;
            }
            if self.few.len() < 16 {
                self.few.push(key);
                return true;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(key)
    }
}

impl<'a> de::MapAccess<'a> for Entries<'_, 'a> {
    type Error = Unsupported;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unsupported> {
        match &self.reader.peek()?.0 {
            Event::MappingEnd => return Ok(None),
            Event::Scalar(text, style, 0, None) => {
                if *style == ScalarStyle::Plain && text == "<<" {
                    return unsupported("a merge key");
                }
                if !self.seen.insert(text.clone()) {
                    return unsupported("a repeated key");
                }
            }
            _ => return unsupported("a key that is not plain text"),
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Unsupported> {
        seed.deserialize(&mut *self.reader)
    }
}

/// The line and column of a value, then the value: how [`super::raw::Sp`] receives both.
struct WithPosition<'r, 'a> {
    reader: &'r mut Reader<'a>,
    position: [u32; 2],
    given: usize,
}

impl<'a> de::SeqAccess<'a> for WithPosition<'_, 'a> {
    type Error = Unsupported;
    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unsupported> {
        self.given += 1;
        match self.given {
            1 | 2 => seed
                .deserialize(self.position[self.given - 1].into_deserializer())
                .map(Some),
            3 => seed.deserialize(&mut *self.reader).map(Some),
            _ => Ok(None),
        }
    }
}

/// A unit variant named by a scalar (`ask: text`).
struct Variant(String);

impl<'a> de::EnumAccess<'a> for Variant {
    type Error = Unsupported;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), Unsupported> {
        let name: de::value::StrDeserializer<'_, Unsupported> = self.0.as_str().into_deserializer();
        seed.deserialize(name).map(|v| (v, self))
    }
}

impl<'a> de::VariantAccess<'a> for Variant {
    type Error = Unsupported;
    fn unit_variant(self) -> Result<(), Unsupported> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, _: T) -> Result<T::Value, Unsupported> {
        unsupported("a variant with a value")
    }
    fn tuple_variant<V: Visitor<'a>>(self, _: usize, _: V) -> Result<V::Value, Unsupported> {
        unsupported("a variant with values")
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Unsupported> {
        unsupported("a variant with fields")
    }
}

macro_rules! integer {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
            match self.plain()? {
                Plain::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
                Plain::Int(i) => visitor.visit_i64(i),
                _ => unsupported("expected a whole number"),
            }
        }
    )*};
}

impl<'a> de::Deserializer<'a> for &mut Reader<'a> {
    type Error = Unsupported;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match &self.peek()?.0 {
            Event::SequenceStart(..) => self.sequence(visitor),
            Event::MappingStart(..) => self.mapping(visitor),
            Event::Scalar(..) => {
                let (text, style) = self.scalar()?;
                if style != ScalarStyle::Plain {
                    return visitor.visit_str(&text);
                }
                match classify(&text) {
                    Plain::Null => visitor.visit_unit(),
                    Plain::Bool(b) => visitor.visit_bool(b),
                    Plain::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
                    Plain::Int(i) => visitor.visit_i64(i),
                    Plain::Float(f) => visitor.visit_f64(f),
                    Plain::Unsure => {
                        unsupported(format!("`{text}`: a plain scalar of unsure type"))
                    }
                    Plain::Text => visitor.visit_str(&text),
                }
            }
            _ => unsupported("an anchor, alias or tag"),
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.plain()? {
            Plain::Bool(b) => visitor.visit_bool(b),
            _ => unsupported("expected true or false"),
        }
    }

    integer!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
             deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.plain()? {
            Plain::Int(i) => visitor.visit_f64(i as f64),
            Plain::Float(f) => visitor.visit_f64(f),
            _ => unsupported("expected a number"),
        }
    }

    fn deserialize_char<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Unsupported> {
        unsupported("a character")
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        // Where text is wanted, serde-saphyr takes a plain scalar's text as it is (`12`,
        // `no`, `0x1F`), except a null, which is an error.
        let (text, style) = self.scalar()?;
        if style == ScalarStyle::Plain && classify(&text) == Plain::Null {
            return unsupported("a null where text was expected");
        }
        visitor.visit_str(&text)
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Unsupported> {
        unsupported("bytes")
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Unsupported> {
        unsupported("bytes")
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        if let Event::Scalar(text, ScalarStyle::Plain, 0, None) = &self.peek()?.0 {
            if classify(text) == Plain::Null {
                self.next()?;
                return visitor.visit_none();
            }
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        match self.plain()? {
            Plain::Null => visitor.visit_unit(),
            _ => unsupported("expected nothing"),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        if name != SPANNED {
            return visitor.visit_newtype_struct(self);
        }
        let position = self.peek()?.1;
        visitor.visit_seq(WithPosition {
            reader: self,
            position,
            given: 0,
        })
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.sequence(visitor)
    }

    fn deserialize_tuple<V: Visitor<'a>>(
        self,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        self.sequence(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        self.sequence(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.mapping(visitor)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        self.mapping(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unsupported> {
        let (text, style) = self.scalar()?;
        if style == ScalarStyle::Plain && classify(&text) == Plain::Null {
            return unsupported("a null where a name was expected");
        }
        visitor.visit_enum(Variant(text.into_owned()))
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Unsupported> {
        self.skip()?;
        visitor.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_are_typed_only_when_the_type_is_plain() {
        assert_eq!(classify("~"), Plain::Null);
        assert_eq!(classify(""), Plain::Null);
        assert_eq!(classify("true"), Plain::Bool(true));
        assert_eq!(classify("10"), Plain::Int(10));
        assert_eq!(classify("-3"), Plain::Int(-3));
        assert_eq!(classify("2.5"), Plain::Float(2.5));
        assert_eq!(classify("skip ahead"), Plain::Text);
        assert_eq!(classify("k3 > 8 and score > 100"), Plain::Text);
        for text in [
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "N",
            "+14d",
            "-7d",
            "3rd",
            "5 minutes",
            "1.5h",
        ] {
            assert_eq!(classify(text), Plain::Text, "{text}");
        }
        for unsure in [
            "True",
            "FALSE",
            "nUll",
            "0x1F",
            "0o7",
            "007",
            "1e3",
            ".inf",
            "-.inf",
            ".5",
            "1.",
            "1_000",
            "10:30",
            "+inf",
            "-nan",
            "0x1F",
            "1e",
            "+",
            "-",
            "99999999999999999999",
        ] {
            assert_eq!(classify(unsure), Plain::Unsure, "{unsure}");
        }
    }

    #[test]
    fn anything_but_plain_yaml_is_left_to_serde_saphyr() {
        type Map = indexmap::IndexMap<String, minijinja::Value>;
        let map: Map = from_str("a: 1\nb: two\nc: [x, 'y']\nd:\n").expect("plain YAML");
        assert_eq!(map.len(), 4);
        assert_eq!(map["b"].as_str(), Some("two"));
        assert!(map["d"].is_none());
        let many_keys: String = (0..20).map(|i| format!("k{i}: {i}\n")).collect();
        for text in [
            "a: &x 1\nb: *x\n".to_owned(),
            "a: !!str 1\n".to_owned(),
            "<<: {a: 1}\nb: 2\n".to_owned(),
            "a: 1\na: 2\n".to_owned(),
            format!("{many_keys}k7: again\n"),
            "a: 0x1F\n".to_owned(),
            "a: 1\n---\nb: 2\n".to_owned(),
            format!("a: {}1{}\n", "[".repeat(60), "]".repeat(60)),
            "a: [1, 2\n".to_owned(),
        ] {
            assert!(from_str::<Map>(&text).is_err(), "{text}");
        }
    }
}
