//! The few fields the state machine itself acts on, found in one pass.
//!
//! Framing (RFC 9112 §6.3), `Host` (RFC 9112 §3.2), persistence
//! (RFC 9112 §9.3), upgrade (RFC 9110 §7.8) and `100-continue`
//! (RFC 9110 §10.1.1) are decided from these. Each field name is classified
//! once, by its length and then one case-insensitive comparison, so no
//! decision walks the field list again.

use crate::head::{Headers, Version, list_elements};

/// How often a field that must not repeat was seen, and where first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Seen {
    #[default]
    Never,
    /// Once, at this index.
    Once(usize),
    Repeated,
}

impl Seen {
    fn see(&mut self, index: usize) {
        *self = match self {
            Self::Never => Self::Once(index),
            Self::Once(_) | Self::Repeated => Self::Repeated,
        };
    }
}

/// What a message's fields say about its framing and its connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Known {
    pub(crate) content_length: Seen,
    pub(crate) host: Seen,
    pub(crate) transfer_encoding: Seen,
    /// An `Upgrade` field is present.
    upgrade_field: bool,
    /// `Connection` lists `close`.
    close: bool,
    /// `Connection` lists `keep-alive`.
    keep_alive: bool,
    /// `Connection` lists `upgrade`.
    connection_upgrade: bool,
    /// `Expect` lists `100-continue`.
    pub(crate) expect_continue: bool,
}

/// The names looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    ContentLength,
    TransferEncoding,
    Host,
    Connection,
    Upgrade,
    Expect,
}

impl Known {
    /// Classifies every field of `headers` once.
    pub(crate) fn of(headers: &Headers) -> Self {
        let mut known = Self::default();
        for (i, name) in headers.names().enumerate() {
            match classify(name) {
                None => {}
                Some(Name::ContentLength) => known.content_length.see(i),
                Some(Name::Host) => known.host.see(i),
                Some(Name::TransferEncoding) => known.transfer_encoding.see(i),
                Some(Name::Upgrade) => known.upgrade_field = true,
                Some(Name::Connection) => {
                    for token in list_elements(headers.value_at(i)) {
                        known.close |= is(token, b"close");
                        known.keep_alive |= is(token, b"keep-alive");
                        known.connection_upgrade |= is(token, b"upgrade");
                    }
                }
                Some(Name::Expect) => {
                    known.expect_continue |=
                        list_elements(headers.value_at(i)).any(|e| is(e, b"100-continue"));
                }
            }
        }
        known
    }

    /// `Connection` lists `close` (RFC 9112 §9.6).
    pub(crate) fn lists_close(&self) -> bool {
        self.close
    }

    /// `Connection` lists `keep-alive` (RFC 9112 §C.2.2).
    pub(crate) fn lists_keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// RFC 9112 §9.3: HTTP/1.1 persists unless `close`; HTTP/1.0 only with
    /// `keep-alive`.
    pub(crate) fn keep_alive(&self, version: Version) -> bool {
        !self.close && (version == Version::Http11 || self.keep_alive)
    }

    /// An HTTP/1.1 request to switch protocols: an `Upgrade` field and
    /// `upgrade` in `Connection` (RFC 9110 §7.8).
    pub(crate) fn upgrade(&self, version: Version) -> bool {
        version == Version::Http11 && self.upgrade_field && self.connection_upgrade
    }
}

fn classify(name: &[u8]) -> Option<Name> {
    let (known, which): (&[u8], _) = match name.len() {
        4 => (b"host", Name::Host),
        6 => (b"expect", Name::Expect),
        7 => (b"upgrade", Name::Upgrade),
        10 => (b"connection", Name::Connection),
        14 => (b"content-length", Name::ContentLength),
        17 => (b"transfer-encoding", Name::TransferEncoding),
        _ => return None,
    };
    is(name, known).then_some(which)
}

