//! What the runtimes' boto-style handles ask for, decided once: "not found" as `None`, and
//! the content types of strings and bytes, whole reads judged by their digest.

use crate::body::{BodyMode, Response};
use crate::endpoint::Target;
use crate::error::{Error, ErrorCode, ServiceError};
use crate::flow::request::Options;
use crate::integrity::{BodyCheck, Integrity, Reread, Rereads, Verification};
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
    /// part (with `partNumber`, at most [`MAX_LAYOUT_PARTS`]) to send before judging it, so
    /// that [`WholeRead::with_part_sizes`] can check the bytes in hand along the real sizes.
    /// Asked once per read; empty otherwise.
    ///
    /// [`MAX_LAYOUT_PARTS`]: crate::flow::download::MAX_LAYOUT_PARTS
    pub fn part_heads(
        &mut self,
        head: &ObjectHead,
        outcome: &Result<Verification, Error>,
    ) -> Vec<crate::ops::HeadObject> {
        let inferred = matches!(
            outcome,
            Err(Error::Response(
                crate::error::ResponseError::ChecksumMismatch { inferred: true, .. }
            ))
        );
        let parts = crate::integrity::multipart_parts(head);
        let max = crate::flow::download::MAX_LAYOUT_PARTS;
        match parts.and_then(|n| u16::try_from(n).ok()) {
            Some(n) if inferred && !self.asked_parts && (2..=max).contains(&u32::from(n)) => {
                self.asked_parts = true;
                (1..=n).map(|part| self.op.0.head_of_part(part)).collect()
            }
            _ => Vec::new(),
        }
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
        let parts = u32::try_from(replies.len()).ok();
        let sizes: Option<Vec<u64>> = replies
            .iter()
            .map(|r| {
                r.as_ref()
                    .filter(|h| h.parts_count == parts)
                    .and_then(|h| h.content_length)
                    .filter(|&n| n > 0)
            })
            .collect();
        let Some(sizes) = sizes else {
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
