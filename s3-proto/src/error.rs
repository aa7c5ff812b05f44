//! The one error type shared by every s3-rs crate, grouped by who is at fault.

use std::borrow::Cow;
use std::fmt;

use http::{HeaderMap, StatusCode};

use crate::xml::XmlReader;

/// Everything that can go wrong, grouped by who is at fault.
///
/// `Service`: S3 answered and said no. `Response`: the reply could not be understood (malformed,
/// truncated, oversized). `Input`: the caller asked for something invalid before anything was sent.
/// `Transport`: the network failed; only runtimes build it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an S3 error.
    Service(Box<ServiceError>),
    /// The server's reply was malformed, truncated or too large.
    Response(ResponseError),
    /// The request was invalid before it was sent.
    Input(InputError),
    /// The connection failed, timed out or was cut (built by runtimes).
    Transport(TransportError),
    /// No credentials could be obtained: none configured, or a provider failed.
    Credentials(Box<crate::credentials::CredentialsError>),
}

impl Error {
    /// The S3 error, when the server answered with one.
    pub fn as_service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The S3 error code, when the server answered with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.as_service().map(|e| &e.code)
    }

    /// True when the bucket or key does not exist (`NoSuchKey`, `NoSuchBucket`, a bodyless 404).
    pub fn is_not_found(&self) -> bool {
        self.as_service().is_some_and(|e| {
            matches!(
                e.code,
                ErrorCode::NoSuchKey | ErrorCode::NoSuchBucket | ErrorCode::NotFound
            )
        })
    }

    /// True when a conditional request's precondition failed (412 `PreconditionFailed`): an
    /// `If-None-Match: *` write found the key, or an `If-Match` ETag no longer matches.
    pub fn is_precondition_failed(&self) -> bool {
        self.code() == Some(&ErrorCode::PreconditionFailed)
    }

    /// True when a conditional write raced another write to the key (409
    /// `ConditionalRequestConflict`); S3 advises retrying the whole write.
    pub fn is_conditional_conflict(&self) -> bool {
        self.code() == Some(&ErrorCode::ConditionalRequestConflict)
    }

    /// True for failures worth one more try of the same request: a broken or timed-out
    /// connection, a truncated or corrupted reply, a server asking to slow down or failing
    /// inside (500, 503, `SlowDown`, `RequestTimeout`, `InternalError`), or refusing a body
    /// that arrived corrupted (`BadDigest`, `XAmzContentSHA256Mismatch`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(e) => matches!(
                e.kind(),
                TransportErrorKind::Connect
                    | TransportErrorKind::Timeout
                    | TransportErrorKind::Io
                    | TransportErrorKind::Truncated
            ),
            Error::Service(e) => {
                e.status.is_server_error()
                    || e.status.as_u16() == 429
                    || matches!(
                        e.code,
                        ErrorCode::SlowDown
                            | ErrorCode::RequestTimeout
                            | ErrorCode::InternalError
                            // The body was corrupted on the way up: send it again.
                            | ErrorCode::BadDigest
                            | ErrorCode::XAmzContentSHA256Mismatch
                    )
            }
            Error::Response(
                ResponseError::LengthMismatch { .. } | ResponseError::ChecksumMismatch { .. },
            ) => true,
            Error::Credentials(e) => match &**e {
                crate::credentials::CredentialsError::Failed { source, .. } => {
                    source.is_retryable()
                }
                _ => false,
            },
            Error::Response(_) | Error::Input(_) => false,
        }
    }

    /// True when the request may have taken effect although no usable reply came back: the
    /// connection broke after it was sent, or the reply could not be read. A non-idempotent
    /// request that failed this way (CreateMultipartUpload) may have left state behind.
    pub fn reply_lost(&self) -> bool {
        match self {
            Error::Transport(t) => t.kind() != TransportErrorKind::Connect,
            Error::Response(_) => true,
            Error::Service(_) | Error::Input(_) | Error::Credentials(_) => false,
        }
    }

    /// This error inside an `io::Error`, for `Read`/`AsyncRead` implementations that must
    /// report it; [`TransportError::from_io`] takes it out again unchanged.
    pub fn into_io(self) -> std::io::Error {
        let kind = match &self {
            Error::Transport(t) if t.kind() == TransportErrorKind::Timeout => {
                std::io::ErrorKind::TimedOut
            }
            Error::Transport(t) if t.kind() == TransportErrorKind::Truncated => {
                std::io::ErrorKind::UnexpectedEof
            }
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, self)
    }

    /// The region the server says the bucket lives in, when it rejected the request for being sent
    /// to the wrong one. A runtime re-sends there once.
    pub fn redirect_region(&self) -> Option<&str> {
        self.as_service().and_then(ServiceError::redirect_region)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Service(e) => e.fmt(f),
            Error::Response(e) => write!(f, "invalid response: {e}"),
            Error::Input(e) => write!(f, "invalid input: {e}"),
            Error::Transport(e) => write!(f, "transport error: {e}"),
            Error::Credentials(e) => write!(f, "credentials: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Service(e) => Some(&**e),
            Error::Response(e) => Some(e),
            Error::Input(e) => Some(e),
            Error::Transport(e) => Some(e),
            Error::Credentials(e) => Some(&**e),
        }
    }
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Self {
        Error::Service(Box::new(e))
    }
}

