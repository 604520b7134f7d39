//! The socket-facing half of every Rampart state machine.
//!
//! A driver (adapter-core, a test, a fuzz target) only ever needs these calls:
//! feed bytes, report EOF, fire timers, drain output. Protocol-specific events
//! and commands stay on the concrete machine.

use std::time::Instant;

/// Which end of a connection a state machine plays.
///
/// The role decides the rules the machine applies to its peer: an HTTP server
/// parses requests and a client parses responses; a WebSocket server requires
/// masked frames and a client refuses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that opened the connection.
    Client,
    /// The end that accepted the connection.
    Server,
}

impl Side {
    /// The role of the peer.
    ///
    /// ```
    /// use proto_core::Side;
    /// assert_eq!(Side::Client.peer(), Side::Server);
    /// ```
    #[must_use]
    pub fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }

    /// True for [`Side::Client`].
    #[must_use]
    pub fn is_client(self) -> bool {
        self == Self::Client
    }

    /// True for [`Side::Server`].
    #[must_use]
    pub fn is_server(self) -> bool {
        self == Self::Server
    }
}

/// What [`Drive::poll_transmit`] asks the driver to do next.
///
/// Output is appended to a buffer the driver owns and reuses, so this type
/// only says how much was appended, or that the write side is finished.
#[must_use = "appended bytes must be written, and a shutdown must be performed"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transmit {
    /// `len` bytes were appended to the caller's buffer; write them in order.
    Data {
        /// How many bytes were appended by this call.
        len: usize,
    },
    /// Everything to send has been handed out: once the bytes already
    /// appended are written, shut down the write half of the socket.
    ///
    /// The machine may still accept input after this (a WebSocket client waits
    /// for the server to close TCP); the driver closes the socket once
    /// [`Drive::is_closed`] is true or the peer's EOF arrives.
    ShutdownWrite,
}

/// The calls every protocol state machine answers, whatever its protocol.
///
/// One driver loop serves any type implementing this trait: HTTP, WebSocket,
/// or a protocol a user writes. The loop, after every input:
///
/// 1. feeds what the socket produced with [`handle_input`](Drive::handle_input)
///    (keeping any bytes not consumed, and reading no more until events drain),
///    or [`handle_eof`](Drive::handle_eof) when the peer closed its write side;
/// 2. drains [`poll_transmit`](Drive::poll_transmit) into its write buffer until
///    it returns `None`;
/// 3. arms one timer at [`poll_timeout`](Drive::poll_timeout) and, when it
///    fires, calls [`handle_timeout`](Drive::handle_timeout);
/// 4. dispatches the machine's own events (a protocol-specific `poll_event`);
/// 5. closes the socket once [`is_closed`](Drive::is_closed) is true and the
///    output is written.
///
/// `now` always comes from the caller and must never go backwards.
pub trait Drive {
    /// The peer-violation error of the protocol. It is sticky: once returned,
    /// every later `handle_input` returns it again, and only farewell bytes
    /// (an error response, a close frame) remain to be transmitted.
    type Error;

    /// Feeds bytes received from the peer and returns how many were consumed.
    ///
    /// A count shorter than `bytes.len()` is backpressure: the machine's bounded
    /// buffer is full. Keep the rest, drain events, and offer it again later.
    ///
    /// # Errors
    ///
    /// Returns the protocol's error when the peer violated the protocol or a
    /// limit; the farewell response is already queued for `poll_transmit`.
    fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<usize, Self::Error>;

    /// Reports that the peer closed its write side (read returned 0).
    fn handle_eof(&mut self, now: Instant);

    /// Fires whatever deadlines are due at `now`.
    ///
    /// Never fails. It may be called early or twice: with nothing due it does
    /// nothing. What fired is reported as the protocol's `TimedOut` event, with
    /// any farewell bytes (a 408, a close frame) queued.
    fn handle_timeout(&mut self, now: Instant);

    /// Appends the next bytes to send to `out` and says what to do with them.
    ///
    /// Returns `None` when nothing is pending. Call it until it returns `None`
    /// after every input, command and timeout.
    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Transmit>;

    /// The earliest instant at which [`handle_timeout`](Drive::handle_timeout)
    /// must be called, or `None` when no deadline is armed.
    ///
    /// A pure function of the machine's state: calling it changes nothing.
    fn poll_timeout(&self) -> Option<Instant>;

    /// True once the connection is finished: the socket may be closed as soon
    /// as the pending output is written.
    fn is_closed(&self) -> bool;
}
