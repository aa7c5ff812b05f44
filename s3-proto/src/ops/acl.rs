//! ACL actions: GetBucketAcl, GetObjectAcl, PutBucketAcl, PutObjectAcl.
//!
//! Adding a grant is read-modify-write, as boto's `add_email_grant` was: the runtime sends
//! `GetObjectAcl`, the caller (or [`PutObjectAcl::add_grant`]) edits the policy, and the
//! runtime sends the resulting `PutObjectAcl`.

use http::Method;

use crate::acl::{AccessControlPolicy, CannedAcl, Grant, Grantee, Permission};
use crate::body::{Body, Response};
use crate::endpoint::Target;
use crate::error::{Error, InputError};
use crate::name::{BucketName, ObjectKey};
use crate::op::Operation;
use crate::request::RequestBuilder;
use crate::sign::content_md5;

/// What a PutBucketAcl / PutObjectAcl sets: exactly one of three forms.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AclSpec {
    /// A canned ACL (`x-amz-acl`).
    Canned(CannedAcl),
    /// A full `AccessControlPolicy` document.
    Policy(AccessControlPolicy),
    /// Explicit grants, sent as `x-amz-grant-*` headers (they replace the whole ACL).
    Grants(Vec<Grant>),
}

impl AclSpec {
    fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        match self {
            AclSpec::Canned(acl) => req.header("x-amz-acl", acl.as_str()),
            AclSpec::Policy(policy) => {
                let body = policy.to_xml();
                req.header("content-md5", &content_md5(body.as_bytes()))
                    .header("content-type", "application/xml")
                    .body(body)
            }
            AclSpec::Grants(grants) => {
                if grants.is_empty() {
                    return req.fail(InputError::argument("grants", "at least one grant"));
                }
                let mut req = req;
                for permission in [
                    Permission::FullControl,
                    Permission::Read,
                    Permission::Write,
                    Permission::ReadAcp,
                    Permission::WriteAcp,
                ] {
                    let values: Vec<String> = grants
                        .iter()
                        .filter(|g| g.permission == permission)
                        .map(|g| g.grantee.to_header_value())
                        .collect();
                    if let (false, Some(header)) = (values.is_empty(), permission.grant_header()) {
                        req = req.header(header, &values.join(", "));
                    }
                }
                if let Some(g) = grants
                    .iter()
                    .find(|g| g.permission.grant_header().is_none())
                {
                    return req.fail(InputError::argument(
                        "grants",
                        format!("no x-amz-grant header for permission {}", g.permission),
                    ));
                }
                req
            }
        }
    }
}

/// Reads a bucket's ACL.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBucketAcl {
    bucket: BucketName,
}

impl GetBucketAcl {
    /// Reads `bucket`'s ACL.
    pub fn new(bucket: BucketName) -> Self {
        GetBucketAcl { bucket }
    }
}

impl Operation for GetBucketAcl {
    type Output = AccessControlPolicy;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::GET, Some(&self.bucket), None)
            .subresource("acl")
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<AccessControlPolicy, Error> {
        AccessControlPolicy::parse(resp.body)
    }
}

/// Reads an object's ACL.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetObjectAcl {
    bucket: BucketName,
    key: ObjectKey,
    version_id: Option<String>,
}

impl GetObjectAcl {
    /// Reads the ACL of `key` in `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey) -> Self {
        GetObjectAcl {
            bucket,
            key,
            version_id: None,
        }
    }

    /// Reads the ACL of a specific version.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }
}

impl Operation for GetObjectAcl {
    type Output = AccessControlPolicy;

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        target
            .request(Method::GET, Some(&self.bucket), Some(&self.key))
            .subresource("acl")
            .query_opt("versionId", self.version_id.as_deref())
            .build()
    }

    fn parse(&self, resp: Response<'_>) -> Result<AccessControlPolicy, Error> {
        AccessControlPolicy::parse(resp.body)
    }
}

/// Sets a bucket's ACL.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutBucketAcl {
    bucket: BucketName,
    acl: AclSpec,
}

impl PutBucketAcl {
    /// Sets `bucket`'s ACL to `acl` (a [`CannedAcl`], an [`AccessControlPolicy`], or grants).
    pub fn new(bucket: BucketName, acl: impl Into<AclSpec>) -> Self {
        PutBucketAcl {
            bucket,
            acl: acl.into(),
        }
    }

