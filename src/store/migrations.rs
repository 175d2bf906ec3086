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
    tx.commit()
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
}
