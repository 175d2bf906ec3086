//! Every diagnostic `check` can print, pinned: one flow per mistake in
//! `tests/fixtures/diagnostics/`, its expected report beside it (`NAME.snap`, an insta
//! snapshot). A changed message, position, underline or fix shows up as a diff to review
//! (`INSTA_UPDATE=always cargo test --test integration diagnostics` writes the new ones).
//!
//! The pages of `trustguide explain` are checked too: each page's example must report its
//! code, and the page's fix must check clean.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::Test;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/diagnostics");

/// What `trustguide check FILE` prints about one fixture, run where the file is.
fn check_report(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a file name");
    let text = std::fs::read(path).expect("the fixture reads");
    let out = Test::new().file(name, text).args(["check", name]).run();
    format!("exit: {:?}\n{}{}", out.code, out.stdout, out.stderr)
}

/// The codes in a report.
fn codes_in(report: &str) -> BTreeSet<String> {
    report
        .lines()
        .filter_map(|l| {
            let rest = l
                .strip_prefix("error[")
                .or_else(|| l.strip_prefix("warning["))?;
            Some(rest.split(']').next()?.to_owned())
        })
        .collect()
}

fn fixtures() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("the fixture folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_mistake_is_reported_as_pinned() {
    let files = fixtures();
    assert!(files.len() >= 36, "only {} fixtures", files.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(FIXTURES);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for path in &files {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("a name");
            insta::assert_snapshot!(stem, check_report(path));
        }
    });
}

#[test]
fn the_fixtures_cover_every_code_and_name_it_first() {
    let mut seen = BTreeSet::new();
    for path in fixtures() {
        let report = check_report(&path);
        let codes = codes_in(&report);
        // A fixture is named after the code it is about: `e0201-unknown-field.yaml` (in
        // lower case, as flow ids are, so the file name matches its `flow:` id).
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let named = stem.split('-').next().unwrap_or_default().to_uppercase();
        assert!(
            codes.contains(&named),
            "{stem}: the report has no {named}:\n{report}"
        );
        seen.extend(codes);
    }
    let all: BTreeSet<String> = Test::new()
        .args(["explain"])
        .run()
        .code(0)
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.len() == 5 && (w.starts_with('E') || w.starts_with('W')))
        .map(str::to_owned)
        .collect();
    assert!(all.len() >= 36, "explain lists {} codes", all.len());
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "no fixture reports {missing:?}");
}

/// The first ```yaml block after `heading` in a page.
fn yaml_after<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    let rest = &page[page.find(heading)?..];
    let start = rest.find("```yaml\n")? + "```yaml\n".len();
    let end = rest[start..].find("```")?;
    Some(&rest[start..start + end])
}

/// The first ```text block of a page: the report it shows.
fn text_block(page: &str) -> Option<&str> {
    let start = page.find("```text\n")? + "```text\n".len();
    let end = page[start..].find("```")?;
    Some(&page[start..start + end])
}

#[test]
fn each_explain_page_shows_its_mistake_and_a_fix_that_works() {
    let list = Test::new().args(["explain"]).run().code(0).stdout;
    let codes: Vec<String> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.len() == 5 && (w.starts_with('E') || w.starts_with('W')))
        .map(str::to_owned)
        .collect();
    for code in &codes {
        let page = Test::new().args(["explain", code]).run().code(0).stdout;
        assert!(page.starts_with(&format!("# {code}: ")), "{code}: {page}");
        let (Some(example), Some(fix)) = (
            yaml_after(&page, "## Example"),
            yaml_after(&page, "## The fix"),
        ) else {
            // The file-level codes have no flow to show.
            assert!(
                ["E0101"].contains(&code.as_str()),
                "{code}: the page needs an `## Example` and a `## The fix` with a ```yaml block"
            );
            continue;
        };
        // The file is named as the page's "`trustguide check NAME.yaml` says", else after
        // the example's flow id.
        let named = page
            .split("`trustguide check ")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .filter(|n| n.ends_with(".yaml"));
        let file = named.map_or_else(
            || {
                let id = example
                    .lines()
                    .find_map(|l| l.strip_prefix("flow: "))
                    .map_or("example", str::trim);
                format!("{id}.yaml")
            },
            str::to_owned,
        );
        let bad = Test::new()
            .file(&file, example)
            .args(["check", &file])
            .run();
        assert!(
            codes_in(&bad.stderr).contains(code),
            "{code}: the example does not report it:\n{}",
            bad.stderr
        );
        // The report shown on the page is the real one.
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/diagnostics/{code}.md"));
        let source = std::fs::read_to_string(&path).expect("the page's file");
        if let Some(shown) = text_block(&source) {
            let real = format!("{}\n", bad.stderr.trim_end());
            if shown != real {
                if std::env::var_os("TRUSTGUIDE_UPDATE_PAGES").is_some() {
                    let start = source.find("```text\n").expect("a text block") + "```text\n".len();
                    let rewritten = format!(
                        "{}{real}{}",
                        &source[..start],
                        &source[start + shown.len()..]
                    );
                    std::fs::write(&path, rewritten).expect("writes");
                } else {
                    panic!("{code}: the page shows\n{shown}\nbut check says\n{real}\n(TRUSTGUIDE_UPDATE_PAGES=1 rewrites it)");
                }
            }
        }
        let good = Test::new().file(&file, fix).args(["check", &file]).run();
        assert!(
            good.code == Some(0) && !codes_in(&good.stderr).contains(code),
            "{code}: the fix does not check clean:\n{}",
            good.stderr
        );
    }
    Test::new()
        .args(["explain", "E9999"])
        .run()
        .code(1)
        .stderr_has("there is no diagnostic code `E9999`");
}

