//! The schema, as numbered migrations (`PRAGMA user_version` holds how many have run).
//! Never edit a released migration: add the next one.

use rusqlite::{Connection, TransactionBehavior};

pub const MIGRATIONS: &[&str] = &[
    // 1: sessions, their events, recorded metrics, and a log of pauses and resumes.
    "CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        flow TEXT NOT NULL,
        title TEXT NOT NULL,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        clock TEXT NOT NULL,
        people TEXT NOT NULL,
        status TEXT NOT NULL,
        ended_at TEXT,
        flows TEXT NOT NULL,
        snapshot TEXT,
        snapshot_seq INTEGER NOT NULL DEFAULT 0,
        vars TEXT
    );
    CREATE INDEX sessions_by_start ON sessions(started_at);
    CREATE TABLE events (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        step TEXT NOT NULL,
        kind TEXT NOT NULL,
        who TEXT,
        prompt TEXT,
        text TEXT,
        answer TEXT,
        category TEXT,
        private INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (session_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE records (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        metric TEXT NOT NULL,
        person TEXT,
        value REAL NOT NULL,
        at TEXT NOT NULL
    );
    -- Covers `progress`: its rows come out of the index already in chart order.
    CREATE INDEX records_by_metric ON records(metric, person, at, session_id, value);
    CREATE INDEX records_by_session ON records(session_id);
    CREATE TABLE log (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        what TEXT NOT NULL,
        step TEXT
    );
    CREATE INDEX log_by_session ON log(session_id);",
    // 2: the couple's settings (their pause word).
    "CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // 3: check-in schedules made by scheduling flows; the newest of each name is the one in use.
    "CREATE TABLE schedules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        made_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX schedules_by_name ON schedules(name, id);
    CREATE INDEX schedules_by_session ON schedules(session_id);",
    // 4: a safety pause is kept as where and when it happened, never what was noticed: the
    // category says too much about what someone wrote. It leaves the events, and the saved
    // position of a session held at a pause. (A position saved by the first releases named
    // the category as `screened`; it becomes a pause like any other, ending the exercise for
    // today where the session ended so.)
    "ALTER TABLE events DROP COLUMN category;
    UPDATE sessions SET snapshot = json_remove(snapshot, '$.safety_pause.category')
        WHERE json_valid(snapshot) AND json_type(snapshot, '$.safety_pause.category') IS NOT NULL;
    UPDATE sessions SET snapshot = json_set(json_remove(snapshot, '$.screened'), '$.safety_pause',
            json_object('stop', json(CASE WHEN status = 'safety_stop' THEN 'true' ELSE 'false' END)))
        WHERE json_valid(snapshot) AND json_type(snapshot, '$.screened') = 'text';",
    // 5: the trustguide that has a session open (JSON, see `store::owner`); NULL when none.
    "ALTER TABLE sessions ADD COLUMN owner TEXT;",
    // 6: an answer in words, as it reads in exports (an option's label, "7 of 10", a date
    // with its weekday); NULL for answers saved before, which show their value.
    "ALTER TABLE events ADD COLUMN shown TEXT;",
];

/// Runs the migrations this database has not had yet, in one write transaction: a second
/// trustguide starting at the same moment waits, then finds the work done.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if done >= MIGRATIONS.len() as i64 {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    if done < 4 {
        // Migration 4 removed what a pause noticed: do not leave the old pages in the
        // write-ahead log (`secure_delete` has overwritten them in the database itself).
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written by the first release gains the settings table and keeps its sessions.
    #[test]
    fn a_first_release_database_is_brought_up_to_date() {
        let mut conn = Connection::open_in_memory().expect("in memory");
        conn.execute_batch(MIGRATIONS[0]).expect("first schema");
        conn.pragma_update(None, "user_version", 1)
            .expect("version 1");
        conn.execute(
            "INSERT INTO sessions (flow, title, started_at, updated_at, clock, people, status, flows)
             VALUES ('listening', 'Active listening', 'a', 'a', 'c', '[]', 'completed', '{}')",
            [],
        )
        .expect("a session");
        migrate(&mut conn).expect("migrates");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
        let sessions: i64 = conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .expect("count");
        assert_eq!(sessions, 1);
        conn.execute(
            "INSERT INTO settings VALUES ('pause_word', 'pineapple')",
            [],
        )
        .expect("the settings table exists");
        // Running again changes nothing.
        migrate(&mut conn).expect("idempotent");
    }

    /// A database written before migration 4 named what a safety pause noticed, in an event
    /// and in a saved position; once opened by this trustguide, no byte of the files says it,
    /// and the sessions still come back to their pause.
    #[test]
    fn migration_4_leaves_no_safety_category_on_disk() {
        let home = tempfile::tempdir().expect("temp folder");
        let path = home.path().join(crate::store::DB_FILE);
        {
            let mut conn = Connection::open(&path).expect("a file");
            for sql in &MIGRATIONS[..3] {
                conn.execute_batch(sql).expect("an old schema");
            }
            conn.pragma_update(None, "user_version", 3)
                .expect("version 3");
            let tx = conn.transaction().expect("tx");
            let snapshot = |pause: &str| format!(r#"{{"frames":[],"steps_entered":1{pause}}}"#);
            for (id, status, pause) in [
                (
                    1,
                    "safety_pause",
                    r#","safety_pause":{"category":"self_harm","stop":false,"role":"a"}"#,
                ),
                (2, "paused", r#","screened":"fear_for_safety""#),
                (3, "safety_stop", r#","screened":"violence""#),
            ] {
                tx.execute(
                    "INSERT INTO sessions (id, flow, title, started_at, updated_at, clock, people, status, flows, snapshot)
                     VALUES (?1, 'share', 'Share', 'a', 'a', '2026-11-25T19:30:00+00:00', '[]', ?2, '{}', ?3)",
                    rusqlite::params![id, status, snapshot(pause)],
                )
                .expect("a session");
                tx.execute(
                    "INSERT INTO events (session_id, seq, at, step, kind, category) VALUES (?1, 1, 'a', 'feeling', 'safety', 'emergency')",
                    [id],
                )
                .expect("an event");
            }
            tx.commit().expect("commit");
        }
        let store = crate::store::Store::open(home.path()).expect("opens and migrates");
        let pause = |id: i64| -> serde_json::Value {
            let snapshot = store
                .resumable(Some(id))
                .expect("reads")
                .and_then(|r| r.snapshot)
                .expect("a snapshot");
            serde_json::to_value(snapshot.safety_pause).expect("JSON")
        };
        assert_eq!(pause(1), serde_json::json!({"stop": false, "role": "a"}));
        assert_eq!(pause(2), serde_json::json!({"stop": false}));
        assert_eq!(pause(3), serde_json::json!({"stop": true}));
        assert_eq!(store.session(1).expect("reads").events[0].kind, "safety");
        drop(store);
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(home.path()).expect("the folder") {
            bytes.extend(std::fs::read(entry.expect("an entry").path()).expect("a file"));
        }
        for category in ["self_harm", "fear_for_safety", "violence", "emergency"] {
            assert!(
                !bytes
                    .windows(category.len())
                    .any(|w| w == category.as_bytes()),
                "`{category}` is still on disk"
            );
        }
    }
}
