//! The Autobahn|Testsuite cases of sections 1 to 10 as data: what the
//! fuzzing peer sends and when, what it expects to receive, and how the
//! connection is expected to close.
//!
//! Written from the suite's published case descriptions (crossbario's
//! `autobahntestsuite/case/*.py` and the report texts): the frames,
//! payloads, chopping, waits, expected events and expected close behaviour
//! of each case. The semantics of the verdicts are in [`super::client`].

use std::time::Duration;

use super::wire::{OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};

/// How the bytes of one frame are handed to the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chop {
    /// Queued with whatever precedes and follows (one TCP write if it fits).
    Together,
    /// Written on its own (the suite's `sync=True`: "frame-wise chops").
    Alone,
    /// Written in pieces of this many bytes, each on its own ("octet-wise
    /// chops" when 1).
    Pieces(usize),
}

/// One thing the peer sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Send {
    /// One frame, masked, with any bits the case wants.
    Frame {
        /// FIN.
        fin: bool,
        /// The three reserved bits.
        rsv: u8,
        /// The opcode, reserved ones included.
        opcode: u8,
        /// The payload.
        payload: Vec<u8>,
        /// How it is written.
        chop: Chop,
    },
    /// A whole message split into frames of `fragment` bytes (the suite's
    /// `sendMessage(fragmentSize=..)` and auto-fragmentation). As in the
    /// suite, a payload that is a multiple of `fragment` bytes ends with an
    /// empty final frame: 4 MiB in 1 KiB fragments is 4097 frames.
    Message {
        /// Text or binary.
        opcode: u8,
        /// The payload.
        payload: Vec<u8>,
        /// Bytes per frame.
        fragment: usize,
    },
    /// Bytes `from..to` of the payload of one final text frame carrying
    /// `payload`, written alone; the frame header goes before the piece
    /// that starts at 0, and the masking key runs on across pieces. This is
    /// one frame sent in several writes with waits in between (6.4.3).
    Piece {
        /// The whole frame payload.
        payload: Vec<u8>,
        /// Where this piece starts.
        from: usize,
        /// Where it ends.
        to: usize,
    },
    /// A close frame through the protocol (moves the peer to closing; only
    /// sent while open, as a second close is a frame the case sends with
    /// [`Send::Frame`]).
    Close {
        /// The code, if any.
        code: Option<u16>,
        /// The reason bytes, valid UTF-8 or not.
        reason: Vec<u8>,
    },
}

/// A step of a case's script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send something now.
    Send(Send),
    /// Wait, then go on only if the connection is still open; with a tag,
    /// record `("timeout", tag)` among the received events first.
    Later(Duration, Option<&'static str>),
    /// After this long, fail the connection if it is not closed yet.
    KillAfter(Duration),
    /// After this long, start a normal close if it is not closed yet.
    CloseAfter(Duration),
}

/// An event the peer records from the connection under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete message.
    Message {
        /// Binary or text.
        binary: bool,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// A ping and its payload.
    Ping(Vec<u8>),
    /// A pong and its payload.
    Pong(Vec<u8>),
    /// A wait of the script ended with the connection still open.
    Timeout(&'static str),
}

/// The verdicts of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// As expected.
    Ok,
    /// Acceptable, but not the strict behaviour.
    NonStrict,
    /// The outcome is not defined by the specification; recorded only.
    Informational,
    /// The close code was not one of the expected ones.
    WrongCode,
    /// The close was not clean where the specification requires it.
    Unclean,
    /// The peer under test left the TCP close to us.
    FailedByClient,
    /// Wrong.
    Failed,
}

impl Verdict {
    /// The suite's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::NonStrict => "NON-STRICT",
            Self::Informational => "INFORMATIONAL",
            Self::WrongCode => "WRONG CODE",
            Self::Unclean => "UNCLEAN",
            Self::FailedByClient => "FAILED BY CLIENT",
            Self::Failed => "FAILED",
        }
    }
}

/// How the closing is expected to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedClose {
    /// Whether the fuzzing peer (we) starts the closing handshake.
    pub closed_by_me: bool,
    /// Acceptable close codes from the peer under test (none sent is also
    /// acceptable); the first is the one we close with.
    pub codes: Vec<u16>,
    /// Whether the closing handshake must complete.
    pub require_clean: bool,
}

/// How a case turns what happened into verdicts, beyond the general rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judge {
    /// The received events must equal one of the expected lists.
    Events,
    /// As [`Judge::Events`], and a WRONG CODE close also fails the behaviour.
    EventsWrongCodeFails,
    /// Whatever happens is recorded as INFORMATIONAL.
    Informational,
    /// One echoed message of this type and length is the pass (section 9),
    /// then we close; nothing within the time limit is a fail.
    Echo {
        /// Binary or text.
        binary: bool,
        /// The expected length.
        len: usize,
    },
    /// `count` round trips, one message at a time, each echoed with this
    /// type and length (9.7, 9.8).
    RoundTrips {
        /// Binary or text.
        binary: bool,
        /// Payload length.
        len: usize,
        /// How many.
        count: usize,
    },
}

/// One case.
#[derive(Debug, Clone)]
pub struct Case {
    /// `"6.4.3"`.
    pub id: String,
    /// What is sent, from the suite's description.
    pub description: String,
    /// What should happen, from the suite's description.
    pub expectation: String,
    /// The script.
    pub steps: Vec<Step>,
    /// Acceptable received-event lists, best first.
    pub expected: Vec<(Verdict, Vec<Event>)>,
    /// The expected close.
    pub close: ExpectedClose,
    /// When set, matching the expected events does not make us close (the
    /// case deliberately closes in its own way).
    pub suppress_close: bool,
    /// How verdicts are computed.
    pub judge: Judge,
}

/// Section 9 sizes: the suite's own, or bounded for CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    /// Exactly the suite's sizes (messages up to 16 MiB).
    Full,
    /// Messages of 9.1/9.2 capped at 4 MiB (so 9.1.5, 9.1.6, 9.2.5, 9.2.6
    /// repeat 9.1.4's size) and 9.7/9.8 with 100 round trips instead of
    /// 1000. 9.3/9.4 keep their 4 MiB messages, since the number of
    /// fragments is what they test.
    Bounded,
}

const SEC: Duration = Duration::from_secs(1);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], chop: Chop) -> Step {
    Step::Send(Send::Frame {
        fin,
        rsv,
        opcode,
        payload: payload.to_vec(),
        chop,
    })
}

