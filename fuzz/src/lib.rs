//! Fuzz targets for `s3-proto`, as plain functions.
//!
//! Each `pub fn <target>(data: &[u8])` holds one target's logic and documents how it reads its
//! input. `fuzz_targets/<target>.rs` wraps it for libFuzzer (`cargo fuzz`, feature
//! `libfuzzer`); `tests/replay.rs` runs every file of `corpus/<target>/` through it on stable.
//! A target returns normally for every input; a panic (including a failed `assert!`) is a
//! finding.
//!
//! Invariants checked beyond "no panic":
//! - signing is deterministic: the same request signed twice gives the same signature;
//! - `percent_decode(uri_encode(x)) == x`;
//! - an `AccessControlPolicy` / `CorsConfiguration` that parses re-serialises to a document
//!   that parses to an equal value;
//! - the aws-chunked framer produces exactly `encoded_length` bytes and the same bytes twice;
//! - a preflight answer names a rule that allows the method; a `ServiceError` displays its code.
#![warn(missing_docs)]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use s3_proto::acl::AccessControlPolicy;
use s3_proto::config::finish;
use s3_proto::cors::{CorsConfiguration, CorsMethod, CorsRule, Dialect};
use s3_proto::ops::*;
use s3_proto::sign::chunked::{self, ChunkedSigner, encoded_length};
use s3_proto::sign::encode::{self, percent_decode};
use s3_proto::sign::{SigV2, SigV4, UNSIGNED_PAYLOAD};
use s3_proto::{
    Body, BucketName, Config, Credentials, ErrorCode, ObjectKey, Operation, Response, ServiceError,
};

/// The fixed signing time: 2023-11-14T22:13:20Z.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A status, header map and body decoded from fuzz input.
///
/// Layout: byte 0 is a selector (the operation, for [`responses`]); bytes 1..3 the status as a
/// big-endian `u16` (an invalid code maps to `100 + n % 900`); then `name:value` header lines
/// separated by `\n` up to the first NUL byte; everything after the NUL is the body. Without
/// a NUL there are no headers and the rest is the body. Lines that are not valid headers are
/// dropped.
#[derive(Debug)]
pub struct HttpInput<'a> {
    /// The selector byte.
    pub selector: u8,
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> HttpInput<'a> {
    /// Decodes `data`; `None` when it is shorter than the 3-byte prefix.
    pub fn decode(data: &'a [u8]) -> Option<Self> {
        let (&[selector, hi, lo], rest) = data.split_first_chunk::<3>()?;
        let code = u16::from_be_bytes([hi, lo]);
        let status = StatusCode::from_u16(code)
            .or_else(|_| StatusCode::from_u16(100 + code % 900))
            .unwrap_or(StatusCode::OK);
        let (head, body) = match rest.iter().position(|&b| b == 0) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (&rest[..0], rest),
        };
        let mut headers = HeaderMap::new();
        for line in head.split(|&b| b == b'\n') {
            let Some(i) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(line[..i].trim_ascii()),
                HeaderValue::from_bytes(line[i + 1..].trim_ascii()),
            ) {
                headers.append(n, v);
            }
        }
        Some(HttpInput {
            selector,
            status,
            headers,
            body,
        })
    }

    /// The `Response` view `finish` takes.
    pub fn response(&self) -> Response<'_> {
        Response::new(self.status, &self.headers, self.body)
    }
}

/// Names of the operations [`responses`] drives, indexed by `selector % OPERATIONS.len()`.
///
/// `fuzz/seed.py` maps recorded replies to these indices; keep the two in step.
pub const OPERATIONS: &[&str] = &[
    "ListBuckets",
    "ListObjectsV2",
    "ListObjects",
    "GetBucketLocation",
    "HeadObject",
    "GetObject",
    "HeadBucket",
    "CopyObject",
    "DeleteObjects",
    "CreateBucket",
    "GetBucketAcl",
    "GetObjectAcl",
    "GetBucketCors",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "ListParts",
    "ListMultipartUploads",
    "ListObjectsV2(encoding-type=url)",
    "ListObjects(encoding-type=url)",
    "DeleteBucket",
    "DeleteObject",
    "PutObject",
    "AbortMultipartUpload",
    "PutBucketCors",
    "DeleteBucketCors",
    "PutBucketAcl",
    "PutObjectAcl",
    "GetBucketVersioning",
    "ListObjectVersions",
    "GetObjectTagging",
    "GetBucketTagging",
    "GetBucketPolicy",
    "GetPublicAccessBlock",
    "GetBucketOwnershipControls",
    "GetBucketLifecycleConfiguration",
    "GetBucketEncryption",
    "GetObjectLockConfiguration",
    "GetObjectRetention",
    "GetObjectLegalHold",
    "DeleteObject(report)",
    "PutObjectTagging",
];

