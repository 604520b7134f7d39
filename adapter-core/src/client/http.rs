//! [`HttpClient`]: HTTP/1.1 requests over one connection.

use std::fmt;
use std::future::poll_fn;
use std::task::Poll;
use std::time::{Duration, Instant};

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
    /// exchange in an unknown place, or a body refused from the head could
    /// not be cut short, so the connection is unusable.
    in_flight: bool,
    /// How long a body waits for `100 (Continue)`.
    continue_timeout: Duration,
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
    pub(super) fn new(
        io: Transport<R>,
        http: proto_http::Connection,
        continue_timeout: Duration,
    ) -> Self {
        Self {
            io,
            http,
            in_flight: false,
            continue_timeout,
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
    /// # `Expect: 100-continue`
    ///
    /// When the request carries `Expect: 100-continue` and the body is not
    /// empty, the head goes first and the body is held back (RFC 9110
    /// §10.1.1) until one of:
    ///
    /// - the server's `100 (Continue)`: the body follows;
    /// - [`ClientConfig::continue_timeout`](super::ClientConfig::continue_timeout)
    ///   passes (default 1 s) with no answer: the body is sent anyway, as
    ///   the RFC allows, since a server may not know the expectation;
    /// - a final response: the body is never sent, and that response is
    ///   returned. The connection is then reusable only if the server keeps
    ///   it open and the framing lets the request end without its body (a
    ///   chunked request is ended with an empty last chunk); a
    ///   `Content-Length` request cannot be ended short, so the connection
    ///   is not reusable ([`is_reusable`](Self::is_reusable) is false).
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
    ///
    /// // The body waits for the server's 100 (at most 1 s by default).
    /// let mut upload = Request::new("PUT", "/big");
    /// upload
    ///     .headers_mut()
    ///     .append("Host", "127.0.0.1:8080")
    ///     .append("Expect", "100-continue");
    /// let response = http.request(upload, vec![0u8; 1 << 20]).await?;
    /// if response.status() == 413 {
    ///     // Refused from the head: the megabyte was never sent.
    /// }
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
        let expects_continue =
            !body.is_empty() && request.headers().has_token("expect", "100-continue");
        self.http.send_request(request).map_err(Error::HttpSend)?;
        self.in_flight = true;
        let withheld = if expects_continue {
            Some(body)
        } else {
            send_rest(&mut self.http, body)?;
            None
        };
        self.read_response(withheld).await
    }

    /// Reads the response to the request sent; `withheld` is a body that
    /// waits for a `100 (Continue)` or the continue timeout. The request is
    /// no longer in flight once the response is complete and the request
    /// ended.
    async fn read_response(&mut self, mut withheld: Option<Bytes>) -> Result<HttpResponse, Error> {
        let mut head: Option<Response> = None;
        let mut body = BytesMut::new();
        let mut single: Option<Bytes> = None;
        let mut wait = withheld.as_ref().and_then(|_| {
            Instant::now()
                .checked_add(self.continue_timeout)
                .map(|at| self.io.deadline(at))
        });
        // A final response came first: the body is never sent.
        let mut refused = false;
        let response = poll_fn(|cx| {
            for _ in 0..MAX_ROUNDS {
                while let Some(event) = self.http.poll_event() {
                    match event {
                        Event::Informational(interim) if interim.status() == 100 => {
                            if let Some(rest) = withheld.take() {
                                wait = None;
                                send_rest(&mut self.http, rest)?;
                            }
                        }
                        Event::Response(response) => {
                            if withheld.take().is_some() {
                                wait = None;
                                refused = true;
                            }
                            head = Some(response.into_owned());
                        }
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
                        // Other 1xx heads before the final one.
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
                // No answer to the expectation in time: send the body.
                if wait.as_mut().is_some_and(|w| w.poll_expired(cx)) {
                    wait = None;
                    if let Some(rest) = withheld.take() {
                        send_rest(&mut self.http, rest)?;
                    }
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
        .await?;
        // Refused from the head: end the request without its body where its
        // framing allows (an empty last chunk) and the server reads on;
        // otherwise the connection stays unusable.
        let ended = !refused || (!self.http.is_closed() && self.http.finish().is_ok());
        if ended {
            self.in_flight = false;
        }
        Ok(response)
    }
}

/// Queues the request's body, if any, and ends it.
fn send_rest(http: &mut proto_http::Connection, body: Bytes) -> Result<(), Error> {
    if !body.is_empty() {
        http.send_body(body).map_err(Error::HttpSend)?;
    }
    http.finish().map_err(Error::HttpSend)
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
