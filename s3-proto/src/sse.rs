//! Server-side encryption: the per-request choice (SSE-S3, SSE-KMS, SSE-C) and a bucket's
//! default encryption configuration.

use std::fmt;

use base64::Engine as _;

use crate::endpoint::Target;
use crate::error::{Error, InputError, ResponseError};
use crate::ops::subresource::{Document, S3_XMLNS};
use crate::request::RequestBuilder;
use crate::xml::{XmlReader, XmlWriter};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// How S3 encrypts an object at rest, chosen per request.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html>
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerSideEncryption {
    /// SSE-S3: keys managed by S3 (`x-amz-server-side-encryption: AES256`).
    S3,
    /// SSE-KMS: keys in a KMS (`aws:kms`).
    Kms(SseKms),
    /// SSE-C: the caller's own key, sent with every request that touches the object.
    Customer(CustomerKey),
}

impl ServerSideEncryption {
    /// SSE-KMS with the account's default key; refine with [`SseKms`]'s setters.
    pub fn kms() -> SseKms {
        SseKms::default()
    }

    /// SSE-C with a 256-bit `key`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `key` is not 32 bytes.
    pub fn customer(key: &[u8]) -> Result<Self, InputError> {
        CustomerKey::new(key).map(ServerSideEncryption::Customer)
    }

    /// Adds this choice's headers to a write (PutObject, CreateMultipartUpload, CopyObject's
    /// destination); SSE-C over plain http is refused unless the key allows it.
    pub(crate) fn apply(&self, req: RequestBuilder, target: &Target) -> RequestBuilder {
        match self {
            ServerSideEncryption::S3 => req.header(SSE, "AES256"),
            ServerSideEncryption::Kms(kms) => kms.apply(req),
            ServerSideEncryption::Customer(key) => key.apply(req, target, false),
        }
    }
}

impl From<SseKms> for ServerSideEncryption {
    fn from(kms: SseKms) -> Self {
        ServerSideEncryption::Kms(kms)
    }
}

impl From<CustomerKey> for ServerSideEncryption {
    fn from(key: CustomerKey) -> Self {
        ServerSideEncryption::Customer(key)
    }
}

const SSE: &str = "x-amz-server-side-encryption";

/// SSE-KMS settings: key id, encryption context and S3 Bucket Keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseKms {
    key_id: Option<String>,
    context: Option<String>,
    bucket_key: Option<bool>,
}

impl SseKms {
    /// Encrypts under this KMS key (id, ARN or alias) instead of the account default.
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// An encryption context: a JSON object of string pairs, sent base64-encoded as S3 wants.
    pub fn context_json(mut self, json: &str) -> Self {
        self.context = Some(B64.encode(json));
        self
    }

    /// Uses (or refuses) an S3 Bucket Key, which cuts KMS calls for busy buckets.
    pub fn bucket_key_enabled(mut self, enabled: bool) -> Self {
        self.bucket_key = Some(enabled);
        self
    }

    fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        req.header(SSE, "aws:kms")
            .header_opt(
                "x-amz-server-side-encryption-aws-kms-key-id",
                self.key_id.as_deref(),
            )
            .header_opt(
                "x-amz-server-side-encryption-context",
                self.context.as_deref(),
            )
            .header_opt(
                "x-amz-server-side-encryption-bucket-key-enabled",
                self.bucket_key.map(|b| if b { "true" } else { "false" }),
            )
    }
}

/// An SSE-C key: 32 bytes the caller keeps; S3 stores only its MD5.
///
/// `Debug` prints the MD5, never the key. Over plain `http` the key would cross the network
/// in clear, so requests carrying it are refused unless [`CustomerKey::allow_http`] is set.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomerKey {
    key_b64: String,
    md5_b64: String,
    allow_http: bool,
}

impl CustomerKey {
    /// A key from its 32 raw bytes.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `key` is not 32 bytes (AES-256).
    pub fn new(key: &[u8]) -> Result<Self, InputError> {
        if key.len() != 32 {
            return Err(InputError::argument(
                "sse_customer_key",
                format!("an SSE-C key is 32 bytes, not {}", key.len()),
            ));
        }
        Ok(CustomerKey {
            key_b64: B64.encode(key),
            md5_b64: crate::sign::content_md5(key),
            allow_http: false,
        })
    }

    /// Lets requests carrying this key go over plain `http` (a test server on loopback, or
    /// Ceph RGW with `rgw_crypt_require_ssl = false`).
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// The key's MD5, base64: what S3 reports back and stores.
    pub fn md5(&self) -> &str {
        &self.md5_b64
    }

