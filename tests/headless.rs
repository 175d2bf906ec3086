//! Headless runs: `--answers` in, `--transcript` out, and every way an answers file or a flow
//! can be wrong.

use serde_json::json;

use crate::util::{fixture, Test};

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture exists")
}

/// A folder with the weekly check-in flow (written from the contract alone) and the flow it calls.
fn checkin(folder: &str) -> Test {
    Test::new()
        .file(
            &format!("{folder}weekly-checkin.yaml"),
            fixture_text("weekly-checkin.yaml"),
        )
        .file(
            &format!("{folder}breathing.yaml"),
            fixture_text("breathing.yaml"),
        )
}

#[test]
fn listening_runs_headless_and_writes_the_contract_transcript() {
    let out = Test::new()
        .file("answers.yaml", fixture_text("listening-answers.yaml"))
        .args([
            "run",
            "listening",
            "--as",
            "Sam",
            "--as",
            "Alex",
            "--answers",
            "answers.yaml",
        ])
        .args(["--transcript", "t.json"])
        .run()
        .code(0)
        .stdout_has("Welcome, Sam and Alex.");
    let actual = out.transcript("t.json");
    let expected: serde_json::Value =
        serde_json::from_str(&fixture_text("listening.transcript.json"))
            .expect("pinned transcript is JSON");
    assert_eq!(
        actual, expected,
        "transcript differs from tests/fixtures/listening.transcript.json"
    );
}

#[test]
fn the_transcript_has_the_contract_fields() {
    let out = Test::new()
        .file("answers.yaml", fixture_text("listening-answers.yaml"))
        .args([
            "run",
            "listening",
            "--answers",
            "answers.yaml",
            "--transcript",
            "t.json",
        ])
        .run()
        .code(0);
    let t = out.transcript("t.json");
    assert_eq!(t["flow"], "listening");
    assert_eq!(t["outcome"], "completed");
    assert_eq!(t["ended_at"], "wrap_up");
    assert_eq!(
        t["vars"],
        json!({"rounds_speaker": 2, "rounds_listener": 1})
    );
    assert_eq!(
        t["records"]["heard_rounds"],
        json!({"speaker": 2, "listener": 1})
    );
    assert_eq!(
        t["records"]["intensity"],
        json!({"speaker": 3, "listener": 4})
    );
    let events = t["events"].as_array().expect("events is a list");
    assert_eq!(events[0]["kind"], "say");
    assert_eq!(events[0]["step"], "welcome");
    let topic = events
        .iter()
        .find(|e| e["step"] == "topic_speaker")
        .expect("topic was asked");
    assert_eq!(topic["kind"], "ask");
    assert_eq!(topic["who"], "speaker");
    assert_eq!(topic["answer"], "the chores");
    // Without --as, the role names stand in for names.
    assert!(events[0]["text"]
        .as_str()
        .is_some_and(|t| t.starts_with("Welcome, speaker and listener.")));
}

#[test]
fn a_high_intensity_ends_in_the_cool_down_branch() {
    let out = Test::new()
        .file(
            "a.yaml",
            "intensity: {speaker: 9, listener: 2}\nready: false\n",
        )
        .args([
            "run",
            "listening",
            "--answers",
            "a.yaml",
            "--transcript",
            "t.json",
        ])
        .run()
        .code(0);
    let t = out.transcript("t.json");
    assert_eq!(
        (t["outcome"].as_str(), t["ended_at"].as_str()),
        (Some("stopped"), Some("stop_for_today"))
    );
    assert!(t["events"]
        .as_array()
        .expect("list")
        .iter()
        .any(|e| e["step"] == "cool_down"));
}

