//! Integration tests of proto-http: one module per RFC area, one test per
//! rule, through the public API only.
#![allow(clippy::disallowed_methods)] // tests need one origin instant
#![allow(missing_docs, unreachable_pub)]

mod rfc6585_5_limits;
mod rfc9110_10_1_1_expect;
mod rfc9110_7_8_upgrade;
mod rfc9112_2_2_message_parsing;
mod rfc9112_3_2_host;
mod rfc9112_3_request_line;
mod rfc9112_4_responses;
mod rfc9112_5_field_syntax;
mod rfc9112_6_3_framing;
mod rfc9112_6_3_sending;
mod rfc9112_7_1_chunked;
mod rfc9112_9_3_persistence;
mod rfc9112_9_5_timeouts;

use proto_http::{Config, Connection, Error, Event, Request, Response, Side, Transmit};
use std::sync::OnceLock;
use std::time::Instant;

/// The one origin instant of the test run.
pub fn t0() -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

pub fn server() -> Connection {
    server_with(Config::default())
}

pub fn server_with(config: Config) -> Connection {
    let mut c = Connection::new(Side::Server, config).unwrap();
    let _ = c.poll_transmit(t0(), &mut Vec::new());
    c
}

pub fn client() -> Connection {
    Connection::new(Side::Client, Config::default()).unwrap()
}

/// Everything queued for transmission, and whether the write side shuts.
pub fn transmit(c: &mut Connection) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut shutdown = false;
    while let Some(t) = c.poll_transmit(t0(), &mut out) {
        if t == Transmit::ShutdownWrite {
            shutdown = true;
        }
    }
    (out, shutdown)
}

pub fn events(c: &mut Connection) -> Vec<Event<'static>> {
    let mut v = Vec::new();
    while let Some(e) = c.poll_event() {
        v.push(e.into_owned());
    }
    v
}

/// A transcript event: heads by their essentials, body pieces merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Request(String, String),
    Informational(u16),
    Response(u16),
    Body(Vec<u8>),
    End(Vec<(Vec<u8>, Vec<u8>)>),
    Upgraded(Vec<u8>),
    TimedOut,
    Closed,
}

pub fn simplify(events: Vec<Event<'static>>) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for e in events {
        let ev = match e {
            Event::Request(r) => Ev::Request(r.method().to_owned(), r.target().to_owned()),
            Event::Informational(r) => Ev::Informational(r.status()),
            Event::Response(r) => Ev::Response(r.status()),
            Event::Data(d) => {
                if let Some(Ev::Body(b)) = out.last_mut() {
                    b.extend_from_slice(&d);
                    continue;
                }
                Ev::Body(d.to_vec())
            }
            Event::EndOfMessage { trailers } => Ev::End(
                trailers
                    .iter()
                    .map(|(n, v)| (n.to_vec(), v.to_vec()))
                    .collect(),
            ),
            Event::Upgraded { trailing } => Ev::Upgraded(trailing.to_vec()),
            Event::TimedOut(_) => Ev::TimedOut,
            Event::Closed => Ev::Closed,
            _ => unreachable!(),
        };
        out.push(ev);
    }
    out
}

