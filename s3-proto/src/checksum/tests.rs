use proptest::prelude::*;
use sha2::Digest as _;

use super::*;
use crate::quirks::ServerQuirks;

const CHECK: &[u8] = b"123456789";

fn crc_of(alg: ChecksumAlgorithm, data: &[u8]) -> u64 {
    Checksum::compute(alg, data).crc().expect("a CRC")
}

fn hex(bytes: &[u8]) -> String {
    crate::sign::hex(bytes)
}

#[test]
fn known_vectors() {
    assert_eq!(crc_of(ChecksumAlgorithm::Crc32, CHECK), 0xCBF4_3926);
    assert_eq!(crc_of(ChecksumAlgorithm::Crc32c, CHECK), 0xE306_9283);
    assert_eq!(
        crc_of(ChecksumAlgorithm::Crc64Nvme, CHECK),
        0xAE8B_1486_0A79_9888
    );
    assert_eq!(
        hex(Checksum::compute(ChecksumAlgorithm::Sha1, b"abc").as_bytes()),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        hex(Checksum::compute(ChecksumAlgorithm::Sha256, b"abc").as_bytes()),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // Digests travel big-endian, base64.
    let crc32 = Checksum::compute(ChecksumAlgorithm::Crc32, CHECK);
    assert_eq!(crc32.as_bytes(), [0xCB, 0xF4, 0x39, 0x26]);
    assert_eq!(crc32.to_base64(), "y/Q5Jg==");
    assert_eq!(
        Checksum::compute(ChecksumAlgorithm::Crc64Nvme, CHECK).as_bytes(),
        0xAE8B_1486_0A79_9888_u64.to_be_bytes()
    );
    // The empty body: every CRC here is 0, the hashes their well-known values.
    for alg in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
    ] {
        assert_eq!(crc_of(alg, b""), 0, "{alg}");
    }
    assert_eq!(
        Checksum::compute(ChecksumAlgorithm::Sha256, b"").to_base64(),
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
}

#[test]
fn algorithm_names_round_trip() {
    for alg in ChecksumAlgorithm::ALL {
        assert_eq!(alg.as_str().parse::<ChecksumAlgorithm>(), Ok(alg));
        assert_eq!(
            alg.as_str()
                .to_ascii_lowercase()
                .parse::<ChecksumAlgorithm>(),
            Ok(alg)
        );
        assert_eq!(alg.to_string(), alg.as_str());
        assert_eq!(
            ChecksumAlgorithm::from_header_name(alg.header_name()),
            Some(alg)
        );
        assert_eq!(
            alg.header_name(),
            format!("x-amz-checksum-{}", alg.as_str().to_ascii_lowercase())
        );
        assert_eq!(
            Checksum::compute(alg, b"x").as_bytes().len(),
            alg.digest_len()
        );
        assert!(alg.supports(alg.default_multipart_type()));
    }
    assert!(matches!(
        "MD5".parse::<ChecksumAlgorithm>(),
        Err(InputError::InvalidArgument {
            name: "checksum algorithm",
            ..
        })
    ));
    assert_eq!(
        ChecksumAlgorithm::from_header_name("x-amz-checksum-md5"),
        None
    );
    for ty in [ChecksumType::Composite, ChecksumType::FullObject] {
        assert_eq!(ty.as_str().parse::<ChecksumType>(), Ok(ty));
        assert_eq!(ty.to_string(), ty.as_str());
    }
    assert!("PARTIAL".parse::<ChecksumType>().is_err());
}

#[test]
fn which_algorithms_support_which_type() {
    use ChecksumAlgorithm::*;
    let full: Vec<_> = ChecksumAlgorithm::ALL
        .into_iter()
        .filter(|a| a.supports(ChecksumType::FullObject))
        .collect();
    assert_eq!(full, [Crc64Nvme, Crc32, Crc32c]);
    let composite: Vec<_> = ChecksumAlgorithm::ALL
        .into_iter()
        .filter(|a| a.supports(ChecksumType::Composite))
        .collect();
    assert_eq!(composite, [Crc32, Crc32c, Sha1, Sha256]);
    assert_eq!(Crc64Nvme.default_multipart_type(), ChecksumType::FullObject);
    assert_eq!(Sha256.default_multipart_type(), ChecksumType::Composite);
}

#[test]
fn bad_header_values_are_typed_errors() {
    let cases: &[(ChecksumAlgorithm, &str)] = &[
        (ChecksumAlgorithm::Crc32, ""),
        (ChecksumAlgorithm::Crc32, "y/Q5"),     // 3 bytes
        (ChecksumAlgorithm::Crc32, "y/Q5Jg"),   // unpadded
        (ChecksumAlgorithm::Crc32, "y/Q5Jg=="), // fine below, wrong algorithm here:
        (ChecksumAlgorithm::Crc32, "y/Q5Jg!="), // not base64
        (ChecksumAlgorithm::Crc32, "y/Q5Jg==y/Q5Jg=="),
        (ChecksumAlgorithm::Crc32, "y/Q5Jh=="), // non-canonical trailing bits
        (ChecksumAlgorithm::Crc64Nvme, "y/Q5Jg=="), // 4 bytes for an 8-byte digest
        (ChecksumAlgorithm::Sha256, "é"),
    ];
    for &(alg, value) in cases {
        if value == "y/Q5Jg==" && alg == ChecksumAlgorithm::Crc32 {
            assert!(Checksum::from_header(alg, value).is_ok());
            continue;
        }
        match Checksum::from_header(alg, value) {
            Err(ResponseError::InvalidField { field, .. }) => {
                assert_eq!(field, alg.header_name(), "{value:?}");
            }
            other => panic!("{alg} {value:?}: {other:?}"),
        }
    }
    assert!(matches!(
        Checksum::new(ChecksumAlgorithm::Sha1, &[0; 32]),
        Err(InputError::InvalidArgument { .. })
    ));
    for value in [
        "y/Q5Jg==-0",
        "y/Q5Jg==-",
        "y/Q5Jg==-x",
        "y/Q5Jg==-+2",
        "y/Q5Jg==-10001",
        "-3",
        "y/Q5-Jg==-2",
    ] {
        let err = ObjectChecksum::parse(ChecksumAlgorithm::Crc32, None, value).unwrap_err();
        assert!(
            matches!(
                err,
                ResponseError::InvalidField {
                    field: "x-amz-checksum-crc32",
                    ..
                }
            ),
            "{value:?}: {err:?}"
        );
    }
}

#[test]
fn debug_and_display() {
    let sum = Checksum::compute(ChecksumAlgorithm::Crc32, CHECK);
    assert_eq!(format!("{sum:?}"), "Checksum(CRC32 y/Q5Jg==)");
    assert_eq!(sum.to_string(), "CRC32 y/Q5Jg==");
    let stored = ObjectChecksum::parse(ChecksumAlgorithm::Crc32, None, "y/Q5Jg==-2").unwrap();
    assert_eq!(stored.to_string(), "CRC32 y/Q5Jg==-2 (COMPOSITE)");
    let mut hasher = Hasher::new(ChecksumAlgorithm::Sha1);
    hasher.update(b"abc");
    assert_eq!(
        format!("{hasher:?}"),
        "Hasher { algorithm: Sha1, len: 3, .. }"
    );
}

#[test]
fn composite_is_the_digest_of_part_digests_with_a_count() {
    let parts: [&[u8]; 3] = [b"first part", b"second", b"3"];
    for alg in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ] {
        let mut upload = MultipartChecksum::new(alg);
        // Out of order, as parallel uploads finish.
        for n in [3u16, 1, 2] {
            let data = parts[usize::from(n) - 1];
            upload
                .add(n, Checksum::compute(alg, data), data.len() as u64)
                .unwrap();
        }
        let mut concatenated = Vec::new();
        for data in parts {
            concatenated.extend_from_slice(Checksum::compute(alg, data).as_bytes());
        }
        let expected = Checksum::compute(alg, &concatenated);
        let composite = upload.composite().unwrap();
        assert_eq!(composite.checksum(), &expected);
        assert_eq!(composite.parts(), Some(3));
        assert_eq!(composite.checksum_type(), ChecksumType::Composite);
        assert_eq!(
            composite.to_header_value(),
            format!("{}-3", expected.to_base64())
        );
        assert!(!composite.covers_body());
        assert!(!composite.matches_body(&Checksum::compute(alg, &parts.concat())));
        // What the server reports reads back the same.
        let back = ObjectChecksum::parse(alg, None, &composite.to_header_value()).unwrap();
        assert_eq!(back, composite);
    }
    // Independent spelling of one case: SHA256 over the raw SHA256 digests of the parts.
    let mut sha = sha2::Sha256::new();
    for data in parts {
        sha.update(sha2::Sha256::digest(data));
    }
    let mut upload = MultipartChecksum::new(ChecksumAlgorithm::Sha256);
    for (n, data) in (1u16..).zip(parts) {
        upload
            .add(n, Checksum::compute(ChecksumAlgorithm::Sha256, data), 0)
            .unwrap();
    }
    assert_eq!(
        upload.composite().unwrap().checksum().as_bytes(),
        sha.finalize().as_slice()
    );
}

