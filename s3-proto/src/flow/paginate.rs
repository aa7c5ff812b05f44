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
