// Multipart uploads and ranged downloads, shared by s3-blocking and s3-async (see objects.rs
// for the prelude each client defines before including this file).

use s3::proto::ops::{CreateMultipartUpload, ListMultipartUploads, UploadPart};
use s3::{DownloadOptions, UploadOptions};

const FIVE_MIB: u64 = 5 << 20;

scenario_fn! { multipart_files_round_trip(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "multipart"));
    let dir = test_support::files::temp_dir("multipart");
    // Everything from 1 byte goes multipart, in 5 MiB parts, two in flight.
    let upload = UploadOptions::default()
        .threshold(1)
        .part_size(FIVE_MIB)
        .memory_budget(2 * FIVE_MIB);
    // Ranges of 3 MiB, two in flight, so parts and ranges never line up.
    let download = DownloadOptions::default().part_size(3 << 20).memory_budget(6 << 20);
    // Progress as boto's `cb` reported it: running sums, ending at the total.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let b = b.with_progress(move |p| sink.lock().unwrap().push((p.bytes, p.total)));
    for (name, len, parts) in [
        ("empty.bin", 0, 0),
        ("one-byte.bin", 1, 1),
        ("exactly-one-part.bin", FIVE_MIB, 1),
        ("three-parts.bin", 2 * FIVE_MIB + 1, 3),
    ] {
        let src = test_support::files::make_file(&dir, name, len);
        seen.lock().unwrap().clear();
        let out = x!(b.upload_file_with(name, &src, upload.clone()))
            .unwrap_or_else(|e| panic!("upload {name}: {e}"));
        assert_eq!(out.parts, parts, "{name}");
        let reports = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(reports.last(), Some(&(len, Some(len))), "{name}: {reports:?}");
        assert!(reports.windows(2).all(|w| w[0].0 <= w[1].0), "{name}: {reports:?}");
        if parts > 1 {
            assert_eq!(reports.len(), usize::from(parts), "{name}: one report per part");
        }
        let head = x!(b.head(name)).unwrap().unwrap();
        assert_eq!(head.content_length, Some(len), "{name}");
        assert_eq!(head.content_type.as_deref(), Some("application/octet-stream"), "{name}");
        if parts > 0 {
            assert!(head.is_multipart(), "{name}: ETag {:?}", head.etag);
        }
        let dst = dir.join(format!("{name}.down"));
        let got = x!(b.download_file_with(name, &dst, download.clone()))
            .unwrap_or_else(|e| panic!("download {name}: {e}"));
        let reports = std::mem::take(&mut *seen.lock().unwrap());
        if len > 0 {
            assert_eq!(reports.last(), Some(&(len, Some(len))), "{name}: {reports:?}");
        }
        assert_eq!(got.content_length, Some(len));
        assert_eq!(
            test_support::files::sha256(&src),
            test_support::files::sha256(&dst),
            "{name}"
        );
    }
    // With Content-MD5 on every part and on a single PutObject, the servers accept the same.
    let md5 = upload.clone().content_md5(true);
    for (name, len) in [("md5-single.bin", 1000u64), ("md5-parts.bin", 2 * FIVE_MIB + 7)] {
        let src = test_support::files::make_file(&dir, name, len);
        x!(b.upload_file_with(name, &src, md5.clone().threshold(6 << 20)))
            .unwrap_or_else(|e| panic!("upload {name} with Content-MD5: {e}"));
        let mut back = Vec::new();
        x!(b.download_to(name, &mut back)).unwrap();
        assert_eq!(back, std::fs::read(&src).unwrap(), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    x!(cleanup(&b));
}}

scenario_fn! { failed_multipart_upload_is_aborted(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "mp-abort"));
    let dir = test_support::files::temp_dir("mp-abort");
    // A directory opens like a file and has a length, but every read fails: the upload starts,
    // its first part fails, and the client must abort it.
    let unreadable = dir.join("unreadable");
    std::fs::create_dir(&unreadable).unwrap();
    let options = UploadOptions::default().threshold(1);
    let err = x!(b.upload_file_with("never.bin", &unreadable, options)).unwrap_err();
    assert!(matches!(err, s3::Error::Transport(_)), "{err:?}");
    assert_eq!(x!(b.head("never.bin")).unwrap(), None);
    if server.caps.list_multipart_uploads {
        let listed = x!(c.send(&ListMultipartUploads::new(b.name().clone()))).unwrap();
        assert!(listed.uploads.is_empty(), "left behind: {:?}", listed.uploads);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    x!(cleanup(&b));
}}

