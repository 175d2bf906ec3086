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

use super::{write_private_file, Environment};

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
        println!(
            "Wrote {events} check-in{} to {} (readable by you alone). Import it into your calendar; each has a reminder.",
            if events == 1 { "" } else { "s" },
            path.display()
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
    for stored in active {
        let s = &stored.schedule;
        writeln!(out, "{} — {}", s.title, s.describe())?;
        writeln!(
            out,
            "  made in session {} on {}",
            stored.session,
            stored.made_at.get(..10).unwrap_or(&stored.made_at)
        )?;
        let upcoming: Vec<NaiveDateTime> = s.upcoming(now_local).collect();
        let shown = if all { upcoming.len() } else { SHOWN };
        for at in upcoming.iter().take(shown) {
            writeln!(out, "  {}", at.format("%a %-d %b %H:%M"))?;
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
    let topics = topics();
    let Some(topic) = topic else {
        let width = topics.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
        let mut out = io::stdout().lock();
        for (name, title) in &topics {
            writeln!(out, "{name:width$}  {title}")?;
        }
        writeln!(out, "\n`trustguide learn TOPIC` shows one.")?;
        return Ok(0);
    };
    let name = topic.trim().trim_end_matches(".md");
    let text = topics
        .iter()
        .any(|(t, _)| t == name)
        .then(|| library.get(&format!("cards/{name}.md")))
        .transpose()
        .map_err(|e| anyhow!(e))?
        .flatten();
    let Some(text) = text else {
        let hint = nearest(name, topics.iter().map(|(t, _)| t.as_str()))
            .map(|n| format!(" Did you mean `{n}`?"))
            .unwrap_or_default();
        bail!("there is no topic `{name}`.{hint} `trustguide learn` lists them");
    };
    let width = console::Term::stdout()
        .size_checked()
        .map_or(80, |(_, w)| usize::from(w).clamp(40, 100));
    let mut out = io::stdout().lock();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix('#') {
            writeln!(
                out,
                "{}",
                console::style(heading.trim_start_matches('#').trim()).bold()
            )?;
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
    Ok(0)
}

/// The built-in cards, as (topic, title): the title is the card's first heading.
fn topics() -> Vec<(String, String)> {
    let library = ContentLibrary::default();
    trustguide::content::builtin_names()
        .into_iter()
        .filter_map(|name| {
            let topic = name.strip_prefix("cards/")?.strip_suffix(".md")?.to_owned();
            let text = library.get(&name).ok().flatten()?;
            let title = text
                .lines()
                .find_map(|l| l.strip_prefix('#'))
                .map(|h| h.trim_start_matches('#').trim().to_owned())
                .unwrap_or_default();
            Some((topic, title))
        })
        .collect()
}
