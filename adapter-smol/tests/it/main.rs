//! adapter-core's generic loopback tests, on smol and inside async-std.

adapter_core::runtime_tests!(adapter_smol::Smol);
#[cfg(unix)]
adapter_core::signal_tests!("smol-text-protocol");

mod async_std;
mod embedded;
