//! Driving the trustguide engine from Rust, without a terminal.
//!
//! The engine hands out events (something to say, a question, the end) and takes answers
//! back; whatever shows them — a GUI, a chat bot, a test — is yours. Run it with
//! `cargo run --example embed`, or give the answers: `cargo run --example embed -- tense "..."`.
//!
//! Every typed answer is screened with the built-in safety profile (`Engine::new` does that;
//! only tests switch it off). An answer that suggests someone is at risk holds the run at
//! `Event::Safety` until you say what the participants chose: handle it, or the loop below
//! would get the same event for ever.

use chrono::DateTime;
use trustguide::engine::{Engine, Event, Reply, SafetyChoice};
use trustguide::flow::{Library, Origin};

const FLOW: &str = r#"
flow: two-questions
title: Two questions
participants: [partner]
vars: { checks: 0 }
steps:
  - say: Hello {{ partner }}.
  - id: feeling
    ask: choice
    prompt: How are you arriving today?
    options: [calm, tense, tired]
    set: { checks: checks + 1 }
  - id: need
    ask: text
    optional: true
    prompt: Anything you need from the other tonight?
  - id: close
    end: completed
    say: "Thank you. You said: {{ feeling }}{% if need %}, and you need: {{ need }}{% endif %}."
    record: { checks: checks }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut lib = Library::builtin();
    let flow = lib.add_source(FLOW, Origin::Path("two-questions.yaml".into()))?;
    let now = DateTime::parse_from_rfc3339("2026-11-25T19:30:00+00:00")?;
    let mut engine = Engine::new(&lib, flow, &["Sam".to_owned()], now)?;

    // Scripted answers (or the command line's) stand in for whatever your front-end collects.
    let given: Vec<String> = std::env::args().skip(1).collect();
    let mut answers = if given.is_empty() {
        vec!["tense".to_owned(), "a quiet hour".to_owned()]
    } else {
        given
    }
    .into_iter()
    .map(Reply::Text);
    loop {
        match engine.next_event()? {
            Event::Say { text, .. } => println!("{text}"),
            Event::Timer { seconds, .. } => println!("(a {seconds}-second pause)"),
            // Show the same calm pause whatever was noticed (the category is for a transcript
            // the user asked for; keep it nowhere else), with where to get help, and say what the participants chose. Going on
            // (`SafetyChoice::Continue`, only when `stop` is false) should take a deliberate
            // confirmation from the person who wrote the answer; this example stops for now.
            // Do not keep the answer that caused the pause: the engine has already withdrawn it.
            Event::Safety { stop, .. } => {
                println!("{}", trustguide::run::SAFETY_PAUSE_TEXT);
                println!("If anyone is in danger right now, call your local emergency number.");
                engine.resolve_safety(if stop {
                    SafetyChoice::End
                } else {
                    SafetyChoice::Pause
                });
            }
            Event::Ask(question) => {
                let reply = answers.next().ok_or("ran out of answers")?;
                println!("? {}", question.prompt);
                match engine.answer(reply) {
                    // The answer paused the run: it is not shown again, nor kept.
                    Ok(_) if engine.holds_for_safety() => {}
                    Ok(accepted) => println!("> {}", accepted.value),
                    // A refused answer leaves the question open, with a message to show.
                    Err(message) => println!("! {message}"),
                }
            }
            Event::Finished(end) => {
                println!(
                    "[{} at {}; records: {:?}]",
                    end.outcome.as_str(),
                    end.ended_at,
                    end.records
                );
                return Ok(());
            }
        }
    }
}
