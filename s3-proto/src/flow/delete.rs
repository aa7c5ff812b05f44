//! Deleting any number of keys: DeleteObjects in batches of at most 1,000 (S3's limit), with
//! every key's failure returned as data; and every key under a prefix, listed and deleted as
//! the listing goes, in constant memory.

use std::collections::VecDeque;

use super::paginate::{ListEntry, ListStep, Listing};
use super::{Flow, Job, Reply, Sent, Step};
use crate::error::Error;
use crate::name::{BucketName, ObjectKey};
use crate::ops::{
    DeleteError, DeleteObjects, DeleteObjectsOutput, ListObjectsV2, MAX_DELETE_OBJECTS,
};

/// Deletes `keys` from a bucket in batches (see [`crate::flow`] for the loop).
///
/// ```
/// use s3_proto::flow::delete::DeleteFlow;
/// use s3_proto::flow::{Flow, Step};
///
/// let keys = (0..2500).map(|i| format!("k{i}").parse()).collect::<Result<Vec<_>, _>>()?;
/// let mut flow = DeleteFlow::new("bucket".parse()?, keys);
/// assert_eq!(flow.batches_left(), 3);
/// assert!(matches!(flow.poll(), Step::Send(_)));
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct DeleteFlow {
    bucket: BucketName,
    batches: VecDeque<Vec<ObjectKey>>,
    output: DeleteObjectsOutput,
    failure: Option<Error>,
}

impl DeleteFlow {
    /// Deletes `keys` from `bucket`, quietly (only failures come back per key).
    pub fn new(bucket: BucketName, keys: Vec<ObjectKey>) -> Self {
        let batches = keys
            .chunks(MAX_DELETE_OBJECTS)
            .map(<[ObjectKey]>::to_vec)
            .collect();
        DeleteFlow {
            bucket,
            batches,
            output: DeleteObjectsOutput::default(),
            failure: None,
        }
    }

    /// Batches not sent yet.
    pub fn batches_left(&self) -> usize {
        self.batches.len()
    }
}

impl Flow for DeleteFlow {
    type Output = DeleteObjectsOutput;

    fn poll(&mut self) -> Step<DeleteObjectsOutput> {
        if let Some(e) = self.failure.take() {
            self.batches.clear();
            return Step::Done(Err(e));
        }
        match self.batches.pop_front() {
            Some(keys) => {
                let op = DeleteObjects::new(self.bucket.clone(), keys).quiet(true);
                Step::Send(Job::call(0, op))
            }
            None => Step::Done(Ok(std::mem::take(&mut self.output))),
        }
    }

    fn handle(&mut self, _id: u32, sent: Sent<Reply>) {
        match sent.result {
            Ok(Reply::DeleteObjects(page)) => {
                self.output.deleted.extend(page.deleted);
                self.output.errors.extend(page.errors);
            }
            Ok(_) => self.fail(super::unexpected()),
            Err(e) => self.fail(e),
        }
    }

    fn fail(&mut self, error: Error) {
        self.failure.get_or_insert(error);
    }
}

/// What deleting a prefix did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletePrefixOutput {
    /// Keys deleted.
    pub deleted: u64,
    /// Keys the server refused to delete, with its reasons.
    pub errors: Vec<DeleteError>,
}

/// The id of the listing's requests (batches are numbered from 1).
const LISTING: u32 = 0;

/// Deletes every key under a prefix: lists a page, deletes it in one DeleteObjects while the
/// listing goes on, at most `in_flight` batches at once. Memory stays bounded by the batches
/// in flight, however many keys there are; per-key failures are returned as data.
///
/// ```
/// use s3_proto::flow::delete::DeletePrefixFlow;
/// use s3_proto::flow::{Flow, Step};
///
/// let mut flow = DeletePrefixFlow::new("bucket".parse()?, "logs/2019/", 4);
/// assert!(matches!(flow.poll(), Step::Send(_)), "first, a page of the listing");
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct DeletePrefixFlow {
    bucket: BucketName,
    listing: Listing<ListObjectsV2>,
    listed: bool,
    batch: Vec<ObjectKey>,
    /// Batches sent and not answered: id → keys in it.
    in_flight: crate::sorted::SortedMap<u32, u64>,
    max_in_flight: usize,
    next_id: u32,
    output: DeletePrefixOutput,
    failure: Option<Error>,
}

impl DeletePrefixFlow {
    /// Deletes every key of `bucket` that starts with `prefix`, `in_flight` batches at most
    /// at once (at least one).
    pub fn new(bucket: BucketName, prefix: &str, in_flight: usize) -> Self {
        let op = ListObjectsV2::under(bucket.clone(), prefix, None);
        DeletePrefixFlow {
            bucket,
            listing: Listing::new(op),
            listed: false,
            batch: Vec::new(),
            in_flight: crate::sorted::SortedMap::new(),
            max_in_flight: in_flight.max(1),
            next_id: 1,
            output: DeletePrefixOutput::default(),
            failure: None,
        }
    }

    fn send_batch(&mut self) -> Step<DeletePrefixOutput> {
        let keys = std::mem::take(&mut self.batch);
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight.insert(id, keys.len() as u64);
        let op = DeleteObjects::new(self.bucket.clone(), keys).quiet(true);
        Step::Spawn(Job::call(id, op))
    }
}

impl Flow for DeletePrefixFlow {
    type Output = DeletePrefixOutput;

    fn poll(&mut self) -> Step<DeletePrefixOutput> {
        loop {
            if self.failure.is_some() {
                return match (self.in_flight.len(), self.failure.take()) {
                    (0, Some(e)) => Step::Done(Err(e)),
                    (_, failure) => {
                        self.failure = failure;
                        Step::Wait
                    }
                };
            }
            let full = self.batch.len() >= MAX_DELETE_OBJECTS;
            let last = self.listed && !self.batch.is_empty();
            if (full || last) && self.in_flight.len() < self.max_in_flight {
                return self.send_batch();
            }
            if !self.listed && !full {
                match self.listing.poll() {
                    ListStep::Entry(ListEntry::Object(object)) => {
                        match ObjectKey::new(&object.key) {
                            Ok(key) => self.batch.push(key),
                            Err(e) => self.failure = Some(e.into()),
                        }
                        continue;
                    }
                    ListStep::Entry(ListEntry::Prefix(_)) => continue,
                    ListStep::Send(op) => return Step::Send(Job::call(LISTING, op)),
                    ListStep::End => {
                        self.listed = true;
                        continue;
                    }
                }
            }
            if !self.in_flight.is_empty() {
                return Step::Wait;
            }
            return Step::Done(Ok(std::mem::take(&mut self.output)));
        }
    }

    fn handle(&mut self, id: u32, sent: Sent<Reply>) {
        if id == LISTING {
            let page = sent.result.and_then(|reply| match reply {
                Reply::ListObjectsV2(page) => Ok(page),
                _ => Err(super::unexpected()),
            });
            if let Some(e) = self.listing.handle(page) {
                self.fail(e);
            }
            return;
        }
        let Some(keys) = self.in_flight.remove(&id) else {
            return self.fail(super::unexpected());
        };
        match sent.result {
            Ok(Reply::DeleteObjects(page)) => {
                // Quiet mode lists only failures: the rest of the batch was deleted.
                let failed = page.errors.len() as u64;
                self.output.deleted += keys.saturating_sub(failed);
                self.output.errors.extend(page.errors);
            }
            Ok(_) => self.fail(super::unexpected()),
            Err(e) => self.fail(e),
        }
    }

    fn fail(&mut self, error: Error) {
        self.failure.get_or_insert(error);
    }
}
