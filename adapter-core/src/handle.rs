//! Handles to send to a connection from anywhere, and broadcast groups.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use async_channel::{Receiver, Sender, TrySendError};
use futures_core::Stream as _;

use crate::protocol::ConnId;

/// What a [`ConnHandle`] does when the connection's outbound queue is full:
/// the peer is not reading fast enough.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueFull {
    /// Close the connection (a slow consumer must not hold the sender up, nor
    /// be buffered without bound). The default.
    #[default]
    Close,
    /// [`ConnHandle::send`] waits for room; [`ConnHandle::try_send`] returns
    /// [`SendError::Full`] and leaves the connection open.
    Wait,
}

/// Why a message was not queued; the message is handed back.
#[derive(PartialEq, Eq)]
pub enum SendError<M> {
    /// The queue is full (and, under [`QueueFull::Close`], the connection is
    /// being closed).
    Full(M),
    /// The connection is closed or closing.
    Closed(M),
}

impl<M> SendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            Self::Full(m) | Self::Closed(m) => m,
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "Full(..)",
            Self::Closed(_) => "Closed(..)",
        })
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "outbound queue full",
            Self::Closed(_) => "connection closed",
        })
    }
}

impl<M> std::error::Error for SendError<M> {}

#[derive(Debug, Default)]
pub(crate) struct Flags {
    /// Close once pending output is written.
    pub(crate) close: AtomicBool,
    /// The queue overflowed under `QueueFull::Close`: close at once.
    pub(crate) overflow: AtomicBool,
}

/// A connection's queue: the driver's sender (which keeps it open), the
/// receiver, and the flags handles set.
type Channel<M> = (Sender<M>, Pin<Box<Receiver<M>>>, Arc<Flags>);

/// The receiving end, owned by the driver; the channel exists once somebody
/// asked for a handle.
pub(crate) struct Queue<M> {
    capacity: usize,
    policy: QueueFull,
    channel: Option<Channel<M>>,
    finished: bool,
    /// The channel was created since the driver last looked: its receiver
    /// has no waker registered yet.
    fresh: bool,
}

/// What the driver learns from its queue.
pub(crate) enum Polled<M> {
    Message(M),
    /// A handle asked to close (`overflow` says whether by force).
    Close {
        overflow: bool,
    },
    Pending,
}

impl<M> Queue<M> {
    pub(crate) fn new(capacity: usize, policy: QueueFull) -> Self {
        Self {
            capacity: capacity.max(1),
            policy,
            channel: None,
            finished: false,
            fresh: false,
        }
    }

    pub(crate) fn handle(&mut self, id: ConnId) -> ConnHandle<M> {
        self.fresh |= self.channel.is_none();
        let (tx, _, flags) = self.channel.get_or_insert_with(|| {
            let (tx, rx) = async_channel::bounded(self.capacity);
            (tx, Box::pin(rx), Arc::default())
        });
        ConnHandle {
            id,
            tx: tx.clone(),
            flags: Arc::clone(flags),
            policy: self.policy,
        }
    }

    /// True once after a callback created the channel: poll it again so
    /// its receiver registers the task's waker.
    pub(crate) fn take_fresh(&mut self) -> bool {
        std::mem::take(&mut self.fresh)
    }

    /// True when messages are waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.channel.as_ref().is_none_or(|(_, rx, _)| rx.is_empty())
    }

    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Polled<M> {
        let Some((_, rx, flags)) = &mut self.channel else {
            return Polled::Pending;
        };
        if self.finished {
            return Polled::Pending;
        }
        if flags.overflow.load(Ordering::Acquire) {
            self.finished = true;
            return Polled::Close { overflow: true };
        }
        match rx.as_mut().poll_next(cx) {
            Poll::Ready(Some(m)) => Polled::Message(m),
            Poll::Ready(None) => {
                // Only `close` closes the channel: the driver keeps a sender.
                self.finished = true;
                Polled::Close {
                    overflow: flags.overflow.load(Ordering::Acquire),
                }
            }
            Poll::Pending => Polled::Pending,
        }
    }

    /// Refuses further messages and drops the queued ones; called when the
    /// connection ends.
    pub(crate) fn shut(&mut self) {
        if let Some((tx, rx, _)) = &self.channel {
            tx.close();
            while rx.try_recv().is_ok() {}
        }
    }
}

