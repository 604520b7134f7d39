//! The Autobahn report checker, run on committed sample reports, since no
//! Docker engine runs on CI to produce real ones.

use std::collections::BTreeSet;
use std::path::Path;

use conformance::report::{Problem, check, parse_expected, parse_report};

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_report_where_every_case_passes_is_accepted() {
    let expected = parse_expected(&read("autobahn/expected-server.json")).unwrap();
    let report = parse_report(&read("autobahn/samples/passing-index.json")).unwrap();
    assert_eq!(report.len(), 2);
    assert!(
        report.values().all(|cases| cases.len() == 303),
        "301 cases plus two unimplemented"
    );
    assert_eq!(check(&report, &expected), []);
}

#[test]
fn a_report_with_failures_names_each_one() {
    let expected = parse_expected(&read("autobahn/expected-server.json")).unwrap();
    let report = parse_report(&read("autobahn/samples/failing-index.json")).unwrap();
    let problems = check(&report, &expected);
    let failed: BTreeSet<(String, String)> = problems
        .iter()
        .filter_map(|p| match p {
            Problem::Failed { agent, case, .. } => Some((agent.clone(), case.clone())),
            _ => None,
        })
        .collect();
    // The sample carries the official suite's verdicts on Python websockets:
    // 14 NON-STRICT and 7 FAILED cases, for each of the two agents.
    assert_eq!(failed.len(), 2 * 21, "{problems:#?}");
    assert!(failed.contains(&("rampart-tokio".into(), "6.4.3".into())));
    assert!(failed.contains(&("rampart-smol".into(), "9.4.3".into())));
    assert!(problems.contains(&Problem::MissingCase {
        agent: "rampart-smol".into(),
        case: "10.1.1".into()
    }));
    assert_eq!(problems.len(), 2 * 21 + 1);
}

#[test]
fn the_committed_expectations_parse_and_name_both_runtimes() {
    for (file, suffix) in [
        ("autobahn/expected-server.json", ""),
        ("autobahn/expected-client.json", "-client"),
    ] {
        let expected = parse_expected(&read(file)).unwrap();
        assert_eq!(
            expected.agents,
            [
                format!("rampart-tokio{suffix}"),
                format!("rampart-smol{suffix}")
            ]
        );
    }
}

#[test]
fn the_suite_configs_exclude_only_compression() {
    for file in ["autobahn/fuzzingclient.json", "autobahn/fuzzingserver.json"] {
        let config: serde_json::Value = serde_json::from_str(&read(file)).unwrap();
        assert_eq!(config["cases"], serde_json::json!(["*"]), "{file}");
        assert_eq!(
            config["exclude-cases"],
            serde_json::json!(["12.*", "13.*"]),
            "{file}"
        );
    }
}
