//! Versioning actions: PutBucketVersioning, GetBucketVersioning, ListObjectVersions.

use http::Method;

use crate::acl::Owner;
use crate::body::{Body, Response};
use crate::endpoint::Target;
use crate::error::{Error, ResponseError};
use crate::flow::paginate::Paginated;
use crate::name::BucketName;
use crate::op::Operation;
use crate::ops::list::check_page_size;
use crate::ops::object::parse_bool;
use crate::ops::subresource::{get_bucket_doc, put_bucket_doc};
use crate::ops::url_encoding::{self, Decoding};
use crate::time::parse_iso8601;
use crate::versioning::{DeleteMarkerEntry, ObjectVersion, VersioningConfiguration};
use crate::xml::XmlReader;

put_bucket_doc! {
    /// Enables or suspends versioning on a bucket.
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html>
    PutBucketVersioning, "versioning", VersioningConfiguration
}

get_bucket_doc! {
    /// Reads a bucket's versioning state (no status for a bucket never versioned).
    ///
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html>
    GetBucketVersioning, "versioning", VersioningConfiguration, crate::ErrorCode::NoSuchBucket
}

/// Lists object versions and delete markers, paged by key and version-id markers.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjectVersions {
    bucket: BucketName,
    prefix: Option<String>,
    delimiter: Option<String>,
    max_keys: Option<u32>,
    key_marker: Option<String>,
    version_id_marker: Option<String>,
    encoding_url: bool,
}

impl ListObjectVersions {
    /// Lists all versions in `bucket`.
    pub fn new(bucket: BucketName) -> Self {
        ListObjectVersions {
            bucket,
            prefix: None,
            delimiter: None,
            max_keys: None,
            key_marker: None,
            version_id_marker: None,
            encoding_url: true,
        }
    }

    /// Whether to ask for URL-encoded keys (`encoding-type=url`, default on); they come back
    /// decoded (see [`ListObjectsV2::encoding_type_url`](crate::ops::ListObjectsV2::encoding_type_url)).
    pub fn encoding_type_url(mut self, yes: bool) -> Self {
        self.encoding_url = yes;
        self
    }

    /// Only keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Groups keys sharing a prefix up to `delimiter` into common prefixes.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// At most `n` versions and markers per page (S3: 1000).
    pub fn max_keys(mut self, n: u32) -> Self {
        self.max_keys = Some(n);
        self
    }

    /// Continues after this key (and version id of it).
    pub fn markers(mut self, key: impl Into<String>, version_id: Option<String>) -> Self {
        self.key_marker = Some(key.into());
        self.version_id_marker = version_id;
        self
    }
}

/// One page of ListObjectVersions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListObjectVersionsOutput {
    /// The bucket.
    pub name: String,
    /// True when more pages follow.
    pub is_truncated: bool,
    /// The key marker for the next page.
    pub next_key_marker: Option<String>,
    /// The version-id marker for the next page.
    pub next_version_id_marker: Option<String>,
    /// The versions, in key order, newest first within a key.
    pub versions: Vec<ObjectVersion>,
    /// The delete markers.
    pub delete_markers: Vec<DeleteMarkerEntry>,
    /// Common prefixes (with a delimiter).
    pub common_prefixes: Vec<String>,
}

impl Operation for ListObjectVersions {
    type Output = ListObjectVersionsOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::GET, Some(&self.bucket), None)
            .subresource("versions")
            .query_opt("delimiter", self.delimiter.as_deref())
            .query_opt("key-marker", self.key_marker.as_deref())
            .query_opt("max-keys", self.max_keys.map(|n| n.to_string()))
            .query_opt("prefix", self.prefix.as_deref())
            .query_opt("version-id-marker", self.version_id_marker.as_deref());
        let req = url_encoding::ask(self.encoding_url, req);
        check_page_size("max_keys", self.max_keys, req).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<ListObjectVersionsOutput, Error> {
        let (mut out, declared) = parse_versions(resp.body)?;
        let rule = resp.quirks.list_object_versions;
        let d = Decoding::new(rule, self.encoding_url, declared);
        d.next_marker("NextKeyMarker", out.next_key_marker.as_mut())?;
        for v in &mut out.versions {
            d.key(&mut v.key)?;
        }
        for m in &mut out.delete_markers {
            d.key(&mut m.key)?;
        }
        for p in &mut out.common_prefixes {
            d.common_prefix(p)?;
        }
        Ok(out)
    }
}

