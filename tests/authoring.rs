//! A therapist writing a flow: `check` finds each mistake at its line, `test` plays the
//! flow's own cases, `new` gives a starter that passes both.

use crate::util::Test;

/// A small flow with no mistakes; each case below breaks it in one place.
const GOOD: &str = r#"flow: good
title: Good
participants: [speaker, listener]
vars: { rounds: 0 }
steps:
  - id: welcome
    say: |
      Welcome {{ speaker }} and {{ listener }}.
      {% include "cards/deep-listening.md" %}
  - id: topic
    ask: text
    who: speaker
    prompt: What would you like {{ listener }} to understand?
  - id: heard
    ask: confirm
    prompt: Did {{ listener }} get it?
    set: { rounds: "rounds + 1" }
    next:
      - when: not heard and rounds < 3
        goto: topic
      - goto: wrap_up
  - id: wrap_up
    end: completed
    say: You did {{ rounds }} rounds on {{ topic }}.
tests:
  - name: heard at once
    answers: { topic: chores, heard: true }
    expect: { outcome: completed, ends_at: wrap_up, vars: { rounds: 1 } }
  - name: heard on the second try
    answers: { topic: [chores, the chores], heard: [false, true] }
    expect: { outcome: completed, ends_at: wrap_up, vars: { rounds: 2 } }
"#;

/// `GOOD` with `from` replaced by `to` (which must be there).
fn broken(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from:?} is not in the good flow");
    GOOD.replacen(from, to, 1)
}

fn check(flow: &str) -> crate::util::Output {
    Test::new()
        .file("good.yaml", flow)
        .args(["check", "good.yaml"])
        .run()
}

#[test]
fn the_good_flow_passes_check_and_test() {
    check(GOOD).code(0).stdout_has("good.yaml: ok");
    Test::new()
        .file("good.yaml", GOOD)
        .args(["test", "good.yaml"])
        .run()
        .code(0)
        .stdout_has("ok    heard at once")
        .stdout_has("ok    heard on the second try")
        .stdout_has("2 passed, 0 failed");
}

