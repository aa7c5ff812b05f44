//! Object lock (WORM): a bucket's lock configuration, an object version's retention and its
//! legal hold.

use std::time::SystemTime;

use crate::error::{Error, InputError, ResponseError};
use crate::ops::subresource::{Document, S3_XMLNS};
use crate::time::{parse_iso8601, to_iso8601};
use crate::xml::{XmlReader, XmlWriter};

/// How strictly a retention period holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetentionMode {
    /// Users with `s3:BypassGovernanceRetention` may still delete or shorten it.
    Governance,
    /// Nobody, root included, may delete the version before the date.
    Compliance,
    /// Any other value, verbatim.
    Other(String),
}

impl RetentionMode {
    /// The mode as S3 spells it.
    pub fn as_str(&self) -> &str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
            RetentionMode::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "GOVERNANCE" => RetentionMode::Governance,
            "COMPLIANCE" => RetentionMode::Compliance,
            other => RetentionMode::Other(other.to_owned()),
        }
    }
}

/// A default retention period: days or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetentionPeriod {
    /// This many days.
    Days(u32),
    /// This many years.
    Years(u32),
}

/// The retention new object versions get by default.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DefaultRetention {
    /// Governance or compliance.
    pub mode: RetentionMode,
    /// How long.
    pub period: RetentionPeriod,
}

/// A bucket's object lock configuration.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockConfiguration.html>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectLockConfiguration {
    /// True when object lock is enabled on the bucket.
    pub enabled: bool,
    /// The default retention, if any.
    pub default_retention: Option<DefaultRetention>,
}

impl ObjectLockConfiguration {
    /// Lock enabled, with a default retention of `period` in `mode`.
    pub fn with_default_retention(mode: RetentionMode, period: RetentionPeriod) -> Self {
        ObjectLockConfiguration {
            enabled: true,
            default_retention: Some(DefaultRetention { mode, period }),
        }
    }

    /// Lock enabled, no default retention.
    pub fn enabled() -> Self {
        ObjectLockConfiguration {
            enabled: true,
            default_retention: None,
        }
    }
}

impl Document for ObjectLockConfiguration {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("ObjectLockConfiguration", S3_XMLNS);
        if self.enabled {
            w.element("ObjectLockEnabled", "Enabled");
        }
        if let Some(d) = &self.default_retention {
            w.open("Rule")
                .open("DefaultRetention")
                .element("Mode", d.mode.as_str());
            match d.period {
                RetentionPeriod::Days(n) => w.element("Days", &n.to_string()),
                RetentionPeriod::Years(n) => w.element("Years", &n.to_string()),
            };
            w.close("DefaultRetention").close("Rule");
        }
        w.close("ObjectLockConfiguration");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("ObjectLockConfiguration")?;
        let mut out = ObjectLockConfiguration::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"ObjectLockEnabled" => out.enabled = r.text()?.trim() == "Enabled",
                b"Rule" => {
                    while let Some(tag) = r.next_child()? {
                        if tag.name() != b"DefaultRetention" {
                            r.skip()?;
                            continue;
                        }
                        let mut mode = None;
                        let mut period = None;
                        while let Some(f) = r.next_child()? {
                            match f.name() {
                                b"Mode" => mode = Some(RetentionMode::parse(r.text()?.trim())),
                                // moto 5 sends both, the unset one as 0.
                                b"Days" => match r.parse("Days", |s| s.parse().ok())? {
                                    0 => {}
                                    n => period = Some(RetentionPeriod::Days(n)),
                                },
                                b"Years" => match r.parse("Years", |s| s.parse().ok())? {
                                    0 => {}
                                    n => period = Some(RetentionPeriod::Years(n)),
                                },
                                _ => r.skip()?,
                            }
                        }
                        out.default_retention = Some(DefaultRetention {
                            mode: mode.ok_or(ResponseError::MissingField { field: "Mode" })?,
                            period: period.ok_or(ResponseError::MissingField { field: "Days" })?,
                        });
                    }
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(out)
    }

