//! Global and per-IP caps on concurrent connections.
//!
//! An adapter asks [`Admission::try_admit`] for every accepted connection
//! before reading a byte from it. The answer is a [`Permit`] that holds the
//! connection's place until it is dropped, or a [`Rejection`] naming the cap
//! that refused it. Both counts are checked and taken under one short lock, so
//! concurrent accepts can never overshoot either cap.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Default global cap on concurrent connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default cap on concurrent connections from one IPv4 address or IPv6 /64.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 256;
/// Default IPv6 prefix length that counts as one client: one host commonly
/// owns a whole /64, so counting per address would let it open 2^64 times
/// the per-IP cap.
pub const DEFAULT_IPV6_PREFIX_LEN: u8 = 64;

/// Which cap refused a connection.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// The global cap on concurrent connections is reached.
    GlobalCap,
    /// The cap on concurrent connections from this address (or IPv6 prefix)
    /// is reached.
    PerIpCap,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::GlobalCap => "global connection cap reached",
            Self::PerIpCap => "per-ip connection cap reached",
        })
    }
}

impl std::error::Error for Rejection {}

/// The key a client address is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ClientKey {
    V4(u32),
    V6(u128),
}

impl ClientKey {
    fn new(ip: IpAddr, ipv6_prefix_len: u8) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                // What a dual-stack listener reports for an IPv4 client.
                Some(v4) => Self::V4(u32::from(v4)),
                None => {
                    let bits = u128::from(v6);
                    let mask = match ipv6_prefix_len {
                        0 => 0,
                        n => u128::MAX << (128 - u32::from(n.min(128))),
                    };
                    Self::V6(bits & mask)
                }
            },
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_client: HashMap<ClientKey, usize>,
}

#[derive(Debug)]
struct Shared {
    max_connections: AtomicUsize,
    max_connections_per_ip: AtomicUsize,
    ipv6_prefix_len: u8,
    counts: Mutex<Counts>,
}

impl Shared {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        // No code panics while holding the lock, but a poisoned lock must not
        // take the whole server down with it.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counts concurrent connections against a global and a per-client cap.
///
/// Cheap to clone: clones share the same counts. Both caps can be changed
/// while serving; lowering a cap below the current count refuses new
/// connections until enough have closed, and closes nothing.
///
/// IPv4 clients are counted per address, and IPv4-mapped IPv6 addresses
/// (`::ffff:a.b.c.d`) as their IPv4 address. IPv6 clients are counted per
/// prefix, /64 by default. An address is tracked only while it holds a
/// permit, so a flood of distinct addresses costs memory bounded by the
/// global cap.
///
/// ```
/// use proto_core::{Admission, Rejection};
/// use std::net::IpAddr;
///
/// let admission = Admission::new(3, 2);
/// let client: IpAddr = "192.0.2.7".parse().unwrap();
/// let first = admission.try_admit(client)?;
/// let second = admission.try_admit(client)?;
/// assert_eq!(admission.try_admit(client).unwrap_err(), Rejection::PerIpCap);
///
/// drop(first); // the connection closed: its place is free again
/// let third = admission.try_admit(client)?;
/// assert_eq!(admission.active(), 2);
/// # drop((second, third));
/// # Ok::<(), Rejection>(())
/// ```
#[derive(Debug, Clone)]
pub struct Admission {
    shared: Arc<Shared>,
}

impl Default for Admission {
    /// The defaults of the reference server: 10,000 connections in all and
    /// 256 per IPv4 address or IPv6 /64.
    fn default() -> Self {
        Self::new(DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_IP)
    }
}

impl Admission {
    /// Caps concurrent connections at `max_connections` in all and
    /// `max_connections_per_ip` per client, with IPv6 counted per /64.
    #[must_use]
    pub fn new(max_connections: usize, max_connections_per_ip: usize) -> Self {
        Self::with_ipv6_prefix_len(
            max_connections,
            max_connections_per_ip,
            DEFAULT_IPV6_PREFIX_LEN,
        )
    }

