//! The terminal front-end in a real pseudo-terminal: keystrokes in, screen text out.

use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;
use expectrl::Expect;

use crate::util::{binary, NOW};

fn spawn(args: &[&str]) -> (Session, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("temp folder");
    spawn_in(home, args)
}

fn spawn_with_flow(name: &str, flow: &str, args: &[&str]) -> (Session, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("temp folder");
    std::fs::write(home.path().join(name), flow).expect("write flow");
    spawn_in(home, args)
}

fn spawn_in(home: tempfile::TempDir, args: &[&str]) -> (Session, tempfile::TempDir) {
    spawn_in_with(home, args, &[])
}

/// Spawns in `home` with extra environment variables.
fn spawn_in_with(
    home: tempfile::TempDir,
    args: &[&str],
    extra: &[(&str, &str)],
) -> (Session, tempfile::TempDir) {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(home.path())
        .env("TRUSTGUIDE_HOME", home.path().join("home"))
        .env("TRUSTGUIDE_NOW", NOW)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm-256color");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    (session, home)
}

fn exit_code(session: &Session) -> Option<i32> {
    match session.get_process().wait() {
        Ok(WaitStatus::Exited(_, code)) => Some(code),
        Ok(WaitStatus::Signaled(_, signal, _)) => Some(128 + signal as i32),
        _ => None,
    }
}

/// Types a line once the screen shows `prompt`.
fn answer(s: &mut Session, prompt: &str, line: &str) {
    s.expect(prompt)
        .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
    s.send_line(line).expect("type");
}

#[test]
fn a_couple_finishes_listening_at_the_keyboard() {
    let (mut s, _home) = spawn(&["run", "listening"]);
    answer(&mut s, "Name for the speaker role", "Sam");
    answer(&mut s, "Name for the listener role", "Alex");
    answer(&mut s, "Press Enter to continue", ""); // after the welcome card
    answer(
        &mut s,
        "Sam: How strong do your feelings seem right now?",
        "3",
    );
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(
        &mut s,
        "Alex: How strong do your feelings seem right now?",
        "2",
    );
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(
        &mut s,
        "Sam: What do you want Alex to understand today?",
        "the chores",
    );
    // The timed speaking turn: Enter ends it early.
    answer(&mut s, "press Enter to end the turn early", "");
    answer(&mut s, "Turn ended.", "");
    answer(
        &mut s,
        "Alex: In your own words",
        "you feel alone with the chores",
    );
    answer(&mut s, "Please pass the keyboard to Sam", "");
    s.expect("Sam: Did Alex capture what you meant?")
        .expect("confirm prompt");
    s.send("y").expect("type y");
    answer(&mut s, "Now you swap roles.", "");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(
        &mut s,
        "Alex: What do you want Sam to understand today?",
        "our evenings",
    );
    answer(&mut s, "press Enter to end the turn early", "");
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(&mut s, "Sam: In your own words", "you miss our evenings");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    s.expect("Alex: Did Sam capture what you meant?")
        .expect("confirm prompt");
    s.send("y").expect("type y");
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(
        &mut s,
        "Sam: Name one thing you appreciated",
        "you let me finish",
    );
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(&mut s, "Alex: Name one thing you appreciated", "");
    s.expect("Thank you both.").expect("closing text");
    s.expect("The exercise is complete.").expect("finished");
    s.expect(expectrl::Eof).expect("the program ends");
    assert_eq!(exit_code(&s), Some(0));
}

#[test]
fn a_bad_answer_is_refused_in_place_and_asked_again() {
    let (mut s, _home) = spawn(&["run", "listening", "--as", "Sam", "--as", "Alex"]);
    answer(&mut s, "Press Enter to continue", "");
    answer(&mut s, "Sam: How strong", "eleven");
    s.expect("Please give a whole number from 0 to 10.")
        .expect("the refusal is shown");
    // The same prompt takes a good answer.
    s.send_line("\u{15}5").expect("clear the line and type 5");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    s.expect("Alex: How strong").expect("moved on to Alex");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(130));
}

#[test]
fn ctrl_c_in_a_menu_restores_the_cursor_and_exits_130() {
    let flow = "flow: menu\ntitle: Menu\nsteps:\n  - id: pick\n    ask: choice\n    prompt: Pick one\n    options: [a, b]\n";
    let (mut s, home) = spawn_with_flow("menu.yaml", flow, &["run", "menu.yaml"]);
    s.expect("\x1b[?25l").expect("the menu hides the cursor");
    s.expect("Pick one").expect("menu shown");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect("\x1b[?25h").expect("the cursor is shown again");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(130));
    drop(home);
}

