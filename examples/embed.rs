//! Driving the trustguide engine from Rust, without a terminal.
//!
//! The engine hands out events (something to say, a question, the end) and takes answers
//! back; whatever shows them — a GUI, a chat bot, a test — is yours. Run it with
//! `cargo run --example embed`.

use chrono::DateTime;
use trustguide::engine::{Engine, Event, Reply};
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

    // Scripted answers stand in for whatever your front-end collects.
    let mut answers = vec![
        Reply::Text("tense".into()),
        Reply::Text("a quiet hour".into()),
    ]
    .into_iter();
    loop {
        match engine.next_event()? {
            Event::Say { text, .. } => println!("{text}"),
            Event::Timer { seconds, .. } => println!("(a {seconds}-second pause)"),
            // Show a calm pause and where to get help; the category is for the record only.
            Event::Safety { .. } => println!("{}", trustguide::term::SAFETY_PAUSE_TEXT),
            Event::Ask(question) => {
                let reply = answers.next().ok_or("ran out of answers")?;
                println!("? {}", question.prompt);
                match engine.answer(reply) {
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
