//! The `Origin` check that stops cross-site WebSocket hijacking.
//!
//! A browser attaches the page's origin to every WebSocket handshake, and
//! cookies ride along whatever page opened the socket. A server that does not
//! check `Origin` lets any web page act as its logged-in users. The
//! [`OriginPolicy`] compares the header exactly, after RFC 6454 §6.2
//! normalisation, against an allowlist or against the request's own `Host`.
//! There is no substring, prefix or suffix matching anywhere: a malformed
//! origin is refused, never guessed at.

use std::fmt;
use std::net::Ipv6Addr;

/// The longest `Origin` value looked at; longer ones are refused as
/// malformed. A DNS name is at most 253 bytes, so no real origin comes close.
pub const MAX_ORIGIN_LEN: usize = 1024;

/// A normalised serialized origin: lower-case scheme and host, and the port
/// only when it is not the scheme's default (RFC 6454 §6.2).
///
/// ```
/// use proto_core::Origin;
/// let origin = Origin::parse(b"HTTPS://App.Example.com:443")?;
/// assert_eq!(origin.to_string(), "https://app.example.com");
/// # Ok::<(), proto_core::OriginError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// Parses one serialized origin, `scheme "://" host [ ":" port ]`.
    ///
    /// Surrounding spaces and tabs (HTTP's optional whitespace) are ignored.
    /// Hosts must be ASCII: browsers send internationalised names in their
    /// punycode (`xn--`) form. A trailing dot is kept, since
    /// `example.com.` is a different origin from `example.com` to a browser.
    ///
    /// # Errors
    ///
    /// [`OriginError`] for anything else: userinfo, a path, a query, an
    /// empty or out-of-range port, non-ASCII or otherwise invalid host
    /// characters, inner whitespace, or a value over [`MAX_ORIGIN_LEN`].
    pub fn parse(value: &[u8]) -> Result<Self, OriginError> {
        let value = trim_ows(value);
        if value.len() > MAX_ORIGIN_LEN {
            return Err(OriginError::TooLong);
        }
        let separator = find(value, b"://").ok_or(OriginError::Malformed)?;
        let (scheme, authority) = (&value[..separator], &value[separator + 3..]);
        let scheme = parse_scheme(scheme)?;
        let authority = Authority::parse(authority)?;
        let default_port = default_port(&scheme);
        let port = authority.port.filter(|p| Some(*p) != default_port);
        Ok(Self {
            scheme,
            host: authority.host,
            port,
        })
    }

    /// The lower-case scheme, such as `https`.
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The lower-case host; an IPv6 literal keeps its brackets.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default; `None` only for a scheme
    /// with no known default and no explicit port.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port.or_else(|| default_port(&self.scheme))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// Why a value is not a serialized origin.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginError {
    /// Not of the form `scheme "://" host [ ":" port ]` with valid parts.
    Malformed,
    /// The host has a non-ASCII byte (browsers send punycode).
    NonAsciiHost,
    /// The port is empty, not decimal, or above 65535.
    InvalidPort,
    /// Longer than [`MAX_ORIGIN_LEN`].
    TooLong,
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed origin",
            Self::NonAsciiHost => "non-ascii host in origin",
            Self::InvalidPort => "invalid port in origin",
            Self::TooLong => "origin too long",
        })
    }
}

impl std::error::Error for OriginError {}

/// Why an [`OriginPolicy`] refused a handshake; answered with 403.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginRejection {
    /// No `Origin` header, and the policy requires one.
    Missing,
    /// `Origin: null` (sandboxed frames, `file:` pages), refused by default.
    Null,
    /// The value is not a serialized origin.
    Malformed(OriginError),
    /// A well-formed origin that is not on the allowlist.
    NotAllowed(Origin),
    /// In same-host mode, an origin whose host and port differ from the
    /// request's `Host`.
    HostMismatch(Origin),
    /// In same-host mode, the request has no valid `Host` to compare with.
    MissingHost,
}

