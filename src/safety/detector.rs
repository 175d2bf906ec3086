//! The risk detector: does a piece of typed text suggest someone may be at risk?
//!
//! Text is normalised first (case, punctuation, missing apostrophes, common slang, letters
//! held down, near-miss spellings of the profile's own words), then reduced to word stems.
//! Idioms and hyperbole ("I could kill for a coffee") are masked out, and the profile's
//! phrase patterns are matched, allowing a few other words between a pattern's words so that
//! a thought split over a long sentence is still seen. When in doubt the patterns are broad:
//! a missed risk is worse than an extra pause.
//!
//! Patterns (in `content/safety.yaml`) are words separated by spaces, where `(a|b c)` offers
//! alternatives (each may be several words) and `*` allows up to [`WIDE_GAP`] words in
//! between. Words match by stem, so `kill myself` also matches "killing myself".

use rustc_hash::{FxHashMap as HashMap, FxHashMap, FxHashSet as HashSet};

use rust_stemmers::{Algorithm, Stemmer};

/// Words allowed between two words of a pattern.
pub const GAP: usize = 2;
/// Words allowed at a `*`.
pub const WIDE_GAP: usize = 8;

/// One pattern: slots in order, each a set of alternatives (each alternative one or more
/// stems, in a row), with the number of other words allowed before the slot.
#[derive(Debug, Clone)]
struct Sequence {
    slots: Vec<Compiled>,
    /// Words after the match that it also covers (a pattern ending in `*`; used to mask the
    /// rest of an idiom such as "a film about ...").
    tail: usize,
    /// Index of the category (or exclusion) it belongs to.
    owner: usize,
}

/// A set of compiled patterns, indexed by their first stem.
#[derive(Debug, Default)]
pub struct PatternSet {
    sequences: Vec<Sequence>,
    by_first: HashMap<String, Vec<usize>>,
}

/// A phrase pattern that does not compile, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("pattern `{pattern}`: {problem}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it, such as "a `(` is not closed".
    pub problem: String,
}

/// Normalises text and reduces words to stems.
pub struct Normaliser {
    stemmer: Stemmer,
    /// Stems the profile uses, by their unstemmed spelling, for near-miss spellings.
    vocabulary: Vec<String>,
    /// Each vocabulary word, and each way of dropping one letter from it -> the word's index:
    /// near misses are found by lookup, not by comparing with every word.
    deletions: HashMap<String, Vec<usize>>,
    known: HashSet<String>,
    known_words: HashSet<String>,
}

impl std::fmt::Debug for Normaliser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normaliser")
            .field("vocabulary", &self.vocabulary.len())
            .finish()
    }
}

/// Words people type without their apostrophe or in shorthand, as full words.
fn expand(word: &str) -> Option<&'static [&'static str]> {
    Some(match word {
        "dont" => &["do", "not"],
        "doesnt" => &["does", "not"],
        "didnt" => &["did", "not"],
        "cant" | "cannot" => &["can", "not"],
        "couldnt" => &["could", "not"],
        "wont" => &["will", "not"],
        "wouldnt" => &["would", "not"],
        "shouldnt" => &["should", "not"],
        "isnt" => &["is", "not"],
        "arent" => &["are", "not"],
        "wasnt" => &["was", "not"],
        "werent" => &["were", "not"],
        "aint" => &["is", "not"],
        "havent" => &["have", "not"],
        "hasnt" => &["has", "not"],
        "im" | "iam" => &["i", "am"],
        "ive" => &["i", "have"],
        "id" => &["i", "would"],
        "ill" => &["i", "will"],
        "youre" => &["you", "are"],
        "hes" => &["he", "is"],
        "shes" => &["she", "is"],
        "theyre" => &["they", "are"],
        "thats" => &["that", "is"],
        "its" => &["it", "is"],
        "whats" => &["what", "is"],
        "theres" => &["there", "is"],
        "gonna" => &["going", "to"],
        "wanna" => &["want", "to"],
        "gotta" => &["got", "to"],
        "hafta" => &["have", "to"],
        "u" => &["you"],
        "ur" => &["your"],
        "r" => &["are"],
        "ppl" => &["people"],
        "bc" | "cuz" | "coz" | "cos" => &["because"],
        "kms" => &["kill", "myself"],
        "kil" | "kilk" => &["kill"],
        "hell" => &["he", "will"],
        "shell" => &["she", "will"],
        "theyll" => &["they", "will"],
        "youll" => &["you", "will"],
        "hed" => &["he", "would"],
        "shed" => &["she", "would"],
        "theyd" => &["they", "would"],
        "kys" => &["kill", "yourself"],
        "unalive" => &["kill"],
        "od" | "oded" | "odd" => &["overdose"],
        "mum" | "mam" | "mommy" | "mummy" => &["mom"],
        "hubby" => &["husband"],
        "bf" => &["boyfriend"],
        "gf" => &["girlfriend"],
        "mself" | "meself" | "myslef" | "mysefl" | "mysef" | "myselfe" => &["myself"],
        "tonite" => &["tonight"],
        "nite" => &["night"],
        "n" => &["and"],
        _ => return None,
    })
}

