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
//!
//! Wall time is noisy on a shared machine; instruction counts are not. With
//! `PARSE_BENCH_COUNT=<group>/<name>:<n>` the binary runs that case `n`
//! times outside criterion (names as above, e.g.
//! `browser_get/proto_http`, `head_16k/proto_http/one_byte_per_read`), so
//! the difference between callgrind totals for `n` and `2n`, divided by `n`,
//! is the cost of one iteration:
//!
//! ```text
//! cargo bench -p proto-http --no-run          # prints the binary's path
//! PARSE_BENCH_COUNT=browser_get/proto_http:2000 valgrind --tool=callgrind \
//!     --callgrind-out-file=/dev/null target/release/deps/parse-<hash>
//! ```
#![allow(missing_docs, clippy::disallowed_methods)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
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

/// One `browser_get/proto_http` iteration: a new connection parses the head.
fn browser_get_proto(now: Instant) -> usize {
    let mut conn = server();
    black_box(feed(&mut conn, now, black_box(BROWSER_GET), usize::MAX))
}

fn browser_get(c: &mut Criterion) {
    let now = Instant::now();
    let mut g = c.benchmark_group("browser_get");
    g.throughput(Throughput::Bytes(BROWSER_GET.len() as u64));
    g.bench_function("proto_http", |b| b.iter(|| browser_get_proto(now)));
    g.bench_function("httparse", |b| {
        b.iter(|| httparse_head(black_box(BROWSER_GET)));
    });
    g.finish();
}

fn pipelined_input() -> Vec<u8> {
    let one: &[u8] =
        b"GET /items/42 HTTP/1.1\r\nHost: api.example.com\r\nAccept: application/json\r\n\r\n";
    one.repeat(16)
}

/// One `pipelined_16/proto_http` iteration: parse and answer 16 requests.
fn pipelined_proto(now: Instant, input: &[u8], wire: &mut Vec<u8>) -> usize {
    let mut conn = server();
    conn.handle_input(now, input).unwrap();
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
    while conn.poll_transmit(now, wire).is_some() {}
    black_box(wire.len())
}

/// One `pipelined_16/httparse` iteration.
fn pipelined_httparse(input: &[u8]) -> usize {
    let mut pos = 0;
    while pos < input.len() {
        pos += httparse_head(&input[pos..]);
    }
    black_box(pos)
}

fn pipelined(c: &mut Criterion) {
    let now = Instant::now();
    let input = pipelined_input();
    let mut g = c.benchmark_group("pipelined_16");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("proto_http", |b| {
        let mut wire = Vec::new();
        b.iter(|| pipelined_proto(now, &input, &mut wire));
    });
    g.bench_function("httparse", |b| b.iter(|| pipelined_httparse(&input)));
    g.finish();
}

/// A chunked request with a 1 MiB body, and the length of its head.
fn chunked_input() -> (Vec<u8>, usize) {
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
    (input, head_len)
}

/// One `chunked_1mib/proto_http` iteration.
fn chunked_proto(now: Instant, input: &[u8]) -> usize {
    let mut conn = server();
    black_box(feed(&mut conn, now, input, 64 * 1024))
}

/// One `chunked_1mib/httparse` iteration: chunk sizes only.
fn chunked_httparse(input: &[u8], head_len: usize) -> (usize, u64) {
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
}

fn chunked(c: &mut Criterion) {
    let now = Instant::now();
    let (input, head_len) = chunked_input();
    let mut g = c.benchmark_group("chunked_1mib");
    g.throughput(Throughput::Bytes((input.len() - head_len) as u64));
    g.bench_function("proto_http", |b| b.iter(|| chunked_proto(now, &input)));
    g.bench_function("httparse", |b| {
        b.iter(|| chunked_httparse(&input, head_len));
    });
    g.finish();
}

/// A 16 KiB head of 150-byte fields.
fn head_16k_input() -> Vec<u8> {
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
    head
}

/// One `head_16k/proto_http` iteration, `step` bytes per read.
fn head_16k_proto(now: Instant, head: &[u8], step: usize) -> usize {
    let mut conn = server();
    black_box(feed(&mut conn, now, head, step))
}

fn head_16k(c: &mut Criterion) {
    let now = Instant::now();
    let head = head_16k_input();
    let mut g = c.benchmark_group("head_16k");
    g.throughput(Throughput::Bytes(head.len() as u64));
    for step in [usize::MAX, 1] {
        let name = if step == 1 {
            "one_byte_per_read"
        } else {
            "whole"
        };
        g.bench_with_input(BenchmarkId::new("proto_http", name), &step, |b, &step| {
            b.iter(|| head_16k_proto(now, &head, step));
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

/// Runs one case `n` times, outside criterion, for instruction counts (see
/// the top of this file).
fn count(case: &str, n: usize) {
    let now = Instant::now();
    let piped = pipelined_input();
    let (chunked, head_len) = chunked_input();
    let big = head_16k_input();
    let mut wire = Vec::new();
    let one: fn(&mut dyn FnMut() -> usize, usize) = |f, n| {
        for _ in 0..n {
            black_box(f());
        }
    };
    match case {
        "browser_get/proto_http" => one(&mut || browser_get_proto(now), n),
        "browser_get/httparse" => one(&mut || httparse_head(black_box(BROWSER_GET)), n),
        "pipelined_16/proto_http" => one(&mut || pipelined_proto(now, &piped, &mut wire), n),
        "pipelined_16/httparse" => one(&mut || pipelined_httparse(&piped), n),
        "chunked_1mib/proto_http" => one(&mut || chunked_proto(now, &chunked), n),
        "chunked_1mib/httparse" => one(&mut || chunked_httparse(&chunked, head_len).0, n),
        "head_16k/proto_http/whole" => one(&mut || head_16k_proto(now, &big, usize::MAX), n),
        "head_16k/proto_http/one_byte_per_read" => one(&mut || head_16k_proto(now, &big, 1), n),
        "head_16k/httparse/whole" => one(&mut || httparse_head(black_box(&big)), n),
        _ => panic!("unknown case {case:?}"),
    }
}

criterion_group!(benches, browser_get, pipelined, chunked, head_16k);

fn main() {
    if let Ok(spec) = std::env::var("PARSE_BENCH_COUNT") {
        let (case, n) = spec
            .rsplit_once(':')
            .expect("PARSE_BENCH_COUNT=case:iterations");
        count(case, n.parse().expect("a number of iterations"));
        return;
    }
    // What `criterion_main!(benches)` expands to.
    benches();
    Criterion::default().configure_from_args().final_summary();
}
