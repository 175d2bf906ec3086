//! Dates and times as people type them.
//!
//! A couple planning their next check-in types `Saturday`, `14 Dec`, `in 10 days` or `7:30 pm`,
//! not `2026-12-12T19:30`. The English parsing is the `interim` crate's; what is trustguide's
//! own is the policy around it: words interim does not know (`noon`, `in 10 days`, `14th`),
//! refusing a day-month order that reads two ways (`3/4`), refusing a time that is really a
//! date, and saying back, in words, any reading that could be misread, so that the person can
//! correct it before it is saved. The saved value is always the plain `YYYY-MM-DD` or `HH:MM`.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use interim::{parse_date_string, Dialect};

use crate::flow::AskKind;

/// What the prompt's hint says a date may look like.
pub const DATE_HINT: &str = "like 14 Dec, Saturday, tomorrow or in 10 days";
/// What the prompt's hint says a time may look like.
pub const TIME_HINT: &str = "like 19:30, 7pm or noon";

const DATE_HELP: &str =
    "Please give a date, like 14 Dec, 14/12, Saturday, next Saturday, tomorrow or in 10 days.";
const TIME_HELP: &str = "Please give a time, like 19:30, 7pm, 7:30 pm or noon.";

/// Lowercases, trims, and rewrites the words interim does not know into ones it does.
fn normalise(text: &str) -> String {
    let mut text = text.trim().to_lowercase();
    for (from, to) in [
        ("a.m.", "am"),
        ("p.m.", "pm"),
        ("o'clock", ""),
        ("o’clock", ""),
    ] {
        text = text.replace(from, to);
    }
    let text = text.trim().trim_end_matches('.');
    let text = text.strip_prefix("in ").unwrap_or(text);
    let text = text.strip_prefix("on ").unwrap_or(text);
    let text = text.strip_prefix("at ").unwrap_or(text);
    // "a week", "a fortnight": one of the unit.
    let text = match text {
        "a week" | "one week" => "1 week".to_owned(),
        "a fortnight" | "fortnight" => "2 weeks".to_owned(),
        other => other.to_owned(),
    };
    // "14th Dec" -> "14 Dec"; "19h30" -> "19:30".
    text.split_whitespace()
        .map(|word| {
            let digits = word.trim_end_matches(char::is_alphabetic);
            let suffix = &word[digits.len()..];
            if !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
                && matches!(suffix, "st" | "nd" | "rd" | "th")
            {
                return digits.to_owned();
            }
            match word.split_once('h') {
                Some((h, m))
                    if !h.is_empty()
                        && h.len() <= 2
                        && m.len() == 2
                        && h.chars().chain(m.chars()).all(|c| c.is_ascii_digit()) =>
                {
                    format!("{h}:{m}")
                }
                _ => word.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn at(date: NaiveDate, hour: u32, min: u32, sec: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour, min, sec).unwrap_or(NaiveTime::MIN);
    Utc.from_utc_datetime(&date.and_time(time))
}

/// A day in words: "Saturday 12 December", with the year when it is not this year's.
pub(crate) fn day_words(date: NaiveDate, today: NaiveDate) -> String {
    if date.year() == today.year() {
        date.format("%A %-d %B").to_string()
    } else {
        date.format("%A %-d %B %Y").to_string()
    }
}

/// Reads a typed date; `today` anchors `tomorrow`, `Saturday` and `in 10 days`. A day and
/// month without a year that falls before `earliest` (the step's first allowed day) is
/// taken in the next year: in December, "14 Jan" for a check-in means the coming January.
pub(crate) fn read_date(
    text: &str,
    today: NaiveDate,
    earliest: Option<NaiveDate>,
) -> Result<NaiveDate, String> {
    let date = read_any_date(text, today)?;
    let names_a_year = text
        .split(|c: char| !c.is_ascii_digit())
        .any(|digits| digits.len() == 4);
    if earliest.is_some_and(|lo| date < lo) && !names_a_year && !text.trim().starts_with(['+', '-'])
    {
        if let Some(next) = date.with_year(date.year() + 1) {
            if earliest.is_some_and(|lo| next >= lo) && (next - today).num_days() <= 366 {
                return Ok(next);
            }
        }
    }
    Ok(date)
}

fn read_any_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let trimmed = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
        return Ok(date);
    }
    // `+7d` and `-3d`, as in a flow's bounds and older answers files.
    if let Some(bound) = crate::flow::load::parse_date_bound(trimmed) {
        return Ok(match bound {
            crate::flow::DateBound::Fixed(d) => d,
            crate::flow::DateBound::DaysFromToday(n) => today + chrono::Duration::days(n),
        });
    }
    let text = normalise(trimmed);
    let base = at(today, 12, 0, 0);
    let date = |dialect| {
        parse_date_string(&text, base, dialect)
            .ok()
            .map(|d| d.date_naive())
            // A bare number is read as a year ("7" as the year 7): not what anyone meant.
            .filter(|d| (d.year() - today.year()).abs() <= 100)
    };
    match (date(Dialect::Uk), date(Dialect::Us)) {
        // "3/4": day first or month first. (Words may differ too: "next Saturday" is the
        // coming one to some and the one after to others; that reading is said back instead.)
        (Some(uk), Some(us)) if uk != us && text.contains('/') => Err(format!(
            "{trimmed} could be {} or {}; please write the month as a word, like {}.",
            uk.format("%-d %B"),
            us.format("%-d %B"),
            uk.format("%-d %b"),
        )),
        (Some(d), _) | (None, Some(d)) => Ok(d),
        (None, None) => Err(DATE_HELP.to_owned()),
    }
}

/// Reads a typed time of day.
pub(crate) fn read_time(text: &str) -> Result<NaiveTime, String> {
    let text = normalise(text);
    match text.as_str() {
        "noon" | "midday" => return Ok(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN)),
        "midnight" => return Ok(NaiveTime::MIN),
        _ => {}
    }
    // A bare hour: "7" is 07:00, "19" is 19:00 (said back when it could be either).
    if let Ok(hour) = text.parse::<u32>() {
        return NaiveTime::from_hms_opt(hour, 0, 0).ok_or_else(|| TIME_HELP.to_owned());
    }
    // Read against two days with an odd second: a time of day keeps the day and sets the
    // seconds to 0; a date ("Saturday", "tomorrow") moves the day or keeps the odd second.
    let days = [
        NaiveDate::from_ymd_opt(2001, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(2001, 1, 3).unwrap_or(NaiveDate::MIN),
    ];
    let mut times = days.iter().map(|&day| {
        parse_date_string(&text, at(day, 3, 17, 41), Dialect::Uk)
            .ok()
            .filter(|t| t.date_naive() == day && t.second() == 0)
            .map(|t| t.time())
    });
    match (times.next().flatten(), times.next().flatten()) {
        (Some(a), Some(b)) if a == b => Ok(a),
        _ => Err(TIME_HELP.to_owned()),
    }
}

/// The question that says back how a typed date or time was understood, where it could be
/// misread: "7:30 — that's 07:30 in the morning; right?", "next Saturday — that's Saturday
/// 12 December; right?". `None` when the text was unambiguous (`2026-12-12`, `19:30`, `7pm`)
/// or is not a valid answer at all.
pub fn echo(kind: &AskKind, text: &str, today: NaiveDate) -> Option<String> {
    let typed = text.trim();
    match kind {
        AskKind::Date { min, .. } => {
            if NaiveDate::parse_from_str(typed, "%Y-%m-%d").is_ok() {
                return None;
            }
            let earliest = min.map(|b| super::answer::resolve(b, today));
            let date = read_date(typed, today, earliest).ok()?;
            let when = match (date - today).num_days() {
                0 => " (today)",
                1 => " (tomorrow)",
                _ => "",
            };
            Some(format!(
                "{typed} — that's {}{when}; right?",
                day_words(date, today)
            ))
        }
        AskKind::Time { .. } => {
            let time = read_time(typed).ok()?;
            let words = normalise(typed);
            let says_which_half = words.contains("am")
                || words.contains("pm")
                || matches!(words.as_str(), "noon" | "midday" | "midnight");
            let leading_zero = words.starts_with('0');
            if says_which_half || leading_zero || !(1..=11).contains(&time.hour()) {
                return None;
            }
            Some(format!(
                "{typed} — that's {} in the morning; right? (For the evening, type {}.)",
                time.format("%H:%M"),
                (time + chrono::Duration::hours(12)).format("%H:%M"),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thursday 3 December 2026.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).expect("a date")
    }

    fn date(text: &str) -> String {
        match read_date(text, today(), None) {
            Ok(d) => d.format("%Y-%m-%d").to_string(),
            Err(e) => e,
        }
    }

    fn time(text: &str) -> String {
        match read_time(text) {
            Ok(t) => t.format("%H:%M").to_string(),
            Err(e) => e,
        }
    }

    #[test]
    fn dates_as_people_type_them() {
        for (typed, meant) in [
            ("2026-12-14", "2026-12-14"),
            ("today", "2026-12-03"),
            ("Tomorrow", "2026-12-04"),
            ("Saturday", "2026-12-05"),
            ("next Saturday", "2026-12-12"),
            ("on Saturday", "2026-12-05"),
            ("14/12", "2026-12-14"),
            ("12/14", "2026-12-14"),
            ("14 Dec", "2026-12-14"),
            ("14th December", "2026-12-14"),
            ("Dec 14", "2026-12-14"),
            ("in 10 days", "2026-12-13"),
            ("in 2 weeks", "2026-12-17"),
            ("a week", "2026-12-10"),
            ("14 Jan 2027", "2027-01-14"),
            ("+7d", "2026-12-10"),
        ] {
            assert_eq!(date(typed), meant, "{typed}");
        }
    }

    #[test]
    fn a_date_that_reads_two_ways_is_asked_again() {
        assert_eq!(
            date("3/4"),
            "3/4 could be 3 April or 4 March; please write the month as a word, like 3 Apr."
        );
        assert_eq!(date("the day after"), DATE_HELP);
        assert_eq!(date("7"), DATE_HELP);
        assert_eq!(date(""), DATE_HELP);
    }

    #[test]
    fn times_as_people_type_them() {
        for (typed, meant) in [
            ("19:30", "19:30"),
            ("19.00", "19:00"),
            ("7pm", "19:00"),
            ("7 PM", "19:00"),
            ("7:30 pm", "19:30"),
            ("7.30 p.m.", "19:30"),
            ("7:30", "07:30"),
            ("07:30", "07:30"),
            ("noon", "12:00"),
            ("Midnight", "00:00"),
            ("12am", "00:00"),
            ("19h30", "19:30"),
            ("7 o'clock", "07:00"),
            ("19", "19:00"),
        ] {
            assert_eq!(time(typed), meant, "{typed}");
        }
        for not_a_time in [
            "Saturday", "tomorrow", "25:00", "24:00", "7:75", "soon", "", "1930",
        ] {
            assert_eq!(time(not_a_time), TIME_HELP, "{not_a_time}");
        }
    }

    #[test]
    fn readings_that_could_be_misread_are_said_back() {
        let t = AskKind::Time {
            min: None,
            max: None,
        };
        assert_eq!(
            echo(&t, "7:30", today()).as_deref(),
            Some("7:30 — that's 07:30 in the morning; right? (For the evening, type 19:30.)")
        );
        for clear in ["19:30", "7pm", "07:30", "noon", "12:15", "bad"] {
            assert_eq!(echo(&t, clear, today()), None, "{clear}");
        }
        let d = AskKind::Date {
            min: None,
            max: None,
        };
        assert_eq!(
            echo(&d, "next Saturday", today()).as_deref(),
            Some("next Saturday — that's Saturday 12 December; right?")
        );
        assert_eq!(
            echo(&d, "tomorrow", today()).as_deref(),
            Some("tomorrow — that's Friday 4 December (tomorrow); right?")
        );
        assert_eq!(
            echo(&d, "14/1", today()).as_deref(),
            Some("14/1 — that's Wednesday 14 January; right?")
        );
        assert_eq!(echo(&d, "2026-12-12", today()), None);
        // A check-in from today on: in December, 14/1 is the coming January.
        let from_today = AskKind::Date {
            min: Some(crate::flow::DateBound::DaysFromToday(0)),
            max: None,
        };
        assert_eq!(
            echo(&from_today, "14/1", today()).as_deref(),
            Some("14/1 — that's Thursday 14 January 2027; right?")
        );
        assert_eq!(
            read_date("14/1/2026", today(), Some(today())),
            NaiveDate::from_ymd_opt(2026, 1, 14).ok_or(String::new())
        );
    }
}
