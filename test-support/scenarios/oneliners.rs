// The bucket one-liners boto users reach for, shared by s3-blocking and s3-async (see
// objects.rs for the prelude each client defines). Presigned URLs and forms are used the way
// a stranger would: plain HTTP through test_support::http, not the S3 client.

use s3::proto::post::PostPolicy;
use s3::proto::ResponseOverrides;
use test_support::http;

scenario_fn! { presigned_urls_work_for_strangers(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "presign"));
    x!(b.put_string("hello.txt", "hello, stranger")).unwrap();
    let ten_minutes = Duration::from_secs(600);

    let url = x!(b.presign_get("hello.txt", ten_minutes)).unwrap().to_string();
    let got = http::request("GET", &url, &[], b"").unwrap();
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.text(), "hello, stranger");

    let get = GetObject::new(b.name().clone(), "hello.txt".parse().unwrap()).response(
        ResponseOverrides::new()
            .content_disposition("attachment; filename=\"greeting.txt\"")
            .content_type("application/x-greeting")
            .cache_control("no-store"),
    );
    let url = x!(b.presign_get_with(&get, ten_minutes)).unwrap().to_string();
    let got = http::request("GET", &url, &[], b"").unwrap();
    assert_eq!(got.status, 200, "{}", got.text());
    if server.caps.response_overrides {
        assert_eq!(got.header("content-disposition"), Some("attachment; filename=\"greeting.txt\""));
        assert_eq!(got.header("content-type"), Some("application/x-greeting"));
        assert_eq!(got.header("cache-control"), Some("no-store"));
    }

    if server.caps.verifies_signatures {
        // One character of the signature changed: refused.
        let tampered = match url.char_indices().last() {
            Some((i, ch)) => format!("{}{}", &url[..i], if ch == '0' { '1' } else { '0' }),
            None => unreachable!(),
        };
        assert_eq!(http::request("GET", &tampered, &[], b"").unwrap().status, 403);
    }

    let url = x!(b.presign_put("from-stranger.txt", ten_minutes)).unwrap().to_string();
    let put = http::request("PUT", &url, &[("Content-Type", "text/plain")], b"uploaded by URL").unwrap();
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        x!(b.get_string("from-stranger.txt")).unwrap().as_deref(),
        Some("uploaded by URL")
    );
    x!(cleanup(&b));
}}

scenario_fn! { presigned_posts_upload_within_their_policy(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "presignpost"));
    let key: s3::proto::ObjectKey = "posted.txt".parse().unwrap();
    let expires = std::time::SystemTime::now() + Duration::from_secs(600);
    let policy = PostPolicy::new(b.name().clone(), key.clone(), expires)
        .content_length_range(1, 1000)
        .content_type("text/plain")
        .success_action_status(201);
    let form = x!(b.presigned_post(&policy)).unwrap();
    let (content_type, body) =
        http::multipart_form(form.fields(), "posted.txt", "text/plain", b"posted by a form");
    let reply = http::request("POST", form.url(), &[("Content-Type", &content_type)], &body).unwrap();
    assert!(matches!(reply.status, 200 | 201 | 204), "{} {}", reply.status, reply.text());
    let (head, bytes) = x!(b.get("posted.txt")).unwrap().expect("the form stored the object");
    assert_eq!(bytes, b"posted by a form");
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));

    if server.caps.post_policy_enforced {
        // Larger than the policy's range: refused by the server.
        let big = vec![b'x'; 2000];
        let (ct, body) = http::multipart_form(form.fields(), "posted.txt", "text/plain", &big);
        let reply = http::request("POST", form.url(), &[("Content-Type", &ct)], &body).unwrap();
        assert_eq!(reply.status, 400, "{}", reply.text());
        // A field changed after signing: refused.
        let mut fields = form.fields().to_vec();
        for (name, value) in &mut fields {
            if name == "Content-Type" {
                *value = "text/html".into();
            }
        }
        let (ct, body) = http::multipart_form(&fields, "posted.txt", "text/html", b"<b>hi</b>");
        let reply = http::request("POST", form.url(), &[("Content-Type", &ct)], &body).unwrap();
        assert_eq!(reply.status, 403, "{}", reply.text());
        // Expired by the time it is used: refused.
        let soon = std::time::SystemTime::now() + Duration::from_secs(2);
        let short = PostPolicy::new(b.name().clone(), key.clone(), soon).content_type("text/plain");
        let form = x!(b.presigned_post(&short)).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        let (ct, body) = http::multipart_form(form.fields(), "posted.txt", "text/plain", b"late");
        let reply = http::request("POST", form.url(), &[("Content-Type", &ct)], &body).unwrap();
        assert_eq!(reply.status, 403, "{}", reply.text());
        assert_eq!(x!(b.get_string("posted.txt")).unwrap().as_deref(), Some("posted by a form"));
    }
    x!(cleanup(&b));
}}

