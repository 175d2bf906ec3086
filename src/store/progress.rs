//! Recorded metrics over time: `trustguide progress`.
//!
//! Each metric is a series per partner (or one for the couple). The chart shows every value as
//! a bar, next to a trend: the average of the last few sessions, so one bad day reads as one bad
//! day and not as a collapse. Recovery comes in waves; the trend is there to show the wave.

use std::fmt::Write;

use serde::Serialize;

use super::{classify, Store, StoreError};

/// How many sessions the trend averages over.
pub const TREND_WINDOW: usize = 3;

/// One recorded value of a metric.
#[derive(Debug, Clone, Serialize)]
pub struct MetricPoint {
    /// When the session that recorded it ended, as RFC 3339 text.
    pub at: String,
    /// The id of the session that recorded it.
    pub session: i64,
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
                "SELECT at, session_id, metric, person, value FROM records
                        WHERE metric = ?1 ORDER BY metric, person, at, session_id"
            }
            None => {
                "SELECT at, session_id, metric, person, value FROM records
                     ORDER BY metric, person, at, session_id"
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

fn number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

/// A terminal chart of the points.
pub struct ProgressChart;

impl ProgressChart {
    /// Renders each series: date, a bar for the value, the value, and the trend.
    /// `last` limits each series to its most recent points.
    pub fn render(points: &[MetricPoint], width: usize, last: usize) -> String {
        let mut out = String::new();
        let bar_width = width.saturating_sub(40).clamp(10, 40);
        for ((metric, person), list) in series(points) {
            let values: Vec<f64> = list.iter().map(|p| p.value).collect();
            let trends = trend(&values);
            let lo = values
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .min(0.0);
            let hi = values
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max)
                .max(lo + 1.0);
            let who = person.map(|p| format!(" · {p}")).unwrap_or_default();
            let _ = writeln!(out, "{metric}{who}");
            let skip = list.len().saturating_sub(last);
            if skip > 0 {
                let _ = writeln!(out, "  ({skip} earlier sessions not shown)");
            }
            for (p, t) in list.iter().zip(&trends).skip(skip) {
                let filled = (((p.value - lo) / (hi - lo)) * bar_width as f64).round() as usize;
                let bar: String =
                    "█".repeat(filled) + &"·".repeat(bar_width - filled.min(bar_width));
                let _ = writeln!(
                    out,
                    "  {}  {bar}  {:>5}   trend {:>5}",
                    p.at.get(..10).unwrap_or(&p.at),
                    number(p.value),
                    number(*t)
                );
            }
            if let (Some(first), Some(last)) = (trends.first(), trends.last()) {
                let direction = if (last - first).abs() < 0.5 {
                    "about level"
                } else if last > first {
                    "rising"
                } else {
                    "falling"
                };
                let _ = writeln!(
                    out,
                    "  trend over {} session{}: {direction} ({} → {})\n",
                    values.len(),
                    if values.len() == 1 { "" } else { "s" },
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
