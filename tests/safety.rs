//! The safety detector measured on a labelled set, written the way people type
//! (tests/fixtures/safety): risk lines must pause the session, everyday and betrayal-pain
//! lines should not. Run with `--nocapture` to see the figures.

use trustguide::safety::Profile;

fn lines(name: &str) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(crate::util::fixture(&format!("safety/{name}"))).expect("fixture");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (label, text) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("no tab in: {l}"));
            (label.to_owned(), text.to_owned())
        })
        .collect()
}

#[test]
fn recall_on_risk_lines_and_false_alarms_on_safe_lines() {
    assert!(
        lines("risk.tsv").len() >= 150 && lines("safe.tsv").len() >= 150,
        "at least 150 + 150 lines"
    );
    evaluate("risk.tsv", "safe.tsv");
}

/// Measures the detector on a pair of files and asserts the targets.
fn evaluate(risk_file: &str, safe_file: &str) {
    let profile = Profile::builtin().expect("profile");
    let risk = lines(risk_file);
    let safe = lines(safe_file);

    let missed: Vec<&(String, String)> = risk
        .iter()
        .filter(|(_, t)| profile.scan(t).is_empty())
        .collect();
    let same_category = risk
        .iter()
        .filter(|(c, t)| profile.scan(t).contains(&c.as_str()))
        .count();
    let alarms: Vec<(&(String, String), Vec<&str>)> = safe
        .iter()
        .map(|l| (l, profile.scan(&l.1)))
        .filter(|(_, c)| !c.is_empty())
        .collect();

    let recall = 1.0 - missed.len() as f64 / risk.len() as f64;
    let false_positive_rate = alarms.len() as f64 / safe.len() as f64;
    println!(
        "safety detector on {risk_file} + {safe_file}: recall {:.3} ({} of {} risk lines; {} in the labelled category), false-positive rate {:.3} ({} of {} safe lines)",
        recall,
        risk.len() - missed.len(),
        risk.len(),
        same_category,
        false_positive_rate,
        alarms.len(),
        safe.len()
    );
    for (c, t) in &missed {
        println!("  missed [{c}] {t}");
    }
    for ((k, t), cats) in &alarms {
        println!("  alarm  [{k}] {t}  -> {cats:?}");
    }
    assert!(recall >= 0.95, "recall {recall:.3} is below 0.95");
    assert!(
        false_positive_rate <= 0.10,
        "false-positive rate {false_positive_rate:.3} is above 0.10"
    );
}

/// A second set, written separately. Measured before any tuning on it (recall 0.592, false
/// positives 0.042), then used to broaden the profile; now a regression set.
#[test]
fn held_out_recall_and_false_alarms() {
    evaluate("holdout-risk.tsv", "holdout-safe.tsv");
}

/// A third set. Measured before any tuning on it (recall 0.800, false positives 0.120), then
/// used to broaden the profile; it is now a regression set like the other two.
#[test]
fn fresh_recall_and_false_alarms() {
    evaluate("fresh-risk.tsv", "fresh-safe.tsv");
}

/// A fourth set, written by another writer and never trained on. Before the model it measured
/// the patterns alone at recall 0.790 and false positives 0.180 (2026-11-25). It is now the
/// validation set: the model's threshold is the highest that keeps recall here at 0.98 or more
/// (examples/train_safety.rs), so its figures are no longer an unbiased estimate.
#[test]
fn validation_recall_and_false_alarms() {
    evaluate("unseen-risk.tsv", "unseen-safe.tsv");
}

/// The test set: 200 risk and 200 safe lines written by a separate writer who saw neither the
/// code nor the other sets, never read by the developers, never trained or tuned on. This is
/// the honest estimate on wording nobody has seen.
#[test]
fn held_out_test_set_recall_and_false_alarms() {
    evaluate("final-risk.tsv", "final-safe.tsv");
}

/// A second test set, written like the first by a separate writer on the day the detector was
/// finished (200 risk and 200 safe lines), scored once for the record and never tuned on: the
/// first test set had been looked at several times while false alarms were fixed.
#[test]
fn second_test_set_recall_and_false_alarms() {
    evaluate("test2-risk.tsv", "test2-safe.tsv");
}

/// Answers typed into the exercises themselves (check-ins, journals, boundaries, disclosure
/// preparation, transparency offers), 200 ordinary and 100 at risk, written by a separate
/// writer who saw no code and no other set. First measured at recall 0.910 and false positives
/// 0.065 (2026-11-28); its misses then showed that risk said inside the exercises' own sentence
/// frames went unseen, and training lines of that kind were written, so it is no longer blind.
#[test]
fn exercise_answers_recall_and_false_alarms() {
    evaluate("exercise-risk.tsv", "exercise-safe.tsv");
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
        .stdout_has(r#""categories":[]}"#);
}
