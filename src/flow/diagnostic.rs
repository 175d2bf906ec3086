//! Diagnostics as a compiler prints them: a code, the message, the source line with the whole
//! mistake underlined, other places that matter labelled, and the fix.
//!
//! The snippet is drawn by annotate-snippets (the renderer rustc's own diagnostics use), in
//! colour on a terminal. A diagnostic carries its own copy of the lines it shows, so it can be
//! printed long after the file's text is gone. `--format short` prints one
//! `file:line:col: error[E0201]: message` line per diagnostic, for editors and grep;
//! `--format json` everything, fixes as structured replacements.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Patch, Renderer, Snippet};
use serde::Serialize;

pub use super::codes::Code;

/// The widest source line a diagnostic keeps, in characters.
const MAX_SNIPPET: usize = 100;

/// How serious a diagnostic is; `--format json` writes it as `error` or `warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be used until this is fixed.
    Error,
    /// Questionable but legal (a value that may be missing on some path, a branch never
    /// taken): the flow still loads.
    Warning,
}

/// A place in the file: 1-based line, and 1-based columns from `column` up to (not
/// including) `end_column`, on that line. Columns count characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
    /// 1-based, after the last character.
    pub end_column: u32,
}

/// Another place that helps understand the mistake ("first defined here").
#[derive(Debug, Clone, Serialize)]
pub struct Label {
    /// Where.
    #[serde(flatten)]
    pub place: Place,
    /// What it is.
    pub message: String,
    #[serde(skip)]
    excerpt: Option<Excerpt>,
}

/// A fix: replace the text at `place` with `replacement`.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// What to replace.
    #[serde(flatten)]
    pub place: Place,
    /// The new text.
    pub replacement: String,
}

/// The part of a line a diagnostic shows: a window of at most [`MAX_SNIPPET`] characters.
#[derive(Debug, Clone)]
struct Excerpt {
    line: u32,
    text: String,
    /// Characters of the line before the window.
    skipped: usize,
}

