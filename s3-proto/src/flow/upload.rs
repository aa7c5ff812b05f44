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

use super::call::BodyDigests;
use super::progress::{ProgressCounter, ProgressFn};
use super::resume::{SaveFn, SavedPart, UploadState};
use super::{Flow, Job, Reply, Sent, Step, Work};
use crate::body::Body;
use crate::checksum::{ChecksumAlgorithm, ChecksumType, MultipartChecksum, ObjectChecksum};
use crate::error::{Error, InputError};
use crate::name::{BucketName, ObjectKey};
use crate::object::{ObjectAttributes, ObjectHead, attribute_setters};
use crate::ops::{
    AbortMultipartUpload, CompleteMultipartUpload, CompleteMultipartUploadOutput, CompletedPart,
    CreateMultipartUpload, CreateMultipartUploadOutput, HeadObject, ListMultipartUploads,
    ListMultipartUploadsOutput, ListParts, MAX_PARTS, PutObject, PutObjectOutput, UploadPart,
    UploadPartCopy, UploadPartOutput,
};
use crate::sorted::SortedMap;
use crate::sse::{CustomerKey, ServerSideEncryption};
use crate::tagging::TagSet;

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

/// How an upload is cut (when to go multipart, how big the parts are), how each request is
/// checked (`Content-MD5`, a flexible checksum), and what the object gets (attributes,
/// encryption, tags, a write condition), on every request that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// body corrupted on the way; a file's part is then read twice, the second time from the
    /// page cache. Default (`None`): only where nothing else lets the server check the body.
    /// A client whose server checks signed payload hashes
    /// ([`Session::checks_payload_hashes`](crate::flow::request::Session::checks_payload_hashes))
    /// covers each body with its SHA-256 instead ([`UploadFlow::payload_hashes`]), which
    /// CPUs with SHA extensions compute 2–3× faster than an MD5; over TLS to a server that
    /// checks flexible checksums, the checksum alone covers it ([`UploadFlow::checksums_cover`]).
    pub content_md5: Option<bool>,
    /// A flexible checksum of this algorithm on the PutObject or on every part, computed in
    /// the same pass as the `Content-MD5`, and for a multipart upload the object's checksum
    /// in CompleteMultipartUpload (default: none, or CRC32 when the client's policy is
    /// [`ChecksumPolicy::WhenSupported`]). Always in headers, never in an aws-chunked
    /// trailer, so every server takes it (Ceph RGW 16 ignores it; see [`ServerQuirks`]).
    ///
    /// [`ChecksumPolicy::WhenSupported`]: crate::checksum::ChecksumPolicy::WhenSupported
    /// [`ServerQuirks`]: crate::quirks::ServerQuirks
    pub checksum: Option<ChecksumAlgorithm>,
    /// What a multipart object's checksum covers (default: the algorithm's own,
    /// [`ChecksumAlgorithm::default_multipart_type`]).
    pub checksum_type: Option<ChecksumType>,
    /// Content headers, metadata, storage class and canned ACL of the object.
    pub attributes: ObjectAttributes,
    /// Encryption at rest; SSE-C's key goes on every part too.
    pub sse: Option<ServerSideEncryption>,
    /// The object's tags.
    pub tagging: Option<TagSet>,
    /// `If-None-Match` on the PutObject or CompleteMultipartUpload: `*` makes the upload
    /// create-only.
    pub if_none_match: Option<String>,
    /// `If-Match` on the PutObject or CompleteMultipartUpload: overwrite only this ETag.
    pub if_match: Option<String>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            threshold: 8 * MIB,
            part_size: 8 * MIB,
            memory_budget: 64 * MIB,
            content_md5: None,
            checksum: None,
            checksum_type: None,
            attributes: ObjectAttributes::default(),
            sse: None,
            tagging: None,
            if_none_match: None,
            if_match: None,
        }
    }
}

