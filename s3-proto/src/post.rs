//! Presigned POST: the form fields and action URL a browser uploads with directly, under a
//! SigV4-signed policy of conditions.
//!
//! The policy is a JSON document (expiration and conditions); the form carries its base64 as
//! `policy` and the hex HMAC of that base64 with the SigV4 signing key as `x-amz-signature`.
//! Every other form field (except `file`, which must come last, and `x-ignore-*`) must be
//! covered by a condition.
//!
//! References: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html>
//!
//! # Example
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use s3_proto::{CannedAcl, Config, Credentials, post::PostPolicy};
//!
//! let config = Config::new("http://127.0.0.1:7480", "us-east-1")?;
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let form = PostPolicy::with_key_prefix("bucket".parse()?, "uploads/", now + Duration::from_secs(3600))
//!     .content_length_range(1, 10 << 20)
//!     .acl(CannedAcl::PublicRead)
//!     .sign(&config, &creds, now)?;
//! assert_eq!(form.url(), "http://127.0.0.1:7480/bucket");
//! assert_eq!(form.field("key"), Some("uploads/${filename}"));
//! assert_eq!(form.field("x-amz-date"), Some("20231114T221320Z"));
//! // An HTML form: each of form.fields() as a hidden input, then <input type="file" name="file">.
//! # Ok::<(), s3_proto::Error>(())
//! ```

use std::fmt::{self, Write as _};
use std::time::SystemTime;

use base64::Engine as _;
use http::Method;

use crate::acl::CannedAcl;
use crate::config::Config;
use crate::credentials::Credentials;
use crate::error::{Error, InputError};
use crate::meta::META_PREFIX;
use crate::name::{BucketName, ObjectKey};
use crate::sign::v4::{ALGORITHM, SigV4};
use crate::time::to_iso8601;

/// The form fields this module writes itself; callers cannot set them as ordinary fields.
const RESERVED_FIELDS: [&str; 9] = [
    "bucket",
    "key",
    "file",
    "policy",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-signature",
];

/// The value a browser replaces with the uploaded file's name in the `key` field.
pub const FILENAME_PLACEHOLDER: &str = "${filename}";

/// One condition of a POST policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The form field must equal `value`: `{"field": "value"}`.
    Eq {
        /// The form field name, without `$`.
        field: String,
        /// The exact value.
        value: String,
    },
    /// The form field must start with `prefix` (an empty prefix allows any value):
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith {
        /// The form field name, without `$`.
        field: String,
        /// The required prefix.
        prefix: String,
    },
    /// The uploaded file must be `min..=max` bytes: `["content-length-range", min, max]`.
    ContentLengthRange {
        /// Smallest size in bytes.
        min: u64,
        /// Largest size in bytes.
        max: u64,
    },
}

impl Condition {
    /// `{"field": "value"}`.
    pub fn eq(field: impl Into<String>, value: impl Into<String>) -> Self {
        Condition::Eq {
            field: field.into(),
            value: value.into(),
        }
    }

    /// `["starts-with", "$field", "prefix"]`.
    pub fn starts_with(field: impl Into<String>, prefix: impl Into<String>) -> Self {
        Condition::StartsWith {
            field: field.into(),
            prefix: prefix.into(),
        }
    }

    /// The form field this condition is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => Some(field),
            Condition::ContentLengthRange { .. } => None,
        }
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Condition::Eq { field, value } => {
                out.push('{');
                push_json_string(out, field);
                out.push(':');
                push_json_string(out, value);
                out.push('}');
            }
            Condition::StartsWith { field, prefix } => {
                out.push_str("[\"starts-with\",");
                push_json_string(out, &format!("${field}"));
                out.push(',');
                push_json_string(out, prefix);
                out.push(']');
            }
            Condition::ContentLengthRange { min, max } => {
                let _ = write!(out, "[\"content-length-range\",{min},{max}]");
            }
        }
    }
}

/// What the `key` field may be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyRule {
    Exact(ObjectKey),
    Prefix(String),
}

