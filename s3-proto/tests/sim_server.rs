//! The simulated S3 server (`tests/sim`) proved against s3-proto's own operations: every
//! action round-trips through `Config::prepare`, the simulator and `Config::finish`, and every
//! fault kind comes back as the typed error a runtime would report.

use s3_proto::sim;

use std::time::Duration;

use http::{Method, Request, StatusCode};
use md5::{Digest as _, Md5};
use s3_proto::flow::paginate::{Pages, Paginated};
use s3_proto::ops::*;
use s3_proto::{
    BucketName, Config, Error, ErrorCode, ObjectKey, Operation, ServiceError, TransportErrorKind,
};
use sim::{
    Exchange, Fault, FaultKind, FaultPlan, Match, OpKind, STALL_TIMEOUT, Sim, send, send_streamed,
};

const BUCKET: &str = "bucket";

fn config() -> Config {
    Config::new("http://127.0.0.1:9000", "us-east-1").unwrap()
}

fn bucket() -> BucketName {
    BucketName::new(BUCKET).unwrap()
}

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

/// A simulator holding an empty `bucket`, with 5-byte minimum parts.
fn sim() -> Sim {
    let mut sim = Sim::new().min_part_size(5);
    sim.create_bucket(BUCKET);
    sim
}

/// Sends `op`; the output and streamed body, or the test fails.
fn ok<O: Operation + ?Sized>(sim: &mut Sim, op: &O) -> (O::Output, Vec<u8>) {
    send(sim, &config(), op, None).unwrap_or_else(|e| panic!("{e}"))
}

/// Sends `op` expecting an S3 error; returns it.
fn service_error<O: Operation + ?Sized>(sim: &mut Sim, op: &O) -> ServiceError
where
    O::Output: std::fmt::Debug,
{
    match send(sim, &config(), op, None) {
        Err(Error::Service(e)) => *e,
        other => panic!("expected an S3 error, got {other:?}"),
    }
}

