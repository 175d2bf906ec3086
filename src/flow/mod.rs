//! Flows: finding them, loading them once into checked types, and keeping them together in a
//! [`Library`] with the template environment their text was compiled into.
//!
//! ```text
//! YAML text ──tree.rs──▶ tree ──shape.rs──▶ raw ──load.rs──▶ Flow ──▶ Library
//!    (yaml_mistakes.rs explains YAML that does not parse)      (+ compiled templates)
//! ```
//!
//! Each stage reports every problem it finds before the next runs, so one `check` shows an
//! author every mistake of a file.

mod analysis;
mod codes;
mod diagnostic;
pub mod graph;
pub(crate) mod load;
mod model;
pub(crate) mod raw;
pub mod scaffold;
pub mod schema;
pub(crate) mod shape;
mod sources;
pub mod suggest;
pub(crate) mod tree;
pub(crate) mod yaml_mistakes;

use std::collections::HashMap;

use minijinja::Environment;

pub use diagnostic::{Code, Diagnostic, Diagnostics, Fix, Label, Place, Severity};
pub use load::{is_flow_id, MAX_FLOW_BYTES};
pub use model::*;
pub use sources::{FlowFinder, FlowHeader, FoundFlow};

use crate::content::ContentLibrary;

/// Loaded flows and the environment holding their compiled templates.
///
/// Loading needs `&mut`; running needs only `&`, so one library can drive many engines.
pub struct Library {
    env: Environment<'static>,
    /// Where includes are found; shared with the environment's loader.
    content: ContentLibrary,
    flows: Vec<Flow>,
    /// Each flow's text as loaded, by index (sessions keep it to notice later edits).
    sources: Vec<String>,
    by_id: HashMap<String, usize>,
    finder: FlowFinder,
    warnings: Vec<Diagnostic>,
    /// See [`Library::checking_only`].
    keep_compiled: bool,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("flows", &self.by_id.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Library {
    /// An empty library that finds flows with `finder` and includes content from `content`.
    pub fn new(finder: FlowFinder, content: ContentLibrary) -> Library {
        Library {
            env: crate::render::environment(content.clone()),
            content,
            flows: Vec::new(),
            sources: Vec::new(),
            by_id: HashMap::new(),
            finder,
            warnings: Vec::new(),
            keep_compiled: true,
        }
    }

    /// A library that loads flows only to check them (`trustguide check`): every expression
    /// is still compiled, to find its mistakes, but then dropped instead of kept for the
    /// engine. A big flow then costs far less memory (minijinja holds a compiled expression
    /// in about 8 KB). Its flows cannot be run: the engine would stop at the first
    /// expression.
    pub fn checking_only(mut self) -> Library {
        self.keep_compiled = false;
        self
    }

    /// A library over the built-in flows and content only; handy for embedding and tests.
    pub fn builtin() -> Library {
        Library::new(FlowFinder::builtin_only(), ContentLibrary::default())
    }

    /// Finds flow `name` (a path, or an id looked up in `./flows`, the user's folder, then the
    /// built-ins), loads it and every flow it calls. Returns its index.
    pub fn load(&mut self, name: &str) -> Result<usize, Diagnostics> {
        let found = self.finder.find(name)?;
        self.add(found)
    }

    /// Loads a flow from text, as if read from `origin`, and every flow it calls.
    pub fn add_source(&mut self, text: &str, origin: Origin) -> Result<usize, Diagnostics> {
        self.add(FoundFlow {
            origin,
            text: text.to_owned(),
        })
    }

    fn add(&mut self, found: FoundFlow) -> Result<usize, Diagnostics> {
        // A flow's own cards may sit beside it.
        if let Origin::Path(p) = &found.origin {
            if let Some(dir) = p.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    std::path::Path::new(".")
                } else {
                    dir
                };
                self.content.add_flow_folder(dir.to_path_buf());
            }
        }
        let loaded = load::load_flow(
            &found.text,
            found.origin,
            &mut self.env,
            self.keep_compiled,
            &self.content,
        )?;
        let flow = loaded.flow;
        self.warnings.extend(loaded.warnings);
        if let Some(&existing) = self.by_id.get(&flow.id) {
            // Already loaded through another route (a flow calling itself, or twice by name).
            if self.flows[existing].origin == flow.origin {
                return Ok(existing);
            }
        }
        let index = self.flows.len();
        let calls: Vec<(String, u32)> = flow
            .steps
            .iter()
            .filter_map(|s| s.call.clone().map(|c| (c, s.line)))
            .collect();
        let file = flow.origin.display_name();
        let beside = match &flow.origin {
            Origin::Path(p) => Some(p.parent().map(|d| d.to_path_buf()).unwrap_or_default()),
            _ => None,
        };
        let source_text = found.text;
        self.by_id.insert(flow.id.clone(), index);
        self.flows.push(flow);
        self.sources.push(source_text.clone());

        let mut diags = Diagnostics::default();
        for (callee, line) in calls {
            if self.by_id.contains_key(&callee) {
                continue;
            }
            match self.finder.find_by_id(&callee, beside.as_deref()) {
                Ok(found) => {
                    if let Err(inner) = self.add(found) {
                        diags.0.extend(inner.0);
                    }
                }
                Err(_) => {
                    let known = self.finder.ids();
                    // At the id after `call:`, which is on the step's first line or below.
                    let (line, column) = source_text
                        .lines()
                        .enumerate()
                        .skip((line as usize).saturating_sub(1))
                        .take(64)
                        .find_map(|(i, l)| {
                            let at = l.find("call:")?;
                            let value = at + l[at..].find(callee.as_str())?;
                            Some((i as u32 + 1, l[..value].chars().count() as u32 + 1))
                        })
                        .unwrap_or((line, 0));
                    let d = Diagnostic::new(
                        Code::UnknownFlow,
                        &file,
                        format!("`call: {callee}`: no flow with that id"),
                    )
                    .at(&source_text, line, column)
                    .suggest(suggest::nearest(&callee, known.iter().map(String::as_str)));
                    diags.push(d);
                }
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        // "step 4 of ~12" counts the steps of the flows this one calls, now that they are loaded.
        let weights: Vec<u32> = self.flows[index]
            .steps
            .iter()
            .map(|s| 1 + s.call.as_ref().map_or(0, |c| self.called_steps(c)))
            .collect();
        let flow = &mut self.flows[index];
        flow.min_remaining = load::min_remaining(&flow.steps, &|i| weights[i]);
        Ok(index)
    }

    /// The fewest steps flow `id` shows from its start to its end (0 when it is not loaded).
    pub(crate) fn called_steps(&self, id: &str) -> u32 {
        self.by_id
            .get(id)
            .map_or(0, |&i| self.flows[i].min_remaining(0))
    }

    /// The flow at `index` (from [`Library::load`] or [`Library::index_of`]); panics when
    /// `index` is not below [`Library::len`].
    pub fn flow(&self, index: usize) -> &Flow {
        &self.flows[index]
    }

    /// The text flow `index` was loaded from.
    pub fn source(&self, index: usize) -> &str {
        &self.sources[index]
    }

    /// How many flows are loaded (indexes are `0..len`).
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Whether no flow is loaded yet.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// The index of the loaded flow with this id; `None` when no such flow is loaded.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The minijinja environment holding the loaded flows' compiled templates; its loader
    /// reads `{% include %}`s from the content library.
    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// Where the library looks for flows by name or id.
    pub fn finder(&self) -> &FlowFinder {
        &self.finder
    }

    /// Warnings collected while loading (questionable but legal things).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}