#[test]
fn a_flow_written_by_someone_else_runs_headless() {
    let out = checkin("checkin/")
        .file("answers.yaml", fixture_text("weekly-checkin-answers.yaml"))
        .args([
            "run",
            "checkin/weekly-checkin.yaml",
            "--as",
            "Robin",
            "--as",
            "Kai",
        ])
        .args(["--answers", "answers.yaml", "--transcript", "t.json"])
        .run()
        .code(0);
    let t = out.transcript("t.json");
    assert_eq!(t["outcome"], "completed");
    assert_eq!(t["ended_at"], "done");
    assert_eq!(t["vars"], json!({"topics_done": 2}));
    assert_eq!(
        t["records"],
        json!({"closeness_a": 4, "closeness_b": 3, "topics": 2})
    );
    let events = t["events"].as_array().expect("list");
    let answer = |step: &str| {
        events
            .iter()
            .find(|e| e["step"] == step)
            .map(|e| e["answer"].clone())
    };
    assert_eq!(answer("mood"), Some(json!("rocky")));
    assert_eq!(
        answer("wins"),
        Some(json!(["the walk on Sunday", "cooking together"]))
    );
    assert_eq!(answer("areas"), Some(json!(["time together", "chores"])));
    assert_eq!(answer("minutes"), Some(json!(20)));
    assert_eq!(answer("breathing/calm"), Some(json!(true)));
    assert_eq!(
        events[0]["text"],
        "Hello Robin and Kai. Today is 2026-11-25."
    );
    let last = events.last().expect("events");
    assert_eq!(
        last["text"],
        "See you on 2026-12-02 at 19:30, for 20 minutes."
    );
}

#[test]
fn an_option_goto_takes_the_early_exit() {
    let out = checkin("")
        .file(
            "a.yaml",
            "closeness: {partner_a: 1, partner_b: 2}\nmood: I would rather stop\n",
        )
        .args([
            "run",
            "weekly-checkin.yaml",
            "--answers",
            "a.yaml",
            "--transcript",
            "t.json",
        ])
        .run()
        .code(0);
    let t = out.transcript("t.json");
    assert_eq!(
        (t["outcome"].as_str(), t["ended_at"].as_str()),
        (Some("stopped"), Some("early_stop"))
    );
}

#[test]
fn a_missing_answer_names_the_step_and_leaves_no_transcript() {
    let out = Test::new()
        .file("a.yaml", "intensity: {speaker: 3, listener: 4}\n")
        .args([
            "run",
            "listening",
            "--answers",
            "a.yaml",
            "--transcript",
            "t.json",
        ])
        .run()
        .code(1)
        .error_without_panic()
        .stderr_has("a.yaml: no answer for step `topic_speaker` (asked of speaker)");
    assert!(
        !out.has_file("t.json"),
        "a failed run must not leave a half transcript"
    );
}

#[test]
fn a_wrong_type_names_the_file_line_and_step() {
    Test::new()
        .file(
            "a.yaml",
            "# scale answers are numbers\nintensity: {speaker: high, listener: 4}\n",
        )
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(1)
        .error_without_panic()
        .stderr_has("a.yaml:2:1: step `intensity`: Please give a whole number from 0 to 10.");
}

#[test]
fn too_few_answers_for_a_loop_says_how_many_were_needed() {
    Test::new()
        .file(
            "a.yaml",
            fixture_text("listening-answers.yaml")
                .replace("heard_speaker: [false, true]", "heard_speaker: [false]"),
        )
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(1)
        .stderr_has(
            "step `heard_speaker` was reached 2 times, but the answers file gives 1 answer",
        );
}

#[test]
fn an_unknown_step_in_the_answers_file_gets_a_suggestion() {
    Test::new()
        .file("a.yaml", "intensty: {speaker: 3, listener: 4}\n")
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(1)
        .stderr_has("a.yaml:1:1: `intensty` is not a question of flow `listening`; did you mean `intensity`?");
}

