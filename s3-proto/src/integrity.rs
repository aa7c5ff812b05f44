//! Content checks: MD5 computed as bytes stream by, compared with what S3 says.
//!
//! S3's ETag is the hex MD5 of the object for a single-part upload stored without SSE-KMS or
//! a customer key; a multipart ETag (`"…-N"`) or an encrypted object's is not. Uploads can
//! send `Content-MD5` so the server refuses a corrupted body; downloads can check the body
//! against a plain ETag.

use base64::Engine as _;
use md5::Digest as _;

use crate::error::{Error, ResponseError};
use crate::object::ObjectHead;

/// An MD5 fed piece by piece.
#[derive(Debug, Clone, Default)]
pub struct Md5 {
    inner: md5::Md5,
}

impl Md5 {
    /// An empty digest.
    pub fn new() -> Self {
        Md5::default()
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The digest as a `Content-MD5` header value (base64).
    pub fn content_md5(self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.inner.finalize())
    }

    /// The digest as lower-case hex (how a plain ETag spells it).
    pub fn hex(self) -> String {
        crate::sign::hex(&self.inner.finalize())
    }
}

/// The MD5 a downloaded body must have, when the object's ETag is one.
pub fn expected_md5(head: &ObjectHead) -> Option<&str> {
    let etag = head.etag.as_deref()?.trim_matches('"');
    let plain = etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit());
    let encrypted = head.sse_customer_algorithm.is_some()
        || head
            .server_side_encryption
            .as_deref()
            .is_some_and(|s| s != "AES256");
    // A ranged reply's ETag is the whole object's.
    (plain && !encrypted && head.content_range.is_none()).then_some(etag)
}

/// Checks the MD5 of a whole body against the ETag it came with.
///
/// # Errors
/// [`ResponseError::ChecksumMismatch`] when they differ.
pub fn check_md5(head: &ObjectHead, body: Md5) -> Result<(), Error> {
    match (expected_md5(head), &head.etag) {
        (Some(expected), Some(etag)) => compare_md5(expected, etag, body),
        _ => Ok(()),
    }
}

/// Compares the MD5 of a body with `expected` (hex), which `etag` (quoted) carried.
pub(crate) fn compare_md5(expected: &str, etag: &str, body: Md5) -> Result<(), Error> {
    let actual = body.hex();
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(ResponseError::ChecksumMismatch {
            etag: etag.to_owned(),
            actual,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(etag: &str) -> ObjectHead {
        ObjectHead {
            etag: Some(etag.to_owned()),
            ..ObjectHead::default()
        }
    }

    #[test]
    fn plain_etags_are_checked() {
        let mut md5 = Md5::new();
        md5.update(b"hel");
        md5.update(b"lo");
        assert_eq!(
            md5.clone().content_md5(),
            crate::sign::content_md5(b"hello")
        );
        let good = head("\"5d41402abc4b2a76b9719d911017c592\"");
        check_md5(&good, md5.clone()).unwrap();
        let bad = head("\"00000000000000000000000000000000\"");
        assert!(matches!(
            check_md5(&bad, md5.clone()),
            Err(Error::Response(ResponseError::ChecksumMismatch { .. }))
        ));
        // Multipart and encrypted objects carry no MD5 ETag.
        check_md5(&head("\"3858f62230ac3c915f300c664312c11f-9\""), md5.clone()).unwrap();
        let kms = ObjectHead {
            server_side_encryption: Some("aws:kms".to_owned()),
            ..bad.clone()
        };
        check_md5(&kms, md5.clone()).unwrap();
        assert_eq!(
            expected_md5(&good),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
    }
}
