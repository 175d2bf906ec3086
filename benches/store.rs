//! Whole-process benchmarks of the session store.
//!
//! `cargo bench --bench store` builds a store with a generated history of 5,000 sessions of
//! 50 answers each (plus two recorded metrics per partner per session), then times the
//! release binary's `history` and `progress`, and the cost of committing one answer: a
//! 50-question flow run headless with the store, minus the same run with `--no-save`, divided
//! by 50. Figures are recorded in docs/performance.md.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SESSIONS: i64 = 5_000;
const ANSWERS: i64 = 50;
const RUNS: usize = 11;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(dir: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_trustguide"))
        .args(args)
        .current_dir(dir)
        .env("TRUSTGUIDE_HOME", dir.join("home"))
        .env("TRUSTGUIDE_NOW", "2026-11-25T19:30:00+00:00")
        .stdout(Stdio::null())
        .status()
        .expect("runs");
    let elapsed = start.elapsed();
    assert!(status.success(), "trustguide {args:?} failed");
    elapsed
}

fn generate(home: &Path) {
    // The schema comes from the real store; the rows are written in one transaction.
    drop(trustguide::store::Store::open(home).expect("store"));
    let mut conn = rusqlite::Connection::open(home.join("trustguide.db")).expect("open");
    let tx = conn.transaction().expect("tx");
    let people = r#"[{"role":"partner_a","name":"Sam"},{"role":"partner_b","name":"Alex"}]"#;
    for s in 1..=SESSIONS {
        let day = format!(
            "2026-{:02}-{:02}T19:30:00+00:00",
            1 + (s % 12),
            1 + (s % 28)
        );
        tx.execute(
            "INSERT INTO sessions (id, flow, title, started_at, updated_at, clock, people, status, ended_at, flows, snapshot_seq)
             VALUES (?1, 'weekly-progress', 'Weekly progress', ?2, ?2, ?2, ?3, 'completed', 'done', '{}', ?4)",
            rusqlite::params![s, day, people, ANSWERS],
        )
        .expect("session");
        for a in 1..=ANSWERS {
            tx.execute(
                "INSERT INTO events (session_id, seq, at, step, kind, who, prompt, answer) VALUES (?1, ?2, ?3, ?4, 'ask', 'partner_a', 'How close did you feel this week?', ?5)",
                rusqlite::params![s, a, day, format!("q{a}"), format!("\"an answer of a few words, number {a}\"")],
            )
            .expect("event");
        }
        for (metric, person, value) in [
            ("closeness", "Sam", s % 10),
            ("closeness", "Alex", (s * 7) % 10),
            ("checking", "Sam", s % 5),
            ("checking", "Alex", s % 3),
        ] {
            tx.execute(
                "INSERT INTO records (session_id, metric, person, value, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![s, metric, person, value as f64, day],
            )
            .expect("record");
        }
    }
    tx.commit().expect("commit");
}

fn question_flow() -> String {
    let mut s = String::from("flow: fifty\ntitle: Fifty questions\nsteps:\n");
    let mut answers = String::new();
    for i in 1..=ANSWERS {
        s.push_str(&format!(
            "  - id: q{i}\n    ask: text\n    prompt: Question {i}?\n"
        ));
        answers.push_str(&format!("q{i}: answer number {i}\n"));
    }
    s + "#" + &answers.replace('\n', "\n#")
}

fn main() {
    let dir = tempfile::tempdir().expect("temp folder");
    let start = Instant::now();
    generate(&dir.path().join("home"));
    println!(
        "generated {SESSIONS} sessions x {ANSWERS} answers in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let size = std::fs::metadata(dir.path().join("home/trustguide.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("database: {:.1} MB", size as f64 / 1e6);

    let history = median((0..RUNS).map(|_| time(dir.path(), &["history"])).collect());
    println!(
        "history: median {:.1} ms over {RUNS} runs",
        history.as_secs_f64() * 1000.0
    );
    let progress = median((0..RUNS).map(|_| time(dir.path(), &["progress"])).collect());
    println!(
        "progress (all metrics): median {:.1} ms over {RUNS} runs",
        progress.as_secs_f64() * 1000.0
    );
    let one = median(
        (0..RUNS)
            .map(|_| time(dir.path(), &["progress", "closeness"]))
            .collect(),
    );
    println!(
        "progress closeness: median {:.1} ms over {RUNS} runs",
        one.as_secs_f64() * 1000.0
    );

    let flow = question_flow();
    let (flow_text, answers) = flow.split_once('#').expect("split");
    std::fs::write(dir.path().join("fifty.yaml"), flow_text).expect("flow");
    std::fs::write(
        dir.path().join("fifty-answers.yaml"),
        answers.replace("\n#", "\n"),
    )
    .expect("answers");
    let args = ["run", "fifty.yaml", "--answers", "fifty-answers.yaml"];
    let saved = median((0..RUNS).map(|_| time(dir.path(), &args)).collect());
    let unsaved = median(
        (0..RUNS)
            .map(|_| time(dir.path(), &[&args[..], &["--no-save"]].concat()))
            .collect(),
    );
    let per_answer = saved.saturating_sub(unsaved) / ANSWERS as u32;
    println!(
        "50-answer run: {:.1} ms saved, {:.1} ms with --no-save: {:.2} ms per committed answer (with its snapshot, fsync'd)",
        saved.as_secs_f64() * 1000.0,
        unsaved.as_secs_f64() * 1000.0,
        per_answer.as_secs_f64() * 1000.0
    );
}
