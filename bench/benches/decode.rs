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

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/decode.rs"]
mod decode;
use decode::{fastwebsockets_decode, proto_ws_decode, stream, text_payload, tungstenite_decode};

/// Reads of 64 KiB, as a socket would hand them over.
const READ: usize = 64 * 1024;

fn sizes() -> [(&'static str, usize); 4] {
    [
        ("16B", 16),
        ("1KiB", 1024),
        ("64KiB", 64 * 1024),
        ("1MiB", 1 << 20),
    ]
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
            assert_eq!(proto_ws_decode(&mut conn, now, input, READ), count);
            assert_eq!(tungstenite_decode(input, count, READ), count);
            assert_eq!(fastwebsockets_decode(input, count, READ), count);
            g.bench_with_input(BenchmarkId::new("proto-ws", name), &input, |b, input| {
                b.iter(|| proto_ws_decode(&mut conn, now, input, READ));
            });
            g.bench_with_input(BenchmarkId::new("tungstenite", name), &input, |b, input| {
                b.iter(|| tungstenite_decode(input, count, READ));
            });
            g.bench_with_input(
                BenchmarkId::new("fastwebsockets", name),
                &input,
                |b, input| {
                    b.iter(|| fastwebsockets_decode(input, count, READ));
                },
            );
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