#[test]
fn an_answers_file_that_is_not_a_map_is_refused_clearly() {
    Test::new()
        .file("a.yaml", "- just\n- a list\n")
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(1)
        .error_without_panic()
        .has_diagnostic("a.yaml:1:1: error:");
    Test::new()
        .file("a.yaml", b"topic_speaker: \xff\xfe\n")
        .args(["run", "listening", "--answers", "a.yaml"])
        .run()
        .code(1)
        .has_diagnostic("a.yaml:1:16: error: the file is not saved as UTF-8 text");
}

#[test]
fn no_terminal_and_no_answers_is_a_clear_error() {
    Test::new()
        .args(["run", "listening"])
        .run()
        .code(1)
        .error_without_panic()
        .stderr_has("needs a terminal to ask its questions")
        .stderr_has("--answers FILE");
}

#[test]
fn a_broken_flow_is_reported_at_its_line_with_a_suggestion() {
    let flow =
        "flow: broken\ntitle: Broken\nsteps:\n  - id: first\n    ask: text\n    promt: Hello?\n";
    Test::new()
        .file("broken.yaml", flow)
        .args(["run", "broken.yaml", "--answers", "a.yaml"])
        .file("a.yaml", "first: hi\n")
        .run()
        .code(1)
        .error_without_panic()
        .has_diagnostic("broken.yaml:6:5: error: `promt` is not a field of a step")
        .stderr_has("6 |     promt: Hello?")
        .stderr_has("help: did you mean `prompt`?");
}

#[test]
fn every_semantic_problem_is_reported_in_one_go() {
    let flow = "flow: faults\ntitle: Faults\nparticipants: [a]\nsteps:\n  - id: one\n    ask: scale\n    min: 5\n    max: 1\n    prompt: Rate\n    who: b\n  - id: two\n    say: '{{ one }'\n    next: thre\n  - id: three\n    say: end\n";
    Test::new()
        .file("faults.yaml", flow)
        .file("a.yaml", "one: 3\n")
        .args(["run", "faults.yaml", "--answers", "a.yaml"])
        .run()
        .code(1)
        .has_diagnostic("faults.yaml:7:10: error: scale `min` 5 must be less than `max` 1")
        .has_diagnostic("faults.yaml:10:10: error: `who: b` is not a role of this flow")
        .has_diagnostic("faults.yaml:12:18: error: template error: `{{` is not closed with `}}`")
        .has_diagnostic("faults.yaml:13:11: error: no step with id `thre` to go to")
        .stderr_has("did you mean `three`?")
        .stderr_has("(4 errors)");
}

#[test]
fn a_template_include_outside_the_content_library_is_refused() {
    let flow =
        "flow: sneaky\ntitle: Sneaky\nsteps:\n  - say: '{% include \"../../etc/passwd\" %}'\n";
    Test::new()
        .file("sneaky.yaml", flow)
        .file("a.yaml", "{}\n")
        .args(["run", "sneaky.yaml", "--answers", "a.yaml"])
        .run()
        .code(1)
        .error_without_panic()
        .has_diagnostic("sneaky.yaml:4:22: error: `include \"../../etc/passwd\"`")
        .stderr_has("is not a content name")
        .stderr_has("the flow could not be loaded");
}

#[test]
fn an_unknown_flow_suggests_the_nearest() {
    Test::new()
        .args(["run", "listenin", "--answers", "a.yaml"])
        .run()
        .code(1)
        .stderr_has("no flow called `listenin`")
        .stderr_has("did you mean `listening`?");
}

#[test]
fn list_shows_built_in_and_local_flows() {
    Test::new()
        .file(
            "flows/weekly-checkin.yaml",
            fixture_text("weekly-checkin.yaml"),
        )
        .args(["list"])
        .run()
        .code(0)
        .stdout_has("listening")
        .stdout_has("Active listening · 20 min\n")
        .stdout_has("weekly-checkin")
        .stdout_has("· from ./flows");
}

