//! Peer violations ([`Error`], with [`Violation`] details) and local misuse
//! ([`SendError`]).

use proto_core::{ErrorKind, PeerError};
use std::fmt;

/// A violation by the peer: the connection has failed for good.
///
/// Sticky: once [`Connection::handle_input`](crate::Connection::handle_input)
/// returned it, every later call returns it again. A server has already
/// queued the answer named by [`status_hint`](Error::status_hint) (when no
/// response was under way) and will shut down its write side once that is
/// transmitted; a client only closes.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The bytes break the grammar or the framing rules of RFC 9112; the
    /// detail says which. 400.
    Malformed(Violation),
    /// The request line is longer than
    /// [`Config::max_request_line_size`](crate::Config::max_request_line_size). 414.
    UriTooLong,
    /// The head is longer than
    /// [`Config::max_head_size`](crate::Config::max_head_size). 431.
    HeadTooLarge,
    /// The head has more field lines than
    /// [`Config::max_headers`](crate::Config::max_headers). 431.
    TooManyHeaders,
    /// The body is longer than
    /// [`Config::max_body_size`](crate::Config::max_body_size). 413.
    BodyTooLarge,
    /// A transfer coding other than `chunked` (RFC 9112 §6.1). 501.
    UnsupportedTransferCoding,
    /// A well-formed HTTP version other than 1.0 and 1.1. 505.
    VersionNotSupported,
    /// The peer closed the connection in the middle of a message. Nothing is
    /// sent: the peer is gone.
    IncompleteMessage,
}

impl Error {
    /// The HTTP status a server answers this error with (already queued by
    /// the connection when it reports the error).
    ///
    /// ```
    /// use proto_http::{Error, Violation};
    /// assert_eq!(Error::Malformed(Violation::ContentLengthAndTransferEncoding).status_hint(), 400);
    /// assert_eq!(Error::HeadTooLarge.status_hint(), 431);
    /// ```
    #[must_use]
    pub fn status_hint(&self) -> u16 {
        self.kind().http_status()
    }
}

impl PeerError for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Malformed(_) | Self::IncompleteMessage => ErrorKind::Malformed,
            Self::UriTooLong => ErrorKind::UriTooLong,
            Self::HeadTooLarge | Self::TooManyHeaders => ErrorKind::HeadTooLarge,
            Self::BodyTooLarge => ErrorKind::TooLarge,
            Self::UnsupportedTransferCoding => ErrorKind::NotImplemented,
            Self::VersionNotSupported => ErrorKind::VersionNotSupported,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(v) => write!(f, "malformed message: {v}"),
            Self::UriTooLong => f.write_str("request line too long"),
            Self::HeadTooLarge => f.write_str("head too large"),
            Self::TooManyHeaders => f.write_str("too many header fields"),
            Self::BodyTooLarge => f.write_str("body too large"),
            Self::UnsupportedTransferCoding => f.write_str("unsupported transfer coding"),
            Self::VersionNotSupported => f.write_str("http version not supported"),
            Self::IncompleteMessage => f.write_str("connection closed in the middle of a message"),
        }
    }
}

impl std::error::Error for Error {}

