//! A pull reader that walks an S3 document element by element.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{MAX_XML_BODY, MAX_XML_DEPTH};
use crate::error::{Error, ResponseError};

/// The namespace of `xsi:type` (ACL grantees).
const XSI: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

/// Walks a document one element at a time: `root`, then `next_child` / `text` / `skip`.
///
/// Parsers are nested loops over `next_child`; every element must be consumed with `text`,
/// `skip` or a loop of `next_child` until it returns `None`.
pub(crate) struct XmlReader<'a> {
    inner: Reader<&'a [u8]>,
    depth: usize,
    /// `xmlns` bindings in scope: (depth declared at, prefix, namespace).
    ns: Vec<(usize, Vec<u8>, Vec<u8>)>,
}

/// A start tag: its local name and attributes.
pub(crate) struct Tag<'a> {
    start: BytesStart<'a>,
}

impl<'a> Tag<'a> {
    /// The local name (prefix stripped).
    pub(crate) fn name(&self) -> &[u8] {
        local(self.start.name().into_inner())
    }
}

fn local(name: &[u8]) -> &[u8] {
    match memchr_colon(name) {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn memchr_colon(name: &[u8]) -> Option<usize> {
    name.iter().position(|&b| b == b':')
}

fn malformed(e: impl std::fmt::Display) -> Error {
    ResponseError::malformed(e).into()
}

impl<'a> XmlReader<'a> {
    /// A reader over `body`; fails when the body is over [`MAX_XML_BODY`].
    pub(crate) fn new(body: &'a [u8]) -> Result<Self, Error> {
        if body.len() > MAX_XML_BODY {
            return Err(ResponseError::BodyTooLarge {
                limit: MAX_XML_BODY,
            }
            .into());
        }
        let mut inner = Reader::from_reader(body);
        let config = inner.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Ok(XmlReader {
            inner,
            depth: 0,
            ns: Vec::new(),
        })
    }

    /// Reads up to the root element and returns its local name.
    pub(crate) fn root(&mut self) -> Result<String, Error> {
        loop {
            match self.inner.read_event().map_err(malformed)? {
                Event::Start(start) => {
                    let tag = self.enter(start)?;
                    return Ok(String::from_utf8_lossy(tag.name()).into_owned());
                }
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                // S3 never sends a DTD; refusing it keeps entity definitions out entirely.
                Event::DocType(_) => return Err(malformed("DOCTYPE is not accepted")),
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Eof => return Err(malformed("empty document")),
                _ => return Err(malformed("content before the root element")),
            }
        }
    }

    /// Reads up to the root element and checks its name.
    pub(crate) fn expect_root(&mut self, expected: &'static str) -> Result<(), Error> {
        self.expect_root_or(expected, None)
    }

    /// Like [`XmlReader::expect_root`], also accepting `alias` (moto writes `…Response` where
    /// S3 writes `…Result` for some multipart replies).
    pub(crate) fn expect_root_or(
        &mut self,
        expected: &'static str,
        alias: Option<&str>,
    ) -> Result<(), Error> {
        let found = self.root()?;
        if found == expected || Some(found.as_str()) == alias {
            Ok(())
        } else {
            Err(ResponseError::UnexpectedRoot { expected, found }.into())
        }
    }

    /// The next child of the current element, or `None` once the element ends.
    pub(crate) fn next_child(&mut self) -> Result<Option<Tag<'a>>, Error> {
        loop {
            match self.inner.read_event().map_err(malformed)? {
                Event::Start(start) => return self.enter(start).map(Some),
                Event::End(_) => {
                    self.leave();
                    return Ok(None);
                }
                Event::Eof => return Err(malformed("document ends early")),
                // Text between elements (whitespace, or mixed content we do not read).
                _ => {}
            }
        }
    }

    /// The text of the element just entered, up to its end tag; entities resolved.
    ///
    /// Borrowed from the document when it is one piece; text in several pieces (an ETag is
    /// `&quot;`, the hex, `&quot;`) is gathered in one string, entities pushed as chars.
    ///
    /// Fails when the element holds child elements.
    pub(crate) fn text(&mut self) -> Result<Cow<'a, str>, Error> {
        let mut out = Cow::Borrowed("");
        loop {
            match self.inner.read_event().map_err(malformed)? {
                Event::Text(t) => append(&mut out, t.decode().map_err(malformed)?),
                Event::CData(c) => append(&mut out, c.decode().map_err(malformed)?),
                Event::GeneralRef(r) => {
                    let c = resolve(&r)?;
                    owned(&mut out, c.len_utf8()).push(c);
                }
                Event::End(_) => {
                    self.leave();
                    return Ok(out);
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Start(_) => return Err(malformed("element inside a text field")),
                Event::Eof => return Err(malformed("document ends early")),
                _ => return Err(malformed("unexpected markup inside a text field")),
            }
        }
    }

    /// The text of the element just entered, or `None` (the element skipped whole) when it
    /// holds child elements.
    pub(crate) fn leaf_text(&mut self) -> Result<Option<String>, Error> {
        let mut out = String::new();
        loop {
            match self.inner.read_event().map_err(malformed)? {
                Event::Text(t) => out.push_str(&t.decode().map_err(malformed)?),
                Event::CData(c) => out.push_str(&c.decode().map_err(malformed)?),
                Event::GeneralRef(r) => out.push(resolve(&r)?),
                Event::End(_) => {
                    self.leave();
                    return Ok(Some(out));
                }
                Event::Start(start) => {
                    // The child, then the rest of this element.
                    self.enter(start)?;
                    self.skip()?;
                    self.skip()?;
                    return Ok(None);
                }
                Event::Eof => return Err(malformed("document ends early")),
                _ => {}
            }
        }
    }

    /// Parses the element's text with `parse`; `field` names it in the error.
    pub(crate) fn parse<T>(
        &mut self,
        field: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, Error> {
        let text = self.text()?;
        parse(text.trim()).ok_or_else(|| ResponseError::invalid(field, &text).into())
    }

    /// Skips the element just entered, with everything inside it.
    pub(crate) fn skip(&mut self) -> Result<(), Error> {
        let target = self.depth - 1;
        while self.depth > target {
            match self.inner.read_event().map_err(malformed)? {
                Event::Start(start) => {
                    self.enter(start)?;
                }
                Event::End(_) => self.leave(),
                Event::Eof => return Err(malformed("document ends early")),
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks that nothing but whitespace, comments and PIs follow the root element.
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        loop {
            match self.inner.read_event().map_err(malformed)? {
                Event::Eof => return Ok(()),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                _ => return Err(malformed("content after the root element")),
            }
        }
    }

    /// The `xsi:type` attribute of `tag`, its prefix resolved through the namespaces in scope.
    pub(crate) fn xsi_type(&self, tag: &Tag<'a>) -> Result<Option<String>, Error> {
        for attr in tag.start.attributes() {
            let attr = attr.map_err(malformed)?;
            let key = attr.key.into_inner();
            let Some(colon) = memchr_colon(key) else {
                continue;
            };
            let (prefix, name) = (&key[..colon], &key[colon + 1..]);
            if name != b"type" || prefix == b"xmlns" {
                continue;
            }
            if self.namespace(prefix) == Some(XSI) {
                let value = attr.unescape_value().map_err(malformed)?;
                return Ok(Some(value.into_owned()));
            }
        }
        Ok(None)
    }

    fn namespace(&self, prefix: &[u8]) -> Option<&[u8]> {
        self.ns
            .iter()
            .rev()
            .find(|(_, p, _)| p == prefix)
            .map(|(_, _, ns)| ns.as_slice())
    }

    fn enter(&mut self, start: BytesStart<'a>) -> Result<Tag<'a>, Error> {
        self.depth += 1;
        if self.depth > MAX_XML_DEPTH {
            return Err(ResponseError::TooDeep {
                limit: MAX_XML_DEPTH,
            }
            .into());
        }
        if !start.attributes_raw().is_empty() {
            self.bind_namespaces(&start)?;
        }
        Ok(Tag { start })
    }

    fn bind_namespaces(&mut self, start: &BytesStart<'a>) -> Result<(), Error> {
        for attr in start.attributes() {
            let attr = attr.map_err(malformed)?;
            let key = attr.key.into_inner();
            if let Some(prefix) = key.strip_prefix(b"xmlns:") {
                if self.ns.len() >= MAX_XML_DEPTH * 4 {
                    return Err(malformed("too many namespace declarations"));
                }
                self.ns
                    .push((self.depth, prefix.to_vec(), attr.value.into_owned()));
            }
        }
        Ok(())
    }

    fn leave(&mut self) {
        while self.ns.last().is_some_and(|(d, _, _)| *d >= self.depth) {
            self.ns.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }
}

/// Appends `piece` to `out`, borrowing it when it is the first.
fn append<'a>(out: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if out.is_empty() && matches!(out, Cow::Borrowed(_)) {
        *out = piece;
    } else {
        owned(out, piece.len()).push_str(&piece);
    }
}

/// `out` as an owned string with room for `more` bytes; when it was borrowed, with room for a
/// quoted ETag as well, so that the pieces of one usually fit the first allocation.
fn owned<'a, 'b>(out: &'b mut Cow<'a, str>, more: usize) -> &'b mut String {
    if let Cow::Borrowed(s) = out {
        let mut owned = String::with_capacity(s.len() + more + 40);
        owned.push_str(s);
        *out = Cow::Owned(owned);
    }
    out.to_mut()
}

/// The character an entity or character reference stands for (`&amp;`, `&#x41;`).
fn resolve(r: &quick_xml::events::BytesRef<'_>) -> Result<char, Error> {
    if let Some(c) = r.resolve_char_ref().map_err(malformed)? {
        return Ok(c);
    }
    Ok(match &**r {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        other => {
            return Err(malformed(format_args!(
                "unknown entity &{};",
                String::from_utf8_lossy(other)
            )));
        }
    })
}
