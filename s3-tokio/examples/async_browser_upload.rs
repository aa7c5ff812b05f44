//! A web page uploads straight to a bucket (async client), the server side only signing: a presigned PUT and
//! a presigned POST form, used by a real browser.
//!
//! ```sh
//! cargo run -p s3-async --example async_browser_upload -- BUCKET
//! ```
//!
//! The s3-async twin of s3-blocking's `browser_upload`: the same page (its module is shared),
//! signed by the async client.
//!
//! Configured from the standard environment (`AWS_ENDPOINT_URL`, keys, region). Creates
//! BUCKET with a CORS rule for the page's origin, serves one page on 127.0.0.1 (printed as
//! `page: URL`) that uploads `from-browser-put.txt` with `fetch` PUT (a cross-origin request
//! the browser preflights) and `from-browser-post.txt` as a `FormData` POST, and reads the
//! `ETag` the CORS rule exposes. Open the page in a browser; the example prints what the page
//! reports (`put: ok "<etag>"`, `post: ok`, or the error) and exits 0 once both objects exist,
//! 1 when the page reports a failure, 2 after the timeout (60 s).
//!
//! Options for trying what must fail: `--cors-origin ORIGIN` (a rule for another origin),
//! `--post-expires S` with `--delay-ms MS` (a form used after it expired), `--post-max BYTES`
//! (a file over the policy's size range), `--tamper-put` (a URL whose signature changed).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../s3-blocking/examples/browser/page.rs"]
mod page;

use std::process::ExitCode;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant, SystemTime};

use s3_async::proto::cors::{CorsConfiguration, CorsMethod, CorsRule};
use s3_async::proto::post::PostPolicy;
use s3_async::{Bucket, Client, Error};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match page::Args::parse() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(64);
        }
    };
    match run(&args).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &page::Args) -> Result<u8, Error> {
    let client = Client::from_env()?;
    let (listener, origin) = page::bind().map_err(s3_async::proto::TransportError::from_io)?;
    let bucket = match client.lookup(&args.bucket).await? {
        Some(bucket) => bucket,
        None => client.create_bucket(&args.bucket).await?,
    };
    let allowed = args.cors_origin.clone().unwrap_or_else(|| origin.clone());
    let rule = CorsRule::new([CorsMethod::Put, CorsMethod::Post], [allowed])
        .allowed_header("content-type")
        .expose_header("ETag")
        .max_age_seconds(300);
    bucket
        .set_cors(&CorsConfiguration::new().rule(rule))
        .await?;
    for key in [page::PUT_KEY, page::POST_KEY] {
        bucket.delete_key(key).await?;
    }

    let put_url = bucket
        .presign_put(page::PUT_KEY, Duration::from_secs(600))
        .await?;
    let expires = SystemTime::now() + Duration::from_secs(args.post_expires);
    let policy = PostPolicy::new(bucket.name().clone(), page::POST_KEY.parse()?, expires)
        .content_length_range(1, args.post_max)
        .content_type("text/plain")
        .success_action_status(201);
    let form = bucket.presigned_post(&policy).await?;
    let html = page::html(args, &put_url.to_string(), form.url(), form.fields());
    let reports = page::serve(listener, html, Duration::from_millis(args.delay_ms));
    println!("page: {origin}/");

    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let mut failed = 0;
    let mut heard = 0;
    while Instant::now() < deadline {
        // The page server is std::net on its own thread; a short blocking wait is fine here.
        match reports.recv_timeout(Duration::from_millis(250)) {
            Ok((name, text)) => {
                println!("{name}: {text}");
                heard += 1;
                failed += usize::from(!text.starts_with("ok"));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if both_stored(&bucket).await? {
            println!("stored: {} and {}", page::PUT_KEY, page::POST_KEY);
            return Ok(0);
        }
        if heard == 2 && failed > 0 {
            return Ok(1);
        }
    }
    eprintln!("gave up after {} s", args.timeout);
    Ok(2)
}

async fn both_stored(bucket: &Bucket) -> Result<bool, Error> {
    Ok(bucket.exists(page::PUT_KEY).await? && bucket.exists(page::POST_KEY).await?)
}
