//! Loopback tests of the [`client`](crate::client) module, written once,
//! generic over the [`Runtime`], and instantiated by each runtime crate with
//! [`client_tests!`](crate::client_tests).
//!
//! The peers are tiny blocking servers on `std::net` threads bound to
//! `127.0.0.1:0`, speaking through the server roles of the same proto
//! machines (or raw bytes, to misbehave), or our own server
//! ([`WebService`], the reference server) where its behaviour is the
//! point. Every wait is bounded: reads have timeouts, and the client side
//! runs under [`WAIT`].
//!
//! ```ignore
//! // adapter-tokio/tests/it/main.rs
//! adapter_core::client_tests!(adapter_tokio::Tokio);
//! ```

use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::pin::{Pin, pin};
use std::sync::mpsc;
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proto_core::{OriginPolicy, Side, Timer, Transmit};
use proto_http::{Event as HttpEvent, Request, Response};
use proto_ws::{Event as WsEvent, Violation};

use crate::client::{
    ClientConfig, Connector, Error, Fragment, FragmentError, Message, MessageKind,
};
use crate::runtime::{Runtime, Sleep};
use crate::testing::{Running, WAIT, wait_until};
use crate::web::{HttpConn, Outbound, WebHandler, WebService};
use crate::{Conn, Server};

/// Instantiates every generic client test for a runtime type.
#[macro_export]
macro_rules! client_tests {
    ($rt:ty) => {
        $crate::client_tests!(@each $rt;
            ws_round_trip_with_subprotocol_ping_and_close,
            ws_large_messages_round_trip,
            ws_recv_is_cancel_safe,
            ws_masked_frame_from_the_server_is_a_typed_error,
            ws_refused_handshake_is_a_typed_error,
            ws_handshake_timeout_against_a_silent_server,
            ws_fragments_and_pongs_against_our_server,
            ws_unsolicited_pong_reaches_the_server,
            http_get_and_post_reuse_one_connection,
            http_response_body_is_capped,
            http_request_on_a_fresh_connection,
            http_expect_continue_waits_for_our_servers_100,
            http_expect_continue_refused_from_the_head_sends_no_body,
            http_expect_continue_refused_chunked_request_is_ended_and_reused,
            http_expect_continue_sends_the_body_after_the_wait,
            connect_timeout_against_a_full_backlog,
            connect_refused_is_an_io_error,
        );
    };
    (@each $rt:ty; $($name:ident),* $(,)?) => {
        mod client {
            $(
                #[test]
                fn $name() {
                    $crate::client_testing::$name::<$rt>();
                }
            )*
        }
    };
}

// ---- Harness ---------------------------------------------------------------

/// Runs `main` on a fresh runtime with one worker, bounded by [`WAIT`].
fn run<R: Runtime, T, Fut>(main: impl FnOnce(R) -> Fut) -> T
where
    Fut: Future<Output = T>,
{
    R::run(1, |rt: R| async move {
        let bounded = timeout(&rt, WAIT, main(rt.clone())).await;
        bounded.expect("the client side finishes within the bound")
    })
    .expect("the runtime starts")
}

/// `future`'s output, or `None` when `limit` passes first (the future is
/// then dropped). Runtime-generic, for bounding any test conversation.
///
/// # Example
///
/// ```ignore
/// let bounded = timeout(&rt, Duration::from_secs(10), client.recv()).await;
/// let message = bounded.expect("a message within the bound");
/// ```
pub async fn timeout<R: Runtime, F: Future>(
    rt: &R,
    limit: Duration,
    future: F,
) -> Option<F::Output> {
    let at = Instant::now() + limit;
    let mut sleep = rt.sleep_until(at);
    let mut future = pin!(future);
    poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        while Pin::new(&mut sleep).poll(cx).is_ready() {
            if Instant::now() >= at {
                return Poll::Ready(None);
            }
            sleep.reset(at);
        }
        Poll::Pending
    })
    .await
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

/// A listener on `127.0.0.1:0` serving one connection with `serve` on a
/// thread.
fn serve_one<T: Send + 'static>(
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (SocketAddr, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(WAIT)).expect("read timeout");
        serve(stream)
    });
    (addr, thread)
}

fn ws_url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

/// Reads the next bytes, panicking on a timeout.
fn read_some(stream: &mut TcpStream, buf: &mut [u8]) -> usize {
    match stream.read(buf) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => 0,
        Err(e) => panic!("server read: {e}"),
    }
}

