//! Trains the safety model (`content/safety-model.txt`) from the labelled lines in
//! `tests/fixtures/safety/`, and reports cross-validated figures for choosing its threshold.
//!
//! ```sh
//! cargo run --release --example train_safety            # report and write the model
//! cargo run --release --example train_safety -- --check # report only
//! ```
//!
//! Training uses the development sets (`risk.tsv`/`safe.tsv`, `holdout-*`, `fresh-*`) and
//! everything in `train/`. It never reads `unseen-*` or `final-*`: those measure the result.

use std::path::Path;

use trustguide::safety::model::{self, Example, Training};
use trustguide::safety::Profile;

/// Recall the threshold is chosen for, on lines the model did not train on (cross-validated).
const TARGET_RECALL: f64 = 0.97;
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
    let mut oof = vec![0.0; examples.len()];
    let mut oof_category = vec![0usize; examples.len()];
    for fold in 0..FOLDS {
        let train: Vec<Example> = examples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS != fold)
            .map(|(_, e)| e.clone())
            .collect();
        let m = model::train(&train, &categories, settings, 0.5);
        for (i, e) in examples.iter().enumerate().filter(|(i, _)| i % FOLDS == fold) {
            oof[i] = m.risk(&e.features);
            oof_category[i] = m.category(&e.features);
        }
    }
    let union = !std::env::args().any(|a| a == "--model-only");
    let measure = |t: f64| {
        let (mut tp, mut fp) = (0usize, 0usize);
        for (i, e) in examples.iter().enumerate() {
            let flagged = (union && rules[i]) || oof[i] >= t;
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
    let (rule_recall, rule_fpr) = measure(f64::INFINITY);
    println!("patterns alone: recall {rule_recall:.3}, false positives {rule_fpr:.3}");
    let mut chosen = 0.01;
    let mut at_fpr = (0.0, 0.0);
    for step in 1..100 {
        let t = step as f64 / 100.0;
        let (recall, fpr) = measure(t);
        if step % 5 == 0 {
            println!("threshold {t:.2}: cross-validated recall {recall:.3}, false positives {fpr:.3}");
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
    println!("chosen threshold: {chosen:.2} (highest with cross-validated recall >= {TARGET_RECALL})");
    if let Some(t) = arg("--errors") {
        for (i, e) in examples.iter().enumerate() {
            let flagged = (union && rules[i]) || oof[i] >= t;
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
    if check_only {
        return Ok(());
    }
    let m = model::train(&examples, &categories, settings, chosen);
    let text = m.to_text(HEADER);
    let out = root.join("content/safety-model.txt");
    std::fs::write(&out, text)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// The header of the model file.
pub const HEADER: &str = "trustguide safety model: do not edit by hand.
Trained by `cargo run --release --example train_safety` from tests/fixtures/safety/
(development sets and train/); a test checks that training gives exactly this file.";

/// Every labelled line the model learns from, with whether the patterns already flag it.
fn training_set(
    root: &Path,
    profile: &Profile,
) -> Result<(Vec<Example>, Vec<bool>, Vec<String>), Box<dyn std::error::Error>> {
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
                Some(
                    categories
                        .iter()
                        .position(|c| c == label)
                        .ok_or_else(|| format!("{}:{}: unknown category `{label}`", file.display(), n + 1))?,
                )
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
