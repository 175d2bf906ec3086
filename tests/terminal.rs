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
    let (mut s, home) = spawn(&["run", "listening"]);
    answer(&mut s, "Name of the speaker", "Sam");
    answer(&mut s, "Name of the listener", "Alex");
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
    answer(&mut s, "press Enter to finish early", "");
    answer(&mut s, "Finished early.", "");
    answer(
        &mut s,
        "Alex: In your own words",
        "you feel alone with the chores",
    );
    answer(&mut s, "Please pass the keyboard to Sam", "");
    // A yes/no question reads the whole line: the "o" of "no" is not the next answer.
    answer(&mut s, "Sam: Did Alex capture what you meant?", "no");
    answer(&mut s, "Sam: What did Alex miss?", "the weekends too");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(
        &mut s,
        "Alex: In your own words",
        "the chores and the weekends",
    );
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(&mut s, "Sam: Did Alex capture what you meant?", "yes");
    answer(&mut s, "Now you swap roles.", "");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(
        &mut s,
        "Alex: What do you want Sam to understand today?",
        "our evenings",
    );
    answer(&mut s, "press Enter to finish early", "");
    answer(&mut s, "Please pass the keyboard to Sam", "");
    answer(&mut s, "Sam: In your own words", "you miss our evenings");
    answer(&mut s, "Please pass the keyboard to Alex", "");
    answer(&mut s, "Alex: Did Sam capture what you meant?", "Y");
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
    let db = rusqlite::Connection::open(home.path().join("home/trustguide.db")).expect("store");
    let answers: Vec<(String, String)> = db
        .prepare("SELECT step, answer FROM events WHERE step IN ('heard_speaker', 'clarify_speaker') ORDER BY seq")
        .and_then(|mut q| {
            q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()
        })
        .expect("answers");
    let steps: Vec<(&str, &str)> = answers
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("heard_speaker", "false"),
            ("clarify_speaker", "\"the weekends too\""),
            ("heard_speaker", "true"),
        ]
    );
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
    // Text typed at a handover is not taken for an answer, and not dropped without a word.
    answer(&mut s, "Please pass the keyboard to Alex", "4");
    s.expect("is not kept: this is only a moment to hand over or read")
        .expect("the typed text is named as not kept");
    s.send_line("").expect("Enter");
    s.expect("Alex: How strong").expect("moved on to Alex");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect("Every answer given so far is saved: `trustguide resume 1`")
        .expect("Ctrl-C says how to go on");
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
    answer(&mut s, "press Enter to finish early", "");
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
        "Sam: 3 of 10",
        "Alex: 4 of 10",
        "    the chores",
        "    You are tired of doing the chores.",
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
    assert!(history.contains("paused (resume it)"), "{history}");

    // The last answer was Sam's and the next question is Alex's: the resumed sitting starts
    // with the handover, and speaks of the place in words, not step ids.
    let (mut s, home) = spawn_in(home, &["resume"]);
    s.expect("Resuming session 1: Active listening, started Wednesday 25 November 2026,")
        .expect("says which session");
    s.expect("going on after the last saved answer.")
        .expect("says where, in words");
    answer(&mut s, "Please pass the keyboard to Alex.", "");
    answer(&mut s, "Alex: How strong", "4");
    // Wait until the answer is taken, so Ctrl-C does not arrive in the middle of it.
    s.expect("Please pass the keyboard to Sam")
        .expect("moved on");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(130));
    let shown = String::from_utf8_lossy(&run_in(&home, &["show", "1"]).stdout).into_owned();
    assert!(
        shown.contains(
            "How strong do your feelings seem right now?\n    Sam: 3 of 10\n    Alex: 4 of 10\n"
        ),
        "{shown}"
    );
}

