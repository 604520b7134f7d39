//! The opening handshake (RFC 6455 §4), on `proto-http` heads.
//!
//! The HTTP exchange itself (parsing the request, sending the response,
//! handing over the bytes that followed the head) belongs to
//! `proto_http::Connection`; this module only judges and builds heads.
//!
//! **Server**: [`validate_request`] checks a request head (method, version,
//! `Upgrade`, `Connection`, `Sec-WebSocket-Version`, `Sec-WebSocket-Key`,
//! `Origin` against an [`OriginPolicy`]) and returns a [`ClientOffer`]; the
//! application picks a subprotocol from [`ClientOffer::protocols`] and
//! [`ClientOffer::accept`] builds the `101` response. A refusal is a
//! [`HandshakeError`] whose [`response`](HandshakeError::response) is the
//! answer to send (400, 403, 405 or 426) before closing.
//!
//! **Client**: [`ClientHandshake`] builds the request from 16 key bytes the
//! caller drew, and [`ClientHandshake::validate_response`] checks the answer.
//!
//! Either way, start the [`Connection`](crate::Connection) afterwards and feed
//! it the bytes that followed the head (`proto_http`'s `Upgraded { trailing }`).
//!
//! ```
//! use proto_core::OriginPolicy;
//! use proto_ws::handshake::{ClientHandshake, validate_request};
//!
//! // Client: 16 random bytes from the caller's entropy source.
//! let mut client = ClientHandshake::new(*b"the sample nonce");
//! client.protocols(["chat", "superchat"]);
//! let request = client.request("server.example.com", "/chat");
//!
//! // Server: validate, choose a subprotocol, answer 101.
//! let offer = validate_request(&request, &OriginPolicy::same_host())?;
//! assert_eq!(offer.protocols(), ["chat", "superchat"]);
//! let response = offer.accept(Some("chat"))?;
//! assert_eq!(response.status(), 101);
//! assert_eq!(
//!     response.headers().get("sec-websocket-accept"),
//!     Some(&b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="[..])
//! );
//!
//! // Client: check the answer.
//! let negotiated = client.validate_response(&response)?;
//! assert_eq!(negotiated.protocol(), Some("chat"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proto_core::{ErrorKind, OriginPolicy, OriginRejection, PeerError};
use proto_http::{Headers, Request, Response, Version};

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version this crate speaks (RFC 6455 §4.1).
pub const VERSION: &str = "13";

/// The most subprotocols an offer may list; more is refused with 400.
pub const MAX_PROTOCOLS: usize = 32;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` value (RFC 6455 §1.3,
/// §4.2.2): base64 of the SHA-1 of the key followed by the GUID.
///
/// ```
/// use proto_ws::handshake::accept_key;
/// assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(GUID.as_bytes());
    STANDARD.encode(sha.digest().bytes())
}

// ---- Server ----------------------------------------------------------------

/// A valid client handshake, waiting for the application to choose a
/// subprotocol and answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOffer {
    accept: String,
    protocols: Vec<String>,
    extensions: Vec<String>,
}

impl ClientOffer {
    /// The subprotocols the client offered, in its order of preference
    /// (`Sec-WebSocket-Protocol`, RFC 6455 §4.1 item 10).
    #[must_use]
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions the client offered (`Sec-WebSocket-Extensions`), for
    /// logs. None is negotiated: this version implements no extension, so
    /// the answer names none and RSV bits stay forbidden.
    #[must_use]
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The `Sec-WebSocket-Accept` value the answer carries.
    #[must_use]
    pub fn accept_value(&self) -> &str {
        &self.accept
    }

    /// Builds the `101 Switching Protocols` answer (RFC 6455 §4.2.2 item 5),
    /// naming `protocol` if the application chose one of
    /// [`protocols`](Self::protocols).
    ///
    /// Send it, then start a [`Connection`](crate::Connection) with
    /// [`Side::Server`](proto_core::Side::Server).
    ///
    /// # Errors
    ///
    /// [`HandshakeError::UnofferedProtocol`] if `protocol` is not one the
    /// client offered (an application bug; RFC 6455 §4.2.2 forbids it).
    ///
    /// ```
    /// # use proto_ws::handshake::{ClientHandshake, validate_request};
    /// # let request = ClientHandshake::new([0; 16]).request("a.example", "/");
    /// let offer = validate_request(&request, &proto_core::OriginPolicy::any())?;
    /// let response = offer.accept(None)?;
    /// assert_eq!(response.headers().get("upgrade"), Some(&b"websocket"[..]));
    /// assert!(offer.accept(Some("unoffered")).is_err());
    /// # Ok::<(), proto_ws::handshake::HandshakeError>(())
    /// ```
    pub fn accept(&self, protocol: Option<&str>) -> Result<Response, HandshakeError> {
        if let Some(p) = protocol {
            if !self.protocols.iter().any(|o| o == p) {
                return Err(HandshakeError::UnofferedProtocol);
            }
        }
        let mut response = Response::new(101);
        let headers = response.headers_mut();
        headers
            .append("Upgrade", "websocket")
            .append("Connection", "Upgrade")
            .append("Sec-WebSocket-Accept", &self.accept);
        if let Some(p) = protocol {
            headers.append("Sec-WebSocket-Protocol", p);
        }
        Ok(response)
    }
}

