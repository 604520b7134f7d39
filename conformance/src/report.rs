//! Reading Autobahn `index.json` reports and checking them against the
//! committed expectations.
//!
//! A report maps agent → case id → result. Only `behavior` and
//! `behaviorClose` are compared: durations and close codes vary from run to
//! run. A case passes when both are `OK` or `INFORMATIONAL`, unless the
//! expectations file lists it as a known exception with a reason; then the
//! result must be exactly what is listed, so an exception that starts passing
//! is noticed and removed.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::catalogue;

/// One case's verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The verdict on the protocol behaviour: `OK`, `NON-STRICT`,
    /// `INFORMATIONAL`, `FAILED`, `UNIMPLEMENTED`, ...
    pub behavior: String,
    /// The verdict on the closing handshake.
    pub behavior_close: String,
}

impl CaseResult {
    fn passes(&self) -> bool {
        let good = |v: &str| matches!(v, "OK" | "INFORMATIONAL");
        good(&self.behavior) && good(&self.behavior_close)
    }
}

/// A parsed `index.json`: agent name → case id → result.
pub type Report = BTreeMap<String, BTreeMap<String, CaseResult>>;

/// A known deviation, listed with the reason it is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The expected verdicts.
    pub result: CaseResult,
    /// Why this is accepted; never empty.
    pub reason: String,
    /// Other verdicts accepted for a case whose outcome is a race inside the
    /// peer (the reason must say so); usually empty.
    pub alternatives: Vec<CaseResult>,
}

impl Exception {
    fn accepts(&self, actual: &CaseResult) -> bool {
        self.result == *actual || self.alternatives.contains(actual)
    }
}

/// The committed expectations: which agents must appear, and the exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Agents that must be present in the report.
    pub agents: Vec<String>,
    /// Case id → the accepted deviation.
    pub exceptions: BTreeMap<String, Exception>,
}

/// What is wrong with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An agent named in the expectations did not run.
    MissingAgent(String),
    /// A catalogue case is absent from an agent's results.
    MissingCase {
        /// The agent.
        agent: String,
        /// The case id.
        case: String,
    },
    /// A case that is neither passing nor a listed exception.
    Failed {
        /// The agent.
        agent: String,
        /// The case id.
        case: String,
        /// What the report says.
        actual: CaseResult,
    },
    /// A listed exception whose result changed (for better or worse).
    ExceptionChanged {
        /// The agent.
        agent: String,
        /// The case id.
        case: String,
        /// What the expectations list.
        expected: CaseResult,
        /// What the report says.
        actual: CaseResult,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingAgent(agent) => write!(f, "agent {agent:?} is missing from the report"),
            Self::MissingCase { agent, case } => write!(f, "{agent} {case}: missing"),
            Self::Failed {
                agent,
                case,
                actual,
            } => write!(
                f,
                "{agent} {case}: {} / close {} (not OK and not a listed exception)",
                actual.behavior, actual.behavior_close
            ),
            Self::ExceptionChanged {
                agent,
                case,
                expected,
                actual,
            } => write!(
                f,
                "{agent} {case}: listed as {} / close {} but got {} / close {}; update the expectations",
                expected.behavior, expected.behavior_close, actual.behavior, actual.behavior_close
            ),
        }
    }
}

/// A file that is not what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}

fn field<'a>(value: &'a Value, name: &str, context: &str) -> Result<&'a str, FormatError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| FormatError(format!("{context}: no string field {name:?}")))
}

/// Parses an Autobahn `index.json`.
///
/// # Errors
///
/// [`FormatError`] when the text is not JSON of the report's shape.
pub fn parse_report(json: &str) -> Result<Report, FormatError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| FormatError(format!("report: {e}")))?;
    let agents = value
        .as_object()
        .ok_or_else(|| FormatError("report: not an object of agents".into()))?;
    let mut report = Report::new();
    for (agent, cases) in agents {
        let cases = cases
            .as_object()
            .ok_or_else(|| FormatError(format!("report: agent {agent:?} is not an object")))?;
        let mut results = BTreeMap::new();
        for (case, result) in cases {
            let context = format!("report: {agent} {case}");
            results.insert(
                case.clone(),
                CaseResult {
                    behavior: field(result, "behavior", &context)?.to_owned(),
                    behavior_close: field(result, "behaviorClose", &context)?.to_owned(),
                },
            );
        }
        report.insert(agent.clone(), results);
    }
    Ok(report)
}

