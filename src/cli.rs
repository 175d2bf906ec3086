//! Command-line arguments, the environment read once, and the commands.
//!
//! Exit codes (the contract's): 0 completed, stopped or paused; 3 ended by a safety stop;
//! 1 an error (bad flow, bad answers file, storage failure); 2 bad usage (clap); 130 Ctrl-C.

mod author;
mod manual;
mod practice;
mod run;
mod safety;
mod sessions;

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, FixedOffset};
use clap::{Parser, Subcommand, ValueEnum};

use trustguide::content::ContentLibrary;
use trustguide::flow::{Diagnostics, FlowFinder, Library};
use trustguide::run::SafetyHelp;
use trustguide::safety::resources::{region_from_env, Resources};
use trustguide::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "trustguide",
    version,
    about = "Guided exercises for couples rebuilding trust after a betrayal.",
    long_about = "Guided exercises for couples rebuilding trust after a betrayal.\n\n\
        trustguide is educational, not therapy. If anyone is in danger, call your local \
        emergency number. For abuse, severe betrayal or ongoing deception, please work with \
        a licensed therapist."
)]
struct Cli {
    /// What to do; without one, a greeting for a first-time user.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a flow: interactively in a terminal, or headless with --answers.
    Run(RunArgs),
    /// Go on with a paused or interrupted session (the newest one if no id is given).
    Resume(ResumeArgs),
    /// List the exercises you can run, each with its summary.
    List {
        /// Only the exercises with this tag (such as daily, weekly, safety).
        #[arg(long)]
        tag: Option<String>,
    },
    /// Past sessions: date, flow, participants, outcome.
    History {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One past session in full.
    Show {
        id: i64,
        /// Include answers marked private.
        #[arg(long)]
        include_private: bool,
    },
    /// Export a session as Markdown (to bring to a therapist) or JSON.
    Export {
        id: i64,
        #[arg(long, value_enum, default_value = "md")]
        format: ExportFormat,
        /// Include answers marked private.
        #[arg(long)]
        include_private: bool,
        /// Write to this file instead of the screen.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Recorded metrics over time, as a chart (or CSV for a spreadsheet).
    Progress {
        /// One metric (all of them if not given).
        metric: Option<String>,
        #[arg(long, value_enum, default_value = "chart")]
        format: ProgressFormat,
        /// Show at most this many recent sessions per series.
        #[arg(long, default_value_t = 20)]
        last: usize,
    },
    /// Upcoming check-ins from scheduling flows (checkin-schedule); --ics exports them.
    Schedule {
        /// Write the upcoming check-ins as an iCalendar file (with reminders) for a calendar app.
        #[arg(long, value_name = "FILE")]
        ics: Option<PathBuf>,
        /// List every upcoming check-in, not just the next few.
        #[arg(long)]
        all: bool,
    },
    /// Read the content cards: strategies, and answers to common questions.
    Learn {
        /// A topic (`trustguide learn` lists them).
        topic: Option<String>,
    },
    /// Help resources for your region, without running anything.
    HelpNow {
        /// Region (US, CA, UK, IE, AU, NZ, DE, FR, ES, IT, NL, PL, or EU); otherwise TRUSTGUIDE_REGION, the one last given with --region, or the locale.
        #[arg(long, value_name = "R")]
        region: Option<String>,
    },
    /// Safety tools for flow authors.
    #[command(subcommand)]
    Safety(SafetyCommand),
    /// Check flow files for mistakes: every problem, at its line, with a hint.
    Check {
        /// Flow files (or ids of flows `trustguide list` shows).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: author::CheckFormat,
    },
    /// Run the `tests:` of flow files, headless; exit 1 on any failure.
    Test {
        /// Flow files (or ids of flows `trustguide list` shows).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// Report only the cases whose name contains this text.
        #[arg(long, value_name = "NAME")]
        filter: Option<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: author::TestFormat,
    },
    /// Draw a flow: its steps and every way between them, for Mermaid or Graphviz.
    Graph {
        /// A flow id (see `trustguide list`) or a path to a flow file.
        flow: String,
        #[arg(long, value_enum, default_value = "mermaid")]
        format: author::GraphFormat,
    },
    /// Print the JSON Schema of the flow format, for editors.
    Schema,
    /// Explain a diagnostic code of `check` (such as E0201): what it means, an example, the
    /// fix. Without a code, list them all.
    Explain {
        /// The code, as `check` prints it (`E0201`, or `0201`).
        code: Option<String>,
    },
    /// Write a commented starter flow, NAME.yaml, that passes `check` and `test`.
    New {
        /// The new flow's id, which is also its file name (e.g. `weekly-reflection`).
        name: String,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Delete sessions for good.
    Forget {
        /// The session to delete.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Delete every session.
        #[arg(long)]
        all: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// The names remembered from the last exercises, offered at the start of the next one.
    Names {
        /// Forget them (the next exercise asks for names again).
        #[arg(long)]
        forget: bool,
    },
    /// Print a tab-completion script for your shell, e.g.
    /// `trustguide completions bash > ~/.local/share/bash-completion/completions/trustguide`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page, e.g. `trustguide man > trustguide.1 && man -l trustguide.1`.
    Man,
}

#[derive(Debug, Subcommand)]
enum SafetyCommand {
    /// Read lines on standard input; print one JSON object per line: {"text", "categories"}.
    Scan {
        /// Also apply what this flow (and the flows it calls) adds to the profile.
        #[arg(long, value_name = "FLOW")]
        flow: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    Md,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProgressFormat {
    Chart,
    Csv,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// A flow id (see `trustguide list`) or a path to a flow file.
    flow: String,
    /// Names of the participants, in the order of the flow's roles (repeat for each).
    #[arg(long = "as", value_name = "NAME")]
    names: Vec<String>,
    #[command(flatten)]
    io: IoArgs,
    /// Region for help resources (e.g. US, UK, AU); remembered for later sessions.
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Keep nothing of this session on disk.
    #[arg(long)]
    no_save: bool,
}

#[derive(Debug, clap::Args)]
struct ResumeArgs {
    /// The session id (see `trustguide history`); the newest paused or interrupted one if left out.
    session: Option<i64>,
    #[command(flatten)]
    io: IoArgs,
    /// Region for help resources (e.g. US, UK, AU); remembered for later sessions.
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Go on from this step (when the flow changed and the saved step is gone).
    #[arg(long, value_name = "STEP")]
    from: Option<String>,
    /// Take the session over from another trustguide that has it open (when that one is gone,
    /// or on another machine); the other stops at its next answer and saves nothing more.
    #[arg(long)]
    take_over: bool,
}

#[derive(Debug, clap::Args)]
struct IoArgs {
    /// Run headless, taking answers from this YAML file (step id -> answer).
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Write the run's transcript as JSON to this file.
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
    /// Numbered choices and plain line input, for screen readers.
    #[arg(long)]
    plain: bool,
}

/// Folders and settings from the environment, read once.
struct Environment {
    /// Where sessions are stored.
    home: Option<PathBuf>,
    /// Where the user's flows and content live.
    config_dir: Option<PathBuf>,
    /// `TRUSTGUIDE_NOW`, if set.
    fixed_now: Option<DateTime<FixedOffset>>,
    color: bool,
}

impl Environment {
    fn read() -> Result<Environment> {
        let home = std::env::var_os("TRUSTGUIDE_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let dirs = directories::ProjectDirs::from("", "", "trustguide");
        let config_dir = match &home {
            Some(h) => Some(h.clone()),
            None => dirs.as_ref().map(|d| d.config_dir().to_path_buf()),
        };
        let home = home.or_else(|| dirs.as_ref().map(|d| d.data_dir().to_path_buf()));
        let fixed_now = match std::env::var("TRUSTGUIDE_NOW") {
            Ok(text) if !text.is_empty() => Some(DateTime::parse_from_rfc3339(&text).with_context(|| {
                format!("TRUSTGUIDE_NOW: `{text}` is not an RFC 3339 time such as 2026-11-25T19:30:00+00:00")
            })?),
            _ => None,
        };
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ok(Environment {
            home,
            config_dir,
            fixed_now,
            color,
        })
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.fixed_now
            .unwrap_or_else(|| chrono::Local::now().fixed_offset())
    }

    /// A clock for timestamps during a run.
    fn clock(&self) -> Box<dyn Fn() -> DateTime<FixedOffset>> {
        match self.fixed_now {
            Some(t) => Box::new(move || t),
            None => Box::new(|| chrono::Local::now().fixed_offset()),
        }
    }

    fn home(&self) -> Result<&Path> {
        self.home
            .as_deref()
            .ok_or_else(|| anyhow!("no folder for trustguide's data: set TRUSTGUIDE_HOME"))
    }

    fn library(&self) -> Library {
        let local = Path::new("flows");
        let finder = FlowFinder {
            local: local.is_dir().then(|| local.to_path_buf()),
            user: self.config_dir.as_ref().map(|d| d.join("flows")),
        };
        let mut folders = Vec::new();
        if let Some(d) = &self.config_dir {
            folders.push(d.join("content"));
        }
        let local = Path::new("content");
        if local.is_dir() {
            folders.push(local.to_path_buf());
        }
        Library::new(finder, ContentLibrary::new(folders))
    }

    /// The store, if one exists (read-only commands never create it).
    fn existing_store(&self) -> Result<Option<Store>> {
        let store = Store::open_existing(self.home()?)?;
        for notice in store.iter().flat_map(Store::notices) {
            eprintln!("{notice}");
        }
        Ok(store)
    }

    /// The store, created when there is none yet.
    fn store(&self) -> Result<Store> {
        let store = Store::open(self.home()?)?;
        for notice in store.notices() {
            eprintln!("{notice}");
        }
        Ok(store)
    }
}

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// After a session: if the safety encoder could not be loaded (a damaged or missing model
/// file in a development build), say so by name; the phrase patterns screened alone.
fn with_model_warning(result: Result<i32>) -> Result<i32> {
    // A run that screened nothing never compiled the profile: nothing to say, nothing to load.
    if let Some(profile) = trustguide::safety::builtin_profile_if_prepared() {
        if let Some(problem) = profile.model_problem_so_far() {
            eprintln!("warning: {problem}; the phrase patterns screened answers alone");
        }
    }
    result
}

fn dispatch(cli: Cli) -> Result<i32> {
    let env = Environment::read()?;
    if !env.color {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    let Some(command) = cli.command else {
        return greet(&env);
    };
    match command {
        Command::Run(args) => with_model_warning(run::run_flow(&env, args)),
        Command::Resume(args) => with_model_warning(run::resume(&env, args)),
        Command::List { tag } => list(&env, tag.as_deref()),
        Command::History { json } => sessions::history(&env, json),
        Command::Show {
            id,
            include_private,
        } => sessions::show(&env, id, include_private),
        Command::Export {
            id,
            format,
            include_private,
            output,
        } => sessions::export(&env, id, format, include_private, output),
        Command::Progress {
            metric,
            format,
            last,
        } => sessions::progress(&env, metric, format, last),
        Command::Forget { id, all, yes } => sessions::forget(&env, id, all, yes),
        Command::Names { forget } => sessions::names(&env, forget),
        Command::Schedule { ics, all } => practice::schedule(&env, ics, all),
        Command::Learn { topic } => practice::learn(topic.as_deref()),
        Command::HelpNow { region } => safety::help_now(&env, region),
        Command::Safety(SafetyCommand::Scan { flow }) => safety::safety_scan(&env, flow.as_deref()),
        Command::Check { files, format } => author::check(&env, &files, format),
        Command::Test {
            files,
            filter,
            format,
        } => author::test(&env, &files, filter.as_deref(), format),
        Command::New { name, force } => author::new(&name, force),
        Command::Graph { flow, format } => author::graph(&env, &flow, format),
        Command::Schema => author::schema(),
        Command::Explain { code } => author::explain(code.as_deref()),
        Command::Completions { shell } => {
            manual::completions(<Cli as clap::CommandFactory>::command(), shell)
        }
        Command::Man => manual::man(<Cli as clap::CommandFactory>::command()),
    }
}

/// Prints diagnostics and turns them into an error (already reported).
fn report(diags: Diagnostics) -> anyhow::Error {
    let errors = diags.errors().count();
    let styled = console::colors_enabled_stderr();
    for d in &diags.0 {
        eprintln!("{}", d.render(styled));
    }
    anyhow!(
        "the flow could not be loaded ({errors} error{})",
        if errors == 1 { "" } else { "s" }
    )
}

/// The width to wrap printed text to: the terminal's, from 40 to 100 columns, or 80 when the
/// output is not a terminal (so that piped output and tests are stable).
pub(super) fn text_width() -> usize {
    console::Term::stdout()
        .size_checked()
        .map_or(80, |(_, cols)| usize::from(cols))
        .clamp(40, 100)
}

/// Text wrapped to [`text_width`] between words: a word (a command, a path) is never split.
pub(super) fn fill(text: &str) -> String {
    let options = textwrap::Options::new(text_width())
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    text.lines()
        .map(|line| textwrap::fill(line, &options))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A bare `trustguide`: what it is, where help is, three exercises to start with, how to
/// pause, and where to go next; a session left paused is named first.
fn greet(env: &Environment) -> Result<i32> {
    let width = text_width();
    let fill = |text: &str| textwrap::fill(text, width);
    let mut out = BufWriter::new(io::stdout().lock());
    writeln!(
        out,
        "{}",
        fill("trustguide: guided exercises for couples rebuilding trust after a betrayal, at one keyboard.")
    )?;
    writeln!(out)?;
    if let Some(store) = env.existing_store().ok().flatten() {
        if let Ok(saved) = trustguide::session::find_resumable(&store, None) {
            writeln!(
                out,
                "{}",
                fill(&format!(
                    "Session {} ({}, started {}) is waiting: `trustguide resume` goes on with it.",
                    saved.id,
                    saved.title,
                    trustguide::session::day(&saved.started_at)
                ))
            )?;
            writeln!(out)?;
        }
    }
    writeln!(
        out,
        "{}",
        fill("It is an educational tool, not therapy. If anyone is in danger right now, call your local emergency number; `trustguide help-now` lists helplines for your region.")
    )?;
    writeln!(out)?;
    writeln!(out, "Three exercises to start with:")?;
    let lib = env.library();
    let (headers, _) = lib.finder().list();
    for (id, why) in [
        ("listening", "so that each of you feels heard"),
        ("pause-signal", "a word that pauses any exercise"),
        ("daily-checkin", "how each of you is doing, every day"),
    ] {
        let minutes = headers
            .iter()
            .find(|h| h.flow == id)
            .and_then(|h| h.minutes)
            .map(|m| format!(", {m} min"))
            .unwrap_or_default();
        writeln!(out, "  trustguide run {id:15} {why}{minutes}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        fill("During an exercise, type /pause (or your own pause word) at any prompt to stop and save it; `trustguide resume` goes on later. Ctrl-C leaves at once, and every answer given so far is kept.")
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        fill("`trustguide list` shows every exercise, `trustguide learn` the ideas behind them, and `trustguide --help` every command.")
    )?;
    out.flush()?;
    Ok(0)
}

/// `list`: each exercise on a line of its own (id, title, minutes, and where it comes from
/// unless built in), with its summary under it, wrapped to the terminal (80 columns when not
/// one). Tags are for `list --tag`.
fn list(env: &Environment, tag: Option<&str>) -> Result<i32> {
    let lib = env.library();
    let (all, problems) = lib.finder().list();
    let mut tags: Vec<&str> = all
        .iter()
        .flat_map(|h| h.tags.iter().map(String::as_str))
        .collect();
    tags.sort_unstable();
    tags.dedup();
    let headers: Vec<&trustguide::flow::FlowHeader> = all
        .iter()
        .filter(|h| tag.is_none_or(|t| h.tags.iter().any(|x| x.eq_ignore_ascii_case(t))))
        .collect();
    if let (Some(tag), true) = (tag, headers.is_empty()) {
        anyhow::bail!(
            "no exercise has the tag `{tag}`; the tags are: {}",
            tags.join(", ")
        );
    }
    let width = text_width();
    let id_width = headers.iter().map(|h| h.flow.len()).max().unwrap_or(4);
    let mut out = BufWriter::new(io::stdout().lock());
    writeln!(out, "Exercises, to start with `trustguide run ID`:")?;
    for h in &headers {
        let mut parts = vec![h.title.clone()];
        if let Some(m) = h.minutes {
            parts.push(format!("{m} min"));
        }
        match h.origin.as_ref().map_or("", |o| o.kind()) {
            "built-in" | "" => {}
            other => parts.push(format!("from {other}")),
        }
        let first = format!("{:id_width$}  {}", h.flow, parts.join(" · "));
        let indent = " ".repeat(4);
        let wrap = |text: &str, first_indent: &str| {
            textwrap::fill(
                text,
                textwrap::Options::new(width)
                    .initial_indent(first_indent)
                    .subsequent_indent(&indent),
            )
        };
        writeln!(out)?;
        writeln!(out, "{}", wrap(&first, ""))?;
        if !h.summary.trim().is_empty() {
            writeln!(out, "{}", wrap(h.summary.trim(), &indent))?;
        }
    }
    if tag.is_none() && !tags.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            textwrap::fill(
                &format!(
                    "Tags: {}. `trustguide list --tag daily` shows only the daily ones.",
                    tags.join(", ")
                ),
                width
            )
        )?;
    }
    out.flush()?;
    drop(out);
    for p in &problems {
        eprintln!("{p}");
    }
    Ok(0)
}

/// What a safety pause shows, for a run (the same whatever was noticed).
/// The region for help resources: `--region`, else `TRUSTGUIDE_REGION`, else the region last
/// given with `--region` in this data folder, else the locale's.
fn region(flag: Option<&str>, store: Option<&trustguide::store::Store>) -> Result<Option<String>> {
    if let Some(flag) = flag {
        return Ok(Some(flag.to_owned()));
    }
    if let Some(set) = std::env::var("TRUSTGUIDE_REGION")
        .ok()
        .filter(|r| !r.trim().is_empty())
    {
        return Ok(Some(set));
    }
    Ok(trustguide::session::remembered_region(store)?.or_else(region_from_env))
}

fn safety_help(region: Option<&str>) -> Result<SafetyHelp> {
    let resources = Resources::builtin().map_err(|e| anyhow!(e))?;
    let region = region.map(str::to_owned);
    let card = |name: &str| {
        trustguide::content::ContentLibrary::default()
            .get(name)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    Ok(SafetyHelp {
        urgent: resources.urgent(region.as_deref()),
        resources: resources.render(region.as_deref()),
        grounding: card("cards/grounding.md"),
        plan: card("cards/safety-plan.md"),
    })
}
