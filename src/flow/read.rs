//! Reading a flow file's YAML into the raw types, on more than one core when the file is big.
//!
//! Every file (or part of one) is read by the quick reader first (`quick_yaml.rs`, plain YAML
//! only), then, if it declines, by serde-saphyr, which has the last word and gives every error
//! message. Even the quick reader needs about 55 ms for a 10,000-step flow, so big files are
//! also read on all cores. Almost all of a big flow is its `steps:` list, and the items of a
//! block list are independent: the list is cut between items, each part is read by the same
//! reader with the same options on its own thread, and the parts are joined.
//!
//! The parts must mean exactly what the same text means in the whole file, so:
//! - every part is padded with blank lines, so each line and column it reports is the file's;
//! - each part ends where the next begins, so a quoted text or `[...]` that runs across a
//!   cut is unterminated in the part before it, which is an error; block texts, plain texts
//!   and nested lists end at a line as little indented as a cut, so they cannot run across;
//! - anything that could tie one part to another makes us read the whole file in one go:
//!   anchors, aliases and tags (`&a`, `*a`, `!t`), directives and document markers, a
//!   `steps:` list in `[...]` style, or a `tests:`/`safety:` key above `steps:`;
//! - any error in any part, a budget breach included (each part gets its share of the
//!   budget), means the whole file is read again in one go, so messages are always the
//!   whole file's.
//!
//! Small files (nearly all real flows) are read in one go: threads cost more than they save.

use serde::Deserialize;
use serde_saphyr::{Budget, Options};

use super::load::yaml_options;
use super::quick_yaml;
use super::raw::{RawFlow, RawFlowSafety, RawStep, RawTest, Sp};

/// Below this size a file is read in one go.
pub const PARALLEL_FROM_BYTES: usize = 128 * 1024;

/// At most this many parts, whatever the machine has.
const MAX_PARTS: usize = 4;

/// Reads `source` into the raw types. Errors are always those of reading the whole file.
pub fn read_raw(source: &str) -> Result<RawFlow, serde_saphyr::Error> {
    let parts = if source.len() < PARALLEL_FROM_BYTES {
        1
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(MAX_PARTS)
    };
    read_raw_in(source, parts)
}

/// [`read_raw`] with the number of parts given (for tests; 1 reads the file in one go).
pub fn read_raw_in(source: &str, parts: usize) -> Result<RawFlow, serde_saphyr::Error> {
    let plan = (parts > 1).then(|| Plan::new(source, parts)).flatten();
    // The quick reader first, then serde-saphyr, which has the last word on anything the
    // quick one leaves to it, and gives every error message.
    let quick = match &plan {
        Some(plan) => plan.read(source, By::Quick),
        None => quick_yaml::from_str(source).ok(),
    };
    if let Some(raw) = quick {
        return Ok(raw);
    }
    if let Some(raw) = plan.and_then(|plan| plan.read(source, By::Saphyr)) {
        return Ok(raw);
    }
    serde_saphyr::from_str_with_options(source, yaml_options())
}

/// Which reader reads the parts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum By {
    Quick,
    Saphyr,
}

impl By {
    /// Reads one part of `pieces`; `None` on any error.
    fn read<T: serde::de::DeserializeOwned>(self, text: &str, pieces: usize) -> Option<T> {
        match self {
            By::Quick => quick_yaml::from_str(text).ok(),
            By::Saphyr => serde_saphyr::from_str_with_options(text, part_options(pieces)).ok(),
        }
    }
}

/// What may follow the `steps:` list at the top level when the file is read in parts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tail {
    // The same types and defaults as in `RawFlow`, so a value means the same in both.
    #[serde(default)]
    tests: Vec<Sp<RawTest>>,
    safety: Option<Sp<RawFlowSafety>>,
}

/// Where the file is cut: the header and the first items end at `cuts[0]`; item parts run
/// from each cut to the next; the text after the list (if any) starts at `tail`.
#[derive(Debug, PartialEq)]
struct Plan {
    cuts: Vec<usize>,
    tail: usize,
}

