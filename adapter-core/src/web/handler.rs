//! The application's side: [`WebHandler`] and the views its callbacks get.

use std::time::Instant;

use bytes::Bytes;
use proto_http::{Headers, Request, Response};
use proto_ws::MessageKind;
use proto_ws::handshake::ClientOffer;

use super::machine::WebError;
use super::outbound::{Deferred, Outbound};
use crate::protocol::{CloseReason, Conn};

/// The callbacks of an HTTP+WebSocket server, served by
/// [`WebService`](super::WebService).
///
/// Every callback runs on the connection's own task with its typed
/// [`Context`](WebHandler::Context) borrowed mutably and the connection's
/// id in [`Conn::id`]. The context is created by
/// [`on_connect`](WebHandler::on_connect) and dropped exactly once, right
/// after [`on_close`](WebHandler::on_close), whatever ended the connection.
///
/// An HTTP exchange: [`on_request`](WebHandler::on_request) with the head,
/// [`on_request_body`](WebHandler::on_request_body) per piece of body as it
/// arrives, [`on_request_end`](WebHandler::on_request_end). Answer with the
/// [`HttpConn`] at any of them (head, body pieces, finish), or later from
/// anywhere through [`HttpConn::defer`]. The next pipelined request waits
/// until the response is finished.
///
/// A WebSocket: a request with `Upgrade: websocket` is validated (RFC 6455
/// §4.2.1) and its `Origin` checked against the service's
/// [`OriginPolicy`](proto_core::OriginPolicy) first: a refusal is answered
/// (403 for the origin) and the connection closed, with no callback. Then
/// [`on_ws_open`](WebHandler::on_ws_open) accepts (maybe choosing a
/// subprotocol) or refuses; the `101` is sent and
/// [`on_message`](WebHandler::on_message) gets each complete message.
///
/// ```
/// use adapter_core::web::{HttpConn, Message, WebHandler, WsConn, WsOpen, Outbound};
/// use adapter_core::Conn;
/// use proto_http::Request;
/// use proto_ws::handshake::ClientOffer;
///
/// struct Hello;
/// impl WebHandler for Hello {
///     type Context = u32; // requests seen on this connection
///     fn on_connect(&self, _conn: &mut Conn<'_, Outbound>) -> u32 { 0 }
///     fn on_request_end(&self, seen: &mut u32, http: &mut HttpConn<'_, '_>) {
///         *seen += 1;
///         let body = format!("request {seen} for {}\n", http.request().target());
///         let _ = http.respond_with(200, "text/plain", body);
///     }
///     fn on_ws_open(&self, _: &mut u32, _: &mut Conn<'_, Outbound>, req: &Request, _: &ClientOffer) -> WsOpen {
///         if req.target() == "/echo" { WsOpen::accept() } else { WsOpen::reject(404) }
///     }
///     fn on_message(&self, _: &mut u32, ws: &mut WsConn<'_, '_>, message: Message) {
///         let _ = ws.send(&message);
///     }
/// }
/// ```
pub trait WebHandler: Send + Sync + 'static {
    /// The per-connection state, created at accept and dropped at close.
    type Context: Send + 'static;

    /// A connection was admitted. Call [`Conn::close`] to refuse it.
    fn on_connect(&self, conn: &mut Conn<'_, Outbound>) -> Self::Context;

    /// A request head arrived ([`HttpConn::request`]); its body follows.
    /// Default: nothing (answer at the end).
    fn on_request(&self, cx: &mut Self::Context, http: &mut HttpConn<'_, '_>) {
        let _ = (cx, http);
    }

    /// A piece of the request body, as it arrived. Default: discarded.
    fn on_request_body(&self, cx: &mut Self::Context, http: &mut HttpConn<'_, '_>, chunk: Bytes) {
        let _ = (cx, http, chunk);
    }

    /// The request, body included, is complete. Default: `404` unless a
    /// response was started.
    fn on_request_end(&self, cx: &mut Self::Context, http: &mut HttpConn<'_, '_>) {
        let _ = cx;
        if !http.is_responded() {
            let _ = http.respond_with(404, "text/plain", "not found\n");
        }
    }

    /// A valid WebSocket handshake with an allowed origin: accept it (maybe
    /// naming one of [`ClientOffer::protocols`]) or refuse it. Default:
    /// refused with 404. Join groups here with [`Conn::handle`]: messages
    /// sent to the connection before the `101` is out wait for it.
    fn on_ws_open(
        &self,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
        request: &Request,
        offer: &ClientOffer,
    ) -> WsOpen {
        let _ = (cx, conn, request, offer);
        WsOpen::reject(404)
    }

    /// A complete WebSocket message arrived. Default: ignored.
    fn on_message(&self, cx: &mut Self::Context, ws: &mut WsConn<'_, '_>, message: Message) {
        let _ = (cx, ws, message);
    }

    /// The connection closed; the context is dropped right after. `ws` is
    /// the WebSocket close code and reason received (1006 when the peer
    /// vanished without one), `None` for a connection that never upgraded.
    fn on_close(
        &self,
        cx: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
        reason: &CloseReason,
        ws: Option<&WsClosed>,
    ) {
        let _ = (cx, conn, reason, ws);
    }

    /// The peer broke HTTP or WebSocket rules; the answer (a 4xx, a close
    /// code) is already on its way and the connection closes.
    fn on_error(&self, cx: &mut Self::Context, conn: &mut Conn<'_, Outbound>, error: &WebError) {
        let _ = (cx, conn, error);
    }

    /// Bytes the context holds on the peer's behalf (e.g. a request body
    /// being collected), counted with the machines' buffers in the server's
    /// budget on buffered bytes
    /// ([`Builder::max_buffered_bytes`](crate::Builder::max_buffered_bytes)):
    /// report them, and a peer that makes you hold much is among the first
    /// closed when the server is over the budget. Called after every
    /// wake-up of the connection, so keep it cheap. Default: 0.
    fn buffered(&self, cx: &Self::Context) -> usize {
        let _ = cx;
        0
    }
}