#[test]
fn full_object_combines_part_crcs() {
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
    for alg in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
    ] {
        let mut upload = MultipartChecksum::new(alg);
        let chunks: Vec<&[u8]> = data.chunks(3_000).collect();
        let numbered: Vec<(u16, &&[u8])> = (1u16..).zip(&chunks).collect();
        for &(n, chunk) in numbered.iter().rev() {
            upload
                .add(n, Checksum::compute(alg, chunk), chunk.len() as u64)
                .unwrap();
        }
        // A part sent again replaces the earlier one.
        upload.add(2, Checksum::compute(alg, b"junk"), 4).unwrap();
        upload
            .add(2, Checksum::compute(alg, chunks[1]), 3_000)
            .unwrap();
        assert_eq!(upload.part_count(), 4);
        assert_eq!(upload.total_len(), 10_000);
        let full = upload.finish(ChecksumType::FullObject).unwrap();
        let whole = Checksum::compute(alg, &data);
        assert_eq!(full.checksum(), &whole);
        assert_eq!(full.parts(), None);
        assert_eq!(full.to_header_value(), whole.to_base64());
        assert!(full.matches_body(&whole));
        assert!(!full.matches_body(&Checksum::compute(alg, b"other")));
    }
}

#[test]
fn multipart_misuse_is_a_typed_error() {
    let crc32 = Checksum::compute(ChecksumAlgorithm::Crc32, b"x");
    let mut upload = MultipartChecksum::new(ChecksumAlgorithm::Crc32);
    assert!(upload.full_object().is_err(), "no parts");
    assert!(upload.composite().is_err(), "no parts");
    assert!(upload.add(0, crc32, 1).is_err());
    assert!(upload.add(10_001, crc32, 1).is_err());
    let sha = Checksum::compute(ChecksumAlgorithm::Sha1, b"x");
    assert!(matches!(
        upload.add(1, sha, 1),
        Err(InputError::InvalidArgument {
            name: "checksum",
            ..
        })
    ));
    assert_eq!(upload.part_count(), 0);

    let mut sha_upload = MultipartChecksum::new(ChecksumAlgorithm::Sha1);
    sha_upload.add(1, sha, 1).unwrap();
    assert!(
        sha_upload.full_object().is_err(),
        "SHA has no full-object form"
    );
    assert!(sha_upload.composite().is_ok());

    let mut nvme = MultipartChecksum::new(ChecksumAlgorithm::Crc64Nvme);
    nvme.add(1, Checksum::compute(ChecksumAlgorithm::Crc64Nvme, b"x"), 1)
        .unwrap();
    assert!(
        nvme.finish(ChecksumType::Composite).is_err(),
        "S3 has no composite CRC64NVME"
    );
    assert!(nvme.finish(ChecksumType::FullObject).is_ok());

    assert!(sha.combine(&sha, 1).is_err());
    assert!(
        crc32
            .combine(&Checksum::compute(ChecksumAlgorithm::Crc32c, b"x"), 1)
            .is_err()
    );
}

