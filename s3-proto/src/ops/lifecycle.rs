//! Lifecycle actions: PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration,
//! DeleteBucketLifecycle.

use crate::error::ErrorCode;
use crate::lifecycle::LifecycleConfiguration;
use crate::ops::subresource::{delete_bucket_doc, get_bucket_doc, put_bucket_doc};

put_bucket_doc! {
    /// Replaces a bucket's lifecycle rules (validated first; sent with Content-MD5).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html>
    PutBucketLifecycleConfiguration, "lifecycle", LifecycleConfiguration
}

get_bucket_doc! {
    /// Reads a bucket's lifecycle rules; none fails with
    /// [`ErrorCode::NoSuchLifecycleConfiguration`].
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html>
    GetBucketLifecycleConfiguration, "lifecycle", LifecycleConfiguration,
    ErrorCode::NoSuchLifecycleConfiguration
}

delete_bucket_doc! {
    /// Removes all of a bucket's lifecycle rules.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html>
    DeleteBucketLifecycle, "lifecycle"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::LifecycleRule;
    use crate::op::Operation;
    use crate::{BucketName, Config};

    #[test]
    fn put_sends_md5_and_validates() {
        let c = Config::new("http://h", "us-east-1").unwrap();
        let b = BucketName::new("bucket").unwrap();
        let cfg = LifecycleConfiguration::new()
            .rule(LifecycleRule::new("mpu").abort_incomplete_multipart_upload_after_days(1));
        let req = PutBucketLifecycleConfiguration::new(b.clone(), cfg)
            .request(c.target())
            .unwrap();
        assert_eq!(req.uri(), "http://h/bucket?lifecycle");
        assert!(req.headers().contains_key("content-md5"));
        assert!(
            PutBucketLifecycleConfiguration::new(b, LifecycleConfiguration::new())
                .request(c.target())
                .is_err()
        );
    }
}