/// Sends `op` expecting a transport error; returns its kind.
fn transport_error<O: Operation + ?Sized>(sim: &mut Sim, op: &O) -> TransportErrorKind
where
    O::Output: std::fmt::Debug,
{
    match send(sim, &config(), op, None) {
        Err(Error::Transport(e)) => e.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Every page of a listing, through the paging driver.
fn all_pages<O: Paginated + PartialEq>(sim: &mut Sim, first: O) -> Vec<O::Output> {
    let mut pages = Pages::new(first);
    let mut out = Vec::new();
    while let Some(op) = pages.next_op() {
        let (page, _) = ok(sim, op);
        pages.handle(&page).unwrap();
        out.push(page);
    }
    out
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A raw request with `body`, carrying the `Content-Length` a runtime would add.
fn raw(method: Method, path_and_query: &str, body: &[u8]) -> Request<Vec<u8>> {
    Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:9000{path_and_query}"))
        .header("content-length", body.len())
        .body(body.to_vec())
        .unwrap()
}

/// The S3 error in a raw reply.
fn raw_error(exchange: Exchange) -> ServiceError {
    match exchange {
        Exchange::Reply {
            status,
            headers,
            body,
        } => {
            assert!(headers.contains_key("x-amz-request-id"));
            let e = ServiceError::from_response(status, &headers, &body);
            assert!(e.request_id.is_some(), "{e}");
            e
        }
        other => panic!("expected a reply, got {other:?}"),
    }
}

// --- Buckets ---

#[test]
fn bucket_lifecycle() {
    let mut sim = Sim::new();
    let created = ok(&mut sim, &CreateBucket::new(bucket())).0;
    assert_eq!(created.location.as_deref(), Some("/bucket"));
    assert!(sim.bucket_exists(BUCKET));
    let head = ok(&mut sim, &HeadBucket::new(bucket())).0;
    assert_eq!(head.region.as_deref(), Some("us-east-1"));
    // us-east-1 answers a repeated create with 200.
    assert!(!ok(&mut sim, &CreateBucket::new(bucket())).0.already_owned);

    sim.put_object(BUCKET, "k", b"x");
    let e = service_error(&mut sim, &DeleteBucket::new(bucket()));
    assert_eq!(
        (e.status, e.code),
        (StatusCode::CONFLICT, ErrorCode::BucketNotEmpty)
    );
    ok(&mut sim, &DeleteObject::new(bucket(), key("k")));
    ok(&mut sim, &DeleteBucket::new(bucket()));
    let e = service_error(&mut sim, &HeadBucket::new(bucket()));
    assert_eq!(
        (e.status, e.code),
        (StatusCode::NOT_FOUND, ErrorCode::NoSuchBucket)
    );
    let e = service_error(&mut sim, &ListObjectsV2::new(bucket()));
    assert_eq!(e.code, ErrorCode::NoSuchBucket);
    assert_eq!(e.bucket.as_deref(), Some(BUCKET));
}

#[test]
fn bucket_in_another_region() {
    let config = Config::new("http://127.0.0.1:9000", "eu-west-1").unwrap();
    let mut sim = Sim::new().region("eu-west-1");
    let create = CreateBucket::new(bucket()).location(LocationConstraint::EU);
    send(&mut sim, &config, &create, None).unwrap();
    // Outside us-east-1 a repeat is 409 BucketAlreadyOwnedByYou, which CreateBucket recovers.
    let again = send(&mut sim, &config, &create, None).unwrap().0;
    assert!(again.already_owned);
    let elsewhere = CreateBucket::new(BucketName::new("other").unwrap())
        .location(LocationConstraint::new("ap-south-1"));
    let e = send(&mut sim, &config, &elsewhere, None).unwrap_err();
    assert_eq!(
        e.code(),
        Some(&ErrorCode::IllegalLocationConstraintException)
    );
    let listed = send(&mut sim, &config, &ListBuckets::new(), None)
        .unwrap()
        .0;
    assert_eq!(listed.buckets.len(), 1);
    assert_eq!(listed.buckets[0].creation_date, Some(sim::start_time()));
}

// --- Objects ---

#[test]
fn put_get_head_delete_round_trip() {
    let mut sim = sim();
    for name in [
        "plain",
        "with space/and+plus",
        "ünïcødé/ключ",
        "a&b<c>'\"",
        "trailing/",
    ] {
        let data = format!("contents of {name}").into_bytes();
        let put = PutObject::new(bucket(), key(name), data.clone())
            .content_type("text/plain")
            .meta("Color", "blue")
            .meta("note", "grüße")
            .cache_control("no-cache")
            .content_md5();
        let etag = ok(&mut sim, &put).0.etag.unwrap();
        assert_eq!(etag, format!("\"{}\"", md5_hex(&data)), "{name}");
        assert_eq!(sim.object(BUCKET, name), Some(&data[..]));

        let (head, body) = ok(&mut sim, &GetObject::new(bucket(), key(name)));
        assert_eq!(body, data);
        assert_eq!(head.etag.as_deref(), Some(etag.as_str()));
        assert_eq!(head.content_type.as_deref(), Some("text/plain"));
        assert_eq!(head.content_length, Some(data.len() as u64));
        assert_eq!(head.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(head.metadata.get("color"), Some("blue"));
        assert_eq!(head.metadata.get("note"), Some("grüße"));
        assert_eq!(head.last_modified, Some(sim.now()));

        let (head, body) = ok(&mut sim, &HeadObject::new(bucket(), key(name)));
        assert!(body.is_empty());
        assert_eq!(head.content_length, Some(data.len() as u64));

        ok(&mut sim, &DeleteObject::new(bucket(), key(name)));
        assert_eq!(sim.object(BUCKET, name), None);
        let e = service_error(&mut sim, &GetObject::new(bucket(), key(name)));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::NOT_FOUND, ErrorCode::NoSuchKey)
        );
        assert_eq!(e.key.as_deref(), Some(name));
        // HEAD's 404 has no body: the code comes from the status.
        let e = send(
            &mut sim,
            &config(),
            &HeadObject::new(bucket(), key(name)),
            None,
        );
        assert!(e.unwrap_err().is_not_found());
        // Deleting what is gone still succeeds.
        ok(&mut sim, &DeleteObject::new(bucket(), key(name)));
    }
    assert_eq!(sim.requests(OpKind::PutObject), 5);
    assert_eq!(sim.requests(OpKind::GetObject), 10);
}

#[test]
fn put_checks_digest_length_and_preconditions() {
    let mut sim = sim();
    let wrong =
        PutObject::new(bucket(), key("k"), "data").content_md5_value("XUFAKrxLKna5cZ2REBfFkg==");
    let e = service_error(&mut sim, &wrong);
    assert_eq!(
        (e.status, e.code),
        (StatusCode::BAD_REQUEST, ErrorCode::BadDigest)
    );
    let garbage = PutObject::new(bucket(), key("k"), "data").content_md5_value("not base64");
    assert_eq!(
        service_error(&mut sim, &garbage).code,
        ErrorCode::InvalidDigest
    );
    assert_eq!(sim.object(BUCKET, "k"), None);

    ok(
        &mut sim,
        &PutObject::new(bucket(), key("k"), "first").if_none_match_any(),
    );
    let e = service_error(
        &mut sim,
        &PutObject::new(bucket(), key("k"), "second").if_none_match_any(),
    );
    assert_eq!(
        (e.status, e.code),
        (
            StatusCode::PRECONDITION_FAILED,
            ErrorCode::PreconditionFailed
        )
    );
    assert_eq!(sim.object(BUCKET, "k"), Some(&b"first"[..]));

    let missing = PutObject::new(BucketName::new("nope").unwrap(), key("k"), "x");
    assert_eq!(
        service_error(&mut sim, &missing).code,
        ErrorCode::NoSuchBucket
    );

    // A body shorter than its Content-Length, or a PUT without one.
    let mut short = raw(Method::PUT, "/bucket/k2", b"abc");
    short.headers_mut().insert("content-length", 10.into());
    assert_eq!(
        raw_error(sim.exchange(short)).code.as_str(),
        "IncompleteBody"
    );
    let mut no_length = raw(Method::PUT, "/bucket/k2", b"abc");
    no_length.headers_mut().remove("content-length");
    let e = raw_error(sim.exchange(no_length));
    assert_eq!(
        (e.status, e.code),
        (StatusCode::LENGTH_REQUIRED, ErrorCode::MissingContentLength)
    );
    // A payload hash that does not match the body.
    let mut tampered = config()
        .prepare(
            &PutObject::new(bucket(), key("k3"), "signed body"),
            &sim::credentials(),
            sim.now(),
        )
        .unwrap()
        .map(|_| b"other body!".to_vec());
    tampered.headers_mut().insert("content-length", 11.into());
    let e = raw_error(sim.exchange(tampered));
    assert_eq!(e.code, ErrorCode::XAmzContentSHA256Mismatch);
}

#[test]
fn streamed_bodies_and_aws_chunked_framing() {
    use s3_proto::sign::chunked::{CHUNK_TRAILER, MIN_CHUNK_SIZE};
    let mut sim = sim();
    // A Body::Stream: the driver takes the bytes from the test, checking the length.
    let data = vec![7u8; 100];
    let put = PutObject::new(
        bucket(),
        key("streamed"),
        s3_proto::Body::Stream { length: Some(100) },
    );
    send(&mut sim, &config(), &put, Some(&data)).unwrap();
    assert_eq!(sim.object(BUCKET, "streamed"), Some(&data[..]));
    let e = send(&mut sim, &config(), &put, Some(&data[..99])).unwrap_err();
    assert!(
        matches!(&e, Error::Transport(t) if t.kind() == TransportErrorKind::Body),
        "{e}"
    );
    assert!(send(&mut sim, &config(), &put, None).is_err());

    // aws-chunked: framed as a runtime frames it; stored without the framing.
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let op = PutObject::new(
        bucket(),
        key("chunked"),
        s3_proto::Body::Stream { length: None },
    )
    .content_type("application/x-test");
    let (req, mut signer) = config()
        .prepare_streaming(
            &op,
            &sim::credentials(),
            sim.now(),
            data.len() as u64,
            MIN_CHUNK_SIZE,
        )
        .unwrap();
    let mut framed = Vec::new();
    let mut rest = &data[..];
    while let Some(len) = signer.next_chunk_len() {
        let (chunk, tail) = rest.split_at(len);
        framed.extend_from_slice(signer.frame_header(chunk).unwrap().as_bytes());
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(CHUNK_TRAILER.as_bytes());
        rest = tail;
    }
    framed.extend_from_slice(signer.finish().unwrap().as_bytes());
    let mut req = req.map(|_| framed);
    let len = req.body().len();
    req.headers_mut().insert("content-length", len.into());
    let reply = sim.exchange(req);
    assert_eq!(reply.status(), Some(StatusCode::OK), "{reply:?}");
    assert_eq!(sim.object(BUCKET, "chunked"), Some(&data[..]));
    let stored = sim.stored(BUCKET, "chunked").unwrap();
    assert_eq!(stored.etag, format!("\"{}\"", md5_hex(&data)));
    assert!(
        !stored
            .attributes
            .content_headers
            .contains_key("content-encoding")
    );
}

#[test]
fn ranges() {
    let mut sim = sim();
    let data: Vec<u8> = (0u8..100).collect();
    sim.put_object(BUCKET, "k", &data);
    let get = |r| GetObject::new(bucket(), key("k")).range(r);
    let cases = [
        (ByteRange::inclusive(2, 5).unwrap(), 2..6),
        (ByteRange::From(97), 97..100),
        (ByteRange::Suffix(3), 97..100),
        (ByteRange::Suffix(500), 0..100),
        (ByteRange::inclusive(90, 1000).unwrap(), 90..100),
        (ByteRange::inclusive(0, 0).unwrap(), 0..1),
    ];
    for (range, expected) in cases {
        let (head, body) = ok(&mut sim, &get(range));
        assert_eq!(body, &data[expected.clone()], "{range}");
        let cr = head.content_range.unwrap();
        assert_eq!(
            (cr.first, cr.last + 1, cr.total),
            (expected.start as u64, expected.end as u64, Some(100))
        );
        assert_eq!(head.object_size(), Some(100));
    }
    for unsatisfiable in [ByteRange::From(100), ByteRange::Suffix(0)] {
        let e = service_error(&mut sim, &get(unsatisfiable));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::RANGE_NOT_SATISFIABLE, ErrorCode::InvalidRange)
        );
    }
    sim.put_object(BUCKET, "empty", b"");
    let e = service_error(
        &mut sim,
        &GetObject::new(bucket(), key("empty")).range(ByteRange::From(0)),
    );
    assert_eq!(e.code, ErrorCode::InvalidRange);
    let (head, body) = ok(&mut sim, &GetObject::new(bucket(), key("empty")));
    assert_eq!((head.content_length, body.len()), (Some(0), 0));
    // Versioning is not simulated: only the `null` version exists.
    let v = GetObject::new(bucket(), key("k")).version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
    let e = service_error(&mut sim, &v);
    assert_eq!(
        (e.status, e.code.as_str()),
        (StatusCode::NOT_FOUND, "NoSuchVersion")
    );
    ok(
        &mut sim,
        &GetObject::new(bucket(), key("k")).version_id("null"),
    );
    // A range on HEAD reports the range's length.
    let (head, _) = ok(
        &mut sim,
        &HeadObject::new(bucket(), key("k")).range(ByteRange::Suffix(10)),
    );
    assert_eq!(head.content_length, Some(10));
}

