//! The Autobahn|Testsuite client, written once for every runtime: each
//! runtime crate's `autobahn-client` example is one call of
//! [`autobahn_client`]. It is what the suite's `fuzzingserver` mode (and
//! the native runner's server role, `conformance autobahn --role server`)
//! tests.
//!
//! ```text
//! autobahn-client [--url ws://127.0.0.1:9001] [--agent NAME] [--cases N,M] [--verbose]
//! ```
//!
//! 1. `GET /getCaseCount`: the server sends the number of cases as one text
//!    message;
//! 2. for each case N (all, or those of `--cases`),
//!    `GET /runCase?case=N&agent=NAME`: every text and binary message is
//!    sent back unchanged until the server closes; pings are answered and
//!    the close is echoed by the connection itself, and a failure (the
//!    server breaking the protocol on purpose, a timeout) ends that case
//!    only;
//! 3. `GET /updateReports?agent=NAME`.
//!
//! Prints one line when done: `ran N of M cases as NAME against URL`. The
//! host may be a name; it is resolved once, at start.

use std::error::Error;
use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::Runtime;
use crate::client::{self, ClientConfig, Connector, Message, Scheme, Url};

/// The default `--url`: where `wstest -m fuzzingserver` listens with
/// `conformance/autobahn/fuzzingserver.json`.
pub const AUTOBAHN_DEFAULT_URL: &str = "ws://127.0.0.1:9001";

/// The largest message the suite sends and this client echoes: 16 MiB,
/// in 9.1.6 and 9.2.6.
const MAX_CASE_MESSAGE: usize = 16 << 20;

/// The Autobahn client's command line.
///
/// ```
/// use adapter_core::example::AutobahnOptions;
/// let o = AutobahnOptions::parse("rampart-tokio-client", ["--cases", "1,3", "--url", "ws://127.0.0.1:9002"])?;
/// assert_eq!((o.agent.as_str(), o.url.as_str()), ("rampart-tokio-client", "ws://127.0.0.1:9002"));
/// assert_eq!(o.cases, [1, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AutobahnOptions {
    /// `--url URL`: the fuzzing server; default [`AUTOBAHN_DEFAULT_URL`].
    pub url: String,
    /// `--agent NAME`: the name the results are filed under.
    pub agent: String,
    /// `--cases N,M,...`: case numbers (1 to the case count); empty runs
    /// every case.
    pub cases: Vec<u32>,
    /// `--verbose`: one line per case on stderr (its close code or error).
    pub verbose: bool,
}

impl AutobahnOptions {
    /// Parses options (without the program name); `default_agent` is the
    /// agent without `--agent`.
    ///
    /// # Errors
    ///
    /// An unknown option, a missing or bad value.
    pub fn parse<I, S>(default_agent: &str, args: I) -> Result<Self, Box<dyn Error>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut o = Self {
            url: AUTOBAHN_DEFAULT_URL.to_owned(),
            agent: default_agent.to_owned(),
            cases: Vec::new(),
            verbose: false,
        };
        let mut args = args.into_iter().map(Into::into);
        while let Some(flag) = args.next() {
            if flag == "--verbose" {
                o.verbose = true;
                continue;
            }
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--url" => o.url = value,
                "--agent" => o.agent = value,
                "--cases" => {
                    o.cases = value
                        .split(',')
                        .filter(|n| !n.trim().is_empty())
                        .map(|n| n.trim().parse())
                        .collect::<Result<_, _>>()
                        .map_err(|e| format!("--cases {value}: {e}"))?;
                }
                _ => return Err(format!("unknown option {flag}").into()),
            }
        }
        Ok(o)
    }
}

/// What [`run_autobahn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AutobahnRun {
    /// The server's case count.
    pub case_count: u32,
    /// The cases run.
    pub cases_run: u32,
}

/// The client configuration for the suite: the library defaults, with the
/// message limits set explicitly to what the cases need and no more.
///
/// Section 9 sends text and binary messages of up to 16 MiB (9.1.6,
/// 9.2.6), whole or in fragments down to 64 bytes (9.3.1: 65,537 frames,
/// charged 8 MiB against the message cap with the default fragment
/// overhead), and every one is echoed back whole, so a frame, a message and
/// the send buffer (one message and its header) must hold 16 MiB. These
/// equal proto-ws's defaults today; they are set here so a change of those
/// defaults cannot silently break (or loosen) the run.
#[must_use]
pub fn autobahn_client_config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config
        .ws()
        .max_frame_size(MAX_CASE_MESSAGE)
        .max_message_size(MAX_CASE_MESSAGE)
        .max_send_buffer_size(MAX_CASE_MESSAGE + 64 * 1024);
    config
}

