//! Uploading an object of any size: one PutObject below a threshold, else a multipart upload
//! whose parts the runtime reads from its source one slot at a time (or several at once).
//!
//! The driver never sees the bytes. It hands out [`PartSlot`]s (number, offset, length), builds
//! each [`UploadPart`] around the body the runtime read for that slot, checks the lengths it is
//! given, and after any failure offers the [`AbortMultipartUpload`] that leaves nothing behind.
//!
//! ```
//! use s3_proto::flow::upload::{Upload, UploadOptions};
//! use s3_proto::ops::{CreateMultipartUploadOutput, UploadPartOutput};
//! use s3_proto::Body;
//!
//! let total = 20 * 1024 * 1024;
//! let mut up = Upload::new("bucket".parse()?, "big.bin".parse()?, Some(total), UploadOptions::default())?;
//! assert!(!up.is_single());
//! let create = up.create();                     // runtime sends it…
//! # let created = CreateMultipartUploadOutput::default();
//! # let created = { let mut c = created; c.upload_id = "id".into(); c };
//! up.started(&created)?;                        // …and hands back the reply
//! while let Some(slot) = up.next_part() {
//!     // read `slot.len` bytes at `slot.offset` from the source, then:
//!     let op = up.upload_part(&slot, Body::Stream { length: Some(slot.len) })?;
//!     # let mut out = UploadPartOutput::default(); out.etag = format!("\"{}\"", slot.number);
//!     up.part_done(&slot, &out)?;                // on any error: send up.abort()
//! }
//! let complete = up.complete()?;                // send; on error, abort
//! assert_eq!(complete.parts().len(), 3);
//! # Ok::<(), s3_proto::Error>(())
//! ```

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::body::Body;
use crate::error::{Error, InputError};
use crate::name::{BucketName, ObjectKey};
use crate::object::{ObjectAttributes, ObjectHead, attribute_setters};
use crate::ops::{
    AbortMultipartUpload, CompleteMultipartUpload, CompleteMultipartUploadOutput, CompletedPart,
    CreateMultipartUpload, CreateMultipartUploadOutput, ListMultipartUploads,
    ListMultipartUploadsOutput, MAX_PARTS, PutObject, PutObjectOutput, UploadPart,
    UploadPartOutput,
};

const MIB: u64 = 1024 * 1024;

/// Smallest part S3 accepts, except the last.
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// Largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
/// Largest object a multipart upload can make.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * MIB;
/// Largest object one PutObject can carry.
pub const MAX_PUT_SIZE: u64 = MAX_PART_SIZE;
/// How far the server's clock may be behind ours when recognising uploads a lost create
/// started: an upload of the same key started by someone else within this window before ours
/// is taken for one of ours (concurrent multipart uploads of one key race anyway).
pub const LOST_CREATE_SKEW: std::time::Duration = std::time::Duration::from_secs(300);
/// Parts of an upload of unknown length keep this size for this many parts, then double (800 keeps 10,000 parts from 5 MiB above 5 TiB).
const GROWTH_STEP: u16 = 800;

/// How an upload is cut: when to go multipart and how big the parts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOptions {
    /// Objects of at least this many bytes go multipart (default 8 MiB).
    pub threshold: u64,
    /// Preferred part size (default 8 MiB); raised when the object would need more than
    /// 10,000 parts, clamped to 5 MiB..=5 GiB.
    pub part_size: u64,
    /// Bytes of parts a runtime may have in flight at once (default 64 MiB): parts run
    /// concurrently up to this budget, at least one at a time.
    pub memory_budget: u64,
    /// Send `Content-MD5` with every part (and a single PutObject), so the server refuses a
    /// body corrupted on the way (default off: a streamed source is then read twice).
    pub content_md5: bool,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            threshold: 8 * MIB,
            part_size: 8 * MIB,
            memory_budget: 64 * MIB,
            content_md5: false,
        }
    }
}

/// Most transfers in flight, whatever the budget: beyond this a local server only thrashes.
pub const MAX_CONCURRENCY: usize = 32;