    /// The read-modify-write step of boto's `add_email_grant` / `add_user_grant` on a bucket:
    /// `fetched` is what GetBucketAcl returned; the grant is added unless already present.
    pub fn add_grant(
        bucket: BucketName,
        mut fetched: AccessControlPolicy,
        grantee: Grantee,
        permission: Permission,
    ) -> Self {
        fetched.add_grant(grantee, permission);
        PutBucketAcl::new(bucket, fetched)
    }
}

impl Operation for PutBucketAcl {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::PUT, Some(&self.bucket), None)
            .subresource("acl");
        self.acl.apply(req).build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// Sets an object's ACL.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObjectAcl {
    bucket: BucketName,
    key: ObjectKey,
    acl: AclSpec,
    version_id: Option<String>,
}

impl PutObjectAcl {
    /// Sets the ACL of `key` in `bucket` to `acl`.
    pub fn new(bucket: BucketName, key: ObjectKey, acl: impl Into<AclSpec>) -> Self {
        PutObjectAcl {
            bucket,
            key,
            acl: acl.into(),
            version_id: None,
        }
    }

    /// Sets the ACL of a specific version.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// The read-modify-write step of boto's `add_email_grant` / `add_user_grant` on a key:
    /// `fetched` is what GetObjectAcl returned; the grant is added unless already present.
    pub fn add_grant(
        bucket: BucketName,
        key: ObjectKey,
        mut fetched: AccessControlPolicy,
        grantee: Grantee,
        permission: Permission,
    ) -> Self {
        fetched.add_grant(grantee, permission);
        PutObjectAcl::new(bucket, key, fetched)
    }
}

impl Operation for PutObjectAcl {
    type Output = ();

    fn bucket(&self) -> Option<&BucketName> {
        Some(&self.bucket)
    }

    fn request(&self, target: &Target) -> Result<http::Request<Body>, Error> {
        let req = target
            .request(Method::PUT, Some(&self.bucket), Some(&self.key))
            .subresource("acl")
            .query_opt("versionId", self.version_id.as_deref());
        self.acl.apply(req).build()
    }

    fn parse(&self, _: Response<'_>) -> Result<(), Error> {
        Ok(())
    }
}

impl From<CannedAcl> for AclSpec {
    fn from(acl: CannedAcl) -> Self {
        AclSpec::Canned(acl)
    }
}

impl From<AccessControlPolicy> for AclSpec {
    fn from(policy: AccessControlPolicy) -> Self {
        AclSpec::Policy(policy)
    }
}

