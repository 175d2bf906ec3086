//! Nothing lost, nothing leaked: killed runs, two resumes at once, runaway templates, file
//! modes, full disks, file-size limits and answers that carry terminal escapes.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{binary, Test, NOW};

/// A long flow of number questions (a headless run of it loads no safety model, so it is
/// quick), with a text shown every ten answers and a metric recorded at the end.
fn long_flow(steps: usize) -> String {
    let mut flow = String::from("flow: long\ntitle: A long run\nsteps:\n");
    for i in 0..steps {
        flow.push_str(&format!(
            "  - id: q{i}\n    ask: number\n    prompt: Question {i}?\n"
        ));
        if i % 10 == 0 {
            flow.push_str(&format!(
                "  - id: s{i}\n    say: \"Noted {{{{ q{i} }}}}.\"\n"
            ));
        }
    }
    flow.push_str("  - id: done\n    end: completed\n    record: { last: q0 }\n");
    flow
}

fn answers(range: std::ops::Range<usize>, offset: usize) -> String {
    range
        .map(|i| format!("q{i}: {}\n", i * 7 + offset))
        .collect()
}

/// The answers stored for session `id`, as (step, answer) in the order given.
fn stored_answers(home: &Path, id: i64) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open_with_flags(
        home.join("trustguide.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the database opens");
    let mut stmt = db
        .prepare(
            "SELECT step, answer FROM events WHERE session_id = ?1 AND kind = 'ask' ORDER BY seq",
        )
        .expect("query");
    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect()
}

fn integrity(home: &Path) -> String {
    rusqlite::Connection::open(home.join("trustguide.db"))
        .expect("the database opens")
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check")
}

