//! A warm connection's exchanges allocate nothing, on smol. A test binary of
//! its own: the counting allocator sees every thread of the process.
//!
//! async-io's reactor allocates the list of tasks it wakes in every turn
//! (`ReactorLock::react`), about one turn per exchange here: that one is
//! the runtime's.

adapter_core::allocation_tests!(adapter_smol::Smol, runtime_allocations_per_exchange = 1);
