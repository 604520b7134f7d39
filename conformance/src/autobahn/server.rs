//! The fuzzing server (the suite's `fuzzingserver` mode): tests WebSocket
//! clients.
//!
//! A client under test talks to it the way it talks to
//! `wstest -m fuzzingserver`:
//!
//! 1. `GET /getCaseCount`: one text message with the number of cases, then
//!    a close;
//! 2. `GET /runCase?case=N&agent=NAME` for N = 1 to that count: case N (in
//!    catalogue order among the selected ones) is played from the server
//!    side ([`Role::Server`]: our frames unmasked, the client's required to
//!    be masked) while the client echoes every message back, and judged;
//! 3. `GET /updateReports?agent=NAME`: a close; the run is over.
//!
//! Anything else gets a 400 (not a valid opening handshake) or a 404 (an
//! unknown path, case number or agent) before any upgrade.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::Engine as _;

use super::cases::Case;
use super::client::{self, OPEN_TIMEOUT};
use super::session::{self, CLOSE_HANDSHAKE_TIMEOUT, LINGER_TIMEOUT, Outcome, Role};
use super::wire::{self, OP_CLOSE, OP_TEXT, Rng};

/// How often a wait for the next connection asks whether the client is
/// still there.
const ALIVE_POLL: Duration = Duration::from_millis(100);

/// How long [`FuzzingServer::serve`] waits for the client's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// For the first connection (the client starting up).
    pub first: Duration,
    /// For each next one, from the end of the previous one.
    pub between: Duration,
}

/// How a client's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client asked for `/updateReports`.
    Reported,
    /// The client went away first.
    ClientGone,
    /// No connection came within this wait.
    TimedOut(Duration),
}

/// One client's run.
#[derive(Debug, Clone)]
pub struct Served {
    /// The agent: the one asked for, else the first one the client named.
    pub agent: Option<String>,
    /// One outcome per case, in order; a case the client did not run is
    /// FAILED.
    pub outcomes: Vec<Outcome>,
    /// How many cases the client ran.
    pub cases_run: usize,
    /// How the run ended.
    pub end: End,
}

/// A listening fuzzing server. Connections are accepted by a thread of its
/// own and served one at a time by [`serve`](Self::serve); dropping the
/// server stops that thread.
#[derive(Debug)]
pub struct FuzzingServer {
    addr: SocketAddr,
    accepted: mpsc::Receiver<TcpStream>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

/// A request the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    CaseCount,
    RunCase { case: String, agent: String },
    UpdateReports { agent: String },
}

