//! Running a flow's own `tests:`: scripted playthroughs with expected endings.
//!
//! Each case runs headless through the same engine and answer handling as
//! `trustguide run --answers`, so a passing test means the flow really plays that way.

use chrono::{DateTime, FixedOffset};
use minijinja::Value;

use crate::engine::{accept, Engine, Reply};
use crate::flow::{AskKind, Code, Diagnostic, FlowTest, Library, Who};
use crate::run::drive;
use crate::safety::Screen;
use crate::term::headless::{AnswerBook, Headless};

/// What one case found.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The case's `name`.
    pub name: String,
    /// The line of the case in the flow's file.
    pub line: u32,
    /// Empty when the case passed; otherwise one line per difference.
    pub problems: Vec<String>,
    /// The ways the run took between the tested flow's steps: (from, to), `None` the end.
    pub ways: Vec<(usize, Option<usize>)>,
}

impl CaseReport {
    /// The run matched every expectation of the case.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Runs every `tests:` case of flow `flow`, screening typed answers with `screen` as a real
/// run does.
pub fn run_flow_tests(
    lib: &Library,
    flow: usize,
    now: DateTime<FixedOffset>,
    screen: Option<&dyn Screen>,
) -> Vec<CaseReport> {
    lib.flow(flow)
        .tests
        .iter()
        .map(|case| {
            let (problems, ways) = run_case(lib, flow, case, now, screen);
            CaseReport {
                name: case.name.clone(),
                line: case.line,
                problems,
                ways,
            }
        })
        .collect()
}

/// Test answers that cannot work, found without running them: a value the step's question
/// refuses (`trust: 11` on a 0 to 10 scale, an option that does not exist), one answer for a
/// step that asks each partner (`who: both`), an answer for a step that asks nothing. The
/// answers go through the same checks a run gives them.
pub fn check_answers(lib: &Library, flow: usize) -> Vec<Diagnostic> {
    let f = lib.flow(flow);
    let source = lib.source(flow);
    let file = f.origin.display_name();
    // Date bounds such as `today` move with the calendar; they are checked when a test runs.
    let any_day = chrono::NaiveDate::default();
    let mut found = Vec::new();
    for case in &f.tests {
        for (i, (step_id, value)) in case.answers.iter().enumerate() {
            let Some(step) = f.step_by_id(step_id).map(|s| &f.steps[s]) else {
                continue; // a step of a called flow: checked when the test runs
            };
            let (line, key_column) = case.answer_at.get(i).copied().unwrap_or((case.line, 0));
            let value_column = value_column(source, line, key_column, step_id);
            let mut problem = |message: String, help: Option<String>| {
                let d = Diagnostic::new(Code::TestAnswer, &file, message).at(
                    source,
                    line,
                    value_column,
                );
                found.push(match help {
                    Some(h) => d.with_help(h),
                    None => d,
                });
            };
            let Some(ask) = &step.ask else {
                problem(
                    format!(
                        "test `{}` answers step `{step_id}`, which asks nothing",
                        case.name
                    ),
                    Some("remove this answer".to_owned()),
                );
                continue;
            };
            let both = matches!(step.who, Who::Both);
            let visits: Vec<Value> =
                if crate::term::headless::is_answer_list(value, &ask.kind, both) {
                    value
                        .try_iter()
                        .map(|items| items.collect())
                        .unwrap_or_default()
                } else {
                    vec![value.clone()]
                };
            for visit in visits {
                let answers: Vec<(Option<&str>, Value)> = if both {
                    if visit.kind() != minijinja::value::ValueKind::Map {
                        let roles: Vec<String> =
                            f.participants.iter().map(|r| format!("{r}: …")).collect();
                        problem(
                            format!("step `{step_id}` asks each of you (`who: both`), but test `{}` gives it one answer", case.name),
                            Some(format!("give one answer per role: `{{ {} }}`", roles.join(", "))),
                        );
                        continue;
                    }
                    f.participants
                        .iter()
                        .filter_map(|role| {
                            visit
                                .get_attr(role)
                                .ok()
                                .filter(|v| !v.is_undefined())
                                .map(|v| (Some(role.as_str()), v))
                        })
                        .collect()
                } else {
                    vec![(None, visit)]
                };
                for (role, answer) in answers {
                    if matches!(ask.kind, AskKind::Date { .. }) {
                        continue;
                    }
                    if let Err(refusal) = accept(
                        &ask.kind,
                        step.optional,
                        Reply::Value(answer.clone()),
                        any_day,
                    ) {
                        let whose = role.map(|r| format!(" ({r}'s)")).unwrap_or_default();
                        problem(
                            format!("test `{}`: the answer{whose} `{answer}` for step `{step_id}` cannot work: {refusal}", case.name),
                            None,
                        );
                    }
                }
            }
        }
    }
    found
}

/// The column of the value after `step_id:` on `line`, or the key's column.
fn value_column(source: &str, line: u32, key_column: u32, step_id: &str) -> u32 {
    let Some(text) = source.lines().nth((line as usize).saturating_sub(1)) else {
        return key_column;
    };
    let start = text
        .char_indices()
        .nth((key_column as usize).saturating_sub(1))
        .map_or(0, |(b, _)| b);
    let after_key = start + step_id.len();
    match text
        .get(after_key..)
        .and_then(|rest| rest.strip_prefix(':'))
    {
        Some(rest) => {
            let value_at = after_key + 1 + (rest.len() - rest.trim_start().len());
            if value_at >= text.len() {
                key_column
            } else {
                text[..value_at].chars().count() as u32 + 1
            }
        }
        None => key_column,
    }
}

/// The ways between the flow's steps that no test takes, as "from -> to (label)". A way
/// that no run can take (after a choice whose every option jumps) is not counted.
pub fn untested(lib: &Library, flow: usize, reports: &[CaseReport]) -> Vec<String> {
    use crate::flow::{Ask, AskKind};
    let f = lib.flow(flow);
    let taken: std::collections::HashSet<(usize, Option<usize>)> = reports
        .iter()
        .flat_map(|r| r.ways.iter().copied())
        .collect();
    let name = |i: Option<usize>| match i {
        Some(i) => f.steps[i].label.clone(),
        None => "the end".to_owned(),
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for edge in crate::flow::graph::edges(f) {
        let step = &f.steps[edge.from];
        let jumps_only = match &step.ask {
            Some(Ask {
                kind: AskKind::Choice { options },
                ..
            }) => options.iter().all(|o| o.goto.is_some()),
            _ => false,
        };
        let from_option = matches!(&step.ask, Some(Ask { kind: AskKind::Choice { options }, .. })
            if options.iter().any(|o| Some(&o.label) == edge.label.as_ref() && o.goto.is_some()));
        if jumps_only && !from_option {
            continue;
        }
        if taken.contains(&(edge.from, edge.to)) || !seen.insert((edge.from, edge.to)) {
            continue;
        }
        let label = edge.label.map(|l| format!(" ({l})")).unwrap_or_default();
        out.push(format!("{} -> {}{label}", step.label, name(edge.to)));
    }
    out
}

/// A value for a test's report: as written, and with its type when that is what differs
/// (`"6" (text)` against `6 (number)`).
fn typed(v: &Value, other: &Value) -> String {
    use minijinja::value::ValueKind;
    let shown = match v.kind() {
        ValueKind::String => format!("{:?}", v.as_str().unwrap_or_default()),
        _ => v.to_string(),
    };
    if v.kind() == other.kind() {
        return shown;
    }
    let kind = match v.kind() {
        ValueKind::String => "text",
        ValueKind::Number => "number",
        ValueKind::Bool => "true/false",
        ValueKind::Seq => "list",
        ValueKind::Map => "map",
        ValueKind::None | ValueKind::Undefined => "nothing",
        _ => "value",
    };
    format!("{shown} ({kind})")
}

fn run_case(
    lib: &Library,
    flow: usize,
    case: &FlowTest,
    now: DateTime<FixedOffset>,
    screen: Option<&dyn Screen>,
) -> (Vec<String>, Vec<(usize, Option<usize>)>) {
    let file = format!("test `{}`", case.name);
    let book = AnswerBook::from_pairs(&file, &case.answers);
    if let Err(message) = book.check_keys(lib, flow) {
        return (vec![message], Vec::new());
    }
    let engine = match Engine::new(lib, flow, &case.names, now) {
        Ok(engine) => engine.with_previous(&case.previous).with_trace(),
        Err(e) => return (vec![e.to_string()], Vec::new()),
    };
    let mut engine = match screen {
        Some(s) => engine.with_screen(s),
        None => engine,
    };
    let mut front = Headless::new(book, Vec::new());
    let finished = drive(&mut engine, &mut front, &mut []);
    let ways = engine
        .trace()
        .iter()
        .filter(|w| w.flow == flow)
        .map(|w| (w.from, w.to))
        .collect();
    let finished = match finished {
        Ok(finished) => finished,
        Err(e) => return (vec![e.to_string()], ways),
    };
    let mut problems = Vec::new();
    let shown = String::from_utf8_lossy(front.written());
    for text in &case.expect_shows {
        if !shown.contains(text.as_str()) {
            problems.push(format!(
                "shows: expected the run to show \"{text}\", but it did not"
            ));
        }
    }
    if case.expect_outcome.is_none() && finished.outcome == crate::flow::Outcome::SafetyStop {
        problems.push(
            "the run ended in a safety stop (an answer matched a safety category); if that is what this test is for, add `expect: { outcome: safety_stop }`"
                .to_owned(),
        );
    }
    if let Some(expected) = &case.expect_outcome {
        if expected != finished.outcome.as_str() {
            problems.push(format!(
                "outcome: expected {expected}, got {}",
                finished.outcome.as_str()
            ));
        }
    }
    if let Some(expected) = &case.expect_ends_at {
        if *expected != finished.ended_at {
            problems.push(format!(
                "ends_at: expected {expected}, got {}",
                finished.ended_at
            ));
        }
    }
    let compare = |what: &str,
                   expected: &[(String, Value)],
                   actual: &indexmap::IndexMap<String, Value>,
                   problems: &mut Vec<String>| {
        for (name, want) in expected {
            match actual.get(name) {
                Some(got) if got == want => {}
                Some(got) => problems.push(format!(
                    "{what}.{name}: expected {}, got {}",
                    typed(want, got),
                    typed(got, want)
                )),
                None => problems.push(format!(
                    "{what}.{name}: expected {want}, but it was never set"
                )),
            }
        }
    };
    compare("vars", &case.expect_vars, &finished.vars, &mut problems);
    compare(
        "records",
        &case.expect_records,
        &finished.records,
        &mut problems,
    );
    if !case.expect_schedule.is_empty() {
        match &finished.schedule {
            None => problems.push("schedule: expected one, but the run made none".to_owned()),
            Some(schedule) => {
                let made = Value::from(minijinja::value::Serde(schedule));
                let made: indexmap::IndexMap<String, Value> = case
                    .expect_schedule
                    .iter()
                    .filter_map(|(k, _)| {
                        let v = made.get_attr(k).ok().filter(|v| !v.is_undefined())?;
                        Some((k.clone(), v))
                    })
                    .collect();
                compare("schedule", &case.expect_schedule, &made, &mut problems);
            }
        }
    }
    let unused = front.book().unused();
    if !unused.is_empty() && problems.is_empty() && case.expect_outcome.as_deref() != Some("paused")
    {
        // Leftover answers usually mean the run took a different path than the author meant.
        problems.push(format!("answers never used: {}", unused.join(", ")));
    }
    (problems, ways)
}
