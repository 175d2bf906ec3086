//! `trustguide completions SHELL` and `trustguide man`: the shell completion scripts and the
//! manual page, both generated from the argument definitions, so that neither can drift from
//! `--help`.
//!
//! clap_mangen's own page refers each subcommand to a page of its own (`trustguide-run(1)`),
//! which a program that installs one page does not have. So the page is put together here
//! from clap_mangen's sections and a COMMANDS section with every command and its options,
//! followed by what a user of this program needs and `--help` does not say: exit status,
//! environment, files, and where help is.

use std::io::{self, Write};

use clap::{Arg, Command};
use clap_complete::Shell;
use clap_mangen::roff::{bold, italic, roman, Roff};
use clap_mangen::Man;

/// Prints the completion script for `shell`.
pub fn completions(mut cmd: Command, shell: Shell) -> anyhow::Result<i32> {
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "trustguide", &mut out);
    out.flush()?;
    Ok(0)
}

/// Prints the manual page (roff).
pub fn man(cmd: Command) -> anyhow::Result<i32> {
    let mut out = io::stdout().lock();
    render(cmd, &mut out)?;
    out.flush()?;
    Ok(0)
}

fn render(mut cmd: Command, w: &mut dyn Write) -> io::Result<()> {
    cmd.build();
    let man = Man::new(cmd.clone()).manual("trustguide manual");
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    commands(&cmd).to_writer(w)?;
    extra().to_writer(w)?;
    man.render_version_section(w)
}

