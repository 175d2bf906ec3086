//! The commands for people who write flows: `check`, `test`, `graph`, `new` and `schema`.
//!
//! Each one is a thin layer over the library: `check` prints what the loader found
//! (`flow::load`, `flow::analysis`), `test` runs `flowtest`, `graph` draws `flow::graph`,
//! `schema` prints `flow::schema`. What they print is for a person at a terminal or, with
//! `--format json`, for an editor or a CI job.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use trustguide::flow::{Diagnostic, Library};
use trustguide::flowtest::{run_flow_tests, untested};

use super::Environment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Each diagnostic with its code, the source line, the mistake underlined and the fix;
    /// in colour on a terminal (not under NO_COLOR).
    Human,
    /// One line per diagnostic, `file:line:col: error[E0201]: message`, for editors and grep.
    Short,
    /// One JSON document (format version 1): every diagnostic with its code, position, end
    /// and fix, for editors and CI. docs/flow-format.md describes it.
    Json,
}

/// The version of `check --format json`'s document; raised when a field changes meaning
/// or goes away (new fields do not raise it).
const CHECK_JSON_VERSION: u32 = 1;

/// What checking one file found.
struct Checked {
    file: String,
    /// Errors and warnings, in file order.
    diagnostics: Vec<Diagnostic>,
}

/// Loads `name` (a file, or a flow id) with every flow it calls, into a fresh library; one
/// that only checks drops each compiled expression once it is known to compile.
fn load(
    env: &Environment,
    name: &str,
    only_check: bool,
) -> (Library, Result<usize, Vec<Diagnostic>>) {
    let lib = env.library();
    let mut lib = if only_check { lib.checking_only() } else { lib };
    let result = lib.load(name).map_err(|d| d.0);
    (lib, result)
}

fn check_one(env: &Environment, name: &str) -> Checked {
    let (lib, result) = load(env, name, true);
    let mut diagnostics = match result {
        // Test answers that cannot work are mistakes too, found without running the tests.
        Ok(index) => trustguide::flowtest::check_answers(&lib, index),
        Err(d) => d,
    };
    diagnostics.extend(lib.warnings().iter().cloned());
    // A flow called from several places is loaded once, but be safe against repeats.
    let mut seen = HashSet::new();
    diagnostics.retain(|d| seen.insert(d.short()));
    diagnostics.sort_by(|a, b| (&*a.file, a.line, a.column).cmp(&(&*b.file, b.line, b.column)));
    let file = if name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/') {
        name.to_owned()
    } else {
        lib.index_of(name)
            .map(|i| lib.flow(i).origin.display_name())
            .unwrap_or_else(|| name.to_owned())
    };
    // Freeing a 10,000-step flow takes a few milliseconds; the report need not wait for it.
    std::thread::spawn(move || drop(lib));
    Checked { file, diagnostics }
}

/// `trustguide check FILE...`: every problem in every file, exit 1 if any is an error.
pub fn check(env: &Environment, files: &[String], format: CheckFormat) -> Result<i32> {
    let checked: Vec<Checked> = files.iter().map(|f| check_one(env, f)).collect();
    let errors = checked
        .iter()
        .flat_map(|c| &c.diagnostics)
        .filter(|d| d.is_error())
        .count();
    let warnings = checked
        .iter()
        .flat_map(|c| &c.diagnostics)
        .filter(|d| !d.is_error())
        .count();
    match format {
        CheckFormat::Json => {
            #[derive(serde::Serialize)]
            struct File<'a> {
                file: &'a str,
                ok: bool,
                diagnostics: &'a [Diagnostic],
            }
            #[derive(serde::Serialize)]
            struct Report<'a> {
                version: u32,
                files: Vec<File<'a>>,
                errors: usize,
                warnings: usize,
            }
            let report = Report {
                version: CHECK_JSON_VERSION,
                files: checked
                    .iter()
                    .map(|c| File {
                        file: &c.file,
                        ok: !c.diagnostics.iter().any(Diagnostic::is_error),
                        diagnostics: &c.diagnostics,
                    })
                    .collect(),
                errors,
                warnings,
            };
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        CheckFormat::Human | CheckFormat::Short => {
            let styled = console::colors_enabled_stderr();
            let mut err = io::stderr().lock();
            for c in &checked {
                for d in &c.diagnostics {
                    if format == CheckFormat::Short {
                        writeln!(err, "{}", d.short())?;
                    } else {
                        writeln!(err, "{}\n", d.render(styled))?;
                    }
                }
            }
            let mut out = io::stdout().lock();
            for c in &checked {
                if !c.diagnostics.iter().any(Diagnostic::is_error) {
                    writeln!(out, "{}: ok", c.file)?;
                }
            }
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            writeln!(
                err,
                "checked {}: {}, {}",
                plural(checked.len(), "file"),
                plural(errors, "error"),
                plural(warnings, "warning")
            )?;
        }
    }
    Ok(if errors > 0 { 1 } else { 0 })
}

