//! State-machine properties: split invariance and round trips.
#![allow(clippy::disallowed_methods)] // tests need one origin instant

use crate::transcript::{Record, Transcript, assert_split_invariant, run};
use crate::{Config, Connection, Event, Headers, Request, Response, Side, Version};
use bytes::Bytes;
use proptest::prelude::*;
use std::time::Instant;

fn t0() -> Instant {
    Instant::now()
}

/// Hand-written messages, good and bad, covering every rule.
const CORPUS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\"\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"\r\n\"\r\nhello\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    b"GET / HTTP/1.1\nHost: a\n\n",
    b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x82abcdef",
    b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
    b"GET / HTTP/1.1\r\nHo",
];

const RESPONSES: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nclose delimited",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
];

#[test]
fn corpus_is_split_invariant_at_every_offset() {
    let config = Config::default();
    for input in CORPUS {
        let whole = assert_split_invariant(Side::Server, &config, 0, input);
        for cut in 1..input.len() {
            let mut first = true;
            let split = run(Side::Server, &config, 0, input, &mut || {
                if std::mem::take(&mut first) {
                    cut
                } else {
                    usize::MAX
                }
            });
            assert_eq!(
                split,
                whole,
                "cut at {cut}: {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
    for (script, input) in RESPONSES.iter().enumerate() {
        let script = if script == 3 { 3 } else { 0 };
        let whole = assert_split_invariant(Side::Client, &config, script, input);
        for cut in 1..input.len() {
            let mut first = true;
            let split = run(Side::Client, &config, script, input, &mut || {
                if std::mem::take(&mut first) {
                    cut
                } else {
                    usize::MAX
                }
            });
            assert_eq!(split, whole);
        }
    }
}

#[test]
fn corpus_transcripts_are_as_expected() {
    let config = Config::default();
    let t = |input: &[u8]| run(Side::Server, &config, 0, input, &mut || usize::MAX);
    let Transcript { records, error, .. } = t(CORPUS[3]);
    assert_eq!(error, None);
    assert_eq!(records[1], Record::Body(b"hello".to_vec()));
    assert_eq!(
        records[2],
        Record::End(vec![(b"T".to_vec(), b"1".to_vec())])
    );
    let upgrade = t(CORPUS[17]);
    assert_eq!(
        upgrade.records.last(),
        Some(&Record::Upgraded(b"\x81\x82abcdef".to_vec()))
    );
    assert!(!upgrade.shutdown);
}

/// A request the client side can send.
#[derive(Debug, Clone)]
struct Message {
    method: &'static str,
    target: String,
    fields: Vec<(String, String)>,
    body: Vec<Vec<u8>>,
    framing: u8,
    trailers: Vec<(String, String)>,
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
        "/[a-zA-Z0-9/._~%!$&'()*+,;=:@?-]{0,30}",
        prop::collection::vec(("[a-zA-Z][a-zA-Z0-9-]{0,12}", "[ -~]{0,20}"), 0..6),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4),
        0u8..3,
        prop::collection::vec(("[xX]-[a-z]{1,8}", "[a-z0-9]{0,10}"), 0..3),
    )
        .prop_map(
            |(method, target, fields, body, framing, trailers)| Message {
                method,
                target,
                fields: fields
                    .into_iter()
                    .filter(|(n, _)| {
                        ![
                            "host",
                            "content-length",
                            "transfer-encoding",
                            "connection",
                            "upgrade",
                            "expect",
                        ]
                        .contains(&n.to_ascii_lowercase().as_str())
                    })
                    .map(|(n, v)| (n, v.trim_matches([' ', '\t']).to_owned()))
                    .collect(),
                body,
                framing,
                trailers,
            },
        )
}

impl Message {
    fn body_bytes(&self) -> Vec<u8> {
        self.body.concat()
    }

    fn chunked(&self) -> bool {
        self.framing == 1
    }

    fn request(&self) -> Request {
        let mut r = Request::new(self.method, &self.target);
        r.headers_mut().append("Host", "example.com");
        for (n, v) in &self.fields {
            r.headers_mut().append(n, v);
        }
        match self.framing {
            1 => {
                r.headers_mut().append("Transfer-Encoding", "chunked");
            }
            2 => {
                r.headers_mut()
                    .append("Content-Length", self.body_bytes().len().to_string());
            }
            _ => {}
        }
        r
    }

    /// Sends the message on `c` (a client).
    fn send(&self, c: &mut Connection) {
        c.send_request(self.request()).unwrap();
        if self.framing != 0 {
            for piece in &self.body {
                c.send_body(Bytes::copy_from_slice(piece)).unwrap();
            }
        }
        if self.chunked() && !self.trailers.is_empty() {
            let mut t = Headers::new();
            for (n, v) in &self.trailers {
                t.append(n, v);
            }
            c.finish_with_trailers(&t).unwrap();
        } else {
            c.finish().unwrap();
        }
    }
}

fn body_of(events: &[Event<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for e in events {
        if let Event::Data(d) = e {
            body.extend_from_slice(d);
        }
    }
    body
}

fn drain_wire(c: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while c.poll_transmit(t0(), &mut out).is_some() {}
    out
}

fn collect(c: &mut Connection) -> Vec<Event<'static>> {
    let mut v = Vec::new();
    while let Some(e) = c.poll_event() {
        v.push(e.into_owned());
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// What the client serialises the server parses to the same message,
    /// and the response comes back the same way (h11's ConnectionPair).
    #[test]
    fn round_trip(msgs in prop::collection::vec(message(), 1..4), status in prop::sample::select(vec![200u16, 201, 404, 500]), res_body in prop::collection::vec(any::<u8>(), 0..100), res_chunked in any::<bool>()) {
        let mut client = Connection::new(Side::Client, Config::default()).unwrap();
        let mut server = Connection::new(Side::Server, Config::default()).unwrap();
        for msg in &msgs {
            msg.send(&mut client);
            let wire = drain_wire(&mut client);
            prop_assert_eq!(server.handle_input(t0(), &wire), Ok(wire.len()));
            let events = collect(&mut server);
            let Some(Event::Request(req)) = events.first() else { panic!("{events:?}") };
            prop_assert_eq!(req.as_ref(), &msg.request());
            let body = body_of(&events);
            let expected = if msg.framing == 0 { Vec::new() } else { msg.body_bytes() };
            prop_assert_eq!(body, expected);
            let Some(Event::EndOfMessage { trailers }) = events.last() else { panic!("{events:?}") };
            let sent_trailers: Vec<(Vec<u8>, Vec<u8>)> = if msg.chunked() { msg.trailers.iter().map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes())).collect() } else { Vec::new() };
            let got: Vec<(Vec<u8>, Vec<u8>)> = trailers.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(got, sent_trailers);

            let mut res = Response::new(status);
            res.headers_mut().append("X-Echo", msg.method);
            if !res_chunked {
                res.headers_mut().append("Content-Length", res_body.len().to_string());
            }
            server.send_response(res.clone()).unwrap();
            for piece in res_body.chunks(7) {
                server.send_body(Bytes::copy_from_slice(piece)).unwrap();
            }
            server.finish().unwrap();
            let wire = drain_wire(&mut server);
            prop_assert_eq!(client.handle_input(t0(), &wire), Ok(wire.len()));
            let events = collect(&mut client);
            let Some(Event::Response(got)) = events.first() else { panic!("{events:?}") };
            if res_chunked {
                res.headers_mut().append("Transfer-Encoding", "chunked");
            }
            prop_assert_eq!(got.as_ref(), &res);
            let body = body_of(&events);
            prop_assert_eq!(&body, &res_body);
            let ended = matches!(events.last(), Some(Event::EndOfMessage { .. }));
            prop_assert!(ended);
        }
        prop_assert_eq!(server.state(), crate::State::Idle);
        prop_assert_eq!(client.state(), crate::State::Idle);
    }

    /// Generated pipelines, possibly corrupted at one byte, give the same
    /// transcript whatever the split.
    #[test]
    fn generated_messages_are_split_invariant(msgs in prop::collection::vec(message(), 1..4), corrupt in prop::option::of((any::<prop::sample::Index>(), any::<u8>())), cuts in prop::collection::vec(1usize..64, 1..32)) {
        let mut client = Connection::new(Side::Client, Config::default()).unwrap();
        let mut input = Vec::new();
        for msg in &msgs {
            msg.send(&mut client);
            input.extend(drain_wire(&mut client));
        }
        if let Some((at, byte)) = corrupt {
            let i = at.index(input.len());
            input[i] = byte;
        }
        let config = Config::default();
        let whole = assert_split_invariant(Side::Server, &config, 0, &input);
        let mut i = 0;
        let split = run(Side::Server, &config, 0, &input, &mut || { i += 1; cuts[i % cuts.len()] });
        prop_assert_eq!(split, whole);
    }

    /// Arbitrary bytes: the fuzz invariants hold for both roles.
    #[test]
    fn arbitrary_bytes_keep_the_invariants(data in prop::collection::vec(any::<u8>(), 0..300), script in any::<u8>()) {
        let mut small = Config::default();
        small.max_head_size(128).max_headers(4).max_buffer_size(256).max_trailer_size(64).max_chunk_extension_size(8);
        assert_split_invariant(Side::Server, &small, 0, &data);
        assert_split_invariant(Side::Client, &small, script, &data);
        let mut chunked = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        chunked.extend_from_slice(&data);
        assert_split_invariant(Side::Server, &small, 0, &chunked);
    }
}

