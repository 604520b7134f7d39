//! Workerman's newline-delimited Text protocol, served by Rampart on tokio.
//! The program is `adapter_core::example::text_protocol`, written once for
//! every runtime; its docs list the options.
//!
//! ```text
//! cargo run -p adapter-tokio --example text-protocol -- --addr 127.0.0.1:2347
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    adapter_core::example::text_protocol::<adapter_tokio::Tokio>()
}
