//! Listing a large prefix faster by splitting it: S3 pages one listing at a time (each page
//! needs the previous page's token), but listings of different prefixes are independent. The
//! flow lists the prefix with a delimiter, and every common prefix ("folder") it finds
//! becomes a listing of its own, run side by side with the others, to the depth asked;
//! below that depth a folder is listed flat. Every object under the prefix comes back once,
//! in key order.
//!
//! ```
//! use s3_proto::flow::split::{SplitListFlow, SplitOptions};
//! use s3_proto::flow::{Flow, Step};
//!
//! let options = SplitOptions::default().depth(2).concurrency(8);
//! let mut flow = SplitListFlow::new("bucket".parse()?, "logs/", options);
//! assert!(matches!(flow.poll(), Step::Spawn(_)));
//! # Ok::<(), s3_proto::Error>(())
//! ```

use std::collections::VecDeque;

use super::paginate::Paginated;
use super::{Call, Flow, Job, Reply, Sent, Step, Work};
use crate::error::{Error, ResponseError};
use crate::name::BucketName;
use crate::ops::{ListObjectsV2, Object};
use crate::sorted::SortedMap;

/// How a listing is split.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SplitOptions {
    /// Where keys are split into folders (default `/`).
    pub delimiter: String,
    /// Levels of folders listed apart (default 1: each folder right under the prefix is one
    /// flat listing). 0 lists the prefix flat, in one listing.
    pub depth: u32,
    /// Listings in flight at once (default 16, at least 1).
    pub concurrency: usize,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            delimiter: "/".to_owned(),
            depth: 1,
            concurrency: 16,
        }
    }
}

impl SplitOptions {
    /// Sets the delimiter.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = delimiter.into();
        self
    }

    /// Sets how many levels of folders are listed apart.
    pub fn depth(mut self, depth: u32) -> Self {
        self.depth = depth;
        self
    }

    /// Sets how many listings run at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
}

/// What a split listing found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SplitListing {
    /// Every object under the prefix, in key order.
    pub objects: Vec<Object>,
    /// Listings run (the prefix's and one per folder split off).
    pub listings: u64,
    /// Pages fetched in all.
    pub pages: u64,
}

/// Lists every object under a prefix as listings of its folders side by side (see the
/// [module](self) and [`crate::flow`] for the loop).
#[derive(Debug)]
pub struct SplitListFlow {
    bucket: BucketName,
    options: SplitOptions,
    /// Pages to fetch, each with the folder levels still to split below it.
    queue: VecDeque<(ListObjectsV2, u32)>,
    in_flight: SortedMap<u32, (ListObjectsV2, u32)>,
    next_id: u32,
    output: SplitListing,
    failure: Option<Error>,
    done: bool,
}

impl SplitListFlow {
    /// Lists every object under `prefix` in `bucket`, split as `options` say.
    pub fn new(bucket: BucketName, prefix: &str, options: SplitOptions) -> Self {
        let mut flow = SplitListFlow {
            bucket,
            options,
            queue: VecDeque::new(),
            in_flight: SortedMap::new(),
            next_id: 1,
            output: SplitListing::default(),
            failure: None,
            done: false,
        };
        let depth = flow.options.depth;
        flow.start(prefix, depth);
        flow
    }

    /// Queues the listing of `prefix`, split `depth` more levels.
    fn start(&mut self, prefix: &str, depth: u32) {
        let op = ListObjectsV2::new(self.bucket.clone()).prefix(prefix);
        let op = match depth {
            0 => op,
            _ => op.delimiter(self.options.delimiter.clone()),
        };
        self.output.listings += 1;
        self.queue.push_back((op, depth));
    }

    /// A page of the listing `op` arrived.
    fn page(
        &mut self,
        op: &ListObjectsV2,
        depth: u32,
        page: &crate::ops::ListObjectsV2Output,
    ) -> Result<(), Error> {
        self.output.pages += 1;
        if let Some(next) = op.next_page(page) {
            if &next == op {
                let why = "repeats the current page";
                return Err(ResponseError::invalid("next page marker", why).into());
            }
            self.queue.push_back((next, depth));
        }
        if depth > 0 {
            for folder in &page.common_prefixes {
                self.start(folder, depth - 1);
            }
        }
        Ok(())
    }
}

impl Flow for SplitListFlow {
    type Output = SplitListing;

    fn poll(&mut self) -> Step<SplitListing> {
        if self.done {
            let e = crate::InputError::argument("listing", "polled again after it was over");
            return Step::Done(Err(e.into()));
        }
        if self.failure.is_none() && self.in_flight.len() < self.options.concurrency.max(1) {
            if let Some((op, depth)) = self.queue.pop_front() {
                let id = self.next_id;
                self.next_id += 1;
                let call = Call::ListObjectsV2(op.clone());
                self.in_flight.insert(id, (op, depth));
                let work = Work::Call(call);
                return Step::Spawn(Job { id, work });
            }
        }
        if !self.in_flight.is_empty() {
            return Step::Wait;
        }
        self.done = true;
        if let Some(e) = self.failure.take() {
            return Step::Done(Err(e));
        }
        let mut output = std::mem::take(&mut self.output);
        output.objects.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        Step::Done(Ok(output))
    }

    fn handle(&mut self, id: u32, sent: Sent<Reply>) {
        let Some((op, depth)) = self.in_flight.remove(&id) else {
            return self.fail(super::unexpected());
        };
        let result = match sent.result {
            Ok(Reply::ListObjectsV2(mut page)) => {
                let objects = std::mem::take(&mut page.contents);
                self.output.objects.extend(objects);
                self.page(&op, depth, &page)
            }
            Ok(_) => Err(super::unexpected()),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            self.fail(e);
        }
    }

    fn fail(&mut self, error: Error) {
        self.queue.clear();
        self.failure.get_or_insert(error);
    }
}
