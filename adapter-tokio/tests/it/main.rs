//! adapter-core's generic loopback tests, on tokio.

adapter_core::runtime_tests!(adapter_tokio::Tokio);
adapter_core::client_tests!(adapter_tokio::Tokio);
#[cfg(unix)]
adapter_core::signal_tests!("text-protocol");
adapter_core::web_tests!(adapter_tokio::Tokio);
#[cfg(unix)]
adapter_core::web_signal_tests!("tokio-server");

/// The README shows `examples/quickstart.rs` as the twenty-line program; this
/// keeps the copy identical to the example that `cargo test` compiles.
#[test]
fn readme_shows_the_quickstart_example_verbatim() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example = std::fs::read_to_string(format!("{root}/adapter-tokio/examples/quickstart.rs"))
        .expect("examples/quickstart.rs");
    assert!(
        readme.contains(example.trim_end()),
        "README.md's quickstart differs from adapter-tokio/examples/quickstart.rs"
    );
    assert!(example.lines().count() <= 30, "the quickstart stays short");
}