/// Validates a client's opening handshake (RFC 6455 §4.2.1) and checks its
/// `Origin` against `policy` (RFC 6455 §10.2).
///
/// Call it on the request head of a route that accepts WebSockets. On
/// success, choose a subprotocol and call [`ClientOffer::accept`]; on error,
/// send [`HandshakeError::response`] and close.
///
/// # Errors
///
/// A [`HandshakeError`] naming the first failed check, with its HTTP status:
/// 405 for a method other than GET; 400 for HTTP/1.0, a missing `Host`, a
/// missing `websocket` token in `Upgrade` or `upgrade` token in `Connection`,
/// a key that is not base64 of 16 bytes, or a malformed subprotocol list; 426
/// for a `Sec-WebSocket-Version` other than exactly `13`; 403 for more than
/// one `Origin` or an origin the policy refuses.
///
/// ```
/// use proto_core::OriginPolicy;
/// use proto_http::Request;
/// use proto_ws::handshake::{HandshakeError, validate_request};
///
/// let mut request = Request::new("GET", "/chat");
/// request
///     .headers_mut()
///     .append("Host", "server.example.com")
///     .append("Upgrade", "websocket")
///     .append("Connection", "Upgrade")
///     .append("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .append("Origin", "http://evil.example")
///     .append("Sec-WebSocket-Version", "13");
/// let err = validate_request(&request, &OriginPolicy::same_host()).unwrap_err();
/// assert!(matches!(err, HandshakeError::Origin(_)));
/// assert_eq!(err.status(), 403);
/// ```
pub fn validate_request(
    request: &Request,
    policy: &OriginPolicy,
) -> Result<ClientOffer, HandshakeError> {
    if request.method() != "GET" {
        return Err(HandshakeError::NotGet);
    }
    if request.version() != Version::Http11 {
        return Err(HandshakeError::NotHttp11);
    }
    let headers = request.headers();
    if headers.count("host") != 1 {
        return Err(HandshakeError::MissingHost);
    }
    if !headers.has_token("upgrade", "websocket") {
        return Err(HandshakeError::NotUpgrade);
    }
    if !headers.has_token("connection", "upgrade") {
        return Err(HandshakeError::NotUpgrade);
    }
    let version = single(headers, "sec-websocket-version");
    if version != Some(VERSION.as_bytes()) {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key = single(headers, "sec-websocket-key").ok_or(HandshakeError::InvalidKey)?;
    match STANDARD.decode(key) {
        Ok(bytes) if bytes.len() == 16 => {}
        _ => return Err(HandshakeError::InvalidKey),
    }
    if headers.count("origin") > 1 {
        return Err(HandshakeError::MultipleOrigins);
    }
    policy
        .check(headers.get("origin"), headers.get("host"))
        .map_err(HandshakeError::Origin)?;
    let protocols = list(headers, "sec-websocket-protocol", true)?;
    let extensions = list(headers, "sec-websocket-extensions", false)?;
    Ok(ClientOffer {
        accept: accept_key(key),
        protocols,
        extensions,
    })
}

/// Why a client's opening handshake was refused.
///
/// [`status`](Self::status) is the HTTP status to answer with, and
/// [`response`](Self::response) the whole answer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The method is not GET (RFC 6455 §4.1 item 2): 405.
    NotGet,
    /// The request is not HTTP/1.1 (RFC 6455 §4.1 item 2): 400.
    NotHttp11,
    /// No `Host`, or more than one (RFC 6455 §4.1 item 4): 400.
    MissingHost,
    /// `Upgrade` lacks the `websocket` token or `Connection` the `upgrade`
    /// token (RFC 6455 §4.2.1 items 3-4): 400.
    NotUpgrade,
    /// `Sec-WebSocket-Version` is missing, repeated or not `13`
    /// (RFC 6455 §4.2.2 item 4): 426 with `Sec-WebSocket-Version: 13`.
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is missing, repeated, or not the base64 of
    /// exactly 16 bytes (RFC 6455 §4.1 item 7): 400.
    InvalidKey,
    /// More than one `Origin` field: 403.
    MultipleOrigins,
    /// The [`OriginPolicy`] refused the origin (RFC 6455 §10.2): 403.
    Origin(OriginRejection),
    /// A `Sec-WebSocket-Protocol` element is not a token, or there are
    /// more than [`MAX_PROTOCOLS`]: 400.
    InvalidProtocols,
    /// The application chose a subprotocol the client did not offer: a bug
    /// on our side, 500.
    UnofferedProtocol,
}

