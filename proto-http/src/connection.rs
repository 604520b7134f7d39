//! The HTTP/1.1 connection state machine, both roles.
//!
//! Rules of this file: all state transitions live here. Each connection has
//! a read half (the peer's messages) and a write half (ours), h11-style. A
//! server parses one request at a time: after a request's end it pauses
//! (`Read::Done`) until its response is finished, so a pipelined request is
//! never parsed early and an error answer can never land in the middle of a
//! response. Input is copied once into `buf`; heads and body data leave it as
//! shared `Bytes` views. Every error is sticky and decided by the first bad
//! byte, so the events never depend on how the input was split.

use crate::chunked::{ChunkLimits, Decoder, Step};
use crate::config::{Config, ConfigError};
use crate::error::{Error, SendError, Violation, WriteState};
use crate::event::Event;
use crate::head::{Field, Headers, Request, Response, Version, canonical_reason};
use crate::known::Known;
use crate::parse::{Framing, body_framing, check_target, is_token, parse_request, parse_response};
use crate::scan::{HeadEnd, HeadScan, ScanError, ScanLimits};
use crate::write::{
    BodyWrite, Output, UserFraming, check_fields, is_reason, is_value, user_framing,
    write_chunk_size_line, write_decimal, write_error_response, write_fields, write_status_line,
};
use bytes::{Bytes, BytesMut};
use proto_core::{Deadlines, Drive, Side, Timer, Transmit};
use std::borrow::{Borrow, Cow};
use std::collections::VecDeque;
use std::fmt;
use std::time::Instant;

/// What a queued event costs against the receive buffer, on top of the
/// body bytes it carries: the queue entry itself.
const EVENT_COST: usize = size_of::<Pending>();

/// The most one parsing step can queue past the cap before parsing waits: a
/// head, a piece of data, an end of message and a closing event.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) const MAX_STEP_COST: usize = 4 * EVENT_COST;

/// An idle connection keeps a receive buffer, and an output staging buffer
/// (`write::Output`), of at most this capacity each.
pub(crate) const IDLE_BUFFER_CAPACITY: usize = 4096;

/// A polled head's field index is kept for the next head if it has room
/// for at most this many fields (32 bytes each, so at most 1 KiB, kept
/// while idle like the small receive buffer).
const MAX_SPARE_FIELDS: usize = 32;

/// Where the connection as a whole stands.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Between exchanges: a server waits for a request (the keep-alive idle
    /// timeout runs), a client may send one.
    Idle,
    /// A request/response exchange is under way.
    Active,
    /// The connection switched protocols (RFC 9110 §7.8); HTTP is over.
    Upgraded,
    /// The connection is finished; drain `poll_transmit`, then close.
    Closed,
    /// The peer violated the protocol; see [`Connection::error`]. Drain
    /// `poll_transmit` (the error response), then close.
    Failed,
}

/// The peer's messages.
#[derive(Debug, Clone)]
enum Read {
    /// Waiting for the first byte of a message.
    Idle,
    Head(HeadScan),
    Body(BodyRead),
    /// A server read a whole request and waits for its response to finish.
    Done,
    Closed,
    Upgraded,
    Failed,
}

#[derive(Debug, Clone)]
enum BodyRead {
    Length(u64),
    Chunked(Box<Decoder>),
    Close,
}

/// Our messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Idle,
    Awaiting,
    Body(BodyWrite),
    Done,
    Upgraded,
    Closed,
}

/// What the answer to a request depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exchange {
    version: Version,
    head: bool,
    connect: bool,
    upgrade: bool,
}

impl Default for Exchange {
    fn default() -> Self {
        Self {
            version: Version::Http11,
            head: false,
            connect: false,
            upgrade: false,
        }
    }
}

/// An event waiting in the queue.
#[derive(Debug)]
enum Pending {
    Request(Request),
    Informational(Response),
    Response(Response),
    Data(Bytes),
    End(Headers),
    Upgraded(Bytes),
    TimedOut(Timer),
    Closed,
}

/// One HTTP/1.1 connection, server or client: a sans-IO state machine.
///
/// Performs no I/O and reads no clock: bytes and the time go in, events and
/// bytes to send come out. Its methods come in four kinds:
///
/// 1. **Getters**: [`side`](Self::side), [`state`](Self::state),
///    [`write_state`](Self::write_state), [`is_closed`](Self::is_closed),
///    [`error`](Self::error), [`is_keep_alive`](Self::is_keep_alive),
///    [`is_waiting_for_continue`](Self::is_waiting_for_continue).
/// 2. **Inputs**: [`handle_input`](Self::handle_input),
///    [`handle_eof`](Self::handle_eof), [`handle_timeout`](Self::handle_timeout),
///    [`handle_write_failed`](Self::handle_write_failed).
/// 3. **Commands**, which only queue: [`send_request`](Self::send_request)
///    (client), [`send_informational`](Self::send_informational) and
///    [`send_response`](Self::send_response) (server),
///    [`send_body`](Self::send_body), [`finish`](Self::finish) and
///    [`finish_with_trailers`](Self::finish_with_trailers).
/// 4. **Polls**, drained in this order after every input or command:
///    [`poll_transmit`](Self::poll_transmit), then
///    [`poll_timeout`](Self::poll_timeout), then
///    [`poll_event`](Self::poll_event). A server may keep a polled request
///    head with [`take_request`](Self::take_request) (no copy) and give it
///    back with [`recycle_request`](Self::recycle_request) when done, so
///    that the next head reuses its allocation.
///
/// Every message sent is a head (`send_request` / `send_response`), any body
/// (`send_body`), then `finish` (also for bodiless messages), except a `101`
/// or a 2xx to `CONNECT`, which switch protocols at once.
///
/// ```
/// use proto_http::{Config, Connection, Event, Response, Side};
/// # #[allow(clippy::disallowed_methods)]
/// let now = std::time::Instant::now();
///
/// let mut server = Connection::new(Side::Server, Config::default())?;
/// server.handle_input(now, b"GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n")?;
/// match server.poll_event() {
///     Some(Event::Request(req)) => assert_eq!(req.target(), "/hello"),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(server.poll_event(), Some(Event::EndOfMessage { .. })));
///
/// let mut res = Response::new(200);
/// res.headers_mut().append("Content-Length", "2");
/// server.send_response(res)?;
/// server.send_body("hi")?;
/// server.finish()?;
///
/// let mut wire = Vec::new();
/// while server.poll_transmit(now, &mut wire).is_some() {}
/// assert_eq!(wire, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Connection {
    side: Side,
    config: Config,
    buf: BytesMut,
    read: Read,
    write: Write,
    /// The exchange being answered (server) or the requests awaiting
    /// responses, oldest first (client).
    exchanges: VecDeque<Exchange>,
    keep_alive: bool,
    waiting_for_continue: bool,
    events: VecDeque<Pending>,
    current: Option<Pending>,
    /// The field index of the last polled head, emptied: the next head's
    /// scan fills it, so a busy connection allocates none per request.
    spare_fields: Vec<Field>,
    /// Body bytes in queued events plus a fixed cost per event, so a flood
    /// of one-byte chunks or of 1xx heads cannot grow the queue past the
    /// buffer cap.
    pending_data: usize,
    /// Output not yet handed to `poll_transmit`.
    out: Output,
    shutdown: Shutdown,
    deadlines: Deadlines,
    arm_on_drain: Option<Timer>,
    arm_soon: Soon,
    /// The `now` of the input being processed, if any (commands have none).
    input_now: Option<Instant>,
    /// Parsing waits for the event queue to drain.
    paused: bool,
    peer_eof: bool,
    error: Option<Error>,
}