/// What exactly was malformed, for logs (do not branch on it: new details
/// may be added and existing ones refined).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A CR not followed by LF (RFC 9112 §2.2).
    BareCr,
    /// An LF not preceded by CR (RFC 9112 §2.2).
    BareLf,
    /// A control character (NUL, other CTL or DEL) in a head; HTAB is the
    /// only one allowed, and only in field values (RFC 9110 §5.5).
    ControlCharacter,
    /// A field line starting with SP or HTAB: obsolete line folding
    /// (RFC 9112 §5.2).
    ObsFold,
    /// An empty or non-token field name, or whitespace before the colon
    /// (RFC 9112 §5.1).
    InvalidFieldName,
    /// A field value with characters a value may not hold (RFC 9110 §5.5).
    InvalidFieldValue,
    /// A request line that is not `method SP target SP version`
    /// (RFC 9112 §3).
    InvalidRequestLine,
    /// A method that is not a token (RFC 9110 §9.1).
    InvalidMethod,
    /// A request target of the wrong form for its method, or with
    /// characters a target may not hold (RFC 9112 §3.2).
    InvalidTarget,
    /// A version that is not `HTTP/DIGIT.DIGIT` (RFC 9112 §2.3).
    InvalidVersion,
    /// A status line that is not `version SP 3DIGIT SP reason`
    /// (RFC 9112 §4).
    InvalidStatusLine,
    /// An HTTP/1.1 request without a `Host` field (RFC 9112 §3.2).
    MissingHost,
    /// More than one `Host` field (RFC 9112 §3.2).
    MultipleHost,
    /// A `Host` value that is not `host [":" port]` (RFC 9112 §3.2).
    InvalidHost,
    /// Both `Content-Length` and `Transfer-Encoding` (RFC 9112 §6.3).
    ContentLengthAndTransferEncoding,
    /// A `Content-Length` that is not 1*DIGIT or overflows (RFC 9110 §8.6).
    InvalidContentLength,
    /// More than one `Content-Length` field, even with equal values.
    MultipleContentLength,
    /// A malformed `Transfer-Encoding`, a parameter on `chunked`, or
    /// `chunked` not last or repeated (RFC 9112 §6.1).
    InvalidTransferEncoding,
    /// `Transfer-Encoding` in an HTTP/1.0 message (RFC 9112 §6.1).
    TransferEncodingInHttp10,
    /// A chunk size that is not 1*HEXDIG of at most 16 digits
    /// (RFC 9112 §7.1).
    InvalidChunkSize,
    /// A malformed chunk extension (RFC 9112 §7.1.1).
    InvalidChunkExtension,
    /// Chunk extensions over
    /// [`Config::max_chunk_extension_size`](crate::Config::max_chunk_extension_size).
    ChunkExtensionTooLong,
    /// Chunk data not followed by exactly CRLF (RFC 9112 §7.1).
    MissingChunkCrlf,
    /// A trailer section over
    /// [`Config::max_trailer_size`](crate::Config::max_trailer_size) or
    /// [`Config::max_headers`](crate::Config::max_headers) lines.
    TrailersTooLarge,
    /// Bytes from a server when no request is waiting for a response.
    UnsolicitedResponse,
    /// A `101 Switching Protocols` to a request that did not ask to upgrade.
    UnexpectedSwitch,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BareCr => "bare cr",
            Self::BareLf => "bare lf",
            Self::ControlCharacter => "control character in head",
            Self::ObsFold => "obsolete line folding",
            Self::InvalidFieldName => "invalid field name",
            Self::InvalidFieldValue => "invalid field value",
            Self::InvalidRequestLine => "invalid request line",
            Self::InvalidMethod => "invalid method",
            Self::InvalidTarget => "invalid request target",
            Self::InvalidVersion => "invalid http version",
            Self::InvalidStatusLine => "invalid status line",
            Self::MissingHost => "missing host",
            Self::MultipleHost => "more than one host",
            Self::InvalidHost => "invalid host",
            Self::ContentLengthAndTransferEncoding => "both content-length and transfer-encoding",
            Self::InvalidContentLength => "invalid content-length",
            Self::MultipleContentLength => "more than one content-length",
            Self::InvalidTransferEncoding => "invalid transfer-encoding",
            Self::TransferEncodingInHttp10 => "transfer-encoding in http/1.0",
            Self::InvalidChunkSize => "invalid chunk size",
            Self::InvalidChunkExtension => "invalid chunk extension",
            Self::ChunkExtensionTooLong => "chunk extension too long",
            Self::MissingChunkCrlf => "chunk data not followed by crlf",
            Self::TrailersTooLarge => "trailer section too large",
            Self::UnsolicitedResponse => "response without a request",
            Self::UnexpectedSwitch => "switching protocols without an upgrade request",
        })
    }
}