fn count(home: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(home.join("trustguide.db"))
        .expect("the database opens")
        .query_row(sql, [], |r| r.get(0))
        .expect("count")
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(dir)
        .env("TRUSTGUIDE_HOME", dir.join("home"))
        .env("TRUSTGUIDE_NOW", NOW)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// A small random number source (no crate needed); the seed is printed, so a failure can be
/// replayed with `TRUSTGUIDE_KILL_SEED`.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// The long run, headless, with its transcript.
const RUN_WITH_TRANSCRIPT: &[&str] = &[
    "run",
    "long.yaml",
    "--answers",
    "all.yaml",
    "--transcript",
    "t.json",
];

/// Kill -9 at random moments of a long headless run and of each resume after it: after every
/// kill the database passes `integrity_check`, the answers stored are exactly the first ones
/// given, in order, the transcript is either absent or whole, and the next resume goes on
/// (the killed process's claim on the session is stale, not a lock). The finished session's
/// transcript is the same as that of a run never interrupted.
#[test]
fn kill_9_at_random_moments_loses_no_committed_answer() {
    const STEPS: usize = 300;
    const KILLS: usize = 30;
    let seed = std::env::var("TRUSTGUIDE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("kill test seed: {seed} (TRUSTGUIDE_KILL_SEED replays it)");
    let mut rng = Lcg(seed);
    let flow = long_flow(STEPS);
    let all = answers(0..STEPS, 0);
    let expected: Vec<(String, String)> = (0..STEPS)
        .map(|i| (format!("q{i}"), (i * 7).to_string()))
        .collect();

    // The reference: one run, never interrupted.
    let clean = Test::new()
        .file("long.yaml", &flow)
        .file("all.yaml", &all)
        .args(RUN_WITH_TRANSCRIPT)
        .run()
        .code(0);
    let reference = clean.transcript("t.json");

    // How long a whole run takes here, so the kills land all over it.
    let started = Instant::now();
    let timing = tempfile::tempdir().expect("temp folder");
    std::fs::write(timing.path().join("long.yaml"), &flow).expect("flow");
    std::fs::write(timing.path().join("all.yaml"), &all).expect("answers");
    let status = command(
        timing.path(),
        &["run", "long.yaml", "--answers", "all.yaml"],
    )
    .status()
    .expect("runs");
    assert!(status.success());
    let span = (started.elapsed().as_millis() as u64).max(20);

    let mut kills = 0;
    let mut sessions = 0;
    let mut left_behind = 0;
    while kills < KILLS {
        sessions += 1;
        let dir = tempfile::tempdir().expect("temp folder");
        std::fs::write(dir.path().join("long.yaml"), &flow).expect("flow");
        std::fs::write(dir.path().join("all.yaml"), &all).expect("answers");
        let home = dir.path().join("home");
        let mut first = true;
        let finished_transcript = loop {
            let args: &[&str] = if first {
                RUN_WITH_TRANSCRIPT
            } else {
                &["resume", "--answers", "all.yaml", "--transcript", "t.json"]
            };
            let mut child = command(dir.path(), args).spawn().expect("spawns");
            std::thread::sleep(Duration::from_millis(rng.below(span + span / 2)));
            let killed = child.try_wait().expect("wait").is_none();
            if killed {
                child.kill().expect("kill -9");
            }
            let out = child.wait_with_output().expect("ends");
            if !killed {
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(0), "seed {seed}: {stderr}");
                break Some(
                    std::fs::read_to_string(dir.path().join("t.json")).expect("transcript"),
                );
            }
            kills += 1;
            let made = home.join("trustguide.db").exists()
                && count(
                    &home,
                    "SELECT count(*) FROM sqlite_master WHERE name = 'sessions'",
                ) == 1;
            if made
                && count(
                    &home,
                    "SELECT count(*) FROM sessions WHERE status = 'completed'",
                ) == 1
            {
                // Killed after the session's end was saved, before its transcript was put in
                // place: the transcript is whole or absent, never half-written.
                if let Ok(text) = std::fs::read_to_string(dir.path().join("t.json")) {
                    assert!(
                        serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                        "seed {seed}"
                    );
                }
                break None;
            }
            if !made {
                // Killed before the store was made: nothing to check but the file itself.
                if home.join("trustguide.db").exists() {
                    assert_eq!(integrity(&home), "ok", "seed {seed}, kill {kills}");
                }
                continue;
            }
            assert_eq!(integrity(&home), "ok", "seed {seed}, kill {kills}");
            // Killed before the session was begun: start it again.
            first = count(&home, "SELECT count(*) FROM sessions") == 0;
            let answered = stored_answers(&home, 1);
            assert_eq!(
                answered,
                expected[..answered.len()],
                "seed {seed}, kill {kills}: the stored answers are the first ones given, each once"
            );
            // The transcript is never half-written: absent, or a whole earlier one.
            if let Ok(text) = std::fs::read_to_string(dir.path().join("t.json")) {
                let whole: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("seed {seed}: a half-written transcript ({e})"));
                assert!(whole.get("outcome").is_some(), "seed {seed}: {text}");
            }
        };
        if let Some(text) = &finished_transcript {
            let transcript: serde_json::Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(
                transcript, reference,
                "seed {seed}: the resumed session's transcript reads as the uninterrupted one"
            );
        }
        assert_eq!(stored_answers(&home, 1), expected, "seed {seed}");
        assert_eq!(
            count(&home, "SELECT count(*) FROM records"),
            1,
            "seed {seed}: recorded once"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".partial"))
            .collect();
        if finished_transcript.is_some() {
            assert!(leftovers.is_empty(), "seed {seed}: {leftovers:?}");
        } else if !leftovers.is_empty() {
            // Killed between saving the session's end and putting the transcript in place:
            // the temporary file stays until the next write of the same transcript removes it.
            left_behind += 1;
            let mut again = command(dir.path(), RUN_WITH_TRANSCRIPT);
            again.env("TRUSTGUIDE_HOME", dir.path().join("again"));
            assert!(again.status().expect("runs").success(), "seed {seed}");
            let left: Vec<_> = std::fs::read_dir(dir.path())
                .expect("folder")
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
                .collect();
            assert!(left.is_empty(), "seed {seed}: {left:?}");
        }
    }
    eprintln!(
        "{kills} kills over {sessions} sessions, each run about {span} ms; \
         {left_behind} killed between saving the end and placing the transcript"
    );
}