/// Timers to arm at the next call that brings the time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Soon {
    request_head: bool,
    handshake: bool,
    body: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    No,
    Pending,
    Done,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("side", &self.side)
            .field("state", &self.state())
            .field("write_state", &self.write_state())
            .field("buffered", &self.buf.len())
            .field("events", &self.events.len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A new connection in the keep-alive idle state.
    ///
    /// A server's keep-alive idle timeout starts at the first
    /// [`poll_transmit`](Self::poll_transmit) or
    /// [`handle_timeout`](Self::handle_timeout) call (the first moment the
    /// machine learns the time): call `poll_transmit` right after accepting.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the limits are inconsistent.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Side, State};
    /// let conn = Connection::new(Side::Client, Config::default())?;
    /// assert_eq!(conn.state(), State::Idle);
    /// # Ok::<(), proto_http::ConfigError>(())
    /// ```
    pub fn new(side: Side, config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            side,
            config,
            buf: BytesMut::new(),
            read: Read::Idle,
            write: Write::Idle,
            exchanges: VecDeque::new(),
            keep_alive: true,
            waiting_for_continue: false,
            events: VecDeque::new(),
            current: None,
            spare_fields: Vec::new(),
            pending_data: 0,
            out: Output::default(),
            shutdown: Shutdown::No,
            deadlines: Deadlines::new(),
            arm_on_drain: side.is_server().then_some(Timer::KeepAlive),
            arm_soon: Soon::default(),
            input_now: None,
            paused: false,
            peer_eof: false,
            error: None,
        })
    }

    // ----- getters -------------------------------------------------------

    /// The role this connection plays.
    #[must_use]
    pub fn side(&self) -> Side {
        self.side
    }

    /// Where the connection as a whole stands.
    #[must_use]
    pub fn state(&self) -> State {
        if self.error.is_some() {
            return State::Failed;
        }
        match (&self.read, self.write) {
            (Read::Upgraded, _) => State::Upgraded,
            (_, Write::Closed) => State::Closed,
            (Read::Idle, Write::Idle) if self.exchanges.is_empty() => State::Idle,
            _ => State::Active,
        }
    }

    /// Where the sending half stands: what may be sent next.
    #[must_use]
    pub fn write_state(&self) -> WriteState {
        match self.write {
            Write::Idle => WriteState::Idle,
            Write::Awaiting => WriteState::AwaitingResponse,
            Write::Body(_) => WriteState::SendingBody,
            Write::Done => WriteState::Done,
            Write::Upgraded => WriteState::Upgraded,
            Write::Closed => WriteState::Closed,
        }
    }

    /// True once the connection is finished: close the socket as soon as
    /// `poll_transmit` has nothing left. Never true after an upgrade (the
    /// socket belongs to the next protocol).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.write == Write::Closed && matches!(self.read, Read::Closed | Read::Failed)
    }

    /// The peer's violation, once the connection has failed.
    #[must_use]
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// False once the current exchange is known to end the connection
    /// (`Connection: close` either way, HTTP/1.0 without keep-alive, a
    /// close-delimited body, an unanswered `100-continue`).
    #[must_use]
    pub fn is_keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// True for a server whose current request asked for
    /// `Expect: 100-continue` (RFC 9110 §10.1.1) and has neither been
    /// answered nor started sending its body. Send a `100` with
    /// [`send_informational`](Self::send_informational) to get the body, or
    /// a final response (the connection then closes after it).
    #[must_use]
    pub fn is_waiting_for_continue(&self) -> bool {
        self.waiting_for_continue
    }

    /// Bytes queued for `poll_transmit`.
    #[must_use]
    pub fn pending_transmit(&self) -> usize {
        self.out.len()
    }

    /// Received bytes held: unparsed input plus body data and a fixed cost
    /// per event not yet polled (at most [`Config::max_buffer_size`] plus
    /// what one parsing step queues).
    ///
    /// An adapter adds this to its memory accounting, so a server-wide
    /// budget on buffered bytes sees what the parser holds.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Side};
    /// let mut conn = Connection::new(Side::Server, Config::default())?;
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// conn.handle_input(now, b"GET / HTTP/1.1\r\nHo")?;
    /// assert!(conn.buffered_input() >= 18, "the partial head is held");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn buffered_input(&self) -> usize {
        self.buf.len() + self.pending_data
    }

    /// Events waiting in the queue.
    #[cfg(test)]
    pub(crate) fn queued_events(&self) -> usize {
        self.events.len()
    }

    // ----- inputs --------------------------------------------------------

    /// Feeds bytes received from the peer; returns how many were taken.
    ///
    /// Call it with every read, then drain the polls. A count shorter than
    /// `bytes.len()` is backpressure: the receive buffer
    /// ([`Config::max_buffer_size`]) is full. Keep the rest, poll events and
    /// answer the request, then offer the rest again. After an upgrade it
    /// takes nothing (the bytes belong to the next protocol); once closed it
    /// takes and discards everything.
    ///
    /// # Errors
    ///
    /// The peer's [`Error`], sticky. A server has queued the answer
    /// ([`Error::status_hint`]) unless a response was already under way, and
    /// shuts down after it.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Error, Side, Violation};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// let smuggle = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
    /// let err = server.handle_input(now, smuggle).unwrap_err();
    /// assert_eq!(err, Error::Malformed(Violation::ContentLengthAndTransferEncoding));
    /// assert_eq!(err.status_hint(), 400);
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert!(wire.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
    /// # Ok::<(), proto_http::ConfigError>(())
    /// ```
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<usize, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.arm_deferred(now);
        match self.read {
            Read::Upgraded => return Ok(0),
            Read::Closed => return Ok(bytes.len()),
            _ => {}
        }
        if self.peer_eof {
            return Ok(bytes.len());
        }
        if self.paused {
            // Resume parsing that waited for the event queue to drain.
            self.advance(Some(now));
            if let Some(e) = self.error {
                return Err(e);
            }
        }
        let room = self
            .config
            .max_buffer_size
            .saturating_sub(self.buf.len() + self.pending_data);
        let take = room.min(bytes.len());
        if !bytes.is_empty() && matches!(self.read, Read::Body(_)) {
            // The peer is sending: the body deadline starts over.
            self.deadlines
                .arm_after(Timer::Idle, now, self.config.body_timeout);
        }
        self.buf.extend_from_slice(&bytes[..take]);
        self.advance(Some(now));
        match self.error {
            Some(e) => Err(e),
            None => Ok(take),
        }
    }

    /// Reports that the peer closed its write side.
    ///
    /// Complete messages already buffered are still delivered (and a server
    /// still answers them); then [`Event::Closed`] follows between messages,
    /// a close-delimited response ends with `EndOfMessage` and `Closed`, and
    /// a message cut short fails the connection with
    /// [`Error::IncompleteMessage`] (nothing is sent).
    ///
    /// ```
    /// use proto_http::{Config, Connection, Event, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_eof(now);
    /// assert_eq!(server.poll_event(), Some(Event::Closed));
    /// assert!(server.is_closed());
    /// # Ok::<(), proto_http::ConfigError>(())
    /// ```
    pub fn handle_eof(&mut self, now: Instant) {
        self.arm_deferred(now);
        if self.peer_eof || self.error.is_some() {
            return;
        }
        self.peer_eof = true;
        self.keep_alive = false;
        if matches!(self.read, Read::Upgraded | Read::Closed) {
            return;
        }
        self.advance(Some(now));
    }

    /// Fires the deadlines due at `now`; early or repeated calls do nothing.
    ///
    /// What fired is reported as [`Event::TimedOut`], and the connection
    /// closes: after a request-head timeout a server has queued `408`.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Event, Side, Timer};
    /// use std::time::Duration;
    /// # #[allow(clippy::disallowed_methods)]
    /// let t0 = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// let mut wire = Vec::new();
    /// assert!(server.poll_transmit(t0, &mut wire).is_none()); // starts the idle timer
    /// server.handle_input(t0, b"GET / HT")?;                 // a head starts: 10 s to finish it
    /// let deadline = server.poll_timeout().unwrap();
    /// assert_eq!(deadline, t0 + Duration::from_secs(10));
    /// server.handle_timeout(deadline);
    /// assert_eq!(server.poll_event(), Some(Event::TimedOut(Timer::RequestHead)));
    /// while server.poll_transmit(deadline, &mut wire).is_some() {}
    /// assert!(wire.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        self.arm_deferred(now);
        if self.out.is_empty() {
            self.arm_drained(now);
        }
        let expired = self.deadlines.handle_timeout(now);
        if expired.is_empty() || self.error.is_some() {
            return;
        }
        let fired = if expired.contains(Timer::RequestHead) && matches!(self.read, Read::Head(_)) {
            if self.side.is_server() && matches!(self.write, Write::Idle) {
                self.out.write(|out| write_error_response(out, 408));
            }
            Some(Timer::RequestHead)
        } else if expired.contains(Timer::Idle) && matches!(self.read, Read::Body(_)) {
            if self.side.is_server() && matches!(self.write, Write::Awaiting) {
                self.out.write(|out| write_error_response(out, 408));
            }
            Some(Timer::Idle)
        } else if expired.contains(Timer::KeepAlive) && matches!(self.read, Read::Idle) {
            Some(Timer::KeepAlive)
        } else if expired.contains(Timer::Handshake) && !self.exchanges.is_empty() {
            Some(Timer::Handshake)
        } else {
            None
        };
        if let Some(timer) = fired {
            self.push(Pending::TimedOut(timer));
            self.close();
        }
    }

    /// Reports that writing to the socket failed: the connection is closed
    /// and its pending output dropped.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Side};
    /// let mut conn = Connection::new(Side::Server, Config::default())?;
    /// conn.handle_write_failed();
    /// assert!(conn.is_closed());
    /// # Ok::<(), proto_http::ConfigError>(())
    /// ```
    pub fn handle_write_failed(&mut self) {
        self.out.clear();
        self.close();
        self.shutdown = Shutdown::Done;
    }

    // ----- polls ---------------------------------------------------------

    /// Appends the next bytes to send to `out` (at most
    /// [`Config::max_transmit_chunk`]) and says what to do with them.
    ///
    /// Call it until it returns `None` after every input, command and
    /// timeout. [`Transmit::ShutdownWrite`] comes once, after the last byte
    /// of a closing connection.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Request, Side, Transmit};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut client = Connection::new(Side::Client, Config::default())?;
    /// let mut req = Request::new("GET", "/");
    /// req.headers_mut().append("Host", "example.com");
    /// client.send_request(req)?;
    /// client.finish()?;
    /// let mut wire = Vec::new();
    /// assert_eq!(client.poll_transmit(now, &mut wire), Some(Transmit::Data { len: 37 }));
    /// assert_eq!(wire, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    /// assert_eq!(client.poll_transmit(now, &mut wire), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
        self.arm_deferred(now);
        if !self.out.is_empty() {
            let len = self.out.transmit(self.config.max_transmit_chunk, out);
            return Some(Transmit::Data { len });
        }
        self.arm_drained(now);
        if self.shutdown == Shutdown::Pending {
            self.shutdown = Shutdown::Done;
            return Some(Transmit::ShutdownWrite);
        }
        None
    }

    /// The earliest instant at which [`handle_timeout`](Self::handle_timeout)
    /// must be called, or `None`. A pure function of the state.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (&self.read, self.write) {
            (Read::Closed | Read::Failed | Read::Upgraded, _) | (_, Write::Closed) => None,
            _ => self.deadlines.poll_timeout(),
        }
    }

    /// The next event, or `None` until more input arrives.
    ///
    /// The event borrows the connection until the next call on it; use
    /// [`Event::into_owned`] to keep it.
    ///
    /// Parsing that waited for the queue to drain (see
    /// [`Config::max_buffer_size`]) resumes here, so a violation may be
    /// found while polling: the connection then fails as in
    /// [`handle_input`](Self::handle_input) (its answer is queued, and
    /// [`error`](Self::error) and the next `handle_input` report it). Drain
    /// `poll_transmit` after polling events.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Event, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel")?;
    /// let mut body = Vec::new();
    /// while let Some(event) = server.poll_event() {
    ///     match event {
    ///         Event::Request(req) => assert_eq!(req.method(), "POST"),
    ///         Event::Data(bytes) => body.extend_from_slice(&bytes),
    ///         other => panic!("{other:?}"),
    ///     }
    /// }
    /// assert_eq!(body, b"hel");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        if self.paused && self.events.is_empty() {
            // Parsing paused on a full event queue: resume now it is empty.
            self.advance(None);
        }
        let next = self.events.pop_front()?;
        self.pending_data -= EVENT_COST;
        Some(match next {
            Pending::Data(bytes) => {
                self.pending_data -= bytes.len();
                Event::Data(bytes)
            }
            Pending::Upgraded(trailing) => Event::Upgraded { trailing },
            Pending::TimedOut(timer) => Event::TimedOut(timer),
            Pending::Closed => Event::Closed,
            head => {
                self.recycle_fields();
                let current = self.current.insert(head);
                match current {
                    Pending::Request(r) => Event::Request(Cow::Borrowed(r)),
                    Pending::Informational(r) => Event::Informational(Cow::Borrowed(r)),
                    Pending::Response(r) => Event::Response(Cow::Borrowed(r)),
                    Pending::End(t) => Event::EndOfMessage {
                        trailers: Cow::Borrowed(t),
                    },
                    Pending::Data(_)
                    | Pending::Upgraded(_)
                    | Pending::TimedOut(_)
                    | Pending::Closed => unreachable!("handled above"),
                }
            }
        })
    }

    /// Takes the head of the last [`Event::Request`] polled, to keep it
    /// without the copy that [`Event::into_owned`] makes (its field index
    /// would be allocated anew). `None` if the last head polled was not a
    /// request, or was taken already.
    ///
    /// Call it after the event is dropped, before polling again. When done
    /// with the request, give it back with
    /// [`recycle_request`](Self::recycle_request).
    ///
    /// ```
    /// use proto_http::{Config, Connection, Event, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")?;
    /// assert!(matches!(server.poll_event(), Some(Event::Request(_))));
    /// let request = server.take_request().expect("just polled");
    /// assert_eq!(request.target(), "/a");
    /// assert!(server.take_request().is_none(), "taken");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn take_request(&mut self) -> Option<Request> {
        match self.current.take() {
            Some(Pending::Request(request)) => Some(request),
            other => {
                self.current = other;
                None
            }
        }
    }

    /// Gives back a request head (from [`take_request`](Self::take_request)
    /// or [`Event::into_owned`]) once you are done with it: its field index
    /// is kept for the next head this connection parses, so a server that
    /// keeps each request until the next one arrives parses without
    /// allocating.
    ///
    /// The index is kept only while the connection still reads HTTP, and
    /// only if it has room for at most 32 fields (1 KiB; a larger one is
    /// dropped, like an idle connection's large receive buffer).
    ///
    /// ```
    /// use proto_http::{Config, Connection, Event, Response, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// let mut kept = None;
    /// for _ in 0..3 {
    ///     server.handle_input(now, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
    ///     while let Some(event) = server.poll_event() {
    ///         if matches!(event, Event::Request(_)) {
    ///             let request = server.take_request().expect("just polled");
    ///             // Done with the previous request: its allocation is reused.
    ///             if let Some(old) = kept.replace(request) {
    ///                 server.recycle_request(old);
    ///             }
    ///         }
    ///     }
    ///     server.send_response(Response::new(204))?;
    ///     server.finish()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recycle_request(&mut self, mut request: Request) {
        self.keep_spare(request.headers_mut().take_fields());
    }

    // ----- commands ------------------------------------------------------

    /// Queues a request head (client).
    ///
    /// The body is framed by the request's own fields: one valid
    /// `Content-Length`, or `Transfer-Encoding: chunked` (HTTP/1.1 only);
    /// with neither the request has no body. Follow with
    /// [`send_body`](Self::send_body) and [`finish`](Self::finish). Requests
    /// may be pipelined: the next may be sent once this one is finished,
    /// unless it asked to upgrade or to close.
    ///
    /// # Errors
    ///
    /// [`SendError`] and nothing queued: a bad method, target, field or
    /// reason; no single `Host` in HTTP/1.1; ambiguous framing; or the wrong
    /// state (a request still being sent, an upgrade pending, closing).
    ///
    /// ```
    /// use proto_http::{Config, Connection, Request, SendError, Side};
    /// let mut client = Connection::new(Side::Client, Config::default())?;
    /// let mut req = Request::new("POST", "/upload");
    /// req.headers_mut().append("Host", "example.com").append("Content-Length", "3");
    /// client.send_request(req)?;
    /// client.send_body("abc")?;
    /// assert_eq!(client.send_body("d"), Err(SendError::BodyTooLong));
    /// client.finish()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_request(&mut self, request: Request) -> Result<(), SendError> {
        const COMMAND: &str = "send_request";
        if self.side.is_server() {
            return Err(SendError::WrongSide { command: COMMAND });
        }
        if self.write != Write::Idle || self.error.is_some() {
            return Err(self.wrong_state(COMMAND));
        }
        if !is_token(request.method().as_bytes()) {
            return Err(SendError::InvalidMethod);
        }
        if check_target(request.method().as_bytes(), request.target().as_bytes()).is_err() {
            return Err(SendError::InvalidTarget);
        }
        let headers = request.headers();
        check_fields(headers)?;
        let version = request.version();
        let hosts = headers.count("host");
        if hosts > 1 || (hosts == 0 && version == Version::Http11) {
            return Err(SendError::MissingHost);
        }
        let known = Known::of(headers);
        let body = match user_framing(headers, &known, version)? {
            UserFraming::Neither => BodyWrite::None,
            UserFraming::Length(n) => BodyWrite::Length(n),
            UserFraming::Chunked => BodyWrite::Chunked,
        };
        let exchange = Exchange {
            version,
            head: request.method() == "HEAD",
            connect: request.method() == "CONNECT",
            upgrade: known.upgrade(version),
        };
        self.out.write(|out| {
            out.extend_from_slice(request.method().as_bytes());
            out.push(b' ');
            out.extend_from_slice(request.target().as_bytes());
            out.push(b' ');
            out.extend_from_slice(version.as_str().as_bytes());
            out.extend_from_slice(b"\r\n");
            write_fields(out, headers);
            out.extend_from_slice(b"\r\n");
        });

        if !known.keep_alive(version) {
            self.keep_alive = false;
        }
        if self.exchanges.is_empty() {
            self.arm_soon.handshake = true;
        }
        self.exchanges.push_back(exchange);
        self.write = Write::Body(body);
        Ok(())
    }

    /// Queues an interim 1xx response (server), such as `100 Continue` or
    /// `103 Early Hints` (RFC 9110 §15.2). Not `101`: that is a final
    /// answer, sent with [`send_response`](Self::send_response).
    ///
    /// # Errors
    ///
    /// [`SendError::InvalidStatus`] for a status outside 1xx, for 101, or to
    /// an HTTP/1.0 client (RFC 9110 §15.2); a framing field is
    /// [`SendError::ForbiddenField`]; the wrong state (no request, or its
    /// final response started) is [`SendError::WrongState`].
    ///
    /// ```
    /// use proto_http::{Config, Connection, Response, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n")?;
    /// assert!(server.is_waiting_for_continue());
    /// server.send_informational(Response::new(100))?;
    /// assert!(!server.is_waiting_for_continue());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_informational(&mut self, response: impl Borrow<Response>) -> Result<(), SendError> {
        const COMMAND: &str = "send_informational";
        let response = response.borrow();
        if self.side.is_client() {
            return Err(SendError::WrongSide { command: COMMAND });
        }
        if self.write != Write::Awaiting || self.error.is_some() {
            return Err(self.wrong_state(COMMAND));
        }
        let status = response.status();
        let exchange = self.exchanges.front().copied().unwrap_or_default();
        if !(100..200).contains(&status) || status == 101 || exchange.version == Version::Http10 {
            return Err(SendError::InvalidStatus);
        }
        check_response_head(response)?;
        let headers = response.headers();
        if headers.contains("content-length") || headers.contains("transfer-encoding") {
            return Err(SendError::ForbiddenField);
        }
        self.out.write(|out| {
            write_status_line(out, response.version(), status, response.reason_bytes());
            write_fields(out, headers);
            out.extend_from_slice(b"\r\n");
        });
        if status == 100 {
            self.waiting_for_continue = false;
        }
        Ok(())
    }

    /// Queues the final response head to the current request (server).
    ///
    /// Framing is chosen for you: the response's own `Content-Length`, or
    /// `Transfer-Encoding: chunked` (HTTP/1.1 clients); with neither,
    /// chunked is added for HTTP/1.1 clients and the body is close-delimited
    /// for HTTP/1.0 ones. Responses to HEAD, 204 and 304 carry no body.
    /// `Connection: close` (or `keep-alive` for an HTTP/1.0 client that
    /// asked) is added when the connection will not (or will) be reused.
    /// A `101` to a request with `Upgrade`, or a 2xx to `CONNECT`, switches
    /// protocols at once: [`Event::Upgraded`] follows. Otherwise follow with
    /// [`send_body`](Self::send_body) and [`finish`](Self::finish).
    ///
    /// The response may be sent before the request body is read; the body
    /// keeps arriving as events (read it, or the connection cannot be
    /// reused).
    ///
    /// It is taken by value or by reference: the head is written out at
    /// once, so a server can keep one `Response` and refill it (see
    /// [`Headers::clear`](crate::Headers::clear)) instead of allocating a
    /// new one for every request.
    ///
    /// # Errors
    ///
    /// [`SendError`] and nothing queued: no request to answer
    /// ([`SendError::WrongState`]); a 1xx other than 101; a bad field or
    /// reason; ambiguous framing; a framing field on 204, 101 or a 2xx to
    /// CONNECT; chunked to HTTP/1.0; a 101 nobody asked for.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Event, Response, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x80")?;
    /// while server.poll_event().is_some() {}
    /// let mut res = Response::new(101);
    /// res.headers_mut().append("Connection", "Upgrade").append("Upgrade", "websocket");
    /// server.send_response(res)?;
    /// assert_eq!(server.poll_event(), Some(Event::Upgraded { trailing: bytes::Bytes::from_static(b"\x81\x80") }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_response(&mut self, response: impl Borrow<Response>) -> Result<(), SendError> {
        let response = response.borrow();
        self.may_respond("send_response", response.status())?;
        check_response_head(response)?;
        let headers = response.headers();
        let known = Known::of(headers);
        self.start_response(
            response.version(),
            response.status(),
            response.reason_bytes(),
            &Fields {
                framing: |version| user_framing(headers, &known, version),
                lists_close: known.lists_close(),
                lists_keep_alive: known.lists_keep_alive(),
            },
            |out| write_fields(out, headers),
        )
    }

    /// Sends a whole HTTP/1.1 response with `Content-Type: content_type`,
    /// a `Content-Length` and `body`: [`send_response`](Self::send_response),
    /// [`send_body`](Self::send_body) and [`finish`](Self::finish) in one
    /// call, without building a [`Response`] (the head is written straight
    /// into the output). `close` adds `Connection: close` and makes this
    /// the connection's last response. A response to HEAD, or a 304, carries
    /// the length but not the body.
    ///
    /// # Errors
    ///
    /// As [`send_response`](Self::send_response), and
    /// [`SendError::InvalidStatus`] for a status that carries no body
    /// (1xx, 204) and [`SendError::InvalidFieldValue`] for a content type
    /// that is not a field value. Nothing is queued.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")?;
    /// server.send_full_response(200, "text/plain", "hello", false)?;
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert_eq!(
    ///     wire,
    ///     b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_full_response(
        &mut self,
        status: u16,
        content_type: &str,
        body: impl Into<Bytes>,
        close: bool,
    ) -> Result<(), SendError> {
        let body = body.into();
        self.may_respond("send_full_response", status)?;
        if status < 200 || status == 204 {
            return Err(SendError::InvalidStatus);
        }
        if !is_value(content_type.as_bytes()) {
            return Err(SendError::InvalidFieldValue);
        }
        let len = body.len() as u64;
        self.start_response(
            Version::Http11,
            status,
            canonical_reason(status).as_bytes(),
            &Fields {
                framing: |_| Ok(UserFraming::Length(len)),
                lists_close: close,
                lists_keep_alive: false,
            },
            |out| {
                out.extend_from_slice(b"Content-Type: ");
                out.extend_from_slice(content_type.as_bytes());
                out.extend_from_slice(b"\r\nContent-Length: ");
                write_decimal(out, len);
                out.extend_from_slice(b"\r\n");
                if close {
                    out.extend_from_slice(b"Connection: close\r\n");
                }
            },
        )?;
        // HEAD and 304 carry the length of the body they do not carry.
        if self.write != Write::Body(BodyWrite::None) {
            self.send_body(body)?;
        }
        self.finish()
    }

    /// The checks every response head passes before anything else: a
    /// server, awaiting a response, and a status we may send.
    fn may_respond(&self, command: &'static str, status: u16) -> Result<(), SendError> {
        if self.side.is_client() {
            return Err(SendError::WrongSide { command });
        }
        if self.write != Write::Awaiting || self.error.is_some() {
            return Err(self.wrong_state(command));
        }
        if !(100..1000).contains(&status) || ((100..200).contains(&status) && status != 101) {
            return Err(SendError::InvalidStatus);
        }
        Ok(())
    }

    /// Decides the framing and the connection's reuse of a response head
    /// whose fields say `fields`, and writes it: the status line, the
    /// fields (`write_user_fields`), then what the connection adds.
    fn start_response(
        &mut self,
        declared: Version,
        status: u16,
        reason: &[u8],
        fields: &Fields<impl Fn(Version) -> Result<UserFraming, SendError>>,
        write_user_fields: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), SendError> {
        let exchange = self.exchanges.front().copied().unwrap_or_default();
        let switching = status == 101 || (exchange.connect && (200..300).contains(&status));
        if status == 101 && (!exchange.upgrade || !matches!(self.read, Read::Done)) {
            return Err(SendError::NotUpgradable);
        }
        // Frame for the lower of the request's version and the one the
        // status line declares: an `HTTP/1.0` response may not be chunked
        // (RFC 9112 §6.1), whatever the request said (bug 8).
        let version = if declared == Version::Http10 {
            Version::Http10
        } else {
            exchange.version
        };
        let framing = (fields.framing)(version)?;
        let body = if switching || status == 204 {
            if framing != UserFraming::Neither {
                return Err(SendError::ForbiddenField);
            }
            BodyWrite::None
        } else if exchange.head || status == 304 {
            BodyWrite::None
        } else {
            match framing {
                UserFraming::Length(n) => BodyWrite::Length(n),
                UserFraming::Chunked => BodyWrite::Chunked,
                UserFraming::Neither if version == Version::Http11 => BodyWrite::Chunked,
                UserFraming::Neither => BodyWrite::Close,
            }
        };

        let mut keep_alive = self.keep_alive && body != BodyWrite::Close && !fields.lists_close;
        if self.waiting_for_continue && !matches!(self.read, Read::Done) {
            // The client may never send the body: its end cannot be found.
            keep_alive = false;
        }
        // What the connection adds.
        let mut added: [&[u8]; 2] = [b"", b""];
        if !switching {
            if framing == UserFraming::Neither && body == BodyWrite::Chunked {
                added[0] = b"Transfer-Encoding: chunked\r\n";
            }
            if !keep_alive && !fields.lists_close {
                added[1] = b"Connection: close\r\n";
            } else if keep_alive && version == Version::Http10 && !fields.lists_keep_alive {
                added[1] = b"Connection: keep-alive\r\n";
            }
        }
        // Written into the reused output buffer: no allocation per head.
        self.out.write(|out| {
            write_status_line(out, declared, status, reason);
            write_user_fields(out);
            for line in added {
                out.extend_from_slice(line);
            }
            out.extend_from_slice(b"\r\n");
        });
        self.keep_alive = keep_alive;
        self.waiting_for_continue = false;
        if switching {
            self.switch_protocols();
        } else {
            self.write = Write::Body(body);
        }
        Ok(())
    }

    /// Queues body data of the message being sent (framed as chosen when its
    /// head was sent; empty data queues nothing).
    ///
    /// # Errors
    ///
    /// [`SendError::BodyNotAllowed`] on a bodiless message,
    /// [`SendError::BodyTooLong`] past the `Content-Length`,
    /// [`SendError::WrongState`] when no body is open. Nothing is queued.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Response, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")?;
    /// server.send_response(Response::new(200))?; // no length: chunked
    /// server.send_body("hello")?;
    /// server.finish()?;
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert!(wire.ends_with(b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_body(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        let data = data.into();
        let Write::Body(body) = self.write else {
            return Err(self.wrong_state("send_body"));
        };
        match body {
            BodyWrite::None if data.is_empty() => {}
            BodyWrite::None => return Err(SendError::BodyNotAllowed),
            BodyWrite::Length(remaining) => {
                let len = data.len() as u64;
                if len > remaining {
                    return Err(SendError::BodyTooLong);
                }
                self.write = Write::Body(BodyWrite::Length(remaining - len));
                if !data.is_empty() {
                    self.out.push(data);
                }
            }
            BodyWrite::Chunked => {
                if !data.is_empty() {
                    self.out.write(|out| write_chunk_size_line(out, data.len()));
                    self.out.push(data);
                    self.out.push_slice(b"\r\n");
                }
            }
            BodyWrite::Close => {
                if !data.is_empty() {
                    self.out.push(data);
                }
            }
        }
        Ok(())
    }

    /// Ends the message being sent.
    ///
    /// A server's connection then reads the next pipelined request (events
    /// may be ready at once) or closes; a client's may send another request.
    ///
    /// # Errors
    ///
    /// [`SendError::BodyTooShort`] before the `Content-Length` was sent,
    /// [`SendError::WrongState`] when no message is open.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Response, Side, State};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")?;
    /// let mut res = Response::new(200);
    /// res.headers_mut().append("Content-Length", "1000");
    /// server.send_response(res)?; // HEAD: the length is kept, no body is sent
    /// server.finish()?;
    /// while server.poll_event().is_some() {}
    /// assert_eq!(server.state(), State::Idle);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(&mut self) -> Result<(), SendError> {
        let Write::Body(body) = self.write else {
            return Err(self.wrong_state("finish"));
        };
        match body {
            BodyWrite::Length(n) if n > 0 => return Err(SendError::BodyTooShort),
            BodyWrite::Chunked => self.out.push_slice(b"0\r\n\r\n"),
            BodyWrite::Close => self.keep_alive = false,
            BodyWrite::None | BodyWrite::Length(_) => {}
        }
        self.finished_sending();
        Ok(())
    }

    /// Ends a chunked message with trailer fields (RFC 9112 §7.1.2).
    ///
    /// # Errors
    ///
    /// [`SendError::TrailersNotAllowed`] unless the body is chunked, a bad
    /// field, or a framing field ([`SendError::ForbiddenField`]) among the
    /// trailers; [`SendError::WrongState`] when no message is open.
    ///
    /// ```
    /// use proto_http::{Config, Connection, Headers, Response, Side};
    /// # #[allow(clippy::disallowed_methods)]
    /// let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default())?;
    /// server.handle_input(now, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")?;
    /// server.send_response(Response::new(200))?;
    /// server.send_body("x")?;
    /// let mut trailers = Headers::new();
    /// trailers.append("Checksum", "abc");
    /// server.finish_with_trailers(&trailers)?;
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert!(wire.ends_with(b"1\r\nx\r\n0\r\nChecksum: abc\r\n\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish_with_trailers(&mut self, trailers: &Headers) -> Result<(), SendError> {
        let Write::Body(body) = self.write else {
            return Err(self.wrong_state("finish_with_trailers"));
        };
        if body != BodyWrite::Chunked {
            return Err(SendError::TrailersNotAllowed);
        }
        check_fields(trailers)?;
        if trailers.contains("content-length") || trailers.contains("transfer-encoding") {
            return Err(SendError::ForbiddenField);
        }
        self.out.write(|out| {
            out.extend_from_slice(b"0\r\n");
            write_fields(out, trailers);
            out.extend_from_slice(b"\r\n");
        });
        self.finished_sending();
        Ok(())
    }

    // ----- internals -----------------------------------------------------

    fn wrong_state(&self, command: &'static str) -> SendError {
        let state = if self.error.is_some() {
            WriteState::Closed
        } else {
            self.write_state()
        };
        SendError::WrongState { command, state }
    }

    /// Arms timers whose start was decided by a command (which has no `now`).
    fn arm_deferred(&mut self, now: Instant) {
        let soon = std::mem::take(&mut self.arm_soon);
        if soon.request_head && matches!(self.read, Read::Head(_)) {
            self.deadlines
                .arm_after(Timer::RequestHead, now, self.config.request_head_timeout);
        }
        if soon.handshake && !self.exchanges.is_empty() {
            self.deadlines
                .arm_after(Timer::Handshake, now, self.config.response_head_timeout);
        }
        if soon.body && matches!(self.read, Read::Body(_)) {
            self.deadlines
                .arm_after(Timer::Idle, now, self.config.body_timeout);
        }
    }

    /// Arms `timer` now if the time is known, else at the next call that
    /// brings it.
    fn arm(&mut self, timer: Timer) {
        let after = match timer {
            Timer::RequestHead => self.config.request_head_timeout,
            Timer::Idle => self.config.body_timeout,
            _ => self.config.response_head_timeout,
        };
        match self.input_now {
            Some(now) => self.deadlines.arm_after(timer, now, after),
            None => match timer {
                Timer::RequestHead => self.arm_soon.request_head = true,
                Timer::Idle => self.arm_soon.body = true,
                _ => self.arm_soon.handshake = true,
            },
        }
    }

    /// Arms the keep-alive timer once the last response byte is handed out.
    fn arm_drained(&mut self, now: Instant) {
        if let Some(timer) = self.arm_on_drain.take() {
            if timer == Timer::KeepAlive
                && matches!(self.read, Read::Idle)
                && self.write == Write::Idle
            {
                self.deadlines
                    .arm_after(Timer::KeepAlive, now, self.config.keep_alive_timeout);
            }
        }
    }

    /// Parses as far as the buffer allows and the state permits.
    fn advance(&mut self, now: Option<Instant>) {
        self.input_now = now;
        loop {
            self.paused =
                matches!(self.read, Read::Head(_) | Read::Body(_)) && self.is_queue_full();
            if self.paused {
                // Unpolled events hold a full buffer's worth: wait.
                return;
            }
            match &mut self.read {
                Read::Idle => {
                    if self.buf.is_empty() {
                        if self.peer_eof {
                            self.eof_between_messages();
                        }
                        return;
                    }
                    if self.side.is_client() && self.exchanges.is_empty() {
                        self.fail(Error::Malformed(Violation::UnsolicitedResponse));
                        return;
                    }
                    if self.side.is_server() {
                        self.deadlines.disarm(Timer::KeepAlive);
                        self.arm_on_drain = None;
                        self.arm(Timer::RequestHead);
                    }
                    let fields = std::mem::take(&mut self.spare_fields);
                    self.read = Read::Head(HeadScan::head(fields));
                }
                Read::Head(scan) => {
                    match scan.scan(&self.buf, &head_limits(&self.config, self.side)) {
                        Err(e) => {
                            let error = self.scan_error(e);
                            self.fail(error);
                            return;
                        }
                        Ok(None) => {
                            if self.peer_eof {
                                self.fail_silently(Error::IncompleteMessage);
                            }
                            return;
                        }
                        Ok(Some(end)) => {
                            let result = if self.side.is_server() {
                                self.on_request_head(end)
                            } else {
                                self.on_response_head(end)
                            };
                            if let Err(e) = result {
                                self.fail(e);
                                return;
                            }
                        }
                    }
                }
                Read::Body(BodyRead::Length(remaining)) => {
                    if self.buf.is_empty() {
                        if self.peer_eof {
                            self.fail_silently(Error::IncompleteMessage);
                        }
                        return;
                    }
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    *remaining -= n as u64;
                    let done = *remaining == 0;
                    let data = self.buf.split_to(n).freeze();
                    self.push_data(data);
                    if done {
                        self.end_of_message(Headers::new());
                    }
                }
                Read::Body(BodyRead::Chunked(decoder)) => {
                    match decoder.step(&mut self.buf, &chunk_limits(&self.config)) {
                        Ok(Step::Data(data)) => self.push_data(data),
                        Ok(Step::End(trailers)) => self.end_of_message(trailers),
                        Ok(Step::NeedMore) => {
                            if self.peer_eof {
                                self.fail_silently(Error::IncompleteMessage);
                            }
                            return;
                        }
                        Err(e) => {
                            self.fail(e);
                            return;
                        }
                    }
                }
                Read::Body(BodyRead::Close) => {
                    if !self.buf.is_empty() {
                        let data = self.buf.split().freeze();
                        self.push_data(data);
                    }
                    if self.peer_eof {
                        self.end_of_message(Headers::new());
                    } else {
                        return;
                    }
                }
                Read::Done | Read::Closed | Read::Upgraded | Read::Failed => return,
            }
        }
    }

    fn scan_error(&self, e: ScanError) -> Error {
        match e {
            ScanError::BareCr => Error::Malformed(Violation::BareCr),
            ScanError::BareLf => Error::Malformed(Violation::BareLf),
            ScanError::Control => Error::Malformed(Violation::ControlCharacter),
            ScanError::ObsFold => Error::Malformed(Violation::ObsFold),
            ScanError::EmptyStartLine if self.side.is_server() => {
                Error::Malformed(Violation::InvalidRequestLine)
            }
            ScanError::EmptyStartLine => Error::Malformed(Violation::InvalidStatusLine),
            ScanError::StartLineTooLong => Error::UriTooLong,
            ScanError::TooLarge => Error::HeadTooLarge,
            ScanError::TooManyFields => Error::TooManyHeaders,
        }
    }

    /// Keeps the field index of the polled head, which the user is done
    /// with once they poll again, for the next head to fill.
    fn recycle_fields(&mut self) {
        let headers = match &mut self.current {
            Some(Pending::Request(request)) => request.headers_mut(),
            Some(Pending::Response(response) | Pending::Informational(response)) => {
                response.headers_mut()
            }
            _ => return,
        };
        let fields = headers.take_fields();
        self.keep_spare(fields);
    }

    /// Keeps `fields` for the next head, if it is small, larger than the
    /// one kept, and another head may still be read.
    fn keep_spare(&mut self, mut fields: Vec<Field>) {
        if fields.capacity() <= MAX_SPARE_FIELDS
            && fields.capacity() > self.spare_fields.capacity()
            && matches!(
                self.read,
                Read::Idle | Read::Head(_) | Read::Body(_) | Read::Done
            )
        {
            fields.clear();
            self.spare_fields = fields;
        }
    }

    fn push_data(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.pending_data += data.len();
            self.push(Pending::Data(data));
        }
    }

    fn push(&mut self, event: Pending) {
        self.pending_data += EVENT_COST;
        self.events.push_back(event);
    }

    /// True while unpolled events and unparsed bytes exceed the buffer cap:
    /// parsing waits until events are polled.
    fn is_queue_full(&self) -> bool {
        self.buf.len() + self.pending_data > self.config.max_buffer_size
    }

    fn check_length(&self, framing: Framing) -> Result<(), Error> {
        match (framing, self.config.max_body_size) {
            (Framing::Length(n), Some(max)) if n > max => Err(Error::BodyTooLarge),
            _ => Ok(()),
        }
    }

    fn on_request_head(&mut self, end: HeadEnd) -> Result<(), Error> {
        let raw = self.buf.split_to(end.end).freeze();
        self.deadlines.disarm(Timer::RequestHead);
        let (request, known) = parse_request(raw, end)?;
        let version = request.version();
        let framing =
            body_framing(request.headers(), &known, version)?.unwrap_or(Framing::Length(0));
        self.check_length(framing)?;
        let exchange = Exchange {
            version,
            head: request.method_bytes() == b"HEAD",
            connect: request.method_bytes() == b"CONNECT",
            upgrade: known.upgrade(version),
        };
        self.keep_alive = !self.peer_eof && known.keep_alive(version);
        self.waiting_for_continue =
            version == Version::Http11 && known.expect_continue && framing != Framing::Length(0);
        self.exchanges.clear();
        self.exchanges.push_back(exchange);
        self.push(Pending::Request(request));
        self.write = Write::Awaiting;
        self.start_body(framing);
        Ok(())
    }

    fn on_response_head(&mut self, end: HeadEnd) -> Result<(), Error> {
        let raw = self.buf.split_to(end.end).freeze();
        let (response, known) = parse_response(raw, end)?;
        let status = response.status();
        let exchange = self.exchanges.front().copied().unwrap_or_default();
        if status == 101 {
            if !exchange.upgrade {
                return Err(Error::Malformed(Violation::UnexpectedSwitch));
            }
            self.push(Pending::Response(response));
            self.switch_protocols();
            return Ok(());
        }
        if status < 200 {
            self.push(Pending::Informational(response));
            self.read = Read::Idle;
            return Ok(());
        }
        self.deadlines.disarm(Timer::Handshake);
        if exchange.connect && (200..300).contains(&status) {
            self.push(Pending::Response(response));
            self.switch_protocols();
            return Ok(());
        }
        let version = response.version();
        let framing = if exchange.head || status == 204 || status == 304 {
            Framing::Length(0)
        } else {
            body_framing(response.headers(), &known, version)?.unwrap_or(Framing::Close)
        };
        self.check_length(framing)?;
        if framing == Framing::Close || !known.keep_alive(version) {
            self.keep_alive = false;
        }
        self.push(Pending::Response(response));
        self.start_body(framing);
        Ok(())
    }

    fn start_body(&mut self, framing: Framing) {
        let body = match framing {
            Framing::Length(0) => return self.end_of_message(Headers::new()),
            Framing::Length(n) => BodyRead::Length(n),
            Framing::Chunked => BodyRead::Chunked(Box::new(Decoder::new())),
            Framing::Close => BodyRead::Close,
        };
        self.read = Read::Body(body);
        self.arm(Timer::Idle);
    }

    fn end_of_message(&mut self, trailers: Headers) {
        self.deadlines.disarm(Timer::Idle);
        self.push(Pending::End(trailers));
        self.waiting_for_continue = false;
        if self.side.is_server() {
            self.read = Read::Done;
            self.next_cycle();
            return;
        }
        self.exchanges.pop_front();
        if !self.keep_alive {
            if self.peer_eof {
                self.push(Pending::Closed);
            }
            self.close();
            return;
        }
        self.read = Read::Idle;
        if self.write == Write::Done {
            self.write = Write::Idle;
        }
        if !self.exchanges.is_empty() {
            self.arm(Timer::Handshake);
        }
    }

    fn finished_sending(&mut self) {
        if self.side.is_server() {
            self.write = Write::Done;
            self.next_cycle();
            return;
        }
        let exchange = self.exchanges.back().copied().unwrap_or_default();
        self.write = if self.keep_alive && !exchange.upgrade && !exchange.connect {
            Write::Idle
        } else {
            Write::Done
        };
        if self.exchanges.is_empty() && !self.keep_alive {
            self.close();
        }
    }

    /// A server's exchange ends once the request is read and the response
    /// finished; it then closes, or starts over with any buffered request.
    fn next_cycle(&mut self) {
        if self.write != Write::Done {
            return;
        }
        if !self.keep_alive {
            self.close();
            return;
        }
        if !matches!(self.read, Read::Done) {
            return;
        }
        self.read = Read::Idle;
        self.write = Write::Idle;
        self.exchanges.clear();
        self.current = None;
        if self.buf.is_empty() {
            if self.buf.capacity() > IDLE_BUFFER_CAPACITY {
                self.buf = BytesMut::new();
            }
            self.arm_on_drain = Some(Timer::KeepAlive);
        }
        self.advance(None);
    }

    fn eof_between_messages(&mut self) {
        if self.side.is_client() && !self.exchanges.is_empty() {
            self.fail_silently(Error::IncompleteMessage);
            return;
        }
        self.push(Pending::Closed);
        self.close();
    }

    fn switch_protocols(&mut self) {
        let trailing = self.buf.split().freeze();
        self.read = Read::Upgraded;
        self.write = Write::Upgraded;
        self.spare_fields = Vec::new();
        self.deadlines.clear();
        self.arm_soon = Soon::default();
        self.arm_on_drain = None;
        self.push(Pending::Upgraded(trailing));
    }

    fn close(&mut self) {
        if !matches!(self.read, Read::Failed | Read::Upgraded) {
            self.read = Read::Closed;
        }
        self.write = Write::Closed;
        if self.shutdown == Shutdown::No {
            self.shutdown = Shutdown::Pending;
        }
        self.deadlines.clear();
        self.arm_soon = Soon::default();
        self.arm_on_drain = None;
        self.buf = BytesMut::new();
        self.spare_fields = Vec::new();
    }

    /// Fails on a peer violation; a server answers it if it can.
    fn fail(&mut self, error: Error) {
        if self.side.is_server() && matches!(self.write, Write::Idle | Write::Awaiting) {
            self.out
                .write(|out| write_error_response(out, error.status_hint()));
        }
        self.fail_silently(error);
    }

    fn fail_silently(&mut self, error: Error) {
        self.error = Some(error);
        self.close();
        self.read = Read::Failed;
    }
}