/// The commands somebody types: not hidden ones, and not clap's own `help`.
fn shown(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

fn commands(cmd: &Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for sub in shown(cmd) {
        let nested: Vec<&Command> = shown(sub).collect();
        if nested.is_empty() {
            command(&mut roff, &[sub.get_name()], sub);
        } else {
            for inner in nested {
                command(&mut roff, &[sub.get_name(), inner.get_name()], inner);
            }
        }
    }
    roff
}

/// One command: its usage line, what it does, and its options.
fn command(roff: &mut Roff, path: &[&str], cmd: &Command) {
    let mut usage = vec![bold(format!("trustguide {}", path.join(" ")))];
    for arg in cmd.get_positionals().filter(|a| !a.is_hide_set()) {
        let name = value_name(arg);
        usage.push(roman(" "));
        usage.push(if arg.is_required_set() {
            italic(name)
        } else {
            roman(format!("[{name}]"))
        });
    }
    if cmd.get_opts().any(|a| !a.is_hide_set()) {
        usage.push(roman(" [options]"));
    }
    roff.control("TP", []);
    roff.text(usage);
    if let Some(about) = cmd.get_long_about().or_else(|| cmd.get_about()) {
        roff.text([roman(sentence(&about.to_string()))]);
    }
    for arg in cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
    {
        roff.control("RS", []);
        roff.control("TP", []);
        let mut head = Vec::new();
        match (arg.get_short(), arg.get_long()) {
            (Some(s), Some(l)) => head.push(bold(format!("-{s}, --{l}"))),
            (None, Some(l)) => head.push(bold(format!("--{l}"))),
            (Some(s), None) => head.push(bold(format!("-{s}"))),
            (None, None) => head.push(italic(value_name(arg))),
        }
        if arg.get_long().is_some() && arg.get_action().takes_values() {
            head.push(roman(" "));
            head.push(italic(value_name(arg)));
        }
        roff.text(head);
        let mut help = sentence(
            &arg.get_long_help()
                .or_else(|| arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default(),
        );
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_owned())
            .collect();
        if !values.is_empty() {
            help.push_str(&format!(" One of: {}.", values.join(", ")));
        }
        // A flag's default (false) says nothing.
        if let Some(default) = arg
            .get_default_values()
            .first()
            .filter(|_| arg.get_action().takes_values())
        {
            help.push_str(&format!(" Default: {}.", default.to_string_lossy()));
        }
        roff.text([roman(help.trim().to_owned())]);
        roff.control("RE", []);
    }
}

/// Help text as a sentence: `--help` lines end without a full stop, a page's with one.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() || text.ends_with(['.', '?', '!', ':']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

fn value_name(arg: &Arg) -> String {
    arg.get_value_names()
        .and_then(|names| names.first())
        .map(|n| n.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}

/// What `--help` does not say.
fn extra() -> Roff {
    let mut roff = Roff::new();
    let paragraph = |roff: &mut Roff, text: &str| {
        roff.control("PP", []);
        roff.text([roman(text)]);
    };
    let item = |roff: &mut Roff, head: &str, text: &str| {
        roff.control("TP", []);
        roff.text([bold(head)]);
        roff.text([roman(text)]);
    };

    roff.control("SH", ["EXIT STATUS"]);
    item(
        &mut roff,
        "0",
        "The exercise was completed, stopped or paused, or the command did what it was asked.",
    );
    item(&mut roff, "1", "An error: a flow or answers file with mistakes (each named with its file and line), a session that cannot be opened, a file that could not be written. Nothing saved before is lost.");
    item(&mut roff, "2", "The command line was not understood.");
    item(&mut roff, "3", "A run ended at a safety pause.");
    item(&mut roff, "130", "Interrupted with Ctrl-C; the answers given so far are saved, and trustguide resume goes on from there.");

    roff.control("SH", ["ENVIRONMENT"]);
    item(&mut roff, "TRUSTGUIDE_HOME", "The data folder: the database of sessions (trustguide.db) and your own flows (flows/). By default the platform's data folder, e.g. ~/.local/share/trustguide on Linux, with flows in ~/.config/trustguide/flows.");
    item(&mut roff, "TRUSTGUIDE_REGION", "The region whose help resources are shown (US, CA, UK, IE, AU, NZ, DE, FR, ES, IT, NL, PL, or EU for the rest of the European Union); otherwise the one last given with --region, then the locale (LC_ALL, LC_MESSAGES, LANG) decides, and an unknown region gets the international list.");
    item(
        &mut roff,
        "NO_COLOR",
        "When set and not empty, nothing is coloured.",
    );

    roff.control("SH", ["FILES"]);
    item(&mut roff, "$TRUSTGUIDE_HOME/trustguide.db", "Every saved session, readable by its owner alone (the folder 0700, the files 0600). Nothing leaves the machine unless you export it; trustguide makes no network connections.");
    item(
        &mut roff,
        "./flows/, $TRUSTGUIDE_HOME/flows/",
        "Flows found before the built-in ones, by id.",
    );

    roff.control("SH", ["SAFETY"]);
    paragraph(&mut roff, "trustguide is educational, not therapy. Every typed answer is screened; when an answer suggests that someone may be at risk, the exercise pauses and shows where help is, without showing what was written. If anyone is in danger now, call your local emergency number. trustguide help-now lists the resources for your region without running anything. For abuse, severe betrayal or ongoing deception, please work with a licensed therapist.");

    roff.control("SH", ["EXAMPLES"]);
    for (example, what) in [
        (
            "trustguide run listening",
            "The active listening exercise, at the keyboard together.",
        ),
        (
            "trustguide resume",
            "Go on with the newest paused or interrupted session.",
        ),
        (
            "trustguide export 12 -o session.md",
            "A summary of session 12 to bring to a therapist.",
        ),
        (
            "trustguide check my-flow.yaml",
            "Every mistake in a flow you wrote, with how to fix it.",
        ),
        (
            "trustguide completions bash > ~/.local/share/bash-completion/completions/trustguide",
            "Tab completion in bash (also zsh, fish, elvish, powershell).",
        ),
    ] {
        roff.control("TP", []);
        roff.text([bold(example)]);
        roff.text([roman(what)]);
    }
    roff
}
