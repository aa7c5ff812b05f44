//! What objects are and how they are read and written, apart from any one action: byte
//! ranges, the head of an object (`ObjectHead`), and the attributes an upload sets.

use std::fmt;
use std::time::SystemTime;

use http::Method;

use crate::acl::CannedAcl;
use crate::body::Response;
use crate::endpoint::Target;
use crate::error::{Error, InputError, ResponseError};
use crate::headers;
use crate::meta::Metadata;
use crate::name::{BucketName, ObjectKey};
use crate::request::RequestBuilder;
use crate::time::to_http_date;

/// A byte range of an object, as sent in `Range: bytes=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// Bytes `first..=last`.
    Inclusive {
        /// First byte, from 0.
        first: u64,
        /// Last byte, included.
        last: u64,
    },
    /// Bytes from `first` to the end.
    From(u64),
    /// The last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Bytes `first..=last`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `last < first`.
    pub fn inclusive(first: u64, last: u64) -> Result<Self, InputError> {
        if last < first {
            return Err(InputError::argument("range", "last byte before first"));
        }
        Ok(ByteRange::Inclusive { first, last })
    }

    /// The `Range` header value.
    pub fn to_header(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ByteRange::Inclusive { first, last } => write!(f, "bytes={first}-{last}"),
            ByteRange::From(first) => write!(f, "bytes={first}-"),
            ByteRange::Suffix(n) => write!(f, "bytes=-{n}"),
        }
    }
}

/// A `Content-Range: bytes first-last/total` reply header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    /// First byte sent.
    pub first: u64,
    /// Last byte sent, included.
    pub last: u64,
    /// Length of the whole object, when the server says it.
    pub total: Option<u64>,
}

impl ContentRange {
    /// Parses `bytes 0-9/443` (total may be `*`).
    pub fn parse(value: &str) -> Option<Self> {
        let rest = value.trim().strip_prefix("bytes")?.trim_start();
        let (range, total) = rest.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let first: u64 = first.trim().parse().ok()?;
        let last: u64 = last.trim().parse().ok()?;
        let total = match total.trim() {
            "*" => None,
            t => Some(t.parse().ok()?),
        };
        if last < first || total.is_some_and(|t| last >= t) {
            return None;
        }
        Some(ContentRange { first, last, total })
    }

