//! What a message's counter updates cost when every worker records at once
//! (criterion).
//!
//! - `stats/1_thread`, `stats/2_threads`, ...: each thread records what one
//!   WebSocket echo records (bytes in, a message in, a message out, bytes
//!   out) `MESSAGES` times into one shared [`Stats`]; the time is per
//!   thread's message. With one cache line for all threads the cost grows
//!   with the threads (the line moves between cores on every add); with the
//!   sharded counters it stays that of one thread.
//!
//! Run: `cargo bench -p proto-core --bench stats -- --warm-up-time 1 --measurement-time 3`.
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use proto_core::Stats;

const MESSAGES: u64 = 100_000;

/// `threads` threads each recording `MESSAGES` echoes into `stats`; the
/// wall time of the slowest.
#[allow(clippy::disallowed_methods)] // a benchmark reads the clock
fn record(stats: &Stats, threads: usize) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || {
                for _ in 0..MESSAGES {
                    stats.add_bytes_in(38);
                    stats.record_ws_message_in();
                    stats.record_ws_message_out();
                    stats.add_bytes_out(34);
                }
            });
        }
    });
    start.elapsed()
}

fn stats(c: &mut Criterion) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut group = c.benchmark_group("stats");
    group.throughput(Throughput::Elements(MESSAGES));
    for threads in [1, 2, 4].into_iter().filter(|t| *t <= cores.max(2)) {
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{threads}_threads")),
            &threads,
            |b, &threads| {
                let stats = Stats::new();
                b.iter_custom(|iters| (0..iters).map(|_| record(&stats, threads)).sum());
            },
        );
    }
    group.finish();
}

criterion_group!(benches, stats);
criterion_main!(benches);
