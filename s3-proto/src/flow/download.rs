//! Downloading a known-length object in ranges, all from one version.
//!
//! The runtime heads the object (or reads the first ranged GET), then asks for ranges. Every
//! ranged GET carries `If-Match` with the first ETag, so a concurrent overwrite fails the
//! download (412) instead of stitching two versions together; each reply's `Content-Range`
//! and ETag are checked too, for servers that ignore `If-Match`. The whole object's bytes
//! are verified against its ETag as the ranges arrive ([`super::verify::Ordered`]); after a
//! mismatch the object is fetched again within the retry policy ([`Rereads`]).
//!
//! ```
//! use s3_proto::flow::download::Download;
//! use s3_proto::ObjectHead;
//!
//! # let mut head = ObjectHead::default();
//! # head.content_length = Some(20 << 20); head.etag = Some("\"e\"".into());
//! // head = runtime.send(HeadObject::new(bucket, key))?;
//! let mut dl = Download::new("bucket".parse()?, "key".parse()?, &head, 8 << 20)?;
//! while let Some(slot) = dl.next_range() {
//!     let get = dl.get(&slot);
//!     // reply = runtime.send(get)?; dl.check(&slot, &reply_head)?;
//!     // then write exactly slot.len body bytes at slot.offset.
//! }
//! # Ok::<(), s3_proto::Error>(())
//! ```

use std::collections::VecDeque;

use super::progress::{ProgressCounter, ProgressFn};
use super::resume::{DownloadState, SaveFn};
use super::verify::Ordered;
use super::{Flow, Job, Reply, Sent, Step, Work};
use crate::error::{Error, InputError, ResponseError, TransportError, TransportErrorKind};
use crate::integrity::{ObjectDigest, Reread, Rereads, Verification};
use crate::name::{BucketName, ObjectKey};
use crate::object::{ByteRange, ObjectHead};
use crate::ops::{GetObject, HeadObject};
use crate::sorted::SortedMap;
use crate::sse::CustomerKey;

/// How a ranged download is cut and how much of it may be in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// Bytes per ranged GET (default 8 MiB). Objects no larger go in one GET.
    pub part_size: u64,
    /// Bytes of ranges in flight at once (default 64 MiB), at least one range.
    pub memory_budget: u64,
    /// Ask for the object's stored flexible checksum on the HeadObject
    /// (`x-amz-checksum-mode: ENABLED`; default on) and verify the bytes against it before
    /// the ETag. It costs no request: servers without checksums ignore the header.
    pub checksum_mode: bool,
    /// The key an SSE-C object was written with, sent on the HeadObject and every range
    /// (default none).
    pub sse_customer_key: Option<CustomerKey>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            part_size: 8 << 20,
            memory_budget: 64 << 20,
            checksum_mode: true,
            sse_customer_key: None,
        }
    }
}

impl DownloadOptions {
    /// Sets the range size.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// Sets the in-flight budget.
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// Asks for the stored checksum, or not.
    pub fn checksum_mode(mut self, enabled: bool) -> Self {
        self.checksum_mode = enabled;
        self
    }

    /// Reads an SSE-C object with the key it was written with.
    pub fn sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.sse_customer_key = Some(key);
        self
    }

    /// Ranges to keep in flight.
    pub fn concurrency(&self) -> usize {
        crate::flow::upload::concurrency(self.memory_budget, self.part_size)
    }
}

/// One range to fetch: bytes `offset..offset + len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeSlot {
    /// First byte.
    pub offset: u64,
    /// Bytes in the range (at least one).
    pub len: u64,
}

impl RangeSlot {
    /// What is left of this range once its first `done` bytes are written: the range a retry
    /// asks for, so an interrupted range resumes where it broke off. `None` when complete.
    pub fn after(&self, done: u64) -> Option<RangeSlot> {
        (done < self.len).then(|| RangeSlot {
            offset: self.offset + done,
            len: self.len - done,
        })
    }
}

/// Hands out the ranged GETs of one object version and checks their replies.
#[derive(Debug, Clone)]
pub struct Download {
    bucket: BucketName,
    key: ObjectKey,
    size: u64,
    etag: String,
    version_id: Option<String>,
    sse_customer: Option<CustomerKey>,
    part_size: u64,
    next: u64,
}

