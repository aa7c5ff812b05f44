//! Reading a streamed object body.

use std::io::{self, Read};

/// A reader over an object's body that fails, rather than ending quietly, when the
/// connection delivers fewer bytes than `Content-Length` announced.
pub struct ObjectReader {
    inner: Option<Box<dyn Read + Send>>,
    expected: Option<u64>,
    read: u64,
}

impl std::fmt::Debug for ObjectReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectReader")
            .field("expected", &self.expected)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl ObjectReader {
    pub(crate) fn new(inner: impl Read + Send + 'static, expected: Option<u64>) -> Self {
        ObjectReader {
            inner: Some(Box::new(inner)),
            expected,
            read: 0,
        }
    }

    pub(crate) fn empty() -> Self {
        ObjectReader {
            inner: None,
            expected: Some(0),
            read: 0,
        }
    }

    /// Bytes the server announced, when it did.
    pub fn expected_len(&self) -> Option<u64> {
        self.expected
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(0);
        };
        let n = inner.read(buf)?;
        self.read += n as u64;
        match self.expected {
            Some(expected) if n == 0 && self.read < expected => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("body ended after {} of {expected} bytes", self.read),
            )),
            Some(expected) if self.read > expected => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("body longer than the announced {expected} bytes"),
            )),
            _ => Ok(n),
        }
    }
}
