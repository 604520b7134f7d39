//! Workerman's newline-delimited Text protocol: a small sans-IO machine on
//! proto-core's [`Drive`] contract, and the [`Protocol`] glue that serves it
//! with the same driver, timeouts and caps as HTTP and WebSocket.
//!
//! Each message is one line ending in `\n` (a `\r` before it is dropped);
//! [`TextMachine::send_line`] appends the `\n`. A line longer than
//! [`TextConfig::max_line_size`] gets `ERR line too long` and a close; a
//! connection silent for [`TextConfig::idle_timeout`] is closed.
//!
//! It is the model for library authors composing their own protocols: the
//! machine is about a hundred lines, the glue a few dozen.
//!
//! ```no_run
//! use adapter_core::text::{TextConn, TextHandler, TextService};
//! use adapter_core::{Conn, Server};
//! use bytes::Bytes;
//!
//! struct Echo;
//! impl TextHandler for Echo {
//!     type Context = u64; // lines seen on this connection
//!     fn on_connect(&self, _conn: &mut Conn<'_, Bytes>) -> u64 { 0 }
//!     fn on_line(&self, seen: &mut u64, conn: &mut TextConn<'_, '_>, line: &[u8]) {
//!         *seen += 1;
//!         let _ = conn.send_line(line);
//!     }
//! }
//!
//! let server = Server::builder(TextService::new(Echo)).bind("127.0.0.1:0".parse()?).build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proto_core::{Deadlines, Drive, ErrorKind, PeerError, Timer, Transmit};

use crate::protocol::{CloseReason, Conn, Protocol};

/// Limits of the Text protocol.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextConfig {
    max_line_size: usize,
    idle_timeout: Duration,
    max_buffered_output: usize,
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            max_line_size: 64 * 1024,
            idle_timeout: Duration::from_secs(60),
            max_buffered_output: 1024 * 1024,
        }
    }
}

impl TextConfig {
    /// The longest line accepted, in bytes, without its `\n`. Default
    /// 64 KiB; it is also the most a partial line can pin. A longer line is
    /// answered `ERR line too long` and the connection closes
    /// ([`ErrorKind::TooLarge`]).
    pub fn max_line_size(&mut self, bytes: usize) -> &mut Self {
        self.max_line_size = bytes;
        self
    }

    /// How long a connection may stay silent. Default 60 s. On expiry the
    /// connection closes silently ([`Timer::Idle`]).
    pub fn idle_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.idle_timeout = timeout;
        self
    }

    /// How many bytes of replies may wait for a peer that is not reading
    /// before the machine stops taking its input. Default 1 MiB.
    pub fn max_buffered_output(&mut self, bytes: usize) -> &mut Self {
        self.max_buffered_output = bytes;
        self
    }
}

/// The peer sent a line longer than [`TextConfig::max_line_size`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong;

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("line too long")
    }
}

impl std::error::Error for LineTooLong {}

impl PeerError for LineTooLong {
    fn kind(&self) -> ErrorKind {
        ErrorKind::TooLarge
    }
}

/// What a [`TextMachine`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextEvent {
    /// A complete line, without its `\r\n` or `\n`.
    Line(Vec<u8>),
    /// A deadline expired and the connection is closing.
    TimedOut(Timer),
}

/// One Text-protocol connection, client or server (the protocol is
/// symmetric).
///
/// Getters: [`is_closed`](Drive::is_closed), [`is_quiet`](TextMachine::is_quiet),
/// [`buffered`](TextMachine::buffered).
/// Inputs and polls: the [`Drive`] calls. Commands:
/// [`send_line`](TextMachine::send_line), [`close`](TextMachine::close),
/// [`abort`](TextMachine::abort).
/// Events: [`poll_event`](TextMachine::poll_event), after `poll_transmit`.
#[derive(Debug)]
pub struct TextMachine {
    config: TextConfig,
    partial: Vec<u8>,
    events: VecDeque<TextEvent>,
    out: Vec<u8>,
    deadlines: Deadlines,
    failed: bool,
    closing: bool,
    shut_sent: bool,
}

