//! S3 flexible checksums: CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 over bodies and multipart uploads.
//!
//! A request carries a checksum as `x-amz-checksum-<algorithm>` (base64 of the big-endian
//! digest) and names it in `x-amz-sdk-checksum-algorithm`; a GET or HEAD sent with
//! `x-amz-checksum-mode: ENABLED` gets the stored one back, with `x-amz-checksum-type` saying
//! what it covers. A multipart object's checksum is either `COMPOSITE` (the algorithm over the
//! parts' raw digests, spelled `<base64>-N`) or `FULL_OBJECT` (a CRC of the whole object, which
//! [`MultipartChecksum`] combines from the part CRCs without reading the data again).
//!
//! Nothing here is sent by default: [`ChecksumPolicy`] and
//! [`ServerQuirks`](crate::quirks::ServerQuirks) decide when and how, because Ceph RGW 16
//! ignores checksum headers and refuses checksums in aws-chunked trailers.
//!
//! Reference: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>
//!
//! # Example
//! ```
//! use s3_proto::checksum::{Checksum, ChecksumAlgorithm, ChecksumType, Hasher, MultipartChecksum};
//!
//! let alg = ChecksumAlgorithm::Crc32;
//! let mut hasher = Hasher::new(alg);
//! hasher.update(b"1234");
//! hasher.update(b"56789");
//! let whole = hasher.finish();
//! assert_eq!(whole.to_base64(), "y/Q5Jg=="); // CRC32("123456789") = 0xCBF43926
//!
//! // The same bytes uploaded as two parts.
//! let mut upload = MultipartChecksum::new(alg);
//! upload.add(1, Checksum::compute(alg, b"1234"), 4)?;
//! upload.add(2, Checksum::compute(alg, b"56789"), 5)?;
//! let full = upload.finish(ChecksumType::FullObject)?;
//! assert_eq!(full.checksum(), &whole);
//! assert!(upload.composite()?.to_header_value().ends_with("-2"));
//! # Ok::<(), s3_proto::InputError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use http::HeaderMap;
use sha1::Digest as _;

use crate::error::{InputError, ResponseError, shorten};

/// `x-amz-sdk-checksum-algorithm`: names the algorithm of a request's checksum (PutObject,
/// UploadPart, DeleteObjects, …).
pub const SDK_ALGORITHM_HEADER: &str = "x-amz-sdk-checksum-algorithm";
/// `x-amz-checksum-algorithm`: the algorithm CreateMultipartUpload fixes for every part.
pub const ALGORITHM_HEADER: &str = "x-amz-checksum-algorithm";
/// `x-amz-checksum-type`: `COMPOSITE` or `FULL_OBJECT`, sent by CreateMultipartUpload and
/// returned with a stored checksum.
pub const TYPE_HEADER: &str = "x-amz-checksum-type";
/// `x-amz-checksum-mode`: set to [`MODE_ENABLED`] on GET/HEAD to get the stored checksum back.
pub const MODE_HEADER: &str = "x-amz-checksum-mode";
/// The only value of [`MODE_HEADER`].
pub const MODE_ENABLED: &str = "ENABLED";

/// The longest digest (SHA256), in bytes.
const MAX_DIGEST: usize = 32;

