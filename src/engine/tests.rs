//! The engine, one behaviour at a time, driven the way a front-end drives it.

use chrono::{DateTime, FixedOffset};
use minijinja::Value;

use std::collections::{HashMap, HashSet};

use super::*;
use crate::flow::{Library, Origin};

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-25T19:30:00+01:00").expect("valid time")
}

fn library(flows: &[&str]) -> (Library, usize) {
    let mut lib = Library::builtin();
    let mut first = None;
    // Called flows are listed after their callers; load them first so calls resolve.
    for (i, text) in flows.iter().enumerate().rev() {
        let origin = Origin::Path(format!("test-{i}.yaml").into());
        let index = lib
            .add_source(text, origin)
            .unwrap_or_else(|d| panic!("flow {i} must load:\n{d}"));
        first = Some(index);
    }
    (lib, first.expect("at least one flow"))
}

/// A conversation: what the engine presented, one line per event.
fn play(lib: &Library, flow: usize, names: &[&str], replies: &[Reply]) -> (Vec<String>, Finished) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut engine = Engine::new(lib, flow, &names, now()).expect("engine starts");
    let mut replies = replies.iter().cloned();
    let mut seen = Vec::new();
    loop {
        match engine.next_event().expect("no runtime error") {
            Event::Say { step, text, .. } => seen.push(format!("{step}: say {text}")),
            Event::Timer { step, seconds } => seen.push(format!("{step}: timer {seconds}")),
            Event::Safety { step, category, .. } => {
                let category = category.as_deref().unwrap_or("(not kept)");
                seen.push(format!("{step}: safety {category}"));
                engine.resolve_safety(SafetyChoice::End);
            }
            Event::Ask(q) => {
                let who = q.who.map(|p| format!(" [{}]", p.name)).unwrap_or_default();
                seen.push(format!("{}{who}: ask {}", q.step, q.prompt));
                let reply = replies
                    .next()
                    .unwrap_or_else(|| panic!("no reply left for {}", q.step));
                engine
                    .answer(reply)
                    .unwrap_or_else(|e| panic!("answer refused at {}: {e}", q.step));
            }
            Event::Finished(f) => return (seen, f),
        }
    }
}

fn text(s: &str) -> Reply {
    Reply::Text(s.to_owned())
}