impl fmt::Display for OriginRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("origin header required"),
            Self::Null => f.write_str("null origin refused"),
            Self::Malformed(e) => e.fmt(f),
            Self::NotAllowed(o) => write!(f, "origin {o} not allowed"),
            Self::HostMismatch(o) => write!(f, "origin {o} does not match host"),
            Self::MissingHost => f.write_str("no valid host to compare the origin with"),
        }
    }
}

impl std::error::Error for OriginRejection {}

impl crate::PeerError for OriginRejection {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::PolicyViolation
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    SameHost,
    AllowList(Vec<Origin>),
    Any,
}

/// Which `Origin` values may open a WebSocket (or make any request the
/// application chooses to guard).
///
/// The default is same-host mode: a browser's `Origin` must name the host and
/// port of the request's `Host` header, over `http` or `https`. A request
/// without `Origin` (non-browser clients send none) is allowed, and
/// `Origin: null` is refused; both are configurable.
///
/// ```
/// use proto_core::{OriginPolicy, OriginRejection};
///
/// let policy = OriginPolicy::allow_list(["https://app.example.com"])?;
/// assert!(policy.check(Some(b"https://APP.example.com:443"), None).is_ok());
/// assert!(matches!(
///     policy.check(Some(b"https://app.example.com.evil.com"), None),
///     Err(OriginRejection::NotAllowed(_))
/// ));
///
/// let same_host = OriginPolicy::same_host();
/// assert!(same_host.check(Some(b"http://127.0.0.1:8080"), Some(b"127.0.0.1:8080")).is_ok());
/// assert!(same_host.check(Some(b"http://evil.com"), Some(b"127.0.0.1:8080")).is_err());
/// # Ok::<(), proto_core::OriginError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    mode: Mode,
    reject_missing: bool,
    allow_null: bool,
}

impl Default for OriginPolicy {
    fn default() -> Self {
        Self::same_host()
    }
}

impl OriginPolicy {
    /// Same-host mode: the origin's host and port must equal the request's
    /// `Host` (a `Host` without a port means the origin scheme's default).
    #[must_use]
    pub fn same_host() -> Self {
        Self {
            mode: Mode::SameHost,
            reject_missing: false,
            allow_null: false,
        }
    }

    /// Only these serialized origins, compared exactly after normalisation.
    ///
    /// # Errors
    ///
    /// The first entry that is not a serialized origin. `null` cannot be
    /// listed; use [`allow_null`](Self::allow_null).
    pub fn allow_list<I, S>(origins: I) -> Result<Self, OriginError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for origin in origins {
            let origin = Origin::parse(origin.as_ref().as_bytes())?;
            if !list.contains(&origin) {
                list.push(origin);
            }
        }
        Ok(Self {
            mode: Mode::AllowList(list),
            ..Self::same_host()
        })
    }

    /// Every origin, checked only for being well formed.
    ///
    /// Only for services that authenticate every WebSocket message themselves
    /// and never rely on cookies: any web page can connect.
    #[must_use]
    pub fn any() -> Self {
        Self {
            mode: Mode::Any,
            ..Self::same_host()
        }
    }

    /// Refuses requests that carry no `Origin` at all. Default: false, since
    /// non-browser clients send none and browsers always send one.
    pub fn reject_missing(&mut self, reject: bool) -> &mut Self {
        self.reject_missing = reject;
        self
    }

    /// Accepts `Origin: null`. Default: false: `null` is what sandboxed
    /// iframes and `file:` pages send, so any page can produce it.
    pub fn allow_null(&mut self, allow: bool) -> &mut Self {
        self.allow_null = allow;
        self
    }

    /// The allowlist, or `None` in same-host and any-origin modes.
    #[must_use]
    pub fn allowed(&self) -> Option<&[Origin]> {
        match &self.mode {
            Mode::AllowList(list) => Some(list),
            Mode::SameHost | Mode::Any => None,
        }
    }

    /// True in same-host mode.
    #[must_use]
    pub fn is_same_host(&self) -> bool {
        self.mode == Mode::SameHost
    }

    /// Decides on one request from its `Origin` and `Host` field values
    /// (`None` when the field is absent). The caller must refuse a request
    /// that carries more than one `Origin` field before asking.
    ///
    /// # Errors
    ///
    /// The [`OriginRejection`] to log; answer it with 403.
    pub fn check(&self, origin: Option<&[u8]>, host: Option<&[u8]>) -> Result<(), OriginRejection> {
        let Some(value) = origin else {
            return if self.reject_missing {
                Err(OriginRejection::Missing)
            } else {
                Ok(())
            };
        };
        if trim_ows(value) == b"null" {
            return if self.allow_null {
                Ok(())
            } else {
                Err(OriginRejection::Null)
            };
        }
        let origin = Origin::parse(value).map_err(OriginRejection::Malformed)?;
        match &self.mode {
            Mode::Any => Ok(()),
            Mode::AllowList(list) if list.contains(&origin) => Ok(()),
            Mode::AllowList(_) => Err(OriginRejection::NotAllowed(origin)),
            Mode::SameHost => {
                let host = host
                    .and_then(|h| Authority::parse(trim_ows(h)).ok())
                    .ok_or(OriginRejection::MissingHost)?;
                let web_scheme = matches!(origin.scheme(), "http" | "https");
                let host_port = host.port.or_else(|| default_port(origin.scheme()));
                if web_scheme && host.host == origin.host && host_port == origin.port() {
                    Ok(())
                } else {
                    Err(OriginRejection::HostMismatch(origin))
                }
            }
        }
    }
}

