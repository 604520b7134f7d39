//! Fuzz target bodies, for `fuzz/` and for replaying its corpora on stable.
//!
//! Each function drives a [`Connection`] with arbitrary
//! bytes and panics if an invariant breaks: no panic inside the machine,
//! never more consumed than offered, never more buffered than
//! [`Config::max_buffer_size`], no event
//! after an error and the error sticky, after an error only the farewell
//! (a server's answer named by [`Error::status_hint`], then shutdown; a
//! client sends nothing but its requests), no timer reported before it is
//! due, and the same events, transmitted bytes and error whether the input
//! arrives whole, one byte per read or in pseudo-random pieces.
//! [`structured`] adds generated messages and round trips. Built only with
//! the `fuzzing` feature.
//!
//! ```
//! proto_http::fuzzing::server(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
//! proto_http::fuzzing::client(b"\x00HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
//! proto_http::fuzzing::chunked(b"5\r\nhello\r\n0\r\n\r\n");
//! proto_http::fuzzing::structured(b"any bytes: arbitrary builds a case from them");
//! ```

use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use proto_core::fuzzing::{ByteEdit, apply_edits};

use crate::transcript::{Record, Transcript, assert_split_invariant, client_requests, run};
use crate::{
    Config, Connection, Error, Event, Headers, Request, Response, Side, Version, canonical_reason,
};

/// Small limits, so the fuzzer reaches them.
fn config() -> Config {
    let mut c = Config::default();
    c.max_head_size(256)
        .max_headers(8)
        .max_request_line_size(64)
        .max_body_size(Some(1024))
        .max_chunk_extension_size(16)
        .max_trailer_size(64)
        .max_buffer_size(512);
    c
}

/// `data` as the bytes a server receives; the driver answers every
/// complete request.
pub fn server(data: &[u8]) {
    for config in [config(), Config::default()] {
        let t = assert_split_invariant(Side::Server, &config, 0, data);
        check_farewell(Side::Server, &config, 0, &t);
        check_timers(Side::Server, &config, 0, data);
    }
}

/// `data[1..]` as the bytes a client receives after sending the requests
/// chosen by `data[0]` (pipelined GETs, HEAD then GET, CONNECT, or an
/// upgrade).
pub fn client(data: &[u8]) {
    let Some((&script, input)) = data.split_first() else {
        return;
    };
    let config = config();
    let t = assert_split_invariant(Side::Client, &config, script, input);
    check_farewell(Side::Client, &config, script, &t);
    check_timers(Side::Client, &config, script, input);
}

/// `data` as a chunked request body (after a fixed head), for the chunk
/// decoder and trailer parser.
pub fn chunked(data: &[u8]) {
    let mut input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    input.extend_from_slice(data);
    let config = config();
    let t = assert_split_invariant(Side::Server, &config, 0, &input);
    check_farewell(Side::Server, &config, 0, &t);
}

/// A byte-level edit of a valid message: the "then mutated" half of
/// valid-then-mutated.
#[derive(Debug, Arbitrary)]
enum Mutation {
    Flip {
        at: u16,
        bits: u8,
    },
    Insert {
        at: u16,
        byte: u8,
    },
    Remove {
        at: u16,
    },
    Truncate {
        at: u16,
    },
    /// Repeats a short range in place (duplicated lines, chunks, heads).
    Repeat {
        at: u16,
        len: u8,
    },
}

fn mutate(bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    apply_edits(
        bytes,
        mutations.iter().map(|m| match *m {
            Mutation::Flip { at, bits } => ByteEdit::Flip {
                at: at.into(),
                bits,
            },
            Mutation::Insert { at, byte } => ByteEdit::Insert {
                at: at.into(),
                byte,
            },
            Mutation::Remove { at } => ByteEdit::Remove { at: at.into() },
            Mutation::Truncate { at } => ByteEdit::Truncate { at: at.into() },
            Mutation::Repeat { at, len } => ByteEdit::Repeat {
                at: at.into(),
                len: len.into(),
            },
        }),
    )
}