/// Writes everything `machine` queued.
fn flush<M: proto_core::Drive>(machine: &mut M, stream: &mut TcpStream) {
    let mut out = Vec::new();
    while let Some(t) = machine.poll_transmit(Instant::now(), &mut out) {
        let _ = stream.write_all(&out);
        out.clear();
        if t == Transmit::ShutdownWrite {
            let _ = stream.shutdown(Shutdown::Write);
        }
    }
}

/// The server side of the opening handshake: answers 101 choosing
/// `protocol` if the client offered it, and returns the bytes that followed
/// the request.
fn accept_ws(stream: &mut TcpStream, protocol: Option<&str>) -> Bytes {
    let mut http = proto_http::Connection::new(Side::Server, proto_http::Config::default())
        .expect("http config");
    let mut buf = vec![0u8; 16 * 1024];
    let mut request = None;
    loop {
        while let Some(event) = http.poll_event() {
            match event {
                HttpEvent::Request(r) => request = Some(r.into_owned()),
                HttpEvent::EndOfMessage { .. } => {
                    let request: Request = request.take().expect("a request head first");
                    let offer =
                        proto_ws::handshake::validate_request(&request, &OriginPolicy::same_host())
                            .expect("a valid handshake request");
                    let chosen = protocol.filter(|p| offer.protocols().iter().any(|o| o == p));
                    http.send_response(offer.accept(chosen).expect("accept"))
                        .expect("send 101");
                }
                HttpEvent::Upgraded { trailing } => {
                    flush(&mut http, stream);
                    return trailing;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        flush(&mut http, stream);
        let n = read_some(stream, &mut buf);
        assert!(n > 0, "the client closed during the handshake");
        let used = http
            .handle_input(Instant::now(), &buf[..n])
            .expect("a valid request");
        assert_eq!(used, n);
    }
}

/// A WebSocket echo server on one connection: each message is sent back
/// with the same opcode; returns the close code the client sent.
fn echo_ws(mut stream: TcpStream, leftover: &[u8]) -> Option<u16> {
    let mut ws =
        proto_ws::Connection::new(Side::Server, proto_ws::Config::default(), Instant::now())
            .expect("ws config");
    let mut pending = leftover.to_vec();
    let mut buf = vec![0u8; 64 * 1024];
    let mut close_code = None;
    while !ws.is_closed() {
        while !pending.is_empty() {
            let used = ws
                .handle_input(Instant::now(), &pending)
                .unwrap_or(pending.len());
            pending.drain(..used);
            while let Some(event) = ws.poll_event() {
                match event {
                    WsEvent::Text(text) => {
                        let text = std::str::from_utf8(&text).expect("utf-8");
                        ws.send_text(text).expect("echo");
                    }
                    WsEvent::Binary(data) => ws.send_binary(&data).expect("echo"),
                    // Only unsolicited pongs arrive (this server sends no
                    // ping): say what came.
                    WsEvent::Pong(payload) => {
                        let text = format!("pong {}", String::from_utf8_lossy(&payload));
                        ws.send_text(&text).expect("answer");
                    }
                    WsEvent::Closed { code, .. } => close_code = Some(code),
                    _ => {}
                }
            }
            flush(&mut ws, &mut stream);
        }
        if ws.is_closed() {
            break;
        }
        match read_some(&mut stream, &mut buf) {
            0 => ws.handle_eof(Instant::now()),
            n => pending.extend_from_slice(&buf[..n]),
        }
    }
    flush(&mut ws, &mut stream);
    close_code
}

/// A blocking HTTP/1.1 server on one connection: `GET /n` answers `n`
/// bytes of `x`, `POST /echo` echoes the body, anything else answers
/// `hello`; every response names the number of the request on this
/// connection in `X-Request`.
fn serve_http(mut stream: TcpStream) -> usize {
    let mut http = proto_http::Connection::new(Side::Server, proto_http::Config::default())
        .expect("http config");
    let mut buf = vec![0u8; 16 * 1024];
    let mut served = 0;
    let mut current: Option<(String, String)> = None;
    let mut body = Vec::new();
    loop {
        while let Some(event) = http.poll_event() {
            match event {
                HttpEvent::Request(r) => {
                    current = Some((r.method().to_owned(), r.target().to_owned()));
                    body.clear();
                }
                HttpEvent::Data(data) => body.extend_from_slice(&data),
                HttpEvent::EndOfMessage { .. } => {
                    let (method, target) = current.take().expect("a request");
                    served += 1;
                    let answer: Vec<u8> = match (method.as_str(), target.as_str()) {
                        ("POST", "/echo") => body.clone(),
                        ("GET", size) if size[1..].parse::<usize>().is_ok() => {
                            vec![b'x'; size[1..].parse().unwrap_or(0)]
                        }
                        _ => b"hello".to_vec(),
                    };
                    let mut response = Response::new(200);
                    response
                        .headers_mut()
                        .append("Content-Length", answer.len().to_string())
                        .append("X-Request", served.to_string());
                    http.send_response(response).expect("respond");
                    http.send_body(answer).expect("body");
                    http.finish().expect("finish");
                }
                _ => {}
            }
        }
        flush(&mut http, &mut stream);
        if http.is_closed() {
            return served;
        }
        match read_some(&mut stream, &mut buf) {
            0 => http.handle_eof(Instant::now()),
            n => {
                let used = http.handle_input(Instant::now(), &buf[..n]).unwrap_or(n);
                assert_eq!(used, n, "small requests fit");
            }
        }
    }
}

fn get(target: &str) -> Request {
    let mut request = Request::new("GET", target);
    request.headers_mut().append("Host", "127.0.0.1");
    request
}

// ---- WebSocket ---------------------------------------------------------------

/// Text, binary, ping and a clean close against an echo server, with a
/// negotiated subprotocol; the close code reaches the server.
pub fn ws_round_trip_with_subprotocol_ping_and_close<R: Runtime>() {
    let (addr, server) = serve_one(|mut stream| {
        let leftover = accept_ws(&mut stream, Some("superchat"));
        echo_ws(stream, &leftover)
    });
    run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.protocols(["chat", "superchat"]);
        let connector = Connector::with_config(rt, config);
        let mut ws = assert_send(connector.websocket(&ws_url(addr, "/echo")))
            .await
            .expect("handshake");
        assert_eq!(ws.protocol(), Some("superchat"));

        assert_send(ws.send_text("héllo")).await.expect("send text");
        let echoed = assert_send(ws.recv())
            .await
            .expect("a message")
            .expect("ok");
        assert_eq!(echoed.as_text(), Some("héllo"));

        ws.send_binary(&[0, 1, 2, 255]).await.expect("send binary");
        let echoed = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(echoed, Message::Binary(Bytes::from_static(&[0, 1, 2, 255])));

        ws.send_ping(b"are you there").await.expect("ping");
        let pong = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(pong, Message::Pong(Bytes::from_static(b"are you there")));

        ws.close(1000, "bye").await.expect("close");
        assert!(matches!(ws.send_text("late").await, Err(Error::WsSend(_))));
        let close = ws.recv().await.expect("the close").expect("ok");
        // The echo server answers with the code only.
        assert!(
            matches!(close, Message::Close { code: 1000, .. }),
            "{close:?}"
        );
        assert!(
            ws.recv().await.is_none(),
            "finished after the server closed"
        );
        assert!(ws.recv().await.is_none(), "and stays finished");
    });
    assert_eq!(server.join().expect("server thread"), Some(1000));
}

/// Messages far larger than the socket buffers go both ways whole (the
/// pump's partial writes and reads).
pub fn ws_large_messages_round_trip<R: Runtime>() {
    let (addr, server) = serve_one(|mut stream| {
        let leftover = accept_ws(&mut stream, None);
        echo_ws(stream, &leftover)
    });
    run::<R, _, _>(|rt| async move {
        let connector = Connector::new(rt);
        let mut ws = connector
            .websocket(&ws_url(addr, "/"))
            .await
            .expect("handshake");
        assert_eq!(ws.protocol(), None);
        let big: Vec<u8> = (0..251u8).cycle().take(4 << 20).collect();
        // One at a time: the blocking echo server does not read while it
        // writes, so sending everything first would fill both directions.
        for _ in 0..3 {
            ws.send_binary(&big).await.expect("send");
            let echoed = ws.recv().await.expect("a message").expect("ok");
            assert_eq!(echoed, Message::Binary(Bytes::from(big.clone())));
        }
        ws.close(1000, "").await.expect("close");
        while let Some(message) = ws.recv().await {
            message.expect("a clean close");
        }
    });
    assert_eq!(server.join().expect("server thread"), Some(1000));
}

/// A `recv` dropped while half a message has arrived loses nothing: the
/// next `recv` returns the whole message.
pub fn ws_recv_is_cancel_safe<R: Runtime>() {
    const LEN: usize = 60_000;
    let (half_tx, half_rx) = mpsc::channel();
    let (rest_tx, rest_rx) = mpsc::channel::<()>();
    let (addr, server) = serve_one(move |mut stream| {
        let leftover = accept_ws(&mut stream, None);
        // One unmasked binary frame with a 16-bit length, in two writes.
        let mut frame = vec![0x82, 0x7e];
        frame.extend_from_slice(&u16::try_from(LEN).expect("fits").to_be_bytes());
        frame.extend((0..7u8).cycle().take(LEN));
        let (first, rest) = frame.split_at(LEN / 2);
        stream.write_all(first).expect("first half");
        half_tx.send(()).expect("signal");
        rest_rx.recv_timeout(WAIT).expect("go on");
        stream.write_all(rest).expect("second half");
        echo_ws(stream, &leftover)
    });
    run::<R, _, _>(|rt| async move {
        let connector = Connector::new(rt.clone());
        let mut ws = connector
            .websocket(&ws_url(addr, "/"))
            .await
            .expect("handshake");
        half_rx
            .recv_timeout(WAIT)
            .expect("the first half is written");
        // The first half arrives and is taken by the machine while this
        // `recv` runs; then the `recv` is dropped.
        let cut = timeout(&rt, Duration::from_millis(300), ws.recv()).await;
        assert!(cut.is_none(), "no whole message yet: {cut:?}");
        rest_tx.send(()).expect("signal");
        let message = ws.recv().await.expect("a message").expect("ok");
        let expected: Vec<u8> = (0..7u8).cycle().take(LEN).collect();
        assert_eq!(message, Message::Binary(Bytes::from(expected)));
        ws.close(1000, "").await.expect("close");
        while let Some(message) = ws.recv().await {
            message.expect("a clean close");
        }
    });
    assert_eq!(server.join().expect("server thread"), Some(1000));
}

/// A server that masks its frames breaks RFC 6455 §5.1: `recv` reports
/// `Error::Ws(Protocol(MaskedFrame))` and the client's close frame carries
/// 1002.
pub fn ws_masked_frame_from_the_server_is_a_typed_error<R: Runtime>() {
    let (addr, server) = serve_one(|mut stream| {
        let leftover = accept_ws(&mut stream, None);
        assert!(leftover.is_empty());
        // "hi", masked with key 1 2 3 4: forbidden from a server.
        stream
            .write_all(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2])
            .expect("write");
        // Decode the client's answer as a server would.
        let mut ws =
            proto_ws::Connection::new(Side::Server, proto_ws::Config::default(), Instant::now())
                .expect("ws config");
        let mut buf = [0u8; 1024];
        loop {
            let n = read_some(&mut stream, &mut buf);
            if n == 0 {
                return None;
            }
            ws.handle_input(Instant::now(), &buf[..n]).expect("valid");
            if let Some(WsEvent::Closed { code, .. }) = ws.poll_event() {
                return Some(code);
            }
        }
    });
    run::<R, _, _>(|rt| async move {
        let mut ws = Connector::new(rt)
            .websocket(&ws_url(addr, "/"))
            .await
            .expect("handshake");
        match ws.recv().await {
            Some(Err(Error::Ws(proto_ws::Error::Protocol(Violation::MaskedFrame)))) => {}
            other => panic!("expected a masked-frame error, got {other:?}"),
        }
        assert!(ws.recv().await.is_none(), "nothing after the error");
    });
    assert_eq!(server.join().expect("server thread"), Some(1002));
}

