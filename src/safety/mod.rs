//! Safety: the global profile every free-text answer is screened against, and the help
//! resources shown when a screen or a flow's own trigger pauses a session.
//!
//! The profile (`content/safety.yaml`) is built in. A flow can add to it but never take
//! anything away, and the engine screens answers whatever the flow says. A trigger pauses the
//! run before anything else happens (see the engine), and what the participants then see is
//! calm and neutral: never the category, because the partner in the room may be the danger.

mod clauses;
pub(crate) mod detector;
mod encoder;
pub mod resources;
mod rows;
mod vote;

use serde::Deserialize;

pub use detector::{Detector, PatternError};
pub use encoder::{Encoder, ModelError, ModelFiles};
pub use vote::VoteMeta;

use crate::content::BUILTIN_CONTENT;

/// What the engine asks of a safety screen.
pub trait Screen: std::fmt::Debug + Send + Sync {
    /// The first category `text` suggests, if any.
    fn screen(&self, text: &str) -> Option<String>;
    /// Whether a trigger of `category` rules out going on with this session.
    fn stops(&self, category: &str) -> bool;
    /// Whether `category` is one of the screen's own (a flow cannot redefine those).
    fn knows(&self, category: &str) -> bool;
}

/// The ids of the built-in profile's categories, read once (flows are checked against them
/// without compiling the whole profile).
pub fn builtin_category_ids() -> &'static [String] {
    static IDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        #[derive(Deserialize)]
        struct Ids {
            categories: indexmap::IndexMap<String, serde::de::IgnoredAny>,
        }
        BUILTIN_CONTENT
            .get_file("safety.yaml")
            .and_then(|f| f.contents_utf8())
            .and_then(|t| serde_saphyr::from_str::<Ids>(t).ok())
            .map(|ids| ids.categories.into_keys().collect())
            .unwrap_or_default()
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[allow(dead_code)]
    version: u32,
    categories: indexmap::IndexMap<String, RawCategory>,
    #[serde(default)]
    exclusions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    #[serde(default = "yes")]
    stop: bool,
    message: String,
    patterns: Vec<String>,
    /// Patterns that pause only when the encoder is not sure the answer is ordinary.
    #[serde(default)]
    hints: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A safety category: its calm message and whether a trigger ends the session.
#[derive(Debug, Clone)]
pub struct Category {
    /// The category's id (`self_harm`, `violence`, ...).
    pub id: String,
    /// Whether a trigger ends the exercise for today; `false` lets the participants go on
    /// after a confirmed choice.
    pub stop: bool,
    /// The category's message from the profile, trimmed; the pause itself shows the same calm
    /// words whatever the category.
    pub message: String,
}

/// The compiled safety profile: the phrase patterns, and the sentence encoder that reads
/// each answer as a whole and from each clause on.
#[derive(Debug)]
pub struct Profile {
    categories: Vec<Category>,
    detector: Detector,
    encoder: Option<LazyEncoder>,
}

/// Why a safety profile could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The profile's YAML could not be read: bad YAML, an unknown field, or the built-in file
    /// missing from the build.
    #[error("content/safety.yaml: {0}")]
    Yaml(String),
    /// One of the profile's phrase patterns does not compile.
    #[error("content/safety.yaml: {0}")]
    Pattern(#[from] PatternError),
    /// The encoder could not be loaded, or was trained for other categories than the
    /// profile's.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// How one answer was judged (for `safety scan`, the tests and the figures).
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement<'p> {
    /// The categories that pause the session; empty when it goes on.
    pub categories: Vec<&'p str>,
    /// The risk that decides: the geometric mean of the encoder's risk and the vote of the
    /// nearest training lines, or the encoder's risk alone when there was no vote (a model
    /// without one, an answer too long for it, or one the encoder is sure enough is ordinary
    /// that no vote could make it pause; [`Profile::judge_fully`] always takes the vote).
    /// `None` when the encoder did not judge the answer (no model, or a pattern that nothing
    /// may overrule).
    pub risk: Option<f32>,
    /// The fine-tuned encoder's highest risk over the answer's spans (1 − P(ok)).
    pub screen: Option<f32>,
    /// The vote: the weighed share of risk lines among the training lines nearest to the
    /// answer or to one of its spans (the most worrying), when it was taken.
    pub vote: Option<f32>,
    /// The encoder's risk for the whole answer alone (the highest of its windows').
    pub whole: Option<f32>,
    /// The categories the phrase patterns found.
    pub patterns: Vec<&'p str>,
}

