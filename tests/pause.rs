//! Issue 14, "A pause couples can trust": what a safety pause keeps, and what it never keeps.

use crate::util::Test;

const FLOW: &str = "flow: share\ntitle: Share\nparticipants: [partner_a, partner_b]\nsteps:\n  - id: day\n    ask: text\n    who: partner_a\n    prompt: How was your day?\n  - id: feeling\n    ask: text\n    who: partner_b\n    prompt: How are you, really?\n  - say: Thank you.\n";

/// Distinctive words around a phrase the built-in patterns surely catch.
const RISK: &str = "periwinkle lantern, i want to kill myself";
const MARK: &str = "periwinkle lantern";

/// What a pause noticed, by the id of each built-in category: none may be kept.
fn category_ids() -> &'static [String] {
    let ids = trustguide::safety::builtin_category_ids();
    assert!(ids.iter().any(|id| id == "self_harm"), "{ids:?}");
    ids
}

fn on_disk(out: &crate::util::Output, needle: &str) -> Vec<String> {
    [
        "trustguide.db",
        "trustguide.db-wal",
        "trustguide.db-journal",
    ]
    .iter()
    .filter(|name| {
        std::fs::read(out.path("home").join(name))
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
    .map(|name| name.to_string())
    .collect()
}

#[test]
fn the_words_that_caused_a_pause_are_never_written_to_disk() {
    let answers = format!("day: a long one, the corner shop was shut\nfeeling: \"{RISK}\"\n");
    let out = Test::new()
        .file("share.yaml", FLOW)
        .file("a.yaml", answers)
        .args([
            "run",
            "share.yaml",
            "--answers",
            "a.yaml",
            "--transcript",
            "t.json",
        ])
        .args(["--as", "Sam", "--as", "Alex"])
        .run()
        .code(3)
        .stdout_has("Let's pause here.");
    assert!(
        !out.stdout.contains("self_harm") && !out.stdout.contains(MARK),
        "{}",
        out.stdout
    );
    // The transcript the user asked for keeps the answer and the safety event, as the contract says.
    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path("t.json")).expect("transcript"))
            .expect("JSON");
    assert_eq!(t["outcome"], "safety_stop");
    let events = t["events"].as_array().expect("events");
    let n = events.len();
    assert_eq!(events[n - 2]["answer"], RISK);
    assert_eq!(events[n - 1]["kind"], "safety");
    assert_eq!(events[n - 1]["category"], "self_harm");
    assert_eq!(t["ended_at"], "feeling");

    assert!(on_disk(&out, MARK).is_empty(), "{:?}", on_disk(&out, MARK));
    assert!(on_disk(&out, "kill myself").is_empty());
    // Nor what the pause noticed: no category id in any file of the store.
    for id in category_ids() {
        assert!(
            on_disk(&out, id).is_empty(),
            "{id}: {:?}",
            on_disk(&out, id)
        );
    }
    // The everyday answer before it is kept.
    let out = out
        .then(["history"])
        .code(0)
        .stdout_has("paused for safety");
    let out = out
        .then(["show", "1"])
        .code(0)
        .stdout_has("a long one, the corner shop");
    assert!(!out.stdout.contains(MARK) && !out.stdout.contains("kill myself"));
    assert!(
        out.stdout.contains("Paused for safety here."),
        "{}",
        out.stdout
    );
    let no_category = |out: &crate::util::Output| {
        for id in category_ids() {
            assert!(!out.stdout.contains(id.as_str()), "{id}: {}", out.stdout);
        }
    };
    no_category(&out);
    let out = out.then(["export", "1", "--include-private"]).code(0);
    assert!(!out.stdout.contains(MARK), "{}", out.stdout);
    no_category(&out);
    let out = out
        .then(["export", "1", "--format", "json", "--include-private"])
        .code(0);
    assert!(!out.stdout.contains(MARK), "{}", out.stdout);
    no_category(&out);
    let out = out.then(["history", "--json"]).code(0);
    no_category(&out);

    // A resume asks the safety question first; without anyone at the keyboard to answer it,
    // the run stops there again, and the session is still kept.
    // Its transcript, asked for again, cannot say what the pause noticed: it was not kept.
    let out = out
        .file("rest.yaml", "feeling: fine, tired\n")
        .then([
            "resume",
            "1",
            "--answers",
            "rest.yaml",
            "--transcript",
            "t2.json",
        ])
        .code(3)
        .stdout_has("so first: is everyone safe?")
        .stdout_has("Let's pause here.");
    assert!(on_disk(&out, MARK).is_empty());
    for id in category_ids() {
        assert!(
            on_disk(&out, id).is_empty(),
            "{id}: {:?}",
            on_disk(&out, id)
        );
    }
    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path("t2.json")).expect("transcript"))
            .expect("JSON");
    let events = t["events"].as_array().expect("events");
    assert_eq!(
        events.last(),
        Some(&serde_json::json!({"step": "feeling", "kind": "safety", "category": "not_kept"})),
        "{t}"
    );
    out.then(["history"])
        .code(0)
        .stdout_has("paused for safety");
}

