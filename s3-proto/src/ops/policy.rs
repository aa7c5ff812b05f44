//! Access actions: Put/Get/DeleteBucketPolicy, Put/Get/DeletePublicAccessBlock,
//! Put/Get/DeleteBucketOwnershipControls.

use crate::error::ErrorCode;
use crate::ops::subresource::{delete_bucket_doc, get_bucket_doc, put_bucket_doc};
use crate::policy::{BucketPolicy, OwnershipControls, PublicAccessBlockConfiguration};

put_bucket_doc! {
    /// Sets a bucket's policy (checked to be a JSON object with a `Statement` first).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html>
    PutBucketPolicy, "policy", BucketPolicy
}

get_bucket_doc! {
    /// Reads a bucket's policy as JSON text; none fails with [`ErrorCode::NoSuchBucketPolicy`].
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html>
    GetBucketPolicy, "policy", BucketPolicy, ErrorCode::NoSuchBucketPolicy
}

delete_bucket_doc! {
    /// Removes a bucket's policy.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html>
    DeleteBucketPolicy, "policy"
}

put_bucket_doc! {
    /// Sets a bucket's public access block (sent with Content-MD5).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html>
    PutPublicAccessBlock, "publicAccessBlock", PublicAccessBlockConfiguration
}

get_bucket_doc! {
    /// Reads a bucket's public access block; none fails with
    /// [`ErrorCode::NoSuchPublicAccessBlockConfiguration`].
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetPublicAccessBlock.html>
    GetPublicAccessBlock, "publicAccessBlock", PublicAccessBlockConfiguration,
    ErrorCode::NoSuchPublicAccessBlockConfiguration
}

delete_bucket_doc! {
    /// Removes a bucket's public access block.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeletePublicAccessBlock.html>
    DeletePublicAccessBlock, "publicAccessBlock"
}

put_bucket_doc! {
    /// Sets a bucket's object ownership (`BucketOwnerEnforced` disables ACLs).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html>
    PutBucketOwnershipControls, "ownershipControls", OwnershipControls
}

get_bucket_doc! {
    /// Reads a bucket's object ownership; none fails with
    /// [`ErrorCode::OwnershipControlsNotFoundError`].
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketOwnershipControls.html>
    GetBucketOwnershipControls, "ownershipControls", OwnershipControls,
    ErrorCode::OwnershipControlsNotFoundError
}

delete_bucket_doc! {
    /// Removes a bucket's ownership controls.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketOwnershipControls.html>
    DeleteBucketOwnershipControls, "ownershipControls"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Response;
    use crate::op::Operation;
    use crate::{BucketName, Config, Error, InputError};
    use http::{HeaderMap, StatusCode};

    #[test]
    fn policy_requests() {
        let c = Config::new("http://h", "us-east-1").unwrap();
        let b = BucketName::new("bucket").unwrap();
        let p = BucketPolicy::builder(&b).public_read("public/").build();
        let req = PutBucketPolicy::new(b.clone(), p.clone())
            .request(c.target())
            .unwrap();
        assert_eq!(req.uri(), "http://h/bucket?policy");
        assert_eq!(req.headers()["content-type"], "application/json");
        assert!(matches!(
            PutBucketPolicy::new(b.clone(), BucketPolicy::from_json("{}")).request(c.target()),
            Err(Error::Input(InputError::InvalidArgument { .. }))
        ));
        let h = HeaderMap::new();
        let got = GetBucketPolicy::new(b.clone())
            .parse(Response::new(StatusCode::OK, &h, p.as_str().as_bytes()))
            .unwrap();
        assert_eq!(got, p);
        assert!(
            GetBucketPolicy::new(b.clone())
                .parse(Response::new(StatusCode::OK, &h, b"\xff"))
                .is_err()
        );
        let req = PutPublicAccessBlock::new(b, PublicAccessBlockConfiguration::all())
            .request(c.target())
            .unwrap();
        assert_eq!(req.uri(), "http://h/bucket?publicAccessBlock");
        assert!(req.headers().contains_key("content-md5"));
    }
}
