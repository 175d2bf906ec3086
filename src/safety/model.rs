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
//! half of its threshold (when in doubt, pause). How the threshold is chosen, and the
//! figures, are in `docs/safety.md`.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use super::detector::{Analysis, Detector};

/// Calls `emit` once for each feature of one analysed text, as the pieces of its name: its
/// words, runs of two, three and four words, pairs one word apart, and what the patterns and
/// cue words found. The one definition of a feature: [`features`] joins the pieces into names
/// (for training and for reading), [`feature_ids`] hashes them (for scanning).
fn each_feature(analysis: &Analysis, detector: &Detector, emit: &mut dyn FnMut(&[&str])) {
    const N: [&str; 5] = ["", "", "2:", "3:", "4:"];
    let words: Vec<&str> = analysis
        .stems
        .iter()
        .filter(|s| !s.is_empty())
        .map(String::as_str)
        .collect();
    emit(&["bias"]);
    for w in &words {
        emit(&["w:", w]);
    }
    for n in 2..=4 {
        for run in words.windows(n) {
            let mut pieces = [""; 8];
            pieces[0] = N[n];
            for (i, w) in run.iter().enumerate() {
                if i > 0 {
                    pieces[2 * i] = "_";
                }
                pieces[2 * i + 1] = w;
            }
            emit(&pieces[..2 * n]);
        }
    }
    for triple in words.windows(3) {
        emit(&["s:", triple[0], "_", triple[2]]);
    }
    for (i, c) in detector.category_names().iter().enumerate() {
        if analysis.hits.get(i).copied().unwrap_or(false) {
            emit(&["rule:", c]);
        }
        match analysis.points.get(i).copied().unwrap_or(0) {
            0 => {}
            1 => emit(&["cue1:", c]),
            _ => emit(&["cue2:", c]),
        }
    }
    if analysis.masked {
        emit(&["idiom"]);
    }
}

/// The features of one analysed text by name, sorted, without repeats (for training).
pub fn features(analysis: &Analysis, detector: &Detector) -> Vec<String> {
    let mut out = Vec::new();
    each_feature(analysis, detector, &mut |pieces| out.push(pieces.concat()));
    out.sort();
    out.dedup();
    out
}

/// A feature's number: the 64-bit FNV-1a hash of its name. Scanning works with these, so an
/// answer's features are never built as strings.
pub fn feature_id(name: &str) -> u64 {
    Fnv::new().add(name).0
}

/// The features of one analysed text by number, sorted, without repeats (for scanning);
/// `feature_ids(a, d)` is `features(a, d)` mapped through [`feature_id`].
pub fn feature_ids(analysis: &Analysis, detector: &Detector) -> Vec<u64> {
    let mut out = Vec::with_capacity(analysis.stems.len() * 5 + 4);
    each_feature(analysis, detector, &mut |pieces| {
        out.push(pieces.iter().fold(Fnv::new(), |h, p| h.add(p)).0)
    });
    out.sort_unstable();
    out.dedup();
    out
}