/// One of S3's flexible checksum algorithms.
///
/// Non-exhaustive: S3 has added algorithms before (CRC64NVME in 2024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, as zlib and Ethernet use it).
    Crc32,
    /// CRC-32C (Castagnoli, as iSCSI and ext4 use it).
    Crc32c,
    /// CRC-64/NVME: what S3 computes for objects uploaded without a checksum.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order headers are looked up.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The name S3 uses in `x-amz-sdk-checksum-algorithm` and XML (`CRC32`, `CRC64NVME`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header that carries a checksum of this algorithm (`x-amz-checksum-crc32`, …).
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm a checksum header name stands for (lower case, as `http` stores names).
    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.header_name() == name)
    }

    /// The XML element that carries a checksum of this algorithm in CompleteMultipartUpload
    /// and ListParts (`ChecksumCRC32`, …).
    pub fn xml_element(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// The algorithm an XML element name stands for.
    pub fn from_xml_element(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.xml_element().as_bytes() == name)
    }

    /// The digest length in bytes: 4, 8, 20 or 32.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// True for the CRCs, whose part checksums combine into a whole-object one.
    pub fn is_crc(self) -> bool {
        matches!(
            self,
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c | ChecksumAlgorithm::Crc64Nvme
        )
    }

    /// Whether S3 accepts this algorithm for a multipart upload of checksum type `ty`.
    ///
    /// `FULL_OBJECT` takes the CRCs only; `COMPOSITE` takes all but CRC64NVME, which S3
    /// documents as "always a full object checksum".
    pub fn supports(self, ty: ChecksumType) -> bool {
        match ty {
            ChecksumType::FullObject => self.is_crc(),
            ChecksumType::Composite => self != ChecksumAlgorithm::Crc64Nvme,
        }
    }

    /// The checksum type S3 uses for a multipart upload of this algorithm when none is named:
    /// `FULL_OBJECT` for CRC64NVME, `COMPOSITE` for the others.
    pub fn default_multipart_type(self) -> ChecksumType {
        if self == ChecksumAlgorithm::Crc64Nvme {
            ChecksumType::FullObject
        } else {
            ChecksumType::Composite
        }
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChecksumAlgorithm {
    type Err = InputError;

    /// Parses `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`, in any case (the SDKs'
    /// configuration files write them in lower case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                InputError::argument(
                    "checksum algorithm",
                    format!(
                        "{:?} is not CRC32, CRC32C, CRC64NVME, SHA1 or SHA256",
                        shorten(s)
                    ),
                )
            })
    }
}

/// What a multipart object's checksum covers (`x-amz-checksum-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumType {
    /// The algorithm over the concatenated raw digests of the parts, spelled `<base64>-N`.
    Composite,
    /// The checksum of the whole object's bytes, as if uploaded in one piece (CRCs only).
    FullObject,
}

impl ChecksumType {
    /// The value as S3 spells it: `COMPOSITE` or `FULL_OBJECT`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumType::Composite => "COMPOSITE",
            ChecksumType::FullObject => "FULL_OBJECT",
        }
    }
}

impl fmt::Display for ChecksumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChecksumType {
    type Err = InputError;

    /// Parses `COMPOSITE` or `FULL_OBJECT`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("COMPOSITE") {
            Ok(ChecksumType::Composite)
        } else if s.eq_ignore_ascii_case("FULL_OBJECT") {
            Ok(ChecksumType::FullObject)
        } else {
            Err(InputError::argument(
                "checksum type",
                format!("{:?} is not COMPOSITE or FULL_OBJECT", shorten(s)),
            ))
        }
    }
}

/// A digest of one algorithm: what `x-amz-checksum-<algorithm>` carries, in raw bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum {
    algorithm: ChecksumAlgorithm,
    // The first `algorithm.digest_len()` bytes; the rest stay zero so derived equality holds.
    bytes: [u8; MAX_DIGEST],
}

impl Checksum {
    /// A checksum from its raw big-endian digest bytes.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `bytes` is not the algorithm's digest length.
    pub fn new(algorithm: ChecksumAlgorithm, bytes: &[u8]) -> Result<Self, InputError> {
        let mut out = [0u8; MAX_DIGEST];
        match out.get_mut(..algorithm.digest_len()) {
            Some(slot) if slot.len() == bytes.len() => slot.copy_from_slice(bytes),
            _ => {
                return Err(InputError::argument(
                    "checksum",
                    format!(
                        "{algorithm} digests are {} bytes, not {}",
                        algorithm.digest_len(),
                        bytes.len()
                    ),
                ));
            }
        }
        Ok(Checksum {
            algorithm,
            bytes: out,
        })
    }

    /// The checksum of `data` in one call.
    pub fn compute(algorithm: ChecksumAlgorithm, data: &[u8]) -> Self {
        let mut hasher = Hasher::new(algorithm);
        hasher.update(data);
        hasher.finish()
    }