fn text(payload: &[u8]) -> Step {
    frame(true, 0, OP_TEXT, payload, Chop::Together)
}

fn msg(binary: bool, payload: &[u8]) -> Event {
    Event::Message {
        binary,
        payload: payload.to_vec(),
    }
}

fn clean_normal() -> ExpectedClose {
    ExpectedClose {
        closed_by_me: true,
        codes: vec![1000],
        require_clean: true,
    }
}

fn failed_by_peer(code: u16) -> ExpectedClose {
    ExpectedClose {
        closed_by_me: false,
        codes: vec![code],
        require_clean: false,
    }
}

/// `payload` repeated to `len` bytes (the suite's `payload_len`).
fn repeat_to(payload: &[u8], len: usize) -> Vec<u8> {
    payload.iter().copied().cycle().take(len).collect()
}

struct Builder {
    cases: Vec<Case>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        id: impl Into<String>,
        description: impl Into<String>,
        expectation: impl Into<String>,
        steps: Vec<Step>,
        expected: Vec<(Verdict, Vec<Event>)>,
        close: ExpectedClose,
    ) -> &mut Case {
        self.cases.push(Case {
            id: id.into(),
            description: description.into(),
            expectation: expectation.into(),
            steps,
            expected,
            close,
            suppress_close: false,
            judge: Judge::Events,
        });
        self.cases.last_mut().expect("just pushed")
    }
}

/// Every case of sections 1 to 10, in catalogue order.
#[must_use]
pub fn all(sizes: Sizes) -> Vec<Case> {
    let mut b = Builder { cases: Vec::new() };
    section1(&mut b);
    section2(&mut b);
    section3(&mut b);
    section4(&mut b);
    section5(&mut b);
    section6(&mut b);
    section7(&mut b);
    section9(&mut b, sizes);
    section10(&mut b);
    b.cases
}

fn section1(b: &mut Builder) {
    let lens = [0usize, 125, 126, 127, 128, 65535, 65536, 65536];
    for (binary, group, opcode, fill) in [
        (false, "1.1", OP_TEXT, b'*'),
        (true, "1.2", OP_BINARY, 0xFE),
    ] {
        for (i, &len) in lens.iter().enumerate() {
            let payload = vec![fill; len];
            let chopped = i == 7;
            let chop = if chopped {
                Chop::Pieces(997)
            } else {
                Chop::Together
            };
            let kind = if binary { "binary" } else { "text" };
            let description = if chopped {
                format!(
                    "Send {kind} message message with payload of length {len}. Sent out data in chops of 997 octets."
                )
            } else {
                format!("Send {kind} message with payload of length {len}.")
            };
            let kill = if len >= 65535 { 10.0 } else { 1.0 };
            b.add(
                format!("{group}.{}", i + 1),
                description,
                format!("Receive echo'ed {kind} message (with payload as sent). Clean close with normal code."),
                vec![frame(true, 0, opcode, &payload, chop), Step::KillAfter(secs(kill))],
                vec![(Verdict::Ok, vec![msg(binary, &payload)])],
                clean_normal(),
            );
        }
    }
}

fn section2(b: &mut Builder) {
    let pong_cases: [(&str, Vec<u8>, Chop); 4] = [
        ("Send ping without payload.", Vec::new(), Chop::Together),
        (
            "Send ping with small text payload.",
            b"Hello, world!".to_vec(),
            Chop::Together,
        ),
        (
            "Send ping with small binary (non UTF-8) payload.",
            b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff".to_vec(),
            Chop::Together,
        ),
        (
            "Send ping with binary payload of 125 octets.",
            vec![0xFE; 125],
            Chop::Together,
        ),
    ];
    for (i, (description, payload, chop)) in pong_cases.into_iter().enumerate() {
        b.add(
            format!("2.{}", i + 1),
            description,
            "Pong (with payload as sent) is received. Clean close with normal code.",
            vec![
                frame(true, 0, OP_PING, &payload, chop),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![Event::Pong(payload.clone())])],
            clean_normal(),
        );
    }
    b.add(
        "2.5",
        "Send ping with binary payload of 126 octets.",
        "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets.",
        vec![frame(true, 0, OP_PING, &[0xFE; 126], Chop::Together), Step::KillAfter(SEC)],
        vec![(Verdict::Ok, vec![])],
        failed_by_peer(1002),
    );
    let payload = vec![0xFE; 125];
    b.add(
        "2.6",
        "Send ping with binary payload of 125 octets, send in octet-wise chops.",
        "Pong (with payload as sent) is received. Clean close with normal code.",
        vec![
            frame(true, 0, OP_PING, &payload, Chop::Pieces(1)),
            Step::KillAfter(secs(2.0)),
        ],
        vec![(Verdict::Ok, vec![Event::Pong(payload)])],
        clean_normal(),
    );
    b.add(
        "2.7",
        "Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.",
        "Nothing.",
        vec![frame(true, 0, OP_PONG, b"", Chop::Together), Step::CloseAfter(SEC)],
        vec![(Verdict::Ok, vec![])],
        clean_normal(),
    );
    b.add(
        "2.8",
        "Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.",
        "Nothing.",
        vec![frame(true, 0, OP_PONG, b"unsolicited pong payload", Chop::Together), Step::CloseAfter(SEC)],
        vec![(Verdict::Ok, vec![])],
        clean_normal(),
    );
    b.add(
        "2.9",
        "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
        "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. Clean close with normal code.",
        vec![
            frame(true, 0, OP_PONG, b"unsolicited pong payload", Chop::Together),
            frame(true, 0, OP_PING, b"ping payload", Chop::Together),
            Step::KillAfter(SEC),
        ],
        vec![(Verdict::Ok, vec![Event::Pong(b"ping payload".to_vec())])],
        clean_normal(),
    );
    for (id, chop, how) in [
        ("2.10", Chop::Together, ""),
        (
            "2.11",
            Chop::Pieces(1),
            " Send out octets in octet-wise chops.",
        ),
    ] {
        let payloads: Vec<Vec<u8>> = (0..10)
            .map(|i| format!("payload-{i}").into_bytes())
            .collect();
        let mut steps: Vec<Step> = payloads
            .iter()
            .map(|p| frame(true, 0, OP_PING, p, chop))
            .collect();
        steps.push(Step::KillAfter(secs(3.0)));
        b.add(
            id,
            format!("Send 10 Pings with payload.{how}"),
            "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.",
            steps,
            vec![(Verdict::Ok, payloads.into_iter().map(Event::Pong).collect())],
            clean_normal(),
        );
    }
}

