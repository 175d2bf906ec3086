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
    /// The answer in words (an option's label, "7 of 10"); `None` for answers saved by
    /// releases before it was kept.
    pub shown: Option<String>,
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
                "SELECT seq, at, step, kind, who, prompt, text, answer, private, shown
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
                    shown: r.get(9)?,
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

    /// Whether `text` (a text the flow showed) repeats a private answer, word for word: such
    /// a text is left out wherever the private answers are. A one-word answer shorter than
    /// four letters (`no`, `yes`) is too common a word to tell anything by.
    pub fn reveals_private(&self, text: &str) -> bool {
        let words = |t: &str| -> Vec<String> {
            t.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        };
        let haystack = words(text);
        let contains = |needle: &[String]| {
            let too_common = needle.len() == 1 && needle[0].chars().count() < 4;
            !needle.is_empty() && !too_common && haystack.windows(needle.len()).any(|w| w == needle)
        };
        self.events.iter().filter(|e| e.private).any(|e| {
            let mut said = Vec::new();
            if let Some(shown) = &e.shown {
                said.push(shown.clone());
            }
            let mut values = vec![e.answer.clone().unwrap_or_default()];
            while let Some(v) = values.pop() {
                match v {
                    serde_json::Value::String(s) => said.push(s),
                    serde_json::Value::Array(items) => values.extend(items),
                    serde_json::Value::Object(map) => {
                        values.extend(map.into_iter().map(|(_, v)| v))
                    }
                    serde_json::Value::Null => {}
                    other => said.push(other.to_string()),
                }
            }
            said.iter().any(|s| contains(&words(s)))
        })
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

/// How a session summary is drawn: Markdown for a file, or plain text for the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Markdown (`export --format md`): headings, bold names, answers as quotes.
    Markdown,
    /// Plain text for `show`: no `**` or `>`, answers indented under their question.
    Terminal,
}

