//! Lifecycle: rules that expire objects, old versions and abandoned multipart uploads, and
//! the `x-amz-expiration` header that reports when a rule will remove an object.

use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use crate::error::{Error, InputError, ResponseError};
use crate::ops::subresource::{Document, S3_XMLNS};
use crate::tagging::{Tag, read_tag, write_tag};
use crate::time::{parse_http_date, parse_iso8601, to_iso8601};
use crate::xml::{XmlReader, XmlWriter};

/// Most rules one lifecycle configuration may hold.
pub const MAX_LIFECYCLE_RULES: usize = 1000;

/// A bucket's lifecycle rules.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_BucketLifecycleConfiguration.html>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LifecycleConfiguration {
    /// The rules (1 to 1000).
    pub rules: Vec<LifecycleRule>,
}

impl LifecycleConfiguration {
    /// No rules yet.
    pub fn new() -> Self {
        LifecycleConfiguration::default()
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: LifecycleRule) -> Self {
        self.rules.push(rule);
        self
    }
}

/// Which objects a rule applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifecycleFilter {
    /// Every object in the bucket.
    #[default]
    All,
    /// Keys starting with this prefix.
    Prefix(String),
    /// Objects carrying this tag.
    Tag(Tag),
    /// Objects matching a prefix and all of the tags.
    And {
        /// The key prefix, if any.
        prefix: Option<String>,
        /// Tags the object must all carry.
        tags: Vec<Tag>,
    },
}

/// When current versions expire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifecycleExpiration {
    /// This many days after the object was written.
    Days(u32),
    /// On this date (midnight UTC).
    Date(SystemTime),
    /// Removes delete markers with no versions left behind them.
    ExpiredObjectDeleteMarker,
}

/// When noncurrent versions expire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NoncurrentVersionExpiration {
    /// Days after a version became noncurrent.
    pub noncurrent_days: u32,
    /// Newest noncurrent versions kept regardless.
    pub newer_noncurrent_versions: Option<u32>,
}

/// One lifecycle rule, built with setters: `LifecycleRule::new("tmp").prefix("tmp/").expire_after_days(1)`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LifecycleRule {
    /// The rule id (up to 255 characters).
    pub id: Option<String>,
    /// Whether the rule is applied.
    pub enabled: bool,
    /// The objects it applies to.
    pub filter: LifecycleFilter,
    /// Expiration of current versions.
    pub expiration: Option<LifecycleExpiration>,
    /// Expiration of noncurrent versions.
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    /// Days after which an unfinished multipart upload is aborted and its parts freed.
    pub abort_incomplete_multipart_upload_days: Option<u32>,
}

impl LifecycleRule {
    /// An enabled rule named `id`, applying to every object and doing nothing yet.
    pub fn new(id: impl Into<String>) -> Self {
        LifecycleRule {
            id: Some(id.into()),
            enabled: true,
            filter: LifecycleFilter::All,
            expiration: None,
            noncurrent_version_expiration: None,
            abort_incomplete_multipart_upload_days: None,
        }
    }

