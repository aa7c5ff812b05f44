//! The shape most bucket and object configuration actions share: PUT a document to a
//! sub-resource (`?tagging`, `?lifecycle`, …), GET it back, DELETE it.
//!
//! Each configuration noun implements [`Document`]; the macros below write the three
//! operations around it so that every one validates before sending, sends `Content-MD5`
//! (S3 requires it for lifecycle, object lock, tagging and public access block, and accepts
//! it everywhere else) and maps a bodyless 404 to the noun's "no such configuration" code.

use crate::error::{Error, InputError};

/// A configuration document carried by a sub-resource: its wire form both ways.
pub(crate) trait Document: Sized {
    /// The `Content-Type` it is sent with.
    const CONTENT_TYPE: &'static str = "application/xml";

    /// The request body.
    fn to_body(&self) -> String;

    /// Parses a reply body.
    fn from_body(body: &[u8]) -> Result<Self, Error>;

    /// Checks the document before anything is sent.
    fn validate(&self) -> Result<(), InputError> {
        Ok(())
    }
}

/// PUT `?$sub` on a bucket with a [`Document`] body.
macro_rules! put_bucket_doc {
    ($(#[$doc:meta])* $name:ident, $sub:literal, $noun:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            bucket: $crate::name::BucketName,
            document: $noun,
        }

        impl $name {
            /// Sets `bucket`'s configuration to `document` (checked before sending).
            pub fn new(bucket: $crate::name::BucketName, document: $noun) -> Self {
                $name { bucket, document }
            }
        }

        impl $crate::op::Operation for $name {
            type Output = ();

            fn bucket(&self) -> Option<&$crate::name::BucketName> {
                Some(&self.bucket)
            }

            fn request(
                &self,
                target: &$crate::endpoint::Target,
            ) -> Result<http::Request<$crate::body::Body>, $crate::error::Error> {
                let req = target
                    .request(http::Method::PUT, Some(&self.bucket), None)
                    .subresource($sub);
                $crate::ops::subresource::with_document(req, &self.document).build()
            }

            fn parse(&self, _: $crate::body::Response<'_>) -> Result<(), $crate::error::Error> {
                Ok(())
            }
        }
    };
}

/// GET `?$sub` on a bucket, parsed into a [`Document`]; a bodyless 404 becomes `$missing`.
macro_rules! get_bucket_doc {
    ($(#[$doc:meta])* $name:ident, $sub:literal, $noun:ty, $missing:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            bucket: $crate::name::BucketName,
        }

        impl $name {
            /// Reads `bucket`'s configuration.
            pub fn new(bucket: $crate::name::BucketName) -> Self {
                $name { bucket }
            }
        }

        impl $crate::op::Operation for $name {
            type Output = $noun;

            fn bucket(&self) -> Option<&$crate::name::BucketName> {
                Some(&self.bucket)
            }

            fn request(
                &self,
                target: &$crate::endpoint::Target,
            ) -> Result<http::Request<$crate::body::Body>, $crate::error::Error> {
                target
                    .request(http::Method::GET, Some(&self.bucket), None)
                    .subresource($sub)
                    .build()
            }

            fn parse(
                &self,
                resp: $crate::body::Response<'_>,
            ) -> Result<$noun, $crate::error::Error> {
                <$noun as $crate::ops::subresource::Document>::from_body(resp.body)
            }

            fn recover(
                &self,
                error: $crate::error::ServiceError,
            ) -> Result<$noun, $crate::error::Error> {
                Err($crate::ops::subresource::missing(error, $missing))
            }
        }
    };
}

/// DELETE `?$sub` on a bucket.
macro_rules! delete_bucket_doc {
    ($(#[$doc:meta])* $name:ident, $sub:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            bucket: $crate::name::BucketName,
        }

        impl $name {
            /// Removes `bucket`'s configuration.
            pub fn new(bucket: $crate::name::BucketName) -> Self {
                $name { bucket }
            }
        }

        impl $crate::op::Operation for $name {
            type Output = ();

            fn bucket(&self) -> Option<&$crate::name::BucketName> {
                Some(&self.bucket)
            }

            fn request(
                &self,
                target: &$crate::endpoint::Target,
            ) -> Result<http::Request<$crate::body::Body>, $crate::error::Error> {
                target
                    .request(http::Method::DELETE, Some(&self.bucket), None)
                    .subresource($sub)
                    .build()
            }

            fn parse(&self, _: $crate::body::Response<'_>) -> Result<(), $crate::error::Error> {
                Ok(())
            }
        }
    };
}