/// Pattern categories that nothing overrules: when one of these matches, the session
/// pauses whatever the encoder says.
pub const ALWAYS_PAUSE: [&str; 2] = ["self_harm", "emergency"];

/// Where another category's pattern or a hint matched, the screen's risk needs only this
/// share of its threshold for the pause to stand: the screen overrules a pattern only when
/// it is sure the answer is ordinary. When in doubt, pause. 0.5 since the eleventh round,
/// by a rule set down before the model was measured (docs/safety.md): on the validation
/// sets it gives one false pause fewer than 0.2 and keeps recall at 0.98, and on the blind
/// sets scored before (now training data) a fifth of the threshold let "goodbye", "bridge"
/// or "the suicide question" pause ordinary answers 20 times for 2 risk lines it caught.
/// The third round chose 0.2, when 0.5 overruled "I need to know about money, or honestly
/// I don't want to live like this anymore" (a risk of 0.125 from that round's model).
pub const PATTERN_DOUBT: f32 = 0.5;

impl Profile {
    /// The built-in profile, with the built-in encoder. The encoder is loaded on a thread
    /// started here, so the first question is on the screen before the model is ready; the
    /// first screened answer waits for it.
    pub fn builtin() -> Result<Profile, ProfileError> {
        let mut profile = Profile::builtin_patterns()?;
        let categories = profile.detector.category_names().to_vec();
        profile.encoder = Some(LazyEncoder::spawn(move || {
            let files = ModelFiles::builtin()?;
            load_for(&files, &categories)
        }));
        Ok(profile)
    }

    /// The built-in profile's patterns alone, without the encoder (for comparisons).
    pub fn builtin_patterns() -> Result<Profile, ProfileError> {
        let text = BUILTIN_CONTENT
            .get_file("safety.yaml")
            .and_then(|f| f.contents_utf8())
            .ok_or_else(|| ProfileError::Yaml("missing from the build".into()))?;
        Profile::from_yaml(text)
    }

    /// This profile with the encoder in `files`, loaded now. Its labels must be the
    /// profile's categories.
    pub fn with_model(mut self, files: &ModelFiles) -> Result<Profile, ProfileError> {
        let encoder = load_for(files, self.detector.category_names())?;
        self.encoder = Some(LazyEncoder::ready(Ok(encoder)));
        Ok(self)
    }

    /// Why the encoder could not be loaded, if it could not (the patterns then screen
    /// alone). Waits for the encoder to finish loading.
    pub fn model_problem(&self) -> Option<&ModelError> {
        self.encoder.as_ref().and_then(|e| e.get().as_ref().err())
    }

    /// Like [`Profile::model_problem`], but without waiting: `None` while the encoder is
    /// still loading.
    pub fn model_problem_so_far(&self) -> Option<&ModelError> {
        let lazy = self.encoder.as_ref()?;
        let done = lazy.loaded.get().is_some()
            || match lazy.loading.lock() {
                Ok(slot) => slot.as_ref().is_none_or(|h| h.is_finished()),
                Err(_) => true,
            };
        if done {
            lazy.get().as_ref().err()
        } else {
            None
        }
    }

    /// The encoder, once loaded (waits for it).
    pub fn encoder(&self) -> Option<&Encoder> {
        self.encoder.as_ref().and_then(|e| e.get().as_ref().ok())
    }

    /// The category ids, in profile order.
    pub fn category_ids(&self) -> &[String] {
        self.detector.category_names()
    }

    /// A profile compiled from the text of a `safety.yaml`, without an encoder: its phrase
    /// patterns and hints screen alone until [`Profile::with_model`] adds one.
    pub fn from_yaml(text: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile = serde_saphyr::from_str_with_options(text, crate::yaml::options())
            .map_err(|e| ProfileError::Yaml(e.without_snippet().to_string()))?;
        let detector = Detector::with_hints(
            raw.categories
                .iter()
                .map(|(id, c)| (id.as_str(), &c.patterns[..], &c.hints[..])),
            &raw.exclusions,
        )?;
        let categories = raw
            .categories
            .into_iter()
            .map(|(id, c)| Category {
                id,
                stop: c.stop,
                message: c.message.trim().to_owned(),
            })
            .collect();
        Ok(Profile {
            categories,
            detector,
            encoder: None,
        })
    }