#[test]
fn a_pause_without_saving_says_nothing_was_kept() {
    let (mut s, home) = spawn(&[
        "run",
        "listening",
        "--as",
        "Sam",
        "--as",
        "Alex",
        "--no-save",
    ]);
    answer(&mut s, "Press Enter to continue", "");
    answer(&mut s, "Sam: How strong", "/PAUSE");
    s.expect("Nothing of this session was kept (--no-save)")
        .expect("says nothing was kept");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(0));
    assert!(!home.path().join("home/trustguide.db").exists());
}

/// What clears the screen and the scrollback before the pause shows.
const CLEAR_ALL: &str = "\x1b[H\x1b[2J\x1b[3J";

/// The emulated terminal: the pseudo-terminal's size (ptyprocess opens it at 80 × 24) and a
/// scrollback like a terminal window's.
const ROWS: u16 = 24;
const COLS: u16 = 80;
const SCROLLBACK: usize = 1000;

/// A program in a pseudo-terminal, with every byte it printed kept, so that what a person at
/// that terminal would see (scrollback included) can be read from a terminal emulator.
struct Pty {
    session: Session,
    printed: Vec<u8>,
}

impl Pty {
    fn new((session, home): (Session, tempfile::TempDir)) -> (Pty, tempfile::TempDir) {
        let pty = Pty {
            session,
            printed: Vec::new(),
        };
        (pty, home)
    }

    /// Waits for `needle`; what was printed up to it is kept. Returns what came before it.
    fn expect(&mut self, needle: &str) -> Vec<u8> {
        let found = match self.session.expect(needle) {
            Ok(found) => found,
            Err(e) => panic!(
                "waiting for {needle:?}: {e}\nthe screen:\n{}",
                self.view().visible.join("\n")
            ),
        };
        self.printed.extend_from_slice(found.as_bytes());
        found.before().to_vec()
    }

    fn expect_end(&mut self) -> Option<i32> {
        let found = self
            .session
            .expect(expectrl::Eof)
            .expect("the program ends");
        self.printed.extend_from_slice(found.as_bytes());
        exit_code(&self.session)
    }

    fn answer(&mut self, prompt: &str, line: &str) {
        self.expect(prompt);
        self.session.send_line(line).expect("type");
    }

    fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("type");
    }

    fn send_line(&mut self, line: &str) {
        self.session.send_line(line).expect("type");
    }

    /// What the terminal shows after everything printed so far.
    fn view(&self) -> View {
        View::of(&self.printed)
    }
}

/// A terminal's text as a person sees it: the visible rows, and the rows they could scroll
/// back to (oldest first).
struct View {
    visible: Vec<String>,
    scrollback: Vec<String>,
}

impl View {
    /// Plays `printed` into an 80 × 24 terminal emulator with scrollback.
    ///
    /// vt100 0.18 honours `ESC[3J` (erase the scrollback: `Screen::ed` mode 3), as xterm and
    /// VTE do, so a row the program cleared that way is gone from `scrollback` here too.
    fn of(printed: &[u8]) -> View {
        let size = |n: u16| std::num::NonZeroU16::new(n).expect("not zero");
        let mut parser = vt100::Parser::new(size(ROWS), size(COLS), SCROLLBACK);
        parser.process(printed);
        let screen = parser.screen_mut();
        let visible = screen.rows(0, COLS).collect();
        let kept = screen.scrollback_len();
        // Scrolled back by `n` rows, the top visible row is the n-th newest row of scrollback.
        let scrollback = (1..=kept)
            .rev()
            .map(|n| {
                screen.set_scrollback(n);
                screen.rows(0, COLS).next().unwrap_or_default()
            })
            .collect();
        screen.set_scrollback(0);
        View {
            visible,
            scrollback,
        }
    }

    /// Whether `text` can be read anywhere, scrolling back included: the rows are joined
    /// without breaks too, so a line the terminal wrapped is still found.
    fn anywhere(&self, text: &str) -> bool {
        let rows = || self.scrollback.iter().chain(&self.visible);
        rows().any(|r| r.contains(text))
            || rows()
                .map(String::as_str)
                .collect::<String>()
                .contains(text)
    }

