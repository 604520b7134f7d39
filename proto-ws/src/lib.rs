//! Strict RFC 6455 WebSocket handshake and framing for both roles.
//!
//! Performs no I/O, reads no clock, draws no randomness; see `adapter-tokio`
//! and `adapter-smol` for servers and clients that do.
//!
//! - [`handshake`] validates an opening handshake carried by `proto-http`
//!   heads and builds the answer (RFC 6455 §4).
//! - [`Connection`] is the framing state machine of one connection, client
//!   or server (RFC 6455 §5-§7): every MUST checked with the right close
//!   code, automatic pongs and close echo, incremental UTF-8 validation that
//!   fails at the first bad byte, size caps judged on declared lengths, and
//!   deadlines reported through `poll_timeout`.
//!
//! # Cargo features
//!
//! - `simd`: validate text with `simdutf8` instead of `std` (same verdicts,
//!   same first-error position; about 4x faster text decoding on non-ASCII
//!   text, `benches/ws.rs`).
//! - `fuzzing`: the fuzz target bodies in `proto_ws::fuzzing`, replayed by
//!   `cargo test --all-features`.
//!
//! # Driving a connection over a socket
//!
//! A blocking `std::net` loop for a server connection whose handshake is done
//! (`leftover` holds any bytes that followed the request head). Adapters do
//! the same with non-blocking sockets and one timer.
//!
//! ```no_run
//! use proto_core::Side;
//! use proto_ws::{Config, Connection, Event};
//! use std::io::{ErrorKind, Read, Write};
//! use std::net::{Shutdown, TcpStream};
//! use std::time::Instant;
//!
//! fn echo(mut socket: TcpStream, leftover: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//!     let mut ws = Connection::new(Side::Server, Config::default(), Instant::now())?;
//!     let mut pending = leftover.to_vec();
//!     let (mut buf, mut out) = (vec![0u8; 16 * 1024], Vec::new());
//!     while !ws.is_closed() {
//!         // 1. Feed input; a short count is backpressure: keep the rest.
//!         if !pending.is_empty() {
//!             let used = ws.handle_input(Instant::now(), &pending).unwrap_or(pending.len());
//!             pending.drain(..used);
//!         }
//!         // 2. Dispatch events (commands only queue).
//!         while let Some(event) = ws.poll_event() {
//!             match event {
//!                 Event::Text(text) => ws.send_text(std::str::from_utf8(&text)?)?,
//!                 Event::Binary(data) => ws.send_binary(&data)?,
//!                 _ => {}
//!             }
//!         }
//!         // 3. Write what the machine queued (pongs, echoes, close frames).
//!         while let Some(t) = ws.poll_transmit(Instant::now(), &mut out) {
//!             socket.write_all(&out)?;
//!             out.clear();
//!             if t == proto_core::Transmit::ShutdownWrite {
//!                 socket.shutdown(Shutdown::Write)?;
//!             }
//!         }
//!         if ws.is_closed() || !pending.is_empty() {
//!             continue;
//!         }
//!         // 4. Read, waking at the machine's next deadline.
//!         let wait = ws.poll_timeout().map(|at| at.saturating_duration_since(Instant::now()));
//!         socket.set_read_timeout(wait.map(|w| w.max(std::time::Duration::from_millis(1))))?;
//!         match socket.read(&mut buf) {
//!             Ok(0) => ws.handle_eof(Instant::now()),
//!             Ok(n) => pending.extend_from_slice(&buf[..n]),
//!             Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
//!                 ws.handle_timeout(Instant::now());
//!             }
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     Ok(())
//! }
//! ```
#![deny(unsafe_code)]

mod close;
mod connection;
mod error;
mod events;
mod frame;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod handshake;
mod limits;
mod liveness;
mod mask;
mod payload;
mod state;
mod utf8;

#[cfg(test)]
mod tests;

pub use close::{close_code, is_valid_close_code};
pub use connection::Connection;
pub use error::{ConfigError, Error, Limit, SendError, Violation};
pub use events::{Event, MessageKind};
pub use limits::{
    Config, DEFAULT_FRAGMENT_OVERHEAD, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_SEND_BUFFER_SIZE, DEFAULT_MAX_TRANSMIT_CHUNK,
};
pub use mask::{MaskSource, SeededMasks, apply_mask};
pub use state::State;
