//! The server: builder, accept loop, caps, statistics, stop.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use event_listener::{Event, EventListener};
use proto_core::{Admission, Snapshot, Stats};

use crate::budget::{Budget, DEFAULT_MAX_BUFFERED_BYTES};
use crate::driver::serve_connection;
use crate::handle::QueueFull;
use crate::protocol::Protocol;
use crate::runtime::{Listener, Runtime, Sleep, Stream};
use crate::sys;
use crate::wakers::{Registration, WakerSet};

/// Descriptors kept beyond one per connection: listeners, the runtime's own
/// (epoll, eventfd, signal pipe), logs, a reload's pipe.
const FD_RESERVE: u64 = 64;
/// How long the accept loop pauses when the process is out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Connections accepted per wake-up before yielding.
const MAX_ACCEPTS: usize = 64;

/// Transport settings, fixed at build time.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) write_timeout: Duration,
    pub(crate) drain_timeout: Duration,
    pub(crate) grace: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) queue_full: QueueFull,
    pub(crate) reload_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            write_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(30),
            grace: Duration::from_secs(1),
            queue_capacity: 64,
            queue_full: QueueFull::Close,
            reload_timeout: Duration::from_secs(30),
        }
    }
}

/// Where a server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopState {
    Running,
    Stopping,
    Forced,
}

/// What every task of one server shares.
pub(crate) struct Shared {
    pub(crate) admission: Admission,
    pub(crate) stats: Stats,
    pub(crate) config: Config,
    /// The global budget on buffered bytes.
    pub(crate) budget: Arc<Budget>,
    fd_limit: Option<u64>,
    state: AtomicU8,
    stop_at: Mutex<Option<Instant>>,
    /// Connections and accept loops, woken on stop and on force.
    pub(crate) stop_wakers: Arc<WakerSet>,
    /// Accept loops and connections still running.
    live: AtomicUsize,
    /// Notified on stop and when `live` drops to zero.
    done_event: Event,
    local_addrs: Vec<SocketAddr>,
    /// Duplicates of the listeners to hand to a successor; dropped on stop
    /// so the sockets close with the accept loops.
    handoff: Mutex<Vec<TcpListener>>,
    /// A reload is under way.
    reloading: AtomicBool,
}

impl Shared {
    pub(crate) fn stop_state(&self) -> StopState {
        match self.state.load(Ordering::Acquire) {
            0 => StopState::Running,
            1 => StopState::Stopping,
            _ => StopState::Forced,
        }
    }

    pub(crate) fn stop_at(&self) -> Option<Instant> {
        *self.stop_at.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop(&self) {
        {
            let mut stop_at = self.stop_at.lock().unwrap_or_else(PoisonError::into_inner);
            if stop_at.is_some() {
                return;
            }
            // Published before the state, so whoever sees `Stopping` finds it.
            *stop_at = Some(Instant::now());
            self.state.store(1, Ordering::Release);
        }
        self.handoff
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.stop_wakers.wake_all();
        self.done_event.notify(usize::MAX);
    }

    fn force(&self) {
        self.stop();
        self.state.store(2, Ordering::Release);
        self.stop_wakers.wake_all();
        self.done_event.notify(usize::MAX);
    }

    fn is_finished(&self) -> bool {
        self.stop_state() != StopState::Running && self.live.load(Ordering::Acquire) == 0
    }

    fn check_fd_limit(&self, max_connections: usize) -> io::Result<()> {
        check_fd_limit(self.fd_limit, max_connections, self.local_addrs.len())
    }
}

fn check_fd_limit(limit: Option<u64>, max_connections: usize, listeners: usize) -> io::Result<()> {
    let needed = (max_connections as u64)
        .saturating_add(listeners as u64)
        .saturating_add(FD_RESERVE);
    match limit {
        Some(limit) if needed > limit => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "max_connections {max_connections} needs {needed} file descriptors, \
                 but RLIMIT_NOFILE is {limit} (raise the hard limit, e.g. LimitNOFILE=)"
            ),
        )),
        _ => Ok(()),
    }
}

/// Counts a running task; the last one out wakes whoever waits for the end.
pub(crate) struct LiveGuard {
    shared: Arc<Shared>,
}

