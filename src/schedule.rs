//! Check-in schedules: what a scheduling flow decided, as dates and times, and its iCalendar form.
//!
//! A flow's `schedule:` (on an ending step) is evaluated by the engine into a [`Schedule`]:
//! times of day, every how many days, from and until which date. This module checks those
//! values, lays out the occurrences, and writes them as RFC 5545 iCalendar with a reminder
//! before each one.
//!
//! It never reads the clock or the time zone: the caller says what "now" is and how a local
//! time maps to UTC. That keeps the engine pure and makes exports reproducible
//! (`TRUSTGUIDE_NOW`, `TZ`).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use minijinja::value::{Value, ValueKind};
use serde::{Deserialize, Serialize};

/// At most this many check-ins a day: a schedule is meant to replace constant checking.
pub const MAX_TIMES_PER_DAY: usize = 12;
/// The widest gap between check-ins, in days.
pub const MAX_EVERY_DAYS: u32 = 31;
/// The longest a schedule may run before it is reviewed.
pub const MAX_SPAN_DAYS: i64 = 366;

/// A check-in schedule, checked: times are valid, the dates are in order, the span is bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// A newer schedule with the same name replaces an older one.
    pub name: String,
    /// The calendar entry's title.
    pub title: String,
    /// The calendar entry's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Times of day, `HH:MM`, sorted, without repeats; none for days with no time (a review
    /// day: an all-day calendar entry).
    #[serde(with = "hhmm")]
    pub times: Vec<NaiveTime>,
    /// Check-in days are `start`, `start + every_days`, ...
    pub every_days: u32,
    /// The first check-in day.
    pub start: NaiveDate,
    /// The last day that may have check-ins (inclusive).
    pub until: NaiveDate,
    /// How long each check-in is, in minutes.
    pub minutes: u32,
    /// Minutes before a check-in that the calendar reminds; 0 for none.
    pub remind: u32,
}

/// The values a flow's `schedule:` evaluated to, before they are checked.
pub struct ScheduleValues<'a> {
    /// The schedule's name.
    pub name: &'a str,
    /// The rendered title.
    pub title: String,
    /// The rendered note, if the flow has one.
    pub note: Option<String>,
    /// A time (`"19:00"`, or several separated by commas) or a list of times; `None` (not
    /// given) or `none`: days with no time.
    pub times: Option<Value>,
    /// The days between check-in days; `None` (not given) means every day.
    pub every_days: Option<Value>,
    /// The first day, `YYYY-MM-DD` or `+7d` (days from today); `None` (not given) or `none`
    /// means today.
    pub start: Option<Value>,
    /// The last day, `YYYY-MM-DD`.
    pub until: Value,
    /// Each check-in's length in minutes.
    pub minutes: u32,
    /// Minutes before each check-in that the calendar reminds; 0 for none.
    pub remind: u32,
}

impl Schedule {
    /// Checks evaluated values; the error is a sentence for the flow's author.
    pub fn from_values(v: ScheduleValues<'_>, today: NaiveDate) -> Result<Schedule, String> {
        let times = match &v.times {
            Some(value) if !value.is_none() => times_of(value)?,
            _ => Vec::new(),
        };
        let every_days = match &v.every_days {
            None => 1,
            Some(value) => whole_number(value)
                .filter(|n| (1..=i64::from(MAX_EVERY_DAYS)).contains(n))
                .map(|n| n as u32)
                .ok_or_else(|| {
                    format!("`schedule.every_days` must be a whole number from 1 to {MAX_EVERY_DAYS}, not `{value}`")
                })?,
        };
        let start = match &v.start {
            None => today,
            Some(value) if value.is_none() => today,
            Some(value) => date_of(value, "start", today)?,
        };
        let until = date_of(&v.until, "until", today)?;
        if until < start {
            return Err(format!(
                "`schedule.until` ({until}) is before `schedule.start` ({start})"
            ));
        }
        if (until - start).num_days() > MAX_SPAN_DAYS {
            return Err(format!(
                "a schedule may run at most {MAX_SPAN_DAYS} days before it is reviewed ({start} to {until} is longer)"
            ));
        }
        let title = v.title.trim().to_owned();
        if title.is_empty() {
            return Err("`schedule.title` is empty".into());
        }
        Ok(Schedule {
            name: v.name.to_owned(),
            title,
            note: v
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
            times,
            every_days,
            start,
            until,
            minutes: v.minutes,
            remind: v.remind,
        })
    }

