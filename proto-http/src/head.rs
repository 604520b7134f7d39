//! Message heads: [`Version`], [`Headers`], [`Request`] and [`Response`].
//!
//! A head is either parsed (its bytes are a shared view of the connection's
//! receive buffer, never copied again) or built by the caller. Building does
//! not validate: names, values, methods and targets are checked when the head
//! is sent, and a bad one is refused with a
//! [`SendError`](crate::SendError) before a byte is queued.

use bytes::Bytes;
use std::fmt;
use std::ops::Range;

/// The HTTP version of a message (RFC 9112 §2.3).
///
/// Only HTTP/1.0 and HTTP/1.1 exist on this wire; any other version in a
/// request line is refused with 505.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// `HTTP/1.0`: no keep-alive unless asked for, no chunked coding.
    Http10,
    /// `HTTP/1.1`.
    Http11,
}

impl Version {
    /// The version as it appears on the wire.
    ///
    /// ```
    /// assert_eq!(proto_http::Version::Http11.as_str(), "HTTP/1.1");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http10 => "HTTP/1.0",
            Self::Http11 => "HTTP/1.1",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a head's bytes live: a view of a received buffer (or of a
/// constant), or our own.
#[derive(Clone)]
enum Storage {
    Shared(Bytes),
    Owned(Vec<u8>),
}

impl Storage {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Shared(b) => b,
            Self::Owned(v) => v,
        }
    }

    /// Makes the storage growable, copying a shared view once.
    fn owned(&mut self) -> &mut Vec<u8> {
        if let Self::Shared(b) = self {
            *self = Self::Owned(b.to_vec());
        }
        match self {
            Self::Owned(v) => v,
            Self::Shared(_) => unreachable!("converted above"),
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let v = self.owned();
        let start = v.len();
        v.extend_from_slice(bytes);
        start..v.len()
    }
}

impl Default for Storage {
    fn default() -> Self {
        Self::Owned(Vec::new())
    }
}

/// One field line, as ranges into its head's storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: Range<usize>,
    pub(crate) value: Range<usize>,
}

/// The header (or trailer) fields of a message, in order, with their raw
/// bytes kept.
///
/// Lookups compare names case-insensitively (RFC 9110 §5.1); values are
/// returned exactly as received, without the optional whitespace around them.
/// Repeated fields are kept as separate entries in their original order.
///
/// ```
/// use proto_http::Headers;
///
/// let mut headers = Headers::new();
/// headers.append("Connection", "keep-alive, Upgrade");
/// headers.append("upgrade", "websocket");
/// assert_eq!(headers.get("UPGRADE"), Some(&b"websocket"[..]));
/// assert!(headers.has_token("connection", "upgrade"));
/// assert_eq!(headers.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Headers {
    storage: Storage,
    fields: Vec<Field>,
}

