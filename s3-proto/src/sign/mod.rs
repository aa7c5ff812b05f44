//! Request signing: SigV4 (default), SigV2 (legacy), and the URI encoding both rely on.
//!
//! These are usable on their own, on any `http::Request`: `Config::prepare` calls them for
//! S3 operations, and the `sign` example calls them on a raw request file.

pub mod chunked;
pub mod encode;
pub(crate) mod hmac;
pub mod v2;
pub mod v4;

pub use v2::{SigV2, SigningOutputV2};
pub use v4::{EMPTY_SHA256, STREAMING_PAYLOAD, SigV4, SigningOutput, UNSIGNED_PAYLOAD};

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = vec![0u8; bytes.len() * 2];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
    // Only ASCII digits were written, so this never fails.
    String::from_utf8(out).unwrap_or_default()
}

/// The two lower-case hex digits of every byte.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [DIGITS[b >> 4], DIGITS[b & 15]];
        b += 1;
    }
    table
};

/// Appends the lower-case hex of `bytes` to `out`.
pub(crate) fn hex_into(out: &mut String, bytes: &[u8]) {
    // Through a stack buffer, 32 bytes at a time: one copy per digest, not one push per digit.
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        for (pair, &b) in buf.chunks_exact_mut(2).zip(chunk) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
        }
        // Only ASCII digits were written, so this never fails.
        out.push_str(std::str::from_utf8(&buf[..2 * chunk.len()]).unwrap_or_default());
    }
}

/// Lower-case hex SHA-256 of `data`: the SigV4 payload hash of an in-memory body.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(data))
}

/// Base64 MD5 of `data`: the `Content-MD5` header value.
pub fn content_md5(data: &[u8]) -> String {
    use base64::Engine as _;
    use md5::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}