    /// The first visible row that holds `text`.
    fn row_of(&self, text: &str) -> Option<usize> {
        self.visible.iter().position(|r| r.contains(text))
    }

    fn text(&self) -> String {
        self.visible.join("\n")
    }
}

/// Waits for the pause screen after a risk answer, and checks it as a person would see it:
/// the answer is gone from the screen and from the scrollback, nothing names what was noticed,
/// and the most urgent help is in the first 12 rows. `ready` is the screen's last line.
/// In plain mode the test's pseudo-terminal does not echo, so only the rich mode's own drawing
/// of the answer can be seen before the clear.
fn expect_pause_screen(s: &mut Pty, typed: &str, ready: &str) -> View {
    s.expect(CLEAR_ALL);
    let before = View::of(&s.printed[..s.printed.len() - CLEAR_ALL.len()]);
    let rich = ready.contains("Esc");
    assert!(
        !rich || before.anywhere(typed),
        "the answer was on the screen before the clear: {}",
        before.text()
    );
    s.expect(ready);
    let view = s.view();
    assert!(
        !view.anywhere(typed),
        "the answer is gone from the screen and the scrollback:\n{}\n--- scrollback:\n{}",
        view.text(),
        view.scrollback.join("\n")
    );
    assert!(view.anywhere("Let's pause here."), "{}", view.text());
    let all = view.text().to_lowercase() + &view.scrollback.join("\n").to_lowercase();
    for word in ["self_harm", "suicid", "violence", "fear_for_safety", "harm"] {
        assert!(
            !all.contains(word),
            "nothing says what was noticed ({word}): {all}"
        );
    }
    assert!(
        view.row_of("If anyone is in danger right now, call 999")
            .is_some_and(|row| row < 12),
        "the emergency number is in the first 12 rows:\n{}",
        view.text()
    );
    assert!(
        view.row_of("Samaritans: call 116 123")
            .is_some_and(|row| row < 12),
        "the main crisis line is in the first 12 rows:\n{}",
        view.text()
    );
    view
}

const SHARE: &str = "flow: share\ntitle: Share\nsteps:\n  - id: feeling\n    ask: text\n    prompt: How are you, really?\n  - say: Thank you.\n";

/// Runs the one-question flow in a pseudo-terminal in a fresh folder (region UK).
fn share(args: &[&str]) -> (Pty, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("temp folder");
    std::fs::write(home.path().join("share.yaml"), SHARE).expect("write flow");
    let mut all = vec!["run", "share.yaml"];
    all.extend_from_slice(args);
    Pty::new(spawn_in_with(home, &all, &[("TRUSTGUIDE_REGION", "UK")]))
}

#[test]
fn a_risk_answer_pauses_calmly_and_the_quick_exit_can_forget_the_session() {
    let (mut s, home) = share(&[]);
    let typed = "i want to kill myself";
    s.answer("How are you, really?", typed);
    expect_pause_screen(&mut s, typed, "(or Esc) leave now: clears the screen");
    s.send("\x1b");
    s.expect(CLEAR_ALL);
    s.expect("Delete this session from this computer?");
    s.send("y");
    s.expect(CLEAR_ALL);
    assert_eq!(s.expect_end(), Some(3));
    assert!(
        !s.view().anywhere("Let's pause here."),
        "the quick exit left nothing to read"
    );
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("No sessions yet"), "forgotten: {history}");
}

