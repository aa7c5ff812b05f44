//! The one check every body goes through, in every runtime: it has exactly the length it
//! promised, and (when its digest is known, see [`crate::integrity`]) the bytes the server
//! stored.
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
use crate::integrity::{BodyCheck, Integrity, Unverified, Verification};
use crate::ops::ObjectHead;

/// Which way the body flows, which says whose fault a wrong length is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// From the server: short is a truncated reply, long a malformed one.
    Response,
    /// From the caller's source: short means the source broke its promise.
    Request,
}

/// Counts a body against its announced length and hashes it when its digest can be checked.
#[derive(Debug, Clone)]
pub struct BodyGuard {
    direction: Direction,
    expected: Option<u64>,
    received: u64,
    /// The digest being computed, or the verification to report without one (boxed: most
    /// bodies have none, and the guard travels inside every body type).
    check: Option<Box<BodyCheck>>,
    /// The verdict, once the body ended well.
    verified: Option<Verification>,
}

impl BodyGuard {
    /// A response body of `expected` bytes (its `Content-Length`, when sent).
    pub fn response(expected: Option<u64>) -> Self {
        BodyGuard {
            direction: Direction::Response,
            expected,
            received: 0,
            check: None,
            verified: None,
        }
    }

    /// A request body that must yield exactly `length` bytes from the caller's source.
    pub fn request(length: u64) -> Self {
        BodyGuard {
            direction: Direction::Request,
            ..BodyGuard::response(Some(length))
        }
    }

    /// The whole body of the object `head` describes (`object` names it in errors): its
    /// length, and its digest when one is known.
    pub fn object(head: &ObjectHead, object: &str, integrity: Integrity) -> Self {
        BodyGuard::response(head.content_length)
            .checked(Some(BodyCheck::new(head, object, integrity)))
    }

    /// Also verifies the body as `check` says (see [`crate::op::Operation::body_check`]).
    pub fn checked(mut self, check: Option<BodyCheck>) -> Self {
        self.check = check.map(Box::new);
        self
    }

    /// True when the body's digest is computed.
    pub fn hashes(&self) -> bool {
        self.check.as_ref().is_some_and(|c| c.hashes())
    }

    /// How the body was verified, once [`BodyGuard::finish`] succeeded on an object body.
    pub fn verification(&self) -> Option<Verification> {
        self.verified
    }

    /// [`BodyGuard::verification`] of a body read to its end: a body with nothing to check
    /// it against counts as unverified (no ETag).
    pub fn verdict(&self) -> crate::integrity::Verification {
        self.verification()
            .unwrap_or(crate::integrity::Verification::Unverified(
                crate::integrity::Unverified::NoEtag,
            ))
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
        if let Some(check) = self.check.as_mut() {
            check.update(chunk);
        }
        Ok(())
    }

    /// The body ended: checks its length and digest, and says how it was verified (for a
    /// body that is no object's, [`Unverified::UnknownEtag`]).
    ///
    /// # Errors
    /// A [`TransportErrorKind::Truncated`] error for a response that ended early, a
    /// [`TransportErrorKind::Body`] one for a request source that did;
    /// [`ResponseError::ChecksumMismatch`] when the digest differs from the ETag.
    pub fn finish(&mut self) -> Result<Verification, Error> {
        if let Some(expected) = self.expected.filter(|&e| self.received < e) {
            let (kind, what) = match self.direction {
                Direction::Response => (TransportErrorKind::Truncated, "body ended"),
                Direction::Request => (TransportErrorKind::Body, "upload source ended"),
            };
            let message = format!("{what} after {} of {expected} bytes", self.received);
            return Err(TransportError::new(kind, message).into());
        }
        let verified = match self.check.take() {
            Some(check) => (*check).finish()?,
            None => Verification::Unverified(Unverified::UnknownEtag),
        };
        self.verified = Some(verified);
        Ok(verified)
    }
}

/// The accessors of a runtime's object body (a struct with a `guard: BodyGuard` field),
/// written once for both runtimes: `expected_len`, `bytes_read`, `verification`, `verdict`.
#[doc(hidden)]
#[macro_export]
macro_rules! body_accessors {
    ($what:literal) => {
        /// Bytes the server announced, when it did.
        pub fn expected_len(&self) -> Option<u64> {
            self.guard.remaining().map(|r| r + self.guard.received())
        }

        /// Bytes read so far.
        pub fn bytes_read(&self) -> u64 {
            self.guard.received()
        }

        #[doc = concat!("How the object's bytes were verified, once the ", $what, " reached the end.")]
        pub fn verification(&self) -> Option<$crate::integrity::Verification> {
            self.guard.verification()
        }

        #[doc = concat!("How the object's bytes were verified, once the ", $what, " reached the end: nothing to check them against counts as unverified.")]
        pub fn verdict(&self) -> $crate::integrity::Verification {
            self.guard.verdict()
        }
    };
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
        let mut g = BodyGuard::object(&head, "b/k", Integrity::Verify);
        assert!(g.hashes());
        g.update(b"hello").unwrap();
        assert_eq!(g.finish().unwrap(), Verification::Md5);
        assert_eq!(g.verification(), Some(Verification::Md5));
        let mut g = BodyGuard::object(&head, "b/k", Integrity::Verify);
        g.update(b"jello").unwrap();
        assert!(matches!(
            g.finish(),
            Err(Error::Response(ResponseError::ChecksumMismatch { .. }))
        ));
        let mut g = BodyGuard::object(&head, "b/k", Integrity::Off);
        g.update(b"jello").unwrap();
        assert_eq!(
            g.finish().unwrap(),
            Verification::Unverified(Unverified::Off)
        );
        let mut g = BodyGuard::response(None);
        g.update(&[0; 100]).unwrap();
        g.finish().unwrap();
        assert_eq!(g.remaining(), None);
        let g = BodyGuard::response(Some(3));
        assert!(g.admit(4).is_err());
        assert!(g.admit(3).is_ok());
    }
}
