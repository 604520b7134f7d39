//! A deterministic driver that records what a connection does with some
//! input: shared by the property tests and the fuzz targets.
//!
//! The driver answers every complete request (a `101` when it asked to
//! upgrade, else a small `200`), honours backpressure, and checks the
//! invariants on every step: consumed <= offered, buffered <= the cap, no
//! event after an error, the error sticky.

use crate::{Config, Connection, Error, Event, Request, Response, Side, Timer, Transmit, Version};
use std::time::{Duration, Instant};

/// One recorded event; body pieces are merged, so the record does not
/// depend on how the input was split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    Request(String, String, Version, Vec<(Vec<u8>, Vec<u8>)>),
    Informational(u16),
    Response(u16, Vec<(Vec<u8>, Vec<u8>)>),
    Body(Vec<u8>),
    End(Vec<(Vec<u8>, Vec<u8>)>),
    /// Trailing bytes, plus every byte offered after the switch.
    Upgraded(Vec<u8>),
    TimedOut(Timer),
    Closed,
}

/// Everything observable about one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transcript {
    pub(crate) records: Vec<Record>,
    pub(crate) error: Option<Error>,
    pub(crate) wire: Vec<u8>,
    pub(crate) shutdown: bool,
    pub(crate) closed: bool,
}

fn fields(h: &crate::Headers) -> Vec<(Vec<u8>, Vec<u8>)> {
    h.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect()
}

/// What the client sends before any input, picked by `script`.
pub(crate) fn client_requests(script: u8) -> Vec<Request> {
    let mut get = Request::new("GET", "/");
    get.headers_mut().append("Host", "a");
    match script % 4 {
        0 => vec![get.clone(), get.clone(), get],
        1 => {
            let mut head = Request::new("HEAD", "/");
            head.headers_mut().append("Host", "a");
            vec![head, get]
        }
        2 => {
            let mut connect = Request::new("CONNECT", "a:443");
            connect.headers_mut().append("Host", "a:443");
            vec![connect]
        }
        _ => {
            get.headers_mut()
                .append("Connection", "Upgrade")
                .append("Upgrade", "websocket");
            vec![get]
        }
    }
}

struct Driver {
    conn: Connection,
    now: Instant,
    records: Vec<Record>,
    error: Option<Error>,
    wire: Vec<u8>,
    shutdown: bool,
    upgraded: bool,
    /// Whether the request being answered asked to upgrade; kept across
    /// reads, since its body may end reads after its head.
    upgrade_requested: bool,
    max_buffer: usize,
}

impl Driver {
    fn drain(&mut self) {
        let mut answer = false;
        while let Some(event) = self.conn.poll_event() {
            let record = match event {
                Event::Request(r) => {
                    self.upgrade_requested = r.headers().has_token("connection", "upgrade")
                        && r.version() == Version::Http11;
                    Record::Request(
                        r.method().to_owned(),
                        r.target().to_owned(),
                        r.version(),
                        fields(r.headers()),
                    )
                }
                Event::Informational(r) => Record::Informational(r.status()),
                Event::Response(r) => Record::Response(r.status(), fields(r.headers())),
                Event::Data(d) => {
                    if let Some(Record::Body(b)) = self.records.last_mut() {
                        b.extend_from_slice(&d);
                        continue;
                    }
                    Record::Body(d.to_vec())
                }
                Event::EndOfMessage { trailers } => {
                    answer = true;
                    Record::End(fields(&trailers))
                }
                Event::Upgraded { trailing } => {
                    self.upgraded = true;
                    Record::Upgraded(trailing.to_vec())
                }
                Event::TimedOut(t) => Record::TimedOut(t),
                Event::Closed => Record::Closed,
            };
            self.records.push(record);
            if answer && self.conn.side().is_server() {
                answer = false;
                self.answer(self.upgrade_requested);
            }
        }
        self.transmit();
    }

    fn answer(&mut self, upgrade: bool) {
        if upgrade && self.conn.send_response(Response::new(101)).is_ok() {
            return;
        }
        let mut res = Response::new(200);
        res.headers_mut().append("Content-Length", "2");
        if self.conn.send_response(res).is_ok() {
            let sent = match self.conn.send_body("ok") {
                // HEAD, or a 2xx to CONNECT: the head is the whole answer.
                Err(crate::SendError::BodyNotAllowed) => Ok(()),
                other => other,
            }
            .and_then(|()| self.conn.finish());
            assert!(sent.is_ok(), "{sent:?}");
        }
    }

