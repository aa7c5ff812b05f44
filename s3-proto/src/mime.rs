//! Content types guessed from file names, for uploads that do not name one, from the
//! `mime_guess` crate's table (the shared MIME database's extensions, kept up to date there).

/// Used when the extension is unknown (what S3 itself assumes).
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

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
    if stem.is_empty() || ext.len() > 16 {
        return DEFAULT_CONTENT_TYPE;
    }
    mime_guess::from_ext(ext)
        .first_raw()
        .unwrap_or(DEFAULT_CONTENT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_by_extension() {
        assert_eq!(from_name("a/b/index.HTML"), "text/html");
        assert_eq!(from_name("archive.tar.gz"), "application/gzip");
        assert_eq!(from_name(".bashrc"), DEFAULT_CONTENT_TYPE);
        assert_eq!(from_name("dir.d/file"), DEFAULT_CONTENT_TYPE);
        assert_eq!(from_name("x.verylongextensionindeed"), DEFAULT_CONTENT_TYPE);
        assert_eq!(from_name("song.opus"), "audio/ogg");
        assert_eq!(from_name("photo.webp"), "image/webp");
        assert_eq!(from_name("C:\\docs\\report.pdf"), "application/pdf");
    }
}
