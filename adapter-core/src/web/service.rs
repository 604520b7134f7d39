//! [`WebService`]: the [`Protocol`] glue between the driver, the HTTP and
//! WebSocket machines and a [`WebHandler`].

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proto_core::{OriginPolicy, PeerError, Side, Timer};
use proto_http::Event as HttpEvent;
use proto_ws::Event as WsEvent;
use proto_ws::handshake::{HandshakeError, validate_request};

use super::handler::{
    Exchange, HttpConn, Message, WebHandler, WsClosed, WsConn, WsOpen, finish, respond,
    respond_whole,
};
use super::machine::{HttpMachine, WebError, WebMachine, WsMachine};
use super::outbound::{Out, Outbound};
use crate::protocol::{CloseReason, Conn, Protocol};

/// WebSocket messages queued for a connection whose `101` is not out yet,
/// at most.
const MAX_EARLY: usize = 64;
/// Output queued in a machine above which its events wait.
const OUTPUT_PAUSE: usize = 64 * 1024;

/// Serves a [`WebHandler`] over HTTP/1.1 and WebSocket: the [`Protocol`]
/// the driver runs.
///
/// Limits come from the two machines' configs (their defaults are finite),
/// the origin check from an [`OriginPolicy`] (same-host by default), and an
/// optional per-request handler deadline.
///
/// ```no_run
/// use adapter_core::Server;
/// use adapter_core::web::{WebService, WebHandler, HttpConn, Outbound};
/// use proto_core::OriginPolicy;
/// use std::time::Duration;
/// # struct App;
/// # impl WebHandler for App {
/// #     type Context = ();
/// #     fn on_connect(&self, _: &mut adapter_core::Conn<'_, Outbound>) {}
/// # }
///
/// let service = WebService::new(App)
///     .origin_policy(OriginPolicy::allow_list(["https://app.example.com"])?)
///     .handler_timeout(Duration::from_secs(5));
/// let server = Server::builder(service).bind("127.0.0.1:0".parse()?).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WebService<H> {
    handler: H,
    http: proto_http::Config,
    ws: proto_ws::Config,
    origin: OriginPolicy,
    handler_timeout: Option<Duration>,
}

impl<H> fmt::Debug for WebService<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebService")
            .field("http", &self.http)
            .field("ws", &self.ws)
            .field("origin", &self.origin)
            .field("handler_timeout", &self.handler_timeout)
            .finish_non_exhaustive()
    }
}

/// A machine config that cannot work, from [`WebService::http_config`] or
/// [`WebService::ws_config`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebConfigError {
    /// The HTTP config.
    Http(proto_http::ConfigError),
    /// The WebSocket config.
    Ws(proto_ws::ConfigError),
}

impl fmt::Display for WebConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http(e) => write!(f, "http config: {e}"),
            Self::Ws(e) => write!(f, "websocket config: {e}"),
        }
    }
}

impl std::error::Error for WebConfigError {}

impl<H: WebHandler> WebService<H> {
    /// Serves `handler` with the default limits, same-host origins and no
    /// handler deadline.
    pub fn new(handler: H) -> Self {
        Self {
            handler,
            http: proto_http::Config::default(),
            ws: proto_ws::Config::default(),
            origin: OriginPolicy::same_host(),
            handler_timeout: None,
        }
    }

    /// The HTTP/1.1 limits and deadlines (request head, keep-alive idle,
    /// body).
    ///
    /// # Errors
    ///
    /// When the config is inconsistent; the service is handed back
    /// unchanged... as an error value, so build it again.
    pub fn http_config(mut self, config: proto_http::Config) -> Result<Self, WebConfigError> {
        proto_http::Connection::new(Side::Server, config.clone()).map_err(WebConfigError::Http)?;
        self.http = config;
        Ok(self)
    }

    /// The WebSocket limits and deadlines (message size, idle, ping,
    /// close).
    ///
    /// # Errors
    ///
    /// When the config is inconsistent.
    pub fn ws_config(mut self, config: proto_ws::Config) -> Result<Self, WebConfigError> {
        proto_ws::Connection::new(Side::Server, config.clone(), Instant::now())
            .map_err(WebConfigError::Ws)?;
        self.ws = config;
        Ok(self)
    }

