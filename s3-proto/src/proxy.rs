//! Which forward proxy a request goes through: `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (or
//! their lower-case forms) as curl and the AWS SDKs read them, or set by hand in
//! [`Options::proxy`](crate::flow::request::Options). Decided here, per request URI, for every
//! runtime; the runtimes connect through the proxy with `CONNECT` (a tunnel, for https and
//! http targets alike).

/// The proxies of a client: none by default (every request goes direct).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proxies {
    /// The proxy for `http://` targets (`http://host:port`).
    pub http: Option<String>,
    /// The proxy for `https://` targets.
    pub https: Option<String>,
    /// Hosts reached directly: `*` for all, `example.com` (also its subdomains, as
    /// `.example.com`), an IP address, any of them with `:port`.
    pub no_proxy: Vec<String>,
}

impl Proxies {
    /// `url` for http and https targets alike.
    pub fn all(url: impl Into<String>) -> Self {
        let url = url.into();
        Proxies {
            http: Some(url.clone()),
            https: Some(url),
            no_proxy: Vec::new(),
        }
    }

    /// Adds the hosts of a comma-separated `NO_PROXY`-style list.
    pub fn no_proxy(mut self, list: &str) -> Self {
        let hosts = list.split(',').map(str::trim).filter(|h| !h.is_empty());
        self.no_proxy.extend(hosts.map(str::to_ascii_lowercase));
        self
    }

    /// The proxies the environment names: `https_proxy` / `HTTPS_PROXY`, `http_proxy` /
    /// `HTTP_PROXY`, `no_proxy` / `NO_PROXY` (lower case first, as curl reads them; empty
    /// values are unset). A value without a scheme is taken as `http://`.
    pub fn from_lookup(mut lookup: impl FnMut(&str) -> Option<String>) -> Self {
        let mut get = |name: &str| {
            lookup(&name.to_ascii_lowercase())
                .or_else(|| lookup(name))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let url = |v: String| {
            if v.contains("://") {
                v
            } else {
                format!("http://{v}")
            }
        };
        let proxies = Proxies {
            http: get("HTTP_PROXY").map(url),
            https: get("HTTPS_PROXY").map(url),
            no_proxy: Vec::new(),
        };
        match get("NO_PROXY") {
            Some(list) => proxies.no_proxy(&list),
            None => proxies,
        }
    }

    /// True when no request goes through a proxy.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy for a request to `uri`, or `None` to connect directly.
    pub fn for_uri(&self, uri: &http::Uri) -> Option<&str> {
        let proxy = match uri.scheme_str() {
            Some("https") => self.https.as_deref(),
            _ => self.http.as_deref(),
        }?;
        let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
        let host = host.to_ascii_lowercase();
        let port = uri.port_u16();
        let bypass = self.no_proxy.iter().any(|entry| {
            let entry = entry.trim_start_matches("*.");
            let (name, entry_port) = match entry.rsplit_once(':') {
                Some((n, p)) if !n.contains(':') || n.ends_with(']') => (n, p.parse().ok()),
                _ => (entry, None),
            };
            let name = name.trim_start_matches('[').trim_end_matches(']');
            let name = name.trim_start_matches('.');
            let host_matches = entry == "*"
                || host == name
                || host
                    .strip_suffix(name)
                    .is_some_and(|rest| rest.ends_with('.'));
            host_matches && entry_port.is_none_or(|p: u16| Some(p) == port)
        });
        (!bypass).then_some(proxy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> http::Uri {
        s.parse().unwrap()
    }

    #[test]
    fn environment_and_no_proxy() {
        let env = |name: &str| match name {
            "https_proxy" => Some("proxy.corp:3128".to_owned()),
            "HTTPS_PROXY" => Some("http://ignored:1".to_owned()),
            "HTTP_PROXY" => Some("http://plain:8080".to_owned()),
            "NO_PROXY" => Some("internal.corp, .svc ,10.0.0.1,localhost:9000,[::1]".to_owned()),
            _ => None,
        };
        let p = Proxies::from_lookup(env);
        assert_eq!(p.https.as_deref(), Some("http://proxy.corp:3128"));
        let https = |u| p.for_uri(&uri(u));
        assert_eq!(
            https("https://s3.amazonaws.com/b"),
            Some("http://proxy.corp:3128")
        );
        assert_eq!(
            p.for_uri(&uri("http://s3.amazonaws.com/b")),
            Some("http://plain:8080")
        );
        for direct in [
            "https://internal.corp/",
            "https://a.b.internal.corp/",
            "https://x.svc/",
            "https://10.0.0.1:7480/",
            "http://localhost:9000/",
            "http://[::1]:7480/",
        ] {
            assert_eq!(p.for_uri(&uri(direct)), None, "{direct}");
        }
        for proxied in [
            "https://notinternal.corp/",
            "http://localhost:9001/",
            "https://10.0.0.10/",
        ] {
            assert!(p.for_uri(&uri(proxied)).is_some(), "{proxied}");
        }
        assert_eq!(
            Proxies::all("http://p:1")
                .no_proxy("*")
                .for_uri(&uri("https://x/")),
            None
        );
        assert!(Proxies::from_lookup(|_| Some(String::new())).is_empty());
    }
}