impl HandshakeError {
    /// The HTTP status to answer with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::NotGet => 405,
            Self::UnofferedProtocol => 500,
            other => other.kind().http_status(),
        }
    }

    /// The answer to send before closing: the status, plus
    /// `Sec-WebSocket-Version: 13` on a 426 (RFC 6455 §4.4) and `Allow: GET`
    /// on a 405. No body.
    ///
    /// ```
    /// use proto_ws::handshake::HandshakeError;
    /// let response = HandshakeError::UnsupportedVersion.response();
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers().get("sec-websocket-version"), Some(&b"13"[..]));
    /// ```
    #[must_use]
    pub fn response(&self) -> Response {
        let mut response = Response::new(self.status());
        match self {
            Self::UnsupportedVersion => {
                response
                    .headers_mut()
                    .append("Sec-WebSocket-Version", VERSION);
            }
            Self::NotGet => {
                response.headers_mut().append("Allow", "GET");
            }
            _ => {}
        }
        response
    }
}

impl PeerError for HandshakeError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::UnsupportedVersion => ErrorKind::UpgradeRequired,
            Self::MultipleOrigins | Self::Origin(_) => ErrorKind::PolicyViolation,
            _ => ErrorKind::Malformed,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotGet => f.write_str("websocket handshake must be a GET"),
            Self::NotHttp11 => f.write_str("websocket handshake must be HTTP/1.1"),
            Self::MissingHost => f.write_str("websocket handshake needs exactly one host"),
            Self::NotUpgrade => f.write_str("not a websocket upgrade request"),
            Self::UnsupportedVersion => f.write_str("unsupported websocket version"),
            Self::InvalidKey => f.write_str("invalid sec-websocket-key"),
            Self::MultipleOrigins => f.write_str("more than one origin"),
            Self::Origin(rejection) => rejection.fmt(f),
            Self::InvalidProtocols => f.write_str("invalid sec-websocket-protocol"),
            Self::UnofferedProtocol => f.write_str("chosen subprotocol was not offered"),
        }
    }
}

impl std::error::Error for HandshakeError {}

// ---- Client ----------------------------------------------------------------

/// A client's side of the opening handshake (RFC 6455 §4.1).
///
/// ```
/// use proto_ws::handshake::ClientHandshake;
/// // The 16 key bytes come from the caller's entropy source.
/// let client = ClientHandshake::new(*b"the sample nonce");
/// let request = client.request("server.example.com", "/chat");
/// assert_eq!(
///     request.headers().get("sec-websocket-key"),
///     Some(&b"dGhlIHNhbXBsZSBub25jZQ=="[..])
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHandshake {
    key: String,
    protocols: Vec<String>,
}

impl ClientHandshake {
    /// A handshake with the 16 random bytes of `Sec-WebSocket-Key`
    /// (RFC 6455 §4.1 item 7: "randomly selected"; the crate draws none).
    #[must_use]
    pub fn new(key: [u8; 16]) -> Self {
        Self {
            key: STANDARD.encode(key),
            protocols: Vec::new(),
        }
    }

