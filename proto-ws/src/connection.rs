//! [`Connection`]: the framing state machine for one WebSocket connection.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use proto_core::{Drive, Side, Timer, Transmit, earlier};

use crate::close::{self, close_code, is_valid_close_code};
use crate::error::{ConfigError, Error, Limit, SendError, Violation};
use crate::events::{Event, MessageKind};
use crate::frame::{self, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, Rules};
use crate::limits::Config;
use crate::liveness::Liveness;
use crate::mask::apply_mask;
use crate::payload::PayloadBuffer;
use crate::state::State;
use crate::utf8::Utf8Validator;

/// Stop reading new frames while this many events wait in the queue.
const MAX_QUEUED_EVENTS: usize = 32;
/// Stop reading new frames while this many payload bytes wait in the queue.
const MAX_QUEUED_BYTES: usize = 64 * 1024;
/// An output buffer drained to empty keeps its allocation only up to this.
const KEEP_OUTPUT_CAPACITY: usize = 1024;
/// The event queue keeps its allocation only up to this many slots (the
/// most it holds before input is pushed back, so steady traffic never
/// reallocates it).
const KEEP_EVENT_SLOTS: usize = MAX_QUEUED_EVENTS;
/// The longest close reason: 125 bytes of control payload minus the code.
const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct InFrame {
    fin: bool,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    remaining: u64,
    /// Payload bytes read so far, modulo 4 (the masking key's phase).
    phase: usize,
}

/// Whether the driver has been told to shut down the write side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    NotYet,
    Due,
    Done,
}

/// One WebSocket connection, client or server, after the opening handshake
/// (RFC 6455 §5-§7). Performs no I/O: bytes and time go in, events and bytes
/// to send come out.
///
/// The methods come in four kinds:
///
/// 1. **Getters**: [`state`](Self::state), [`side`](Self::side),
///    [`is_closed`](Self::is_closed), [`buffered_input`](Self::buffered_input),
///    [`buffered_output`](Self::buffered_output),
///    [`buffer_capacity`](Self::buffer_capacity).
/// 2. **Inputs**: [`handle_input`](Self::handle_input),
///    [`handle_eof`](Self::handle_eof), [`handle_timeout`](Self::handle_timeout),
///    [`handle_write_failed`](Self::handle_write_failed).
/// 3. **Commands**, which only queue: [`send_text`](Self::send_text),
///    [`send_binary`](Self::send_binary), [`send_data`](Self::send_data),
///    [`send_ping`](Self::send_ping), [`send_pong`](Self::send_pong),
///    [`close`](Self::close), [`fail`](Self::fail).
/// 4. **Polls**, drained in this order after every input or command:
///    [`poll_transmit`](Self::poll_transmit) until `None`, then
///    [`poll_timeout`](Self::poll_timeout), then
///    [`poll_event`](Self::poll_event) until `None`.
///
/// Automatic replies (pong, close echo, the close frame that fails the
/// connection) are queued by the machine itself. It also implements
/// [`proto_core::Drive`], so one driver loop runs it like any other protocol.
///
/// ```
/// use proto_core::Side;
/// use proto_ws::{Config, Connection, Event, SeededMasks};
/// use std::sync::Arc;
/// # let now = std::time::Instant::now();
///
/// let mut server = Connection::new(Side::Server, Config::default(), now)?;
/// let mut client_config = Config::default();
/// client_config.mask_source(Arc::new(SeededMasks::new(7)));
/// let mut client = Connection::new(Side::Client, client_config, now)?;
///
/// client.send_text("hello")?;
/// let mut wire = Vec::new();
/// while client.poll_transmit(now, &mut wire).is_some() {}
///
/// assert_eq!(server.handle_input(now, &wire), Ok(wire.len()));
/// assert_eq!(server.poll_event(), Some(Event::Text("hello".into())));
/// assert_eq!(server.poll_event(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    side: Side,
    config: Config,
    rules: Rules,
    state: State,
    error: Option<Error>,

    // Input.
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    frame: Option<InFrame>,
    message: Option<MessageKind>,
    /// Payload plus fragment charges of the open message.
    message_charge: u64,
    payload: PayloadBuffer,
    utf8: Utf8Validator,
    control: [u8; MAX_CONTROL_PAYLOAD],
    control_len: usize,
    events: VecDeque<Event>,
    queued_bytes: usize,

    // Output.
    out: Vec<u8>,
    out_pos: usize,
    pending_pong: Option<([u8; MAX_CONTROL_PAYLOAD], usize)>,
    sending: Option<MessageKind>,
    close_sent: bool,
    shutdown: Shutdown,

    // Life.
    finished: bool,
    /// The idle and keep-alive ping deadlines, which every input moves.
    liveness: Liveness,
    /// When the close handshake we wait for times out (the only other
    /// deadline: one slot, not a `Deadlines` of every kind, per connection).
    close_deadline: Option<Instant>,
    /// The close code of a violation found while earlier events were still
    /// queued: the close frame waits until they are delivered.
    deferred_close: Option<u16>,
}

