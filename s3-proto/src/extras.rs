//! The escape hatch: extra headers and query parameters on any operation, signed with the
//! rest of the request, for the S3 features this crate does not model yet.
//!
//! A missing action is written the same way the crate writes its own: a value implementing
//! [`Operation`] with nothing but public API. For example GetBucketRequestPayment:
//!
//! ```
//! use s3_proto::{Body, BucketName, Config, Error, Operation, Response, ResponseError, Target};
//!
//! /// Reads who pays for requests to a bucket (`BucketOwner` or `Requester`).
//! struct GetBucketRequestPayment(BucketName);
//!
//! impl Operation for GetBucketRequestPayment {
//!     type Output = String;
//!
//!     fn bucket(&self) -> Option<&BucketName> {
//!         Some(&self.0)
//!     }
//!
//!     fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
//!         target.request(http::Method::GET, Some(&self.0), None).subresource("requestPayment").build()
//!     }
//!
//!     fn parse(&self, resp: Response<'_>) -> Result<String, Error> {
//!         let body = std::str::from_utf8(resp.body).unwrap_or("");
//!         let payer = body.split("<Payer>").nth(1).and_then(|s| s.split("</Payer>").next());
//!         payer.map(str::to_owned).ok_or_else(|| {
//!             ResponseError::Malformed { detail: "no <Payer>".into() }.into()
//!         })
//!     }
//! }
//!
//! let config = Config::new("http://127.0.0.1:9000", "us-east-1")?;
//! let op = GetBucketRequestPayment(BucketName::new("bucket")?);
//! assert_eq!(op.request(config.target())?.uri(), "http://127.0.0.1:9000/bucket?requestPayment");
//! let headers = http::HeaderMap::new();
//! let body = b"<RequestPaymentConfiguration><Payer>Requester</Payer></RequestPaymentConfiguration>";
//! let reply = Response::new(http::StatusCode::OK, &headers, body);
//! assert_eq!(s3_proto::config::finish(&op, reply)?, "Requester");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use http::header::{HeaderName, HeaderValue};
use http::{Request, Uri};

use crate::body::{Body, BodyMode, Response};
use crate::endpoint::Target;
use crate::error::{Error, InputError, ServiceError};
use crate::name::BucketName;
use crate::op::Operation;
use crate::sign::encode::uri_encode_into;

/// Headers the signer writes itself; an extra one of these would be overwritten or break the
/// signature, so it is refused.
const RESERVED: &[&str] = &[
    "authorization",
    "host",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
];

/// `op` with extra headers and query parameters, added to its request before signing.
///
/// # Example
/// ```
/// use s3_proto::extras::WithExtras;
/// use s3_proto::ops::GetObject;
/// use s3_proto::{BucketName, Config, ObjectKey, Operation};
///
/// let op = WithExtras::new(GetObject::new(BucketName::new("bkt")?, ObjectKey::new("k")?))
///     .requester_pays()
///     .header("x-amz-expected-bucket-owner", "111122223333")
///     .query("x-id", "GetObject");
/// let req = op.request(Config::new("http://127.0.0.1:9000", "us-east-1")?.target())?;
/// assert_eq!(req.uri(), "http://127.0.0.1:9000/bkt/k?x-id=GetObject");
/// assert_eq!(req.headers()["x-amz-request-payer"], "requester");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithExtras<O> {
    inner: O,
    headers: Vec<(String, String)>,
    query: Vec<(String, Option<String>)>,
}

impl<O: Operation> WithExtras<O> {
    /// Wraps `op`; add headers and parameters with the setters.
    pub fn new(op: O) -> Self {
        WithExtras {
            inner: op,
            headers: Vec::new(),
            query: Vec::new(),
        }
    }

    /// Adds a header (checked when the request is built; signer-owned names are refused).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter `name=value`, URI-encoded.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), Some(value.into())));
        self
    }

    /// Adds a query parameter without a value (`?name`).
    pub fn subresource(mut self, name: impl Into<String>) -> Self {
        self.query.push((name.into(), None));
        self
    }

    /// Accepts the charges of a requester-pays bucket (`x-amz-request-payer: requester`).
    pub fn requester_pays(self) -> Self {
        self.header("x-amz-request-payer", "requester")
    }

    /// The wrapped operation.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The wrapped operation, unwrapped.
    pub fn into_inner(self) -> O {
        self.inner
    }

    fn extend(&self, req: &mut Request<Body>) -> Result<(), Error> {
        for (name, value) in &self.headers {
            let bad = || InputError::InvalidHeader {
                name: crate::error::shorten(name).into_owned(),
            };
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            if RESERVED.contains(&n.as_str()) {
                return Err(bad().into());
            }
            let v = HeaderValue::from_str(value).map_err(|_| bad())?;
            req.headers_mut().append(n, v);
        }
        if self.query.is_empty() {
            return Ok(());
        }
        let mut uri = req.uri().to_string();
        let mut sep = if uri.contains('?') { '&' } else { '?' };
        for (name, value) in &self.query {
            uri.push(sep);
            sep = '&';
            uri_encode_into(&mut uri, name.as_bytes(), false);
            if let Some(v) = value {
                uri.push('=');
                uri_encode_into(&mut uri, v.as_bytes(), false);
            }
        }
        *req.uri_mut() = uri.parse::<Uri>().map_err(|_| {
            InputError::argument("query", "the extra query parameters do not form a URI")
        })?;
        Ok(())
    }
}

