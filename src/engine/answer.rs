//! Turning what a person typed (or an answers file says) into a checked answer value.
//!
//! Every front-end goes through [`accept`], so the terminal, the plain mode and headless runs
//! agree on what a valid answer is and say the same thing when it is not.

use chrono::{Duration, NaiveDate, NaiveTime};
use minijinja::value::ValueKind;
use minijinja::Value;

use crate::flow::{AskKind, ChoiceOption, DateBound};

/// The longest free-text answer kept, in characters. Longer text is refused with a message
/// (and never truncated silently).
pub const MAX_TEXT_CHARS: usize = 20_000;

/// What a front-end hands the engine as an answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A typed line: text, a number, a date, a choice by number or label, `yes`/`no`.
    Text(String),
    /// Several typed lines: list items, or multiline text.
    Lines(Vec<String>),
    /// From a yes/no widget.
    Yes(bool),
    /// From a menu: the index of the chosen option.
    Pick(usize),
    /// From a multi-select menu: indexes of the chosen options.
    Picks(Vec<usize>),
    /// A value from an answers file.
    Value(Value),
    /// No answer (allowed on `optional` steps).
    Skip,
}

/// A checked answer.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The answer as the flow sees it (text, a number, a list, `true`/`false`...).
    pub value: Value,
    /// For `choice`: the chosen option (its `goto` and `safety` apply).
    pub option: Option<usize>,
}

fn none() -> Value {
    Value::from(())
}

fn is_blank(reply: &Reply) -> bool {
    match reply {
        Reply::Skip => true,
        Reply::Text(t) => t.trim().is_empty(),
        Reply::Lines(l) => l.iter().all(|x| x.trim().is_empty()),
        Reply::Value(v) => {
            v.is_none() || v.is_undefined() || v.as_str().is_some_and(|s| s.trim().is_empty())
        }
        _ => false,
    }
}

/// Checks `reply` against the ask kind. The error is a sentence to show the person.
pub fn accept(
    kind: &AskKind,
    optional: bool,
    reply: Reply,
    today: NaiveDate,
) -> Result<Accepted, String> {
    if is_blank(&reply) && !matches!(kind, AskKind::Multi { .. } | AskKind::List { .. }) {
        return if optional {
            Ok(Accepted {
                value: none(),
                option: None,
            })
        } else {
            Err("An answer is needed here.".into())
        };
    }
    match kind {
        AskKind::Text {
            min_length,
            max_length,
            ..
        } => text(reply, min_length, max_length),
        AskKind::Choice { options } => choice(reply, options),
        AskKind::Multi { options, min, max } => multi(reply, options, min, max, optional),
        AskKind::Confirm { .. } => confirm(reply),
        AskKind::Scale { min, max, .. } => scale(reply, min, max),
        AskKind::Number { min, max, integer } => number_answer(reply, min, max, integer),
        AskKind::Date { min, max } => date(reply, min, max, today),
        AskKind::Time { min, max } => time(reply, min, max),
        AskKind::List { min, max } => list(reply, min, max, optional),
    }
}

/// An accepted answer that is not a menu pick.
fn plain(value: Value) -> Result<Accepted, String> {
    Ok(Accepted {
        value,
        option: None,
    })
}

/// A text: at most [`MAX_TEXT_CHARS`], within the step's lengths.
fn text(
    reply: Reply,
    min_length: &Option<usize>,
    max_length: &Option<usize>,
) -> Result<Accepted, String> {
    let text = match reply {
        Reply::Text(t) => t,
        Reply::Lines(l) => l.join("\n"),
        Reply::Value(v) => scalar_text(&v).ok_or("Expected text.")?,
        _ => return Err("Expected text.".into()),
    };
    let text = text.trim_end_matches(['\n', '\r']).to_owned();
    let len = text.chars().count();
    if len > MAX_TEXT_CHARS {
        return Err(format!(
            "That answer is {len} characters; at most {MAX_TEXT_CHARS} fit here."
        ));
    }
    if let Some(min) = min_length {
        if len < *min {
            return Err(format!("Please write at least {min} characters."));
        }
    }
    if let Some(max) = max_length {
        if len > *max {
            return Err(format!(
                "Please keep it to {max} characters or fewer (this is {len})."
            ));
        }
    }
    plain(Value::from(text))
}