    /// Bytes in this range.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Always false: a range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// What HeadObject and GetObject report about an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectHead {
    /// `Content-Length`: bytes in this response's body (the range, for a ranged GET).
    pub content_length: Option<u64>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `ETag`, with its quotes.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<SystemTime>,
    /// `Content-Range`, for a ranged GET.
    pub content_range: Option<ContentRange>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`, verbatim.
    pub expires: Option<String>,
    /// `x-amz-version-id`.
    pub version_id: Option<String>,
    /// `x-amz-storage-class` (absent means STANDARD).
    pub storage_class: Option<String>,
    /// `x-amz-website-redirect-location`.
    pub website_redirect: Option<String>,
    /// `x-amz-mp-parts-count`, for multipart objects when asked.
    pub parts_count: Option<u32>,
    /// The sizes of a multipart object's parts, in order, when learnt (a HEAD with
    /// `partNumber` for each, see [`DownloadFlow`](crate::flow::download::DownloadFlow)):
    /// its digest is then computed along them instead of along inferred equal parts. Never
    /// set from a reply's headers.
    pub part_sizes: Option<Vec<u64>>,
    /// User metadata (`x-amz-meta-*`), decoded.
    pub metadata: Metadata,
    /// `x-amz-server-side-encryption` (`AES256`, `aws:kms`, …).
    pub server_side_encryption: Option<String>,
    /// `x-amz-server-side-encryption-customer-algorithm`, for an object under a customer key.
    pub sse_customer_algorithm: Option<String>,
    /// The flexible checksum the server stored (`x-amz-checksum-*` with
    /// `x-amz-checksum-type`), sent back when the request asked with checksum mode (s3s-fs
    /// sends it always; Ceph RGW 16 never). Reads verify the body against it first.
    pub checksum: Option<crate::checksum::ObjectChecksum>,
    /// How the body read with this head was verified; `None` when no body was read (a
    /// HEAD) or its reader has not reached the end.
    pub verified: Option<crate::integrity::Verification>,
    /// Hash the ETag beside a stored checksum ([`crate::quirks::ServerQuirks::invents_checksums`]).
    pub(crate) etag_beside_checksum: bool,
}

impl ObjectHead {
    /// The length of one part of a `parts`-part object, when this is a reply to HeadObject
    /// with `partNumber` that describes one (a server that ignores `partNumber` answers for
    /// the whole object, without the part count).
    pub(crate) fn part_len(&self, parts: u32) -> Option<u64> {
        let len = self.content_length.filter(|&n| n > 0)?;
        (self.parts_count == Some(parts)).then_some(len)
    }
}

impl ObjectHead {
    /// The full length and the ETag, which pin the one version a multi-request read (ranges,
    /// part copies) must see.
    ///
    /// # Errors
    /// [`crate::ResponseError::MissingHeader`] naming the header the reply lacked.
    pub fn pinned(&self) -> Result<(u64, String), crate::ResponseError> {
        let size = self
            .object_size()
            .ok_or(crate::ResponseError::MissingHeader {
                name: "content-length",
            })?;
        let etag = self
            .etag
            .clone()
            .ok_or(crate::ResponseError::MissingHeader { name: "etag" })?;
        Ok((size, etag))
    }

    /// The full object length: from `Content-Range` for a ranged reply, else
    /// `Content-Length`.
    pub fn object_size(&self) -> Option<u64> {
        match self.content_range {
            Some(r) => r.total,
            None => self.content_length,
        }
    }

    /// True when the ETag has the `-N` suffix of a multipart upload (not an MD5).
    pub fn is_multipart(&self) -> bool {
        self.etag.as_deref().is_some_and(|e| e.contains('-'))
    }

    /// Reads the headers of a HeadObject or GetObject reply.
    ///
    /// # Errors
    /// [`Error::Response`] when a header is present but malformed.
    pub fn from_response(resp: &Response<'_>) -> Result<Self, Error> {
        let content_range = match headers::optional(resp, "content-range")? {
            None => None,
            Some(v) => Some(
                ContentRange::parse(v).ok_or_else(|| ResponseError::invalid("content-range", v))?,
            ),
        };
        let parts_count = match headers::u64_opt(resp, "x-amz-mp-parts-count")? {
            None => None,
            Some(n) => Some(
                u32::try_from(n)
                    .map_err(|_| ResponseError::invalid("x-amz-mp-parts-count", &n.to_string()))?,
            ),
        };
        Ok(ObjectHead {
            content_length: headers::u64_opt(resp, "content-length")?,
            content_type: headers::string_opt(resp, "content-type")?,
            etag: headers::string_opt(resp, "etag")?,
            last_modified: headers::date_opt(resp, "last-modified")?,
            content_range,
            content_encoding: headers::string_opt(resp, "content-encoding")?,
            content_disposition: headers::string_opt(resp, "content-disposition")?,
            content_language: headers::string_opt(resp, "content-language")?,
            cache_control: headers::string_opt(resp, "cache-control")?,
            expires: headers::string_opt(resp, "expires")?,
            version_id: headers::string_opt(resp, "x-amz-version-id")?,
            storage_class: headers::string_opt(resp, "x-amz-storage-class")?,
            website_redirect: headers::string_opt(resp, "x-amz-website-redirect-location")?,
            parts_count,
            part_sizes: None,
            metadata: Metadata::from_headers(resp.headers),
            server_side_encryption: headers::string_opt(resp, "x-amz-server-side-encryption")?,
            sse_customer_algorithm: headers::string_opt(
                resp,
                "x-amz-server-side-encryption-customer-algorithm",
            )?,
            // moto 5 answers a HEAD of a multipart CRC64NVME object with a 4-byte value: a
            // stored checksum that cannot be read is none to verify against, not a failed read.
            checksum: crate::checksum::ObjectChecksum::from_headers(resp.headers)
                .ok()
                .flatten(),
            verified: None,
            etag_beside_checksum: resp.quirks.invents_checksums,
        })
    }
}

/// What GetObject and HeadObject share: which bytes and version, and under what conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ReadOptions {
    pub(crate) range: Option<ByteRange>,
    pub(crate) version_id: Option<String>,
    pub(crate) part_number: Option<u16>,
    pub(crate) if_match: Option<String>,
    pub(crate) if_none_match: Option<String>,
    pub(crate) if_modified_since: Option<SystemTime>,
    pub(crate) if_unmodified_since: Option<SystemTime>,
    pub(crate) checksum_mode: bool,
}

impl ReadOptions {
    pub(crate) fn request(
        &self,
        target: &Target,
        method: Method,
        bucket: &BucketName,
        key: &ObjectKey,
    ) -> RequestBuilder {
        target
            .request(method, Some(bucket), Some(key))
            .query_opt("partNumber", self.part_number.map(|p| p.to_string()))
            .query_opt("versionId", self.version_id.as_deref())
            .header_opt("range", self.range.map(ByteRange::to_header))
            .header_opt("if-match", self.if_match.as_deref())
            .header_opt("if-none-match", self.if_none_match.as_deref())
            .header_opt(
                "if-modified-since",
                self.if_modified_since.map(to_http_date),
            )
            .header_opt(
                "if-unmodified-since",
                self.if_unmodified_since.map(to_http_date),
            )
            .header_opt(
                crate::checksum::MODE_HEADER,
                self.checksum_mode.then_some(crate::checksum::MODE_ENABLED),
            )
    }
}

/// Consuming setters for the [`ReadOptions`] of an action (GetObject, HeadObject), through its
/// `read` field.
macro_rules! condition_setters {
    () => {
        /// Succeed only if the ETag matches (`If-Match`); else 412 PreconditionFailed.
        pub fn if_match(mut self, etag: impl Into<String>) -> Self {
            self.read.if_match = Some(etag.into());
            self
        }

        /// Succeed only if the ETag differs (`If-None-Match`); else 304 NotModified.
        pub fn if_none_match(mut self, etag: impl Into<String>) -> Self {
            self.read.if_none_match = Some(etag.into());
            self
        }

        /// Succeed only if modified after `time`; else 304 NotModified.
        pub fn if_modified_since(mut self, time: std::time::SystemTime) -> Self {
            self.read.if_modified_since = Some(time);
            self
        }

        /// Succeed only if not modified after `time`; else 412 PreconditionFailed.
        pub fn if_unmodified_since(mut self, time: std::time::SystemTime) -> Self {
            self.read.if_unmodified_since = Some(time);
            self
        }

        /// Reads a specific version.
        pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
            self.read.version_id = Some(version_id.into());
            self
        }

        /// Reads `range` only (206 Partial Content).
        pub fn range(mut self, range: $crate::object::ByteRange) -> Self {
            self.read.range = Some(range);
            self
        }

        /// Asks for the object's stored flexible checksum (`x-amz-checksum-mode: ENABLED`),
        /// returned in [`ObjectHead::checksum`](crate::ObjectHead::checksum) when the server
        /// keeps one; a whole-object read is then verified against it.
        pub fn checksum_mode(mut self, enabled: bool) -> Self {
            self.read.checksum_mode = enabled;
            self
        }

        /// Reads one part of a multipart object (`partNumber`, 1-based).
        pub fn part_number(mut self, part: u16) -> Self {
            self.read.part_number = Some(part);
            self
        }
    };
}
pub(crate) use condition_setters;

/// Headers shared by the actions that create an object (PutObject, CopyObject with REPLACE,
/// CreateMultipartUpload).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectAttributes {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`, as an HTTP date.
    pub expires: Option<SystemTime>,
    /// `x-amz-storage-class`.
    pub storage_class: Option<String>,
    /// `x-amz-acl`.
    pub acl: Option<CannedAcl>,
    /// `x-amz-meta-*`.
    pub metadata: Metadata,
    /// `x-amz-website-redirect-location`: where a website bucket redirects requests for it.
    pub website_redirect: Option<String>,
}

