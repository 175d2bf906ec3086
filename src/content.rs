//! The content library: the cards and texts that flows pull in with `{% include %}`.
//!
//! Includes resolve here and nowhere else: first beside the flow files loaded from a path
//! (where an author keeps a flow's own cards), then in the content folders, then in the
//! built-in content. A name is a relative path of plain components
//! (`cards/deep-listening.md`); `..`, absolute paths and anything that would leave a content
//! folder (through a symlink, say) are refused, so a flow can never read arbitrary files.

use std::path::{Component, Path, PathBuf};

use include_dir::{include_dir, Dir};

/// The content shipped in the binary.
pub static BUILTIN_CONTENT: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/content");

/// Largest content file read from disk.
const MAX_CONTENT_BYTES: u64 = 1024 * 1024;

/// Where includes are looked up: the folders of flows loaded from a path, then the content
/// folders on disk (in order), then the built-in content.
#[derive(Debug, Clone, Default)]
pub struct ContentLibrary {
    folders: Vec<PathBuf>,
    /// The folders of the flow files loaded so far, shared by every clone (the template
    /// environment's loader holds one).
    beside: std::sync::Arc<std::sync::RwLock<Vec<PathBuf>>>,
}

/// Why an include could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The name is not a plain relative path (empty, absolute, or with a `..` component, a
    /// backslash or a NUL); it holds the name as written.
    #[error("`{0}` is not a content name: use a relative path such as `cards/deep-listening.md`, without `..`")]
    BadName(String),
    /// A content folder has the file, but it cannot be used: it leads outside the folder, is
    /// larger than 1 MiB, is not UTF-8, or could not be read.
    #[error("`{name}` could not be read from {path}: {reason}")]
    Unreadable {
        /// The name as the include wrote it.
        name: String,
        /// The file it was looked up as.
        path: String,
        /// Why it could not be used.
        reason: String,
    },
}

/// The names of the built-in content files (`cards/grounding.md`, ...), for suggestions.
pub fn builtin_names() -> Vec<String> {
    fn walk(dir: &Dir<'static>, out: &mut Vec<String>) {
        for f in dir.files() {
            if let Some(p) = f.path().to_str() {
                out.push(p.to_owned());
            }
        }
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    let mut out = Vec::new();
    walk(&BUILTIN_CONTENT, &mut out);
    out.sort();
    out
}

impl ContentLibrary {
    /// A library that searches these folders before the built-in content.
    pub fn new(folders: Vec<PathBuf>) -> ContentLibrary {
        ContentLibrary {
            folders,
            beside: Default::default(),
        }
    }

    /// Adds the folder of a flow file: its includes are looked up there first.
    pub fn add_flow_folder(&self, folder: PathBuf) {
        if let Ok(mut beside) = self.beside.write() {
            if !beside.contains(&folder) {
                beside.push(folder);
            }
        }
    }

    /// The folders looked in, in order, before the built-in content.
    pub fn searched(&self) -> Vec<PathBuf> {
        let mut all = self.beside.read().map(|b| b.clone()).unwrap_or_default();
        all.extend(self.folders.iter().cloned());
        all
    }

    /// Every content name there is: in the folders (a few levels deep) and built in, for
    /// "did you mean".
    pub fn names(&self) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten().take(1000) {
                let path = entry.path();
                if path.is_dir() && depth < 3 {
                    walk(root, &path, depth + 1, out);
                } else if path.extension().is_some_and(|e| e == "md" || e == "txt") {
                    if let Some(name) = path.strip_prefix(root).ok().and_then(|p| p.to_str()) {
                        out.push(name.to_owned());
                    }
                }
            }
        }
        let mut out = builtin_names();
        for folder in self.searched() {
            walk(&folder, &folder, 0, &mut out);
        }
        out.sort();
        out.dedup();
        out
    }

    /// The text of content `name`, or `None` if no folder and no built-in card has it.
    pub fn get(&self, name: &str) -> Result<Option<String>, ContentError> {
        let relative = safe_relative(name).ok_or_else(|| ContentError::BadName(name.to_owned()))?;
        for folder in &self.searched() {
            let path = folder.join(&relative);
            if !path.is_file() {
                continue;
            }
            let unreadable = |reason: String| ContentError::Unreadable {
                name: name.to_owned(),
                path: path.display().to_string(),
                reason,
            };
            // A symlink inside the folder must not lead outside it.
            let real = path.canonicalize().map_err(|e| unreadable(e.to_string()))?;
            let root = folder
                .canonicalize()
                .map_err(|e| unreadable(e.to_string()))?;
            if !real.starts_with(&root) {
                return Err(unreadable("it leads outside the content folder".into()));
            }
            let len = real
                .metadata()
                .map_err(|e| unreadable(e.to_string()))?
                .len();
            if len > MAX_CONTENT_BYTES {
                return Err(unreadable(format!(
                    "it is larger than {MAX_CONTENT_BYTES} bytes"
                )));
            }
            let bytes = std::fs::read(&real).map_err(|e| unreadable(e.to_string()))?;
            return String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| unreadable("it is not UTF-8 text".into()));
        }
        Ok(BUILTIN_CONTENT
            .get_file(&relative)
            .and_then(|f| f.contents_utf8())
            .map(str::to_owned))
    }
}

/// The name as a relative path of normal components, or `None` if it could escape.
fn safe_relative(name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.contains('\\') || name.contains('\0') {
        return None;
    }
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_that_leave_the_library() {
        let lib = ContentLibrary::default();
        for bad in ["../Cargo.toml", "/etc/passwd", "cards/../../x", "", "a\\b"] {
            assert!(
                matches!(lib.get(bad), Err(ContentError::BadName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn reads_builtin_cards() {
        let lib = ContentLibrary::default();
        let card = lib.get("cards/deep-listening.md").expect("valid name");
        assert!(card.is_some_and(|c| !c.trim().is_empty()));
        assert!(lib
            .get("cards/no-such-card.md")
            .expect("valid name")
            .is_none());
    }

    #[test]
    fn a_folder_shadows_builtins_but_symlinks_cannot_escape() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("cards")).expect("mkdir");
        std::fs::write(dir.path().join("cards/deep-listening.md"), "local card").expect("write");
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("secret.md"), "secret").expect("write");
        std::os::unix::fs::symlink(
            outside.path().join("secret.md"),
            dir.path().join("cards/link.md"),
        )
        .expect("symlink");
        let lib = ContentLibrary::new(vec![dir.path().to_path_buf()]);
        assert_eq!(
            lib.get("cards/deep-listening.md").expect("ok").as_deref(),
            Some("local card")
        );
        assert!(lib.get("cards/link.md").is_err());
    }
}
