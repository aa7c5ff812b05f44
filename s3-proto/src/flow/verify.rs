//! The digest of a download whose ranges arrive in any order.
//!
//! An object's digest (its ETag) covers its bytes in order, but a download fetches ranges side
//! by side. [`Ordered`] takes each chunk as it is written to the destination: the chunk at a
//! frontier is hashed at once, from memory, by the job that wrote it; a chunk beyond it is only
//! noted, and when the gap before it fills, the job that fills it reads the noted bytes back
//! from the destination (still in the page cache) and hashes them. No pass over the file at
//! the end, and no memory held for ranges that finish early.
//!
//! A single-part object has one frontier: its MD5 is one stream. A multipart object can have
//! one per part, cut at its most likely part size, each part's MD5 computed on its own, side
//! by side, and the ETag rebuilt from them at the end; downloads cut along part boundaries
//! (the default 8 MiB ranges of an object uploaded in 8 MiB parts) never read anything back.
//!
//! A stored `FULL_OBJECT` CRC needs no order at all: each range's CRC is computed on its own
//! (one segment per range) and the object's is combined from them at the end, so nothing is
//! ever read back.
//!
//! A digest cannot be saved, so a resumed download notes the spans an earlier process wrote
//! ([`Ordered::written`]) and the first chunk written afterwards reads them back from the
//! partial file and hashes them: a local read, no network.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::checksum::{Checksum, Hasher};
use crate::error::{Error, TransportError, TransportErrorKind};
use crate::integrity::{Md5, ObjectDigest, Verification};

/// Fills a buffer with the destination's bytes at an offset (the runtime's file IO).
pub type ReadBack<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), Error> + 'a;

/// The most segments of an object judged by its stored CRC (a multipart object has at most
/// 10,000 parts, so as many MD5 segments).
const MAX_SEGMENTS: u64 = 10_000;
/// Bytes read back from the destination at a time.
const READ_BACK: usize = 1 << 20;

/// A shared digest over one download (clones share it).
#[derive(Debug, Clone)]
pub struct Ordered {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    /// Consecutive spans of the object, each hashed in order on its own.
    segments: Vec<Segment>,
    /// Bytes per segment (the last may be shorter).
    segment_len: u64,
    /// The object's digest, judging the parts' MD5s or the segments' combined CRC at the end.
    outer: Option<ObjectDigest>,
    /// Why a digest was lost, when reading back failed.
    broken: Option<String>,
    /// Spans noted by [`Ordered::written`] may be next in order with no job writing there.
    stale: bool,
}

#[derive(Debug)]
struct Segment {
    /// The digest; `None` while a job is hashing outside the lock, or after reading back
    /// failed.
    digest: Option<Digest>,
    /// Bytes of the object before this offset are hashed or being hashed.
    frontier: u64,
    /// Spans written beyond the frontier and not hashed yet: offset → length.
    pending: BTreeMap<u64, u64>,
}

#[derive(Debug)]
enum Digest {
    /// The whole object, in order (boxed: a multipart object has many parts and no whole).
    Whole(Box<ObjectDigest>),
    /// One part of a multipart object.
    Part(Md5),
    /// One span of an object judged by its stored CRC.
    Crc(Hasher),
}

impl Digest {
    fn update(&mut self, data: &[u8]) {
        match self {
            Digest::Whole(d) => d.update(data),
            Digest::Part(d) => d.update(data),
            Digest::Crc(d) => d.update(data),
        }
    }
}

