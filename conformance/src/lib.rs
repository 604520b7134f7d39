//! Conformance for Rampart: the Autobahn|Testsuite harness, a native case
//! runner that needs no Docker, and interop with peers we did not write.
//!
//! Not published. What is here now:
//!
//! - [`catalogue`]: the Autobahn case ids of sections 1 to 10;
//! - [`report`]: reading an Autobahn `index.json` and checking it against the
//!   committed `autobahn/expected-*.json` (the `autobahn-check` binary);
//! - `tests/fuzz_replay.rs`: replays every committed fuzz corpus on stable.
//!
//! The native runner and the interop suite arrive with their issue
//! ("conformance: Autobahn|Testsuite harness").
#![forbid(unsafe_code)]

pub mod catalogue;
pub mod report;
