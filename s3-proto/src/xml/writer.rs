//! A minimal XML writer for request bodies: elements, escaped text, nothing else.

/// Builds an XML document into a `String`.
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// A document with the XML declaration.
    pub(crate) fn new() -> Self {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        XmlWriter { out }
    }

    /// Opens `<name attrs>`; `attrs` is written verbatim and must already be escaped.
    pub(crate) fn open_with(&mut self, name: &str, attrs: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        if !attrs.is_empty() {
            self.out.push(' ');
            self.out.push_str(attrs);
        }
        self.out.push('>');
        self
    }

    /// Opens `<name>`.
    pub(crate) fn open(&mut self, name: &str) -> &mut Self {
        self.open_with(name, "")
    }

    /// Closes `</name>`.
    pub(crate) fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Writes `<name>text</name>` with the text escaped.
    pub(crate) fn element(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        escape_into(&mut self.out, text);
        self.close(name)
    }

    /// The finished document.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Appends `text` escaped for element content or a double-quoted attribute.
///
/// Besides the five markup characters, CR, LF and TAB are written as character references so
/// that an XML parser's end-of-line and attribute normalisation cannot change a key.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            b'\r' => "&#13;",
            b'\n' => "&#10;",
            b'\t' => "&#9;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::XmlReader;
    use proptest::prelude::*;

    proptest! {
        /// Any text XML 1.0 can carry (keys, values, ids) survives writing and reading back.
        #[test]
        fn escaped_text_round_trips(text in "[\u{9}\u{a}\u{d}\u{20}-\u{d7ff}\u{e000}-\u{fffd}\u{10000}-\u{10ffff}]{0,40}") {
            let mut w = XmlWriter::new();
            w.open("Root").element("Key", &text).close("Root");
            let doc = w.finish();
            let mut r = XmlReader::new(doc.as_bytes()).unwrap();
            r.expect_root("Root").unwrap();
            let tag = r.next_child().unwrap().unwrap();
            prop_assert_eq!(tag.name(), b"Key");
            // XML parsers normalise CR and CRLF to LF unless the CR is escaped.
            prop_assert_eq!(r.text().unwrap(), text.as_str());
        }
    }
}