#[test]
fn combine_agrees_with_other_implementations_at_large_lengths() {
    // crc32fast and crc32c carry their own combine: compare ours with them at lengths no test
    // could hash, which exercises every entry of the x^(2^k) tables.
    // Not 0: zlib-derived combines return crc_a there whatever crc_b is (only crc_b = 0 is
    // consistent with an empty B, and then both answers agree).
    let lens = [
        1u64,
        7,
        4096,
        1 << 32,
        (1 << 40) + 12_345,
        u64::MAX >> 1,
        u64::MAX,
    ];
    let a32 = Checksum::compute(ChecksumAlgorithm::Crc32, b"head");
    let b32 = Checksum::compute(ChecksumAlgorithm::Crc32, b"tail bytes");
    let a32c = Checksum::compute(ChecksumAlgorithm::Crc32c, b"head");
    let b32c = Checksum::compute(ChecksumAlgorithm::Crc32c, b"tail bytes");
    for len in lens {
        let ours = a32.combine(&b32, len).unwrap().crc().unwrap();
        let mut theirs = crc32fast::Hasher::new_with_initial(a32.crc().unwrap() as u32);
        theirs.combine(&crc32fast::Hasher::new_with_initial_len(
            b32.crc().unwrap() as u32,
            len,
        ));
        assert_eq!(ours, u64::from(theirs.finalize()), "crc32 len {len}");

        if let Ok(len_usize) = usize::try_from(len) {
            let ours = a32c.combine(&b32c, len).unwrap().crc().unwrap();
            let theirs = crc32c::crc32c_combine(
                a32c.crc().unwrap() as u32,
                b32c.crc().unwrap() as u32,
                len_usize,
            );
            assert_eq!(ours, u64::from(theirs), "crc32c len {len}");
        }
    }
}

