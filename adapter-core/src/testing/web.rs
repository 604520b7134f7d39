//! Loopback tests of the HTTP+WebSocket server ([`crate::web`]) and of the
//! reference server ([`crate::example::reference_server`]), written once and
//! instantiated by each runtime crate with [`web_tests!`](crate::web_tests)
//! and, against its `*-server` example run as a child process,
//! [`web_signal_tests!`](crate::web_signal_tests).
//!
//! Clients write raw HTTP/1.1 and RFC 6455 bytes with `std::net`, bounded by
//! [`WAIT`]; nothing sleeps to synchronise (a trickling client paces its
//! bytes, which is the attack, not a wait).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proto_core::{ErrorKind, Timer};

use super::{Child, Running, connect_socket, cpu_ticks, wait_until};
use crate::example::ReferenceOptions;
use crate::web::{ClientOffer, Request};
use crate::web::{HttpConn, Message, Outbound, WebHandler, WebService, WsClosed, WsConn, WsOpen};
use crate::{Builder, CloseReason, Conn, Protocol, Runtime};

/// Instantiates every generic HTTP+WebSocket test for a runtime type.
#[macro_export]
macro_rules! web_tests {
    ($rt:ty) => {
        $crate::web_tests!(@each $rt;
            web_defaults_are_all_finite,
            web_routes_answer_as_specified,
            web_frames_sent_with_the_upgrade_are_answered,
            web_trickled_head_gets_408_while_others_are_served,
            web_keep_alive_idle_closes_silently,
            web_websocket_idle_timeout_sends_1001,
            web_write_stall_closes_a_client_that_never_reads,
            web_caps_are_exact_and_recover,
            web_origin_is_checked_before_the_upgrade,
            web_context_is_dropped_exactly_once,
            web_malformed_http_gets_its_status_and_a_close,
            web_unmasked_client_frame_gets_1002,
            web_handler_deadline_answers_503,
            web_deferred_response_arrives,
            web_buffer_budget_closes_the_largest_websocket_with_1009,
            web_buffer_budget_answers_the_largest_upload_413,
            web_partial_heads_count_in_the_buffered_bytes,
        );
    };
    (@each $rt:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::testing::web::$name::<$rt>();
            }
        )*
    };
}

/// Instantiates the stop and reload tests against a runtime crate's
/// reference-server example, run as a child process.
#[macro_export]
macro_rules! web_signal_tests {
    ($example:literal) => {
        $crate::web_signal_tests!(@each $example;
            web_sigterm_drains_websockets_and_requests,
            web_sigterm_finishes_a_slow_response,
            web_reload_serves_every_request,
            web_out_of_descriptors_pauses_accepting_and_recovers,
        );
    };
    (@each $example:literal; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::testing::web::$name(&$crate::testing::example_path($example));
            }
        )*
    };
}

impl Running {
    /// Binds `builder` to `127.0.0.1:0` with 2 workers and no signals, and
    /// runs it on `R`.
    ///
    /// # Panics
    ///
    /// When the server cannot be built.
    pub fn start<R: Runtime, P: Protocol>(builder: Builder<P>) -> Self {
        let server = builder
            .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .workers(2)
            .handle_signals(false)
            .systemd_sockets(false)
            .build()
            .expect("server builds");
        Self::spawn::<R, _>(server)
    }

    /// The reference server with `args`, in this process.
    ///
    /// # Panics
    ///
    /// On a bad option.
    pub fn reference<R: Runtime>(args: &[&str]) -> Self {
        let options = ReferenceOptions::parse(args.iter().copied()).expect("options");
        Self::start::<R, _>(options.builder().expect("builder"))
    }

    /// A client connected to it.
    #[must_use]
    pub fn client(&self) -> WireClient {
        WireClient::connect(self.addr, None).expect("connects")
    }
}

/// An HTTP response as a test reads it.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The head, status line and fields.
    pub head: String,
    /// The `Content-Length` framed body.
    pub body: Vec<u8>,
}

