//! Bucket actions: ListBuckets, CreateBucket, HeadBucket, DeleteBucket.

use http::StatusCode;

use super::reply::{Reply, S3Error, iso8601};
use super::serve::{Ctx, Outcome, bucket, write_owner};
use super::store::Bucket;
use super::xml::{self, XmlOut};

/// ListBuckets: every bucket, all owned by the one simulated owner.
pub(crate) fn list_buckets(ctx: Ctx<'_>) -> Outcome {
    let mut w = XmlOut::document("ListAllMyBucketsResult");
    write_owner(&mut w, "Owner");
    w.open("Buckets");
    for (name, b) in &ctx.store.buckets {
        w.open("Bucket")
            .element("Name", name)
            .element("CreationDate", &iso8601(b.created))
            .close("Bucket");
    }
    w.close("Buckets");
    Ok(Reply::xml(w.finish("ListAllMyBucketsResult")))
}

/// CreateBucket: name rules, location constraint, and the repeat answer of the region.
pub(crate) fn create_bucket(ctx: Ctx<'_>) -> Outcome {
    let name = ctx.req.bucket();
    if !valid_bucket_name(name) {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        )
        .detail("BucketName", name));
    }
    check_location(&ctx)?;
    if ctx.store.buckets.contains_key(name) {
        // us-east-1 answers a repeated create by the owner with 200 (a legacy of the
        // original region); every other region with 409 (API reference, CreateBucket).
        if ctx.settings.region == "us-east-1" {
            return Ok(Reply::empty(StatusCode::OK).header("location", &format!("/{name}")));
        }
        return Err(S3Error::new(
            StatusCode::CONFLICT,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
        .detail("BucketName", name));
    }
    ctx.store
        .buckets
        .insert(name.to_owned(), Bucket::new(ctx.now));
    Ok(Reply::empty(StatusCode::OK).header("location", &format!("/{name}")))
}

/// Checks the optional `<CreateBucketConfiguration>` body against the simulated region.
fn check_location(ctx: &Ctx<'_>) -> Result<(), S3Error> {
    if ctx.req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let root = xml::parse(&ctx.req.body).map_err(|_| S3Error::malformed_xml())?;
    if root.name != "CreateBucketConfiguration" {
        return Err(S3Error::malformed_xml());
    }
    let constraint = root.child_text("LocationConstraint").unwrap_or_default();
    let region = match constraint {
        "" => "us-east-1",
        "EU" => "eu-west-1",
        other => other,
    };
    if region != ctx.settings.region {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "IllegalLocationConstraintException",
            &format!(
                "The {constraint} location constraint is incompatible for the region specific \
                 endpoint this request was sent to."
            ),
        )
        .detail("Region", ctx.settings.region.clone()));
    }
    Ok(())
}

/// S3's rules for new bucket names: 3 to 63 lower-case letters, digits, dots and hyphens,
/// starting and ending with a letter or digit.
fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge_ok = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        && edge_ok(b.first())
        && edge_ok(b.last())
}

/// HeadBucket: 200 with the region, or a bodyless 404.
pub(crate) fn head_bucket(ctx: Ctx<'_>) -> Outcome {
    bucket(ctx.store, ctx.req.bucket())?;
    Ok(Reply::empty(StatusCode::OK).header("x-amz-bucket-region", &ctx.settings.region))
}

/// DeleteBucket: only when it holds no objects (409 BucketNotEmpty).
pub(crate) fn delete_bucket(ctx: Ctx<'_>) -> Outcome {
    let name = ctx.req.bucket();
    if !bucket(ctx.store, name)?.objects.is_empty() {
        return Err(S3Error::new(
            StatusCode::CONFLICT,
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
        )
        .detail("BucketName", name));
    }
    ctx.store.buckets.remove(name);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
