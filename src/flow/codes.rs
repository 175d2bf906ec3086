//! The diagnostic codes: one per kind of mistake, stable across releases, each with a page
//! that `trustguide explain CODE` prints (in `docs/diagnostics/`, built into the binary).
//!
//! A code names the kind of mistake, not the sentence: "`minutes` should be a whole number"
//! and "`private` should be `true` or `false`" are both E0202. Codes are never reused; a
//! code that is no longer reported keeps its page, saying so.

use serde::Serialize;

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $title:literal;)*) => {
        /// The kind of a diagnostic. `E` codes are errors, `W` codes warnings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$name,)*];

            /// The code as written: `E0201`.
            pub fn id(self) -> &'static str {
                match self {
                    $(Code::$name => $id,)*
                }
            }

            /// A few words on what the code is about, for lists.
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$name => $title,)*
                }
            }

            /// The page `trustguide explain` prints: what it means, an example, the fix.
            pub fn page(self) -> &'static str {
                match self {
                    $(Code::$name => include_str!(concat!("../../docs/diagnostics/", $id, ".md")),)*
                }
            }
        }
    };
}

codes! {
    /// The file cannot be read: missing, too big, not UTF-8, or no flow by that name.
    File = "E0101", "the file cannot be read";
    /// YAML that does not parse, of a kind with no more specific code.
    YamlSyntax = "E0102", "YAML that does not parse";
    /// Unquoted text that YAML reads as something else (`: `, a leading `{`, `[`, `*`, `@`).
    NeedsQuotes = "E0103", "text that needs quotes";
    /// A tab in the indentation.
    Tab = "E0104", "a tab in the indentation";
    /// A line indented too far or not far enough.
    Indentation = "E0105", "a line indented wrongly";
    /// A quoted text with no closing quote.
    UnclosedQuote = "E0106", "a quote that is not closed";
    /// YAML nested too deeply or expanding too far (aliases).
    TooLarge = "E0107", "YAML too large or too deep to read safely";
    /// A field that this part of a flow does not have.
    UnknownField = "E0201", "a field that does not exist here";
    /// A value of the wrong type: text where a number goes, a list where text goes.
    WrongType = "E0202", "a value of the wrong type";
    /// A value that is not one of the allowed ones (`ask: confrim`, `end: complete`).
    UnknownValue = "E0203", "a value that is not one of the allowed ones";
    /// The same field twice in one map.
    RepeatedField = "E0204", "a field written twice";
    /// A field that must be there is missing.
    MissingField = "E0205", "a field that must be there is missing";
    /// A text, list or message that must not be empty is.
    Empty = "E0206", "something that must not be empty is";
    /// A name or id that is not written as names must be (snake_case, flow ids).
    BadName = "E0301", "a name not written as names must be";
    /// A name the engine keeps for itself (`today`, `end`, `both`...).
    ReservedName = "E0302", "a name the engine keeps for itself";
    /// Two things with one name: step ids, roles, a step and a variable, option values.
    DuplicateName = "E0303", "two things with the same name";
    /// A step id that the flow does not have (`goto`, `next`, tests).
    UnknownStep = "E0304", "a step that does not exist";
    /// A flow id that no flow has (`call`).
    UnknownFlow = "E0305", "a flow that does not exist";
    /// A role that the flow's `participants` do not have (`who`).
    UnknownRole = "E0306", "a role that does not exist";
    /// A template (`{{ }}`, `{% %}`) that does not compile.
    TemplateSyntax = "E0401", "a template that does not compile";
    /// An expression (`when`, `set`, `record`...) that does not compile.
    ExpressionSyntax = "E0402", "an expression that does not compile";
    /// A name used in a template or expression that nothing defines.
    UndefinedName = "E0403", "a name that nothing defines";
    /// A filter or test (`| lenght`, `is numbr`) that does not exist.
    UnknownFilter = "E0404", "a filter or test that does not exist";
    /// An `{% include %}` of content that does not exist.
    MissingInclude = "E0405", "included content that does not exist";
    /// A template in an option label, which is shown as written.
    TemplatedLabel = "E0406", "a template in an option label";
    /// `*` repeating a text or a list more times than any text needs (`[1] * 100000000`).
    HugeRepetition = "E0407", "a text or list repeated too many times";
    /// A field that does not fit the step it is on (`min` on a text question, `record`
    /// without `end`...).
    Misplaced = "E0501", "a field that does not fit its step";
    /// A number out of its range or two bounds the wrong way round.
    OutOfRange = "E0502", "a number out of range";
    /// A step that no way through the flow reaches.
    Unreachable = "E0601", "a step that can never be reached";
    /// A loop that no way leaves.
    EndlessLoop = "E0602", "a loop with no way out";
    /// Steps of a `group` that cannot be asked one person at a time: not `who: both`
    /// questions, not next to each other, or leaving the group (or entered) midway.
    Group = "E0603", "steps of a group that cannot be asked together";
    /// A problem with the flow's safety additions.
    Safety = "E0701", "a problem in the flow's safety additions";
    /// A test whose answers cannot work.
    TestAnswer = "E0801", "a test answer that cannot work";
    /// A value that may be missing on some way to the step that uses it.
    MaybeUnset = "W0101", "a value that may be missing";
    /// A file named other than its flow id.
    FileName = "W0102", "a file named other than its flow id";
    /// ` #` in unquoted text, which starts a comment and drops the rest.
    CommentCutsText = "W0103", "a `#` that cuts a text short";
    /// A branch of `next` that can never be taken.
    BranchNeverTaken = "W0104", "a branch that can never be taken";
    /// `who`, `private` or `optional` on a step that asks nothing.
    NothingAsked = "W0105", "a setting on a step that asks nothing";
}

impl Code {
    /// Whether the code is a warning (`W…`) rather than an error.
    pub fn is_warning(self) -> bool {
        self.id().starts_with('W')
    }

    /// The code with this id (`E0201`, any case; the leading letter may be left out).
    pub fn from_id(id: &str) -> Option<Code> {
        let id = id.trim().to_ascii_uppercase();
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.id() == id || c.id()[1..] == id)
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
