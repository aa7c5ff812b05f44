//! An async S3 client: [`s3_proto`] operations executed over tokio and
//! [hyper](https://docs.rs/hyper).
//!
//! The same API as `s3-blocking`, with `async` added. Every decision (signing, addressing,
//! retries, paging, part sizes, length checks, errors) is made in `s3-proto`; this crate does
//! the IO. [`Client::send`] executes any operation, [`Client::drive`] any multi-request flow
//! (its parallel jobs as tokio tasks), and the [`Bucket`] handle offers the boto-style
//! conveniences: strings, bytes and files in and out, listings that page by themselves, ACLs,
//! metadata and CORS.
//!
//! ```no_run
//! # async fn run() -> Result<(), s3_tokio::Error> {
//! let client = s3_tokio::Client::from_env()?;  // AWS_* variables and ~/.aws files
//! let bucket = client.create_bucket("my-tutorial-bucket").await?;
//! bucket.put_string("foobar", "This is a test of S3").await?;
//! println!("{:?}", bucket.get_string("foobar").await?);
//! # Ok(())
//! # }
//! ```

mod body;
mod bucket;
mod client;
pub mod credentials;
mod transfer;

pub use s3_proto::flow::{
    copy::CopyOptions, download::DownloadOptions, paginate::ListEntry, progress::Progress,
    request::Options, upload::UploadOptions, upload::UploadOutput,
};

/// One `use` for most programs: the client, its handle and options, and the common protocol
/// types.
pub mod prelude {
    pub use crate::{
        Bucket, Client, CopyOptions, DownloadOptions, ListEntry, Options, UploadOptions,
    };
    pub use s3_proto::prelude::*;
}

pub use body::ObjectStream;
pub use bucket::{Bucket, List};
pub use client::Client;
pub use s3_proto::{self as proto, Error, ErrorCode};
