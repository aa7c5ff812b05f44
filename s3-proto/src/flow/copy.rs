//! Copying an object of any size on the server: one CopyObject up to a threshold (at most
//! 5 GiB, S3's limit for it), else a multipart upload whose parts are UploadPartCopy ranges
//! of the source, all pinned to the ETag first seen and carrying the source's attributes.

use std::time::SystemTime;

use super::upload::{MAX_PUT_SIZE, Source, UploadFlow, UploadOptions, UploadOutput};
use super::{Flow, Job, Reply, Sent, Step};
use crate::error::{Error, InputError};
use crate::name::{BucketName, ObjectKey};
use crate::ops::{CopyObject, HeadObject, ObjectAttributes, ObjectHead};
use crate::sse::{CustomerKey, ServerSideEncryption};

/// How a copy is cut, and how source and destination are encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyOptions {
    /// Sources of at least this many bytes are copied in parts (default and most 5 GiB).
    pub threshold: u64,
    /// Bytes per UploadPartCopy (default 256 MiB, at least 5 MiB).
    pub part_size: u64,
    /// How the copy is encrypted at rest (SSE-C: its key goes on every part).
    pub sse: Option<ServerSideEncryption>,
    /// The key an SSE-C source was written with: sent on the HeadObject, the CopyObject and
    /// every UploadPartCopy.
    pub source_sse_customer: Option<CustomerKey>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            threshold: MAX_PUT_SIZE,
            part_size: 256 << 20,
            sse: None,
            source_sse_customer: None,
        }
    }
}

impl CopyOptions {
    /// Sets the multipart threshold (capped at 5 GiB).
    pub fn threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes.min(MAX_PUT_SIZE);
        self
    }

    /// Sets the part size.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Encrypts the copy at rest.
    pub fn server_side_encryption(mut self, sse: ServerSideEncryption) -> Self {
        self.sse = Some(sse);
        self
    }

    /// Reads an SSE-C source with the key it was written with.
    pub fn copy_source_sse_customer_key(mut self, key: CustomerKey) -> Self {
        self.source_sse_customer = Some(key);
        self
    }
}

/// Where a [`CopyFlow`] is.
#[derive(Debug)]
enum Phase {
    Start,
    Heading,
    /// The CopyObject to send, then `None` while it is out.
    Single(Option<Box<CopyObject>>),
    Multipart(Box<UploadFlow>),
    Finished(Option<Result<UploadOutput, Error>>),
}

/// A copy of `source` to `destination` of any size, as one machine (see [`crate::flow`]).
///
/// ```
/// use std::time::SystemTime;
/// use s3_proto::flow::copy::{CopyFlow, CopyOptions};
/// use s3_proto::flow::{Call, Flow, Step, Work};
///
/// let mut copy = CopyFlow::new(("src".parse()?, "big".parse()?), ("dst".parse()?, "big".parse()?),
///     CopyOptions::default(), SystemTime::UNIX_EPOCH);
/// let Step::Send(job) = copy.poll() else { unreachable!() };
/// assert!(matches!(job.work, Work::Call(Call::HeadObject(_))));
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct CopyFlow {
    source: (BucketName, ObjectKey),
    destination: (BucketName, ObjectKey),
    options: CopyOptions,
    started: SystemTime,
    phase: Phase,
}

impl CopyFlow {
    /// A copy of `source` (bucket, key) to `destination`; `started` is the local time now.
    pub fn new(
        source: (BucketName, ObjectKey),
        destination: (BucketName, ObjectKey),
        options: CopyOptions,
        started: SystemTime,
    ) -> Self {
        CopyFlow {
            source,
            destination,
            options,
            started,
            phase: Phase::Start,
        }
    }

