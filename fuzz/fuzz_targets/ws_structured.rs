#![no_main]
//! libFuzzer entry point; the body and its invariants: `proto_ws::fuzzing::structured`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| proto_ws::fuzzing::structured(rampart_fuzz::now(), data));
