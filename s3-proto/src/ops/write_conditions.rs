//! Conditional writes (`If-None-Match`, `If-Match`) as PutObject and CompleteMultipartUpload
//! share them: the conditions, their headers and their setters, written once.

use crate::request::RequestBuilder;

/// The conditions of a write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WriteConditions {
    pub(crate) if_none_match: Option<String>,
    pub(crate) if_match: Option<String>,
    /// Send `If-Match` without its quotes (the Ceph RGW quirk).
    pub(crate) if_match_unquoted: bool,
}

impl WriteConditions {
    /// Adds the condition headers.
    pub(crate) fn apply(&self, req: RequestBuilder) -> RequestBuilder {
        let if_match = self.if_match.as_deref().map(|etag| {
            if self.if_match_unquoted {
                etag.trim_matches('"')
            } else {
                etag
            }
        });
        req.header_opt("if-none-match", self.if_none_match.as_deref())
            .header_opt("if-match", if_match)
    }
}

/// Consuming setters for the [`WriteConditions`] of a write, through its `conditions` field;
/// `$what` names the write in the docs ("writes", "completes").
macro_rules! write_condition_setters {
    ($what:literal) => {
        #[doc = concat!("Only ", $what, " under this `If-None-Match` condition: `\"*\"` makes it create-only")]
        /// (412 [`PreconditionFailed`](crate::ErrorCode::PreconditionFailed) if the key
        /// exists).
        pub fn if_none_match(mut self, value: impl Into<String>) -> Self {
            self.conditions.if_none_match = Some(value.into());
            self
        }

        #[doc = concat!("Only ", $what, " while the existing object's ETag is `etag` (412 otherwise; 409")]
        /// [`ConditionalRequestConflict`](crate::ErrorCode::ConditionalRequestConflict) on a
        /// race).
        pub fn if_match(mut self, etag: impl Into<String>) -> Self {
            self.conditions.if_match = Some(etag.into());
            self
        }

        /// Sends the `If-Match` ETag without its quotes.
        ///
        /// A quirk of Ceph RGW (seen on 16.x): on writes it compares `If-Match` with the bare
        /// hex ETag and answers 412 to the quoted form S3 documents; AWS, moto and s3s-fs
        /// take both.
        pub fn if_match_unquoted(mut self, unquoted: bool) -> Self {
            self.conditions.if_match_unquoted = unquoted;
            self
        }
    };
}

pub(crate) use write_condition_setters;
