//! Command-line arguments, the environment read once, and the commands.
//!
//! Exit codes (the contract's): 0 completed, stopped or paused; 3 ended by a safety stop;
//! 1 an error (bad flow, bad answers file, storage failure); 2 bad usage (clap); 130 Ctrl-C.

mod author;
mod practice;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, FixedOffset};
use clap::{Parser, Subcommand, ValueEnum};

use trustguide::content::ContentLibrary;
use trustguide::engine::Finished;
use trustguide::flow::{Diagnostics, FlowFinder, Library, Outcome};
use trustguide::run::{DriveError, FrontEnd, PauseSignal, SafetyHelp};
use trustguide::safety::builtin_profile;
use trustguide::safety::resources::{region_from_env, Resources};
use trustguide::session::{self, day, Ended, PauseWord, Session, SessionError};
use trustguide::store::{export_json, export_markdown, status_words, ProgressChart, Store};
use trustguide::term::headless::{AnswerBook, Headless};
use trustguide::term::terminal::{Mode, Terminal};
use trustguide::transcript::TranscriptWriter;

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a flow: interactively in a terminal, or headless with --answers.
    Run(RunArgs),
    /// Go on with a paused or interrupted session (the newest one if no id is given).
    Resume(ResumeArgs),
    /// List the flows you can run, with where each comes from.
    List,
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
        /// Region (US, CA, UK, IE, AU, NZ); otherwise TRUSTGUIDE_REGION or the locale.
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
    /// Region for help resources (e.g. US, UK, AU).
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
    /// Go on from this step (when the flow changed and the saved step is gone).
    #[arg(long, value_name = "STEP")]
    from: Option<String>,
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
        Ok(Store::open_existing(self.home()?)?)
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
    if let Ok(profile) = builtin_profile() {
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
    match cli.command {
        Command::Run(args) => with_model_warning(run_flow(&env, args)),
        Command::Resume(args) => with_model_warning(resume(&env, args)),
        Command::List => list(&env),
        Command::History { json } => history(&env, json),
        Command::Show {
            id,
            include_private,
        } => show(&env, id, include_private),
        Command::Export {
            id,
            format,
            include_private,
            output,
        } => export(&env, id, format, include_private, output),
        Command::Progress {
            metric,
            format,
            last,
        } => progress(&env, metric, format, last),
        Command::Forget { id, all, yes } => forget(&env, id, all, yes),
        Command::Schedule { ics, all } => practice::schedule(&env, ics, all),
        Command::Learn { topic } => practice::learn(topic.as_deref()),
        Command::HelpNow { region } => help_now(region),
        Command::Safety(SafetyCommand::Scan { flow }) => safety_scan(&env, flow.as_deref()),
        Command::Check { files, format } => author::check(&env, &files, format),
        Command::Test { files } => author::test(&env, &files),
        Command::New { name, force } => author::new(&name, force),
        Command::Graph { flow, format } => author::graph(&env, &flow, format),
        Command::Schema => author::schema(),
    }
}

/// Prints diagnostics and turns them into an error (already reported).
fn report(diags: Diagnostics) -> anyhow::Error {
    let errors = diags.errors().count();
    for d in &diags.0 {
        eprintln!("{d}");
    }
    anyhow!(
        "the flow could not be loaded ({errors} error{})",
        if errors == 1 { "" } else { "s" }
    )
}

