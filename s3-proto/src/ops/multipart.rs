//! Multipart upload actions: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
//! ListMultipartUploads.
//!
//! The [`flow::upload`](crate::flow::upload) driver strings these together; use the actions
//! directly when you need control over each request.

use super::write_conditions::{WriteConditions, write_condition_setters};
use std::time::SystemTime;

use http::Method;

use crate::acl::Owner;
use crate::body::{Body, ContentMd5, Response};
use crate::checksum::{Checksum, ChecksumAlgorithm, ChecksumType, ObjectChecksum};
use crate::endpoint::Target;
use crate::error::{Error, InputError, ResponseError};
use crate::flow::paginate::Paginated;
use crate::headers;
use crate::name::{BucketName, ObjectKey};
use crate::object::{ByteRange, ObjectAttributes, attribute_setters};
use crate::op::Operation;
use crate::ops::list::check_page_size;
use crate::ops::object::{copy_source, parse_bool, result_reader};
use crate::request::RequestBuilder;
use crate::sse::{CustomerKey, ServerSideEncryption, apply_customer, apply_sse};
use crate::tagging::TagSet;
use crate::time::parse_iso8601;
use crate::xml::{XmlReader, XmlWriter};

/// Most parts one upload may have; part numbers run from 1 to this.
pub const MAX_PARTS: u16 = 10_000;

/// The part number, checked against S3's 1..=10,000.
fn check_part_number(req: RequestBuilder, part_number: u16) -> RequestBuilder {
    if (1..=MAX_PARTS).contains(&part_number) {
        req
    } else {
        req.fail(InputError::argument(
            "part_number",
            "part numbers run from 1 to 10000",
        ))
    }
}

/// A request on one upload: `?uploadId=` (and `partNumber=` for parts).
fn upload_request(
    target: &Target,
    method: Method,
    bucket: &BucketName,
    key: &ObjectKey,
    upload_id: &str,
) -> RequestBuilder {
    let req = target.request(method, Some(bucket), Some(key));
    if upload_id.is_empty() {
        return req.fail(InputError::argument("upload_id", "must not be empty"));
    }
    req.query("uploadId", upload_id)
}

/// Starts a multipart upload; object attributes (type, metadata, ACL) are given here.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateMultipartUpload {
    bucket: BucketName,
    key: ObjectKey,
    attributes: ObjectAttributes,
    sse: Option<ServerSideEncryption>,
    tagging: Option<TagSet>,
    lock_retention: Option<crate::lock::ObjectLockRetention>,
    lock_legal_hold: Option<crate::lock::LegalHold>,
    checksum_algorithm: Option<ChecksumAlgorithm>,
    checksum_type: Option<ChecksumType>,
}

impl CreateMultipartUpload {
    /// Starts an upload to `key` in `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey) -> Self {
        CreateMultipartUpload {
            bucket,
            key,
            attributes: ObjectAttributes::default(),
            sse: None,
            tagging: None,
            lock_retention: None,
            lock_legal_hold: None,
            checksum_algorithm: None,
            checksum_type: None,
        }
    }

    /// Fixes the flexible checksum algorithm every part carries (`x-amz-checksum-algorithm`).
    pub fn checksum_algorithm(mut self, algorithm: ChecksumAlgorithm) -> Self {
        self.checksum_algorithm = Some(algorithm);
        self
    }

    /// What the object's checksum covers (`x-amz-checksum-type`); without it S3 takes the
    /// algorithm's default ([`ChecksumAlgorithm::default_multipart_type`]). Needs an
    /// algorithm that supports the type, checked before sending.
    pub fn checksum_type(mut self, checksum_type: ChecksumType) -> Self {
        self.checksum_type = Some(checksum_type);
        self
    }

    /// Locks the new object until a date (`x-amz-object-lock-mode`, `-retain-until-date`).
    pub fn object_lock_retention(mut self, retention: crate::lock::ObjectLockRetention) -> Self {
        self.lock_retention = Some(retention);
        self
    }

    /// Puts the new object under a legal hold, or explicitly not.
    pub fn object_lock_legal_hold(mut self, hold: crate::lock::LegalHold) -> Self {
        self.lock_legal_hold = Some(hold);
        self
    }

    attribute_setters!();

    /// Encrypts the object at rest; with SSE-C every UploadPart must send the same key.
    pub fn server_side_encryption(mut self, sse: ServerSideEncryption) -> Self {
        self.sse = Some(sse);
        self
    }

    /// Tags the object (`x-amz-tagging`, checked against S3's limits before sending).
    pub fn tagging(mut self, tags: TagSet) -> Self {
        self.tagging = Some(tags);
        self
    }
}

/// What CreateMultipartUpload reports: the id every later request names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateMultipartUploadOutput {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
}