/// `trustguide explain [CODE]`: the page of one diagnostic code, or the list of them all.
pub fn explain(code: Option<&str>) -> Result<i32> {
    use trustguide::flow::Code;
    let mut out = io::stdout().lock();
    let Some(wanted) = code else {
        for c in Code::ALL {
            writeln!(out, "{}  {}", c.id(), c.title())?;
        }
        writeln!(out, "\n`trustguide explain CODE` explains one of them.")?;
        return Ok(0);
    };
    match Code::from_id(wanted) {
        Some(c) => {
            write!(out, "{}", c.page())?;
            Ok(0)
        }
        None => bail!(
            "there is no diagnostic code `{wanted}`; `trustguide explain` lists them (they look like E0201)"
        ),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// A line per case, and what differed for a case that failed.
    Human,
    /// One JSON document (format version 1): every case with its problems, for CI.
    Json,
}

/// What `test --format json` says of one flow file.
#[derive(serde::Serialize)]
struct TestedFile {
    file: String,
    flow: Option<String>,
    loads: bool,
    cases: Vec<TestedCase>,
    /// The ways between steps no case takes (left out under `--filter`).
    untested: Vec<String>,
}

#[derive(serde::Serialize)]
struct TestedCase {
    name: String,
    line: u32,
    passed: bool,
    problems: Vec<String>,
}

/// `trustguide test FILE...`: each flow's `tests:` run headless (only the cases whose name
/// contains `filter`, when given); exit 1 on any failure.
pub fn test(
    env: &Environment,
    files: &[String],
    filter: Option<&str>,
    format: TestFormat,
) -> Result<i32> {
    let profile = trustguide::safety::builtin_profile()?;
    let mut tested = Vec::new();
    for name in files {
        let (lib, result) = load(env, name, false);
        let index = match result {
            Ok(i) => i,
            Err(diagnostics) => {
                if format == TestFormat::Human {
                    let styled = console::colors_enabled_stderr();
                    for d in diagnostics.iter().filter(|d| d.is_error()) {
                        eprintln!("{}\n", d.render(styled));
                    }
                }
                tested.push(TestedFile {
                    file: name.clone(),
                    flow: None,
                    loads: false,
                    cases: Vec::new(),
                    untested: Vec::new(),
                });
                continue;
            }
        };
        let mut reports = run_flow_tests(&lib, index, env.now(), Some(profile));
        // Every case runs (they are quick); the filter chooses which are reported.
        let untested = match filter {
            Some(f) => {
                reports.retain(|r| r.name.contains(f));
                Vec::new()
            }
            None if reports.is_empty() => Vec::new(),
            None => untested(&lib, index, &reports),
        };
        let flow = lib.flow(index);
        tested.push(TestedFile {
            file: flow.origin.display_name(),
            flow: Some(flow.id.clone()),
            loads: true,
            cases: reports
                .into_iter()
                .map(|r| TestedCase {
                    passed: r.passed(),
                    name: r.name,
                    line: r.line,
                    problems: r.problems,
                })
                .collect(),
            untested,
        });
    }
    let cases = || tested.iter().flat_map(|t| &t.cases);
    let passed = cases().filter(|c| c.passed).count();
    let failed = cases().filter(|c| !c.passed).count();
    let broken = tested.iter().filter(|t| !t.loads).count();
    let mut out = io::stdout().lock();
    match format {
        TestFormat::Json => {
            #[derive(serde::Serialize)]
            struct Report<'a> {
                version: u32,
                files: &'a [TestedFile],
                passed: usize,
                failed: usize,
                not_loaded: usize,
            }
            let report = Report {
                version: 1,
                files: &tested,
                passed,
                failed,
                not_loaded: broken,
            };
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        TestFormat::Human => {
            for t in &tested {
                let Some(id) = &t.flow else {
                    writeln!(
                        out,
                        "{}: does not load; run `trustguide check {}`",
                        t.file, t.file
                    )?;
                    continue;
                };
                writeln!(out, "{} ({id})", t.file)?;
                if t.cases.is_empty() {
                    match filter {
                        Some(f) => writeln!(out, "  no test's name contains \"{f}\"")?,
                        None => writeln!(
                            out,
                            "  no tests: add a `tests:` section (see docs/flow-format.md)"
                        )?,
                    }
                    continue;
                }
                for case in &t.cases {
                    if case.passed {
                        writeln!(out, "  ok    {}", case.name)?;
                    } else {
                        writeln!(out, "  FAIL  {} (line {})", case.name, case.line)?;
                        for p in &case.problems {
                            writeln!(out, "        {p}")?;
                        }
                    }
                }
                // Not a failure: a way no test takes is worth knowing about, not always a
                // mistake.
                if !t.untested.is_empty() {
                    writeln!(
                        out,
                        "  note: {} way{} between steps no test takes:",
                        t.untested.len(),
                        if t.untested.len() == 1 { "" } else { "s" }
                    )?;
                    for way in &t.untested {
                        writeln!(out, "        {way}")?;
                    }
                }
            }
            writeln!(
                out,
                "\n{passed} passed, {failed} failed{}",
                if broken > 0 {
                    format!(
                        ", {broken} {} not load",
                        if broken == 1 { "flow did" } else { "flows did" }
                    )
                } else {
                    String::new()
                }
            )?;
        }
    }
    Ok(if failed + broken > 0 { 1 } else { 0 })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart (renders in Markdown on most code hosts).
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

/// `trustguide graph FLOW`: the flow as a diagram on stdout.
pub fn graph(env: &Environment, name: &str, format: GraphFormat) -> Result<i32> {
    let mut lib = env.library();
    let index = lib.load(name).map_err(super::report)?;
    let flow = lib.flow(index);
    let text = match format {
        GraphFormat::Mermaid => trustguide::flow::graph::mermaid(flow),
        GraphFormat::Dot => trustguide::flow::graph::dot(flow),
    };
    print!("{text}");
    Ok(0)
}

/// `trustguide schema`: the JSON Schema of the flow format on stdout.
pub fn schema() -> Result<i32> {
    let schema = trustguide::flow::schema::flow_schema();
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(0)
}

/// `trustguide new NAME`: a commented starter flow in `NAME.yaml` (or the path given).
pub fn new(name: &str, force: bool) -> Result<i32> {
    let path = if name.ends_with(".yaml") || name.ends_with(".yml") {
        PathBuf::from(name)
    } else {
        PathBuf::from(format!("{name}.yaml"))
    };
    let id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| anyhow!("`{name}` is not a file name"))?
        .to_owned();
    if !trustguide::flow::is_flow_id(&id) {
        bail!("`{id}` cannot be a flow id: use lowercase letters, digits, `-` and `_`, starting with a letter (for example `weekly-reflection`)");
    }
    if path.exists() && !force {
        bail!(
            "{} already exists; choose another name, or add --force to replace it",
            path.display()
        );
    }
    let text = trustguide::flow::scaffold::starter_flow(&id);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    // The schema the first line points editors to, beside the flow (no network needed).
    let schema_path = path
        .parent()
        .map(|d| d.join(trustguide::flow::scaffold::SCHEMA_FILE))
        .unwrap_or_else(|| PathBuf::from(trustguide::flow::scaffold::SCHEMA_FILE));
    let schema = serde_json::to_string_pretty(&trustguide::flow::schema::flow_schema())?;
    std::fs::write(&schema_path, schema + "\n")
        .with_context(|| format!("writing {}", schema_path.display()))?;
    println!("wrote {} (for editors)", schema_path.display());
    println!("next: edit it, then `trustguide check {0}` and `trustguide test {0}`; run it with `trustguide run {0}`", path.display());
    Ok(0)
}
