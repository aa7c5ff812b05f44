//! Behaviour against real servers (Ceph RGW, s3s-fs, moto), one bucket per test.

use std::time::Duration;

use s3_blocking::proto::ops::{
    ByteRange, CopyObject, GetObject, ListObjectsV2, LocationConstraint, MetadataDirective,
    PutObject,
};
use s3_blocking::proto::{BucketName, Credentials, ObjectKey};
use s3_blocking::{Bucket, Client, ErrorCode, ListEntry};
use sha2::{Digest, Sha256};
use test_support::{Server, scenario, unique_bucket};

fn client(server: &Server) -> Client {
    Client::new(server.config(), server.credentials())
}

/// A fresh bucket, emptied and removed when the guard drops.
struct TempBucket(Bucket);

impl TempBucket {
    fn new(client: &Client, prefix: &str) -> Self {
        let name = unique_bucket(prefix);
        TempBucket(
            client
                .create_bucket(&name)
                .unwrap_or_else(|e| panic!("create {name}: {e}")),
        )
    }
}

impl std::ops::Deref for TempBucket {
    type Target = Bucket;
    fn deref(&self) -> &Bucket {
        &self.0
    }
}

impl Drop for TempBucket {
    fn drop(&mut self) {
        let keys: Vec<String> = self
            .0
            .list("", None)
            .filter_map(|e| match e {
                Ok(ListEntry::Object(o)) => Some(o.key),
                _ => None,
            })
            .collect();
        if !keys.is_empty() {
            let _ = self.0.delete_keys(keys.iter().map(String::as_str));
        }
        let _ = self.0.delete();
    }
}

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

fn put_get_string(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "strings");
    b.put_string("foobar", "This is a test of S3").unwrap();
    assert_eq!(
        b.get_string("foobar").unwrap().as_deref(),
        Some("This is a test of S3")
    );
    let head = b.head("foobar").unwrap().expect("head");
    assert_eq!(head.content_length, Some(20));
    assert!(head.etag.as_deref().is_some_and(|e| e.starts_with('"')));
    assert_eq!(b.get_string("missing").unwrap(), None);
    assert_eq!(b.head("missing").unwrap(), None);
    b.delete_key("foobar").unwrap();
    assert_eq!(b.get_string("foobar").unwrap(), None);
}
scenario!(put_get_string);

fn awkward_keys_round_trip(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "keys");
    // The longest key the server stores (S3: 1024 bytes, the maximum).
    let long = "k".repeat(server.caps.max_key_len);
    let mut keys: Vec<&str> = AWKWARD_KEYS.to_vec();
    keys.push(&long);
    if !server.caps.slash_keys_hold_data {
        keys.retain(|k| !k.ends_with('/'));
    }
    for key in &keys {
        b.put_bytes(key, key.as_bytes().to_vec())
            .unwrap_or_else(|e| panic!("put {key:?}: {e}"));
        let got = b
            .get_bytes(key)
            .unwrap_or_else(|e| panic!("get {key:?}: {e}"));
        assert_eq!(got.as_deref(), Some(key.as_bytes()), "{key:?}");
    }
    let mut listed: Vec<String> = b
        .list("", None)
        .map(|e| match e.unwrap() {
            ListEntry::Object(o) => o.key,
            ListEntry::Prefix(p) => panic!("unexpected prefix {p}"),
        })
        .collect();
    listed.sort();
    let mut expected: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    if !server.caps.exact_path_keys {
        let path_like = |k: &String| k.contains("//") || k.contains("/./") || k.contains("/../");
        expected.retain(|k| !path_like(k));
        // Drop the normalised forms of the path-like keys: `a/double/slash`, `dots/x`.
        listed.retain(|k| expected.contains(k));
    }
    expected.sort();
    assert_eq!(listed, expected);
}
scenario!(awkward_keys_round_trip);