/// The answer of [`WebHandler::on_ws_open`].
#[derive(Debug, Clone)]
pub enum WsOpen {
    /// Send the `101`, naming this subprotocol if any.
    Accept(Option<String>),
    /// Send this response instead, and close.
    Reject(Response),
}

impl WsOpen {
    /// Accepts with no subprotocol.
    #[must_use]
    pub fn accept() -> Self {
        Self::Accept(None)
    }

    /// Accepts, naming `protocol` (one the client offered).
    #[must_use]
    pub fn accept_protocol(protocol: impl Into<String>) -> Self {
        Self::Accept(Some(protocol.into()))
    }

    /// Refuses with an empty `status` response.
    #[must_use]
    pub fn reject(status: u16) -> Self {
        Self::Reject(full_response(status, "text/plain", 0))
    }
}

/// A complete WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Text, valid UTF-8 (checked on arrival, RFC 6455 §8.1).
    Text(Bytes),
    /// Binary.
    Binary(Bytes),
}

impl Message {
    /// The text of a text message.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(b) => std::str::from_utf8(b).ok(),
            Self::Binary(_) => None,
        }
    }

    /// The payload.
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        match self {
            Self::Text(b) | Self::Binary(b) => b,
        }
    }

    fn kind(&self) -> MessageKind {
        match self {
            Self::Text(_) => MessageKind::Text,
            Self::Binary(_) => MessageKind::Binary,
        }
    }
}

/// The WebSocket close code and reason received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsClosed {
    /// The peer's code; 1005 if its close frame had none, 1006 if it sent
    /// none.
    pub code: u16,
    /// The peer's reason, possibly empty.
    pub reason: String,
}

