//! Bucket actions: ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use http::Method;

use crate::acl::{CannedAcl, Owner};
use crate::body::{Body, Response};
use crate::endpoint::Target;
use crate::error::{Error, ErrorCode, ResponseError, ServiceError};
use crate::headers;
use crate::name::BucketName;
use crate::op::Operation;
use crate::time::parse_iso8601;
use crate::xml::{XmlReader, XmlWriter};

/// Lists the buckets the caller owns.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListBuckets;

impl ListBuckets {
    /// Lists all buckets.
    pub fn new() -> Self {
        ListBuckets
    }
}

/// One bucket in a ListBuckets reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketInfo {
    /// The bucket name, as the server spells it.
    pub name: String,
    /// When the bucket was created.
    pub creation_date: Option<SystemTime>,
}

/// What ListBuckets reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListBucketsOutput {
    /// The owner of the buckets (the caller).
    pub owner: Option<Owner>,
    /// The buckets.
    pub buckets: Vec<BucketInfo>,
}

impl Operation for ListBuckets {
    type Output = ListBucketsOutput;

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target.request(Method::GET, None, None).build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<ListBucketsOutput, Error> {
        let mut r = XmlReader::new(resp.body)?;
        r.expect_root("ListAllMyBucketsResult")?;
        let mut out = ListBucketsOutput::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Owner" => out.owner = Some(Owner::read(&mut r)?),
                b"Buckets" => {
                    while let Some(tag) = r.next_child()? {
                        if tag.name() != b"Bucket" {
                            r.skip()?;
                            continue;
                        }
                        let mut name = None;
                        let mut creation_date = None;
                        while let Some(field) = r.next_child()? {
                            match field.name() {
                                b"Name" => name = Some(r.text()?.into_owned()),
                                b"CreationDate" => {
                                    creation_date = Some(r.parse("CreationDate", parse_iso8601)?);
                                }
                                _ => r.skip()?,
                            }
                        }
                        let name = name.ok_or(ResponseError::MissingField { field: "Name" })?;
                        out.buckets.push(BucketInfo {
                            name,
                            creation_date,
                        });
                    }
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(out)
    }
}

/// A bucket location constraint: the region (or legacy name) a bucket is created in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocationConstraint(Cow<'static, str>);

impl LocationConstraint {
    /// `EU`: the legacy name of eu-west-1 (Ireland), as in the boto tutorial.
    pub const EU: LocationConstraint = LocationConstraint(Cow::Borrowed("EU"));
    /// US West (N. California).
    pub const US_WEST_1: LocationConstraint = LocationConstraint(Cow::Borrowed("us-west-1"));
    /// Asia Pacific (Singapore).
    pub const AP_SOUTHEAST_1: LocationConstraint =
        LocationConstraint(Cow::Borrowed("ap-southeast-1"));

    /// Any region name, or a server-specific constraint (Ceph: the zonegroup's `api_name`).
    pub fn new(region: impl Into<String>) -> Self {
        LocationConstraint(Cow::Owned(region.into()))
    }

    /// The constraint as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The region this constraint means: `EU` is eu-west-1, empty is us-east-1.
    pub fn region(&self) -> &str {
        region_of_constraint(&self.0)
    }
}

impl fmt::Display for LocationConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn region_of_constraint(c: &str) -> &str {
    match c {
        "" | "US" => "us-east-1",
        "EU" => "eu-west-1",
        other => other,
    }
}

/// Creates a bucket. Creating one the caller already owns is success; a name owned by
/// someone else fails with [`ErrorCode::BucketAlreadyExists`].
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateBucket {
    bucket: BucketName,
    location: Option<LocationConstraint>,
    acl: Option<CannedAcl>,
    object_lock: bool,
}

impl CreateBucket {
    /// Creates `bucket` in the config's region (no location constraint sent).
    pub fn new(bucket: BucketName) -> Self {
        CreateBucket {
            bucket,
            location: None,
            acl: None,
            object_lock: false,
        }
    }

    /// Creates the bucket with object lock enabled (`x-amz-bucket-object-lock-enabled`),
    /// which also turns versioning on; it cannot be enabled later on most servers.
    pub fn object_lock_enabled(mut self, enabled: bool) -> Self {
        self.object_lock = enabled;
        self
    }