/// Runs `op`'s public `finish` on the response and formats whatever comes out.
fn run<O: Operation>(op: &O, resp: Response<'_>)
where
    O::Output: std::fmt::Debug,
{
    match finish(op, resp) {
        Ok(out) => drop(format!("{out:?}")),
        Err(e) => {
            let shown = e.to_string();
            if let Some(service) = e.as_service() {
                assert!(
                    shown.contains(service.code.as_str()),
                    "{shown:?} lacks the code {}",
                    service.code
                );
            }
        }
    }
}

/// Every response parser through `s3_proto::config::finish`, with arbitrary status, headers
/// and body.
///
/// Input: [`HttpInput`]; the selector picks the operation from [`OPERATIONS`]. Checks: no
/// panic; an error's `Display` carries its S3 error code.
pub fn responses(data: &[u8]) {
    let Some(input) = HttpInput::decode(data) else {
        return;
    };
    let resp = input.response();
    let (Ok(bucket), Ok(key)) = (BucketName::new("bucket"), ObjectKey::new("key")) else {
        unreachable!("fixed names are valid")
    };
    let (b, k) = (bucket.clone(), key.clone());
    let part = CompletedPart {
        part_number: 1,
        etag: "\"etag\"".to_owned(),
    };
    match usize::from(input.selector) % OPERATIONS.len() {
        0 => run(&ListBuckets::new(), resp),
        1 => run(&ListObjectsV2::new(b), resp),
        2 => run(&ListObjects::new(b), resp),
        3 => run(&GetBucketLocation::new(b), resp),
        4 => run(&HeadObject::new(b, k), resp),
        5 => run(&GetObject::new(b, k), resp),
        6 => run(&HeadBucket::new(b), resp),
        7 => run(&CopyObject::new(b, k, bucket, key), resp),
        8 => run(&DeleteObjects::new(b, [k]), resp),
        9 => run(&CreateBucket::new(b), resp),
        10 => run(&GetBucketAcl::new(b), resp),
        11 => run(&GetObjectAcl::new(b, k), resp),
        12 => run(&GetBucketCors::new(b), resp),
        13 => run(&CreateMultipartUpload::new(b, k), resp),
        14 => run(&UploadPart::new(b, k, "upload", 1, &b"part"[..]), resp),
        15 => run(&UploadPartCopy::new(b, k, bucket, key, "upload", 1), resp),
        16 => run(&CompleteMultipartUpload::new(b, k, "upload", [part]), resp),
        17 => run(&ListParts::new(b, k, "upload"), resp),
        18 => run(&ListMultipartUploads::new(b), resp),
        19 => run(&ListObjectsV2::new(b).encoding_type_url(true), resp),
        20 => run(&ListObjects::new(b).encoding_type_url(true), resp),
        21 => run(&DeleteBucket::new(b), resp),
        22 => run(&DeleteObject::new(b, k), resp),
        23 => run(&PutObject::new(b, k, &b"data"[..]), resp),
        24 => run(&AbortMultipartUpload::new(b, k, "upload"), resp),
        25 => {
            let rule = CorsRule::new([CorsMethod::Get], ["*"]);
            run(
                &PutBucketCors::new(b, CorsConfiguration::new().rule(rule)),
                resp,
            );
        }
        26 => run(&DeleteBucketCors::new(b), resp),
        27 => run(&PutBucketAcl::new(b, s3_proto::CannedAcl::Private), resp),
        28 => run(&PutObjectAcl::new(b, k, s3_proto::CannedAcl::Private), resp),
        29 => run(&GetBucketVersioning::new(b), resp),
        30 => run(&ListObjectVersions::new(b), resp),
        31 => run(&GetObjectTagging::new(b, k), resp),
        32 => run(&GetBucketTagging::new(b), resp),
        33 => run(&GetBucketPolicy::new(b), resp),
        34 => run(&GetPublicAccessBlock::new(b), resp),
        35 => run(&GetBucketOwnershipControls::new(b), resp),
        36 => run(&GetBucketLifecycleConfiguration::new(b), resp),
        37 => run(&GetBucketEncryption::new(b), resp),
        38 => run(&GetObjectLockConfiguration::new(b), resp),
        39 => run(&GetObjectRetention::new(b, k), resp),
        40 => run(&GetObjectLegalHold::new(b, k), resp),
        41 => run(&DeleteObject::new(b, k).report(), resp),
        _ => run(
            &PutObjectTagging::new(b, k, s3_proto::TagSet::new().tag("k", "v")),
            resp,
        ),
    }
}

/// The error parser, `ServiceError::from_response`, on arbitrary status, headers and body.
///
/// Input: [`HttpInput`] (the selector byte is ignored). Checks: no panic; the status is kept;
/// the code round-trips through `ErrorCode::parse`; `Display` carries the code.
pub fn service_error(data: &[u8]) {
    let Some(input) = HttpInput::decode(data) else {
        return;
    };
    let err = ServiceError::from_response(input.status, &input.headers, input.body);
    assert_eq!(err.status, input.status);
    assert_eq!(ErrorCode::parse(err.code.as_str()), err.code);
    let shown = err.to_string();
    assert!(shown.contains(err.code.as_str()), "{shown:?}");
    let _ = err.redirect_region();
    let _ = s3_proto::Error::from(err).is_retryable();
}

/// A request decoded from [`sign`] input.
struct SignInput {
    flags: u8,
    request: Request<()>,
}

/// Hosts [`sign`] puts in the URI (flag bits 5..=6).
const HOSTS: [&str; 4] = [
    "example.com",
    "bucket.s3.amazonaws.com",
    "127.0.0.1:9000",
    "s3.us-west-2.amazonaws.com",
];

impl SignInput {
    fn decode(data: &[u8]) -> Option<Self> {
        let (&flags, rest) = data.split_first()?;
        let mut lines = rest.splitn(3, |&b| b == b'\n');
        let method = Method::from_bytes(lines.next().unwrap_or(b"GET")).ok()?;
        let target = lines.next().unwrap_or(b"/");
        let mut uri = Vec::with_capacity(target.len() + 40);
        if flags & 0x10 == 0 {
            uri.extend_from_slice(b"http://");
            uri.extend_from_slice(HOSTS[usize::from(flags >> 5 & 3)].as_bytes());
        }
        if target.first() != Some(&b'/') {
            uri.push(b'/');
        }
        uri.extend_from_slice(target);
        let uri = Uri::try_from(uri).ok()?;
        let mut request = Request::builder().method(method).uri(uri).body(()).ok()?;
        for line in lines.next().unwrap_or_default().split(|&b| b == b'\n') {
            let Some(i) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(&line[..i]),
                HeaderValue::from_bytes(line[i + 1..].trim_ascii_start()),
            ) {
                request.headers_mut().append(n, v);
            }
        }
        Some(SignInput { flags, request })
    }
}