impl From<ResponseError> for Error {
    fn from(e: ResponseError) -> Self {
        Error::Response(e)
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

impl From<crate::credentials::CredentialsError> for Error {
    fn from(e: crate::credentials::CredentialsError) -> Self {
        Error::Credentials(Box::new(e))
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}

/// An error answer from S3: the `<Error>` document plus what the status line and headers said.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// HTTP status of the reply.
    pub status: StatusCode,
    /// The S3 error code (from the body, or from the status for bodyless replies).
    pub code: ErrorCode,
    /// Human-readable message, empty when the server sent none.
    pub message: String,
    /// `RequestId` (or the `x-amz-request-id` header).
    pub request_id: Option<String>,
    /// `HostId` (or the `x-amz-id-2` header).
    pub host_id: Option<String>,
    /// The resource the error is about, when the server names it.
    pub resource: Option<String>,
    /// The bucket the error is about, when the server names it.
    pub bucket: Option<String>,
    /// The key the error is about, when the server names it.
    pub key: Option<String>,
    /// The region the bucket lives in (`<Region>` or the `x-amz-bucket-region` header).
    pub region: Option<String>,
    /// The endpoint to use instead (`<Endpoint>` of a `PermanentRedirect`).
    pub endpoint: Option<String>,
    /// The server's string to sign, sent with `SignatureDoesNotMatch`.
    pub string_to_sign: Option<String>,
    /// The server's canonical request, sent with SigV4 `SignatureDoesNotMatch`.
    pub canonical_request: Option<String>,
    /// The server's clock (`<ServerTime>` of `RequestTimeTooSkewed`, else the `Date` header).
    pub server_time: Option<String>,
    /// How long the server asks the client to wait before retrying (`x-amz-retry-after`, in
    /// milliseconds; ignored when not a number).
    pub retry_after: Option<std::time::Duration>,
    /// Every element of the `<Error>` document, in order, the ones above included: read one
    /// by name with [`ServiceError::element`] (`RequestTime`, `MaxAllowedSkewMilliseconds`,
    /// `ArgumentName`, …).
    pub elements: ErrorElements,
}

/// The elements of an `<Error>` document, by name and text (elements holding other elements
/// are left out). `Debug` hides the values that may authorise a request
/// (`SignatureProvided`, the server's canonical request and string to sign, in bytes too).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ErrorElements(Vec<(String, String)>);

impl ErrorElements {
    /// The text of the first element called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every element, in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Elements kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the document had no element (or there was none: a HEAD).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ErrorElements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HIDDEN: [&str; 5] = [
            "SignatureProvided",
            "CanonicalRequest",
            "CanonicalRequestBytes",
            "StringToSign",
            "StringToSignBytes",
        ];
        f.debug_map()
            .entries(self.0.iter().map(|(n, v)| {
                let shown = if HIDDEN.contains(&n.as_str()) {
                    "***"
                } else {
                    v.as_str()
                };
                (n, shown)
            }))
            .finish()
    }
}

impl ServiceError {
    /// An error with only a status and a code; the other fields empty.
    pub fn new(status: StatusCode, code: ErrorCode) -> Self {
        ServiceError {
            status,
            code,
            message: String::new(),
            request_id: None,
            host_id: None,
            resource: None,
            bucket: None,
            key: None,
            region: None,
            endpoint: None,
            string_to_sign: None,
            canonical_request: None,
            server_time: None,
            retry_after: None,
            elements: ErrorElements::default(),
        }
    }