#[test]
fn conditional_gets_and_a_concurrent_overwrite() {
    let mut sim = sim();
    let etag = sim.put_object(BUCKET, "k", b"version one");
    let modified = sim.now();
    let get = || GetObject::new(bucket(), key("k"));
    assert_eq!(
        ok(&mut sim, &get().if_match(etag.clone())).1,
        b"version one"
    );
    assert_eq!(ok(&mut sim, &get().if_match("*")).1, b"version one");
    let e = service_error(&mut sim, &get().if_match("\"0123\""));
    assert_eq!(
        (e.status, e.code),
        (
            StatusCode::PRECONDITION_FAILED,
            ErrorCode::PreconditionFailed
        )
    );
    let e = service_error(&mut sim, &get().if_none_match(etag.clone()));
    assert_eq!(
        (e.status, e.code),
        (StatusCode::NOT_MODIFIED, ErrorCode::NotModified)
    );
    let e = service_error(&mut sim, &get().if_modified_since(modified));
    assert_eq!(e.code, ErrorCode::NotModified);
    let e = service_error(
        &mut sim,
        &get().if_unmodified_since(modified - Duration::from_secs(1)),
    );
    assert_eq!(e.code, ErrorCode::PreconditionFailed);
    // If-Match true makes If-Unmodified-Since irrelevant (RFC 9110 order, as S3 documents).
    let both = get()
        .if_match(etag.clone())
        .if_unmodified_since(modified - Duration::from_secs(1));
    ok(&mut sim, &both);
    let head = send(
        &mut sim,
        &config(),
        &HeadObject::new(bucket(), key("k")).if_match("\"x\""),
        None,
    );
    assert_eq!(
        head.unwrap_err().code(),
        Some(&ErrorCode::PreconditionFailed)
    );

    // Someone overwrites the key just before the 2nd GET that follows: a reader pinned to
    // the first ETag must see 412, not a mix of versions.
    sim.advance(Duration::from_secs(60));
    sim.set_faults(FaultPlan::new().nth(
        2,
        Match::op(OpKind::GetObject).key("k"),
        Fault::Overwrite(b"version two".to_vec()),
    ));
    let first = ok(
        &mut sim,
        &get()
            .range(ByteRange::inclusive(0, 6).unwrap())
            .if_match(etag.clone()),
    );
    assert_eq!(first.1, b"version");
    let e = service_error(
        &mut sim,
        &get().range(ByteRange::From(7)).if_match(etag.clone()),
    );
    assert_eq!(e.code, ErrorCode::PreconditionFailed);
    assert_eq!(sim.object(BUCKET, "k"), Some(&b"version two"[..]));
    let (head, body) = ok(&mut sim, &get().if_modified_since(modified));
    assert_eq!(body, b"version two");
    assert_ne!(head.etag.as_deref(), Some(etag.as_str()));
    assert_eq!(sim.faults_injected(FaultKind::Overwrite), 1);
}

#[test]
fn copy_object_directives() {
    let mut sim = sim();
    let src = PutObject::new(bucket(), key("src"), "copy me")
        .content_type("text/plain")
        .meta("origin", "source");
    let src_etag = ok(&mut sim, &src).0.etag.unwrap();
    sim.advance(Duration::from_secs(5));

    let copy = CopyObject::new(bucket(), key("src"), bucket(), key("dst copy"));
    let out = ok(&mut sim, &copy).0;
    assert_eq!(out.etag.as_deref(), Some(src_etag.as_str()));
    assert_eq!(out.last_modified, Some(sim.now()));
    let head = ok(&mut sim, &HeadObject::new(bucket(), key("dst copy"))).0;
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));
    assert_eq!(head.metadata.get("origin"), Some("source"));

    let replace = CopyObject::new(bucket(), key("src"), bucket(), key("dst2"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .meta("origin", "replaced");
    ok(&mut sim, &replace);
    let head = ok(&mut sim, &HeadObject::new(bucket(), key("dst2"))).0;
    assert_eq!(head.content_type.as_deref(), Some("application/json"));
    assert_eq!(head.metadata.get("origin"), Some("replaced"));
    assert_eq!(sim.object(BUCKET, "dst2"), Some(&b"copy me"[..]));

    let onto_itself = CopyObject::new(bucket(), key("src"), bucket(), key("src"));
    assert_eq!(
        service_error(&mut sim, &onto_itself).code,
        ErrorCode::InvalidRequest
    );
    let missing = CopyObject::new(bucket(), key("nope"), bucket(), key("dst3"));
    assert_eq!(service_error(&mut sim, &missing).code, ErrorCode::NoSuchKey);
    let stale = CopyObject::new(bucket(), key("src"), bucket(), key("dst3"))
        .copy_source_if_match("\"old\"");
    assert_eq!(
        service_error(&mut sim, &stale).code,
        ErrorCode::PreconditionFailed
    );
    assert_eq!(sim.object(BUCKET, "dst3"), None);
}

#[test]
fn delete_objects_loud_quiet_and_too_many() {
    let mut sim = sim();
    for k in ["a", "b", "c"] {
        sim.put_object(BUCKET, k, k.as_bytes());
    }
    let out = ok(
        &mut sim,
        &DeleteObjects::new(bucket(), [key("a"), key("b"), key("never")]),
    )
    .0;
    let deleted: Vec<_> = out.deleted.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(deleted, ["a", "b", "never"]);
    assert!(out.errors.is_empty());
    assert_eq!(sim.keys(BUCKET), ["c"]);
    let quiet = ok(
        &mut sim,
        &DeleteObjects::new(bucket(), [key("c")]).quiet(true),
    )
    .0;
    assert!(quiet.deleted.is_empty() && quiet.errors.is_empty());
    assert!(sim.keys(BUCKET).is_empty());

    // The client refuses 1001 keys itself; the server does too.
    let mut doc = String::from("<Delete>");
    for i in 0..1001 {
        doc.push_str(&format!("<Object><Key>k{i}</Key></Object>"));
    }
    doc.push_str("</Delete>");
    let mut req = raw(Method::POST, "/bucket?delete", doc.as_bytes());
    let md5 = s3_proto::sign::content_md5(doc.as_bytes());
    req.headers_mut()
        .insert("content-md5", md5.parse().unwrap());
    assert_eq!(raw_error(sim.exchange(req)).code, ErrorCode::MalformedXML);
    // Without a Content-MD5, S3 refuses a DeleteObjects.
    let unsigned = raw(
        Method::POST,
        "/bucket?delete",
        b"<Delete><Object><Key>x</Key></Object></Delete>",
    );
    assert_eq!(
        raw_error(sim.exchange(unsigned)).code,
        ErrorCode::InvalidRequest
    );
}

// --- Listings ---

#[test]
fn list_objects_v2_pages_over_many_keys() {
    let mut sim = sim();
    let mut keys: Vec<String> = (0..57).map(|i| format!("logs/{i:03}.txt")).collect();
    keys.extend(["a", "logs/sub/x", "logs/sub/y", "z z+z"].map(String::from));
    for k in &keys {
        sim.put_object(BUCKET, k, k.as_bytes());
    }
    keys.sort();

    let pages = all_pages(&mut sim, ListObjectsV2::new(bucket()).max_keys(5));
    assert_eq!(pages.len(), 13);
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|p| p.contents.iter().map(|o| o.key.clone()))
        .collect();
    assert_eq!(listed, keys);
    assert!(
        pages[..12]
            .iter()
            .all(|p| p.is_truncated && p.key_count == Some(5))
    );
    let first = &pages[0].contents[0];
    assert_eq!(
        (first.size, first.etag.clone()),
        (1, Some(format!("\"{}\"", md5_hex(b"a"))))
    );
    assert_eq!(first.last_modified, Some(sim.now()));
    assert!(first.owner.is_none());

    // Prefix and delimiter: folders count towards the page size.
    let pages = all_pages(
        &mut sim,
        ListObjectsV2::new(bucket())
            .prefix("logs/")
            .delimiter("/")
            .max_keys(10),
    );
    let prefixes: Vec<_> = pages
        .iter()
        .flat_map(|p| p.common_prefixes.clone())
        .collect();
    assert_eq!(prefixes, ["logs/sub/"]);
    assert_eq!(pages.iter().map(|p| p.contents.len()).sum::<usize>(), 57);
    assert_eq!(pages.len(), 6);

    let top = ok(&mut sim, &ListObjectsV2::new(bucket()).delimiter("/")).0;
    assert_eq!(top.common_prefixes, ["logs/"]);
    assert_eq!(top.contents.len(), 2);
    let after = ok(
        &mut sim,
        &ListObjectsV2::new(bucket())
            .start_after("logs/055.txt")
            .max_keys(3),
    )
    .0;
    let names: Vec<_> = after.contents.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(names, ["logs/056.txt", "logs/sub/x", "logs/sub/y"]);
    let owned = ok(
        &mut sim,
        &ListObjectsV2::new(bucket()).max_keys(1).fetch_owner(true),
    )
    .0;
    assert!(owned.contents[0].owner.is_some());
    // URL-encoded keys decode back.
    let encoded = ok(
        &mut sim,
        &ListObjectsV2::new(bucket())
            .prefix("z")
            .encoding_type_url(true),
    )
    .0;
    assert_eq!(encoded.contents[0].key, "z z+z");

    let bad = raw(
        Method::GET,
        "/bucket?list-type=2&continuation-token=bogus",
        b"",
    );
    assert_eq!(
        raw_error(sim.exchange(bad)).code,
        ErrorCode::InvalidArgument
    );
}