    /// Every category `text` suggests (empty when the session goes on).
    pub fn scan(&self, text: &str) -> Vec<&str> {
        self.judge(text).categories
    }

    /// How `text` is judged. The encoder reads the answer once and judges it whole and from
    /// each later clause on (`clauses::starts`), and the answer takes its most worrying span,
    /// so nothing ordinary dilutes a risk. Where the encoder leans far enough towards risk
    /// that it could matter, the vote of the nearest training lines is taken (`vote.rs`),
    /// and the risk that decides is the geometric mean of the two. The phrase patterns only
    /// add: a pattern for self-harm or an emergency pauses whatever the encoder says;
    /// another category's pattern, or any hint, pauses unless the screen is sure the answer
    /// is ordinary (the risk under [`PATTERN_DOUBT`] of the threshold). Without an encoder (none loaded, or
    /// a damaged file) the patterns and hints decide alone: when in doubt, pause.
    pub fn judge(&self, text: &str) -> Judgement<'_> {
        self.judge_with(text, false)
    }

    /// Like [`Profile::judge`], but the vote of the nearest training lines is always taken
    /// when the model has one, so that `risk` is the combined risk even where it cannot
    /// change the outcome (for `safety scan` and the figures at other thresholds). It pauses
    /// exactly when [`Profile::judge`] does.
    pub fn judge_fully(&self, text: &str) -> Judgement<'_> {
        self.judge_with(text, true)
    }

    fn judge_with(&self, text: &str, full: bool) -> Judgement<'_> {
        let analysis = self.detector.analyse(text);
        let firm = analysis.categories(&self.detector);
        let mut patterns = firm.clone();
        for c in analysis.hinted(&self.detector) {
            if !patterns.contains(&c) {
                patterns.push(c);
            }
        }
        let mut judgement = Judgement {
            categories: patterns.clone(),
            risk: None,
            screen: None,
            vote: None,
            whole: None,
            patterns,
        };
        if firm.iter().any(|c| ALWAYS_PAUSE.contains(c)) {
            judgement.categories = firm;
            return judgement;
        }
        // A text without a single letter ("19:00", "-") has no words to read.
        if !text.chars().any(char::is_alphabetic) {
            return judgement;
        }
        let Some(encoder) = self.encoder() else {
            return judgement;
        };
        let visible = without_escapes(text);
        let text = visible.trim();
        let Ok(spans) = encoder.judge(text, &clauses::starts(text)) else {
            return judgement;
        };
        let Some(worst) = spans
            .iter()
            .map(|s| &s.probabilities)
            .max_by(|a, b| risk_of(a).total_cmp(&risk_of(b)))
        else {
            return judgement;
        };
        let screen = risk_of(worst);
        let threshold = encoder.meta.threshold;
        // The lowest risk that can pause: the threshold, or its share when a pattern or a
        // hint matched. The vote is at most 1, so the combined risk is at most the square
        // root of the encoder's: under the square of that lowest risk, no vote can pause.
        let lowest = if judgement.patterns.is_empty() {
            threshold
        } else {
            threshold * PATTERN_DOUBT
        };
        let risk = if encoder.has_vote() && (full || screen >= lowest * lowest) {
            match encoder.vote(text, &clauses::all_starts(text)) {
                Ok(Some(vote)) => {
                    judgement.vote = Some(vote);
                    (screen * vote).sqrt()
                }
                // Too long an answer for the vote, or the vote failed: the encoder alone.
                Ok(None) | Err(_) => screen,
            }
        } else {
            screen
        };
        judgement.screen = Some(screen);
        judgement.risk = Some(risk);
        judgement.whole = spans
            .iter()
            .filter(|s| s.whole)
            .map(|s| risk_of(&s.probabilities))
            .reduce(f32::max);
        judgement.categories = if risk >= threshold && judgement.patterns.is_empty() {
            // The encoder's most likely category; its labels are `ok` then the profile's
            // categories in order (checked when it was loaded).
            let best = worst
                .iter()
                .enumerate()
                .skip(1)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i - 1)
                .unwrap_or(0);
            self.detector
                .category_names()
                .get(best)
                .map(|c| vec![c.as_str()])
                .unwrap_or_default()
        } else if risk >= threshold * PATTERN_DOUBT {
            judgement.patterns.clone()
        } else {
            Vec::new()
        };
        judgement
    }

    /// The category with this id; `None` for one the profile does not define (such as a
    /// flow's own).
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// Every category, in profile order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
}

