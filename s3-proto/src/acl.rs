//! Access control: canned ACLs, the `AccessControlPolicy` document and its grants.

use std::fmt;
use std::str::FromStr;

use crate::error::{InputError, ResponseError};
use crate::xml::{XmlReader, XmlWriter};

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
    pub(crate) fn read(r: &mut XmlReader<'_>) -> Result<Self, crate::Error> {
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

/// A permission a grant gives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Permission {
    /// Everything below.
    FullControl,
    /// Read the object, or list the bucket.
    Read,
    /// Write objects into the bucket.
    Write,
    /// Read the ACL.
    ReadAcp,
    /// Write the ACL.
    WriteAcp,
    /// Any other permission, verbatim.
    Other(String),
}

impl Permission {
    /// The permission as S3 spells it (`FULL_CONTROL`, `READ`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Permission::FullControl => "FULL_CONTROL",
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::Other(s) => s,
        }
    }

    /// Maps S3's spelling to a variant (`Other` for unknown ones).
    pub fn parse(s: &str) -> Self {
        match s {
            "FULL_CONTROL" => Permission::FullControl,
            "READ" => Permission::Read,
            "WRITE" => Permission::Write,
            "READ_ACP" => Permission::ReadAcp,
            "WRITE_ACP" => Permission::WriteAcp,
            other => Permission::Other(other.to_owned()),
        }
    }

    /// The `x-amz-grant-*` header that grants this permission.
    pub fn grant_header(&self) -> Option<&'static str> {
        Some(match self {
            Permission::FullControl => "x-amz-grant-full-control",
            Permission::Read => "x-amz-grant-read",
            Permission::Write => "x-amz-grant-write",
            Permission::ReadAcp => "x-amz-grant-read-acp",
            Permission::WriteAcp => "x-amz-grant-write-acp",
            Permission::Other(_) => return None,
        })
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The predefined groups of S3.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Group {
    /// Everyone, signed or not.
    AllUsers,
    /// Any signed request, from any account.
    AuthenticatedUsers,
    /// The server access log writer.
    LogDelivery,
    /// Another group, by URI.
    Other(String),
}

/// URI of [`Group::AllUsers`].
pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// URI of [`Group::AuthenticatedUsers`].
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
/// URI of [`Group::LogDelivery`].
pub const LOG_DELIVERY_URI: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

impl Group {
    /// The group's URI.
    pub fn uri(&self) -> &str {
        match self {
            Group::AllUsers => ALL_USERS_URI,
            Group::AuthenticatedUsers => AUTHENTICATED_USERS_URI,
            Group::LogDelivery => LOG_DELIVERY_URI,
            Group::Other(uri) => uri,
        }
    }

    /// The group a URI names.
    pub fn from_uri(uri: &str) -> Self {
        match uri {
            ALL_USERS_URI => Group::AllUsers,
            AUTHENTICATED_USERS_URI => Group::AuthenticatedUsers,
            LOG_DELIVERY_URI => Group::LogDelivery,
            other => Group::Other(other.to_owned()),
        }
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Grantee {
    /// An account by canonical user id.
    CanonicalUser {
        /// The canonical user id.
        id: String,
        /// The display name, when the server sends one.
        display_name: Option<String>,
    },
    /// An account by email address (S3 resolves it to a canonical user when storing).
    Email(String),
    /// A predefined group.
    Group(Group),
}

impl Grantee {
    /// A canonical user without display name.
    pub fn user(id: impl Into<String>) -> Self {
        Grantee::CanonicalUser {
            id: id.into(),
            display_name: None,
        }
    }

    /// The `x-amz-grant-*` header form: `id="…"`, `emailAddress="…"` or `uri="…"`.
    pub fn to_header_value(&self) -> String {
        match self {
            Grantee::CanonicalUser { id, .. } => format!("id=\"{id}\""),
            Grantee::Email(email) => format!("emailAddress=\"{email}\""),
            Grantee::Group(g) => format!("uri=\"{}\"", g.uri()),
        }
    }

    /// True when both name the same account or group (display names aside).
    pub fn same_as(&self, other: &Grantee) -> bool {
        match (self, other) {
            (Grantee::CanonicalUser { id: a, .. }, Grantee::CanonicalUser { id: b, .. }) => a == b,
            (Grantee::Email(a), Grantee::Email(b)) => a.eq_ignore_ascii_case(b),
            (Grantee::Group(a), Grantee::Group(b)) => a.uri() == b.uri(),
            _ => false,
        }
    }
}

impl fmt::Display for Grantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grantee::CanonicalUser {
                id,
                display_name: Some(name),
            } => write!(f, "user {id} ({name})"),
            Grantee::CanonicalUser { id, .. } => write!(f, "user {id}"),
            Grantee::Email(email) => write!(f, "email {email}"),
            Grantee::Group(g) => write!(f, "group {}", g.uri()),
        }
    }
}

/// One grant: a grantee and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    /// Who.
    pub grantee: Grantee,
    /// What.
    pub permission: Permission,
}

impl Grant {
    /// A grant of `permission` to `grantee`.
    pub fn new(grantee: Grantee, permission: Permission) -> Self {
        Grant {
            grantee,
            permission,
        }
    }
}

/// An `AccessControlPolicy`: the owner and the grants of a bucket or object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessControlPolicy {
    /// The owner.
    pub owner: Owner,
    /// The grants, in the server's order.
    pub grants: Vec<Grant>,
}

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

