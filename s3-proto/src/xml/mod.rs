//! Bounded XML helpers: a pull reader with size and depth limits, and an escaping writer.
//!
//! Only these two files touch quick-xml; its types and errors never leave this module.

mod reader;
mod writer;

pub(crate) use reader::XmlReader;
pub(crate) use writer::XmlWriter;

/// Largest response body the parsers accept, in bytes.
///
/// The biggest legitimate S3 XML reply is a 1000-key listing of 1024-byte keys with owners,
/// a few MiB; 64 MiB leaves room for any server while keeping hostile input bounded.
pub const MAX_XML_BODY: usize = 64 * 1024 * 1024;

/// Deepest element nesting the parsers accept. S3 documents nest at most 5 levels.
pub const MAX_XML_DEPTH: usize = 32;
