//! Content checks: every byte read is verified against what S3 promises, or declared
//! unverified with the reason.
//!
//! S3's ETag is the hex MD5 of the object for a single-part upload stored without SSE-KMS or
//! a customer key. A multipart ETag (`"…-N"`) is the MD5 of the N parts' MD5s: it can be
//! rebuilt from the bytes when the part boundaries are known. A read infers them from the
//! length and N, assuming equal parts but the last (what every SDK, the CLI and s3-rs
//! upload); the likely part sizes are hashed side by side in one pass
//! ([`part_size_candidates`]). Where that fails, a download asks the server for each part's
//! size (HeadObject with `partNumber`; Ceph RGW and s3s-fs ignore it) and hashes along
//! [`ObjectHead::part_sizes`].
//!
//! [`ObjectDigest`] hashes a body in order and judges it at the end; [`Rereads`] decides
//! whether a whole read is worth repeating after a mismatch (a transient fault on the way),
//! and stops when two reads hash alike (the bytes are stable: corrupted at rest, or a
//! multipart object of unequal parts, which only [`Integrity::Off`] reads).
//!
//! ```
//! use s3_proto::integrity::{ObjectDigest, Verification};
//! use s3_proto::ObjectHead;
//!
//! let mut head = ObjectHead::default();
//! head.etag = Some("\"5d41402abc4b2a76b9719d911017c592\"".into());
//! head.content_length = Some(5);
//! let mut digest = ObjectDigest::of(&head, "bucket/key").unwrap();
//! digest.update(b"hel");
//! digest.update(b"lo");
//! assert_eq!(digest.finish()?, Verification::Md5);
//! # Ok::<(), s3_proto::Error>(())
//! ```

use base64::Engine as _;
use md5::Digest as _;

use crate::checksum::{Checksum, ChecksumAlgorithm, ChecksumType, Hasher, ObjectChecksum};
use crate::error::{Error, ResponseError};
use crate::object::ObjectHead;

/// An MD5 fed piece by piece.
#[derive(Debug, Clone, Default)]
pub struct Md5 {
    inner: md5::Md5,
}

impl Md5 {
    /// An empty digest.
    pub fn new() -> Self {
        Md5::default()
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The raw 16 bytes.
    pub fn digest(self) -> [u8; 16] {
        self.inner.finalize().into()
    }

    /// The digest as a `Content-MD5` header value (base64).
    pub fn content_md5(self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.digest())
    }

    /// The digest as lower-case hex (how a plain ETag spells it).
    pub fn hex(self) -> String {
        crate::sign::hex(&self.digest())
    }
}

/// How much verification reads insist on (a client-wide option).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Integrity {
    /// Verify what can be verified; bytes that cannot be are returned and declared
    /// [`Verification::Unverified`] (the default).
    #[default]
    Verify,
    /// As `Verify`, but bytes that cannot be verified are an error
    /// ([`ResponseError::Unverified`]).
    Require,
    /// Hash nothing; every read is declared unverified ([`Unverified::Off`]).
    Off,
}

/// How the bytes of a read were verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// Their MD5 is the object's (single-part) ETag.
    Md5,
    /// The MD5 of their parts' MD5s is the object's multipart ETag.
    MultipartEtag {
        /// Parts in the object.
        parts: u32,
        /// Bytes in every part but the last.
        part_size: u64,
    },
    /// They match the flexible checksum the server stored (asked for with checksum mode),
    /// which takes precedence over the ETag: a `FULL_OBJECT` checksum over the whole body,
    /// a `COMPOSITE` one part by part.
    Checksum {
        /// The checksum's algorithm.
        algorithm: ChecksumAlgorithm,
        /// What it covers.
        checksum_type: ChecksumType,
    },
    /// They were not verified, for this reason.
    Unverified(Unverified),
}

/// Why bytes could not be verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unverified {
    /// Verification is switched off ([`Integrity::Off`]).
    Off,
    /// Only part of the object was read; S3 publishes no digest of a range.
    Range,
    /// The reply carried no ETag.
    NoEtag,
    /// The object is encrypted with SSE-KMS or a customer key: its ETag is no MD5.
    Encrypted,
    /// The ETag has a form that is no digest s3-rs knows.
    UnknownEtag,
    /// A multipart object whose part count and length admit no equal cut.
    PartLayout,
    /// A multipart object of unequal parts read as one stream: its bytes were handed on
    /// before its part sizes were known, so its ETag could not be rebuilt.
    UnequalParts,
}

impl std::fmt::Display for Unverified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unverified::Off => "verification is off",
            Unverified::Range => "a range has no published digest",
            Unverified::NoEtag => "the reply has no ETag",
            Unverified::Encrypted => "the ETag of an SSE-KMS or SSE-C object is no MD5",
            Unverified::UnknownEtag => "the ETag is no digest s3-rs knows",
            Unverified::PartLayout => "the multipart object's part sizes are unknown",
            Unverified::UnequalParts => "a stream cannot check a multipart object of unequal parts",
        })
    }
}

