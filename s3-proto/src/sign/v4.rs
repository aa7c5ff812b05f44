//! AWS Signature Version 4 with S3's rules: no path normalisation, each path byte encoded once.
//!
//! Reference: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>

use std::fmt;
use std::time::{Duration, SystemTime};

use super::hmac::Hmac;
use http::header::{AUTHORIZATION, HOST, HeaderName, HeaderValue};
use http::{HeaderMap, Request, Uri};
use sha2::{Digest, Sha256};

use super::encode::{canonical_path_into, percent_decode, uri_encode_into};
use super::hex;
use crate::credentials::{Credentials, Secret};
use crate::error::{Error, InputError};
use crate::time::AmzDate;

/// The algorithm name in the string to sign and the Authorization header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// `x-amz-content-sha256` value for a body that is not hashed (S3 only, best over TLS).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` value for an aws-chunked body signed chunk by chunk.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// SHA-256 of the empty string, the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Longest validity S3 allows for a presigned URL: 7 days.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

/// Headers that proxies and HTTP stacks add or rewrite, so they are never signed by default.
const UNSIGNED_HEADERS: [&str; 10] = [
    "authorization",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authorization",
    "te",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A SigV4 signer for one request: credentials, scope and time.
///
/// # Example
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use s3_proto::{Credentials, sign::SigV4};
///
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
/// let time = UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
/// let mut req = http::Request::get("https://examplebucket.s3.amazonaws.com/test.txt")
///     .header("range", "bytes=0-9")
///     .body(())
///     .unwrap();
/// SigV4::new(&creds, "us-east-1", "s3", time)?
///     .sign(&mut req, s3_proto::sign::EMPTY_SHA256)?;
/// assert_eq!(
///     req.headers()["authorization"],
///     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
///      SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
///      Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
/// );
/// # Ok::<(), s3_proto::Error>(())
/// ```
pub struct SigV4<'a> {
    credentials: &'a Credentials,
    access_key: &'a str,
    secret: &'a Secret,
    region: &'a str,
    service: &'a str,
    date: AmzDate,
    content_sha256_header: bool,
    sign_session_token: bool,
    all_headers: bool,
}

/// The intermediate values of a signature, for comparing with a server's
/// `SignatureDoesNotMatch` reply.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningOutput {
    /// The canonical request, as hashed.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The signature, lower-case hex.
    pub signature: String,
    /// The `SignedHeaders` list.
    pub signed_headers: String,
}

