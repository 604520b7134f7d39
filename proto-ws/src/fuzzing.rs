//! Fuzz target bodies (feature `fuzzing`), shared by `fuzz/` and by
//! `cargo test`, which replays committed corpora on stable.
//!
//! Each body panics when an invariant breaks:
//!
//! - no panic anywhere in the crate;
//! - `handle_input` consumes at most what it was given;
//! - buffered input and output stay within the configured limits;
//! - after an error, nothing but the farewell close frame is sent, and the
//!   error is sticky;
//! - the same events, error and output whatever the read split;
//! - what one side encodes, the other decodes identically.
//!
//! The caller supplies `now` (these bodies read no clock either).
//!
//! ```
//! # let now = std::time::Instant::now();
//! proto_ws::fuzzing::server_framing(now, b"\x00\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
//! proto_ws::fuzzing::roundtrip(now, b"\x01\x02hello");
//! ```

use std::sync::Arc;
use std::time::Instant;

use proto_core::{OriginPolicy, Side, Transmit};
use proto_http::{Request, Response};

use crate::handshake::{ClientHandshake, validate_request};
use crate::{Config, Connection, Error, Event, SeededMasks};

/// Slack over the caps: one control frame, one header, the event queue.
const SLACK: usize = 2 * 131 + 64 * 1024;

type Outcome = (Vec<Event>, Option<Error>, Vec<u8>, bool);

/// Server-side framing: `data[0]` picks the configuration, the rest is what
/// a client sent.
pub fn server_framing(now: Instant, data: &[u8]) {
    framing(now, Side::Server, data);
}

/// Client-side framing: `data[0]` picks the configuration, the rest is what
/// a server sent.
pub fn client_framing(now: Instant, data: &[u8]) {
    framing(now, Side::Client, data);
}

fn config(side: Side, selector: u8) -> Config {
    let mut config = Config::default();
    if side.is_client() {
        config.mask_source(Arc::new(SeededMasks::new(u64::from(selector))));
    }
    if selector & 1 != 0 {
        config.streaming(true);
    }
    if selector & 2 != 0 {
        config
            .max_frame_size(256)
            .max_message_size(1024)
            .fragment_overhead(16);
    }
    if selector & 4 != 0 {
        config.max_send_buffer_size(200);
    }
    if selector & 8 != 0 {
        config.allow_non_minimal_length(true);
    }
    if selector & 16 != 0 {
        config.auto_pong(false);
    }
    config
}

fn framing(now: Instant, side: Side, data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let streaming = selector & 1 != 0;
    let whole = drive(now, side, selector, input, &[]);
    let cuts: Vec<usize> = input
        .iter()
        .enumerate()
        .filter(|(_, b)| **b % 7 == 0)
        .map(|(i, _)| i)
        .collect();
    let split = drive(now, side, selector, input, &cuts);
    let bytewise: Vec<usize> = (0..input.len().min(4096)).collect();
    let by_byte = drive(now, side, selector, input, &bytewise);
    // With a tiny send buffer, automatic pongs coalesce depending on when
    // output was drained, which the splits vary on purpose.
    let pongs_coalesce = selector & 4 != 0;
    for other in [split, by_byte] {
        assert_eq!(whole.1, other.1, "same error whatever the split");
        if !pongs_coalesce {
            assert_eq!(whole.2, other.2, "same output whatever the split");
        }
        assert_eq!(whole.3, other.3, "same shutdown whatever the split");
        if streaming {
            assert_eq!(
                data_bytes(&whole.0, whole.1.is_some()),
                data_bytes(&other.0, other.1.is_some())
            );
        } else {
            assert_eq!(whole.0, other.0, "same events whatever the split");
        }
    }
}

/// Streaming events with pieces joined; the pieces of a message that then
/// failed are dropped (earlier reads may deliver its valid start).
fn data_bytes(events: &[Event], failed: bool) -> Vec<(u8, Vec<u8>)> {
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut open = false;
    for e in events {
        match e {
            Event::Data { bytes, fin, .. } => {
                if !open {
                    out.push((0, Vec::new()));
                }
                if let Some(last) = out.last_mut() {
                    last.1.extend_from_slice(bytes);
                }
                open = !fin;
            }
            other => out.push((1, format!("{other:?}").into_bytes())),
        }
    }
    if failed && open {
        let idx = out.iter().rposition(|(tag, _)| *tag == 0);
        if let Some(idx) = idx {
            out.remove(idx);
        }
    }
    out
}

