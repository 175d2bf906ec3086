//! `run` and `resume`: the front-end chosen from the arguments, then one call into the
//! library's [`Session`], and what the end of a session means said on the terminal.

use std::io::{self, BufWriter, IsTerminal};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{anyhow, bail, Context, Result};

use trustguide::engine::Finished;
use trustguide::flow::{Library, Outcome};
use trustguide::private_file::PrivateFile;
use trustguide::run::{DriveError, FrontEnd, PauseSignal, SafetyHelp};
use trustguide::session::{self, Ended, PauseWord, Session, SessionError};
use trustguide::store::Store;
use trustguide::term::headless::{AnswerBook, Headless};
use trustguide::term::terminal::{Mode, Terminal};
use trustguide::transcript::TranscriptWriter;

use super::{region, report, safety_help, Environment, IoArgs, ResumeArgs, RunArgs};

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
            let book = AnswerBook::read(path).map_err(|d| {
                eprintln!("{}", d.render(console::colors_enabled_stderr()));
                anyhow!("the answers file could not be read")
            })?;
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

/// At the keyboard, the safety screen is compiled (and its encoder loaded) while the flow is
/// read and the participants read the first texts, so the first typed answer waits less. A
/// headless run compiles it when its first typed answer needs screening: a run of choices
/// never loads the model.
fn prepare_screen(io: &IoArgs) {
    if io.answers.is_none() {
        trustguide::safety::prepare_builtin_profile();
    }
}

pub(super) fn run_flow(env: &Environment, args: RunArgs) -> Result<i32> {
    prepare_screen(&args.io);
    let mut lib = env.library();
    let index = lib.load(&args.flow).map_err(report)?;
    for w in lib.warnings() {
        eprintln!("{w}");
    }
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
        Some(env.store()?)
    };
    let help = safety_help(region(args.region.as_deref(), store.as_ref())?.as_deref())?;
    if let (Some(store), Some(given), false) = (store.as_mut(), &args.region, args.no_save) {
        session::remember_region(store, given)?;
    }
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
            let remembered = session::remembered_names(store.as_ref(), &flow.participants)?;
            terminal.ask_names(&flow.participants, &args.names, remembered.as_deref())?
        }
        Front::Headless(_) => args.names.clone(),
    };
    if let (Some(store), false) = (store.as_mut(), args.no_save) {
        session::remember_names(store, &flow.participants, &names)?;
    }
    let session = Session::start(&lib, index, &names, now, store.as_mut(), !args.no_save)
        .map_err(session_error)?;
    let ended = run_session(env, session, &mut front, args.io.transcript.as_deref())?;
    Ok(exit_code(&ended.finished))
}

