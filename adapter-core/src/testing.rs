//! Loopback test bodies written once, generic over the [`Runtime`], and
//! instantiated by each runtime crate with [`runtime_tests!`](crate::runtime_tests).
//!
//! Every test runs a real server (the [`text`](crate::text) protocol with a
//! [`TestHandler`]) on `127.0.0.1:0` in its own thread and talks to it with
//! blocking `std::net` clients, so the bodies need no runtime of their own.
//! Waits are bounded ([`WAIT`]); nothing sleeps to synchronise: conditions
//! are polled until they hold or the bound is reached.
//!
//! ```ignore
//! // adapter-tokio/tests/it/main.rs
//! adapter_core::runtime_tests!(adapter_tokio::Tokio);
//! ```

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use proto_core::{ErrorKind, Timer};

use crate::text::{TextConfig, TextConn, TextHandler, TextService};
use crate::{Builder, CloseReason, Conn, Group, Protocol, Runtime, Server, ServerHandle};

pub mod allocations;
pub mod web;

/// The bound on every wait.
pub const WAIT: Duration = Duration::from_secs(10);

/// Instantiates every generic test for a runtime type.
#[macro_export]
macro_rules! runtime_tests {
    ($rt:ty) => {
        $crate::runtime_tests!(@each $rt;
            echo_and_line_cap,
            global_cap_is_exact_and_recovers,
            per_ip_cap_is_exact_and_recovers,
            context_is_dropped_exactly_once,
            write_stall_closes_a_peer_that_does_not_read,
            idle_timeout_comes_from_the_machine,
            graceful_stop_finishes_in_flight_lines,
            force_stop_closes_everything_at_once,
            trickling_and_flooding_clients_do_not_starve_others,
            ipv6_loopback_is_served,
            ipv4_mapped_clients_count_as_ipv4,
            handles_and_groups_deliver,
            full_queue_closes_the_connection,
            buffer_budget_pauses_reads_and_closes_the_largest,
            events_left_in_the_machine_are_dispatched,
            sleep_never_completes_before_its_deadline,
        );
    };
    (@each $rt:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::testing::$name::<$rt>();
            }
        )*
    };
}

/// What the [`TestHandler`] observed.
#[derive(Debug, Default)]
pub struct Counters {
    /// Contexts created (connections opened).
    pub opened: AtomicUsize,
    /// Contexts dropped.
    pub dropped: AtomicUsize,
    /// Close reasons, in order.
    pub closes: Mutex<Vec<CloseReason>>,
}

impl Counters {
    fn closes(&self) -> Vec<CloseReason> {
        self.closes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A per-connection context that counts its drops.
#[derive(Debug)]
pub struct TestContext {
    counters: Arc<Counters>,
    closed: bool,
}

impl Drop for TestContext {
    fn drop(&mut self) {
        assert!(self.closed, "the close callback runs before the drop");
        self.counters.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// Echoes lines, with commands: `flood N` sends N lines of 1 KiB, `all X`
/// broadcasts X to every connection, `quit` closes, `pushN X` queues X to
/// itself N times through its own handle.
#[derive(Debug, Default)]
pub struct TestHandler {
    counters: Arc<Counters>,
    group: Group<Bytes>,
}

impl TextHandler for TestHandler {
    type Context = TestContext;

    fn on_connect(&self, conn: &mut Conn<'_, Bytes>) -> TestContext {
        self.counters.opened.fetch_add(1, Ordering::SeqCst);
        self.group.join(conn.handle());
        TestContext {
            counters: Arc::clone(&self.counters),
            closed: false,
        }
    }

    fn on_line(&self, _cx: &mut TestContext, conn: &mut TextConn<'_, '_>, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        if let Some(n) = text.strip_prefix("flood ") {
            let n: usize = n.parse().unwrap_or(0);
            let filler = [b'x'; 1023];
            for _ in 0..n {
                let _ = conn.send_line(&filler);
            }
        } else if let Some(rest) = text.strip_prefix("all ") {
            self.group
                .broadcast(&Bytes::copy_from_slice(rest.as_bytes()));
        } else if let Some(rest) = text.strip_prefix("push") {
            let (n, what) = rest.split_once(' ').unwrap_or((rest, ""));
            let handle = conn.conn.handle();
            for _ in 0..n.parse().unwrap_or(0) {
                let _ = handle.try_send(Bytes::copy_from_slice(what.as_bytes()));
            }
        } else if line == b"quit" {
            conn.close();
        } else {
            let _ = conn.send_line(line);
        }
    }

    fn on_close(&self, cx: &mut TestContext, conn: &mut Conn<'_, Bytes>, reason: &CloseReason) {
        assert!(!cx.closed, "one close callback per connection");
        cx.closed = true;
        self.group.leave(conn.id());
        self.counters
            .closes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(reason.clone());
    }
}

/// A server running on its own thread, force-stopped when dropped.
#[derive(Debug)]
pub struct TestServer {
    /// The server, running on its own thread (`handle`, `addr`, `join`).
    pub running: Running,
    /// What its handler saw.
    pub counters: Arc<Counters>,
}

impl std::ops::Deref for TestServer {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.running
    }
}

/// A server of any protocol running on a thread of its own, force-stopped
/// when dropped. The one place the test bodies start and stop servers.
#[derive(Debug)]
pub struct Running {
    /// Its handle.
    pub handle: ServerHandle,
    /// Its first address.
    pub addr: SocketAddr,
    done: Mutex<Option<mpsc::Receiver<io::Result<()>>>>,
}

impl Running {
    /// Runs `server` on `R` on a new thread.
    pub fn spawn<R: Runtime, P: Protocol>(server: Server<P>) -> Self {
        let handle = server.handle();
        let addr = server.local_addrs()[0];
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(server.run::<R>());
        });
        Self {
            handle,
            addr,
            done: Mutex::new(Some(rx)),
        }
    }

    /// Waits for the server thread to end and returns what `run` returned.
    ///
    /// # Panics
    ///
    /// When it does not end within [`WAIT`].
    pub fn join(&self) -> io::Result<()> {
        let rx = self
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("joined once");
        rx.recv_timeout(WAIT).expect("server ends within the bound")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.force_stop();
        if let Some(rx) = self
            .done
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = rx.recv_timeout(WAIT);
        }
    }
}

