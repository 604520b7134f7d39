//! Workerman's newline-delimited Text protocol, served by Rampart on smol.
//! The program is `adapter_core::example::text_protocol`, written once for
//! every runtime; its docs list the options.
//!
//! ```text
//! cargo run -p adapter-smol --example smol-text-protocol -- --addr 127.0.0.1:2347
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    adapter_core::example::text_protocol::<adapter_smol::Smol>()
}