/// Feeds `input` in pieces of `step` bytes (honouring backpressure);
/// returns the simplified events, the first error and what was sent.
pub fn run_server(
    input: &[u8],
    step: usize,
    config: Config,
) -> (Vec<Ev>, Option<Error>, Vec<u8>, bool) {
    let mut c = server_with(config);
    let mut evs = Vec::new();
    let mut err = None;
    let mut pos = 0;
    while pos < input.len() {
        let end = (pos + step).min(input.len());
        match c.handle_input(t0(), &input[pos..end]) {
            Ok(n) => pos += n,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
        evs.extend(events(&mut c));
    }
    evs.extend(events(&mut c));
    let (wire, shutdown) = transmit(&mut c);
    (simplify(evs), err, wire, shutdown)
}

/// Asserts that the server refuses `input` with `error` before reporting
/// any request, answers with its status and closes, whatever the split.
#[track_caller]
pub fn rejects(input: &[u8], error: Error) {
    rejects_with(input, error, Config::default());
}

#[track_caller]
pub fn rejects_with(input: &[u8], error: Error, config: Config) {
    for step in [input.len().max(1), 1, 2, 7] {
        let (evs, err, wire, shutdown) = run_server(input, step, config.clone());
        assert_eq!(
            err,
            Some(error),
            "step {step}: {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(
            !evs.iter().any(|e| matches!(e, Ev::Request(..))),
            "no request may be reported: {evs:?}"
        );
        let status = format!("HTTP/1.1 {} ", error.status_hint());
        assert!(
            wire.starts_with(status.as_bytes()),
            "answer {:?}",
            String::from_utf8_lossy(&wire)
        );
        assert!(wire.ends_with(b"Connection: close\r\nContent-Length: 0\r\n\r\n"));
        assert!(shutdown, "the connection closes");
    }
}

/// Asserts that the server reports the request head of `input`, then
/// refuses its body with `error` (never completing the message), answers
/// with its status and closes; the events are the same whatever the split.
#[track_caller]
pub fn rejects_body(input: &[u8], error: Error) {
    rejects_body_with(input, error, Config::default());
}

#[track_caller]
pub fn rejects_body_with(input: &[u8], error: Error, config: Config) {
    let (whole, ..) = run_server(input, input.len().max(1), config.clone());
    for step in [input.len().max(1), 1, 2, 7] {
        let (evs, err, wire, shutdown) = run_server(input, step, config.clone());
        assert_eq!(
            err,
            Some(error),
            "step {step}: {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(matches!(evs.first(), Some(Ev::Request(..))), "{evs:?}");
        assert!(!evs.iter().any(|e| matches!(e, Ev::End(_))), "{evs:?}");
        assert_eq!(evs, whole, "step {step}");
        let status = format!("HTTP/1.1 {} ", error.status_hint());
        assert!(
            wire.starts_with(status.as_bytes()),
            "{:?}",
            String::from_utf8_lossy(&wire)
        );
        assert!(shutdown);
    }
}

/// Asserts that the server accepts `input` as one request (any split) and
/// returns its transcript.
#[track_caller]
pub fn accepts(input: &[u8]) -> Vec<Ev> {
    accepts_with(input, Config::default())
}

#[track_caller]
pub fn accepts_with(input: &[u8], config: Config) -> Vec<Ev> {
    let (whole, err, _, _) = run_server(input, input.len().max(1), config.clone());
    assert_eq!(err, None, "{:?}", String::from_utf8_lossy(input));
    assert!(matches!(whole.first(), Some(Ev::Request(..))), "{whole:?}");
    for step in [1, 2, 3] {
        let (split, err, _, _) = run_server(input, step, config.clone());
        assert_eq!(err, None);
        assert_eq!(split, whole, "step {step}");
    }
    whole
}

/// A request head with the given extra field lines.
pub fn get_with(fields: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: example.com\r\n{fields}\r\n").into_bytes()
}

pub fn post_with(fields: &str, body: &str) -> Vec<u8> {
    format!("POST /upload HTTP/1.1\r\nHost: example.com\r\n{fields}\r\n{body}").into_bytes()
}

pub fn ok_response(body: &'static str) -> Response {
    let mut r = Response::new(200);
    r.headers_mut()
        .append("Content-Length", body.len().to_string());
    r
}

pub fn answer(c: &mut Connection, body: &'static str) {
    c.send_response(ok_response(body)).unwrap();
    c.send_body(body).unwrap();
    c.finish().unwrap();
}

pub fn get(target: &str) -> Request {
    let mut r = Request::new("GET", target);
    r.headers_mut().append("Host", "example.com");
    r
}