/// One option: by number, value, label or its position in the menu.
fn choice(reply: Reply, options: &[ChoiceOption]) -> Result<Accepted, String> {
    let index = match reply {
        Reply::Pick(i) if i < options.len() => i,
        Reply::Pick(_) => return Err("That is not one of the options.".into()),
        Reply::Text(t) => {
            find_option(options, &Value::from(t.trim())).ok_or_else(|| not_an_option(options))?
        }
        Reply::Value(v) => find_option(options, &v).ok_or_else(|| not_an_option(options))?,
        _ => return Err(not_an_option(options)),
    };
    Ok(Accepted {
        value: options[index].value.clone(),
        option: Some(index),
    })
}

/// Some options, each once, in menu order, as many as the step allows.
fn multi(
    reply: Reply,
    options: &[ChoiceOption],
    min: &Option<usize>,
    max: &Option<usize>,
    optional: bool,
) -> Result<Accepted, String> {
    let picks: Vec<usize> = match reply {
        Reply::Picks(p) => p,
        Reply::Skip => Vec::new(),
        Reply::Text(t) => t
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| find_option(options, &Value::from(s)).ok_or_else(|| not_an_option(options)))
            .collect::<Result<_, _>>()?,
        Reply::Value(v) if v.kind() == ValueKind::Seq => v
            .try_iter()
            .map_err(|e| e.to_string())?
            .map(|item| find_option(options, &item).ok_or_else(|| not_an_option(options)))
            .collect::<Result<_, _>>()?,
        Reply::Value(v) if v.is_none() => Vec::new(),
        Reply::Value(v) => {
            vec![find_option(options, &v).ok_or_else(|| not_an_option(options))?]
        }
        _ => return Err("Expected a selection of the options.".into()),
    };
    let mut unique = Vec::new();
    for p in picks {
        if p >= options.len() {
            return Err("That is not one of the options.".into());
        }
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    unique.sort_unstable();
    let lo = min.unwrap_or(if optional { 0 } else { 1 });
    if unique.len() < lo {
        return Err(format!("Please choose at least {lo}."));
    }
    if let Some(hi) = max {
        if unique.len() > *hi {
            return Err(format!("Please choose at most {hi}."));
        }
    }
    plain(Value::from(
        unique
            .iter()
            .map(|&i| options[i].value.clone())
            .collect::<Vec<_>>(),
    ))
}

/// Yes or no.
fn confirm(reply: Reply) -> Result<Accepted, String> {
    let yes = match reply {
        Reply::Yes(b) => b,
        Reply::Text(t) => parse_yes_no(&t).ok_or("Please answer yes or no.")?,
        Reply::Value(v) if v.kind() == ValueKind::Bool => v.is_true(),
        Reply::Value(v) => v
            .as_str()
            .and_then(parse_yes_no)
            .ok_or("Expected yes or no (true or false).")?,
        _ => return Err("Please answer yes or no.".into()),
    };
    plain(Value::from(yes))
}

/// A whole number on the scale (a menu position counts from `min`).
fn scale(reply: Reply, min: &i64, max: &i64) -> Result<Accepted, String> {
    let n = match reply {
        Reply::Text(t) => t.trim().parse::<i64>().ok(),
        Reply::Value(v) => whole_number(&v),
        Reply::Pick(i) => Some(*min + i as i64),
        _ => None,
    };
    match n {
        Some(n) if (*min..=*max).contains(&n) => plain(Value::from(n)),
        _ => Err(format!("Please give a whole number from {min} to {max}.")),
    }
}

/// A number within the bounds; a whole number when the step says so.
fn number_answer(
    reply: Reply,
    min: &Option<f64>,
    max: &Option<f64>,
    integer: &bool,
) -> Result<Accepted, String> {
    let n = match reply {
        Reply::Text(t) => t.trim().parse::<f64>().ok(),
        Reply::Value(v) => number(&v),
        _ => None,
    }
    .filter(|n| n.is_finite());
    let range = match (min, max) {
        (Some(lo), Some(hi)) => format!(" from {lo} to {hi}"),
        (Some(lo), None) => format!(" of at least {lo}"),
        (None, Some(hi)) => format!(" of at most {hi}"),
        (None, None) => String::new(),
    };
    let what = if *integer {
        "a whole number"
    } else {
        "a number"
    };
    let Some(n) = n else {
        return Err(format!("Please give {what}{range}."));
    };
    if (*integer && n.fract() != 0.0)
        || min.is_some_and(|lo| n < lo)
        || max.is_some_and(|hi| n > hi)
    {
        return Err(format!("Please give {what}{range}."));
    }
    if *integer || (n.fract() == 0.0 && n.abs() < 9.0e15) {
        plain(Value::from(n as i64))
    } else {
        plain(Value::from(n))
    }
}

