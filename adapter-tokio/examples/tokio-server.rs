//! The reference server on tokio: chat page at `/`, `/ws` chat, `/echo`
//! WebSocket and HTTP echo, `/stats`. The program is
//! `adapter_core::example::reference_server`, written once for every
//! runtime; DESIGN.md ("The reference server") fixes its options, output,
//! routes and signals.
//!
//! ```text
//! cargo run --release -p adapter-tokio --example tokio-server -- --pid-file /tmp/rampart.pid
//! # open http://127.0.0.1:8080/ in two tabs and chat; then:
//! kill -USR1 "$(cat /tmp/rampart.pid)"   # graceful reload: a new process serves on
//! kill -TERM "$(cat /tmp/rampart.pid)"   # graceful stop
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    adapter_core::example::reference_server::<adapter_tokio::Tokio>()
}