/// Runs the suite's client protocol against `addr` (the address of
/// `options.url`'s host).
///
/// # Errors
///
/// When `/getCaseCount` or `/updateReports` fails; a failing case does not
/// stop the run.
pub async fn run_autobahn<R: Runtime>(
    rt: R,
    addr: SocketAddr,
    options: &AutobahnOptions,
) -> Result<AutobahnRun, Box<dyn Error + Send + Sync>> {
    let connector = Connector::with_config(rt, autobahn_client_config());
    let base = options.url.trim_end_matches('/');
    let agent = query_value(&options.agent);

    let mut ws = connector
        .websocket_to(addr, &format!("{base}/getCaseCount"))
        .await?;
    let mut case_count = None;
    while let Some(message) = ws.recv().await {
        if let Some(text) = message?.as_text() {
            case_count = Some(
                text.trim()
                    .parse::<u32>()
                    .map_err(|e| format!("/getCaseCount sent {text:?}: {e}"))?,
            );
        }
    }
    let case_count = case_count.ok_or("/getCaseCount sent no count")?;

    let cases: Vec<u32> = if options.cases.is_empty() {
        (1..=case_count).collect()
    } else {
        options.cases.clone()
    };
    for &case in &cases {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        let end = echo(&connector, addr, &url).await;
        if options.verbose {
            eprintln!("case {case}: {end}");
        }
    }

    let mut ws = connector
        .websocket_to(addr, &format!("{base}/updateReports?agent={agent}"))
        .await?;
    while let Some(message) = ws.recv().await {
        message?;
    }
    Ok(AutobahnRun {
        case_count,
        cases_run: u32::try_from(cases.len()).unwrap_or(u32::MAX),
    })
}

/// How a case ended, for `--verbose`.
struct CaseEnd {
    close: Option<u16>,
    error: Option<client::Error>,
}

impl std::fmt::Display for CaseEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.close {
            Some(code) => write!(f, "closed with {code}")?,
            None => f.write_str("no close frame")?,
        }
        match &self.error {
            Some(e) => write!(f, "; {e}"),
            None => Ok(()),
        }
    }
}

/// One case: echo every message until the connection is finished.
async fn echo<R: Runtime>(connector: &Connector<R>, addr: SocketAddr, url: &str) -> CaseEnd {
    let mut end = CaseEnd {
        close: None,
        error: None,
    };
    let mut ws = match connector.websocket_to(addr, url).await {
        Ok(ws) => ws,
        Err(e) => {
            end.error = Some(e);
            return end;
        }
    };
    while let Some(message) = ws.recv().await {
        let sent = match message {
            Ok(Message::Text(text)) => match std::str::from_utf8(&text) {
                Ok(text) => ws.send_text(text).await,
                // Text messages are validated as they arrive.
                Err(_) => Ok(()),
            },
            Ok(Message::Binary(data)) => ws.send_binary(&data).await,
            Ok(Message::Close { code, .. }) => {
                end.close = Some(code);
                Ok(())
            }
            // Pings are answered by the connection itself.
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        // A send refused because the server already closed, or a failure:
        // keep receiving, so the close handshake (or the failure's close
        // frame) still completes before the next case.
        if let Err(e) = sent {
            end.error.get_or_insert(e);
        }
    }
    end
}

/// Percent-encodes a query value (anything but RFC 3986's unreserved
/// characters).
fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The address of `url`'s host: its IP literal, or the first address its
/// name resolves to.
fn resolve(url: &str) -> Result<SocketAddr, Box<dyn Error>> {
    let parsed = Url::parse(url).map_err(|e| format!("--url {url}: {e}"))?;
    if parsed.scheme() != Scheme::Ws {
        return Err(format!("--url {url}: not a ws:// URL").into());
    }
    if let Some(addr) = parsed.socket_addr() {
        return Ok(addr);
    }
    // `host()` carries the port when it is not the default.
    let host = parsed.host();
    let authority = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:{}", parsed.port())
    };
    authority
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("--url {url}: {authority} resolves to no address").into())
}

/// Parses the process's arguments and runs the suite's client protocol on
/// runtime `R` (one worker); `default_agent` is the agent without
/// `--agent`.
///
/// # Errors
///
/// An unknown option or bad value, an unresolvable host, or what
/// [`run_autobahn`] returns.
pub fn autobahn_client<R: Runtime>(default_agent: &str) -> Result<(), Box<dyn Error>> {
    let options = AutobahnOptions::parse(default_agent, std::env::args().skip(1))?;
    let addr = resolve(&options.url)?;
    let run = R::run(1, |rt| {
        let options = options.clone();
        async move { run_autobahn(rt, addr, &options).await }
    })?
    .map_err(|e| -> Box<dyn Error> { e })?;
    println!(
        "ran {} of {} cases as {} against {}",
        run.cases_run, run.case_count, options.agent, options.url
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_defaults() {
        let o = AutobahnOptions::parse("a", Vec::<String>::new()).unwrap();
        assert_eq!(o.url, AUTOBAHN_DEFAULT_URL);
        assert!(o.cases.is_empty() && !o.verbose);
        let o =
            AutobahnOptions::parse("a", ["--verbose", "--agent", "b", "--cases", "2, 5"]).unwrap();
        assert_eq!(
            (o.agent.as_str(), o.cases.as_slice(), o.verbose),
            ("b", &[2, 5][..], true)
        );
        assert!(AutobahnOptions::parse("a", ["--cases", "x"]).is_err());
        assert!(AutobahnOptions::parse("a", ["--url"]).is_err());
        assert!(AutobahnOptions::parse("a", ["--nope", "1"]).is_err());
    }

    #[test]
    fn agents_are_escaped_in_the_query() {
        assert_eq!(query_value("rampart-tokio-client"), "rampart-tokio-client");
        assert_eq!(query_value("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn urls_resolve() {
        assert_eq!(
            resolve("ws://127.0.0.1:9001").unwrap(),
            "127.0.0.1:9001".parse().unwrap()
        );
        assert_eq!(
            resolve("ws://[::1]:9001/").unwrap(),
            "[::1]:9001".parse().unwrap()
        );
        assert!(resolve("http://127.0.0.1:9001").is_err());
        assert!(resolve("wss://127.0.0.1:9001").is_err());
    }
}