/// How many parts of `part_size` bytes fit in `budget` at once (1..=[`MAX_CONCURRENCY`]).
pub fn concurrency(budget: u64, part_size: u64) -> usize {
    let n = budget / part_size.max(1);
    usize::try_from(n)
        .unwrap_or(MAX_CONCURRENCY)
        .clamp(1, MAX_CONCURRENCY)
}

impl UploadOptions {
    /// Sets the multipart threshold.
    pub fn threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes;
        self
    }

    /// Sets the preferred part size.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Sets the in-flight budget.
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// Sends `Content-MD5` with each part.
    pub fn content_md5(mut self, yes: bool) -> Self {
        self.content_md5 = yes;
        self
    }
}

/// The sizes of an upload's parts, for a known or an unknown total length.
///
/// Known length: every part has the same size (the last has the rest), at least the preferred
/// size and large enough that 10,000 parts hold the object. Unknown length: parts start at the
/// preferred size and double every 800 parts (capped at 5 GiB), so 10,000 parts reach the
/// 5 TiB object limit without knowing the length up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    total: Option<u64>,
    part_size: u64,
}

impl PartPlan {
    /// Plans `total` bytes (or an unknown length) with a preferred part size.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `total` exceeds the 5 TiB object limit.
    pub fn new(total: Option<u64>, preferred: u64) -> Result<Self, InputError> {
        let preferred = preferred.clamp(MIN_PART_SIZE, MAX_PART_SIZE);
        let part_size = match total {
            None => preferred,
            Some(t) if t > MAX_OBJECT_SIZE => {
                return Err(InputError::argument("length", "objects are at most 5 TiB"));
            }
            Some(t) => {
                let needed = t.div_ceil(u64::from(MAX_PARTS));
                // Whole MiBs keep part boundaries readable in logs and on the server.
                preferred.max(needed.div_ceil(MIB) * MIB).min(MAX_PART_SIZE)
            }
        };
        Ok(PartPlan { total, part_size })
    }

    /// The total length, when known.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// How many parts a known length needs (at least one, even for 0 bytes).
    pub fn part_count(&self) -> Option<u16> {
        let total = self.total?;
        let count = total.div_ceil(self.part_size).max(1);
        // PartPlan::new keeps count within 10,000.
        u16::try_from(count).ok()
    }

    /// The slot of part `number` (1-based): offset and length (the largest length allowed,
    /// for an unknown total). `None` past the last part or past 10,000.
    pub fn slot(&self, number: u16) -> Option<PartSlot> {
        if number == 0 || number > MAX_PARTS {
            return None;
        }
        match self.total {
            Some(total) => {
                if number > self.part_count()? {
                    return None;
                }
                let offset = u64::from(number - 1) * self.part_size;
                let len = self.part_size.min(total - offset);
                Some(PartSlot {
                    number,
                    offset,
                    len,
                })
            }
            None => {
                let index = number - 1;
                let tier = index / GROWTH_STEP;
                let mut offset = 0;
                for t in 0..tier {
                    offset += u64::from(GROWTH_STEP) * self.tier_size(t);
                }
                offset += u64::from(index % GROWTH_STEP) * self.tier_size(tier);
                Some(PartSlot {
                    number,
                    offset,
                    len: self.tier_size(tier),
                })
            }
        }
    }

    fn tier_size(&self, tier: u16) -> u64 {
        let factor = 1u64 << tier.min(20);
        self.part_size.saturating_mul(factor).min(MAX_PART_SIZE)
    }

    /// The most bytes this plan can carry in 10,000 parts.
    pub fn capacity(&self) -> u64 {
        match self.total {
            Some(t) => t,
            None => self
                .slot(MAX_PARTS)
                .map_or(0, |s| s.offset + s.len)
                .min(MAX_OBJECT_SIZE),
        }
    }
}

/// One part to read and send: bytes `offset..offset + len` of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSlot {
    /// The part number, from 1.
    pub number: u16,
    /// Where the part starts in the object.
    pub offset: u64,
    /// Its length; for an unknown total, the most the part may hold.
    pub len: u64,
}