impl Operation for CreateMultipartUpload {
    type Output = CreateMultipartUploadOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::POST, Some(&self.bucket), Some(&self.key))
            .subresource("uploads")
            .header_opt(
                crate::checksum::ALGORITHM_HEADER,
                self.checksum_algorithm.map(ChecksumAlgorithm::as_str),
            )
            .header_opt(
                crate::checksum::TYPE_HEADER,
                self.checksum_type.map(ChecksumType::as_str),
            );
        let req = match crate::checksum::multipart_type(self.checksum_algorithm, self.checksum_type)
        {
            Err(e) => req.fail(e),
            Ok(_) => req,
        };
        let req = apply_sse(self.sse.as_ref(), req, target);
        let req = crate::tagging::apply_header(self.tagging.as_ref(), req);
        let req =
            crate::lock::apply_headers(self.lock_retention.as_ref(), self.lock_legal_hold, req);
        self.attributes.apply(req).build()
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn parse(&self, resp: Response<'_>) -> Result<CreateMultipartUploadOutput, Error> {
        let mut r = XmlReader::new(resp.body)?;
        r.expect_root_or(
            "InitiateMultipartUploadResult",
            Some("InitiateMultipartUploadResponse"),
        )?;
        let mut out = CreateMultipartUploadOutput::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Bucket" => out.bucket = r.text()?.into_owned(),
                b"Key" => out.key = r.text()?.into_owned(),
                b"UploadId" => out.upload_id = r.text()?.into_owned(),
                _ => r.skip()?,
            }
        }
        r.finish()?;
        if out.upload_id.is_empty() {
            return Err(ResponseError::MissingField { field: "UploadId" }.into());
        }
        Ok(out)
    }
}

/// Uploads one part (5 MiB to 5 GiB, except the last, which may be smaller).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPart {
    bucket: BucketName,
    key: ObjectKey,
    upload_id: String,
    part_number: u16,
    body: Body,
    content_md5: Option<ContentMd5>,
    checksum: Option<Checksum>,
    sse_customer: Option<CustomerKey>,
    payload_sha256: Option<String>,
}

impl UploadPart {
    /// Part `part_number` (1..=10,000) of upload `upload_id`.
    pub fn new(
        bucket: BucketName,
        key: ObjectKey,
        upload_id: impl Into<String>,
        part_number: u16,
        body: impl Into<Body>,
    ) -> Self {
        UploadPart {
            bucket,
            key,
            upload_id: upload_id.into(),
            part_number,
            body: body.into(),
            content_md5: None,
            checksum: None,
            sse_customer: None,
            payload_sha256: None,
        }
    }

    /// Sends the part's flexible checksum, of the algorithm the upload was created with
    /// (parse text with [`Checksum::parse`]).
    pub fn checksum(mut self, checksum: Checksum) -> Self {
        self.checksum = Some(checksum);
        self
    }

    /// Sends a flexible checksum of `algorithm` computed from the in-memory body (no effect
    /// on a streamed body: use [`UploadPart::checksum`]).
    pub fn checksum_algorithm(mut self, algorithm: ChecksumAlgorithm) -> Self {
        if let Some(bytes) = self.body.as_bytes() {
            self.checksum = Some(Checksum::compute(algorithm, bytes));
        }
        self
    }

    /// Sends the SSE-C key the upload was created with (S3 needs it on every part).
    pub fn sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.sse_customer = Some(key);
        self
    }

    /// Sends `Content-MD5` of the in-memory body, so a corrupted part is refused (no effect
    /// on a streamed body: use [`UploadPart::content_md5_value`]).
    ///
    /// The digest is computed when the request is built, that is by the runtime's job that
    /// sends the part: parts read from a reader are hashed side by side, not one after the
    /// other in the flow's loop.
    pub fn content_md5(mut self) -> Self {
        if self.body.as_bytes().is_some() {
            self.content_md5 = Some(ContentMd5::OfBody);
        }
        self
    }

    /// Sends a `Content-MD5` the caller computed (base64 of the 16-byte digest), for a
    /// streamed body.
    pub fn content_md5_value(mut self, value: impl Into<String>) -> Self {
        self.content_md5 = Some(ContentMd5::Given(value.into()));
        self
    }

    /// Signs the request with a payload hash the caller computed (lower-case hex SHA-256 of
    /// a streamed body): a server that checks it refuses a corrupted part, and the body goes
    /// as it is, not as signed aws-chunked chunks.
    pub fn payload_sha256(mut self, hex: impl Into<String>) -> Self {
        self.payload_sha256 = Some(hex.into());
        self
    }

    /// The part number.
    pub fn part_number(&self) -> u16 {
        self.part_number
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }
}

/// What UploadPart reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadPartOutput {
    /// The part's ETag, with its quotes; CompleteMultipartUpload names it.
    pub etag: String,
    /// The part's flexible checksum: as the server echoed it, else as sent.
    pub checksum: Option<Checksum>,
}

impl Operation for UploadPart {
    type Output = UploadPartOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = upload_request(
            target,
            Method::PUT,
            &self.bucket,
            &self.key,
            &self.upload_id,
        )
        .query("partNumber", &self.part_number.to_string())
        .header_opt(
            "content-md5",
            self.content_md5.as_ref().and_then(|m| m.value(&self.body)),
        );
        let req = crate::checksum::apply(self.checksum.as_ref(), req);
        let req = apply_customer(self.sse_customer.as_ref(), req, target, false);
        let req = req.payload_sha256(self.payload_sha256.as_deref());
        check_part_number(req, self.part_number)
            .body(self.body.clone())
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<UploadPartOutput, Error> {
        let etag = headers::required(&resp, "etag")?;
        let echoed = match self.checksum {
            Some(sent) => {
                let name = sent.algorithm().header_name();
                match headers::optional(&resp, name)? {
                    Some(v) => Some(Checksum::from_header(sent.algorithm(), v)?),
                    None => Some(sent),
                }
            }
            None => None,
        };
        Ok(UploadPartOutput {
            etag: etag.to_owned(),
            checksum: echoed,
        })
    }
}

/// Copies a range of an existing object in as one part: how objects over 5 GiB are copied.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPartCopy {
    source_bucket: BucketName,
    source_key: ObjectKey,
    source_version_id: Option<String>,
    bucket: BucketName,
    key: ObjectKey,
    upload_id: String,
    part_number: u16,
    range: Option<(u64, u64)>,
    if_match: Option<String>,
    sse_customer: Option<CustomerKey>,
    source_sse_customer: Option<CustomerKey>,
}

