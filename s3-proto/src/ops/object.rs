//! Object actions: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.

use std::time::SystemTime;

use http::Method;

use crate::acl::CannedAcl;
use crate::body::{Body, BodyMode, ContentMd5, Response};
use crate::checksum::{Checksum, ChecksumAlgorithm, ChecksumPlacement, ObjectChecksum};
use crate::endpoint::Target;
use crate::error::{Error, InputError, ResponseError, ServiceError};
use crate::headers;
use crate::integrity::{BodyCheck, Integrity};
use crate::name::{BucketName, ObjectKey};
use crate::object::{
    MetadataDirective, ObjectAttributes, ObjectHead, ReadOptions, ResponseOverrides,
    attribute_setters, condition_setters,
};
use crate::op::Operation;
use crate::sign::content_md5;
use crate::sign::encode::uri_encode_into;
use crate::sse::{CustomerKey, ServerSideEncryption, apply_customer, apply_sse};
use crate::tagging::TagSet;
use crate::time::parse_iso8601;
use crate::xml::{XmlReader, XmlWriter};

use super::write_conditions::{WriteConditions, write_condition_setters};

/// Downloads an object; the body streams to the caller.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetObject {
    bucket: BucketName,
    key: ObjectKey,
    read: ReadOptions,
    response: ResponseOverrides,
    sse_customer: Option<CustomerKey>,
}

impl GetObject {
    /// Gets `key` from `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey) -> Self {
        GetObject {
            bucket,
            key,
            read: ReadOptions::default(),
            response: ResponseOverrides::default(),
            sse_customer: None,
        }
    }

    condition_setters!();

    /// Asks the server to answer with this `Content-Type` (`response-content-type`).
    pub fn response_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.response.content_type = Some(content_type.into());
        self
    }

    /// Asks the server to answer with these headers instead of the stored ones (every
    /// `response-*` parameter).
    pub fn response(mut self, overrides: ResponseOverrides) -> Self {
        self.response = overrides;
        self
    }

    /// Reads an SSE-C object with the key it was written with.
    pub fn sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.sse_customer = Some(key);
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// The key.
    pub fn key(&self) -> &ObjectKey {
        &self.key
    }

    /// The HeadObject of part `part` of the version this reads (its version and SSE-C key,
    /// no range or conditions): the part's length and the object's part count.
    pub fn head_of_part(&self, part: u16) -> HeadObject {
        let read = ReadOptions {
            version_id: self.read.version_id.clone(),
            part_number: Some(part),
            ..ReadOptions::default()
        };
        HeadObject {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            read,
            sse_customer: self.sse_customer.clone(),
        }
    }
}

impl Operation for GetObject {
    type Output = ObjectHead;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = self
            .read
            .request(target, Method::GET, &self.bucket, &self.key);
        let req = self.response.apply(req);
        apply_customer(self.sse_customer.as_ref(), req, target, false).build()
    }

    fn body_mode(&self) -> BodyMode {
        BodyMode::Streamed
    }

    fn body_check(&self, head: &ObjectHead, integrity: Integrity) -> Option<BodyCheck> {
        let object = format!("{}/{}", self.bucket, self.key);
        Some(BodyCheck::new(head, &object, integrity))
    }

    fn parse(&self, resp: Response<'_>) -> Result<ObjectHead, Error> {
        ObjectHead::from_response(&resp)
    }
}

/// Reads an object's headers and metadata without its body.
///
/// A missing key answers a bodyless 404, reported as [`ErrorCode::NotFound`](crate::ErrorCode).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadObject {
    bucket: BucketName,
    key: ObjectKey,
    read: ReadOptions,
    sse_customer: Option<CustomerKey>,
}

impl HeadObject {
    /// Heads `key` in `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey) -> Self {
        HeadObject {
            bucket,
            key,
            read: ReadOptions::default(),
            sse_customer: None,
        }
    }

    condition_setters!();

    /// Heads an SSE-C object with the key it was written with.
    pub fn sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.sse_customer = Some(key);
        self
    }
}

