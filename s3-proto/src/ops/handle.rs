//! What the runtimes' boto-style handles ask for, decided once: "not found" as `None`, and
//! the content types of strings and bytes, whole reads judged by their digest.

use crate::body::{BodyMode, Response};
use crate::endpoint::Target;
use crate::error::{Error, ErrorCode, ResponseError, ServiceError};
use crate::flow::request::Options;
use crate::integrity::{BodyCheck, Integrity, Reread, Rereads, Unverified, Verification};
use crate::name::{BucketName, ObjectKey};
use crate::object::ObjectHead;
use crate::op::Operation;
use crate::ops::GetObject;
use crate::ops::PutObject;

/// `op`, with a reply saying its subject does not exist as `None` instead of an error:
/// `NoSuchKey`, `NoSuchBucket`, a bare 404, `NoSuchCORSConfiguration` (boto's `lookup`,
/// `get_key`, `get_cors`).
///
/// ```
/// use http::StatusCode;
/// use s3_proto::op::Operation;
/// use s3_proto::ops::{HeadObject, OrNone};
/// use s3_proto::{ErrorCode, ServiceError};
///
/// let op = OrNone(HeadObject::new("bucket".parse()?, "key".parse()?));
/// let missing = ServiceError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound);
/// assert_eq!(op.recover(missing)?, None);
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrNone<O>(pub O);

impl<O: Operation> Operation for OrNone<O> {
    type Output = Option<O::Output>;

    fn request(&self, target: &Target) -> Result<http::Request<crate::Body>, Error> {
        self.0.request(target)
    }

    fn body_mode(&self) -> BodyMode {
        self.0.body_mode()
    }

    fn idempotent(&self) -> bool {
        self.0.idempotent()
    }

    fn bucket(&self) -> Option<&BucketName> {
        self.0.bucket()
    }

    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn body_check(&self, output: &Self::Output, integrity: Integrity) -> Option<BodyCheck> {
        self.0.body_check(output.as_ref()?, integrity)
    }

    fn parse(&self, response: Response<'_>) -> Result<Self::Output, Error> {
        self.0.parse(response).map(Some)
    }

    fn recover(&self, error: ServiceError) -> Result<Self::Output, Error> {
        match error.code {
            ErrorCode::NoSuchKey
            | ErrorCode::NoSuchBucket
            | ErrorCode::NotFound
            | ErrorCode::NoSuchCORSConfiguration => Ok(None),
            _ => self.0.recover(error).map(Some),
        }
    }
}

/// A whole object read into memory (`get_bytes`): the GET to send, and the judgement of each
/// read, which asks for the object again after a digest mismatch within the retry policy.
///
/// ```
/// use s3_proto::flow::request::Options;
/// use s3_proto::ops::WholeRead;
///
/// let mut read = WholeRead::new("bucket".parse()?, "key".parse()?, &Options::default());
/// // loop {
/// //     let (Some(head), reader) = runtime.open(read.op())? else { return Ok(None) };
/// //     let (body, outcome) = read everything, then the reader's verification;
/// //     if let Some(done) = read.judge(head, body, outcome) { return done.map(Some) }
/// // }
/// # let _ = read.op();
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct WholeRead {
    op: OrNone<GetObject>,
    rereads: Rereads,
    object: String,
    /// The part sizes were asked for once already.
    asked_parts: bool,
}

impl WholeRead {
    /// A read of `key` in `bucket` under the client's `options`, asking for the stored
    /// flexible checksum (checksum mode), which the body is verified against first.
    pub fn new(bucket: BucketName, key: ObjectKey, options: &Options) -> Self {
        WholeRead::of(GetObject::new(bucket, key).checksum_mode(true), options)
    }

    /// A read of a fully specified GetObject (a version, a customer key, a range: a range
    /// is declared unverified) under the client's `options`.
    pub fn of(op: GetObject, options: &Options) -> Self {
        let object = format!("{}/{}", op.bucket(), op.key());
        WholeRead {
            op: OrNone(op),
            rereads: options.rereads(),
            object,
            asked_parts: false,
        }
    }

    /// The GET to send (`None` output when the key does not exist).
    pub fn op(&self) -> &OrNone<GetObject> {
        &self.op
    }

    /// When a read missed its digest along inferred equal part sizes: the HeadObjects of every
    /// part (see [`GetObject::part_heads`]) to send before judging it, so that
    /// [`WholeRead::with_part_sizes`] can check the bytes in hand along the real sizes.
    /// Asked once per read; empty otherwise.
    pub fn part_heads(
        &mut self,
        head: &ObjectHead,
        outcome: &Result<Verification, Error>,
    ) -> Vec<crate::ops::HeadObject> {
        if self.asked_parts {
            return Vec::new();
        }
        let heads = self.op.0.part_heads(head, outcome);
        self.asked_parts = !heads.is_empty();
        heads
    }