#[test]
fn says_asks_and_falls_through_to_the_end() {
    let (lib, flow) = library(&["
flow: hello
title: Hello
participants: [a]
steps:
  - say: Hi {{ a }}.
  - id: mood
    ask: text
    who: a
    prompt: How are you, {{ a }}?
  - id: bye
    say: You said {{ mood }}.
"]);
    let (seen, end) = play(&lib, flow, &["Sam"], &[text("fine")]);
    assert_eq!(
        seen,
        [
            "#1: say Hi Sam.",
            "mood [Sam]: ask How are you, Sam?",
            "bye: say You said fine."
        ]
    );
    assert_eq!(end.outcome, Outcome::Completed);
    assert_eq!(end.ended_at, "bye");
}

#[test]
fn branches_on_the_first_true_when_after_set() {
    let (lib, flow) = library(&["
flow: branch
title: Branch
vars: { tries: 0 }
steps:
  - id: level
    ask: scale
    min: 0
    max: 10
    prompt: Level?
    set: { tries: tries + 1 }
    next:
      - when: level >= 8 and tries == 1
        goto: high
      - goto: low
  - id: high
    end: stopped
    say: high after {{ tries }}
  - id: low
    say: low
"]);
    let (seen, end) = play(&lib, flow, &[], &[text("9")]);
    assert_eq!(
        seen.last().map(String::as_str),
        Some("high: say high after 1")
    );
    assert_eq!(end.outcome, Outcome::Stopped);
    assert_eq!(end.vars.get("tries"), Some(&Value::from(1)));
    let (_, end) = play(&lib, flow, &[], &[text("2")]);
    assert_eq!(
        (end.outcome, end.ended_at.as_str()),
        (Outcome::Completed, "low")
    );
}

#[test]
fn loops_until_the_condition_lets_go() {
    let (lib, flow) = library(&["
flow: loop
title: Loop
vars: { rounds: 0 }
steps:
  - id: heard
    ask: confirm
    prompt: Heard?
    set: { rounds: rounds + 1 }
    next:
      - when: not heard and rounds < 5
        goto: heard
  - id: done
    end: completed
    say: '{{ rounds }} rounds'
    record: { heard_rounds: rounds }
"]);
    let (seen, end) = play(
        &lib,
        flow,
        &[],
        &[Reply::Yes(false), Reply::Yes(false), Reply::Yes(true)],
    );
    assert_eq!(seen.iter().filter(|s| s.starts_with("heard")).count(), 3);
    assert_eq!(end.records.get("heard_rounds"), Some(&Value::from(3)));
    // The loop's own bound ends it even if the answer never changes.
    let never = vec![Reply::Yes(false); 5];
    let (_, end) = play(&lib, flow, &[], &never);
    assert_eq!(end.vars.get("rounds"), Some(&Value::from(5)));
}

#[test]
fn who_both_asks_each_participant_and_builds_a_map() {
    let (lib, flow) = library(&["
flow: both
title: Both
participants: [speaker, listener]
steps:
  - id: intensity
    ask: scale
    who: both
    min: 0
    max: 10
    prompt: How intense?
  - say: '{{ intensity.speaker }}/{{ intensity.listener }}'
"]);
    let (seen, _) = play(&lib, flow, &["Sam", "Alex"], &[text("3"), text("9")]);
    assert_eq!(
        seen,
        [
            "intensity [Sam]: ask How intense?",
            "intensity [Alex]: ask How intense?",
            "#2: say 3/9"
        ]
    );
}

/// A `group` of `who: both` steps: one person answers all of them, then the other; the
/// answers are the same maps as without a group, `set` sees both, and "step N of ~M" counts
/// every question once, its estimate never moving.
#[test]
fn a_group_asks_one_person_everything_then_the_other() {
    let (lib, flow) = library(&["
flow: rate
title: Rate
participants: [a, b]
steps:
  - id: calm
    say: Rate the week.
    ask: scale
    who: both
    group: ratings
    prompt: Calm?
  - id: close
    ask: scale
    who: both
    group: ratings
    prompt: Close?
    set: { total_a: calm.a + close.a, total_b: calm.b + close.b }
  - say: '{{ total_a }} and {{ total_b }}'
"]);
    let names: Vec<String> = ["Sam", "Alex"].iter().map(|s| s.to_string()).collect();
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("engine starts");
    let mut seen = Vec::new();
    let mut replies = ["1", "2", "3", "4"].into_iter();
    loop {
        match engine.next_event().expect("no runtime error") {
            Event::Say { text, progress, .. } => seen.push(format!(
                "{} of ~{}: say {text}",
                progress.step, progress.estimated_total
            )),
            Event::Ask(q) => {
                let who = q.who.as_ref().map(|p| p.name.clone()).unwrap_or_default();
                seen.push(format!(
                    "{} of ~{}: {} [{who}]",
                    q.progress.step, q.progress.estimated_total, q.step
                ));
                let reply = replies.next().expect("a reply");
                engine.answer(text(reply)).expect("accepted");
            }
            Event::Finished(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            "1 of ~5: say Rate the week.",
            "1 of ~5: calm [Sam]",
            "2 of ~5: close [Sam]",
            "3 of ~5: calm [Alex]",
            "4 of ~5: close [Alex]",
            "5 of ~5: say 3 and 7",
        ]
    );
}

/// "step N of ~M" counts the steps of a called flow from the start: the estimate holds still
/// when the call is made and when it returns, and the step number only goes up.
#[test]
fn the_estimate_counts_a_called_flow_from_the_start() {
    let (lib, flow) = library(&[
        "
flow: outer
title: Outer
steps:
  - say: Hello.
  - id: check
    call: inner
  - id: mood
    ask: text
    prompt: Mood?
  - say: Bye.
",
        "
flow: inner
title: Inner
steps:
  - say: One.
  - id: two
    ask: text
    prompt: Two?
  - say: Three.
",
    ]);
    let names: Vec<String> = Vec::new();
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("engine starts");
    let mut seen = Vec::new();
    loop {
        match engine.next_event().expect("no runtime error") {
            Event::Say { progress, .. } => seen.push((progress.step, progress.estimated_total)),
            Event::Ask(q) => {
                seen.push((q.progress.step, q.progress.estimated_total));
                engine.answer(text("fine")).expect("accepted");
            }
            Event::Finished(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        seen.iter().all(|(_, total)| *total == seen[0].1),
        "the estimate holds still: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "the step number only goes up: {seen:?}"
    );
    assert_eq!(
        seen.last().map(|(step, total)| step == total),
        Some(true),
        "{seen:?}"
    );
}

#[test]
fn choice_options_carry_values_and_jumps() {
    let (lib, flow) = library(&["
flow: pick
title: Pick
steps:
  - id: feeling
    ask: choice
    prompt: Feeling?
    options:
      - { label: Calm, value: 1 }
      - { label: Upset, value: 5, goto: pause }
  - id: go_on
    say: on with {{ feeling }}
    next: end
  - id: pause
    say: pausing with {{ feeling }}
"]);
    let (seen, _) = play(&lib, flow, &[], &[Reply::Pick(1)]);
    assert_eq!(
        seen.last().map(String::as_str),
        Some("pause: say pausing with 5")
    );
    let (seen, end) = play(&lib, flow, &[], &[text("calm")]);
    assert_eq!(
        seen.last().map(String::as_str),
        Some("go_on: say on with 1")
    );
    assert_eq!(end.ended_at, "go_on");
}

#[test]
fn every_ask_kind_stores_its_typed_value() {
    let (lib, flow) = library(&["
flow: kinds
title: Kinds
steps:
  - { id: t, ask: text, prompt: t }
  - { id: c, ask: choice, prompt: c, options: [x, y] }
  - { id: m, ask: multi, prompt: m, options: [x, y, z] }
  - { id: f, ask: confirm, prompt: f }
  - { id: s, ask: scale, prompt: s, min: 1, max: 5 }
  - { id: n, ask: number, prompt: n }
  - { id: d, ask: date, prompt: d, min: today }
  - { id: h, ask: time, prompt: h }
  - { id: l, ask: list, prompt: l }
  - say: '{{ t }}|{{ c }}|{{ m|join(\",\") }}|{{ f }}|{{ s + 1 }}|{{ n * 2 }}|{{ d }}|{{ h }}|{{ l|length }}'
"]);
    let replies = [
        text("words"),
        text("2"),
        text("x, z"),
        text("yes"),
        text("4"),
        text("2.5"),
        text("tomorrow"),
        text("07:05"),
        Reply::Lines(vec!["a".into(), "b".into()]),
    ];
    let (seen, _) = play(&lib, flow, &[], &replies);
    assert_eq!(
        seen.last().map(String::as_str),
        Some("#10: say words|y|x,z|yes|5|5.0|2026-11-26|07:05|2")
    );
}

#[test]
fn a_refused_answer_keeps_the_question_open() {
    let (lib, flow) = library(&["
flow: refuse
title: Refuse
steps:
  - { id: s, ask: scale, prompt: s, min: 0, max: 10 }
"]);
    let mut engine = Engine::new(&lib, flow, &[], now()).expect("starts");
    assert!(matches!(engine.next_event(), Ok(Event::Ask(_))));
    assert_eq!(
        engine.answer(text("11")).map(|a| a.value),
        Err(AnswerError::Refused(
            "Please give a whole number from 0 to 10.".into()
        ))
    );
    assert!(
        matches!(engine.next_event(), Ok(Event::Ask(_))),
        "the same question again"
    );
    assert!(engine.answer(text("10")).is_ok());
    assert!(matches!(engine.next_event(), Ok(Event::Finished(_))));
}

#[test]
fn a_called_flow_runs_inside_and_its_answers_are_visible_under_its_id() {
    let (lib, _) = library(&[
        "
flow: outer
title: Outer
participants: [hurt, disclosing]
steps:
  - id: check
    call: inner-check
  - say: 'safe={{ inner_check.safe }}'
",
        "
flow: inner-check
title: Inner
participants: [a, b]
steps:
  - id: safe
    ask: confirm
    who: a
    prompt: Safe, {{ a }}?
",
    ]);
    let outer = lib.index_of("outer").expect("loaded");
    let names = ["Sam".to_owned(), "Alex".to_owned()];
    let mut engine = Engine::new(&lib, outer, &names, now()).expect("starts");
    let Ok(Event::Ask(q)) = engine.next_event() else {
        panic!("the inner flow asks first")
    };
    assert_eq!(q.step, "inner-check/safe");
    assert_eq!(q.prompt, "Safe, Sam?");
    assert_eq!(q.who.map(|p| p.role), Some("a".to_owned()));
    engine.answer(Reply::Yes(true)).expect("accepted");
    // The called flow's id `inner-check` is read as `inner_check`.
    assert!(matches!(engine.next_event(), Ok(Event::Say { text, .. }) if text == "safe=yes"));
}

#[test]
fn a_called_flows_variables_are_read_by_its_id() {
    let (lib, _) = library(&[
        "
flow: caller
title: Caller
steps:
  - call: check
  - say: 'safe is {{ check.safe }}'
",
        "
flow: check
title: Check
steps:
  - { id: safe, ask: confirm, prompt: Safe? }
",
    ]);
    let caller = lib.index_of("caller").expect("loaded");
    let (seen, end) = play(&lib, caller, &[], &[Reply::Yes(false)]);
    assert_eq!(seen, ["check/safe: ask Safe?", "#2: say safe is no"]);
    assert_eq!(end.outcome, Outcome::Completed);
}

#[test]
fn a_stop_inside_a_called_flow_stops_the_whole_run() {
    let (lib, _) = library(&[
        "
flow: caller2
title: Caller
steps:
  - call: stopper
  - say: never shown
",
        "
flow: stopper
title: Stopper
steps:
  - { id: out, end: stopped, say: stopping }
",
    ]);
    let caller = lib.index_of("caller2").expect("loaded");
    let (seen, end) = play(&lib, caller, &[], &[]);
    assert_eq!(seen, ["stopper/out: say stopping"]);
    assert_eq!(
        (end.outcome, end.ended_at.as_str()),
        (Outcome::Stopped, "stopper/out")
    );
}

#[test]
fn an_endless_loop_stops_at_the_step_limit() {
    let (lib, flow) = library(&["
flow: forever
title: Forever
steps:
  - id: again
    say: again
    next:
      - when: 'false'
        goto: done
      - goto: again
  - id: done
    say: done
"]);
    let mut engine = Engine::new(&lib, flow, &[], now())
        .expect("starts")
        .with_limits(Limits {
            max_steps: 100,
            ..Limits::default()
        });
    let err = loop {
        match engine.next_event() {
            Ok(Event::Say { .. }) => continue,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => break e,
        }
    };
    assert!(
        err.message.contains("went past 100 steps"),
        "{}",
        err.message
    );
    assert_eq!(
        err.to_string(),
        format!("test-0.yaml:5: step `again`: {}", err.message)
    );
}

#[test]
fn progress_counts_towards_the_shortest_completing_path() {
    let (lib, flow) = library(&["
flow: progress
title: Progress
steps:
  - id: a
    ask: confirm
    prompt: stop early?
    next:
      - when: a
        goto: early
  - say: two
  - say: three
    next: end
  - id: early
    end: stopped
"]);
    let mut engine = Engine::new(&lib, flow, &[], now()).expect("starts");
    let Ok(Event::Ask(q)) = engine.next_event() else {
        panic!("asks first")
    };
    // The stopping branch is shorter, but the estimate follows the way that completes.
    assert_eq!((q.progress.step, q.progress.estimated_total), (1, 3));
}

#[test]
fn pause_ends_the_run_as_paused_at_the_current_step() {
    let (lib, flow) = library(&["
flow: pausing
title: Pausing
steps:
  - { id: first, ask: text, prompt: first }
  - { id: second, ask: text, prompt: second }
"]);
    let mut engine = Engine::new(&lib, flow, &[], now()).expect("starts");
    let _ = engine.next_event();
    let finished = engine.pause();
    assert_eq!(
        (finished.outcome, finished.ended_at.as_str()),
        (Outcome::Paused, "first")
    );
    assert!(matches!(engine.next_event(), Ok(Event::Finished(_))));
}

#[test]
fn a_safety_trigger_stops_before_set_and_next() {
    let (lib, flow) = library(&["
flow: safe
title: Safe
vars: { count: 0 }
steps:
  - id: afraid
    ask: confirm
    prompt: Are you afraid of anyone at home?
    safety: { when: afraid, category: fear_for_safety }
    set: { count: count + 1 }
  - id: feeling
    ask: choice
    prompt: Right now?
    options:
      - okay
      - { label: I might hurt myself, safety: self_harm }
  - say: never when stopped
"]);
    let names: Vec<String> = Vec::new();
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
    let _ = engine.next_event();
    engine.answer(Reply::Yes(true)).expect("accepted");
    match engine.next_event() {
        Ok(Event::Safety {
            step,
            category,
            stop,
            ..
        }) => assert_eq!(
            (step.as_str(), category.as_deref(), stop),
            ("afraid", Some("fear_for_safety"), true)
        ),
        other => panic!("expected a safety stop, got {other:?}"),
    }
    // Nothing goes on until the participants choose; a stop cannot be continued past.
    assert!(matches!(engine.next_event(), Ok(Event::Safety { .. })));
    engine.resolve_safety(SafetyChoice::Continue);
    let Ok(Event::Finished(end)) = engine.next_event() else {
        panic!("the run ends")
    };
    assert_eq!(
        (end.outcome, end.ended_at.as_str()),
        (Outcome::SafetyStop, "afraid")
    );
    assert_eq!(
        end.vars.get("count"),
        Some(&Value::from(0)),
        "`set` did not run"
    );

    let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
    let _ = engine.next_event();
    engine.answer(Reply::Yes(false)).expect("accepted");
    let _ = engine.next_event();
    engine.answer(Reply::Pick(1)).expect("accepted");
    assert!(
        matches!(engine.next_event(), Ok(Event::Safety { category, .. }) if category.as_deref() == Some("self_harm"))
    );
}

const LOOPING: &str = "
flow: looping
title: Looping
participants: [a, b]
vars: { rounds: 0 }
steps:
  - id: mood
    ask: scale
    who: both
    prompt: Mood?
  - id: heard
    ask: confirm
    prompt: Heard?
    set: { rounds: rounds + 1 }
    next:
      - when: not heard
        goto: heard
  - id: done
    say: '{{ rounds }} rounds, moods {{ mood.a }}/{{ mood.b }}'
";

/// Runs to the end, answering from `replies`, and returns what was presented.
fn finish(engine: &mut Engine<'_>, replies: &mut dyn Iterator<Item = Reply>) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match engine.next_event().expect("no runtime error") {
            Event::Say { step, text, .. } => seen.push(format!("{step}: {text}")),
            Event::Ask(q) => {
                seen.push(format!("{}: ask", q.step));
                engine
                    .answer(replies.next().expect("a reply"))
                    .expect("accepted");
            }
            Event::Finished(f) => {
                seen.push(format!("end {} at {}", f.outcome.as_str(), f.ended_at));
                return seen;
            }
            other => seen.push(format!("{other:?}")),
        }
    }
}

/// Restores a snapshot into the same, unchanged flows, as a resume with nothing edited does.
fn restore_unchanged<'a>(
    lib: &'a Library,
    snapshot: &Snapshot,
    names: &[String],
    what: &str,
) -> (Engine<'a>, Restored) {
    Engine::restore(
        lib,
        snapshot,
        names,
        now(),
        &Default::default(),
        &Default::default(),
    )
    .unwrap_or_else(|_| panic!("{what}"))
}

/// Runs past what is said to the next question.
fn next_question<'lib>(engine: &mut Engine<'lib>) -> Question<'lib> {
    loop {
        match engine.next_event().expect("runs") {
            Event::Ask(q) => return q,
            Event::Say { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn looping_replies() -> Vec<Reply> {
    vec![
        text("3"),
        text("7"),
        Reply::Yes(false),
        Reply::Yes(false),
        Reply::Yes(true),
    ]
}

#[test]
fn a_snapshot_after_any_answer_resumes_to_the_same_ending() {
    let (lib, flow) = library(&[LOOPING]);
    let names = ["Sam".to_owned(), "Alex".to_owned()];
    let whole = finish(
        &mut Engine::new(&lib, flow, &names, now()).expect("starts"),
        &mut looping_replies().into_iter(),
    );
    for stop_after in 1..looping_replies().len() {
        // Answer `stop_after` questions, snapshot, and throw the engine away (a crash).
        let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
        let mut replies = looping_replies().into_iter();
        let mut seen = Vec::new();
        let mut answered = 0;
        let snapshot = loop {
            match engine.next_event().expect("runs") {
                Event::Say { step, text, .. } => seen.push(format!("{step}: {text}")),
                Event::Ask(q) => {
                    seen.push(format!("{}: ask", q.step));
                    engine
                        .answer(replies.next().expect("reply"))
                        .expect("accepted");
                    answered += 1;
                    if answered == stop_after {
                        break engine.snapshot();
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        };
        let json = serde_json::to_string(&snapshot).expect("serialises");
        let back: Snapshot = serde_json::from_str(&json).expect("deserialises");
        let (mut resumed, restored) =
            restore_unchanged(&lib, &back, &names, &format!("restores after {stop_after}"));
        assert!(restored.notices.is_empty());
        seen.extend(finish(&mut resumed, &mut replies));
        assert_eq!(seen, whole, "resumed after answer {stop_after}");
    }
}

#[test]
fn an_edited_flow_resumes_at_the_same_step_id_or_reports_it_missing() {
    let (lib, flow) = library(&[LOOPING]);
    let names: Vec<String> = Vec::new();
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
    let mut replies = looping_replies().into_iter();
    for _ in 0..3 {
        let _ = engine.next_event();
        engine
            .answer(replies.next().expect("reply"))
            .expect("accepted");
    }
    let snapshot = engine.snapshot();
    assert_eq!(snapshot.frames[0].step, "heard");

    // The flow gains a step before `heard`: the session goes on at `heard`, with a notice.
    let edited = LOOPING.replace("  - id: heard\n", "  - say: new words\n  - id: heard\n");
    let (lib2, _) = library(&[&edited]);
    let changed: HashSet<String> = ["looping".to_owned()].into();
    let (mut resumed, restored) = Engine::restore(
        &lib2,
        &snapshot,
        &names,
        now(),
        &changed,
        &Default::default(),
    )
    .unwrap_or_else(|_| panic!("restores"));
    assert_eq!(restored.notices.len(), 1, "{:?}", restored.notices);
    assert!(matches!(resumed.next_event(), Ok(Event::Ask(q)) if q.step == "heard"));

    // `heard` is renamed: the caller hears which step is missing and can choose another.
    let renamed = LOOPING.replace("heard", "understood");
    let (lib3, _) = library(&[&renamed]);
    let missing = Engine::restore(
        &lib3,
        &snapshot,
        &names,
        now(),
        &changed,
        &Default::default(),
    )
    .err()
    .and_then(|e| match e {
        RestoreError::MissingStep(missing) => Some(missing),
        RestoreError::Runtime(_) => None,
    })
    .expect("a missing step");
    assert_eq!(
        (missing.flow.as_str(), missing.step.as_str()),
        ("looping", "heard")
    );
    let start_at: HashMap<String, String> = [("looping".to_owned(), "mood".to_owned())].into();
    let (mut resumed, _) = Engine::restore(&lib3, &snapshot, &names, now(), &changed, &start_at)
        .unwrap_or_else(|_| panic!("restores at the chosen step"));
    assert!(matches!(resumed.next_event(), Ok(Event::Ask(q)) if q.step == "mood"));
}

#[test]
fn a_trigger_that_allows_it_can_be_continued_past_deliberately() {
    let (lib, flow) = library(&["
flow: gentle
title: Gentle
vars: { after: 0 }
steps:
  - id: tired
    ask: confirm
    prompt: Very tired?
    safety: { when: tired, category: check_in, stop: false }
    set: { after: 1 }
  - say: 'going on, after={{ after }}'
"]);
    let names: Vec<String> = Vec::new();
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
    let _ = engine.next_event();
    engine.answer(Reply::Yes(true)).expect("accepted");
    assert!(matches!(
        engine.next_event(),
        Ok(Event::Safety { stop: false, .. })
    ));
    engine.resolve_safety(SafetyChoice::Continue);
    // The question comes again (the answer that paused was withdrawn); the next answer to it
    // does not pause again.
    assert!(matches!(engine.next_event(), Ok(Event::Ask(q)) if q.step == "tired"));
    engine.answer(Reply::Yes(true)).expect("accepted");
    assert!(!engine.holds_for_safety());
    assert!(
        matches!(engine.next_event(), Ok(Event::Say { text, .. }) if text == "going on, after=1")
    );

    // Stopping to come back later ends the run as a safety stop that can be resumed, and a
    // restored run starts at the same pause.
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
    let _ = engine.next_event();
    engine.answer(Reply::Yes(true)).expect("accepted");
    let _ = engine.next_event();
    let snapshot = engine.snapshot();
    engine.resolve_safety(SafetyChoice::Pause);
    assert!(
        matches!(engine.next_event(), Ok(Event::Finished(f)) if f.outcome == Outcome::SafetyStop && f.resumable)
    );
    let (mut resumed, _) = restore_unchanged(&lib, &snapshot, &names, "restores");
    assert!(matches!(
        resumed.next_event(),
        Ok(Event::Safety { stop: false, .. })
    ));
    resumed.resolve_safety(SafetyChoice::Continue);
    assert!(matches!(resumed.next_event(), Ok(Event::Ask(q)) if q.step == "tired"));
}

#[test]
fn the_global_screen_pauses_on_typed_text_before_the_other_partner_is_asked() {
    let profile = crate::safety::Profile::builtin().expect("profile");
    let (lib, flow) = library(&["
flow: share
title: Share
participants: [a, b]
steps:
  - id: feeling
    ask: text
    who: both
    prompt: How are you?
  - say: never shown
"]);
    let names: Vec<String> = Vec::new();
    let mut engine = Engine::new(&lib, flow, &names, now())
        .expect("starts")
        .with_screen(&profile);
    let _ = engine.next_event();
    engine
        .answer(text("honestly everyone would be better off without me"))
        .expect("accepted");
    assert!(
        matches!(engine.next_event(), Ok(Event::Safety { category, stop: false, who: Some(p), .. }) if category.as_deref() == Some("self_harm") && p.role == "a")
    );
    engine.resolve_safety(SafetyChoice::End);
    assert!(
        matches!(engine.next_event(), Ok(Event::Finished(f)) if f.outcome == Outcome::SafetyStop)
    );

    // Ordinary pain and idioms go on.
    let mut engine = Engine::new(&lib, flow, &names, now())
        .expect("starts")
        .with_screen(&profile);
    let _ = engine.next_event();
    engine
        .answer(text("i feel so betrayed, and i could kill for a coffee"))
        .expect("accepted");
    assert!(matches!(engine.next_event(), Ok(Event::Ask(q)) if q.turn == 1));
}

#[test]
fn a_safety_option_picked_by_the_first_partner_holds_before_the_second_is_asked() {
    let (lib, flow) = library(&["
flow: felt
title: Felt
participants: [a, b]
steps:
  - id: felt_safe
    ask: choice
    who: both
    prompt: Did you feel safe at home this week?
    options:
      - { label: Safe, value: safe }
      - { label: Afraid, value: afraid, safety: fear_for_safety }
  - say: never shown
"]);
    let (seen, finished) = play(&lib, flow, &["Sam", "Alex"], &[Reply::Pick(1)]);
    assert_eq!(
        seen,
        vec![
            "felt_safe [Sam]: ask Did you feel safe at home this week?",
            "felt_safe: safety fear_for_safety",
        ]
    );
    assert_eq!(finished.outcome, Outcome::SafetyStop);

    // The second partner's pick holds too.
    let (seen, finished) = play(
        &lib,
        flow,
        &["Sam", "Alex"],
        &[Reply::Pick(0), Reply::Pick(1)],
    );
    assert_eq!(
        seen.last().map(String::as_str),
        Some("felt_safe: safety fear_for_safety")
    );
    assert_eq!(finished.outcome, Outcome::SafetyStop);
}

#[test]
fn a_session_stopped_at_the_safety_pause_resumes_at_the_pause() {
    let profile = crate::safety::Profile::builtin().expect("profile");
    let (lib, flow) = library(&["
flow: note
title: Note
steps:
  - id: feeling
    ask: text
    prompt: How are you?
  - say: never without a choice
"]);
    let names: Vec<String> = Vec::new();
    let mut engine = Engine::new(&lib, flow, &names, now())
        .expect("starts")
        .with_screen(&profile);
    let _ = engine.next_event();
    engine
        .answer(text("i have been hoarding my sleeping tablets"))
        .expect("accepted");
    assert!(
        engine.holds_for_safety(),
        "the answer holds the run at once"
    );
    // The snapshot is saved at the pause; then the process dies at the pause screen.
    let snapshot = engine.snapshot();
    let saved = serde_json::to_string(&snapshot).expect("serialises");
    assert!(
        !saved.contains("hoarding"),
        "the words that caused the pause are not in the snapshot: {saved}"
    );
    assert!(
        !saved.contains("self_harm"),
        "nor what the pause noticed: {saved}"
    );
    let (resumed, _) = restore_unchanged(&lib, &snapshot, &names, "restores");
    let mut resumed = resumed.with_screen(&profile);
    // Back at the pause, going on still allowed; what it noticed was never saved.
    assert!(matches!(
        resumed.next_event(),
        Ok(Event::Safety {
            category: None,
            stop: false,
            ..
        })
    ));
}

const OWN_SAFETY: &str = "
flow: own-safety
title: A flow with its own safety words
safety:
  patterns:
    self_harm: ['drive off the pier']
  categories:
    relapse:
      message: Let's take a breath here before going on.
      stop: false
      patterns: ['(casino|betting app|bookies) * (again|last night|this week)']
steps:
  - id: week
    ask: text
    prompt: How was your week?
  - id: after
    say: going on
";

#[test]
fn a_flow_adds_its_own_patterns_and_categories() {
    let (lib, flow) = library(&[OWN_SAFETY]);
    let names: Vec<String> = Vec::new();
    let trigger = |typed: &str| {
        let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
        let _ = engine.next_event();
        engine.answer(text(typed)).expect("accepted");
        match engine.next_event() {
            Ok(Event::Safety { category, stop, .. }) => Some((category, stop, engine)),
            _ => None,
        }
    };
    // The flow's own category: stop is false, so going on is a choice the participants can make.
    let (category, stop, mut engine) =
        trigger("I was on the betting app again last night").expect("the flow's pattern fires");
    assert_eq!((category.as_deref(), stop), (Some("relapse"), false));
    engine.resolve_safety(SafetyChoice::Continue);
    assert!(matches!(engine.next_event(), Ok(Event::Ask(q)) if q.step == "week"));
    engine
        .answer(text("I was on the betting app again last night"))
        .expect("accepted");
    assert!(
        matches!(engine.next_event(), Ok(Event::Say { text, .. }) if text == "going on"),
        "the run goes on after a deliberate continue"
    );
    // A pattern added to a global category takes that category's stop.
    let (category, stop, _) =
        trigger("some nights I think about how I could drive off the pier").expect("fires");
    assert_eq!((category.as_deref(), stop), (Some("self_harm"), false));
    // Nothing else fires.
    assert!(trigger("We went to the pier and drove home").is_none());
}

#[test]
fn a_flow_cannot_redefine_or_soften_a_global_category() {
    let mut lib = Library::builtin();
    let err = lib
        .add_source(
            "
flow: soft
title: Soft
safety:
  categories:
    self_harm:
      message: never mind
      stop: false
      patterns: ['x']
  patterns:
    violense: ['slammed me']
    relapse: ['gambling']
    emergency: ['(unclosed']
steps:
  - say: hi
",
            Origin::Path("soft.yaml".into()),
        )
        .expect_err("refused");
    let shown = err.to_string();
    let short: Vec<String> = err.0.iter().map(|d| d.short()).collect();
    let short = short.join("\n");
    assert!(
        short.contains("soft.yaml:6:5: error[E0701]: `self_harm` is a global safety category"),
        "{shown}"
    );
    assert!(
        shown.contains("no safety category `violense`")
            && shown.contains("did you mean `violence`?"),
        "{shown}"
    );
    assert!(shown.contains("no safety category `relapse`"), "{shown}");
    assert!(
        short.contains(
            "soft.yaml:13:17: error[E0701]: safety pattern `(unclosed`: a `(` is not closed"
        ),
        "{shown}"
    );
}

#[test]
fn a_new_engine_screens_with_the_builtin_profile_unless_a_test_says_otherwise() {
    let (lib, flow) = library(&["
flow: plain
title: Plain
steps:
  - id: feeling
    ask: text
    prompt: How are you?
  - say: going on
"]);
    let names: Vec<String> = Vec::new();
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
    let _ = engine.next_event();
    engine
        .answer(text("i want to kill myself"))
        .expect("accepted");
    assert!(engine.holds_for_safety(), "screened without being asked to");

    let mut engine = Engine::new(&lib, flow, &names, now())
        .expect("starts")
        .without_safety_screen_for_tests();
    let _ = engine.next_event();
    engine
        .answer(text("i want to kill myself"))
        .expect("accepted");
    assert!(!engine.holds_for_safety());
}

/// A safety check's answers (`keep: false`) are used while it runs and are in no snapshot:
/// one saved in the middle stands before its first question, and once the check returns,
/// the caller holds its other answers but not those.
#[test]
fn answers_that_are_not_kept_are_in_no_snapshot() {
    let (lib, flow) = library(&[
        "
flow: outer
title: Outer
participants: [a]
steps:
  - id: mood
    ask: text
    prompt: How is the evening?
  - call: check
  - id: after
    ask: text
    prompt: And now?
",
        "
flow: check
title: Check
steps:
  - say: A few private questions.
  - id: hurt
    ask: text
    private: true
    keep: false
    prompt: Has anyone hurt you?
  - id: free
    ask: text
    private: true
    keep: false
    prompt: Do you feel free?
  - id: note
    ask: text
    prompt: Anything to add?
",
    ]);
    let names = ["Sam".to_owned()];
    let mut engine = Engine::new(&lib, flow, &names, now()).expect("starts");
    let mut asked = Vec::new();
    let mut snapshots = Vec::new();
    let replies = ["calm", "nobody-quince", "yes-quince", "nothing", "good"];
    for reply in replies {
        let q = next_question(&mut engine);
        asked.push((q.step.clone(), q.keep));
        engine.answer(text(reply)).expect("accepted");
        snapshots.push(serde_json::to_string(&engine.snapshot()).expect("serialises"));
    }
    assert_eq!(
        asked,
        [
            ("mood".to_owned(), true),
            ("check/hurt".to_owned(), false),
            ("check/free".to_owned(), false),
            ("check/note".to_owned(), true),
            ("after".to_owned(), true),
        ]
    );
    for (i, json) in snapshots.iter().enumerate() {
        assert!(
            !json.contains("quince"),
            "snapshot {i} holds an answer that is not kept: {json}"
        );
    }
    assert!(
        snapshots[4].contains("nothing"),
        "the kept answer of the check stays: {}",
        snapshots[4]
    );

    // Saved after the second question of the check (or after the check's kept one), a run
    // goes back to the check's first question.
    for saved in [2, 3] {
        let back: Snapshot = serde_json::from_str(&snapshots[saved]).expect("deserialises");
        let (mut resumed, _) = restore_unchanged(&lib, &back, &names, "restores");
        let first = next_question(&mut resumed).step;
        assert_eq!(first, "check/hurt", "restored from snapshot {saved}");
    }
}
