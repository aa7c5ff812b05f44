//! Server access logging of a bucket: where its access logs go (`BucketLoggingStatus`).
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html>

use crate::error::{Error, InputError};
use crate::ops::subresource::{Document, S3_XMLNS};
use crate::xml::{XmlReader, XmlWriter};

/// Whether a bucket's access is logged, and where: `None` turns logging off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketLoggingStatus {
    /// The target of the logs; `None` when logging is off.
    pub logging_enabled: Option<LoggingEnabled>,
}

/// Where access logs are written: a bucket (the caller's, in the same region) and a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggingEnabled {
    /// `TargetBucket`.
    pub target_bucket: String,
    /// `TargetPrefix` (may be empty).
    pub target_prefix: String,
}

impl BucketLoggingStatus {
    /// Logging off.
    pub fn disabled() -> Self {
        BucketLoggingStatus::default()
    }

    /// Logs written to `target_bucket` under `target_prefix`.
    pub fn to_bucket(target_bucket: impl Into<String>, target_prefix: impl Into<String>) -> Self {
        let target = LoggingEnabled {
            target_bucket: target_bucket.into(),
            target_prefix: target_prefix.into(),
        };
        BucketLoggingStatus {
            logging_enabled: Some(target),
        }
    }
}

impl Document for BucketLoggingStatus {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("BucketLoggingStatus", S3_XMLNS);
        if let Some(target) = &self.logging_enabled {
            w.open("LoggingEnabled")
                .element("TargetBucket", &target.target_bucket)
                .element("TargetPrefix", &target.target_prefix)
                .close("LoggingEnabled");
        }
        w.close("BucketLoggingStatus");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("BucketLoggingStatus")?;
        let mut out = BucketLoggingStatus::default();
        while let Some(tag) = r.next_child()? {
            if tag.name() != b"LoggingEnabled" {
                r.skip()?;
                continue;
            }
            let (mut bucket, mut prefix) = (String::new(), String::new());
            while let Some(inner) = r.next_child()? {
                match inner.name() {
                    b"TargetBucket" => bucket = r.text()?.into_owned(),
                    b"TargetPrefix" => prefix = r.text()?.into_owned(),
                    _ => r.skip()?,
                }
            }
            out = BucketLoggingStatus::to_bucket(bucket, prefix);
        }
        r.finish()?;
        Ok(out)
    }

    fn validate(&self) -> Result<(), InputError> {
        match &self.logging_enabled {
            Some(t) if t.target_bucket.is_empty() => Err(InputError::argument(
                "target_bucket",
                "logging needs a target bucket",
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_what_servers_send() {
        for status in [
            BucketLoggingStatus::disabled(),
            BucketLoggingStatus::to_bucket("logs", "access/"),
        ] {
            let body = status.to_body();
            assert_eq!(
                BucketLoggingStatus::from_body(body.as_bytes()).unwrap(),
                status
            );
        }
        let aws = br#"<?xml version="1.0" encoding="UTF-8"?>
<BucketLoggingStatus xmlns="http://doc.s3.amazonaws.com/2006-03-01"><LoggingEnabled>
<TargetBucket>mybucketlogs</TargetBucket><TargetPrefix>mybucket-access_log-/</TargetPrefix>
<TargetGrants><Grant><Grantee><URI>x</URI></Grantee><Permission>READ</Permission></Grant>
</TargetGrants></LoggingEnabled></BucketLoggingStatus>"#;
        let read = BucketLoggingStatus::from_body(aws).unwrap();
        assert_eq!(
            read,
            BucketLoggingStatus::to_bucket("mybucketlogs", "mybucket-access_log-/")
        );
        assert!(BucketLoggingStatus::from_body(b"<Other/>").is_err());
        assert!(BucketLoggingStatus::from_body(b"<BucketLoggingStatus><Logging").is_err());
        assert!(BucketLoggingStatus::to_bucket("", "p").validate().is_err());
    }
}