#[test]
fn each_mistake_is_reported_at_its_line_with_a_hint() {
    // (what is broken, replaced by, the first line of the report, a hint in it)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "title: Good",
            "title: [Good",
            "good.yaml:2:8: error:",
            "",
        ),
        (
            "    prompt: What would",
            "    promt: What would",
            "good.yaml:13:5: error: `promt` is not a field of a step",
            "did you mean `prompt`?",
        ),
        (
            "ask: text",
            "ask: txt",
            "good.yaml:11:10: error: `txt` is not an ask kind",
            "did you mean `text`?",
        ),
        (
            "      - goto: wrap_up",
            "      - goto: wrapup",
            "good.yaml:21:15: error: no step with id `wrapup` to go to",
            "did you mean `wrap_up`?",
        ),
        (
            "  - id: heard",
            "  - id: topic",
            "good.yaml:14:9: error: duplicate step id `topic`",
            "",
        ),
        (
            "  - id: welcome",
            "  - id: Welcome",
            "good.yaml:6:9: error: step id `Welcome` must be snake_case",
            "",
        ),
        (
            "  - id: wrap_up\n",
            "  - id: orphan\n    end: stopped\n    say: Never shown.\n  - id: wrap_up\n",
            "good.yaml:22:5: error: step `orphan` can never be reached",
            "add a `goto: orphan` where it belongs, or remove it",
        ),
        (
            "      - goto: wrap_up",
            "      - goto: topic",
            "good.yaml:14:5: error: a loop with no way out: steps `topic` to `heard`",
            "give the loop a `next` branch that leaves it",
        ),
        (
            "You did {{ rounds }}",
            "You did {{ roundz }}",
            "good.yaml:24:21: error: `roundz` is not defined in this flow",
            "did you mean `rounds`?",
        ),
        (
            "when: not heard and rounds < 3",
            "when: not heard and round < 3",
            "good.yaml:19:29: error: `round` is not defined in this flow",
            "did you mean `rounds`?",
        ),
        (
            "Welcome {{ speaker }} and",
            "Welcome {{ speaker } and",
            "good.yaml:8:26: error: template error: `{{` is not closed with `}}`",
            "",
        ),
        (
            "cards/deep-listening.md",
            "cards/deep-listenin.md",
            "good.yaml:9:18: error: `include \"cards/deep-listenin.md\"`: there is no content with that name",
            "did you mean `cards/deep-listening.md`?",
        ),
        (
            "  - id: topic\n",
            "  - id: first\n    call: safety-chek\n  - id: topic\n",
            "good.yaml:11:11: error: `call: safety-chek`: no flow with that id",
            "did you mean `safety-check`?",
        ),
        (
            "who: speaker",
            "who: speeker",
            "good.yaml:12:10: error: `who: speeker` is not a role of this flow",
            "did you mean `speaker`?",
        ),
        (
            "  - id: heard\n",
            "  - id: level\n    ask: scale\n    min: 10\n    max: 0\n    prompt: How much?\n  - id: heard\n",
            "good.yaml:16:10: error: scale `min` 10 must be less than `max` 0",
            "",
        ),
        (
            "  - id: heard\n",
            "  - id: pick\n    ask: choice\n    options: []\n    prompt: Which?\n  - id: heard\n",
            "good.yaml:16:14: error: step `pick` has an empty `options` list",
            "",
        ),
        (
            "answers: { topic: chores, heard: true }",
            "answers: { topik: chores, heard: true }",
            "good.yaml:27:16: error: test `heard at once` answers step `topik`, which this flow does not have",
            "did you mean `topic`?",
        ),
        (
            "vars: { rounds: 0 }",
            "vars: { rounds: 0, heard: false }",
            "good.yaml:14:9: error: step `heard` has the same name as a variable under `vars:`",
            "",
        ),
        (
            "    end: completed\n    say: You did",
            "    end: completed\n    schedule: { title: Check-in, times: \"'19:00'\", until: \"'2026-12-01'\", minutes: 0 }\n    say: You did",
            "good.yaml:24:84: error: `schedule.minutes` must be from 1 to 1440",
            "",
        ),
        (
            "  - id: topic\n",
            "  - id: topic\n    schedule: { title: Check-in, times: \"'19:00'\", until: \"'2026-12-01'\" }\n",
            "good.yaml:11:15: error: step `topic` has `schedule` but no `end`",
            "",
        ),
        (
            "    end: completed\n    say: You did",
            "    end: completed\n    schedule: { title: Check-in, times: tmes, until: \"'2026-12-01'\" }\n    say: You did",
            "good.yaml:24:41: error: `tmes` is not defined in this flow",
            "",
        ),
    ];
    for (from, to, first, hint) in cases {
        let out = check(&broken(from, to)).code(1).error_without_panic();
        let found = crate::util::diagnostics(&out.stderr);
        let first_line = found.first().map(String::as_str).unwrap_or_default();
        assert!(
            first_line.starts_with(first),
            "breaking {from:?} should report {first:?} first, got:\n{}",
            out.stderr
        );
        assert!(
            out.stderr.contains(hint),
            "{from:?}: no hint {hint:?} in:\n{}",
            out.stderr
        );
        assert!(out.stderr.contains(" | "), "{from:?}: no source line shown");
    }
}

