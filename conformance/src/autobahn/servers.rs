//! Building and starting the programs under test: the reference servers
//! (DESIGN.md, "The reference server"; each prints exactly one
//! `listening on IP:PORT` line once it serves, and `/echo` is the Autobahn
//! target) and the adapters' Autobahn clients (the `autobahn-client`
//! examples, written once in `adapter_core::example::autobahn_client`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// One program under test: package, example and agent name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// The cargo package.
    pub package: &'static str,
    /// The example target.
    pub example: &'static str,
    /// The agent name in reports.
    pub agent: &'static str,
}

/// Both reference servers.
pub const REFERENCES: [Reference; 2] = [
    Reference {
        package: "adapter-tokio",
        example: "tokio-server",
        agent: "rampart-tokio",
    },
    Reference {
        package: "adapter-smol",
        example: "smol-server",
        agent: "rampart-smol",
    },
];

/// Both adapters' Autobahn clients (`autobahn-client [--url URL]
/// [--agent NAME] [--cases N,M]`). Examples of one workspace share
/// `target/<profile>/examples/`, so smol's is named after its runtime.
pub const CLIENTS: [Reference; 2] = [
    Reference {
        package: "adapter-tokio",
        example: "autobahn-client",
        agent: "rampart-tokio-client",
    },
    Reference {
        package: "adapter-smol",
        example: "smol-autobahn-client",
        agent: "rampart-smol-client",
    },
];

/// The workspace root (this crate's parent directory).
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The cargo target directory: `$CARGO_TARGET_DIR`, else `target/` in the
/// workspace.
#[must_use]
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Builds a program under test in release mode and returns its executable.
///
/// # Errors
///
/// A message when cargo fails or names no executable (for instance when the
/// example does not exist yet).
pub fn build(reference: &Reference) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--release",
            "-p",
            reference.package,
            "--example",
            reference.example,
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build -p {} --example {} failed ({})",
            reference.package, reference.example, output.status
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == reference.example)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| {
            format!(
                "cargo built no executable for example {}",
                reference.example
            )
        })
}

/// A running server, killed when dropped.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// `IP:PORT` from its `listening on` line.
    pub addr: String,
}

impl Running {
    /// Starts `exe` with `args` (for a reference server,
    /// `--addr 127.0.0.1:0`) and waits up to `timeout` for its
    /// `listening on IP:PORT` line.
    ///
    /// # Errors
    ///
    /// A message when it cannot start, exits, or prints no such line in time.
    pub fn start(exe: &Path, args: &[&str], timeout: Duration) -> Result<Self, String> {
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(addr) = line.trim().strip_prefix("listening on ") {
                        let _ = tx.send(addr.trim().to_owned());
                        sent = true;
                    }
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });
        match rx.recv_timeout(timeout) {
            Ok(addr) => Ok(Self { child, addr }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{} printed no `listening on IP:PORT` line within {timeout:?}",
                    exe.display()
                ))
            }
        }
    }

    /// The `/echo` URL.
    #[must_use]
    pub fn echo_url(&self) -> String {
        format!("ws://{}/echo", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running program that prints nothing we wait for (an Autobahn client),
/// killed when dropped.
#[derive(Debug)]
pub struct Process {
    child: Child,
}

impl Process {
    /// Starts `exe` with `args`; its stdout is discarded, its stderr shown.
    ///
    /// # Errors
    ///
    /// A message when it cannot start.
    pub fn spawn(exe: &Path, args: &[&str]) -> Result<Self, String> {
        Command::new(exe)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map(|child| Self { child })
            .map_err(|e| format!("{}: {e}", exe.display()))
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for it to exit; its exit status, `None` if it
    /// is still running (it is killed when dropped).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < until => thread::sleep(Duration::from_millis(20)),
                _ => return None,
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