/// A server answering 403 instead of 101 is a typed handshake error.
pub fn ws_refused_handshake_is_a_typed_error<R: Runtime>() {
    let (addr, server) = serve_one(|mut stream| {
        let mut buf = [0u8; 4096];
        let _ = read_some(&mut stream, &mut buf);
        stream
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .expect("write");
        let _ = read_some(&mut stream, &mut buf);
    });
    run::<R, _, _>(|rt| async move {
        let result = Connector::new(rt).websocket(&ws_url(addr, "/")).await;
        match result {
            Err(Error::Handshake(proto_ws::handshake::ResponseError::Status(403))) => {}
            other => panic!("expected a refused handshake, got {other:?}"),
        }
    });
    server.join().expect("server thread");
}

/// A server that accepts and never answers: the handshake fails with
/// `TimedOut(Handshake)` at the configured deadline.
pub fn ws_handshake_timeout_against_a_silent_server<R: Runtime>() {
    let (addr, server) = serve_one(|mut stream| {
        let mut buf = [0u8; 4096];
        // Read the request and say nothing until the client gives up.
        while read_some(&mut stream, &mut buf) > 0 {}
    });
    let limit = Duration::from_millis(300);
    let elapsed = run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.handshake_timeout(limit);
        let start = Instant::now();
        let result = Connector::with_config(rt, config)
            .websocket(&ws_url(addr, "/"))
            .await;
        assert!(
            matches!(result, Err(Error::TimedOut(Timer::Handshake))),
            "{result:?}"
        );
        start.elapsed()
    });
    assert!(elapsed >= limit, "{elapsed:?}");
    server.join().expect("server thread");
}

