//! A real browser (headless Chromium) uploads through the `browser_upload` example's page:
//! CORS, presigned PUT and presigned POST as a web page uses them, on every server that
//! answers CORS preflights (a capability: s3-fs and moto do not).

use s3_blocking::Client;
use test_support::browser::{Run, example, run};
use test_support::{Server, unique_bucket};

fn servers() -> Vec<Server> {
    test_support::ALL_SERVERS
        .iter()
        .filter_map(|name| test_support::server(name))
        .filter(|s| s.caps.cors && s.caps.preflight)
        .collect()
}

fn upload(server: &Server, extra: &[&str]) -> (Run, s3_blocking::Bucket) {
    let bucket = unique_bucket("browser");
    let exe = example("s3-blocking", "browser_upload");
    let mut args = vec![bucket.as_str(), "--timeout", "40"];
    args.extend_from_slice(extra);
    let run = run(&exe, server, &args);
    let client = Client::new(server.config(), server.credentials());
    (run, client.bucket(&bucket).unwrap())
}

fn cleanup(bucket: &s3_blocking::Bucket) {
    for key in ["from-browser-put.txt", "from-browser-post.txt"] {
        let _ = bucket.delete_key(key);
    }
    let _ = bucket.delete();
}

#[test]
fn the_page_uploads_with_put_and_post() {
    for server in servers() {
        let (run, bucket) = upload(&server, &[]);
        assert_eq!(run.code, Some(0), "{}: {run:?}", server.name);
        let (head, bytes) = bucket.get("from-browser-put.txt").unwrap().unwrap();
        assert_eq!(bytes, b"hello from the browser (presigned PUT)\n");
        assert_eq!(head.content_type.as_deref(), Some("text/plain"));
        // The ETag the page read is the one CORS exposes, i.e. the object's.
        assert_eq!(run.put, format!("ok {}", head.etag.unwrap()), "{run:?}");
        let (head, bytes) = bucket.get("from-browser-post.txt").unwrap().unwrap();
        assert_eq!(bytes, b"hello from the browser (presigned POST)\n");
        assert_eq!(head.content_type.as_deref(), Some("text/plain"));
        assert_eq!(run.post, "ok", "{run:?}");
        cleanup(&bucket);
    }
}

#[test]
fn a_page_from_another_origin_is_refused_by_the_browser() {
    for server in servers() {
        let (run, bucket) = upload(&server, &["--cors-origin", "http://elsewhere.example"]);
        assert_eq!(run.code, Some(1), "{}: {run:?}", server.name);
        // The PUT needs a preflight, which the rule refuses: nothing is sent.
        assert!(run.put.starts_with("error TypeError"), "{run:?}");
        assert!(!bucket.exists("from-browser-put.txt").unwrap());
        // A form POST is sent without a preflight; the browser only hides the answer.
        assert!(run.post.starts_with("error TypeError"), "{run:?}");
        cleanup(&bucket);
    }
}

#[test]
fn the_server_refuses_what_the_policy_or_signature_forbids() {
    for server in servers() {
        // A form used after it expired.
        let (run, bucket) = upload(&server, &["--post-expires", "2", "--delay-ms", "4000"]);
        assert_eq!(run.code, Some(1), "{}: {run:?}", server.name);
        assert!(run.post.starts_with("error 403"), "{run:?}");
        assert!(run.put.starts_with("ok"), "{run:?}");
        assert!(!bucket.exists("from-browser-post.txt").unwrap());
        cleanup(&bucket);
        // A file over the policy's size range.
        let (run, bucket) = upload(&server, &["--post-max", "10"]);
        assert_eq!(run.code, Some(1), "{run:?}");
        assert!(run.post.starts_with("error 400"), "{run:?}");
        assert!(!bucket.exists("from-browser-post.txt").unwrap());
        cleanup(&bucket);
        // A presigned URL whose signature changed.
        let (run, bucket) = upload(&server, &["--tamper-put"]);
        assert_eq!(run.code, Some(1), "{run:?}");
        // Refused: a 403 where the server adds CORS headers to errors; Ceph RGW does not,
        // so its refusal reaches the page as a network error.
        let refused = run.put.starts_with("error 403") || run.put.starts_with("error TypeError");
        assert!(refused, "{run:?}");
        assert!(!bucket.exists("from-browser-put.txt").unwrap());
        cleanup(&bucket);
    }
}