impl Operation for HeadObject {
    type Output = ObjectHead;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = self
            .read
            .request(target, Method::HEAD, &self.bucket, &self.key);
        apply_customer(self.sse_customer.as_ref(), req, target, false).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<ObjectHead, Error> {
        ObjectHead::from_response(&resp)
    }
}

/// Uploads an object in one request.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObject {
    bucket: BucketName,
    key: ObjectKey,
    body: Body,
    attributes: ObjectAttributes,
    content_md5: Option<ContentMd5>,
    checksum: Option<Checksum>,
    /// The algorithm of a streamed body's checksum, sent in a trailer.
    trailing: Option<ChecksumAlgorithm>,
    conditions: WriteConditions,
    sse: Option<ServerSideEncryption>,
    tagging: Option<TagSet>,
    lock_retention: Option<crate::lock::ObjectLockRetention>,
    lock_legal_hold: Option<crate::lock::LegalHold>,
    payload_sha256: Option<String>,
}

impl PutObject {
    /// Puts `body` at `key` in `bucket`. A [`Body::Stream`] is sent by the runtime from the
    /// caller's source.
    pub fn new(bucket: BucketName, key: ObjectKey, body: impl Into<Body>) -> Self {
        PutObject {
            bucket,
            key,
            body: body.into(),
            attributes: ObjectAttributes::default(),
            content_md5: None,
            checksum: None,
            trailing: None,
            conditions: WriteConditions::default(),
            sse: None,
            tagging: None,
            lock_retention: None,
            lock_legal_hold: None,
            payload_sha256: None,
        }
    }

    attribute_setters!();

    /// Locks the new version until a date (`x-amz-object-lock-mode` and `-retain-until-date`;
    /// the bucket needs object lock, and S3 wants [`PutObject::content_md5`] with it).
    pub fn object_lock_retention(mut self, retention: crate::lock::ObjectLockRetention) -> Self {
        self.lock_retention = Some(retention);
        self
    }

    /// Puts the new version under a legal hold, or explicitly not (`x-amz-object-lock-legal-hold`).
    pub fn object_lock_legal_hold(mut self, hold: crate::lock::LegalHold) -> Self {
        self.lock_legal_hold = Some(hold);
        self
    }

    /// Sends `Content-MD5` computed from the in-memory body, so the server rejects a corrupted
    /// upload (no effect on a streamed body; use [`PutObject::content_md5_value`] there).
    pub fn content_md5(mut self) -> Self {
        if self.body.as_bytes().is_some() {
            self.content_md5 = Some(ContentMd5::OfBody);
        }
        self
    }

    /// Sends a `Content-MD5` the caller computed (base64 of the 16-byte digest).
    pub fn content_md5_value(mut self, value: impl Into<String>) -> Self {
        self.content_md5 = Some(ContentMd5::Given(value.into()));
        self
    }

    /// Signs the request with a payload hash the caller computed (lower-case hex SHA-256 of
    /// a streamed body): a server that checks it refuses a corrupted body, and the body goes
    /// as it is, not as signed aws-chunked chunks.
    pub fn payload_sha256(mut self, hex: impl Into<String>) -> Self {
        self.payload_sha256 = Some(hex.into());
        self
    }