impl TestServer {
    /// Starts a test server on `127.0.0.1:0` with 2 workers, no signal
    /// handling, and whatever `configure` adds.
    ///
    /// # Panics
    ///
    /// When the server cannot be built.
    pub fn start<R: Runtime>(
        text: TextConfig,
        configure: impl FnOnce(Builder<TextService<TestHandler>>) -> Builder<TextService<TestHandler>>,
    ) -> Self {
        Self::start_on::<R>(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), text, configure)
            .expect("test server starts")
    }

    fn start_on<R: Runtime>(
        addr: SocketAddr,
        text: TextConfig,
        configure: impl FnOnce(Builder<TextService<TestHandler>>) -> Builder<TextService<TestHandler>>,
    ) -> io::Result<Self> {
        let handler = TestHandler::default();
        let counters = Arc::clone(&handler.counters);
        let builder = Server::builder(TextService::with_config(handler, text))
            .bind(addr)
            .workers(2)
            .handle_signals(false)
            .systemd_sockets(false);
        let server = configure(builder).build()?;
        Ok(Self {
            running: Running::spawn::<R, _>(server),
            counters,
        })
    }

    /// A client connected to the server.
    #[must_use]
    pub fn client(&self) -> Client {
        Client::connect(self.addr, None, None).expect("client connects")
    }

    /// A client connected from the loopback address `from`.
    #[must_use]
    pub fn client_from(&self, from: [u8; 4]) -> Client {
        Client::connect(self.addr, Some(IpAddr::from(from)), None).expect("client connects")
    }
}

/// A blocking line client with bounded reads.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Connects to `addr`, from `from` if given, with a receive buffer of
    /// `rcvbuf` bytes if given.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub fn connect(
        addr: SocketAddr,
        from: Option<IpAddr>,
        rcvbuf: Option<usize>,
    ) -> io::Result<Self> {
        let stream = connect_socket(addr, from, rcvbuf)?;
        Ok(Self {
            reader: BufReader::new(stream),
        })
    }

    /// Sends raw bytes.
    ///
    /// # Panics
    ///
    /// When the write fails.
    pub fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    /// Reads one line (without its `\n`).
    ///
    /// # Panics
    ///
    /// On EOF, an error, or no line within [`WAIT`].
    pub fn recv(&mut self) -> String {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .expect("a line within the bound");
        assert!(n > 0 && line.ends_with('\n'), "a whole line, got {line:?}");
        line.pop();
        line
    }

    /// Sends `line` and returns the answer.
    pub fn call(&mut self, line: &str) -> String {
        self.send(format!("{line}\n").as_bytes());
        self.recv()
    }

    /// Asserts the server closes the connection within [`WAIT`] without
    /// sending anything more, and returns how long that took.
    ///
    /// # Panics
    ///
    /// When data arrives or the connection stays open.
    pub fn expect_closed(&mut self) -> Duration {
        let start = Instant::now();
        let mut buf = [0; 64];
        match self.reader.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!(
                "expected a close, got {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected a close within the bound, got {e}"),
        }
        start.elapsed()
    }

    /// The socket.
    #[must_use]
    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }
}

