//! Steady-state allocation test: once a connection is warm, a kept-alive
//! HTTP exchange and a WebSocket echo allocate nothing on the server.
//!
//! An allocation per request is a few hundred instructions and a contended
//! allocator on many cores; the hot paths are built to reuse their blocks
//! (the receive block, the field index, the payload block), and this test
//! keeps them so. The counting allocator sees every thread of the process,
//! so each runtime crate runs the test alone, in a test binary of its own:
//!
//! ```ignore
//! // adapter-tokio/tests/allocations.rs
//! adapter_core::allocation_tests!(adapter_tokio::Tokio);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Running;
use crate::Runtime;

/// Declares a counting global allocator and the allocation test for a
/// runtime type. Use it alone in its own test file. A runtime that
/// allocates on its own in every turn of its reactor names how many
/// allocations per exchange that makes (whole numbers; none by default).
#[macro_export]
macro_rules! allocation_tests {
    ($rt:ty) => {
        $crate::allocation_tests!($rt, runtime_allocations_per_exchange = 0);
    };
    ($rt:ty, runtime_allocations_per_exchange = $runtime:literal) => {
        #[global_allocator]
        static ALLOCATOR: $crate::testing::allocations::CountingAllocator =
            $crate::testing::allocations::CountingAllocator::new();

        #[test]
        fn warm_connections_allocate_nothing_per_exchange() {
            $crate::testing::allocations::warm_connections_allocate_nothing_per_exchange::<$rt>(
                || ALLOCATOR.allocations(),
                $runtime,
            );
        }
    };
}

/// The system allocator, counting the allocations made through it.
#[derive(Debug)]
pub struct CountingAllocator {
    allocations: AtomicU64,
}

impl CountingAllocator {
    /// A counter at zero.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            allocations: AtomicU64::new(0),
        }
    }

    /// Allocations (and reallocations) so far, by every thread.
    pub fn allocations(&self) -> u64 {
        self.allocations.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.allocations.fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for CountingAllocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method passes its arguments unchanged to `System` and
// returns what it returns, so `System` upholds `GlobalAlloc`'s contract; the
// counter is an atomic that touches no allocated memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Exchanges measured per protocol, after as many to warm up.
const EXCHANGES: u64 = 500;

const ECHO_REQUEST: &[u8] = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";

/// The reference server answers `EXCHANGES` kept-alive `POST /echo`
/// requests and echoes `EXCHANGES` 32-byte WebSocket messages, after as many
/// of each to warm up, making no allocation of its own: the whole process
/// allocates at most `runtime_per_exchange` per exchange (what the runtime
/// makes by itself) plus one per four exchanges. The clients read and write
/// fixed buffers, so the count is the server's and its runtime's.
///
/// Before the finished request gave its head back at once, every HTTP
/// exchange allocated twice (a new receive block and its shared header),
/// which fails this on tokio (1,000 allocations where 250 are allowed);
/// before adapter-smol kept its timers off async-io's reactor, smol made
/// about four per exchange, which fails it on smol.
///
/// # Panics
///
/// When the server allocates per exchange, or misbehaves.
pub fn warm_connections_allocate_nothing_per_exchange<R: Runtime>(
    allocations: fn() -> u64,
    runtime_per_exchange: u64,
) {
    let server = Running::reference::<R>(&[]);

    // The first answer is what every later one must be, byte for byte.
    let mut http = server.client();
    http.send(ECHO_REQUEST);
    let first = http.response();
    assert_eq!((first.status, &first.body[..]), (200, &b"hello"[..]));
    let expected = [first.head.as_bytes(), &first.body].concat();
    let mut http = http.into_stream();
    let mut answer = [0u8; 256];
    let mut http_exchange = || {
        http.write_all(ECHO_REQUEST).expect("sends");
        http.read_exact(&mut answer[..expected.len()])
            .expect("reads");
        assert_eq!(&answer[..expected.len()], &expected[..]);
    };

    let mut ws = server.client();
    assert_eq!(ws.upgrade("/echo", "t", "").status, 101);
    let mut ws = ws.into_stream();
    let payload = *b"0123456789abcdef0123456789abcdef";
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = [0u8; 2 + 4 + 32];
    frame[..2].copy_from_slice(&[0x82, 0x80 | 32]);
    frame[2..6].copy_from_slice(&key);
    for (i, (out, b)) in frame[6..].iter_mut().zip(payload).enumerate() {
        *out = b ^ key[i % 4];
    }
    let mut echo = [0u8; 2 + 32];
    let mut ws_exchange = || {
        ws.write_all(&frame).expect("sends");
        ws.read_exact(&mut echo).expect("reads");
        assert_eq!(echo[..2], [0x82, 32]);
        assert_eq!(echo[2..], payload);
    };

    for _ in 0..EXCHANGES {
        http_exchange();
        ws_exchange();
    }
    let before = allocations();
    for _ in 0..EXCHANGES {
        http_exchange();
        ws_exchange();
    }
    let made = allocations() - before;
    let exchanges = 2 * EXCHANGES;
    let allowed = runtime_per_exchange * exchanges + exchanges / 4;
    assert!(
        made <= allowed,
        "{made} allocations over {EXCHANGES} kept-alive HTTP exchanges and {EXCHANGES} \
         WebSocket echoes (at most {allowed}): the hot path should reuse its blocks"
    );
}