    /// Sends a flexible checksum of the body (`x-amz-checksum-<algorithm>` and
    /// `x-amz-sdk-checksum-algorithm`): servers that check them (AWS, LocalStack, s3s-fs)
    /// refuse a body that does not match and store it; Ceph RGW 16 ignores it. Parse a value
    /// from text with [`Checksum::parse`].
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = Some(checksum);
        self
    }

    /// Sends a flexible checksum of `algorithm`: computed from an in-memory body into a
    /// header; for a streamed body computed while it is sent and put in an aws-chunked
    /// trailer, where the server accepts one
    /// ([`ServerQuirks::accepts_checksum_trailer`](crate::quirks::ServerQuirks)), else not
    /// sent (a header would need a second pass over a body read once).
    pub fn checksum_algorithm(mut self, algorithm: ChecksumAlgorithm) -> Self {
        match self.body.as_bytes() {
            Some(bytes) => self.checksum = Some(Checksum::compute(algorithm, bytes)),
            None => self.trailing = Some(algorithm),
        }
        self
    }

    /// Fails with 412 instead of overwriting an existing key (`If-None-Match: *`).
    pub fn if_none_match_any(self) -> Self {
        self.if_none_match("*")
    }

    write_condition_setters!("writes");

    /// Encrypts the object at rest (SSE-S3, SSE-KMS or SSE-C).
    pub fn server_side_encryption(mut self, sse: ServerSideEncryption) -> Self {
        self.sse = Some(sse);
        self
    }

    /// Tags the object (`x-amz-tagging`, checked against S3's limits before sending).
    pub fn tagging(mut self, tags: TagSet) -> Self {
        self.tagging = Some(tags);
        self
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }
}

/// What PutObject reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutObjectOutput {
    /// The new object's ETag, with its quotes.
    pub etag: Option<String>,
    /// The new version, in a versioned bucket.
    pub version_id: Option<String>,
    /// The encryption applied (`AES256`, `aws:kms`), when the server reports it.
    pub server_side_encryption: Option<String>,
    /// The KMS key used, for SSE-KMS.
    pub sse_kms_key_id: Option<String>,
    /// When a lifecycle rule will expire the object (`x-amz-expiration`).
    pub expiration: Option<crate::lifecycle::ObjectExpiration>,
    /// The object's flexible checksum: as the server reported it (LocalStack reports a
    /// CRC64NVME for every object), else as sent; `None` when neither.
    pub checksum: Option<ObjectChecksum>,
}

impl Operation for PutObject {
    type Output = PutObjectOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::PUT, Some(&self.bucket), Some(&self.key))
            .header_opt(
                "content-md5",
                self.content_md5.as_ref().and_then(|m| m.value(&self.body)),
            );
        let req = self.conditions.apply(req, target.quirks());
        let req = apply_sse(self.sse.as_ref(), req, target);
        let req = crate::tagging::apply_header(self.tagging.as_ref(), req);
        // The policy's checksum, when the caller chose none: in a header for a body in memory
        // (or empty), in a trailer for one streamed.
        let (mut unasked, mut trailing) = (None, None);
        if self.checksum.is_none() {
            let algorithm = self.trailing.or(target.default_checksum());
            let known = match (&self.body, self.body.as_bytes()) {
                (_, Some(bytes)) => Some(bytes),
                (Body::Stream { length: Some(0) }, _) => Some(&b""[..]),
                _ => None,
            };
            match (
                algorithm,
                target.quirks().placement(algorithm, known.is_none()),
            ) {
                (Some(a), ChecksumPlacement::Header) => {
                    unasked = Some(Checksum::compute(a, known.unwrap_or_default()));
                }
                (Some(a), ChecksumPlacement::Trailer) => trailing = Some(a),
                _ => {}
            }
        }
        let req = crate::checksum::apply(self.checksum.as_ref().or(unasked.as_ref()), req);
        let req = match trailing {
            Some(algorithm) => req.extension(crate::checksum::TrailingChecksum(algorithm)),
            None => req,
        };
        let req =
            crate::lock::apply_headers(self.lock_retention.as_ref(), self.lock_legal_hold, req);
        let req = req.payload_sha256(self.payload_sha256.as_deref());
        self.attributes.apply(req).body(self.body.clone()).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<PutObjectOutput, Error> {
        Ok(PutObjectOutput {
            etag: headers::string_opt(&resp, "etag")?,
            version_id: headers::string_opt(&resp, "x-amz-version-id")?,
            server_side_encryption: headers::string_opt(&resp, "x-amz-server-side-encryption")?,
            sse_kms_key_id: headers::string_opt(
                &resp,
                "x-amz-server-side-encryption-aws-kms-key-id",
            )?,
            expiration: crate::lifecycle::ObjectExpiration::from_headers(resp.headers),
            checksum: ObjectChecksum::from_headers(resp.headers)?
                .or(self.checksum.map(ObjectChecksum::full_object)),
        })
    }
}

