//! The reference server (DESIGN.md, "The reference server"), written once
//! for every runtime: each runtime crate's `*-server` example is one call
//! of [`reference_server`].

use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use proto_core::OriginPolicy;

use crate::web::{ClientOffer, Request};
use crate::web::{HttpConn, Message, Outbound, WebHandler, WebService, WsClosed, WsConn, WsOpen};
use crate::{Builder, CloseReason, Conn, Group, Runtime, Server};

/// The chat page served at `/`: plain HTML and JS, no build step.
pub const CHAT_PAGE: &str = include_str!("chat.html");

/// The WebSocket keep-alive ping interval, ping timeout and close-handshake
/// timeout the reference server uses (proto-ws's defaults, named here so
/// `/stats` can report them).
const WS_PING_INTERVAL: Duration = Duration::from_secs(30);
const WS_PING_TIMEOUT: Duration = Duration::from_secs(20);
const WS_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_GRACE: Duration = Duration::from_secs(1);
const DEFAULT_DRAIN: Duration = Duration::from_secs(30);

/// The reference server's command line, with DESIGN.md's defaults.
///
/// ```
/// use adapter_core::example::ReferenceOptions;
/// let options = ReferenceOptions::parse(["--addr", "127.0.0.1:0", "--allow-origin", "https://a.example"])?;
/// assert_eq!(options.max_connections, 10_000);
/// assert_eq!(options.allow_origins, ["https://a.example"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReferenceOptions {
    /// `--addr IP:PORT` (repeatable); default `127.0.0.1:8080`.
    pub addrs: Vec<SocketAddr>,
    /// `--workers N`; default: available parallelism.
    pub workers: usize,
    /// `--max-connections N`; default 10000.
    pub max_connections: usize,
    /// `--max-connections-per-ip N` (IPv6: per /64); default 256.
    pub max_connections_per_ip: usize,
    /// `--header-timeout-ms N`; default 10000.
    pub header_timeout: Duration,
    /// `--idle-timeout-ms N`: keep-alive and WebSocket idle; default 60000.
    pub idle_timeout: Duration,
    /// `--write-timeout-ms N`; default 30000.
    pub write_timeout: Duration,
    /// `--max-head-bytes N`; default 16384.
    pub max_head_bytes: usize,
    /// `--max-headers N`; default 100.
    pub max_headers: usize,
    /// `--max-message-bytes N`; default 16 MiB.
    pub max_message_bytes: usize,
    /// `--allow-origin ORIGIN` (repeatable); none: same-host mode.
    pub allow_origins: Vec<String>,
    /// `--pid-file PATH`.
    pub pid_file: Option<PathBuf>,
    /// `--grace-ms N`: on stop, how long quiet connections are kept;
    /// default 1000.
    pub grace: Duration,
    /// `--drain-ms N`: on stop, the drain deadline; default 30000.
    pub drain: Duration,
    /// `--handler-timeout-ms N`: the per-request handler deadline; default
    /// 10000.
    pub handler_timeout: Duration,
    /// `--max-buffered-bytes N`: the global budget on bytes buffered across
    /// all connections ([`Builder::max_buffered_bytes`]); default 256 MiB.
    pub max_buffered_bytes: usize,
}

impl Default for ReferenceOptions {
    fn default() -> Self {
        Self {
            addrs: Vec::new(),
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            max_connections: proto_core::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: proto_core::DEFAULT_MAX_CONNECTIONS_PER_IP,
            header_timeout: proto_http::DEFAULT_REQUEST_HEAD_TIMEOUT,
            idle_timeout: proto_http::DEFAULT_KEEP_ALIVE_TIMEOUT,
            write_timeout: Duration::from_secs(30),
            max_head_bytes: proto_http::DEFAULT_MAX_HEAD_SIZE,
            max_headers: proto_http::DEFAULT_MAX_HEADERS,
            max_message_bytes: proto_ws::DEFAULT_MAX_MESSAGE_SIZE,
            allow_origins: Vec::new(),
            pid_file: None,
            grace: DEFAULT_GRACE,
            drain: DEFAULT_DRAIN,
            handler_timeout: Duration::from_secs(10),
            max_buffered_bytes: crate::DEFAULT_MAX_BUFFERED_BYTES,
        }
    }
}