    /// Which browser origins may open WebSockets; default same-host.
    #[must_use]
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = policy;
        self
    }

    /// How long a handler may take to finish a response once the request
    /// is complete; default none. On overrun the request is answered `503`
    /// (or, if a response was already started, the connection is closed),
    /// counted as [`Timer::Handler`], and whatever the handler sends for it
    /// later is dropped; the connection serves its next request.
    #[must_use]
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = Some(timeout);
        self
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }
}

/// The per-connection state of a [`WebService`]: the handler's context
/// and the exchange in progress.
#[derive(Debug)]
pub struct WebSlot<C> {
    user: C,
    exchange: Exchange,
    /// The `101` to send once the upgrade request is complete.
    upgrade: Option<proto_http::Response>,
    /// WebSocket messages that arrived before the `101` was out.
    early: VecDeque<Outbound>,
    ws_closed: Option<WsClosed>,
    goodbye: bool,
    /// The last dispatch stopped with events still in the machine (output
    /// was queued past [`OUTPUT_PAUSE`]).
    events_left: bool,
}

impl<C> WebSlot<C> {
    /// The handler's context.
    pub fn context(&mut self) -> &mut C {
        &mut self.user
    }
}

impl<H: WebHandler> Protocol for WebService<H> {
    type Machine = WebMachine;
    type Context = WebSlot<H::Context>;
    type Message = Outbound;

    fn open(&self, conn: &mut Conn<'_, Outbound>) -> (WebMachine, Self::Context) {
        // Validated by `http_config`.
        let machine = WebMachine::http(self.http.clone()).expect("validated http config");
        let user = self.handler.on_connect(conn);
        let slot = WebSlot {
            user,
            exchange: Exchange::default(),
            upgrade: None,
            early: VecDeque::new(),
            ws_closed: None,
            goodbye: false,
            events_left: false,
        };
        (machine, slot)
    }

    fn dispatch(
        &self,
        machine: &mut WebMachine,
        slot: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
    ) {
        let trailing = match machine {
            WebMachine::Http(h) => match self.dispatch_http(h, slot, conn) {
                Some(trailing) => trailing,
                None => return,
            },
            WebMachine::Ws(ws) => return self.dispatch_ws(ws, slot, conn),
        };
        // Upgraded: the same driver now runs the WebSocket machine, fed
        // the bytes that followed the request first. The upgrade request
        // is no longer anyone's: it goes, with the receive block its head
        // is a view of, so an idle WebSocket holds neither.
        slot.exchange.request = None;
        let now = conn.now();
        let ws = proto_ws::Connection::new(Side::Server, self.ws.clone(), now)
            .expect("validated websocket config");
        let mut handover = Vec::new();
        if let WebMachine::Http(h) = machine {
            // The `101` is still queued in the HTTP machine.
            while h.conn.poll_transmit(now, &mut handover).is_some() {}
        }
        *machine = WebMachine::Ws(Box::new(WsMachine {
            conn: ws,
            trailing,
            handover,
        }));
        conn.stats().record_ws_opened();
        let WebMachine::Ws(ws) = machine else {
            unreachable!("just set")
        };
        while let Some(message) = slot.early.pop_front() {
            self.deliver_ws(&mut ws.conn, conn, message);
        }
        self.dispatch_ws(ws, slot, conn);
    }

    fn deliver(
        &self,
        machine: &mut WebMachine,
        slot: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
        message: Outbound,
    ) {
        match machine {
            WebMachine::Ws(ws) => self.deliver_ws(&mut ws.conn, conn, message),
            WebMachine::Http(h) => deliver_http(h, slot, conn, message),
        }
    }

    fn peer_error(
        &self,
        _machine: &mut WebMachine,
        slot: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
        error: &WebError,
    ) {
        self.handler.on_error(&mut slot.user, conn, error);
    }

    fn goodbye(
        &self,
        machine: &mut WebMachine,
        slot: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
    ) {
        slot.goodbye = true;
        slot.exchange.goodbye = true;
        if let WebMachine::Ws(ws) = machine {
            let _ = ws.conn.close(
                conn.now(),
                proto_ws::close_code::GOING_AWAY,
                "server stopping",
            );
        }
    }

