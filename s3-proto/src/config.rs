//! Where requests go and how they are signed: `Config`, `Target`, and the two steps a runtime
//! calls, `prepare` and `finish`.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Uri};

use crate::body::{Body, PayloadHash, Response};
use crate::credentials::Credentials;
use crate::error::{Error, InputError, ServiceError};
use crate::name::{BucketName, ObjectKey};
use crate::op::Operation;
use crate::sign::encode::uri_encode_into;
use crate::sign::v2::SigV2;
use crate::sign::{self, SigV4};

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

/// Which signature scheme signs requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureVersion {
    /// AWS Signature Version 4 (HMAC-SHA256), the default.
    #[default]
    V4,
    /// Legacy Signature Version 2 (HMAC-SHA1), for old servers and classic boto setups.
    V2,
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
    endpoint: Endpoint,
    region: String,
    addressing: Addressing,
}

impl Target {
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
        let mut b = RequestBuilder {
            method,
            url: String::with_capacity(96),
            query_start: 0,
            headers: http::HeaderMap::new(),
            body: Body::Empty,
            bucket_in_host: None,
            payload: None,
            error: None,
        };
        b.url.push_str(if self.endpoint.https {
            "https://"
        } else {
            "http://"
        });
        let vhost = match bucket.map(|bk| self.is_virtual_host(bk)).transpose() {
            Ok(v) => v.unwrap_or(false),
            Err(e) => {
                b.error = Some(e.into());
                false
            }
        };
        match bucket {
            Some(bucket) if vhost => {
                self.endpoint
                    .push_authority(&mut b.url, Some(bucket.as_str()));
                b.url.push('/');
                b.bucket_in_host = Some(bucket.to_string());
            }
            Some(bucket) => {
                self.endpoint.push_authority(&mut b.url, None);
                b.url.push('/');
                b.url.push_str(bucket.as_str());
                if key.is_some() {
                    b.url.push('/');
                }
            }
            None => {
                self.endpoint.push_authority(&mut b.url, None);
                b.url.push('/');
            }
        }
        if let Some(key) = key {
            uri_encode_into(&mut b.url, key.as_str().as_bytes(), true);
        }
        b.query_start = b.url.len();
        b
    }
}

/// The bucket an operation addressed through the host name (`bucket.endpoint`), kept in the
/// request's extensions for SigV2, whose canonical resource must still name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInHost(pub String);

/// Builds one request: query parameters and headers, validated as they are added.
///
/// The first invalid header or argument is kept and returned by [`RequestBuilder::build`].
#[derive(Debug)]
pub struct RequestBuilder {
    method: Method,
    url: String,
    query_start: usize,
    headers: http::HeaderMap,
    body: Body,
    bucket_in_host: Option<String>,
    payload: Option<PayloadHash>,
    error: Option<Error>,
}

impl RequestBuilder {
    fn push_query_sep(&mut self) {
        self.url.push(if self.url.len() == self.query_start {
            '?'
        } else {
            '&'
        });
    }

    /// Adds a sub-resource without a value: `?acl`, `?uploads`, `?delete`.
    pub fn subresource(mut self, name: &str) -> Self {
        self.push_query_sep();
        uri_encode_into(&mut self.url, name.as_bytes(), false);
        self
    }

    /// Adds `name=value`, both URI-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.push_query_sep();
        uri_encode_into(&mut self.url, name.as_bytes(), false);
        self.url.push('=');
        uri_encode_into(&mut self.url, value.as_bytes(), false);
        self
    }

    /// Adds `name=value` when `value` is present.
    pub fn query_opt<V: AsRef<str>>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(name, v.as_ref()),
            None => self,
        }
    }

    /// Sets a header; an invalid name or value is reported by `build`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => {
                if self.error.is_none() {
                    self.error = Some(
                        InputError::InvalidHeader {
                            name: crate::error::shorten(name).into_owned(),
                        }
                        .into(),
                    );
                }
            }
        }
        self
    }

    /// Sets a header when `value` is present.
    pub fn header_opt<V: AsRef<str>>(self, name: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.header(name, v.as_ref()),
            None => self,
        }
    }

    /// Records an error found while building (first one wins).
    pub fn fail(mut self, error: impl Into<Error>) -> Self {
        if self.error.is_none() {
            self.error = Some(error.into());
        }
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Overrides how the payload is covered by SigV4 (see [`PayloadHash`]).
    pub fn payload_hash(mut self, hash: PayloadHash) -> Self {
        self.payload = Some(hash);
        self
    }

    /// The finished request.
    ///
    /// # Errors
    /// The first invalid input recorded while building.
    pub fn build(self) -> Result<Request<Body>, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let uri: Uri = self.url.parse().map_err(|_| InputError::InvalidEndpoint {
            reason: "the request URL is not valid".to_owned(),
        })?;
        let mut req = Request::new(self.body);
        *req.method_mut() = self.method;
        *req.uri_mut() = uri;
        *req.headers_mut() = self.headers;
        if let Some(bucket) = self.bucket_in_host {
            req.extensions_mut().insert(BucketInHost(bucket));
        }
        if let Some(payload) = self.payload {
            req.extensions_mut().insert(payload);
        }
        Ok(req)
    }
}

