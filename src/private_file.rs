//! Files a partner should not read: transcripts, exports and calendars.
//!
//! Each holds answers as intimate as the database's, so each is written the same way: created
//! readable by its owner only (`0600`, whatever the umask), into a temporary file in the
//! target's own folder, and renamed over the target only once it is complete and on the disk.
//! A run that is killed, or a disk that fills up, leaves the target as it was (or absent),
//! never half-written; the temporary file is removed when the write fails. Writing over an
//! existing file that others could read replaces it with a private one, and says so once.
//!
//! A target that is not a regular file (`/dev/stdout`, a pipe) is written directly.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A private file being written; nothing is at its path until [`PrivateFile::commit`].
#[derive(Debug)]
pub struct PrivateFile {
    target: PathBuf,
    out: Output,
    /// The mode of the file this one replaces, when others could read or write it.
    loose_mode: Option<u32>,
}

#[derive(Debug)]
enum Output {
    Temporary(tempfile::NamedTempFile),
    Direct(File),
}

impl PrivateFile {
    /// Starts writing `target`.
    pub fn create(target: &Path) -> io::Result<PrivateFile> {
        let existing = fs::metadata(target).ok();
        if let Some(meta) = &existing {
            if !meta.is_file() {
                let file = fs::OpenOptions::new().write(true).open(target)?;
                return Ok(PrivateFile {
                    target: target.to_owned(),
                    out: Output::Direct(file),
                    loose_mode: None,
                });
            }
        }
        let folder = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // What a killed run left for this target: never completed, and never to be.
        if let Ok(entries) = fs::read_dir(folder) {
            let (start, end) = (format!(".{name}."), ".partial");
            for entry in entries.flatten() {
                let file = entry.file_name();
                let file = file.to_string_lossy();
                if file.starts_with(&start)
                    && file.ends_with(end)
                    && file.len() > start.len() + end.len()
                {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(folder)?;
        // The builder's mode is still masked by the umask; say it outright.
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o600))?;
        Ok(PrivateFile {
            target: target.to_owned(),
            out: Output::Temporary(tmp),
            loose_mode: existing
                .map(|m| m.mode() & 0o777)
                .filter(|mode| mode & 0o077 != 0),
        })
    }

    /// The file's final path.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Where the file is written until it is complete (`None` when written directly).
    pub fn partial_path(&self) -> Option<&Path> {
        match &self.out {
            Output::Temporary(t) => Some(t.path()),
            Output::Direct(_) => None,
        }
    }

    /// Syncs the file and puts it in place. Returns a notice to show when it replaced a file
    /// that others could read.
    pub fn commit(self) -> io::Result<Option<String>> {
        match self.out {
            Output::Direct(mut file) => {
                file.flush()?;
                Ok(None)
            }
            Output::Temporary(mut tmp) => {
                tmp.flush()?;
                tmp.as_file().sync_all()?;
                tmp.persist(&self.target).map_err(|e| e.error)?;
                if let Some(folder) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
                    // The rename is on the disk only once the folder is.
                    if let Ok(dir) = File::open(folder) {
                        let _ = dir.sync_all();
                    }
                }
                Ok(self.loose_mode.map(|mode| {
                    format!(
                        "{} could be read by others (mode {mode:04o}); it is now readable by you only (0600).",
                        self.target.display()
                    )
                }))
            }
        }
    }
}

impl Write for PrivateFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            // The file itself: its errors are the OS's, without the temporary name.
            Output::Temporary(t) => t.as_file_mut().write(buf),
            Output::Direct(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Output::Temporary(t) => t.as_file_mut().flush(),
            Output::Direct(f) => f.flush(),
        }
    }
}

/// Writes `bytes` to `target` as a private file (see the module docs); returns the notice of
/// [`PrivateFile::commit`].
pub fn write(target: &Path, bytes: &[u8]) -> io::Result<Option<String>> {
    let mut file = PrivateFile::create(target)?;
    file.write_all(bytes)?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").mode() & 0o777
    }

    #[test]
    fn a_new_file_is_private_and_appears_only_when_complete() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("t.json");
        let mut file = PrivateFile::create(&target).expect("create");
        file.write_all(b"{\"half\":").expect("write");
        assert!(!target.exists(), "nothing at the target before commit");
        drop(file);
        assert_eq!(
            fs::read_dir(dir.path()).expect("dir").count(),
            0,
            "an abandoned write leaves nothing behind"
        );
        // A killed run cannot remove its partial file; the next write of the target does.
        let left = dir.path().join(".t.json.Xy12Ab.partial");
        fs::write(&left, "{\"half\":").expect("a leftover");
        let other = dir.path().join(".other.json.Xy12Ab.partial");
        fs::write(&other, "").expect("another target's");
        assert_eq!(write(&target, b"{}").expect("write"), None);
        assert_eq!(fs::read(&target).expect("read"), b"{}");
        assert!(!left.exists(), "the leftover partial file is removed");
        assert!(other.exists(), "another target's is not");
        assert_eq!(mode(&target), 0o600);
    }

    #[test]
    fn writing_over_a_readable_file_makes_it_private_and_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("export.md");
        fs::write(&target, "old").expect("old");
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).expect("chmod");
        let notice = write(&target, b"new").expect("write").expect("a notice");
        assert!(
            notice.contains("mode 0644") && notice.contains("0600"),
            "{notice}"
        );
        assert_eq!(mode(&target), 0o600);
        assert_eq!(fs::read(&target).expect("read"), b"new");
        // Once private, nothing more to say.
        assert_eq!(write(&target, b"again").expect("write"), None);
    }
}