impl ObjectAttributes {
    pub(crate) fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        let req = req
            .header_opt("content-type", self.content_type.as_deref())
            .header_opt("content-encoding", self.content_encoding.as_deref())
            .header_opt("content-disposition", self.content_disposition.as_deref())
            .header_opt("content-language", self.content_language.as_deref())
            .header_opt("cache-control", self.cache_control.as_deref())
            .header_opt("expires", self.expires.map(to_http_date))
            .header_opt("x-amz-storage-class", self.storage_class.as_deref())
            .header_opt("x-amz-acl", self.acl.map(CannedAcl::as_str))
            .header_opt(
                "x-amz-website-redirect-location",
                self.website_redirect.as_deref(),
            );
        self.metadata.apply(req)
    }
}

/// Headers a GET asks the server to answer with instead of the stored ones (the
/// `response-*` query parameters): what a presigned download link uses to name the file a
/// browser saves, or to set its type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseOverrides {
    /// `response-content-type`.
    pub content_type: Option<String>,
    /// `response-content-language`.
    pub content_language: Option<String>,
    /// `response-expires`.
    pub expires: Option<String>,
    /// `response-cache-control`.
    pub cache_control: Option<String>,
    /// `response-content-disposition` (`attachment; filename="report.pdf"`).
    pub content_disposition: Option<String>,
    /// `response-content-encoding`.
    pub content_encoding: Option<String>,
}