/// One thing a summary lists, in order.
enum Item<'a> {
    /// An answer: who gave it (when the flow names them), the question, the answer in words.
    Answer(Option<String>, &'a str, String, bool),
    /// A `who: both` question, each person's answer under it.
    Each(&'a str, Vec<(String, String)>),
    Safety,
}

/// The session as a summary worth bringing to a therapist: who took part and when, each
/// question with its answer in words (option labels, "7 of 10", dates with their weekday),
/// the answers of a question asked of each partner together, the exercise's closing summary
/// (what was agreed, what is for a therapist, when to review), and the recorded measures.
/// Private answers are left out unless `include_private`, and so is a closing text that
/// repeats one.
pub fn export_markdown(d: &SessionDetail, include_private: bool) -> String {
    summary(d, include_private, Style::Markdown)
}

/// [`export_markdown`] in the given style.
pub fn summary(d: &SessionDetail, include_private: bool, style: Style) -> String {
    let md = style == Style::Markdown;
    let s = &d.summary;
    let when = human_time(&s.started_at);
    let mut out = if md {
        format!(
            "# {}\n\n- Date: {when}\n{}- Outcome: {}\n\n",
            s.title,
            if s.people.is_empty() {
                String::new()
            } else {
                format!("- With: {}\n", s.people.join(" and "))
            },
            status_words(&s.status)
        )
    } else {
        let mut line = vec![when.clone()];
        if !s.people.is_empty() {
            line.push(s.people.join(" and "));
        }
        line.push(status_words(&s.status).to_owned());
        format!("{}\n{}\n\n", s.title, line.join(" · "))
    };
    let visible: Vec<&StoredEvent> = d.visible(include_private).collect();
    let mut items: Vec<Item<'_>> = Vec::new();
    for e in &visible {
        match e.kind.as_str() {
            "ask" => {
                let prompt = e.prompt.as_deref().unwrap_or_default();
                let words = e.shown.clone().unwrap_or_else(|| answer_text(&e.answer));
                let who = e.who.as_deref().map(|r| d.name_of(r));
                // The turns of a `who: both` question come one after the other.
                if let (Some(who), Some(Item::Answer(Some(before), p, w, false))) =
                    (&who, items.last())
                {
                    if *p == prompt && before != who && !e.private {
                        let first = (before.clone(), w.clone());
                        items.pop();
                        items.push(Item::Each(prompt, vec![first, (who.clone(), words)]));
                        continue;
                    }
                }
                if let (Some(who), Some(Item::Each(p, answers))) = (&who, items.last_mut()) {
                    if *p == prompt && !answers.iter().any(|(n, _)| n == who) && !e.private {
                        answers.push((who.clone(), words));
                        continue;
                    }
                }
                items.push(Item::Answer(who, prompt, words, e.private));
            }
            "safety" => items.push(Item::Safety),
            _ => {}
        }
    }
    let indent = |text: &str, by: &str| {
        text.lines()
            .map(|l| format!("{by}{l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for item in &items {
        match item {
            Item::Answer(who, prompt, words, private) => {
                let private = match (private, md) {
                    (false, _) => "",
                    (true, true) => " _(private)_",
                    (true, false) => " (private)",
                };
                let who = match (who, md) {
                    (Some(w), true) => format!("**{w}**: "),
                    (Some(w), false) => format!("{w}: "),
                    (None, _) => String::new(),
                };
                if md {
                    out.push_str(&format!(
                        "{who}{prompt}{private}\n\n{}\n\n",
                        indent(words, "> ")
                    ));
                } else {
                    out.push_str(&format!(
                        "{who}{prompt}{private}\n{}\n\n",
                        indent(words, "    ")
                    ));
                }
            }
            Item::Each(prompt, answers) => {
                if md {
                    out.push_str(&format!("{prompt}\n\n"));
                    for (who, words) in answers {
                        out.push_str(&format!("- **{who}**: {}\n", words.replace('\n', "; ")));
                    }
                    out.push('\n');
                } else {
                    out.push_str(&format!("{prompt}\n"));
                    for (who, words) in answers {
                        out.push_str(&format!("    {who}: {}\n", words.replace('\n', "; ")));
                    }
                    out.push('\n');
                }
            }
            Item::Safety => out.push_str(if md {
                "_Paused for safety here._\n\n"
            } else {
                "(Paused for safety here.)\n\n"
            }),
        }
    }
    if items.is_empty() {
        out.push_str(if md {
            "_No answers recorded._\n\n"
        } else {
            "No answers recorded.\n\n"
        });
    }
    if let Some(closing) = closing_text(d, include_private) {
        out.push_str(if md {
            "## Closing summary\n\n"
        } else {
            "Closing summary\n\n"
        });
        out.push_str(closing.trim());
        out.push_str("\n\n");
    }
    let hidden = d.events.iter().filter(|e| e.private).count();
    if hidden > 0 && !include_private {
        let line = format!(
            "{hidden} private answer{} left out.",
            if hidden == 1 { " is" } else { "s are" }
        );
        out.push_str(&if md {
            format!("_{line}_\n\n")
        } else {
            format!("{line}\n\n")
        });
    }
    if !d.records.is_empty() {
        out.push_str(if md { "## Recorded\n\n" } else { "Recorded\n" });
        for (metric, person, value) in &d.records {
            let who = person
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            let metric = metric.replace('_', " ");
            out.push_str(&if md {
                format!("- {metric}{who}: {value}\n")
            } else {
                format!("    {metric}{who}: {value}\n")
            });
        }
        out.push('\n');
    }
    out.push_str(if md {
        "_Exported from trustguide, an educational tool, not therapy._\n"
    } else {
        "trustguide is an educational tool, not therapy.\n"
    });
    // Answers may hold terminal escapes; `show` prints this to a terminal.
    crate::printable::printable(&out).into_owned()
}

/// "Wednesday 25 November 2026, 19:30" for an RFC 3339 time (the text itself if it is not one).
pub fn human_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%A %-d %B %Y, %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// The exercise's closing text: what it showed after the last answer of a session that
/// ended, such as boundaries' "Agreed: … To talk over with a therapist: … Your review is
/// on …". Left out when it repeats a private answer that is not included.
fn closing_text(d: &SessionDetail, include_private: bool) -> Option<String> {
    if !matches!(d.summary.status.as_str(), "completed" | "stopped") {
        return None;
    }
    let last_ask = d.events.iter().rposition(|e| e.kind != "say")?;
    let said: Vec<&str> = d.events[last_ask + 1..]
        .iter()
        .filter_map(|e| e.text.as_deref())
        .collect();
    if said.is_empty() {
        return None;
    }
    let text = said.join("\n\n");
    (include_private || !d.reveals_private(&text)).then_some(text)
}

/// The session as JSON: the transcript's shape plus the session's date and people.
pub fn export_json(d: &SessionDetail, include_private: bool) -> String {
    let events: Vec<serde_json::Value> = d
        .visible(include_private)
        .filter(|e| {
            include_private
                || e.kind != "say"
                || !d.reveals_private(e.text.as_deref().unwrap_or_default())
        })
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