#[test]
fn plain_mode_numbers_the_choices_and_reads_lines() {
    let flow = "flow: plainmenu\ntitle: Plain\nsteps:\n  - id: pick\n    ask: choice\n    prompt: Pick one\n    options: [calm, tense]\n  - say: 'You picked {{ pick }}.'\n";
    let (mut s, _home) = spawn_with_flow(
        "plainmenu.yaml",
        flow,
        &["run", "plainmenu.yaml", "--plain"],
    );
    s.expect("1) calm").expect("numbered");
    s.expect("2) tense").expect("numbered");
    answer(&mut s, "Type a number: ", "2");
    s.expect("You picked tense.").expect("the choice was taken");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(0));
}

#[test]
fn no_color_means_no_colour_codes() {
    let (mut s, _home) = spawn(&["run", "listening", "--as", "Sam", "--as", "Alex"]);
    let seen = s.expect("Press Enter to continue").expect("welcome shown");
    let text = String::from_utf8_lossy(seen.before()).into_owned();
    assert!(text.contains("Welcome, Sam and Alex."), "{text}");
    assert!(
        !text.contains("\x1b[3"),
        "a colour code was printed with NO_COLOR set: {text:?}"
    );
    assert!(
        !text.contains("\x1b[1m") && !text.contains("\x1b[2m"),
        "bold/dim printed with NO_COLOR: {text:?}"
    );
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");
}

/// Runs the binary (not in a terminal) in the folder of a pseudo-terminal session.
fn run_in(home: &tempfile::TempDir, args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .current_dir(home.path())
        .env("TRUSTGUIDE_HOME", home.path().join("home"))
        .env("TRUSTGUIDE_NOW", NOW)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs")
}

#[test]
fn a_session_killed_mid_way_resumes_with_every_answer_and_the_same_transcript() {
    let (mut s, home) = spawn(&["run", "listening", "--as", "Sam", "--as", "Alex"]);
    answer(&mut s, "Press Enter to continue", "");
    answer(&mut s, "Sam: How strong", "3");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(&mut s, "Alex: How strong", "4");
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(
        &mut s,
        "Sam: What do you want Alex to understand today?",
        "the chores",
    );
    answer(&mut s, "press Enter to end the turn early", "");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(
        &mut s,
        "Alex: In your own words",
        "You are tired of doing the chores.",
    );
    // The next question on screen means the answer before it is saved. Now pull the plug.
    s.expect("Please pass the keyboard to Sam")
        .expect("moved on");
    s.get_process_mut()
        .kill(expectrl::process::unix::Signal::SIGKILL)
        .expect("kill -9");
    assert_eq!(exit_code(&s), Some(128 + 9));

    let history = run_in(&home, &["history"]);
    assert!(String::from_utf8_lossy(&history.stdout).contains("not finished (resume it)"));
    let shown = String::from_utf8_lossy(&run_in(&home, &["show", "1"]).stdout).into_owned();
    for committed in [
        "> 3",
        "> 4",
        "> the chores",
        "> You are tired of doing the chores.",
    ] {
        assert!(
            shown.contains(committed),
            "`{committed}` was committed before the kill:\n{shown}"
        );
    }

    let rest = "heard_speaker: [false, true]\nclarify_speaker: It is about feeling unseen too.\n\
                reflect_listener: You feel alone with the chores and unseen.\ntopic_listener: our evenings\n\
                reflect_speaker: You miss our evenings together.\nheard_listener: true\n\
                appreciation: { speaker: You let me finish., listener: \"\" }\n";
    std::fs::write(home.path().join("rest.yaml"), rest).expect("write answers");
    let resumed = run_in(
        &home,
        &["resume", "--answers", "rest.yaml", "--transcript", "t.json"],
    );
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let actual: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("t.json")).expect("transcript"))
            .expect("JSON");
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(crate::util::fixture("listening.transcript.json")).expect("fixture"),
    )
    .expect("JSON");
    assert_eq!(
        actual, expected,
        "the resumed session's transcript equals an uninterrupted run's"
    );
}

