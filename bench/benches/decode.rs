//! Issue 4 item 7: proto-ws, tungstenite and fastwebsockets decoding the
//! same masked client frames, server role, in the same run.
//!
//! Each input is at least 1 MiB of identical frames of 16 B, 1 KiB, 64 KiB
//! or 1 MiB payload (binary, then text with mixed ASCII and 2-3 byte code
//! points so UTF-8 validation is included), handed over in 64 KiB reads as
//! a socket would. Every library delivers whole messages with its default
//! limits: proto-ws through `Connection::handle_input`/`poll_event`,
//! tungstenite through `WebSocket::read` over an in-memory stream,
//! fastwebsockets through `FragmentCollector::read_frame` over an
//! in-memory `AsyncRead` that is always ready (polled without a runtime).
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench decode`
#![allow(missing_docs)]

use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rampart_bench::client::masked_frame;

const READ: usize = 64 * 1024;

fn sizes() -> [(&'static str, usize); 4] {
    [
        ("16B", 16),
        ("1KiB", 1024),
        ("64KiB", 64 * 1024),
        ("1MiB", 1 << 20),
    ]
}

fn text_payload(size: usize) -> Vec<u8> {
    let pattern = "hello κόσμε €uro ".as_bytes();
    let mut out: Vec<u8> = pattern.iter().copied().cycle().take(size).collect();
    while std::str::from_utf8(&out).is_err() {
        out.pop();
    }
    out
}

/// At least 1 MiB of identical frames; returns the bytes and the count.
fn stream(b0: u8, payload: &[u8]) -> (Vec<u8>, usize) {
    let one = masked_frame(b0, payload);
    let count = (1 << 20) / one.len() + 1;
    (one.repeat(count), count)
}

/// An in-memory socket: reads of at most 64 KiB, writes discarded.
struct Wire<'a> {
    input: &'a [u8],
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(READ).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The same for tokio's traits (fastwebsockets), always ready.
struct AsyncWire {
    input: &'static [u8],
}

impl tokio::io::AsyncRead for AsyncWire {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(READ).min(self.input.len());
        buf.put_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for AsyncWire {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Polls a future whose I/O is always ready to completion, once.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("in-memory stream returned Pending"),
    }
}

fn proto_ws_decode(conn: &mut proto_ws::Connection, now: Instant, input: &[u8]) -> usize {
    let mut delivered = 0;
    for read in input.chunks(READ) {
        let mut rest = read;
        while !rest.is_empty() {
            let n = conn.handle_input(now, rest).unwrap();
            rest = &rest[n..];
            while let Some(event) = conn.poll_event() {
                delivered += usize::from(matches!(
                    event,
                    proto_ws::Event::Binary(_) | proto_ws::Event::Text(_)
                ));
            }
        }
    }
    delivered
}

fn tungstenite_decode(input: &[u8], count: usize) -> usize {
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        Wire { input },
        tungstenite::protocol::Role::Server,
        None,
    );
    let mut delivered = 0;
    while delivered < count {
        let msg = ws.read().unwrap();
        delivered += usize::from(msg.is_binary() || msg.is_text());
    }
    delivered
}

fn fastwebsockets_decode(input: &'static [u8], count: usize) -> usize {
    let ws = fastwebsockets::WebSocket::after_handshake(
        AsyncWire { input },
        fastwebsockets::Role::Server,
    );
    let mut ws = fastwebsockets::FragmentCollector::new(ws);
    let mut delivered = 0;
    while delivered < count {
        let frame = ready(ws.read_frame()).unwrap();
        delivered += usize::from(matches!(
            frame.opcode,
            fastwebsockets::OpCode::Binary | fastwebsockets::OpCode::Text
        ));
    }
    delivered
}

#[allow(clippy::disallowed_methods)]
fn bench(c: &mut Criterion) {
    let now = Instant::now();
    for (group, b0, text) in [("decode", 0x82u8, false), ("decode_text", 0x81u8, true)] {
        let mut g = c.benchmark_group(group);
        for (name, size) in sizes() {
            let payload = if text {
                text_payload(size)
            } else {
                vec![0xa5; size]
            };
            let (input, count) = stream(b0, &payload);
            // fastwebsockets' stream wants 'static input; one leak per case.
            let input: &'static [u8] = Vec::leak(input);
            g.throughput(Throughput::Bytes(input.len() as u64));
            let mut conn = proto_ws::Connection::new(
                proto_core::Side::Server,
                proto_ws::Config::default(),
                now,
            )
            .unwrap();
            assert_eq!(proto_ws_decode(&mut conn, now, input), count);
            assert_eq!(tungstenite_decode(input, count), count);
            assert_eq!(fastwebsockets_decode(input, count), count);
            g.bench_with_input(BenchmarkId::new("proto-ws", name), &input, |b, input| {
                b.iter(|| proto_ws_decode(&mut conn, now, input));
            });
            g.bench_with_input(BenchmarkId::new("tungstenite", name), &input, |b, input| {
                b.iter(|| tungstenite_decode(input, count));
            });
            g.bench_with_input(
                BenchmarkId::new("fastwebsockets", name),
                &input,
                |b, input| {
                    b.iter(|| fastwebsockets_decode(input, count));
                },
            );
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
