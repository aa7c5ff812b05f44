//! Multipart actions: CreateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts. (ListMultipartUploads pages
//! like the object listings and lives in `listing`.)

use http::StatusCode;

use super::object::check_metadata;
use super::reply::{Reply, S3Error, iso8601};
use super::request::Incoming;
use super::serve::{
    Ctx, Outcome, bucket, bucket_mut, copy_source_object, page_size, part_number,
    write_upload_parties,
};
use super::store::{
    Attributes, Bucket, Completed, StoredObject, StoredPart, Upload, bare_etag, multipart_etag,
};
use super::xml::{self, XmlOut};

/// The upload `req` names (`uploadId`), which must be of `req`'s key.
fn upload_mut<'b>(bucket: &'b mut Bucket, req: &Incoming) -> Result<&'b mut Upload, S3Error> {
    let id = req.param("uploadId").unwrap_or_default();
    bucket
        .uploads
        .get_mut(id)
        .filter(|u| u.key == req.key())
        .ok_or_else(|| S3Error::no_such_upload(id))
}

/// CreateMultipartUpload: a fresh upload id; attributes are kept for the object.
pub(crate) fn create(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let attributes = Attributes::from_request(req);
    check_metadata(&attributes)?;
    bucket(ctx.store, req.bucket())?;
    let id = ctx.store.new_upload_id();
    let bucket = bucket_mut(ctx.store, req.bucket())?;
    bucket.uploads.insert(
        id.clone(),
        Upload {
            key: req.key().to_owned(),
            initiated: ctx.now,
            attributes,
            parts: Default::default(),
        },
    );
    let mut w = XmlOut::document("InitiateMultipartUploadResult");
    w.element("Bucket", req.bucket())
        .element("Key", req.key())
        .element("UploadId", &id);
    Ok(Reply::xml(w.finish("InitiateMultipartUploadResult")))
}

/// UploadPart: stores (or replaces) one part; its ETag is the MD5 of the body.
pub(crate) fn upload_part(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let number = part_number(req)?;
    let upload = upload_mut(bucket_mut(ctx.store, req.bucket())?, req)?;
    let part = StoredPart::new(req.body.clone(), ctx.now);
    let etag = part.etag.clone();
    upload.parts.insert(number, part);
    Ok(Reply::empty(StatusCode::OK).header("etag", &etag))
}

/// UploadPartCopy: a part copied from an object, whole or `x-amz-copy-source-range`.
pub(crate) fn upload_part_copy(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let number = part_number(req)?;
    let (_, _, source) = copy_source_object(ctx.store, req)?;
    let data = match req.header("x-amz-copy-source-range") {
        None => source.data.clone(),
        Some(value) => copy_range(value, &source.data)?.to_vec(),
    };
    let upload = upload_mut(bucket_mut(ctx.store, req.bucket())?, req)?;
    let part = StoredPart::new(data, ctx.now);
    let mut w = XmlOut::document("CopyPartResult");
    w.element("LastModified", &iso8601(part.last_modified))
        .element("ETag", &part.etag);
    upload.parts.insert(number, part);
    Ok(Reply::xml(w.finish("CopyPartResult")))
}

/// The bytes `x-amz-copy-source-range: bytes=first-last` selects: exactly that form, and
/// within the source (AWS answers 400 InvalidArgument otherwise, unlike a GET's Range).
fn copy_range<'d>(value: &str, data: &'d [u8]) -> Result<&'d [u8], S3Error> {
    let malformed = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where \
             first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            value,
        )
    };
    let spec = value.trim().strip_prefix("bytes=").ok_or_else(malformed)?;
    let (first, last) = spec.split_once('-').ok_or_else(malformed)?;
    let digits = |s: &str| -> Option<usize> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (first, last) = digits(first)
        .zip(digits(last))
        .filter(|(f, l)| f <= l)
        .ok_or_else(malformed)?;
    data.get(first..=last).ok_or_else(|| {
        S3Error::invalid_argument(
            &format!(
                "Range specified is not valid for source object of size: {}",
                data.len()
            ),
            "x-amz-copy-source-range",
            value,
        )
    })
}

