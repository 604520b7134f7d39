//! Limits, deadlines and leniency options of a [`Connection`](crate::Connection).
//!
//! Every limit is finite by default and checked before memory is reserved.
//! Every leniency option is named `allow_*` and is off, so the defaults are
//! strict RFC 9112.

use std::fmt;
use std::time::Duration;

/// Default cap on a head in bytes (the reference server's `--max-head-bytes`).
pub const DEFAULT_MAX_HEAD_SIZE: usize = 16 * 1024;
/// Default cap on the number of header field lines (`--max-headers`).
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Default cap on the request line in bytes.
pub const DEFAULT_MAX_REQUEST_LINE_SIZE: usize = 8 * 1024;
/// Default cap on a message body in bytes (16 MiB).
pub const DEFAULT_MAX_BODY_SIZE: u64 = 16 * 1024 * 1024;
/// Default cap on the chunk extensions of one chunk-size line in bytes.
pub const DEFAULT_MAX_CHUNK_EXTENSION_SIZE: usize = 1024;
/// Default cap on a trailer section in bytes.
pub const DEFAULT_MAX_TRAILER_SIZE: usize = 4 * 1024;
/// Default cap on buffered received bytes (64 KiB).
pub const DEFAULT_MAX_BUFFER_SIZE: usize = 64 * 1024;
/// Default cap on bytes handed out by one `poll_transmit` (64 KiB).
pub const DEFAULT_MAX_TRANSMIT_CHUNK: usize = 64 * 1024;
/// Default request-head deadline (`--header-timeout-ms`).
pub const DEFAULT_REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Default keep-alive idle timeout (`--idle-timeout-ms`).
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default longest silence while a body is being received.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// Default deadline for a client waiting for a response head.
pub const DEFAULT_RESPONSE_HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// The smallest accepted `max_head_size`: room for a minimal request.
const MIN_HEAD_SIZE: usize = 64;

/// Limits, deadlines and leniency options of one connection.
///
/// Build it once, adjust with the setters, and pass it to
/// [`Connection::new`](crate::Connection::new), which validates it.
///
/// ```
/// use proto_http::Config;
/// use std::time::Duration;
///
/// let mut config = Config::default();
/// config
///     .max_head_size(8 * 1024)
///     .max_headers(50)
///     .request_head_timeout(Duration::from_secs(5));
/// # let _ = proto_http::Connection::new(proto_core::Side::Server, config).unwrap();
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) max_head_size: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_request_line_size: usize,
    pub(crate) max_body_size: Option<u64>,
    pub(crate) max_chunk_extension_size: usize,
    pub(crate) max_trailer_size: usize,
    pub(crate) max_buffer_size: usize,
    pub(crate) max_transmit_chunk: usize,
    pub(crate) request_head_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) response_head_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) allow_lf_line_endings: bool,
}

impl Default for Config {
    /// The reference server's limits: 16 KiB heads, 100 fields, 10 s to
    /// send a head, 60 s keep-alive idle; strict parsing.
    fn default() -> Self {
        Self {
            max_head_size: DEFAULT_MAX_HEAD_SIZE,
            max_headers: DEFAULT_MAX_HEADERS,
            max_request_line_size: DEFAULT_MAX_REQUEST_LINE_SIZE,
            max_body_size: Some(DEFAULT_MAX_BODY_SIZE),
            max_chunk_extension_size: DEFAULT_MAX_CHUNK_EXTENSION_SIZE,
            max_trailer_size: DEFAULT_MAX_TRAILER_SIZE,
            max_buffer_size: DEFAULT_MAX_BUFFER_SIZE,
            max_transmit_chunk: DEFAULT_MAX_TRANSMIT_CHUNK,
            request_head_timeout: DEFAULT_REQUEST_HEAD_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            response_head_timeout: DEFAULT_RESPONSE_HEAD_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            allow_lf_line_endings: false,
        }
    }
}

