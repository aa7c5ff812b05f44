//! Object actions: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.

use http::StatusCode;

use super::conditions::{self, Verdict};
use super::reply::{Reply, S3Error, http_date, iso8601};
use super::request::Incoming;
use super::serve::{
    Ctx, Outcome, bucket, bucket_mut, check_version, copy_source_object, part_number,
};
use super::store::{Attributes, MAX_METADATA_SIZE, StoredObject};
use super::xml::{self, XmlOut};

/// Most keys one DeleteObjects may name.
const MAX_DELETE_KEYS: usize = 1000;

/// `response-*` query parameters of GetObject and the headers they override.
const RESPONSE_OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Checks the size of the user metadata a write carries.
pub(crate) fn check_metadata(attributes: &Attributes) -> Result<(), S3Error> {
    let size = attributes.metadata_size();
    if size > MAX_METADATA_SIZE {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size.",
        )
        .detail("Size", size.to_string())
        .detail("MaxSizeAllowed", MAX_METADATA_SIZE.to_string()));
    }
    Ok(())
}

/// PutObject, with `If-None-Match: *` and `If-Match` conditional writes.
pub(crate) fn put_object(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let attributes = Attributes::from_request(req);
    check_metadata(&attributes)?;
    let bucket = bucket_mut(ctx.store, req.bucket())?;
    let existing = bucket.objects.get(req.key());
    // Conditional writes: `If-None-Match: *` refuses to overwrite; `If-Match` to write over
    // anything but the named version.
    if let Some(tags) = req.header("if-none-match") {
        if tags.trim() == "*" && existing.is_some() {
            return Err(S3Error::precondition_failed("If-None-Match"));
        }
    }
    if let Some(tags) = req.header("if-match") {
        let Some(existing) = existing else {
            return Err(S3Error::no_such_key(req.key()));
        };
        if !conditions::etag_matches(tags, &existing.etag) {
            return Err(S3Error::precondition_failed("If-Match"));
        }
    }
    let object = StoredObject::single(req.body.clone(), attributes, ctx.now);
    let etag = object.etag.clone();
    bucket.objects.insert(req.key().to_owned(), object);
    Ok(Reply::empty(StatusCode::OK).header("etag", &etag))
}

/// GetObject, or HeadObject when `head`: the same answer without the body.
pub(crate) fn get_object(ctx: Ctx<'_>, head: bool) -> Outcome {
    let req = ctx.req;
    check_version(req.param("versionId"))?;
    let object = bucket(ctx.store, req.bucket())?
        .objects
        .get(req.key())
        .ok_or_else(|| S3Error::no_such_key(req.key()))?;
    match conditions::read(req, object) {
        Verdict::Proceed => {}
        Verdict::Failed(header) => return Err(S3Error::precondition_failed(header)),
        Verdict::NotModified => {
            return Ok(Reply::empty(StatusCode::NOT_MODIFIED)
                .header("etag", &object.etag)
                .header("last-modified", &http_date(object.last_modified)));
        }
    }
    let total = object.data.len() as u64;
    let selection = select(req, object)?;
    let (first, last) = match selection {
        Selection::Whole => (0, total.saturating_sub(1)),
        Selection::Range { first, last } | Selection::Part { first, last, .. } => (first, last),
    };
    let length = if total == 0 { 0 } else { last - first + 1 };
    let mut reply = Reply::empty(StatusCode::OK)
        .header("content-length", &length.to_string())
        .header("etag", &object.etag)
        .header("last-modified", &http_date(object.last_modified))
        .header("accept-ranges", "bytes")
        .header("content-type", object.content_type());
    if let Some(class) = &object.attributes.storage_class {
        reply = reply.header("x-amz-storage-class", class);
    }
    for (name, value) in &object.attributes.content_headers {
        reply = reply.raw_header(name, value);
    }
    for (name, value) in &object.attributes.metadata {
        reply = reply.raw_header(&format!("x-amz-meta-{name}"), value);
    }
    if !matches!(selection, Selection::Whole) {
        reply.status = StatusCode::PARTIAL_CONTENT;
        reply = reply.header("content-range", &format!("bytes {first}-{last}/{total}"));
    }
    if let Selection::Part { count, .. } = selection {
        reply = reply.header("x-amz-mp-parts-count", &count.to_string());
    }
    let wants_checksum = req
        .headers
        .get("x-amz-checksum-mode")
        .is_some_and(|v| v == "ENABLED");
    if let (Some(checksum), Selection::Whole, true) = (&object.checksum, selection, wants_checksum)
    {
        reply = reply
            .header(checksum.algorithm().header_name(), &checksum.to_base64())
            .header("x-amz-checksum-type", "FULL_OBJECT");
    }
    for (param, header) in RESPONSE_OVERRIDES {
        if let Some(value) = req.param(param) {
            reply = reply.header(header, value);
        }
    }
    if head || total == 0 {
        return Ok(reply);
    }
    let body = usize::try_from(first)
        .ok()
        .zip(usize::try_from(last).ok())
        .and_then(|(first, last)| object.data.get(first..=last))
        .unwrap_or_default();
    Ok(reply.body(body.to_vec()))
}

