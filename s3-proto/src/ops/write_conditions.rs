//! Conditional writes (`If-None-Match`, `If-Match`) as PutObject and CompleteMultipartUpload
//! share them: the conditions, their headers and their setters, written once.

use crate::quirks::ServerQuirks;
use crate::request::RequestBuilder;

/// The conditions of a write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WriteConditions {
    pub(crate) if_none_match: Option<String>,
    pub(crate) if_match: Option<String>,
}

impl WriteConditions {
    /// Adds the condition headers, the `If-Match` ETag unquoted for a server that wants it so
    /// ([`ServerQuirks::if_match_unquoted`]).
    pub(crate) fn apply(&self, req: RequestBuilder, quirks: &ServerQuirks) -> RequestBuilder {
        let if_match = self.if_match.as_deref().map(|etag| {
            if quirks.if_match_unquoted {
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
        /// race). Sent without its quotes to a server whose
        /// [`ServerQuirks::if_match_unquoted`](crate::quirks::ServerQuirks::if_match_unquoted)
        /// says so (Ceph RGW 16).
        pub fn if_match(mut self, etag: impl Into<String>) -> Self {
            self.conditions.if_match = Some(etag.into());
            self
        }
    };
}

pub(crate) use write_condition_setters;
