//! Inputs the fuzz targets in `fuzz/` found crashing, replayed through the same public API.
//!
//! Each test names its target and the function that panicked; the input is inline so the
//! test stands without the fuzz crate.

use s3_proto::sign::chunked::encoded_length;

/// `fuzz/` target `chunked` (2026-11-29): `encoded_length(u64::MAX, usize::MAX)` panicked with
/// "attempt to add with overflow" in `frame_length` (`hex_digits + FRAME_OVERHEAD + len` with
/// `len == chunk_size == u64::MAX`), although `encoded_length` documents that it saturates.
/// Even a zero-length body overflowed, since a full chunk's frame length was computed first.
/// Release builds wrapped around and returned a wrong, small length instead.
#[test]
fn encoded_length_saturates_for_huge_chunk_sizes() {
    // The fuzzer's input: 16 bytes of 0xff, read as (decoded, chunk_size).
    let input: &[u8] =
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xa4\x00\x11\x00";
    let decoded = u64::from_le_bytes(input[..8].try_into().unwrap());
    let chunk_size =
        usize::try_from(u64::from_le_bytes(input[8..16].try_into().unwrap())).unwrap_or(usize::MAX);
    assert_eq!(encoded_length(decoded, chunk_size), u64::MAX);
    // No data at all: just the final empty chunk, whatever the chunk size.
    assert_eq!(encoded_length(0, usize::MAX), encoded_length(0, 8192));
    for chunk_size in [usize::MAX, usize::MAX - 1, usize::MAX / 2 + 1] {
        let n = encoded_length(u64::MAX - 1, chunk_size);
        assert!(n >= u64::MAX - 1, "{chunk_size}: {n}");
    }
}
