//! The few system calls std does not offer: the descriptor limit and
//! adopting inherited listening sockets. The crate's only `unsafe` code.

use std::io;
use std::net::TcpListener;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft
/// limit in force afterwards (`None` where there is no such limit).
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn raise_nofile_limit() -> io::Result<Option<u64>> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through a valid, exclusive
    // pointer to a properly initialised local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `setrlimit` only reads the valid local it is given.
        // Failure (macOS refuses an infinite hard limit) keeps the old soft
        // limit, which is then what we check against.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return Ok(None);
    }
    #[allow(clippy::useless_conversion)] // `rlim_t` is not `u64` everywhere
    Ok(Some(u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX)))
}

/// No descriptor limit to raise on this platform.
#[cfg(not(unix))]
pub(crate) fn raise_nofile_limit() -> io::Result<Option<u64>> {
    Ok(None)
}

/// True for accept errors that mean "out of descriptors or memory": the
/// accept loop backs off instead of spinning on them.
#[cfg(unix)]
pub(crate) fn is_resource_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// True for accept errors that mean "out of descriptors or memory".
#[cfg(not(unix))]
pub(crate) fn is_resource_exhaustion(_e: &io::Error) -> bool {
    false
}

/// True for accept errors about one connection only (it was reset before we
/// took it): accepting goes on at once.
pub(crate) fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// The listening sockets systemd passed by socket activation: `LISTEN_FDS`
/// descriptors from 3 on, when `LISTEN_PID` is this process.
///
/// They are adopted at most once per process (a second server gets none),
/// and a child process never adopts them: its pid is not `LISTEN_PID`.
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn systemd_listeners() -> io::Result<Vec<TcpListener>> {
    use std::os::fd::{FromRawFd, OwnedFd, RawFd};

    const SD_LISTEN_FDS_START: RawFd = 3;
    static ADOPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let pid = std::env::var("LISTEN_PID").ok();
    let fds = std::env::var("LISTEN_FDS").ok();
    let (Some(pid), Some(fds)) = (pid, fds) else {
        return Ok(Vec::new());
    };
    if pid.trim() != std::process::id().to_string()
        || ADOPTED.swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        return Ok(Vec::new());
    }
    let count: RawFd = fds
        .trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "LISTEN_FDS is not a number"))?;
    if !(0..=1024).contains(&count) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "LISTEN_FDS out of range",
        ));
    }
    let mut listeners = Vec::new();
    for fd in SD_LISTEN_FDS_START..SD_LISTEN_FDS_START + count {
        // Refuse anything that is not an open descriptor before owning it.
        // SAFETY: F_GETFD only queries the descriptor table.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: systemd's protocol (sd_listen_fds(3)) hands this process
        // descriptors 3..3+LISTEN_FDS, open (checked above), and nothing
        // else in the process owns them; `ADOPTED` makes this the only
        // place that ever takes ownership of them.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let listener = TcpListener::from(owned);
        // Fails for a socket that is not TCP, instead of serving it.
        listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// No socket activation on this platform.
#[cfg(not(unix))]
pub(crate) fn systemd_listeners() -> io::Result<Vec<TcpListener>> {
    Ok(Vec::new())
}
