//! YAML that does not parse, explained in plain words, with the fix.
//!
//! The parser's own messages ("mapping values are not allowed in this context", "did not find
//! expected key") are written for people who know YAML's grammar. Counsellors writing a flow
//! make a handful of mistakes over and over: a `: ` or a leading `{` in unquoted text, a tab,
//! a line indented one space too far or too little. Each is recognised from the parser's error
//! and the lines around it, and explained with the corrected line.
//!
//! When the fix is certain (quoting a text, spaces for a tab, lining a line up), it is applied
//! to a copy of the text and the copy is read again, so one run reports the next YAML mistake
//! too, and the shape and semantic checks still run on the whole file. Every fix keeps the
//! lines where they were, so later positions stay right. A mistake with no certain fix (an
//! unclosed quote) ends the reading there.

use std::borrow::Cow;

use super::diagnostic::{Code, Diagnostic};

/// At most this many YAML mistakes are fixed and read past in one run.
const MAX_ROUNDS: usize = 20;

/// A YAML mistake: where, what, how to fix it, and the fixed line when the fix is certain.
#[derive(Debug, Clone)]
pub struct Mistake {
    pub code: Code,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub help: Option<String>,
    /// The line as it should read (without its line break), when the fix is certain.
    pub fixed_line: Option<String>,
}