#[test]
fn list_objects_v1_pages_by_marker() {
    let mut sim = sim();
    for i in 0..23 {
        sim.put_object(BUCKET, &format!("k{i:02}"), b"x");
        sim.put_object(BUCKET, &format!("dir{i:02}/file"), b"x");
    }
    // Without a delimiter AWS sends no NextMarker; the client continues after the last key.
    let pages = all_pages(&mut sim, ListObjects::new(bucket()).max_keys(4));
    assert_eq!(pages.len(), 12);
    assert!(pages.iter().all(|p| p.next_marker.is_none()));
    assert_eq!(pages.iter().map(|p| p.contents.len()).sum::<usize>(), 46);
    assert!(pages[0].contents[0].owner.is_some());
    // With one, folders and keys page together and NextMarker leads.
    let pages = all_pages(
        &mut sim,
        ListObjects::new(bucket()).delimiter("/").max_keys(4),
    );
    assert_eq!(pages.len(), 12);
    assert!(pages[0].next_marker.is_some());
    let prefixes: usize = pages.iter().map(|p| p.common_prefixes.len()).sum();
    let keys: usize = pages.iter().map(|p| p.contents.len()).sum();
    assert_eq!((prefixes, keys), (23, 23));
}

// --- Multipart ---

/// Starts an upload of `k`; its id.
fn create_upload(sim: &mut Sim, k: &str) -> String {
    ok(sim, &CreateMultipartUpload::new(bucket(), key(k)))
        .0
        .upload_id
}

fn upload_part(sim: &mut Sim, k: &str, id: &str, n: u16, data: &[u8]) -> CompletedPart {
    let op = UploadPart::new(bucket(), key(k), id, n, data.to_vec()).content_md5();
    CompletedPart {
        part_number: n,
        etag: ok(sim, &op).0.etag,
    }
}

#[test]
fn multipart_upload_round_trip() {
    let mut sim = sim();
    let create = CreateMultipartUpload::new(bucket(), key("big file"))
        .content_type("video/mp4")
        .meta("camera", "left");
    let created = ok(&mut sim, &create).0;
    assert_eq!(
        (created.bucket.as_str(), created.key.as_str()),
        (BUCKET, "big file")
    );
    let id = created.upload_id;
    assert_eq!(sim.uploads_in_progress(BUCKET), 1);

    let chunks: [&[u8]; 3] = [b"part one!", b"part two!", b"end"];
    let mut parts: Vec<_> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| upload_part(&mut sim, "big file", &id, i as u16 + 1, c))
        .collect();
    assert_eq!(parts[0].etag, format!("\"{}\"", md5_hex(chunks[0])));
    // A part uploaded again replaces the first.
    parts[1] = upload_part(&mut sim, "big file", &id, 2, b"part 2 v2");

    let listed = all_pages(
        &mut sim,
        ListParts::new(bucket(), key("big file"), &id).max_parts(1),
    );
    assert_eq!(listed.len(), 3);
    let numbers: Vec<_> = listed
        .iter()
        .flat_map(|p| p.parts.iter().map(|p| p.part_number))
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(listed[1].parts[0].etag, parts[1].etag);
    assert_eq!(listed[1].parts[0].size, 9);

    let out = ok(
        &mut sim,
        &CompleteMultipartUpload::new(bucket(), key("big file"), &id, parts.clone()),
    )
    .0;
    let data = [&b"part one!"[..], b"part 2 v2", b"end"];
    let mut digests = Vec::new();
    for d in data {
        digests.extend_from_slice(&Md5::digest(d));
    }
    let expected = format!("\"{}-3\"", md5_hex(&digests));
    assert_eq!(out.etag.as_deref(), Some(expected.as_str()));
    assert_eq!(
        out.location.as_deref(),
        Some("http://127.0.0.1:9000/bucket/big%20file")
    );
    assert_eq!(sim.object(BUCKET, "big file"), Some(&data.concat()[..]));
    assert_eq!(sim.uploads_in_progress(BUCKET), 0);

    let head = ok(&mut sim, &HeadObject::new(bucket(), key("big file"))).0;
    assert!(head.is_multipart());
    assert_eq!(head.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(head.metadata.get("camera"), Some("left"));
    let (part, body) = ok(
        &mut sim,
        &GetObject::new(bucket(), key("big file")).part_number(2),
    );
    assert_eq!(body, b"part 2 v2");
    assert_eq!(part.parts_count, Some(3));
    assert_eq!(part.content_range.map(|r| (r.first, r.last)), Some((9, 17)));

    // The upload is gone: a repeated completion is NoSuchUpload (unless the sim is told
    // to behave as AWS does for a while after success).
    let again = CompleteMultipartUpload::new(bucket(), key("big file"), &id, parts.clone());
    assert_eq!(
        service_error(&mut sim, &again).code,
        ErrorCode::NoSuchUpload
    );
    let mut aws_like = sim.clone().repeat_complete(true);
    assert_eq!(
        ok(&mut aws_like, &again).0.etag.as_deref(),
        Some(expected.as_str())
    );
}