impl LiveGuard {
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        shared.live.fetch_add(1, Ordering::AcqRel);
        Self {
            shared: Arc::clone(shared),
        }
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if self.shared.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.done_event.notify(usize::MAX);
        }
    }
}

/// Configures and binds a [`Server`].
///
/// Every setting has a finite default: 10,000 connections, 256 per IPv4
/// address or IPv6 /64, 256 MiB buffered across all connections, a 30 s
/// write-stall timeout, a 1 s grace and a 30 s drain deadline on stop.
///
/// ```no_run
/// use adapter_core::Server;
/// use adapter_core::text::{TextService, TextConn, TextHandler};
/// use std::time::Duration;
/// # struct Echo;
/// # impl TextHandler for Echo {
/// #     type Context = ();
/// #     fn on_connect(&self, _: &mut adapter_core::Conn<'_, bytes::Bytes>) {}
/// #     fn on_line(&self, _: &mut (), c: &mut TextConn<'_, '_>, l: &[u8]) { let _ = c.send_line(l); }
/// # }
///
/// let server = Server::builder(TextService::new(Echo))
///     .bind("127.0.0.1:0".parse()?)
///     .bind("[::1]:0".parse()?)
///     .max_connections(1000)
///     .max_connections_per_ip(10)
///     .write_timeout(Duration::from_secs(10))
///     .build()?;
/// println!("listening on {:?}", server.local_addrs());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<P> {
    protocol: P,
    addrs: Vec<SocketAddr>,
    listeners: Vec<TcpListener>,
    config: Config,
    max_connections: usize,
    max_connections_per_ip: usize,
    max_buffered_bytes: usize,
    ipv6_prefix_len: u8,
    workers: usize,
    signals: bool,
    systemd: bool,
    pid_file: Option<PathBuf>,
}