/// `host [ ":" port ]` as found after `scheme://` and in `Host`.
struct Authority {
    host: String,
    port: Option<u16>,
}

impl Authority {
    fn parse(authority: &[u8]) -> Result<Self, OriginError> {
        let (host, port) = if authority.first() == Some(&b'[') {
            let close = authority
                .iter()
                .position(|&b| b == b']')
                .ok_or(OriginError::Malformed)?;
            let literal =
                std::str::from_utf8(&authority[1..close]).map_err(|_| OriginError::Malformed)?;
            if !literal
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            {
                return Err(OriginError::Malformed);
            }
            let ip: Ipv6Addr = literal.parse().map_err(|_| OriginError::Malformed)?;
            (format!("[{ip}]"), &authority[close + 1..])
        } else {
            let end = authority
                .iter()
                .position(|&b| b == b':')
                .unwrap_or(authority.len());
            (parse_reg_name(&authority[..end])?, &authority[end..])
        };
        let port = match port {
            [] => None,
            [b':', digits @ ..] => Some(parse_port(digits)?),
            _ => return Err(OriginError::Malformed),
        };
        Ok(Self { host, port })
    }
}

fn parse_scheme(scheme: &[u8]) -> Result<String, OriginError> {
    let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !valid {
        return Err(OriginError::Malformed);
    }
    Ok(String::from_utf8_lossy(scheme).to_ascii_lowercase())
}

/// A DNS name or IPv4 address: letters, digits, `-`, `_` and dots, no empty
/// label except a single trailing dot.
fn parse_reg_name(host: &[u8]) -> Result<String, OriginError> {
    if !host.is_ascii() {
        return Err(OriginError::NonAsciiHost);
    }
    let valid_bytes = host
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let labels = host.strip_suffix(b".").unwrap_or(host);
    if !valid_bytes || labels.is_empty() || labels.split(|&b| b == b'.').any(<[u8]>::is_empty) {
        return Err(OriginError::Malformed);
    }
    Ok(String::from_utf8_lossy(host).to_ascii_lowercase())
}