fn section3(b: &mut Builder) {
    let fail = "The connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated.";
    b.add(
        "3.1",
        "Send small text message with RSV = 1.",
        fail,
        vec![
            frame(true, 1, OP_TEXT, b"Hello, world!", Chop::Together),
            Step::KillAfter(SEC),
        ],
        vec![(Verdict::Ok, vec![])],
        failed_by_peer(1002),
    );
    for (id, rsv, chop, how) in [
        ("3.2", 2, Chop::Together, ""),
        (
            "3.3",
            3,
            Chop::Alone,
            " Octets are sent in frame-wise chops.",
        ),
        (
            "3.4",
            4,
            Chop::Pieces(1),
            " Octets are sent in octet-wise chops.",
        ),
    ] {
        b.add(
            id,
            format!("Send small text message, then send again with RSV = {rsv}, then send Ping.{how}"),
            "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
            vec![
                frame(true, 0, OP_TEXT, b"Hello, world!", chop),
                frame(true, rsv, OP_TEXT, b"Hello, world!", chop),
                frame(true, 0, OP_PING, b"", chop),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![msg(false, b"Hello, world!")]), (Verdict::NonStrict, vec![])],
            failed_by_peer(1002),
        );
    }
    for (id, rsv, opcode, payload, what) in [
        (
            "3.5",
            5u8,
            OP_BINARY,
            &b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"[..],
            "small binary message",
        ),
        ("3.6", 6, OP_PING, &b"Hello, world!"[..], "Ping"),
        ("3.7", 7, OP_CLOSE, &[0x03, 0xE8][..], "Close"),
    ] {
        b.add(
            id,
            format!("Send {what} with RSV = {rsv}."),
            fail,
            vec![
                frame(true, rsv, opcode, payload, Chop::Together),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![])],
            failed_by_peer(1002),
        );
    }
}

fn section4(b: &mut Builder) {
    for (group, kind, base) in [("4.1", "non-control", 3u8), ("4.2", "control", 11u8)] {
        let fail = "The connection is failed immediately.";
        b.add(
            format!("{group}.1"),
            format!("Send frame with reserved {kind} Opcode = {base}."),
            fail,
            vec![
                frame(true, 0, base, b"", Chop::Together),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![])],
            failed_by_peer(1002),
        );
        b.add(
            format!("{group}.2"),
            format!(
                "Send frame with reserved {kind} Opcode = {} and non-empty payload.",
                base + 1
            ),
            fail,
            vec![
                frame(
                    true,
                    0,
                    base + 1,
                    b"reserved opcode payload",
                    Chop::Together,
                ),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![])],
            failed_by_peer(1002),
        );
        for n in 3..=5u8 {
            let opcode = base + n - 1;
            let payload: &[u8] = if n == 3 {
                b""
            } else {
                b"reserved opcode payload"
            };
            let with = if n == 3 { "" } else { " and non-empty payload" };
            b.add(
                format!("{group}.{n}"),
                format!("Send small text message, then send frame with reserved {kind} Opcode = {opcode}{with}, then send Ping."),
                "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
                vec![
                    text(b"Hello, world!"),
                    frame(true, 0, opcode, payload, Chop::Together),
                    frame(true, 0, OP_PING, b"", Chop::Together),
                    Step::KillAfter(SEC),
                ],
                vec![(Verdict::Ok, vec![msg(false, b"Hello, world!")]), (Verdict::NonStrict, vec![])],
                failed_by_peer(1002),
            );
        }
    }
}