    /// Adds the `x-amz-server-side-encryption-customer-*` headers, or the
    /// `x-amz-copy-source-…` ones for a copy source.
    pub(crate) fn apply(
        &self,
        req: RequestBuilder,
        target: &Target,
        copy_source: bool,
    ) -> RequestBuilder {
        if !self.allow_http && !target.endpoint().is_https() {
            return req.fail(InputError::argument(
                "sse_customer_key",
                "SSE-C sends the key in a header: refused over plain http \
                 (CustomerKey::allow_http opts in)",
            ));
        }
        let prefix = if copy_source {
            "x-amz-copy-source-server-side-encryption-customer-"
        } else {
            "x-amz-server-side-encryption-customer-"
        };
        req.header(&format!("{prefix}algorithm"), "AES256")
            .header(&format!("{prefix}key"), &self.key_b64)
            .header(&format!("{prefix}key-MD5"), &self.md5_b64)
    }
}

impl fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerKey")
            .field("key", &"***")
            .field("md5", &self.md5_b64)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Adds an optional SSE-C key's headers.
pub(crate) fn apply_customer(
    key: Option<&CustomerKey>,
    req: RequestBuilder,
    target: &Target,
    copy_source: bool,
) -> RequestBuilder {
    match key {
        Some(k) => k.apply(req, target, copy_source),
        None => req,
    }
}

/// Adds an optional SSE choice's headers.
pub(crate) fn apply_sse(
    sse: Option<&ServerSideEncryption>,
    req: RequestBuilder,
    target: &Target,
) -> RequestBuilder {
    match sse {
        Some(s) => s.apply(req, target),
        None => req,
    }
}

/// A bucket's default encryption, applied to objects written without SSE headers.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionConfiguration.html>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerSideEncryptionConfiguration {
    /// The rules (S3 takes exactly one).
    pub rules: Vec<ServerSideEncryptionRule>,
}

/// One default-encryption rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerSideEncryptionRule {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub sse_algorithm: String,
    /// The KMS key, for `aws:kms`.
    pub kms_master_key_id: Option<String>,
    /// Whether S3 Bucket Keys are used.
    pub bucket_key_enabled: Option<bool>,
}

impl ServerSideEncryptionConfiguration {
    /// SSE-S3 (`AES256`) by default.
    pub fn s3() -> Self {
        Self::rule("AES256", None)
    }

    /// SSE-KMS by default, under `key_id` or the account's default key.
    pub fn kms(key_id: Option<String>) -> Self {
        Self::rule("aws:kms", key_id)
    }

    fn rule(algorithm: &str, key: Option<String>) -> Self {
        ServerSideEncryptionConfiguration {
            rules: vec![ServerSideEncryptionRule {
                sse_algorithm: algorithm.to_owned(),
                kms_master_key_id: key,
                bucket_key_enabled: None,
            }],
        }
    }

    /// Turns S3 Bucket Keys on or off in every rule.
    pub fn bucket_key_enabled(mut self, enabled: bool) -> Self {
        for r in &mut self.rules {
            r.bucket_key_enabled = Some(enabled);
        }
        self
    }
}

impl Document for ServerSideEncryptionConfiguration {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("ServerSideEncryptionConfiguration", S3_XMLNS);
        for r in &self.rules {
            w.open("Rule")
                .open("ApplyServerSideEncryptionByDefault")
                .element("SSEAlgorithm", &r.sse_algorithm);
            if let Some(k) = &r.kms_master_key_id {
                w.element("KMSMasterKeyID", k);
            }
            w.close("ApplyServerSideEncryptionByDefault");
            if let Some(b) = r.bucket_key_enabled {
                w.element("BucketKeyEnabled", if b { "true" } else { "false" });
            }
            w.close("Rule");
        }
        w.close("ServerSideEncryptionConfiguration");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("ServerSideEncryptionConfiguration")?;
        let mut out = ServerSideEncryptionConfiguration::default();
        while let Some(tag) = r.next_child()? {
            if tag.name() != b"Rule" {
                r.skip()?;
                continue;
            }
            let mut algorithm = None;
            let mut key = None;
            let mut bucket_key = None;
            while let Some(tag) = r.next_child()? {
                match tag.name() {
                    b"ApplyServerSideEncryptionByDefault" => {
                        while let Some(tag) = r.next_child()? {
                            match tag.name() {
                                b"SSEAlgorithm" => algorithm = Some(r.text()?.into_owned()),
                                b"KMSMasterKeyID" => key = Some(r.text()?.into_owned()),
                                _ => r.skip()?,
                            }
                        }
                    }
                    b"BucketKeyEnabled" => {
                        bucket_key = Some(r.parse("BucketKeyEnabled", crate::ops::parse_bool_str)?);
                    }
                    _ => r.skip()?,
                }
            }
            out.rules.push(ServerSideEncryptionRule {
                sse_algorithm: algorithm.ok_or(ResponseError::MissingField {
                    field: "SSEAlgorithm",
                })?,
                kms_master_key_id: key,
                bucket_key_enabled: bucket_key,
            });
        }
        r.finish()?;
        Ok(out)
    }

    fn validate(&self) -> Result<(), InputError> {
        if self.rules.len() != 1 {
            return Err(InputError::argument(
                "rules",
                "a default encryption configuration has exactly one rule",
            ));
        }
        Ok(())
    }
}