/// A bare `trustguide` greets a newcomer instead of printing usage; a paused session is
/// named first.
#[test]
fn a_bare_trustguide_greets_and_names_a_waiting_session() {
    let out = Test::new()
        .run()
        .code(0)
        .stdout_has("guided exercises for couples rebuilding trust")
        .stdout_has("`trustguide help-now`")
        .stdout_has("trustguide run listening")
        .stdout_has("/pause");
    assert!(!out.stdout.contains("is waiting"), "{}", out.stdout);
    let flow = "flow: two\ntitle: Two\nsteps:\n  - id: first\n    ask: text\n    prompt: First?\n  - id: second\n    ask: text\n    prompt: Second?\n";
    out.file("two.yaml", flow)
        .file("a.yaml", "first: fine\n")
        .then(["run", "two.yaml", "--answers", "a.yaml"])
        .code(1)
        .then(Vec::<&str>::new())
        .code(0)
        .stdout_has(
            "Session 1 (Two, started 2026-11-25) is waiting: `trustguide resume` goes on\nwith it.",
        );
}

#[test]
fn bad_usage_exits_2() {
    Test::new().args(["run"]).run().code(2);
    Test::new().args(["dance"]).run().code(2);
}

#[test]
fn a_flow_safety_trigger_pauses_with_exit_3_and_a_calm_screen() {
    let flow = "flow: screen\ntitle: Screen\nsteps:\n  - id: afraid\n    ask: confirm\n    prompt: Are you afraid of your partner?\n    safety: { when: afraid, category: fear_for_safety }\n  - say: Let us begin.\n";
    let out = Test::new()
        .file("screen.yaml", flow)
        .file("a.yaml", "afraid: true\n")
        .args([
            "run",
            "screen.yaml",
            "--answers",
            "a.yaml",
            "--transcript",
            "t.json",
        ])
        .run()
        .code(3)
        .stdout_has("Let's pause here.")
        .stdout_has("call your local emergency number");
    assert!(
        !out.stdout.contains("fear_for_safety"),
        "the category must not be shown on screen"
    );
    assert!(
        !out.stdout.contains("Let us begin."),
        "nothing after the trigger runs"
    );
    let t = out.transcript("t.json");
    assert_eq!(t["outcome"], "safety_stop");
    assert_eq!(t["ended_at"], "afraid");
    let last = t["events"]
        .as_array()
        .and_then(|e| e.last().cloned())
        .expect("events");
    assert_eq!(
        last,
        json!({"step": "afraid", "kind": "safety", "category": "fear_for_safety"})
    );
}

/// A risk phrase typed into a free-text answer of a built-in flow pauses it, with the same
/// calm words and the region's help as at the keyboard.
#[test]
fn a_risk_phrase_in_a_free_text_answer_shows_the_regions_help() {
    let answers = std::fs::read_to_string(crate::util::fixture("listening-answers.yaml"))
        .expect("fixture")
        .replace(
            "clarify_speaker: It is about feeling unseen too.",
            "clarify_speaker: honestly everyone would be better off without me around",
        );
    assert!(answers.contains("better off without me"));
    let out = Test::new()
        .file("a.yaml", &answers)
        .args(["run", "listening", "--as", "Sam", "--as", "Alex"])
        .args(["--answers", "a.yaml", "--region", "UK"])
        .run()
        .code(3)
        .stdout_has("Let's pause here.")
        .stdout_has("call 999 (United Kingdom)")
        .stdout_has("Samaritans: call 116 123");
    assert!(!out.stdout.contains("self_harm"), "no category on screen");
    assert!(
        !out.stdout.contains("You feel alone with the chores"),
        "the exercise does not go on"
    );
}

