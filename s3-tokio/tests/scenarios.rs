//! The shared scenarios (`test-support/scenarios/`) run by the async client against Ceph
//! RGW, s3s-fs, moto and LocalStack, one bucket per test.

#![allow(clippy::print_stderr)] // the fault scenario reports its counts

use s3_async as s3;

macro_rules! x {
    ($e:expr) => {
        $e.await
    };
}

/// Runs two calls at once.
macro_rules! both {
    ($a:expr, $b:expr) => {
        tokio::join!($a, $b)
    };
}

macro_rules! scenario_fn {
    ($name:ident($server:ident) $body:block) => {
        async fn $name($server: &test_support::Server) $body
        test_support::scenario_async!($name);
    };
}

fn client(server: &test_support::Server) -> s3::Client {
    s3::Client::with_options(server.config(), server.credentials(), server.options())
        .expect("client options")
}

async fn temp_bucket(client: &s3::Client, prefix: &str) -> s3::Bucket {
    let name = test_support::unique_bucket(prefix);
    client
        .create_bucket(&name)
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
}

/// Empties and deletes a bucket (best effort: the servers are disposable).
async fn cleanup(bucket: &s3::Bucket) {
    let keys: Vec<String> = match bucket.list_all("", None).await {
        Ok(entries) => entries
            .into_iter()
            .filter_map(|e| match e {
                s3::ListEntry::Object(o) => Some(o.key),
                s3::ListEntry::Prefix(_) => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    if !keys.is_empty() {
        let _ = bucket.delete_keys(keys.iter().map(String::as_str)).await;
    }
    let _ = bucket.delete().await;
}

async fn read_all(mut reader: s3::ObjectStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut out)
        .await
        .expect("read body");
    out
}

include!("../../test-support/scenarios/objects.rs");
include!("../../test-support/scenarios/acl_cors.rs");
include!("../../test-support/scenarios/multipart.rs");
include!("../../test-support/scenarios/faults.rs");
include!("../../test-support/scenarios/parity.rs");
include!("../../test-support/scenarios/integrity.rs");
include!("../../test-support/scenarios/features.rs");
include!("../../test-support/scenarios/oneliners.rs");
include!("../../test-support/scenarios/checksums.rs");

async fn put_stream(
    b: &s3::Bucket,
    key: &str,
    data: Vec<u8>,
) -> Result<s3::proto::ops::PutObjectOutput, s3::Error> {
    let len = data.len() as u64;
    b.put_reader(key, std::io::Cursor::new(data), len).await
}

/// The transfer futures can be spawned on a multi-threaded runtime.
#[allow(dead_code)]
fn transfer_futures_are_send(b: &s3::Bucket) {
    fn is_send<T: Send>(_: &T) {}
    is_send(&b.upload_file("k", "p"));
    is_send(&b.download_file("k", "p"));
}

// The core of the suite over https, trusting the throw-away CA of `cephsts`.
test_support::over_https_async!(
    put_get_string,
    awkward_keys_round_trip,
    listing_pages_with_prefix_and_delimiter,
    copy_and_range_reads,
    file_round_trips,
    multipart_files_round_trip,
);