/// A POST policy under construction: bucket, key rule, expiration, conditions and the fixed form
/// fields that go with them.
///
/// Setters that fix a field's value (`acl`, `content_type`, `field`, …) add both the form field
/// and its exact-match condition; a later call for the same field replaces both. Setters for
/// conditions alone (`starts_with`, `content_type_starts_with`, `condition`) leave the field
/// for the browser's form to supply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    bucket: BucketName,
    key: KeyRule,
    expiration: SystemTime,
    conditions: Vec<Condition>,
    fields: Vec<(String, String)>,
    success_action_status: Option<u16>,
}

impl PostPolicy {
    /// A policy for uploading exactly `key` into `bucket` until `expiration`.
    pub fn new(bucket: BucketName, key: ObjectKey, expiration: SystemTime) -> Self {
        PostPolicy::with_rule(bucket, KeyRule::Exact(key), expiration)
    }

    /// A policy for uploading any key that starts with `prefix` into `bucket` until
    /// `expiration`. The form's `key` field is `prefix` followed by `${filename}`, which S3
    /// replaces with the uploaded file's name; a form may change it within the prefix.
    pub fn with_key_prefix(
        bucket: BucketName,
        prefix: impl Into<String>,
        expiration: SystemTime,
    ) -> Self {
        PostPolicy::with_rule(bucket, KeyRule::Prefix(prefix.into()), expiration)
    }

    fn with_rule(bucket: BucketName, key: KeyRule, expiration: SystemTime) -> Self {
        PostPolicy {
            bucket,
            key,
            expiration,
            conditions: Vec::new(),
            fields: Vec::new(),
            success_action_status: None,
        }
    }

