//! The shared scenarios (`test-support/scenarios/`) run by the blocking client against Ceph
//! RGW, s3s-fs, moto and LocalStack, one bucket per test.

#![allow(clippy::while_let_on_iterator)] // the shared text also drives an async lister
#![allow(clippy::print_stderr)] // the fault scenario reports its counts

use s3_blocking as s3;

macro_rules! x {
    ($e:expr) => {
        $e
    };
}

/// Runs two calls at once (the second on this thread).
macro_rules! both {
    ($a:expr, $b:expr) => {
        std::thread::scope(|s| {
            let a = s.spawn(|| $a);
            let b = $b;
            (a.join().expect("the first call"), b)
        })
    };
}

macro_rules! scenario_fn {
    ($name:ident($server:ident) $body:block) => {
        fn $name($server: &test_support::Server) $body
        test_support::scenario!($name);
    };
}

fn client(server: &test_support::Server) -> s3::Client {
    s3::Client::with_options(server.config(), server.credentials(), server.options())
        .expect("client options")
}

fn temp_bucket(client: &s3::Client, prefix: &str) -> s3::Bucket {
    let name = test_support::unique_bucket(prefix);
    client
        .create_bucket(&name)
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
}

/// Empties and deletes a bucket (best effort: the servers are disposable).
fn cleanup(bucket: &s3::Bucket) {
    let keys: Vec<String> = bucket
        .list("", None)
        .filter_map(|e| match e {
            Ok(s3::ListEntry::Object(o)) => Some(o.key),
            _ => None,
        })
        .collect();
    if !keys.is_empty() {
        let _ = bucket.delete_keys(keys.iter().map(String::as_str));
    }
    let _ = bucket.delete();
}

fn read_all(mut reader: s3::ObjectReader) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut out).expect("read body");
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

fn put_stream(
    b: &s3::Bucket,
    key: &str,
    data: Vec<u8>,
) -> Result<s3::proto::ops::PutObjectOutput, s3::Error> {
    let len = data.len() as u64;
    b.put_reader(key, &mut std::io::Cursor::new(data), len)
}

// The core of the suite over https, trusting the throw-away CA of `cephsts`.
test_support::over_https!(
    put_get_string,
    awkward_keys_round_trip,
    listing_pages_with_prefix_and_delimiter,
    copy_and_range_reads,
    file_round_trips,
    multipart_files_round_trip,
);
