//! Conformance for Rampart: the Autobahn|Testsuite harness, a native case
//! runner that needs no Docker, and interop with peers we did not write.
//!
//! Not published. What is here now:
//!
//! - [`autobahn`]: the native Autobahn|Testsuite runner (sections 1 to 10,
//!   no Docker, no Python), as the suite's fuzzing client (testing servers)
//!   and as its fuzzing server (testing clients): the `conformance autobahn`
//!   command;
//! - [`catalogue`]: the Autobahn case ids of sections 1 to 10;
//! - [`report`]: reading an Autobahn `index.json` and checking it against the
//!   committed `autobahn/expected-*.json` (the `autobahn-check` binary);
//! - `tests/fuzz_replay.rs`: replays every committed fuzz corpus on stable;
//! - `tests/interop.rs`: interop with peers we did not write, run by
//!   `interop.sh` (ignored in plain `cargo test`).
#![forbid(unsafe_code)]

pub mod autobahn;
pub mod catalogue;
pub mod report;
