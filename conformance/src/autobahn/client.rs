//! The fuzzing client (the suite's `fuzzingclient` mode): connects to a
//! WebSocket server, performs the opening handshake, and plays one case
//! against it in [`Role::Client`]; the case logic and its verdicts are in
//! [`super::session`].

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use base64::Engine as _;

use super::cases::Case;
use super::session::{self, Role};
pub use super::session::{CLOSE_HANDSHAKE_TIMEOUT, Outcome, SERVER_DROP_TIMEOUT, fragments};
use super::wire::{self, Rng};

/// Connect and opening-handshake timeout.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the server under test listens: `ws://HOST:PORT/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host as written in the URL (an IP literal, `[::1]` for IPv6).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Target {
    /// Parses a `ws://` URL.
    ///
    /// # Errors
    ///
    /// A message for anything but `ws://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("{url}: only ws:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(end) = authority.strip_prefix('[').and_then(|a| a.find(']'))
        {
            let host = &authority[..end + 2];
            let port = authority[end + 2..].strip_prefix(':');
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(p) => p.parse().map_err(|_| format!("{url}: bad port {p:?}"))?,
            None => 80,
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    fn host_header(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    fn connect(&self) -> io::Result<TcpStream> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in (host, self.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, OPEN_TIMEOUT) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// Runs `case` against `target` and judges it.
#[must_use]
pub fn run_case(target: &Target, case: &Case, seed: u64) -> Outcome {
    let mut rng = Rng::new(seed);
    match open(target, &mut rng) {
        Ok((stream, leftover)) => session::play(Role::Client, case, stream, leftover, rng),
        Err(e) => Outcome::failed(&case.id, format!("opening handshake failed: {e}")),
    }
}

/// Connects and performs the opening handshake; returns the stream and any
/// bytes that followed the response head.
pub(crate) fn open(target: &Target, rng: &mut Rng) -> Result<(TcpStream, Vec<u8>), String> {
    let mut stream = target.connect().map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(OPEN_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut nonce = [0u8; 16];
    nonce[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    nonce[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    let key = base64::engine::general_purpose::STANDARD.encode(nonce);
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: rampart-conformance\r\n\r\n",
        target.path,
        target.host_header()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let (head, leftover) = read_head(&mut stream, "response")?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(format!("status line {status:?}"));
    }
    let expected = wire::accept_key(&key);
    let accept = lines
        .filter_map(|l| l.split_once(':'))
        .find_map(|(name, value)| {
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-accept")
                .then(|| value.trim().to_owned())
        });
    if accept.as_deref() != Some(expected.as_str()) {
        return Err(format!(
            "Sec-WebSocket-Accept {accept:?}, expected {expected:?}"
        ));
    }
    Ok((stream, leftover))
}

/// Reads an HTTP head (a `what`: request or response) up to its blank
/// line, at most 16 KiB; returns it and the bytes that followed it.
pub(crate) fn read_head(stream: &mut TcpStream, what: &str) -> Result<(String, Vec<u8>), String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 16 << 10 {
            return Err(format!("{what} head over 16 KiB"));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err("connection closed during the handshake".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    Ok((head, buf[head_end..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("ws://127.0.0.1:9001/echo").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 9001, "/echo")
        );
        let t = Target::parse("ws://[::1]:80").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("[::1]", 80, "/")
        );
        assert!(Target::parse("http://x/").is_err());
        assert!(Target::parse("ws://:1/").is_err());
    }
}
