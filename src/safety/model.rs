//! A learned second opinion: a linear model over the words of an answer, for risk that the
//! phrase patterns do not spell out.
//!
//! Patterns are precise but brittle: people describe danger in endless ways ("sorted out who
//! gets my ring", "he took my car keys again"), and a list written against one set of
//! sentences misses the next. The model reads the same normalised word stems the patterns do,
//! as single words, pairs and pairs with one word between, plus what the patterns and cue words
//! found, and weighs them all. It was trained (logistic regression) on the labelled lines in
//! `tests/fixtures/safety/` by `cargo run --release --example train_safety`, which writes
//! `content/safety-model.txt`; a test checks that the committed model is exactly what training
//! gives, so nobody edits weights by hand.
//!
//! The model only ever adds pauses: an answer the patterns flag is flagged whatever the model
//! says. Its threshold is set for recall first (see `docs/safety.md`).

use std::collections::HashMap;

use super::detector::{Analysis, Detector};

/// Words apart within which two word families make a pair feature.
const FAMILY_WINDOW: usize = 4;

/// The features of one analysed text: words, adjacent pairs, pairs one word apart, word
/// families and pairs of them close together, and the patterns' findings. Sorted, without
/// repeats.
pub fn features(analysis: &Analysis, detector: &Detector) -> Vec<String> {
    let categories = detector.category_names();
    let words: Vec<&str> = analysis
        .stems
        .iter()
        .filter(|s| !s.is_empty())
        .map(String::as_str)
        .collect();
    let families: Vec<Vec<&str>> = words.iter().map(|w| detector.families(w).collect()).collect();
    let mut out = Vec::with_capacity(words.len() * 3 + 4);
    out.push("bias".to_owned());
    for w in &words {
        out.push(format!("w:{w}"));
    }
    for pair in words.windows(2) {
        out.push(format!("b:{}_{}", pair[0], pair[1]));
    }
    for triple in words.windows(3) {
        out.push(format!("s:{}_{}", triple[0], triple[2]));
    }
    for (i, here) in families.iter().enumerate() {
        for a in here {
            out.push(format!("f:{a}"));
            for later in families.iter().skip(i + 1).take(FAMILY_WINDOW) {
                for b in later {
                    out.push(format!("ff:{a}_{b}"));
                }
            }
        }
    }
    for (i, c) in categories.iter().enumerate() {
        if analysis.hits.get(i).copied().unwrap_or(false) {
            out.push(format!("rule:{c}"));
        }
        match analysis.points.get(i).copied().unwrap_or(0) {
            0 => {}
            1 => out.push(format!("cue1:{c}")),
            _ => out.push(format!("cue2:{c}")),
        }
    }
    if analysis.masked {
        out.push("idiom".to_owned());
    }
    out.sort();
    out.dedup();
    out
}

/// Trained weights: one set for "is this a risk at all", one per category for "which".
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// A text is a risk when its score reaches this probability.
    pub threshold: f64,
    pub categories: Vec<String>,
    risk: HashMap<String, f64>,
    /// For each feature, a weight per category.
    which: HashMap<String, Vec<f64>>,
}

