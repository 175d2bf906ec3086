//! The safety screen measured on labelled sets written the way people type
//! (tests/fixtures/safety): risk lines must pause the session, ordinary ones must not.
//! `cargo test --test integration safety:: -- --nocapture` prints the figures; every scoring
//! of a blind set during development is logged in docs/safety.md.
//!
//! The targets are the product's: on blind hard cases recall at least 0.98 and false pauses
//! at most 0.03; on everyday answers typed into the exercises false pauses at most 0.01.

use std::sync::OnceLock;

use trustguide::safety::Profile;

/// Labelled lines of a fixture: (label, text); the label is the first column and the text
/// the last (the everyday set has the exercise between them).
fn lines(name: &str) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(crate::util::fixture(&format!("safety/{name}"))).expect("fixture");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let label = l.split('\t').next().unwrap_or_default();
            let text = l.rsplit('\t').next().unwrap_or_default();
            assert_ne!(label, text, "no tab in: {l}");
            (label.to_owned(), text.to_owned())
        })
        .collect()
}

fn is_risk(label: &str) -> bool {
    [
        "self_harm",
        "violence",
        "fear_for_safety",
        "emergency",
        "child_safety",
    ]
    .contains(&label)
}

/// One profile, with its encoder, for every test in this module.
fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| {
        let p = Profile::builtin().expect("profile");
        if let Some(problem) = p.model_problem() {
            panic!("the safety model did not load: {problem}");
        }
        p
    })
}

struct Figures {
    recall: f64,
    false_pauses: f64,
}

/// Screens every line of `files`, prints the figures with every miss and false pause, and
/// returns them.
fn measure(set: &str, files: &[&str]) -> Figures {
    let profile = profile();
    let all: Vec<(String, String)> = files.iter().flat_map(|f| lines(f)).collect();
    let (risk, safe): (Vec<_>, Vec<_>) = all.iter().partition(|(l, _)| is_risk(l));
    let risk: Vec<_> = risk.into_iter().map(|l| (l, profile.scan(&l.1))).collect();
    let missed: Vec<_> = risk
        .iter()
        .filter(|(_, c)| c.is_empty())
        .map(|(l, _)| l)
        .collect();
    let same_category = risk
        .iter()
        .filter(|((label, _), c)| c.contains(&label.as_str()))
        .count();
    let alarms: Vec<_> = safe
        .iter()
        .map(|l| (l, profile.scan(&l.1)))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let recall = if risk.is_empty() {
        1.0
    } else {
        1.0 - missed.len() as f64 / risk.len() as f64
    };
    let false_pauses = alarms.len() as f64 / safe.len().max(1) as f64;
    println!(
        "safety screen on {set}: recall {recall:.3} ({} of {} risk lines; {same_category} in the labelled category), false pauses {false_pauses:.3} ({} of {} ordinary lines)",
        risk.len() - missed.len(),
        risk.len(),
        alarms.len(),
        safe.len()
    );
    for (c, t) in &missed {
        println!("  missed [{c}] {t}");
    }
    for ((k, t), cats) in &alarms {
        println!("  paused [{k}] {t}  -> {cats:?}");
    }
    Figures {
        recall,
        false_pauses,
    }
}

/// Where `f` falls below `floor` (recall, false pauses) by more than one point of slack (for
/// the last bits of floating point on another machine): what fell, in words.
fn below_floor(f: &Figures, (recall, false_pauses): (f64, f64)) -> Option<String> {
    (f.recall < recall - 0.01 || f.false_pauses > false_pauses + 0.01).then(|| {
        format!(
            "recall {:.3} (floor {recall}), false pauses {:.3} (floor {false_pauses})",
            f.recall, f.false_pauses
        )
    })
}

/// Prints whether the product's targets are met and asserts that the committed model does
/// not fall below what it measured when it was committed (`floor`: recall and false pauses
/// as logged in docs/safety.md, with one point of slack for the last bits of floating point
/// on another machine). Where a target is not met, the floor keeps it from getting worse.
fn report_targets(f: &Figures, target: (f64, f64), floor: (f64, f64)) {
    let met = |ok: bool| if ok { "met" } else { "NOT MET" };
    println!(
        "  targets: recall >= {} {}, false pauses <= {} {}",
        target.0,
        met(f.recall >= target.0),
        target.1,
        met(f.false_pauses <= target.1)
    );
    if let Some(fell) = below_floor(f, floor) {
        panic!("below the floor, with one point of slack: {fell}");
    }
}