/// A blocking loopback client socket: from `from` if given, with a
/// receive buffer of `rcvbuf` bytes if given, no Nagle, reads and writes
/// bounded by [`WAIT`].
fn connect_socket(
    addr: SocketAddr,
    from: Option<IpAddr>,
    rcvbuf: Option<usize>,
) -> io::Result<TcpStream> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    if let Some(bytes) = rcvbuf {
        socket.set_recv_buffer_size(bytes)?;
    }
    if let Some(ip) = from {
        socket.bind(&SocketAddr::new(ip, 0).into())?;
    }
    socket.connect_timeout(&addr.into(), WAIT)?;
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(WAIT))?;
    stream.set_write_timeout(Some(WAIT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Polls `condition` until it holds.
///
/// # Panics
///
/// When it does not hold within [`WAIT`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn short_text() -> TextConfig {
    let mut text = TextConfig::default();
    text.max_line_size(1024);
    text
}

/// Lines are echoed; a line over the cap gets `ERR line too long` and a
/// close, is counted, and leaves other connections alone.
pub fn echo_and_line_cap<R: Runtime>() {
    let server = TestServer::start::<R>(short_text(), |b| b);
    let mut ok = server.client();
    assert_eq!(ok.call("hello"), "hello");
    assert_eq!(ok.call("crlf\r"), "crlf");
    let mut bad = server.client();
    bad.send(&[b'y'; 1024]);
    assert_eq!(bad.call("z"), "ERR line too long");
    bad.expect_closed();
    // Exactly at the cap is fine.
    let cap = "c".repeat(1024);
    assert_eq!(ok.call(&cap), cap);
    wait_until("the error is counted", || {
        server.handle.stats().protocol_errors(ErrorKind::TooLarge) == 1
    });
    // The close callback follows the lingering read (the client keeps its
    // socket open), so it is waited for.
    drop(bad);
    wait_until("the close callback ran", || {
        server.counters.closes() == [CloseReason::PeerError(ErrorKind::TooLarge)]
    });
}

/// A machine that takes every whole line it is given at once (at most 64
/// queued) and echoes what it is told to; no deadline, no close.
#[derive(Default)]
struct LineQueue {
    lines: std::collections::VecDeque<Vec<u8>>,
    out: Vec<u8>,
}

impl proto_core::Drive for LineQueue {
    type Error = crate::text::LineTooLong;

    fn handle_input(&mut self, _now: Instant, bytes: &[u8]) -> Result<usize, Self::Error> {
        let mut used = 0;
        while self.lines.len() < 64 {
            let Some(end) = bytes[used..].iter().position(|&b| b == b'\n') else {
                break;
            };
            self.lines.push_back(bytes[used..used + end].to_vec());
            used += end + 1;
        }
        Ok(used)
    }

    fn handle_eof(&mut self, _now: Instant) {}

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant, out: &mut Vec<u8>) -> Option<proto_core::Transmit> {
        if self.out.is_empty() {
            return None;
        }
        let len = self.out.len();
        out.append(&mut self.out);
        Some(proto_core::Transmit::Data { len })
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn is_closed(&self) -> bool {
        false
    }
}

/// Echoes one line per [`Protocol::dispatch`] and keeps the default
/// [`Protocol::events_left`]: the other lines of a read wait in the
/// machine, and nothing but the driver's own rounds brings them out.
struct OneLinePerDispatch;

impl Protocol for OneLinePerDispatch {
    type Machine = LineQueue;
    type Context = ();
    type Message = Bytes;

    fn open(&self, _conn: &mut Conn<'_, Bytes>) -> (LineQueue, ()) {
        (LineQueue::default(), ())
    }

    fn dispatch(&self, machine: &mut LineQueue, _cx: &mut (), _conn: &mut Conn<'_, Bytes>) {
        if let Some(line) = machine.lines.pop_front() {
            machine.out.extend_from_slice(&line);
            machine.out.push(b'\n');
        }
    }

    fn deliver(&self, _: &mut LineQueue, _: &mut (), _: &mut Conn<'_, Bytes>, _: Bytes) {}

    fn is_quiet(&self, machine: &LineQueue) -> bool {
        machine.lines.is_empty() && machine.out.is_empty()
    }

    fn buffered(&self, machine: &LineQueue, _cx: &()) -> usize {
        machine.lines.iter().map(Vec::len).sum::<usize>() + machine.out.len()
    }
}

/// Lines written at once to a protocol that dispatches one event at a time
/// are all answered: after a round that wrote its answer and found the
/// socket drained, the driver still dispatches what the machine holds.
pub fn events_left_in_the_machine_are_dispatched<R: Runtime>() {
    let running = Running::start::<R, _>(Server::builder(OneLinePerDispatch));
    let mut c = Client::connect(running.addr, None, None).expect("client connects");
    c.send(b"one\ntwo\nthree\nfour\n");
    for line in ["one", "two", "three", "four"] {
        assert_eq!(c.recv(), line);
    }
}

/// The runtime's timer keeps the [`Sleep`](crate::runtime::Sleep) contract
/// the driver relies on: it completes at or after its deadline, never
/// before, also once reset earlier or later. (The driver does not poll a
/// timer armed ahead of its clock, so one that fired early would be missed.)
pub fn sleep_never_completes_before_its_deadline<R: Runtime>() {
    let checked = R::run(1, |rt| async move {
        let mut checked = 0;
        for micros in [0, 1, 50, 999, 1_000, 1_001, 2_500, 10_000] {
            let deadline = Instant::now() + Duration::from_micros(micros);
            rt.sleep_until(deadline).await;
            assert!(Instant::now() >= deadline, "fired early ({micros} µs)");
            let mut sleep = rt.sleep_until(Instant::now() + Duration::from_secs(3600));
            let earlier = Instant::now() + Duration::from_micros(micros);
            crate::runtime::Sleep::reset(&mut sleep, earlier);
            (&mut sleep).await;
            assert!(Instant::now() >= earlier, "fired early once reset");
            let later = Instant::now() + Duration::from_micros(micros);
            crate::runtime::Sleep::reset(&mut sleep, later);
            sleep.await;
            assert!(Instant::now() >= later, "fired early once reset again");
            checked += 1;
        }
        checked
    })
    .expect("the runtime starts");
    assert_eq!(checked, 8);
}

/// The global cap admits exactly `max`, closes the next at once without a
/// byte, counts it, and admits again once a connection closes; it can be
/// changed at run time.
pub fn global_cap_is_exact_and_recovers<R: Runtime>() {
    let server = TestServer::start::<R>(short_text(), |b| b.max_connections(3));
    let mut clients: Vec<Client> = (0..3).map(|_| server.client()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.call(&format!("c{i}")), format!("c{i}"));
    }
    let mut over = server.client();
    over.send(b"ignored\n");
    over.expect_closed();
    let stats = server.handle.stats();
    assert_eq!(
        (
            stats.accepted,
            stats.rejected_global_cap,
            stats.rejected_per_ip_cap
        ),
        (3, 1, 0)
    );

    drop(clients.remove(0));
    wait_until("a place is free", || {
        server.handle.admission().active() == 2
    });
    let mut again = server.client();
    assert_eq!(again.call("back"), "back");

    // Lowered at run time: new connections refused, none closed.
    server
        .handle
        .set_max_connections(1)
        .expect("a lower cap is fine");
    let mut refused = server.client();
    refused.expect_closed();
    assert_eq!(clients[0].call("still"), "still");
    assert_eq!(server.handle.stats().rejected_global_cap, 2);
    // A cap the descriptor limit cannot hold is refused, at run time and at
    // build time.
    assert!(server.handle.set_max_connections(usize::MAX / 2).is_err());
    assert_eq!(server.handle.admission().max_connections(), 1);
    let too_many = Server::builder(TextService::new(TestHandler::default()))
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .systemd_sockets(false)
        .max_connections(usize::MAX / 2)
        .build();
    assert_eq!(
        too_many.map(|_| ()).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
}

/// The per-IP cap counts each source address separately and exactly.
pub fn per_ip_cap_is_exact_and_recovers<R: Runtime>() {
    let server = TestServer::start::<R>(short_text(), |b| b.max_connections_per_ip(2));
    let mut a1 = server.client_from([127, 0, 0, 2]);
    let mut a2 = server.client_from([127, 0, 0, 2]);
    assert_eq!(a1.call("a1"), "a1");
    assert_eq!(a2.call("a2"), "a2");
    let mut a3 = server.client_from([127, 0, 0, 2]);
    a3.expect_closed();
    let mut b1 = server.client_from([127, 0, 0, 3]);
    let mut b2 = server.client_from([127, 0, 0, 3]);
    assert_eq!(b1.call("b1"), "b1");
    assert_eq!(b2.call("b2"), "b2");
    let stats = server.handle.stats();
    assert_eq!(
        (
            stats.accepted,
            stats.rejected_per_ip_cap,
            stats.rejected_global_cap
        ),
        (4, 1, 0)
    );

    drop(a1);
    let a_ip = IpAddr::from([127, 0, 0, 2]);
    wait_until("a place is free for 127.0.0.2", || {
        server.handle.admission().active_from(a_ip) == 1
    });
    let mut a4 = server.client_from([127, 0, 0, 2]);
    assert_eq!(a4.call("a4"), "a4");
    let mut a5 = server.client_from([127, 0, 0, 2]);
    a5.expect_closed();
    assert_eq!(server.handle.stats().rejected_per_ip_cap, 2);
}

/// Every connection's context is dropped exactly once, after its close
/// callback, whatever ended it: the peer, the application, a protocol error,
/// the idle timeout, the write-stall timeout, a stop.
pub fn context_is_dropped_exactly_once<R: Runtime>() {
    let mut text = short_text();
    text.idle_timeout(Duration::from_millis(500));
    let server = TestServer::start::<R>(text, |b| b.write_timeout(Duration::from_millis(200)));
    let counters = Arc::clone(&server.counters);

    let mut peer_closes = server.client();
    assert_eq!(peer_closes.call("x"), "x");
    peer_closes
        .stream()
        .shutdown(Shutdown::Both)
        .expect("shutdown");
    let mut app_closes = server.client();
    app_closes.send(b"quit\n");
    app_closes.expect_closed();
    let mut bad = server.client();
    bad.send(&[b'y'; 2000]);
    let mut stalled = Client::connect(server.addr, None, Some(4096)).expect("connects");
    stalled.send(b"flood 16000\n");
    let mut idle = server.client();
    idle.expect_closed();
    // Connected after every other deadline began, so the stop closes it.
    let mut at_stop = server.client();
    assert_eq!(at_stop.call("y"), "y");

    wait_until("five connections closed", || {
        server.handle.stats().closed == 5
    });
    assert_eq!(counters.dropped.load(Ordering::SeqCst), 5);
    server.handle.force_stop();
    server.join().expect("clean exit");
    let stats = server.handle.stats();
    assert_eq!(stats.accepted, 6);
    assert_eq!(stats.closed, 6);
    assert_eq!(counters.opened.load(Ordering::SeqCst), 6);
    assert_eq!(counters.dropped.load(Ordering::SeqCst), 6);
    let closes = counters.closes();
    assert_eq!(closes.len(), 6);
    for expected in [
        CloseReason::Local,
        CloseReason::PeerError(ErrorKind::TooLarge),
        CloseReason::TimedOut(Timer::WriteStall),
        CloseReason::Stopped,
    ] {
        assert!(closes.contains(&expected), "{expected:?} in {closes:?}");
    }
    drop((stalled, at_stop, bad));
}

/// A peer with a small receive buffer that never reads is closed at the
/// write-stall deadline, while others are served.
pub fn write_stall_closes_a_peer_that_does_not_read<R: Runtime>() {
    let stall = Duration::from_millis(300);
    let server = TestServer::start::<R>(short_text(), |b| b.write_timeout(stall));
    let mut stalled = Client::connect(server.addr, None, Some(4096)).expect("connects");
    stalled.send(b"flood 16000\n");
    let mut other = server.client();
    assert_eq!(other.call("served"), "served");
    // The timeout is counted when it fires, the close once the connection
    // is gone: wait for both.
    wait_until("the stalled peer is closed", || {
        let stats = server.handle.stats();
        stats.timeouts(Timer::WriteStall) == 1 && stats.closed == 1
    });
    assert_eq!(
        server.counters.closes(),
        [CloseReason::TimedOut(Timer::WriteStall)]
    );
    assert_eq!(other.call("still served"), "still served");
    // The peer got far less than was queued.
    let mut received = 0usize;
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stalled.reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    assert!(received < 16000 * 1024, "received {received}");
}

/// A silent connection is closed by the Text machine's own idle deadline,
/// not before it, and the timeout is counted.
pub fn idle_timeout_comes_from_the_machine<R: Runtime>() {
    let idle = Duration::from_millis(300);
    let mut text = short_text();
    text.idle_timeout(idle);
    let server = TestServer::start::<R>(text, |b| b);
    let connected = Instant::now();
    let mut silent = server.client();
    let mut active = server.client();
    // Input re-arms the deadline: `active` outlives `silent` (pacing, not
    // synchronisation: each line must arrive within the idle timeout).
    for _ in 0..6 {
        assert_eq!(active.call("alive"), "alive");
        std::thread::sleep(idle / 4);
    }
    silent.expect_closed();
    assert!(connected.elapsed() >= idle);
    assert_eq!(server.handle.stats().timeouts(Timer::Idle), 1);
    assert_eq!(active.call("alive"), "alive");
    let silence = Instant::now();
    active.expect_closed();
    assert!(silence.elapsed() + Duration::from_millis(50) >= idle);
    wait_until("both timeouts are counted", || {
        server.handle.stats().timeouts(Timer::Idle) == 2
    });
    drop((silent, active));
    wait_until("both close callbacks ran", || {
        server.counters.closes() == [CloseReason::Done, CloseReason::Done]
    });
}

/// A graceful stop refuses new connections at once, lets a line already on
/// its way finish, closes quiet connections after the grace, and ends.
pub fn graceful_stop_finishes_in_flight_lines<R: Runtime>() {
    let grace = Duration::from_millis(300);
    let server = TestServer::start::<R>(short_text(), |b| {
        b.grace(grace).drain_timeout(Duration::from_secs(5))
    });
    let mut quiet = server.client();
    assert_eq!(quiet.call("q"), "q");
    let mut in_flight = server.client();
    in_flight.send(b"hel");
    let mut never_spoke = server.client();
    wait_until("three connections are served", || {
        server.handle.admission().active() == 3
    });

    let stopped_at = Instant::now();
    server.handle.stop();
    wait_until("new connections are refused", || {
        matches!(
            TcpStream::connect_timeout(&server.addr, WAIT),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
        )
    });
    // Quiet connections are closed at the grace, not before.
    never_spoke.expect_closed();
    assert!(stopped_at.elapsed() >= grace);
    quiet.expect_closed();
    // The partial line was in flight: it survived the grace.
    in_flight.send(b"lo\n");
    assert_eq!(in_flight.recv(), "hello");
    in_flight.expect_closed();
    server.join().expect("clean exit");
    let stats = server.handle.stats();
    assert_eq!(stats.accepted, stats.closed);
    assert_eq!(stats.timeouts(Timer::Drain), 0);
    assert_eq!(
        server.counters.dropped.load(Ordering::SeqCst),
        server.counters.opened.load(Ordering::SeqCst)
    );
}

/// A forced stop (the second signal) closes everything at once; the drain
/// deadline closes what a graceful stop could not finish.
pub fn force_stop_closes_everything_at_once<R: Runtime>() {
    let server = TestServer::start::<R>(short_text(), |b| {
        b.grace(Duration::from_millis(50))
            .drain_timeout(Duration::from_millis(300))
    });
    let mut in_flight = server.client();
    in_flight.send(b"never finished");
    let mut other = server.client();
    other.send(b"also never");
    wait_until("both are served", || {
        server.handle.admission().active() == 2
    });
    server.handle.stop();
    // The drain deadline ends both partial lines.
    in_flight.expect_closed();
    other.expect_closed();
    server.join().expect("clean exit");
    assert_eq!(server.handle.stats().timeouts(Timer::Drain), 2);

    let server = TestServer::start::<R>(short_text(), |b| b.drain_timeout(WAIT * 10));
    let mut in_flight = server.client();
    in_flight.send(b"never finished");
    wait_until("it is served", || server.handle.admission().active() == 1);
    server.handle.stop();
    server.handle.force_stop();
    in_flight.expect_closed();
    server.join().expect("clean exit");
    assert_eq!(server.counters.closes(), [CloseReason::Stopped]);
}

/// One worker; a client trickling bytes and a client flooding lines do not
/// keep 50 ordinary request/response exchanges from completing.
pub fn trickling_and_flooding_clients_do_not_starve_others<R: Runtime>() {
    let server = TestServer::start::<R>(short_text(), |b| b.workers(1));
    let addr = server.addr;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut c = Client::connect(addr, None, None).expect("connects");
            for _ in 0..1000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                c.send(b"t");
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let flooder = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let c = Client::connect(addr, None, None).expect("connects");
            let mut reader = c.stream().try_clone().expect("clone");
            let drain = std::thread::spawn(move || {
                let mut buf = vec![0; 64 * 1024];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                }
            });
            let mut writer = c.stream().try_clone().expect("clone");
            let burst = b"flood-line\n".repeat(1000);
            for _ in 0..2000 {
                if stop.load(Ordering::SeqCst) || writer.write_all(&burst).is_err() {
                    break;
                }
            }
            let _ = writer.shutdown(Shutdown::Both);
            let _ = drain.join();
        })
    };
    let start = Instant::now();
    for i in 0..50 {
        let mut c = server.client();
        assert_eq!(c.call(&format!("req{i}")), format!("req{i}"));
    }
    let took = start.elapsed();
    stop.store(true, Ordering::SeqCst);
    trickler.join().expect("trickler");
    flooder.join().expect("flooder");
    assert!(took < WAIT / 2, "50 exchanges took {took:?}");
}

