//! Raw HTTP request files (the `request.txt` format of the SigV4 test suite), shared by the
//! `sign` example and the suite test (`tests/sigv4_suite.rs` includes this file by path).

use std::fmt::Write as _;

use http::{HeaderName, HeaderValue, Request};

/// A raw request file: request line, headers (obs-fold continuation lines allowed), blank
/// line, body.
pub(crate) fn parse_request(raw: &[u8]) -> Result<Request<Vec<u8>>, String> {
    let (head, body) = match find(raw, b"\r\n\r\n") {
        Some(i) => (&raw[..i], &raw[i + 4..]),
        None => match find(raw, b"\n\n") {
            Some(i) => (&raw[..i], &raw[i + 2..]),
            None => (raw, &raw[raw.len()..]),
        },
    };
    let head = std::str::from_utf8(head).map_err(|_| "request head is not UTF-8".to_owned())?;
    let mut lines = head.lines();
    let request_line = lines.next().ok_or("empty request")?;
    let (method, rest) = request_line
        .split_once(' ')
        .ok_or_else(|| format!("bad request line {request_line:?}"))?;
    // The target may hold raw spaces (`get-space-*`), so the version is after the last one.
    let (target, _version) = rest
        .rsplit_once(' ')
        .ok_or_else(|| format!("bad request line {request_line:?}"))?;

    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // obs-fold (RFC 9110 §5.5): the continuation joins the previous value with a space.
            let (_, value) = headers
                .last_mut()
                .ok_or_else(|| format!("continuation line before any header: {line:?}"))?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if !target.starts_with('/') {
        return Err(format!("request target {target:?} does not start with '/'"));
    }

    let mut req = Request::builder()
        .method(method)
        .uri(escape_target(target))
        .body(body.to_vec())
        .map_err(|e| format!("bad request: {e}"))?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("bad header name {name:?}"))?;
        let value =
            HeaderValue::from_str(&value).map_err(|_| format!("bad header value {value:?}"))?;
        req.headers_mut().append(name, value);
    }
    Ok(req)
}

/// Percent-encodes the bytes a URI cannot carry (space, non-ASCII), as a client sends them.
fn escape_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for b in target.bytes() {
        if b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
