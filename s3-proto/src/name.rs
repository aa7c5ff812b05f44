//! Validated bucket names and object keys: parsed once, never re-checked.

use std::fmt;
use std::str::FromStr;

use crate::error::{InputError, shorten};

/// A bucket name that S3 accepts.
///
/// [`BucketName::new`] applies the current AWS rules (3–63 characters of `a-z 0-9 . -`, starting
/// and ending with a letter or digit, no `..`, not an IP address, no reserved prefix or suffix).
/// [`BucketName::relaxed`] accepts the legacy us-east-1 and S3-compatible server forms (up to 255
/// characters, upper case and `_`), which only work with path-style addressing.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName {
    name: String,
    strict: bool,
}

const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

impl BucketName {
    /// Validates `name` against the AWS naming rules.
    ///
    /// # Errors
    /// [`InputError::InvalidBucketName`] naming the rule that `name` breaks.
    pub fn new(name: impl Into<String>) -> Result<Self, InputError> {
        let name = name.into();
        match strict_violation(&name) {
            None => Ok(BucketName { name, strict: true }),
            Some(reason) => Err(invalid(&name, reason)),
        }
    }

    /// Validates `name` against the legacy rules that S3-compatible servers still accept.
    ///
    /// # Errors
    /// [`InputError::InvalidBucketName`] when `name` is empty, longer than 255 bytes, or holds
    /// a character other than ASCII letters, digits, `.`, `-` and `_`.
    pub fn relaxed(name: impl Into<String>) -> Result<Self, InputError> {
        let name = name.into();
        if let Some(reason) = relaxed_violation(&name) {
            return Err(invalid(&name, reason));
        }
        let strict = strict_violation(&name).is_none();
        Ok(BucketName { name, strict })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// True when the name can be the first label of a virtual-hosted host name under TLS:
    /// it follows the strict rules and holds no dot (a dot breaks the `*.s3` wildcard).
    pub fn is_virtual_host_safe(&self) -> bool {
        self.strict && !self.name.contains('.')
    }

    /// True when the name can be a DNS label at all (strict rules; dots allowed).
    pub(crate) fn is_dns_compatible(&self) -> bool {
        self.strict
    }
}

fn invalid(name: &str, reason: &'static str) -> InputError {
    InputError::InvalidBucketName {
        name: shorten(name).into_owned(),
        reason,
    }
}

fn strict_violation(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if bytes.len() < 3 || bytes.len() > 63 {
        return Some("must be 3 to 63 characters long");
    }
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Some("may hold only lowercase letters, digits, '.' and '-'");
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
        return Some("must begin and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Some("must not hold '..', '.-' or '-.'");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("must not be formatted as an IP address");
    }
    if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return Some("must not start with a reserved prefix (xn--, sthree-, amzn-s3-demo-)");
    }
    if RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return Some("must not end with a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3)");
    }
    None
}

fn relaxed_violation(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        return Some("must be 1 to 255 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Some("may hold only ASCII letters, digits, '.', '-' and '_'");
    }
    None
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.name, f)
    }
}

impl FromStr for BucketName {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BucketName::new(s)
    }
}

impl TryFrom<&str> for BucketName {
    type Error = InputError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        BucketName::new(s)
    }
}

impl TryFrom<String> for BucketName {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        BucketName::new(s)
    }
}

impl AsRef<str> for BucketName {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

/// An object key: any UTF-8 text of 1 to 1024 bytes, kept byte for byte.
///
/// Spaces, `+`, `%`, `=`, `~`, `//`, `.`, `..` and any Unicode are all valid and are encoded
/// exactly once on the wire.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

/// Longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_LEN: usize = 1024;

impl ObjectKey {
    /// Validates `key`.
    ///
    /// # Errors
    /// [`InputError::InvalidKey`] when `key` is empty or over [`MAX_KEY_LEN`] bytes.
    pub fn new(key: impl Into<String>) -> Result<Self, InputError> {
        let key = key.into();
        if key.is_empty() {
            return Err(InputError::InvalidKey {
                reason: "must not be empty",
            });
        }
        if key.len() > MAX_KEY_LEN {
            return Err(InputError::InvalidKey {
                reason: "must be at most 1024 bytes of UTF-8",
            });
        }
        Ok(ObjectKey(key))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl FromStr for ObjectKey {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ObjectKey::new(s)
    }
}

impl TryFrom<&str> for ObjectKey {
    type Error = InputError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ObjectKey::new(s)
    }
}

impl TryFrom<String> for ObjectKey {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ObjectKey::new(s)
    }
}

impl AsRef<str> for ObjectKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_bucket_rules() {
        for ok in ["abc", "my-bucket.2024", "a1b", &"a".repeat(63)] {
            assert!(BucketName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Abc",
            "a_b",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            &"a".repeat(64),
            "a b",
        ] {
            assert!(BucketName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relaxed_accepts_legacy_names_for_path_style() {
        let name = BucketName::relaxed("My_Bucket").unwrap();
        assert!(!name.is_virtual_host_safe());
        assert!(BucketName::relaxed("a/b").is_err());
        assert!(BucketName::relaxed("").is_err());
        assert!(BucketName::relaxed("abc").unwrap().is_virtual_host_safe());
        assert!(!BucketName::new("a.bc").unwrap().is_virtual_host_safe());
    }

    #[test]
    fn keys_are_any_utf8_up_to_1024_bytes() {
        for ok in ["a", " ", "+%=~", "//", ".", "..", "ሴ/ü", &"k".repeat(1024)] {
            assert_eq!(ObjectKey::new(ok).unwrap().as_str(), ok);
        }
        assert!(ObjectKey::new("").is_err());
        assert!(ObjectKey::new("k".repeat(1025)).is_err());
        assert!(ObjectKey::new("é".repeat(513)).is_err());
    }

    #[test]
    fn error_names_the_rule() {
        let err = BucketName::new("Bad_Name").unwrap_err();
        assert!(err.to_string().contains("lowercase"), "{err}");
    }
}
