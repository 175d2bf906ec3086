//! Trains the safety model (`content/safety-model.txt`) from the labelled lines in
//! `tests/fixtures/safety/`, and reports cross-validated figures for choosing its threshold.
//!
//! ```sh
//! cargo run --release --example train_safety            # report and write the model
//! cargo run --release --example train_safety -- --check # report only
//! cargo run --release --example train_safety -- --verify # the committed model is what training gives
//! ```
//!
//! Training uses the development sets (`risk.tsv`/`safe.tsv`, `holdout-*`, `fresh-*`) and
//! everything in `train/`. It never reads `unseen-*` or `final-*`: those measure the result.

use std::path::Path;

use trustguide::safety::model::{self, Example, Training};
use trustguide::safety::Profile;

/// Cross-validated recall reported as a reference point.
const TARGET_RECALL: f64 = 0.95;
/// Recall on the validation set the threshold is chosen for: at most 4 of its 100 risk lines
/// missed; the threshold is then set [`MARGIN`] lower, for wording nobody has seen.
const VALIDATION_RECALL: f64 = 0.96;
const MARGIN: f64 = 0.1;
const FOLDS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let check_only = std::env::args().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile = Profile::builtin_patterns()?;
    let categories = profile.category_ids().to_vec();
    let (examples, rules, texts) = training_set(root, &profile)?;
    let risks = examples.iter().filter(|e| e.category.is_some()).count();
    println!(
        "{} examples ({} risk, {} safe), {} categories",
        examples.len(),
        risks,
        examples.len() - risks,
        categories.len()
    );

    // Out-of-fold probabilities: each example scored by a model that did not see it.
    let arg = |name: &str| -> Option<f64> {
        let args: Vec<String> = std::env::args().collect();
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
    };
    let mut settings = Training::default();
    if let Some(v) = arg("--epochs") {
        settings.epochs = v as usize;
    }
    if let Some(v) = arg("--rate") {
        settings.rate = v;
    }
    if let Some(v) = arg("--l2") {
        settings.l2 = v;
    }
    if let Some(v) = arg("--min-count") {
        settings.min_count = v as usize;
    }
    if let Some(v) = arg("--risk-weight") {
        settings.risk_weight = v;
    }
    if let Some(v) = arg("--prune") {
        settings.prune = v;
    }
    if std::env::args().any(|a| a == "--verify") {
        // What CI runs: training again must give exactly the committed model.
        let mut m = model::train(&examples, &categories, settings, 0.5);
        m.threshold = validate(root, &profile, &m.model()?)?;
        let committed = std::fs::read_to_string(root.join("content/safety-model.txt"))?;
        if committed != m.to_text(HEADER) {
            return Err("content/safety-model.txt is not what training gives; run `cargo run --release --example train_safety` and commit the result".into());
        }
        println!("content/safety-model.txt is what training gives");
        return Ok(());
    }

    let mut oof = vec![0.0; examples.len()];
    let mut oof_category = vec![0usize; examples.len()];
    for fold in 0..FOLDS {
        let train: Vec<Example> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS != fold)
            .map(|(_, e)| e.clone())
            .collect();
        let m = model::train(&train, &categories, settings, 0.5).model()?;
        for (i, e) in examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS == fold)
        {
            let ids = model::ids_of(&e.features);
            oof[i] = m.risk(&ids);
            oof_category[i] = m.category(&ids);
        }
    }
    let measure = |t: f64| {
        let (mut tp, mut fp) = (0usize, 0usize);
        for (i, e) in examples.iter().enumerate() {
            let flagged = oof[i] >= t;
            match (e.category.is_some(), flagged) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                _ => {}
            }
        }
        (
            tp as f64 / risks as f64,
            fp as f64 / (examples.len() - risks) as f64,
        )
    };
    let (mut rule_hits, mut rule_alarms) = (0, 0);
    for (e, hit) in examples.iter().zip(&rules) {
        match (e.category.is_some(), hit) {
            (true, true) => rule_hits += 1,
            (false, true) => rule_alarms += 1,
            _ => {}
        }
    }
    println!(
        "patterns alone: recall {:.3}, false positives {:.3}",
        rule_hits as f64 / risks as f64,
        rule_alarms as f64 / (examples.len() - risks) as f64
    );
    let mut chosen = 0.01;
    let mut at_fpr = (0.0, 0.0);
    for step in 1..100 {
        let t = step as f64 / 100.0;
        let (recall, fpr) = measure(t);
        if step % 5 == 0 {
            println!(
                "threshold {t:.2}: cross-validated recall {recall:.3}, false positives {fpr:.3}"
            );
        }
        if recall >= TARGET_RECALL {
            chosen = t;
        }
        if fpr <= 0.08 && at_fpr == (0.0, 0.0) {
            at_fpr = (t, recall);
        }
    }
    println!(
        "summary: at recall >= {TARGET_RECALL}: threshold {chosen:.2}, false positives {:.3}; at false positives <= 0.08: threshold {:.2}, recall {:.3}",
        measure(chosen).1,
        at_fpr.0,
        at_fpr.1
    );
    let right = examples
        .iter()
        .enumerate()
        .filter(|(i, e)| e.category == Some(oof_category[*i]))
        .count();
    println!(
        "category right on {:.3} of risk lines (cross-validated)",
        right as f64 / risks as f64
    );
    println!(
        "chosen threshold: {chosen:.2} (highest with cross-validated recall >= {TARGET_RECALL})"
    );
    if let Some(t) = arg("--errors") {
        for (i, e) in examples.iter().enumerate() {
            let flagged = oof[i] >= t;
            if flagged != e.category.is_some() {
                println!(
                    "{} {:.2} {}",
                    if flagged { "ALARM " } else { "MISSED" },
                    oof[i],
                    texts[i]
                );
            }
        }
    }
    let mut m = model::train(&examples, &categories, settings, chosen);
    // The threshold is set on the validation set: another writer's lines, never trained on.
    let by_validation = validate(root, &profile, &m.model()?)?;
    println!("threshold set on the validation set: {by_validation:.2} ({MARGIN} below the highest with validation recall >= {VALIDATION_RECALL})");
    m.threshold = by_validation;
    if check_only {
        return Ok(());
    }
    let text = m.to_text(HEADER);
    let out = root.join("content/safety-model.txt");
    std::fs::write(&out, text)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Scores the validation set (`unseen-*`, written by another writer, never trained on) at
