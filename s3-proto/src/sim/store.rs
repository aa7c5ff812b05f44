//! What the simulated server holds: buckets, objects, multipart uploads and their parts.

use std::collections::BTreeMap;
use std::time::SystemTime;

use http::HeaderValue;
use md5::{Digest as _, Md5};

use super::faults::mix;
use super::request::Incoming;

/// Content headers stored with an object and sent back on GET and HEAD.
pub(crate) const CONTENT_HEADERS: [&str; 5] = [
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
];

/// The content type S3 gives an object uploaded without one.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// S3's limit on user metadata (names without prefix plus values, in bytes).
pub(crate) const MAX_METADATA_SIZE: usize = 2048;

/// Content type, content headers, storage class and user metadata of an object (or of the
/// object an upload will create).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// Other content headers (`content-encoding`, `cache-control`, …), lower-case names.
    pub content_headers: BTreeMap<String, HeaderValue>,
    /// `x-amz-storage-class`, when not STANDARD.
    pub storage_class: Option<String>,
    /// User metadata: names without `x-amz-meta-`, lower case; values exactly as received
    /// (RFC 2047 encoded words stay encoded).
    pub metadata: BTreeMap<String, HeaderValue>,
}

impl Attributes {
    /// Reads the attributes a PUT, a copy with REPLACE, or a CreateMultipartUpload carries.
    pub(crate) fn from_request(req: &Incoming) -> Self {
        let mut attrs = Attributes {
            content_type: req.header("content-type").map(str::to_owned),
            storage_class: req
                .header("x-amz-storage-class")
                .filter(|c| *c != "STANDARD")
                .map(str::to_owned),
            ..Attributes::default()
        };
        for (name, value) in &req.headers {
            let name = name.as_str();
            if let Some(short) = name.strip_prefix("x-amz-meta-") {
                attrs.metadata.insert(short.to_owned(), value.clone());
            } else if name == "content-encoding" {
                // aws-chunked describes the request's framing, not the object: S3 strips it.
                let kept: Vec<&str> = value
                    .to_str()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
                    .collect();
                if let Ok(v) = HeaderValue::from_str(&kept.join(",")) {
                    if !kept.is_empty() {
                        attrs.content_headers.insert(name.to_owned(), v);
                    }
                }
            } else if CONTENT_HEADERS.contains(&name) {
                attrs.content_headers.insert(name.to_owned(), value.clone());
            }
        }
        attrs
    }

    /// Bytes of metadata counted against [`MAX_METADATA_SIZE`].
    pub(crate) fn metadata_size(&self) -> usize {
        self.metadata.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// A metadata value as text (`None` when absent or not visible ASCII).
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.metadata
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.to_str().ok())
    }
}

/// An object as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The bytes.
    pub data: Vec<u8>,
    /// The ETag, quoted: the hex MD5 for a single PUT or copy, `"…-N"` for a multipart upload.
    pub etag: String,
    /// When it was written (virtual clock).
    pub last_modified: SystemTime,
    /// Content type, headers and metadata.
    pub attributes: Attributes,
    /// Sizes of the parts it was assembled from; empty unless multipart.
    pub part_sizes: Vec<u64>,
    /// A full-object flexible checksum stored with it, sent back when a read asks
    /// (`x-amz-checksum-mode: ENABLED`) for the whole object.
    pub checksum: Option<crate::checksum::Checksum>,
}

impl StoredObject {
    /// An object written in one piece: its ETag is the MD5 of `data`.
    pub(crate) fn single(data: Vec<u8>, attributes: Attributes, now: SystemTime) -> Self {
        StoredObject {
            etag: quoted_md5(&data),
            data,
            last_modified: now,
            attributes,
            part_sizes: Vec::new(),
            checksum: None,
        }
    }

    /// The content type sent back.
    pub fn content_type(&self) -> &str {
        self.attributes
            .content_type
            .as_deref()
            .unwrap_or(DEFAULT_CONTENT_TYPE)
    }
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredPart {
    pub(crate) data: Vec<u8>,
    /// Quoted hex MD5 of `data`.
    pub(crate) etag: String,
    pub(crate) last_modified: SystemTime,
}

impl StoredPart {
    /// A part holding `data`, written at `now`.
    pub(crate) fn new(data: Vec<u8>, now: SystemTime) -> Self {
        StoredPart {
            etag: quoted_md5(&data),
            data,
            last_modified: now,
        }
    }
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upload {
    pub(crate) key: String,
    pub(crate) initiated: SystemTime,
    pub(crate) attributes: Attributes,
    pub(crate) parts: BTreeMap<u16, StoredPart>,
}

/// What a completed upload produced, kept so a repeated CompleteMultipartUpload can be
/// answered the way AWS does for a while after success (see `Settings::repeat_complete`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Completed {
    pub(crate) key: String,
    pub(crate) etag: String,
    /// The part numbers and ETags the completion named.
    pub(crate) parts: Vec<(u16, String)>,
}

/// A bucket.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    pub(crate) created: SystemTime,
    pub(crate) objects: BTreeMap<String, StoredObject>,
    /// Uploads by id; ids sort in creation order.
    pub(crate) uploads: BTreeMap<String, Upload>,
    pub(crate) completed: BTreeMap<String, Completed>,
}

impl Bucket {
    /// An empty bucket created at `now`.
    pub(crate) fn new(now: SystemTime) -> Self {
        Bucket {
            created: now,
            objects: BTreeMap::new(),
            uploads: BTreeMap::new(),
            completed: BTreeMap::new(),
        }
    }
}

/// Every bucket, and the counter upload ids come from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    pub(crate) buckets: BTreeMap<String, Bucket>,
    next_upload: u64,
}

impl Store {
    /// A fresh upload id. Ids sort in creation order (S3 lists uploads of one key by
    /// initiation time) and hold `.`, `_` and `-` like AWS's do.
    pub(crate) fn new_upload_id(&mut self) -> String {
        self.next_upload += 1;
        format!(
            "sim.{:08}_{:016x}-u",
            self.next_upload,
            mix(self.next_upload)
        )
    }
}

/// The hex MD5 of `data`, quoted: a single-part ETag.
pub(crate) fn quoted_md5(data: &[u8]) -> String {
    format!("\"{}\"", hex(&Md5::digest(data)))
}

/// The ETag of a multipart object: the MD5 of the parts' binary MD5s, then `-N`.
pub(crate) fn multipart_etag<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut outer = Md5::new();
    let mut n = 0usize;
    for part in parts {
        outer.update(Md5::digest(part));
        n += 1;
    }
    format!("\"{}-{n}\"", hex(&outer.finalize()))
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// An ETag without quotes or weak prefix, for comparisons (clients send either form).
pub(crate) fn bare_etag(etag: &str) -> &str {
    let etag = etag.trim();
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.trim_matches('"')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_s3() {
        assert_eq!(quoted_md5(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
        // Two parts: MD5 over the two 16-byte digests, then the count.
        let etag = multipart_etag([&b"a"[..], &b"b"[..]]);
        let mut concat = Md5::digest(b"a").to_vec();
        concat.extend_from_slice(&Md5::digest(b"b"));
        assert_eq!(etag, format!("\"{}-2\"", hex(&Md5::digest(&concat))));
        assert_eq!(bare_etag(" W/\"abc\" "), "abc");
    }
}
