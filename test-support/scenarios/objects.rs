// The object, bucket and listing scenarios, shared by s3-blocking and s3-async.
//
// `include!`d by each client's tests after a prelude that defines:
// - `s3`: the client crate (`s3_blocking` or `s3_async`);
// - `x!(expr)`: `expr` for the blocking client, `expr.await` for the async one;
// - `scenario_fn!{ name(server) { body } }`: a plain or async fn plus one test per server;
// - `client(&Server) -> s3::Client`, `temp_bucket(&Client, prefix)`, `cleanup(&Bucket)`,
//   `read_all(reader) -> Vec<u8>` (each sync or async to match).
// Both clients expose the same names, so the same text compiles against either.

use std::time::Duration;

use s3::proto::object::{ByteRange, MetadataDirective};
use s3::proto::ops::{CopyObject, GetObject, ListObjectsV2, LocationConstraint, PutObject};
use s3::proto::{BucketName, Credentials, ObjectKey};
use s3::{Client, ErrorCode, ListEntry};
use test_support::unique_bucket;

const AWKWARD_KEYS: &[&str] = &[
    "plain",
    "with space",
    "plus+sign",
    "percent%2Fencoded",
    "100%",
    "equals=sign&amp",
    "tilde~",
    "unicodé/日本語/🦀",
    "a//double//slash",
    "trailing/",
    "dots/./and/../x",
    "quote\"apos'lt<gt>",
];

fn names(entries: Vec<ListEntry>) -> Vec<String> {
    let mut out: Vec<String> = entries
        .into_iter()
        .map(|e| match e {
            ListEntry::Object(o) => o.key,
            ListEntry::Prefix(p) => p,
        })
        .collect();
    out.sort();
    out
}

scenario_fn! { put_get_string(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "strings"));
    x!(b.put_string("foobar", "This is a test of S3")).unwrap();
    assert_eq!(
        x!(b.get_string("foobar")).unwrap().as_deref(),
        Some("This is a test of S3")
    );
    let head = x!(b.head("foobar")).unwrap().expect("head");
    assert_eq!(head.content_length, Some(20));
    assert!(head.etag.as_deref().is_some_and(|e| e.starts_with('"')));
    assert_eq!(x!(b.get_string("missing")).unwrap(), None);
    assert_eq!(x!(b.head("missing")).unwrap(), None);
    x!(b.delete_key("foobar")).unwrap();
    assert_eq!(x!(b.get_string("foobar")).unwrap(), None);
    x!(cleanup(&b));
}}

scenario_fn! { awkward_keys_round_trip(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "keys"));
    // The longest key the server stores (S3: 1024 bytes, the maximum).
    let long = "k".repeat(server.caps.max_key_len);
    let mut keys: Vec<&str> = AWKWARD_KEYS.to_vec();
    keys.push(&long);
    if !server.caps.slash_keys_hold_data {
        keys.retain(|k| !k.ends_with('/'));
    }
    for key in &keys {
        x!(b.put_bytes(key, key.as_bytes().to_vec()))
            .unwrap_or_else(|e| panic!("put {key:?}: {e}"));
        let got = x!(b.get_bytes(key)).unwrap_or_else(|e| panic!("get {key:?}: {e}"));
        assert_eq!(got.as_deref(), Some(key.as_bytes()), "{key:?}");
    }
    let mut listed = names(x!(b.list_all("", None)).unwrap());
    let mut expected: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    expected.sort();
    if !server.caps.exact_path_keys {
        let path_like = |k: &String| k.contains("//") || k.contains("/./") || k.contains("/../");
        expected.retain(|k| !path_like(k));
        // Drop the normalised forms of the path-like keys: `a/double/slash`, `dots/x`.
        listed.retain(|k| expected.contains(k));
    }
    assert_eq!(listed, expected);
    x!(cleanup(&b));
}}

scenario_fn! { sigv2_round_trip(server) {
    let c = Client::new(server.sigv2_config(), server.credentials());
    let b = x!(temp_bucket(&c, "sigv2"));
    for key in ["sigv2 key+1", "unicodé", "a/b"] {
        x!(b.put_string(key, "v2")).unwrap();
        assert_eq!(x!(b.get_string(key)).unwrap().as_deref(), Some("v2"));
    }
    assert_eq!(x!(b.list_all("", None)).unwrap().len(), 3);
    x!(cleanup(&b));
}}

