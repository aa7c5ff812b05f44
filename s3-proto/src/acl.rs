//! Access control: canned ACLs, the `AccessControlPolicy` document and its grants.

use std::fmt;
use std::str::FromStr;

use crate::error::InputError;

/// A canned ACL, sent as `x-amz-acl` on create/upload or with PutBucketAcl / PutObjectAcl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CannedAcl {
    /// Owner gets FULL_CONTROL; nobody else has access.
    Private,
    /// Owner FULL_CONTROL; AllUsers READ.
    PublicRead,
    /// Owner FULL_CONTROL; AllUsers READ and WRITE.
    PublicReadWrite,
    /// Owner FULL_CONTROL; AuthenticatedUsers READ.
    AuthenticatedRead,
    /// Object owner FULL_CONTROL; bucket owner READ.
    BucketOwnerRead,
    /// Object owner and bucket owner FULL_CONTROL.
    BucketOwnerFullControl,
    /// LogDelivery group WRITE and READ_ACP on the bucket.
    LogDeliveryWrite,
}

impl CannedAcl {
    /// The `x-amz-acl` value.
    pub fn as_str(self) -> &'static str {
        match self {
            CannedAcl::Private => "private",
            CannedAcl::PublicRead => "public-read",
            CannedAcl::PublicReadWrite => "public-read-write",
            CannedAcl::AuthenticatedRead => "authenticated-read",
            CannedAcl::BucketOwnerRead => "bucket-owner-read",
            CannedAcl::BucketOwnerFullControl => "bucket-owner-full-control",
            CannedAcl::LogDeliveryWrite => "log-delivery-write",
        }
    }
}

impl fmt::Display for CannedAcl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CannedAcl {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "private" => CannedAcl::Private,
            "public-read" => CannedAcl::PublicRead,
            "public-read-write" => CannedAcl::PublicReadWrite,
            "authenticated-read" => CannedAcl::AuthenticatedRead,
            "bucket-owner-read" => CannedAcl::BucketOwnerRead,
            "bucket-owner-full-control" => CannedAcl::BucketOwnerFullControl,
            "log-delivery-write" => CannedAcl::LogDeliveryWrite,
            _ => return Err(InputError::argument("acl", "unknown canned ACL")),
        })
    }
}

/// The owner of a bucket or object: canonical user id and, on some servers, a display name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Owner {
    /// Canonical user id (64 hex digits on AWS; the user id on Ceph RGW).
    pub id: String,
    /// Display name, when the server sends one.
    pub display_name: Option<String>,
}

impl Owner {
    /// Reads the children of an `<Owner>` (or `<Initiator>`) element just entered.
    pub(crate) fn read(r: &mut crate::xml::XmlReader<'_>) -> Result<Self, crate::Error> {
        let mut owner = Owner::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"ID" => owner.id = r.text()?.into_owned(),
                b"DisplayName" => owner.display_name = Some(r.text()?.into_owned()),
                _ => r.skip()?,
            }
        }
        Ok(owner)
    }
}