scenario_fn! { multipart_uploads_are_listed_and_aborted(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "mpuhouse"));
    let name = b.name().clone();
    let mut ids = Vec::new();
    for k in ["a.bin", "b.bin"] {
        let up = x!(c.send(&CreateMultipartUpload::new(name.clone(), k.parse().unwrap()))).unwrap();
        let part = UploadPart::new(name.clone(), k.parse().unwrap(), &up.upload_id, 1, vec![7u8; 1000]);
        x!(c.send(&part)).unwrap();
        ids.push((k, up.upload_id));
    }
    let (key, id) = &ids[0];
    let mut parts = b.parts(key, id).unwrap();
    let part = x!(parts.next()).expect("one part").unwrap();
    assert_eq!((part.part_number, part.size), (1, 1000));
    assert!(x!(parts.next()).is_none());
    if server.caps.list_multipart_uploads {
        let mut uploads = b.multipart_uploads("");
        let mut listed = Vec::new();
        while let Some(u) = x!(uploads.next()) {
            listed.push(u.unwrap().key);
        }
        listed.sort();
        assert_eq!(listed, ["a.bin", "b.bin"]);
    }
    if server.caps.abort_multipart {
        x!(b.abort(key, id)).unwrap();
        let again = x!(b.parts(key, id).unwrap().next()).expect("an answer");
        assert!(again.is_err(), "the upload is gone");
        if server.caps.list_multipart_uploads {
            // Nothing is a day old (moto dates every upload 2010); everything is older than
            // nothing.
            if server.caps.upload_times {
                assert_eq!(x!(b.abort_all_older_than(Duration::from_secs(86_400))).unwrap(), 0);
            }
            std::thread::sleep(Duration::from_millis(1100));
            assert_eq!(x!(b.abort_all_older_than(Duration::ZERO)).unwrap(), 1);
            assert!(x!(b.multipart_uploads("").next()).is_none());
        }
    }
    x!(cleanup(&b));
}}

scenario_fn! { small_one_liners(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "oneliners"));
    x!(b.put_string("dir/one.txt", "0123456789")).unwrap();
    x!(b.put_string("dir/two.txt", "two")).unwrap();
    x!(b.put_string("other.txt", "other")).unwrap();
    assert!(x!(b.exists("dir/one.txt")).unwrap());
    assert!(!x!(b.exists("dir/none.txt")).unwrap());
    let range = ByteRange::Inclusive { first: 2, last: 5 };
    assert_eq!(x!(b.get_range("dir/one.txt", range)).unwrap().as_deref(), Some(&b"2345"[..]));
    assert_eq!(x!(b.get_range("dir/none.txt", range)).unwrap(), None);

    let mut v1 = b.list_v1("dir/", None);
    let mut keys = Vec::new();
    while let Some(entry) = x!(v1.next()) {
        if let ListEntry::Object(o) = entry.unwrap() {
            keys.push(o.key);
        }
    }
    assert_eq!(keys, ["dir/one.txt", "dir/two.txt"]);

    let mut metadata = s3::proto::Metadata::new();
    metadata.insert("colour", "blue");
    x!(b.update_metadata("dir/one.txt", metadata)).unwrap();
    let head = x!(b.head("dir/one.txt")).unwrap().unwrap();
    assert_eq!(head.metadata.get("colour"), Some("blue"));
    assert_eq!(head.content_type.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(x!(b.get_string("dir/one.txt")).unwrap().as_deref(), Some("0123456789"));

    let copy = CopyObject::new(b.name().clone(), "other.txt".parse().unwrap(), b.name().clone(), "copied.txt".parse().unwrap())
        .metadata_directive(MetadataDirective::Replace)
        .content_type("text/x-copied");
    x!(b.copy_key_with(&copy)).unwrap();
    let head = x!(b.head("copied.txt")).unwrap().unwrap();
    assert_eq!(head.content_type.as_deref(), Some("text/x-copied"));
    x!(cleanup(&b));
}}