    /// Parses a `x-amz-checksum-<algorithm>` value (base64, no `-N` suffix).
    ///
    /// # Errors
    /// [`ResponseError::InvalidField`] naming the header when the value is not base64 or
    /// decodes to the wrong length.
    pub fn from_header(algorithm: ChecksumAlgorithm, value: &str) -> Result<Self, ResponseError> {
        let invalid = || ResponseError::invalid(algorithm.header_name(), value);
        let text = value.trim();
        let len = algorithm.digest_len();
        // Base64 with padding: 4 characters per 3 bytes, rounded up.
        if text.len() != len.div_ceil(3) * 4 {
            return Err(invalid());
        }
        let mut buf = [0u8; MAX_DIGEST + 3];
        match base64::engine::general_purpose::STANDARD.decode_slice(text, &mut buf) {
            Ok(n) if n == len => {}
            _ => return Err(invalid()),
        }
        let mut bytes = [0u8; MAX_DIGEST];
        bytes
            .iter_mut()
            .zip(buf.iter().take(len))
            .for_each(|(d, s)| *d = *s);
        Ok(Checksum { algorithm, bytes })
    }

    /// Parses a checksum the caller supplies: the base64 digest, as in
    /// `x-amz-checksum-<algorithm>`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when the value is not base64 of the algorithm's digest
    /// length, so a wrong value is refused before anything is sent.
    pub fn parse(algorithm: ChecksumAlgorithm, value: &str) -> Result<Self, InputError> {
        Checksum::from_header(algorithm, value).map_err(|_| {
            InputError::argument(
                "checksum",
                format!(
                    "{:?} is not a base64 {algorithm} digest ({} bytes)",
                    shorten(value),
                    algorithm.digest_len()
                ),
            )
        })
    }

    /// A CRC value as a checksum (the low 32 bits for CRC32 and CRC32C).
    fn from_crc(algorithm: ChecksumAlgorithm, crc: u64) -> Self {
        let mut bytes = [0u8; MAX_DIGEST];
        let be = crc.to_be_bytes();
        let tail = be.get(8 - algorithm.digest_len().min(8)..).unwrap_or(&be);
        bytes.iter_mut().zip(tail).for_each(|(d, s)| *d = *s);
        Checksum { algorithm, bytes }
    }

    /// The CRC value, for the CRC algorithms.
    fn crc(&self) -> Option<u64> {
        if !self.algorithm.is_crc() {
            return None;
        }
        Some(
            self.as_bytes()
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
        )
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// The raw digest, big-endian for the CRCs.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes
            .get(..self.algorithm.digest_len())
            .unwrap_or(&self.bytes)
    }

    /// The digest in base64: the value of [`ChecksumAlgorithm::header_name`].
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.as_bytes())
    }

    /// The checksum of `self`'s bytes followed by `next_len` bytes whose checksum is `next`,
    /// computed from the two CRCs alone (no pass over the data).
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when the algorithms differ or are not CRCs.
    pub fn combine(&self, next: &Checksum, next_len: u64) -> Result<Checksum, InputError> {
        if self.algorithm != next.algorithm {
            return Err(InputError::argument(
                "checksum",
                format!("cannot combine {} with {}", self.algorithm, next.algorithm),
            ));
        }
        match (self.crc(), next.crc(), Crc::of(self.algorithm)) {
            (Some(a), Some(b), Some(crc)) => Ok(Checksum::from_crc(
                self.algorithm,
                crc.combine(a, b, next_len),
            )),
            _ => Err(InputError::argument(
                "checksum",
                format!("{} checksums do not combine", self.algorithm),
            )),
        }
    }
}

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({} {})", self.algorithm, self.to_base64())
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.algorithm, self.to_base64())
    }
}

/// A checksum computed piece by piece as a body streams by.
#[derive(Clone)]
pub struct Hasher {
    state: State,
    len: u64,
}

#[derive(Clone)]
enum State {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc::Digest<'static, u64, crc::Table<16>>),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

/// CRC-64/NVME, slice-by-16 tables built at compile time.
static CRC64_NVME: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_NVME);

