//! Tags: key/value pairs on objects and buckets, and their XML and header forms.

use crate::error::{Error, InputError, ResponseError};
use crate::ops::subresource::{Document, S3_XMLNS};
use crate::request::RequestBuilder;
use crate::sign::encode::uri_encode_into;
use crate::xml::{XmlReader, XmlWriter};

/// Most tags one object may carry.
pub const MAX_OBJECT_TAGS: usize = 10;
/// Most tags one bucket may carry.
pub const MAX_BUCKET_TAGS: usize = 50;
/// Longest tag key, in Unicode characters.
pub const MAX_TAG_KEY_CHARS: usize = 128;
/// Longest tag value, in Unicode characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    /// The key (1 to 128 characters).
    pub key: String,
    /// The value (0 to 256 characters).
    pub value: String,
}

/// A set of tags, as PutObjectTagging and PutBucketTagging send and the Get actions return.
///
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Tagging.html>
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSet {
    tags: Vec<Tag>,
}

impl TagSet {
    /// No tags.
    pub fn new() -> Self {
        TagSet::default()
    }

    /// Adds `key=value` (limits are checked when a request is built).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push(Tag {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// The tags, in order.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }

    /// The number of tags.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// True when there are no tags.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Checks S3's rules for `limit` tags (10 on objects, 50 on buckets): key and value
    /// lengths, distinct keys.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] naming the first broken rule.
    pub fn validate(&self, limit: usize) -> Result<(), InputError> {
        if self.tags.len() > limit {
            return Err(InputError::argument(
                "tags",
                format!("{} tags, S3 allows {limit}", self.tags.len()),
            ));
        }
        for (i, t) in self.tags.iter().enumerate() {
            let klen = t.key.chars().count();
            if klen == 0 || klen > MAX_TAG_KEY_CHARS {
                return Err(InputError::argument(
                    "tags",
                    format!("a tag key has 1 to {MAX_TAG_KEY_CHARS} characters, not {klen}"),
                ));
            }
            let vlen = t.value.chars().count();
            if vlen > MAX_TAG_VALUE_CHARS {
                return Err(InputError::argument(
                    "tags",
                    format!("a tag value has at most {MAX_TAG_VALUE_CHARS} characters, not {vlen}"),
                ));
            }
            if self.tags.iter().take(i).any(|o| o.key == t.key) {
                return Err(InputError::argument("tags", "tag keys must be distinct"));
            }
        }
        Ok(())
    }

    /// The `x-amz-tagging` header form: `k1=v1&k2=v2`, URL-encoded.
    pub fn to_header(&self) -> String {
        let mut s = String::new();
        for (i, t) in self.tags.iter().enumerate() {
            if i > 0 {
                s.push('&');
            }
            uri_encode_into(&mut s, t.key.as_bytes(), false);
            s.push('=');
            uri_encode_into(&mut s, t.value.as_bytes(), false);
        }
        s
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for TagSet {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        iter.into_iter()
            .fold(TagSet::new(), |set, (k, v)| set.tag(k, v))
    }
}

/// Adds `x-amz-tagging` for an object write, or records why the tags cannot be sent.
pub(crate) fn apply_header(tags: Option<&TagSet>, req: RequestBuilder) -> RequestBuilder {
    match tags {
        None => req,
        Some(t) => match t.validate(MAX_OBJECT_TAGS) {
            Ok(()) => req.header("x-amz-tagging", &t.to_header()),
            Err(e) => req.fail(e),
        },
    }
}

impl Document for TagSet {
    fn to_body(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_with("Tagging", S3_XMLNS).open("TagSet");
        for t in &self.tags {
            w.open("Tag")
                .element("Key", &t.key)
                .element("Value", &t.value)
                .close("Tag");
        }
        w.close("TagSet").close("Tagging");
        w.finish()
    }

    fn from_body(body: &[u8]) -> Result<Self, Error> {
        let mut r = XmlReader::new(body)?;
        r.expect_root("Tagging")?;
        let mut out = TagSet::new();
        while let Some(tag) = r.next_child()? {
            if tag.name() != b"TagSet" {
                r.skip()?;
                continue;
            }
            while let Some(tag) = r.next_child()? {
                if tag.name() != b"Tag" {
                    r.skip()?;
                    continue;
                }
                out.tags.push(read_tag(&mut r)?);
            }
        }
        r.finish()?;
        Ok(out)
    }

    fn validate(&self) -> Result<(), InputError> {
        TagSet::validate(self, MAX_BUCKET_TAGS)
    }
}

/// Reads the inside of a `<Tag>` element.
pub(crate) fn read_tag(r: &mut XmlReader<'_>) -> Result<Tag, Error> {
    let mut key = None;
    let mut value = String::new();
    while let Some(field) = r.next_child()? {
        match field.name() {
            b"Key" => key = Some(r.text()?.into_owned()),
            b"Value" => value = r.text()?.into_owned(),
            _ => r.skip()?,
        }
    }
    Ok(Tag {
        key: key.ok_or(ResponseError::MissingField { field: "Key" })?,
        value,
    })
}

/// Writes `<Tag><Key>…</Key><Value>…</Value></Tag>`.
pub(crate) fn write_tag(w: &mut XmlWriter, tag: &Tag) {
    w.open("Tag")
        .element("Key", &tag.key)
        .element("Value", &tag.value)
        .close("Tag");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_limits() {
        let t = TagSet::new().tag("team", "core").tag("a b", "c&d=e");
        assert_eq!(t.to_header(), "team=core&a%20b=c%26d%3De");
        assert!(t.validate(MAX_OBJECT_TAGS).is_ok());
        let many: TagSet = (0..11).map(|i| (format!("k{i}"), "v")).collect();
        assert!(many.validate(MAX_OBJECT_TAGS).is_err());
        assert!(many.validate(MAX_BUCKET_TAGS).is_ok());
        assert!(TagSet::new().tag("", "v").validate(10).is_err());
        assert!(
            TagSet::new()
                .tag("k".repeat(129), "v")
                .validate(10)
                .is_err()
        );
        assert!(TagSet::new().tag("é".repeat(128), "v").validate(10).is_ok());
        assert!(
            TagSet::new()
                .tag("k", "v".repeat(257))
                .validate(10)
                .is_err()
        );
        assert!(
            TagSet::new()
                .tag("k", "1")
                .tag("k", "2")
                .validate(10)
                .is_err()
        );
    }

    #[test]
    fn xml_round_trip_and_garbage() {
        let t = TagSet::new().tag("team", "core").tag("x<y", "");
        let body = t.to_body();
        assert_eq!(TagSet::from_body(body.as_bytes()).unwrap(), t);
        for cut in 0..body.len() {
            assert!(TagSet::from_body(&body.as_bytes()[..cut]).is_err());
        }
        assert!(
            TagSet::from_body(b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>")
                .is_err()
        );
    }
}
