//! Whole-process benchmarks of the engine through the real binary.
//!
//! `cargo bench --bench engine` generates its inputs in a temporary folder, runs the release
//! binary several times and prints the median wall time and the peak memory (max RSS) of the
//! child processes. Figures are recorded in docs/performance.md.
//!
//! - loop: a 6-step flow (say, choice, say, choice, say, choice; templated text and a `set`
//!   in every step) repeated until 100,002 steps were shown, headless from an answers file,
//!   writing a transcript, with `--no-save`. Target: under 200 ms and 50 MB.
//! - list: `trustguide list`. Target: under 5 ms.
//! - check: `trustguide check` on a generated flow of every common step shape, at 300 steps,
//!   10,000 steps and the largest file allowed (4 MiB). Targets (issue 16): 300 steps within
//!   20 ms on one core (`taskset -c 0 cargo bench --bench engine`); 10,000 steps at least 15
//!   times faster than ink's compiler on the same story (`tools/inkbench`, `compile` mode);
//!   the largest file within 100 MB. They run first and smallest first, so the peak memory
//!   printed for each is its own.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ITERATIONS: usize = 16_667; // x 6 steps = 100,002 steps shown
const RUNS: usize = 11;

fn loop_flow() -> String {
    let mut s = String::from("flow: bench-loop\ntitle: Bench loop\nparticipants: [a, b]\nvars: { n: 0, total: 0 }\nsteps:\n");
    for k in 1..=3 {
        let target = if k == 1 { "  - id: intro\n" } else { "  -\n" };
        s.push_str(target);
        s.push_str(&format!(
            "    say: 'Round {{{{ n }}}}, part {k}: {{{{ a }}}} and {{{{ b }}}}.'\n"
        ));
        s.push_str(&format!("    set: {{ total: total + {k} }}\n"));
        s.push_str(&format!("  - id: pick{k}\n    ask: choice\n    prompt: 'Pick {k} of round {{{{ n }}}}, {{{{ a }}}}?'\n"));
        if k == 3 {
            s.push_str("    options: [again, stop]\n    set: { n: n + 1 }\n    next:\n      - when: pick3 == \"again\"\n        goto: intro\n");
        } else {
            s.push_str("    options: [left, right]\n    set: { total: total + 1 }\n");
        }
    }
    s.push_str("  - id: done\n    end: completed\n    say: 'Done after {{ n }} rounds.'\n    record: { rounds: n, total: total }\n");
    s
}

fn loop_answers() -> String {
    let mut s = String::new();
    for k in 1..=2 {
        s.push_str(&format!("pick{k}:\n"));
        for i in 0..ITERATIONS {
            s.push_str(if i % 2 == 0 {
                "  - left\n"
            } else {
                "  - right\n"
            });
        }
    }
    s.push_str("pick3:\n");
    for i in 0..ITERATIONS {
        s.push_str(if i + 1 < ITERATIONS {
            "  - again\n"
        } else {
            "  - stop\n"
        });
    }
    s
}

/// Peak resident memory of the largest finished child so far, in bytes.
fn children_max_rss() -> u64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss() as u64 * 1024)
        .unwrap_or(0)
}

fn measure(name: &str, dir: &Path, args: &[&str]) -> (Duration, u64) {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_trustguide"))
            .args(args)
            .current_dir(dir)
            .env("TRUSTGUIDE_HOME", dir.join("home"))
            .env("TRUSTGUIDE_NOW", "2026-11-25T19:30:00+00:00")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .expect("the binary runs");
        times.push(start.elapsed());
        assert!(status.success(), "{name}: trustguide {args:?} failed");
    }
    times.sort();
    (times[RUNS / 2], children_max_rss())
}

/// The number of steps in the flow `check` is measured on.
const CHECK_STEPS: usize = 10_000;

/// A 10,000-step flow of every common shape: templated texts that use earlier answers, text,
/// choice (with an option that jumps), scale with `set` and a `next` branch, and a confirm
/// every 1,000 steps that can loop back over its block.
fn big_flow(steps: usize) -> String {
    let mut s = String::from(
        "flow: bench-check\ntitle: Check benchmark\nparticipants: [a, b]\nvars: { score: 0 }\nsteps:\n",
    );
    for i in 0..steps - 1 {
        let step = match i % 5 {
            0 => format!("  - id: s{i}\n    say: Part {i} for {{{{ a }}}} and {{{{ b }}}}, score {{{{ score }}}}.\n"),
            1 => format!("  - id: t{i}\n    ask: text\n    who: a\n    prompt: What matters most to you, {{{{ a }}}}?\n"),
            2 => format!(
                "  - id: c{i}\n    ask: choice\n    prompt: Which one?\n    options:\n      - now\n      - later\n      - label: skip ahead\n        goto: {}\n",
                if i + 3 < steps - 1 { format!("s{}", i + 3) } else { "done".to_owned() }
            ),
            3 => format!(
                "  - id: k{i}\n    ask: scale\n    min: 0\n    max: 10\n    prompt: How strong?\n    set: {{ score: \"score + k{i}\" }}\n    next:\n      - when: k{i} > 8 and score > 100\n        goto: {}\n",
                if i + 2 < steps - 1 { format!("s{}", i + 2) } else { "done".to_owned() }
            ),
            _ if i % 1000 == 999 => format!(
                "  - id: again{i}\n    ask: confirm\n    prompt: Go over this part again?\n    next:\n      - when: again{i}\n        goto: s{}\n",
                i - 999
            ),
            _ => format!(
                "  - id: s{i}\n    say: You said {{{{ t{} }}}} and chose {{{{ c{} }}}}.\n",
                i - 3,
                i - 2
            ),
        };
        s.push_str(&step);
    }
    s.push_str("  - id: done\n    end: completed\n    say: Finished with {{ score }}.\n    record: { score: score }\n");
    s
}