impl Hasher {
    /// An empty hasher for `algorithm`.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match algorithm {
            ChecksumAlgorithm::Crc32 => State::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => State::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => State::Crc64Nvme(CRC64_NVME.digest()),
            ChecksumAlgorithm::Sha1 => State::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
        };
        Hasher { state, len: 0 }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        match self.state {
            State::Crc32(_) => ChecksumAlgorithm::Crc32,
            State::Crc32c(_) => ChecksumAlgorithm::Crc32c,
            State::Crc64Nvme(_) => ChecksumAlgorithm::Crc64Nvme,
            State::Sha1(_) => ChecksumAlgorithm::Sha1,
            State::Sha256(_) => ChecksumAlgorithm::Sha256,
        }
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.len = self.len.saturating_add(data.len() as u64);
        match &mut self.state {
            State::Crc32(h) => h.update(data),
            State::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            State::Crc64Nvme(d) => d.update(data),
            State::Sha1(h) => h.update(data),
            State::Sha256(h) => h.update(data),
        }
    }

    /// Bytes added so far: the length a part's checksum is combined with.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was added yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The checksum of everything added.
    pub fn finish(self) -> Checksum {
        let algorithm = self.algorithm();
        match self.state {
            State::Crc32(h) => Checksum::from_crc(algorithm, u64::from(h.finalize())),
            State::Crc32c(crc) => Checksum::from_crc(algorithm, u64::from(crc)),
            State::Crc64Nvme(d) => Checksum::from_crc(algorithm, d.finalize()),
            State::Sha1(h) => digest_checksum(algorithm, &h.finalize()),
            State::Sha256(h) => digest_checksum(algorithm, &h.finalize()),
        }
    }
}

