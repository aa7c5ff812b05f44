//! The requests a flow hands a runtime, as one type: any of them goes through the runtime's
//! one `send` path, and every reply comes back as one [`Reply`].

use crate::acl::AccessControlPolicy;
use crate::body::{BodyMode, Response};
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::endpoint::Target;
use crate::error::{Error, ServiceError};
use crate::integrity::Md5;
use crate::name::BucketName;
use crate::op::Operation;
use crate::ops::{
    AbortMultipartUpload, CompleteMultipartUpload, CompleteMultipartUploadOutput, CopyObject,
    CopyObjectOutput, CreateMultipartUpload, CreateMultipartUploadOutput, DeleteObjects,
    DeleteObjectsOutput, GetBucketAcl, GetObject, GetObjectAcl, HeadObject, ListMultipartUploads,
    ListMultipartUploadsOutput, ListObjectsV2, ListObjectsV2Output, ListParts, ListPartsOutput,
    ObjectHead, PutBucketAcl, PutObject, PutObjectAcl, PutObjectOutput, UploadPart, UploadPartCopy,
    UploadPartCopyOutput, UploadPartOutput,
};
use sha2::Digest as _;

macro_rules! calls {
    ($($(#[$doc:meta])* $variant:ident($op:ty) -> $out:ty,)*) => {
        /// A request of a flow.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum Call {
            $($(#[$doc])* $variant($op),)*
        }

        /// The output of a [`Call`], of the same variant.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum Reply {
            $($(#[$doc])* $variant($out),)*
        }

        impl Operation for Call {
            type Output = Reply;

            fn request(&self, target: &Target) -> Result<http::Request<crate::Body>, Error> {
                match self { $(Call::$variant(op) => op.request(target),)* }
            }

            fn body_mode(&self) -> BodyMode {
                match self { $(Call::$variant(op) => op.body_mode(),)* }
            }

            /// Every call of a flow may be repeated: the flow recovers what a repeated
            /// CreateMultipartUpload started (see [`crate::flow::upload`]).
            fn idempotent(&self) -> bool {
                true
            }

            fn bucket(&self) -> Option<&BucketName> {
                match self { $(Call::$variant(op) => Operation::bucket(op),)* }
            }

            fn name(&self) -> &'static str {
                match self { $(Call::$variant(op) => Operation::name(op),)* }
            }

            fn parse(&self, response: Response<'_>) -> Result<Reply, Error> {
                match self { $(Call::$variant(op) => op.parse(response).map(Reply::$variant),)* }
            }

            fn recover(&self, error: ServiceError) -> Result<Reply, Error> {
                match self { $(Call::$variant(op) => op.recover(error).map(Reply::$variant),)* }
            }
        }
    };
}

calls! {
    /// PutObject.
    PutObject(PutObject) -> PutObjectOutput,
    /// CreateMultipartUpload.
    CreateMultipartUpload(CreateMultipartUpload) -> CreateMultipartUploadOutput,
    /// UploadPart.
    UploadPart(UploadPart) -> UploadPartOutput,
    /// UploadPartCopy.
    UploadPartCopy(UploadPartCopy) -> UploadPartCopyOutput,
    /// CompleteMultipartUpload.
    CompleteMultipartUpload(CompleteMultipartUpload) -> CompleteMultipartUploadOutput,
    /// AbortMultipartUpload.
    AbortMultipartUpload(AbortMultipartUpload) -> (),
    /// ListMultipartUploads.
    ListMultipartUploads(ListMultipartUploads) -> ListMultipartUploadsOutput,
    /// ListParts.
    ListParts(ListParts) -> ListPartsOutput,
    /// ListObjectsV2 (a page).
    ListObjectsV2(ListObjectsV2) -> ListObjectsV2Output,
    /// HeadObject.
    HeadObject(HeadObject) -> ObjectHead,
    /// GetObject (its body streamed by the runtime).
    GetObject(GetObject) -> ObjectHead,
    /// CopyObject.
    CopyObject(CopyObject) -> CopyObjectOutput,
    /// DeleteObjects.
    DeleteObjects(DeleteObjects) -> DeleteObjectsOutput,
    /// GetBucketAcl.
    GetBucketAcl(GetBucketAcl) -> AccessControlPolicy,
    /// PutBucketAcl.
    PutBucketAcl(PutBucketAcl) -> (),
    /// GetObjectAcl.
    GetObjectAcl(GetObjectAcl) -> AccessControlPolicy,
    /// PutObjectAcl.
    PutObjectAcl(PutObjectAcl) -> (),
}

impl Call {
    /// The call with a `Content-MD5` the runtime computed from the body it streams.
    pub fn with_content_md5(self, value: String) -> Call {
        match self {
            Call::PutObject(op) => Call::PutObject(op.content_md5_value(value)),
            Call::UploadPart(op) => Call::UploadPart(op.content_md5_value(value)),
            other => other,
        }
    }

    /// The call with the digests the runtime computed from the body it streams
    /// ([`BodyDigests`], fed the whole body).
    pub fn with_digests(self, digests: BodyDigests) -> Call {
        let md5 = digests.md5.map(|m| m.content_md5());
        let checksum = digests.checksum.map(|h| h.finish());
        let sha256 = digests.sha256.map(|h| crate::sign::hex(&h.finalize()));
        let call = match md5 {
            Some(value) => self.with_content_md5(value),
            None => self,
        };
        let call = match (call, checksum) {
            (Call::PutObject(op), Some(c)) => Call::PutObject(op.checksum(c)),
            (Call::UploadPart(op), Some(c)) => Call::UploadPart(op.checksum(c)),
            (call, _) => call,
        };
        match (call, sha256) {
            (Call::PutObject(op), Some(h)) => Call::PutObject(op.payload_sha256(h)),
            (Call::UploadPart(op), Some(h)) => Call::UploadPart(op.payload_sha256(h)),
            (call, _) => call,
        }
    }
}

/// The digests of a streamed request body that a flow asks a runtime to compute in one
/// pass before sending it ([`super::Work::FileBody`]): its `Content-MD5`, its flexible
/// checksum, its SHA-256 payload hash, or several. Feed it the body with
/// [`BodyDigests::update`], then hand it to [`Call::with_digests`].
#[derive(Debug, Clone)]
pub struct BodyDigests {
    // Boxed: a job carries this beside its call, and most jobs compute nothing.
    md5: Option<Box<Md5>>,
    checksum: Option<Box<Hasher>>,
    sha256: Option<Box<sha2::Sha256>>,
}

impl BodyDigests {
    /// The digests to compute: `Content-MD5` when `md5`, a checksum of `checksum` if any.
    pub fn new(md5: bool, checksum: Option<ChecksumAlgorithm>) -> Self {
        BodyDigests {
            md5: md5.then(|| Box::new(Md5::new())),
            checksum: checksum.map(|a| Box::new(Hasher::new(a))),
            sha256: None,
        }
    }

    /// Also computes the body's SHA-256 when `yes`, for the request to be signed with
    /// (`x-amz-content-sha256`) so that a server checking it refuses a corrupted body.
    pub fn sha256(mut self, yes: bool) -> Self {
        self.sha256 = yes.then(|| Box::new(sha2::Sha256::new()));
        self
    }

    /// True when nothing is to be computed (the body need not be read ahead).
    pub fn is_empty(&self) -> bool {
        self.md5.is_none() && self.checksum.is_none() && self.sha256.is_none()
    }

    /// Adds the next bytes of the body.
    pub fn update(&mut self, data: &[u8]) {
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
        if let Some(hasher) = &mut self.checksum {
            hasher.update(data);
        }
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(data);
        }
    }

    /// Adds exactly `len` bytes that `read` fills in, as `io::Read::read` does (0 at the
    /// end): a part of a file, hashed before it is sent.
    ///
    /// # Errors
    /// [`crate::InputError`] when `read` ends early (the file shrank); `read`'s failure as a
    /// transport error.
    pub fn read_from(
        mut self,
        len: u64,
        mut read: impl FnMut(&mut [u8]) -> std::io::Result<usize>,
    ) -> Result<Self, crate::Error> {
        let (mut buf, mut left) = (vec![0u8; len.min(1 << 20) as usize], len);
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            match read(&mut buf[..want]).map_err(crate::TransportError::from_io)? {
                0 => {
                    let why = "the file is shorter than its length";
                    return Err(crate::InputError::argument("body", why).into());
                }
                n => {
                    self.update(&buf[..n]);
                    left -= n as u64;
                }
            }
        }
        Ok(self)
    }
}
