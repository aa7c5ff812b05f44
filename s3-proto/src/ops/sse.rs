//! Bucket default encryption: PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption.

use crate::error::ErrorCode;
use crate::ops::subresource::{delete_bucket_doc, get_bucket_doc, put_bucket_doc};
use crate::sse::ServerSideEncryptionConfiguration;

put_bucket_doc! {
    /// Sets a bucket's default encryption (sent with Content-MD5).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html>
    PutBucketEncryption, "encryption", ServerSideEncryptionConfiguration
}

get_bucket_doc! {
    /// Reads a bucket's default encryption; none set fails with
    /// [`ErrorCode::ServerSideEncryptionConfigurationNotFoundError`].
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html>
    GetBucketEncryption, "encryption", ServerSideEncryptionConfiguration,
    ErrorCode::ServerSideEncryptionConfigurationNotFoundError
}

delete_bucket_doc! {
    /// Removes a bucket's default encryption.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html>
    DeleteBucketEncryption, "encryption"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Response;
    use crate::name::{BucketName, ObjectKey};
    use crate::op::Operation;
    use crate::ops::{CopyObject, GetObject, PutObject, UploadPart};
    use crate::sse::{CustomerKey, ServerSideEncryption};
    use crate::{Config, Error, InputError};
    use http::{HeaderMap, StatusCode};

    fn b() -> BucketName {
        BucketName::new("bucket").unwrap()
    }
    fn k() -> ObjectKey {
        ObjectKey::new("key").unwrap()
    }
    fn https() -> Config {
        Config::new("https://s3.example.com", "us-east-1").unwrap()
    }
    fn http() -> Config {
        Config::new("http://127.0.0.1:9000", "us-east-1").unwrap()
    }

    #[test]
    fn sse_s3_and_kms_headers() {
        let req = PutObject::new(b(), k(), "x")
            .server_side_encryption(ServerSideEncryption::S3)
            .request(http().target())
            .unwrap();
        assert_eq!(req.headers()["x-amz-server-side-encryption"], "AES256");
        let kms = ServerSideEncryption::kms()
            .key_id("alias/k")
            .context_json(r#"{"a":"b"}"#)
            .bucket_key_enabled(true);
        let req = PutObject::new(b(), k(), "x")
            .server_side_encryption(kms.into())
            .request(http().target())
            .unwrap();
        let h = req.headers();
        assert_eq!(h["x-amz-server-side-encryption"], "aws:kms");
        assert_eq!(h["x-amz-server-side-encryption-aws-kms-key-id"], "alias/k");
        assert_eq!(h["x-amz-server-side-encryption-context"], "eyJhIjoiYiJ9");
        assert_eq!(h["x-amz-server-side-encryption-bucket-key-enabled"], "true");
    }

    #[test]
    fn sse_c_key_checked_hidden_and_refused_over_http() {
        assert!(matches!(
            ServerSideEncryption::customer(&[0; 16]),
            Err(InputError::InvalidArgument { .. })
        ));
        let key = CustomerKey::new(&[7; 32]).unwrap();
        let b64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
        let op = GetObject::new(b(), k()).sse_customer_key(key.clone());
        assert!(!format!("{op:?}").contains(b64));
        assert!(!format!("{key:?}").contains(b64));
        let err = op.request(http().target()).unwrap_err();
        assert!(matches!(
            err,
            Error::Input(InputError::InvalidArgument { .. })
        ));
        assert!(!err.to_string().contains(b64));
        let req = op.request(https().target()).unwrap();
        let h = req.headers();
        assert_eq!(
            h["x-amz-server-side-encryption-customer-algorithm"],
            "AES256"
        );
        assert_eq!(h["x-amz-server-side-encryption-customer-key"], b64);
        assert_eq!(
            h["x-amz-server-side-encryption-customer-key-MD5"],
            key.md5()
        );
        let op = UploadPart::new(b(), k(), "up", 1, "x").sse_customer_key(key.clone().allow_http());
        assert!(op.request(http().target()).is_ok());

        let copy = CopyObject::new(b(), k(), b(), ObjectKey::new("dst").unwrap())
            .server_side_encryption(ServerSideEncryption::S3)
            .copy_source_sse_customer_key(key);
        let req = copy.request(https().target()).unwrap();
        let h = req.headers();
        assert_eq!(h["x-amz-server-side-encryption"], "AES256");
        assert_eq!(
            h["x-amz-copy-source-server-side-encryption-customer-key"],
            b64
        );
    }

    #[test]
    fn bucket_encryption_round_trip() {
        let cfg =
            ServerSideEncryptionConfiguration::kms(Some("arn:k".into())).bucket_key_enabled(true);
        let req = PutBucketEncryption::new(b(), cfg.clone())
            .request(http().target())
            .unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket?encryption");
        assert!(req.headers().contains_key("content-md5"));
        let body = req.body().as_bytes().unwrap();
        let h = HeaderMap::new();
        let get = GetBucketEncryption::new(b());
        assert_eq!(
            get.parse(Response::new(StatusCode::OK, &h, body)).unwrap(),
            cfg
        );
        for cut in 0..body.len() {
            let _ = get.parse(Response::new(StatusCode::OK, &h, &body[..cut]));
        }
        assert!(
            get.parse(Response::new(StatusCode::OK, &h, b"<Nope/>"))
                .is_err()
        );
        let err =
            crate::config::finish(&get, Response::new(StatusCode::NOT_FOUND, &h, b"")).unwrap_err();
        assert_eq!(
            err.code(),
            Some(&ErrorCode::ServerSideEncryptionConfigurationNotFoundError)
        );
        assert!(
            PutBucketEncryption::new(b(), ServerSideEncryptionConfiguration::default())
                .request(http().target())
                .is_err()
        );
    }
}
