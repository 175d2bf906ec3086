//! The loader: YAML text in, a validated [`Flow`] (or every problem found) out.
//!
//! It runs once per flow: the YAML into a tree (`tree.rs`, with `yaml_mistakes.rs` explaining
//! YAML that does not parse), the tree into the raw types (`shape.rs`, reporting every unknown
//! field and wrong type), then the passes here over the raw types. Every stage collects *all*
//! its problems and the next still runs on what could be read, so an author fixes a file in
//! one go. Templates are compiled into the library's environment here, so the engine never
//! compiles anything.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveTime};
use minijinja::{Environment, Value};
use rustc_hash::{FxHashMap, FxHashSet};

use super::analysis;
use super::diagnostic::{Code, Diagnostic, Diagnostics};
use super::model::*;
use super::raw::*;
use super::suggest::nearest;
use crate::content::ContentLibrary;

/// The largest flow file we read. Real flows are a few kilobytes; this keeps a hostile file
/// from costing more than a moment.
pub const MAX_FLOW_BYTES: u64 = 4 * 1024 * 1024;

/// Names a flow may not use for roles or variables because the engine provides them.
pub const RESERVED_NAMES: &[&str] = &[
    "today", "previous", "now", "end", "true", "false", "none", "loop",
];

/// Where a step is, for the passes that check it: its position, its label, its flow and the
/// flow's step ids (for jumps).
struct StepPlace<'a> {
    at: Pos,
    label: &'a str,
    flow_id: &'a str,
    step_index: &'a HashMap<String, usize>,
}

/// The most times `*` may repeat a quoted text or a list in a flow's template.
pub const MAX_REPETITION: u128 = 1_000;

impl StepPlace<'_> {
    /// The name a template of this step is compiled under (`FLOW/STEP/PART`).
    fn template(&self, part: &str) -> String {
        format!("{}/{}/{part}", self.flow_id, self.label)
    }
}

/// A flow that loaded, with any warnings about questionable but legal things.
#[derive(Debug)]
pub struct Loaded {
    pub flow: Flow,
    pub warnings: Vec<Diagnostic>,
}

pub use crate::yaml::options as yaml_options;

/// Turns a serde-saphyr error (from the YAML of a flow header or an answers file) into one
/// diagnostic in plain words, with the fix where there is a certain one.
pub fn yaml_error(file: &str, source: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let mut d = super::yaml_mistakes::explain(source, err).diagnostic(file, source);
    // serde names the offending field or variant between backticks; offer the nearest known one.
    let message = d.message.clone();
    let unknown = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(name) = unknown("unknown field `").or_else(|| unknown("unknown variant `")) {
        if let Some(list) = message.split("expected one of ").nth(1) {
            let expected: Vec<&str> = list.split(", ").map(|s| s.trim_matches('`')).collect();
            d = d.suggest(nearest(&name, expected.iter().copied()));
        }
    }
    d
}

/// Reads a flow's text into the raw types: the YAML tree, then its shape. Every YAML
/// mistake that can be read past and every shape problem is in the diagnostics; the raw
/// flow is there whenever the YAML could be read at all, for the semantic checks.
pub fn read_raw(file: &str, source: &str) -> (Option<RawFlow>, Diagnostics) {
    let (tree, mistakes) = super::yaml_mistakes::read_tree(source);
    let mut diags = Diagnostics(
        mistakes
            .iter()
            .map(|m| m.diagnostic(file, source))
            .collect(),
    );
    let Some((tree, read)) = tree else {
        return (None, diags);
    };
    let (raw, problems) = super::shape::shape::<RawFlow>(&tree, &read);
    drop(tree);
    for p in problems {
        let mut d = Diagnostic::new(p.code, file, p.message).at(source, p.at.line, p.at.column);
        if let Some(h) = p.help {
            d = d.with_help(h);
        }
        diags.push(d.suggest(p.suggestion));
    }
    (raw, diags)
}

/// Checks text read from a file before it reaches the YAML parser: size and UTF-8.
pub fn decode_source(file: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    if bytes.len() as u64 > MAX_FLOW_BYTES {
        return Err(too_big(file, bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = String::from_utf8_lossy(&e.as_bytes()[..at]);
        let line = before.matches('\n').count() as u32 + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
        // The snippet shows the line with the bad bytes as `�`.
        let shown = String::from_utf8_lossy(e.as_bytes());
        Diagnostic::new(
            Code::File,
            file,
            "the file is not saved as UTF-8 text: a character here cannot be read",
        )
        .at(&shown, line, column)
        .to_column(column + 1)
        .with_help("save the file as UTF-8 (most editors offer it under \"Save with encoding\")")
    })
}

/// A file over [`MAX_FLOW_BYTES`], in words.
pub fn too_big(file: &str, bytes: u64) -> Diagnostic {
    let mib = |n: u64| n as f64 / (1024.0 * 1024.0);
    Diagnostic::new(
        Code::File,
        file,
        format!(
            "the file is {:.1} MiB; a flow file may be at most {:.0} MiB",
            mib(bytes),
            mib(MAX_FLOW_BYTES)
        ),
    )
    .with_help("a flow that long is better split into flows that `call:` each other")
}

/// A file that cannot be opened, in words.
pub fn unreadable(file: &str, what: &str, e: &std::io::Error) -> Diagnostic {
    let (message, help) = match e.kind() {
        std::io::ErrorKind::NotFound => (
            format!("there is no file `{file}`"),
            "check the name and the folder; `trustguide list` shows the flows it finds",
        ),
        std::io::ErrorKind::PermissionDenied => (
            format!("trustguide may not read `{file}` (permission denied)"),
            "check the file's permissions",
        ),
        _ => (
            format!("cannot read {what}: {e}"),
            "check that the file is there and can be read",
        ),
    };
    Diagnostic::new(Code::File, file, message).with_help(help)
}

/// Loads one flow from its text, registering its templates in `env`.
///
/// On success the flow is fully checked except for `call` targets, which the library resolves
/// once it knows every flow.
pub fn load_flow(
    source: &str,
    origin: Origin,
    env: &mut Environment<'static>,
    keep_compiled: bool,
    content: &ContentLibrary,
) -> Result<Loaded, Diagnostics> {
    let file = origin.display_name();
    let (raw, diags) = read_raw(&file, source);
    let Some(raw) = raw else {
        return Err(diags);
    };
    // A value that could not be read is reported once: the checks after it may find the
    // stand-in empty (a `steps:` that is not a list has "no steps"), at the same place.
    let read_places: HashSet<(u32, u32)> = diags.0.iter().map(|d| (d.line, d.column)).collect();
    let read_count = diags.0.len();
    let mut checker = Checker {
        file,
        source,
        keep_compiled,
        content,
        diags,
        known: FxHashSet::default(),
        option_values: FxHashSet::default(),
        uses: Vec::new(),
        texts: Vec::new(),
        step: 0,
        later: Vec::new(),
        unresolved_jumps: false,
        line_starts: std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
    };
    let flow = checker.flow(raw, origin, env);
    let mut n = 0;
    checker.diags.0.retain(|d| {
        n += 1;
        n <= read_count || !read_places.contains(&(d.line, d.column))
    });
    // In file order, whichever part of the checks (or thread) found them.
    checker.diags.0.sort_by_key(|d| (d.line, d.column));
    if checker.diags.has_errors() {
        Err(checker.diags)
    } else {
        Ok(Loaded {
            flow,
            warnings: checker.diags.0,
        })
    }
}

struct Checker<'s> {
    file: String,
    source: &'s str,
    /// Keep each compiled expression in the flow for the engine (not when only checking).
    keep_compiled: bool,
    /// Where includes are found, for messages about one that is not.
    content: &'s ContentLibrary,
    diags: Diagnostics,
    /// The values of every option of the flow's choices, for "did you mean the text".
    option_values: FxHashSet<String>,
    /// Every name a template or expression of this flow may use.
    known: FxHashSet<String>,
    /// The variables each step uses, in step order, for the check that they have a value.
    uses: Vec<Use>,
    /// The texts those uses are in: their positions are worked out only for a warning.
    texts: Vec<Sp<String>>,
    /// The index of the step being checked.
    step: usize,
    /// Templates that need compiling into the environment, which the step checks only read:
    /// (step, template name, text), compiled after the steps. See [`Checker::compile_later`].
    later: Vec<(usize, String, Sp<String>)>,
    /// A `goto` named a step that does not exist.
    unresolved_jumps: bool,
    /// Where each line of the source starts, for positions inside templates.
    line_starts: Vec<usize>,
}

/// A variable used in a step's text or expressions.
struct Use {
    name: String,
    step: usize,
    /// Index into `Checker::texts`.
    text: usize,
    in_expr: bool,
    /// Used in `set`, `next`, `safety` or `record`, which run after the step's answer is in.
    after_answer: bool,
}