fn digest_checksum(algorithm: ChecksumAlgorithm, digest: &[u8]) -> Checksum {
    let mut bytes = [0u8; MAX_DIGEST];
    bytes.iter_mut().zip(digest).for_each(|(d, s)| *d = *s);
    Checksum { algorithm, bytes }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("algorithm", &self.algorithm())
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// The checksum a multipart upload's object gets, built from its parts' checksums.
///
/// Parts may be added in any order (parallel uploads finish out of order); a part number added
/// twice keeps the later checksum, as S3 keeps the later upload of a part.
#[derive(Debug, Clone)]
pub struct MultipartChecksum {
    algorithm: ChecksumAlgorithm,
    // Sorted by part number, one entry per number.
    parts: Vec<(u16, Checksum, u64)>,
}

impl MultipartChecksum {
    /// No parts yet, for an upload created with `algorithm`.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        MultipartChecksum {
            algorithm,
            parts: Vec::new(),
        }
    }

    /// The algorithm every part must use.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// Records part `part_number` (1 to 10000): its checksum and its length in bytes.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for a part number out of range or a checksum of another
    /// algorithm.
    pub fn add(
        &mut self,
        part_number: u16,
        checksum: Checksum,
        part_len: u64,
    ) -> Result<(), InputError> {
        if !(1..=10_000).contains(&part_number) {
            return Err(InputError::argument(
                "part_number",
                format!("{part_number} is not between 1 and 10000"),
            ));
        }
        if checksum.algorithm != self.algorithm {
            return Err(InputError::argument(
                "checksum",
                format!(
                    "part {part_number} has a {} checksum in a {} upload",
                    checksum.algorithm, self.algorithm
                ),
            ));
        }
        let entry = (part_number, checksum, part_len);
        match self.parts.binary_search_by_key(&part_number, |p| p.0) {
            Ok(i) => {
                if let Some(slot) = self.parts.get_mut(i) {
                    *slot = entry;
                }
            }
            Err(i) => self.parts.insert(i, entry),
        }
        Ok(())
    }

    /// The parts recorded, by number: each one's checksum, in ascending order.
    pub fn parts(&self) -> impl Iterator<Item = (u16, Checksum)> + '_ {
        self.parts.iter().map(|(n, c, _)| (*n, *c))
    }

    /// Number of parts recorded.
    pub fn part_count(&self) -> usize {
        self.parts.len()
    }

    /// Sum of the parts' lengths: the object's size.
    pub fn total_len(&self) -> u64 {
        self.parts
            .iter()
            .fold(0u64, |acc, p| acc.saturating_add(p.2))
    }

    /// The object's checksum of type `ty`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when no part was added or the algorithm does not
    /// support `ty` (see [`ChecksumAlgorithm::supports`]).
    pub fn finish(&self, ty: ChecksumType) -> Result<ObjectChecksum, InputError> {
        match ty {
            ChecksumType::Composite => self.composite(),
            ChecksumType::FullObject => self.full_object(),
        }
    }

    /// The `COMPOSITE` checksum: the algorithm over the concatenated part digests, with `-N`.
    ///
    /// # Errors
    /// As [`MultipartChecksum::finish`].
    pub fn composite(&self) -> Result<ObjectChecksum, InputError> {
        let parts = self.check(ChecksumType::Composite)?;
        let mut hasher = Hasher::new(self.algorithm);
        for (_, checksum, _) in &self.parts {
            hasher.update(checksum.as_bytes());
        }
        Ok(ObjectChecksum {
            checksum: hasher.finish(),
            checksum_type: ChecksumType::Composite,
            parts: Some(parts),
        })
    }

    /// The `FULL_OBJECT` checksum: the CRC of the whole object, combined from the part CRCs
    /// and lengths.
    ///
    /// # Errors
    /// As [`MultipartChecksum::finish`].
    pub fn full_object(&self) -> Result<ObjectChecksum, InputError> {
        self.check(ChecksumType::FullObject)?;
        let mut parts = self.parts.iter();
        let Some((_, first, _)) = parts.next() else {
            return Err(no_parts());
        };
        let mut whole = *first;
        for (_, checksum, len) in parts {
            whole = whole.combine(checksum, *len)?;
        }
        Ok(ObjectChecksum {
            checksum: whole,
            checksum_type: ChecksumType::FullObject,
            parts: None,
        })
    }

    /// The part count, after checking that `ty` can be produced.
    fn check(&self, ty: ChecksumType) -> Result<u32, InputError> {
        if !self.algorithm.supports(ty) {
            return Err(InputError::argument(
                "checksum type",
                format!("S3 has no {ty} checksum for {}", self.algorithm),
            ));
        }
        match u32::try_from(self.parts.len()) {
            Ok(0) => Err(no_parts()),
            Ok(n) => Ok(n),
            // At most 10000 distinct part numbers fit in the list.
            Err(_) => Err(InputError::argument("parts", "more than 10000 parts")),
        }
    }
}

fn no_parts() -> InputError {
    InputError::argument("parts", "a multipart checksum needs at least one part")
}

/// The checksum S3 stored for an object, as GET/HEAD report it with checksum mode enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectChecksum {
    checksum: Checksum,
    checksum_type: ChecksumType,
    parts: Option<u32>,
}

impl ObjectChecksum {
    /// The checksum of a whole body uploaded in one request.
    pub fn full_object(checksum: Checksum) -> Self {
        ObjectChecksum {
            checksum,
            checksum_type: ChecksumType::FullObject,
            parts: None,
        }
    }

