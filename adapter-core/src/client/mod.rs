//! Clients: WebSocket and HTTP/1.1 connections with a connect timeout, a
//! handshake timeout and the same limits as the server, on any [`Runtime`].
//!
//! A [`Connector`] holds a runtime and a [`ClientConfig`]; it opens
//! [`WsClient`]s and [`HttpClient`]s. The protocol work is done by the same
//! sans-IO machines the server runs (`proto_http::Connection` in the client
//! role for the request and the opening handshake, then
//! `proto_ws::Connection` with the bytes that followed the `101`); this
//! module only owns the socket, the clock and the randomness:
//!
//! - **Timeouts**: the connect timeout is the adapter's
//!   ([`ClientConfig::connect_timeout`], default 10 s, [`Timer::Connect`]);
//!   the handshake timeout is the HTTP machine's response-head deadline
//!   ([`ClientConfig::handshake_timeout`], default 30 s,
//!   [`Timer::Handshake`]); the write-stall timeout is the adapter's (30 s,
//!   as the server's); a request body sent with `Expect: 100-continue`
//!   waits for the `100` at most [`ClientConfig::continue_timeout`]
//!   (default 1 s); WebSocket idle, ping and close timeouts are the
//!   WebSocket machine's.
//! - **Limits**: those of [`proto_http::Config`] (head size, field count,
//!   response body size) and [`proto_ws::Config`] (frame and message size,
//!   send buffer), defaults identical to the server's.
//! - **Randomness**: the `Sec-WebSocket-Key` nonce and every masking key
//!   come from the operating system's generator ([`OsMasks`]).
//! - **No name resolution**: pass URLs with IP literals, or a
//!   [`SocketAddr`] you resolved yourself together with the URL.
//! - **No spawned task**: the connection makes progress (reads, timers,
//!   automatic pongs, writes) while one of its async methods is awaited.
//!   Keep a [`WsClient::recv`] running, or call it regularly.
//!
//! # Example
//!
//! ```no_run
//! use adapter_core::client::{Connector, Message};
//! use adapter_core::Runtime;
//!
//! async fn chat<R: Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
//!     let connector = Connector::new(rt);
//!     let mut ws = connector.websocket("ws://127.0.0.1:8080/echo").await?;
//!     ws.send_text("hello").await?;
//!     while let Some(message) = ws.recv().await {
//!         match message? {
//!             Message::Text(text) => {
//!                 println!("{}", String::from_utf8_lossy(&text));
//!                 ws.close(1000, "bye").await?;
//!             }
//!             Message::Close { code, .. } => println!("closed with {code}"),
//!             _ => {}
//!         }
//!     }
//!     let response = connector.http_request("GET", "http://127.0.0.1:8080/stats", "").await?;
//!     println!("{} {:?}", response.status(), response.body());
//!     Ok(())
//! }
//! // With adapter-tokio: Tokio::run(1, |rt| chat(rt))?;
//! ```

mod entropy;
mod error;
mod http;
mod io;
mod url;
mod ws;

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proto_core::{Side, Timer};
use proto_ws::MaskSource;
use proto_ws::handshake::ClientHandshake;

pub use entropy::OsMasks;
pub use error::{ConfigError, Error, FragmentError, UrlError};
pub use http::{HttpClient, HttpResponse};
pub use url::{Scheme, Url};
pub use ws::{Fragment, Message, WsClient};

/// The request and field types [`HttpClient::request`] takes, so users of
/// the runtime crates need no direct proto-http dependency.
pub use proto_http::{Headers, Request, Response};
/// The kind of a [`Message::Data`] piece.
pub use proto_ws::MessageKind;

use crate::runtime::{Runtime, Stream};
use io::{Deadline, Transport};

