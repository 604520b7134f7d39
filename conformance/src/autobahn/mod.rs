//! The native Autobahn|Testsuite runner: sections 1 to 10 without Docker
//! or Python, in both of the suite's roles.
//!
//! - [`wire`]: our own frame writer and strict frame reader, independent
//!   of proto-ws, so the runner can send malformed frames and judge the
//!   peer strictly;
//! - [`cases`]: the 301 cases as data, from the suite's case descriptions;
//! - [`session`]: one case played over an open connection, as client or
//!   server, and its verdicts;
//! - [`client`]: the fuzzing client (the suite's `fuzzingclient`: tests
//!   servers);
//! - [`server`]: the fuzzing server (the suite's `fuzzingserver`, with
//!   `getCaseCount` / `runCase` / `updateReports`: tests clients);
//! - [`results`]: `index.json`, per-case files and the summary table;
//! - [`servers`]: building and starting the programs under test (the
//!   reference servers and the adapters' Autobahn clients).

pub mod cases;
pub mod client;
pub mod results;
pub mod server;
pub mod servers;
pub mod session;
pub mod wire;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cases::{Case, Sizes};
use client::Target;
use session::Outcome;

/// Which cases to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Case id prefixes (`"6.4"` selects 6.4.1 to 6.4.4, `"1"` section 1);
    /// empty selects every case.
    pub include: Vec<String>,
}

impl Selection {
    /// Whether `id` is selected.
    #[must_use]
    pub fn selects(&self, id: &str) -> bool {
        self.include.is_empty()
            || self
                .include
                .iter()
                .any(|p| id == p || id.starts_with(&format!("{p}.")))
    }
}

/// The selected cases, in catalogue order.
#[must_use]
pub fn select(sizes: Sizes, selection: &Selection) -> Vec<Case> {
    cases::all(sizes)
        .into_iter()
        .filter(|c| selection.selects(&c.id))
        .collect()
}

/// Runs `cases` one after the other against `target`, calling `progress`
/// after each.
pub fn run_client(
    target: &Target,
    cases: &[Case],
    mut progress: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    let seed = u64::try_from(seed & u128::from(u64::MAX)).unwrap_or(1);
    cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let outcome = client::run_case(
                target,
                case,
                seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            progress(&outcome);
            outcome
        })
        .collect()
}
