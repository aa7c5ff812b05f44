//! Server access logging actions: PutBucketLogging, GetBucketLogging.

use crate::error::ErrorCode;
use crate::logging::BucketLoggingStatus;
use crate::ops::subresource::{get_bucket_doc, put_bucket_doc};

put_bucket_doc! {
    /// Turns a bucket's access logging on (to a target bucket and prefix) or off.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html>
    PutBucketLogging, "logging", BucketLoggingStatus
}

get_bucket_doc! {
    /// Reads where a bucket's access logs go (an empty status when logging is off).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLogging.html>
    GetBucketLogging, "logging", BucketLoggingStatus, ErrorCode::NoSuchBucket
}
