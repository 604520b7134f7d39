//! One case played over an open WebSocket connection, in either role, and
//! judged the way the Autobahn|Testsuite does.
//!
//! The suite runs the same case code in both of its modes: as the fuzzing
//! client (`fuzzingclient`, testing servers; [`super::client`]) and as the
//! fuzzing server (`fuzzingserver`, testing clients; [`super::server`]).
//! So does this module; the [`Role`] decides only what RFC 6455 makes
//! depend on it: whether our frames are masked, whether the peer's must be,
//! and who drops TCP after the closing handshake.
//!
//! The bookkeeping follows the suite's peer (`case.py` and its protocol):
//!
//! - `closedByMe`: we sent the first close frame (a case closing, a
//!   `killAfter` failing the connection, or our reader failing it on a
//!   violation by the peer);
//! - `wasClean`: a close frame went both ways;
//! - `droppedByMe`: we closed the TCP connection (as a client: the peer did
//!   not answer our close within the close-handshake timeout, or did not
//!   drop TCP within the server-drop timeout after the handshake; as a
//!   server: always, since a server drops TCP once the handshake is done);
//! - `remoteCloseCode`: the code in the peer's close frame, if any.
//!
//! `behavior` is the first expected event list that equals what was
//! received (`OK`, then `NON-STRICT`), else `FAILED`. `behaviorClose` is, in
//! this order: `FAILED` if the wrong endpoint started the close, `UNCLEAN` if
//! the case requires a clean close and it was not, `WRONG CODE` if the peer's
//! code is not an expected one, `FAILED BY CLIENT` if we are the client and
//! had to drop TCP, else `OK`. Some cases then override (see [`Judge`]).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::cases::{Case, Chop, Event, Judge, Send, Step, Verdict};
use super::wire::{
    self, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, Rng, Utf8Stream,
    Violation,
};

/// How long we wait for the peer's close frame after sending ours (the
/// suite's `closeHandshakeTimeout`).
pub const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long, after the closing handshake, the server has to close TCP (the
/// suite's `serverConnectionDropTimeout`); client role only.
pub const SERVER_DROP_TIMEOUT: Duration = Duration::from_secs(1);
/// Server role: how long our last frames get to go out after we dropped
/// the connection, and the client to close its end after our FIN, before
/// the socket is closed regardless.
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(1);

/// Which end of the WebSocket connection the runner plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The suite's fuzzing client: we opened the connection, our frames are
    /// masked, the server's must not be, and the server is expected to drop
    /// TCP after the closing handshake (`FAILED BY CLIENT` when we must).
    Client,
    /// The suite's fuzzing server: the peer opened the connection, our
    /// frames go out unmasked, the client's must be masked (an unmasked one
    /// fails the connection with 1002), and we drop TCP as soon as the
    /// closing handshake is done (RFC 6455 §7.1.1).
    Server,
}

/// What one case gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The case id.
    pub id: String,
    /// The behaviour verdict.
    pub behavior: Verdict,
    /// The closing behaviour verdict.
    pub behavior_close: Verdict,
    /// From the opening handshake's end to the end of the connection.
    pub duration: Duration,
    /// The code of the peer's close frame, if it sent one with a code.
    pub remote_close_code: Option<u16>,
    /// Why `behavior` is what it is.
    pub result: String,
    /// Why `behavior_close` is what it is.
    pub result_close: String,
    /// What we received, summarised (payloads shortened).
    pub received: Vec<String>,
}