/// A date (`2026-12-14`, `14 Dec`, `Saturday`, `tomorrow`...), within bounds relative to
/// `today`.
fn date(
    reply: Reply,
    min: &Option<DateBound>,
    max: &Option<DateBound>,
    today: NaiveDate,
) -> Result<Accepted, String> {
    let text = match reply {
        Reply::Text(t) => t,
        Reply::Value(v) => scalar_text(&v).ok_or("Expected a date like 2026-03-14.")?,
        _ => return Err("Expected a date like 2026-03-14.".into()),
    };
    let lo = min.map(|b| resolve(b, today));
    let hi = max.map(|b| resolve(b, today));
    let date = super::when::read_date(&text, today, lo)?;
    if lo.is_some_and(|lo| date < lo) || hi.is_some_and(|hi| date > hi) {
        let day = |d: NaiveDate| super::when::day_words(d, today);
        return Err(match (lo, hi) {
            (Some(lo), Some(hi)) => {
                format!("Please choose a date from {} to {}.", day(lo), day(hi))
            }
            (Some(lo), None) => format!("Please choose a date on or after {}.", day(lo)),
            (None, Some(hi)) => format!("Please choose a date on or before {}.", day(hi)),
            (None, None) => unreachable!("a bound was crossed"),
        });
    }
    plain(Value::from(date.format("%Y-%m-%d").to_string()))
}

/// A time of day (`19:30`, `7pm`, `noon`...) within the bounds.
fn time(
    reply: Reply,
    min: &Option<NaiveTime>,
    max: &Option<NaiveTime>,
) -> Result<Accepted, String> {
    let text = match reply {
        Reply::Text(t) => t,
        Reply::Value(v) => scalar_text(&v).ok_or("Expected a time like 19:30.")?,
        _ => return Err("Expected a time like 19:30.".into()),
    };
    let time = super::when::read_time(&text)?;
    if min.is_some_and(|lo| time < lo) || max.is_some_and(|hi| time > hi) {
        let lo = min
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_else(|| "00:00".into());
        let hi = max
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_else(|| "23:59".into());
        return Err(format!("Please choose a time from {lo} to {hi}."));
    }
    plain(Value::from(time.format("%H:%M").to_string()))
}

/// Entries of text, blank ones dropped, as many as the step allows.
fn list(
    reply: Reply,
    min: &Option<usize>,
    max: &Option<usize>,
    optional: bool,
) -> Result<Accepted, String> {
    let items: Vec<String> = match reply {
        Reply::Lines(l) => l,
        Reply::Text(t) => t.lines().map(str::to_owned).collect(),
        Reply::Skip => Vec::new(),
        Reply::Value(v) if v.kind() == ValueKind::Seq => v
            .try_iter()
            .map_err(|e| e.to_string())?
            .map(|item| scalar_text(&item).ok_or_else(|| "Expected a list of texts.".to_owned()))
            .collect::<Result<_, _>>()?,
        Reply::Value(v) if v.is_none() => Vec::new(),
        Reply::Value(v) => vec![scalar_text(&v).ok_or("Expected a list of texts.")?],
        _ => return Err("Expected a list of entries.".into()),
    };
    let items: Vec<String> = items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(long) = items.iter().find(|s| s.chars().count() > MAX_TEXT_CHARS) {
        return Err(format!(
            "An entry is {} characters; at most {MAX_TEXT_CHARS} fit here.",
            long.chars().count()
        ));
    }
    let lo = min.unwrap_or(if optional { 0 } else { 1 });
    if items.len() < lo {
        return Err(format!(
            "Please add at least {lo} {}.",
            if lo == 1 { "entry" } else { "entries" }
        ));
    }
    if let Some(hi) = max {
        if items.len() > *hi {
            return Err(format!("Please keep it to {hi} entries or fewer."));
        }
    }
    plain(Value::from(items))
}

