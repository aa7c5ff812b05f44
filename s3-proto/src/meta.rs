//! User metadata (`x-amz-meta-*`): names, values, encoding and the 2 KB limit.
//!
//! Normalisation: HTTP header names are case-insensitive, and S3 stores and returns them in
//! lower case, so names are lower-cased when inserted and looked up case-insensitively. Values
//! are kept exactly. A value that is not printable ASCII is sent as an RFC 2047 encoded word
//! (`=?UTF-8?B?…?=`), the form S3 itself returns for such values; encoded words are decoded
//! when metadata is read back, so any UTF-8 value round-trips.

use base64::Engine as _;
use http::HeaderMap;

use crate::error::InputError;
use crate::request::RequestBuilder;
use crate::sorted::SortedMap;

/// The header prefix of user metadata.
pub const META_PREFIX: &str = "x-amz-meta-";

/// S3's limit on user metadata: names (without the prefix) plus values, in UTF-8 bytes.
pub const MAX_METADATA_SIZE: usize = 2048;

/// User-defined object metadata, names lower-case, values as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    entries: SortedMap<String, String>,
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Self {
        Metadata::default()
    }

    /// Sets `name` (lower-cased, without the `x-amz-meta-` prefix) to `value`; returns the
    /// previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let mut name = name.into();
        name.make_ascii_lowercase();
        self.entries.insert(name, value.into())
    }

    /// Builder form of [`Metadata::insert`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, value);
        self
    }

    /// The value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.entries
                .get(&name.to_ascii_lowercase())
                .map(String::as_str)
        } else {
            self.entries.get(name).map(String::as_str)
        }
    }

    /// Removes `name`; returns its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.entries.remove(&name.to_ascii_lowercase())
    }

    /// Names and values, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no metadata.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes counted against S3's 2 KB limit.
    pub fn size(&self) -> usize {
        self.entries.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// Checks names and the size limit.
    ///
    /// # Errors
    /// [`InputError::MetadataTooLarge`] over 2 KB; [`InputError::InvalidHeader`] for an empty
    /// name or one that is not an HTTP token.
    pub fn validate(&self) -> Result<(), InputError> {
        let size = self.size();
        if size > MAX_METADATA_SIZE {
            return Err(InputError::MetadataTooLarge {
                size,
                limit: MAX_METADATA_SIZE,
            });
        }
        for name in self.entries.keys() {
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(InputError::InvalidHeader {
                    name: format!("{META_PREFIX}{}", crate::error::shorten(name)),
                });
            }
        }
        Ok(())
    }

    /// Adds the `x-amz-meta-*` headers to a request, after [`Metadata::validate`].
    pub(crate) fn apply(&self, mut req: RequestBuilder) -> RequestBuilder {
        if let Err(e) = self.validate() {
            return req.fail(e);
        }
        let mut name = String::with_capacity(64);
        for (k, v) in self.entries.iter() {
            name.clear();
            name.push_str(META_PREFIX);
            name.push_str(k);
            req = req.header(&name, &encode_value(v));
        }
        req
    }

    /// Reads the `x-amz-meta-*` headers of a response, decoding RFC 2047 encoded words.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut meta = Metadata::new();
        for (name, value) in headers {
            let Some(short) = name.as_str().strip_prefix(META_PREFIX) else {
                continue;
            };
            let raw = String::from_utf8_lossy(value.as_bytes());
            let decoded = decode_value(&raw);
            match meta.entries.get_mut(short) {
                // A repeated header: HTTP's rule is to join with commas.
                Some(prev) => {
                    prev.push(',');
                    prev.push_str(&decoded);
                }
                None => {
                    meta.entries.insert(short.to_owned(), decoded);
                }
            }
        }
        meta
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Metadata {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Metadata::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

/// The header form of a value: itself when printable ASCII, else one RFC 2047 encoded word.
fn encode_value(value: &str) -> std::borrow::Cow<'_, str> {
    let plain = value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) || b == b'\t')
        && !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !looks_encoded(value);
    if plain {
        return value.into();
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
    format!("=?UTF-8?B?{b64}?=").into()
}

fn looks_encoded(value: &str) -> bool {
    value.contains("=?") && value.contains("?=")
}

/// Decodes RFC 2047 encoded words (`=?charset?B|Q?text?=`, UTF-8, US-ASCII or ISO-8859-1);
/// anything else is returned as it is.
pub fn decode_value(value: &str) -> String {
    if !looks_encoded(value) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        match decode_word(from) {
            Some((text, used)) => {
                // Whitespace between two adjacent encoded words is not part of the text.
                if !(last_was_word && before.chars().all(char::is_whitespace)) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &from[used..];
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &from[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes one encoded word at the start of `s`; returns the text and the bytes consumed.
fn decode_word(s: &str) -> Option<(String, usize)> {
    let body = s.strip_prefix("=?")?;
    let (charset, after) = body.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let text = &after[..end];
    let used = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "Q" | "q" => decode_q(text)?,
        _ => return None,
    };
    let charset = charset.split('*').next().unwrap_or(charset);
    let decoded = if charset.eq_ignore_ascii_case("utf-8")
        || charset.eq_ignore_ascii_case("us-ascii")
    {
        String::from_utf8(bytes).ok()?
    } else if charset.eq_ignore_ascii_case("iso-8859-1") || charset.eq_ignore_ascii_case("latin1") {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        return None;
    };
    Some((decoded, used))
}

fn decode_q(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_case_insensitive() {
        let m = Metadata::new().with("Color", "Blue");
        assert_eq!(m.get("color"), Some("Blue"));
        assert_eq!(m.get("COLOR"), Some("Blue"));
        assert_eq!(m.iter().next(), Some(("color", "Blue")));
    }

    #[test]
    fn decodes_what_s3_returns() {
        assert_eq!(decode_value("=?UTF-8?B?w7xiZXI=?="), "über");
        assert_eq!(
            decode_value("=?utf-8?Q?caf=C3=A9_au_lait?="),
            "café au lait"
        );
        assert_eq!(decode_value("=?UTF-8?B?w7w=?= =?UTF-8?B?w7w=?="), "üü");
        assert_eq!(decode_value("plain =? text"), "plain =? text");
        assert_eq!(decode_value("=?bogus?X?zz?="), "=?bogus?X?zz?=");
        assert_eq!(decode_value("=?UTF-8?B?!!!?="), "=?UTF-8?B?!!!?=");
    }

    #[test]
    fn size_limit_is_checked() {
        let m = Metadata::new().with("k", "v".repeat(2047));
        assert!(m.validate().is_ok());
        let m = Metadata::new().with("k", "v".repeat(2048));
        assert!(matches!(
            m.validate(),
            Err(InputError::MetadataTooLarge { size: 2049, .. })
        ));
        assert!(Metadata::new().with("bad name", "v").validate().is_err());
    }

    proptest! {
        #[test]
        fn any_value_round_trips(value in any::<String>()) {
            let encoded = encode_value(&value);
            prop_assert!(http::HeaderValue::from_str(&encoded).is_ok());
            prop_assert_eq!(decode_value(&encoded), value);
        }
    }
}
