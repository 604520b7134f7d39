//! What the interop test binaries share: the Python interpreter from
//! `RAMPART_INTEROP_PYTHON`, Python scripts run as bounded child processes,
//! the reference servers and Python servers as children killed on drop, and
//! a bounded run of a future on one of our runtimes.
//!
//! Everything binds `127.0.0.1:0`; every wait has a bound; every child
//! process is killed by its handle when its guard drops, panics included.

use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use adapter_core::Runtime;
use conformance::autobahn::servers::{self, REFERENCES, Reference, Running};

/// How long a server may take to print its `listening on` line.
pub(crate) const START: Duration = Duration::from_secs(30);
/// How long one Python client script may run.
pub(crate) const SCRIPT: Duration = Duration::from_secs(120);
/// How long one of our clients' whole conversation with a peer may take.
pub(crate) const CONVERSATION: Duration = Duration::from_secs(60);

/// The interpreter of the virtual environment `conformance/interop.sh`
/// installs the peers into.
///
/// # Panics
///
/// When `RAMPART_INTEROP_PYTHON` is not set: a peer is never skipped.
pub(crate) fn python() -> PathBuf {
    let python = std::env::var_os("RAMPART_INTEROP_PYTHON").expect(
        "RAMPART_INTEROP_PYTHON is not set: run conformance/interop.sh, which installs the Python peers and sets it",
    );
    PathBuf::from(python)
}

/// `conformance/scripts/NAME`.
pub(crate) fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
        .to_str()
        .expect("a UTF-8 path")
        .to_owned()
}

/// The reference server of `package` (`adapter-tokio` or `adapter-smol`).
pub(crate) fn reference(package: &str) -> Reference {
    *REFERENCES
        .iter()
        .find(|r| r.package == package)
        .expect("a reference server")
}

/// Builds (release) and starts a reference server on `127.0.0.1:0`.
pub(crate) fn start_reference(reference: &Reference) -> Running {
    let exe = servers::build(reference).unwrap_or_else(|e| panic!("{e}"));
    Running::start(&exe, &["--addr", "127.0.0.1:0", "--workers", "2"], START)
        .unwrap_or_else(|e| panic!("{} does not start: {e}", reference.example))
}

/// Starts `conformance/scripts/NAME` (a server printing `listening on`)
/// on `127.0.0.1:0`.
pub(crate) fn start_python_server(name: &str) -> Running {
    Running::start(&python(), &[&script(name), "127.0.0.1", "0"], START)
        .unwrap_or_else(|e| panic!("{name} does not start: {e}"))
}

/// A child process, killed and reaped when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn collect(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `conformance/scripts/NAME ARGS...` to its end within [`SCRIPT`]
/// and asserts it exits 0, showing its output either way.
///
/// # Panics
///
/// When it cannot start, runs too long (it is killed), or exits non-zero.
pub(crate) fn run_python_script(name: &str, args: &[&str]) {
    let child = Command::new(python())
        .arg(script(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut guard = Guard(child);
    let stdout = collect(guard.0.stdout.take().expect("stdout"));
    let stderr = collect(guard.0.stderr.take().expect("stderr"));
    let deadline = Instant::now() + SCRIPT;
    let status: Option<ExitStatus> = loop {
        match guard.0.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => break None,
            Err(e) => panic!("{name}: {e}"),
        }
    };
    drop(guard); // kills it if it is still running: the pipes then close
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    eprint!("{stdout}");
    match status {
        Some(status) if status.success() => {}
        Some(status) => panic!("{name} {args:?} failed ({status}):\n{stdout}{stderr}"),
        None => panic!("{name} {args:?} ran past {SCRIPT:?} and was killed:\n{stdout}{stderr}"),
    }
}

/// Runs `main` on a fresh `R` runtime with one worker and returns its
/// output.
///
/// # Panics
///
/// When it takes longer than [`CONVERSATION`] (it is dropped first), or
/// panics itself.
pub(crate) fn run_bounded<R: Runtime, T, Fut>(main: impl FnOnce(R) -> Fut) -> T
where
    Fut: Future<Output = T>,
{
    R::run(1, |rt: R| async move {
        adapter_core::client_testing::timeout(&rt, CONVERSATION, main(rt.clone()))
            .await
            .unwrap_or_else(|| panic!("the client side did not finish within {CONVERSATION:?}"))
    })
    .expect("the runtime starts")
}