/// What a safety pause shows, for a run (the same whatever was noticed).
fn safety_help(region: Option<&str>) -> Result<SafetyHelp> {
    let resources = Resources::builtin().map_err(|e| anyhow!(e))?;
    let region = region.map(str::to_owned).or_else(region_from_env);
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

fn help_now(region: Option<String>) -> Result<i32> {
    let resources = Resources::builtin().map_err(|e| anyhow!(e))?;
    let region = region.or_else(region_from_env);
    println!("{}", resources.render(region.as_deref()));
    Ok(0)
}

/// `safety scan`: one JSON object per input line, for authors testing what pauses a session.
fn safety_scan(env: &Environment, flow: Option<&str>) -> Result<i32> {
    use std::io::BufRead;
    let profile = builtin_profile()?;
    if let Some(problem) = profile.model_problem() {
        eprintln!("warning: {problem}; the phrase patterns screen alone");
    }
    let mut lib = env.library();
    if let Some(flow) = flow {
        lib.load(flow).map_err(report)?;
    }
    let additions: Vec<&trustguide::flow::FlowSafety> =
        (0..lib.len()).map(|i| &lib.flow(i).safety).collect();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut input = io::stdin().lock();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        let text = match std::str::from_utf8(&line) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => {
                eprintln!("note: line {number} is not UTF-8; it was scanned with the invalid bytes replaced");
                String::from_utf8_lossy(&line)
            }
        };
        let judgement = profile.judge(&text);
        let mut categories = judgement.categories;
        for extra in &additions {
            if let Some(d) = &extra.detector {
                for c in d.scan(&text) {
                    if !categories.contains(&c) {
                        categories.push(c);
                    }
                }
            }
        }
        #[derive(serde::Serialize)]
        struct Line<'a> {
            text: &'a str,
            categories: Vec<&'a str>,
            /// The encoder's risk (1 − P(ordinary)) for the answer's most worrying span.
            #[serde(skip_serializing_if = "Option::is_none")]
            risk: Option<f32>,
            /// The encoder's risk for the whole answer alone.
            #[serde(skip_serializing_if = "Option::is_none")]
            whole_risk: Option<f32>,
            /// What the phrase patterns and hints found, before the encoder weighed them.
            patterns: Vec<&'a str>,
        }
        serde_json::to_writer(
            &mut out,
            &Line {
                text: &text,
                categories,
                risk: judgement.risk.map(|r| (r * 1000.0).round() / 1000.0),
                whole_risk: judgement.whole.map(|r| (r * 1000.0).round() / 1000.0),
                patterns: judgement.patterns,
            },
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(0)
}

/// The front-end of a run.
enum Front {
    Headless(Headless<BufWriter<io::Stdout>>),
    Terminal(Terminal),
}

impl Front {
    fn as_dyn(&mut self) -> &mut dyn FrontEnd {
        match self {
            Front::Headless(h) => h,
            Front::Terminal(t) => t,
        }
    }
}

/// The front-end for a run: headless from an answers file, or the terminal.
fn front_end(
    env: &Environment,
    io_args: &IoArgs,
    what: &str,
    today: chrono::NaiveDate,
    help: &SafetyHelp,
    flow: (&Library, usize),
    pause: PauseSignal,
) -> Result<Front> {
    match &io_args.answers {
        Some(path) => {
            // Read once, and checked against the flow before anything is saved.
            let book = AnswerBook::read(path).map_err(|d| anyhow!("{d}"))?;
            book.check_keys(flow.0, flow.1).map_err(|m| anyhow!(m))?;
            Ok(Front::Headless(
                Headless::new(book, BufWriter::new(io::stdout()))
                    .with_pause_signal(pause)
                    .with_help(help.clone()),
            ))
        }
        None => {
            if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
                bail!(
                    "`trustguide {what}` needs a terminal to ask its questions; \
                     to run without one, give the answers in a file with --answers FILE"
                );
            }
            install_interrupt_handler();
            let mode = if io_args.plain {
                Mode::Plain
            } else {
                Mode::Rich
            };
            Ok(Front::Terminal(
                Terminal::new(mode, env.color, today)
                    .with_help(help.clone())
                    .with_pause_signal(pause),
            ))
        }
    }
}

fn run_flow(env: &Environment, args: RunArgs) -> Result<i32> {
    // Compiled while the flow is read and the store opened: the first question waits less.
    trustguide::safety::prepare_builtin_profile();
    let mut lib = env.library();
    let index = lib.load(&args.flow).map_err(report)?;
    for w in lib.warnings() {
        eprintln!("{w}");
    }
    let help = safety_help(args.region.as_deref())?;
    let flow = lib.flow(index);
    if args.names.len() > flow.participants.len() {
        bail!(
            "flow `{}` has {} role{} ({}), but {} names were given with --as",
            flow.id,
            flow.participants.len(),
            if flow.participants.len() == 1 {
                ""
            } else {
                "s"
            },
            flow.participants.join(", "),
            args.names.len()
        );
    }
    let now = env.now();
    // Open the store before asking anything: a problem with it is reported up front. With
    // --no-save an existing store is only read (the pause word, last time's metrics).
    let mut store = if args.no_save {
        Store::open_existing(env.home()?)?
    } else {
        Some(Store::open(env.home()?)?)
    };
    let pause = session::pause_signal(store.as_ref())?;
    let mut front = front_end(
        env,
        &args.io,
        &format!("run {}", args.flow),
        now.date_naive(),
        &help,
        (&lib, index),
        pause,
    )?;
    let names = match &mut front {
        Front::Terminal(terminal) => {
            // With --no-save there is nothing for the quick exit to offer to delete.
            terminal.offer_to_forget(!args.no_save);
            match flow.minutes {
                Some(m) => println!("{} · about {m} minutes", flow.title),
                None => println!("{}", flow.title),
            }
            terminal.ask_names(&flow.participants, &args.names)?
        }
        Front::Headless(_) => args.names.clone(),
    };
    let session = Session::start(&lib, index, &names, now, store.as_mut(), !args.no_save)
        .map_err(session_error)?;
    let ended = run_session(env, session, &mut front, args.io.transcript.as_deref())?;
    Ok(exit_code(&ended.finished))
}

