//! Fuzz target bodies for proto-core, compiled with the `fuzzing` feature.
//!
//! The `fuzz/` workspace calls these from its libFuzzer targets, and the
//! corpus replay test calls them on stable with every committed input, so a
//! crash found once stays fixed. Each body asserts invariants, not only the
//! absence of panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};

use crate::{Admission, Deadlines, Origin, OriginPolicy, Rejection, Timer};

/// One origin the fuzzer may produce a whole instant from; fuzz inputs only
/// ever move time forward from it.
#[allow(clippy::disallowed_methods)] // the bodies need one origin instant
fn origin_instant() -> Instant {
    Instant::now()
}

/// `Origin` parsing and every `OriginPolicy` mode on arbitrary bytes: the
/// `Origin` value, then optionally a line feed and the `Host` value.
///
/// Invariants: nothing panics; a parsed origin serialises to ASCII with no
/// userinfo, path or whitespace, and parses back to itself (normalisation is
/// idempotent); an allowlist holding exactly that origin accepts the raw
/// value; same-host mode accepts only when host and port agree.
pub fn origin(data: &[u8]) {
    let (value, host) = match data.iter().position(|&b| b == b'\n') {
        Some(split) => (&data[..split], &data[split + 1..]),
        None => (data, &b""[..]),
    };
    for policy in [OriginPolicy::same_host(), OriginPolicy::any()] {
        let _ = policy.check(Some(value), Some(host));
        let _ = policy.check(Some(value), None);
    }
    let Ok(origin) = Origin::parse(value) else {
        return;
    };
    let serialised = origin.to_string();
    assert!(serialised.is_ascii(), "{serialised:?}");
    let (_, authority) = serialised.split_once("://").expect("scheme separator");
    assert!(
        !authority.contains(['@', '/', '?', '#', '\\', ' ', '\t', '\r', '\n']),
        "{serialised:?}"
    );
    assert_eq!(serialised, serialised.to_ascii_lowercase());
    let reparsed = Origin::parse(serialised.as_bytes()).expect("a serialised origin parses");
    assert_eq!(reparsed, origin);
    let policy =
        OriginPolicy::allow_list([serialised.as_str()]).expect("a serialised origin is valid");
    assert!(policy.check(Some(value), None).is_ok());
    let same_host = OriginPolicy::same_host();
    if same_host.check(Some(value), Some(host)).is_ok() {
        assert!(matches!(origin.scheme(), "http" | "https"));
    }
    if let ("http" | "https", Some(port)) = (origin.scheme(), origin.port()) {
        let own_host = format!("{}:{port}", origin.host());
        assert!(
            same_host
                .check(Some(value), Some(own_host.as_bytes()))
                .is_ok()
        );
    }
}

#[derive(Debug, Arbitrary)]
enum AdmissionOp {
    Admit { client: u8, v6: bool },
    Release { index: u8 },
    SetMax(u8),
    SetMaxPerIp(u8),
}

fn client_ip(client: u8, v6: bool) -> IpAddr {
    let n = client % 8;
    if v6 {
        // Clients 0..3 share one /64; the rest are distinct prefixes.
        let prefix = u128::from(n.saturating_sub(3)) << 64;
        IpAddr::V6(Ipv6Addr::from(prefix | u128::from(n) | 1 << 100))
    } else if n == 7 {
        // An IPv4-mapped address counts as 127.0.0.6.
        IpAddr::V6(Ipv4Addr::new(127, 0, 0, 6).to_ipv6_mapped())
    } else {
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
    }
}

/// `Admission` under an arbitrary sequence of admits, releases and cap
/// changes, checked against a model: every decision matches the model, the
/// global check comes first, counts are exact, and everything returns to
/// zero when the permits drop.
pub fn admission(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(ops) = Vec::<AdmissionOp>::arbitrary(&mut u) else {
        return;
    };
    let admission = Admission::new(4, 2);
    let mut held: Vec<(IpAddr, crate::Permit)> = Vec::new();
    let (mut max_total, mut max_per_ip) = (4usize, 2usize);
    for op in ops.into_iter().take(10_000) {
        match op {
            AdmissionOp::Admit { client, v6 } => {
                let ip = client_ip(client, v6);
                let from_client = admission.active_from(ip);
                let expected = if held.len() >= max_total {
                    Err(Rejection::GlobalCap)
                } else if from_client >= max_per_ip {
                    Err(Rejection::PerIpCap)
                } else {
                    Ok(())
                };
                match admission.try_admit(ip) {
                    Ok(permit) => {
                        assert_eq!(expected, Ok(()));
                        held.push((ip, permit));
                        assert_eq!(admission.active_from(ip), from_client + 1);
                    }
                    Err(rejection) => assert_eq!(expected, Err(rejection)),
                }
            }
            AdmissionOp::Release { index } => {
                if !held.is_empty() {
                    let (ip, permit) = held.swap_remove(usize::from(index) % held.len());
                    let before = admission.active_from(ip);
                    drop(permit);
                    assert_eq!(admission.active_from(ip), before - 1);
                }
            }
            AdmissionOp::SetMax(n) => {
                max_total = usize::from(n % 8);
                admission.set_max_connections(max_total);
            }
            AdmissionOp::SetMaxPerIp(n) => {
                max_per_ip = usize::from(n % 4);
                admission.set_max_connections_per_ip(max_per_ip);
            }
        }
        assert_eq!(admission.active(), held.len());
        assert!(admission.tracked_clients() <= held.len());
    }
    held.clear();
    assert_eq!(admission.active(), 0);
    assert_eq!(admission.tracked_clients(), 0);
}

