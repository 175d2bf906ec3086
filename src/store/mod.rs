//! The session store: every session, answer and ending, in one SQLite file on this machine.
//!
//! The data is as intimate as data gets, so: it lives only in the user's trustguide folder
//! (`TRUSTGUIDE_HOME`, or the platform's data folder), the folder is `0700` and the files are
//! `0600`, nothing here opens a network connection, and deleting means deleting (`secure_delete`
//! overwrites freed pages, and `forget` checkpoints the write-ahead log and vacuums).
//!
//! Each answer is committed the moment it is given, together with a snapshot of where the run
//! stands, with `synchronous=FULL`: after a crash or a power cut, at most the answer being
//! typed is lost. What carries nothing the couple typed (a session's start, a text shown) is
//! written without waiting for the disk (`synchronous=NORMAL` for that one statement): the
//! next answer's commit syncs the write-ahead log up to and including it, so the first question
//! does not wait for two disk flushes, and a power cut before the first answer loses at most an
//! empty session. Two trustguide processes can use the store at once (write-ahead log, busy
//! timeout). A database written by a newer trustguide, a corrupt file or a full disk is
//! reported, and the existing data is left as it was.

mod history;
mod migrations;
mod owner;
mod progress;
mod schedules;
mod session;

use std::fs::{self, DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use history::{
    export_json, export_markdown, human_time, status_words, summary, SessionDetail, SessionSummary,
    StoredEvent, Style,
};
pub use owner::Owner;
pub use progress::{MetricPoint, ProgressChart};
pub use schedules::StoredSchedule;
pub use session::{
    resumable_status, NewSession, Resumable, SavedFlow, SessionRecorder, SAFETY_PAUSE_STATUS,
};

/// How long a write waits for another trustguide's write to finish before giving up. A write
/// holds the lock for milliseconds, but four trustguides saving at once on a busy two-core
/// machine were seen to wait past 5 seconds (the first limit): waiting costs a moment, giving
/// up costs the answer being saved.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The database's file name inside the trustguide folder.
pub const DB_FILE: &str = "trustguide.db";

/// Why the store could not be opened, read or written; each message names the file and
/// what the person can do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The trustguide folder, or the database file in it, could not be created or made private
    /// to the user.
    #[error("{path}: cannot use the trustguide folder: {reason}")]
    Folder {
        /// The trustguide folder.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The database's schema version is newer than this trustguide knows; nothing was changed.
    #[error(
        "{path}: this database was written by a newer trustguide (schema {found}; this one knows up to {known}). \
         Nothing was changed; please update trustguide."
    )]
    TooNew {
        /// The database file.
        path: String,
        /// The schema version the file has.
        found: i64,
        /// The newest schema version this trustguide knows.
        known: usize,
    },
    /// The file is not an SQLite database, or it is damaged; nothing was changed.
    #[error("{path}: the file is not a trustguide database, or it is damaged. Nothing was changed; move it aside to start afresh.")]
    Corrupt {
        /// The database file.
        path: String,
    },
    /// The disk filled up during a write; what was committed before is intact.
    #[error("{path}: the disk is full; {what} could not be saved. Free some space and try again; what was saved before is intact.")]
    Full {
        /// The database file.
        path: String,
        /// What was being saved or done, in the message's words (such as `your answer`).
        what: String,
    },
    /// The database cannot be written here (a read-only file, folder or disk).
    #[error("{path}: the database is read-only here; {what} could not be saved.")]
    ReadOnly {
        /// The database file.
        path: String,
        /// What was being saved or done, in the message's words (such as `your answer`).
        what: String,
    },
    /// A disk I/O error during a write; what was committed before is intact.
    #[error("{path}: {what} could not be written to the disk (is it full, or read-only?); what was saved before is intact.")]
    Write {
        /// The database file.
        path: String,
        /// What was being saved or done, in the message's words (such as `your answer`).
        what: String,
    },
    /// Another process (usually another trustguide) kept the database locked for longer than
    /// [`BUSY_TIMEOUT`].
    #[error("{path}: the database is busy in another trustguide for too long; try again.")]
    Busy {
        /// The database file.
        path: String,
    },
    /// Any other failure, such as a saved snapshot that can no longer be read.
    #[error("{path}: {what}: {reason}")]
    Other {
        /// The database file.
        path: String,
        /// What was being read, saved or done (such as `reading the history` or `session 4`).
        what: String,
        /// Why, in SQLite's own words or the store's.
        reason: String,
    },
    /// No session has this id (it was never made, or was forgotten).
    #[error("no session {0}; `trustguide history` lists them")]
    NoSuchSession(i64),
    /// Another trustguide has the session open; nothing was deleted or written.
    #[error(
        "session {id} is open in another trustguide (since {since}); close it there, \
         or `trustguide resume {id} --take-over` if that one is gone"
    )]
    SessionOpen {
        /// The session.
        id: i64,
        /// When the other trustguide took it, in words.
        since: String,
    },
    /// The session changed between reading it and opening it (another trustguide went on with
    /// it in between); nothing was deleted or written.
    #[error("session {id} changed while it was being opened (another trustguide went on with it); `trustguide history` shows where it stands now")]
    SessionChanged {
        /// The session.
        id: i64,
    },
    /// Another trustguide took the session over (`resume --take-over`), or it was forgotten,
    /// while this one had it open: this one stops, and writes nothing more to it.
    #[error("session {id} was taken over by another trustguide, or forgotten, while it was open here; nothing more is saved from this one (what was answered before is kept)")]
    NotOwner {
        /// The session.
        id: i64,
    },
}

