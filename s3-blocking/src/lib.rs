#![doc = include_str!("../README.md")]

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