#[test]
fn http_1_0_request_round_trips() {
    let mut client = Connection::new(Side::Client, Config::default()).unwrap();
    let mut server = Connection::new(Side::Server, Config::default()).unwrap();
    let mut req = Request::new("GET", "/old");
    req.set_version(Version::Http10);
    client.send_request(req.clone()).unwrap();
    client.finish().unwrap();
    let wire = drain_wire(&mut client);
    server.handle_input(t0(), &wire).unwrap();
    let events = collect(&mut server);
    assert!(matches!(&events[0], Event::Request(r) if r.as_ref() == &req));
    server.send_response(Response::new(200)).unwrap();
    server.send_body("until close").unwrap();
    server.finish().unwrap();
    let wire = drain_wire(&mut server);
    client.handle_input(t0(), &wire).unwrap();
    client.handle_eof(t0());
    let events = collect(&mut client);
    assert!(matches!(events.last(), Some(Event::Closed)));
    let body = body_of(&events);
    assert_eq!(body, b"until close");
}

#[test]
fn queued_events_are_bounded_by_the_buffer_cap() {
    let mut c = Connection::new(Side::Server, Config::default()).unwrap();
    let mut input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..100_000 {
        input.extend_from_slice(b"1\r\nx\r\n");
    }
    let mut pos = 0;
    while let Ok(n @ 1..) = c.handle_input(t0(), &input[pos..]) {
        pos += n;
    }
    let cap = crate::config::DEFAULT_MAX_BUFFER_SIZE;
    assert!(
        c.buffered_input() <= cap + crate::connection::MAX_STEP_COST,
        "{}",
        c.buffered_input()
    );
    let queued = c.queued_events();
    assert!(queued * 32 < cap, "{queued} events");
}