// ----- invariants shared by the byte targets and the structured one ------

/// What a server sends when it fails on a peer's error: the exact answer
/// [`Error::status_hint`] names, then nothing.
fn farewell(status: u16) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        canonical_reason(status)
    )
    .into_bytes()
}

/// After an error only farewell bytes go out: a server's wire ends with the
/// error's answer (its driver never leaves a response half sent) and shuts
/// down; a client, which never answers input, sends exactly its requests.
fn check_farewell(side: Side, config: &Config, script: u8, t: &Transcript) {
    if side.is_client() {
        let idle = run(side, config, script, b"", &mut || usize::MAX);
        assert!(
            t.wire.starts_with(&idle.wire) && t.wire.len() == idle.wire.len(),
            "a client transmits nothing but its requests"
        );
        return;
    }
    let Some(error) = t.error else {
        return;
    };
    if error == Error::IncompleteMessage {
        assert!(t.closed, "the peer is gone: closed");
        return;
    }
    let answer = farewell(error.status_hint());
    assert!(
        t.wire.ends_with(&answer),
        "{error:?}: the wire must end with the {} answer: {:?}",
        error.status_hint(),
        String::from_utf8_lossy(&t.wire)
    );
    assert!(t.shutdown, "{error:?}: a failed server shuts down");
}

/// Deadlines: a timer is never reported before it is due, `poll_timeout`
/// only moves forward as timers fire, and a closed or failed connection
/// arms none.
fn check_timers(side: Side, config: &Config, script: u8, input: &[u8]) {
    #[allow(clippy::disallowed_methods)] // a driver, like a test: one origin instant
    let t0 = Instant::now();
    let Ok(mut conn) = Connection::new(side, config.clone()) else {
        unreachable!("fuzz configurations are valid");
    };
    if side.is_client() {
        for req in client_requests(script) {
            if conn.send_request(req).is_ok() {
                let _ = conn.finish();
            }
        }
    }
    let mut wire = Vec::new();
    while conn.poll_transmit(t0, &mut wire).is_some() {}
    let failed = conn.handle_input(t0, input).is_err();
    while conn.poll_event().is_some() {}
    if failed {
        assert_eq!(
            conn.poll_timeout(),
            None,
            "a failed connection arms no timer"
        );
        return;
    }
    for _ in 0..8 {
        let Some(at) = conn.poll_timeout() else {
            return;
        };
        assert!(at >= t0, "a deadline in the past of its arming");
        if let Some(early) = at.checked_sub(Duration::from_nanos(1)) {
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
            if let Event::TimedOut(timer) = event {
                assert!(
                    conn.poll_timeout().is_none_or(|next| next > at),
                    "{timer} fired but its deadline stayed"
                );
            }
        }
        while conn.poll_transmit(at, &mut wire).is_some() {}
        assert_ne!(
            conn.poll_timeout(),
            Some(at),
            "a fired deadline stayed armed"
        );
    }
}

// ----- structure-aware target ---------------------------------------------

