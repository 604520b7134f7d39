//! [`Url`]: the little of a `ws://` or `http://` URL a client needs.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use super::error::UrlError;

/// The scheme of a [`Url`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `ws://`, default port 80.
    Ws,
    /// `http://`, default port 80.
    Http,
}

/// A parsed `ws://host[:port][/path][?query]` or `http://...` URL.
///
/// Only what a client needs: the host as written (for `Host`), the port,
/// and the request target. No name resolution happens here or anywhere in
/// the clients: a host that is an IP literal gives a
/// [`socket_addr`](Url::socket_addr), a name must be resolved by the caller.
///
/// ```
/// use adapter_core::client::{Scheme, Url};
/// let url = Url::parse("ws://[::1]:9001/chat?room=1")?;
/// assert_eq!(url.scheme(), Scheme::Ws);
/// assert_eq!(url.host(), "[::1]:9001");
/// assert_eq!(url.target(), "/chat?room=1");
/// assert_eq!(url.socket_addr(), Some("[::1]:9001".parse().unwrap()));
///
/// let named = Url::parse("http://example.com/")?;
/// assert_eq!(named.host(), "example.com");
/// assert_eq!(named.socket_addr(), None); // resolve it yourself
/// # Ok::<(), adapter_core::client::UrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    scheme: Scheme,
    /// The `Host` field value: the host as written, with `:port` when the
    /// port is not the scheme's default.
    host: String,
    ip: Option<IpAddr>,
    port: u16,
    target: String,
}

impl Url {
    /// Parses `url`.
    ///
    /// # Errors
    ///
    /// A [`UrlError`]: another scheme (`wss://` and `https://` included: no
    /// TLS here), user information, a bad IP literal or port, a fragment, or
    /// whitespace and control characters in the path.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(url, "ws://") {
            (Scheme::Ws, rest)
        } else if let Some(rest) = strip_prefix_ci(url, "http://") {
            (Scheme::Http, rest)
        } else {
            return Err(UrlError::UnsupportedScheme);
        };
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.is_empty() || authority.contains('@') {
            return Err(UrlError::InvalidHost);
        }
        let (host, ip, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or(UrlError::InvalidHost)?;
            let ip: Ipv6Addr = addr.parse().map_err(|_| UrlError::InvalidHost)?;
            (&authority[..addr.len() + 2], Some(IpAddr::V6(ip)), after)
        } else {
            let end = authority.find(':').unwrap_or(authority.len());
            let (host, after) = authority.split_at(end);
            let valid = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !valid {
                return Err(UrlError::InvalidHost);
            }
            (host, host.parse().ok(), after)
        };
        let port = match port {
            "" => 80,
            p => p
                .strip_prefix(':')
                .and_then(|p| p.parse::<u16>().ok())
                .filter(|&p| p != 0)
                .ok_or(UrlError::InvalidPort)?,
        };
        if target.contains('#') || target.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err(UrlError::InvalidTarget);
        }
        let target = if target.starts_with('/') {
            target.to_owned()
        } else {
            format!("/{target}")
        };
        let host = if port == 80 {
            host.to_owned()
        } else {
            format!("{host}:{port}")
        };
        Ok(Self {
            scheme,
            host,
            ip,
            port,
            target,
        })
    }

    /// `ws` or `http`.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The value for the `Host` field: the host as written, with `:port`
    /// unless it is 80.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 unless given).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target: the path and query, `/` at least.
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The address to connect to when the host is an IP literal; `None`
    /// for a name, which the caller resolves.
    #[must_use]
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.ip.map(|ip| SocketAddr::new(ip, self.port))
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Ws => "ws",
            Scheme::Http => "http",
        };
        write!(f, "{scheme}://{}{}", self.host, self.target)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_names_ports_and_targets() {
        let url = Url::parse("ws://127.0.0.1:8080/echo").unwrap();
        assert_eq!(url.socket_addr(), Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(url.host(), "127.0.0.1:8080");
        assert_eq!(url.target(), "/echo");
        let url = Url::parse("HTTP://localhost").unwrap();
        assert_eq!(
            (url.host(), url.port(), url.target()),
            ("localhost", 80, "/")
        );
        assert_eq!(url.socket_addr(), None);
        let url = Url::parse("http://[::1]?q=1").unwrap();
        assert_eq!((url.host(), url.target()), ("[::1]", "/?q=1"));
        assert_eq!(url.to_string(), "http://[::1]/?q=1");
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for (url, err) in [
            ("wss://a/", UrlError::UnsupportedScheme),
            ("https://a/", UrlError::UnsupportedScheme),
            ("ws:///x", UrlError::InvalidHost),
            ("ws://u@a/", UrlError::InvalidHost),
            ("ws://[::1/", UrlError::InvalidHost),
            ("ws://[zz]/", UrlError::InvalidHost),
            ("ws://a b/", UrlError::InvalidHost),
            ("ws://a:0/", UrlError::InvalidPort),
            ("ws://a:70000/", UrlError::InvalidPort),
            ("ws://a:/", UrlError::InvalidPort),
            ("ws://a/x#frag", UrlError::InvalidTarget),
            ("ws://a/x y", UrlError::InvalidTarget),
        ] {
            assert_eq!(Url::parse(url), Err(err), "{url}");
        }
    }
}