/// The pause looks the same whatever was noticed: a partner in the room cannot tell a
/// self-harm answer from one about violence.
#[test]
fn the_pause_screen_is_the_same_whatever_was_noticed() {
    let answers = [
        "i want to kill myself",
        "he hit me and i am scared he will do it again",
    ];
    // The two answers are of different categories, and each pauses.
    let home = tempfile::tempdir().expect("temp folder");
    let scanned = Command::new(binary())
        .args(["safety", "scan"])
        .current_dir(home.path())
        .env("TRUSTGUIDE_HOME", home.path().join("home"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "{}\n{}", answers[0], answers[1])?;
            drop(stdin);
            child.wait_with_output()
        })
        .expect("safety scan runs");
    let categories: Vec<serde_json::Value> = String::from_utf8_lossy(&scanned.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["categories"].clone())
        .collect();
    assert_eq!(categories.len(), 2, "{categories:?}");
    assert!(
        categories
            .iter()
            .all(|c| c.as_array().is_some_and(|a| !a.is_empty())),
        "{categories:?}"
    );
    assert_ne!(categories[0], categories[1], "two different categories");

    let screens: Vec<Vec<String>> = answers
        .iter()
        .map(|typed| {
            let (mut s, _home) = share(&[]);
            s.answer("How are you, really?", typed);
            let view = expect_pause_screen(&mut s, typed, "(or Esc) leave now: clears the screen");
            s.send("e");
            assert_eq!(s.expect_end(), Some(3));
            view.visible
        })
        .collect();
    assert_eq!(
        screens[0], screens[1],
        "the same screen for answers of different categories"
    );
}

#[test]
fn plain_mode_names_the_keys_at_the_pause_and_the_quick_exit_can_keep_the_session() {
    let (mut s, home) = share(&["--plain"]);
    let typed = "i want to kill myself";
    s.answer("How are you, really?", typed);
    let view = expect_pause_screen(&mut s, typed, "x  leave now: clears the screen");
    assert!(
        !view.text().contains("Esc"),
        "plain mode names keys that work there:\n{}",
        view.text()
    );
    assert!(
        view.anywhere("Type a letter and press Enter:"),
        "{}",
        view.text()
    );
    s.send_line("x");
    s.expect("Delete this session from this computer? Type y and Enter");
    s.send_line("");
    assert_eq!(s.expect_end(), Some(3));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("paused for safety"), "kept: {history}");
}

/// With `--plain` too, a session left at a pause comes back to the pause, before any question:
/// the safety question is the first thing `resume` asks.
#[test]
fn plain_mode_resume_asks_the_safety_question_first() {
    let (mut s, home) = share(&["--plain"]);
    let typed = "i want to kill myself";
    s.answer("How are you, really?", typed);
    expect_pause_screen(&mut s, typed, "x  leave now: clears the screen");
    s.send_line("s");
    s.expect("When everyone is safe, `trustguide resume 1`");
    assert_eq!(s.expect_end(), Some(3));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(
        history.contains("paused for safety (resume when everyone is safe)"),
        "{history}"
    );

    let (mut s, home) = Pty::new(spawn_in_with(
        home,
        &["resume", "--plain"],
        &[("TRUSTGUIDE_REGION", "UK")],
    ));
    s.expect("so first: is everyone safe?");
    s.expect("x  leave now: clears the screen");
    assert!(
        !String::from_utf8_lossy(&s.printed).contains("How are you, really?"),
        "no question before the safety question: {}",
        s.view().text()
    );
    s.send_line("c");
    s.expect("press Enter when you are alone at the keyboard.");
    s.send_line("");
    s.expect("type `safe` and press Enter");
    s.send_line("safe");
    s.answer("How are you, really?", "tired, but fine");
    s.expect("Thank you.");
    assert_eq!(s.expect_end(), Some(0));
    drop(home);
}

