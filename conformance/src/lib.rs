//! Conformance for Rampart: the Autobahn|Testsuite harness, a native case
//! runner that needs no Docker, and interop with peers we did not write.
//!
//! Not published. The runner and harness arrive with their issue
//! ("conformance: Autobahn|Testsuite harness").
#![forbid(unsafe_code)]