#[test]
fn multipart_completion_errors() {
    let mut sim = sim();
    let id = create_upload(&mut sim, "k");
    let small = upload_part(&mut sim, "k", &id, 1, b"tiny");
    let last = upload_part(&mut sim, "k", &id, 2, b"last part");
    let complete =
        |parts: Vec<CompletedPart>| CompleteMultipartUpload::new(bucket(), key("k"), &id, parts);

    let e = service_error(&mut sim, &complete(vec![small.clone(), last.clone()]));
    assert_eq!(
        (e.status, e.code),
        (StatusCode::BAD_REQUEST, ErrorCode::EntityTooSmall)
    );
    let mut wrong = last.clone();
    wrong.etag = "\"00000000000000000000000000000000\"".into();
    assert_eq!(
        service_error(&mut sim, &complete(vec![wrong])).code,
        ErrorCode::InvalidPart
    );
    let missing = CompletedPart {
        part_number: 7,
        etag: last.etag.clone(),
    };
    assert_eq!(
        service_error(&mut sim, &complete(vec![missing])).code,
        ErrorCode::InvalidPart
    );
    // The client sorts parts; a raw body out of order is InvalidPartOrder.
    let doc = format!(
        "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part>\
         <Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        last.etag, small.etag
    );
    let req = raw(
        Method::POST,
        &format!("/bucket/k?uploadId={id}"),
        doc.as_bytes(),
    );
    assert_eq!(
        raw_error(sim.exchange(req)).code,
        ErrorCode::InvalidPartOrder
    );
    let req = raw(
        Method::POST,
        &format!("/bucket/k?uploadId={id}"),
        b"<CompleteMultipartUpload>",
    );
    assert_eq!(raw_error(sim.exchange(req)).code, ErrorCode::MalformedXML);
    assert_eq!(sim.uploads_in_progress(BUCKET), 1);

    // Only the last part may be small: completing with part 2 alone works.
    ok(&mut sim, &complete(vec![last]));
    assert_eq!(sim.object(BUCKET, "k"), Some(&b"last part"[..]));

    // Unknown ids, and an id used with another key.
    let other = create_upload(&mut sim, "other");
    let part = UploadPart::new(bucket(), key("k"), &other, 1, "x");
    assert_eq!(service_error(&mut sim, &part).code, ErrorCode::NoSuchUpload);
    let part = UploadPart::new(bucket(), key("k"), "no-such-id", 1, "x");
    assert_eq!(service_error(&mut sim, &part).code, ErrorCode::NoSuchUpload);
    let bad_number = raw(
        Method::PUT,
        &format!("/bucket/other?uploadId={other}&partNumber=10001"),
        b"x",
    );
    assert_eq!(
        raw_error(sim.exchange(bad_number)).code,
        ErrorCode::InvalidArgument
    );
}

#[test]
fn abort_and_list_multipart_uploads() {
    let mut sim = sim();
    let mut started = Vec::new();
    for k in ["b/2", "a", "b/1", "a", "c", "b/1", "a"] {
        started.push((k.to_owned(), create_upload(&mut sim, k), sim.now()));
        sim.advance(Duration::from_secs(10));
    }
    assert_eq!(sim.uploads_in_progress(BUCKET), 7);
    let pages = all_pages(&mut sim, ListMultipartUploads::new(bucket()).max_uploads(2));
    assert_eq!(pages.len(), 4);
    let listed: Vec<_> = pages
        .iter()
        .flat_map(|p| {
            p.uploads
                .iter()
                .map(|u| (u.key.clone(), u.upload_id.clone(), u.initiated.unwrap()))
        })
        .collect();
    let mut expected = started.clone();
    // By key, then by initiation.
    expected.sort_by(|x, y| (&x.0, x.2).cmp(&(&y.0, y.2)));
    assert_eq!(listed, expected);

    let b = ok(&mut sim, &ListMultipartUploads::new(bucket()).prefix("b/")).0;
    assert_eq!(b.uploads.len(), 3);
    let folders = ok(
        &mut sim,
        &ListMultipartUploads::new(bucket()).delimiter("/"),
    )
    .0;
    assert_eq!(folders.common_prefixes, ["b/"]);
    assert_eq!(folders.uploads.len(), 4);

    for (k, id, _) in &started {
        ok(&mut sim, &AbortMultipartUpload::new(bucket(), key(k), id));
    }
    assert_eq!(sim.uploads_in_progress(BUCKET), 0);
    let (k, id, _) = &started[0];
    let e = service_error(&mut sim, &AbortMultipartUpload::new(bucket(), key(k), id));
    assert_eq!(
        (e.status, e.code),
        (StatusCode::NOT_FOUND, ErrorCode::NoSuchUpload)
    );
    let e = service_error(&mut sim, &ListParts::new(bucket(), key(k), id));
    assert_eq!(e.code, ErrorCode::NoSuchUpload);
    assert!(
        ok(&mut sim, &ListMultipartUploads::new(bucket()))
            .0
            .uploads
            .is_empty()
    );
}

#[test]
fn upload_part_copy_ranges() {
    let mut sim = sim();
    let source: Vec<u8> = (0u8..20).collect();
    let src_etag = sim.put_object(BUCKET, "src", &source);
    let id = create_upload(&mut sim, "dst");
    let copy = |n, first, last| {
        UploadPartCopy::new(bucket(), key("src"), bucket(), key("dst"), &id, n)
            .range(first, last)
            .unwrap()
            .copy_source_if_match(src_etag.clone())
    };
    let mut parts = Vec::new();
    for (n, (first, last)) in [(1, (0, 9)), (2, (10, 19))] {
        let out = ok(&mut sim, &copy(n, first, last)).0;
        assert_eq!(
            out.etag,
            format!("\"{}\"", md5_hex(&source[first as usize..=last as usize]))
        );
        assert_eq!(out.last_modified, Some(sim.now()));
        parts.push(CompletedPart {
            part_number: n,
            etag: out.etag,
        });
    }
    let e = service_error(&mut sim, &copy(3, 15, 20));
    assert_eq!(
        (e.status, e.code),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidArgument)
    );
    let stale = UploadPartCopy::new(bucket(), key("src"), bucket(), key("dst"), &id, 3)
        .copy_source_if_match("\"old\"");
    assert_eq!(
        service_error(&mut sim, &stale).code,
        ErrorCode::PreconditionFailed
    );
    // Without a range, the whole source.
    let whole = UploadPartCopy::new(bucket(), key("src"), bucket(), key("dst"), &id, 3);
    parts.push(CompletedPart {
        part_number: 3,
        etag: ok(&mut sim, &whole).0.etag,
    });

    ok(
        &mut sim,
        &CompleteMultipartUpload::new(bucket(), key("dst"), &id, parts),
    );
    assert_eq!(
        sim.object(BUCKET, "dst"),
        Some(&[&source[..], &source[..]].concat()[..])
    );
}

// --- Faults through the driver ---

