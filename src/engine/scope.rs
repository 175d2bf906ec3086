//! A flow's variables as templates and expressions see them.
//!
//! The scope is handed to minijinja as an object behind an `Arc`, so rendering a template
//! clones a pointer, not the variable map. The engine mutates it through `Arc::make_mut`, which
//! copies only if a rendered value still holds on to it (it does not, in practice).
//! Lookups happen for every variable in every template and expression, so the maps use a fast
//! non-cryptographic hash (the keys are the flow author's names, not untrusted input at scale).

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::Value;
use rustc_hash::FxBuildHasher;

/// What templates and expressions of one flow can see: its variables, its answers, the
/// participants' names, `today` and `previous`. Shared behind an `Arc`, never copied per step.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Declared `vars` and anything `set` wrote, in first-written order (the transcript's `vars`).
    pub vars: IndexMap<String, Value, FxBuildHasher>,
    /// Answers by step id (and called flows' scopes by flow id).
    pub answers: HashMap<String, Value, FxBuildHasher>,
    /// Role -> participant name.
    pub names: Arc<Vec<(String, Value)>>,
    /// `today` as an ISO date.
    pub today: Value,
    /// The flow's metrics from an earlier session (`previous.x`).
    pub previous: Value,
}

impl Scope {
    /// The value of a name: a variable first, then an answer, then a role's name.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.vars
            .get(key)
            .or_else(|| self.answers.get(key))
            .or_else(|| {
                self.names
                    .iter()
                    .find(|(role, _)| role == key)
                    .map(|(_, v)| v)
            })
            .or(match key {
                "today" => Some(&self.today),
                "previous" => Some(&self.previous),
                _ => None,
            })
    }

    fn keys(&self) -> Vec<Value> {
        let mut keys: Vec<Value> = self.vars.keys().map(|k| Value::from(k.as_str())).collect();
        keys.extend(self.answers.keys().map(|k| Value::from(k.as_str())));
        keys.extend(self.names.iter().map(|(k, _)| Value::from(k.as_str())));
        keys.push(Value::from("today"));
        keys.push(Value::from("previous"));
        keys
    }
}

impl Object for Scope {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.keys())
    }
}
