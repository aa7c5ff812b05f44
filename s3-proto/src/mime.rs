//! Content types guessed from file names, for uploads that do not name one.

/// Used when the extension is unknown (what S3 itself assumes).
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Extension (lower case) → content type, sorted by extension for binary search.
const TYPES: &[(&str, &str)] = &[
    ("7z", "application/x-7z-compressed"),
    ("aac", "audio/aac"),
    ("avi", "video/x-msvideo"),
    ("avif", "image/avif"),
    ("bin", "application/octet-stream"),
    ("bmp", "image/bmp"),
    ("bz2", "application/x-bzip2"),
    ("css", "text/css"),
    ("csv", "text/csv"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("eot", "application/vnd.ms-fontobject"),
    ("epub", "application/epub+zip"),
    ("flac", "audio/flac"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("ico", "image/vnd.microsoft.icon"),
    ("ics", "text/calendar"),
    ("jar", "application/java-archive"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript"),
    ("json", "application/json"),
    ("jsonld", "application/ld+json"),
    ("m4a", "audio/mp4"),
    ("md", "text/markdown"),
    ("mid", "audio/midi"),
    ("midi", "audio/midi"),
    ("mjs", "text/javascript"),
    ("mkv", "video/x-matroska"),
    ("mov", "video/quicktime"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mpeg", "video/mpeg"),
    ("odp", "application/vnd.oasis.opendocument.presentation"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("oga", "audio/ogg"),
    ("ogg", "audio/ogg"),
    ("ogv", "video/ogg"),
    ("otf", "font/otf"),
    ("parquet", "application/vnd.apache.parquet"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("rar", "application/vnd.rar"),
    ("rtf", "application/rtf"),
    ("sh", "application/x-sh"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("toml", "application/toml"),
    ("ts", "video/mp2t"),
    ("ttf", "font/ttf"),
    ("txt", "text/plain"),
    ("wasm", "application/wasm"),
    ("wav", "audio/wav"),
    ("weba", "audio/webm"),
    ("webm", "video/webm"),
    ("webp", "image/webp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("xhtml", "application/xhtml+xml"),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("xml", "application/xml"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("zip", "application/zip"),
    ("zst", "application/zstd"),
];

/// The content type for a file or key name, from its extension (case-insensitive);
/// [`DEFAULT_CONTENT_TYPE`] when unknown.
///
/// ```
/// assert_eq!(s3_proto::mime::from_name("photos/Cat.JPG"), "image/jpeg");
/// assert_eq!(s3_proto::mime::from_name("README"), "application/octet-stream");
/// ```
pub fn from_name(name: &str) -> &'static str {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let Some((stem, ext)) = file.rsplit_once('.') else {
        return DEFAULT_CONTENT_TYPE;
    };
    if stem.is_empty() || ext.len() > 8 {
        return DEFAULT_CONTENT_TYPE;
    }
    let mut lower = [0u8; 8];
    for (slot, b) in lower.iter_mut().zip(ext.bytes()) {
        *slot = b.to_ascii_lowercase();
    }
    let ext = &lower[..ext.len()];
    TYPES
        .binary_search_by(|(e, _)| e.as_bytes().cmp(ext))
        .map_or(DEFAULT_CONTENT_TYPE, |i| TYPES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn guesses_by_extension() {
        assert_eq!(from_name("a/b/index.HTML"), "text/html");
        assert_eq!(from_name("archive.tar.gz"), "application/gzip");
        assert_eq!(from_name(".bashrc"), DEFAULT_CONTENT_TYPE);
        assert_eq!(from_name("dir.d/file"), DEFAULT_CONTENT_TYPE);
        assert_eq!(from_name("x.verylongextension"), DEFAULT_CONTENT_TYPE);
        assert_eq!(from_name("C:\\docs\\report.pdf"), "application/pdf");
    }
}