    /// The text of the `<Error>` document's element called `name` (see
    /// [`ServiceError::elements`]): `RequestTime`, `MaxAllowedSkewMilliseconds`, …
    pub fn element(&self, name: &str) -> Option<&str> {
        self.elements.get(name)
    }

    /// Parses an error reply: the `<Error>` body when there is one, else the status alone (HEAD).
    ///
    /// Never fails: a body that is not an S3 error document still yields an error carrying the
    /// status, so a proxy's HTML page does not hide the fact that the request failed.
    pub fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut err = match parse_error_body(body) {
            Ok(Some(e)) => e,
            _ => ServiceError::new(status, ErrorCode::from_status(status)),
        };
        err.status = status;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if err.request_id.is_none() {
            err.request_id = header("x-amz-request-id");
        }
        if err.host_id.is_none() {
            err.host_id = header("x-amz-id-2");
        }
        if err.region.is_none() {
            err.region = header("x-amz-bucket-region");
        }
        if err.server_time.is_none() {
            err.server_time = header("date");
        }
        err.retry_after = header("x-amz-retry-after")
            .and_then(|ms| ms.trim().parse().ok())
            .map(std::time::Duration::from_millis);
        err
    }

    /// Parses an `<Error>` document; `Ok(None)` when the body is empty or has another root.
    pub(crate) fn parse_body(body: &[u8]) -> Result<Option<ServiceError>, Error> {
        parse_error_body(body)
    }

    /// The region to retry in, when this error says the request went to the wrong one.
    pub fn redirect_region(&self) -> Option<&str> {
        let wrong_region = matches!(
            self.code,
            ErrorCode::PermanentRedirect
                | ErrorCode::TemporaryRedirect
                | ErrorCode::AuthorizationHeaderMalformed
                | ErrorCode::IllegalLocationConstraintException
        ) || self.status == StatusCode::MOVED_PERMANENTLY
            || (self.status == StatusCode::BAD_REQUEST && self.region.is_some());
        if !wrong_region {
            return None;
        }
        self.region.as_deref().filter(|r| !r.is_empty())
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3 error {} {}", self.status.as_u16(), self.code)?;
        if let Some(resource) = &self.resource {
            write!(f, " on {resource}")?;
        } else if let Some(bucket) = &self.bucket {
            write!(f, " on /{bucket}")?;
            if let Some(key) = &self.key {
                write!(f, "/{key}")?;
            }
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(region) = self.redirect_region() {
            write!(f, " (bucket region: {region})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

fn parse_error_body(body: &[u8]) -> Result<Option<ServiceError>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut r = XmlReader::new(body)?;
    if r.root()? != "Error" {
        return Ok(None);
    }
    let mut err = ServiceError::new(StatusCode::OK, ErrorCode::Other(String::new()));
    let mut elements = Vec::new();
    while let Some(tag) = r.next_child()? {
        let name = String::from_utf8_lossy(tag.name()).into_owned();
        let Some(text) = r.leaf_text()? else {
            continue;
        };
        let slot = match tag.name() {
            b"Code" => {
                err.code = ErrorCode::parse(&text);
                None
            }
            b"Message" => {
                err.message.clone_from(&text);
                None
            }
            b"RequestId" => Some(&mut err.request_id),
            b"HostId" => Some(&mut err.host_id),
            b"Resource" => Some(&mut err.resource),
            b"BucketName" => Some(&mut err.bucket),
            b"Key" => Some(&mut err.key),
            b"Region" => Some(&mut err.region),
            b"Endpoint" => Some(&mut err.endpoint),
            b"StringToSign" => Some(&mut err.string_to_sign),
            b"CanonicalRequest" => Some(&mut err.canonical_request),
            b"ServerTime" => Some(&mut err.server_time),
            _ => None,
        };
        if let Some(slot) = slot {
            *slot = Some(text.clone());
        }
        elements.push((name, text));
    }
    err.elements = ErrorElements(elements);
    // Some servers (moto) name the bucket in <BucketName>; AWS uses <Bucket> in redirects.
    Ok(Some(err))
}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// An S3 error code: the ones this crate acts on, plus any other verbatim.
        ///
        /// `Other` keeps unknown codes without loss: `ErrorCode::parse(c).as_str() == c` for every `c`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
            /// Any code not listed above, verbatim.
            Other(String),
        }

        impl ErrorCode {
            /// Maps a code string to its variant (`Other` for unknown codes).
            pub fn parse(code: &str) -> Self {
                match code {
                    $(stringify!($name) => ErrorCode::$name,)*
                    other => ErrorCode::Other(other.to_owned()),
                }
            }

            /// The code as S3 spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$name => stringify!($name),)*
                    ErrorCode::Other(s) => s,
                }
            }
        }
    };
}