    /// Stores the rule without applying it.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    /// Limits the rule to keys starting with `prefix` (combined with tags as an `And`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.filter = match self.filter {
            LifecycleFilter::All | LifecycleFilter::Prefix(_) => LifecycleFilter::Prefix(prefix),
            LifecycleFilter::Tag(t) => LifecycleFilter::And {
                prefix: Some(prefix),
                tags: vec![t],
            },
            LifecycleFilter::And { tags, .. } => LifecycleFilter::And {
                prefix: Some(prefix),
                tags,
            },
        };
        self
    }

    /// Limits the rule to objects tagged `key=value` (several tags combine as an `And`).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let tag = Tag {
            key: key.into(),
            value: value.into(),
        };
        self.filter = match self.filter {
            LifecycleFilter::All => LifecycleFilter::Tag(tag),
            LifecycleFilter::Prefix(p) => LifecycleFilter::And {
                prefix: Some(p),
                tags: vec![tag],
            },
            LifecycleFilter::Tag(t) => LifecycleFilter::And {
                prefix: None,
                tags: vec![t, tag],
            },
            LifecycleFilter::And { prefix, mut tags } => {
                tags.push(tag);
                LifecycleFilter::And { prefix, tags }
            }
        };
        self
    }

    /// Expires current versions `days` after they were written.
    pub fn expire_after_days(mut self, days: u32) -> Self {
        self.expiration = Some(LifecycleExpiration::Days(days));
        self
    }

    /// Expires current versions on `date` (must be midnight UTC).
    pub fn expire_on(mut self, date: SystemTime) -> Self {
        self.expiration = Some(LifecycleExpiration::Date(date));
        self
    }

    /// Removes delete markers left with no versions behind them.
    pub fn expire_delete_markers(mut self) -> Self {
        self.expiration = Some(LifecycleExpiration::ExpiredObjectDeleteMarker);
        self
    }

    /// Expires noncurrent versions `days` after they were replaced, keeping the `keep`
    /// newest ones.
    pub fn expire_noncurrent_after_days(mut self, days: u32, keep: Option<u32>) -> Self {
        self.noncurrent_version_expiration = Some(NoncurrentVersionExpiration {
            noncurrent_days: days,
            newer_noncurrent_versions: keep,
        });
        self
    }

    /// Aborts multipart uploads still unfinished `days` after they started.
    pub fn abort_incomplete_multipart_upload_after_days(mut self, days: u32) -> Self {
        self.abort_incomplete_multipart_upload_days = Some(days);
        self
    }

    fn validate(&self) -> Result<(), InputError> {
        let bad = |reason: &str| Err(InputError::argument("lifecycle rule", reason));
        if self.id.as_ref().is_some_and(|id| id.chars().count() > 255) {
            return bad("the id has at most 255 characters");
        }
        if self.expiration.is_none()
            && self.noncurrent_version_expiration.is_none()
            && self.abort_incomplete_multipart_upload_days.is_none()
        {
            return bad("a rule needs at least one action");
        }
        match &self.expiration {
            Some(LifecycleExpiration::Days(0)) => return bad("expiration days must be at least 1"),
            Some(LifecycleExpiration::Date(d)) => {
                let midnight = d
                    .duration_since(UNIX_EPOCH)
                    .is_ok_and(|s| s.as_secs() % 86_400 == 0 && s.subsec_nanos() == 0);
                if !midnight {
                    return bad("an expiration date must be midnight UTC");
                }
            }
            _ => {}
        }
        if self
            .noncurrent_version_expiration
            .as_ref()
            .is_some_and(|n| n.noncurrent_days == 0)
        {
            return bad("noncurrent days must be at least 1");
        }
        if self.abort_incomplete_multipart_upload_days == Some(0) {
            return bad("abort days must be at least 1");
        }
        if matches!(
            (&self.filter, &self.expiration),
            (
                LifecycleFilter::Tag(_) | LifecycleFilter::And { .. },
                Some(LifecycleExpiration::ExpiredObjectDeleteMarker)
            )
        ) || (self.abort_incomplete_multipart_upload_days.is_some()
            && matches!(
                self.filter,
                LifecycleFilter::Tag(_) | LifecycleFilter::And { .. }
            ))
        {
            return bad("tag filters cannot abort uploads or expire delete markers");
        }
        Ok(())
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open("Rule");
        if let Some(id) = &self.id {
            w.element("ID", id);
        }
        w.open("Filter");
        match &self.filter {
            // Ceph RGW 16 wants a Prefix inside the filter; an empty one means every object.
            LifecycleFilter::All => {
                w.element("Prefix", "");
            }
            LifecycleFilter::Prefix(p) => {
                w.element("Prefix", p);
            }
            LifecycleFilter::Tag(t) => write_tag(w, t),
            LifecycleFilter::And { prefix, tags } => {
                w.open("And");
                if let Some(p) = prefix {
                    w.element("Prefix", p);
                }
                for t in tags {
                    write_tag(w, t);
                }
                w.close("And");
            }
        }
        w.close("Filter");
        w.element("Status", if self.enabled { "Enabled" } else { "Disabled" });
        if let Some(e) = &self.expiration {
            w.open("Expiration");
            match e {
                LifecycleExpiration::Days(d) => w.element("Days", &d.to_string()),
                LifecycleExpiration::Date(t) => w.element("Date", &to_iso8601(*t)),
                LifecycleExpiration::ExpiredObjectDeleteMarker => {
                    w.element("ExpiredObjectDeleteMarker", "true")
                }
            };
            w.close("Expiration");
        }
        if let Some(n) = &self.noncurrent_version_expiration {
            w.open("NoncurrentVersionExpiration")
                .element("NoncurrentDays", &n.noncurrent_days.to_string());
            if let Some(k) = n.newer_noncurrent_versions {
                w.element("NewerNoncurrentVersions", &k.to_string());
            }
            w.close("NoncurrentVersionExpiration");
        }
        if let Some(d) = self.abort_incomplete_multipart_upload_days {
            w.open("AbortIncompleteMultipartUpload")
                .element("DaysAfterInitiation", &d.to_string())
                .close("AbortIncompleteMultipartUpload");
        }
        w.close("Rule");
    }

    fn read(r: &mut XmlReader<'_>) -> Result<Self, Error> {
        let mut rule = LifecycleRule::new("");
        rule.id = None;
        let mut status = None;
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"ID" => rule.id = Some(r.text()?.into_owned()),
                b"Status" => status = Some(r.text()?.trim() == "Enabled"),
                // The pre-2019 form: a Prefix directly in the rule.
                b"Prefix" => {
                    let p = r.text()?.into_owned();
                    if !p.is_empty() {
                        rule.filter = LifecycleFilter::Prefix(p);
                    }
                }
                b"Filter" => rule.filter = read_filter(r)?,
                b"Expiration" => {
                    while let Some(f) = r.next_child()? {
                        rule.expiration = Some(match f.name() {
                            b"Days" => LifecycleExpiration::Days(r.parse("Days", parse_u32)?),
                            b"Date" => LifecycleExpiration::Date(r.parse("Date", parse_iso8601)?),
                            b"ExpiredObjectDeleteMarker" => {
                                if !r.parse(
                                    "ExpiredObjectDeleteMarker",
                                    crate::ops::parse_bool_str,
                                )? {
                                    continue;
                                }
                                LifecycleExpiration::ExpiredObjectDeleteMarker
                            }
                            _ => {
                                r.skip()?;
                                continue;
                            }
                        });
                    }
                }
                b"NoncurrentVersionExpiration" => {
                    let mut n = NoncurrentVersionExpiration {
                        noncurrent_days: 0,
                        newer_noncurrent_versions: None,
                    };
                    while let Some(f) = r.next_child()? {
                        match f.name() {
                            b"NoncurrentDays" => {
                                n.noncurrent_days = r.parse("NoncurrentDays", parse_u32)?;
                            }
                            b"NewerNoncurrentVersions" => {
                                n.newer_noncurrent_versions =
                                    Some(r.parse("NewerNoncurrentVersions", parse_u32)?);
                            }
                            _ => r.skip()?,
                        }
                    }
                    rule.noncurrent_version_expiration = Some(n);
                }
                b"AbortIncompleteMultipartUpload" => {
                    while let Some(f) = r.next_child()? {
                        match f.name() {
                            b"DaysAfterInitiation" => {
                                rule.abort_incomplete_multipart_upload_days =
                                    Some(r.parse("DaysAfterInitiation", parse_u32)?);
                            }
                            _ => r.skip()?,
                        }
                    }
                }
                _ => r.skip()?,
            }
        }
        rule.enabled = status.ok_or(ResponseError::MissingField { field: "Status" })?;
        Ok(rule)
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    s.parse().ok()
}

