//! The browser upload page once with the async client signing (example
//! `async_browser_upload`), loaded by headless Chromium on every server that answers CORS
//! preflights. The refusals are covered by s3-blocking's browser tests: the page is the same.

use s3_async::Client;
use test_support::browser::{example, run};

#[tokio::test]
async fn the_page_uploads_with_put_and_post() {
    let servers = test_support::ALL_SERVERS
        .iter()
        .filter_map(|name| test_support::server(name))
        .filter(|s| s.caps.browser_uploads);
    for server in servers {
        let name = test_support::unique_bucket("abrowser");
        let exe = example("s3-async", "async_browser_upload");
        let run = tokio::task::spawn_blocking({
            let (server, name) = (server.clone(), name.clone());
            move || run(&exe, &server, &[name.as_str(), "--timeout", "40"])
        })
        .await
        .unwrap();
        assert_eq!(run.code, Some(0), "{}: {run:?}", server.name);
        let bucket = Client::new(server.config(), server.credentials())
            .bucket(&name)
            .unwrap();
        let (head, bytes) = bucket.get("from-browser-put.txt").await.unwrap().unwrap();
        assert_eq!(bytes, b"hello from the browser (presigned PUT)\n");
        assert_eq!(run.put, format!("ok {}", head.etag.unwrap()), "{run:?}");
        let post = bucket.get_string("from-browser-post.txt").await.unwrap();
        assert_eq!(
            post.as_deref(),
            Some("hello from the browser (presigned POST)\n")
        );
        assert_eq!(run.post, "ok", "{run:?}");
        for key in ["from-browser-put.txt", "from-browser-post.txt"] {
            bucket.delete_key(key).await.unwrap();
        }
        bucket.delete().await.unwrap();
    }
}