#[test]
fn pause_at_a_prompt_saves_and_resume_asks_again() {
    let (mut s, home) = spawn(&["run", "listening", "--as", "Sam", "--as", "Alex"]);
    answer(&mut s, "Press Enter to continue", "");
    answer(&mut s, "Sam: How strong", "3");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(&mut s, "Alex: How strong", "/pause");
    s.expect("Session 1 is paused. `trustguide resume 1` goes on from here.")
        .expect("paused");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(0));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("paused at intensity"), "{history}");

    let (mut s, home) = spawn_in(home, &["resume"]);
    s.expect("Resuming session 1: Active listening (listening)")
        .expect("says which session");
    answer(&mut s, "Alex: How strong", "4");
    // Wait until the answer is taken, so Ctrl-C does not arrive in the middle of it.
    s.expect("Please pass the keyboard to Sam")
        .expect("moved on");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(130));
    let shown = String::from_utf8_lossy(&run_in(&home, &["show", "1"]).stdout).into_owned();
    assert!(
        shown.contains("**Alex**: How strong do your feelings seem right now?\n\n> 4"),
        "{shown}"
    );
}

/// What clears the screen and the scrollback before the pause shows.
const CLEAR_ALL: &str = "\x1b[H\x1b[2J\x1b[3J";

/// The screen as a terminal shows it after a full clear: `after_clear` is everything written
/// since the clear sequence, without colour and cursor codes.
fn screen_text(after_clear: &[u8]) -> String {
    let text = String::from_utf8_lossy(after_clear);
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params final-byte
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        if c != '\r' {
            out.push(c);
        }
    }
    out
}

/// Waits for the pause screen after a risk answer: the screen and scrollback are cleared, and
/// what is shown then has neither the answer nor a category, and the most urgent help first.
/// In plain mode the test's pseudo-terminal does not echo, so only the rich mode's own drawing
/// of the answer can be seen before the clear.
fn expect_pause_screen(s: &mut Session, typed: &str, ready: &str) -> String {
    let before = s.expect(CLEAR_ALL).expect("the screen is cleared");
    let rich = ready == "Press a key:";
    assert!(
        !rich || String::from_utf8_lossy(before.before()).contains(typed),
        "the answer was on the screen before the clear: {:?}",
        String::from_utf8_lossy(before.before())
    );
    let shown = s.expect(ready).expect("the pause screen");
    let screen = screen_text(shown.before());
    assert!(!screen.contains(typed), "the answer is gone: {screen}");
    assert!(screen.contains("Let's pause here."), "{screen}");
    for word in ["self_harm", "suicid", "violence", "fear_for_safety", "harm"] {
        assert!(
            !screen.to_lowercase().contains(word),
            "nothing says what was noticed ({word}): {screen}"
        );
    }
    let lines: Vec<&str> = screen.trim_start_matches('\n').lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
    assert!(
        at("If anyone is in danger right now, call 999").is_some_and(|i| i < 12),
        "the emergency number comes first: {screen}"
    );
    assert!(
        at("Samaritans: call 116 123").is_some_and(|i| i < 12),
        "the crisis line comes first: {screen}"
    );
    screen
}

#[test]
fn a_risk_answer_pauses_calmly_and_the_quick_exit_can_forget_the_session() {
    let flow = "flow: share\ntitle: Share\nsteps:\n  - id: feeling\n    ask: text\n    prompt: How are you, really?\n  - say: Thank you.\n";
    let home = tempfile::tempdir().expect("temp folder");
    std::fs::write(home.path().join("share.yaml"), flow).expect("write flow");
    let (mut s, home) = spawn_in_with(home, &["run", "share.yaml"], &[("TRUSTGUIDE_REGION", "UK")]);
    let typed = "honestly i dont see the point of waking up anymore";
    answer(&mut s, "How are you, really?", typed);
    expect_pause_screen(&mut s, typed, "Press a key:");
    s.expect("x  (or Esc) leave now").expect("Esc is named");
    s.send("\x1b").expect("Esc");
    s.expect(CLEAR_ALL).expect("the screen is cleared at once");
    s.expect("Delete this session from this computer?")
        .expect("the offer to forget");
    s.send("y").expect("y");
    s.expect(CLEAR_ALL).expect("cleared again");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(3));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("No sessions yet"), "forgotten: {history}");
}