impl Verification {
    /// Applies `integrity`: an unverified read is an error under [`Integrity::Require`].
    ///
    /// # Errors
    /// [`ResponseError::Unverified`] naming `object` and the reason.
    pub fn require(self, integrity: Integrity, object: &str) -> Result<Self, Error> {
        match self {
            Verification::Unverified(reason) if integrity == Integrity::Require => {
                Err(ResponseError::Unverified {
                    object: object.to_owned(),
                    reason,
                }
                .into())
            }
            v => Ok(v),
        }
    }
}

/// The most part sizes hashed side by side for one multipart object.
const MAX_LAYOUTS: usize = 4;

/// Part sizes tried first: the SDKs', CLIs' and tools' defaults.
const USUAL_PART_SIZES: [u64; 12] = [
    8 << 20,
    5 << 20,
    16 << 20,
    15 << 20,
    10 << 20,
    64 << 20,
    32 << 20,
    100 << 20,
    128 << 20,
    10_000_000,
    5_000_000,
    8_000_000,
];

/// The part sizes that could have cut `size` bytes into `parts` equal parts but a shorter
/// (or equal) last one, most likely first, at most four: the tools' usual sizes, then whole
/// MiB and MB, then the smallest possible size. Empty when no equal cut exists.
pub fn part_size_candidates(size: u64, parts: u32) -> Vec<u64> {
    let n = u64::from(parts);
    if n == 0 || size < n {
        return Vec::new();
    }
    if n == 1 {
        return vec![size];
    }
    // Every part but the last has p bytes, the last 1..=p: (n-1)p < size <= np.
    let (lo, hi) = (size.div_ceil(n), (size - 1) / (n - 1));
    if lo > hi {
        return Vec::new();
    }
    let wholes = [1u64 << 20, 1_000_000].into_iter().flat_map(|unit| {
        let first = lo.div_ceil(unit).max(1);
        (first..=hi / unit).take(MAX_LAYOUTS).map(move |k| k * unit)
    });
    let mut out: Vec<u64> = Vec::with_capacity(MAX_LAYOUTS);
    for p in USUAL_PART_SIZES.into_iter().chain(wholes).chain([lo]) {
        if (lo..=hi).contains(&p) && !out.contains(&p) && out.len() < MAX_LAYOUTS {
            out.push(p);
        }
    }
    out
}

/// The part count a multipart ETag (`"…-N"`) or a composite checksum (`…-N`) of `head`
/// names, the ETag first.
pub(crate) fn multipart_parts(head: &ObjectHead) -> Option<u32> {
    let from_etag = head
        .etag
        .as_deref()
        .and_then(|e| e.trim_matches('"').split_once('-'))
        .and_then(|(_, n)| n.parse::<u32>().ok());
    from_etag.or(head.checksum.and_then(|c| c.parts()))
}

/// The part sizes `head` lists ([`ObjectHead::part_sizes`]) when they describe `parts` parts of
/// `size` bytes in all, none empty.
fn listed_parts(head: &ObjectHead, parts: u32, size: u64) -> Option<&[u64]> {
    let sizes = head.part_sizes.as_deref()?;
    let fits = sizes.len() == parts as usize
        && sizes.iter().all(|&n| n > 0)
        && sizes.iter().try_fold(0u64, |a, &n| a.checked_add(n)) == Some(size);
    fits.then_some(sizes)
}

/// What a body's digest must be, decided from the reply's head.
#[derive(Debug, Clone)]
enum Expected {
    Md5(Md5),
    Multipart {
        parts: u32,
        layouts: Vec<PartHasher>,
    },
}

/// The digest of one part, and of the parts' digests: MD5 for a multipart ETag, the
/// checksum's algorithm for a composite checksum.
#[derive(Debug, Clone)]
enum PartDigest {
    Md5(Md5),
    Sum(Hasher),
}

impl PartDigest {
    fn like(&self) -> Self {
        match self {
            PartDigest::Md5(_) => PartDigest::Md5(Md5::new()),
            PartDigest::Sum(h) => PartDigest::Sum(Hasher::new(h.algorithm())),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            PartDigest::Md5(m) => m.update(data),
            PartDigest::Sum(h) => h.update(data),
        }
    }

    /// The raw digest; the digest starts over.
    fn take(&mut self) -> Vec<u8> {
        let fresh = self.like();
        match std::mem::replace(self, fresh) {
            PartDigest::Md5(m) => m.digest().to_vec(),
            PartDigest::Sum(h) => h.finish().as_bytes().to_vec(),
        }
    }
}

/// One guess at a multipart object's part size (or its parts' sizes as the server listed
/// them), hashed as bytes stream by.
#[derive(Debug, Clone)]
struct PartHasher {
    part_size: u64,
    /// Every part's size, in order, when known: the cut is then no guess.
    listed: Option<std::sync::Arc<[u64]>>,
    in_part: u64,
    part: PartDigest,
    of_parts: PartDigest,
    count: u32,
}

impl PartHasher {
    fn new(part_size: u64) -> Self {
        PartHasher::of(part_size, PartDigest::Md5(Md5::new()))
    }