/// Against the reference server's `/echo`: a text message in three pieces
/// (the first ends inside a code point, a ping goes between pieces) and a
/// binary one in three (one empty) come back whole; each misuse of the
/// fragmentation rules is a typed error that sends nothing: a continuation
/// with no message open, a new message (whole or first piece) while one
/// is open, a text piece with an invalid byte, a final piece that leaves a
/// code point unfinished. An unsolicited pong and the connection goes on;
/// the server counts no protocol error.
pub fn ws_fragments_and_pongs_against_our_server<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    let addr = server.addr;
    run::<R, _, _>(|rt| async move {
        let mut ws = Connector::new(rt)
            .websocket(&ws_url(addr, "/echo"))
            .await
            .expect("handshake");
        let refused = |result: Result<(), Error>, expected: FragmentError| match result {
            Err(Error::Fragment(e)) if e == expected => {}
            other => panic!("expected {expected:?}, got {other:?}"),
        };
        assert_send(ws.send_pong(b"unsolicited"))
            .await
            .expect("pong");
        assert!(matches!(
            ws.send_pong(&[0; 126]).await,
            Err(Error::WsSend(proto_ws::SendError::ControlTooLong))
        ));
        refused(
            ws.send_fragment(Fragment::Continuation, b"x", true).await,
            FragmentError::NoMessageOpen,
        );
        assert_eq!(ws.open_message(), None);

        // "h\u{e9}llo": the first piece ends inside the two bytes of "\u{e9}".
        assert_send(ws.send_fragment(Fragment::Text, b"h\xc3", false))
            .await
            .expect("first piece");
        assert_eq!(ws.open_message(), Some(MessageKind::Text));
        let open = FragmentError::MessageOpen(MessageKind::Text);
        refused(ws.send_text("another").await, open);
        refused(ws.send_binary(b"another").await, open);
        refused(ws.send_fragment(Fragment::Binary, b"b", true).await, open);
        refused(ws.send_fragment(Fragment::Text, b"t", false).await, open);
        ws.send_ping(b"between")
            .await
            .expect("a ping between pieces");
        refused(
            ws.send_fragment(Fragment::Continuation, b"\xff", false)
                .await,
            FragmentError::InvalidUtf8,
        );
        ws.send_fragment(Fragment::Continuation, b"\xa9ll", false)
            .await
            .expect("middle piece");
        refused(
            ws.send_fragment(Fragment::Continuation, b"o \xe2\x82", true)
                .await,
            FragmentError::InvalidUtf8,
        );
        ws.send_fragment(Fragment::Continuation, b"o", true)
            .await
            .expect("last piece");
        assert_eq!(ws.open_message(), None);
        let pong = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(pong, Message::Pong(Bytes::from_static(b"between")));
        let text = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(text.as_text(), Some("h\u{e9}llo"));

        let big: Vec<u8> = (0..251u8).cycle().take(300_000).collect();
        let (first, rest) = big.split_at(100_000);
        ws.send_fragment(Fragment::Binary, first, false)
            .await
            .expect("first piece");
        ws.send_fragment(Fragment::Continuation, b"", false)
            .await
            .expect("an empty piece");
        ws.send_fragment(Fragment::Continuation, rest, true)
            .await
            .expect("last piece");
        let echoed = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(echoed, Message::Binary(Bytes::from(big)));
        // A one-piece message is a whole message.
        ws.send_fragment(Fragment::Text, "\u{20ac}".as_bytes(), true)
            .await
            .expect("one piece");
        let one = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(one.as_text(), Some("\u{20ac}"));

        ws.close(1000, "").await.expect("close");
        while let Some(message) = ws.recv().await {
            message.expect("a clean close");
        }
    });
    let stats = server.handle.stats();
    assert_eq!(
        stats.protocol_errors,
        [0; proto_core::ErrorKind::COUNT],
        "{stats:?}"
    );
    assert_eq!(stats.ws_messages_in, 3, "{stats:?}");
}

