//! Object features of today's S3, one line per step, with s3-async.
//!
//! ```sh
//! cargo run -p s3-async --example async_modern -- BUCKET
//! ```
//!
//! Configured from the standard environment (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`). Creates BUCKET and leaves its work there: versioning
//! on and `versioned.txt` written twice, a 12 MiB multipart `crc32c.bin`, `sha256.txt`,
//! `tagged.txt`, a create-only `create-once.txt`, `sse-s3.txt`, a policy making `public/*`
//! readable without credentials, and a lifecycle rule aborting unfinished multipart uploads
//! after a day. A step the server does not support prints why, and the example goes on.
//!
//! `crc32c.bin` and `sha256.txt` carry flexible checksums; their lines say whether the server
//! stored them (LocalStack and AWS do; Ceph RGW 16 ignores them, s3s-fs keeps single-part ones).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use s3_async::proto::checksum::{ChecksumAlgorithm, ChecksumType};
use s3_async::proto::lifecycle::{LifecycleConfiguration, LifecycleRule};
use s3_async::proto::ops::{
    HeadObject, ListObjectVersions, ObjectHead, PutBucketLifecycleConfiguration, PutBucketPolicy,
    PutBucketVersioning, PutObject,
};
use s3_async::proto::policy::BucketPolicy;
use s3_async::proto::sse::ServerSideEncryption;
use s3_async::proto::versioning::VersioningConfiguration;
use s3_async::proto::{Credentials, ObjectKey, TagSet};
use s3_async::{Client, Error, UploadOptions};

#[tokio::main]
async fn main() -> ExitCode {
    let Some(name) = std::env::args().nth(1) else {
        eprintln!("usage: async_modern BUCKET");
        return ExitCode::FAILURE;
    };
    match run(&name).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `what: <ok line>` or `what: not supported here (<error>)`.
fn step<T>(what: &str, result: Result<T, Error>, ok: impl FnOnce(T) -> String) {
    match result {
        Ok(v) => println!("{what}: {}", ok(v)),
        Err(e) => println!("{what}: not supported here ({e})"),
    }
}

fn key(k: &str) -> Result<ObjectKey, Error> {
    Ok(ObjectKey::new(k)?)
}

/// What the server kept of the checksum sent with an object, read back with checksum mode.
fn stored(head: ObjectHead, what: &str) -> String {
    match head.checksum {
        Some(checksum) => format!("{what}, checksum {checksum} stored"),
        None => format!("{what}, checksum sent; this server does not store checksums"),
    }
}

async fn run(name: &str) -> Result<(), Error> {
    let client = Client::from_env()?;
    let b = client.create_bucket(name).await?;
    let bucket = b.name().clone();
    println!(
        "bucket: {bucket} at {}",
        client.config().target().endpoint().url()
    );

    let versioning = PutBucketVersioning::new(bucket.clone(), VersioningConfiguration::enabled());
    step("versioning", client.send(&versioning).await, |()| {
        "enabled".into()
    });
    let first = b.put_string("versioned.txt", "first").await?;
    let second = b.put_string("versioned.txt", "second").await?;
    println!(
        "versioned.txt: written twice, versions {:?} and {:?}",
        first.version_id, second.version_id
    );
    step(
        "versioned.txt",
        client
            .send(&ListObjectVersions::new(bucket.clone()).prefix("versioned.txt"))
            .await,
        |page| {
            let ids: Vec<_> = page
                .versions
                .iter()
                .map(|v| v.version_id.as_str())
                .collect();
            format!("ListObjectVersions lists {ids:?}")
        },
    );

    let data = vec![7u8; 12 * 1024 * 1024];
    let len = data.len() as u64;
    let crc32c = UploadOptions::default()
        .checksum(ChecksumAlgorithm::Crc32c)
        .checksum_type(ChecksumType::FullObject);
    let head = |k: &str| -> Result<HeadObject, Error> {
        Ok(HeadObject::new(bucket.clone(), key(k)?).checksum_mode(true))
    };
    match b
        .upload_reader("crc32c.bin", &data[..], Some(len), crc32c)
        .await
    {
        Ok(out) => step("crc32c.bin", client.send(&head("crc32c.bin")?).await, |h| {
            stored(h, &format!("12 MiB in {} parts", out.parts))
        }),
        Err(e) => println!("crc32c.bin: not supported here ({e})"),
    }
    let text = PutObject::text(bucket.clone(), key("sha256.txt")?, "sha256")
        .checksum_algorithm(ChecksumAlgorithm::Sha256);
    match b.put(text).await {
        Ok(_) => step("sha256.txt", client.send(&head("sha256.txt")?).await, |h| {
            stored(h, "written")
        }),
        Err(e) => println!("sha256.txt: not supported here ({e})"),
    }

    let tags = TagSet::new().tag("team", "core").tag("tier", "gold");
    let tagged = PutObject::new(bucket.clone(), key("tagged.txt")?, "tagged").tagging(tags);
    step("tagged.txt", b.put(tagged).await, |_| {
        "written with x-amz-tagging team=core, tier=gold".into()
    });

    let once = || -> Result<PutObject, Error> {
        Ok(PutObject::new(bucket.clone(), key("create-once.txt")?, "once").if_none_match("*"))
    };
    step("create-once.txt", b.put(once()?).await, |_| {
        "created with If-None-Match: *".into()
    });
    match b.put(once()?).await {
        Err(e) if e.is_precondition_failed() => {
            println!("create-once.txt: a second create-only write is refused: precondition failed");
        }
        Err(e) => println!("create-once.txt: a second create-only write failed: {e}"),
        // Ceph RGW 16 ignores If-None-Match in a versioned bucket.
        Ok(_) => println!(
            "create-once.txt: a second create-only write was accepted: this server ignores \
             If-None-Match here"
        ),
    }

    let sse = PutObject::new(bucket.clone(), key("sse-s3.txt")?, "encrypted")
        .server_side_encryption(ServerSideEncryption::S3);
    step("sse-s3.txt", b.put(sse).await, |out| {
        match out.server_side_encryption {
            Some(alg) => format!("stored with SSE-S3 ({alg})"),
            None => "written; the server does not report the encryption".into(),
        }
    });

    let policy = BucketPolicy::builder(&bucket)
        .public_read("public/")
        .build();
    step(
        "policy",
        client
            .send(&PutBucketPolicy::new(bucket.clone(), policy))
            .await,
        |()| "anonymous s3:GetObject on public/*".into(),
    );
    b.put_string("public/hello.txt", "hello, world").await?;
    let anonymous = Client::new(client.config().clone(), Credentials::anonymous());
    step(
        "public/hello.txt",
        anonymous.bucket(name)?.get_string("public/hello.txt").await,
        |text| format!("read without credentials: {text:?}"),
    );

    let rule = LifecycleRule::new("abort-mpu").abort_incomplete_multipart_upload_after_days(1);
    let lifecycle =
        PutBucketLifecycleConfiguration::new(bucket, LifecycleConfiguration::new().rule(rule));
    step("lifecycle", client.send(&lifecycle).await, |()| {
        "unfinished multipart uploads aborted after 1 day".into()
    });
    Ok(())
}
