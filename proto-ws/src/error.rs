//! Peer violations ([`Error`]) and local misuse ([`SendError`], [`ConfigError`]).
//!
//! A peer violation fails the connection: the machine queues a close frame
//! carrying [`Error::close_code`] (RFC 6455 §7.1.7, §7.4.1), becomes
//! [`State::Failed`](crate::State::Failed), and returns the same error from
//! every later [`handle_input`](crate::Connection::handle_input). Local misuse
//! changes nothing and can be retried or fixed.

use std::fmt;

use proto_core::{ErrorKind, PeerError};

use crate::State;

/// The peer broke RFC 6455 or one of our limits; the connection is failed.
///
/// ```
/// use proto_ws::{Error, Limit, Violation};
/// assert_eq!(Error::Protocol(Violation::UnmaskedFrame).close_code(), 1002);
/// assert_eq!(Error::InvalidUtf8.close_code(), 1007);
/// assert_eq!(Error::TooLarge(Limit::MessageSize).close_code(), 1009);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// A framing or close-handshake rule was broken (RFC 6455 §5, §7):
    /// close code 1002. The detail is for logs.
    Protocol(Violation),
    /// A text message or a close reason is not valid UTF-8 (RFC 6455 §8.1):
    /// close code 1007. Detected at the first invalid byte.
    InvalidUtf8,
    /// A frame or message is larger than configured, judged on its declared
    /// length before anything is buffered: close code 1009 (RFC 6455 §7.4.1).
    TooLarge(Limit),
}

impl Error {
    /// The close code sent to the peer before closing (RFC 6455 §7.4.1):
    /// 1002, 1007 or 1009.
    #[must_use]
    pub fn close_code(self) -> u16 {
        self.kind().close_code()
    }
}

impl PeerError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Protocol(_) => ErrorKind::Malformed,
            Self::InvalidUtf8 => ErrorKind::InvalidUtf8,
            Self::TooLarge(_) => ErrorKind::TooLarge,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(v) => write!(f, "websocket protocol error: {v}"),
            Self::InvalidUtf8 => f.write_str("invalid utf-8 in websocket text"),
            Self::TooLarge(limit) => write!(f, "websocket {limit} exceeded"),
        }
    }
}

impl std::error::Error for Error {}

/// Which RFC 6455 rule the peer broke; meant for logs, not for branching.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Violation {
    /// A server received an unmasked frame (RFC 6455 §5.1).
    UnmaskedFrame,
    /// A client received a masked frame (RFC 6455 §5.1).
    MaskedFrame,
    /// RSV1, RSV2 or RSV3 set with no extension negotiated (RFC 6455 §5.2).
    ReservedBits,
    /// Opcode 3-7 or 0xB-0xF (RFC 6455 §5.2).
    ReservedOpcode(u8),
    /// A control frame with a payload over 125 bytes (RFC 6455 §5.5).
    ControlTooLong,
    /// A control frame with FIN clear (RFC 6455 §5.5).
    FragmentedControl,
    /// A continuation frame with no message open (RFC 6455 §5.4).
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message is open
    /// (RFC 6455 §5.4).
    ExpectedContinuation,
    /// A 64-bit payload length with its most significant bit set
    /// (RFC 6455 §5.2).
    LengthOverflow,
    /// A payload length not in its shortest encoding (RFC 6455 §5.2: "the
    /// minimal number of bytes MUST be used"); see
    /// [`Config::allow_non_minimal_length`](crate::Config::allow_non_minimal_length).
    NonMinimalLength,
    /// A close frame with a 1-byte payload (RFC 6455 §5.5.1).
    CloseTooShort,
    /// A close code that may not be sent on the wire (RFC 6455 §7.4).
    InvalidCloseCode(u16),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnmaskedFrame => f.write_str("unmasked frame from a client"),
            Self::MaskedFrame => f.write_str("masked frame from a server"),
            Self::ReservedBits => f.write_str("reserved bits set"),
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ControlTooLong => f.write_str("control frame payload over 125 bytes"),
            Self::FragmentedControl => f.write_str("fragmented control frame"),
            Self::UnexpectedContinuation => f.write_str("continuation with no message open"),
            Self::ExpectedContinuation => f.write_str("new message while one is open"),
            Self::LengthOverflow => f.write_str("64-bit length with the top bit set"),
            Self::NonMinimalLength => f.write_str("non-minimal length encoding"),
            Self::CloseTooShort => f.write_str("close payload of one byte"),
            Self::InvalidCloseCode(code) => write!(f, "invalid close code {code}"),
        }
    }
}

/// Which size limit a peer exceeded (see [`Config`](crate::Config)).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// [`Config::max_frame_size`](crate::Config::max_frame_size).
    FrameSize,
    /// [`Config::max_message_size`](crate::Config::max_message_size),
    /// including the per-fragment charge of
    /// [`Config::fragment_overhead`](crate::Config::fragment_overhead).
    MessageSize,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FrameSize => "frame size limit",
            Self::MessageSize => "message size limit",
        })
    }
}

/// A command could not be queued; nothing was queued and the connection is
/// unchanged.
///
/// ```
/// use proto_ws::{SendError, State};
/// assert_eq!(SendError::NotOpen(State::Closed).to_string(), "cannot send in state closed");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendError {
    /// The output buffer would exceed
    /// [`Config::max_send_buffer_size`](crate::Config::max_send_buffer_size):
    /// drain [`poll_transmit`](crate::Connection::poll_transmit) and retry.
    Backpressure,
    /// Messages, pings and pongs can only be sent while
    /// [`State::Open`]; a close only while open.
    NotOpen(State),
    /// A ping or pong payload over 125 bytes (RFC 6455 §5.5).
    ControlTooLong,
    /// A close code that may not be sent (RFC 6455 §7.4.1): below 1000,
    /// 1004-1006, 1015-2999, or 5000 and above.
    InvalidCloseCode(u16),
    /// A close reason over 123 bytes (the code takes 2 of the 125).
    ReasonTooLong,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Backpressure => f.write_str("send buffer full"),
            Self::NotOpen(state) => write!(f, "cannot send in state {state}"),
            Self::ControlTooLong => f.write_str("control payload over 125 bytes"),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Self::ReasonTooLong => f.write_str("close reason over 123 bytes"),
        }
    }
}

impl std::error::Error for SendError {}

/// A [`Config`](crate::Config) that cannot work; returned by
/// [`Connection::new`](crate::Connection::new), never a panic.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigError {
    /// A size limit is zero.
    ZeroLimit(&'static str),
    /// A client connection needs a
    /// [`Config::mask_source`](crate::Config::mask_source): the crate draws no
    /// randomness of its own.
    MissingMaskSource,
    /// [`Config::max_send_buffer_size`](crate::Config::max_send_buffer_size)
    /// cannot hold one control frame (131 bytes).
    SendBufferTooSmall,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroLimit(name) => write!(f, "{name} must not be zero"),
            Self::MissingMaskSource => f.write_str("a client needs a mask source"),
            Self::SendBufferTooSmall => f.write_str("send buffer cannot hold a control frame"),
        }
    }
}

impl std::error::Error for ConfigError {}
