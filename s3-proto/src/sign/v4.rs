//! AWS Signature Version 4 with S3's rules: no path normalisation, each path byte encoded once.
//!
//! Reference: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>

use std::fmt;
use std::time::{Duration, SystemTime};

use super::hmac::Hmac;
use http::header::{AUTHORIZATION, HOST, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{HeaderMap, Request, Uri};
use sha2::{Digest, Sha256};

use bytes::Bytes;

use super::encode::{canonical_encode_into, canonical_path_into, is_unreserved, uri_encode_into};
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
///
/// One buffer holds the canonical request, the string to sign and the signature one after
/// another (signing allocates it once); the accessors return the pieces.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningOutput {
    buf: String,
    /// `buf[..canonical_end]` is the canonical request.
    canonical_end: usize,
    /// `buf[canonical_end..sts_end]` is the string to sign, `buf[sts_end..]` the signature.
    sts_end: usize,
    /// Where the `SignedHeaders` list sits inside the canonical request.
    signed: std::ops::Range<usize>,
}

impl SigningOutput {
    /// The canonical request, as hashed.
    pub fn canonical_request(&self) -> &str {
        self.buf.get(..self.canonical_end).unwrap_or_default()
    }

    /// The string to sign.
    pub fn string_to_sign(&self) -> &str {
        self.buf
            .get(self.canonical_end..self.sts_end)
            .unwrap_or_default()
    }

    /// The signature, lower-case hex.
    pub fn signature(&self) -> &str {
        self.buf.get(self.sts_end..).unwrap_or_default()
    }

    /// The `SignedHeaders` list.
    pub fn signed_headers(&self) -> &str {
        self.buf.get(self.signed.clone()).unwrap_or_default()
    }
}

