//! The terminal front-end: a couple at one keyboard.
//!
//! Two modes. The default uses dialoguer menus and prompts; `--plain` prints numbered choices
//! and reads whole lines, which screen readers handle well. Both wrap text to the terminal's
//! width, show "step 4 of ~12", and ask to pass the keyboard when the next question is for
//! someone else. Nothing typed is ever written to a temporary file (no editor prompts).

use std::io::{self, BufRead, Write};
use std::time::Duration;

use chrono::NaiveDate;
use console::{style, Term};
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input as TextInput, MultiSelect, Select};
use minijinja::Value;

use super::timer::{clock, wait_for_enter};
use super::{DriveError, FrontEnd, Input, PauseSignal, SafetyHelp};
use crate::engine::{accept, Finished, Person, Progress, Question, Reply, SafetyChoice};
use crate::flow::{AskKind, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Menus and line editing (dialoguer).
    Rich,
    /// Numbered choices and plain lines, for screen readers.
    Plain,
}

pub struct Terminal {
    mode: Mode,
    term: Term,
    theme: Box<dyn Theme>,
    color: bool,
    at_keyboard: Option<String>,
    /// Text was shown that nobody has confirmed reading yet.
    unread: bool,
    /// What a safety pause shows.
    help: Option<SafetyHelp>,
    /// The quick exit was used: leave nothing more on the screen.
    quick_exit: bool,
    today: NaiveDate,
    /// What pauses the session when typed at a prompt.
    pause: PauseSignal,
}

impl Terminal {
    /// A terminal front-end; `today` is the session's date, for checking date answers.
    pub fn new(mode: Mode, color: bool, today: NaiveDate) -> Terminal {
        let theme: Box<dyn Theme> = if color && mode == Mode::Rich {
            Box::new(ColorfulTheme::default())
        } else {
            Box::new(SimpleTheme)
        };
        Terminal {
            mode,
            term: Term::stdout(),
            theme,
            color,
            at_keyboard: None,
            unread: false,
            help: None,
            quick_exit: false,
            today,
            pause: PauseSignal::default(),
        }
    }

    /// What pauses the session when typed at a prompt: `/pause` and the couple's word.
    pub fn with_pause_signal(mut self, pause: PauseSignal) -> Terminal {
        self.pause = pause;
        self
    }

    /// What to show at a safety pause: the calm messages, help for the region, and cards.
    pub fn with_help(mut self, help: SafetyHelp) -> Terminal {
        self.help = Some(help);
        self
    }

    /// Whether the participants used the quick exit.
    pub fn left_quickly(&self) -> bool {
        self.quick_exit
    }

    fn width(&self) -> usize {
        let (_, cols) = self.term.size();
        (cols as usize).clamp(20, 88)
    }

