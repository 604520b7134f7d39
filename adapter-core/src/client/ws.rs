//! [`WsClient`]: a WebSocket client connection.

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use proto_http::Event as HttpEvent;
use proto_ws::handshake::{ClientHandshake, Negotiated};
use proto_ws::{Event, MessageKind, SendError};

use super::error::Error;
use super::io::{MAX_ROUNDS, Transport};
use crate::runtime::Runtime;

/// What [`WsClient::recv`] delivers.
///
/// Pongs and the close echo are sent by the connection itself; pings and
/// pongs are reported for information only.
///
/// ```
/// use adapter_core::client::Message;
/// let message = Message::Text("hi".into());
/// assert_eq!(message.as_text(), Some("hi"));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A complete text message, always valid UTF-8 (checked as it arrived;
    /// [`as_text`](Message::as_text) borrows it as `&str`).
    Text(Bytes),
    /// A complete binary message.
    Binary(Bytes),
    /// With [`proto_ws::Config::streaming`] on, the next piece of a message;
    /// `fin` marks its last piece.
    Data {
        /// Text or binary, fixed by the message's first frame.
        kind: MessageKind,
        /// The piece.
        bytes: Bytes,
        /// True on the last piece.
        fin: bool,
    },
    /// A ping arrived; its pong is already queued.
    Ping(Bytes),
    /// A pong arrived.
    Pong(Bytes),
    /// The connection closed: the server's close code and reason (1005 when
    /// its close frame had none, 1006 when TCP closed without one). The
    /// next [`recv`](WsClient::recv) returns `None`.
    Close {
        /// The close code received (RFC 6455 §7.4).
        code: u16,
        /// The close reason received, possibly empty.
        reason: String,
    },
}

impl Message {
    /// The text of a [`Message::Text`].
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }
}

/// One WebSocket client connection, opened by
/// [`Connector::websocket`](super::Connector::websocket).
///
/// The connection makes progress (reads, timers, automatic pongs and close
/// echo, writes) while one of its async methods is awaited; no task is
/// spawned. Keep a [`recv`](Self::recv) running, or call it regularly: it
/// is cancel-safe, so it can sit in a `select!` with other work and be
/// dropped whenever another branch wins.
///
/// Dropping the client closes the socket without a close handshake; call
/// [`close`](Self::close) and [`recv`](Self::recv) until `None` for a clean
/// end.
///
/// ```no_run
/// use adapter_core::client::{Connector, Message};
/// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
/// let mut ws = Connector::new(rt).websocket("ws://127.0.0.1:8080/echo").await?;
/// ws.send_text("ping?").await?;
/// if let Some(Ok(Message::Text(reply))) = ws.recv().await {
///     assert_eq!(&reply[..], b"ping?");
/// }
/// ws.close(1000, "done").await?;
/// while let Some(message) = ws.recv().await {
///     let _ = message?; // the server's close arrives as Message::Close
/// }
/// # Ok(()) }
/// ```
pub struct WsClient<R: Runtime> {
    io: Transport<R>,
    ws: proto_ws::Connection,
    negotiated: Negotiated,
    /// A failure to report from the next `recv`, after the events queued
    /// before it.
    error: Option<Error>,
}

impl<R: Runtime> fmt::Debug for WsClient<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsClient")
            .field("state", &self.ws.state())
            .field("protocol", &self.negotiated.protocol())
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

