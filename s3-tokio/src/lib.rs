//! An async S3 client: [`s3_proto`] operations executed over tokio and hyper.
//!
//! The same API as `s3-blocking`, with `async` added: [`Client::send`] executes any
//! operation, and the [`Bucket`] handle offers the boto-style conveniences. Every decision
//! (signing, addressing, paging, length checks, errors) is made in `s3-proto`.
//!
//! ```no_run
//! # async fn run() -> Result<(), s3_tokio::Error> {
//! let client = s3_tokio::Client::from_env()?;
//! let bucket = client.create_bucket("my-tutorial-bucket").await?;
//! bucket.put_string("foobar", "This is a test of S3").await?;
//! println!("{:?}", bucket.get_string("foobar").await?);
//! # Ok(())
//! # }
//! ```

mod body;
mod bucket;
mod client;
mod transfer;

pub use body::ObjectStream;
pub use bucket::{Bucket, List, ListEntry};
pub use client::{Client, Options};
pub use s3_proto::flow::download::DownloadOptions;
pub use s3_proto::flow::progress::Progress;
pub use s3_proto::flow::upload::{UploadOptions, UploadOutput};
pub use s3_proto::{self as proto, Error, ErrorCode};

/// An IO failure while reading or writing a body, as a transport error.
pub(crate) fn io_error(e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::UnexpectedEof => s3_proto::TransportErrorKind::Truncated,
        std::io::ErrorKind::TimedOut => s3_proto::TransportErrorKind::Timeout,
        _ => s3_proto::TransportErrorKind::Io,
    };
    s3_proto::TransportError::new(kind, format!("i/o error: {e}"))
        .with_source(e)
        .into()
}
