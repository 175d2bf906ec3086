//! Where a run stands, as data: saved after every answer so a session can be picked up again
//! after a pause, a closed terminal or a crash.
//!
//! A snapshot names flows and steps by id, not by position, so that a flow edited between two
//! sittings can still be matched up: the step where the couple stopped is found by its id, and
//! if it is gone, the caller chooses where to go on (see [`Engine::restore`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use indexmap::IndexMap;
use minijinja::Value;
use serde::{Deserialize, Serialize};

use super::{Engine, Frame, Phase, RuntimeError, Scope, Screening, State};
use crate::flow::Library;

/// The version of the snapshot format this trustguide writes. Raise it whenever a snapshot's
/// shape or meaning changes (a field renamed, an engine state added), and add the step that
/// brings the previous version up to it to `MIGRATIONS`: saved sessions outlive the code.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Each step brings a snapshot of version `i` up to version `i + 1`, on its JSON.
///
/// - 0 → 1: snapshots had no `version` (trustguide before 2026-12). Their shape is version 1's;
///   an old `safety_pause.category` is dropped (it is never kept: what was noticed says what
///   was written).
const MIGRATIONS: [fn(&mut serde_json::Value); SNAPSHOT_VERSION as usize] = [|json| {
    if let Some(pause) = json
        .get_mut("safety_pause")
        .and_then(serde_json::Value::as_object_mut)
    {
        pause.remove("category");
    }
}];

/// Why a saved position could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Written by a newer trustguide, whose format this one does not know.
    #[error("it was saved by a newer trustguide (position format {found}; this one reads up to {known})")]
    TooNew {
        /// The version found.
        found: u64,
        /// The newest version this build reads.
        known: u32,
    },
    /// Not a snapshot of any version (damaged, or not trustguide's).
    #[error("it is not a saved position trustguide can read ({0})")]
    Damaged(String),
}

/// Where a run stands, as data: every frame of the flows it is in, what it recorded, and the
/// safety pause it is held at, if any. Saved after every answer; [`Engine::restore`] picks
/// the run up from it. Stored as JSON with a version ([`Snapshot::to_json`],
/// [`Snapshot::from_json`]), so that sessions saved by an older trustguide still resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// The snapshot format's version ([`SNAPSHOT_VERSION`] when written by this build).
    #[serde(default)]
    pub version: u32,
    /// The flows the run is in, outermost first.
    pub frames: Vec<FrameSnapshot>,
    /// Steps entered so far (for progress, and the bound on runaway loops).
    pub steps_entered: u64,
    /// Metrics `record` wrote so far.
    #[serde(default)]
    pub records: IndexMap<String, Value>,
    /// The safety pause the run is held at: a session left there comes back to it, not past
    /// it. The answer that caused it is not in the snapshot (the engine withdrew it), and
    /// neither is its category: what was noticed says too much about what was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_pause: Option<SafetyPause>,
    /// The current step's safety triggers were already checked (its last answer came in).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub safety_checked: bool,
}

/// A safety pause in a [`Snapshot`]: only that the run is held there, whether that rules out
/// going on today, and the role of the person whose answer caused it (the one asked whether
/// everyone is safe). Never the category. (Snapshots written before this kept a `category`;
/// it is ignored when read, and the store's migration 4 removes it.)
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SafetyPause {
    /// The pause ends the exercise for today.
    pub stop: bool,
    /// The role of the person whose answer caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// One flow of a run in a [`Snapshot`]: where it stands and what it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameSnapshot {
    /// The flow's id.
    pub flow: String,
    /// The step's label (its id, or `#N`).
    pub step: String,
    /// The step's position in the flow when saved (checked against `step` on restore).
    pub step_index: usize,
    phase: Phase,
    /// The flow's variables.
    pub vars: IndexMap<String, Value>,
    /// The answers given so far, by step id.
    pub answers: BTreeMap<String, Value>,
}

/// What happened while restoring, to tell the participants.
#[derive(Debug, Clone, Default)]
pub struct Restored {
    /// One sentence each: a flow edited since, a step chosen to go on from.
    pub notices: Vec<String>,
}

/// A step in a snapshot that the current flow no longer has.
#[derive(Debug, Clone, thiserror::Error)]
#[error("step `{step}` of flow `{flow}` no longer exists")]
pub struct MissingStep {
    /// The flow's id.
    pub flow: String,
    /// The step's id, as saved.
    pub step: String,
}