/// A cloneable handle to one connection: send it messages from any task or
/// thread, or close it.
///
/// Messages go through a bounded queue (capacity
/// [`Builder::queue_capacity`](crate::Builder::queue_capacity)) and are
/// handed to the protocol on the connection's own task, in order. A full
/// queue means the peer is not keeping up; what happens then is the
/// [`QueueFull`] policy.
///
/// ```
/// # fn demo(handle: adapter_core::ConnHandle<bytes::Bytes>) {
/// use bytes::Bytes;
/// if let Err(e) = handle.try_send(Bytes::from_static(b"tick")) {
///     eprintln!("{}: {e}", handle.id());
/// }
/// # }
/// ```
pub struct ConnHandle<M> {
    id: ConnId,
    tx: Sender<M>,
    flags: Arc<Flags>,
    policy: QueueFull,
}

impl<M> Clone for ConnHandle<M> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            tx: self.tx.clone(),
            flags: Arc::clone(&self.flags),
            policy: self.policy,
        }
    }
}

impl<M> fmt::Debug for ConnHandle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnHandle")
            .field("id", &self.id)
            .field("queued", &self.tx.len())
            .finish_non_exhaustive()
    }
}

impl<M> ConnHandle<M> {
    /// The connection's id.
    #[must_use]
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// True once the connection is closed or closing.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Queues `message` without waiting.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when the connection is gone;
    /// [`SendError::Full`] when the queue is full, in which case under
    /// [`QueueFull::Close`] the connection is also closed at once.
    pub fn try_send(&self, message: M) -> Result<(), SendError<M>> {
        match self.tx.try_send(message) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(m)) => Err(SendError::Closed(m)),
            Err(TrySendError::Full(m)) => {
                if self.policy == QueueFull::Close {
                    self.flags.overflow.store(true, Ordering::Release);
                    self.tx.close();
                }
                Err(SendError::Full(m))
            }
        }
    }

    /// Queues `message`, waiting for room under [`QueueFull::Wait`].
    ///
    /// # Errors
    ///
    /// As [`try_send`](ConnHandle::try_send); under [`QueueFull::Wait`] only
    /// [`SendError::Closed`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: when the future is dropped before it completes, the
    /// message was not queued.
    pub async fn send(&self, message: M) -> Result<(), SendError<M>> {
        match self.policy {
            QueueFull::Close => self.try_send(message),
            QueueFull::Wait => self
                .tx
                .send(message)
                .await
                .map_err(|e| SendError::Closed(e.into_inner())),
        }
    }

    /// Closes the connection once the messages already queued are handled
    /// and the output is written.
    pub fn close(&self) {
        self.flags.close.store(true, Ordering::Release);
        self.tx.close();
    }
}

/// A set of connections to broadcast to, for chat-like fan-out.
///
/// Cheap to clone (clones share the set). Connections that closed are
/// dropped from the set on the next broadcast; a member whose queue is full
/// is handled by its [`QueueFull`] policy and skipped, so one slow member
/// never holds the others up.
///
/// ```
/// use adapter_core::Group;
/// use bytes::Bytes;
///
/// let room: Group<Bytes> = Group::new();
/// assert_eq!(room.broadcast(&Bytes::from_static(b"nobody hears this")), 0);
/// assert!(room.is_empty());
/// ```
pub struct Group<M> {
    members: Arc<Mutex<HashMap<ConnId, ConnHandle<M>>>>,
}

impl<M> Clone for Group<M> {
    fn clone(&self) -> Self {
        Self {
            members: Arc::clone(&self.members),
        }
    }
}

impl<M> Default for Group<M> {
    fn default() -> Self {
        Self {
            members: Arc::default(),
        }
    }
}

impl<M> fmt::Debug for Group<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field(
                "members",
                &self.members.lock().map_or(0, |members| members.len()),
            )
            .finish()
    }
}

impl<M: Clone> Group<M> {
    /// An empty group.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn members(&self) -> std::sync::MutexGuard<'_, HashMap<ConnId, ConnHandle<M>>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a connection.
    pub fn join(&self, handle: ConnHandle<M>) {
        self.members().insert(handle.id(), handle);
    }

    /// Removes a connection; does nothing if it is not a member.
    pub fn leave(&self, id: ConnId) {
        self.members().remove(&id);
    }

    /// The number of members (closed ones included until the next
    /// broadcast).
    #[must_use]
    pub fn len(&self) -> usize {
        self.members().len()
    }

    /// True when there are no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a clone of `message` to every member without waiting, and
    /// returns how many accepted it.
    pub fn broadcast(&self, message: &M) -> usize {
        let mut sent = 0;
        self.members().retain(|_, member| {
            match member.try_send(message.clone()) {
                Ok(()) => sent += 1,
                Err(SendError::Closed(_)) => return false,
                Err(SendError::Full(_)) => {}
            }
            true
        });
        sent
    }
}
