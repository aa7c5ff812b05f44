//! Request bodies going out, and responses coming back, as plain values.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

/// The body of a prepared request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A body held in memory; signed with its SHA-256 unless the config says otherwise.
    Bytes(Bytes),
    /// A body the runtime streams from the caller's source (a file, a reader): proto never
    /// sees the bytes, only the length when it is known.
    Stream {
        /// Exact length in bytes, when known up front.
        length: Option<u64>,
    },
}

impl Body {
    /// The body's length, when known.
    pub fn len(&self) -> Option<u64> {
        match self {
            Body::Empty => Some(0),
            Body::Bytes(b) => Some(b.len() as u64),
            Body::Stream { length } => *length,
        }
    }

    /// True for a known-empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The in-memory bytes, if this body is held in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Empty => Some(&[]),
            Body::Bytes(b) => Some(b),
            Body::Stream { .. } => None,
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::Bytes(v.into())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Bytes(s.into())
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::Bytes(Bytes::from_static(s))
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Bytes(b)
    }
}

/// How the payload is covered by a SigV4 signature.
///
/// An operation may put one in the request's extensions to override the config's choice
/// (a caller-computed hash for a streamed body, or aws-chunked streaming).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadHash {
    /// The hex SHA-256 of the body.
    Sha256(String),
    /// `UNSIGNED-PAYLOAD`: the body is not covered (fine over TLS).
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: each aws-chunked chunk carries a signature.
    Streaming,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, then a signed checksum
    /// trailer.
    StreamingTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: plain chunks, then a checksum trailer.
    UnsignedTrailer,
}

impl PayloadHash {
    /// The `x-amz-content-sha256` value.
    pub fn as_str(&self) -> &str {
        match self {
            PayloadHash::Sha256(h) => h,
            PayloadHash::Unsigned => crate::sign::UNSIGNED_PAYLOAD,
            PayloadHash::Streaming => crate::sign::STREAMING_PAYLOAD,
            PayloadHash::StreamingTrailer => crate::sign::chunked::STREAMING_PAYLOAD_TRAILER,
            PayloadHash::UnsignedTrailer => {
                crate::sign::chunked::STREAMING_UNSIGNED_PAYLOAD_TRAILER
            }
        }
    }
}

/// How a runtime treats a successful response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyMode {
    /// Read it whole (up to the runtime's limit) and hand it to `parse`.
    Buffered,
    /// Hand `parse` the status and headers only, and the body to the caller as a stream.
    Streamed,
}

/// A response as proto sees it: status, headers and (for buffered operations) the body.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body; empty for streamed operations and HEAD.
    pub body: &'a [u8],
    /// How the server that answered differs from AWS S3 (set by
    /// [`Config::finish`](crate::Config::finish); AWS's by default).
    pub quirks: crate::quirks::ServerQuirks,
}

impl<'a> Response<'a> {
    /// A response from its parts.
    pub fn new(status: StatusCode, headers: &'a HeaderMap, body: &'a [u8]) -> Self {
        Response {
            status,
            headers,
            body,
            quirks: crate::quirks::ServerQuirks::aws(),
        }
    }

    /// The response, read as coming from a server with these quirks.
    pub fn quirks(mut self, quirks: crate::quirks::ServerQuirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// A header's value as text; `None` when absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A reply's `Content-Length`, when it sent a valid one.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Sets `Content-Length` for `body` on a prepared request: for every body of known length,
/// and for an empty PUT or POST (S3 answers 411 without it).
pub fn set_content_length(parts: &mut http::request::Parts, body: &Body) {
    if let Some(len) = body.len() {
        if len > 0 || matches!(parts.method, http::Method::PUT | http::Method::POST) {
            let value = http::HeaderValue::from(len);
            parts.headers.insert(http::header::CONTENT_LENGTH, value);
        }
    }
}

/// The length of a streamed request body.
///
/// # Errors
/// [`crate::InputError`] when it is unknown: S3 needs it (or aws-chunked framing).
pub fn stream_length(length: Option<u64>) -> Result<u64, crate::Error> {
    length.ok_or_else(|| {
        crate::InputError::argument(
            "body",
            "S3 needs the length of a streamed body (or aws-chunked framing)",
        )
        .into()
    })
}

/// How many bytes of a reply's body a runtime buffers for `op`: the whole body when the
/// caller asked for a streamed operation's output at once, else the configured limit for
/// XML.
pub fn buffer_limit<O: crate::Operation + ?Sized>(
    op: &O,
    status: StatusCode,
    options: &crate::flow::request::Options,
) -> u64 {
    if status.is_success() && op.body_mode() == BodyMode::Streamed {
        u64::MAX
    } else {
        options.max_buffered_body as u64
    }
}

/// An empty buffer sized for the body `head` announces (at most 64 MiB up front, so a
/// hostile length allocates nothing large before bytes arrive).
pub fn buffer_for(head: &crate::ops::ObjectHead) -> Vec<u8> {
    let announced = head.content_length.unwrap_or(0).min(64 << 20);
    Vec::with_capacity(usize::try_from(announced).unwrap_or(0))
}

/// A body as text.
///
/// # Errors
/// [`crate::ResponseError::InvalidField`] when it is not UTF-8.
pub fn utf8(bytes: Vec<u8>) -> Result<String, crate::Error> {
    String::from_utf8(bytes).map_err(|_| crate::ResponseError::invalid("body", "not UTF-8").into())
}

/// A `Content-MD5` an upload sends: one the caller computed, or the in-memory body's,
/// computed when the request is built (on the thread that sends it, not the one that
/// planned it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentMd5 {
    /// This value (base64 of the 16-byte digest).
    Given(String),
    /// The MD5 of the request's in-memory body.
    OfBody,
}

impl ContentMd5 {
    /// The header value for `body`; `None` for [`ContentMd5::OfBody`] with a streamed body.
    pub fn value(&self, body: &Body) -> Option<String> {
        match self {
            ContentMd5::Given(v) => Some(v.clone()),
            ContentMd5::OfBody => body.as_bytes().map(crate::sign::content_md5),
        }
    }
}