impl fmt::Debug for SigningOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature authorises the request it belongs to; keep it out of logs.
        f.debug_struct("SigningOutput")
            .field("canonical_request", &redact_token(&self.canonical_request))
            .field("string_to_sign", &self.string_to_sign)
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// The canonical request with the session token's value (signed, header or query form)
/// replaced, so `Debug` output is safe to log.
fn redact_token(canonical: &str) -> String {
    let mut out = String::with_capacity(canonical.len());
    for (i, line) in canonical.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if let Some((name, _)) = line.split_once(':')
            && name.eq_ignore_ascii_case("x-amz-security-token")
        {
            out.push_str(name);
            out.push_str(":<redacted>");
            continue;
        }
        let mut first = true;
        for pair in line.split('&') {
            if !first {
                out.push('&');
            }
            first = false;
            match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("X-Amz-Security-Token") => {
                    out.push_str(k);
                    out.push_str("=<redacted>");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

impl<'a> SigV4<'a> {
    /// A signer for `service` in `region` at `time`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for anonymous credentials, which sign nothing.
    pub fn new(
        credentials: &'a Credentials,
        region: &'a str,
        service: &'a str,
        time: SystemTime,
    ) -> Result<Self, InputError> {
        let (Some(access_key), Some(secret)) = (credentials.access_key(), credentials.secret_key())
        else {
            return Err(InputError::argument(
                "credentials",
                "anonymous credentials cannot sign",
            ));
        };
        Ok(SigV4 {
            credentials,
            access_key,
            secret,
            region,
            service,
            date: AmzDate::new(time),
            content_sha256_header: true,
            sign_session_token: true,
            all_headers: false,
        })
    }

    /// Whether `sign` adds `x-amz-content-sha256` (S3 requires it; other services do not).
    /// Default: true.
    pub fn content_sha256_header(mut self, yes: bool) -> Self {
        self.content_sha256_header = yes;
        self
    }

    /// Whether the session token is part of the signature (S3: yes) or only added afterwards
    /// (a few services). Default: true.
    pub fn sign_session_token(mut self, yes: bool) -> Self {
        self.sign_session_token = yes;
        self
    }

    /// Sign every header of the request, even those that HTTP stacks rewrite (`user-agent`,
    /// `expect`, …). Default: false. The signing tool uses it to sign exactly a file's headers.
    pub fn sign_all_headers(mut self, yes: bool) -> Self {
        self.all_headers = yes;
        self
    }

    /// Signs `req` in place: adds `host` (from the URI when absent), `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` and `authorization`.
    ///
    /// `payload_hash` is the hex SHA-256 of the body, [`UNSIGNED_PAYLOAD`] or
    /// [`STREAMING_PAYLOAD`].
    ///
    /// # Errors
    /// [`InputError`] when the request has no host or a header value is not UTF-8.
    pub fn sign<B>(
        &self,
        req: &mut Request<B>,
        payload_hash: &str,
    ) -> Result<SigningOutput, Error> {
        // host, x-amz-date, x-amz-content-sha256, the token and authorization: one growth.
        req.headers_mut().reserve(5);
        ensure_host(req)?;
        let headers = req.headers_mut();
        headers.remove(AUTHORIZATION);
        headers.insert(X_AMZ_DATE, header_value(self.date.datetime())?);
        if self.content_sha256_header {
            headers.insert(X_AMZ_CONTENT_SHA256, header_value(payload_hash)?);
        }
        let token = self.credentials.session_token();
        if let (Some(token), true) = (token, self.sign_session_token) {
            headers.insert(X_AMZ_SECURITY_TOKEN, header_value(token.expose())?);
        }
        let out = {
            let mut headers = self.header_list(req.headers(), None)?;
            sort_headers(&mut headers);
            let signed = signed_header_names(&headers);
            let canonical = self.canonical_request(req, &headers, &signed, None, payload_hash);
            self.finish(canonical, signed)
        };
        let mut auth = String::with_capacity(
            ALGORITHM.len() + self.access_key.len() + out.signed_headers.len() + 160,
        );
        auth.push_str(ALGORITHM);
        auth.push_str(" Credential=");
        auth.push_str(self.access_key);
        auth.push('/');
        self.push_scope(&mut auth);
        auth.push_str(", SignedHeaders=");
        auth.push_str(&out.signed_headers);
        auth.push_str(", Signature=");
        auth.push_str(&out.signature);
        let headers = req.headers_mut();
        headers.insert(AUTHORIZATION, header_value(&auth)?);
        if let (Some(token), false) = (token, self.sign_session_token) {
            headers.insert(X_AMZ_SECURITY_TOKEN, header_value(token.expose())?);
        }
        Ok(out)
    }

    /// A presigned URL for `req`, valid for `expires`; the request's headers are signed as they
    /// are (the caller of the URL must send them too).
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `expires` is zero or over 7 days.
    pub fn presign<B>(
        &self,
        req: &Request<B>,
        expires: Duration,
        payload_hash: &str,
    ) -> Result<(Uri, SigningOutput), Error> {
        if expires.is_zero() || expires > MAX_PRESIGN_EXPIRY {
            return Err(InputError::argument("expires", "must be 1 second to 7 days").into());
        }
        let host = host_of(req)?;
        let mut extra: Vec<(&str, String)> = vec![
            ("X-Amz-Algorithm", ALGORITHM.to_owned()),
            (
                "X-Amz-Credential",
                format!("{}/{}", self.access_key, self.scope()),
            ),
            ("X-Amz-Date", self.date.datetime().to_owned()),
            ("X-Amz-Expires", expires.as_secs().to_string()),
        ];
        let token = self.credentials.session_token();
        if let (Some(token), true) = (token, self.sign_session_token) {
            extra.push(("X-Amz-Security-Token", token.expose().to_owned()));
        }
        // Without `sign_session_token`, the token rides in the URL but outside the signature.
        let unsigned_token = token
            .filter(|_| !self.sign_session_token)
            .map(|t| ("X-Amz-Security-Token", t.expose()));
        let mut headers = self.header_list(req.headers(), Some(&host))?;
        sort_headers(&mut headers);
        let signed = signed_header_names(&headers);
        extra.push(("X-Amz-SignedHeaders", signed.clone()));
        let canonical = self.canonical_request(req, &headers, &signed, Some(&extra), payload_hash);
        let out = self.finish(canonical, signed);

        let mut query = req.uri().query().unwrap_or_default().to_owned();
        for (name, value) in extra
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .chain(unsigned_token)
            .chain([("X-Amz-Signature", out.signature.as_str())])
        {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(name);
            query.push('=');
            uri_encode_into(&mut query, value.as_bytes(), false);
        }
        let uri = with_query(req.uri(), &host, &query)?;
        Ok((uri, out))
    }

    /// `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        let mut out = String::with_capacity(40 + self.region.len() + self.service.len());
        self.push_scope(&mut out);
        out
    }

    /// Appends the credential scope to `out`.
    fn push_scope(&self, out: &mut String) {
        out.push_str(self.date.date());
        out.push('/');
        out.push_str(self.region);
        out.push('/');
        out.push_str(self.service);
        out.push_str("/aws4_request");
    }

    /// The `X-Amz-Date` / `x-amz-date` value, `20130524T000000Z`.
    pub fn amz_date(&self) -> &str {
        self.date.datetime()
    }

    /// The derived signing key for this scope (cached in the credentials).
    pub(crate) fn signing_key(&self) -> [u8; 32] {
        self.credentials
            .signing_key(&self.date.date_bytes(), self.region, self.service, || {
                derive_signing_key(self.secret, self.date.date(), self.region, self.service)
            })
    }

    /// Signs `string_to_sign` with the scope's key: hex HMAC-SHA256.
    pub(crate) fn sign_string(&self, string_to_sign: &str) -> String {
        let mut mac = self.credentials.signing_mac(
            &self.date.date_bytes(),
            self.region,
            self.service,
            || derive_signing_key(self.secret, self.date.date(), self.region, self.service),
        );
        mac.update(string_to_sign.as_bytes());
        hex(&mac.finalize())
    }

    fn finish(&self, canonical_request: String, signed_headers: String) -> SigningOutput {
        let hash = Sha256::digest(canonical_request.as_bytes());
        let mut string_to_sign = String::with_capacity(150);
        string_to_sign.push_str(ALGORITHM);
        string_to_sign.push('\n');
        string_to_sign.push_str(self.date.datetime());
        string_to_sign.push('\n');
        self.push_scope(&mut string_to_sign);
        string_to_sign.push('\n');
        crate::sign::hex_into(&mut string_to_sign, &hash);
        let signature = self.sign_string(&string_to_sign);
        SigningOutput {
            canonical_request,
            string_to_sign,
            signature,
            signed_headers,
        }
    }

    fn header_list<'h>(
        &self,
        headers: &'h HeaderMap,
        host: Option<&'h str>,
    ) -> Result<Vec<(&'h str, &'h str)>, Error> {
        let mut list = Vec::with_capacity(headers.len() + 1);
        if let Some(host) = host {
            if !headers.contains_key(HOST) {
                list.push(("host", host));
            }
        }
        for (name, value) in headers {
            let name = name.as_str();
            if !self.all_headers && UNSIGNED_HEADERS.contains(&name) {
                continue;
            }
            let value =
                std::str::from_utf8(value.as_bytes()).map_err(|_| InputError::InvalidHeader {
                    name: name.to_owned(),
                })?;
            list.push((name, value));
        }
        Ok(list)
    }

    /// The canonical request over `headers` (sorted by name; `signed` lists their names).
    fn canonical_request<B>(
        &self,
        req: &Request<B>,
        headers: &[(&str, &str)],
        signed: &str,
        extra_query: Option<&[(&str, String)]>,
        payload_hash: &str,
    ) -> String {
        let path = req.uri().path();
        let query_len = req.uri().query().map_or(0, str::len)
            + extra_query.map_or(0, |e| {
                e.iter().map(|(n, v)| n.len() + v.len() * 3 + 2).sum()
            });
        let headers_len: usize = headers.iter().map(|(n, v)| 2 * n.len() + v.len() + 3).sum();
        // Room for everything, encoding included, so the string is allocated once.
        let mut out = String::with_capacity(
            16 + 3 * path.len() + 3 * query_len + headers_len + payload_hash.len(),
        );
        out.push_str(req.method().as_str());
        out.push('\n');
        canonical_path_into(&mut out, if path.is_empty() { "/" } else { path });
        out.push('\n');
        canonical_query_into(&mut out, req.uri().query(), extra_query);
        out.push('\n');
        let mut i = 0;
        while i < headers.len() {
            let name = headers[i].0;
            out.push_str(name);
            out.push(':');
            let mut first = true;
            while i < headers.len() && headers[i].0 == name {
                if !first {
                    out.push(',');
                }
                push_trimmed(&mut out, headers[i].1);
                first = false;
                i += 1;
            }
            out.push('\n');
        }
        out.push('\n');
        out.push_str(signed);
        out.push('\n');
        out.push_str(payload_hash);
        out
    }
}

/// Derives the SigV4 signing key: HMAC chain over date, region, service and `aws4_request`.
pub fn derive_signing_key(secret: &Secret, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k = Vec::with_capacity(4 + secret.expose().len());
    k.extend_from_slice(b"AWS4");
    k.extend_from_slice(secret.expose().as_bytes());
    let k_date = hmac(&k, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed_mac(key);
    mac.update(data);
    mac.finalize().into()
}

/// An HMAC-SHA256 keyed with `key`, ready for data.
pub(crate) fn keyed_mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new(key)
}

fn sort_headers(headers: &mut [(&str, &str)]) {
    // Stable: values of a repeated header keep their order.
    headers.sort_by(|a, b| a.0.cmp(b.0));
}

fn signed_header_names(headers: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(headers.len() * 16);
    for (i, (name, _)) in headers.iter().enumerate() {
        if i > 0 && headers[i - 1].0 == *name {
            continue;
        }
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(name);
    }
    out
}

/// Appends `value` trimmed, with inner runs of whitespace collapsed to one space.
fn push_trimmed(out: &mut String, value: &str) {
    // Most values have nothing to trim or collapse: copy them whole.
    if !value.bytes().any(|b| b <= b' ') {
        out.push_str(value);
        return;
    }
    let mut space = false;
    for part in value.split([' ', '\t', '\n', '\r']) {
        if part.is_empty() {
            continue;
        }
        if space {
            out.push(' ');
        }
        out.push_str(part);
        space = true;
    }
}

/// Appends the canonical query: each name and value decoded then encoded once, sorted by
/// encoded name, then value.
fn canonical_query_into(out: &mut String, query: Option<&str>, extra: Option<&[(&str, String)]>) {
    let query = query.unwrap_or_default();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        let mut n = String::with_capacity(name.len());
        uri_encode_into(&mut n, &percent_decode(name, false), false);
        let mut v = String::with_capacity(value.len());
        uri_encode_into(&mut v, &percent_decode(value, false), false);
        pairs.push((n, v));
    }
    for (name, value) in extra.unwrap_or_default() {
        let mut v = String::with_capacity(value.len() + 8);
        uri_encode_into(&mut v, value.as_bytes(), false);
        pairs.push(((*name).to_owned(), v));
    }
    pairs.sort_unstable();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
}