pub(super) fn resume(env: &Environment, args: ResumeArgs) -> Result<i32> {
    prepare_screen(&args.io);
    let Some(mut store) = env.existing_store()? else {
        bail!("there are no saved sessions yet");
    };
    if args.take_over {
        let id = match args.session {
            Some(id) => id,
            None => {
                session::find_resumable(&store, None)
                    .map_err(session_error)?
                    .id
            }
        };
        if let Some(since) = store.take_over(id)? {
            eprintln!("Took session {id} over from the trustguide that had it open since {since}.");
        }
    }
    let saved = session::find_resumable(&store, args.session).map_err(session_error)?;
    let mut lib = env.library();
    let notices_before = session::load_saved_flow(&mut lib, &saved).map_err(session_error)?;
    let help = safety_help(region(args.region.as_deref(), Some(&store))?.as_deref())?;
    if let Some(given) = &args.region {
        session::remember_region(&mut store, given)?;
    }
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
    if let Front::Terminal(terminal) = &mut front {
        terminal.resumed_with(session.last_at_keyboard());
    }
    let place = match &saved.snapshot {
        Some(s) if s.safety_pause.is_some() => {
            "it paused for safety, so first: is everyone safe?".to_owned()
        }
        Some(_) => "going on after the last saved answer".to_owned(),
        None => "starting again from the beginning (no answer was saved)".to_owned(),
    };
    // The day it started in words ("Thursday 3 December 2026, 19:52"), wrapped between words.
    let started = trustguide::store::human_time(&saved.started_at);
    println!(
        "{}",
        super::fill(&format!(
            "Resuming session {}: {}, started {started}; {place}.",
            saved.id, saved.title,
        ))
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
    let shown = |path: &Path| path.display().to_string();
    let mut transcript = match transcript_path {
        Some(path) => {
            // Written to a private temporary file beside it, put in place when the run ends:
            // a run that fails or is killed leaves no half-written transcript.
            let file = PrivateFile::create(path)
                .with_context(|| format!("cannot write the transcript {}", shown(path)))?;
            if let Some(partial) = file.partial_path() {
                trustguide::guard::remove_on_abort(partial);
            }
            Some(TranscriptWriter::start(
                BufWriter::new(file),
                &session.engine().flow().id,
            )?)
        }
        None => None,
    };
    // What Ctrl-C says: where the answers are (or that none are kept).
    INTERRUPTED_SESSION.store(session.id().unwrap_or(NOT_SAVED), Ordering::SeqCst);
    let ended = match session.run(front.as_dyn(), transcript.as_mut(), env.clock()) {
        Ok(ended) => ended,
        Err(e) => {
            // A transcript of a run that failed would be misleading: dropping it removes it.
            drop(transcript);
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
                SessionError::Drive(DriveError::Transcript(io)) => {
                    let path = transcript_path.map(shown).unwrap_or_default();
                    // The OS's reason alone, not the temporary file's name.
                    let reason = io
                        .raw_os_error()
                        .map(|code| io::Error::from_raw_os_error(code).to_string())
                        .unwrap_or_else(|| io.to_string());
                    anyhow!("{path}: the transcript could not be written ({reason}); nothing of it was kept, and the answers saved before are intact")
                }
                other => session_error(other),
            });
        }
    };
    if let (Some(t), Some(path)) = (transcript, transcript_path) {
        let file = t
            .into_inner()
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(PrivateFile::commit)
            .with_context(|| format!("{}: the transcript could not be written", shown(path)))?;
        if let Some(notice) = file {
            eprintln!("{notice}");
        }
    }
    // Wrapped between words at the terminal's width, never inside a command.
    let say = |text: String| println!("{}", super::fill(&text));
    match (&ended.session, &ended.finished.outcome) {
        // The quick exit: nothing more on the screen.
        _ if ended.left_quickly => {}
        (Some(id), Outcome::Paused) => say(format!(
            "Paused and saved. Take a slow breath, and another: nothing needs deciding right now.\n\
             Session {id} is paused. `trustguide resume {id}` goes on from here."
        )),
        (Some(id), Outcome::SafetyStop) if ended.finished.resumable => say(format!(
            "Session {id} is saved. When everyone is safe, `trustguide resume {id}` goes on from here; \
             it asks first whether everyone is safe."
        )),
        (Some(id), Outcome::SafetyStop) => say(format!(
            "Session {id} is kept, and the exercise ends here for today. Another day, when you are both ready, \
             you can start it again."
        )),
        // In a terminal, where to find the session again; a headless run's output is its own.
        (Some(id), Outcome::Completed) if matches!(front, Front::Terminal(_)) => say(format!(
            "Saved as session {id}. `trustguide show {id}` reads it again; \
             `trustguide export {id} -o summary.md` writes a summary you can bring to a therapist."
        )),
        (None, Outcome::Paused) => say(
            "Paused. Nothing of this session was kept (--no-save), so there is nothing to resume: \
             next time the exercise starts from the beginning."
                .to_owned(),
        ),
        _ => {}
    }
    match &ended.pause_word {
        Some(PauseWord::Refused(why)) => say(format!(
            "The pause word was not saved: {why}. `trustguide run pause-signal` chooses another."
        )),
        Some(PauseWord::Saved(word)) => say(format!(
            "Saved. From now on, typing `{word}` (or /pause) at any question pauses and saves the session."
        )),
        Some(PauseWord::NotSaved) => say("The pause word was not saved (--no-save).".to_owned()),
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

/// The session a Ctrl-C interrupts: its id once it is saved, [`NOT_SAVED`] under
/// `--no-save`, 0 before a session has begun.
static INTERRUPTED_SESSION: AtomicI64 = AtomicI64::new(0);
const NOT_SAVED: i64 = -1;

fn interrupted() {
    let term = console::Term::stdout();
    let _ = term.show_cursor();
    let _ = term.write_line("");
    let said = match INTERRUPTED_SESSION.load(Ordering::SeqCst) {
        0 => None,
        NOT_SAVED => Some("Stopped. Nothing of this session was kept (--no-save).".to_owned()),
        id => Some(format!(
            "Stopped. Every answer given so far is saved: `trustguide resume {id}` goes on from here."
        )),
    };
    if let Some(said) = said {
        let _ = term.write_line(&super::fill(&said));
    }
    let _ = term.flush();
}