    /// Creates the bucket in `location` (sent as `<LocationConstraint>`).
    pub fn location(mut self, location: LocationConstraint) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets a canned ACL on the new bucket.
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// The bucket to create.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// The request body, if a location is set.
    fn body(&self) -> Option<String> {
        let location = self.location.as_ref()?;
        // us-east-1 is the default and AWS rejects it as an explicit constraint.
        if location.as_str().is_empty() || location.as_str() == "us-east-1" {
            return None;
        }
        let mut w = XmlWriter::new();
        w.open_with(
            "CreateBucketConfiguration",
            r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#,
        )
        .element("LocationConstraint", location.as_str())
        .close("CreateBucketConfiguration");
        Some(w.finish())
    }
}

/// What CreateBucket reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateBucketOutput {
    /// The `Location` header (`/bucket` or the bucket URL); absent when the bucket existed.
    pub location: Option<String>,
    /// True when the caller already owned the bucket.
    pub already_owned: bool,
}

impl Operation for CreateBucket {
    type Output = CreateBucketOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::PUT, Some(&self.bucket), None)
            .header_opt("x-amz-acl", self.acl.map(CannedAcl::as_str))
            .header_opt(
                "x-amz-bucket-object-lock-enabled",
                self.object_lock.then_some("true"),
            );
        match self.body() {
            Some(body) => req
                .header("content-type", "application/xml")
                .body(body)
                .build(),
            None => req.build(),
        }
    }

    fn parse(&self, resp: Response<'_>) -> Result<CreateBucketOutput, Error> {
        Ok(CreateBucketOutput {
            location: headers::string_opt(&resp, "location")?,
            already_owned: false,
        })
    }

    fn recover(&self, error: ServiceError) -> Result<CreateBucketOutput, Error> {
        // Outside us-east-1 AWS answers 409 BucketAlreadyOwnedByYou to a re-create; the boto
        // tutorial (and every user) treats that as success.
        if error.code == ErrorCode::BucketAlreadyOwnedByYou {
            return Ok(CreateBucketOutput {
                location: None,
                already_owned: true,
            });
        }
        Err(error.into())
    }
}

/// Deletes an empty bucket.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteBucket {
    bucket: BucketName,
}

impl DeleteBucket {
    /// Deletes `bucket`, which must be empty.
    pub fn new(bucket: BucketName) -> Self {
        DeleteBucket { bucket }
    }
}

impl Operation for DeleteBucket {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::DELETE, Some(&self.bucket), None)
            .build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// Checks that a bucket exists and is accessible (boto's `lookup`).
///
/// A missing bucket is [`ErrorCode::NoSuchBucket`]; one owned by someone else is
/// [`ErrorCode::AccessDenied`].
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadBucket {
    bucket: BucketName,
}

impl HeadBucket {
    /// Heads `bucket`.
    pub fn new(bucket: BucketName) -> Self {
        HeadBucket { bucket }
    }
}

/// What HeadBucket reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeadBucketOutput {
    /// The bucket's region (`x-amz-bucket-region`), when the server says it.
    pub region: Option<String>,
}

impl Operation for HeadBucket {
    type Output = HeadBucketOutput;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::HEAD, Some(&self.bucket), None)
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<HeadBucketOutput, Error> {
        Ok(HeadBucketOutput {
            region: headers::string_opt(&resp, "x-amz-bucket-region")?,
        })
    }

    fn recover(&self, mut error: ServiceError) -> Result<HeadBucketOutput, Error> {
        // HEAD has no body: a bare 404 can only mean the bucket is missing.
        if error.code == ErrorCode::NotFound {
            error.code = ErrorCode::NoSuchBucket;
        }
        Err(error.into())
    }
}

/// Reads the region a bucket was created in.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBucketLocation {
    bucket: BucketName,
}

impl GetBucketLocation {
    /// Reads `bucket`'s location.
    pub fn new(bucket: BucketName) -> Self {
        GetBucketLocation { bucket }
    }
}

/// A GetBucketLocation answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketLocation {
    /// The constraint exactly as the server wrote it (empty for us-east-1).
    pub constraint: String,
}