/// The benchmark flow at the most steps that fit in a flow file (4 MiB).
fn largest_flow() -> String {
    let per_step = big_flow(1000).len() / 1000;
    let mut steps = trustguide::flow::MAX_FLOW_BYTES as usize / per_step;
    let mut flow = big_flow(steps);
    while flow.len() as u64 > trustguide::flow::MAX_FLOW_BYTES {
        steps -= 500;
        flow = big_flow(steps);
    }
    flow
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    if let Some(keep) = std::env::var_os("BENCH_WRITE_INPUTS_TO") {
        // For profiling: write the inputs to a folder and stop.
        let keep = std::path::PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("folder");
        std::fs::write(keep.join("bench-loop.yaml"), loop_flow()).expect("write flow");
        std::fs::write(keep.join("answers.yaml"), loop_answers()).expect("write answers");
        std::fs::write(keep.join("bench-check.yaml"), big_flow(CHECK_STEPS)).expect("write flow");
        std::fs::write(keep.join("bench-check-300.yaml"), big_flow(300)).expect("write flow");
        std::fs::write(keep.join("bench-check-largest.yaml"), largest_flow()).expect("write flow");
        return;
    }
    std::fs::write(dir.path().join("bench-loop.yaml"), loop_flow()).expect("write flow");
    std::fs::write(dir.path().join("answers.yaml"), loop_answers()).expect("write answers");

    // Peak memory is the largest of all the children so far, so the runs go from the
    // smallest to the largest: the 300-step check (about 12 MB), the loop (about 14 MB), then
    // the big checks. Each figure printed is then that run's own.
    let check = |label: &str, flow: String| {
        std::fs::write(dir.path().join("bench-check.yaml"), &flow).expect("write flow");
        let (time, rss) = measure("check", dir.path(), &["check", "bench-check.yaml"]);
        println!(
            "check, {label} ({:.2} MB of YAML): median {:.1} ms over {RUNS} runs, peak RSS {:.1} MB",
            flow.len() as f64 / 1e6,
            time.as_secs_f64() * 1000.0,
            rss as f64 / 1e6
        );
    };
    check("300 steps, one of the larger real sizes", big_flow(300));

    let (list_time, _) = measure("list", dir.path(), &["list"]);
    println!(
        "list: median {:.2} ms over {RUNS} runs",
        list_time.as_secs_f64() * 1000.0
    );

    let args = [
        "run",
        "bench-loop.yaml",
        "--answers",
        "answers.yaml",
        "--transcript",
        "t.json",
        // This measures the engine and the transcript. With the store, every answer is also
        // committed to disk (`cargo bench --bench store` measures that cost).
        "--no-save",
    ];
    let (loop_time, rss) = measure("loop", dir.path(), &args);
    let transcript =
        std::fs::read_to_string(dir.path().join("t.json")).expect("transcript written");
    // Read without building the events: a parsed 7.8 MB transcript is about 100 MB, which a
    // child started after it would count in its own peak memory (fork copies the mapping).
    #[derive(serde::Deserialize)]
    struct Transcript {
        events: Vec<serde::de::IgnoredAny>,
        records: serde_json::Value,
    }
    let t: Transcript = serde_json::from_str(&transcript).expect("transcript is JSON");
    let events = t.events.len();
    assert_eq!(
        t.records["rounds"], ITERATIONS as u64,
        "the loop ran to the end"
    );
    println!(
        "loop: {events} events ({} steps shown), median {:.1} ms over {RUNS} runs, peak RSS {:.1} MB, transcript {:.1} MB",
        ITERATIONS * 6,
        loop_time.as_secs_f64() * 1000.0,
        rss as f64 / 1_000_000.0,
        transcript.len() as f64 / 1_000_000.0
    );
    drop(transcript);

    check("10,000 steps", big_flow(CHECK_STEPS));
    check("the largest allowed file", largest_flow());
}