/// An IPv6 loopback listener is served (skipped where `::1` is missing).
pub fn ipv6_loopback_is_served<R: Runtime>() {
    let addr: SocketAddr = "[::1]:0".parse().expect("address");
    let server = match TestServer::start_on::<R>(addr, short_text(), |b| b) {
        Ok(server) => server,
        Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => {
            eprintln!("skipped: no IPv6 loopback");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert!(server.addr.is_ipv6());
    let mut c = server.client();
    assert_eq!(c.call("six"), "six");
}

/// On an IPv6 socket that also serves IPv4 (here bound to the IPv4-mapped
/// loopback address, so nothing outside the machine can reach it), IPv4
/// clients arrive as `::ffff:a.b.c.d` and are capped per IPv4 address.
pub fn ipv4_mapped_clients_count_as_ipv4<R: Runtime>() {
    let addr: SocketAddr = "[::ffff:127.0.0.1]:0".parse().expect("address");
    let server =
        match TestServer::start_on::<R>(addr, short_text(), |b| b.max_connections_per_ip(1)) {
            Ok(server) => server,
            Err(e) => {
                eprintln!("skipped: no dual-stack loopback ({e})");
                return;
            }
        };
    let v4 = SocketAddr::from(([127, 0, 0, 1], server.addr.port()));
    let mut a = Client::connect(v4, Some(IpAddr::from([127, 0, 0, 2])), None).expect("connects");
    assert_eq!(a.call("mapped"), "mapped");
    let two = IpAddr::from([127, 0, 0, 2]);
    assert_eq!(server.handle.admission().active_from(two), 1);
    let mut again = Client::connect(v4, Some(two), None).expect("connects");
    again.expect_closed();
    let mut b = Client::connect(v4, Some(IpAddr::from([127, 0, 0, 3])), None).expect("connects");
    assert_eq!(b.call("other"), "other");
    assert_eq!(server.handle.stats().rejected_per_ip_cap, 1);
}

/// Connection handles deliver in order from anywhere; a group reaches
/// every member, the sender included.
pub fn handles_and_groups_deliver<R: Runtime>() {
    let server = TestServer::start::<R>(short_text(), |b| b);
    let mut clients: Vec<Client> = (0..3).map(|_| server.client()).collect();
    for c in &mut clients {
        assert_eq!(c.call("hi"), "hi");
    }
    clients[1].send(b"all news\n");
    for c in &mut clients {
        assert_eq!(c.recv(), "news");
    }
    clients[0].send(b"push3 again\n");
    for _ in 0..3 {
        assert_eq!(clients[0].recv(), "again");
    }
    assert_eq!(clients[0].call("done"), "done");
}

/// Under `QueueFull::Close`, overflowing a connection's queue closes it.
pub fn full_queue_closes_the_connection<R: Runtime>() {
    let server = TestServer::start::<R>(short_text(), |b| b.queue_capacity(4));
    let mut c = server.client();
    assert_eq!(c.call("hi"), "hi");
    // All five are queued in one callback, before the driver can deliver.
    c.send(b"push5 x\n");
    let mut got = Vec::new();
    let mut line = String::new();
    while c.reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        got.push(std::mem::take(&mut line));
    }
    assert!(got.is_empty(), "closed at once, nothing delivered: {got:?}");
    wait_until("the close is recorded", || {
        server.counters.closes() == [CloseReason::QueueFull]
    });
}

/// With a 1 MiB budget, three clients send long partial lines (600, 300
/// and 300 KiB): when the third pushes the buffered bytes over the budget,
/// the largest gets `ERR over budget` and a close, alone, with
/// [`CloseReason::OverBudget`]; the others finish their lines and get them
/// back, a small client keeps being served, the gauge returns to 0, and
/// reads resume for a long line.
pub fn buffer_budget_pauses_reads_and_closes_the_largest<R: Runtime>() {
    const KIB: usize = 1024;
    let mut text = TextConfig::default();
    text.max_line_size(1024 * KIB);
    let server = TestServer::start::<R>(text, |b| b.max_buffered_bytes(1024 * KIB));
    assert_eq!(server.handle.max_buffered_bytes(), 1024 * KIB);
    let gauge = || server.handle.stats().buffered_bytes;
    let mut small = server.client();
    assert_eq!(small.call("before"), "before");

    let mut largest = server.client();
    largest.send(&vec![b'a'; 600 * KIB]);
    wait_until("the largest is buffered", || gauge() >= 600 * KIB as u64);
    let mut second = server.client();
    second.send(&vec![b'b'; 300 * KIB]);
    wait_until("the second is buffered", || gauge() >= 900 * KIB as u64);
    let mut third = server.client();
    third.send(&vec![b'c'; 300 * KIB]);
    assert_eq!(largest.recv(), "ERR over budget");
    largest.expect_closed();
    drop(largest);
    wait_until("the close is recorded", || {
        server.counters.closes() == [CloseReason::OverBudget]
    });
    assert_eq!(small.call("during"), "during");
    second.send(b"\n");
    assert_eq!(second.recv(), "b".repeat(300 * KIB));
    third.send(b"\n");
    assert_eq!(third.recv(), "c".repeat(300 * KIB));
    drop((second, third));
    wait_until("the buffers are released", || gauge() == 0);

    let mut again = server.client();
    let long = "d".repeat(700 * KIB);
    assert_eq!(again.call(&long), long);
    assert_eq!(small.call("after"), "after");
    assert_eq!(server.handle.stats().closed_over_budget, 1);
}

/// Instantiates the signal tests against a runtime crate's Text-protocol
/// example, run as a child process (`cargo test` builds examples).
#[macro_export]
macro_rules! signal_tests {
    ($example:literal) => {
        $crate::signal_tests!(@each $example;
            sigterm_stops_gracefully,
            a_second_signal_forces_the_exit,
            reload_hands_over_without_failures,
            socket_activation_adopts_the_listener,
            socket_activation_is_for_the_named_process_only,
            socket_activation_refuses_a_descriptor_that_is_not_a_socket,
        );
    };
    (@each $example:literal; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::testing::$name(&$crate::testing::example_path($example));
            }
        )*
    };
}