#[test]
fn server_errors_are_not_applied() {
    let plan = FaultPlan::new()
        .first(2, Match::op(OpKind::PutObject), Fault::SlowDown)
        .nth(3, Match::op(OpKind::PutObject), Fault::InternalError)
        .nth(
            4,
            Match::op(OpKind::PutObject),
            Fault::error(403, "AccessDenied"),
        );
    let mut sim = sim().faults(plan);
    let put = PutObject::new(bucket(), key("k"), "v");
    for (status, code) in [
        (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SlowDown),
        (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SlowDown),
        (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError),
        (StatusCode::FORBIDDEN, ErrorCode::AccessDenied),
    ] {
        let e = service_error(&mut sim, &put);
        assert_eq!((e.status, &e.code), (status, &code));
        assert!(e.request_id.is_some());
        assert_eq!(sim.object(BUCKET, "k"), None);
    }
    ok(&mut sim, &put);
    assert_eq!(sim.object(BUCKET, "k"), Some(&b"v"[..]));
    assert_eq!(sim.requests(OpKind::PutObject), 5);
    assert_eq!(sim.faults_injected(FaultKind::SlowDown), 2);
    assert_eq!(sim.total_faults(), 4);
    let faults: Vec<_> = sim.log().iter().map(|l| l.fault).collect();
    assert_eq!(
        faults,
        [
            Some(FaultKind::SlowDown),
            Some(FaultKind::SlowDown),
            Some(FaultKind::InternalError),
            Some(FaultKind::Error),
            None
        ]
    );
}

#[test]
fn errors_in_200_for_complete_and_copies() {
    let plan = FaultPlan::new()
        .nth(
            1,
            Match::op(OpKind::CompleteMultipartUpload),
            Fault::ErrorIn200,
        )
        .nth(1, Match::op(OpKind::CopyObject), Fault::ErrorIn200)
        .nth(1, Match::op(OpKind::UploadPartCopy), Fault::ErrorIn200)
        .nth(1, Match::op(OpKind::HeadObject), Fault::ErrorIn200);
    let mut sim = sim().faults(plan);
    sim.put_object(BUCKET, "src", b"source data");
    let id = create_upload(&mut sim, "k");
    let part = upload_part(&mut sim, "k", &id, 1, b"only part");
    let complete = CompleteMultipartUpload::new(bucket(), key("k"), &id, [part]);
    let e = send(&mut sim, &config(), &complete, None).unwrap_err();
    assert!(e.is_retryable() && !e.reply_lost(), "{e}");
    let e = e.as_service().unwrap();
    assert_eq!(
        (e.status, &e.code),
        (StatusCode::OK, &ErrorCode::InternalError)
    );
    assert_eq!(sim.uploads_in_progress(BUCKET), 1, "not applied");
    ok(&mut sim, &complete);
    assert_eq!(sim.uploads_in_progress(BUCKET), 0);

    let copy = CopyObject::new(bucket(), key("src"), bucket(), key("dst"));
    assert_eq!(service_error(&mut sim, &copy).status, StatusCode::OK);
    assert_eq!(sim.object(BUCKET, "dst"), None);
    ok(&mut sim, &copy);
    assert_eq!(sim.object(BUCKET, "dst"), Some(&b"source data"[..]));

    let id = create_upload(&mut sim, "k2");
    let part_copy = UploadPartCopy::new(bucket(), key("src"), bucket(), key("k2"), &id, 1);
    assert_eq!(service_error(&mut sim, &part_copy).status, StatusCode::OK);
    ok(&mut sim, &part_copy);
    // Where S3 never sends a 200 error, the fault is a plain 500.
    let e = send(
        &mut sim,
        &config(),
        &HeadObject::new(bucket(), key("src")),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.as_service().map(|e| e.status),
        Some(StatusCode::INTERNAL_SERVER_ERROR)
    );
    assert_eq!(sim.faults_injected(FaultKind::ErrorIn200), 4);
}

#[test]
fn lost_replies_are_applied_refused_ones_are_not() {
    let plan = FaultPlan::new()
        .nth(1, Match::op(OpKind::PutObject), Fault::Lost)
        .nth(2, Match::op(OpKind::PutObject), Fault::Refused)
        .nth(1, Match::op(OpKind::CreateMultipartUpload), Fault::Lost)
        .nth(1, Match::op(OpKind::DeleteObject), Fault::reset());
    let mut sim = sim().faults(plan);
    let e = send(
        &mut sim,
        &config(),
        &PutObject::new(bucket(), key("lost"), "v"),
        None,
    )
    .unwrap_err();
    assert!(matches!(&e, Error::Transport(t) if t.kind() == TransportErrorKind::Io));
    assert!(e.reply_lost() && e.is_retryable());
    assert_eq!(sim.object(BUCKET, "lost"), Some(&b"v"[..]));

    let e = send(
        &mut sim,
        &config(),
        &PutObject::new(bucket(), key("refused"), "v"),
        None,
    )
    .unwrap_err();
    assert!(matches!(&e, Error::Transport(t) if t.kind() == TransportErrorKind::Connect));
    assert!(!e.reply_lost() && e.is_retryable());
    assert_eq!(sim.object(BUCKET, "refused"), None);

    // A lost CreateMultipartUpload leaves an orphan the client never heard of.
    let kind = transport_error(&mut sim, &CreateMultipartUpload::new(bucket(), key("big")));
    assert_eq!(kind, TransportErrorKind::Io);
    assert_eq!(sim.uploads_in_progress(BUCKET), 1);

    // A reset on a bodyless reply (204) is a lost reply.
    assert_eq!(
        transport_error(&mut sim, &DeleteObject::new(bucket(), key("lost"))),
        TransportErrorKind::Io
    );
    assert_eq!(sim.object(BUCKET, "lost"), None);
    assert_eq!(sim.faults_injected(FaultKind::Reset), 1);
    assert_eq!(sim.log().last().and_then(|l| l.status), None);
}

#[test]
fn resets_and_stalls_cut_bodies() {
    let data: Vec<u8> = (0..=255).collect();
    let plan = FaultPlan::new()
        .nth(
            1,
            Match::op(OpKind::GetObject),
            Fault::Reset { after: Some(100) },
        )
        .nth(
            2,
            Match::op(OpKind::GetObject).header("range"),
            Fault::stall(),
        )
        .nth(1, Match::op(OpKind::ListObjectsV2), Fault::reset())
        .nth(
            1,
            Match::op(OpKind::HeadObject),
            Fault::Stall { after: None },
        );
    let mut sim = sim().faults(plan);
    sim.put_object(BUCKET, "k", &data);

    // A streamed GET: headers parsed, 100 bytes delivered, then Truncated.
    let got = send_streamed(
        &mut sim,
        &config(),
        &GetObject::new(bucket(), key("k")),
        None,
    );
    let head = got.head.unwrap();
    assert_eq!(head.content_length, Some(256));
    assert_eq!(got.body, &data[..100]);
    let broken = got.broken.unwrap();
    assert!(matches!(&broken, Error::Transport(t) if t.kind() == TransportErrorKind::Truncated));
    assert!(broken.is_retryable());

    // The resume asks for the rest; the 1st ranged GET goes through, the 2nd stalls in the
    // middle of its body (a scripted cut without a point is the middle).
    let rest = GetObject::new(bucket(), key("k")).range(ByteRange::From(100));
    assert_eq!(ok(&mut sim, &rest).1, &data[100..]);
    let before = sim.now();
    let stalled = send_streamed(&mut sim, &config(), &rest, None);
    assert!(stalled.head.is_ok());
    assert_eq!(stalled.body, &data[100..178]);
    assert!(
        matches!(stalled.broken, Some(Error::Transport(t)) if t.kind() == TransportErrorKind::Timeout)
    );
    assert_eq!(sim.now(), before + STALL_TIMEOUT);

    // A buffered reply cut short fails as a whole.
    let kind = transport_error(&mut sim, &ListObjectsV2::new(bucket()));
    assert_eq!(kind, TransportErrorKind::Truncated);
    assert_eq!(
        transport_error(&mut sim, &HeadObject::new(bucket(), key("k"))),
        TransportErrorKind::Timeout
    );
    ok(&mut sim, &ListObjectsV2::new(bucket()));
}