    /// Parses a header value (`<base64>` or `<base64>-N`) of `algorithm`; `ty` is the
    /// `x-amz-checksum-type` sent with it, if any.
    ///
    /// Without `ty`, a value with `-N` counts as `COMPOSITE` and one without as `FULL_OBJECT`
    /// (servers older than S3's checksum types, such as MinIO, send no type).
    ///
    /// # Errors
    /// [`ResponseError::InvalidField`] naming the header when the digest or the part count
    /// is malformed.
    pub fn parse(
        algorithm: ChecksumAlgorithm,
        ty: Option<ChecksumType>,
        value: &str,
    ) -> Result<Self, ResponseError> {
        let value = value.trim();
        let (digest, parts) = match value.rsplit_once('-') {
            None => (value, None),
            Some((digest, count)) => {
                let parts = count
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n) && !count.starts_with('+'))
                    .ok_or_else(|| ResponseError::invalid(algorithm.header_name(), value))?;
                (digest, Some(parts))
            }
        };
        let checksum = Checksum::from_header(algorithm, digest)
            .map_err(|_| ResponseError::invalid(algorithm.header_name(), value))?;
        let checksum_type = ty.unwrap_or(if parts.is_some() {
            ChecksumType::Composite
        } else {
            ChecksumType::FullObject
        });
        Ok(ObjectChecksum {
            checksum,
            checksum_type,
            parts,
        })
    }

    /// Reads the stored checksum from GET/HEAD (or PutObject, CompleteMultipartUpload) reply
    /// headers; `None` when the reply carries none.
    ///
    /// S3 returns one `x-amz-checksum-*` header; should a server send several, the first in
    /// [`ChecksumAlgorithm::ALL`] order is read. A ranged GET gets none.
    ///
    /// # Errors
    /// [`ResponseError::InvalidField`] for a malformed checksum or `x-amz-checksum-type`.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ResponseError> {
        let text = |name: &'static str| -> Result<Option<&str>, ResponseError> {
            match headers.get(name) {
                None => Ok(None),
                Some(v) => v.to_str().map(Some).map_err(|_| {
                    ResponseError::invalid(name, &String::from_utf8_lossy(v.as_bytes()))
                }),
            }
        };
        let ty = match text(TYPE_HEADER)? {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<ChecksumType>()
                    .map_err(|_| ResponseError::invalid(TYPE_HEADER, v))?,
            ),
        };
        for algorithm in ChecksumAlgorithm::ALL {
            if let Some(value) = text(algorithm.header_name())? {
                return ObjectChecksum::parse(algorithm, ty, value).map(Some);
            }
        }
        Ok(None)
    }

    /// The digest (for a composite checksum: the digest of the part digests).
    pub fn checksum(&self) -> &Checksum {
        &self.checksum
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.checksum.algorithm
    }

    /// What the checksum covers.
    pub fn checksum_type(&self) -> ChecksumType {
        self.checksum_type
    }

    /// The part count of a composite checksum (the `-N` suffix), when the value had one.
    pub fn parts(&self) -> Option<u32> {
        self.parts
    }

    /// The header value: `<base64>`, or `<base64>-N` for a composite checksum.
    pub fn to_header_value(&self) -> String {
        match self.parts {
            Some(n) => format!("{}-{n}", self.checksum.to_base64()),
            None => self.checksum.to_base64(),
        }
    }

    /// True when a checksum computed over the whole body received can be compared with this
    /// one: a `FULL_OBJECT` checksum. A composite one can only be checked part by part.
    pub fn covers_body(&self) -> bool {
        self.checksum_type == ChecksumType::FullObject
    }

    /// True when `body`, the checksum of the whole body received, matches this full-object
    /// checksum; false for a mismatch, another algorithm, or a composite checksum.
    pub fn matches_body(&self, body: &Checksum) -> bool {
        self.covers_body() && self.checksum == *body
    }
}

impl fmt::Display for ObjectChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.algorithm(),
            self.to_header_value(),
            self.checksum_type
        )
    }
}

/// A multipart upload's checksum algorithm and type, checked together: a type needs an
/// algorithm that supports it ([`ChecksumAlgorithm::supports`]); without one, the algorithm's
/// default type. `None` when no algorithm is named.
///
/// # Errors
/// [`InputError::InvalidArgument`] for a type without an algorithm, or one it lacks.
pub fn multipart_type(
    algorithm: Option<ChecksumAlgorithm>,
    ty: Option<ChecksumType>,
) -> Result<Option<(ChecksumAlgorithm, ChecksumType)>, InputError> {
    match (algorithm, ty) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(InputError::argument(
            "checksum_type",
            "a checksum type needs a checksum algorithm",
        )),
        (Some(a), ty) => {
            let ty = ty.unwrap_or(a.default_multipart_type());
            if a.supports(ty) {
                Ok(Some((a, ty)))
            } else {
                Err(InputError::argument(
                    "checksum_type",
                    format!("S3 has no {ty} checksum for {a}"),
                ))
            }
        }
    }
}