fn is_snake_case(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Whether `s` can be a flow's id: lowercase letters, digits, `_` and `-`, starting with a
/// letter (it is also the file's name).
pub fn is_flow_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

/// `Rounds Done` as `rounds_done`: the name a snake_case rule wants, when there is one.
fn snake_case_of(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.trim().chars() {
        match c {
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            'a'..='z' | '0'..='9' | '_' => out.push(c),
            ' ' | '-' | '.' if !out.ends_with('_') => out.push('_'),
            _ => {}
        }
    }
    let out = out.trim_matches('_').to_owned();
    (is_snake_case(&out) && out != s).then_some(out)
}

fn has_template_syntax(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

impl<'s> Checker<'s> {
    /// The text of 1-based line `n`, without its line break ("" past the end).
    fn line_text(&self, n: usize) -> &str {
        let Some(&start) = n.checked_sub(1).and_then(|i| self.line_starts.get(i)) else {
            return "";
        };
        let end = self.line_starts.get(n).map_or(self.source.len(), |e| e - 1);
        self.source
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches('\r')
    }
    fn error(&mut self, code: Code, loc: Pos, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(code, &self.file, message).at(
            self.source,
            loc.line() as u32,
            loc.column() as u32,
        );
        self.diags.push(d);
        self.diags.0.last_mut().expect("just pushed")
    }
    /// A field that must be there: its value, or an error at `at` (where its map starts)
    /// saying what is missing (or that it is empty, when the line is there with nothing
    /// after it), and an empty stand-in so the other checks can go on.
    fn required(
        &mut self,
        field: &Option<Sp<String>>,
        at: Pos,
        name: &str,
        of: &str,
    ) -> Sp<String> {
        match field {
            Some(f) => f.clone(),
            None => {
                match self.key_at(at, name) {
                    Some(key) => {
                        self.error(Code::Empty, key, format!("`{name}` of {of} is empty"));
                    }
                    None => {
                        self.error(Code::MissingField, at, format!("{of} has no `{name}:`"));
                    }
                }
                Sp::new(String::new(), at)
            }
        }
    }

    /// Where `key:` is written in the map that starts at `at` (its first key), if it is.
    fn key_at(&self, at: Pos, key: &str) -> Option<Pos> {
        let indent = (at.column() as usize).saturating_sub(1);
        let first = at.line() as usize;
        for n in first..(first + 400).min(self.line_starts.len() + 1) {
            let text = self.line_text(n);
            let trimmed = text.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let own = text.len() - trimmed.len();
            // The map's first line may start with `- `.
            let (own, trimmed) = match trimmed.strip_prefix("- ") {
                Some(rest) if n == first => (own + 2, rest),
                _ => (own, trimmed),
            };
            if n > first && own < indent {
                return None; // past the end of the map
            }
            if own == indent
                && trimmed
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with(':'))
            {
                return Some(Pos::new(n as u32, own as u32 + 1));
            }
        }
        None
    }

    /// Where field `key` of the step at `at` is written, or the step's start.
    fn field_at(&self, at: Pos, key: &str) -> Pos {
        self.key_at(at, key).unwrap_or(at)
    }

    /// Flows are found by file name (`trustguide run NAME`, `call: NAME`), so a file named
    /// other than its `flow:` id loads when given by path and is not found by its id.
    fn file_name_matches(&mut self, origin: &Origin, id: &Sp<String>) {
        let path = match origin {
            Origin::Path(p) | Origin::Local(p) | Origin::User(p) => p.as_path(),
            Origin::Builtin(name) => std::path::Path::new(name),
        };
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            return;
        };
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if !is_yaml || stem == id.value || !is_flow_id(&id.value) {
            return;
        }
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.warning(Code::FileName,
            id.referenced,
            format!(
                "the file is named `{file}` but its flow id is `{}`: flows are found by file name, so `trustguide run {}` and `call: {}` will not find it",
                id.value, id.value, id.value
            ),
        )
        .help = Some(format!(
            "rename the file to `{}.yaml`, or change this line to `flow: {stem}`",
            id.value
        ));
    }

    /// In an unquoted text, ` #` starts a YAML comment and the rest of the line is dropped:
    /// `say: Send your partner a #gratitude note` shows "Send your partner a". A `#` followed
    /// by a word or a number reads as part of the text, so that is a warning with the fix; a
    /// `# ` (a comment as people write one) is left alone.
    fn comment_cuts_text(&mut self, src: &Sp<String>) {
        let at = src.referenced;
        let line = self.line_text(at.line() as usize);
        let Some(value) = line.get((at.column() as usize).saturating_sub(1)..) else {
            return;
        };
        if value.starts_with(['"', '\'', '|', '>']) || !value.starts_with(src.value.as_str()) {
            return;
        }
        let rest = &value[src.value.len()..];
        let Some(hash) = rest.find(" #").map(|i| i + 1) else {
            return;
        };
        if !rest[hash + 1..].starts_with(|c: char| c.is_alphanumeric()) {
            return;
        }
        let column =
            at.column() as u32 + (src.value.chars().count() + rest[..hash].chars().count()) as u32;
        let whole = format!("{}{}", src.value, rest.trim_end());
        let key = line[..(at.column() as usize).saturating_sub(1)].to_owned();
        let quoted = format!("{key}\"{}\"", whole.replace('"', "\\\""));
        let d = Diagnostic::new(
            Code::CommentCutsText,
            &self.file,
            format!(
                "` #` starts a comment here, so the text ends at `{}` and `{}` is dropped",
                src.value,
                rest[hash..].trim_end()
            ),
        )
        .at(self.source, at.line() as u32, column)
        .with_help(format!("put the whole text in quotes: {}", quoted.trim()));
        self.diags.push(d);
    }
    fn warning(&mut self, code: Code, loc: Pos, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(code, &self.file, message).at(
            self.source,
            loc.line() as u32,
            loc.column() as u32,
        );
        self.diags.push(d);
        self.diags.0.last_mut().expect("just pushed")
    }

    fn flow(&mut self, raw: RawFlow, origin: Origin, env: &mut Environment<'static>) -> Flow {
        let top = Pos::new(1, 1);
        let flow_id = match raw.flow {
            Some(id) => {
                if !is_flow_id(&id.value) {
                    self.error(Code::BadName,
                        id.referenced,
                        format!("flow id `{}` must be lowercase letters, digits, `-` and `_`, starting with a letter", id.value),
                    );
                }
                self.file_name_matches(&origin, &id);
                id
            }
            None => {
                self.error(Code::MissingField, top, "the flow has no `flow:` id")
                    .help = Some(
                    "add a first line `flow: NAME`, with the file's name without `.yaml`"
                        .to_owned(),
                );
                Sp::new(String::new(), top)
            }
        };
        let id = flow_id.value.clone();
        let title = match raw.title {
            Some(title) => {
                if title.value.trim().is_empty() {
                    self.error(Code::Empty, title.referenced, "the title is empty");
                }
                title.value
            }
            None if self.key_at(top, "title").is_some() => {
                let at = self.key_at(top, "title").unwrap_or(top);
                self.error(Code::Empty, at, "the title is empty").help = Some(
                    "write the name people see in `trustguide list` after `title:`".to_owned(),
                );
                String::new()
            }
            None => {
                self.error(Code::MissingField, top, "the flow has no `title:`")
                    .help = Some(
                    "add a line `title: …` with the name people see in `trustguide list`"
                        .to_owned(),
                );
                String::new()
            }
        };
        let raw_steps = match raw.steps {
            Some(steps) => {
                if steps.value.is_empty() {
                    self.error(Code::Empty, steps.referenced, "the flow has no steps");
                }
                steps.value
            }
            None => {
                self.error(Code::MissingField, top, "the flow has no `steps:`")
                    .help =
                    Some("add `steps:` and under it the steps, each starting with `- `".to_owned());
                Vec::new()
            }
        };

        // Roles are variables too (`{{ speaker }}` is the speaker's name).
        let mut participants = Vec::new();
        for role in &raw.participants {
            let name = role.value.clone();
            if !is_snake_case(&name) {
                self.error(
                    Code::BadName,
                    role.referenced,
                    format!("role `{name}` must be snake_case: lowercase letters, digits and `_`"),
                );
            } else if name == "both" || RESERVED_NAMES.contains(&name.as_str()) {
                self.error(
                    Code::ReservedName,
                    role.referenced,
                    format!("`{name}` is reserved and cannot be a role"),
                );
            } else if participants.contains(&name) {
                self.error(
                    Code::DuplicateName,
                    role.referenced,
                    format!("role `{name}` is listed twice"),
                );
            }
            participants.push(name);
        }

        for step in &raw_steps {
            for o in step.value.options.iter().flat_map(|o| &o.value) {
                match &o.value {
                    RawOption::Label(l) => {
                        self.option_values.insert(l.clone());
                    }
                    RawOption::Full(f) => {
                        let value = f.value.as_ref().and_then(|v| v.as_str().map(str::to_owned));
                        if let Some(v) = value.or_else(|| f.label.as_ref().map(|l| l.value.clone()))
                        {
                            self.option_values.insert(v);
                        }
                    }
                    RawOption::Invalid(_) => {}
                }
            }
        }

        // Pass 1: step ids, so jumps anywhere in the file can be resolved.
        let mut step_index = HashMap::with_capacity(raw_steps.len());
        for (i, step) in raw_steps.iter().enumerate() {
            if let Some(sid) = &step.value.id {
                let name = &sid.value;
                if !is_snake_case(name) {
                    let d = self.error(Code::BadName,
                        sid.referenced,
                        format!("step id `{name}` must be snake_case: lowercase letters, digits and `_`, not starting with a digit"),
                    );
                    d.set_suggestion(snake_case_of(name).as_deref());
                } else if name == "end" || RESERVED_NAMES.contains(&name.as_str()) {
                    self.error(
                        Code::ReservedName,
                        sid.referenced,
                        format!("`{name}` is reserved and cannot be a step id"),
                    );
                } else if participants.contains(name) {
                    self.error(Code::DuplicateName,
                        sid.referenced,
                        format!("step id `{name}` is also a role; the answer would hide the participant's name"),
                    );
                }
                if let Some(first) = step_index.insert(name.clone(), i) {
                    // Keep the first: jumps go to it.
                    step_index.insert(name.clone(), first);
                    let first_at = raw_steps[first].value.id.as_ref().map(|f| f.referenced);
                    let d = self
                        .error(
                            Code::DuplicateName,
                            sid.referenced,
                            format!("duplicate step id `{name}`"),
                        )
                        .clone()
                        .with_help("give each step its own id");
                    let d = match first_at {
                        Some(at) => d.label(
                            self.source,
                            at.line() as u32,
                            at.column() as u32,
                            "first used here",
                        ),
                        None => d,
                    };
                    self.diags.0.pop();
                    self.diags.push(d);
                }
            }
        }

        let mut vars = Vec::new();
        for (name, value) in raw.vars {
            if !is_snake_case(&name.value) {
                let d = self.error(
                    Code::BadName,
                    name.referenced,
                    format!(
                        "variable `{}` must be snake_case: lowercase letters, digits and `_`",
                        name.value
                    ),
                );
                d.set_suggestion(snake_case_of(&name.value).as_deref());
            }
            vars.push((name.value, value));
        }
        // A variable is looked up before an answer: one named like an asking step would hide
        // that step's answer for good.
        for step in &raw_steps {
            if let (Some(sid), Some(_)) = (&step.value.id, &step.value.ask) {
                if vars.iter().any(|(n, _)| *n == sid.value) {
                    self.error(Code::DuplicateName,
                        sid.referenced,
                        format!("step `{}` has the same name as a variable under `vars:`, which would hide its answer; rename one of them", sid.value),
                    );
                }
            }
        }
        let calls_flows = raw_steps.iter().any(|s| s.value.call.is_some());

        // The names templates and expressions may use: roles, `vars`, answers, `set`
        // targets, called flows' results, `today`, and the template functions.
        let mut always: FxHashSet<String> = participants.iter().cloned().collect();
        always.extend(vars.iter().map(|(n, _)| n.clone()));
        always.insert("today".to_owned());
        always.insert("previous".to_owned());
        always.extend(env.globals().map(|(n, _)| n.to_owned()));
        let gives: Vec<Vec<String>> = raw_steps.iter().map(|s| gives(&s.value)).collect();
        let mut known = always.clone();
        known.reserve(gives.len());
        known.extend(gives.iter().flatten().cloned());
        self.known = known;

        // Pass 2: each step, then the groups they form.
        let group_names: Vec<Option<Sp<String>>> =
            raw_steps.iter().map(|s| s.value.group.clone()).collect();
        let (mut steps, places) = self.steps(raw_steps, &id, &participants, &step_index, env);
        self.groups(&mut steps, &group_names);
        let uses = std::mem::take(&mut self.uses);
        self.paths(&steps, &places, &always, &gives, &uses);

        let safety = raw.safety.map(|s| self.flow_safety(s)).unwrap_or_default();
        let metrics = self.metrics(raw.metrics, &steps);
        let min_remaining = min_remaining(&steps, &|_| 1);
        let tests = raw
            .tests
            .into_iter()
            .map(|t| self.test(t, &step_index, calls_flows))
            .collect();

        Flow {
            id,
            title,
            summary: raw.summary.unwrap_or_default().trim().to_owned(),
            minutes: raw.minutes.map(|m| m.value),
            tags: raw.tags,
            participants,
            vars,
            steps,
            tests,
            origin,
            safety,
            metrics,
            step_index,
            min_remaining,
        }
    }

    /// `metrics:`: titles, ranges and which way is better, for metrics that some `record` of
    /// this flow keeps.
    fn metrics(
        &mut self,
        raw: indexmap::IndexMap<Sp<String>, Sp<RawMetric>>,
        steps: &[Step],
    ) -> Vec<Metric> {
        let recorded: Vec<&str> = steps
            .iter()
            .flat_map(|s| s.record.iter().map(|(m, _)| m.as_str()))
            .collect();
        let mut out = Vec::new();
        for (name, m) in raw {
            if !recorded.contains(&name.value.as_str()) {
                let hint = nearest(&name.value, recorded.iter().copied());
                let d = self.error(
                    Code::UndefinedName,
                    name.referenced,
                    format!(
                        "`metrics` describes `{}`, but no `record` of this flow keeps it",
                        name.value
                    ),
                );
                match hint {
                    Some(near) => d.set_suggestion(Some(near)),
                    None => {
                        d.help =
                            Some("name a metric that an ending step's `record` keeps".to_owned())
                    }
                }
                continue;
            }
            let range = match (&m.value.min, &m.value.max) {
                (Some(lo), Some(hi)) if lo.value < hi.value => Some((lo.value, hi.value)),
                (Some(lo), Some(hi)) => {
                    self.error(
                        Code::OutOfRange,
                        hi.referenced,
                        format!(
                            "metric `{}`: `max` ({}) must be above `min` ({})",
                            name.value, hi.value, lo.value
                        ),
                    );
                    None
                }
                (Some(one), None) | (None, Some(one)) => {
                    self.error(
                        Code::MissingField,
                        one.referenced,
                        format!(
                            "metric `{}`: give both `min` and `max`, or neither",
                            name.value
                        ),
                    );
                    None
                }
                (None, None) => None,
            };
            out.push(Metric {
                title: m
                    .value
                    .title
                    .as_ref()
                    .map_or_else(|| name.value.clone(), |t| t.value.trim().to_owned()),
                name: name.value,
                range,
                higher_is_better: m.value.better.map(|b| b == RawBetter::Higher),
            });
        }
        out
    }

    /// `group:`: consecutive `who: both` questions, asked one person at a time. Only the last
    /// step of a group may go elsewhere, only the first may show text or a timer, and a jump
    /// from outside may only go to the first.
    fn groups(&mut self, steps: &mut [Step], names: &[Option<Sp<String>>]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut i = 0;
        while i < steps.len() {
            let Some(name) = &names[i] else {
                i += 1;
                continue;
            };
            let first = i;
            let mut last = i;
            while last + 1 < steps.len()
                && names[last + 1]
                    .as_ref()
                    .is_some_and(|n| n.value == name.value)
            {
                last += 1;
            }
            if let Some(before) = seen.insert(name.value.as_str(), first) {
                self.error(
                    Code::Group,
                    name.referenced,
                    format!(
                        "`group: {}` is split: step `{}` is not next to the group's other steps (from `{}`)",
                        name.value, steps[first].label, steps[before].label
                    ),
                )
                .help = Some("put the steps of a group one after another".into());
            }
            let mut fine = true;
            for k in first..=last {
                let at = names[k].as_ref().map_or(name.referenced, |n| n.referenced);
                let step = &steps[k];
                let label = step.label.clone();
                let mut problem = |this: &mut Self, message: String, help: &str| {
                    this.error(Code::Group, at, message).help = Some(help.into());
                    fine = false;
                };
                if step.ask.is_none() || step.who != Who::Both {
                    problem(
                        self,
                        format!("step `{label}` is in `group: {}` but is not a `who: both` question", name.value),
                        "a group asks each person all of its questions in one turn: give each step `ask` and `who: both`, or take `group` off this one",
                    );
                    continue;
                }
                if k > first && (step.say.is_some() || step.timer.is_some() || step.call.is_some())
                {
                    problem(
                        self,
                        format!("step `{label}` shows text, a timer or another flow inside `group: {}`; only the group's first step may", name.value),
                        "move the text to the group's first step, or start a new group here",
                    );
                }
                let goes_elsewhere = !matches!(step.next, Next::FallThrough)
                    || step.end.is_some()
                    || matches!(&step.ask, Some(Ask { kind: AskKind::Choice { options }, .. }) if options.iter().any(|o| o.goto.is_some()));
                if k < last && goes_elsewhere {
                    problem(
                        self,
                        format!("step `{label}` goes elsewhere (`next`, `end` or an option's `goto`) but is not the last step of `group: {}`", name.value),
                        "only the last step of a group may go elsewhere: move the jump there, or end the group at this step",
                    );
                }
            }
            // Jumps from outside the group may only land on its first step.
            for (j, out) in analysis::successors(steps).into_iter().enumerate() {
                for target in out.into_iter().flatten() {
                    let from_inside = (first..=last).contains(&j) && target == j + 1;
                    if target > first && target <= last && !from_inside {
                        let at = names[target]
                            .as_ref()
                            .map_or(name.referenced, |n| n.referenced);
                        self.error(
                            Code::Group,
                            at,
                            format!(
                                "step `{}` jumps into the middle of `group: {}` (to `{}`)",
                                steps[j].label, name.value, steps[target].label
                            ),
                        )
                        .help = Some(format!(
                            "jump to the group's first step, `{}`",
                            steps[first].label
                        ));
                        fine = false;
                    }
                }
            }
            if fine {
                for step in &mut steps[first..=last] {
                    step.group = Some(StepGroup { first, last });
                }
            }
            i = last + 1;
        }
    }

    /// Checks the flow as a graph: steps nothing leads to, loops with no way out, and
    /// variables used where some way to the step has not given them a value yet.
    fn paths(
        &mut self,
        steps: &[Step],
        places: &[Pos],
        always: &FxHashSet<String>,
        gives: &[Vec<String>],
        uses: &[Use],
    ) {
        let succ = analysis::successors(steps);
        let reachable = analysis::reachable(&succ);
        if self.unresolved_jumps {
            // A jump to a missing step was read as "end": the graph is not what the author
            // wrote, and what it would say about reachability would only mislead.
            return;
        }
        for i in analysis::unreachable_starts(&succ, &reachable) {
            let label = &steps[i].label;
            self.error(
                Code::Unreachable,
                places[i],
                format!("step `{label}` can never be reached"),
            )
            .help = Some({
                let above = if i > 0 && steps[i - 1].end.is_some() {
                    "the step above ends the flow"
                } else {
                    "the step above always jumps elsewhere"
                };
                if steps[i].id.is_some() {
                    format!("{above} and nothing jumps to `{label}`; add a `goto: {label}` where it belongs, or remove it")
                } else {
                    format!("{above} and nothing jumps here; give this step an `id:` and add a `goto:` to it where it belongs, or remove it")
                }
            });
        }
        let can_end = analysis::can_end(&succ);
        for group in analysis::endless_loops(&succ, &reachable, &can_end) {
            // The last step of the loop is usually the one whose jump closes it.
            let (first, last) = (group[0], group[group.len() - 1]);
            let message = if first == last {
                format!("a loop with no way out: step `{}` jumps back to itself and the flow can never end", steps[last].label)
            } else {
                format!(
                    "a loop with no way out: steps `{}` to `{}` lead only to each other, so the flow can never end",
                    steps[first].label, steps[last].label
                )
            };
            self.error(Code::EndlessLoop, places[last], message).help = Some(
                "give the loop a `next` branch that leaves it, such as `- when: rounds >= 3` / `goto: wrap_up`, or an `end` step it can reach".into(),
            );
        }

        // Which answers and `set` results may be missing where they are used.
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        for u in uses {
            if !always.contains(&u.name) && self.known.contains(&u.name) {
                let next = index.len();
                index.entry(&u.name).or_insert(next);
            }
        }
        if index.is_empty() {
            return;
        }
        let tracked = index.len();
        let gives_idx: Vec<Vec<usize>> = gives
            .iter()
            .map(|g| {
                g.iter()
                    .filter_map(|n| index.get(n.as_str()).copied())
                    .collect()
            })
            .collect();
        let defined = analysis::defined_on_entry(&succ, &reachable, tracked, &gives_idx);
        // Each variable is reported once per step.
        let mut warned: FxHashSet<(usize, usize)> = FxHashSet::default();
        for u in uses {
            let i = u.step;
            if !reachable[i] {
                continue;
            }
            let Some(&v) = index.get(u.name.as_str()) else {
                continue;
            };
            let own = u.after_answer && gives_idx[i].contains(&v);
            if defined.on_entry(i, v) || own || !warned.insert((i, v)) {
                continue;
            }
            let (line, column) = self.position_of(&self.texts[u.text], &u.name, u.in_expr);
            let d = Diagnostic::new(Code::MaybeUnset,
                &self.file,
                format!(
                    "`{}` may have no value here: some ways to step `{}` do not pass the step that gives it one",
                    u.name, steps[i].label
                ),
            )
            .at(self.source, line, column);
            // A variable named like a question may not have a starting value (E0303).
            let is_answer = steps
                .iter()
                .any(|s| s.id.as_deref() == Some(u.name.as_str()) && s.ask.is_some());
            let d = d.with_help(if is_answer {
                format!(
                    "use `{}` only on steps that every way reaches through step `{}`, or show this text in a step after it",
                    u.name, u.name
                )
            } else {
                format!(
                    "give `{}` a starting value under `vars:`, or use it only after it is set",
                    u.name
                )
            });
            self.diags.push(d);
        }
    }

    /// Records the variables a compiled template or expression uses; a name this flow never
    /// defines is an error at its place in the text.
    fn note_uses(
        &mut self,
        names: HashSet<String>,
        src: &Sp<String>,
        in_expr: bool,
        after_answer: bool,
    ) {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        let text = self.texts.len();
        if names.iter().any(|n| self.known.contains(n)) {
            self.texts.push(src.clone());
        }
        for name in names {
            if self.known.contains(&name) {
                self.uses.push(Use {
                    name,
                    step: self.step,
                    text,
                    in_expr,
                    after_answer,
                });
                continue;
            }
            let (line, column) = self.position_of(src, &name, in_expr);
            let mut pool: Vec<&str> = self.known.iter().map(String::as_str).collect();
            pool.sort_unstable();
            let hint = nearest(&name, pool.iter().copied());
            let mut d = Diagnostic::new(
                Code::UndefinedName,
                &self.file,
                format!("`{name}` is not defined in this flow"),
            )
            .at(self.source, line, column);
            if in_expr && self.option_values.contains(name.as_str()) {
                // `when: topic == tone`: the option's value, meant as text.
                d.help = Some(format!(
                    "did you mean the text '{name}'? In an expression, text goes in quotes"
                ));
                d.fix = Some(Box::new(crate::flow::Fix {
                    place: d.place(),
                    replacement: format!("'{name}'"),
                }));
            } else {
                match hint {
                    Some(h) => d.set_suggestion(Some(h)),
                    None => d.help = Some(format!("a name is defined by a role in `participants`, an entry under `vars:`, a step with `id: {name}` that asks, or a `set: {{{name}: ...}}`")),
                }
            }
            self.diags.push(d);
        }
    }

    /// Each `{% include "name" %}` in a template must name content that exists and compiles.
    fn includes(&mut self, src: &Sp<String>, env: &Environment<'static>) {
        use minijinja::machinery::Token;
        let syntax = minijinja::syntax::SyntaxConfig::default();
        let tokens: Vec<_> = minijinja::machinery::tokenize(&src.value, false, syntax)
            .map_while(Result::ok)
            .collect();
        for w in tokens.windows(3) {
            let (Token::BlockStart, Token::Ident("include")) = (&w[0].0, &w[1].0) else {
                continue;
            };
            let name = match &w[2].0 {
                Token::Str(s) => s.to_string(),
                Token::String(s) => s.to_string(),
                _ => continue, // a name computed at run time cannot be checked here
            };
            let span = w[2].1;
            let ignore_missing = tokens
                .iter()
                .skip_while(|(_, sp)| sp.start_offset <= span.start_offset)
                .take_while(|(t, _)| !matches!(t, Token::BlockEnd))
                .any(|(t, _)| matches!(t, Token::Ident("ignore")));
            let problem = match env.get_template(&name) {
                Ok(_) => continue,
                Err(e) if e.kind() == minijinja::ErrorKind::TemplateNotFound => {
                    if ignore_missing {
                        continue;
                    }
                    format!("`include \"{name}\"`: there is no content with that name")
                }
                Err(e) => format!(
                    "`include \"{name}\"`: {}",
                    e.detail()
                        .map(str::to_owned)
                        .unwrap_or_else(|| e.to_string())
                ),
            };
            let (line, column) =
                self.file_position(src, u32::from(span.start_line), u32::from(span.start_col));
            let names = self.content.names();
            let mut looked: Vec<String> = self
                .content
                .searched()
                .iter()
                .filter(|f| f.is_dir())
                .map(|f| format!("`{}`", f.display()))
                .collect();
            looked.push("the built-in cards".to_owned());
            let problem = format!("{problem} (looked in {})", looked.join(", "));
            let d = Diagnostic::new(Code::MissingInclude, &self.file, problem)
                .at(self.source, line, column)
                .suggest(nearest(&name, names.iter().map(String::as_str)));
            self.diags.push(d);
        }
    }

    /// Each filter (`| name`) and test (`is name`) used must exist: minijinja would only
    /// find out when the text is shown, in the middle of a session.
    fn filters_and_tests(&mut self, src: &Sp<String>, in_expr: bool) {
        use minijinja::machinery::Token;
        let syntax = minijinja::syntax::SyntaxConfig::default();
        let tokens: Vec<_> = minijinja::machinery::tokenize(&src.value, in_expr, syntax)
            .map_while(Result::ok)
            .collect();
        for (i, (token, _)) in tokens.iter().enumerate() {
            let (what, known): (&str, &[&str]) = match token {
                Token::Pipe => ("filter", crate::render::FILTERS),
                Token::Ident("is") => ("test", crate::render::TESTS),
                _ => continue,
            };
            // `is not name`: the name comes after `not`.
            let mut at = i + 1;
            if what == "test" && matches!(tokens.get(at), Some((Token::Ident("not"), _))) {
                at += 1;
            }
            let Some((Token::Ident(name), span)) = tokens.get(at) else {
                continue;
            };
            if known.contains(name) {
                continue;
            }
            let (line, column) =
                self.file_position(src, u32::from(span.start_line), u32::from(span.start_col));
            let d = Diagnostic::new(
                Code::UnknownFilter,
                &self.file,
                format!("there is no {what} called `{name}`"),
            )
            .at(self.source, line, column);
            let d = match nearest(name, known.iter().copied()) {
                Some(near) => d.suggest(Some(near)),
                None => d.with_help(format!(
                    "`trustguide explain {}` lists the {what}s there are",
                    Code::UnknownFilter
                )),
            };
            self.diags.push(d);
        }
    }

    /// `*` repeating a quoted text or a list more than [`MAX_REPETITION`] times would build
    /// something no screen can show, and fuel does not count the work: refused here, where it
    /// can be seen. (A count known only when the flow runs is bounded by the render guard.)
    fn repetitions(&mut self, src: &Sp<String>, in_expr: bool) {
        use minijinja::machinery::Token;
        let syntax = minijinja::syntax::SyntaxConfig::default();
        let tokens: Vec<_> = minijinja::machinery::tokenize(&src.value, in_expr, syntax)
            .map_while(Result::ok)
            .collect();
        let repeated = |t: &Token<'_>| {
            matches!(
                t,
                Token::Str(_) | Token::String(_) | Token::BracketOpen | Token::BracketClose
            )
        };
        let count = |t: &Token<'_>| match t {
            Token::Int(n) => Some(u128::from(*n)),
            Token::Int128(n) => Some(**n),
            _ => None,
        };
        for (i, (token, span)) in tokens.iter().enumerate() {
            if !matches!(token, Token::Mul) || i == 0 {
                continue;
            }
            let (Some((before, _)), Some((after, _))) = (tokens.get(i - 1), tokens.get(i + 1))
            else {
                continue;
            };
            let n = match (count(before), count(after)) {
                (Some(n), _) if repeated(after) => n,
                (_, Some(n)) if repeated(before) => n,
                _ => continue,
            };
            if n <= MAX_REPETITION {
                continue;
            }
            let (line, column) =
                self.file_position(src, u32::from(span.start_line), u32::from(span.start_col));
            self.diags.push(
                Diagnostic::new(
                    Code::HugeRepetition,
                    &self.file,
                    format!("`*` repeats this {n} times; a text or list may be repeated at most {MAX_REPETITION} times"),
                )
                .at(self.source, line, column)
                .with_help(
                    "repeat it fewer times (a line of dashes is `'-' * 40`), or loop over the answers themselves with `{% for item in list %}`",
                ),
            );
        }
    }

    /// Where `name` first appears in a template or expression, as a position in the file.
    fn position_of(&self, src: &Sp<String>, name: &str, in_expr: bool) -> (u32, u32) {
        let syntax = minijinja::syntax::SyntaxConfig::default();
        let found = minijinja::machinery::tokenize(&src.value, in_expr, syntax)
            .map_while(Result::ok)
            .find(|(t, _)| matches!(t, minijinja::machinery::Token::Ident(n) if *n == name))
            .map(|(_, span)| (u32::from(span.start_line), u32::from(span.start_col)));
        match found {
            Some((line, col)) => self.file_position(src, line, col),
            None => (src.referenced.line() as u32, src.referenced.column() as u32),
        }
    }

    /// A position inside a scalar's text (1-based line, 0-based column) as a position in the
    /// file.
    fn file_position(&self, src: &Sp<String>, inner_line: u32, inner_col: u32) -> (u32, u32) {
        let mut offset = 0;
        for (i, line) in src.value.split_inclusive('\n').enumerate() {
            if i + 1 == inner_line.max(1) as usize {
                offset += line
                    .char_indices()
                    .nth(inner_col as usize)
                    .map_or(line.len(), |(b, _)| b);
                break;
            }
            offset += line.len();
        }
        self.locate(src, offset)
    }

    /// Where byte `offset` of a scalar's text is in the file. The text YAML hands over is not
    /// the file's: a folded (`>`) or plain text over several lines is joined into one, and
    /// `\"` or `''` become one character. So the word at the offset is looked for in the
    /// scalar's own lines (the same occurrence of it, counting from the start), which finds it
    /// whatever the style.
    fn locate(&self, src: &Sp<String>, offset: usize) -> (u32, u32) {
        let at = src.referenced;
        let fallback = (at.line() as u32, at.column() as u32);
        let text = &src.value;
        let Some(rest) = text.get(offset..) else {
            return fallback;
        };
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        let token: String = match rest.chars().next() {
            Some(c) if is_word(c) => rest.chars().take_while(|c| is_word(*c)).collect(),
            Some(c) => c.to_string(),
            None => return fallback,
        };
        let word = token.chars().all(is_word);
        let occurrences = |hay: &str| -> Vec<usize> {
            hay.match_indices(token.as_str())
                .map(|(i, _)| i)
                .filter(|&i| {
                    !word
                        || (!hay[..i].ends_with(is_word)
                            && !hay[i + token.len()..].starts_with(is_word))
                })
                .collect()
        };
        let nth = occurrences(&text[..offset + token.len()])
            .len()
            .saturating_sub(1);
        // The scalar's lines: from its start until a line no deeper than the field's key.
        let first = at.line() as usize;
        let key_indent = {
            let l = self.line_text(first);
            let own = l.len() - l.trim_start().len();
            if (at.column() as usize).saturating_sub(1) <= own {
                // A block text's first line: its key is above, less indented.
                own.saturating_sub(1)
            } else {
                own + if l.trim_start().starts_with("- ") {
                    2
                } else {
                    0
                }
            }
        };
        let mut seen = 0;
        for n in first..(first + 2000).min(self.line_starts.len() + 1) {
            let line = self.line_text(n);
            if n > first
                && !line.trim().is_empty()
                && line.len() - line.trim_start().len() <= key_indent
            {
                break;
            }
            let from = if n == first {
                line.char_indices()
                    .nth((at.column() as usize).saturating_sub(1))
                    .map_or(line.len(), |(b, _)| b)
            } else {
                0
            };
            for i in occurrences(&line[from..]) {
                if seen == nth {
                    let col = line[..from + i].chars().count() as u32 + 1;
                    return (n as u32, col);
                }
                seen += 1;
            }
        }
        fallback
    }

    /// Checks and compiles a flow's additions to the safety profile.
    fn flow_safety(&mut self, raw: Sp<RawFlowSafety>) -> FlowSafety {
        let raw = raw.value;
        let global = crate::safety::builtin_category_ids();
        let mut categories = Vec::new();
        let mut lists: Vec<(String, Vec<String>)> = Vec::new();
        for (key, c) in raw.categories {
            let (id, key_at) = (key.value, key.referenced);
            if !is_snake_case(&id) {
                self.error(
                    Code::Safety,
                    key_at,
                    format!("safety category `{id}` must be snake_case"),
                );
            }
            if global.iter().any(|g| g == &id) {
                self.error(Code::Safety,
                    key_at,
                    format!("`{id}` is a global safety category; add patterns to it under `safety.patterns.{id}` instead"),
                );
                continue;
            }
            let message = self.required(
                &c.value.message,
                c.referenced,
                "message",
                &format!("safety category `{id}`"),
            );
            if c.value.message.is_some() && message.value.trim().is_empty() {
                self.error(
                    Code::Safety,
                    message.referenced,
                    format!("safety category `{id}` has an empty message"),
                );
            }
            let patterns = self.safety_patterns(&c.value.patterns);
            categories.push(FlowCategory {
                id: id.clone(),
                message: message.value.trim().to_owned(),
                stop: c.value.stop,
            });
            lists.push((id, patterns));
        }
        for (key, patterns) in raw.patterns {
            let (id, key_at) = (key.value, key.referenced);
            let known = global.iter().any(|g| g == &id) || categories.iter().any(|c| c.id == id);
            if !known {
                let mut names: Vec<&str> = global.iter().map(String::as_str).collect();
                names.extend(categories.iter().map(|c| c.id.as_str()));
                let d = self.error(Code::Safety,
                    key_at,
                    format!("`safety.patterns.{id}`: there is no safety category `{id}`; define it under `safety.categories` or use one of: {}", names.join(", ")),
                );
                d.set_suggestion(nearest(&id, names.iter().copied()));
                continue;
            }
            let patterns = self.safety_patterns(&patterns);
            match lists.iter_mut().find(|(c, _)| c == &id) {
                Some((_, list)) => list.extend(patterns),
                None => lists.push((id, patterns)),
            }
        }
        lists.retain(|(_, p)| !p.is_empty());
        let detector = if lists.is_empty() {
            None
        } else {
            crate::safety::Detector::new(lists.iter().map(|(c, p)| (c.as_str(), &p[..])), &[])
                .ok()
                .map(std::sync::Arc::new)
        };
        FlowSafety {
            categories,
            detector,
        }
    }

    /// The patterns that compile; each one that does not is an error at its line.
    fn safety_patterns(&mut self, patterns: &[Sp<String>]) -> Vec<String> {
        let mut good = Vec::new();
        for p in patterns {
            match crate::safety::detector::check_pattern(&p.value) {
                Ok(()) => good.push(p.value.clone()),
                Err(e) => {
                    self.error(Code::Safety, p.referenced, format!("safety {e}"));
                }
            }
        }
        good
    }

    fn target(&mut self, name: &Sp<String>, step_index: &HashMap<String, usize>) -> Target {
        if name.value == "end" {
            return Target::End;
        }
        match step_index.get(&name.value) {
            Some(&i) => Target::Step(i),
            None => {
                let hint = nearest(&name.value, step_index.keys().map(String::as_str));
                self.unresolved_jumps = true;
                let msg = format!("no step with id `{}` to go to", name.value);
                let d = self.error(Code::UnknownStep, name.referenced, msg);
                d.set_suggestion(hint);
                Target::End
            }
        }
    }

    /// The file position of byte `offset` inside an expression's text, for a caret at the
    /// mistake rather than at the start of the text.
    fn expression_position(&self, src: &Sp<String>, offset: usize) -> (u32, u32) {
        let before = src.value.get(..offset).unwrap_or(&src.value);
        let inner_line = before.matches('\n').count() as u32 + 1;
        let inner_col = before.rsplit('\n').next().unwrap_or("").chars().count() as u32;
        self.file_position(src, inner_line, inner_col)
    }

    /// Compiles an expression, once: the names it uses are checked against what is defined
    /// on every way to it, and the compiled form is kept in the flow for the engine.
    fn expression(&mut self, src: &Sp<String>, what: &str) -> ExprSource {
        let compiled =
            match crate::render::expressions().compile_expression_owned(src.value.clone()) {
                Ok(expr) => {
                    let names = expr.undeclared_variables(false);
                    self.note_uses(names, src, true, true);
                    self.filters_and_tests(src, true);
                    self.repetitions(src, true);
                    self.keep_compiled.then(|| std::sync::Arc::new(expr))
                }
                Err(e) => {
                    let (line, column) = match e.range() {
                        Some(range) => self.expression_position(src, range.start),
                        None => (src.referenced.line() as u32, src.referenced.column() as u32),
                    };
                    let d = Diagnostic::new(
                        Code::ExpressionSyntax,
                        &self.file,
                        format!("{what}: {}", e.detail().unwrap_or("invalid expression")),
                    )
                    .at(self.source, line, column);
                    let d = match expression_slip(&src.value) {
                        Some(help) => d.with_help(help),
                        None => d,
                    };
                    self.diags.push(d);
                    None
                }
            };
        ExprSource {
            source: src.value.clone(),
            line: src.referenced.line() as u32,
            compiled,
        }
    }

    fn template(&mut self, src: &Sp<String>, name: String) -> TemplateRef {
        self.comment_cuts_text(src);
        let text = src.value.clone();
        if !has_template_syntax(&text) {
            return TemplateRef::Literal(text.trim_end().to_owned());
        }
        if let Some(parts) = crate::render::simple_parts(&text) {
            // Plain text with `{{ name }}` holes is valid template syntax by construction and
            // is filled in without minijinja, so it is not compiled at all: a large flow then
            // costs neither the time nor the memory of thousands of compiled templates.
            let names = parts
                .iter()
                .filter_map(|p| match p {
                    crate::render::Part::Var(path) => path.first().cloned(),
                    crate::render::Part::Text(_) => None,
                })
                .collect();
            self.note_uses(names, src, false, false);
            return TemplateRef::Simple {
                name,
                parts,
                source: text,
            };
        }
        // Any other template is compiled into the environment, by name, after the steps.
        self.later.push((self.step, name.clone(), src.clone()));
        TemplateRef::Compiled(name)
    }

    /// Checks every step, then compiles the templates put aside while checking them.
    fn steps(
        &mut self,
        raw_steps: Vec<Sp<RawStep>>,
        id: &str,
        participants: &[String],
        step_index: &HashMap<String, usize>,
        env: &mut Environment<'static>,
    ) -> (Vec<Step>, Vec<Pos>) {
        let places: Vec<Pos> = raw_steps.iter().map(|s| s.referenced).collect();
        let steps = raw_steps
            .into_iter()
            .enumerate()
            .map(|(i, step)| self.step(i, step, id, participants, step_index))
            .collect();
        self.compile_later(env);
        (steps, places)
    }

    /// Compiles the templates [`Checker::template`] put aside, checking their syntax, names
    /// and includes.
    fn compile_later(&mut self, env: &mut Environment<'static>) {
        for (step, name, src) in std::mem::take(&mut self.later) {
            self.step = step;
            if let Err(e) = env.add_template_owned(name.clone(), src.value.clone()) {
                let (line, column) = match e.range() {
                    Some(range) => self.expression_position(&src, range.start),
                    None => self.file_position(&src, e.line().unwrap_or(1) as u32, 0),
                };
                let detail = e.detail().unwrap_or("invalid template");
                let (msg, help) = template_slip(detail, &src.value);
                let d = Diagnostic::new(Code::TemplateSyntax, &self.file, msg).at(
                    self.source,
                    line,
                    column,
                );
                self.diags.push(match help {
                    Some(h) => d.with_help(h),
                    None => d,
                });
            } else if let Ok(template) = env.get_template(&name) {
                let names = template.undeclared_variables(false);
                self.note_uses(names, &src, false, false);
                self.includes(&src, env);
                self.filters_and_tests(&src, false);
                self.repetitions(&src, false);
            }
        }
    }

    /// Checks one step, pass by pass: each of its parts in turn, then the combinations of
    /// parts that make no sense together. Every problem is collected; the step is built
    /// whatever was found, so later steps can still be checked against it.
    fn step(
        &mut self,
        index: usize,
        raw: Sp<RawStep>,
        flow_id: &str,
        participants: &[String],
        step_index: &HashMap<String, usize>,
    ) -> Step {
        // Uses and put-aside templates found from here on belong to this step.
        self.step = index;
        let s = raw.value;
        let id = s.id.as_ref().map(|i| i.value.clone());
        let label = id.clone().unwrap_or_else(|| format!("#{}", index + 1));
        let cx = StepPlace {
            at: raw.referenced,
            label: &label,
            flow_id,
            step_index,
        };
        let say = s.say.as_ref().map(|t| self.template(t, cx.template("say")));
        let who = self.step_who(&s, participants);
        let ask = self.step_ask(&s, &cx, id.is_some());
        let set = self.step_set(&s);
        let record = self.step_record(&s, &cx);
        let schedule = s
            .schedule
            .as_ref()
            .map(|sc| self.step_schedule(&s, sc, &cx));
        let next = self.step_next(&s, &cx);
        let call = self.step_call(&s, &cx);
        let timer = s.timer.as_ref().map(|t| {
            if t.value == 0 {
                self.error(
                    Code::OutOfRange,
                    t.referenced,
                    "`timer` must be at least 1 second",
                );
            }
            t.value
        });
        let safety = s.safety.as_ref().map(|t| {
            let when = self.required(&t.value.when, t.referenced, "when", "`safety`");
            let category = self.required(&t.value.category, t.referenced, "category", "`safety`");
            SafetyTrigger {
                when: self.expression(&when, "in `safety.when`"),
                category: category.value,
                stop: t.value.stop,
            }
        });
        self.step_marks(&s, &cx);
        Step {
            id,
            line: cx.at.line() as u32,
            label,
            say,
            ask,
            who,
            group: None,
            private: s.private,
            optional: s.optional,
            keep: s.keep,
            set,
            next,
            call,
            timer,
            safety,
            end: s.end.map(|e| match e.value {
                RawOutcome::Completed => Outcome::Completed,
                RawOutcome::Stopped => Outcome::Stopped,
            }),
            record,
            schedule,
        }
    }

    /// `who:`: a role of the flow, `both`, or (left out) whoever is at the keyboard.
    fn step_who(&mut self, s: &RawStep, participants: &[String]) -> Who {
        match &s.who {
            None => Who::Anyone,
            Some(w) if w.value == "both" => {
                if participants.len() < 2 {
                    self.error(
                        Code::Misplaced,
                        w.referenced,
                        "`who: both` needs at least two participants",
                    );
                }
                Who::Both
            }
            Some(w) => match participants.iter().position(|p| *p == w.value) {
                Some(i) => Who::Role(i),
                None => {
                    let hint = nearest(&w.value, participants.iter().map(String::as_str));
                    let msg = if participants.is_empty() {
                        format!(
                            "`who: {}` names a role, but the flow lists no `participants`",
                            w.value
                        )
                    } else {
                        format!(
                            "`who: {}` is not a role of this flow (roles: {}, or `both`)",
                            w.value,
                            participants.join(", ")
                        )
                    };
                    let d = self.error(Code::UnknownRole, w.referenced, msg);
                    d.set_suggestion(hint);
                    Who::Anyone
                }
            },
        }
    }

    /// `ask:` with its `prompt` and the fields of its kind; fields of other kinds are mistakes.
    fn step_ask(&mut self, s: &RawStep, cx: &StepPlace<'_>, has_id: bool) -> Option<Ask> {
        let label = cx.label;
        let Some(kind) = &s.ask else {
            if s.prompt.is_some() {
                self.error(
                    Code::MissingField,
                    self.field_at(cx.at, "prompt"),
                    format!("step `{label}` has a `prompt` but no `ask`"),
                )
                .help =
                    Some("add `ask: text` (or another kind), or use `say` for text to show".into());
            }
            if let Some(w) = &s.who {
                self.warning(
                    Code::NothingAsked,
                    w.referenced,
                    format!("step `{label}` has `who` but asks nothing"),
                );
            }
            self.unused_kind_fields(s, None, label);
            return None;
        };
        if !has_id {
            self.error(
                Code::MissingField,
                cx.at,
                "a step that asks needs an `id`: the answer is stored under it",
            );
        }
        let prompt = match &s.prompt {
            Some(p) => self.template(p, cx.template("prompt")),
            None => {
                self.error(
                    Code::MissingField,
                    kind.referenced,
                    format!("step `{label}` asks but has no `prompt`"),
                )
                .help = Some("add a `prompt:` line with the question to ask".to_owned());
                TemplateRef::Literal(String::new())
            }
        };
        self.unused_kind_fields(s, Some(kind.value), label);
        let kind = self.ask_kind(kind, s, label, cx.step_index);
        Some(Ask { kind, prompt })
    }

    /// `set:`: snake_case variables, each with an expression.
    fn step_set(&mut self, s: &RawStep) -> Vec<(String, ExprSource)> {
        s.set
            .iter()
            .map(|(name, expr)| {
                if !is_snake_case(&name.value) {
                    let d = self.error(
                        Code::BadName,
                        name.referenced,
                        format!("`set` variable `{}` must be snake_case: lowercase letters, digits and `_`", name.value),
                    );
                    d.set_suggestion(snake_case_of(&name.value).as_deref());
                }
                (
                    name.value.clone(),
                    self.expression(expr, &format!("in `set: {}`", name.value)),
                )
            })
            .collect()
    }

    /// `record:`: metrics, recorded when the flow ends at this step.
    fn step_record(&mut self, s: &RawStep, cx: &StepPlace<'_>) -> Vec<(String, ExprSource)> {
        let record = s
            .record
            .iter()
            .map(|(name, expr)| {
                (
                    name.clone(),
                    self.expression(expr, &format!("in `record: {name}`")),
                )
            })
            .collect();
        if !s.record.is_empty() && s.end.is_none() {
            self.error(
                Code::Misplaced,
                self.field_at(cx.at, "record"),
                format!(
                    "step `{}` has `record` but no `end`: metrics are recorded when the flow ends",
                    cx.label
                ),
            );
        }
        record
    }

    /// `schedule:`: check-ins made when the flow ends at this step.
    fn step_schedule(
        &mut self,
        s: &RawStep,
        sc: &Sp<Box<RawSchedule>>,
        cx: &StepPlace<'_>,
    ) -> Box<ScheduleSpec> {
        if s.end.is_none() {
            self.error(
                Code::Misplaced,
                sc.referenced,
                format!(
                    "step `{}` has `schedule` but no `end`: a schedule is made when the flow ends",
                    cx.label
                ),
            );
        }
        let raw = &sc.value;
        let name = match &raw.name {
            Some(n) if !is_flow_id(&n.value) => {
                self.error(
                    Code::BadName,
                    n.referenced,
                    format!(
                        "`schedule.name: {}` must be lowercase letters, digits, - and _",
                        n.value
                    ),
                );
                n.value.clone()
            }
            Some(n) => n.value.clone(),
            None => cx.flow_id.to_owned(),
        };
        if let Some(m) = &raw.minutes {
            if !(1..=1440).contains(&m.value) {
                self.error(
                    Code::OutOfRange,
                    m.referenced,
                    "`schedule.minutes` must be from 1 to 1440",
                );
            }
        }
        if let Some(r) = &raw.remind {
            if r.value > 10_080 {
                self.error(
                    Code::OutOfRange,
                    r.referenced,
                    "`schedule.remind` must be at most 10080 minutes (a week)",
                );
            }
        }
        let at = sc.referenced;
        let title = self.required(&raw.title, at, "title", "`schedule`");
        let until = self.required(&raw.until, at, "until", "`schedule`");
        Box::new(ScheduleSpec {
            name,
            title: self.template(&title, cx.template("schedule.title")),
            note: raw
                .note
                .as_ref()
                .map(|n| self.template(n, cx.template("schedule.note"))),
            times: raw
                .times
                .as_ref()
                .map(|t| self.expression(t, "in `schedule.times`")),
            every_days: raw
                .every_days
                .as_ref()
                .map(|e| self.expression(e, "in `schedule.every_days`")),
            start: raw
                .start
                .as_ref()
                .map(|e| self.expression(e, "in `schedule.start`")),
            until: self.expression(&until, "in `schedule.until`"),
            minutes: raw.minutes.as_ref().map_or(15, |m| m.value),
            remind: raw.remind.as_ref().map_or(10, |r| r.value),
        })
    }

    /// `next:`: a target, or branches whose first true `when` wins.
    fn step_next(&mut self, s: &RawStep, cx: &StepPlace<'_>) -> Next {
        let next = match &s.next {
            None => Next::FallThrough,
            Some(n) => self.next_targets(n, cx),
        };
        if s.end.is_some() && s.next.is_some() {
            self.error(
                Code::Misplaced,
                self.field_at(cx.at, "next"),
                format!(
                    "step `{}` has both `end` and `next`; an ending step goes nowhere",
                    cx.label
                ),
            );
        }
        next
    }

    fn next_targets(&mut self, n: &Sp<RawNext>, cx: &StepPlace<'_>) -> Next {
        match &n.value {
            RawNext::Invalid(found) => {
                self.error(Code::WrongType,
                    n.referenced,
                    format!("`next` should be a step id, or a list of branches, not {found}"),
                )
                .help = Some(
                    "write `next: STEP_ID`, or under `next:` one `- when: …` / `goto: …` per branch, each starting with `- `"
                        .to_owned(),
                );
                Next::FallThrough
            }
            RawNext::Goto(target) => {
                let sp = Sp::new(target.clone(), n.referenced);
                Next::Goto(self.target(&sp, cx.step_index))
            }
            RawNext::Branches(list) => {
                if list.is_empty() {
                    self.error(Code::Empty, n.referenced, "`next` is an empty list");
                }
                let mut branches = Vec::new();
                for b in list {
                    let when = b
                        .value
                        .when
                        .as_ref()
                        .map(|w| self.expression(w, "in `when`"));
                    let Some(goto) = &b.value.goto else {
                        self.error(
                            Code::MissingField,
                            b.referenced,
                            "this branch of `next` has no `goto:`",
                        )
                        .help =
                            Some("say where it goes: `goto: STEP_ID` (or `goto: end`)".to_owned());
                        continue;
                    };
                    branches.push(Branch {
                        when,
                        goto: self.target(goto, cx.step_index),
                    });
                }
                let always = branches.iter().position(|b| b.when.is_none());
                if let Some(i) = always {
                    if i + 1 < list.len() {
                        self.warning(
                            Code::BranchNeverTaken,
                            list[i + 1].referenced,
                            "this branch can never be taken: an earlier branch has no `when`",
                        );
                    }
                }
                Next::Branches(branches)
            }
        }
    }

    /// `call:`: another flow's id; a step does not both call and ask.
    fn step_call(&mut self, s: &RawStep, cx: &StepPlace<'_>) -> Option<String> {
        let call = s.call.as_ref().map(|c| {
            if !is_flow_id(&c.value) {
                self.error(
                    Code::BadName,
                    c.referenced,
                    format!("`call: {}` is not a flow id", c.value),
                );
            }
            c.value.clone()
        });
        if s.call.is_some() && s.ask.is_some() {
            self.error(
                Code::Misplaced,
                self.field_at(cx.at, "call"),
                format!(
                    "step `{}` both calls a flow and asks; split it into two steps",
                    cx.label
                ),
            );
        }
        call
    }

    /// `private`, `optional` and `keep` only mean something on a step that asks.
    fn step_marks(&mut self, s: &RawStep, cx: &StepPlace<'_>) {
        let label = cx.label;
        if s.private && s.ask.is_none() {
            self.warning(
                Code::NothingAsked,
                self.field_at(cx.at, "private"),
                format!("step `{label}` is `private` but asks nothing"),
            );
        }
        if s.optional && s.ask.is_none() {
            self.warning(
                Code::NothingAsked,
                self.field_at(cx.at, "optional"),
                format!("step `{label}` is `optional` but asks nothing"),
            );
        }
        if !s.keep && s.ask.is_none() {
            self.warning(
                Code::NothingAsked,
                self.field_at(cx.at, "keep"),
                format!("step `{label}` says `keep: false` but asks nothing"),
            );
        }
    }

    /// Fields that belong to other ask kinds are mistakes (usually a wrong `ask:`).
    fn unused_kind_fields(&mut self, s: &RawStep, kind: Option<AskKindName>, label: &str) {
        use AskKindName::*;
        let allowed: &[&str] = match kind {
            None => &[],
            Some(Text) => &["multiline", "min_length", "max_length"],
            Some(Choice) => &["options"],
            Some(Multi) => &["options", "min", "max"],
            Some(Confirm) => &["default"],
            Some(Scale) => &["min", "max", "labels"],
            Some(Number) => &["min", "max", "integer"],
            Some(Date) | Some(Time) | Some(List) => &["min", "max"],
        };
        let present: [(&str, Option<Pos>); 9] = [
            ("multiline", s.multiline.as_ref().map(|v| v.referenced)),
            ("min_length", s.min_length.as_ref().map(|v| v.referenced)),
            ("max_length", s.max_length.as_ref().map(|v| v.referenced)),
            ("options", s.options.as_ref().map(|v| v.referenced)),
            ("min", s.min.as_ref().map(|v| v.referenced)),
            ("max", s.max.as_ref().map(|v| v.referenced)),
            ("labels", s.labels.as_ref().map(|v| v.referenced)),
            ("default", s.default.as_ref().map(|v| v.referenced)),
            ("integer", s.integer.as_ref().map(|v| v.referenced)),
        ];
        for (field, loc) in present {
            if let Some(loc) = loc {
                if !allowed.contains(&field) {
                    let msg = match kind {
                        Some(k) => format!(
                            "`{field}` does not apply to `ask: {}` (step `{label}`)",
                            k.as_str()
                        ),
                        None => {
                            format!("`{field}` only applies to a step that asks (step `{label}`)")
                        }
                    };
                    self.error(Code::Misplaced, loc, msg);
                }
            }
        }
    }

    fn ask_kind(
        &mut self,
        kind: &Sp<AskKindName>,
        s: &RawStep,
        label: &str,
        step_index: &HashMap<String, usize>,
    ) -> AskKind {
        match kind.value {
            AskKindName::Text => {
                let min_length = s.min_length.as_ref().map(|v| v.value);
                let max_length = s.max_length.as_ref().map(|v| v.value);
                if let (Some(lo), Some(hi)) = (min_length, max_length) {
                    if lo > hi {
                        if let Some(v) = &s.min_length {
                            self.error(
                                Code::OutOfRange,
                                v.referenced,
                                format!("`min_length` {lo} is more than `max_length` {hi}"),
                            );
                        }
                    }
                }
                AskKind::Text {
                    multiline: s.multiline.as_ref().is_some_and(|v| v.value),
                    min_length,
                    max_length,
                }
            }
            AskKindName::Choice | AskKindName::Multi => {
                let options = self.options(kind, s, label, step_index);
                if kind.value == AskKindName::Choice {
                    return AskKind::Choice { options };
                }
                let min = self.count_bound(&s.min, "min");
                let max = self.count_bound(&s.max, "max");
                self.check_count_range(s, min, max, Some(options.len()));
                if options.iter().any(|o| o.goto.is_some()) {
                    self.error(Code::Misplaced, kind.referenced, "option `goto` only works with `ask: choice`; use `next` with `when` for `multi`");
                }
                AskKind::Multi { options, min, max }
            }
            AskKindName::Confirm => AskKind::Confirm {
                default: s.default.as_ref().map(|d| d.value),
            },
            AskKindName::Scale => {
                let min = self.int_bound(&s.min, "min").unwrap_or(0);
                let max = self.int_bound(&s.max, "max").unwrap_or(10);
                if min >= max {
                    let loc = s
                        .min
                        .as_ref()
                        .map(|v| v.referenced)
                        .unwrap_or(kind.referenced);
                    self.error(
                        Code::OutOfRange,
                        loc,
                        format!("scale `min` {min} must be less than `max` {max}"),
                    );
                }
                let mut labels = Vec::new();
                if let Some(l) = &s.labels {
                    for (key, text) in &l.value {
                        let n = &key.value;
                        if *n < min || *n > max {
                            self.error(
                                Code::OutOfRange,
                                key.referenced,
                                format!("label {n} is outside the scale {min}..{max}"),
                            );
                        }
                        labels.push((*n, text.clone()));
                    }
                }
                AskKind::Scale { min, max, labels }
            }
            AskKindName::Number => {
                let min = self.float_bound(&s.min, "min");
                let max = self.float_bound(&s.max, "max");
                self.check_order(min, max, s, kind, "is more than");
                AskKind::Number {
                    min,
                    max,
                    integer: s.integer.as_ref().is_some_and(|v| v.value),
                }
            }
            AskKindName::Date => AskKind::Date {
                min: self.date_bound(&s.min, "min"),
                max: self.date_bound(&s.max, "max"),
            },
            AskKindName::Time => {
                let min = self.time_bound(&s.min, "min");
                let max = self.time_bound(&s.max, "max");
                self.check_order(min, max, s, kind, "is later than");
                AskKind::Time { min, max }
            }
            AskKindName::List => {
                let min = self.count_bound(&s.min, "min");
                let max = self.count_bound(&s.max, "max");
                self.check_count_range(s, min, max, None);
                AskKind::List { min, max }
            }
        }
    }

    /// `min` must not be past `max`; the error points at `min`.
    fn check_order<T: PartialOrd + std::fmt::Display>(
        &mut self,
        min: Option<T>,
        max: Option<T>,
        s: &RawStep,
        kind: &Sp<AskKindName>,
        relation: &str,
    ) {
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                let loc = s.min.as_ref().map_or(kind.referenced, |v| v.referenced);
                self.error(
                    Code::OutOfRange,
                    loc,
                    format!("`min` {lo} {relation} `max` {hi}"),
                );
            }
        }
    }

    fn options(
        &mut self,
        kind: &Sp<AskKindName>,
        s: &RawStep,
        label: &str,
        step_index: &HashMap<String, usize>,
    ) -> Vec<ChoiceOption> {
        let Some(raw) = &s.options else {
            self.error(
                Code::MissingField,
                kind.referenced,
                format!("step `{label}` needs `options` to choose from"),
            );
            return Vec::new();
        };
        if raw.value.is_empty() {
            self.error(
                Code::Empty,
                raw.referenced,
                format!("step `{label}` has an empty `options` list"),
            );
        }
        let mut seen = HashSet::new();
        let mut options = Vec::new();
        for o in &raw.value {
            let option = match &o.value {
                RawOption::Label(l) => ChoiceOption {
                    label: l.clone(),
                    value: Value::from(l.as_str()),
                    goto: None,
                    safety: None,
                },
                RawOption::Full(f) => {
                    for name in &f.unknown {
                        let d = self.error(
                            Code::UnknownField,
                            name.referenced,
                            format!("`{}` is not a field of an option", name.value),
                        );
                        match nearest(&name.value, OPTION_FIELDS.iter().copied()) {
                            Some(near) => d.set_suggestion(Some(near)),
                            None => {
                                d.help = Some(
                                    "an option can have: label, value, goto, safety".to_owned(),
                                )
                            }
                        }
                    }
                    let label = self.required(&f.label, o.referenced, "label", "this option");
                    ChoiceOption {
                        value: f
                            .value
                            .clone()
                            .unwrap_or_else(|| Value::from(label.value.as_str())),
                        label: label.value,
                        goto: f.goto.as_ref().map(|g| self.target(g, step_index)),
                        safety: f.safety.as_ref().map(|c| c.value.clone()),
                    }
                }
                RawOption::Invalid(found) => {
                    self.error(
                        Code::WrongType,
                        o.referenced,
                        format!(
                            "an option should be its label, or a map with `label:`, not {found}"
                        ),
                    );
                    continue;
                }
            };
            if option.label.trim().is_empty() {
                self.error(Code::Empty, o.referenced, "an option has an empty label");
            }
            if has_template_syntax(&option.label) {
                self.error(Code::TemplatedLabel,
                    o.referenced,
                    format!(
                        "option labels are shown as written, not filled in: `{}` would show its braces",
                        option.label
                    ),
                )
                .help = Some(
                    "write the label as plain text, and name people in the prompt instead \
                     (`prompt: Who speaks first, {{ partner_a }} or {{ partner_b }}?`)"
                        .into(),
                );
            }
            if !seen.insert(option.value.to_string()) {
                self.error(
                    Code::DuplicateName,
                    o.referenced,
                    format!("two options have the value `{}`", option.value),
                );
            }
            options.push(option);
        }
        options
    }

    fn count_bound(&mut self, v: &Option<Box<Sp<Value>>>, field: &str) -> Option<usize> {
        let v = v.as_ref()?;
        match v.value.as_i64() {
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                self.error(
                    Code::WrongType,
                    v.referenced,
                    format!("`{field}` must be a whole number of items, 0 or more"),
                );
                None
            }
        }
    }

    fn check_count_range(
        &mut self,
        s: &RawStep,
        min: Option<usize>,
        max: Option<usize>,
        options: Option<usize>,
    ) {
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                if let Some(v) = &s.min {
                    self.error(
                        Code::OutOfRange,
                        v.referenced,
                        format!("`min` {lo} is more than `max` {hi}"),
                    );
                }
            }
        }
        if let (Some(lo), Some(n)) = (min, options) {
            if lo > n {
                if let Some(v) = &s.min {
                    self.error(
                        Code::OutOfRange,
                        v.referenced,
                        format!("`min` {lo} is more than the {n} options"),
                    );
                }
            }
        }
    }

    fn int_bound(&mut self, v: &Option<Box<Sp<Value>>>, field: &str) -> Option<i64> {
        let v = v.as_ref()?;
        match v.value.as_i64() {
            Some(n) => Some(n),
            None => {
                self.error(
                    Code::WrongType,
                    v.referenced,
                    format!("`{field}` must be a whole number"),
                );
                None
            }
        }
    }

    fn float_bound(&mut self, v: &Option<Box<Sp<Value>>>, field: &str) -> Option<f64> {
        let v = v.as_ref()?;
        match f64::try_from(v.value.clone()) {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                self.error(
                    Code::WrongType,
                    v.referenced,
                    format!("`{field}` must be a number"),
                );
                None
            }
        }
    }

    fn date_bound(&mut self, v: &Option<Box<Sp<Value>>>, field: &str) -> Option<DateBound> {
        let v = v.as_ref()?;
        let text = v.value.as_str().unwrap_or_default();
        match parse_date_bound(text) {
            Some(b) => Some(b),
            None => {
                self.error(
                    Code::WrongType,
                    v.referenced,
                    format!("`{field}` must be `today`, `+7d`, `-3d` or a date like 2026-01-31"),
                );
                None
            }
        }
    }

    fn time_bound(&mut self, v: &Option<Box<Sp<Value>>>, field: &str) -> Option<NaiveTime> {
        let v = v.as_ref()?;
        let text = v
            .value
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.value.to_string());
        match NaiveTime::parse_from_str(&text, "%H:%M") {
            Ok(t) => Some(t),
            Err(_) => {
                self.error(
                    Code::WrongType,
                    v.referenced,
                    format!("`{field}` must be a time like 07:30 (quote it in YAML: \"07:30\")"),
                );
                None
            }
        }
    }

    /// One `tests:` case. Steps of called flows (`flow-id/step`, or a plain id when the flow
    /// calls others) are checked when the test runs, once every flow is loaded.
    fn test(
        &mut self,
        raw: Sp<RawTest>,
        step_index: &HashMap<String, usize>,
        calls_flows: bool,
    ) -> FlowTest {
        let t = raw.value;
        let name = self.required(&t.name, raw.referenced, "name", "this test");
        let mut answers = Vec::new();
        let mut answer_at = Vec::new();
        for (key, value) in t.answers {
            let known =
                step_index.contains_key(&key.value) || key.value.contains('/') || calls_flows;
            if !known {
                let hint = nearest(&key.value, step_index.keys().map(String::as_str));
                let msg = format!(
                    "test `{}` answers step `{}`, which this flow does not have",
                    name.value, key.value
                );
                let d = self.error(Code::UnknownStep, key.referenced, msg);
                d.set_suggestion(hint);
            }
            answer_at.push((key.referenced.line() as u32, key.referenced.column() as u32));
            answers.push((key.value, value));
        }
        if let Some(end) = &t.expect.ends_at {
            let in_called_flow = calls_flows && end.value.contains('/');
            if !(step_index.contains_key(&end.value) || in_called_flow) {
                let hint = nearest(&end.value, step_index.keys().map(String::as_str));
                let d = self.error(
                    Code::UnknownStep,
                    end.referenced,
                    format!("`ends_at: {}` is not a step of this flow", end.value),
                );
                d.set_suggestion(hint);
            }
        }
        if let Some(outcome) = &t.expect.outcome {
            const OUTCOMES: [&str; 4] = ["completed", "stopped", "safety_stop", "paused"];
            if !OUTCOMES.contains(&outcome.value.as_str()) {
                let d = self.error(
                    Code::UnknownValue,
                    outcome.referenced,
                    format!("`{}` is not an outcome a test can expect", outcome.value),
                );
                match nearest(&outcome.value, OUTCOMES) {
                    Some(near) => d.set_suggestion(Some(near)),
                    None => {
                        d.help = Some(
                            "use one of `completed`, `stopped`, `safety_stop`, `paused`".to_owned(),
                        )
                    }
                }
            }
        }
        FlowTest {
            name: name.value,
            line: raw.referenced.line() as u32,
            answers,
            answer_at,
            names: t.names,
            previous: t.previous.into_iter().collect(),
            expect_outcome: t.expect.outcome.map(|o| o.value),
            expect_ends_at: t.expect.ends_at.map(|e| e.value),
            expect_vars: t
                .expect
                .vars
                .into_iter()
                .map(|(k, v)| (k.value, v))
                .collect(),
            expect_records: t.expect.records.into_iter().collect(),
            expect_shows: t.expect.shows.into_iter().map(|s| s.value).collect(),
            expect_schedule: t.expect.schedule.into_iter().collect(),
        }
    }
}