    fn transmit(&mut self) {
        while let Some(t) = self.conn.poll_transmit(self.now, &mut self.wire) {
            if t == Transmit::ShutdownWrite {
                assert!(!self.shutdown, "shutdown is reported once");
                self.shutdown = true;
            }
        }
    }

    fn check_buffer(&self) {
        assert!(
            self.conn.buffered_input() <= self.max_buffer + crate::connection::MAX_STEP_COST,
            "buffered {} over the cap {} ({:?})",
            self.conn.buffered_input(),
            self.max_buffer,
            self.conn
        );
    }

    /// Offers `piece`; returns false once the connection takes no more.
    fn offer(&mut self, mut piece: &[u8]) -> bool {
        while !piece.is_empty() {
            if self.upgraded {
                if let Some(Record::Upgraded(rest)) = self.records.last_mut() {
                    rest.extend_from_slice(piece);
                }
                return true;
            }
            match self.conn.handle_input(self.now, piece) {
                Ok(n) => {
                    assert!(n <= piece.len(), "consumed more than offered");
                    self.check_buffer();
                    let before = self.records.len();
                    self.drain();
                    if n == 0 && self.records.len() == before && !self.upgraded {
                        // Stuck: nothing consumed and nothing to do.
                        return false;
                    }
                    piece = &piece[n..];
                }
                Err(e) => {
                    self.error = Some(e);
                    self.drain();
                    // Sticky, and nothing more is produced.
                    assert_eq!(self.conn.handle_input(self.now, b"x"), Err(e));
                    assert!(self.conn.poll_event().is_none(), "no events after an error");
                    return false;
                }
            }
        }
        true
    }
}

/// Runs `input` through a connection of `side`, cut into pieces whose
/// sizes come from `cuts`, then fires every deadline and reports EOF.
pub(crate) fn run(
    side: Side,
    config: &Config,
    script: u8,
    input: &[u8],
    cuts: &mut dyn FnMut() -> usize,
) -> Transcript {
    #[allow(clippy::disallowed_methods)] // a driver, like a test: one origin instant
    let now = Instant::now();
    let conn = Connection::new(side, config.clone()).expect("valid config");
    let mut d = Driver {
        conn,
        now,
        records: Vec::new(),
        error: None,
        wire: Vec::new(),
        shutdown: false,
        upgraded: false,
        upgrade_requested: false,
        max_buffer: config.max_buffer_size,
    };
    if side.is_client() {
        for req in client_requests(script) {
            if d.conn.send_request(req).is_ok() {
                let _ = d.conn.finish();
            }
        }
    }
    d.transmit();
    let mut pos = 0;
    while pos < input.len() {
        let end = pos.saturating_add(cuts().max(1)).min(input.len());
        if !d.offer(&input[pos..end]) {
            break;
        }
        pos = end;
    }
    if d.error.is_none() && !d.upgraded {
        d.conn.handle_timeout(now + Duration::from_secs(3600));
        d.conn.handle_eof(now + Duration::from_secs(3600));
        d.drain();
    }
    let closed = d.conn.is_closed();
    let error = d.error.or(d.conn.error().copied());
    Transcript {
        records: d.records,
        error,
        wire: d.wire,
        shutdown: d.shutdown,
        closed,
    }
}

/// Runs `input` whole, one byte at a time and in pseudo-random pieces, and
/// asserts that the three transcripts are identical.
pub(crate) fn assert_split_invariant(
    side: Side,
    config: &Config,
    script: u8,
    input: &[u8],
) -> Transcript {
    let whole = run(side, config, script, input, &mut || usize::MAX);
    let bytes = run(side, config, script, input, &mut || 1);
    assert_eq!(whole, bytes, "whole vs one byte per read");
    let mut seed = input
        .iter()
        .fold(0x9e37_79b9_u32, |h, &b| h.rotate_left(5) ^ u32::from(b));
    let random = run(side, config, script, input, &mut || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (seed >> 16) as usize % 17 + 1
    });
    assert_eq!(whole, random, "whole vs random pieces");
    whole
}