/// Feature names as numbers, sorted, without repeats: what [`feature_ids`] gives for the
/// same text.
pub fn ids_of(names: &[String]) -> Vec<u64> {
    let mut out: Vec<u64> = names.iter().map(|f| feature_id(f)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn add(mut self, piece: &str) -> Fnv {
        for b in piece.bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }
}

/// The least evidence for risk (summed weights, prior left out) the model pauses on: a word
/// or two leaning slightly towards risk ("not quite") is not enough on its own.
pub const MIN_EVIDENCE: f64 = 0.5;

/// A model ready to score: for each feature number, its weight for "is this a risk at all"
/// and its weights for "which category". Read from the text form that training writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// A text is a risk when its score reaches this probability.
    pub threshold: f64,
    pub categories: Vec<String>,
    bias: f64,
    risk: FxHashMap<u64, f64>,
    /// For each feature, a weight per category.
    which: FxHashMap<u64, Vec<f64>>,
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
    /// The probability the model gives that the text with these features (from
    /// [`feature_ids`]) is a risk; 0 when nothing in it points towards risk. An answer of
    /// unknown words ("pineapple") leaves only the prior, and the prior alone must never pause
    /// a session.
    pub fn risk(&self, features: &[u64]) -> f64 {
        let evidence = self.evidence(features);
        if evidence < MIN_EVIDENCE {
            return 0.0;
        }
        sigmoid(self.bias + evidence)
    }

    /// The plain probability, prior included, for a text the patterns already flagged.
    pub fn probability(&self, features: &[u64]) -> f64 {
        sigmoid(self.bias + self.evidence(features))
    }

    /// The summed weights of the features, prior left out.
    fn evidence(&self, features: &[u64]) -> f64 {
        features.iter().filter_map(|f| self.risk.get(f)).sum()
    }

    /// The most likely category of a risk text, by index into `categories`.
    pub fn category(&self, features: &[u64]) -> usize {
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

    /// Reads the text form written by [`Weights::to_text`].
    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let bias_id = feature_id("bias");
        let mut model = Model {
            threshold: 0.5,
            categories: Vec::new(),
            bias: 0.0,
            risk: FxHashMap::default(),
            which: FxHashMap::default(),
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
                    let (id, w) = (feature_id(f), number(w)?);
                    if id == bias_id {
                        model.bias = w;
                    } else {
                        model.risk.insert(id, w);
                    }
                }
                Some("which") => {
                    let f = parts.next().ok_or_else(|| bad("no feature"))?;
                    let weights = parts.map(number).collect::<Result<Vec<f64>, _>>()?;
                    if weights.len() != model.categories.len() {
                        return Err(bad("one weight per category expected"));
                    }
                    model.which.insert(feature_id(f), weights);
                }
                Some(_) => return Err(bad("unknown line")),
            }
        }
        Ok(model)
    }
}

/// Trained weights by feature name: what training gives and what the model file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub threshold: f64,
    pub categories: Vec<String>,
    risk: HashMap<String, f64>,
    which: HashMap<String, Vec<f64>>,
}

impl Weights {
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

    /// The model these weights score as (through the text form, exactly as it ships).
    pub fn model(&self) -> Result<Model, ModelError> {
        Model::parse(&self.to_text(""))
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
pub fn train(examples: &[Example], categories: &[String], t: Training, threshold: f64) -> Weights {
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
    let mut model = Weights {
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

    fn names(words: &[&str]) -> Vec<String> {
        let mut features: Vec<String> = words.iter().map(|w| format!("w:{w}")).collect();
        features.push("bias".into());
        features
    }

    fn ids(words: &[&str]) -> Vec<u64> {
        ids_of(&names(words))
    }

    #[test]
    fn training_separates_and_the_text_form_reads_back_the_same() {
        let cats = vec!["a".to_owned(), "b".to_owned()];
        let mut examples = Vec::new();
        for _ in 0..5 {
            for (words, category) in [
                (["alarm", "red"], Some(0)),
                (["alarm", "blue"], Some(1)),
                (["calm", "red"], None),
                (["calm", "blue"], None),
            ] {
                examples.push(Example {
                    features: names(&words),
                    category,
                });
            }
        }
        let weights = train(&examples, &cats, Training::default(), 0.5);
        let model = weights.model().expect("reads back");
        assert!(model.risk(&ids(&["alarm", "red"])) > 0.5);
        assert!(model.risk(&ids(&["calm", "blue"])) < 0.5);
        assert_eq!(model.category(&ids(&["alarm", "blue"])), 1);
        let text = weights.to_text("test");
        assert_eq!(Model::parse(&text).expect("reads back"), model);
        assert_eq!(train(&examples, &cats, Training::default(), 0.5), weights);
    }

    #[test]
    fn a_damaged_model_file_names_its_line() {
        let err =
            Model::parse("threshold 0.5\ncategories a b\nrisk w:x nope\n").expect_err("refused");
        assert_eq!(err.line, 3);
    }

    #[test]
    fn feature_numbers_are_the_hashes_of_feature_names() {
        let profile = crate::safety::Profile::builtin_patterns().expect("profile");
        for text in [
            "i dont want to be here anymore, everyone would be better off",
            "he took my keys and my phone again and i am scared to go home",
            "I could kill for a coffee",
            "",
            "one",
        ] {
            let analysis = &profile.detector.analyse(text);
            let by_name = ids_of(&features(analysis, &profile.detector));
            assert!(
                by_name.contains(&feature_id("bias")),
                "{text:?} has the prior"
            );
            assert_eq!(
                feature_ids(analysis, &profile.detector),
                by_name,
                "{text:?}"
            );
        }
    }
}
