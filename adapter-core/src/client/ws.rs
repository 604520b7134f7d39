//! [`WsClient`]: a WebSocket client connection.

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use proto_http::Event as HttpEvent;
use proto_ws::handshake::{ClientHandshake, Negotiated};
use proto_ws::{Event, MessageKind, SendError};

use super::error::{Error, FragmentError};
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

/// Which frame of a message sent in pieces
/// ([`WsClient::send_fragment`]): the first names the message's kind (a
/// text or binary opcode), every later one is a continuation (opcode 0),
/// and the message ends with the piece sent with `fin` set (RFC 6455
/// §5.4).
///
/// ```
/// use adapter_core::client::Fragment;
/// assert_ne!(Fragment::Text, Fragment::Continuation);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fragment {
    /// The first piece of a text message (opcode 0x1).
    Text,
    /// The first piece of a binary message (opcode 0x2).
    Binary,
    /// A later piece of the open message (opcode 0x0).
    Continuation,
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
    /// The message being sent in pieces, if one is open.
    sending: Option<Sending>,
}

/// A message open in [`WsClient::send_fragment`].
#[derive(Debug, Clone, Copy)]
struct Sending {
    kind: MessageKind,
    /// For text: the start of a code point the last piece left unfinished.
    tail: Utf8Tail,
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
    Pong(&'a [u8]),
    /// A piece of a message, checked against the open message already:
    /// what is open once it is queued.
    Piece {
        kind: MessageKind,
        data: &'a [u8],
        fin: bool,
        then: Option<Sending>,
    },
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
            sending: None,
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
    /// [`Error::Fragment`]`(`[`MessageOpen`](FragmentError::MessageOpen)`)`
    /// while a message sent with [`send_fragment`](Self::send_fragment) is
    /// still open; [`Error::Io`] or [`Error::TimedOut`]`(WriteStall)` when
    /// the socket failed.
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

    /// Sends an unsolicited pong (RFC 6455 §5.5.3, at most 125 bytes): a
    /// one-way heartbeat that the server does not answer. Pongs to the
    /// server's pings are sent automatically; this is not needed for them.
    ///
    /// # Errors
    ///
    /// As [`send_ping`](Self::send_ping).
    ///
    /// # Cancel safety
    ///
    /// As [`send_text`](Self::send_text).
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// ws.send_pong(b"still here").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.command(Command::Pong(payload)).await
    }

    /// Sends one piece of a message sent in pieces (RFC 6455 §5.4): the
    /// first piece is [`Fragment::Text`] or [`Fragment::Binary`], every
    /// later one [`Fragment::Continuation`], and `fin` on a piece ends the
    /// message (a first piece with `fin` set is a whole message). Like
    /// [`send_text`](Self::send_text), it waits while the send buffer is
    /// full and until the socket has taken the piece.
    ///
    /// Pings, pongs and a close may be sent between pieces; other messages
    /// must wait until the open one is ended. A text message's pieces must
    /// add up to UTF-8: a piece may end inside a code point, the final one
    /// may not, and a piece is refused at the first invalid byte (the
    /// server would fail the connection with 1007). With
    /// [`proto_ws::Config::send_fragment_size`] set, a piece longer than it
    /// goes out as several frames.
    ///
    /// # Errors
    ///
    /// [`Error::Fragment`] with nothing sent:
    /// [`NoMessageOpen`](FragmentError::NoMessageOpen) for a continuation
    /// with no message open,
    /// [`MessageOpen`](FragmentError::MessageOpen) for a first piece while
    /// a message is open, [`InvalidUtf8`](FragmentError::InvalidUtf8) for a
    /// text piece that breaks UTF-8. Otherwise as
    /// [`send_text`](Self::send_text).
    ///
    /// # Cancel safety
    ///
    /// As [`send_text`](Self::send_text): a piece is queued whole or not at
    /// all, and the message is open (or ended) exactly as far as the pieces
    /// queued say.
    ///
    /// ```no_run
    /// use adapter_core::client::Fragment;
    /// # async fn f<R: adapter_core::Runtime>(ws: &mut adapter_core::client::WsClient<R>) -> Result<(), adapter_core::client::Error> {
    /// // "héllo" in three frames; the first ends inside "é".
    /// ws.send_fragment(Fragment::Text, b"h\xc3", false).await?;
    /// ws.send_ping(b"between pieces").await?;
    /// ws.send_fragment(Fragment::Continuation, b"\xa9ll", false).await?;
    /// ws.send_fragment(Fragment::Continuation, b"o", true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_fragment(
        &mut self,
        fragment: Fragment,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        let (kind, tail) = match (fragment, self.sending) {
            (Fragment::Continuation, None) => {
                return Err(Error::Fragment(FragmentError::NoMessageOpen));
            }
            (Fragment::Continuation, Some(open)) => (open.kind, open.tail),
            (Fragment::Text | Fragment::Binary, Some(open)) => {
                return Err(Error::Fragment(FragmentError::MessageOpen(open.kind)));
            }
            (Fragment::Text, None) => (MessageKind::Text, Utf8Tail::default()),
            (Fragment::Binary, None) => (MessageKind::Binary, Utf8Tail::default()),
        };
        let tail = match kind {
            MessageKind::Text => tail
                .after(data)
                .filter(|tail| !fin || tail.is_empty())
                .ok_or(Error::Fragment(FragmentError::InvalidUtf8))?,
            MessageKind::Binary => tail,
        };
        let then = (!fin).then_some(Sending { kind, tail });
        self.command(Command::Piece {
            kind,
            data,
            fin,
            then,
        })
        .await
    }

    /// The kind of the message open in
    /// [`send_fragment`](Self::send_fragment), if one is: its next piece
    /// must be a [`Fragment::Continuation`].
    #[must_use]
    pub fn open_message(&self) -> Option<MessageKind> {
        self.sending.map(|open| open.kind)
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
        if let (Command::Text(_) | Command::Binary(_), Some(open)) = (command, self.sending) {
            return Err(Error::Fragment(FragmentError::MessageOpen(open.kind)));
        }
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
            Command::Pong(payload) => self.ws.send_pong(payload),
            Command::Piece {
                kind,
                data,
                fin,
                then,
            } => {
                self.ws.send_data(kind, data, fin)?;
                self.sending = then;
                Ok(())
            }
            Command::Close(code, reason) => self.ws.close(Instant::now(), code, reason),
            Command::Flush => Ok(()),
        }
    }
}