    /// Like [`Admission::new`], counting IPv6 clients per `ipv6_prefix_len`
    /// leading bits (128 counts per address; values over 128 mean 128).
    #[must_use]
    pub fn with_ipv6_prefix_len(
        max_connections: usize,
        max_connections_per_ip: usize,
        ipv6_prefix_len: u8,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                max_connections: AtomicUsize::new(max_connections),
                max_connections_per_ip: AtomicUsize::new(max_connections_per_ip),
                ipv6_prefix_len: ipv6_prefix_len.min(128),
                counts: Mutex::default(),
            }),
        }
    }

    /// Takes a place for a connection from `ip`, or says which cap refuses it.
    ///
    /// The place is held until the returned [`Permit`] is dropped.
    ///
    /// # Errors
    ///
    /// [`Rejection::GlobalCap`] when `max_connections` connections are open,
    /// [`Rejection::PerIpCap`] when `max_connections_per_ip` are open from
    /// this client. The global cap is checked first.
    pub fn try_admit(&self, ip: IpAddr) -> Result<Permit, Rejection> {
        let key = ClientKey::new(ip, self.shared.ipv6_prefix_len);
        let max_total = self.shared.max_connections.load(Ordering::Relaxed);
        let max_per_ip = self.shared.max_connections_per_ip.load(Ordering::Relaxed);
        let mut counts = self.shared.counts();
        if counts.total >= max_total {
            return Err(Rejection::GlobalCap);
        }
        let from_client = counts.per_client.get(&key).copied().unwrap_or(0);
        if from_client >= max_per_ip {
            return Err(Rejection::PerIpCap);
        }
        counts.total += 1;
        counts.per_client.insert(key, from_client + 1);
        drop(counts);
        Ok(Permit {
            shared: Arc::clone(&self.shared),
            key,
        })
    }

    /// The number of connections holding a permit.
    #[must_use]
    pub fn active(&self) -> usize {
        self.shared.counts().total
    }

    /// The number of connections holding a permit from `ip`'s client key
    /// (its IPv4 address, or its IPv6 prefix).
    #[must_use]
    pub fn active_from(&self, ip: IpAddr) -> usize {
        let key = ClientKey::new(ip, self.shared.ipv6_prefix_len);
        self.shared
            .counts()
            .per_client
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// The number of distinct clients currently tracked; never more than
    /// [`active`](Admission::active).
    #[must_use]
    pub fn tracked_clients(&self) -> usize {
        self.shared.counts().per_client.len()
    }

    /// The global cap.
    #[must_use]
    pub fn max_connections(&self) -> usize {
        self.shared.max_connections.load(Ordering::Relaxed)
    }

    /// The per-client cap.
    #[must_use]
    pub fn max_connections_per_ip(&self) -> usize {
        self.shared.max_connections_per_ip.load(Ordering::Relaxed)
    }

    /// The IPv6 prefix length that counts as one client.
    #[must_use]
    pub fn ipv6_prefix_len(&self) -> u8 {
        self.shared.ipv6_prefix_len
    }

    /// Changes the global cap for connections admitted from now on.
    pub fn set_max_connections(&self, max: usize) {
        self.shared.max_connections.store(max, Ordering::Relaxed);
    }

    /// Changes the per-client cap for connections admitted from now on.
    pub fn set_max_connections_per_ip(&self, max: usize) {
        self.shared
            .max_connections_per_ip
            .store(max, Ordering::Relaxed);
    }
}

