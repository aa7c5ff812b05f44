//! Object lock actions: Put/GetObjectLockConfiguration, Put/GetObjectRetention,
//! Put/GetObjectLegalHold.

use http::Method;

use crate::body::{Body, Response};
use crate::endpoint::Target;
use crate::error::{Error, ErrorCode};
use crate::lock::{LegalHold, ObjectLockConfiguration, ObjectLockRetention};
use crate::name::{BucketName, ObjectKey};
use crate::op::Operation;
use crate::ops::subresource::{
    get_bucket_doc, get_object_doc, object_doc_common, put_bucket_doc, put_object_doc,
    with_document,
};

put_bucket_doc! {
    /// Sets a bucket's object lock configuration (the bucket must have been created with
    /// object lock; sent with Content-MD5).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html>
    PutObjectLockConfiguration, "object-lock", ObjectLockConfiguration
}

get_bucket_doc! {
    /// Reads a bucket's object lock configuration; none fails with
    /// [`ErrorCode::ObjectLockConfigurationNotFoundError`].
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html>
    GetObjectLockConfiguration, "object-lock", ObjectLockConfiguration,
    ErrorCode::ObjectLockConfigurationNotFoundError
}

/// Sets an object version's retention (sent with Content-MD5).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObjectRetention {
    bucket: BucketName,
    key: ObjectKey,
    version_id: Option<String>,
    retention: ObjectLockRetention,
    bypass_governance: bool,
}

impl PutObjectRetention {
    /// Retains `key` (its current version unless [`PutObjectRetention::version_id`] is set).
    pub fn new(bucket: BucketName, key: ObjectKey, retention: ObjectLockRetention) -> Self {
        PutObjectRetention {
            bucket,
            key,
            version_id: None,
            retention,
            bypass_governance: false,
        }
    }

    /// Shortens or removes a governance-mode retention (`x-amz-bypass-governance-retention`;
    /// needs `s3:BypassGovernanceRetention`).
    pub fn bypass_governance_retention(mut self, bypass: bool) -> Self {
        self.bypass_governance = bypass;
        self
    }
}

object_doc_common!(PutObjectRetention);

impl Operation for PutObjectRetention {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = self.start(target, Method::PUT, "retention").header_opt(
            "x-amz-bypass-governance-retention",
            self.bypass_governance.then_some("true"),
        );
        with_document(req, &self.retention).build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

get_object_doc! {
    /// Reads an object version's retention.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html>
    GetObjectRetention, "retention", ObjectLockRetention
}

put_object_doc! {
    /// Puts a legal hold on an object version, or lifts it.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLegalHold.html>
    PutObjectLegalHold, "legal-hold", LegalHold
}

get_object_doc! {
    /// Reads an object version's legal hold.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html>
    GetObjectLegalHold, "legal-hold", LegalHold
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::lock::RetentionMode;
    use crate::ops::CreateBucket;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn lock_requests() {
        let c = Config::new("http://h", "us-east-1").unwrap();
        let b = BucketName::new("bucket").unwrap();
        let k = ObjectKey::new("k").unwrap();
        let req = CreateBucket::new(b.clone())
            .object_lock_enabled(true)
            .request(c.target())
            .unwrap();
        assert_eq!(req.headers()["x-amz-bucket-object-lock-enabled"], "true");
        let r = ObjectLockRetention::new(
            RetentionMode::Governance,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        );
        let req = PutObjectRetention::new(b.clone(), k.clone(), r)
            .version_id("v1")
            .bypass_governance_retention(true)
            .request(c.target())
            .unwrap();
        assert_eq!(req.uri(), "http://h/bucket/k?retention&versionId=v1");
        assert_eq!(req.headers()["x-amz-bypass-governance-retention"], "true");
        assert!(req.headers().contains_key("content-md5"));
        let req = PutObjectLegalHold::new(b.clone(), k.clone(), LegalHold::new(true))
            .request(c.target())
            .unwrap();
        assert_eq!(req.uri(), "http://h/bucket/k?legal-hold");
        let req = GetObjectLockConfiguration::new(b.clone())
            .request(c.target())
            .unwrap();
        assert_eq!(req.uri(), "http://h/bucket?object-lock");
        let until = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let req = crate::ops::PutObject::new(b, k, "x")
            .object_lock_retention(ObjectLockRetention::new(RetentionMode::Compliance, until))
            .object_lock_legal_hold(LegalHold::new(true))
            .request(c.target())
            .unwrap();
        let h = req.headers();
        assert_eq!(h["x-amz-object-lock-mode"], "COMPLIANCE");
        assert_eq!(
            h["x-amz-object-lock-retain-until-date"],
            "2027-01-15T08:00:00.000Z"
        );
        assert_eq!(h["x-amz-object-lock-legal-hold"], "ON");
    }
}