impl AccessControlPolicy {
    /// A policy owned by `owner` with no grants.
    pub fn new(owner: Owner) -> Self {
        AccessControlPolicy {
            owner,
            grants: Vec::new(),
        }
    }

    /// Adds a grant unless an equal one (same grantee, same permission) is already there;
    /// returns whether it was added.
    pub fn add_grant(&mut self, grantee: Grantee, permission: Permission) -> bool {
        if self
            .grants
            .iter()
            .any(|g| g.permission == permission && g.grantee.same_as(&grantee))
        {
            return false;
        }
        self.grants.push(Grant::new(grantee, permission));
        true
    }

    /// boto's `add_email_grant`: grants `permission` to the account with this email.
    pub fn add_email_grant(&mut self, email: impl Into<String>, permission: Permission) -> bool {
        self.add_grant(Grantee::Email(email.into()), permission)
    }

    /// boto's `add_user_grant`: grants `permission` to a canonical user id.
    pub fn add_user_grant(&mut self, id: impl Into<String>, permission: Permission) -> bool {
        self.add_grant(Grantee::user(id), permission)
    }

    /// The document as S3 expects it in PutBucketAcl / PutObjectAcl (accepted by AWS, Ceph
    /// RGW and moto): namespaced root, `xsi` bound on each grantee.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with(
            "AccessControlPolicy",
            r#"xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#,
        );
        w.open("Owner").element("ID", &self.owner.id);
        if let Some(name) = &self.owner.display_name {
            w.element("DisplayName", name);
        }
        w.close("Owner").open("AccessControlList");
        for grant in &self.grants {
            w.open("Grant");
            let kind = match &grant.grantee {
                Grantee::CanonicalUser { .. } => "CanonicalUser",
                Grantee::Email(_) => "AmazonCustomerByEmail",
                Grantee::Group(_) => "Group",
            };
            w.open_with(
                "Grantee",
                &format!(r#"xmlns:xsi="{XSI_NS}" xsi:type="{kind}""#),
            );
            match &grant.grantee {
                Grantee::CanonicalUser { id, display_name } => {
                    w.element("ID", id);
                    if let Some(name) = display_name {
                        w.element("DisplayName", name);
                    }
                }
                Grantee::Email(email) => {
                    w.element("EmailAddress", email);
                }
                Grantee::Group(g) => {
                    w.element("URI", g.uri());
                }
            }
            w.close("Grantee")
                .element("Permission", grant.permission.as_str())
                .close("Grant");
        }
        w.close("AccessControlList").close("AccessControlPolicy");
        w.finish()
    }

    /// Parses an `AccessControlPolicy` document.
    ///
    /// # Errors
    /// [`crate::Error::Response`] for a malformed document or an unknown grantee type.
    pub fn parse(body: &[u8]) -> Result<Self, crate::Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("AccessControlPolicy")?;
        let mut policy = AccessControlPolicy::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Owner" => policy.owner = Owner::read(&mut r)?,
                b"AccessControlList" => {
                    while let Some(tag) = r.next_child()? {
                        if tag.name() == b"Grant" {
                            policy.grants.push(read_grant(&mut r)?);
                        } else {
                            r.skip()?;
                        }
                    }
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(policy)
    }
}

fn read_grant(r: &mut XmlReader<'_>) -> Result<Grant, crate::Error> {
    let mut grantee = None;
    let mut permission = None;
    while let Some(tag) = r.next_child()? {
        match tag.name() {
            b"Grantee" => {
                let kind = r.xsi_type(&tag)?;
                let (mut id, mut name, mut email, mut uri) = (None, None, None, None);
                while let Some(field) = r.next_child()? {
                    let slot = match field.name() {
                        b"ID" => &mut id,
                        b"DisplayName" => &mut name,
                        b"EmailAddress" => &mut email,
                        b"URI" => &mut uri,
                        _ => {
                            r.skip()?;
                            continue;
                        }
                    };
                    *slot = Some(r.text()?.into_owned());
                }
                // The type says which field matters; without one, the fields present decide.
                let kind = kind.unwrap_or_else(|| {
                    if id.is_some() {
                        "CanonicalUser"
                    } else if email.is_some() {
                        "AmazonCustomerByEmail"
                    } else {
                        "Group"
                    }
                    .to_owned()
                });
                let missing = |field| ResponseError::MissingField { field };
                grantee = Some(match kind.as_str() {
                    "CanonicalUser" => Grantee::CanonicalUser {
                        id: id.ok_or(missing("ID"))?,
                        display_name: name,
                    },
                    "AmazonCustomerByEmail" => {
                        Grantee::Email(email.ok_or(missing("EmailAddress"))?)
                    }
                    "Group" => Grantee::Group(Group::from_uri(&uri.ok_or(missing("URI"))?)),
                    other => return Err(ResponseError::invalid("xsi:type", other).into()),
                });
            }
            b"Permission" => permission = Some(Permission::parse(r.text()?.trim())),
            _ => r.skip()?,
        }
    }
    Ok(Grant {
        grantee: grantee.ok_or(ResponseError::MissingField { field: "Grantee" })?,
        permission: permission.ok_or(ResponseError::MissingField {
            field: "Permission",
        })?,
    })
}