/// The current request of a connection, as the server tracks it.
#[derive(Debug, Default)]
pub(crate) struct Exchange {
    /// 1 for the connection's first request; 0 before any.
    pub(crate) id: u64,
    pub(crate) request: Option<Request>,
    pub(crate) started: bool,
    pub(crate) finished: bool,
    /// Answered `503` at the handler deadline: the handler hears no more.
    pub(crate) abandoned: bool,
    /// The server is stopping: responses say `Connection: close`.
    pub(crate) goodbye: bool,
}

/// An HTTP request as its callbacks see it: the head, and the commands to
/// answer it now or [`defer`](HttpConn::defer) the answer.
#[derive(Debug)]
pub struct HttpConn<'m, 'c> {
    pub(crate) machine: &'m mut proto_http::Connection,
    pub(crate) exchange: &'m mut Exchange,
    pub(crate) handler_deadline: &'m mut Option<Instant>,
    /// The connection: id, addresses, statistics, handle, close.
    pub conn: &'m mut Conn<'c, Outbound>,
}

impl HttpConn<'_, '_> {
    /// The request head.
    ///
    /// # Panics
    ///
    /// Never: an `HttpConn` exists only for a received request.
    #[must_use]
    pub fn request(&self) -> &Request {
        self.exchange
            .request
            .as_ref()
            .expect("a request is current")
    }

    /// Which request of the connection this is (1 for the first).
    #[must_use]
    pub fn request_id(&self) -> u64 {
        self.exchange.id
    }

    /// True once a response head was sent.
    #[must_use]
    pub fn is_responded(&self) -> bool {
        self.exchange.started
    }

    /// Sends the response head. Framing follows its own fields (a
    /// `Content-Length`, or chunked when it names none).
    ///
    /// # Errors
    ///
    /// [`proto_http::SendError`] when the head is invalid or one was sent.
    pub fn respond(&mut self, response: Response) -> Result<(), proto_http::SendError> {
        respond(self.machine, self.exchange, response)
    }

    /// Sends a piece of the body.
    ///
    /// # Errors
    ///
    /// [`proto_http::SendError`] when no body is open or it is too long.
    pub fn send_body(&mut self, data: impl Into<Bytes>) -> Result<(), proto_http::SendError> {
        self.machine.send_body(data)
    }

    /// Ends the response.
    ///
    /// # Errors
    ///
    /// [`proto_http::SendError`] when no body is open or it is too short.
    pub fn finish(&mut self) -> Result<(), proto_http::SendError> {
        finish(self.machine, self.exchange, self.handler_deadline)
    }

    /// Sends a whole response: `status`, `Content-Type` and a
    /// `Content-Length` framed `body`, and ends it. A HEAD request, or a
    /// 304, gets the length without the body.
    ///
    /// # Errors
    ///
    /// As [`respond`](Self::respond), and for a status that carries no body
    /// (1xx, 204) or a content type that is not a field value
    /// ([`proto_http::Connection::send_full_response`]). Nothing is sent.
    pub fn respond_with(
        &mut self,
        status: u16,
        content_type: &str,
        body: impl Into<Bytes>,
    ) -> Result<(), proto_http::SendError> {
        respond_whole(
            self.machine,
            self.exchange,
            self.handler_deadline,
            (status, content_type, body.into()),
            false,
        )
    }

    /// A [`Deferred`] to answer this request later from anywhere.
    pub fn defer(&mut self) -> Deferred {
        Deferred {
            handle: self.conn.handle(),
            request: self.exchange.id,
        }
    }
}

/// Sends `response`, adding `Connection: close` to it when this exchange
/// is the connection's last.
pub(crate) fn respond(
    machine: &mut proto_http::Connection,
    exchange: &mut Exchange,
    mut response: Response,
) -> Result<(), proto_http::SendError> {
    if exchange.goodbye && response.status() != 101 {
        response.headers_mut().insert("Connection", "close");
    }
    machine.send_response(&response)?;
    exchange.started = true;
    Ok(())
}