#[test]
fn a_flow_trigger_with_stop_ends_the_exercise_for_today_and_keeps_the_session() {
    let out = Test::new()
        .file("s.yaml", "physical: \"Yes\"\n")
        .args(["run", "safety-check", "--answers", "s.yaml"])
        .run()
        .code(3)
        .stdout_has("the exercise ends here for today");
    let out = out
        .then(["history"])
        .code(0)
        .stdout_has("paused for safety; ended for today");
    let out = out
        .then(["resume", "1"])
        .code(1)
        .stderr_has("`trustguide run safety-check` starts the exercise again");
    // Another day, the exercise starts again.
    out.file(
        "ok.yaml",
        "physical: \"No\"\nthreats: \"No\"\ncontrol: \"Yes, mostly\"\nharm_self: \"No\"\n",
    )
    .then(["run", "safety-check", "--answers", "ok.yaml"])
    .code(0);
}

#[test]
fn bad_answers_give_a_clear_message_and_keep_the_session() {
    let big = "a".repeat(1 << 20);
    for (name, answers, says) in [
        (
            "empty",
            b"feeling: \"\"\n".to_vec(),
            "An answer is needed here.",
        ),
        (
            "huge",
            format!("feeling: {big}\n").into_bytes(),
            "at most 20000 fit here",
        ),
        ("bytes", b"feeling: \"caf\xe9\"\n".to_vec(), "UTF-8"),
    ] {
        let out = Test::new()
            .file("share.yaml", FLOW)
            .file("first.yaml", "day: fine\nfeeling: \"\"\n")
            .args(["run", "share.yaml", "--answers", "first.yaml"])
            .run()
            .code(1)
            .error_without_panic()
            .stderr_has("An answer is needed here.");
        // The session is kept: history lists it, and a resume with a bad file says why.
        let out = out.then(["history"]).code(0).stdout_has("not finished");
        let out = out
            .file("bad.yaml", &answers)
            .then(["resume", "1", "--answers", "bad.yaml"])
            .code(1)
            .error_without_panic();
        assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
        assert!(out.stderr.len() < 2000, "{name}: a short message");
        out.then(["history"]).code(0).stdout_has("not finished");
    }
}

/// A safety check's own answers (`keep: false`) steer the exercise and are never written:
/// not to the store, not to `show` or an export with `--include-private`.
#[test]
fn a_safety_checks_answers_are_never_written_to_disk() {
    let flow = "flow: check\ntitle: Check\nparticipants: [partner_a]\nsteps:\n  - id: hurt\n    ask: text\n    private: true\n    keep: false\n    prompt: Is anything worrying you at home?\n  - id: evening\n    ask: text\n    prompt: How was the evening?\n    next:\n      - when: hurt | length == 24\n        goto: calm\n  - id: other\n    say: Not the expected answer.\n    end: completed\n  - id: calm\n    say: Thank you.\n";
    let out = Test::new()
        .file("check.yaml", flow)
        .file(
            "a.yaml",
            "hurt: nothing, quince marigold\nevening: a slow one, soup\n",
        )
        .args(["run", "check.yaml", "--answers", "a.yaml", "--as", "Sam"])
        .run()
        .code(0)
        // The answer was there to steer by while the flow ran.
        .stdout_has("Thank you.");
    assert!(
        on_disk(&out, "quince").is_empty(),
        "{:?}",
        on_disk(&out, "quince")
    );
    assert!(
        !on_disk(&out, "a slow one, soup").is_empty(),
        "the kept answer is saved"
    );
    let out = out.then(["show", "1", "--include-private"]).code(0);
    assert!(!out.stdout.contains("quince"), "{}", out.stdout);
    let out = out
        .then(["export", "1", "--format", "json", "--include-private"])
        .code(0);
    assert!(!out.stdout.contains("quince"), "{}", out.stdout);
}