    fn is_quiet(&self, machine: &WebMachine) -> bool {
        match machine {
            WebMachine::Http(h) => {
                h.conn.state() == proto_http::State::Idle && h.conn.pending_transmit() == 0
            }
            WebMachine::Ws(ws) => {
                ws.trailing.is_empty()
                    && ws.handover.is_empty()
                    && ws.conn.buffered_input() == 0
                    && ws.conn.buffered_output() == 0
            }
        }
    }

    fn events_left(&self, _machine: &WebMachine, slot: &Self::Context) -> bool {
        slot.events_left
    }

    fn buffered(&self, machine: &WebMachine, slot: &Self::Context) -> usize {
        let machine = match machine {
            WebMachine::Http(h) => h.conn.pending_transmit() + h.conn.buffered_input(),
            WebMachine::Ws(ws) => {
                ws.handover.len()
                    + ws.trailing.len()
                    + ws.conn.buffered_input()
                    + ws.conn.buffered_output()
            }
        };
        machine + self.handler.buffered(&slot.user)
    }

    /// WebSocket: close 1009 (message too big, RFC 6455 §7.4.1) at once,
    /// dropping the message being assembled. HTTP: a request not yet
    /// answered gets `413` with `Connection: close`, and the handler hears
    /// no more of it; otherwise (a response under way, or between
    /// requests) the connection just closes.
    fn over_budget(
        &self,
        machine: &mut WebMachine,
        slot: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
    ) {
        match machine {
            WebMachine::Ws(ws) => {
                if ws.conn.fail(proto_ws::close_code::TOO_BIG).is_err() {
                    conn.close();
                }
            }
            WebMachine::Http(h) => {
                let exchange = &mut slot.exchange;
                let unanswered = exchange.request.is_some()
                    && !exchange.started
                    && !exchange.finished
                    && h.conn.write_state() == proto_http::WriteState::AwaitingResponse;
                slot.upgrade = None;
                exchange.abandoned = true;
                if unanswered {
                    let too_large = (413, "text/plain", Bytes::new());
                    let _ = respond_whole(
                        &mut h.conn,
                        exchange,
                        &mut h.handler_deadline,
                        too_large,
                        true,
                    );
                }
                conn.close();
            }
        }
    }

    fn closed(
        &self,
        machine: &mut WebMachine,
        slot: &mut Self::Context,
        conn: &mut Conn<'_, Outbound>,
        reason: &CloseReason,
    ) {
        if machine.is_ws() && slot.ws_closed.is_none() {
            slot.ws_closed = Some(WsClosed {
                code: proto_ws::close_code::ABNORMAL,
                reason: String::new(),
            });
        }
        self.handler
            .on_close(&mut slot.user, conn, reason, slot.ws_closed.as_ref());
    }
}

/// Builds an [`HttpConn`] from the disjoint parts it borrows.
macro_rules! http_conn {
    ($h:expr, $slot:expr, $conn:expr) => {
        &mut HttpConn {
            machine: &mut $h.conn,
            exchange: &mut $slot.exchange,
            handler_deadline: &mut $h.handler_deadline,
            conn: $conn,
        }
    };
}