#[allow(clippy::too_many_lines)]
fn section5(b: &mut Builder) {
    let fail =
        "The connection is failed immediately, since all control frames MUST NOT be fragmented.";
    for (id, opcode, what) in [("5.1", OP_PING, "Ping"), ("5.2", OP_PONG, "Pong")] {
        b.add(
            id,
            format!("Send {what} fragmented into 2 fragments."),
            fail,
            vec![
                frame(false, 0, opcode, b"fragment1", Chop::Together),
                frame(true, 0, OP_CONTINUATION, b"fragment2", Chop::Together),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![])],
            failed_by_peer(1002),
        );
    }
    let chops = [
        (Chop::Together, ""),
        (Chop::Alone, ", octets are sent in frame-wise chops"),
        (Chop::Pieces(1), ", octets are sent in octet-wise chops"),
    ];
    for (i, (chop, how)) in chops.iter().enumerate() {
        b.add(
            format!("5.{}", 3 + i),
            format!("Send text Message fragmented into 2 fragments{how}."),
            "Message is processed and echo'ed back to us. Clean close with normal code.",
            vec![
                frame(false, 0, OP_TEXT, b"fragment1", *chop),
                frame(true, 0, OP_CONTINUATION, b"fragment2", *chop),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![msg(false, b"fragment1fragment2")])],
            clean_normal(),
        );
    }
    for (i, (chop, how)) in chops.iter().enumerate() {
        b.add(
            format!("5.{}", 6 + i),
            format!("Send text Message fragmented into 2 fragments, one ping with payload in-between{how}."),
            "A pong is received, then the message is echo'ed back to us. Clean close with normal code.",
            vec![
                frame(false, 0, OP_TEXT, b"fragment1", *chop),
                frame(true, 0, OP_PING, b"pongme!", *chop),
                frame(true, 0, OP_CONTINUATION, b"fragment2", *chop),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![Event::Pong(b"pongme!".to_vec()), msg(false, b"fragment1fragment2")])],
            clean_normal(),
        );
    }
    let chop_names = [
        (Chop::Together, "sent in one chop"),
        (Chop::Alone, "sent in per-frame chops"),
        (Chop::Pieces(1), "sent in octet-wise chops"),
    ];
    for (i, (chop, how)) in chop_names.iter().enumerate() {
        b.add(
            format!("5.{}", 9 + i),
            format!("Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, {how}."),
            "The connection is failed immediately, since there is no message to continue.",
            vec![
                frame(true, 0, OP_CONTINUATION, b"non-continuation payload", *chop),
                frame(true, 0, OP_TEXT, b"Hello, world!", *chop),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![])],
            failed_by_peer(1002),
        );
    }
    for (i, (chop, how)) in chop_names.iter().enumerate() {
        b.add(
            format!("5.{}", 12 + i),
            format!("Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, {how}."),
            "The connection is failed immediately, since there is no message to continue.",
            vec![
                frame(false, 0, OP_CONTINUATION, b"non-continuation payload", *chop),
                frame(true, 0, OP_TEXT, b"Hello, world!", *chop),
                Step::KillAfter(SEC),
            ],
            vec![(Verdict::Ok, vec![])],
            failed_by_peer(1002),
        );
    }
    b.add(
        "5.15",
        "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.",
        "The first message is echo'ed back to us; then the connection is failed immediately, since there is no message to continue.",
        vec![
            frame(false, 0, OP_TEXT, b"fragment1", Chop::Together),
            frame(true, 0, OP_CONTINUATION, b"fragment2", Chop::Together),
            frame(false, 0, OP_CONTINUATION, b"fragment3", Chop::Together),
            frame(true, 0, OP_TEXT, b"fragment4", Chop::Together),
            Step::KillAfter(SEC),
        ],
        vec![(Verdict::Ok, vec![msg(false, b"fragment1fragment2")]), (Verdict::NonStrict, vec![])],
        failed_by_peer(1002),
    );
    for (id, first_fin) in [("5.16", false), ("5.17", true)] {
        let mut steps = Vec::new();
        for _ in 0..2 {
            steps.push(frame(
                first_fin,
                0,
                OP_CONTINUATION,
                b"fragment1",
                Chop::Together,
            ));
            steps.push(frame(false, 0, OP_TEXT, b"fragment2", Chop::Together));
            steps.push(frame(
                true,
                0,
                OP_CONTINUATION,
                b"fragment3",
                Chop::Together,
            ));
        }
        steps.push(Step::KillAfter(SEC));
        let fin = if first_fin { "true" } else { "false" };
        b.add(
            id,
            format!("Repeated 2x: Continuation Frame with FIN = {fin} (where there is nothing to continue), then text Message fragmented into 2 fragments."),
            "The connection is failed immediately, since there is no message to continue.",
            steps,
            vec![(Verdict::Ok, vec![])],
            failed_by_peer(1002),
        );
    }
    b.add(
        "5.18",
        "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.",
        "The connection is failed immediately, since all data frames after the initial data frame must have opcode 0.",
        vec![
            frame(false, 0, OP_TEXT, b"fragment1", Chop::Together),
            frame(true, 0, OP_TEXT, b"fragment2", Chop::Together),
            Step::KillAfter(SEC),
        ],
        vec![(Verdict::Ok, vec![])],
        failed_by_peer(1002),
    );
    for (id, chop, how) in [
        ("5.19", Chop::Together, ""),
        ("5.20", Chop::Alone, " Frames are sent in frame-wise chops."),
    ] {
        b.add(
            id,
            format!("A fragmented text message is sent in multiple frames. After sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s, then we send 2 more text fragments, another Ping and then the final text fragment. Everything is legal.{how}"),
            "The peer immediately answers the first Ping before it has received the last text message fragment. The peer pong's back the Ping's payload exactly, and echo's the payload of the fragmented message back to us.",
            vec![
                frame(false, 0, OP_TEXT, b"fragment1", chop),
                frame(false, 0, OP_CONTINUATION, b"fragment2", chop),
                frame(true, 0, OP_PING, b"pongme 1!", chop),
                Step::Later(SEC, None),
                frame(false, 0, OP_CONTINUATION, b"fragment3", chop),
                frame(false, 0, OP_CONTINUATION, b"fragment4", chop),
                frame(true, 0, OP_PING, b"pongme 2!", chop),
                frame(true, 0, OP_CONTINUATION, b"fragment5", chop),
                Step::CloseAfter(SEC),
            ],
            vec![(
                Verdict::Ok,
                vec![
                    Event::Pong(b"pongme 1!".to_vec()),
                    Event::Pong(b"pongme 2!".to_vec()),
                    msg(false, b"fragment1fragment2fragment3fragment4fragment5"),
                ],
            )],
            clean_normal(),
        );
    }
}

/// A UTF-8 test payload and whether it is valid.
pub type Utf8Sample = (bool, Vec<u8>);