impl fmt::Debug for SigningOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature authorises the request it belongs to; keep it out of logs.
        f.debug_struct("SigningOutput")
            .field("canonical_request", &redact_token(self.canonical_request()))
            .field("string_to_sign", &self.string_to_sign())
            .field("signed_headers", &self.signed_headers())
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
        let token = self.credentials.session_token();
        let signed_token = token.filter(|_| self.sign_session_token);
        // The canonical request is built before the headers are added: the values this signer
        // sets are listed as they are, not read back from the map.
        let (out, add_host) = {
            let headers = req.headers();
            let host = if headers.contains_key(HOST) {
                None
            } else {
                Some(authority_of(req)?)
            };
            let mut list = HeaderList::new(("", ""));
            list.extend(host.map(|h| ("host", h)));
            list.push(("x-amz-date", self.date.datetime()));
            if self.content_sha256_header {
                list.push(("x-amz-content-sha256", payload_hash));
            }
            list.extend(signed_token.map(|t| ("x-amz-security-token", t.expose())));
            // Replaced by the values above (an old Authorization is never signed).
            let replaced = |name: &str| match name {
                "authorization" | "x-amz-date" => true,
                "x-amz-content-sha256" => self.content_sha256_header,
                "x-amz-security-token" => signed_token.is_some(),
                _ => false,
            };
            self.header_list(headers, &mut list, replaced)?;
            let sorted = sort_headers(&mut list);
            let canonical = self.canonical_request(req, sorted, None, payload_hash);
            (self.finish(canonical), host.is_some())
        };
        let signed = out.signed_headers();
        let parts = [
            ALGORITHM,
            " Credential=",
            self.access_key,
            "/",
            self.date.date(),
            "/",
            self.region,
            "/",
            self.service,
            "/aws4_request, SignedHeaders=",
            signed,
            ", Signature=",
            out.signature(),
        ];
        // Exactly sized, so the header value takes the buffer over without a copy.
        let mut auth = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            auth.extend_from_slice(part.as_bytes());
        }
        let auth = HeaderValue::from_maybe_shared(Bytes::from(auth)).map_err(|_| {
            InputError::InvalidHeader {
                name: "authorization".to_owned(),
            }
        })?;
        let host = if add_host {
            Some(header_value(authority_of(req)?)?)
        } else {
            None
        };
        let headers = req.headers_mut();
        // host, x-amz-date, x-amz-content-sha256, the token and authorization: one growth.
        headers.reserve(5);
        if let Some(host) = host {
            headers.insert(HOST, host);
        }
        headers.insert(X_AMZ_DATE, header_value(self.date.datetime())?);
        if self.content_sha256_header {
            headers.insert(X_AMZ_CONTENT_SHA256, payload_hash_value(payload_hash)?);
        }
        if let Some(token) = token {
            headers.insert(X_AMZ_SECURITY_TOKEN, header_value(token.expose())?);
        }
        headers.insert(AUTHORIZATION, auth);
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
        let mut list = HeaderList::new(("", ""));
        if !req.headers().contains_key(HOST) {
            list.push(("host", host));
        }
        self.header_list(req.headers(), &mut list, |_| false)?;
        let headers = sort_headers(&mut list);

        // The URL's path and query: the request's own query, then the signing parameters,
        // encoded as SigV4 encodes them (so the signed and the sent forms agree); the
        // signature comes last.
        let path = match req.uri().path() {
            "" => "/",
            path => path,
        };
        let own = req.uri().query().unwrap_or_default();
        let token = self.credentials.session_token();
        let mut url = String::with_capacity(
            path.len()
                + own.len()
                + 3 * (self.access_key.len() + token.map_or(0, |t| t.expose().len()))
                + headers.iter().map(|(n, _)| n.len() + 3).sum::<usize>()
                + 330,
        );
        url.push_str(path);
        url.push('?');
        let query_start = url.len();
        url.push_str(own);
        // Starts parameter `name` and returns the buffer for its value.
        let param = |url: &mut String, name: &str| {
            if url.len() > query_start {
                url.push('&');
            }
            url.push_str(name);
            url.push('=');
        };
        // In the order SigV4 sorts them: with no query of its own, the canonical query is
        // this string as it is (see `canonical_query_into`).
        param(&mut url, "X-Amz-Algorithm");
        url.push_str(ALGORITHM);
        param(&mut url, "X-Amz-Credential");
        uri_encode_into(&mut url, self.access_key.as_bytes(), false);
        for part in [self.date.date(), self.region, self.service, "aws4_request"] {
            url.push_str("%2F");
            uri_encode_into(&mut url, part.as_bytes(), false);
        }
        param(&mut url, "X-Amz-Date");
        url.push_str(self.date.datetime());
        param(&mut url, "X-Amz-Expires");
        url.push_str(itoa(expires.as_secs(), &mut [0; 20]));
        if let (Some(token), true) = (token, self.sign_session_token) {
            param(&mut url, "X-Amz-Security-Token");
            uri_encode_into(&mut url, token.expose().as_bytes(), false);
        }
        param(&mut url, "X-Amz-SignedHeaders");
        for (i, name) in unique_names(headers).enumerate() {
            if i > 0 {
                url.push_str("%3B");
            }
            uri_encode_into(&mut url, name.as_bytes(), false);
        }
        let query = url.get(query_start..).unwrap_or_default();
        let query = Some((query, own.len()));
        let canonical = self.canonical_request(req, headers, query, payload_hash);
        let out = self.finish(canonical);

        // Without `sign_session_token`, the token rides in the URL but outside the signature.
        if let (Some(token), false) = (token, self.sign_session_token) {
            url.push_str("&X-Amz-Security-Token=");
            uri_encode_into(&mut url, token.expose().as_bytes(), false);
        }
        url.push_str("&X-Amz-Signature=");
        url.push_str(out.signature());
        let uri = with_path_and_query(req.uri(), host, url)?;
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
        let mut out = String::with_capacity(64);
        crate::sign::hex_into(&mut out, &self.mac(string_to_sign.as_bytes()));
        out
    }

    /// HMAC-SHA256 of `data` with the scope's key.
    fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = self.credentials.signing_mac(
            &self.date.date_bytes(),
            self.region,
            self.service,
            || derive_signing_key(self.secret, self.date.date(), self.region, self.service),
        );
        mac.update(data);
        mac.finalize().into()
    }

    /// Hashes the canonical request, then appends the string to sign and the signature to the
    /// same buffer.
    fn finish(&self, canonical: Canonical) -> SigningOutput {
        let Canonical { mut buf, signed } = canonical;
        let hash = Sha256::digest(buf.as_bytes());
        let canonical_end = buf.len();
        buf.push_str(ALGORITHM);
        buf.push('\n');
        buf.push_str(self.date.datetime());
        buf.push('\n');
        self.push_scope(&mut buf);
        buf.push('\n');
        crate::sign::hex_into(&mut buf, &hash);
        let sts_end = buf.len();
        let signature = self.mac(buf.as_bytes().get(canonical_end..).unwrap_or_default());
        crate::sign::hex_into(&mut buf, &signature);
        SigningOutput {
            buf,
            canonical_end,
            sts_end,
            signed,
        }
    }

    /// Adds the request's headers to sign to `list` (unsorted), but those `replaced`.
    fn header_list<'h>(
        &self,
        headers: &'h HeaderMap,
        list: &mut HeaderList<'h>,
        replaced: impl Fn(&str) -> bool,
    ) -> Result<(), Error> {
        for (name, value) in headers {
            let name = name.as_str();
            if (!self.all_headers && is_unsigned(name)) || replaced(name) {
                continue;
            }
            let value =
                std::str::from_utf8(value.as_bytes()).map_err(|_| InputError::InvalidHeader {
                    name: name.to_owned(),
                })?;
            list.push((name, value));
        }
        Ok(())
    }

    /// The canonical request over `headers` (sorted by name), in a buffer with room for the
    /// string to sign and the signature after it. `query` replaces the URI's query when given,
    /// with the length of its part that may not be canonical yet.
    fn canonical_request<B>(
        &self,
        req: &Request<B>,
        headers: &[(&str, &str)],
        query: Option<(&str, usize)>,
        payload_hash: &str,
    ) -> Canonical {
        let path = req.uri().path();
        let (query, own_len) = query.unwrap_or_else(|| {
            let own = req.uri().query().unwrap_or_default();
            (own, own.len())
        });
        let headers_len: usize = headers.iter().map(|(n, v)| 2 * n.len() + v.len() + 3).sum();
        let string_to_sign =
            ALGORITHM.len() + 16 + 26 + self.region.len() + self.service.len() + 3 + 64;
        // Room for everything, encoding and signature included, so it is allocated once.
        let mut out = String::with_capacity(
            16 + 3 * path.len()
                + 3 * query.len()
                + headers_len
                + payload_hash.len()
                + string_to_sign
                + 64,
        );
        out.push_str(req.method().as_str());
        out.push('\n');
        canonical_path_into(&mut out, if path.is_empty() { "/" } else { path });
        out.push('\n');
        canonical_query_into(&mut out, query, own_len);
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
        let start = out.len();
        for (i, name) in unique_names(headers).enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(name);
        }
        let signed = start..out.len();
        out.push('\n');
        out.push_str(payload_hash);
        Canonical { buf: out, signed }
    }
}

