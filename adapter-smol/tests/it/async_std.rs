//! async-std users: adapter-core's whole loopback suite with the server
//! inside `async_std::task::block_on`, every task on async-std's executor
//! every socket on the async-io reactor the two share, and every timer on
//! adapter-smol's timer thread.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use adapter_smol::{Runtime, Smol, SmolListener, SmolSignals, SmolSleep, SmolStream};

/// A [`Smol`] whose `run` is `async_std::task::block_on` and whose tasks go to
/// async-std's executor: what an async-std program does with adapter-smol.
#[derive(Debug, Clone)]
pub(crate) struct AsyncStd(pub(crate) Smol);

impl AsyncStd {
    pub(crate) fn new() -> Self {
        Self(Smol::with_spawner(|task| {
            async_std::task::spawn(task);
        }))
    }
}

impl Runtime for AsyncStd {
    type Listener = SmolListener;
    type Stream = SmolStream;
    type Sleep = SmolSleep;
    type Signals = SmolSignals;

    /// async-std sizes its own pool (`ASYNC_STD_THREAD_COUNT`).
    fn run<F, Fut>(_workers: usize, main: F) -> io::Result<Fut::Output>
    where
        F: FnOnce(Self) -> Fut,
        Fut: Future,
    {
        Ok(async_std::task::block_on(main(Self::new())))
    }

    fn listener(&self, listener: std::net::TcpListener) -> io::Result<SmolListener> {
        self.0.listener(listener)
    }

    fn connect(
        &self,
        addr: SocketAddr,
    ) -> impl Future<Output = io::Result<SmolStream>> + Send + 'static {
        self.0.connect(addr)
    }

    fn sleep_until(&self, deadline: Instant) -> SmolSleep {
        self.0.sleep_until(deadline)
    }

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(future);
    }

    fn signals(&self) -> io::Result<SmolSignals> {
        self.0.signals()
    }
}

/// The whole generic suite, with the server inside `block_on`.
mod suite {
    adapter_core::runtime_tests!(super::AsyncStd);
}
