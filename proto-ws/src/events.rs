//! [`Event`]: what a connection reports to the application.

use bytes::Bytes;
use proto_core::Timer;

/// The kind of a data message (RFC 6455 §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Opcode 0x1: UTF-8 text, validated before delivery.
    Text,
    /// Opcode 0x2: arbitrary bytes.
    Binary,
}

/// Something that happened on a connection, from
/// [`Connection::poll_event`](crate::Connection::poll_event).
///
/// Payloads are [`Bytes`] views of the buffer the input was copied into once:
/// keeping or dropping them costs no copy. `None` from `poll_event` means
/// "need more input", never an error.
///
/// ```
/// use proto_ws::{Event, MessageKind};
/// # fn handle(event: Event) {
/// match event {
///     Event::Text(text) => println!("{}", std::str::from_utf8(&text).unwrap()),
///     Event::Binary(bytes) => println!("{} bytes", bytes.len()),
///     Event::Data { kind, bytes, fin } => println!("{kind:?} piece of {}, last: {fin}", bytes.len()),
///     Event::Ping(_) | Event::Pong(_) => {}
///     Event::Closed { code, reason } => println!("closed {code} {reason}"),
///     Event::TimedOut(timer) => println!("{timer} timed out"),
///     _ => {}
/// }
/// # }
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete text message; always valid UTF-8 (RFC 6455 §8.1), so
    /// `std::str::from_utf8` on it cannot fail.
    Text(Bytes),
    /// A complete binary message.
    Binary(Bytes),
    /// In [`Config::streaming`](crate::Config::streaming) mode, the next piece
    /// of a message as it arrived; `fin` marks the message's last piece.
    /// Pieces do not follow frame boundaries. Text pieces are validated as
    /// they arrive but may end inside a code point.
    Data {
        /// Text or binary, fixed by the message's first frame.
        kind: MessageKind,
        /// The piece.
        bytes: Bytes,
        /// True on the last piece of the message.
        fin: bool,
    },
    /// A ping arrived (RFC 6455 §5.5.2); with
    /// [`Config::auto_pong`](crate::Config::auto_pong) (the default) the pong
    /// is already queued.
    Ping(Bytes),
    /// A pong arrived (RFC 6455 §5.5.3); unsolicited pongs are reported and
    /// otherwise ignored.
    Pong(Bytes),
    /// The connection closed (RFC 6455 §7.1.5, §7.1.6): after a close
    /// handshake, `code` is the peer's code or 1005 if its close frame had
    /// none; after an EOF without a close frame, 1006 (abnormal closure).
    Closed {
        /// The close code received (RFC 6455 §7.4).
        code: u16,
        /// The close reason received, possibly empty.
        reason: String,
    },
    /// A deadline fired: [`Timer::Idle`], [`Timer::Ping`] or
    /// [`Timer::CloseHandshake`]. Any farewell close frame is already queued.
    TimedOut(Timer),
}

impl Event {
    /// The payload bytes this event holds, for accounting.
    #[inline]
    pub(crate) fn payload_len(&self) -> usize {
        match self {
            Self::Text(b) | Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b.len(),
            Self::Data { bytes, .. } => bytes.len(),
            Self::Closed { reason, .. } => reason.len(),
            Self::TimedOut(_) => 0,
        }
    }
}