impl Ordered {
    /// An empty digest of the `size`-byte body `digest` describes, fetched in ranges of
    /// `ranges` bytes: side by side when it can be (one segment per part of a multipart
    /// object, cut at its most likely part size; one per range under a stored CRC), else
    /// one stream; `None` asks for one stream.
    pub fn new(digest: ObjectDigest, size: u64, ranges: Option<u64>) -> Self {
        let ranges = ranges.filter(|&r| r > 0 && size > 0);
        let per_part = digest.part_size().filter(|&p| p > 0 && ranges.is_some());
        // Whole ranges per segment, few enough segments for any object size.
        let crc_len = ranges.map(|r| r.saturating_mul(size.div_ceil(r).div_ceil(MAX_SEGMENTS)));
        let crc = digest.combinable().zip(crc_len);
        let segments = |len: u64, digest: &dyn Fn() -> Digest| {
            (0..size.div_ceil(len))
                .map(|i| Segment::new(i * len, digest()))
                .collect()
        };
        let state = match (per_part, crc) {
            (Some(part), _) => State {
                segments: segments(part, &|| Digest::Part(Md5::new())),
                segment_len: part,
                outer: Some(digest),
                broken: None,
                stale: false,
            },
            (None, Some((algorithm, len))) => State {
                segments: segments(len, &|| Digest::Crc(Hasher::new(algorithm))),
                segment_len: len,
                outer: Some(digest),
                broken: None,
                stale: false,
            },
            (None, None) => State {
                segments: vec![Segment::new(0, Digest::Whole(Box::new(digest)))],
                segment_len: u64::MAX,
                outer: None,
                broken: None,
                stale: false,
            },
        };
        Ordered {
            state: Arc::new(Mutex::new(state)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `chunk`, just written at `offset` of the destination: hashes what is next in
    /// order now, notes the rest. Bytes this makes contiguous are read back with
    /// `read_back(offset, buffer)`, which fills the whole buffer from the destination.
    ///
    /// # Errors
    /// What `read_back` failed with; the download then fails when judged.
    pub fn push(
        &self,
        mut offset: u64,
        mut chunk: &[u8],
        read_back: &mut ReadBack<'_>,
    ) -> Result<(), Error> {
        let (segment_len, stale) = {
            let state = self.lock();
            (state.segment_len, state.stale)
        };
        if stale {
            self.catch_up(read_back)?;
        }
        while !chunk.is_empty() {
            let index = usize::try_from(offset / segment_len).unwrap_or(usize::MAX);
            let end = (offset / segment_len)
                .saturating_add(1)
                .saturating_mul(segment_len);
            let take = usize::try_from(end - offset).map_or(chunk.len(), |n| n.min(chunk.len()));
            self.push_into(index, offset, &chunk[..take], read_back)?;
            offset += take as u64;
            chunk = &chunk[take..];
        }
        Ok(())
    }

    /// [`Ordered::push`] for a chunk within segment `index`.
    fn push_into(
        &self,
        index: usize,
        offset: u64,
        chunk: &[u8],
        read_back: &mut ReadBack<'_>,
    ) -> Result<(), Error> {
        let mut state = self.lock();
        let Some(segment) = state.segments.get_mut(index) else {
            return Ok(());
        };
        let mut digest = match segment.digest.take() {
            Some(digest) if offset == segment.frontier => digest,
            taken => {
                segment.digest = taken;
                segment.pending.insert(offset, chunk.len() as u64);
                return Ok(());
            }
        };
        segment.frontier += chunk.len() as u64;
        drop(state);
        digest.update(chunk);
        self.drain(index, digest, read_back)
    }

    /// Hashes the noted spans of segment `index` that are next in order (reading them back),
    /// then puts its `digest` back.
    fn drain(
        &self,
        index: usize,
        mut digest: Digest,
        read_back: &mut ReadBack<'_>,
    ) -> Result<(), Error> {
        let mut buffer = Vec::new();
        loop {
            let mut state = self.lock();
            let Some(segment) = state.segments.get_mut(index) else {
                return Ok(());
            };
            let at = segment.frontier;
            let Some(len) = segment.pending.remove(&at) else {
                segment.digest = Some(digest);
                return Ok(());
            };
            segment.frontier += len;
            drop(state);
            if let Err(e) = hash_back(&mut digest, at, len, &mut buffer, read_back) {
                self.lock().broken = Some(e.to_string());
                return Err(e);
            }
        }
    }

    /// Notes `len` bytes at `offset` as already in the destination (written by an earlier
    /// process): they are read back and hashed when next in order, at the latest by the next
    /// [`Ordered::push`].
    pub fn written(&self, mut offset: u64, len: u64) {
        let mut state = self.lock();
        let end = offset.saturating_add(len);
        let segment_len = state.segment_len;
        while offset < end {
            let index = usize::try_from(offset / segment_len).unwrap_or(usize::MAX);
            let boundary = (offset / segment_len)
                .saturating_add(1)
                .saturating_mul(segment_len);
            let next = boundary.min(end);
            if let Some(segment) = state.segments.get_mut(index) {
                segment.pending.insert(offset, next - offset);
            }
            offset = next;
        }
        state.stale = true;
    }

    /// Hashes every noted span that is next in order in its segment, once after
    /// [`Ordered::written`] (one job does it; the others' chunks wait as usual).
    fn catch_up(&self, read_back: &mut ReadBack<'_>) -> Result<(), Error> {
        let count = {
            let mut state = self.lock();
            if !std::mem::take(&mut state.stale) {
                return Ok(());
            }
            state.segments.len()
        };
        for index in 0..count {
            let digest = {
                let mut state = self.lock();
                let Some(segment) = state.segments.get_mut(index) else {
                    break;
                };
                if !segment.pending.contains_key(&segment.frontier) {
                    continue;
                }
                match segment.digest.take() {
                    Some(digest) => digest,
                    // A job is hashing this segment: it drains what follows itself.
                    None => continue,
                }
            };
            self.drain(index, digest, read_back)?;
        }
        Ok(())
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
        let segment_len = state.segment_len;
        let count = state.segments.len() as u64;
        let mut parts = Vec::with_capacity(state.segments.len());
        let (mut whole, mut crc) = (None, None::<Checksum>);
        for (i, segment) in state.segments.iter_mut().enumerate() {
            let end = (i as u64 + 1).saturating_mul(segment_len).min(size);
            if segment.frontier != end || !segment.pending.is_empty() {
                return Err(super::unexpected());
            }
            match segment.digest.take() {
                Some(Digest::Part(md5)) => parts.push(md5.digest()),
                Some(Digest::Whole(digest)) if count == 1 => whole = Some(digest),
                Some(Digest::Crc(hasher)) => {
                    let len = hasher.len();
                    let next = hasher.finish();
                    crc = Some(match crc {
                        Some(sum) => sum.combine(&next, len)?,
                        None => next,
                    });
                }
                _ => return Err(super::unexpected()),
            }
        }
        match (whole, state.outer.take(), crc) {
            (Some(digest), None, None) => (*digest).finish(),
            (None, Some(outer), Some(crc)) => outer.finish_checksum(&crc),
            (None, Some(outer), None) => outer.finish_parts(&parts),
            _ => Err(super::unexpected()),
        }
    }
}

impl Segment {
    fn new(start: u64, digest: Digest) -> Self {
        Segment {
            digest: Some(digest),
            frontier: start,
            pending: BTreeMap::new(),
        }
    }
}

/// Reads `len` bytes at `at` back from the destination into `digest`.
fn hash_back(
    digest: &mut Digest,
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
        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap(), 5, Some(5));
        ordered.push(3, b"lo", &mut read).unwrap();
        ordered.push(3, b"", &mut read).unwrap();
        ordered.push(1, b"el", &mut read).unwrap();
        ordered.push(0, b"h", &mut read).unwrap();
        assert_eq!(ordered.finish(5).unwrap(), Verification::Md5);

        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap(), 5, Some(5));
        ordered.push(0, b"hel", &mut read).unwrap();
        assert!(ordered.finish(5).is_err(), "incomplete");

        let ordered = Ordered::new(ObjectDigest::of(&head, "b/k").unwrap(), 5, Some(5));
        ordered.push(2, b"llo", &mut read).unwrap();
        let mut broken = |_: u64, _: &mut [u8]| -> Result<(), Error> {
            Err(TransportError::new(TransportErrorKind::Io, "gone").into())
        };
        assert!(ordered.push(0, b"he", &mut broken).is_err());
        assert!(ordered.finish(5).unwrap_err().to_string().contains("gone"));
    }