#[test]
fn matchers_select_requests() {
    let plan = FaultPlan::new()
        .nth(
            2,
            Match::op(OpKind::UploadPart).query_eq("partNumber", "2"),
            Fault::Lost,
        )
        .every(
            Match::any().method(Method::DELETE).key("keep"),
            Fault::Refused,
        )
        .window(
            2,
            Some(2),
            Match::op(OpKind::GetObject).bucket(BUCKET),
            Fault::Delay(Duration::from_secs(7)),
        );
    let mut sim = sim().faults(plan);
    let id = create_upload(&mut sim, "k");
    upload_part(&mut sim, "k", &id, 1, b"part one");
    upload_part(&mut sim, "k", &id, 2, b"part two");
    upload_part(&mut sim, "k", &id, 1, b"part one");
    let op = UploadPart::new(bucket(), key("k"), &id, 2, "part two");
    assert_eq!(transport_error(&mut sim, &op), TransportErrorKind::Io);
    upload_part(&mut sim, "k", &id, 2, b"part two");
    assert_eq!(sim.faults_injected(FaultKind::Lost), 1);
    assert_eq!(sim.requests(OpKind::UploadPart), 5);

    sim.put_object(BUCKET, "keep", b"x");
    for _ in 0..3 {
        let kind = transport_error(&mut sim, &DeleteObject::new(bucket(), key("keep")));
        assert_eq!(kind, TransportErrorKind::Connect);
    }
    assert!(sim.object(BUCKET, "keep").is_some());

    let start = sim.now();
    for _ in 0..4 {
        ok(&mut sim, &GetObject::new(bucket(), key("keep")));
    }
    assert_eq!(sim.now(), start + Duration::from_secs(14));
    assert_eq!(sim.faults_injected(FaultKind::Delay), 2);
}

#[test]
fn latency_moves_the_clock() {
    let mut sim = sim().latency(Duration::from_millis(250));
    let start = sim.now();
    for _ in 0..4 {
        ok(&mut sim, &HeadBucket::new(bucket()));
    }
    assert_eq!(sim.now(), start + Duration::from_secs(1));
    // Signed at the virtual time: the Date header of the reply and X-Amz-Date agree.
    let logged = &sim.log()[3];
    let amz_date = logged.headers["x-amz-date"].to_str().unwrap();
    assert!(amz_date.starts_with("20231114T2213"), "{amz_date}");
}

#[test]
fn random_schedules_are_deterministic() {
    let run = |seed| {
        let mut sim = sim().faults(FaultPlan::random(seed, 0.4));
        for i in 0..60 {
            let k = format!("k{}", i % 7);
            let _ = send(
                &mut sim,
                &config(),
                &PutObject::new(bucket(), key(&k), vec![i as u8; 64]),
                None,
            );
            let _ = send(
                &mut sim,
                &config(),
                &GetObject::new(bucket(), key(&k)),
                None,
            );
        }
        let faults: Vec<_> = sim.log().iter().map(|l| l.fault).collect();
        (faults, sim.keys(BUCKET).len())
    };
    let (a, _) = run(7);
    assert_eq!(run(7).0, a);
    assert_ne!(run(8).0, a);
    let injected = a.iter().flatten().count();
    assert!((20..=70).contains(&injected), "{injected} of 120");
    let kinds: std::collections::BTreeSet<_> = a.iter().flatten().collect();
    assert!(kinds.len() >= 5, "{kinds:?}");
    assert!(
        !kinds.contains(&FaultKind::ErrorIn200),
        "PutObject and GetObject never get it"
    );
    let mut none = sim().faults(FaultPlan::random(1, 0.0));
    ok(&mut none, &ListObjectsV2::new(bucket()));
    assert_eq!(none.total_faults(), 0);
}