/// Deletes one object (success even when it did not exist).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteObject {
    bucket: BucketName,
    key: ObjectKey,
    version_id: Option<String>,
}

impl DeleteObject {
    /// Deletes `key` from `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey) -> Self {
        DeleteObject {
            bucket,
            key,
            version_id: None,
        }
    }

    /// Deletes a specific version.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }
}

impl DeleteObject {
    /// The same request, reporting whether a delete marker was made and its version
    /// ([`DeleteObjectOutput`]); `DeleteObject` itself answers `()`.
    pub fn report(self) -> DeleteObjectReport {
        DeleteObjectReport(self)
    }
}

/// [`DeleteObject`] with its reply headers read into a [`DeleteObjectOutput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteObjectReport(DeleteObject);

/// What DeleteObject reports in a versioned bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteObjectOutput {
    /// True when the delete made (or removed) a delete marker.
    pub delete_marker: bool,
    /// The version made (the new delete marker) or removed.
    pub version_id: Option<String>,
}

impl Operation for DeleteObjectReport {
    type Output = DeleteObjectOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.0.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        self.0.request(target)
    }

    fn parse(&self, resp: Response<'_>) -> Result<DeleteObjectOutput, Error> {
        Ok(DeleteObjectOutput {
            delete_marker: headers::optional(&resp, "x-amz-delete-marker")?
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            version_id: headers::string_opt(&resp, "x-amz-version-id")?,
        })
    }
}

impl Operation for DeleteObject {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::DELETE, Some(&self.bucket), Some(&self.key))
            .query_opt("versionId", self.version_id.as_deref())
            .build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// Most keys one DeleteObjects request may name.
pub const MAX_DELETE_OBJECTS: usize = 1000;

/// Deletes up to 1000 objects in one request; per-key failures come back as data.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteObjects {
    bucket: BucketName,
    objects: Vec<(ObjectKey, Option<String>)>,
    quiet: bool,
}

impl DeleteObjects {
    /// Deletes `keys` from `bucket`.
    pub fn new(bucket: BucketName, keys: impl IntoIterator<Item = ObjectKey>) -> Self {
        DeleteObjects {
            bucket,
            objects: keys.into_iter().map(|k| (k, None)).collect(),
            quiet: false,
        }
    }

    /// Adds a key, optionally of a specific version.
    pub fn object(mut self, key: ObjectKey, version_id: Option<String>) -> Self {
        self.objects.push((key, version_id));
        self
    }

    /// Quiet mode: the reply lists only failures.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// The request body (`<Delete>` document).
    pub fn body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with(
            "Delete",
            r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#,
        );
        if self.quiet {
            w.element("Quiet", "true");
        }
        for (key, version) in &self.objects {
            w.open("Object").element("Key", key.as_str());
            if let Some(v) = version {
                w.element("VersionId", v);
            }
            w.close("Object");
        }
        w.close("Delete");
        w.finish()
    }
}

/// One key DeleteObjects removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deleted {
    /// The key.
    pub key: String,
    /// The version removed, if named.
    pub version_id: Option<String>,
    /// True when a delete marker was created or removed.
    pub delete_marker: bool,
    /// The delete marker's version.
    pub delete_marker_version_id: Option<String>,
}

/// One key DeleteObjects could not remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteError {
    /// The key.
    pub key: String,
    /// The version, if named.
    pub version_id: Option<String>,
    /// The S3 error code (`AccessDenied`, …).
    pub code: String,
    /// The message.
    pub message: String,
}

/// What DeleteObjects reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteObjectsOutput {
    /// Keys removed (empty in quiet mode).
    pub deleted: Vec<Deleted>,
    /// Keys that could not be removed.
    pub errors: Vec<DeleteError>,
}