/// Adds `checksum` to a request: `x-amz-checksum-<algorithm>` and
/// `x-amz-sdk-checksum-algorithm`.
pub(crate) fn apply(
    checksum: Option<&Checksum>,
    req: crate::request::RequestBuilder,
) -> crate::request::RequestBuilder {
    match checksum {
        Some(c) => req
            .header(SDK_ALGORITHM_HEADER, c.algorithm.as_str())
            .header(c.algorithm.header_name(), &c.to_base64()),
        None => req,
    }
}

/// When requests get a checksum and responses are checked against one: the AWS SDKs'
/// `request_checksum_calculation` and `response_checksum_validation` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecksumPolicy {
    /// Every request that can carry a checksum gets one (PutObject, UploadPart), and GET/HEAD
    /// ask for the stored checksum (`x-amz-checksum-mode: ENABLED`). The AWS SDKs' default.
    WhenSupported,
    /// Only requests whose operation requires a checksum, or whose caller chose an
    /// algorithm; only responses whose caller enabled checksum mode. Our default: it costs no
    /// extra pass over bodies and sends servers that lack flexible checksums nothing new.
    #[default]
    WhenRequired,
}

impl ChecksumPolicy {
    /// The algorithm a request gets when the policy, not the caller, asks for a checksum:
    /// CRC32, as the AWS SDKs send under `when_supported`.
    pub const DEFAULT_ALGORITHM: ChecksumAlgorithm = ChecksumAlgorithm::Crc32;

    /// The AWS SDKs' setting name for this policy (`when_supported`, `when_required`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumPolicy::WhenSupported => "when_supported",
            ChecksumPolicy::WhenRequired => "when_required",
        }
    }

    /// Whether a request body gets a checksum: `required` when the operation needs one
    /// (DeleteObjects), `chosen` when the caller named an algorithm.
    pub fn checksums_request(self, required: bool, chosen: bool) -> bool {
        required || chosen || self == ChecksumPolicy::WhenSupported
    }

    /// The algorithm of the checksum a request with a body gets when its caller asked for
    /// none: [`ChecksumPolicy::DEFAULT_ALGORITHM`] under `WhenSupported` for a server that
    /// does something with checksum headers (`quirks`), else none.
    pub fn unasked_algorithm(
        self,
        quirks: &crate::quirks::ServerQuirks,
    ) -> Option<ChecksumAlgorithm> {
        (self.checksums_request(false, false) && quirks.takes_checksum_headers)
            .then_some(Self::DEFAULT_ALGORITHM)
    }

    /// Whether a GET/HEAD sends `x-amz-checksum-mode: ENABLED` to check the body against the
    /// stored checksum; `asked` when the caller enabled checksum mode.
    pub fn checksums_response(self, asked: bool) -> bool {
        asked || self == ChecksumPolicy::WhenSupported
    }
}

/// True when `headers` carry a checksum value (`x-amz-checksum-crc32`, …; not the
/// `-algorithm`, `-type` or `-mode` headers).
pub(crate) fn carries_checksum(headers: &http::HeaderMap) -> bool {
    ChecksumAlgorithm::ALL
        .iter()
        .any(|a| headers.contains_key(a.header_name()))
}

impl FromStr for ChecksumPolicy {
    type Err = InputError;

    /// Parses the value of `AWS_REQUEST_CHECKSUM_CALCULATION` or the profile's
    /// `request_checksum_calculation` (`when_supported`, `when_required`; any case).
    fn from_str(s: &str) -> Result<Self, InputError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "when_supported" => Ok(ChecksumPolicy::WhenSupported),
            "when_required" => Ok(ChecksumPolicy::WhenRequired),
            _ => Err(InputError::argument(
                "request_checksum_calculation",
                format!(
                    "{:?} is neither when_supported nor when_required",
                    shorten(s)
                ),
            )),
        }
    }
}