scenario_fn! { in_memory_puts_take_the_upload_options(server) {
    use s3::proto::flow::upload::UploadOptions;
    let c = client(server);
    let b = x!(temp_bucket(&c, "putwith"));
    let options = UploadOptions::default()
        .cache_control("max-age=60")
        .content_disposition("attachment; filename=\"n.txt\"")
        .website_redirect("/elsewhere.html")
        .meta("owner", "core");
    x!(b.put_string_with("note.txt", "a note", options)).unwrap();
    let head = x!(b.head("note.txt")).unwrap().unwrap();
    assert_eq!(head.content_type.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(head.cache_control.as_deref(), Some("max-age=60"));
    assert_eq!(head.content_disposition.as_deref(), Some("attachment; filename=\"n.txt\""));
    assert_eq!(head.metadata.get("owner"), Some("core"));
    assert_eq!(head.website_redirect.as_deref(), Some("/elsewhere.html"));
    assert_eq!(x!(b.get_string("note.txt")).unwrap().as_deref(), Some("a note"));

    // Above the threshold the same call is a multipart upload with the same settings.
    let data: Vec<u8> = (0..(11u32 << 20) / 4).flat_map(u32::to_le_bytes).collect();
    let options = UploadOptions::default()
        .threshold(5 << 20)
        .part_size(5 << 20)
        .content_type("application/x-numbers")
        .meta("kind", "big");
    let out = x!(b.put_bytes_with("big.bin", data.clone(), options)).unwrap();
    assert_eq!(out.parts, 3);
    let head = x!(b.head("big.bin")).unwrap().unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/x-numbers"));
    assert_eq!(head.metadata.get("kind"), Some("big"));
    assert_eq!(x!(b.get_bytes("big.bin")).unwrap(), Some(data));
    x!(cleanup(&b));
}}

scenario_fn! { delete_prefix_removes_only_what_is_under_it(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "delprefix"));
    for i in 0..25 {
        x!(b.put_string(&format!("gone/{i:02}"), "x")).unwrap();
    }
    x!(b.put_string("gone-not/kept", "x")).unwrap();
    x!(b.put_string("kept", "x")).unwrap();
    let out = x!(b.delete_prefix("gone/")).unwrap();
    assert_eq!(out.deleted, 25);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let mut left = Vec::new();
    let mut list = b.list("", None);
    while let Some(entry) = x!(list.next()) {
        if let ListEntry::Object(o) = entry.unwrap() {
            left.push(o.key);
        }
    }
    assert_eq!(left, ["gone-not/kept", "kept"]);
    x!(cleanup(&b));
}}

scenario_fn! { a_client_from_the_builder_works(server) {
    use s3::prelude::*;
    let client = Client::builder()
        .endpoint(server.endpoint.as_str())
        .region(server.region.as_str())
        .credentials(server.credentials())
        .addressing(Addressing::Path)
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let b = x!(temp_bucket(&client, "builder"));
    x!(b.put_string("built.txt", "from the builder")).unwrap();
    assert_eq!(x!(b.get_string("built.txt")).unwrap().as_deref(), Some("from the builder"));
    // Nothing to sign with is refused before anything is sent.
    let err = Client::builder().endpoint(server.endpoint.as_str()).build().unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
    x!(cleanup(&b));
}}
