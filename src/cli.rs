//! Command-line arguments, resolved into what the commands need, and the commands themselves.
//!
//! Exit codes (the contract's): 0 completed, stopped or paused; 3 ended by a safety stop;
//! 1 an error (bad flow, bad answers file); 2 bad usage (clap); 130 interrupted by Ctrl-C.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, FixedOffset};
use clap::{Parser, Subcommand};

use trustguide::content::ContentLibrary;
use trustguide::engine::Engine;
use trustguide::flow::{Diagnostics, FlowFinder, Library, Outcome};
use trustguide::term::headless::{AnswerBook, Headless};
use trustguide::term::terminal::{Mode, Terminal};
use trustguide::term::{drive, DriveError};
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
    /// List the flows you can run, with where each comes from.
    List,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// A flow id (see `trustguide list`) or a path to a flow file.
    flow: String,
    /// Names of the participants, in the order of the flow's roles (repeat for each).
    #[arg(long = "as", value_name = "NAME")]
    names: Vec<String>,
    /// Run headless, taking answers from this YAML file (step id -> answer).
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Write the run's transcript as JSON to this file.
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
    /// Region for help resources (e.g. US, UK, AU).
    #[arg(long, value_name = "R")]
    region: Option<String>,
    /// Keep nothing of this session on disk.
    #[arg(long)]
    no_save: bool,
    /// Numbered choices and plain line input, for screen readers.
    #[arg(long)]
    plain: bool,
}

/// Folders and settings from the environment, read once.
struct Environment {
    home: Option<PathBuf>,
    config_dir: Option<PathBuf>,
    now: DateTime<FixedOffset>,
    color: bool,
}

impl Environment {
    fn read() -> Result<Environment> {
        let home = std::env::var_os("TRUSTGUIDE_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        let config_dir = match &home {
            Some(h) => Some(h.clone()),
            None => directories::ProjectDirs::from("", "", "trustguide")
                .map(|d| d.config_dir().to_path_buf()),
        };
        let now = match std::env::var("TRUSTGUIDE_NOW") {
            Ok(text) if !text.is_empty() => DateTime::parse_from_rfc3339(&text)
                .with_context(|| format!("TRUSTGUIDE_NOW: `{text}` is not an RFC 3339 time such as 2026-11-25T19:30:00+00:00"))?,
            _ => chrono::Local::now().fixed_offset(),
        };
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ok(Environment {
            home,
            config_dir,
            now,
            color,
        })
    }

    fn finder(&self) -> FlowFinder {
        let local = Path::new("flows");
        FlowFinder {
            local: local.is_dir().then(|| local.to_path_buf()),
            user: self.config_dir.as_ref().map(|d| d.join("flows")),
        }
    }

    fn content(&self) -> ContentLibrary {
        let mut folders = Vec::new();
        if let Some(d) = &self.config_dir {
            folders.push(d.join("content"));
        }
        let local = Path::new("content");
        if local.is_dir() {
            folders.push(local.to_path_buf());
        }
        ContentLibrary::new(folders)
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
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    let env = Environment::read()?;
    if !env.color {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
    match cli.command {
        Command::Run(args) => run_flow(&env, args),
        Command::List => list(&env),
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

fn run_flow(env: &Environment, args: RunArgs) -> Result<i32> {
    let _ = (&args.region, args.no_save, &env.home);
    let mut lib = Library::new(env.finder(), env.content());
    let index = lib.load(&args.flow).map_err(report)?;
    for w in lib.warnings() {
        eprintln!("{w}");
    }
    let flow = lib.flow(index);
    if args.names.len() > flow.participants.len() {
        return Err(anyhow!(
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
        ));
    }

    let transcript = match &args.transcript {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot write the transcript {}", path.display()))?;
            Some(TranscriptWriter::start(BufWriter::new(file), &flow.id)?)
        }
        None => None,
    };

    let result = match &args.answers {
        Some(path) => {
            let book = AnswerBook::read(path).map_err(|d| anyhow!("{d}"))?;
            book.check_keys(&lib, index).map_err(|m| anyhow!(m))?;
            let mut engine = Engine::new(&lib, index, &args.names, env.now)?;
            let stdout = io::stdout().lock();
            let mut front = Headless::new(book, BufWriter::new(stdout));
            let result = drive(&mut engine, &mut front, transcript);
            let unused = front.book().unused();
            if result.is_ok() && !unused.is_empty() {
                eprintln!(
                    "note: {}: some answers were not used, for step{} {}",
                    path.display(),
                    if unused.len() == 1 { "" } else { "s" },
                    unused
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            result
        }
        None => {
            if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
                if let Some(path) = &args.transcript {
                    let _ = std::fs::remove_file(path);
                }
                return Err(anyhow!(
                    "`trustguide run {}` needs a terminal to ask its questions; \
                     to run without one, give the answers in a file with --answers FILE",
                    args.flow
                ));
            }
            install_interrupt_handler();
            let mode = if args.plain { Mode::Plain } else { Mode::Rich };
            let mut front = Terminal::new(mode, env.color, env.now.date_naive());
            match flow.minutes {
                Some(m) => println!("{} · about {m} minutes", flow.title),
                None => println!("{}", flow.title),
            }
            let names = front.ask_names(&flow.participants, &args.names)?;
            let mut engine = Engine::new(&lib, index, &names, env.now)?;
            drive(&mut engine, &mut front, transcript)
        }
    };

    match result {
        Ok((finished, _)) => Ok(match finished.outcome {
            Outcome::SafetyStop => 3,
            _ => 0,
        }),
        Err(e) => {
            // A transcript of a run that failed would be misleading; leave none behind.
            if let Some(path) = &args.transcript {
                let _ = std::fs::remove_file(path);
            }
            Err(match e {
                // Ctrl-C inside a line editor arrives as an interrupted read, not a signal.
                DriveError::Io(io) if io.kind() == io::ErrorKind::Interrupted => {
                    interrupted();
                    return Ok(130);
                }
                DriveError::Io(io) => anyhow!(io).context("terminal input/output failed"),
                other => anyhow!(other),
            })
        }
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
    let (headers, problems) = env.finder().list();
    let mut out = io::stdout().lock();
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
    drop(out);
    for p in &problems {
        eprintln!("{p}");
    }
    Ok(0)
}
