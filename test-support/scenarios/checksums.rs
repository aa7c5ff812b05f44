// Flexible checksums (issues 13 and 16): sent on every upload path, stored where the server
// stores them, asked for with checksum mode, and preferred over the ETag when a read is
// verified. Shared by s3-blocking and s3-async (see the header of objects.rs for the
// prelude). The servers differ: LocalStack checks and stores every kind, s3s-fs single-part
// ones only, moto stores single-part ones unchecked (and answers multipart objects with
// values of its own), Ceph RGW 16 ignores them; each is a capability flag, and what boto3
// reads back is compared with ours on every server.

mod checksums {
    use super::*;

    use s3::proto::checksum::{
        Checksum, ChecksumAlgorithm, ChecksumType, MultipartChecksum, ObjectChecksum,
    };
    use s3::proto::ops as op;
    use s3::proto::sse::ServerSideEncryption;
    use s3::proto::ObjectKey;
    use s3::proto::integrity::Unverified;

    fn key(k: &str) -> ObjectKey {
        ObjectKey::new(k).unwrap()
    }

    /// Our stored checksum as boto3 prints it: algorithm and header value.
    fn as_boto(c: Option<ObjectChecksum>) -> Option<(String, String)> {
        c.map(|c| (c.algorithm().as_str().to_owned(), c.to_header_value()))
    }

    /// What boto3 read, when it is a well-formed checksum (moto answers multipart CRC64NVME
    /// objects with a 4-byte value, which s3-rs reads as no checksum).
    fn well_formed(boto: Option<(String, String)>) -> Option<(String, String)> {
        boto.filter(|(alg, value)| {
            alg.parse::<ChecksumAlgorithm>()
                .is_ok_and(|a| ObjectChecksum::parse(a, None, value).is_ok())
        })
    }

    /// The checksum a multipart upload of `data` in parts of `part` bytes gets.
    fn multipart_sum(data: &[u8], part: usize, alg: ChecksumAlgorithm, ty: ChecksumType) -> ObjectChecksum {
        let mut sums = MultipartChecksum::new(alg);
        for (i, chunk) in data.chunks(part).enumerate() {
            sums.add(i as u16 + 1, Checksum::compute(alg, chunk), chunk.len() as u64).unwrap();
        }
        sums.finish(ty).unwrap()
    }

    /// Three 5 MiB parts' worth of bytes and a few more, and a file in a fresh temp dir `tag`
    /// holding them: (bytes, dir, file).
    fn three_parts(tag: &str) -> (Vec<u8>, std::path::PathBuf, std::path::PathBuf) {
        let data: Vec<u8> = (0..(11u32 << 20) + 3).map(|i| (i % 241) as u8).collect();
        let dir = test_support::files::temp_dir(tag);
        let src = dir.join("data.bin");
        std::fs::write(&src, &data).unwrap();
        (data, dir, src)
    }

    scenario_fn! { put_carries_each_algorithm(server) {
        let c = client(server);
        let b = x!(temp_bucket(&c, "sumput"));
        let name = b.name().clone();
        let body = b"The quick brown fox jumps over the lazy dog".to_vec();
        for alg in ChecksumAlgorithm::ALL {
            let k = format!("put-{}", alg.as_str().to_ascii_lowercase());
            let sum = ObjectChecksum::full_object(Checksum::compute(alg, &body));
            let put = op::PutObject::new(name.clone(), key(&k), body.clone()).checksum_algorithm(alg);
            let out = x!(b.put(put)).unwrap();
            // Echoed by the servers that store it, else as sent.
            assert_eq!(out.checksum, Some(sum), "{k}");
            let head = x!(c.send(&op::HeadObject::new(name.clone(), key(&k)).checksum_mode(true))).unwrap();
            let boto = test_support::boto3::head_checksum(server, name.as_str(), &k);
            assert_eq!(as_boto(head.checksum), boto, "{k}: s3-rs and boto3 read the same");
            let (head, got) = x!(b.get(&k)).unwrap().unwrap();
            assert!(got == body);
            if server.caps.stores_checksums {
                assert_eq!(as_boto(Some(sum)), boto, "{k}: stored");
                let by = Verification::Checksum { algorithm: alg, checksum_type: ChecksumType::FullObject };
                assert_eq!(head.verified, Some(by), "{k}: verified by the stored checksum");
            } else {
                // Ceph RGW 16 and moto keep nothing: the default read still verifies the MD5.
                assert_eq!(boto, None, "{k}");
                assert_eq!(head.verified, Some(Verification::Md5), "{k}");
            }
        }
        // A checksum that is not the body's: refused where checked, stored where ignored.
        let wrong = Checksum::compute(ChecksumAlgorithm::Crc32c, b"other bytes");
        let put = op::PutObject::new(name.clone(), key("wrong"), body.clone()).checksum(wrong);
        let result = x!(b.put(put));
        if server.caps.checks_checksums {
            let e = result.unwrap_err();
            assert!(matches!(e.code(), Some(ErrorCode::BadDigest | ErrorCode::InvalidRequest)), "{e}");
            let left = x!(b.get_bytes("wrong")).unwrap();
            assert_eq!(left.is_none(), server.caps.checksum_refusal_stores_nothing);
        } else {
            result.unwrap();
        }
        // A malformed value is the caller's mistake, refused before anything is sent.
        let e = Checksum::parse(ChecksumAlgorithm::Sha256, "bm90IGEgc2hhMjU2").unwrap_err();
        assert!(e.to_string().contains("SHA256"), "{e}");
        assert!(Checksum::parse(ChecksumAlgorithm::Crc32, "not base64!").is_err());
        x!(cleanup(&b));
    }}

