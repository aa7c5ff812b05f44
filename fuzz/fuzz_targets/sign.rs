//! SigV4 and SigV2 over arbitrary method, path, query and headers: never a panic, and a
//! request that signs signs the same way twice.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use s3_proto::Credentials;
use s3_proto::sign::{SigV2, SigV4};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let method = parts.next().unwrap_or("GET");
    let path = parts.next().unwrap_or("/");
    let header_line = parts.next().unwrap_or("");
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("http://example.com{path}"));
    for h in header_line.split(';') {
        if let Some((n, v)) = h.split_once(':') {
            builder = builder.header(n, v);
        }
    }
    let Ok(req) = builder.body(()) else { return };
    let creds = Credentials::new("AKID", "SECRET");
    let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let signer = SigV4::new(&creds, "us-east-1", "s3", t).unwrap();
    let (mut a, mut b) = (req.clone(), req.clone());
    let ra = signer.sign(&mut a, s3_proto::sign::UNSIGNED_PAYLOAD);
    let rb = signer.sign(&mut b, s3_proto::sign::UNSIGNED_PAYLOAD);
    if let (Ok(x), Ok(y)) = (ra, rb) {
        assert_eq!(x.signature, y.signature);
    }
    let _ = signer.presign(&req, Duration::from_secs(60), s3_proto::sign::UNSIGNED_PAYLOAD);
    let mut c = req.clone();
    let _ = SigV2::new(&creds, t).unwrap().sign(&mut c, Some("bucket"));
});