#[test]
fn object_checksum_from_headers() {
    let mut headers = HeaderMap::new();
    assert_eq!(ObjectChecksum::from_headers(&headers), Ok(None));

    headers.insert("x-amz-checksum-crc64nvme", "rosUhgp5mIg=".parse().unwrap());
    headers.insert(TYPE_HEADER, "FULL_OBJECT".parse().unwrap());
    let stored = ObjectChecksum::from_headers(&headers).unwrap().unwrap();
    assert_eq!(stored.algorithm(), ChecksumAlgorithm::Crc64Nvme);
    assert_eq!(stored.checksum_type(), ChecksumType::FullObject);
    assert!(stored.matches_body(&Checksum::compute(ChecksumAlgorithm::Crc64Nvme, CHECK)));

    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amz-checksum-sha256",
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-12"
            .parse()
            .unwrap(),
    );
    let stored = ObjectChecksum::from_headers(&headers).unwrap().unwrap();
    assert_eq!(
        stored.checksum_type(),
        ChecksumType::Composite,
        "inferred from -N"
    );
    assert_eq!(stored.parts(), Some(12));
    headers.insert(TYPE_HEADER, "COMPOSITE".parse().unwrap());
    assert_eq!(
        ObjectChecksum::from_headers(&headers).unwrap(),
        Some(stored)
    );

    headers.insert(TYPE_HEADER, "SOMETIMES".parse().unwrap());
    assert!(matches!(
        ObjectChecksum::from_headers(&headers),
        Err(ResponseError::InvalidField {
            field: TYPE_HEADER,
            ..
        })
    ));

    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amz-checksum-crc32",
        http::HeaderValue::from_bytes(b"y/Q5\xffg==").unwrap(),
    );
    assert!(matches!(
        ObjectChecksum::from_headers(&headers),
        Err(ResponseError::InvalidField {
            field: "x-amz-checksum-crc32",
            ..
        })
    ));
    headers.insert("x-amz-checksum-crc32", "not a checksum".parse().unwrap());
    assert!(ObjectChecksum::from_headers(&headers).is_err());
}

