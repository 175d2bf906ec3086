//! The exercise library as a whole: every card is reachable from `trustguide learn`, every
//! exercise a card points to exists, and no sentence of the source material was copied.

use std::collections::HashSet;
use std::path::Path;

use crate::util::Test;

/// Lowercase words, punctuation and symbols dropped, for comparing wording.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Every run of `n` words in `text`.
fn runs(text: &str, n: usize) -> HashSet<String> {
    words(text).windows(n).map(|w| w.join(" ")).collect()
}

fn files(folder: &str, ext: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    out.sort();
    out
}

#[test]
fn no_run_of_six_words_from_the_source_is_in_a_card_or_a_flow() {
    let source =
        std::fs::read_to_string(crate::util::fixture("source/trust-strategies-source.txt"))
            .expect("the source material");
    let from_source = runs(&source, 6);
    assert!(from_source.len() > 500, "the source was read");
    let mut copied = Vec::new();
    let mut checked = 0;
    for path in files("content/cards", "md")
        .into_iter()
        .chain(files("flows", "yaml"))
    {
        let text = std::fs::read_to_string(&path).expect("read");
        checked += 1;
        for run in runs(&text, 6) {
            if from_source.contains(&run) {
                copied.push(format!("{}: {run}", path.display()));
            }
        }
    }
    assert!(checked > 30, "cards and flows were read ({checked})");
    assert!(copied.is_empty(), "copied from the source: {copied:#?}");
}

#[test]
fn learn_lists_every_card_in_its_group_and_shows_one() {
    let listed = Test::new().args(["learn"]).run().code(0);
    for path in files("content/cards", "md") {
        let topic = path.file_stem().and_then(|s| s.to_str()).expect("name");
        assert!(
            listed
                .stdout
                .lines()
                .any(|l| l.split_whitespace().next() == Some(topic)),
            "`learn` does not list {topic}:\n{}",
            listed.stdout
        );
    }
    listed
        .stdout_has("Foundations")
        .stdout_has("Questions people ask")
        .stdout_has("licensed therapist")
        .then(["learn", "hypervigilance"])
        .code(0)
        .stdout_has("When you can't stop checking")
        .stdout_has("Practise it: trustguide run checkin-schedule")
        .then(["learn", "hypervigilence"])
        .code(1)
        .stderr_has("Did you mean `hypervigilance`?")
        .error_without_panic();
}

#[test]
fn every_exercise_a_topic_points_to_is_a_built_in_flow() {
    let list = Test::new().args(["list"]).run().code(0);
    let flows: HashSet<&str> = list
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let index =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("content/learn.yaml"))
            .expect("content/learn.yaml");
    let mut named = 0;
    for part in index.split("practise: ").skip(1) {
        let flow: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        named += 1;
        assert!(flows.contains(flow.as_str()), "no built-in flow `{flow}`");
    }
    assert!(named > 20, "topics name their exercises ({named})");
}

#[test]
fn list_shows_every_exercise_of_the_library_with_minutes_and_tags() {
    let out = Test::new().args(["list"]).run().code(0);
    for flow in [
        "listening",
        "disclosure-prep",
        "boundaries",
        "checkin-schedule",
        "questions",
        "transparency-agreement",
        "morning-intentions",
        "daily-checkin",
        "evening-gratitude",
        "journal",
        "weekly-progress",
        "pause-signal",
        "safety-check",
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(flow))
            .unwrap_or_else(|| panic!("`list` has no {flow}:\n{}", out.stdout));
        assert!(line.contains(" min"), "{flow} shows its minutes: {line}");
    }
    assert!(
        out.stdout.lines().all(|l| l.chars().count() <= 80),
        "fits 80 columns:\n{}",
        out.stdout
    );
    Test::new()
        .args(["list", "--tag", "daily"])
        .run()
        .code(0)
        .stdout_has("morning-intentions")
        .stdout_has("What you have each been up to");
    let daily = Test::new().args(["list", "--tag", "daily"]).run().code(0);
    assert!(
        !daily.stdout.contains("disclosure-prep"),
        "{}",
        daily.stdout
    );
    Test::new()
        .args(["list", "--tag", "dayly"])
        .run()
        .code(1)
        .stderr_has("no exercise has the tag `dayly`; the tags are:");
}

/// `list` reads only what comes before a flow's steps, unless a header field comes after them.
#[test]
fn list_finds_header_fields_written_after_the_steps() {
    Test::new()
        .file(
            "flows/late.yaml",
            "flow: late\nsummary: x\nsteps:\n  - say: hi\ntitle: Late title\nminutes: 7\ntags: [a, b]\n",
        )
        .args(["list"])
        .run()
        .code(0)
        .stdout_has("Late title · 7 min · from ./flows")
        .stdout_has("Tags: a, b,");
}