/// Forms the stemmer does not reduce to the stem of their base word.
fn irregular(word: &str) -> Option<&'static str> {
    Some(match word {
        "died" | "dying" | "dies" | "dyin" => "die",
        "dead" => "dead",
        "shook" | "shaken" => "shake",
        "threw" | "thrown" => "throw",
        "took" | "taken" => "take",
        "beaten" => "beat",
        "children" | "kids" | "kiddos" => "kid",
        "child" => "kid",
        "hurt" | "hurts" | "hurting" => "hurt",
        "hit" | "hits" | "hitting" => "hit",
        "cut" | "cuts" | "cutting" => "cut",
        "stabbed" | "stabbing" => "stab",
        "shot" | "shoots" | "shooting" => "shoot",
        "felt" => "feel",
        "went" | "gone" => "go",
        "said" | "says" => "say",
        "told" => "tell",
        "wrote" | "written" => "write",
        "threatened" | "threatening" | "threatens" | "threats" | "threat" => "threaten",
        "strangled" | "strangling" | "strangles" => "strangl",
        "choked" | "choking" | "chokes" | "choke" => "choke",
        "scared" | "scares" | "scary" => "scare",
        "afraid" => "afraid",
        "pills" | "pill" => "pill",
        _ => return None,
    })
}

impl Normaliser {
    fn new() -> Normaliser {
        Normaliser {
            stemmer: Stemmer::create(Algorithm::English),
            vocabulary: Vec::new(),
            deletions: HashMap::default(),
            known: HashSet::default(),
            known_words: HashSet::default(),
        }
    }

    fn stem(&self, word: &str) -> String {
        match irregular(word) {
            Some(s) => s.to_owned(),
            None => self.stemmer.stem(word).into_owned(),
        }
    }

