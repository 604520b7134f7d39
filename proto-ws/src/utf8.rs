//! Incremental UTF-8 validation (RFC 6455 §8.1, RFC 3629).
//!
//! A text message arrives in frames, and a frame arrives in reads; the
//! validator keeps the few bits of state needed to continue a code point
//! across any of those cuts. It fails at the first byte that cannot start or
//! continue a valid sequence, so a text frame is refused as soon as its bad
//! byte arrives, not at the end of the frame or message (Autobahn 6.4.x).
//! Whole runs are checked with `std::str::from_utf8` (or, with the `simd`
//! feature, `simdutf8`'s equivalent, which reports errors identically); only
//! a code point cut by a read boundary goes through the byte-wise state
//! machine.

/// The first byte that made the text invalid was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utf8Error;

/// State carried between pieces of one text message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utf8Validator {
    /// Continuation bytes still needed by the open code point.
    need: u8,
    /// Smallest allowed value of the next continuation byte.
    lo: u8,
    /// Largest allowed value of the next continuation byte.
    hi: u8,
}

impl Default for Utf8Validator {
    fn default() -> Self {
        Self {
            need: 0,
            lo: 0x80,
            hi: 0xbf,
        }
    }
}

impl Utf8Validator {
    /// True when no code point is open: the text so far can end here.
    pub(crate) fn is_complete(&self) -> bool {
        self.need == 0
    }

    /// Checks the next piece of text.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Utf8Error> {
        while self.need > 0 {
            let Some((&b, rest)) = bytes.split_first() else {
                return Ok(());
            };
            self.step(b)?;
            bytes = rest;
        }
        #[cfg(feature = "simd")]
        let checked = simdutf8::compat::from_utf8(bytes);
        #[cfg(not(feature = "simd"))]
        let checked = std::str::from_utf8(bytes);
        match checked {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                // A valid prefix of a code point cut at the end of the piece.
                for &b in &bytes[e.valid_up_to()..] {
                    self.step(b)?;
                }
                Ok(())
            }
        }
    }

    fn step(&mut self, b: u8) -> Result<(), Utf8Error> {
        if self.need > 0 {
            if b < self.lo || b > self.hi {
                return Err(Utf8Error);
            }
            self.need -= 1;
            self.lo = 0x80;
            self.hi = 0xbf;
            return Ok(());
        }
        // RFC 3629 §4: the lead byte fixes the length and the range of the
        // first continuation byte (no overlongs, no surrogates, <= U+10FFFF).
        let (need, lo, hi) = match b {
            0x00..=0x7f => return Ok(()),
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0 => (2, 0xa0, 0xbf),
            0xe1..=0xec | 0xee..=0xef => (2, 0x80, 0xbf),
            0xed => (2, 0x80, 0x9f),
            0xf0 => (3, 0x90, 0xbf),
            0xf1..=0xf3 => (3, 0x80, 0xbf),
            0xf4 => (3, 0x80, 0x8f),
            _ => return Err(Utf8Error),
        };
        self.need = need;
        self.lo = lo;
        self.hi = hi;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `bytes` one byte at a time; returns how many bytes were accepted
    /// before the first failure, or `None` if all were accepted.
    fn first_failure(bytes: &[u8]) -> Option<usize> {
        let mut v = Utf8Validator::default();
        bytes.iter().position(|b| v.feed(&[*b]).is_err())
    }

    #[test]
    fn fails_at_the_first_invalid_byte() {
        // Autobahn 6.4.1: a surrogate (ED A0 80) after valid text fails at A0.
        let text = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited";
        assert_eq!(first_failure(text), Some(12));
        // Autobahn 6.4.2: F4 90 is beyond U+10FFFF, fails at 90.
        assert_eq!(first_failure(b"\xce\xba\xf4\x90\x80\x80"), Some(3));
        assert_eq!(first_failure(b"\xc0\xaf"), Some(0));
        assert_eq!(first_failure(b"\xe0\x80\xaf"), Some(1));
        assert_eq!(first_failure(b"\xff"), Some(0));
        assert_eq!(first_failure("κόσμε".as_bytes()), None);
    }

    #[test]
    fn incomplete_is_not_yet_an_error() {
        let mut v = Utf8Validator::default();
        assert!(v.feed(b"ab\xe2\x82").is_ok());
        assert!(!v.is_complete());
        assert!(v.feed(b"\xac").is_ok());
        assert!(v.is_complete());
    }

    proptest! {
        /// Any cut of any bytes gives std's verdict, and a failure happens
        /// exactly at the piece holding the first invalid byte.
        #[test]
        fn agrees_with_std_at_every_cut(
            data in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(0x80u8), Just(0xe2), Just(0xf0), Just(0x41)], 0..40),
            cuts in proptest::collection::vec(0usize..40, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= data.len()).collect();
            cuts.push(0);
            cuts.push(data.len());
            cuts.sort_unstable();
            cuts.dedup();
            let mut v = Utf8Validator::default();
            let mut ok = true;
            for w in cuts.windows(2) {
                if v.feed(&data[w[0]..w[1]]).is_err() {
                    // The prefix up to this piece's end must be invalid, the
                    // prefix before it must not be.
                    let before = &data[..w[0]];
                    let upto = &data[..w[1]];
                    prop_assert!(std::str::from_utf8(upto).is_err_and(|e| e.error_len().is_some()));
                    let before_ok = match std::str::from_utf8(before) {
                        Ok(_) => true,
                        Err(e) => e.error_len().is_none(),
                    };
                    prop_assert!(before_ok);
                    ok = false;
                    break;
                }
            }
            if ok {
                let complete = v.is_complete();
                prop_assert_eq!(std::str::from_utf8(&data).is_ok(), complete);
            }
        }
    }
}