/// Where cargo put example `name` of the crate whose tests are running:
/// `target/<profile>/examples/`, beside the test binary's `deps/`.
///
/// `cargo test` builds the examples, but `cargo test NAME` (with a filter)
/// does not: after a change, run `cargo build --examples` before a filtered
/// run, or it tests the examples of the last full build.
///
/// # Panics
///
/// When the example was not built.
#[must_use]
pub fn example_path(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run `cargo test` (a filtered `cargo test NAME` does not build examples) or `cargo build --examples`",
        path.display()
    );
    path
}

/// A server example running as a child process, killed if still running
/// when dropped.
#[derive(Debug)]
struct Child {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Child {
    fn spawn(example: &std::path::Path, args: &[&str]) -> Self {
        let mut command = std::process::Command::new(example);
        command.args(["--addr", "127.0.0.1:0"]).args(args);
        Self::start(command)
    }

    /// Starts `command` with its stdout piped and waits for its
    /// `listening on IP:PORT` line.
    fn start(mut command: std::process::Command) -> Self {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        // Keep reading: reloaded processes print their own lines to the
        // same pipe, and a closed pipe would fail their output.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(WAIT).expect("a line within the bound");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("`listening on IP:PORT`, got {line:?}"));
        Self { child, addr }
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut status = None;
        wait_until("the server exits", || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        });
        status.expect("exited")
    }