/// The issue's reproduction: a session paused after 40 of 300 answers, resumed twice at once
/// with different answers. One resume takes the session and finishes it; the other is told
/// it is open elsewhere (or already finished) and writes nothing.
#[test]
fn two_resumes_of_one_session_at_once_leave_one_whole_run() {
    let flow = long_flow(300);
    let setup = Test::new()
        .file("long.yaml", &flow)
        .file("first.yaml", answers(0..40, 0))
        .file("a.yaml", answers(40..300, 1))
        .file("b.yaml", answers(40..300, 2))
        .args(["run", "long.yaml", "--answers", "first.yaml"])
        .run()
        .code(1)
        .stderr_has("no answer for step `q40`");
    for trial in 0..5 {
        let dir = tempfile::tempdir().expect("temp folder");
        for name in ["long.yaml", "a.yaml", "b.yaml"] {
            std::fs::copy(setup.path(name), dir.path().join(name)).expect("copy");
        }
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.path().join("home"))
            .expect("home");
        std::fs::copy(
            setup.path("home/trustguide.db"),
            dir.path().join("home/trustguide.db"),
        )
        .expect("copy the store");
        let a = command(dir.path(), &["resume", "1", "--answers", "a.yaml"])
            .spawn()
            .expect("a");
        let b = command(dir.path(), &["resume", "1", "--answers", "b.yaml"])
            .spawn()
            .expect("b");
        let (a, b) = (
            a.wait_with_output().expect("a ends"),
            b.wait_with_output().expect("b ends"),
        );
        let said = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
        let (winner, loser, offset) = match (a.status.code(), b.status.code()) {
            (Some(0), Some(1)) => (&a, &b, 1),
            (Some(1), Some(0)) => (&b, &a, 2),
            other => panic!(
                "trial {trial}: one resume finishes and one is refused, got {other:?}\n{}\n{}",
                said(&a),
                said(&b)
            ),
        };
        assert!(said(winner).is_empty(), "{}", said(winner));
        let refused = said(loser);
        assert!(
            refused.contains("session 1 is open in another trustguide")
                || refused.contains("session 1 changed while it was being opened")
                || refused.contains("already ended (completed)"),
            "trial {trial}: {refused}"
        );
        assert!(!refused.contains("UNIQUE"), "{refused}");
        let home = dir.path().join("home");
        let mut expected: Vec<(String, String)> = (0..40)
            .map(|i| (format!("q{i}"), (i * 7).to_string()))
            .collect();
        expected.extend((40..300).map(|i| (format!("q{i}"), (i * 7 + offset).to_string())));
        assert_eq!(stored_answers(&home, 1), expected, "trial {trial}");
        assert_eq!(count(&home, "SELECT count(*) FROM records"), 1);
        assert_eq!(
            count(
                &home,
                "SELECT count(*) FROM sessions WHERE status = 'completed'"
            ),
            1
        );
        assert_eq!(integrity(&home), "ok");
    }
}

