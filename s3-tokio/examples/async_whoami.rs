//! Who am I: resolves credentials through the AWS default chain (as `Client::from_env` does) and shows where they came from
//! (never the secret), the region, the endpoint, and the buckets they can list.
//!
//! ```sh
//! cargo run -p s3-async --example async_whoami
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use s3_async::Client;
use s3_async::proto::ops::ListBuckets;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("whoami: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), s3_async::Error> {
    // The same client a program would use: config, CA bundle and the cached default chain.
    let client = Client::from_env()?;
    let credentials = client.current_credentials().await?;
    println!(
        "provider:   {}",
        credentials.provider().unwrap_or("(unnamed)")
    );
    println!(
        "access key: {}",
        credentials.access_key().unwrap_or("(anonymous)")
    );
    if let Some(expiry) = credentials.expiry() {
        let left = expiry
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        println!("expires in: {} s", left.as_secs());
    }
    println!("region:     {}", client.config().region());
    println!("endpoint:   {}", client.config().target().endpoint().url());
    let out = client.send(&ListBuckets::new()).await?;
    println!("buckets:    {}", out.buckets.len());
    for bucket in out.buckets {
        println!("  {}", bucket.name);
    }
    Ok(())
}