/// SigV4 and SigV2 signing and presigning of an arbitrary request.
///
/// Input: byte 0 holds flags (bit 0: session token; bit 1: SigV4 signs all headers; bit 2: no
/// `x-amz-content-sha256`; bit 3: the token is not signed; bit 4: relative URI, so the host
/// must come from a `Host` header; bits 5..=6: the host; bit 7: SigV2 with the bucket in the
/// host). Then `method \n path?query \n` and `name:value` header lines separated by `\n`.
///
/// Checks: no panic; signing or presigning the same request twice gives the same result
/// (signature, string to sign, headers, URL).
pub fn sign(data: &[u8]) {
    let Some(SignInput { flags, request }) = SignInput::decode(data) else {
        return;
    };
    let mut creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    if flags & 1 != 0 {
        creds = creds.with_session_token("token/with+odd=chars");
    }
    let Ok(v4) = SigV4::new(&creds, "us-east-1", "s3", now()) else {
        unreachable!("non-anonymous credentials sign")
    };
    let v4 = v4
        .sign_all_headers(flags & 2 != 0)
        .content_sha256_header(flags & 4 == 0)
        .sign_session_token(flags & 8 == 0);

    let (mut a, mut b) = (request.clone(), request.clone());
    match (
        v4.sign(&mut a, UNSIGNED_PAYLOAD),
        v4.sign(&mut b, UNSIGNED_PAYLOAD),
    ) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x.signature(), y.signature());
            assert_eq!(x.canonical_request(), y.canonical_request());
            assert_eq!(a.headers(), b.headers());
            drop(format!("{x:?}"));
        }
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
        (x, y) => panic!("SigV4 signed once only: {x:?} / {y:?}"),
    }
    let expires = Duration::from_secs(3600);
    match (
        v4.presign(&request, expires, UNSIGNED_PAYLOAD),
        v4.presign(&request, expires, UNSIGNED_PAYLOAD),
    ) {
        (Ok((x, _)), Ok((y, _))) => assert_eq!(x, y),
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
        (x, y) => panic!("SigV4 presigned once only: {x:?} / {y:?}"),
    }

    let Ok(v2) = SigV2::new(&creds, now()) else {
        unreachable!("non-anonymous credentials sign")
    };
    let bucket = (flags & 0x80 != 0).then_some("bucket");
    let (mut a, mut b) = (request.clone(), request.clone());
    match (v2.sign(&mut a, bucket), v2.sign(&mut b, bucket)) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x, y);
            assert_eq!(a.headers(), b.headers());
        }
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
        (x, y) => panic!("SigV2 signed once only: {x:?} / {y:?}"),
    }
    let until = now() + expires;
    match (
        v2.presign(&request, until, bucket),
        v2.presign(&request, until, bucket),
    ) {
        (Ok(x), Ok(y)) => assert_eq!(x, y),
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
        (x, y) => panic!("SigV2 presigned once only: {x:?} / {y:?}"),
    }
}

