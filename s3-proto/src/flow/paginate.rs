//! Paging: list every object (or upload, or part), one page's operation at a time.
//!
//! ```
//! use s3_proto::flow::paginate::Pages;
//! use s3_proto::ops::ListObjectsV2;
//!
//! let mut pages = Pages::new(ListObjectsV2::new("bucket".parse()?).prefix("logs/"));
//! while let Some(op) = pages.next_op() {
//!     // let output = runtime.send(op)?;   // the runtime does the IO
//!     # let output = Default::default();
//!     pages.handle(&output)?;
//! }
//! # Ok::<(), s3_proto::Error>(())
//! ```

use crate::error::{Error, ResponseError};
use crate::op::Operation;
use crate::ops::{
    ListMultipartUploads, ListMultipartUploadsOutput, ListObjects, ListObjectsOutput,
    ListObjectsV2, ListObjectsV2Output, ListParts, ListPartsOutput, MultipartUploadInfo, Object,
    Part,
};

/// An operation whose output says how to ask for the next page.
///
/// Each listing implements it beside its operation in [`ops`](crate::ops): `ListObjectsV2`,
/// `ListObjects`, `ListParts`, `ListMultipartUploads`.
pub trait Paginated: Operation + Sized {
    /// The operation for the page after `output`, or `None` after the last page.
    fn next_page(&self, output: &Self::Output) -> Option<Self>;
}

/// Drives a paginated listing: `next_op` gives the request to send, `handle` takes its output.
#[derive(Debug, Clone)]
pub struct Pages<O> {
    next: Option<O>,
    pages: u64,
}

impl<O: Paginated + PartialEq> Pages<O> {
    /// Starts with `first`.
    pub fn new(first: O) -> Self {
        Pages {
            next: Some(first),
            pages: 0,
        }
    }

    /// The operation to send now; `None` when the listing is complete.
    pub fn next_op(&self) -> Option<&O> {
        self.next.as_ref()
    }

    /// Pages handled so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Takes the output of [`Pages::next_op`]'s operation and moves to the next page.
    ///
    /// # Errors
    /// [`ResponseError::InvalidField`] when a truncated page would ask for itself again (a
    /// server that repeats its token would otherwise loop forever); the listing then stops.
    pub fn handle(&mut self, output: &O::Output) -> Result<(), Error> {
        let Some(current) = self.next.take() else {
            return Ok(());
        };
        self.pages += 1;
        let next = current.next_page(output);
        if next.as_ref() == Some(&current) {
            return Err(
                ResponseError::invalid("next page marker", "repeats the current page").into(),
            );
        }
        self.next = next;
        Ok(())
    }
}

/// A listing whose pages hold entries a caller wants one at a time.
pub trait Entries: Paginated + PartialEq + Clone {
    /// One entry.
    type Entry: std::fmt::Debug;

    /// A page's entries, in order.
    fn entries(output: Self::Output) -> Vec<Self::Entry>;
}

/// One entry of an object listing: an object, or a common prefix ("folder") under a
/// delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListEntry {
    /// An object.
    Object(Object),
    /// A common prefix.
    Prefix(String),
}

fn objects_then_prefixes(contents: Vec<Object>, prefixes: Vec<String>) -> Vec<ListEntry> {
    let objects = contents.into_iter().map(ListEntry::Object);
    objects
        .chain(prefixes.into_iter().map(ListEntry::Prefix))
        .collect()
}

impl Entries for ListObjectsV2 {
    type Entry = ListEntry;

    fn entries(output: ListObjectsV2Output) -> Vec<ListEntry> {
        objects_then_prefixes(output.contents, output.common_prefixes)
    }
}

impl Entries for ListObjects {
    type Entry = ListEntry;

    fn entries(output: ListObjectsOutput) -> Vec<ListEntry> {
        objects_then_prefixes(output.contents, output.common_prefixes)
    }
}

impl Entries for ListMultipartUploads {
    type Entry = MultipartUploadInfo;

    fn entries(output: ListMultipartUploadsOutput) -> Vec<MultipartUploadInfo> {
        output.uploads
    }
}

impl Entries for ListParts {
    type Entry = Part;

    fn entries(output: ListPartsOutput) -> Vec<Part> {
        output.parts
    }
}

/// What a [`Listing`] asks for.
#[derive(Debug)]
pub enum ListStep<O: Entries> {
    /// The next entry.
    Entry(O::Entry),
    /// Send this page's request and hand its result to [`Listing::handle`].
    Send(O),
    /// The listing is over.
    End,
}

/// Every entry of a listing, one at a time, fetching pages as they run out; stops after
/// the first failed page.
///
/// ```
/// use s3_proto::flow::paginate::{Listing, ListStep};
/// use s3_proto::ops::ListObjectsV2;
///
/// let mut listing = Listing::new(ListObjectsV2::new("bucket".parse()?));
/// let ListStep::Send(op) = listing.poll() else { unreachable!() };
/// // runtime: let result = client.send(&op);
/// # let result = Ok(Default::default());
/// assert!(listing.handle(result).is_none());
/// assert!(matches!(listing.poll(), ListStep::End));
/// # Ok::<(), s3_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct Listing<O: Entries> {
    pages: Pages<O>,
    buffer: std::collections::VecDeque<O::Entry>,
    failed: bool,
}

impl<O: Entries> Listing<O> {
    /// Lists from `first` on.
    pub fn new(first: O) -> Self {
        Listing {
            pages: Pages::new(first),
            buffer: std::collections::VecDeque::new(),
            failed: false,
        }
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> u64 {
        self.pages.pages()
    }

    /// The next entry, or the page to fetch first.
    pub fn poll(&mut self) -> ListStep<O> {
        if let Some(entry) = self.buffer.pop_front() {
            return ListStep::Entry(entry);
        }
        match self.pages.next_op() {
            Some(op) if !self.failed => ListStep::Send(op.clone()),
            _ => ListStep::End,
        }
    }

    /// Takes the result of [`ListStep::Send`]'s request; an error is the caller's to report
    /// (the listing then ends).
    pub fn handle(&mut self, result: Result<O::Output, Error>) -> Option<Error> {
        let checked = result.and_then(|page| self.pages.handle(&page).map(|()| page));
        match checked {
            Ok(page) => {
                self.buffer.extend(O::entries(page));
                None
            }
            Err(e) => {
                self.failed = true;
                Some(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BucketName;
    use crate::ops::{ListObjectsV2, ListObjectsV2Output};

    #[test]
    fn stops_after_last_page_and_on_repeated_tokens() {
        let op = ListObjectsV2::new(BucketName::new("bucket").unwrap());
        let mut pages = Pages::new(op);
        let page1 = ListObjectsV2Output {
            is_truncated: true,
            next_continuation_token: Some("t1".to_owned()),
            ..Default::default()
        };
        pages.handle(&page1).unwrap();
        assert!(pages.next_op().is_some());
        // The server hands back the same token: no infinite loop.
        assert!(pages.handle(&page1).is_err());
        assert!(pages.next_op().is_none());

        let mut pages = Pages::new(ListObjectsV2::new(BucketName::new("bucket").unwrap()));
        pages.handle(&ListObjectsV2Output::default()).unwrap();
        assert!(pages.next_op().is_none());
        assert_eq!(pages.pages(), 1);
    }

    #[test]
    fn truncated_page_without_token_ends() {
        let mut pages = Pages::new(ListObjectsV2::new(BucketName::new("bucket").unwrap()));
        let page = ListObjectsV2Output {
            is_truncated: true,
            ..Default::default()
        };
        pages.handle(&page).unwrap();
        assert!(pages.next_op().is_none());
    }
}