    fn refuses_connections(&self) -> bool {
        matches!(
            TcpStream::connect_timeout(&self.addr, WAIT),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
        )
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM: the listener closes at once, a line in flight finishes, quiet
/// connections close after the grace, and the process exits 0.
pub fn sigterm_stops_gracefully(example: &std::path::Path) {
    let mut server = Child::spawn(example, &["--grace-ms", "300", "--drain-ms", "5000"]);
    let mut quiet = Client::connect(server.addr, None, None).expect("connects");
    assert_eq!(quiet.call("hi"), "hi");
    let mut in_flight = Client::connect(server.addr, None, None).expect("connects");
    assert_eq!(in_flight.call("first"), "first");
    in_flight.send(b"hel");
    server.signal("TERM");
    wait_until("new connections are refused", || {
        server.refuses_connections()
    });
    quiet.expect_closed();
    in_flight.send(b"lo\n");
    assert_eq!(in_flight.recv(), "hello");
    in_flight.expect_closed();
    let status = server.wait_exit();
    assert!(status.success(), "{status}");
}

/// A second stop signal forces the exit long before the drain deadline.
pub fn a_second_signal_forces_the_exit(example: &std::path::Path) {
    let mut server = Child::spawn(example, &["--grace-ms", "60000", "--drain-ms", "60000"]);
    let mut in_flight = Client::connect(server.addr, None, None).expect("connects");
    assert_eq!(in_flight.call("first"), "first");
    in_flight.send(b"never finished");
    let start = Instant::now();
    server.signal("INT");
    wait_until("new connections are refused", || {
        server.refuses_connections()
    });
    server.signal("QUIT");
    in_flight.expect_closed();
    let status = server.wait_exit();
    assert!(status.success(), "{status}");
    assert!(start.elapsed() < WAIT, "forced, not drained");
}

/// A command that runs `example` the way systemd's socket activation does:
/// `fd` becomes descriptor 3, `LISTEN_FDS=1`, and `LISTEN_PID` is the
/// example's own pid (`$$` of the shell it `exec`s from), or `pid` when given.
///
/// The descriptor travels as the shell's stdin, so no `unsafe` is needed to
/// pass it across `exec`.
#[cfg(unix)]
fn socket_activated(
    example: &std::path::Path,
    fd: impl Into<std::process::Stdio>,
    pid: Option<u32>,
    args: &[&str],
) -> std::process::Command {
    let listen_pid = pid.map_or_else(|| "$$".to_owned(), |pid| pid.to_string());
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "exec 3<&0 </dev/null; LISTEN_PID={listen_pid} LISTEN_FDS=1 exec \"$0\" \"$@\""
        ))
        .arg(example)
        .args(args)
        .stdin(fd);
    command
}

