//! One in-order digest for the ranges of a download that arrive in any order.
//!
//! An object's digest (its ETag) covers its bytes in order, but a download fetches ranges side
//! by side. [`Ordered`] takes each chunk as it is written: the chunk at the frontier is hashed
//! at once by the job that wrote it, and any chunk beyond the frontier is kept until the gap
//! before it is filled, then hashed by the job that fills it. There is no second pass over the
//! destination; memory held is bounded by how far beyond the frontier the flow lets ranges
//! start ([`Ordered::frontier`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::Error;
use crate::integrity::{ObjectDigest, Verification};

/// A shared in-order digest over one download (clones share it).
#[derive(Debug, Clone)]
pub struct Ordered {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// The digest; `None` while a job is hashing outside the lock.
    digest: Option<ObjectDigest>,
    /// Bytes before this offset are hashed or being hashed.
    frontier: u64,
    /// Chunks beyond the frontier, by offset.
    pending: BTreeMap<u64, Vec<u8>>,
}

impl Ordered {
    /// An empty digest of the body `digest` describes.
    pub fn new(digest: ObjectDigest) -> Self {
        let state = State {
            digest: Some(digest),
            frontier: 0,
            pending: BTreeMap::new(),
        };
        Ordered {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `chunk`, written at `offset` of the object: hashes it now when it is next in
    /// order (and whatever it makes contiguous), keeps a copy otherwise.
    pub fn push(&self, offset: u64, chunk: &[u8]) {
        if chunk.is_empty() {
            // Nothing to hash, and it must not take the place of the chunk that starts there.
            return;
        }
        let mut state = self.lock();
        if offset != state.frontier || state.digest.is_none() {
            state.pending.insert(offset, chunk.to_vec());
            return;
        }
        let Some(mut digest) = state.digest.take() else {
            return;
        };
        state.frontier += chunk.len() as u64;
        drop(state);
        digest.update(chunk);
        loop {
            let mut state = self.lock();
            let frontier = state.frontier;
            match state.pending.remove(&frontier) {
                Some(next) => {
                    state.frontier += next.len() as u64;
                    drop(state);
                    digest.update(&next);
                }
                None => {
                    state.digest = Some(digest);
                    return;
                }
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
    /// [`crate::ResponseError::ChecksumMismatch`] when the bytes are not the ETag's; an
    /// internal error when bytes are missing.
    pub fn finish(&self, size: u64) -> Result<Verification, Error> {
        let mut state = self.lock();
        match state.digest.take() {
            Some(digest) if state.frontier == size && state.pending.is_empty() => digest.finish(),
            _ => Err(super::unexpected()),
        }
    }
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
        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap());
        ordered.push(3, b"lo");
        ordered.push(3, b"");
        ordered.push(1, b"el");
        assert_eq!(ordered.frontier(), 0);
        ordered.push(0, b"h");
        assert_eq!(ordered.frontier(), 5);
        assert_eq!(ordered.finish(5).unwrap(), Verification::Md5);

        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap());
        ordered.push(0, b"hel");
        assert!(ordered.finish(5).is_err(), "incomplete");
    }
}