    /// Days with no time of their own (all-day calendar entries).
    pub fn all_day(&self) -> bool {
        self.times.is_empty()
    }

    /// Every check-in, in local time, in order (midnight for a day with no time).
    pub fn occurrences(&self) -> impl Iterator<Item = NaiveDateTime> + '_ {
        let step = i64::from(self.every_days.max(1));
        let days = (self.until - self.start).num_days() / step + 1;
        let midnight = [NaiveTime::MIN];
        (0..days).flat_map(move |i| {
            let day = self.start + Duration::days(i * step);
            let times: Vec<NaiveTime> = if self.all_day() {
                midnight.to_vec()
            } else {
                self.times.clone()
            };
            times.into_iter().map(move |t| day.and_time(t))
        })
    }

    /// The check-ins that start after `now` (local time); a day with no time is upcoming
    /// until it is over.
    pub fn upcoming(&self, now: NaiveDateTime) -> impl Iterator<Item = NaiveDateTime> + '_ {
        let all_day = self.all_day();
        self.occurrences().filter(move |at| {
            if all_day {
                at.date() >= now.date()
            } else {
                *at > now
            }
        })
    }

    /// "at 12:00 and 19:00, every 2 days, from Sat 28 Nov to Sat 5 Dec"
    pub fn describe(&self) -> String {
        let times: Vec<String> = self
            .times
            .iter()
            .map(|t| t.format("%H:%M").to_string())
            .collect();
        let times = match times.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        let every = match self.every_days {
            1 => "every day".to_owned(),
            n => format!("every {n} days"),
        };
        if self.all_day() {
            return if self.start == self.until {
                format!("on {}", self.until.format("%a %-d %b %Y"))
            } else {
                format!(
                    "{every}, from {} to {}",
                    self.start.format("%a %-d %b"),
                    self.until.format("%a %-d %b %Y")
                )
            };
        }
        format!(
            "at {times}, {every}, from {} to {}",
            self.start.format("%a %-d %b"),
            self.until.format("%a %-d %b %Y")
        )
    }
}

/// `"19:00"`, `"12:00, 19:00"`, or a list of `HH:MM` strings.
fn times_of(value: &Value) -> Result<Vec<NaiveTime>, String> {
    let texts: Vec<String> = match value.kind() {
        ValueKind::String => value
            .as_str()
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        ValueKind::Seq => value
            .try_iter()
            .map_err(|e| e.to_string())?
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut times = Vec::with_capacity(texts.len());
    for t in &texts {
        let time = NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
            format!("`schedule.times` has `{t}`, which is not a 24-hour time like 19:00")
        })?;
        times.push(time);
    }
    times.sort();
    times.dedup();
    if times.is_empty() {
        return Err(format!(
            "`schedule.times` must be a time like \"19:00\" or a list of them, not `{value}`"
        ));
    }
    if times.len() > MAX_TIMES_PER_DAY {
        return Err(format!(
            "`schedule.times` has {} times; at most {MAX_TIMES_PER_DAY} a day",
            times.len()
        ));
    }
    Ok(times)
}

fn whole_number(value: &Value) -> Option<i64> {
    if value.kind() != ValueKind::Number {
        return value.as_str().and_then(|s| s.trim().parse().ok());
    }
    let f = f64::try_from(value.clone()).ok()?;
    (f.fract() == 0.0).then_some(f as i64)
}

/// A date: `YYYY-MM-DD` (a `date` answer), or `+7d`, days from today.
fn date_of(value: &Value, field: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let text = value.as_str().map(str::trim);
    let relative = text
        .and_then(|s| s.strip_prefix('+'))
        .and_then(|s| s.strip_suffix('d'))
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (0..=MAX_SPAN_DAYS).contains(n))
        .map(|n| today + Duration::days(n));
    relative
        .or_else(|| text.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()))
        .ok_or_else(|| {
            format!("`schedule.{field}` must be a date like 2026-12-01 (a `date` answer) or `+7d`, not `{value}`")
        })
}

