//! The sessions kept on this machine: `history`, `show`, `export`, `progress` and `forget`.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use trustguide::printable::printable;
use trustguide::session::day;
use trustguide::store::{
    export_json, export_markdown, status_words, summary, ProgressChart, Store, StoreError, Style,
};

use super::{Environment, ExportFormat, ProgressFormat};

pub(super) fn history(env: &Environment, json: bool) -> Result<i32> {
    let sessions = match env.existing_store()? {
        Some(store) => store.sessions()?,
        None => Vec::new(),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&sessions)?)?;
        out.flush()?;
        return Ok(0);
    }
    if sessions.is_empty() {
        writeln!(
            out,
            "No sessions yet. `trustguide list` shows the exercises you can run."
        )?;
        return Ok(0);
    }
    let flow_width = sessions
        .iter()
        .map(|s| s.flow.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let people_width = sessions
        .iter()
        .map(|s| s.people.join(", ").chars().count())
        .max()
        .unwrap_or(12)
        .max(12);
    writeln!(
        out,
        "{:>5}  {:10}  {:flow_width$}  {:people_width$}  OUTCOME",
        "ID", "DATE", "FLOW", "PARTICIPANTS"
    )?;
    for s in &sessions {
        let outcome = match (s.status.as_str(), &s.ended_at) {
            ("in_progress", _) => "not finished (resume it)".to_owned(),
            // `resume` shows the question it goes on with; a step id means nothing here.
            ("paused", _) => "paused (resume it)".to_owned(),
            (status, _) => status_words(status).to_owned(),
        };
        writeln!(
            out,
            "{:>5}  {:10}  {:flow_width$}  {:people_width$}  {outcome}",
            s.id,
            day(&s.started_at),
            s.flow,
            printable(&s.people.join(", "))
        )?;
    }
    out.flush()?;
    Ok(0)
}

fn open_for_session(env: &Environment, id: i64) -> Result<Store> {
    env.existing_store()?
        .ok_or_else(|| anyhow!("no session {id}: there are no saved sessions yet"))
}

pub(super) fn show(env: &Environment, id: i64, include_private: bool) -> Result<i32> {
    let store = open_for_session(env, id)?;
    let detail = store.session(id)?;
    print!("{}", summary(&detail, include_private, Style::Terminal));
    Ok(0)
}

pub(super) fn export(
    env: &Environment,
    id: i64,
    format: ExportFormat,
    include_private: bool,
    output: Option<PathBuf>,
) -> Result<i32> {
    let store = open_for_session(env, id)?;
    let detail = store.session(id)?;
    let text = match format {
        ExportFormat::Md => export_markdown(&detail, include_private),
        ExportFormat::Json => export_json(&detail, include_private) + "\n",
    };
    match output {
        Some(path) => {
            write_private_file(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("Session {id} written to {}.", path.display());
        }
        None => io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(0)
}

/// Exports hold intimate answers: written as a private file (owner-only, whole or not at
/// all); a file others could read that it replaces is made private, and the person told.
pub(super) fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(notice) = trustguide::private_file::write(path, bytes)? {
        eprintln!("{notice}");
    }
    Ok(())
}

pub(super) fn progress(
    env: &Environment,
    metric: Option<String>,
    format: ProgressFormat,
    last: usize,
) -> Result<i32> {
    let Some(store) = env.existing_store()? else {
        println!("Nothing recorded yet. Exercises such as the weekly check-in record how things are going.");
        return Ok(0);
    };
    let points = store.metrics(metric.as_deref())?;
    if points.is_empty() {
        if let Some(m) = &metric {
            let names = store.metric_names()?;
            let hint = trustguide::flow::suggest::nearest(m, names.iter().map(String::as_str))
                .map(|h| format!("; did you mean `{h}`?"))
                .unwrap_or_else(|| {
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!(" (recorded: {})", names.join(", "))
                    }
                });
            bail!("nothing recorded for `{m}`{hint}");
        }
        println!("Nothing recorded yet. Exercises such as the weekly check-in record how things are going.");
        return Ok(0);
    }
    let text = match format {
        ProgressFormat::Csv => ProgressChart::csv(&points),
        ProgressFormat::Chart => {
            let width = console::Term::stdout().size().1 as usize;
            // Titles, ranges and which way is better come from the flows that recorded them.
            let mut lib = env.library();
            let mut flows: Vec<&str> = points.iter().map(|p| p.flow.as_str()).collect();
            flows.sort_unstable();
            flows.dedup();
            for flow in &flows {
                // A flow that is gone or broken still has its values charted, untitled.
                let _ = lib.load(flow);
            }
            let describe = |flow: &str, metric: &str| match lib.index_of(flow) {
                Some(i) => {
                    let f = lib.flow(i);
                    let m = f.metrics.iter().find(|m| m.name == metric).cloned();
                    (Some(f.title.clone()), m)
                }
                None => (None, None),
            };
            ProgressChart::render(&points, width, last, &describe)
        }
    };
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(0)
}

pub(super) fn forget(env: &Environment, id: Option<i64>, all: bool, yes: bool) -> Result<i32> {
    let Some(mut store) = env.existing_store()? else {
        println!("There are no saved sessions.");
        return Ok(0);
    };
    let what = match id {
        Some(id) => {
            let s = store.session(id)?.summary;
            format!(
                "session {id} ({}, {}, {})",
                s.flow,
                day(&s.started_at),
                s.people.join(" and ")
            )
        }
        None => format!("all {} sessions", store.sessions()?.len()),
    };
    if !yes {
        if !io::stdin().is_terminal() {
            bail!("deleting {what} needs confirmation: run it in a terminal, or add --yes");
        }
        if !sure(&format!(
            "Delete {what} for good? This cannot be undone. Type yes to delete, or press Enter to keep: "
        ))? {
            println!("Nothing was deleted.");
            return Ok(0);
        }
    }
    match (id, all) {
        (Some(id), _) => store.forget(id).map_err(|e| match e {
            StoreError::Full { .. } | StoreError::Write { .. } => anyhow!(
                "{e}\nOn a full disk, `trustguide forget --all` can still delete every session, which frees their space."
            ),
            e => e.into(),
        })?,
        (None, true) => {
            store.forget_all()?;
        }
        (None, false) => unreachable!("clap requires an id or --all"),
    }
    println!("Deleted {what}.");
    Ok(0)
}

/// A whole typed line: `yes` or `y` (any case) is yes; anything else, Enter alone or the end
/// of input, is no. One key never decides, and nothing typed spills into the shell.
fn sure(question: &str) -> Result<bool> {
    print!("{question}");
    io::stdout().flush()?;
    let mut line = String::new();
    io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// `trustguide names`: the names remembered from last time, and `--forget` to drop them.
pub(super) fn names(env: &Environment, forget: bool) -> Result<i32> {
    let Some(mut store) = env.existing_store()? else {
        println!("No names are remembered.");
        return Ok(0);
    };
    if forget {
        if trustguide::session::forget_names(&mut store)? {
            println!("The remembered names are forgotten; the next exercise asks for them.");
        } else {
            println!("No names were remembered.");
        }
        return Ok(0);
    }
    let all = trustguide::session::all_remembered_names(&store)?;
    if all.is_empty() {
        println!("No names are remembered. An exercise remembers the names typed for it.");
        return Ok(0);
    }
    println!("Offered at the start of an exercise (pick them, swap them or type others):");
    for (roles, names) in all {
        println!("  {roles}: {}", printable(&names.join(", ")));
    }
    println!("`trustguide names --forget` forgets them; sessions already saved keep their names.");
    Ok(0)
}