#[derive(Debug, thiserror::Error)]
#[error("content/safety-model.txt line {line}: {problem}")]
pub struct ModelError {
    pub line: usize,
    pub problem: String,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Model {
    /// The probability the model gives that the text with these features is a risk.
    pub fn risk(&self, features: &[String]) -> f64 {
        sigmoid(features.iter().filter_map(|f| self.risk.get(f)).sum())
    }

    /// The most likely category of a risk text, by index into `categories`.
    pub fn category(&self, features: &[String]) -> usize {
        let mut scores = vec![0.0; self.categories.len()];
        for w in features.iter().filter_map(|f| self.which.get(f)) {
            for (s, w) in scores.iter_mut().zip(w) {
                *s += w;
            }
        }
        scores
            .iter()
            .enumerate()
            .fold((0, f64::MIN), |best, (i, &s)| if s > best.1 { (i, s) } else { best })
            .0
    }

    /// Reads the text form written by [`Model::to_text`].
    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let mut model = Model {
            threshold: 0.5,
            categories: Vec::new(),
            risk: HashMap::new(),
            which: HashMap::new(),
        };
        for (i, line) in text.lines().enumerate() {
            let bad = |problem: &str| ModelError {
                line: i + 1,
                problem: problem.to_owned(),
            };
            let number = |s: &str| s.parse::<f64>().map_err(|_| bad("not a number"));
            let mut parts = line.split(' ');
            match parts.next() {
                None | Some("") => {}
                Some(s) if s.starts_with('#') => {}
                Some("threshold") => {
                    model.threshold = number(parts.next().ok_or_else(|| bad("no value"))?)?;
                }
                Some("categories") => model.categories = parts.map(str::to_owned).collect(),
                Some("risk") => {
                    let (Some(f), Some(w)) = (parts.next(), parts.next()) else {
                        return Err(bad("expected `risk FEATURE WEIGHT`"));
                    };
                    model.risk.insert(f.to_owned(), number(w)?);
                }
                Some("which") => {
                    let f = parts.next().ok_or_else(|| bad("no feature"))?;
                    let weights = parts.map(number).collect::<Result<Vec<f64>, _>>()?;
                    if weights.len() != model.categories.len() {
                        return Err(bad("one weight per category expected"));
                    }
                    model.which.insert(f.to_owned(), weights);
                }
                Some(_) => return Err(bad("unknown line")),
            }
        }
        Ok(model)
    }

    /// The text form: a header, then one feature per line, sorted, so a retrained model
    /// shows as a readable diff.
    pub fn to_text(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&format!("threshold {:.4}\n", self.threshold));
        out.push_str(&format!("categories {}\n", self.categories.join(" ")));
        let mut risk: Vec<(&String, &f64)> = self.risk.iter().collect();
        risk.sort_by(|a, b| a.0.cmp(b.0));
        for (f, w) in risk {
            out.push_str(&format!("risk {f} {w:.4}\n"));
        }
        let mut which: Vec<(&String, &Vec<f64>)> = self.which.iter().collect();
        which.sort_by(|a, b| a.0.cmp(b.0));
        for (f, ws) in which {
            out.push_str(&format!("which {f}"));
            for w in ws {
                out.push_str(&format!(" {w:.4}"));
            }
            out.push('\n');
        }
        out
    }
}

/// How to train.
#[derive(Debug, Clone, Copy)]
pub struct Training {
    pub epochs: usize,
    pub rate: f64,
    /// L2 penalty per update.
    pub l2: f64,
    /// Features seen in fewer examples than this are left out (they cannot generalise).
    pub min_count: usize,
    /// Weight of a risk example relative to a safe one (above 1 favours recall).
    pub risk_weight: f64,
}

impl Default for Training {
    fn default() -> Training {
        Training {
            epochs: 30,
            rate: 0.1,
            l2: 1e-4,
            min_count: 2,
            risk_weight: 1.5,
        }
    }
}

/// One labelled text: its features and its category (`None` for a safe text).
#[derive(Debug, Clone)]
pub struct Example {
    pub features: Vec<String>,
    pub category: Option<usize>,
}

/// A small deterministic generator for the order examples are visited in.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn order(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        order
    }
}

