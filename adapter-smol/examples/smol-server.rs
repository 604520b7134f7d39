//! The reference server on smol: chat page at `/`, `/ws` chat, `/echo`
//! WebSocket and HTTP echo, `/stats`. The program is
//! `adapter_core::example::reference_server`, written once for every
//! runtime; DESIGN.md ("The reference server") fixes its options, output,
//! routes and signals.
//!
//! ```text
//! cargo run --release -p adapter-smol --example smol-server -- --pid-file /tmp/rampart.pid
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    adapter_core::example::reference_server::<adapter_smol::Smol>()
}
