//! Bodies between ureq and the caller, each checked by s3-proto's [`BodyGuard`].

use std::io::{self, Read};

use s3_proto::Error;
use s3_proto::flow::guard::BodyGuard;
use s3_proto::flow::request::Options;
use s3_proto::integrity::Verification;
use s3_proto::sign::chunked::ChunkedBody;

/// A reader over an object's body that fails, rather than ending quietly, when the
/// connection delivers fewer or more bytes than `Content-Length` announced; a deadline that
/// fires while reading says which one (see [`Options`]).
pub struct ObjectReader {
    inner: Option<Box<dyn Read + Send>>,
    guard: BodyGuard,
    options: Options,
}

impl std::fmt::Debug for ObjectReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectReader")
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl ObjectReader {
    pub(crate) fn new(
        inner: impl Read + Send + 'static,
        guard: BodyGuard,
        options: Options,
    ) -> Self {
        ObjectReader {
            inner: Some(Box::new(inner)),
            guard,
            options,
        }
    }

    pub(crate) fn empty() -> Self {
        ObjectReader {
            inner: None,
            guard: BodyGuard::response(Some(0)),
            options: Options::default(),
        }
    }

    s3_proto::body_accessors!("reader");

    /// Reads the rest of the body into `out`, and says how the bytes were verified.
    ///
    /// # Errors
    /// As [`ObjectReader::read_checked`].
    pub fn read_all(&mut self, out: &mut Vec<u8>) -> Result<Verification, Error> {
        let mut buf = vec![0u8; 64 << 10];
        while let n @ 1.. = self.read_checked(&mut buf)? {
            out.extend_from_slice(&buf[..n]);
        }
        Ok(self.guard.verdict())
    }

    /// The next chunk into `buf` as an s3-proto result: `Ok(0)` only at a body's whole end.
    /// At the end of an object's body its digest is judged: a mismatch is an error here,
    /// so bytes already handed out are unverified until this returns `Ok(0)`.
    ///
    /// # Errors
    /// A typed transport error (timeouts name their deadline), or the guard's length error.
    pub fn read_checked(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(0);
        };
        let n = loop {
            match inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(crate::client::io_error(e, &self.options)),
            }
        };
        if n == 0 {
            self.guard.finish()?;
            self.inner = None;
        } else {
            self.guard.update(&buf[..n])?;
        }
        Ok(n)
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_checked(buf).map_err(Error::into_io)
    }
}

/// The caller's source of a streamed request body: exactly `length` bytes, and an error
/// remembered (for [`SourceReader::check`]) when it yields fewer.
pub(crate) struct SourceReader<'a> {
    inner: &'a mut dyn Read,
    guard: BodyGuard,
    error: Option<Error>,
    /// Signed aws-chunked framing of what is read, when the request streams that way.
    framing: Option<ChunkedBody>,
}

impl<'a> SourceReader<'a> {
    pub(crate) fn new(inner: &'a mut dyn Read, length: u64) -> Self {
        SourceReader {
            inner,
            guard: BodyGuard::request(length),
            error: None,
            framing: None,
        }
    }

    /// The source read through `framing`: what goes out is its signed chunks.
    pub(crate) fn framed(mut self, framing: ChunkedBody) -> Self {
        self.framing = Some(framing);
        self
    }

    /// The source's own failure, which explains a failed request better than the HTTP stack.
    pub(crate) fn check(&mut self) -> Result<(), Error> {
        self.error.take().map_or(Ok(()), Err)
    }

    fn fail(&mut self, error: Error) -> io::Error {
        let io = io::Error::other(error.to_string());
        self.error = Some(error);
        io
    }
}

impl Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(mut framing) = self.framing.take() else {
            return self.read_source(buf);
        };
        // Source bytes go into the frame, read through `buf`; framed bytes come out.
        let read = loop {
            if let n @ 1.. = framing.output().len().min(buf.len()) {
                buf[..n].copy_from_slice(&framing.output()[..n]);
                framing.consume(n);
                break Ok(n);
            }
            let want = framing.wants().min(buf.len());
            match self.read_source(&mut buf[..want]) {
                Ok(0) => break Ok(0),
                Ok(n) => framing.push(&buf[..n]).map_err(|e| self.fail(e.into()))?,
                Err(e) => break Err(e),
            }
        };
        self.framing = Some(framing);
        read
    }
}

impl SourceReader<'_> {
    fn read_source(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(remaining) = self.guard.remaining().filter(|&r| r > 0) else {
            return Ok(0);
        };
        let max = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = match self.inner.read(&mut buf[..max]) {
            Ok(n) => n,
            Err(e) => {
                let error = s3_proto::TransportError::new(
                    s3_proto::TransportErrorKind::Body,
                    format!("reading the upload source failed: {e}"),
                );
                return Err(self.fail(error.with_source(e).into()));
            }
        };
        if n == 0 {
            return match self.guard.finish() {
                Err(e) => Err(self.fail(e)),
                Ok(_) => Ok(0),
            };
        }
        self.guard
            .update(&buf[..n])
            .map_err(|e| self.fail(e))
            .map(|()| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_sources_are_reported() {
        let mut src: &[u8] = b"abc";
        let mut r = SourceReader::new(&mut src, 5);
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(r.check().is_err());
        let mut src: &[u8] = b"abcdef";
        let mut r = SourceReader::new(&mut src, 4);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
    }
}
