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
//! The model decides whether an answer pauses the session; a pattern match needs only a
//! quarter of its threshold (when in doubt, pause). How the threshold is chosen, and the
//! figures, are in `docs/safety.md`.

use std::collections::HashMap;

use super::detector::{Analysis, Detector};

/// The features of one analysed text: its words, and runs of two, three and four words (and
/// pairs one word apart), plus what the patterns and cue words found. Sorted, without repeats.
pub fn features(analysis: &Analysis, detector: &Detector) -> Vec<String> {
    let categories = detector.category_names();
    let words: Vec<&str> = analysis
        .stems
        .iter()
        .filter(|s| !s.is_empty())
        .map(String::as_str)
        .collect();
    let mut out = Vec::with_capacity(words.len() * 5 + 4);
    out.push("bias".to_owned());
    for w in &words {
        out.push(format!("w:{w}"));
    }
    for n in 2..=4 {
        for run in words.windows(n) {
            out.push(format!("{n}:{}", run.join("_")));
        }
    }
    for triple in words.windows(3) {
        out.push(format!("s:{}_{}", triple[0], triple[2]));
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

/// The least evidence for risk (summed weights, prior left out) the model pauses on: a word
/// or two leaning slightly towards risk ("not quite") is not enough on its own.
pub const MIN_EVIDENCE: f64 = 0.5;

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
    /// The probability the model gives that the text with these features is a risk; 0 when
    /// nothing in it points towards risk. An answer of unknown words ("pineapple") leaves
    /// only the prior, and the prior alone must never pause a session.
    pub fn risk(&self, features: &[String]) -> f64 {
        let evidence: f64 = features
            .iter()
            .filter(|f| *f != "bias")
            .filter_map(|f| self.risk.get(f))
            .sum();
        if evidence < MIN_EVIDENCE {
            return 0.0;
        }
        sigmoid(self.risk.get("bias").copied().unwrap_or(0.0) + evidence)
    }

    /// The plain probability, prior included, for a text the patterns already flagged.
    pub fn probability(&self, features: &[String]) -> f64 {
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
            .fold(
                (0, f64::MIN),
                |best, (i, &s)| if s > best.1 { (i, s) } else { best },
            )
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
    /// Weights smaller than this are left out of the model (it stays small and quick to load).
    pub prune: f64,
}

impl Default for Training {
    fn default() -> Training {
        Training {
            epochs: 30,
            rate: 0.1,
            l2: 3e-3,
            min_count: 2,
            risk_weight: 2.0,
            prune: 0.1,
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
    // Features as numbers: the inner loop indexes vectors instead of hashing strings.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in examples {
        for f in &e.features {
            *counts.entry(f.as_str()).or_default() += 1;
        }
    }
    let mut names: Vec<&str> = counts
        .iter()
        .filter(|(f, c)| **f == "bias" || **c >= t.min_count)
        .map(|(f, _)| *f)
        .collect();
    names.sort_unstable();
    let ids: HashMap<&str, usize> = names.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    let examples: Vec<(Vec<usize>, Option<usize>)> = examples
        .iter()
        .map(|e| {
            (
                e.features
                    .iter()
                    .filter_map(|f| ids.get(f.as_str()).copied())
                    .collect(),
                e.category,
            )
        })
        .collect();

    let mut shuffle = Shuffle(0x7275_7374_6775_6964);
    let k = categories.len();
    let n = names.len();
    let mut risk = vec![0.0; n];
    let mut risk_g = vec![0.0; n];
    let mut which = vec![0.0; n * k];
    let mut which_g = vec![0.0; n * k];
    let mut exps = vec![0.0; k];
    for _ in 0..t.epochs {
        for i in shuffle.order(examples.len()) {
            let (features, category) = &examples[i];
            // Is it a risk at all?
            let score: f64 = features.iter().map(|&f| risk[f]).sum();
            let target = if category.is_some() { 1.0 } else { 0.0 };
            let weight = if category.is_some() {
                t.risk_weight
            } else {
                1.0
            };
            let g = (sigmoid(score) - target) * weight;
            for &f in features {
                let grad = g + t.l2 * risk[f];
                risk_g[f] += grad * grad;
                risk[f] -= t.rate * grad / (risk_g[f].sqrt() + 1e-8);
            }
            // Which category (risk examples only): softmax regression.
            let Some(c) = *category else { continue };
            exps.iter_mut().for_each(|e| *e = 0.0);
            for &f in features {
                for (s, w) in exps.iter_mut().zip(&which[f * k..(f + 1) * k]) {
                    *s += w;
                }
            }
            let max = exps.iter().cloned().fold(f64::MIN, f64::max);
            exps.iter_mut().for_each(|s| *s = (*s - max).exp());
            let total: f64 = exps.iter().sum();
            for &f in features {
                for (j, e) in exps.iter().enumerate() {
                    let at = f * k + j;
                    let p = e / total;
                    let grad = p - if j == c { 1.0 } else { 0.0 } + t.l2 * which[at];
                    which_g[at] += grad * grad;
                    which[at] -= t.rate * grad / (which_g[at].sqrt() + 1e-8);
                }
            }
        }
    }
    // Round as the text form does, so a model read back scores exactly as trained.
    let round = |w: f64| (w * 10_000.0).round() / 10_000.0;
    let mut model = Model {
        threshold: round(threshold),
        categories: categories.to_vec(),
        risk: HashMap::new(),
        which: HashMap::new(),
    };
    for (i, name) in names.iter().enumerate() {
        let w = round(risk[i]);
        if w.abs() >= t.prune.max(1e-4) {
            model.risk.insert((*name).to_owned(), w);
        }
        let ws: Vec<f64> = which[i * k..(i + 1) * k]
            .iter()
            .map(|w| round(*w))
            .collect();
        // Which category matters less than whether to pause at all: keep fewer of these.
        if ws.iter().any(|w| w.abs() >= 2.5 * t.prune.max(1e-4)) {
            model.which.insert((*name).to_owned(), ws);
        }
    }
    model
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
        let err =
            Model::parse("threshold 0.5\ncategories a b\nrisk w:x nope\n").expect_err("refused");
        assert_eq!(err.line, 3);
    }
}