error_codes! {
    /// Access denied by policy, ACL or a bad key.
    AccessDenied,
    /// The request's Authorization header is malformed (often: signed for the wrong region).
    AuthorizationHeaderMalformed,
    /// The checksum of the body does not match the one sent.
    BadDigest,
    /// The bucket name is taken by another account.
    BucketAlreadyExists,
    /// You already own this bucket (an error only outside us-east-1).
    BucketAlreadyOwnedByYou,
    /// The bucket still holds objects.
    BucketNotEmpty,
    /// A conditional write lost a race with another write to the same key (409); retry.
    ConditionalRequestConflict,
    /// The upload exceeds the maximum allowed size.
    EntityTooLarge,
    /// A multipart part other than the last is below 5 MiB.
    EntityTooSmall,
    /// The session token has expired.
    ExpiredToken,
    /// The location constraint is not allowed for this endpoint.
    IllegalLocationConstraintException,
    /// A server-side failure; safe to retry.
    InternalError,
    /// The access key id is unknown.
    InvalidAccessKeyId,
    /// An argument is invalid.
    InvalidArgument,
    /// The bucket name is invalid.
    InvalidBucketName,
    /// The Content-MD5 is malformed.
    InvalidDigest,
    /// The location constraint is not known to the server.
    InvalidLocationConstraint,
    /// A multipart part is missing or its ETag does not match.
    InvalidPart,
    /// The parts list of CompleteMultipartUpload is not in ascending order.
    InvalidPartOrder,
    /// The requested range is not satisfiable.
    InvalidRange,
    /// The request is invalid.
    InvalidRequest,
    /// The session token is invalid.
    InvalidToken,
    /// The XML body is not well formed or does not validate.
    MalformedXML,
    /// The method is not allowed on this resource.
    MethodNotAllowed,
    /// The request needs a Content-Length.
    MissingContentLength,
    /// The bucket has no CORS configuration.
    NoSuchCORSConfiguration,
    /// The bucket has no lifecycle configuration.
    NoSuchLifecycleConfiguration,
    /// The bucket has no policy.
    NoSuchBucketPolicy,
    /// The bucket has no public access block configuration.
    NoSuchPublicAccessBlockConfiguration,
    /// The bucket or object has no tag set.
    NoSuchTagSet,
    /// The bucket does not exist.
    NoSuchBucket,
    /// The key does not exist.
    NoSuchKey,
    /// The multipart upload does not exist (completed or aborted).
    NoSuchUpload,
    /// A bodyless 404 (HEAD): the bucket or key does not exist.
    NotFound,
    /// The feature is not implemented by this server.
    NotImplemented,
    /// The object was not modified (304 to a conditional GET/HEAD).
    NotModified,
    /// The bucket has no object lock configuration.
    ObjectLockConfigurationNotFoundError,
    /// A conflicting operation is in progress; retry.
    OperationAborted,
    /// The bucket has no ownership controls.
    OwnershipControlsNotFoundError,
    /// The bucket lives in another region or endpoint.
    PermanentRedirect,
    /// A precondition (If-Match, If-Unmodified-Since) failed.
    PreconditionFailed,
    /// The connection was idle too long; retry.
    RequestTimeout,
    /// The request time is too far from the server's clock.
    RequestTimeTooSkewed,
    /// The signature does not match the server's.
    SignatureDoesNotMatch,
    /// The bucket has no default encryption configuration.
    ServerSideEncryptionConfigurationNotFoundError,
    /// The service is unavailable; retry later.
    ServiceUnavailable,
    /// Reduce the request rate.
    SlowDown,
    /// Temporary redirect to another endpoint.
    TemporaryRedirect,
    /// The payload hash header does not match the body.
    XAmzContentSHA256Mismatch,
}

