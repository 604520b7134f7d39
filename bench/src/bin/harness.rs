//! Runs Rampart's two reference servers and the peer servers in turn, on the
//! same machine and cores, drives them with the load client in this
//! process, and writes BENCHMARKS.md: the table of ratios, the issue 9
//! targets, and the one-core and instruction figures `bench/run.sh` measured
//! before it.
//!
//! Normally started by `bench/run.sh`, which builds the servers first.
//! Options (all optional):
//!
//! ```text
//! --duration S        measured seconds per run (default 5)
//! --warmup S          unmeasured seconds before each run (default 1)
//! --rounds N          repeats of every run, servers interleaved; medians reported (default 3)
//! --http-conns N      keep-alive connections (default 64)
//! --depth N           pipelining depth (default 16), over --http-conns connections
//! --ws-conns N        WebSocket echo connections (default 100)
//! --idle-conns N      idle WebSocket connections for the memory figure (default 10000)
//! --client-threads N  load client worker threads (default 2)
//! --servers a,b,...   subset of rampart-tokio,rampart-smol,hyper,httparse,httparse-smol,
//!                     tokio-tungstenite,fastwebsockets (default: all)
//! --scenarios a,b     subset of keepalive,pipelined,ws32,ws16k,idle
//! --rampart-bin-dir D where tokio-server and smol-server are (default: target/release/examples)
//! --baseline-bin-dir D  another build's tokio-server and smol-server, run as baseline-tokio
//!                     and baseline-smol (name them in --servers) and compared with ours
//!                     round by round (`bench/ab.sh REV` builds REV and passes this)
//! --out PATH          default: BENCHMARKS.md at the repository root; `-` for stdout only
//! --command TEXT      the command line recorded in the output
//! --criterion-dir D   where criterion left the proto crates' micro benchmarks
//!                     (`bench/run.sh` runs them first): adds the unmask and
//!                     head-parse targets, read from D/<id>/new/estimates.json
//! --instructions F    instructions per operation measured by `bench/run.sh` with
//!                     `bench/instructions.sh` (lines `server<TAB>mode<TAB>count`):
//!                     adds their table
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart_bench::client;
use rampart_bench::{cpu_time, raise_nofile, rss_bytes};

