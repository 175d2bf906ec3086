//! The session store through the binary: what is saved, where, how it is read back, resumed,
//! exported and deleted, and how damaged or foreign databases are refused.

use std::os::unix::fs::PermissionsExt;

use crate::util::{fixture, Test};

fn listening_answers() -> String {
    std::fs::read_to_string(fixture("listening-answers.yaml")).expect("fixture")
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

fn db_bytes(out: &crate::util::Output) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["trustguide.db", "trustguide.db-wal"] {
        if let Ok(bytes) = std::fs::read(out.path("home").join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_session_is_saved_owner_only_and_listed_in_history() {
    let out = Test::new()
        .file("a.yaml", listening_answers())
        .args([
            "run",
            "listening",
            "--as",
            "Sam",
            "--as",
            "Alex",
            "--answers",
            "a.yaml",
        ])
        .run()
        .code(0);
    let home = out.path("home");
    assert_eq!(mode(&home), 0o700, "the trustguide folder is owner-only");
    for file in ["trustguide.db", "trustguide.db-wal", "trustguide.db-shm"] {
        let path = home.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file} is owner-only");
        }
    }
    out.then(["history"])
        .code(0)
        .stdout_has("ID  DATE        FLOW       PARTICIPANTS  OUTCOME")
        .stdout_has("    1  2026-11-25  listening  Sam, Alex     completed");
}

#[test]
fn no_save_leaves_no_trace() {
    let out = Test::new()
        .file("a.yaml", listening_answers())
        .args(["run", "listening", "--no-save", "--answers", "a.yaml"])
        .run()
        .code(0);
    assert!(
        !out.path("home").exists(),
        "--no-save must not create the trustguide folder"
    );
    out.then(["history"]).code(0).stdout_has("No sessions yet.");
}

#[test]
fn show_and_export_leave_private_answers_out_unless_asked() {
    let flow = "flow: prep\ntitle: Prep\nparticipants: [a]\nsteps:\n  - id: secret\n    ask: text\n    private: true\n    prompt: Your private note?\n  - id: open\n    ask: text\n    prompt: Something to share?\n  - end: completed\n    say: \"You wrote: {{ secret }}. Thank you.\"\n    record: { closeness: 4 }\n";
    let out = Test::new()
        .file("prep.yaml", flow)
        .file(
            "a.yaml",
            "secret: the hidden thing\nopen: the shared thing\n",
        )
        .args(["run", "prep.yaml", "--as", "Sam", "--answers", "a.yaml"])
        .run()
        .code(0)
        .then(["export", "1", "--format", "md"])
        .code(0)
        .stdout_has("> the shared thing")
        .stdout_has("_1 private answer is left out._")
        .stdout_has("- closeness: 4");
    // The closing text repeats the private answer, so it is left out with it.
    assert!(!out.stdout.contains("the hidden thing"), "{}", out.stdout);
    assert!(!out.stdout.contains("Closing summary"), "{}", out.stdout);
    let out = out.then(["show", "1"]).code(0);
    assert!(!out.stdout.contains("the hidden thing"));
    let out = out.then(["export", "1", "--format", "json"]).code(0);
    assert!(!out.stdout.contains("the hidden thing"), "{}", out.stdout);
    let out = out
        .then(["export", "1", "--format", "json", "--include-private"])
        .code(0);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON export");
    assert_eq!(doc["flow"], "prep");
    assert_eq!(doc["participants"][0]["name"], "Sam");
    let answers: Vec<&str> = doc["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["answer"].as_str())
        .collect();
    assert_eq!(answers, ["the hidden thing", "the shared thing"]);
    let out = out
        .then(["export", "1", "--format", "md", "--output", "session.md"])
        .code(0);
    assert_eq!(
        mode(&out.path("session.md")),
        0o600,
        "an export is owner-only"
    );
}

#[test]
fn progress_charts_each_partner_with_a_trend_and_exports_csv() {
    let mut out = Test::new()
        .file("a.yaml", listening_answers())
        .args([
            "run",
            "listening",
            "--as",
            "Sam",
            "--as",
            "Alex",
            "--answers",
            "a.yaml",
        ])
        .run();
    // Three more weeks, with one hard week for Sam.
    for (sam, alex) in [(6, 4), (9, 3), (5, 2)] {
        let answers = listening_answers().replace(
            "intensity: { speaker: 3, listener: 4 }",
            &format!("intensity: {{ speaker: {sam}, listener: {alex} }}"),
        );
        let answers = if sam >= 8 {
            answers.replace("intensity:", "ready: true\nintensity:")
        } else {
            answers
        };
        out = out
            .file("a.yaml", answers)
            .then([
                "run",
                "listening",
                "--as",
                "Sam",
                "--as",
                "Alex",
                "--answers",
                "a.yaml",
            ])
            .code(0);
    }
    let out = out
        .then(["progress", "intensity"])
        .code(0)
        .stdout_has("Active listening\n")
        .stdout_has("  How strong feelings were at the start · Alex (0 to 10)")
        .stdout_has("  How strong feelings were at the start · Sam (0 to 10)");
    // Sam: 3, 6, 9, 5, on bars of the metric's own range: 5 of 10 is half a bar.
    assert!(
        out.stdout.contains("    over 4 sessions: 3 → 5, up\n"),
        "the real first and last values: {}",
        out.stdout
    );
    let half = out
        .stdout
        .lines()
        .find(|l| l.ends_with("  5 of 10"))
        .unwrap_or_else(|| panic!("a 5: {}", out.stdout));
    assert_eq!(
        half.matches('█').count(),
        half.matches('·').count(),
        "half a bar: {half}"
    );
    let out = out
        .then(["progress", "intensity", "--format", "csv"])
        .code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "date,session,metric,person,value,trend");
    assert_eq!(lines.len(), 9, "4 sessions x 2 partners + header");
    assert!(
        lines.iter().any(|l| l.ends_with(",4,intensity,Sam,5,6.67")),
        "{}",
        out.stdout
    );
    out.then(["progress", "intensty"])
        .code(1)
        .stderr_has("did you mean `intensity`?");
}

#[test]
fn forget_deletes_the_answers_for_real() {
    let out = Test::new()
        .file("a.yaml", listening_answers())
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(0)
        .then(["run", "listening", "--answers", "a.yaml"])
        .code(0);
    assert!(contains(
        &db_bytes(&out),
        "You feel alone with the chores and unseen."
    ));
    let out = out
        .then(["forget", "1"])
        .code(1)
        .stderr_has("needs confirmation");
    let out = out
        .then(["forget", "1", "--yes"])
        .code(0)
        .stdout_has("Deleted session 1");
    let out = out.then(["history"]).code(0);
    assert!(!out.stdout.contains("    1  "), "{}", out.stdout);
    let out = out
        .then(["forget", "--all", "--yes"])
        .code(0)
        .stdout_has("Deleted all 1 sessions");
    assert!(
        !contains(
            &db_bytes(&out),
            "You feel alone with the chores and unseen."
        ),
        "deleted answers must not linger in the database file"
    );
    out.then(["show", "2"]).code(1).stderr_has("no session 2");
}

#[test]
fn an_interrupted_session_resumes_where_it_stopped() {
    let flow = "flow: two\ntitle: Two\nsteps:\n  - id: first\n    ask: text\n    prompt: First?\n  - id: second\n    ask: text\n    prompt: Second?\n  - say: 'Done: {{ first }} / {{ second }}'\n";
    // A run that stops for want of an answer is kept as not finished, up to its last answer.
    let out = Test::new()
        .file("two.yaml", flow)
        .file("a.yaml", "first: one\n")
        .args(["run", "two.yaml", "--answers", "a.yaml"])
        .run()
        .code(1)
        .stderr_has("no answer for step `second`")
        .then(["history"])
        .stdout_has("not finished (resume it)")
        .file("b.yaml", "second: two\n")
        .then(["resume", "--answers", "b.yaml", "--transcript", "t.json"])
        .code(0)
        .stdout_has("Resuming session 1: Two, started Wednesday 25 November 2026, 19:30; going on\nafter the last saved answer.")
        .stdout_has("Done: one / two");
    let t = out.transcript("t.json");
    let answers: Vec<&str> = t["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["answer"].as_str())
        .collect();
    assert_eq!(
        answers,
        ["one", "two"],
        "the transcript covers the whole session"
    );
    out.then(["resume", "1"])
        .code(1)
        .stderr_has("already ended (completed)");
}

#[test]
fn an_edited_flow_resumes_at_its_step_or_offers_the_nearest_earlier_one() {
    let flow = "flow: edit\ntitle: Edit\nsteps:\n  - id: first\n    ask: text\n    prompt: First?\n  - id: second\n    ask: text\n    prompt: Second?\n  - id: third\n    ask: text\n    prompt: Third?\n";
    let out = Test::new()
        .file("flows/edit.yaml", flow)
        .file("a.yaml", "first: one\nsecond: two\n")
        .args(["run", "edit", "--answers", "a.yaml"])
        .run()
        .code(1);
    // The step answered last (`second`) is renamed: resuming says so and names `first`.
    let out = out
        .file("flows/edit.yaml", flow.replace("second", "middle"))
        .file("b.yaml", "middle: two\nthird: three\n")
        .then(["resume", "--answers", "b.yaml"])
        .code(1)
        .stderr_has("Step `second` of flow `edit` no longer exists (the flow was edited). Go on from `first`, the nearest earlier step that does?")
        .stderr_has("--from first");
    let out = out
        .file("b.yaml", "first: one again\nmiddle: two\nthird: three\n")
        .then(["resume", "--answers", "b.yaml", "--from", "first"])
        .code(0)
        .stdout_has("Going on from step `first` of `edit`.");
    out.then(["history"]).stdout_has("completed");
}

#[test]
fn a_database_from_a_newer_version_or_a_damaged_one_is_left_untouched() {
    let out = Test::new()
        .file("a.yaml", listening_answers())
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(0);
    let db = out.path("home").join("trustguide.db");
    // Pretend a newer trustguide wrote it.
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 99;")
        .expect("bump");
    drop(conn);
    let before = std::fs::read(&db).expect("read");
    let out = out
        .then(["history"])
        .code(1)
        .stderr_has("written by a newer trustguide (schema 99");
    let out = out
        .then(["run", "listening", "--answers", "a.yaml"])
        .code(1)
        .stderr_has("newer trustguide");
    assert_eq!(
        std::fs::read(&db).expect("read"),
        before,
        "the newer database was not changed"
    );

    std::fs::write(&db, b"this is not a database at all, just words in a file").expect("damage");
    let before = std::fs::read(&db).expect("read");
    // Keep the folder alive until the file is checked.
    let _folder = out
        .then(["history"])
        .code(1)
        .stderr_has("is not a trustguide database, or it is damaged");
    assert_eq!(
        std::fs::read(&db).expect("read"),
        before,
        "the damaged file was not changed"
    );
}

#[test]
fn two_trustguides_at_once_both_save() {
    let out = Test::new()
        .file("a.yaml", listening_answers())
        .args(["history"])
        .run()
        .code(0);
    let home = out.path("home");
    let spawn = || {
        std::process::Command::new(crate::util::binary())
            .args(["run", "listening", "--answers", "a.yaml"])
            .current_dir(out.path(""))
            .env("TRUSTGUIDE_HOME", &home)
            .env("TRUSTGUIDE_NOW", crate::util::NOW)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let mut children: Vec<_> = (0..4).map(|_| spawn()).collect();
    for c in &mut children {
        assert!(c.wait().expect("wait").success());
    }
    let out = out.then(["history", "--json"]).code(0);
    let sessions: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(sessions.as_array().map(Vec::len), Some(4));
    assert!(sessions
        .as_array()
        .expect("list")
        .iter()
        .all(|s| s["status"] == "completed"));
}

#[test]
fn a_full_disk_stops_with_a_clear_message_and_keeps_what_was_saved() {
    use std::os::unix::process::CommandExt;
    let out = Test::new()
        .file("a.yaml", listening_answers())
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(0);
    let home = out.path("home");
    let size = std::fs::metadata(home.join("trustguide.db"))
        .expect("db")
        .len()
        + std::fs::metadata(home.join("trustguide.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    // Files may not grow past what they are now: the next session cannot be written.
    let limit = size;
    let mut cmd = std::process::Command::new(crate::util::binary());
    cmd.args(["run", "listening", "--answers", "a.yaml"])
        .current_dir(out.path(""))
        .env("TRUSTGUIDE_HOME", &home)
        .env("TRUSTGUIDE_NOW", crate::util::NOW);
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            use nix::sys::resource::{setrlimit, Resource};
            use nix::sys::signal::{signal, SigHandler, Signal};
            signal(Signal::SIGXFSZ, SigHandler::SigIgn).map_err(std::io::Error::from)?;
            setrlimit(Resource::RLIMIT_FSIZE, limit, limit).map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let full = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&full.stderr);
    assert_eq!(full.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("trustguide.db"),
        "the message names the database: {stderr}"
    );
    assert!(
        stderr.contains("could not be written to the disk (is it full, or read-only?)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`trustguide resume 2` goes on from there"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .trim()
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "one message: {stderr}"
    );
    // What was saved before is intact.
    out.then(["history"])
        .code(0)
        .stdout_has("    1  2026-11-25  listening  speaker, listener  completed");
}

/// Saved sessions outlive the code: a store written by an earlier trustguide (kept in
/// tests/fixtures/store, made by `make-fixture.sh`; never remade) resumes with this one.
/// `before_resume` edits the copy first (to stand for an older or newer snapshot format).
fn resume_the_fixture_store(before_resume: &str) -> crate::util::Output {
    let db = std::fs::read(fixture("store/store-v1.db")).expect("the fixture store");
    let out = Test::new()
        .file("home/trustguide.db", db)
        .args(["history"])
        .run()
        .code(0)
        .stdout_has("paused (resume it)")
        .stdout_has("completed");
    if !before_resume.is_empty() {
        let conn = rusqlite::Connection::open(out.path("home").join("trustguide.db"))
            .expect("open the copy");
        conn.execute_batch(before_resume).expect("edit the copy");
    }
    out
}

#[test]
fn a_store_from_snapshot_format_1_resumes_every_kind_of_session() {
    // Format 0 is format 1 without its `version`: the same sessions resume from it.
    for (format, edit) in [
        (1, ""),
        (
            0,
            "UPDATE sessions SET snapshot = json_remove(snapshot, '$.version');",
        ),
    ] {
        let out = resume_the_fixture_store(edit);
        // 1: listening, paused by the couple; the transcript reads as one run.
        let out = out
            .file(
                "rest.yaml",
                "topic_listener: our evenings\nreflect_speaker: You miss our evenings together.\n\
                 heard_listener: true\nappreciation: { speaker: You let me finish., listener: \"\" }\n",
            )
            .then(["resume", "1", "--answers", "rest.yaml", "--transcript", "t.json"])
            .code(0)
            .stdout_has("going on after the last saved answer");
        let t = out.transcript("t.json");
        assert_eq!(t["outcome"], "completed", "format {format}");
        let answers: Vec<String> = t["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["answer"].as_str().map(str::to_owned))
            .collect();
        assert!(
            answers.contains(&"the chores".to_owned())
                && answers.contains(&"our evenings".to_owned()),
            "format {format}: both sittings' answers: {answers:?}"
        );
        // 2: boundaries, paused inside the safety check it calls.
        let out = out
            .file(
                "rest.yaml",
                "safety-check/threats: \"No\"\nsafety-check/control: \"Yes, mostly\"\nsafety-check/harm_self: \"No\"\n\
                 needs: [evenings out]\n\
                 shape: [I need to know where you are when you go out in the evening, so that I can relax at home.]\n\
                 response: [accept]\ncommitment: That I am choosing us.\nreview: +14d\n",
            )
            .then(["resume", "2", "--answers", "rest.yaml"])
            .code(0)
            .stdout_has("going on after the last saved answer.");
        // 3: held at a safety pause: it pauses again first, and stays resumable.
        let out = out
            .file("rest.yaml", "topic_speaker: the chores\n")
            .then(["resume", "3", "--answers", "rest.yaml"])
            .code(3)
            .stdout_has("so first: is everyone safe?")
            .stdout_has("Let's pause here.");
        // 4: a finished check-in: shown, with its records charted.
        let out = out
            .then(["show", "4"])
            .code(0)
            .stdout_has("Weekly check-in");
        out.then(["history"])
            .code(0)
            .stdout_has("paused for safety")
            .stdout_has("completed");
    }
}

#[test]
fn a_snapshot_from_a_newer_trustguide_is_refused_and_left_as_it_was() {
    let out = resume_the_fixture_store(
        "UPDATE sessions SET snapshot = json_set(snapshot, '$.version', 99) WHERE id = 1;",
    );
    let out = out
        .file("rest.yaml", "topic_listener: our evenings\n")
        .then(["resume", "1", "--answers", "rest.yaml"])
        .code(1)
        .error_without_panic()
        .stderr_has("session 1: it was saved by a newer trustguide (position format 99; this one reads up to 1); please update trustguide");
    out.then(["history"])
        .code(0)
        .stdout_has("paused (resume it)");
}

/// `export --format md` of a boundaries session reads as a summary for a therapist: option
/// labels rather than internal values, dates in words, the closing summary of what was agreed
/// and what is for a therapist; `show` draws the same for the terminal, without Markdown.
#[test]
fn a_boundaries_export_is_a_summary_a_therapist_can_read() {
    let answers = "safety-check/physical: \"No\"\nsafety-check/threats: \"No\"\n\
        safety-check/control: \"Yes, mostly\"\nsafety-check/harm_self: \"No\"\n\
        needs: [know about contact from her, evenings out]\n\
        shape:\n  - I need you to tell me the same day if she contacts you, so that I can stop wondering.\n\
        \x20 - I need your phone to stay in the kitchen at night, so that I can sleep.\n\
        response: [accept, therapist]\ncommitment: That I am choosing us.\nreview: +14d\n";
    let out = Test::new()
        .file("a.yaml", answers)
        .args([
            "run",
            "boundaries",
            "--as",
            "Alex",
            "--as",
            "Sam",
            "--answers",
            "a.yaml",
        ])
        .run()
        .code(0)
        .then(["export", "1", "--format", "md"])
        .code(0)
        .stdout_has("- Date: Wednesday 25 November 2026, 19:30")
        .stdout_has("**Sam**: How do you respond?\n\n> I agree to this\n")
        .stdout_has("> Wednesday 9 December 2026\n")
        .stdout_has("> - know about contact from her\n> - evenings out\n")
        .stdout_has("## Closing summary")
        .stdout_has("Agreed:\n- I need you to tell me the same day if she contacts you")
        .stdout_has("To talk over with a therapist:\n- I need your phone to stay in the kitchen");
    assert!(!out.stdout.contains("> accept"), "{}", out.stdout);
    // The safety check's answers were never saved: nothing of them to leave out or show.
    assert!(
        !out.stdout.contains("private answers are left out") && !out.stdout.contains("pushed, hit"),
        "{}",
        out.stdout
    );
    let shown = out.then(["show", "1"]).code(0);
    assert!(
        shown
            .stdout
            .contains("Sam: How do you respond?\n    I agree to this\n"),
        "{}",
        shown.stdout
    );
    assert!(
        !shown.stdout.contains("**") && !shown.stdout.contains("\n> "),
        "no Markdown on the terminal: {}",
        shown.stdout
    );
}