/// An answer in words for whoever reads it later (exports, `show`): an option's label rather
/// than its value, a scale with its range ("7 of 10"), yes or no, a date with its weekday,
/// list entries one per line. The saved value itself does not change.
pub fn answer_words(kind: &AskKind, value: &Value) -> String {
    if value.is_none() || value.is_undefined() {
        return "(no answer)".to_owned();
    }
    let label = |options: &[ChoiceOption], v: &Value| {
        find_option(options, v)
            .map(|i| options[i].label.clone())
            .unwrap_or_else(|| v.to_string())
    };
    let items = || -> Vec<Value> { value.try_iter().map(|it| it.collect()).unwrap_or_default() };
    match kind {
        AskKind::Choice { options } => label(options, value),
        AskKind::Multi { options, .. } => {
            let chosen: Vec<String> = items().iter().map(|v| label(options, v)).collect();
            if chosen.is_empty() {
                "(none chosen)".to_owned()
            } else {
                chosen.join("; ")
            }
        }
        AskKind::Scale { min, max, labels } => {
            let n = value.as_i64().unwrap_or_default();
            let words = labels
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, l)| format!(" ({l})"))
                .unwrap_or_default();
            if *min == 0 || *min == 1 {
                format!("{n} of {max}{words}")
            } else {
                format!("{n} on a scale from {min} to {max}{words}")
            }
        }
        AskKind::Confirm { .. } => match value.is_true() {
            true => "Yes".to_owned(),
            false => "No".to_owned(),
        },
        AskKind::Date { .. } => value
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(|d| d.format("%A %-d %B %Y").to_string())
            .unwrap_or_else(|| value.to_string()),
        AskKind::List { .. } => items()
            .iter()
            .map(|v| format!("- {}", scalar_text(v).unwrap_or_else(|| v.to_string())))
            .collect::<Vec<_>>()
            .join("\n"),
        AskKind::Text { .. } | AskKind::Number { .. } | AskKind::Time { .. } => {
            scalar_text(value).unwrap_or_else(|| value.to_string())
        }
    }
}

fn not_an_option(options: &[ChoiceOption]) -> String {
    let labels: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
    format!("Please choose one of: {}.", labels.join(", "))
}

/// An option by value, then by label (ignoring case), then by its 1-based number.
fn find_option(options: &[ChoiceOption], given: &Value) -> Option<usize> {
    if let Some(i) = options.iter().position(|o| o.value == *given) {
        return Some(i);
    }
    let text = scalar_text(given)?;
    let text = text.trim();
    options
        .iter()
        .position(|o| {
            o.label.eq_ignore_ascii_case(text)
                || o.value
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(text))
        })
        .or_else(|| {
            let n: usize = text.parse().ok()?;
            (1..=options.len()).contains(&n).then(|| n - 1)
        })
}

fn scalar_text(v: &Value) -> Option<String> {
    match v.kind() {
        ValueKind::String => v.as_str().map(str::to_owned),
        ValueKind::Number | ValueKind::Bool => Some(v.to_string()),
        _ => None,
    }
}

