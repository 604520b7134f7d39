//! [`Error`]: everything a client call can fail with. `std::io::Error`
//! appears here, in the adapter, and never in a proto crate.

use std::fmt;
use std::io;

use proto_core::Timer;
use proto_ws::handshake::ResponseError;

/// Why a client operation failed.
///
/// Peer violations keep the proto crates' own types ([`Error::Http`],
/// [`Error::Ws`], [`Error::Handshake`]); local misuse is
/// [`Error::HttpSend`], [`Error::WsSend`], [`Error::Config`] and
/// [`Error::Url`]. A normal WebSocket close is not an error: it arrives as
/// [`Message::Close`](crate::client::Message::Close).
///
/// ```
/// use adapter_core::client::Error;
/// use proto_core::Timer;
/// let e = Error::TimedOut(Timer::Connect);
/// assert_eq!(e.to_string(), "timed out: connect");
/// assert!(e.is_timeout());
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The socket failed (connect refused, reset, ...).
    Io(io::Error),
    /// The server broke HTTP/1.1 or a limit of
    /// [`ClientConfig::http`](crate::client::ClientConfig::http) (a response
    /// body over `max_body_size`, a head too large...).
    Http(proto_http::Error),
    /// The server broke RFC 6455 or a limit of
    /// [`ClientConfig::ws`](crate::client::ClientConfig::ws); the close frame
    /// with [`proto_ws::Error::close_code`] was queued and is sent.
    Ws(proto_ws::Error),
    /// The server's answer to the WebSocket opening handshake is not an
    /// acceptance (RFC 6455 §4.1): wrong status, no upgrade, wrong
    /// `Sec-WebSocket-Accept`, unoffered subprotocol or extension.
    Handshake(ResponseError),
    /// A deadline expired: [`Timer::Connect`] (the client's connect
    /// timeout), [`Timer::Handshake`] (no complete response head in time),
    /// [`Timer::WriteStall`] (the server took no byte for the write
    /// timeout), or a protocol deadline of the machines (`Idle`, `Ping`,
    /// `CloseHandshake`).
    TimedOut(Timer),
    /// The connection is closed: the server closed it before answering, or
    /// an earlier failure or cancelled request left it unusable.
    Closed,
    /// A request the HTTP machine refused to send (local misuse).
    HttpSend(proto_http::SendError),
    /// A WebSocket command the machine refused (local misuse), such as a
    /// send after the close started or an invalid close code.
    WsSend(proto_ws::SendError),
    /// A message sent in pieces broke the fragmentation rules (RFC 6455
    /// §5.4) or, for text, UTF-8 (local misuse); nothing was sent.
    Fragment(FragmentError),
    /// A configuration the machines refuse.
    Config(ConfigError),
    /// A URL this client cannot use.
    Url(UrlError),
}

impl Error {
    /// True for [`Error::TimedOut`].
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::TimedOut(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::Http(e) => write!(f, "http: {e}"),
            Self::Ws(e) => write!(f, "websocket: {e}"),
            Self::Handshake(e) => write!(f, "handshake refused: {e}"),
            Self::TimedOut(timer) => write!(f, "timed out: {timer}"),
            Self::Closed => f.write_str("connection closed"),
            Self::HttpSend(e) => write!(f, "cannot send request: {e}"),
            Self::WsSend(e) => write!(f, "cannot send: {e}"),
            Self::Fragment(e) => write!(f, "cannot send fragment: {e}"),
            Self::Config(e) => write!(f, "invalid configuration: {e}"),
            Self::Url(e) => write!(f, "invalid url: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Http(e) => Some(e),
            Self::Ws(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::HttpSend(e) => Some(e),
            Self::WsSend(e) => Some(e),
            Self::Fragment(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Url(e) => Some(e),
            Self::TimedOut(_) | Self::Closed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Why [`WsClient::send_fragment`](crate::client::WsClient::send_fragment)
/// (or a whole message while a fragmented one is open) was refused. Nothing
/// was sent and the connection is unchanged.
///
/// ```
/// use adapter_core::client::{FragmentError, MessageKind};
/// let e = FragmentError::MessageOpen(MessageKind::Text);
/// assert_eq!(e.to_string(), "a text message is still open");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentError {
    /// A continuation with no message open: a message starts with a text
    /// or binary fragment (RFC 6455 §5.4).
    NoMessageOpen,
    /// A new message (a text or binary first fragment, or a whole message)
    /// while a message of this kind is still open: end it first with a
    /// continuation that has `fin` set (RFC 6455 §5.4).
    MessageOpen(proto_ws::MessageKind),
    /// The pieces of a text message are not UTF-8 (RFC 6455 §5.6, §8.1): a
    /// piece may end inside a code point, but no byte may be invalid and
    /// the final piece must complete the last code point.
    InvalidUtf8,
}

impl fmt::Display for FragmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoMessageOpen => f.write_str("continuation with no message open"),
            Self::MessageOpen(proto_ws::MessageKind::Text) => {
                f.write_str("a text message is still open")
            }
            Self::MessageOpen(proto_ws::MessageKind::Binary) => {
                f.write_str("a binary message is still open")
            }
            Self::InvalidUtf8 => f.write_str("text is not utf-8"),
        }
    }
}

impl std::error::Error for FragmentError {}

/// A machine configuration that cannot work.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// From [`proto_http::Connection::new`].
    Http(proto_http::ConfigError),
    /// From [`proto_ws::Connection::new`].
    Ws(proto_ws::ConfigError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(e) => write!(f, "http: {e}"),
            Self::Ws(e) => write!(f, "websocket: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a URL was refused by [`Url::parse`](crate::client::Url::parse) or by
/// the call it was given to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// Not `ws://` or `http://` (TLS is not offered), or the wrong one of
    /// the two for the call.
    UnsupportedScheme,
    /// An empty host, user information, or a malformed IP literal.
    InvalidHost,
    /// A port that is not a number in 1..=65535.
    InvalidPort,
    /// A path with spaces, control characters or a fragment.
    InvalidTarget,
    /// The host is a name: resolve it yourself and pass the address (the
    /// clients do no name resolution).
    NeedsAddress,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnsupportedScheme => "unsupported scheme",
            Self::InvalidHost => "invalid host",
            Self::InvalidPort => "invalid port",
            Self::InvalidTarget => "invalid path",
            Self::NeedsAddress => "host is a name: pass a resolved address",
        })
    }
}

impl std::error::Error for UrlError {}