/// A canonical request being signed: the buffer and where its `SignedHeaders` list is.
struct Canonical {
    buf: String,
    signed: std::ops::Range<usize>,
}

/// A short list on the stack that moves to the heap past `N` items: a request has a handful
/// of headers and query parameters.
struct SmallList<T, const N: usize> {
    inline: [T; N],
    len: usize,
    spill: Vec<T>,
}

impl<T: Copy, const N: usize> SmallList<T, N> {
    /// An empty list; `fill` only initialises the unused slots.
    fn new(fill: T) -> Self {
        SmallList {
            inline: [fill; N],
            len: 0,
            spill: Vec::new(),
        }
    }

    fn push(&mut self, item: T) {
        if self.spill.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = item;
                self.len += 1;
                return;
            }
            self.spill.reserve(2 * N);
            self.spill.extend_from_slice(&self.inline);
        }
        self.spill.push(item);
    }

    fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.push(item);
        }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        if self.spill.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.spill[..]
        }
    }
}

/// Headers to sign, as (name, value).
type HeaderList<'h> = SmallList<(&'h str, &'h str), 16>;

/// Sorts `headers` by name; values of a repeated header keep their order (stable sort).
fn sort_headers<'a, 'h>(headers: &'a mut HeaderList<'h>) -> &'a [(&'h str, &'h str)] {
    let list = headers.as_mut_slice();
    list.sort_by(|a, b| a.0.cmp(b.0));
    list
}

/// The names of sorted `headers`, each once.
fn unique_names<'a>(headers: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .enumerate()
        .filter(|(i, (name, _))| *i == 0 || headers[*i - 1].0 != *name)
        .map(|(_, (name, _))| *name)
}

