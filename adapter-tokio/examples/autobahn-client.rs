//! The Autobahn|Testsuite client on tokio: what the suite's
//! `fuzzingserver` mode tests (agent `rampart-tokio-client`). The program
//! is `adapter_core::example::autobahn_client`, written once for every
//! runtime: `/getCaseCount`, then every case's messages echoed back, then
//! `/updateReports`.
//!
//! ```text
//! cargo run --release -p adapter-tokio --example autobahn-client -- [--url ws://127.0.0.1:9001] [--agent NAME] [--cases N,M]
//! # the native runner starts it itself:
//! cargo run --release -p conformance --bin conformance -- autobahn --role server
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    adapter_core::example::autobahn_client::<adapter_tokio::Tokio>("rampart-tokio-client")
}
