//! [`Config`]: every limit, deadline and leniency option of a connection.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ConfigError;
use crate::mask::MaskSource;

const MIB: usize = 1 << 20;

/// Default [`Config::max_frame_size`]: 16 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 * MIB;
/// Default [`Config::max_message_size`]: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * MIB;
/// Default [`Config::fragment_overhead`]: 64 bytes per extra fragment.
pub const DEFAULT_FRAGMENT_OVERHEAD: usize = 64;
/// Default [`Config::max_send_buffer_size`]: 16 MiB + 64 KiB.
pub const DEFAULT_MAX_SEND_BUFFER_SIZE: usize = 16 * MIB + 64 * 1024;
/// Default [`Config::max_transmit_chunk`]: 64 KiB.
pub const DEFAULT_MAX_TRANSMIT_CHUNK: usize = 64 * 1024;

/// The limits, deadlines and options of a [`Connection`](crate::Connection).
///
/// Every buffer that grows from peer input has a finite cap, checked on the
/// declared length before any memory is reserved; leniency options are named
/// `allow_*` and off. The defaults pass every non-compression case of the
/// Autobahn|Testsuite, including 16 MiB messages (9.1.6, 9.2.6) and 4 MiB
/// messages in 64-byte fragments (9.3.1, 9.4.1).
///
/// ```
/// use proto_ws::Config;
/// use std::time::Duration;
///
/// let mut config = Config::default();
/// config
///     .max_message_size(1 << 20)
///     .max_frame_size(1 << 20)
///     .idle_timeout(Duration::from_secs(300))
///     .streaming(true);
/// ```
#[non_exhaustive]
#[derive(Clone)]
pub struct Config {
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) fragment_overhead: usize,
    pub(crate) max_send_buffer_size: usize,
    pub(crate) max_transmit_chunk: usize,
    pub(crate) send_fragment_size: Option<usize>,
    pub(crate) streaming: bool,
    pub(crate) auto_pong: bool,
    pub(crate) allow_non_minimal_length: bool,
    pub(crate) idle_timeout: Duration,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) mask_source: Option<Arc<dyn MaskSource>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            fragment_overhead: DEFAULT_FRAGMENT_OVERHEAD,
            max_send_buffer_size: DEFAULT_MAX_SEND_BUFFER_SIZE,
            max_transmit_chunk: DEFAULT_MAX_TRANSMIT_CHUNK,
            send_fragment_size: None,
            streaming: false,
            auto_pong: true,
            allow_non_minimal_length: false,
            idle_timeout: Duration::from_secs(60),
            ping_interval: Duration::from_secs(30),
            ping_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(5),
            mask_source: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("max_frame_size", &self.max_frame_size)
            .field("max_message_size", &self.max_message_size)
            .field("fragment_overhead", &self.fragment_overhead)
            .field("max_send_buffer_size", &self.max_send_buffer_size)
            .field("max_transmit_chunk", &self.max_transmit_chunk)
            .field("send_fragment_size", &self.send_fragment_size)
            .field("streaming", &self.streaming)
            .field("auto_pong", &self.auto_pong)
            .field("allow_non_minimal_length", &self.allow_non_minimal_length)
            .field("idle_timeout", &self.idle_timeout)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("mask_source", &self.mask_source.is_some())
            .finish()
    }
}

impl Config {
    /// The largest payload one received frame may declare, in bytes.
    ///
    /// Default 16 MiB ([`DEFAULT_MAX_FRAME_SIZE`]). Checked on the header's
    /// declared length before any payload is buffered; a larger frame fails
    /// the connection with [`Error::TooLarge`](crate::Error::TooLarge)`(`[`Limit::FrameSize`](crate::Limit::FrameSize)`)`,
    /// close code 1009 (RFC 6455 §7.4.1). Control frames are capped at 125
    /// bytes by RFC 6455 §5.5 whatever this says.
    pub fn max_frame_size(&mut self, bytes: usize) -> &mut Self {
        self.max_frame_size = bytes;
        self
    }