impl ReferenceOptions {
    /// Parses options (without the program name).
    ///
    /// # Errors
    ///
    /// An unknown option, a missing or bad value.
    pub fn parse<I, S>(args: I) -> Result<Self, Box<dyn Error>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut o = Self::default();
        let mut args = args.into_iter().map(Into::into);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            let ms = || value.parse().map(Duration::from_millis);
            match flag.as_str() {
                "--addr" => o.addrs.push(value.parse()?),
                "--workers" => o.workers = value.parse::<usize>()?.max(1),
                "--max-connections" => o.max_connections = value.parse()?,
                "--max-connections-per-ip" => o.max_connections_per_ip = value.parse()?,
                "--header-timeout-ms" => o.header_timeout = ms()?,
                "--idle-timeout-ms" => o.idle_timeout = ms()?,
                "--write-timeout-ms" => o.write_timeout = ms()?,
                "--max-head-bytes" => o.max_head_bytes = value.parse()?,
                "--max-headers" => o.max_headers = value.parse()?,
                "--max-message-bytes" => o.max_message_bytes = value.parse()?,
                "--allow-origin" => o.allow_origins.push(value),
                "--pid-file" => o.pid_file = Some(value.into()),
                "--grace-ms" => o.grace = ms()?,
                "--drain-ms" => o.drain = ms()?,
                "--handler-timeout-ms" => o.handler_timeout = ms()?,
                "--max-buffered-bytes" => o.max_buffered_bytes = value.parse()?,
                _ => return Err(format!("unknown option {flag}").into()),
            }
        }
        Ok(o)
    }

    /// A server builder with these settings (not yet bound).
    ///
    /// # Errors
    ///
    /// A malformed `--allow-origin` or limits the machines refuse.
    pub fn builder(&self) -> Result<Builder<WebService<Reference>>, Box<dyn Error>> {
        let mut http = proto_http::Config::default();
        http.request_head_timeout(self.header_timeout)
            .keep_alive_timeout(self.idle_timeout)
            .max_head_size(self.max_head_bytes)
            .max_headers(self.max_headers)
            .max_buffer_size(self.max_head_bytes.max(proto_http::DEFAULT_MAX_BUFFER_SIZE));
        let mut ws = proto_ws::Config::default();
        ws.max_message_size(self.max_message_bytes)
            .max_frame_size(self.max_message_bytes)
            .max_send_buffer_size(self.max_message_bytes.saturating_add(64 * 1024))
            .idle_timeout(self.idle_timeout)
            .ping_interval(WS_PING_INTERVAL)
            .ping_timeout(WS_PING_TIMEOUT)
            .close_timeout(WS_CLOSE_TIMEOUT);
        let origin = if self.allow_origins.is_empty() {
            OriginPolicy::same_host()
        } else {
            OriginPolicy::allow_list(&self.allow_origins)?
        };
        let handler = Reference {
            room: Group::new(),
            pid: std::process::id(),
            limits: self.limits_json(),
        };
        let service = WebService::new(handler)
            .http_config(http)?
            .ws_config(ws)?
            .origin_policy(origin)
            .handler_timeout(self.handler_timeout);
        let mut builder = Server::builder(service)
            .workers(self.workers)
            .max_connections(self.max_connections)
            .max_connections_per_ip(self.max_connections_per_ip)
            .write_timeout(self.write_timeout)
            .max_buffered_bytes(self.max_buffered_bytes)
            .grace(self.grace)
            .drain_timeout(self.drain);
        for addr in &self.addrs {
            builder = builder.bind(*addr);
        }
        if let Some(path) = &self.pid_file {
            builder = builder.pid_file(path);
        }
        Ok(builder)
    }

    /// The effective limits and timeouts, as `/stats` reports them.
    fn limits_json(&self) -> String {
        let ms = |d: Duration| d.as_millis();
        let mut json = format!(
            "{{\"workers\":{},\"max_connections\":{},\"max_connections_per_ip\":{},\
             \"header_timeout_ms\":{},\"idle_timeout_ms\":{},\"write_timeout_ms\":{},\
             \"body_timeout_ms\":{},\"handler_timeout_ms\":{},\"ws_ping_interval_ms\":{},\
             \"ws_ping_timeout_ms\":{},\"ws_close_timeout_ms\":{},\"grace_ms\":{},\"drain_ms\":{},\
             \"max_head_bytes\":{},\"max_headers\":{},\"max_body_bytes\":{},\
             \"max_message_bytes\":{},\"max_buffered_bytes\":{},\"origin\":",
            self.workers,
            self.max_connections,
            self.max_connections_per_ip,
            ms(self.header_timeout),
            ms(self.idle_timeout),
            ms(self.write_timeout),
            ms(proto_http::DEFAULT_BODY_TIMEOUT),
            ms(self.handler_timeout),
            ms(WS_PING_INTERVAL),
            ms(WS_PING_TIMEOUT),
            ms(WS_CLOSE_TIMEOUT),
            ms(self.grace),
            ms(self.drain),
            self.max_head_bytes,
            self.max_headers,
            proto_http::DEFAULT_MAX_BODY_SIZE,
            self.max_message_bytes,
            self.max_buffered_bytes,
        );
        if self.allow_origins.is_empty() {
            json.push_str("\"same-host\"}");
        } else {
            json.push('[');
            for (i, origin) in self.allow_origins.iter().enumerate() {
                let sep = if i > 0 { "," } else { "" };
                // Origins were validated as serialized origins: no quotes.
                let _ = write!(json, "{sep}\"{}\"", origin.escape_default());
            }
            json.push_str("]}");
        }
        json
    }
}

