//! Deadlines held by the machine: keep-alive ping, ping timeout, idle
//! timeout, close handshake (DESIGN.md "Timers").

use std::time::Duration;

use proto_core::Timer;

use super::util::*;
use crate::{Config, Event, State};

#[test]
fn keepalive_ping_then_ping_timeout() {
    let now = t0();
    let mut s = server(now);
    assert_eq!(s.poll_timeout(), Some(now + secs(30)));
    s.handle_timeout(now + secs(30));
    assert_eq!(drain(&mut s, now + secs(30)).0, sf(0x89, b""));
    assert_eq!(s.poll_timeout(), Some(now + secs(50)));
    s.handle_timeout(now + secs(50));
    assert_eq!(events(&mut s), [Event::TimedOut(Timer::Ping)]);
    let (out, shutdown) = drain(&mut s, now + secs(50));
    assert_eq!(out, sf(0x88, &1001u16.to_be_bytes()));
    assert!(shutdown);
    assert!(s.is_closed());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn a_pong_keeps_the_connection_alive() {
    let now = t0();
    let mut s = server(now);
    s.handle_timeout(now + secs(30));
    drain(&mut s, now);
    let later = now + secs(40);
    let (seen, _) = feed(&mut s, later, &cf(0x8a, b""));
    assert_eq!(seen, [Event::Pong("".into())]);
    assert_eq!(s.poll_timeout(), Some(later + secs(30)));
    s.handle_timeout(now + secs(50));
    assert!(events(&mut s).is_empty());
    assert_eq!(s.state(), State::Open);
}

#[test]
fn idle_timeout_starts_the_close_handshake() {
    let now = t0();
    let mut config = Config::default();
    config.ping_interval(Duration::MAX).idle_timeout(secs(10));
    let mut s = server_with(config, now);
    assert_eq!(s.poll_timeout(), Some(now + secs(10)));
    s.handle_timeout(now + secs(9));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(now + secs(10));
    assert_eq!(events(&mut s), [Event::TimedOut(Timer::Idle)]);
    assert_eq!(s.state(), State::LocalClosing);
    let mut payload = 1001u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"idle timeout");
    assert_eq!(drain(&mut s, now).0, sf(0x88, &payload));
    assert_eq!(s.poll_timeout(), Some(now + secs(15)));
}

#[test]
fn any_input_pushes_the_idle_deadline_back() {
    let now = t0();
    let mut config = Config::default();
    config.ping_interval(Duration::MAX).idle_timeout(secs(10));
    let mut s = server_with(config, now);
    // Even a partial frame header counts (a slow but live peer).
    s.handle_input(now + secs(8), &[0x81]).unwrap();
    assert_eq!(s.poll_timeout(), Some(now + secs(18)));
}

#[test]
fn disabled_deadlines_are_never_armed() {
    let now = t0();
    let mut config = Config::default();
    config
        .ping_interval(Duration::MAX)
        .idle_timeout(Duration::MAX);
    let s = server_with(config, now);
    assert_eq!(s.poll_timeout(), None);
}
