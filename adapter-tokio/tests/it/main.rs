//! adapter-core's generic loopback tests, on tokio.

adapter_core::runtime_tests!(adapter_tokio::Tokio);
adapter_core::client_tests!(adapter_tokio::Tokio);
#[cfg(unix)]
adapter_core::signal_tests!("text-protocol");
adapter_core::web_tests!(adapter_tokio::Tokio);
#[cfg(unix)]
adapter_core::web_signal_tests!("tokio-server");
