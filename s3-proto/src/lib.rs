//! Sans-IO S3: operations become `http::Request` values, responses become typed results.
//!
//! This crate does no IO. It never opens a socket or a file, never reads the clock or the
//! environment, and never spawns a thread: time, credentials and bodies come in as values.
//! Any runtime drives it in three steps:
//!
//! 1. [`Config::prepare`] turns an operation into a signed `http::Request<Body>`;
//! 2. the runtime sends it with any HTTP client and reads the status, headers and body;
//! 3. [`Config::finish`] turns that response into the operation's output or an [`Error`].
//!
//! `s3-blocking` (ureq) and `s3-async` (hyper) are such runtimes.
//!
//! Credentials follow the same rule: the AWS SDKs' provider chain ([`credentials::chain`]) is a
//! machine that asks for HTTP requests, file reads and commands as values, and
//! [`credentials::cache`] decides when they are refreshed; the runtime performs the IO.
#![doc = include_str!("../README.md")]

pub mod acl;
pub mod body;
pub mod builder;
pub mod checksum;
pub mod config;
pub mod cors;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod extras;
pub mod flow;
mod headers;
pub mod integrity;
pub mod lifecycle;
pub mod lock;
pub mod logging;
pub mod meta;
pub mod mime;
pub mod name;
pub mod object;
pub mod op;
pub mod ops;
pub mod policy;
pub mod post;
pub mod presign;
pub mod profile;
pub mod proxy;
pub mod quirks;
pub mod request;
pub mod retry;
pub mod sign;
#[cfg(feature = "sim")]
pub mod sim;
mod sorted;
pub mod sse;
pub mod surface;
pub mod tagging;
pub mod time;
pub mod tls;
pub mod versioning;
mod xml;

pub use acl::CannedAcl;
pub use body::{Body, BodyMode, PayloadHash, Response};
pub use checksum::{Checksum, ChecksumAlgorithm, ChecksumPolicy};
pub use config::{Config, SignatureVersion};
pub use credentials::{Credentials, CredentialsError, Secret};
pub use endpoint::{Addressing, Endpoint, Target};
pub use error::{
    Deadline, Error, ErrorCode, ErrorElements, InputError, ResponseError, ServiceError,
    TransportError, TransportErrorKind,
};
pub use meta::Metadata;
pub use name::{BucketName, ObjectKey};
pub use object::{ByteRange, ContentRange, ObjectHead, ResponseOverrides};
pub use op::Operation;
pub use request::RequestBuilder;
pub use sse::{CustomerKey, ServerSideEncryption};
pub use tagging::TagSet;
pub use xml::{MAX_XML_BODY, MAX_XML_DEPTH};

/// The types most programs name, for one `use` line (each runtime's `prelude` adds its
/// client types to these).
pub mod prelude {
    pub use crate::acl::{CannedAcl, Permission};
    pub use crate::builder::ClientBuilder;
    pub use crate::credentials::Credentials;
    pub use crate::endpoint::Addressing;
    pub use crate::error::{Error, ErrorCode};
    pub use crate::integrity::{Integrity, Verification};
    pub use crate::meta::Metadata;
    pub use crate::object::{ByteRange, ObjectHead, ResponseOverrides};
    pub use crate::ops::LocationConstraint;
    pub use crate::retry::{RetryMode, RetryPolicy};
}
