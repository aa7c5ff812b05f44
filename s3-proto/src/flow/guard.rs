//! The one check every body goes through, in every runtime: it has exactly the length it
//! promised, and (when the ETag is a plain MD5) the bytes the server stored.
//!
//! A runtime's readers and streams feed each chunk to a [`BodyGuard`] before handing it on
//! and call [`BodyGuard::finish`] at the end of the body; a request body's reader does the
//! same with a guard made by [`BodyGuard::request`].
//!
//! ```
//! use s3_proto::flow::guard::BodyGuard;
//!
//! let mut guard = BodyGuard::response(Some(5));
//! guard.update(b"hel")?;
//! assert!(guard.update(b"lo!").is_err(), "longer than announced");
//! let mut guard = BodyGuard::response(Some(5));
//! guard.update(b"hel")?;
//! assert!(guard.finish().is_err(), "ended early");
//! # Ok::<(), s3_proto::Error>(())
//! ```

use crate::error::{Error, ResponseError, TransportError, TransportErrorKind};
use crate::integrity::Md5;
use crate::ops::ObjectHead;

/// Which way the body flows, which says whose fault a wrong length is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// From the server: short is a truncated reply, long a malformed one.
    Response,
    /// From the caller's source: short means the source broke its promise.
    Request,
}

/// Counts a body against its announced length and hashes it when its MD5 can be checked.
#[derive(Debug, Clone)]
pub struct BodyGuard {
    direction: Direction,
    expected: Option<u64>,
    received: u64,
    /// The digest so far and the (quoted) ETag it must match.
    md5: Option<(Md5, String)>,
}

impl BodyGuard {
    /// A response body of `expected` bytes (its `Content-Length`, when sent).
    pub fn response(expected: Option<u64>) -> Self {
        BodyGuard {
            direction: Direction::Response,
            expected,
            received: 0,
            md5: None,
        }
    }

    /// A request body that must yield exactly `length` bytes from the caller's source.
    pub fn request(length: u64) -> Self {
        BodyGuard {
            direction: Direction::Request,
            ..BodyGuard::response(Some(length))
        }
    }

    /// The whole body of the object `head` describes: its length, and its MD5 when the ETag
    /// is a plain one (see [`crate::integrity::expected_md5`]).
    pub fn object(head: &ObjectHead) -> Self {
        let guard = BodyGuard::response(head.content_length);
        match (&head.etag, crate::integrity::expected_md5(head)) {
            (Some(etag), Some(_)) => guard.md5(etag.clone()),
            _ => guard,
        }
    }

    /// Also checks the body's MD5 against the plain `etag` (quoted or not).
    pub fn md5(mut self, etag: String) -> Self {
        self.md5 = Some((Md5::new(), etag));
        self
    }

    /// True when the body's MD5 is checked.
    pub fn checks_md5(&self) -> bool {
        self.md5.is_some()
    }

    /// Bytes accepted so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Bytes still expected, when the length is known.
    pub fn remaining(&self) -> Option<u64> {
        self.expected.map(|e| e.saturating_sub(self.received))
    }

    /// Checks that `len` more bytes fit, without taking them (for a writer that must not
    /// write past its place).
    ///
    /// # Errors
    /// [`ResponseError::LengthMismatch`] when they would run past the announced length.
    pub fn admit(&self, len: usize) -> Result<(), Error> {
        let total = self.received.saturating_add(len as u64);
        match self.expected {
            Some(expected) if total > expected => Err(ResponseError::LengthMismatch {
                expected,
                actual: total,
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Takes the next chunk.
    ///
    /// # Errors
    /// As [`BodyGuard::admit`]; the chunk is then not counted.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.admit(chunk.len())?;
        self.received += chunk.len() as u64;
        if let Some((md5, _)) = self.md5.as_mut() {
            md5.update(chunk);
        }
        Ok(())
    }

    /// The body ended: checks its length and MD5.
    ///
    /// # Errors
    /// A [`TransportErrorKind::Truncated`] error for a response that ended early, a
    /// [`TransportErrorKind::Body`] one for a request source that did;
    /// [`ResponseError::ChecksumMismatch`] when the MD5 differs from the ETag.
    pub fn finish(&mut self) -> Result<(), Error> {
        if let Some(expected) = self.expected.filter(|&e| self.received < e) {
            let (kind, what) = match self.direction {
                Direction::Response => (TransportErrorKind::Truncated, "body ended"),
                Direction::Request => (TransportErrorKind::Body, "upload source ended"),
            };
            let message = format!("{what} after {} of {expected} bytes", self.received);
            return Err(TransportError::new(kind, message).into());
        }
        match self.md5.take() {
            Some((md5, etag)) => {
                let expected = etag.trim_matches('"').to_owned();
                crate::integrity::compare_md5(&expected, &etag, md5)
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_digests_are_checked() {
        let mut g = BodyGuard::request(4);
        g.update(b"ab").unwrap();
        let e = g.finish().unwrap_err();
        assert!(matches!(e, Error::Transport(ref t) if t.kind() == TransportErrorKind::Body));

        let head = ObjectHead {
            content_length: Some(5),
            etag: Some("\"5d41402abc4b2a76b9719d911017c592\"".to_owned()),
            ..ObjectHead::default()
        };
        let mut g = BodyGuard::object(&head);
        assert!(g.checks_md5());
        g.update(b"hello").unwrap();
        g.finish().unwrap();
        let mut g = BodyGuard::object(&head);
        g.update(b"jello").unwrap();
        assert!(matches!(
            g.finish(),
            Err(Error::Response(ResponseError::ChecksumMismatch { .. }))
        ));
        let mut g = BodyGuard::response(None);
        g.update(&[0; 100]).unwrap();
        g.finish().unwrap();
        assert_eq!(g.remaining(), None);
        let g = BodyGuard::response(Some(3));
        assert!(g.admit(4).is_err());
        assert!(g.admit(3).is_ok());
    }
}
