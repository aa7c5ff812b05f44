//! The classic boto S3 tutorial, step by step, with the async s3-async client.
//!
//! ```sh
//! cargo run -p s3-async --example async_tutorial [-- BUCKET]
//! ```
//!
//! Reads the endpoint and keys from the environment like any AWS tool (`AWS_ENDPOINT_URL`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, or a profile in `~/.aws`). A
//! second account's keys in `S3RS_TUTORIAL_OTHER_ACCESS_KEY_ID` and
//! `S3RS_TUTORIAL_OTHER_SECRET_ACCESS_KEY` show a name conflict between accounts, and
//! `S3RS_TUTORIAL_GRANT_EMAIL` an account to grant READ by email. Like boto's tutorial it leaves
//! its work in place: the bucket with `foobar`, `myfile` and `has_metadata`, their ACLs and
//! metadata (CORS is deleted as the last step), so any other client can inspect it.
//!
//! Copy it into a project of your own that depends on `s3-async` and `tokio` (features
//! `macros`, `rt-multi-thread`) only, and delete the `test_support` call at the top of `main`:
//! it is this repository's way to start a local Ceph RGW when nothing is configured
//! (`scripts/servers/start-ceph.sh`), not part of the tutorial.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use s3_async::prelude::*;
use s3_async::proto::acl::AccessControlPolicy;
use s3_async::proto::cors::{CorsConfiguration, CorsMethod, CorsRule};