    scenario_fn! { uploads_carry_multipart_checksums(server) {
        let c = client(server);
        let b = x!(temp_bucket(&c, "summp"));
        let name = b.name().clone();
        let (data, dir, src) = three_parts("checksums");
        let cases = [
            (ChecksumAlgorithm::Crc32c, ChecksumType::FullObject),
            (ChecksumAlgorithm::Crc64Nvme, ChecksumType::FullObject),
            (ChecksumAlgorithm::Crc32, ChecksumType::Composite),
            (ChecksumAlgorithm::Sha256, ChecksumType::Composite),
        ];
        for (alg, ty) in cases {
            let expected = multipart_sum(&data, FIVE_MIB as usize, alg, ty);
            let options = UploadOptions::default()
                .threshold(FIVE_MIB)
                .part_size(FIVE_MIB)
                .checksum(alg)
                .checksum_type(ty);
            for from_file in [true, false] {
                let k = format!("{}-{}-{}", alg.as_str(), ty.as_str(), if from_file { "file" } else { "reader" })
                    .to_ascii_lowercase();
                let out = if from_file {
                    x!(b.upload_file_with(&k, &src, options.clone()))
                } else {
                    x!(b.upload_reader(&k, &data[..], None, options.clone()))
                }
                .unwrap_or_else(|e| panic!("{k}: {e}"));
                assert_eq!(out.parts, 3, "{k}");
                // Combined from the parts without a second pass; LocalStack's own agrees.
                assert_eq!(out.checksum, Some(expected), "{k}");
                let head = x!(c.send(&op::HeadObject::new(name.clone(), key(&k)).checksum_mode(true))).unwrap();
                let boto = test_support::boto3::head_checksum(server, name.as_str(), &k);
                let boto = well_formed(boto);
                assert_eq!(as_boto(head.checksum), boto, "{k}: s3-rs and boto3 read the same");
                let by_sum = Verification::Checksum { algorithm: alg, checksum_type: ty };
                let by_etag = Verification::MultipartEtag { parts: 3, part_size: FIVE_MIB };
                // Verified by the stored checksum where the server keeps it; else by the ETag
                // (Ceph and s3s-fs keep none; moto answers HEAD and GET with values of its
                // own, right for some types, and a wrong one leaves the ETag's verdict).
                let expected_verdicts = if server.caps.multipart_checksums {
                    assert_eq!(boto, as_boto(Some(expected)), "{k}: stored");
                    vec![Some(by_sum)]
                } else if server.caps.stores_checksums {
                    vec![Some(by_sum), Some(by_etag)]
                } else {
                    vec![Some(by_etag)]
                };
                let (got, bytes) = x!(b.get(&k)).unwrap().unwrap();
                assert!(bytes == data, "{k}");
                assert!(expected_verdicts.contains(&got.verified), "{k}: get {:?}", got.verified);
                let target = dir.join(&k);
                let ranges = DownloadOptions::default().part_size(2 << 20);
                let got = x!(b.download_file_with(&k, &target, ranges)).unwrap();
                assert!(expected_verdicts.contains(&got.verified), "{k}: download_file {:?}", got.verified);
                assert!(std::fs::read(&target).unwrap() == data, "{k}");
            }
        }
        if server.caps.multipart_checksums {
            // ListParts names each part's checksum.
            let up = x!(c.send(&op::CreateMultipartUpload::new(name.clone(), key("listed")).checksum_algorithm(ChecksumAlgorithm::Sha1))).unwrap();
            let part = op::UploadPart::new(name.clone(), key("listed"), &up.upload_id, 1, "part one").checksum_algorithm(ChecksumAlgorithm::Sha1);
            let sent = x!(c.send(&part)).unwrap();
            let listed = x!(c.send(&op::ListParts::new(name.clone(), key("listed"), &up.upload_id))).unwrap();
            assert_eq!(listed.parts[0].checksum, sent.checksum);
            assert_eq!(sent.checksum, Some(Checksum::compute(ChecksumAlgorithm::Sha1, b"part one")));
            assert_eq!(listed.checksum_algorithm, Some(ChecksumAlgorithm::Sha1));
            x!(c.send(&op::AbortMultipartUpload::new(name.clone(), key("listed"), &up.upload_id))).unwrap();
        }
        // A type the algorithm lacks is refused before anything is sent.
        let bad = UploadOptions::default().checksum(ChecksumAlgorithm::Sha1).checksum_type(ChecksumType::FullObject);
        let e = x!(b.upload_reader("never", &data[..10], Some(10), bad)).unwrap_err();
        assert!(matches!(e, S3Error::Input(_)), "{e}");
        x!(cleanup(&b));
    }}