/// Bug 8 (found by the `http_structured` fuzz target): a response whose
/// status line says `HTTP/1.0` was framed for the request's HTTP/1.1 and
/// went out chunked, which every HTTP/1.0 recipient must treat as faulty
/// framing (RFC 9112 §6.1) and our own client refused.
#[test]
fn bug_8_http_1_0_response_to_http_1_1_request_is_not_chunked() {
    let mut server = Connection::new(Side::Server, Config::default()).unwrap();
    let mut client = Connection::new(Side::Client, Config::default()).unwrap();
    let mut req = Request::new("GET", "/");
    req.headers_mut().append("Host", "a");
    client.send_request(req).unwrap();
    client.finish().unwrap();
    server.handle_input(t0(), &drain_wire(&mut client)).unwrap();
    collect(&mut server);
    let mut res = Response::new(200);
    res.set_version(Version::Http10);
    server.send_response(res.clone()).unwrap();
    server.send_body("until close").unwrap();
    server.finish().unwrap();
    let wire = drain_wire(&mut server);
    assert!(
        wire.starts_with(b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n"),
        "{wire:?}"
    );
    client.handle_input(t0(), &wire).unwrap();
    client.handle_eof(t0());
    let events = collect(&mut client);
    assert_eq!(body_of(&events), b"until close");
    // Asking for chunked framing in an HTTP/1.0 response is refused.
    let mut server = Connection::new(Side::Server, Config::default()).unwrap();
    server
        .handle_input(t0(), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    collect(&mut server);
    res.headers_mut().append("Transfer-Encoding", "chunked");
    assert_eq!(
        server.send_response(res),
        Err(crate::SendError::UnsupportedTransferEncoding)
    );
}

/// Bug 8 (found by the `http_server` fuzz target, in the test driver): an
/// upgrade request whose chunked body ends in a later read than its head
/// was answered `200` when split and `101` when whole, because the driver
/// forgot the request between reads. The machine was right both times.
#[test]
fn bug_8_upgrade_request_with_a_body_split_across_reads() {
    let input = b"b / HTTP/1.1\r\nConnection:Upgrade\r\nUpgrade:\r\nHost:\r\nTransfer-Encoding:chunked\r\n\r\n0\r\n\r\n";
    let whole = assert_split_invariant(Side::Server, &Config::default(), 0, input);
    assert!(whole.wire.starts_with(b"HTTP/1.1 101 "), "{whole:?}");
}

/// `send_full_response` writes exactly what `send_response` with the same
/// two fields (and `Connection: close` when asked), `send_body` (nothing
/// for HEAD and 304) and `finish` write, and leaves the connection in the
/// same state: for every request shape that decides framing or reuse,
/// statuses with and without a body, both `close` settings, and the
/// request after it.
#[test]
fn full_responses_match_the_general_path() {
    let requests: &[&[u8]] = &[
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    ];
    let next = b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut answered = 0;
    for request in requests {
        for status in [200, 304, 404, 500] {
            for close in [false, true] {
                for body in [&b""[..], b"hello world"] {
                    let run = |full: bool| {
                        let now = t0();
                        let mut c = Connection::new(Side::Server, Config::default()).unwrap();
                        c.handle_input(now, request).unwrap();
                        let _ = collect(&mut c);
                        let sent = if full {
                            c.send_full_response(status, "text/plain; charset=utf-8", body, close)
                        } else {
                            let mut response = Response::new(status);
                            response
                                .headers_mut()
                                .append("Content-Type", "text/plain; charset=utf-8")
                                .append("Content-Length", body.len().to_string());
                            if close {
                                response.headers_mut().append("Connection", "close");
                            }
                            // HEAD and 304 take the length without the body.
                            let bodiless = request.starts_with(b"HEAD") || status == 304;
                            let body = if bodiless { &b""[..] } else { body };
                            c.send_response(response)
                                .and_then(|()| c.send_body(Bytes::copy_from_slice(body)))
                                .and_then(|()| c.finish())
                        };
                        let wire = drain_wire(&mut c);
                        let after = c.handle_input(now, next).map(|_| collect(&mut c));
                        let answer = c.send_full_response(200, "text/plain", "n", false);
                        (sent, wire, after, answer, drain_wire(&mut c), c.is_closed())
                    };
                    let full = run(true);
                    answered += usize::from(full.0.is_ok() && !full.1.is_empty());
                    assert_eq!(
                        full,
                        run(false),
                        "{} -> {status}, close {close}, body {body:?}",
                        String::from_utf8_lossy(request)
                    );
                }
            }
        }
    }
    // Every case is answered (a non-101 answer to an upgrade request
    // declines it), so the comparison is between responses, not errors.
    assert_eq!(answered, requests.len() * 4 * 2 * 2);
}

#[test]
fn full_responses_refuse_what_they_cannot_frame() {
    let now = t0();
    let mut c = Connection::new(Side::Server, Config::default()).unwrap();
    c.handle_input(now, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let _ = collect(&mut c);
    for status in [100, 101, 199, 204, 99, 1000] {
        assert_eq!(
            c.send_full_response(status, "text/plain", "x", false),
            Err(crate::SendError::InvalidStatus),
            "{status}"
        );
    }
    for content_type in ["a\r\nb", " text/plain", "a\0b"] {
        assert_eq!(
            c.send_full_response(200, content_type, "x", false),
            Err(crate::SendError::InvalidFieldValue),
            "{content_type:?}"
        );
    }
    assert!(drain_wire(&mut c).is_empty(), "nothing queued");
    assert_eq!(c.send_full_response(200, "text/plain", "ok", false), Ok(()));
    assert!(drain_wire(&mut c).ends_with(b"\r\n\r\nok"));
}