    /// Judges `body` again along the part sizes the [`WholeRead::part_heads`] replies give
    /// (in order; a failed one is `None`), when they describe the object; else `outcome` stands.
    pub fn with_part_sizes(
        &self,
        head: &mut ObjectHead,
        replies: &[Option<ObjectHead>],
        body: &[u8],
        outcome: Result<Verification, Error>,
    ) -> Result<Verification, Error> {
        let Some(sizes) = part_sizes(replies) else {
            return outcome;
        };
        head.part_sizes = Some(sizes);
        match crate::integrity::ObjectDigest::planned(head, &self.object, self.rereads.integrity())
        {
            Ok(mut digest) => {
                digest.update(body);
                digest.finish()
            }
            Err(_) => outcome,
        }
    }

    /// Judges one read: its head, its body and how the reader ended. `None` means read
    /// again; otherwise the result to return, with the head saying how it was verified.
    pub fn judge(
        &mut self,
        mut head: ObjectHead,
        body: Vec<u8>,
        outcome: Result<Verification, Error>,
    ) -> Option<Result<(ObjectHead, Vec<u8>), Error>> {
        match self.rereads.judge(outcome, &self.object) {
            Reread::Done(v) => {
                head.verified = Some(v);
                Some(Ok((head, body)))
            }
            Reread::Again => None,
            Reread::Fail(e) => Some(Err(e)),
        }
    }
}

/// The part sizes the replies to [`GetObject::part_heads`] give, in order, when every one
/// answered for a part of that many parts.
fn part_sizes(replies: &[Option<ObjectHead>]) -> Option<Vec<u64>> {
    let parts = u32::try_from(replies.len()).ok()?;
    replies
        .iter()
        .map(|r| r.as_ref().and_then(|h| h.part_len(parts)))
        .collect()
}

impl GetObject {
    /// When a whole read of `head`'s object missed its digest along inferred equal part
    /// sizes: the HeadObject of every part (with `partNumber`, at most [`MAX_LAYOUT_PARTS`]),
    /// whose replies give the real sizes. Empty otherwise.
    ///
    /// [`MAX_LAYOUT_PARTS`]: crate::flow::download::MAX_LAYOUT_PARTS
    pub fn part_heads(
        &self,
        head: &ObjectHead,
        outcome: &Result<Verification, Error>,
    ) -> Vec<crate::ops::HeadObject> {
        let inferred = matches!(
            outcome,
            Err(Error::Response(ResponseError::ChecksumMismatch {
                inferred: true,
                ..
            }))
        );
        match crate::flow::download::layout_parts(head) {
            Some(n) if inferred => (1..=n).map(|part| self.head_of_part(part)).collect(),
            _ => Vec::new(),
        }
    }

    /// Judges a streamed whole read whose bytes were handed on as they came (so cannot be
    /// hashed again) after it missed along inferred equal part sizes, from the replies to
    /// [`GetObject::part_heads`]: parts of an equal size that was hashed confirm the
    /// mismatch; other sizes mean the stream could not be checked
    /// ([`Unverified::UnequalParts`], an error under [`Integrity::Require`]). Unknown sizes
    /// leave `outcome` as it is.
    ///
    /// # Errors
    /// The confirmed mismatch, or `outcome`'s error.
    pub fn judge_streamed(
        &self,
        replies: &[Option<ObjectHead>],
        mut outcome: Result<Verification, Error>,
        integrity: Integrity,
    ) -> Result<Verification, Error> {
        let Some(sizes) = part_sizes(replies).filter(|s| !s.is_empty()) else {
            return outcome;
        };
        let total = sizes.iter().fold(0u64, |a, &n| a.saturating_add(n));
        let first = sizes[0];
        let (body, last) = sizes.split_at(sizes.len() - 1);
        let equal = body.iter().all(|&n| n == first) && last.iter().all(|&n| n <= first);
        let parts = sizes.len() as u32;
        if equal && crate::integrity::part_size_candidates(total, parts).contains(&first) {
            if let Err(Error::Response(ResponseError::ChecksumMismatch { inferred, .. })) =
                &mut outcome
            {
                *inferred = false;
            }
            return outcome;
        }
        let object = format!("{}/{}", self.bucket(), self.key());
        Verification::Unverified(Unverified::UnequalParts).require(integrity, &object)
    }
}

impl PutObject {
    /// Stores `text` as `text/plain; charset=utf-8` (boto's `set_contents_from_string`),
    /// with `Content-MD5` so a corrupted upload is refused.
    pub fn text(bucket: BucketName, key: ObjectKey, text: &str) -> PutObject {
        PutObject::new(bucket, key, text.to_owned())
            .content_type("text/plain; charset=utf-8")
            .content_md5()
    }

