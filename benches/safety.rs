//! How long safety screening takes: `cargo bench --bench safety`.
//!
//! Every typed answer is screened before the session goes on, so a scan must never be
//! noticeable at a prompt. This measures, in process: building the profile, scanning a short
//! answer, a long one (2,000 characters) and the longest answer kept (20,000 characters), both
//! made of different sentences, and `trustguide safety scan` throughput on 10,000 lines.
//! Figures go in docs/performance.md.

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trustguide::safety::Profile;

fn per_call(iterations: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed() / iterations
}

fn main() {
    let build = per_call(20, || {
        black_box(Profile::builtin().expect("profile"));
    });
    println!(
        "building the profile: {:.2} ms",
        build.as_secs_f64() * 1000.0
    );

    let profile = Profile::builtin().expect("profile");
    let sentence = "i have been thinking about what happened and i feel tired and sad but we keep trying for the kids, ";
    let short = "you listened to me without interrupting and that meant a lot";
    // Long answers made of different sentences (the safe development lines, in order), so
    // the figure is not flattered by one sentence repeated.
    let varied: Vec<String> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/safety/safe.tsv"
    ))
    .expect("safe lines")
    .lines()
    .filter(|l| !l.starts_with('#'))
    .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_owned()))
    .collect();
    let answer_of = |chars: usize| {
        let mut text = String::new();
        for line in varied.iter().cycle() {
            if text.len() >= chars {
                break;
            }
            text.push_str(line);
            text.push(' ');
        }
        let mut end = chars.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text
    };
    let long = answer_of(2_000);
    let longest = answer_of(20_000);
    for (name, text) in [
        ("short answer (60 chars)", short.to_owned()),
        ("long answer (2,000 chars)", long),
        ("longest answer kept (20,000 chars)", longest),
    ] {
        let t = per_call(200, || {
            black_box(profile.scan(black_box(&text)));
        });
        println!("scan {name}: {:.1} µs", t.as_secs_f64() * 1e6);
    }

    let lines: String = (0..10_000)
        .map(|i| format!("line {i}: {sentence}\n"))
        .collect();
    let start = Instant::now();
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
    let elapsed = start.elapsed();
    println!(
        "trustguide safety scan, 10,000 lines of {} chars: {:.0} ms ({:.0} lines/s)",
        sentence.len() + 9,
        elapsed.as_secs_f64() * 1000.0,
        10_000.0 / elapsed.as_secs_f64()
    );
}