/// Endpoint, region, addressing and signing choices: everything needed to turn an operation
/// into a signed request and a response into its result.
///
/// # Example
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use s3_proto::{Config, Credentials, ops::GetObject};
///
/// let config = Config::new("http://127.0.0.1:9000", "us-east-1")?;
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
/// let op = GetObject::new("bucket".parse()?, "photos/cat.jpg".parse()?);
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let req = config.prepare(&op, &creds, now)?;
/// assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket/photos/cat.jpg");
/// assert!(req.headers().contains_key("authorization"));
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    target: Target,
    signature: SignatureVersion,
    unsigned_payload: bool,
}

/// Region used when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";

impl Config {
    /// A config for a custom endpoint (`http[s]://host[:port]`) in `region`.
    ///
    /// # Errors
    /// [`InputError::InvalidEndpoint`] when the URL is not usable.
    pub fn new(endpoint: &str, region: impl Into<String>) -> Result<Self, InputError> {
        Ok(Config::with_endpoint(Endpoint::parse(endpoint)?, region))
    }

    /// A config for AWS S3 in `region`.
    pub fn aws(region: impl Into<String>) -> Self {
        let region = region.into();
        Config::with_endpoint(Endpoint::aws(&region), region)
    }

    /// A config for `endpoint` in `region`.
    pub fn with_endpoint(endpoint: Endpoint, region: impl Into<String>) -> Self {
        Config {
            target: Target {
                endpoint,
                region: region.into(),
                addressing: Addressing::Auto,
            },
            signature: SignatureVersion::V4,
            unsigned_payload: false,
        }
    }