fn resume(env: &Environment, args: ResumeArgs) -> Result<i32> {
    trustguide::safety::prepare_builtin_profile();
    let Some(mut store) = env.existing_store()? else {
        bail!("there are no saved sessions yet");
    };
    let saved = session::find_resumable(&store, args.session).map_err(session_error)?;
    let mut lib = env.library();
    let notices_before = session::load_saved_flow(&mut lib, &saved).map_err(session_error)?;
    let help = safety_help(None)?;
    let root = lib
        .index_of(&saved.flow)
        .ok_or_else(|| anyhow!("flow `{}` is not available", saved.flow))?;
    let pause = session::pause_signal(Some(&store))?;
    let mut front = front_end(
        env,
        &args.io,
        "resume",
        saved.clock.date_naive(),
        &help,
        (&lib, root),
        pause,
    )?;
    let session = Session::resume(
        &lib,
        &saved,
        &mut store,
        args.from.as_deref(),
        front.as_dyn(),
        env.now(),
    )
    .map_err(session_error)?;
    let place = match (&saved.snapshot, &saved.step) {
        (Some(s), Some(step)) if s.safety_pause.is_some() => {
            format!("it paused for safety at step `{step}`, so first: is everyone safe?")
        }
        (Some(_), Some(step)) => format!("going on after the last saved answer, at step `{step}`"),
        _ => "starting again from the beginning (no answer was saved)".to_owned(),
    };
    println!(
        "Resuming session {}: {} ({}), started {}; {place}.",
        saved.id,
        saved.title,
        saved.flow,
        day(&saved.started_at)
    );
    for n in notices_before.iter().chain(session.notices()) {
        println!("{n}");
    }
    let ended = run_session(env, session, &mut front, args.io.transcript.as_deref())?;
    Ok(exit_code(&ended.finished))
}

/// A session's failure as the command's error; a flow that did not load lists its problems.
fn session_error(e: SessionError) -> anyhow::Error {
    match e {
        SessionError::Flow(diags) => report(diags),
        other => anyhow!(other),
    }
}

/// Runs a session with a transcript when asked for, and says what its end means.
fn run_session(
    env: &Environment,
    session: Session<'_, '_>,
    front: &mut Front,
    transcript_path: Option<&Path>,
) -> Result<Ended> {
    let mut transcript = match transcript_path {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot write the transcript {}", path.display()))?;
            Some(TranscriptWriter::start(
                BufWriter::new(file),
                &session.engine().flow().id,
            )?)
        }
        None => None,
    };
    let ended = match session.run(front.as_dyn(), transcript.as_mut(), env.clock()) {
        Ok(ended) => ended,
        Err(e) => {
            // A transcript of a run that failed would be misleading; leave none behind.
            drop(transcript);
            if let Some(path) = transcript_path {
                let _ = std::fs::remove_file(path);
            }
            return Err(match e {
                // Ctrl-C inside a line editor arrives as an interrupted read, not a signal.
                SessionError::Drive(DriveError::Io(io))
                    if io.kind() == io::ErrorKind::Interrupted =>
                {
                    interrupted();
                    std::process::exit(130);
                }
                SessionError::Drive(DriveError::Io(io)) => {
                    anyhow!(io).context("terminal input/output failed")
                }
                other => session_error(other),
            });
        }
    };
    match (&ended.session, &ended.finished.outcome) {
        // The quick exit: nothing more on the screen.
        _ if ended.left_quickly => {}
        (Some(id), Outcome::Paused) => println!(
            "Paused and saved. Take a slow breath, and another: nothing needs deciding right now.\n\
             Session {id} is paused. `trustguide resume {id}` goes on from here."
        ),
        (Some(id), Outcome::SafetyStop) if ended.finished.resumable => println!(
            "Session {id} is saved. When everyone is safe, `trustguide resume {id}` goes on from here; \
             it asks first whether everyone is safe."
        ),
        (Some(id), Outcome::SafetyStop) => println!(
            "Session {id} is kept, and the exercise ends here for today. Another day, when you are both ready, \
             you can start it again."
        ),
        _ => {}
    }
    match &ended.pause_word {
        Some(PauseWord::Refused(why)) => println!(
            "The pause word was not saved: {why}. `trustguide run pause-signal` chooses another."
        ),
        Some(PauseWord::Saved(word)) => println!(
            "Saved. From now on, typing `{word}` (or /pause) at any question pauses and saves the session."
        ),
        Some(PauseWord::NotSaved) => println!("The pause word was not saved (--no-save)."),
        None => {}
    }
    Ok(ended)
}