/// Trains both parts of the model with AdaGrad-scaled stochastic gradient descent. The same
/// examples and settings always give the same model.
pub fn train(examples: &[Example], categories: &[String], t: Training, threshold: f64) -> Model {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in examples {
        for f in &e.features {
            *counts.entry(f.as_str()).or_default() += 1;
        }
    }
    let keep = |f: &str| f == "bias" || counts.get(f).is_some_and(|c| *c >= t.min_count);
    let examples: Vec<(Vec<&str>, Option<usize>)> = examples
        .iter()
        .map(|e| {
            (
                e.features
                    .iter()
                    .map(String::as_str)
                    .filter(|f| keep(f))
                    .collect(),
                e.category,
            )
        })
        .collect();

    let mut shuffle = Shuffle(0x7275_7374_6775_6964);
    let k = categories.len();
    let mut risk: HashMap<String, f64> = HashMap::new();
    let mut risk_g: HashMap<String, f64> = HashMap::new();
    let mut which: HashMap<String, Vec<f64>> = HashMap::new();
    let mut which_g: HashMap<String, Vec<f64>> = HashMap::new();
    for _ in 0..t.epochs {
        for i in shuffle.order(examples.len()) {
            let (features, category) = &examples[i];
            // Is it a risk at all?
            let score: f64 = features.iter().filter_map(|f| risk.get(*f)).sum();
            let target = if category.is_some() { 1.0 } else { 0.0 };
            let weight = if category.is_some() { t.risk_weight } else { 1.0 };
            let g = (sigmoid(score) - target) * weight;
            for f in features {
                let w = risk.entry((*f).to_owned()).or_default();
                let acc = risk_g.entry((*f).to_owned()).or_default();
                let grad = g + t.l2 * *w;
                *acc += grad * grad;
                *w -= t.rate * grad / (acc.sqrt() + 1e-8);
            }
            // Which category (risk examples only): softmax regression.
            let Some(c) = *category else { continue };
            let mut scores = vec![0.0; k];
            for ws in features.iter().filter_map(|f| which.get(*f)) {
                for (s, w) in scores.iter_mut().zip(ws) {
                    *s += w;
                }
            }
            let max = scores.iter().cloned().fold(f64::MIN, f64::max);
            let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f64 = exps.iter().sum();
            for f in features {
                let ws = which.entry((*f).to_owned()).or_insert_with(|| vec![0.0; k]);
                let acc = which_g.entry((*f).to_owned()).or_insert_with(|| vec![0.0; k]);
                for j in 0..k {
                    let p = exps[j] / total;
                    let grad = p - if j == c { 1.0 } else { 0.0 } + t.l2 * ws[j];
                    acc[j] += grad * grad;
                    ws[j] -= t.rate * grad / (acc[j].sqrt() + 1e-8);
                }
            }
        }
    }
    // Round as the text form does, so a model read back scores exactly as trained.
    let round = |w: f64| (w * 10_000.0).round() / 10_000.0;
    risk.retain(|_, w| round(*w) != 0.0);
    risk.values_mut().for_each(|w| *w = round(*w));
    which.retain(|_, ws| ws.iter().any(|w| round(*w) != 0.0));
    which
        .values_mut()
        .for_each(|ws| ws.iter_mut().for_each(|w| *w = round(*w)));
    Model {
        threshold: round(threshold),
        categories: categories.to_vec(),
        risk,
        which,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(words: &[&str], category: Option<usize>) -> Example {
        let mut features: Vec<String> = words.iter().map(|w| format!("w:{w}")).collect();
        features.push("bias".into());
        Example { features, category }
    }

    #[test]
    fn training_separates_and_the_text_form_reads_back_the_same() {
        let cats = vec!["a".to_owned(), "b".to_owned()];
        let mut examples = Vec::new();
        for _ in 0..5 {
            examples.push(example(&["alarm", "red"], Some(0)));
            examples.push(example(&["alarm", "blue"], Some(1)));
            examples.push(example(&["calm", "red"], None));
            examples.push(example(&["calm", "blue"], None));
        }
        let model = train(&examples, &cats, Training::default(), 0.5);
        let f = |w: &[&str]| example(w, None).features;
        assert!(model.risk(&f(&["alarm", "red"])) > 0.5);
        assert!(model.risk(&f(&["calm", "blue"])) < 0.5);
        assert_eq!(model.category(&f(&["alarm", "blue"])), 1);
        let text = model.to_text("test");
        assert_eq!(Model::parse(&text).expect("reads back"), model);
        assert_eq!(train(&examples, &cats, Training::default(), 0.5), model);
    }

    #[test]
    fn a_damaged_model_file_names_its_line() {
        let err = Model::parse("threshold 0.5\ncategories a b\nrisk w:x nope\n")
            .expect_err("refused");
        assert_eq!(err.line, 3);
    }
}