    /// Builds a config from a lookup of the standard variables: region from `AWS_REGION`
    /// then `AWS_DEFAULT_REGION` (default us-east-1), endpoint from `AWS_ENDPOINT_URL_S3` then
    /// `AWS_ENDPOINT_URL` (default AWS). Pure: the runtime passes the environment in.
    ///
    /// # Errors
    /// [`InputError::InvalidEndpoint`] when the endpoint variable is not a usable URL.
    pub fn from_lookup(mut lookup: impl FnMut(&str) -> Option<String>) -> Result<Self, InputError> {
        let mut get = |name| lookup(name).filter(|v: &String| !v.trim().is_empty());
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        match get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL")) {
            Some(url) => Config::new(&url, region),
            None => Ok(Config::aws(region)),
        }
    }

    /// Sets the addressing style.
    pub fn addressing(mut self, addressing: Addressing) -> Self {
        self.target.addressing = addressing;
        self
    }

    /// Sets the signature version.
    pub fn signature(mut self, version: SignatureVersion) -> Self {
        self.signature = version;
        self
    }

    /// Sends in-memory bodies with `UNSIGNED-PAYLOAD` instead of hashing them (saves a
    /// SHA-256 pass; use over TLS).
    pub fn unsigned_payload(mut self, yes: bool) -> Self {
        self.unsigned_payload = yes;
        self
    }

    /// The same config in another region (the endpoint follows when it is AWS's).
    pub fn with_region(&self, region: &str) -> Self {
        let mut c = self.clone();
        if c.target.endpoint.is_aws() && c.target.endpoint.host.starts_with("s3.") {
            c.target.endpoint = Endpoint::aws(region);
        }
        c.target.region = region.to_owned();
        c
    }

    /// Where requests go.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The signing region.
    pub fn region(&self) -> &str {
        &self.target.region
    }

    /// The signature version in use.
    pub fn signature_version(&self) -> SignatureVersion {
        self.signature
    }

    /// Builds `op`'s request and signs it at `now`; anonymous credentials leave it unsigned.
    ///
    /// # Errors
    /// [`Error::Input`] when the operation or credentials cannot form a request.
    pub fn prepare<O: Operation + ?Sized>(
        &self,
        op: &O,
        credentials: &Credentials,
        now: SystemTime,
    ) -> Result<Request<Body>, Error> {
        let mut req = op.request(&self.target)?;
        if credentials.is_anonymous() {
            sign::v4::ensure_host(&mut req)?;
            return Ok(req);
        }
        match self.signature {
            SignatureVersion::V4 => {
                let hash = self.payload_hash(&req);
                SigV4::new(credentials, &self.target.region, "s3", now)?
                    .sign(&mut req, hash.as_str())?;
            }
            SignatureVersion::V2 => {
                let bucket = req.extensions().get::<BucketInHost>().map(|b| b.0.clone());
                SigV2::new(credentials, now)?.sign(&mut req, bucket.as_deref())?;
            }
        }
        Ok(req)
    }

    /// A presigned URL for `op`, valid for `expires` from `now` (at most 7 days for SigV4).
    ///
    /// The URL carries the signature and, for temporary credentials, the session token: treat
    /// it as a secret. Headers the operation sets (a range, a content type) are signed and must
    /// be sent by whoever uses the URL.
    ///
    /// # Errors
    /// [`Error::Input`] for anonymous credentials or an expiry out of range.
    pub fn presign<O: Operation + ?Sized>(
        &self,
        op: &O,
        credentials: &Credentials,
        now: SystemTime,
        expires: Duration,
    ) -> Result<Uri, Error> {
        let req = op.request(&self.target)?;
        match self.signature {
            SignatureVersion::V4 => {
                let (uri, _) = SigV4::new(credentials, &self.target.region, "s3", now)?.presign(
                    &req,
                    expires,
                    sign::UNSIGNED_PAYLOAD,
                )?;
                Ok(uri)
            }
            SignatureVersion::V2 => {
                let bucket = req.extensions().get::<BucketInHost>().map(|b| b.0.as_str());
                SigV2::new(credentials, now)?.presign(&req, now + expires, bucket)
            }
        }
    }

    /// Turns a response into `op`'s output: 2xx goes to `parse`, anything else becomes a
    /// [`ServiceError`] that `recover` may still accept.
    ///
    /// # Errors
    /// [`Error::Service`] for S3 errors, [`Error::Response`] for malformed replies.
    pub fn finish<O: Operation + ?Sized>(
        &self,
        op: &O,
        response: Response<'_>,
    ) -> Result<O::Output, Error> {
        finish(op, response)
    }

    fn payload_hash(&self, req: &Request<Body>) -> PayloadHash {
        if let Some(hash) = req.extensions().get::<PayloadHash>() {
            return hash.clone();
        }
        match req.body() {
            Body::Empty => PayloadHash::Sha256(sign::EMPTY_SHA256.to_owned()),
            Body::Bytes(_) if self.unsigned_payload => PayloadHash::Unsigned,
            Body::Bytes(b) => PayloadHash::Sha256(sign::sha256_hex(b)),
            Body::Stream { .. } => PayloadHash::Unsigned,
        }
    }
}

/// [`Config::finish`] without a config: the response alone decides.
///
/// # Errors
/// See [`Config::finish`].
pub fn finish<O: Operation + ?Sized>(op: &O, response: Response<'_>) -> Result<O::Output, Error> {
    if response.status.is_success() {
        op.parse(response)
    } else {
        op.recover(ServiceError::from_response(
            response.status,
            response.headers,
            response.body,
        ))
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

    #[test]
    fn bucket_and_service_urls() {
        let c = Config::new("http://127.0.0.1:7480", "us-east-1").unwrap();
        let t = c.target();
        let u = |b: RequestBuilder| b.build().unwrap().uri().to_string();
        assert_eq!(
            u(t.request(Method::GET, None, None)),
            "http://127.0.0.1:7480/"
        );
        assert_eq!(
            u(t.request(Method::GET, Some(&bucket("b1")), None)
                .subresource("acl")),
            "http://127.0.0.1:7480/b1?acl"
        );
        assert_eq!(
            u(t.request(Method::GET, Some(&bucket("b1")), None)
                .query("list-type", "2")
                .query("prefix", "a b&c")),
            "http://127.0.0.1:7480/b1?list-type=2&prefix=a%20b%26c"
        );
    }

    #[test]
    fn from_lookup_prefers_specific_names() {
        let env = |n: &str| match n {
            "AWS_DEFAULT_REGION" => Some("eu-west-1".to_owned()),
            "AWS_ENDPOINT_URL" => Some("http://other:1".to_owned()),
            "AWS_ENDPOINT_URL_S3" => Some("http://s3host:9000".to_owned()),
            _ => None,
        };
        let c = Config::from_lookup(env).unwrap();
        assert_eq!(c.region(), "eu-west-1");
        assert_eq!(c.target().endpoint().url(), "http://s3host:9000");
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(
            c.target().endpoint().url(),
            "https://s3.us-east-1.amazonaws.com"
        );
    }
}