impl Headers {
    /// No fields.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// No fields, with room for `fields` field lines whose names and values
    /// total `bytes` bytes, so that appending that much allocates nothing
    /// more (at most two allocations, made here).
    ///
    /// Size both exactly to build a head in one go; either may be zero.
    ///
    /// ```
    /// use proto_http::Headers;
    ///
    /// let (name, value) = ("Content-Type", "text/plain");
    /// let mut h = Headers::with_capacity(1, name.len() + value.len());
    /// h.append(name, value);
    /// assert_eq!(h.get("content-type"), Some(&b"text/plain"[..]));
    /// assert_eq!(h, *Headers::new().append(name, value));
    /// ```
    #[must_use]
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Self {
            storage: Storage::Owned(Vec::with_capacity(bytes)),
            fields: Vec::with_capacity(fields),
        }
    }

    /// Makes room for `fields` more field lines whose names and values total
    /// `bytes` bytes, so that appending them allocates nothing more. (The
    /// fields of a parsed head are a view of the received bytes: they are
    /// copied into storage of their own first, as any change to them does.)
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.reserve(1, 16);
    /// h.append("Content-Length", "13");
    /// assert_eq!(h.len(), 1);
    /// ```
    pub fn reserve(&mut self, fields: usize, bytes: usize) {
        self.storage.owned().reserve(bytes);
        self.fields.reserve(fields);
    }

    /// Removes every field, keeping the room they took (unless they were a
    /// view of received bytes), so the next head built here allocates
    /// nothing.
    ///
    /// ```
    /// let mut h = proto_http::Headers::with_capacity(1, 16);
    /// h.append("Content-Length", "13");
    /// h.clear();
    /// assert!(h.is_empty());
    /// h.append("Content-Length", "2");
    /// assert_eq!(h.get("content-length"), Some(&b"2"[..]));
    /// ```
    pub fn clear(&mut self) {
        match &mut self.storage {
            Storage::Owned(v) => v.clear(),
            Storage::Shared(_) => self.storage = Storage::default(),
        }
        self.fields.clear();
    }

    /// Fields parsed out of `raw`, at the given ranges.
    pub(crate) fn from_fields(raw: Bytes, fields: Vec<Field>) -> Self {
        Self {
            storage: Storage::Shared(raw),
            fields,
        }
    }

    /// Takes the field index (leaving no fields), to be reused for
    /// another head.
    pub(crate) fn take_fields(&mut self) -> Vec<Field> {
        std::mem::take(&mut self.fields)
    }

    /// Where the field index lives, and its capacity.
    #[cfg(test)]
    pub(crate) fn fields_allocation(&self) -> (*const Field, usize) {
        (self.fields.as_ptr(), self.fields.capacity())
    }

    /// The value of the field at `index` (in order of arrival).
    pub(crate) fn value_at(&self, index: usize) -> &[u8] {
        &self.storage.as_slice()[self.fields[index].value.clone()]
    }

    /// Every field's name, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let storage = self.storage.as_slice();
        self.fields.iter().map(move |f| &storage[f.name.clone()])
    }

    /// Adds a field after all the others, keeping any with the same name.
    ///
    /// Nothing is validated here; an invalid name or value (CR, LF, NUL, a
    /// non-token name) is refused when the message is sent.
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("Set-Cookie", "a=1");
    /// h.append("Set-Cookie", b"b=2".as_slice());
    /// assert_eq!(h.count("set-cookie"), 2);
    /// ```
    pub fn append(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let name = self.storage.push(name.as_ref());
        let value = self.storage.push(value.as_ref());
        self.fields.push(Field { name, value });
        self
    }

    /// Replaces every field named `name` by a single one with `value`, placed
    /// where the first one was (or last, if there was none).
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("a", "1").append("b", "2").append("A", "3");
    /// h.insert("a", "4");
    /// assert_eq!(h.iter().collect::<Vec<_>>(), [(&b"a"[..], &b"4"[..]), (&b"b"[..], &b"2"[..])]);
    /// ```
    pub fn insert(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let name = name.as_ref();
        let first = self.position(name);
        match first {
            None => {
                self.append(name, value);
            }
            Some(i) => {
                let n = self.storage.push(name);
                let v = self.storage.push(value.as_ref());
                self.fields[i] = Field { name: n, value: v };
                let storage = self.storage.as_slice();
                let mut index = 0;
                self.fields.retain(|f| {
                    let keep = index <= i || !storage[f.name.clone()].eq_ignore_ascii_case(name);
                    index += 1;
                    keep
                });
            }
        }
        self
    }

    /// Removes every field named `name` and returns how many there were.
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("x", "1").append("y", "2").append("X", "3");
    /// assert_eq!(h.remove("x"), 2);
    /// assert_eq!(h.len(), 1);
    /// ```
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.fields.len();
        let storage = self.storage.as_slice();
        self.fields
            .retain(|f| !storage[f.name.clone()].eq_ignore_ascii_case(name.as_bytes()));
        before - self.fields.len()
    }

    fn position(&self, name: &[u8]) -> Option<usize> {
        let storage = self.storage.as_slice();
        self.fields
            .iter()
            .position(|f| storage[f.name.clone()].eq_ignore_ascii_case(name))
    }

    /// The value of the first field named `name` (case-insensitive).
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("Host", "example.com");
    /// assert_eq!(h.get("host"), Some(&b"example.com"[..]));
    /// assert_eq!(h.get("origin"), None);
    /// ```
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.get_all(name).next()
    }

    /// The values of every field named `name`, in order.
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("Via", "a").append("X", "b").append("via", "c");
    /// assert_eq!(h.get_all("VIA").collect::<Vec<_>>(), [&b"a"[..], &b"c"[..]]);
    /// ```
    pub fn get_all(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// How many fields are named `name`.
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("Content-Length", "1").append("content-length", "1");
    /// assert_eq!(h.count("content-length"), 2);
    /// ```
    #[must_use]
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// True when there is at least one field named `name`.
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("Expect", "100-continue");
    /// assert!(h.contains("expect"));
    /// ```
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// True when any comma-separated element of any field named `name`
    /// equals `token`, ignoring ASCII case and the optional whitespace around
    /// elements; empty elements are ignored (RFC 9110 §5.6.1).
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("Connection", " , Keep-Alive ,UPGRADE");
    /// assert!(h.has_token("connection", "upgrade"));
    /// assert!(h.has_token("Connection", "keep-alive"));
    /// assert!(!h.has_token("connection", "close"));
    /// ```
    #[must_use]
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .any(|value| list_elements(value).any(|e| e.eq_ignore_ascii_case(token.as_bytes())))
    }

    /// Every field as `(name, value)`, in order.
    ///
    /// ```
    /// let mut h = proto_http::Headers::new();
    /// h.append("A", "1").append("b", "2");
    /// let names: Vec<&[u8]> = h.iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, [&b"A"[..], &b"b"[..]]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let storage = self.storage.as_slice();
        self.fields
            .iter()
            .map(move |f| (&storage[f.name.clone()], &storage[f.value.clone()]))
    }

    /// The number of fields.
    ///
    /// ```
    /// assert_eq!(proto_http::Headers::new().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when there are no fields.
    ///
    /// ```
    /// assert!(proto_http::Headers::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