impl Plan {
    fn new(source: &str, parts: usize) -> Option<Plan> {
        if has_cross_references(source) {
            return None;
        }
        let lines = lines_of(source);
        // The `steps:` key at the top level, with its list in block style below it.
        let key = lines.iter().position(|l| is_steps_key(l.text))?;
        if lines[..key]
            .iter()
            .any(|l| l.text.starts_with("tests:") || l.text.starts_with("safety:"))
        {
            return None;
        }
        let first = key + 1 + lines[key + 1..].iter().position(|l| !l.is_blank())?;
        let indent = item_indent(lines[first].text)?;
        let end = first
            + 1
            + lines[first + 1..]
                .iter()
                .position(|l| {
                    !l.is_blank() && l.indent() < indent.max(1) && !is_item(l.text, indent)
                })
                .unwrap_or(lines.len() - first - 1);
        let tail = lines.get(end).map_or(source.len(), |l| l.start);
        if lines.get(end).is_some_and(|l| l.indent() != 0) {
            return None;
        }
        // Cut at the first item at or after each share of the list's bytes.
        let list_start = lines[first].start;
        let share = (tail - list_start) / parts;
        let mut cuts = Vec::with_capacity(parts);
        let mut at = first + 1;
        for k in 1..parts {
            let goal = list_start + share * k;
            while at < end && (lines[at].start < goal || !is_item(lines[at].text, indent)) {
                at += 1;
            }
            if at >= end {
                break;
            }
            cuts.push(lines[at].start);
            at += 1;
        }
        if cuts.is_empty() {
            return None;
        }
        Some(Plan { cuts, tail })
    }

    /// Reads the parts on threads; `None` if any part has an error.
    fn read(&self, source: &str, by: By) -> Option<RawFlow> {
        let pieces = self.cuts.len() + 1 + usize::from(!source[self.tail..].trim().is_empty());
        let item_ranges: Vec<(usize, usize)> = self
            .cuts
            .iter()
            .zip(self.cuts.iter().skip(1).chain(std::iter::once(&self.tail)))
            .map(|(&a, &b)| (a, b))
            .collect();
        std::thread::scope(|scope| {
            let items: Vec<_> = item_ranges
                .iter()
                .map(|&(from, to)| {
                    scope.spawn(move || {
                        by.read::<Vec<Sp<RawStep>>>(&padded(source, from, to), pieces)
                    })
                })
                .collect();
            let tail = (pieces > self.cuts.len() + 1).then(|| {
                scope.spawn(move || {
                    by.read::<Tail>(&padded(source, self.tail, source.len()), pieces)
                })
            });
            let head: Option<RawFlow> = by.read(&source[..self.cuts[0]], pieces);
            let mut raw = head?;
            for part in items {
                raw.steps.value.extend(part.join().ok()??);
            }
            if let Some(tail) = tail {
                let tail = tail.join().ok()??;
                if !raw.tests.is_empty() || raw.safety.is_some() {
                    return None;
                }
                raw.tests = tail.tests;
                raw.safety = tail.safety;
            }
            Some(raw)
        })
    }
}

/// The parser options for one of `pieces` parts: the same as for a whole file, with each part
/// allowed its share of the budget, so the parts together never accept more than the whole.
fn part_options(pieces: usize) -> Options {
    let mut options = yaml_options();
    let mut budget: Budget = options.budget.take().unwrap_or_default();
    budget.max_events /= pieces;
    budget.max_nodes /= pieces;
    budget.max_total_scalar_bytes /= pieces;
    options.budget = Some(budget);
    options
}

/// `source[from..to]`, preceded by as many newlines as `source` has before `from`.
fn padded(source: &str, from: usize, to: usize) -> String {
    let lines_before = source.as_bytes()[..from]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    let mut text = String::with_capacity(lines_before + to - from);
    text.extend(std::iter::repeat_n('\n', lines_before));
    text.push_str(&source[from..to]);
    text
}

