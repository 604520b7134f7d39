//! The load client: HTTP keep-alive and pipelined requests, WebSocket echo
//! and idle WebSocket connections, all against loopback addresses only and
//! bounded in time.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The HTTP request every server answers: a small POST echoed back.
pub const HTTP_REQUEST: &[u8] =
    b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 13\r\n\r\nHello, World!";
const HTTP_BODY_LEN: usize = 13;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// What one connection saw inside the measuring window.
#[derive(Debug, Default)]
pub struct ConnStats {
    /// Operations (responses, echoed messages) completed in the window.
    pub ops: u64,
    /// Their latencies, in microseconds.
    pub latencies_us: Vec<u32>,
}

/// Refuses anything but loopback: this harness never sends traffic
/// elsewhere.
pub fn check_loopback(addr: SocketAddr) -> io::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{addr} is not a loopback address"
        )))
    }
}

/// A read buffer with a consumed prefix.
struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    fn new(cap: usize) -> Self {
        Self {
            buf: vec![0; cap],
            start: 0,
            end: 0,
        }
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    async fn fill(&mut self, s: &mut TcpStream) -> io::Result<()> {
        if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end == self.buf.len() {
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
        }
        let n = s.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed",
            ));
        }
        self.end += n;
        Ok(())
    }
}

/// Length of the first complete response in `data`, if there is one.
fn parse_response(data: &[u8]) -> io::Result<Option<usize>> {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut res = httparse::Response::new(&mut headers);
    match res.parse(data) {
        Ok(httparse::Status::Complete(n)) => {
            if res.code != Some(200) {
                return Err(io::Error::other(format!("status {:?}", res.code)));
            }
            let len = res
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| {
                    std::str::from_utf8(h.value)
                        .ok()?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .ok_or_else(|| io::Error::other("response without Content-Length"))?;
            if len != HTTP_BODY_LEN {
                return Err(io::Error::other(format!("body of {len} bytes")));
            }
            Ok((data.len() >= n + len).then_some(n + len))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(io::Error::other(format!("bad response: {e}"))),
    }
}

/// One keep-alive connection sending `depth` requests at a time (1: plain
/// keep-alive; more: pipelined) until `end`; counts responses that
/// complete inside `[start, end)`. Latency is from the batch's write to
/// each response.
pub async fn http_conn(
    addr: SocketAddr,
    depth: usize,
    start: Instant,
    end: Instant,
) -> io::Result<ConnStats> {
    check_loopback(addr)?;
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let batch = HTTP_REQUEST.repeat(depth);
    let mut rb = ReadBuf::new(64 * 1024);
    let mut stats = ConnStats::default();
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            return Ok(stats);
        }
        s.write_all(&batch).await?;
        let mut got = 0;
        while got < depth {
            while got < depth {
                let Some(n) = parse_response(rb.data())? else {
                    break;
                };
                rb.consume(n);
                got += 1;
                let t = Instant::now();
                if t >= start && t < end {
                    stats.ops += 1;
                    stats.latencies_us.push(micros(t - t0));
                }
            }
            if got < depth {
                rb.fill(&mut s).await?;
            }
        }
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Opens a WebSocket to `GET /echo` and returns the stream and any bytes
/// that followed the 101.
async fn ws_open(addr: SocketAddr) -> io::Result<(TcpStream, ReadBuf)> {
    check_loopback(addr)?;
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let req = format!(
        "GET /echo HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await?;
    let mut rb = ReadBuf::new(4096);
    loop {
        if let Some(pos) = rb.data().windows(4).position(|w| w == b"\r\n\r\n") {
            if !rb.data().starts_with(b"HTTP/1.1 101") {
                let head = String::from_utf8_lossy(&rb.data()[..pos]).into_owned();
                return Err(io::Error::other(format!("handshake refused: {head}")));
            }
            rb.consume(pos + 4);
            return Ok((s, rb));
        }
        if rb.data().len() > 8192 {
            return Err(io::Error::other("handshake response too long"));
        }
        rb.fill(&mut s).await?;
    }
}

/// A masked binary frame carrying `size` bytes, as a client sends it.
pub fn masked_frame(opcode_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![opcode_byte];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// A complete unmasked server frame at the start of `d`: (frame length,
/// opcode, payload length).
fn parse_frame(d: &[u8]) -> io::Result<Option<(usize, u8, usize)>> {
    if d.len() < 2 {
        return Ok(None);
    }
    if d[1] & 0x80 != 0 {
        return Err(io::Error::other("server frame is masked"));
    }
    let (hdr, len) = match d[1] & 0x7f {
        126 if d.len() >= 4 => (4, usize::from(u16::from_be_bytes([d[2], d[3]]))),
        127 if d.len() >= 10 => {
            let mut b = [0; 8];
            b.copy_from_slice(&d[2..10]);
            (
                10,
                usize::try_from(u64::from_be_bytes(b)).map_err(io::Error::other)?,
            )
        }
        126 | 127 => return Ok(None),
        n => (2, usize::from(n)),
    };
    Ok((d.len() >= hdr + len).then_some((hdr + len, d[0] & 0x0f, len)))
}

/// One WebSocket connection echoing `size`-byte binary messages, one in
/// flight at a time, until `end`.
pub async fn ws_conn(
    addr: SocketAddr,
    size: usize,
    start: Instant,
    end: Instant,
) -> io::Result<ConnStats> {
    let (mut s, mut rb) = ws_open(addr).await?;
    let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let frame = masked_frame(0x82, &payload);
    let mut stats = ConnStats::default();
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            // A polite close, not waited for.
            let _ = s
                .write_all(&masked_frame(0x88, &1000u16.to_be_bytes()))
                .await;
            return Ok(stats);
        }
        s.write_all(&frame).await?;
        loop {
            if let Some((n, opcode, len)) = parse_frame(rb.data())? {
                rb.consume(n);
                match opcode {
                    2 if len == size => break,
                    2 => return Err(io::Error::other(format!("echo of {len} bytes"))),
                    8 => return Err(io::Error::other("server closed the WebSocket")),
                    _ => continue,
                }
            }
            rb.fill(&mut s).await?;
        }
        let t = Instant::now();
        if t >= start && t < end {
            stats.ops += 1;
            stats.latencies_us.push(micros(t - t0));
        }
    }
}

/// Idle WebSocket connections held open by [`open_idle`].
#[derive(Debug)]
pub struct IdleConns {
    streams: Vec<TcpStream>,
    /// Connections that failed to open.
    pub failed: usize,
}

impl IdleConns {
    /// How many of the held connections the server has not closed.
    pub fn still_open(&self) -> usize {
        let mut byte = [0u8; 1];
        self.streams
            .iter()
            .filter(|s| matches!(s.try_read(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock))
            .count()
    }

    /// Connections opened.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// No connection opened.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

/// Opens `n` WebSocket connections (at most `parallel` handshakes at a time)
/// and leaves them idle. Gives up at `deadline`.
pub async fn open_idle(
    addr: SocketAddr,
    n: usize,
    parallel: usize,
    deadline: Instant,
) -> IdleConns {
    let sem = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.ok()?;
            let open = tokio::time::timeout_at(deadline.into(), ws_open(addr)).await;
            match open {
                Ok(Ok((s, _))) => Some(s),
                _ => None,
            }
        }));
    }
    let mut conns = IdleConns {
        streams: Vec::with_capacity(n),
        failed: 0,
    };
    for t in tasks {
        match t.await {
            Ok(Some(s)) => conns.streams.push(s),
            _ => conns.failed += 1,
        }
    }
    conns
}