/// Builds valid-then-mutated HTTP/1.1 traffic from fuzzer bytes, both ways.
///
/// Requests (methods, targets of every form, header sets with every
/// `Content-Length` / `Transfer-Encoding` combination, chunked bodies with
/// extensions and trailers, pipelining) are serialised by hand, optionally
/// mutated, and fed to a server in the fuzzer's read splits; responses
/// likewise to a client. Beyond the byte targets' invariants:
///
/// - the arbitrary read split gives the same transcript as one read;
/// - an unmutated request and the same request encoded by a client
///   [`Connection`] give the same transcript (chunk sizes, extensions and
///   hex spelling never change what is delivered);
/// - what a client connection encodes, a server decodes identically, and
///   what a server encodes, a client decodes identically (round trip);
/// - deadlines never fire early.
pub fn structured(data: &[u8]) {
    let Ok(case) = HttpCase::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    if std::env::var_os("RAMPART_FUZZ_DEBUG").is_some() {
        eprintln!("{case:#?}");
    }
    let requests: Vec<&GenRequest> = case.requests.iter().take(4).collect();
    let responses: Vec<&GenResponse> = case.responses.iter().take(3).collect();
    let mut cuts = case.cuts.iter().cycle().map(|&c| usize::from(c).max(1));
    let mut next_cut = || {
        if case.cuts.is_empty() {
            usize::MAX
        } else {
            cuts.next().unwrap_or(usize::MAX)
        }
    };

    // Server side: hand-written, mutated requests.
    let raw: Vec<u8> = requests.iter().flat_map(|r| r.raw()).collect();
    let input = mutate(raw.clone(), &case.mutations);
    let config = if case.small_limits {
        config()
    } else {
        Config::default()
    };
    let whole = assert_split_invariant(Side::Server, &config, 0, &input);
    let split = run(Side::Server, &config, 0, &input, &mut next_cut);
    assert_eq!(whole, split, "whole vs the fuzzer's read split");
    check_farewell(Side::Server, &config, 0, &whole);
    check_timers(Side::Server, &config, 0, &input);

    // The same requests encoded by a client: decoded identically, and
    // delivered as the hand-written ones were.
    let default = Config::default();
    if let Some((wire, expected, complete)) = encode_requests(&requests) {
        let decoded = assert_split_invariant(Side::Server, &default, 0, &wire);
        assert_eq!(decoded.error, None, "a client's request refused: {wire:?}");
        let got: Vec<&Record> = decoded
            .records
            .iter()
            .filter(|r| matches!(r, Record::Request(..) | Record::Body(_) | Record::End(_)))
            .collect();
        assert!(
            got.len() >= expected.len() && got.iter().zip(&expected).all(|(a, b)| *a == b),
            "round trip: sent {expected:?}, decoded {got:?}"
        );
        if complete && case.mutations.is_empty() && requests.iter().all(|r| r.plain()) {
            let hand = run(Side::Server, &default, 0, &raw, &mut || usize::MAX);
            assert_eq!(hand, decoded, "hand-written vs encoded requests");
        }
    }

    // Client side: hand-written, mutated responses to three GETs.
    let raw: Vec<u8> = responses.iter().flat_map(|r| r.raw()).collect();
    let input = mutate(raw, &case.mutations);
    let whole = assert_split_invariant(Side::Client, &config, 0, &input);
    let split = run(Side::Client, &config, 0, &input, &mut next_cut);
    assert_eq!(whole, split, "whole vs the fuzzer's read split");
    check_farewell(Side::Client, &config, 0, &whole);
    check_timers(Side::Client, &config, 0, &input);

    // Responses encoded by a server: decoded identically by a client.
    if let Some((wire, expected)) = encode_responses(&responses) {
        let decoded = assert_split_invariant(Side::Client, &default, 0, &wire);
        let got: Vec<&Record> = decoded
            .records
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Record::Informational(_)
                        | Record::Response(..)
                        | Record::Body(_)
                        | Record::End(_)
                )
            })
            .collect();
        assert!(
            got.len() >= expected.len() && got.iter().zip(&expected).all(|(a, b)| *a == b),
            "round trip: sent {expected:?}, decoded {got:?} ({:?})",
            decoded.error
        );
    }
}