impl ErrorCode {
    /// The code implied by a status when the reply has no body (HEAD, or a proxy's reply).
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            301 => ErrorCode::PermanentRedirect,
            304 => ErrorCode::NotModified,
            307 => ErrorCode::TemporaryRedirect,
            400 => ErrorCode::Other("BadRequest".to_owned()),
            403 => ErrorCode::AccessDenied,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            409 => ErrorCode::Other("Conflict".to_owned()),
            411 => ErrorCode::MissingContentLength,
            412 => ErrorCode::PreconditionFailed,
            416 => ErrorCode::InvalidRange,
            500 => ErrorCode::InternalError,
            501 => ErrorCode::NotImplemented,
            503 => ErrorCode::ServiceUnavailable,
            other => ErrorCode::Other(format!("Http{other}")),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reply that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseError {
    /// The body is larger than the parser accepts.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The XML nests deeper than the parser accepts.
    TooDeep {
        /// The limit in levels.
        limit: usize,
    },
    /// The body is not well-formed XML, not UTF-8, or ends early.
    Malformed {
        /// What the parser saw.
        detail: String,
    },
    /// The document has another root element than the operation's.
    UnexpectedRoot {
        /// The root the operation reads.
        expected: &'static str,
        /// The root that was found.
        found: String,
    },
    /// A required element is absent.
    MissingField {
        /// The element name.
        field: &'static str,
    },
    /// An element or header holds a value of the wrong form.
    InvalidField {
        /// The element or header name.
        field: &'static str,
        /// The value, shortened to 64 bytes.
        value: String,
    },
    /// A required header is absent.
    MissingHeader {
        /// The header name.
        name: &'static str,
    },
    /// A body is shorter or longer than announced.
    LengthMismatch {
        /// Bytes announced.
        expected: u64,
        /// Bytes received.
        actual: u64,
    },
    /// The bytes received differ from the digest the object's ETag (or checksum) promises:
    /// corrupted on the way, or stored corrupted.
    ChecksumMismatch {
        /// The object, as `bucket/key` when known.
        object: String,
        /// What was hashed: `the object`, or `the object as N parts of M bytes` when a
        /// multipart ETag was rebuilt along part sizes inferred from the object.
        scope: String,
        /// The digest promised (the ETag, quoted).
        expected: String,
        /// The digest of the bytes received, spelled like `expected`.
        actual: String,
        /// True when the part sizes were inferred, not reported: a mismatch then may also
        /// mean the object was uploaded in parts of unequal sizes.
        inferred: bool,
    },
    /// The bytes could not be verified and [`Integrity::Require`](crate::integrity::Integrity)
    /// asks that every byte be.
    Unverified {
        /// The object, as `bucket/key` when known.
        object: String,
        /// Why it could not be verified.
        reason: crate::integrity::Unverified,
    },
    /// A status the operation does not expect.
    UnexpectedStatus {
        /// The status received.
        status: u16,
    },
}

impl ResponseError {
    pub(crate) fn malformed(detail: impl fmt::Display) -> Self {
        ResponseError::Malformed {
            detail: detail.to_string(),
        }
    }