/// Drives one upload from start to Complete or Abort.
#[derive(Debug, Clone)]
pub struct Upload {
    bucket: BucketName,
    key: ObjectKey,
    attributes: ObjectAttributes,
    single: bool,
    md5: bool,
    plan: PartPlan,
    upload_id: Option<String>,
    next: u16,
    /// Set once the source ran dry: no part after this number.
    last: Option<u16>,
    sent: BTreeMap<u16, u64>,
    done: BTreeMap<u16, String>,
}

impl Upload {
    /// Plans an upload of `total` bytes (or an unknown length) to `key` in `bucket`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `total` exceeds the 5 TiB object limit.
    pub fn new(
        bucket: BucketName,
        key: ObjectKey,
        total: Option<u64>,
        options: UploadOptions,
    ) -> Result<Self, InputError> {
        let plan = PartPlan::new(total, options.part_size)?;
        let threshold = options.threshold.clamp(1, MAX_PUT_SIZE);
        Ok(Upload {
            bucket,
            key,
            attributes: ObjectAttributes::default(),
            single: total.is_some_and(|t| t < threshold),
            md5: options.content_md5,
            plan,
            upload_id: None,
            next: 1,
            last: None,
            sent: BTreeMap::new(),
            done: BTreeMap::new(),
        })
    }

    attribute_setters!();

    /// The part plan.
    pub fn plan(&self) -> &PartPlan {
        &self.plan
    }

    /// Parts to keep in flight under `budget` bytes (the first part's size sets the pace).
    pub fn concurrency(&self, budget: u64) -> usize {
        concurrency(budget, self.plan.slot(1).map_or(MIN_PART_SIZE, |s| s.len))
    }

    /// True when the object goes in one [`PutObject`]: a known length below the threshold.
    ///
    /// With an unknown length, read the first slot first: if the source ends inside it, send
    /// that buffer with [`Upload::put_object`] instead of starting a multipart upload.
    pub fn is_single(&self) -> bool {
        self.single
    }

    /// True when parts carry `Content-MD5`: in-memory bodies get it here; for a streamed
    /// body the runtime computes it (see [`crate::integrity::Md5`]) and sets it with
    /// `content_md5_value` on the operation.
    pub fn wants_md5(&self) -> bool {
        self.md5
    }

    /// The single-request upload of `body`.
    pub fn put_object(&self, body: impl Into<Body>) -> PutObject {
        let put = PutObject::new(self.bucket.clone(), self.key.clone(), body)
            .attributes(self.attributes.clone());
        if self.md5 { put.content_md5() } else { put }
    }

    /// The request that starts the multipart upload.
    pub fn create(&self) -> CreateMultipartUpload {
        CreateMultipartUpload::new(self.bucket.clone(), self.key.clone())
            .attributes(self.attributes.clone())
    }

    /// The listing that finds uploads a CreateMultipartUpload may have started although its
    /// reply was lost (the connection dropped after the request went out). Send it when a
    /// create attempt failed that way, and abort what [`Upload::lost_uploads`] returns, so a
    /// retried create leaves no orphan behind.
    pub fn find_lost(&self) -> ListMultipartUploads {
        ListMultipartUploads::new(self.bucket.clone()).prefix(self.key.as_str())
    }

    /// The aborts for the uploads in `listing` that lost creates of this upload started: same
    /// key, not the upload in use, initiated no earlier than [`LOST_CREATE_SKEW`] before
    /// `first_create` (the local time the first create was sent).
    pub fn lost_uploads(
        &self,
        listing: &ListMultipartUploadsOutput,
        first_create: SystemTime,
    ) -> Vec<AbortMultipartUpload> {
        let since = first_create
            .checked_sub(LOST_CREATE_SKEW)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        listing
            .uploads
            .iter()
            .filter(|u| u.key == self.key.as_str())
            .filter(|u| Some(u.upload_id.as_str()) != self.upload_id.as_deref())
            .filter(|u| u.initiated.is_some_and(|t| t >= since))
            .map(|u| {
                AbortMultipartUpload::new(
                    self.bucket.clone(),
                    self.key.clone(),
                    u.upload_id.clone(),
                )
            })
            .collect()
    }