    /// Limits the uploaded file to `min..=max` bytes.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.conditions
            .retain(|c| !matches!(c, Condition::ContentLengthRange { .. }));
        self.conditions
            .push(Condition::ContentLengthRange { min, max });
        self
    }

    /// Fixes `Content-Type`, the type the object is stored with.
    pub fn content_type(self, value: impl Into<String>) -> Self {
        self.field("Content-Type", value)
    }

    /// Requires the form's `Content-Type` to start with `prefix` (`image/`).
    pub fn content_type_starts_with(self, prefix: impl Into<String>) -> Self {
        self.starts_with("Content-Type", prefix)
    }

    /// Fixes the canned ACL of the new object.
    pub fn acl(self, acl: CannedAcl) -> Self {
        self.field("acl", acl.as_str())
    }

    /// Fixes the status S3 answers a successful upload with: 200, 201 (with an XML body) or
    /// 204 (S3's default).
    pub fn success_action_status(mut self, status: u16) -> Self {
        self.success_action_status = Some(status);
        self.field("success_action_status", status.to_string())
    }

    /// Fixes the URL S3 redirects the browser to after a successful upload.
    pub fn success_action_redirect(self, url: impl Into<String>) -> Self {
        self.field("success_action_redirect", url)
    }

    /// Fixes one user metadata entry (`x-amz-meta-<name>`, name lower-cased).
    pub fn meta(self, name: &str, value: impl Into<String>) -> Self {
        let name = format!("{META_PREFIX}{}", name.to_ascii_lowercase());
        self.field(name, value)
    }

    /// Fixes any form field (`x-amz-server-side-encryption`, `Cache-Control`, `tagging`, …)
    /// and adds its exact-match condition.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        let value = value.into();
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.conditions.retain(
            |c| !matches!(c, Condition::Eq { field, .. } if field.eq_ignore_ascii_case(&name)),
        );
        self.conditions
            .push(Condition::eq(name.clone(), value.clone()));
        self.fields.push((name, value));
        self
    }

    /// Requires the form's field `name` to start with `prefix`; an empty prefix allows any
    /// value.
    pub fn starts_with(mut self, name: impl Into<String>, prefix: impl Into<String>) -> Self {
        self.conditions.push(Condition::starts_with(name, prefix));
        self
    }

    /// Adds a condition as is.
    pub fn condition(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// The fixed form fields so far (without `key` and the signature fields).
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The policy document for `credential` (`<access key>/<scope>`) at `amz_date`
    /// (`20151229T000000Z`), with the session token condition when there is one.
    fn document(&self, credential: &str, amz_date: &str, token: Option<&str>) -> String {
        let mut out = String::with_capacity(512);
        out.push_str("{\"expiration\":");
        push_json_string(&mut out, &to_iso8601(self.expiration));
        out.push_str(",\"conditions\":[");
        Condition::eq("bucket", self.bucket.as_str()).write_json(&mut out);
        out.push(',');
        match &self.key {
            KeyRule::Exact(key) => Condition::eq("key", key.as_str()),
            KeyRule::Prefix(prefix) => Condition::starts_with("key", prefix.as_str()),
        }
        .write_json(&mut out);
        for c in &self.conditions {
            out.push(',');
            c.write_json(&mut out);
        }
        let mut signing = vec![
            Condition::eq("x-amz-algorithm", ALGORITHM),
            Condition::eq("x-amz-credential", credential),
            Condition::eq("x-amz-date", amz_date),
        ];
        if let Some(token) = token {
            signing.push(Condition::eq("x-amz-security-token", token));
        }
        for c in &signing {
            out.push(',');
            c.write_json(&mut out);
        }
        out.push_str("]}");
        out
    }

    fn check(&self, now: SystemTime) -> Result<(), InputError> {
        if self.expiration <= now {
            return Err(InputError::argument("expiration", "is not in the future"));
        }
        if let Some(status) = self.success_action_status {
            if !matches!(status, 200 | 201 | 204) {
                return Err(InputError::argument(
                    "success_action_status",
                    format!("must be 200, 201 or 204, not {status}"),
                ));
            }
        }
        for c in &self.conditions {
            match c {
                Condition::ContentLengthRange { min, max } if min > max => {
                    return Err(InputError::argument(
                        "content_length_range",
                        format!("min {min} is over max {max}"),
                    ));
                }
                _ => {}
            }
            if let Some(field) = c.field() {
                if field.is_empty() {
                    return Err(InputError::argument("field", "name is empty"));
                }
                if RESERVED_FIELDS
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(field))
                {
                    return Err(InputError::argument(
                        "field",
                        format!("{:?} is set by the signer", crate::error::shorten(field)),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Signs the policy for `config`'s endpoint and region at `now` and returns the form.
    ///
    /// Always SigV4, whatever the config's signature version. The form's action URL follows
    /// the config's addressing (path-style `endpoint/bucket` or virtual-hosted
    /// `bucket.endpoint/`).
    ///
    /// # Errors
    /// [`Error::Input`] for anonymous credentials, an expiration not after `now`, a
    /// `success_action_status` other than 200, 201 or 204, an inverted content-length range, a
    /// field name that is empty or one the signer sets itself (`key`, `policy`, `x-amz-*`
    /// signature fields), or a bucket the config's addressing cannot place in a URL.
    pub fn sign(
        &self,
        config: &Config,
        credentials: &Credentials,
        now: SystemTime,
    ) -> Result<PostForm, Error> {
        self.check(now)?;
        let signer = SigV4::new(credentials, config.region(), "s3", now)?;
        let credential = credential(credentials, &signer)?;
        let token = credentials
            .session_token()
            .map(crate::credentials::Secret::expose);
        let document = self.document(&credential, signer.amz_date(), token);
        let key = match &self.key {
            KeyRule::Exact(key) => key.as_str().to_owned(),
            KeyRule::Prefix(prefix) => format!("{prefix}{FILENAME_PLACEHOLDER}"),
        };
        let mut fields = Vec::with_capacity(self.fields.len() + 7);
        fields.push(("key".to_owned(), key));
        fields.extend(self.fields.iter().cloned());
        finish_form(config, &self.bucket, document, credentials, &signer, fields)
    }

    /// Signs a policy document the caller wrote (exact bytes, e.g. a documented example) for
    /// `bucket` at `now`, and returns the form's signature fields and action URL.
    ///
    /// The document must itself carry the conditions S3 checks against the form:
    /// `x-amz-algorithm`, `x-amz-credential` and `x-amz-date` matching these credentials and
    /// time (and `x-amz-security-token` for temporary credentials). Add `key` and any other
    /// field the document requires with [`PostForm::add_field`].
    ///
    /// # Errors
    /// [`Error::Input`] for anonymous credentials or a bucket the config's addressing cannot
    /// place in a URL.
    pub fn sign_document(
        config: &Config,
        bucket: &BucketName,
        document: impl Into<String>,
        credentials: &Credentials,
        now: SystemTime,
    ) -> Result<PostForm, Error> {
        let signer = SigV4::new(credentials, config.region(), "s3", now)?;
        finish_form(
            config,
            bucket,
            document.into(),
            credentials,
            &signer,
            Vec::new(),
        )
    }
}

fn credential(credentials: &Credentials, signer: &SigV4<'_>) -> Result<String, InputError> {
    let access = credentials
        .access_key()
        .ok_or_else(|| InputError::argument("credentials", "anonymous credentials cannot sign"))?;
    Ok(format!("{access}/{}", signer.scope()))
}

/// Appends the signature fields for `document` to `fields` and resolves the action URL.
fn finish_form(
    config: &Config,
    bucket: &BucketName,
    document: String,
    credentials: &Credentials,
    signer: &SigV4<'_>,
    mut fields: Vec<(String, String)>,
) -> Result<PostForm, Error> {
    let url = config
        .target()
        .request(Method::POST, Some(bucket), None)
        .build()?
        .uri()
        .to_string();
    let policy = base64::engine::general_purpose::STANDARD.encode(document.as_bytes());
    let signature = signer.sign_string(&policy);
    fields.push(("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()));
    fields.push((
        "x-amz-credential".to_owned(),
        credential(credentials, signer)?,
    ));
    fields.push(("x-amz-date".to_owned(), signer.amz_date().to_owned()));
    if let Some(token) = credentials.session_token() {
        fields.push(("x-amz-security-token".to_owned(), token.expose().to_owned()));
    }
    fields.push(("policy".to_owned(), policy));
    fields.push(("x-amz-signature".to_owned(), signature));
    Ok(PostForm {
        url,
        fields,
        document,
    })
}

/// A signed POST form: where to send it and the fields to send, in order, before the file.
#[derive(Clone, PartialEq, Eq)]
pub struct PostForm {
    url: String,
    fields: Vec<(String, String)>,
    document: String,
}

impl PostForm {
    /// The form's action URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The fields, in order; the file goes after them as the field `file`.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// A field's value, by case-insensitive name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a field before the others, so before the signature fields; for forms from
    /// [`PostPolicy::sign_document`], whose document's conditions the caller knows.
    pub fn add_field(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.insert(0, (name.into(), value.into()));
    }

    /// The policy JSON document that `policy` encodes. It holds the session token of
    /// temporary credentials: treat it as a secret then.
    pub fn policy_document(&self) -> &str {
        &self.document
    }
}

impl fmt::Debug for PostForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature authorises uploads; the token (also inside the policy) is a secret.
        struct Fields<'a>(&'a [(String, String)]);
        impl fmt::Debug for Fields<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut m = f.debug_map();
                for (name, value) in self.0 {
                    let hidden = ["policy", "x-amz-signature", "x-amz-security-token"]
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(name));
                    if hidden {
                        m.entry(name, &"***");
                    } else {
                        m.entry(name, value);
                    }
                }
                m.finish()
            }
        }
        f.debug_struct("PostForm")
            .field("url", &self.url)
            .field("fields", &Fields(&self.fields))
            .finish_non_exhaustive()
    }
}

/// Appends `s` as a JSON string: quotes, backslashes and control characters escaped,
/// everything else (non-ASCII included) as is.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::endpoint::Addressing;
    use crate::sign::v4::{derive_signing_key, hmac};

    /// From sigv4-post-example.html ("Example: Browser-Based Upload using HTTP POST (Using AWS
    /// Signature Version 4)"): the base64 policy, CRLF line ends included.
    const DOC_POLICY_BASE64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const DOC_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn doc_credentials() -> Credentials {
        Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET)
    }

    fn doc_now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_451_347_200) // 2015-12-29T00:00:00Z
    }

    fn doc_expiration() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_451_476_800) // 2015-12-30T12:00:00Z
    }

    fn doc_config() -> Config {
        Config::new("http://s3.amazonaws.com", "us-east-1").unwrap()
    }

    fn bucket() -> BucketName {
        "sigv4examplebucket".parse().unwrap()
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn aws_doc_policy_document_signs_to_the_documented_signature() {
        let document = base64::engine::general_purpose::STANDARD
            .decode(DOC_POLICY_BASE64)
            .unwrap();
        let document = String::from_utf8(document).unwrap();
        assert!(document.starts_with("{ \"expiration\": \"2015-12-30T12:00:00.000Z\",\r\n"));
        let mut form = PostPolicy::sign_document(
            &doc_config(),
            &bucket(),
            document.clone(),
            &doc_credentials(),
            doc_now(),
        )
        .unwrap();
        form.add_field("key", "user/user1/${filename}");
        assert_eq!(form.url(), "http://sigv4examplebucket.s3.amazonaws.com/");
        assert_eq!(form.policy_document(), document);
        let names: Vec<&str> = form.fields().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "policy",
                "x-amz-signature"
            ]
        );
        assert_eq!(form.field("key"), Some("user/user1/${filename}"));
        assert_eq!(form.field("X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
        assert_eq!(
            form.field("x-amz-credential"),
            Some("AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request")
        );
        assert_eq!(form.field("x-amz-date"), Some("20151229T000000Z"));
        assert_eq!(form.field("policy"), Some(DOC_POLICY_BASE64));
        assert_eq!(form.field("x-amz-signature"), Some(DOC_SIGNATURE));
    }

    #[test]
    fn built_policy_matches_the_aws_doc_conditions() {
        let policy = PostPolicy::with_key_prefix(bucket(), "user/user1/", doc_expiration())
            .acl(CannedAcl::PublicRead)
            .success_action_redirect(
                "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
            )
            .content_type_starts_with("image/")
            .meta("uuid", "14365123651274")
            .field("x-amz-server-side-encryption", "AES256")
            .starts_with("x-amz-meta-tag", "");
        let form = policy
            .sign(&doc_config(), &doc_credentials(), doc_now())
            .unwrap();
        let expected = concat!(
            r#"{"expiration":"2015-12-30T12:00:00.000Z","conditions":["#,
            r#"{"bucket":"sigv4examplebucket"},"#,
            r#"["starts-with","$key","user/user1/"],"#,
            r#"{"acl":"public-read"},"#,
            r#"{"success_action_redirect":"http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},"#,
            r#"["starts-with","$Content-Type","image/"],"#,
            r#"{"x-amz-meta-uuid":"14365123651274"},"#,
            r#"{"x-amz-server-side-encryption":"AES256"},"#,
            r#"["starts-with","$x-amz-meta-tag",""],"#,
            r#"{"x-amz-algorithm":"AWS4-HMAC-SHA256"},"#,
            r#"{"x-amz-credential":"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},"#,
            r#"{"x-amz-date":"20151229T000000Z"}"#,
            "]}"
        );
        assert_eq!(form.policy_document(), expected);
        assert_eq!(form.field("policy"), Some(b64(expected).as_str()));
        // Independent check: HMAC of the base64 policy with the derived key.
        let key = derive_signing_key(&crate::Secret::new(SECRET), "20151229", "us-east-1", "s3");
        let sig = crate::sign::hex(&hmac(&key, b64(expected).as_bytes()));
        assert_eq!(form.field("x-amz-signature"), Some(sig.as_str()));
        let fields: Vec<(&str, &str)> = form
            .fields()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            fields[..5],
            [
                ("key", "user/user1/${filename}"),
                ("acl", "public-read"),
                (
                    "success_action_redirect",
                    "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"
                ),
                ("x-amz-meta-uuid", "14365123651274"),
                ("x-amz-server-side-encryption", "AES256"),
            ]
        );
        assert_eq!(fields.len(), 10);
    }

    #[test]
    fn exact_key_fixed_fields_and_replacement() {
        let key: ObjectKey = "photos/cat \"1\".jpg".parse().unwrap();
        let form = PostPolicy::new("bucket".parse().unwrap(), key, doc_expiration())
            .content_type("image/png")
            .content_type("image/jpeg")
            .success_action_status(201)
            .content_length_range(1, 5)
            .content_length_range(0, 1024)
            .sign(
                &Config::new("http://127.0.0.1:7480", "us-east-1").unwrap(),
                &doc_credentials(),
                doc_now(),
            )
            .unwrap();
        assert_eq!(form.url(), "http://127.0.0.1:7480/bucket");
        assert_eq!(form.field("key"), Some("photos/cat \"1\".jpg"));
        assert_eq!(form.field("content-type"), Some("image/jpeg"));
        assert_eq!(form.field("success_action_status"), Some("201"));
        let doc = form.policy_document();
        assert!(doc.contains(r#"{"key":"photos/cat \"1\".jpg"}"#), "{doc}");
        assert!(doc.contains(r#"{"Content-Type":"image/jpeg"}"#) && !doc.contains("image/png"));
        assert!(doc.contains(r#"["content-length-range",0,1024]"#) && !doc.contains(",1,5]"));
        assert!(doc.contains(r#"{"success_action_status":"201"}"#));
    }

    #[test]
    fn virtual_host_addressing_puts_the_bucket_in_the_host() {
        let config = Config::new("http://localhost:7480", "us-east-1")
            .unwrap()
            .addressing(Addressing::VirtualHost);
        let form = PostPolicy::with_key_prefix("bucket".parse().unwrap(), "", doc_expiration())
            .sign(&config, &doc_credentials(), doc_now())
            .unwrap();
        assert_eq!(form.url(), "http://bucket.localhost:7480/");
        let path = config.addressing(Addressing::Path);
        let form = PostPolicy::with_key_prefix("bucket".parse().unwrap(), "", doc_expiration())
            .sign(&path, &doc_credentials(), doc_now())
            .unwrap();
        assert_eq!(form.url(), "http://localhost:7480/bucket");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\nd\re\tf\u{8}\u{c}\u{1}\u{1f}\u{7f}é/✓");
        assert_eq!(out, r#""a\"b\\c\nd\re\tf\b\f\u0001\u001f\u007fé/✓""#);
    }

    #[test]
    fn session_token_is_a_field_and_a_condition_but_never_debug() {
        let creds = doc_credentials().with_session_token("TOKEN-SECRET-VALUE");
        let form = PostPolicy::new(
            "bucket".parse().unwrap(),
            "k".parse().unwrap(),
            doc_expiration(),
        )
        .sign(&doc_config(), &creds, doc_now())
        .unwrap();
        assert_eq!(
            form.field("x-amz-security-token"),
            Some("TOKEN-SECRET-VALUE")
        );
        assert!(
            form.policy_document()
                .contains(r#"{"x-amz-security-token":"TOKEN-SECRET-VALUE"}"#)
        );
        let debug = format!("{form:?}");
        assert!(!debug.contains("TOKEN-SECRET-VALUE"), "{debug}");
        assert!(
            !debug.contains(form.field("x-amz-signature").unwrap()),
            "{debug}"
        );
        assert!(!debug.contains(form.field("policy").unwrap()), "{debug}");
        assert!(debug.contains("x-amz-credential"), "{debug}");
    }

    #[test]
    fn invalid_policies_are_refused() {
        let base = || {
            PostPolicy::new(
                "bucket".parse().unwrap(),
                "k".parse().unwrap(),
                doc_expiration(),
            )
        };
        let sign = |p: PostPolicy| p.sign(&doc_config(), &doc_credentials(), doc_now());
        assert!(sign(base()).is_ok());
        assert!(sign(base().success_action_status(302)).is_err());
        assert!(sign(base().content_length_range(10, 9)).is_err());
        assert!(sign(base().field("Policy", "x")).is_err());
        assert!(sign(base().starts_with("X-Amz-Signature", "")).is_err());
        assert!(sign(base().field("", "x")).is_err());
        assert!(sign(base().condition(Condition::eq("key", "other"))).is_err());
        let expired = PostPolicy::new("bucket".parse().unwrap(), "k".parse().unwrap(), doc_now());
        assert!(sign(expired).is_err());
        assert!(
            base()
                .sign(&doc_config(), &Credentials::anonymous(), doc_now())
                .is_err()
        );
        let forced = Config::new("http://127.0.0.1:7480", "us-east-1")
            .unwrap()
            .addressing(Addressing::VirtualHost);
        assert!(base().sign(&forced, &doc_credentials(), doc_now()).is_err());
    }
}
