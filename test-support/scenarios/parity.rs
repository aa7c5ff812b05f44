// Behaviour the two clients once disagreed on, and the deadlines of every call path, shared by
// s3-blocking and s3-async (see objects.rs for the prelude each client defines; this file also
// needs `put_stream(&Bucket, key, Vec<u8>)`, which sends through `Bucket::put_reader`).

use s3::proto::{Deadline, Error as S3Error, TransportErrorKind};

/// A client reaching `endpoint` (a proxy) with the given options, the server's quirks and no
/// retries unless asked.
fn client_at(server: &test_support::Server, endpoint: &str, options: s3::Options) -> s3::Client {
    let options = options.quirks(server.quirks());
    s3::Client::with_options(server.config_via(endpoint), server.credentials(), options)
        .expect("client options")
}

fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .delays(Duration::from_millis(100), Duration::from_millis(400))
}

/// The deadline a timeout error names, or a panic naming what came instead.
fn deadline_of(result: Result<impl std::fmt::Debug, S3Error>, what: &str) -> Deadline {
    match result {
        Err(S3Error::Transport(t)) if t.kind() == TransportErrorKind::Timeout => {
            t.deadline().unwrap_or_else(|| panic!("{what}: timeout without a deadline: {t}"))
        }
        other => panic!("{what}: expected a timeout, got {other:?}"),
    }
}

scenario_fn! { send_reader_retries_a_refused_connect(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "refused"));
    // Nothing listens on the proxy's port for the first 300 ms: the first attempts cannot
    // connect, so nothing of the one-shot body was read and the request may be retried.
    let proxy = FaultProxy::start_after(&server.endpoint, Duration::from_millis(300));
    let options = s3::Options::default().retry(quick_retries(8).budget(Duration::from_secs(20)));
    let c = client_at(server, &proxy.endpoint(), options);
    let fb = c.bucket(b.name().as_str()).unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    x!(put_stream(&fb, "streamed.bin", data.clone())).expect("streamed put after refused connects");
    assert_eq!(x!(b.get_bytes("streamed.bin")).unwrap().as_deref(), Some(&data[..]));
    x!(cleanup(&b));
}}

scenario_fn! { reader_parts_run_side_by_side(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "readerpar"));
    let proxy = FaultProxy::start(&server.endpoint);
    // Every reply waits 300 ms: parts overlap only if the client sends them side by side.
    proxy.inject(Fault::DelayFirstByte(Duration::from_millis(300)), 100);
    let c = client_at(server, &proxy.endpoint(), s3::Options::default());
    let fb = c.bucket(b.name().as_str()).unwrap();
    let data: Vec<u8> = (0..(4 * FIVE_MIB) as u32).map(|i| (i % 239) as u8).collect();
    let options = UploadOptions::default().threshold(FIVE_MIB).part_size(FIVE_MIB);
    let out = x!(fb.upload_reader("parts.bin", &data[..], None, options)).unwrap();
    assert_eq!(out.parts, 4, "four full parts; the fifth read found the end");
    let most = proxy.stats().max_open.load(std::sync::atomic::Ordering::Relaxed);
    assert!(most >= 3, "parts of a reader must run side by side: at most {most} at once");
    assert_eq!(x!(b.get_bytes("parts.bin")).unwrap().as_deref(), Some(&data[..]));
    x!(cleanup(&b));
}}

scenario_fn! { in_flight_limits_hold_across_clones_and_transfers(server) {
    use std::sync::atomic::Ordering::SeqCst;
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "inflight"));
    let data: Vec<u8> = (0..(4u32 << 20)).map(|i| (i % 229) as u8).collect();
    x!(b.put_bytes("a.bin", data.clone())).unwrap();
    let proxy = FaultProxy::start(&server.endpoint);
    // Every reply waits 100 ms: requests overlap as far as the client lets them.
    proxy.inject(Fault::DelayFirstByte(Duration::from_millis(100)), 1000);
    let dir = test_support::files::temp_dir("inflight");
    // Four ranges side by side per download.
    let ranges = DownloadOptions::default().part_size(1 << 20).memory_budget(4 << 20);
    let c = client_at(server, &proxy.endpoint(), s3::Options::default());
    let fb = c.bucket(b.name().as_str()).unwrap();
    x!(fb.download_file_with("a.bin", dir.join("free.bin"), ranges.clone())).unwrap();
    let most = proxy.stats().max_awaiting.swap(0, SeqCst);
    assert!(most >= 3, "without a limit the ranges overlap: at most {most} at once");

    // Two downloads at once through two clones of a client allowed two requests in flight.
    let c = client_at(server, &proxy.endpoint(), s3::Options::default().max_in_flight(Some(2)));
    let (b1, b2) = (c.bucket(b.name().as_str()).unwrap(), c.clone().bucket(b.name().as_str()).unwrap());
    let (one, two) = (dir.join("1.bin"), dir.join("2.bin"));
    let (r1, r2) = both!(
        b1.download_file_with("a.bin", &one, ranges.clone()),
        b2.download_file_with("a.bin", &two, ranges.clone())
    );
    r1.unwrap();
    r2.unwrap();
    let most = proxy.stats().max_awaiting.swap(0, SeqCst);
    assert_eq!(most, 2, "two in flight at most, and both slots used");
    assert_eq!(c.in_flight(), (0, 2), "every slot given back");
    for path in [&one, &two] {
        assert!(std::fs::read(path).unwrap() == data, "the downloaded bytes differ");
    }

    // Per host: the same, one download.
    let options = s3::Options::default().max_in_flight_per_host(Some(2));
    let c = client_at(server, &proxy.endpoint(), options);
    let fb = c.bucket(b.name().as_str()).unwrap();
    x!(fb.download_file_with("a.bin", dir.join("host.bin"), ranges)).unwrap();
    assert_eq!(proxy.stats().max_awaiting.load(SeqCst), 2);
    std::fs::remove_dir_all(&dir).unwrap();
    x!(cleanup(&b));
}}

