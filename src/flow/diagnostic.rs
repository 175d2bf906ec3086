//! Diagnostics as a compiler prints them: `file:line:col: error: message`, the source line,
//! a caret under the spot, and a hint where one helps.
//!
//! A diagnostic carries its own copy of the source line, so it can be printed long after the
//! file's text is gone, and it never needs the file again.

use std::fmt;

use serde::Serialize;

/// The widest source line a diagnostic shows, in characters.
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

/// One problem found in a flow (or an answers file), at its place in the file.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    /// Whether it is an error or a warning.
    pub severity: Severity,
    /// The file it is about, as shown to the reader: usually a path, or `flows/NAME (built in)`.
    pub file: String,
    /// 1-based; 0 when the problem is about the whole file.
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub column: u32,
    /// What is wrong, in one sentence.
    pub message: String,
    /// A hint on how to fix it, such as "did you mean `prompt`?".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The text of line `line`, cropped around the spot when it is long; `None` when the
    /// diagnostic points at no line.
    #[serde(skip)]
    pub source_line: Option<String>,
    /// Where the caret goes under `source_line` (differs from `column` when it was cropped).
    #[serde(skip)]
    caret: u32,
}

impl Diagnostic {
    /// An error about `file` as a whole; [`Diagnostic::at`] points it at a line.
    pub fn error(file: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
            source_line: None,
            caret: 0,
        }
    }

    /// A warning about `file` as a whole; [`Diagnostic::at`] points it at a line.
    pub fn warning(file: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    /// Points the diagnostic at `line:column` of `source`, keeping that line for the snippet.
    pub fn at(mut self, source: &str, line: u32, column: u32) -> Diagnostic {
        self.line = line;
        self.column = column;
        self.caret = column;
        let text = line
            .checked_sub(1)
            .and_then(|i| source.lines().nth(i as usize))
            .map(|l| l.trim_end());
        self.source_line = text.map(|t| {
            // A hostile file may have a line of megabytes: show a window around the spot.
            let chars = t.chars().count();
            if chars <= MAX_SNIPPET {
                return t.to_owned();
            }
            let col = (column as usize).max(1) - 1;
            let start = col.saturating_sub(MAX_SNIPPET / 2).min(chars - MAX_SNIPPET);
            let window: String = t.chars().skip(start).take(MAX_SNIPPET).collect();
            // The caret must still line up: count the `…` as the characters it stands for.
            self.caret = (col - start + 1 + usize::from(start > 0)) as u32;
            format!("{}{window}…", if start > 0 { "…" } else { "" })
        });
        self
    }

    /// Adds a hint, replacing any earlier one.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" when there is a near name.
    pub fn suggest(self, suggestion: Option<&str>) -> Diagnostic {
        match suggestion {
            Some(s) => self.with_help(format!("did you mean `{s}`?")),
            None => self,
        }
    }

    /// Whether this is an error (and not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {kind}: {}", self.file, self.message)?,
            (line, 0) => write!(f, "{}:{line}: {kind}: {}", self.file, self.message)?,
            (line, col) => write!(f, "{}:{line}:{col}: {kind}: {}", self.file, self.message)?,
        }
        if let Some(text) = &self.source_line {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            write!(f, "\n{pad} |\n{number} | {text}")?;
            if self.caret > 0 {
                // Columns count characters; tabs keep their width so the caret lines up.
                let lead: String = text
                    .chars()
                    .take(self.caret as usize - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n{pad} | {lead}^")?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
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
        let d = Diagnostic::error("x.yaml", "here").at(&source, 1, 5006);
        let shown = d.source_line.clone().expect("a snippet");
        assert!(shown.chars().count() <= MAX_SNIPPET + 2, "{}", shown.len());
        assert_eq!(d.column, 5006, "the reported column is the real one");
        let caret_at = d.caret as usize - 1;
        assert_eq!(
            shown.chars().nth(caret_at),
            Some('X'),
            "the caret points at the spot"
        );
    }

    #[test]
    fn renders_position_snippet_caret_and_help() {
        let source = "flow: x\nsteps:\n  - promt: hi\n";
        let d = Diagnostic::error("x.yaml", "unknown field `promt`")
            .at(source, 3, 5)
            .suggest(Some("prompt"));
        assert_eq!(
            d.to_string(),
            "x.yaml:3:5: error: unknown field `promt`\n  |\n3 |   - promt: hi\n  |     ^\n  = help: did you mean `prompt`?"
        );
    }
}