impl<P> fmt::Debug for Builder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("addrs", &self.addrs)
            .field("config", &self.config)
            .field("max_connections", &self.max_connections)
            .field("max_connections_per_ip", &self.max_connections_per_ip)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Builder<P> {
    /// Adds an address to listen on (IPv4 or IPv6; port 0 picks a free
    /// port). With none, `127.0.0.1:8080`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addrs.push(addr);
        self
    }

    /// Adds an already bound listening socket (e.g. one you configured).
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Worker threads for [`Server::run`]; default: available parallelism.
    /// They share the listeners.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Global cap on concurrent connections; default 10,000. Checked
    /// against `RLIMIT_NOFILE` by [`build`](Builder::build).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Cap per IPv4 address or IPv6 prefix; default 256.
    pub fn max_connections_per_ip(mut self, max: usize) -> Self {
        self.max_connections_per_ip = max;
        self
    }

    /// The global budget on bytes buffered across all connections, in
    /// bytes; default 256 MiB ([`DEFAULT_MAX_BUFFERED_BYTES`]).
    ///
    /// What counts: input read but not yet taken by a machine, output not
    /// yet taken by the socket, and what each [`Protocol::buffered`]
    /// reports (for [`WebService`](crate::web::WebService): WebSocket
    /// messages being assembled and queued, HTTP responses queued, and what
    /// the handler says its context holds). The per-connection caps bound
    /// one connection; this bounds their sum, which the caps times
    /// `max_connections` would not (16 MiB messages × 10,000 connections).
    /// The default fits a small container and still lets 16 maximal
    /// (16 MiB) WebSocket messages be in flight at once; raise it with the
    /// memory you give the server, lower it to shed load earlier.
    ///
    /// When the gauge ([`Snapshot::buffered_bytes`]) goes over it, no
    /// connection reads new input until it is back under, and the
    /// connections holding the largest buffers are closed, largest first,
    /// until they cover the excess: a WebSocket gets close code 1009
    /// (message too big), an HTTP request not yet answered gets `413` and a
    /// close, other protocols what [`Protocol::over_budget`] sends. They are
    /// counted in [`Snapshot::closed_over_budget`] and closed with
    /// [`CloseReason::OverBudget`](crate::CloseReason::OverBudget).
    /// [`build`](Builder::build) refuses 0.
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// The IPv6 prefix that counts as one client; default 64.
    pub fn ipv6_prefix_len(mut self, bits: u8) -> Self {
        self.ipv6_prefix_len = bits;
        self
    }

    /// How long the peer may take no byte of pending output before the
    /// connection is closed ([`Timer::WriteStall`](proto_core::Timer));
    /// default 30 s.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.config.write_timeout = timeout;
        self
    }

    /// On stop, how long in-flight work may go on before what remains is
    /// closed by force ([`Timer::Drain`](proto_core::Timer)); default 30 s.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.config.drain_timeout = timeout;
        self
    }

    /// On stop, how long idle and not-yet-speaking connections are kept,
    /// so a request already on its way is still served; default 1 s.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.config.grace = grace;
        self
    }

    /// Capacity of each connection's outbound queue, in messages; default
    /// 64.
    pub fn queue_capacity(mut self, messages: usize) -> Self {
        self.config.queue_capacity = messages.max(1);
        self
    }

    /// What a full outbound queue does; default [`QueueFull::Close`].
    pub fn queue_full(mut self, policy: QueueFull) -> Self {
        self.config.queue_full = policy;
        self
    }

    /// Stop on SIGTERM, SIGINT and SIGQUIT (a second one forces); default
    /// on for [`Server::run`], for [`Server::serve`] too.
    pub fn handle_signals(mut self, on: bool) -> Self {
        self.signals = on;
        self
    }

    /// Adopt systemd's socket-activation descriptors (`LISTEN_FDS`) at
    /// start, in place of the bound addresses; default on.
    pub fn systemd_sockets(mut self, on: bool) -> Self {
        self.systemd = on;
        self
    }

    /// Writes the serving process id to `path` once serving (and again from
    /// each reloaded process), so it stays current across reloads.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// How long a reload waits for the new process to report ready before
    /// killing it and serving on; default 30 s.
    pub fn reload_timeout(mut self, timeout: Duration) -> Self {
        self.config.reload_timeout = timeout;
        self
    }

    /// Raises the descriptor limit, checks the caps against it, and binds.
    ///
    /// Listening sockets handed over by a reloading predecessor take
    /// precedence over systemd's (`LISTEN_FDS`), which take precedence over
    /// the addresses given to [`bind`](Builder::bind).
    ///
    /// # Errors
    ///
    /// When an address cannot be bound, an inherited socket is unusable, or
    /// `max_connections` needs more descriptors than `RLIMIT_NOFILE` allows
    /// even after raising the soft limit to the hard one, or
    /// `max_buffered_bytes` is 0.
    pub fn build(self) -> io::Result<Server<P>> {
        if self.max_buffered_bytes == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "max_buffered_bytes must be at least 1",
            ));
        }
        let fd_limit = sys::raise_nofile_limit()?;
        let mut listeners = self.listeners;
        let mut ready = None;
        #[cfg(unix)]
        let handed_over = match crate::reload::inherited()? {
            Some(inherited) => {
                ready = inherited.ready;
                inherited.listeners
            }
            None => Vec::new(),
        };
        #[cfg(not(unix))]
        let handed_over = Vec::new();
        let inherited = if !handed_over.is_empty() {
            listeners.clear();
            handed_over
        } else if self.systemd {
            sys::systemd_listeners()?
        } else {
            Vec::new()
        };
        if inherited.is_empty() {
            let addrs = if self.addrs.is_empty() && listeners.is_empty() {
                vec![SocketAddr::from(([127, 0, 0, 1], 8080))]
            } else {
                self.addrs
            };
            for addr in addrs {
                listeners.push(TcpListener::bind(addr)?);
            }
        } else {
            listeners.extend(inherited);
        }
        let mut local_addrs = Vec::with_capacity(listeners.len());
        for listener in &listeners {
            listener.set_nonblocking(true)?;
            local_addrs.push(listener.local_addr()?);
        }
        check_fd_limit(fd_limit, self.max_connections, listeners.len())?;
        let handoff = if cfg!(unix) {
            listeners
                .iter()
                .map(TcpListener::try_clone)
                .collect::<io::Result<_>>()?
        } else {
            Vec::new()
        };
        let shared = Arc::new(Shared {
            admission: Admission::with_ipv6_prefix_len(
                self.max_connections,
                self.max_connections_per_ip,
                self.ipv6_prefix_len,
            ),
            stats: Stats::new(),
            config: self.config,
            budget: Arc::new(Budget::new(self.max_buffered_bytes as u64)),
            fd_limit,
            state: AtomicU8::new(0),
            stop_at: Mutex::new(None),
            stop_wakers: Arc::default(),
            live: AtomicUsize::new(0),
            done_event: Event::new(),
            local_addrs,
            handoff: Mutex::new(handoff),
            reloading: AtomicBool::new(false),
        });
        Ok(Server {
            protocol: Arc::new(self.protocol),
            listeners,
            shared,
            workers: self.workers,
            signals: self.signals,
            pid_file: self.pid_file,
            ready,
        })
    }
}

