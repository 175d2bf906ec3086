//! Where flows come from, in the contract's order: a path, `./flows/`, the user's flows
//! folder, then the flows built into the binary.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use serde::Deserialize;

use super::diagnostic::{Code, Diagnostic, Diagnostics};
use super::load::{decode_source, too_big, unreadable, yaml_error, yaml_options, MAX_FLOW_BYTES};
use super::model::Origin;
use super::suggest::nearest;

/// The flows shipped in the binary.
pub static BUILTIN_FLOWS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/flows");

/// A flow's text and where it came from.
#[derive(Debug, Clone)]
pub struct FoundFlow {
    /// Where the text was found.
    pub origin: Origin,
    /// The flow file's text, not yet checked.
    pub text: String,
}

/// What `trustguide list` shows of a flow, read without checking the whole file.
#[derive(Debug, Clone, Deserialize)]
pub struct FlowHeader {
    /// The flow's id (`flow:`).
    pub flow: String,
    /// The flow's title.
    pub title: String,
    /// The estimated duration in minutes, if the flow gives one.
    #[serde(default)]
    pub minutes: Option<u32>,
    /// The flow's tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The flow's one-sentence summary.
    #[serde(default)]
    pub summary: String,
    /// Where the flow was found; always set by [`FlowFinder::list`].
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// The folders searched for flows, in order, before the built-ins.
#[derive(Debug, Clone, Default)]
pub struct FlowFinder {
    /// `./flows` (if the current folder has one).
    pub local: Option<PathBuf>,
    /// The user's flows folder.
    pub user: Option<PathBuf>,
}

fn is_path_like(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/')
}

fn read_flow_file(path: &Path) -> Result<String, Diagnostic> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| unreadable(&file, "the flow", &e))?;
    if meta.len() > MAX_FLOW_BYTES {
        return Err(too_big(&file, meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(&file, "the flow", &e))?;
    decode_source(&file, bytes)
}

impl FlowFinder {
    /// A finder that searches no folders: only the flows built into the binary.
    pub fn builtin_only() -> FlowFinder {
        FlowFinder::default()
    }

    fn folders(&self) -> impl Iterator<Item = (&PathBuf, fn(PathBuf) -> Origin)> {
        let local = self
            .local
            .iter()
            .map(|p| (p, Origin::Local as fn(PathBuf) -> Origin));
        let user = self
            .user
            .iter()
            .map(|p| (p, Origin::User as fn(PathBuf) -> Origin));
        local.chain(user)
    }

    /// Finds what `trustguide run NAME` means by NAME.
    pub fn find(&self, name: &str) -> Result<FoundFlow, Diagnostics> {
        if is_path_like(name) {
            let path = PathBuf::from(name);
            let text = read_flow_file(&path).map_err(|d| Diagnostics(vec![d]))?;
            return Ok(FoundFlow {
                origin: Origin::Path(path),
                text,
            });
        }
        self.find_by_id(name, None).map_err(|_| {
            let ids = self.ids();
            let d = Diagnostic::new(Code::File, name, format!("no flow called `{name}`"))
                .suggest(nearest(name, ids.iter().map(String::as_str)));
            let d = if d.help.is_none() {
                d.with_help("`trustguide list` shows the flows you have")
            } else {
                d
            };
            Diagnostics(vec![d])
        })
    }

    /// Finds a flow by id: `ID.yaml` or `ID.yml` in `beside` (the folder of a flow given by
    /// path, whose calls look there first), then in each folder, then the built-ins.
    pub fn find_by_id(&self, id: &str, beside: Option<&Path>) -> Result<FoundFlow, Diagnostics> {
        if !super::load::is_flow_id(id) {
            return Err(Diagnostics(vec![Diagnostic::new(
                Code::File,
                id,
                "not a flow id",
            )]));
        }
        let beside = beside.map(|p| (p.to_path_buf(), Origin::Path as fn(PathBuf) -> Origin));
        let folders = beside.iter().map(|(p, o)| (p, *o)).chain(self.folders());
        for (folder, origin) in folders {
            for ext in ["yaml", "yml"] {
                let path = folder.join(format!("{id}.{ext}"));
                if path.is_file() {
                    let text = read_flow_file(&path).map_err(|d| Diagnostics(vec![d]))?;
                    return Ok(FoundFlow {
                        origin: origin(path),
                        text,
                    });
                }
            }
        }
        for ext in ["yaml", "yml"] {
            if let Some(file) = BUILTIN_FLOWS.get_file(format!("{id}.{ext}")) {
                let name: &'static str = file.path().to_str().unwrap_or_default();
                return Ok(FoundFlow {
                    origin: Origin::Builtin(name),
                    text: file.contents_utf8().unwrap_or_default().to_owned(),
                });
            }
        }
        Err(Diagnostics(vec![Diagnostic::new(
            Code::File,
            id,
            format!("no flow called `{id}`"),
        )]))
    }

    /// Every flow id that can be found, for suggestions.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.list().0.into_iter().map(|h| h.flow).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Headers of every flow, first source first; a flow shadowed by an earlier one with the
    /// same id is left out. Files that cannot be read are returned as diagnostics.
    pub fn list(&self) -> (Vec<FlowHeader>, Vec<Diagnostic>) {
        let mut headers: Vec<FlowHeader> = Vec::new();
        let mut problems = Vec::new();
        let push = |h: FlowHeader, headers: &mut Vec<FlowHeader>| {
            if !headers.iter().any(|x| x.flow == h.flow) {
                headers.push(h);
            }
        };
        for (folder, origin) in self.folders() {
            let Ok(entries) = std::fs::read_dir(folder) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            paths.sort();
            for path in paths {
                match read_flow_file(&path)
                    .and_then(|text| header(&path.display().to_string(), &text))
                {
                    Ok(mut h) => {
                        h.origin = Some(origin(path));
                        push(h, &mut headers);
                    }
                    Err(d) => problems.push(d),
                }
            }
        }
        let mut builtin: Vec<_> = BUILTIN_FLOWS.files().collect();
        builtin.sort_by_key(|f| f.path());
        for file in builtin {
            let name: &'static str = file.path().to_str().unwrap_or_default();
            if let Ok(mut h) = header(name, file.contents_utf8().unwrap_or_default()) {
                h.origin = Some(Origin::Builtin(name));
                push(h, &mut headers);
            }
        }
        (headers, problems)
    }
}

/// Reads just the header fields of a flow.
fn header(file: &str, text: &str) -> Result<FlowHeader, Diagnostic> {
    // Flows put `flow`, `title`, `minutes` and `tags` before their steps: reading only that
    // part keeps `list` fast however long the steps are. Anything unusual (the fields after
    // `steps:`, an anchor used across the cut) falls back to reading the whole file.
    let cut = text
        .match_indices("\nsteps:")
        .map(|(i, _)| i + 1)
        .next()
        .filter(|_| !text.starts_with("steps:"))
        .filter(|&end| {
            // A header field written after the steps must not be missed.
            !text[end..].lines().any(|l| {
                ["flow:", "title:", "minutes:", "tags:"]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
        });
    if let Some(end) = cut {
        if let Ok(h) =
            serde_saphyr::from_str_with_options::<FlowHeader>(&text[..end], yaml_options())
        {
            return Ok(h);
        }
    }
    serde_saphyr::from_str_with_options::<FlowHeader>(text, yaml_options())
        .map_err(|e| yaml_error(file, text, &e))
}
