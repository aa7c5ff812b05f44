//! Where requests go: the S3 `Endpoint`, the `Addressing` style, and the `Target` that
//! operations address their requests through.

use std::fmt::Write as _;
use std::net::IpAddr;

use http::{Method, Uri};

use crate::error::InputError;
use crate::name::{BucketName, ObjectKey};
use crate::request::RequestBuilder;
use crate::sign::encode::uri_encode_into;

/// How the bucket appears in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Addressing {
    /// Virtual-hosted for AWS endpoints and names that fit a TLS host name; path-style for
    /// custom endpoints, IP addresses and names with dots or capitals.
    #[default]
    Auto,
    /// `https://endpoint/bucket/key`.
    Path,
    /// `https://bucket.endpoint/key`.
    VirtualHost,
}

/// An S3 endpoint: scheme, host and port, without path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    https: bool,
    host: String,
    port: Option<u16>,
}

impl Endpoint {
    /// Parses `http[s]://host[:port][/]`.
    ///
    /// # Errors
    /// [`InputError::InvalidEndpoint`] for another scheme, user info, a path, a query or a bad
    /// port.
    pub fn parse(url: &str) -> Result<Self, InputError> {
        let bad = |reason: &str| InputError::InvalidEndpoint {
            reason: format!("{reason}: {:?}", crate::error::shorten(url)),
        };
        let url = url.trim();
        let (https, rest) = if let Some(rest) = strip_prefix_ci(url, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ci(url, "http://") {
            (false, rest)
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(bad(
                "must be scheme://host[:port] without path, query or user",
            ));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed IPv6 literal"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("bad port"))?),
            };
            (format!("[{addr}]"), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(bad("has no host"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad("bad port"))?),
        };
        // The default port is left out, as browsers and the AWS SDKs do: the Host header, and
        // so the signature, must match what the HTTP stack sends.
        let port = port.filter(|&p| p != if https { 443 } else { 80 });
        let endpoint = Endpoint {
            https,
            host: host.to_ascii_lowercase(),
            port,
        };
        format!("{}/", endpoint.url())
            .parse::<Uri>()
            .map_err(|_| bad("is not a valid URL"))?;
        Ok(endpoint)
    }

    /// The AWS endpoint of `region`: `https://s3.{region}.amazonaws.com`.
    pub fn aws(region: &str) -> Self {
        Endpoint {
            https: true,
            host: format!("s3.{region}.amazonaws.com"),
            port: None,
        }
    }

    /// True for `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host, lower case (IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, when it is not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `scheme://host[:port]`.
    pub fn url(&self) -> String {
        let mut s = String::with_capacity(self.host.len() + 16);
        s.push_str(if self.https { "https://" } else { "http://" });
        self.push_authority(&mut s, None);
        s
    }

    /// True for `*.amazonaws.com` (and China) hosts.
    pub fn is_aws(&self) -> bool {
        let h = self.host.as_str();
        h.ends_with(".amazonaws.com") || h.ends_with(".amazonaws.com.cn")
    }

    fn is_ip(&self) -> bool {
        self.host.starts_with('[') || self.host.parse::<IpAddr>().is_ok()
    }

    fn push_authority(&self, out: &mut String, bucket: Option<&str>) {
        if let Some(bucket) = bucket {
            out.push_str(bucket);
            out.push('.');
        }
        out.push_str(&self.host);
        if let Some(port) = self.port {
            let _ = write!(out, ":{port}");
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Where operations are addressed: endpoint, region and addressing style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub(crate) endpoint: Endpoint,
    pub(crate) region: String,
    pub(crate) addressing: Addressing,
    /// How the server differs from AWS S3 (set from the session's options).
    pub(crate) quirks: crate::quirks::ServerQuirks,
    /// When requests carry a flexible checksum nobody asked for (set from the options).
    pub(crate) checksums: crate::checksum::ChecksumPolicy,
    /// False while presigning: a presigned request's body is not known, so it gets no
    /// checksum its caller did not ask for.
    pub(crate) unasked_checksums: bool,
}

impl Target {
    /// How the server differs from AWS S3: what requests and replies are adapted to.
    pub fn quirks(&self) -> &crate::quirks::ServerQuirks {
        &self.quirks
    }

    /// When requests carry a flexible checksum the caller did not ask for.
    pub fn checksums(&self) -> crate::checksum::ChecksumPolicy {
        self.checksums
    }

    /// The algorithm of the checksum a request with a body gets when its caller chose none:
    /// CRC32 under `when_supported` for a server that does something with checksum headers,
    /// and under either policy where such a checksum covers the body by itself
    /// ([`Target::checksums_cover_payloads`]): there it replaces a SHA-256 payload hash (or
    /// signed chunks) that would cost several times as much CPU.
    pub fn default_checksum(&self) -> Option<crate::checksum::ChecksumAlgorithm> {
        if !self.unasked_checksums {
            return None;
        }
        let covering = self.checksums_cover_payloads();
        self.checksums
            .unasked_algorithm(&self.quirks)
            .or_else(|| covering.then_some(crate::checksum::ChecksumPolicy::DEFAULT_ALGORITHM))
    }

    /// True when a flexible checksum covers a body by itself: the endpoint is https (TLS
    /// guards the bytes in transit) and the server refuses a body whose checksum header does
    /// not match ([`ServerQuirks::checks_checksum_headers`](crate::quirks::ServerQuirks::checks_checksum_headers)).
    /// The server must be known to: AWS's own endpoint, or a server whose quirks preset the
    /// client was given. Another endpoint under the default (AWS) quirks may be one that
    /// ignores checksum headers (Ceph RGW 16) or refuses them (R2, B2): it keeps the SHA-256.
    pub fn checksums_cover_payloads(&self) -> bool {
        let known = self.endpoint.is_aws() || self.quirks != crate::quirks::ServerQuirks::aws();
        self.endpoint.is_https() && self.quirks.checks_checksum_headers && known
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The signing region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The addressing style.
    pub fn addressing(&self) -> Addressing {
        self.addressing
    }

    /// True when `bucket` goes in the host name under this target's addressing.
    ///
    /// # Errors
    /// [`InputError::InvalidBucketName`] when virtual-hosted style is forced on a name that
    /// cannot be a host label, or on an IP endpoint.
    pub fn is_virtual_host(&self, bucket: &BucketName) -> Result<bool, InputError> {
        match self.addressing {
            Addressing::Path => Ok(false),
            Addressing::Auto => Ok(self.endpoint.is_aws() && bucket.is_virtual_host_safe()),
            Addressing::VirtualHost => {
                if !bucket.is_dns_compatible() {
                    Err(InputError::InvalidBucketName {
                        name: bucket.to_string(),
                        reason: "cannot be a host name; use path-style addressing",
                    })
                } else if self.endpoint.is_ip() {
                    Err(InputError::InvalidEndpoint {
                        reason: "virtual-hosted addressing needs a host name, not an IP address"
                            .to_owned(),
                    })
                } else {
                    Ok(true)
                }
            }
        }
    }

    /// Starts a request for `method` on the service, a bucket, or an object.
    pub fn request(
        &self,
        method: Method,
        bucket: Option<&BucketName>,
        key: Option<&ObjectKey>,
    ) -> RequestBuilder {
        let mut url = String::with_capacity(96);
        url.push_str(if self.endpoint.https {
            "https://"
        } else {
            "http://"
        });
        let mut error = None;
        let vhost = match bucket.map(|bk| self.is_virtual_host(bk)).transpose() {
            Ok(v) => v.unwrap_or(false),
            Err(e) => {
                error = Some(e);
                false
            }
        };
        let mut bucket_in_host = None;
        match bucket {
            Some(bucket) if vhost => {
                self.endpoint
                    .push_authority(&mut url, Some(bucket.as_str()));
                url.push('/');
                bucket_in_host = Some(bucket.to_string());
            }
            Some(bucket) => {
                self.endpoint.push_authority(&mut url, None);
                url.push('/');
                url.push_str(bucket.as_str());
                if key.is_some() {
                    url.push('/');
                }
            }
            None => {
                self.endpoint.push_authority(&mut url, None);
                url.push('/');
            }
        }
        if let Some(key) = key {
            uri_encode_into(&mut url, key.as_str().as_bytes(), true);
        }
        let builder = RequestBuilder::new(method, url, bucket_in_host);
        match error {
            Some(e) => builder.fail(e),
            None => builder,
        }
    }
}

/// Where to connect when it is not the request's own host: names under `localhost` are
/// loopback (RFC 6761), so `http://bucket.localhost:7480/` is sent to `127.0.0.1:7480` with the
/// `Host` header unchanged. This lets virtual-hosted style work on machines that do not
/// resolve `*.localhost`. Only plain `http` is redirected (TLS would check the name).
pub fn loopback_uri(uri: &Uri) -> Option<Uri> {
    if uri.scheme_str() != Some("http") {
        return None;
    }
    let host = uri.host()?;
    if !host.ends_with(".localhost") && !host.ends_with(".localhost.") {
        return None;
    }
    let authority = match uri.port_u16() {
        Some(port) => format!("127.0.0.1:{port}"),
        None => "127.0.0.1".to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.authority = authority.parse().ok();
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn localhost_names_connect_to_loopback() {
        let uri: Uri = "http://bucket.localhost:7480/k?acl".parse().unwrap();
        assert_eq!(loopback_uri(&uri).unwrap(), "http://127.0.0.1:7480/k?acl");
        assert!(loopback_uri(&"http://localhost:1/".parse().unwrap()).is_none());
        assert!(loopback_uri(&"https://b.localhost/".parse().unwrap()).is_none());
        assert!(loopback_uri(&"http://example.com/".parse().unwrap()).is_none());
    }

    fn bucket(s: &str) -> BucketName {
        BucketName::relaxed(s).unwrap()
    }

    #[test]
    fn endpoint_parsing() {
        let e = Endpoint::parse("HTTP://LocalHost:9000/").unwrap();
        assert_eq!(e.url(), "http://localhost:9000");
        assert_eq!(Endpoint::parse("https://h:443").unwrap().url(), "https://h");
        assert_eq!(
            Endpoint::parse("http://[::1]:80").unwrap().url(),
            "http://[::1]"
        );
        for bad in [
            "ftp://x",
            "http://",
            "http://h/path",
            "http://u@h",
            "http://h:99999",
            "h",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn auto_addressing() {
        let aws = Config::aws("eu-west-1");
        let custom = Config::new("http://127.0.0.1:7480", "us-east-1").unwrap();
        let key = ObjectKey::new("a b/c+d").unwrap();
        let url = |c: &Config, b: &str| {
            c.target()
                .request(Method::GET, Some(&bucket(b)), Some(&key))
                .build()
                .unwrap()
                .uri()
                .to_string()
        };
        assert_eq!(
            url(&aws, "bucket"),
            "https://bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd"
        );
        assert_eq!(
            url(&aws, "my.bucket"),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/a%20b/c%2Bd"
        );
        assert_eq!(
            url(&aws, "Legacy_Name"),
            "https://s3.eu-west-1.amazonaws.com/Legacy_Name/a%20b/c%2Bd"
        );
        assert_eq!(
            url(&custom, "bucket"),
            "http://127.0.0.1:7480/bucket/a%20b/c%2Bd"
        );
        let vhost = Config::new("http://localhost:7480", "us-east-1")
            .unwrap()
            .addressing(Addressing::VirtualHost);
        assert_eq!(
            url(&vhost, "bucket"),
            "http://bucket.localhost:7480/a%20b/c%2Bd"
        );
        let forced_ip = custom.clone().addressing(Addressing::VirtualHost);
        assert!(
            forced_ip
                .target()
                .request(Method::GET, Some(&bucket("bucket")), None)
                .build()
                .is_err()
        );
    }
}