impl Config {
    /// Caps a received head in bytes: the start line, every field line and
    /// the empty line that ends the head, line ends included (an ignored
    /// empty line before a request line is not counted).
    ///
    /// Default 16384 (16 KiB), the reference server's `--max-head-bytes`.
    /// The head is buffered whole before it is parsed, so this bounds the
    /// memory a slow or hostile peer can pin per connection. A head of
    /// exactly this size is accepted; one byte more fails with
    /// [`Error::HeadTooLarge`](crate::Error::HeadTooLarge) and the peer gets
    /// `431 Request Header Fields Too Large` (RFC 6585 §5) and a close.
    /// At least 64.
    pub fn max_head_size(&mut self, bytes: usize) -> &mut Self {
        self.max_head_size = bytes;
        self
    }

    /// Caps the number of header field lines in a head (and of trailer
    /// field lines in a trailer section).
    ///
    /// Default 100, the reference server's `--max-headers`. Each field costs
    /// a few words of index; more than this fails with
    /// [`Error::TooManyHeaders`](crate::Error::TooManyHeaders) and the peer
    /// gets `431` and a close.
    pub fn max_headers(&mut self, count: usize) -> &mut Self {
        self.max_headers = count;
        self
    }

    /// Caps the request line in bytes (method, target and version, without
    /// the CRLF) for a server.
    ///
    /// Default 8192 (8 KiB). Longer request lines fail with
    /// [`Error::UriTooLong`](crate::Error::UriTooLong) and the peer gets
    /// `414 URI Too Long` (RFC 9112 §3) and a close. The whole head is still
    /// bounded by [`max_head_size`](Config::max_head_size).
    pub fn max_request_line_size(&mut self, bytes: usize) -> &mut Self {
        self.max_request_line_size = bytes;
        self
    }

    /// Caps a received message body in bytes, or `None` for no cap.
    ///
    /// Default 16 MiB. Bodies are streamed as
    /// [`Event::Data`](crate::Event::Data) and never buffered whole, so this
    /// protects the application, not this machine. A `Content-Length` above
    /// the cap fails at the head, a chunked body as soon as a chunk size
    /// would cross it: [`Error::BodyTooLarge`](crate::Error::BodyTooLarge),
    /// and a server's peer gets `413 Content Too Large` and a close. A body
    /// of exactly this size is accepted.
    pub fn max_body_size(&mut self, bytes: Option<u64>) -> &mut Self {
        self.max_body_size = bytes;
        self
    }

    /// Caps the chunk extensions of one chunk-size line in bytes (everything
    /// between the size and the CRLF; RFC 9112 §7.1.1).
    ///
    /// Default 1024. Extensions are checked and discarded, so they cost CPU,
    /// not memory; more fails with
    /// [`Violation::ChunkExtensionTooLong`](crate::Violation::ChunkExtensionTooLong)
    /// and the peer gets `400` and a close.
    pub fn max_chunk_extension_size(&mut self, bytes: usize) -> &mut Self {
        self.max_chunk_extension_size = bytes;
        self
    }

    /// Caps the trailer section of a chunked body in bytes, field lines and
    /// the final empty line included (RFC 9112 §7.1.2).
    ///
    /// Default 4096. The section is buffered whole before it is parsed; more
    /// fails with [`Violation::TrailersTooLarge`](crate::Violation::TrailersTooLarge)
    /// and the peer gets `400` and a close.
    pub fn max_trailer_size(&mut self, bytes: usize) -> &mut Self {
        self.max_trailer_size = bytes;
        self
    }

    /// Caps the received bytes the connection holds: unparsed input plus
    /// body data in events not yet polled.
    ///
    /// Default 65536 (64 KiB); must be at least `max_head_size + 2` and
    /// `max_trailer_size`, so every limit above can be checked exactly.
    /// Each queued event also counts a fixed cost (about a hundred bytes),
    /// so a flood of tiny chunks or interim responses cannot grow the event
    /// queue past this cap either. When full,
    /// [`Connection::handle_input`](crate::Connection::handle_input)
    /// consumes fewer bytes than offered and parsing waits: poll events,
    /// then offer the rest again. This is backpressure, never an error.
    pub fn max_buffer_size(&mut self, bytes: usize) -> &mut Self {
        self.max_buffer_size = bytes;
        self
    }

