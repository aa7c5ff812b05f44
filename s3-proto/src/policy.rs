//! Who may reach a bucket beyond its owner: the bucket policy (JSON, kept as text, with a
//! builder for the common statements), the public access block, and ownership controls.
//!
//! Since April 2023 AWS disables ACLs on new buckets; a bucket policy is how objects are
//! made public there.

use crate::error::{Error, InputError, ResponseError};
use crate::name::BucketName;
use crate::ops::subresource::{Document, S3_XMLNS};
use crate::xml::{XmlReader, XmlWriter};

/// Deepest JSON nesting a policy may have here (IAM's own documents nest about 6 levels).
const MAX_POLICY_DEPTH: usize = 32;

/// A bucket policy: an IAM policy document, kept as the JSON text the caller wrote.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html>
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPolicy {
    json: String,
}

impl BucketPolicy {
    /// A policy from its JSON text; checked (a JSON object with a `Statement`) when sent.
    pub fn from_json(json: impl Into<String>) -> Self {
        BucketPolicy { json: json.into() }
    }

    /// Starts a policy for `bucket` from common statements.
    pub fn builder(bucket: &BucketName) -> PolicyBuilder {
        PolicyBuilder {
            bucket: bucket.as_str().to_owned(),
            statements: Vec::new(),
        }
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// Checks the text is one JSON object with a top-level `Statement`, so a typo fails here
    /// rather than as the server's `MalformedPolicy`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] naming what is wrong.
    pub fn validate(&self) -> Result<(), InputError> {
        let bad = |reason: &str| Err(InputError::argument("policy", reason));
        let mut p = Json {
            s: self.json.as_bytes(),
            i: 0,
        };
        p.ws();
        if p.peek() != Some(b'{') {
            return bad("a policy is a JSON object");
        }
        let Some(keys) = p.object(0) else {
            return bad("the policy is not valid JSON");
        };
        p.ws();
        if p.i != p.s.len() {
            return bad("text follows the policy's JSON object");
        }
        if !keys.iter().any(|k| k == "Statement") {
            return bad("a policy needs a Statement");
        }
        Ok(())
    }
}

impl Document for BucketPolicy {
    const CONTENT_TYPE: &'static str = "application/json";

    fn to_body(&self) -> String {
        self.json.clone()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        match std::str::from_utf8(body) {
            Ok(s) => Ok(BucketPolicy::from_json(s)),
            Err(_) => Err(ResponseError::malformed("the policy is not UTF-8").into()),
        }
    }

    fn validate(&self) -> Result<(), InputError> {
        BucketPolicy::validate(self)
    }
}

/// Builds a policy from the statements most buckets need.
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    bucket: String,
    statements: Vec<String>,
}

impl PolicyBuilder {
    /// Lets anyone (no credentials) read objects under `prefix` (`""` for the whole bucket).
    pub fn public_read(mut self, prefix: &str) -> Self {
        let resource = format!("arn:aws:s3:::{}/{}*", self.bucket, prefix);
        self.statements.push(format!(
            r#"{{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":{}}}"#,
            json_string(&resource)
        ));
        self
    }

    /// Refuses every request not made over TLS (`aws:SecureTransport` false).
    pub fn deny_insecure_transport(mut self) -> Self {
        let bucket = format!("arn:aws:s3:::{}", self.bucket);
        let objects = format!("{bucket}/*");
        self.statements.push(format!(
            r#"{{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":[{},{}],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#,
            json_string(&bucket),
            json_string(&objects)
        ));
        self
    }

    /// Allows `principal` (an IAM ARN or account id) the `actions` (`s3:GetObject`, …) on the
    /// bucket and every object in it.
    pub fn allow(mut self, principal: &str, actions: &[&str]) -> Self {
        let bucket = format!("arn:aws:s3:::{}", self.bucket);
        let objects = format!("{bucket}/*");
        let actions: Vec<String> = actions.iter().map(|a| json_string(a)).collect();
        self.statements.push(format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":{}}},"Action":[{}],"Resource":[{},{}]}}"#,
            json_string(principal),
            actions.join(","),
            json_string(&bucket),
            json_string(&objects)
        ));
        self
    }

    /// The policy document.
    pub fn build(self) -> BucketPolicy {
        BucketPolicy::from_json(format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            self.statements.join(",")
        ))
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON syntax check: just enough to know a policy is well formed, bounded in depth.
struct Json<'a> {
    s: &'a [u8],
    i: usize,
}