impl BucketLocation {
    /// The region: empty means us-east-1 and `EU` means eu-west-1.
    pub fn region(&self) -> &str {
        region_of_constraint(&self.constraint)
    }
}

impl Operation for GetBucketLocation {
    type Output = BucketLocation;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::GET, Some(&self.bucket), None)
            .subresource("location")
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<BucketLocation, Error> {
        let mut r = XmlReader::new(resp.body)?;
        r.expect_root("LocationConstraint")?;
        let constraint = r.text()?.trim().to_owned();
        r.finish()?;
        Ok(BucketLocation { constraint })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use http::{HeaderMap, StatusCode};

    fn config() -> Config {
        Config::new("http://127.0.0.1:9000", "us-east-1").unwrap()
    }

    fn ok(body: &[u8]) -> (HeaderMap, Vec<u8>) {
        (HeaderMap::new(), body.to_vec())
    }

    #[test]
    fn list_buckets_parses_aws_example() {
        let (h, body) = ok(br#"<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01">
  <Owner><ID>bcaf1ffd86f461ca5fb16fd081034f</ID><DisplayName>webfile</DisplayName></Owner>
  <Buckets>
    <Bucket><Name>quotes</Name><CreationDate>2006-02-03T16:45:09.000Z</CreationDate></Bucket>
    <Bucket><Name>samples</Name><CreationDate>2006-02-03T16:41:58.000Z</CreationDate></Bucket>
  </Buckets>
</ListAllMyBucketsResult>"#);
        let out = ListBuckets
            .parse(Response::new(StatusCode::OK, &h, &body))
            .unwrap();
        assert_eq!(out.buckets.len(), 2);
        assert_eq!(out.buckets[1].name, "samples");
        assert!(out.buckets[0].creation_date.is_some());
        assert_eq!(out.owner.unwrap().display_name.as_deref(), Some("webfile"));
    }

    #[test]
    fn create_bucket_body_and_recovery() {
        let b = BucketName::new("bucket").unwrap();
        let op = CreateBucket::new(b.clone())
            .location(LocationConstraint::EU)
            .acl(CannedAcl::PublicRead);
        let req = op.request(config().target()).unwrap();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket");
        assert_eq!(req.headers()["x-amz-acl"], "public-read");
        let body = std::str::from_utf8(req.body().as_bytes().unwrap()).unwrap();
        assert!(body.contains("<LocationConstraint>EU</LocationConstraint>"));
        let plain = CreateBucket::new(b.clone()).location(LocationConstraint::new("us-east-1"));
        assert!(plain.request(config().target()).unwrap().body().is_empty());

        let owned = ServiceError::new(StatusCode::CONFLICT, ErrorCode::BucketAlreadyOwnedByYou);
        assert!(op.recover(owned).unwrap().already_owned);
        let taken = ServiceError::new(StatusCode::CONFLICT, ErrorCode::BucketAlreadyExists);
        assert_eq!(
            op.recover(taken).unwrap_err().code(),
            Some(&ErrorCode::BucketAlreadyExists)
        );
    }

    #[test]
    fn bucket_location_names() {
        let (h, body) = ok(br#"<?xml version="1.0" encoding="UTF-8"?>
<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#);
        let op = GetBucketLocation::new(BucketName::new("bucket").unwrap());
        let loc = op.parse(Response::new(StatusCode::OK, &h, &body)).unwrap();
        assert_eq!(loc.region(), "us-east-1");
        let (h, body) = ok(br#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">EU</LocationConstraint>"#);
        let loc = op.parse(Response::new(StatusCode::OK, &h, &body)).unwrap();
        assert_eq!((loc.constraint.as_str(), loc.region()), ("EU", "eu-west-1"));
        assert_eq!(
            op.request(config().target()).unwrap().uri(),
            "http://127.0.0.1:9000/bucket?location"
        );
    }

    #[test]
    fn head_bucket_bare_404_is_no_such_bucket() {
        let op = HeadBucket::new(BucketName::new("bucket").unwrap());
        let h = HeaderMap::new();
        let err =
            crate::config::finish(&op, Response::new(StatusCode::NOT_FOUND, &h, b"")).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::NoSuchBucket));
        assert!(err.is_not_found());
    }
}