/// A bound server, ready to run: listeners, caps, statistics, a protocol.
///
/// Build one with [`Server::builder`], keep a [`ServerHandle`] to stop it or
/// tune it, then [`run`](Server::run) it on worker threads or
/// [`serve`](Server::serve) it inside a running runtime. The runtime crates
/// (`adapter-tokio`, `adapter-smol`) supply the [`Runtime`].
pub struct Server<P> {
    protocol: Arc<P>,
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
    workers: usize,
    signals: bool,
    pid_file: Option<PathBuf>,
    /// The readiness pipe of the predecessor that handed us the listeners.
    ready: Option<std::fs::File>,
}

impl<P> fmt::Debug for Server<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addrs", &self.shared.local_addrs)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Server<P> {
    /// Starts configuring a server for `protocol`.
    pub fn builder(protocol: P) -> Builder<P> {
        Builder {
            protocol,
            addrs: Vec::new(),
            listeners: Vec::new(),
            config: Config::default(),
            max_connections: proto_core::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: proto_core::DEFAULT_MAX_CONNECTIONS_PER_IP,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            ipv6_prefix_len: proto_core::DEFAULT_IPV6_PREFIX_LEN,
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            signals: true,
            systemd: true,
            pid_file: None,
        }
    }

    /// A handle to stop, tune and observe the server.
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The bound addresses, with the real ports.
    #[must_use]
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.shared.local_addrs
    }

    /// Starts runtime `R` with the configured worker threads and serves
    /// until stopped and drained.
    ///
    /// # Errors
    ///
    /// When the runtime cannot start or a listener cannot be registered.
    pub fn run<R: Runtime>(self) -> io::Result<()> {
        let workers = self.workers;
        R::run(workers, |rt| self.serve(rt))?
    }

    /// Serves on `rt` until stopped (by a [`ServerHandle`] or a signal) and
    /// drained.
    ///
    /// # Errors
    ///
    /// When a listener cannot be registered or signals cannot be installed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops nothing: the accept loops and connections
    /// are separate tasks. Call [`ServerHandle::stop`] to stop them.
    pub async fn serve<R: Runtime>(self, rt: R) -> io::Result<()> {
        let handle = self.handle();
        let shared = self.shared;
        let mut listeners = Vec::with_capacity(self.listeners.len());
        for listener in self.listeners {
            listeners.push(rt.listener(listener)?);
        }
        let signals = if self.signals {
            Some(rt.signals()?)
        } else {
            None
        };
        for (listener, local) in listeners.into_iter().zip(shared.local_addrs.clone()) {
            let live = LiveGuard::new(&shared);
            rt.spawn(accept_loop(
                rt.clone(),
                listener,
                local,
                Arc::clone(&shared),
                Arc::clone(&self.protocol),
                live,
            ));
        }
        if let Some(signals) = signals {
            rt.spawn(signal_loop(rt.clone(), signals, Arc::clone(&shared)));
        }
        // Serving: say so to whoever waits (a reloading predecessor, systemd,
        // the pid file's readers).
        if let Some(path) = &self.pid_file {
            write_pid_file(path)?;
        }
        #[cfg(unix)]
        {
            crate::reload::announce_ready(self.ready);
            crate::reload::notify_systemd();
        }
        wait_finished(&shared).await;
        drop(handle);
        Ok(())
    }
}

async fn wait_finished(shared: &Shared) {
    loop {
        if shared.is_finished() {
            return;
        }
        let listener = shared.done_event.listen();
        if shared.is_finished() {
            return;
        }
        listener.await;
    }
}

