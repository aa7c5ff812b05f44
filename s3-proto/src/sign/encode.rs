//! URI encoding as SigV4 and S3 define it: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX`.

use std::borrow::Cow;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// True for the bytes SigV4 leaves as they are.
#[inline]
pub(crate) fn is_unreserved(b: u8) -> bool {
    UNRESERVED[usize::from(b)]
}

/// [`is_unreserved`] as a table: one load per byte on the signing paths.
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~');
        b += 1;
    }
    table
};

/// Appends `input` URI-encoded; `/` is kept when `keep_slash` (paths), encoded otherwise.
pub fn uri_encode_into(out: &mut String, input: &[u8], keep_slash: bool) {
    let mut run = 0;
    for (i, &b) in input.iter().enumerate() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            continue;
        }
        // The run input[run..i] is ASCII, hence valid UTF-8 on its own.
        push_ascii(out, &input[run..i]);
        out.push('%');
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
        run = i + 1;
    }
    push_ascii(out, &input[run..]);
}

fn push_ascii(out: &mut String, ascii: &[u8]) {
    // Only unreserved ASCII bytes reach here, so the check never fails.
    out.push_str(std::str::from_utf8(ascii).unwrap_or_default());
}

/// `input` URI-encoded; `/` is kept when `keep_slash`.
pub fn uri_encode(input: &str, keep_slash: bool) -> Cow<'_, str> {
    if input
        .bytes()
        .all(|b| is_unreserved(b) || (keep_slash && b == b'/'))
    {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len() + input.len() / 2);
    uri_encode_into(&mut out, input.as_bytes(), keep_slash);
    Cow::Owned(out)
}

/// The value of one hex digit, either case.
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` sequences; a `%` not followed by two hex digits stays as it is.
///
/// With `plus_as_space`, `+` decodes to a space (form encoding, used by `encoding-type=url`
/// replies of some servers); otherwise `+` is literal, as in S3 paths.
pub fn percent_decode(input: &str, plus_as_space: bool) -> Cow<'_, [u8]> {
    let bytes = input.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_as_space && b == b'+'))
    {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            ) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(if plus_as_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    Cow::Owned(out)
}

/// Re-encodes an already-sent path so that every byte is encoded exactly once.
///
/// `%XX` sequences are decoded first, then everything is encoded again; a decoded `/` stays
/// `%2F`, so a path that was sent with an encoded slash keeps it. This is what S3 computes
/// from the path it receives: `/a b`, `/a%20b` and `/a%20b` all canonicalise to `/a%20b`.
pub(crate) fn canonical_path_into(out: &mut String, path: &str) {
    canonical_encode_into(out, path, true);
}

/// Appends `input` with its `%XX` sequences decoded, then every byte encoded once; `/` is kept
/// when `keep_slash` and it was not itself encoded (paths), encoded otherwise (query parts).
pub(crate) fn canonical_encode_into(out: &mut String, input: &str, keep_slash: bool) {
    let bytes = input.as_bytes();
    let (mut run, mut i) = (0, 0);
    while let Some(&raw) = bytes.get(i) {
        if is_unreserved(raw) || (keep_slash && raw == b'/') {
            i += 1;
            continue;
        }
        // Bytes that stay as they are go out a run at a time; runs are ASCII.
        out.push_str(input.get(run..i).unwrap_or_default());
        let (b, len) = match (raw, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => match (hex_value(hi), hex_value(lo)) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, 3),
                _ => (raw, 1),
            },
            _ => (raw, 1),
        };
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        i += len;
        run = i;
    }
    out.push_str(input.get(run..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_reserved_bytes() {
        assert_eq!(uri_encode("a b+c/d~e", true), "a%20b%2Bc/d~e");
        assert_eq!(uri_encode("a b+c/d~e", false), "a%20b%2Bc%2Fd~e");
        assert_eq!(uri_encode("ሴ", true), "%E1%88%B4");
        assert_eq!(uri_encode("%", true), "%25");
    }

    #[test]
    fn canonical_path_encodes_once() {
        for (sent, canonical) in [
            ("/a b", "/a%20b"),
            ("/a%20b", "/a%20b"),
            ("/a%2Fb", "/a%2Fb"),
            ("/a%2fb", "/a%2Fb"),
            ("/ሴ", "/%E1%88%B4"),
            ("/%", "/%25"),
            ("/%zz", "/%25zz"),
            ("//a/./../b", "//a/./../b"),
            ("/%41", "/A"),
        ] {
            let mut out = String::new();
            canonical_path_into(&mut out, sent);
            assert_eq!(out, canonical, "{sent}");
        }
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(s in any::<String>(), keep_slash: bool) {
            let encoded = uri_encode(&s, keep_slash);
            prop_assert!(encoded.bytes().all(|b| is_unreserved(b) || b == b'%' || (keep_slash && b == b'/')));
            let decoded = percent_decode(&encoded, false);
            prop_assert_eq!(decoded.as_ref(), s.as_bytes());
        }

        #[test]
        fn canonical_path_is_idempotent_on_encoded_keys(s in any::<String>()) {
            let encoded = uri_encode(&s, true);
            let mut once = String::new();
            canonical_path_into(&mut once, &encoded);
            prop_assert_eq!(&once, &*encoded);
            let mut raw = String::new();
            canonical_path_into(&mut raw, &s.replace('%', "%25"));
            prop_assert_eq!(raw, once);
        }
    }
}