    /// Lowercased words of `text`, apostrophes dropped, shorthand expanded, repeated letters
    /// collapsed. Not yet stemmed.
    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut current = String::new();
        let mut last: Option<char> = None;
        let mut run = 0;
        let flush = |current: &mut String, out: &mut Vec<String>| {
            if !current.is_empty() {
                match expand(current) {
                    Some(words) => out.extend(words.iter().map(|w| (*w).to_owned())),
                    None => out.push(std::mem::take(current)),
                }
                current.clear();
            }
        };
        for c in text.chars() {
            if c == '\'' || c == '’' || c == '‘' || c == '`' {
                continue; // "don't" and "dont" read the same
            }
            if c.is_alphanumeric() {
                for lc in c.to_lowercase() {
                    if Some(lc) == last {
                        run += 1;
                    } else {
                        run = 1;
                        last = Some(lc);
                    }
                    // "sooooo" -> "soo": a held-down key is not a new word. Digits are
                    // never squeezed: "111" is an emergency number, "11:30" a time.
                    if run <= 2 || lc.is_ascii_digit() {
                        current.push(lc);
                    }
                }
            } else {
                last = None;
                run = 0;
                flush(&mut current, &mut out);
            }
        }
        flush(&mut current, &mut out);
        out
    }

    /// The stems of `text`, with near-miss spellings of the profile's words corrected.
    pub fn stems(&self, text: &str) -> Vec<String> {
        // Answers repeat their words ("i", "and", "the"): each is stemmed once.
        let mut seen: FxHashMap<String, String> = FxHashMap::default();
        Normaliser::words(text)
            .into_iter()
            .map(|w| {
                if let Some(s) = seen.get(&w) {
                    return s.clone();
                }
                let s = self.stem(&w);
                let s = if self.known.contains(&s) || w.chars().count() < 5 {
                    s
                } else {
                    match self.near_miss(&w) {
                        Some(fixed) => self.stem(fixed),
                        None => s,
                    }
                };
                seen.insert(w, s.clone());
                s
            })
            .collect()
    }

    /// A profile word one typo away from `word` (two for long words). Short words only count
    /// a dropped or doubled letter ("suicde", "kiling"): a changed letter too often makes a
    /// different everyday word ("chores" is not "chokes").
    fn near_miss(&self, word: &str) -> Option<&str> {
        let len = word.chars().count();
        let mut candidates: Vec<usize> = Vec::new();
        for key in std::iter::once(word.to_owned()).chain(one_deleted(word)) {
            if let Some(found) = self.deletions.get(&key) {
                candidates.extend(found);
            }
        }
        candidates
            .into_iter()
            .map(|i| self.vocabulary[i].as_str())
            .filter(|v| len >= 8 || v.chars().count() != len)
            .map(|v| (strsim::damerau_levenshtein(word, v), v))
            .filter(|(d, _)| *d == 1)
            .min_by_key(|(d, _)| *d)
            .map(|(_, v)| v)
    }

    fn learn(&mut self, word: &str) {
        let stem = self.stem(word);
        if word.chars().count() >= 5 && self.known_words.insert(word.to_owned()) {
            let index = self.vocabulary.len();
            self.vocabulary.push(word.to_owned());
            for key in std::iter::once(word.to_owned()).chain(one_deleted(word)) {
                self.deletions.entry(key).or_default().push(index);
            }
        }
        self.known.insert(stem);
    }
}

/// A pattern element: alternatives (each a run of words) and whether it may be left out
/// (`(...)?`), or `None` for `*`.
type Slot = Option<(Vec<Vec<String>>, bool)>;

/// `word` with one letter dropped, every way.
fn one_deleted(word: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len()).map(move |i| {
        chars
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| *c)
            .collect()
    })
}

/// Whether `pattern` is well formed (for a flow's own patterns, checked when it loads).
pub fn check_pattern(pattern: &str) -> Result<(), PatternError> {
    parse_pattern(pattern).map(|_| ())
}

/// Splits a pattern into slots.
fn parse_pattern(pattern: &str) -> Result<Vec<Slot>, PatternError> {
    let bad = |problem: &str| PatternError {
        pattern: pattern.to_owned(),
        problem: problem.to_owned(),
    };
    let mut slots: Vec<Slot> = Vec::new();
    let mut rest = pattern.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('(') {
            let end = after.find(')').ok_or_else(|| bad("a `(` is not closed"))?;
            if after[..end].contains('(') {
                return Err(bad("alternatives cannot be nested; list each one in full"));
            }
            let options: Vec<Vec<String>> =
                after[..end].split('|').map(Normaliser::words).collect();
            if options.iter().any(|o| o.is_empty()) {
                return Err(bad("an alternative is empty"));
            }
            let optional = after[end + 1..].starts_with('?');
            slots.push(Some((options, optional)));
            rest = after[end + 1 + usize::from(optional)..].trim_start();
        } else {
            let end = rest.find([' ', '(']).unwrap_or(rest.len());
            let token = &rest[..end];
            if token == "*" {
                slots.push(None);
            } else {
                if token.contains(['?', ')']) {
                    return Err(bad("a `?` or `)` stands outside an alternatives group"));
                }
                for w in Normaliser::words(token) {
                    slots.push(Some((vec![vec![w]], false)));
                }
            }
            rest = rest[end..].trim_start();
        }
    }
    match slots.iter().find(|s| s.is_some()) {
        None => return Err(bad("it has no words")),
        Some(Some((_, true))) => return Err(bad("the first words cannot be optional")),
        Some(_) => {}
    }
    Ok(slots)
}

/// Whether `alt` stands at `at` (its words in a row, one stray word allowed between them);
/// returns where it ends.
fn alternative_at(stems: &[String], at: usize, alt: &[String]) -> Option<usize> {
    if stems.get(at)? != &alt[0] {
        return None;
    }
    let mut end = at;
    for word in &alt[1..] {
        end = ((end + 1)..stems.len().min(end + 3)).find(|&j| &stems[j] == word)?;
    }
    Some(end)
}

