//! Recorded metrics over time: `trustguide progress`.
//!
//! Each metric is a series per partner (or one for the couple), grouped under the exercise
//! that recorded it and titled as the flow's `metrics:` describes it. Every value is a bar on
//! the metric's own range (a 5 out of 10 is half a bar), and the summary line gives the real
//! first and last values, said to be better or worse when the flow says which way is better.
//! The CSV export adds a trailing average (the last few sessions), for a spreadsheet's chart:
//! recovery comes in waves, and one bad day is one bad day.

use std::fmt::Write;

use serde::Serialize;

use super::{classify, Store, StoreError};
use crate::flow::Metric;

/// How many sessions the trend averages over.
pub const TREND_WINDOW: usize = 3;

/// One recorded value of a metric.
#[derive(Debug, Clone, Serialize)]
pub struct MetricPoint {
    /// When the session that recorded it ended, as RFC 3339 text.
    pub at: String,
    /// The id of the session that recorded it.
    pub session: i64,
    /// The flow that recorded it.
    pub flow: String,
    /// The metric's name, as in the flow's `record:`.
    pub metric: String,
    /// The partner's name for a metric recorded per partner; `None` for the couple's.
    pub person: Option<String>,
    /// The value (a yes/no value is recorded as 1 or 0).
    pub value: f64,
}

impl Store {
    /// Every recorded value of `metric` (all metrics when `None`), oldest first.
    pub fn metrics(&self, metric: Option<&str>) -> Result<Vec<MetricPoint>, StoreError> {
        let shown = self.shown();
        let fail = |e| classify(&shown, "reading the progress", e);
        // Two statements, so that each can walk the covering index in order.
        let sql = match metric {
            Some(_) => {
                "SELECT r.at, r.session_id, r.metric, r.person, r.value, s.flow
                     FROM records r JOIN sessions s ON s.id = r.session_id
                     WHERE r.metric = ?1 ORDER BY r.metric, r.person, r.at, r.session_id"
            }
            None => {
                "SELECT r.at, r.session_id, r.metric, r.person, r.value, s.flow
                     FROM records r JOIN sessions s ON s.id = r.session_id
                     ORDER BY r.metric, r.person, r.at, r.session_id"
            }
        };
        let mut stmt = self.conn.prepare(sql).map_err(fail)?;
        let params: Vec<&str> = metric.into_iter().collect();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                Ok(MetricPoint {
                    at: r.get(0)?,
                    session: r.get(1)?,
                    metric: r.get(2)?,
                    person: r.get(3)?,
                    value: r.get(4)?,
                    flow: r.get(5)?,
                })
            })
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// The names of all recorded metrics, for suggestions.
    pub fn metric_names(&self) -> Result<Vec<String>, StoreError> {
        let shown = self.shown();
        let fail = |e| classify(&shown, "reading the progress", e);
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT metric FROM records ORDER BY metric")
            .map_err(fail)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }
}

/// The trailing average of the last [`TREND_WINDOW`] values at each point.
pub fn trend(values: &[f64]) -> Vec<f64> {
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(TREND_WINDOW);
            let window = &values[from..=i];
            window.iter().sum::<f64>() / window.len() as f64
        })
        .collect()
}

/// One line of the chart: a metric for one partner (or the couple), oldest point first.
type Series<'a> = ((&'a str, Option<&'a str>), Vec<&'a MetricPoint>);

/// Points grouped into series (they arrive sorted by metric, person and time).
fn series(points: &[MetricPoint]) -> Vec<Series<'_>> {
    let mut out: Vec<Series<'_>> = Vec::new();
    for p in points {
        let key = (p.metric.as_str(), p.person.as_deref());
        match out.last_mut() {
            Some((k, list)) if *k == key => list.push(p),
            _ => out.push((key, vec![p])),
        }
    }
    out
}

/// "7 Nov 2026" for an RFC 3339 time (the text itself if it is not one).
fn day(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.format("%-d %b %Y").to_string())
        .unwrap_or_else(|_| at.get(..10).unwrap_or(at).to_owned())
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

/// What a chart knows about a flow's metrics: the flow's title and its `metrics:` entry.
pub type Describe<'a> = &'a dyn Fn(&str, &str) -> (Option<String>, Option<Metric>);

/// A terminal chart of the points.
pub struct ProgressChart;