#[test]
fn plain_mode_names_the_keys_at_the_pause_and_the_quick_exit_can_keep_the_session() {
    let flow = "flow: share\ntitle: Share\nsteps:\n  - id: feeling\n    ask: text\n    prompt: How are you, really?\n  - say: Thank you.\n";
    let home = tempfile::tempdir().expect("temp folder");
    std::fs::write(home.path().join("share.yaml"), flow).expect("write flow");
    let (mut s, home) = spawn_in_with(
        home,
        &["run", "share.yaml", "--plain"],
        &[("TRUSTGUIDE_REGION", "UK")],
    );
    let typed = "i want to kill myself";
    answer(&mut s, "How are you, really?", typed);
    let screen = expect_pause_screen(&mut s, typed, "Type a letter and press Enter:");
    let menu = s.expect("leave now: clears the screen").expect("the keys");
    let menu = screen_text(menu.before());
    assert!(
        menu.contains("x  ") && !menu.contains("Esc"),
        "plain mode names keys that work there: {screen}{menu}"
    );
    s.send_line("x").expect("x");
    s.expect("Delete this session from this computer? Type y and Enter")
        .expect("the offer to forget");
    s.send_line("").expect("keep it");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(3));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("paused for safety"), "kept: {history}");
}

/// Issue 14's walk through: an everyday answer goes on; a risk answer shows the neutral pause
/// with the answer gone from the screen; its writer types the confirmation and the session goes
/// on; a second run pauses, is left, and `resume` asks the safety question first.
#[test]
fn a_pause_couples_can_trust_at_the_keyboard() {
    let home = tempfile::tempdir().expect("temp folder");
    let region = [("TRUSTGUIDE_REGION", "UK")];
    let (mut s, home) = spawn_in_with(
        home,
        &["run", "listening", "--as", "Sam", "--as", "Alex"],
        &region,
    );
    answer(&mut s, "Press Enter to continue", "");
    answer(&mut s, "Sam: How strong", "3");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(&mut s, "Alex: How strong", "2");
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(
        &mut s,
        "Sam: What do you want Alex to understand today?",
        "the chores",
    );
    answer(&mut s, "press Enter to end the turn early", "");
    answer(&mut s, "Turn ended.", "");
    let risk = "i want to kill myself";
    answer(&mut s, "Alex: In your own words", risk);
    expect_pause_screen(&mut s, risk, "Press a key:");
    s.send("c").expect("go on");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    s.expect("type `safe` and press Enter")
        .expect("asked to confirm");
    s.send_line("safe").expect("confirm");
    s.expect("The question comes again").expect("going on");
    answer(
        &mut s,
        "Alex: In your own words",
        "you feel alone with the chores",
    );
    answer(&mut s, "Please pass the keyboard to Sam", "");
    s.expect("Sam: Did Alex capture what you meant?")
        .expect("the session went on");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");

    // A second run pauses and is left there.
    let (mut s, home) = spawn_in_with(
        home,
        &["run", "listening", "--as", "Sam", "--as", "Alex"],
        &region,
    );
    answer(&mut s, "Press Enter to continue", "");
    answer(&mut s, "Sam: How strong", "3");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(&mut s, "Alex: How strong", "2");
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(
        &mut s,
        "Sam: What do you want Alex to understand today?",
        risk,
    );
    expect_pause_screen(&mut s, risk, "Press a key:");
    s.send("s").expect("stop for now");
    s.expect("`trustguide resume 2` goes on from here")
        .expect("says how to come back");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(3));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("paused for safety"), "{history}");

    let (mut s, home) = spawn_in_with(home, &["resume", "2"], &region);
    s.expect("so first: is everyone safe?").expect("says why");
    let first = s.expect("Press a key:").expect("the pause comes first");
    let first = screen_text(first.before());
    assert!(
        !first.contains("What do you want Alex"),
        "no question before the safety question: {first}"
    );
    s.send("c").expect("go on");
    answer(&mut s, "Please pass the keyboard to Sam", "");
    s.expect("type `safe` and press Enter")
        .expect("asked to confirm");
    s.send_line("safe").expect("confirm");
    s.expect("Sam: What do you want Alex to understand today?")
        .expect("the step is asked again");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");

    let mut bytes = Vec::new();
    for name in [
        "trustguide.db",
        "trustguide.db-wal",
        "trustguide.db-journal",
    ] {
        if let Ok(b) = std::fs::read(home.path().join("home").join(name)) {
            bytes.extend(b);
        }
    }
    assert!(
        !bytes.windows(risk.len()).any(|w| w == risk.as_bytes()),
        "the risk answer is not on disk"
    );
}

