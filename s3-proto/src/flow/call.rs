//! The requests a flow hands a runtime, as one type: any of them goes through the runtime's
//! one `send` path, and every reply comes back as one [`Reply`].

use crate::acl::AccessControlPolicy;
use crate::body::{BodyMode, Response};
use crate::endpoint::Target;
use crate::error::{Error, ServiceError};
use crate::name::BucketName;
use crate::op::Operation;
use crate::ops::{
    AbortMultipartUpload, CompleteMultipartUpload, CompleteMultipartUploadOutput, CopyObject,
    CopyObjectOutput, CreateMultipartUpload, CreateMultipartUploadOutput, DeleteObjects,
    DeleteObjectsOutput, GetBucketAcl, GetObject, GetObjectAcl, HeadObject, ListMultipartUploads,
    ListMultipartUploadsOutput, ObjectHead, PutBucketAcl, PutObject, PutObjectAcl, PutObjectOutput,
    UploadPart, UploadPartCopy, UploadPartCopyOutput, UploadPartOutput,
};

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
}
