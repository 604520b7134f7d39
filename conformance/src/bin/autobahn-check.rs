//! Checks an Autobahn|Testsuite `index.json` against committed expectations.
//!
//! ```text
//! cargo run -p conformance --bin autobahn-check -- EXPECTED.json REPORT/index.json
//! ```
//!
//! Exits 0 when every case of sections 1 to 10 ran for every expected agent
//! and is OK or INFORMATIONAL, or exactly matches a listed exception; 1 with
//! one line per problem otherwise; 2 when a file cannot be read or parsed.

use std::process::ExitCode;

use conformance::report::{check, parse_expected, parse_report};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [expected_path, report_path] = &args[..] else {
        eprintln!("usage: autobahn-check EXPECTED.json REPORT/index.json");
        return ExitCode::from(2);
    };
    let read = |path: &str| {
        std::fs::read_to_string(path).map_err(|e| eprintln!("autobahn-check: {path}: {e}"))
    };
    let (Ok(expected), Ok(report)) = (read(expected_path), read(report_path)) else {
        return ExitCode::from(2);
    };
    let expected = match parse_expected(&expected) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("autobahn-check: {expected_path}: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match parse_report(&report) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("autobahn-check: {report_path}: {e}");
            return ExitCode::from(2);
        }
    };
    let problems = check(&report, &expected);
    for problem in &problems {
        eprintln!("{problem}");
    }
    let cases: usize = expected
        .agents
        .iter()
        .filter_map(|a| report.get(a))
        .map(|c| c.len())
        .sum();
    if problems.is_empty() {
        eprintln!(
            "autobahn-check: {cases} results for {} agents match the expectations",
            expected.agents.len()
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("autobahn-check: {} problems", problems.len());
        ExitCode::FAILURE
    }
}