    /// The largest message, in payload bytes plus
    /// [`fragment_overhead`](Self::fragment_overhead) for each fragment after
    /// the first.
    ///
    /// Default 16 MiB ([`DEFAULT_MAX_MESSAGE_SIZE`]), exactly what Autobahn
    /// 9.1.6 and 9.2.6 send. A whole-message connection buffers up to this
    /// much per message (plus one completed message waiting in the event
    /// queue). Memory follows what arrives: a frame is reserved in one piece
    /// (so its payload is copied once) only when its declared length is at
    /// most twice what arrived of it plus 64 KiB, never on a header
    /// alone. Checked on each frame's declared length before buffering; a
    /// larger message fails the connection with
    /// [`Error::TooLarge`](crate::Error::TooLarge)`(`[`Limit::MessageSize`](crate::Limit::MessageSize)`)`,
    /// close code 1009. Applies in [`streaming`](Self::streaming) mode too.
    pub fn max_message_size(&mut self, bytes: usize) -> &mut Self {
        self.max_message_size = bytes;
        self
    }

    /// What each fragment after a message's first costs against
    /// [`max_message_size`](Self::max_message_size), in bytes.
    ///
    /// Default 64 ([`DEFAULT_FRAGMENT_OVERHEAD`]). A message held open by
    /// tiny fragments costs far more to process and track than its payload
    /// (Node ws, CVE-2026-48779); charging each fragment bounds their number
    /// to `max_message_size / fragment_overhead` (262,144 by default) while a
    /// 4 MiB message in 65,536 fragments of 64 bytes (Autobahn 9.3.1)
    /// is charged 8 MiB and passes. Exceeding it is
    /// [`Limit::MessageSize`](crate::Limit::MessageSize), close code 1009.
    /// Zero disables the charge.
    pub fn fragment_overhead(&mut self, bytes: usize) -> &mut Self {
        self.fragment_overhead = bytes;
        self
    }

    /// The most output bytes queued and not yet handed out by
    /// [`poll_transmit`](crate::Connection::poll_transmit).
    ///
    /// Default 16 MiB + 64 KiB ([`DEFAULT_MAX_SEND_BUFFER_SIZE`]): one
    /// maximum-size message with its headers. A `send_*` that would go over
    /// returns [`SendError::Backpressure`](crate::SendError::Backpressure)
    /// and queues nothing. Automatic pongs beyond the cap are coalesced into
    /// one pending pong (RFC 6455 §5.5.3 allows answering only the latest
    /// ping); close frames always fit, since only one is ever sent.
    pub fn max_send_buffer_size(&mut self, bytes: usize) -> &mut Self {
        self.max_send_buffer_size = bytes;
        self
    }

    /// The most bytes one [`poll_transmit`](crate::Connection::poll_transmit)
    /// call appends to the caller's buffer.
    ///
    /// Default 64 KiB ([`DEFAULT_MAX_TRANSMIT_CHUNK`]); it bounds how much the
    /// driver's write buffer grows per call.
    pub fn max_transmit_chunk(&mut self, bytes: usize) -> &mut Self {
        self.max_transmit_chunk = bytes;
        self
    }

    /// Splits each sent message into frames of at most this many payload
    /// bytes (RFC 6455 §5.4); `None` sends every message as one frame.
    ///
    /// Default `None`. Smaller frames let pings and pongs through sooner and
    /// let a peer with a small frame cap accept large messages, at 2 to 14
    /// bytes of header per frame.
    pub fn send_fragment_size(&mut self, bytes: Option<usize>) -> &mut Self {
        self.send_fragment_size = bytes;
        self
    }

    /// Delivers messages piece by piece as
    /// [`Event::Data`](crate::Event::Data) instead of whole.
    ///
    /// Default false: a message is buffered until complete and delivered as
    /// one [`Event::Text`](crate::Event::Text) or
    /// [`Event::Binary`](crate::Event::Binary). Streaming hands out each
    /// piece as it arrives, so a large message is never held whole; text is
    /// still validated as it arrives, and a piece may end inside a code point.
    pub fn streaming(&mut self, streaming: bool) -> &mut Self {
        self.streaming = streaming;
        self
    }

