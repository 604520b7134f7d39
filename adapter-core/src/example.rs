//! The runtime crates' examples, written once: the reference server
//! ([`reference_server`], DESIGN.md "The reference server"; the
//! `tokio-server` and `smol-server` examples), the Autobahn|Testsuite client
//! ([`autobahn_client`]; the `autobahn-client` and `smol-autobahn-client`
//! examples, tested by `conformance autobahn`), and the `text-protocol`
//! example ([`text_protocol`]): Workerman's
//! newline-delimited [`text`](crate::text) protocol, where each line is
//! echoed and a line `all MESSAGE` goes to every connection.
//!
//! Each runtime crate's example is one call, [`text_protocol::<R>()`](text_protocol):
//!
//! ```text
//! cargo run -p adapter-tokio --example text-protocol -- --addr 127.0.0.1:2347
//! cargo run -p adapter-smol --example smol-text-protocol -- --addr 127.0.0.1:2347
//! printf 'hello\nall hi everyone\n' | nc 127.0.0.1 2347
//! ```
//!
//! Options: `--addr IP:PORT` (repeatable; default 127.0.0.1:2347),
//! `--max-connections N`, `--max-connections-per-ip N`, `--max-line N`,
//! `--idle-timeout-ms N`, `--write-timeout-ms N`, `--grace-ms N`,
//! `--drain-ms N`, `--workers N`, `--pid-file PATH`. Prints
//! `listening on IP:PORT` per address; stops gracefully on SIGTERM, SIGINT
//! or SIGQUIT (a second one forces); reloads gracefully on SIGUSR1 or
//! SIGUSR2 (a new process takes the listening sockets over).
//!
//! It is the target of the signal tests ([`signal_tests!`](crate::signal_tests)
//! with the `testing` feature), so its options and output stay stable.

use std::error::Error;
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;

use crate::text::{TextConfig, TextConn, TextHandler, TextService};
use crate::{CloseReason, Conn, Group, Runtime, Server};

/// Every connection joins one room.
struct Chat {
    room: Group<Bytes>,
}

impl TextHandler for Chat {
    type Context = u64; // lines received on this connection

    fn on_connect(&self, conn: &mut Conn<'_, Bytes>) -> u64 {
        self.room.join(conn.handle());
        0
    }

    fn on_line(&self, lines: &mut u64, conn: &mut TextConn<'_, '_>, line: &[u8]) {
        *lines += 1;
        match line.strip_prefix(b"all ") {
            Some(message) => drop(self.room.broadcast(&Bytes::copy_from_slice(message))),
            None => drop(conn.send_line(line)),
        }
    }

    fn on_close(&self, lines: &mut u64, conn: &mut Conn<'_, Bytes>, reason: &CloseReason) {
        self.room.leave(conn.id());
        eprintln!(
            "{} {} closed after {lines} lines: {reason}",
            conn.id(),
            conn.peer_addr()
        );
    }
}

/// Parses the process's arguments, binds, prints `listening on IP:PORT`
/// per address, and serves on runtime `R` until stopped.
///
/// # Errors
///
/// An unknown option or a bad value, a bind failure, or what
/// [`Server::run`] returns.
pub fn text_protocol<R: Runtime>() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The protocol's limits first, then the server's.
    let mut text = TextConfig::default();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--max-line", Some(v)) => {
                text.max_line_size(v.parse()?);
            }
            ("--idle-timeout-ms", Some(v)) => {
                text.idle_timeout(Duration::from_millis(v.parse()?));
            }
            _ => {}
        }
    }
    let chat = Chat { room: Group::new() };
    let mut builder = Server::builder(TextService::with_config(chat, text));
    let mut bound = false;
    for pair in args.chunks(2) {
        let (flag, value) = (
            pair[0].as_str(),
            pair.get(1).ok_or(format!("{} needs a value", pair[0]))?,
        );
        let ms = || value.parse().map(Duration::from_millis);
        builder = match flag {
            "--addr" => {
                bound = true;
                builder.bind(value.parse()?)
            }
            "--workers" => builder.workers(value.parse()?),
            "--max-connections" => builder.max_connections(value.parse()?),
            "--max-connections-per-ip" => builder.max_connections_per_ip(value.parse()?),
            "--write-timeout-ms" => builder.write_timeout(ms()?),
            "--grace-ms" => builder.grace(ms()?),
            "--drain-ms" => builder.drain_timeout(ms()?),
            "--pid-file" => builder.pid_file(value),
            "--max-line" | "--idle-timeout-ms" => builder,
            _ => return Err(format!("unknown option {flag}").into()),
        };
    }
    if !bound {
        builder = builder.bind("127.0.0.1:2347".parse()?);
    }
    let server = builder.build()?;
    let mut stdout = std::io::stdout().lock();
    for addr in server.local_addrs() {
        writeln!(stdout, "listening on {addr}")?;
    }
    stdout.flush()?;
    drop(stdout);
    server.run::<R>()?;
    Ok(())
}

mod autobahn_client;
mod reference;
pub use autobahn_client::{
    AUTOBAHN_DEFAULT_URL, AutobahnOptions, AutobahnRun, autobahn_client, autobahn_client_config,
    run_autobahn,
};
pub use reference::{CHAT_PAGE, Reference, ReferenceContext, ReferenceOptions, reference_server};
