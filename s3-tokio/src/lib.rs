#![doc = include_str!("../README.md")]

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