/// each threshold; returns the highest threshold that keeps its recall at the target.
fn validate(
    root: &Path,
    profile: &Profile,
    m: &model::Model,
) -> Result<f64, Box<dyn std::error::Error>> {
    let dir = root.join("tests/fixtures/safety");
    let read = |name: &str| -> Result<Vec<f64>, Box<dyn std::error::Error>> {
        Ok(std::fs::read_to_string(dir.join(name))?
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(_, t)| m.risk(&model::ids_of(&profile.features(t).0)))
            .collect())
    };
    let risk = read("unseen-risk.tsv")?;
    let safe = read("unseen-safe.tsv")?;
    let mut chosen = 0.01;
    for step in 1..100 {
        let t = step as f64 / 100.0;
        let recall = risk.iter().filter(|p| **p >= t).count() as f64 / risk.len() as f64;
        let fpr = safe.iter().filter(|p| **p >= t).count() as f64 / safe.len() as f64;
        if step % 5 == 0 {
            println!("validation at {t:.2}: recall {recall:.3}, false positives {fpr:.3}");
        }
        if recall >= VALIDATION_RECALL {
            chosen = t;
        }
    }
    // A margin below the edge: 100 lines are few, and other wording will score lower.
    Ok(((chosen - MARGIN) * 100.0).round().max(1.0) / 100.0)
}

/// The header of the model file.
pub const HEADER: &str = "trustguide safety model: do not edit by hand.
Trained by `cargo run --release --example train_safety` from tests/fixtures/safety/
(development sets and train/); a test checks that training gives exactly this file.";

/// The examples, whether the patterns flag each, and each line as text (for `--errors`).
type TrainingSet = (Vec<Example>, Vec<bool>, Vec<String>);

/// Every labelled line the model learns from, with whether the patterns already flag it.
fn training_set(root: &Path, profile: &Profile) -> Result<TrainingSet, Box<dyn std::error::Error>> {
    let dir = root.join("tests/fixtures/safety");
    let mut files = vec![
        dir.join("risk.tsv"),
        dir.join("safe.tsv"),
        dir.join("holdout-risk.tsv"),
        dir.join("holdout-safe.tsv"),
        dir.join("fresh-risk.tsv"),
        dir.join("fresh-safe.tsv"),
    ];
    let mut extra: Vec<_> = std::fs::read_dir(dir.join("train"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    extra.sort();
    files.extend(extra);
    let categories = profile.category_ids();
    let mut examples = Vec::new();
    let mut rules = Vec::new();
    let mut texts = Vec::new();
    for file in files {
        let is_risk = file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("risk.tsv"));
        let text = std::fs::read_to_string(&file)?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((label, sentence)) = line.split_once('\t') else {
                return Err(format!("{}:{}: no tab", file.display(), n + 1).into());
            };
            let category = if is_risk {
                Some(categories.iter().position(|c| c == label).ok_or_else(|| {
                    format!("{}:{}: unknown category `{label}`", file.display(), n + 1)
                })?)
            } else {
                None
            };
            let (features, found) = profile.features(sentence);
            rules.push(!found.is_empty());
            texts.push(format!("[{label}] {sentence}"));
            examples.push(Example { features, category });
        }
    }
    Ok((examples, rules, texts))
}