impl Operation for DeleteObjects {
    type Output = DeleteObjectsOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::POST, Some(&self.bucket), None)
            .subresource("delete");
        if self.objects.is_empty() || self.objects.len() > MAX_DELETE_OBJECTS {
            return req
                .fail(InputError::argument(
                    "keys",
                    "DeleteObjects takes 1 to 1000 keys",
                ))
                .build();
        }
        let body = self.body();
        req.header("content-md5", &content_md5(body.as_bytes()))
            .header("content-type", "application/xml")
            .body(body)
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<DeleteObjectsOutput, Error> {
        parse_delete_result(resp.body)
    }
}

pub(crate) fn parse_delete_result(body: &[u8]) -> Result<DeleteObjectsOutput, Error> {
    let mut r = result_reader(body, "DeleteResult", None)?;
    let mut out = DeleteObjectsOutput::default();
    while let Some(tag) = r.next_child()? {
        match tag.name() {
            b"Deleted" => {
                let mut d = Deleted::default();
                while let Some(field) = r.next_child()? {
                    match field.name() {
                        b"Key" => d.key = r.text()?.into_owned(),
                        b"VersionId" => d.version_id = Some(r.text()?.into_owned()),
                        b"DeleteMarker" => d.delete_marker = r.parse("DeleteMarker", parse_bool)?,
                        b"DeleteMarkerVersionId" => {
                            d.delete_marker_version_id = Some(r.text()?.into_owned());
                        }
                        _ => r.skip()?,
                    }
                }
                out.deleted.push(d);
            }
            b"Error" => {
                let mut e = DeleteError::default();
                while let Some(field) = r.next_child()? {
                    match field.name() {
                        b"Key" => e.key = r.text()?.into_owned(),
                        b"VersionId" => e.version_id = Some(r.text()?.into_owned()),
                        b"Code" => e.code = r.text()?.into_owned(),
                        b"Message" => e.message = r.text()?.into_owned(),
                        _ => r.skip()?,
                    }
                }
                out.errors.push(e);
            }
            _ => r.skip()?,
        }
    }
    r.finish()?;
    Ok(out)
}

/// `true`/`false` as S3 writes booleans.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "TRUE" | "True" => Some(true),
        "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A reader inside the root of a reply that S3 may send as 200 and yet fail (CopyObject,
/// UploadPartCopy, CompleteMultipartUpload, DeleteObjects): an `<Error>` root is that
/// failure; any root but `expected` (or `alias`, a name some servers use) is malformed.
pub(crate) fn result_reader<'a>(
    body: &'a [u8],
    expected: &'static str,
    alias: Option<&str>,
) -> Result<XmlReader<'a>, Error> {
    let mut r = XmlReader::new(body)?;
    let root = r.root()?;
    if root == "Error" {
        return Err(service_error_in_200(body));
    }
    if root != expected && Some(root.as_str()) != alias {
        return Err(ResponseError::UnexpectedRoot {
            expected,
            found: root,
        }
        .into());
    }
    Ok(r)
}

/// The error of a 200 reply whose body is an `<Error>` document.
fn service_error_in_200(body: &[u8]) -> Error {
    match ServiceError::parse_body(body) {
        Ok(Some(mut e)) => {
            e.status = http::StatusCode::OK;
            e.into()
        }
        Ok(None) => ResponseError::malformed("expected an <Error> document").into(),
        Err(e) => e,
    }
}

/// Copies an object server-side (up to 5 GiB; larger needs UploadPartCopy).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyObject {
    source_bucket: BucketName,
    source_key: ObjectKey,
    source_version_id: Option<String>,
    bucket: BucketName,
    key: ObjectKey,
    directive: MetadataDirective,
    attributes: ObjectAttributes,
    if_match: Option<String>,
    if_none_match: Option<String>,
    sse: Option<ServerSideEncryption>,
    source_sse_customer: Option<CustomerKey>,
}

impl CopyObject {
    /// Copies `source_bucket/source_key` to `bucket/key`, keeping metadata.
    pub fn new(
        source_bucket: BucketName,
        source_key: ObjectKey,
        bucket: BucketName,
        key: ObjectKey,
    ) -> Self {
        CopyObject {
            source_bucket,
            source_key,
            source_version_id: None,
            bucket,
            key,
            directive: MetadataDirective::Copy,
            attributes: ObjectAttributes::default(),
            if_match: None,
            if_none_match: None,
            sse: None,
            source_sse_customer: None,
        }
    }