/// The open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// This store's claim token (see [`Owner`]): the sessions it started or resumed carry it.
    token: String,
    /// What opening it had to tell the person (files found readable by others, made private).
    notices: Vec<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store in `home`.
    pub fn open(home: &Path) -> Result<Store, StoreError> {
        let folder_error = |e: std::io::Error| StoreError::Folder {
            path: home.display().to_string(),
            reason: e.to_string(),
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(home)
            .map_err(folder_error)?;
        let path = home.join(DB_FILE);
        if !path.exists() {
            // Created owner-only before SQLite touches it; its -wal and -shm files copy the mode.
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&path)
                .map_err(folder_error)?;
        }
        let notices = make_private(home).map_err(folder_error)?;
        let mut store = Store::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        store.notices = notices;
        Ok(store)
    }

    /// Opens the store in `home` if there is one, without creating anything.
    pub fn open_existing(home: &Path) -> Result<Option<Store>, StoreError> {
        let path = home.join(DB_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let notices = make_private(home).map_err(|e| StoreError::Folder {
            path: home.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut store = Store::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        store.notices = notices;
        Ok(Some(store))
    }

    /// What opening the store had to tell the person: a folder or file that others could read,
    /// now made private. Each is said once, since the next open finds them private.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    fn connect(path: PathBuf, flags: OpenFlags) -> Result<Store, StoreError> {
        match Store::connect_with(path.clone(), flags, false) {
            // On a full disk, the write-ahead log's shared-memory index cannot be made, and
            // that stops even reading. With the exclusive locking mode set before the first
            // read, SQLite keeps that index in memory instead: history, show, progress and
            // `forget --all` still work. (It holds the database until this process ends, so
            // it is kept for when it is needed.)
            Err(StoreError::Full { .. } | StoreError::Write { .. }) => {
                Store::connect_with(path, flags, true)
            }
            other => other,
        }
    }

    fn connect_with(path: PathBuf, flags: OpenFlags, exclusive: bool) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let mut conn = Connection::open_with_flags(&path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| classify(&shown, "opening the database", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(&shown, "opening the database", e))?;
        if exclusive {
            conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
                .map_err(|e| classify(&shown, "opening the database", e))?;
        }
        // Reading the schema version is the first real read: a damaged file shows here.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(&shown, "reading the database", e))?;
        let known = migrations::MIGRATIONS.len();
        if version > known as i64 {
            return Err(StoreError::TooNew {
                path: shown,
                found: version,
                known,
            });
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;",
        )
        .map_err(|e| classify(&shown, "setting up the database", e))?;
        migrations::migrate(&mut conn)
            .map_err(|e| classify(&shown, "updating the database schema", e))?;
        Ok(Store {
            conn,
            path,
            token: Owner::new_token(),
            notices: Vec::new(),
        })
    }

    /// Runs `write` with `synchronous=NORMAL`: committed at once and visible to every reader,
    /// made durable by the next commit with `synchronous=FULL` (the module docs say which
    /// writes may wait).
    fn without_waiting_for_disk<T>(
        &mut self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = write(&self.conn);
        let restored = self.conn.pragma_update(None, "synchronous", "FULL");
        let value = result?;
        restored?;
        Ok(value)
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// Deletes one session for real: its rows are removed, freed pages overwritten, and the
    /// write-ahead log emptied.
    pub fn forget(&mut self, id: i64) -> Result<(), StoreError> {
        let shown = self.shown();
        let n = self
            .conn
            .execute("DELETE FROM sessions WHERE id = ?1", [id])
            .map_err(|e| classify(&shown, "deleting the session", e))?;
        if n == 0 {
            return Err(StoreError::NoSuchSession(id));
        }
        self.compact()
    }

    /// A setting the couple chose (such as their pause word).
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| classify(&self.shown(), "reading a setting", e))
    }

    /// The keys of the settings named `prefix`, or starting with `prefix:`, sorted.
    pub fn setting_keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let shown = self.shown();
        let read = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self.conn.prepare(
                "SELECT key FROM settings WHERE key = ?1 OR substr(key, 1, length(?1) + 1) = ?1 || ':' ORDER BY key",
            )?;
            let keys = stmt
                .query_map([prefix], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(keys)
        };
        read().map_err(|e| classify(&shown, "reading the settings", e))
    }

    /// Saves a setting, or removes it with `None`.
    pub fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        let shown = self.shown();
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, v],
            ),
            None => self
                .conn
                .execute("DELETE FROM settings WHERE key = ?1", [key]),
        }
        .map(|_| ())
        .map_err(|e| classify(&shown, "saving a setting", e))
    }

    /// Deletes every session, and the settings with them.
    ///
    /// On a full disk, where even a deletion cannot be written, the database's files are
    /// overwritten with zeros where they lie (which needs no new space) and removed: that
    /// frees the space, and the next trustguide starts an empty store.
    pub fn forget_all(mut self) -> Result<usize, StoreError> {
        let shown = self.shown();
        let deleted = (|| {
            let n = self
                .conn
                .execute("DELETE FROM sessions", [])
                .map_err(|e| classify(&shown, "deleting the sessions", e))?;
            self.conn
                .execute("DELETE FROM settings", [])
                .map_err(|e| classify(&shown, "deleting the settings", e))?;
            self.compact()?;
            Ok(n)
        })();
        match deleted {
            Err(StoreError::Full { .. } | StoreError::Write { .. }) => {
                let n: i64 = self
                    .conn
                    .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
                    .map_err(|e| classify(&shown, "counting the sessions", e))?;
                let path = self.path.clone();
                drop(self);
                erase_database_files(&path).map_err(|e| StoreError::Other {
                    path: shown,
                    what: "deleting the database's files".to_owned(),
                    reason: e.to_string(),
                })?;
                Ok(usize::try_from(n).unwrap_or(0))
            }
            other => other,
        }
    }

    fn compact(&mut self) -> Result<(), StoreError> {
        let shown = self.shown();
        self.conn
            .execute_batch(
                "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .map_err(|e| classify(&shown, "compacting the database", e))
    }
}

