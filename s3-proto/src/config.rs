//! How operations become signed requests and responses become results: `Config` (target and
//! signing choices) with the steps a runtime calls, `prepare` and `finish`.

use std::time::{Duration, SystemTime};

use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, HeaderName, HeaderValue};
use http::{Request, Uri};

use crate::body::{Body, PayloadHash, Response};
use crate::credentials::Credentials;
use crate::endpoint::{Addressing, Endpoint, Target};
use crate::error::{Error, InputError, ServiceError};
use crate::op::Operation;
use crate::presign::PresignedRequest;
use crate::request::BucketInHost;
use crate::sign::chunked::{
    AWS_CHUNKED, ChunkedBody, ChunkedSigner, Framing, Layout, check_chunk_size,
};
use crate::sign::v2::SigV2;
use crate::sign::{self, SigV4};

/// Kept at its old path: the runtimes import it from here.
#[doc(no_inline)]
pub use crate::endpoint::loopback_uri;

const X_AMZ_DECODED_CONTENT_LENGTH: HeaderName =
    HeaderName::from_static("x-amz-decoded-content-length");

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
                quirks: crate::quirks::ServerQuirks::default(),
                checksums: crate::checksum::ChecksumPolicy::default(),
                unasked_checksums: true,
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

    /// Sets the server's quirks and the checksum policy every request built from this config
    /// follows (a session takes them from its [`Options`](crate::flow::request::Options)).
    pub fn server(
        mut self,
        quirks: crate::quirks::ServerQuirks,
        checksums: crate::checksum::ChecksumPolicy,
    ) -> Self {
        self.target.quirks = quirks;
        self.target.checksums = checksums;
        self
    }

    /// Sets the signature version.
    pub fn signature(mut self, version: SignatureVersion) -> Self {
        self.signature = version;
        self
    }

    /// Sends bodies with `UNSIGNED-PAYLOAD` instead of hashing them: in-memory bodies are not
    /// hashed and streamed ones are not signed chunk by chunk (saves a SHA-256 pass; use over
    /// TLS). A streamed body then has no integrity check of its own over plain http unless it
    /// carries a checksum trailer (servers that take one, see [`ServerQuirks`](crate::quirks::ServerQuirks)).
    pub fn unsigned_payload(mut self, yes: bool) -> Self {
        self.unsigned_payload = yes;
        self
    }

    /// True when a signed request's body is checked by its signature: SigV4 with payload
    /// hashing on (no [`Config::unsigned_payload`]) to a server that refuses a body whose
    /// SHA-256 does not match the signed one ([`ServerQuirks::checks_payload_hash`]).
    /// Uploads then need no `Content-MD5`.
    ///
    /// [`ServerQuirks::checks_payload_hash`]: crate::quirks::ServerQuirks::checks_payload_hash
    pub fn checks_payload_hashes(&self) -> bool {
        self.signature == SignatureVersion::V4
            && !self.unsigned_payload
            && self.target.quirks.checks_payload_hash
    }

    /// True when an upload's flexible checksum covers its body by itself: the endpoint is
    /// https (TLS guards the bytes in transit) and the server refuses a body whose checksum
    /// header does not match ([`ServerQuirks::checks_checksum_headers`]). A body sent with such
    /// a checksum then goes `UNSIGNED-PAYLOAD`, without a SHA-256 or `Content-MD5` pass, as the
    /// AWS SDKs send it.
    ///
    /// [`ServerQuirks::checks_checksum_headers`]: crate::quirks::ServerQuirks::checks_checksum_headers
    pub fn checksums_cover_payloads(&self) -> bool {
        self.target.checksums_cover_payloads()
    }

    /// The same config in another region (the endpoint follows when it is AWS's).
    pub fn with_region(&self, region: &str) -> Self {
        let mut c = self.clone();
        if c.target.endpoint.is_aws() && c.target.endpoint.host().starts_with("s3.") {
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
        self.sign_request(op.request(&self.target)?, credentials, now)
    }

    /// Signs a built request (not generic: one copy for every operation).
    pub(crate) fn sign_request(
        &self,
        mut req: Request<Body>,
        credentials: &Credentials,
        now: SystemTime,
    ) -> Result<Request<Body>, Error> {
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

    /// How the streamed body of a request prepared as `parts` goes as aws-chunked (see
    /// [`crate::sign::chunked::ChunkedBody`]), if at all: with a checksum trailer when the
    /// operation asked for one ([`TrailingChecksum`](crate::checksum::TrailingChecksum);
    /// unsigned chunks over TLS or anonymous, signed ones otherwise); else signed chunk by
    /// chunk with credentials, when nothing else (`Content-MD5`, a flexible checksum, a
    /// payload hash computed ahead) lets the server check the body. SigV4 only.
    pub(crate) fn streamed_framing(
        &self,
        parts: &http::request::Parts,
        credentials: &Credentials,
    ) -> Option<Framing> {
        if self.signature != SignatureVersion::V4 {
            return None;
        }
        if let Some(trailing) = parts.extensions.get::<crate::checksum::TrailingChecksum>() {
            let tls = parts.uri.scheme() == Some(&http::uri::Scheme::HTTPS);
            return Some(if tls || credentials.is_anonymous() {
                Framing::UnsignedTrailer(trailing.0)
            } else {
                Framing::SignedTrailer(trailing.0)
            });
        }
        let headers = &parts.headers;
        let hashed = matches!(parts.extensions.get(), Some(PayloadHash::Sha256(_)));
        let covered = hashed
            || headers.contains_key("content-md5")
            || crate::checksum::carries_checksum(headers);
        let signs = !credentials.is_anonymous() && !self.unsigned_payload;
        (signs && !covered).then_some(Framing::Signed)
    }

    /// Builds `op`'s request (PutObject, UploadPart) for an aws-chunked upload of
    /// `decoded_length` bytes in chunks of `chunk_size`, signs it at `now`, and returns it with the
    /// [`ChunkedSigner`] for its chunks (see [`sign::chunked`] for the framing).
    ///
    /// The request carries `Content-Encoding: aws-chunked` (before any encoding the operation set),
    /// `x-amz-decoded-content-length`, the framed `Content-Length`, and a
    /// [`Body::Stream`] of that framed length; the runtime streams the chunks the signer frames.
    ///
    /// # Errors
    /// [`Error::Input`] for anonymous credentials, a SigV2 config, a chunk size outside
    /// [`MIN_CHUNK_SIZE`](sign::chunked::MIN_CHUNK_SIZE)..=
    /// [`MAX_CHUNK_SIZE`](sign::chunked::MAX_CHUNK_SIZE), an operation whose body length is known and differs from `decoded_length`, or anything
    /// [`Config::prepare`] would refuse.
    pub fn prepare_streaming<O: Operation + ?Sized>(
        &self,
        op: &O,
        credentials: &Credentials,
        now: SystemTime,
        decoded_length: u64,
        chunk_size: usize,
    ) -> Result<(Request<Body>, ChunkedSigner), Error> {
        let (req, framing) = (op.request(&self.target)?, Framing::Signed);
        let (req, signer) =
            self.chunked_request(req, credentials, now, decoded_length, chunk_size, framing)?;
        Ok((req, signer.expect("signed framing has a signer")))
    }

    /// Builds `op`'s request (PutObject, UploadPart) for an aws-chunked upload of
    /// `decoded_length` bytes in chunks of `chunk_size` framed as `framing` says, signs it at
    /// `now` (a request with plain chunks goes unsigned for anonymous credentials), and
    /// returns it with the [`ChunkedBody`] that frames the data as the runtime reads it.
    ///
    /// Beside what [`Config::prepare_streaming`] sets, a trailer adds `x-amz-trailer` (and
    /// `x-amz-sdk-checksum-algorithm`) naming the checksum that follows the last chunk.
    ///
    /// # Errors
    /// As [`Config::prepare_streaming`]; anonymous credentials only with
    /// [`Framing::UnsignedTrailer`].
    pub fn prepare_chunked<O: Operation + ?Sized>(
        &self,
        op: &O,
        credentials: &Credentials,
        now: SystemTime,
        decoded_length: u64,
        chunk_size: usize,
        framing: Framing,
    ) -> Result<(Request<Body>, ChunkedBody), Error> {
        let req = op.request(&self.target)?;
        self.chunked_from(req, credentials, now, decoded_length, chunk_size, framing)
    }

    /// [`Config::prepare_chunked`] of a built request.
    pub(crate) fn chunked_from(
        &self,
        req: Request<Body>,
        credentials: &Credentials,
        now: SystemTime,
        decoded_length: u64,
        chunk_size: usize,
        framing: Framing,
    ) -> Result<(Request<Body>, ChunkedBody), Error> {
        let (req, signer) =
            self.chunked_request(req, credentials, now, decoded_length, chunk_size, framing)?;
        let layout = Layout {
            chunk_size,
            remaining: decoded_length,
        };
        Ok((req, ChunkedBody::framed(signer, layout, framing)?))
    }

    /// The request of [`Config::prepare_chunked`], and the chunk signer (with its layout)
    /// when chunks are signed.
    fn chunked_request(
        &self,
        mut req: Request<Body>,
        credentials: &Credentials,
        now: SystemTime,
        decoded_length: u64,
        chunk_size: usize,
        framing: Framing,
    ) -> Result<(Request<Body>, Option<ChunkedSigner>), Error> {
        check_chunk_size(chunk_size)?;
        if self.signature != SignatureVersion::V4 {
            return Err(InputError::argument("config", "aws-chunked streaming needs SigV4").into());
        }
        let signer = match credentials.is_anonymous() {
            true if !framing.is_signed() => None,
            _ => Some(SigV4::new(credentials, &self.target.region, "s3", now)?),
        };
        if let Some(len) = req.body().len() {
            if len != decoded_length && !(len == 0 && matches!(req.body(), Body::Empty)) {
                return Err(InputError::argument(
                    "decoded_length",
                    format!("is {decoded_length} but the operation's body is {len} bytes"),
                )
                .into());
            }
        }
        let encoded = framing.encoded_length(decoded_length, chunk_size);
        *req.body_mut() = Body::Stream {
            length: Some(encoded),
        };
        let headers = req.headers_mut();
        // S3 wants aws-chunked first when the object has its own encoding (sigv4-streaming.html:
        // "Content-Encoding: aws-chunked,gzip"); aws-chunked is stripped when the object is stored.
        let encoding = match headers.get(CONTENT_ENCODING).map(HeaderValue::to_str) {
            Some(Ok(other)) if !other.trim().is_empty() => format!("{AWS_CHUNKED},{other}"),
            Some(Err(_)) => {
                return Err(InputError::InvalidHeader {
                    name: "content-encoding".to_owned(),
                }
                .into());
            }
            _ => AWS_CHUNKED.to_owned(),
        };
        headers.insert(
            CONTENT_ENCODING,
            header_value(&encoding, "content-encoding")?,
        );
        headers.insert(
            X_AMZ_DECODED_CONTENT_LENGTH,
            HeaderValue::from(decoded_length),
        );
        headers.insert(CONTENT_LENGTH, HeaderValue::from(encoded));
        if let Some(algorithm) = framing.trailer() {
            let sdk = crate::checksum::SDK_ALGORITHM_HEADER;
            headers.insert(sdk, HeaderValue::from_static(algorithm.as_str()));
            let name = HeaderValue::from_static(algorithm.header_name());
            headers.insert("x-amz-trailer", name);
        }
        req.extensions_mut().insert(match framing {
            Framing::Signed => PayloadHash::Streaming,
            Framing::SignedTrailer(_) => PayloadHash::StreamingTrailer,
            Framing::UnsignedTrailer(_) => PayloadHash::UnsignedTrailer,
        });
        let Some(signer) = signer else {
            sign::v4::ensure_host(&mut req)?;
            return Ok((req, None));
        };
        let seed = signer.sign(&mut req, framing.payload_hash())?;
        let chunks = match framing.is_signed() {
            true => Some(
                ChunkedSigner::new(&signer, seed.signature())
                    .with_layout(decoded_length, chunk_size)?,
            ),
            false => None,
        };
        Ok((req, chunks))
    }

    /// A presigned URL for `op`, valid for `expires` from `now` (at most 7 days for SigV4).
    ///
    /// The URL carries the signature and, for temporary credentials, the session token: treat
    /// it as a secret. Headers the operation sets (a range, a content type, SSE) are signed and
    /// must be sent by whoever uses the URL: [`Config::presign_request`] lists them.
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
        Ok(self
            .presign_request(op, credentials, now, expires)?
            .into_parts()
            .1)
    }

    /// [`Config::presign`] with the method and the signed headers the URL must be sent with
    /// (an SSE-C key and its MD5, an SSE-KMS key id, a content type).
    ///
    /// # Errors
    /// As [`Config::presign`]; [`Error::Input`] for SSE-C over plain http (see
    /// [`crate::sse::CustomerKey::allow_http`]).
    pub fn presign_request<O: Operation + ?Sized>(
        &self,
        op: &O,
        credentials: &Credentials,
        now: SystemTime,
        expires: Duration,
    ) -> Result<PresignedRequest, Error> {
        // The body a presigned URL will carry is not known here: no checksum of this one.
        let req = if self.target.default_checksum().is_some() {
            let target = Target {
                unasked_checksums: false,
                ..self.target.clone()
            };
            op.request(&target)?
        } else {
            op.request(&self.target)?
        };
        self.presign_built(req, credentials, now, expires)
    }

    /// [`Config::presign_request`] once the operation has built its request: compiled once
    /// here, not per operation in every crate that presigns.
    fn presign_built(
        &self,
        req: Request<Body>,
        credentials: &Credentials,
        now: SystemTime,
        expires: Duration,
    ) -> Result<PresignedRequest, Error> {
        // SigV4 names the headers it signed; SigV2 signs the content ones and every x-amz-*.
        let (uri, v4_signed) =
            match self.signature {
                SignatureVersion::V4 => {
                    let (uri, out) = SigV4::new(credentials, &self.target.region, "s3", now)?
                        .presign(&req, expires, sign::UNSIGNED_PAYLOAD)?;
                    (uri, Some(out.signed_headers().to_owned()))
                }
                SignatureVersion::V2 => {
                    let bucket = req.extensions().get::<BucketInHost>().map(|b| b.0.as_str());
                    let uri = SigV2::new(credentials, now)?.presign(&req, now + expires, bucket)?;
                    (uri, None)
                }
            };
        let signed = |n: &str| match &v4_signed {
            Some(list) => list.split(';').any(|s| s == n),
            None => n == "content-md5" || n == "content-type" || n.starts_with("x-amz-"),
        };
        let mut headers = req
            .headers()
            .iter()
            .filter(|(n, _)| *n != http::header::HOST && signed(n.as_str()))
            .map(|(n, v)| {
                let v = v.to_str().map_err(|_| InputError::InvalidHeader {
                    name: n.as_str().to_owned(),
                })?;
                Ok((n.as_str().to_owned(), v.to_owned()))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        headers.sort();
        Ok(PresignedRequest::new(req.method().clone(), uri, headers))
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
        finish(op, response.quirks(self.target.quirks))
    }

    fn payload_hash(&self, req: &Request<Body>) -> PayloadHash {
        if let Some(hash) = req.extensions().get::<PayloadHash>() {
            return hash.clone();
        }
        match req.body() {
            Body::Empty => PayloadHash::Sha256(sign::EMPTY_SHA256.to_owned()),
            Body::Bytes(_) if self.unsigned_payload => PayloadHash::Unsigned,
            Body::Bytes(_)
                if self.checksums_cover_payloads()
                    && crate::checksum::carries_checksum(req.headers()) =>
            {
                PayloadHash::Unsigned
            }
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

fn header_value(value: &str, name: &str) -> Result<HeaderValue, InputError> {
    HeaderValue::from_str(value).map_err(|_| InputError::InvalidHeader {
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::PutObject;
    use crate::sign::chunked::{MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};

    fn creds() -> Credentials {
        Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
    }

    fn time() -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(1_369_353_600)
    }

    #[test]
    fn payload_hashes_are_checked_only_when_signed_and_the_server_checks_them() {
        use crate::checksum::ChecksumPolicy;
        use crate::quirks::ServerQuirks;
        let config = Config::new("http://127.0.0.1:7480", "us-east-1").unwrap();
        let with = |quirks| config.clone().server(quirks, ChecksumPolicy::default());
        assert!(config.checks_payload_hashes());
        assert!(with(ServerQuirks::ceph()).checks_payload_hashes());
        assert!(with(ServerQuirks::s3s()).checks_payload_hashes());
        assert!(!with(ServerQuirks::moto()).checks_payload_hashes());
        assert!(!with(ServerQuirks::localstack()).checks_payload_hashes());
        assert!(
            !config
                .clone()
                .unsigned_payload(true)
                .checks_payload_hashes()
        );
        let v2 = config.clone().signature(SignatureVersion::V2);
        assert!(!v2.checks_payload_hashes());
        let anonymous = crate::flow::request::Session::new(
            config.clone(),
            Credentials::anonymous(),
            crate::flow::request::Options::default(),
        );
        assert!(!anonymous.checks_payload_hashes());
        let signed = crate::flow::request::Session::new(
            config,
            creds(),
            crate::flow::request::Options::default(),
        );
        assert!(signed.checks_payload_hashes());
    }

    #[test]
    fn prepare_streaming_refusals() {
        let config = Config::new("http://127.0.0.1:7480", "us-east-1").unwrap();
        let bucket = "bucket".parse().unwrap();
        let key: crate::ObjectKey = "k".parse().unwrap();
        let stream = PutObject::new(bucket, key.clone(), Body::Stream { length: Some(10) });
        let creds = creds();
        let t = time();
        assert!(
            config
                .prepare_streaming(&stream, &creds, t, 10, MIN_CHUNK_SIZE - 1)
                .is_err()
        );
        assert!(
            config
                .prepare_streaming(&stream, &creds, t, 10, MAX_CHUNK_SIZE + 1)
                .is_err()
        );
        assert!(
            config
                .prepare_streaming(&stream, &creds, t, 11, MIN_CHUNK_SIZE)
                .is_err()
        );
        assert!(
            config
                .prepare_streaming(&stream, &Credentials::anonymous(), t, 10, MIN_CHUNK_SIZE)
                .is_err()
        );
        let v2 = config.clone().signature(SignatureVersion::V2);
        assert!(
            v2.prepare_streaming(&stream, &creds, t, 10, MIN_CHUNK_SIZE)
                .is_err()
        );
        let (req, _) = config
            .prepare_streaming(&stream, &creds, t, 10, MIN_CHUNK_SIZE)
            .unwrap();
        assert_eq!(
            req.body().len(),
            Some(crate::sign::chunked::encoded_length(10, MIN_CHUNK_SIZE))
        );
    }

    #[test]
    fn object_encoding_follows_aws_chunked() {
        let config = Config::new("http://127.0.0.1:7480", "us-east-1").unwrap();
        let op = PutObject::new(
            "bucket".parse().unwrap(),
            "k".parse().unwrap(),
            Body::Stream { length: None },
        )
        .content_encoding("gzip");
        let (req, _) = config
            .prepare_streaming(&op, &creds(), time(), 0, MIN_CHUNK_SIZE)
            .unwrap();
        assert_eq!(req.headers()["content-encoding"], "aws-chunked,gzip");
        assert_eq!(req.headers()["content-length"], "86");
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
