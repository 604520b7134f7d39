//! adapter-core's generic loopback tests, on smol and inside async-std.

adapter_core::runtime_tests!(adapter_smol::Smol);
adapter_core::client_tests!(adapter_smol::Smol);
#[cfg(unix)]
adapter_core::signal_tests!("smol-text-protocol");
adapter_core::web_tests!(adapter_smol::Smol);
#[cfg(unix)]
adapter_core::web_signal_tests!("smol-server");

mod async_std;
mod embedded;