impl Download {
    /// Plans the download of the object `head` describes, in ranges of `part_size` bytes.
    ///
    /// # Errors
    /// [`ResponseError::MissingHeader`] when `head` lacks the length or the ETag (without it
    /// the ranges could not be pinned to one version); [`InputError::InvalidArgument`] for a
    /// zero part size.
    pub fn new(
        bucket: BucketName,
        key: ObjectKey,
        head: &ObjectHead,
        part_size: u64,
    ) -> Result<Self, Error> {
        if part_size == 0 {
            return Err(InputError::argument("part_size", "must be at least 1").into());
        }
        let (size, etag) = head.pinned()?;
        Ok(Download {
            bucket,
            key,
            size,
            etag,
            version_id: head.version_id.clone(),
            sse_customer: None,
            part_size,
            next: 0,
        })
    }

    /// Sends `key` with every range: the object is SSE-C encrypted under it.
    pub fn sse_customer_key(mut self, key: Option<CustomerKey>) -> Self {
        self.sse_customer = key;
        self
    }

    /// The object's length.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes in every range but the last.
    pub fn range_len(&self) -> u64 {
        self.part_size
    }

    /// The ETag every range must carry.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The next range; `None` once the whole object has been handed out (at once, for an
    /// empty object).
    pub fn next_range(&mut self) -> Option<RangeSlot> {
        if self.next >= self.size {
            return None;
        }
        let len = self.part_size.min(self.size - self.next);
        let slot = RangeSlot {
            offset: self.next,
            len,
        };
        self.next += len;
        Some(slot)
    }

    /// A GET of the whole object, pinned to the version first seen (and its SSE-C key).
    pub fn object(&self) -> GetObject {
        let get = GetObject::new(self.bucket.clone(), self.key.clone());
        let get = match &self.version_id {
            Some(v) => get.version_id(v.clone()),
            None => get,
        };
        match &self.sse_customer {
            Some(k) => get.sse_customer_key(k.clone()),
            None => get,
        }
    }

    /// The GET for `slot`, pinned to the version first seen.
    pub fn get(&self, slot: &RangeSlot) -> GetObject {
        let last = slot.offset + slot.len.max(1) - 1;
        self.object()
            .range(ByteRange::Inclusive {
                first: slot.offset,
                last,
            })
            .if_match(self.etag.clone())
    }

    /// Checks the reply to [`Download::get`] before its body is written: the range and total
    /// must be the ones asked for, and the ETag the pinned one.
    ///
    /// # Errors
    /// [`ResponseError::InvalidField`] naming the header that disagrees.
    pub fn check(&self, slot: &RangeSlot, head: &ObjectHead) -> Result<(), Error> {
        if head.etag.as_deref().is_some_and(|e| e != self.etag) {
            return Err(
                ResponseError::invalid("etag", "the object changed during the download").into(),
            );
        }
        let range_ok = match head.content_range {
            Some(r) => r.first == slot.offset && r.len() == slot.len && r.total == Some(self.size),
            // A server may answer a range covering the whole object with a plain 200.
            None => slot.offset == 0 && slot.len == self.size,
        };
        if !range_ok {
            return Err(ResponseError::invalid(
                "content-range",
                "the reply covers other bytes than were asked for",
            )
            .into());
        }
        if head.content_length.is_some_and(|n| n != slot.len) {
            return Err(ResponseError::invalid(
                "content-length",
                "the reply's length differs from the range",
            )
            .into());
        }
        Ok(())
    }
}

/// One range of a [`DownloadFlow`], fetched by the runtime into its place in the
/// destination, resumed where an attempt broke off.
///
/// Each attempt: [`RangeJob::get`] (none left: just [`RangeJob::end`]), send it,
/// [`RangeJob::begin`] with the reply's head, then for every body chunk
/// [`RangeJob::admit`], write it at [`RangeJob::position`], [`RangeJob::wrote`]; at the end
/// of the body [`RangeJob::end`]. An attempt that fails keeps what was written, so the
/// next one asks only for the rest. Every chunk written also feeds the object's in-order
/// digest, which the flow judges once every range is in.
#[derive(Debug, Clone)]
pub struct RangeJob {
    download: Download,
    slot: RangeSlot,
    done: u64,
    digest: Option<Ordered>,
}

