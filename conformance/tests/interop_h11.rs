//! Interop with Python `h11` on live connections (issue 7, item 4), both
//! ways (the request vectors fed to h11 offline are
//! `scripts/h11_differential.py`):
//!
//! - h11 as a **client** of both reference servers
//!   (`scripts/h11_client.py`, which asserts every step): keep-alive reuse,
//!   a chunked request body, request trailers, six pipelined requests (in
//!   one write and in 7-byte writes), `Connection: close` honoured (a
//!   request pipelined behind it is not answered), HTTP/1.0, and
//!   `Expect: 100-continue`;
//! - h11 as a **server** (`scripts/h11_server.py`) for adapter-core's
//!   `HttpClient` on tokio and on smol: Content-Length and chunked response
//!   bodies, response trailers, a `HEAD` answer, an interim 103, a 204,
//!   Content-Length and chunked request bodies (1 MiB too), keep-alive
//!   reuse seen from the server's side, and `Connection: close` from either
//!   end.
//!
//! Ignored in plain `cargo test`: `conformance/interop.sh` installs the
//! peers and runs this with `--include-ignored` and `RAMPART_INTEROP_PYTHON`
//! set; without it they fail rather than skip.

mod interop_support;

use std::net::SocketAddr;

use adapter_core::Runtime;
use adapter_core::client::{Connector, Error, HttpClient, HttpResponse, Request};
use interop_support::{
    reference, run_bounded, run_python_script, start_python_server, start_reference,
};

fn h11_client_against(package: &str) {
    let server = start_reference(&reference(package));
    run_python_script("h11_client.py", &[&server.addr]);
}

#[test]
#[ignore = "needs Python h11 in a virtual environment: run conformance/interop.sh"]
fn h11_client_against_the_tokio_server() {
    h11_client_against("adapter-tokio");
}

#[test]
#[ignore = "needs Python h11 in a virtual environment: run conformance/interop.sh"]
fn h11_client_against_the_smol_server() {
    h11_client_against("adapter-smol");
}

/// The body `scripts/h11_server.py` sends on `/length` and `/chunked`.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251).to_le_bytes()[0]).collect()
}

fn field<'r>(response: &'r HttpResponse, name: &str) -> &'r str {
    let value = response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", response.head()));
    std::str::from_utf8(value).expect("an ASCII field")
}

/// `(X-Connection, X-Request)`: which connection of the server's, and
/// which request on it.
fn seen(response: &HttpResponse) -> (u64, u64) {
    let number = |name| field(response, name).parse().expect("a number");
    (number("x-connection"), number("x-request"))
}

struct Peer<R: Runtime> {
    http: HttpClient<R>,
    host: String,
}

impl<R: Runtime> Peer<R> {
    async fn send(
        &mut self,
        method: &str,
        target: &str,
        fields: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let mut request = Request::new(method, target);
        request.headers_mut().append("Host", &self.host);
        for (name, value) in fields {
            request.headers_mut().append(name, value);
        }
        let response = self
            .http
            .request(request, body.to_vec())
            .await
            .unwrap_or_else(|e| panic!("{method} {target}: {e}"));
        assert!(
            response.status() != 400,
            "h11 refused our {method} {target}: {}",
            String::from_utf8_lossy(response.body())
        );
        response
    }
}