/// Default [`ClientConfig::connect_timeout`]: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ClientConfig::write_timeout`]: 30 s, the server's default.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`ClientConfig::continue_timeout`]: 1 s.
pub const DEFAULT_CONTINUE_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings of the connections a [`Connector`] opens.
///
/// Every timeout and limit has a finite default: the adapter's own connect
/// and write-stall timeouts, and the machines' [`proto_http::Config`] and
/// [`proto_ws::Config`] (the server's defaults).
///
/// ```
/// use adapter_core::client::ClientConfig;
/// use std::time::Duration;
///
/// let mut config = ClientConfig::default();
/// config
///     .connect_timeout(Duration::from_secs(3))
///     .handshake_timeout(Duration::from_secs(5))
///     .protocols(["chat"]);
/// config.ws().max_message_size(1 << 20);
/// config.http().max_body_size(Some(1 << 20));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct ClientConfig {
    connect_timeout: Duration,
    write_timeout: Duration,
    continue_timeout: Duration,
    http: proto_http::Config,
    ws: proto_ws::Config,
    protocols: Vec<String>,
    mask_source: Option<Arc<dyn MaskSource>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            continue_timeout: DEFAULT_CONTINUE_TIMEOUT,
            http: proto_http::Config::default(),
            ws: proto_ws::Config::default(),
            protocols: Vec::new(),
            mask_source: None,
        }
    }
}

impl ClientConfig {
    /// How long a TCP connect may take before it is abandoned with
    /// [`Error::TimedOut`]`(`[`Timer::Connect`]`)`.
    ///
    /// Default 10 s ([`DEFAULT_CONNECT_TIMEOUT`]); it bounds connects to a
    /// host that drops SYNs (a full accept queue, a firewall), which the
    /// kernel would otherwise retry for minutes. `Duration::MAX` disables it.
    pub fn connect_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long the server may take no byte of pending output before the
    /// connection is abandoned with
    /// [`Error::TimedOut`]`(`[`Timer::WriteStall`]`)`.
    ///
    /// Default 30 s ([`DEFAULT_WRITE_TIMEOUT`], the server's default).
    pub fn write_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.write_timeout = timeout;
        self
    }

    /// How long a request with `Expect: 100-continue` holds its body back
    /// waiting for the server's `100 (Continue)` before sending it anyway
    /// (RFC 9110 §10.1.1: a client need not wait indefinitely, since a
    /// server or intermediary may not answer `100`).
    ///
    /// Default 1 s ([`DEFAULT_CONTINUE_TIMEOUT`]), the usual choice (curl
    /// waits 1 s): long enough for a server's answer to the head over most
    /// links, short enough that a server that never says `100` costs a
    /// request only that much. `Duration::MAX` waits for the `100` or a
    /// final response only (the handshake timeout still bounds the head).
    /// See [`HttpClient::request`].
    pub fn continue_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.continue_timeout = timeout;
        self
    }

    /// How long, once a request is sent, the complete response head may
    /// take: the WebSocket opening handshake and every HTTP request. Sets
    /// [`proto_http::Config::response_head_timeout`] (default 30 s); on
    /// expiry the call fails with
    /// [`Error::TimedOut`]`(`[`Timer::Handshake`]`)`.
    pub fn handshake_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.http.response_head_timeout(timeout);
        self
    }

    /// Subprotocols offered in the WebSocket handshake, most preferred
    /// first (`Sec-WebSocket-Protocol`); default none. The server's choice
    /// is [`WsClient::protocol`].
    pub fn protocols<I, S>(&mut self, protocols: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Where WebSocket masking keys come from; default a fresh [`OsMasks`]
    /// per connector. Tests may plug in fixed keys.
    pub fn mask_source(&mut self, source: Arc<dyn MaskSource>) -> &mut Self {
        self.mask_source = Some(source);
        self
    }

    /// The HTTP machine's limits and deadlines, for the handshake and for
    /// HTTP requests (response head and body sizes, body stall timeout).
    pub fn http(&mut self) -> &mut proto_http::Config {
        &mut self.http
    }

    /// The WebSocket machine's limits and deadlines. Its mask source is
    /// replaced by [`mask_source`](Self::mask_source)'s.
    pub fn ws(&mut self) -> &mut proto_ws::Config {
        &mut self.ws
    }
}

/// Opens client connections on a runtime, with one [`ClientConfig`].
///
/// Cheap to clone; share one per application.
///
/// ```no_run
/// use adapter_core::client::{ClientConfig, Connector};
/// use std::time::Duration;
///
/// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
/// let mut config = ClientConfig::default();
/// config.connect_timeout(Duration::from_secs(2));
/// let connector = Connector::with_config(rt, config);
/// let mut ws = connector.websocket("ws://127.0.0.1:9001/").await?;
/// ws.send_binary(&[1, 2, 3]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connector<R: Runtime> {
    rt: R,
    config: Arc<ClientConfig>,
    masks: Option<Arc<dyn MaskSource>>,
}