/// Reads a `<Filter>`. Ceph RGW 16 answers an `And` of a prefix and a tag as both directly
/// in the filter, without the `And`; that reads back as the same `And`.
fn read_filter(r: &mut XmlReader<'_>) -> Result<LifecycleFilter, Error> {
    let mut and = false;
    let mut prefix = None;
    let mut tags = Vec::new();
    while let Some(tag) = r.next_child()? {
        match tag.name() {
            b"Prefix" => prefix = Some(r.text()?.into_owned()).filter(|p| !p.is_empty()),
            b"Tag" => tags.push(read_tag(r)?),
            b"And" => {
                and = true;
                while let Some(f) = r.next_child()? {
                    match f.name() {
                        b"Prefix" => prefix = Some(r.text()?.into_owned()),
                        b"Tag" => tags.push(read_tag(r)?),
                        _ => r.skip()?,
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(match (and, prefix, tags.len()) {
        (false, None, 0) => LifecycleFilter::All,
        (false, Some(p), 0) => LifecycleFilter::Prefix(p),
        (false, None, 1) => match tags.pop() {
            Some(t) => LifecycleFilter::Tag(t),
            None => LifecycleFilter::All,
        },
        (_, prefix, _) => LifecycleFilter::And { prefix, tags },
    })
}

impl Document for LifecycleConfiguration {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("LifecycleConfiguration", S3_XMLNS);
        for rule in &self.rules {
            rule.write(&mut w);
        }
        w.close("LifecycleConfiguration");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("LifecycleConfiguration")?;
        let mut out = LifecycleConfiguration::default();
        while let Some(tag) = r.next_child()? {
            match tag.name() {
                b"Rule" => out.rules.push(LifecycleRule::read(&mut r)?),
                _ => r.skip()?,
            }
        }
        r.finish()?;
        Ok(out)
    }

    fn validate(&self) -> Result<(), InputError> {
        if self.rules.is_empty() || self.rules.len() > MAX_LIFECYCLE_RULES {
            return Err(InputError::argument(
                "rules",
                "a lifecycle configuration has 1 to 1000 rules",
            ));
        }
        self.rules.iter().try_for_each(LifecycleRule::validate)
    }
}

/// When a lifecycle rule will expire an object: the `x-amz-expiration` header of PutObject
/// (read into [`PutObjectOutput`](crate::ops::PutObjectOutput)), GetObject and HeadObject
/// (read it with [`WithResponseHeaders`](crate::extras::WithResponseHeaders)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectExpiration {
    /// When the object expires.
    pub expiry_date: Option<SystemTime>,
    /// The rule that expires it.
    pub rule_id: Option<String>,
}

impl ObjectExpiration {
    /// Parses `expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"`;
    /// `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        let mut out = ObjectExpiration::default();
        let mut rest = value.trim();
        while !rest.is_empty() {
            let (name, after) = rest.split_once('=')?;
            let after = after.trim_start().strip_prefix('"')?;
            let (val, after) = after.split_once('"')?;
            match name.trim() {
                "expiry-date" => out.expiry_date = Some(parse_http_date(val)?),
                "rule-id" => out.rule_id = Some(val.to_owned()),
                _ => {}
            }
            rest = after.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
        (out.expiry_date.is_some() || out.rule_id.is_some()).then_some(out)
    }

    /// The expiration a reply's headers report, if any (malformed counts as absent: it is
    /// informative).
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get("x-amz-expiration")
            .and_then(|v| v.to_str().ok())
            .and_then(Self::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rules_round_trip() {
        let cfg = LifecycleConfiguration::new()
            .rule(
                LifecycleRule::new("tmp")
                    .prefix("tmp/")
                    .expire_after_days(1)
                    .abort_incomplete_multipart_upload_after_days(1),
            )
            .rule(
                LifecycleRule::new("tagged")
                    .prefix("logs/")
                    .tag("tier", "cold")
                    .tag("x", "y")
                    .expire_on(UNIX_EPOCH + Duration::from_secs(86_400 * 20_000))
                    .expire_noncurrent_after_days(30, Some(2)),
            )
            .rule(LifecycleRule::new("all").expire_delete_markers().disabled());
        assert!(cfg.validate().is_ok());
        let body = cfg.to_body();
        assert_eq!(
            LifecycleConfiguration::from_body(body.as_bytes()).unwrap(),
            cfg
        );
        for cut in 0..body.len() {
            assert!(LifecycleConfiguration::from_body(&body.as_bytes()[..cut]).is_err());
        }
        let legacy = br#"<LifecycleConfiguration><Rule><ID>r</ID><Prefix>a/</Prefix><Status>Enabled</Status><Expiration><Days>3</Days></Expiration><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>"#;
        let got = LifecycleConfiguration::from_body(legacy).unwrap();
        assert_eq!(got.rules[0].filter, LifecycleFilter::Prefix("a/".into()));
        assert_eq!(got.rules[0].expiration, Some(LifecycleExpiration::Days(3)));
        assert!(
            LifecycleConfiguration::from_body(
                b"<LifecycleConfiguration><Rule><ID>r</ID></Rule></LifecycleConfiguration>"
            )
            .is_err()
        );
    }

    #[test]
    fn invalid_rules() {
        let one = |r| LifecycleConfiguration::new().rule(r).validate();
        assert!(LifecycleConfiguration::new().validate().is_err());
        assert!(one(LifecycleRule::new("noop")).is_err());
        assert!(one(LifecycleRule::new("z").expire_after_days(0)).is_err());
        assert!(
            one(LifecycleRule::new("d").expire_on(UNIX_EPOCH + Duration::from_secs(5))).is_err()
        );
        assert!(
            one(LifecycleRule::new("t")
                .tag("a", "b")
                .abort_incomplete_multipart_upload_after_days(1))
            .is_err()
        );
    }

    #[test]
    fn expiration_header() {
        // The AWS reference's example says "Fri"; 23 Dec 2012 was a Sunday, and a date whose
        // weekday is wrong does not parse.
        let e = ObjectExpiration::parse(
            r#"expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule""#,
        )
        .unwrap();
        assert_eq!(e.rule_id.as_deref(), Some("picture-deletion-rule"));
        assert_eq!(
            e.expiry_date,
            Some(UNIX_EPOCH + Duration::from_secs(1_356_220_800))
        );
        for bad in [
            "",
            "expiry-date=",
            r#"rule-id="x"#,
            "garbage",
            r#"expiry-date="nope""#,
        ] {
            assert!(ObjectExpiration::parse(bad).is_none(), "{bad}");
        }
    }
}
