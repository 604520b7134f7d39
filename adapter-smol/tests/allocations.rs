//! A warm connection's exchanges allocate nothing, on smol. A test binary of
//! its own: the counting allocator sees every thread of the process.
//!
//! async-io's reactor allocates the list of tasks it wakes in every turn
//! (`ReactorLock::react`): about one turn per exchange here, up to 1.4 with
//! the cores busy, so two per exchange are the runtime's. That still fails
//! on smol's own regressions (4 per exchange with timers on async-io's
//! reactor); adapter-tokio's run of the same test, where the runtime makes
//! none, is the exact check of the shared HTTP and WebSocket paths.

adapter_core::allocation_tests!(adapter_smol::Smol, runtime_allocations_per_exchange = 2);