    /// Takes the reply to [`Upload::create`].
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when the reply has no upload id.
    pub fn started(&mut self, output: &CreateMultipartUploadOutput) -> Result<(), Error> {
        if output.upload_id.is_empty() {
            return Err(InputError::argument("upload_id", "the server sent none").into());
        }
        self.upload_id = Some(output.upload_id.clone());
        Ok(())
    }

    /// The upload id, once started.
    pub fn upload_id(&self) -> Option<&str> {
        self.upload_id.as_deref()
    }

    /// The next part to read and send; `None` when every part has been handed out. Slots
    /// may be sent concurrently and completed in any order.
    pub fn next_part(&mut self) -> Option<PartSlot> {
        if self.last.is_some_and(|last| self.next > last) {
            return None;
        }
        let slot = self.plan.slot(self.next)?;
        self.next += 1;
        Some(slot)
    }

    /// The source had nothing left for `slot` (unknown length, ended on a part boundary): the
    /// upload ends before it.
    pub fn end_before(&mut self, slot: &PartSlot) {
        let last = slot.number.saturating_sub(1);
        self.last = Some(self.last.map_or(last, |l| l.min(last)));
    }

    /// The UploadPart for `slot` carrying `body`, whose length must be the slot's (or, for an
    /// unknown total, at most the slot's: a shorter body is the last part).
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] before [`Upload::started`], for a body of unknown or
    /// wrong length, or for an empty part after the first.
    pub fn upload_part(&mut self, slot: &PartSlot, body: Body) -> Result<UploadPart, Error> {
        let upload_id = self.require_id()?.to_owned();
        let Some(len) = body.len() else {
            return Err(InputError::argument("body", "a part needs a known length").into());
        };
        let fits = match self.plan.total {
            Some(_) => len == slot.len,
            None => len <= slot.len,
        };
        if !fits {
            return Err(InputError::argument(
                "body",
                "the part's length differs from its slot (did the source change?)",
            )
            .into());
        }
        if self.plan.total.is_none() && len < slot.len {
            if len == 0 && slot.number > 1 {
                return Err(InputError::argument(
                    "body",
                    "an empty part after the first: call end_before instead",
                )
                .into());
            }
            self.last = Some(slot.number);
        }
        self.sent.insert(slot.number, len);
        let part = UploadPart::new(
            self.bucket.clone(),
            self.key.clone(),
            upload_id,
            slot.number,
            body,
        );
        Ok(if self.md5 { part.content_md5() } else { part })
    }

    /// Records the reply to the UploadPart of `slot`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for a slot never sent.
    pub fn part_done(&mut self, slot: &PartSlot, output: &UploadPartOutput) -> Result<(), Error> {
        if !self.sent.contains_key(&slot.number) {
            return Err(InputError::argument("slot", "this part was never sent").into());
        }
        self.done.insert(slot.number, output.etag.clone());
        Ok(())
    }

    /// Bytes acknowledged by the server so far.
    pub fn bytes_done(&self) -> u64 {
        self.done.keys().filter_map(|n| self.sent.get(n)).sum()
    }

    /// The CompleteMultipartUpload for the parts sent, once every one is done.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when a part is missing or unacknowledged, when the
    /// bytes sent differ from the known total, or when an unknown-length source filled all
    /// 10,000 parts without ending (the object would be cut short).
    pub fn complete(&self) -> Result<CompleteMultipartUpload, Error> {
        let upload_id = self.require_id()?;
        let last = match (self.plan.total, self.last) {
            (Some(_), _) => self.plan.part_count().unwrap_or(0),
            (None, Some(last)) => last,
            (None, None) => {
                return Err(InputError::argument(
                    "body",
                    "the source did not end within 10000 parts",
                )
                .into());
            }
        };
        if last == 0 || (1..=last).any(|n| !self.done.contains_key(&n)) {
            return Err(InputError::argument("parts", "not every part has been uploaded").into());
        }
        let sent: u64 = (1..=last).filter_map(|n| self.sent.get(&n)).sum();
        if self.plan.total.is_some_and(|t| t != sent) {
            return Err(InputError::argument("body", "bytes sent differ from the length").into());
        }
        let parts = (1..=last).map(|n| CompletedPart {
            part_number: n,
            etag: self.done[&n].clone(),
        });
        Ok(CompleteMultipartUpload::new(
            self.bucket.clone(),
            self.key.clone(),
            upload_id,
            parts,
        ))
    }

    /// Whether `head` (a HeadObject of the key) shows this upload completed: for when a
    /// CompleteMultipartUpload whose reply was lost is retried and the retry fails because the
    /// first one went through (`NoSuchUpload`; s3s-fs says `AccessDenied`). The object must
    /// have the length that was sent and the multipart ETag of exactly these parts (the MD5 of
    /// the parts' MD5s, `-N`), so an older object of the same size is never taken for it.
    pub fn completed_as(&self, head: &ObjectHead) -> bool {
        let sent: u64 = self.sent.values().sum();
        let Some(expected) = self.multipart_etag() else {
            return false;
        };
        head.content_length == Some(sent)
            && head
                .etag
                .as_deref()
                .is_some_and(|e| e.trim_matches('"').eq_ignore_ascii_case(&expected))
    }

    /// The ETag S3 gives the completed object: hex MD5 of the concatenated part MD5s, `-N`.
    /// `None` when a part's ETag is not a plain MD5 (encrypted uploads).
    fn multipart_etag(&self) -> Option<String> {
        let mut md5 = crate::integrity::Md5::new();
        for etag in self.done.values() {
            let hex = etag.trim_matches('"');
            if hex.len() != 32 {
                return None;
            }
            let mut digest = [0u8; 16];
            for (i, byte) in digest.iter_mut().enumerate() {
                *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            md5.update(&digest);
        }
        Some(format!("{}-{}", md5.hex(), self.done.len()))
    }

    /// The output of this upload read from `head`, when [`Upload::completed_as`] says the
    /// object is this upload's.
    pub fn completed_output(&self, head: &ObjectHead) -> Option<UploadOutput> {
        self.completed_as(head).then(|| UploadOutput {
            etag: head.etag.clone(),
            version_id: head.version_id.clone(),
            parts: u16::try_from(self.done.len()).unwrap_or(MAX_PARTS),
        })
    }

    /// The key being uploaded.
    pub fn key(&self) -> &ObjectKey {
        &self.key
    }

    /// The AbortMultipartUpload to send after any failure, once started.
    pub fn abort(&self) -> Option<AbortMultipartUpload> {
        let id = self.upload_id.as_ref()?;
        Some(AbortMultipartUpload::new(
            self.bucket.clone(),
            self.key.clone(),
            id.clone(),
        ))
    }

    fn require_id(&self) -> Result<&str, Error> {
        self.upload_id
            .as_deref()
            .ok_or_else(|| InputError::argument("upload_id", "the upload has not started").into())
    }
}