scenario_fn! { multipart_actions_page_and_abort(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "mp-list"));
    let key = ObjectKey::new("dir/multi part+key").unwrap();
    let created = x!(c.send(&CreateMultipartUpload::new(b.name().clone(), key.clone())))
        .unwrap();
    assert!(!created.upload_id.is_empty());
    // Parts may be small until Complete; two tiny parts are enough to page through.
    for n in 1..=2u16 {
        let part = UploadPart::new(b.name().clone(), key.clone(), &created.upload_id, n, vec![b'x'; 10])
            .content_md5();
        let out = x!(c.send(&part)).unwrap();
        assert!(out.etag.starts_with('"'), "{:?}", out.etag);
    }
    let list = s3::proto::ops::ListParts::new(b.name().clone(), key.clone(), &created.upload_id)
        .max_parts(1);
    let mut pages = s3::proto::flow::paginate::Pages::new(list);
    let mut numbers = Vec::new();
    while let Some(op) = pages.next_op() {
        let page = x!(c.send(op)).unwrap();
        numbers.extend(page.parts.iter().map(|p| p.part_number));
        pages.handle(&page).unwrap();
    }
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    if server.caps.list_multipart_uploads {
        let listed = x!(c.send(&ListMultipartUploads::new(b.name().clone()).prefix("dir/")))
            .unwrap();
        assert_eq!(listed.uploads.len(), 1);
        assert_eq!(listed.uploads[0].key, key.as_str());
        assert_eq!(listed.uploads[0].upload_id, created.upload_id);
    }
    if server.caps.abort_multipart {
        let abort = s3::proto::ops::AbortMultipartUpload::new(b.name().clone(), key.clone(), &created.upload_id);
        x!(c.send(&abort)).unwrap();
        let gone = x!(c.send(&s3::proto::ops::ListParts::new(b.name().clone(), key, &created.upload_id)))
            .unwrap_err();
        assert!(
            matches!(gone.code(), Some(ErrorCode::NoSuchUpload | ErrorCode::NoSuchKey)),
            "{gone}"
        );
    }
    x!(cleanup(&b));
}}

scenario_fn! { readers_and_writers_of_any_length(server) {
    let c = client(server);
    let b = x!(temp_bucket(&c, "readers"));
    let options = UploadOptions::default()
        .threshold(FIVE_MIB)
        .part_size(FIVE_MIB)
        .memory_budget(2 * FIVE_MIB);
    // Lengths around the threshold and the part size, known and unknown.
    for len in [0usize, 1, (5 << 20) - 1, 5 << 20, (10 << 20) + 3] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        for known in [true, false] {
            let name = format!("reader-{len}-{known}.bin");
            let length = known.then_some(len as u64);
            let out = x!(b.upload_reader(&name, &data[..], length, options.clone()))
                .unwrap_or_else(|e| panic!("upload {name}: {e}"));
            let multipart = len >= (5 << 20);
            assert_eq!(out.parts > 0, multipart, "{name}: {} parts", out.parts);
            let mut back = Vec::new();
            let head = x!(b.download_to(&name, &mut back)).unwrap();
            assert_eq!(head.content_length, Some(len as u64), "{name}");
            assert!(back == data, "{name}: content differs");
        }
    }
    // A reader shorter than the length it was announced with is refused, and leaves nothing.
    let short = [1u8; 100];
    let err = x!(b.upload_reader("short.bin", &short[..], Some(200), options)).unwrap_err();
    assert!(matches!(err, s3::Error::Input(_)), "{err:?}");
    assert_eq!(x!(b.head("short.bin")).unwrap(), None);
    x!(cleanup(&b));
}}