/// What the committed screen measured on each blind set when it was scored (docs/safety.md):
/// recall and false pauses.
const FLOOR_HARD: (f64, f64) = (0.970, 0.032);
const FLOOR_EVERYDAY: (f64, f64) = (0.978, 0.009);
const FLOOR_FINAL: (f64, f64) = (0.962, 0.039);

/// Blind set 35: hard cases (270 risk, 340 ordinary lines that a keyword screen or a hasty
/// classifier would get wrong), written by a separate writer who saw only a one-page brief
/// and the exercises' questions: no code, no model, no other set. The committed screen was
/// never trained or tuned on it; it waits in `spent/` for the next model to train on, as
/// sets 36 and 38 do.
#[test]
fn blind_hard_cases() {
    let f = measure("blind set 35 (hard cases)", &["spent/set35-hard.tsv"]);
    report_targets(&f, (0.98, 0.03), FLOOR_HARD);
}

/// Blind set 36: answers typed into the built-in exercises (800 ordinary, 90 at risk in the
/// exercises' own sentence frames), by another separate writer with the same brief.
#[test]
fn blind_everyday_exercise_answers() {
    let f = measure(
        "blind set 36 (everyday exercise answers)",
        &["spent/set36-everyday.tsv"],
    );
    report_targets(&f, (0.98, 0.01), FLOOR_EVERYDAY);
}

/// Blind set 38: 210 risk and 410 ordinary lines (half everyday answers, half hard ones),
/// written by a third separate writer after the committed screen was final (the fifteenth
/// round kept it), and scored once for the record (docs/safety.md). It is in `spent/`
/// because the next model trains on it; the committed screen never saw it.
#[test]
fn blind_final_set() {
    let f = measure(
        "blind set 38 (written after the screen was final)",
        &["spent/set38-final.tsv"],
    );
    report_targets(&f, (0.98, 0.03), FLOOR_FINAL);
}

/// Measures each set and holds it to its floor (recall, false pauses) with one point of slack.
/// Every set is measured before the test fails, so that one run shows every set that fell.
fn hold_floors(sets: &[(&str, &[&str], (f64, f64))]) {
    let mut fallen = Vec::new();
    for &(name, files, floor) in sets {
        if let Some(fell) = below_floor(&measure(name, files), floor) {
            fallen.push(format!("{name}: {fell}"));
        }
    }
    assert!(
        fallen.is_empty(),
        "below the floor, with one point of slack:\n{}",
        fallen.join("\n")
    );
}

