#![no_main]
//! libFuzzer entry point; the body and its invariants: `proto_ws::fuzzing::roundtrip`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| proto_ws::fuzzing::roundtrip(rampart_fuzz::now(), data));