/// Where the sending half of a connection stands, as named in a
/// [`SendError::WrongState`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteState {
    /// Nothing to send: a client may send a request; a server has no request
    /// to answer yet.
    Idle,
    /// A server received a request head and has not started its response.
    AwaitingResponse,
    /// A head was sent and its body is open: `send_body`, then `finish`.
    SendingBody,
    /// The last message is finished and the connection closes after it; no
    /// more messages may be sent.
    Done,
    /// The connection switched protocols; HTTP is over.
    Upgraded,
    /// The connection is closed or failed.
    Closed,
}

impl fmt::Display for WriteState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::AwaitingResponse => "awaiting response",
            Self::SendingBody => "sending body",
            Self::Done => "done",
            Self::Upgraded => "upgraded",
            Self::Closed => "closed",
        })
    }
}

/// A command the connection refused: local misuse, nothing was queued.
///
/// The connection is unchanged and may be used again correctly.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The command does not fit the state of the sending half.
    WrongState {
        /// The method called, e.g. `"send_body"`.
        command: &'static str,
        /// The state it was called in.
        state: WriteState,
    },
    /// The command belongs to the other role (a client sending a response).
    WrongSide {
        /// The method called.
        command: &'static str,
    },
    /// A field name that is not a token.
    InvalidFieldName,
    /// A field value with CR, LF, NUL or another control character.
    InvalidFieldValue,
    /// A method that is not a token.
    InvalidMethod,
    /// An empty target, or one with whitespace, control or non-ASCII
    /// characters.
    InvalidTarget,
    /// A status outside 100..=999, or a 1xx where a final status is needed
    /// (or the reverse).
    InvalidStatus,
    /// A reason phrase with CR, LF or another control character.
    InvalidReason,
    /// An HTTP/1.1 request without exactly one `Host` field.
    MissingHost,
    /// Both `Content-Length` and `Transfer-Encoding`.
    AmbiguousFraming,
    /// A `Content-Length` that is not one 1*DIGIT value.
    InvalidContentLength,
    /// A `Transfer-Encoding` other than exactly `chunked`, or chunked to an
    /// HTTP/1.0 peer.
    UnsupportedTransferEncoding,
    /// A framing field (`Content-Length`, `Transfer-Encoding`) on a message
    /// that may not carry one (1xx, 204), or in trailers.
    ForbiddenField,
    /// Body data on a message that has no body (HEAD response, 1xx, 204,
    /// 304, a request without framing fields).
    BodyNotAllowed,
    /// More body data than the `Content-Length` announced.
    BodyTooLong,
    /// `finish` before the `Content-Length` announced was sent.
    BodyTooShort,
    /// Trailers on a message that is not chunked.
    TrailersNotAllowed,
    /// A `101` to a request that did not ask to upgrade, or before its body
    /// was complete.
    NotUpgradable,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongState { command, state } => {
                write!(f, "cannot {command} while the sending half is {state}")
            }
            Self::WrongSide { command } => write!(f, "{command} is for the other side"),
            Self::InvalidFieldName => f.write_str("invalid field name"),
            Self::InvalidFieldValue => f.write_str("invalid field value"),
            Self::InvalidMethod => f.write_str("invalid method"),
            Self::InvalidTarget => f.write_str("invalid request target"),
            Self::InvalidStatus => f.write_str("invalid status for this command"),
            Self::InvalidReason => f.write_str("invalid reason phrase"),
            Self::MissingHost => f.write_str("http/1.1 request without exactly one host"),
            Self::AmbiguousFraming => f.write_str("both content-length and transfer-encoding"),
            Self::InvalidContentLength => f.write_str("invalid content-length"),
            Self::UnsupportedTransferEncoding => {
                f.write_str("transfer-encoding other than chunked, or chunked to http/1.0")
            }
            Self::ForbiddenField => f.write_str("framing field not allowed on this message"),
            Self::BodyNotAllowed => f.write_str("this message has no body"),
            Self::BodyTooLong => f.write_str("body longer than its content-length"),
            Self::BodyTooShort => f.write_str("body shorter than its content-length"),
            Self::TrailersNotAllowed => f.write_str("trailers need a chunked body"),
            Self::NotUpgradable => f.write_str("the request did not ask to upgrade"),
        }
    }
}

impl std::error::Error for SendError {}