fn drive(now: Instant, side: Side, selector: u8, input: &[u8], cuts: &[usize]) -> Outcome {
    let config = config(side, selector);
    let (max_message, max_send) = (config.max_message_size, config.max_send_buffer_size);
    let Ok(mut conn) = Connection::new(side, config, now) else {
        unreachable!("fuzz configurations are valid");
    };
    let mut bounds: Vec<usize> = cuts.iter().copied().filter(|&c| c <= input.len()).collect();
    bounds.push(0);
    bounds.push(input.len());
    bounds.sort_unstable();
    bounds.dedup();
    let mut events = Vec::new();
    let mut output = Vec::new();
    let mut error = None;
    let mut shutdown = false;
    'reads: for w in bounds.windows(2) {
        let mut rest = &input[w[0]..w[1]];
        while !rest.is_empty() {
            match conn.handle_input(now, rest) {
                Ok(n) => {
                    assert!(n <= rest.len(), "consumed more than given");
                    rest = &rest[n..];
                    let before = events.len();
                    events.extend(std::iter::from_fn(|| conn.poll_event()));
                    assert!(n > 0 || events.len() > before, "no progress");
                }
                Err(e) => {
                    events.extend(std::iter::from_fn(|| conn.poll_event()));
                    error = Some(e);
                }
            }
            assert!(conn.buffered_input() <= max_message + SLACK);
            assert!(conn.buffered_output() <= max_send + SLACK);
            if error.is_some() {
                break 'reads;
            }
        }
        // Output is drained only now and then: a peer that reads slowly.
        if w[1] % 3 == 0 || error.is_some() {
            shutdown |= drain(&mut conn, now, &mut output);
        }
    }
    shutdown |= drain(&mut conn, now, &mut output);
    if let Some(e) = error {
        assert_eq!(
            conn.handle_input(now, b"\x81\x80"),
            Err(e),
            "errors are sticky"
        );
        let mut after = Vec::new();
        drain(&mut conn, now, &mut after);
        assert!(after.is_empty(), "nothing but the farewell after an error");
        assert!(conn.is_closed());
        assert!(output.len() >= 2, "the farewell close frame was sent");
    }
    (events, error, output, shutdown)
}

fn drain(conn: &mut Connection, now: Instant, out: &mut Vec<u8>) -> bool {
    let mut shutdown = false;
    while let Some(t) = conn.poll_transmit(now, out) {
        if t == Transmit::ShutdownWrite {
            shutdown = true;
        }
    }
    shutdown
}

/// The opening handshake: `data` is read as header lines (`name: value`)
/// for a request; whatever the server decides must be consistent, and a
/// client must accept exactly the answers to its own key.
pub fn handshake(now: Instant, data: &[u8]) {
    let _ = now;
    let mut lines = data.split(|&b| b == b'\n');
    let method = lines.next().unwrap_or_default();
    let method = if method.first().is_some_and(|b| b % 4 == 0) {
        "POST"
    } else {
        "GET"
    };
    let mut request = Request::new(method, "/");
    for line in lines {
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            request
                .headers_mut()
                .append(&line[..colon], &line[colon + 1..]);
        }
    }
    for policy in [OriginPolicy::same_host(), OriginPolicy::any()] {
        match validate_request(&request, &policy) {
            Ok(offer) => {
                assert!(request.headers().count("sec-websocket-key") == 1);
                let choice = offer.protocols().first().map(String::as_str);
                let Ok(response) = offer.accept(choice) else {
                    unreachable!("an offered protocol is accepted");
                };
                assert_eq!(response.status(), 101);
            }
            Err(e) => {
                assert!(matches!(e.status(), 400 | 403 | 405 | 426));
                let _ = e.response();
            }
        }
    }
    // A client judging an arbitrary 101 built from the same fields.
    let mut key = [0u8; 16];
    for (k, d) in key.iter_mut().zip(data) {
        *k = *d;
    }
    let client = ClientHandshake::new(key);
    let mut response = Response::new(101);
    *response.headers_mut() = request.headers().clone();
    let _ = client.validate_response(&response);
    // And the real answer to its own request is always accepted.
    let own = client.request("fuzz.example", "/");
    let Ok(offer) = validate_request(&own, &OriginPolicy::any()) else {
        unreachable!("our own request is valid");
    };
    let Ok(answer) = offer.accept(None) else {
        unreachable!("no protocol chosen");
    };
    assert!(client.validate_response(&answer).is_ok());
}

/// Encode then decode: `data` is read as a list of messages (a tag byte,
/// a length byte, then that many payload bytes); the client sends them,
/// with fragmentation from the first byte, the server must receive them
/// identically, and back.
pub fn roundtrip(now: Instant, data: &[u8]) {
    let Some((&fragment, mut rest)) = data.split_first() else {
        return;
    };
    let mut messages: Vec<(u8, Vec<u8>)> = Vec::new();
    while let [tag, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let mut payload = tail[..len].to_vec();
        if tag % 3 == 0 {
            payload = String::from_utf8_lossy(&payload).into_owned().into_bytes();
        }
        messages.push((tag % 3, payload));
        rest = &tail[len..];
    }
    for sender_side in [Side::Client, Side::Server] {
        let mut sender_config = config(sender_side, 0);
        if fragment != 0 {
            sender_config.send_fragment_size(Some(usize::from(fragment)));
        }
        let Ok(mut sender) = Connection::new(sender_side, sender_config, now) else {
            unreachable!("valid configuration");
        };
        let mut expected = Vec::new();
        for (kind, payload) in &messages {
            let sent = match kind {
                0 => sender.send_text(std::str::from_utf8(payload).unwrap_or_default()),
                1 => sender.send_binary(payload),
                _ => sender.send_ping(&payload[..payload.len().min(125)]),
            };
            assert_eq!(sent, Ok(()));
            expected.push(match kind {
                0 => Event::Text(payload.clone().into()),
                1 => Event::Binary(payload.clone().into()),
                _ => Event::Ping(payload[..payload.len().min(125)].to_vec().into()),
            });
        }
        let mut wire = Vec::new();
        drain(&mut sender, now, &mut wire);
        let selector = 0;
        let (events, error, _, _) = drive(now, sender_side.peer(), selector, &wire, &[]);
        assert_eq!(error, None);
        assert_eq!(events, expected, "decoded what was encoded");
    }
}
