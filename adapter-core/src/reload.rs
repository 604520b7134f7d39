//! Graceful reload: hand the listening sockets to a new process of the same
//! executable, wait until it is ready, then drain like a graceful stop.
//!
//! The old process duplicates every listening socket, starts
//! `current_exe()` with the same arguments and these variables:
//!
//! - `RAMPART_LISTEN_FDS`: the inherited listening descriptors, comma
//!   separated; they take precedence over the configured addresses;
//! - `RAMPART_READY_FD`: the write end of a pipe; the new process writes one
//!   byte to it once its listeners are registered and its signal handlers
//!   installed, then closes it;
//! - `RAMPART_PARENT_PID`: the old process; the variables are honoured only
//!   by its direct child, so unrelated programs started later with the same
//!   environment never adopt descriptors.
//!
//! Both processes accept from the same kernel sockets while they overlap, so
//! no connection is refused. Readiness (or the new process's death, or a
//! timeout) is awaited off the runtime, on a plain thread reading the pipe.
//! The descriptor work needs `unsafe` (`pre_exec`, `from_raw_fd`, `pipe2`);
//! it is confined to this module and documented block by block.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};

const ENV_FDS: &str = "RAMPART_LISTEN_FDS";
const ENV_READY: &str = "RAMPART_READY_FD";
const ENV_PARENT: &str = "RAMPART_PARENT_PID";

/// What a previous process handed to this one.
#[derive(Debug)]
pub(crate) struct Inherited {
    pub(crate) listeners: Vec<TcpListener>,
    pub(crate) ready: Option<File>,
}

/// Adopts the descriptors a previous process handed over, once per process.
///
/// Returns `None` when this process was not started by a reload.
#[allow(unsafe_code)]
pub(crate) fn inherited() -> io::Result<Option<Inherited>> {
    static ADOPTED: AtomicBool = AtomicBool::new(false);
    let (Ok(fds), Ok(parent)) = (std::env::var(ENV_FDS), std::env::var(ENV_PARENT)) else {
        return Ok(None);
    };
    if parent.trim() != std::os::unix::process::parent_id().to_string()
        || ADOPTED.swap(true, Ordering::SeqCst)
    {
        return Ok(None);
    }
    let parse = |s: &str| -> io::Result<RawFd> {
        s.trim()
            .parse::<RawFd>()
            .ok()
            .filter(|fd| *fd > 2)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("bad descriptor {s:?}"))
            })
    };
    let mut listeners = Vec::new();
    for fd in fds.split(',').filter(|s| !s.is_empty()) {
        let owned = adopt(parse(fd)?)?;
        let listener = TcpListener::from(owned);
        listener.local_addr()?; // a TCP socket, or refuse
        listeners.push(listener);
    }
    let ready = match std::env::var(ENV_READY) {
        Ok(fd) => Some(File::from(adopt(parse(&fd)?)?)),
        Err(_) => None,
    };
    Ok(Some(Inherited { listeners, ready }))
}

/// Takes ownership of an inherited descriptor and marks it close-on-exec
/// again, so programs this process starts do not inherit it.
#[allow(unsafe_code)]
fn adopt(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_GETFD and F_SETFD only query and set the descriptor's flags;
    // a closed or invalid `fd` makes them fail, which is checked.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor is open (checked above) and was handed to this
    // process by its parent through `RAMPART_*` for it alone; `inherited`
    // runs at most once per process (`ADOPTED`), so nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Tells the previous process that this one is serving.
pub(crate) fn announce_ready(ready: Option<File>) {
    if let Some(mut ready) = ready {
        // If the old process is gone there is nobody to tell.
        let _ = ready.write_all(b"1");
    }
}

/// The executable to start: the current one, even if it was replaced on
/// disk (Linux then reports the old inode as `path (deleted)`).
fn executable() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let text = exe.as_os_str().to_string_lossy();
    Ok(match text.strip_suffix(" (deleted)") {
        Some(path) => PathBuf::from(path),
        None => exe,
    })
}

/// A started successor and the read end of its readiness pipe.
#[derive(Debug)]
pub(crate) struct Successor {
    pub(crate) child: Child,
    pub(crate) ready: File,
}

/// Starts a new process of this executable, with the same arguments, that
/// inherits `listeners`.
#[allow(unsafe_code)]
pub(crate) fn spawn_successor(listeners: &[TcpListener]) -> io::Result<Successor> {
    let (read_end, write_end) = pipe()?;
    let mut inherit: Vec<RawFd> = listeners.iter().map(AsRawFd::as_raw_fd).collect();
    let fds = inherit
        .iter()
        .map(RawFd::to_string)
        .collect::<Vec<_>>()
        .join(",");
    inherit.push(write_end.as_raw_fd());
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = Command::new(executable()?);
    command
        .args(args)
        .env(ENV_FDS, fds)
        .env(ENV_READY, write_end.as_raw_fd().to_string())
        .env(ENV_PARENT, std::process::id().to_string());
    // SAFETY: the closure runs in the forked child before `exec`, where only
    // async-signal-safe calls are allowed: it calls `fcntl` alone, on
    // descriptors that are open in the parent (owned by `listeners` and
    // `write_end`, alive until `spawn` returns) and so in the child, and it
    // allocates nothing (the list was built before the fork).
    unsafe {
        command.pre_exec(move || {
            for &fd in &inherit {
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = command.spawn()?;
    // Our copy of the write end must go, or the pipe never reports EOF.
    drop(write_end);
    Ok(Successor {
        child,
        ready: File::from(read_end),
    })
}

/// A close-on-exec pipe: (read end, write end).
#[allow(unsafe_code)]
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [-1, -1];
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    // SAFETY: `pipe2` writes two descriptors into the valid two-element
    // array it is given.
    let result = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    // SAFETY: as above; close-on-exec is set right after, before any other
    // thread of ours can start a program (reload runs on one task).
    let result = unsafe { libc::pipe(fds.as_mut_ptr()) };
    if result == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created by `pipe2`/`pipe` and are
    // owned by nobody else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    for fd in [&read_end, &write_end] {
        // SAFETY: F_SETFD on a descriptor we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((read_end, write_end))
}

/// Tells systemd (`NOTIFY_SOCKET`) that this process is ready and is the
/// service's main process, so it follows a reload (`NotifyAccess=all`).
/// Best effort: without systemd this does nothing.
pub(crate) fn notify_systemd() {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let message = format!("READY=1\nMAINPID={}\n", std::process::id());
    let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    #[cfg(target_os = "linux")]
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name) {
            let _ = socket.send_to_addr(message.as_bytes(), &addr);
        }
        return;
    }
    let _ = bytes;
    let _ = socket.send_to(message.as_bytes(), &path);
}
