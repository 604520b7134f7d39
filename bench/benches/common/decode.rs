//! The decode drivers shared by `benches/decode.rs` (criterion) and
//! `examples/ws_decode.rs` (fixed work for callgrind), so both measure
//! exactly the same code: each library decodes the same masked client
//! frames, server role, handed over in reads of `read` bytes as a socket
//! would, and delivers whole messages with its default limits.
//!
//! Every delivered message goes through `black_box`, so no library's
//! work on it can be optimised away.
//!
//! Included by both with `#[path]`; not a target of its own.

use std::future::Future;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use rampart_bench::client::masked_frame;

/// Mixed ASCII and 2-3 byte code points, so UTF-8 validation is included.
pub fn text_payload(size: usize) -> Vec<u8> {
    let pattern = "hello κόσμε €uro ".as_bytes();
    let mut out: Vec<u8> = pattern.iter().copied().cycle().take(size).collect();
    while std::str::from_utf8(&out).is_err() {
        out.pop();
    }
    out
}

/// At least 1 MiB of identical frames; returns the bytes and the count.
pub fn stream(b0: u8, payload: &[u8]) -> (Vec<u8>, usize) {
    let one = masked_frame(b0, payload);
    let count = (1 << 20) / one.len() + 1;
    (one.repeat(count), count)
}

/// An in-memory socket: reads of at most `read` bytes, writes discarded.
struct Wire<'a> {
    input: &'a [u8],
    read: usize,
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.read).min(self.input.len());
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
    read: usize,
}

impl tokio::io::AsyncRead for AsyncWire {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(self.read).min(self.input.len());
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

/// proto-ws through `Connection::handle_input`/`poll_event`; returns the
/// messages delivered.
pub fn proto_ws_decode(
    conn: &mut proto_ws::Connection,
    now: Instant,
    input: &[u8],
    read: usize,
) -> usize {
    let mut delivered = 0;
    for chunk in input.chunks(read) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let n = conn.handle_input(now, rest).unwrap();
            rest = &rest[n..];
            while let Some(event) = conn.poll_event() {
                delivered += usize::from(matches!(
                    black_box(event),
                    proto_ws::Event::Binary(_) | proto_ws::Event::Text(_)
                ));
            }
        }
    }
    delivered
}

/// tungstenite through `WebSocket::read` over an in-memory stream.
pub fn tungstenite_decode(input: &[u8], count: usize, read: usize) -> usize {
    let mut ws = tungstenite::WebSocket::from_raw_socket(
        Wire { input, read },
        tungstenite::protocol::Role::Server,
        None,
    );
    let mut delivered = 0;
    while delivered < count {
        let msg = black_box(ws.read().unwrap());
        delivered += usize::from(msg.is_binary() || msg.is_text());
    }
    delivered
}

/// fastwebsockets through `FragmentCollector::read_frame` over an
/// in-memory `AsyncRead` that is always ready (polled without a runtime).
pub fn fastwebsockets_decode(input: &'static [u8], count: usize, read: usize) -> usize {
    let ws = fastwebsockets::WebSocket::after_handshake(
        AsyncWire { input, read },
        fastwebsockets::Role::Server,
    );
    let mut ws = fastwebsockets::FragmentCollector::new(ws);
    let mut delivered = 0;
    while delivered < count {
        let frame = black_box(ready(ws.read_frame()).unwrap());
        delivered += usize::from(matches!(
            frame.opcode,
            fastwebsockets::OpCode::Binary | fastwebsockets::OpCode::Text
        ));
    }
    delivered
}
