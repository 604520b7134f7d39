//! Decode and unmask throughput (criterion).
//!
//! - `decode/*`: a server connection decoding masked binary frames of 16 B,
//!   1 KiB, 16 KiB, 64 KiB and 1 MiB, fed in the 64 KiB reads adapter-core
//!   makes, events drained as they come (the whole path: header, copy,
//!   unmask, event).
//! - `decode_text/*`: the same with text frames (mixed ASCII and 2-3 byte
//!   code points), so UTF-8 validation is included.
//! - `decode_16k_reads/*`: 64 KiB and 1 MiB binary frames fed in 16 KiB
//!   reads (segments that arrive one at a time), so every frame spans reads
//!   and the payload buffer's reservation policy (`src/payload.rs`) decides
//!   how often it is moved.
//! - `unmask/*`: `apply_mask` alone, against a byte-at-a-time loop and a
//!   `u64` word-at-a-time loop, to justify the block approach (and the
//!   absence of `unsafe`).
//!
//! Run: `cargo bench -p proto-ws -- --warm-up-time 1 --measurement-time 3`.
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use proto_core::Side;
use proto_ws::{Config, Connection, apply_mask};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const READ: usize = 64 * 1024;
/// Reads smaller than adapter-core's.
const SMALL_READ: usize = 16 * 1024;

fn masked_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | u8::try_from(len).unwrap());
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&KEY);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], KEY, 0);
    out
}

/// At least 1 MiB of frames of `size` bytes each (one frame if larger).
fn stream(b0: u8, payload: &[u8]) -> Vec<u8> {
    let one = masked_frame(b0, payload);
    let count = (1 << 20) / one.len() + 1;
    one.repeat(count)
}

fn text_payload(size: usize) -> Vec<u8> {
    let pattern = "hello κόσμε €uro ".as_bytes();
    let mut out: Vec<u8> = pattern.iter().copied().cycle().take(size).collect();
    // Cut back to a char boundary.
    while std::str::from_utf8(&out).is_err() {
        out.pop();
    }
    out
}

fn decode(conn: &mut Connection, now: Instant, input: &[u8], read_size: usize) -> usize {
    let mut delivered = 0;
    for read in input.chunks(read_size) {
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

#[allow(clippy::disallowed_methods)] // the bench needs one origin instant
fn t0() -> Instant {
    Instant::now()
}

fn sizes() -> [(&'static str, usize); 5] {
    [
        ("16B", 16),
        ("1KiB", 1024),
        ("16KiB", 16 * 1024),
        ("64KiB", 64 * 1024),
        ("1MiB", 1 << 20),
    ]
}

fn bench_decode(c: &mut Criterion) {
    let now = t0();
    for (group, b0, text) in [("decode", 0x82u8, false), ("decode_text", 0x81u8, true)] {
        let mut g = c.benchmark_group(group);
        for (name, size) in sizes() {
            let payload = if text {
                text_payload(size)
            } else {
                vec![0xa5; size]
            };
            let input = stream(b0, &payload);
            g.throughput(Throughput::Bytes(input.len() as u64));
            let mut conn = Connection::new(Side::Server, Config::default(), now).unwrap();
            g.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
                b.iter(|| decode(&mut conn, now, input, READ));
            });
        }
        g.finish();
    }
    let mut g = c.benchmark_group("decode_16k_reads");
    for (name, size) in &sizes()[3..] {
        let input = stream(0x82, &vec![0xa5; *size]);
        g.throughput(Throughput::Bytes(input.len() as u64));
        let mut conn = Connection::new(Side::Server, Config::default(), now).unwrap();
        g.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
            b.iter(|| decode(&mut conn, now, input, SMALL_READ));
        });
    }
    g.finish();
}

fn unmask_bytewise(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn unmask_u64(buf: &mut [u8], key: [u8; 4]) {
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(w) ^ word).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

fn bench_unmask(c: &mut Criterion) {
    let mut g = c.benchmark_group("unmask");
    for (name, size) in sizes() {
        let mut buf = vec![0x5a; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("apply_mask", name), |b| {
            b.iter(|| apply_mask(std::hint::black_box(&mut buf), KEY, 0));
        });
        if size >= 64 * 1024 {
            g.bench_function(BenchmarkId::new("u64_words", name), |b| {
                b.iter(|| unmask_u64(std::hint::black_box(&mut buf), KEY));
            });
            g.bench_function(BenchmarkId::new("bytewise", name), |b| {
                b.iter(|| unmask_bytewise(std::hint::black_box(&mut buf), KEY));
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_decode, bench_unmask);
criterion_main!(benches);
