//! Conditional requests: `If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, and their `x-amz-copy-source-` forms.
//!
//! Evaluated in RFC 9110 order, which is what S3 documents: a true `If-Match` makes
//! `If-Unmodified-Since` irrelevant, and a false `If-None-Match` (the ETag differs) makes
//! `If-Modified-Since` irrelevant.

use std::time::{SystemTime, UNIX_EPOCH};

use super::request::Incoming;
use super::store::{StoredObject, bare_etag};

/// What the conditions say about serving the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Serve it.
    Proceed,
    /// 304 Not Modified (GET and HEAD only; a copy fails with 412 instead).
    NotModified,
    /// 412 Precondition Failed, naming the header that failed.
    Failed(&'static str),
}

/// The four header names under one prefix (`""` for reads, `"x-amz-copy-source-"` for copies).
struct Names {
    if_match: &'static str,
    if_none_match: &'static str,
    if_modified_since: &'static str,
    if_unmodified_since: &'static str,
}

const READ: Names = Names {
    if_match: "If-Match",
    if_none_match: "If-None-Match",
    if_modified_since: "If-Modified-Since",
    if_unmodified_since: "If-Unmodified-Since",
};

const COPY: Names = Names {
    if_match: "x-amz-copy-source-if-match",
    if_none_match: "x-amz-copy-source-if-none-match",
    if_modified_since: "x-amz-copy-source-if-modified-since",
    if_unmodified_since: "x-amz-copy-source-if-unmodified-since",
};

/// The verdict of a GET or HEAD's conditions on `obj`.
pub(crate) fn read(req: &Incoming, obj: &StoredObject) -> Verdict {
    evaluate(req, obj, &READ)
}

/// The verdict of a copy's source conditions on the source `obj` (never `NotModified`).
pub(crate) fn copy_source(req: &Incoming, obj: &StoredObject) -> Verdict {
    match evaluate(req, obj, &COPY) {
        Verdict::NotModified => Verdict::Failed(COPY.if_modified_since),
        v => v,
    }
}

fn evaluate(req: &Incoming, obj: &StoredObject, names: &Names) -> Verdict {
    if let Some(tags) = req.header(names.if_match) {
        if !etag_matches(tags, &obj.etag) {
            return Verdict::Failed(names.if_match);
        }
    } else if let Some(since) = date(req, names.if_unmodified_since) {
        if seconds(obj.last_modified) > since {
            return Verdict::Failed(names.if_unmodified_since);
        }
    }
    if let Some(tags) = req.header(names.if_none_match) {
        if etag_matches(tags, &obj.etag) {
            return if names.if_none_match == COPY.if_none_match {
                Verdict::Failed(names.if_none_match)
            } else {
                Verdict::NotModified
            };
        }
    } else if let Some(since) = date(req, names.if_modified_since) {
        if seconds(obj.last_modified) <= since {
            return Verdict::NotModified;
        }
    }
    Verdict::Proceed
}

/// True when the list `tags` (`*`, or comma-separated ETags, quoted or not) names `etag`.
pub(crate) fn etag_matches(tags: &str, etag: &str) -> bool {
    let etag = bare_etag(etag);
    tags.split(',')
        .map(str::trim)
        .any(|t| t == "*" || bare_etag(t) == etag)
}

/// A date header in whole seconds since the epoch; an unparsable date is ignored, as HTTP says.
fn date(req: &Incoming, name: &str) -> Option<u64> {
    let value = req.header(name)?;
    httpdate::parse_http_date(value.trim()).ok().map(seconds)
}

fn seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}