impl<H: WebHandler> WebService<H> {
    /// Drains HTTP events; returns the trailing bytes on an upgrade.
    fn dispatch_http(
        &self,
        h: &mut HttpMachine,
        slot: &mut WebSlot<H::Context>,
        conn: &mut Conn<'_, Outbound>,
    ) -> Option<Bytes> {
        if std::mem::take(&mut h.handler_expired) {
            self.handler_overran(h, slot, conn);
        }
        // Pipelined requests wait while a response is still queued, so a
        // peer that sends but never reads pins at most one response.
        slot.events_left = true;
        while h.conn.pending_transmit() < OUTPUT_PAUSE {
            let Some(event) = h.conn.poll_event() else {
                slot.events_left = false;
                break;
            };
            match event {
                HttpEvent::Request(_) => {
                    // Moved out, not cloned; the previous request's field
                    // index goes back to the machine for the next head, so
                    // a busy connection parses without allocating.
                    // (`take_request` always has the head just polled;
                    // nothing to serve otherwise.)
                    let Some(request) = h.conn.take_request() else {
                        continue;
                    };
                    if let Some(previous) = slot.exchange.request.take() {
                        h.conn.recycle_request(previous);
                    }
                    conn.stats().record_http_request();
                    slot.exchange = Exchange {
                        id: slot.exchange.id + 1,
                        goodbye: slot.goodbye,
                        ..Exchange::default()
                    };
                    if request.headers().has_token("upgrade", "websocket") {
                        self.upgrade_request(h, slot, conn, &request);
                        slot.exchange.request = Some(request);
                    } else {
                        slot.exchange.request = Some(request);
                        self.handler
                            .on_request(&mut slot.user, http_conn!(h, slot, conn));
                        // RFC 9110 §10.1.1: a client that sent
                        // `Expect: 100-continue` holds its body back until
                        // a 100; unless the handler answered from the head,
                        // ask for the body (and never fail for it).
                        if h.conn.is_waiting_for_continue()
                            && !slot.exchange.started
                            && !slot.exchange.abandoned
                        {
                            let _ = h.conn.send_informational(proto_http::Response::new(100));
                        }
                    }
                }
                HttpEvent::Data(chunk) if slot.upgrade.is_none() && !slot.exchange.abandoned => {
                    self.handler
                        .on_request_body(&mut slot.user, http_conn!(h, slot, conn), chunk);
                }
                HttpEvent::EndOfMessage { .. } => {
                    if let Some(response) = slot.upgrade.take() {
                        // Cannot fail: validated upgrade, request complete.
                        let _ = respond(&mut h.conn, &mut slot.exchange, response);
                    } else if !slot.exchange.abandoned && !slot.exchange.finished {
                        if let Some(timeout) = self.handler_timeout {
                            h.handler_deadline = conn.now().checked_add(timeout);
                        }
                        self.handler
                            .on_request_end(&mut slot.user, http_conn!(h, slot, conn));
                    }
                    // Answered and received whole: no callback sees this
                    // request again. Its head goes back now rather than at
                    // the next request, so the receive block it is a view
                    // of is the machine's alone again and the next read
                    // lands in it without allocating. (A deferred answer
                    // keeps it until the next request, as before.)
                    if slot.exchange.finished {
                        if let Some(request) = slot.exchange.request.take() {
                            h.conn.recycle_request(request);
                        }
                    }
                }
                HttpEvent::Upgraded { trailing } => return Some(trailing),
                HttpEvent::TimedOut(timer) => conn.stats().record_timeout(timer),
                _ => {}
            }
        }
        None
    }

    /// Validates an upgrade request and asks the handler; queues the `101`
    /// for the end of the request, or answers the refusal and closes.
    fn upgrade_request(
        &self,
        h: &mut HttpMachine,
        slot: &mut WebSlot<H::Context>,
        conn: &mut Conn<'_, Outbound>,
        request: &proto_http::Request,
    ) {
        let refusal = match validate_request(request, &self.origin) {
            Err(e) => {
                conn.stats().record_protocol_error(e.kind());
                e.response()
            }
            Ok(offer) => {
                match self
                    .handler
                    .on_ws_open(&mut slot.user, conn, request, &offer)
                {
                    WsOpen::Accept(protocol) => match offer.accept(protocol.as_deref()) {
                        Ok(response) => {
                            slot.upgrade = Some(response);
                            return;
                        }
                        Err(e) => HandshakeError::response(&e),
                    },
                    WsOpen::Reject(response) => response,
                }
            }
        };
        let mut refusal = refusal;
        refusal.headers_mut().insert("Connection", "close");
        if !refusal.headers().contains("content-length") {
            refusal.headers_mut().insert("Content-Length", "0");
        }
        let exchange = &mut slot.exchange;
        if respond(&mut h.conn, exchange, refusal).is_ok() {
            let _ = finish(&mut h.conn, exchange, &mut h.handler_deadline);
        }
        exchange.abandoned = true;
    }

    /// The handler missed its deadline: answer 503 if nothing was sent,
    /// else close; the handler hears no more of this request.
    fn handler_overran(
        &self,
        h: &mut HttpMachine,
        slot: &mut WebSlot<H::Context>,
        conn: &mut Conn<'_, Outbound>,
    ) {
        let exchange = &mut slot.exchange;
        if exchange.finished || exchange.abandoned {
            return;
        }
        conn.stats().record_timeout(Timer::Handler);
        exchange.abandoned = true;
        if exchange.started {
            conn.close();
            return;
        }
        let unavailable = (503, "text/plain", Bytes::new());
        let answered = respond_whole(
            &mut h.conn,
            exchange,
            &mut h.handler_deadline,
            unavailable,
            false,
        );
        if answered.is_err() {
            conn.close();
        }
    }