impl TextMachine {
    /// A new connection at `now`; the idle deadline starts.
    #[must_use]
    pub fn new(config: TextConfig, now: Instant) -> Self {
        let mut deadlines = Deadlines::new();
        deadlines.arm_after(Timer::Idle, now, config.idle_timeout);
        Self {
            config,
            partial: Vec::new(),
            events: VecDeque::new(),
            out: Vec::new(),
            deadlines,
            failed: false,
            closing: false,
            shut_sent: false,
        }
    }

    /// Queues `line` and its `\n`.
    ///
    /// # Errors
    ///
    /// [`LineTooLong`] when `line` is over the cap or contains `\n`; nothing
    /// is queued.
    pub fn send_line(&mut self, line: &[u8]) -> Result<(), LineTooLong> {
        if line.len() > self.config.max_line_size || line.contains(&b'\n') {
            return Err(LineTooLong);
        }
        if !self.closing {
            self.out.reserve(line.len() + 1);
            self.out.extend_from_slice(line);
            self.out.push(b'\n');
        }
        Ok(())
    }

    /// Closes after the queued lines are sent.
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// Drops the partial line and the lines not yet handled, queues
    /// `farewell` and its `\n` after the replies already queued, and
    /// closes: for a connection the server must shed (over its budget of
    /// buffered bytes).
    pub fn abort(&mut self, farewell: &[u8]) {
        self.partial = Vec::new();
        self.events.retain(|e| !matches!(e, TextEvent::Line(_)));
        if !self.closing {
            self.out.extend_from_slice(farewell);
            self.out.push(b'\n');
        }
        self.closing = true;
    }

    /// Bytes held: the partial line, lines waiting to be handled, and
    /// replies waiting to be sent.
    #[must_use]
    pub fn buffered(&self) -> usize {
        let lines: usize = self
            .events
            .iter()
            .map(|e| match e {
                TextEvent::Line(line) => line.len(),
                TextEvent::TimedOut(_) => 0,
            })
            .sum();
        self.partial.len() + lines + self.out.len()
    }

    /// The next event, or `None` until more input arrives.
    pub fn poll_event(&mut self) -> Option<TextEvent> {
        self.events.pop_front()
    }

    /// True when no line is partly received, none is waiting to be handled,
    /// and no reply is waiting to be sent.
    #[must_use]
    pub fn is_quiet(&self) -> bool {
        self.partial.is_empty() && self.events.is_empty() && self.out.is_empty()
    }

    fn fail(&mut self) -> LineTooLong {
        self.failed = true;
        self.closing = true;
        self.partial = Vec::new();
        self.out.extend_from_slice(b"ERR line too long\n");
        LineTooLong
    }
}

impl Drive for TextMachine {
    type Error = LineTooLong;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<usize, LineTooLong> {
        if self.failed {
            return Err(LineTooLong);
        }
        if self.closing {
            return Ok(bytes.len()); // nothing more is read once closing
        }
        // Backpressure: one line at a time, and only while replies drain.
        if !self.events.is_empty() || self.out.len() >= self.config.max_buffered_output {
            return Ok(0);
        }
        self.deadlines
            .arm_after(Timer::Idle, now, self.config.idle_timeout);
        let max = self.config.max_line_size;
        match bytes.iter().position(|&b| b == b'\n') {
            Some(end) => {
                let ends_in_cr = match end {
                    0 => self.partial.last() == Some(&b'\r'),
                    _ => bytes[end - 1] == b'\r',
                };
                if self.partial.len() + end > max + usize::from(ends_in_cr) {
                    return Err(self.fail());
                }
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&bytes[..end]);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.events.push_back(TextEvent::Line(line));
                Ok(end + 1)
            }
            None => {
                // One byte more than the cap may be the `\r` of a `\r\n`.
                if self.partial.len() + bytes.len() > max + 1 {
                    return Err(self.fail());
                }
                self.partial.extend_from_slice(bytes);
                Ok(bytes.len())
            }
        }
    }

    fn handle_eof(&mut self, _now: Instant) {
        self.partial = Vec::new();
        self.closing = true;
    }

    fn handle_timeout(&mut self, now: Instant) {
        for timer in self.deadlines.handle_timeout(now).iter() {
            self.events.push_back(TextEvent::TimedOut(timer));
            self.closing = true;
        }
    }

    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
        if !self.out.is_empty() {
            let len = self.out.len();
            if out.is_empty() {
                std::mem::swap(out, &mut self.out);
            } else {
                out.append(&mut self.out);
            }
            return Some(Transmit::Data { len });
        }
        if self.closing && !self.shut_sent {
            self.shut_sent = true;
            return Some(Transmit::ShutdownWrite);
        }
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.closing {
            None
        } else {
            self.deadlines.poll_timeout()
        }
    }

    fn is_closed(&self) -> bool {
        self.closing && self.out.is_empty() && self.events.is_empty()
    }
}