/// The non-empty elements of a comma-separated list, OWS trimmed
/// (RFC 9110 §5.6.1.2).
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// `value` without leading and trailing SP / HTAB.
pub(crate) fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

/// A text slice of storage that was checked to be ASCII when it was stored.
fn text<'a>(storage: &'a Storage, range: &Range<usize>) -> &'a str {
    // Parsed heads are validated ASCII and built ones come from `&str`, so
    // this never fails; an empty string is the safe answer if it ever did.
    std::str::from_utf8(&storage.as_slice()[range.clone()]).unwrap_or("")
}

/// A request head: method, target, version and header fields
/// (RFC 9112 §3).
///
/// Received as [`Event::Request`](crate::Event::Request) by a server, built
/// and passed to [`Connection::send_request`](crate::Connection::send_request)
/// by a client.
///
/// ```
/// use proto_http::{Request, Version};
///
/// let mut req = Request::new("GET", "/chat");
/// req.headers_mut().append("Host", "example.com");
/// assert_eq!(req.method(), "GET");
/// assert_eq!(req.target(), "/chat");
/// assert_eq!(req.version(), Version::Http11);
/// assert_eq!(req.headers().get("host"), Some(&b"example.com"[..]));
/// ```
#[derive(Clone)]
pub struct Request {
    line: Storage,
    method: Range<usize>,
    target: Range<usize>,
    version: Version,
    headers: Headers,
}

impl Request {
    /// An HTTP/1.1 request head with no fields.
    ///
    /// The method and target are checked when the request is sent: the
    /// method must be a token and the target must contain no whitespace or
    /// control characters.
    #[must_use]
    pub fn new(method: &str, target: &str) -> Self {
        let mut line = Storage::Owned(Vec::with_capacity(method.len() + target.len()));
        let method = line.push(method.as_bytes());
        let target = line.push(target.as_bytes());
        Self {
            line,
            method,
            target,
            version: Version::Http11,
            headers: Headers::new(),
        }
    }

    /// A parsed request over the received bytes `raw`.
    pub(crate) fn from_parts(
        raw: Bytes,
        method: Range<usize>,
        target: Range<usize>,
        version: Version,
        headers: Headers,
    ) -> Self {
        Self {
            line: Storage::Shared(raw),
            method,
            target,
            version,
            headers,
        }
    }

    /// The method, e.g. `GET` (case-sensitive, RFC 9110 §9.1).
    #[must_use]
    pub fn method(&self) -> &str {
        text(&self.line, &self.method)
    }

    /// The method as bytes (no UTF-8 check: parsed methods are tokens).
    pub(crate) fn method_bytes(&self) -> &[u8] {
        &self.line.as_slice()[self.method.clone()]
    }

    /// The request target as sent: origin-form `/path?query`, absolute-form,
    /// authority-form (CONNECT) or `*` (OPTIONS).
    #[must_use]
    pub fn target(&self) -> &str {
        text(&self.line, &self.target)
    }

    /// The HTTP version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// Sets the HTTP version (builders only; HTTP/1.0 requests get no
    /// chunked coding and no keep-alive unless asked for).
    ///
    /// ```
    /// let mut req = proto_http::Request::new("GET", "/");
    /// req.set_version(proto_http::Version::Http10);
    /// assert_eq!(req.version(), proto_http::Version::Http10);
    /// ```
    pub fn set_version(&mut self, version: Version) -> &mut Self {
        self.version = version;
        self
    }

    /// The header fields.
    #[must_use]
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The header fields, to add or change some.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method())
            .field("target", &self.target())
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish()
    }
}

impl PartialEq for Request {
    fn eq(&self, other: &Self) -> bool {
        self.method() == other.method()
            && self.target() == other.target()
            && self.version == other.version
            && self.headers == other.headers
    }
}

impl Eq for Request {}