impl From<Vec<Grant>> for AclSpec {
    fn from(grants: Vec<Grant>) -> Self {
        AclSpec::Grants(grants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::acl::{Group, Owner};
    use http::{HeaderMap, StatusCode};
    use proptest::prelude::*;

    fn config() -> Config {
        Config::new("http://127.0.0.1:9000", "us-east-1").unwrap()
    }

    fn b() -> BucketName {
        BucketName::new("bucket").unwrap()
    }

    const AWS_EXAMPLE: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>CustomersName@amazon.com</DisplayName></Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
        <DisplayName>CustomersName@amazon.com</DisplayName>
      </Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>
      </Grantee>
      <Permission>READ</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>"#;

    #[test]
    fn parses_aws_example() {
        let h = HeaderMap::new();
        let policy = GetBucketAcl::new(b())
            .parse(Response::new(StatusCode::OK, &h, AWS_EXAMPLE))
            .unwrap();
        assert_eq!(
            policy.owner.display_name.as_deref(),
            Some("CustomersName@amazon.com")
        );
        assert_eq!(policy.grants.len(), 2);
        assert_eq!(policy.grants[0].permission, Permission::FullControl);
        assert_eq!(policy.grants[1].grantee, Grantee::Group(Group::AllUsers));
    }

    #[test]
    fn xsi_type_is_resolved_through_its_namespace() {
        let other_prefix = br#"<AccessControlPolicy xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Owner><ID>o</ID></Owner><AccessControlList>
            <Grant><Grantee i:type="AmazonCustomerByEmail"><EmailAddress>a@b.c</EmailAddress></Grantee><Permission>READ</Permission></Grant>
            </AccessControlList></AccessControlPolicy>"#;
        let p = AccessControlPolicy::parse(other_prefix).unwrap();
        assert_eq!(p.grants[0].grantee, Grantee::Email("a@b.c".to_owned()));

        // `xsi` bound to some other namespace is not the schema-instance type: the grantee's
        // fields decide (here an ID: a canonical user), not the literal text "Group".
        let wrong_ns = br#"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList>
            <Grant><Grantee xmlns:xsi="urn:not-xsi" xsi:type="Group"><ID>u1</ID></Grantee><Permission>READ</Permission></Grant>
            </AccessControlList></AccessControlPolicy>"#;
        let p = AccessControlPolicy::parse(wrong_ns).unwrap();
        assert_eq!(p.grants[0].grantee, Grantee::user("u1"));

        let unknown = br#"<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:type="Alien"/><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"#;
        assert!(AccessControlPolicy::parse(unknown).is_err());
    }

    #[test]
    fn put_acl_three_ways() {
        let k = ObjectKey::new("k").unwrap();
        let req = PutObjectAcl::new(b(), k.clone(), CannedAcl::AuthenticatedRead)
            .request(config().target())
            .unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:9000/bucket/k?acl");
        assert_eq!(req.headers()["x-amz-acl"], "authenticated-read");
        assert!(req.body().is_empty());

        let mut policy = AccessControlPolicy::new(Owner {
            id: "owner".to_owned(),
            display_name: None,
        });
        assert!(policy.add_email_grant("x@y.z", Permission::Read));
        assert!(
            !policy.add_email_grant("X@Y.Z", Permission::Read),
            "duplicate grant"
        );
        let req = PutBucketAcl::new(b(), policy.clone())
            .request(config().target())
            .unwrap();
        let body = req.body().as_bytes().unwrap();
        assert_eq!(req.headers()["content-md5"], content_md5(body).as_str());
        assert_eq!(AccessControlPolicy::parse(body).unwrap(), policy);

        let grants = vec![
            Grant::new(Grantee::user("u1"), Permission::Read),
            Grant::new(Grantee::Group(Group::AllUsers), Permission::Read),
            Grant::new(Grantee::Email("e@x".to_owned()), Permission::WriteAcp),
        ];
        let req = PutBucketAcl::new(b(), grants)
            .request(config().target())
            .unwrap();
        assert_eq!(
            req.headers()["x-amz-grant-read"],
            "id=\"u1\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""
        );
        assert_eq!(
            req.headers()["x-amz-grant-write-acp"],
            "emailAddress=\"e@x\""
        );
        assert!(
            PutBucketAcl::new(b(), Vec::<Grant>::new())
                .request(config().target())
                .is_err()
        );
    }

    fn text() -> impl Strategy<Value = String> {
        // Any text XML 1.0 can carry, with markup characters and line breaks included.
        proptest::string::string_regex("[a-zA-Z0-9 &<>\"'\\t\\r\\n=:/.@é日-]{1,24}").unwrap()
    }

    fn grantee() -> impl Strategy<Value = Grantee> {
        prop_oneof![
            (text(), proptest::option::of(text()))
                .prop_map(|(id, display_name)| Grantee::CanonicalUser { id, display_name }),
            text().prop_map(Grantee::Email),
            text().prop_map(|u| Grantee::Group(Group::from_uri(&u))),
        ]
    }

    fn permission() -> impl Strategy<Value = Permission> {
        prop_oneof![
            Just(Permission::FullControl),
            Just(Permission::Read),
            Just(Permission::Write),
            Just(Permission::ReadAcp),
            Just(Permission::WriteAcp),
        ]
    }

    proptest! {
        #[test]
        fn policy_round_trips(
            id in text(),
            name in proptest::option::of(text()),
            grants in proptest::collection::vec((grantee(), permission()), 0..6),
        ) {
            let policy = AccessControlPolicy {
                owner: Owner { id, display_name: name },
                grants: grants.into_iter().map(|(g, p)| Grant::new(g, p)).collect(),
            };
            let parsed = AccessControlPolicy::parse(policy.to_xml().as_bytes()).unwrap();
            prop_assert_eq!(parsed, policy);
        }
    }
}
