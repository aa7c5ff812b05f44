//! XML for the simulator: a writer for replies and a small tree reader for request bodies.
//!
//! Request bodies are parsed into an [`Element`] tree under fixed limits (size, depth, element
//! count), so a hostile body costs bounded memory and ends in [`MalformedXml`], never a panic.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The S3 namespace every reply root declares.
pub(crate) const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Largest request body the reader accepts: a CompleteMultipartUpload naming 10,000 parts, or
/// a DeleteObjects naming 1000 keys of 1 KiB each, fits with room to spare.
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;
/// Deepest nesting the reader accepts (S3 request documents nest three levels).
pub(crate) const MAX_DEPTH: usize = 16;
/// Most elements the reader accepts (10,000 parts of three elements each, plus the root).
pub(crate) const MAX_ELEMENTS: usize = 40_000;

/// Builds an XML document as S3 writes it: declaration, then elements with escaped text.
#[derive(Debug, Default)]
pub(crate) struct XmlOut {
    out: String,
}

impl XmlOut {
    /// A document opened with `root` in the S3 namespace.
    pub(crate) fn document(root: &str) -> Self {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        out.push_str(root);
        out.push_str(" xmlns=\"");
        out.push_str(S3_NS);
        out.push_str("\">");
        XmlOut { out }
    }

    /// A document whose root has no namespace (`<Error>`, as S3 writes it).
    pub(crate) fn bare_document(root: &str) -> Self {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        out.push_str(root);
        out.push('>');
        XmlOut { out }
    }

    /// Opens `name`.
    pub(crate) fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Closes `name`.
    pub(crate) fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`, the text escaped.
    pub(crate) fn element(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        escape_into(&mut self.out, text);
        self.close(name)
    }

    /// [`XmlOut::element`] when `text` is present.
    pub(crate) fn element_opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.element(name, text);
        }
        self
    }

    /// Closes the root and returns the bytes.
    pub(crate) fn finish(mut self, root: &str) -> Vec<u8> {
        self.close(root);
        self.out.into_bytes()
    }
}

/// Appends `text` with the five XML special characters escaped (S3 writes `&quot;` in ETags).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// A request body that is not a well-formed document within the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MalformedXml(pub(crate) String);

/// One element of a parsed request body: local name, direct text, children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    /// The name without namespace prefix.
    pub(crate) name: String,
    /// The element's own text, entities resolved (text of children not included).
    pub(crate) text: String,
    /// Child elements, in document order.
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children named `name`.
    pub(crate) fn children_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child named `name`.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// Parses a whole document into its root element.
///
/// # Errors
/// [`MalformedXml`] for an empty, oversized, too deep, unbalanced or otherwise ill-formed body,
/// a DOCTYPE, or an unknown entity.
pub(crate) fn parse(body: &[u8]) -> Result<Element, MalformedXml> {
    let bad = |why: &str| MalformedXml(why.to_owned());
    if body.len() > MAX_BODY {
        return Err(bad("body too large"));
    }
    let mut reader = Reader::from_reader(body);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| MalformedXml(e.to_string()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(bad("content after the root element"));
                }
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(bad("document too large or too deep"));
                }
                let qname = start.name();
                let full = String::from_utf8_lossy(qname.as_ref()).into_owned();
                let name = match full.split_once(':') {
                    Some((_, local)) => local.to_owned(),
                    None => full,
                };
                stack.push(Element {
                    name,
                    ..Element::default()
                });
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| bad("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let decoded = text.decode().map_err(|e| MalformedXml(e.to_string()))?;
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&decoded),
                    None if decoded.trim().is_empty() => {}
                    None => return Err(bad("text outside the root element")),
                }
            }
            Event::CData(data) => {
                let decoded = data.decode().map_err(|e| MalformedXml(e.to_string()))?;
                let current = stack
                    .last_mut()
                    .ok_or_else(|| bad("CDATA outside the root"))?;
                current.text.push_str(&decoded);
            }
            Event::GeneralRef(reference) => {
                let c = match reference
                    .resolve_char_ref()
                    .map_err(|e| MalformedXml(e.to_string()))?
                {
                    Some(c) => c,
                    None => match reference.as_ref() {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => return Err(bad("unknown entity")),
                    },
                };
                let current = stack
                    .last_mut()
                    .ok_or_else(|| bad("entity outside the root"))?;
                current.text.push(c);
            }
            Event::DocType(_) => return Err(bad("DOCTYPE is not accepted")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Empty(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(bad("document ends early"));
    }
    root.ok_or_else(|| bad("empty document"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_text_with_entities() {
        let doc = br#"<?xml version="1.0"?><Delete xmlns="x"><Object><Key>a&amp;b&#x20;c</Key></Object></Delete>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Delete");
        let key = root.child("Object").and_then(|o| o.child_text("Key"));
        assert_eq!(key, Some("a&b c"));
    }

    #[test]
    fn rejects_broken_documents() {
        for bad in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<!DOCTYPE a><a/>",
            b"<a>&bogus;</a>",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn writer_escapes() {
        let mut w = XmlOut::document("R");
        w.element("ETag", "\"x\"&<");
        let out = String::from_utf8(w.finish("R")).unwrap();
        assert!(
            out.ends_with("<ETag>&quot;x&quot;&amp;&lt;</ETag></R>"),
            "{out}"
        );
    }
}