/// Overwrites the database and its `-wal` and `-shm` files with zeros in place, then removes
/// them (see [`Store::forget_all`]).
fn erase_database_files(db: &Path) -> std::io::Result<()> {
    use std::io::Write;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        let len = match fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        // Best effort: a file system that copies on write cannot overwrite in place when full.
        if let Ok(mut file) = OpenOptions::new().write(true).open(&path) {
            let zeros = [0u8; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                if file.write_all(&zeros[..n]).is_err() {
                    break;
                }
                left -= n as u64;
            }
            let _ = file.sync_all();
        }
        fs::remove_file(&path)?;
    }
    Ok(())
}

/// Makes the trustguide folder `0700` and the database and its `-wal` and `-shm` files `0600`,
/// whatever mode they were found at (a copy from a backup, a loose umask, an older release);
/// returns a sentence for each that others could read or write.
fn make_private(home: &Path) -> std::io::Result<Vec<String>> {
    let mut notices = Vec::new();
    let mut tighten = |path: &Path, private: u32| -> std::io::Result<()> {
        let mode = match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => return Ok(()),
            Ok(meta) => meta.permissions().mode() & 0o777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(private))?;
            notices.push(format!(
                "{} could be read by others (mode {mode:04o}); it is now private to you ({private:04o}).",
                path.display()
            ));
        }
        Ok(())
    };
    tighten(home, 0o700)?;
    for suffix in ["", "-wal", "-shm"] {
        tighten(&home.join(format!("{DB_FILE}{suffix}")), 0o600)?;
    }
    Ok(notices)
}

/// A SQLite failure as a message a person can act on.
fn classify(path: &str, what: &str, e: rusqlite::Error) -> StoreError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    match code {
        Some(ErrorCode::DiskFull) => StoreError::Full {
            path: path.to_owned(),
            what: what.to_owned(),
        },
        Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen)
            if what != "opening the database" =>
        {
            StoreError::ReadOnly {
                path: path.to_owned(),
                what: what.to_owned(),
            }
        }
        Some(ErrorCode::SystemIoFailure) => StoreError::Write {
            path: path.to_owned(),
            what: what.to_owned(),
        },
        Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
        },
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy {
            path: path.to_owned(),
        },
        _ => StoreError::Other {
            path: path.to_owned(),
            what: what.to_owned(),
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synchronous(store: &Store) -> i64 {
        store
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("pragma")
    }

    /// A write that may wait for the disk leaves the connection syncing every later commit,
    /// whether it succeeded or failed: an answer is never committed without a flush.
    #[test]
    fn answers_after_a_write_that_did_not_wait_are_flushed_again() {
        let home = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(home.path()).expect("store");
        const FULL: i64 = 2;
        assert_eq!(synchronous(&store), FULL);
        store
            .without_waiting_for_disk(|conn| {
                assert_eq!(
                    conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))?,
                    1,
                    "NORMAL inside"
                );
                conn.execute("INSERT INTO settings VALUES ('k', 'v')", [])
            })
            .expect("write");
        assert_eq!(synchronous(&store), FULL);
        let failed = store
            .without_waiting_for_disk(|conn| conn.execute("INSERT INTO nowhere VALUES (1)", []));
        assert!(failed.is_err());
        assert_eq!(synchronous(&store), FULL);
        assert_eq!(store.setting("k").expect("read").as_deref(), Some("v"));
    }
}