/// CompleteMultipartUpload: checks order, ETags and part sizes, then assembles the object.
pub(crate) fn complete(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let min_part_size = ctx.settings.min_part_size;
    let repeat_complete = ctx.settings.repeat_complete;
    let listed = completion_parts(req)?;
    let bucket = bucket_mut(ctx.store, req.bucket())?;
    let id = req.param("uploadId").unwrap_or_default().to_owned();
    if !bucket.uploads.contains_key(&id) {
        // AWS answers a repeated completion of an upload it just completed with the same
        // result for a while; NoSuchUpload is what other servers (and AWS later) say.
        return match bucket.completed.get(&id) {
            Some(done) if repeat_complete && done.key == req.key() && same_parts(done, &listed) => {
                Ok(complete_reply(req, &done.etag))
            }
            _ => Err(S3Error::no_such_upload(&id)),
        };
    }
    let upload = upload_mut(bucket, req)?;
    if listed.windows(2).any(|w| matches!(w, [a, b] if a.0 >= b.0)) {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        )
        .detail("UploadId", id));
    }
    let mut chosen = Vec::with_capacity(listed.len());
    for (number, etag) in &listed {
        let part = upload
            .parts
            .get(number)
            .filter(|p| bare_etag(&p.etag) == bare_etag(etag))
            .ok_or_else(|| {
                S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not \
                     have been uploaded, or the specified entity tag may not match the part's \
                     entity tag.",
                )
                .detail("UploadId", id.clone())
                .detail("PartNumber", number.to_string())
                .detail("ETag", etag.clone())
            })?;
        chosen.push((*number, part));
    }
    let last_index = chosen.len().saturating_sub(1);
    for (i, (number, part)) in chosen.iter().enumerate() {
        if i < last_index && (part.data.len() as u64) < min_part_size {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
            .detail("ProposedSize", part.data.len().to_string())
            .detail("MinSizeAllowed", min_part_size.to_string())
            .detail("PartNumber", number.to_string())
            .detail("ETag", part.etag.clone()));
        }
    }
    let etag = multipart_etag(chosen.iter().map(|(_, p)| p.data.as_slice()));
    // One copy per part: a byte-by-byte collect dominates the flow tests in debug builds.
    let data: Vec<u8> = chosen
        .iter()
        .map(|(_, p)| p.data.as_slice())
        .collect::<Vec<_>>()
        .concat();
    let part_sizes = chosen.iter().map(|(_, p)| p.data.len() as u64).collect();
    let attributes = upload.attributes.clone();
    let object = StoredObject {
        data,
        etag: etag.clone(),
        last_modified: ctx.now,
        attributes,
        part_sizes,
        checksum: None,
    };
    bucket.uploads.remove(&id);
    bucket.completed.insert(
        id,
        Completed {
            key: req.key().to_owned(),
            etag: etag.clone(),
            parts: listed,
        },
    );
    bucket.objects.insert(req.key().to_owned(), object);
    Ok(complete_reply(req, &etag))
}

/// The parts a `<CompleteMultipartUpload>` body names, in the order given.
fn completion_parts(req: &Incoming) -> Result<Vec<(u16, String)>, S3Error> {
    let root = xml::parse(&req.body).map_err(|_| S3Error::malformed_xml())?;
    if root.name != "CompleteMultipartUpload" {
        return Err(S3Error::malformed_xml());
    }
    let mut parts = Vec::new();
    for part in root.children_named("Part") {
        let number = part
            .child_text("PartNumber")
            .and_then(|n| n.parse::<u16>().ok())
            .filter(|n| (1..=10_000).contains(n));
        let etag = part.child_text("ETag");
        let (Some(number), Some(etag)) = (number, etag) else {
            return Err(S3Error::malformed_xml());
        };
        parts.push((number, etag.to_owned()));
    }
    if parts.is_empty() {
        return Err(S3Error::malformed_xml());
    }
    Ok(parts)
}

fn same_parts(done: &Completed, listed: &[(u16, String)]) -> bool {
    done.parts.len() == listed.len()
        && done
            .parts
            .iter()
            .zip(listed)
            .all(|((n1, e1), (n2, e2))| n1 == n2 && bare_etag(e1) == bare_etag(e2))
}

fn complete_reply(req: &Incoming, etag: &str) -> Reply {
    let scheme = req.uri.scheme_str().unwrap_or("http");
    let authority = req
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| req.header("host").map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned());
    let location = format!("{scheme}://{authority}{}", req.uri.path());
    let mut w = XmlOut::document("CompleteMultipartUploadResult");
    w.element("Location", &location)
        .element("Bucket", req.bucket())
        .element("Key", req.key())
        .element("ETag", etag);
    Reply::xml(w.finish("CompleteMultipartUploadResult"))
}

/// AbortMultipartUpload: drops the upload and its parts.
pub(crate) fn abort(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let bucket = bucket_mut(ctx.store, req.bucket())?;
    upload_mut(bucket, req)?;
    bucket
        .uploads
        .remove(req.param("uploadId").unwrap_or_default());
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

/// ListParts: paged by part number marker.
pub(crate) fn list_parts(ctx: Ctx<'_>) -> Outcome {
    let req = ctx.req;
    let max = page_size(req, "max-parts")?;
    let marker = match req.param("part-number-marker") {
        None => 0,
        Some(v) => v.trim().parse::<u16>().map_err(|_| {
            S3Error::invalid_argument(
                "Provided part-number-marker not an integer or within integer range",
                "part-number-marker",
                v,
            )
        })?,
    };
    let upload = upload_mut(bucket_mut(ctx.store, req.bucket())?, req)?;
    let mut after = upload.parts.range(marker.saturating_add(1)..);
    let page: Vec<_> = after.by_ref().take(max).collect();
    let truncated = after.next().is_some();
    let mut w = XmlOut::document("ListPartsResult");
    w.element("Bucket", req.bucket())
        .element("Key", req.key())
        .element("UploadId", req.param("uploadId").unwrap_or_default());
    write_upload_parties(&mut w, upload).element("PartNumberMarker", &marker.to_string());
    if let Some((last, _)) = page.last() {
        w.element("NextPartNumberMarker", &last.to_string());
    }
    w.element("MaxParts", &max.to_string())
        .element("IsTruncated", if truncated { "true" } else { "false" });
    for (number, part) in page {
        w.open("Part")
            .element("PartNumber", &number.to_string())
            .element("LastModified", &iso8601(part.last_modified))
            .element("ETag", &part.etag)
            .element("Size", &part.data.len().to_string())
            .close("Part");
    }
    Ok(Reply::xml(w.finish("ListPartsResult")))
}