#[test]
fn every_problem_is_reported_in_one_run_and_as_json() {
    let flow = broken("You did {{ rounds }}", "You did {{ roundz }}")
        .replacen("who: speaker", "who: speeker", 1)
        .replacen("      - goto: wrap_up", "      - goto: wrapup", 1);
    let out = check(&flow).code(1);
    assert!(out.stderr.contains("3 errors"), "{}", out.stderr);
    let json = Test::new()
        .file("good.yaml", &flow)
        .args(["check", "--format", "json", "good.yaml"])
        .run()
        .code(1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    assert_eq!(report["errors"], 3);
    let diagnostics = report["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics");
    let lines: Vec<u64> = diagnostics
        .iter()
        .map(|d| d["line"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(lines, vec![12, 21, 24]);
    assert_eq!(diagnostics[0]["severity"], "error");
    assert_eq!(diagnostics[0]["file"], "good.yaml");
    assert_eq!(diagnostics[0]["column"], 10);
    assert_eq!(diagnostics[0]["help"], "did you mean `speaker`?");
}

#[test]
fn a_value_used_before_some_way_gives_it_one_is_a_warning() {
    let flow = broken(
        "Welcome {{ speaker }} and {{ listener }}.",
        "Welcome back; last time you said {{ topic }}.",
    );
    check(&flow)
        .code(0)
        .has_diagnostic("good.yaml:8:43: warning: `topic` may have no value here")
        .stderr_has("0 errors, 1 warning");
}

#[test]
fn a_failing_test_case_shows_expected_and_actual() {
    let flow = GOOD.replacen("vars: { rounds: 1 }", "vars: { rounds: 5 }", 1);
    Test::new()
        .file("good.yaml", flow)
        .args(["test", "good.yaml"])
        .run()
        .code(1)
        .stdout_has("FAIL  heard at once (line 26)")
        .stdout_has("vars.rounds: expected 5, got 1")
        .stdout_has("1 passed, 1 failed");
}

#[test]
fn a_newcomer_makes_a_flow_checks_it_tests_it_and_runs_it() {
    let out = Test::new()
        .args(["new", "weekly-reflection"])
        .run()
        .code(0)
        .stdout_has("wrote weekly-reflection.yaml");
    let text = std::fs::read_to_string(out.path("weekly-reflection.yaml")).expect("written");
    assert!(text.starts_with("# yaml-language-server: $schema=./trustguide-flow.schema.json"));
    let schema = std::fs::read_to_string(out.path("trustguide-flow.schema.json"))
        .expect("the schema is written beside it");
    let schema: serde_json::Value = serde_json::from_str(&schema).expect("JSON");
    assert!(schema["properties"]["steps"].is_object());
    let out = out
        .then(["check", "weekly-reflection.yaml"])
        .code(0)
        .stderr_has("0 errors, 0 warnings")
        .then(["test", "weekly-reflection.yaml"])
        .code(0)
        .stdout_has("2 passed, 0 failed")
        .then(["new", "weekly-reflection"])
        .code(1)
        .stderr_has("already exists");
    let answers = "closeness: { partner_a: 6, partner_b: 7 }\nmoment: a walk\nnext_step: A phone-free dinner\n";
    out.file("a.yaml", answers)
        .then([
            "run",
            "weekly-reflection.yaml",
            "--as",
            "Sam",
            "--as",
            "Alex",
            "--answers",
            "a.yaml",
        ])
        .code(0)
        .stdout_has("Welcome, Sam and Alex.");
}

#[test]
fn every_shipped_and_example_flow_passes_check_and_test() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files: Vec<String> = Vec::new();
    for dir in ["flows", "examples/flows"] {
        let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p.display().to_string());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 6, "flows and examples: {files:?}");
    Test::new()
        .args(["check"])
        .args(&files)
        .run()
        .code(0)
        .stderr_has("0 errors, 0 warnings");
    Test::new()
        .args(["test"])
        .args(&files)
        .run()
        .code(0)
        .stdout_has(" 0 failed");
}

/// Hostile files: each is one clear error and exit 1, in `check` and in `run` (how long
/// they take and how much memory is in docs/performance.md).
#[test]
fn hostile_flows_are_refused_with_one_clear_message() {
    let mut bomb = String::from(
        "flow: bomb\ntitle: Bomb\nvars:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    bomb.push_str("steps:\n  - say: hi\n");
    let deep = format!(
        "flow: deep\ntitle: Deep\nvars: {{ x: {}{} }}\nsteps:\n  - say: hi\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut huge = String::from("flow: huge\ntitle: Huge\nsteps:\n");
    let step = format!("  - say: {}\n", "x".repeat(90));
    while huge.len() < 50 * 1024 * 1024 {
        huge.push_str(&step);
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bomb.yaml",
            bomb.into_bytes(),
            "bomb.yaml:9:22: error: the YAML expands too far",
        ),
        (
            "deep.yaml",
            deep.into_bytes(),
            "deep.yaml:3:51: error: the YAML is nested too deeply",
        ),
        (
            "huge.yaml",
            huge.into_bytes(),
            "huge.yaml: error: the file is 50.0 MiB; a flow file may be at most 4 MiB",
        ),
        (
            "bad.yaml",
            b"flow: bad\ntitle: B\xff\xfead\nsteps:\n  - say: hi\n".to_vec(),
            "bad.yaml:2:9: error: the file is not saved as UTF-8 text",
        ),
    ];
    for (name, text, message) in &cases {
        Test::new()
            .file(name, text)
            .args(["check", name])
            .run()
            .code(1)
            .error_without_panic()
            .has_diagnostic(message)
            .stderr_has("1 error");
        Test::new()
            .file(name, text)
            .file("a.yaml", "{}\n")
            .args(["run", name, "--answers", "a.yaml"])
            .run()
            .code(1)
            .error_without_panic()
            .has_diagnostic(message);
    }
    // Templates that would run for ever are stopped when they are shown.
    for (flow, message) in [
        (
            "flow: spin\ntitle: Spin\nsteps:\n  - say: \"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"\n",
            "spin.yaml:4: step `#1`: the template ran too long (does it loop without end?)",
        ),
        (
            "flow: spin\ntitle: Spin\nsteps:\n  - say: \"{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}\"\n",
            "spin.yaml:4: step `#1`: recursion limit exceeded",
        ),
    ] {
        Test::new()
            .file("spin.yaml", flow)
            .file("a.yaml", "{}\n")
            .args(["run", "spin.yaml", "--answers", "a.yaml", "--no-save"])
            .run()
            .code(1)
            .error_without_panic()
            .stderr_has(message);
    }
}

/// A test may answer a called flow's questions by their plain ids, and expect a run to end
/// inside the called flow (`flow-id/step`).
#[test]
fn tests_reach_into_a_called_flow() {
    let flow = r#"flow: careful
title: Careful
participants: [a, b]
steps:
  - call: safety-check
  - id: topic
    ask: text
    prompt: What shall we talk about?
tests:
  - name: all clear
    answers: { physical: "No", threats: "No", control: "Yes, mostly", harm_self: "No", topic: the holidays }
    expect: { outcome: completed, ends_at: topic }
  - name: a yes stops inside the safety check
    answers: { physical: "Yes" }
    expect: { outcome: safety_stop, ends_at: safety-check/physical }
  - name: a misspelt question of the called flow fails the test, with a hint
    answers: { physicle: "No" }
    expect: { outcome: completed }
"#;
    let out = Test::new()
        .file("careful.yaml", flow)
        .args(["check", "careful.yaml"])
        .run()
        .code(0)
        .then(["test", "careful.yaml"])
        .code(1);
    assert!(out.stdout.contains("  ok    all clear"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("  ok    a yes stops inside the safety check"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("did you mean `physical`?"),
        "{}",
        out.stdout
    );
}

/// `trustguide schema | head -1`: a reader that has left ends the command quietly, not with
/// a panic.
#[test]
fn a_reader_that_leaves_early_is_no_panic() {
    use std::process::{Command, Stdio};
    for args in [&["schema"][..], &["learn"][..], &["graph", "listening"][..]] {
        let mut child = Command::new(crate::util::binary())
            .args(args)
            .env(
                "TRUSTGUIDE_HOME",
                std::env::temp_dir().join("trustguide-no-home"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        // Close the reading end before anything is written: the first write finds no reader.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked");
    }
}

/// A flow big enough to be read in parts and checked on several threads: mistakes in every
/// part are found, each at its own line, as in a small flow.
#[test]
fn mistakes_anywhere_in_a_big_flow_are_all_found_at_their_lines() {
    let mut flow = String::from("flow: big\ntitle: Big\nparticipants: [a, b]\nsteps:\n");
    let mut line = 5;
    let mut at = std::collections::BTreeMap::new();
    for i in 0..3000 {
        let step = match i {
            // A role that does not exist, early on.
            150 => format!("  - id: q{i}\n    ask: text\n    who: c\n    prompt: Hi\n"),
            // A misspelt variable in the middle.
            1600 => format!("  - id: s{i}\n    say: Hello {{{{ aa }}}}.\n"),
            // A template that does not compile, late.
            2400 => format!("  - id: s{i}\n    say: \"{{% if a %}}open\"\n"),
            // An answer used on a way that can skip it, near the end.
            2900 => format!(
                "  - id: q{i}\n    ask: confirm\n    prompt: Skip?\n    next:\n      - when: q{i}\n        goto: s2902\n"
            ),
            2901 => format!("  - id: t{i}\n    ask: text\n    prompt: Say it\n"),
            2902 => format!("  - id: s{i}\n    say: You said {{{{ t2901 }}}}.\n"),
            _ => format!("  - id: s{i}\n    say: Step {i} for {{{{ a }}}}.\n"),
        };
        at.insert(i, line);
        line += step.lines().count();
        flow.push_str(&step);
    }
    flow.push_str("  - end: completed\n");
    assert!(flow.len() > 128 * 1024, "big enough to be read in parts");
    Test::new()
        .file("big.yaml", &flow)
        .args(["check", "big.yaml"])
        .run()
        .code(1)
        .error_without_panic()
        .has_diagnostic(&format!(
            "big.yaml:{}:10: error: `who: c` is not a role of this flow",
            at[&150] + 2
        ))
        .has_diagnostic(&format!(
            "big.yaml:{}:19: error: `aa` is not defined in this flow",
            at[&1600] + 1
        ))
        .has_diagnostic(&format!(
            "big.yaml:{}:21: error: template error: `{{% if %}}` is not closed",
            at[&2400] + 1
        ))
        .has_diagnostic(&format!(
            "big.yaml:{}:22: warning: `t2901` may have no value here",
            at[&2902] + 1
        ))
        .stderr_has("3 errors, 1 warning");
}

/// Flows are found by file name: a file named other than its `flow:` id passes `check` with a
/// warning that names both, instead of `run NAME` failing later with "no flow called".
#[test]
fn a_file_named_other_than_its_flow_id_is_a_warning() {
    let out = Test::new()
        .file("breathing-pause.yaml", GOOD)
        .args(["check", "breathing-pause.yaml"])
        .run()
        .code(0)
        .has_diagnostic("breathing-pause.yaml:1:7: warning: the file is named `breathing-pause.yaml` but its flow id is `good`")
        .stderr_has("rename the file to `good.yaml`, or change this line to `flow: breathing-pause`")
        .stderr_has("0 errors, 1 warning");
    // The fix it offers works: with the id changed, the warning is gone.
    out.file(
        "breathing-pause.yaml",
        GOOD.replacen("flow: good", "flow: breathing-pause", 1),
    )
    .then(["check", "breathing-pause.yaml"])
    .code(0)
    .stderr_has("0 errors, 0 warnings");
}

/// In an unquoted text, ` #` starts a YAML comment: `check` says what is dropped and offers
/// the quoted line; a comment written as `# ...` is left alone, and the fix it offers works.
#[test]
fn a_hashtag_that_cuts_a_text_short_is_a_warning_with_the_quoted_fix() {
    let flow = GOOD.replacen(
        "prompt: What would you like {{ listener }} to understand?",
        "prompt: What would you like {{ listener }} to understand? #today  # a comment",
        1,
    );
    assert_ne!(flow, GOOD);
    let out = Test::new()
        .file("good.yaml", &flow)
        .args(["check", "good.yaml"])
        .run()
        .code(0)
        .has_diagnostic("good.yaml:13:63: warning: ` #` starts a comment here, so the text ends at `What would you like {{ listener }} to understand?` and `#today  # a comment` is dropped")
        .stderr_has("put the whole text in quotes: prompt: \"What would you like {{ listener }} to understand? #today  # a comment\"")
        .stderr_has("0 errors, 1 warning");
    let fixed = GOOD.replacen(
        "prompt: What would you like {{ listener }} to understand?",
        "prompt: \"What would you like {{ listener }} to understand? #today\"  # a comment",
        1,
    );
    out.file("good.yaml", fixed)
        .then(["check", "good.yaml"])
        .code(0)
        .stderr_has("0 errors, 0 warnings");
}

/// Slips people make in expressions get the caret at the mistake and a hint in plain words;
/// an option label with `{{ }}` (shown as written, braces and all) is an error that says so.
#[test]
fn expression_slips_and_templated_labels_are_explained() {
    let flow = "flow: ex\ntitle: Ex\nparticipants: [a, b]\nvars: { n: 0 }\nsteps:\n  - id: q\n    ask: choice\n    prompt: Who first?\n    options: [\"{{ a }}\", plain]\n  - id: r\n    ask: confirm\n    prompt: Ready?\n    set: { n: \"n + 1\" }\n    next:\n      - when: r && n > 0\n        goto: q\n      - when: \"{{ r }}\"\n        goto: q\n      - when: \"!r\"\n        goto: q\n";
    Test::new()
        .file("ex.yaml", flow)
        .args(["check", "ex.yaml"])
        .run()
        .code(1)
        .has_diagnostic("ex.yaml:9:15: error: option labels are shown as written, not filled in: `{{ a }}` would show its braces")
        .has_diagnostic("ex.yaml:15:17: error: in `when`: unexpected character")
        .stderr_has("help: write `and` and `or` instead of `&&` and `||`")
        .stderr_has("help: this is already an expression: write it without `{{ }}`")
        .has_diagnostic("ex.yaml:19:16: error: in `when`: unexpected character")
        .stderr_has("help: write `not x` instead of `!x`")
        .stderr_has("4 errors, 0 warnings");
    // The hints, applied, give a flow that checks clean.
    let fixed = flow
        .replace("[\"{{ a }}\", plain]", "[first, plain]")
        .replace("r && n > 0", "r and n > 0")
        .replace("\"{{ r }}\"", "r")
        .replace("\"!r\"", "not r");
    Test::new()
        .file("ex.yaml", fixed)
        .args(["check", "ex.yaml"])
        .run()
        .code(0)
        .stderr_has("0 errors");
}

/// `trustguide test` for authors: `expect: shows:` asserts text the participants saw, a case
/// with no `expect` fails when the run ends in a safety stop, a value of the wrong type says
/// so, and `--filter` and `--format json` pick and report cases.
#[test]
fn tests_check_what_was_shown_and_say_what_differs() {
    let flow = r#"flow: shows
title: Shows
vars: { count: "6" }
steps:
  - id: feeling
    ask: text
    prompt: How are you feeling?
  - say: "Thank you for saying {{ feeling }}."
tests:
  - name: thanks are shown
    answers: { feeling: calm }
    expect: { outcome: completed, shows: ["Thank you for saying calm."] }
  - name: a text never shown
    answers: { feeling: calm }
    expect: { shows: ["Well done"] }
  - name: a number where text is kept
    answers: { feeling: calm }
    expect: { vars: { count: 6 } }
  - name: an answer that pauses
    answers: { feeling: "i want to die" }
"#;
    let out = Test::new()
        .file("shows.yaml", flow)
        .args(["test", "shows.yaml"])
        .run()
        .code(1)
        .stdout_has("ok    thanks are shown")
        .stdout_has("FAIL  a text never shown")
        .stdout_has("shows: expected the run to show \"Well done\", but it did not")
        .stdout_has("vars.count: expected 6 (number), got \"6\" (text)")
        .stdout_has("FAIL  an answer that pauses")
        .stdout_has("the run ended in a safety stop")
        .stdout_has("1 passed, 3 failed");
    // The advice works: saying the stop is expected makes the case pass.
    let fixed = flow.replace(
        "    answers: { feeling: \"i want to die\" }\n",
        "    answers: { feeling: \"i want to die\" }\n    expect: { outcome: safety_stop }\n",
    );
    out.file("shows.yaml", fixed)
        .then(["test", "shows.yaml", "--filter", "pauses"])
        .code(0)
        .stdout_has("ok    an answer that pauses")
        .stdout_has("1 passed, 0 failed");
    let json = Test::new()
        .file("shows.yaml", flow)
        .args([
            "test",
            "shows.yaml",
            "--filter",
            "shown",
            "--format",
            "json",
        ])
        .run()
        .code(1)
        .stdout;
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(report["version"], 1);
    let cases = report["files"][0]["cases"].as_array().expect("cases");
    let names: Vec<&str> = cases.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["thanks are shown", "a text never shown"]);
    assert_eq!(cases[0]["passed"], true);
    assert_eq!(cases[1]["passed"], false);
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(1))
    );
}

/// A flow's own cards sit beside it: `{% include %}` looks there first, then in the content
/// folders and the built-in cards, and a missing one says where it looked and the nearest name.
#[test]
fn includes_are_found_beside_the_flow_first() {
    let flow = "flow: own-card\ntitle: Own card\nsteps:\n  - say: \"{% include 'cards/our-agreement.md' %}\"\n";
    let out = Test::new()
        .file("work/own-card.yaml", flow)
        .file(
            "work/cards/our-agreement.md",
            "We agreed to pause, not to leave.",
        )
        .args(["check", "work/own-card.yaml"])
        .run()
        .code(0);
    out.file("a.yaml", "{}\n")
        .then([
            "run",
            "work/own-card.yaml",
            "--answers",
            "a.yaml",
            "--no-save",
        ])
        .code(0)
        .stdout_has("We agreed to pause, not to leave.");
    Test::new()
        .file("work/own-card.yaml", flow.replace("our-agreement", "our-agrement"))
        .file("work/cards/our-agreement.md", "We agreed to pause, not to leave.")
        .args(["check", "work/own-card.yaml"])
        .run()
        .code(1)
        .has_diagnostic("work/own-card.yaml:4:22: error: `include \"cards/our-agrement.md\"`: there is no content with that name (looked in `work`, the built-in cards)")
        .stderr_has("did you mean `cards/our-agreement.md`?");
}

/// `metrics:` describes what `record` keeps; a metric nothing records is named, with the
/// nearest one that is, and a range written backwards is refused.
#[test]
fn metrics_must_be_recorded_and_ranges_run_upwards() {
    let recorded = broken(
        "    say: You did {{ rounds }} rounds on {{ topic }}.\n",
        "    say: You did {{ rounds }} rounds on {{ topic }}.\n    record: { rounds: rounds }\n",
    );
    let described = recorded.replacen(
        "steps:\n",
        "metrics:\n  rounds: { title: Rounds until heard, min: 1, max: 3, better: lower }\nsteps:\n",
        1,
    );
    check(&described).code(0);
    check(&described.replacen("  rounds: { title", "  round: { title", 1))
        .code(1)
        .stderr_has("`metrics` describes `round`, but no `record` of this flow keeps it")
        .stderr_has("did you mean `rounds`?");
    check(&described.replacen("min: 1, max: 3", "min: 3, max: 1", 1))
        .code(1)
        .stderr_has("metric `rounds`: `max` (1) must be above `min` (3)");
}