impl Outcome {
    /// A case that could not be played at all (no connection, a failed
    /// opening handshake, a client that never asked for it): both verdicts
    /// `FAILED`, for `why`.
    #[must_use]
    pub fn failed(id: &str, why: String) -> Self {
        Self {
            id: id.to_owned(),
            behavior: Verdict::Failed,
            behavior_close: Verdict::Failed,
            duration: Duration::ZERO,
            remote_close_code: None,
            result: why.clone(),
            result_close: why,
            received: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Closing,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Continue(Option<&'static str>),
    Kill,
    CloseAfter,
    CloseHandshake,
    ServerDrop,
    HardStop,
}

/// Writes for the writer thread, each its own `write` call, done back to
/// back (so "frame-wise" and "octet-wise" chops reach the peer as separate
/// segments in quick succession, as the suite's writes do).
type Job = Vec<Vec<u8>>;

struct Session<'c> {
    case: &'c Case,
    role: Role,
    stream: TcpStream,
    jobs: Option<mpsc::Sender<Job>>,
    together: Vec<u8>,
    segments: Vec<Vec<u8>>,
    state: State,
    closed_by_me: bool,
    dropped_by_me: bool,
    was_clean: bool,
    close_received: bool,
    remote_close_code: Option<u16>,
    received: Vec<Event>,
    inbuf: Vec<u8>,
    message: Option<(u8, Vec<u8>, Utf8Stream)>,
    timers: Vec<(Instant, Timer)>,
    step: usize,
    rng: Rng,
    piece_key: Option<[u8; 4]>,
    judged: Option<(Verdict, String)>,
    round_trips: usize,
    violation: Option<Violation>,
}

/// Plays `case` as `role` over `stream`, whose opening handshake is done
/// (`leftover`: the bytes that followed it), and judges it. Masking keys
/// come from `rng` (client role).
#[must_use]
pub fn play(role: Role, case: &Case, stream: TcpStream, leftover: Vec<u8>, rng: Rng) -> Outcome {
    let writer_stream = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => return Outcome::failed(&case.id, format!("socket: {e}")),
    };
    let (tx, rx) = mpsc::channel::<Job>();
    let (done_tx, done) = mpsc::channel::<()>();
    let writer = thread::spawn(move || {
        write_jobs(writer_stream, &rx);
        let _ = done_tx.send(());
    });
    let start = Instant::now();
    let hard_limit = hard_limit(case);
    let mut s = Session {
        case,
        role,
        stream,
        jobs: Some(tx),
        together: Vec::new(),
        segments: Vec::new(),
        state: State::Open,
        closed_by_me: false,
        dropped_by_me: false,
        was_clean: false,
        close_received: false,
        remote_close_code: None,
        received: Vec::new(),
        inbuf: leftover,
        message: None,
        timers: vec![(start + hard_limit, Timer::HardStop)],
        step: 0,
        rng,
        piece_key: None,
        judged: None,
        round_trips: 1,
        violation: None,
    };
    s.advance();
    s.process_input();
    s.run();
    let duration = start.elapsed();
    match role {
        Role::Client => {
            let _ = s.stream.shutdown(Shutdown::Both);
            s.jobs = None;
        }
        Role::Server => {
            // What is queued (our close frame) goes out first, then our FIN;
            // the client's FIN (or a bounded wait) ends the connection, so
            // closing never resets it while the client still sends.
            s.jobs = None;
            let _ = done.recv_timeout(LINGER_TIMEOUT);
            let _ = s.stream.shutdown(Shutdown::Write);
            linger(&mut s.stream, LINGER_TIMEOUT);
            let _ = s.stream.shutdown(Shutdown::Both);
        }
    }
    let _ = writer.join();
    s.judge(duration)
}

/// Reads and discards until the peer's EOF, an error, or `timeout`.
pub(crate) fn linger(stream: &mut TcpStream, timeout: Duration) {
    let until = Instant::now() + timeout;
    let mut buf = [0u8; 16 << 10];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// A bound on any case: its waits and timeouts plus a margin.
fn hard_limit(case: &Case) -> Duration {
    let waits: Duration = case
        .steps
        .iter()
        .map(|s| match s {
            Step::Later(d, _) | Step::KillAfter(d) | Step::CloseAfter(d) => *d,
            Step::Send(_) => Duration::ZERO,
        })
        .sum();
    waits + CLOSE_HANDSHAKE_TIMEOUT + SERVER_DROP_TIMEOUT + Duration::from_secs(10)
}

fn write_jobs(mut stream: TcpStream, jobs: &mpsc::Receiver<Job>) {
    for job in jobs {
        if !job.iter().all(|segment| stream.write_all(segment).is_ok()) {
            return;
        }
    }
}

impl Session<'_> {
    fn schedule(&mut self, after: Duration, timer: Timer) {
        self.timers.push((Instant::now() + after, timer));
    }

    fn cancel(&mut self, timer: Timer) {
        self.timers.retain(|(_, t)| *t != timer);
    }

    /// Queues bytes to go out in one write with their neighbours.
    fn queue(&mut self, bytes: &[u8]) {
        self.together.extend_from_slice(bytes);
    }

    /// Queues bytes to go out in a write of their own.
    fn queue_alone(&mut self, bytes: Vec<u8>) {
        self.end_together();
        self.segments.push(bytes);
    }

    fn end_together(&mut self) {
        if !self.together.is_empty() {
            let bytes = std::mem::take(&mut self.together);
            self.segments.push(bytes);
        }
    }

    /// Hands everything queued to the writer.
    fn flush(&mut self) {
        self.end_together();
        let job = std::mem::take(&mut self.segments);
        if job.is_empty() || self.state == State::Closed {
            return;
        }
        if let Some(tx) = &self.jobs {
            let _ = tx.send(job);
        }
    }

    /// A masking key for our next frame: a fresh one in the client role,
    /// none in the server role (RFC 6455 §5.1).
    fn mask_key(&mut self) -> Option<[u8; 4]> {
        match self.role {
            Role::Client => Some(self.rng.mask_key()),
            Role::Server => None,
        }
    }

    fn send_frame(&mut self, fin: bool, rsv: u8, opcode: u8, payload: &[u8], chop: Chop) {
        let key = self.mask_key();
        let bytes = wire::encode_frame(fin, rsv, opcode, payload, key);
        match chop {
            Chop::Together => self.queue(&bytes),
            Chop::Alone => self.queue_alone(bytes),
            Chop::Pieces(n) => {
                for piece in bytes.chunks(n.max(1)) {
                    self.queue_alone(piece.to_vec());
                }
            }
        }
    }

    /// Sends a close frame as the initiator or in reply; only while open.
    fn send_close(&mut self, code: Option<u16>, reason: &[u8], reply: bool) {
        if self.state != State::Open {
            return;
        }
        let payload = wire::close_payload(code, reason);
        self.send_frame(true, 0, OP_CLOSE, &payload, Chop::Together);
        self.flush();
        self.state = State::Closing;
        self.closed_by_me = !reply;
        if !reply {
            self.schedule(CLOSE_HANDSHAKE_TIMEOUT, Timer::CloseHandshake);
        }
    }

    /// Fails the connection: a close frame if we have not sent one, else
    /// the end of TCP (the suite's `failConnection` without `failByDrop`).
    fn fail(&mut self, code: u16, reason: &str) {
        match self.state {
            State::Open => self.send_close(Some(code), reason.as_bytes(), false),
            State::Closing => self.drop_tcp(),
            State::Closed => {}
        }
    }

    /// Ends the TCP connection from our side. A client aborts it at once
    /// (it only drops when the server failed to); a server lets what is
    /// queued (its close frame) go out first: [`play`] finishes the job.
    fn drop_tcp(&mut self) {
        if self.state != State::Closed {
            self.flush();
            self.dropped_by_me = true;
            self.state = State::Closed;
            if self.role == Role::Client {
                let _ = self.stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// Runs the script from the current step up to the next wait.
    fn advance(&mut self) {
        while let Some(step) = self.case.steps.get(self.step).cloned() {
            self.step += 1;
            match step {
                Step::Send(send) => self.send(send),
                Step::Later(after, tag) => {
                    self.schedule(after, Timer::Continue(tag));
                    break;
                }
                Step::KillAfter(after) => self.schedule(after, Timer::Kill),
                Step::CloseAfter(after) => self.schedule(after, Timer::CloseAfter),
            }
        }
        self.flush();
    }

    fn send(&mut self, send: Send) {
        match send {
            Send::Frame {
                fin,
                rsv,
                opcode,
                payload,
                chop,
            } => self.send_frame(fin, rsv, opcode, &payload, chop),
            Send::Message {
                opcode,
                payload,
                fragment,
            } => {
                let chunks = fragments(&payload, fragment);
                let last = chunks.len() - 1;
                let mut bytes = Vec::with_capacity(payload.len() + 14 * chunks.len());
                for (i, chunk) in chunks.iter().enumerate() {
                    let op = if i == 0 { opcode } else { OP_CONTINUATION };
                    let key = self.mask_key();
                    bytes.extend(wire::encode_frame(i == last, 0, op, chunk, key));
                }
                self.queue(&bytes);
            }
            Send::Piece { payload, from, to } => {
                let mut bytes = Vec::new();
                if from == 0 {
                    self.piece_key = self.mask_key();
                    bytes =
                        wire::frame_header(true, 0, OP_TEXT, payload.len() as u64, self.piece_key);
                }
                let mut piece = payload[from..to].to_vec();
                if let Some(key) = self.piece_key {
                    wire::apply_mask(&mut piece, key, from);
                }
                bytes.extend_from_slice(&piece);
                self.queue_alone(bytes);
            }
            Send::Close { code, reason } => self.send_close(code, &reason, false),
        }
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::Continue(tag) => {
                if self.state == State::Open {
                    if let Some(tag) = tag {
                        self.received.push(Event::Timeout(tag));
                    }
                    self.advance();
                }
            }
            Timer::Kill => self.fail(1001, "going away"),
            Timer::CloseAfter => self.send_close(Some(1000), b"", false),
            Timer::CloseHandshake => {
                if self.state == State::Closing && !self.close_received {
                    self.was_clean = false;
                    self.drop_tcp();
                }
            }
            Timer::ServerDrop | Timer::HardStop => self.drop_tcp(),
        }
    }

    fn run(&mut self) {
        let mut buf = vec![0u8; 256 << 10];
        while self.state != State::Closed {
            let now = Instant::now();
            self.timers.sort_by_key(|(at, _)| *at);
            if let Some(&(at, timer)) = self.timers.first() {
                if at <= now {
                    self.timers.remove(0);
                    self.fire(timer);
                    continue;
                }
                let wait = (at - now).max(Duration::from_millis(1));
                let _ = self.stream.set_read_timeout(Some(wait));
            }
            match self.stream.read(&mut buf) {
                Ok(0) => self.state = State::Closed,
                Ok(n) => {
                    self.inbuf.extend_from_slice(&buf[..n]);
                    self.process_input();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => self.state = State::Closed,
            }
        }
    }

    fn process_input(&mut self) {
        let mut used = 0;
        while self.state != State::Closed && !self.close_received {
            match wire::parse_frame(&self.inbuf[used..], self.role == Role::Client) {
                Ok(Some((frame, n))) => {
                    used += n;
                    if let Err(v) = self.on_frame(frame.fin, frame.opcode, frame.payload) {
                        self.violated(v);
                    }
                }
                Ok(None) => break,
                Err(v) => {
                    used = self.inbuf.len();
                    self.violated(v);
                }
            }
        }
        if self.close_received {
            used = self.inbuf.len();
        }
        self.inbuf.drain(..used);
    }

    fn violated(&mut self, v: Violation) {
        let (code, reason) = (v.code, v.reason.clone());
        if self.violation.is_none() {
            self.violation = Some(v);
        }
        self.fail(code, &reason);
    }

    fn on_frame(&mut self, fin: bool, opcode: u8, payload: Vec<u8>) -> Result<(), Violation> {
        match opcode {
            OP_TEXT | OP_BINARY | OP_CONTINUATION => {
                let mut message = match (opcode, self.message.take()) {
                    (OP_CONTINUATION, Some(m)) => m,
                    (OP_CONTINUATION, None) => {
                        return Err(Violation::protocol(
                            "continuation frame with no message to continue",
                        ));
                    }
                    (_, Some(_)) => {
                        return Err(Violation::protocol(
                            "new data frame inside a fragmented message",
                        ));
                    }
                    (op, None) => (op, Vec::new(), Utf8Stream::default()),
                };
                if message.0 == OP_TEXT && !message.2.feed(&payload) {
                    return Err(Violation {
                        code: 1007,
                        reason: "invalid UTF-8 in a text message".into(),
                    });
                }
                if message.1.len() + payload.len() > 64 << 20 {
                    return Err(Violation {
                        code: 1009,
                        reason: "message over 64 MiB".into(),
                    });
                }
                message.1.extend_from_slice(&payload);
                if !fin {
                    self.message = Some(message);
                    return Ok(());
                }
                if message.0 == OP_TEXT && !message.2.is_complete() {
                    return Err(Violation {
                        code: 1007,
                        reason: "text message ends inside a code point".into(),
                    });
                }
                self.on_message(message.0 == OP_BINARY, message.1);
                Ok(())
            }
            OP_PING => {
                if self.state == State::Open {
                    self.send_frame(true, 0, OP_PONG, &payload, Chop::Together);
                    self.flush();
                }
                Ok(())
            }
            OP_PONG => {
                self.received.push(Event::Pong(payload));
                self.finish_when_done();
                Ok(())
            }
            OP_CLOSE => self.on_close(&payload),
            _ => Err(Violation::protocol(format!("opcode {opcode}"))),
        }
    }

    fn on_close(&mut self, payload: &[u8]) -> Result<(), Violation> {
        let code = match payload.len() {
            0 => None,
            1 => return Err(Violation::protocol("close frame with a 1-byte payload")),
            _ => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                if !wire::is_valid_close_code(code) {
                    return Err(Violation::protocol(format!("invalid close code {code}")));
                }
                if std::str::from_utf8(&payload[2..]).is_err() {
                    return Err(Violation {
                        code: 1007,
                        reason: "close reason is not UTF-8".into(),
                    });
                }
                Some(code)
            }
        };
        self.remote_close_code = code;
        self.close_received = true;
        match self.state {
            State::Closing => {
                self.was_clean = true;
                self.cancel(Timer::CloseHandshake);
                self.after_closing_handshake();
            }
            State::Open => {
                self.send_close(Some(code.unwrap_or(1000)), b"", true);
                self.was_clean = true;
                self.after_closing_handshake();
            }
            State::Closed => {}
        }
        Ok(())
    }

    /// A client waits for the server to drop TCP (and drops it itself
    /// after [`SERVER_DROP_TIMEOUT`]); a server drops it at once.
    fn after_closing_handshake(&mut self) {
        match self.role {
            Role::Client => self.schedule(SERVER_DROP_TIMEOUT, Timer::ServerDrop),
            Role::Server => self.drop_tcp(),
        }
    }

    fn on_message(&mut self, binary: bool, payload: Vec<u8>) {
        match self.case.judge {
            Judge::Echo { binary: b, len } => {
                if self.judged.is_none() {
                    self.judged = Some(if binary == b && payload.len() == len {
                        (
                            Verdict::Ok,
                            format!("Received {} message of length {len}.", kind(binary)),
                        )
                    } else {
                        (
                            Verdict::Failed,
                            format!(
                                "Expected a {} message of length {len}, got {} of length {}.",
                                kind(b),
                                kind(binary),
                                payload.len()
                            ),
                        )
                    });
                }
                self.received.push(Event::Message {
                    binary,
                    payload: Vec::new(),
                });
                self.send_close(Some(1000), b"", false);
            }
            Judge::RoundTrips {
                binary: b,
                len,
                count,
            } => {
                if binary != b || payload.len() != len {
                    self.judged = Some((
                        Verdict::Failed,
                        format!(
                            "Echoed message type or length differs from what was sent (binary {binary}, length {}).",
                            payload.len()
                        ),
                    ));
                    self.send_close(Some(1000), b"", false);
                } else if self.round_trips < count {
                    self.round_trips += 1;
                    let (opcode, fill) = if b {
                        (OP_BINARY, 0xFE)
                    } else {
                        (OP_TEXT, b'*')
                    };
                    self.send_frame(true, 0, opcode, &vec![fill; len], Chop::Together);
                    self.flush();
                } else {
                    self.judged = Some((
                        Verdict::Ok,
                        format!("Received all {count} echoed messages in time."),
                    ));
                    self.send_close(Some(1000), b"", false);
                }
            }
            _ => {
                self.received.push(Event::Message { binary, payload });
                self.finish_when_done();
            }
        }
    }

    /// When what was received matches every expected list, start the close
    /// the case expects us to start.
    fn finish_when_done(&mut self) {
        if !matches!(
            self.case.judge,
            Judge::Events | Judge::EventsWrongCodeFails | Judge::Informational
        ) {
            return;
        }
        if self.case.expected.iter().any(|(_, e)| *e != self.received) {
            return;
        }
        if self.case.close.closed_by_me && !self.case.suppress_close {
            let code = self.case.close.codes.first().copied();
            self.send_close(code, b"", false);
        }
    }

    fn judge(&self, duration: Duration) -> Outcome {
        let case = self.case;
        let mut behavior = Verdict::Failed;
        let mut result = "Actual events differ from any expected.".to_owned();
        for (verdict, events) in &case.expected {
            if *events == self.received {
                behavior = *verdict;
                result = "Actual events match at least one expected.".into();
                break;
            }
        }
        let expect = &case.close;
        let (mut behavior_close, result_close) = if expect.closed_by_me != self.closed_by_me {
            (
                Verdict::Failed,
                "The connection was failed by the wrong endpoint".to_owned(),
            )
        } else if expect.require_clean && !self.was_clean {
            (
                Verdict::Unclean,
                "The spec requires the connection to be failed cleanly here".to_owned(),
            )
        } else if self
            .remote_close_code
            .is_some_and(|c| !expect.codes.contains(&c))
        {
            (
                Verdict::WrongCode,
                format!(
                    "The close code should have been {:?} or empty",
                    expect.codes
                ),
            )
        } else if self.dropped_by_me && self.role == Role::Client {
            (
                Verdict::FailedByClient,
                "It is preferred that the server close the TCP connection".to_owned(),
            )
        } else {
            (Verdict::Ok, "Connection was properly closed".to_owned())
        };
        match &case.judge {
            Judge::Events => {}
            Judge::EventsWrongCodeFails => {
                if behavior_close == Verdict::WrongCode {
                    behavior = Verdict::Failed;
                    result.clone_from(&result_close);
                }
            }
            Judge::Informational => {
                result = format!("Informational ({}): {result}", behavior.as_str());
                behavior = Verdict::Informational;
                behavior_close = Verdict::Informational;
            }
            Judge::Echo { .. } | Judge::RoundTrips { .. } => {
                (behavior, result) = self.judged.clone().unwrap_or((
                    Verdict::Failed,
                    "Did not receive the expected message(s) in time.".into(),
                ));
            }
        }
        if let Some(v) = &self.violation {
            result = format!("{result} The peer broke the protocol: {v}.");
        }
        Outcome {
            id: case.id.clone(),
            behavior,
            behavior_close,
            duration,
            remote_close_code: self.remote_close_code,
            result,
            result_close,
            received: self.received.iter().map(summary).collect(),
        }
    }
}

/// Splits a message the way the suite's `sendMessage` does: a frame ends
/// the message only once a fragment would run past the end, so a payload
/// that is an exact multiple of `size` gets a final empty frame.
#[must_use]
pub fn fragments(payload: &[u8], size: usize) -> Vec<&[u8]> {
    let size = size.max(1);
    let mut out = Vec::with_capacity(payload.len() / size + 1);
    let mut i = 0;
    loop {
        let j = i + size;
        if j > payload.len() {
            out.push(&payload[i.min(payload.len())..]);
            return out;
        }
        out.push(&payload[i..j]);
        i = j;
    }
}

fn kind(binary: bool) -> &'static str {
    if binary { "binary" } else { "text" }
}

fn summary(event: &Event) -> String {
    let short = |p: &[u8]| {
        let shown = String::from_utf8_lossy(&p[..p.len().min(64)]).into_owned();
        if p.len() > 64 {
            format!("{shown}... ({} bytes)", p.len())
        } else {
            shown
        }
    };
    match event {
        Event::Message { binary, payload } => {
            format!("message {} {:?}", kind(*binary), short(payload))
        }
        Event::Ping(p) => format!("ping {:?}", short(p)),
        Event::Pong(p) => format!("pong {:?}", short(p)),
        Event::Timeout(tag) => format!("timeout {tag}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragmentation_follows_the_suite() {
        assert_eq!(fragments(b"", 4), [b""]);
        assert_eq!(fragments(b"abc", 4), [b"abc"]);
        assert_eq!(fragments(b"abcd", 4), [&b"abcd"[..], b""]);
        assert_eq!(fragments(b"abcde", 2), [&b"ab"[..], b"cd", b"e"]);
        assert_eq!(fragments(&[0; 4 << 20], 1024).len(), 4097);
        assert_eq!(fragments(&[0; 65536], 1300).len(), 51);
    }
}
