//! [`WebMachine`]: one connection's state machine, HTTP/1.1 until a
//! WebSocket upgrade, then RFC 6455; the driver sees one [`Drive`].

use std::fmt;
use std::time::Instant;

use proto_core::{Drive, ErrorKind, PeerError, Transmit, earlier};

/// The machine of one HTTP+WebSocket connection: HTTP/1.1 until the `101`
/// is sent, then WebSocket. It implements [`Drive`] by delegation, so the
/// driver serves both without knowing which is current.
///
/// ```
/// use adapter_core::web::WebMachine;
/// use proto_core::Drive;
/// let machine = WebMachine::http(proto_http::Config::default())?;
/// assert!(machine.is_http() && !machine.is_closed());
/// # Ok::<(), proto_http::ConfigError>(())
/// ```
#[derive(Debug)]
pub enum WebMachine {
    /// HTTP/1.1, with the per-request handler deadline.
    Http(Box<HttpMachine>),
    /// WebSocket, after the upgrade.
    Ws(Box<WsMachine>),
}

/// A server-side [`proto_ws::Connection`] plus the bytes that followed the
/// upgrade request and that it has not taken yet: they go in before any
/// newer input.
#[derive(Debug)]
pub struct WsMachine {
    pub(crate) conn: proto_ws::Connection,
    pub(crate) trailing: bytes::Bytes,
    /// What the HTTP machine still had to send (the `101`), sent first.
    pub(crate) handover: Vec<u8>,
}

impl WsMachine {
    /// The WebSocket connection.
    #[must_use]
    pub fn connection(&self) -> &proto_ws::Connection {
        &self.conn
    }

    /// Feeds the bytes left from the upgrade; true once none are left.
    pub(crate) fn feed_trailing(&mut self, now: Instant) -> Result<bool, proto_ws::Error> {
        if !self.trailing.is_empty() {
            let n = self.conn.handle_input(now, &self.trailing)?;
            let _ = self.trailing.split_to(n);
        }
        Ok(self.trailing.is_empty())
    }
}

/// A server-side [`proto_http::Connection`] plus the handler deadline of
/// its current request, which the driver's single timer must also watch.
#[derive(Debug)]
pub struct HttpMachine {
    pub(crate) conn: proto_http::Connection,
    pub(crate) handler_deadline: Option<Instant>,
    pub(crate) handler_expired: bool,
}

impl HttpMachine {
    /// The HTTP connection.
    #[must_use]
    pub fn connection(&self) -> &proto_http::Connection {
        &self.conn
    }
}

impl WebMachine {
    /// A new server connection, HTTP first.
    ///
    /// # Errors
    ///
    /// When `config` is inconsistent.
    pub fn http(config: proto_http::Config) -> Result<Self, proto_http::ConfigError> {
        let conn = proto_http::Connection::new(proto_core::Side::Server, config)?;
        Ok(Self::Http(Box::new(HttpMachine {
            conn,
            handler_deadline: None,
            handler_expired: false,
        })))
    }

    /// True before the upgrade.
    #[must_use]
    pub fn is_http(&self) -> bool {
        matches!(self, Self::Http(_))
    }

    /// True after the upgrade.
    #[must_use]
    pub fn is_ws(&self) -> bool {
        matches!(self, Self::Ws(_))
    }
}

impl Drive for WebMachine {
    type Error = WebError;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<usize, WebError> {
        match self {
            Self::Http(h) => h.conn.handle_input(now, bytes).map_err(WebError::Http),
            Self::Ws(ws) => {
                if !ws.feed_trailing(now).map_err(WebError::Ws)? {
                    return Ok(0);
                }
                ws.conn.handle_input(now, bytes).map_err(WebError::Ws)
            }
        }
    }

    fn handle_eof(&mut self, now: Instant) {
        match self {
            Self::Http(h) => h.conn.handle_eof(now),
            Self::Ws(ws) => ws.conn.handle_eof(now),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::Http(h) => {
                if h.handler_deadline.is_some_and(|at| now >= at) {
                    h.handler_deadline = None;
                    h.handler_expired = true;
                }
                h.conn.handle_timeout(now);
            }
            Self::Ws(ws) => ws.conn.handle_timeout(now),
        }
    }

    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<Transmit> {
        match self {
            Self::Http(h) => h.conn.poll_transmit(now, out),
            Self::Ws(ws) => {
                if ws.handover.is_empty() {
                    return ws.conn.poll_transmit(now, out);
                }
                let len = ws.handover.len();
                out.append(&mut ws.handover);
                ws.handover = Vec::new();
                Some(Transmit::Data { len })
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Self::Http(h) => earlier(h.conn.poll_timeout(), h.handler_deadline),
            Self::Ws(ws) => ws.conn.poll_timeout(),
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            Self::Http(h) => h.conn.is_closed(),
            Self::Ws(ws) => ws.handover.is_empty() && ws.conn.is_closed(),
        }
    }
}

/// A peer violation on a [`WebMachine`]: its farewell (an HTTP status or a
/// WebSocket close code) is already queued.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebError {
    /// The HTTP/1.1 rules or limits; answered with
    /// [`status_hint`](proto_http::Error::status_hint).
    Http(proto_http::Error),
    /// The RFC 6455 rules or limits; closed with
    /// [`close_code`](proto_ws::Error::close_code).
    Ws(proto_ws::Error),
}

impl fmt::Display for WebError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(e) => e.fmt(f),
            Self::Ws(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WebError {}

impl PeerError for WebError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Http(e) => e.kind(),
            Self::Ws(e) => e.kind(),
        }
    }
}
