//! Listing actions: ListObjectsV2 and ListObjects (v1).

use std::time::SystemTime;

use http::Method;

use crate::acl::Owner;
use crate::body::{Body, Response};
use crate::endpoint::Target;
use crate::error::{Error, InputError, ResponseError};
use crate::flow::paginate::Paginated;
use crate::name::BucketName;
use crate::op::Operation;
use crate::ops::object::parse_bool;
use crate::quirks::ListingEncoding;
use crate::request::RequestBuilder;
use crate::time::parse_iso8601;
use crate::xml::XmlReader;

use super::url_encoding::{self, Decoding};

/// One object in a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Object {
    /// The key, decoded when the server URL-encoded it.
    pub key: String,
    /// When the object was last written.
    pub last_modified: Option<SystemTime>,
    /// The ETag, with its quotes.
    pub etag: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Storage class (`STANDARD`, …), when sent.
    pub storage_class: Option<String>,
    /// The owner (v1 always, v2 with `fetch_owner`), when sent.
    pub owner: Option<Owner>,
}

/// Filters shared by both listing versions.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    prefix: Option<String>,
    delimiter: Option<String>,
    max_keys: Option<u32>,
    encoding_url: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            prefix: None,
            delimiter: None,
            max_keys: None,
            encoding_url: true,
        }
    }
}

impl Filter {
    fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        let req = req
            .query_opt("prefix", self.prefix.as_deref())
            .query_opt("delimiter", self.delimiter.as_deref())
            .query_opt("max-keys", self.max_keys.map(|n| n.to_string()));
        url_encoding::ask(self.encoding_url, req)
    }

    /// Decodes `page` as `rule` says this server encodes it; the echoes of the request take
    /// the request's values. `marker` is the v1 marker or v2 start-after asked for.
    fn decode(
        &self,
        page: &mut Page,
        rule: ListingEncoding,
        marker: Option<&str>,
    ) -> Result<(), Error> {
        let d = Decoding::new(rule, self.encoding_url, page.url_encoded);
        page.prefix = url_encoding::echo(&d, self.prefix.as_deref(), page.prefix.take());
        page.delimiter = url_encoding::echo(&d, self.delimiter.as_deref(), page.delimiter.take());
        page.marker = url_encoding::echo(&d, marker, page.marker.take());
        page.start_after = url_encoding::echo(&d, marker, page.start_after.take());
        d.next_marker("NextMarker", page.next_marker.as_mut())?;
        for obj in &mut page.contents {
            d.key(&mut obj.key)?;
        }
        for prefix in &mut page.common_prefixes {
            d.common_prefix(prefix)?;
        }
        Ok(())
    }
}

macro_rules! filter_setters {
    () => {
        /// Lists only keys that start with `prefix`.
        pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
            self.filter.prefix = Some(prefix.into());
            self
        }

        /// Groups keys that share a prefix up to `delimiter` into common prefixes ("folders").
        pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
            self.filter.delimiter = Some(delimiter.into());
            self
        }

        /// At most `n` keys per page (S3 caps it at 1000).
        pub fn max_keys(mut self, n: u32) -> Self {
            self.filter.max_keys = Some(n);
            self
        }

        /// Whether to ask the server to URL-encode keys (`encoding-type=url`, default on), so
        /// keys holding characters XML 1.0 cannot carry list too. They come back decoded: as
        /// the reply declares, adjusted by the server's
        /// [`ServerQuirks`](crate::quirks::ServerQuirks) (s3s-fs declares it without encoding
        /// anything).
        pub fn encoding_type_url(mut self, yes: bool) -> Self {
            self.filter.encoding_url = yes;
            self
        }
    };
}

/// Lists objects, one page of up to 1000 keys per request.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjectsV2 {
    bucket: BucketName,
    filter: Filter,
    continuation_token: Option<String>,
    start_after: Option<String>,
    fetch_owner: bool,
}

impl ListObjectsV2 {
    /// Lists `bucket` from the start.
    pub fn new(bucket: BucketName) -> Self {
        ListObjectsV2 {
            bucket,
            filter: Filter::default(),
            continuation_token: None,
            start_after: None,
            fetch_owner: false,
        }
    }

