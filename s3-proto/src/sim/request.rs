//! A request as the simulator sees it: decoded bucket, key and query, plus which S3 action it
//! is ([`OpKind`]).

use std::fmt::{self, Write as _};

use http::{HeaderMap, Method, Request, StatusCode, Uri};

use super::reply::S3Error;

/// The S3 action a request is routed to, by method, path and sub-resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// `GET /`.
    ListBuckets,
    /// `PUT /bucket`.
    CreateBucket,
    /// `HEAD /bucket`.
    HeadBucket,
    /// `DELETE /bucket`.
    DeleteBucket,
    /// `GET /bucket?list-type=2`.
    ListObjectsV2,
    /// `GET /bucket` (v1 listing).
    ListObjects,
    /// `GET /bucket?uploads`.
    ListMultipartUploads,
    /// `POST /bucket?delete`.
    DeleteObjects,
    /// `PUT /bucket/key`.
    PutObject,
    /// `PUT /bucket/key` with `x-amz-copy-source`.
    CopyObject,
    /// `GET /bucket/key`.
    GetObject,
    /// `HEAD /bucket/key`.
    HeadObject,
    /// `DELETE /bucket/key`.
    DeleteObject,
    /// `POST /bucket/key?uploads`.
    CreateMultipartUpload,
    /// `PUT /bucket/key?uploadId&partNumber`.
    UploadPart,
    /// `PUT /bucket/key?uploadId&partNumber` with `x-amz-copy-source`.
    UploadPartCopy,
    /// `POST /bucket/key?uploadId`.
    CompleteMultipartUpload,
    /// `DELETE /bucket/key?uploadId`.
    AbortMultipartUpload,
    /// `GET /bucket/key?uploadId`.
    ListParts,
    /// A sub-resource the simulator does not implement (`?acl`, `?cors`, …): 501.
    NotImplemented,
    /// A method the resource does not support: 405.
    MethodNotAllowed,
    /// A request whose URI could not be decoded: 400.
    Invalid,
}

impl OpKind {
    /// Every kind, for iterating over counters.
    pub const ALL: [OpKind; 22] = [
        OpKind::ListBuckets,
        OpKind::CreateBucket,
        OpKind::HeadBucket,
        OpKind::DeleteBucket,
        OpKind::ListObjectsV2,
        OpKind::ListObjects,
        OpKind::ListMultipartUploads,
        OpKind::DeleteObjects,
        OpKind::PutObject,
        OpKind::CopyObject,
        OpKind::GetObject,
        OpKind::HeadObject,
        OpKind::DeleteObject,
        OpKind::CreateMultipartUpload,
        OpKind::UploadPart,
        OpKind::UploadPartCopy,
        OpKind::CompleteMultipartUpload,
        OpKind::AbortMultipartUpload,
        OpKind::ListParts,
        OpKind::NotImplemented,
        OpKind::MethodNotAllowed,
        OpKind::Invalid,
    ];

    /// True for the actions S3 may answer with a 200 carrying an `<Error>` document.
    pub fn may_fail_in_200(self) -> bool {
        matches!(
            self,
            OpKind::CompleteMultipartUpload | OpKind::CopyObject | OpKind::UploadPartCopy
        )
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A decoded request.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// The first path segment, decoded.
    pub(crate) bucket: Option<String>,
    /// The rest of the path, decoded; `None` for `/bucket` and `/bucket/`.
    pub(crate) key: Option<String>,
    /// Query parameters in order, decoded; a bare `?uploads` has an empty value.
    pub(crate) query: Vec<(String, String)>,
    /// The action.
    pub(crate) op: OpKind,
}

impl Incoming {
    /// Decodes `request` and routes it. A URI that cannot be decoded yields an `Invalid`
    /// request carrying the error to answer with.
    pub(crate) fn parse(request: Request<Vec<u8>>) -> (Incoming, Option<S3Error>) {
        let (parts, body) = request.into_parts();
        let mut incoming = Incoming {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
            bucket: None,
            key: None,
            query: Vec::new(),
            op: OpKind::Invalid,
        };
        match incoming.decode_uri() {
            Ok(()) => {
                incoming.op = incoming.route();
                (incoming, None)
            }
            Err(e) => (incoming, Some(e)),
        }
    }