impl Json<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(b)).then(|| self.i += 1)
    }

    /// An object; returns its keys.
    fn object(&mut self, depth: usize) -> Option<Vec<String>> {
        if depth > MAX_POLICY_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        let mut keys = Vec::new();
        if self.eat(b'}').is_some() {
            return Some(keys);
        }
        loop {
            self.ws();
            keys.push(self.string()?);
            self.eat(b':')?;
            self.value(depth + 1)?;
            if self.eat(b',').is_none() {
                self.eat(b'}')?;
                return Some(keys);
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_POLICY_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'{' => self.object(depth).map(drop),
            b'[' => {
                self.i += 1;
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    if self.eat(b',').is_none() {
                        return self.eat(b']');
                    }
                }
            }
            b'"' => self.string().map(drop),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(self.s.get(start..self.i)?).ok()?;
                text.parse::<f64>().ok().map(drop)
            }
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.i + word.len();
        (self.s.get(self.i..end)? == word.as_bytes()).then(|| self.i = end)
    }

    fn string(&mut self) -> Option<String> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        let start = self.i;
        loop {
            match self.peek()? {
                b'"' => {
                    let text = String::from_utf8(self.s.get(start..self.i)?.to_vec()).ok()?;
                    self.i += 1;
                    return Some(text);
                }
                b'\\' => self.i += 2,
                c if c < 0x20 => return None,
                _ => self.i += 1,
            }
        }
    }
}

/// The four switches that keep a bucket from becoming public by ACL or policy.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html>
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PublicAccessBlockConfiguration {
    /// Refuses requests that set public ACLs.
    pub block_public_acls: bool,
    /// Ignores public ACLs already set.
    pub ignore_public_acls: bool,
    /// Refuses bucket policies that grant public access.
    pub block_public_policy: bool,
    /// Limits a public policy's effect to AWS services and the owner's account.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlockConfiguration {
    /// All four switches on: AWS's default for new buckets.
    pub fn all() -> Self {
        PublicAccessBlockConfiguration {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    }

    /// All four off: public ACLs and policies take effect.
    pub fn none() -> Self {
        PublicAccessBlockConfiguration::default()
    }

    /// Sets BlockPublicAcls.
    pub fn block_public_acls(mut self, on: bool) -> Self {
        self.block_public_acls = on;
        self
    }

    /// Sets IgnorePublicAcls.
    pub fn ignore_public_acls(mut self, on: bool) -> Self {
        self.ignore_public_acls = on;
        self
    }

    /// Sets BlockPublicPolicy.
    pub fn block_public_policy(mut self, on: bool) -> Self {
        self.block_public_policy = on;
        self
    }

    /// Sets RestrictPublicBuckets.
    pub fn restrict_public_buckets(mut self, on: bool) -> Self {
        self.restrict_public_buckets = on;
        self
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl Document for PublicAccessBlockConfiguration {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("PublicAccessBlockConfiguration", S3_XMLNS)
            .element("BlockPublicAcls", bool_str(self.block_public_acls))
            .element("IgnorePublicAcls", bool_str(self.ignore_public_acls))
            .element("BlockPublicPolicy", bool_str(self.block_public_policy))
            .element(
                "RestrictPublicBuckets",
                bool_str(self.restrict_public_buckets),
            )
            .close("PublicAccessBlockConfiguration");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        // Ceph RGW 16 names the root BlockPublicAccessBlockConfiguration.
        r.expect_root_or(
            "PublicAccessBlockConfiguration",
            Some("BlockPublicAccessBlockConfiguration"),
        )?;
        let mut out = PublicAccessBlockConfiguration::default();
        while let Some(tag) = r.next_child()? {
            let slot = match tag.name() {
                b"BlockPublicAcls" => &mut out.block_public_acls,
                b"IgnorePublicAcls" => &mut out.ignore_public_acls,
                b"BlockPublicPolicy" => &mut out.block_public_policy,
                b"RestrictPublicBuckets" => &mut out.restrict_public_buckets,
                _ => {
                    r.skip()?;
                    continue;
                }
            };
            *slot = r.parse("PublicAccessBlockConfiguration", crate::ops::parse_bool_str)?;
        }
        r.finish()?;
        Ok(out)
    }
}

/// Who owns objects others write into a bucket, and whether ACLs still apply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectOwnership {
    /// The bucket owner owns every object; ACLs are disabled (AWS's default since 2023).
    BucketOwnerEnforced,
    /// The bucket owner owns objects written with `bucket-owner-full-control`.
    BucketOwnerPreferred,
    /// The writer owns the object; ACLs apply.
    ObjectWriter,
    /// Any other value, verbatim.
    Other(String),
}

impl ObjectOwnership {
    /// The setting as S3 spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
            ObjectOwnership::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "BucketOwnerEnforced" => ObjectOwnership::BucketOwnerEnforced,
            "BucketOwnerPreferred" => ObjectOwnership::BucketOwnerPreferred,
            "ObjectWriter" => ObjectOwnership::ObjectWriter,
            other => ObjectOwnership::Other(other.to_owned()),
        }
    }
}