/// Which bytes a GET asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selection {
    Whole,
    Range { first: u64, last: u64 },
    Part { first: u64, last: u64, count: usize },
}

fn select(req: &Incoming, object: &StoredObject) -> Result<Selection, S3Error> {
    let total = object.data.len() as u64;
    let range = req.header("range");
    if req.has("partNumber") {
        if range.is_some() {
            return Err(S3Error::invalid_request(
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        let n = usize::from(part_number(req)?);
        if object.part_sizes.is_empty() {
            return if n == 1 {
                Ok(Selection::Whole)
            } else {
                Err(invalid_part_number())
            };
        }
        let size = *object
            .part_sizes
            .get(n - 1)
            .ok_or_else(invalid_part_number)?;
        let first: u64 = object.part_sizes.iter().take(n - 1).sum();
        if size == 0 {
            return Ok(Selection::Whole);
        }
        return Ok(Selection::Part {
            first,
            last: first + size - 1,
            count: object.part_sizes.len(),
        });
    }
    let Some(spec) = range.and_then(parse_range) else {
        // A Range header that is not one `bytes=` range is ignored, as HTTP allows.
        return Ok(Selection::Whole);
    };
    let resolved = match spec {
        RangeSpec::From { first, last } if first < total => {
            Some((first, last.map_or(total - 1, |l| l.min(total - 1))))
        }
        RangeSpec::Suffix(n) if n > 0 && total > 0 => Some((total.saturating_sub(n), total - 1)),
        _ => None,
    };
    let (first, last) = resolved.ok_or_else(|| {
        S3Error::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .detail("RangeRequested", range.unwrap_or_default())
        .detail("ActualObjectSize", total.to_string())
        .with_header("content-range", format!("bytes */{total}"))
    })?;
    Ok(Selection::Range { first, last })
}

fn invalid_part_number() -> S3Error {
    S3Error::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "InvalidPartNumber",
        "The requested partnumber is not satisfiable",
    )
}

/// One `bytes=` range, before the object's size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `bytes=first-` or `bytes=first-last`.
    From { first: u64, last: Option<u64> },
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

/// Parses a single `bytes=` range; `None` for anything else (several ranges, other units,
/// `last < first`), which S3 answers with the whole object.
fn parse_range(value: &str) -> Option<RangeSpec> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if first.trim().is_empty() {
        return number(last).map(RangeSpec::Suffix);
    }
    let first = number(first)?;
    if last.trim().is_empty() {
        return Some(RangeSpec::From { first, last: None });
    }
    let last = number(last)?;
    (last >= first).then_some(RangeSpec::From {
        first,
        last: Some(last),
    })
}

/// DeleteObject: 204 whether or not the key existed.
pub(crate) fn delete_object(ctx: Ctx<'_>) -> Outcome {
    let bucket = bucket_mut(ctx.store, ctx.req.bucket())?;
    bucket.objects.remove(ctx.req.key());
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

/// DeleteObjects: up to 1000 keys, Content-MD5 required; quiet mode lists nothing.
pub(crate) fn delete_objects(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    bucket(ctx.store, req.bucket())?;
    let has_checksum = req.headers.contains_key("content-md5")
        || req
            .headers
            .keys()
            .any(|n| n.as_str().starts_with("x-amz-checksum-"));
    if !has_checksum {
        return Err(S3Error::invalid_request(
            "Missing required header for this request: Content-MD5",
        ));
    }
    let root = xml::parse(&req.body).map_err(|_| S3Error::malformed_xml())?;
    if root.name != "Delete" {
        return Err(S3Error::malformed_xml());
    }
    let quiet = root
        .child_text("Quiet")
        .is_some_and(|q| q.eq_ignore_ascii_case("true"));
    let mut targets = Vec::new();
    for object in root.children_named("Object") {
        let key = object.child_text("Key").filter(|k| !k.is_empty());
        let key = key.ok_or_else(S3Error::malformed_xml)?;
        targets.push((key.to_owned(), object.child_text("VersionId")));
    }
    if targets.is_empty() || targets.len() > MAX_DELETE_KEYS {
        return Err(S3Error::malformed_xml());
    }
    let bucket = bucket_mut(ctx.store, req.bucket())?;
    let mut w = XmlOut::document("DeleteResult");
    for (key, version) in &targets {
        bucket.objects.remove(key);
        if !quiet {
            w.open("Deleted")
                .element("Key", key)
                .element_opt("VersionId", *version)
                .close("Deleted");
        }
    }
    Ok(Reply::xml(w.finish("DeleteResult")))
}

/// CopyObject: source conditions, COPY/REPLACE metadata directive, no no-op self-copy.
pub(crate) fn copy_object(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let (src_bucket, src_key, source) = copy_source_object(ctx.store, req)?;
    let replace = match req.header("x-amz-metadata-directive").map(str::trim) {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "Unknown metadata directive.",
                "x-amz-metadata-directive",
                other,
            ));
        }
    };
    let mut attributes = if replace {
        Attributes::from_request(req)
    } else {
        source.attributes.clone()
    };
    let new_class = req.header("x-amz-storage-class").map(str::to_owned);
    if !replace {
        if let Some(class) = &new_class {
            attributes.storage_class = Some(class.clone()).filter(|c| c != "STANDARD");
        }
    }
    if src_bucket == req.bucket() && src_key == req.key() && !replace && new_class.is_none() {
        return Err(S3Error::invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself \
             without changing the object's metadata, storage class, website redirect location \
             or encryption attributes.",
        ));
    }
    check_metadata(&attributes)?;
    let object = StoredObject::single(source.data.clone(), attributes, ctx.now);
    let destination = bucket_mut(ctx.store, req.bucket())?;
    let mut w = XmlOut::document("CopyObjectResult");
    w.element("LastModified", &iso8601(object.last_modified))
        .element("ETag", &object.etag);
    destination.objects.insert(req.key().to_owned(), object);
    Ok(Reply::xml(w.finish("CopyObjectResult")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn range_forms() {
        assert_eq!(
            parse_range("bytes=2-5"),
            Some(RangeSpec::From {
                first: 2,
                last: Some(5)
            })
        );
        assert_eq!(
            parse_range("bytes=7-"),
            Some(RangeSpec::From {
                first: 7,
                last: None
            })
        );
        assert_eq!(parse_range("bytes=-3"), Some(RangeSpec::Suffix(3)));
        for ignored in [
            "bytes=5-2",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(parse_range(ignored), None, "{ignored}");
        }
    }
}