/// Anchors, aliases, tags, directives or document markers anywhere in the file. The test is
/// coarse on purpose (`*really*` in a text counts): a false alarm only costs a slower read.
fn has_cross_references(source: &str) -> bool {
    let bytes = source.as_bytes();
    let token_start =
        |i: usize| i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'[' | b'{' | b',');
    let starts_name = |i: usize| {
        bytes
            .get(i + 1)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b',' | b']' | b'}'))
    };
    bytes
        .iter()
        .enumerate()
        .any(|(i, b)| matches!(b, b'&' | b'*' | b'!') && token_start(i) && starts_name(i))
        || {
            // A `---` is fine only as the first thing in the file.
            let mut content_seen = false;
            source.lines().any(|l| {
                let marker = l.starts_with('%')
                    || l.starts_with("...")
                    || (content_seen && l.starts_with("---"));
                content_seen |= !(l.trim().is_empty() || l.starts_with('#'));
                marker
            })
        }
}

/// `steps:` at the top level with nothing after it but spaces or a comment.
fn is_steps_key(line: &str) -> bool {
    line.strip_prefix("steps:").is_some_and(|rest| {
        let rest = rest.trim_start_matches([' ', '\r']);
        rest.is_empty() || rest.starts_with('#')
    })
}

/// The indentation of a block list item (`- ...` or a lone `-`), if the line is one.
fn item_indent(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    is_item(line, indent).then_some(indent)
}

/// The line starts an item of a block list indented by `indent` spaces.
fn is_item(line: &str, indent: usize) -> bool {
    line.len() > indent
        && line.as_bytes()[..indent].iter().all(|&b| b == b' ')
        && line[indent..]
            .strip_prefix('-')
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\r']))
}

/// One line of the file: where it starts and its text without the newline.
struct Line<'s> {
    start: usize,
    text: &'s str,
}

impl Line<'_> {
    /// Empty, only spaces and tabs, or only a comment.
    fn is_blank(&self) -> bool {
        let t = self.text.trim_start_matches([' ', '\t', '\r']);
        t.is_empty() || t.starts_with('#')
    }
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }
}