/// One fuzz case for [`structured`].
#[derive(Debug, Arbitrary)]
struct HttpCase {
    small_limits: bool,
    requests: Vec<GenRequest>,
    responses: Vec<GenResponse>,
    mutations: Vec<Mutation>,
    cuts: Vec<u8>,
}

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "M-SEARCH",
    "get", "G T", "",
];
const TARGETS: &[&str] = &[
    "/",
    "/a/b",
    "/p?q=1&r=%20",
    "*",
    "http://a/b?c",
    "a:443",
    "[::1]:8080",
    "//x",
    "/\x7f",
    "/#f",
    "",
];
const NAMES: &[&str] = &[
    "Accept",
    "User-Agent",
    "X-Forwarded-For",
    "Cookie",
    "Connection",
    "Expect",
    "Upgrade",
    "Content-Type",
    "Keep-Alive",
    "TE",
    "Trailer",
    "x-empty",
];
const VALUES: &[&str] = &[
    "*/*",
    "close",
    "keep-alive",
    "Upgrade",
    "websocket",
    "100-continue",
    "text/plain; charset=utf-8",
    "a=b; c=\"d e\"",
    "trailers",
    "",
    "gzip",
    "\u{e9}t\u{e9}",
];
const HOSTS: &[&str] = &[
    "a",
    "example.com:8080",
    "[::1]",
    "127.0.0.1:80",
    "a b",
    "",
    "xn--e1a",
];

#[derive(Debug, Arbitrary)]
struct GenRequest {
    method: u8,
    target: u8,
    http10: bool,
    host: GenHost,
    fields: Vec<GenField>,
    framing: GenFraming,
    body: Vec<u8>,
    smuggle: Option<Smuggle>,
}

#[derive(Debug, Arbitrary)]
enum GenHost {
    One(u8),
    Missing,
    Twice(u8, u8),
}

#[derive(Debug, Arbitrary)]
struct GenField {
    name: u8,
    value: FieldValue,
}

#[derive(Debug, Arbitrary)]
enum FieldValue {
    Known(u8),
    /// Visible ASCII built from the bytes.
    Token(Vec<u8>),
}