/// The URI encoding round trip: `percent_decode(uri_encode(x)) == x`.
///
/// Input: byte 0 bit 0 is `keep_slash`, bit 1 `plus_as_space` for the decode; the rest, as
/// UTF-8 (lossily), is `x`. Also decodes the raw rest, which must not panic. Checks: the
/// encoding holds only unreserved bytes, `%` and (with `keep_slash`) `/`; it decodes back to
/// `x` either way `+` is read.
pub fn uri_encode(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (keep_slash, plus_as_space) = (flags & 1 != 0, flags & 2 != 0);
    let text = String::from_utf8_lossy(rest);
    let encoded = uri_encode_checked(&text, keep_slash);
    assert_eq!(
        &*percent_decode(&encoded, plus_as_space),
        text.as_bytes(),
        "{encoded:?}"
    );
    // Arbitrary text, `%` sequences and all, must decode without panicking.
    let decoded = percent_decode(&text, plus_as_space);
    assert!(decoded.len() <= text.len());
}

fn uri_encode_checked(text: &str, keep_slash: bool) -> String {
    let encoded = encode::uri_encode(text, keep_slash).into_owned();
    assert!(
        encoded.bytes().all(|b| b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%')
            || (keep_slash && b == b'/')),
        "{encoded:?}"
    );
    encoded
}

/// Chunk data: the same bytes every time, as long as the longest chunk the target asks for.
fn chunk_source() -> &'static [u8] {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| (0..MAX_FUZZ_CHUNK).map(|i| (i % 251) as u8).collect())
}

/// The longest chunk [`chunked`] frames (the smallest legal chunk size plus 64 KiB).
const MAX_FUZZ_CHUNK: usize = chunked::MIN_CHUNK_SIZE + 0x1_0000;

/// One pass of [`chunked`]: runs the steps, returns the body produced and whether `finish`
/// succeeded.
fn chunked_pass(mut signer: ChunkedSigner, steps: &[u8]) -> (Vec<u8>, bool) {
    let data = chunk_source();
    let mut body = Vec::new();
    let mut finished = false;
    for step in steps.chunks(3) {
        let (&kind, len) = step.split_first().unwrap_or((&0, &[]));
        let arbitrary = match len {
            [hi, lo] => usize::from(u16::from_be_bytes([*hi, *lo])),
            [x] => usize::from(*x),
            _ => 0,
        };
        // Mostly the length the layout asks for, so whole bodies get framed.
        let n = match kind % 4 {
            0 | 1 => signer.next_chunk_len().unwrap_or(arbitrary),
            _ => arbitrary,
        }
        .min(data.len());
        let chunk = &data[..n];
        let before = signer.clone();
        let result = match kind % 8 {
            0 | 2 | 4 => signer.frame_header(chunk).map(|h| {
                assert!(h.starts_with(&format!("{n:x};chunk-signature=")), "{h:?}");
                assert!(h.ends_with("\r\n") && h.len() == format!("{n:x}").len() + 83);
                let mut out = h.into_bytes();
                out.extend_from_slice(chunk);
                out.extend_from_slice(chunked::CHUNK_TRAILER.as_bytes());
                out
            }),
            1 | 3 | 5 => signer.sign_chunk(chunk),
            6 => signer.finish().map(|s| {
                finished = true;
                s.into_bytes()
            }),
            _ => {
                let _ = signer.next_chunk_len();
                Ok(Vec::new())
            }
        };
        match result {
            Ok(bytes) => body.extend_from_slice(&bytes),
            // "The chain is unchanged on error": both would finish the same way.
            Err(_) => assert_eq!(
                before.clone().finish().ok(),
                signer.clone().finish().ok(),
                "a refused chunk changed the chain"
            ),
        }
        assert_eq!(finished, signer.is_finished());
    }
    (body, finished)
}

