#![no_main]
//! libFuzzer entry point; the body and its invariants: `proto_http::fuzzing::server`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| proto_http::fuzzing::server(data));