impl UploadPartCopy {
    /// Copies all of `source_bucket/source_key` as part `part_number` of `upload_id`.
    pub fn new(
        source_bucket: BucketName,
        source_key: ObjectKey,
        bucket: BucketName,
        key: ObjectKey,
        upload_id: impl Into<String>,
        part_number: u16,
    ) -> Self {
        UploadPartCopy {
            source_bucket,
            source_key,
            source_version_id: None,
            bucket,
            key,
            upload_id: upload_id.into(),
            part_number,
            range: None,
            if_match: None,
            sse_customer: None,
            source_sse_customer: None,
        }
    }

    /// Sends the SSE-C key the destination upload was created with.
    pub fn sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.sse_customer = Some(key);
        self
    }

    /// Reads an SSE-C source with the key it was written with.
    pub fn copy_source_sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.source_sse_customer = Some(key);
        self
    }

    /// Copies bytes `first..=last` of the source only.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `last < first`.
    pub fn range(mut self, first: u64, last: u64) -> Result<Self, InputError> {
        ByteRange::inclusive(first, last)?;
        self.range = Some((first, last));
        Ok(self)
    }

    /// Copies a specific version of the source.
    pub fn source_version_id(mut self, version_id: impl Into<String>) -> Self {
        self.source_version_id = Some(version_id.into());
        self
    }

    /// Copies only if the source's ETag still matches, so parts all come from one version.
    pub fn copy_source_if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }
}

/// What UploadPartCopy reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadPartCopyOutput {
    /// The part's ETag, with its quotes.
    pub etag: String,
    /// When the part was written.
    pub last_modified: Option<SystemTime>,
    /// The part's flexible checksum, which S3 computes for an upload created with a checksum
    /// algorithm (`<ChecksumCRC32>` … in the reply).
    pub checksum: Option<Checksum>,
}

impl Operation for UploadPartCopy {
    type Output = UploadPartCopyOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let source = copy_source(
            &self.source_bucket,
            &self.source_key,
            self.source_version_id.as_deref(),
        );
        let req = upload_request(
            target,
            Method::PUT,
            &self.bucket,
            &self.key,
            &self.upload_id,
        )
        .query("partNumber", &self.part_number.to_string())
        .header("x-amz-copy-source", &source)
        .header_opt(
            "x-amz-copy-source-range",
            self.range
                .map(|(first, last)| format!("bytes={first}-{last}")),
        )
        .header_opt("x-amz-copy-source-if-match", self.if_match.as_deref());
        let req = apply_customer(self.sse_customer.as_ref(), req, target, false);
        let req = apply_customer(self.source_sse_customer.as_ref(), req, target, true);
        check_part_number(req, self.part_number).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<UploadPartCopyOutput, Error> {
        let mut r = result_reader(resp.body, "CopyPartResult", None)?;
        let mut out = UploadPartCopyOutput::default();
        while let Some(tag) = r.next_child()? {
            if let Some(a) = ChecksumAlgorithm::from_xml_element(tag.name()) {
                out.checksum = Some(Checksum::from_header(a, &r.text()?)?);
                continue;
            }
            match tag.name() {
                b"ETag" => out.etag = r.text()?.into_owned(),
                b"LastModified" => {
                    out.last_modified = Some(r.parse("LastModified", parse_iso8601)?);
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        if out.etag.is_empty() {
            return Err(ResponseError::MissingField { field: "ETag" }.into());
        }
        Ok(out)
    }
}

/// A part as CompleteMultipartUpload names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CompletedPart {
    /// The part number.
    pub part_number: u16,
    /// The ETag UploadPart returned, with its quotes.
    pub etag: String,
}

/// Assembles the uploaded parts into the object.
///
/// S3 may answer 200 and then fail: a 200 carrying an `<Error>` document is an error here.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteMultipartUpload {
    bucket: BucketName,
    key: ObjectKey,
    upload_id: String,
    parts: Vec<CompletedPart>,
    part_checksums: crate::sorted::SortedMap<u16, Checksum>,
    checksum: Option<ObjectChecksum>,
    conditions: WriteConditions,
}

impl CompleteMultipartUpload {
    /// Completes `upload_id` from `parts` (sorted by number here; numbers must be distinct).
    pub fn new(
        bucket: BucketName,
        key: ObjectKey,
        upload_id: impl Into<String>,
        parts: impl IntoIterator<Item = CompletedPart>,
    ) -> Self {
        let mut parts: Vec<CompletedPart> = parts.into_iter().collect();
        parts.sort();
        CompleteMultipartUpload {
            bucket,
            key,
            upload_id: upload_id.into(),
            parts,
            part_checksums: crate::sorted::SortedMap::new(),
            checksum: None,
            conditions: WriteConditions::default(),
        }
    }

    /// Names part `part_number`'s flexible checksum in the request body (`<ChecksumCRC32>`
    /// …): an upload created with a checksum algorithm needs every part's.
    pub fn part_checksum(mut self, part_number: u16, checksum: Checksum) -> Self {
        self.part_checksums.insert(part_number, checksum);
        self
    }