/// The UTF-8 sequences of 6.5 to 6.23 (Markus Kuhn's UTF-8 decoder
/// capability and stress test, as the suite groups it), each with whether it
/// is valid.
#[must_use]
pub fn utf8_groups() -> Vec<(&'static str, Vec<Utf8Sample>)> {
    let v = |bytes: &[u8]| (true, bytes.to_vec());
    let x = |bytes: &[u8]| (false, bytes.to_vec());
    let kosme: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    let mut groups = Vec::new();
    groups.push((
        "Some valid UTF-8 sequences",
        vec![
            v(b"hello\x24world"),
            v(b"hello\xc2\xa2world"),
            v(b"hello\xe2\x82\xacworld"),
            v(b"hello\xf0\xa4\xad\xa2world"),
            v(kosme),
        ],
    ));
    groups.push((
        "All prefixes of a valid UTF-8 string that contains multi-byte code points",
        (1..=kosme.len())
            .map(|n| {
                (
                    std::str::from_utf8(&kosme[..n]).is_ok(),
                    kosme[..n].to_vec(),
                )
            })
            .collect(),
    ));
    groups.push((
        "First possible sequence of a certain length",
        vec![
            v(b"\x00"),
            v(b"\xc2\x80"),
            v(b"\xe0\xa0\x80"),
            v(b"\xf0\x90\x80\x80"),
        ],
    ));
    groups.push((
        "First possible sequence length 5/6 (invalid codepoints)",
        vec![x(b"\xf8\x88\x80\x80\x80"), x(b"\xfc\x84\x80\x80\x80\x80")],
    ));
    groups.push((
        "Last possible sequence of a certain length",
        vec![
            v(b"\x7f"),
            v(b"\xdf\xbf"),
            v(b"\xef\xbf\xbf"),
            v(b"\xf4\x8f\xbf\xbf"),
        ],
    ));
    groups.push((
        "Last possible sequence length 4/5/6 (invalid codepoints)",
        vec![
            x(b"\xf7\xbf\xbf\xbf"),
            x(b"\xfb\xbf\xbf\xbf\xbf"),
            x(b"\xfd\xbf\xbf\xbf\xbf\xbf"),
        ],
    ));
    groups.push((
        "Other boundary conditions",
        vec![
            v(b"\xed\x9f\xbf"),
            v(b"\xee\x80\x80"),
            v(b"\xef\xbf\xbd"),
            v(b"\xf4\x8f\xbf\xbf"),
            x(b"\xf4\x90\x80\x80"),
        ],
    ));
    groups.push((
        "Unexpected continuation bytes",
        vec![
            x(b"\x80"),
            x(b"\xbf"),
            x(b"\x80\xbf"),
            x(b"\x80\xbf\x80"),
            x(b"\x80\xbf\x80\xbf"),
            x(b"\x80\xbf\x80\xbf\x80"),
            x(b"\x80\xbf\x80\xbf\x80\xbf"),
            (false, (0x80..0xBF).collect()),
        ],
    ));
    groups.push((
        "Lonely start characters",
        [
            (0xC0u8, 0xDFu8),
            (0xE0, 0xEF),
            (0xF0, 0xF7),
            (0xF8, 0xFB),
            (0xFC, 0xFD),
        ]
        .iter()
        .map(|&(lo, hi)| (false, (lo..hi).flat_map(|c| [c, 0x20]).collect()))
        .collect(),
    ));
    let missing: [&[u8]; 10] = [
        b"\xc0",
        b"\xe0\x80",
        b"\xf0\x80\x80",
        b"\xf8\x80\x80\x80",
        b"\xfc\x80\x80\x80\x80",
        b"\xdf",
        b"\xef\xbf",
        b"\xf7\xbf\xbf",
        b"\xfb\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf",
    ];
    groups.push((
        "Sequences with last continuation byte missing",
        missing.iter().map(|m| x(m)).collect(),
    ));
    groups.push((
        "Concatenation of incomplete sequences",
        vec![(false, missing.concat())],
    ));
    groups.push((
        "Impossible bytes",
        vec![x(b"\xfe"), x(b"\xff"), x(b"\xfe\xfe\xff\xff")],
    ));
    groups.push((
        "Examples of an overlong ASCII character",
        vec![
            x(b"\xc0\xaf"),
            x(b"\xe0\x80\xaf"),
            x(b"\xf0\x80\x80\xaf"),
            x(b"\xf8\x80\x80\x80\xaf"),
            x(b"\xfc\x80\x80\x80\x80\xaf"),
        ],
    ));
    groups.push((
        "Maximum overlong sequences",
        vec![
            x(b"\xc1\xbf"),
            x(b"\xe0\x9f\xbf"),
            x(b"\xf0\x8f\xbf\xbf"),
            x(b"\xf8\x87\xbf\xbf\xbf"),
            x(b"\xfc\x83\xbf\xbf\xbf\xbf"),
        ],
    ));
    groups.push((
        "Overlong representation of the NUL character",
        vec![
            x(b"\xc0\x80"),
            x(b"\xe0\x80\x80"),
            x(b"\xf0\x80\x80\x80"),
            x(b"\xf8\x80\x80\x80\x80"),
            x(b"\xfc\x80\x80\x80\x80\x80"),
        ],
    ));
    groups.push((
        "Single UTF-16 surrogates",
        vec![
            x(b"\xed\xa0\x80"),
            x(b"\xed\xad\xbf"),
            x(b"\xed\xae\x80"),
            x(b"\xed\xaf\xbf"),
            x(b"\xed\xb0\x80"),
            x(b"\xed\xbe\x80"),
            x(b"\xed\xbf\xbf"),
        ],
    ));
    groups.push((
        "Paired UTF-16 surrogates",
        vec![
            x(b"\xed\xa0\x80\xed\xb0\x80"),
            x(b"\xed\xa0\x80\xed\xbf\xbf"),
            x(b"\xed\xad\xbf\xed\xb0\x80"),
            x(b"\xed\xad\xbf\xed\xbf\xbf"),
            x(b"\xed\xae\x80\xed\xb0\x80"),
            x(b"\xed\xae\x80\xed\xbf\xbf"),
            x(b"\xed\xaf\xbf\xed\xb0\x80"),
            x(b"\xed\xaf\xbf\xed\xbf\xbf"),
        ],
    ));
    let mut nonchars = vec![v(b"\xef\xbf\xbe"), v(b"\xef\xbf\xbf")];
    for z1 in [0xF0u8, 0xF1, 0xF2, 0xF3, 0xF4] {
        for z2 in [0x8Fu8, 0x9F, 0xAF, 0xBF] {
            if z1 == 0xF4 && z2 != 0x8F {
                continue; // above U+10FFFF
            }
            for z3 in [0xBEu8, 0xBF] {
                if z1 == 0xF0 && z2 == 0x8F {
                    continue; // overlong
                }
                nonchars.push(v(&[z1, z2, 0xBF, z3]));
            }
        }
    }
    groups.push(("Non-character code points (valid UTF-8)", nonchars));
    groups.push((
        "Unicode specials (i.e. replacement char)",
        (0xB9..=0xBFu8).map(|c| v(&[0xEF, 0xBF, c])).collect(),
    ));
    groups
}

