//! Results in the shape of the suite's `index.json` (agent → case →
//! `behavior`, `behaviorClose`, `duration`, `remoteCloseCode`,
//! `reportfile`), one JSON file per case, and a readable summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde_json::{Value, json};

use super::cases::{Case, Verdict};
use super::session::Outcome;
use crate::catalogue;

/// The summary column a case falls in: the worse of its two verdicts, with
/// anything that is not OK, NON-STRICT or INFORMATIONAL counted as FAILED.
#[must_use]
pub fn column(outcome: &Outcome) -> Verdict {
    let worst = outcome.behavior.max(outcome.behavior_close);
    match worst {
        Verdict::Ok | Verdict::NonStrict | Verdict::Informational => worst,
        _ => Verdict::Failed,
    }
}

/// The file name of a case's detail report, as the suite names them.
#[must_use]
pub fn report_file(agent: &str, case: &str) -> String {
    let clean: String = agent
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join("_");
    format!("{clean}_case_{}.json", case.replace('.', "_"))
}

/// The `index.json` value for one agent's outcomes.
#[must_use]
pub fn index_entry(agent: &str, outcomes: &[Outcome]) -> Value {
    let cases: serde_json::Map<String, Value> = outcomes
        .iter()
        .map(|o| {
            (
                o.id.clone(),
                json!({
                    "behavior": o.behavior.as_str(),
                    "behaviorClose": o.behavior_close.as_str(),
                    "duration": u64::try_from(o.duration.as_millis()).unwrap_or(u64::MAX),
                    "remoteCloseCode": o.remote_close_code,
                    "reportfile": report_file(agent, &o.id),
                }),
            )
        })
        .collect();
    Value::Object(cases)
}

/// Writes `index.json` (merging with agents already there) and one detail
/// file per case into `dir`.
///
/// # Errors
///
/// I/O errors, or an existing `index.json` that is not a JSON object.
pub fn write(dir: &Path, agent: &str, cases: &[Case], outcomes: &[Outcome]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let index_path = dir.join("index.json");
    let mut index = match std::fs::read_to_string(&index_path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        },
        Err(_) => serde_json::Map::new(),
    };
    index.insert(agent.to_owned(), index_entry(agent, outcomes));
    let text = serde_json::to_string_pretty(&Value::Object(index)).map_err(io::Error::other)?;
    std::fs::write(&index_path, text + "\n")?;
    let by_id: BTreeMap<&str, &Case> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
    for o in outcomes {
        let case = by_id.get(o.id.as_str());
        let detail = json!({
            "agent": agent,
            "id": o.id,
            "description": case.map(|c| c.description.as_str()),
            "expectation": case.map(|c| c.expectation.as_str()),
            "behavior": o.behavior.as_str(),
            "behaviorClose": o.behavior_close.as_str(),
            "result": o.result,
            "resultClose": o.result_close,
            "duration": u64::try_from(o.duration.as_millis()).unwrap_or(u64::MAX),
            "remoteCloseCode": o.remote_close_code,
            "received": o.received,
        });
        let text = serde_json::to_string_pretty(&detail).map_err(io::Error::other)?;
        std::fs::write(dir.join(report_file(agent, &o.id)), text + "\n")?;
    }
    Ok(())
}

/// A table of cases per section and column, and the list of every case that
/// is not OK.
#[must_use]
pub fn summary(agent: &str, outcomes: &[Outcome]) -> String {
    let columns = [
        Verdict::Ok,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Failed,
    ];
    let mut counts: BTreeMap<u32, [usize; 4]> = BTreeMap::new();
    for o in outcomes {
        let row = counts.entry(catalogue::section(&o.id)).or_default();
        let col = column(o);
        if let Some(i) = columns.iter().position(|c| *c == col) {
            row[i] += 1;
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{agent}");
    let _ = writeln!(
        out,
        "  section  cases     OK  NON-STRICT  INFORMATIONAL  FAILED"
    );
    let mut total = [0usize; 4];
    for (section, row) in &counts {
        let _ = writeln!(
            out,
            "  {section:>7}  {:>5}  {:>5}  {:>10}  {:>13}  {:>6}",
            row.iter().sum::<usize>(),
            row[0],
            row[1],
            row[2],
            row[3]
        );
        for (t, r) in total.iter_mut().zip(row) {
            *t += r;
        }
    }
    let _ = writeln!(
        out,
        "  {:>7}  {:>5}  {:>5}  {:>10}  {:>13}  {:>6}",
        "all",
        total.iter().sum::<usize>(),
        total[0],
        total[1],
        total[2],
        total[3]
    );
    for o in outcomes.iter().filter(|o| column(o) != Verdict::Ok) {
        let _ = writeln!(
            out,
            "  {:<8} {} / close {} (remote code {}): {}",
            o.id,
            o.behavior.as_str(),
            o.behavior_close.as_str(),
            o.remote_close_code
                .map_or_else(|| "none".to_owned(), |c| c.to_string()),
            if column(o) == Verdict::Failed {
                format!("{} {}", o.result, o.result_close)
            } else {
                o.result.clone()
            }
        );
    }
    out
}