/// A request extension an operation sets on a streamed body: its checksum of this algorithm,
/// computed while the body is sent, goes in an aws-chunked trailer (see
/// [`Framing`](crate::sign::chunked::Framing)). Nothing is sent when the body is not streamed
/// framed (SigV2, no reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrailingChecksum(pub ChecksumAlgorithm);

/// Where a request's checksum travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumPlacement {
    /// No checksum is sent.
    None,
    /// An `x-amz-checksum-<algorithm>` header, computed before sending: the body must be in
    /// memory or readable twice.
    Header,
    /// A trailer of an `aws-chunked` body (`x-amz-trailer`), computed while streaming.
    Trailer,
}

/// The combine math of a reflected CRC whose initial value and final xor are all ones
/// (CRC-32, CRC-32C and CRC-64/NVME all are): the method of zlib's `crc32_combine`.
///
/// `crc(A ‖ B) = crc(A) · x^(8·len(B)) mod P  ⊕  crc(B)`: the all-ones pre- and
/// post-conditioning cancel out, so only the product is computed, in GF(2)[x] modulo the
/// polynomial, with bit `width - 1` standing for x⁰ (the reflected representation).
#[derive(Clone, Copy)]
struct Crc {
    poly: u64,
    top: u64,
    // x^(2^k) mod P for k = 0..67: 3 + 64 covers lengths of up to 2^64 bytes.
    x2n: &'static [u64; 67],
}

const CRC32_POLY: u64 = 0xEDB8_8320;
const CRC32C_POLY: u64 = 0x82F6_3B78;
const CRC64_NVME_POLY: u64 = 0xAD93_D235_94C9_3659_u64.reverse_bits();

static CRC32_X2N: [u64; 67] = x2n_table(CRC32_POLY, 1 << 31);
static CRC32C_X2N: [u64; 67] = x2n_table(CRC32C_POLY, 1 << 31);
static CRC64_NVME_X2N: [u64; 67] = x2n_table(CRC64_NVME_POLY, 1 << 63);

impl Crc {
    fn of(algorithm: ChecksumAlgorithm) -> Option<Crc> {
        let (poly, top, x2n) = match algorithm {
            ChecksumAlgorithm::Crc32 => (CRC32_POLY, 1 << 31, &CRC32_X2N),
            ChecksumAlgorithm::Crc32c => (CRC32C_POLY, 1 << 31, &CRC32C_X2N),
            ChecksumAlgorithm::Crc64Nvme => (CRC64_NVME_POLY, 1 << 63, &CRC64_NVME_X2N),
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => return None,
        };
        Some(Crc { poly, top, x2n })
    }

    /// The CRC of `A ‖ B` from `crc_a = crc(A)`, `crc_b = crc(B)` and `len_b = len(B)`.
    fn combine(self, crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
        // x^(8·len_b) = product of x^(2^(k+3)) over the set bits k of len_b.
        let mut shift = self.top;
        let mut n = len_b;
        for &x2k in self.x2n.iter().skip(3) {
            if n == 0 {
                break;
            }
            if n & 1 != 0 {
                shift = mul_mod(x2k, shift, self.poly, self.top);
            }
            n >>= 1;
        }
        mul_mod(shift, crc_a, self.poly, self.top) ^ crc_b
    }
}

/// `a · b mod P` in the reflected representation (bit `top` is x⁰).
const fn mul_mod(a: u64, mut b: u64, poly: u64, top: u64) -> u64 {
    let mut product = 0;
    let mut m = top;
    while m != 0 {
        if a & m != 0 {
            product ^= b;
        }
        m >>= 1;
        // b ·= x
        b = if b & 1 != 0 { (b >> 1) ^ poly } else { b >> 1 };
    }
    product
}

/// x^(2^k) mod P for k = 0..67.
const fn x2n_table(poly: u64, top: u64) -> [u64; 67] {
    let mut table = [0u64; 67];
    let mut p = top >> 1; // x¹
    let mut k = 0;
    while k < table.len() {
        table[k] = p;
        p = mul_mod(p, p, poly, top);
        k += 1;
    }
    table
}

#[cfg(test)]
mod tests;
