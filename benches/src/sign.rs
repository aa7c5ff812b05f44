//! Signing workloads: SigV4 headers, presigned URLs, SigV2, aws-chunked. Each peer signs the
//! same request at the same time with the same keys; signatures are compared before timing.

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use s3_proto::credentials::cache::SharedCache;
use s3_proto::credentials::source::Fetch;
use s3_proto::credentials::{CredentialSource, IoResult, Resolve, Step};
use s3_proto::sign::chunked::ChunkedSigner;
use s3_proto::sign::{EMPTY_SHA256, SigV2, SigV4, UNSIGNED_PAYLOAD};
use s3_proto::{Addressing, BucketName, Config, Credentials, ObjectKey};
use sha2::{Digest, Sha256};

use crate::harness::Workload;

pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// Fri, 24 May 2013 00:00:00 GMT, the time of AWS's published examples.
const EPOCH_SECS: u64 = 1_369_353_600;
const URL: &str = "https://examplebucket.s3.amazonaws.com/test.txt";
/// AWS's GET-with-range example (SigV4 documentation, "Example: GET Object").
const HEADER_SIGNATURE: &str = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
/// AWS's presigned-URL example (86400 s, only `host` signed).
const PRESIGN_SIGNATURE: &str = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
const EXPIRES: Duration = Duration::from_secs(86_400);
/// Size of an aws-chunked chunk in the throughput rows.
pub const CHUNK: usize = 64 * 1024;

fn time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(EPOCH_SECS)
}

fn get_with_range() -> http::Request<()> {
    http::Request::get(URL)
        .header("range", "bytes=0-9")
        .body(())
        .expect("static request")
}

fn aws_identity() -> Identity {
    aws_credential_types::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into()
}

/// The S3 settings the AWS SDK uses for S3.
fn aws_settings(presign: bool) -> SigningSettings {
    let mut s = SigningSettings::default();
    s.percent_encoding_mode = PercentEncodingMode::Single;
    s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    if presign {
        s.signature_location = SignatureLocation::QueryParams;
        s.expires_in = Some(EXPIRES);
        s.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    } else {
        s.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    s
}

/// Signs `req` with aws-sigv4 as the SDK does for S3; returns the signature.
fn aws_sign(
    req: &mut http::Request<()>,
    identity: &Identity,
    settings: &SigningSettings,
    body: SignableBody<'_>,
) -> String {
    let params: aws_sigv4::http_request::SigningParams<'_> =
        aws_sigv4::sign::v4::SigningParams::builder()
            .identity(identity)
            .region("us-east-1")
            .name("s3")
            .time(time())
            .settings(settings.clone())
            .build()
            .expect("complete params")
            .into();
    let uri = req.uri().to_string();
    let signable = SignableRequest::new(
        req.method().as_str(),
        uri,
        req.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().expect("ascii header"))),
        body,
    )
    .expect("signable");
    let (instructions, signature) = aws_sigv4::http_request::sign(signable, &params)
        .expect("aws-sigv4 signs")
        .into_parts();
    instructions.apply_to_request_http1x(req);
    signature
}

fn rusty_bucket() -> rusty_s3::Bucket {
    rusty_s3::Bucket::new(
        "https://s3.amazonaws.com".parse().expect("static url"),
        rusty_s3::UrlStyle::VirtualHost,
        "examplebucket",
        "us-east-1",
    )
    .expect("valid bucket")
}

fn rusty_time() -> jiff::Timestamp {
    jiff::Timestamp::from_second(EPOCH_SECS as i64).expect("valid time")
}

/// rusty-s3's presigned GetObject, optionally with a signed `range` header.
fn rusty_presign(
    bucket: &rusty_s3::Bucket,
    creds: &rusty_s3::Credentials,
    ts: &jiff::Timestamp,
    range: bool,
) -> url::Url {
    use rusty_s3::S3Action as _;
    let mut action = rusty_s3::actions::GetObject::new(bucket, Some(creds), "test.txt");
    if range {
        action.headers_mut().insert("range", "bytes=0-9");
    }
    action.sign_with_time(EXPIRES, ts)
}