/// Blind sets 10 to 34 and 37, scored against the fourth to fourteenth rounds' screens (the
/// log in docs/safety.md). Sets 10 to 32 were trained on since: what the committed model
/// measures on them is no longer a blind figure, but it must not fall (floors: what it
/// measured when it was committed, with one point of slack). Sets 33, 34 and 37 are still
/// blind to the committed screen, which never trained on them.
/// About 18,400 lines, so they run with the older sets, on request, whenever the screen changes:
/// `cargo test --test integration safety:: -- --ignored --nocapture`.
#[test]
#[ignore = "trained-on sets; run when the screen changes (docs/safety.md)"]
fn spent_blind_sets() {
    hold_floors(&[
        (
            "spent blind set 10 (hard cases)",
            &["spent/set10-hard.tsv"],
            (0.997, 0.010),
        ),
        (
            "spent blind set 11 (everyday exercise answers)",
            &["spent/set11-everyday.tsv"],
            (1.000, 0.000),
        ),
        (
            "spent blind set 12",
            &["spent/set12-final.tsv"],
            (0.996, 0.000),
        ),
        (
            "spent blind set 13 (hard cases)",
            &["spent/set13-hard.tsv"],
            (1.000, 0.005),
        ),
        (
            "spent blind set 14 (everyday exercise answers)",
            &["spent/set14-everyday.tsv"],
            (1.000, 0.001),
        ),
        (
            "spent blind set 15",
            &["spent/set15-final.tsv"],
            (1.000, 0.000),
        ),
        (
            "spent blind set 16 (hard cases)",
            &["spent/set16-hard.tsv"],
            (1.000, 0.006),
        ),
        (
            "spent blind set 17 (everyday exercise answers)",
            &["spent/set17-everyday.tsv"],
            (1.000, 0.001),
        ),
        (
            "spent blind set 18",
            &["spent/set18-final.tsv"],
            (1.000, 0.002),
        ),
        (
            "spent blind set 19 (hard cases)",
            &["spent/set19-hard.tsv"],
            (0.996, 0.006),
        ),
        (
            "spent blind set 20 (everyday exercise answers)",
            &["spent/set20-everyday.tsv"],
            (1.000, 0.003),
        ),
        (
            "spent blind set 21",
            &["spent/set21-final.tsv"],
            (1.000, 0.002),
        ),
        (
            "spent blind set 22 (hard cases)",
            &["spent/set22-hard.tsv"],
            (1.000, 0.003),
        ),
        (
            "spent blind set 23 (everyday exercise answers)",
            &["spent/set23-everyday.tsv"],
            (1.000, 0.001),
        ),
        (
            "spent blind set 24",
            &["spent/set24-final.tsv"],
            (1.000, 0.002),
        ),
        // Scored against the eleventh round's screen (run k) in the eleventh to thirteenth
        // rounds; trained on by the committed screen (run n) since the fourteenth.
        (
            "spent blind set 25 (hard cases)",
            &["spent/set25-hard.tsv"],
            (0.978, 0.006),
        ),
        (
            "spent blind set 26 (everyday exercise answers)",
            &["spent/set26-everyday.tsv"],
            (1.000, 0.000),
        ),
        (
            "spent blind set 27",
            &["spent/set27-final.tsv"],
            (0.995, 0.020),
        ),
        (
            "spent blind set 28 (hard cases)",
            &["spent/set28-hard.tsv"],
            (0.993, 0.015),
        ),
        (
            "spent blind set 29 (everyday exercise answers)",
            &["spent/set29-everyday.tsv"],
            (1.000, 0.000),
        ),
        (
            "spent blind set 30 (hard cases)",
            &["spent/set30-hard.tsv"],
            (0.978, 0.009),
        ),
        (
            "spent blind set 31 (everyday exercise answers)",
            &["spent/set31-everyday.tsv"],
            (1.000, 0.003),
        ),
        (
            "spent blind set 32",
            &["spent/set32-final.tsv"],
            (0.995, 0.002),
        ),
        // The committed screen's blind sets of the fourteenth round, scored once against it
        // and never trained on by it (these are still its blind figures); the next model
        // trains on them.
        (
            "spent blind set 33 (hard cases)",
            &["spent/set33-hard.tsv"],
            (0.937, 0.021),
        ),
        (
            "spent blind set 34 (everyday exercise answers)",
            &["spent/set34-everyday.tsv"],
            (0.989, 0.003),
        ),
        (
            "spent blind set 37",
            &["spent/set37-final.tsv"],
            (0.943, 0.046),
        ),
    ]);
}