/// The aws-chunked framer: `ChunkedSigner` with and without a layout, and
/// `Config::prepare_streaming`.
///
/// Input: byte 0 is the mode (bit 0: fixed layout; bit 1: built by `Config::prepare_streaming`
/// for a PutObject; bit 2: take the chunk size as is rather than from the legal range); bytes
/// 1..3 the chunk size; bytes 3..6 the decoded length (24 bits, capped at 256 KiB); then steps
/// of 3 bytes (kind, 16-bit length) that frame, sign or finish chunks. Also calls
/// `encoded_length` on the first 8 and next 8 bytes as arbitrary numbers.
///
/// Checks: no panic; two signers fed the same steps produce the same bytes; a refused chunk
/// leaves the chain unchanged; with a layout, a finished body is exactly
/// `encoded_length(decoded, chunk_size)` bytes (and, from `Config::prepare_streaming`, the
/// request's `Content-Length`).
pub fn chunked(data: &[u8]) {
    if let (Some(a), Some(b)) = (data.first_chunk::<8>(), data.get(8..16)) {
        let decoded = u64::from_le_bytes(*a);
        let size = b.try_into().map_or(0, |b: [u8; 8]| {
            usize::try_from(u64::from_le_bytes(b)).unwrap_or(usize::MAX)
        });
        assert!(encoded_length(decoded, size) >= decoded.min(u64::MAX / 2));
    }
    let Some((&[mode, s_hi, s_lo, l0, l1, l2], steps)) = data.split_first_chunk::<6>() else {
        return;
    };
    let raw_size = usize::from(u16::from_be_bytes([s_hi, s_lo]));
    let chunk_size = if mode & 4 != 0 {
        raw_size
    } else {
        chunked::MIN_CHUNK_SIZE + raw_size
    };
    let decoded = u64::from(u32::from_be_bytes([0, l0, l1, l2])).min(256 * 1024);
    let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let mut content_length = None;
    let signer = if mode & 2 != 0 {
        let Ok(config) = Config::new("http://127.0.0.1:9000", "us-east-1") else {
            unreachable!("a fixed endpoint parses")
        };
        let (Ok(bucket), Ok(key)) = (BucketName::new("bucket"), ObjectKey::new("key")) else {
            unreachable!("fixed names are valid")
        };
        let op = PutObject::new(bucket, key, Body::Stream { length: None });
        let Ok((req, signer)) = config.prepare_streaming(&op, &creds, now(), decoded, chunk_size)
        else {
            return;
        };
        content_length = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        assert_eq!(content_length, req.body().len());
        signer
    } else {
        let Ok(v4) = SigV4::new(&creds, "us-east-1", "s3", now()) else {
            unreachable!("non-anonymous credentials sign")
        };
        let signer = ChunkedSigner::new(&v4, &"0".repeat(64));
        if mode & 1 != 0 {
            match signer.with_layout(decoded, chunk_size) {
                Ok(s) => s,
                Err(_) => return,
            }
        } else {
            signer
        }
    };
    let layout = mode & 3 != 0;
    let (body, finished) = chunked_pass(signer.clone(), steps);
    let (again, _) = chunked_pass(signer, steps);
    assert!(body == again, "the same chunks framed differently");
    // With a layout, `finish` succeeds only once every chunk had the planned length, and
    // nothing is framed after it: the body is complete.
    if finished && layout {
        let len = body.len() as u64;
        assert_eq!(len, encoded_length(decoded, chunk_size));
        if let Some(signed) = content_length {
            assert_eq!(len, signed);
        }
    }
}

