//! Safety: the global profile every free-text answer is screened against, and the help
//! resources shown when a screen or a flow's own trigger pauses a session.
//!
//! The profile (`content/safety.yaml`) is built in. A flow can add to it but never take
//! anything away, and the engine screens answers whatever the flow says. A trigger pauses the
//! run before anything else happens (see the engine), and what the participants then see is
//! calm and neutral: never the category, because the partner in the room may be the danger.

pub mod detector;
pub mod model;
pub mod resources;

use serde::Deserialize;

pub use detector::{Detector, PatternError};

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
    #[serde(default)]
    cues: Option<RawCues>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCues {
    #[serde(default)]
    strong: Vec<String>,
    #[serde(default)]
    weak: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A safety category: its calm message and whether a trigger ends the session.
#[derive(Debug, Clone)]
pub struct Category {
    pub id: String,
    pub stop: bool,
    pub message: String,
}

/// The compiled safety profile.
#[derive(Debug)]
pub struct Profile {
    categories: Vec<Category>,
    detector: Detector,
    /// The learned model that weighs the patterns' findings with the rest of the text.
    model: Option<model::Model>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("content/safety.yaml: {0}")]
    Yaml(String),
    #[error("content/safety.yaml: {0}")]
    Pattern(#[from] PatternError),
    #[error(transparent)]
    Model(#[from] model::ModelError),
}

impl Profile {
    /// The built-in profile, with the built-in model.
    pub fn builtin() -> Result<Profile, ProfileError> {
        let profile = Profile::builtin_patterns()?;
        match builtin_model_text() {
            Some(text) => profile.with_model(text),
            None => Ok(profile),
        }
    }

    /// The built-in profile's patterns and cues alone, without the model (for training it).
    pub fn builtin_patterns() -> Result<Profile, ProfileError> {
        let text = BUILTIN_CONTENT
            .get_file("safety.yaml")
            .and_then(|f| f.contents_utf8())
            .ok_or_else(|| ProfileError::Yaml("missing from the build".into()))?;
        Profile::from_yaml(text)
    }

    /// Adds a model in the text form of [`model::Weights::to_text`]. Its categories must be
    /// the profile's.
    pub fn with_model(mut self, text: &str) -> Result<Profile, ProfileError> {
        let m = model::Model::parse(text)?;
        if m.categories != self.detector.category_names() {
            return Err(ProfileError::Model(model::ModelError {
                line: 0,
                problem: format!(
                    "the model was trained for the categories {:?}, but the profile has {:?}; retrain it",
                    m.categories,
                    self.detector.category_names()
                ),
            }));
        }
        self.model = Some(m);
        Ok(self)
    }

    /// The model's features for `text` and the patterns' categories (for training and checks).
    pub fn features(&self, text: &str) -> (Vec<String>, Vec<&str>) {
        let analysis = self.detector.analyse(text);
        (
            model::features(&analysis, &self.detector),
            analysis.categories(&self.detector),
        )
    }

    /// The category ids, in profile order.
    pub fn category_ids(&self) -> &[String] {
        self.detector.category_names()
    }

    pub fn from_yaml(text: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile =
            serde_saphyr::from_str_with_options(text, crate::flow::load::yaml_options())
                .map_err(|e| ProfileError::Yaml(e.without_snippet().to_string()))?;
        let lists: Vec<(String, Vec<String>, Option<detector::Cues>)> = raw
            .categories
            .iter()
            .map(|(id, c)| {
                let cues = c.cues.as_ref().map(|k| detector::Cues {
                    strong: k.strong.clone(),
                    weak: k.weak.clone(),
                });
                (id.clone(), c.patterns.clone(), cues)
            })
            .collect();
        let detector = Detector::with_cues(
            lists
                .iter()
                .map(|(id, p, c)| (id.as_str(), &p[..], c.as_ref())),
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
            model: None,
        })
    }

    /// Every category `text` suggests. The model decides whether the text is a risk, weighing
    /// what the patterns found with everything else in it; the category is the patterns' when
    /// they found one, the model's otherwise. Without a model the patterns decide alone.
    pub fn scan(&self, text: &str) -> Vec<&str> {
        let analysis = self.detector.analyse(text);
        let found = analysis.categories(&self.detector);
        let Some(m) = &self.model else {
            return found;
        };
        // A text without a single letter ("19:00", "11:45", "-") has no words for the model
        // to weigh; only a pattern can find something in it.
        if found.is_empty() && !text.chars().any(char::is_alphabetic) {
            return found;
        }
        let features = model::feature_ids(&analysis, &self.detector);
        // When in doubt, pause: a pattern match stands unless the model is quite sure the
        // text is safe (an idiom the exclusions did not know, say).
        let stands = if found.is_empty() {
            m.risk(&features) >= m.threshold
        } else {
            m.probability(&features) >= m.threshold * PATTERN_DOUBT
        };
        if !stands {
            return Vec::new();
        }
        if !found.is_empty() {
            return found;
        }
        let names = self.detector.category_names();
        names
            .get(m.category(&features))
            .map(|n| vec![n.as_str()])
            .unwrap_or_default()
    }

    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
}

/// The built-in profile, compiled once per process: the screen every engine starts with.
pub fn builtin_profile() -> Result<&'static Profile, String> {
    static PROFILE: std::sync::OnceLock<Result<Profile, String>> = std::sync::OnceLock::new();
    PROFILE
        .get_or_init(|| Profile::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Where the patterns matched, the model's probability needs only this share of its
/// threshold for the pause to stand.
pub const PATTERN_DOUBT: f64 = 0.5;

/// The built-in model's text (none when none was trained: then the patterns work alone).
pub fn builtin_model_text() -> Option<&'static str> {
    BUILTIN_CONTENT
        .get_file("safety-model.txt")
        .and_then(|f| f.contents_utf8())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_profile_compiles_and_screens() {
        let p = Profile::builtin().expect("the built-in profile compiles");
        assert_eq!(
            p.screen("i keep thinking everyone would be better off without me")
                .as_deref(),
            Some("self_harm")
        );
        assert_eq!(p.screen("I could kill for a coffee"), None);
        // Threats that sound like hyperbole are still threats.
        for threat in [
            "he said he would kill me if i leave",
            "she'll kill me if i tell anyone",
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