/// Issue 14's walk through: an everyday answer goes on; a risk answer shows the neutral pause
/// with the answer gone from the screen and the scrollback; its writer types the confirmation
/// and the session goes on; a second run pauses, is left, and `resume` asks the safety
/// question first.
#[test]
fn a_pause_couples_can_trust_at_the_keyboard() {
    const READY: &str = "(or Esc) leave now: clears the screen";
    let home = tempfile::tempdir().expect("temp folder");
    let region = [("TRUSTGUIDE_REGION", "UK")];
    let (mut s, home) = Pty::new(spawn_in_with(
        home,
        &["run", "listening", "--as", "Sam", "--as", "Alex"],
        &region,
    ));
    s.answer("Press Enter to continue", "");
    s.answer("Sam: How strong", "3");
    s.answer("Please pass the keyboard to Alex", "");
    s.answer("Alex: How strong", "2");
    s.answer("Please pass the keyboard to Sam", "");
    s.answer(
        "Sam: What do you want Alex to understand today?",
        "the chores",
    );
    s.answer("press Enter to finish early", "");
    s.answer("Finished early.", "");
    s.answer("Alex: In your own words", "you want help with the chores");
    s.answer("Please pass the keyboard to Sam", "");
    s.answer("Sam: Did Alex capture what you meant?", "no");
    s.answer("Sam: What did Alex miss?", "that I feel alone with them");
    s.answer("Please pass the keyboard to Alex", "");
    let risk = "i want to kill myself";
    s.answer("Alex: In your own words", risk);
    s.expect(risk);
    // The ratings were cleared when the keyboard passed; what came after has scrolled off
    // the top by now, so the scrollback is really tested.
    assert!(
        !s.view().anywhere("Sam: How strong"),
        "{:?}",
        s.view().scrollback
    );
    assert!(
        s.view()
            .scrollback
            .iter()
            .any(|r| r.contains("Please pass the keyboard to Sam")),
        "{:?}",
        s.view().scrollback
    );
    expect_pause_screen(&mut s, risk, READY);
    assert!(s.view().scrollback.is_empty(), "{:?}", s.view().scrollback);
    s.send("c");
    s.answer("Please pass the keyboard to Alex", "");
    s.expect("type `safe` and press Enter");
    s.send_line("safe");
    s.expect("The question comes again");
    s.answer("Alex: In your own words", "you feel alone with the chores");
    s.answer("Please pass the keyboard to Sam", "");
    s.expect("Sam: Did Alex capture what you meant?");
    s.session
        .send(expectrl::ControlCode::EndOfText)
        .expect("Ctrl-C");
    s.expect_end();

    // A second run pauses and is left there.
    let (mut s, home) = Pty::new(spawn_in_with(
        home,
        &["run", "listening", "--as", "Sam", "--as", "Alex"],
        &region,
    ));
    s.answer("Press Enter to continue", "");
    s.answer("Sam: How strong", "3");
    s.answer("Please pass the keyboard to Alex", "");
    s.answer("Alex: How strong", "2");
    s.answer("Please pass the keyboard to Sam", "");
    s.answer("Sam: What do you want Alex to understand today?", risk);
    expect_pause_screen(&mut s, risk, READY);
    s.send("s");
    s.expect("When everyone is safe, `trustguide resume 2`");
    assert_eq!(s.expect_end(), Some(3));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("paused for safety"), "{history}");

    let (mut s, home) = Pty::new(spawn_in_with(home, &["resume", "2"], &region));
    s.expect("so first: is everyone safe?");
    s.expect(READY);
    assert!(
        !String::from_utf8_lossy(&s.printed).contains("What do you want Alex"),
        "no question before the safety question: {}",
        s.view().text()
    );
    s.send("c");
    s.answer("Please pass the keyboard to Sam", "");
    s.expect("type `safe` and press Enter");
    s.send_line("safe");
    s.expect("Sam: What do you want Alex to understand today?");
    s.session
        .send(expectrl::ControlCode::EndOfText)
        .expect("Ctrl-C");
    s.expect_end();

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
    answer(&mut s, "Name of the hurt partner", "Sam");
    answer(&mut s, "Name of the other partner (a first", "Alex");
    s.expect("how often do you feel the need to check in on Alex?")
        .expect("the first question");
    s.expect("Many times a day").expect("the menu");
    s.send_line("").expect("pick the first option");
    s.expect("Your check-ins for the coming week: twice a day.")
        .expect("the plan");
    // Times and dates as people type them; what could be misread is said back first.
    answer(&mut s, "(like 19:30, 7pm or noon)", "7:30");
    answer(
        &mut s,
        "7:30 — that's 07:30 in the morning; right? (For the evening, type 19:30.)",
        "no",
    );
    answer(&mut s, "(like 19:30, 7pm or noon)", "7:30 pm");
    answer(
        &mut s,
        "a second check-in, earlier in the day than 19:30?",
        "noon",
    );
    answer(
        &mut s,
        "(like 14 Dec, Saturday, tomorrow or in 10 days)",
        "2/12",
    );
    s.expect("2/12 could be 2 December or 12 February; please write the month as a word")
        .expect("a date that reads two ways is asked again");
    s.send_line("2 Dec").expect("type");
    answer(&mut s, "2 Dec — that's Wednesday 2 December; right?", "");
    // The schedule is shown before both are asked to agree to it.
    s.expect("Here is the schedule: check-ins twice a day, at 12:00 and 19:30, until")
        .expect("the schedule before the agreement");
    answer(&mut s, "do you both agree to this schedule", "yes");
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
    let listing = run(&["schedule", "--all"]);
    assert!(
        listing.contains("12:00") && listing.contains("19:30"),
        "the times as understood: {listing}"
    );
    let listed: Vec<String> = listing
        .lines()
        .filter(|l| {
            l.starts_with("  ") && !l.contains("made in session") && !l.contains(", every ")
        })
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