    attribute_setters!();

    /// Encrypts the copy (SSE-S3, SSE-KMS or SSE-C).
    pub fn server_side_encryption(mut self, sse: ServerSideEncryption) -> Self {
        self.sse = Some(sse);
        self
    }

    /// Reads an SSE-C source with the key it was written with.
    pub fn copy_source_sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.source_sse_customer = Some(key);
        self
    }

    /// Copies a specific version of the source.
    pub fn source_version_id(mut self, version_id: impl Into<String>) -> Self {
        self.source_version_id = Some(version_id.into());
        self
    }

    /// Keeps (COPY) or replaces (REPLACE) metadata and content headers. Setting metadata or a
    /// content type without REPLACE is ignored by S3, so `build` rejects it.
    pub fn metadata_directive(mut self, directive: MetadataDirective) -> Self {
        self.directive = directive;
        self
    }

    /// Copies only if the source's ETag matches.
    pub fn copy_source_if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    /// Copies only if the source's ETag differs.
    pub fn copy_source_if_none_match(mut self, etag: impl Into<String>) -> Self {
        self.if_none_match = Some(etag.into());
        self
    }
}

/// The `x-amz-copy-source` value: `/bucket/key` with the key URI-encoded.
pub(crate) fn copy_source(bucket: &BucketName, key: &ObjectKey, version: Option<&str>) -> String {
    let mut s = String::with_capacity(bucket.as_str().len() + key.as_str().len() + 2);
    s.push('/');
    s.push_str(bucket.as_str());
    s.push('/');
    uri_encode_into(&mut s, key.as_str().as_bytes(), true);
    if let Some(v) = version {
        s.push_str("?versionId=");
        uri_encode_into(&mut s, v.as_bytes(), false);
    }
    s
}

/// What CopyObject reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyObjectOutput {
    /// The new object's ETag, with its quotes.
    pub etag: Option<String>,
    /// When the copy was made.
    pub last_modified: Option<SystemTime>,
    /// The new version, in a versioned bucket.
    pub version_id: Option<String>,
}

