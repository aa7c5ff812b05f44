// Real faults between the client and a real server (test_support::proxy::FaultProxy), shared by
// s3-blocking and s3-async (see objects.rs for the prelude each client defines).
//
// Every transfer either succeeds with byte-identical data or fails with a clear error, never
// leaving a partial target file or an orphaned multipart upload.

use s3::proto::retry::RetryPolicy;
use test_support::proxy::{Fault, FaultProxy};

/// A client reaching `server` through `proxy`, retrying quickly and detecting stalls in 1 s.
fn faulty_client(server: &test_support::Server, proxy: &FaultProxy, attempts: u32) -> s3::Client {
    let retry = RetryPolicy::default()
        .max_attempts(attempts)
        .delays(Duration::from_millis(10), Duration::from_millis(200));
    let options = s3::Options::default()
        .retry(retry)
        .stall_timeout(Some(Duration::from_secs(1)));
    s3::Client::with_options(server.config_via(&proxy.endpoint()), server.credentials(), options)
        .expect("client options")
}

/// The faults each transfer meets twice before the network heals.
const FAULTS: [Fault; 8] = [
    Fault::DropResponseAfter(100),
    Fault::DropResponseAfter(70_000),
    Fault::DropRequestAfter(300),
    Fault::DropRequestAfter(200_000),
    Fault::Stall(65_536, Duration::from_millis(1500)),
    Fault::DelayFirstByte(Duration::from_millis(300)),
    Fault::SlowDown,
    Fault::InternalError,
];

scenario_fn! { transfers_survive_faults(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "faults"));
    let proxy = FaultProxy::start(&server.endpoint);
    let c = faulty_client(server, &proxy, 6);
    let fb = c.bucket(b.name().as_str()).unwrap();
    let dir = test_support::files::temp_dir("faults");
    // Multipart from 6 MiB in 5 MiB parts; downloads in 4 MiB ranges.
    let upload = UploadOptions::default().threshold(6 << 20).part_size(FIVE_MIB);
    let download = DownloadOptions::default().part_size(4 << 20);
    let mut verified = 0u64;
    for (i, fault) in FAULTS.iter().enumerate() {
        for len in [0u64, 1, 1 << 20, 12 << 20] {
            let name = format!("f{i}-{len}.bin");
            let src = test_support::files::make_file(&dir, &name, len);
            let want = test_support::files::sha256(&src);

            proxy.inject(*fault, 2);
            x!(fb.upload_file_with(&name, &src, upload.clone()))
                .unwrap_or_else(|e| panic!("upload {name} through {fault:?}: {e}"));
            // Checked without the proxy: what the server stored is the source.
            let stored = dir.join(format!("{name}.stored"));
            x!(b.download_file(&name, &stored)).unwrap();
            assert_eq!(test_support::files::sha256(&stored), want, "{name} stored, {fault:?}");

            proxy.inject(*fault, 2);
            let got = dir.join(format!("{name}.got"));
            x!(fb.download_file_with(&name, &got, download.clone()))
                .unwrap_or_else(|e| panic!("download {name} through {fault:?}: {e}"));
            assert_eq!(test_support::files::sha256(&got), want, "{name} fetched, {fault:?}");
            verified += 2 * len;
            test_support::files::assert_no_partial_files(&dir);
        }
    }
    // Lost CreateMultipartUpload replies started uploads the client must have swept (it
    // recognises them by their start time, which moto does not report).
    if server.caps.list_multipart_uploads && server.caps.upload_times {
        let listed = x!(direct.send(&ListMultipartUploads::new(b.name().clone()))).unwrap();
        assert!(listed.uploads.is_empty(), "orphaned uploads: {:?}", listed.uploads);
    }
    let stats = proxy.stats();
    // The counts for the issue note (visible with --nocapture).
    eprintln!(
        "{}: faults injected {}, connections {}, bytes verified {verified}",
        server.name,
        stats.faults.load(std::sync::atomic::Ordering::Relaxed),
        stats.connections.load(std::sync::atomic::Ordering::Relaxed),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    x!(cleanup(&b));
}}