impl ResponseOverrides {
    /// No overrides.
    pub fn new() -> Self {
        ResponseOverrides::default()
    }

    /// Answers with this `Content-Type`.
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.content_type = Some(value.into());
        self
    }

    /// Answers with this `Content-Language`.
    pub fn content_language(mut self, value: impl Into<String>) -> Self {
        self.content_language = Some(value.into());
        self
    }

    /// Answers with this `Expires`.
    pub fn expires(mut self, value: impl Into<String>) -> Self {
        self.expires = Some(value.into());
        self
    }

    /// Answers with this `Cache-Control`.
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    /// Answers with this `Content-Disposition`.
    pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
        self.content_disposition = Some(value.into());
        self
    }

    /// Answers with this `Content-Encoding`.
    pub fn content_encoding(mut self, value: impl Into<String>) -> Self {
        self.content_encoding = Some(value.into());
        self
    }

    pub(crate) fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        req.query_opt("response-content-type", self.content_type.as_deref())
            .query_opt(
                "response-content-language",
                self.content_language.as_deref(),
            )
            .query_opt("response-expires", self.expires.as_deref())
            .query_opt("response-cache-control", self.cache_control.as_deref())
            .query_opt(
                "response-content-disposition",
                self.content_disposition.as_deref(),
            )
            .query_opt(
                "response-content-encoding",
                self.content_encoding.as_deref(),
            )
    }
}