scenario_fn! { virtual_hosted_addressing(server) {
    let c = Client::new(server.vhost_config(), server.credentials());
    let b = x!(temp_bucket(&c, "vhost"));
    x!(b.put_string("k e y", "vhost")).unwrap();
    assert_eq!(x!(b.get_string("k e y")).unwrap().as_deref(), Some("vhost"));
    let get = GetObject::new(b.name().clone(), ObjectKey::new("k e y").unwrap());
    let uri = x!(c.presign(&get, Duration::from_secs(60))).unwrap();
    assert!(uri.host().unwrap().starts_with(b.name().as_str()), "{uri}");
    x!(cleanup(&b));
}}

scenario_fn! { recreate_own_bucket(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "recreate"));
    let again = x!(c.create_bucket(b.name().as_str()));
    if server.caps.recreate_owned_ok {
        again.unwrap();
    } else {
        // s3s-fs answers BucketAlreadyExists even to the owner (documented in PEERS.md).
        assert_eq!(again.unwrap_err().code(), Some(&ErrorCode::BucketAlreadyExists));
    }
    assert!(x!(c.lookup(b.name().as_str())).unwrap().is_some());
    assert!(x!(c.lookup(&unique_bucket("absent"))).unwrap().is_none());
    let listed: Vec<String> = x!(c.list_buckets()).unwrap().into_iter().map(|b| b.name).collect();
    assert!(listed.iter().any(|n| n == b.name().as_str()));
    x!(cleanup(&b));
}}

scenario_fn! { bucket_owned_by_someone_else(server) {
    if !server.caps.second_user {
        return;
    }
    let other = Client::new(server.config(), server.user2_credentials());
    let theirs = x!(temp_bucket(&other, "theirs"));
    let err = x!(client(server).create_bucket(theirs.name().as_str())).unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::BucketAlreadyExists), "{err}");
    assert_eq!(err.as_service().unwrap().status.as_u16(), 409);
    x!(cleanup(&theirs));
}}

scenario_fn! { listing_pages_with_prefix_and_delimiter(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "listing"));
    for k in ["a/1", "a/2", "a/3", "b/1", "c", "d", "e"] {
        x!(b.put_string(k, k)).unwrap();
    }
    // Small pages force the pager through continuation tokens.
    let op = ListObjectsV2::new(b.name().clone()).delimiter("/").max_keys(2);
    let mut list = b.list_with(op);
    let mut entries = Vec::new();
    while let Some(entry) = x!(list.next()) {
        entries.push(entry.unwrap());
    }
    assert_eq!(names(entries), ["a/", "b/", "c", "d", "e"]);
    assert_eq!(x!(b.list_all("a/", None)).unwrap().len(), 3);
    let raw = x!(c.send(&ListObjectsV2::new(b.name().clone()).max_keys(3))).unwrap();
    assert!(raw.is_truncated);
    assert_eq!(raw.contents.len(), 3);
    x!(cleanup(&b));
}}

scenario_fn! { split_listings_find_every_object_once(server) {
    use s3::proto::flow::split::SplitOptions;
    let c = client(server);
    let b = x!(temp_bucket(&c, "splitlist"));
    let mut keys = vec!["top".to_owned(), "logs/root".to_owned(), "logsx".to_owned()];
    for folder in ["a", "b", "c"] {
        for sub in ["x", "y"] {
            for i in 0..4 {
                keys.push(format!("logs/{folder}/{sub}/{i}"));
            }
        }
        keys.push(format!("logs/{folder}/file"));
    }
    for k in &keys {
        x!(b.put_string(k, k)).unwrap();
    }
    let mut under: Vec<&str> = keys.iter().map(String::as_str).filter(|k| k.starts_with("logs/")).collect();
    under.sort_unstable();
    // (depth, listings): flat; the prefix and its 3 folders; and their 6 sub-folders.
    for (depth, listings) in [(0, 1), (1, 4), (2, 10)] {
        let options = SplitOptions::default().depth(depth).concurrency(4);
        let found = x!(b.list_parallel("logs/", options)).unwrap();
        let names: Vec<&str> = found.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(names, under, "depth {depth}");
        assert_eq!(found.listings, listings, "depth {depth}");
        assert!(found.objects.iter().all(|o| o.size == o.key.len() as u64));
    }
    let everything = x!(b.list_parallel("", SplitOptions::default().delimiter("/"))).unwrap();
    assert_eq!(everything.objects.len(), keys.len());
    x!(cleanup(&b));
}}