/// An unsolicited pong reaches the server as a pong frame with its
/// payload (the echo server answers what it got).
pub fn ws_unsolicited_pong_reaches_the_server<R: Runtime>() {
    let (addr, server) = serve_one(|mut stream| {
        let leftover = accept_ws(&mut stream, None);
        echo_ws(stream, &leftover)
    });
    run::<R, _, _>(|rt| async move {
        let mut ws = Connector::new(rt)
            .websocket(&ws_url(addr, "/"))
            .await
            .expect("handshake");
        ws.send_pong(b"heartbeat").await.expect("pong");
        let answer = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(answer.as_text(), Some("pong heartbeat"));
        ws.send_pong(b"").await.expect("an empty pong");
        let answer = ws.recv().await.expect("a message").expect("ok");
        assert_eq!(answer.as_text(), Some("pong "));
        ws.close(1000, "").await.expect("close");
        while let Some(message) = ws.recv().await {
            message.expect("a clean close");
        }
    });
    assert_eq!(server.join().expect("server thread"), Some(1000));
}

// ---- HTTP ------------------------------------------------------------------

/// GET and POST on one kept-alive connection.
pub fn http_get_and_post_reuse_one_connection<R: Runtime>() {
    let (addr, server) = serve_one(serve_http);
    run::<R, _, _>(|rt| async move {
        let connector = Connector::new(rt);
        let mut http = connector.http(addr).await.expect("connect");
        let response = assert_send(http.request(get("/"), "")).await.expect("get");
        assert_eq!(response.status(), 200);
        assert_eq!(response.body().as_ref(), b"hello");
        assert_eq!(response.headers().get("x-request"), Some(&b"1"[..]));
        assert!(http.is_reusable());

        let mut post = Request::new("POST", "/echo");
        post.headers_mut().append("Host", "127.0.0.1");
        let body: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
        let response = http.request(post, body.clone()).await.expect("post");
        assert_eq!(response.status(), 200);
        assert_eq!(response.body().as_ref(), &body[..]);
        assert_eq!(response.headers().get("x-request"), Some(&b"2"[..]));

        let response = http.request(get("/70000"), "").await.expect("get");
        assert_eq!(response.body().len(), 70_000);
        assert_eq!(response.headers().get("x-request"), Some(&b"3"[..]));
    });
    assert_eq!(server.join().expect("server thread"), 3);
}