impl GenField {
    fn name(&self) -> &'static str {
        NAMES[usize::from(self.name) % NAMES.len()]
    }

    fn value(&self) -> Vec<u8> {
        match &self.value {
            FieldValue::Known(i) => VALUES[usize::from(*i) % VALUES.len()].as_bytes().to_vec(),
            FieldValue::Token(bytes) => bytes
                .iter()
                .take(40)
                .map(|b| 0x21 + b % (0x7f - 0x21))
                .collect(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum GenFraming {
    None,
    Length,
    Chunked {
        chunks: Vec<GenChunk>,
        last_extension: Option<GenExtension>,
        trailers: Vec<GenField>,
    },
    /// Responses only: the body runs to the end of the connection.
    CloseDelimited,
}

#[derive(Debug, Arbitrary)]
struct GenChunk {
    /// How much of the body goes in this chunk (0 ends the split early).
    len: u8,
    upper_hex: bool,
    leading_zeros: u8,
    extension: Option<GenExtension>,
}

#[derive(Debug, Arbitrary)]
enum GenExtension {
    Name(u8),
    Token(u8, u8),
    Quoted(u8, Vec<u8>),
    /// Invalid spellings: `;`, `; a`, `;a=`, a bare `=`, one far too long.
    Broken(u8),
}

const EXT_TOKENS: &[&str] = &["a", "name", "ieof", "x-y", "0", "!#$%&'*+-.^_`|~"];

impl GenExtension {
    fn write(&self, out: &mut Vec<u8>) {
        let token = |i: &u8| EXT_TOKENS[usize::from(*i) % EXT_TOKENS.len()].as_bytes();
        match self {
            Self::Name(n) => {
                out.push(b';');
                out.extend_from_slice(token(n));
            }
            Self::Token(n, v) => {
                out.push(b';');
                out.extend_from_slice(token(n));
                out.push(b'=');
                out.extend_from_slice(token(v));
            }
            Self::Quoted(n, v) => {
                out.push(b';');
                out.extend_from_slice(token(n));
                out.extend_from_slice(b"=\"");
                for &b in v.iter().take(20) {
                    // qdtext or a quoted-pair.
                    let b = 0x20 + b % 0x5f;
                    if b == b'"' || b == b'\\' {
                        out.push(b'\\');
                    }
                    out.push(b);
                }
                out.push(b'"');
            }
            Self::Broken(k) => out.extend_from_slice(match k % 6 {
                0 => &b";"[..],
                1 => b"; a",
                2 => b";a=",
                3 => b"=",
                4 => b";a=\"open",
                _ => b";aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            }),
        }
    }

    fn valid(&self) -> bool {
        !matches!(self, Self::Broken(_))
    }
}

/// Raw framing tricks a client connection would never send.
#[derive(Debug, Arbitrary)]
enum Smuggle {
    LengthAndChunked,
    DuplicateLength {
        same: bool,
    },
    LengthSpelling(u8),
    TransferCoding(u8),
    TransferEncodingTwice,
    FieldSpelling(u8),
    BareLineEnd {
        lf: bool,
    },
    /// A body longer or shorter than the declared length.
    LengthOff(i8),
}

const LENGTH_SPELLINGS: &[&str] = &[
    "+{n}",
    "-{n}",
    "{n} ",
    " {n}",
    "0{n}",
    "{n}, {n}",
    "0x{n}",
    "{n}.0",
    "99999999999999999999",
    "18446744073709551616",
    "",
];
const CODINGS: &[&str] = &[
    "gzip, chunked",
    "chunked, gzip",
    "chunked, chunked",
    "CHUNKED",
    "chunked;q=1",
    "identity",
    " chunked",
    "chunked ",
    "\tchunked",
    ",chunked",
    "chunked,",
    "x",
];
const FIELD_SPELLINGS: &[&str] = &[
    "Transfer-Encoding : chunked\r\n",
    "Transfer-Encoding:\r\n chunked\r\n",
    "X: a\r\n b\r\n",
    " Host: a\r\n",
    "X-Nul: a\0b\r\n",
    "X-Cr: a\rb\r\n",
    "X\t: a\r\n",
    ": empty\r\n",
    "Content-Length\r\n",
    "X-Del: \x7f\r\n",
];

impl GenRequest {
    fn method(&self) -> &'static str {
        METHODS[usize::from(self.method) % METHODS.len()]
    }

    fn target(&self) -> &'static str {
        TARGETS[usize::from(self.target) % TARGETS.len()]
    }

    fn version(&self) -> Version {
        if self.http10 {
            Version::Http10
        } else {
            Version::Http11
        }
    }

    fn body(&self) -> &[u8] {
        match self.framing {
            GenFraming::None | GenFraming::CloseDelimited => &[],
            _ => &self.body[..self.body.len().min(600)],
        }
    }

    /// No smuggling and no broken extension: a client could have sent it.
    fn plain(&self) -> bool {
        let extensions_ok = match &self.framing {
            GenFraming::Chunked {
                chunks,
                last_extension,
                ..
            } => {
                chunks
                    .iter()
                    .all(|c| c.extension.as_ref().is_none_or(GenExtension::valid))
                    && last_extension.as_ref().is_none_or(GenExtension::valid)
            }
            _ => true,
        };
        self.smuggle.is_none() && extensions_ok
    }

    /// The head fields in order, as both the raw writer and the client send
    /// them.
    fn fields(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        let host = |i: &u8| HOSTS[usize::from(*i) % HOSTS.len()].as_bytes().to_vec();
        match &self.host {
            GenHost::One(h) => out.push((b"Host".to_vec(), host(h))),
            GenHost::Missing => {}
            GenHost::Twice(a, b) => {
                out.push((b"Host".to_vec(), host(a)));
                out.push((b"host".to_vec(), host(b)));
            }
        }
        for f in self.fields.iter().take(6) {
            out.push((f.name().as_bytes().to_vec(), f.value()));
        }
        match self.framing {
            GenFraming::Length => out.push((
                b"Content-Length".to_vec(),
                self.body().len().to_string().into_bytes(),
            )),
            GenFraming::Chunked { .. } => {
                out.push((b"Transfer-Encoding".to_vec(), b"chunked".to_vec()));
            }
            GenFraming::None | GenFraming::CloseDelimited => {}
        }
        out
    }

    fn raw(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.method().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.version().as_str().as_bytes());
        out.extend_from_slice(b"\r\n");
        write_head_and_body(
            &mut out,
            self.fields(),
            &self.framing,
            self.body(),
            self.smuggle.as_ref(),
        );
        out
    }
}

fn write_head_and_body(
    out: &mut Vec<u8>,
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    framing: &GenFraming,
    body: &[u8],
    smuggle: Option<&Smuggle>,
) {
    for (name, value) in fields {
        out.extend_from_slice(&name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(&value);
        out.extend_from_slice(b"\r\n");
    }
    let n = body.len();
    let mut body = body.to_vec();
    match smuggle {
        None => {}
        Some(Smuggle::LengthAndChunked) => {
            out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        }
        Some(Smuggle::DuplicateLength { same }) => {
            let m = if *same { n } else { n + 1 };
            out.extend_from_slice(format!("Content-Length: {m}\r\n").as_bytes());
        }
        Some(Smuggle::LengthSpelling(i)) => {
            let spelling = LENGTH_SPELLINGS[usize::from(*i) % LENGTH_SPELLINGS.len()];
            let value = spelling.replace("{n}", &n.to_string());
            out.extend_from_slice(format!("Content-Length: {value}\r\n").as_bytes());
        }
        Some(Smuggle::TransferCoding(i)) => {
            let coding = CODINGS[usize::from(*i) % CODINGS.len()];
            out.extend_from_slice(format!("Transfer-Encoding: {coding}\r\n").as_bytes());
        }
        Some(Smuggle::TransferEncodingTwice) => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n");
        }
        Some(Smuggle::FieldSpelling(i)) => {
            let line = FIELD_SPELLINGS[usize::from(*i) % FIELD_SPELLINGS.len()];
            out.extend_from_slice(line.as_bytes());
        }
        Some(Smuggle::BareLineEnd { lf }) => {
            out.extend_from_slice(if *lf { b"X: y\n" } else { b"X: y\r" });
        }
        Some(Smuggle::LengthOff(d)) => {
            if *d >= 0 {
                body.extend(std::iter::repeat_n(b'+', usize::from(d.unsigned_abs())));
            } else {
                body.truncate(n.saturating_sub(usize::from(d.unsigned_abs())));
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    match framing {
        GenFraming::Chunked {
            chunks,
            last_extension,
            trailers,
        } => {
            let mut rest = &body[..];
            for chunk in chunks.iter().take(8) {
                if rest.is_empty() {
                    break;
                }
                let len = usize::from(chunk.len).clamp(1, rest.len());
                let size = if chunk.upper_hex {
                    format!("{len:X}")
                } else {
                    format!("{len:x}")
                };
                for _ in 0..chunk.leading_zeros % 4 {
                    out.push(b'0');
                }
                out.extend_from_slice(size.as_bytes());
                if let Some(ext) = &chunk.extension {
                    ext.write(out);
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&rest[..len]);
                out.extend_from_slice(b"\r\n");
                rest = &rest[len..];
            }
            if !rest.is_empty() {
                out.extend_from_slice(format!("{:x}\r\n", rest.len()).as_bytes());
                out.extend_from_slice(rest);
                out.extend_from_slice(b"\r\n");
            }
            out.push(b'0');
            if let Some(ext) = last_extension {
                ext.write(out);
            }
            out.extend_from_slice(b"\r\n");
            for t in trailers.iter().take(4) {
                out.extend_from_slice(t.name().as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(&t.value());
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
        }
        _ => out.extend_from_slice(&body),
    }
}

/// The trailers a chunked message carries, as a client or server sends them.
fn trailers_of(framing: &GenFraming) -> Headers {
    let mut h = Headers::new();
    if let GenFraming::Chunked { trailers, .. } = framing {
        for t in trailers.iter().take(4) {
            h.append(t.name(), t.value());
        }
    }
    h
}

fn records_of(h: &Headers) -> Vec<(Vec<u8>, Vec<u8>)> {
    h.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect()
}

/// Sends the requests a client accepts, in body pieces cut like the
/// chunks; returns the wire, the records a server must decode, and whether
/// every request was accepted.
fn encode_requests(requests: &[&GenRequest]) -> Option<(Vec<u8>, Vec<Record>, bool)> {
    #[allow(clippy::disallowed_methods)] // a driver, like a test: one origin instant
    let now = Instant::now();
    let Ok(mut client) = Connection::new(Side::Client, Config::default()) else {
        unreachable!("the default configuration is valid");
    };
    let mut expected = Vec::new();
    let mut complete = true;
    for r in requests {
        let mut req = Request::new(r.method(), r.target());
        req.set_version(r.version());
        for (name, value) in r.fields() {
            req.headers_mut().append(name, value);
        }
        let head = Record::Request(
            r.method().to_owned(),
            r.target().to_owned(),
            r.version(),
            r.fields(),
        );
        // A client does not check the `Host` value's syntax (the server
        // does): only well-formed ones are the encoder's to round-trip.
        let bad_host = r
            .fields()
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(b"host") && v.contains(&b' '));
        if bad_host || client.send_request(req).is_err() {
            complete = false;
            break;
        }
        let body = r.body();
        let mut rest = body;
        if let GenFraming::Chunked { chunks, .. } = &r.framing {
            for c in chunks.iter().take(8) {
                let n = usize::from(c.len).min(rest.len());
                client.send_body(rest[..n].to_vec()).ok()?;
                rest = &rest[n..];
            }
        }
        if !rest.is_empty() {
            client.send_body(rest.to_vec()).ok()?;
        }
        let trailers = trailers_of(&r.framing);
        if trailers.is_empty() {
            client.finish().ok()?;
        } else if client.finish_with_trailers(&trailers).is_err() {
            complete = false;
            break;
        }
        expected.push(head);
        if !body.is_empty() {
            expected.push(Record::Body(body.to_vec()));
        }
        expected.push(Record::End(records_of(&trailers)));
        let method = r.method();
        let upgrade = r
            .fields()
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(b"upgrade"));
        if method == "CONNECT" || upgrade {
            // The rest of the connection may no longer be HTTP.
            complete = std::ptr::eq(*r, *requests.last().unwrap_or(r));
            break;
        }
    }
    let mut wire = Vec::new();
    while client.poll_transmit(now, &mut wire).is_some() {}
    Some((wire, expected, complete))
}

#[derive(Debug, Arbitrary)]
struct GenResponse {
    informational: Option<bool>,
    status: u8,
    reason: u8,
    http10: bool,
    fields: Vec<GenField>,
    framing: GenFraming,
    body: Vec<u8>,
    smuggle: Option<Smuggle>,
}

const STATUSES: &[u16] = &[
    200, 201, 204, 206, 301, 304, 400, 404, 500, 503, 299, 599, 101,
];
const REASONS: &[&str] = &["OK", "", "Not Found", "x y  z", "\u{e9}"];

impl GenResponse {
    fn status(&self) -> u16 {
        STATUSES[usize::from(self.status) % STATUSES.len()]
    }

    fn body(&self) -> &[u8] {
        match self.framing {
            GenFraming::None => &[],
            _ => &self.body[..self.body.len().min(600)],
        }
    }

    fn fields(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = self
            .fields
            .iter()
            .take(6)
            .map(|f| (f.name().as_bytes().to_vec(), f.value()))
            .collect();
        match self.framing {
            GenFraming::Length => out.push((
                b"Content-Length".to_vec(),
                self.body().len().to_string().into_bytes(),
            )),
            GenFraming::Chunked { .. } => {
                out.push((b"Transfer-Encoding".to_vec(), b"chunked".to_vec()));
            }
            GenFraming::None | GenFraming::CloseDelimited => {}
        }
        out
    }

    fn raw(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(early_hints) = self.informational {
            let status = if early_hints {
                "103 Early Hints"
            } else {
                "100 Continue"
            };
            out.extend_from_slice(format!("HTTP/1.1 {status}\r\n\r\n").as_bytes());
        }
        let version = if self.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let reason = REASONS[usize::from(self.reason) % REASONS.len()];
        out.extend_from_slice(format!("{version} {} {reason}\r\n", self.status()).as_bytes());
        write_head_and_body(
            &mut out,
            self.fields(),
            &self.framing,
            self.body(),
            self.smuggle.as_ref(),
        );
        out
    }
}

/// Answers three GETs with the responses a server connection accepts;
/// returns the wire and the records a client must decode.
fn encode_responses(responses: &[&GenResponse]) -> Option<(Vec<u8>, Vec<Record>)> {
    #[allow(clippy::disallowed_methods)] // a driver, like a test: one origin instant
    let now = Instant::now();
    let Ok(mut server) = Connection::new(Side::Server, Config::default()) else {
        unreachable!("the default configuration is valid");
    };
    let mut wire = Vec::new();
    let requests = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(3);
    let mut offered = &requests[..];
    let mut expected = Vec::new();
    for r in responses {
        // Read up to the next request's end.
        let mut ended = false;
        for _ in 0..8 {
            while let Some(event) = server.poll_event() {
                ended |= matches!(event, Event::EndOfMessage { .. });
            }
            if ended {
                break;
            }
            let n = server.handle_input(now, offered).ok()?;
            offered = &offered[n..];
        }
        if !ended {
            return None;
        }
        let start = wire.len();
        if let Some(early_hints) = r.informational {
            let status = if early_hints { 103 } else { 100 };
            server.send_informational(Response::new(status)).ok()?;
            expected.push(Record::Informational(status));
        }
        let mut res = Response::new(r.status());
        if r.http10 {
            res.set_version(Version::Http10);
        }
        for (name, value) in r.fields() {
            res.headers_mut().append(name, value);
        }
        if server.send_response(res).is_err() {
            break;
        }
        let status = r.status();
        let body = r.body();
        let body = if server.send_body(body.to_vec()).is_ok() {
            body
        } else {
            &[]
        };
        let trailers = trailers_of(&r.framing);
        let finished = if trailers.is_empty() {
            server.finish()
        } else {
            server.finish_with_trailers(&trailers)
        };
        if finished.is_err() {
            break;
        }
        while server.poll_transmit(now, &mut wire).is_some() {}
        // The server may add framing fields (`Content-Length: 0`,
        // `Connection: close`): the fields are those it wrote, read by a
        // naive split of its well-formed output.
        let fields = final_head_fields(&wire[start..], r.informational.is_some());
        let framed = fields.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case(b"content-length")
                || n.eq_ignore_ascii_case(b"transfer-encoding")
        });
        expected.push(Record::Response(status, fields));
        if status == 101 {
            break;
        }
        if !body.is_empty() {
            expected.push(Record::Body(body.to_vec()));
        }
        if !framed && !matches!(status, 204 | 304) {
            // Delimited by the close, which the driver reports only after
            // the other requests' deadline fired: no end to compare.
            break;
        }
        expected.push(Record::End(records_of(&trailers)));
        if server.is_closed() || !server.is_keep_alive() {
            break;
        }
    }
    while server.poll_transmit(now, &mut wire).is_some() {}
    Some((wire, expected))
}

/// The fields of the last head in `wire` (skipping one interim head), split
/// naively: the encoder's output is well formed by construction.
fn final_head_fields(wire: &[u8], interim: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut heads = wire.split(|&b| b == b'\n');
    if interim {
        for line in heads.by_ref() {
            if line == b"\r" {
                break;
            }
        }
    }
    let _status_line = heads.next();
    let mut out = Vec::new();
    for line in heads {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let value = line.get(colon + 1..).unwrap_or_default();
        let value = value.trim_ascii();
        out.push((line[..colon].to_vec(), value.to_vec()));
    }
    out
}