/// The common fields and setters of an object sub-resource action: bucket, key, version.
macro_rules! object_doc_common {
    ($name:ident) => {
        impl $name {
            /// Addresses a specific version of the object (`versionId`).
            pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
                self.version_id = Some(version_id.into());
                self
            }

            fn start(
                &self,
                target: &$crate::endpoint::Target,
                method: http::Method,
                sub: &str,
            ) -> $crate::request::RequestBuilder {
                target
                    .request(method, Some(&self.bucket), Some(&self.key))
                    .subresource(sub)
                    .query_opt("versionId", self.version_id.as_deref())
            }
        }
    };
}

/// PUT `?$sub` on an object (optionally one version) with a [`Document`] body.
macro_rules! put_object_doc {
    ($(#[$doc:meta])* $name:ident, $sub:literal, $noun:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            bucket: $crate::name::BucketName,
            key: $crate::name::ObjectKey,
            version_id: Option<String>,
            document: $noun,
        }

        impl $name {
            /// Sets the object's setting to `document` (sent with Content-MD5).
            pub fn new(
                bucket: $crate::name::BucketName,
                key: $crate::name::ObjectKey,
                document: $noun,
            ) -> Self {
                $name { bucket, key, version_id: None, document }
            }
        }

        $crate::ops::subresource::object_doc_common!($name);

        impl $crate::op::Operation for $name {
            type Output = ();

            fn bucket(&self) -> Option<&$crate::name::BucketName> {
                Some(&self.bucket)
            }

            fn request(
                &self,
                target: &$crate::endpoint::Target,
            ) -> Result<http::Request<$crate::body::Body>, $crate::error::Error> {
                let req = self.start(target, http::Method::PUT, $sub);
                $crate::ops::subresource::with_document(req, &self.document).build()
            }

            fn parse(&self, _: $crate::body::Response<'_>) -> Result<(), $crate::error::Error> {
                Ok(())
            }
        }
    };
}

/// GET `?$sub` on an object (optionally one version), parsed into a [`Document`].
macro_rules! get_object_doc {
    ($(#[$doc:meta])* $name:ident, $sub:literal, $noun:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            bucket: $crate::name::BucketName,
            key: $crate::name::ObjectKey,
            version_id: Option<String>,
        }

        impl $name {
            /// Reads the object's setting.
            pub fn new(bucket: $crate::name::BucketName, key: $crate::name::ObjectKey) -> Self {
                $name { bucket, key, version_id: None }
            }
        }

        $crate::ops::subresource::object_doc_common!($name);

        impl $crate::op::Operation for $name {
            type Output = $noun;

            fn bucket(&self) -> Option<&$crate::name::BucketName> {
                Some(&self.bucket)
            }

            fn request(
                &self,
                target: &$crate::endpoint::Target,
            ) -> Result<http::Request<$crate::body::Body>, $crate::error::Error> {
                self.start(target, http::Method::GET, $sub).build()
            }

            fn parse(
                &self,
                resp: $crate::body::Response<'_>,
            ) -> Result<$noun, $crate::error::Error> {
                <$noun as $crate::ops::subresource::Document>::from_body(resp.body)
            }
        }
    };
}

pub(crate) use {
    delete_bucket_doc, get_bucket_doc, get_object_doc, object_doc_common, put_bucket_doc,
    put_object_doc,
};

/// Adds `document` as the body with its Content-MD5, or records why it cannot be sent.
pub(crate) fn with_document<D: Document>(
    req: crate::request::RequestBuilder,
    document: &D,
) -> crate::request::RequestBuilder {
    if let Err(e) = document.validate() {
        return req.fail(e);
    }
    let body = document.to_body();
    req.header("content-md5", &crate::sign::content_md5(body.as_bytes()))
        .header("content-type", D::CONTENT_TYPE)
        .body(body)
}

/// Some servers answer a bodyless 404 where S3 sends a "no such configuration" document.
pub(crate) fn missing(
    mut error: crate::error::ServiceError,
    code: crate::error::ErrorCode,
) -> Error {
    if error.code == crate::error::ErrorCode::NotFound {
        error.code = code;
    }
    error.into()
}

/// The `xmlns` attribute of S3 request documents.
pub(crate) const S3_XMLNS: &str = r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#;