/// A response body over the HTTP machine's `max_body_size` is a typed
/// error, and the connection is not reused.
pub fn http_response_body_is_capped<R: Runtime>() {
    let (addr, server) = serve_one(serve_http);
    run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.http().max_body_size(Some(1000));
        let connector = Connector::with_config(rt, config);
        let mut http = connector.http(addr).await.expect("connect");
        let ok = http.request(get("/1000"), "").await.expect("at the cap");
        assert_eq!(ok.body().len(), 1000);
        let over = http.request(get("/1001"), "").await;
        assert!(
            matches!(over, Err(Error::Http(proto_http::Error::BodyTooLarge))),
            "{over:?}"
        );
        assert!(!http.is_reusable());
        assert!(matches!(
            http.request(get("/"), "").await,
            Err(Error::Closed)
        ));
    });
    server.join().expect("server thread");
}

/// `Connector::http_request`: one request on a fresh connection, `Host` and
/// `Content-Length` filled in.
pub fn http_request_on_a_fresh_connection<R: Runtime>() {
    let (addr, server) = serve_one(serve_http);
    run::<R, _, _>(|rt| async move {
        let connector = Connector::new(rt);
        let response = connector
            .http_request("POST", &format!("http://{addr}/echo"), "ping")
            .await
            .expect("post");
        assert_eq!(response.body().as_ref(), b"ping");
        let named = connector.http_request("GET", "http://localhost/", "").await;
        assert!(matches!(
            named,
            Err(Error::Url(crate::client::UrlError::NeedsAddress))
        ));
    });
    assert_eq!(server.join().expect("server thread"), 1);
}

/// A request asking `Expect: 100-continue`.
fn expecting(method: &str, target: &str) -> Request {
    let mut request = Request::new(method, target);
    request
        .headers_mut()
        .append("Host", "127.0.0.1")
        .append("Expect", "100-continue");
    request
}