    pub(crate) fn invalid(field: &'static str, value: &str) -> Self {
        ResponseError::InvalidField {
            field,
            value: shorten(value).into_owned(),
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::BodyTooLarge { limit } => write!(f, "body exceeds {limit} bytes"),
            ResponseError::TooDeep { limit } => write!(f, "XML nests deeper than {limit} levels"),
            ResponseError::Malformed { detail } => write!(f, "malformed XML: {detail}"),
            ResponseError::UnexpectedRoot { expected, found } => {
                write!(f, "expected <{expected}>, found <{found}>")
            }
            ResponseError::MissingField { field } => write!(f, "missing <{field}>"),
            ResponseError::InvalidField { field, value } => {
                write!(f, "invalid {field}: {value:?}")
            }
            ResponseError::MissingHeader { name } => write!(f, "missing header {name}"),
            ResponseError::LengthMismatch { expected, actual } => {
                write!(f, "expected {expected} bytes, received {actual}")
            }
            ResponseError::ChecksumMismatch {
                object,
                scope,
                expected,
                actual,
                inferred,
            } => {
                write!(f, "{object}: {scope} hashes to {actual}, not {expected}")?;
                if *inferred {
                    f.write_str(" (part sizes inferred: unequal parts would also explain it)")?;
                }
                Ok(())
            }
            ResponseError::Unverified { object, reason } => {
                write!(f, "{object}: the bytes cannot be verified: {reason}")
            }
            ResponseError::UnexpectedStatus { status } => write!(f, "unexpected status {status}"),
        }
    }
}

impl std::error::Error for ResponseError {}

/// A request that cannot be built: the caller's mistake, found before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// The bucket name breaks S3's naming rules.
    InvalidBucketName {
        /// The name, shortened to 64 bytes.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The object key is empty or longer than 1024 bytes.
    InvalidKey {
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The endpoint URL cannot be used.
    InvalidEndpoint {
        /// What is wrong with it.
        reason: String,
    },
    /// A header name or value cannot be sent.
    InvalidHeader {
        /// The header name.
        name: String,
    },
    /// User metadata exceeds S3's 2 KB limit.
    MetadataTooLarge {
        /// Bytes of names and values.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A shared config or credentials file is malformed, or a profile cannot be used.
    Profile {
        /// Where: a file (`/home/u/.aws/config`) or a profile (`profile dev`).
        at: String,
        /// The line, for a malformed file.
        line: Option<usize>,
        /// The key at fault, for an unusable profile (`credential_source`).
        key: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// An upload larger than S3's largest object (5 TiB in at most 10,000 parts).
    ObjectTooLarge {
        /// The object's length; for a source of unknown length, the bytes it had yielded when
        /// the 10,000 parts were full and it had not ended.
        size: u64,
        /// The most the upload can carry.
        limit: u64,
    },
    /// Some other argument is out of range or inconsistent.
    InvalidArgument {
        /// The argument name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl InputError {
    /// An [`InputError::InvalidArgument`].
    pub fn argument(name: &'static str, reason: impl Into<String>) -> Self {
        InputError::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::InvalidBucketName { name, reason } => {
                write!(f, "bucket name {name:?}: {reason}")
            }
            InputError::InvalidKey { reason } => write!(f, "object key: {reason}"),
            InputError::InvalidEndpoint { reason } => write!(f, "endpoint: {reason}"),
            InputError::InvalidHeader { name } => write!(f, "header {name:?} cannot be sent"),
            InputError::MetadataTooLarge { size, limit } => {
                write!(f, "user metadata is {size} bytes, S3 allows {limit}")
            }
            InputError::ObjectTooLarge { size, limit } => write!(
                f,
                "an object of {size} bytes or more exceeds the {limit} bytes 10,000 parts can carry"
            ),
            InputError::InvalidArgument { name, reason } => write!(f, "{name}: {reason}"),
            InputError::Profile {
                at,
                line,
                key,
                reason,
            } => {
                f.write_str(at)?;
                if let Some(line) = line {
                    write!(f, " line {line}")?;
                }
                if let Some(key) = key {
                    write!(f, ", key {key}")?;
                }
                write!(f, ": {reason}")
            }
        }
    }
}

impl std::error::Error for InputError {}

/// What kind of network failure a runtime saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, DNS).
    Connect,
    /// The TLS handshake failed: the server's certificate is not trusted (unknown CA, expired,
    /// self-signed) or not valid for the host; not retried.
    Tls,
    /// A connect, request or stall timeout fired.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// The body ended before its announced length.
    Truncated,
    /// The caller's body source failed (file read error, stream error).
    Body,
    /// Anything else the HTTP stack reported.
    Other,
}

/// Which of a client's deadlines fired (see [`crate::flow::request::Options`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// `connect_timeout`: no connection was made, so nothing was sent.
    Connect,
    /// `request_timeout`: the whole exchange, body included, took too long.
    Request,
    /// `stall_timeout`: no byte moved, either way, for too long.
    Stall,
}

impl Deadline {
    /// The option's name, as users set it.
    pub fn option(self) -> &'static str {
        match self {
            Deadline::Connect => "connect_timeout",
            Deadline::Request => "request_timeout",
            Deadline::Stall => "stall_timeout",
        }
    }
}

/// A network failure; built by runtimes, never by `s3-proto` itself.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    deadline: Option<Deadline>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure of `kind`, described by `message` (which must not contain secrets or signed URLs).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            deadline: None,
            source: None,
        }
    }

    /// A [`TransportErrorKind::Timeout`]: `deadline` fired after `after`, while `doing`
    /// (for example "reading the response body").
    pub fn timeout(deadline: Deadline, after: std::time::Duration, doing: &str) -> Self {
        TransportError {
            deadline: Some(deadline),
            ..TransportError::new(
                TransportErrorKind::Timeout,
                format!("{} of {after:?} fired while {doing}", deadline.option()),
            )
        }
    }

    /// Which deadline fired, for a timeout.
    pub fn deadline(&self) -> Option<Deadline> {
        self.deadline
    }

    /// The error an IO failure stands for: our own error when a guard put one inside it (see
    /// [`Error::into_io`]), else a transport error of the matching kind.
    pub fn from_io(e: std::io::Error) -> Error {
        if e.get_ref()
            .is_some_and(<dyn std::error::Error + Send + Sync>::is::<Error>)
        {
            if let Some(inner) = e.into_inner() {
                if let Ok(ours) = inner.downcast::<Error>() {
                    return *ours;
                }
            }
            return TransportError::new(TransportErrorKind::Io, "i/o error").into();
        }
        let kind = match e.kind() {
            std::io::ErrorKind::UnexpectedEof => TransportErrorKind::Truncated,
            std::io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
            std::io::ErrorKind::ConnectionRefused => TransportErrorKind::Connect,
            _ => TransportErrorKind::Io,
        };
        TransportError::new(kind, format!("i/o error: {e}"))
            .with_source(e)
            .into()
    }

    /// Classifies a transport library's error by walking its `source()` chain (into the
    /// error an `io::Error` wraps, too): an s3-proto error inside (a request body's own
    /// failure) keeps its kind and text; one `tls` recognises (the library's TLS error type)
    /// is [`TransportErrorKind::Tls`]; while `connecting`, an `io::ErrorKind::TimedOut` inside
    /// is the [`Deadline::Connect`] timeout (when `connect_timeout` is set), anything else
    /// [`TransportErrorKind::Connect`]; later failures are [`TransportErrorKind::Io`]. The
    /// message joins the chain's texts, URL queries scrubbed.
    pub fn classify(
        e: &(dyn std::error::Error + 'static),
        connecting: bool,
        connect_timeout: Option<std::time::Duration>,
        tls: impl Fn(&(dyn std::error::Error + 'static)) -> Option<String>,
    ) -> Error {
        let (mut message, mut timed_out) = (format!("http error: {e}"), false);
        let mut source = e.source();
        while let Some(s) = source {
            if let Some(Error::Transport(ours)) = s.downcast_ref::<Error>() {
                return TransportError::new(ours.kind(), ours.to_string()).into();
            }
            if let Some(why) = tls(s) {
                return TransportError::new(TransportErrorKind::Tls, format!("tls: {why}")).into();
            }
            let io = s.downcast_ref::<std::io::Error>();
            timed_out |= io.is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
            let text = s.to_string();
            if !message.ends_with(&text) {
                message = format!("{message}: {text}");
            }
            // io::Error's source() skips the error it wraps (where a TLS library may put a
            // refused certificate): walk into it instead.
            let inner = io.and_then(|io| io.get_ref());
            source = inner
                .map(|e| e as &(dyn std::error::Error + 'static))
                .or_else(|| s.source());
        }
        let message = Self::scrub(&message);
        match (connecting, connect_timeout.filter(|_| timed_out)) {
            (true, Some(after)) => TransportError::timeout(Deadline::Connect, after, "connecting"),
            (true, None) => TransportError::new(TransportErrorKind::Connect, message),
            (false, _) => TransportError::new(TransportErrorKind::Io, message),
        }
        .into()
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// `text` without query strings, for an HTTP stack's message that may quote a URL (and
    /// so a presigned signature or token) before it goes into an error.
    pub fn scrub(text: &str) -> String {
        text.split_whitespace()
            .map(|w| w.split_once('?').map_or(w, |(head, _)| head))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Shortens untrusted text quoted in an error to 64 bytes on a char boundary.
pub(crate) fn shorten(s: &str) -> Cow<'_, str> {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return Cow::Borrowed(s);
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_queries() {
        let text = "failed http://h/b/k?X-Amz-Signature=abc now";
        assert_eq!(TransportError::scrub(text), "failed http://h/b/k now");
    }

    #[test]
    fn every_element_is_kept_by_name() {
        // As AWS answers a request signed 20 minutes off (the skew fields have no field).
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code>\
            <Message>The difference between the request time and the current time is too large.</Message>\
            <RequestTime>20231114T220000Z</RequestTime><ServerTime>2023-11-14T22:20:00Z</ServerTime>\
            <MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>\
            <Nested><A>1</A><B/></Nested><Empty/><SignatureProvided>abc123</SignatureProvided>\
            <RequestId>R</RequestId><HostId>H</HostId></Error>";
        let err = ServiceError::from_response(StatusCode::FORBIDDEN, &HeaderMap::new(), body);
        assert_eq!(err.code, ErrorCode::RequestTimeTooSkewed);
        assert_eq!(err.element("RequestTime"), Some("20231114T220000Z"));
        assert_eq!(err.element("ServerTime"), Some("2023-11-14T22:20:00Z"));
        assert_eq!(err.server_time.as_deref(), Some("2023-11-14T22:20:00Z"));
        assert_eq!(err.element("MaxAllowedSkewMilliseconds"), Some("900000"));
        assert_eq!(err.element("Code"), Some("RequestTimeTooSkewed"));
        assert_eq!(err.element("Empty"), Some(""));
        assert_eq!(err.element("Nested"), None);
        assert_eq!(err.element("A"), None);
        assert_eq!(err.request_id.as_deref(), Some("R"));
        let names: Vec<&str> = err.elements.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "Code",
                "Message",
                "RequestTime",
                "ServerTime",
                "MaxAllowedSkewMilliseconds",
                "Empty",
                "SignatureProvided",
                "RequestId",
                "HostId"
            ]
        );
        assert!(!format!("{err:?}").contains("abc123"));
        // A bodyless reply (HEAD) has none.
        let head = ServiceError::from_response(StatusCode::FORBIDDEN, &HeaderMap::new(), b"");
        assert!(head.elements.is_empty());
        // Every cut of the body still yields an error with the status.
        for cut in 0..body.len() {
            let e =
                ServiceError::from_response(StatusCode::FORBIDDEN, &HeaderMap::new(), &body[..cut]);
            assert_eq!(e.status, StatusCode::FORBIDDEN);
        }
    }

    #[test]
    fn unknown_codes_round_trip() {
        for code in ["NoSuchKey", "SomethingNew", "", "Http418"] {
            assert_eq!(ErrorCode::parse(code).as_str(), code);
        }
        assert_eq!(ErrorCode::parse("NoSuchKey"), ErrorCode::NoSuchKey);
    }

    #[test]
    fn display_carries_code_and_message() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>\
            <Message>The specified key does not exist.</Message><Resource>/bucket/key</Resource>\
            <RequestId>R1</RequestId></Error>";
        let err = ServiceError::from_response(StatusCode::NOT_FOUND, &HeaderMap::new(), body);
        assert_eq!(
            err.to_string(),
            "s3 error 404 NoSuchKey on /bucket/key: The specified key does not exist. (request id R1)"
        );
    }

    #[test]
    fn bodyless_reply_uses_status_and_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-request-id", "abc".parse().unwrap());
        let err = ServiceError::from_response(StatusCode::NOT_FOUND, &headers, b"");
        assert_eq!(err.code, ErrorCode::NotFound);
        assert_eq!(err.request_id.as_deref(), Some("abc"));
    }

    #[test]
    fn html_from_a_proxy_keeps_the_status() {
        let err = ServiceError::from_response(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html><body>Bad gateway</body></html>",
        );
        assert_eq!(err.status, StatusCode::BAD_GATEWAY);
        assert_eq!(err.code.as_str(), "Http502");
    }

    #[test]
    fn wrong_region_is_found_in_body_or_header() {
        let body = b"<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>";
        let err = ServiceError::from_response(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(err.redirect_region(), Some("eu-west-1"));

        let mut headers = HeaderMap::new();
        headers.insert("x-amz-bucket-region", "eu-central-1".parse().unwrap());
        let err = ServiceError::from_response(StatusCode::MOVED_PERMANENTLY, &headers, b"");
        assert_eq!(err.redirect_region(), Some("eu-central-1"));

        let err = ServiceError::from_response(StatusCode::NOT_FOUND, &headers, b"");
        assert_eq!(err.redirect_region(), None);
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        let s = "é".repeat(40);
        let short = shorten(&s);
        assert!(short.len() <= 64 + '…'.len_utf8());
    }
}