/// Sends a whole response, `(status, content type, body)`, and ends the
/// exchange: the head is written straight into the connection's output
/// ([`proto_http::Connection::send_full_response`]), with `Connection:
/// close` when `close` is set or this exchange is the connection's last.
pub(crate) fn respond_whole(
    machine: &mut proto_http::Connection,
    exchange: &mut Exchange,
    handler_deadline: &mut Option<Instant>,
    (status, content_type, body): (u16, &str, Bytes),
    close: bool,
) -> Result<(), proto_http::SendError> {
    machine.send_full_response(status, content_type, body, close || exchange.goodbye)?;
    exchange.started = true;
    exchange.finished = true;
    *handler_deadline = None;
    Ok(())
}

pub(crate) fn finish(
    machine: &mut proto_http::Connection,
    exchange: &mut Exchange,
    handler_deadline: &mut Option<Instant>,
) -> Result<(), proto_http::SendError> {
    machine.finish()?;
    exchange.finished = true;
    *handler_deadline = None;
    Ok(())
}

/// A response head with `Content-Type` and `Content-Length`, built with
/// its field storage sized exactly (two allocations in all).
pub(crate) fn full_response(status: u16, content_type: &str, len: usize) -> Response {
    let mut response = Response::new(status);
    content_fields(response.headers_mut(), content_type, len);
    response
}

/// Appends `Content-Type` and `Content-Length` to `headers`, sized exactly
/// when they have no room yet.
fn content_fields(headers: &mut Headers, content_type: &str, len: usize) {
    const TYPE: &str = "Content-Type";
    const LENGTH: &str = "Content-Length";
    let mut digits = [0u8; 20];
    let len = decimal(len, &mut digits);
    if headers.is_empty() {
        headers.reserve(
            2,
            TYPE.len() + content_type.len() + LENGTH.len() + len.len(),
        );
    }
    headers.append(TYPE, content_type).append(LENGTH, len);
}

/// `n` in decimal, written at the end of `buf` (20 digits hold any 64-bit
/// `usize`).
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}

/// A WebSocket as [`WebHandler::on_message`] sees it.
#[derive(Debug)]
pub struct WsConn<'m, 'c> {
    pub(crate) machine: &'m mut proto_ws::Connection,
    /// The connection: id, addresses, statistics, handle, close.
    pub conn: &'m mut Conn<'c, Outbound>,
}

impl WsConn<'_, '_> {
    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// [`proto_ws::SendError`] when closing or the send buffer is full.
    pub fn send_text(&mut self, text: &str) -> Result<(), proto_ws::SendError> {
        self.machine.send_text(text)?;
        self.conn.stats().record_ws_message_out();
        Ok(())
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), proto_ws::SendError> {
        self.machine.send_binary(data)?;
        self.conn.stats().record_ws_message_out();
        Ok(())
    }

    /// Sends `message` as one message of its kind (an echo needs no
    /// second UTF-8 check).
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send(&mut self, message: &Message) -> Result<(), proto_ws::SendError> {
        self.machine
            .send_data(message.kind(), message.bytes(), true)?;
        self.conn.stats().record_ws_message_out();
        Ok(())
    }

    /// Starts the close handshake.
    ///
    /// # Errors
    ///
    /// [`proto_ws::SendError`] for a code that may not be sent, a reason over
    /// 123 bytes, or a connection already closing.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), proto_ws::SendError> {
        let now = self.conn.now();
        self.machine.close(now, code, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_every_width() {
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 13, 99, 100, 65_535, 1_000_000] {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
        let max = usize::MAX;
        assert_eq!(decimal(max, &mut buf), max.to_string().as_bytes());
    }

    #[test]
    fn full_response_has_type_and_length() {
        let response = full_response(200, "text/plain", 1234);
        assert_eq!(response.status(), 200);
        let fields: Vec<_> = response.headers().iter().collect();
        assert_eq!(
            fields,
            [
                (&b"Content-Type"[..], &b"text/plain"[..]),
                (&b"Content-Length"[..], &b"1234"[..]),
            ]
        );
    }
}