impl RangeJob {
    fn new(download: Download, slot: RangeSlot, digest: Option<Ordered>) -> Self {
        RangeJob {
            download,
            slot,
            done: 0,
            digest,
        }
    }

    /// The whole range.
    pub fn slot(&self) -> RangeSlot {
        self.slot
    }

    /// The GET for what is left of the range; `None` once every byte is written.
    pub fn get(&self) -> Option<GetObject> {
        self.slot
            .after(self.done)
            .map(|rest| self.download.get(&rest))
    }

    /// Where the next byte goes in the destination.
    pub fn position(&self) -> u64 {
        self.slot.offset + self.done
    }

    /// Checks the reply to [`RangeJob::get`] before its body is written.
    ///
    /// # Errors
    /// As [`Download::check`].
    pub fn begin(&self, head: &ObjectHead) -> Result<(), Error> {
        match self.slot.after(self.done) {
            Some(rest) => self.download.check(&rest, head),
            None => Ok(()),
        }
    }

    /// Checks that a chunk of `len` bytes belongs to the range, before it is written.
    ///
    /// # Errors
    /// [`ResponseError::LengthMismatch`] when the body runs past the range.
    pub fn admit(&self, len: usize) -> Result<(), Error> {
        let total = self.done.saturating_add(len as u64);
        if total > self.slot.len {
            return Err(ResponseError::LengthMismatch {
                expected: self.slot.len,
                actual: total,
            }
            .into());
        }
        Ok(())
    }

    /// Records a chunk written at [`RangeJob::position`], and feeds it to the object's
    /// digest; `read_back(offset, buffer)` fills `buffer` from the destination at `offset`
    /// when earlier-written bytes of other ranges become next in order (see
    /// [`Ordered::push`]).
    ///
    /// # Errors
    /// What `read_back` failed with.
    pub fn wrote(
        &mut self,
        chunk: &[u8],
        mut read_back: impl FnMut(u64, &mut [u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let position = self.position();
        self.done += chunk.len() as u64;
        match &self.digest {
            Some(digest) => digest.push(position, chunk, &mut read_back),
            None => Ok(()),
        }
    }

    /// The attempt's body ended: checks the range is whole.
    ///
    /// # Errors
    /// A truncated-body transport error when bytes are missing.
    pub fn end(&mut self) -> Result<(), Error> {
        if self.done != self.slot.len {
            let message = format!("range ended after {} of {} bytes", self.done, self.slot.len);
            return Err(TransportError::new(TransportErrorKind::Truncated, message).into());
        }
        Ok(())
    }
}

/// Where a download to `target` writes until it is complete: a hidden file beside it, named
/// uniquely within the process `process` (renamed over `target` at the end, so a failed
/// download never leaves a partial file at `target`).
///
/// # Errors
/// An `InvalidInput` IO error when `target` has no file name.
pub fn temp_path(target: &std::path::Path, process: u32) -> std::io::Result<std::path::PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "target has no file name")
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".s3-rs-{process}-{n}.part"));
    Ok(dir.join(temp))
}

/// Where a resumable download to `target` keeps its bytes between processes: a hidden file
/// beside it (renamed over `target` once whole), the same for every process.
///
/// # Errors
/// An `InvalidInput` IO error when `target` has no file name.
pub fn partial_path(target: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "target has no file name")
    })?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(".s3-rs-resume.part");
    Ok(target.with_file_name(partial))
}

/// The spans of a `size`-byte object: none for an empty one, which needs no range.
fn whole(size: u64) -> VecDeque<(u64, u64)> {
    (size > 0).then_some((0, size)).into_iter().collect()
}

/// Where a [`DownloadFlow`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Heading,
    /// Asking each part's size (HeadObject with `partNumber`) before a re-read.
    Layout,
    Ranges,
    Finished,
}

/// The most parts whose sizes a download asks for, one HeadObject each, after a mismatch
/// along inferred part sizes.
pub const MAX_LAYOUT_PARTS: u32 = 1000;