/// The reference server's handler: chat page, `/ws` chat, `/echo`
/// WebSocket and HTTP echo, `/stats`.
#[derive(Debug)]
pub struct Reference {
    room: Group<Outbound>,
    pid: u32,
    limits: String,
}

/// What a request asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Route {
    #[default]
    NotFound,
    Page,
    Stats,
    HttpEcho,
    /// `/ws` or `/echo` by GET without an upgrade.
    NeedsUpgrade,
    /// A known path, another method; the value is `Allow`.
    NotAllowed(&'static str),
}

fn route(method: &str, target: &str) -> Route {
    let path = target.split('?').next().unwrap_or(target);
    match (path, method) {
        ("/", "GET") => Route::Page,
        ("/stats", "GET") => Route::Stats,
        ("/echo", "POST") => Route::HttpEcho,
        ("/ws" | "/echo", "GET") => Route::NeedsUpgrade,
        ("/" | "/stats" | "/ws", _) => Route::NotAllowed("GET"),
        ("/echo", _) => Route::NotAllowed("GET, POST"),
        _ => Route::NotFound,
    }
}

/// Per connection: the current request's route and echo body, or the
/// WebSocket's role.
#[derive(Debug, Default)]
pub struct ReferenceContext {
    route: Route,
    body: EchoBody,
    chat: bool,
}

/// The HTTP echo body collected so far: a body that arrives in one piece
/// (the usual case) is kept as it came, a view of the receive buffer, and
/// only a second piece makes a copy.
#[derive(Debug, Default)]
enum EchoBody {
    #[default]
    Empty,
    One(Bytes),
    Joined(Vec<u8>),
}

impl EchoBody {
    fn push(&mut self, chunk: Bytes) {
        *self = match std::mem::take(self) {
            Self::Empty => Self::One(chunk),
            Self::One(first) => {
                let mut joined = Vec::with_capacity(first.len() + chunk.len());
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                Self::Joined(joined)
            }
            Self::Joined(mut joined) => {
                joined.extend_from_slice(&chunk);
                Self::Joined(joined)
            }
        };
    }

    fn len(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::One(b) => b.len(),
            Self::Joined(v) => v.len(),
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Self::Empty => Bytes::new(),
            Self::One(b) => b,
            Self::Joined(v) => Bytes::from(v),
        }
    }
}

impl Reference {
    fn stats_json(&self, conn: &Conn<'_, Outbound>) -> String {
        let mut snapshot = String::with_capacity(1024);
        conn.stats().snapshot().write_json(&mut snapshot);
        let inner = snapshot
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or_default();
        format!(
            "{{\"pid\":{},{inner},\"limits\":{}}}\n",
            self.pid, self.limits
        )
    }
}

impl WebHandler for Reference {
    type Context = ReferenceContext;

    fn on_connect(&self, _conn: &mut Conn<'_, Outbound>) -> ReferenceContext {
        ReferenceContext::default()
    }

    fn on_request(&self, cx: &mut ReferenceContext, http: &mut HttpConn<'_, '_>) {
        let request = http.request();
        cx.route = route(request.method(), request.target());
        cx.body = EchoBody::Empty;
    }

    fn on_request_body(&self, cx: &mut ReferenceContext, _: &mut HttpConn<'_, '_>, chunk: Bytes) {
        // Bounded by the HTTP body cap; every other route discards.
        if cx.route == Route::HttpEcho {
            cx.body.push(chunk);
        }
    }