    /// Stores `bytes` with the content type the key's extension suggests, with `Content-MD5`
    /// (for an in-memory body) so a corrupted upload is refused.
    pub fn bytes(bucket: BucketName, key: ObjectKey, bytes: impl Into<crate::Body>) -> PutObject {
        let content_type = crate::mime::from_name(key.as_str());
        PutObject::new(bucket, key, bytes)
            .content_type(content_type)
            .content_md5()
    }
}

impl crate::ops::ListObjectsV2 {
    /// Lists `bucket` under `prefix` (everything when empty), grouped by `delimiter` when
    /// given (boto's `bucket.list(prefix, delimiter)`).
    pub fn under(bucket: BucketName, prefix: &str, delimiter: Option<&str>) -> Self {
        let op = crate::ops::ListObjectsV2::new(bucket);
        let op = if prefix.is_empty() {
            op
        } else {
            op.prefix(prefix)
        };
        match delimiter {
            Some(d) => op.delimiter(d),
            None => op,
        }
    }
}

impl crate::ops::CreateBucket {
    /// Creates `bucket`, with a canned ACL when given.
    pub fn with_acl(bucket: BucketName, acl: Option<crate::CannedAcl>) -> Self {
        let op = crate::ops::CreateBucket::new(bucket);
        match acl {
            Some(acl) => op.acl(acl),
            None => op,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::ObjectDigest;

    const MIB: u64 = 1 << 20;

    /// What a stream of `body` along inferred sizes ends with, for a multipart ETag built
    /// from `sizes`.
    fn streamed(body: &[u8], sizes: &[u64]) -> (ObjectHead, Result<Verification, Error>) {
        let mut md5s = crate::integrity::Md5::new();
        let mut at = 0;
        for &n in sizes {
            let mut part = crate::integrity::Md5::new();
            part.update(&body[at..at + n as usize]);
            md5s.update(&part.digest());
            at += n as usize;
        }
        let head = ObjectHead {
            etag: Some(format!("\"{}-{}\"", md5s.hex(), sizes.len())),
            content_length: Some(body.len() as u64),
            ..ObjectHead::default()
        };
        let mut digest = ObjectDigest::of(&head, "b/k").unwrap();
        digest.update(body);
        (head, digest.finish())
    }

    fn replies(sizes: &[u64]) -> Vec<Option<ObjectHead>> {
        let parts = Some(sizes.len() as u32);
        let reply = |&n: &u64| ObjectHead {
            content_length: Some(n),
            parts_count: parts,
            ..ObjectHead::default()
        };
        sizes.iter().map(|n| Some(reply(n))).collect()
    }

    #[test]
    fn streamed_reads_tell_unequal_parts_from_corruption() {
        let op = GetObject::new("bucket".parse().unwrap(), "k".parse().unwrap());
        let body: Vec<u8> = (0..11 * MIB).map(|i| (i % 251) as u8).collect();

        // Parts of 5 and 6 MiB: missed along 8 MiB, then excused as unequal parts.
        let unequal = [5 * MIB, 6 * MIB];
        let (head, outcome) = streamed(&body, &unequal);
        let heads = op.part_heads(&head, &outcome);
        assert_eq!(heads.len(), 2);
        let verdict = op.judge_streamed(
            &replies(&unequal),
            streamed(&body, &unequal).1,
            Integrity::Verify,
        );
        assert_eq!(
            verdict.unwrap(),
            Verification::Unverified(Unverified::UnequalParts)
        );
        let strict = op.judge_streamed(
            &replies(&unequal),
            streamed(&body, &unequal).1,
            Integrity::Require,
        );
        assert!(matches!(
            strict,
            Err(Error::Response(ResponseError::Unverified { .. }))
        ));
        // Sizes the server does not report, or none at all, leave the mismatch as it was.
        let none = op.judge_streamed(&[], streamed(&body, &unequal).1, Integrity::Verify);
        assert!(none.is_err());
        let unknown = op.judge_streamed(&[None, None], outcome, Integrity::Verify);
        assert!(matches!(
            unknown,
            Err(Error::Response(ResponseError::ChecksumMismatch {
                inferred: true,
                ..
            }))
        ));

        // Equal 8 MiB parts, one byte flipped: the real sizes confirm the mismatch.
        let equal = [8 * MIB, 3 * MIB];
        let (head, _) = streamed(&body, &equal);
        let mut bad = body.clone();
        bad[9 * MIB as usize] ^= 1;
        let mut digest = ObjectDigest::of(&head, "b/k").unwrap();
        digest.update(&bad);
        let outcome = digest.finish();
        assert_eq!(op.part_heads(&head, &outcome).len(), 2);
        let verdict = op.judge_streamed(&replies(&equal), outcome, Integrity::Verify);
        assert!(matches!(
            verdict,
            Err(Error::Response(ResponseError::ChecksumMismatch {
                inferred: false,
                ..
            }))
        ));

        // A verified read asks nothing.
        let (head, outcome) = streamed(&body, &equal);
        assert!(outcome.is_ok());
        assert!(op.part_heads(&head, &outcome).is_empty());
    }
}