fn head_limits(config: &Config, side: Side) -> ScanLimits {
    let server = side.is_server();
    ScanLimits {
        max_size: config.max_head_size,
        max_start_line: if server {
            config.max_request_line_size
        } else {
            usize::MAX
        },
        max_fields: config.max_headers,
        allow_lf: config.allow_lf_line_endings,
        skip_empty_line: server,
    }
}

fn chunk_limits(config: &Config) -> ChunkLimits {
    ChunkLimits {
        max_extension: config.max_chunk_extension_size,
        max_body: config.max_body_size,
        trailers: ScanLimits {
            max_size: config.max_trailer_size,
            max_start_line: usize::MAX,
            max_fields: config.max_headers,
            allow_lf: config.allow_lf_line_endings,
            skip_empty_line: false,
        },
    }
}

/// What a response head's fields say, as [`Connection::start_response`]
/// needs it.
struct Fields<F> {
    /// The framing they ask for, for the version the head is framed for.
    framing: F,
    /// `Connection` lists `close`.
    lists_close: bool,
    /// `Connection` lists `keep-alive`.
    lists_keep_alive: bool,
}

fn check_response_head(response: &Response) -> Result<(), SendError> {
    if !is_reason(response.reason_bytes()) {
        return Err(SendError::InvalidReason);
    }
    check_fields(response.headers())
}