/// The variables a step gives a value: its answer, its `set` targets, a called flow's result.
fn gives(step: &RawStep) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(_), Some(id)) = (&step.ask, &step.id) {
        out.push(id.value.clone());
    }
    out.extend(step.set.keys().map(|k| k.value.clone()));
    if let Some(call) = &step.call {
        // `call: safety-check` leaves its answers under `safety_check`.
        out.push(call.value.replace('-', "_"));
    }
    out
}

/// `today`, `+7d`, `-3d`, or `YYYY-MM-DD`.
pub fn parse_date_bound(text: &str) -> Option<DateBound> {
    let text = text.trim();
    if text == "today" {
        return Some(DateBound::DaysFromToday(0));
    }
    if let Some(days) = text.strip_suffix('d') {
        if days.starts_with('+') || days.starts_with('-') {
            return days.parse::<i64>().ok().map(DateBound::DaysFromToday);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(DateBound::Fixed)
}

/// For each step, the fewest steps to show before the flow can end, preferring the ways that
/// complete it (a branch that stops early is not what "step 4 of ~12" should count towards).
/// `weight` is what each step counts for: 1, or for a step that calls another flow, 1 plus
/// that flow's own fewest steps (the library knows them once the callee is loaded).
pub(crate) fn min_remaining(steps: &[Step], weight: &dyn Fn(usize) -> u32) -> Vec<u32> {
    let n = steps.len();
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut completes = Vec::new();
    let mut ends = Vec::new();
    for (i, out) in analysis::successors(steps).into_iter().enumerate() {
        for next in out {
            match next {
                Some(j) => predecessors[j].push(i),
                None => {
                    ends.push(i);
                    if steps[i].end != Some(Outcome::Stopped) {
                        completes.push(i);
                    }
                }
            }
        }
    }
    let completing = shortest(&predecessors, &completes, weight);
    let any = shortest(&predecessors, &ends, weight);
    let worst = any
        .iter()
        .copied()
        .filter(|d| *d != u32::MAX)
        .max()
        .unwrap_or(1);
    completing
        .into_iter()
        .zip(any)
        .map(|(c, a)| {
            if c != u32::MAX {
                c
            } else if a != u32::MAX {
                a
            } else {
                worst
            }
        })
        .collect()
}

/// Weighted distances (each step counting its `weight`, itself included) to the nearest of
/// `sources`, along reversed edges (Dijkstra; the weights are at least 1).
fn shortest(
    predecessors: &[Vec<usize>],
    sources: &[usize],
    weight: &dyn Fn(usize) -> u32,
) -> Vec<u32> {
    use std::cmp::Reverse;
    let mut dist = vec![u32::MAX; predecessors.len()];
    let mut heap = std::collections::BinaryHeap::new();
    for &s in sources {
        let d = weight(s).max(1);
        if d < dist[s] {
            dist[s] = d;
            heap.push(Reverse((d, s)));
        }
    }
    while let Some(Reverse((d, i))) = heap.pop() {
        if d > dist[i] {
            continue;
        }
        for &p in &predecessors[i] {
            let through = d.saturating_add(weight(p).max(1));
            if through < dist[p] {
                dist[p] = through;
                heap.push(Reverse((through, p)));
            }
        }
    }
    dist
}

/// A hint for the slips people make in expressions, written as in other languages or as a
/// template.
/// minijinja's message for a template that does not compile, in an author's words where it
/// speaks of the parser's "blocks", with a hint.
fn template_slip(detail: &str, text: &str) -> (String, Option<&'static str>) {
    let count = |what: &str| text.matches(what).count();
    let open_if = count("{% if") + count("{%- if") > count("endif");
    let open_for = count("{% for") + count("{%- for") > count("endfor");
    let (plain, help) = if detail.starts_with("unexpected end of input") && open_if {
        (
            "`{% if %}` is not closed",
            Some("end the part it shows with `{% endif %}`"),
        )
    } else if detail.starts_with("unexpected end of input") && open_for {
        (
            "`{% for %}` is not closed",
            Some("end the part it repeats with `{% endfor %}`"),
        )
    } else if detail.ends_with("expected end of variable block") {
        (
            "`{{` is not closed with `}}`",
            Some("a name is put in as `{{ name }}`, with two braces on each side"),
        )
    } else if detail.starts_with("unexpected end of input") {
        (
            "the text ends inside `{{ }}` or `{% %}`",
            Some("close it: `}}` after a name, `%}` after `if …`"),
        )
    } else {
        return (format!("template error: {detail}"), None);
    };
    (format!("template error: {plain}"), help)
}

fn expression_slip(source: &str) -> Option<String> {
    if source.contains("{{") || source.contains("{%") {
        return Some("this is already an expression: write it without `{{ }}`".into());
    }
    if source.contains("&&") || source.contains("||") {
        return Some("write `and` and `or` instead of `&&` and `||`".into());
    }
    let bang = source
        .char_indices()
        .any(|(i, c)| c == '!' && !source[i + 1..].starts_with('='));
    if bang {
        return Some("write `not x` instead of `!x`".into());
    }
    None
}