    /// Offers these subprotocols, most preferred first.
    pub fn protocols<I, S>(&mut self, protocols: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The request head to send: `GET target HTTP/1.1` with `Host`,
    /// `Upgrade`, `Connection`, `Sec-WebSocket-Key`,
    /// `Sec-WebSocket-Version` and any `Sec-WebSocket-Protocol`. Add other
    /// fields (`Origin`, cookies) through `headers_mut`.
    #[must_use]
    pub fn request(&self, host: &str, target: &str) -> Request {
        let mut request = Request::new("GET", target);
        let headers = request.headers_mut();
        headers
            .append("Host", host)
            .append("Upgrade", "websocket")
            .append("Connection", "Upgrade")
            .append("Sec-WebSocket-Key", &self.key)
            .append("Sec-WebSocket-Version", VERSION);
        if !self.protocols.is_empty() {
            headers.append("Sec-WebSocket-Protocol", self.protocols.join(", "));
        }
        request
    }

    /// Checks the server's answer (RFC 6455 §4.1, the client's checks 1-6).
    ///
    /// On success start a [`Connection`](crate::Connection) with
    /// [`Side::Client`](proto_core::Side::Client) and feed it the bytes that
    /// followed the response head.
    ///
    /// # Errors
    ///
    /// A [`ResponseError`]: the client must fail the connection (close TCP
    /// without a close frame, RFC 6455 §4.1).
    ///
    /// ```
    /// use proto_http::Response;
    /// use proto_ws::handshake::{ClientHandshake, ResponseError};
    /// let client = ClientHandshake::new([0; 16]);
    /// assert_eq!(
    ///     client.validate_response(&Response::new(200)),
    ///     Err(ResponseError::Status(200))
    /// );
    /// ```
    pub fn validate_response(&self, response: &Response) -> Result<Negotiated, ResponseError> {
        if response.status() != 101 {
            return Err(ResponseError::Status(response.status()));
        }
        let headers = response.headers();
        if !headers.has_token("upgrade", "websocket") || !headers.has_token("connection", "upgrade")
        {
            return Err(ResponseError::NotUpgrade);
        }
        let expected = accept_key(self.key.as_bytes());
        if single(headers, "sec-websocket-accept") != Some(expected.as_bytes()) {
            return Err(ResponseError::InvalidAccept);
        }
        let protocol = match headers.count("sec-websocket-protocol") {
            0 => None,
            1 => {
                let value = headers
                    .get("sec-websocket-protocol")
                    .map(trim_ows)
                    .unwrap_or_default();
                match self.protocols.iter().find(|p| p.as_bytes() == value) {
                    Some(p) => Some(p.clone()),
                    None => return Err(ResponseError::UnofferedProtocol),
                }
            }
            _ => return Err(ResponseError::UnofferedProtocol),
        };
        let extensions = headers
            .get_all("sec-websocket-extensions")
            .any(|v| !trim_ows(v).is_empty());
        if extensions {
            return Err(ResponseError::UnrequestedExtension);
        }
        Ok(Negotiated { protocol })
    }
}

/// What a successful handshake agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    protocol: Option<String>,
}

impl Negotiated {
    /// The subprotocol the server chose from the client's offer, if any.
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }
}

/// Why a client refuses the server's answer (RFC 6455 §4.1): fail the
/// connection.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// The status is not 101.
    Status(u16),
    /// `Upgrade: websocket` or `Connection: upgrade` is missing.
    NotUpgrade,
    /// `Sec-WebSocket-Accept` is missing, repeated or wrong.
    InvalidAccept,
    /// The server named a subprotocol the client did not offer, or more
    /// than one.
    UnofferedProtocol,
    /// The server named an extension; the client requested none.
    UnrequestedExtension,
}

impl PeerError for ResponseError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Malformed
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(s) => write!(f, "websocket handshake answered with status {s}"),
            Self::NotUpgrade => f.write_str("websocket handshake answer is not an upgrade"),
            Self::InvalidAccept => f.write_str("invalid sec-websocket-accept"),
            Self::UnofferedProtocol => f.write_str("server chose a subprotocol not offered"),
            Self::UnrequestedExtension => f.write_str("server named an unrequested extension"),
        }
    }
}

impl std::error::Error for ResponseError {}

// ---- Helpers ---------------------------------------------------------------

/// The value of a field that must appear exactly once, OWS-trimmed.
fn single<'a>(headers: &'a Headers, name: &str) -> Option<&'a [u8]> {
    if headers.count(name) == 1 {
        headers.get(name).map(trim_ows)
    } else {
        None
    }
}

/// The elements of a comma-separated list spread over any number of fields.
/// Protocols must be tokens (at most [`MAX_PROTOCOLS`]); extension offers
/// are kept as their names, for logs.
fn list(headers: &Headers, name: &str, tokens: bool) -> Result<Vec<String>, HandshakeError> {
    let mut out = Vec::new();
    for value in headers.get_all(name) {
        for element in value.split(|&b| b == b',').map(trim_ows) {
            if element.is_empty() {
                continue;
            }
            let element = if tokens {
                element
            } else {
                // `name; param=value`: keep the name.
                trim_ows(element.split(|&b| b == b';').next().unwrap_or_default())
            };
            let valid = !element.is_empty() && element.iter().all(|&b| is_tchar(b));
            if tokens && (!valid || out.len() == MAX_PROTOCOLS) {
                return Err(HandshakeError::InvalidProtocols);
            }
            // Extension offers are only reported: malformed ones are skipped.
            if valid && out.len() < MAX_PROTOCOLS {
                out.push(String::from_utf8_lossy(element).into_owned());
            }
        }
    }
    Ok(out)
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}