/// systemd socket activation: the server adopts the listening socket it is
/// handed as descriptor 3 instead of binding `--addr`, and serves on it.
#[cfg(unix)]
pub fn socket_activation_adopts_the_listener(example: &std::path::Path) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let command = socket_activated(
        example,
        std::os::fd::OwnedFd::from(listener),
        None,
        &["--addr", "127.0.0.1:0"],
    );
    let server = Child::start(command);
    assert_eq!(server.addr, addr, "serves on the socket it was handed");
    one_request(addr, "activated").expect("served on the adopted socket");
}

/// `LISTEN_FDS` meant for another process (`LISTEN_PID` names it) is left
/// alone: the server binds `--addr` as usual.
#[cfg(unix)]
pub fn socket_activation_is_for_the_named_process_only(example: &std::path::Path) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let handed = listener.local_addr().expect("local_addr");
    let command = socket_activated(
        example,
        std::os::fd::OwnedFd::from(listener),
        Some(std::process::id()),
        &["--addr", "127.0.0.1:0"],
    );
    let server = Child::start(command);
    assert_ne!(server.addr, handed, "binds its own address");
    one_request(server.addr, "bound").expect("served on its own socket");
}

/// Descriptor 3 is not a socket: the server refuses to start, with an
/// error, rather than serving something it does not understand.
#[cfg(unix)]
pub fn socket_activation_refuses_a_descriptor_that_is_not_a_socket(example: &std::path::Path) {
    let file = std::fs::File::open(example).expect("open the example itself");
    let mut child = socket_activated(example, file, None, &["--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the example starts");
    let mut status = None;
    wait_until("the server gives up", || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    });
    let status = status.expect("exited");
    assert!(!status.success(), "refuses to start: {status}");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("stdout");
    assert!(
        !stdout.contains("listening on"),
        "never serves, printed {stdout:?}"
    );
}