/// A response head: status, reason phrase, version and header fields
/// (RFC 9112 §4).
///
/// Received as [`Event::Response`](crate::Event::Response) (or
/// [`Event::Informational`](crate::Event::Informational) for 1xx) by a
/// client, built and passed to
/// [`Connection::send_response`](crate::Connection::send_response) by a server.
///
/// ```
/// use proto_http::Response;
///
/// let mut res = Response::new(404);
/// res.headers_mut().append("Content-Length", "0");
/// assert_eq!(res.status(), 404);
/// assert_eq!(res.reason(), "Not Found");
/// ```
#[derive(Clone)]
pub struct Response {
    line: Storage,
    reason: Range<usize>,
    status: u16,
    version: Version,
    headers: Headers,
}

impl Response {
    /// An HTTP/1.1 response head with the canonical reason phrase for
    /// `status` (empty for unregistered codes) and no fields.
    ///
    /// The status is checked when the response is sent: it must be three
    /// digits (100..=999).
    #[must_use]
    pub fn new(status: u16) -> Self {
        // A constant view: building a response allocates nothing for it.
        let reason = canonical_reason(status).as_bytes();
        Self {
            line: Storage::Shared(Bytes::from_static(reason)),
            reason: 0..reason.len(),
            status,
            version: Version::Http11,
            headers: Headers::new(),
        }
    }

    /// A parsed response over the received bytes `raw`.
    pub(crate) fn from_parts(
        raw: Bytes,
        status: u16,
        reason: Range<usize>,
        version: Version,
        headers: Headers,
    ) -> Self {
        Self {
            line: Storage::Shared(raw),
            reason,
            status,
            version,
            headers,
        }
    }

    /// The status code.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase (informational only; may be empty). A received
    /// phrase that is not valid UTF-8 reads as empty.
    #[must_use]
    pub fn reason(&self) -> &str {
        text(&self.line, &self.reason)
    }

    /// Replaces the reason phrase (checked when sent: no CR, LF or other
    /// control characters except HTAB).
    ///
    /// ```
    /// let mut res = proto_http::Response::new(200);
    /// res.set_reason("Fine");
    /// assert_eq!(res.reason(), "Fine");
    /// ```
    pub fn set_reason(&mut self, reason: &str) -> &mut Self {
        self.line = Storage::default();
        self.reason = self.line.push(reason.as_bytes());
        self
    }

    /// The HTTP version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// Sets the HTTP version written in the status line (a server normally
    /// answers `HTTP/1.1` even to HTTP/1.0 clients, RFC 9110 §6.2).
    ///
    /// ```
    /// let mut res = proto_http::Response::new(200);
    /// res.set_version(proto_http::Version::Http10);
    /// assert_eq!(res.version(), proto_http::Version::Http10);
    /// ```
    pub fn set_version(&mut self, version: Version) -> &mut Self {
        self.version = version;
        self
    }

    /// The header fields.
    #[must_use]
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The header fields, to add or change some.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The reason phrase as raw bytes.
    pub(crate) fn reason_bytes(&self) -> &[u8] {
        &self.line.as_slice()[self.reason.clone()]
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &String::from_utf8_lossy(self.reason_bytes()))
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish()
    }
}

impl PartialEq for Response {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.reason_bytes() == other.reason_bytes()
            && self.version == other.version
            && self.headers == other.headers
    }
}

impl Eq for Response {}

/// The reason phrase registered for `status` (RFC 9110 §15), or `""`.
///
/// ```
/// assert_eq!(proto_http::canonical_reason(101), "Switching Protocols");
/// assert_eq!(proto_http::canonical_reason(599), "");
/// ```
#[must_use]
pub fn canonical_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_token_ignores_empty_elements_and_ows() {
        let mut h = Headers::new();
        h.append("TE", ",\t, chunked ,");
        assert!(h.has_token("te", "chunked"));
        assert!(!h.has_token("te", ""));
        assert!(!h.has_token("te", "chunk"));
    }

    #[test]
    fn shared_storage_is_copied_on_append() {
        let raw = Bytes::from_static(b"Host: a");
        let field = Field {
            name: 0..4,
            value: 6..7,
        };
        let mut h = Headers::from_fields(raw, vec![field]);
        h.append("X", "y");
        assert_eq!(h.get("host"), Some(&b"a"[..]));
        assert_eq!(h.get("x"), Some(&b"y"[..]));
    }

    #[test]
    fn with_capacity_holds_what_was_asked_without_growing() {
        let mut h = Headers::with_capacity(2, 10);
        h.append("ab", "cde").append("f", "ghij");
        assert_eq!(h.fields.capacity(), 2);
        assert!(matches!(&h.storage, Storage::Owned(v) if v.capacity() == 10 && v.len() == 10));
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [(&b"ab"[..], &b"cde"[..]), (&b"f"[..], &b"ghij"[..])]
        );
        let empty = Headers::with_capacity(0, 0);
        assert!(empty.is_empty());
        assert_eq!(empty, Headers::new());
    }

    #[test]
    fn trim_ows_handles_all_whitespace() {
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b" a b\t"), b"a b");
    }
}
