//! A warm connection's exchanges allocate nothing, on tokio. A test binary of
//! its own: the counting allocator sees every thread of the process.

adapter_core::allocation_tests!(adapter_tokio::Tokio);
