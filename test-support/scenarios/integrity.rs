// Reads and writes through a proxy that flips one byte of a body, shared by s3-blocking and
// s3-async (see objects.rs for the prelude each client defines). Every read API either
// returns the exact bytes, verified, or a typed error with nothing left behind; an upload
// corrupted on the way is refused by the server and sent again.

use s3::proto::integrity::Verification;
use s3::proto::ResponseError;

/// Stores the objects every read is tried on: a small single-part one, a single-part one
/// fetched in several ranges, and a multipart one (three parts of 5 MiB, rebuilt from its
/// ETag). On a server that gives every object a stored checksum (LocalStack: CRC64NVME),
/// reads are verified against it instead. A macro, to be sync or async with the scenario.
macro_rules! integrity_objects { ($b:expr, $server:expr) => {{
    let b = $b;
    let small: Vec<u8> = (0..100_000u32).map(|i| (i % 241) as u8).collect();
    let ranged: Vec<u8> = (0..(3u32 << 20) + 5).map(|i| (i % 239) as u8).collect();
    let multi: Vec<u8> = (0..(11u32 << 20) + 3).map(|i| (i % 233) as u8).collect();
    x!(b.put_bytes("small.bin", small.clone())).unwrap();
    x!(b.put_bytes("ranged.bin", ranged.clone())).unwrap();
    let dir = test_support::files::temp_dir("integrity-src");
    let source = dir.join("multi.bin");
    std::fs::write(&source, &multi).unwrap();
    let parts = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB);
    let out = x!(b.upload_file_with("multi.bin", &source, parts)).unwrap();
    assert_eq!(out.parts, 3);
    let multipart = Verification::MultipartEtag { parts: 3, part_size: FIVE_MIB };
    let stored = Verification::Checksum {
        algorithm: s3::proto::checksum::ChecksumAlgorithm::Crc64Nvme,
        checksum_type: s3::proto::checksum::ChecksumType::FullObject,
    };
    let by = |etag| if $server.caps.default_checksum { stored } else { etag };
    vec![
        ("small.bin", small, by(Verification::Md5)),
        ("ranged.bin", ranged, by(Verification::Md5)),
        ("multi.bin", multi, by(multipart)),
    ]
}}}

fn is_mismatch(e: &S3Error) -> bool {
    matches!(e, S3Error::Response(ResponseError::ChecksumMismatch { .. }))
}

scenario_fn! { corrupted_reads_are_repaired_or_refused(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "integrity"));
    let objects: Vec<(&str, Vec<u8>, Verification)> = integrity_objects!(&b, server);
    let proxy = FaultProxy::start(&server.endpoint);
    let options = s3::Options::default().retry(quick_retries(3));
    let c = client_at(server, &proxy.endpoint(), options);
    let fb = c.bucket(b.name().as_str()).unwrap();
    let dir = test_support::files::temp_dir("integrity");
    let ranges = DownloadOptions::default().part_size(1 << 20);
    for (key, data, verified) in &objects {
        let flip = Fault::FlipResponseByte(1000);
        // Whole reads: one corrupted reply is read again; every reply corrupted fails.
        proxy.inject(flip, 1);
        let (head, got) = x!(fb.get(key)).unwrap().unwrap();
        assert!(got == *data, "{key}: get returned other bytes");
        assert_eq!(head.verified, Some(*verified), "{key}");
        proxy.inject(flip, 100);
        let e = x!(fb.get_bytes(key)).unwrap_err();
        assert!(is_mismatch(&e), "{key}: get_bytes of a corrupted object: {e}");

        // Downloads to a file: the HEAD passes, then one range (or all) is corrupted.
        let target = dir.join(key);
        proxy.inject_after(1, flip, 1);
        let head = x!(fb.download_file_with(key, &target, ranges.clone())).unwrap();
        assert!(std::fs::read(&target).unwrap() == *data, "{key}: file differs");
        assert_eq!(head.verified, Some(*verified), "{key}");
        std::fs::remove_file(&target).unwrap();
        proxy.inject_after(1, flip, 100);
        let e = x!(fb.download_file_with(key, &target, ranges.clone())).unwrap_err();
        assert!(is_mismatch(&e), "{key}: download_file of a corrupted object: {e}");
        assert!(!target.exists(), "{key}: no file after a mismatch");

        // Streams hand bytes out as they come: a corrupted one ends in an error, not EOF.
        proxy.inject(flip, 1);
        let (_, mut reader) = x!(fb.open(GetObject::new(b.name().clone(), key.parse().unwrap()).checksum_mode(true)))
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        let e = x!(reader.read_all(&mut out)).unwrap_err();
        assert!(is_mismatch(&e), "{key}: open + read of a corrupted object: {e}");
        proxy.inject(flip, 1);
        let mut written = Vec::new();
        let e = x!(fb.download_to(key, &mut written)).unwrap_err();
        assert!(is_mismatch(&e), "{key}: download_to of a corrupted object: {e}");
        // The mismatch shows at the end: every byte, batched or not, was written first.
        assert_eq!(written.len(), data.len(), "{key}: bytes written before the error");

        // Unharmed, every path says how it verified the bytes.
        proxy.inject(Fault::None, 0);
        let (_, mut reader) = x!(fb.open(GetObject::new(b.name().clone(), key.parse().unwrap()).checksum_mode(true)))
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        assert_eq!(x!(reader.read_all(&mut out)).unwrap(), *verified, "{key}");
        assert!(out == *data);
        let head = x!(fb.download_to(key, Vec::new())).unwrap();
        assert_eq!(head.verified, Some(*verified), "{key}");
    }
    x!(cleanup(&b));
}}