/// The question a resume asks when the flow was edited under a session goes through the
/// terminal front-end like every other: in `--plain` mode it is a typed yes or no.
#[test]
fn an_edited_flow_asks_at_the_keyboard_where_to_go_on() {
    let flow = "flow: edit\ntitle: Edit\nsteps:\n  - id: first\n    ask: text\n    prompt: First?\n  - id: second\n    ask: text\n    prompt: Second?\n  - id: third\n    ask: text\n    prompt: Third?\n";
    let home = tempfile::tempdir().expect("temp folder");
    std::fs::create_dir(home.path().join("flows")).expect("flows folder");
    let file = home.path().join("flows/edit.yaml");
    std::fs::write(&file, flow).expect("write flow");
    let (mut s, home) = spawn_in(home, &["run", "edit", "--plain"]);
    answer(&mut s, "First?", "one");
    answer(&mut s, "Second?", "two");
    answer(&mut s, "Third?", "/pause");
    s.expect("Session 1 is paused.").expect("paused");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(0));

    // The step answered last is renamed: the resume asks before going anywhere.
    std::fs::write(&file, flow.replace("id: second", "id: middle")).expect("edit flow");
    let (mut s, home) = spawn_in(home, &["resume", "--plain"]);
    s.expect("no longer exists (the flow was edited)")
        .expect("says why it asks");
    answer(&mut s, "Type yes or no and press Enter", "perhaps");
    answer(&mut s, "Please type yes or no.", "no");
    s.expect("not resumed; choose a step with --from STEP")
        .expect("says how to choose");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(1));

    let (mut s, home) = spawn_in(home, &["resume", "--plain"]);
    answer(&mut s, "Type yes or no and press Enter", "yes");
    s.expect("Going on from step `first` of `edit`.")
        .expect("goes on from the nearest earlier step");
    answer(&mut s, "First?", "one again");
    answer(&mut s, "Second?", "two");
    answer(&mut s, "Third?", "three");
    s.expect(expectrl::Eof).expect("ends");
    assert_eq!(exit_code(&s), Some(0));
    let history = String::from_utf8_lossy(&run_in(&home, &["history"]).stdout).into_owned();
    assert!(history.contains("completed"), "{history}");
}