#[tokio::main]
async fn main() -> ExitCode {
    // Not part of the tutorial: starts a local server when nothing is configured.
    test_support::tutorial::rerun_on_local_ceph_unless_configured();
    match run().await {
        Ok(()) => {
            println!("\nAll steps done.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nerror: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let bucket_name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| unique("s3rs-tutorial"));

    println!("\n== 1. Connect");
    let client = Client::from_env()?;
    println!(
        "  Using {} in {}",
        client.config().target().endpoint().url(),
        client.config().region()
    );
    // A second account, when its keys are given, shows what happens on someone else's bucket.
    let other = match (
        std::env::var("S3RS_TUTORIAL_OTHER_ACCESS_KEY_ID"),
        std::env::var("S3RS_TUTORIAL_OTHER_SECRET_ACCESS_KEY"),
    ) {
        (Ok(ak), Ok(sk)) => Some(Client::new(
            client.config().clone(),
            Credentials::new(ak, sk),
        )),
        _ => None,
    };

    println!("\n== 2. Create a bucket");
    let bucket = client.create_bucket(&bucket_name).await?;
    println!("  Created bucket {}", bucket.name());
    let again = client.create_bucket(&bucket_name).await?;
    println!("  Creating it again is fine: you own {}", again.name());

    // A name owned by someone else is a typed conflict, not a success.
    match &other {
        Some(other) => {
            let theirs = other.create_bucket(&unique("someone-elses")).await?;
            match client.create_bucket(theirs.name().as_str()).await {
                Err(e) if e.code() == Some(&ErrorCode::BucketAlreadyExists) => {
                    println!("  {} belongs to another user: {e}", theirs.name());
                }
                answer => println!("  unexpected answer for someone else's bucket: {answer:?}"),
            }
        }
        None => println!("  (no second account to show the BucketAlreadyExists conflict)"),
    }

    println!("\n== 3. Create a bucket in the EU location");
    let eu_name = format!("{bucket_name}-eu");
    match client
        .create_bucket_in(&eu_name, LocationConstraint::EU)
        .await
    {
        Ok(eu) => println!(
            "  Created {} in {}",
            eu.name(),
            eu.location().await?.constraint
        ),
        Err(e) => println!("  This server refuses the EU location: {e}"),
    }

    println!("\n== 4. Store a string and read it back");
    bucket.put_string("foobar", "This is a test of S3").await?;
    println!(
        "  foobar = {:?}",
        bucket.get_string("foobar").await?.unwrap_or_default()
    );

    println!("\n== 5. Upload a file and download it");
    let dir = std::env::temp_dir().join(unique("s3rs-tutorial-files"));
    std::fs::create_dir_all(&dir)?;
    let src = dir.join("myfile.txt");
    std::fs::write(&src, "This is the content of myfile.\n".repeat(1000))?;
    let up = bucket.upload_file("myfile", &src).await?;
    println!(
        "  Uploaded {} as myfile (ETag {})",
        src.display(),
        up.etag.unwrap_or_default()
    );
    let dst = dir.join("myfile-downloaded.txt");
    let head = bucket.download_file("myfile", &dst).await?;
    let same = std::fs::read(&src)? == std::fs::read(&dst)?;
    println!(
        "  Downloaded {} bytes ({}) to {}: identical = {same}",
        head.content_length.unwrap_or(0),
        head.content_type.unwrap_or_default(),
        dst.display()
    );
    std::fs::remove_dir_all(&dir)?;

    println!("\n== 6. List all buckets");
    for b in client.list_buckets().await? {
        println!("  {}", b.name);
    }
    println!("  Keys in {}:", bucket.name());
    let mut keys = bucket.list("", None);
    while let Some(entry) = keys.next().await {
        if let s3_async::ListEntry::Object(o) = entry? {
            println!("    {} ({} bytes)", o.key, o.size);
        }
    }

    println!("\n== 7. Canned ACLs on the bucket and on a key");
    bucket.set_acl(CannedAcl::PublicRead).await?;
    println!("  bucket is public-read");
    bucket.set_key_acl("foobar", CannedAcl::PublicRead).await?;
    println!("  foobar is public-read");

    println!("\n== 8. Read the ACL back");
    print_policy("bucket", &bucket.acl().await?);
    print_policy("foobar", &bucket.key_acl("foobar").await?);

    println!("\n== 9. Add a grant by email");
    match std::env::var("S3RS_TUTORIAL_GRANT_EMAIL") {
        Ok(email) if !email.is_empty() => match bucket
            .add_key_email_grant("foobar", Permission::Read, &email)
            .await
        {
            Ok(()) => print_policy("foobar", &bucket.key_acl("foobar").await?),
            Err(e) => println!("  the server refused the grant to {email}: {e}"),
        },
        _ => println!("  (set S3RS_TUTORIAL_GRANT_EMAIL to an account's email to grant it READ)"),
    }

    println!("\n== 10. User metadata, set before a file is streamed up");
    let file = std::env::temp_dir().join(unique("s3rs-tutorial-metadata"));
    std::fs::write(&file, "This object has metadata")?;
    let options = UploadOptions::default()
        .meta("meta1", "This is the first metadata value")
        .meta("meta2", "This is the second metadata value");
    let uploaded = bucket
        .upload_file_with("has_metadata", &file, options)
        .await;
    std::fs::remove_file(&file)?;
    uploaded?;
    let meta = bucket.metadata("has_metadata").await?.unwrap_or_default();
    for (name, value) in meta.iter() {
        println!("  {name} = {value}");
    }

    println!("\n== 11. CORS: set, get, delete");
    let cors = CorsConfiguration::new()
        .rule(
            CorsRule::new(
                [CorsMethod::Put, CorsMethod::Post, CorsMethod::Delete],
                ["http://www.example.com"],
            )
            .allowed_header("*")
            .max_age_seconds(3000)
            .expose_header("x-amz-server-side-encryption"),
        )
        .rule(CorsRule::new([CorsMethod::Get], ["*"]));
    match bucket.set_cors(&cors).await {
        Ok(()) => {
            let back = bucket.cors().await?.unwrap_or_default();
            for (i, rule) in back.rules.iter().enumerate() {
                println!(
                    "  rule {i}: {:?} from {:?}, headers {:?}, max age {:?}, expose {:?}",
                    rule.allowed_methods,
                    rule.allowed_origins,
                    rule.allowed_headers,
                    rule.max_age_seconds,
                    rule.expose_headers
                );
            }
            bucket.delete_cors().await?;
            println!(
                "  deleted; the bucket now has CORS: {}",
                bucket.cors().await?.is_some()
            );
        }
        Err(e) => println!("  this server does not support CORS: {e}"),
    }

    println!(
        "\nLeft in place for you to inspect: bucket {} with foobar, myfile and has_metadata.",
        bucket.name()
    );
    Ok(())
}

/// `prefix-PID-NANOS`: a bucket or directory name no earlier run used.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

/// Prints an ACL's owner and grants.
fn print_policy(what: &str, policy: &AccessControlPolicy) {
    println!("  {what}: owner {}", policy.owner.id);
    for grant in &policy.grants {
        println!("    {} -> {}", grant.permission, grant.grantee);
    }
}