/// The part count of `head`'s multipart object when its parts' sizes may be asked for: 2 to
/// [`MAX_LAYOUT_PARTS`].
pub(crate) fn layout_parts(head: &ObjectHead) -> Option<u16> {
    let parts = crate::integrity::multipart_parts(head)?;
    let parts = (2..=MAX_LAYOUT_PARTS).contains(&parts).then_some(parts)?;
    u16::try_from(parts).ok()
}

/// Part sizes being learnt: part number by job id, and the sizes heard so far.
#[derive(Debug, Default)]
struct Layout {
    parts: u32,
    asked: u32,
    by_job: SortedMap<u32, u32>,
    sizes: Vec<Option<u64>>,
    /// A reply that did not describe a part of this object: the server ignores `partNumber`.
    unknown: bool,
}

/// A whole download as one machine: HeadObject, then ranges of one version fetched side by
/// side within a memory budget (one range for a small object), each checked and resumable;
/// the runtime writes them into a temporary file it renames into place only when the flow
/// ends well. The bytes are verified against the object's ETag as they arrive; a mismatch
/// fetches the whole object again (within the retry policy) before the flow fails, after
/// asking each part's size when the mismatch was along inferred part sizes (an object of
/// unequal parts is then verified, not refused). See [`crate::flow`] for the loop.
#[derive(Debug)]
pub struct DownloadFlow {
    bucket: BucketName,
    key: ObjectKey,
    options: DownloadOptions,
    phase: Phase,
    head: Option<ObjectHead>,
    download: Option<Download>,
    /// Spans of the object not handed out yet: start → end (exclusive).
    missing: VecDeque<(u64, u64)>,
    in_flight: SortedMap<u32, RangeSlot>,
    next_id: u32,
    failure: Option<Error>,
    progress: ProgressCounter,
    rereads: Rereads,
    digest: Option<Ordered>,
    verified: Option<Verification>,
    /// The object is being read again after a mismatch.
    reread: bool,
    /// The part sizes being asked for; `Some` once they were.
    layout: Option<Layout>,
    /// Set for a resumable download.
    resume: Option<Resume>,
}

/// A resumable download's state keeping: the state to take up, how much of the partial
/// file exists, where the state is saved, and the state now.
struct Resume {
    saved: Option<DownloadState>,
    kept: u64,
    save: SaveFn,
    state: Option<DownloadState>,
}

