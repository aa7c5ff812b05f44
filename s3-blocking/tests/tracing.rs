//! The `tracing` feature against a real server: one `s3.request` span per request with the
//! operation, bucket, path, attempts, status and request id; events for failed attempts and
//! retries; never a secret, a signature or a presigned query. A small subscriber records
//! everything as text on this thread (requests here run on the calling thread).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use s3::proto::flow::request::Options;
use s3::proto::{Config, Credentials};
use s3_blocking as s3;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every span's fields and every event as text lines.
#[derive(Default, Clone)]
struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
    next: Arc<AtomicU64>,
}

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Recorder {
    fn push(&self, line: String) {
        self.lines.lock().unwrap().push(line);
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut line = format!("span#{id} {}", span.metadata().name());
        span.record(&mut Text(&mut line));
        self.push(line);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut line = format!("record#{}", span.into_u64());
        values.record(&mut Text(&mut line));
        self.push(line);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let parent = event.parent().map_or(0, Id::into_u64);
        let mut line = format!("event#{parent} {}", event.metadata().target());
        event.record(&mut Text(&mut line));
        self.push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[test]
fn requests_are_traced_without_secrets() {
    let server = test_support::server("ceph").expect("the ceph server");
    let secret = server.secret_key.clone();
    let config = Config::new(&server.endpoint, &server.region).unwrap();
    let credentials = Credentials::new(&server.access_key, &secret);
    let client = s3::Client::with_options(config, credentials, Options::default()).unwrap();
    let recorder = Recorder::default();
    let bucket_name = test_support::unique_bucket("traced");
    tracing::subscriber::with_default(recorder.clone(), || {
        let bucket = client.create_bucket(&bucket_name).unwrap();
        bucket.put_string("dir/hello.txt", "hello").unwrap();
        assert_eq!(bucket.get_string("dir/missing.txt").unwrap(), None);
        let url = bucket
            .presign_get("dir/hello.txt", std::time::Duration::from_secs(60))
            .unwrap();
        assert!(url.query().is_some());
        bucket.delete_key("dir/hello.txt").unwrap();
        bucket.delete().unwrap();
        // Refused by the server: one failed attempt, not retried.
        let gone = client.bucket(&bucket_name).unwrap();
        assert!(gone.list_all("", None).is_err());
        // Nobody listening: failed attempts and retries.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = Config::new(&format!("http://127.0.0.1:{port}"), &server.region).unwrap();
        let nowhere = s3::Client::new(config, Credentials::new(&server.access_key, &secret));
        assert!(nowhere.list_buckets().is_err());
    });
    let text = recorder.text();
    for wanted in [
        "span#1 s3.request op=\"CreateBucket\"",
        "op=\"PutObject\"",
        "path=\"/",
        "dir/hello.txt\"",
        "status=200",
        "status=404",
        "request_id=",
        "s3 request done",
        "s3 attempt failed",
        "NoSuchBucket",
        "op=\"ListBuckets\"",
        "s3 retry",
        "why=\"retryable error\"",
        "ok=false",
    ] {
        assert!(text.contains(wanted), "no {wanted:?} in:\n{text}");
    }
    assert!(
        text.contains(&format!("bucket=\"{bucket_name}\"")),
        "{text}"
    );
    for secret in [
        secret.as_str(),
        "X-Amz-Signature",
        "Signature=",
        "Credential=",
    ] {
        assert!(!text.contains(secret), "{secret:?} in:\n{text}");
    }
}