impl<R: Runtime> Connector<R> {
    /// A connector with the default [`ClientConfig`].
    #[must_use]
    pub fn new(rt: R) -> Self {
        Self::with_config(rt, ClientConfig::default())
    }

    /// A connector with `config`.
    #[must_use]
    pub fn with_config(rt: R, config: ClientConfig) -> Self {
        let masks = config.mask_source.clone();
        Self {
            rt,
            config: Arc::new(config),
            masks,
        }
    }

    /// The runtime.
    #[must_use]
    pub fn runtime(&self) -> &R {
        &self.rt
    }

    /// Opens a TCP connection to `addr` within the connect timeout, with
    /// `TCP_NODELAY` set.
    ///
    /// # Errors
    ///
    /// [`Error::TimedOut`]`(`[`Timer::Connect`]`)` when the timeout expires,
    /// [`Error::Io`] when the connect fails.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes the socket.
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
    /// let stream = adapter_core::client::Connector::new(rt)
    ///     .connect("127.0.0.1:8080".parse().unwrap())
    ///     .await?; // an R::Stream, for a protocol of your own
    /// # drop(stream); Ok(()) }
    /// ```
    pub async fn connect(&self, addr: SocketAddr) -> Result<R::Stream, Error> {
        let mut connecting = pin!(self.rt.connect(addr));
        let mut deadline = Instant::now()
            .checked_add(self.config.connect_timeout)
            .map(|at| Deadline::new(&self.rt, at));
        let stream = poll_fn(|cx| {
            if let Poll::Ready(result) = connecting.as_mut().poll(cx) {
                return Poll::Ready(result.map_err(Error::Io));
            }
            if deadline.as_mut().is_some_and(|d| d.poll_expired(cx)) {
                return Poll::Ready(Err(Error::TimedOut(Timer::Connect)));
            }
            Poll::Pending
        })
        .await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    /// Connects to a `ws://` URL whose host is an IP literal and completes
    /// the opening handshake.
    ///
    /// # Errors
    ///
    /// [`Error::Url`] for another URL ([`UrlError::NeedsAddress`] for a
    /// host name: use [`websocket_to`](Self::websocket_to)); otherwise as
    /// [`websocket_to`](Self::websocket_to).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection.
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
    /// let mut ws = adapter_core::client::Connector::new(rt)
    ///     .websocket("ws://[::1]:8080/echo")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn websocket(&self, url: &str) -> Result<WsClient<R>, Error> {
        let parsed = Url::parse(url).map_err(Error::Url)?;
        let addr = parsed
            .socket_addr()
            .ok_or(Error::Url(UrlError::NeedsAddress))?;
        self.websocket_url(addr, &parsed).await
    }

