//! A real browser (headless Chromium) uploads through the `browser_upload` example's page:
//! CORS, presigned PUT and presigned POST as a web page uses them, on every server a page can
//! upload to (a capability: Ceph and LocalStack; s3s-fs has no CORS, moto answers preflights
//! wrongly).

use s3_blocking::Client;
use test_support::browser::{Run, example, run};
use test_support::{Server, unique_bucket};

fn servers() -> Vec<Server> {
    test_support::ALL_SERVERS
        .iter()
        .filter_map(|name| test_support::server(name))
        .filter(|s| s.caps.browser_uploads)
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

/// A header's value in a message head (case-insensitive name).
fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A comma-separated header as a sorted, lower-cased list.
fn list(value: Option<&str>) -> Vec<String> {
    let mut items: Vec<String> = value
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    items.sort();
    items
}

#[test]
fn the_cors_evaluator_agrees_with_what_the_browser_saw() {
    use s3_blocking::proto::cors::Dialect;
    for server in servers() {
        let dialect = match server.name {
            "ceph" => Dialect::CephRgw,
            _ => Dialect::AmazonS3,
        };
        for origin_rule in [None, Some("http://elsewhere.example")] {
            let proxy = test_support::proxy::FaultProxy::start(&server.endpoint);
            let bucket_name = unique_bucket("preflight");
            let mut args = vec![bucket_name.as_str(), "--timeout", "40"];
            if let Some(origin) = origin_rule {
                args.extend(["--cors-origin", origin]);
            }
            let exe = example("s3-blocking", "browser_upload");
            let run = test_support::browser::run_via(&exe, &server, &proxy.endpoint(), &args);
            let client = Client::new(server.config(), server.credentials());
            let bucket = client.bucket(&bucket_name).unwrap();
            let rules = bucket.cors().unwrap().expect("the example set a CORS rule");
            let heads = proxy.stats().heads.lock().unwrap().clone();
            let preflights: Vec<_> = heads
                .iter()
                .filter(|(request, _)| request.starts_with("OPTIONS "))
                .collect();
            assert!(
                !preflights.is_empty(),
                "{}: the browser sent no preflight: {run:?}",
                server.name
            );
            for (request, response) in preflights {
                let origin = header(request, "origin").expect("a preflight has an Origin");
                let method = header(request, "access-control-request-method").unwrap();
                let asked = list(header(request, "access-control-request-headers"));
                let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
                let status = response.split_whitespace().nth(1).unwrap_or("");
                match rules.preflight_as(dialect, origin, method, &asked) {
                    Ok(answer) => {
                        assert_eq!(status, "200", "{request}\n--\n{response}");
                        for (name, value) in answer.headers() {
                            if name == "vary" {
                                continue;
                            }
                            assert_eq!(
                                list(header(response, name)),
                                list(Some(&value)),
                                "{name}: {request}\n--\n{response}"
                            );
                        }
                    }
                    Err(why) => {
                        assert_eq!(status, "403", "{why:?}: {request}\n--\n{response}");
                    }
                }
            }
            cleanup(&bucket);
        }
    }
}
