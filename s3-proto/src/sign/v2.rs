//! Legacy AWS Signature Version 2 (HMAC-SHA1), as classic boto sent it and Ceph RGW accepts.
//!
//! Reference: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html>

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use super::hmac::Hmac;
use base64::Engine as _;
use http::header::{AUTHORIZATION, HeaderValue};
use http::{Request, Uri};
use sha1::Sha1;

use super::encode::{percent_decode, uri_encode_into};
use crate::credentials::{Credentials, Secret};
use crate::error::{Error, InputError};
use crate::time::to_http_date;

/// Query parameters that are part of the canonical resource, in the order S3 sorts them.
const SUBRESOURCES: [&str; 30] = [
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "object-lock",
    "legal-hold",
    "retention",
];

/// A SigV2 signer: credentials and time.
pub struct SigV2<'a> {
    access_key: &'a str,
    secret: &'a Secret,
    token: Option<&'a Secret>,
    time: SystemTime,
}

/// The string to sign and signature of a SigV2 request.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningOutputV2 {
    /// The string to sign.
    pub string_to_sign: String,
    /// The base64 signature.
    pub signature: String,
}

impl fmt::Debug for SigningOutputV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningOutputV2")
            .field("string_to_sign", &self.string_to_sign)
            .finish_non_exhaustive()
    }
}

impl<'a> SigV2<'a> {
    /// A signer at `time`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for anonymous credentials.
    pub fn new(credentials: &'a Credentials, time: SystemTime) -> Result<Self, InputError> {
        let (Some(access_key), Some(secret)) = (credentials.access_key(), credentials.secret_key())
        else {
            return Err(InputError::argument(
                "credentials",
                "anonymous credentials cannot sign",
            ));
        };
        Ok(SigV2 {
            access_key,
            secret,
            token: credentials.session_token(),
            time,
        })
    }

    /// Signs `req` in place: adds `Date` (unless `Date` or `x-amz-date` is set), the session
    /// token and `Authorization: AWS key:signature`.
    ///
    /// `bucket_in_host` names the bucket when it rides in the host name (virtual-hosted style):
    /// the canonical resource must still start with `/bucket`.
    ///
    /// # Errors
    /// [`InputError::InvalidHeader`] when a signed header value is not UTF-8.
    pub fn sign<B>(
        &self,
        req: &mut Request<B>,
        bucket_in_host: Option<&str>,
    ) -> Result<SigningOutputV2, Error> {
        super::v4::ensure_host(req)?;
        let headers = req.headers_mut();
        headers.remove(AUTHORIZATION);
        if !headers.contains_key("date") && !headers.contains_key("x-amz-date") {
            headers.insert("date", value(&to_http_date(self.time))?);
        }
        if let Some(token) = self.token {
            headers.insert("x-amz-security-token", value(token.expose())?);
        }
        let sts = string_to_sign(req, None, bucket_in_host)?;
        let signature = self.signature(&sts);
        let auth = format!("AWS {}:{}", self.access_key, signature);
        req.headers_mut().insert(AUTHORIZATION, value(&auth)?);
        Ok(SigningOutputV2 {
            string_to_sign: sts,
            signature,
        })
    }

    /// A presigned URL valid until `expires_at`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `expires_at` is before the epoch.
    pub fn presign<B>(
        &self,
        req: &Request<B>,
        expires_at: SystemTime,
        bucket_in_host: Option<&str>,
    ) -> Result<Uri, Error> {
        let expires = expires_at
            .duration_since(UNIX_EPOCH)
            .map_err(|_| InputError::argument("expires", "before 1970"))?
            .as_secs()
            .to_string();
        let sts = string_to_sign(req, Some(&expires), bucket_in_host)?;
        let signature = self.signature(&sts);
        let mut query = req.uri().query().unwrap_or_default().to_owned();
        let mut add = |name: &str, v: &str| {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(name);
            query.push('=');
            uri_encode_into(&mut query, v.as_bytes(), false);
        };
        add("AWSAccessKeyId", self.access_key);
        add("Expires", &expires);
        if let Some(token) = self.token {
            add("x-amz-security-token", token.expose());
        }
        add("Signature", &signature);
        let uri = req.uri();
        let authority = uri
            .authority()
            .map(http::uri::Authority::as_str)
            .unwrap_or_default();
        format!(
            "{}://{}{}?{}",
            uri.scheme_str().unwrap_or("https"),
            authority,
            uri.path(),
            query
        )
        .parse()
        .map_err(|_| InputError::argument("uri", "presigned URL is not a valid URI").into())
    }

    fn signature(&self, string_to_sign: &str) -> String {
        let mut mac = Hmac::<Sha1>::new(self.secret.expose().as_bytes());
        mac.update(string_to_sign.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize())
    }
}

