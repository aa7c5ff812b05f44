//! Sans-IO machines for everything that takes more than one request.
//!
//! Every flow (an upload, a download, a multipart copy, a batch delete, a read-modify-write
//! of an ACL) is a [`Flow`]: the runtime asks it what to do with [`Flow::poll`], does that IO,
//! and hands the result back. The flow makes every decision — order, part sizes, what to
//! send after a failure, when it is over — so each runtime has one loop for all of them,
//! plus its own way of running [`Job`]s side by side. Each request inside a job is retried
//! by the per-request machine in [`request`], and every body is checked by [`guard`].
//!
//! The run loop, the same in both runtimes (`s3-blocking` on threads, `s3-async` on tasks):
//!
//! ```text
//! s3-blocking                                     s3-async
//! loop {                                          loop {
//!   match flow.poll() {                             match flow.poll() {
//!     Step::Send(job) => {                            Step::Send(job) => {
//!       let r = client.run(job);                        let r = client.run(job).await;
//!       flow.handle(job.id, r)                          flow.handle(job.id, r)
//!     }                                               }
//!     Step::Spawn(job) =>                             Step::Spawn(job) =>
//!       scope.spawn(|| tx.send(client.run(job))),       tasks.spawn(client.run(job)),
//!     Step::Read(n) =>                                Step::Read(n) =>
//!       flow.read(read_up_to(src, n)),                  flow.read(read_up_to(src, n).await),
//!     Step::Wait =>                                   Step::Wait =>
//!       flow.handle(rx.recv()),                         flow.handle(tasks.join_next().await),
//!     Step::Done(result) => return result,            Step::Done(result) => return result,
//!   }                                               }
//! }                                               }
//! ```
//!
//! A job's IO is one of three kinds ([`Work`]): a request whose body is in memory or absent,
//! a request whose body the runtime streams from a range of the caller's file (re-read from
//! its offset on every attempt), or a ranged GET whose body the runtime writes at its place
//! in the destination file ([`download::RangeJob`], which resumes where an attempt broke
//! off). A runtime never decides anything else.
//!
//! Listings are machines of their own ([`paginate::Listing`]): they hand out entries one at
//! a time and ask for the next page when they run out. A large prefix can also be listed as
//! a flow ([`split::SplitListFlow`]), its folders listed side by side.

pub mod acl;
pub mod call;
pub mod copy;
pub mod delete;
pub mod download;
pub mod guard;
pub mod limit;
pub mod paginate;
pub mod progress;
pub mod request;
pub mod resume;
pub mod split;
pub mod throttle;
pub(crate) mod trace;
pub mod upload;
pub mod verify;

pub use call::{BodyDigests, Call, Reply};
pub use request::Sent;

use crate::error::Error;

/// A machine for work that spans several requests.
pub trait Flow {
    /// What the flow produces.
    type Output;

    /// What to do next. After [`Step::Send`] or [`Step::Read`], hand back its result before
    /// polling again; after [`Step::Done`], the flow is over.
    fn poll(&mut self) -> Step<Self::Output>;

    /// Takes the result of the job `id` (sent inline or spawned).
    fn handle(&mut self, id: u32, sent: Sent<Reply>);

    /// Takes what the runtime read from the caller's source after [`Step::Read`]: at most
    /// the bytes asked for, fewer only at the source's end.
    fn read(&mut self, bytes: Vec<u8>) {
        drop(bytes);
        self.fail(crate::InputError::argument("source", "this flow reads no source").into());
    }

    /// The runtime could not do what the flow asked (a file or source failed): the flow
    /// cleans up and ends with `error`.
    fn fail(&mut self, error: Error);

    /// Hands back the outcome of a [`Step::Read`]: the bytes, the source's failure, or
    /// `None` when the caller gave no source.
    fn read_result(&mut self, read: Option<Result<Vec<u8>, Error>>) {
        match read {
            Some(Ok(bytes)) => self.read(bytes),
            Some(Err(e)) => self.fail(e),
            None => {
                let why = "this flow needs a reader";
                self.fail(crate::InputError::argument("flow", why).into());
            }
        }
    }
}

/// What a flow asks of the runtime.
#[derive(Debug)]
pub enum Step<T> {
    /// Run this job now and hand its result to [`Flow::handle`] before polling again.
    Send(Job),
    /// Start this job beside the others (a thread, a task); hand its result to
    /// [`Flow::handle`] whenever it ends. The flow bounds how many run at once.
    Spawn(Job),
    /// Read up to this many bytes of the caller's source and hand them to [`Flow::read`].
    Read(u64),
    /// Nothing new to start: wait for a spawned job to end.
    Wait,
    /// The flow is over.
    Done(Result<T, Error>),
}

/// One unit of IO a flow hands out.
#[derive(Debug)]
pub struct Job {
    /// Names the job in [`Flow::handle`].
    pub id: u32,
    /// What to do.
    pub work: Work,
}

/// The IO of a [`Job`].
#[derive(Debug)]
pub enum Work {
    /// Send `call`, whose body is in memory or absent; the reply is buffered.
    Call(Call),
    /// Send `call` with `len` bytes of the caller's file from `offset` as its body, re-read
    /// on every attempt. Unless `digests` is empty, first read the range once more to
    /// compute them (`Content-MD5`, a flexible checksum; see [`Call::with_digests`]).
    FileBody {
        /// The request.
        call: Call,
        /// Where the body starts in the file.
        offset: u64,
        /// The body's length.
        len: u64,
        /// What the request must carry about its body, computed in one pass.
        digests: BodyDigests,
    },
    /// Fetch a range into the destination file (see [`download::RangeJob`]).
    Range(download::RangeJob),
}

impl Job {
    /// A job that sends `call`.
    pub fn call(id: u32, call: impl Into<Call>) -> Job {
        Job {
            id,
            work: Work::Call(call.into()),
        }
    }
}

macro_rules! into_call {
    ($($op:ident),*) => {
        $(impl From<crate::ops::$op> for Call {
            fn from(op: crate::ops::$op) -> Call {
                Call::$op(op)
            }
        })*
    };
}

into_call!(
    PutObject,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListMultipartUploads,
    ListParts,
    ListObjectsV2,
    HeadObject,
    GetObject,
    CopyObject,
    DeleteObjects,
    GetBucketAcl,
    PutBucketAcl,
    GetObjectAcl,
    PutObjectAcl
);

/// A reply of another variant than the call's: a bug in the runtime that handed it over.
pub(crate) fn unexpected() -> Error {
    crate::InputError::argument("reply", "the reply of another request").into()
}
