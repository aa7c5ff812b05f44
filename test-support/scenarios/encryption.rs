// Real server-side encryption on Ceph RGW (`cephsts` over https, started with
// `S3RS_CEPH_SSE=1`): SSE-KMS through RGW's `testing` KMS and SSE-C, on every object path,
// compared with boto3 reading the same objects. Shared by s3-blocking and s3-async.
//
// `include!`d by each client's tests/deploy.rs after its prelude (`s3`, `x!`, `deploy_fn!`;
// see deploy.rs). Encrypted objects' ETags are no MD5 of their bytes on AWS, so their reads
// must be declared unverified (`Unverified::Encrypted`), never a false mismatch.

mod encryption {
    use super::*;

    use s3::proto::integrity::{Unverified, Verification};
    use s3::proto::ops as op;
    use s3::proto::sse::{CustomerKey, ServerSideEncryption};
    use s3::proto::{ByteRange, ErrorCode};
    use s3::{DownloadOptions, UploadOptions};
    use test_support::boto3;
    use test_support::files;

    const KEY_C: [u8; 32] = [0x5c; 32];
    const KEY_D: [u8; 32] = [0xd4; 32];
    const FIVE_MIB: u64 = 5 << 20;

    fn key(k: &str) -> ObjectKey {
        ObjectKey::new(k).unwrap()
    }

    fn https_client(server: &Server) -> (Server, Client) {
        let https = server.over_https();
        let c = Client::with_options(https.config(), https.credentials(), https.options()).unwrap();
        (https, c)
    }

    fn kms_keys(server: &Server) -> [String; 2] {
        server.sse_kms_keys.clone().unwrap_or_else(|| {
            panic!("{} runs without SSE: start it with S3RS_CEPH_SSE=1", server.name)
        })
    }

    fn encrypted(head: &s3::proto::ObjectHead) -> bool {
        head.verified == Some(Verification::Unverified(Unverified::Encrypted))
    }