scenario_fn! { corrupted_uploads_are_refused_and_sent_again(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "integrityup"));
    let proxy = FaultProxy::start(&server.endpoint);
    let options = s3::Options::default().retry(quick_retries(3));
    let c = client_at(server, &proxy.endpoint(), options);
    let fb = c.bucket(b.name().as_str()).unwrap();
    let flip = Fault::FlipRequestByte(1000);
    // An in-memory PUT (its SHA-256 is signed).
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 229) as u8).collect();
    let multi: Vec<u8> = (0..(11u32 << 20)).map(|i| (i % 227) as u8).collect();
    let dir = test_support::files::temp_dir("integrity-up");
    let source = dir.join("multi.bin");
    std::fs::write(&source, &multi).unwrap();
    let parts = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB);
    // A server that does not check Content-MD5 stores what it got: a documented gap.
    if server.caps.verifies_put_md5 {
        // An in-memory PUT carries Content-MD5: refused once, sent again.
        proxy.inject(flip, 1);
        x!(fb.put_bytes("put.bin", data.clone())).unwrap();
        assert_eq!(proxy.pending(), 0, "the fault was used");
        assert_eq!(x!(b.get_bytes("put.bin")).unwrap().as_deref(), Some(&data[..]));
        // Every attempt corrupted: a typed error, and nothing stored.
        proxy.inject(flip, 100);
        let e = x!(fb.put_bytes("never.bin", data.clone())).unwrap_err();
        assert!(matches!(e, S3Error::Service(_)), "a refused upload: {e}");
        assert_eq!(x!(b.get_bytes("never.bin")).unwrap(), None);
    }
    // A file in parts: each carries its signed SHA-256 where the server checks that (Ceph,
    // s3s-fs), else Content-MD5; refused by whichever the server checks.
    let parts_checked = match server.quirks().checks_payload_hash {
        true => server.caps.verifies_signatures,
        false => server.caps.verifies_part_md5,
    };
    if parts_checked {
        // The create passes, the next request is hit.
        proxy.inject_after(1, flip, 1);
        x!(fb.upload_file_with("multi.bin", &source, parts)).unwrap();
        assert_eq!(proxy.pending(), 0, "the fault was used");
        assert!(x!(b.get_bytes("multi.bin")).unwrap().unwrap() == multi);
    }
    x!(cleanup(&b));
}}

scenario_fn! { streamed_puts_are_signed_chunk_by_chunk(server) {
    // A one-shot stream cannot be hashed before it is sent: put_reader signs it chunk by
    // chunk (aws-chunked), so a server that checks chunk signatures refuses a changed byte.
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "chunked"));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    x!(put_stream(&b, "streamed.bin", data.clone())).unwrap();
    assert!(x!(b.get_bytes("streamed.bin")).unwrap().unwrap() == data);
    x!(put_stream(&b, "empty.bin", Vec::new())).unwrap();
    assert_eq!(x!(b.get_bytes("empty.bin")).unwrap().as_deref(), Some(&b""[..]));
    // Asked not to hash payloads (`unsigned_payload`), the stream goes plain, as curl sends it.
    let plain = s3::Client::with_options(server.config().unsigned_payload(true), server.credentials(), server.options()).unwrap();
    let pb = plain.bucket(b.name().as_str()).unwrap();
    x!(put_stream(&pb, "plain.bin", data.clone())).unwrap();
    assert!(x!(b.get_bytes("plain.bin")).unwrap().unwrap() == data);
    let proxy = FaultProxy::start(&server.endpoint);
    let options = s3::Options::default().retry(quick_retries(3));
    let c = client_at(server, &proxy.endpoint(), options);
    let fb = c.bucket(b.name().as_str()).unwrap();
    proxy.inject(Fault::FlipRequestByte(100_000), 1);
    let sent = x!(put_stream(&fb, "flipped.bin", data.clone()));
    assert_eq!(proxy.pending(), 0, "the fault was used");
    if server.caps.verifies_chunk_signatures {
        // Refused, and a one-shot stream is not sent again: a typed error, nothing stored.
        let e = sent.unwrap_err();
        assert!(matches!(e, S3Error::Service(_)), "a refused upload: {e}");
        assert_eq!(x!(b.get_bytes("flipped.bin")).unwrap(), None);
    } else {
        // A documented gap: the server stores what it got.
        sent.unwrap();
    }
    x!(cleanup(&b));
}}