fn parse_port(digits: &[u8]) -> Result<u16, OriginError> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(OriginError::InvalidPort);
    }
    let port = digits
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    u16::try_from(port).map_err(|_| OriginError::InvalidPort)
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> OriginPolicy {
        OriginPolicy::allow_list(["https://app.example.com", "http://localhost:3000"]).unwrap()
    }

    fn allowed(policy: &OriginPolicy, origin: &str) -> bool {
        policy.check(Some(origin.as_bytes()), None).is_ok()
    }

    #[test]
    fn exact_origin_is_allowed() {
        assert!(allowed(&app(), "https://app.example.com"));
        assert!(allowed(&app(), "http://localhost:3000"));
    }

    #[test]
    fn upper_case_scheme_and_host_are_normalised() {
        assert!(allowed(&app(), "HTTPS://APP.EXAMPLE.COM"));
        assert!(allowed(&app(), "https://App.Example.Com"));
    }

    #[test]
    fn explicit_default_port_is_the_same_origin() {
        assert!(allowed(&app(), "https://app.example.com:443"));
        assert!(allowed(&app(), "https://app.example.com:0443"));
    }

    #[test]
    fn surrounding_optional_whitespace_is_ignored() {
        assert!(allowed(&app(), " https://app.example.com\t"));
    }

    #[test]
    fn suffix_and_prefix_tricks_are_refused() {
        for origin in [
            "https://app.example.com.evil.com",
            "https://evilapp.example.com",
            "https://evil-app.example.com",
            "https://app.example.co",
            "https://pp.example.com",
            "https://sub.app.example.com",
        ] {
            assert!(
                matches!(
                    app().check(Some(origin.as_bytes()), None),
                    Err(OriginRejection::NotAllowed(_))
                ),
                "{origin}"
            );
        }
    }

    #[test]
    fn paths_queries_and_fragments_are_malformed() {
        for origin in [
            "https://evil.com/app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com?x",
            "https://app.example.com#x",
            "https://app.example.com\\",
        ] {
            assert!(
                matches!(
                    app().check(Some(origin.as_bytes()), None),
                    Err(OriginRejection::Malformed(_))
                ),
                "{origin}"
            );
        }
    }

    #[test]
    fn userinfo_is_malformed() {
        for origin in [
            "https://app.example.com@evil.com",
            "https://user:pass@app.example.com",
            "https://evil.com@app.example.com",
        ] {
            assert!(!allowed(&app(), origin), "{origin}");
        }
    }

    #[test]
    fn scheme_mismatch_is_refused() {
        assert!(!allowed(&app(), "http://app.example.com"));
        assert!(!allowed(&app(), "wss://app.example.com"));
        assert!(!allowed(&app(), "https://localhost:3000"));
    }

    #[test]
    fn port_mismatch_and_bad_ports_are_refused() {
        assert!(!allowed(&app(), "https://app.example.com:8443"));
        assert!(!allowed(&app(), "http://localhost:3001"));
        assert!(!allowed(&app(), "http://localhost"));
        for origin in [
            "https://app.example.com:",
            "https://app.example.com:65536",
            "https://app.example.com:+443",
            "https://app.example.com:44 3",
            "https://app.example.com:4430000",
        ] {
            assert!(
                matches!(
                    app().check(Some(origin.as_bytes()), None),
                    Err(OriginRejection::Malformed(
                        OriginError::InvalidPort | OriginError::Malformed
                    ))
                ),
                "{origin}"
            );
        }
    }

    #[test]
    fn trailing_dot_is_a_different_origin() {
        assert!(matches!(
            app().check(Some(b"https://app.example.com."), None),
            Err(OriginRejection::NotAllowed(_))
        ));
        assert!(!allowed(&app(), "https://app.example.com.."));
        assert!(!allowed(&app(), "https://.app.example.com"));
    }

    #[test]
    fn non_ascii_hosts_are_refused_and_punycode_is_compared_as_is() {
        let policy = OriginPolicy::allow_list(["https://xn--bcher-kva.example"]).unwrap();
        assert!(allowed(&policy, "https://xn--bcher-kva.example"));
        assert_eq!(
            policy.check(Some("https://bücher.example".as_bytes()), None),
            Err(OriginRejection::Malformed(OriginError::NonAsciiHost))
        );
        // A Cyrillic "а" that looks like a Latin "a".
        assert!(!allowed(&app(), "https://\u{430}pp.example.com"));
        assert!(OriginPolicy::allow_list(["https://bücher.example"]).is_err());
    }

    #[test]
    fn inner_whitespace_controls_and_lists_are_malformed() {
        for origin in [
            "https://app.example.com https://evil.com",
            "https://app.example.com\r\n",
            "https://app. example.com",
            "https://app.example.com\0",
            "https:// app.example.com",
            "https:/app.example.com",
            "app.example.com",
            "://app.example.com",
            "1https://app.example.com",
            "https://",
            "",
        ] {
            assert!(
                matches!(
                    app().check(Some(origin.as_bytes()), None),
                    Err(OriginRejection::Malformed(_))
                ),
                "{origin:?}"
            );
        }
    }

    #[test]
    fn overlong_values_are_refused_without_work() {
        let long = format!("https://{}.com", "a".repeat(MAX_ORIGIN_LEN));
        assert_eq!(
            app().check(Some(long.as_bytes()), None),
            Err(OriginRejection::Malformed(OriginError::TooLong))
        );
    }

    #[test]
    fn missing_is_allowed_by_default_and_can_be_refused() {
        let mut policy = app();
        assert!(policy.check(None, None).is_ok());
        policy.reject_missing(true);
        assert_eq!(policy.check(None, None), Err(OriginRejection::Missing));
    }

    #[test]
    fn null_is_refused_by_default_and_can_be_allowed() {
        let mut policy = app();
        assert_eq!(
            policy.check(Some(b"null"), None),
            Err(OriginRejection::Null)
        );
        policy.allow_null(true);
        assert!(policy.check(Some(b"null"), None).is_ok());
        assert!(OriginPolicy::allow_list(["null"]).is_err());
    }

    #[test]
    fn same_host_compares_host_and_port() {
        let policy = OriginPolicy::default();
        assert!(policy.is_same_host());
        let check = |origin: &str, host: &str| {
            policy
                .check(Some(origin.as_bytes()), Some(host.as_bytes()))
                .is_ok()
        };
        assert!(check("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(check("http://LOCALHOST:8080", "localhost:8080"));
        assert!(check("https://chat.example.com", "chat.example.com"));
        assert!(check("https://chat.example.com", "chat.example.com:443"));
        assert!(check("http://chat.example.com", "chat.example.com"));
        assert!(check("http://[::1]:8080", "[::1]:8080"));
        assert!(check("http://[0:0::1]:8080", "[::1]:8080"));
        assert!(!check("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!check("http://localhost:8080", "127.0.0.1:8080"));
        assert!(!check("https://chat.example.com", "chat.example.com:80"));
        assert!(!check(
            "http://chat.example.com.evil.com",
            "chat.example.com"
        ));
        assert!(!check("ftp://chat.example.com", "chat.example.com"));
        assert!(!check("http://chat.example.com", "chat.example.com/"));
        assert!(!check("http://chat.example.com", "user@chat.example.com"));
        assert_eq!(
            policy.check(Some(b"http://chat.example.com"), None),
            Err(OriginRejection::MissingHost)
        );
    }

    #[test]
    fn any_mode_still_requires_a_well_formed_origin() {
        let policy = OriginPolicy::any();
        assert!(allowed(&policy, "https://anything.example"));
        assert!(!allowed(&policy, "https://a.example/path"));
        assert!(!allowed(&policy, "null"));
    }

    #[test]
    fn serialisation_round_trips() {
        for s in [
            "https://app.example.com",
            "http://localhost:3000",
            "http://[::1]:8080",
            "chrome-extension://abcdef",
        ] {
            let origin = Origin::parse(s.as_bytes()).unwrap();
            assert_eq!(origin.to_string(), s);
            assert_eq!(
                Origin::parse(origin.to_string().as_bytes()).unwrap(),
                origin
            );
        }
        let origin = Origin::parse(b"http://[0:0:0:0:0:0:0:1]:80").unwrap();
        assert_eq!(origin.to_string(), "http://[::1]");
        assert_eq!(origin.port(), Some(80));
        assert_eq!(Origin::parse(b"chrome-extension://x").unwrap().port(), None);
        assert!(Origin::parse(b"http://[fe80::1%eth0]").is_err());
    }
}