/// What an upload made, by either path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOutput {
    /// The object's ETag, with its quotes (`"…-N"` after N parts), when the server sent it.
    pub etag: Option<String>,
    /// The new version, in a versioned bucket.
    pub version_id: Option<String>,
    /// Parts uploaded; 0 for a single PutObject.
    pub parts: u16,
}

impl From<PutObjectOutput> for UploadOutput {
    fn from(out: PutObjectOutput) -> Self {
        UploadOutput {
            etag: out.etag,
            version_id: out.version_id,
            parts: 0,
        }
    }
}

impl UploadOutput {
    /// The output of a completed multipart upload of `parts` parts.
    pub fn multipart(out: CompleteMultipartUploadOutput, parts: u16) -> Self {
        UploadOutput {
            etag: out.etag,
            version_id: out.version_id,
            parts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn upload(total: Option<u64>, options: UploadOptions) -> Upload {
        let mut up = Upload::new(
            BucketName::new("bucket").unwrap(),
            ObjectKey::new("key").unwrap(),
            total,
            options,
        )
        .unwrap();
        let created = CreateMultipartUploadOutput {
            upload_id: "id".to_owned(),
            ..Default::default()
        };
        up.started(&created).unwrap();
        up
    }

    fn etag(n: u16) -> UploadPartOutput {
        UploadPartOutput {
            etag: format!("\"{n}\""),
        }
    }

    /// Sends every slot with a body of `len(slot)` bytes, in order.
    fn run(up: &mut Upload, mut len: impl FnMut(&PartSlot) -> u64) -> Vec<PartSlot> {
        let mut slots = Vec::new();
        while let Some(slot) = up.next_part() {
            let n = len(&slot);
            if n == 0 && slot.number > 1 {
                up.end_before(&slot);
                break;
            }
            up.upload_part(&slot, Body::Stream { length: Some(n) })
                .unwrap();
            up.part_done(&slot, &etag(slot.number)).unwrap();
            slots.push(slot);
        }
        slots
    }

    #[test]
    fn a_lost_complete_is_recognised_by_the_object() {
        let mut up = upload(Some(15 * MIB), UploadOptions::default().part_size(5 * MIB));
        run(&mut up, |s| s.len);
        let head = |etag: &str, len: u64| ObjectHead {
            etag: Some(etag.to_owned()),
            content_length: Some(len),
            ..ObjectHead::default()
        };
        // The test parts' ETags are "1", "2", "3": not MD5s, so nothing can be matched.
        assert!(!up.completed_as(&head("\"abc-3\"", 15 * MIB)));
        let mut up = upload(Some(10), UploadOptions::default().threshold(1));
        let slot = up.next_part().unwrap();
        up.upload_part(&slot, Body::Stream { length: Some(10) })
            .unwrap();
        let part = UploadPartOutput {
            etag: "\"5d41402abc4b2a76b9719d911017c592\"".to_owned(),
        };
        up.part_done(&slot, &part).unwrap();
        // md5(md5("hello")) with the part count, as S3 computes it.
        let mut md5 = crate::integrity::Md5::new();
        md5.update(&[
            0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17,
            0xc5, 0x92,
        ]);
        let etag = format!("\"{}-1\"", md5.hex());
        assert!(up.completed_as(&head(&etag, 10)));
        assert!(!up.completed_as(&head(&etag, 11)), "another length");
        assert!(!up.completed_as(&head("\"00000000000000000000000000000000-1\"", 10)));
    }

    #[test]
    fn lost_creates_are_found_and_aborted() {
        use crate::ops::MultipartUploadInfo;
        let up = upload(Some(20 * MIB), UploadOptions::default());
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let info = |key: &str, id: &str, secs: u64| MultipartUploadInfo {
            key: key.to_owned(),
            upload_id: id.to_owned(),
            initiated: Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)),
            ..MultipartUploadInfo::default()
        };
        let listing = ListMultipartUploadsOutput {
            uploads: vec![
                info("key", "id", 1_000_010),      // ours: kept
                info("key", "lost", 1_000_005),    // a lost create: aborted
                info("key", "older", 999_000),     // someone's earlier upload: kept
                info("key/other", "x", 1_000_010), // another key under the prefix: kept
            ],
            ..ListMultipartUploadsOutput::default()
        };
        let aborts = up.lost_uploads(&listing, t0);
        assert_eq!(aborts.len(), 1);
        let req = crate::op::Operation::request(
            &aborts[0],
            crate::Config::new("http://127.0.0.1:1", "us-east-1")
                .unwrap()
                .target(),
        )
        .unwrap();
        assert!(req.uri().to_string().ends_with("key?uploadId=lost"));
        let find = crate::op::Operation::request(
            &up.find_lost(),
            crate::Config::new("http://127.0.0.1:1", "us-east-1")
                .unwrap()
                .target(),
        )
        .unwrap();
        assert!(find.uri().to_string().ends_with("?uploads&prefix=key"));
    }