    #[test]
    fn parts_of_a_multipart_object_hash_side_by_side() {
        // 2 MiB + 1 byte in parts of 1 MiB: the only whole-MiB cut of 3 parts.
        let body: Vec<u8> = (0..(2u32 << 20) + 1).map(|i| (i % 253) as u8).collect();
        let mut of_parts = Md5::new();
        for part in body.chunks(1 << 20) {
            let mut md5 = Md5::new();
            md5.update(part);
            of_parts.update(&md5.digest());
        }
        let head = ObjectHead {
            etag: Some(format!("\"{}-3\"", of_parts.hex())),
            content_length: Some(body.len() as u64),
            ..ObjectHead::default()
        };
        let digest = ObjectDigest::of(&head, "b/k").unwrap();
        assert_eq!(digest.part_size(), Some(1 << 20));
        let ordered = Ordered::new(digest, body.len() as u64, Some(700_000));
        let mut reads = 0;
        let mut read = |at: u64, out: &mut [u8]| {
            reads += 1;
            let at = usize::try_from(at).unwrap();
            out.copy_from_slice(&body[at..at + out.len()]);
            Ok(())
        };
        // Ranges of 700,000 bytes, last first: they straddle part boundaries.
        let ranges: Vec<(usize, &[u8])> = body
            .chunks(700_000)
            .enumerate()
            .map(|(i, c)| (i * 700_000, c))
            .collect();
        for (at, range) in ranges.iter().rev() {
            for (j, chunk) in range.chunks(65_536).enumerate() {
                ordered
                    .push((at + j * 65_536) as u64, chunk, &mut read)
                    .unwrap();
            }
        }
        assert!(
            reads > 0,
            "ranges ahead of a part's frontier were read back"
        );
        assert_eq!(
            ordered.finish(body.len() as u64).unwrap(),
            Verification::MultipartEtag {
                parts: 3,
                part_size: 1 << 20
            }
        );
    }