    scenario_fn! { uploads_over_tls_lean_on_their_checksum(server) {
        // Over TLS to a server that checks checksum headers, an upload's parts and single
        // PUTs go UNSIGNED-PAYLOAD with only their flexible checksum (no SHA-256 or MD5 pass,
        // as the AWS SDKs send them): the server still checks and keeps every part's.
        if server.https_endpoint.is_none() {
            return;
        }
        let tls = server.over_https();
        assert_eq!(
            server.quirks().checks_checksum_headers && tls.endpoint.starts_with("https://"),
            server.name == "localstack"
        );
        let c = client(&tls);
        let b = x!(temp_bucket(&c, "tlssum"));
        let name = b.name().clone();
        let (data, _dir, src) = three_parts("tlssum");
        let alg = ChecksumAlgorithm::Crc32c;
        let options = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB).checksum(alg);
        // CRC32C's default type: composite, from the parts' checksums.
        let expected = multipart_sum(&data, FIVE_MIB as usize, alg, ChecksumType::Composite);
        for from_file in [true, false] {
            let k = if from_file { "file" } else { "reader" };
            let out = if from_file {
                x!(b.upload_file_with(k, &src, options.clone()))
            } else {
                x!(b.upload_reader(k, &data[..], None, options.clone()))
            }
            .unwrap_or_else(|e| panic!("{k}: {e}"));
            assert_eq!((out.parts, out.checksum), (3, Some(expected)), "{k}");
            let head = x!(c.send(&op::HeadObject::new(name.clone(), key(k)).checksum_mode(true))).unwrap();
            if server.caps.multipart_checksums {
                assert_eq!(head.checksum, Some(expected), "{k}: checked and kept");
            }
            assert!(x!(b.get_bytes(k)).unwrap() == Some(data.clone()), "{k}");
        }
        let small = &data[..1000];
        x!(b.upload_reader("single", small, Some(1000), options.clone())).unwrap();
        assert!(x!(b.get_bytes("single")).unwrap().as_deref() == Some(small));
        // Unasked, such an upload still gets a checksum (CRC32, as the SDKs' default): it is
        // what covers the parts in place of a SHA-256 pass.
        let plain = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB);
        let out = x!(b.upload_file_with("unasked", &src, plain)).unwrap();
        let crc32 = multipart_sum(&data, FIVE_MIB as usize, ChecksumAlgorithm::Crc32, ChecksumType::Composite);
        assert_eq!(out.checksum, Some(crc32), "unasked");
        assert!(x!(b.get_bytes("unasked")).unwrap() == Some(data.clone()));
        x!(b.put_bytes("bytes", small.to_vec())).unwrap();
        let head = x!(c.send(&op::HeadObject::new(name.clone(), key("bytes")).checksum_mode(true))).unwrap();
        let sum = ObjectChecksum::full_object(Checksum::compute(ChecksumAlgorithm::Crc32, small));
        assert_eq!(head.checksum, Some(sum), "put_bytes: a CRC32 instead of a SHA-256");
        x!(cleanup(&b));
    }}

    scenario_fn! { stored_checksums_catch_what_etags_cannot(server) {
        let c = client(server);
        let b = x!(temp_bucket(&c, "sumcatch"));
        let name = b.name().clone();
        let stores = server.caps.multipart_checksums;
        // Parts of unequal sizes (5 MiB, then 6 MiB): no part layout rebuilds the ETag, so
        // only a stored checksum can check the bytes.
        let uneven: Vec<u8> = (0..(11u32 << 20)).map(|i| (i % 239) as u8).collect();
        let (first, second) = uneven.split_at(5 << 20);
        let alg = ChecksumAlgorithm::Crc32;
        let mut create = op::CreateMultipartUpload::new(name.clone(), key("uneven.bin"));
        if stores {
            create = create.checksum_algorithm(alg).checksum_type(ChecksumType::FullObject);
        }
        let up = x!(c.send(&create)).unwrap();
        let mut sums = MultipartChecksum::new(alg);
        let mut parts = Vec::new();
        for (n, chunk) in [(1u16, first), (2, second)] {
            let mut part = op::UploadPart::new(name.clone(), key("uneven.bin"), &up.upload_id, n, chunk.to_vec());
            if stores {
                part = part.checksum_algorithm(alg);
            }
            let out = x!(c.send(&part)).unwrap();
            if let Some(sum) = out.checksum {
                sums.add(n, sum, chunk.len() as u64).unwrap();
            }
            parts.push(op::CompletedPart { part_number: n, etag: out.etag });
        }
        let mut complete = op::CompleteMultipartUpload::new(name.clone(), key("uneven.bin"), &up.upload_id, parts);
        if stores {
            complete = complete.checksums(&sums, ChecksumType::FullObject).unwrap();
        }
        let done = x!(c.send(&complete)).unwrap();
        let mut objects = vec![("uneven.bin", uneven.clone(), alg)];
        if !stores {
            // Without a stored checksum, the ETag rebuilt at the likely part size (8 MiB)
            // differs. A read into memory or a file then asks each part's size (HeadObject
            // with partNumber) and checks the bytes along them, where the server answers
            // that; elsewhere only `Integrity::Off` reads the object (the documented gap).
            let by_parts = Verification::MultipartEtag { parts: 2, part_size: 5 << 20 };
            let got = x!(b.get("uneven.bin"));
            if server.caps.part_number_heads {
                let (head, bytes) = got.unwrap().unwrap();
                assert_eq!(head.verified, Some(by_parts));
                assert!(bytes == uneven);
            } else {
                let e = got.unwrap_err();
                assert!(is_mismatch(&e), "{e}");
            }
            let dir = test_support::files::temp_dir("uneven");
            let target = dir.join("uneven.bin");
            let got = x!(b.download_file_with("uneven.bin", &target, DownloadOptions::default()));
            if server.caps.part_number_heads {
                let head = got.unwrap();
                assert_eq!(head.verified, Some(by_parts));
                assert!(std::fs::read(&target).unwrap() == uneven);
            } else {
                assert!(is_mismatch(&got.unwrap_err()));
                assert!(!target.exists(), "no file after a mismatch");
            }
            // A stream cannot be hashed again: the real sizes excuse the miss instead.
            let mut out = Vec::new();
            let got = x!(b.download_to("uneven.bin", &mut out));
            if server.caps.part_number_heads {
                let unequal = Verification::Unverified(Unverified::UnequalParts);
                assert_eq!(got.unwrap().verified, Some(unequal));
            } else {
                assert!(is_mismatch(&got.unwrap_err()));
            }
            assert!(out == uneven, "every byte written before the verdict");
            x!(cleanup(&b));
            return;
        }
        let whole = ObjectChecksum::full_object(Checksum::compute(alg, &uneven));
        assert_eq!(done.checksum, Some(whole));
        if server.caps.sse_reported && server.caps.stores_checksums {
            // SSE-KMS: the ETag is no MD5 either.
            let kms: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            let sse = ServerSideEncryption::kms().key_id("test-key-1");
            let put = op::PutObject::new(name.clone(), key("kms.bin"), kms.clone())
                .server_side_encryption(sse.into())
                .checksum_algorithm(ChecksumAlgorithm::Crc32c);
            x!(b.put(put)).unwrap();
            objects.push(("kms.bin", kms, ChecksumAlgorithm::Crc32c));
        }

        let proxy = FaultProxy::start(&server.endpoint);
        let fc = client_at(server, &proxy.endpoint(), s3::Options::default().retry(quick_retries(3)));
        let fb = fc.bucket(name.as_str()).unwrap();
        let dir = test_support::files::temp_dir("sumcatch");
        for (k, data, alg) in &objects {
            let by = Verification::Checksum { algorithm: *alg, checksum_type: ChecksumType::FullObject };
            // Without checksum mode the ETag cannot tell: SSE-KMS has no MD5 ETag, and the
            // uneven parts' ETag is rebuilt at the likely part size, which refuses good bytes.
            proxy.inject(Fault::None, 0);
            let (_, mut reader) = x!(fb.open(op::GetObject::new(name.clone(), key(k)))).unwrap().unwrap();
            let mut out = Vec::new();
            match x!(reader.read_all(&mut out)) {
                Ok(v) => assert!(matches!(v, Verification::Unverified(_)), "{k}: {v:?}"),
                Err(e) => assert!(is_mismatch(&e) && *k == "uneven.bin", "{k}: {e}"),
            }
            // One corrupted reply is read again; every reply corrupted is refused.
            let flip = Fault::FlipResponseByte(1000);
            proxy.inject(flip, 1);
            let (head, got) = x!(fb.get(k)).unwrap().unwrap();
            assert!(got == *data, "{k}");
            assert_eq!(head.verified, Some(by), "{k}");
            proxy.inject(flip, 100);
            let e = x!(fb.get_bytes(k)).unwrap_err();
            assert!(is_mismatch(&e), "{k}: {e}");
            let target = dir.join(k);
            proxy.inject_after(1, flip, 1);
            let head = x!(fb.download_file_with(k, &target, DownloadOptions::default().part_size(1 << 20))).unwrap();
            assert_eq!(head.verified, Some(by), "{k}");
            assert!(std::fs::read(&target).unwrap() == *data, "{k}");
            std::fs::remove_file(&target).unwrap();
            proxy.inject_after(1, flip, 100);
            let e = x!(fb.download_file_with(k, &target, DownloadOptions::default().part_size(1 << 20))).unwrap_err();
            assert!(is_mismatch(&e), "{k}: {e}");
            assert!(!target.exists(), "{k}: no file after a mismatch");
            proxy.inject(flip, 1);
            let (_, mut reader) = x!(fb.open(op::GetObject::new(name.clone(), key(k)).checksum_mode(true))).unwrap().unwrap();
            let mut out = Vec::new();
            let e = x!(reader.read_all(&mut out)).unwrap_err();
            assert!(is_mismatch(&e), "{k}: open + read: {e}");
        }
        x!(cleanup(&b));
    }}

    // The SDKs' request_checksum_calculation as a client option: when_supported gives every
    // upload path a CRC32 in headers where the server's quirks say it takes them (none to
    // Ceph RGW 16, and never a trailer); when_required (the default) sends none.
    scenario_fn! { checksum_policy_follows_the_quirks(server) {
        use s3::proto::checksum::ChecksumPolicy;
        let plain = client(server);
        let b = x!(temp_bucket(&plain, "sumpolicy"));
        let name = b.name().clone();
        let options = server.options().request_checksums(ChecksumPolicy::WhenSupported);
        let c = s3::Client::with_options(server.config(), server.credentials(), options).unwrap();
        let cb = c.bucket(name.as_str()).unwrap();
        let takes = server.quirks().takes_checksum_headers;
        assert_eq!(takes, server.name != "ceph" && server.name != "cephsts");
        assert_eq!(c.options().default_checksum(), takes.then_some(ChecksumAlgorithm::Crc32));

        let body = b"checked by default".to_vec();
        let crc = ObjectChecksum::full_object(Checksum::compute(ChecksumAlgorithm::Crc32, &body));
        let big: Vec<u8> = (0..(FIVE_MIB as u32) + 1000).map(|i| (i % 251) as u8).collect();
        let composite = multipart_sum(&big, FIVE_MIB as usize, ChecksumAlgorithm::Crc32, ChecksumType::Composite);
        let multipart = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB);
        // An operation, a one-shot upload and a multipart upload, with no checksum chosen.
        x!(cb.put(op::PutObject::new(name.clone(), key("op"), body.clone()))).unwrap();
        let out = x!(cb.put_bytes_with("bytes", body.clone(), UploadOptions::default())).unwrap();
        assert_eq!(out.checksum, takes.then_some(crc), "bytes");
        let out = x!(cb.upload_reader("parts", &big[..], None, multipart.clone())).unwrap();
        assert_eq!(out.parts, 2);
        assert_eq!(out.checksum.is_some(), takes, "parts");
        // The same through a when_required client: nothing chosen, nothing sent.
        let out = x!(b.put_bytes_with("plain", body.clone(), UploadOptions::default())).unwrap();
        if !server.caps.default_checksum {
            assert_eq!(out.checksum, None, "plain");
        }

        let mut stored = std::collections::BTreeMap::new();
        for k in ["op", "bytes", "parts", "plain"] {
            let head = x!(plain.send(&op::HeadObject::new(name.clone(), key(k)).checksum_mode(true))).unwrap();
            let boto = well_formed(test_support::boto3::head_checksum(server, name.as_str(), k));
            assert_eq!(as_boto(head.checksum), boto, "{k}: s3-rs and boto3 read the same");
            stored.insert(k, head.checksum);
        }
        for k in ["op", "bytes"] {
            let expected = (takes && server.caps.stores_checksums).then_some(crc);
            assert_eq!(stored[k], expected, "{k}");
        }
        if server.caps.multipart_checksums {
            assert_eq!(stored["parts"], Some(composite), "parts");
        }
        if !server.caps.default_checksum {
            assert_eq!(stored["plain"], None, "plain: when_required sent nothing");
        }
        for k in ["op", "bytes", "plain"] {
            assert!(x!(b.get_bytes(k)).unwrap() == Some(body.clone()), "{k}");
        }
        assert!(x!(b.get_bytes("parts")).unwrap() == Some(big));
        x!(cleanup(&b));
    }}

    scenario_fn! { streamed_puts_carry_a_trailing_checksum(server) {
        // A body read once gets its checksum in an aws-chunked trailer, computed as it
        // streams: after signed chunks over http, after plain chunks over TLS. A server that
        // takes no trailer (Ceph RGW 16 refuses them, moto ignores them) gets signed chunks
        // and no checksum.
        let c = client(server);
        let b = x!(temp_bucket(&c, "trailer"));
        let name = b.name().clone();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let quirks = server.quirks();
        assert_eq!(quirks.accepts_checksum_trailer, matches!(server.name, "localstack" | "s3s"));
        let mut transports = vec![("http", client(server))];
        if server.https_endpoint.is_some() {
            transports.push(("https", client(&server.over_https())));
        }
        for (transport, tc) in &transports {
            for alg in ChecksumAlgorithm::ALL {
                let k = format!("{transport}-{}", alg.as_str().to_ascii_lowercase());
                let body = s3::proto::Body::Stream { length: Some(data.len() as u64) };
                let put = op::PutObject::new(name.clone(), key(&k), body).checksum_algorithm(alg);
                x!(tc.send_reader(&put, std::io::Cursor::new(data.clone()))).unwrap_or_else(|e| panic!("{k}: {e}"));
                let head = x!(c.send(&op::HeadObject::new(name.clone(), key(&k)).checksum_mode(true))).unwrap();
                let sum = ObjectChecksum::full_object(Checksum::compute(alg, &data));
                let expected = if quirks.takes_trailer(alg) && server.caps.stores_checksums {
                    Some(sum)
                } else if server.caps.default_checksum {
                    // Nothing sent (LocalStack misreads a CRC32C trailer): its own CRC64NVME.
                    let crc64 = Checksum::compute(ChecksumAlgorithm::Crc64Nvme, &data);
                    Some(ObjectChecksum::full_object(crc64))
                } else {
                    None
                };
                assert_eq!(head.checksum, expected, "{k}");
                let boto = well_formed(test_support::boto3::head_checksum(server, name.as_str(), &k));
                assert_eq!(as_boto(head.checksum), boto, "{k}: s3-rs and boto3 read the same");
                assert!(x!(b.get_bytes(&k)).unwrap() == Some(data.clone()), "{k}");
            }
        }
        x!(cleanup(&b));
    }}
}