#[allow(clippy::too_many_lines)]
fn section6(b: &mut Builder) {
    let invalid = failed_by_peer(1007);
    let fast = || Step::KillAfter(secs(0.5));
    b.add(
        "6.1.1",
        "Send text message of length 0.",
        "A message is echo'ed back to us (with empty payload).",
        vec![text(b""), fast()],
        vec![(Verdict::Ok, vec![msg(false, b"")])],
        clean_normal(),
    );
    b.add(
        "6.1.2",
        "Send fragmented text message, 3 fragments each of length 0.",
        "A message is echo'ed back to us (with empty payload).",
        vec![
            frame(false, 0, OP_TEXT, b"", Chop::Together),
            frame(false, 0, OP_CONTINUATION, b"", Chop::Together),
            frame(true, 0, OP_CONTINUATION, b"", Chop::Together),
            fast(),
        ],
        vec![(Verdict::Ok, vec![msg(false, b"")])],
        clean_normal(),
    );
    b.add(
        "6.1.3",
        "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
        "A message is echo'ed back to us (with payload = payload of middle fragment).",
        vec![
            frame(false, 0, OP_TEXT, b"", Chop::Together),
            frame(
                false,
                0,
                OP_CONTINUATION,
                b"middle frame payload",
                Chop::Together,
            ),
            frame(true, 0, OP_CONTINUATION, b"", Chop::Together),
            fast(),
        ],
        vec![(Verdict::Ok, vec![msg(false, b"middle frame payload")])],
        clean_normal(),
    );
    let hello = "Hello-\u{b5}@\u{df}\u{f6}\u{e4}\u{fc}\u{e0}\u{e1}-UTF-8!!"
        .as_bytes()
        .to_vec();
    b.add(
        "6.2.1",
        "Send a valid UTF-8 text message in one fragment.",
        "The message is echo'ed back to us.",
        vec![text(&hello), fast()],
        vec![(Verdict::Ok, vec![msg(false, &hello)])],
        clean_normal(),
    );
    let cut = "Hello-\u{b5}@\u{df}\u{f6}\u{e4}".len();
    b.add(
        "6.2.2",
        "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.",
        "The message is echo'ed back to us.",
        vec![
            frame(false, 0, OP_TEXT, &hello[..cut], Chop::Together),
            frame(true, 0, OP_CONTINUATION, &hello[cut..], Chop::Together),
            fast(),
        ],
        vec![(Verdict::Ok, vec![msg(false, &hello)])],
        clean_normal(),
    );
    let kosme: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    for (id, payload, what) in [
        (
            "6.2.3",
            hello.as_slice(),
            "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.",
        ),
        (
            "6.2.4",
            kosme,
            "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.",
        ),
    ] {
        b.add(
            id,
            what,
            "The message is echo'ed back to us.",
            vec![
                Step::Send(Send::Message {
                    opcode: OP_TEXT,
                    payload: payload.to_vec(),
                    fragment: 1,
                }),
                fast(),
            ],
            vec![(Verdict::Ok, vec![msg(false, payload)])],
            clean_normal(),
        );
    }
    let bad: Vec<u8> = [kosme, b"\xed\xa0\x80", b"\x65\x64\x69\x74\x65\x64"].concat();
    b.add(
        "6.3.1",
        "Send invalid UTF-8 text message unfragmented.",
        "The connection is failed immediately, since the payload is not valid UTF-8.",
        vec![text(&bad), fast()],
        vec![(Verdict::Ok, vec![])],
        invalid.clone(),
    );
    b.add(
        "6.3.2",
        "Send invalid UTF-8 text message in fragments of 1 octet.",
        "The connection is failed immediately, since the payload is not valid UTF-8.",
        vec![
            Step::Send(Send::Message {
                opcode: OP_TEXT,
                payload: bad,
                fragment: 1,
            }),
            fast(),
        ],
        vec![(Verdict::Ok, vec![])],
        invalid.clone(),
    );
    section6_4(b);
    for (g, (name, seqs)) in utf8_groups().into_iter().enumerate() {
        for (i, (valid, payload)) in seqs.into_iter().enumerate() {
            let id = format!("6.{}.{}", g + 5, i + 1);
            let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
            if valid {
                b.add(
                    id,
                    format!("{name}: send a text message with payload which is valid UTF-8 in one fragment. Payload: 0x{hex}"),
                    "The message is echo'ed back to us.",
                    vec![text(&payload), fast()],
                    vec![(Verdict::Ok, vec![msg(false, &payload)])],
                    clean_normal(),
                );
            } else {
                b.add(
                    id,
                    format!("{name}: send a text message with payload which is not valid UTF-8 in one fragment. Payload: 0x{hex}"),
                    "The connection is failed immediately, since the payload is not valid UTF-8.",
                    vec![text(&payload), fast()],
                    vec![(Verdict::Ok, vec![])],
                    invalid.clone(),
                );
            }
        }
    }
}

/// 6.4.x: fail fast on UTF-8. A valid prefix, a wait, the invalid bytes, a
/// wait, the rest. Failing on the second part is OK; failing only at the
/// end of the message is NON-STRICT.
fn section6_4(b: &mut Builder) {
    let p1: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    let p2: &[u8] = b"\xf4\x90\x80\x80";
    let p3: &[u8] = b"\x65\x64\x69\x74\x65\x64";
    let whole = [p1, p2, p3].concat();
    let splits = [(p1.len(), p1.len() + p2.len()), (12, 13)];
    let expected = vec![
        (Verdict::Ok, vec![Event::Timeout("A")]),
        (
            Verdict::NonStrict,
            vec![Event::Timeout("A"), Event::Timeout("B")],
        ),
    ];
    let expectation = "The first part is accepted, we expect to timeout on the first wait. The 2nd part should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.";
    for (n, (a, c)) in splits.iter().enumerate() {
        let parts = [&whole[..*a], &whole[*a..*c], &whole[*c..]];
        // 6.4.1 / 6.4.2: three frames.
        b.add(
            format!("6.4.{}", n + 1),
            format!(
                "Send invalid UTF-8 text message in 3 fragments (frames). First frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest. PART1 = {}, PART2 = {}, PART3 = {}",
                hex(parts[0]), hex(parts[1]), hex(parts[2])
            ),
            expectation,
            vec![
                frame(false, 0, OP_TEXT, parts[0], Chop::Together),
                Step::Later(SEC, Some("A")),
                frame(false, 0, OP_CONTINUATION, parts[1], Chop::Together),
                Step::Later(SEC, Some("B")),
                frame(true, 0, OP_CONTINUATION, parts[2], Chop::Together),
                Step::KillAfter(SEC),
            ],
            expected.clone(),
            failed_by_peer(1007),
        );
    }
    for (n, (a, c)) in splits.iter().enumerate() {
        // 6.4.3 / 6.4.4: one frame, written in three chops; the masked
        // bytes are produced by the runner (see `Send::Piece`).
        b.add(
            format!("6.4.{}", n + 3),
            format!(
                "Same as Case 6.4.{}, but we send message not in 3 frames, but in 3 chops of the same message frame. PART1 = {}, PART2 = {}, PART3 = {}",
                n + 1, hex(&whole[..*a]), hex(&whole[*a..*c]), hex(&whole[*c..])
            ),
            expectation,
            vec![
                piece(&whole, 0, *a),
                Step::Later(SEC, Some("A")),
                piece(&whole, *a, *c),
                Step::Later(SEC, Some("B")),
                piece(&whole, *c, whole.len()),
                Step::KillAfter(SEC),
            ],
            expected.clone(),
            failed_by_peer(1007),
        );
    }
}