    fn decode_uri(&mut self) -> Result<(), S3Error> {
        let invalid = || {
            S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidURI",
                "Couldn't parse the specified URI.",
            )
        };
        let path = self.uri.path();
        let path = path.strip_prefix('/').unwrap_or(path);
        let (bucket, key) = match path.split_once('/') {
            Some((bucket, key)) => (bucket, Some(key)),
            None => (path, None),
        };
        if !bucket.is_empty() {
            self.bucket = Some(decode_utf8(bucket, false).ok_or_else(invalid)?);
        }
        if let Some(key) = key.filter(|k| !k.is_empty()) {
            self.key = Some(decode_utf8(key, false).ok_or_else(invalid)?);
        }
        if let Some(query) = self.uri.query() {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let name = decode_utf8(name, true).ok_or_else(invalid)?;
                let value = decode_utf8(value, true).ok_or_else(invalid)?;
                self.query.push((name, value));
            }
        }
        Ok(())
    }

    fn route(&self) -> OpKind {
        use OpKind::*;
        const BUCKET_SUBRESOURCES: [&str; 3] = ["list-type", "uploads", "delete"];
        // Sub-resources S3 has and the simulator does not: answering 501 beats a wrong listing.
        const OTHER_SUBRESOURCES: [&str; 14] = [
            "acl",
            "cors",
            "location",
            "policy",
            "tagging",
            "versioning",
            "versions",
            "lifecycle",
            "website",
            "logging",
            "notification",
            "replication",
            "encryption",
            "retention",
        ];
        if OTHER_SUBRESOURCES.iter().any(|s| self.has(s)) {
            return NotImplemented;
        }
        let copy = self.headers.contains_key("x-amz-copy-source");
        let method = &self.method;
        match (&self.bucket, &self.key) {
            (None, _) if method == Method::GET => ListBuckets,
            (None, _) => MethodNotAllowed,
            (Some(_), None) => match *method {
                Method::PUT if !BUCKET_SUBRESOURCES.iter().any(|s| self.has(s)) => CreateBucket,
                Method::HEAD => HeadBucket,
                Method::DELETE => DeleteBucket,
                Method::GET if self.has("uploads") => ListMultipartUploads,
                Method::GET if self.param("list-type") == Some("2") => ListObjectsV2,
                Method::GET if self.has("list-type") => NotImplemented,
                Method::GET => ListObjects,
                Method::POST if self.has("delete") => DeleteObjects,
                _ => MethodNotAllowed,
            },
            (Some(_), Some(_)) => {
                let upload = self.has("uploadId");
                match *method {
                    Method::PUT if upload && copy => UploadPartCopy,
                    Method::PUT if upload => UploadPart,
                    Method::PUT if copy => CopyObject,
                    Method::PUT => PutObject,
                    Method::GET if upload => ListParts,
                    Method::GET => GetObject,
                    Method::HEAD => HeadObject,
                    Method::DELETE if upload => AbortMultipartUpload,
                    Method::DELETE => DeleteObject,
                    Method::POST if self.has("uploads") => CreateMultipartUpload,
                    Method::POST if upload => CompleteMultipartUpload,
                    _ => MethodNotAllowed,
                }
            }
        }
    }

    /// The value of query parameter `name` (empty for a bare sub-resource).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when query parameter `name` is present, with or without a value.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(n, _)| n == name)
    }

    /// A header as text; `None` when absent or not visible ASCII.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The bucket, for actions routed with one.
    pub(crate) fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    /// The key, for actions routed with one.
    pub(crate) fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }

    /// `/bucket/key` (or `/bucket`), for error documents.
    pub(crate) fn resource(&self) -> String {
        match (&self.bucket, &self.key) {
            (Some(b), Some(k)) => format!("/{b}/{k}"),
            (Some(b), None) => format!("/{b}"),
            _ => "/".to_owned(),
        }
    }
}

/// Percent-decodes `input` into UTF-8; `+` is a space when `plus_as_space` (query strings).
/// `None` for a bad escape or bytes that are not UTF-8.
pub(crate) fn decode_utf8(input: &str, plus_as_space: bool) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = crate::sign::encode::hex_value(*bytes.get(i + 1)?)?;
                let lo = crate::sign::encode::hex_value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes `input` as S3 does for `encoding-type=url` listings: unreserved characters
/// and `/` kept, space as `+`.
pub(crate) fn encode_url(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn incoming(method: Method, uri: &str, copy: bool) -> Incoming {
        let mut req = Request::builder().method(method).uri(uri);
        if copy {
            req = req.header("x-amz-copy-source", "/b/src");
        }
        let (incoming, err) = Incoming::parse(req.body(Vec::new()).unwrap());
        assert!(err.is_none(), "{uri}");
        incoming
    }

    #[test]
    fn routes_by_method_path_and_subresource() {
        let base = "http://127.0.0.1:9000";
        let cases = [
            (Method::GET, "/", false, OpKind::ListBuckets),
            (Method::PUT, "/b", false, OpKind::CreateBucket),
            (
                Method::GET,
                "/b?list-type=2&prefix=a",
                false,
                OpKind::ListObjectsV2,
            ),
            (Method::GET, "/b/", false, OpKind::ListObjects),
            (
                Method::GET,
                "/b?uploads",
                false,
                OpKind::ListMultipartUploads,
            ),
            (Method::GET, "/b?acl", false, OpKind::NotImplemented),
            (Method::POST, "/b?delete", false, OpKind::DeleteObjects),
            (Method::PUT, "/b/k", true, OpKind::CopyObject),
            (
                Method::PUT,
                "/b/k?uploadId=u&partNumber=1",
                true,
                OpKind::UploadPartCopy,
            ),
            (
                Method::PUT,
                "/b/k?uploadId=u&partNumber=1",
                false,
                OpKind::UploadPart,
            ),
            (
                Method::POST,
                "/b/k?uploads",
                false,
                OpKind::CreateMultipartUpload,
            ),
            (
                Method::POST,
                "/b/k?uploadId=u",
                false,
                OpKind::CompleteMultipartUpload,
            ),
            (
                Method::DELETE,
                "/b/k?uploadId=u",
                false,
                OpKind::AbortMultipartUpload,
            ),
            (Method::GET, "/b/k?uploadId=u", false, OpKind::ListParts),
            (Method::PATCH, "/b/k", false, OpKind::MethodNotAllowed),
        ];
        for (method, path, copy, kind) in cases {
            assert_eq!(
                incoming(method, &format!("{base}{path}"), copy).op,
                kind,
                "{path}"
            );
        }
    }

    #[test]
    fn decodes_keys_and_query() {
        let i = incoming(
            Method::GET,
            "http://h/b/a%20b/c%2Bd?prefix=x+y%2Bz&uploads",
            false,
        );
        assert_eq!(i.key.as_deref(), Some("a b/c+d"));
        assert_eq!(i.param("prefix"), Some("x y+z"));
        assert!(i.has("uploads"));
        let (_, err) = Incoming::parse(Request::get("http://h/b/%ff").body(Vec::new()).unwrap());
        assert!(err.is_some());
        assert_eq!(encode_url("a b+/é"), "a+b%2B/%C3%A9");
    }
}
