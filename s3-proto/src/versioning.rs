//! Versioning: a bucket's versioning state, and the versions and delete markers a
//! ListObjectVersions page holds.

use std::time::SystemTime;

use crate::acl::Owner;
use crate::error::{Error, InputError};
use crate::ops::subresource::{Document, S3_XMLNS};
use crate::xml::{XmlReader, XmlWriter};

/// A bucket's versioning state. A bucket never versioned has none: it cannot go back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VersioningStatus {
    /// New writes get a version id; old versions are kept.
    Enabled,
    /// New writes get the `null` version; existing versions are kept.
    Suspended,
    /// Any other value a server sends, verbatim.
    Other(String),
}

impl VersioningStatus {
    /// The status as S3 writes it.
    pub fn as_str(&self) -> &str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
            VersioningStatus::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "Enabled" => VersioningStatus::Enabled,
            "Suspended" => VersioningStatus::Suspended,
            other => VersioningStatus::Other(other.to_owned()),
        }
    }
}

/// A bucket's versioning configuration.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_VersioningConfiguration.html>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersioningConfiguration {
    /// The state; `None` for a bucket never versioned.
    pub status: Option<VersioningStatus>,
    /// Whether deleting versions needs MFA (`Some(true)` = `Enabled`).
    pub mfa_delete: Option<bool>,
}

impl VersioningConfiguration {
    /// Versioning on.
    pub fn enabled() -> Self {
        VersioningConfiguration {
            status: Some(VersioningStatus::Enabled),
            mfa_delete: None,
        }
    }

    /// Versioning suspended.
    pub fn suspended() -> Self {
        VersioningConfiguration {
            status: Some(VersioningStatus::Suspended),
            mfa_delete: None,
        }
    }

    /// True when versioning is on.
    pub fn is_enabled(&self) -> bool {
        self.status == Some(VersioningStatus::Enabled)
    }
}

impl Document for VersioningConfiguration {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("VersioningConfiguration", S3_XMLNS);
        if let Some(s) = &self.status {
            w.element("Status", s.as_str());
        }
        if let Some(m) = self.mfa_delete {
            w.element("MfaDelete", if m { "Enabled" } else { "Disabled" });
        }
        w.close("VersioningConfiguration");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        // moto 5 names the root after the action.
        r.expect_root_or(
            "VersioningConfiguration",
            Some("GetBucketVersioningResponse"),
        )?;
        let mut out = VersioningConfiguration::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Status" => out.status = Some(VersioningStatus::parse(r.text()?.trim())),
                // S3 writes MfaDelete in requests and MFADelete in replies.
                b"MfaDelete" | b"MFADelete" => {
                    out.mfa_delete = Some(r.text()?.trim() == "Enabled");
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(out)
    }

    fn validate(&self) -> Result<(), InputError> {
        match &self.status {
            Some(VersioningStatus::Enabled | VersioningStatus::Suspended) => Ok(()),
            _ => Err(InputError::argument(
                "status",
                "versioning is set to Enabled or Suspended",
            )),
        }
    }
}

/// One object version in a ListObjectVersions page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectVersion {
    /// The key.
    pub key: String,
    /// The version id (`null` for the version written before versioning was enabled).
    pub version_id: String,
    /// True for the current version.
    pub is_latest: bool,
    /// When the version was written.
    pub last_modified: Option<SystemTime>,
    /// The ETag, with its quotes.
    pub etag: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Storage class, when sent.
    pub storage_class: Option<String>,
    /// The owner, when sent.
    pub owner: Option<Owner>,
}

/// One delete marker in a ListObjectVersions page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteMarkerEntry {
    /// The key.
    pub key: String,
    /// The marker's version id.
    pub version_id: String,
    /// True when the marker is the current version (the key reads as deleted).
    pub is_latest: bool,
    /// When the marker was made.
    pub last_modified: Option<SystemTime>,
    /// The owner, when sent.
    pub owner: Option<Owner>,
}
