//! One in-order digest for the ranges of a download that arrive in any order.
//!
//! An object's digest (its ETag) covers its bytes in order, but a download fetches ranges side
//! by side. [`Ordered`] takes each chunk as it is written to the destination: the chunk at the
//! frontier is hashed at once, from memory, by the job that wrote it; a chunk beyond the
//! frontier is only noted, and when the gap before it fills, the job that fills it reads the
//! noted bytes back from the destination (still in the page cache) and hashes them. Ranges
//! are thus hashed as contiguous prefixes complete: no pass over the file at the end, and no
//! memory held for ranges that finish early.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{Error, TransportError, TransportErrorKind};
use crate::integrity::{ObjectDigest, Verification};

/// Fills a buffer with the destination's bytes at an offset (the runtime's file IO).
pub type ReadBack<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), Error> + 'a;

/// Bytes read back from the destination at a time.
const READ_BACK: usize = 1 << 20;

/// A shared in-order digest over one download (clones share it).
#[derive(Debug, Clone)]
pub struct Ordered {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// The digest; `None` while a job is hashing outside the lock, or after reading back
    /// failed.
    digest: Option<ObjectDigest>,
    /// Bytes before this offset are hashed or being hashed.
    frontier: u64,
    /// Spans written beyond the frontier and not hashed yet: offset → length.
    pending: BTreeMap<u64, u64>,
    /// Why the digest was lost, when reading back failed.
    broken: Option<String>,
}

impl Ordered {
    /// An empty digest of the body `digest` describes.
    pub fn new(digest: ObjectDigest) -> Self {
        let state = State {
            digest: Some(digest),
            frontier: 0,
            pending: BTreeMap::new(),
            broken: None,
        };
        Ordered {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `chunk`, just written at `offset` of the destination: hashes it now when it is
    /// next in order, notes it otherwise. Bytes this makes contiguous are read back with
    /// `read_back(offset, buffer)`, which fills the whole buffer from the destination.
    ///
    /// # Errors
    /// What `read_back` failed with; the download then fails when judged.
    pub fn push(
        &self,
        offset: u64,
        chunk: &[u8],
        read_back: &mut ReadBack<'_>,
    ) -> Result<(), Error> {
        if chunk.is_empty() {
            return Ok(());
        }
        let mut state = self.lock();
        let digest = match state.digest.take() {
            Some(digest) if offset == state.frontier => digest,
            taken => {
                state.digest = taken;
                state.pending.insert(offset, chunk.len() as u64);
                return Ok(());
            }
        };
        state.frontier += chunk.len() as u64;
        drop(state);
        let mut digest = digest;
        digest.update(chunk);
        let mut buffer = Vec::new();
        loop {
            let mut state = self.lock();
            let at = state.frontier;
            let Some(len) = state.pending.remove(&at) else {
                state.digest = Some(digest);
                return Ok(());
            };
            state.frontier += len;
            drop(state);
            if let Err(e) = hash_back(&mut digest, at, len, &mut buffer, read_back) {
                self.lock().broken = Some(e.to_string());
                return Err(e);
            }
        }
    }

    /// Bytes hashed (or being hashed) from the start of the object.
    pub fn frontier(&self) -> u64 {
        self.lock().frontier
    }

    /// Judges the whole object of `size` bytes, once every range is written.
    ///
    /// # Errors
    /// [`crate::ResponseError::ChecksumMismatch`] when the bytes are not the ETag's; a
    /// transport error when reading back failed; an internal error when bytes are missing.
    pub fn finish(&self, size: u64) -> Result<Verification, Error> {
        let mut state = self.lock();
        if let Some(why) = state.broken.take() {
            let message = format!("reading the download back to verify it failed: {why}");
            return Err(TransportError::new(TransportErrorKind::Io, message).into());
        }
        match state.digest.take() {
            Some(digest) if state.frontier == size && state.pending.is_empty() => digest.finish(),
            _ => Err(super::unexpected()),
        }
    }
}

/// Reads `len` bytes at `at` back from the destination into `digest`.
fn hash_back(
    digest: &mut ObjectDigest,
    mut at: u64,
    len: u64,
    buffer: &mut Vec<u8>,
    read_back: &mut ReadBack<'_>,
) -> Result<(), Error> {
    let end = at + len;
    while at < end {
        let n = usize::try_from(end - at).map_or(READ_BACK, |n| n.min(READ_BACK));
        buffer.resize(n, 0);
        read_back(at, buffer)?;
        digest.update(buffer);
        at += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectHead;

    #[test]
    fn chunks_in_any_order_hash_in_order() {
        let head = ObjectHead {
            etag: Some("\"5d41402abc4b2a76b9719d911017c592\"".into()),
            content_length: Some(5),
            ..ObjectHead::default()
        };
        let file = b"hello";
        let mut read = |at: u64, out: &mut [u8]| {
            let at = usize::try_from(at).unwrap();
            out.copy_from_slice(&file[at..at + out.len()]);
            Ok(())
        };
        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap());
        ordered.push(3, b"lo", &mut read).unwrap();
        ordered.push(3, b"", &mut read).unwrap();
        ordered.push(1, b"el", &mut read).unwrap();
        assert_eq!(ordered.frontier(), 0);
        ordered.push(0, b"h", &mut read).unwrap();
        assert_eq!(ordered.frontier(), 5);
        assert_eq!(ordered.finish(5).unwrap(), Verification::Md5);

        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap());
        ordered.push(0, b"hel", &mut read).unwrap();
        assert!(ordered.finish(5).is_err(), "incomplete");

        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap());
        ordered.push(2, b"llo", &mut read).unwrap();
        let mut broken = |_: u64, _: &mut [u8]| -> Result<(), Error> {
            Err(TransportError::new(TransportErrorKind::Io, "gone").into())
        };
        assert!(ordered.push(0, b"he", &mut broken).is_err());
        assert!(ordered.finish(5).unwrap_err().to_string().contains("gone"));
    }
}