    fn validate(&self) -> Result<(), InputError> {
        let zero = matches!(
            self.default_retention,
            Some(DefaultRetention {
                period: RetentionPeriod::Days(0) | RetentionPeriod::Years(0),
                ..
            })
        );
        if zero {
            return Err(InputError::argument(
                "default_retention",
                "a retention period is at least 1",
            ));
        }
        Ok(())
    }
}

/// An object version's retention: locked in `mode` until `retain_until`.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockRetention.html>
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectLockRetention {
    /// Governance or compliance.
    pub mode: RetentionMode,
    /// Until when (whole seconds are kept).
    pub retain_until: SystemTime,
}

impl ObjectLockRetention {
    /// Retains the version in `mode` until `retain_until`.
    pub fn new(mode: RetentionMode, retain_until: SystemTime) -> Self {
        ObjectLockRetention { mode, retain_until }
    }
}

impl Document for ObjectLockRetention {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("Retention", S3_XMLNS)
            .element("Mode", self.mode.as_str())
            .element("RetainUntilDate", &to_iso8601(self.retain_until))
            .close("Retention");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("Retention")?;
        let mut mode = None;
        let mut until = None;
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Mode" => mode = Some(RetentionMode::parse(r.text()?.trim())),
                b"RetainUntilDate" => until = Some(r.parse("RetainUntilDate", parse_iso8601)?),
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(ObjectLockRetention {
            mode: mode.ok_or(ResponseError::MissingField { field: "Mode" })?,
            retain_until: until.ok_or(ResponseError::MissingField {
                field: "RetainUntilDate",
            })?,
        })
    }
}

/// Adds the `x-amz-object-lock-*` headers that lock an object as it is written.
pub(crate) fn apply_headers(
    retention: Option<&ObjectLockRetention>,
    legal_hold: Option<LegalHold>,
    req: crate::request::RequestBuilder,
) -> crate::request::RequestBuilder {
    let req = match retention {
        Some(r) => req
            .header("x-amz-object-lock-mode", r.mode.as_str())
            .header(
                "x-amz-object-lock-retain-until-date",
                &to_iso8601(r.retain_until),
            ),
        None => req,
    };
    req.header_opt(
        "x-amz-object-lock-legal-hold",
        legal_hold.map(|h| if h.on { "ON" } else { "OFF" }),
    )
}

/// An object version's legal hold: while on, the version cannot be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegalHold {
    /// True for `ON`.
    pub on: bool,
}

impl LegalHold {
    /// A hold that is on (`true`) or off.
    pub fn new(on: bool) -> Self {
        LegalHold { on }
    }
}

impl Document for LegalHold {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("LegalHold", S3_XMLNS)
            .element("Status", if self.on { "ON" } else { "OFF" })
            .close("LegalHold");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("LegalHold")?;
        let mut on = None;
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Status" => {
                    on = Some(r.parse("Status", |s| match s {
                        "ON" => Some(true),
                        "OFF" => Some(false),
                        _ => None,
                    })?);
                }
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(LegalHold {
            on: on.ok_or(ResponseError::MissingField { field: "Status" })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn round_trip<D: Document + PartialEq + std::fmt::Debug>(d: &D) {
        let body = d.to_body();
        assert_eq!(&D::from_body(body.as_bytes()).unwrap(), d);
        for cut in 0..body.len() {
            assert!(D::from_body(&body.as_bytes()[..cut]).is_err(), "{cut}");
        }
    }

    #[test]
    fn documents_round_trip() {
        round_trip(&ObjectLockConfiguration::with_default_retention(
            RetentionMode::Governance,
            RetentionPeriod::Days(1),
        ));
        round_trip(&ObjectLockConfiguration::enabled());
        round_trip(&ObjectLockRetention::new(
            RetentionMode::Compliance,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        ));
        round_trip(&LegalHold::new(true));
        round_trip(&LegalHold::new(false));
        assert!(LegalHold::from_body(b"<LegalHold><Status>MAYBE</Status></LegalHold>").is_err());
        assert!(
            ObjectLockRetention::from_body(b"<Retention><Mode>GOVERNANCE</Mode></Retention>")
                .is_err()
        );
        assert!(
            ObjectLockConfiguration::with_default_retention(
                RetentionMode::Governance,
                RetentionPeriod::Years(0)
            )
            .validate()
            .is_err()
        );
    }
}
