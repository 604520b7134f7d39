//! adapter-core's generic loopback tests, on tokio.

adapter_core::runtime_tests!(adapter_tokio::Tokio);
#[cfg(unix)]
adapter_core::signal_tests!("text-protocol");