impl Connection {
    /// Starts an open connection for `side`, right after the opening
    /// handshake; `now` starts the idle and keep-alive deadlines.
    ///
    /// Feed it any bytes that followed the handshake head first.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `config` cannot work: a zero limit, a send buffer
    /// smaller than a control frame, or a client without a
    /// [`Config::mask_source`].
    ///
    /// ```
    /// use proto_core::Side;
    /// use proto_ws::{Config, ConfigError, Connection};
    /// # let now = std::time::Instant::now();
    /// let server = Connection::new(Side::Server, Config::default(), now)?;
    /// assert!(server.state() == proto_ws::State::Open);
    /// assert_eq!(
    ///     Connection::new(Side::Client, Config::default(), now).err(),
    ///     Some(ConfigError::MissingMaskSource)
    /// );
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn new(side: Side, config: Config, now: Instant) -> Result<Self, ConfigError> {
        config.validate(side.is_client())?;
        let rules = Rules {
            side,
            allow_non_minimal_length: config.allow_non_minimal_length,
        };
        let payload = PayloadBuffer::new(config.max_message_size);
        let liveness = Liveness::new(now, &config);
        Ok(Self {
            side,
            config,
            rules,
            state: State::Open,
            error: None,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            message_charge: 0,
            payload,
            utf8: Utf8Validator::default(),
            control: [0; MAX_CONTROL_PAYLOAD],
            control_len: 0,
            events: VecDeque::new(),
            queued_bytes: 0,
            out: Vec::new(),
            out_pos: 0,
            pending_pong: None,
            sending: None,
            close_sent: false,
            shutdown: Shutdown::NotYet,
            finished: false,
            liveness,
            close_deadline: None,
            deferred_close: None,
        })
    }

    /// Which end this connection plays.
    #[must_use]
    pub fn side(&self) -> Side {
        self.side
    }

    /// Where the connection is in its life.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// The error that failed the connection, if one did.
    #[must_use]
    pub fn error(&self) -> Option<Error> {
        self.error
    }