    filter_setters!();

    /// Continues a listing (`NextContinuationToken` of the previous page).
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into());
        self
    }

    /// Starts after this key.
    pub fn start_after(mut self, key: impl Into<String>) -> Self {
        self.start_after = Some(key.into());
        self
    }

    /// Includes each object's owner.
    pub fn fetch_owner(mut self, yes: bool) -> Self {
        self.fetch_owner = yes;
        self
    }
}

/// One page of ListObjectsV2.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListObjectsV2Output {
    /// The bucket.
    pub name: String,
    /// The prefix asked for.
    pub prefix: Option<String>,
    /// The delimiter asked for.
    pub delimiter: Option<String>,
    /// The page size asked for.
    pub max_keys: Option<u32>,
    /// Keys and common prefixes in this page.
    pub key_count: Option<u32>,
    /// True when more pages follow.
    pub is_truncated: bool,
    /// The token this page was asked with.
    pub continuation_token: Option<String>,
    /// The token for the next page.
    pub next_continuation_token: Option<String>,
    /// The start-after key asked for.
    pub start_after: Option<String>,
    /// The objects.
    pub contents: Vec<Object>,
    /// Common prefixes (with a delimiter).
    pub common_prefixes: Vec<String>,
}

impl Operation for ListObjectsV2 {
    type Output = ListObjectsV2Output;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::GET, Some(&self.bucket), None)
            .query("list-type", "2")
            .query_opt("continuation-token", self.continuation_token.as_deref())
            .query_opt("start-after", self.start_after.as_deref());
        let req = self.filter.apply(req);
        let req = if self.fetch_owner {
            req.query("fetch-owner", "true")
        } else {
            req
        };
        check_max_keys(self.filter.max_keys, req).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<ListObjectsV2Output, Error> {
        let mut page = parse_listing(resp.body)?;
        let rule = resp.quirks.list_objects_v2;
        self.filter
            .decode(&mut page, rule, self.start_after.as_deref())?;
        Ok(ListObjectsV2Output {
            name: page.name,
            prefix: page.prefix,
            delimiter: page.delimiter,
            max_keys: page.max_keys,
            key_count: page.key_count,
            is_truncated: page.is_truncated,
            continuation_token: page.continuation_token,
            next_continuation_token: page.next_continuation_token,
            start_after: page.start_after,
            contents: page.contents,
            common_prefixes: page.common_prefixes,
        })
    }
}

impl Paginated for ListObjectsV2 {
    fn next_page(&self, output: &ListObjectsV2Output) -> Option<Self> {
        if !output.is_truncated {
            return None;
        }
        let token = output.next_continuation_token.as_ref()?;
        Some(self.clone().continuation_token(token.clone()))
    }
}

/// Lists objects with the original (v1) API, paged by marker.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjects {
    bucket: BucketName,
    filter: Filter,
    marker: Option<String>,
}

impl ListObjects {
    /// Lists `bucket` from the start.
    pub fn new(bucket: BucketName) -> Self {
        ListObjects {
            bucket,
            filter: Filter::default(),
            marker: None,
        }
    }

    filter_setters!();

    /// Starts after this key (`NextMarker`, or the last key of the previous page).
    pub fn marker(mut self, marker: impl Into<String>) -> Self {
        self.marker = Some(marker.into());
        self
    }
}

/// One page of ListObjects (v1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListObjectsOutput {
    /// The bucket.
    pub name: String,
    /// The prefix asked for.
    pub prefix: Option<String>,
    /// The delimiter asked for.
    pub delimiter: Option<String>,
    /// The page size asked for.
    pub max_keys: Option<u32>,
    /// True when more pages follow.
    pub is_truncated: bool,
    /// The marker this page was asked with.
    pub marker: Option<String>,
    /// The marker for the next page (sent with a delimiter only).
    pub next_marker: Option<String>,
    /// The objects.
    pub contents: Vec<Object>,
    /// Common prefixes (with a delimiter).
    pub common_prefixes: Vec<String>,
}

