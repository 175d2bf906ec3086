//! Schedules made by scheduling flows (`trustguide schedule`), and the metrics an earlier
//! session of a flow recorded (`previous` in flows).

use minijinja::Value;

use super::{classify, Store, StoreError};
use crate::schedule::Schedule;

/// A schedule in use, with the session that made it.
#[derive(Debug, Clone)]
pub struct StoredSchedule {
    /// The id of the session whose ending made it.
    pub session: i64,
    /// When it was made (the session's end), as RFC 3339 text.
    pub made_at: String,
    /// The check-in schedule itself.
    pub schedule: Schedule,
}

impl Store {
    /// The schedules in use: the newest of each name, by name.
    pub fn schedules(&self) -> Result<Vec<StoredSchedule>, StoreError> {
        let shown = self.shown();
        let fail = |e| classify(&shown, "reading the schedules", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT session_id, made_at, body FROM schedules s
                 WHERE id = (SELECT MAX(id) FROM schedules t WHERE t.name = s.name)
                 ORDER BY name",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(fail)?;
        let mut out = Vec::new();
        for row in rows {
            let (session, made_at, body) = row.map_err(fail)?;
            // A row this version cannot read (edited by hand) is skipped, not fatal.
            if let Ok(schedule) = serde_json::from_str(&body) {
                out.push(StoredSchedule {
                    session,
                    made_at,
                    schedule,
                });
            }
        }
        Ok(out)
    }

    /// The metrics the newest finished session of `flow` recorded: a number for the couple,
    /// or `{role: number}` for metrics recorded per partner.
    pub fn previous_metrics(&self, flow: &str) -> Result<Vec<(String, Value)>, StoreError> {
        let shown = self.shown();
        let fail = |e| classify(&shown, "reading earlier sessions", e);
        let latest: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM sessions
                 WHERE flow = ?1 AND status IN ('completed', 'stopped')
                   AND EXISTS (SELECT 1 FROM records r WHERE r.session_id = sessions.id)
                 ORDER BY id DESC LIMIT 1",
                [flow],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(fail)?;
        let Some(session) = latest else {
            return Ok(Vec::new());
        };
        let people = super::session::person_names(&self.conn, session);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT metric, person, value FROM records WHERE session_id = ?1 ORDER BY rowid",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([session], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, f64>(2)?,
                ))
            })
            .map_err(fail)?;
        let mut metrics: indexmap::IndexMap<String, Value> = indexmap::IndexMap::new();
        let mut per_person: indexmap::IndexMap<String, Vec<(String, Value)>> =
            indexmap::IndexMap::new();
        for row in rows {
            let (metric, person, value) = row.map_err(fail)?;
            let number = if value.fract() == 0.0 && value.abs() < 1e15 {
                Value::from(value as i64)
            } else {
                Value::from(value)
            };
            match person {
                None => {
                    metrics.insert(metric, number);
                }
                Some(name) => {
                    let role = people
                        .iter()
                        .find(|p| p.name == name)
                        .map_or(name, |p| p.role.clone());
                    per_person.entry(metric).or_default().push((role, number));
                }
            }
        }
        for (metric, values) in per_person {
            metrics.insert(metric, Value::from_iter(values));
        }
        Ok(metrics.into_iter().collect())
    }
}