/// Why [`Engine::restore`] could not pick a run up.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The step the run stood at is gone from the edited flow: the caller chooses where to
    /// go on (`start_at`) and restores again.
    #[error(transparent)]
    MissingStep(#[from] MissingStep),
    /// The snapshot does not fit the flows loaded (a flow missing, a chosen step unknown).
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl Snapshot {
    /// The snapshot as the JSON the store keeps, with its version.
    pub fn to_json(&self) -> Result<String, SnapshotError> {
        serde_json::to_string(self).map_err(|e| SnapshotError::Damaged(e.to_string()))
    }

    /// Reads a snapshot saved by this or any earlier trustguide, bringing it up to the current
    /// format one version at a time. A newer format is refused, never guessed at.
    pub fn from_json(text: &str) -> Result<Snapshot, SnapshotError> {
        let mut json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SnapshotError::Damaged(e.to_string()))?;
        let found = match json.get("version") {
            None => 0,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| SnapshotError::Damaged("its version is not a number".into()))?,
        };
        if found > u64::from(SNAPSHOT_VERSION) {
            return Err(SnapshotError::TooNew {
                found,
                known: SNAPSHOT_VERSION,
            });
        }
        for step in &MIGRATIONS[found as usize..] {
            step(&mut json);
        }
        if let Some(object) = json.as_object_mut() {
            object.insert("version".into(), SNAPSHOT_VERSION.into());
        }
        serde_json::from_value(json).map_err(|e| SnapshotError::Damaged(e.to_string()))
    }
}

impl<'lib> Engine<'lib> {
    /// Where the run stands now, to be saved. While an answer of a `keep: false` step is
    /// held, it is where the run stood before that question (with any safety pause since):
    /// nothing saved holds the answer, and a run restored from it asks the question again.
    pub fn snapshot(&self) -> Snapshot {
        match &self.unkept {
            Some((_, before)) => {
                let now = self.live_snapshot();
                Snapshot {
                    safety_pause: now.safety_pause,
                    steps_entered: now.steps_entered,
                    ..before.clone()
                }
            }
            None => self.live_snapshot(),
        }
    }

