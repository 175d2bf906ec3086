//! How long the safety screen takes where people feel it: `cargo bench --bench safety`.
//!
//! Every typed answer is screened before the session goes on, so the pause after Enter is
//! the screen's time. This measures, with the release build:
//! - loading the encoder (it happens on a thread while the first question is shown);
//! - p50 and p95 time to screen a 300-character answer and a 2,000-character one, each made
//!   of different ordinary sentences (an ordinary answer is judged in full; a risk can stop
//!   early at a pattern);
//! - the same for answers the encoder leans towards risk on (ordinary sentences, then a line of
//!   violence), where the vote of the nearest training lines is taken as well;
//! - time from starting `trustguide run listening` to its first prompt (the welcome's
//!   "Press Enter to continue") on a real pseudo-terminal, with `--no-save` and saving to an
//!   existing store (`cargo bench --bench safety -- start-up` runs only these two);
//! - peak memory of `trustguide safety scan` with the encoder loaded, and the binary's size.
//!
//! Figures go in docs/performance.md.

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use expectrl::Expect;
use trustguide::safety::Profile;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Ordinary sentences in order, from the development set, to build answers of a length.
fn ordinary_sentences() -> Vec<String> {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/safety/train/i-daily-safe.tsv"
    ))
    .expect("ordinary lines")
    .lines()
    .filter(|l| !l.starts_with('#'))
    .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_owned()))
    .collect()
}

/// Risk lines of one category from the development set, in order.
fn risk_lines(category: &str) -> Vec<String> {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/safety/risk.tsv"
    ))
    .expect("risk lines")
    .lines()
    .filter_map(|l| l.split_once('\t'))
    .filter(|(label, _)| *label == category)
    .map(|(_, t)| t.rsplit('\t').next().unwrap_or(t).to_owned())
    .collect()
}

/// `count` different answers of about `chars` characters each.
fn answers(sentences: &[String], chars: usize, count: usize) -> Vec<String> {
    let mut lines = sentences.iter().cycle();
    (0..count)
        .map(|_| {
            let mut text = String::new();
            while text.len() < chars {
                if let Some(l) = lines.next() {
                    text.push_str(l);
                    text.push_str(". ");
                }
            }
            let mut end = chars;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text
        })
        .collect()
}

fn screen_times(profile: &Profile, answers: &[String]) -> (Duration, Duration) {
    let mut times: Vec<Duration> = answers
        .iter()
        .map(|a| {
            let start = Instant::now();
            black_box(profile.scan(black_box(a)));
            start.elapsed()
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

/// Prints p50 and p95 of screening each answer of `set`, and how many took the vote.
fn report_screen(profile: &Profile, what: &str, set: &[String]) {
    let voted = set
        .iter()
        .filter(|a| profile.judge(a).vote.is_some())
        .count();
    // One warm-up pass, as the first answer of a session also finds the encoder warm after
    // the first question has been read.
    screen_times(profile, &set[..3]);
    let (p50, p95) = screen_times(profile, set);
    println!(
        "screen {what} ({} different answers, {voted} with the vote taken): p50 {:.1} ms, p95 {:.1} ms",
        set.len(),
        ms(p50),
        ms(p95)
    );
}

/// Time from starting `trustguide run listening` to its first prompt on a pseudo-terminal,
/// with `--no-save` or saving the session to a store that already exists (as on any day but
/// the first; the first run creates it, untimed).
fn first_question_times(runs: usize, save: bool) -> Vec<Duration> {
    let home = tempfile::tempdir().expect("temp dir");
    let mut times = Vec::with_capacity(runs);
    for run in 0..=runs {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustguide"));
        cmd.args(["run", "listening", "--as", "Sam", "--as", "Alex"])
            .env("TRUSTGUIDE_HOME", home.path())
            .env("TERM", "xterm");
        if !save {
            cmd.arg("--no-save");
        }
        let start = Instant::now();
        let mut session = expectrl::Session::spawn(cmd).expect("spawn in a pty");
        session.set_expect_timeout(Some(Duration::from_secs(20)));
        if let Err(e) = session.expect("Press Enter to continue") {
            // Report it instead of losing the other figures.
            println!("the first prompt did not appear: {e:?}");
            return Vec::new();
        }
        if run > 0 {
            times.push(start.elapsed());
        }
        let _ = session
            .get_process_mut()
            .kill(expectrl::process::unix::Signal::SIGKILL);
    }
    times.sort();
    times
}

/// The start-up cases: `cargo bench --bench safety -- start-up` runs only these.
fn start_up() {
    for (save, how) in [(false, "--no-save"), (true, "saving to an existing store")] {
        let times = first_question_times(21, save);
        if !times.is_empty() {
            println!(
                "trustguide run listening to its first prompt, {how} (pseudo-terminal, 21 runs): p50 {:.1} ms, p95 {:.1} ms",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95))
            );
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "start-up") {
        start_up();
        return;
    }
    // Loading: the profile is ready at once; the encoder on its thread.
    let mut loads = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let profile = Profile::builtin().expect("profile");
        let ready = start.elapsed();
        assert!(profile.model_problem().is_none(), "the model loads");
        loads.push((ready, start.elapsed()));
    }
    loads.sort();
    let (ready, loaded) = loads[loads.len() / 2];
    println!(
        "profile ready to show the first question: {:.2} ms; encoder loaded on its thread: {:.0} ms",
        ms(ready),
        ms(loaded)
    );

    let profile = Profile::builtin().expect("profile");
    assert!(profile.model_problem().is_none());
    let sentences = ordinary_sentences();
    for (chars, count) in [(300, 100), (2_000, 40)] {
        let set = answers(&sentences, chars, count);
        report_screen(&profile, &format!("a {chars}-character answer"), &set);
    }

    // Answers the encoder leans on, so that the vote of the nearest training lines is taken:
    // ordinary sentences, then a line of violence told plainly (no firm pattern: those pause
    // before any encoder reads the answer).
    let told = risk_lines("violence");
    for (chars, count) in [(300_usize, 40), (2_000, 20)] {
        let set: Vec<String> = answers(&sentences, chars.saturating_sub(90), count)
            .into_iter()
            .zip(told.iter().cycle())
            .map(|(ordinary, risk)| format!("{ordinary} {risk}"))
            .collect();
        report_screen(
            &profile,
            &format!("a {chars}-character answer the encoder leans on"),
            &set,
        );
    }

    start_up();

    let lines: String = answers(&sentences, 300, 50).join("\n") + "\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustguide"))
        .args(["safety", "scan"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write");
    assert!(child.wait().expect("wait").success());
    let rss = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss() as u64 * 1024)
        .unwrap_or(0);
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_trustguide"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "peak memory, safety scan of 50 answers: {:.1} MB; binary size: {:.1} MB",
        rss as f64 / 1e6,
        size as f64 / 1e6
    );
}