/// A session open at the keyboard belongs to that trustguide: a second one is told so, and
/// `--take-over` takes it, after which the first stops at its next answer and saves nothing.
#[test]
fn a_session_open_in_one_terminal_is_refused_in_another_until_taken_over() {
    let mut flow = String::from("flow: steps\ntitle: Steps\nsteps:\n");
    for i in 0..6 {
        flow.push_str(&format!(
            "  - id: q{i}\n    ask: number\n    prompt: Question {i}?\n"
        ));
    }
    let home = tempfile::tempdir().expect("temp folder");
    std::fs::write(home.path().join("steps.yaml"), flow).expect("flow");
    std::fs::write(home.path().join("first.yaml"), "q0: 1\nq1: 2\n").expect("answers");
    std::fs::write(
        home.path().join("rest.yaml"),
        "q2: 30\nq3: 40\nq4: 50\nq5: 60\n",
    )
    .expect("answers");
    let first = run_in(&home, &["run", "steps.yaml", "--answers", "first.yaml"]);
    assert_eq!(first.status.code(), Some(1), "stops where the answers stop");

    let (mut s, home) = spawn_in(home, &["resume", "1"]);
    s.expect("Question 2?").expect("the keyboard has it open");

    let refused = run_in(&home, &["resume", "1", "--answers", "rest.yaml"]);
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(
        said.contains("session 1 is open in another trustguide (since 19:30 on 25 Nov)"),
        "{said}"
    );
    assert!(said.contains("`trustguide resume 1 --take-over`"), "{said}");

    let taken = run_in(
        &home,
        &["resume", "1", "--answers", "rest.yaml", "--take-over"],
    );
    let said = String::from_utf8_lossy(&taken.stderr).into_owned();
    assert_eq!(taken.status.code(), Some(0), "{said}");
    assert!(said.contains("Took session 1 over"), "{said}");

    // The first trustguide finds out at its next answer, and writes nothing.
    s.send_line("9").expect("type");
    let end = s.expect(expectrl::Eof).expect("it ends");
    let screen = String::from_utf8_lossy(end.as_bytes()).into_owned();
    assert!(
        screen.contains("taken over by another trustguide"),
        "told it no longer has the session: {screen}"
    );
    assert_eq!(exit_code(&s), Some(1));
    let shown = String::from_utf8_lossy(&run_in(&home, &["show", "1"]).stdout).into_owned();
    assert!(
        shown.contains("\n    30\n") && !shown.contains("\n    9\n"),
        "{shown}"
    );
    assert!(shown.contains(" · completed"), "{shown}");
}

/// What one partner rated for themselves, or answered privately, is gone from the screen and
/// its scrollback before the other takes the keyboard; a private question waits until the
/// person says they are alone; after private answers the screen is cleared.
#[test]
fn private_answers_and_own_ratings_leave_the_screen_before_the_keyboard_passes() {
    let flow = "flow: close\ntitle: Close\nparticipants: [partner_a, partner_b]\nsteps:\n\
        \x20 - id: closeness\n    ask: scale\n    who: both\n    prompt: How close did you feel this week?\n\
        \x20 - id: worry\n    ask: text\n    who: partner_b\n    private: true\n    prompt: What worries you that you have not said?\n\
        \x20 - id: hope\n    ask: text\n    who: partner_a\n    private: true\n    prompt: What do you hope for this weekend?\n\
        \x20 - say: Thank you both.\n";
    let (mut s, _home) = Pty::new(spawn_with_flow(
        "close.yaml",
        flow,
        &["run", "close.yaml", "--as", "Sam", "--as", "Alex"],
    ));
    s.answer("Sam: How close did you feel this week?", "7");
    s.expect("press Enter when you are ready");
    assert!(
        String::from_utf8_lossy(&s.printed).contains("Sam: How close"),
        "drawn before the pass"
    );
    let view = s.view();
    assert!(!view.anywhere("Sam: How close"), "{}", view.text());
    assert!(view.anywhere("The screen was cleared"), "{}", view.text());
    s.send_line("");
    s.answer("Alex: How close did you feel this week?", "3");
    s.expect("The next question is private.");
    s.answer("Alex, press Enter when you are alone at the keyboard.", "");
    s.answer("Alex: What worries you", "the money we owe");
    s.expect("Sam, the next question is private. Press Enter when you are alone at");
    s.expect("keyboard.");
    let view = s.view();
    for gone in ["the money we owe", "Alex: How close"] {
        assert!(!view.anywhere(gone), "{gone}: {}", view.text());
    }
    s.send_line("");
    s.answer("Sam: What do you hope for", "a quiet weekend");
    s.expect("Thank you both.");
    let view = s.view();
    assert!(!view.anywhere("a quiet weekend"), "{}", view.text());
    assert!(
        view.anywhere("(The screen was cleared: private answers do not stay on it.)"),
        "{}",
        view.text()
    );
    s.send_line("");
    assert_eq!(s.expect_end(), Some(0));
}

