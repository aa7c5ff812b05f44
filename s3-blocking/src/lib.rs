//! A blocking S3 client: [`s3_proto`] operations executed over [ureq](https://docs.rs/ureq).
//!
//! Every decision (signing, addressing, retries, paging, part sizes, length checks, errors)
//! is made in `s3-proto`; this crate does the IO. [`Client::send`] executes any operation,
//! [`Client::drive`] any multi-request flow, and the [`Bucket`] handle offers the
//! boto-style conveniences: strings, bytes and files in and out, listings that page by
//! themselves, ACLs, metadata and CORS.
//!
//! ```no_run
//! use s3_blocking::Client;
//!
//! let client = Client::from_env()?;            // AWS_* variables and ~/.aws files
//! let bucket = client.create_bucket("my-tutorial-bucket")?;
//! bucket.put_string("foobar", "This is a test of S3")?;
//! println!("{:?}", bucket.get_string("foobar")?);
//! # Ok::<(), s3_blocking::Error>(())
//! ```

mod body;
mod bucket;
mod client;
pub mod credentials;
mod transfer;

/// One `use` for most programs: the client, its handle and options, and the common protocol
/// types.
pub mod prelude {
    pub use crate::{
        Bucket, Client, CopyOptions, DownloadOptions, ListEntry, Options, UploadOptions,
    };
    pub use s3_proto::prelude::*;
}

pub use body::ObjectReader;
pub use bucket::{Bucket, List};
pub use client::Client;
pub use s3_proto::flow::copy::CopyOptions;
pub use s3_proto::flow::download::DownloadOptions;
pub use s3_proto::flow::paginate::ListEntry;
pub use s3_proto::flow::progress::Progress;
pub use s3_proto::flow::request::Options;
pub use s3_proto::flow::upload::{UploadOptions, UploadOutput};
pub use s3_proto::{self as proto, Error, ErrorCode};
