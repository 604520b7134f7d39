//! Minimal peer servers to compare against, on the same tokio runtime
//! settings as Rampart's reference server (a multi-thread runtime with
//! `--workers` threads, default: available parallelism). `httparse-smol` is
//! the `httparse` responder on smol instead, set up like Rampart's smol
//! server: an `async_executor::Executor` run by `--workers` threads, the
//! accept loop on the main thread, async-io's reactor.
//!
//! ```text
//! peer-server hyper            [--addr 127.0.0.1:0] [--workers N]   # POST /echo
//! peer-server tokio-tungstenite [--addr ...]                        # WebSocket echo
//! peer-server fastwebsockets   [--addr ...]                         # WebSocket echo
//! peer-server httparse         [--addr ...]                         # bare httparse responder
//! peer-server httparse-smol    [--addr ...]                         # the same, on smol
//! ```
//!
//! Each prints `listening on IP:PORT` once bound, like the reference server.

use std::io::Write as _;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
// Each stream type implements only one runtime's traits, so the two sets
// never clash.
use smol::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let kind = args
        .next()
        .ok_or("usage: peer-server KIND [--addr A] [--workers N]")?;
    let mut addr: SocketAddr = "127.0.0.1:0".parse()?;
    let mut workers = std::thread::available_parallelism().map_or(1, usize::from);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or("missing value")?;
        match flag.as_str() {
            "--addr" => addr = value.parse()?,
            "--workers" => workers = value.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    rampart_bench::raise_nofile();
    if kind == "httparse-smol" {
        return run_smol(addr, workers);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        println!("listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off rather than spin.
                    eprintln!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            match kind.as_str() {
                "hyper" => {
                    tokio::spawn(serve_hyper(stream));
                }
                "tokio-tungstenite" => {
                    tokio::spawn(serve_tungstenite(stream));
                }
                "fastwebsockets" => {
                    tokio::spawn(serve_fastwebsockets(stream));
                }
                "httparse" => {
                    tokio::spawn(serve_httparse(stream));
                }
                other => {
                    return Err::<(), Box<dyn std::error::Error>>(
                        format!("unknown kind {other}").into(),
                    );
                }
            }
        }
    })
}

async fn serve_hyper(stream: TcpStream) {
    let service = service_fn(|req: Request<Incoming>| async move {
        if req.method() == Method::POST && req.uri().path() == "/echo" {
            let body = req.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Response::new(Full::new(body)))
        } else {
            let mut res = Response::new(Full::new(Bytes::new()));
            *res.status_mut() = StatusCode::NOT_FOUND;
            Ok(res)
        }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn serve_tungstenite(stream: TcpStream) {
    use futures_util::{SinkExt, StreamExt};
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

async fn serve_fastwebsockets(stream: TcpStream) {
    let service = service_fn(|mut req: Request<Incoming>| async move {
        let (res, fut) = fastwebsockets::upgrade::upgrade(&mut req)?;
        tokio::spawn(async move {
            let Ok(ws) = fut.await else { return };
            let mut ws = fastwebsockets::FragmentCollector::new(ws);
            while let Ok(frame) = ws.read_frame().await {
                let echo = match frame.opcode {
                    fastwebsockets::OpCode::Close => return,
                    fastwebsockets::OpCode::Text | fastwebsockets::OpCode::Binary => true,
                    _ => false,
                };
                if echo && ws.write_frame(frame).await.is_err() {
                    return;
                }
            }
        });
        Ok::<Response<Empty<Bytes>>, fastwebsockets::WebSocketError>(res)
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

/// The bare httparse responder, generated once per runtime so the tokio and
/// smol floors run the same code: only the stream type and the
/// `AsyncReadExt`/`AsyncWriteExt` traits in scope (tokio's or futures-lite's)
/// differ.
macro_rules! httparse_responder {
    ($(#[$doc:meta])* $name:ident, $stream:ty) => {
        $(#[$doc])*
        async fn $name(mut stream: $stream) {
            let mut buf = vec![0u8; 64 * 1024];
            let mut out = Vec::with_capacity(64 * 1024);
            let (mut start, mut end) = (0, 0);
            loop {
                // Answer every complete request in the buffer.
                loop {
                    let mut headers = [httparse::EMPTY_HEADER; 32];
                    let mut req = httparse::Request::new(&mut headers);
                    let Ok(httparse::Status::Complete(n)) = req.parse(&buf[start..end]) else {
                        break;
                    };
                    let len = req
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                        .unwrap_or(0);
                    if end - start < n + len {
                        break;
                    }
                    out.extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: ");
                    out.extend_from_slice(len.to_string().as_bytes());
                    out.extend_from_slice(b"\r\n\r\n");
                    out.extend_from_slice(&buf[start + n..start + n + len]);
                    start += n + len;
                }
                if !out.is_empty() {
                    if stream.write_all(&out).await.is_err() {
                        return;
                    }
                    out.clear();
                }
                if start == end {
                    (start, end) = (0, 0);
                } else if end == buf.len() {
                    buf.copy_within(start..end, 0);
                    (start, end) = (0, end - start);
                    if end == buf.len() {
                        return; // head larger than the buffer
                    }
                }
                match stream.read(&mut buf[end..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => end += n,
                }
            }
        }
    };
}

httparse_responder!(
    /// What a server costs with httparse and nothing else: the floor that
    /// issue 9 compares strictness against (no limits, no smuggling checks).
    serve_httparse,
    TcpStream
);

httparse_responder!(
    /// [`serve_httparse`] on smol: the floor of Rampart's smol adapter.
    serve_httparse_smol,
    smol::Async<std::net::TcpStream>
);

/// `httparse-smol`: `workers` threads run one executor (each in its own
/// `block_on`, so each also drives the reactor when idle), as
/// `adapter_smol::Smol::run` does; the main thread accepts.
fn run_smol(addr: SocketAddr, workers: usize) -> Result<(), Box<dyn std::error::Error>> {
    use smol::{Async, Executor, Timer};
    let executor = std::sync::Arc::new(Executor::<'static>::new());
    for i in 0..workers.max(1) {
        let executor = std::sync::Arc::clone(&executor);
        std::thread::Builder::new()
            .name(format!("peer-smol-{i}"))
            .spawn(move || smol::block_on(executor.run(smol::future::pending::<()>())))?;
    }
    smol::block_on(async {
        let listener = Async::<std::net::TcpListener>::bind(addr)?;
        println!("listening on {}", listener.get_ref().local_addr()?);
        std::io::stdout().flush()?;
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off rather than spin.
                    eprintln!("accept: {e}");
                    Timer::after(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.get_ref().set_nodelay(true);
            executor.spawn(serve_httparse_smol(stream)).detach();
        }
    })
}