/// The application's callbacks for a Text-protocol server.
pub trait TextHandler: Send + Sync + 'static {
    /// The per-connection state, created at accept and dropped at close.
    type Context: Send + 'static;

    /// A connection was admitted. Call [`Conn::close`] to refuse it.
    fn on_connect(&self, conn: &mut Conn<'_, Bytes>) -> Self::Context;

    /// A line arrived.
    fn on_line(&self, cx: &mut Self::Context, conn: &mut TextConn<'_, '_>, line: &[u8]);

    /// A line over the cap arrived; `ERR line too long` is on its way.
    fn on_error(&self, cx: &mut Self::Context, conn: &mut Conn<'_, Bytes>, error: LineTooLong) {
        let _ = (cx, conn, error);
    }

    /// The connection closed; the context is dropped right after.
    fn on_close(&self, cx: &mut Self::Context, conn: &mut Conn<'_, Bytes>, reason: &CloseReason) {
        let _ = (cx, conn, reason);
    }
}

/// A connection as [`TextHandler::on_line`] sees it: [`Conn`] plus
/// [`send_line`](TextConn::send_line).
#[derive(Debug)]
pub struct TextConn<'m, 'c> {
    machine: &'m mut TextMachine,
    /// The connection: id, addresses, handle, close.
    pub conn: &'m mut Conn<'c, Bytes>,
}

impl TextConn<'_, '_> {
    /// Queues a line (the `\n` is added).
    ///
    /// # Errors
    ///
    /// [`LineTooLong`] when the line is over the cap or contains `\n`.
    pub fn send_line(&mut self, line: &[u8]) -> Result<(), LineTooLong> {
        self.machine.send_line(line)
    }

    /// Closes after the queued lines are sent ([`CloseReason::Local`]).
    pub fn close(&mut self) {
        self.machine.close();
        self.conn.close();
    }
}

/// Serves a [`TextHandler`]: the [`Protocol`] glue.
///
/// Messages sent through a [`ConnHandle`](crate::ConnHandle) are lines.
#[derive(Debug)]
pub struct TextService<H> {
    handler: H,
    config: TextConfig,
}

impl<H: TextHandler> TextService<H> {
    /// Serves `handler` with the default [`TextConfig`].
    pub fn new(handler: H) -> Self {
        Self::with_config(handler, TextConfig::default())
    }

    /// Serves `handler` with `config`.
    pub fn with_config(handler: H, config: TextConfig) -> Self {
        Self { handler, config }
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }
}

impl<H: TextHandler> Protocol for TextService<H> {
    type Machine = TextMachine;
    type Context = H::Context;
    type Message = Bytes;

    fn open(&self, conn: &mut Conn<'_, Bytes>) -> (TextMachine, H::Context) {
        let machine = TextMachine::new(self.config.clone(), conn.now());
        (machine, self.handler.on_connect(conn))
    }

    fn dispatch(&self, machine: &mut TextMachine, cx: &mut H::Context, conn: &mut Conn<'_, Bytes>) {
        while let Some(event) = machine.poll_event() {
            match event {
                TextEvent::Line(line) => {
                    let mut text = TextConn { machine, conn };
                    self.handler.on_line(cx, &mut text, &line);
                }
                TextEvent::TimedOut(timer) => conn.stats().record_timeout(timer),
            }
        }
    }

    fn deliver(
        &self,
        machine: &mut TextMachine,
        _cx: &mut H::Context,
        _conn: &mut Conn<'_, Bytes>,
        line: Bytes,
    ) {
        // A line that cannot be framed is not sent; the sender chose it.
        let _ = machine.send_line(&line);
    }

    fn peer_error(
        &self,
        _machine: &mut TextMachine,
        cx: &mut H::Context,
        conn: &mut Conn<'_, Bytes>,
        error: &LineTooLong,
    ) {
        self.handler.on_error(cx, conn, *error);
    }