    fn on_request_end(&self, cx: &mut ReferenceContext, http: &mut HttpConn<'_, '_>) {
        let _ = match cx.route {
            Route::Page => http.respond_with(200, "text/html; charset=utf-8", CHAT_PAGE),
            Route::Stats => {
                let json = self.stats_json(http.conn);
                http.respond_with(200, "application/json", json)
            }
            Route::HttpEcho => {
                let body = std::mem::take(&mut cx.body).into_bytes();
                http.respond_with(200, "application/octet-stream", body)
            }
            Route::NeedsUpgrade => {
                let mut response = crate::web::Response::new(426);
                response
                    .headers_mut()
                    .append("Upgrade", "websocket")
                    .append("Connection", "Upgrade")
                    .append("Content-Length", "0");
                http.respond(response).and_then(|()| http.finish())
            }
            Route::NotAllowed(allow) => {
                let mut response = crate::web::Response::new(405);
                response
                    .headers_mut()
                    .append("Allow", allow)
                    .append("Content-Length", "0");
                http.respond(response).and_then(|()| http.finish())
            }
            Route::NotFound => http.respond_with(404, "text/plain", "not found\n"),
        };
    }

    /// The HTTP echo body being collected counts in the budget.
    fn buffered(&self, cx: &ReferenceContext) -> usize {
        cx.body.len()
    }

    fn on_ws_open(
        &self,
        cx: &mut ReferenceContext,
        conn: &mut Conn<'_, Outbound>,
        request: &Request,
        _offer: &ClientOffer,
    ) -> WsOpen {
        match request.target().split('?').next() {
            Some("/ws") => {
                cx.chat = true;
                self.room.join(conn.handle());
                WsOpen::accept()
            }
            Some("/echo") => WsOpen::accept(),
            _ => WsOpen::reject(404),
        }
    }

    fn on_message(&self, cx: &mut ReferenceContext, ws: &mut WsConn<'_, '_>, message: Message) {
        if !cx.chat {
            let _ = ws.send(&message);
        } else if let Message::Text(text) = message {
            // Validated UTF-8: the broadcast copies no payload.
            self.room
                .broadcast(&Outbound(crate::web::outbound::Out::Text(text)));
        }
    }

    fn on_close(
        &self,
        cx: &mut ReferenceContext,
        conn: &mut Conn<'_, Outbound>,
        _reason: &CloseReason,
        _ws: Option<&WsClosed>,
    ) {
        if cx.chat {
            self.room.leave(conn.id());
        }
    }
}

/// The reference server: parses the process's arguments (DESIGN.md, "The
/// reference server"), binds, prints `listening on IP:PORT` once, and
/// serves on runtime `R` until stopped; reloads on SIGUSR1/SIGUSR2.
///
/// ```no_run
/// // R = adapter_tokio::Tokio or adapter_smol::Smol
/// fn main_on<R: adapter_core::Runtime>() -> Result<(), Box<dyn std::error::Error>> {
///     adapter_core::example::reference_server::<R>()
/// }
/// ```
///
/// # Errors
///
/// A bad option, a bind failure, or what [`Server::run`] returns.
pub fn reference_server<R: Runtime>() -> Result<(), Box<dyn Error>> {
    let mut options = ReferenceOptions::parse(std::env::args().skip(1))?;
    if options.addrs.is_empty() {
        options.addrs.push(SocketAddr::from(([127, 0, 0, 1], 8080)));
    }
    let server = options.builder()?.build()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", server.local_addrs()[0])?;
    stdout.flush()?;
    drop(stdout);
    server.run::<R>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_body_keeps_one_piece_without_a_copy() {
        let chunk = Bytes::from(b"hello, world!".to_vec());
        let ptr = chunk.as_ptr();
        let mut body = EchoBody::default();
        body.push(chunk);
        assert_eq!(body.len(), 13);
        let out = body.into_bytes();
        assert_eq!(out.as_ptr(), ptr, "the same bytes, not a copy");
        assert_eq!(out, &b"hello, world!"[..]);
    }

    #[test]
    fn echo_body_joins_pieces_in_order() {
        let mut body = EchoBody::default();
        assert_eq!(body.len(), 0);
        for piece in ["ab", "c", "", "def"] {
            body.push(Bytes::from(piece));
        }
        assert_eq!(body.len(), 6);
        assert_eq!(body.into_bytes(), &b"abcdef"[..]);
        assert!(EchoBody::default().into_bytes().is_empty());
    }
}