#[test]
fn default_policy_and_quirks_are_safe_for_ceph() {
    let policy = ChecksumPolicy::default();
    assert_eq!(policy, ChecksumPolicy::WhenRequired);
    assert!(!policy.checksums_request(false, false));
    assert!(policy.checksums_request(true, false));
    assert!(policy.checksums_request(false, true));
    assert!(!policy.checksums_response(false));
    assert!(policy.checksums_response(true));
    assert!(ChecksumPolicy::WhenSupported.checksums_request(false, false));
    assert!(ChecksumPolicy::WhenSupported.checksums_response(false));

    let quirks = ServerQuirks::ceph();
    let crc = Some(ChecksumAlgorithm::Crc32);
    // Ceph never gets a trailer, and nothing unless a checksum is wanted.
    for algorithm in [None, crc] {
        for streamed in [false, true] {
            assert_ne!(
                quirks.placement(algorithm, streamed),
                ChecksumPlacement::Trailer
            );
        }
    }
    assert_eq!(quirks.placement(None, false), ChecksumPlacement::None);
    assert_eq!(quirks.placement(crc, false), ChecksumPlacement::Header);
    assert_eq!(quirks.placement(crc, true), ChecksumPlacement::None);
    assert_eq!(
        ServerQuirks::aws().placement(crc, true),
        ChecksumPlacement::Trailer
    );
    assert_eq!(
        ServerQuirks::aws().placement(crc, false),
        ChecksumPlacement::Header
    );
    // LocalStack misreads a CRC32C trailer (and only that one).
    let crc32c = Some(ChecksumAlgorithm::Crc32c);
    let localstack = ServerQuirks::localstack();
    assert_eq!(localstack.placement(crc32c, true), ChecksumPlacement::None);
    assert_eq!(localstack.placement(crc, true), ChecksumPlacement::Trailer);
    assert_eq!(
        localstack.placement(crc32c, false),
        ChecksumPlacement::Header
    );
}

#[test]
fn policy_reads_the_sdk_setting() {
    for (text, policy) in [
        ("when_supported", ChecksumPolicy::WhenSupported),
        ("WHEN_REQUIRED", ChecksumPolicy::WhenRequired),
        (" when_required ", ChecksumPolicy::WhenRequired),
    ] {
        assert_eq!(text.parse::<ChecksumPolicy>().unwrap(), policy);
    }
    assert_eq!(ChecksumPolicy::WhenSupported.as_str(), "when_supported");
    let e = "always".parse::<ChecksumPolicy>().unwrap_err();
    assert!(
        e.to_string().contains("request_checksum_calculation"),
        "{e}"
    );
}

fn any_algorithm() -> impl Strategy<Value = ChecksumAlgorithm> {
    proptest::sample::select(ChecksumAlgorithm::ALL.to_vec())
}

fn any_crc() -> impl Strategy<Value = ChecksumAlgorithm> {
    proptest::sample::select(vec![
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
    ])
}

proptest! {
    /// Feeding a body in pieces gives the one-shot checksum, and its header form parses back.
    #[test]
    fn incremental_and_header_round_trip(
        alg in any_algorithm(),
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        cut in any::<prop::sample::Index>(),
    ) {
        let at = cut.index(data.len() + 1);
        let (a, b) = data.split_at(at);
        let mut hasher = Hasher::new(alg);
        hasher.update(a);
        hasher.update(b);
        prop_assert_eq!(hasher.len(), data.len() as u64);
        let sum = hasher.finish();
        prop_assert_eq!(sum, Checksum::compute(alg, &data));
        prop_assert_eq!(Checksum::from_header(alg, &sum.to_base64()), Ok(sum));
        prop_assert_eq!(Checksum::new(alg, sum.as_bytes()), Ok(sum));
        let full = ObjectChecksum::full_object(sum);
        prop_assert_eq!(ObjectChecksum::parse(alg, None, &full.to_header_value()), Ok(full));
    }

    /// The full-object CRC combined from any split into parts equals the CRC of the whole.
    #[test]
    fn combined_parts_equal_the_whole(
        alg in any_crc(),
        data in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
        at.push(0);
        at.push(data.len());
        at.sort_unstable();
        let mut upload = MultipartChecksum::new(alg);
        for (n, w) in (1u16..).zip(at.windows(2)) {
            let part = &data[w[0]..w[1]];
            upload.add(n, Checksum::compute(alg, part), part.len() as u64).unwrap();
        }
        let full = upload.full_object().unwrap();
        prop_assert_eq!(full.checksum(), &Checksum::compute(alg, &data));
    }

    /// Arbitrary header text never panics the parsers.
    #[test]
    fn header_parsers_never_panic(alg in any_algorithm(), value in ".{0,64}") {
        let _ = Checksum::from_header(alg, &value);
        let _ = ObjectChecksum::parse(alg, None, &value);
        let _ = value.parse::<ChecksumAlgorithm>();
        let _ = value.parse::<ChecksumType>();
    }
}