impl<O: Operation> Operation for WithExtras<O> {
    type Output = O::Output;

    fn request(&self, target: &Target) -> Result<Request<Body>, Error> {
        let mut req = self.inner.request(target)?;
        self.extend(&mut req)?;
        Ok(req)
    }

    fn body_mode(&self) -> BodyMode {
        self.inner.body_mode()
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn idempotent(&self) -> bool {
        self.inner.idempotent()
    }

    fn bucket(&self) -> Option<&BucketName> {
        self.inner.bucket()
    }

    fn parse(&self, response: Response<'_>) -> Result<O::Output, Error> {
        self.inner.parse(response)
    }

    fn recover(&self, error: ServiceError) -> Result<O::Output, Error> {
        self.inner.recover(error)
    }
}

/// `op` whose output comes with the reply's headers, for the ones this crate does not read
/// into typed fields (`x-amz-expiration` on GetObject/HeadObject, vendor headers).
///
/// # Example
/// ```
/// use s3_proto::extras::WithResponseHeaders;
/// use s3_proto::lifecycle::ObjectExpiration;
/// use s3_proto::ops::HeadObject;
/// use s3_proto::{BucketName, ObjectKey, Operation, Response};
///
/// let op = WithResponseHeaders::new(HeadObject::new(BucketName::new("bkt")?, ObjectKey::new("k")?));
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-amz-expiration", r#"expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="tmp""#.parse()?);
/// let (head, headers) = op.parse(Response::new(http::StatusCode::OK, &headers, b""))?;
/// assert_eq!(ObjectExpiration::from_headers(&headers).unwrap().rule_id.as_deref(), Some("tmp"));
/// # let _ = head;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithResponseHeaders<O>(O);

impl<O: Operation> WithResponseHeaders<O> {
    /// Wraps `op`.
    pub fn new(op: O) -> Self {
        WithResponseHeaders(op)
    }

    /// The wrapped operation.
    pub fn into_inner(self) -> O {
        self.0
    }
}

impl<O: Operation> Operation for WithResponseHeaders<O> {
    type Output = (O::Output, http::HeaderMap);

    fn request(&self, target: &Target) -> Result<Request<Body>, Error> {
        self.0.request(target)
    }

    fn body_mode(&self) -> BodyMode {
        self.0.body_mode()
    }

    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn idempotent(&self) -> bool {
        self.0.idempotent()
    }

    fn bucket(&self) -> Option<&BucketName> {
        self.0.bucket()
    }

    fn parse(&self, response: Response<'_>) -> Result<Self::Output, Error> {
        let headers = response.headers.clone();
        Ok((self.0.parse(response)?, headers))
    }

    fn recover(&self, error: ServiceError) -> Result<Self::Output, Error> {
        // A recovered success (CreateBucket on BucketAlreadyOwnedByYou) has no reply headers
        // worth keeping.
        self.0
            .recover(error)
            .map(|out| (out, http::HeaderMap::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{ListObjectsV2, PutObject};
    use crate::{Config, Credentials, ObjectKey};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn extras_are_signed() {
        let c = Config::new("http://127.0.0.1:9000", "us-east-1").unwrap();
        let b = BucketName::new("bucket").unwrap();
        let op = WithExtras::new(ListObjectsV2::new(b.clone()).prefix("a"))
            .query("z key", "v/w")
            .subresource("flag")
            .header("x-amz-meta-extra", "1");
        let creds = Credentials::new("AKID", "SECRET");
        let req = c
            .prepare(&op, &creds, UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .unwrap();
        assert!(
            req.uri().to_string().ends_with("&z%20key=v%2Fw&flag"),
            "{}",
            req.uri()
        );
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert!(auth.contains("x-amz-meta-extra"), "{auth}");
        let plain = c
            .prepare(
                &ListObjectsV2::new(b.clone()).prefix("a"),
                &creds,
                UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            )
            .unwrap();
        assert_ne!(
            req.headers()["authorization"],
            plain.headers()["authorization"]
        );

        let put = WithExtras::new(PutObject::new(b.clone(), ObjectKey::new("k").unwrap(), "x"));
        assert!(
            put.clone()
                .header("Authorization", "x")
                .request(c.target())
                .is_err()
        );
        assert!(
            put.clone()
                .header("bad name", "x")
                .request(c.target())
                .is_err()
        );
        assert!(
            put.clone()
                .header("x-ok", "bad\nvalue")
                .request(c.target())
                .is_err()
        );
        let req = put.request(c.target()).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket/k");
    }
}