    fn wrap(&self, text: &str) -> String {
        let width = self.width();
        text.lines()
            .map(|line| {
                if line.trim().is_empty() {
                    String::new()
                } else if let Some(heading) = line.strip_prefix('#') {
                    // Cards are Markdown; show a heading as a heading, not as hashes.
                    self.bold(heading.trim_start_matches('#').trim())
                } else {
                    // Keep a line's own indent (lists, quotes) on its continuation lines.
                    let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
                    let bullet =
                        line.trim_start().starts_with("- ") || line.trim_start().starts_with("* ");
                    let follow = if bullet {
                        format!("{indent}  ")
                    } else {
                        indent.clone()
                    };
                    let options = textwrap::Options::new(width).subsequent_indent(&follow);
                    textwrap::fill(line, options)
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn dim(&self, text: &str) -> String {
        if self.color {
            style(text).dim().to_string()
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        if self.color {
            style(text).bold().to_string()
        } else {
            text.to_owned()
        }
    }

    fn line(&self, text: &str) -> io::Result<()> {
        self.term.write_line(text)
    }

    /// Asks for the participants' names, for roles without one from `--as`.
    pub fn ask_names(
        &mut self,
        roles: &[String],
        given: &[String],
    ) -> Result<Vec<String>, DriveError> {
        let mut names = given.to_vec();
        for role in roles.iter().skip(given.len()) {
            let prompt = format!("Name for the {} role", role.replace('_', " "));
            let name = loop {
                let typed = self.read_text(&prompt, false)?;
                let typed = typed.trim().to_owned();
                if !typed.is_empty() {
                    break typed;
                }
                self.line("A name (or a nickname) is needed.")?;
            };
            names.push(name);
        }
        Ok(names)
    }

    fn read_line_plain(&self, prompt: &str) -> Result<String, DriveError> {
        {
            // Not held while reading: the Ctrl-C handler needs stdout to restore the cursor.
            let mut out = io::stdout().lock();
            write!(out, "{prompt}")?;
            out.flush()?;
        }
        let mut line = String::new();
        let n = io::stdin().lock().read_line(&mut line)?;
        if n == 0 {
            return Err(DriveError::InputClosed(prompt.trim().to_owned()));
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }

    fn read_text(&self, prompt: &str, allow_empty: bool) -> Result<String, DriveError> {
        match self.mode {
            Mode::Plain => self.read_line_plain(&format!("{prompt}: ")),
            Mode::Rich => Ok(TextInput::<String>::with_theme(self.theme.as_ref())
                .with_prompt(prompt)
                .allow_empty(allow_empty)
                .interact_text_on(&self.term)
                .map_err(dialoguer_error)?),
        }
    }

    fn handover(&mut self, person: &Person) -> Result<(), DriveError> {
        if self.at_keyboard.as_deref() == Some(person.name.as_str()) {
            return Ok(());
        }
        let first = self.at_keyboard.is_none();
        self.at_keyboard = Some(person.name.clone());
        if first {
            return Ok(());
        }
        self.line("")?;
        self.line(&self.bold(&format!("Please pass the keyboard to {}.", person.name)))?;
        self.read_line_plain(&format!(
            "{}, press Enter when you are ready. ",
            person.name
        ))?;
        Ok(())
    }

    /// Lets the couple read one text before the next replaces it on screen.
    fn wait_for_reader(&mut self) -> Result<(), DriveError> {
        if std::mem::take(&mut self.unread) {
            self.read_line_plain(&self.dim("Press Enter to continue. "))?;
        }
        Ok(())
    }

    fn header(&self, progress: Progress) -> io::Result<()> {
        self.line(&self.dim(&format!(
            "step {} of ~{}",
            progress.step, progress.estimated_total
        )))
    }

    fn ask_rich(&mut self, q: &Question<'_>, prompt: &str) -> Result<Input, DriveError> {
        let theme = self.theme.as_ref();
        let reply = match q.kind {
            AskKind::Choice { options } => {
                let labels: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
                match Select::with_theme(theme)
                    .with_prompt(prompt)
                    .items(&labels)
                    .default(0)
                    .report(!q.private)
                    .interact_on_opt(&self.term)
                    .map_err(dialoguer_error)?
                {
                    Some(i) => Reply::Pick(i),
                    None => return self.offer_pause(),
                }
            }
            AskKind::Multi { options, .. } => {
                let labels: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
                let prompt = format!("{prompt} (Space to select, Enter to confirm)");
                match MultiSelect::with_theme(theme)
                    .with_prompt(prompt)
                    .items(&labels)
                    .report(!q.private)
                    .interact_on_opt(&self.term)
                    .map_err(dialoguer_error)?
                {
                    Some(picks) => Reply::Picks(picks),
                    None => return self.offer_pause(),
                }
            }
            AskKind::Confirm { default } => {
                let mut c = Confirm::with_theme(theme)
                    .with_prompt(prompt)
                    .report(!q.private);
                if let Some(d) = default {
                    c = c.default(*d);
                }
                match c.interact_on_opt(&self.term).map_err(dialoguer_error)? {
                    Some(b) => Reply::Yes(b),
                    None => return self.offer_pause(),
                }
            }
            AskKind::List { .. } => {
                self.line(&self.dim("One entry per line; an empty line finishes the list."))?;
                let numbered = |n: usize| format!("{prompt} [{}]", n + 1);
                match self.read_lines_rich(&numbered, q.private)? {
                    Some(items) => Reply::Lines(items),
                    None => return Ok(Input::Pause),
                }
            }
            AskKind::Text {
                multiline: true, ..
            } => {
                self.line(&self.dim("Write as many lines as you like; an empty line finishes."))?;
                let first_then_dots = |n: usize| {
                    if n == 0 {
                        prompt.to_owned()
                    } else {
                        "…".to_owned()
                    }
                };
                match self.read_lines_rich(&first_then_dots, q.private)? {
                    Some(lines) => Reply::Lines(lines),
                    None => return Ok(Input::Pause),
                }
            }
            _ => {
                let hint = kind_hint(q.kind, q.optional);
                let prompt = if hint.is_empty() {
                    prompt.to_owned()
                } else {
                    format!("{prompt} {}", self.dim(&hint))
                };
                let (kind, optional, today) = (q.kind, q.optional, self.today);
                let pause = self.pause.clone();
                let typed = TextInput::<String>::with_theme(theme)
                    .with_prompt(prompt)
                    .allow_empty(true)
                    .report(!q.private)
                    // Refuse a bad answer in place, before dialoguer reports it as given.
                    .validate_with(move |typed: &String| -> Result<(), String> {
                        if pause.matches(typed) {
                            return Ok(());
                        }
                        accept(kind, optional, Reply::Text(typed.clone()), today).map(|_| ())
                    })
                    .interact_text_on(&self.term)
                    .map_err(dialoguer_error)?;
                if self.pause.matches(&typed) {
                    return Ok(Input::Pause);
                }
                Reply::Text(typed)
            }
        };
        Ok(Input::Reply(reply))
    }

    /// Lines until an empty one; `None` if someone typed the pause word.
    fn read_lines_rich(
        &self,
        prompt: &dyn Fn(usize) -> String,
        private: bool,
    ) -> Result<Option<Vec<String>>, DriveError> {
        let mut lines = Vec::new();
        loop {
            let typed = TextInput::<String>::with_theme(self.theme.as_ref())
                .with_prompt(prompt(lines.len()))
                .allow_empty(true)
                .report(!private)
                .interact_text_on(&self.term)
                .map_err(dialoguer_error)?;
            if self.pause.matches(&typed) {
                return Ok(None);
            }
            if typed.trim().is_empty() {
                return Ok(Some(lines));
            }
            lines.push(typed);
        }
    }

    fn offer_pause(&mut self) -> Result<Input, DriveError> {
        let pause = match self.mode {
            Mode::Rich => Confirm::with_theme(self.theme.as_ref())
                .with_prompt("Pause the session here?")
                .default(false)
                .interact_on(&self.term)
                .map_err(dialoguer_error)?,
            Mode::Plain => true,
        };
        if pause {
            Ok(Input::Pause)
        } else {
            Ok(Input::Reply(Reply::Skip))
        }
    }

    fn ask_plain(&mut self, q: &Question<'_>, prompt: &str) -> Result<Input, DriveError> {
        let reply = match q.kind {
            AskKind::Choice { options } | AskKind::Multi { options, .. } => {
                self.line(prompt)?;
                for (i, o) in options.iter().enumerate() {
                    self.line(&format!("  {}) {}", i + 1, o.label))?;
                }
                let how = if matches!(q.kind, AskKind::Multi { .. }) {
                    "Type the numbers, separated by commas"
                } else {
                    "Type a number"
                };
                let typed = self.read_line_plain(&format!("{how}: "))?;
                if self.pause.matches(&typed) {
                    return Ok(Input::Pause);
                }
                Reply::Text(typed)
            }
            AskKind::List { .. }
            | AskKind::Text {
                multiline: true, ..
            } => {
                self.line(prompt)?;
                self.line("One entry per line; an empty line finishes.")?;
                let mut lines = Vec::new();
                loop {
                    let typed = self.read_line_plain("> ")?;
                    if self.pause.matches(&typed) {
                        return Ok(Input::Pause);
                    }
                    if typed.trim().is_empty() {
                        break;
                    }
                    lines.push(typed);
                }
                Reply::Lines(lines)
            }
            _ => {
                let hint = kind_hint(q.kind, q.optional);
                self.line(&if hint.is_empty() {
                    prompt.to_owned()
                } else {
                    format!("{prompt} {hint}")
                })?;
                let typed = self.read_line_plain("> ")?;
                if self.pause.matches(&typed) {
                    return Ok(Input::Pause);
                }
                Reply::Text(typed)
            }
        };
        Ok(Input::Reply(reply))
    }
}

/// A short hint on what to type, for prompts that take a line.
fn kind_hint(kind: &AskKind, optional: bool) -> String {
    let mut hint = match kind {
        AskKind::Scale { min, max, labels } => {
            let label = |n: i64| {
                labels
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, l)| format!(" {l}"))
                    .unwrap_or_default()
            };
            format!("({min}{} to {max}{})", label(*min), label(*max))
        }
        AskKind::Confirm { .. } => "(yes/no)".to_owned(),
        AskKind::Number { integer: true, .. } => "(a whole number)".to_owned(),
        AskKind::Date { .. } => "(YYYY-MM-DD, or today / tomorrow)".to_owned(),
        AskKind::Time { .. } => "(HH:MM)".to_owned(),
        _ => String::new(),
    };
    if optional {
        hint = if hint.is_empty() {
            "(Enter to skip)".to_owned()
        } else {
            format!("{} or Enter to skip)", hint.trim_end_matches(')'))
        };
    }
    hint
}

/// A dialoguer failure as an I/O error (Ctrl-C never gets here: the signal handler exits).
fn dialoguer_error(e: dialoguer::Error) -> DriveError {
    match e {
        dialoguer::Error::IO(io) => DriveError::Io(io),
    }
}

impl FrontEnd for Terminal {
    fn say(&mut self, _step: &str, text: &str, progress: Progress) -> Result<(), DriveError> {
        self.wait_for_reader()?;
        self.unread = true;
        self.line("")?;
        self.header(progress)?;
        self.line(&self.wrap(text))?;
        Ok(())
    }

    fn timer(&mut self, _step: &str, seconds: u32) -> Result<(), DriveError> {
        let limit = Duration::from_secs(u64::from(seconds));
        self.unread = false;
        self.line("")?;
        match self.mode {
            Mode::Plain => {
                self.line(&format!(
                    "Timer: {}. Press Enter when you are done.",
                    clock(limit)
                ))?;
                let early = wait_for_enter(limit, |_| Ok(()))?;
                if !early {
                    self.line("Time is up. Press Enter to go on.")?;
                    self.read_line_plain("")?;
                }
            }
            Mode::Rich => {
                self.term.hide_cursor()?;
                let term = self.term.clone();
                let color = self.color;
                let result = wait_for_enter(limit, |left| {
                    let text =
                        format!("  {} left · press Enter to end the turn early", clock(left));
                    term.clear_line()?;
                    term.write_str(&if color {
                        style(text).cyan().to_string()
                    } else {
                        text
                    })
                });
                self.term.show_cursor()?;
                let early = result?;
                if early {
                    // Enter moved the cursor down a line; tidy the countdown away.
                    self.term.clear_last_lines(1)?;
                } else {
                    self.term.clear_line()?;
                }
                self.line(if early {
                    "  Turn ended."
                } else {
                    "  Time is up."
                })?;
            }
        }
        Ok(())
    }

    fn ask(&mut self, q: &Question<'_>, problem: Option<&str>) -> Result<Input, DriveError> {
        self.unread = false;
        if let Some(person) = &q.who {
            self.handover(person)?;
        }
        if let Some(problem) = problem {
            self.line(&if self.color {
                style(problem).yellow().to_string()
            } else {
                problem.to_owned()
            })?;
        } else {
            self.line("")?;
            self.header(q.progress)?;
        }
        let mut prompt = q.prompt.clone();
        if let Some(person) = &q.who {
            prompt = format!("{}: {prompt}", person.name);
        }
        if q.private && problem.is_none() {
            self.line(&self.dim("This answer is private: it will not stay on the screen."))?;
        }
        match self.mode {
            Mode::Rich => {
                // A prompt that would wrap confuses line editing (the redrawn line lands in
                // the wrong place), so a long question goes above a short prompt.
                let hint = console::measure_text_width(&kind_hint(q.kind, q.optional));
                let room = self.width().saturating_sub(24 + hint);
                if console::measure_text_width(&prompt) > room || prompt.contains('\n') {
                    if problem.is_none() {
                        self.line(&self.wrap(&prompt))?;
                    }
                    prompt = match &q.who {
                        Some(person) => person.name.clone(),
                        None => "Your answer".to_owned(),
                    };
                }
                self.ask_rich(q, &prompt)
            }
            Mode::Plain => self.ask_plain(q, &self.wrap(&prompt)),
        }
    }

    fn answered(&mut self, q: &Question<'_>, _value: &Value) -> Result<(), DriveError> {
        if q.private {
            if self.mode == Mode::Plain {
                // A line-mode terminal shows what was typed; scroll it away.
                self.term.clear_last_lines(1).ok();
            }
            self.line(&self.dim("(answer kept private)"))?;
        }
        Ok(())
    }

    fn safety_stop(
        &mut self,
        _step: &str,
        category: &str,
        stop: bool,
    ) -> Result<SafetyChoice, DriveError> {
        self.unread = false;
        let message = SafetyHelp::message(self.help.as_ref(), category);
        self.line("")?;
        self.line(&self.bold(&self.wrap(&message)))?;
        if let Some(help) = &self.help {
            self.line("")?;
            self.line(&self.wrap(&help.resources))?;
        }
        self.line("")?;
        self.line(&self.dim("Press Esc in the menu below to clear the screen and leave at once."))?;
        let mut choices: Vec<(&str, Option<SafetyChoice>)> = Vec::new();
        if !stop {
            choices.push((
                "Go on with the exercise (only if you both feel safe)",
                Some(SafetyChoice::Continue),
            ));
            choices.push((
                "Pause and save, to come back later",
                Some(SafetyChoice::Pause),
            ));
        }
        choices.push(("A minute to steady yourself", None));
        choices.push(("How to make a safety plan", None));
        choices.push(("End the session", Some(SafetyChoice::End)));
        loop {
            let labels: Vec<&str> = choices.iter().map(|(l, _)| *l).collect();
            let picked = match self.mode {
                Mode::Rich => Select::with_theme(self.theme.as_ref())
                    .with_prompt("What would you like to do?")
                    .items(&labels)
                    .default(labels.len() - 1)
                    .interact_on_opt(&self.term)
                    .map_err(dialoguer_error)?,
                Mode::Plain => {
                    self.line("What would you like to do?")?;
                    for (i, l) in labels.iter().enumerate() {
                        self.line(&format!("  {}) {l}", i + 1))?;
                    }
                    self.line("  x) Clear the screen and leave now")?;
                    let typed = self.read_line_plain("Type a number: ")?;
                    if typed.trim().eq_ignore_ascii_case("x") {
                        None
                    } else {
                        match typed.trim().parse::<usize>() {
                            Ok(n) if (1..=labels.len()).contains(&n) => Some(n - 1),
                            _ => continue,
                        }
                    }
                }
            };
            let Some(i) = picked else {
                // The quick exit: nothing left on the screen.
                self.quick_exit = true;
                self.term.clear_screen()?;
                return Ok(SafetyChoice::End);
            };
            match choices[i] {
                (_, Some(SafetyChoice::Continue)) => {
                    let sure = match self.mode {
                        Mode::Rich => Confirm::with_theme(self.theme.as_ref())
                            .with_prompt("Go on only if you both feel safe right now. Go on?")
                            .default(false)
                            .interact_on(&self.term)
                            .map_err(dialoguer_error)?,
                        Mode::Plain => {
                            let typed = self.read_line_plain(
                                "Go on only if you both feel safe right now. Go on? (yes/no) ",
                            )?;
                            crate::engine::parse_yes_no(&typed).unwrap_or(false)
                        }
                    };
                    if sure {
                        return Ok(SafetyChoice::Continue);
                    }
                }
                (_, Some(choice)) => return Ok(choice),
                (label, None) => {
                    let card = if label.starts_with("A minute") {
                        &self.help.as_ref().map(|h| h.grounding.clone())
                    } else {
                        &self.help.as_ref().map(|h| h.plan.clone())
                    };
                    if let Some(text) = card {
                        self.line("")?;
                        self.line(&self.wrap(text))?;
                        self.read_line_plain(&self.dim("Press Enter when you are ready. "))?;
                    }
                }
            }
        }
    }

    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError> {
        self.unread = false;
        if self.quick_exit {
            return Ok(());
        }
        self.line("")?;
        let text = match finished.outcome {
            Outcome::Completed => "The exercise is complete.",
            Outcome::Stopped => "The exercise has stopped here.",
            Outcome::Paused => "Paused. Take the time you need.",
            Outcome::SafetyStop => "Paused for safety.",
        };
        self.line(&self.dim(text))?;
        Ok(())
    }
}
