//! What a [`ConnHandle`] carries to an HTTP+WebSocket connection:
//! [`Outbound`] messages, and [`Deferred`] responses built from them.

use bytes::Bytes;
use proto_http::Response;

use crate::handle::{ConnHandle, SendError};

/// A message for a [`WebService`](super::WebService) connection, sent
/// through a [`ConnHandle`] or a [`Group`](crate::Group) from anywhere.
///
/// WebSocket messages (`text`, `binary`, `close`) reach a connection once
/// it is a WebSocket; the pieces of a [`Deferred`] response reach the
/// request they were made for, and are dropped if it is no longer current
/// (answered `503` at the handler deadline, or the connection moved on).
/// Clones share their payload.
///
/// ```
/// use adapter_core::Group;
/// use adapter_core::web::Outbound;
///
/// let room: Group<Outbound> = Group::new();
/// room.broadcast(&Outbound::text("hello, everyone"));
/// ```
#[derive(Debug, Clone)]
pub struct Outbound(pub(crate) Out);

#[derive(Debug, Clone)]
pub(crate) enum Out {
    Text(Bytes),
    Binary(Bytes),
    Close(u16, String),
    Head(u64, Box<Response>),
    Body(u64, Bytes),
    Finish(u64),
}

impl Outbound {
    /// A WebSocket text message.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self(Out::Text(Bytes::from(text.into().into_bytes())))
    }

    /// A WebSocket binary message.
    #[must_use]
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self(Out::Binary(data.into()))
    }

    /// Starts the WebSocket close handshake with `code` and `reason` (an
    /// HTTP connection is closed once its pending output is written).
    #[must_use]
    pub fn close(code: u16, reason: impl Into<String>) -> Self {
        Self(Out::Close(code, reason.into()))
    }
}

/// A response to finish later, from any task or thread: the request's
/// [`HttpConn::defer`](super::HttpConn::defer) hands it out.
///
/// Each call queues one [`Outbound`] on the connection's bounded queue
/// ([`Builder::queue_capacity`](crate::Builder::queue_capacity)); a body
/// sent in more pieces than that at once should use
/// [`QueueFull::Wait`](crate::QueueFull::Wait) and the async
/// [`ConnHandle::send`] through [`handle`](Deferred::handle).
///
/// ```no_run
/// # fn demo(deferred: adapter_core::web::Deferred) {
/// std::thread::spawn(move || {
///     let _ = deferred.respond_with(200, "text/plain", "computed later\n");
/// });
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Deferred {
    pub(crate) handle: ConnHandle<Outbound>,
    pub(crate) request: u64,
}

type Sent = Result<(), SendError<Outbound>>;

impl Deferred {
    /// The connection's handle.
    #[must_use]
    pub fn handle(&self) -> &ConnHandle<Outbound> {
        &self.handle
    }

    /// Which request of the connection this answers (1 for the first).
    #[must_use]
    pub fn request_id(&self) -> u64 {
        self.request
    }

    /// The message that sends the response head.
    #[must_use]
    pub fn head_message(&self, response: Response) -> Outbound {
        Outbound(Out::Head(self.request, Box::new(response)))
    }

    /// The message that sends a piece of the body.
    #[must_use]
    pub fn body_message(&self, data: impl Into<Bytes>) -> Outbound {
        Outbound(Out::Body(self.request, data.into()))
    }

    /// The message that ends the response.
    #[must_use]
    pub fn finish_message(&self) -> Outbound {
        Outbound(Out::Finish(self.request))
    }

    /// Queues the response head.
    ///
    /// # Errors
    ///
    /// As [`ConnHandle::try_send`].
    pub fn respond(&self, response: Response) -> Sent {
        self.handle.try_send(self.head_message(response))
    }

    /// Queues a piece of the body.
    ///
    /// # Errors
    ///
    /// As [`ConnHandle::try_send`].
    pub fn send_body(&self, data: impl Into<Bytes>) -> Sent {
        self.handle.try_send(self.body_message(data))
    }

    /// Queues the end of the response.
    ///
    /// # Errors
    ///
    /// As [`ConnHandle::try_send`].
    pub fn finish(&self) -> Sent {
        self.handle.try_send(self.finish_message())
    }

    /// Queues a whole response: `status`, `Content-Type`, a
    /// `Content-Length` framed `body`.
    ///
    /// # Errors
    ///
    /// As [`ConnHandle::try_send`].
    pub fn respond_with(&self, status: u16, content_type: &str, body: impl Into<Bytes>) -> Sent {
        let body = body.into();
        self.respond(super::handler::full_response(
            status,
            content_type,
            body.len(),
        ))?;
        self.send_body(body)?;
        self.finish()
    }
}
