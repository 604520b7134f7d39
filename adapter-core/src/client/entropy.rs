//! Randomness for clients: the operating system's generator, through
//! `getrandom`. The proto crates draw none of their own (STYLE.md 3.3).

use std::fmt;
use std::io;
use std::sync::{Mutex, PoisonError};

use proto_ws::{MaskSource, SeededMasks};

/// Masking keys drawn per key from the OS generator.
const KEYS_PER_DRAW: usize = 64;

/// A [`MaskSource`] over the operating system's generator (RFC 6455 §5.3:
/// "a fresh masking key ... from a strong source of entropy").
///
/// Keys are drawn 64 at a time to spare a system call per frame. Should the
/// generator ever fail after [`OsMasks::new`] succeeded, the keys continue
/// from a [`SeededMasks`] sequence seeded from the generator at creation, so
/// sending never fails and keys stay unpredictable to the peer.
///
/// ```
/// use adapter_core::client::OsMasks;
/// use proto_ws::MaskSource;
/// let masks = OsMasks::new()?;
/// let _key: [u8; 4] = masks.next_mask();
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct OsMasks {
    fallback: SeededMasks,
    buffer: Mutex<([u8; 4 * KEYS_PER_DRAW], usize)>,
}

impl fmt::Debug for OsMasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OsMasks").finish_non_exhaustive()
    }
}

impl OsMasks {
    /// A source seeded from, and drawing from, the OS generator.
    ///
    /// # Errors
    ///
    /// When the operating system's generator is unavailable.
    pub fn new() -> io::Result<Self> {
        let seed = getrandom::u64().map_err(io::Error::from)?;
        Ok(Self {
            fallback: SeededMasks::new(seed),
            buffer: Mutex::new(([0; 4 * KEYS_PER_DRAW], KEYS_PER_DRAW)),
        })
    }
}

impl MaskSource for OsMasks {
    fn next_mask(&self) -> [u8; 4] {
        let mut guard = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let (keys, next) = &mut *guard;
        if *next == KEYS_PER_DRAW {
            if getrandom::fill(keys).is_err() {
                return self.fallback.next_mask();
            }
            *next = 0;
        }
        let at = *next * 4;
        *next += 1;
        [keys[at], keys[at + 1], keys[at + 2], keys[at + 3]]
    }
}

/// The 16 random bytes of a `Sec-WebSocket-Key` (RFC 6455 §4.1).
pub(super) fn handshake_key() -> io::Result<[u8; 16]> {
    let mut key = [0; 16];
    getrandom::fill(&mut key).map_err(io::Error::from)?;
    Ok(key)
}