impl Operation for ListObjects {
    type Output = ListObjectsOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::GET, Some(&self.bucket), None)
            .query_opt("marker", self.marker.as_deref());
        check_max_keys(self.filter.max_keys, self.filter.apply(req)).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<ListObjectsOutput, Error> {
        let mut page = parse_listing(resp.body)?;
        let rule = resp.quirks.list_objects_v1;
        self.filter
            .decode(&mut page, rule, self.marker.as_deref())?;
        Ok(ListObjectsOutput {
            name: page.name,
            prefix: page.prefix,
            delimiter: page.delimiter,
            max_keys: page.max_keys,
            is_truncated: page.is_truncated,
            marker: page.marker,
            next_marker: page.next_marker,
            contents: page.contents,
            common_prefixes: page.common_prefixes,
        })
    }
}

impl Paginated for ListObjects {
    /// S3 sends `NextMarker` only with a delimiter; otherwise the last key is the marker. The
    /// later of the last key and the last common prefix is used, as the API reference says.
    fn next_page(&self, output: &ListObjectsOutput) -> Option<Self> {
        if !output.is_truncated {
            return None;
        }
        let marker = output.next_marker.clone().or_else(|| {
            let last_key = output.contents.last().map(|o| o.key.as_str());
            let last_prefix = output.common_prefixes.last().map(String::as_str);
            last_key.max(last_prefix).map(str::to_owned)
        })?;
        Some(self.clone().marker(marker))
    }
}

fn check_max_keys(max_keys: Option<u32>, req: RequestBuilder) -> RequestBuilder {
    check_page_size("max_keys", max_keys, req)
}

/// Fails the request when a page size (`max-keys`, `max-parts`, `max-uploads`) is zero.
pub(crate) fn check_page_size(
    field: &'static str,
    size: Option<u32>,
    req: RequestBuilder,
) -> RequestBuilder {
    match size {
        Some(0) => req.fail(InputError::argument(field, "must be at least 1")),
        _ => req,
    }
}

/// Everything either listing version may carry.
#[derive(Default)]
struct Page {
    name: String,
    prefix: Option<String>,
    delimiter: Option<String>,
    max_keys: Option<u32>,
    key_count: Option<u32>,
    is_truncated: bool,
    marker: Option<String>,
    next_marker: Option<String>,
    continuation_token: Option<String>,
    next_continuation_token: Option<String>,
    start_after: Option<String>,
    contents: Vec<Object>,
    common_prefixes: Vec<String>,
    url_encoded: bool,
}

