//! Masking and unmasking payloads (RFC 6455 §5.3), in safe Rust.
//!
//! The XOR runs over fixed 32-byte blocks against a pre-rotated 32-byte key
//! pattern, a shape LLVM turns into vector instructions on every target we
//! build for; the tail (under 32 bytes) goes byte by byte. `benches/ws.rs`
//! (`unmask/*`) measures it: no `unsafe` was needed, so `mask.rs` has none.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a client gets the masking key of each frame it sends
/// (RFC 6455 §5.3: "a fresh masking key ... from a strong source of entropy").
///
/// The crate draws no randomness itself: adapters implement this over the
/// operating system's generator, tests use fixed keys or [`SeededMasks`].
///
/// ```
/// use proto_ws::MaskSource;
///
/// #[derive(Debug)]
/// struct Fixed;
/// impl MaskSource for Fixed {
///     fn next_mask(&self) -> [u8; 4] { [1, 2, 3, 4] }
/// }
/// assert_eq!(Fixed.next_mask(), [1, 2, 3, 4]);
/// ```
pub trait MaskSource: Send + Sync + Debug {
    /// The key for the next frame.
    fn next_mask(&self) -> [u8; 4];
}

/// A deterministic key sequence (SplitMix64) from a caller-chosen seed.
///
/// Every key differs from the last, but the sequence is predictable from the
/// seed: seed it from a real entropy source in production, or use a source
/// that reads one per key. Shared between connections through the
/// [`Config`](crate::Config), it never repeats a key sequence.
///
/// ```
/// use proto_ws::{MaskSource, SeededMasks};
/// let masks = SeededMasks::new(42);
/// assert_ne!(masks.next_mask(), masks.next_mask());
/// ```
#[derive(Debug)]
pub struct SeededMasks {
    state: AtomicU64,
}

impl SeededMasks {
    /// A sequence starting from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }
}

impl MaskSource for SeededMasks {
    fn next_mask(&self) -> [u8; 4] {
        const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut z = self
            .state
            .fetch_add(GAMMA, Ordering::Relaxed)
            .wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let b = z.to_le_bytes();
        [b[0], b[1], b[2], b[3]]
    }
}

/// Width of the block XORed at once.
const BLOCK: usize = 32;

/// XORs `buf` with the masking `key`, as if `buf` started `offset` bytes into
/// the payload (so a payload arriving in pieces unmasks piece by piece).
///
/// Masking and unmasking are the same operation.
///
/// ```
/// use proto_ws::apply_mask;
/// let key = [1, 2, 3, 4];
/// let mut whole = *b"hello world";
/// apply_mask(&mut whole, key, 0);
///
/// let mut pieces = *b"hello world";
/// let (a, b) = pieces.split_at_mut(5);
/// apply_mask(a, key, 0);
/// apply_mask(b, key, 5);
/// assert_eq!(whole, pieces);
/// ```
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let mut key = key;
    key.rotate_left(offset % 4);
    if buf.len() < BLOCK {
        // Short payloads (most control frames and chat messages): 4 bytes
        // at a time, without building the block pattern.
        let mut words = buf.chunks_exact_mut(4);
        for word in &mut words {
            for (b, k) in word.iter_mut().zip(key) {
                *b ^= k;
            }
        }
        for (b, k) in words.into_remainder().iter_mut().zip(key) {
            *b ^= k;
        }
        return;
    }
    let mut pattern = [0u8; BLOCK];
    for (i, p) in pattern.iter_mut().enumerate() {
        *p = key[i % 4];
    }
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for (b, m) in block.iter_mut().zip(pattern.iter()) {
            *b ^= m;
        }
    }
    for (b, m) in blocks.into_remainder().iter_mut().zip(pattern.iter()) {
        *b ^= m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn rfc6455_5_7_masked_hello() {
        // RFC 6455 §5.7: "A single-frame masked text message".
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    proptest! {
        #[test]
        fn matches_the_bytewise_definition(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            key in any::<[u8; 4]>(),
            offset in 0usize..16,
        ) {
            let mut fast = data.clone();
            let mut slow = data;
            apply_mask(&mut fast, key, offset);
            naive(&mut slow, key, offset);
            prop_assert_eq!(fast, slow);
        }
    }
}