/// Parses an expectations file:
/// `{"agents": [...], "exceptions": {"6.4.3": {"behavior": ..., "behaviorClose": ..., "reason": ...}}}`;
/// an exception may add `"alternatives": [{"behavior": ..., "behaviorClose": ...}]`.
///
/// # Errors
///
/// [`FormatError`] for a malformed file or an exception without a reason.
pub fn parse_expected(json: &str) -> Result<Expected, FormatError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| FormatError(format!("expectations: {e}")))?;
    let agents = value
        .get("agents")
        .and_then(Value::as_array)
        .ok_or_else(|| FormatError("expectations: no \"agents\" array".into()))?
        .iter()
        .map(|a| {
            a.as_str()
                .map(str::to_owned)
                .ok_or_else(|| FormatError("expectations: an agent is not a string".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut exceptions = BTreeMap::new();
    if let Some(listed) = value.get("exceptions") {
        let listed = listed
            .as_object()
            .ok_or_else(|| FormatError("expectations: \"exceptions\" is not an object".into()))?;
        for (case, entry) in listed {
            let context = format!("expectations: exception {case}");
            let reason = field(entry, "reason", &context)?.trim().to_owned();
            if reason.is_empty() {
                return Err(FormatError(format!("{context}: the reason is empty")));
            }
            let mut alternatives = Vec::new();
            if let Some(listed) = entry.get("alternatives") {
                let listed = listed.as_array().ok_or_else(|| {
                    FormatError(format!("{context}: \"alternatives\" is not an array"))
                })?;
                for alternative in listed {
                    alternatives.push(CaseResult {
                        behavior: field(alternative, "behavior", &context)?.to_owned(),
                        behavior_close: field(alternative, "behaviorClose", &context)?.to_owned(),
                    });
                }
            }
            exceptions.insert(
                case.clone(),
                Exception {
                    result: CaseResult {
                        behavior: field(entry, "behavior", &context)?.to_owned(),
                        behavior_close: field(entry, "behaviorClose", &context)?.to_owned(),
                    },
                    reason,
                    alternatives,
                },
            );
        }
    }
    Ok(Expected { agents, exceptions })
}

/// Every problem of `report` against `expected`; empty means it passes.
///
/// Every catalogue case (sections 1 to 10) must be present for every expected
/// agent. Cases outside the catalogue (12.x, 13.x) may be `UNIMPLEMENTED`.
#[must_use]
pub fn check(report: &Report, expected: &Expected) -> Vec<Problem> {
    let mut problems = Vec::new();
    for agent in &expected.agents {
        let Some(results) = report.get(agent) else {
            problems.push(Problem::MissingAgent(agent.clone()));
            continue;
        };
        for case in catalogue::case_ids() {
            if !results.contains_key(&case) {
                problems.push(Problem::MissingCase {
                    agent: agent.clone(),
                    case,
                });
            }
        }
        for (case, actual) in results {
            let outside_catalogue = !matches!(catalogue::section(case), 1..=10);
            if outside_catalogue && actual.behavior == "UNIMPLEMENTED" {
                continue;
            }
            match expected.exceptions.get(case) {
                Some(exception) if exception.accepts(actual) => {}
                Some(exception) => problems.push(Problem::ExceptionChanged {
                    agent: agent.clone(),
                    case: case.clone(),
                    expected: exception.result.clone(),
                    actual: actual.clone(),
                }),
                None if actual.passes() => {}
                None => problems.push(Problem::Failed {
                    agent: agent.clone(),
                    case: case.clone(),
                    actual: actual.clone(),
                }),
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(entries: &[(&str, &str, &str)]) -> Report {
        let mut cases = BTreeMap::new();
        for id in catalogue::case_ids() {
            cases.insert(
                id,
                CaseResult {
                    behavior: "OK".into(),
                    behavior_close: "OK".into(),
                },
            );
        }
        for (case, behavior, close) in entries {
            cases.insert(
                (*case).into(),
                CaseResult {
                    behavior: (*behavior).into(),
                    behavior_close: (*close).into(),
                },
            );
        }
        Report::from([("rampart".to_owned(), cases)])
    }

    fn expected(exceptions: &[(&str, &str, &str)]) -> Expected {
        Expected {
            agents: vec!["rampart".into()],
            exceptions: exceptions
                .iter()
                .map(|(case, behavior, close)| {
                    let result = CaseResult {
                        behavior: (*behavior).into(),
                        behavior_close: (*close).into(),
                    };
                    (
                        (*case).into(),
                        Exception {
                            result,
                            reason: "test".into(),
                            alternatives: Vec::new(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn all_ok_passes_and_informational_counts_as_ok() {
        let r = report(&[
            ("7.1.6", "INFORMATIONAL", "INFORMATIONAL"),
            ("12.1.1", "UNIMPLEMENTED", "UNIMPLEMENTED"),
        ]);
        assert_eq!(check(&r, &expected(&[])), []);
    }

    #[test]
    fn non_strict_and_failed_fail_unless_listed() {
        let r = report(&[
            ("6.4.3", "NON-STRICT", "OK"),
            ("7.1.5", "FAILED", "OK"),
            ("5.1", "OK", "UNCLEAN"),
        ]);
        let problems = check(&r, &expected(&[]));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(
            check(
                &r,
                &expected(&[
                    ("6.4.3", "NON-STRICT", "OK"),
                    ("7.1.5", "FAILED", "OK"),
                    ("5.1", "OK", "UNCLEAN")
                ])
            ),
            []
        );
    }

    #[test]
    fn a_listed_exception_that_changes_is_reported() {
        let r = report(&[]);
        let problems = check(&r, &expected(&[("6.4.3", "NON-STRICT", "OK")]));
        assert!(
            matches!(&problems[..], [Problem::ExceptionChanged { case, .. }] if case == "6.4.3")
        );
    }

    #[test]
    fn missing_cases_and_agents_are_reported() {
        let mut r = report(&[]);
        r.get_mut("rampart").unwrap().remove("9.3.1");
        let mut e = expected(&[]);
        e.agents.push("other".into());
        let problems = check(&r, &e);
        assert!(problems.contains(&Problem::MissingCase {
            agent: "rampart".into(),
            case: "9.3.1".into()
        }));
        assert!(problems.contains(&Problem::MissingAgent("other".into())));
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn implemented_cases_outside_the_catalogue_are_still_checked() {
        let r = report(&[("13.1.1", "FAILED", "OK")]);
        assert_eq!(check(&r, &expected(&[])).len(), 1);
    }

    #[test]
    fn alternatives_are_accepted_and_nothing_else() {
        let json = r#"{"agents": ["rampart"], "exceptions": {"3.4": {"behavior": "NON-STRICT", "behaviorClose": "OK", "reason": "race", "alternatives": [{"behavior": "OK", "behaviorClose": "OK"}]}}}"#;
        let e = parse_expected(json).unwrap();
        assert_eq!(check(&report(&[("3.4", "NON-STRICT", "OK")]), &e), []);
        assert_eq!(check(&report(&[]), &e), []);
        assert_eq!(check(&report(&[("3.4", "FAILED", "OK")]), &e).len(), 1);
    }

    #[test]
    fn exceptions_need_a_reason() {
        let json = r#"{"agents": ["a"], "exceptions": {"6.4.3": {"behavior": "NON-STRICT", "behaviorClose": "OK", "reason": " "}}}"#;
        assert!(parse_expected(json).is_err());
        let json = r#"{"agents": ["a"], "exceptions": {"6.4.3": {"behavior": "NON-STRICT", "behaviorClose": "OK"}}}"#;
        assert!(parse_expected(json).is_err());
    }

    #[test]
    fn malformed_reports_are_errors() {
        assert!(parse_report("[]").is_err());
        assert!(parse_report(r#"{"a": {"1.1.1": {"behavior": "OK"}}}"#).is_err());
        assert!(parse_report("not json").is_err());
    }
}
