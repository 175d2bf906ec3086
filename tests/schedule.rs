//! Check-in schedules: made by the checkin-schedule flow, listed by `trustguide schedule`,
//! exported with `--ics` and read back by an independent iCalendar parser (the `ical` crate).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use crate::util::Test;

const FIRST_WEEK: &str = r#"
how_often_now: Many times a day
main_time: "19:00"
midday_time: "12:30"
review_date: "2026-12-02"
agree: true
"#;

/// Every VEVENT of an .ics file: DTSTART -> (SUMMARY, the VALARM's TRIGGER).
fn events(ics: &str) -> BTreeMap<String, (String, String)> {
    let mut parser = ical::IcalParser::new(ics.as_bytes());
    let calendar = parser
        .next()
        .expect("one calendar")
        .expect("the file parses as iCalendar");
    assert!(parser.next().is_none(), "exactly one calendar");
    let prop = |props: &[ical::property::Property], name: &str| {
        props
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_else(|| panic!("{name} is missing"))
    };
    calendar
        .events
        .iter()
        .map(|e| {
            assert_eq!(e.alarms.len(), 1, "one reminder per check-in");
            assert!(prop(&e.properties, "UID").ends_with("@trustguide"));
            (
                prop(&e.properties, "DTSTART"),
                (
                    prop(&e.properties, "SUMMARY"),
                    prop(&e.alarms[0].properties, "TRIGGER"),
                ),
            )
        })
        .collect()
}

#[test]
fn a_first_schedule_is_listed_and_exported_as_the_same_check_ins() {
    let out = Test::new()
        .env("TZ", "America/New_York")
        .file("week1.yaml", FIRST_WEEK)
        .args([
            "run",
            "checkin-schedule",
            "--as",
            "Sam",
            "--as",
            "Alex",
            "--answers",
            "week1.yaml",
        ])
        .run()
        .code(0)
        .then(["schedule", "--all"])
        .code(0)
        .stdout_has("Check-in: Sam and Alex\n  at 12:30 and 19:00, every day, from Wed 25 Nov to Wed 2 Dec 2026");
    // It is 14:30 in New York (19:30 UTC): today's 12:30 has passed, 19:00 has not.
    let listed: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| {
            l.starts_with("  ") && !l.contains("made in session") && !l.contains(", every ")
        })
        .map(|l| l.trim().to_owned())
        .collect();
    assert_eq!(
        listed.first().map(String::as_str),
        Some("Wed 25 Nov 19:00"),
        "{}",
        out.stdout
    );
    assert_eq!(
        listed.last().map(String::as_str),
        Some("Wed 2 Dec 19:00"),
        "{}",
        out.stdout
    );
    assert_eq!(listed.len(), 15, "{}", out.stdout);

    let out = out.then(["schedule", "--ics", "checkins.ics"]).code(0);
    let path = out.path("checkins.ics");
    let mode = std::fs::metadata(&path)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the export is readable by its owner alone"
    );
    let ics = std::fs::read_to_string(&path).expect("read");
    let events = events(&ics);
    assert_eq!(events.len(), listed.len(), "the same check-ins as the list");
    // 19:00 in New York is midnight UTC; 12:30 is 17:30 UTC.
    let starts: Vec<&str> = events.keys().map(String::as_str).collect();
    assert_eq!(starts.first(), Some(&"20261126T000000Z"));
    assert!(starts.contains(&"20261126T173000Z"));
    assert_eq!(starts.last(), Some(&"20261203T000000Z"));
    for (summary, trigger) in events.values() {
        assert_eq!(summary, "Check-in: Sam and Alex");
        assert_eq!(trigger, "-PT600S", "a reminder ten minutes before");
    }

    // The same schedule and clock give the same file.
    let again = out.then(["schedule", "--ics", "again.ics"]).code(0);
    let twice = std::fs::read_to_string(again.path("again.ics")).expect("read");
    assert_eq!(ics, twice, "exports are reproducible");
}

#[test]
fn check_ins_keep_their_local_time_when_the_clocks_change() {
    // Clocks go forward in London on Sunday 28 March 2027.
    let out = Test::new()
        .env("TZ", "Europe/London")
        .env("TRUSTGUIDE_NOW", "2027-03-25T08:00:00+00:00")
        .file(
            "answers.yaml",
            "how_often_now: About once a day\nmain_time: \"19:00\"\nreview_date: \"2027-03-31\"\nagree: true\n",
        )
        .args(["run", "checkin-schedule", "--answers", "answers.yaml"])
        .run()
        .code(0)
        .then(["schedule", "--ics", "spring.ics"])
        .code(0);
    let ics = std::fs::read_to_string(out.path("spring.ics")).expect("read");
    let starts: Vec<String> = events(&ics).into_keys().collect();
    assert_eq!(
        starts,
        [
            "20270325T190000Z",
            "20270326T190000Z",
            "20270327T190000Z",
            "20270328T180000Z",
            "20270329T180000Z",
            "20270330T180000Z",
            "20270331T180000Z",
        ]
    );
}