#[derive(Debug, Arbitrary)]
enum DeadlineOp {
    Arm { timer: u8, after_ms: u16 },
    Disarm { timer: u8 },
    Advance { ms: u16 },
}

/// `Deadlines` under arbitrary arm, disarm and fire sequences, checked
/// against a model: a timer fires only if armed and due, exactly once per
/// arming, and `poll_timeout` is always the earliest armed deadline.
pub fn deadlines(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(ops) = Vec::<DeadlineOp>::arbitrary(&mut u) else {
        return;
    };
    let t0 = origin_instant();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let mut deadlines = Deadlines::new();
    let mut model: [Option<u64>; Timer::COUNT] = [None; Timer::COUNT];
    let mut now = 0u64;
    for op in ops.into_iter().take(10_000) {
        match op {
            DeadlineOp::Arm { timer, after_ms } => {
                let timer = Timer::ALL[usize::from(timer) % Timer::COUNT];
                deadlines.arm_after(timer, at(now), Duration::from_millis(u64::from(after_ms)));
                model[timer.index()] = Some(now + u64::from(after_ms));
            }
            DeadlineOp::Disarm { timer } => {
                let timer = Timer::ALL[usize::from(timer) % Timer::COUNT];
                deadlines.disarm(timer);
                model[timer.index()] = None;
            }
            DeadlineOp::Advance { ms } => {
                now += u64::from(ms);
                let fired = deadlines.handle_timeout(at(now));
                for timer in Timer::ALL {
                    let due = model[timer.index()].is_some_and(|d| d <= now);
                    assert_eq!(fired.contains(timer), due, "{timer} at {now}");
                    if due {
                        model[timer.index()] = None;
                    }
                }
            }
        }
        assert_eq!(
            deadlines.poll_timeout(),
            model.iter().flatten().min().map(|ms| at(*ms))
        );
    }
}

/// One byte-level edit of a valid input: the "then mutated" half of the
/// protocol crates' valid-then-mutated targets.
///
/// Each crate keeps its own `Arbitrary` enum of edits (the layout its
/// committed corpora and regression inputs are decoded with) and maps it
/// to this, so the edits themselves are written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteEdit {
    /// XOR the byte at `at` with `bits` (at least one bit flips).
    Flip {
        /// Position; wraps around the current length.
        at: usize,
        /// The bits to flip.
        bits: u8,
    },
    /// Insert `byte` before position `at`.
    Insert {
        /// Position; wraps around the current length.
        at: usize,
        /// The byte inserted.
        byte: u8,
    },
    /// Remove the byte at `at`.
    Remove {
        /// Position; wraps around the current length.
        at: usize,
    },
    /// Cut everything from `at` on.
    Truncate {
        /// Position; wraps around the current length.
        at: usize,
    },
    /// Repeat up to `len` bytes from `at` in place (duplicated lines,
    /// chunks, heads).
    Repeat {
        /// Position; wraps around the current length.
        at: usize,
        /// How many bytes to repeat at most.
        len: usize,
    },
}

/// Applies the first four of `edits` to `bytes` in order; stops early once
/// nothing is left to edit.
///
/// ```
/// use proto_core::fuzzing::{ByteEdit, apply_edits};
/// let edited = apply_edits(b"abc".to_vec(), [ByteEdit::Remove { at: 4 }, ByteEdit::Repeat { at: 0, len: 1 }]);
/// assert_eq!(edited, b"aac");
/// ```
#[must_use]
pub fn apply_edits(mut bytes: Vec<u8>, edits: impl IntoIterator<Item = ByteEdit>) -> Vec<u8> {
    for edit in edits.into_iter().take(4) {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match edit {
            ByteEdit::Flip { at, bits } => bytes[at % len] ^= bits.max(1),
            ByteEdit::Insert { at, byte } => bytes.insert(at % len, byte),
            ByteEdit::Remove { at } => {
                bytes.remove(at % len);
            }
            ByteEdit::Truncate { at } => bytes.truncate(at % len),
            ByteEdit::Repeat { at, len: n } => {
                let i = at % len;
                let copy = bytes[i..len.min(i + n)].to_vec();
                bytes.splice(i..i, copy);
            }
        }
    }
    bytes
}
