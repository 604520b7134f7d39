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
//! - what one side encodes, the other decodes identically, including what
//!   the framing targets sent (pongs for pings, the farewell with its code);
//! - no timer reported before it is due;
//! - for [`structured`], generated frame sequences, the events of a model
//!   of RFC 6455 and the caps.
//!
//! The caller supplies `now` (these bodies read no clock either).
//!
//! ```
//! # let now = std::time::Instant::now();
//! proto_ws::fuzzing::server_framing(now, b"\x00\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
//! proto_ws::fuzzing::roundtrip(now, b"\x01\x02hello");
//! proto_ws::fuzzing::structured(now, b"any bytes: arbitrary builds a case from them");
//! ```

use std::sync::Arc;
use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use proto_core::fuzzing::{ByteEdit, apply_edits};

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
    framing_splits(now, side, selector, input, &[]);
}

/// Runs `input` whole, cut where a byte is a multiple of 7, one byte per
/// read (the first 4 KiB) and at `extra_cuts`, and asserts that every run
/// agrees with the whole one; then checks the whole run's output against a
/// peer. Returns the whole run.
fn framing_splits(
    now: Instant,
    side: Side,
    selector: u8,
    input: &[u8],
    extra_cuts: &[usize],
) -> Outcome {
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
    let mut others = vec![split, by_byte];
    if !extra_cuts.is_empty() {
        others.push(drive(now, side, selector, input, extra_cuts));
    }
    // With a tiny send buffer, automatic pongs coalesce depending on when
    // output was drained, which the splits vary on purpose.
    let pongs_coalesce = selector & 4 != 0;
    for other in others {
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
    check_output(now, side, selector, &whole);
    whole
}

/// What the connection sent, read back by a peer: only valid frames; a
/// pong for each ping in order (only the latest when pongs had to
/// coalesce, none without `auto_pong`); and the farewell last, carrying the
/// error's close code, or the echo of the peer's close.
fn check_output(now: Instant, side: Side, selector: u8, whole: &Outcome) {
    let (events, error, output, _) = whole;
    let (peer_events, peer_error, _, _) = drive(now, side.peer(), 0, output, &[]);
    assert_eq!(peer_error, None, "the peer refused our output: {output:?}");
    let pings: Vec<&[u8]> = events
        .iter()
        .filter_map(|e| match e {
            Event::Ping(p) => Some(&p[..]),
            _ => None,
        })
        .collect();
    let pongs: Vec<&[u8]> = peer_events
        .iter()
        .filter_map(|e| match e {
            Event::Pong(p) => Some(&p[..]),
            _ => None,
        })
        .collect();
    let auto_pong = selector & 16 == 0;
    if !auto_pong {
        assert!(pongs.is_empty(), "a pong sent with auto_pong off");
    } else if selector & 4 == 0 && error.is_none() {
        assert_eq!(pongs, pings, "one pong per ping, in order");
    } else {
        // Coalesced, or the last pending pong dropped for the farewell: a
        // subsequence of the pings.
        let mut rest = pings.iter();
        for pong in &pongs {
            assert!(rest.any(|p| p == pong), "a pong for no ping");
        }
    }
    let received_close = events.iter().find_map(|e| match e {
        Event::Closed { code, .. } => Some(*code),
        _ => None,
    });
    let farewell = match (error, received_close) {
        (Some(e), _) => Some(e.close_code()),
        (None, Some(code)) => Some(code),
        (None, None) => None,
    };
    let peer_closed = peer_events.iter().find_map(|e| match e {
        Event::Closed { code, .. } => Some(*code),
        _ => None,
    });
    assert_eq!(peer_closed, farewell, "the farewell carries the right code");
    if farewell.is_some() {
        assert!(
            matches!(peer_events.last(), Some(Event::Closed { .. })),
            "nothing after the farewell"
        );
    }
}

/// Streaming events with pieces joined; the pieces of a message that then
/// failed are dropped (earlier reads may deliver its valid start).
fn data_bytes(events: &[Event], failed: bool) -> Vec<(u8, Vec<u8>)> {
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    // Where the open message's entry is: control frames may come between
    // its pieces, so it is not always the last entry.
    let mut open: Option<usize> = None;
    for e in events {
        match e {
            Event::Data { bytes, fin, .. } => {
                let idx = *open.get_or_insert_with(|| {
                    out.push((0, Vec::new()));
                    out.len() - 1
                });
                out[idx].1.extend_from_slice(bytes);
                if *fin {
                    open = None;
                }
            }
            other => out.push((1, format!("{other:?}").into_bytes())),
        }
    }
    if let (true, Some(idx)) = (failed, open) {
        out.remove(idx);
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
        assert!(conn.poll_event().is_none(), "no event after an error");
        let mut after = Vec::new();
        drain(&mut conn, now, &mut after);
        assert!(after.is_empty(), "nothing but the farewell after an error");
        assert!(conn.is_closed());
        assert!(output.len() >= 2, "the farewell close frame was sent");
        assert_eq!(
            conn.poll_timeout(),
            None,
            "a failed connection arms no timer"
        );
    }
    check_timers(&mut conn, now);
    (events, error, output, shutdown)
}

/// Deadlines: nothing fires before `poll_timeout`, what fires at it is a
/// [`Event::TimedOut`] (or the keep-alive ping, which reports nothing), and
/// every firing moves `poll_timeout` on.
fn check_timers(conn: &mut Connection, now: Instant) {
    for _ in 0..6 {
        let Some(at) = conn.poll_timeout() else {
            return;
        };
        assert!(at >= now, "a deadline before the last input");
        if let Some(early) = at.checked_sub(std::time::Duration::from_nanos(1)) {
            conn.handle_timeout(early);
            assert!(
                conn.poll_event().is_none(),
                "a timer fired before it was due"
            );
            assert_eq!(
                conn.poll_timeout(),
                Some(at),
                "an early call changed nothing"
            );
        }
        conn.handle_timeout(at);
        while let Some(event) = conn.poll_event() {
            assert!(
                matches!(event, Event::TimedOut(_)),
                "{event:?} from a timer"
            );
        }
        let mut out = Vec::new();
        drain(conn, at, &mut out);
        assert_ne!(
            conn.poll_timeout(),
            Some(at),
            "a fired deadline stayed armed"
        );
    }
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

// ---- structure-aware target -------------------------------------------------

/// Frame sequences built from fuzzer bytes, valid then mutated, fed in the
/// fuzzer's read splits to either role.
///
/// The generator covers every length encoding (7-bit, 16-bit, 64-bit, the
/// non-minimal ones and the forbidden top bit), every opcode, right and
/// wrong masking, reserved bits, fragmentation with interleaved control
/// frames, close frames with valid and invalid codes and reasons, and text
/// that is or is not UTF-8. On top of the byte targets' invariants (all
/// read splits agree, the output reads back, errors are sticky and
/// followed only by the farewell), an unmutated sequence is checked
/// against a model of RFC 6455: the connection fails exactly when the
/// model says the sequence breaks a rule or a limit, and otherwise
/// delivers exactly the model's messages, pings, pongs and close.
pub fn structured(now: Instant, data: &[u8]) {
    let Ok(case) = WsCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    if std::env::var_os("RAMPART_FUZZ_DEBUG").is_some() {
        eprintln!("{case:#?}");
    }
    let side = if case.client_receives {
        Side::Client
    } else {
        Side::Server
    };
    let mut input = Vec::new();
    for frame in case.frames.iter().take(16) {
        if input.len() > 150_000 {
            break;
        }
        frame.write(side, &mut input);
    }
    let mutated = !case.mutations.is_empty();
    let input = mutate(input, &case.mutations);
    let mut cuts = Vec::new();
    let mut at = 0usize;
    for &c in case.cuts.iter().take(64) {
        at += usize::from(c).max(1);
        cuts.push(at);
    }
    let whole = framing_splits(now, side, case.selector, &input, &cuts);
    if !mutated {
        let config = config(side, case.selector);
        let model = model(&config, side, &case.frames);
        match model {
            Model::Invalid => assert!(
                whole.1.is_some(),
                "the model refuses this sequence, the connection took it: {:?}",
                whole.0
            ),
            Model::Valid(expected) => {
                assert_eq!(whole.1, None, "the model accepts this sequence");
                let got = if config.streaming {
                    join_pieces(&whole.0)
                } else {
                    whole.0.clone()
                };
                assert_eq!(got, expected, "delivered what the model expects");
            }
        }
    }
}

#[derive(Debug, Arbitrary)]
struct WsCase {
    selector: u8,
    client_receives: bool,
    frames: Vec<GenFrame>,
    mutations: Vec<Mutation>,
    cuts: Vec<u8>,
}

#[derive(Debug, Arbitrary)]
struct GenFrame {
    fin: bool,
    /// Reserved bits, set only when the low nibble is 1 (rarely).
    rsv: u8,
    opcode: GenOpcode,
    length: LengthEncoding,
    wrong_mask: bool,
    key: [u8; 4],
    payload: GenPayload,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum GenOpcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
    Reserved(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
enum LengthEncoding {
    Minimal,
    /// 16-bit even when 7 bits would do.
    Wide16,
    /// 64-bit even when 16 bits would do.
    Wide64,
    /// 64-bit with the most significant bit set (RFC 6455 §5.2 forbids it).
    TopBit,
}

#[derive(Debug, Arbitrary)]
enum GenPayload {
    Bytes(Vec<u8>),
    Text(String),
    /// Long payloads, cheap to describe: `len` bytes; or about `len`
    /// times 257 (the 16-bit encoding) when `wide` is false; or 64 KiB plus
    /// `len` (the 64-bit encoding) when it is true.
    Fill {
        byte: u8,
        len: u8,
        wide: Option<bool>,
    },
    /// Text with a broken sequence: overlong, surrogate, truncated, > U+10FFFF.
    BadUtf8(u8),
    /// A close payload: a code from the list (or raw) and a reason.
    Close {
        code: u8,
        raw: Option<u16>,
        reason: String,
    },
}

const CLOSE_CODES: &[u16] = &[
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999, 0, 999,
    1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535,
];
const BAD_UTF8: &[&[u8]] = &[
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xff",
    b"a\xe2\x82",
    b"\xe2\x82\xac\x80",
    b"\xf0\x9f\x98",
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
];

impl GenFrame {
    fn opcode_bits(&self) -> u8 {
        match self.opcode {
            GenOpcode::Continuation => 0x0,
            GenOpcode::Text => 0x1,
            GenOpcode::Binary => 0x2,
            GenOpcode::Close => 0x8,
            GenOpcode::Ping => 0x9,
            GenOpcode::Pong => 0xa,
            GenOpcode::Reserved(op) => {
                let op = op % 10;
                if op < 5 { 3 + op } else { 0xb + op - 5 }
            }
        }
    }

    fn rsv_bits(&self) -> u8 {
        if self.rsv & 0x0f == 1 {
            (self.rsv & 0x70).max(0x10)
        } else {
            0
        }
    }

    fn payload(&self) -> Vec<u8> {
        match &self.payload {
            GenPayload::Bytes(b) => b.clone(),
            GenPayload::Text(t) => t.as_bytes().to_vec(),
            GenPayload::Fill { byte, len, wide } => {
                let len = usize::from(*len);
                let len = match wide {
                    None => len,
                    Some(false) => 126 + len * 257,
                    Some(true) => 0x1_0000 + len,
                };
                vec![*byte; len]
            }
            GenPayload::BadUtf8(i) => BAD_UTF8[usize::from(*i) % BAD_UTF8.len()].to_vec(),
            GenPayload::Close { code, raw, reason } => {
                let code = raw.unwrap_or(CLOSE_CODES[usize::from(*code) % CLOSE_CODES.len()]);
                let mut out = code.to_be_bytes().to_vec();
                out.extend_from_slice(reason.as_bytes());
                out
            }
        }
    }

    /// Whether this frame carries a mask, as `side` expects it or not.
    fn masked(&self, receiver: Side) -> bool {
        receiver.is_server() != self.wrong_mask
    }

    fn write(&self, receiver: Side, out: &mut Vec<u8>) {
        let payload = self.payload();
        let len = payload.len();
        out.push(u8::from(self.fin) << 7 | self.rsv_bits() | self.opcode_bits());
        let mask_bit = if self.masked(receiver) { 0x80 } else { 0 };
        let len7 = |n: usize| u8::try_from(n).unwrap_or(0);
        match self.length {
            LengthEncoding::Minimal if len < 126 => out.push(mask_bit | len7(len)),
            LengthEncoding::Minimal | LengthEncoding::Wide16 if len <= 0xffff => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&u16::try_from(len).unwrap_or(0).to_be_bytes());
            }
            LengthEncoding::TopBit => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(len as u64 | 1 << 63).to_be_bytes());
            }
            _ => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        let start = out.len();
        if self.masked(receiver) {
            out.extend_from_slice(&self.key);
        }
        out.extend_from_slice(&payload);
        if self.masked(receiver) {
            crate::apply_mask(&mut out[start + 4..], self.key, 0);
        }
    }

    /// How the length was encoded, as the receiver judges it.
    fn minimal(&self) -> bool {
        let len = self.payload().len();
        match self.length {
            LengthEncoding::Minimal => true,
            LengthEncoding::Wide16 => len >= 126 || len > 0xffff,
            LengthEncoding::Wide64 => len > 0xffff,
            LengthEncoding::TopBit => true,
        }
    }
}

enum Model {
    /// The sequence breaks a rule or a limit.
    Invalid,
    /// The events the sequence must deliver (messages whole; an unfinished
    /// message delivers nothing, and its text need only be a valid prefix).
    Valid(Vec<Event>),
}

/// RFC 6455 §5 and the configured limits, as plainly as possible.
fn model(config: &Config, receiver: Side, frames: &[GenFrame]) -> Model {
    let mut events = Vec::new();
    let mut open: Option<(bool, Vec<u8>)> = None;
    let mut charge = 0u64;
    let mut written = 0usize;
    for frame in frames.iter().take(16) {
        if written > 150_000 {
            break;
        }
        let payload = frame.payload();
        let mut header = Vec::new();
        frame.write(receiver, &mut header);
        written += header.len();
        let len = payload.len();
        if frame.rsv_bits() != 0
            || matches!(frame.opcode, GenOpcode::Reserved(_))
            || frame.wrong_mask
            || frame.length == LengthEncoding::TopBit
            || (!frame.minimal() && !config.allow_non_minimal_length)
        {
            return Model::Invalid;
        }
        // The 7-bit length is judged before any extended one: a control
        // frame never uses 126 or 127, even where non-minimal lengths are
        // allowed.
        let control = matches!(
            frame.opcode,
            GenOpcode::Close | GenOpcode::Ping | GenOpcode::Pong
        );
        if control && (len > 125 || !frame.fin || frame.length != LengthEncoding::Minimal) {
            return Model::Invalid;
        }
        match frame.opcode {
            GenOpcode::Reserved(_) => return Model::Invalid,
            GenOpcode::Ping => events.push(Event::Ping(payload.into())),
            GenOpcode::Pong => events.push(Event::Pong(payload.into())),
            GenOpcode::Close => {
                let (code, reason) = match payload.len() {
                    0 => (1005, String::new()),
                    1 => return Model::Invalid,
                    _ => {
                        let code = u16::from_be_bytes([payload[0], payload[1]]);
                        let Ok(reason) = std::str::from_utf8(&payload[2..]) else {
                            return Model::Invalid;
                        };
                        if !crate::is_valid_close_code(code) {
                            return Model::Invalid;
                        }
                        (code, reason.to_owned())
                    }
                };
                events.push(Event::Closed { code, reason });
                // Nothing after the close is read.
                return Model::Valid(events);
            }
            GenOpcode::Continuation | GenOpcode::Text | GenOpcode::Binary => {
                let continuation = matches!(frame.opcode, GenOpcode::Continuation);
                if continuation != open.is_some() {
                    return Model::Invalid;
                }
                if len > config.max_frame_size {
                    return Model::Invalid;
                }
                let overhead = if continuation {
                    config.fragment_overhead as u64
                } else {
                    charge = 0;
                    0
                };
                charge += overhead + len as u64;
                if charge > config.max_message_size as u64 {
                    return Model::Invalid;
                }
                let (text, buf) =
                    open.get_or_insert((matches!(frame.opcode, GenOpcode::Text), Vec::new()));
                buf.extend_from_slice(&payload);
                if *text {
                    if let Err(e) = std::str::from_utf8(buf) {
                        if e.error_len().is_some() || frame.fin {
                            return Model::Invalid;
                        }
                    }
                }
                if frame.fin {
                    let Some((text, buf)) = open.take() else {
                        unreachable!("opened above");
                    };
                    events.push(if text {
                        Event::Text(buf.into())
                    } else {
                        Event::Binary(buf.into())
                    });
                }
            }
        }
    }
    Model::Valid(events)
}

/// Streaming pieces joined into whole messages, for comparison with the
/// model.
fn join_pieces(events: &[Event]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    for e in events {
        match e {
            Event::Data { kind, bytes, fin } => {
                buf.extend_from_slice(bytes);
                if *fin {
                    let data = std::mem::take(&mut buf).into();
                    out.push(match kind {
                        crate::MessageKind::Text => Event::Text(data),
                        crate::MessageKind::Binary => Event::Binary(data),
                    });
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// A byte-level edit of a valid sequence.
#[derive(Debug, Arbitrary)]
enum Mutation {
    Flip { at: u32, bits: u8 },
    Insert { at: u32, byte: u8 },
    Remove { at: u32 },
    Truncate { at: u32 },
}

fn mutate(bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    let at = |at: u32| usize::try_from(at).unwrap_or(0);
    apply_edits(
        bytes,
        mutations.iter().map(|m| match *m {
            Mutation::Flip { at: i, bits } => ByteEdit::Flip { at: at(i), bits },
            Mutation::Insert { at: i, byte } => ByteEdit::Insert { at: at(i), byte },
            Mutation::Remove { at: i } => ByteEdit::Remove { at: at(i) },
            Mutation::Truncate { at: i } => ByteEdit::Truncate { at: at(i) },
        }),
    )
}