fn exit_code(finished: &Finished) -> i32 {
    match finished.outcome {
        Outcome::SafetyStop => 3,
        _ => 0,
    }
}

/// Ctrl-C: put the cursor back (menus hide it) and leave with the conventional code 130.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        interrupted();
        std::process::exit(130);
    });
}

fn interrupted() {
    let term = console::Term::stdout();
    let _ = term.show_cursor();
    let _ = term.write_line("");
    let _ = term.flush();
}

fn list(env: &Environment) -> Result<i32> {
    let lib = env.library();
    let (headers, problems) = lib.finder().list();
    let mut out = BufWriter::new(io::stdout().lock());
    let id_width = headers
        .iter()
        .map(|h| h.flow.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let title_width = headers
        .iter()
        .map(|h| h.title.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(
        out,
        "{:id_width$}  {:title_width$}  {:>4}  {:10}  TAGS",
        "FLOW", "TITLE", "MIN", "SOURCE"
    )?;
    for h in &headers {
        let minutes = h
            .minutes
            .map(|m| m.to_string())
            .unwrap_or_else(|| "-".into());
        let source = h.origin.as_ref().map_or("", |o| o.kind());
        writeln!(
            out,
            "{:id_width$}  {:title_width$}  {:>4}  {:10}  {}",
            h.flow,
            h.title,
            minutes,
            source,
            h.tags.join(", ")
        )?;
    }
    out.flush()?;
    drop(out);
    for p in &problems {
        eprintln!("{p}");
    }
    Ok(0)
}

fn history(env: &Environment, json: bool) -> Result<i32> {
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
            ("paused", Some(step)) => format!("paused at {step}"),
            (status, _) => status_words(status).to_owned(),
        };
        writeln!(
            out,
            "{:>5}  {:10}  {:flow_width$}  {:people_width$}  {outcome}",
            s.id,
            day(&s.started_at),
            s.flow,
            s.people.join(", ")
        )?;
    }
    out.flush()?;
    Ok(0)
}

fn open_for_session(env: &Environment, id: i64) -> Result<Store> {
    env.existing_store()?
        .ok_or_else(|| anyhow!("no session {id}: there are no saved sessions yet"))
}

fn show(env: &Environment, id: i64, include_private: bool) -> Result<i32> {
    let store = open_for_session(env, id)?;
    let detail = store.session(id)?;
    print!("{}", export_markdown(&detail, include_private));
    Ok(0)
}

fn export(
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

/// Exports hold intimate answers: they are created readable by their owner only.
fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn progress(
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
            ProgressChart::render(&points, width, last)
        }
    };
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(0)
}

fn forget(env: &Environment, id: Option<i64>, all: bool, yes: bool) -> Result<i32> {
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
        let sure = dialoguer::Confirm::new()
            .with_prompt(format!("Delete {what} for good? This cannot be undone"))
            .default(false)
            .interact()?;
        if !sure {
            println!("Nothing was deleted.");
            return Ok(0);
        }
    }
    match (id, all) {
        (Some(id), _) => store.forget(id)?,
        (None, true) => {
            store.forget_all()?;
        }
        (None, false) => unreachable!("clap requires an id or --all"),
    }
    println!("Deleted {what}.");
    Ok(0)
}
