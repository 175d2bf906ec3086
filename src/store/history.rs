//! Past sessions: the list, one session in full, and exports a couple could bring to their
//! therapist. Private answers stay out of every view and export unless asked for.

use rusqlite::params;
use serde::Serialize;
use serde_json::json;

use super::{classify, Store, StoreError};

/// One line of `trustguide history`: a session without its answers.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    /// The session's id, as `show`, `export`, `resume` and `forget` take it.
    pub id: i64,
    /// When the session started, as RFC 3339 text.
    pub started_at: String,
    /// The id of the flow that was run.
    pub flow: String,
    /// The flow's title when the session started.
    pub title: String,
    /// The participants' names, in the flow's role order.
    pub people: Vec<String>,
    /// `in_progress` (or interrupted), `paused`, `completed`, `stopped`, `safety_pause` (left
    /// at a safety pause, to resume), `safety_stop` (ended at one).
    pub status: String,
    /// The step the session ended or paused at; `None` while it is in progress (or was
    /// interrupted).
    pub ended_at: Option<String>,
}

/// One thing that happened in a stored session. A safety pause is stored as where and when
/// it happened only: never the category, and never the answer that caused it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    /// The event's place in its session, counting from 1.
    pub seq: i64,
    /// When it happened, as RFC 3339 text.
    pub at: String,
    /// The step it happened at, as transcripts name it.
    pub step: String,
    /// `say` (a text shown), `ask` (an answer given) or `safety` (a safety pause).
    pub kind: String,
    /// The role of the person who answered; `None` for other events and for answers from
    /// whoever was at the keyboard.
    pub who: Option<String>,
    /// The question as it was shown (`ask` events only).
    pub prompt: Option<String>,
    /// The text shown (`say` events only).
    pub text: Option<String>,
    /// The answer as JSON (`ask` events only).
    pub answer: Option<serde_json::Value>,
    /// The answer was to a `private` step: views and exports leave it out unless asked.
    pub private: bool,
}

/// One session in full, for `trustguide show` and `export`.
#[derive(Debug, Clone)]
pub struct SessionDetail {
    /// The session's summary line.
    pub summary: SessionSummary,
    /// Each participant as `(role, name)`, in the flow's role order.
    pub roles: Vec<(String, String)>,
    /// Everything recorded, in order.
    pub events: Vec<StoredEvent>,
    /// The flow's variables when the session ended, as a JSON object (`{}` until it ends).
    pub vars: serde_json::Value,
    /// The recorded metrics as `(metric, partner's name, value)`; the name is `None` for a
    /// value recorded for the couple.
    pub records: Vec<(String, Option<String>, f64)>,
}

/// `[{role, name}]` as stored with a session, as (role, name) pairs.
fn names(people_json: &str) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Row {
        role: String,
        name: String,
    }
    serde_json::from_str::<Vec<Row>>(people_json)
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.role, p.name))
        .collect()
}

impl Store {
    /// Every session, newest first.
    pub fn sessions(&self) -> Result<Vec<SessionSummary>, StoreError> {
        let shown = self.shown();
        let fail = |e| classify(&shown, "reading the history", e);
        let mut stmt = self
            .conn
            .prepare("SELECT id, started_at, flow, title, people, status, ended_at FROM sessions ORDER BY started_at DESC, id DESC")
            .map_err(fail)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SessionSummary {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    flow: r.get(2)?,
                    title: r.get(3)?,
                    people: names(&r.get::<_, String>(4)?)
                        .into_iter()
                        .map(|(_, n)| n)
                        .collect(),
                    status: r.get(5)?,
                    ended_at: r.get(6)?,
                })
            })
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// One session with everything recorded.
    pub fn session(&self, id: i64) -> Result<SessionDetail, StoreError> {
        let shown = self.shown();
        let fail = |e| classify(&shown, "reading the session", e);
        let row = self.conn.query_row(
            "SELECT id, started_at, flow, title, people, status, ended_at, vars FROM sessions WHERE id = ?1",
            [id],
            |r| {
                let people: String = r.get(4)?;
                Ok((
                    SessionSummary {
                        id: r.get(0)?,
                        started_at: r.get(1)?,
                        flow: r.get(2)?,
                        title: r.get(3)?,
                        people: names(&people).into_iter().map(|(_, n)| n).collect(),
                        status: r.get(5)?,
                        ended_at: r.get(6)?,
                    },
                    names(&people),
                    r.get::<_, Option<String>>(7)?,
                ))
            },
        );
        let (summary, roles, vars) = match row {
            Ok(found) => found,
            Err(rusqlite::Error::QueryReturnedNoRows) => return Err(StoreError::NoSuchSession(id)),
            Err(e) => return Err(fail(e)),
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, at, step, kind, who, prompt, text, answer, private
                 FROM events WHERE session_id = ?1 ORDER BY seq",
            )
            .map_err(fail)?;
        let events = stmt
            .query_map([id], |r| {
                Ok(StoredEvent {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    step: r.get(2)?,
                    kind: r.get(3)?,
                    who: r.get(4)?,
                    prompt: r.get(5)?,
                    text: r.get(6)?,
                    answer: r
                        .get::<_, Option<String>>(7)?
                        .and_then(|a| serde_json::from_str(&a).ok()),
                    private: r.get(8)?,
                })
            })
            .map_err(fail)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT metric, person, value FROM records WHERE session_id = ?1 ORDER BY rowid",
            )
            .map_err(fail)?;
        let records = stmt
            .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(fail)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        Ok(SessionDetail {
            summary,
            roles,
            events,
            vars: vars
                .and_then(|v| serde_json::from_str(&v).ok())
                .unwrap_or_else(|| json!({})),
            records,
        })
    }
}

