//! Serving one decoded request against the store: dispatch by [`OpKind`], plus what the
//! handlers share (bucket lookups, the owner, copy sources, page sizes).

use std::time::SystemTime;

use http::StatusCode;

use super::reply::{Reply, S3Error};
use super::request::{Incoming, OpKind, decode_utf8};
use super::store::{Bucket, Store};
use super::xml::XmlOut;
use super::{Settings, bucket, listing, multipart, object, payload};

/// What a handler answers: a reply, or an S3 error to render.
pub(crate) type Outcome = Result<Reply, S3Error>;

/// What a handler works with.
pub(crate) struct Ctx<'a> {
    pub(crate) store: &'a mut Store,
    pub(crate) req: &'a Incoming,
    pub(crate) now: SystemTime,
    pub(crate) settings: &'a Settings,
}

/// The owner every bucket, object and upload belongs to.
pub(crate) const OWNER_ID: &str =
    "5a1f0c3e9b8d7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7";
/// The owner's display name.
pub(crate) const OWNER_NAME: &str = "sim";

/// Checks the body, then applies the request to `store`.
pub(crate) fn serve(
    store: &mut Store,
    req: &mut Incoming,
    now: SystemTime,
    settings: &Settings,
) -> Outcome {
    payload::check(req)?;
    let ctx = Ctx {
        store,
        req,
        now,
        settings,
    };
    match ctx.req.op {
        OpKind::ListBuckets => bucket::list_buckets(ctx),
        OpKind::CreateBucket => bucket::create_bucket(ctx),
        OpKind::HeadBucket => bucket::head_bucket(ctx),
        OpKind::DeleteBucket => bucket::delete_bucket(ctx),
        OpKind::ListObjectsV2 => listing::list_objects_v2(ctx),
        OpKind::ListObjects => listing::list_objects(ctx),
        OpKind::ListMultipartUploads => listing::list_multipart_uploads(ctx),
        OpKind::DeleteObjects => object::delete_objects(ctx),
        OpKind::PutObject => object::put_object(ctx),
        OpKind::CopyObject => object::copy_object(ctx),
        OpKind::GetObject => object::get_object(ctx, false),
        OpKind::HeadObject => object::get_object(ctx, true),
        OpKind::DeleteObject => object::delete_object(ctx),
        OpKind::CreateMultipartUpload => multipart::create(ctx),
        OpKind::UploadPart => multipart::upload_part(ctx),
        OpKind::UploadPartCopy => multipart::upload_part_copy(ctx),
        OpKind::CompleteMultipartUpload => multipart::complete(ctx),
        OpKind::AbortMultipartUpload => multipart::abort(ctx),
        OpKind::ListParts => multipart::list_parts(ctx),
        OpKind::NotImplemented => Err(S3Error::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "A header or query you provided implies functionality that is not implemented.",
        )),
        OpKind::MethodNotAllowed => Err(S3Error::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
        .detail("Method", ctx.req.method.as_str())),
        OpKind::Invalid => Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidURI",
            "Couldn't parse the specified URI.",
        )),
    }
}

/// The bucket `name`.
pub(crate) fn bucket<'s>(store: &'s Store, name: &str) -> Result<&'s Bucket, S3Error> {
    store
        .buckets
        .get(name)
        .ok_or_else(|| S3Error::no_such_bucket(name))
}

/// The bucket `name`, for writing.
pub(crate) fn bucket_mut<'s>(store: &'s mut Store, name: &str) -> Result<&'s mut Bucket, S3Error> {
    store
        .buckets
        .get_mut(name)
        .ok_or_else(|| S3Error::no_such_bucket(name))
}

/// Writes `<name><ID>…</ID><DisplayName>…</DisplayName></name>`.
pub(crate) fn write_owner(w: &mut XmlOut, name: &str) {
    w.open(name)
        .element("ID", OWNER_ID)
        .element("DisplayName", OWNER_NAME)
        .close(name);
}

/// Writes a multipart upload's `Initiator`, `Owner` and `StorageClass` (`STANDARD` unless the
/// create asked for another), as ListMultipartUploads and ListParts both report them.
pub(crate) fn write_upload_parties<'w>(
    w: &'w mut XmlOut,
    upload: &super::store::Upload,
) -> &'w mut XmlOut {
    write_owner(w, "Initiator");
    write_owner(w, "Owner");
    let class = upload.attributes.storage_class.as_deref();
    w.element("StorageClass", class.unwrap_or("STANDARD"))
}

/// The source an `x-amz-copy-source` header names: `[/]bucket/key[?versionId=…]`,
/// URL-encoded.
pub(crate) fn copy_source(req: &Incoming) -> Result<(String, String), S3Error> {
    let raw = req.header("x-amz-copy-source").unwrap_or_default();
    let bad = || {
        S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            raw,
        )
    };
    let (path, version) = match raw.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (raw, None),
    };
    if let Some(query) = version {
        let version = query.strip_prefix("versionId=").ok_or_else(bad)?;
        check_version(Some(version))?;
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = path.split_once('/').ok_or_else(bad)?;
    let bucket = decode_utf8(bucket, false).ok_or_else(bad)?;
    let key = decode_utf8(key, false).ok_or_else(bad)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(bad());
    }
    Ok((bucket, key))
}

/// The object `x-amz-copy-source` names (with its bucket and key), once the request's
/// `x-amz-copy-source-if-*` conditions hold.
pub(crate) fn copy_source_object<'s>(
    store: &'s Store,
    req: &Incoming,
) -> Result<(String, String, &'s super::store::StoredObject), S3Error> {
    let (src_bucket, src_key) = copy_source(req)?;
    let source = bucket(store, &src_bucket)?
        .objects
        .get(&src_key)
        .ok_or_else(|| S3Error::no_such_key(&src_key))?;
    if let super::conditions::Verdict::Failed(header) = super::conditions::copy_source(req, source)
    {
        return Err(S3Error::precondition_failed(header));
    }
    Ok((src_bucket, src_key, source))
}

/// Checks a `versionId`: versioning is not simulated, so only the current version, which
/// S3 calls `null` in an unversioned bucket, exists.
pub(crate) fn check_version(version: Option<&str>) -> Result<(), S3Error> {
    match version {
        None | Some("null") => Ok(()),
        Some(other) => Err(S3Error::new(
            StatusCode::NOT_FOUND,
            "NoSuchVersion",
            "The specified version does not exist.",
        )
        .detail("VersionId", other)),
    }
}

/// Most entries S3 puts in one listing page, whatever the request asks.
pub(crate) const MAX_PAGE: usize = 1000;

/// A page size parameter (`max-keys`, `max-parts`, `max-uploads`): default and cap 1000.
pub(crate) fn page_size(req: &Incoming, name: &str) -> Result<usize, S3Error> {
    match req.param(name) {
        None => Ok(MAX_PAGE),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(|n| usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE))
            .map_err(|_| {
                S3Error::invalid_argument(
                    &format!("Provided {name} not an integer or within integer range"),
                    name,
                    v,
                )
            }),
    }
}

/// The `partNumber` parameter, 1 to 10,000.
pub(crate) fn part_number(req: &Incoming) -> Result<u16, S3Error> {
    let raw = req.param("partNumber").unwrap_or_default();
    raw.parse::<u16>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                raw,
            )
        })
}