    deploy_fn! { sse_kms_on_every_path(server) {
        let (https, c) = https_client(server);
        let [kms1, kms2] = kms_keys(server);
        let b = x!(c.create_bucket(&unique_bucket("ssekms"))).unwrap();
        let name = b.name().clone();
        let body: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let kms = |id: &str| ServerSideEncryption::kms().key_id(id);

        let put = op::PutObject::new(name.clone(), key("one"), body.clone()).server_side_encryption(kms(&kms1).into());
        let out = x!(b.put(put)).unwrap();
        assert_eq!(out.server_side_encryption.as_deref(), Some("aws:kms"));
        assert_eq!(out.sse_kms_key_id.as_deref(), Some(kms1.as_str()));
        // The whole read: the bytes back, declared unverified (the ETag of an SSE-KMS object
        // is no MD5), never a mismatch.
        let (head, got) = x!(b.get("one")).unwrap().unwrap();
        assert_eq!(got, body);
        assert!(encrypted(&head), "{:?}", head.verified);
        assert_eq!(head.server_side_encryption.as_deref(), Some("aws:kms"));
        let head = x!(b.head("one")).unwrap().unwrap();
        assert_eq!(head.server_side_encryption.as_deref(), Some("aws:kms"));
        assert_eq!(head.content_length, Some(body.len() as u64));
        let range = x!(b.get_range("one", ByteRange::Inclusive { first: 65_530, last: 65_549 })).unwrap().unwrap();
        assert_eq!(range, &body[65_530..65_550]);
        let seen = boto3::get_object(&https, name.as_str(), "one", None);
        assert_eq!(seen.sse.as_deref(), Some("aws:kms"));
        assert_eq!(seen.kms_key_id.as_deref(), Some(kms1.as_str()));
        assert_eq!(seen.sha256, files::sha256_bytes(&body));

        // Multipart from a file, under the second key; downloaded in ranges.
        let dir = files::temp_dir("ssekms");
        let src = files::make_file(&dir, "big.bin", 2 * FIVE_MIB + 12_345);
        let options = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB).server_side_encryption(kms(&kms2).into());
        let up = x!(b.upload_file_with("big.bin", &src, options)).unwrap();
        assert_eq!(up.parts, 3);
        let dest = dir.join("back.bin");
        let head = x!(b.download_file_with("big.bin", &dest, DownloadOptions::default().part_size(FIVE_MIB))).unwrap();
        assert_eq!(files::sha256(&dest), files::sha256(&src));
        assert!(encrypted(&head), "{:?}", head.verified);
        let seen = boto3::get_object(&https, name.as_str(), "big.bin", None);
        assert_eq!(seen.kms_key_id.as_deref(), Some(kms2.as_str()));
        assert_eq!(seen.sha256, files::sha256(&src));

        // Caller and key mistakes are typed errors.
        let no_id = op::PutObject::new(name.clone(), key("x"), "x").server_side_encryption(ServerSideEncryption::kms().into());
        let err = x!(b.put(no_id)).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::InvalidArgument), "{err}");
        let unknown = op::PutObject::new(name.clone(), key("x"), "x").server_side_encryption(kms("no-such-key").into());
        let err = x!(b.put(unknown)).unwrap_err();
        assert!(matches!(&err, S3Error::Service(e) if e.status.as_u16() == 403), "{err}");
        assert!(!x!(b.exists("x")).unwrap());

        // Ceph RGW 16 has no SSE-S3: AES256 is accepted and ignored.
        let aes = op::PutObject::new(name.clone(), key("aes"), "aes").server_side_encryption(ServerSideEncryption::S3);
        let out = x!(b.put(aes)).unwrap();
        assert_eq!(out.server_side_encryption.as_deref() == Some("AES256"), server.caps.sse_s3);
        let (head, _) = x!(b.get("aes")).unwrap().unwrap();
        assert_eq!(head.verified == Some(Verification::Md5), !server.caps.sse_s3);

        // Copies: an encrypted source, and SSE asked of a copy's destination.
        let copy = op::CopyObject::new(name.clone(), key("one"), name.clone(), key("copy"));
        let copied = x!(c.send(&copy.server_side_encryption(kms(&kms2).into())));
        if server.caps.encrypted_copy {
            copied.unwrap();
            let seen = boto3::get_object(&https, name.as_str(), "copy", None);
            assert_eq!((seen.kms_key_id.as_deref(), seen.sha256), (Some(kms2.as_str()), files::sha256_bytes(&body)));
        } else {
            assert_eq!(copied.unwrap_err().code(), Some(&ErrorCode::NotImplemented));
        }
        let plain_copy = op::CopyObject::new(name.clone(), key("aes"), name.clone(), key("aes-kms"))
            .server_side_encryption(kms(&kms1).into());
        x!(c.send(&plain_copy)).unwrap();
        let seen = boto3::get_object(&https, name.as_str(), "aes-kms", None);
        assert_eq!(seen.kms_key_id.is_some(), server.caps.copy_encrypts, "{seen:?}");
        assert_eq!(seen.sha256, files::sha256_bytes(b"aes"));
        x!(b.delete_prefix("")).unwrap();
        x!(b.delete()).unwrap();
    }}

    deploy_fn! { sse_c_on_every_path(server) {
        let (https, c) = https_client(server);
        let b = x!(c.create_bucket(&unique_bucket("ssec"))).unwrap();
        let name = b.name().clone();
        let kc = CustomerKey::new(&KEY_C).unwrap();
        let kd = CustomerKey::new(&KEY_D).unwrap();
        let body: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();

        let put = op::PutObject::new(name.clone(), key("one"), body.clone()).server_side_encryption(kc.clone().into());
        x!(b.put(put)).unwrap();
        let read = |k: &str, ck: &CustomerKey| op::GetObject::new(name.clone(), key(k)).sse_customer_key(ck.clone());
        let (head, got) = x!(b.get_with(read("one", &kc))).unwrap().unwrap();
        assert_eq!(got, body);
        assert!(encrypted(&head), "{:?}", head.verified);
        assert_eq!(head.sse_customer_algorithm.as_deref(), Some("AES256"));
        let ranged = read("one", &kc).range(ByteRange::Inclusive { first: 100, last: 65_636 });
        let (head, got) = x!(b.get_with(ranged)).unwrap().unwrap();
        assert_eq!(got, &body[100..65_637]);
        assert_eq!(head.verified, Some(Verification::Unverified(Unverified::Range)));
        let head = x!(c.send(&op::HeadObject::new(name.clone(), key("one")).sse_customer_key(kc.clone()))).unwrap();
        assert_eq!(head.sse_customer_algorithm.as_deref(), Some("AES256"));
        assert_eq!(head.content_length, Some(body.len() as u64));
        let seen = boto3::get_object(&https, name.as_str(), "one", Some(&KEY_C));
        assert_eq!(seen.customer_algorithm.as_deref(), Some("AES256"));
        assert_eq!(seen.customer_key_md5.as_deref(), Some(kc.md5()));
        assert_eq!(seen.sha256, files::sha256_bytes(&body));

        // No key, or the wrong one: typed errors, on GET (with a body) and HEAD (without).
        let err = x!(b.get("one")).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::InvalidArgument), "{err}");
        let err = x!(b.get_with(read("one", &kd))).unwrap_err();
        assert_eq!(err.code(), Some(&ErrorCode::InvalidArgument), "{err}");
        let err = x!(c.send(&op::HeadObject::new(name.clone(), key("one")).sse_customer_key(kd.clone()))).unwrap_err();
        assert!(matches!(&err, S3Error::Service(e) if e.status.as_u16() == 400), "{err}");
        // The key never shows in an error.
        assert!(!format!("{err:?}").contains("XFxcXFxc"), "{err:?}");

        // Multipart from a file and a ranged download, both with the key.
        let dir = files::temp_dir("ssec");
        let src = files::make_file(&dir, "big.bin", 2 * FIVE_MIB + 999);
        let options = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB).server_side_encryption(kc.clone().into());
        assert_eq!(x!(b.upload_file_with("big.bin", &src, options)).unwrap().parts, 3);
        let dest = dir.join("back.bin");
        let options = DownloadOptions::default().part_size(FIVE_MIB).sse_customer_key(kc.clone());
        let head = x!(b.download_file_with("big.bin", &dest, options)).unwrap();
        assert_eq!(files::sha256(&dest), files::sha256(&src));
        assert!(encrypted(&head), "{:?}", head.verified);
        let err = x!(b.download_file_with("big.bin", &dest, DownloadOptions::default())).unwrap_err();
        assert!(matches!(&err, S3Error::Service(e) if e.status.as_u16() == 400), "{err}");
        let seen = boto3::get_object(&https, name.as_str(), "big.bin", Some(&KEY_C));
        assert_eq!(seen.sha256, files::sha256(&src));

        // Copy from an SSE-C source to another customer key.
        let copy = op::CopyObject::new(name.clone(), key("one"), name.clone(), key("copy"))
            .copy_source_sse_customer_key(kc.clone())
            .server_side_encryption(kd.clone().into());
        let copied = x!(c.send(&copy));
        if server.caps.encrypted_copy {
            copied.unwrap();
            let (_, got) = x!(b.get_with(read("copy", &kd))).unwrap().unwrap();
            assert_eq!(got, body);
        } else {
            assert_eq!(copied.unwrap_err().code(), Some(&ErrorCode::NotImplemented));
        }
        // A plain source copied to an SSE-C destination.
        x!(b.put_string("plain", "in clear")).unwrap();
        let to_c = op::CopyObject::new(name.clone(), key("plain"), name.clone(), key("plain-c"))
            .server_side_encryption(kd.clone().into());
        x!(c.send(&to_c)).unwrap();
        let (head, got) = x!(b.get_with(read("plain-c", &kd))).unwrap().unwrap();
        assert_eq!(got, b"in clear");
        assert_eq!(head.sse_customer_algorithm.is_some(), server.caps.copy_encrypts);
        assert_eq!(x!(b.get("plain-c")).is_err(), server.caps.copy_encrypts);

        // Over plain http the key is refused before anything is sent.
        let plain = Client::new(server.config(), server.credentials());
        let get = op::GetObject::new(name.clone(), key("one")).sse_customer_key(kc.clone());
        let err = x!(plain.bucket(name.as_str()).unwrap().get_with(get)).unwrap_err();
        assert!(matches!(err, S3Error::Input(_)), "{err}");
        x!(b.delete_prefix("")).unwrap();
        x!(b.delete()).unwrap();
    }}

    deploy_fn! { presigned_requests_carry_sse(server) {
        // The SSE headers are signed into the URL; a stranger sends them with it (here over
        // https: Ceph refuses SSE on plain http).
        let (https, c) = https_client(server);
        let [_, kms2] = kms_keys(server);
        let b = x!(c.create_bucket(&unique_bucket("ssepresign"))).unwrap();
        let name = b.name().clone();
        let ca = std::fs::read(https.ca_file.as_ref().expect("CA")).unwrap();
        let send = |req: &s3::proto::presign::PresignedRequest, with_headers: bool, body: &[u8]| {
            let headers: Vec<(&str, &str)> = if with_headers {
                req.headers().iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
            } else {
                Vec::new()
            };
            test_support::http::request_tls(req.method().as_str(), &req.uri().to_string(), &headers, body, &ca).unwrap()
        };
        let ten_minutes = Duration::from_secs(600);
        let kc = CustomerKey::new(&KEY_C).unwrap();

        // SSE-C PUT: the key headers are among the signed ones, and needed.
        let put = op::PutObject::new(name.clone(), key("c.txt"), Vec::new()).server_side_encryption(kc.clone().into());
        let req = x!(c.presign_request(&put, ten_minutes)).unwrap();
        let names: Vec<&str> = req.headers().iter().map(|(n, _)| n.as_str()).collect();
        for h in ["x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key", "x-amz-server-side-encryption-customer-key-md5"] {
            assert!(names.contains(&h), "{h} not in {names:?}");
        }
        let signed = req.uri().query().unwrap_or_default().split('&')
            .find_map(|p| p.strip_prefix("X-Amz-SignedHeaders=")).unwrap().to_owned();
        assert!(signed.contains("x-amz-server-side-encryption-customer-key"), "{signed}");
        assert!(!format!("{req:?}").contains("XFxcXFxc"), "{req:?}");
        assert_eq!(req.method(), "PUT");
        let refused = send(&req, false, b"no key");
        assert_eq!(refused.status, 403, "{}", refused.text());
        let stored = send(&req, true, b"sealed by a stranger");
        assert_eq!(stored.status, 200, "{}", stored.text());
        let read = op::GetObject::new(name.clone(), key("c.txt")).sse_customer_key(kc.clone());
        let (head, got) = x!(b.get_with(read.clone())).unwrap().unwrap();
        assert_eq!(got, b"sealed by a stranger");
        assert_eq!(head.sse_customer_algorithm.as_deref(), Some("AES256"));

        // SSE-C GET, with and without the headers.
        let req = x!(c.presign_request(&read, ten_minutes)).unwrap();
        assert_eq!(req.method(), "GET");
        let got = send(&req, true, b"");
        assert_eq!((got.status, got.text().as_str()), (200, "sealed by a stranger"));
        assert_eq!(got.header("x-amz-server-side-encryption-customer-key-md5"), Some(kc.md5()));
        assert_eq!(send(&req, false, b"").status, 403);
        // Another key under the same URL: the signature no longer matches.
        let mut other: Vec<(String, String)> = req.headers().to_vec();
        let wrong = CustomerKey::new(&KEY_D).unwrap();
        let wrong_req = x!(c.presign_request(&op::GetObject::new(name.clone(), key("c.txt")).sse_customer_key(wrong), ten_minutes)).unwrap();
        for (n, v) in &mut other {
            if let Some((_, w)) = wrong_req.headers().iter().find(|(m, _)| m == n) {
                *v = w.clone();
            }
        }
        let headers: Vec<(&str, &str)> = other.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let swapped = test_support::http::request_tls("GET", &req.uri().to_string(), &headers, b"", &ca).unwrap();
        assert_eq!(swapped.status, 403, "{}", swapped.text());

        // SSE-KMS PUT under the second key.
        let put = op::PutObject::new(name.clone(), key("kms.txt"), Vec::new())
            .server_side_encryption(ServerSideEncryption::kms().key_id(kms2.as_str()).into());
        let req = x!(c.presign_request(&put, ten_minutes)).unwrap();
        assert!(req.headers().contains(&("x-amz-server-side-encryption-aws-kms-key-id".to_owned(), kms2.clone())), "{req:?}");
        let stored = send(&req, true, b"kms by a stranger");
        assert_eq!(stored.status, 200, "{}", stored.text());
        assert_eq!(stored.header("x-amz-server-side-encryption"), Some("aws:kms"));
        let seen = boto3::get_object(&https, name.as_str(), "kms.txt", None);
        assert_eq!(seen.kms_key_id.as_deref(), Some(kms2.as_str()));
        assert_eq!(seen.sha256, files::sha256_bytes(b"kms by a stranger"));

        // A customer key is never put in a plain http URL's headers.
        let plain = Client::new(server.config(), server.credentials());
        let err = x!(plain.presign_request(&read, ten_minutes)).unwrap_err();
        assert!(matches!(err, S3Error::Input(_)), "{err}");
        x!(b.delete_prefix("")).unwrap();
        x!(b.delete()).unwrap();
    }}
}