async fn accept_loop<R: Runtime, P: Protocol>(
    rt: R,
    listener: R::Listener,
    local: SocketAddr,
    shared: Arc<Shared>,
    protocol: Arc<P>,
    _live: LiveGuard,
) {
    let mut stop = Registration::new(Arc::clone(&shared.stop_wakers));
    let mut backoff: Option<R::Sleep> = None;
    poll_fn(|cx| {
        // Registered before the state is read: a stop after the read wakes us.
        stop.register(cx.waker());
        let mut accepted = 0;
        loop {
            if shared.stop_state() != StopState::Running {
                return Poll::Ready(());
            }
            if let Some(sleep) = &mut backoff {
                if Pin::new(sleep).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                backoff = None;
            }
            match listener.poll_accept(cx) {
                Poll::Ready(Ok((stream, peer))) => {
                    admit(&rt, stream, peer, local, &shared, &protocol);
                    accepted += 1;
                    if accepted == MAX_ACCEPTS {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                Poll::Ready(Err(e)) if sys::is_per_connection(&e) => {}
                Poll::Ready(Err(e)) => {
                    // Out of descriptors (EMFILE/ENFILE) or memory, or
                    // something unexpected: pause instead of spinning.
                    shared.stats.record_accept_error();
                    let pause = if sys::is_resource_exhaustion(&e) {
                        ACCEPT_BACKOFF
                    } else {
                        ACCEPT_BACKOFF / 10
                    };
                    let until = Instant::now() + pause;
                    match &mut backoff {
                        Some(sleep) => sleep.reset(until),
                        None => backoff = Some(rt.sleep_until(until)),
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
    // The listener is dropped here: new connections are refused at once.
}

fn admit<R: Runtime, P: Protocol>(
    rt: &R,
    stream: R::Stream,
    peer: SocketAddr,
    local: SocketAddr,
    shared: &Arc<Shared>,
    protocol: &Arc<P>,
) {
    match shared.admission.try_admit(peer.ip()) {
        Err(rejection) => {
            // Closed at once, unread and unanswered.
            shared.stats.record_rejected(rejection);
            drop(stream);
        }
        Ok(permit) => {
            shared.stats.record_accepted();
            let _ = stream.set_nodelay(true);
            let live = LiveGuard::new(shared);
            rt.spawn(serve_connection(
                rt.clone(),
                stream,
                peer,
                local,
                permit,
                live,
                Arc::clone(shared),
                Arc::clone(protocol),
            ));
        }
    }
}

/// Replaces the pid file atomically, so a reader never sees it empty.
fn write_pid_file(path: &std::path::Path) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{}\n", std::process::id()))?;
    std::fs::rename(&tmp, path)
}

/// Starts a successor with our listeners; once it is ready, stops
/// gracefully. If it fails or is not ready in time, it is killed and this
/// process serves on.
#[cfg(unix)]
fn start_reload<R: Runtime>(rt: &R, shared: &Arc<Shared>) {
    use std::io::Read as _;

    if shared.stop_state() != StopState::Running || shared.reloading.swap(true, Ordering::AcqRel) {
        return;
    }
    let started = {
        let handoff = shared
            .handoff
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        crate::reload::spawn_successor(&handoff)
    };
    let crate::reload::Successor {
        mut child,
        mut ready,
    } = match started {
        Ok(successor) => successor,
        Err(e) => {
            eprintln!("reload failed: cannot start the new process: {e}");
            shared.reloading.store(false, Ordering::Release);
            return;
        }
    };
    // The pipe is read on a plain thread: no runtime offers the same
    // blocking-read helper, and this happens once per reload.
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let mut byte = [0; 1];
        let _ = tx.try_send(matches!(ready.read(&mut byte), Ok(1)));
    });
    let deadline = Instant::now() + shared.config.reload_timeout;
    let mut sleep = rt.sleep_until(deadline);
    let shared = Arc::clone(shared);
    rt.spawn(async move {
        let mut recv = std::pin::pin!(rx.recv());
        let ready = poll_fn(|cx| {
            if let Poll::Ready(outcome) = recv.as_mut().poll(cx) {
                return Poll::Ready(outcome.unwrap_or(false));
            }
            Pin::new(&mut sleep).poll(cx).map(|()| false)
        })
        .await;
        if ready {
            // The successor serves the same sockets: drain and leave. It
            // outlives us, so it is not waited for.
            drop(child);
            shared.stop();
        } else {
            eprintln!("reload failed: the new process did not become ready; serving on");
            let _ = child.kill();
            let _ = child.wait();
            shared.reloading.store(false, Ordering::Release);
        }
    });
}

async fn signal_loop<R: Runtime, S>(rt: R, mut signals: S, shared: Arc<Shared>)
where
    S: futures_core::Stream<Item = crate::Signal> + Unpin,
{
    #[cfg(not(unix))]
    let _ = &rt;
    let mut done: Option<EventListener> = None;
    poll_fn(|cx| {
        loop {
            if shared.is_finished() {
                return Poll::Ready(());
            }
            match Pin::new(&mut signals).poll_next(cx) {
                Poll::Ready(Some(signal)) if signal.is_stop() => {
                    if shared.stop_state() == StopState::Running {
                        shared.stop();
                    } else {
                        shared.force();
                    }
                    continue;
                }
                Poll::Ready(Some(_)) => {
                    #[cfg(unix)]
                    start_reload(&rt, &shared);
                    continue;
                }
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => {}
            }
            match &mut done {
                None => done = Some(shared.done_event.listen()),
                Some(l) => match Pin::new(l).poll(cx) {
                    Poll::Ready(()) => done = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    })
    .await;
}

/// A cloneable handle to a running [`Server`]: stop it, tune its caps,
/// read its statistics.
///
/// ```no_run
/// # fn demo(handle: adapter_core::ServerHandle) -> std::io::Result<()> {
/// handle.set_max_connections(5000)?;
/// let snapshot = handle.stats();
/// println!("{} open, {} refused", snapshot.active, snapshot.rejected_global_cap);
/// handle.stop();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addrs", &self.shared.local_addrs)
            .field("state", &self.shared.stop_state())
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Stops gracefully: listeners close at once, protocols say goodbye,
    /// in-flight work finishes, quiet connections close after the grace,
    /// the rest at the drain deadline. Calling it again does nothing.
    pub fn stop(&self) {
        self.shared.stop();
    }

    /// Stops at once: every connection is closed now.
    pub fn force_stop(&self) {
        self.shared.force();
    }

    /// True once a stop began.
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        self.shared.stop_state() != StopState::Running
    }

    /// True once stopped and every connection is closed.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.shared.is_finished()
    }

    /// Changes the global cap for connections accepted from now on.
    ///
    /// # Errors
    ///
    /// When the descriptor limit cannot hold `max` connections; the cap is
    /// left unchanged.
    pub fn set_max_connections(&self, max: usize) -> io::Result<()> {
        self.shared.check_fd_limit(max)?;
        self.shared.admission.set_max_connections(max);
        Ok(())
    }

    /// Changes the per-IP cap for connections accepted from now on.
    pub fn set_max_connections_per_ip(&self, max: usize) {
        self.shared.admission.set_max_connections_per_ip(max);
    }

    /// Changes the global budget on buffered bytes
    /// ([`Builder::max_buffered_bytes`]); a lower budget applies at the next
    /// change of any buffer, a higher one resumes paused reads at once. 0
    /// counts as 1.
    pub fn set_max_buffered_bytes(&self, bytes: usize) {
        self.shared.budget.set_max(bytes.max(1) as u64);
    }

    /// The global budget on buffered bytes.
    #[must_use]
    pub fn max_buffered_bytes(&self) -> usize {
        usize::try_from(self.shared.budget.max()).unwrap_or(usize::MAX)
    }

    /// The caps and their current use.
    #[must_use]
    pub fn admission(&self) -> &Admission {
        &self.shared.admission
    }

    /// A copy of the counters.
    #[must_use]
    pub fn stats(&self) -> Snapshot {
        self.shared.stats.snapshot()
    }

    /// The bound addresses.
    #[must_use]
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.shared.local_addrs
    }

    /// Waits until the server is stopped and drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only waits.
    pub async fn finished(&self) {
        wait_finished(&self.shared).await;
    }
}