impl SessionDetail {
    fn name_of(&self, role: &str) -> String {
        self.roles
            .iter()
            .find(|(r, _)| r == role)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| role.to_owned())
    }

    /// The events a view may show: private answers only when asked for. (A safety pause is
    /// stored as where and when it happened, never what was noticed.)
    fn visible(&self, include_private: bool) -> impl Iterator<Item = &StoredEvent> {
        self.events
            .iter()
            .filter(move |e| include_private || !e.private)
    }
}

fn answer_text(answer: &Option<serde_json::Value>) -> String {
    match answer {
        None | Some(serde_json::Value::Null) => "(no answer)".to_owned(),
        Some(serde_json::Value::Bool(b)) => if *b { "yes" } else { "no" }.to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| answer_text(&Some(v.clone())))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// A session's status in plain words.
pub fn status_words(status: &str) -> &str {
    match status {
        "in_progress" => "not finished",
        "paused" => "paused",
        "completed" => "completed",
        "stopped" => "stopped early",
        "safety_pause" => "paused for safety (resume when everyone is safe)",
        "safety_stop" => "paused for safety; ended for today",
        other => other,
    }
}

/// A readable summary of a session, in Markdown.
pub fn export_markdown(d: &SessionDetail, include_private: bool) -> String {
    let s = &d.summary;
    let mut out = format!(
        "# {} — {}\n\n- Date: {}\n- With: {}\n- Outcome: {}\n\n",
        s.title,
        s.started_at.get(..10).unwrap_or(&s.started_at),
        s.started_at,
        s.people.join(" and "),
        status_words(&s.status)
    );
    let mut questions = 0;
    for e in d.visible(include_private) {
        match e.kind.as_str() {
            "ask" => {
                questions += 1;
                let who = e
                    .who
                    .as_deref()
                    .map(|r| format!("**{}**: ", d.name_of(r)))
                    .unwrap_or_default();
                let private = if e.private { " _(private)_" } else { "" };
                out.push_str(&format!(
                    "{who}{}{private}\n\n> {}\n\n",
                    e.prompt.as_deref().unwrap_or_default(),
                    answer_text(&e.answer).replace('\n', "\n> ")
                ));
            }
            "safety" => out.push_str("_Paused for safety here._\n\n"),
            _ => {}
        }
    }
    if questions == 0 {
        out.push_str("_No answers recorded._\n\n");
    }
    let hidden = d.events.iter().filter(|e| e.private).count();
    if hidden > 0 && !include_private {
        out.push_str(&format!(
            "_{hidden} private answer{} left out._\n\n",
            if hidden == 1 { " is" } else { "s are" }
        ));
    }
    if !d.records.is_empty() {
        out.push_str("## Recorded\n\n");
        for (metric, person, value) in &d.records {
            let who = person
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            out.push_str(&format!("- {metric}{who}: {value}\n"));
        }
        out.push('\n');
    }
    out.push_str("_Exported from trustguide, an educational tool, not therapy._\n");
    // Answers may hold terminal escapes; `show` prints this to a terminal.
    crate::printable::printable(&out).into_owned()
}

/// The session as JSON: the transcript's shape plus the session's date and people.
pub fn export_json(d: &SessionDetail, include_private: bool) -> String {
    let events: Vec<serde_json::Value> = d
        .visible(include_private)
        .map(|e| match e.kind.as_str() {
            "say" => json!({"step": e.step, "kind": "say", "text": e.text}),
            "safety" => json!({"step": e.step, "kind": "safety"}),
            _ => {
                let mut v =
                    json!({"step": e.step, "kind": "ask", "prompt": e.prompt, "answer": e.answer});
                if let Some(who) = &e.who {
                    v["who"] = json!(who);
                }
                if e.private {
                    v["private"] = json!(true);
                }
                v
            }
        })
        .collect();
    let records: Vec<serde_json::Value> = d
        .records
        .iter()
        .map(|(m, p, v)| json!({"metric": m, "person": p, "value": v}))
        .collect();
    let s = &d.summary;
    let doc = json!({
        "session": s.id,
        "flow": s.flow,
        "title": s.title,
        "started_at": s.started_at,
        "participants": d.roles.iter().map(|(r, n)| json!({"role": r, "name": n})).collect::<Vec<_>>(),
        "outcome": s.status,
        "ended_at": s.ended_at,
        "events": events,
        "vars": d.vars,
        "records": records,
        "private_answers_left_out": if include_private { 0 } else { d.events.iter().filter(|e| e.private).count() },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