impl Drive for Connection {
    type Error = Error;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<usize, Error> {
        Connection::handle_input(self, now, bytes)
    }

    fn handle_eof(&mut self, now: Instant) {
        Connection::handle_eof(self, now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        Connection::handle_timeout(self, now);
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
        Connection::poll_transmit(self, now, out)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Connection::poll_timeout(self)
    }

    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::disallowed_methods)] // tests need one origin instant

    use super::*;

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";

    fn server() -> Connection {
        Connection::new(Side::Server, Config::default()).expect("valid")
    }

    fn answer(c: &mut Connection, body: &'static [u8]) {
        let mut res = Response::new(200);
        res.headers_mut()
            .append("Content-Length", body.len().to_string());
        c.send_response(res).expect("response");
        c.send_body(body).expect("body");
        c.finish().expect("finish");
    }

    fn drain(c: &mut Connection, now: Instant) -> Vec<u8> {
        let mut wire = Vec::new();
        while c.poll_transmit(now, &mut wire).is_some() {}
        wire
    }

    /// Polls up to the request head and takes it.
    fn take_next(c: &mut Connection) -> Request {
        loop {
            match c.poll_event() {
                Some(Event::Request(_)) => return c.take_request().expect("just polled"),
                Some(_) => {}
                None => panic!("no request"),
            }
        }
    }

    #[test]
    fn taken_request_is_moved_out_and_later_heads_are_not_affected() {
        let now = Instant::now();
        let mut c = server();
        assert!(c.take_request().is_none(), "nothing polled");
        c.handle_input(now, GET).expect("input");
        let request = take_next(&mut c);
        assert_eq!(request.headers().get("accept"), Some(&b"*/*"[..]));
        assert!(c.take_request().is_none(), "taken once");
        assert!(matches!(c.poll_event(), Some(Event::EndOfMessage { .. })));
        assert!(c.take_request().is_none(), "not a request");
        answer(&mut c, b"ok");
        assert_eq!(c.state(), State::Idle);
    }

    #[test]
    fn one_response_head_is_refilled_and_sent_by_reference() {
        let now = Instant::now();
        let mut c = server();
        c.handle_input(now, &GET.repeat(3)).expect("input");
        let mut response = Response::new(200);
        let mut allocation = None;
        for body in [&b"one"[..], b"two", b"six"] {
            take_next(&mut c);
            response.headers_mut().clear();
            response.headers_mut().append("Content-Length", "3");
            let fields = response.headers().fields_allocation();
            assert!(allocation.is_none_or(|a| a == fields), "refilled in place");
            allocation = Some(fields);
            c.send_response(&response).expect("by reference");
            c.send_body(Bytes::from_static(body)).expect("body");
            c.finish().expect("finish");
        }
        let wire = drain(&mut c, now);
        let expected = [&b"one"[..], b"two", b"six"]
            .map(|body| [&b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"[..], body].concat())
            .concat();
        assert_eq!(wire, expected);
    }

    #[test]
    fn recycled_request_fields_are_reused_by_the_next_head() {
        let now = Instant::now();
        let mut c = server();
        // Pipelined: each request is kept until the next one is taken, as
        // the adapter does.
        let input = GET.repeat(6);
        c.handle_input(now, &input).expect("input");
        let mut kept = take_next(&mut c);
        let mut recycled: Option<(*const Field, usize)> = None;
        for _ in 0..5 {
            answer(&mut c, b"ok");
            let next = take_next(&mut c);
            if let Some(allocation) = recycled {
                assert_eq!(
                    next.headers().fields_allocation(),
                    allocation,
                    "the recycled field index was filled again"
                );
            }
            let previous = std::mem::replace(&mut kept, next);
            recycled = Some(previous.headers().fields_allocation());
            c.recycle_request(previous);
            assert_eq!(c.spare_fields.as_ptr(), recycled.expect("set").0);
            assert!(c.spare_fields.is_empty());
        }
        answer(&mut c, b"ok");
        let wire = drain(&mut c, now);
        assert_eq!(wire.windows(6).filter(|w| w == b"200 OK").count(), 6);
    }

    #[test]
    fn recycle_keeps_only_small_indexes_while_reading() {
        let now = Instant::now();
        let mut c = server();
        let mut big = Request::new("GET", "/");
        for i in 0..=MAX_SPARE_FIELDS {
            big.headers_mut().append("X", i.to_string());
        }
        assert!(big.headers().fields_allocation().1 > MAX_SPARE_FIELDS);
        c.recycle_request(big);
        assert_eq!(c.spare_fields.capacity(), 0, "too large: dropped");

        let mut small = Request::new("GET", "/");
        small.headers_mut().append("Host", "a");
        let capacity = small.headers().fields_allocation().1;
        c.recycle_request(small);
        assert_eq!(c.spare_fields.capacity(), capacity, "kept");

        c.handle_input(
            now,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .expect("input");
        let request = take_next(&mut c);
        answer(&mut c, b"bye");
        assert!(c.is_closed());
        c.recycle_request(request);
        assert_eq!(c.spare_fields.capacity(), 0, "closed: nothing kept");
    }

    #[test]
    fn output_buffer_is_reused_and_released_when_drained() {
        let now = Instant::now();
        let mut c = server();
        c.handle_input(now, GET).expect("input");
        while c.poll_event().is_some() {}
        answer(&mut c, b"hello");
        let expected = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(c.pending_transmit(), expected.len());
        assert_eq!(drain(&mut c, now), expected);
        assert_eq!(c.pending_transmit(), 0);
        let capacity = c.out.staged_capacity();
        assert!(capacity > 0 && capacity <= IDLE_BUFFER_CAPACITY, "kept");

        c.handle_input(now, GET).expect("input");
        while c.poll_event().is_some() {}
        answer(&mut c, b"hello");
        assert_eq!(c.out.staged_capacity(), capacity, "reused, not grown");
        assert_eq!(drain(&mut c, now), expected);

        // Many pipelined responses with copied bodies grow the buffer past
        // what an idle connection may keep; draining releases it.
        const BODY: &[u8] = &[b'x'; 1000];
        c.handle_input(now, &GET.repeat(8)).expect("input");
        for _ in 0..8 {
            while c.poll_event().is_some() {}
            answer(&mut c, BODY);
        }
        assert!(c.out.staged_capacity() > IDLE_BUFFER_CAPACITY);
        let wire = drain(&mut c, now);
        assert_eq!(wire.windows(BODY.len()).filter(|w| *w == BODY).count(), 8);
        assert_eq!(c.out.staged_capacity(), 0, "released once drained");
    }

    #[test]
    fn transmit_chunks_respect_the_limit_across_pieces() {
        let now = Instant::now();
        let mut config = Config::default();
        config.max_transmit_chunk(7);
        let mut c = Connection::new(Side::Server, config).expect("valid");
        c.handle_input(now, GET).expect("input");
        while c.poll_event().is_some() {}
        let large = Bytes::from(vec![b'L'; 3000]);
        c.send_response(Response::new(200)).expect("chunked");
        c.send_body("small").expect("small");
        c.send_body(large.clone()).expect("large");
        c.finish().expect("finish");
        let pending = c.pending_transmit();
        let mut wire = Vec::new();
        while let Some(Transmit::Data { len }) = c.poll_transmit(now, &mut wire) {
            assert!(len <= 7 && len > 0);
        }
        assert_eq!(wire.len(), pending);
        let mut expected =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nsmall\r\nBB8\r\n".to_vec();
        expected.extend_from_slice(&large);
        expected.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(wire, expected);
    }
}
