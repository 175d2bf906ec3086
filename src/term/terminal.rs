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
use dialoguer::{Input as TextInput, MultiSelect, Select};
use minijinja::Value;

use super::timer::{clock, wait_for_enter};
use crate::engine::{
    accept, echo, parse_yes_no, Finished, Person, Progress, Question, Reply, SafetyChoice,
    DATE_HINT, TIME_HINT,
};
use crate::flow::{AskKind, Outcome};
use crate::printable::printable;
use crate::run::{DriveError, FrontEnd, Input, PauseSignal, SafetyHelp, SAFETY_PAUSE_TEXT};

/// How the terminal asks: menus, or plain numbered lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Menus and line editing (dialoguer).
    Rich,
    /// Numbered choices and plain lines, for screen readers.
    Plain,
}

/// The interactive front-end: questions in the terminal (dialoguer menus and line editing,
/// or plain numbered lines for screen readers), the hand-over between partners, timers, and
/// the calm safety pause that clears the screen and its scrollback first.
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
    /// The quick exit offers to delete the session (not when nothing is saved).
    offer_forget: bool,
    /// At the quick exit, the person asked to delete the session.
    forget: bool,
    today: NaiveDate,
    /// What pauses the session when typed at a prompt.
    pause: PauseSignal,
    /// A private answer may still be on the screen (or in its scrollback).
    private_on_screen: bool,
    /// Someone's own rating on a `who: both` step is on the screen: the next person at the
    /// keyboard should not see it.
    own_answer_on_screen: bool,
    /// The person at the keyboard said they are alone, for the private questions now asked.
    alone: bool,
    /// A resumed session: nobody has been asked anything yet in this sitting.
    resumed: bool,
    /// The step whose "step 4 of ~12" line was shown last, so that a step's question does not
    /// repeat it under the step's own text.
    header_shown: Option<u64>,
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
            offer_forget: true,
            forget: false,
            today,
            pause: PauseSignal::default(),
            private_on_screen: false,
            own_answer_on_screen: false,
            alone: false,
            resumed: false,
            header_shown: None,
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

    /// A resumed session: `last` gave the last saved answer. A question for someone else
    /// starts with the handover; when who answered last is not known, the first question for
    /// a named person says whose it is.
    pub fn resumed_with(&mut self, last: Option<&Person>) {
        self.resumed = true;
        self.at_keyboard = last.map(|p| p.name.clone());
    }

    /// Whether the quick exit may offer to delete the session (`false` when nothing is saved).
    pub fn offer_to_forget(&mut self, offer: bool) {
        self.offer_forget = offer;
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

    /// Asks for the participants' names, for roles without one from `--as`. Names remembered
    /// from last time are offered first, as they were and (for two roles) swapped, so that a
    /// couple who take turns as speaker pick in one key; "other names" asks for each.
    pub fn ask_names(
        &mut self,
        roles: &[String],
        given: &[String],
        remembered: Option<&[String]>,
    ) -> Result<Vec<String>, DriveError> {
        if let Some(last) = remembered.filter(|r| given.is_empty() && r.len() == roles.len()) {
            let describe = |names: &[String]| {
                if roles.len() == 1 {
                    names[0].clone()
                } else {
                    roles
                        .iter()
                        .zip(names)
                        .map(|(role, name)| format!("{name} as the {}", role_words(role, roles)))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let mut choices = vec![last.to_vec()];
            if last.len() == 2 && last[0] != last[1] {
                choices.push(vec![last[1].clone(), last[0].clone()]);
            }
            let mut labels: Vec<String> = choices.iter().map(|c| describe(c)).collect();
            labels.push("Other names".to_owned());
            let question = if roles.len() == 1 {
                format!("Who is this, the {}?", role_words(&roles[0], roles))
            } else {
                "Who is who today?".to_owned()
            };
            if let Some(pick) = self.pick(&question, &labels)? {
                if let Some(names) = choices.get(pick) {
                    return Ok(names.clone());
                }
            }
        }
        let mut names = given.to_vec();
        for role in roles.iter().skip(given.len()) {
            let prompt = format!(
                "Name of the {} (a first name or nickname)",
                role_words(role, roles)
            );
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

    /// One of `labels`, from a menu (or a number in plain mode); `None` for Esc.
    fn pick(&mut self, question: &str, labels: &[String]) -> Result<Option<usize>, DriveError> {
        match self.mode {
            Mode::Rich => Ok(Select::with_theme(self.theme.as_ref())
                .with_prompt(question)
                .items(labels)
                .default(0)
                .interact_on_opt(&self.term)
                .map_err(dialoguer_error)?),
            Mode::Plain => {
                self.line(question)?;
                for (i, label) in labels.iter().enumerate() {
                    self.line(&format!("  {}) {label}", i + 1))?;
                }
                loop {
                    let typed = self.read_line_plain("Type a number: ")?;
                    match typed.trim().parse::<usize>() {
                        Ok(n) if (1..=labels.len()).contains(&n) => return Ok(Some(n - 1)),
                        _ => {
                            self.line(&format!("Please type a number from 1 to {}.", labels.len()))?
                        }
                    }
                }
            }
        }
    }

    fn read_line_plain(&self, prompt: &str) -> Result<String, DriveError> {
        {
            // Not held while reading: the Ctrl-C handler needs stdout to restore the cursor.
            let mut out = io::stdout().lock();
            write!(out, "{prompt}")?;
            out.flush()?;
        }
        loop {
            let mut bytes = Vec::new();
            let n = io::stdin().lock().read_until(b'\n', &mut bytes)?;
            if n == 0 {
                return Err(DriveError::InputClosed(prompt.trim().to_owned()));
            }
            match String::from_utf8(bytes) {
                Ok(line) => return Ok(line.trim_end_matches(['\n', '\r']).to_owned()),
                // Refused, never guessed at: a mangled answer would be saved as if given.
                Err(_) => {
                    let mut out = io::stdout().lock();
                    write!(
                        out,
                        "That line could not be read as text (it is not UTF-8); please type it again.\n{prompt}"
                    )?;
                    out.flush()?;
                }
            }
        }
    }

    fn read_text(&self, prompt: &str, allow_empty: bool) -> Result<String, DriveError> {
        match self.mode {
            Mode::Plain => self.read_line_plain(&format!("{prompt}: ")),
            Mode::Rich => self.line_input(
                TextInput::<String>::with_theme(self.theme.as_ref())
                    .with_prompt(prompt)
                    .allow_empty(allow_empty),
                prompt,
                Some(prompt),
                "(skipped)",
            ),
        }
    }

    /// Asks for the keyboard to be passed when the question is for someone else. What the
    /// last person answered privately, or rated for themselves, is cleared from the screen
    /// (and its scrollback) first. Before a private question, the new person is asked to say
    /// they are alone at the keyboard.
    fn handover(&mut self, person: &Person, private: bool) -> Result<(), DriveError> {
        if self.at_keyboard.as_deref() == Some(person.name.as_str()) {
            return Ok(());
        }
        let first = self.at_keyboard.is_none();
        self.at_keyboard = Some(person.name.clone());
        if first && !std::mem::take(&mut self.resumed) {
            return Ok(());
        }
        self.resumed = false;
        self.alone = false;
        // The new person's question says which step it is, whatever the other one saw.
        self.header_shown = None;
        if std::mem::take(&mut self.private_on_screen)
            || std::mem::take(&mut self.own_answer_on_screen)
        {
            self.clear_all()?;
            self.line(&self.dim(
                "(The screen was cleared, so that each of you answers without the other's answers in view.)",
            ))?;
        }
        self.line("")?;
        self.line(&self.bold(&if first {
            format!("The next question is for {}.", person.name)
        } else {
            format!("Please pass the keyboard to {}.", person.name)
        }))?;
        if private {
            self.enter_alone(&format!(
                "{}, the next question is private. Press Enter when you are alone at the keyboard. ",
                person.name
            ))?;
            self.alone = true;
        } else {
            self.enter_alone(&format!(
                "{}, press Enter when you are ready. ",
                person.name
            ))?;
        }
        Ok(())
    }

    /// Before a private question: the person at the keyboard says they are alone.
    fn ask_alone(&mut self, who: Option<&Person>) -> Result<(), DriveError> {
        self.line("")?;
        self.line(&self.bold("The next question is private."))?;
        match who {
            Some(person) => self.enter_alone(&format!(
                "{}, press Enter when you are alone at the keyboard. ",
                person.name
            ))?,
            None => self.enter_alone(
                "Press Enter when you are alone at the keyboard, with nobody watching the screen. ",
            )?,
        }
        self.alone = true;
        Ok(())
    }

    /// After private answers: clear the screen and its scrollback, and say so.
    fn clear_private(&mut self) -> Result<(), DriveError> {
        if std::mem::take(&mut self.private_on_screen) {
            self.clear_all()?;
            self.line(&self.dim("(The screen was cleared: private answers do not stay on it.)"))?;
        }
        Ok(())
    }

    /// Lets the couple read one text before the next replaces it on screen.
    fn wait_for_reader(&mut self) -> Result<(), DriveError> {
        if std::mem::take(&mut self.unread) {
            self.enter_alone(&self.dim("Press Enter to continue. "))?;
        }
        Ok(())
    }

    fn header(&mut self, progress: Progress) -> io::Result<()> {
        if self.header_shown.replace(progress.step) == Some(progress.step) {
            return Ok(());
        }
        self.line(&self.dim(&format!(
            "step {} of ~{}",
            progress.step, progress.estimated_total
        )))
    }

    fn clear_all(&mut self) -> io::Result<()> {
        self.header_shown = None;
        self.term.write_str(CLEAR_ALL)?;
        self.term.flush()
    }

    /// A key at the pause screen, as a lowercase letter (`x` for Esc). Plain mode reads a line.
    fn read_choice_key(&self) -> Result<String, DriveError> {
        match self.mode {
            Mode::Rich => Ok(match self.term.read_key()? {
                console::Key::Escape => "x".to_owned(),
                console::Key::Char(c) => c.to_lowercase().collect(),
                _ => String::new(),
            }),
            Mode::Plain => Ok(self.read_line_plain("> ")?.trim().to_lowercase()),
        }
    }

    /// Asks the person who wrote the answer, alone at the keyboard, whether everyone is safe;
    /// going on takes the typed word [`SAFE_WORD`].
    fn confirm_safe(&mut self, who: Option<&Person>) -> Result<bool, DriveError> {
        self.clear_all()?;
        match who {
            Some(person) => {
                self.line(&self.bold(&format!("Please pass the keyboard to {}.", person.name)))?;
                self.read_line_plain(&format!(
                    "{}, press Enter when you are alone at the keyboard. ",
                    person.name
                ))?;
                self.at_keyboard = Some(person.name.clone());
            }
            None => {
                self.read_line_plain(
                    "Whoever wrote the last answer: press Enter when you are alone at the keyboard. ",
                )?;
            }
        }
        self.line("")?;
        self.line(&self.wrap(&format!(
            "Is everyone safe right now, you included? If so, type `{SAFE_WORD}` and press Enter to go on. Anything else goes back."
        )))?;
        let typed = self.read_line_plain("> ")?;
        if typed.trim().eq_ignore_ascii_case(SAFE_WORD) {
            self.line(&self.wrap(
                "Thank you. The question comes again; what you wrote before was not saved.",
            ))?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// The quick exit: the screen is cleared at once, one question offers to forget the
    /// session, and the screen is cleared again.
    fn quick_leave(&mut self) -> Result<SafetyChoice, DriveError> {
        self.quick_exit = true;
        self.clear_all()?;
        if self.offer_forget {
            let forget = match self.mode {
                Mode::Rich => {
                    self.term.write_str(
                        "Delete this session from this computer? y deletes it; any other key leaves. ",
                    )?;
                    matches!(self.term.read_key()?, console::Key::Char('y' | 'Y'))
                }
                Mode::Plain => {
                    let typed = self.read_line_plain(
                        "Delete this session from this computer? Type y and Enter to delete it; Enter alone leaves. ",
                    )?;
                    matches!(typed.trim().to_lowercase().as_str(), "y" | "yes")
                }
            };
            self.forget = forget;
            self.clear_all()?;
        }
        Ok(SafetyChoice::End)
    }

    /// `hint_inline`: the kind's hint ("(0 to 10)") goes after the prompt; when it would not
    /// fit there, it was shown on the line above.
    fn ask_rich(
        &mut self,
        q: &Question<'_>,
        prompt: &str,
        hint_inline: bool,
    ) -> Result<Input, DriveError> {
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
            AskKind::Confirm { default } => match self.yes_no_rich(prompt, *default, !q.private)? {
                Some(b) => Reply::Yes(b),
                None => return Ok(Input::Pause),
            },
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
                let label = prompt;
                let prompt = if hint.is_empty() || !hint_inline {
                    prompt.to_owned()
                } else {
                    format!("{prompt} {}", self.dim(&hint))
                };
                let (kind, optional, today) = (q.kind, q.optional, self.today);
                let pause = self.pause.clone();
                let input = TextInput::<String>::with_theme(theme)
                    .with_prompt(&prompt)
                    .allow_empty(true)
                    // Refuse a bad answer in place, before it is reported as given.
                    .validate_with(move |typed: &String| -> Result<(), String> {
                        if pause.matches(typed) {
                            return Ok(());
                        }
                        accept(kind, optional, Reply::Text(typed.clone()), today).map(|_| ())
                    });
                let typed =
                    self.line_input(input, &prompt, (!q.private).then_some(label), "(skipped)")?;
                if self.pause.matches(&typed) {
                    return Ok(Input::Pause);
                }
                Reply::Text(typed)
            }
        };
        Ok(Input::Reply(reply))
    }

    /// A line typed at a dialoguer prompt, with what it leaves on the screen tidied. dialoguer
    /// clears only the last row of an answer long enough to wrap, which left "? Sam › how
    /// lonely I…" above the report; those rows are cleared here, and the answer is reported
    /// once ("✔ Sam · …"), unless it is private. A refused answer leaves no tick.
    /// `prompt` is the prompt as drawn (with its hint); `report` the words the report repeats
    /// (without the hint), or `None` for nothing.
    fn line_input(
        &self,
        input: TextInput<'_, String>,
        prompt: &str,
        report: Option<&str>,
        when_empty: &str,
    ) -> Result<String, DriveError> {
        let typed = input
            .report(false)
            .interact_text_on(&self.term)
            .map_err(dialoguer_error)?;
        let mut drawn = String::new();
        let _ = self.theme.format_input_prompt(&mut drawn, prompt, None);
        let width = console::measure_text_width(&drawn) + console::measure_text_width(&typed);
        let cols = usize::from(self.term.size().1).max(1);
        let extra_rows = width.saturating_sub(1) / cols;
        if extra_rows > 0 {
            self.term.clear_last_lines(extra_rows)?;
        }
        if let Some(label) = report {
            if typed.trim().is_empty() {
                // Enter alone: say what it meant rather than leave "✔ Sam ·" hanging.
                self.report(label, &self.dim(when_empty))?;
            } else {
                self.report(label, &printable(&typed))?;
            }
        }
        Ok(typed)
    }

    /// The line that stays once a question is answered: "✔ Sam · what was given". A long
    /// answer wraps between words, not wherever the terminal cuts it.
    fn report(&self, label: &str, answer: &str) -> Result<(), DriveError> {
        let mut line = String::new();
        let _ = self
            .theme
            .format_input_prompt_selection(&mut line, label, answer);
        let cols = usize::from(self.term.size().1).max(20);
        let options = textwrap::Options::new(cols).subsequent_indent("  ");
        self.term.write_line(&textwrap::fill(&line, options))?;
        Ok(())
    }

    /// Lines until an empty one; `None` if someone typed the pause word.
    fn read_lines_rich(
        &self,
        prompt: &dyn Fn(usize) -> String,
        private: bool,
    ) -> Result<Option<Vec<String>>, DriveError> {
        let mut lines = Vec::new();
        loop {
            let shown = prompt(lines.len());
            let input = TextInput::<String>::with_theme(self.theme.as_ref())
                .with_prompt(&shown)
                .allow_empty(true);
            let typed = self.line_input(
                input,
                &shown,
                (!private).then_some(shown.as_str()),
                "(finished)",
            )?;
            if self.pause.matches(&typed) {
                return Ok(None);
            }
            if typed.trim().is_empty() {
                return Ok(Some(lines));
            }
            lines.push(typed);
        }
    }

    /// A yes-or-no question in rich mode, read as a whole line (`y`, `yes`, `n`, `no`; Enter
    /// alone takes the default), so that nothing typed after the first key spills into the
    /// next prompt. `None` when someone typed the pause word.
    fn yes_no_rich(
        &self,
        prompt: &str,
        default: Option<bool>,
        report: bool,
    ) -> Result<Option<bool>, DriveError> {
        let hint = match default {
            Some(true) => "(Y/n)",
            Some(false) => "(y/N)",
            None => "(yes/no)",
        };
        let pause = self.pause.clone();
        let shown = format!("{prompt} {}", self.dim(hint));
        let input = TextInput::<String>::with_theme(self.theme.as_ref())
            .with_prompt(&shown)
            .allow_empty(true)
            .validate_with(move |typed: &String| -> Result<(), &str> {
                let empty_takes_default = typed.trim().is_empty() && default.is_some();
                if pause.matches(typed) || empty_takes_default || parse_yes_no(typed).is_some() {
                    Ok(())
                } else {
                    Err("Please type yes or no (or y or n), then Enter.")
                }
            });
        let typed = self.line_input(input, &shown, None, "")?;
        if self.pause.matches(&typed) {
            return Ok(None);
        }
        let answer = parse_yes_no(&typed).or(default);
        if report {
            // Said back as a word, whether "y", "YES" or Enter alone was typed.
            let word = match answer {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            };
            self.report(prompt, word)?;
        }
        Ok(answer)
    }

    /// Waits for Enter alone. Anything typed first is not kept, and the person is told so,
    /// rather than losing it without a word.
    fn enter_alone(&self, prompt: &str) -> Result<(), DriveError> {
        // Wrapped like any text, so that a long prompt does not break inside a word.
        let prompt = format!("{} ", self.wrap(prompt.trim_end()));
        loop {
            let typed = self.read_line_plain(&prompt)?;
            if typed.trim().is_empty() {
                return Ok(());
            }
            self.line(&self.dim(
                "(What was typed there is not kept: this is only a moment to hand over or read. Press Enter alone to go on.)",
            ))?;
        }
    }

    fn offer_pause(&mut self) -> Result<Input, DriveError> {
        let pause = match self.mode {
            Mode::Rich => self
                .yes_no_rich("Pause the session here?", Some(false), true)?
                .unwrap_or(true),
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

/// What a key at the pause screen does.
#[derive(Debug, Clone, Copy)]
enum PauseAction {
    Choose(SafetyChoice),
    /// Show one of the help texts: `h` the region's help, `b` grounding, `p` a safety plan.
    Read(char),
    /// The quick exit.
    Leave,
}

/// The pause screen's keys. They work in both modes (a letter, and Enter in plain mode);
/// Esc leaves too where keys are read one at a time.
fn pause_menu(stop: bool, mode: Mode) -> Vec<(&'static str, &'static str, PauseAction)> {
    let mut menu = vec![
        ("h", "all the help for your region", PauseAction::Read('h')),
        (
            "b",
            "a minute to steady yourself (breathing)",
            PauseAction::Read('b'),
        ),
        ("p", "how to make a safety plan", PauseAction::Read('p')),
    ];
    if stop {
        menu.push((
            "e",
            "stop here for today (the session is kept)",
            PauseAction::Choose(SafetyChoice::End),
        ));
    } else {
        menu.push((
            "c",
            "go on with the exercise, once everyone is safe",
            PauseAction::Choose(SafetyChoice::Continue),
        ));
        menu.push((
            "s",
            "stop for now and save, to come back later",
            PauseAction::Choose(SafetyChoice::Pause),
        ));
        menu.push((
            "e",
            "end this session",
            PauseAction::Choose(SafetyChoice::End),
        ));
    }
    menu.push(match mode {
        Mode::Rich => (
            "x",
            "(or Esc) leave now: clears the screen",
            PauseAction::Leave,
        ),
        Mode::Plain => ("x", "leave now: clears the screen", PauseAction::Leave),
    });
    menu
}

/// Clears the screen and the terminal's scrollback, and puts the cursor at the top.
const CLEAR_ALL: &str = "\x1b[H\x1b[2J\x1b[3J";

/// What a person types to go on after a safety pause: a word, not a single key.
pub const SAFE_WORD: &str = "safe";

/// A flow's text as paragraphs: a single line break inside a paragraph is a space, as in
/// Markdown, so that a `say:` block written at any width wraps to the terminal's (at 60
/// columns, "met her through / work in / March" does not break where the YAML did). A blank
/// line starts a paragraph; a list item (`- `, `* `, `1. `), a heading (`#`), a quote and an
/// indented line start their own lines, as does a line after one that ends with a colon or
/// two spaces; the lines after a list item go on with it.
fn reflow(text: &str) -> String {
    let starts_block = |line: &str| {
        let t = line.trim_start();
        t.starts_with("- ")
            || t.starts_with("* ")
            || t.starts_with('#')
            || t.starts_with('>')
            || t.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let is_item = |line: &str| {
        let t = line.trim_start();
        t.starts_with("- ") || t.starts_with("* ")
    };
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<&str> = None;
    // Inside a list item, the lines that follow (indented or not) go on with the item, as
    // Markdown's lazy continuation does, until a blank line or the next item.
    let mut in_item = false;
    for line in text.lines() {
        let mut join = false;
        if let Some(before) = previous {
            let blank = line.trim().is_empty() || before.trim().is_empty();
            let ends_line = before.ends_with("  ") || before.trim_end().ends_with(':');
            join = !blank
                && !starts_block(line)
                && !ends_line
                && (in_item
                    || (!line.starts_with([' ', '\t'])
                        && !before.starts_with([' ', '\t'])
                        && !starts_block(before)));
            out.push(if join { ' ' } else { '\n' });
        }
        out.push_str(if join { line.trim_start() } else { line });
        in_item = is_item(line) || (in_item && join);
        previous = Some(line);
    }
    out
}

/// A role as words in a sentence: `hurt_partner` is "hurt partner", and `partner_a` and
/// `partner_b` are the "first partner" and the "second partner".
/// A role as words to show people: `hurt_partner` is "hurt partner", `partner_a` "first
/// partner". A bare `partner` beside another partner role (checkin-schedule's `hurt_partner`
/// and `partner`) is "other partner", since both people are partners.
fn role_words(role: &str, roles: &[String]) -> String {
    let words = role.replace('_', " ");
    if role == "partner" && roles.iter().any(|r| r != role && r.ends_with("partner")) {
        return "other partner".to_owned();
    }
    match words.rsplit_once(' ') {
        Some((rest, "a")) => format!("first {rest}"),
        Some((rest, "b")) => format!("second {rest}"),
        _ => words,
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
        AskKind::Date { .. } => format!("({DATE_HINT})"),
        AskKind::Time { .. } => format!("({TIME_HINT})"),
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
        self.clear_private()?;
        self.unread = true;
        self.line("")?;
        self.header(progress)?;
        self.line(&self.wrap(&reflow(&printable(text))))?;
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
                    let text = format!("  {} left · press Enter to finish early", clock(left));
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
                    "  Finished early."
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
            self.handover(person, q.private)?;
        }
        if q.private {
            if !self.alone {
                self.ask_alone(q.who.as_ref())?;
            }
        } else {
            self.clear_private()?;
            self.alone = false;
        }
        let problem = problem.map(printable);
        let problem = problem.as_deref();
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
        let mut prompt = reflow(&printable(&q.prompt));
        if let Some(person) = &q.who {
            prompt = format!("{}: {prompt}", person.name);
        }
        if q.private && problem.is_none() {
            self.line(&self.dim("This answer is private: it will not stay on the screen."))?;
        }
        let mut hint_inline = true;
        if self.mode == Mode::Rich {
            // A prompt that would wrap confuses line editing (the redrawn line lands in the
            // wrong place), so a long question goes above a short prompt.
            let hint_text = kind_hint(q.kind, q.optional);
            let hint = console::measure_text_width(&hint_text);
            let room = self.width().saturating_sub(24 + hint);
            if console::measure_text_width(&prompt) > room || prompt.contains('\n') {
                if problem.is_none() {
                    self.line(&self.wrap(&prompt))?;
                }
                prompt = match &q.who {
                    Some(person) => person.name.clone(),
                    None => "Your answer".to_owned(),
                };
                // On a narrow terminal even a short prompt and a long hint ("like 14 Dec,
                // Saturday, …") would wrap: the hint goes on its own line above.
                if console::measure_text_width(&prompt) > room {
                    hint_inline = false;
                    if problem.is_none() {
                        self.line(&self.dim(&self.wrap(&hint_text)))?;
                    }
                }
            }
        }
        loop {
            let input = match self.mode {
                Mode::Rich => self.ask_rich(q, &prompt, hint_inline)?,
                Mode::Plain => self.ask_plain(q, &self.wrap(&prompt))?,
            };
            // Say back a date or time that could be misread ("7:30 — that's 07:30 in the
            // morning; right?"), and ask again if it was not what was meant.
            if let Input::Reply(Reply::Text(typed)) = &input {
                let valid = accept(q.kind, q.optional, Reply::Text(typed.clone()), self.today);
                if let (Ok(_), Some(question)) = (valid, echo(q.kind, typed, self.today)) {
                    if self.confirm(&question)? != Some(true) {
                        continue;
                    }
                }
            }
            return Ok(input);
        }
    }

    fn answered(&mut self, q: &Question<'_>, _value: &Value) -> Result<(), DriveError> {
        if q.turns > 1 {
            self.own_answer_on_screen = true;
        }
        if q.private {
            self.private_on_screen = true;
            if self.mode == Mode::Plain {
                // A line-mode terminal shows what was typed; scroll it away.
                self.term.clear_last_lines(1).ok();
            }
            self.line(&self.dim(if q.keep {
                "(answer kept private)"
            } else {
                "(answer not saved)"
            }))?;
        }
        Ok(())
    }

    /// The pause screen: the screen and its scrollback cleared first (the answer that caused
    /// it must not stay in view), then the same calm words whatever was noticed, the most
    /// urgent help on the first lines, and everything else one key away.
    fn safety_stop(
        &mut self,
        _step: &str,
        stop: bool,
        who: Option<&Person>,
    ) -> Result<SafetyChoice, DriveError> {
        self.unread = false;
        loop {
            self.clear_all()?;
            self.line(&self.bold(&self.wrap(SAFETY_PAUSE_TEXT)))?;
            self.line("")?;
            let urgent = self.help.as_ref().map_or(
                "If anyone is in danger right now, call your local emergency number.",
                |h| h.urgent.as_str(),
            );
            self.line(&self.wrap(urgent))?;
            self.line("")?;
            let menu = pause_menu(stop, self.mode);
            self.line(match self.mode {
                Mode::Rich => "Press a key:",
                Mode::Plain => "Type a letter and press Enter:",
            })?;
            for (key, label, _) in &menu {
                self.line(&format!("  {key}  {label}"))?;
            }
            let key = self.read_choice_key()?;
            let Some((_, _, action)) = menu.iter().find(|(k, _, _)| *k == key) else {
                continue;
            };
            match action {
                PauseAction::Leave => return self.quick_leave(),
                PauseAction::Read(which) => {
                    let text = match (&self.help, which) {
                        (Some(h), 'h') => h.resources.clone(),
                        (Some(h), 'b') => h.grounding.clone(),
                        (Some(h), _) => h.plan.clone(),
                        (None, _) => String::new(),
                    };
                    self.clear_all()?;
                    self.line(&self.wrap(&text))?;
                    self.line("")?;
                    self.read_line_plain(&self.dim("Press Enter to go back. "))?;
                }
                PauseAction::Choose(SafetyChoice::Continue) => {
                    if self.confirm_safe(who)? {
                        return Ok(SafetyChoice::Continue);
                    }
                }
                PauseAction::Choose(choice) => return Ok(*choice),
            }
        }
    }

    fn finished(&mut self, finished: &Finished) -> Result<(), DriveError> {
        self.unread = false;
        if self.quick_exit {
            return Ok(());
        }
        self.clear_private()?;
        self.line("")?;
        let text = match finished.outcome {
            Outcome::Completed => "The exercise is complete.",
            Outcome::Stopped => "The exercise has stopped here.",
            Outcome::Paused => "Paused. Take the time you need.",
            Outcome::SafetyStop if finished.resumable => "Stopped for now, and saved.",
            Outcome::SafetyStop => "Paused for safety. The exercise ends here for today.",
        };
        self.line(&self.dim(text))?;
        Ok(())
    }

    fn confirm(&mut self, question: &str) -> Result<Option<bool>, DriveError> {
        let question = self.wrap(question);
        let yes = match self.mode {
            Mode::Rich => {
                let Some(yes) = self.yes_no_rich(&question, Some(true), true)? else {
                    // The pause word, at a question outside the flow: leave it unanswered.
                    return Ok(Some(false));
                };
                yes
            }
            Mode::Plain => {
                self.line(&question)?;
                loop {
                    let typed = self.read_line_plain("Type yes or no and press Enter: ")?;
                    match parse_yes_no(&typed) {
                        Some(yes) => break yes,
                        None => self.line("Please type yes or no.")?,
                    }
                }
            }
        };
        Ok(Some(yes))
    }

    fn left_quickly(&self) -> bool {
        self.quick_exit
    }

    fn wants_forgotten(&self) -> bool {
        self.forget
    }
}

#[cfg(test)]
mod tests {
    use super::{reflow, role_words};

    #[test]
    fn a_say_block_wraps_as_paragraphs() {
        let said = "List the facts, one per line. Short lines are fine, such as \"met her through\nwork in March\".\n\nAgreed:\n- one thing\n- another\n  that goes on\n\n## Next\nThen this.";
        assert_eq!(
            reflow(said),
            "List the facts, one per line. Short lines are fine, such as \"met her through work in March\".\n\nAgreed:\n- one thing\n- another that goes on\n\n## Next\nThen this."
        );
        assert_eq!(
            reflow("- Answer plainly, and do not add\nexplanations.\n- Expect the same\n  questions again.\n\nThen."),
            "- Answer plainly, and do not add explanations.\n- Expect the same questions again.\n\nThen."
        );
        assert_eq!(
            reflow("Your promises:\n  Sam: walk\n  Alex: cook"),
            "Your promises:\n  Sam: walk\n  Alex: cook"
        );
        // A line set apart by its indent stays apart from the paragraph after it.
        assert_eq!(
            reflow("Jo asks:\n  \"a text\"\nTake a breath\nfirst."),
            "Jo asks:\n  \"a text\"\nTake a breath first."
        );
    }

    #[test]
    fn roles_read_as_words() {
        let none: Vec<String> = Vec::new();
        assert_eq!(role_words("speaker", &none), "speaker");
        assert_eq!(role_words("hurt_partner", &none), "hurt partner");
        assert_eq!(role_words("partner_a", &none), "first partner");
        assert_eq!(role_words("partner_b", &none), "second partner");
        let pair = vec!["hurt_partner".to_owned(), "partner".to_owned()];
        assert_eq!(role_words("partner", &pair), "other partner");
        assert_eq!(role_words("hurt_partner", &pair), "hurt partner");
        assert_eq!(role_words("partner", &none), "partner");
    }
}