#[test]
fn a_settled_week_widens_the_schedule_and_a_hard_one_narrows_it() {
    let out = Test::new()
        .env("TZ", "UTC")
        .file("week1.yaml", FIRST_WEEK)
        .file(
            "settled.yaml",
            "comfort: 8\nhard_week: false\nmain_time: \"19:00\"\nreview_date: \"2026-12-09\"\nagree: true\n",
        )
        .file(
            "hard.yaml",
            "comfort: 4\nhard_week: true\nmain_time: \"18:00\"\nmidday_time: \"12:00\"\nreview_date: \"2026-12-08\"\nagree: true\n",
        )
        .args(["run", "checkin-schedule", "--answers", "week1.yaml"])
        .run()
        .code(0)
        .then(["run", "checkin-schedule", "--answers", "settled.yaml"])
        .code(0)
        .stdout_has("the check-ins can come a little further apart")
        .then(["schedule"])
        .code(0)
        .stdout_has("at 19:00, every day, from Wed 25 Nov to Wed 9 Dec 2026");
    assert_eq!(
        out.stdout.matches("Check-in:").count(),
        1,
        "only the newest schedule is in use:\n{}",
        out.stdout
    );
    out.then(["run", "checkin-schedule", "--answers", "hard.yaml"])
        .code(0)
        .stdout_has("the check-ins come a little closer together again")
        .then(["schedule"])
        .stdout_has("at 12:00 and 18:00, every day")
        .then(["progress", "checkin_level", "--format", "csv"])
        .code(0)
        .stdout_has(",checkin_level,,1")
        .stdout_has(",checkin_level,,2");
}

#[test]
fn with_nothing_scheduled_the_export_says_so() {
    Test::new()
        .args(["schedule"])
        .run()
        .code(0)
        .stdout_has("No upcoming check-ins");
    Test::new()
        .args(["schedule", "--ics", "x.ics"])
        .run()
        .code(1)
        .stderr_has("no upcoming check-ins to export")
        .error_without_panic();
}

#[test]
fn forgetting_the_session_forgets_its_schedule() {
    Test::new()
        .env("TZ", "UTC")
        .file("week1.yaml", FIRST_WEEK)
        .args(["run", "checkin-schedule", "--answers", "week1.yaml"])
        .run()
        .code(0)
        .then(["schedule"])
        .stdout_has("every day")
        .then(["forget", "1", "--yes"])
        .code(0)
        .then(["schedule"])
        .code(0)
        .stdout_has("No upcoming check-ins");
}

/// The boundaries review day and the next weekly-progress are listed by `schedule` and
/// exported as all-day entries (no time, no reminder at midnight) that the independent parser
/// reads back; a day with no time is still upcoming on the day itself.
#[test]
fn the_review_day_and_the_next_weekly_look_are_in_the_schedule_and_the_calendar() {
    let boundaries = "safety-check/physical: \"No\"\nsafety-check/threats: \"No\"\n\
        safety-check/control: \"Yes, mostly\"\nsafety-check/harm_self: \"No\"\n\
        needs: [evenings out]\nshape: [I need to know where you are in the evening, so that I can relax.]\n\
        response: [accept]\ncommitment: \"\"\nreview: 2026-12-09\n";
    let weekly = "calm_about_activities: { partner_a: 6, partner_b: 7 }\nopenness: { partner_a: 6, partner_b: 6 }\n\
        communication: { partner_a: 7, partner_b: 6 }\nfree_from_checking: { partner_a: 8, partner_b: 9 }\n\
        closeness: { partner_a: 6, partner_b: 7 }\nplanning_together: { partner_a: 6, partner_b: 6 }\n\
        appreciation: { partner_a: 8, partner_b: 8 }\nfelt_safe_a: safe\nfelt_safe_b: safe\n\
        reflect: { partner_a: \"\", partner_b: \"\" }\n";
    let out = Test::new()
        .env("TZ", "UTC")
        .file("b.yaml", boundaries)
        .file("w.yaml", weekly)
        .args([
            "run",
            "boundaries",
            "--as",
            "Alex",
            "--as",
            "Sam",
            "--answers",
            "b.yaml",
        ])
        .run()
        .code(0)
        .then([
            "run",
            "weekly-progress",
            "--as",
            "Sam",
            "--as",
            "Alex",
            "--answers",
            "w.yaml",
        ])
        .code(0)
        .then(["schedule"])
        .code(0)
        .stdout_has("Review your boundaries together: Alex and Sam — on Wed 9 Dec 2026\n")
        .stdout_has("  Wed 9 Dec\n")
        .stdout_has("Weekly progress: Sam and Alex — on Wed 2 Dec 2026\n")
        .then(["schedule", "--ics", "days.ics"])
        .code(0)
        .stdout_has("Wrote 2 calendar entries");
    let ics = std::fs::read_to_string(out.path("days.ics")).expect("the export");
    let calendar = ical::IcalParser::new(ics.as_bytes())
        .next()
        .expect("a calendar")
        .expect("it parses");
    let mut days: Vec<(String, String, String, usize)> = calendar
        .events
        .iter()
        .map(|e| {
            let prop = |name: &str| {
                e.properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
                    .unwrap_or_default()
            };
            let all_day = e.properties.iter().any(|p| {
                p.name == "DTSTART"
                    && p.params.as_ref().is_some_and(|ps| {
                        ps.iter()
                            .any(|(k, v)| k == "VALUE" && v.iter().any(|x| x == "DATE"))
                    })
            });
            assert!(all_day, "a whole day: {ics}");
            (
                prop("DTSTART"),
                prop("DTEND"),
                prop("SUMMARY"),
                e.alarms.len(),
            )
        })
        .collect();
    days.sort();
    assert_eq!(
        days,
        [
            (
                "20261202".to_owned(),
                "20261203".to_owned(),
                "Weekly progress: Sam and Alex".to_owned(),
                0
            ),
            (
                "20261209".to_owned(),
                "20261210".to_owned(),
                "Review your boundaries together: Alex and Sam".to_owned(),
                0
            ),
        ]
    );
    // On the review day itself, it is still listed.
    out.env_then("TRUSTGUIDE_NOW", "2026-12-09T20:00:00+00:00", ["schedule"])
        .code(0)
        .stdout_has("  Wed 9 Dec\n");
}