#[test]
fn the_couples_own_pause_word_pauses_at_the_keyboard() {
    let home = tempfile::tempdir().expect("temp folder");
    std::fs::write(
        home.path().join("chosen.yaml"),
        "word: Red Kite\nagree: yes\ncome_back: Within a day\n",
    )
    .expect("write answers");
    let chosen = run_in(&home, &["run", "pause-signal", "--answers", "chosen.yaml"]);
    assert!(chosen.status.success(), "{chosen:?}");
    let flow = "flow: share\ntitle: Share\nsteps:\n  - id: feeling\n    ask: text\n    prompt: How are you, really?\n  - say: Thank you.\n";
    std::fs::write(home.path().join("share.yaml"), flow).expect("write flow");
    let (mut s, _home) = spawn_in(home, &["run", "share.yaml"]);
    answer(&mut s, "How are you, really?", "red kite");
    s.expect("Paused and saved.").expect("paused at once");
    s.expect("`trustguide resume 2` goes on from here.")
        .expect("says how to resume");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(0));
}

/// The Done-when of the exercise library: a schedule made at the keyboard is exported and an
/// independent iCalendar parser reads back the same check-ins `trustguide schedule` lists.
#[test]
fn a_check_in_schedule_made_at_the_keyboard_exports_to_a_calendar() {
    let home = tempfile::tempdir().expect("temp folder");
    let (mut s, home) = spawn_in_with(home, &["run", "checkin-schedule"], &[("TZ", "UTC")]);
    answer(&mut s, "Name for the hurt partner role", "Sam");
    answer(&mut s, "Name for the partner role", "Alex");
    s.expect("how often do you feel the need to check in on Alex?")
        .expect("the first question");
    s.expect("Many times a day").expect("the menu");
    s.send_line("").expect("pick the first option");
    s.expect("Your check-ins for the coming week: twice a day.")
        .expect("the plan");
    answer(&mut s, "Your answer (HH:MM)", "19:00");
    answer(&mut s, "a second check-in earlier in the day", "12:30");
    answer(&mut s, "(YYYY-MM-DD, or today / tomorrow)", "2026-12-02");
    s.expect("do you both agree to this schedule")
        .expect("the agreement");
    s.send("y").expect("type y");
    s.expect("Your schedule is saved").expect("saved");
    s.expect(expectrl::Eof).expect("the run ends");
    assert_eq!(exit_code(&s), Some(0));

    let run = |args: &[&str]| {
        let out = Command::new(binary())
            .args(args)
            .current_dir(home.path())
            .env("TRUSTGUIDE_HOME", home.path().join("home"))
            .env("TRUSTGUIDE_NOW", NOW)
            .env("TZ", "UTC")
            .output()
            .expect("runs");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed: Vec<String> = run(&["schedule", "--all"])
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains("made in session"))
        .map(|l| l.trim().to_owned())
        .collect();
    run(&["schedule", "--ics", "checkins.ics"]);
    let ics = std::fs::read_to_string(home.path().join("checkins.ics")).expect("the export");
    let calendar = ical::IcalParser::new(ics.as_bytes())
        .next()
        .expect("a calendar")
        .expect("it parses");
    let mut starts: Vec<String> = calendar
        .events
        .iter()
        .map(|e| {
            let start = e
                .properties
                .iter()
                .find(|p| p.name == "DTSTART")
                .and_then(|p| p.value.clone())
                .expect("DTSTART");
            chrono::NaiveDateTime::parse_from_str(&start, "%Y%m%dT%H%M%SZ")
                .expect("a UTC time")
                .format("%a %-d %b %H:%M")
                .to_string()
        })
        .collect();
    starts.sort_by_key(|s| listed.iter().position(|l| l == s));
    // 19:30 on 25 November: both of that day's times have passed; twice a day, 26 November to 2 December.
    assert_eq!(listed.len(), 14, "{listed:?}");
    assert_eq!(
        starts, listed,
        "the calendar holds exactly the listed check-ins"
    );
}

/// Bad input at the keyboard: an empty answer and a line that is not UTF-8 are refused with a
/// message and asked again, and the session goes on.
#[test]
fn an_empty_or_unreadable_line_is_refused_and_the_session_goes_on() {
    let flow = "flow: share\ntitle: Share\nsteps:\n  - id: feeling\n    ask: text\n    prompt: How are you, really?\n  - say: Thank you.\n";
    let (mut s, home) = spawn_with_flow("share.yaml", flow, &["run", "share.yaml", "--plain"]);
    answer(&mut s, "How are you, really?", "");
    s.expect("An answer is needed here.").expect("refused");
    s.send(b"caf\xe9\n".as_slice()).expect("type bytes");
    s.expect("not UTF-8").expect("refused");
    s.send_line("tired, but fine").expect("type");
    s.expect("Thank you.").expect("went on");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(0));
    let shown = String::from_utf8_lossy(&run_in(&home, &["show", "1"]).stdout).into_owned();
    assert!(shown.contains("tired, but fine"), "{shown}");
}
