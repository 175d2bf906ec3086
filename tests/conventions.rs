//! What a command-line program is expected to have: tab completion for the shells people use,
//! and a manual page that says what `--help` does not.

use std::process::{Command, Stdio};

use crate::util::Test;

/// What bash offers after `words` when Tab is pressed, with the script `completions bash`
/// prints loaded the way bash-completion loads it.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = Test::new()
        .args(["completions", "bash"])
        .run()
        .code(0)
        .stdout;
    let dir = tempfile::tempdir().expect("temp folder");
    let file = dir.path().join("trustguide.bash");
    std::fs::write(&file, script).expect("script");
    let line = words.join(" ");
    let probe = format!(
        "source {file}\n\
         COMP_WORDS=({line})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE='{line}'\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _trustguide trustguide \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        file = file.display(),
        cword = words.len() - 1,
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_commands_and_their_options() {
    assert_eq!(bash_completes(&["trustguide", "res"]), ["resume"]);
    let offered = bash_completes(&["trustguide", "he"]);
    assert!(offered.contains(&"help-now".to_owned()), "{offered:?}");
    assert!(offered.contains(&"help".to_owned()), "{offered:?}");
    let formats = bash_completes(&["trustguide", "export", "3", "--format", ""]);
    assert_eq!(formats, ["md", "json"]);
    let options = bash_completes(&["trustguide", "run", "listening", "--"]);
    for option in ["--as", "--answers", "--region", "--no-save", "--plain"] {
        assert!(
            options.contains(&option.to_owned()),
            "{option}: {options:?}"
        );
    }
}

#[test]
fn zsh_fish_and_others_get_their_own_scripts() {
    for (shell, marker) in [
        ("zsh", "#compdef trustguide"),
        ("fish", "complete -c trustguide"),
        ("elvish", "edit:completion:arg-completer[trustguide]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = Test::new().args(["completions", shell]).run().code(0);
        assert!(out.stdout.contains(marker), "{shell}:\n{}", out.stdout);
        assert!(out.stdout.contains("help-now"), "{shell}");
    }
    Test::new()
        .args(["completions", "tcsh"])
        .run()
        .code(2)
        .stderr_has("possible values: bash, elvish, fish, powershell, zsh");
}

/// The page in the repository (`docs/trustguide.1`, for packagers) is what `trustguide man`
/// prints, so it cannot fall behind the commands; and `man` reads it without a warning.
#[test]
fn the_manual_page_is_current_and_reads_cleanly() {
    let page = Test::new().args(["man"]).run().code(0).stdout;
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/trustguide.1"))
            .expect("docs/trustguide.1");
    assert!(
        page == shipped,
        "docs/trustguide.1 is out of date: `cargo run -- man > docs/trustguide.1`"
    );

    let out = Command::new("groff")
        // Plain text: no escape sequences (-c), no overstriking for bold or underline (-b, -u).
        .args([
            "-man", "-Tutf8", "-ww", "-rLL=80n", "-rHY=0", "-P-c", "-P-b", "-P-u",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(page.as_bytes())?;
            child.wait_with_output()
        })
        .expect("groff runs");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && warnings.is_empty(), "{warnings}");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "trustguide run FLOW",
        "trustguide help-now",
        "trustguide completions SHELL",
        "trustguide resume [SESSION]",
        "--take-over",
        "trustguide safety scan",
        "EXIT STATUS",
        "A run ended at a safety pause.",
        "TRUSTGUIDE_HOME",
        "licensed therapist",
    ] {
        assert!(text.contains(needle), "`{needle}` in:\n{text}");
    }
    assert!(!text.contains("trustguide-run(1)"), "{text}");
    // Nothing runs off an 80-column terminal.
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 80, "a line of {widest} columns:\n{text}");
}