/// A compiled slot: alternatives, the words allowed before it, and whether it may be left out.
type Compiled = (Vec<Vec<String>>, usize, bool);

/// Matches slots `k..` after position `prev`; returns the end of the match.
fn match_slots(stems: &[String], slots: &[Compiled], k: usize, prev: usize) -> Option<usize> {
    let Some((alts, gap, optional)) = slots.get(k) else {
        return Some(prev);
    };
    for j in (prev + 1)..stems.len().min(prev + 2 + gap) {
        for alt in alts {
            if let Some(end) = alternative_at(stems, j, alt) {
                if let Some(done) = match_slots(stems, slots, k + 1, end) {
                    return Some(done);
                }
            }
        }
    }
    if *optional {
        return match_slots(stems, slots, k + 1, prev);
    }
    None
}

impl PatternSet {
    fn add(
        &mut self,
        normaliser: &mut Normaliser,
        pattern: &str,
        owner: usize,
    ) -> Result<(), PatternError> {
        let mut slots: Vec<Compiled> = Vec::new();
        let mut gap = 0;
        for slot in parse_pattern(pattern)? {
            let Some((alts, optional)) = slot else {
                gap = WIDE_GAP;
                continue;
            };
            let alts: Vec<Vec<String>> = alts
                .iter()
                .map(|alt| {
                    alt.iter()
                        .map(|w| {
                            normaliser.learn(w);
                            normaliser.stem(w)
                        })
                        .collect()
                })
                .collect();
            slots.push((
                alts,
                if slots.is_empty() { 0 } else { gap.max(GAP) },
                optional,
            ));
            gap = 0;
        }
        let index = self.sequences.len();
        let mut firsts: Vec<&String> = slots[0].0.iter().map(|alt| &alt[0]).collect();
        firsts.sort();
        firsts.dedup();
        for first in firsts {
            self.by_first.entry(first.clone()).or_default().push(index);
        }
        self.sequences.push(Sequence {
            slots,
            owner,
            tail: gap,
        });
        Ok(())
    }

    /// Every match as (owner, first token, last token).
    fn matches(&self, stems: &[String]) -> Vec<(usize, usize, usize)> {
        let mut found = Vec::new();
        for (start, stem) in stems.iter().enumerate() {
            let Some(candidates) = self.by_first.get(stem) else {
                continue;
            };
            for &i in candidates {
                let seq = &self.sequences[i];
                for alt in seq.slots[0].0.iter().filter(|a| &a[0] == stem) {
                    if let Some(first_end) = alternative_at(stems, start, alt) {
                        if let Some(end) = match_slots(stems, &seq.slots, 1, first_end) {
                            let end = (end + seq.tail).min(stems.len().saturating_sub(1));
                            found.push((seq.owner, start, end));
                            break;
                        }
                    }
                }
            }
        }
        found
    }
}

/// Compiled risk patterns and exclusions, ready to scan text.
#[derive(Debug)]
pub struct Detector {
    normaliser: Normaliser,
    risks: PatternSet,
    /// Patterns that only hint at a risk: they pause when the encoder is not sure the answer
    /// is ordinary, and never on their own.
    hints: PatternSet,
    exclusions: PatternSet,
    categories: Vec<String>,
}