/// Where a text message sent in pieces stands in UTF-8: the bytes of a
/// code point the last piece began and did not finish (at most 3).
#[derive(Debug, Clone, Copy, Default)]
struct Utf8Tail {
    bytes: [u8; 4],
    len: usize,
}

impl Utf8Tail {
    fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The tail once `piece` follows, or `None` when a byte is invalid.
    fn after(self, piece: &[u8]) -> Option<Self> {
        let mut rest = piece;
        if !self.is_empty() {
            // Finish the code point begun before, a byte at a time.
            let mut head = self;
            loop {
                match std::str::from_utf8(&head.bytes[..head.len]) {
                    Ok(_) => break,
                    Err(e) if e.error_len().is_some() => return None,
                    Err(_) => {
                        let Some((&byte, more)) = rest.split_first() else {
                            return Some(head);
                        };
                        if head.len == head.bytes.len() {
                            // Unreachable: 4 bytes are a code point or invalid.
                            return None;
                        }
                        head.bytes[head.len] = byte;
                        head.len += 1;
                        rest = more;
                    }
                }
            }
        }
        match std::str::from_utf8(rest) {
            Ok(_) => Some(Self::default()),
            Err(e) if e.error_len().is_some() => None,
            Err(e) => {
                let unfinished = &rest[e.valid_up_to()..];
                let mut tail = Self::default();
                tail.bytes[..unfinished.len()].copy_from_slice(unfinished);
                tail.len = unfinished.len();
                Some(tail)
            }
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

#[cfg(test)]
mod tests {
    use super::Utf8Tail;

    /// Checks `pieces` in order: `None` at the first invalid byte, else
    /// whether the last left a code point unfinished.
    fn check(pieces: &[&[u8]]) -> Option<bool> {
        let mut tail = Utf8Tail::default();
        for piece in pieces {
            tail = tail.after(piece)?;
        }
        Some(!tail.is_empty())
    }

    /// RFC 6455 §5.6: text split anywhere, even inside a code point, adds up.
    #[test]
    fn rfc6455_5_6_text_split_at_every_pair_of_offsets() {
        let text = "a\u{e9}\u{20ac}\u{1f600}z".as_bytes();
        for i in 0..=text.len() {
            for j in i..=text.len() {
                let pieces = [&text[..i], &text[i..j], &text[j..]];
                assert_eq!(check(&pieces), Some(false), "split at {i} and {j}");
            }
        }
        assert_eq!(check(&[&text[..2]]), Some(true), "inside \u{e9}");
        assert_eq!(check(&[b"\xf0", b"\x9f", b"\x98"]), Some(true));
    }

    /// RFC 3629 §3: a bad byte is refused where it is, whichever piece.
    #[test]
    fn rfc6455_8_1_invalid_utf8_is_refused() {
        for pieces in [
            &[&b"\xc3"[..], b"("][..],
            &[b"\xc0\x80"],
            &[b"\xed", b"\xa0\x80"],
            &[b"\xf4\x90\x80\x80"],
            &[b"ok", b"\xff"],
            &[b"\xe2\x82", b"\xe2"],
        ] {
            assert_eq!(check(pieces), None, "{pieces:?}");
        }
    }
}