scenario_fn! { overlong_range_bodies_are_errors(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "overlong"));
    let data: Vec<u8> = (0..(3u32 << 20)).map(|i| (i % 233) as u8).collect();
    x!(b.put_bytes("ranged.bin", data.clone())).unwrap();
    let proxy = FaultProxy::start(&server.endpoint);
    let options = s3::Options::default().retry(RetryPolicy::none());
    let c = client_at(server, &proxy.endpoint(), options);
    let fb = c.bucket(b.name().as_str()).unwrap();
    let dir = test_support::files::temp_dir("overlong");
    let target = dir.join("ranged.bin");
    // The HEAD passes; the first range comes back without a length and 10 bytes too long.
    proxy.inject_after(1, Fault::LongerBody(10), 100);
    let ranges = DownloadOptions::default().part_size(1 << 20).memory_budget(1 << 20);
    let err = x!(fb.download_file_with("ranged.bin", &target, ranges)).unwrap_err();
    assert!(
        matches!(err, S3Error::Response(s3::proto::ResponseError::LengthMismatch { .. })),
        "a range longer than asked must fail, not be cut: {err}"
    );
    assert!(!target.exists(), "no partial file");
    test_support::files::assert_no_partial_files(&dir);
    x!(cleanup(&b));
}}

scenario_fn! { every_deadline_is_typed(server) {
    let direct = client(server);
    let b = x!(temp_bucket(&direct, "deadlines"));
    let data: Vec<u8> = (0..(2u32 << 20)).map(|i| (i % 229) as u8).collect();
    x!(b.put_bytes("slow.bin", data)).unwrap();
    let dir = test_support::files::temp_dir("deadlines");
    let proxy = FaultProxy::start(&server.endpoint);
    let none = s3::Options::default().retry(RetryPolicy::none());
    let ms = Duration::from_millis;

    // Stall before the headers, then in the middle of a body (small reads and a file).
    let stall = client_at(server, &proxy.endpoint(), none.clone().stall_timeout(Some(ms(400))));
    let sb = stall.bucket(b.name().as_str()).unwrap();
    proxy.inject(Fault::DelayFirstByte(ms(1500)), 1);
    assert_eq!(deadline_of(x!(sb.head("slow.bin")), "stall before headers"), Deadline::Stall);
    proxy.inject(Fault::Stall(4096, ms(1500)), 1);
    assert_eq!(deadline_of(x!(sb.get_bytes("slow.bin")), "stall mid-body"), Deadline::Stall);
    proxy.inject_after(1, Fault::Stall(4096, ms(1500)), 1);
    let got = dir.join("stalled.bin");
    let r = x!(sb.download_file("slow.bin", &got));
    assert_eq!(deadline_of(r, "stall mid-download"), Deadline::Stall);
    assert!(!got.exists());

    // The whole-request deadline fires in the middle of a body that keeps trickling.
    let whole = none.clone().stall_timeout(None).request_timeout(Some(ms(700)));
    let rb_client = client_at(server, &proxy.endpoint(), whole);
    let rb = rb_client.bucket(b.name().as_str()).unwrap();
    proxy.inject(Fault::Stall(4096, ms(2000)), 1);
    assert_eq!(deadline_of(x!(rb.get_bytes("slow.bin")), "request mid-body"), Deadline::Request);
    proxy.inject_after(1, Fault::Stall(4096, ms(2000)), 1);
    let r = x!(rb.download_file("slow.bin", &got));
    assert_eq!(deadline_of(r, "request mid-download"), Deadline::Request);
    assert!(!got.exists());
    test_support::files::assert_no_partial_files(&dir);

    // A listener that never accepts, its backlog full: the next connect hangs.
    let (endpoint, _held) = test_support::proxy::unanswered_endpoint();
    let slow = client_at(server, &endpoint, none.connect_timeout(Some(ms(300))));
    let r = x!(slow.list_buckets());
    assert_eq!(deadline_of(r, "connect"), Deadline::Connect);
    x!(cleanup(&b));
}}