fn sigv2_round_trip(server: &Server) {
    let c = Client::new(server.sigv2_config(), server.credentials());
    let b = TempBucket::new(&c, "sigv2");
    for key in ["sigv2 key+1", "unicodé", "a/b"] {
        b.put_string(key, "v2").unwrap();
        assert_eq!(b.get_string(key).unwrap().as_deref(), Some("v2"));
    }
    assert_eq!(b.list("", None).count(), 3);
}
scenario!(sigv2_round_trip);

fn virtual_hosted_addressing(server: &Server) {
    let c = Client::new(server.vhost_config(), server.credentials());
    let b = TempBucket::new(&c, "vhost");
    b.put_string("k e y", "vhost").unwrap();
    assert_eq!(b.get_string("k e y").unwrap().as_deref(), Some("vhost"));
    let uri = c
        .presign(
            &GetObject::new(b.name().clone(), ObjectKey::new("k e y").unwrap()),
            Duration::from_secs(60),
        )
        .unwrap();
    assert!(uri.host().unwrap().starts_with(b.name().as_str()), "{uri}");
}
scenario!(virtual_hosted_addressing);

fn recreate_own_bucket(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "recreate");
    let again = c.create_bucket(b.name().as_str());
    if server.caps.recreate_owned_ok {
        again.unwrap();
    } else {
        // s3s-fs answers BucketAlreadyExists even to the owner (documented in PEERS.md).
        assert_eq!(
            again.unwrap_err().code(),
            Some(&ErrorCode::BucketAlreadyExists)
        );
    }
    assert!(c.lookup(b.name().as_str()).unwrap().is_some());
    assert!(c.lookup(&unique_bucket("absent")).unwrap().is_none());
    let names: Vec<String> = c
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert!(names.iter().any(|n| n == b.name().as_str()));
}
scenario!(recreate_own_bucket);

fn bucket_owned_by_someone_else(server: &Server) {
    if !server.caps.second_user {
        return;
    }
    let other = Client::new(server.config(), server.user2_credentials());
    let theirs = TempBucket::new(&other, "theirs");
    let err = client(server)
        .create_bucket(theirs.name().as_str())
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::BucketAlreadyExists), "{err}");
    assert_eq!(err.as_service().unwrap().status.as_u16(), 409);
}
scenario!(bucket_owned_by_someone_else);

fn listing_pages_with_prefix_and_delimiter(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "listing");
    for k in ["a/1", "a/2", "a/3", "b/1", "c", "d", "e"] {
        b.put_string(k, k).unwrap();
    }
    // Small pages force the pager through continuation tokens.
    let op = ListObjectsV2::new(b.name().clone())
        .delimiter("/")
        .max_keys(2);
    let entries: Vec<ListEntry> = b.list_with(op).map(Result::unwrap).collect();
    let mut names: Vec<String> = entries
        .iter()
        .map(|e| match e {
            ListEntry::Object(o) => o.key.clone(),
            ListEntry::Prefix(p) => p.clone(),
        })
        .collect();
    names.sort();
    assert_eq!(names, ["a/", "b/", "c", "d", "e"]);
    let under_a: Vec<ListEntry> = b.list("a/", None).map(Result::unwrap).collect();
    assert_eq!(under_a.len(), 3);
    let raw = c
        .send(&ListObjectsV2::new(b.name().clone()).max_keys(3))
        .unwrap();
    assert!(raw.is_truncated);
    assert_eq!(raw.contents.len(), 3);
}
scenario!(listing_pages_with_prefix_and_delimiter);