/// Templates whose size comes from an answer pass `check` (nothing there says how big), and
/// stop while the session runs with one message that names the step, exit code 1, and every
/// answer before kept. The sizes `check` can see are refused there.
#[test]
fn a_runaway_template_stops_with_a_message_and_keeps_the_answers() {
    for template in [
        "{{ [[1] * n] * n }}",
        "{{ [1] * (n * 1000) }}",
        "{{ ([1] * (n * 1000)) | join }}",
        "{{ 'ab' * (n * 500) }}",
        "{% set a = 'x' * n %}{% set b = a ~ a ~ a ~ a ~ a ~ a ~ a ~ a %}{% set c = b ~ b ~ b ~ b ~ b ~ b ~ b ~ b %}{{ (c ~ c ~ c ~ c ~ c ~ c ~ c ~ c) | length }}",
        "{% set ns = namespace(s='x') %}{% for i in range(n) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
        "{{ range(n) | list | string }}",
    ] {
        let flow = format!(
            "flow: hostile\ntitle: Hostile\nsteps:\n  - id: n\n    ask: number\n    prompt: How many?\n  - id: shown\n    say: \"{template}\"\n"
        );
        let out = Test::new()
            .file("hostile.yaml", &flow)
            .file("a.yaml", "n: 100000\n")
            .args(["check", "hostile.yaml"])
            .run()
            .code(0)
            .then(["run", "hostile.yaml", "--answers", "a.yaml", "--transcript", "t.json"])
            .code(1)
            .error_without_panic()
            .stderr_has("hostile.yaml:7: step `shown`");
        assert_eq!(
            out.stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{template}: one message\n{}",
            out.stderr
        );
        assert!(!out.has_file("t.json"), "{template}: no transcript of a failed run");
        let leftovers = std::fs::read_dir(out.path(""))
            .expect("folder")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .count();
        assert_eq!(leftovers, 0, "{template}: the temporary transcript is removed");
        out.then(["show", "1"]).code(0).stdout_has("How many?\n    100000\n");
    }
    Test::new()
        .file(
            "literal.yaml",
            "flow: literal\ntitle: Literal\nsteps:\n  - id: shown\n    say: \"{{ [[1] * 100000] * 100000 }}\"\n",
        )
        .args(["check", "literal.yaml"])
        .run()
        .code(1)
        .has_diagnostic("literal.yaml:5:19: error: `*` repeats this 100000 times");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Under a loose umask, every file trustguide writes is its owner's only; a file or data
/// folder found loose is made private, and that is said once.
#[test]
fn every_file_is_private_whatever_the_umask() {
    let dir = tempfile::tempdir().expect("temp folder");
    let flow = long_flow(3);
    std::fs::write(dir.path().join("long.yaml"), &flow).expect("flow");
    std::fs::write(dir.path().join("all.yaml"), answers(0..3, 0)).expect("answers");
    std::fs::write(dir.path().join("old.md"), "an old export").expect("old");
    std::fs::set_permissions(
        dir.path().join("old.md"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let run = |args: &[&str]| {
        let mut cmd = command(dir.path(), args);
        // SAFETY: only the async-signal-safe umask between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
                Ok(())
            });
        }
        let out = cmd.output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        stderr
    };
    run(RUN_WITH_TRANSCRIPT);
    run(&["export", "1", "-o", "e.json", "--format", "json"]);
    let told = run(&["export", "1", "-o", "old.md"]);
    assert!(
        told.contains("old.md could be read by others (mode 0644)"),
        "{told}"
    );
    let home = dir.path().join("home");
    assert_eq!(mode(&home), 0o700);
    for file in ["t.json", "e.json", "old.md"] {
        assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
    }
    for file in ["trustguide.db", "trustguide.db-wal", "trustguide.db-shm"] {
        let path = home.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
    // A store copied in loose (from a backup, say) is tightened, and that is said once.
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        home.join("trustguide.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let told = run(&["history"]);
    assert!(
        told.contains("trustguide.db could be read by others (mode 0644)"),
        "{told}"
    );
    assert!(told.contains("(mode 0755)"), "{told}");
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("trustguide.db")), 0o600);
    assert_eq!(run(&["history"]), "", "said once");
}

/// A disk that is really full (a 1 MB file system of its own, in a user and mount
/// namespace): reading still works, a transcript that cannot be written names its file, and
/// `forget --all` frees the space.
#[test]
fn a_full_disk_still_reads_and_forget_all_frees_it() {
    let dir = tempfile::tempdir().expect("temp folder");
    std::fs::write(dir.path().join("long.yaml"), long_flow(3)).expect("flow");
    std::fs::write(dir.path().join("all.yaml"), answers(0..3, 0)).expect("answers");
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).expect("mount point");
    let script = format!(
        r#"set -u
exec 2>&1
mount -t tmpfs -o size=1m tmpfs "{disk}" || exit 97
export TRUSTGUIDE_HOME="{disk}/home" TRUSTGUIDE_NOW={NOW} NO_COLOR=1
T="{bin}"
"$T" run long.yaml --answers all.yaml >/dev/null || exit 98
"$T" run long.yaml --answers all.yaml --transcript elsewhere.json >/dev/null || exit 98
dd if=/dev/zero of="{disk}/fill" bs=4k 2>/dev/null
echo "== history"; "$T" history; echo "exit $?"
echo "== show"; "$T" show 1; echo "exit $?"
echo "== progress"; "$T" progress; echo "exit $?"
echo "== transcript"; TRUSTGUIDE_HOME="{here}/home" "$T" run long.yaml --answers all.yaml --transcript "{disk}/t.json" >/dev/null; echo "exit $?"
echo "== forget"; "$T" forget --all --yes; echo "exit $?"
echo "== after"; ls "{disk}/home"; df -k "{disk}" | tail -1
"#,
        disk = disk.display(),
        here = dir.path().display(),
        bin = binary(),
    );
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("unshare runs (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    let part = |name: &str| {
        text.split(&format!("== {name}\n"))
            .nth(1)
            .and_then(|rest| rest.split("\n==").next())
            .unwrap_or_else(|| panic!("no {name} part in\n{text}"))
            .to_owned()
    };
    let history = part("history");
    assert!(
        history.contains("completed") && history.ends_with("exit 0"),
        "{text}"
    );
    assert!(part("show").contains("Question 0?\n    0\n"), "{text}");
    assert!(part("show").ends_with("exit 0"), "{text}");
    assert!(part("progress").ends_with("exit 0"), "{text}");
    let transcript = part("transcript");
    assert!(
        transcript.contains("t.json: the transcript could not be written (No space left on device"),
        "{text}"
    );
    assert!(transcript.ends_with("exit 1"), "{text}");
    let forget = part("forget");
    assert!(
        forget.contains("Deleted all 2 sessions.") && forget.ends_with("exit 0"),
        "{text}"
    );
    let after = part("after");
    assert!(
        !after.contains("trustguide.db"),
        "the files are gone: {text}"
    );
}