/// Which command a send future queues.
#[derive(Clone, Copy)]
enum Command<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    Ping(&'a [u8]),
    Close(u16, &'a str),
    Flush,
}

impl<R: Runtime> WsClient<R> {
    pub(super) fn new(io: Transport<R>, ws: proto_ws::Connection, negotiated: Negotiated) -> Self {
        Self {
            io,
            ws,
            negotiated,
            error: None,
        }
    }

    /// The subprotocol the server chose from
    /// [`ClientConfig::protocols`](super::ClientConfig::protocols), if any.
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        self.negotiated.protocol()
    }

    /// Where the WebSocket connection stands.
    #[must_use]
    pub fn state(&self) -> proto_ws::State {
        self.ws.state()
    }

    /// Sends a text message: waits while the send buffer
    /// ([`proto_ws::Config::max_send_buffer_size`]) is full, queues the
    /// message, and waits until the socket has taken it.
    ///
    /// # Errors
    ///
    /// [`Error::WsSend`] when the connection is no longer open (a close
    /// started, a failure) or the message can never fit the send buffer;
    /// [`Error::Io`] or [`Error::TimedOut`]`(WriteStall)` when the socket
    /// failed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the message is queued sends nothing;
    /// after, the message is still sent whole, by whichever call drives the
    /// connection next.
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// ws.send_text("hello").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.command(Command::Text(text)).await
    }

    /// Sends a binary message; as [`send_text`](Self::send_text).
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    ///
    /// # Cancel safety
    ///
    /// As [`send_text`](Self::send_text).
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// ws.send_binary(&[0xde, 0xad]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.command(Command::Binary(data)).await
    }

    /// Sends a ping (at most 125 bytes); its pong arrives as
    /// [`Message::Pong`].
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text); [`Error::WsSend`] with
    /// [`SendError::ControlTooLong`] over 125 bytes.
    ///
    /// # Cancel safety
    ///
    /// As [`send_text`](Self::send_text).
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// ws.send_ping(b"are you there").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.command(Command::Ping(payload)).await
    }

    /// Starts the close handshake (RFC 6455 §7.1.2) with `code` and
    /// `reason`, and waits until the socket has taken the close frame.
    ///
    /// Messages the server sent meanwhile still arrive through
    /// [`recv`](Self::recv), then its close as [`Message::Close`], then
    /// `None` once the server has closed TCP (or after
    /// [`proto_ws::Config::close_timeout`]).
    ///
    /// # Errors
    ///
    /// [`Error::WsSend`] when the connection is not open, for a code that
    /// may not be sent, or a reason over 123 bytes; [`Error::Io`].
    ///
    /// # Cancel safety
    ///
    /// As [`send_text`](Self::send_text).
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// ws.close(1000, "bye").await?;
    /// while let Some(message) = ws.recv().await {
    ///     let _ = message?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        self.command(Command::Close(code, reason)).await
    }

    /// Waits until everything queued has been taken by the socket.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] or [`Error::TimedOut`]`(WriteStall)` when the socket
    /// failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: queued output stays queued.
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// ws.flush().await?;
    /// # Ok(()) }
    /// ```
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.command(Command::Flush).await
    }

    /// The next message, or `None` once the connection is finished.
    ///
    /// After a failure (the server broke the protocol, a deadline fired,
    /// the socket failed) the messages received before it come first, then
    /// the error once, then `None`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing. Partial frames and
    /// messages live in the WebSocket machine, not in the future, and a
    /// message is taken from the machine only when it is returned; the next
    /// `recv` gets it whole.
    ///
    /// ```no_run
    /// use adapter_core::client::Message;
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// while let Some(message) = ws.recv().await {
    ///     match message? {
    ///         Message::Text(text) => println!("{}", String::from_utf8_lossy(&text)),
    ///         Message::Binary(data) => println!("{} bytes", data.len()),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll method, for `Stream` implementations.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        for _ in 0..MAX_ROUNDS {
            if let Some(event) = self.ws.poll_event() {
                return Poll::Ready(Some(match event {
                    Event::Text(text) => Ok(Message::Text(text)),
                    Event::Binary(data) => Ok(Message::Binary(data)),
                    Event::Data { kind, bytes, fin } => Ok(Message::Data { kind, bytes, fin }),
                    Event::Ping(payload) => Ok(Message::Ping(payload)),
                    Event::Pong(payload) => Ok(Message::Pong(payload)),
                    Event::Closed { code, reason } => Ok(Message::Close { code, reason }),
                    Event::TimedOut(timer) => Err(Error::TimedOut(timer)),
                    // A variant added to proto-ws later: nothing to deliver.
                    _ => continue,
                }));
            }
            if let Some(error) = self.error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            if self.is_finished() {
                return Poll::Ready(None);
            }
            match self.round(cx) {
                Ok(true) => {}
                Ok(false) => return Poll::Pending,
                Err(error) => self.error = Some(error),
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Nothing more will happen: the machine is done and its output written,
    /// or the socket is dead.
    fn is_finished(&self) -> bool {
        self.io.is_dead() || (self.ws.is_closed() && self.io.is_flushed())
    }

    /// One I/O round; a fault becomes the error to report.
    fn round(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        self.io
            .poll_round(cx, &mut self.ws)
            .map_err(|fault| fault.into_error(Error::Ws))
    }

    async fn command(&mut self, command: Command<'_>) -> Result<(), Error> {
        let mut queued = matches!(command, Command::Flush);
        poll_fn(|cx| {
            for _ in 0..MAX_ROUNDS {
                if !queued {
                    match self.try_queue(command) {
                        Ok(()) => queued = true,
                        // Wait for the buffer to drain; a message that can
                        // never fit is refused below.
                        Err(SendError::Backpressure)
                            if self.ws.buffered_output() > 0 && !self.io.is_dead() => {}
                        Err(_) if self.io.is_dead() => {
                            return Poll::Ready(Err(self.error.take().unwrap_or(Error::Closed)));
                        }
                        Err(e) => return Poll::Ready(Err(Error::WsSend(e))),
                    }
                }
                if queued && self.ws.buffered_output() == 0 && self.io.backlog() == 0 {
                    return Poll::Ready(Ok(()));
                }
                if self.io.is_dead() {
                    return Poll::Ready(Err(self.error.take().unwrap_or(Error::Closed)));
                }
                match self.round(cx) {
                    Ok(true) => {}
                    Ok(false) => return Poll::Pending,
                    // The socket is gone: report it here, once.
                    Err(e @ (Error::Io(_) | Error::TimedOut(_))) => return Poll::Ready(Err(e)),
                    // A peer violation: `recv` reports it; the farewell is
                    // still written.
                    Err(e) => self.error = Some(e),
                }
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    fn try_queue(&mut self, command: Command<'_>) -> Result<(), SendError> {
        match command {
            Command::Text(text) => self.ws.send_text(text),
            Command::Binary(data) => self.ws.send_binary(data),
            Command::Ping(payload) => self.ws.send_ping(payload),
            Command::Close(code, reason) => self.ws.close(Instant::now(), code, reason),
            Command::Flush => Ok(()),
        }
    }
}

/// Drives the HTTP machine through the opening handshake: the `101` is
/// validated as soon as its head arrives; returns what was agreed and the
/// bytes that followed the head.
pub(super) async fn handshake<R: Runtime>(
    io: &mut Transport<R>,
    http: &mut proto_http::Connection,
    handshake: &ClientHandshake,
) -> Result<(Negotiated, Bytes), Error> {
    let mut negotiated = None;
    poll_fn(|cx| {
        for _ in 0..MAX_ROUNDS {
            while let Some(event) = http.poll_event() {
                match event {
                    HttpEvent::Response(response) => match handshake.validate_response(&response) {
                        Ok(agreed) => negotiated = Some(agreed),
                        Err(e) => return Poll::Ready(Err(Error::Handshake(e))),
                    },
                    HttpEvent::Upgraded { trailing } => {
                        return Poll::Ready(match negotiated.take() {
                            Some(agreed) => Ok((agreed, trailing)),
                            None => Err(Error::Closed),
                        });
                    }
                    HttpEvent::TimedOut(timer) => return Poll::Ready(Err(Error::TimedOut(timer))),
                    HttpEvent::Closed => return Poll::Ready(Err(Error::Closed)),
                    // 1xx heads before the answer.
                    _ => {}
                }
            }
            if io.is_dead() || http.is_closed() {
                return Poll::Ready(Err(Error::Closed));
            }
            match io.poll_round(cx, http) {
                Ok(true) => {}
                Ok(false) => return Poll::Pending,
                Err(fault) => return Poll::Ready(Err(fault.into_error(Error::Http))),
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
