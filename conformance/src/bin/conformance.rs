//! The conformance command line.
//!
//! ```text
//! conformance autobahn [--role both|client|server]
//!                      [--url ws://HOST:PORT/PATH --agent NAME | --listen IP:PORT [--agent NAME]]
//!                      [--cases ID,ID,...] [--sizes full|bounded]
//!                      [--outdir DIR] [--outdir-clients DIR]
//!                      [--expected FILE] [--expected-clients FILE] [--quiet]
//! ```
//!
//! Without `--url` or `--listen`, runs both roles: as the fuzzing client
//! against both reference servers (built, and started on port 0), then as
//! the fuzzing server for both adapters' Autobahn clients (built, and
//! started with `--url` pointing at it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use conformance::autobahn::cases::{Case, Sizes, Verdict};
use conformance::autobahn::client::Target;
use conformance::autobahn::server::{End, FuzzingServer, Waits};
use conformance::autobahn::session::Outcome;
use conformance::autobahn::{self, Selection, results, servers};
use conformance::report;

const USAGE: &str = "usage: conformance autobahn [--role both|client|server]
                            [--url ws://HOST:PORT/PATH --agent NAME | --listen IP:PORT [--agent NAME]]
                            [--cases ID,...] [--sizes full|bounded] [--outdir DIR] [--outdir-clients DIR]
                            [--expected FILE] [--expected-clients FILE] [--quiet]

  Runs the Autobahn|Testsuite cases of sections 1-10, in either of the suite's roles.
  --role R         client: the runner is the fuzzing client and tests servers;
                   server: the runner is the fuzzing server and tests clients;
                   both (default without --url or --listen): client, then server
  --url URL        client role: test this server (default: build and start both
                   reference servers and test their /echo as rampart-tokio and
                   rampart-smol)
  --listen ADDR    server role: listen on ADDR (e.g. 127.0.0.1:9001) like
                   `wstest -m fuzzingserver`, and serve client runs one after the
                   other, each recorded at its /updateReports, until no client
                   comes (600 s for the first, 60 s for each next) (default: listen
                   on a free port, build both adapters' autobahn-client examples and
                   run them against it as rampart-tokio-client and
                   rampart-smol-client)
  --agent NAME     the agent name in the report (with --url, default: the URL; with
                   --listen, default: the name the client gives)
  --cases LIST     comma-separated case ids or prefixes (6.4, 9, 7.1.6); default all
  --sizes S        section 9 sizes: full (the suite's, up to 16 MiB; default) or
                   bounded (9.1/9.2 capped at 4 MiB, 100 round trips in 9.7/9.8)
  --outdir DIR     where the servers' index.json goes (default: $CARGO_TARGET_DIR or
                   target/, then conformance/servers)
  --outdir-clients DIR  where the clients' index.json goes (default: the same
                   place, then conformance/clients)
  --expected FILE  judge the servers' report with this expectations file
                   (exceptions with reasons) instead of failing on any FAILED case
  --expected-clients FILE  the same for the clients' report
  --quiet          no line per case
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Client,
    Server,
    Both,
}