impl std::fmt::Debug for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resume")
            .field("saved", &self.saved)
            .field("kept", &self.kept)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl DownloadFlow {
    /// A download of `key` in `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey, options: DownloadOptions) -> Self {
        DownloadFlow {
            bucket,
            key,
            options,
            phase: Phase::Start,
            head: None,
            download: None,
            missing: VecDeque::new(),
            in_flight: SortedMap::new(),
            next_id: 1,
            failure: None,
            progress: ProgressCounter::new(None, None),
            rereads: crate::flow::request::Options::default().rereads(),
            digest: None,
            verified: None,
            reread: false,
            layout: None,
            resume: None,
        }
    }

    /// Makes the download resumable across processes. The runtime writes the ranges into a
    /// partial file that outlives the process ([`partial_path`]), `kept` bytes long now;
    /// `saved` (a state file read back, see [`DownloadState::decode`]) is taken up when the
    /// object still has the ETag, length and version it names: only the spans it does not
    /// hold are fetched, and the ones it holds are read back from the partial file to verify
    /// the whole. Another version starts over. `save` gets the state once the object is
    /// headed and after every range.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] (`state`) for a `saved` state of another object.
    pub fn resumable(
        mut self,
        saved: Option<DownloadState>,
        kept: u64,
        save: SaveFn,
    ) -> Result<Self, Error> {
        if let Some(saved) = &saved {
            if saved.bucket != self.bucket || saved.key != self.key {
                let why = "saved by a download of another object";
                return Err(InputError::argument("state", why).into());
            }
        }
        self.resume = Some(Resume {
            saved,
            kept,
            save,
            state: None,
        });
        Ok(self)
    }

    /// Verifies the bytes as `rereads` says (the client's [`Options::rereads`]).
    ///
    /// [`Options::rereads`]: crate::flow::request::Options::rereads
    pub fn verify(mut self, rereads: Rereads) -> Self {
        self.rereads = rereads;
        self
    }

    /// Reports progress to `callback` as ranges complete.
    pub fn progress(mut self, callback: Option<ProgressFn>) -> Self {
        self.progress = ProgressCounter::new(None, callback);
        self
    }

    /// The object's head, once known.
    pub fn head(&self) -> Option<&ObjectHead> {
        self.head.as_ref()
    }

    fn start(&mut self, head: ObjectHead) -> Result<(), Error> {
        let part_size = self.options.part_size.max(1);
        let download = Download::new(self.bucket.clone(), self.key.clone(), &head, part_size)?
            .sse_customer_key(self.options.sse_customer_key.clone());
        let size = download.size();
        self.progress = ProgressCounter::new(Some(size), self.progress.callback());
        self.missing = whole(size);
        self.download = Some(download);
        self.head = Some(head);
        self.restart();
        self.take_up();
        Ok(())
    }

    /// A resumable download knows its object: keeps the saved spans of the same version
    /// that the partial file holds, leaves only the others missing, notes the kept ones for
    /// the digest, and saves the state.
    fn take_up(&mut self) {
        let (Some(resume), Some(head), Some(download)) =
            (self.resume.as_mut(), &self.head, &self.download)
        else {
            return;
        };
        let size = download.size();
        let etag = download.etag().to_owned();
        let mut state = DownloadState::new(self.bucket.clone(), self.key.clone(), etag, size);
        state.version_id = head.version_id.clone();
        if let Some(saved) = resume.saved.take() {
            let same_version = match (&saved.version_id, &state.version_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if saved.etag == state.etag && saved.length == size && same_version {
                for (&start, &end) in &saved.done {
                    state.add(start, end.min(resume.kept));
                }
            }
        }
        // Nothing left to fetch: the last range is fetched again, so that a job reads the
        // rest back into the digest (a flow does no file IO of its own).
        if self.digest.is_some() && size > 0 && state.done_bytes() == size {
            let cut = size - self.options.part_size.max(1).min(size);
            state.done.clear();
            state.add(0, cut);
        }
        let mut cursor = 0;
        self.missing.clear();
        for (&start, &end) in &state.done {
            if start > cursor {
                self.missing.push_back((cursor, start));
            }
            if let Some(digest) = &self.digest {
                digest.written(start, end - start);
            }
            cursor = end;
        }
        if cursor < size {
            self.missing.push_back((cursor, size));
        }
        self.progress.add(state.done_bytes());
        resume.state = Some(state);
        self.save();
    }

    /// Hands the resumable download's state to its [`SaveFn`].
    fn save(&mut self) {
        let Some(Resume {
            save,
            state: Some(state),
            ..
        }) = self.resume.as_mut()
        else {
            return;
        };
        if let Err(e) = save(&state.encode()) {
            self.failure.get_or_insert(e);
        }
    }

    /// The next range to fetch, cut from the first missing span.
    fn next_slot(&mut self) -> Option<RangeSlot> {
        let (start, end) = self.missing.front_mut()?;
        let len = self.options.part_size.max(1).min(*end - *start);
        let slot = RangeSlot {
            offset: *start,
            len,
        };
        *start += len;
        if start == end {
            self.missing.pop_front();
        }
        Some(slot)
    }

    fn object(&self) -> String {
        format!("{}/{}", self.bucket, self.key)
    }

    /// Starts a fresh digest (at the start, and again for a re-read after a mismatch).
    fn restart(&mut self) {
        let (Some(head), Some(download)) = (&self.head, &self.download) else {
            return;
        };
        match ObjectDigest::planned(head, &self.object(), self.rereads.integrity()) {
            // The first read hashes a multipart object part by part, side by side, at its
            // most likely part size; a re-read hashes it in one stream against every
            // candidate size, so a wrong guess costs a re-read, never a false error.
            Ok(digest) => {
                let ranges = (!self.reread).then_some(download.range_len());
                self.digest = Some(Ordered::new(digest, download.size(), ranges));
            }
            Err(verification) => {
                self.digest = None;
                self.verified = Some(verification);
            }
        }
    }

    /// Before re-reading a multipart object judged along inferred part sizes, asks the
    /// server for every part's size (at most [`MAX_LAYOUT_PARTS`]): an object uploaded in
    /// parts of unequal sizes is then verified instead of failing as corrupt. Asked once.
    fn ask_layout(&mut self) {
        let Some(head) = &self.head else { return };
        if self.layout.is_some() || head.part_sizes.is_some() {
            return;
        }
        if let Some(parts) = layout_parts(head).map(u32::from) {
            self.layout = Some(Layout {
                parts,
                sizes: vec![None; parts as usize],
                ..Layout::default()
            });
            self.phase = Phase::Layout;
        }
    }

    /// The next step while asking for part sizes; once all are in, the sizes go into the
    /// head (when they describe the object) and the re-read starts.
    fn poll_layout(&mut self) -> Option<Step<ObjectHead>> {
        let layout = self.layout.as_mut()?;
        if !layout.unknown && layout.asked < layout.parts {
            if layout.by_job.len() < self.options.concurrency() {
                let download = self.download.as_ref()?;
                layout.asked += 1;
                let id = self.next_id;
                self.next_id += 1;
                layout.by_job.insert(id, layout.asked);
                // The version the ranges are pinned to, with its SSE-C key.
                let part = u16::try_from(layout.asked).unwrap_or(u16::MAX);
                let head = download.object().head_of_part(part);
                return Some(Step::Spawn(Job::call(id, head)));
            }
            return Some(Step::Wait);
        }
        if !layout.by_job.is_empty() {
            return Some(Step::Wait);
        }
        let sizes: Option<Vec<u64>> = match layout.unknown {
            true => None,
            false => layout.sizes.iter().copied().collect(),
        };
        self.phase = Phase::Ranges;
        if let (Some(sizes), Some(head)) = (sizes, self.head.as_mut()) {
            head.part_sizes = Some(sizes);
            self.restart();
        }
        None
    }

    /// A part's HeadObject came back.
    fn handle_layout(&mut self, id: u32, sent: Sent<Reply>) {
        let Some(layout) = self.layout.as_mut() else {
            return;
        };
        let Some(part) = layout.by_job.remove(&id) else {
            self.failure.get_or_insert(super::unexpected());
            return;
        };
        let len = match &sent.result {
            Ok(Reply::HeadObject(h)) => h.part_len(layout.parts),
            _ => None,
        };
        match len {
            Some(len) => layout.sizes[part as usize - 1] = Some(len),
            // Another answer (the whole object: `partNumber` ignored), or none: the re-read
            // goes ahead along the inferred sizes.
            None => layout.unknown = true,
        }
    }

    /// Every range is in: judges the bytes, and starts the object over when a re-read is
    /// worth it.
    fn judge(&mut self) -> Result<(), Error> {
        let object = self.object();
        let size = self.download.as_ref().map(Download::size);
        let verified = match (size, self.digest.take()) {
            (Some(size), Some(digest)) => match self.rereads.judge(digest.finish(size), &object) {
                Reread::Done(verified) => verified,
                Reread::Fail(e) => return Err(e),
                Reread::Again => {
                    self.missing = whole(size);
                    self.reread = true;
                    self.ask_layout();
                    self.restart();
                    if let Some(Resume {
                        state: Some(state), ..
                    }) = self.resume.as_mut()
                    {
                        state.done.clear();
                    }
                    self.save();
                    return Ok(());
                }
            },
            // Nothing was hashed: the verification planned at the start, under the policy.
            _ => {
                let planned = self.verified.take().ok_or_else(super::unexpected)?;
                planned.require(self.rereads.integrity(), &object)?
            }
        };
        if let Some(head) = self.head.as_mut() {
            head.verified = Some(verified);
        }
        Ok(())
    }
}