/// Builds the SigV2 string to sign; `expires` replaces the date for presigned URLs.
///
/// # Errors
/// [`InputError::InvalidHeader`] when a signed header value is not UTF-8.
pub fn string_to_sign<B>(
    req: &Request<B>,
    expires: Option<&str>,
    bucket_in_host: Option<&str>,
) -> Result<String, Error> {
    let headers = req.headers();
    let text = |name: &str| -> Result<&str, InputError> {
        match headers.get(name) {
            None => Ok(""),
            Some(v) => std::str::from_utf8(v.as_bytes()).map_err(|_| InputError::InvalidHeader {
                name: name.to_owned(),
            }),
        }
    };
    let mut out = String::with_capacity(128);
    out.push_str(req.method().as_str());
    out.push('\n');
    out.push_str(text("content-md5")?.trim());
    out.push('\n');
    out.push_str(text("content-type")?.trim());
    out.push('\n');
    match expires {
        Some(e) => out.push_str(e),
        // With x-amz-date present, the Date line is empty: x-amz-date is signed below.
        None if headers.contains_key("x-amz-date") => {}
        None => out.push_str(text("date")?.trim()),
    }
    out.push('\n');

    let mut amz: Vec<(&str, &str)> = Vec::new();
    for (name, v) in headers {
        if name.as_str().starts_with("x-amz-") {
            let v = std::str::from_utf8(v.as_bytes()).map_err(|_| InputError::InvalidHeader {
                name: name.as_str().to_owned(),
            })?;
            amz.push((name.as_str(), v));
        }
    }
    amz.sort_by(|a, b| a.0.cmp(b.0));
    let mut i = 0;
    while i < amz.len() {
        let name = amz[i].0;
        out.push_str(name);
        out.push(':');
        let mut first = true;
        while i < amz.len() && amz[i].0 == name {
            if !first {
                out.push(',');
            }
            push_unfolded(&mut out, amz[i].1);
            first = false;
            i += 1;
        }
        out.push('\n');
    }

    if let Some(bucket) = bucket_in_host {
        out.push('/');
        out.push_str(bucket);
    }
    let path = req.uri().path();
    out.push_str(if path.is_empty() { "/" } else { path });
    let mut subs: Vec<(&str, Option<String>)> = Vec::new();
    for piece in req.uri().query().unwrap_or_default().split('&') {
        let (name, v) = match piece.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (piece, None),
        };
        if let Some(known) = SUBRESOURCES.iter().find(|s| **s == name) {
            let v = v.map(|v| String::from_utf8_lossy(&percent_decode(v, false)).into_owned());
            subs.push((known, v));
        }
    }
    subs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (name, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(name);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    Ok(out)
}

/// Appends a header value as SigV2 signs it: trimmed at both ends, each folded line break
/// (CR or LF with the whitespace around it) unfolded to one space, inner runs of spaces kept.
///
/// SigV2 does not collapse inner whitespace (SigV4 does): an `x-amz-meta-*` value "a   b" is
/// signed as sent, and Ceph RGW and s3s-fs answer `SignatureDoesNotMatch` to a signature over
/// "a b". See "Constructing the CanonicalizedAmzHeaders Element" in the SigV2 reference.
fn push_unfolded(out: &mut String, value: &str) {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut rest = value.trim_matches(is_ws);
    while let Some(at) = rest.find(['\r', '\n']) {
        let (line, tail) = rest.split_at(at);
        out.push_str(line.trim_end_matches(is_ws));
        out.push(' ');
        rest = tail.trim_start_matches(is_ws);
    }
    out.push_str(rest);
}

fn value(s: &str) -> Result<HeaderValue, InputError> {
    HeaderValue::from_str(s).map_err(|_| InputError::InvalidHeader {
        name: "(signature header)".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_meta(value: &str) -> Request<()> {
        Request::put("http://bucket.example.com/key")
            .header("date", "Tue, 27 Mar 2007 21:06:08 +0000")
            .header("x-amz-meta-spaced", value)
            .body(())
            .expect("request")
    }

    #[test]
    fn v2_keeps_inner_spaces_of_amz_values() {
        // Ceph RGW and s3s-fs sign "a   b    c" as sent; collapsing it was a SignatureDoesNotMatch.
        let req = with_meta("  a   b    c \t");
        let sts = string_to_sign(&req, None, Some("bucket")).expect("string to sign");
        assert_eq!(
            sts,
            "PUT\n\n\nTue, 27 Mar 2007 21:06:08 +0000\n\
             x-amz-meta-spaced:a   b    c\n\
             /bucket/key"
        );
    }

    #[test]
    fn v2_unfolds_line_breaks_only() {
        let mut out = String::new();
        push_unfolded(&mut out, " first  \r\n   second\tthird\n fourth ");
        assert_eq!(out, "first second\tthird fourth");
        out.clear();
        push_unfolded(&mut out, "\t\t");
        assert_eq!(out, "");
    }

    #[test]
    fn v4_collapses_inner_spaces_of_the_same_value() {
        // SigV4's canonical headers collapse runs of spaces: the rule differs between signers.
        let credentials = Credentials::new("AKIDEXAMPLE", "secret");
        let mut req = with_meta("  a   b    c \t");
        let out = crate::sign::SigV4::new(&credentials, "us-east-1", "s3", UNIX_EPOCH)
            .expect("signer")
            .sign(&mut req, crate::sign::UNSIGNED_PAYLOAD)
            .expect("signs");
        assert!(
            out.canonical_request()
                .lines()
                .any(|l| l == "x-amz-meta-spaced:a b c"),
            "{}",
            out.canonical_request()
        );
    }
}