fn piece(payload: &[u8], from: usize, to: usize) -> Step {
    Step::Send(Send::Piece {
        payload: payload.to_vec(),
        from,
        to,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[allow(clippy::too_many_lines)]
fn section7(b: &mut Builder) {
    let mut add = |id: &str,
                   description: &str,
                   expectation: &str,
                   steps: Vec<Step>,
                   expected: Vec<Event>,
                   close: ExpectedClose,
                   judge: Judge| {
        let case = b.add(
            id,
            description,
            expectation,
            steps,
            vec![(Verdict::Ok, expected)],
            close,
        );
        // 7.1.1 closes normally once the echo is back; the others close
        // (or not) their own way.
        case.suppress_close = id != "7.1.1";
        case.judge = judge;
    };
    let close = |code: u16, reason: &[u8]| {
        Step::Send(Send::Close {
            code: Some(code),
            reason: reason.to_vec(),
        })
    };
    let kill = Step::KillAfter(SEC);
    add(
        "7.1.1",
        "Send a message followed by a close frame",
        "Echoed message followed by clean close with normal code.",
        vec![text(b"Hello World!"), kill.clone()],
        vec![msg(false, b"Hello World!")],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.1.2",
        "Send two close frames",
        "Clean close with normal code. Second close frame ignored.",
        vec![
            close(1000, b""),
            frame(true, 0, OP_CLOSE, &[0x03, 0xE8], Chop::Together),
            kill.clone(),
        ],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.1.3",
        "Send a ping after close message",
        "Clean close with normal code, no pong.",
        vec![
            close(1000, b""),
            frame(true, 0, OP_PING, b"", Chop::Together),
            kill.clone(),
        ],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.1.4",
        "Send text message after sending a close frame",
        "Clean close with normal code. Text message ignored.",
        vec![close(1000, b""), text(b"Hello World!"), kill.clone()],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.1.5",
        "Send message fragment1 followed by close then fragment",
        "Clean close with normal code.",
        vec![
            frame(false, 0, OP_TEXT, b"fragment1", Chop::Together),
            close(1000, b""),
            frame(true, 0, OP_CONTINUATION, b"fragment2", Chop::Together),
            kill.clone(),
        ],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    let big = repeat_to(b"BAsd7&jh23", 256 << 10);
    add(
        "7.1.6",
        "Send 256K message followed by close then a ping",
        "Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially received.",
        vec![
            text(&big),
            text(b"Hello World!"),
            close(1000, b""),
            frame(true, 0, OP_PING, b"", Chop::Together),
            kill.clone(),
        ],
        vec![msg(false, b"Hello World!")],
        clean_normal(),
        Judge::Informational,
    );
    let protocol_error = ExpectedClose {
        closed_by_me: true,
        codes: vec![1002],
        require_clean: false,
    };
    add(
        "7.3.1",
        "Send a close frame with payload length 0 (no close code, no close reason)",
        "Clean close with normal code.",
        vec![
            Step::Send(Send::Close {
                code: None,
                reason: Vec::new(),
            }),
            kill.clone(),
        ],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.3.2",
        "Send a close frame with payload length 1",
        "Clean close with protocol error or drop TCP.",
        vec![
            Step::Send(Send::Close {
                code: None,
                reason: b"a".to_vec(),
            }),
            kill.clone(),
        ],
        vec![],
        protocol_error.clone(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.3.3",
        "Send a close frame with payload length 2 (regular close with a code)",
        "Clean close with normal code.",
        vec![close(1000, b""), kill.clone()],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.3.4",
        "Send close frame with close code and close reason",
        "Clean close with normal code.",
        vec![close(1000, b"Hello World!"), kill.clone()],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.3.5",
        "Send close frame with close code and close reason of maximum length (123)",
        "Clean close with normal code.",
        vec![close(1000, &[b'*'; 123]), kill.clone()],
        vec![],
        clean_normal(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.3.6",
        "Send close frame with close code and close reason which is too long (124) - total frame payload 126 octets",
        "Clean close with protocol error code or dropped TCP connection.",
        vec![close(1000, &[b'*'; 124]), kill.clone()],
        vec![],
        protocol_error.clone(),
        Judge::EventsWrongCodeFails,
    );
    add(
        "7.5.1",
        "Send a close frame with invalid UTF8 payload",
        "Clean close with protocol error or invalid utf8 code or dropped TCP.",
        vec![
            close(
                1000,
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
            ),
            kill.clone(),
        ],
        vec![],
        ExpectedClose {
            closed_by_me: true,
            codes: vec![1002, 1007],
            require_clean: false,
        },
        Judge::EventsWrongCodeFails,
    );
    for (i, code) in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ]
    .into_iter()
    .enumerate()
    {
        add(
            &format!("7.7.{}", i + 1),
            &format!("Send close with valid close code {code}"),
            "Clean close with normal or echoed code",
            vec![close(code, b""), kill.clone()],
            vec![],
            ExpectedClose {
                closed_by_me: true,
                codes: vec![1000, code],
                require_clean: true,
            },
            Judge::EventsWrongCodeFails,
        );
    }
    for (i, code) in [0u16, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999]
        .into_iter()
        .enumerate()
    {
        add(
            &format!("7.9.{}", i + 1),
            &format!("Send close with invalid close code {code}"),
            "Clean close with protocol error code or drop TCP",
            vec![close(code, b""), kill.clone()],
            vec![],
            protocol_error.clone(),
            Judge::EventsWrongCodeFails,
        );
    }
    for (id, sent, code) in [("7.13.1", "5000", 5000u16), ("7.13.2", "65536", 65535)] {
        add(
            id,
            &format!("Send close with close code {sent}"),
            "Actual events are undefined by the spec.",
            vec![close(code, b""), kill.clone()],
            vec![],
            ExpectedClose {
                closed_by_me: true,
                codes: vec![1000, code, 1002],
                require_clean: false,
            },
            Judge::Informational,
        );
    }
}

#[allow(clippy::too_many_lines)]
fn section9(b: &mut Builder, sizes: Sizes) {
    const MIB: usize = 1 << 20;
    let cap = |len: usize| match sizes {
        Sizes::Full => len,
        Sizes::Bounded => len.min(4 * MIB),
    };
    let single = [
        (64 << 10, "64 * 2**10 (64k)", 10.0),
        (256 << 10, "256 * 2**10 (256k)", 10.0),
        (MIB, "1 * 2**20 (1M)", 20.0),
        (4 * MIB, "4 * 2**20 (4M)", 40.0),
        (8 * MIB, "8 * 2**20 (8M)", 80.0),
        (16 * MIB, "16 * 2**20 (16M)", 160.0),
    ];
    for (group, binary) in [("9.1", false), ("9.2", true)] {
        for (i, (len, name, wait)) in single.iter().enumerate() {
            let len = cap(*len);
            let (opcode, seed, kind): (u8, &[u8], &str) = if binary {
                (OP_BINARY, b"\xfe\x00\x01\x80", "binary")
            } else {
                (OP_TEXT, b"BAsd7&jh23", "text")
            };
            let case = b.add(
                format!("{group}.{}", i + 1),
                format!(
                    "Send {kind} message message with payload of length {name}{}.",
                    bounded_note(len, name)
                ),
                format!("Receive echo'ed {kind} message (with payload as sent)."),
                vec![
                    frame(true, 0, opcode, &repeat_to(seed, len), Chop::Together),
                    Step::CloseAfter(secs(*wait)),
                ],
                vec![],
                clean_normal(),
            );
            case.judge = Judge::Echo { binary, len };
        }
    }
    let frags = [
        (64, "64"),
        (256, "256"),
        (1 << 10, "1k"),
        (4 << 10, "4k"),
        (16 << 10, "16k"),
        (64 << 10, "64k"),
        (256 << 10, "256k"),
        (MIB, "1M"),
        (4 * MIB, "4M"),
    ];
    for (group, binary) in [("9.3", false), ("9.4", true)] {
        for (i, (frag, name)) in frags.iter().enumerate() {
            let len = 4 * MIB;
            let (opcode, fill, kind) = if binary {
                (OP_BINARY, 0xFEu8, "binary")
            } else {
                (OP_TEXT, b'*', "text")
            };
            let case = b.add(
                format!("{group}.{}", i + 1),
                format!("Send fragmented {kind} message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of {name}."),
                format!("Receive echo'ed {kind} message (with payload as sent)."),
                vec![
                    Step::Send(Send::Message { opcode, payload: vec![fill; len], fragment: *frag }),
                    Step::CloseAfter(secs(100.0)),
                ],
                vec![],
                clean_normal(),
            );
            case.judge = Judge::Echo { binary, len };
        }
    }
    let chops = [64usize, 128, 256, 512, 1024, 2048];
    for (group, binary) in [("9.5", false), ("9.6", true)] {
        for (i, chop) in chops.iter().enumerate() {
            let len = MIB;
            let (opcode, seed, kind): (u8, &[u8], &str) = if binary {
                (OP_BINARY, b"\xfe\x00\x01\x80", "binary")
            } else {
                (OP_TEXT, b"BAsd7&jh23", "text")
            };
            let case = b.add(
                format!("{group}.{}", i + 1),
                format!("Send {kind} message message with payload of length 1 * 2**20 (1M). Sent out data in chops of {chop} octets."),
                format!("Receive echo'ed {kind} message (with payload as sent)."),
                vec![frame(true, 0, opcode, &repeat_to(seed, len), Chop::Pieces(*chop)), Step::CloseAfter(secs(100.0))],
                vec![],
                clean_normal(),
            );
            case.judge = Judge::Echo { binary, len };
        }
    }
    let rtt = [
        (0usize, 60.0),
        (16, 60.0),
        (64, 60.0),
        (256, 120.0),
        (1024, 240.0),
        (4096, 480.0),
    ];
    let count = match sizes {
        Sizes::Full => 1000,
        Sizes::Bounded => 100,
    };
    for (group, binary) in [("9.7", false), ("9.8", true)] {
        for (i, (len, wait)) in rtt.iter().enumerate() {
            let kind = if binary { "binary" } else { "text" };
            let (opcode, fill) = if binary {
                (OP_BINARY, 0xFEu8)
            } else {
                (OP_TEXT, b'*')
            };
            let case = b.add(
                format!("{group}.{}", i + 1),
                format!("Send {count} {kind} messages of payload size {len} to measure implementation/network RTT (round trip time) / latency."),
                format!("Receive echo'ed {kind} messages (with payload as sent). Timeout case after {wait} secs."),
                vec![frame(true, 0, opcode, &vec![fill; *len], Chop::Together), Step::CloseAfter(secs(*wait))],
                vec![],
                clean_normal(),
            );
            case.judge = Judge::RoundTrips {
                binary,
                len: *len,
                count,
            };
        }
    }
}

fn bounded_note(len: usize, name: &str) -> String {
    let full: usize = match name.split(' ').next().and_then(|n| n.parse::<usize>().ok()) {
        Some(n) if name.contains("2**10") => n << 10,
        Some(n) => n << 20,
        None => len,
    };
    if full == len {
        String::new()
    } else {
        format!(" (bounded for CI to {len} bytes)")
    }
}

fn section10(b: &mut Builder) {
    let payload = vec![b'*'; 65536];
    b.add(
        "10.1.1",
        "Send text message with payload of length 65536 auto-fragmented with autoFragmentSize = 1300.",
        "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
        vec![
            Step::Send(Send::Message { opcode: OP_TEXT, payload: payload.clone(), fragment: 1300 }),
            Step::KillAfter(secs(10.0)),
        ],
        vec![(Verdict::Ok, vec![msg(false, &payload)])],
        clean_normal(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    #[test]
    fn the_cases_are_the_catalogue_in_order() {
        let ids: Vec<String> = all(Sizes::Bounded).into_iter().map(|c| c.id).collect();
        assert_eq!(ids, catalogue::case_ids());
    }

    #[test]
    fn utf8_groups_match_the_catalogue_counts_and_validity() {
        let groups = utf8_groups();
        let counts: Vec<usize> = groups.iter().map(|(_, s)| s.len()).collect();
        assert_eq!(
            counts,
            [5, 11, 4, 2, 4, 3, 5, 8, 5, 10, 1, 3, 5, 5, 5, 7, 8, 34, 7]
        );
        for (name, seqs) in groups {
            for (valid, bytes) in seqs {
                assert_eq!(
                    std::str::from_utf8(&bytes).is_ok(),
                    valid,
                    "{name}: {bytes:02x?}"
                );
            }
        }
    }

    #[test]
    fn bounded_sizes_only_shrink_section_9() {
        let full = all(Sizes::Full);
        let bounded = all(Sizes::Bounded);
        for (f, b) in full.iter().zip(&bounded) {
            if !f.id.starts_with("9.") {
                assert_eq!(f.steps, b.steps, "{}", f.id);
            }
        }
        let size =
            |cases: &[Case], id: &str| match &cases.iter().find(|c| c.id == id).unwrap().judge {
                Judge::Echo { len, .. } => *len,
                other => panic!("{other:?}"),
            };
        assert_eq!(size(&full, "9.1.6"), 16 << 20);
        assert_eq!(size(&bounded, "9.1.6"), 4 << 20);
        assert_eq!(size(&bounded, "9.3.1"), 4 << 20);
    }
}
