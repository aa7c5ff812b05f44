//! `encoding-type=url` on listings: every listing asks for it (keys may hold characters XML
//! 1.0 cannot carry) and decodes what came back encoded, by the AWS rule (the fields the API
//! reference names, when the reply declares `<EncodingType>url</EncodingType>`) adjusted by
//! the server's [`ListingEncoding`] quirks.

use crate::error::{Error, ResponseError};
use crate::quirks::{Encoded, ListingEncoding};
use crate::request::RequestBuilder;
use crate::sign::encode::percent_decode;

/// Adds `encoding-type=url` when `asked`.
pub(crate) fn ask(asked: bool, req: RequestBuilder) -> RequestBuilder {
    if asked {
        req.query("encoding-type", "url")
    } else {
        req
    }
}

/// Whether a reply's `EncodingType` says `url`.
pub(crate) fn declares_url(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("url")
}

/// What to decode in one listing reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decoding {
    rule: ListingEncoding,
    asked: bool,
    declared: bool,
}

impl Decoding {
    /// For a reply to a request that `asked` for url encoding, which `declared` it, from a
    /// server whose listing follows `rule`.
    pub(crate) fn new(rule: ListingEncoding, asked: bool, declared: bool) -> Self {
        Decoding {
            rule,
            asked,
            declared,
        }
    }

    /// Whether the echoes of the request (prefix, delimiter, markers) may be encoded: then
    /// the request's own values stand for them.
    pub(crate) fn echoes_encoded(&self) -> bool {
        self.asked || self.declared
    }

    fn apply(self, encoded: Encoded, field: &'static str, value: &mut String) -> Result<(), Error> {
        if encoded.decode(self.asked, self.declared) {
            decode(field, value)?;
        }
        Ok(())
    }

    /// Decodes a key.
    pub(crate) fn key(self, value: &mut String) -> Result<(), Error> {
        self.apply(self.rule.keys, "Key", value)
    }

    /// Decodes a common prefix.
    pub(crate) fn common_prefix(self, value: &mut String) -> Result<(), Error> {
        self.apply(self.rule.common_prefixes, "Prefix", value)
    }

    /// Decodes `NextMarker` / `NextKeyMarker`.
    pub(crate) fn next_marker(
        self,
        field: &'static str,
        value: Option<&mut String>,
    ) -> Result<(), Error> {
        match value {
            Some(v) => self.apply(self.rule.next_marker, field, v),
            None => Ok(()),
        }
    }
}

/// The request's value for an echoed field the reply carried, when the echo may be encoded.
pub(crate) fn echo(
    decoding: &Decoding,
    asked: Option<&str>,
    reply: Option<String>,
) -> Option<String> {
    match (decoding.echoes_encoded(), asked) {
        (true, Some(asked)) => reply.map(|_| asked.to_owned()),
        _ => reply,
    }
}

/// Decodes one URL-encoded field (`+` is a space, as S3 encodes it).
fn decode(field: &'static str, s: &mut String) -> Result<(), Error> {
    let bytes = percent_decode(s, true);
    let decoded =
        String::from_utf8(bytes.into_owned()).map_err(|_| ResponseError::invalid(field, s))?;
    *s = decoded;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_decodes_what_it_names() {
        let aws = ListingEncoding::AS_DECLARED;
        let mut k = "a%2Bb+c%25".to_owned();
        Decoding::new(aws, true, true).key(&mut k).unwrap();
        assert_eq!(k, "a+b c%");
        let mut raw = "p%q".to_owned();
        Decoding::new(aws, true, false).key(&mut raw).unwrap();
        assert_eq!(raw, "p%q", "undeclared: left alone");
        Decoding::new(ListingEncoding::NEVER, true, true)
            .key(&mut raw)
            .unwrap();
        assert_eq!(raw, "p%q", "declared but never encoded");
        let ceph_uploads = crate::quirks::ServerQuirks::ceph().list_multipart_uploads;
        let d = Decoding::new(ceph_uploads, true, false);
        let mut key = "k%203".to_owned();
        d.key(&mut key).unwrap();
        assert_eq!(key, "k 3", "encoded without a declaration");
        let mut next = "a+b".to_owned();
        d.next_marker("NextKeyMarker", Some(&mut next)).unwrap();
        assert_eq!(next, "a+b", "the next marker comes raw");
        let mut bad = "%FF".to_owned();
        assert!(Decoding::new(aws, true, true).key(&mut bad).is_err());
        assert_eq!(
            echo(&d, Some("a b"), Some("a%20b".into())).as_deref(),
            Some("a b")
        );
        assert_eq!(echo(&d, Some("a b"), None), None);
    }
}