/// True for headers that proxies and HTTP stacks add or rewrite, so they are never signed by
/// default.
fn is_unsigned(name: &str) -> bool {
    matches!(
        name,
        "authorization"
            | "connection"
            | "expect"
            | "keep-alive"
            | "proxy-authorization"
            | "te"
            | "transfer-encoding"
            | "upgrade"
            | "user-agent"
            | "x-amzn-trace-id"
    )
}

/// The decimal digits of `n`, written into `buf`.
fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
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

/// Appends `value` trimmed, with inner runs of whitespace collapsed to one space.
fn push_trimmed(out: &mut String, value: &str) {
    // Most values have nothing to trim or collapse: copy them whole. (A fold, not `any`: with
    // no early exit the scan is vectorised.)
    if !value.bytes().fold(false, |seen, b| seen | (b <= b' ')) {
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
///
/// Only `query[..own]` may need re-encoding: the rest (the parameters a presigned URL adds) is
/// canonical already, and in order.
fn canonical_query_into(out: &mut String, query: &str, own: usize) {
    if own == 0 {
        // Nothing but the presigning parameters (or nothing at all): already canonical.
        out.push_str(query);
        return;
    }
    // (name start, name end, value start, value end) of each pair, in `source`.
    let mut pairs = SmallList::<[usize; 4], 16>::new([0; 4]);
    let mut scratch = String::new();
    let pieces = query.split('&').filter(|p| !p.is_empty());
    let unchecked = query.get(..own).unwrap_or(query);
    // Queries this crate builds are already canonical: sort their pieces where they are.
    let source = if unchecked
        .split('&')
        .all(|p| p.is_empty() || is_canonical(p.as_bytes()))
    {
        let mut at = 0;
        for piece in query.split('&') {
            if !piece.is_empty() {
                let end = at + piece.len();
                pairs.push(match piece.find('=') {
                    Some(eq) => [at, at + eq, at + eq + 1, end],
                    None => [at, end, end, end],
                });
            }
            at += piece.len() + 1;
        }
        query
    } else {
        scratch.reserve(query.len() + query.len() / 2);
        for piece in pieces {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let start = scratch.len();
            canonical_encode_into(&mut scratch, name, false);
            let name_end = scratch.len();
            canonical_encode_into(&mut scratch, value, false);
            pairs.push([start, name_end, name_end, scratch.len()]);
        }
        &scratch
    };
    let part = |p: &[usize; 4]| {
        (
            source.get(p[0]..p[1]).unwrap_or_default(),
            source.get(p[2]..p[3]).unwrap_or_default(),
        )
    };
    let pairs = pairs.as_mut_slice();
    pairs.sort_unstable_by(|a, b| part(a).cmp(&part(b)));
    for (i, p) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (name, value) = part(p);
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
}

/// True when `component` is already in canonical form: unreserved bytes and `%XX` (upper-case
/// hex) of bytes that must stay encoded; `=` separates a name from its value.
fn is_canonical(component: &[u8]) -> bool {
    let mut i = 0;
    let mut seen_eq = false;
    while let Some(&b) = component.get(i) {
        if is_unreserved(b) || (b == b'=' && !std::mem::replace(&mut seen_eq, true)) {
            i += 1;
            continue;
        }
        let upper = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
        match (b, component.get(i + 1), component.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) if upper(hi) && upper(lo) => {
                let digit = |d: u8| if d <= b'9' { d - b'0' } else { d - b'A' + 10 };
                if is_unreserved(digit(hi) << 4 | digit(lo)) {
                    return false;
                }
                i += 3;
            }
            _ => return false,
        }
    }
    true
}

fn header_value(s: &str) -> Result<HeaderValue, InputError> {
    HeaderValue::from_str(s).map_err(|_| InputError::InvalidHeader {
        name: "(signature header)".to_owned(),
    })
}

/// The `x-amz-content-sha256` value; the usual constants need no copy.
fn payload_hash_value(hash: &str) -> Result<HeaderValue, InputError> {
    Ok(match hash {
        EMPTY_SHA256 => HeaderValue::from_static(EMPTY_SHA256),
        UNSIGNED_PAYLOAD => HeaderValue::from_static(UNSIGNED_PAYLOAD),
        STREAMING_PAYLOAD => HeaderValue::from_static(STREAMING_PAYLOAD),
        other => header_value(other)?,
    })
}

fn host_of<B>(req: &Request<B>) -> Result<&str, InputError> {
    if let Some(host) = req.headers().get(HOST) {
        return host.to_str().map_err(|_| InputError::InvalidHeader {
            name: "host".to_owned(),
        });
    }
    authority_of(req)
}

/// The URI's authority, the `host` a request without one is sent with.
fn authority_of<B>(req: &Request<B>) -> Result<&str, InputError> {
    req.uri()
        .authority()
        .map(http::uri::Authority::as_str)
        .ok_or_else(|| InputError::argument("uri", "has no host"))
}

pub(crate) fn ensure_host<B>(req: &mut Request<B>) -> Result<(), InputError> {
    if !req.headers().contains_key(HOST) {
        let host = header_value(authority_of(req)?)?;
        req.headers_mut().insert(HOST, host);
    }
    Ok(())
}

/// `uri` with `path_and_query` (and `host` as authority when it has none).
fn with_path_and_query(uri: &Uri, host: &str, path_and_query: String) -> Result<Uri, InputError> {
    let invalid = || InputError::argument("uri", "presigned URL is not a valid URI");
    if uri.scheme().is_some() && uri.authority().is_some() {
        // Reuse the scheme and authority; the buffer becomes the path and query uncopied.
        let mut parts = uri.clone().into_parts();
        let pq = PathAndQuery::from_maybe_shared(Bytes::from(path_and_query));
        parts.path_and_query = Some(pq.map_err(|_| invalid())?);
        return Uri::from_parts(parts).map_err(|_| invalid());
    }
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority().map_or(host, |a| a.as_str());
    format!("{scheme}://{authority}{path_and_query}")
        .parse()
        .map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canonical(query: &str) -> String {
        let mut out = String::new();
        canonical_query_into(&mut out, query, query.len());
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
        // Sorted by name, then value: `a` sorts before `a-b` although `-` < `=`.
        assert_eq!(canonical("a-b=1&a=2&a"), "a=&a=2&a-b=1");
        assert_eq!(canonical("a=b=c&=x"), "=x&a=b%3Dc");
        assert!(is_canonical(b"X-Amz-Credential=AK%2F2013") && !is_canonical(b"k=%2f"));
        assert!(!is_canonical(b"k=%7E") && !is_canonical(b"k=a=b") && !is_canonical(b"k=%2"));
    }

    #[test]
    fn presign_parameters_are_written_in_canonical_order() {
        let creds = Credentials::new("AK", "SK").with_session_token("to/ken+=");
        let req = Request::get("https://b.s3.amazonaws.com/k")
            .body(())
            .unwrap();
        let (uri, _) = SigV4::new(&creds, "us-east-1", "s3", std::time::UNIX_EPOCH)
            .unwrap()
            .presign(&req, Duration::from_secs(60), UNSIGNED_PAYLOAD)
            .unwrap();
        let query = uri.query().unwrap();
        let signed = query.split("&X-Amz-Signature=").next().unwrap();
        let mut out = String::new();
        canonical_query_into(&mut out, signed, 0);
        assert_eq!(out, canonical(signed));
    }

    #[test]
    fn debug_redacts_the_session_token() {
        let text = "GET\n/\nX-Amz-Security-Token=abc%2F&a=1\nhost:h\nx-amz-security-token:abc/\n";
        let redacted = redact_token(text);
        assert!(!redacted.contains("abc"), "{redacted}");
        assert!(redacted.contains("a=1") && redacted.contains("host:h"));
    }

    proptest! {
        /// A canonical query is its own canonical form: the path for queries that are already
        /// canonical (sorted where they are) agrees with the path that re-encodes every pair.
        #[test]
        fn canonical_query_is_idempotent(query in "[a-zA-Z0-9%=&+~/ _.-]{0,40}") {
            let once = canonical(&query);
            prop_assert_eq!(canonical(&once), once.clone());
            // Pieces were already in order: the output is also the input's sorted re-encoding.
            prop_assert!(once.split('&').all(|p| is_canonical(p.as_bytes())));
        }
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