scenario_fn! { user_metadata_round_trip(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "meta"));
    let op = PutObject::new(b.name().clone(), ObjectKey::new("has_metadata").unwrap(), "data")
        .content_type("text/plain")
        .meta("Meta1", "This is the first metadata value")
        .meta("meta2", "This is the second metadata value")
        .meta("unicode", "Größe über 日本");
    x!(b.put(op)).unwrap();
    let meta = x!(b.metadata("has_metadata")).unwrap().unwrap();
    assert_eq!(meta.get("meta1"), Some("This is the first metadata value"));
    assert_eq!(meta.get("META2"), Some("This is the second metadata value"));
    assert_eq!(meta.get("unicode"), Some("Größe über 日本"));
    let head = x!(b.head("has_metadata")).unwrap().unwrap();
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));

    // Replace metadata with a copy onto itself.
    let key = ObjectKey::new("has_metadata").unwrap();
    let copy = CopyObject::new(b.name().clone(), key.clone(), b.name().clone(), key)
        .metadata_directive(MetadataDirective::Replace)
        .meta("replaced", "yes")
        .content_type("application/x-new");
    x!(c.send(&copy)).unwrap();
    let head = x!(b.head("has_metadata")).unwrap().unwrap();
    assert_eq!(head.metadata.get("replaced"), Some("yes"));
    assert_eq!(head.metadata.get("meta1"), None);
    assert_eq!(head.content_type.as_deref(), Some("application/x-new"));
    x!(cleanup(&b));
}}

scenario_fn! { copy_and_range_reads(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "copy"));
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    x!(b.put_bytes("src", data.clone())).unwrap();
    let out = x!(b.copy_key("dst", b.name().as_str(), "src")).unwrap();
    assert!(out.etag.is_some());
    assert_eq!(x!(b.get_bytes("dst")).unwrap().unwrap(), data);

    let op = GetObject::new(b.name().clone(), ObjectKey::new("src").unwrap())
        .range(ByteRange::inclusive(100, 199).unwrap());
    let (head, reader) = x!(b.open(op)).unwrap().unwrap();
    assert_eq!(x!(read_all(reader)), &data[100..200]);
    assert_eq!(head.object_size(), Some(10_000));
    let range = head.content_range.unwrap();
    assert_eq!((range.first, range.last), (100, 199));

    let suffix = GetObject::new(b.name().clone(), ObjectKey::new("src").unwrap())
        .range(ByteRange::Suffix(10));
    let (_, reader) = x!(b.open(suffix)).unwrap().unwrap();
    assert_eq!(x!(read_all(reader)), &data[9_990..]);
    x!(cleanup(&b));
}}

scenario_fn! { conditional_reads(server) {
    if !server.caps.conditional_reads {
        return;
    }
    let c = client(server);
    let b = x!(temp_bucket(&c, "cond"));
    let etag = x!(b.put_string("k", "v")).unwrap().etag.unwrap();
    let key = ObjectKey::new("k").unwrap();
    let ok = x!(c.send(&GetObject::new(b.name().clone(), key.clone()).if_match(etag.clone())));
    assert!(ok.is_ok(), "{ok:?}");
    let err = x!(c.send(&GetObject::new(b.name().clone(), key.clone()).if_match("\"0000\"")))
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::PreconditionFailed), "{err}");
    let err = x!(c.send(&GetObject::new(b.name().clone(), key).if_none_match(etag))).unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NotModified), "{err}");
    x!(cleanup(&b));
}}

scenario_fn! { typed_errors(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "errors"));
    let missing = c.bucket(&unique_bucket("nosuch")).unwrap();
    let err = x!(c.send(&ListObjectsV2::new(missing.name().clone()))).unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchBucket), "{err}");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");

    let err = x!(c.send(&GetObject::new(b.name().clone(), ObjectKey::new("nokey").unwrap())))
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{err}");
    assert!(err.is_not_found());

    x!(b.put_string("k", "v")).unwrap();
    if server.caps.bucket_not_empty {
        let err = x!(b.delete()).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::BucketNotEmpty), "{err}");
    }
    x!(cleanup(&b));
}}

