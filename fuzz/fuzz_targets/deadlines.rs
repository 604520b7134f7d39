#![no_main]
//! libFuzzer entry point; the body and its invariants: `proto_core::fuzzing::deadlines`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| proto_core::fuzzing::deadlines(data));