/// A raw HTTP/1.1 and WebSocket client over a blocking socket.
#[derive(Debug)]
pub struct WireClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl WireClient {
    /// Connects to `addr`, from `from` if given.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub fn connect(addr: SocketAddr, from: Option<IpAddr>) -> io::Result<Self> {
        Self::connect_with(addr, from, None)
    }

    fn connect_with(
        addr: SocketAddr,
        from: Option<IpAddr>,
        rcvbuf: Option<usize>,
    ) -> io::Result<Self> {
        let stream = connect_socket(addr, from, rcvbuf)?;
        Ok(Self {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends raw bytes.
    ///
    /// # Panics
    ///
    /// When the write fails.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// The socket, for a test that then reads and writes it itself (without
    /// this client's buffers and their allocations).
    ///
    /// # Panics
    ///
    /// When bytes were received that no response or frame has taken yet.
    #[must_use]
    pub fn into_stream(self) -> TcpStream {
        assert!(self.buf.is_empty(), "{} unread bytes", self.buf.len());
        self.stream
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads one response (`Content-Length` framed or bodiless).
    ///
    /// # Errors
    ///
    /// EOF or a read error before a whole response.
    pub fn try_response(&mut self) -> io::Result<HttpResponse> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        };
        let head = String::from_utf8_lossy(&self.take(end)?).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(io::ErrorKind::InvalidData)?;
        let len = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let body = self.take(len)?;
        Ok(HttpResponse { status, head, body })
    }

    /// Reads one response.
    ///
    /// # Panics
    ///
    /// When none arrives within [`WAIT`].
    pub fn response(&mut self) -> HttpResponse {
        self.try_response().expect("a response within the bound")
    }

    /// `GET path` on this keep-alive connection.
    pub fn get(&mut self, path: &str) -> HttpResponse {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        self.response()
    }

    /// Asserts the server closes without sending anything more; returns
    /// how long that took.
    ///
    /// # Panics
    ///
    /// When bytes arrive or the connection stays open past [`WAIT`].
    pub fn expect_closed(&mut self) -> Duration {
        let start = Instant::now();
        assert!(self.buf.is_empty(), "unread bytes: {:?}", self.buf);
        match self.fill() {
            Ok(0) => {}
            Ok(_) => panic!(
                "expected a close, got {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected a close within the bound, got {e}"),
        }
        start.elapsed()
    }

    /// Sends a WebSocket upgrade for `path` with these extra fields and
    /// returns the answer.
    pub fn upgrade(&mut self, path: &str, host: &str, extra: &str) -> HttpResponse {
        self.send(
            format!(
                "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
            )
            .as_bytes(),
        );
        self.response()
    }

    /// Sends one WebSocket frame, masked as a client must unless `masked`
    /// is false.
    pub fn send_frame(&mut self, opcode: u8, payload: &[u8], masked: bool) {
        self.send(&frame(opcode, payload, masked));
    }

    /// Reads one (unmasked, server) frame: opcode and payload.
    ///
    /// # Errors
    ///
    /// EOF or a read error first.
    pub fn read_frame(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let head = self.take(2)?;
        let len = match head[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes(
                self.take(2)?.try_into().expect("2 bytes"),
            )),
            127 => u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")),
            n => u64::from(n),
        };
        let payload = self.take(usize::try_from(len).expect("fits"))?;
        Ok((head[0] & 0x0f, payload))
    }

    /// Reads frames until a close; returns its code.
    ///
    /// # Panics
    ///
    /// When no close frame arrives.
    pub fn expect_close_code(&mut self) -> u16 {
        loop {
            let (opcode, payload) = self.read_frame().expect("a close frame");
            if opcode == 8 {
                assert!(payload.len() >= 2, "a close code");
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    }
}

/// One WebSocket frame with FIN set, masked as a client's must be unless
/// `masked` is false.
fn frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => frame.push(mask_bit | u8::try_from(n).expect("small")),
        n @ 126..=0xffff => {
            frame.push(mask_bit | 126);
            frame.extend_from_slice(&u16::try_from(n).expect("medium").to_be_bytes());
        }
        n => {
            frame.push(mask_bit | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        frame.extend_from_slice(&key);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        frame.extend_from_slice(payload);
    }
    frame
}

fn num(json: &str, key: &str) -> Option<u64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// With no options, `/stats` reports every limit and timeout, each on and
/// finite, the pid, and every counter.
pub fn web_defaults_are_all_finite<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    let stats = server.client().get("/stats");
    assert_eq!(stats.status, 200);
    let json = String::from_utf8(stats.body).expect("utf-8");
    assert_eq!(num(&json, "pid"), Some(u64::from(std::process::id())));
    for key in [
        "max_connections",
        "max_connections_per_ip",
        "header_timeout_ms",
        "idle_timeout_ms",
        "write_timeout_ms",
        "body_timeout_ms",
        "handler_timeout_ms",
        "ws_ping_interval_ms",
        "ws_ping_timeout_ms",
        "ws_close_timeout_ms",
        "grace_ms",
        "drain_ms",
        "max_head_bytes",
        "max_headers",
        "max_body_bytes",
        "max_message_bytes",
        "max_buffered_bytes",
    ] {
        let value = num(&json, key).unwrap_or_else(|| panic!("{key} in {json}"));
        assert!(value > 0 && value < u64::from(u32::MAX), "{key}: {value}");
    }
    assert_eq!(num(&json, "max_connections"), Some(10_000));
    assert_eq!(num(&json, "header_timeout_ms"), Some(10_000));
    assert_eq!(num(&json, "max_message_bytes"), Some(16 * 1024 * 1024));
    assert_eq!(num(&json, "max_buffered_bytes"), Some(256 * 1024 * 1024));
    assert!(json.contains("\"origin\":\"same-host\""));
    for key in [
        "accepted",
        "rejected_global_cap",
        "rejected_per_ip_cap",
        "request_head",
        "keep_alive",
        "write_stall",
        "malformed",
        "bytes_in",
        "bytes_out",
        "ws_messages_in",
        "ws_messages_out",
        "buffered_bytes",
        "closed_over_budget",
        "accept_errors",
    ] {
        assert!(num(&json, key).is_some(), "{key} in {json}");
    }
}

/// The chat page, HTTP echo, WebSocket echo (same opcode), chat broadcast
/// to every client including the sender, 404, 405 and 426.
pub fn web_routes_answer_as_specified<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    let mut c = server.client();
    let page = c.get("/");
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("/ws"));
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    let echo = c.response();
    assert_eq!((echo.status, &echo.body[..]), (200, &b"abcde"[..]));
    assert!(echo.head.contains("Content-Length: 5"));
    assert_eq!(c.get("/nowhere").status, 404);
    c.send(b"DELETE /stats HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nxx");
    assert_eq!(c.response().status, 405);
    // RFC 9110 §10.1.1: the body is asked for with a 100 before it is sent.
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(c.response().status, 100);
    c.send(b"hi");
    let echo = c.response();
    assert_eq!((echo.status, &echo.body[..]), (200, &b"hi"[..]));
    assert_eq!(c.get("/echo").status, 426);
    assert_eq!(c.upgrade("/nowhere", "t", "").status, 404);

    let mut echo = server.client();
    assert_eq!(echo.upgrade("/echo", "t", "").status, 101);
    echo.send_frame(1, "héllo".as_bytes(), true);
    assert_eq!(
        echo.read_frame().expect("echo"),
        (1, "héllo".as_bytes().to_vec())
    );
    let big = vec![7u8; 200_000];
    echo.send_frame(2, &big, true);
    assert_eq!(echo.read_frame().expect("echo"), (2, big));

    let mut a = server.client();
    let mut b = server.client();
    assert_eq!(a.upgrade("/ws", "t", "").status, 101);
    assert_eq!(b.upgrade("/ws", "t", "").status, 101);
    wait_until("both joined", || server.handle.stats().ws_opened == 3);
    a.send_frame(1, b"hi all", true);
    assert_eq!(a.read_frame().expect("own"), (1, b"hi all".to_vec()));
    assert_eq!(b.read_frame().expect("other"), (1, b"hi all".to_vec()));
    let stats = server.handle.stats();
    assert!(
        stats.ws_messages_in >= 3 && stats.ws_messages_out >= 4,
        "{stats:?}"
    );
}