impl Detector {
    /// Builds a detector from (category, patterns) pairs and idiom exclusions.
    pub fn new<'a>(
        categories: impl IntoIterator<Item = (&'a str, &'a [String])>,
        exclusions: &[String],
    ) -> Result<Detector, PatternError> {
        Detector::with_hints(
            categories.into_iter().map(|(n, p)| (n, p, &[][..])),
            exclusions,
        )
    }

    /// Builds a detector whose categories also have hint patterns.
    pub fn with_hints<'a>(
        categories: impl IntoIterator<Item = (&'a str, &'a [String], &'a [String])>,
        exclusions: &[String],
    ) -> Result<Detector, PatternError> {
        let mut normaliser = Normaliser::new();
        let mut risks = PatternSet::default();
        let mut hints = PatternSet::default();
        let mut names = Vec::new();
        for (i, (name, patterns, category_hints)) in categories.into_iter().enumerate() {
            names.push(name.to_owned());
            for p in patterns {
                risks.add(&mut normaliser, p, i)?;
            }
            for p in category_hints {
                hints.add(&mut normaliser, p, i)?;
            }
        }
        let mut excl = PatternSet::default();
        for p in exclusions {
            excl.add(&mut normaliser, p, 0)?;
        }
        Ok(Detector {
            normaliser,
            risks,
            hints,
            exclusions: excl,
            categories: names,
        })
    }

    /// The categories `text` suggests, in profile order, without repeats (patterns, not
    /// hints).
    pub fn scan(&self, text: &str) -> Vec<&str> {
        self.analyse(text).categories(self)
    }

    /// What the patterns see in `text`: the word stems (idioms blanked out) and, for each
    /// category, whether a pattern or a hint matched.
    pub fn analyse(&self, text: &str) -> Analysis {
        let mut stems = self.normaliser.stems(text);
        let mut masked = false;
        for (_, from, to) in self.exclusions.matches(&stems) {
            masked = true;
            for s in &mut stems[from..=to] {
                s.clear();
            }
        }
        let mut hits = vec![false; self.categories.len()];
        for (owner, _, _) in self.risks.matches(&stems) {
            hits[owner] = true;
        }
        let mut hinted = vec![false; self.categories.len()];
        for (owner, _, _) in self.hints.matches(&stems) {
            hinted[owner] = true;
        }
        Analysis {
            stems,
            hits,
            hinted,
            masked,
        }
    }

    /// The category names, in profile order.
    pub fn category_names(&self) -> &[String] {
        &self.categories
    }
}

/// What the patterns found in one text (see [`Detector::analyse`]).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Word stems; words inside an idiom are empty.
    pub stems: Vec<String>,
    /// For each category: a pattern matched.
    pub hits: Vec<bool>,
    /// For each category: a hint matched.
    pub hinted: Vec<bool>,
    /// An idiom or a hyperbole was blanked out.
    pub masked: bool,
}

impl Analysis {
    /// The categories the patterns found, in profile order.
    pub fn categories<'d>(&self, detector: &'d Detector) -> Vec<&'d str> {
        Analysis::named(detector, &self.hits)
    }

    /// The categories the hints found, in profile order.
    pub fn hinted<'d>(&self, detector: &'d Detector) -> Vec<&'d str> {
        Analysis::named(detector, &self.hinted)
    }

    fn named<'d>(detector: &'d Detector, which: &[bool]) -> Vec<&'d str> {
        detector
            .categories
            .iter()
            .zip(which)
            .filter(|(_, h)| **h)
            .map(|(c, _)| c.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        let self_harm = [
            "(kill|killing) myself".to_owned(),
            "(want|wish) to die".to_owned(),
            "better off without me".to_owned(),
        ];
        let violence = ["(he|she) * (hit|push) me".to_owned()];
        Detector::new(
            [("self_harm", &self_harm[..]), ("violence", &violence[..])],
            &[
                "could kill for".to_owned(),
                "dying to (know|see)".to_owned(),
            ],
        )
        .expect("valid patterns")
    }

    #[test]
    fn matches_through_case_punctuation_inflection_and_typos() {
        let d = detector();
        for text in [
            "I want to KILL MYSELF.",
            "im thinking about killing myself",
            "sometimes i just wanna die",
            "i wish to just... die",
            "honestly everyone would be better off without me",
            "i think about kiling myslef",
            "he, when he is drunk, sometimes hits me",
        ] {
            assert!(!d.scan(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn idioms_are_masked() {
        let d = detector();
        for text in [
            "I could kill for a coffee",
            "dying to know what you think",
            "im dying to see the film",
        ] {
            assert!(d.scan(text).is_empty(), "{text}");
        }
        assert_eq!(
            d.scan("i could kill for a coffee but really i want to die"),
            ["self_harm"]
        );
    }

    #[test]
    fn words_normalise_apostrophes_and_held_keys() {
        assert_eq!(
            Normaliser::words("I don’t WANT to be here sooooo"),
            ["i", "do", "not", "want", "to", "be", "here", "soo"]
        );
    }

    #[test]
    fn bad_patterns_are_reported() {
        let p = ["(kill myself".to_owned()];
        assert!(Detector::new([("x", &p[..])], &[]).is_err());
    }
}
