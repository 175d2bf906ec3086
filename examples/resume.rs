//! A front-end of your own that keeps sessions and resumes them: the library does the rest.
//!
//! `cargo run --example resume -- FOLDER` starts a short exercise, reading each answer as a
//! line from standard input and keeping the session in FOLDER (a trustguide store, created
//! owner-only). Type `/pause` to stop: the answers so far are saved. Run it again with the
//! same FOLDER and it goes on with the paused session, after its last saved answer.
//!
//! Everything a session needs (the engine, the store, restoring after a flow edit, the safety
//! pause, the pause word) is in the library: this file only shows text and reads lines.

use std::io::{self, BufRead, Write};

use trustguide::engine::{Finished, Person, Progress, Question, Reply, SafetyChoice};
use trustguide::flow::{Library, Origin};
use trustguide::run::{DriveError, FrontEnd, Input, SAFETY_PAUSE_TEXT};
use trustguide::session::{find_resumable, Session, SessionError};
use trustguide::store::Store;
use trustguide::transcript::TranscriptWriter;

const FLOW: &str = r#"
flow: evening-note
title: An evening note
participants: [partner]
steps:
  - say: Two short questions, {{ partner }}. Type /pause to stop and come back later.
  - id: went_well
    ask: text
    prompt: One thing that went well today?
  - id: ahead
    ask: text
    prompt: One thing you look forward to tomorrow?
  - end: completed
    say: "Thank you. Today: {{ went_well }}. Tomorrow: {{ ahead }}."
"#;

/// The smallest front-end: lines out, lines in.
struct Lines<R: BufRead> {
    input: R,
}

impl<R: BufRead> FrontEnd for Lines<R> {
    fn say(&mut self, _step: &str, text: &str, _progress: Progress) -> Result<(), DriveError> {
        println!("{text}");
        Ok(())
    }

    fn timer(&mut self, _step: &str, seconds: u32) -> Result<(), DriveError> {
        println!("(take {seconds} seconds)");
        Ok(())
    }

    fn ask(&mut self, question: &Question<'_>, problem: Option<&str>) -> Result<Input, DriveError> {
        if let Some(problem) = problem {
            println!("{problem}");
        }
        print!("{} ", question.prompt);
        io::stdout().flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            return Err(DriveError::InputClosed(question.step.clone()));
        }
        let line = line.trim_end_matches(['\n', '\r']);
        println!();
        Ok(if line.trim() == "/pause" {
            Input::Pause
        } else {
            Input::Reply(Reply::Text(line.to_owned()))
        })
    }

    // Show the same calm pause whatever was noticed, and where to find help. A real
    // front-end asks the person who wrote the answer, alone, whether everyone is safe before
    // offering to go on; this one pauses, which keeps the session to come back to.
    fn safety_stop(
        &mut self,
        _step: &str,
        stop: bool,
        _who: Option<&Person>,
    ) -> Result<SafetyChoice, DriveError> {
        println!("{SAFETY_PAUSE_TEXT}");
        println!("If anyone is in danger right now, call your local emergency number.");
        Ok(if stop {
            SafetyChoice::End
        } else {
            SafetyChoice::Pause
        })
    }

    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError> {
        println!("[{}]", finished.outcome.as_str());
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::args()
        .nth(1)
        .ok_or("usage: cargo run --example resume -- FOLDER")?;
    let mut store = Store::open(folder.as_ref())?;
    let mut lib = Library::builtin();
    let flow = lib.add_source(FLOW, Origin::Path("evening-note.yaml".into()))?;
    let now = chrono::Local::now().fixed_offset();
    let mut front = Lines {
        input: io::stdin().lock(),
    };

    let session = match find_resumable(&store, None) {
        Ok(saved) => {
            println!(
                "Going on with session {} (started {}).",
                saved.id, saved.started_at
            );
            Session::resume(&lib, &saved, &mut store, None, &mut front, now)?
        }
        // No paused session (or the newest one has ended): start a new one.
        Err(SessionError::NoSession(_) | SessionError::AlreadyEnded { .. }) => {
            Session::start(&lib, flow, &["Sam".to_owned()], now, Some(&mut store), true)?
        }
        Err(e) => return Err(e.into()),
    };
    let clock = Box::new(|| chrono::Local::now().fixed_offset());
    let ended = session.run(&mut front, None::<&mut TranscriptWriter<io::Sink>>, clock)?;
    if let Some(id) = ended.session {
        println!("session {id}: {}", ended.finished.outcome.as_str());
    }
    Ok(())
}