fn header_value(s: &str) -> Result<HeaderValue, InputError> {
    HeaderValue::from_str(s).map_err(|_| InputError::InvalidHeader {
        name: "(signature header)".to_owned(),
    })
}

fn host_of<B>(req: &Request<B>) -> Result<String, InputError> {
    if let Some(host) = req.headers().get(HOST) {
        return host
            .to_str()
            .map(str::to_owned)
            .map_err(|_| InputError::InvalidHeader {
                name: "host".to_owned(),
            });
    }
    req.uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .ok_or_else(|| InputError::argument("uri", "has no host"))
}

pub(crate) fn ensure_host<B>(req: &mut Request<B>) -> Result<(), InputError> {
    if !req.headers().contains_key(HOST) {
        let authority = req
            .uri()
            .authority()
            .ok_or_else(|| InputError::argument("uri", "has no host"))?;
        let host = header_value(authority.as_str())?;
        req.headers_mut().insert(HOST, host);
    }
    Ok(())
}

fn with_query(uri: &Uri, host: &str, query: &str) -> Result<Uri, InputError> {
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map_or(host, |a| a.as_str());
    let path = if uri.path().is_empty() {
        "/"
    } else {
        uri.path()
    };
    format!("{scheme}://{authority}{path}?{query}")
        .parse()
        .map_err(|_| InputError::argument("uri", "presigned URL is not a valid URI"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canonical(query: &str) -> String {
        let mut out = String::new();
        canonical_query_into(&mut out, Some(query), None);
        out
    }

    #[test]
    fn canonical_query_examples() {
        assert_eq!(canonical(""), "");
        assert_eq!(canonical("acl"), "acl=");
        assert_eq!(canonical("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(
            canonical("prefix=a%20b&max-keys=2"),
            "max-keys=2&prefix=a%20b"
        );
        // Already-encoded input is decoded first, so every byte is encoded exactly once.
        assert_eq!(canonical("k=%7E%2b+"), "k=~%2B%2B");
    }

    #[test]
    fn debug_redacts_the_session_token() {
        let text = "GET\n/\nX-Amz-Security-Token=abc%2F&a=1\nhost:h\nx-amz-security-token:abc/\n";
        let redacted = redact_token(text);
        assert!(!redacted.contains("abc"), "{redacted}");
        assert!(redacted.contains("a=1") && redacted.contains("host:h"));
    }

    proptest! {
        /// The canonical query is sorted by encoded name then value, whatever order the
        /// parameters came in, and each parameter appears once per occurrence.
        #[test]
        fn canonical_query_is_sorted_and_order_free(
            pairs in proptest::collection::vec((".{0,8}", ".{0,8}"), 0..8),
            seed in any::<u64>(),
        ) {
            let encode = |s: &str| crate::sign::encode::uri_encode(s, false).into_owned();
            let query = |ps: &[(String, String)]| {
                ps.iter()
                    .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
                    .collect::<Vec<_>>()
                    .join("&")
            };
            let named: Vec<(String, String)> =
                pairs.into_iter().filter(|(n, _)| !n.is_empty()).collect();
            let mut shuffled = named.clone();
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let j = usize::try_from(s % (i as u64 + 1)).unwrap();
                shuffled.swap(i, j);
            }
            let a = canonical(&query(&named));
            prop_assert_eq!(&a, &canonical(&query(&shuffled)));
            let mut expected: Vec<(String, String)> =
                named.iter().map(|(n, v)| (encode(n), encode(v))).collect();
            expected.sort();
            let expected: Vec<String> = expected.iter().map(|(n, v)| format!("{n}={v}")).collect();
            prop_assert_eq!(a, expected.join("&"));
        }
    }
}