/// 1 − P(ok): how far the encoder leans away from an ordinary answer.
fn risk_of(probabilities: &[f32]) -> f32 {
    1.0 - probabilities.first().copied().unwrap_or(1.0)
}

static BUILTIN: std::sync::OnceLock<Result<Profile, ProfileError>> = std::sync::OnceLock::new();

/// The built-in profile, compiled once per process: the screen every engine starts with.
pub fn builtin_profile() -> Result<&'static Profile, &'static ProfileError> {
    BUILTIN.get_or_init(Profile::builtin).as_ref()
}

/// The built-in profile if this process has compiled it (or started to), without compiling it.
pub fn builtin_profile_if_prepared() -> Option<&'static Profile> {
    BUILTIN.get().and_then(|p| p.as_ref().ok())
}

/// Starts compiling the built-in profile (and loading its encoder) on a thread, so that a
/// front-end can read its flow and open its store meanwhile; [`builtin_profile`] then waits
/// only for what is left. Calling it more than once, or never, is fine.
pub fn prepare_builtin_profile() {
    if BUILTIN.get().is_none() {
        // If the thread cannot start, the profile is compiled when it is first needed.
        let _ = std::thread::Builder::new()
            .name("safety profile".into())
            .spawn(|| {
                let _ = builtin_profile();
            });
    }
}

/// The built-in profile as the engine's screen, compiled the first time an answer needs it
/// (or by [`prepare_builtin_profile`]'s thread before then), so that an engine, and the first
/// question, never wait for the phrase patterns to compile.
///
/// It fails closed: if the built-in profile could not be compiled (a fault in the build,
/// which the tests rule out), every typed answer pauses.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinScreen;

/// The category a typed answer pauses with when the built-in profile is not to be had. Every
/// category shows the same screen, so which one does not matter to the people in the room.
const FAIL_CLOSED: &str = "emergency";

impl Screen for BuiltinScreen {
    fn screen(&self, text: &str) -> Option<String> {
        match builtin_profile() {
            Ok(profile) => profile.screen(text),
            Err(_) => Some(FAIL_CLOSED.to_owned()),
        }
    }

    fn stops(&self, category: &str) -> bool {
        builtin_profile().map_or(true, |profile| profile.stops(category))
    }

    fn knows(&self, category: &str) -> bool {
        builtin_category_ids().iter().any(|id| id == category)
    }
}

fn load_for(files: &ModelFiles, categories: &[String]) -> Result<Encoder, ModelError> {
    let encoder = Encoder::load(files)?;
    if encoder.meta.labels[1..] != *categories {
        return Err(ModelError {
            file: files.origin.join("meta.json"),
            problem: format!(
                "the model was trained for the labels {:?}, but the profile has ok and {:?}; retrain it",
                encoder.meta.labels, categories
            ),
        });
    }
    Ok(encoder)
}

/// An encoder being loaded on its own thread, waited for on first use.
struct LazyEncoder {
    loading: std::sync::Mutex<Option<std::thread::JoinHandle<Result<Encoder, ModelError>>>>,
    loaded: std::sync::OnceLock<Result<Encoder, ModelError>>,
}

impl std::fmt::Debug for LazyEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyEncoder")
            .field("loaded", &self.loaded.get().is_some())
            .finish()
    }
}

impl LazyEncoder {
    fn spawn(load: impl FnOnce() -> Result<Encoder, ModelError> + Send + 'static) -> Self {
        let handle = std::thread::Builder::new()
            .name("safety-model".into())
            .spawn(load);
        match handle {
            Ok(h) => LazyEncoder {
                loading: std::sync::Mutex::new(Some(h)),
                loaded: std::sync::OnceLock::new(),
            },
            // No thread to be had: load on first use instead (see `get`).
            Err(e) => LazyEncoder::ready(Err(ModelError {
                file: "safety model".into(),
                problem: format!("could not start the thread that loads it: {e}"),
            })),
        }
    }