/// Against the reference server, which answers `100` to a request whose
/// handler did not answer from the head: the body follows the `100` and is
/// echoed, and the connection is reused. The continue timeout is longer
/// than the whole test's bound, so only the `100` can release the body.
pub fn http_expect_continue_waits_for_our_servers_100<R: Runtime>() {
    let server = Running::reference::<R>(&[]);
    let addr = server.addr;
    run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.continue_timeout(3 * WAIT);
        let mut http = Connector::with_config(rt, config)
            .http(addr)
            .await
            .expect("connect");
        let body: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        let response = assert_send(http.request(expecting("POST", "/echo"), body.clone()))
            .await
            .expect("post");
        assert_eq!(response.status(), 200);
        assert_eq!(response.body().as_ref(), &body[..]);
        assert!(http.is_reusable());
        let response = http.request(get("/nowhere"), "").await.expect("get");
        assert_eq!(response.status(), 404);
        let response = http
            .request(expecting("POST", "/echo"), "again")
            .await
            .expect("post");
        assert_eq!(response.body().as_ref(), b"again");
    });
    let stats = server.handle.stats();
    assert_eq!(stats.http_requests, 3, "{stats:?}");
}

/// A [`WebHandler`]: `/refuse` is answered `413` from the head, before any
/// body; anything else echoes the body.
struct Gate;

impl WebHandler for Gate {
    type Context = Vec<u8>;

    fn on_connect(&self, _conn: &mut Conn<'_, Outbound>) -> Vec<u8> {
        Vec::new()
    }

    fn on_request(&self, body: &mut Vec<u8>, http: &mut HttpConn<'_, '_>) {
        body.clear();
        if http.request().target() == "/refuse" {
            let _ = http.respond_with(413, "text/plain", "too large\n");
        }
    }

    fn on_request_body(&self, body: &mut Vec<u8>, _http: &mut HttpConn<'_, '_>, chunk: Bytes) {
        body.extend_from_slice(&chunk);
    }

    fn on_request_end(&self, body: &mut Vec<u8>, http: &mut HttpConn<'_, '_>) {
        if !http.is_responded() {
            let _ = http.respond_with(200, "application/octet-stream", std::mem::take(body));
        }
    }
}

/// Our server refuses a 1 MiB upload from its head with `413` (and, its
/// body never read, closes): the client returns the `413` without sending
/// a byte of the body, and the connection is not reusable. The server read
/// only the head.
pub fn http_expect_continue_refused_from_the_head_sends_no_body<R: Runtime>() {
    let server = Running::start::<R, _>(Server::builder(WebService::new(Gate)));
    let addr = server.addr;
    run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.continue_timeout(3 * WAIT);
        let mut http = Connector::with_config(rt, config)
            .http(addr)
            .await
            .expect("connect");
        let response = http
            .request(expecting("PUT", "/refuse"), vec![b'u'; 1 << 20])
            .await
            .expect("the refusal");
        assert_eq!(response.status(), 413);
        assert_eq!(response.body().as_ref(), b"too large\n");
        assert!(!http.is_reusable());
        assert!(matches!(
            http.request(get("/"), "").await,
            Err(Error::Closed)
        ));
    });
    wait_until("the connection is closed", || {
        server.handle.stats().active == 0
    });
    let stats = server.handle.stats();
    assert_eq!(stats.http_requests, 1, "{stats:?}");
    assert!(stats.bytes_in < 1024, "only the head was sent: {stats:?}");
}

/// A server that refuses a chunked upload from its head and keeps the
/// connection: the request is ended with an empty last chunk instead of
/// its body, and the connection serves the next request.
pub fn http_expect_continue_refused_chunked_request_is_ended_and_reused<R: Runtime>() {
    let (addr, server) = serve_one(|mut stream| {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let mut read_until = |stream: &mut TcpStream, seen: &mut Vec<u8>, end: &[u8]| {
            while !seen.windows(end.len()).any(|w| w == end) {
                let n = read_some(stream, &mut buf);
                assert!(
                    n > 0,
                    "closed early, after {:?}",
                    String::from_utf8_lossy(seen)
                );
                seen.extend_from_slice(&buf[..n]);
            }
        };
        read_until(&mut stream, &mut seen, b"\r\n\r\n");
        stream
            .write_all(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
            .expect("write");
        // The empty last chunk ends the upload, then the next request.
        let next = b"\r\n\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        read_until(&mut stream, &mut seen, next);
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
            .expect("write");
        String::from_utf8(seen).expect("ascii")
    });
    run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.continue_timeout(3 * WAIT);
        let mut http = Connector::with_config(rt, config)
            .http(addr)
            .await
            .expect("connect");
        let mut upload = expecting("POST", "/upload");
        upload.headers_mut().append("Transfer-Encoding", "chunked");
        let response = http
            .request(upload, vec![b'~'; 100_000])
            .await
            .expect("the refusal");
        assert_eq!(response.status(), 417);
        assert!(http.is_reusable());
        let response = http.request(get("/next"), "").await.expect("get");
        assert_eq!(response.body().as_ref(), b"next");
    });
    let seen = server.join().expect("server thread");
    assert!(seen.starts_with("POST /upload HTTP/1.1\r\n"), "{seen}");
    assert!(!seen.contains('~'), "no byte of the body: {seen}");
}