fn whole_number(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn number(v: &Value) -> Option<f64> {
    if v.kind() == ValueKind::Number {
        f64::try_from(v.clone()).ok()
    } else {
        v.as_str().and_then(|s| s.trim().parse().ok())
    }
}

/// A typed yes or no (`y`, `yes`, `true`, `1` and their opposites, any case); `None` for
/// anything else.
pub fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "y" | "yes" | "true" | "1" => Some(true),
        "n" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

pub(super) fn resolve(bound: DateBound, today: NaiveDate) -> NaiveDate {
    match bound {
        DateBound::Fixed(d) => d,
        DateBound::DaysFromToday(n) => today + Duration::days(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).expect("valid date")
    }

    fn options(labels: &[&str]) -> Vec<ChoiceOption> {
        labels
            .iter()
            .map(|l| ChoiceOption {
                label: l.to_string(),
                value: Value::from(*l),
                goto: None,
                safety: None,
            })
            .collect()
    }

    #[test]
    fn scale_checks_its_range() {
        let kind = AskKind::Scale {
            min: 0,
            max: 10,
            labels: vec![],
        };
        assert_eq!(
            accept(&kind, false, Reply::Text("7".into()), today()).map(|a| a.value),
            Ok(Value::from(7))
        );
        assert!(accept(&kind, false, Reply::Text("11".into()), today()).is_err());
        assert!(accept(&kind, false, Reply::Text("seven".into()), today()).is_err());
    }

    #[test]
    fn answers_in_words_for_a_reader() {
        let scale = AskKind::Scale {
            min: 0,
            max: 10,
            labels: vec![(10, "very close".to_owned())],
        };
        assert_eq!(answer_words(&scale, &Value::from(7)), "7 of 10");
        assert_eq!(
            answer_words(&scale, &Value::from(10)),
            "10 of 10 (very close)"
        );
        let mut with_values = options(&["Yes", "Not yet"]);
        with_values[1].value = Value::from("not_yet");
        let choice = AskKind::Choice {
            options: with_values,
        };
        let value = choice_value(&choice, "Not yet");
        assert_eq!(value, Value::from("not_yet"));
        assert_eq!(answer_words(&choice, &value), "Not yet");
        let date = AskKind::Date {
            min: None,
            max: None,
        };
        assert_eq!(
            answer_words(&date, &Value::from("2026-12-09")),
            "Wednesday 9 December 2026"
        );
        let list = AskKind::List {
            min: None,
            max: None,
        };
        assert_eq!(
            answer_words(&list, &Value::from(vec!["a", "b"])),
            "- a\n- b"
        );
        assert_eq!(
            answer_words(&AskKind::Confirm { default: None }, &Value::from(false)),
            "No"
        );
        assert_eq!(answer_words(&list, &Value::from(())), "(no answer)");
    }

    fn choice_value(kind: &AskKind, label: &str) -> Value {
        accept(kind, false, Reply::Text(label.into()), today())
            .expect("an option")
            .value
    }

    #[test]
    fn choice_by_label_number_or_value() {
        let kind = AskKind::Choice {
            options: options(&["Calm", "Tense"]),
        };
        for given in ["tense", "2", "Tense"] {
            let a = accept(&kind, false, Reply::Text(given.into()), today()).expect(given);
            assert_eq!(a.option, Some(1));
        }
        let err =
            accept(&kind, false, Reply::Text("angry".into()), today()).expect_err("not an option");
        assert_eq!(err, "Please choose one of: Calm, Tense.");
    }

    #[test]
    fn empty_answers_need_optional() {
        let kind = AskKind::Text {
            multiline: false,
            min_length: None,
            max_length: None,
        };
        assert!(accept(&kind, false, Reply::Text("  ".into()), today()).is_err());
        let a = accept(&kind, true, Reply::Text("".into()), today()).expect("optional");
        assert!(a.value.is_none());
    }

    #[test]
    fn huge_text_is_refused_not_truncated() {
        let kind = AskKind::Text {
            multiline: false,
            min_length: None,
            max_length: None,
        };
        let huge = "a".repeat(1_000_000);
        let err = accept(&kind, false, Reply::Text(huge), today()).expect_err("too long");
        assert!(err.contains("1000000 characters"), "{err}");
    }

    #[test]
    fn dates_resolve_relative_bounds() {
        let kind = AskKind::Date {
            min: Some(DateBound::DaysFromToday(0)),
            max: Some(DateBound::DaysFromToday(7)),
        };
        let a = accept(&kind, false, Reply::Text("tomorrow".into()), today()).expect("tomorrow");
        assert_eq!(a.value.as_str(), Some("2026-11-26"));
        assert!(accept(&kind, false, Reply::Text("2026-12-25".into()), today()).is_err());
    }

    #[test]
    fn multi_and_list_respect_counts() {
        let kind = AskKind::Multi {
            options: options(&["a", "b", "c"]),
            min: Some(2),
            max: Some(2),
        };
        assert!(accept(&kind, false, Reply::Text("a".into()), today()).is_err());
        let a = accept(&kind, false, Reply::Text("c, a".into()), today()).expect("two");
        assert_eq!(a.value, Value::from(vec!["a", "c"]));
        let list = AskKind::List {
            min: None,
            max: Some(2),
        };
        let a = accept(
            &list,
            false,
            Reply::Lines(vec!["x".into(), "".into(), "y".into()]),
            today(),
        )
        .expect("list");
        assert_eq!(a.value.len(), Some(2));
    }
}
