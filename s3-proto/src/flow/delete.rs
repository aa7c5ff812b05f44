//! Deleting any number of keys: DeleteObjects in batches of at most 1,000 (S3's limit), one
//! after the other, with every key's failure returned as data.

use std::collections::VecDeque;

use super::{Flow, Job, Reply, Sent, Step};
use crate::error::Error;
use crate::name::{BucketName, ObjectKey};
use crate::ops::{DeleteObjects, DeleteObjectsOutput, MAX_DELETE_OBJECTS};

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