/// A connection's place under the caps of an [`Admission`]; dropping it
/// frees the place.
///
/// Keep it alive exactly as long as the connection's socket.
#[must_use = "dropping the permit frees the connection's place at once"]
pub struct Permit {
    shared: Arc<Shared>,
    key: ClientKey,
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("client", &self.key).finish()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.shared.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_client.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.per_client.remove(&self.key);
                // Give memory back after a flood of distinct addresses.
                let capacity = counts.per_client.capacity();
                if capacity > 1024 && counts.per_client.len() < capacity / 8 {
                    counts.per_client.shrink_to(capacity / 4);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::atomic::AtomicUsize;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn global_cap_is_exact() {
        let a = Admission::new(3, 100);
        let permits: Vec<_> = (1..=3)
            .map(|i| {
                a.try_admit(IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
                    .unwrap()
            })
            .collect();
        assert_eq!(
            a.try_admit(ip("127.0.0.9")).unwrap_err(),
            Rejection::GlobalCap
        );
        assert_eq!(a.active(), 3);
        drop(permits);
        assert_eq!(a.active(), 0);
        assert_eq!(a.tracked_clients(), 0);
    }

    #[test]
    fn per_ip_cap_is_exact_and_other_clients_are_unaffected() {
        let a = Admission::new(100, 2);
        let p1 = a.try_admit(ip("127.0.0.2")).unwrap();
        let p2 = a.try_admit(ip("127.0.0.2")).unwrap();
        assert_eq!(
            a.try_admit(ip("127.0.0.2")).unwrap_err(),
            Rejection::PerIpCap
        );
        let other = a.try_admit(ip("127.0.0.3")).unwrap();
        assert_eq!(a.active_from(ip("127.0.0.2")), 2);
        drop(p1);
        let p3 = a.try_admit(ip("127.0.0.2")).unwrap();
        drop((p2, p3, other));
        assert_eq!(a.active(), 0);
        assert_eq!(a.tracked_clients(), 0);
    }

    #[test]
    fn global_cap_is_checked_before_the_per_ip_cap() {
        let a = Admission::new(1, 1);
        let _p = a.try_admit(ip("10.0.0.1")).unwrap();
        assert_eq!(
            a.try_admit(ip("10.0.0.1")).unwrap_err(),
            Rejection::GlobalCap
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_counts_as_ipv4() {
        let a = Admission::new(100, 1);
        let _p = a.try_admit(ip("127.0.0.1")).unwrap();
        let mapped = IpAddr::V6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(a.try_admit(mapped).unwrap_err(), Rejection::PerIpCap);
        assert_eq!(a.active_from(mapped), 1);
    }

    #[test]
    fn ipv6_counts_per_64_by_default() {
        let a = Admission::new(100, 2);
        let _p1 = a.try_admit(ip("2001:db8:1:2::1")).unwrap();
        let _p2 = a.try_admit(ip("2001:db8:1:2:ffff::9")).unwrap();
        assert_eq!(
            a.try_admit(ip("2001:db8:1:2:abcd::1")).unwrap_err(),
            Rejection::PerIpCap
        );
        // Another /64 is another client.
        let _p3 = a.try_admit(ip("2001:db8:1:3::1")).unwrap();
    }

    #[test]
    fn ipv6_can_count_per_address() {
        let a = Admission::with_ipv6_prefix_len(100, 1, 128);
        let _p1 = a.try_admit(ip("2001:db8::1")).unwrap();
        let _p2 = a.try_admit(ip("2001:db8::2")).unwrap();
        assert_eq!(
            a.try_admit(ip("2001:db8::1")).unwrap_err(),
            Rejection::PerIpCap
        );
        assert_eq!(a.ipv6_prefix_len(), 128);
        let all_in_one = Admission::with_ipv6_prefix_len(100, 1, 0);
        let _p = all_in_one.try_admit(ip("2001:db8::1")).unwrap();
        assert_eq!(
            all_in_one.try_admit(ip("fe80::1")).unwrap_err(),
            Rejection::PerIpCap
        );
    }

    #[test]
    fn lowering_a_cap_refuses_new_connections_and_closes_none() {
        let a = Admission::new(10, 10);
        let permits: Vec<_> = (0..5).map(|_| a.try_admit(ip("::1")).unwrap()).collect();
        a.set_max_connections(3);
        assert_eq!(a.try_admit(ip("::2")).unwrap_err(), Rejection::GlobalCap);
        assert_eq!(a.active(), 5, "existing connections keep their places");
        a.set_max_connections(10);
        a.set_max_connections_per_ip(5);
        assert_eq!(a.max_connections_per_ip(), 5);
        assert_eq!(a.try_admit(ip("::1")).unwrap_err(), Rejection::PerIpCap);
        drop(permits);
        assert_eq!(a.active(), 0);
    }

    #[test]
    fn a_flood_of_distinct_addresses_stays_bounded() {
        let a = Admission::new(1000, 4);
        let mut held = Vec::new();
        for i in 0..100_000u32 {
            let addr = IpAddr::V6(Ipv6Addr::from(u128::from(i) << 64));
            match a.try_admit(addr) {
                Ok(p) => held.push(p),
                Err(rejection) => assert_eq!(rejection, Rejection::GlobalCap),
            }
            if held.len() == 1000 {
                held.clear();
            }
            assert!(a.tracked_clients() <= 1000);
        }
        held.clear();
        assert_eq!(a.tracked_clients(), 0);
        assert_eq!(a.active(), 0);
    }

    /// Many threads admit and release at once. A check-then-increment race
    /// would let the number admitted at the same moment exceed a cap; the
    /// `in_use` counters, moved only while a permit is held, would see it.
    #[test]
    fn concurrent_admission_never_exceeds_either_cap() {
        const THREADS: usize = 8;
        const ROUNDS: usize = 5_000;
        const MAX_TOTAL: usize = 3;
        const MAX_PER_IP: usize = 1;
        let a = Admission::new(MAX_TOTAL, MAX_PER_IP);
        let clients = [
            ip("127.0.0.2"),
            ip("127.0.0.3"),
            ip("::ffff:127.0.0.4"),
            ip("127.0.0.5"),
        ];
        let in_use_total = AtomicUsize::new(0);
        let in_use_per_ip: Vec<AtomicUsize> = clients.iter().map(|_| AtomicUsize::new(0)).collect();
        let peak_total = AtomicUsize::new(0);
        let peak_per_ip = AtomicUsize::new(0);
        let admitted = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (a, clients) = (&a, &clients);
                let (in_use_total, in_use_per_ip) = (&in_use_total, &in_use_per_ip);
                let (peak_total, peak_per_ip, admitted) = (&peak_total, &peak_per_ip, &admitted);
                s.spawn(move || {
                    for round in 0..ROUNDS {
                        let c = (t + round) % clients.len();
                        if let Ok(permit) = a.try_admit(clients[c]) {
                            admitted.fetch_add(1, Ordering::Relaxed);
                            let total = in_use_total.fetch_add(1, Ordering::SeqCst) + 1;
                            let mine = in_use_per_ip[c].fetch_add(1, Ordering::SeqCst) + 1;
                            peak_total.fetch_max(total, Ordering::SeqCst);
                            peak_per_ip.fetch_max(mine, Ordering::SeqCst);
                            // Hold the place across reschedules so that
                            // holders overlap even on a machine with two cores.
                            for _ in 0..4 {
                                std::thread::yield_now();
                            }
                            in_use_per_ip[c].fetch_sub(1, Ordering::SeqCst);
                            in_use_total.fetch_sub(1, Ordering::SeqCst);
                            drop(permit);
                        }
                    }
                });
            }
        });
        assert!(admitted.load(Ordering::Relaxed) > 0);
        assert!(peak_total.load(Ordering::SeqCst) <= MAX_TOTAL);
        assert!(peak_per_ip.load(Ordering::SeqCst) <= MAX_PER_IP);
        assert_eq!(a.active(), 0);
        assert_eq!(a.tracked_clients(), 0);
    }
}