    fn dispatch_ws(
        &self,
        ws: &mut WsMachine,
        slot: &mut WebSlot<H::Context>,
        conn: &mut Conn<'_, Outbound>,
    ) {
        let now = conn.now();
        loop {
            // Messages wait while output is queued: a peer that never reads
            // stops being read (the machine's input backs up), never
            // buffered for without bound.
            slot.events_left = true;
            while ws.conn.buffered_output() < OUTPUT_PAUSE {
                let Some(event) = ws.conn.poll_event() else {
                    slot.events_left = false;
                    break;
                };
                let message = match event {
                    WsEvent::Text(b) => Message::Text(b),
                    WsEvent::Binary(b) => Message::Binary(b),
                    WsEvent::Closed { code, reason } => {
                        slot.ws_closed = Some(WsClosed { code, reason });
                        continue;
                    }
                    WsEvent::TimedOut(timer) => {
                        conn.stats().record_timeout(timer);
                        continue;
                    }
                    _ => continue,
                };
                conn.stats().record_ws_message_in();
                self.handler.on_message(
                    &mut slot.user,
                    &mut WsConn {
                        machine: &mut ws.conn,
                        conn: &mut *conn,
                    },
                    message,
                );
            }
            // Bytes left from the upgrade go in once events are drained (the
            // driver only feeds newer input after them), and the events
            // they make are dispatched on the next pass.
            if slot.events_left || ws.trailing.is_empty() {
                return;
            }
            let before = ws.trailing.len();
            match ws.feed_trailing(now) {
                Ok(_) if ws.trailing.len() == before => return,
                Ok(_) => {}
                Err(error) => {
                    // The driver never saw these bytes: count and report here.
                    ws.trailing.clear();
                    let error = WebError::Ws(error);
                    conn.stats().record_protocol_error(error.kind());
                    self.handler.on_error(&mut slot.user, conn, &error);
                }
            }
        }
    }

    fn deliver_ws(
        &self,
        ws: &mut proto_ws::Connection,
        conn: &mut Conn<'_, Outbound>,
        message: Outbound,
    ) {
        let sent = match message.0 {
            Out::Text(b) => ws.send_data(proto_ws::MessageKind::Text, &b, true),
            Out::Binary(b) => ws.send_data(proto_ws::MessageKind::Binary, &b, true),
            Out::Close(code, reason) => {
                let _ = ws.close(conn.now(), code, &reason);
                return;
            }
            Out::Head(..) | Out::Body(..) | Out::Finish(_) => return,
        };
        match sent {
            Ok(()) => conn.stats().record_ws_message_out(),
            // A peer too slow for its send buffer is not buffered for
            // without bound: closed as a policy violation.
            Err(proto_ws::SendError::Backpressure) => {
                let _ = ws.fail(proto_ws::close_code::POLICY_VIOLATION);
            }
            Err(_) => {}
        }
    }
}

fn deliver_http<C>(
    h: &mut HttpMachine,
    slot: &mut WebSlot<C>,
    conn: &mut Conn<'_, Outbound>,
    message: Outbound,
) {
    let exchange = &mut slot.exchange;
    let current = |id: u64, exchange: &Exchange| {
        id == exchange.id && !exchange.abandoned && !exchange.finished
    };
    // A failed command leaves the exchange unanswerable: close rather than
    // leave the client waiting.
    let result = match message.0 {
        Out::Text(_) | Out::Binary(_) => {
            if slot.upgrade.is_some() && slot.early.len() < MAX_EARLY {
                slot.early.push_back(message);
            }
            Ok(())
        }
        Out::Close(..) => {
            conn.close();
            Ok(())
        }
        Out::Head(id, response) if current(id, exchange) => {
            respond(&mut h.conn, exchange, *response)
        }
        Out::Body(id, data) if current(id, exchange) => h.conn.send_body(data),
        Out::Finish(id) if current(id, exchange) => {
            finish(&mut h.conn, exchange, &mut h.handler_deadline)
        }
        Out::Head(..) | Out::Body(..) | Out::Finish(_) => Ok(()),
    };
    if result.is_err() {
        conn.close();
    }
}