fn parse_listing(body: &[u8]) -> Result<Page, Error> {
    let mut r = XmlReader::new(body)?;
    r.expect_root("ListBucketResult")?;
    let mut page = Page::default();
    while let Some(tag) = r.next_child()? {
        match tag.name() {
            b"Name" => page.name = r.text()?.into_owned(),
            b"Prefix" => page.prefix = Some(r.text()?.into_owned()),
            b"Delimiter" => page.delimiter = Some(r.text()?.into_owned()),
            b"MaxKeys" => page.max_keys = Some(r.parse("MaxKeys", |s| s.parse().ok())?),
            b"KeyCount" => page.key_count = Some(r.parse("KeyCount", |s| s.parse().ok())?),
            b"IsTruncated" => page.is_truncated = r.parse("IsTruncated", parse_bool)?,
            b"Marker" => page.marker = Some(r.text()?.into_owned()),
            b"NextMarker" => page.next_marker = Some(r.text()?.into_owned()),
            b"ContinuationToken" => page.continuation_token = Some(r.text()?.into_owned()),
            b"NextContinuationToken" => {
                page.next_continuation_token = Some(r.text()?.into_owned());
            }
            b"StartAfter" => page.start_after = Some(r.text()?.into_owned()),
            b"EncodingType" => page.url_encoded = url_encoding::declares_url(&r.text()?),
            b"Contents" => page.contents.push(parse_object(&mut r)?),
            b"CommonPrefixes" => {
                while let Some(field) = r.next_child()? {
                    match field.name() {
                        b"Prefix" => page.common_prefixes.push(r.text()?.into_owned()),
                        _ => r.skip()?,
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    r.finish()?;
    // EncodingType may come after the fields it applies to: the caller decodes at the end.
    Ok(page)
}

fn parse_object(r: &mut XmlReader<'_>) -> Result<Object, Error> {
    let mut obj = Object::default();
    let mut has_key = false;
    while let Some(field) = r.next_child()? {
        match field.name() {
            b"Key" => {
                obj.key = r.text()?.into_owned();
                has_key = true;
            }
            b"LastModified" => obj.last_modified = Some(r.parse("LastModified", parse_iso8601)?),
            b"ETag" => obj.etag = Some(r.text()?.into_owned()),
            b"Size" => obj.size = r.parse("Size", |s| s.parse().ok())?,
            b"StorageClass" => obj.storage_class = Some(r.text()?.into_owned()),
            b"Owner" => obj.owner = Some(Owner::read(r)?),
            _ => r.skip()?,
        }
    }
    if !has_key {
        return Err(ResponseError::MissingField { field: "Key" }.into());
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use http::{HeaderMap, StatusCode};

    fn bucket() -> BucketName {
        BucketName::new("bucket").unwrap()
    }

    fn parse_v2(body: &[u8]) -> Result<ListObjectsV2Output, Error> {
        let h = HeaderMap::new();
        ListObjectsV2::new(bucket()).parse(Response::new(StatusCode::OK, &h, body))
    }

    #[test]
    fn v2_request_query() {
        let c = Config::new("http://127.0.0.1:9000", "us-east-1").unwrap();
        let op = ListObjectsV2::new(bucket())
            .prefix("photos/2006 ")
            .delimiter("/")
            .max_keys(2)
            .continuation_token("tok+/=");
        let req = op.request(c.target()).unwrap();
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:9000/bucket?list-type=2&continuation-token=tok%2B%2F%3D&prefix=photos%2F2006%20&delimiter=%2F&max-keys=2&encoding-type=url"
        );
        assert!(
            ListObjectsV2::new(bucket())
                .max_keys(0)
                .request(c.target())
                .is_err()
        );
    }

    #[test]
    fn v2_parses_aws_example_with_prefixes_and_paging() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name><Prefix>photos/2006/</Prefix><KeyCount>3</KeyCount>
  <MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>photos/2006/index.html</Key><LastModified>2011-02-26T01:56:20.000Z</LastModified>
    <ETag>&quot;bf1d737a4d46a19f3bced6905cc8b902&quot;</ETag><Size>142863</Size><StorageClass>STANDARD</StorageClass></Contents>
  <CommonPrefixes><Prefix>photos/2006/February/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>photos/2006/January/</Prefix></CommonPrefixes>
</ListBucketResult>"#;
        let out = parse_v2(body).unwrap();
        assert_eq!(out.name, "example-bucket");
        assert_eq!(
            out.contents[0].etag.as_deref(),
            Some("\"bf1d737a4d46a19f3bced6905cc8b902\"")
        );
        assert_eq!(out.contents[0].size, 142_863);
        assert_eq!(
            out.common_prefixes,
            ["photos/2006/February/", "photos/2006/January/"]
        );
        let next = ListObjectsV2::new(bucket()).next_page(&out).unwrap();
        assert_eq!(
            next.continuation_token.as_deref(),
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        );
    }

    #[test]
    fn optional_fields_may_be_absent() {
        let out =
            parse_v2(b"<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>")
                .unwrap();
        assert_eq!(out.contents[0].key, "k");
        assert!(!out.is_truncated);
        assert!(
            parse_v2(b"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>")
                .is_err()
        );
    }

    #[test]
    fn url_encoding_decoded_only_when_declared() {
        let encoded = b"<ListBucketResult><EncodingType>url</EncodingType>\
            <Contents><Key>a+b%2Bc%25d%E2%82%AC</Key></Contents>\
            <CommonPrefixes><Prefix>x%2F</Prefix></CommonPrefixes></ListBucketResult>";
        let out = parse_v2(encoded).unwrap();
        assert_eq!(out.contents[0].key, "a b+c%d€");
        assert_eq!(out.common_prefixes, ["x/"]);
        let plain = b"<ListBucketResult><Contents><Key>a+b%2B</Key></Contents></ListBucketResult>";
        assert_eq!(parse_v2(plain).unwrap().contents[0].key, "a+b%2B");
    }

    #[test]
    fn each_server_reads_back_the_keys_it_was_given() {
        use crate::quirks::ServerQuirks;
        let h = HeaderMap::new();
        let v1 = ListObjects::new(bucket()).delimiter("/").marker("d 3/");
        // v1 pages as each server answered this request (keys `d%2/x`, `k+1`, …).
        let cases = [
            (
                ServerQuirks::ceph(),
                "<ListBucketResult><EncodingType>url</EncodingType><Delimiter>/</Delimiter>\
                 <IsTruncated>true</IsTruncated><CommonPrefixes><Prefix>d%252/</Prefix>\
                 </CommonPrefixes><Marker>d 3/</Marker><NextMarker>d%2/</NextMarker>\
                 <Contents><Key>k%2B1</Key></Contents></ListBucketResult>",
            ),
            (
                ServerQuirks::s3s(),
                "<ListBucketResult><IsTruncated>true</IsTruncated><CommonPrefixes>\
                 <Prefix>d%2/</Prefix></CommonPrefixes><Delimiter>/</Delimiter>\
                 <NextMarker>d%2/</NextMarker><Contents><Key>k+1</Key></Contents>\
                 <EncodingType>url</EncodingType></ListBucketResult>",
            ),
            (
                ServerQuirks::moto(),
                "<ListBucketResult><IsTruncated>true</IsTruncated><NextMarker>d%252/</NextMarker>\
                 <Contents><Key>k%2B1</Key></Contents><Delimiter>/</Delimiter>\
                 <CommonPrefixes><Prefix>d%2/</Prefix></CommonPrefixes>\
                 <EncodingType>url</EncodingType></ListBucketResult>",
            ),
            (
                ServerQuirks::localstack(),
                "<ListBucketResult><IsTruncated>true</IsTruncated><Marker>d 3/</Marker>\
                 <NextMarker>d%252/</NextMarker><Delimiter>/</Delimiter><CommonPrefixes>\
                 <Prefix>d%252/</Prefix></CommonPrefixes><EncodingType>url</EncodingType>\
                 <Contents><Key>k%2B1</Key></Contents></ListBucketResult>",
            ),
        ];
        for (quirks, body) in cases {
            let reply = Response::new(StatusCode::OK, &h, body.as_bytes()).quirks(quirks);
            let out = v1.parse(reply).unwrap();
            assert_eq!(out.contents[0].key, "k+1", "{quirks:?}");
            assert_eq!(out.common_prefixes, ["d%2/"], "{quirks:?}");
            assert_eq!(out.next_marker.as_deref(), Some("d%2/"), "{quirks:?}");
            assert_eq!(out.delimiter.as_deref(), Some("/"));
            if out.marker.is_some() {
                assert_eq!(out.marker.as_deref(), Some("d 3/"));
            }
        }
    }

    #[test]
    fn v1_next_marker_falls_back_to_last_key() {
        let h = HeaderMap::new();
        let op = ListObjects::new(bucket()).max_keys(2);
        let body = b"<ListBucketResult><IsTruncated>true</IsTruncated>\
            <Contents><Key>a</Key></Contents><Contents><Key>b</Key></Contents></ListBucketResult>";
        let out = op.parse(Response::new(StatusCode::OK, &h, body)).unwrap();
        assert_eq!(op.next_page(&out).unwrap().marker.as_deref(), Some("b"));
        let body = b"<ListBucketResult><IsTruncated>true</IsTruncated><NextMarker>z</NextMarker>\
            <Contents><Key>a</Key></Contents></ListBucketResult>";
        let out = op.parse(Response::new(StatusCode::OK, &h, body)).unwrap();
        assert_eq!(op.next_page(&out).unwrap().marker.as_deref(), Some("z"));
    }

    #[test]
    fn wrong_root_is_typed() {
        let err = parse_v2(b"<Other/>").unwrap_err();
        assert!(matches!(
            err,
            Error::Response(ResponseError::UnexpectedRoot {
                expected: "ListBucketResult",
                ..
            })
        ));
    }
}