    /// Decides how to copy the object `head` describes.
    fn plan(&mut self, head: &ObjectHead) -> Result<Phase, Error> {
        let (len, etag) = head.pinned()?;
        if len < self.options.threshold.min(MAX_PUT_SIZE) || len == 0 {
            return Ok(Phase::Single(Some(Box::new(self.single(&etag)))));
        }
        let (bucket, key) = self.source.clone();
        let source = Source::Copy {
            bucket,
            key,
            etag,
            version_id: head.version_id.clone(),
            len,
            sse_customer: self.options.source_sse_customer.clone(),
        };
        let mut options = UploadOptions::default()
            .part_size(self.options.part_size)
            .threshold(1);
        options.sse = self.options.sse.clone();
        let (bucket, key) = self.destination.clone();
        let flow = UploadFlow::new(bucket, key, source, options, self.started)?
            .attributes(attributes_of(head));
        Ok(Phase::Multipart(Box::new(flow)))
    }

    fn single(&self, etag: &str) -> CopyObject {
        let (src_bucket, src_key) = self.source.clone();
        let (bucket, key) = self.destination.clone();
        let op = CopyObject::new(src_bucket, src_key, bucket, key).copy_source_if_match(etag);
        let op = match &self.options.sse {
            Some(sse) => op.server_side_encryption(sse.clone()),
            None => op,
        };
        match &self.options.source_sse_customer {
            Some(key) => op.copy_source_sse_customer_key(key.clone()),
            None => op,
        }
    }
}

/// What a multipart copy must carry over itself (CopyObject keeps it on the server).
fn attributes_of(head: &ObjectHead) -> ObjectAttributes {
    ObjectAttributes {
        content_type: head.content_type.clone(),
        content_encoding: head.content_encoding.clone(),
        content_disposition: head.content_disposition.clone(),
        content_language: head.content_language.clone(),
        cache_control: head.cache_control.clone(),
        metadata: head.metadata.clone(),
        ..ObjectAttributes::default()
    }
}

impl Flow for CopyFlow {
    type Output = UploadOutput;

    fn poll(&mut self) -> Step<UploadOutput> {
        match &mut self.phase {
            Phase::Start => {
                self.phase = Phase::Heading;
                let (bucket, key) = self.source.clone();
                let head = HeadObject::new(bucket, key);
                let head = match &self.options.source_sse_customer {
                    Some(k) => head.sse_customer_key(k.clone()),
                    None => head,
                };
                Step::Send(Job::call(0, head))
            }
            Phase::Single(op @ Some(_)) => match op.take() {
                Some(op) => Step::Send(Job::call(0, *op)),
                None => Step::Done(Err(super::unexpected())),
            },
            Phase::Multipart(flow) => flow.poll(),
            Phase::Finished(result) => Step::Done(result.take().unwrap_or_else(|| {
                Err(InputError::argument("copy", "polled again after it was over").into())
            })),
            // Waiting for a reply: the runtime broke the loop's rule.
            Phase::Heading | Phase::Single(None) => Step::Done(Err(super::unexpected())),
        }
    }

    fn handle(&mut self, id: u32, sent: Sent<Reply>) {
        if let Phase::Multipart(flow) = &mut self.phase {
            return flow.handle(id, sent);
        }
        let phase = std::mem::replace(&mut self.phase, Phase::Finished(None));
        self.phase = match (phase, sent.result) {
            (Phase::Heading, Ok(Reply::HeadObject(head))) => match self.plan(&head) {
                Ok(phase) => phase,
                Err(e) => Phase::Finished(Some(Err(e))),
            },
            (Phase::Single(None), Ok(Reply::CopyObject(out))) => {
                Phase::Finished(Some(Ok(UploadOutput {
                    etag: out.etag,
                    version_id: out.version_id,
                    parts: 0,
                    checksum: None,
                })))
            }
            (_, Err(e)) => Phase::Finished(Some(Err(e))),
            (_, Ok(_)) => Phase::Finished(Some(Err(super::unexpected()))),
        };
    }

    fn fail(&mut self, error: Error) {
        match &mut self.phase {
            Phase::Multipart(flow) => flow.fail(error),
            _ => self.phase = Phase::Finished(Some(Err(error))),
        }
    }
}