    /// Where the run stands now, with everything it holds.
    pub(super) fn live_snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            frames: self
                .frames
                .iter()
                .map(|f| {
                    let flow = self.lib.flow(f.flow);
                    FrameSnapshot {
                        flow: flow.id.clone(),
                        step: flow.steps[f.step].label.clone(),
                        step_index: f.step,
                        phase: f.phase,
                        vars: f
                            .scope
                            .vars
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                        answers: f
                            .scope
                            .answers
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    }
                })
                .collect(),
            steps_entered: self.steps_entered,
            records: self.records.clone(),
            safety_pause: match &self.state {
                State::Hold { stop, who, .. } => Some(SafetyPause {
                    stop: *stop,
                    role: who.as_ref().map(|p| p.role.clone()),
                }),
                _ => None,
            },
            safety_checked: self.screening == Screening::Checked,
        }
    }

    /// Picks a run up from `snapshot`.
    ///
    /// Flows in `changed` were edited since the snapshot: their steps are found by id and
    /// restarted from the beginning, with a notice. `start_at` names, per flow id, a step to go
    /// on from instead (the caller's choice when a step is gone). A step that is gone with no
    /// choice given is [`RestoreError::MissingStep`].
    pub fn restore(
        lib: &'lib Library,
        snapshot: &Snapshot,
        names: &[String],
        now: DateTime<FixedOffset>,
        changed: &HashSet<String>,
        start_at: &HashMap<String, String>,
    ) -> Result<(Engine<'lib>, Restored), RestoreError> {
        let fault = |message: String| RuntimeError {
            file: String::new(),
            line: 0,
            step: String::new(),
            message,
        };
        let root = snapshot.frames.first().ok_or_else(|| {
            RestoreError::Runtime(fault("the saved session has no position".into()))
        })?;
        let root_index = lib.index_of(&root.flow).ok_or_else(|| {
            RestoreError::Runtime(fault(format!("flow `{}` is not loaded", root.flow)))
        })?;
        let mut engine =
            Engine::bare(lib, root_index, names, now).map_err(RestoreError::Runtime)?;
        engine.records = snapshot.records.clone();
        if snapshot.safety_checked {
            engine.screening = Screening::Checked;
        }
        let mut restored = Restored::default();
        let depth = snapshot.frames.len();
        for (level, saved) in snapshot.frames.iter().enumerate() {
            // A frame below the top is waiting for the flow it called to finish.
            let restart = if level + 1 < depth {
                Phase::Ask { turn: 0 }
            } else {
                Phase::Say
            };
            let index = lib.index_of(&saved.flow).ok_or_else(|| {
                RestoreError::Runtime(fault(format!("flow `{}` is not loaded", saved.flow)))
            })?;
            let flow = lib.flow(index);
            let same_place = flow
                .steps
                .get(saved.step_index)
                .is_some_and(|s| s.label == saved.step);
            let (step, phase) = if let Some(chosen) = start_at.get(&saved.flow) {
                let step = flow.step_by_id(chosen).ok_or_else(|| {
                    RestoreError::Runtime(fault(format!(
                        "flow `{}` has no step `{chosen}`",
                        flow.id
                    )))
                })?;
                restored
                    .notices
                    .push(format!("Going on from step `{chosen}` of `{}`.", flow.id));
                (step, restart)
            } else if !changed.contains(&saved.flow) && same_place {
                (saved.step_index, saved.phase)
            } else if let Some(step) = flow.step_by_id(&saved.step) {
                // An answer already given at this step is kept, and the step goes on from it,
                // rather than asking the question again (a chosen option that no longer
                // exists goes on as if none had a jump).
                let settled = match (saved.phase, &flow.steps[step].ask) {
                    (Phase::Settle { option }, Some(ask))
                        if level + 1 == depth && saved.answers.contains_key(&saved.step) =>
                    {
                        let options = match &ask.kind {
                            crate::flow::AskKind::Choice { options } => options.len(),
                            _ => 0,
                        };
                        Some(Phase::Settle {
                            option: option.filter(|i| *i < options),
                        })
                    }
                    _ => None,
                };
                let (phase, place) = match settled {
                    Some(phase) => (phase, "after the answer to step"),
                    None => (restart, "from step"),
                };
                restored.notices.push(format!(
                    "The flow `{}` has changed since this session started; going on {place} `{}`.",
                    flow.id, saved.step
                ));
                (step, phase)
            } else {
                return Err(RestoreError::MissingStep(MissingStep {
                    flow: saved.flow.clone(),
                    step: saved.step.clone(),
                }));
            };
            engine.push_frame(index).map_err(RestoreError::Runtime)?;
            let frame: &mut Frame = engine.frames.last_mut().expect("just pushed");
            frame.step = step;
            frame.phase = phase;
            let scope: &mut Scope = Arc::make_mut(&mut frame.scope);
            scope.vars = saved
                .vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            scope.answers = saved
                .answers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
        // push_frame counts a step per frame; the saved count already has them.
        engine.steps_entered = snapshot.steps_entered;
        if let Some(pause) = &snapshot.safety_pause {
            let who = pause
                .role
                .as_ref()
                .and_then(|role| engine.people.iter().find(|p| &p.role == role).cloned());
            engine.state = State::Hold {
                step: engine.step_name(),
                category: None,
                stop: pause.stop,
                who,
            };
        }
        Ok((engine, restored))
    }
}

#[cfg(test)]
mod tests {
    use super::{Snapshot, SnapshotError, SNAPSHOT_VERSION};

    const V0: &str = r#"{"frames":[{"flow":"f","step":"a","step_index":0,"phase":"say","vars":{},"answers":{}}],
        "steps_entered":1,"safety_pause":{"stop":false,"category":"self_harm","role":"speaker"}}"#;

    #[test]
    fn a_snapshot_without_a_version_is_format_0_and_loses_its_category() {
        let snapshot = Snapshot::from_json(V0).expect("format 0 reads");
        assert_eq!(snapshot.version, SNAPSHOT_VERSION);
        let again = snapshot.to_json().expect("writes");
        assert!(!again.contains("self_harm"), "{again}");
        assert!(again.starts_with(r#"{"version":1,"#), "{again}");
        let pause = snapshot.safety_pause.expect("still held at the pause");
        assert_eq!(pause.role.as_deref(), Some("speaker"));
    }

    #[test]
    fn a_newer_or_damaged_snapshot_is_refused() {
        let newer = V0.replacen('{', r#"{"version":7,"#, 1);
        assert!(matches!(
            Snapshot::from_json(&newer),
            Err(SnapshotError::TooNew { found: 7, known: 1 })
        ));
        for damaged in ["", "[]", r#"{"version":"one"}"#, r#"{"version":1}"#] {
            assert!(
                matches!(Snapshot::from_json(damaged), Err(SnapshotError::Damaged(_))),
                "{damaged:?}"
            );
        }
    }
}