scenario_fn! { wrong_secret_is_signature_mismatch(server) {
    if !server.caps.verifies_signatures {
        return;
    }
    let good = client(server);
    let b = x!(temp_bucket(&good, "badsig"));
    let bad = Client::new(
        server.config(),
        Credentials::new(&server.access_key, "definitely-not-the-secret"),
    );
    let err = x!(bad.send(&ListObjectsV2::new(b.name().clone()))).unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::SignatureDoesNotMatch), "{err}");
    assert!(!format!("{err} {err:?}").contains("definitely-not-the-secret"));
    x!(cleanup(&b));
}}

scenario_fn! { batch_delete(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "batch"));
    let keys: Vec<String> = (0..25).map(|i| format!("k{i:02} +&<")).collect();
    for k in &keys {
        x!(b.put_string(k, "x")).unwrap();
    }
    let out = x!(b.delete_keys(keys.iter().map(String::as_str))).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(x!(b.list_all("", None)).unwrap().is_empty());
    x!(cleanup(&b));
}}

scenario_fn! { location_constraint_eu(server) {
    if !server.caps.location {
        return;
    }
    let c = client(server);
    let b = x!(c.create_bucket_in(&unique_bucket("eu"), LocationConstraint::EU)).unwrap();
    let loc = x!(b.location()).unwrap();
    assert_eq!(loc.constraint, "EU");
    assert_eq!(loc.region(), "eu-west-1");
    x!(cleanup(&b));
}}

scenario_fn! { presigned_get_and_put(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "presign"));
    let key = ObjectKey::new("pre signed+key").unwrap();
    let put = PutObject::new(b.name().clone(), key.clone(), Vec::new());
    let put = x!(c.presign(&put, Duration::from_secs(300))).unwrap();
    // A plain HTTP client, knowing nothing of S3, uses the URLs.
    let agent = ureq::Agent::new_with_defaults();
    agent.put(put.to_string()).send(&b"uploaded via URL"[..]).unwrap();
    let get = GetObject::new(b.name().clone(), key);
    let get = x!(c.presign(&get, Duration::from_secs(300))).unwrap();
    let body = agent.get(get.to_string()).call().unwrap().body_mut().read_to_string().unwrap();
    assert_eq!(body, "uploaded via URL");
    if server.caps.verifies_signatures {
        let tampered = get.to_string().replace("X-Amz-Expires=300", "X-Amz-Expires=301");
        let status = agent
            .get(tampered)
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 403);
    }
    x!(cleanup(&b));
}}

scenario_fn! { invalid_names_fail_before_sending(server) {
    assert!(BucketName::new("Invalid_Name").is_err());
    assert!(ObjectKey::new("").is_err());
    let c = client(server);
    assert!(matches!(x!(c.create_bucket("no")), Err(s3::Error::Input(_))));
}}

scenario_fn! { file_round_trips(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "files"));
    let dir = test_support::files::temp_dir("files");
    for (name, len) in [("empty.txt", 0u64), ("one.bin", 1), ("page.html", 70_000), ("big.dat", 12 << 20)] {
        let src = test_support::files::make_file(&dir, name, len);
        x!(b.upload_file(name, &src)).unwrap_or_else(|e| panic!("upload {name}: {e}"));
        let head = x!(b.head(name)).unwrap().unwrap();
        assert_eq!(head.content_length, Some(len), "{name}");
        assert_eq!(head.content_type.as_deref(), Some(s3::proto::mime::from_name(name)), "{name}");
        let dst = dir.join(format!("{name}.down"));
        x!(b.download_file(name, &dst)).unwrap_or_else(|e| panic!("download {name}: {e}"));
        assert_eq!(
            test_support::files::sha256(&src),
            test_support::files::sha256(&dst),
            "{name}"
        );
    }
    // A failed download leaves nothing behind, not even the temporary file.
    let target = dir.join("missing.out");
    let err = x!(b.download_file("no-such-key", &target)).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(!target.exists());
    test_support::files::assert_no_partial_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    x!(cleanup(&b));
}}
