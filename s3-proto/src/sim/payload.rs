//! Checks on a request body: the length it announced, its aws-chunked framing, and the
//! digests it carries.

use base64::Engine as _;
use http::StatusCode;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::reply::S3Error;
use super::request::Incoming;
use super::store::hex;

/// Checks `Content-Length` against the body, removes aws-chunked framing (signatures are not
/// checked), then checks `Content-MD5` and a hex `x-amz-content-sha256` against the payload.
///
/// # Errors
/// 411 MissingContentLength without a length; 400 IncompleteBody when the body is not as
/// long as announced; 400 IncompleteBody / InvalidRequest for broken aws-chunked framing;
/// 400 InvalidDigest / BadDigest for a malformed / wrong `Content-MD5`; 400
/// XAmzContentSHA256Mismatch for a wrong payload hash.
pub(crate) fn check(req: &mut Incoming) -> Result<(), S3Error> {
    check_length(req)?;
    if is_aws_chunked(req) {
        req.body = decode_chunked(&req.body)?;
        let decoded = req.header("x-amz-decoded-content-length");
        if decoded.and_then(|d| d.trim().parse::<u64>().ok()) != Some(req.body.len() as u64) {
            return Err(incomplete_body());
        }
    }
    check_md5(req)?;
    check_sha256(req)
}

fn incomplete_body() -> S3Error {
    S3Error::new(
        StatusCode::BAD_REQUEST,
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )
}

fn check_length(req: &Incoming) -> Result<(), S3Error> {
    let Some(value) = req.header("content-length") else {
        if req.body.is_empty() {
            return Ok(());
        }
        return Err(S3Error::new(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        ));
    };
    let announced: u64 = value.trim().parse().map_err(|_| {
        S3Error::invalid_argument("Invalid Content-Length", "Content-Length", value)
    })?;
    if announced != req.body.len() as u64 {
        return Err(incomplete_body());
    }
    Ok(())
}

fn check_md5(req: &Incoming) -> Result<(), S3Error> {
    let Some(value) = req.headers.get("content-md5") else {
        return Ok(());
    };
    let invalid = || {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidDigest",
            "The Content-MD5 you specified was invalid.",
        )
    };
    let digest = base64::engine::general_purpose::STANDARD
        .decode(value.as_bytes())
        .map_err(|_| invalid())?;
    if digest.len() != 16 {
        return Err(invalid());
    }
    if digest.as_slice() != Md5::digest(&req.body).as_slice() {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    Ok(())
}

fn check_sha256(req: &Incoming) -> Result<(), S3Error> {
    let Some(claimed) = req.header("x-amz-content-sha256") else {
        return Ok(());
    };
    // UNSIGNED-PAYLOAD and the STREAMING-* forms carry no hash of the whole body.
    let is_hash = claimed.len() == 64 && claimed.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hash {
        return Ok(());
    }
    let actual = hex(&Sha256::digest(&req.body));
    if !claimed.eq_ignore_ascii_case(&actual) {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
        .detail("ClientComputedContentSHA256", claimed)
        .detail("S3ComputedContentSHA256", actual));
    }
    Ok(())
}

/// True when a request says its body is aws-chunked (`x-amz-content-sha256: STREAMING-…`).
fn is_aws_chunked(req: &Incoming) -> bool {
    req.header("x-amz-content-sha256")
        .is_some_and(|v| v.starts_with("STREAMING-"))
}

/// Longest chunk header line accepted (`hex-size;chunk-signature=<64 hex>` is about 90).
const MAX_CHUNK_LINE: usize = 4096;

/// The payload inside aws-chunked framing: `hex-size[;ext]\r\n data \r\n` repeated, ending
/// with a zero-size chunk (and optional trailers).
fn decode_chunked(framed: &[u8]) -> Result<Vec<u8>, S3Error> {
    let broken = || S3Error::invalid_request("The aws-chunked body is not framed correctly.");
    let mut out = Vec::with_capacity(framed.len());
    let mut rest = framed;
    loop {
        let window = rest.get(..rest.len().min(MAX_CHUNK_LINE)).unwrap_or(rest);
        let end = window
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(broken)?;
        let line =
            std::str::from_utf8(rest.get(..end).ok_or_else(broken)?).map_err(|_| broken())?;
        rest = rest.get(end + 2..).ok_or_else(broken)?;
        let size_hex = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| broken())?;
        if size == 0 {
            // Trailers (if any) follow; the payload is complete.
            return Ok(out);
        }
        let data = rest.get(..size).ok_or_else(incomplete_body)?;
        out.extend_from_slice(data);
        rest = rest.get(size..).ok_or_else(broken)?;
        rest = rest.strip_prefix(b"\r\n").ok_or_else(broken)?;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn decodes_aws_chunked_framing() {
        let sig = "0".repeat(64);
        let framed = format!(
            "5;chunk-signature={sig}\r\nhello\r\n1;chunk-signature={sig}\r\n!\r\n0;chunk-signature={sig}\r\n\r\n"
        );
        assert_eq!(decode_chunked(framed.as_bytes()).unwrap(), b"hello!");
        for bad in ["5\r\nhel", "zz\r\n", "5\r\nhelloXX0\r\n\r\n", ""] {
            assert!(decode_chunked(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