    /// A hasher whose parts were hashed elsewhere, side by side: their MD5s, in order.
    fn with_parts(part_size: u64, parts: &[[u8; 16]]) -> Self {
        let mut hasher = PartHasher::new(part_size);
        for part in parts {
            hasher.of_parts.update(part);
            hasher.count += 1;
        }
        hasher
    }

    fn of(part_size: u64, digest: PartDigest) -> Self {
        PartHasher {
            part_size,
            listed: None,
            in_part: 0,
            part: digest.like(),
            of_parts: digest,
            count: 0,
        }
    }

    /// The cuts to hash a `parts`-part body of `size` bytes along, each part and the parts'
    /// digests with `digest`'s algorithm: the sizes `head` lists when they describe it, else
    /// every likely equal cut ([`part_size_candidates`]; none when no equal cut exists).
    fn layouts(head: &ObjectHead, parts: u32, size: u64, digest: PartDigest) -> Vec<Self> {
        match listed_parts(head, parts, size) {
            Some(sizes) => vec![PartHasher::listed(sizes, digest)],
            None => part_size_candidates(size, parts)
                .into_iter()
                .map(|p| PartHasher::of(p, digest.like()))
                .collect(),
        }
    }

    /// True when every cut in `layouts` is a guess (no listed sizes).
    fn inferred(layouts: &[Self]) -> bool {
        !layouts.iter().any(|l| l.listed.is_some())
    }

    /// A hasher cutting at `sizes` (every part's, in order, none empty).
    fn listed(sizes: &[u64], digest: PartDigest) -> Self {
        PartHasher {
            listed: Some(sizes.into()),
            ..PartHasher::of(sizes.first().copied().unwrap_or(u64::MAX), digest)
        }
    }

    /// Bytes in the current part.
    fn current_len(&self) -> u64 {
        match &self.listed {
            Some(sizes) => sizes
                .get(self.count as usize)
                .copied()
                .filter(|&n| n > 0)
                .unwrap_or(u64::MAX),
            None => self.part_size,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let len = self.current_len();
            let room = len - self.in_part;
            let take = usize::try_from(room).map_or(data.len(), |r| r.min(data.len()));
            self.part.update(&data[..take]);
            self.in_part += take as u64;
            data = &data[take..];
            if self.in_part == len {
                self.end_part();
            }
        }
    }

    fn end_part(&mut self) {
        let part = self.part.take();
        self.of_parts.update(&part);
        self.count += 1;
        self.in_part = 0;
    }

    /// The digest of the part digests these bytes would have, cut at this part size, and
    /// the part count.
    fn finish(mut self) -> (Vec<u8>, u32) {
        if self.in_part > 0 || self.count == 0 {
            self.end_part();
        }
        (self.of_parts.take(), self.count)
    }

    /// The ETag these bytes would have, cut at this part size (without quotes).
    fn etag(self) -> String {
        let (digest, count) = self.finish();
        format!("{}-{count}", crate::sign::hex(&digest))
    }
}

/// The stored flexible checksum a body is checked against.
#[derive(Debug, Clone)]
enum SumCheck {
    /// A `FULL_OBJECT` checksum: the whole body hashed once.
    Full(ObjectChecksum, Hasher),
    /// A `COMPOSITE` checksum of `-N` parts, checked part by part at the likely part sizes.
    Composite(ObjectChecksum, Vec<PartHasher>),
}

impl SumCheck {
    /// The check of the body `head` describes against its stored checksum, if it has one
    /// that can be checked (a composite one needs a part layout).
    fn of(head: &ObjectHead) -> Option<Self> {
        let stored = head.checksum?;
        if stored.covers_body() {
            return Some(SumCheck::Full(stored, Hasher::new(stored.algorithm())));
        }
        let size = head
            .content_range
            .and_then(|r| r.total)
            .or(head.content_length)?;
        let digest = PartDigest::Sum(Hasher::new(stored.algorithm()));
        let layouts = PartHasher::layouts(head, stored.parts()?, size, digest);
        (!layouts.is_empty()).then_some(SumCheck::Composite(stored, layouts))
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            SumCheck::Full(_, h) => h.update(data),
            SumCheck::Composite(_, layouts) => layouts.iter_mut().for_each(|l| l.update(data)),
        }
    }

    /// Judges the body: its verification, or the mismatch error.
    fn finish(self, object: &str) -> Result<Verification, Error> {
        let (stored, actual, inferred) = match self {
            SumCheck::Full(stored, hasher) => return judge_full(stored, &hasher.finish(), object),
            SumCheck::Composite(stored, layouts) => {
                let (mut first, inferred) = (None, PartHasher::inferred(&layouts));
                for layout in layouts {
                    let (digest, count) = layout.finish();
                    let value = Checksum::new(stored.algorithm(), &digest)
                        .map(|c| format!("{}-{count}", c.to_base64()))
                        .unwrap_or_default();
                    if value == stored.to_header_value() {
                        return Ok(stored.verification());
                    }
                    first.get_or_insert(value);
                }
                (stored, first.unwrap_or_default(), inferred)
            }
        };
        Err(sum_mismatch(stored, actual, inferred, object))
    }
}