    fn is_quiet(&self, machine: &TextMachine) -> bool {
        machine.is_quiet()
    }

    fn buffered(&self, machine: &TextMachine, _cx: &H::Context) -> usize {
        machine.buffered()
    }

    /// Answers `ERR over budget` and closes ([`TextMachine::abort`]).
    fn over_budget(
        &self,
        machine: &mut TextMachine,
        _cx: &mut H::Context,
        conn: &mut Conn<'_, Bytes>,
    ) {
        machine.abort(b"ERR over budget");
        conn.close();
    }

    fn closed(
        &self,
        _machine: &mut TextMachine,
        cx: &mut H::Context,
        conn: &mut Conn<'_, Bytes>,
        reason: &CloseReason,
    ) {
        self.handler.on_close(cx, conn, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn drain(m: &mut TextMachine, now: Instant) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut shut = false;
        while let Some(t) = m.poll_transmit(now, &mut out) {
            shut |= t == Transmit::ShutdownWrite;
        }
        (out, shut)
    }

    #[test]
    fn lines_are_split_one_at_a_time_whatever_the_chunking() {
        let input = b"one\r\ntwo\n\nthree\n";
        for split in 0..input.len() {
            let t = t0();
            let mut m = TextMachine::new(TextConfig::default(), t);
            let mut lines = Vec::new();
            for chunk in [&input[..split], &input[split..]] {
                let mut rest = chunk;
                while !rest.is_empty() {
                    let n = m.handle_input(t, rest).unwrap();
                    rest = &rest[n..];
                    while let Some(TextEvent::Line(l)) = m.poll_event() {
                        lines.push(l);
                    }
                }
            }
            assert_eq!(
                lines,
                [&b"one"[..], b"two", b"", b"three"],
                "split at {split}"
            );
        }
    }

    #[test]
    fn a_line_waits_for_its_event_to_be_handled() {
        let t = t0();
        let mut m = TextMachine::new(TextConfig::default(), t);
        assert_eq!(m.handle_input(t, b"a\nb\n"), Ok(2));
        assert_eq!(m.handle_input(t, b"b\n"), Ok(0));
        assert_eq!(m.poll_event(), Some(TextEvent::Line(b"a".to_vec())));
        assert_eq!(m.handle_input(t, b"b\n"), Ok(2));
    }

    #[test]
    fn the_line_cap_is_exact_and_the_error_sticky() {
        let t = t0();
        let mut config = TextConfig::default();
        config.max_line_size(4);
        let mut m = TextMachine::new(config.clone(), t);
        assert_eq!(m.handle_input(t, b"abcd\r\n"), Ok(6));
        assert_eq!(m.poll_event(), Some(TextEvent::Line(b"abcd".to_vec())));
        assert_eq!(m.handle_input(t, b"abcdef"), Err(LineTooLong));
        assert_eq!(m.handle_input(t, b"\n"), Err(LineTooLong));
        assert_eq!(drain(&mut m, t), (b"ERR line too long\n".to_vec(), true));
        assert!(m.is_closed());

        let mut m = TextMachine::new(config, t);
        assert_eq!(m.handle_input(t, b"ab"), Ok(2));
        assert_eq!(m.handle_input(t, b"cde\n"), Err(LineTooLong));
    }

    #[test]
    fn idle_timeout_closes_and_input_rearms_it() {
        let t = t0();
        let mut config = TextConfig::default();
        config.idle_timeout(Duration::from_secs(5));
        let mut m = TextMachine::new(config, t);
        let later = t + Duration::from_secs(3);
        assert_eq!(m.handle_input(later, b"x"), Ok(1));
        assert_eq!(m.poll_timeout(), Some(later + Duration::from_secs(5)));
        m.handle_timeout(t + Duration::from_secs(5));
        assert!(!m.is_closed());
        m.handle_timeout(later + Duration::from_secs(5));
        assert_eq!(m.poll_event(), Some(TextEvent::TimedOut(Timer::Idle)));
        assert!(m.is_closed());
        assert_eq!(drain(&mut m, later), (Vec::new(), true));
        assert_eq!(m.poll_timeout(), None);
    }
}
