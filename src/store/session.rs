//! Recording a session as it happens, and reading back what a resume needs.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use minijinja::value::ValueKind;
use minijinja::Value;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{classify, Owner, Store, StoreError};
use crate::engine::{Finished, Person, Question, Snapshot};
use crate::flow::Library;

/// The text and hash of a flow as it was when a session started, so a resume can tell whether
/// it was edited since.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedFlow {
    /// The SHA-256 of `source`, in lowercase hex.
    pub hash: String,
    /// The flow's text.
    pub source: String,
    /// The file it was run from, when it was given by path (a resume looks there again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl SavedFlow {
    /// A flow's text and its hash, with no path.
    pub fn of(source: &str) -> SavedFlow {
        SavedFlow {
            hash: hash(source),
            source: source.to_owned(),
            path: None,
        }
    }

    /// This saved flow with the file it was run from (`None` when it was not given by path).
    pub fn with_path(mut self, path: Option<String>) -> SavedFlow {
        self.path = path;
        self
    }
}

fn hash(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The status of a session left at a safety pause it can be resumed from (after the
/// participants say everyone is safe).
pub const SAFETY_PAUSE_STATUS: &str = "safety_pause";

/// Whether a session with `status` can be resumed.
pub fn resumable_status(status: &str) -> bool {
    matches!(status, "in_progress" | "paused" | SAFETY_PAUSE_STATUS)
}

/// What a new session starts with.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The id of the flow being run.
    pub flow: String,
    /// The flow's title.
    pub title: String,
    /// The participants, with their roles and names.
    pub people: Vec<Person>,
    /// The session's clock: the time it started (the engine's `today` comes from it).
    pub clock: DateTime<FixedOffset>,
    /// Every flow the run may enter, by id.
    pub flows: BTreeMap<String, SavedFlow>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct PersonRow {
    pub(super) role: String,
    pub(super) name: String,
}

/// A stored session with what a resume needs to pick it up again.
#[derive(Debug, Clone)]
pub struct Resumable {
    /// The session's id.
    pub id: i64,
    /// The id of the flow the session runs.
    pub flow: String,
    /// The flow's title when the session started.
    pub title: String,
    /// When the session started, as RFC 3339 text.
    pub started_at: String,
    /// The session's status; [`resumable_status`] says whether it can go on.
    pub status: String,
    /// The session's clock, as [`NewSession::clock`]: a resume keeps the day it started on.
    pub clock: DateTime<FixedOffset>,
    /// The participants, with their roles and names.
    pub people: Vec<Person>,
    /// Every flow the run may enter, by id, as it was when the session started.
    pub flows: BTreeMap<String, SavedFlow>,
    /// Where the run stood when last saved (after an answer, or at a safety pause); `None`
    /// before the first answer.
    pub snapshot: Option<Snapshot>,
    /// The sequence number of the last event the snapshot covers (0 without one); a resume
    /// drops the events after it.
    pub snapshot_seq: i64,
    /// The step the snapshot stands at (or where it ended), for "resuming at step X".
    pub step: Option<String>,
}

impl Store {
    /// Starts recording a new session; returns its id.
    pub fn begin(
        &mut self,
        new: &NewSession,
        at: DateTime<FixedOffset>,
    ) -> Result<i64, StoreError> {
        let shown = self.shown();
        let people: Vec<PersonRow> = new
            .people
            .iter()
            .map(|p| PersonRow {
                role: p.role.clone(),
                name: p.name.clone(),
            })
            .collect();
        let people = serde_json::to_string(&people).unwrap_or_else(|_| "[]".into());
        let flows = serde_json::to_string(&new.flows).unwrap_or_else(|_| "{}".into());
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let clock = new
            .clock
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let owner = self.claim(new.clock).to_json();
        // Nothing typed yet: made durable with the first answer.
        self.without_waiting_for_disk(|conn| {
            conn.execute(
                "INSERT INTO sessions (flow, title, started_at, updated_at, clock, people, status, flows, owner)
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'in_progress', ?6, ?7)",
                params![new.flow, new.title, at, clock, people, flows, owner],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .map_err(|e| classify(&shown, "the new session", e))
    }

    /// A recorder that writes the run of session `id` into the store as it happens.
    pub fn recorder(
        &mut self,
        id: i64,
        clock: Box<dyn Fn() -> DateTime<FixedOffset>>,
    ) -> Result<SessionRecorder<'_>, StoreError> {
        let shown = self.shown();
        let seq: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id = ?1",
                [id],
                |r| r.get(0),
            )
            .map_err(|e| classify(&shown, "reading the session", e))?;
        Ok(SessionRecorder {
            store: self,
            id,
            seq,
            clock,
        })
    }

    /// Session `id`, or when `id` is `None` the most recently updated session that can be
    /// resumed (the most recently updated one of all when none can). `None` when there is no
    /// such session; check the status with [`resumable_status`] before resuming.
    pub fn resumable(&self, id: Option<i64>) -> Result<Option<Resumable>, StoreError> {
        let shown = self.shown();
        let sql = "SELECT id, flow, title, started_at, status, clock, people, flows, snapshot, snapshot_seq, ended_at
                   FROM sessions WHERE (?1 IS NULL OR id = ?1)
                   ORDER BY CASE WHEN status IN ('in_progress', 'paused', 'safety_pause') THEN 0 ELSE 1 END, updated_at DESC, id DESC LIMIT 1";
        let row = self
            .conn
            .query_row(sql, params![id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            })
            .optional()
            .map_err(|e| classify(&shown, "reading the session", e))?;
        let Some((
            id,
            flow,
            title,
            started_at,
            status,
            clock,
            people,
            flows,
            snapshot,
            snapshot_seq,
            ended_at,
        )) = row
        else {
            return Ok(None);
        };
        let damaged = |what: &str| StoreError::Other {
            path: shown.clone(),
            what: format!("session {id}"),
            reason: format!("its saved {what} cannot be read"),
        };
        let people: Vec<PersonRow> =
            serde_json::from_str(&people).map_err(|_| damaged("participants"))?;
        let snapshot: Option<Snapshot> = match snapshot {
            Some(s) => Some(Snapshot::from_json(&s).map_err(|e| match e {
                crate::engine::SnapshotError::TooNew { .. } => StoreError::Other {
                    path: shown.clone(),
                    what: format!("session {id}"),
                    reason: format!("{e}; please update trustguide"),
                },
                _ => damaged("position"),
            })?),
            None => None,
        };
        let step = snapshot
            .as_ref()
            .and_then(|s| s.frames.last().map(|f| f.step.clone()))
            .or(ended_at);
        Ok(Some(Resumable {
            id,
            flow,
            title,
            started_at,
            status,
            clock: DateTime::parse_from_rfc3339(&clock).map_err(|_| damaged("clock"))?,
            people: people
                .into_iter()
                .map(|p| Person {
                    role: p.role,
                    name: p.name,
                })
                .collect(),
            flows: serde_json::from_str(&flows).map_err(|_| damaged("flows"))?,
            snapshot,
            snapshot_seq,
            step,
        }))
    }

    /// This store's claim on a session, taken at `at`.
    fn claim(&self, at: DateTime<FixedOffset>) -> Owner {
        Owner::this_process(&self.token, at)
    }

    /// Prepares `saved` to go on from its snapshot, and claims it for this store (see
    /// [`Owner`]): events recorded after the event numbered `keep_seq` (texts shown after the
    /// last answer) are dropped, since the run shows them again.
    ///
    /// All in one immediate transaction, before anything is deleted: a session another live
    /// trustguide has open is [`StoreError::SessionOpen`], and one that moved on since `saved`
    /// was read is [`StoreError::SessionChanged`]. A claim whose process is gone is taken.
    pub fn reopen(
        &mut self,
        saved: &Resumable,
        keep_seq: i64,
        at: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        let shown = self.shown();
        let owner = self.claim(at).to_json();
        let id = saved.id;
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let fail = |e| classify(&shown, "resuming the session", e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let row = tx
            .query_row(
                "SELECT status, snapshot_seq, owner FROM sessions WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(fail)?;
        let Some((status, snapshot_seq, holder)) = row else {
            return Err(StoreError::NoSuchSession(id));
        };
        if let Some(holder) = holder
            .as_deref()
            .and_then(|h| serde_json::from_str::<Owner>(h).ok())
        {
            if holder.token != self.token && holder.is_alive() {
                return Err(StoreError::SessionOpen {
                    id,
                    since: holder.since_words(),
                });
            }
        }
        if status != saved.status || snapshot_seq != saved.snapshot_seq {
            return Err(StoreError::SessionChanged { id });
        }
        tx.execute("DELETE FROM events WHERE session_id = ?1 AND seq > ?2", params![id, keep_seq])
            .and_then(|_| {
                tx.execute(
                    "UPDATE sessions SET status = 'in_progress', ended_at = NULL, updated_at = ?2, owner = ?3 WHERE id = ?1",
                    params![id, at, owner],
                )
            })
            .and_then(|_| tx.execute("INSERT INTO log (session_id, at, what) VALUES (?1, ?2, 'resumed')", params![id, at]))
            .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// Lets go of whatever claim is on session `id`, for `resume --take-over` when the
    /// trustguide holding it is gone (or on another machine). Returns when the claim was
    /// taken, in words, when there was one. A trustguide still running with the session stops
    /// at its next write ([`StoreError::NotOwner`]).
    pub fn take_over(&mut self, id: i64) -> Result<Option<String>, StoreError> {
        let shown = self.shown();
        let fail = |e| classify(&shown, "taking the session over", e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let holder: Option<Option<String>> = tx
            .query_row("SELECT owner FROM sessions WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(fail)?;
        let Some(holder) = holder else {
            return Err(StoreError::NoSuchSession(id));
        };
        tx.execute("UPDATE sessions SET owner = NULL WHERE id = ?1", [id])
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(holder
            .as_deref()
            .and_then(|h| serde_json::from_str::<Owner>(h).ok())
            .map(|o| o.since_words()))
    }

    /// The ids of saved flows whose text differs from the library's now (or that are gone).
    pub fn flows_changed(saved: &BTreeMap<String, SavedFlow>, lib: &Library) -> Vec<String> {
        saved
            .iter()
            .filter(|(id, flow)| {
                lib.index_of(id)
                    .map(|i| lib.source(i))
                    .is_none_or(|current| hash(current) != flow.hash)
            })
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Writes a run into the store: each event as it happens, each answer with a snapshot of
/// where the run stands, in one transaction.
pub struct SessionRecorder<'s> {
    store: &'s mut Store,
    id: i64,
    seq: i64,
    clock: Box<dyn Fn() -> DateTime<FixedOffset>>,
}

impl SessionRecorder<'_> {
    /// The session's id.
    pub fn id(&self) -> i64 {
        self.id
    }

    fn fail(&self, what: &str, e: rusqlite::Error) -> StoreError {
        classify(&self.store.shown(), what, e)
    }

    fn now(&self) -> String {
        (self.clock)().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    /// A text the participants were shown. It carries nothing they typed, so it is written
    /// without waiting for the disk: the next answer's commit makes it durable.
    pub fn said(&mut self, step: &str, text: &str) -> Result<(), StoreError> {
        self.seq += 1;
        let at = self.now();
        let (id, seq) = (self.id, self.seq);
        let token = self.store.token.clone();
        let result = self.store.without_waiting_for_disk(|conn| {
            conn.execute(
                "INSERT INTO events (session_id, seq, at, step, kind, text)
                 SELECT ?1, ?2, ?3, ?4, 'say', ?5 WHERE EXISTS
                     (SELECT 1 FROM sessions WHERE id = ?1 AND json_extract(owner, '$.token') = ?6)",
                params![id, seq, at, step, text, token],
            )
        });
        match result.map_err(|e| self.fail("the text shown", e))? {
            0 => Err(StoreError::NotOwner { id }),
            _ => Ok(()),
        }
    }

    /// An accepted answer, with `snapshot` (where the run stands after it), in one
    /// transaction committed with `synchronous=FULL`.
    pub fn answered(
        &mut self,
        question: &Question<'_>,
        value: &Value,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        let snapshot = self.encode(snapshot, "your answer")?;
        self.seq += 1;
        let at = self.now();
        let answer = serde_json::to_string(value).map_err(|e| StoreError::Other {
            path: self.store.shown(),
            what: "your answer".to_owned(),
            reason: format!("it could not be written as JSON ({e})"),
        })?;
        let who = question.who.as_ref().map(|p| p.role.clone());
        let shown = crate::engine::answer_words(question.kind, value);
        let (id, seq) = (self.id, self.seq);
        let token = self.store.token.clone();
        let result = (|| {
            let tx = self.store.conn.transaction()?;
            // The claim first: a session taken over elsewhere gets nothing more from here.
            if tx.execute(
                "UPDATE sessions SET snapshot = ?2, snapshot_seq = ?3, updated_at = ?4
                 WHERE id = ?1 AND json_extract(owner, '$.token') = ?5",
                params![id, snapshot, seq, at, token],
            )? == 0
            {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO events (session_id, seq, at, step, kind, who, prompt, answer, private, shown)
                 VALUES (?1, ?2, ?3, ?4, 'ask', ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    seq,
                    at,
                    question.step,
                    who,
                    question.prompt,
                    answer,
                    question.private,
                    shown
                ],
            )?;
            tx.commit().map(|()| true)
        })();
        self.owned(result, "your answer")
    }

    /// A write's result, where `Ok(false)` means the session is no longer this store's (the
    /// write was rolled back).
    fn owned(&self, result: rusqlite::Result<bool>, what: &str) -> Result<(), StoreError> {
        match result {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::NotOwner { id: self.id }),
            Err(e) => Err(self.fail(what, e)),
        }
    }

    /// Records that the run paused for safety at `step`, when, and whether that ended the
    /// exercise for today (`stop`), with `snapshot`, which stands before the question again.
    /// Never the category nor the answer: what was noticed says too much about what was
    /// written. The snapshot's sequence stays before the pause's event, so a resume shows the
    /// pause again and records it anew.
    pub fn safety(
        &mut self,
        step: &str,
        stop: bool,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        let snapshot = self.encode(snapshot, "the safety pause")?;
        self.seq += 1;
        let at = self.now();
        let (id, seq) = (self.id, self.seq);
        let what = if stop { "safety_stop" } else { "safety_pause" };
        let token = self.store.token.clone();
        let result = (|| {
            let tx = self.store.conn.transaction()?;
            if tx.execute(
                "UPDATE sessions SET snapshot = ?2, snapshot_seq = ?3, updated_at = ?4
                 WHERE id = ?1 AND json_extract(owner, '$.token') = ?5",
                params![id, snapshot, seq - 1, at, token],
            )? == 0
            {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO events (session_id, seq, at, step, kind) VALUES (?1, ?2, ?3, ?4, 'safety')",
                params![id, seq, at, step],
            )?;
            tx.execute(
                "INSERT INTO log (session_id, at, what, step) VALUES (?1, ?2, ?3, ?4)",
                params![id, at, what, step],
            )?;
            tx.commit().map(|()| true)
        })();
        self.owned(result, "the safety pause")
    }

    /// The end of the run: its status, variables, schedule and recorded metrics.
    pub fn finished(&mut self, finished: &Finished) -> Result<(), StoreError> {
        let at = self.now();
        let status = match finished.outcome {
            // Left at a safety pause to come back to: the contract's outcome is still
            // `safety_stop`, but the session can be resumed.
            crate::flow::Outcome::SafetyStop if finished.resumable => SAFETY_PAUSE_STATUS,
            outcome => outcome.as_str(),
        };
        let vars = serde_json::to_string(&finished.vars).unwrap_or_else(|_| "{}".into());
        let id = self.id;
        let people = person_names(&self.store.conn, id);
        let token = self.store.token.clone();
        let result = (|| {
            let tx = self.store.conn.transaction()?;
            // The end lets go of the session.
            if tx.execute(
                "UPDATE sessions SET status = ?2, ended_at = ?3, vars = ?4, updated_at = ?5, owner = NULL
                 WHERE id = ?1 AND json_extract(owner, '$.token') = ?6",
                params![id, status, finished.ended_at, vars, at, token],
            )? == 0
            {
                return Ok(false);
            }
            if status == "paused" || status == SAFETY_PAUSE_STATUS {
                tx.execute(
                    "INSERT INTO log (session_id, at, what, step) VALUES (?1, ?2, 'paused', ?3)",
                    params![id, at, finished.ended_at],
                )?;
            }
            if let Some(schedule) = &finished.schedule {
                let body = serde_json::to_string(schedule).unwrap_or_else(|_| "{}".into());
                // One schedule of each name per session, however often it ends.
                tx.execute(
                    "DELETE FROM schedules WHERE session_id = ?1 AND name = ?2",
                    params![id, schedule.name],
                )?;
                tx.execute(
                    "INSERT INTO schedules (session_id, name, made_at, body) VALUES (?1, ?2, ?3, ?4)",
                    params![id, schedule.name, at, body],
                )?;
            }
            // Records are written once per session: a session that paused and ended again
            // replaces what it recorded before.
            tx.execute("DELETE FROM records WHERE session_id = ?1", [id])?;
            for (metric, value) in &finished.records {
                for (person, number) in metric_values(value, &people) {
                    tx.execute(
                        "INSERT INTO records (session_id, metric, person, value, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![id, metric, person, number, at],
                    )?;
                }
            }
            tx.commit().map(|()| true)
        })();
        self.owned(result, "the end of the session")
    }

    /// A snapshot as the JSON the store keeps. A snapshot that cannot be written is an
    /// error, never an empty position that a resume would later call damaged.
    fn encode(&self, snapshot: &Snapshot, what: &str) -> Result<String, StoreError> {
        snapshot.to_json().map_err(|e| StoreError::Other {
            path: self.store.shown(),
            what: what.to_owned(),
            reason: format!("where the run stands could not be written ({e})"),
        })
    }
}

pub(super) fn person_names(conn: &rusqlite::Connection, id: i64) -> Vec<PersonRow> {
    conn.query_row("SELECT people FROM sessions WHERE id = ?1", [id], |r| {
        r.get::<_, String>(0)
    })
    .ok()
    .and_then(|p| serde_json::from_str(&p).ok())
    .unwrap_or_default()
}

/// A recorded metric as numbers: a number for the couple, or `{role: number}` per partner
/// (shown under each partner's name). Anything else is not charted.
fn metric_values(value: &Value, people: &[PersonRow]) -> Vec<(Option<String>, f64)> {
    let number = |v: &Value| match v.kind() {
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        ValueKind::Bool => Some(if v.is_true() { 1.0 } else { 0.0 }),
        _ => None,
    };
    match value.kind() {
        ValueKind::Map => people
            .iter()
            .filter_map(|p| {
                let v = value.get_attr(&p.role).ok()?;
                Some((Some(p.name.clone()), number(&v)?))
            })
            .collect(),
        _ => number(value).map(|n| vec![(None, n)]).unwrap_or_default(),
    }
}