/// Under a file-size limit the write fails with EFBIG instead of the process dying of
/// SIGXFSZ: the usual message, exit code 1.
#[test]
fn a_file_size_limit_gives_a_message_not_a_silent_death() {
    let dir = tempfile::tempdir().expect("temp folder");
    std::fs::write(dir.path().join("long.yaml"), long_flow(300)).expect("flow");
    std::fs::write(dir.path().join("all.yaml"), answers(0..300, 0)).expect("answers");
    let mut cmd = command(dir.path(), &["run", "long.yaml", "--answers", "all.yaml"]);
    // SAFETY: only the async-signal-safe setrlimit between fork and exec. SIGXFSZ keeps its
    // default action (death): trustguide itself must ignore it.
    unsafe {
        cmd.pre_exec(|| {
            use nix::sys::resource::{setrlimit, Resource};
            setrlimit(Resource::RLIMIT_FSIZE, 64 * 1024, 64 * 1024).map_err(std::io::Error::from)
        });
    }
    let out = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "not killed by a signal: {stderr}"
    );
    assert!(
        stderr.contains("trustguide.db: your answer could not be written to the disk"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`trustguide resume 1` goes on from there"),
        "{stderr}"
    );
}

/// An answer full of terminal escapes (clear the screen, retitle the window, ring the bell)
/// is shown by `show`, `export --format md` and a headless run as visible symbols.
#[test]
fn answers_cannot_send_escapes_to_the_terminal() {
    let flow = "flow: words\ntitle: Words\nsteps:\n  - id: said\n    ask: text\n    prompt: Say something\n  - id: echo\n    say: \"You said: {{ said }}\"\n";
    let out = Test::new()
        .file("words.yaml", flow)
        .file(
            "a.yaml",
            "said: \"fine \\e[2J\\e[H\\e]0;pwned\\a\\u009b31m done\"\n",
        )
        .args(["run", "words.yaml", "--answers", "a.yaml"])
        .run()
        .code(0);
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    assert!(
        out.stdout
            .contains("You said: fine ␛[2J␛[H␛]0;pwned␇\\u{9b}31m done"),
        "{}",
        out.stdout
    );
    let md = out.path("s.md");
    let shown = out.then(["show", "1"]).code(0);
    assert!(!shown.stdout.contains('\u{1b}') && !shown.stdout.contains('\u{7}'));
    assert!(shown.stdout.contains("    fine ␛[2J"), "{}", shown.stdout);
    let exported = shown.then(["export", "1", "-o", "s.md"]).code(0);
    let text = std::fs::read_to_string(&md).expect("export");
    assert!(
        !text.contains('\u{1b}') && text.contains("␛]0;pwned␇"),
        "{text}"
    );
    // The JSON export keeps the answer as typed, escaped as JSON does.
    let json = exported.then(["export", "1", "--format", "json"]).code(0);
    assert!(json.stdout.contains("\\u001b[2J"), "{}", json.stdout);
}

/// Answers files are named as such when too big or holding two documents.
#[test]
fn answers_file_mistakes_are_named_as_answers_files() {
    Test::new()
        .file(
            "big.yaml",
            format!("said: {}\n", "x".repeat(5 * 1024 * 1024)),
        )
        .args(["run", "listening", "--answers", "big.yaml"])
        .run()
        .code(1)
        .stderr_has("the answers file is 5.0 MB; an answers file may be at most 4 MB");
    Test::new()
        .file(
            "two.yaml",
            "topic_speaker: chores\n---\ntopic_listener: evenings\n",
        )
        .args(["run", "listening", "--answers", "two.yaml"])
        .run()
        .code(1)
        .has_diagnostic("two.yaml:2:1: error: one YAML document per answers file");
}