struct Options {
    role: Role,
    url: Option<String>,
    listen: Option<SocketAddr>,
    agent: Option<String>,
    selection: Selection,
    sizes: Sizes,
    outdir: PathBuf,
    outdir_clients: PathBuf,
    expected: Option<PathBuf>,
    expected_clients: Option<PathBuf>,
    quiet: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let reports = servers::target_dir().join("conformance");
    let mut o = Options {
        role: Role::Both,
        url: None,
        listen: None,
        agent: None,
        selection: Selection::default(),
        sizes: Sizes::Full,
        outdir: reports.join("servers"),
        outdir_clients: reports.join("clients"),
        expected: None,
        expected_clients: None,
        quiet: false,
    };
    let mut role = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--role" => {
                role = Some(match value()?.as_str() {
                    "client" => Role::Client,
                    "server" => Role::Server,
                    "both" => Role::Both,
                    other => {
                        return Err(format!("--role {other}: expected client, server or both"));
                    }
                });
            }
            "--url" => o.url = Some(value()?),
            "--listen" => {
                let addr = value()?;
                o.listen = Some(addr.parse().map_err(|e| format!("--listen {addr}: {e}"))?);
            }
            "--agent" => o.agent = Some(value()?),
            "--cases" => {
                o.selection.include = value()?
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            "--sizes" => {
                o.sizes = match value()?.as_str() {
                    "full" => Sizes::Full,
                    "bounded" => Sizes::Bounded,
                    other => return Err(format!("--sizes {other}: expected full or bounded")),
                };
            }
            "--outdir" => o.outdir = PathBuf::from(value()?),
            "--outdir-clients" => o.outdir_clients = PathBuf::from(value()?),
            "--expected" => o.expected = Some(PathBuf::from(value()?)),
            "--expected-clients" => o.expected_clients = Some(PathBuf::from(value()?)),
            "--quiet" => o.quiet = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    o.role = match (role, &o.url, &o.listen) {
        (_, Some(_), Some(_)) => return Err("--url and --listen exclude each other".into()),
        (None | Some(Role::Client), Some(_), None) => Role::Client,
        (None | Some(Role::Server), None, Some(_)) => Role::Server,
        (Some(_), Some(_), None) => return Err("--url tests a server: only --role client".into()),
        (Some(_), None, Some(_)) => {
            return Err("--listen tests a client: only --role server".into());
        }
        (role, None, None) => role.unwrap_or(Role::Both),
    };
    if o.agent.is_some() && o.url.is_none() && o.listen.is_none() {
        return Err("--agent needs --url or --listen".into());
    }
    if o.role == Role::Server && o.expected.is_some() {
        return Err("--expected judges the servers' report: not with --role server".into());
    }
    if o.role == Role::Client && o.expected_clients.is_some() {
        return Err("--expected-clients judges the clients' report: not with --role client".into());
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("autobahn") => match parse(&args[1..]) {
            Ok(options) => autobahn_command(&options),
            Err(e) => {
                eprintln!("{e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// What one role produced: its report and whether it passes on its own.
struct RoleRun {
    index: PathBuf,
    expected: Option<PathBuf>,
    any_failed: bool,
    /// A failure beyond the verdicts (a client that did not finish its run).
    broken: bool,
}

fn autobahn_command(o: &Options) -> ExitCode {
    let cases = autobahn::select(o.sizes, &o.selection);
    if cases.is_empty() {
        eprintln!("no case selected");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let mut summaries = String::new();
    let mut runs = Vec::new();
    if o.role != Role::Server {
        match test_servers(o, &cases, &mut summaries) {
            Ok(run) => runs.push(run),
            Err(code) => return code,
        }
    }
    if o.role != Role::Client {
        match test_clients(o, &cases, &mut summaries) {
            Ok(run) => runs.push(run),
            Err(code) => return code,
        }
    }
    print!("{summaries}");
    let mut passed = true;
    for run in &runs {
        println!("report: {}", run.index.display());
        passed &= !run.broken;
        if let Some(expected) = &run.expected {
            passed &= check(expected, &run.index, cases.len());
        } else if run.any_failed {
            println!("FAILED cases present");
            passed = false;
        }
    }
    if runs.len() > 1 {
        println!("autobahn: {:.1} s", started.elapsed().as_secs_f64());
    }
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn progress(o: &Options, agent: &str) -> impl FnMut(&Outcome) {
    let quiet = o.quiet;
    let agent = agent.to_owned();
    move |out| {
        if !quiet {
            eprintln!(
                "{agent} {:<8} {:<13} close {:<16} {:>6} ms",
                out.id,
                out.behavior.as_str(),
                out.behavior_close.as_str(),
                out.duration.as_millis()
            );
        }
    }
}

/// Writes one agent's results and adds its summary.
fn record(
    dir: &Path,
    agent: &str,
    cases: &[Case],
    outcomes: &[Outcome],
    took: Duration,
    summaries: &mut String,
) -> Result<bool, ExitCode> {
    if let Err(e) = results::write(dir, agent, cases, outcomes) {
        eprintln!("{}: {e}", dir.display());
        return Err(ExitCode::FAILURE);
    }
    summaries.push_str(&results::summary(agent, outcomes));
    summaries.push_str(&format!(
        "  ({} cases in {:.1} s)\n",
        outcomes.len(),
        took.as_secs_f64()
    ));
    Ok(outcomes
        .iter()
        .any(|out| results::column(out) == Verdict::Failed))
}

/// The client role: the runner tests servers.
fn test_servers(o: &Options, cases: &[Case], summaries: &mut String) -> Result<RoleRun, ExitCode> {
    let mut targets: Vec<(String, String)> = Vec::new();
    let mut running = Vec::new();
    if let Some(url) = &o.url {
        targets.push((o.agent.clone().unwrap_or_else(|| url.clone()), url.clone()));
    } else {
        for reference in &servers::REFERENCES {
            eprintln!(
                "building {} (example {})",
                reference.package, reference.example
            );
            let started = servers::build(reference).and_then(|exe| {
                servers::Running::start(&exe, &["--addr", "127.0.0.1:0"], Duration::from_secs(60))
            });
            match started {
                Ok(server) => {
                    eprintln!("{} listening on {}", reference.agent, server.addr);
                    targets.push((reference.agent.to_owned(), server.echo_url()));
                    running.push(server);
                }
                Err(e) => {
                    eprintln!("cannot start {}: {e}", reference.agent);
                    return Err(ExitCode::FAILURE);
                }
            }
        }
    }
    let mut any_failed = false;
    for (agent, url) in &targets {
        let target = match Target::parse(url) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return Err(ExitCode::from(2));
            }
        };
        eprintln!("running {} cases against {agent} at {url}", cases.len());
        let started = Instant::now();
        let outcomes = autobahn::run_client(&target, cases, progress(o, agent));
        any_failed |= record(
            &o.outdir,
            agent,
            cases,
            &outcomes,
            started.elapsed(),
            summaries,
        )?;
    }
    drop(running);
    Ok(RoleRun {
        index: o.outdir.join("index.json"),
        expected: o.expected.clone(),
        any_failed,
        broken: false,
    })
}

/// How long a client under test may take to make its first connection
/// (start-up) and each next one.
const CLIENT_WAITS: Waits = Waits {
    first: Duration::from_secs(60),
    between: Duration::from_secs(30),
};
/// With `--listen`: how long to wait for the first client (started by hand).
const LISTEN_FIRST_WAIT: Duration = Duration::from_secs(600);
/// How long a client under test may take to exit after its run.
const CLIENT_EXIT: Duration = Duration::from_secs(10);

/// The server role: the runner tests clients.
fn test_clients(o: &Options, cases: &[Case], summaries: &mut String) -> Result<RoleRun, ExitCode> {
    let addr = o
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let server = FuzzingServer::bind(addr).map_err(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        ExitCode::FAILURE
    })?;
    let url = server.url();
    let mut any_failed = false;
    let mut broken = false;
    if o.listen.is_some() {
        // Like `wstest -m fuzzingserver`: any number of client runs, one
        // after the other, each recorded at its /updateReports; serving ends
        // when no client comes (a run with no case and no report).
        let mut waits = Waits {
            first: LISTEN_FIRST_WAIT,
            between: CLIENT_WAITS.between,
        };
        loop {
            eprintln!(
                "fuzzing server for {} cases at {url}: waiting up to {} s for a client",
                cases.len(),
                waits.first.as_secs()
            );
            let started = Instant::now();
            let agent = o.agent.as_deref();
            let mut report = progress(o, agent.unwrap_or("client"));
            let served = server.serve(cases, agent, waits, &mut || true, &mut report);
            if served.end != End::Reported && served.cases_run == 0 {
                break;
            }
            if served.end != End::Reported {
                eprintln!(
                    "the client's run did not end with /updateReports: {:?}",
                    served.end
                );
                broken = true;
            }
            let agent = served.agent.as_deref().unwrap_or("unknown");
            any_failed |= record(
                &o.outdir_clients,
                agent,
                cases,
                &served.outcomes,
                started.elapsed(),
                summaries,
            )?;
            waits.first = CLIENT_WAITS.first;
        }
    } else {
        let mut programs = Vec::new();
        for client in &servers::CLIENTS {
            eprintln!("building {} (example {})", client.package, client.example);
            match servers::build(client) {
                Ok(exe) => programs.push((client, exe)),
                Err(e) => {
                    eprintln!("cannot build {}: {e}", client.agent);
                    return Err(ExitCode::FAILURE);
                }
            }
        }
        for (client, exe) in &programs {
            let agent = client.agent;
            eprintln!("running {} cases against {agent} from {url}", cases.len());
            let started = Instant::now();
            let mut process = servers::Process::spawn(exe, &["--url", &url, "--agent", agent])
                .map_err(|e| {
                    eprintln!("cannot start {agent}: {e}");
                    ExitCode::FAILURE
                })?;
            let served = server.serve(
                cases,
                Some(agent),
                CLIENT_WAITS,
                &mut || process.is_running(),
                &mut progress(o, agent),
            );
            let took = started.elapsed();
            let status = process.wait_timeout(CLIENT_EXIT);
            drop(process);
            if served.end != End::Reported {
                eprintln!(
                    "{agent}: the run did not end with /updateReports: {:?}",
                    served.end
                );
                broken = true;
            }
            if !status.is_some_and(|s| s.success()) {
                eprintln!("{agent}: the client did not exit successfully ({status:?})");
                broken = true;
            }
            any_failed |= record(
                &o.outdir_clients,
                agent,
                cases,
                &served.outcomes,
                took,
                summaries,
            )?;
        }
    }
    Ok(RoleRun {
        index: o.outdir_clients.join("index.json"),
        expected: o.expected_clients.clone(),
        any_failed,
        broken,
    })
}

fn check(expected: &PathBuf, index: &PathBuf, selected: usize) -> bool {
    let read =
        |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let parsed = read(expected)
        .and_then(|t| report::parse_expected(&t).map_err(|e| e.to_string()))
        .and_then(|e| {
            Ok((
                e,
                read(index).and_then(|t| report::parse_report(&t).map_err(|e| e.to_string()))?,
            ))
        });
    match parsed {
        Ok((expected_results, report)) => {
            let problems: Vec<_> = report::check(&report, &expected_results)
                .into_iter()
                .filter(|p| selected == 301 || !matches!(p, report::Problem::MissingCase { .. }))
                .collect();
            if problems.is_empty() {
                println!("matches {}", expected.display());
                true
            } else {
                for p in &problems {
                    println!("{p}");
                }
                println!(
                    "{} problem(s) against {}",
                    problems.len(),
                    expected.display()
                );
                false
            }
        }
        Err(e) => {
            eprintln!("{e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_role_follows_the_options() {
        let role = |line: &str| parse(&args(line)).map(|o| o.role);
        assert_eq!(role(""), Ok(Role::Both));
        assert_eq!(role("--role server"), Ok(Role::Server));
        assert_eq!(role("--url ws://127.0.0.1:1/ --agent a"), Ok(Role::Client));
        assert_eq!(role("--listen 127.0.0.1:9001"), Ok(Role::Server));
        assert_eq!(role("--listen 127.0.0.1:9001 --agent a"), Ok(Role::Server));
        for refused in [
            "--role peer",
            "--agent a",
            "--url ws://127.0.0.1:1/ --role server",
            "--url ws://127.0.0.1:1/ --role both",
            "--listen 127.0.0.1:9001 --role client",
            "--url ws://127.0.0.1:1/ --listen 127.0.0.1:9001",
            "--listen nowhere",
            "--role server --expected e.json",
            "--role client --expected-clients e.json",
        ] {
            assert!(role(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn reports_go_to_one_folder_per_role() {
        let o = parse(&args("--expected a.json --expected-clients b.json")).unwrap();
        assert!(o.outdir.ends_with("conformance/servers"));
        assert!(o.outdir_clients.ends_with("conformance/clients"));
        assert_eq!(o.expected, Some(PathBuf::from("a.json")));
        assert_eq!(o.expected_clients, Some(PathBuf::from("b.json")));
    }
}