/// Judges a whole body whose checksum is `actual` against the `FULL_OBJECT` one `stored`.
fn judge_full(
    stored: ObjectChecksum,
    actual: &Checksum,
    object: &str,
) -> Result<Verification, Error> {
    match stored.matches_body(actual) {
        true => Ok(stored.verification()),
        false => Err(sum_mismatch(stored, actual.to_base64(), false, object)),
    }
}

/// A body that is not `stored`'s: it hashed to `actual`.
fn sum_mismatch(stored: ObjectChecksum, actual: String, inferred: bool, object: &str) -> Error {
    ResponseError::ChecksumMismatch {
        object: object.to_owned(),
        scope: format!(
            "the object's {} {} checksum",
            stored.algorithm(),
            stored.checksum_type()
        ),
        expected: stored.to_header_value(),
        actual,
        inferred,
    }
    .into()
}

impl ObjectChecksum {
    fn verification(&self) -> Verification {
        Verification::Checksum {
            algorithm: self.algorithm(),
            checksum_type: self.checksum_type(),
        }
    }
}

/// How one object body is checked as it streams: the digest to compute, or the verification
/// to report when none can be, judged under the integrity policy at the end.
#[derive(Debug, Clone)]
pub struct BodyCheck {
    plan: Result<ObjectDigest, Verification>,
    object: String,
    integrity: Integrity,
}

impl BodyCheck {
    /// The check of the whole body `head` describes, named `object` (`bucket/key`) in errors.
    pub fn new(head: &ObjectHead, object: &str, integrity: Integrity) -> Self {
        BodyCheck {
            plan: ObjectDigest::planned(head, object, integrity),
            object: object.to_owned(),
            integrity,
        }
    }

    /// True when a digest is computed.
    pub fn hashes(&self) -> bool {
        self.plan.is_ok()
    }

    /// Adds the next bytes of the body.
    pub fn update(&mut self, data: &[u8]) {
        if let Ok(digest) = &mut self.plan {
            digest.update(data);
        }
    }

    /// Judges the whole body.
    ///
    /// # Errors
    /// [`ResponseError::ChecksumMismatch`] when the bytes are not the ETag's;
    /// [`ResponseError::Unverified`] for unverifiable bytes under [`Integrity::Require`].
    pub fn finish(self) -> Result<Verification, Error> {
        match self.plan {
            Ok(digest) => digest.finish(),
            Err(v) => v.require(self.integrity, &self.object),
        }
    }
}

/// The digest of one whole object's body, fed in order, judged at the end against its
/// stored flexible checksum (when the reply carried one) and its ETag.
///
/// The checksum takes precedence: with one, the ETag is not hashed at all, unless the
/// server's quirks say it may invent checksums (moto invents multipart checksums it never
/// stored): then, when the checksum does not match but the ETag does, the ETag's verdict
/// stands; when neither matches, or the ETag cannot be checked, the mismatch is an error. So a body is refused whenever the stored checksum catches what the ETag cannot
/// (SSE-KMS and SSE-C objects, multipart objects of unequal parts).
#[derive(Debug, Clone)]
pub struct ObjectDigest {
    object: String,
    etag: String,
    expected: Option<Expected>,
    sum: Option<SumCheck>,
}

impl ObjectDigest {
    /// The digest to compute for the whole body `head` describes, reported under the name
    /// `object` (`bucket/key`); or why there is none.
    ///
    /// # Errors
    /// The [`Unverified`] reason when the body cannot be checked.
    pub fn of(head: &ObjectHead, object: &str) -> Result<Self, Unverified> {
        let whole = head
            .content_range
            .is_none_or(|r| r.first == 0 && Some(r.len()) == r.total);
        if !whole {
            return Err(Unverified::Range);
        }
        let sum = SumCheck::of(head);
        // A stored checksum covers the body alone, unless the server may invent them.
        let expected = match ObjectDigest::etag_plan(head) {
            _ if sum.is_some() && !head.etag_beside_checksum => None,
            Ok(expected) => Some(expected),
            Err(reason) if sum.is_none() => return Err(reason),
            Err(_) => None,
        };
        Ok(ObjectDigest {
            object: object.to_owned(),
            etag: head.etag.clone().unwrap_or_default(),
            expected,
            sum,
        })
    }

