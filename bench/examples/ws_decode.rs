//! A fixed amount of work for `valgrind --tool=callgrind` (instruction
//! counts are deterministic where timings on a shared machine are not): the
//! input of `benches/decode.rs` (at least 1 MiB of identical masked client
//! frames of one size, binary or text, handed over in 64 KiB reads), decoded
//! `REPS` times by proto-ws, tungstenite or fastwebsockets, each delivering
//! whole messages with its default limits, exactly as the criterion bench
//! drives them.
//!
//! ```text
//! cargo build --release --manifest-path bench/Cargo.toml --example ws_decode
//! # LIB: proto-ws | tungstenite | fastwebsockets; SIZE: 16 | 1024 | 65536 | 1048576
//! valgrind --tool=callgrind bench/target/release/examples/ws_decode LIB SIZE [binary|text] [REPS] [READ]
//! ```
//!
//! Per message, the instruction count is `(Ir(REPS) - Ir(0)) / (REPS *
//! messages per pass)`: a run with `REPS = 0` measures the setup alone.
//! `WS_DECODE_WARM=1` first runs every size through every library once, to
//! leave the heap as the criterion bench leaves it.
//!
//! Without valgrind it prints the wall time per pass, which is only a rough
//! guide on a shared machine.
#![allow(clippy::disallowed_methods)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

#[path = "../benches/common/decode.rs"]
mod decode;
use decode::{fastwebsockets_decode, proto_ws_decode, text_payload, tungstenite_decode};

/// Bytes per read: 64 KiB as in `benches/decode.rs`, or the optional fifth
/// argument (adapter-core reads 16 KiB at a time).
static READ: AtomicUsize = AtomicUsize::new(64 * 1024);

fn read_size() -> usize {
    READ.load(Relaxed)
}

/// Counts allocations, reallocations and the bytes they ask for, so a run
/// shows how often each library goes to the allocator per message.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static REALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size.saturating_sub(layout.size()), Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// At least 1 MiB of identical frames of `size` bytes; the bytes (leaked:
/// fastwebsockets' stream wants 'static input) and the frame count.
fn stream(size: usize, text: bool) -> (&'static [u8], usize) {
    let payload = if text {
        text_payload(size)
    } else {
        vec![0xa5; size]
    };
    let (bytes, count) = decode::stream(if text { 0x81 } else { 0x82 }, &payload);
    (Vec::leak(bytes), count)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let lib = args.next().unwrap_or_else(|| "proto-ws".into());
    let size: usize = args.next().map_or(16, |s| s.parse().unwrap());
    let text = args.next().is_some_and(|k| k == "text");
    let reps: usize = args.next().map_or(8, |s| s.parse().unwrap());
    if let Some(read) = args.next() {
        READ.store(read.parse().unwrap(), Relaxed);
    }

    let now = Instant::now();
    if std::env::var_os("WS_DECODE_WARM").is_some() {
        // Leave the heap as the criterion bench leaves it before its 1 MiB
        // case: every size through every library once.
        for size in [16, 1024, 64 * 1024, 1 << 20] {
            let (input, count) = stream(size, text);
            let mut conn = proto_ws::Connection::new(
                proto_core::Side::Server,
                proto_ws::Config::default(),
                now,
            )
            .unwrap();
            assert_eq!(proto_ws_decode(&mut conn, now, input, read_size()), count);
            assert_eq!(tungstenite_decode(input, count, read_size()), count);
            assert_eq!(fastwebsockets_decode(input, count, read_size()), count);
        }
    }
    let (input, count) = stream(size, text);

    let mut conn =
        proto_ws::Connection::new(proto_core::Side::Server, proto_ws::Config::default(), now)
            .unwrap();
    let (allocs, reallocs, bytes) = (
        ALLOCS.load(Relaxed),
        REALLOCS.load(Relaxed),
        BYTES.load(Relaxed),
    );
    let t = Instant::now();
    for _ in 0..reps {
        let delivered = match lib.as_str() {
            "proto-ws" => proto_ws_decode(&mut conn, now, input, read_size()),
            "tungstenite" => tungstenite_decode(input, count, read_size()),
            "fastwebsockets" => fastwebsockets_decode(input, count, read_size()),
            other => panic!("unknown library {other}"),
        };
        assert_eq!(delivered, count);
    }
    let per = t.elapsed().as_secs_f64() / reps as f64;
    let mib_s = input.len() as f64 / per / f64::from(1 << 20);
    let messages = (reps * count).max(1) as f64;
    let per_message = |now: usize, before: usize| (now - before) as f64 / messages;
    println!(
        "{lib} {size} B {}: {count} messages/pass, {:.0} µs/pass, {mib_s:.0} MiB/s; \
         per message: {:.3} allocs, {:.3} reallocs, {:.0} bytes asked",
        if text { "text" } else { "binary" },
        per * 1e6,
        per_message(ALLOCS.load(Relaxed), allocs),
        per_message(REALLOCS.load(Relaxed), reallocs),
        per_message(BYTES.load(Relaxed), bytes),
    );
}