/// A bucket's ownership controls (one rule).
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_OwnershipControls.html>
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OwnershipControls {
    /// The object ownership setting of each rule (S3 takes exactly one).
    pub rules: Vec<ObjectOwnership>,
}

impl OwnershipControls {
    /// Controls with one rule.
    pub fn new(ownership: ObjectOwnership) -> Self {
        OwnershipControls {
            rules: vec![ownership],
        }
    }
}

impl Document for OwnershipControls {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("OwnershipControls", S3_XMLNS);
        for r in &self.rules {
            w.open("Rule")
                .element("ObjectOwnership", r.as_str())
                .close("Rule");
        }
        w.close("OwnershipControls");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("OwnershipControls")?;
        let mut rules = Vec::new();
        while let Some(tag) = r.next_child()? {
            if tag.name() != b"Rule" {
                r.skip()?;
                continue;
            }
            while let Some(f) = r.next_child()? {
                match f.name() {
                    b"ObjectOwnership" => rules.push(ObjectOwnership::parse(r.text()?.trim())),
                    _ => r.skip()?,
                }
            }
        }
        r.finish()?;
        Ok(OwnershipControls { rules })
    }

    fn validate(&self) -> Result<(), InputError> {
        if self.rules.len() != 1 {
            return Err(InputError::argument(
                "rules",
                "ownership controls have exactly one rule",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_makes_valid_policies() {
        let b = BucketName::new("my-bucket").unwrap();
        let p = BucketPolicy::builder(&b)
            .public_read("public/")
            .deny_insecure_transport()
            .allow(
                "arn:aws:iam::123456789012:user/a\"b",
                &["s3:GetObject", "s3:PutObject"],
            )
            .build();
        p.validate().unwrap();
        assert!(
            p.as_str()
                .contains(r#""Resource":"arn:aws:s3:::my-bucket/public/*""#)
        );
        assert!(p.as_str().contains(r#"user/a\"b"#));
    }

    #[test]
    fn validation() {
        let ok = r#" {"Version":"2012-10-17","Statement":[{"Effect":"Allow","X":[1,-2.5e3,true,false,null,{}],"S":"a\"\\"}]} "#;
        BucketPolicy::from_json(ok).validate().unwrap();
        for bad in [
            "",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":[}"#,
            r#"{"Statement":[]} x"#,
            r#"{"Statement":[],}"#,
            r#"{"Statement":tru}"#,
            r#"{"Statement":"unterminated}"#,
            r#"{Statement:[]}"#,
        ] {
            assert!(BucketPolicy::from_json(bad).validate().is_err(), "{bad}");
        }
        let deep = format!(r#"{{"Statement":{}1{}}}"#, "[".repeat(100), "]".repeat(100));
        assert!(BucketPolicy::from_json(deep).validate().is_err());
    }

    #[test]
    fn public_access_block_and_ownership_xml() {
        let pab = PublicAccessBlockConfiguration::none().block_public_acls(true);
        let body = pab.to_body();
        assert_eq!(
            PublicAccessBlockConfiguration::from_body(body.as_bytes()).unwrap(),
            pab
        );
        for cut in 0..body.len() {
            assert!(PublicAccessBlockConfiguration::from_body(&body.as_bytes()[..cut]).is_err());
        }
        assert!(PublicAccessBlockConfiguration::from_body(
            b"<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>"
        )
        .is_err());
        let oc = OwnershipControls::new(ObjectOwnership::BucketOwnerEnforced);
        assert_eq!(
            OwnershipControls::from_body(oc.to_body().as_bytes()).unwrap(),
            oc
        );
        assert!(OwnershipControls { rules: vec![] }.validate().is_err());
    }
}