impl Mistake {
    fn new(code: Code, line: u32, column: u32, message: impl Into<String>) -> Mistake {
        Mistake {
            code,
            line,
            column,
            message: message.into(),
            help: None,
            fixed_line: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Mistake {
        self.help = Some(help.into());
        self
    }
    fn fix(mut self, line: String) -> Mistake {
        self.fixed_line = Some(line);
        self
    }

    /// This mistake as a diagnostic about `file`, shown against `source`; the fix replaces
    /// the whole line.
    pub fn diagnostic(&self, file: &str, source: &str) -> Diagnostic {
        let mut d = Diagnostic::new(self.code, file, self.message.clone()).at(
            source,
            self.line,
            self.column,
        );
        if let Some(h) = &self.help {
            d = d.with_help(h.clone());
        }
        if let Some(fixed) = &self.fixed_line {
            let old = source
                .lines()
                .nth((self.line as usize).saturating_sub(1))
                .unwrap_or_default();
            let end = old.trim_end_matches('\r').chars().count() as u32 + 1;
            if d.help.is_none() {
                d = d.with_help("write it as:");
            }
            d = d.with_fix(self.line, 1, end, fixed.clone());
        }
        d
    }
}

/// Reads `source` into a tree, explaining every YAML mistake it can read past. Returns the
/// tree (of the text with the certain fixes applied, which is also returned) when the text
/// could be read at all, and the mistakes.
pub fn read_tree(source: &str) -> (Option<(super::tree::Node, Cow<'_, str>)>, Vec<Mistake>) {
    let mut text = Cow::Borrowed(source);
    let mut mistakes: Vec<Mistake> = Vec::new();
    let mut fixed_lines: Vec<u32> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        match super::tree::read(&text) {
            Ok(tree) => return (Some((tree, text)), mistakes),
            Err(err) => {
                let mistake = explain(&text, &err);
                // A fix that only moved the mistake to its own line: stop guessing.
                if fixed_lines.contains(&mistake.line) {
                    return (None, mistakes);
                }
                let Some(line) = mistake.fixed_line.clone() else {
                    mistakes.push(mistake);
                    return (None, mistakes);
                };
                fixed_lines.push(mistake.line);
                text = Cow::Owned(replace_line(&text, mistake.line, &line));
                mistakes.push(mistake);
            }
        }
    }
    (None, mistakes)
}

/// `source` with 1-based line `n` replaced by `with`.
fn replace_line(source: &str, n: u32, with: &str) -> String {
    let mut out = String::with_capacity(source.len() + 8);
    for (i, line) in source.split_inclusive('\n').enumerate() {
        if i + 1 == n as usize {
            out.push_str(with);
            if line.ends_with("\r\n") {
                out.push_str("\r\n");
            } else if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `text` in double quotes, with `\` and `"` escaped.
pub fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// 1-based line `n` of `source` ("" past the end), without its line break.
fn line_of(source: &str, n: u32) -> &str {
    source
        .lines()
        .nth((n as usize).saturating_sub(1))
        .unwrap_or_default()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A line `KEY: VALUE` (after any `- `): the byte where the value starts, and the key.
fn key_and_value(line: &str) -> Option<(usize, &str)> {
    let mut start = indent_of(line);
    while line[start..].starts_with("- ") {
        start += 2;
        start += indent_of(&line[start..]);
    }
    let rest = &line[start..];
    let colon = rest.find(": ")?;
    let key = &rest[..colon];
    if key.is_empty() || key.contains(['"', '\'', '{', '[', '#']) {
        return None;
    }
    let value_at = start + colon + 2;
    let value_at = value_at + (line[value_at..].len() - line[value_at..].trim_start().len());
    Some((value_at, key))
}

/// Where a line's content starts, after its indentation and any `- `: a 0-based column.
fn content_column(line: &str) -> usize {
    let mut start = indent_of(line);
    while line[start..].starts_with("- ") {
        start += 2;
        start += indent_of(&line[start..]);
    }
    start
}

/// The line with its value quoted, when it is a `KEY: VALUE` line whose value is plain text.
fn quote_value(line: &str) -> Option<String> {
    let (at, _) = key_and_value(line)?;
    let value = line[at..].trim_end();
    if value.is_empty() || value.starts_with(['"', '\'', '|', '>']) {
        return None;
    }
    Some(format!("{}{}", &line[..at], double_quoted(value)))
}

/// Explains one parser error.
pub fn explain(source: &str, err: &serde_saphyr::Error) -> Mistake {
    let raw = err.without_snippet().to_string();
    let message = strip_position(&raw);
    let (line, column) = err
        .location()
        .map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
    if let Some(m) = budget(message) {
        return Mistake::new(Code::TooLarge, line, column, m);
    }
    if message.contains("found a tab") || message.contains("tab character") {
        if let Some(m) = tab(source, line) {
            return m;
        }
    }
    let text = line_of(source, line);
    if message.starts_with("mapping values are not allowed") {
        // `key: text: more`: the second `: ` is the mistake, unless the line is a
        // continuation of the text above (indented too far).
        if let Some((at, key)) = key_and_value(text) {
            if (column as usize) > at {
                let m = Mistake::new(
                    Code::NeedsQuotes,
                    line,
                    column,
                    "text containing `: ` needs quotes, or YAML reads it as another `name: value`",
                )
                .help(format!("put the text of `{key}` in quotes"));
                return match quote_value(text) {
                    Some(fixed) => m.fix(fixed),
                    None => m,
                };
            }
        }
    }
    if message.contains("did not find expected key") {
        if let Some((at, key)) = key_and_value(text) {
            let first = text[at..].chars().next().unwrap_or(' ');
            if matches!(first, '{' | '[') && (column as usize) > at {
                let what = if first == '{' { "map" } else { "list" };
                let m = Mistake::new(
                    Code::NeedsQuotes,
                    line,
                    at as u32 + 1,
                    format!(
                        "text starting with `{first}` needs quotes, or YAML reads it as a {what}"
                    ),
                )
                .help(format!("put the text of `{key}` in quotes"));
                return match quote_value(text) {
                    Some(fixed) => m.fix(fixed),
                    None => m,
                };
            }
        }
    }
    if message.starts_with("unexpected character") || message.contains("unknown anchor") {
        if let Some((at, key)) = key_and_value(text) {
            let first = text[at..].chars().next().unwrap_or(' ');
            if matches!(first, '@' | '`' | '*' | '&' | '!' | '%') {
                let shown = if first == '`' {
                    "a backtick (`` ` ``)".to_owned()
                } else {
                    format!("`{first}`")
                };
                let m = Mistake::new(Code::NeedsQuotes, line, at as u32 + 1,
                    format!("text starting with {shown} needs quotes: YAML gives {shown} a meaning of its own at the start of a value"),
                )
                .help(format!("put the text of `{key}` in quotes"));
                return match quote_value(text) {
                    Some(fixed) => m.fix(fixed),
                    None => m,
                };
            }
        }
    }
    if message.starts_with("unclosed quote")
        || message.contains("unexpected end of stream") && message.contains("quoted")
    {
        let quote = text
            .get((column as usize).saturating_sub(1)..)
            .and_then(|t| t.chars().next());
        let q = match quote {
            Some('\'') => "'",
            _ => "\"",
        };
        return Mistake::new(
            Code::UnclosedQuote,
            line,
            column,
            format!("this quoted text has no closing `{q}`"),
        )
        .help(format!(
            "end the text with `{q}` on the same line (a `{q}` inside it is written `{}`)",
            if q == "'" { "''" } else { "\\\"" }
        ));
    }
    if message.starts_with("multiple YAML documents") {
        // The parser stops after the second document's first line; the `---` is above it.
        let dashes = source
            .lines()
            .enumerate()
            .take(line as usize)
            .filter(|(_, l)| l.trim_end() == "---")
            .last()
            .map_or(line, |(i, _)| i as u32 + 1);
        return Mistake::new(
            Code::YamlSyntax,
            dashes,
            1,
            "a file holds one flow, and `---` starts a second one here",
        )
        .help("put each flow in a file of its own, named after its `flow:` id");
    }
    if message.contains("trailing content after") && message.contains("quoted") {
        if let Some(m) = quote_ends_early(text, column, line) {
            return m;
        }
    }
    if let Some(m) = dash_without_space(source, line) {
        return m;
    }
    if let Some(m) = unclosed_bracket(source, line) {
        return m;
    }
    if let Some(m) = indentation(source, line, column, message) {
        return m;
    }
    Mistake::new(Code::YamlSyntax, line, column, message.to_owned())
}

/// `'Let's go'` or `"Thank you" is where…`: the quote inside the text ends it early, and
/// YAML finds more after the closing quote.
fn quote_ends_early(text: &str, column: u32, line: u32) -> Option<Mistake> {
    let (at, key) = key_and_value(text)?;
    let value = text[at..].trim_end();
    let q = value.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    // The whole value, quoted the other way, or with the inner quotes doubled/escaped.
    let inner = value
        .strip_prefix(q)
        .map(|v| v.strip_suffix(q).unwrap_or(v))?;
    let fixed = if q == '\'' {
        double_quoted(inner)
    } else {
        format!("'{}'", inner.replace('\'', "''"))
    };
    let m = Mistake::new(
        Code::UnclosedQuote,
        line,
        column,
        format!("the text of `{key}` is in `{q}` quotes and has a `{q}` inside, which ends it early"),
    )
    .help(if q == '\'' {
        "use double quotes around a text that has an apostrophe, or write the apostrophe twice (`''`)"
    } else {
        "use single quotes around a text that has double quotes in it, or write them as `\\\"`"
    });
    Some(m.fix(format!("{}{fixed}", &text[..at])))
}

/// `-id: x`: a `-` starts a list item only with a space after it.
fn dash_without_space(source: &str, line: u32) -> Option<Mistake> {
    let lines: Vec<&str> = source.lines().collect();
    let from = (line as usize).saturating_sub(2);
    let (i, text) = lines.iter().enumerate().skip(from).take(3).find(|(_, l)| {
        let t = l.trim_start();
        t.starts_with('-') && t[1..].starts_with(|c: char| c.is_ascii_alphabetic())
    })?;
    let indent = indent_of(text);
    let fixed = format!("{}- {}", &text[..indent], &text[indent + 1..]);
    Some(
        Mistake::new(
            Code::Indentation,
            i as u32 + 1,
            indent as u32 + 1,
            "a `-` starts a new item of a list only with a space after it",
        )
        .help("put a space after the `-`")
        .fix(fixed),
    )
}

/// A `[` or `{` opened at the start of a value and not closed on its line: YAML reads on,
/// looking for the `]` or `}`, and stops somewhere below. Most are text meant literally.
fn unclosed_bracket(source: &str, line: u32) -> Option<Mistake> {
    let lines: Vec<&str> = source.lines().collect();
    let upto = (line as usize).min(lines.len());
    let (i, text, at, key) =
        lines[..upto]
            .iter()
            .enumerate()
            .rev()
            .take(20)
            .find_map(|(i, l)| {
                let (at, key) = key_and_value(l)?;
                let value = l[at..].trim_end();
                let open = value.chars().next().filter(|c| matches!(c, '[' | '{'))?;
                let close = if open == '[' { ']' } else { '}' };
                let depth = value.chars().fold(0i32, |d, c| {
                    d + i32::from(c == open) - i32::from(c == close)
                });
                (depth > 0).then_some((i, *l, at, key))
            })?;
    let first = text[at..].chars().next().unwrap_or('[');
    let (what, close) = if first == '[' {
        ("list", ']')
    } else {
        ("map", '}')
    };
    let m = Mistake::new(
        Code::NeedsQuotes,
        i as u32 + 1,
        at as u32 + 1,
        format!("this `{first}` starts a {what} that is never closed with `{close}`"),
    )
    .help(format!("if the value of `{key}` is text, put it in quotes"));
    let value = text[at..].trim_end();
    if value.contains(", ") {
        // `tags: [weekly, needs`: a list that lost its end.
        let m = m.help(format!("end the {what} with `{close}`"));
        return Some(m.fix(format!("{}{close}", text.trim_end())));
    }
    Some(match quote_value(text) {
        Some(fixed) => m.fix(fixed),
        None => m,
    })
}

/// serde-saphyr's budget messages name its internals; say what they mean.
fn budget(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("budget breached") {
        let what = rest
            .trim_start_matches(": ")
            .split([' ', '{'])
            .next()
            .unwrap_or("");
        return Some(match what {
            "Aliases" | "AliasExpansion" | "Anchors" | "ReplayedEvents" | "RecordedAnchorEvents"
            | "RecordedAnchorBytes" | "AliasAnchorRatio" => "the YAML expands too far: its aliases (`*name`) repeat more values than a flow ever needs".to_owned(),
            "Nodes" | "Events" => "the YAML holds more values than a flow file can (about two million); its aliases (`*name`) may repeat too much".to_owned(),
            "Depth" => "the YAML is nested too deeply; a flow needs only a few levels".to_owned(),
            w if w.to_lowercase().contains("alias") => "the YAML expands too far: its aliases (`*name`) repeat more values than a flow ever needs".to_owned(),
            _ => "the YAML is too large to read safely (too many values, aliases or levels)".to_owned(),
        });
    }
    message
        .starts_with("recursion limit exceeded")
        .then(|| "the YAML is nested too deeply; a flow needs only a few levels".to_owned())
}

/// A tab in the indentation, at or after the line the parser stopped on.
fn tab(source: &str, from: u32) -> Option<Mistake> {
    let lines: Vec<&str> = source.lines().collect();
    let start = (from as usize).saturating_sub(1);
    let (i, text) = lines
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l[..l.len() - l.trim_start_matches([' ', '\t']).len()].contains('\t'))?;
    let tab_at = text.find('\t').unwrap_or(0);
    let content = text.trim_start_matches([' ', '\t']);
    // Most tabs were meant to line the line up with the one above.
    let above = lines[..i]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let width = above.map_or(0, |l| content_column(l));
    let fixed = format!("{}{content}", " ".repeat(width));
    Some(
        Mistake::new(
            Code::Tab,
            i as u32 + 1,
            tab_at as u32 + 1,
            "use spaces, not tabs, to indent: YAML does not allow tabs here",
        )
        .help("most editors can turn a tab into spaces (\"indent using spaces\")")
        .fix(fixed),
    )
}

/// Where a line can start so that it belongs to a block above it: the columns (0-based) of
/// the keys and `- ` of the lines above, each with its line, nearest first.
fn open_columns(source: &str, line: u32) -> Vec<(usize, u32, String)> {
    let mut columns: Vec<(usize, u32, String)> = Vec::new();
    let mut limit = usize::MAX;
    for (i, text) in source
        .lines()
        .enumerate()
        .take((line as usize).saturating_sub(1))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = indent_of(text);
        if indent >= limit {
            continue;
        }
        // A `- key: value` line opens both the list (its dash) and the map (its key).
        let content = content_column(text);
        let key = text[content..]
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if content > indent && content < limit {
            columns.push((content, i as u32 + 1, format!("`{key}:`")));
        }
        if trimmed.starts_with("- ") {
            columns.push((indent, i as u32 + 1, "`- `".to_owned()));
        } else if content == indent {
            columns.push((indent, i as u32 + 1, format!("`{key}:`")));
        }
        limit = indent;
        if indent == 0 {
            break;
        }
    }
    columns
}

/// A line indented too far or not far enough.
fn indentation(source: &str, line: u32, column: u32, message: &str) -> Option<Mistake> {
    let indentation_error = message.contains("did not find expected")
        || message.starts_with("mapping values are not allowed")
        || message.contains("simple key expected")
        || message.contains("block sequence entries are not allowed");
    if !indentation_error || line == 0 {
        return None;
    }
    // The offending line: the one the parser stopped on, or the first non-blank after.
    let lines: Vec<&str> = source.lines().collect();
    let (i, text) = lines
        .iter()
        .enumerate()
        .skip((line as usize).saturating_sub(1))
        .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))?;
    let n = i as u32 + 1;
    let indent = indent_of(text);
    let is_item = text.trim_start().starts_with("- ");
    let open = open_columns(source, n);
    let wanted = open
        .iter()
        .filter(|(_, _, what)| (what == "`- `") == is_item)
        .min_by_key(|(c, line, _)| (c.abs_diff(indent), u32::MAX - line))?;
    let (col, at_line, what) = wanted;
    if *col == indent {
        // The indentation is one YAML allows; the mistake is something else.
        let _ = column;
        return None;
    }
    let deeper = indent > *col;
    let fixed = format!("{}{}", " ".repeat(*col), text.trim_start());
    let message = if deeper {
        format!("this line is indented further ({indent} spaces) than anything above it allows")
    } else {
        format!("this line's indentation ({indent} spaces) does not line up with the lines above")
    };
    Some(
        Mistake::new(Code::Indentation, n, indent as u32 + 1, message)
            .help(format!(
                "line it up with {what} on line {at_line} ({col} spaces) to put it in the same {}",
                if is_item { "list" } else { "map" }
            ))
            .fix(fixed),
    )
}

/// serde-saphyr's message without its "error: line N column M: " prefix and " at line N,
/// column M" suffix: the diagnostic shows the position itself.
pub fn strip_position(message: &str) -> &str {
    let mut rest = message.strip_prefix("error: ").unwrap_or(message);
    if let Some(after_line) = rest.strip_prefix("line ") {
        if let Some(idx) = after_line.find(": ") {
            rest = &after_line[idx + 2..];
        }
    }
    match rest.rfind(" at line ") {
        Some(i) if rest[i..].contains(", column ") && !rest[i..].contains('(') => &rest[..i],
        _ => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mistakes found in `source`, as `line:column message (help) => fixed line`.
    fn mistakes(source: &str) -> Vec<String> {
        let (_, found) = read_tree(source);
        found
            .iter()
            .map(|m| {
                let help = m
                    .help
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                let fix = m
                    .fixed_line
                    .as_deref()
                    .map(|f| format!(" => {}", f.trim_start()))
                    .unwrap_or_default();
                format!("{}:{} {}{help}{fix}", m.line, m.column, m.message)
            })
            .collect()
    }

    const HEAD: &str = "flow: x\ntitle: T\nsteps:\n  - id: a\n";

    #[test]
    fn a_colon_in_unquoted_text_gets_the_quoted_line() {
        let found = mistakes(&format!("{HEAD}    prompt: Remember: are you both ready\n"));
        assert_eq!(
            found,
            [
                r#"5:21 text containing `: ` needs quotes, or YAML reads it as another `name: value` (put the text of `prompt` in quotes) => prompt: "Remember: are you both ready""#
            ]
        );
    }

    #[test]
    fn a_template_at_the_start_of_unquoted_text_gets_the_quoted_line() {
        let found = mistakes(&format!("{HEAD}    prompt: {{{{ name }}}}, what is it\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("5:13 text starting with `{` needs quotes"),
            "{found:?}"
        );
        assert!(
            found[0].ends_with(r#"=> prompt: "{{ name }}, what is it""#),
            "{found:?}"
        );
    }

    #[test]
    fn a_tab_is_found_at_its_own_line() {
        let found = mistakes(&format!("{HEAD}\tsay: hi\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("5:1 use spaces, not tabs"),
            "{found:?}"
        );
        assert!(found[0].ends_with("=> say: hi"), "{found:?}");
    }

    #[test]
    fn lines_indented_wrongly_name_the_line_to_line_up_with() {
        let under = mistakes(&format!("{HEAD}   say: hi\n"));
        assert_eq!(under.len(), 1, "{under:?}");
        assert!(
            under[0].starts_with("5:4 this line's indentation (3 spaces) does not line up"),
            "{under:?}"
        );
        assert!(
            under[0].contains("line it up with `id:` on line 4 (4 spaces)"),
            "{under:?}"
        );

        let over = mistakes(&format!("{HEAD}    say: hi\n     prompt: x\n"));
        assert_eq!(over.len(), 1, "{over:?}");
        assert!(
            over[0].starts_with("6:6 this line is indented further (5 spaces)"),
            "{over:?}"
        );
        assert!(
            over[0].contains("line it up with `say:` on line 5 (4 spaces)"),
            "{over:?}"
        );

        let item = mistakes(&format!("{HEAD}    options:\n      - Yes\n     - No\n"));
        assert_eq!(item.len(), 1, "{item:?}");
        assert!(
            item[0].contains("line it up with `- ` on line 6 (6 spaces)"),
            "{item:?}"
        );
    }

    #[test]
    fn several_mistakes_are_read_past_in_one_run() {
        let source = format!(
            "{HEAD}    prompt: Remember: this\n  - id: b\n\tsay: hi\n  - id: c\n    say: @home\n"
        );
        let (tree, found) = read_tree(&source);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found.iter().map(|m| m.line).collect::<Vec<_>>(), [5, 7, 9]);
        assert!(tree.is_some(), "the fixed text reads");
    }

    #[test]
    fn an_unclosed_quote_stops_the_reading() {
        let found = mistakes(&format!("{HEAD}    say: \"it said\n  - id: b\n"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("no closing `\"`"), "{found:?}");
    }
}
