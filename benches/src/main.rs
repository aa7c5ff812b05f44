//! Side-by-side timings of the signing and XML core: `cargo run --release` in this directory.

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use http::{HeaderMap, StatusCode};
use s3_proto::ops::ListObjectsV2;
use s3_proto::sign::SigV4;
use s3_proto::{BucketName, Credentials, Response};
use sha2::{Digest, Sha256};

/// Runs `f` repeatedly for about `budget`; returns nanoseconds per call.
fn time(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let budget = Duration::from_millis(700);
    let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let t = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let template = http::Request::get("https://examplebucket.s3.amazonaws.com/test.txt")
        .header("range", "bytes=0-9")
        .body(())
        .unwrap();

    let ours = time(budget, || {
        let mut req = template.clone();
        let signer = SigV4::new(&creds, "us-east-1", "s3", t).unwrap();
        black_box(signer.sign(&mut req, s3_proto::sign::EMPTY_SHA256).unwrap());
    });
    // Floor: the hashing any SigV4 signer must do with a cached key (one SHA-256 of a
    // canonical request, one HMAC of the string to sign).
    let key = [7u8; 32];
    let canonical = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let floor = time(budget, || {
        let h = Sha256::digest(black_box(canonical.as_bytes()));
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(b"AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n");
        mac.update(&h);
        black_box(mac.finalize());
    });
    println!("SigV4 header signing: ours {ours:.0} ns, floor {floor:.0} ns, ratio {:.2}x", ours / floor);

    let mut page = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name><Prefix></Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>");
    for i in 0..1000 {
        page.push_str(&format!("<Contents><Key>photos/2024/{i:06}/IMG_{i:06}.jpg</Key><LastModified>2024-02-26T01:56:20.000Z</LastModified><ETag>&quot;bf1d737a4d46a19f3bced6905cc8b902&quot;</ETag><Size>{}</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd@amazon.com</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>", 142_863 + i));
    }
    page.push_str("</ListBucketResult>");
    let op = ListObjectsV2::new(BucketName::new("bucket").unwrap());
    let headers = HeaderMap::new();
    let parse = time(budget, || {
        let out = s3_proto::config::finish(&op, Response::new(StatusCode::OK, &headers, page.as_bytes())).unwrap();
        black_box(out);
    });
    let mb_s = page.len() as f64 / parse * 1e3;
    println!("ListObjectsV2 parse, 1000 keys ({} KB): {:.0} us, {mb_s:.0} MB/s", page.len() / 1000, parse / 1e3);
}
