//! The library's layers, checked from its source: which module may use which, and no circles.
//!
//! Each top-level module of `src/` may use only the modules listed for it, and each of those
//! comes earlier in [`LAYERS`], so the graph has no circles by construction. The test reads
//! every file of the library (not the binary: `main.rs` and `cli*` may use everything) and
//! fails on a `crate::` path that reaches a module not allowed, naming the file and line.
//! docs/ARCHITECTURE.md draws the same layers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every library module, lowest first, with the modules it may use.
const LAYERS: &[(&str, &[&str])] = &[
    ("content", &[]),
    ("printable", &[]),
    ("guard", &[]),
    ("private_file", &[]),
    ("yaml", &[]),
    ("schedule", &[]),
    ("render", &["content"]),
    ("safety", &["content", "yaml"]),
    ("flow", &["content", "yaml", "render", "safety", "schedule"]),
    (
        "engine",
        &[
            "flow",
            "render",
            "safety",
            "schedule",
            "content",
            "printable",
            "guard",
        ],
    ),
    ("transcript", &["engine", "flow", "schedule"]),
    ("store", &["engine", "flow", "schedule", "printable"]),
    ("run", &["engine", "store", "transcript", "flow"]),
    (
        "term",
        &["run", "engine", "flow", "yaml", "transcript", "printable"],
    ),
    ("session", &["run", "store", "engine", "flow", "transcript"]),
    (
        "flowtest",
        &["run", "term", "engine", "flow", "safety", "transcript"],
    ),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a line of code names with `crate::`, including `crate::{a, b::c}`.
fn crate_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The first name of each item at the group's own level.
            let mut depth = 0;
            let mut item_start = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if item_start && !name.is_empty() => {
                        found.push(std::mem::take(&mut name));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.push(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn the_library_s_modules_use_only_the_layers_below_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known: BTreeSet<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    // The table itself: every module allowed is declared earlier, so there is no circle.
    for (i, (module, allowed)) in LAYERS.iter().enumerate() {
        for used in *allowed {
            let position = LAYERS.iter().position(|(m, _)| m == used);
            assert!(
                position.is_some_and(|p| p < i),
                "LAYERS: `{module}` may use `{used}`, which is not declared before it"
            );
        }
    }
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut modules_seen = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under src/");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs");
        if matches!(module, "main" | "cli" | "lib") {
            continue;
        }
        modules_seen.insert(module.to_owned());
        let Some((_, allowed)) = LAYERS.iter().find(|(m, _)| *m == module) else {
            problems.push(format!(
                "src/{}: module `{module}` is not in LAYERS; add it with the modules it may use",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for used in crate_paths(code) {
                if used == module || !known.contains(used.as_str()) {
                    continue;
                }
                if !allowed.contains(&used.as_str()) {
                    problems.push(format!(
                        "src/{}:{}: `{module}` uses `{used}`, which is not a layer below it",
                        relative.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every declared module exists, so the table cannot drift from the code.
    for (module, _) in LAYERS {
        assert!(
            modules_seen.contains(*module),
            "LAYERS names `{module}`, which src/ does not have"
        );
    }
}

#[test]
fn paths_in_a_use_group_are_found() {
    assert_eq!(
        crate_paths("use crate::{engine::{Engine, Event}, flow::Library};"),
        ["engine", "flow"]
    );
    assert_eq!(
        crate_paths("let x = crate::store::Store::open(p); crate::run::drive(e)"),
        ["store", "run"]
    );
    assert!(crate_paths("use super::Thing;").is_empty());
}