impl Flow for DownloadFlow {
    type Output = ObjectHead;

    fn poll(&mut self) -> Step<ObjectHead> {
        match self.phase {
            Phase::Start => {
                self.phase = Phase::Heading;
                let head = HeadObject::new(self.bucket.clone(), self.key.clone())
                    .checksum_mode(self.options.checksum_mode);
                let head = match &self.options.sse_customer_key {
                    Some(k) => head.sse_customer_key(k.clone()),
                    None => head,
                };
                return Step::Send(Job::call(0, head));
            }
            Phase::Layout => {
                if let Some(step) = self.poll_layout() {
                    return step;
                }
            }
            Phase::Heading | Phase::Ranges => {}
            Phase::Finished => {
                return Step::Done(Err(InputError::argument(
                    "download",
                    "polled again after it was over",
                )
                .into()));
            }
        }
        if self.failure.is_none() && self.in_flight.len() < self.options.concurrency() {
            if let Some(slot) = self.next_slot() {
                let Some(download) = &self.download else {
                    return Step::Done(Err(super::unexpected()));
                };
                let job = RangeJob::new(download.clone(), slot, self.digest.clone());
                let id = self.next_id;
                self.next_id += 1;
                self.in_flight.insert(id, slot);
                let work = Work::Range(job);
                return Step::Spawn(Job { id, work });
            }
        }
        if !self.in_flight.is_empty() {
            return Step::Wait;
        }
        if self.failure.is_none() && self.head.is_some() {
            if let Err(e) = self.judge() {
                self.failure = Some(e);
            }
            if !self.missing.is_empty() || self.phase == Phase::Layout {
                // A re-read: start the ranges over (after asking for the part sizes).
                return self.poll();
            }
        }
        self.phase = Phase::Finished;
        match (self.failure.take(), self.head.take()) {
            (Some(e), _) => Step::Done(Err(e)),
            (None, Some(head)) => Step::Done(Ok(head)),
            (None, None) => Step::Done(Err(super::unexpected())),
        }
    }

