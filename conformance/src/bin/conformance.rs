//! The conformance command line.
//!
//! ```text
//! conformance autobahn [--url ws://HOST:PORT/PATH --agent NAME]
//!                      [--cases ID,ID,...] [--sizes full|bounded]
//!                      [--outdir DIR] [--expected FILE]
//! ```
//!
//! Without `--url`, builds and starts both reference servers (tokio and
//! smol, on port 0) and runs the cases against each `/echo`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use conformance::autobahn::cases::{Sizes, Verdict};
use conformance::autobahn::client::Target;
use conformance::autobahn::{self, Selection, results, servers};
use conformance::report;

const USAGE: &str = "usage: conformance autobahn [--url ws://HOST:PORT/PATH --agent NAME] [--cases ID,...] [--sizes full|bounded] [--outdir DIR] [--expected FILE] [--quiet]

  Runs the Autobahn|Testsuite cases of sections 1-10 as a fuzzing client.
  --url URL        test this server (default: build and start both reference
                   servers and test their /echo as rampart-tokio and rampart-smol)
  --agent NAME     the agent name in the report (default: the URL)
  --cases LIST     comma-separated case ids or prefixes (6.4, 9, 7.1.6); default all
  --sizes S        section 9 sizes: full (the suite's, up to 16 MiB; default) or
                   bounded (9.1/9.2 capped at 4 MiB, 100 round trips in 9.7/9.8)
  --outdir DIR     where index.json goes (default: $CARGO_TARGET_DIR or
                   target/, then conformance/servers)
  --expected FILE  judge the report with this expectations file (exceptions with
                   reasons) instead of failing on any FAILED case
  --quiet          no line per case
";

struct Options {
    url: Option<String>,
    agent: Option<String>,
    selection: Selection,
    sizes: Sizes,
    outdir: PathBuf,
    expected: Option<PathBuf>,
    quiet: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        url: None,
        agent: None,
        selection: Selection::default(),
        sizes: Sizes::Full,
        outdir: servers::target_dir().join("conformance").join("servers"),
        expected: None,
        quiet: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--url" => o.url = Some(value()?),
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
            "--expected" => o.expected = Some(PathBuf::from(value()?)),
            "--quiet" => o.quiet = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.agent.is_some() && o.url.is_none() {
        return Err("--agent needs --url".into());
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

fn autobahn_command(o: &Options) -> ExitCode {
    let cases = autobahn::select(o.sizes, &o.selection);
    if cases.is_empty() {
        eprintln!("no case selected");
        return ExitCode::from(2);
    }
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
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let mut any_failed = false;
    let mut summaries = String::new();
    for (agent, url) in &targets {
        let target = match Target::parse(url) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        eprintln!("running {} cases against {agent} at {url}", cases.len());
        let started = Instant::now();
        let outcomes = autobahn::run_client(&target, &cases, |out| {
            if !o.quiet {
                eprintln!(
                    "{agent} {:<8} {:<13} close {:<16} {:>6} ms",
                    out.id,
                    out.behavior.as_str(),
                    out.behavior_close.as_str(),
                    out.duration.as_millis()
                );
            }
        });
        if let Err(e) = results::write(&o.outdir, agent, &cases, &outcomes) {
            eprintln!("{}: {e}", o.outdir.display());
            return ExitCode::FAILURE;
        }
        any_failed |= outcomes
            .iter()
            .any(|out| results::column(out) == Verdict::Failed);
        summaries.push_str(&results::summary(agent, &outcomes));
        summaries.push_str(&format!(
            "  ({} cases in {:.1} s)\n",
            outcomes.len(),
            started.elapsed().as_secs_f64()
        ));
    }
    drop(running);
    print!("{summaries}");
    let index = o.outdir.join("index.json");
    println!("report: {}", index.display());
    if let Some(expected) = &o.expected {
        return check(expected, &index, cases.len());
    }
    if any_failed {
        println!("FAILED cases present");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn check(expected: &PathBuf, index: &PathBuf, selected: usize) -> ExitCode {
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
                ExitCode::SUCCESS
            } else {
                for p in &problems {
                    println!("{p}");
                }
                println!(
                    "{} problem(s) against {}",
                    problems.len(),
                    expected.display()
                );
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