impl Operation for CopyObject {
    type Output = CopyObjectOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::PUT, Some(&self.bucket), Some(&self.key))
            .header(
                "x-amz-copy-source",
                &copy_source(
                    &self.source_bucket,
                    &self.source_key,
                    self.source_version_id.as_deref(),
                ),
            )
            .header_opt("x-amz-copy-source-if-match", self.if_match.as_deref())
            .header_opt(
                "x-amz-copy-source-if-none-match",
                self.if_none_match.as_deref(),
            );
        let req = apply_sse(self.sse.as_ref(), req, target);
        let req = apply_customer(self.source_sse_customer.as_ref(), req, target, true);
        let req = match self.directive {
            MetadataDirective::Copy => {
                let a = &self.attributes;
                let replaces = !a.metadata.is_empty()
                    || a.content_type.is_some()
                    || a.content_encoding.is_some()
                    || a.content_disposition.is_some()
                    || a.content_language.is_some()
                    || a.cache_control.is_some()
                    || a.expires.is_some();
                if replaces {
                    return req
                        .fail(InputError::argument(
                            "metadata_directive",
                            "metadata or content headers need MetadataDirective::Replace",
                        ))
                        .build();
                }
                req.header_opt("x-amz-acl", a.acl.map(CannedAcl::as_str))
                    .header_opt("x-amz-storage-class", a.storage_class.as_deref())
            }
            MetadataDirective::Replace => self
                .attributes
                .apply(req.header("x-amz-metadata-directive", "REPLACE")),
        };
        req.build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<CopyObjectOutput, Error> {
        // S3 may fail a copy after sending 200: the body is then an <Error> document.
        let mut r = result_reader(resp.body, "CopyObjectResult", None)?;
        let mut out = CopyObjectOutput {
            version_id: headers::string_opt(&resp, "x-amz-version-id")?,
            ..CopyObjectOutput::default()
        };
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"ETag" => out.etag = Some(r.text()?.into_owned()),
                b"LastModified" => {
                    out.last_modified = Some(r.parse("LastModified", parse_iso8601)?);
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::checksum::ChecksumPolicy;
    use crate::object::ByteRange;
    use http::{HeaderMap, StatusCode};

    fn b() -> BucketName {
        BucketName::new("bucket").unwrap()
    }
    fn k(s: &str) -> ObjectKey {
        ObjectKey::new(s).unwrap()
    }
    fn config() -> Config {
        Config::new("http://127.0.0.1:9000", "us-east-1").unwrap()
    }

    #[test]
    fn get_object_request() {
        let op = GetObject::new(b(), k("a b"))
            .range(ByteRange::inclusive(0, 9).unwrap())
            .if_match("\"abc\"");
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket/a%20b");
        assert_eq!(req.headers()["range"], "bytes=0-9");
        assert_eq!(req.headers()["if-match"], "\"abc\"");
        assert_eq!(op.body_mode(), BodyMode::Streamed);
    }

    #[test]
    fn put_object_headers() {
        let op = PutObject::new(b(), k("k"), "hello")
            .content_type("text/plain")
            .acl(CannedAcl::PublicRead)
            .meta("Color", "blue")
            .content_md5();
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.headers()["x-amz-acl"], "public-read");
        assert_eq!(req.headers()["x-amz-meta-color"], "blue");
        assert_eq!(req.headers()["content-md5"], "XUFAKrxLKna5cZ2REBfFkg==");
        assert_eq!(req.body().as_bytes(), Some(&b"hello"[..]));
        let big = PutObject::new(b(), k("k"), "x").meta("m", "v".repeat(3000));
        assert!(matches!(
            big.request(config().target()),
            Err(Error::Input(InputError::MetadataTooLarge { .. }))
        ));
    }

    #[test]
    fn checksum_policy_adds_crc32_where_the_server_takes_it() {
        use crate::quirks::ServerQuirks;
        let op = PutObject::new(b(), k("k"), "hello");
        let sent = |quirks, policy| {
            let c = config().server(quirks, policy);
            let req = op.request(c.target()).unwrap();
            let crc = req.headers().get("x-amz-checksum-crc32").cloned();
            let named = req
                .headers()
                .get(crate::checksum::SDK_ALGORITHM_HEADER)
                .cloned();
            (crc.map(|v| v.to_str().unwrap().to_owned()), named.is_some())
        };
        let expected = Checksum::compute(ChecksumAlgorithm::Crc32, b"hello").to_base64();
        let aws = ServerQuirks::aws();
        assert_eq!(
            sent(aws, ChecksumPolicy::WhenSupported),
            (Some(expected), true)
        );
        assert_eq!(sent(aws, ChecksumPolicy::WhenRequired), (None, false));
        // Ceph RGW 16 ignores checksum headers: the policy computes none for it.
        assert_eq!(
            sent(ServerQuirks::ceph(), ChecksumPolicy::WhenSupported),
            (None, false)
        );
        // A chosen checksum wins over the policy's.
        let c = config().server(aws, ChecksumPolicy::WhenSupported);
        let chosen = op.clone().checksum_algorithm(ChecksumAlgorithm::Sha256);
        let req = chosen.request(c.target()).unwrap();
        assert!(req.headers().contains_key("x-amz-checksum-sha256"));
        assert!(!req.headers().contains_key("x-amz-checksum-crc32"));
    }

    #[test]
    fn conditional_writes() {
        use crate::quirks::ServerQuirks;
        let op = PutObject::new(b(), k("k"), "x")
            .if_none_match("*")
            .if_match("\"abc\"");
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.headers()["if-none-match"], "*");
        assert_eq!(req.headers()["if-match"], "\"abc\"");
        let ceph = config().server(ServerQuirks::ceph(), ChecksumPolicy::WhenRequired);
        let req = op.request(ceph.target()).unwrap();
        assert_eq!(req.headers()["if-match"], "abc");
        let part = crate::ops::CompletedPart {
            part_number: 1,
            etag: "\"p\"".into(),
        };
        let complete = crate::ops::CompleteMultipartUpload::new(b(), k("k"), "up", [part])
            .if_none_match("*")
            .if_match("\"e\"");
        let req = complete.request(ceph.target()).unwrap();
        assert_eq!(req.headers()["if-none-match"], "*");
        assert_eq!(req.headers()["if-match"], "e");

        let h = HeaderMap::new();
        let failed = br#"<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>"#;
        let err = crate::config::finish(
            &op,
            Response::new(StatusCode::PRECONDITION_FAILED, &h, failed),
        )
        .unwrap_err();
        assert!(err.is_precondition_failed() && !err.is_conditional_conflict());
        let raced = br#"<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred.</Message></Error>"#;
        let err =
            crate::config::finish(&op, Response::new(StatusCode::CONFLICT, &h, raced)).unwrap_err();
        assert!(err.is_conditional_conflict() && !err.is_precondition_failed());
    }

    #[test]
    fn delete_object_report() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-delete-marker", "true".parse().unwrap());
        h.insert("x-amz-version-id", "3HL4kqtJ".parse().unwrap());
        let op = DeleteObject::new(b(), k("k")).version_id("v").report();
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket/k?versionId=v");
        let out = op
            .parse(Response::new(StatusCode::NO_CONTENT, &h, b""))
            .unwrap();
        assert!(out.delete_marker);
        assert_eq!(out.version_id.as_deref(), Some("3HL4kqtJ"));
        let none = HeaderMap::new();
        let out = op
            .parse(Response::new(StatusCode::NO_CONTENT, &none, b""))
            .unwrap();
        assert_eq!(out, DeleteObjectOutput::default());
    }

    #[test]
    fn delete_objects_body_and_result() {
        let op = DeleteObjects::new(b(), [k("a&b"), k("c")]).quiet(true);
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket?delete");
        let body = std::str::from_utf8(req.body().as_bytes().unwrap()).unwrap();
        assert!(
            body.contains("<Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object>"),
            "{body}"
        );
        assert!(req.headers().contains_key("content-md5"));
        assert!(
            DeleteObjects::new(b(), [])
                .request(config().target())
                .is_err()
        );

        let result = br#"<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>sample1.txt</Key></Deleted>
  <Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
</DeleteResult>"#;
        let out = parse_delete_result(result).unwrap();
        assert_eq!(out.deleted[0].key, "sample1.txt");
        assert_eq!(out.errors[0].code, "AccessDenied");
    }

    #[test]
    fn copy_object_request_and_error_in_200() {
        let op = CopyObject::new(b(), k("src key+1"), b(), k("dst"))
            .metadata_directive(MetadataDirective::Replace)
            .meta("a", "1")
            .content_type("text/plain");
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.headers()["x-amz-copy-source"], "/bucket/src%20key%2B1");
        assert_eq!(req.headers()["x-amz-metadata-directive"], "REPLACE");
        assert_eq!(req.headers()["x-amz-meta-a"], "1");
        let bad = CopyObject::new(b(), k("s"), b(), k("d")).meta("a", "1");
        assert!(bad.request(config().target()).is_err());

        let h = HeaderMap::new();
        let ok = br#"<CopyObjectResult><LastModified>2009-10-28T22:32:00.000Z</LastModified><ETag>"9b2cf535f27731c974343645a3985328"</ETag></CopyObjectResult>"#;
        let out = op.parse(Response::new(StatusCode::OK, &h, ok)).unwrap();
        assert_eq!(
            out.etag.as_deref(),
            Some("\"9b2cf535f27731c974343645a3985328\"")
        );
        let err = br#"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"#;
        let e = op
            .parse(Response::new(StatusCode::OK, &h, err))
            .unwrap_err();
        assert_eq!(e.code(), Some(&crate::ErrorCode::InternalError));
    }
}