impl FuzzingServer {
    /// Listens on `addr` (`127.0.0.1:0` picks a free port).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, accepted) = mpsc::channel();
        let stopping = Arc::clone(&stop);
        let acceptor = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                // A failed accept (a connection reset before it was taken)
                // concerns no one; the client sees its own error.
                if let Ok(stream) = stream {
                    if tx.send(stream).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Self {
            addr,
            accepted,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to give a client: `ws://IP:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Serves one client's run of `cases`: its `/getCaseCount`, each
    /// `/runCase` (calling `progress` after each), until its
    /// `/updateReports`, until `alive` says it is gone, or until a
    /// connection does not come within `waits`. With `agent`, requests
    /// naming another agent are refused (404); without, the first agent
    /// named is the run's.
    pub fn serve(
        &self,
        cases: &[Case],
        agent: Option<&str>,
        waits: Waits,
        alive: &mut dyn FnMut() -> bool,
        progress: &mut dyn FnMut(&Outcome),
    ) -> Served {
        let mut agent = agent.map(str::to_owned);
        let mut outcomes: Vec<Option<Outcome>> = vec![None; cases.len()];
        let mut wait = waits.first;
        let end = loop {
            let stream = match self.next_connection(wait, alive) {
                Ok(stream) => stream,
                Err(end) => break end,
            };
            wait = waits.between;
            match answer(stream, cases, &mut agent) {
                Answered::Case(i, outcome) => {
                    progress(&outcome);
                    outcomes[i] = Some(outcome);
                }
                Answered::Reported => break End::Reported,
                Answered::Other => {}
            }
        };
        let cases_run = outcomes.iter().flatten().count();
        let outcomes = cases
            .iter()
            .zip(outcomes)
            .map(|(case, outcome)| {
                outcome.unwrap_or_else(|| {
                    Outcome::failed(&case.id, "The client did not run this case.".into())
                })
            })
            .collect();
        Served {
            agent,
            outcomes,
            cases_run,
            end,
        }
    }

    fn next_connection(
        &self,
        wait: Duration,
        alive: &mut dyn FnMut() -> bool,
    ) -> Result<TcpStream, End> {
        let until = Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(End::TimedOut(wait));
            }
            match self.accepted.recv_timeout(left.min(ALIVE_POLL)) {
                Ok(stream) => return Ok(stream),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if !alive() {
                        // A connection it made just before it went.
                        return self.accepted.try_recv().map_err(|_| End::ClientGone);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(End::TimedOut(wait)),
            }
        }
    }
}

impl Drop for FuzzingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor with a connection of our own; if that fails it
        // stays blocked in accept, so leave it rather than wait forever.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woken {
                let _ = acceptor.join();
            }
        }
    }
}

enum Answered {
    Case(usize, Outcome),
    Reported,
    Other,
}

/// Reads one request and answers it.
fn answer(mut stream: TcpStream, cases: &[Case], agent: &mut Option<String>) -> Answered {
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(OPEN_TIMEOUT)).is_err() {
        return Answered::Other;
    }
    let Ok((head, leftover)) = client::read_head(&mut stream, "request") else {
        return Answered::Other;
    };
    let (target, accept) = match check_request(&head) {
        Ok(v) => v,
        Err(why) => {
            refuse(stream, "400 Bad Request", &why);
            return Answered::Other;
        }
    };
    let route = match route(&target) {
        Ok(route) => route,
        Err(why) => {
            refuse(stream, "404 Not Found", &why);
            return Answered::Other;
        }
    };
    let named = match &route {
        Route::CaseCount => None,
        Route::RunCase { agent, .. } | Route::UpdateReports { agent } => Some(agent),
    };
    if let Some(named) = named {
        match agent {
            Some(expected) if expected != named => {
                let why = format!("this run is for agent {expected:?}, not {named:?}");
                refuse(stream, "404 Not Found", &why);
                return Answered::Other;
            }
            Some(_) => {}
            None => *agent = Some(named.clone()),
        }
    }
    let index = match &route {
        Route::RunCase { case, .. } => match case.parse::<usize>() {
            Ok(n @ 1..) if n <= cases.len() => Some(n - 1),
            _ => {
                let why = format!("no case {case:?}: cases are 1 to {}", cases.len());
                refuse(stream, "404 Not Found", &why);
                return Answered::Other;
            }
        },
        _ => None,
    };
    if let Err(e) = switch(&mut stream, &accept) {
        if let Some(i) = index {
            let why = format!("opening handshake failed: {e}");
            return Answered::Case(i, Outcome::failed(&cases[i].id, why));
        }
        return Answered::Other;
    }
    match (route, index) {
        (Route::RunCase { .. }, Some(i)) => {
            let outcome = session::play(Role::Server, &cases[i], stream, leftover, Rng::new(1));
            Answered::Case(i, outcome)
        }
        (Route::UpdateReports { .. }, _) => {
            say_and_close(stream, leftover, None);
            Answered::Reported
        }
        _ => {
            say_and_close(stream, leftover, Some(&cases.len().to_string()));
            Answered::Other
        }
    }
}

/// Checks a WebSocket opening handshake request (RFC 6455 §4.2.1); returns
/// its target and the `Sec-WebSocket-Accept` to answer with, or why it is
/// refused.
fn check_request(head: &str) -> Result<(String, String), String> {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line {request_line:?}"));
    };
    if method != "GET" || version != "HTTP/1.1" || !target.starts_with('/') {
        return Err(format!(
            "not a GET of a path over HTTP/1.1: {request_line:?}"
        ));
    }
    let fields: Vec<(&str, &str)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n, v.trim()))
                .ok_or_else(|| format!("malformed field line {l:?}"))
        })
        .collect::<Result<_, _>>()?;
    let all = |name: &'static str| {
        fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let has_token = |name: &'static str, token: &str| {
        all(name).any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if all("host").count() != 1 {
        return Err("no single Host field".into());
    }
    if !has_token("upgrade", "websocket") {
        return Err("no `Upgrade: websocket`".into());
    }
    if !has_token("connection", "upgrade") {
        return Err("no `Connection: Upgrade`".into());
    }
    if all("sec-websocket-version").collect::<Vec<_>>() != ["13"] {
        return Err("Sec-WebSocket-Version is not 13".into());
    }
    let keys: Vec<&str> = all("sec-websocket-key").collect();
    let [key] = keys[..] else {
        return Err("no single Sec-WebSocket-Key".into());
    };
    let nonce = base64::engine::general_purpose::STANDARD.decode(key);
    if nonce.map_or(true, |n| n.len() != 16) {
        return Err(format!(
            "Sec-WebSocket-Key {key:?} is not 16 bytes in base64"
        ));
    }
    Ok((target.to_owned(), wire::accept_key(key)))
}

/// The request target's route, or why there is none.
fn route(target: &str) -> Result<Route, String> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| percent_decode(v))
    };
    let agent = || param("agent").ok_or_else(|| format!("{path} needs agent=NAME"));
    match path {
        "/getCaseCount" => Ok(Route::CaseCount),
        "/runCase" => Ok(Route::RunCase {
            case: param("case").ok_or("/runCase needs case=N")?,
            agent: agent()?,
        }),
        "/updateReports" => Ok(Route::UpdateReports { agent: agent()? }),
        other => Err(format!("no route {other:?}")),
    }
}

/// Decodes a query value as Python's `parse_qs` does: `%XX` escapes and
/// `+` for a space (an invalid escape stays as written).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| {
                let high = char::from(*bytes.get(i + 1)?).to_digit(16)?;
                let low = char::from(*bytes.get(i + 2)?).to_digit(16)?;
                u8::try_from(high * 16 + low).ok()
            })
            .flatten();
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Accepts the upgrade.
fn switch(stream: &mut TcpStream, accept: &str) -> io::Result<()> {
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nServer: rampart-conformance\r\n\r\n"
    );
    stream.write_all(response.as_bytes())
}

/// Refuses the request with `status` and `why` as the body, then closes.
fn refuse(mut stream: TcpStream, status: &str, why: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{why}",
        why.len()
    );
    let _ = stream.write_all(response.as_bytes());
    close(&mut stream);
}

/// Sends `text` if any, then a close (1000); waits for the client's close
/// (at most the close-handshake timeout), then closes TCP.
fn say_and_close(mut stream: TcpStream, mut inbuf: Vec<u8>, text: Option<&str>) {
    let mut out = Vec::new();
    if let Some(text) = text {
        out.extend(wire::encode_frame(true, 0, OP_TEXT, text.as_bytes(), None));
    }
    let close_frame = wire::close_payload(Some(1000), b"");
    out.extend(wire::encode_frame(true, 0, OP_CLOSE, &close_frame, None));
    if stream.write_all(&out).is_ok() {
        let until = Instant::now() + CLOSE_HANDSHAKE_TIMEOUT;
        let mut buf = [0u8; 16 << 10];
        'wait: loop {
            while let Ok(Some((frame, used))) = wire::parse_frame(&inbuf, false) {
                inbuf.drain(..used);
                if frame.opcode == OP_CLOSE {
                    break 'wait;
                }
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                break;
            }
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => inbuf.extend_from_slice(&buf[..n]),
            }
        }
    }
    close(&mut stream);
}

/// Our FIN, then the client's (or a bounded wait), then the end.
fn close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    session::linger(stream, LINGER_TIMEOUT);
    let _ = stream.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autobahn::cases::{Sizes, Verdict};
    use crate::autobahn::client::Target;
    use crate::autobahn::wire::{Frame, OP_PING, OP_PONG};
    use crate::autobahn::{Selection, select};

    /// RFC 6455 §1.3's key, whose accept value is known.
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const WAITS: Waits = Waits {
        first: Duration::from_secs(10),
        between: Duration::from_secs(10),
    };

    fn request(target: &str) -> String {
        format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
    }

    fn cases(ids: &[&str]) -> Vec<Case> {
        let include = ids.iter().map(|&id| id.to_owned()).collect();
        select(Sizes::Bounded, &Selection { include })
    }

    fn server() -> FuzzingServer {
        FuzzingServer::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap()
    }

    /// A client under test, scripted frame by frame; every read is bounded.
    struct Scripted {
        stream: TcpStream,
        inbuf: Vec<u8>,
    }

    impl Scripted {
        /// Connects and completes the opening handshake (which checks the
        /// server's `Sec-WebSocket-Accept`).
        fn open(url: &str, path: &str) -> Self {
            let target = Target::parse(&format!("{url}{path}")).unwrap();
            let (stream, inbuf) = client::open(&target, &mut Rng::new(7)).unwrap();
            Self { stream, inbuf }
        }

        /// The server's next frame (which must be unmasked); `None` at EOF.
        fn frame(&mut self) -> Option<Frame> {
            let mut buf = [0u8; 64 << 10];
            loop {
                if let Some((frame, used)) = wire::parse_frame(&self.inbuf, true).unwrap() {
                    self.inbuf.drain(..used);
                    return Some(frame);
                }
                match self.stream.read(&mut buf) {
                    Ok(0) => return None,
                    Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                    Err(e) => panic!("read: {e}"),
                }
            }
        }

        fn send(&mut self, opcode: u8, payload: &[u8], masked: bool) {
            let key = masked.then_some([0x37, 0xfa, 0x21, 0x3d]);
            let frame = wire::encode_frame(true, 0, opcode, payload, key);
            self.stream.write_all(&frame).unwrap();
        }

        /// Answers the server's close, then expects it to drop TCP.
        fn finish(mut self) -> Frame {
            let close = self.frame().expect("a close frame");
            assert_eq!(close.opcode, OP_CLOSE);
            self.send(OP_CLOSE, &close.payload, true);
            assert!(self.frame().is_none(), "the server drops TCP");
            close
        }
    }

    /// Sends `request` on a fresh connection; the response head.
    fn raw(url: &str, request: &str) -> String {
        let target = Target::parse(url).unwrap();
        let mut stream = TcpStream::connect((target.host.as_str(), target.port)).unwrap();
        stream.set_read_timeout(Some(OPEN_TIMEOUT)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        client::read_head(&mut stream, "response").unwrap().0
    }

    #[test]
    fn opening_handshake_requests_are_checked() {
        let (target, accept) = check_request(&request("/runCase?case=1&agent=a")).unwrap();
        assert_eq!(target, "/runCase?case=1&agent=a");
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        for (from, to) in [
            ("GET", "POST"),
            ("HTTP/1.1", "HTTP/1.0"),
            ("Upgrade: websocket", "Upgrade: h2c"),
            ("keep-alive, Upgrade", "keep-alive"),
            ("Version: 13", "Version: 8"),
            (KEY, "c2hvcnQ="),
            ("Host: 127.0.0.1\r\n", ""),
        ] {
            let bad = request("/getCaseCount").replacen(from, to, 1);
            assert!(check_request(&bad).is_err(), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn routes() {
        assert_eq!(route("/getCaseCount"), Ok(Route::CaseCount));
        assert_eq!(
            route("/runCase?case=7&agent=rampart%2Dx+y"),
            Ok(Route::RunCase {
                case: "7".into(),
                agent: "rampart-x y".into()
            })
        );
        assert_eq!(
            route("/updateReports?agent=a"),
            Ok(Route::UpdateReports { agent: "a".into() })
        );
        assert!(route("/runCase?case=1").is_err());
        assert!(route("/updateReports").is_err());
        assert!(route("/echo").is_err());
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn a_scripted_client_runs_the_protocol_and_is_judged() {
        let cases = cases(&["1.1.2", "2.2"]);
        let server = server();
        let url = server.url();
        let client = thread::spawn(move || {
            let mut count = Scripted::open(&url, "/getCaseCount");
            let text = count.frame().unwrap();
            assert_eq!((text.opcode, text.payload.as_slice()), (OP_TEXT, &b"2"[..]));
            assert_eq!(count.finish().payload, [0x03, 0xE8]);

            let mut echo = Scripted::open(&url, "/runCase?case=1&agent=scripted");
            let message = echo.frame().unwrap();
            assert_eq!((message.opcode, message.payload.len()), (OP_TEXT, 125));
            echo.send(OP_TEXT, &message.payload, true);
            echo.finish();

            let mut ping = Scripted::open(&url, "/runCase?case=2&agent=scripted");
            let frame = ping.frame().unwrap();
            assert_eq!(frame.opcode, OP_PING);
            ping.send(OP_PONG, &frame.payload, true);
            ping.finish();

            Scripted::open(&url, "/updateReports?agent=scripted").finish();
        });
        let mut seen = Vec::new();
        let served = server.serve(&cases, None, WAITS, &mut || true, &mut |o| {
            seen.push(o.id.clone());
        });
        client.join().unwrap();
        assert_eq!(served.end, End::Reported);
        assert_eq!(served.agent.as_deref(), Some("scripted"));
        assert_eq!(seen, ["1.1.2", "2.2"]);
        assert_eq!(served.cases_run, 2);
        for o in &served.outcomes {
            assert_eq!(
                (o.behavior, o.behavior_close),
                (Verdict::Ok, Verdict::Ok),
                "{o:?}"
            );
        }
    }

    #[test]
    fn an_unmasked_client_frame_fails_the_connection_with_1002() {
        let cases = cases(&["1.1.2"]);
        let server = server();
        let url = server.url();
        let client = thread::spawn(move || {
            let mut echo = Scripted::open(&url, "/runCase?case=1&agent=scripted");
            let message = echo.frame().unwrap();
            echo.send(OP_TEXT, &message.payload, false);
            let close = echo.finish();
            assert_eq!(close.payload[..2], 1002u16.to_be_bytes());
            Scripted::open(&url, "/updateReports?agent=scripted").finish();
        });
        let served = server.serve(&cases, Some("scripted"), WAITS, &mut || true, &mut |_| {});
        client.join().unwrap();
        let outcome = &served.outcomes[0];
        assert_eq!(outcome.behavior, Verdict::Failed, "{outcome:?}");
        assert!(
            outcome.result.contains("unmasked frame from a client"),
            "{outcome:?}"
        );
        assert!(
            outcome.received.is_empty(),
            "the unmasked echo is not taken"
        );
    }

    #[test]
    fn requests_outside_the_protocol_are_refused_before_any_upgrade() {
        let cases = cases(&["1.1.1", "1.1.2"]);
        let server = server();
        let url = server.url();
        let client = thread::spawn(move || {
            let no_key =
                request("/getCaseCount").replace(&format!("Sec-WebSocket-Key: {KEY}\r\n"), "");
            assert!(raw(&url, &no_key).starts_with("HTTP/1.1 400 "));
            for target in [
                "/echo",
                "/runCase?case=3&agent=expected",
                "/runCase?case=0&agent=expected",
                "/runCase?case=1&agent=another",
                "/updateReports?agent=another",
            ] {
                let head = raw(&url, &request(target));
                assert!(head.starts_with("HTTP/1.1 404 "), "{target}: {head}");
            }
            Scripted::open(&url, "/updateReports?agent=expected").finish();
        });
        let served = server.serve(&cases, Some("expected"), WAITS, &mut || true, &mut |_| {});
        client.join().unwrap();
        assert_eq!((served.end, served.cases_run), (End::Reported, 0));
        for o in &served.outcomes {
            assert_eq!(o.behavior, Verdict::Failed);
            assert_eq!(o.result, "The client did not run this case.");
        }
    }

    #[test]
    fn waits_for_a_client_are_bounded() {
        let cases = cases(&["1.1.1"]);
        let server = server();
        let short = Waits {
            first: Duration::from_millis(50),
            between: Duration::from_millis(50),
        };
        let served = server.serve(&cases, None, short, &mut || true, &mut |_| {});
        assert_eq!(served.end, End::TimedOut(short.first));
        let served = server.serve(&cases, None, WAITS, &mut || false, &mut |_| {});
        assert_eq!(served.end, End::ClientGone);
        assert_eq!(served.outcomes.len(), 1);
    }
}