/// Rules for [`cors_preflight`] from text lines; see its documentation.
fn cors_rules<'a>(lines: impl Iterator<Item = &'a str>) -> CorsConfiguration {
    let mut config = CorsConfiguration::new();
    for line in lines {
        let mut fields = line.split('|');
        let mut list = || {
            fields
                .next()
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let methods: Vec<CorsMethod> = list().iter().filter_map(|m| CorsMethod::parse(m)).collect();
        let mut rule = CorsRule::new(methods, list());
        rule.allowed_headers = list();
        rule.expose_headers = list();
        rule.max_age_seconds = list().first().and_then(|s| s.parse().ok());
        config = config.rule(rule);
    }
    config
}

/// The CORS preflight evaluator, `CorsConfiguration::preflight_as`, in both dialects.
///
/// Input, as UTF-8 (lossily): line 1 the origin, line 2 the method, line 3 the requested
/// headers (`;` separates the header values a browser would send, each may hold a comma
/// list), then one rule per line: `METHODS|origins|allowed headers|expose headers|max age`,
/// lists comma-separated.
///
/// Checks: no panic; an answer names an existing rule that lists the method and, for Amazon
/// S3, echoes the origin or `*`; Ceph RGW always echoes it.
pub fn cors_preflight(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let origin = lines.next().unwrap_or_default();
    let method = lines.next().unwrap_or_default();
    let requested: Vec<&str> = lines.next().unwrap_or_default().split(';').collect();
    let config = cors_rules(lines);
    for dialect in [Dialect::AmazonS3, Dialect::CephRgw] {
        match config.preflight_as(dialect, origin, method, &requested) {
            Ok(answer) => {
                let rule = &config.rules[answer.rule];
                let Some(m) = CorsMethod::parse(method) else {
                    panic!("answered the unknown method {method:?}")
                };
                assert!(rule.allowed_methods.contains(&m));
                match dialect {
                    Dialect::CephRgw => assert_eq!(answer.allow_origin, origin),
                    _ => assert!(answer.allow_origin == origin || answer.allow_origin == "*"),
                }
                assert!(answer.headers().len() >= 3);
            }
            Err(reason) => drop(reason.to_string()),
        }
    }
    let _ = config.validate();
}

/// `AccessControlPolicy::parse` → `to_xml` → `parse` on an arbitrary document.
///
/// Input: the document. Checks: no panic; a document that parses re-serialises to one that
/// parses to an equal policy, and serialising that again gives the same bytes.
pub fn acl_roundtrip(data: &[u8]) {
    let Ok(policy) = AccessControlPolicy::parse(data) else {
        return;
    };
    let xml = policy.to_xml();
    match AccessControlPolicy::parse(xml.as_bytes()) {
        Ok(again) => {
            assert_eq!(again, policy, "{xml}");
            assert_eq!(again.to_xml(), xml);
        }
        Err(e) => panic!("re-serialised policy does not parse: {e}\n{xml}"),
    }
}

/// `CorsConfiguration::parse` → `to_xml` → `parse` on an arbitrary document.
///
/// Input: the document. Checks: no panic; a document that parses re-serialises to one that
/// parses to an equal configuration, and serialising that again gives the same bytes.
pub fn cors_roundtrip(data: &[u8]) {
    let Ok(config) = CorsConfiguration::parse(data) else {
        return;
    };
    let xml = config.to_xml();
    match CorsConfiguration::parse(xml.as_bytes()) {
        Ok(again) => {
            assert_eq!(again, config, "{xml}");
            assert_eq!(again.to_xml(), xml);
        }
        Err(e) => panic!("re-serialised CORS configuration does not parse: {e}\n{xml}"),
    }
    let _ = config.validate();
}

/// A fuzz target: takes any bytes, panics on a finding.
pub type Target = fn(&[u8]);

/// Every target by name, for replaying a corpus directory `corpus/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("responses", responses),
    ("service_error", service_error),
    ("sign", sign),
    ("uri_encode", uri_encode),
    ("chunked", chunked),
    ("cors_preflight", cors_preflight),
    ("acl_roundtrip", acl_roundtrip),
    ("cors_roundtrip", cors_roundtrip),
];