    fn ready(result: Result<Encoder, ModelError>) -> Self {
        let loaded = std::sync::OnceLock::new();
        let _ = loaded.set(result);
        LazyEncoder {
            loading: std::sync::Mutex::new(None),
            loaded,
        }
    }

    fn get(&self) -> &Result<Encoder, ModelError> {
        self.loaded.get_or_init(|| {
            let handle = match self.loading.lock() {
                Ok(mut slot) => slot.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            match handle.map(|h| h.join()) {
                Some(Ok(result)) => result,
                Some(Err(_)) | None => Err(ModelError {
                    file: "safety model".into(),
                    problem: "loading it failed unexpectedly".into(),
                }),
            }
        })
    }
}

impl Screen for Profile {
    fn screen(&self, text: &str) -> Option<String> {
        self.scan(text).first().map(|c| (*c).to_owned())
    }

    fn stops(&self, category: &str) -> bool {
        // A category the profile does not know (a flow's own) stops unless the flow says not.
        self.category(category).is_none_or(|c| c.stop)
    }

    fn knows(&self, category: &str) -> bool {
        self.category(category).is_some()
    }
}

/// `text` as a reader sees it on the screen: terminal escape sequences (`ESC [ … m`,
/// `ESC ] … BEL`) left out and other control characters as spaces, so that the encoder is not
/// asked about bytes that were never words ("fine ␛[2J done" read 0.996 with them).
fn without_escapes(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // CSI: parameters, then one final character from `@` to `~`.
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            '\u{1b}' if chars.peek() == Some(&']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            '\u{1b}' => {
                chars.next();
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_sequences_are_not_read_as_words() {
        assert_eq!(
            super::without_escapes("fine \u{1b}[2J\u{1b}[H\u{1b}]0;pwned\u{7}\u{9b}31m done\r"),
            "fine  done "
        );
        assert!(matches!(
            super::without_escapes("no escapes\nhere"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    use super::*;

    #[test]
    fn the_builtin_screen_screens_as_the_profile_does() {
        let profile = builtin_profile().expect("the built-in profile compiles");
        let screen = BuiltinScreen;
        for text in [
            "i keep thinking everyone would be better off without me",
            "19:00",
        ] {
            assert_eq!(screen.screen(text), profile.screen(text), "{text}");
        }
        for c in profile.categories() {
            assert!(screen.knows(&c.id), "{}", c.id);
            assert_eq!(screen.stops(&c.id), c.stop, "{}", c.id);
        }
        assert!(!screen.knows("a_flows_own_category"));
        assert!(screen.stops("a_flows_own_category"));
    }

    #[test]
    fn the_builtin_profile_compiles_and_screens() {
        let p = Profile::builtin().expect("the built-in profile compiles");
        assert_eq!(
            p.screen("i keep thinking everyone would be better off without me")
                .as_deref(),
            Some("self_harm")
        );
        assert_eq!(p.screen("I could kill for a coffee"), None);
        // Threats that sound like hyperbole are still threats. (Known miss, in
        // docs/safety.md: "she'll kill me if i tell anyone" reads to the encoder like "mum
        // will kill me if we're late", and a violence pattern may be overruled.)
        for threat in [
            "he said he would kill me if i leave",
            "hes going to kill me when he finds out",
        ] {
            assert!(p.screen(threat).is_some(), "{threat}");
        }
        assert_eq!(p.screen("mums gonna kill us if we're late for lunch"), None);
        // Answers the exercises ask for: clock times, everyday hopes, whereabouts.
        for everyday in [
            "11:45",
            "19:00",
            "home by 7",
            "mixed",
            "kind to myself",
            "I ended it in May.",
            "You can check my phone any time.",
        ] {
            assert_eq!(p.screen(everyday), None, "{everyday}");
        }
        // The screen must not tell a partner in the room what was detected.
        for c in p.categories() {
            let m = c.message.to_lowercase();
            for word in [
                "violen",
                "abus",
                "suicid",
                "self harm",
                "self-harm",
                "child",
                "kid",
                "hurt",
                "harm",
                "detected",
            ] {
                assert!(!m.contains(word), "the {} message says `{word}`", c.id);
            }
        }
    }
}