impl ProgressChart {
    /// Renders each series under the exercise that recorded it: the date, a bar on the
    /// metric's range, the value, then the first and last values. `last` limits each series
    /// to its most recent points; `describe` gives titles and ranges.
    pub fn render(
        points: &[MetricPoint],
        width: usize,
        last: usize,
        describe: Describe<'_>,
    ) -> String {
        let mut out = String::new();
        let bar_width = width.saturating_sub(36).clamp(10, 40);
        // Exercise, then metric (in the flow's `metrics:` order, then by name), then person.
        let mut groups: Vec<(String, String, Option<String>, Vec<&MetricPoint>)> = Vec::new();
        for p in points {
            match groups
                .iter_mut()
                .find(|(f, m, who, _)| *f == p.flow && *m == p.metric && *who == p.person)
            {
                Some((_, _, _, list)) => list.push(p),
                None => groups.push((p.flow.clone(), p.metric.clone(), p.person.clone(), vec![p])),
            }
        }
        let order = |flow: &str, metric: &str| {
            let (title, info) = describe(flow, metric);
            (
                title.unwrap_or_else(|| flow.to_owned()),
                info.is_none(),
                info.map(|m| m.title).unwrap_or_else(|| metric.to_owned()),
            )
        };
        groups.sort_by_cached_key(|(f, m, who, _)| {
            let (flow, undescribed, title) = order(f, m);
            (flow, undescribed, title, who.clone())
        });
        let mut heading = String::new();
        for (flow, metric, person, list) in groups {
            let (flow_title, info) = describe(&flow, &metric);
            let flow_title = flow_title.unwrap_or_else(|| flow.clone());
            if flow_title != heading {
                if !heading.is_empty() {
                    out.push('\n');
                }
                let _ = writeln!(out, "{flow_title}");
                heading = flow_title;
            }
            let title = info.as_ref().map_or(metric.as_str(), |m| m.title.as_str());
            let who = person
                .as_deref()
                .map(|p| format!(" · {p}"))
                .unwrap_or_default();
            let values: Vec<f64> = list.iter().map(|p| p.value).collect();
            let (lo, hi) = info.as_ref().and_then(|m| m.range).unwrap_or_else(|| {
                let lo = values
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min)
                    .min(0.0);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (lo, hi.max(lo + 1.0))
            });
            let range = info
                .as_ref()
                .and_then(|m| m.range)
                .map(|(lo, hi)| format!(" ({} to {})", number(lo), number(hi)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {title}{who}{range}");
            let skip = list.len().saturating_sub(last);
            if skip > 0 {
                let _ = writeln!(out, "    ({skip} earlier sessions not shown)");
            }
            let known_range = info.as_ref().and_then(|m| m.range).is_some();
            for p in list.iter().skip(skip) {
                let share = ((p.value - lo) / (hi - lo)).clamp(0.0, 1.0);
                let filled = (share * bar_width as f64).round() as usize;
                let bar: String =
                    "█".repeat(filled) + &"·".repeat(bar_width - filled.min(bar_width));
                let value = if known_range && lo == 0.0 {
                    format!("{} of {}", number(p.value), number(hi))
                } else {
                    number(p.value)
                };
                let _ = writeln!(out, "    {:>11}  {bar}  {value}", day(&p.at));
            }
            if let (Some(first), Some(last)) = (values.first(), values.last()) {
                let n = values.len();
                let level = if known_range { (hi - lo) * 0.05 } else { 0.5 };
                let (word, up) = if (last - first).abs() <= level {
                    ("about level", None)
                } else if last > first {
                    ("up", Some(true))
                } else {
                    ("down", Some(false))
                };
                let judged = match (up, info.as_ref().and_then(|m| m.higher_is_better)) {
                    (Some(up), Some(higher)) if up == higher => ", better",
                    (Some(_), Some(_)) => ", worse",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "    over {n} session{}: {} → {}, {word}{judged}",
                    if n == 1 { "" } else { "s" },
                    number(*first),
                    number(*last)
                );
            }
        }
        out
    }

    /// The points as CSV: date, session, metric, person, value, trend.
    pub fn csv(points: &[MetricPoint]) -> String {
        let mut out = String::from("date,session,metric,person,value,trend\n");
        for (_, list) in series(points) {
            let values: Vec<f64> = list.iter().map(|p| p.value).collect();
            for (p, t) in list.iter().zip(trend(&values)) {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    p.at,
                    p.session,
                    csv_field(&p.metric),
                    csv_field(p.person.as_deref().unwrap_or("")),
                    p.value,
                    (t * 100.0).round() / 100.0
                );
            }
        }
        out
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trend_smooths_a_single_bad_day() {
        let t = trend(&[8.0, 8.0, 2.0, 8.0, 8.0]);
        assert_eq!(t, vec![8.0, 8.0, 6.0, 6.0, 6.0]);
        assert!(
            t.iter().all(|v| *v >= 6.0),
            "one bad day moves the trend, it does not sink it"
        );
    }

    #[test]
    fn csv_quotes_awkward_names() {
        let p = MetricPoint {
            at: "2026-11-25".into(),
            session: 1,
            flow: "f".into(),
            metric: "close, ness".into(),
            person: Some("Sam".into()),
            value: 3.0,
        };
        assert_eq!(
            ProgressChart::csv(&[p]),
            "date,session,metric,person,value,trend\n2026-11-25,1,\"close, ness\",Sam,3,3\n"
        );
    }
}