    /// Every part's checksum from `parts`, and for a `FULL_OBJECT` upload the object's
    /// checksum, which the server compares with its own (`x-amz-checksum-<algorithm>` and
    /// `x-amz-checksum-type`).
    ///
    /// # Errors
    /// As [`MultipartChecksum::finish`](crate::checksum::MultipartChecksum::finish).
    pub fn checksums(
        mut self,
        parts: &crate::checksum::MultipartChecksum,
        checksum_type: ChecksumType,
    ) -> Result<Self, InputError> {
        let object = parts.finish(checksum_type)?;
        for (number, checksum) in parts.parts() {
            self.part_checksums.insert(number, checksum);
        }
        self.checksum = Some(object);
        Ok(self)
    }

    write_condition_setters!("completes");

    /// The parts, in ascending order.
    pub fn parts(&self) -> &[CompletedPart] {
        &self.parts
    }

    /// The request body (`<CompleteMultipartUpload>` document).
    pub fn body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with(
            "CompleteMultipartUpload",
            r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#,
        );
        for part in &self.parts {
            w.open("Part")
                .element("PartNumber", &part.part_number.to_string())
                .element("ETag", &part.etag);
            if let Some(c) = self.part_checksums.get(&part.part_number) {
                w.element(c.algorithm().xml_element(), &c.to_base64());
            }
            w.close("Part");
        }
        w.close("CompleteMultipartUpload");
        w.finish()
    }

    fn check_parts(&self) -> Result<(), InputError> {
        if self.parts.is_empty() || self.parts.len() > usize::from(MAX_PARTS) {
            return Err(InputError::argument(
                "parts",
                "an upload has 1 to 10000 parts",
            ));
        }
        let numbers_ok = self
            .parts
            .iter()
            .all(|p| (1..=MAX_PARTS).contains(&p.part_number));
        let distinct = self
            .parts
            .windows(2)
            .all(|w| w[0].part_number < w[1].part_number);
        if !numbers_ok || !distinct {
            return Err(InputError::argument(
                "parts",
                "part numbers must be distinct and within 1 to 10000",
            ));
        }
        Ok(())
    }
}

/// What CompleteMultipartUpload reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompleteMultipartUploadOutput {
    /// The object's URL, as the server sees it.
    pub location: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The object's ETag (`"…-N"` for N parts), with its quotes; Ceph RGW leaves it out.
    pub etag: Option<String>,
    /// The new version, in a versioned bucket.
    pub version_id: Option<String>,
    /// The object's flexible checksum, when the server reports one (`<ChecksumCRC32>` …
    /// with `<ChecksumType>`).
    pub checksum: Option<ObjectChecksum>,
}

impl Operation for CompleteMultipartUpload {
    type Output = CompleteMultipartUploadOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = upload_request(
            target,
            Method::POST,
            &self.bucket,
            &self.key,
            &self.upload_id,
        );
        if let Err(e) = self.check_parts() {
            return req.fail(e).build();
        }
        let full = self.checksum.filter(ObjectChecksum::covers_body);
        let req = match full {
            Some(c) => req
                .header(c.algorithm().header_name(), &c.to_header_value())
                .header(
                    crate::checksum::TYPE_HEADER,
                    ChecksumType::FullObject.as_str(),
                ),
            None => req,
        };
        let req = req.header("content-type", "application/xml");
        self.conditions
            .apply(req, target.quirks())
            .body(self.body())
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<CompleteMultipartUploadOutput, Error> {
        // moto names the root `…Response`; the content is the same.
        let mut r = result_reader(
            resp.body,
            "CompleteMultipartUploadResult",
            Some("CompleteMultipartUploadResponse"),
        )?;
        let mut out = CompleteMultipartUploadOutput {
            version_id: headers::string_opt(&resp, "x-amz-version-id")?,
            ..Default::default()
        };
        let (mut sum, mut ty) = (None, None);
        while let Some(tag) = r.next_child()? {
            if let Some(a) = ChecksumAlgorithm::from_xml_element(tag.name()) {
                sum = Some((a, r.text()?.into_owned()));
                continue;
            }
            match tag.name() {
                b"ChecksumType" => ty = Some(r.parse("ChecksumType", |s| s.parse().ok())?),
                b"Location" => out.location = Some(r.text()?.into_owned()),
                b"Bucket" => out.bucket = r.text()?.into_owned(),
                b"Key" => out.key = r.text()?.into_owned(),
                // Ceph RGW sends `<ETag></ETag>`: no ETag rather than an empty one.
                b"ETag" => out.etag = Some(r.text()?.into_owned()).filter(|e| !e.is_empty()),
                _ => r.skip()?,
            }
        }
        r.finish()?;
        out.checksum = match sum {
            Some((a, v)) => Some(ObjectChecksum::parse(a, ty, &v)?),
            None => ObjectChecksum::from_headers(resp.headers)?,
        };
        Ok(out)
    }
}

/// Abandons an upload and frees its parts.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortMultipartUpload {
    bucket: BucketName,
    key: ObjectKey,
    upload_id: String,
}

impl AbortMultipartUpload {
    /// Aborts `upload_id` of `key` in `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey, upload_id: impl Into<String>) -> Self {
        AbortMultipartUpload {
            bucket,
            key,
            upload_id: upload_id.into(),
        }
    }
}

impl Operation for AbortMultipartUpload {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        upload_request(
            target,
            Method::DELETE,
            &self.bucket,
            &self.key,
            &self.upload_id,
        )
        .build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// Lists the parts uploaded so far, up to 1000 per page.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParts {
    bucket: BucketName,
    key: ObjectKey,
    upload_id: String,
    max_parts: Option<u32>,
    part_number_marker: Option<u32>,
}

