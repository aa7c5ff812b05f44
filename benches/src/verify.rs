//! What verifying a download costs: s3-proto's in-order object digest (the MD5 of a
//! single-part object, the multipart ETag rebuilt along one or four candidate part sizes)
//! against the bare MD5 of the same bytes.

use md5::Digest as _;
use s3_proto::ObjectHead;
use s3_proto::integrity::ObjectDigest;

use crate::harness::Workload;

/// Bytes hashed per call: one default download range.
const LEN: usize = 8 << 20;

fn body() -> Vec<u8> {
    (0..LEN as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

fn head(etag: &str, len: u64) -> ObjectHead {
    let mut head = ObjectHead::default();
    head.etag = Some(etag.to_owned());
    head.content_length = Some(len);
    head
}

/// A digest of the object `head` describes, fed `body` in 1 MiB chunks (not judged: the
/// ETags here are not the bytes', only their shape matters).
fn digest_run(head: ObjectHead) -> impl FnMut() + 'static {
    let body = body();
    move || {
        let mut digest = ObjectDigest::of(&head, "bench/object").expect("a checkable ETag");
        for chunk in body.chunks(1 << 20) {
            digest.update(chunk);
        }
        std::hint::black_box(digest);
    }
}

pub fn workloads() -> Vec<Workload> {
    let body = body();
    let plain = "\"0123456789abcdef0123456789abcdef\"";
    // 1 GiB in 128 parts of 8 MiB: one candidate part size. 40 MiB + 3 in 3 parts: four.
    let one = head("\"0123456789abcdef0123456789abcdef-128\"", 1 << 30);
    let four = head("\"0123456789abcdef0123456789abcdef-3\"", (40 << 20) + 3);
    vec![
        Workload::new("verify-md5", LEN, digest_run(head(plain, LEN as u64))),
        Workload::new("verify-multipart", LEN, digest_run(one)),
        Workload::new("verify-multipart-4", LEN, digest_run(four)),
        Workload::new("verify-floor", LEN, move || {
            std::hint::black_box(md5::Md5::digest(&body));
        }),
    ]
}