/// `text` with columns `column..end_column` (1-based, in characters) of line `line` replaced.
fn apply_fix(text: &str, line: u64, column: u64, end_column: u64, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len() + replacement.len());
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as u64 + 1 != line {
            out.push_str(l);
            continue;
        }
        let body = l.trim_end_matches(['\n', '\r']);
        let ending = &l[body.len()..];
        let chars: Vec<char> = body.chars().collect();
        let from = (column as usize).saturating_sub(1).min(chars.len());
        let to = (end_column as usize)
            .saturating_sub(1)
            .clamp(from, chars.len());
        out.extend(&chars[..from]);
        out.push_str(replacement);
        out.extend(&chars[to..]);
        out.push_str(ending);
    }
    out
}

/// The (code, line) of each diagnostic in `check --format json`'s report, with its fix.
fn json_diagnostics(stdout: &str) -> Vec<serde_json::Value> {
    let report: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
    assert_eq!(report["version"], 1);
    report["files"][0]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Every fix `check` offers, applied on its own to the fixture it was found in, makes that
/// problem go away: advice that leads to the same error again is a bug.
#[test]
fn every_fix_offered_removes_its_problem() {
    let mut applied = 0;
    for path in fixtures() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a name")
            .to_owned();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // the file that is not UTF-8 has nothing to fix in place
        };
        let out = Test::new()
            .file(&name, text.as_str())
            .args(["check", &name, "--format", "json"])
            .run();
        for d in json_diagnostics(&out.stdout) {
            let Some(fix) = d.get("fix") else { continue };
            let at = |key: &str| fix[key].as_u64().expect("a number");
            let fixed = apply_fix(
                &text,
                at("line"),
                at("column"),
                at("end_column"),
                fix["replacement"].as_str().expect("a replacement"),
            );
            let again = Test::new()
                .file(&name, fixed.as_str())
                .args(["check", &name, "--format", "json"])
                .run();
            let still = json_diagnostics(&again.stdout)
                .into_iter()
                .any(|e| e["code"] == d["code"] && e["line"] == d["line"]);
            assert!(
                !still,
                "{name}: the fix for {} at line {} does not remove it:\n{fixed}\n{}",
                d["code"], d["line"], again.stdout
            );
            applied += 1;
        }
    }
    assert!(applied >= 25, "only {applied} fixes were tried");
}

/// Issue 16's "done when": a flow with ten different mistakes, three of them in its shape,
/// gets all ten reported in one run, each at its line and column with a fix; applying the
/// ten fixes gives a flow that checks clean.
#[test]
fn ten_mistakes_are_all_reported_in_one_run_and_their_fixes_work() {
    let flow = "flow: ten
title: Ten mistakes
minutes: ten
participants: [speaker, listener]
steps:
  - id: open
    say: Welcome: take a breath together
  - id: topic
    ask: text
    who: speaker
    promt: What would you like to talk about?
  - id: feel
    ask: scael
    min: 0
    max: 10
    prompt: How are you feeling?
  - id: reflect
    ask: text
    who: listner
    prompt: What did you hear?
    private: yes
    next: clsoe
  - id: close
    say: \"Thank you, {{ speeker }}\"
    end: complete
tests:
  - name: basic
    answers: { topic: chores, feel: 7, reflect: ok }
    expect: { outcome: complete }
";
    let out = Test::new()
        .file("ten.yaml", flow)
        .args(["check", "ten.yaml", "--format", "json"])
        .run()
        .code(1);
    let found = json_diagnostics(&out.stdout);
    let places: Vec<(u64, u64, &str)> = found
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            (3, 10, "E0202"),  // minutes: ten (shape)
            (7, 17, "E0103"),  // an unquoted `: ` (YAML)
            (11, 5, "E0201"),  // promt (shape)
            (13, 10, "E0203"), // scael (shape)
            (19, 10, "E0306"), // listner
            (21, 14, "E0202"), // private: yes (shape)
            (22, 11, "E0304"), // clsoe
            (24, 25, "E0403"), // speeker
            (25, 10, "E0203"), // end: complete (shape)
            (29, 24, "E0203"), // outcome: complete
        ]
    );
    // Every one has a fix; applied from the last to the first, they give a clean flow.
    let mut fixed = flow.to_owned();
    for d in found.iter().rev() {
        let fix = d.get("fix").unwrap_or_else(|| panic!("no fix: {d}"));
        let at = |key: &str| fix[key].as_u64().expect("a number");
        fixed = apply_fix(
            &fixed,
            at("line"),
            at("column"),
            at("end_column"),
            fix["replacement"].as_str().expect("text"),
        );
    }
    Test::new()
        .file("ten.yaml", fixed.as_str())
        .args(["check", "ten.yaml"])
        .run()
        .code(0)
        .stdout_has("ten.yaml: ok");
}
