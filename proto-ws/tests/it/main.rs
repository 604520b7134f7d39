//! Integration tests through the public API only.

mod end_to_end;
#[cfg(feature = "fuzzing")]
mod fuzz_replay;
