//! The commands around the exercises: `schedule` (the check-ins scheduling flows made, and
//! their calendar export) and `learn` (the content cards, read in the terminal).
//!
//! Both only read: the schedule from the store, the cards from the content library. Dates are
//! laid out in the local time zone (`TZ`), from `TRUSTGUIDE_NOW` when it is set.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use trustguide::content::ContentLibrary;
use trustguide::flow::suggest::nearest;
use trustguide::schedule;

use super::sessions::write_private_file;
use super::Environment;

/// How many upcoming check-ins `schedule` lists unless asked for more.
const SHOWN: usize = 14;

/// `trustguide schedule [--ics FILE] [--all]`
pub fn schedule(env: &Environment, ics: Option<PathBuf>, all: bool) -> Result<i32> {
    let schedules = match env.existing_store()? {
        Some(store) => store.schedules()?,
        None => Vec::new(),
    };
    let now = env.now();
    let now_local = now.with_timezone(&Local).naive_local();
    let active: Vec<_> = schedules
        .iter()
        .filter(|s| s.schedule.upcoming(now_local).next().is_some())
        .collect();
    if let Some(path) = ics {
        if active.is_empty() {
            bail!("there are no upcoming check-ins to export; `trustguide run checkin-schedule` makes a schedule");
        }
        let list: Vec<_> = active.iter().map(|s| s.schedule.clone()).collect();
        let text = schedule::to_ics(&list, now_local, now.with_timezone(&Utc), &to_utc);
        write_private_file(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        let events: usize = list.iter().map(|s| s.upcoming(now_local).count()).sum();
        let timed = list.iter().any(|s| !s.all_day());
        println!(
            "{}",
            super::fill(&format!(
                "Wrote {events} calendar entr{} to {} (readable by you alone). Import it into your calendar{}.",
                if events == 1 { "y" } else { "ies" },
                path.display(),
                if timed { "; each check-in has a reminder" } else { "" }
            ))
        );
        return Ok(0);
    }
    let mut out = io::stdout().lock();
    if active.is_empty() {
        writeln!(
            out,
            "No upcoming check-ins. `trustguide run checkin-schedule` makes a schedule."
        )?;
        return Ok(0);
    }
    for (i, stored) in active.iter().enumerate() {
        let s = &stored.schedule;
        if i > 0 {
            writeln!(out)?;
        }
        // One line when it fits; else what it is on one line and when on the next, so that a
        // date is not split across lines.
        let heading = format!("{} — {}", s.title, s.describe());
        if console::measure_text_width(&heading) <= super::text_width() {
            writeln!(out, "{}", console::style(heading).bold())?;
        } else {
            writeln!(out, "{}", console::style(super::fill(&s.title)).bold())?;
            writeln!(out, "  {}", s.describe())?;
        }
        let made = chrono::DateTime::parse_from_rfc3339(&stored.made_at)
            .map(|t| t.format("%A %-d %B").to_string())
            .unwrap_or_else(|_| {
                stored
                    .made_at
                    .get(..10)
                    .unwrap_or(&stored.made_at)
                    .to_owned()
            });
        writeln!(out, "  made in session {} on {made}", stored.session)?;
        let upcoming: Vec<NaiveDateTime> = s.upcoming(now_local).collect();
        let shown = if all { upcoming.len() } else { SHOWN };
        for at in upcoming.iter().take(shown) {
            if s.all_day() {
                writeln!(out, "  {}", at.format("%a %-d %b"))?;
            } else {
                writeln!(out, "  {}", at.format("%a %-d %b %H:%M"))?;
            }
        }
        if upcoming.len() > shown {
            writeln!(
                out,
                "  ... and {} more (--all lists them; --ics FILE exports them)",
                upcoming.len() - shown
            )?;
        }
    }
    Ok(0)
}

/// A local time on the time line. A time that does not exist (the hour skipped when clocks go
/// forward) moves on by an hour; an ambiguous one (the hour repeated) takes the first.
fn to_utc(at: NaiveDateTime) -> DateTime<Utc> {
    Local
        .from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            Local
                .from_local_datetime(&(at + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&at))
}

/// `trustguide learn [TOPIC]`
pub fn learn(topic: Option<&str>) -> Result<i32> {
    let library = ContentLibrary::default();
    let index = LearnIndex::builtin()?;
    let Some(topic) = topic else {
        let width = index.topics().map(|t| t.card.len()).max().unwrap_or(0);
        let mut out = io::stdout().lock();
        for group in &index.0 {
            writeln!(out, "{}", console::style(&group.group).bold())?;
            for t in &group.topics {
                writeln!(out, "  {:width$}  {}", t.card, title(&library, &t.card))?;
            }
        }
        writeln!(
            out,
            "\n`trustguide learn TOPIC` shows one. Educational material, not therapy: for abuse, threats or\nongoing deception, please work with a licensed therapist (`trustguide help-now`)."
        )?;
        return Ok(0);
    };
    let name = topic.trim().trim_end_matches(".md");
    let Some(entry) = index.topics().find(|t| t.card == name) else {
        let hint = nearest(name, index.topics().map(|t| t.card.as_str()))
            .map(|n| format!(" Did you mean `{n}`?"))
            .unwrap_or_default();
        bail!("there is no topic `{name}`.{hint} `trustguide learn` lists them");
    };
    let text = library
        .get(&format!("cards/{name}.md"))
        .map_err(|e| anyhow!(e))?
        .ok_or_else(|| anyhow!("the card for `{name}` is missing from this build"))?;
    let width = super::text_width();
    let mut out = io::stdout().lock();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix('#') {
            let heading = heading.trim_start_matches('#').trim();
            writeln!(out, "{}", console::style(heading).bold())?;
            continue;
        }
        let (first, rest) = match line.strip_prefix("- ") {
            Some(item) => (format!("- {item}"), "  "),
            None => (line.to_owned(), ""),
        };
        let options = textwrap::Options::new(width).subsequent_indent(rest);
        for wrapped in textwrap::wrap(&first, options) {
            writeln!(out, "{wrapped}")?;
        }
    }
    if let Some(flow) = &entry.practise {
        writeln!(out, "\nPractise it: trustguide run {flow}")?;
    }
    Ok(0)
}

/// `content/learn.yaml`: the cards in groups, each with the exercise that practises it.
#[derive(Debug, serde::Deserialize)]
pub struct LearnIndex(pub Vec<LearnGroup>);

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnGroup {
    pub group: String,
    pub topics: Vec<LearnTopic>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnTopic {
    pub card: String,
    #[serde(default)]
    pub practise: Option<String>,
}

impl LearnIndex {
    fn builtin() -> Result<LearnIndex> {
        let text = trustguide::content::BUILTIN_CONTENT
            .get_file("learn.yaml")
            .and_then(|f| f.contents_utf8())
            .ok_or_else(|| anyhow!("content/learn.yaml is missing from this build"))?;
        serde_saphyr::from_str(text).map_err(|e| anyhow!("content/learn.yaml: {e}"))
    }

    fn topics(&self) -> impl Iterator<Item = &LearnTopic> {
        self.0.iter().flat_map(|g| &g.topics)
    }
}

/// A card's title: its first heading.
fn title(library: &ContentLibrary, card: &str) -> String {
    library
        .get(&format!("cards/{card}.md"))
        .ok()
        .flatten()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix('#'))
                .map(|h| h.trim_start_matches('#').trim().to_owned())
        })
        .unwrap_or_default()
}
