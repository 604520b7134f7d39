//! Shared helpers for the libFuzzer entry points in `fuzz_targets/`.

use std::sync::OnceLock;
use std::time::Instant;

/// One origin instant for the whole fuzzing process, so the clock the bodies
/// are given never depends on when an input happened to run.
pub fn now() -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}
