//! The `Operation` trait: one S3 action as a plain value.

use http::Request;

use crate::body::{Body, BodyMode, Response};
use crate::endpoint::Target;
use crate::error::{Error, ServiceError};
use crate::integrity::{BodyCheck, Integrity};
use crate::name::BucketName;

/// One S3 action: a value that becomes an unsigned request, and knows how to read the answer.
///
/// Runtimes never call these directly: [`Config::prepare`](crate::Config::prepare) builds and
/// signs, [`Config::finish`](crate::Config::finish) routes the response to `parse` or `recover`.
pub trait Operation {
    /// What a successful response parses into.
    type Output;

    /// The unsigned request, addressed through `target`. Pure: no clock, no credentials.
    ///
    /// # Errors
    /// [`Error::Input`] when the operation's fields cannot form a request.
    fn request(&self, target: &Target) -> Result<Request<Body>, Error>;

    /// Whether the runtime buffers a 2xx body for `parse` or streams it to the caller.
    fn body_mode(&self) -> BodyMode {
        BodyMode::Buffered
    }

    /// Whether sending the request twice has the effect of sending it once, so a runtime may
    /// retry it after a failure mid-request. True for every S3 action but
    /// CreateMultipartUpload, whose repeat would start a second (orphaned) upload.
    fn idempotent(&self) -> bool {
        true
    }

    /// The bucket the request addresses, when it addresses one: a runtime remembers which
    /// region each bucket lives in by it.
    fn bucket(&self) -> Option<&BucketName> {
        None
    }

    /// The action's name (`GetObject`), as traces show it: the type's name by default.
    fn name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }

    /// For an operation that reads an object's body: how the runtime verifies that body as
    /// it streams (the digest to compute, or why none can be). `None` for other bodies.
    fn body_check(&self, output: &Self::Output, integrity: Integrity) -> Option<BodyCheck> {
        let _ = (output, integrity);
        None
    }

    /// Parses a 2xx response.
    ///
    /// # Errors
    /// [`Error::Response`] for a malformed reply; [`Error::Service`] for a 200 that carries an
    /// `<Error>` document (CopyObject, CompleteMultipartUpload).
    fn parse(&self, response: Response<'_>) -> Result<Self::Output, Error>;

    /// Sees a non-2xx reply already parsed into a [`ServiceError`]; may turn a code into
    /// success (`CreateBucket` on `BucketAlreadyOwnedByYou`) or refine it (HEAD's bare 404).
    ///
    /// # Errors
    /// The service error, unless the operation treats it as success.
    fn recover(&self, error: ServiceError) -> Result<Self::Output, Error> {
        Err(error.into())
    }
}

/// `s3_proto::ops::GetObject` → `GetObject`; generics dropped. Not generic itself, so each
/// operation's default `name` is a call, not another copy of this.
fn short_type_name(full: &'static str) -> &'static str {
    let path = full.split('<').next().unwrap_or(full);
    path.rsplit("::").next().unwrap_or(path)
}