/// Writes schedules as one iCalendar file: an event for each check-in after `now_local`, each
/// with a display reminder. `to_utc` places a local time on the time line (the caller's time
/// zone); event times are written in UTC, which every calendar shows in its own local time.
///
/// Event ids are made from the schedule's name and the local start, so importing a newer
/// export updates the same check-ins instead of doubling them.
pub fn to_ics(
    schedules: &[Schedule],
    now_local: NaiveDateTime,
    now_utc: DateTime<Utc>,
    to_utc: &dyn Fn(NaiveDateTime) -> DateTime<Utc>,
) -> String {
    use icalendar::{Alarm, Calendar, Component, Event, EventLike, Trigger};

    let mut calendar = Calendar::new();
    calendar.name("trustguide check-ins");
    for schedule in schedules {
        for at in schedule.upcoming(now_local) {
            let uid = format!("{}-{}@trustguide", schedule.name, at.format("%Y%m%dT%H%M"));
            let mut event = Event::new();
            event.uid(&uid).timestamp(now_utc).summary(&schedule.title);
            if schedule.all_day() {
                // A day to remember, such as a review: the whole day, with no reminder at
                // midnight.
                // RFC 5545: an all-day entry ends (exclusively) on the next day.
                let day = at.date();
                event.starts(day).ends(day + Duration::days(1));
            } else {
                let start = to_utc(at);
                event
                    .starts(start)
                    .ends(start + Duration::minutes(i64::from(schedule.minutes.max(1))));
            }
            if let Some(note) = &schedule.note {
                event.description(note);
            }
            if schedule.remind > 0 && !schedule.all_day() {
                let mut alarm = Alarm::display(
                    &schedule.title,
                    Trigger::before_start(Duration::minutes(i64::from(schedule.remind))),
                );
                // The builder stamps the real clock and a random id; an export must be
                // reproducible from the same schedule and `now`.
                alarm.timestamp(now_utc).uid(&format!("{uid}-reminder"));
                event.alarm(alarm);
            }
            calendar.push(event.done());
        }
    }
    calendar.done().to_string()
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(times: &[NaiveTime], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(times.iter().map(|t| t.format("%H:%M").to_string()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NaiveTime>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|t| NaiveTime::parse_from_str(t, "%H:%M").map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn values(times: Value, every: i64, start: &str, until: &str) -> ScheduleValues<'static> {
        ScheduleValues {
            name: "check-ins",
            title: "Check-in".into(),
            note: None,
            times: Some(times),
            every_days: Some(Value::from(every)),
            start: Some(Value::from(start)),
            until: Value::from(until),
            minutes: 15,
            remind: 10,
        }
    }

    #[test]
    fn lays_out_times_on_every_nth_day_up_to_the_last() {
        let s = Schedule::from_values(
            values(
                Value::from(vec!["19:00", "12:30"]),
                3,
                "2026-11-29",
                "2026-12-06",
            ),
            day("2026-11-28"),
        )
        .expect("valid");
        let got: Vec<String> = s
            .occurrences()
            .map(|t| t.format("%d %H:%M").to_string())
            .collect();
        assert_eq!(
            got,
            ["29 12:30", "29 19:00", "02 12:30", "02 19:00", "05 12:30", "05 19:00"]
        );
        assert_eq!(
            s.describe(),
            "at 12:30 and 19:00, every 3 days, from Sun 29 Nov to Sun 6 Dec 2026"
        );
    }

    #[test]
    fn refuses_values_a_calendar_cannot_hold() {
        let today = day("2026-11-28");
        let bad = [
            (
                values(Value::from("7pm"), 1, "2026-11-29", "2026-12-01"),
                "24-hour",
            ),
            (
                values(Value::from(""), 1, "2026-11-29", "2026-12-01"),
                "must be a time",
            ),
            (
                values(Value::from("19:00"), 0, "2026-11-29", "2026-12-01"),
                "every_days",
            ),
            (
                values(Value::from("19:00"), 1, "2026-12-02", "2026-12-01"),
                "before",
            ),
            (
                values(Value::from("19:00"), 1, "2026-11-29", "2028-01-01"),
                "at most 366",
            ),
            (
                values(Value::from("19:00"), 1, "soon", "2026-12-01"),
                "schedule.start",
            ),
        ];
        for (v, expected) in bad {
            let err = Schedule::from_values(v, today).expect_err("refused");
            assert!(err.contains(expected), "{err} should mention {expected}");
        }
    }
}