/// The lines of `source`, each with where it starts.
fn lines_of(source: &str) -> Vec<Line<'_>> {
    let mut start = 0;
    source
        .split('\n')
        .map(|text| {
            let line = Line { start, text };
            start += text.len() + 1;
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(source: &str, parts: usize) -> Option<(Vec<&str>, &str)> {
        Plan::new(source, parts).map(|p| {
            let cuts = p.cuts.iter().map(|&c| &source[c..]).collect();
            (cuts, &source[p.tail..])
        })
    }

    #[test]
    fn cuts_fall_on_items_of_the_steps_list() {
        let src = "flow: a\ntitle: A\nsteps:\n  - say: one\n  - say: two\n    # a comment\n  - say: three\n  - say: four\ntests:\n  - name: x\n";
        let (cuts, tail) = plan(src, 2).expect("a plan");
        assert_eq!(
            cuts,
            vec!["  - say: three\n  - say: four\ntests:\n  - name: x\n"]
        );
        assert_eq!(tail, "tests:\n  - name: x\n");
    }

    #[test]
    fn lists_at_the_left_margin_are_cut_too() {
        let src = "flow: a\ntitle: A\nsteps:\n- say: one\n- say: two\n- say: three\n";
        let (cuts, tail) = plan(src, 2).expect("a plan");
        assert_eq!(cuts, vec!["- say: three\n"]);
        assert_eq!(tail, "");
    }

    #[test]
    fn files_that_could_tie_parts_together_are_read_whole() {
        for src in [
            "flow: a\ntitle: A\nsteps:\n  - &x {say: one}\n  - *x\n  - say: three\n",
            "flow: a\ntitle: A\nsteps:\n  - say: !!str one\n  - say: two\n  - say: three\n",
            "%YAML 1.2\n---\nflow: a\ntitle: A\nsteps:\n  - say: one\n  - say: two\n",
            "flow: a\ntitle: A\nsteps: [{say: one}, {say: two}]\n",
            "flow: a\ntitle: A\ntests: []\nsteps:\n  - say: one\n  - say: two\n",
            "flow: a\ntitle: A\nsteps:\n  - say: one\n",
        ] {
            assert_eq!(plan(src, 2), None, "{src}");
        }
    }

    /// The raw flow as text, without the character and byte offsets (which padding changes
    /// and nothing uses); lines and columns stay in.
    fn shape(raw: &RawFlow) -> String {
        let text = format!("{raw:?}");
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("span: Span {") {
            out.push_str(&rest[..at]);
            let close = rest[at..].find('}').expect("a span ends");
            rest = &rest[at + close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Reads `src` with serde-saphyr alone (the reference), with the quick reader alone, and
    /// as `check` does in 1 to 4 parts: every result must be the reference's. When the parts
    /// are expected to be used, both readers must have managed them.
    fn same_every_way(src: &str, parts_used: bool) -> Result<(), String> {
        let reference: Result<RawFlow, _> =
            serde_saphyr::from_str_with_options(src, yaml_options());
        let quick: Result<RawFlow, _> = quick_yaml::from_str(src);
        match (&reference, &quick) {
            (Ok(r), Ok(q)) => assert_eq!(shape(r), shape(q), "quick reader on:\n{src}"),
            (Err(e), Ok(_)) => {
                panic!("the quick reader accepted what serde-saphyr refuses ({e}):\n{src}")
            }
            _ => {}
        }
        for parts in 1..=4 {
            let split = read_raw_in(src, parts);
            match (&reference, &split) {
                (Ok(a), Ok(b)) => assert_eq!(shape(a), shape(b), "{parts} parts of:\n{src}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("whole and {parts} parts disagree on:\n{src}"),
            }
            if parts_used && parts > 1 {
                let plan = Plan::new(src, parts).expect("a plan");
                for by in [By::Quick, By::Saphyr] {
                    if by == By::Saphyr || quick.is_ok() {
                        assert!(
                            plan.read(src, by).is_some(),
                            "{by:?} parts not used:\n{src}"
                        );
                    }
                }
            }
        }
        quick.map(|_| ()).map_err(|e| e.to_string())
    }

    /// `flow` with its steps repeated `times` times (ids repeat; reading does not mind).
    fn grown(flow: &str, times: usize) -> String {
        let lines: Vec<&str> = flow.split_inclusive('\n').collect();
        let key = lines
            .iter()
            .position(|l| l.starts_with("steps:"))
            .expect("steps");
        let end = key
            + 1
            + lines[key + 1..]
                .iter()
                .position(|l| {
                    !l.trim().is_empty()
                        && !l.starts_with(' ')
                        && !l.starts_with('-')
                        && !l.starts_with('#')
                })
                .unwrap_or(lines.len() - key - 1);
        let items = lines[key + 1..end].concat();
        let mut out = lines[..=key].concat();
        for _ in 0..times {
            out.push_str(&items);
        }
        out.push_str(&lines[end..].concat());
        out
    }

    #[test]
    fn every_flow_we_ship_reads_the_same_whole_and_in_parts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        let mut left_to_saphyr = Vec::new();
        for dir in ["flows", "examples/flows", "tests/fixtures"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("folder") {
                let path = entry.expect("entry").path();
                if path.extension().is_none_or(|e| e != "yaml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read");
                if !text.lines().any(|l| l.starts_with("steps:")) {
                    continue;
                }
                let big = grown(&text, 12);
                let parts_used = !has_cross_references(&big);
                if let Err(why) = same_every_way(&big, parts_used) {
                    left_to_saphyr.push(format!("{}: {why}", path.display()));
                }
                // Written on Windows: the same, line for line.
                same_every_way(&text.replace('\n', "\r\n"), false).ok();
                seen += 1;
            }
        }
        assert!(seen >= 15, "only {seen} flows read");
        assert!(left_to_saphyr.is_empty(), "{left_to_saphyr:#?}");
    }

    #[test]
    fn texts_that_run_across_a_cut_read_as_in_the_whole_file() {
        // (text, whether a cut at its second line must be refused by the parts themselves)
        let cases = [
            // A quoted text whose next line looks like a new item: one text in the whole file.
            ("  - say: \"one\n  - say: two\"\n", true),
            ("  - say: 'one\n  - say: two'\n", true),
            ("  - say: \"one\n\n  - say: two\"\n", true),
            // A list in brackets across lines.
            ("  - options: [a,\n  - b]\n", true),
            // Block and plain texts end at an item.
            ("  - say: |\n      one\n  - say: two\n", false),
            ("  - say: one\n      more\n  - say: two\n", false),
            // Comments at the margin between items.
            ("  - say: one\n# note\n  - say: two\n", false),
        ];
        for (case, refused) in cases {
            for tail in [
                "",
                "tests:\n  - name: t\n    answers: {}\n    expect: {outcome: completed}\n",
            ] {
                let mut src = String::from("flow: a\ntitle: A\nsteps:\n");
                for i in 0..40 {
                    src.push_str(&format!("  - say: filler {i}\n"));
                }
                let at = src.len() + case.rfind("  - ").expect("a second item");
                src.push_str(case);
                for i in 0..40 {
                    src.push_str(&format!("  - say: filler {i}\n"));
                }
                src.push_str(tail);
                same_every_way(&src, false).ok();
                // Cut exactly inside the case.
                let plan = Plan {
                    cuts: vec![at],
                    tail: src.find("tests:").unwrap_or(src.len()),
                };
                let split = plan.read(&src, By::Saphyr);
                assert_eq!(split.is_none(), refused, "{case}");
                if let Some(split) = split {
                    let whole = read_raw_in(&src, 1).expect("reads");
                    assert_eq!(shape(&whole), shape(&split));
                }
            }
        }
    }

    #[test]
    fn an_error_in_a_later_part_is_the_whole_file_error() {
        let mut src = String::from("flow: a\ntitle: A\nsteps:\n");
        for i in 0..100 {
            src.push_str(&format!("  - say: step {i}\n"));
        }
        src.push_str("  - sya: typo\n");
        let whole = read_raw_in(&src, 1).expect_err("an error");
        let parts = read_raw_in(&src, 4).expect_err("an error");
        assert_eq!(whole.to_string(), parts.to_string());
        assert!(whole.to_string().contains("line 104"), "{whole}");
    }

    #[test]
    fn odd_but_small_flows_read_as_serde_saphyr_reads_them() {
        let head = "flow: a\ntitle: A\n";
        for body in [
            "steps:\n  - say: ~\n  - say:\n  - prompt: null\n",
            "minutes: 010\nsteps:\n  - say: hi\n",
            "minutes: -5\nsteps:\n  - say: hi\n",
            "minutes: 7\ntags: calm\nsteps:\n  - say: hi\n",
            "steps:\n  - say: hi\n    private: yes\n",
            "steps:\n  - say: hi\n    private: True\n",
            "steps:\n  - id: c\n    ask: choice\n    prompt: P\n    options: [1, 2.5, yes, no, -3, \"4\"]\n",
            "steps:\n  - id: s\n    ask: scale\n    prompt: P\n    min: 0\n    max: 10\n    labels: {0: low, 10: high}\n",
            "vars: {x: 1.5, y: -2, z: \"3\", w: true, v: ~, u: 0x10, t: 1e3}\nsteps:\n  - say: hi\n",
            "steps: []\n",
            "steps:\n\t- say: hi\n",
            "steps:\n  - say: \"caf\u{e9} \u{1f33f}\"\n    ask: tex\n",
            "steps:\n  - say: {a: 1, a: 2}\n",
            "steps:\n  - say: hi\n  - say: hi\n    say: again\n",
            "# only a comment\n",
            "steps:\n  - say: |\n      two\n      lines\n    ask: text\n    id: x\n    prompt: >-\n      folded\n      text\n",
        ] {
            same_every_way(&format!("{head}{body}"), false).ok();
        }
    }
}