/// `s` is `lower` (lowercase letters, digits and `-`) in any ASCII case.
///
/// Cheaper than `eq_ignore_ascii_case`: only `b` is folded, and only where
/// `lower` has a letter (a letter has 0x40 set, so `(l >> 1) & 0x20` is the
/// case bit exactly there).
///
/// Compared a word at a time (overlapping words cover a length that is not
/// a multiple): the per-byte rule holds for a whole word, since after
/// `>> 1` the mask keeps only each byte's own bit 6 moved to bit 5. This
/// runs for every field name of every head.
fn is(s: &[u8], lower: &[u8]) -> bool {
    let n = lower.len();
    // Most names of a known one's length are other names: the first byte
    // tells them apart.
    match (s.first(), lower.first()) {
        (Some(&b), Some(&l)) if s.len() == n && b | ((l >> 1) & 0x20) == l => {}
        (None, None) => return true,
        _ => return false,
    }
    if n >= 8 {
        words_are::<8>(s, lower, u64::from_le_bytes, 0x2020_2020_2020_2020)
    } else if n >= 4 {
        words_are::<4>(s, lower, |w| u32::from_le_bytes(w).into(), 0x2020_2020)
    } else {
        s.iter()
            .zip(lower)
            .all(|(&b, &l)| b | ((l >> 1) & 0x20) == l)
    }
}

/// [`is`] for `s` and `lower` of one length, at least `W`, compared `W`
/// bytes at a time.
#[inline]
fn words_are<const W: usize>(
    s: &[u8],
    lower: &[u8],
    load: impl Fn([u8; W]) -> u64,
    case: u64,
) -> bool {
    let word = |bytes: &[u8], at: usize| {
        let mut w = [0u8; W];
        w.copy_from_slice(&bytes[at..at + W]);
        load(w)
    };
    let last = lower.len() - W;
    let mut same = true;
    let mut at = 0;
    loop {
        let at_now = at.min(last);
        let l = word(lower, at_now);
        same &= word(s, at_now) | ((l >> 1) & case) == l;
        if at_now == last {
            return same;
        }
        at += W;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified_whatever_their_case() {
        let mut h = Headers::new();
        h.append("HOST", "a")
            .append("content-LENGTH", "1")
            .append("Content-Length", "1")
            .append("Transfer-Encoding", "chunked")
            .append("Connection", " , Keep-Alive ,UPGRADE")
            .append("upgrade", "websocket")
            .append("Expect", "100-Continue")
            .append("Hosts", "b")
            .append("User-Agent", "x");
        let known = Known::of(&h);
        assert_eq!(known.host, Seen::Once(0));
        assert_eq!(known.content_length, Seen::Repeated);
        assert_eq!(known.transfer_encoding, Seen::Once(3));
        assert!(known.upgrade_field && known.expect_continue);
        assert!(known.keep_alive(Version::Http10) && !known.close);
        assert!(known.upgrade(Version::Http11) && !known.upgrade(Version::Http10));
    }

    #[test]
    fn is_folds_only_letters() {
        assert!(is(b"Content-LENGTH", b"content-length"));
        assert!(is(b"100-Continue", b"100-continue"));
        assert!(!is(b"content\rlength", b"content-length"));
        assert!(!is(b"hosts", b"host"));
        for b in 0..=255u8 {
            for l in b"az09-".iter().copied() {
                assert_eq!(is(&[b], &[l]), b.eq_ignore_ascii_case(&l), "{b:#x} {l:#x}");
            }
        }
    }

    #[test]
    fn is_matches_the_bytewise_rule_at_every_length() {
        let bytewise = |s: &[u8], lower: &[u8]| {
            s.len() == lower.len() && s.iter().zip(lower).all(|(a, b)| a.eq_ignore_ascii_case(b))
        };
        let lower = b"transfer-encoding-100-continue";
        for n in 0..=lower.len() {
            let lower = &lower[..n];
            let upper = lower.to_ascii_uppercase();
            assert!(is(lower, lower) && is(&upper, lower), "{n}");
            // One byte off anywhere, in either case, is a mismatch.
            for i in 0..n {
                for flip in [0x01u8, 0x20, 0x40, 0x80] {
                    let mut other = upper.clone();
                    other[i] ^= flip;
                    assert_eq!(
                        is(&other, lower),
                        bytewise(&other, lower),
                        "{n} {i} {flip:#x}"
                    );
                }
            }
            assert!(!is(&upper[..n.saturating_sub(1)], lower) || n == 0);
        }
    }

    #[test]
    fn close_wins_over_keep_alive() {
        let mut h = Headers::new();
        h.append("Connection", "keep-alive")
            .append("connection", "close");
        let known = Known::of(&h);
        assert!(!known.keep_alive(Version::Http11) && !known.keep_alive(Version::Http10));
        assert_eq!(Known::of(&Headers::new()), Known::default());
        assert!(Known::default().keep_alive(Version::Http11));
        assert!(!Known::default().keep_alive(Version::Http10));
    }
}
