//! Every flow shipped in the binary loads cleanly and passes its own `tests:`.

use chrono::DateTime;
use trustguide::flow::{FlowFinder, Library};
use trustguide::flowtest::{run_flow_tests, untested};

#[test]
fn every_builtin_flow_loads_without_warnings_and_passes_its_tests() {
    let (headers, problems) = FlowFinder::builtin_only().list();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(
        headers.iter().any(|h| h.flow == "listening"),
        "listening is built in"
    );
    let now = DateTime::parse_from_rfc3339(crate::util::NOW).expect("valid time");
    let profile = trustguide::safety::Profile::builtin().expect("safety profile");
    for header in headers {
        let mut lib = Library::builtin();
        let index = lib
            .load(&header.flow)
            .unwrap_or_else(|d| panic!("{} must load:\n{d}", header.flow));
        assert!(
            lib.warnings().is_empty(),
            "{}: {:?}",
            header.flow,
            lib.warnings()
        );
        let reports = run_flow_tests(&lib, index, now, Some(&profile));
        assert!(!reports.is_empty(), "{} has no tests:", header.flow);
        let untested = untested(&lib, index, &reports);
        assert!(
            untested.is_empty(),
            "{}: ways between steps that no test takes: {untested:#?}",
            header.flow
        );
        for r in reports {
            assert!(
                r.passed(),
                "{} test `{}` (line {}): {:?}",
                header.flow,
                r.name,
                r.line,
                r.problems
            );
        }
    }
}