/// Consuming setters for the [`ObjectAttributes`] of an action, through its `attributes` field.
macro_rules! attribute_setters {
    () => {
        /// Sets `Content-Type`.
        pub fn content_type(mut self, value: impl Into<String>) -> Self {
            self.attributes.content_type = Some(value.into());
            self
        }

        /// Sets `Content-Encoding`.
        pub fn content_encoding(mut self, value: impl Into<String>) -> Self {
            self.attributes.content_encoding = Some(value.into());
            self
        }

        /// Sets `Content-Disposition`.
        pub fn content_disposition(mut self, value: impl Into<String>) -> Self {
            self.attributes.content_disposition = Some(value.into());
            self
        }

        /// Sets `Content-Language`.
        pub fn content_language(mut self, value: impl Into<String>) -> Self {
            self.attributes.content_language = Some(value.into());
            self
        }

        /// Sets `Cache-Control`.
        pub fn cache_control(mut self, value: impl Into<String>) -> Self {
            self.attributes.cache_control = Some(value.into());
            self
        }

        /// Sets `Expires`.
        pub fn expires(mut self, time: std::time::SystemTime) -> Self {
            self.attributes.expires = Some(time);
            self
        }

        /// Sets the storage class (`STANDARD`, `REDUCED_REDUNDANCY`, …).
        pub fn storage_class(mut self, value: impl Into<String>) -> Self {
            self.attributes.storage_class = Some(value.into());
            self
        }

        /// Sets a canned ACL.
        pub fn acl(mut self, acl: $crate::acl::CannedAcl) -> Self {
            self.attributes.acl = Some(acl);
            self
        }

        /// Replaces the user metadata.
        pub fn metadata(mut self, metadata: $crate::meta::Metadata) -> Self {
            self.attributes.metadata = metadata;
            self
        }

        /// Adds one user metadata entry.
        pub fn meta(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.attributes.metadata.insert(name, value);
            self
        }

        /// Sets `x-amz-website-redirect-location` (a path in the bucket, or a URL).
        pub fn website_redirect(mut self, location: impl Into<String>) -> Self {
            self.attributes.website_redirect = Some(location.into());
            self
        }

        /// All attributes at once.
        pub fn attributes(mut self, attributes: $crate::object::ObjectAttributes) -> Self {
            self.attributes = attributes;
            self
        }
    };
}
pub(crate) use attribute_setters;

/// Whether CopyObject keeps the source's metadata or replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataDirective {
    /// Keep the source's metadata and content headers (the default).
    #[default]
    Copy,
    /// Use the metadata and content headers given with the copy.
    Replace,
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    #[test]
    fn object_head_parses_headers() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("content-length", "10"),
            ("content-type", "text/plain"),
            ("etag", "\"9bb58f26192e4ba00f01e2e7b136bbd8\""),
            ("last-modified", "Mon, 12 Oct 2009 17:50:00 GMT"),
            ("content-range", "bytes 0-9/443"),
            ("x-amz-meta-color", "=?UTF-8?B?w7xiZXI=?="),
        ] {
            h.insert(n, v.parse().unwrap());
        }
        let resp = Response::new(StatusCode::PARTIAL_CONTENT, &h, b"");
        let head = ObjectHead::from_response(&resp).unwrap();
        assert_eq!(head.content_length, Some(10));
        assert_eq!(head.object_size(), Some(443));
        assert_eq!(
            head.etag.as_deref(),
            Some("\"9bb58f26192e4ba00f01e2e7b136bbd8\"")
        );
        assert_eq!(head.metadata.get("color"), Some("über"));
        assert!(head.last_modified.is_some());
        assert!(!head.is_multipart());
    }

    #[test]
    fn content_range_parsing() {
        assert_eq!(
            ContentRange::parse("bytes 0-9/443"),
            Some(ContentRange {
                first: 0,
                last: 9,
                total: Some(443)
            })
        );
        assert_eq!(ContentRange::parse("bytes 5-5/*").unwrap().total, None);
        for bad in [
            "bytes 9-0/10",
            "bytes 0-10/10",
            "0-9/10",
            "bytes a-b/c",
            "bytes 0-9",
        ] {
            assert!(ContentRange::parse(bad).is_none(), "{bad}");
        }
    }
}