impl ListParts {
    /// Lists the parts of `upload_id`.
    pub fn new(bucket: BucketName, key: ObjectKey, upload_id: impl Into<String>) -> Self {
        ListParts {
            bucket,
            key,
            upload_id: upload_id.into(),
            max_parts: None,
            part_number_marker: None,
        }
    }

    /// At most `n` parts per page.
    pub fn max_parts(mut self, n: u32) -> Self {
        self.max_parts = Some(n);
        self
    }

    /// Lists parts after this number.
    pub fn part_number_marker(mut self, marker: u32) -> Self {
        self.part_number_marker = Some(marker);
        self
    }
}

/// One uploaded part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Part {
    /// The part number.
    pub part_number: u16,
    /// The ETag, with its quotes.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// When the part was uploaded.
    pub last_modified: Option<SystemTime>,
    /// Its flexible checksum, for an upload created with a checksum algorithm.
    pub checksum: Option<Checksum>,
}

/// One page of ListParts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListPartsOutput {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// Who started the upload.
    pub initiator: Option<Owner>,
    /// Who will own the object.
    pub owner: Option<Owner>,
    /// The storage class.
    pub storage_class: Option<String>,
    /// True when more pages follow.
    pub is_truncated: bool,
    /// The marker for the next page.
    pub next_part_number_marker: Option<u32>,
    /// The upload's checksum algorithm, when it was created with one.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// The upload's checksum type, when the server says it.
    pub checksum_type: Option<ChecksumType>,
    /// The parts.
    pub parts: Vec<Part>,
}

impl Operation for ListParts {
    type Output = ListPartsOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = upload_request(
            target,
            Method::GET,
            &self.bucket,
            &self.key,
            &self.upload_id,
        )
        .query_opt("max-parts", self.max_parts.map(|n| n.to_string()))
        .query_opt(
            "part-number-marker",
            self.part_number_marker.map(|n| n.to_string()),
        );
        check_page_size("max_parts", self.max_parts, req).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<ListPartsOutput, Error> {
        let mut r = XmlReader::new(resp.body)?;
        r.expect_root_or("ListPartsResult", Some("ListPartsResponse"))?;
        let mut out = ListPartsOutput::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Bucket" => out.bucket = r.text()?.into_owned(),
                b"Key" => out.key = r.text()?.into_owned(),
                b"UploadId" => out.upload_id = r.text()?.into_owned(),
                b"Initiator" => out.initiator = Some(Owner::read(&mut r)?),
                b"Owner" => out.owner = Some(Owner::read(&mut r)?),
                b"StorageClass" => out.storage_class = Some(r.text()?.into_owned()),
                b"ChecksumAlgorithm" => {
                    out.checksum_algorithm =
                        Some(r.parse("ChecksumAlgorithm", |s| s.parse().ok())?);
                }
                b"ChecksumType" => {
                    out.checksum_type = Some(r.parse("ChecksumType", |s| s.parse().ok())?);
                }
                b"IsTruncated" => out.is_truncated = r.parse("IsTruncated", parse_bool)?,
                b"NextPartNumberMarker" => {
                    out.next_part_number_marker = opt_number(&mut r, "NextPartNumberMarker")?;
                }
                b"Part" => out.parts.push(parse_part(&mut r)?),
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(out)
    }
}

impl Paginated for ListParts {
    fn next_page(&self, output: &ListPartsOutput) -> Option<Self> {
        if !output.is_truncated {
            return None;
        }
        let marker = output
            .next_part_number_marker
            .or_else(|| output.parts.last().map(|p| u32::from(p.part_number)))?;
        Some(self.clone().part_number_marker(marker))
    }
}

/// A number element that some servers send empty (`<NextPartNumberMarker/>`).
fn opt_number(r: &mut XmlReader<'_>, field: &'static str) -> Result<Option<u32>, Error> {
    let text = r.text()?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| ResponseError::invalid(field, text).into())
}

fn parse_part(r: &mut XmlReader<'_>) -> Result<Part, Error> {
    let mut part = Part::default();
    while let Some(field) = r.next_child()? {
        if let Some(a) = ChecksumAlgorithm::from_xml_element(field.name()) {
            let text = r.text()?;
            part.checksum = Some(Checksum::from_header(a, &text)?);
            continue;
        }
        match field.name() {
            b"PartNumber" => {
                part.part_number = r.parse("PartNumber", |s| {
                    s.parse().ok().filter(|n| (1..=MAX_PARTS).contains(n))
                })?;
            }
            b"ETag" => part.etag = r.text()?.into_owned(),
            b"Size" => part.size = r.parse("Size", |s| s.parse().ok())?,
            b"LastModified" => part.last_modified = Some(r.parse("LastModified", parse_iso8601)?),
            _ => r.skip()?,
        }
    }
    if part.part_number == 0 {
        return Err(ResponseError::MissingField {
            field: "PartNumber",
        }
        .into());
    }
    Ok(part)
}

/// Lists uploads started and neither completed nor aborted, up to 1000 per page.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMultipartUploads {
    bucket: BucketName,
    prefix: Option<String>,
    delimiter: Option<String>,
    max_uploads: Option<u32>,
    key_marker: Option<String>,
    upload_id_marker: Option<String>,
    encoding_url: bool,
}

impl ListMultipartUploads {
    /// Lists the uploads in `bucket`.
    pub fn new(bucket: BucketName) -> Self {
        ListMultipartUploads {
            bucket,
            prefix: None,
            delimiter: None,
            max_uploads: None,
            key_marker: None,
            upload_id_marker: None,
            encoding_url: true,
        }
    }

