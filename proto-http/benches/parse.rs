//! Parsing cost of proto-http against httparse alone on the same heads.
//!
//! - `browser_get`: a typical browser GET head, parsed into events.
//! - `pipelined_16`: 16 small pipelined requests in one read (proto-http
//!   also answers each, as a server must before it parses the next).
//! - `chunked_1mib`: a 1 MiB chunked body (16 KiB chunks, 64 KiB reads).
//! - `head_16k`: a 16 KiB head fed whole and one byte per read; the
//!   incremental scan keeps the second within a small factor of the first
//!   (re-parsing per read, the tungstenite CVE-2023-43669 class, is shown
//!   for contrast on httparse).
#![allow(missing_docs, clippy::disallowed_methods)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use proto_http::{Config, Connection, Event, Response, Side};
use std::hint::black_box;
use std::time::Instant;

const BROWSER_GET: &[u8] = b"GET /static/app.js?v=3 HTTP/1.1\r\n\
Host: www.example.com\r\n\
Connection: keep-alive\r\n\
sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
Accept: */*\r\n\
Sec-Fetch-Site: same-origin\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Dest: script\r\n\
Referer: https://www.example.com/\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Cookie: session=4f6e2b1c9a8d7e6f5a4b3c2d1e0f9a8b; theme=dark; _ga=GA1.2.123456789.1700000000\r\n\
\r\n";

fn server() -> Connection {
    let mut config = Config::default();
    config.max_buffer_size(1 << 20);
    Connection::new(Side::Server, config).unwrap()
}

/// Feeds `input` in pieces of `step` and drains events; returns the count.
fn feed(conn: &mut Connection, now: Instant, input: &[u8], step: usize) -> usize {
    let mut events = 0;
    for piece in input.chunks(step) {
        let mut piece = piece;
        while !piece.is_empty() {
            let n = conn.handle_input(now, piece).unwrap();
            piece = &piece[n..];
            while let Some(e) = conn.poll_event() {
                black_box(&e);
                events += 1;
            }
        }
    }
    events
}

fn httparse_head(buf: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("{other:?}"),
    }
}

fn browser_get(c: &mut Criterion) {
    let now = Instant::now();
    let mut g = c.benchmark_group("browser_get");
    g.throughput(Throughput::Bytes(BROWSER_GET.len() as u64));
    g.bench_function("proto_http", |b| {
        b.iter(|| {
            let mut conn = server();
            black_box(feed(&mut conn, now, black_box(BROWSER_GET), usize::MAX))
        });
    });
    g.bench_function("httparse", |b| {
        b.iter(|| httparse_head(black_box(BROWSER_GET)));
    });
    g.finish();
}

fn pipelined(c: &mut Criterion) {
    let now = Instant::now();
    let one: &[u8] =
        b"GET /items/42 HTTP/1.1\r\nHost: api.example.com\r\nAccept: application/json\r\n\r\n";
    let input = one.repeat(16);
    let mut g = c.benchmark_group("pipelined_16");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("proto_http", |b| {
        let mut wire = Vec::new();
        b.iter(|| {
            let mut conn = server();
            conn.handle_input(now, &input).unwrap();
            let mut answered = 0;
            while answered < 16 {
                let mut end = false;
                while let Some(e) = conn.poll_event() {
                    end |= matches!(e, Event::EndOfMessage { .. });
                }
                if end {
                    let mut res = Response::new(204);
                    res.headers_mut().append("Server", "b");
                    conn.send_response(res).unwrap();
                    conn.finish().unwrap();
                    answered += 1;
                }
            }
            wire.clear();
            while conn.poll_transmit(now, &mut wire).is_some() {}
            black_box(wire.len())
        });
    });
    g.bench_function("httparse", |b| {
        b.iter(|| {
            let mut pos = 0;
            while pos < input.len() {
                pos += httparse_head(&input[pos..]);
            }
            black_box(pos)
        });
    });
    g.finish();
}

fn chunked(c: &mut Criterion) {
    let now = Instant::now();
    let mut input =
        b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let head_len = input.len();
    let chunk = vec![b'x'; 16 * 1024];
    for _ in 0..64 {
        input.extend_from_slice(b"4000\r\n");
        input.extend_from_slice(&chunk);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");
    let mut g = c.benchmark_group("chunked_1mib");
    g.throughput(Throughput::Bytes((input.len() - head_len) as u64));
    g.bench_function("proto_http", |b| {
        b.iter(|| {
            let mut conn = server();
            black_box(feed(&mut conn, now, &input, 64 * 1024))
        });
    });
    g.bench_function("httparse", |b| {
        b.iter(|| {
            let mut pos = head_len;
            let mut total = 0u64;
            loop {
                match httparse::parse_chunk_size(&input[pos..]) {
                    Ok(httparse::Status::Complete((n, 0))) => {
                        pos += n;
                        break;
                    }
                    Ok(httparse::Status::Complete((n, size))) => {
                        pos += n + usize::try_from(size).unwrap() + 2;
                        total += size;
                    }
                    other => panic!("{other:?}"),
                }
            }
            black_box((pos, total))
        });
    });
    g.finish();
}

fn head_16k(c: &mut Criterion) {
    let now = Instant::now();
    let mut head = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    let mut i = 0;
    while head.len() < 16 * 1024 - 200 {
        head.extend_from_slice(format!("X-Field-{i}: {}\r\n", "v".repeat(150)).as_bytes());
        i += 1;
    }
    while head.len() < 16 * 1024 - 2 {
        head.push(b'x');
    }
    // Make the padding a field of its own.
    let pad = head.len() - (16 * 1024 - 200);
    head.truncate(16 * 1024 - 200);
    head.extend_from_slice(format!("Pad: {}\r\n", "p".repeat(pad.saturating_sub(7))).as_bytes());
    head.extend_from_slice(b"\r\n");
    assert!(head.len() <= 16 * 1024, "{}", head.len());

    let mut g = c.benchmark_group("head_16k");
    g.throughput(Throughput::Bytes(head.len() as u64));
    for step in [usize::MAX, 1] {
        let name = if step == 1 {
            "one_byte_per_read"
        } else {
            "whole"
        };
        g.bench_with_input(BenchmarkId::new("proto_http", name), &step, |b, &step| {
            b.iter(|| {
                let mut conn = server();
                black_box(feed(&mut conn, now, &head, step))
            });
        });
    }
    g.bench_function(BenchmarkId::new("httparse", "whole"), |b| {
        b.iter(|| httparse_head(black_box(&head)));
    });
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("httparse", "reparse_per_read"), |b| {
        b.iter(|| {
            // What a naive driver does: parse the whole buffer after every read.
            let mut headers = [httparse::EMPTY_HEADER; 128];
            for n in 1..=head.len() {
                let mut req = httparse::Request::new(&mut headers);
                if let Ok(httparse::Status::Complete(used)) = req.parse(&head[..n]) {
                    return used;
                }
            }
            0
        });
    });
    g.finish();
}

criterion_group!(benches, browser_get, pipelined, chunked, head_16k);
criterion_main!(benches);