scenario_fn! { lost_replies_of_create_and_complete(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "lost"));
    let proxy = FaultProxy::start(&server.endpoint);
    let c = faulty_client(server, &proxy, 4);
    let fb = c.bucket(b.name().as_str()).unwrap();
    let dir = test_support::files::temp_dir("lost");
    let src = test_support::files::make_file(&dir, "two-parts.bin", FIVE_MIB + 10);
    let upload = UploadOptions::default().threshold(1).part_size(FIVE_MIB);
    // Requests: create, part 1, part 2 (one at a time), complete. The replies of the create
    // and then of the complete are lost after the server acted on the request.
    for (what, skip) in [("create", 0), ("complete", 3)] {
        let key = format!("lost-{what}.bin");
        proxy.inject_after(skip, Fault::DropResponseAfter(10), 1);
        let out = x!(fb.upload_file_with(&key, &src, upload.clone().memory_budget(1)))
            .unwrap_or_else(|e| panic!("{what} reply lost: {e}"));
        assert_eq!(out.parts, 2, "{what}");
        assert_eq!(proxy.pending(), 0, "the {what} fault was injected");
        let mut back = Vec::new();
        x!(b.download_to(&key, &mut back)).unwrap();
        assert!(back == std::fs::read(&src).unwrap(), "{what}: content differs");
    }
    if server.caps.list_multipart_uploads && server.caps.upload_times {
        let listed = x!(direct.send(&ListMultipartUploads::new(b.name().clone()))).unwrap();
        assert!(listed.uploads.is_empty(), "orphaned uploads: {:?}", listed.uploads);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    x!(cleanup(&b));
}}

scenario_fn! { spent_retry_budget_fails_cleanly(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "budget"));
    let proxy = FaultProxy::start(&server.endpoint);
    let c = faulty_client(server, &proxy, 3);
    let fb = c.bucket(b.name().as_str()).unwrap();
    let dir = test_support::files::temp_dir("budget");
    let src = test_support::files::make_file(&dir, "big.bin", 11 << 20);
    x!(b.upload_file("present.bin", &src)).unwrap();

    // The server keeps saying SlowDown: the error says so, after the allowed attempts.
    proxy.inject(Fault::SlowDown, 1000);
    let err = x!(fb.put_string("k", "v")).unwrap_err();
    assert_eq!(err.code(), Some(&ErrorCode::SlowDown), "{err}");
    let before = proxy.stats().faults.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(before, 3, "three attempts, then the error");

    // A download that keeps failing leaves no file, not even a temporary one.
    proxy.inject(Fault::DropResponseAfter(50_000), 1000);
    let target = dir.join("never.bin");
    let err = x!(fb.download_file("present.bin", &target)).unwrap_err();
    assert!(matches!(err, s3::Error::Transport(_) | s3::Error::Response(_)), "{err:?}");
    assert!(!target.exists());
    test_support::files::assert_no_partial_files(&dir);

    // A multipart upload whose parts keep failing is aborted: nothing is left behind.
    proxy.inject(Fault::DropRequestAfter(100_000), 1000);
    let upload = UploadOptions::default().threshold(1).part_size(FIVE_MIB);
    let err = x!(fb.upload_file_with("never.bin", &src, upload)).unwrap_err();
    assert!(matches!(err, s3::Error::Transport(_)), "{err:?}");
    proxy.inject(Fault::None, 0);
    assert_eq!(x!(b.head("never.bin")).unwrap(), None);
    if server.caps.list_multipart_uploads {
        let listed = x!(direct.send(&ListMultipartUploads::new(b.name().clone()))).unwrap();
        assert!(listed.uploads.is_empty(), "orphaned uploads: {:?}", listed.uploads);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    x!(cleanup(&b));
}}