    /// Whether to ask for URL-encoded keys (`encoding-type=url`, default on); they come back
    /// decoded (see [`ListObjectsV2::encoding_type_url`](crate::ops::ListObjectsV2::encoding_type_url)).
    pub fn encoding_type_url(mut self, yes: bool) -> Self {
        self.encoding_url = yes;
        self
    }

    /// Only uploads to keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Groups keys sharing a prefix up to `delimiter`.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// At most `n` uploads per page.
    pub fn max_uploads(mut self, n: u32) -> Self {
        self.max_uploads = Some(n);
        self
    }

    /// Continues after this key (and upload id).
    pub fn markers(mut self, key: impl Into<String>, upload_id: Option<String>) -> Self {
        self.key_marker = Some(key.into());
        self.upload_id_marker = upload_id;
        self
    }
}

/// One upload in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultipartUploadInfo {
    /// The key being uploaded.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When it was started.
    pub initiated: Option<SystemTime>,
    /// The storage class.
    pub storage_class: Option<String>,
    /// Who started it.
    pub initiator: Option<Owner>,
    /// Who will own the object.
    pub owner: Option<Owner>,
}

/// One page of ListMultipartUploads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListMultipartUploadsOutput {
    /// The bucket.
    pub bucket: String,
    /// True when more pages follow.
    pub is_truncated: bool,
    /// The key marker for the next page.
    pub next_key_marker: Option<String>,
    /// The upload id marker for the next page.
    pub next_upload_id_marker: Option<String>,
    /// The uploads.
    pub uploads: Vec<MultipartUploadInfo>,
    /// Common prefixes (with a delimiter).
    pub common_prefixes: Vec<String>,
}

impl Operation for ListMultipartUploads {
    type Output = ListMultipartUploadsOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::GET, Some(&self.bucket), None)
            .subresource("uploads")
            .query_opt("prefix", self.prefix.as_deref())
            .query_opt("delimiter", self.delimiter.as_deref())
            .query_opt("max-uploads", self.max_uploads.map(|n| n.to_string()))
            .query_opt("key-marker", self.key_marker.as_deref())
            .query_opt("upload-id-marker", self.upload_id_marker.as_deref());
        let req = crate::ops::url_encoding::ask(self.encoding_url, req);
        check_page_size("max_uploads", self.max_uploads, req).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<ListMultipartUploadsOutput, Error> {
        let mut r = XmlReader::new(resp.body)?;
        r.expect_root_or(
            "ListMultipartUploadsResult",
            Some("ListMultipartUploadsResponse"),
        )?;
        let mut out = ListMultipartUploadsOutput::default();
        let mut declared = false;
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Bucket" => out.bucket = r.text()?.into_owned(),
                b"EncodingType" => declared = crate::ops::url_encoding::declares_url(&r.text()?),
                b"IsTruncated" => out.is_truncated = r.parse("IsTruncated", parse_bool)?,
                b"NextKeyMarker" => out.next_key_marker = Some(r.text()?.into_owned()),
                b"NextUploadIdMarker" => {
                    out.next_upload_id_marker = Some(r.text()?.into_owned());
                }
                b"Upload" => out.uploads.push(parse_upload(&mut r)?),
                b"CommonPrefixes" => {
                    while let Some(field) = r.next_child()? {
                        match field.name() {
                            b"Prefix" => out.common_prefixes.push(r.text()?.into_owned()),
                            _ => r.skip()?,
                        }
                    }
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        // EncodingType may come after the fields it covers: decode at the end.
        let rule = resp.quirks.list_multipart_uploads;
        let d = crate::ops::url_encoding::Decoding::new(rule, self.encoding_url, declared);
        d.next_marker("NextKeyMarker", out.next_key_marker.as_mut())?;
        for up in &mut out.uploads {
            d.key(&mut up.key)?;
        }
        for p in &mut out.common_prefixes {
            d.common_prefix(p)?;
        }
        Ok(out)
    }
}

impl Paginated for ListMultipartUploads {
    fn next_page(&self, output: &ListMultipartUploadsOutput) -> Option<Self> {
        if !output.is_truncated {
            return None;
        }
        let key = output.next_key_marker.clone().filter(|k| !k.is_empty())?;
        let upload = output
            .next_upload_id_marker
            .clone()
            .filter(|u| !u.is_empty());
        Some(self.clone().markers(key, upload))
    }
}