    /// Connects to `addr` and completes the opening handshake for `url`,
    /// whose host (any name) goes in the `Host` field: the way to reach a
    /// named host you resolved yourself.
    ///
    /// # Errors
    ///
    /// [`Error::Url`] unless `url` is `ws://`; [`Error::TimedOut`] with
    /// [`Timer::Connect`] or [`Timer::Handshake`]; [`Error::Handshake`] when
    /// the server refuses; [`Error::Http`] for a malformed answer;
    /// [`Error::Closed`] when the server closes first; [`Error::Io`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection.
    ///
    /// ```no_run
    /// use std::net::ToSocketAddrs;
    /// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), Box<dyn std::error::Error>> {
    /// let addr = ("example.com", 80).to_socket_addrs()?.next().unwrap(); // blocking
    /// let ws = adapter_core::client::Connector::new(rt)
    ///     .websocket_to(addr, "ws://example.com/chat")
    ///     .await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub async fn websocket_to(&self, addr: SocketAddr, url: &str) -> Result<WsClient<R>, Error> {
        let parsed = Url::parse(url).map_err(Error::Url)?;
        self.websocket_url(addr, &parsed).await
    }

    async fn websocket_url(&self, addr: SocketAddr, url: &Url) -> Result<WsClient<R>, Error> {
        if url.scheme() != Scheme::Ws {
            return Err(Error::Url(UrlError::UnsupportedScheme));
        }
        let masks: Arc<dyn MaskSource> = match &self.masks {
            Some(masks) => Arc::clone(masks),
            None => Arc::new(OsMasks::new()?),
        };
        let mut ws_config = self.config.ws.clone();
        ws_config.mask_source(masks);
        let mut handshake = ClientHandshake::new(entropy::handshake_key()?);
        handshake.protocols(self.config.protocols.iter().cloned());
        let mut http = self.http_machine()?;
        http.send_request(handshake.request(url.host(), url.target()))
            .map_err(Error::HttpSend)?;
        http.finish().map_err(Error::HttpSend)?;

        let stream = self.connect(addr).await?;
        let mut io = Transport::new(self.rt.clone(), stream, self.config.write_timeout);
        let (negotiated, trailing) = ws::handshake(&mut io, &mut http, &handshake).await?;
        io.switch_protocols(&trailing);
        let machine = proto_ws::Connection::new(Side::Client, ws_config, Instant::now())
            .map_err(|e| Error::Config(ConfigError::Ws(e)))?;
        Ok(WsClient::new(io, machine, negotiated))
    }

    /// Connects to `addr` for HTTP/1.1 requests (kept alive when the server
    /// allows).
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect); [`Error::Config`] for a bad
    /// [`ClientConfig::http`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection.
    ///
    /// ```no_run
    /// use proto_http::Request;
    /// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
    /// let connector = adapter_core::client::Connector::new(rt);
    /// let mut http = connector.http("127.0.0.1:8080".parse().unwrap()).await?;
    /// let mut request = Request::new("GET", "/stats");
    /// request.headers_mut().append("Host", "127.0.0.1:8080");
    /// let response = http.request(request, "").await?;
    /// assert_eq!(response.status(), 200);
    /// # Ok(()) }
    /// ```
    pub async fn http(&self, addr: SocketAddr) -> Result<HttpClient<R>, Error> {
        let machine = self.http_machine()?;
        let stream = self.connect(addr).await?;
        let io = Transport::new(self.rt.clone(), stream, self.config.write_timeout);
        Ok(HttpClient::new(io, machine, self.config.continue_timeout))
    }

    /// One request on a new connection to an `http://` URL whose host is an
    /// IP literal: `Host` is set from the URL, `Content-Length` from the
    /// body (when it is not empty, or the method is `POST`, `PUT` or
    /// `PATCH`), and `Connection: close`. The response body is read whole,
    /// capped by [`proto_http::Config::max_body_size`].
    ///
    /// # Errors
    ///
    /// [`Error::Url`]; as [`http`](Self::http) and [`HttpClient::request`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection.
    ///
    /// ```no_run
    /// # async fn f<R: adapter_core::Runtime>(rt: R) -> Result<(), adapter_core::client::Error> {
    /// let connector = adapter_core::client::Connector::new(rt);
    /// let echo = connector.http_request("POST", "http://127.0.0.1:8080/echo", "hi").await?;
    /// assert_eq!(echo.body().as_ref(), b"hi");
    /// # Ok(()) }
    /// ```
    pub async fn http_request(
        &self,
        method: &str,
        url: &str,
        body: impl Into<Bytes>,
    ) -> Result<HttpResponse, Error> {
        let parsed = Url::parse(url).map_err(Error::Url)?;
        if parsed.scheme() != Scheme::Http {
            return Err(Error::Url(UrlError::UnsupportedScheme));
        }
        let addr = parsed
            .socket_addr()
            .ok_or(Error::Url(UrlError::NeedsAddress))?;
        let mut request = Request::new(method, parsed.target());
        request
            .headers_mut()
            .append("Host", parsed.host())
            .append("Connection", "close");
        let mut client = self.http(addr).await?;
        client.request(request, body).await
    }

    fn http_machine(&self) -> Result<proto_http::Connection, Error> {
        proto_http::Connection::new(Side::Client, self.config.http.clone())
            .map_err(|e| Error::Config(ConfigError::Http(e)))
    }
}