#[test]
fn malformed_requests_get_s3_errors() {
    let mut sim = sim();
    let cases: [(Method, &str, &[u8], StatusCode, &str); 9] = [
        (
            Method::GET,
            "/bucket/%zz",
            b"",
            StatusCode::BAD_REQUEST,
            "InvalidURI",
        ),
        (
            Method::GET,
            "/bucket/%C3%28",
            b"",
            StatusCode::BAD_REQUEST,
            "InvalidURI",
        ),
        (
            Method::PATCH,
            "/bucket/k",
            b"",
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
        ),
        (
            Method::GET,
            "/bucket?acl",
            b"",
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
        ),
        (
            Method::PUT,
            "/Bad_Name",
            b"",
            StatusCode::BAD_REQUEST,
            "InvalidBucketName",
        ),
        (
            Method::PUT,
            "/newbucket",
            b"<nope",
            StatusCode::BAD_REQUEST,
            "MalformedXML",
        ),
        (
            Method::GET,
            "/bucket?max-keys=lots",
            b"",
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            Method::GET,
            "/bucket?encoding-type=base64",
            b"",
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
        ),
        (
            Method::POST,
            "/bucket/k?uploadId=x",
            b"<a/>",
            StatusCode::BAD_REQUEST,
            "MalformedXML",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let e = raw_error(sim.exchange(raw(method, path, body)));
        assert_eq!((e.status, e.code.as_str()), (status, code), "{path}");
    }
    assert_eq!(sim.requests(OpKind::Invalid), 2);
    assert!(!sim.bucket_exists("newbucket"));
}

// --- Never a panic ---

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// One client action, over a few keys and one upload slot so actions collide.
    #[derive(Debug, Clone)]
    enum Action {
        Put(u8, Vec<u8>),
        Get(u8, Option<(u8, u8)>),
        Head(u8),
        Delete(u8),
        DeleteMany(Vec<u8>),
        Copy(u8, u8),
        List(u32),
        Create(u8),
        Part(u16, Vec<u8>),
        PartCopy(u16, u8),
        Complete,
        Abort,
        ListUploads(u32),
        ListParts(u32),
        Advance(u16),
    }

    fn action() -> impl Strategy<Value = Action> {
        let k = 0u8..4;
        let bytes = proptest::collection::vec(any::<u8>(), 0..24);
        prop_oneof![
            (k.clone(), bytes.clone()).prop_map(|(k, b)| Action::Put(k, b)),
            (k.clone(), proptest::option::of((0u8..30, 0u8..30)))
                .prop_map(|(k, r)| Action::Get(k, r)),
            k.clone().prop_map(Action::Head),
            k.clone().prop_map(Action::Delete),
            proptest::collection::vec(0u8..4, 1..4).prop_map(Action::DeleteMany),
            (k.clone(), k.clone()).prop_map(|(a, b)| Action::Copy(a, b)),
            (1u32..4).prop_map(Action::List),
            k.clone().prop_map(Action::Create),
            (1u16..4, bytes).prop_map(|(n, b)| Action::Part(n, b)),
            (1u16..4, k).prop_map(|(n, k)| Action::PartCopy(n, k)),
            Just(Action::Complete),
            Just(Action::Abort),
            (1u32..3).prop_map(Action::ListUploads),
            (1u32..3).prop_map(Action::ListParts),
            any::<u16>().prop_map(Action::Advance),
        ]
    }

    /// The client's side of the run: the current upload and the parts it heard back.
    #[derive(Default)]
    struct Client {
        upload: Option<(String, String)>,
        parts: std::collections::BTreeMap<u16, String>,
    }

    fn k(i: u8) -> ObjectKey {
        key(&format!("key{i}"))
    }

    fn step(sim: &mut Sim, client: &mut Client, action: Action) {
        let c = config();
        match action {
            Action::Put(i, data) => {
                let put = PutObject::new(bucket(), k(i), data.clone()).content_md5();
                if send(sim, &c, &put, None).is_ok() {
                    assert_eq!(sim.object(BUCKET, &format!("key{i}")), Some(&data[..]));
                }
            }
            Action::Get(i, range) => {
                let mut get = GetObject::new(bucket(), k(i));
                if let Some((a, b)) = range {
                    get =
                        get.range(ByteRange::inclusive(a.min(b).into(), a.max(b).into()).unwrap());
                }
                if let Ok((head, body)) = send(sim, &c, &get, None) {
                    assert_eq!(head.content_length, Some(body.len() as u64));
                }
            }
            Action::Head(i) => drop(send(sim, &c, &HeadObject::new(bucket(), k(i)), None)),
            Action::Delete(i) => drop(send(sim, &c, &DeleteObject::new(bucket(), k(i)), None)),
            Action::DeleteMany(keys) => {
                drop(send(
                    sim,
                    &c,
                    &DeleteObjects::new(bucket(), keys.into_iter().map(k)),
                    None,
                ));
            }
            Action::Copy(a, b) => {
                let copy = CopyObject::new(bucket(), k(a), bucket(), k(b))
                    .metadata_directive(MetadataDirective::Replace);
                drop(send(sim, &c, &copy, None));
            }
            Action::List(max) => {
                let mut pages = Pages::new(ListObjectsV2::new(bucket()).max_keys(max));
                while let Some(op) = pages.next_op() {
                    match send(sim, &c, op, None) {
                        Ok((page, _)) => pages.handle(&page).unwrap(),
                        Err(_) => break,
                    }
                }
            }
            Action::Create(i) => {
                if let Ok((out, _)) =
                    send(sim, &c, &CreateMultipartUpload::new(bucket(), k(i)), None)
                {
                    client.upload = Some((format!("key{i}"), out.upload_id));
                    client.parts.clear();
                }
            }
            Action::Part(n, data) => {
                if let Some((key_name, id)) = &client.upload {
                    let op = UploadPart::new(bucket(), key(key_name), id, n, data).content_md5();
                    if let Ok((out, _)) = send(sim, &c, &op, None) {
                        client.parts.insert(n, out.etag);
                    }
                }
            }
            Action::PartCopy(n, src) => {
                if let Some((key_name, id)) = &client.upload {
                    let op = UploadPartCopy::new(bucket(), k(src), bucket(), key(key_name), id, n);
                    if let Ok((out, _)) = send(sim, &c, &op, None) {
                        client.parts.insert(n, out.etag);
                    }
                }
            }
            Action::Complete => {
                if let Some((key_name, id)) = &client.upload {
                    let parts = client.parts.iter().map(|(n, e)| CompletedPart {
                        part_number: *n,
                        etag: e.clone(),
                    });
                    let op = CompleteMultipartUpload::new(bucket(), key(key_name), id, parts);
                    if let Ok((out, _)) = send(sim, &c, &op, None) {
                        let stored = sim.stored(BUCKET, key_name).unwrap();
                        assert_eq!(out.etag.as_deref(), Some(stored.etag.as_str()));
                        client.upload = None;
                    }
                }
            }
            Action::Abort => {
                if let Some((key_name, id)) = client.upload.take() {
                    drop(send(
                        sim,
                        &c,
                        &AbortMultipartUpload::new(bucket(), key(&key_name), id),
                        None,
                    ));
                }
            }
            Action::ListUploads(max) => {
                let mut pages = Pages::new(ListMultipartUploads::new(bucket()).max_uploads(max));
                while let Some(op) = pages.next_op() {
                    match send(sim, &c, op, None) {
                        Ok((page, _)) => pages.handle(&page).unwrap(),
                        Err(_) => break,
                    }
                }
            }
            Action::ListParts(max) => {
                if let Some((key_name, id)) = &client.upload {
                    let op = ListParts::new(bucket(), key(key_name), id).max_parts(max);
                    drop(send(sim, &c, &op, None));
                }
            }
            Action::Advance(ms) => sim.advance(Duration::from_millis(ms.into())),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Random fault schedules over random action sequences: no panic, consistent
        /// counters and log, and every successful reply agrees with the store.
        #[test]
        fn random_faults_never_panic(
            seed in any::<u64>(),
            rate in 0.0f64..0.6,
            actions in proptest::collection::vec(action(), 1..40),
        ) {
            let mut sim = sim().faults(FaultPlan::random(seed, rate));
            let mut client = Client::default();
            for a in actions {
                step(&mut sim, &mut client, a);
            }
            prop_assert_eq!(sim.total_requests(), sim.log().len() as u64);
            prop_assert!(sim.total_faults() <= sim.total_requests());
            let counted: u64 = OpKind::ALL.iter().map(|op| sim.requests(*op)).sum();
            prop_assert_eq!(counted, sim.total_requests());
        }

        /// Arbitrary requests, well-formed or not, always get an answer with a request id.
        #[test]
        fn arbitrary_requests_get_answers(
            method in prop_oneof![Just("GET"), Just("PUT"), Just("POST"), Just("DELETE"), Just("HEAD"), Just("OPTIONS")],
            path in "(/[a-z%0-9+.~-]{0,12}){0,3}",
            query in "([a-zA-Z-]{1,10}(=[a-z0-9%+=/]{0,8})?&?){0,3}",
            header in prop_oneof![
                Just(("range", "bytes=5-1")), Just(("range", "bytes=-")), Just(("content-md5", "!!")),
                Just(("x-amz-copy-source", "/bucket")), Just(("x-amz-copy-source", "%%/%%")),
                Just(("x-amz-copy-source-range", "bytes=9-")), Just(("if-match", ",,")),
                Just(("if-modified-since", "yesterday")), Just(("x-amz-content-sha256", "STREAMING-X")),
                Just(("x-amz-metadata-directive", "MOVE")), Just(("content-length", "-1")),
            ],
            body in proptest::collection::vec(any::<u8>(), 0..64),
            faulty in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let mut sim = sim().faults(if faulty { FaultPlan::random(seed, 0.5) } else { FaultPlan::new() });
            sim.put_object(BUCKET, "k", b"0123456789");
            let uri = format!("http://127.0.0.1:9000{}?{query}", if path.is_empty() { "/" } else { &path });
            let Ok(req) = Request::builder()
                .method(method)
                .uri(uri)
                .header(header.0, header.1)
                .body(body)
            else {
                return Ok(());
            };
            match sim.exchange(req) {
                Exchange::Reply { headers, .. } | Exchange::Reset { headers, .. } | Exchange::Stall { headers, .. } => {
                    prop_assert!(headers.contains_key("x-amz-request-id"));
                }
                Exchange::Lost | Exchange::Refused => prop_assert!(faulty),
            }
        }
    }
}