/// A 1 MB answer, or an empty one where an answer is needed, is refused at its line and step;
/// the session is kept, to resume.
#[test]
fn a_huge_or_empty_answer_is_refused_and_the_session_is_kept() {
    let huge = format!(
        "intensity: {{ speaker: 3, listener: 4 }}\ntopic_speaker: {}\n",
        "a".repeat(1_000_000)
    );
    Test::new()
        .file("a.yaml", huge)
        .args(["run", "listening", "--as", "Sam", "--as", "Alex"])
        .args(["--answers", "a.yaml"])
        .run()
        .code(1)
        .error_without_panic()
        .stderr_has("a.yaml:2:1: step `topic_speaker`: That answer is 1000000 characters; at most 20000 fit here.")
        .then(["history"])
        .code(0)
        .stdout_has("not finished (resume it)")
        .file("e.yaml", "intensity: { speaker: 3, listener: 4 }\ntopic_speaker: \"\"\n")
        .then(["run", "listening", "--as", "Sam", "--as", "Alex", "--answers", "e.yaml"])
        .code(1)
        .stderr_has("e.yaml:2:1: step `topic_speaker`: An answer is needed here.");
}

/// The couple's own pause word: chosen in the pause-signal flow, then it pauses any run.
#[test]
fn the_pause_word_chosen_in_the_pause_signal_flow_pauses_later_runs() {
    let chosen = "word: Pineapple\nagree: yes\ncome_back: Within a day\n";
    let flow = "flow: share\ntitle: Share\nsteps:\n  - id: feeling\n    ask: text\n    prompt: How are you?\n  - say: Thank you.\n";
    let out = Test::new()
        .file("chosen.yaml", chosen)
        .file("share.yaml", flow)
        .file("paused.yaml", "feeling: pineapple\n")
        .args(["run", "pause-signal", "--as", "Sam", "--as", "Alex"])
        .args(["--answers", "chosen.yaml"])
        .run()
        .code(0)
        .stdout_has("Saved. From now on, typing `pineapple` (or /pause)");
    let out = out
        .then(["run", "share.yaml", "--answers", "paused.yaml"])
        .code(0)
        .stdout_has("Paused and saved.")
        .stdout_has("Session 2 is paused. `trustguide resume 2` goes on from here.");
    let out = out
        .then(["history"])
        .code(0)
        .stdout_has("paused (resume it)");
    // `forget --all` takes the word with the sessions.
    out.then(["forget", "--all", "--yes"])
        .code(0)
        .then(["run", "share.yaml", "--answers", "paused.yaml"])
        .code(0)
        .stdout_has("Thank you.");
}

#[test]
fn an_everyday_answer_is_not_saved_as_a_pause_word() {
    Test::new()
        .file(
            "chosen.yaml",
            "word: okay\nagree: yes\ncome_back: Within a day\n",
        )
        .args(["run", "pause-signal", "--answers", "chosen.yaml"])
        .run()
        .code(0)
        .stdout_has("The pause word was not saved: `okay` is an everyday answer");
}

/// A region given once with `--region` is remembered: help-now, and the pause of a later
/// session (resumed or new), use it without being told again; `--region` changes it.
#[test]
fn a_region_given_once_is_remembered_for_later_sessions() {
    let answers =
        std::fs::read_to_string(crate::util::fixture("listening-answers.yaml")).expect("fixture");
    let out = Test::new()
        .env("LANG", "C")
        .env("LC_ALL", "")
        .env("LC_MESSAGES", "")
        .file("a.yaml", &answers)
        .args(["run", "listening", "--as", "Sam", "--as", "Alex"])
        .args(["--answers", "a.yaml", "--region", "NZ"])
        .run()
        .code(0)
        .then(["help-now"])
        .code(0)
        .stdout_has("New Zealand");
    let risky = answers.replace(
        "clarify_speaker: It is about feeling unseen too.",
        "clarify_speaker: honestly everyone would be better off without me around",
    );
    out.file("b.yaml", &risky)
        .then([
            "run",
            "listening",
            "--as",
            "Sam",
            "--as",
            "Alex",
            "--answers",
            "b.yaml",
        ])
        .code(3)
        .stdout_has("(New Zealand)")
        .then(["help-now", "--region", "UK"])
        .code(0)
        .stdout_has("United Kingdom")
        .then(["help-now"])
        .code(0)
        .stdout_has("New Zealand");
}