fn parse_upload(r: &mut XmlReader<'_>) -> Result<MultipartUploadInfo, Error> {
    let mut up = MultipartUploadInfo::default();
    while let Some(field) = r.next_child()? {
        match field.name() {
            b"Key" => up.key = r.text()?.into_owned(),
            b"UploadId" => up.upload_id = r.text()?.into_owned(),
            b"Initiated" => up.initiated = Some(r.parse("Initiated", parse_iso8601)?),
            b"StorageClass" => up.storage_class = Some(r.text()?.into_owned()),
            b"Initiator" => up.initiator = Some(Owner::read(r)?),
            b"Owner" => up.owner = Some(Owner::read(r)?),
            _ => r.skip()?,
        }
    }
    if up.upload_id.is_empty() {
        return Err(ResponseError::MissingField { field: "UploadId" }.into());
    }
    Ok(up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use http::{HeaderMap, StatusCode};

    fn b() -> BucketName {
        BucketName::new("example-bucket").unwrap()
    }
    fn k(s: &str) -> ObjectKey {
        ObjectKey::new(s).unwrap()
    }
    fn config() -> Config {
        Config::new("http://127.0.0.1:9000", "us-east-1").unwrap()
    }
    fn ok<O: Operation>(op: &O, body: &[u8]) -> Result<O::Output, Error> {
        let h = HeaderMap::new();
        op.parse(Response::new(StatusCode::OK, &h, body))
    }

    #[test]
    fn checksums_on_the_wire() {
        let alg = ChecksumAlgorithm::Crc32c;
        let create = CreateMultipartUpload::new(b(), k("k"))
            .checksum_algorithm(alg)
            .checksum_type(ChecksumType::FullObject);
        let req = create.request(config().target()).unwrap();
        assert_eq!(req.headers()["x-amz-checksum-algorithm"], "CRC32C");
        assert_eq!(req.headers()["x-amz-checksum-type"], "FULL_OBJECT");
        let bad = CreateMultipartUpload::new(b(), k("k"))
            .checksum_algorithm(ChecksumAlgorithm::Sha1)
            .checksum_type(ChecksumType::FullObject);
        assert!(matches!(
            bad.request(config().target()),
            Err(Error::Input(_))
        ));

        let part = UploadPart::new(b(), k("k"), "id", 1, "hello").checksum_algorithm(alg);
        let req = part.request(config().target()).unwrap();
        let sum = Checksum::compute(alg, b"hello");
        assert_eq!(
            req.headers()["x-amz-checksum-crc32c"],
            sum.to_base64().as_str()
        );
        assert_eq!(req.headers()["x-amz-sdk-checksum-algorithm"], "CRC32C");
        let mut h = HeaderMap::new();
        h.insert("etag", "\"e\"".parse().unwrap());
        let out = part.parse(Response::new(StatusCode::OK, &h, b"")).unwrap();
        assert_eq!(out.checksum, Some(sum), "as sent, when not echoed");

        let mut sums = crate::checksum::MultipartChecksum::new(alg);
        sums.add(1, sum, 5).unwrap();
        let parts = [CompletedPart {
            part_number: 1,
            etag: "\"e\"".into(),
        }];
        let complete = CompleteMultipartUpload::new(b(), k("k"), "id", parts)
            .checksums(&sums, ChecksumType::FullObject)
            .unwrap();
        let body = complete.body();
        let element = format!(
            "<ChecksumCRC32C>{}</ChecksumCRC32C></Part>",
            sum.to_base64()
        );
        assert!(body.contains(&element), "{body}");
        let req = complete.request(config().target()).unwrap();
        assert_eq!(
            req.headers()["x-amz-checksum-crc32c"],
            sum.to_base64().as_str()
        );
        assert_eq!(req.headers()["x-amz-checksum-type"], "FULL_OBJECT");
        let reply = br#"<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>
            <ETag>"x-1"</ETag><ChecksumCRC32C>mnG7TA==</ChecksumCRC32C>
            <ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>"#;
        let out = ok(&complete, reply).unwrap();
        assert_eq!(out.checksum.unwrap().to_header_value(), "mnG7TA==");

        let listed = br#"<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>id</UploadId>
            <ChecksumAlgorithm>SHA1</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>
            <Part><PartNumber>1</PartNumber><ETag>"e"</ETag><Size>5</Size>
            <ChecksumSHA1>qvTGHdzF6KLavt4PO0gs2a6pQ00=</ChecksumSHA1></Part></ListPartsResult>"#;
        let out = ok(&ListParts::new(b(), k("k"), "id"), listed).unwrap();
        assert_eq!(out.checksum_algorithm, Some(ChecksumAlgorithm::Sha1));
        assert_eq!(out.checksum_type, Some(ChecksumType::Composite));
        let sha1 = Checksum::compute(ChecksumAlgorithm::Sha1, b"hello");
        assert_eq!(out.parts[0].checksum, Some(sha1));
        let bad = br#"<ListPartsResult><Part><PartNumber>1</PartNumber>
            <ChecksumSHA1>short</ChecksumSHA1></Part></ListPartsResult>"#;
        assert!(ok(&ListParts::new(b(), k("k"), "id"), bad).is_err());
    }

    #[test]
    fn create_request_and_reply() {
        let op = CreateMultipartUpload::new(b(), k("big file.bin"))
            .content_type("application/octet-stream")
            .meta("origin", "test");
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:9000/example-bucket/big%20file.bin?uploads"
        );
        assert_eq!(req.headers()["x-amz-meta-origin"], "test");
        let out = ok(
            &op,
            br#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket><Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>"#,
        )
        .unwrap();
        assert_eq!(
            out.upload_id,
            "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
        );
        assert!(ok(&op, b"<InitiateMultipartUploadResult/>").is_err());
    }

    #[test]
    fn upload_part_request_validates_numbers() {
        let op = UploadPart::new(b(), k("k"), "id+/=", 3, "data").content_md5();
        let req = op.request(config().target()).unwrap();
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:9000/example-bucket/k?uploadId=id%2B%2F%3D&partNumber=3"
        );
        assert!(req.headers().contains_key("content-md5"));
        for bad in [0, 10_001] {
            assert!(
                UploadPart::new(b(), k("k"), "id", bad, "x")
                    .request(config().target())
                    .is_err()
            );
        }
        assert!(
            UploadPart::new(b(), k("k"), "", 1, "x")
                .request(config().target())
                .is_err()
        );
        let mut h = HeaderMap::new();
        h.insert("etag", "\"abc\"".parse().unwrap());
        let out = op.parse(Response::new(StatusCode::OK, &h, b"")).unwrap();
        assert_eq!(out.etag, "\"abc\"");
        assert!(ok(&op, b"").is_err(), "a part without an ETag is an error");
    }

    #[test]
    fn upload_part_copy_request_and_error_in_200() {
        let op = UploadPartCopy::new(b(), k("src"), b(), k("dst"), "id", 2)
            .range(0, 5_242_879)
            .unwrap()
            .copy_source_if_match("\"e\"");
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.headers()["x-amz-copy-source"], "/example-bucket/src");
        assert_eq!(req.headers()["x-amz-copy-source-range"], "bytes=0-5242879");
        let out = ok(
            &op,
            br#"<CopyPartResult><LastModified>2009-10-28T22:32:00.000Z</LastModified><ETag>"b62"</ETag></CopyPartResult>"#,
        )
        .unwrap();
        assert_eq!(out.etag, "\"b62\"");
        let e = ok(
            &op,
            b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
        )
        .unwrap_err();
        assert_eq!(e.code(), Some(&crate::ErrorCode::SlowDown));
    }

    #[test]
    fn complete_sorts_parts_and_rejects_bad_lists() {
        let parts = [
            CompletedPart {
                part_number: 2,
                etag: "\"b\"".into(),
            },
            CompletedPart {
                part_number: 1,
                etag: "\"a&\"".into(),
            },
        ];
        let op = CompleteMultipartUpload::new(b(), k("k"), "id", parts.clone());
        let req = op.request(config().target()).unwrap();
        let body = std::str::from_utf8(req.body().as_bytes().unwrap()).unwrap();
        assert!(
            body.contains(
                "<Part><PartNumber>1</PartNumber><ETag>&quot;a&amp;&quot;</ETag></Part><Part><PartNumber>2</PartNumber>"
            ),
            "{body}"
        );
        let dup = [parts[0].clone(), parts[0].clone()];
        for bad in [
            CompleteMultipartUpload::new(b(), k("k"), "id", []),
            CompleteMultipartUpload::new(b(), k("k"), "id", dup),
        ] {
            assert!(matches!(
                bad.request(config().target()),
                Err(Error::Input(_))
            ));
        }
        let out = ok(
            &op,
            br#"<CompleteMultipartUploadResult><Location>http://x/k</Location><Bucket>example-bucket</Bucket><Key>k</Key><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag></CompleteMultipartUploadResult>"#,
        )
        .unwrap();
        assert_eq!(
            out.etag.as_deref(),
            Some("\"3858f62230ac3c915f300c664312c11f-9\"")
        );
        let e = ok(
            &op,
            b"<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
        )
        .unwrap_err();
        assert_eq!(e.code(), Some(&crate::ErrorCode::InternalError));
    }

    #[test]
    fn list_parts_pages() {
        let op = ListParts::new(b(), k("k"), "id").max_parts(2);
        let req = op.request(config().target()).unwrap();
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:9000/example-bucket/k?uploadId=id&max-parts=2"
        );
        let out = ok(
            &op,
            br#"<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket><Key>k</Key><UploadId>id</UploadId>
  <Initiator><ID>arn:aws:iam::111122223333:user/some-user</ID><DisplayName>umat</DisplayName></Initiator>
  <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner>
  <StorageClass>STANDARD</StorageClass><PartNumberMarker>1</PartNumberMarker>
  <NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>
  <Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified><ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><Size>10485760</Size></Part>
  <Part><PartNumber>3</PartNumber><LastModified>2010-11-10T20:48:33.000Z</LastModified><ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag><Size>10485760</Size></Part>
</ListPartsResult>"#,
        )
        .unwrap();
        assert_eq!(out.parts.len(), 2);
        assert_eq!(out.parts[1].size, 10_485_760);
        assert_eq!(
            out.initiator.as_ref().unwrap().display_name.as_deref(),
            Some("umat")
        );
        let next = op.next_page(&out).unwrap();
        assert_eq!(next.part_number_marker, Some(3));
        let bad_number =
            br#"<ListPartsResult><Part><PartNumber>0</PartNumber></Part></ListPartsResult>"#;
        assert!(ok(&op, bad_number).is_err());
        let empty_marker = br#"<ListPartsResult><NextPartNumberMarker/><IsTruncated>false</IsTruncated></ListPartsResult>"#;
        let out = ok(&op, empty_marker).unwrap();
        assert_eq!(out.next_part_number_marker, None);
        assert!(op.next_page(&out).is_none());
    }

    #[test]
    fn list_uploads_pages() {
        let op = ListMultipartUploads::new(b()).max_uploads(1).prefix("p/");
        let req = op.request(config().target()).unwrap();
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:9000/example-bucket?uploads&prefix=p%2F&max-uploads=1&encoding-type=url"
        );
        let out = ok(
            &op,
            br#"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker><NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>1</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>my-movie.m2ts</Key><UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <Initiator><ID>b1d16700c70b0b05597d7acd6a3f92be</ID><DisplayName>InitiatorDisplayName</DisplayName></Initiator>
    <Owner><ID>b1d16700c70b0b05597d7acd6a3f92be</ID><DisplayName>OwnerDisplayName</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass><Initiated>2010-11-26T19:24:17.000Z</Initiated></Upload>
  <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>
</ListMultipartUploadsResult>"#,
        )
        .unwrap();
        assert_eq!(out.uploads[0].key, "my-movie.m2ts");
        assert!(out.uploads[0].initiated.is_some());
        assert_eq!(out.common_prefixes, ["photos/"]);
        let next = op.next_page(&out).unwrap();
        let req = next.request(config().target()).unwrap();
        assert!(
            req.uri()
                .to_string()
                .ends_with("key-marker=my-movie.m2ts&upload-id-marker=YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ&encoding-type=url")
        );
    }
}