    fn handle(&mut self, id: u32, sent: Sent<Reply>) {
        if self.phase == Phase::Layout {
            self.handle_layout(id, sent);
            return;
        }
        if self.phase == Phase::Heading {
            self.phase = Phase::Ranges;
            let started = match sent.result {
                Ok(Reply::HeadObject(head)) => self.start(head),
                Ok(_) => Err(super::unexpected()),
                Err(e) => Err(e),
            };
            if let Err(e) = started {
                self.failure.get_or_insert(e);
            }
            return;
        }
        let Some(slot) = self.in_flight.remove(&id) else {
            self.failure.get_or_insert(super::unexpected());
            return;
        };
        match sent.result {
            Ok(_) => {
                self.progress.add(slot.len);
                if let Some(Resume {
                    state: Some(state), ..
                }) = self.resume.as_mut()
                {
                    state.add(slot.offset, slot.offset + slot.len);
                    self.save();
                }
            }
            Err(e) => {
                self.failure.get_or_insert(e);
            }
        }
    }

    fn fail(&mut self, error: Error) {
        self.failure.get_or_insert(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ContentRange;

    fn head(size: u64, etag: &str) -> ObjectHead {
        ObjectHead {
            content_length: Some(size),
            etag: Some(etag.to_owned()),
            ..ObjectHead::default()
        }
    }

    fn download(size: u64, part: u64) -> Download {
        Download::new(
            BucketName::new("bucket").unwrap(),
            ObjectKey::new("key").unwrap(),
            &head(size, "\"e\""),
            part,
        )
        .unwrap()
    }

    fn reply(slot: &RangeSlot, total: u64, etag: &str) -> ObjectHead {
        let mut h = head(slot.len, etag);
        h.content_range = Some(ContentRange {
            first: slot.offset,
            last: slot.offset + slot.len - 1,
            total: Some(total),
        });
        h
    }

    #[test]
    fn part_heads_ask_the_pinned_version() {
        use crate::op::Operation as _;
        let target = crate::Config::new("https://s3.example.com", "us-east-1").unwrap();
        let mut h = head(25, "\"e\"");
        h.version_id = Some("v7".into());
        let key = CustomerKey::new(&[3; 32]).unwrap();
        let bucket = BucketName::new("bucket").unwrap();
        let download = Download::new(bucket, ObjectKey::new("key").unwrap(), &h, 10)
            .unwrap()
            .sse_customer_key(Some(key.clone()));
        let req = download
            .object()
            .head_of_part(2)
            .request(target.target())
            .unwrap();
        assert_eq!(req.method(), http::Method::HEAD);
        let query = req.uri().query().unwrap();
        assert!(
            query.contains("partNumber=2") && query.contains("versionId=v7"),
            "{query}"
        );
        let md5 = "x-amz-server-side-encryption-customer-key-md5";
        assert_eq!(req.headers()[md5], key.md5());
        assert!(!req.headers().contains_key("range") && !req.headers().contains_key("if-match"));
    }

    #[test]
    fn customer_key_rides_on_the_head_and_every_range() {
        use crate::op::Operation as _;
        let target = crate::Config::new("https://s3.example.com", "us-east-1").unwrap();
        let key = CustomerKey::new(&[3; 32]).unwrap();
        let options = DownloadOptions::default()
            .part_size(10)
            .sse_customer_key(key.clone());
        let mut flow = DownloadFlow::new(
            BucketName::new("bucket").unwrap(),
            ObjectKey::new("key").unwrap(),
            options,
        );
        let header = "x-amz-server-side-encryption-customer-key-md5";
        let Step::Send(Job {
            id,
            work: Work::Call(call),
        }) = flow.poll()
        else {
            panic!("a HEAD first");
        };
        let req = call.request(target.target()).unwrap();
        assert_eq!(req.method(), http::Method::HEAD);
        assert_eq!(req.headers()[header], key.md5());
        let reply = Reply::HeadObject(head(25, "\"e\""));
        let sent = Sent {
            result: Ok(reply),
            reply_lost: false,
            attempts: 1,
        };
        flow.handle(id, sent);
        let mut ranges = 0;
        while let Step::Spawn(Job {
            work: Work::Range(job),
            ..
        }) = flow.poll()
        {
            let req = job.get().unwrap().request(target.target()).unwrap();
            assert_eq!(req.headers()[header], key.md5());
            ranges += 1;
        }
        assert_eq!(ranges, 3);
    }

    #[test]
    fn ranges_cover_the_object() {
        let mut dl = download(25, 10);
        let slots: Vec<_> = std::iter::from_fn(|| dl.next_range()).collect();
        assert_eq!(
            slots,
            [
                RangeSlot { offset: 0, len: 10 },
                RangeSlot {
                    offset: 10,
                    len: 10
                },
                RangeSlot { offset: 20, len: 5 }
            ]
        );
        let get = dl.get(&slots[2]);
        let req = crate::op::Operation::request(
            &get,
            crate::Config::new("http://127.0.0.1:1", "us-east-1")
                .unwrap()
                .target(),
        )
        .unwrap();
        assert_eq!(req.headers()["range"], "bytes=20-24");
        assert_eq!(req.headers()["if-match"], "\"e\"");
        assert!(download(0, 10).next_range().is_none());
        assert!(
            Download::new(
                BucketName::new("bucket").unwrap(),
                ObjectKey::new("key").unwrap(),
                &ObjectHead::default(),
                10
            )
            .is_err()
        );
    }

    #[test]
    fn interrupted_ranges_resume() {
        let slot = RangeSlot {
            offset: 100,
            len: 50,
        };
        assert_eq!(slot.after(0), Some(slot));
        assert_eq!(
            slot.after(20),
            Some(RangeSlot {
                offset: 120,
                len: 30
            })
        );
        assert_eq!(slot.after(50), None);
        assert_eq!(slot.after(60), None);
    }

    #[test]
    fn replies_are_checked() {
        let mut dl = download(25, 10);
        let slot = dl.next_range().unwrap();
        dl.check(&slot, &reply(&slot, 25, "\"e\"")).unwrap();
        assert!(dl.check(&slot, &reply(&slot, 25, "\"other\"")).is_err());
        assert!(dl.check(&slot, &reply(&slot, 26, "\"e\"")).is_err());
        let shifted = RangeSlot { offset: 1, len: 10 };
        assert!(dl.check(&slot, &reply(&shifted, 25, "\"e\"")).is_err());
        // A whole-object 200 is fine only when the range was the whole object.
        assert!(dl.check(&slot, &head(25, "\"e\"")).is_err());
        let mut small = download(5, 10);
        let all = small.next_range().unwrap();
        small.check(&all, &head(5, "\"e\"")).unwrap();
        assert!(small.check(&all, &head(4, "\"e\"")).is_err());
    }
}