async fn conversation<R: Runtime>(rt: R, addr: SocketAddr) {
    let connector = Connector::new(rt);
    let host = addr.to_string();
    let http = connector.http(addr).await.expect("connect to h11");
    let mut peer = Peer { http, host };
    let body = pattern(100_000);

    let length = peer.send("GET", "/length", &[], b"").await;
    assert_eq!(length.status(), 200);
    assert_eq!(field(&length, "content-length"), "100000");
    assert!(length.body()[..] == body[..], "the Content-Length body");
    let (connection, first) = seen(&length);
    assert_eq!(first, 1);
    let mut expect_request = first;
    let mut reused = |response: &HttpResponse, what: &str| {
        expect_request += 1;
        assert_eq!(
            seen(response),
            (connection, expect_request),
            "{what}: on the same connection, the next request"
        );
    };

    let chunked = peer.send("GET", "/chunked", &[], b"").await;
    assert_eq!(chunked.status(), 200);
    assert_eq!(field(&chunked, "transfer-encoding"), "chunked");
    assert!(chunked.body()[..] == body[..], "the chunked body");
    assert!(chunked.trailers().is_empty());
    reused(&chunked, "GET /chunked");

    let trailers = peer.send("GET", "/trailers", &[], b"").await;
    assert_eq!(trailers.status(), 200);
    assert_eq!(&trailers.body()[..], b"body with trailers");
    assert_eq!(
        trailers.trailers().get("x-checksum"),
        Some(&b"5eb63bbbe01eeed0"[..])
    );
    assert_eq!(trailers.trailers().get("x-count"), Some(&b"2"[..]));
    reused(&trailers, "GET /trailers");

    let head = peer.send("HEAD", "/length", &[], b"").await;
    assert_eq!(head.status(), 200);
    assert_eq!(field(&head, "content-length"), "100000");
    assert!(head.body().is_empty(), "a HEAD answer has no body");
    reused(&head, "HEAD /length");

    let hints = peer.send("GET", "/early-hints", &[], b"").await;
    assert_eq!(hints.status(), 200, "the 103 is skipped");
    assert_eq!(&hints.body()[..], b"after hints");
    reused(&hints, "GET /early-hints");

    let empty = peer.send("GET", "/no-content", &[], b"").await;
    assert_eq!(empty.status(), 204);
    assert!(empty.body().is_empty());
    reused(&empty, "GET /no-content");

    let echo = peer.send("POST", "/echo", &[], b"hello h11").await;
    assert_eq!(&echo.body()[..], b"hello h11");
    assert_eq!(field(&echo, "x-request-framing"), "length");
    reused(&echo, "POST /echo");

    let big = pattern(1 << 20);
    let echo = peer.send("POST", "/echo", &[], &big).await;
    assert!(echo.body()[..] == big[..], "the 1 MiB echo");
    reused(&echo, "POST /echo 1 MiB");

    // A chunked request body: the machine frames it when asked to.
    let echo = peer
        .send(
            "POST",
            "/echo",
            &[("Transfer-Encoding", "chunked")],
            b"sent chunked",
        )
        .await;
    assert_eq!(&echo.body()[..], b"sent chunked");
    assert_eq!(field(&echo, "x-request-framing"), "chunked");
    assert_eq!(field(&echo, "x-request-trailers"), "");
    reused(&echo, "chunked POST /echo");

    let echo = peer.send("POST", "/echo", &[], b"").await;
    assert!(echo.body().is_empty());
    assert_eq!(field(&echo, "content-length"), "0");
    reused(&echo, "POST /echo, empty");
    assert!(peer.http.is_reusable());

    // The server says `Connection: close`: the answer is whole, and the
    // connection is not used again.
    let closing = peer.send("GET", "/close", &[], b"").await;
    assert_eq!(&closing.body()[..], b"closing");
    reused(&closing, "GET /close");
    assert!(
        !peer.http.is_reusable(),
        "not reusable after Connection: close"
    );
    let mut request = Request::new("GET", "/length");
    request.headers_mut().append("Host", &peer.host);
    assert!(
        matches!(peer.http.request(request, "").await, Err(Error::Closed)),
        "a request after Connection: close"
    );

    // We say `Connection: close` (http_request does): a new connection.
    let fresh = connector
        .http_request("POST", &format!("http://{addr}/echo"), "fresh")
        .await
        .expect("a request on a new connection");
    assert_eq!(&fresh.body()[..], b"fresh");
    let (other, n) = seen(&fresh);
    assert!(
        other != connection && n == 1,
        "a new connection: {other}, {n}"
    );

    // And on a kept-alive connection, after a first exchange.
    let http = connector.http(addr).await.expect("connect to h11");
    let mut peer = Peer {
        http,
        host: addr.to_string(),
    };
    let first = peer.send("GET", "/length", &[], b"").await;
    assert_eq!(seen(&first).1, 1);
    assert!(peer.http.is_reusable());
    let last = peer
        .send("POST", "/echo", &[("Connection", "close")], b"last")
        .await;
    assert_eq!(&last.body()[..], b"last");
    assert_eq!(seen(&last), (seen(&first).0, 2));
    assert!(
        !peer.http.is_reusable(),
        "not reusable after our Connection: close"
    );
}

fn our_client_against_h11<R: Runtime>() {
    let server = start_python_server("h11_server.py");
    let addr: SocketAddr = server.addr.parse().expect("IP:PORT");
    run_bounded(|rt: R| conversation(rt, addr));
}

#[test]
#[ignore = "needs Python h11 in a virtual environment: run conformance/interop.sh"]
fn tokio_client_against_the_h11_server() {
    our_client_against_h11::<adapter_tokio::Tokio>();
}

#[test]
#[ignore = "needs Python h11 in a virtual environment: run conformance/interop.sh"]
fn smol_client_against_the_h11_server() {
    our_client_against_h11::<adapter_smol::Smol>();
}
