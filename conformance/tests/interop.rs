//! Interop with peers we did not write.
//!
//! These tests need the Python peers that `conformance/interop.sh` installs
//! into a virtual environment; that script runs
//! `cargo test -p conformance --test interop -- --include-ignored` with
//! `RAMPART_INTEROP_PYTHON` set to the environment's interpreter. In plain
//! `cargo test` they are ignored (with the reason shown); run with
//! `--include-ignored` and no interpreter, they fail: a peer is never
//! skipped silently.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conformance::autobahn::cases::Sizes;
use conformance::autobahn::client::Target;
use conformance::autobahn::servers::{self, Running};
use conformance::autobahn::{self, Selection, results};
use conformance::report::{check, parse_expected, parse_report};

fn python() -> PathBuf {
    let python = std::env::var_os("RAMPART_INTEROP_PYTHON").expect(
        "RAMPART_INTEROP_PYTHON is not set: run conformance/interop.sh, which installs the Python peers and sets it",
    );
    PathBuf::from(python)
}

fn manifest(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The native runner must give Python websockets' echo server exactly the
/// official suite's verdicts (autobahn/expected-websockets.json). A runner
/// that passes everything it meets proves nothing: this is the proof that
/// it fails what the suite fails and tolerates what the suite tolerates.
#[test]
#[ignore = "needs Python websockets in a virtual environment: run conformance/interop.sh"]
fn native_runner_gives_python_websockets_the_official_verdicts() {
    let script = manifest("scripts/websockets_echo_server.py");
    let script = script.to_str().expect("UTF-8 path");
    let server = Running::start(
        &python(),
        &[script, "127.0.0.1", "0"],
        Duration::from_secs(30),
    )
    .expect("the websockets echo server starts");
    let target = Target::parse(&format!("ws://{}/", server.addr)).unwrap();
    let cases = autobahn::select(Sizes::Bounded, &Selection::default());
    assert_eq!(cases.len(), 301);
    let started = Instant::now();
    let outcomes = autobahn::run_client(&target, &cases, |_| {});
    drop(server);
    let dir = servers::target_dir().join("conformance").join("interop");
    results::write(&dir, "websockets", &cases, &outcomes).expect("write the report");
    eprintln!(
        "{}  ({} cases in {:.1} s; report {})",
        results::summary("websockets", &outcomes),
        outcomes.len(),
        started.elapsed().as_secs_f64(),
        dir.join("index.json").display()
    );
    let expected = parse_expected(
        &std::fs::read_to_string(manifest("autobahn/expected-websockets.json")).unwrap(),
    )
    .unwrap();
    let report = parse_report(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let problems = check(&report, &expected);
    assert!(
        problems.is_empty(),
        "the runner disagrees with the official verdicts on Python websockets:\n{}",
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
