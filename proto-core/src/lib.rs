//! The sans-IO contract and the shared policies of the Rampart protocol crates.
//!
//! Performs no I/O, reads no clock, draws no randomness; see `adapter-tokio`
//! and `adapter-smol` for servers and clients that do.
//!
//! # The contract
//!
//! Every Rampart protocol state machine (`proto_http::Connection`,
//! `proto_ws::Connection`, or one you write) has the same shape, so one driver
//! serves them all:
//!
//! - **Bytes in.** [`Drive::handle_input`]`(now, &[u8]) -> Result<usize, _>`
//!   takes what fits in its bounded buffer; a short count is backpressure.
//!   [`Drive::handle_eof`] reports that the peer stopped sending.
//! - **Events out.** Each machine has a `poll_event()` yielding its own events
//!   (request heads, body data, messages, `Closed`, `TimedOut`). `None` means
//!   "need more data", never an error.
//! - **Bytes out.** Commands (`send_response`, `send_text`, `close`) only
//!   queue. The driver drains [`Drive::poll_transmit`] into a buffer it owns
//!   and reuses; a [`Transmit::ShutdownWrite`] says when to half-close.
//!   Automatic replies (pong, close echo, the error response) are queued by
//!   the machine itself, never handed back as obligations.
//! - **Time.** [`Drive::poll_timeout`] says when to wake the machine next;
//!   [`Drive::handle_timeout`] never fails, and reports what fired as an
//!   event. `now` always comes from the caller. [`Deadlines`] does the
//!   bookkeeping.
//! - **Errors.** A peer violation is the machine's `Error`, sticky, mapped to
//!   an [`ErrorKind`] that fixes the HTTP status or close code already queued
//!   in reply. Local misuse is a separate type. A normal close is an event.
//! - **Limits.** Each machine has a `Config` with finite, documented defaults,
//!   checked before memory is reserved. Leniency options are named `allow_*`
//!   and are off by default.
//!
//! The policies that are not protocol-specific live here too: [`Admission`]
//! (global and per-IP connection caps), [`OriginPolicy`] (cross-site
//! WebSocket hijacking), and [`Stats`] (counters).
//!
//! # Example: a protocol in forty lines
//!
//! A machine that echoes newline-terminated lines, refuses lines longer than
//! 16 bytes, and closes a connection that stays silent for 5 seconds:
//!
//! ```
//! use proto_core::{Deadlines, Drive, Timer, Transmit};
//! use std::time::{Duration, Instant};
//!
//! const MAX_LINE: usize = 16;
//! const IDLE: Duration = Duration::from_secs(5);
//!
//! #[derive(Debug, PartialEq)]
//! struct LineTooLong;
//!
//! struct LineEcho { buf: Vec<u8>, out: Vec<u8>, deadlines: Deadlines, done: bool, failed: bool, shut: bool }
//!
//! impl LineEcho {
//!     fn new(now: Instant) -> Self {
//!         let mut deadlines = Deadlines::new();
//!         deadlines.arm_after(Timer::Idle, now, IDLE);
//!         Self { buf: Vec::new(), out: Vec::new(), deadlines, done: false, failed: false, shut: false }
//!     }
//! }
//!
//! impl Drive for LineEcho {
//!     type Error = LineTooLong;
//!     fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<usize, LineTooLong> {
//!         if self.failed { return Err(LineTooLong) }          // errors are sticky
//!         self.deadlines.arm_after(Timer::Idle, now, IDLE);
//!         for &b in bytes {
//!             self.buf.push(b);
//!             if b == b'\n' {
//!                 self.out.extend_from_slice(&self.buf);
//!                 self.buf.clear();
//!             } else if self.buf.len() > MAX_LINE {             // checked before growing further
//!                 self.failed = true;
//!                 self.out.extend_from_slice(b"ERR line too long\n"); // farewell queued by the machine
//!                 self.done = true;
//!                 return Err(LineTooLong);
//!             }
//!         }
//!         Ok(bytes.len())
//!     }
//!     fn handle_eof(&mut self, _now: Instant) { self.done = true }
//!     fn handle_timeout(&mut self, now: Instant) {
//!         if self.deadlines.handle_timeout(now).contains(Timer::Idle) { self.done = true }
//!     }
//!     fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
//!         if !self.out.is_empty() {
//!             out.append(&mut self.out);
//!             return Some(Transmit::Data { len: out.len() });
//!         }
//!         if self.done && !self.shut {                    // say it once
//!             self.shut = true;
//!             return Some(Transmit::ShutdownWrite);
//!         }
//!         None
//!     }
//!     fn poll_timeout(&self) -> Option<Instant> {
//!         if self.done { None } else { self.deadlines.poll_timeout() }
//!     }
//!     fn is_closed(&self) -> bool { self.done }
//! }
//!
//! // A driver, here a test: the clock is whatever we say it is.
//! # let t0 = Instant::now();
//! let mut conn = LineEcho::new(t0);
//! let mut wire = Vec::new();
//! assert_eq!(conn.handle_input(t0, b"hello\nwor"), Ok(9));
//! assert_eq!(conn.poll_transmit(t0, &mut wire), Some(Transmit::Data { len: 6 }));
//! assert_eq!(conn.poll_transmit(t0, &mut wire), None);
//! assert_eq!(wire, b"hello\n");
//!
//! // Nothing for five seconds: the idle deadline fires and the write side closes.
//! assert_eq!(conn.poll_timeout(), Some(t0 + IDLE));
//! conn.handle_timeout(t0 + IDLE);
//! assert!(conn.is_closed());
//! assert_eq!(conn.poll_transmit(t0 + IDLE, &mut wire), Some(Transmit::ShutdownWrite));
//!
//! // A line over the cap gets its farewell and a sticky error.
//! let mut conn = LineEcho::new(t0);
//! assert_eq!(conn.handle_input(t0, &[b'x'; 17]), Err(LineTooLong));
//! assert_eq!(conn.handle_input(t0, b"\n"), Err(LineTooLong));
//! ```
//!
//! # Driving a machine over a socket
//!
//! The whole loop with blocking `std::net`, for any [`Drive`] (adapters do the
//! same with non-blocking sockets, one timer, and event dispatch):
//!
//! ```no_run
//! use proto_core::{Drive, Transmit};
//! use std::io::{ErrorKind, Read, Write};
//! use std::net::{Shutdown, TcpStream};
//! use std::time::Instant;
//!
//! fn serve<M: Drive>(mut socket: TcpStream, machine: &mut M) -> std::io::Result<()> {
//!     let (mut input, mut output) = (vec![0u8; 4096], Vec::new());
//!     let mut pending: Vec<u8> = Vec::new();
//!     while !machine.is_closed() {
//!         while let Some(t) = machine.poll_transmit(Instant::now(), &mut output) {
//!             socket.write_all(&output)?;
//!             output.clear();
//!             if t == Transmit::ShutdownWrite { socket.shutdown(Shutdown::Write)?; }
//!         }
//!         // Sleep at most until the machine's next deadline.
//!         let wait = machine.poll_timeout().map(|at| at.saturating_duration_since(Instant::now()));
//!         socket.set_read_timeout(wait.map(|w| w.max(std::time::Duration::from_millis(1))))?;
//!         match socket.read(&mut input) {
//!             Ok(0) => machine.handle_eof(Instant::now()),
//!             Ok(n) => {
//!                 pending.extend_from_slice(&input[..n]);
//!                 match machine.handle_input(Instant::now(), &pending) {
//!                     Ok(used) => { pending.drain(..used); }
//!                     Err(_) => {} // the farewell is queued; the loop drains it
//!                 }
//!                 // ...dispatch the machine's own events here (poll_event)...
//!             }
//!             Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
//!                 machine.handle_timeout(Instant::now());
//!             }
//!             Err(e) => return Err(e),
//!         }
//!     }
//!     while let Some(_) = machine.poll_transmit(Instant::now(), &mut output) {}
//!     socket.write_all(&output)
//! }
//! ```
#![forbid(unsafe_code)]

mod admission;
mod deadlines;
mod drive;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod origin;
mod stats;

pub use admission::{
    Admission, DEFAULT_IPV6_PREFIX_LEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_IP,
    Permit, Rejection,
};
pub use deadlines::{Deadlines, Expired, Timer, earlier};
pub use drive::{Drive, Side, Transmit};
pub use error::{ErrorKind, PeerError};
pub use origin::{MAX_ORIGIN_LEN, Origin, OriginError, OriginPolicy, OriginRejection};
pub use stats::{Snapshot, Stats};