/// A server that never answers `100` (the proto-http server role does not
/// by itself): the body goes after the continue timeout, and is echoed.
pub fn http_expect_continue_sends_the_body_after_the_wait<R: Runtime>() {
    let (addr, server) = serve_one(serve_http);
    let wait = Duration::from_millis(300);
    let elapsed = run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.continue_timeout(wait);
        let mut http = Connector::with_config(rt, config)
            .http(addr)
            .await
            .expect("connect");
        let start = Instant::now();
        let response = http
            .request(expecting("POST", "/echo"), "late body")
            .await
            .expect("post");
        let elapsed = start.elapsed();
        assert_eq!(response.body().as_ref(), b"late body");
        assert!(http.is_reusable());
        let response = http.request(get("/"), "").await.expect("get");
        assert_eq!(response.body().as_ref(), b"hello");
        elapsed
    });
    assert!(elapsed >= wait, "{elapsed:?}");
    assert_eq!(server.join().expect("server thread"), 2);
}

// ---- Connect -----------------------------------------------------------------

/// A connect to a listener whose accept queue is full times out with
/// `TimedOut(Connect)` at the configured deadline.
///
/// The listener is on 127.0.0.1 with backlog 0 and never accepts. Linux
/// queues one completed connection at backlog 0 (the queue is full when it
/// holds more than the backlog) and then drops every SYN while the queue
/// is full (`LISTENOVERFLOWS`), SYN cookies or not, so the next connect
/// stays in SYN-SENT until its first retransmission, a second later. The
/// test fills the queue with blocking connects until one of them times
/// out, which proves the queue full on any kernel, then connects with a
/// 300 ms timeout.
pub fn connect_timeout_against_a_full_backlog<R: Runtime>() {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    let local: SocketAddr = "127.0.0.1:0".parse().expect("loopback");
    listener.bind(&local.into()).expect("bind");
    listener.listen(0).expect("listen");
    let addr = listener
        .local_addr()
        .expect("local addr")
        .as_socket()
        .expect("inet");
    assert!(addr.ip().is_loopback());
    let mut fillers = Vec::new();
    let full =
        (0..64).any(
            |_| match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => {
                    fillers.push(stream);
                    false
                }
                Err(e) if e.kind() == io::ErrorKind::TimedOut => true,
                Err(e) => panic!("filling the backlog: {e}"),
            },
        );
    assert!(
        full,
        "this kernel completed {} connects to a listener with backlog 0 that never accepts",
        fillers.len()
    );
    let limit = Duration::from_millis(300);
    let elapsed = run::<R, _, _>(|rt| async move {
        let mut config = ClientConfig::default();
        config.connect_timeout(limit);
        let connector = Connector::with_config(rt, config);
        let start = Instant::now();
        let result = assert_send(connector.connect(addr)).await.map(drop);
        assert!(
            matches!(result, Err(Error::TimedOut(Timer::Connect))),
            "{result:?}"
        );
        let ws = connector.websocket(&ws_url(addr, "/")).await;
        assert!(matches!(ws, Err(Error::TimedOut(Timer::Connect))), "{ws:?}");
        start.elapsed()
    });
    assert!(elapsed >= 2 * limit, "{elapsed:?}");
    drop(fillers);
}

/// A refused connect is an I/O error, not a timeout.
pub fn connect_refused_is_an_io_error<R: Runtime>() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    run::<R, _, _>(|rt| async move {
        let result = Connector::new(rt).connect(addr).await.map(drop);
        match result {
            Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused),
            other => panic!("expected a refusal, got {other:?}"),
        }
    });
}