/// The sets trained on three rounds ago and more: blind sets 1 to 9 and the development
/// sets (with `final-*` and `exercise-*`, the earlier detector's test sets). The model must
/// at least have learned them. About 7,300 lines, several minutes of CI for lines the model
/// was trained on, so they run on request, when a model is retrained:
/// `cargo test --test integration safety:: -- --ignored --nocapture`.
#[test]
#[ignore = "trained-on sets; run when retraining (docs/safety.md)"]
fn older_training_sets() {
    hold_floors(&[
        (
            "spent blind set 1 (hard cases)",
            &["spent/hard-risk.tsv", "spent/hard-safe.tsv"],
            (1.000, 0.007),
        ),
        (
            "spent blind set 2 (everyday exercise answers)",
            &["spent/everyday.tsv"],
            (1.000, 0.000),
        ),
        ("spent blind set 3", &["spent/final.tsv"], (1.000, 0.008)),
        (
            "spent blind set 4 (hard cases)",
            &["spent/set4-hard.tsv"],
            (1.000, 0.004),
        ),
        (
            "spent blind set 5 (everyday exercise answers)",
            &["spent/set5-everyday.tsv"],
            (1.000, 0.000),
        ),
        (
            "spent blind set 6",
            &["spent/set6-final.tsv"],
            (1.000, 0.003),
        ),
        (
            "spent blind set 7 (hard cases)",
            &["spent/set7-hard.tsv"],
            (1.000, 0.012),
        ),
        (
            "spent blind set 8 (everyday exercise answers)",
            &["spent/set8-everyday.tsv"],
            (1.000, 0.001),
        ),
        (
            "spent blind set 9",
            &["spent/set9-final.tsv"],
            (1.000, 0.003),
        ),
        (
            "development sets (trained on)",
            &[
                "risk.tsv",
                "safe.tsv",
                "holdout-risk.tsv",
                "holdout-safe.tsv",
                "fresh-risk.tsv",
                "fresh-safe.tsv",
                "final-risk.tsv",
                "final-safe.tsv",
                "exercise-risk.tsv",
                "exercise-safe.tsv",
            ],
            (0.997, 0.002),
        ),
    ]);
}

/// The validation sets the threshold was chosen on, never trained on: `unseen` (written for
/// the earlier detector as its validation set), `test2` (the earlier detector's second test
/// set, by a separate writer), and the seventh round's `val-hard` and `val-everyday`, each
/// written blind by a separate writer. Floors: what the committed model measures on them,
/// with one point of slack.
#[test]
fn validation_sets() {
    hold_floors(&[
        (
            "validation sets (unseen, test2)",
            &[
                "unseen-risk.tsv",
                "unseen-safe.tsv",
                "test2-risk.tsv",
                "test2-safe.tsv",
            ],
            (0.990, 0.010),
        ),
        (
            "validation set val-hard (hard cases)",
            &["val-hard.tsv"],
            (0.969, 0.031),
        ),
        (
            "validation set val-everyday (everyday exercise answers)",
            &["val-everyday.tsv"],
            (0.989, 0.004),
        ),
    ]);
}

/// The screen skips the vote of the nearest training lines where no vote could make the
/// answer pause (src/safety/mod.rs): on the hardest validation lines it pauses exactly as
/// when the vote is always taken.
#[test]
fn skipping_a_vote_that_cannot_matter_changes_no_outcome() {
    let p = profile();
    let mut voted = 0;
    // Every third line: the hard cases, risk and ordinary, in the order written.
    for (_, text) in lines("val-hard.tsv").into_iter().step_by(3) {
        let quick = p.judge(&text);
        let full = p.judge_fully(&text);
        assert_eq!(quick.categories, full.categories, "{text}");
        voted += usize::from(quick.vote.is_some());
        if full.vote.is_some() && quick.vote.is_none() {
            // Skipped: under the lowest risk that can pause, with any vote.
            assert!(
                full.risk < Some(p.encoder().map_or(0.0, |e| e.meta.threshold)),
                "{text}"
            );
        }
    }
    // The shortcut is taken for most lines, and not for all.
    assert!(voted > 20 && voted < 240, "{voted} of 247 lines voted");
}

/// The examples the issue was filed with: everyday answers that paused sessions, plain
/// disclosures that were missed, and risk diluted by ordinary words.
#[test]
fn the_answers_that_went_wrong_before() {
    let p = profile();
    for ordinary in [
        "You felt alone and shut out when I stopped saying where I was going",
        "phone not face down on the table",
        "my sister Jo, she'll come over after",
        "I want to stop hiding things from you",
        "I'll go for a long walk after",
        "he has never hit me",
        "she would never hurt the kids",
        "my ex was abusive but that was ten years ago and i'm safe now",
        "he cuts the grass on sundays",
        "he held my hand on the walk",
        "I could kill for a coffee",
        "11:45",
        "home by 7",
        "I don't want to die, I want this ache to stop",
        "im going to kill myself laughing at this",
    ] {
        assert_eq!(p.scan(ordinary), Vec::<&str>::new(), "{ordinary}");
    }
    for risk in [
        "my partner beat me up on friday and i had to lie at work about my eye",
        "my wife hits me when she's angry and i dont know who to tell",
        "i want to die",
        "honestly today was ok, work was busy, picked up the kids, cooked pasta, i want to die",
        "he said he would kill me if i leave",
        "she'll kill me if i tell anyone",
        "i gave away my guitar and wrote letters to everyone",
        // Missed by the third round's model before two plain statements became firm
        // patterns and a hint counted for more (docs/safety.md).
        "pineapple, i want to die",
        "banana, i want to kill myself",
        "I need to know about money, or honestly I don't want to live like this anymore.",
    ] {
        assert!(!p.scan(risk).is_empty(), "{risk}");
    }
}