/// User plus system CPU time of process `pid` (all its threads), in clock
/// ticks, from `/proc`; `None` without one.
pub(crate) fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the parenthesised command: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit(')').next()?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Whether process `pid` is running (a zombie is not).
fn alive(pid: u32) -> bool {
    if std::path::Path::new("/proc/self/stat").exists() {
        return std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            // The state follows the parenthesised command name.
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        });
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .status()
        .is_ok_and(|status| status.success())
}

fn kill(signal: &str, pid: u32) {
    let _ = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status();
}

/// Kills every process a test started, whatever happens.
struct Reaper(Vec<u32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in &self.0 {
            if alive(*pid) {
                kill("KILL", *pid);
            }
        }
    }
}

/// One request on a fresh connection: connect, send a line, read it back.
fn one_request(addr: SocketAddr, line: &str) -> Result<(), String> {
    let stream = TcpStream::connect_timeout(&addr, WAIT).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(WAIT))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    reader
        .get_mut()
        .write_all(format!("{line}\n").as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = String::new();
    reader
        .read_line(&mut answer)
        .map_err(|e| format!("receive: {e}"))?;
    if answer.trim_end() == line {
        Ok(())
    } else {
        Err(format!("answer {answer:?} to {line:?}"))
    }
}

/// Three consecutive reloads (SIGUSR1, SIGUSR2, SIGUSR1) while four clients
/// send requests continuously: no request fails, each reload starts a new
/// process that takes over the pid file, and each old process exits 0 after
/// draining.
pub fn reload_hands_over_without_failures(example: &std::path::Path) {
    reload_under_load(
        example,
        &|addr, n| one_request(addr, &format!("client-{n}")),
        &|_, _| {},
    );
}

/// Three consecutive reloads (SIGUSR1, SIGUSR2, SIGUSR1) of `example` while
/// four clients call `request` continuously: none fails, each reload
/// starts a new process that takes over the pid file (`after_reload` gets
/// the address and the new pid), each old process exits 0 after draining.
pub(crate) fn reload_under_load(
    example: &std::path::Path,
    request: &(dyn Fn(SocketAddr, u64) -> Result<(), String> + Sync),
    after_reload: &dyn Fn(SocketAddr, u32),
) {
    let dir = std::env::temp_dir().join(format!(
        "rampart-reload-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pid_file = dir.join("pid");
    let pid_arg = pid_file.to_str().expect("utf-8 temp path").to_owned();
    let mut server = Child::spawn(example, &["--pid-file", &pid_arg, "--grace-ms", "300"]);
    let first = server.child.id();
    let mut reaper = Reaper(vec![first]);
    let read_pid = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
    };
    wait_until("the pid file names the server", || {
        read_pid() == Some(first)
    });

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut current = first;
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..4u64)
            .map(|i| {
                let (stop, served, failures) = (
                    Arc::clone(&stop),
                    Arc::clone(&served),
                    Arc::clone(&failures),
                );
                let addr = server.addr;
                scope.spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        match request(addr, i * 1_000_000 + n) {
                            Ok(()) => drop(served.fetch_add(1, Ordering::SeqCst)),
                            Err(e) => failures
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .push(e),
                        }
                    }
                })
            })
            .collect();
        let flowing = |served: &AtomicUsize| {
            let before = served.load(Ordering::SeqCst);
            wait_until("requests flow", || {
                served.load(Ordering::SeqCst) >= before + 50
            });
        };
        flowing(&served);

        for signal in ["USR1", "USR2", "USR1"] {
            kill(signal, current);
            wait_until("a new process takes over the pid file", || {
                read_pid().is_some_and(|pid| !reaper.0.contains(&pid))
            });
            let next = read_pid().expect("pid");
            reaper.0.push(next);
            wait_until("the old process drains and exits", || !alive(current));
            if current == first {
                let status = server.wait_exit();
                assert!(status.success(), "{status}");
            }
            after_reload(server.addr, next);
            flowing(&served);
            current = next;
        }

        stop.store(true, Ordering::SeqCst);
        for client in clients {
            client.join().expect("client thread");
        }
    });
    let failures = failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert!(
        failures.is_empty(),
        "{} failed requests: {failures:?}",
        failures.len()
    );
    assert!(served.load(Ordering::SeqCst) >= 200);
    kill("TERM", current);
    wait_until("the last process exits", || !alive(current));
    let _ = std::fs::remove_dir_all(&dir);
}
