//! Strict HTTP/1.1 client and server state machines (RFC 9110, RFC 9112)
//! that cannot be smuggled through.
//!
//! Performs no I/O, reads no clock, draws no randomness; see `adapter-tokio`
//! and `adapter-smol` for servers and clients that do.
//!
//! A [`Connection`] is built from a [`Side`] and a [`Config`]. Bytes from the
//! socket go in through [`Connection::handle_input`]; request and response
//! heads, body data and ends of messages come out of
//! [`Connection::poll_event`]; what to write comes out of
//! [`Connection::poll_transmit`]; deadlines are reported by
//! [`Connection::poll_timeout`] and fired by [`Connection::handle_timeout`].
//! It implements [`proto_core::Drive`], so one driver loop serves HTTP and
//! WebSocket alike.
//!
//! # What "strict" means here
//!
//! Every byte stream has exactly one framing interpretation (RFC 9112 §6),
//! and any ambiguous message is refused before it is acted on, with the
//! status named by [`Error::status_hint`] queued and the connection closed:
//! `Content-Length` with `Transfer-Encoding`, a repeated or malformed
//! `Content-Length`, a transfer coding other than exactly `chunked`, a
//! malformed chunk size or extension, bare CR or LF, obs-fold, whitespace
//! before a colon, control characters, a bad request line or target, a
//! missing or repeated `Host`. Limits (head bytes, field count, request
//! line, body, chunk extensions, trailers, buffered bytes) are exact at
//! N-1 / N / N+1 whatever the read split, and the end of a head is found
//! incrementally: each byte is examined once, so a head trickled one byte
//! per read costs linear time (a small fixed cost per read on top), never
//! the quadratic re-parse of a growing buffer.
//!
//! # Example: a blocking server loop
//!
//! ```no_run
//! use proto_http::{Config, Connection, Event, Response, Side, Transmit};
//! use std::io::{Read, Write};
//! use std::net::{Shutdown, TcpListener};
//! use std::time::Instant;
//!
//! # #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = TcpListener::bind("127.0.0.1:8080")?;
//! let (mut socket, _) = listener.accept()?;
//! let mut conn = Connection::new(Side::Server, Config::default())?;
//! let (mut input, mut output, mut pending) = (vec![0u8; 4096], Vec::new(), Vec::new());
//! loop {
//!     // 1. Write what the machine queued.
//!     while let Some(t) = conn.poll_transmit(Instant::now(), &mut output) {
//!         socket.write_all(&output)?;
//!         output.clear();
//!         if t == Transmit::ShutdownWrite {
//!             socket.shutdown(Shutdown::Write)?;
//!         }
//!     }
//!     if conn.is_closed() {
//!         return Ok(());
//!     }
//!     // 2. Dispatch events: answer every request once its body is read.
//!     let mut answer = false;
//!     while let Some(event) = conn.poll_event() {
//!         match event {
//!             Event::EndOfMessage { .. } => answer = true,
//!             Event::Upgraded { .. } | Event::TimedOut(_) | Event::Closed => {}
//!             _ => {}
//!         }
//!     }
//!     if answer {
//!         let mut res = Response::new(200);
//!         res.headers_mut().append("Content-Length", "2");
//!         conn.send_response(res)?;
//!         conn.send_body("ok")?;
//!         conn.finish()?;
//!         continue;
//!     }
//!     // 3. Wait for bytes, at most until the next deadline.
//!     let wait = conn.poll_timeout().map(|at| at.saturating_duration_since(Instant::now()));
//!     socket.set_read_timeout(wait.map(|w| w.max(std::time::Duration::from_millis(1))))?;
//!     match socket.read(&mut input) {
//!         Ok(0) => conn.handle_eof(Instant::now()),
//!         Ok(n) => {
//!             pending.extend_from_slice(&input[..n]);
//!             if let Ok(used) = conn.handle_input(Instant::now(), &pending) {
//!                 pending.drain(..used); // a short count is backpressure
//!             }
//!         }
//!         Err(_) => conn.handle_timeout(Instant::now()),
//!     }
//! }
//! # }
//! ```
#![forbid(unsafe_code)]

mod chunked;
mod config;
mod connection;
mod error;
mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod head;
mod known;
mod parse;
mod scan;
#[cfg(any(test, feature = "fuzzing"))]
mod transcript;
mod write;

#[cfg(test)]
mod tests;

pub use config::{
    Config, ConfigError, DEFAULT_BODY_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_BUFFER_SIZE, DEFAULT_MAX_CHUNK_EXTENSION_SIZE, DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADERS, DEFAULT_MAX_REQUEST_LINE_SIZE, DEFAULT_MAX_TRAILER_SIZE,
    DEFAULT_MAX_TRANSMIT_CHUNK, DEFAULT_REQUEST_HEAD_TIMEOUT, DEFAULT_RESPONSE_HEAD_TIMEOUT,
};
pub use connection::{Connection, State};
pub use error::{Error, SendError, Violation, WriteState};
pub use event::Event;
pub use head::{Headers, Request, Response, Version, canonical_reason};
pub use proto_core::{Drive, Side, Timer, Transmit};