fn query_signature(url: &str) -> &str {
    url.split("X-Amz-Signature=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("URL has a signature")
}

/// The canonical request of the header-signing example, as every SigV4 signer must build it.
const CANONICAL: &str = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SCOPE_LINES: &str =
    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n";

fn hmac256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The floor: SHA-256 of the canonical request, HMAC of the string to sign with a cached
/// key, hex of the result. No request walking, no allocation but the hex.
fn floor_sign(key: &[u8; 32]) -> String {
    let h = Sha256::digest(black_box(CANONICAL).as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(SCOPE_LINES.as_bytes());
    mac.update(hex(&h).as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn floor_key() -> [u8; 32] {
    let k = hmac256(format!("AWS4{SECRET_KEY}").as_bytes(), b"20130524");
    let k = hmac256(&k, b"us-east-1");
    let k = hmac256(&k, b"s3");
    hmac256(&k, b"aws4_request")
}

/// Checks every comparable implementation agrees before anything is timed.
pub fn verify() {
    let creds = Credentials::new(ACCESS_KEY, SECRET_KEY);
    let identity = aws_identity();

    let mut ours_req = get_with_range();
    let ours = SigV4::new(&creds, "us-east-1", "s3", time())
        .expect("credentials")
        .sign(&mut ours_req, EMPTY_SHA256)
        .expect("ours signs");
    assert_eq!(ours.signature(), HEADER_SIGNATURE, "ours, header signing");
    let mut aws_req = get_with_range();
    let aws = aws_sign(
        &mut aws_req,
        &identity,
        &aws_settings(false),
        SignableBody::Precomputed(EMPTY_SHA256.to_owned()),
    );
    assert_eq!(aws, HEADER_SIGNATURE, "aws-sigv4, header signing");
    assert_eq!(
        ours_req.headers()["authorization"],
        aws_req.headers()["authorization"],
        "same Authorization header"
    );
    assert_eq!(floor_sign(&floor_key()), HEADER_SIGNATURE, "floor");

    let req = http::Request::get(URL).body(()).expect("static request");
    let (uri, out) = SigV4::new(&creds, "us-east-1", "s3", time())
        .expect("credentials")
        .presign(&req, EXPIRES, UNSIGNED_PAYLOAD)
        .expect("ours presigns");
    assert_eq!(out.signature(), PRESIGN_SIGNATURE, "ours, presign");
    assert_eq!(query_signature(&uri.to_string()), PRESIGN_SIGNATURE);
    let uri = ours_config_presign(&config(), &creds, &get_object());
    assert_eq!(
        query_signature(&uri),
        PRESIGN_SIGNATURE,
        "ours, Config::presign"
    );
    let mut aws_req = http::Request::get(URL).body(()).expect("static request");
    let aws = aws_sign(
        &mut aws_req,
        &identity,
        &aws_settings(true),
        SignableBody::UnsignedPayload,
    );
    assert_eq!(aws, PRESIGN_SIGNATURE, "aws-sigv4, presign");
    let rusty = rusty_presign(
        &rusty_bucket(),
        &rusty_s3::Credentials::new(ACCESS_KEY, SECRET_KEY),
        &rusty_time(),
        false,
    );
    assert_eq!(
        query_signature(rusty.as_str()),
        PRESIGN_SIGNATURE,
        "rusty-s3"
    );
}

fn config() -> Config {
    Config::new("https://s3.amazonaws.com", "us-east-1")
        .expect("valid endpoint")
        .addressing(Addressing::VirtualHost)
}

fn get_object() -> s3_proto::ops::GetObject {
    s3_proto::ops::GetObject::new(
        BucketName::new("examplebucket").expect("valid"),
        ObjectKey::new("test.txt").expect("valid"),
    )
}

fn ours_config_presign(
    config: &Config,
    creds: &Credentials,
    op: &s3_proto::ops::GetObject,
) -> String {
    config
        .presign(op, creds, time(), EXPIRES)
        .expect("presigns")
        .to_string()
}

/// Resolves at once to keys valid for a day: a cache that, once filled, is only looked up.
struct LongLived;

impl Resolve for LongLived {
    type Output = Credentials;
    fn poll(&mut self, now: SystemTime) -> Step {
        let c = Credentials::new(ACCESS_KEY, SECRET_KEY).with_session_token("token");
        Step::Done(Ok(c.with_expiry(now + Duration::from_secs(86_400))))
    }
    fn handle(&mut self, _result: IoResult) {}
}

/// All signing workloads.
pub fn workloads() -> Vec<Workload> {
    let mut w = Vec::new();
    let creds = Rc::new(Credentials::new(ACCESS_KEY, SECRET_KEY));
    let identity = Rc::new(aws_identity());
    let bucket = Rc::new(rusty_bucket());
    let rusty_creds = Rc::new(rusty_s3::Credentials::new(ACCESS_KEY, SECRET_KEY));
    let ts = rusty_time();

    // 1. Header signing.
    {
        let creds = creds.clone();
        let template = get_with_range();
        w.push(Workload::new("sign", 0, move || {
            let mut req = template.clone();
            let signer = SigV4::new(&creds, "us-east-1", "s3", time()).expect("credentials");
            black_box(signer.sign(&mut req, EMPTY_SHA256).expect("signs"));
            black_box(req);
        }));
    }
    {
        let identity = identity.clone();
        let template = get_with_range();
        let settings = aws_settings(false);
        w.push(Workload::new("sign-aws", 0, move || {
            let mut req = template.clone();
            black_box(aws_sign(
                &mut req,
                &identity,
                &settings,
                SignableBody::Precomputed(EMPTY_SHA256.to_owned()),
            ));
            black_box(req);
        }));
    }
    {
        let (bucket, rusty_creds) = (bucket.clone(), rusty_creds.clone());
        w.push(Workload::new("sign-rusty", 0, move || {
            black_box(rusty_presign(&bucket, &rusty_creds, &ts, true));
        }));
    }
    {
        // What the harness adds to `sign` alone: a fresh copy of the request, then its drop.
        let template = get_with_range();
        w.push(Workload::new("sign-copy", 0, move || {
            black_box(template.clone());
        }));
    }
    {
        let key = floor_key();
        w.push(Workload::new("sign-floor", 0, move || {
            black_box(floor_sign(&key));
        }));
    }

    // 1b. Credentials for one attempt: a warm shared cache (what `Client::from_env` signs
    // with) against fixed keys (`Client::new` with `Credentials`).
    {
        let cached = CredentialSource::cached(SharedCache::default(), || Box::new(LongLived));
        let warm = |source: &CredentialSource| match source.fetch(time(), 7) {
            Fetch::Use(c) => c,
            Fetch::Refresh(mut refresh) => match refresh.poll(time()) {
                Step::Done(result) => result.expect("long-lived credentials"),
                Step::Io(_) => unreachable!("resolves without IO"),
            },
            Fetch::Wait(_) => unreachable!("nobody else refreshes"),
        };
        warm(&cached);
        w.push(Workload::new("creds-cached", 0, move || {
            black_box(warm(&cached));
        }));
        let fixed = CredentialSource::fixed(Credentials::new(ACCESS_KEY, SECRET_KEY));
        w.push(Workload::new("creds-fixed", 0, move || {
            black_box(fixed.fetch(time(), 7));
        }));
    }

    // 2. Presigned URLs.
    {
        let creds = creds.clone();
        let req = http::Request::get(URL).body(()).expect("static request");
        w.push(Workload::new("presign", 0, move || {
            let signer = SigV4::new(&creds, "us-east-1", "s3", time()).expect("credentials");
            black_box(
                signer
                    .presign(&req, EXPIRES, UNSIGNED_PAYLOAD)
                    .expect("presigns"),
            );
        }));
    }
    {
        let creds = creds.clone();
        let (config, op) = (config(), get_object());
        w.push(Workload::new("presign-op", 0, move || {
            black_box(ours_config_presign(&config, &creds, &op));
        }));
    }
    {
        let identity = identity.clone();
        let template = http::Request::get(URL).body(()).expect("static request");
        let settings = aws_settings(true);
        w.push(Workload::new("presign-aws", 0, move || {
            let mut req = template.clone();
            black_box(aws_sign(
                &mut req,
                &identity,
                &settings,
                SignableBody::UnsignedPayload,
            ));
            black_box(req);
        }));
    }
    w.push(Workload::new("presign-rusty", 0, move || {
        black_box(rusty_presign(&bucket, &rusty_creds, &ts, false));
    }));

    // 3. SigV2 and aws-chunked.
    {
        let creds = creds.clone();
        let template = get_with_range();
        w.push(Workload::new("sigv2", 0, move || {
            let mut req = template.clone();
            let signer = SigV2::new(&creds, time()).expect("credentials");
            black_box(signer.sign(&mut req, Some("examplebucket")).expect("signs"));
            black_box(req);
        }));
    }
    {
        // Floor: HMAC-SHA1 of the string to sign and base64, what every SigV2 signer does.
        let sts = "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/test.txt";
        let key = SECRET_KEY.as_bytes();
        w.push(Workload::new("sigv2-floor", 0, move || {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("any key length");
            mac.update(black_box(sts).as_bytes());
            black_box(
                base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
            );
        }));
    }
    {
        let signer = SigV4::new(&creds, "us-east-1", "s3", time()).expect("credentials");
        let mut chunked = ChunkedSigner::new(&signer, HEADER_SIGNATURE);
        let data = vec![0x5a_u8; CHUNK];
        w.push(Workload::new("chunk", CHUNK, move || {
            black_box(chunked.frame_header(black_box(&data)).expect("signs"));
        }));
    }
    {
        let data = vec![0x5a_u8; CHUNK];
        w.push(Workload::new("chunk-sha256", CHUNK, move || {
            black_box(Sha256::digest(black_box(&data)));
        }));
    }
    w
}
