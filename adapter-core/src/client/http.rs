//! [`HttpClient`]: HTTP/1.1 requests over one connection.

use std::fmt;
use std::future::poll_fn;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use proto_http::{Event, Headers, Request, Response, State};

use super::error::Error;
use super::io::{MAX_ROUNDS, Transport};
use crate::runtime::Runtime;

/// A complete response: its head and its whole body.
///
/// ```no_run
/// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
/// let response = adapter_core::client::Connector::new(rt)
///     .http_request("GET", "http://127.0.0.1:8080/", "")
///     .await?;
/// assert_eq!(response.status(), 200);
/// let _type = response.headers().get("content-type");
/// let _body: bytes::Bytes = response.into_body();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    head: Response,
    body: Bytes,
    trailers: Headers,
}

impl HttpResponse {
    /// The status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.head.status()
    }

    /// The header fields.
    #[must_use]
    pub fn headers(&self) -> &Headers {
        self.head.headers()
    }

    /// The whole head (status, reason, version, fields).
    #[must_use]
    pub fn head(&self) -> &Response {
        &self.head
    }

    /// The trailer fields of a chunked body (empty otherwise).
    #[must_use]
    pub fn trailers(&self) -> &Headers {
        &self.trailers
    }

    /// The body.
    #[must_use]
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body, by value.
    #[must_use]
    pub fn into_body(self) -> Bytes {
        self.body
    }
}

/// An HTTP/1.1 client connection, opened by
/// [`Connector::http`](super::Connector::http): one request at a time,
/// kept alive between requests when the server allows.
///
/// Every limit is the HTTP machine's
/// ([`ClientConfig::http`](super::ClientConfig::http)): a response head over
/// `max_head_size` or a body over `max_body_size` fails with
/// [`Error::Http`].
///
/// ```no_run
/// use proto_http::Request;
/// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
/// let connector = adapter_core::client::Connector::new(rt);
/// let mut http = connector.http("127.0.0.1:8080".parse().unwrap()).await?;
/// for path in ["/", "/stats"] {
///     let mut request = Request::new("GET", path);
///     request.headers_mut().append("Host", "127.0.0.1:8080");
///     let response = http.request(request, "").await?; // same connection
///     println!("{path}: {}", response.status());
/// }
/// # Ok(()) }
/// ```
pub struct HttpClient<R: Runtime> {
    io: Transport<R>,
    http: proto_http::Connection,
    /// A request was started and not finished: a dropped future left the
    /// exchange in an unknown place, so the connection is unusable.
    in_flight: bool,
}