fn user_metadata_round_trip(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "meta");
    let op = PutObject::new(
        b.name().clone(),
        ObjectKey::new("has_metadata").unwrap(),
        "data",
    )
    .content_type("text/plain")
    .meta("Meta1", "This is the first metadata value")
    .meta("meta2", "This is the second metadata value")
    .meta("unicode", "Größe über 日本");
    b.put(op).unwrap();
    let meta = b.metadata("has_metadata").unwrap().unwrap();
    assert_eq!(meta.get("meta1"), Some("This is the first metadata value"));
    assert_eq!(meta.get("META2"), Some("This is the second metadata value"));
    assert_eq!(meta.get("unicode"), Some("Größe über 日本"));
    let head = b.head("has_metadata").unwrap().unwrap();
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));

    // Replace metadata with a copy onto itself.
    let key = ObjectKey::new("has_metadata").unwrap();
    c.send(
        &CopyObject::new(b.name().clone(), key.clone(), b.name().clone(), key)
            .metadata_directive(MetadataDirective::Replace)
            .meta("replaced", "yes")
            .content_type("application/x-new"),
    )
    .unwrap();
    let head = b.head("has_metadata").unwrap().unwrap();
    assert_eq!(head.metadata.get("replaced"), Some("yes"));
    assert_eq!(head.metadata.get("meta1"), None);
    assert_eq!(head.content_type.as_deref(), Some("application/x-new"));
}
scenario!(user_metadata_round_trip);

fn copy_and_range_reads(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "copy");
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    b.put_bytes("src", data.clone()).unwrap();
    let out = b.copy_key("dst", b.name().as_str(), "src").unwrap();
    assert!(out.etag.is_some());
    assert_eq!(b.get_bytes("dst").unwrap().unwrap(), data);

    let op = GetObject::new(b.name().clone(), ObjectKey::new("src").unwrap())
        .range(ByteRange::inclusive(100, 199).unwrap());
    let (head, mut reader) = b.open(op).unwrap().unwrap();
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut got).unwrap();
    assert_eq!(got, &data[100..200]);
    assert_eq!(head.object_size(), Some(10_000));
    let range = head.content_range.unwrap();
    assert_eq!((range.first, range.last), (100, 199));

    let suffix = GetObject::new(b.name().clone(), ObjectKey::new("src").unwrap())
        .range(ByteRange::Suffix(10));
    let (_, mut reader) = b.open(suffix).unwrap().unwrap();
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut got).unwrap();
    assert_eq!(got, &data[9_990..]);
}
scenario!(copy_and_range_reads);

fn conditional_reads(server: &Server) {
    if !server.caps.conditional_reads {
        return;
    }
    let c = client(server);
    let b = TempBucket::new(&c, "cond");
    let etag = b.put_string("k", "v").unwrap().etag.unwrap();
    let key = ObjectKey::new("k").unwrap();
    let ok = c.send(&GetObject::new(b.name().clone(), key.clone()).if_match(etag.clone()));
    assert!(ok.is_ok(), "{ok:?}");
    let err = c
        .send(&GetObject::new(b.name().clone(), key.clone()).if_match("\"0000\""))
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::PreconditionFailed), "{err}");
    let err = c
        .send(&GetObject::new(b.name().clone(), key).if_none_match(etag))
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NotModified), "{err}");
}
scenario!(conditional_reads);

fn typed_errors(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "errors");
    let missing = c.bucket(&unique_bucket("nosuch")).unwrap();
    let err = c
        .send(&ListObjectsV2::new(missing.name().clone()))
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchBucket), "{err}");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");

    let err = c
        .send(&GetObject::new(
            b.name().clone(),
            ObjectKey::new("nokey").unwrap(),
        ))
        .unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::NoSuchKey), "{err}");
    assert!(err.is_not_found());

    b.put_string("k", "v").unwrap();
    if server.caps.bucket_not_empty {
        let err = b.delete().unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::BucketNotEmpty), "{err}");
    }
}
scenario!(typed_errors);

fn wrong_secret_is_signature_mismatch(server: &Server) {
    if !server.caps.verifies_signatures {
        return;
    }
    let good = client(server);
    let b = TempBucket::new(&good, "badsig");
    let bad = Client::new(
        server.config(),
        Credentials::new(&server.access_key, "definitely-not-the-secret"),
    );
    let err = bad.send(&ListObjectsV2::new(b.name().clone())).unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::SignatureDoesNotMatch), "{err}");
    assert!(!format!("{err} {err:?}").contains("definitely-not-the-secret"));
}
scenario!(wrong_secret_is_signature_mismatch);