    /// What the ETag says the digest must be, or why it says nothing.
    fn etag_plan(head: &ObjectHead) -> Result<Expected, Unverified> {
        let etag = head.etag.as_deref().ok_or(Unverified::NoEtag)?;
        let bare = etag.trim_matches('"');
        let encrypted = head.sse_customer_algorithm.is_some()
            || head
                .server_side_encryption
                .as_deref()
                .is_some_and(|s| s != "AES256");
        if encrypted {
            return Err(Unverified::Encrypted);
        }
        let (digest, suffix) = match bare.split_once('-') {
            Some((d, n)) => (d, Some(n)),
            None => (bare, None),
        };
        if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Unverified::UnknownEtag);
        }
        let expected = match suffix {
            None => Expected::Md5(Md5::new()),
            Some(n) => {
                let parts: u32 = n.parse().map_err(|_| Unverified::UnknownEtag)?;
                let size = head
                    .content_range
                    .and_then(|r| r.total)
                    .or(head.content_length)
                    .ok_or(Unverified::PartLayout)?;
                let layouts = PartHasher::layouts(head, parts, size, PartDigest::Md5(Md5::new()));
                if layouts.is_empty() {
                    return Err(Unverified::PartLayout);
                }
                Expected::Multipart { parts, layouts }
            }
        };
        Ok(expected)
    }

    /// [`ObjectDigest::of`] under `integrity`: `Err` carries the verification to report
    /// when nothing is hashed.
    ///
    /// # Errors
    /// `Verification::Unverified` when nothing is to be hashed.
    pub fn planned(
        head: &ObjectHead,
        object: &str,
        integrity: Integrity,
    ) -> Result<Self, Verification> {
        if integrity == Integrity::Off {
            return Err(Verification::Unverified(Unverified::Off));
        }
        ObjectDigest::of(head, object).map_err(Verification::Unverified)
    }

    /// The name errors carry.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The most likely part size of a multipart object without a stored checksum (see
    /// [`part_size_candidates`]): its parts can be hashed separately, side by side, and
    /// judged with [`ObjectDigest::finish_parts`] (a wrong guess then reads as a mismatch; a
    /// re-read in one stream tries every candidate).
    pub fn part_size(&self) -> Option<u64> {
        // A stored checksum covers the body in one stream: no per-part shortcut then.
        match (&self.expected, &self.sum) {
            (Some(Expected::Multipart { layouts, .. }), None) => {
                layouts.first().map(|l| l.part_size)
            }
            _ => None,
        }
    }

    /// The algorithm of the stored `FULL_OBJECT` CRC this digest judges by alone (no ETag
    /// hashed beside it): spans of the body can then be hashed apart, side by side, and
    /// their CRCs combined ([`Checksum::combine`]) for [`ObjectDigest::finish_checksum`].
    pub fn combinable(&self) -> Option<ChecksumAlgorithm> {
        match (&self.expected, &self.sum) {
            (None, Some(SumCheck::Full(stored, _))) if stored.algorithm().is_crc() => {
                Some(stored.algorithm())
            }
            _ => None,
        }
    }

    /// Judges the whole body by its checksum `actual`, computed apart (see
    /// [`ObjectDigest::combinable`]).
    ///
    /// # Errors
    /// [`ResponseError::ChecksumMismatch`] when `actual` is not the stored checksum.
    pub fn finish_checksum(self, actual: &Checksum) -> Result<Verification, Error> {
        match self.sum {
            Some(SumCheck::Full(stored, _)) => judge_full(stored, actual, &self.object),
            _ => Err(crate::flow::unexpected()),
        }
    }

    /// Judges a multipart object from the MD5s of its parts, in order (see
    /// [`ObjectDigest::part_size`]).
    ///
    /// # Errors
    /// [`ResponseError::ChecksumMismatch`] when the rebuilt ETag differs.
    pub fn finish_parts(self, parts: &[[u8; 16]]) -> Result<Verification, Error> {
        let layout = PartHasher::with_parts(self.part_size().unwrap_or(0), parts);
        let Some(Expected::Multipart { parts, .. }) = self.expected else {
            return Err(crate::flow::unexpected());
        };
        let expected = Expected::Multipart {
            parts,
            layouts: vec![layout],
        };
        Self::judge_etag(expected, &self.etag, &self.object)
    }

    /// Adds the next bytes of the body.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.expected {
            Some(Expected::Md5(md5)) => md5.update(data),
            Some(Expected::Multipart { layouts, .. }) => {
                layouts.iter_mut().for_each(|l| l.update(data));
            }
            None => {}
        }
        if let Some(sum) = &mut self.sum {
            sum.update(data);
        }
    }

    /// Judges the whole body (see [`ObjectDigest`] for which verdict wins).
    ///
    /// # Errors
    /// [`ResponseError::ChecksumMismatch`] when the bytes are not the stored checksum's nor
    /// the ETag's.
    pub fn finish(self) -> Result<Verification, Error> {
        let by_etag = |expected: Option<Expected>| match expected {
            Some(e) => Self::judge_etag(e, &self.etag, &self.object),
            None => Err(crate::flow::unexpected()),
        };
        let Some(sum) = self.sum else {
            return by_etag(self.expected);
        };
        match sum.finish(&self.object) {
            Ok(v) => Ok(v),
            Err(e) => match self.expected {
                Some(expected) => by_etag(Some(expected)).map_err(|_| e),
                None => Err(e),
            },
        }
    }

    fn judge_etag(
        expected_digest: Expected,
        etag: &str,
        object: &str,
    ) -> Result<Verification, Error> {
        let expected = etag.trim_matches('"');
        let (scope, actual, inferred) = match expected_digest {
            Expected::Md5(md5) => {
                let actual = md5.hex();
                if actual.eq_ignore_ascii_case(expected) {
                    return Ok(Verification::Md5);
                }
                ("the object".to_owned(), actual, false)
            }
            Expected::Multipart { parts, layouts } => {
                let first = layouts.first().map_or(0, |l| l.part_size);
                let inferred = PartHasher::inferred(&layouts);
                let mut actual = None;
                for layout in layouts {
                    let part_size = layout.part_size;
                    let etag = layout.etag();
                    if etag.eq_ignore_ascii_case(expected) {
                        return Ok(Verification::MultipartEtag { parts, part_size });
                    }
                    actual.get_or_insert(etag);
                }
                let scope = match inferred {
                    true => format!("the object as {parts} parts of {first} bytes"),
                    false => format!("the object as its {parts} parts"),
                };
                (scope, actual.unwrap_or_default(), inferred)
            }
        };
        Err(ResponseError::ChecksumMismatch {
            object: object.to_owned(),
            scope,
            expected: etag.to_owned(),
            actual: format!("\"{actual}\""),
            inferred,
        }
        .into())
    }
}

