//! What a [`Connection`](crate::Connection) reports: [`Event`].

use crate::head::{Headers, Request, Response};
use bytes::Bytes;
use proto_core::Timer;
use std::borrow::Cow;

/// Something that happened on a connection, from
/// [`Connection::poll_event`](crate::Connection::poll_event).
///
/// Heads and trailers borrow from the connection until the next call on it;
/// [`into_owned`](Event::into_owned) keeps them longer. Body data is a
/// [`Bytes`] view of the receive buffer, never copied.
///
/// The order for each message is: its head, any number of `Data`, then
/// `EndOfMessage`. A client may see `Informational` heads before a final
/// `Response`. After `Upgraded`, `TimedOut` or `Closed` no more events follow.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// A server received a request head (RFC 9112 §3). Answer it with
    /// [`send_response`](crate::Connection::send_response) once you are
    /// ready; its body follows as `Data`.
    Request(Cow<'a, Request>),
    /// A client received an interim 1xx response (other than 101), such as
    /// `100 Continue` (RFC 9110 §15.2); the final response is still to come.
    Informational(Cow<'a, Response>),
    /// A client received the final response head of its oldest outstanding
    /// request (RFC 9112 §4); its body follows as `Data`.
    Response(Cow<'a, Response>),
    /// A piece of the current message's body. Pieces follow the arrival of
    /// bytes, not the sender's chunks: concatenate them.
    Data(Bytes),
    /// The current message is complete, with the trailer fields of a chunked
    /// body (empty otherwise; RFC 9112 §7.1.2).
    EndOfMessage {
        /// Trailer fields, in order.
        trailers: Cow<'a, Headers>,
    },
    /// The connection switched protocols (a `101` to a request with
    /// `Upgrade`, or a 2xx to `CONNECT`). HTTP is over: `trailing` is every
    /// byte received after the request (server) or the response head
    /// (client), untouched; feed it to the next protocol first, then any
    /// bytes [`handle_input`](crate::Connection::handle_input) no longer
    /// consumes.
    Upgraded {
        /// Bytes received after the switch point.
        trailing: Bytes,
    },
    /// A deadline fired and the connection closed: `RequestHead` (a `408`
    /// was queued), `KeepAlive` (closed silently), `Idle` (a body stalled; a
    /// server queued `408` if its response had not started) or `Handshake`
    /// (a client gave up waiting for a response head).
    TimedOut(Timer),
    /// The peer closed its side between messages (a clean end of the
    /// connection, or of a close-delimited response body, which is reported
    /// first with `EndOfMessage`).
    Closed,
}

impl Event<'_> {
    /// Detaches the event from the connection, cloning any borrowed head.
    ///
    /// ```
    /// use proto_http::{Event, Headers};
    /// use std::borrow::Cow;
    ///
    /// let headers = Headers::new();
    /// let event = Event::EndOfMessage { trailers: Cow::Borrowed(&headers) };
    /// let owned: Event<'static> = event.into_owned();
    /// assert!(matches!(owned, Event::EndOfMessage { .. }));
    /// ```
    #[must_use]
    pub fn into_owned(self) -> Event<'static> {
        match self {
            Self::Request(r) => Event::Request(Cow::Owned(r.into_owned())),
            Self::Informational(r) => Event::Informational(Cow::Owned(r.into_owned())),
            Self::Response(r) => Event::Response(Cow::Owned(r.into_owned())),
            Self::Data(b) => Event::Data(b),
            Self::EndOfMessage { trailers } => Event::EndOfMessage {
                trailers: Cow::Owned(trailers.into_owned()),
            },
            Self::Upgraded { trailing } => Event::Upgraded { trailing },
            Self::TimedOut(t) => Event::TimedOut(t),
            Self::Closed => Event::Closed,
        }
    }
}