type Error = Box<dyn std::error::Error>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    RampartTokio,
    RampartSmol,
    /// Our servers from another build (`--baseline-bin-dir`).
    BaselineTokio,
    BaselineSmol,
    Hyper,
    Httparse,
    /// The `httparse` responder on smol: the floor of rampart-smol.
    HttparseSmol,
    Tungstenite,
    FastWs,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::RampartTokio,
        Kind::RampartSmol,
        Kind::Hyper,
        Kind::Httparse,
        Kind::HttparseSmol,
        Kind::Tungstenite,
        Kind::FastWs,
    ];
    /// Run only when named in `--servers`.
    const BASELINES: [Kind; 2] = [Kind::BaselineTokio, Kind::BaselineSmol];

    fn name(self) -> &'static str {
        match self {
            Kind::RampartTokio => "rampart-tokio",
            Kind::RampartSmol => "rampart-smol",
            Kind::BaselineTokio => "baseline-tokio",
            Kind::BaselineSmol => "baseline-smol",
            Kind::Hyper => "hyper",
            Kind::Httparse => "httparse",
            Kind::HttparseSmol => "httparse-smol",
            Kind::Tungstenite => "tokio-tungstenite",
            Kind::FastWs => "fastwebsockets",
        }
    }

    fn serves_http(self) -> bool {
        matches!(
            self,
            Kind::RampartTokio
                | Kind::RampartSmol
                | Kind::BaselineTokio
                | Kind::BaselineSmol
                | Kind::Hyper
                | Kind::Httparse
                | Kind::HttparseSmol
        )
    }

    fn serves_ws(self) -> bool {
        matches!(
            self,
            Kind::RampartTokio
                | Kind::RampartSmol
                | Kind::BaselineTokio
                | Kind::BaselineSmol
                | Kind::Tungstenite
                | Kind::FastWs
        )
    }

    fn command(self, opts: &Opts) -> Command {
        let caps = [
            "--addr",
            "127.0.0.1:0",
            "--max-connections",
            "15000",
            "--max-connections-per-ip",
            "15000",
        ];
        match self {
            Kind::RampartTokio | Kind::RampartSmol | Kind::BaselineTokio | Kind::BaselineSmol => {
                let exe = if matches!(self, Kind::RampartTokio | Kind::BaselineTokio) {
                    "tokio-server"
                } else {
                    "smol-server"
                };
                let dir = if Kind::BASELINES.contains(&self) {
                    &opts.baseline_bin_dir
                } else {
                    &opts.rampart_bin_dir
                };
                let mut c = Command::new(dir.join(exe));
                c.args(caps);
                c
            }
            peer => {
                let mut c = Command::new(&opts.peer_bin);
                c.args([peer.name(), "--addr", "127.0.0.1:0"]);
                c
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Scenario {
    KeepAlive,
    Pipelined,
    Ws32,
    Ws16k,
    Idle,
}

impl Scenario {
    const ALL: [Scenario; 5] = [
        Scenario::KeepAlive,
        Scenario::Pipelined,
        Scenario::Ws32,
        Scenario::Ws16k,
        Scenario::Idle,
    ];

    fn key(self) -> &'static str {
        match self {
            Scenario::KeepAlive => "keepalive",
            Scenario::Pipelined => "pipelined",
            Scenario::Ws32 => "ws32",
            Scenario::Ws16k => "ws16k",
            Scenario::Idle => "idle",
        }
    }

    fn applies(self, k: Kind) -> bool {
        match self {
            Scenario::KeepAlive | Scenario::Pipelined => k.serves_http(),
            _ => k.serves_ws(),
        }
    }
}

#[derive(Debug)]
struct Opts {
    duration: Duration,
    warmup: Duration,
    rounds: usize,
    http_conns: usize,
    depth: usize,
    ws_conns: usize,
    idle_conns: usize,
    client_threads: usize,
    servers: Vec<Kind>,
    scenarios: Vec<Scenario>,
    rampart_bin_dir: PathBuf,
    baseline_bin_dir: PathBuf,
    peer_bin: PathBuf,
    out: Option<PathBuf>,
    command: String,
    criterion_dir: Option<PathBuf>,
    instructions: Option<PathBuf>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn parse_opts() -> Result<Opts, Error> {
    let root = repo_root();
    let exe = std::env::current_exe()?;
    let mut o = Opts {
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        rounds: 3,
        http_conns: 64,
        depth: 16,
        ws_conns: 100,
        idle_conns: 10_000,
        client_threads: 2,
        servers: Kind::ALL.to_vec(),
        scenarios: Scenario::ALL.to_vec(),
        rampart_bin_dir: root.join("target/release/examples"),
        baseline_bin_dir: root.join("target/baseline/release/examples"),
        peer_bin: exe.with_file_name("peer-server"),
        out: Some(root.join("BENCHMARKS.md")),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        criterion_dir: None,
        instructions: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let v = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--duration" => o.duration = Duration::from_secs_f64(v.parse()?),
            "--warmup" => o.warmup = Duration::from_secs_f64(v.parse()?),
            "--rounds" => o.rounds = v.parse::<usize>()?.max(1),
            "--http-conns" => o.http_conns = v.parse()?,
            "--depth" => o.depth = v.parse::<usize>()?.max(1),
            "--ws-conns" => o.ws_conns = v.parse()?,
            "--idle-conns" => o.idle_conns = v.parse()?,
            "--client-threads" => o.client_threads = v.parse::<usize>()?.max(1),
            "--servers" => {
                o.servers = v
                    .split(',')
                    .map(|s| {
                        Kind::ALL
                            .into_iter()
                            .chain(Kind::BASELINES)
                            .find(|k| k.name() == s)
                            .ok_or_else(|| format!("unknown server {s}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--scenarios" => {
                o.scenarios = v
                    .split(',')
                    .map(|s| {
                        Scenario::ALL
                            .into_iter()
                            .find(|k| k.key() == s)
                            .ok_or_else(|| format!("unknown scenario {s}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--rampart-bin-dir" => o.rampart_bin_dir = v.into(),
            "--baseline-bin-dir" => o.baseline_bin_dir = v.into(),
            "--out" => o.out = (v != "-").then(|| v.into()),
            "--command" => o.command = v,
            "--criterion-dir" => o.criterion_dir = Some(v.into()),
            "--instructions" => o.instructions = Some(v.into()),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(o)
}

/// A server child process, stopped when dropped.
struct Server {
    child: Child,
    pid: u32,
    addr: SocketAddr,
}

impl Server {
    fn start(kind: Kind, opts: &Opts) -> Result<Server, Error> {
        let mut child = kind
            .command(opts)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{}: {e}", kind.name()))?;
        let pid = child.id();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("{}: no `listening on` line", kind.name()))?;
        let addr: SocketAddr = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("{}: unexpected output {line:?}", kind.name()))?
            .parse()?;
        client::check_loopback(addr)?;
        Ok(Server { child, pid, addr })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The servers stop on SIGTERM; force after a short wait.
        if let Ok(pid) = i32::try_from(self.pid) {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One measured run.
#[derive(Clone, Debug, Default)]
struct Run {
    ops_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    /// Server CPU (user + system) per operation, microseconds.
    cpu_us_per_op: f64,
    /// Server CPU utilisation over the window, in cores.
    cpu_cores: f64,
    errors: usize,
    /// Idle scenario: RSS per connection in bytes, and connections held.
    rss_per_conn: f64,
    idle_open: usize,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)])
}

async fn run_load(server: &Server, scenario: Scenario, opts: &Opts) -> Run {
    let now = Instant::now();
    // Connections and handshakes happen during the warm-up.
    let start = now + opts.warmup.max(Duration::from_millis(200));
    let end = start + opts.duration;
    let addr = server.addr;
    let (conns, depth, size) = match scenario {
        Scenario::KeepAlive => (opts.http_conns, 1, 0),
        Scenario::Pipelined => (opts.http_conns, opts.depth, 0),
        Scenario::Ws32 => (opts.ws_conns, 1, 32),
        Scenario::Ws16k => (opts.ws_conns, 1, 16 * 1024),
        Scenario::Idle => unreachable!(),
    };
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            tokio::spawn(async move {
                if size == 0 {
                    client::http_conn(addr, depth, start, end).await
                } else {
                    client::ws_conn(addr, size, start, end).await
                }
            })
        })
        .collect();
    tokio::time::sleep_until(start.into()).await;
    let cpu0 = cpu_time(server.pid).unwrap_or_default();
    tokio::time::sleep_until(end.into()).await;
    let cpu1 = cpu_time(server.pid).unwrap_or_default();
    let mut ops = 0u64;
    let mut lat = Vec::new();
    let mut errors = 0;
    // Bounded: a stalled server does not stall the harness.
    let give_up = end + Duration::from_secs(5);
    for t in tasks {
        match tokio::time::timeout_at(give_up.into(), t).await {
            Ok(Ok(Ok(s))) => {
                ops += s.ops;
                lat.extend_from_slice(&s.latencies_us);
            }
            Ok(Ok(Err(e))) => {
                if errors == 0 {
                    eprintln!("    error: {e}");
                }
                errors += 1;
            }
            _ => errors += 1,
        }
    }
    lat.sort_unstable();
    let secs = opts.duration.as_secs_f64();
    let cpu = (cpu1 - cpu0).as_secs_f64();
    Run {
        ops_per_sec: ops as f64 / secs,
        p50_us: percentile(&lat, 0.50),
        p99_us: percentile(&lat, 0.99),
        cpu_us_per_op: if ops == 0 {
            f64::NAN
        } else {
            cpu * 1e6 / ops as f64
        },
        cpu_cores: cpu / secs,
        errors,
        ..Run::default()
    }
}

async fn run_idle(server: &Server, opts: &Opts) -> Run {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_bytes(server.pid).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let conns = client::open_idle(server.addr, opts.idle_conns, 256, deadline).await;
    // Let the server settle (handshake buffers released, tasks parked).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_bytes(server.pid).unwrap_or(0);
    let open = conns.still_open();
    let n = conns.len().max(1);
    drop(conns);
    Run {
        rss_per_conn: (after.saturating_sub(before)) as f64 / n as f64,
        idle_open: open,
        errors: opts.idle_conns - open,
        ..Run::default()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Medians over rounds, per metric.
fn summarize(runs: &[Run]) -> Run {
    let m = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    Run {
        ops_per_sec: m(|r| r.ops_per_sec),
        p50_us: m(|r| r.p50_us),
        p99_us: m(|r| r.p99_us),
        cpu_us_per_op: m(|r| r.cpu_us_per_op),
        cpu_cores: m(|r| r.cpu_cores),
        errors: runs.iter().map(|r| r.errors).sum(),
        rss_per_conn: m(|r| r.rss_per_conn),
        idle_open: runs.iter().map(|r| r.idle_open).min().unwrap_or(0),
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let nproc = std::thread::available_parallelism().map_or(0, usize::from);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let kib: f64 = s.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.0} GiB", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_default();
    format!("nproc {nproc}, CPU {cpu}, memory {mem}, Linux {kernel}")
}

fn fmt_num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "—".into()
    }
}

fn fmt_rate(x: f64) -> String {
    if !x.is_finite() {
        "—".into()
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

struct Metric {
    scenario: Scenario,
    label: &'static str,
    get: fn(&Run) -> f64,
    fmt: fn(f64) -> String,
    /// Higher is better (ratios still read ours/peer).
    higher_better: bool,
}

fn metrics() -> Vec<Metric> {
    let mut v = Vec::new();
    for (scenario, what) in [
        (Scenario::KeepAlive, "HTTP keep-alive"),
        (Scenario::Pipelined, "HTTP pipelined"),
        (Scenario::Ws32, "WS echo 32 B"),
        (Scenario::Ws16k, "WS echo 16 KiB"),
    ] {
        let _ = what;
        v.push(Metric {
            scenario,
            label: "ops/s",
            get: |r| r.ops_per_sec,
            fmt: fmt_rate,
            higher_better: true,
        });
        v.push(Metric {
            scenario,
            label: "p50 µs",
            get: |r| r.p50_us,
            fmt: |x| fmt_num(x, 0),
            higher_better: false,
        });
        v.push(Metric {
            scenario,
            label: "p99 µs",
            get: |r| r.p99_us,
            fmt: |x| fmt_num(x, 0),
            higher_better: false,
        });
        v.push(Metric {
            scenario,
            label: "server CPU µs/op",
            get: |r| r.cpu_us_per_op,
            fmt: |x| fmt_num(x, 2),
            higher_better: false,
        });
        v.push(Metric {
            scenario,
            label: "server CPU cores",
            get: |r| r.cpu_cores,
            fmt: |x| fmt_num(x, 2),
            higher_better: false,
        });
    }
    v.push(Metric {
        scenario: Scenario::Idle,
        label: "RSS bytes/conn",
        get: |r| r.rss_per_conn,
        fmt: |x| fmt_num(x, 0),
        higher_better: false,
    });
    v
}

fn scenario_title(s: Scenario, o: &Opts) -> String {
    match s {
        Scenario::KeepAlive => format!("HTTP keep-alive, {} conns", o.http_conns),
        Scenario::Pipelined => format!("HTTP pipelined ×{}, {} conns", o.depth, o.http_conns),
        Scenario::Ws32 => format!("WS echo 32 B, {} conns", o.ws_conns),
        Scenario::Ws16k => format!("WS echo 16 KiB, {} conns", o.ws_conns),
        Scenario::Idle => format!("WS idle, {} conns", o.idle_conns),
    }
}

type Results = BTreeMap<(Scenario, Kind), Run>;

fn ratio(results: &Results, m: &Metric, a: Kind, b: Kind) -> Option<f64> {
    let x = (m.get)(results.get(&(m.scenario, a))?);
    let y = (m.get)(results.get(&(m.scenario, b))?);
    (x.is_finite() && y.is_finite() && y > 0.0).then_some(x / y)
}

fn table(results: &Results, opts: &Opts) -> String {
    let servers: Vec<Kind> = opts.servers.clone();
    let mut out = String::new();
    let _ = write!(out, "| scenario | metric |");
    for k in &servers {
        let _ = write!(out, " {} |", k.name());
    }
    let _ = writeln!(out, " ours/peer (tokio; smol) |");
    let _ = write!(out, "|---|---|");
    for _ in &servers {
        let _ = write!(out, "---:|");
    }
    let _ = writeln!(out, "---|");
    for m in metrics() {
        if !opts.scenarios.contains(&m.scenario) {
            continue;
        }
        let _ = write!(
            out,
            "| {} | {} |",
            scenario_title(m.scenario, opts),
            m.label
        );
        for k in &servers {
            let cell = results
                .get(&(m.scenario, *k))
                .map(|r| (m.fmt)((m.get)(r)))
                .unwrap_or_default();
            let _ = write!(out, " {cell} |");
        }
        // Each pair: the peer rampart-tokio is compared with, and the one
        // rampart-smol is. The floors differ per runtime: the bare httparse
        // responder on tokio for the one, on smol for the other.
        let peers: &[(Kind, Kind)] = match m.scenario {
            Scenario::KeepAlive | Scenario::Pipelined => &[
                (Kind::Hyper, Kind::Hyper),
                (Kind::Httparse, Kind::HttparseSmol),
                (Kind::BaselineTokio, Kind::BaselineSmol),
            ],
            _ => &[
                (Kind::FastWs, Kind::FastWs),
                (Kind::Tungstenite, Kind::Tungstenite),
                (Kind::BaselineTokio, Kind::BaselineSmol),
            ],
        };
        let mut cells = Vec::new();
        for &(pt, ps) in peers {
            let t = ratio(results, &m, Kind::RampartTokio, pt);
            let s = ratio(results, &m, Kind::RampartSmol, ps);
            if t.is_none() && s.is_none() {
                continue;
            }
            let f = |x: Option<f64>| x.map_or("—".into(), |x| format!("{x:.2}×"));
            let vs = if pt == ps {
                pt.name().to_owned()
            } else if pt == Kind::BaselineTokio {
                "baseline".to_owned()
            } else {
                format!("{}; {}", pt.name(), ps.name())
            };
            cells.push(format!("vs {vs}: {}; {}", f(t), f(s)));
        }
        let _ = writeln!(out, " {} |", cells.join("<br>"));
        let _ = m.higher_better;
    }
    out
}

fn targets(results: &Results) -> String {
    let get = |s: Scenario, k: Kind, f: fn(&Run) -> f64| results.get(&(s, k)).map(f);
    let r = |s: Scenario, a: Kind, b: Kind, f: fn(&Run) -> f64| -> Option<f64> {
        Some(get(s, a, f)? / get(s, b, f)?).filter(|x| x.is_finite())
    };
    let ops = |r: &Run| r.ops_per_sec;
    let cpu = |r: &Run| r.cpu_us_per_op;
    let mut out = String::new();
    let line = |out: &mut String, what: &str, v: Option<f64>, ok: fn(f64) -> bool, want: &str| {
        let (val, verdict) = match v {
            Some(x) => (format!("{x:.2}×"), if ok(x) { "met" } else { "**missed**" }),
            None => ("not measured".into(), "—"),
        };
        let _ = writeln!(out, "| {what} | {want} | {val} | {verdict} |");
    };
    for (k, tag) in [(Kind::RampartTokio, "tokio"), (Kind::RampartSmol, "smol")] {
        line(
            &mut out,
            &format!("{tag}: pipelined req/s vs hyper"),
            r(Scenario::Pipelined, k, Kind::Hyper, ops),
            |x| x >= 2.0,
            "≥ 2.0×",
        );
        line(
            &mut out,
            &format!("{tag}: keep-alive req/s vs hyper"),
            r(Scenario::KeepAlive, k, Kind::Hyper, ops),
            |x| x >= 1.3,
            "≥ 1.3×",
        );
        line(
            &mut out,
            &format!("{tag}: server CPU/request vs hyper (keep-alive)"),
            r(Scenario::KeepAlive, k, Kind::Hyper, cpu),
            |x| x <= 0.6,
            "≤ 0.6×",
        );
        line(
            &mut out,
            &format!("{tag}: server CPU/request vs hyper (pipelined)"),
            r(Scenario::Pipelined, k, Kind::Hyper, cpu),
            |x| x <= 0.6,
            "≤ 0.6×",
        );
        for (s, size) in [(Scenario::Ws32, "32 B"), (Scenario::Ws16k, "16 KiB")] {
            line(
                &mut out,
                &format!("{tag}: WS {size} msg/s vs fastwebsockets"),
                r(s, k, Kind::FastWs, ops),
                |x| x >= 1.0,
                "≥ 1.0×",
            );
            line(
                &mut out,
                &format!("{tag}: WS {size} msg/s vs tokio-tungstenite"),
                r(s, k, Kind::Tungstenite, ops),
                |x| x >= 1.8,
                "≥ 1.8×",
            );
            line(
                &mut out,
                &format!("{tag}: WS {size} server CPU/msg vs fastwebsockets"),
                r(s, k, Kind::FastWs, cpu),
                |x| x <= 0.8,
                "≤ 0.8×",
            );
        }
        let rss = get(Scenario::Idle, k, |r| r.rss_per_conn);
        let peers_min = [Kind::FastWs, Kind::Tungstenite]
            .iter()
            .filter_map(|p| get(Scenario::Idle, *p, |r| r.rss_per_conn))
            .fold(f64::INFINITY, f64::min);
        let (val, verdict) = match rss {
            Some(x) if x.is_finite() => (
                format!("{x:.0} B"),
                if x <= 4096.0 && x < peers_min {
                    "met"
                } else {
                    "**missed**"
                },
            ),
            _ => ("not measured".into(), "—"),
        };
        let _ = writeln!(
            out,
            "| {tag}: idle RSS per WebSocket | ≤ 4096 B and below every peer | {val} | {verdict} |"
        );
    }
    out
}

/// The median time in nanoseconds criterion estimated for benchmark `id`
/// (`group/function/parameter`), from its `estimates.json`.
fn criterion_median_ns(dir: &Path, id: &str) -> Option<f64> {
    let json = std::fs::read_to_string(dir.join(id).join("new/estimates.json")).ok()?;
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok().filter(|x: &f64| *x > 0.0)
}

/// The two targets measured by the proto crates' criterion benches rather
/// than under load: unmasking throughput and head parsing against httparse.
fn micro_targets(dir: &Path) -> String {
    let mut out = String::new();
    let unmask = criterion_median_ns(dir, "unmask/apply_mask/1MiB").map(|ns| 1_048_576.0 / ns);
    let (val, verdict) = match unmask {
        Some(gbps) => (
            format!("{gbps:.1} GB/s"),
            if gbps >= 8.0 { "met" } else { "**missed**" },
        ),
        None => ("not measured".into(), "—"),
    };
    let _ = writeln!(
        out,
        "| unmask, one core (`apply_mask`, 1 MiB) | ≥ 8 GB/s | {val} | {verdict} |"
    );
    let parse = criterion_median_ns(dir, "browser_get/proto_http")
        .zip(criterion_median_ns(dir, "browser_get/httparse"))
        .map(|(ours, floor)| ours / floor);
    let (val, verdict) = match parse {
        Some(x) => (
            format!("{x:.2}×"),
            if x <= 1.2 { "met" } else { "**missed**" },
        ),
        None => ("not measured".into(), "—"),
    };
    let _ = writeln!(
        out,
        "| HTTP head parse vs bare httparse (browser GET, 15 fields, new connection) | ≤ 1.2× | {val} | {verdict} |"
    );
    out
}

/// The table of instructions per operation, from `bench/run.sh`'s
/// measurements (`server<TAB>mode<TAB>count` lines), with ours/peer ratios.
fn instructions_table(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let counts: BTreeMap<(&str, &str), u64> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let (server, mode, count) = (fields.next()?, fields.next()?, fields.next()?);
            Some(((server, mode), count.trim().parse().ok()?))
        })
        .collect();
    let mut out = String::from("\n## Instructions per operation\n\n");
    if counts.is_empty() {
        out.push_str("Not measured: valgrind is not installed.\n");
        return out;
    }
    out.push_str(
        "Counted by callgrind on the server, one connection, one operation at a time \
         (`bench/instructions.sh SERVER -- MODE`, N = 1000 and 2000 operations, the difference \
         divided by N): a figure that does not drift with the machine's load. Kernel work is not \
         counted, and callgrind counts each byte that `rep movsb` or `rep stosb` (bulk copies \
         and zeroing) moves as one instruction, so they weigh far more here than in CPU time. \
         Ratios read ours/peer; below 1 is fewer instructions.\n\n\
         | operation | rampart-tokio | rampart-smol | hyper | httparse | fastwebsockets | \
         tokio-tungstenite | ours/peer (tokio; smol) |\n\
         |---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let rows = [
        ("http", "HTTP request, keep-alive", ["hyper", "httparse"]),
        (
            "pipelined",
            "HTTP request, 16 per write",
            ["hyper", "httparse"],
        ),
        (
            "ws 32",
            "WS echo, 32 B",
            ["fastwebsockets", "tokio-tungstenite"],
        ),
        (
            "ws 16384",
            "WS echo, 16 KiB",
            ["fastwebsockets", "tokio-tungstenite"],
        ),
    ];
    let servers = [
        "rampart-tokio",
        "rampart-smol",
        "hyper",
        "httparse",
        "fastwebsockets",
        "tokio-tungstenite",
    ];
    for (mode, title, peers) in rows {
        let get = |server: &str| counts.get(&(server, mode)).copied();
        let _ = write!(out, "| `{mode}`: {title} |");
        for server in servers {
            match get(server) {
                Some(n) => {
                    let _ = write!(out, " {} |", fmt_num(n as f64, 0));
                }
                None => out.push_str("  |"),
            }
        }
        let ratio = |ours: &str, peer: &str| match (get(ours), get(peer)) {
            (Some(a), Some(b)) if b > 0 => format!("{:.2}×", a as f64 / b as f64),
            _ => "—".into(),
        };
        let cells: Vec<String> = peers
            .iter()
            .map(|peer| {
                format!(
                    "vs {peer}: {}; {}",
                    ratio("rampart-tokio", peer),
                    ratio("rampart-smol", peer)
                )
            })
            .collect();
        let _ = writeln!(out, " {} |", cells.join("<br>"));
    }
    out
}

fn main() -> Result<(), Error> {
    let opts = parse_opts()?;
    let nofile = raise_nofile();
    if (nofile as usize) < opts.idle_conns + 100 && opts.scenarios.contains(&Scenario::Idle) {
        eprintln!("warning: RLIMIT_NOFILE is {nofile}, below --idle-conns");
    }
    for k in &opts.servers {
        let exe = k.command(&opts).get_program().to_owned();
        if !Path::new(&exe).exists() {
            return Err(format!("{}: {} not built", k.name(), exe.to_string_lossy()).into());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.client_threads)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut all: BTreeMap<(Scenario, Kind), Vec<Run>> = BTreeMap::new();
    for &scenario in &opts.scenarios {
        // Memory is deterministic enough for one round.
        let rounds = if scenario == Scenario::Idle {
            1
        } else {
            opts.rounds
        };
        for round in 0..rounds {
            for &kind in &opts.servers {
                if !scenario.applies(kind) {
                    continue;
                }
                let server = Server::start(kind, &opts)?;
                let run = rt.block_on(async {
                    if scenario == Scenario::Idle {
                        run_idle(&server, &opts).await
                    } else {
                        run_load(&server, scenario, &opts).await
                    }
                });
                drop(server);
                eprintln!(
                    "[{:>5.0}s] {:<9} round {} {:<17} {:>10} ops/s p50 {:>6} µs p99 {:>6} µs cpu {:>6.2} µs/op ({:.2} cores){}{}",
                    started.elapsed().as_secs_f64(),
                    scenario.key(),
                    round + 1,
                    kind.name(),
                    fmt_rate(run.ops_per_sec),
                    fmt_num(run.p50_us, 0),
                    fmt_num(run.p99_us, 0),
                    run.cpu_us_per_op,
                    run.cpu_cores,
                    if scenario == Scenario::Idle {
                        format!(
                            " rss/conn {:.0} B, {} open",
                            run.rss_per_conn, run.idle_open
                        )
                    } else {
                        String::new()
                    },
                    if run.errors > 0 {
                        format!(" ERRORS {}", run.errors)
                    } else {
                        String::new()
                    },
                );
                all.entry((scenario, kind)).or_default().push(run);
                // Let sockets in TIME_WAIT and the scheduler settle.
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
    let results: Results = all.iter().map(|(k, v)| (*k, summarize(v))).collect();
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Generated by the load harness in `bench/` (issue 9). Every figure is from one run of the \
         command below on one machine; compare ratios, not absolute numbers, which drift on a \
         shared machine.\n"
    );
    let _ = writeln!(md, "- machine: {}", machine());
    let _ = writeln!(md, "- command: `{}`", opts.command);
    let _ = writeln!(
        md,
        "- settings: {} s measured after {} s warm-up per run, {} round(s) with servers \
         interleaved, medians reported (idle memory: 1 round); load client in the harness \
         process ({} tokio worker threads) on the same cores as the server; every server with \
         its default worker count; harness wall time {:.0} s",
        opts.duration.as_secs_f64(),
        opts.warmup.as_secs_f64(),
        opts.rounds,
        opts.client_threads,
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        md,
        "- HTTP: `POST /echo` with a 13-byte body, answered 200 with the body (Content-Length); \
         pipelined: {} requests written at once per connection, latency from that write. \
         WebSocket: masked binary message echoed, one in flight per connection. Idle: VmRSS of \
         the server after opening the connections (handshake complete, then 2 s idle) minus \
         VmRSS before, divided by the connections. Server CPU: utime+stime from /proc/PID/stat \
         over the measured window.",
        opts.depth
    );
    if opts.criterion_dir.is_some() {
        let _ = writeln!(
            md,
            "- unmask and head parse: criterion medians on one core, measured by `bench/run.sh` \
             before the load runs (`cargo bench -p proto-ws --bench ws -- unmask/apply_mask/1MiB` \
             and `cargo bench -p proto-http --bench parse -- browser_get/`, 1 s warm-up, 3 s \
             measured). The head-parse case creates a server `Connection`, feeds it the head and \
             drains its events; bare httparse parses the same head into a stack array. GB/s is \
             10^9 bytes per second."
        );
    }
    let _ = writeln!(
        md,
        "- peers: `hyper` 1.x http1 server and `httparse` (a bare httparse responder, no checks: the \
         floor) on a multi-thread tokio runtime with the same worker count; `httparse-smol`, the \
         same responder on smol 2 (one async-executor run by as many threads, async-io reactor, \
         as Rampart's smol server): the floor of rampart-smol; \
         `tokio-tungstenite` and `fastwebsockets` (hyper upgrade + FragmentCollector) echo with \
         their defaults (bench/src/bin/peer-server.rs).\n"
    );
    let _ = writeln!(
        md,
        "Ratios read ours/peer for every metric: above 1 is better for ops/s, below 1 is better for \
         latency, CPU and memory; `vs httparse; httparse-smol` compares rampart-tokio with \
         httparse and rampart-smol with httparse-smol. `—`: not measured.\n"
    );
    if opts.servers.iter().any(|k| Kind::BASELINES.contains(k)) {
        let _ = writeln!(
            md,
            "`vs baseline` compares rampart-tokio with baseline-tokio and rampart-smol with \
             baseline-smol: the same servers from another build (`{}`), run in the same rounds.\n",
            opts.baseline_bin_dir.display()
        );
    }
    md.push_str(&table(&results, &opts));
    let _ = writeln!(md, "\n## Issue 9 targets\n");
    let _ = writeln!(
        md,
        "| target | wanted | measured | verdict |\n|---|---|---|---|"
    );
    md.push_str(&targets(&results));
    if let Some(dir) = &opts.criterion_dir {
        md.push_str(&micro_targets(dir));
    }
    if let Some(path) = &opts.instructions {
        md.push_str(&instructions_table(path));
    }
    let errors: usize = results.values().map(|r| r.errors).sum();
    if errors > 0 {
        let _ = writeln!(
            md,
            "\n{errors} connection(s) failed or closed early across all runs (see the harness log)."
        );
    }
    println!("{md}");
    if let Some(path) = &opts.out {
        std::fs::write(path, &md)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