/// Whole reads of one object, repeated after a digest mismatch within the retry policy's
/// attempts, each judged (see [`Rereads::judge`]).
#[derive(Debug, Clone)]
pub struct Rereads {
    left: u32,
    integrity: Integrity,
    last_actual: Option<String>,
}

/// What to do after a whole read.
#[derive(Debug)]
pub enum Reread {
    /// The read stands, verified as said.
    Done(Verification),
    /// Read the whole object again: the bytes did not match, maybe by a transient fault.
    Again,
    /// The read failed.
    Fail(Error),
}

impl Rereads {
    /// Up to `attempts` whole reads (at least one) under `integrity`.
    pub fn new(attempts: u32, integrity: Integrity) -> Self {
        Rereads {
            left: attempts.max(1),
            integrity,
            last_actual: None,
        }
    }

    /// The integrity policy the reads are judged under.
    pub fn integrity(&self) -> Integrity {
        self.integrity
    }

    /// Judges the outcome of one whole read (`object` names it in errors).
    pub fn judge(&mut self, outcome: Result<Verification, Error>, object: &str) -> Reread {
        self.left = self.left.saturating_sub(1);
        let error = match outcome.and_then(|v| v.require(self.integrity, object)) {
            Ok(v) => return Reread::Done(v),
            Err(e) => e,
        };
        let Error::Response(ResponseError::ChecksumMismatch { actual, .. }) = &error else {
            return Reread::Fail(error);
        };
        // Two reads that hash alike were not corrupted on the way: the bytes are stable,
        // so reading them again proves nothing more.
        if self.left == 0 || self.last_actual.as_ref() == Some(actual) {
            return Reread::Fail(error);
        }
        self.last_actual = Some(actual.clone());
        Reread::Again
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ContentRange;

    fn head(etag: &str, len: u64) -> ObjectHead {
        ObjectHead {
            etag: Some(etag.to_owned()),
            content_length: Some(len),
            ..ObjectHead::default()
        }
    }

    fn digest_of(head: &ObjectHead, body: &[u8], chunk: usize) -> Result<Verification, Error> {
        let mut d = ObjectDigest::of(head, "b/k").unwrap();
        body.chunks(chunk.max(1)).for_each(|c| d.update(c));
        d.finish()
    }

    fn multipart_etag(body: &[u8], part: usize) -> String {
        let mut of = Md5::new();
        let chunks: Vec<_> = body.chunks(part).collect();
        for c in &chunks {
            let mut m = Md5::new();
            m.update(c);
            of.update(&m.digest());
        }
        format!("\"{}-{}\"", of.hex(), chunks.len())
    }

    #[test]
    fn plain_etags_are_checked() {
        let mut md5 = Md5::new();
        md5.update(b"hel");
        md5.update(b"lo");
        assert_eq!(md5.content_md5(), crate::sign::content_md5(b"hello"));
        let good = head("\"5d41402abc4b2a76b9719d911017c592\"", 5);
        assert_eq!(digest_of(&good, b"hello", 2).unwrap(), Verification::Md5);
        let e = digest_of(&good, b"jello", 2).unwrap_err();
        assert!(e.to_string().contains("b/k"), "{e}");
        assert!(matches!(
            e,
            Error::Response(ResponseError::ChecksumMismatch {
                inferred: false,
                ..
            })
        ));
        let kms = ObjectHead {
            server_side_encryption: Some("aws:kms".to_owned()),
            ..good.clone()
        };
        assert_eq!(
            ObjectDigest::of(&kms, "x").unwrap_err(),
            Unverified::Encrypted
        );
        let mut ranged = good.clone();
        ranged.content_range = Some(ContentRange {
            first: 1,
            last: 2,
            total: Some(5),
        });
        assert_eq!(
            ObjectDigest::of(&ranged, "x").unwrap_err(),
            Unverified::Range
        );
        assert_eq!(
            ObjectDigest::of(&head("\"abc\"", 5), "x").unwrap_err(),
            Unverified::UnknownEtag
        );
    }

    #[test]
    fn multipart_etags_are_rebuilt() {
        let body: Vec<u8> = (0..(17u32 << 20) + 3).map(|i| (i % 251) as u8).collect();
        for part in [5usize << 20, 8 << 20] {
            let etag = multipart_etag(&body, part);
            let h = head(&etag, body.len() as u64);
            assert_eq!(
                digest_of(&h, &body, 1 << 16).unwrap(),
                Verification::MultipartEtag {
                    parts: body.len().div_ceil(part) as u32,
                    part_size: part as u64
                }
            );
            let mut bad = body.clone();
            bad[body.len() / 2] ^= 1;
            let e = digest_of(&h, &bad, 1 << 20).unwrap_err();
            assert!(matches!(
                e,
                Error::Response(ResponseError::ChecksumMismatch { inferred: true, .. })
            ));
        }
        // A one-part multipart object.
        let h = head(&multipart_etag(b"hello", 5), 5);
        assert!(matches!(
            digest_of(&h, b"hello", 1).unwrap(),
            Verification::MultipartEtag { parts: 1, .. }
        ));
    }

    #[test]
    fn candidates_fit_the_object() {
        assert_eq!(part_size_candidates(10, 1), vec![10]);
        assert!(part_size_candidates(3, 5).is_empty());
        // 3 parts of 8 MiB + 1 byte leave exactly one whole-MiB size.
        let c = part_size_candidates((16 << 20) + 1, 3);
        assert!(c.contains(&(8 << 20)), "{c:?}");
        for size in [1u64, 100, 5 << 20, (64 << 20) + 17] {
            for parts in 1..20u32 {
                for p in part_size_candidates(size, parts) {
                    let n = u64::from(parts);
                    assert!((n - 1) * p < size && size <= n * p, "{size} {parts} {p}");
                }
            }
        }
        assert!(part_size_candidates(u64::MAX, 10_000).len() <= MAX_LAYOUTS);
    }

    #[test]
    fn rereads_repeat_until_two_reads_agree() {
        let mismatch = |actual: &str| -> Result<Verification, Error> {
            Err(ResponseError::ChecksumMismatch {
                object: "b/k".into(),
                scope: "the object".into(),
                expected: "\"e\"".into(),
                actual: actual.into(),
                inferred: false,
            }
            .into())
        };
        let mut r = Rereads::new(3, Integrity::Verify);
        assert!(matches!(r.judge(mismatch("a"), "b/k"), Reread::Again));
        assert!(matches!(
            r.judge(Ok(Verification::Md5), "b/k"),
            Reread::Done(Verification::Md5)
        ));
        let mut r = Rereads::new(2, Integrity::Verify);
        assert!(matches!(r.judge(mismatch("a"), "b/k"), Reread::Again));
        assert!(matches!(r.judge(mismatch("b"), "b/k"), Reread::Fail(_)));
        let mut r = Rereads::new(4, Integrity::Verify);
        assert!(matches!(r.judge(mismatch("a"), "b/k"), Reread::Again));
        assert!(matches!(r.judge(mismatch("a"), "b/k"), Reread::Fail(_)));
        let mut r = Rereads::new(4, Integrity::Require);
        let unverified = Ok(Verification::Unverified(Unverified::Range));
        assert!(matches!(r.judge(unverified, "b/k"), Reread::Fail(_)));
    }

    fn with_checksum(mut head: ObjectHead, checksum: ObjectChecksum) -> ObjectHead {
        head.checksum = Some(checksum);
        head
    }

    fn composite(body: &[u8], part: usize, alg: ChecksumAlgorithm) -> ObjectChecksum {
        let mut sums = crate::checksum::MultipartChecksum::new(alg);
        for (i, c) in body.chunks(part).enumerate() {
            sums.add(i as u16 + 1, Checksum::compute(alg, c), c.len() as u64)
                .unwrap();
        }
        sums.composite().unwrap()
    }

    #[test]
    fn a_stored_checksum_takes_precedence() {
        let alg = ChecksumAlgorithm::Crc32c;
        let full = ObjectChecksum::full_object(Checksum::compute(alg, b"hello"));
        let by_sum = Verification::Checksum {
            algorithm: alg,
            checksum_type: ChecksumType::FullObject,
        };
        let md5 = head("\"5d41402abc4b2a76b9719d911017c592\"", 5);
        let h = with_checksum(md5.clone(), full);
        assert_eq!(digest_of(&h, b"hello", 2).unwrap(), by_sum);
        let e = digest_of(&h, b"jello", 2).unwrap_err();
        assert!(e.to_string().contains("CRC32C"), "{e}");
        // A stored checksum that is not the bytes' while the MD5 ETag is: refused from a
        // server that stores what it reports; from one that may invent checksums (moto makes
        // them up for multipart objects) the ETag's verdict stands.
        let bogus = ObjectChecksum::full_object(Checksum::compute(alg, b"other"));
        let mut h = with_checksum(md5.clone(), bogus);
        assert!(digest_of(&h, b"hello", 5).is_err());
        h.etag_beside_checksum = true;
        assert_eq!(digest_of(&h, b"hello", 5).unwrap(), Verification::Md5);
        // Where the ETag says nothing (SSE-KMS), the checksum alone decides.
        let mut kms = with_checksum(md5, full);
        kms.server_side_encryption = Some("aws:kms".to_owned());
        assert_eq!(digest_of(&kms, b"hello", 1).unwrap(), by_sum);
        assert!(digest_of(&kms, b"hellO", 1).is_err());
        kms.checksum = Some(bogus);
        assert!(digest_of(&kms, b"hello", 1).is_err());
        // Ranges stay unverified, checksum or not.
        kms.content_range = Some(ContentRange {
            first: 0,
            last: 1,
            total: Some(5),
        });
        assert_eq!(ObjectDigest::of(&kms, "x").unwrap_err(), Unverified::Range);
    }

    #[test]
    fn listed_part_sizes_verify_unequal_parts() {
        let body: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let sizes = [1001u64, 993, 1006];
        let cut = |part: &[u64]| {
            let mut at = 0;
            part.iter()
                .map(|&n| {
                    at += n as usize;
                    &body[at - n as usize..at]
                })
                .collect::<Vec<_>>()
        };
        // The ETag and a composite checksum of these parts.
        let mut of = Md5::new();
        let alg = ChecksumAlgorithm::Crc32c;
        let mut sums = crate::checksum::MultipartChecksum::new(alg);
        for (i, part) in cut(&sizes).into_iter().enumerate() {
            let mut m = Md5::new();
            m.update(part);
            of.update(&m.digest());
            let len = part.len() as u64;
            sums.add(i as u16 + 1, Checksum::compute(alg, part), len)
                .unwrap();
        }
        let etag = format!("\"{}-3\"", of.hex());
        let mut h = head(&etag, body.len() as u64);
        // Inferred equal parts cannot explain them.
        let e = digest_of(&h, &body, 7).unwrap_err();
        assert!(e.to_string().contains("part sizes inferred"), "{e}");
        h.part_sizes = Some(sizes.to_vec());
        let by_etag = Verification::MultipartEtag {
            parts: 3,
            part_size: 1001,
        };
        assert_eq!(digest_of(&h, &body, 7).unwrap(), by_etag);
        // Now a mismatch is a mismatch, not a wrong guess.
        let mut other = body.clone();
        other[2500] ^= 1;
        match digest_of(&h, &other, 7).unwrap_err() {
            Error::Response(ResponseError::ChecksumMismatch { inferred, .. }) => assert!(!inferred),
            e => panic!("{e}"),
        }
        // Sizes that do not add up to the object are not used.
        h.part_sizes = Some(vec![1000, 1000, 999]);
        assert!(digest_of(&h, &body, 7).is_err());
        // A composite checksum along the listed sizes.
        let mut c = with_checksum(ObjectHead::default(), sums.composite().unwrap());
        c.content_length = Some(body.len() as u64);
        assert!(digest_of(&c, &body, 100).is_err(), "inferred cut");
        c.part_sizes = Some(sizes.to_vec());
        let by_sum = Verification::Checksum {
            algorithm: alg,
            checksum_type: ChecksumType::Composite,
        };
        assert_eq!(digest_of(&c, &body, 100).unwrap(), by_sum);
        assert!(digest_of(&c, &other, 100).is_err());
    }

    #[test]
    fn composite_checksums_are_checked_part_by_part() {
        let body: Vec<u8> = (0..(13u32 << 20) + 9).map(|i| (i % 251) as u8).collect();
        for alg in [ChecksumAlgorithm::Sha256, ChecksumAlgorithm::Crc32] {
            let sum = composite(&body, 5 << 20, alg);
            assert_eq!(sum.parts(), Some(3));
            // No ETag at all: the checksum is the only digest.
            let mut h = with_checksum(ObjectHead::default(), sum);
            h.content_length = Some(body.len() as u64);
            let by = Verification::Checksum {
                algorithm: alg,
                checksum_type: ChecksumType::Composite,
            };
            assert_eq!(digest_of(&h, &body, 1 << 16).unwrap(), by);
            let mut bad = body.clone();
            bad[7 << 20] ^= 0x10;
            let e = digest_of(&h, &bad, 1 << 20).unwrap_err();
            assert!(matches!(
                e,
                Error::Response(ResponseError::ChecksumMismatch { inferred: true, .. })
            ));
        }
        // A part count no layout fits: nothing to check against.
        let sum = composite(b"abc", 1, ChecksumAlgorithm::Sha1);
        let mut h = with_checksum(ObjectHead::default(), sum);
        h.content_length = Some(2);
        assert_eq!(ObjectDigest::of(&h, "x").unwrap_err(), Unverified::NoEtag);
    }
}