impl<R: Runtime> fmt::Debug for HttpClient<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("http", &self.http)
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> HttpClient<R> {
    pub(super) fn new(io: Transport<R>, http: proto_http::Connection) -> Self {
        Self {
            io,
            http,
            in_flight: false,
        }
    }

    /// True when another request may be sent on this connection.
    #[must_use]
    pub fn is_reusable(&self) -> bool {
        !self.in_flight && !self.io.is_dead() && self.http.state() == State::Idle
    }

    /// Sends `request` with `body` and reads the whole response.
    ///
    /// The request needs its `Host` field. When it has neither
    /// `Content-Length` nor `Transfer-Encoding`, `Content-Length` is set
    /// from the body (when the body is not empty, or the method is `POST`,
    /// `PUT` or `PATCH`). Interim 1xx responses are skipped. A `101` or a
    /// successful `CONNECT` ends the exchange with an empty body, and the
    /// connection is not reusable for HTTP after it.
    ///
    /// # Errors
    ///
    /// [`Error::HttpSend`] for a request the machine refuses (no `Host`, bad
    /// fields, contradicting framing); [`Error::Closed`] when the connection
    /// is not reusable or the server closed it first;
    /// [`Error::TimedOut`]`(`[`Timer::Handshake`](proto_core::Timer::Handshake)`)`
    /// when the response head takes longer than the handshake timeout, or
    /// `(Idle)` when its body stalls; [`Error::Http`] for a malformed or
    /// oversized response; [`Error::Io`].
    ///
    /// # Cancel safety
    ///
    /// Not resumable: HTTP/1.1 cannot take a request back, so dropping the
    /// future leaves the connection unusable (later requests return
    /// [`Error::Closed`]; open a new one).
    ///
    /// ```no_run
    /// use proto_http::Request;
    /// # async fn f<R: adapter_core::Runtime>(http: &mut adapter_core::client::HttpClient<R>) -> Result<(), adapter_core::client::Error> {
    /// let mut request = Request::new("POST", "/echo");
    /// request.headers_mut().append("Host", "127.0.0.1:8080");
    /// let response = http.request(request, "hello").await?;
    /// assert_eq!(response.body().as_ref(), b"hello");
    /// # Ok(()) }
    /// ```
    pub async fn request(
        &mut self,
        mut request: Request,
        body: impl Into<Bytes>,
    ) -> Result<HttpResponse, Error> {
        if !self.is_reusable() {
            return Err(Error::Closed);
        }
        let body = body.into();
        let wants_length = !body.is_empty() || matches!(request.method(), "POST" | "PUT" | "PATCH");
        let headers = request.headers();
        let framed = headers.contains("content-length") || headers.contains("transfer-encoding");
        if wants_length && !framed {
            request
                .headers_mut()
                .append("Content-Length", body.len().to_string());
        }
        self.http.send_request(request).map_err(Error::HttpSend)?;
        self.in_flight = true;
        if !body.is_empty() {
            self.http.send_body(body).map_err(Error::HttpSend)?;
        }
        self.http.finish().map_err(Error::HttpSend)?;
        let response = self.read_response().await;
        if response.is_ok() {
            self.in_flight = false;
        }
        response
    }

    async fn read_response(&mut self) -> Result<HttpResponse, Error> {
        let mut head: Option<Response> = None;
        let mut body = BytesMut::new();
        let mut single: Option<Bytes> = None;
        poll_fn(|cx| {
            for _ in 0..MAX_ROUNDS {
                while let Some(event) = self.http.poll_event() {
                    match event {
                        Event::Response(response) => head = Some(response.into_owned()),
                        Event::Data(data) => {
                            // One piece stays a view of the receive buffer;
                            // more are gathered into one.
                            match single.take() {
                                None if body.is_empty() => single = Some(data),
                                first => {
                                    if let Some(first) = first {
                                        body.extend_from_slice(&first);
                                    }
                                    body.extend_from_slice(&data);
                                }
                            }
                        }
                        Event::EndOfMessage { trailers } => {
                            let trailers = trailers.into_owned();
                            return Poll::Ready(finish(
                                &mut head,
                                &mut single,
                                &mut body,
                                trailers,
                            ));
                        }
                        Event::Upgraded { .. } => {
                            return Poll::Ready(finish(
                                &mut head,
                                &mut single,
                                &mut body,
                                Headers::new(),
                            ));
                        }
                        Event::TimedOut(timer) => return Poll::Ready(Err(Error::TimedOut(timer))),
                        Event::Closed => return Poll::Ready(Err(Error::Closed)),
                        // 1xx heads before the final one.
                        _ => {}
                    }
                }
                if let Some(error) = self.http.error() {
                    return Poll::Ready(Err(match error {
                        proto_http::Error::IncompleteMessage => Error::Closed,
                        other => Error::Http(*other),
                    }));
                }
                if self.io.is_dead() || self.http.is_closed() {
                    return Poll::Ready(Err(Error::Closed));
                }
                match self.io.poll_round(cx, &mut self.http) {
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
}

fn finish(
    head: &mut Option<Response>,
    single: &mut Option<Bytes>,
    body: &mut BytesMut,
    trailers: Headers,
) -> Result<HttpResponse, Error> {
    let head = head.take().ok_or(Error::Closed)?;
    let body = single
        .take()
        .unwrap_or_else(|| std::mem::take(body).freeze());
    Ok(HttpResponse {
        head,
        body,
        trailers,
    })
}
