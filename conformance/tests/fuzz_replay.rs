//! Replays every committed fuzz corpus and regression input on stable Rust.
//!
//! cargo-fuzz needs nightly and libFuzzer; this test needs neither. It runs
//! each target body (the `fuzzing` module of a proto crate) on every file in
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`, so a crash found
//! once stays fixed and the seeds keep exercising the invariants. It counts
//! what it found: an emptied or moved corpus fails the test rather than
//! passing silently.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

/// A target's name (its corpus folder) and its body.
type Target = (&'static str, fn(&[u8]));

const TARGETS: &[Target] = &[
    ("origin", proto_core::fuzzing::origin),
    ("admission", proto_core::fuzzing::admission),
    ("deadlines", proto_core::fuzzing::deadlines),
    ("http_server", proto_http::fuzzing::server),
    ("http_client", proto_http::fuzzing::client),
    ("http_chunked", proto_http::fuzzing::chunked),
    ("http_structured", proto_http::fuzzing::structured),
    ("ws_server", |d| proto_ws::fuzzing::server_framing(now(), d)),
    ("ws_client", |d| proto_ws::fuzzing::client_framing(now(), d)),
    ("ws_handshake", |d| proto_ws::fuzzing::handshake(now(), d)),
    ("ws_roundtrip", |d| proto_ws::fuzzing::roundtrip(now(), d)),
    ("ws_structured", |d| proto_ws::fuzzing::structured(now(), d)),
];

/// Fewer seeds than this in a target's corpus means the corpus went missing.
const MIN_SEEDS_PER_TARGET: usize = 5;

/// Fewer regression inputs than this in all of `fuzz/regressions/` means
/// they went missing (one per bug the fuzzers found: `bug-<issue>-*.bin`).
const MIN_REGRESSIONS: usize = 1;

/// The one instant the WebSocket bodies are given, as in `fuzz/src/lib.rs`.
fn now() -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".keep"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_a_committed_corpus() {
    for (name, _) in TARGETS {
        let seeds = files_in(&fuzz_dir().join("corpus").join(name));
        assert!(
            seeds.len() >= MIN_SEEDS_PER_TARGET,
            "fuzz/corpus/{name} has {} seeds, expected at least {MIN_SEEDS_PER_TARGET}",
            seeds.len()
        );
    }
}

#[test]
fn every_fuzz_target_is_replayed() {
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let declared = manifest.matches("[[bin]]").count();
    assert_eq!(
        declared,
        TARGETS.len(),
        "fuzz/Cargo.toml declares {declared} targets; this replay knows {}",
        TARGETS.len()
    );
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} missing from fuzz/Cargo.toml"
        );
    }
}

#[test]
fn corpora_and_regressions_replay_without_findings() {
    let mut replayed = 0;
    let mut regressions = 0;
    for (name, body) in TARGETS {
        let mut seeds = 0;
        for folder in ["corpus", "regressions"] {
            for file in files_in(&fuzz_dir().join(folder).join(name)) {
                let input = fs::read(&file).expect("readable input");
                body(&input);
                replayed += 1;
                if folder == "corpus" {
                    seeds += 1;
                } else {
                    regressions += 1;
                }
            }
        }
        assert!(
            seeds >= MIN_SEEDS_PER_TARGET,
            "{name}: replayed {seeds} seeds, expected at least {MIN_SEEDS_PER_TARGET}"
        );
    }
    assert!(
        replayed >= TARGETS.len() * MIN_SEEDS_PER_TARGET,
        "replayed only {replayed} inputs"
    );
    assert!(
        regressions >= MIN_REGRESSIONS,
        "replayed {regressions} regression inputs, expected at least {MIN_REGRESSIONS}"
    );
}
