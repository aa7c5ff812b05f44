//! The browser side of the `browser_upload` examples (shared by s3-blocking's and s3-async's):
//! the command line, one HTML page served on 127.0.0.1 with `std::net`, and the reports the
//! page's script sends back. Nothing here talks to S3.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// The key the page PUTs through a presigned URL.
pub(crate) const PUT_KEY: &str = "from-browser-put.txt";
/// The key the page POSTs through a presigned form.
pub(crate) const POST_KEY: &str = "from-browser-post.txt";
/// What the page uploads with PUT.
pub(crate) const PUT_BODY: &str = "hello from the browser (presigned PUT)\n";
/// What the page uploads with POST.
pub(crate) const POST_BODY: &str = "hello from the browser (presigned POST)\n";

/// What the command line asks for.
#[derive(Debug)]
pub(crate) struct Args {
    /// The bucket to create and upload into.
    pub(crate) bucket: String,
    /// The origin the CORS rule allows (default: the page's own).
    pub(crate) cors_origin: Option<String>,
    /// Seconds the POST policy is valid.
    pub(crate) post_expires: u64,
    /// Largest file the POST policy accepts.
    pub(crate) post_max: u64,
    /// Milliseconds the page waits before uploading.
    pub(crate) delay_ms: u64,
    /// The page changes the presigned PUT URL's signature before using it.
    pub(crate) tamper_put: bool,
    /// Seconds before giving up.
    pub(crate) timeout: u64,
}

impl Args {
    /// Reads `BUCKET [--cors-origin O] [--post-expires S] [--post-max N] [--delay-ms MS]
    /// [--tamper-put] [--timeout S]`.
    pub(crate) fn parse() -> Result<Args, String> {
        let mut args = std::env::args().skip(1);
        let mut parsed = Args {
            bucket: String::new(),
            cors_origin: None,
            post_expires: 600,
            post_max: 1024,
            delay_ms: 0,
            tamper_put: false,
            timeout: 60,
        };
        let number = |v: Option<String>, name: &str| -> Result<u64, String> {
            v.and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--cors-origin" => parsed.cors_origin = args.next(),
                "--post-expires" => parsed.post_expires = number(args.next(), &arg)?,
                "--post-max" => parsed.post_max = number(args.next(), &arg)?,
                "--delay-ms" => parsed.delay_ms = number(args.next(), &arg)?,
                "--timeout" => parsed.timeout = number(args.next(), &arg)?,
                "--tamper-put" => parsed.tamper_put = true,
                name if name.starts_with("--") => return Err(format!("unknown option {name}")),
                bucket => parsed.bucket = bucket.to_owned(),
            }
        }
        if parsed.bucket.is_empty() {
            return Err(
                "usage: browser_upload BUCKET [--cors-origin ORIGIN] [--post-expires S] \
                        [--post-max BYTES] [--delay-ms MS] [--tamper-put] [--timeout S]"
                    .to_owned(),
            );
        }
        Ok(parsed)
    }
}

/// The page's listening socket, bound before anything else so its origin is known for the
/// CORS rule.
pub(crate) fn bind() -> std::io::Result<(TcpListener, String)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let origin = format!("http://{}", listener.local_addr()?);
    Ok((listener, origin))
}

/// The page: on load it PUTs through `put_url` (a cross-origin request that needs a
/// preflight), POSTs a `FormData` to `post_url` with `fields`, writes what happened into
/// `#put` and `#post`, and reports it to `/report`.
pub(crate) fn html(
    args: &Args,
    put_url: &str,
    post_url: &str,
    fields: &[(String, String)],
) -> String {
    let js = |s: &str| format!("{s:?}");
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("[{}, {}]", js(k), js(v)))
        .collect();
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>s3-rs browser upload</title></head>
<body>
<p>PUT: <span id="put">pending</span></p>
<p>POST: <span id="post">pending</span></p>
<script>
const PUT_URL = {put_url};
const POST_URL = {post_url};
const FIELDS = [{fields}];
const TAMPER = {tamper};
async function report(name, text) {{
  document.getElementById(name).textContent = text;
  await fetch('/report?' + name + '=' + encodeURIComponent(text), {{method: 'POST'}});
}}
async function put() {{
  let url = PUT_URL;
  if (TAMPER) url = url.slice(0, -1) + (url.endsWith('0') ? '1' : '0');
  try {{
    const r = await fetch(url, {{method: 'PUT', headers: {{'Content-Type': 'text/plain'}}, body: {put_body}}});
    if (!r.ok) return report('put', 'error ' + r.status + ' ' + (await r.text()).slice(0, 300));
    return report('put', 'ok ' + r.headers.get('ETag'));
  }} catch (e) {{ return report('put', 'error ' + e); }}
}}
async function post() {{
  const form = new FormData();
  for (const [k, v] of FIELDS) form.append(k, v);
  form.append('file', new Blob([{post_body}], {{type: 'text/plain'}}), {post_key});
  try {{
    const r = await fetch(POST_URL, {{method: 'POST', body: form}});
    if (!r.ok) return report('post', 'error ' + r.status + ' ' + (await r.text()).slice(0, 300));
    return report('post', 'ok');
  }} catch (e) {{ return report('post', 'error ' + e); }}
}}
// The wait is the page server's, in real time (a headless browser may run timers on
// virtual time).
fetch('/wait').then(() => {{ put(); post(); }});
</script>
</body></html>
"#,
        put_url = js(put_url),
        post_url = js(post_url),
        fields = fields.join(", "),
        tamper = args.tamper_put,
        put_body = js(PUT_BODY),
        post_body = js(POST_BODY),
        post_key = js(POST_KEY),
    )
}

/// Serves `page` at `/` on a thread (and `/wait`, answered after `delay`); each report the
/// page sends arrives on the returned channel as (`put` or `post`, text).
pub(crate) fn serve(
    listener: TcpListener,
    page: String,
    delay: Duration,
) -> mpsc::Receiver<(String, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            let page = page.clone();
            std::thread::spawn(move || answer(stream, &page, delay, &tx));
        }
    });
    rx
}

fn answer(
    mut stream: TcpStream,
    page: &str,
    delay: Duration,
    reports: &mpsc::Sender<(String, String)>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match target.split_once("/report?") {
        Some((_, query)) => {
            if let Some((name, value)) = query.split_once('=') {
                let _ = reports.send((name.to_owned(), decode(value)));
            }
            ("204 No Content", "")
        }
        None if target == "/" => ("200 OK", page),
        None if target == "/wait" => {
            std::thread::sleep(delay);
            ("200 OK", "")
        }
        None => ("404 Not Found", "not found"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())
}

/// Decodes `encodeURIComponent`'s output.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