fn batch_delete(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "batch");
    let keys: Vec<String> = (0..25).map(|i| format!("k{i:02} +&<")).collect();
    for k in &keys {
        b.put_string(k, "x").unwrap();
    }
    let out = b.delete_keys(keys.iter().map(String::as_str)).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(b.list("", None).count(), 0);
}
scenario!(batch_delete);

fn location_constraint_eu(server: &Server) {
    if !server.caps.location {
        return;
    }
    let c = client(server);
    let name = unique_bucket("eu");
    let b = TempBucket(c.create_bucket_in(&name, LocationConstraint::EU).unwrap());
    let loc = b.location().unwrap();
    assert_eq!(loc.constraint, "EU");
    assert_eq!(loc.region(), "eu-west-1");
}
scenario!(location_constraint_eu);

fn presigned_get_and_put(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "presign");
    let key = ObjectKey::new("pre signed+key").unwrap();
    let put = c
        .presign(
            &PutObject::new(b.name().clone(), key.clone(), Vec::new()),
            Duration::from_secs(300),
        )
        .unwrap();
    let agent = ureq::Agent::new_with_defaults();
    agent
        .put(put.to_string())
        .send(&b"uploaded via URL"[..])
        .unwrap();
    let get = c
        .presign(
            &GetObject::new(b.name().clone(), key),
            Duration::from_secs(300),
        )
        .unwrap();
    let body = agent
        .get(get.to_string())
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert_eq!(body, "uploaded via URL");
    if server.caps.verifies_signatures {
        let tampered = get
            .to_string()
            .replace("X-Amz-Expires=300", "X-Amz-Expires=301");
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
}
scenario!(presigned_get_and_put);

fn invalid_names_fail_before_sending(_server: &Server) {
    assert!(BucketName::new("Invalid_Name").is_err());
    assert!(ObjectKey::new("").is_err());
    let c = Client::new(_server.config(), _server.credentials());
    assert!(matches!(
        c.create_bucket("no"),
        Err(s3_blocking::Error::Input(_))
    ));
}
scenario!(invalid_names_fail_before_sending);

fn sha256_file(path: &std::path::Path) -> String {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0; 1 << 20];
    let mut hasher = Sha256::new();
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    format!("{:x}", hasher.finalize())
}

/// A file of `len` pseudo-random bytes.
fn make_file(dir: &std::path::Path, name: &str, len: u64) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut x: u64 = len ^ 0x9E37_79B9_7F4A_7C15;
    let mut left = len;
    let mut block = [0u8; 8192];
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
    path
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_bucket(tag));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_round_trips(server: &Server) {
    let c = client(server);
    let b = TempBucket::new(&c, "files");
    let dir = temp_dir("files");
    for (name, len) in [
        ("empty.txt", 0u64),
        ("one.bin", 1),
        ("page.html", 70_000),
        ("big.dat", 12 << 20),
    ] {
        let src = make_file(&dir, name, len);
        b.upload_file(name, &src)
            .unwrap_or_else(|e| panic!("upload {name}: {e}"));
        let head = b.head(name).unwrap().unwrap();
        assert_eq!(head.content_length, Some(len), "{name}");
        assert_eq!(
            head.content_type.as_deref(),
            Some(s3_blocking::proto::mime::from_name(name)),
            "{name}"
        );
        let dst = dir.join(format!("{name}.down"));
        b.download_file(name, &dst)
            .unwrap_or_else(|e| panic!("download {name}: {e}"));
        assert_eq!(sha256_file(&src), sha256_file(&dst), "{name}");
    }
    // A failed download leaves nothing behind, not even the temporary file.
    let target = dir.join("missing.out");
    let err = b.download_file("no-such-key", &target).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(!target.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
scenario!(file_round_trips);