/// Most transfers in flight, whatever the budget: 64 parts keep a 100 Gbit/s link busy at
/// S3's per-connection rates, and the budget (default 64 MiB) still bounds memory first.
pub const MAX_CONCURRENCY: usize = 64;

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

    /// Sends `Content-MD5` with each part (`true`), or never (`false`), whatever the server
    /// checks.
    pub fn content_md5(mut self, yes: bool) -> Self {
        self.content_md5 = Some(yes);
        self
    }

    /// Sends a flexible checksum of `algorithm` with every request that carries data.
    pub fn checksum(mut self, algorithm: ChecksumAlgorithm) -> Self {
        self.checksum = Some(algorithm);
        self
    }

    /// Sends a flexible checksum of `algorithm`, when there is one, unless one was chosen
    /// already: how a client's checksum policy
    /// ([`Options::default_checksum`](crate::flow::request::Options::default_checksum))
    /// reaches an upload.
    pub fn or_checksum(mut self, algorithm: Option<ChecksumAlgorithm>) -> Self {
        self.checksum = self.checksum.or(algorithm);
        self
    }

    /// Sets what a multipart object's checksum covers (`COMPOSITE` or `FULL_OBJECT`).
    pub fn checksum_type(mut self, checksum_type: ChecksumType) -> Self {
        self.checksum_type = Some(checksum_type);
        self
    }

    attribute_setters!();

    /// Encrypts the object at rest.
    pub fn server_side_encryption(mut self, sse: ServerSideEncryption) -> Self {
        self.sse = Some(sse);
        self
    }

    /// Tags the object.
    pub fn tagging(mut self, tags: TagSet) -> Self {
        self.tagging = Some(tags);
        self
    }

    /// Writes only under this `If-None-Match` condition (`"*"`: create-only).
    pub fn if_none_match(mut self, value: impl Into<String>) -> Self {
        self.if_none_match = Some(value.into());
        self
    }

    /// Overwrites only while the object's ETag is `etag`.
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
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
    /// [`InputError::ObjectTooLarge`] when `total` exceeds the 5 TiB object limit.
    pub fn new(total: Option<u64>, preferred: u64) -> Result<Self, InputError> {
        let preferred = preferred.clamp(MIN_PART_SIZE, MAX_PART_SIZE);
        let part_size = match total {
            None => preferred,
            Some(size) if size > MAX_OBJECT_SIZE => {
                let limit = MAX_OBJECT_SIZE;
                return Err(InputError::ObjectTooLarge { size, limit });
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
    /// The options' `content_md5`.
    md5: Option<bool>,
    /// The server checks signed payload hashes ([`UploadFlow::payload_hashes`]).
    hashes: bool,
    /// A checksum the server checks, sent over TLS, covers a body ([`UploadFlow::checksums_cover`]).
    checksums_cover: bool,
    checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
    sums: Option<MultipartChecksum>,
    sse: Option<ServerSideEncryption>,
    tagging: Option<TagSet>,
    if_none_match: Option<String>,
    if_match: Option<String>,
    plan: PartPlan,
    upload_id: Option<String>,
    next: u16,
    /// Set once the source ran dry: no part after this number.
    last: Option<u16>,
    sent: SortedMap<u16, u64>,
    done: SortedMap<u16, String>,
}

impl Upload {
    /// Plans an upload of `total` bytes (or an unknown length) to `key` in `bucket`.
    ///
    /// # Errors
    /// [`InputError::ObjectTooLarge`] when `total` exceeds the 5 TiB object limit;
    /// [`InputError::InvalidArgument`] for a checksum type the algorithm does not support.
    pub fn new(
        bucket: BucketName,
        key: ObjectKey,
        total: Option<u64>,
        options: UploadOptions,
    ) -> Result<Self, InputError> {
        let plan = PartPlan::new(total, options.part_size)?;
        let threshold = options.threshold.clamp(1, MAX_PUT_SIZE);
        let checksum = crate::checksum::multipart_type(options.checksum, options.checksum_type)?;
        Ok(Upload {
            bucket,
            key,
            attributes: options.attributes,
            single: total.is_some_and(|t| t < threshold),
            md5: options.content_md5,
            hashes: false,
            checksums_cover: false,
            checksum,
            sums: checksum.map(|(a, _)| MultipartChecksum::new(a)),
            sse: options.sse,
            tagging: options.tagging,
            if_none_match: options.if_none_match,
            if_match: options.if_match,
            plan,
            upload_id: None,
            next: 1,
            last: None,
            sent: SortedMap::new(),
            done: SortedMap::new(),
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
    /// `content_md5_value` on the operation. Unless the options say, only when the server
    /// does not check payload hashes ([`Upload::payload_hashes`]).
    pub fn wants_md5(&self) -> bool {
        self.md5
            .unwrap_or(!self.hashes && !self.covered_by_checksum())
    }

    /// True when each body's flexible checksum covers it by itself (see
    /// [`Upload::checksums_cover`]): no SHA-256 payload hash then, nor `Content-MD5` unless asked.
    fn covered_by_checksum(&self) -> bool {
        self.checksums_cover && self.checksum.is_some()
    }

    /// Tells the upload whether a flexible checksum covers a body by itself
    /// ([`Session::checksums_cover_payloads`](crate::flow::request::Session::checksums_cover_payloads):
    /// TLS, and a server that refuses a body whose checksum does not match). With a checksum
    /// algorithm set, bodies then go `UNSIGNED-PAYLOAD` with no SHA-256 or MD5 pass.
    pub fn checksums_cover(&mut self, yes: bool) {
        self.checksums_cover = yes;
    }

    /// Tells the upload whether the server checks signed payload hashes
    /// ([`Session::checks_payload_hashes`](crate::flow::request::Session::checks_payload_hashes)):
    /// then, unless the options ask for `Content-MD5`, a body is covered by its SHA-256
    /// (computed when the request is signed, or ahead for a file's part) instead.
    pub fn payload_hashes(&mut self, yes: bool) {
        self.hashes = yes;
    }

    /// The flexible checksum algorithm every request with data carries, if any.
    pub fn checksum_algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.checksum.map(|(a, _)| a)
    }

    /// The digests a runtime computes for a streamed body before sending it (see
    /// [`Work::FileBody`]): `Content-MD5`, the flexible checksum, the SHA-256 payload hash, in one pass.
    pub fn digests(&self) -> BodyDigests {
        let md5 = self.wants_md5();
        let sha256 = self.hashes && !md5 && !self.covered_by_checksum();
        BodyDigests::new(md5, self.checksum_algorithm()).sha256(sha256)
    }

    /// The SSE-C key, which every part must carry.
    fn customer_key(&self) -> Option<CustomerKey> {
        match &self.sse {
            Some(ServerSideEncryption::Customer(key)) => Some(key.clone()),
            _ => None,
        }
    }

    /// The single-request upload of `body`.
    pub fn put_object(&self, body: impl Into<Body>) -> PutObject {
        let mut put = PutObject::new(self.bucket.clone(), self.key.clone(), body)
            .attributes(self.attributes.clone());
        if self.wants_md5() {
            put = put.content_md5();
        }
        if let Some(algorithm) = self.checksum_algorithm() {
            put = put.checksum_algorithm(algorithm);
        }
        if let Some(sse) = &self.sse {
            put = put.server_side_encryption(sse.clone());
        }
        if let Some(tags) = &self.tagging {
            put = put.tagging(tags.clone());
        }
        if let Some(v) = &self.if_none_match {
            put = put.if_none_match(v.clone());
        }
        if let Some(v) = &self.if_match {
            put = put.if_match(v.clone());
        }
        put
    }

    /// The request that starts the multipart upload.
    pub fn create(&self) -> CreateMultipartUpload {
        let mut create = CreateMultipartUpload::new(self.bucket.clone(), self.key.clone())
            .attributes(self.attributes.clone());
        if let Some((algorithm, ty)) = self.checksum {
            create = create.checksum_algorithm(algorithm).checksum_type(ty);
        }
        if let Some(sse) = &self.sse {
            create = create.server_side_encryption(sse.clone());
        }
        if let Some(tags) = &self.tagging {
            create = create.tagging(tags.clone());
        }
        create
    }

    /// The HeadObject that reads the uploaded object back (with its SSE-C key).
    pub fn head(&self) -> HeadObject {
        let head = HeadObject::new(self.bucket.clone(), self.key.clone());
        match self.customer_key() {
            Some(key) => head.sse_customer_key(key),
            None => head,
        }
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
        // Parts a resumed upload has already are skipped.
        while self.done.contains_key(&self.next) {
            self.next += 1;
        }
        let slot = self.plan.slot(self.next)?;
        self.next += 1;
        Some(slot)
    }

    /// The state that resumes this upload in another process (see [`super::resume`]), once
    /// it has started and its length is known.
    pub fn state(&self) -> Option<UploadState> {
        let parts = self.done.iter().filter_map(|(&n, etag)| {
            let len = *self.sent.get(&n)?;
            Some((
                n,
                SavedPart {
                    len,
                    etag: etag.clone(),
                },
            ))
        });
        Some(UploadState {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            length: self.plan.total?,
            part_size: self.plan.slot(1)?.len,
            upload_id: self.upload_id.clone()?,
            parts: parts.collect(),
        })
    }

    /// Takes up the upload `saved` describes, keeping the saved parts that `listed` (the
    /// upload's parts as ListParts reports them) shows with the same length and ETag; the
    /// others are sent again. Returns how many parts were kept.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] (`state`) when `saved` is another object's, or was cut
    /// for another length or part size.
    pub fn restore(
        &mut self,
        saved: &UploadState,
        listed: &BTreeMap<u16, (u64, String)>,
    ) -> Result<usize, Error> {
        self.check_state(saved)?;
        self.upload_id = Some(saved.upload_id.clone());
        for (&n, part) in &saved.parts {
            let Some(slot) = self.plan.slot(n) else {
                continue;
            };
            let same = listed.get(&n).is_some_and(|(len, etag)| {
                *len == part.len && slot.len == part.len && same_etag(etag, &part.etag)
            });
            if same {
                self.sent.insert(n, part.len);
                self.done.insert(n, part.etag.clone());
            }
        }
        Ok(self.done.len())
    }

    /// Refuses a state saved by another upload.
    fn check_state(&self, saved: &UploadState) -> Result<(), Error> {
        let same = saved.bucket == self.bucket
            && saved.key == self.key
            && Some(saved.length) == self.plan.total
            && Some(saved.part_size) == self.plan.slot(1).map(|s| s.len);
        if !same {
            let why = "saved by an upload of another object, length or part size";
            return Err(InputError::argument("state", why).into());
        }
        Ok(())
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
        let mut part = UploadPart::new(
            self.bucket.clone(),
            self.key.clone(),
            upload_id,
            slot.number,
            body,
        );
        if self.wants_md5() {
            part = part.content_md5();
        }
        if let Some(algorithm) = self.checksum_algorithm() {
            part = part.checksum_algorithm(algorithm);
        }
        Ok(match self.customer_key() {
            Some(key) => part.sse_customer_key(key),
            None => part,
        })
    }

    /// The UploadPartCopy of `slot` from `bucket/key`, pinned to `etag`.
    ///
    /// # Errors
    /// As [`Upload::upload_part`].
    pub fn copy_part(
        &mut self,
        slot: &PartSlot,
        bucket: &BucketName,
        key: &ObjectKey,
        etag: &str,
        version_id: Option<&str>,
        source_key: Option<&CustomerKey>,
    ) -> Result<UploadPartCopy, Error> {
        let upload_id = self.require_id()?.to_owned();
        if slot.len == 0 {
            return Err(InputError::argument("slot", "an empty part cannot be copied").into());
        }
        self.sent.insert(slot.number, slot.len);
        let op = UploadPartCopy::new(
            bucket.clone(),
            key.clone(),
            self.bucket.clone(),
            self.key.clone(),
            upload_id,
            slot.number,
        )
        .range(slot.offset, slot.offset + slot.len - 1)?
        .copy_source_if_match(etag);
        let op = match version_id {
            Some(v) => op.source_version_id(v),
            None => op,
        };
        let op = match source_key {
            Some(key) => op.copy_source_sse_customer_key(key.clone()),
            None => op,
        };
        Ok(match self.customer_key() {
            Some(key) => op.sse_customer_key(key),
            None => op,
        })
    }

    /// Records the reply to the UploadPart of `slot`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for a slot never sent, or a part without the
    /// checksum the upload needs.
    pub fn part_done(&mut self, slot: &PartSlot, output: &UploadPartOutput) -> Result<(), Error> {
        let Some(&len) = self.sent.get(&slot.number) else {
            return Err(InputError::argument("slot", "this part was never sent").into());
        };
        if let Some(sums) = self.sums.as_mut() {
            let Some(checksum) = output.checksum else {
                let e = InputError::argument("checksum", "a part was sent without its checksum");
                return Err(e.into());
            };
            sums.add(slot.number, checksum, len)?;
        }
        self.done.insert(slot.number, output.etag.clone());
        Ok(())
    }

    /// The object's checksum once every part is done (the one single PutObject sent is
    /// its reply's).
    pub fn checksum(&self) -> Option<ObjectChecksum> {
        let (_, ty) = self.checksum?;
        self.sums.as_ref()?.finish(ty).ok()
    }

    /// Bytes acknowledged by the server so far.
    pub fn bytes_done(&self) -> u64 {
        self.done.keys().filter_map(|n| self.sent.get(n)).sum()
    }

    /// The CompleteMultipartUpload for the parts sent, once every one is done.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when a part is missing or unacknowledged, or when the
    /// bytes sent differ from the known total; [`InputError::ObjectTooLarge`] when an
    /// unknown-length source filled all 10,000 parts without ending (the object would be
    /// cut short).
    pub fn complete(&self) -> Result<CompleteMultipartUpload, Error> {
        let upload_id = self.require_id()?;
        let last = match (self.plan.total, self.last) {
            (Some(_), _) => self.plan.part_count().unwrap_or(0),
            (None, Some(last)) => last,
            (None, None) => {
                let size = self.sent.values().sum();
                let limit = self.plan.capacity();
                return Err(InputError::ObjectTooLarge { size, limit }.into());
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
            etag: self.done.get(&n).cloned().unwrap_or_default(),
        });
        let mut complete =
            CompleteMultipartUpload::new(self.bucket.clone(), self.key.clone(), upload_id, parts);
        if let (Some((_, ty)), Some(sums)) = (self.checksum, &self.sums) {
            complete = complete.checksums(sums, ty)?;
        }
        if let Some(v) = &self.if_none_match {
            complete = complete.if_none_match(v.clone());
        }
        if let Some(v) = &self.if_match {
            complete = complete.if_match(v.clone());
        }
        Ok(complete)
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
            checksum: self.checksum(),
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

/// ETags compare without their quotes (some servers drop them in ListParts).
fn same_etag(a: &str, b: &str) -> bool {
    a.trim_matches('"') == b.trim_matches('"')
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
    /// The object's flexible checksum, when one was sent: as the server reported it, else
    /// as computed (for a multipart upload, combined from the parts' without reading the
    /// data again).
    pub checksum: Option<ObjectChecksum>,
}

impl From<PutObjectOutput> for UploadOutput {
    fn from(out: PutObjectOutput) -> Self {
        UploadOutput {
            etag: out.etag,
            version_id: out.version_id,
            parts: 0,
            checksum: out.checksum,
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
            checksum: out.checksum,
        }
    }
}

/// Where an [`UploadFlow`]'s bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A file of `len` bytes the runtime can re-read at any offset: parts are streamed from
    /// it and retried by re-reading.
    File {
        /// Its length.
        len: u64,
    },
    /// A one-shot reader of `len` bytes, or of unknown length: the runtime reads it in slot
    /// order ([`crate::flow::Step::Read`]) and each part is kept in memory until sent.
    Reader {
        /// Its length, when known.
        len: Option<u64>,
    },
    /// Another object, copied part by part on the server (UploadPartCopy).
    Copy {
        /// The source bucket.
        bucket: BucketName,
        /// The source key.
        key: ObjectKey,
        /// The source's ETag: every part copies from this version.
        etag: String,
        /// Its version, in a versioned bucket.
        version_id: Option<String>,
        /// Its length.
        len: u64,
        /// The key it was written with, for an SSE-C source.
        sse_customer: Option<CustomerKey>,
    },
}

impl Source {
    fn len(&self) -> Option<u64> {
        match self {
            Source::File { len } | Source::Copy { len, .. } => Some(*len),
            Source::Reader { len } => *len,
        }
    }
}

/// Where an [`UploadFlow`] is, in the order it gets there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Nothing sent yet.
    Start,
    /// ListParts of a saved upload is out, to resume it.
    Resuming,
    /// Waiting for the first slot of a reader, which decides single or multipart.
    FirstRead,
    /// The single PutObject is out.
    Single,
    /// CreateMultipartUpload is out.
    Creating,
    /// Parts are being read and sent.
    Parts,
    /// CompleteMultipartUpload is out.
    Completing,
    /// HeadObject is out, after a lost complete reply.
    Confirming,
    /// AbortMultipartUpload is out, after a failure.
    Aborting,
    /// ListMultipartUploads is out, looking for uploads lost creates started.
    Listing,
    /// Aborting what lost creates started.
    Sweeping,
    /// Over.
    Finished,
}

/// Ids of the jobs that are not parts (parts use their part number, 1..=10,000).
const CONTROL: u32 = 0;

/// A whole upload as one machine: single PutObject or multipart, parts in parallel within a
/// budget, lost creates and completes recovered, aborted after any failure, uploads left by
/// lost creates swept. See [`crate::flow`] for the loop that drives it.
///
/// ```
/// use std::time::SystemTime;
/// use s3_proto::flow::upload::{Source, UploadFlow, UploadOptions};
/// use s3_proto::flow::{Flow, Step, Work};
///
/// let mut flow = UploadFlow::new("bucket".parse()?, "small.txt".parse()?, Source::File { len: 11 },
///     UploadOptions::default(), SystemTime::UNIX_EPOCH)?;
/// let Step::Send(job) = flow.poll() else { unreachable!() };
/// assert!(matches!(job.work, Work::FileBody { offset: 0, len: 11, .. }));
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct UploadFlow {
    up: Upload,
    source: Source,
    concurrency: usize,
    phase: Phase,
    /// Bytes of each part in flight, by part number.
    in_flight: SortedMap<u32, u64>,
    /// A part read from a reader, not yet handed out.
    pending: Option<(PartSlot, Vec<u8>)>,
    /// The slot a [`Step::Read`](super::Step::Read) is filling.
    reading: Option<PartSlot>,
    /// No more slots to hand out.
    exhausted: bool,
    failure: Option<Error>,
    output: Option<UploadOutput>,
    /// The complete's error, kept while the object is checked after a lost reply.
    complete_error: Option<Error>,
    started: SystemTime,
    lost_create: bool,
    sweep: Vec<AbortMultipartUpload>,
    progress: ProgressCounter,
    /// Set for a resumable upload.
    resume: Option<Resume>,
}

/// A resumable upload's state keeping: the state to take up, and where it is saved.
struct Resume {
    saved: Option<UploadState>,
    save: SaveFn,
    /// The parts ListParts reported so far, and the next page to ask for.
    listed: BTreeMap<u16, (u64, String)>,
    page: Option<ListParts>,
}

impl std::fmt::Debug for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resume")
            .field("saved", &self.saved)
            .field("listed", &self.listed.len())
            .finish_non_exhaustive()
    }
}

impl UploadFlow {
    /// An upload of `source` to `key` in `bucket`; `started` is the local time now (uploads
    /// left by lost creates are recognised by starting no earlier than it, less
    /// [`LOST_CREATE_SKEW`]).
    ///
    /// # Errors
    /// [`InputError::ObjectTooLarge`] for a length over the 5 TiB object limit.
    pub fn new(
        bucket: BucketName,
        key: ObjectKey,
        source: Source,
        options: UploadOptions,
        started: SystemTime,
    ) -> Result<Self, Error> {
        let budget = options.memory_budget;
        let up = Upload::new(bucket, key, source.len(), options)?;
        let concurrency = match source {
            Source::Copy { .. } => MAX_CONCURRENCY.min(16),
            _ => up.concurrency(budget),
        };
        Ok(UploadFlow {
            progress: ProgressCounter::new(source.len(), None),
            up,
            source,
            concurrency,
            phase: Phase::Start,
            in_flight: SortedMap::new(),
            pending: None,
            reading: None,
            exhausted: false,
            failure: None,
            output: None,
            complete_error: None,
            started,
            lost_create: false,
            sweep: Vec::new(),
            resume: None,
        })
    }

    /// Makes the upload resumable across processes: `saved` (a state file read back, see
    /// [`UploadState::decode`]) is taken up when its upload still exists, and `save` gets
    /// the new state once the multipart upload exists and after every part. A failure
    /// leaves the multipart upload in place, instead of aborting it, for the next attempt.
    /// Only a file (a known length going multipart) can be resumed.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for another source, an upload small enough for one
    /// PutObject, a flexible checksum (not kept in the state yet), or a `saved` state of
    /// another object, length or part size.
    pub fn resumable(mut self, saved: Option<UploadState>, save: SaveFn) -> Result<Self, Error> {
        if !matches!(self.source, Source::File { .. }) || self.up.is_single() {
            let why = "only a file large enough for a multipart upload can be resumed";
            return Err(InputError::argument("source", why).into());
        }
        if self.up.checksum.is_some() {
            let why = "a resumable upload cannot carry a flexible checksum yet";
            return Err(InputError::argument("checksum", why).into());
        }
        if let Some(saved) = &saved {
            self.up.check_state(saved)?;
        }
        let page = saved.as_ref().map(|s| {
            ListParts::new(s.bucket.clone(), s.key.clone(), s.upload_id.clone()).max_parts(1000)
        });
        self.resume = Some(Resume {
            saved,
            save,
            listed: BTreeMap::new(),
            page,
        });
        Ok(self)
    }

    /// Hands the current state to the resumable upload's [`SaveFn`].
    fn save(&mut self) {
        let (Some(resume), Some(state)) = (self.resume.as_mut(), self.up.state()) else {
            return;
        };
        if let Err(e) = (resume.save)(&state.encode()) {
            self.failed(e);
        }
    }

    /// A page of the saved upload's parts arrived: ask for the next, or take the upload up.
    fn listed(&mut self, page: &crate::ops::ListPartsOutput) {
        let Some(resume) = self.resume.as_mut() else {
            return self.failed(super::unexpected());
        };
        for part in &page.parts {
            resume
                .listed
                .insert(part.part_number, (part.size, part.etag.clone()));
        }
        let next = page.next_part_number_marker.filter(|_| page.is_truncated);
        resume.page = match (next, resume.page.take()) {
            (Some(marker), Some(op)) => Some(op.part_number_marker(marker)),
            _ => None,
        };
        if resume.page.is_some() {
            return;
        }
        let Some(saved) = resume.saved.take() else {
            return self.failed(super::unexpected());
        };
        let listed = std::mem::take(&mut resume.listed);
        match self.up.restore(&saved, &listed) {
            Ok(_) => {
                self.progress.add(self.up.bytes_done());
                self.phase = Phase::Parts;
                self.save();
            }
            Err(e) => self.failed(e),
        }
    }

    /// Sets the object's attributes (content type, metadata, ACL …).
    pub fn attributes(mut self, attributes: ObjectAttributes) -> Self {
        self.up = self.up.attributes(attributes);
        self
    }

    /// Sets the content type, unless the [`UploadOptions`] named one (a runtime passes the
    /// type it guessed from the name here).
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        if self.up.attributes.content_type.is_none() {
            self.up = self.up.content_type(value);
        }
        self
    }

    /// Lets the server check each body by its signed SHA-256 payload hash instead of a
    /// `Content-MD5`, when it does ([`Upload::payload_hashes`]).
    pub fn payload_hashes(mut self, yes: bool) -> Self {
        self.up.payload_hashes(yes);
        self
    }

    /// Lets a flexible checksum the server checks cover each body by itself over TLS, with no
    /// SHA-256 or `Content-MD5` pass ([`Upload::checksums_cover`]).
    pub fn checksums_cover(mut self, yes: bool) -> Self {
        self.up.checksums_cover(yes);
        self
    }

    /// Reports progress to `callback` as parts complete.
    pub fn progress(mut self, callback: Option<ProgressFn>) -> Self {
        self.progress = ProgressCounter::new(self.source.len(), callback);
        self
    }

    /// The planner underneath (part plan, upload id).
    pub fn upload(&self) -> &Upload {
        &self.up
    }

    fn single_put(&self, body: Body) -> Job {
        Job::call(CONTROL, self.up.put_object(body))
    }

    /// The next part to hand out, or `None` when none is ready.
    fn next_part(&mut self) -> Result<Option<Step<UploadOutput>>, Error> {
        if let Some((slot, bytes)) = self.pending.take() {
            let len = bytes.len() as u64;
            let op = self.up.upload_part(&slot, bytes.into())?;
            self.in_flight.insert(u32::from(slot.number), len);
            return Ok(Some(Step::Spawn(Job::call(u32::from(slot.number), op))));
        }
        if self.exhausted || self.reading.is_some() || self.in_flight.len() >= self.concurrency {
            return Ok(None);
        }
        let Some(slot) = self.up.next_part() else {
            self.exhausted = true;
            return Ok(None);
        };
        let id = u32::from(slot.number);
        let step = match &self.source {
            Source::Reader { .. } => {
                self.reading = Some(slot);
                return Ok(Some(Step::Read(slot.len)));
            }
            Source::File { .. } => {
                let op = self.up.upload_part(
                    &slot,
                    Body::Stream {
                        length: Some(slot.len),
                    },
                )?;
                let work = Work::FileBody {
                    call: op.into(),
                    offset: slot.offset,
                    len: slot.len,
                    digests: self.up.digests(),
                };
                Step::Spawn(Job { id, work })
            }
            Source::Copy {
                bucket,
                key,
                etag,
                version_id,
                sse_customer,
                ..
            } => {
                let (version, customer) = (version_id.as_deref(), sse_customer.as_ref());
                let op = self
                    .up
                    .copy_part(&slot, bucket, key, etag, version, customer)?;
                Step::Spawn(Job::call(id, op))
            }
        };
        self.in_flight.insert(id, slot.len);
        Ok(Some(step))
    }

    /// Hands out parts while the budget allows, then completes.
    fn poll_parts(&mut self) -> Step<UploadOutput> {
        self.phase = Phase::Parts;
        match self.next_part() {
            Ok(Some(step)) => return step,
            Ok(None) => {}
            Err(e) => self.failed(e),
        }
        // Nothing out and nothing more to hand out (all sent, or a failure).
        if self.in_flight.is_empty() && self.reading.is_none() {
            self.after_parts()
        } else {
            Step::Wait
        }
    }

    /// Records a failure (the first one is the one reported) and starts cleaning up.
    fn failed(&mut self, error: Error) {
        self.failure.get_or_insert(error);
        self.pending = None;
        self.exhausted = true;
    }

    /// What to do once the parts are over (or failed) and nothing is in flight.
    fn after_parts(&mut self) -> Step<UploadOutput> {
        if self.failure.is_none() {
            match self.up.complete() {
                Ok(complete) => {
                    self.phase = Phase::Completing;
                    return Step::Send(Job::call(CONTROL, complete));
                }
                Err(e) => self.failed(e),
            }
        }
        self.cleanup()
    }

    /// Abort after a failure, then sweep what lost creates started, then finish.
    fn cleanup(&mut self) -> Step<UploadOutput> {
        // A resumable upload is left in place for the next attempt.
        if self.failure.is_some() && self.phase < Phase::Aborting && self.resume.is_none() {
            if let Some(abort) = self.up.abort() {
                self.phase = Phase::Aborting;
                return Step::Send(Job::call(CONTROL, abort));
            }
        }
        if self.lost_create && self.phase < Phase::Listing {
            self.phase = Phase::Listing;
            return Step::Send(Job::call(CONTROL, self.up.find_lost()));
        }
        if let Some(abort) = self.sweep.pop() {
            self.phase = Phase::Sweeping;
            return Step::Send(Job::call(CONTROL, abort));
        }
        self.phase = Phase::Finished;
        match (self.failure.take(), self.output.take()) {
            (Some(e), _) => Step::Done(Err(e)),
            (None, Some(out)) => Step::Done(Ok(out)),
            (None, None) => Step::Done(Err(InputError::argument(
                "upload",
                "polled again after it was over",
            )
            .into())),
        }
    }

    fn handle_control(&mut self, sent: Sent<Reply>) {
        let lost = sent.reply_lost;
        let reply = match sent.result {
            Ok(reply) => reply,
            Err(e) => {
                match self.phase {
                    // The saved upload is gone (completed, aborted, expired): start afresh.
                    Phase::Resuming if e.code() == Some(&crate::ErrorCode::NoSuchUpload) => {
                        if let Some(resume) = self.resume.as_mut() {
                            (resume.saved, resume.page) = (None, None);
                        }
                        self.phase = Phase::Start;
                        return;
                    }
                    Phase::Creating => self.lost_create |= lost,
                    // A reply was lost: whatever the last attempt said, the first one may have
                    // gone through. The object says.
                    Phase::Completing if lost => {
                        self.complete_error = Some(e);
                        self.phase = Phase::Confirming;
                        return;
                    }
                    Phase::Confirming => {
                        let original = self.complete_error.take().unwrap_or(e);
                        return self.failed(original);
                    }
                    // A failed clean-up changes nothing: the original error is reported.
                    Phase::Aborting | Phase::Listing | Phase::Sweeping => return,
                    _ => {}
                }
                return self.failed(e);
            }
        };
        match (self.phase, reply) {
            (Phase::Single, Reply::PutObject(out)) => {
                self.progress.add(self.source.len().unwrap_or(0));
                self.output = Some(out.into());
            }
            (Phase::Creating, Reply::CreateMultipartUpload(created)) => {
                self.lost_create |= lost;
                match self.up.started(&created) {
                    Ok(()) => {
                        self.phase = Phase::Parts;
                        self.save();
                    }
                    Err(e) => self.failed(e),
                }
            }
            (Phase::Resuming, Reply::ListParts(page)) => self.listed(&page),
            (Phase::Completing, Reply::CompleteMultipartUpload(done)) => {
                let parts = u16::try_from(self.up.done.len()).unwrap_or(MAX_PARTS);
                let mut output = UploadOutput::multipart(done, parts);
                output.checksum = output.checksum.or_else(|| self.up.checksum());
                self.output = Some(output);
            }
            (Phase::Confirming, Reply::HeadObject(head)) => {
                let error = self.complete_error.take();
                match (self.up.completed_output(&head), error) {
                    (Some(out), _) => self.output = Some(out),
                    (None, Some(e)) => self.failed(e),
                    (None, None) => self.failed(super::unexpected()),
                }
            }
            (Phase::Listing, Reply::ListMultipartUploads(listing)) => {
                self.sweep = self.up.lost_uploads(&listing, self.started);
            }
            (Phase::Aborting | Phase::Sweeping, _) => {}
            _ => self.failed(super::unexpected()),
        }
    }
}

impl Flow for UploadFlow {
    type Output = UploadOutput;

    fn poll(&mut self) -> Step<UploadOutput> {
        match self.phase {
            Phase::Start if self.resume.as_ref().is_some_and(|r| r.page.is_some()) => {
                self.phase = Phase::Resuming;
                self.poll()
            }
            Phase::Resuming if self.failure.is_some() => self.cleanup(),
            Phase::Resuming => match self.resume.as_mut().and_then(|r| r.page.clone()) {
                Some(page) => Step::Send(Job::call(CONTROL, page)),
                None => self.poll_parts(),
            },
            Phase::Start => match &self.source {
                Source::Reader { len } => {
                    self.phase = Phase::FirstRead;
                    let first = self.up.plan().slot(1).map_or(0, |s| s.len);
                    Step::Read(if self.up.is_single() {
                        len.unwrap_or(0)
                    } else {
                        first
                    })
                }
                Source::File { len } if self.up.is_single() => {
                    self.phase = Phase::Single;
                    let (len, digests) = (*len, self.up.digests());
                    let call = self
                        .up
                        .put_object(Body::Stream { length: Some(len) })
                        .into();
                    Step::Send(Job {
                        id: CONTROL,
                        work: Work::FileBody {
                            call,
                            offset: 0,
                            len,
                            digests,
                        },
                    })
                }
                _ => {
                    self.phase = Phase::Creating;
                    Step::Send(Job::call(CONTROL, self.up.create()))
                }
            },
            Phase::FirstRead if self.failure.is_some() => self.cleanup(),
            Phase::FirstRead => {
                // Read answered: decide between one PutObject and a multipart upload.
                match self.pending.take() {
                    Some((slot, bytes)) => self.first_part(slot, bytes),
                    None => self.cleanup(),
                }
            }
            Phase::Single | Phase::Completing | Phase::Confirming
                if self.output.is_some() || self.failure.is_some() =>
            {
                self.cleanup()
            }
            Phase::Confirming => Step::Send(Job::call(CONTROL, self.up.head())),
            Phase::Creating if self.failure.is_some() => self.cleanup(),
            Phase::Creating | Phase::Parts => self.poll_parts(),
            Phase::Single
            | Phase::Completing
            | Phase::Aborting
            | Phase::Listing
            | Phase::Sweeping
            | Phase::Finished => self.cleanup(),
        }
    }

    fn handle(&mut self, id: u32, sent: Sent<Reply>) {
        if id == CONTROL {
            return self.handle_control(sent);
        }
        let Some(len) = self.in_flight.remove(&id) else {
            return self.failed(super::unexpected());
        };
        let Ok(number) = u16::try_from(id) else {
            return self.failed(super::unexpected());
        };
        let out = match sent.result {
            Ok(Reply::UploadPart(out)) => out,
            Ok(Reply::UploadPartCopy(out)) => UploadPartOutput {
                etag: out.etag,
                checksum: out.checksum,
            },
            Ok(_) => return self.failed(super::unexpected()),
            Err(e) => return self.failed(e),
        };
        let slot = PartSlot {
            number,
            offset: 0,
            len,
        };
        match self.up.part_done(&slot, &out) {
            Ok(()) => {
                self.progress.add(len);
                self.save();
            }
            Err(e) => self.failed(e),
        }
    }

    fn read(&mut self, bytes: Vec<u8>) {
        if self.phase == Phase::FirstRead {
            let slot = self.up.plan().slot(1);
            return match slot {
                Some(slot) => self.pending = Some((slot, bytes)),
                None => self.failed(InputError::argument("body", "nothing to upload").into()),
            };
        }
        let Some(slot) = self.reading.take() else {
            return self.failed(super::unexpected());
        };
        let n = bytes.len() as u64;
        if self.up.plan().total().is_none() {
            if n == 0 && slot.number > 1 {
                self.up.end_before(&slot);
                self.exhausted = true;
                return;
            }
            if n < slot.len {
                self.exhausted = true;
            }
        } else if n != slot.len {
            return self.failed(InputError::argument("body", "the reader ended early").into());
        }
        self.pending = Some((slot, bytes));
    }

    fn fail(&mut self, error: Error) {
        self.reading = None;
        self.failed(error);
    }
}

impl UploadFlow {
    /// The first slot of a reader arrived: one PutObject when it holds everything, else
    /// start the multipart upload with the slot pending.
    fn first_part(&mut self, slot: PartSlot, bytes: Vec<u8>) -> Step<UploadOutput> {
        let n = bytes.len() as u64;
        let single = match self.up.plan().total() {
            Some(total) if self.up.is_single() => {
                if n != total {
                    self.failed(InputError::argument("body", "the reader ended early").into());
                    return self.cleanup();
                }
                true
            }
            Some(_) => false,
            None => n < slot.len,
        };
        if single {
            self.phase = Phase::Single;
            self.progress = ProgressCounter::new(Some(n), self.progress.callback());
            self.source = Source::Reader { len: Some(n) };
            return Step::Send(self.single_put(bytes.into()));
        }
        // The planner hands this slot out once, here.
        if self.up.next_part() != Some(slot) {
            self.failed(super::unexpected());
            return self.cleanup();
        }
        if n != slot.len {
            self.failed(InputError::argument("body", "the reader ended early").into());
            return self.cleanup();
        }
        self.pending = Some((slot, bytes));
        self.phase = Phase::Creating;
        Step::Send(Job::call(CONTROL, self.up.create()))
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
            checksum: None,
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
            checksum: None,
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
        assert!(
            find.uri()
                .to_string()
                .ends_with("?uploads&prefix=key&encoding-type=url")
        );
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
        assert!(upload(Some(0), opts.clone()).is_single());
        assert!(upload(Some(8 * MIB - 1), opts.clone()).is_single());
        assert!(!upload(Some(8 * MIB), opts.clone()).is_single());
        assert!(!upload(None, opts.clone()).is_single());
        let single = upload(Some(3), opts.clone()).put_object("abc");
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
        let mut up = upload(Some(5 * MIB), opts.clone());
        let slots = run(&mut up, |s| s.len);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].len, 5 * MIB);
        let mut up = upload(Some(5 * MIB + 1), opts.clone());
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
    fn huge_objects_stay_within_ten_thousand_parts() {
        const TIB: u64 = 1024 * 1024 * MIB;
        for total in [TIB, 4 * TIB + 7, MAX_OBJECT_SIZE - 1, MAX_OBJECT_SIZE] {
            for preferred in [0, 5 * MIB, 8 * MIB, 64 * MIB, MAX_PART_SIZE] {
                let plan = PartPlan::new(Some(total), preferred).unwrap();
                let count = plan.part_count().unwrap();
                assert!(count <= MAX_PARTS, "{total} in {count} parts");
                let last = plan.slot(count).unwrap();
                assert_eq!(last.offset + last.len, total);
                assert!(plan.slot(1).unwrap().len <= MAX_PART_SIZE);
            }
        }
        let too_big = PartPlan::new(Some(MAX_OBJECT_SIZE + 1), 8 * MIB).unwrap_err();
        assert_eq!(
            too_big,
            InputError::ObjectTooLarge {
                size: MAX_OBJECT_SIZE + 1,
                limit: MAX_OBJECT_SIZE
            }
        );
        assert!(too_big.to_string().contains("10,000 parts"), "{too_big}");
        let flow = UploadFlow::new(
            BucketName::new("bucket").unwrap(),
            ObjectKey::new("key").unwrap(),
            Source::File { len: u64::MAX },
            UploadOptions::default(),
            SystemTime::UNIX_EPOCH,
        );
        assert!(matches!(
            flow.unwrap_err(),
            Error::Input(InputError::ObjectTooLarge { size: u64::MAX, .. })
        ));
    }

    #[test]
    fn a_stream_that_fills_ten_thousand_parts_is_too_large() {
        let mut up = upload(None, UploadOptions::default().part_size(5 * MIB));
        // Every slot comes back full: the source never ends.
        let slots = run(&mut up, |s| s.len);
        assert_eq!(slots.len(), usize::from(MAX_PARTS));
        let sent: u64 = slots.iter().map(|s| s.len).sum();
        let e = up.complete().unwrap_err();
        assert!(
            matches!(e, Error::Input(InputError::ObjectTooLarge { size, limit }) if size == sent && limit == up.plan().capacity()),
            "{e:?}"
        );
        assert!(
            up.abort().is_some(),
            "the upload is aborted, not completed short"
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
        let mut up = upload(None, opts.clone());
        let slots = run(&mut up, |s| s.len.min(source.saturating_sub(s.offset)));
        assert_eq!(slots.len(), 3);
        assert!(up.next_part().is_none());
        assert_eq!(up.complete().unwrap().parts().len(), 3);

        // Ends exactly on a part boundary: the next read is empty.
        let mut up = upload(None, opts.clone());
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
