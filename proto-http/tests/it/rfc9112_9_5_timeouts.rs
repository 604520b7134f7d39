//! RFC 9112 §9.5 and DESIGN.md "Timers: who owns which": keep-alive idle,
//! request head, stalled body, response head.
use crate::*;
use proto_http::Timer;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

#[test]
fn a_new_connection_runs_the_keep_alive_timeout_and_closes_silently() {
    let mut c = server();
    assert_eq!(c.poll_timeout(), Some(t0() + 60 * SEC));
    c.handle_timeout(t0() + 59 * SEC);
    assert!(events(&mut c).is_empty(), "early calls do nothing");
    c.handle_timeout(t0() + 60 * SEC);
    assert_eq!(events(&mut c), [Event::TimedOut(Timer::KeepAlive)]);
    assert_eq!(transmit(&mut c), (Vec::new(), true), "no 408, only a close");
    assert!(c.is_closed());
}

#[test]
fn request_head_deadline_runs_from_the_first_byte_and_answers_408() {
    let mut c = server();
    c.handle_input(t0() + 5 * SEC, b"GET / HTTP/1.1\r\n")
        .unwrap();
    assert_eq!(
        c.poll_timeout(),
        Some(t0() + 15 * SEC),
        "the idle timer is replaced"
    );
    c.handle_input(t0() + 9 * SEC, b"Host: a\r\n").unwrap();
    assert_eq!(
        c.poll_timeout(),
        Some(t0() + 15 * SEC),
        "more bytes do not extend it"
    );
    c.handle_timeout(t0() + 15 * SEC);
    assert_eq!(events(&mut c), [Event::TimedOut(Timer::RequestHead)]);
    let (wire, shutdown) = transmit(&mut c);
    assert!(wire.starts_with(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"));
    assert!(shutdown);
}

#[test]
fn no_deadline_runs_while_the_application_answers() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn keep_alive_timeout_restarts_when_the_response_is_written() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    answer(&mut c, "ok");
    let mut out = Vec::new();
    assert!(matches!(
        c.poll_transmit(t0() + 3 * SEC, &mut out),
        Some(Transmit::Data { .. })
    ));
    assert_eq!(
        c.poll_timeout(),
        None,
        "not while the response is still queued"
    );
    assert_eq!(c.poll_transmit(t0() + 4 * SEC, &mut out), None);
    assert_eq!(c.poll_timeout(), Some(t0() + 64 * SEC));
}

#[test]
fn a_pipelined_partial_head_gets_its_own_deadline() {
    let mut c = server();
    c.handle_input(t0(), b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HT")
        .unwrap();
    events(&mut c);
    answer(&mut c, "");
    let _ = transmit(&mut c);
    let mut out = Vec::new();
    let _ = c.poll_transmit(t0() + 2 * SEC, &mut out);
    assert!(c.poll_timeout().is_some_and(|at| at <= t0() + 12 * SEC));
}

#[test]
fn deadlines_are_configurable_and_can_be_disabled() {
    let mut config = Config::default();
    config
        .keep_alive_timeout(Duration::MAX)
        .request_head_timeout(2 * SEC);
    let mut c = server_with(config);
    assert_eq!(c.poll_timeout(), None);
    c.handle_input(t0(), b"G").unwrap();
    assert_eq!(c.poll_timeout(), Some(t0() + 2 * SEC));
}

#[test]
fn client_gives_up_waiting_for_a_response_head() {
    let mut c = client();
    c.send_request(get("/")).unwrap();
    c.finish().unwrap();
    let _ = transmit(&mut c);
    assert_eq!(c.poll_timeout(), Some(t0() + 30 * SEC));
    c.handle_timeout(t0() + 30 * SEC);
    assert_eq!(events(&mut c), [Event::TimedOut(Timer::Handshake)]);
    assert!(c.is_closed());
}

#[test]
fn a_stalled_body_times_out_with_408() {
    let mut c = server();
    c.handle_input(t0(), &post_with("Content-Length: 10\r\n", "abc"))
        .unwrap();
    assert_eq!(c.poll_timeout(), Some(t0() + 60 * SEC));
    c.handle_input(t0() + 30 * SEC, b"de").unwrap();
    assert_eq!(
        c.poll_timeout(),
        Some(t0() + 90 * SEC),
        "each read restarts it"
    );
    c.handle_timeout(t0() + 90 * SEC);
    let evs = events(&mut c);
    assert_eq!(evs.last(), Some(&Event::TimedOut(Timer::Idle)));
    let (wire, shutdown) = transmit(&mut c);
    assert!(wire.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"));
    assert!(shutdown && c.is_closed());
}

#[test]
fn body_timeout_stops_at_the_end_of_the_body() {
    let mut c = server();
    c.handle_input(t0(), &post_with("Content-Length: 3\r\n", "abc"))
        .unwrap();
    assert_eq!(c.poll_timeout(), None);
}