    #[test]
    fn budget_bounds_concurrency() {
        assert_eq!(concurrency(64 * MIB, 8 * MIB), 8);
        assert_eq!(concurrency(1, 8 * MIB), 1);
        assert_eq!(concurrency(u64::MAX, 0), MAX_CONCURRENCY);
        let up = upload(
            Some(100 * MIB),
            UploadOptions::default().part_size(16 * MIB),
        );
        assert_eq!(up.concurrency(64 * MIB), 4);
    }

    #[test]
    fn threshold_decides_single_put() {
        let opts = UploadOptions::default();
        assert!(upload(Some(0), opts).is_single());
        assert!(upload(Some(8 * MIB - 1), opts).is_single());
        assert!(!upload(Some(8 * MIB), opts).is_single());
        assert!(!upload(None, opts).is_single());
        let single = upload(Some(3), opts).put_object("abc");
        assert_eq!(single.body().len(), Some(3));
    }

    #[test]
    fn zero_bytes_multipart_is_one_empty_part() {
        let mut up = upload(Some(0), UploadOptions::default().threshold(0));
        let slots = run(&mut up, |s| s.len);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].len, 0);
        assert_eq!(up.complete().unwrap().parts().len(), 1);
    }

    #[test]
    fn exactly_five_mib_is_one_part() {
        let opts = UploadOptions::default()
            .threshold(1)
            .part_size(MIN_PART_SIZE);
        let mut up = upload(Some(5 * MIB), opts);
        let slots = run(&mut up, |s| s.len);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].len, 5 * MIB);
        let mut up = upload(Some(5 * MIB + 1), opts);
        let slots = run(&mut up, |s| s.len);
        assert_eq!(
            slots.iter().map(|s| s.len).collect::<Vec<_>>(),
            [5 * MIB, 1]
        );
        assert_eq!(up.bytes_done(), 5 * MIB + 1);
    }

    #[test]
    fn part_size_grows_to_fit_ten_thousand_parts() {
        let plan = PartPlan::new(Some(MAX_OBJECT_SIZE), 5 * MIB).unwrap();
        let count = plan.part_count().unwrap();
        assert!(count <= MAX_PARTS && count > 9_900, "{count}");
        let last = plan.slot(count).unwrap();
        assert_eq!(last.offset + last.len, MAX_OBJECT_SIZE);
        assert!(plan.slot(count + 1).is_none());
        assert!(PartPlan::new(Some(MAX_OBJECT_SIZE + 1), 5 * MIB).is_err());
        // 10,000 parts of exactly the preferred size.
        let plan = PartPlan::new(Some(10_000 * 8 * MIB), 8 * MIB).unwrap();
        assert_eq!(plan.part_count(), Some(10_000));
        // Preferred sizes out of range are clamped.
        assert_eq!(
            PartPlan::new(Some(100 * MIB), 1).unwrap().part_count(),
            Some(20)
        );
    }

    #[test]
    fn unknown_length_grows_and_reaches_five_tib() {
        let plan = PartPlan::new(None, 5 * MIB).unwrap();
        assert_eq!(plan.slot(1).unwrap().len, 5 * MIB);
        assert_eq!(plan.slot(800).unwrap().len, 5 * MIB);
        assert_eq!(plan.slot(801).unwrap().len, 10 * MIB);
        assert_eq!(plan.slot(801).unwrap().offset, 800 * 5 * MIB);
        assert!(plan.capacity() >= MAX_OBJECT_SIZE);
        assert!(plan.slot(10_000).unwrap().len <= MAX_PART_SIZE);
    }

    #[test]
    fn unknown_length_ends_on_short_or_empty_read() {
        let opts = UploadOptions::default().part_size(5 * MIB);
        let source = 12 * MIB;
        let mut up = upload(None, opts);
        let slots = run(&mut up, |s| s.len.min(source.saturating_sub(s.offset)));
        assert_eq!(slots.len(), 3);
        assert!(up.next_part().is_none());
        assert_eq!(up.complete().unwrap().parts().len(), 3);

        // Ends exactly on a part boundary: the next read is empty.
        let mut up = upload(None, opts);
        let slots = run(&mut up, |s| s.len.min((10 * MIB).saturating_sub(s.offset)));
        assert_eq!(slots.len(), 2);
        assert_eq!(up.complete().unwrap().parts().len(), 2);
    }

    #[test]
    fn errors_in_the_middle_leave_an_abort() {
        let mut up = upload(Some(20 * MIB), UploadOptions::default().part_size(5 * MIB));
        let a = up.next_part().unwrap();
        let b = up.next_part().unwrap();
        up.upload_part(
            &a,
            Body::Stream {
                length: Some(a.len),
            },
        )
        .unwrap();
        // The source came up short: refused before anything is sent.
        assert!(
            up.upload_part(
                &b,
                Body::Stream {
                    length: Some(b.len - 1)
                }
            )
            .is_err()
        );
        up.part_done(&a, &etag(1)).unwrap();
        assert!(up.complete().is_err(), "parts are missing");
        let abort = up.abort().unwrap();
        let req = crate::op::Operation::request(
            &abort,
            crate::Config::new("http://127.0.0.1:1", "us-east-1")
                .unwrap()
                .target(),
        )
        .unwrap();
        assert_eq!(req.method(), http::Method::DELETE);
        assert!(req.uri().to_string().ends_with("?uploadId=id"));
    }

    #[test]
    fn parts_may_finish_out_of_order() {
        let mut up = upload(Some(15 * MIB), UploadOptions::default().part_size(5 * MIB));
        let slots: Vec<_> = std::iter::from_fn(|| up.next_part()).collect();
        for s in &slots {
            up.upload_part(
                s,
                Body::Stream {
                    length: Some(s.len),
                },
            )
            .unwrap();
        }
        for s in slots.iter().rev() {
            up.part_done(s, &etag(s.number)).unwrap();
        }
        let numbers: Vec<_> = up
            .complete()
            .unwrap()
            .parts()
            .iter()
            .map(|p| p.part_number)
            .collect();
        assert_eq!(numbers, [1, 2, 3]);
    }

    #[test]
    fn not_started_and_unfinished_sources_are_refused() {
        let mut up = Upload::new(
            BucketName::new("bucket").unwrap(),
            ObjectKey::new("key").unwrap(),
            None,
            UploadOptions::default(),
        )
        .unwrap();
        let slot = up.next_part().unwrap();
        assert!(
            up.upload_part(&slot, Body::Stream { length: Some(1) })
                .is_err()
        );
        assert!(up.abort().is_none());
        let mut up = upload(None, UploadOptions::default());
        let slot = up.next_part().unwrap();
        up.upload_part(
            &slot,
            Body::Stream {
                length: Some(slot.len),
            },
        )
        .unwrap();
        up.part_done(&slot, &etag(1)).unwrap();
        assert!(up.complete().is_err(), "the source has not ended");
    }

    proptest! {
        #[test]
        fn plans_cover_the_object_exactly(total in 0u64..=MAX_OBJECT_SIZE, preferred in 0u64..=6 * 1024 * MIB) {
            let plan = PartPlan::new(Some(total), preferred).unwrap();
            let count = plan.part_count().unwrap();
            prop_assert!((1..=MAX_PARTS).contains(&count));
            let last = plan.slot(count).unwrap();
            prop_assert_eq!(last.offset + last.len, total);
            let first = plan.slot(1).unwrap();
            prop_assert!(first.len <= MAX_PART_SIZE);
            if count > 1 {
                prop_assert!(first.len >= MIN_PART_SIZE);
                let second_last = plan.slot(count - 1).unwrap();
                prop_assert_eq!(second_last.offset + second_last.len, last.offset);
            }
        }
    }
}