/// One problem found in a flow (or an answers file), at its place in the file.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    /// Whether it is an error or a warning.
    pub severity: Severity,
    /// The kind of problem; `trustguide explain CODE` says more.
    pub code: Code,
    /// The file it is about, as shown to the reader: usually a path, or `flows/NAME (built in)`.
    pub file: Box<str>,
    /// 1-based; 0 when the problem is about the whole file (left out of JSON then).
    #[serde(skip_serializing_if = "is_zero")]
    pub line: u32,
    /// 1-based; 0 when the problem is about the whole file or line (left out of JSON then).
    #[serde(skip_serializing_if = "is_zero")]
    pub column: u32,
    /// 1-based, after the last character of the mistake (on `line`); 0 when unknown.
    #[serde(skip_serializing_if = "is_zero")]
    pub end_column: u32,
    /// What is wrong, in one sentence.
    pub message: String,
    /// A hint on how to fix it, such as "did you mean `prompt`?".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The fix, when there is one certain enough to apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Box<Fix>>,
    /// Other places that matter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(skip)]
    excerpt: Option<Box<Excerpt>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Diagnostic {
    /// A diagnostic of kind `code` about `file` as a whole; an error or a warning as the code
    /// says. [`Diagnostic::at`] points it at a line.
    pub fn new(code: Code, file: impl AsRef<str>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: if code.is_warning() {
                Severity::Warning
            } else {
                Severity::Error
            },
            code,
            file: file.as_ref().into(),
            line: 0,
            column: 0,
            end_column: 0,
            message: message.into(),
            help: None,
            fix: None,
            labels: Vec::new(),
            excerpt: None,
        }
    }

    /// Points the diagnostic at `line:column` of `source`, keeping that line for the snippet.
    /// The underline covers the token there: a quoted text, a `name:`, a value to the end of
    /// its line, or a word; [`Diagnostic::to_column`] sets it exactly.
    pub fn at(mut self, source: &str, line: u32, column: u32) -> Diagnostic {
        self.line = line;
        self.column = column;
        let text = line_text(source, line);
        self.end_column = match (column, text) {
            (0, _) | (_, None) => 0,
            (_, Some(t)) => token_end(t, column),
        };
        self.excerpt = text.map(|t| Box::new(Excerpt::around(line, t, column)));
        self
    }

    /// Ends the underline before 1-based column `end` (on the same line).
    pub fn to_column(mut self, end: u32) -> Diagnostic {
        if end > self.column {
            self.end_column = end;
        }
        self
    }

    /// Adds a hint, replacing any earlier one.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" when there is a near name, with the fix that puts `x` in
    /// place of the underlined word when the underline is one word.
    pub fn suggest(mut self, suggestion: Option<&str>) -> Diagnostic {
        self.set_suggestion(suggestion);
        self
    }

    /// [`Diagnostic::suggest`] on a diagnostic in place.
    pub fn set_suggestion(&mut self, suggestion: Option<&str>) {
        let Some(s) = suggestion else {
            return;
        };
        self.help = Some(format!("did you mean `{s}`?"));
        let one_word = self
            .underlined()
            .is_some_and(|w| !w.is_empty() && !w.contains([' ', ':', '"', '\'']));
        if one_word {
            self.fix = Some(Box::new(Fix {
                place: self.place(),
                replacement: s.to_owned(),
            }));
        }
    }

    /// Adds the fix: `replacement` for columns `column..end_column` of line `line`.
    pub fn with_fix(
        mut self,
        line: u32,
        column: u32,
        end_column: u32,
        replacement: String,
    ) -> Diagnostic {
        self.fix = Some(Box::new(Fix {
            place: Place {
                line,
                column,
                end_column,
            },
            replacement,
        }));
        self
    }

    /// Adds a label at `line:column` of `source`: another place that matters.
    pub fn label(
        mut self,
        source: &str,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> Diagnostic {
        let text = line_text(source, line);
        self.labels.push(Label {
            place: Place {
                line,
                column,
                end_column: text.map_or(column + 1, |t| token_end(t, column)),
            },
            message: message.into(),
            excerpt: text.map(|t| Excerpt::around(line, t, column)),
        });
        self
    }

    /// Where the mistake is.
    pub fn place(&self) -> Place {
        Place {
            line: self.line,
            column: self.column,
            end_column: self.end_column,
        }
    }

    /// Whether this is an error (and not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The underlined text, when the line is kept.
    fn underlined(&self) -> Option<String> {
        let e = self.excerpt.as_ref()?;
        let (from, to) = e.window(self.column, self.end_column)?;
        Some(e.text.chars().skip(from).take(to - from).collect())
    }

    /// `file:line:col: error[E0201]: message`, on one line.
    pub fn short(&self) -> String {
        let kind = self.kind();
        match (self.line, self.column) {
            (0, _) => format!("{}: {kind}[{}]: {}", self.file, self.code, self.message),
            (line, 0) => format!(
                "{}:{line}: {kind}[{}]: {}",
                self.file, self.code, self.message
            ),
            (line, col) => format!(
                "{}:{line}:{col}: {kind}[{}]: {}",
                self.file, self.code, self.message
            ),
        }
    }

    fn kind(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// The diagnostic as a person reads it: in colour when `styled`.
    pub fn render(&self, styled: bool) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let renderer = if styled {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let title = level
            .primary_title(self.message.as_str())
            .id(self.code.id());
        let mut main = Group::with_title(title);
        let origin = match (self.line, self.column) {
            (0, _) => self.file.to_string(),
            (line, 0) => format!("{}:{line}", self.file),
            (line, col) => format!("{}:{line}:{col}", self.file),
        };
        // The mistake's own line first: the place shown at the top is the mistake's.
        let mut lines: Vec<&Excerpt> = Vec::new();
        lines.extend(self.excerpt.as_deref());
        let mut others: Vec<&Excerpt> = self
            .labels
            .iter()
            .filter_map(|l| l.excerpt.as_ref())
            .collect();
        others.sort_by_key(|e| e.line);
        others.retain(|e| e.line != self.line);
        others.dedup_by_key(|e| e.line);
        lines.extend(others);
        if lines.is_empty() {
            main = main.element(annotate_snippets::Origin::path(origin.clone()));
        }
        for e in &lines {
            let mut snippet = Snippet::source(e.text.as_str()).line_start(e.line as usize);
            // annotate-snippets adds the line and column of the underline; the first one is
            // the mistake's, the others are marked `:::`.
            snippet = snippet.path(&*self.file);
            if e.line == self.line {
                // A mistake about a whole line underlines what the line says.
                let (column, end) = if self.column > 0 {
                    (self.column, self.end_column)
                } else {
                    let indent = e.text.chars().take_while(|c| *c == ' ').count() as u32;
                    (
                        indent + 1 + e.skipped as u32,
                        e.text.chars().count() as u32 + 1 + e.skipped as u32,
                    )
                };
                if let Some((from, to)) = e.window(column, end) {
                    let span = e.byte_range(from, to);
                    snippet = snippet.annotation(AnnotationKind::Primary.span(span));
                }
            }
            for l in self.labels.iter().filter(|l| l.place.line == e.line) {
                if let Some((from, to)) = e.window(l.place.column, l.place.end_column) {
                    let span = e.byte_range(from, to);
                    snippet = snippet
                        .annotation(AnnotationKind::Context.span(span).label(l.message.as_str()));
                }
            }
            main = main.element(snippet);
        }
        let mut report = vec![main];
        if let Some(help) = &self.help {
            let mut group = Group::with_title(Level::HELP.secondary_title(help.as_str()));
            let fix_excerpt = self.fix.as_ref().and_then(|f| {
                let e = lines.iter().find(|e| e.line == f.place.line)?;
                let (from, to) = e.window(f.place.column, f.place.end_column)?;
                Some((e, e.byte_range(from, to), f.replacement.as_str()))
            });
            if let Some((e, span, replacement)) = fix_excerpt {
                group = group.element(
                    Snippet::source(e.text.as_str())
                        .line_start(e.line as usize)
                        .path(&*self.file)
                        .patch(Patch::new(span, replacement)),
                );
            }
            report.push(group);
        }
        renderer.render(&report)
    }
}

impl Excerpt {
    /// The window of `text` (line `line`) shown for a mistake at 1-based `column`.
    fn around(line: u32, text: &str, column: u32) -> Excerpt {
        let text = text.trim_end();
        let chars = text.chars().count();
        if chars <= MAX_SNIPPET {
            return Excerpt {
                line,
                text: text.to_owned(),
                skipped: 0,
            };
        }
        // A hostile file may have a line of megabytes: keep a window around the spot.
        let col = (column as usize).max(1) - 1;
        let start = col.saturating_sub(MAX_SNIPPET / 2).min(chars - MAX_SNIPPET);
        Excerpt {
            line,
            text: text.chars().skip(start).take(MAX_SNIPPET).collect(),
            skipped: start,
        }
    }

    /// Columns `column..end` (1-based, of the whole line) as 0-based character indexes into
    /// the window; `None` when they fall outside it.
    fn window(&self, column: u32, end: u32) -> Option<(usize, usize)> {
        let len = self.text.chars().count();
        let from = (column as usize)
            .checked_sub(1)?
            .checked_sub(self.skipped)?;
        if from > len {
            return None;
        }
        let to = (end as usize)
            .saturating_sub(1)
            .saturating_sub(self.skipped)
            .clamp(from, len);
        // An empty underline still points somewhere: one character, or just past the end.
        Some((
            from,
            if to == from {
                (from + 1).min(len.max(from))
            } else {
                to
            },
        ))
    }

    /// Character indexes into the window as a byte range.
    fn byte_range(&self, from: usize, to: usize) -> std::ops::Range<usize> {
        let byte = |i: usize| {
            self.text
                .char_indices()
                .nth(i)
                .map_or(self.text.len(), |(b, _)| b)
        };
        byte(from)..byte(to)
    }
}

/// The text of 1-based line `line` of `source`, if there is one.
fn line_text(source: &str, line: u32) -> Option<&str> {
    line.checked_sub(1)
        .and_then(|i| source.lines().nth(i as usize))
}

/// Where the token at 1-based `column` of `text` ends (1-based, exclusive): a quoted text to
/// its closing quote, a `name:` to its colon, a value after `: ` to the end of the line (before
/// a ` #` comment), otherwise a word.
fn token_end(text: &str, column: u32) -> u32 {
    let chars: Vec<char> = text.chars().collect();
    let start = (column as usize).saturating_sub(1);
    if start >= chars.len() {
        return column + 1;
    }
    let rest = &chars[start..];
    let end = match rest[0] {
        q @ ('"' | '\'') => {
            let mut i = 1;
            while i < rest.len() {
                if rest[i] == '\\' && q == '"' {
                    i += 2;
                    continue;
                }
                if rest[i] == q {
                    break;
                }
                i += 1;
            }
            (i + 1).min(rest.len())
        }
        _ => {
            let word = rest
                .iter()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
                .count();
            let is_key =
                rest.get(word) == Some(&':') && matches!(rest.get(word + 1), None | Some(' '));
            let after_key = start >= 2 && chars[..start].ends_with(&[':', ' ']);
            if is_key || !after_key || word == 0 {
                word.max(1)
            } else {
                // A plain value: to the end of the line, before a comment; inside `{ }` or
                // `[ ]`, to the next `,` or closing bracket.
                let line_rest: String = rest.iter().collect();
                let depth = chars[..start].iter().fold(0i32, |d, c| match c {
                    '{' | '[' => d + 1,
                    '}' | ']' => d - 1,
                    _ => d,
                });
                let mut cut = line_rest.find(" #").unwrap_or(line_rest.len());
                if depth > 0 {
                    cut = cut.min(line_rest.find([',', '}', ']']).unwrap_or(cut));
                }
                line_rest[..cut].trim_end().chars().count().max(1)
            }
        }
    };
    (start + end + 1) as u32
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

/// All the diagnostics of one load, errors and warnings together.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds a diagnostic after the others.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Whether any of them is an error (warnings alone do not stop a load).
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// The errors, in order, without the warnings.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_line_is_cropped_around_the_spot() {
        let source = format!("say: {}X{}", "a".repeat(5000), "b".repeat(5000));
        let d = Diagnostic::new(Code::YamlSyntax, "x.yaml", "here")
            .at(&source, 1, 5006)
            .to_column(5007);
        assert_eq!(d.column, 5006, "the reported column is the real one");
        assert_eq!(
            d.underlined().as_deref(),
            Some("X"),
            "the underline is the spot"
        );
        let shown = d.to_string();
        assert!(shown.len() < 600, "{}", shown.len());
    }

    #[test]
    fn renders_code_place_underline_and_fix() {
        let source = "flow: x\nsteps:\n  - promt: hi\n";
        let d = Diagnostic::new(
            Code::UnknownField,
            "x.yaml",
            "`promt` is not a field of a step",
        )
        .at(source, 3, 5)
        .suggest(Some("prompt"));
        assert_eq!(d.end_column, 10, "the whole key is underlined");
        assert_eq!(
            d.to_string(),
            "error[E0201]: `promt` is not a field of a step\n --> x.yaml:3:5\n  |\n3 |   - promt: hi\n  |     ^^^^^\n  |\nhelp: did you mean `prompt`?\n  |\n3 |   - prompt: hi\n  |         +"
        );
        assert_eq!(
            d.short(),
            "x.yaml:3:5: error[E0201]: `promt` is not a field of a step"
        );
    }

    #[test]
    fn tokens_are_underlined_whole() {
        let line = "    prompt: \"Who goes first?\" # a comment";
        assert_eq!(token_end(line, 5), 11, "a key");
        assert_eq!(token_end(line, 13), 30, "a quoted text");
        let line = "    who: listner   # typo";
        assert_eq!(
            token_end(line, 10),
            17,
            "a plain value stops before the comment"
        );
        let line = "    say: Thank you, {{ speeker }}";
        assert_eq!(token_end(line, 24), 31, "a word inside a template");
        let line = "    answers: { trust: 11, feel: fine }";
        assert_eq!(token_end(line, 23), 25, "a value in a flow map");
    }
}