    /// True once the connection is finished and every byte it queued has been
    /// handed out by [`poll_transmit`](Self::poll_transmit): close the socket
    /// once those are written.
    ///
    /// A server finishes right after the close handshake; a client waits for
    /// the server to close TCP ([`handle_eof`](Self::handle_eof)) or for
    /// [`Config::close_timeout`] (RFC 6455 §7.1.1).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.finished && self.out_pos == self.out.len() && self.pending_pong.is_none()
    }

    /// Received bytes held while a frame or message is incomplete, plus
    /// payload bytes waiting in the event queue. (The memory reserved for
    /// the message being assembled stays within twice what arrived plus
    /// 64 KiB.)
    #[must_use]
    pub fn buffered_input(&self) -> usize {
        self.header_len + self.control_len + self.payload.len() + self.queued_bytes
    }

    /// Output bytes queued and not yet handed out by
    /// [`poll_transmit`](Self::poll_transmit).
    #[must_use]
    pub fn buffered_output(&self) -> usize {
        self.out.len() - self.out_pos + self.pending_pong.map_or(0, |(_, len)| len + 6)
    }

    /// Heap bytes the connection's own buffers hold right now (payload being
    /// assembled, output, event queue and the payloads in it). An idle
    /// connection holds at most about 1.5 KiB.
    #[must_use]
    pub fn buffer_capacity(&self) -> usize {
        self.payload.capacity()
            + self.out.capacity()
            + self.events.capacity() * size_of::<Event>()
            + self.queued_bytes
    }

    // ---- Inputs ------------------------------------------------------------

    /// Feeds bytes received from the peer; returns how many were consumed.
    ///
    /// Call it with what the socket produced (and the bytes that followed the
    /// handshake), then drain [`poll_transmit`](Self::poll_transmit) and
    /// [`poll_event`](Self::poll_event). A count shorter than `input.len()`
    /// means the event queue is full (32 events or 64 KiB of queued payload):
    /// keep the rest, drain events, and offer it again. After the connection
    /// closed, input is consumed and ignored.
    ///
    /// # Errors
    ///
    /// The peer broke RFC 6455 or a limit: the state is [`State::Failed`],
    /// every later call returns the same error, and the close frame with
    /// [`Error::close_code`] is queued. If events that arrived before the
    /// violation are still queued, they are delivered first, replies to them
    /// may still be sent, and the close frame is queued when
    /// [`poll_event`](Self::poll_event) runs dry: a peer's valid message is
    /// answered before its connection fails (Autobahn 3.2, 4.1.3, 5.15).
    ///
    /// ```
    /// use proto_core::Side;
    /// use proto_ws::{Config, Connection, Error, Violation};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(Side::Server, Config::default(), now)?;
    /// // An unmasked frame from a client (RFC 6455 §5.1).
    /// let err = server.handle_input(now, b"\x81\x02hi").unwrap_err();
    /// assert_eq!(err, Error::Protocol(Violation::UnmaskedFrame));
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert_eq!(wire, b"\x88\x02\x03\xea"); // close 1002
    /// # Ok::<(), proto_ws::ConfigError>(())
    /// ```
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) -> Result<usize, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if !self.state.receives() {
            return Ok(input.len());
        }
        if input.is_empty() {
            return Ok(0);
        }
        // Any input means the peer is alive.
        self.liveness.heard(now, &self.config);
        let mut pos = 0;
        if let Err(error) = self.read_frames(now, input, &mut pos) {
            return Err(self.fail_with(error));
        }
        if self.config.streaming && !self.payload.is_empty() {
            self.flush_piece(false);
        }
        self.payload.end_read();
        Ok(pos)
    }

    /// Reports that the peer closed its write side (a read returned 0).
    ///
    /// Before a close handshake this is an abnormal closure, reported as
    /// [`Event::Closed`] with code 1006 (RFC 6455 §7.1.5); a client waiting
    /// for the server to close TCP finishes here.
    ///
    /// ```
    /// # use proto_ws::{Config, Connection, Event};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.handle_eof(now);
    /// assert_eq!(server.poll_event(), Some(Event::Closed { code: 1006, reason: String::new() }));
    /// assert!(server.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_eof(&mut self, _now: Instant) {
        if self.state.receives() {
            self.push_event(Event::Closed {
                code: close_code::ABNORMAL,
                reason: String::new(),
            });
            self.state = State::Closed;
        }
        if self.deferred_close.is_none() {
            self.finish();
        }
    }

    /// Reports that writing to the socket failed: the connection is dead.
    ///
    /// Queued output is dropped, nothing more is sent, and an open
    /// connection reports [`Event::Closed`] with 1006 (abnormal closure).
    ///
    /// ```
    /// # use proto_ws::{Config, Connection, Event};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.send_text("lost")?;
    /// server.handle_write_failed();
    /// assert_eq!(server.buffered_output(), 0);
    /// assert!(server.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_write_failed(&mut self) {
        if self.state.receives() {
            self.push_event(Event::Closed {
                code: close_code::ABNORMAL,
                reason: String::new(),
            });
            self.state = State::Closed;
        }
        self.out = Vec::new();
        self.out_pos = 0;
        self.pending_pong = None;
        self.deferred_close = None;
        self.close_sent = true;
        self.finish();
        self.shutdown = Shutdown::Done;
    }

    /// Fires whatever deadlines are due at `now`: keep-alive ping, ping
    /// timeout, idle timeout, close-handshake timeout.
    ///
    /// Call it when [`poll_timeout`](Self::poll_timeout)'s instant has
    /// passed; calling it early or twice does nothing. What fired is reported
    /// as [`Event::TimedOut`], with any close frame queued.
    ///
    /// ```
    /// # use proto_ws::{Config, Connection, Event};
    /// # use std::time::Duration;
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// let at = server.poll_timeout().unwrap(); // the keep-alive ping
    /// server.handle_timeout(at);
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(at, &mut wire).is_some() {}
    /// assert_eq!(wire, b"\x89\x00");
    /// // Nobody answers within the ping timeout: the peer is gone.
    /// server.handle_timeout(at + Duration::from_secs(20));
    /// assert_eq!(server.poll_event(), Some(Event::TimedOut(proto_core::Timer::Ping)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        if self.close_deadline.is_some_and(|at| at <= now) {
            self.close_deadline = None;
            self.push_event(Event::TimedOut(Timer::CloseHandshake));
            self.state = State::Closed;
            self.finish();
            return;
        }
        let due = self.liveness.due(now, &self.config);
        if due.ping && self.state == State::Open {
            if self.liveness.awaiting_pong() {
                self.push_event(Event::TimedOut(Timer::Ping));
                self.queue_close(Some(close_code::GOING_AWAY), b"");
                self.state = State::Closed;
                self.finish();
                return;
            }
            self.write_frame(true, OpCode::Ping, b"");
            self.liveness.ping_sent(now, &self.config);
        }
        if due.idle && self.state == State::Open {
            self.push_event(Event::TimedOut(Timer::Idle));
            self.start_close(now, close_code::GOING_AWAY, b"idle timeout");
        }
    }

    // ---- Commands ----------------------------------------------------------

    /// Queues a text message (RFC 6455 §5.6), split into frames of
    /// [`Config::send_fragment_size`] if set.
    ///
    /// # Errors
    ///
    /// [`SendError::NotOpen`] unless [`State::Open`] with no
    /// [`send_data`](Self::send_data) message open;
    /// [`SendError::Backpressure`] if the output would exceed
    /// [`Config::max_send_buffer_size`].
    ///
    /// ```
    /// # use proto_ws::{Config, Connection};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.send_text("hi")?;
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert_eq!(wire, b"\x81\x02hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_message(MessageKind::Text, text.as_bytes(), true, true)
    }

    /// Queues a binary message (RFC 6455 §5.6), split into frames of
    /// [`Config::send_fragment_size`] if set.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    ///
    /// ```
    /// # use proto_ws::{Config, Connection};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.send_binary(&[1, 2, 3])?;
    /// assert_eq!(server.buffered_output(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message(MessageKind::Binary, data, true, true)
    }

    /// Queues the next piece of a message sent in pieces (RFC 6455 §5.4);
    /// `fin` ends the message. The first piece fixes `kind`; later pieces
    /// must repeat it. Pings, pongs and a close may be sent between pieces.
    ///
    /// The caller must make a text message's pieces add up to valid UTF-8;
    /// a piece may end inside a code point.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text); also [`SendError::NotOpen`] if
    /// `kind` differs from the open message's.
    ///
    /// ```
    /// # use proto_ws::{Config, Connection, MessageKind};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.send_data(MessageKind::Binary, b"ab", false)?;
    /// server.send_data(MessageKind::Binary, b"c", true)?;
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert_eq!(wire, b"\x02\x02ab\x80\x01c");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_data(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        match self.sending {
            Some(open) if open != kind => Err(SendError::NotOpen(self.state)),
            open => self.send_message(kind, data, open.is_none(), fin),
        }
    }

    /// Queues a ping (RFC 6455 §5.5.2). The pong arrives as [`Event::Pong`].
    ///
    /// # Errors
    ///
    /// [`SendError::ControlTooLong`] over 125 bytes; [`SendError::NotOpen`]
    /// and [`SendError::Backpressure`] as for [`send_text`](Self::send_text).
    ///
    /// ```
    /// # use proto_ws::{Config, Connection, SendError};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.send_ping(b"are you there")?;
    /// assert_eq!(server.send_ping(&[0; 126]), Err(SendError::ControlTooLong));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues a pong (RFC 6455 §5.5.3): an answer when
    /// [`Config::auto_pong`] is off, or an unsolicited heartbeat.
    ///
    /// # Errors
    ///
    /// As [`send_ping`](Self::send_ping).
    ///
    /// ```
    /// # use proto_ws::{Config, Connection};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.send_pong(b"")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Starts the close handshake (RFC 6455 §7.1.2): queues a close frame
    /// with `code` and `reason`, stops sending, and waits up to
    /// [`Config::close_timeout`] for the peer's close. Messages that arrive
    /// meanwhile are still delivered; the peer's close arrives as
    /// [`Event::Closed`].
    ///
    /// # Errors
    ///
    /// [`SendError::NotOpen`] unless [`State::Open`];
    /// [`SendError::InvalidCloseCode`] for a code that may not be sent
    /// (see [`is_valid_close_code`](crate::is_valid_close_code));
    /// [`SendError::ReasonTooLong`] over 123 bytes.
    ///
    /// ```
    /// # use proto_ws::{Config, Connection, State};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.close(now, 1000, "bye")?;
    /// assert_eq!(server.state(), State::LocalClosing);
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert_eq!(wire, b"\x88\x05\x03\xe8bye");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&mut self, now: Instant, code: u16, reason: &str) -> Result<(), SendError> {
        if !self.state.sends() {
            return Err(SendError::NotOpen(self.state));
        }
        if !is_valid_close_code(code) {
            return Err(SendError::InvalidCloseCode(code));
        }
        if reason.len() > MAX_CLOSE_REASON {
            return Err(SendError::ReasonTooLong);
        }
        self.start_close(now, code, reason.as_bytes());
        Ok(())
    }

    /// Fails the connection from our side (RFC 6455 §7.1.7): queues a close
    /// frame with `code` and finishes at once, without waiting for the peer.
    /// Use it when the application refuses a message (1003, 1008, 1011).
    ///
    /// # Errors
    ///
    /// [`SendError::InvalidCloseCode`] for a code that may not be sent;
    /// [`SendError::NotOpen`] once the connection is closed or failed.
    ///
    /// ```
    /// # use proto_ws::{Config, Connection};
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.fail(1008)?;
    /// let mut wire = Vec::new();
    /// while server.poll_transmit(now, &mut wire).is_some() {}
    /// assert_eq!(wire, b"\x88\x02\x03\xf0");
    /// assert!(server.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fail(&mut self, code: u16) -> Result<(), SendError> {
        if !self.state.receives() {
            return Err(SendError::NotOpen(self.state));
        }
        if !is_valid_close_code(code) {
            return Err(SendError::InvalidCloseCode(code));
        }
        self.queue_close(Some(code), b"");
        self.state = State::Closed;
        self.finish();
        Ok(())
    }

    // ---- Polls -------------------------------------------------------------

    /// Appends the next bytes to send to `out` (at most
    /// [`Config::max_transmit_chunk`]) and says what to do with them.
    ///
    /// Call it until it returns `None` after every input, command and
    /// timeout; write the appended bytes in order, and on
    /// [`Transmit::ShutdownWrite`] shut down the socket's write half once
    /// they are written.
    ///
    /// ```
    /// # use proto_ws::{Config, Connection};
    /// # use proto_core::Transmit;
    /// # let now = std::time::Instant::now();
    /// let mut server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// server.send_text("hi")?;
    /// let mut wire = Vec::new();
    /// assert_eq!(server.poll_transmit(now, &mut wire), Some(Transmit::Data { len: 4 }));
    /// assert_eq!(server.poll_transmit(now, &mut wire), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
        if self.out_pos == self.out.len() {
            if let Some((payload, len)) = self.pending_pong.take() {
                self.write_frame(true, OpCode::Pong, &payload[..len]);
            }
        }
        let pending = self.out.len() - self.out_pos;
        if pending > 0
            && pending <= self.config.max_transmit_chunk
            && self.out_pos == 0
            && out.is_empty()
        {
            // Everything fits in one hand-out and the caller's buffer is
            // empty: give it ours instead of copying (a large echo then
            // moves no payload byte here), and keep its buffer for the next
            // frames.
            std::mem::swap(out, &mut self.out);
            if self.out.capacity() > KEEP_OUTPUT_CAPACITY {
                self.out = Vec::new();
            }
            return Some(Transmit::Data { len: pending });
        }
        if pending > 0 {
            let len = pending.min(self.config.max_transmit_chunk);
            out.extend_from_slice(&self.out[self.out_pos..self.out_pos + len]);
            self.out_pos += len;
            if self.out_pos == self.out.len() {
                self.out_pos = 0;
                if self.out.capacity() > KEEP_OUTPUT_CAPACITY {
                    self.out = Vec::new();
                } else {
                    self.out.clear();
                }
            }
            return Some(Transmit::Data { len });
        }
        if self.shutdown == Shutdown::Due {
            self.shutdown = Shutdown::Done;
            return Some(Transmit::ShutdownWrite);
        }
        None
    }

    /// The earliest instant at which [`handle_timeout`](Self::handle_timeout)
    /// must be called, or `None` when no deadline is armed.
    ///
    /// ```
    /// # use proto_ws::{Config, Connection};
    /// # use std::time::Duration;
    /// # let now = std::time::Instant::now();
    /// let server = Connection::new(proto_core::Side::Server, Config::default(), now)?;
    /// // The keep-alive ping (30 s) comes before the idle timeout (60 s).
    /// assert_eq!(server.poll_timeout(), Some(now + Duration::from_secs(30)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        earlier(self.close_deadline, self.liveness.poll_timeout())
    }

    /// The next event, or `None` when nothing is pending (need more input).
    ///
    /// ```
    /// # use proto_ws::{Config, Connection, Event};
    /// # let now = std::time::Instant::now();
    /// let mut client = Connection::new(proto_core::Side::Client, {
    ///     let mut c = Config::default();
    ///     c.mask_source(std::sync::Arc::new(proto_ws::SeededMasks::new(1)));
    ///     c
    /// }, now)?;
    /// client.handle_input(now, b"\x89\x00")?; // a ping from the server
    /// assert_eq!(client.poll_event(), Some(Event::Ping(bytes::Bytes::new())));
    /// assert_eq!(client.poll_event(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    // Inlined into the caller's drain loop: it runs once per message, and
    // returning the event through a call costs more than the rest of it.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        let Some(event) = self.events.pop_front() else {
            if self.deferred_close.is_some() {
                self.send_deferred_close();
            }
            return None;
        };
        self.queued_bytes -= event.payload_len();
        if self.events.is_empty() && self.events.capacity() > KEEP_EVENT_SLOTS {
            self.release_event_queue();
        }
        Some(event)
    }

    /// An event queue drained to empty gives back an allocation grown past
    /// [`KEEP_EVENT_SLOTS`].
    #[cold]
    fn release_event_queue(&mut self) {
        self.events = VecDeque::new();
    }

    // ---- Reading -----------------------------------------------------------

    fn read_frames(&mut self, now: Instant, input: &[u8], pos: &mut usize) -> Result<(), Error> {
        while *pos < input.len() {
            if !self.state.receives() {
                // Nothing is accepted after the close handshake.
                *pos = input.len();
                break;
            }
            // The frame being read lives in a local while this loop works
            // on it, and goes back to `self.frame` only if the input ends
            // inside it.
            let frame = match self.frame.take() {
                Some(frame) => frame,
                None => {
                    if self.header_len == 0 && self.is_backpressured() {
                        break;
                    }
                    match self.read_header(&input[*pos..], pos)? {
                        Some(frame) => frame,
                        None => continue,
                    }
                }
            };
            let avail = input.len() - *pos;
            let n = usize::try_from(frame.remaining).map_or(avail, |r| r.min(avail));
            let frame = self.read_payload(frame, &input[*pos..*pos + n], avail - n)?;
            *pos += n;
            if frame.remaining == 0 {
                self.finish_frame(now, frame)?;
            } else {
                self.frame = Some(frame);
            }
        }
        Ok(())
    }

    /// Reads header bytes; returns the frame once a whole header was parsed
    /// and the frame started.
    fn read_header(&mut self, input: &[u8], pos: &mut usize) -> Result<Option<InFrame>, Error> {
        // Fast path: the whole header is in this input.
        if self.header_len == 0 && input.len() >= 2 {
            frame::check_first_two(input[0], input[1], self.rules)?;
            let full = frame::header_len(input[1]);
            if input.len() >= full {
                let header = frame::parse(&input[..full], self.rules)?;
                *pos += full;
                return self.start_frame(header).map(Some);
            }
        }
        let need = if self.header_len < 2 {
            2
        } else {
            frame::header_len(self.header[1])
        };
        let take = (need - self.header_len).min(input.len());
        self.header[self.header_len..self.header_len + take].copy_from_slice(&input[..take]);
        self.header_len += take;
        *pos += take;
        if self.header_len < 2 {
            return Ok(None);
        }
        if need == 2 {
            frame::check_first_two(self.header[0], self.header[1], self.rules)?;
        }
        let full = frame::header_len(self.header[1]);
        if self.header_len < full {
            return Ok(None);
        }
        let header = frame::parse(&self.header[..full], self.rules)?;
        self.header_len = 0;
        self.start_frame(header).map(Some)
    }

    /// Applies the rules that depend on the open message, and the caps, to a
    /// parsed header (RFC 6455 §5.4, §10.4).
    fn start_frame(&mut self, header: frame::Header) -> Result<InFrame, Error> {
        if header.opcode.is_control() {
            self.control_len = 0;
        } else {
            let kind = match (header.opcode, self.message) {
                (OpCode::Continuation, None) => {
                    return Err(Error::Protocol(Violation::UnexpectedContinuation));
                }
                (OpCode::Text | OpCode::Binary, Some(_)) => {
                    return Err(Error::Protocol(Violation::ExpectedContinuation));
                }
                (OpCode::Text, None) => MessageKind::Text,
                (_, None) => MessageKind::Binary,
                (_, Some(kind)) => kind,
            };
            if header.len > self.config.max_frame_size as u64 {
                return Err(Error::TooLarge(Limit::FrameSize));
            }
            let overhead = if self.message.is_some() {
                self.config.fragment_overhead as u64
            } else {
                0
            };
            let charge = self
                .message_charge
                .saturating_add(overhead)
                .saturating_add(header.len);
            if charge > self.config.max_message_size as u64 {
                return Err(Error::TooLarge(Limit::MessageSize));
            }
            if self.message.is_none() {
                self.utf8 = Utf8Validator::default();
            }
            self.message_charge = charge;
            self.message = Some(kind);
        }
        Ok(InFrame {
            fin: header.fin,
            opcode: header.opcode,
            mask: header.mask,
            remaining: header.len,
            phase: 0,
        })
    }

    /// Copies a piece of payload once, unmasks it in place and, for text,
    /// validates it at once.
    ///
    /// `after` is how much of the current input follows the piece: the
    /// [`PayloadBuffer`] reserves for the frames there too.
    fn read_payload(
        &mut self,
        mut frame: InFrame,
        chunk: &[u8],
        after: usize,
    ) -> Result<InFrame, Error> {
        let n = chunk.len();
        if frame.opcode.is_control() {
            let region = &mut self.control[self.control_len..self.control_len + n];
            region.copy_from_slice(chunk);
            if let Some(key) = frame.mask {
                apply_mask(region, key, frame.phase);
            }
            self.control_len += n;
        } else {
            // Streaming hands each read's bytes out at its end: reserving
            // ahead for the rest of the frame would only pin memory.
            let frame_rest = if self.config.streaming {
                n as u64
            } else {
                frame.remaining
            };
            let region = self
                .payload
                .append(chunk, frame.mask, frame.phase, frame_rest, after);
            if self.message == Some(MessageKind::Text) && self.utf8.feed(region).is_err() {
                return Err(Error::InvalidUtf8);
            }
        }
        frame.phase = (frame.phase + n) % 4;
        frame.remaining -= n as u64;
        Ok(frame)
    }

    fn finish_frame(&mut self, now: Instant, frame: InFrame) -> Result<(), Error> {
        match frame.opcode {
            OpCode::Ping => {
                let payload = Bytes::copy_from_slice(&self.control[..self.control_len]);
                if self.config.auto_pong && !self.close_sent {
                    self.queue_auto_pong();
                }
                self.push_event(Event::Ping(payload));
            }
            OpCode::Pong => {
                let payload = Bytes::copy_from_slice(&self.control[..self.control_len]);
                self.push_event(Event::Pong(payload));
            }
            OpCode::Close => self.receive_close(now)?,
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                if frame.fin {
                    if self.message == Some(MessageKind::Text) && !self.utf8.is_complete() {
                        return Err(Error::InvalidUtf8);
                    }
                    if self.config.streaming {
                        self.flush_piece(true);
                    } else {
                        let data = self.payload.take();
                        let event = match self.message {
                            Some(MessageKind::Text) => Event::Text(data),
                            _ => Event::Binary(data),
                        };
                        self.push_event(event);
                    }
                    self.message = None;
                    self.message_charge = 0;
                } else if self.config.streaming && !self.payload.is_empty() {
                    self.flush_piece(false);
                }
            }
        }
        Ok(())
    }

    /// The peer's close frame (RFC 6455 §5.5.1, §7.1.2-§7.1.3).
    fn receive_close(&mut self, now: Instant) -> Result<(), Error> {
        let (code, reason) = close::parse_payload(&self.control[..self.control_len])?;
        if !self.close_sent {
            // Echo the code only, so the echo never exceeds 125 bytes.
            let echo = (code != close_code::NO_STATUS).then_some(code);
            self.queue_close(echo, b"");
        }
        self.message = None;
        self.message_charge = 0;
        self.payload.release();
        self.state = State::Closed;
        self.push_event(Event::Closed { code, reason });
        self.liveness.stop();
        if self.side.is_server() {
            // RFC 6455 §7.1.1: the server closes TCP first.
            self.finish();
        } else {
            // The client waits for the server's TCP close, within bounds.
            self.close_deadline = now.checked_add(self.config.close_timeout);
        }
        Ok(())
    }

    fn flush_piece(&mut self, fin: bool) {
        let bytes = self.payload.take();
        let kind = self.message.unwrap_or(MessageKind::Binary);
        self.push_event(Event::Data { kind, bytes, fin });
    }

    fn push_event(&mut self, event: Event) {
        self.queued_bytes += event.payload_len();
        self.events.push_back(event);
    }

    fn is_backpressured(&self) -> bool {
        self.events.len() >= MAX_QUEUED_EVENTS || self.queued_bytes >= MAX_QUEUED_BYTES
    }

    // ---- Writing -----------------------------------------------------------

    fn send_message(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        first: bool,
        fin: bool,
    ) -> Result<(), SendError> {
        if !self.sends() || (first && self.sending.is_some()) {
            return Err(SendError::NotOpen(self.state));
        }
        let piece = self.config.send_fragment_size.unwrap_or(usize::MAX).max(1);
        let frames = data.len().div_ceil(piece).max(1);
        let masked = self.side.is_client();
        let needed = data.len() + frames * frame::encoded_header_len(piece.min(data.len()), masked);
        if self.buffered_output().saturating_add(needed) > self.config.max_send_buffer_size {
            return Err(SendError::Backpressure);
        }
        let mut chunks = data.chunks(piece);
        let first_chunk = chunks.next().unwrap_or(&[]);
        let mut opcode = if first {
            match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            }
        } else {
            OpCode::Continuation
        };
        let mut chunk = first_chunk;
        loop {
            let next = chunks.next();
            self.write_frame(fin && next.is_none(), opcode, chunk);
            opcode = OpCode::Continuation;
            match next {
                Some(c) => chunk = c,
                None => break,
            }
        }
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlTooLong);
        }
        if !self.sends() {
            return Err(SendError::NotOpen(self.state));
        }
        let needed =
            payload.len() + frame::encoded_header_len(payload.len(), self.side.is_client());
        if self.buffered_output() + needed > self.config.max_send_buffer_size {
            return Err(SendError::Backpressure);
        }
        self.write_frame(true, opcode, payload);
        Ok(())
    }

    /// Queues the pong for the ping in `control`; beyond the send cap, only
    /// the latest ping's pong is kept (RFC 6455 §5.5.3).
    fn queue_auto_pong(&mut self) {
        let len = self.control_len;
        let needed = len + frame::encoded_header_len(len, self.side.is_client());
        if self.out.len() - self.out_pos + needed <= self.config.max_send_buffer_size {
            self.pending_pong = None;
            let payload = self.control;
            self.write_frame(true, OpCode::Pong, &payload[..len]);
        } else {
            self.pending_pong = Some((self.control, len));
        }
    }

    fn start_close(&mut self, now: Instant, code: u16, reason: &[u8]) {
        self.queue_close(Some(code), reason);
        self.state = State::LocalClosing;
        self.liveness.stop();
        self.close_deadline = now.checked_add(self.config.close_timeout);
    }

    /// Queues our one close frame; later calls do nothing.
    fn queue_close(&mut self, code: Option<u16>, reason: &[u8]) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        self.pending_pong = None;
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                let reason = &reason[..reason.len().min(MAX_CLOSE_REASON)];
                payload[..2].copy_from_slice(&code.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
            None => 0,
        };
        self.write_frame(true, OpCode::Close, &payload[..len]);
    }

    /// Appends one frame to the output, masking it on the client side.
    fn write_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        if self.out_pos > 0 && self.out_pos >= self.out.len() / 2 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        let mask = match (&self.config.mask_source, self.side) {
            (Some(source), Side::Client) => Some(source.next_mask()),
            _ => None,
        };
        self.out
            .reserve(payload.len() + frame::encoded_header_len(payload.len(), mask.is_some()));
        frame::encode_header(&mut self.out, fin, opcode, mask, payload.len());
        let start = self.out.len();
        self.out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut self.out[start..], key, 0);
        }
    }

    // ---- Failing and finishing --------------------------------------------

    fn fail_with(&mut self, error: Error) -> Error {
        self.error = Some(error);
        self.state = State::Failed;
        if self.events.is_empty() {
            self.queue_close(Some(error.close_code()), b"");
            self.finish();
        } else {
            // What arrived before the violation is still the peer's: it is
            // delivered, and may be answered, before the close frame goes out
            // (the strict reading of RFC 6455 §7.1.7 that Autobahn checks in
            // 3.2, 4.1.3 and 5.15). Nothing more is read meanwhile.
            self.deferred_close = Some(error.close_code());
            self.release_input();
            self.liveness.stop();
            self.close_deadline = None;
        }
        error
    }

    /// Sends the close frame of a violation deferred by
    /// [`fail_with`](Self::fail_with), once the events before it are out.
    #[cold]
    fn send_deferred_close(&mut self) {
        if let Some(code) = self.deferred_close.take() {
            self.queue_close(Some(code), b"");
            self.finish();
        }
    }

    /// Data, ping and pong frames may be queued: the connection is open, or a
    /// violation's close frame waits for the events before it to be answered.
    fn sends(&self) -> bool {
        self.state.sends() || self.deferred_close.is_some()
    }

    /// Drops the partial frame and message being read.
    fn release_input(&mut self) {
        self.frame = None;
        self.header_len = 0;
        self.message = None;
        self.payload.release();
    }

    /// Nothing more will be read: release input buffers, disarm every
    /// deadline, and let the driver shut down the write side.
    fn finish(&mut self) {
        self.finished = true;
        self.release_input();
        self.liveness.stop();
        self.close_deadline = None;
        if self.shutdown == Shutdown::NotYet {
            self.shutdown = Shutdown::Due;
        }
    }
}

impl Drive for Connection {
    type Error = Error;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<usize, Error> {
        Self::handle_input(self, now, bytes)
    }

    fn handle_eof(&mut self, now: Instant) {
        Self::handle_eof(self, now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        Self::handle_timeout(self, now);
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
        Self::poll_transmit(self, now, out)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Self::poll_timeout(self)
    }

    fn is_closed(&self) -> bool {
        Self::is_closed(self)
    }
}