    #[test]
    fn a_stored_crc_is_combined_from_ranges_in_any_order() {
        use crate::checksum::{ChecksumAlgorithm, ChecksumType, ObjectChecksum};
        let body: Vec<u8> = (0..3_000_001u32).map(|i| (i % 251) as u8).collect();
        let alg = ChecksumAlgorithm::Crc32c;
        let head = ObjectHead {
            etag: Some("\"5d41402abc4b2a76b9719d911017c592\"".into()),
            content_length: Some(body.len() as u64),
            checksum: Some(ObjectChecksum::full_object(Checksum::compute(alg, &body))),
            ..ObjectHead::default()
        };
        let run = |body: &[u8]| {
            let digest = ObjectDigest::of(&head, "b/k").unwrap();
            assert_eq!(digest.combinable(), Some(alg));
            let ordered = Ordered::new(digest, body.len() as u64, Some(1 << 20));
            let mut never = |_: u64, _: &mut [u8]| -> Result<(), Error> {
                panic!("nothing is read back under a stored CRC")
            };
            let ranges: Vec<_> = body.chunks(1 << 20).enumerate().collect();
            for (i, range) in ranges.into_iter().rev() {
                for (j, chunk) in range.chunks(65_536).enumerate() {
                    let at = (i << 20) + j * 65_536;
                    ordered.push(at as u64, chunk, &mut never).unwrap();
                }
            }
            ordered.finish(body.len() as u64)
        };
        let verified = Verification::Checksum {
            algorithm: alg,
            checksum_type: ChecksumType::FullObject,
        };
        assert_eq!(run(&body).unwrap(), verified);
        let mut bad = body.clone();
        bad[2_500_000] ^= 1;
        assert!(run(&bad).is_err());
    }
}