/// Frames written right behind the upgrade request, in the same write,
/// are answered once the WebSocket opens: they reach its machine as the
/// upgrade's trailing bytes, not from the socket, so nothing but the
/// driver's own rounds brings them to the handler.
pub fn web_frames_sent_with_the_upgrade_are_answered<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    let mut c = server.client();
    let mut bytes = b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        .to_vec();
    bytes.extend(frame(1, b"first", true));
    bytes.extend(frame(2, &[9; 300], true));
    c.send(&bytes);
    assert_eq!(c.response().status, 101);
    assert_eq!(c.read_frame().expect("echo"), (1, b"first".to_vec()));
    assert_eq!(c.read_frame().expect("echo"), (2, vec![9; 300]));
}

/// A client trickling a head one byte at a time gets `408` and a close at
/// the head deadline, while 50 ordinary requests on other connections all
/// succeed.
pub fn web_trickled_head_gets_408_while_others_are_served<R: Runtime>() {
    let server = Running::reference::<R>(&["--header-timeout-ms", "600"]);
    let mut trickler = server.client();
    let mut writer = trickler.stream.try_clone().expect("clone");
    let stop = Arc::new(AtomicBool::new(false));
    let pacer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let bytes = b"GET / HTTP/1.1\r\nX-Slow: "
                .iter()
                .chain([b'a'; 400].iter());
            for byte in bytes {
                if stop.load(Ordering::SeqCst) || writer.write_all(&[*byte]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let start = Instant::now();
    for i in 0..50 {
        let mut c = server.client();
        let r = c.get(&format!("/nowhere{i}"));
        assert_eq!(r.status, 404, "request {i}");
    }
    let answer = trickler.response();
    let took = start.elapsed();
    stop.store(true, Ordering::SeqCst);
    assert_eq!(answer.status, 408);
    assert!(took >= Duration::from_millis(550), "{took:?}");
    trickler.expect_closed();
    pacer.join().expect("pacer");
    assert_eq!(server.handle.stats().timeouts(Timer::RequestHead), 1);
}

/// An idle keep-alive connection is closed silently at the idle deadline.
pub fn web_keep_alive_idle_closes_silently<R: Runtime>() {
    let server = Running::reference::<R>(&["--idle-timeout-ms", "300"]);
    let mut c = server.client();
    let start = Instant::now();
    assert_eq!(c.get("/stats").status, 200);
    c.expect_closed();
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    wait_until("the timeout is counted", || {
        server.handle.stats().timeouts(Timer::KeepAlive) == 1
    });
}

/// An idle WebSocket gets close 1001 at the idle deadline.
pub fn web_websocket_idle_timeout_sends_1001<R: Runtime>() {
    let server = Running::reference::<R>(&["--idle-timeout-ms", "300"]);
    let mut c = server.client();
    assert_eq!(c.upgrade("/echo", "t", "").status, 101);
    let start = Instant::now();
    assert_eq!(c.expect_close_code(), 1001);
    assert!(start.elapsed() >= Duration::from_millis(250));
    assert_eq!(server.handle.stats().timeouts(Timer::Idle), 1);
}

/// A client with a small receive buffer that pipelines requests and never
/// reads is closed at the write-stall deadline; meanwhile the server's
/// buffered bytes stay bounded (pipelined requests wait while a response
/// is queued).
pub fn web_write_stall_closes_a_client_that_never_reads<R: Runtime>() {
    let server = Running::reference::<R>(&["--write-timeout-ms", "500"]);
    let c = WireClient::connect_with(server.addr, None, Some(4096)).expect("connects");
    let mut writer = c.stream.try_clone().expect("clone");
    writer
        .set_write_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let flooder = std::thread::spawn(move || {
        let request = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".repeat(100);
        for _ in 0..200 {
            if writer.write_all(&request).is_err() {
                break;
            }
        }
    });
    let mut peak = 0;
    wait_until("the write stall closes it", || {
        let stats = server.handle.stats();
        peak = peak.max(stats.buffered_bytes);
        stats.timeouts(Timer::WriteStall) == 1
    });
    flooder.join().expect("flooder");
    assert!(peak > 0, "something was buffered");
    assert!(peak <= 512 * 1024, "buffered bytes peaked at {peak}");
    wait_until("the buffers are released", || {
        server.handle.stats().buffered_bytes == 0
    });
    drop(c);
}

/// The global and per-IP caps over HTTP: exact, counted, closed unread,
/// recovering when a connection closes.
pub fn web_caps_are_exact_and_recover<R: Runtime>() {
    let server =
        Running::reference::<R>(&["--max-connections", "3", "--max-connections-per-ip", "2"]);
    let from = |last: u8| {
        WireClient::connect(server.addr, Some(IpAddr::from([127, 0, 0, last]))).expect("connects")
    };
    let mut a1 = from(2);
    let mut a2 = from(2);
    assert_eq!(a1.get("/stats").status, 200);
    assert_eq!(a2.get("/stats").status, 200);
    let mut a3 = from(2);
    a3.expect_closed();
    let mut b1 = from(3);
    assert_eq!(b1.get("/stats").status, 200);
    let mut b2 = from(3);
    b2.expect_closed();
    let stats = server.handle.stats();
    assert_eq!(
        (
            stats.accepted,
            stats.rejected_per_ip_cap,
            stats.rejected_global_cap
        ),
        (3, 1, 1)
    );
    drop(a1);
    wait_until("a place is free", || {
        server.handle.admission().active() == 2
    });
    let mut again = from(2);
    let json = String::from_utf8(again.get("/stats").body).expect("utf-8");
    assert_eq!(num(&json, "rejected_global_cap"), Some(1));
    assert_eq!(num(&json, "rejected_per_ip_cap"), Some(1));
    assert_eq!(b1.get("/stats").status, 200);
}

/// Counts a [`Probe`]'s contexts and callbacks.
#[derive(Debug, Default)]
pub struct ProbeCounters {
    /// Contexts created.
    pub created: AtomicUsize,
    /// Contexts dropped.
    pub dropped: AtomicUsize,
    /// `on_ws_open` calls.
    pub ws_opens: AtomicUsize,
    /// `on_error` calls.
    pub errors: AtomicUsize,
}

/// A test handler: `/never` is never answered (the handler deadline's
/// case), `/later` is answered from another thread, anything else `200 ok`;
/// WebSockets are accepted and echo.
#[derive(Debug, Default)]
pub struct Probe {
    counters: Arc<ProbeCounters>,
}

/// The [`Probe`]'s context: counts its drop, checks the close came first.
#[derive(Debug)]
pub struct ProbeContext {
    counters: Arc<ProbeCounters>,
    closed: bool,
}

impl Drop for ProbeContext {
    fn drop(&mut self) {
        assert!(self.closed, "on_close runs before the drop");
        self.counters.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl WebHandler for Probe {
    type Context = ProbeContext;

    fn on_connect(&self, _conn: &mut Conn<'_, Outbound>) -> ProbeContext {
        self.counters.created.fetch_add(1, Ordering::SeqCst);
        ProbeContext {
            counters: Arc::clone(&self.counters),
            closed: false,
        }
    }

    fn on_request_end(&self, _: &mut ProbeContext, http: &mut HttpConn<'_, '_>) {
        match http.request().target() {
            "/never" => {}
            "/later" => {
                let deferred = http.defer();
                std::thread::spawn(move || {
                    let _ = deferred.respond_with(200, "text/plain", "later");
                });
            }
            _ => drop(http.respond_with(200, "text/plain", "ok")),
        }
    }

    fn on_ws_open(
        &self,
        _: &mut ProbeContext,
        _: &mut Conn<'_, Outbound>,
        _: &Request,
        _: &ClientOffer,
    ) -> WsOpen {
        self.counters.ws_opens.fetch_add(1, Ordering::SeqCst);
        WsOpen::accept()
    }

    fn on_message(&self, _: &mut ProbeContext, ws: &mut WsConn<'_, '_>, message: Message) {
        let _ = ws.send(&message);
    }

    fn on_close(
        &self,
        cx: &mut ProbeContext,
        _: &mut Conn<'_, Outbound>,
        _: &CloseReason,
        _: Option<&WsClosed>,
    ) {
        assert!(!cx.closed, "one on_close per connection");
        cx.closed = true;
    }

    fn on_error(&self, _: &mut ProbeContext, _: &mut Conn<'_, Outbound>, _: &crate::web::WebError) {
        self.counters.errors.fetch_add(1, Ordering::SeqCst);
    }
}

fn probe<R: Runtime>(
    configure: impl FnOnce(WebService<Probe>) -> WebService<Probe>,
) -> (Running, Arc<ProbeCounters>) {
    let probe = Probe::default();
    let counters = Arc::clone(&probe.counters);
    let service = configure(WebService::new(probe));
    (
        Running::start::<R, _>(crate::Server::builder(service)),
        counters,
    )
}

/// A forbidden Origin gets 403 and a close before any upgrade, with no
/// open callback; an allowed one opens; without an allowlist a browser's
/// Origin must match Host; a missing Origin is allowed, `null` refused.
pub fn web_origin_is_checked_before_the_upgrade<R: Runtime>() {
    let policy = proto_core::OriginPolicy::allow_list(["https://app.example"]).expect("origin");
    let (server, counters) = probe::<R>(|s| s.origin_policy(policy));
    let mut forged = server.client();
    let refused = forged.upgrade("/ws", "t", "Origin: https://evil.example\r\n");
    assert_eq!(refused.status, 403);
    forged.expect_closed();
    assert_eq!(counters.ws_opens.load(Ordering::SeqCst), 0);
    let mut ok = server.client();
    assert_eq!(
        ok.upgrade("/ws", "t", "Origin: https://app.example\r\n")
            .status,
        101
    );
    assert_eq!(counters.ws_opens.load(Ordering::SeqCst), 1);
    ok.send_frame(1, b"in", true);
    assert_eq!(ok.read_frame().expect("echo"), (1, b"in".to_vec()));
    assert_eq!(
        server
            .handle
            .stats()
            .protocol_errors(ErrorKind::PolicyViolation),
        1
    );

    // Same-host mode, the reference server's default.
    let server = Running::reference::<R>(&[]);
    let host = server.addr.to_string();
    let same = format!("Origin: http://{host}\r\n");
    assert_eq!(server.client().upgrade("/echo", &host, &same).status, 101);
    let other = "Origin: http://127.0.0.1:1\r\n";
    assert_eq!(server.client().upgrade("/echo", &host, other).status, 403);
    assert_eq!(server.client().upgrade("/echo", &host, "").status, 101);
    let null = "Origin: null\r\n";
    assert_eq!(server.client().upgrade("/echo", &host, null).status, 403);
    // With --allow-origin, same-host is replaced.
    let server = Running::reference::<R>(&["--allow-origin", "https://app.example"]);
    let host = server.addr.to_string();
    let same = format!("Origin: http://{host}\r\n");
    assert_eq!(server.client().upgrade("/echo", &host, &same).status, 403);
    let listed = "Origin: https://app.example\r\n";
    assert_eq!(server.client().upgrade("/echo", &host, listed).status, 101);
}

/// Every context is dropped exactly once, after its close callback, however
/// the connection ended: normally, by peer error, by timeout, as a
/// WebSocket, by force.
pub fn web_context_is_dropped_exactly_once<R: Runtime>() {
    let (server, counters) = probe::<R>(|s| {
        let mut http = proto_http::Config::default();
        http.request_head_timeout(Duration::from_millis(200))
            .keep_alive_timeout(Duration::from_millis(200));
        s.http_config(http).expect("config")
    });
    // Normal request, then the client leaves.
    let mut c = server.client();
    assert_eq!(c.get("/").status, 200);
    drop(c);
    // Peer error.
    let mut c = server.client();
    c.send(b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(c.response().status, 400);
    // Head timeout and keep-alive timeout.
    let mut slow = server.client();
    slow.send(b"GET / HT");
    let idle = server.client();
    // A WebSocket closed by the client, one failed by a bad frame.
    let mut ws = server.client();
    assert_eq!(ws.upgrade("/ws", "t", "").status, 101);
    ws.send_frame(8, &1000u16.to_be_bytes(), true);
    assert_eq!(ws.expect_close_code(), 1000);
    let mut bad = server.client();
    assert_eq!(bad.upgrade("/ws", "t", "").status, 101);
    bad.send_frame(1, b"x", false);
    assert_eq!(bad.expect_close_code(), 1002);
    assert_eq!(slow.response().status, 408);
    wait_until("every connection closed", || {
        counters.dropped.load(Ordering::SeqCst) == 6
    });
    assert_eq!(counters.created.load(Ordering::SeqCst), 6);
    // Open ones, closed by a forced stop.
    let _open: Vec<WireClient> = (0..3).map(|_| server.client()).collect();
    wait_until("three more are open", || {
        counters.created.load(Ordering::SeqCst) == 9
    });
    server.handle.force_stop();
    wait_until("every context dropped once", || {
        counters.dropped.load(Ordering::SeqCst) == 9
    });
    assert_eq!(counters.errors.load(Ordering::SeqCst), 2);
    drop(idle);
}

/// Request smuggling and obs-fold get their 4xx and a close over the wire,
/// counted.
pub fn web_malformed_http_gets_its_status_and_a_close<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    for (bytes, status) in [
        (
            &b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"[..],
            400,
        ),
        (&b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n"[..], 400),
        (&b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"[..], 501),
    ] {
        let mut c = server.client();
        c.send(bytes);
        let answer = c.response();
        assert_eq!(answer.status, status, "{}", String::from_utf8_lossy(bytes));
        c.expect_closed();
    }
    let stats = server.handle.stats();
    assert_eq!(stats.protocol_errors(ErrorKind::Malformed), 2);
    assert_eq!(stats.protocol_errors(ErrorKind::NotImplemented), 1);
}

/// An unmasked client frame gets close 1002 over the wire, counted; so does
/// one that arrived in the same packet as the upgrade request.
pub fn web_unmasked_client_frame_gets_1002<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    let mut c = server.client();
    assert_eq!(c.upgrade("/echo", "t", "").status, 101);
    c.send_frame(1, b"unmasked", false);
    assert_eq!(c.expect_close_code(), 1002);
    let mut eager = server.client();
    eager.send(
        b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81\x02hi",
    );
    assert_eq!(eager.response().status, 101);
    assert_eq!(eager.expect_close_code(), 1002);
    wait_until("both are counted", || {
        server.handle.stats().protocol_errors(ErrorKind::Malformed) == 2
    });
}

/// A handler that misses its deadline: the request is answered 503 and
/// the connection serves the next one.
pub fn web_handler_deadline_answers_503<R: Runtime>() {
    let (server, _) = probe::<R>(|s| s.handler_timeout(Duration::from_millis(200)));
    let mut c = server.client();
    let start = Instant::now();
    assert_eq!(c.get("/never").status, 503);
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert_eq!(c.get("/").status, 200);
    assert_eq!(server.handle.stats().timeouts(Timer::Handler), 1);
}

/// A response finished later from another thread arrives, and the
/// connection goes on.
pub fn web_deferred_response_arrives<R: Runtime>() {
    let (server, _) = probe::<R>(|s| s);
    let mut c = server.client();
    let later = c.get("/later");
    assert_eq!((later.status, &later.body[..]), (200, &b"later"[..]));
    assert_eq!(c.get("/").status, 200);
}

const KIB: usize = 1024;
/// The budget the buffer tests run with: 1 MiB.
const BUDGET: &str = "1048576";

/// A `/echo` WebSocket that has sent `sent` bytes of one masked binary
/// frame of `len` payload bytes; the rest is returned, to send later.
fn slow_sender(server: &Running, len: usize, sent: usize) -> (WireClient, Vec<u8>) {
    let mut c = server.client();
    assert_eq!(c.upgrade("/echo", "t", "").status, 101);
    let mut bytes = frame(2, &vec![b'w'; len], true);
    let rest = bytes.split_off(bytes.len() - (len - sent));
    c.send(&bytes);
    (c, rest)
}

/// Sends the rest of a [`slow_sender`]'s frame and reads the echo.
fn finish_slow_sender(c: &mut WireClient, rest: &[u8], len: usize) {
    c.send(rest);
    let (opcode, payload) = c.read_frame().expect("the echo");
    assert_eq!((opcode, payload.len()), (2, len));
    assert!(payload.iter().all(|b| *b == b'w'));
}

/// With a 1 MiB budget, three WebSockets send large messages slowly (600,
/// 300 and 300 KiB of them, never completed at first): when the third
/// pushes the buffered bytes over the budget, reads pause and the largest
/// is closed with 1009, alone; the other two finish their messages and get
/// them back, a small client keeps being served, the gauge returns to 0,
/// and reads resume for a large message.
pub fn web_buffer_budget_closes_the_largest_websocket_with_1009<R: Runtime>() {
    let server = Running::reference::<R>(&["--max-buffered-bytes", BUDGET]);
    let gauge = || server.handle.stats().buffered_bytes;
    let mut small = server.client();
    assert_eq!(small.upgrade("/echo", "t", "").status, 101);
    small.send_frame(1, b"before", true);
    assert_eq!(small.read_frame().expect("echo"), (1, b"before".to_vec()));

    let (mut largest, _) = slow_sender(&server, 900 * KIB, 600 * KIB);
    wait_until("the largest is buffered", || gauge() >= 600 * KIB as u64);
    let (mut second, second_rest) = slow_sender(&server, 400 * KIB, 300 * KIB);
    wait_until("the second is buffered", || gauge() >= 900 * KIB as u64);
    // The third crosses 1 MiB part way.
    let (mut third, third_rest) = slow_sender(&server, 400 * KIB, 300 * KIB);
    assert_eq!(largest.expect_close_code(), 1009);
    wait_until("the third is read whole", || {
        gauge() >= 600 * KIB as u64 && gauge() <= 1024 * KIB as u64
    });
    assert_eq!(server.handle.stats().closed_over_budget, 1);

    small.send_frame(1, b"during", true);
    assert_eq!(small.read_frame().expect("echo"), (1, b"during".to_vec()));
    finish_slow_sender(&mut second, &second_rest, 400 * KIB);
    finish_slow_sender(&mut third, &third_rest, 400 * KIB);
    drop((largest, second, third));
    wait_until("the buffers are released", || gauge() == 0);

    // Reads resumed: a large message goes through whole.
    let (mut again, rest) = slow_sender(&server, 700 * KIB, 0);
    finish_slow_sender(&mut again, &rest, 700 * KIB);
    small.send_frame(1, b"after", true);
    assert_eq!(small.read_frame().expect("echo"), (1, b"after".to_vec()));
    let stats = server.handle.stats();
    assert_eq!(stats.closed_over_budget, 1, "{stats:?}");
    assert_eq!(stats.protocol_errors, [0; ErrorKind::COUNT], "{stats:?}");
}

/// Heads still being received are held by the HTTP parser, not by the
/// handler: the buffered-bytes gauge counts them too (a budget that did not
/// would let many trickled heads hold memory unseen), and releases them
/// when their connections close.
pub fn web_partial_heads_count_in_the_buffered_bytes<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    let gauge = || server.handle.stats().buffered_bytes;
    let mut part = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
    part.extend_from_slice(format!("X-Filler: {}\r\n", "f".repeat(7 * KIB)).as_bytes());
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut client = server.client();
        client.send(&part);
        clients.push(client);
    }
    let held = (4 * part.len()) as u64;
    wait_until("the partial heads are counted", || gauge() >= held);
    drop(clients);
    wait_until("the buffers are released", || gauge() == 0);
}

/// With a 1 MiB budget, an HTTP upload to `/echo` whose body the handler
/// collects (600 KiB of 900 KiB sent) is the largest when two WebSockets
/// push the buffered bytes over the budget: it gets `413` and a close; the
/// WebSockets and a small HTTP client are served, `/stats` reports the
/// close and the budget, the gauge returns to 0, and a large upload then
/// goes through.
pub fn web_buffer_budget_answers_the_largest_upload_413<R: Runtime>() {
    let server = Running::reference::<R>(&["--max-buffered-bytes", BUDGET]);
    let gauge = || server.handle.stats().buffered_bytes;
    let mut small = server.client();
    assert_eq!(small.get("/stats").status, 200);

    let mut upload = server.client();
    upload.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 921600\r\n\r\n");
    upload.send(&vec![b'u'; 600 * KIB]);
    wait_until("the upload is collected", || gauge() >= 600 * KIB as u64);
    let (mut first, first_rest) = slow_sender(&server, 400 * KIB, 300 * KIB);
    wait_until("the first is buffered", || gauge() >= 900 * KIB as u64);
    let (mut second, second_rest) = slow_sender(&server, 400 * KIB, 300 * KIB);
    let refused = upload.response();
    assert_eq!(refused.status, 413, "{}", refused.head);
    assert!(
        refused.head.contains("Connection: close"),
        "{}",
        refused.head
    );
    upload.expect_closed();
    drop(upload);

    finish_slow_sender(&mut first, &first_rest, 400 * KIB);
    finish_slow_sender(&mut second, &second_rest, 400 * KIB);
    let json = String::from_utf8(small.get("/stats").body).expect("utf-8");
    assert_eq!(num(&json, "closed_over_budget"), Some(1), "{json}");
    assert_eq!(
        num(&json, "max_buffered_bytes"),
        Some(1024 * 1024),
        "{json}"
    );
    drop((first, second));
    wait_until("the buffers are released", || gauge() == 0);

    let body = vec![b'v'; 700 * KIB];
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    small.send(&request);
    let echo = small.response();
    assert_eq!((echo.status, echo.body.len()), (200, body.len()));
    assert_eq!(server.handle.stats().closed_over_budget, 1);
}

fn stats_of(addr: SocketAddr) -> io::Result<String> {
    let mut c = WireClient::connect(addr, None)?;
    c.send(b"GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let r = c.try_response()?;
    if r.status != 200 {
        return Err(io::Error::other(format!("status {}", r.status)));
    }
    String::from_utf8(r.body).map_err(io::Error::other)
}

/// A server out of file descriptors (`EMFILE` on accept: the application
/// holds many, here inherited ones) keeps serving the connections it has,
/// counts the failed accepts in `/stats`, backs off instead of spinning on
/// the listener, and accepts the waiting connections once descriptors are
/// free again.
///
/// The example runs under `ulimit -n 128` holding 95 extra descriptors, with
/// `--max-connections 40`: the cap is allowed (40 + 65 reserved <= 128) but
/// at most 30 descriptors are left for connections, so 45 clients meet
/// `EMFILE` before the cap.
pub fn web_out_of_descriptors_pauses_accepting_and_recovers(example: &std::path::Path) {
    const CLIENTS: usize = 45;
    // bash: dash cannot redirect descriptors above 9.
    let mut command = std::process::Command::new("bash");
    command.args([
        "-c",
        "ulimit -n 128 || exit 1; i=10; while [ $i -lt 105 ]; do eval \"exec $i</dev/null\"; \
         i=$((i + 1)); done; exec \"$0\" \"$@\"",
    ]);
    command.arg(example).args([
        "--addr",
        "127.0.0.1:0",
        "--max-connections",
        "40",
        "--workers",
        "1",
    ]);
    let server = Child::start(command);
    let pid = server.child.id();
    let echo = |i: usize| {
        let body = format!("hello {i}");
        format!(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let mut clients: Vec<WireClient> = (0..CLIENTS)
        .map(|i| {
            let mut c = WireClient::connect(server.addr, None).expect("the kernel queues it");
            c.send(echo(i).as_bytes());
            c
        })
        .collect();
    // Served while others wait for descriptors, and the failures counted.
    assert_eq!(clients[0].response().body, b"hello 0");
    let mut errors = 0;
    wait_until("failed accepts are counted", || {
        let stats = clients[0].get("/stats");
        errors = num(&String::from_utf8_lossy(&stats.body), "accept_errors").expect("n");
        errors > 0
    });
    // The last cannot have been accepted: no descriptor is left for it.
    let last = &mut clients[CLIENTS - 1];
    last.stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    assert!(
        matches!(last.stream.read(&mut byte), Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)),
        "the last client is not served while descriptors are exhausted"
    );
    last.stream
        .set_read_timeout(Some(super::WAIT))
        .expect("timeout");
    // Backing off: over a second of EMFILE the accept loop uses a sliver of
    // CPU and retries a few times (a loop retrying at once would use all of
    // a core). Where there is a /proc to read the CPU time from.
    if let Some(before) = cpu_ticks(pid) {
        std::thread::sleep(Duration::from_secs(1));
        let used = cpu_ticks(pid).expect("/proc/PID/stat") - before;
        assert!(
            used < 25,
            "{used} ticks of CPU in one second out of descriptors"
        );
    }
    let stats = clients[0].get("/stats");
    let later = num(&String::from_utf8_lossy(&stats.body), "accept_errors").expect("n");
    assert!(later > errors, "still retrying: {errors} then {later}");
    assert!(later < 100, "{later} failed accepts: no back-off");
    // Descriptors come back: every waiting client is accepted and answered.
    let waiting = clients.split_off(20);
    drop(clients);
    for (i, mut c) in (20..).zip(waiting) {
        assert_eq!(c.response().body, format!("hello {i}").into_bytes());
    }
}

/// SIGTERM: the listener closes at once, an open WebSocket receives 1001, a
/// slow in-flight request completes, and the process exits 0.
pub fn web_sigterm_drains_websockets_and_requests(example: &std::path::Path) {
    let mut server = Child::spawn(example, &["--grace-ms", "300", "--drain-ms", "5000"]);
    let mut ws = WireClient::connect(server.addr, None).expect("connects");
    assert_eq!(ws.upgrade("/ws", "t", "").status, 101);
    let before = num(&stats_of(server.addr).expect("stats"), "http_requests").expect("n");
    let mut slow = WireClient::connect(server.addr, None).expect("connects");
    slow.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello");
    wait_until("the slow request is in", || {
        stats_of(server.addr)
            .ok()
            .and_then(|s| num(&s, "http_requests"))
            .is_some_and(|n| n >= before + 3)
    });
    server.signal("TERM");
    wait_until("new connections are refused", || {
        server.refuses_connections()
    });
    assert_eq!(ws.expect_close_code(), 1001);
    slow.send(b"world");
    let answer = slow.response();
    assert_eq!((answer.status, &answer.body[..]), (200, &b"helloworld"[..]));
    let status = server.wait_exit();
    assert!(status.success(), "{status}");
}

/// SIGTERM while a 12 MiB response is partly written to a client that
/// reads it slowly (a small receive window, small reads, and a pause past
/// the grace): new connections are refused from the signal on, yet the
/// client receives every byte of the response, in order, then the
/// connection closes, and the process exits 0 before the drain deadline.
/// A connection with output still pending is not quiet, however long the
/// grace has passed.
pub fn web_sigterm_finishes_a_slow_response(example: &std::path::Path) {
    const LEN: usize = 12 * 1024 * KIB;
    const GRACE: Duration = Duration::from_millis(300);
    const DRAIN: Duration = Duration::from_secs(8);
    let grace = GRACE.as_millis().to_string();
    let drain = DRAIN.as_millis().to_string();
    let mut server = Child::spawn(example, &["--grace-ms", &grace, "--drain-ms", &drain]);
    let bytes_out = || num(&stats_of(server.addr).expect("stats"), "bytes_out").expect("n");
    let before = bytes_out();
    // A small receive window: most of the response waits in the server.
    let mut c = WireClient::connect_with(server.addr, None, Some(64 * KIB)).expect("connects");
    let body: Vec<u8> = (0..251u8).cycle().take(LEN).collect();
    c.send(format!("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {LEN}\r\n\r\n").as_bytes());
    c.send(&body);
    let head_end = loop {
        if let Some(i) = c.buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        assert!(
            c.fill().expect("the response head") > 0,
            "EOF before the head"
        );
    };
    let head = String::from_utf8_lossy(&c.take(head_end).expect("head")).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {LEN}\r\n")),
        "{head}"
    );

    // Small reads with pauses: the slow reader.
    let mut received = std::mem::take(&mut c.buf);
    let mut read_slowly = |c: &mut WireClient, until: usize| {
        let mut chunk = vec![0; 16 * KIB];
        while received.len() < until {
            let n = c.stream.read(&mut chunk).expect("a read within the bound");
            assert!(n > 0, "EOF after {} of {LEN} body bytes", received.len());
            received.extend_from_slice(&chunk[..n]);
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    read_slowly(&mut c, 1024 * KIB);
    // The response is partly written: the server has not sent all of it.
    let sent = bytes_out() - before;
    assert!(sent < LEN as u64, "the server wrote {sent} bytes already");

    server.signal("TERM");
    let signalled = Instant::now();
    wait_until("new connections are refused", || {
        server.refuses_connections()
    });
    // The reader pauses past the grace, then takes the rest.
    std::thread::sleep(2 * GRACE);
    read_slowly(&mut c, LEN);
    assert_eq!(received.len(), LEN, "no byte more than the body");
    if let Some(at) = received.iter().zip(&body).position(|(a, b)| a != b) {
        panic!("the body differs from byte {at} on");
    }
    c.expect_closed();
    let status = server.wait_exit();
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < DRAIN,
        "exited before the drain deadline"
    );
}

/// Three consecutive reloads while four clients send requests
/// continuously: none fails, and `/stats` reports a new pid after each.
pub fn web_reload_serves_every_request(example: &std::path::Path) {
    super::reload_under_load(
        example,
        &|addr, _| stats_of(addr).map(drop).map_err(|e| e.to_string()),
        &|addr, pid| {
            let json = stats_of(addr).expect("stats");
            assert_eq!(num(&json, "pid"), Some(u64::from(pid)), "{json}");
        },
    );
}
