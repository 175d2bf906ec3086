//! The library as an embedder uses it: the examples in examples/, built by `cargo test`, run
//! here the way their docs say.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// An example's binary, built by `cargo test` next to this test binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|debug| debug.join("examples").join(name))
        .expect("the target folder");
    assert!(path.exists(), "{} is built by `cargo test`", path.display());
    path
}

/// Runs an example with `args`, typing `input`; returns (success, stdout, stderr).
fn run(name: &str, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(example(name))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("typed");
    let out = child.wait_with_output().expect("it ends");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `examples/resume.rs`: a custom front-end pauses one evening and goes on the next, with
/// nothing but the library's `Session`.
#[test]
fn a_custom_front_end_pauses_and_resumes_a_saved_session() {
    let home = tempfile::tempdir().expect("a folder");
    let folder = home.path().join("store");
    let folder = folder.to_str().expect("a UTF-8 path");

    let (ok, out, err) = run(
        "resume",
        &[folder],
        "it rained but we walked anyway\n/pause\n",
    );
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Two short questions, Sam."), "{out}");
    assert!(out.contains("session 1: paused"), "{out}");

    let (ok, out, err) = run("resume", &[folder], "dinner with Jo\n");
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Going on with session 1"), "{out}");
    // It asks only what was not answered, and the first evening's answer is still there.
    assert!(!out.contains("One thing that went well today?"), "{out}");
    assert!(
        out.contains("Today: it rained but we walked anyway. Tomorrow: dinner with Jo."),
        "{out}"
    );
    assert!(out.contains("session 1: completed"), "{out}");

    // The store it kept is trustguide's own: the command reads it.
    let shown = Command::new(crate::util::binary())
        .args(["show", "1"])
        .env("TRUSTGUIDE_HOME", folder)
        .output()
        .expect("trustguide show");
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("dinner with Jo"), "{shown}");

    // A third run finds nothing to resume and starts afresh.
    let (ok, out, err) = run("resume", &[folder], "/pause\n");
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("session 2: paused"), "{out}");
}

/// `examples/embed.rs` handles the pause: with a risk answer it ends cleanly (it used to get the
/// same safety event for ever).
#[test]
fn the_embedding_example_ends_cleanly_at_a_pause() {
    let mut child = std::process::Command::new(example("embed"))
        .args(["tense", "i want to kill myself"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the example runs");
    let started = std::time::Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the example did not end at the pause");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("Let's pause here."), "{stdout}");
    assert!(stdout.contains("[safety_stop at need"), "{stdout}");
    assert!(!stdout.contains("> i want to kill myself"), "{stdout}");
}