/// Names typed once are offered the next time, as they were or swapped, in one key; `--as`
/// still overrides, and `trustguide names --forget` drops them.
#[test]
fn the_couples_names_are_remembered_and_can_be_swapped_or_forgotten() {
    let (mut s, home) = spawn(&["run", "listening"]);
    answer(&mut s, "Name of the speaker", "Sam");
    answer(&mut s, "Name of the listener", "Alex");
    s.expect("Welcome, Sam and Alex.").expect("the names typed");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");

    // The next evening: the names are offered, and swapped in one key.
    let (mut s, home) = spawn_in(home, &["run", "listening"]);
    s.expect("Who is who today?").expect("the remembered names");
    s.expect("Sam as the speaker, Alex as the listener")
        .expect("as last time");
    s.expect("Alex as the speaker, Sam as the listener")
        .expect("swapped");
    s.expect("Other names").expect("or others");
    s.send("\x1b[B").expect("down");
    s.send_line("").expect("pick the swapped names");
    s.expect("Welcome, Alex and Sam.").expect("swapped");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");

    let names = String::from_utf8_lossy(&run_in(&home, &["names"]).stdout).into_owned();
    assert!(names.contains("speaker, listener: Alex, Sam"), "{names}");

    // --as overrides what is remembered.
    let (mut s, home) = spawn_in(home, &["run", "listening", "--as", "Kim", "--as", "Jo"]);
    s.expect("Welcome, Kim and Jo.").expect("the names given");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");

    let forgot = run_in(&home, &["names", "--forget"]);
    assert!(forgot.status.success(), "{forgot:?}");
    let (mut s, _home) = spawn_in(home, &["run", "listening"]);
    answer(&mut s, "Name of the speaker", "Sam");
    s.send(expectrl::ControlCode::EndOfText).expect("Ctrl-C");
    s.expect(expectrl::Eof).expect("ends");
}

/// weekly-progress asks each partner all seven ratings in one turn: one handover between
/// them, not seven, and the first partner's ratings are cleared before the second sees the
/// screen.
#[test]
fn weekly_progress_asks_each_partner_all_seven_ratings_in_one_turn() {
    const RATINGS: [&str; 7] = [
        "how calm did you feel",
        "How willing were you to be vulnerable",
        "How well did the two of you talk",
        "How free did you feel from the urge",
        "How close did you feel to each other",
        "How confident did you feel making plans",
        "How much did you appreciate",
    ];
    let (mut s, _home) = Pty::new(spawn(&[
        "run",
        "weekly-progress",
        "--as",
        "Sam",
        "--as",
        "Alex",
    ]));
    for rating in RATINGS {
        s.expect(rating);
        s.expect("(0 ");
        s.send_line("7");
    }
    s.answer("Please pass the keyboard to Alex", "");
    let view = s.view();
    assert!(
        !view.anywhere("· 7"),
        "Sam's ratings are cleared: {}",
        view.text()
    );
    for rating in RATINGS {
        s.expect(rating);
        s.expect("(0 ");
        s.send_line("6");
    }
    s.expect("Sam, the next question is private. Press Enter when you are alone at");
    s.expect("keyboard.");
    let printed = String::from_utf8_lossy(&s.printed).into_owned();
    assert_eq!(
        printed.matches("Please pass the keyboard").count(),
        2,
        "one handover for the fourteen ratings, one for Sam's private question"
    );
    s.session
        .send(expectrl::ControlCode::EndOfText)
        .expect("Ctrl-C");
    s.expect_end();
}