    /// Answers each ping with a pong carrying the same payload
    /// (RFC 6455 §5.5.2).
    ///
    /// Default true. Pings are reported as [`Event::Ping`](crate::Event::Ping)
    /// either way; with this off, answer with
    /// [`send_pong`](crate::Connection::send_pong).
    pub fn auto_pong(&mut self, auto_pong: bool) -> &mut Self {
        self.auto_pong = auto_pong;
        self
    }

    /// Accepts payload lengths not in their shortest encoding (a 16-bit
    /// length under 126, a 64-bit length under 65,536).
    ///
    /// Default false: RFC 6455 §5.2 says "the minimal number of bytes MUST
    /// be used", and such frames fail the connection with close code 1002
    /// ([`Violation::NonMinimalLength`](crate::Violation::NonMinimalLength)).
    /// Turn on only for a known lenient peer.
    pub fn allow_non_minimal_length(&mut self, allow: bool) -> &mut Self {
        self.allow_non_minimal_length = allow;
        self
    }

    /// How long an open connection may receive nothing before it is closed.
    ///
    /// Default 60 s. On expiry the machine reports
    /// [`Event::TimedOut`](crate::Event::TimedOut)`(Timer::Idle)` and starts
    /// the close handshake with 1001 (going away). `Duration::MAX` disables
    /// it. With the default [`ping_interval`](Self::ping_interval) a live
    /// peer's pongs keep the connection open.
    pub fn idle_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.idle_timeout = timeout;
        self
    }

    /// After this long without receiving anything, send a keep-alive ping.
    ///
    /// Default 30 s. `Duration::MAX` disables keep-alive pings.
    pub fn ping_interval(&mut self, interval: Duration) -> &mut Self {
        self.ping_interval = interval;
        self
    }

    /// How long a keep-alive ping may go unanswered (by a pong or any other
    /// bytes) before the peer is presumed gone.
    ///
    /// Default 20 s. On expiry the machine reports
    /// [`Event::TimedOut`](crate::Event::TimedOut)`(Timer::Ping)`, queues a
    /// close with 1001 and finishes without waiting for an answer.
    pub fn ping_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.ping_timeout = timeout;
        self
    }

    /// How long to wait for the peer's close frame after sending ours, and
    /// (client) for the server to close TCP after the close handshake
    /// (RFC 6455 §7.1.1).
    ///
    /// Default 5 s. On expiry the machine reports
    /// [`Event::TimedOut`](crate::Event::TimedOut)`(Timer::CloseHandshake)`
    /// and finishes.
    pub fn close_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.close_timeout = timeout;
        self
    }

    /// Where a client draws its masking keys (RFC 6455 §5.3); required for
    /// [`Side::Client`](proto_core::Side::Client), unused by a server.
    ///
    /// Default none: the crate draws no randomness of its own. Adapters plug
    /// in the operating system's generator; tests plug in fixed keys or a
    /// [`SeededMasks`](crate::SeededMasks).
    pub fn mask_source(&mut self, source: Arc<dyn MaskSource>) -> &mut Self {
        self.mask_source = Some(source);
        self
    }

    pub(crate) fn validate(&self, client: bool) -> Result<(), ConfigError> {
        let sizes = [
            ("max_frame_size", self.max_frame_size),
            ("max_message_size", self.max_message_size),
            ("max_transmit_chunk", self.max_transmit_chunk),
            ("send_fragment_size", self.send_fragment_size.unwrap_or(1)),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::ZeroLimit(name));
        }
        if self.max_send_buffer_size < 131 {
            return Err(ConfigError::SendBufferTooSmall);
        }
        if client && self.mask_source.is_none() {
            return Err(ConfigError::MissingMaskSource);
        }
        Ok(())
    }
}