/// The page, and whether it declares `EncodingType` url (decoded by the caller: the element
/// may come after the fields it covers).
fn parse_versions(body: &[u8]) -> Result<(ListObjectVersionsOutput, bool), Error> {
    let mut r = XmlReader::new(body)?;
    r.expect_root("ListVersionsResult")?;
    let mut out = ListObjectVersionsOutput::default();
    let mut declared = false;
    while let Some(tag) = r.next_child()? {
        match tag.name() {
            b"Name" => out.name = r.text()?.into_owned(),
            b"EncodingType" => declared = url_encoding::declares_url(&r.text()?),
            b"IsTruncated" => out.is_truncated = r.parse("IsTruncated", parse_bool)?,
            b"NextKeyMarker" => out.next_key_marker = Some(r.text()?.into_owned()),
            b"NextVersionIdMarker" => out.next_version_id_marker = Some(r.text()?.into_owned()),
            b"Version" => {
                let mut v = ObjectVersion::default();
                while let Some(field) = r.next_child()? {
                    match field.name() {
                        b"Key" => v.key = r.text()?.into_owned(),
                        b"VersionId" => v.version_id = r.text()?.into_owned(),
                        b"IsLatest" => v.is_latest = r.parse("IsLatest", parse_bool)?,
                        b"LastModified" => {
                            v.last_modified = Some(r.parse("LastModified", parse_iso8601)?);
                        }
                        b"ETag" => v.etag = Some(r.text()?.into_owned()),
                        b"Size" => v.size = r.parse("Size", |s| s.parse().ok())?,
                        b"StorageClass" => v.storage_class = Some(r.text()?.into_owned()),
                        b"Owner" => v.owner = Some(Owner::read(&mut r)?),
                        _ => r.skip()?,
                    }
                }
                if v.key.is_empty() {
                    return Err(ResponseError::MissingField { field: "Key" }.into());
                }
                out.versions.push(v);
            }
            b"DeleteMarker" => {
                let mut m = DeleteMarkerEntry::default();
                while let Some(field) = r.next_child()? {
                    match field.name() {
                        b"Key" => m.key = r.text()?.into_owned(),
                        b"VersionId" => m.version_id = r.text()?.into_owned(),
                        b"IsLatest" => m.is_latest = r.parse("IsLatest", parse_bool)?,
                        b"LastModified" => {
                            m.last_modified = Some(r.parse("LastModified", parse_iso8601)?);
                        }
                        b"Owner" => m.owner = Some(Owner::read(&mut r)?),
                        _ => r.skip()?,
                    }
                }
                if m.key.is_empty() {
                    return Err(ResponseError::MissingField { field: "Key" }.into());
                }
                out.delete_markers.push(m);
            }
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
    Ok((out, declared))
}

impl Paginated for ListObjectVersions {
    fn next_page(&self, output: &ListObjectVersionsOutput) -> Option<Self> {
        if !output.is_truncated {
            return None;
        }
        let key = output.next_key_marker.clone().filter(|k| !k.is_empty())?;
        let version = output
            .next_version_id_marker
            .clone()
            .filter(|v| !v.is_empty());
        Some(self.clone().markers(key, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::ops::subresource::Document;
    use crate::versioning::VersioningStatus;
    use http::{HeaderMap, StatusCode};

    fn b() -> BucketName {
        BucketName::new("bucket").unwrap()
    }

    const PAGE: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>
  <NextKeyMarker>v</NextKeyMarker><NextVersionIdMarker>xZF2U6</NextVersionIdMarker>
  <MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
  <DeleteMarker><Key>v</Key><VersionId>-f5Qldz</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-12-02T00:30:40.000Z</LastModified><Owner><ID>tester</ID></Owner></DeleteMarker>
  <Version><Key>v</Key><VersionId>FBOJIe</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-12-02T00:30:39.000Z</LastModified><ETag>"c81e728d9d4c2f636f067f89cc14862c"</ETag>
    <Size>1</Size><StorageClass>STANDARD</StorageClass></Version>
  <CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>
</ListVersionsResult>"#;

    #[test]
    fn list_versions_page_and_next() {
        let op = ListObjectVersions::new(b()).max_keys(2).prefix("v");
        let req = op
            .request(Config::new("http://h", "us-east-1").unwrap().target())
            .unwrap();
        assert_eq!(
            req.uri(),
            "http://h/bucket?versions&max-keys=2&prefix=v&encoding-type=url"
        );
        let h = HeaderMap::new();
        let out = op.parse(Response::new(StatusCode::OK, &h, PAGE)).unwrap();
        assert_eq!(out.versions.len(), 1);
        assert_eq!(out.versions[0].size, 1);
        assert!(!out.versions[0].is_latest);
        assert_eq!(out.delete_markers[0].version_id, "-f5Qldz");
        assert!(out.delete_markers[0].is_latest);
        assert_eq!(out.common_prefixes, ["dir/"]);
        let next = op.next_page(&out).unwrap();
        let req = next
            .request(Config::new("http://h", "us-east-1").unwrap().target())
            .unwrap();
        assert_eq!(
            req.uri(),
            "http://h/bucket?versions&key-marker=v&max-keys=2&prefix=v&version-id-marker=xZF2U6&encoding-type=url"
        );
        for cut in 0..PAGE.len() {
            let _ = op.parse(Response::new(StatusCode::OK, &h, &PAGE[..cut]));
        }
        let bad = PAGE.to_vec();
        let bad = String::from_utf8(bad)
            .unwrap()
            .replace("<Size>1</Size>", "<Size>x</Size>");
        assert!(
            op.parse(Response::new(StatusCode::OK, &h, bad.as_bytes()))
                .is_err()
        );
    }

    #[test]
    fn versioning_configuration() {
        let cfg = VersioningConfiguration::from_body(
            br#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status><MFADelete>Disabled</MFADelete></VersioningConfiguration>"#,
        )
        .unwrap();
        assert!(cfg.is_enabled());
        assert_eq!(cfg.mfa_delete, Some(false));
        let never = VersioningConfiguration::from_body(b"<VersioningConfiguration/>").unwrap();
        assert_eq!(never.status, None);
        let req = PutBucketVersioning::new(b(), VersioningConfiguration::suspended())
            .request(Config::new("http://h", "us-east-1").unwrap().target())
            .unwrap();
        let body = std::str::from_utf8(req.body().as_bytes().unwrap()).unwrap();
        assert!(body.contains("<Status>Suspended</Status>"), "{body}");
        assert!(
            PutBucketVersioning::new(b(), VersioningConfiguration::default())
                .request(Config::new("http://h", "us-east-1").unwrap().target())
                .is_err()
        );
        assert_eq!(VersioningStatus::Other("X".into()).as_str(), "X");
    }
}