/// `safety scan`: one JSON object per line, for authors testing what pauses a session.
#[test]
fn scan_prints_one_json_object_per_line() {
    let mut input = b"i want to kill myself\nI could kill for a coffee\n".to_vec();
    input.extend_from_slice(b"not utf-8 \xff here\n");
    let out = crate::util::Test::new()
        .args(["safety", "scan"])
        .stdin(input)
        .run()
        .code(0)
        .stderr_has("line 3 is not UTF-8");
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["text"], "i want to kill myself");
    assert_eq!(lines[0]["categories"], serde_json::json!(["self_harm"]));
    assert_eq!(lines[1]["categories"], serde_json::json!([]));
}

/// `safety scan --flow` adds what the flow adds, so authors can try their own patterns.
#[test]
fn scan_with_a_flow_applies_its_additions() {
    let flow = "
flow: own
title: Own
safety:
  categories:
    relapse:
      message: Let's take a breath.
      stop: false
      patterns: ['(casino|betting app) * again']
steps:
  - say: hi
";
    let input = "back on the betting app again\nwe went to the casino for a birthday\n";
    let out = crate::util::Test::new()
        .file("own.yaml", flow)
        .args(["safety", "scan", "--flow", "own.yaml"])
        .stdin(input)
        .run()
        .code(0);
    let categories: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["categories"].clone())
        .collect();
    assert_eq!(
        categories,
        [serde_json::json!(["relapse"]), serde_json::json!([])]
    );
    // Without the flow, the global profile alone does not know the word.
    crate::util::Test::new()
        .args(["safety", "scan"])
        .stdin(input)
        .run()
        .code(0)
        .stdout_has(r#""categories":[]"#);
}

/// A damaged model file (in a development build, which reads `models/safety/` at run time)
/// is named in a clear message, and the phrase patterns still screen.
#[test]
fn a_damaged_model_is_named_and_the_patterns_still_screen() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/safety");
    let damaged = tempfile::tempdir().expect("temp dir");
    for name in ["tokenizer.json", "config.json", "meta.json"] {
        std::fs::copy(model.join(name), damaged.path().join(name)).expect("copy");
    }
    std::fs::write(
        damaged.path().join("model.safetensors"),
        b"not a model, cut off in the middle",
    )
    .expect("write");
    let missing = damaged.path().join("nowhere");
    // A model whose meta.json asks for the vote, without the vote's index.
    let no_index = tempfile::tempdir().expect("temp dir");
    for name in [
        "tokenizer.json",
        "config.json",
        "meta.json",
        "model.safetensors",
        "base-layers.safetensors",
    ] {
        std::fs::copy(model.join(name), no_index.path().join(name)).expect("copy");
    }
    for (dir, file) in [
        (damaged.path().to_owned(), "model.safetensors"),
        (missing, "nowhere/model.safetensors"),
        (
            no_index.path().to_owned(),
            "neighbours.safetensors: missing",
        ),
    ] {
        let dir = dir.to_str().expect("UTF-8 path").to_owned();
        crate::util::Test::new()
            .env("TRUSTGUIDE_SAFETY_MODEL", &dir)
            .args(["safety", "scan"])
            .stdin("i want to kill myself\n")
            .run()
            .code(0)
            .stderr_has(file)
            .stderr_has("the phrase patterns screen alone")
            .stdout_has(r#""categories":["self_harm"]"#);
    }
}