    /// Caps the bytes one [`Connection::poll_transmit`](crate::Connection::poll_transmit)
    /// call appends to the caller's buffer.
    ///
    /// Default 65536 (64 KiB); at least 1. Smaller values bound the
    /// driver's write buffer at the cost of more calls.
    pub fn max_transmit_chunk(&mut self, bytes: usize) -> &mut Self {
        self.max_transmit_chunk = bytes;
        self
    }

    /// Sets the request-head deadline of a server: from the first byte of a
    /// request until its head is complete.
    ///
    /// Default 10 s (`--header-timeout-ms`), against Slowloris. On expiry the
    /// peer gets `408 Request Timeout` and a close, and
    /// [`Event::TimedOut`](crate::Event::TimedOut)`(Timer::RequestHead)` is
    /// reported. `Duration::MAX` disables it.
    pub fn request_head_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.request_head_timeout = timeout;
        self
    }

    /// Sets the keep-alive idle timeout of a server: how long a connection
    /// may wait for the first byte of its next request (a new connection
    /// included).
    ///
    /// Default 60 s (`--idle-timeout-ms`). On expiry the connection closes
    /// silently (no 408, which the client could take as the answer to the
    /// request it may be sending) and
    /// [`Event::TimedOut`](crate::Event::TimedOut)`(Timer::KeepAlive)` is
    /// reported. `Duration::MAX` disables it.
    pub fn keep_alive_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.keep_alive_timeout = timeout;
        self
    }

    /// Sets how long a client waits, once a request head is sent, for its
    /// final response head to be complete.
    ///
    /// Default 30 s. On expiry the connection closes and
    /// [`Event::TimedOut`](crate::Event::TimedOut)`(Timer::Handshake)` is
    /// reported. `Duration::MAX` disables it.
    pub fn response_head_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.response_head_timeout = timeout;
        self
    }

    /// Sets the longest silence allowed while a message body is being
    /// received (slow-body attacks such as R-U-Dead-Yet): restarted by every
    /// read that brings bytes.
    ///
    /// Default 60 s, the keep-alive idle default. On expiry a server that has
    /// not started its response answers `408 Request Timeout`, the
    /// connection closes, and
    /// [`Event::TimedOut`](crate::Event::TimedOut)`(Timer::Idle)` is
    /// reported. `Duration::MAX` disables it.
    pub fn body_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.body_timeout = timeout;
        self
    }

    /// Accepts a bare LF as a line end in heads and trailer sections, for old
    /// clients (RFC 9112 §2.2 allows a recipient to).
    ///
    /// Default `false`: a bare LF fails with
    /// [`Violation::BareLf`](crate::Violation::BareLf) and `400`. Chunk-size
    /// lines and the CRLF after chunk data always require CRLF, and a bare CR
    /// is always refused.
    pub fn allow_lf_line_endings(&mut self, allow: bool) -> &mut Self {
        self.allow_lf_line_endings = allow;
        self
    }

    /// Checks that the limits are consistent.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_head_size < MIN_HEAD_SIZE {
            return Err(ConfigError::HeadSizeTooSmall);
        }
        if self.max_buffer_size < self.max_head_size.saturating_add(2)
            || self.max_buffer_size < self.max_trailer_size
        {
            return Err(ConfigError::BufferTooSmall);
        }
        if self.max_transmit_chunk == 0 || self.max_request_line_size == 0 {
            return Err(ConfigError::Zero);
        }
        Ok(())
    }
}

/// A [`Config`] that [`Connection::new`](crate::Connection::new) refuses.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// `max_head_size` is below 64 bytes.
    HeadSizeTooSmall,
    /// `max_buffer_size` cannot hold a head of `max_head_size` (plus an
    /// ignored empty line) or a trailer section of `max_trailer_size`.
    BufferTooSmall,
    /// `max_transmit_chunk` or `max_request_line_size` is zero.
    Zero,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HeadSizeTooSmall => "max_head_size is below 64 bytes",
            Self::BufferTooSmall => {
                "max_buffer_size is smaller than max_head_size + 2 or max_trailer_size"
            }
            Self::Zero => "max_transmit_chunk and max_request_line_size must not be zero",
        })
    }
}

impl std::error::Error for ConfigError {}
