//! SigV4 streaming uploads (`aws-chunked`): the body is sent in chunks, each carrying a
//! signature chained from the previous one, so the payload is covered without being hashed
//! up front.
//!
//! The request itself is signed with `x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`,
//! `Content-Encoding: aws-chunked`, `x-amz-decoded-content-length: <object length>` and
//! `Content-Length: <framed length>`; its signature is the *seed*. Each chunk is then framed as
//! `hex(len);chunk-signature=<sig>\r\n<data>\r\n`, and the body ends with an empty chunk.
//! [`Config::prepare_streaming`](crate::Config::prepare_streaming) does the first part and
//! returns a [`ChunkedSigner`] for the second.
//!
//! A checksum of the whole body can follow the final chunk as a trailer (`x-amz-trailer`),
//! computed while the body streams, so a body read once still gets a stored checksum: after
//! signed chunks in a signed trailer, or after plain chunks unsigned (over TLS, or anonymous);
//! [`Framing`] names the three forms and [`Config::prepare_chunked`](crate::Config::prepare_chunked)
//! builds a request and its [`ChunkedBody`] for any of them.
//!
//! References: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>
//!
//! # Example
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use s3_proto::{Body, Config, Credentials, ops::PutObject};
//! use s3_proto::sign::chunked;
//!
//! let config = Config::new("http://127.0.0.1:7480", "us-east-1")?;
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! let data = vec![b'x'; 20_000];
//! let op = PutObject::new("bucket".parse()?, "big.bin".parse()?, Body::Stream { length: None });
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let (req, mut signer) = config.prepare_streaming(&op, &creds, now, 20_000, 8192)?;
//!
//! // What a runtime does: read exactly `next_chunk_len` bytes, write header, data, trailer.
//! let mut body = Vec::new();
//! let mut offset = 0;
//! while let Some(n) = signer.next_chunk_len() {
//!     let chunk = &data[offset..offset + n];
//!     body.extend_from_slice(signer.frame_header(chunk)?.as_bytes());
//!     body.extend_from_slice(chunk);
//!     body.extend_from_slice(chunked::CHUNK_TRAILER.as_bytes());
//!     offset += n;
//! }
//! body.extend_from_slice(signer.finish()?.as_bytes());
//! assert_eq!(req.headers()["content-length"], body.len().to_string().as_str());
//! assert_eq!(req.body().len(), Some(body.len() as u64));
//! # Ok::<(), s3_proto::Error>(())
//! ```

use std::fmt;

use super::v4::SigV4;
use super::{EMPTY_SHA256, STREAMING_PAYLOAD, hex, sha256_hex};
use crate::checksum::{ChecksumAlgorithm, Hasher};
use crate::error::InputError;

/// The algorithm line of a chunk's string to sign.
pub const CHUNK_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";
/// The `Content-Encoding` token of a chunk-signed body.
pub const AWS_CHUNKED: &str = "aws-chunked";
/// What follows each chunk's data.
pub const CHUNK_TRAILER: &str = "\r\n";
/// The smallest chunk S3 accepts, except for the last one: 8 KiB.
pub const MIN_CHUNK_SIZE: usize = 8 * 1024;
/// The largest chunk [`Config::prepare_streaming`](crate::Config::prepare_streaming) plans:
/// 16 MiB, MinIO's limit (`maxChunkSize` in its `streaming-signature-v4.go`); AWS documents
/// none.
pub const MAX_CHUNK_SIZE: usize = 16 * 1024 * 1024;
/// The chunk size AWS recommends: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
/// The chunk size the clients stream uploads in: 1 MiB. Against AWS's 64 KiB it cuts the
/// frames, their signatures and the writes 16-fold; a 1 GiB streamed PUT to Ceph RGW took
/// 4.5–4.9 s instead of 5.6–5.7 s (curl, unsigned, 3.7–4.2 s), for 2 MiB more memory.
pub const STREAM_CHUNK_SIZE: usize = 1024 * 1024;
/// The `x-amz-content-sha256` of signed chunks followed by a signed trailer.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// The `x-amz-content-sha256` of plain chunks followed by a trailer.
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// The algorithm line of a trailer's string to sign.
pub const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";
/// The trailer line carrying the trailer's signature.
pub const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// How an aws-chunked body is framed, and what lets the server check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Every chunk signed (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
    Signed,
    /// Every chunk signed, then the body's checksum in a signed trailer
    /// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`): the server checks and stores it.
    SignedTrailer(ChecksumAlgorithm),
    /// Plain chunks, then the body's checksum in a trailer
    /// (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`): for TLS, which protects the bytes on the way,
    /// and for anonymous requests; the server checks and stores the checksum.
    UnsignedTrailer(ChecksumAlgorithm),
}

impl Framing {
    /// The request's `x-amz-content-sha256`.
    pub fn payload_hash(self) -> &'static str {
        match self {
            Framing::Signed => STREAMING_PAYLOAD,
            Framing::SignedTrailer(_) => STREAMING_PAYLOAD_TRAILER,
            Framing::UnsignedTrailer(_) => STREAMING_UNSIGNED_PAYLOAD_TRAILER,
        }
    }

    /// The checksum sent in the trailer, if any.
    pub fn trailer(self) -> Option<ChecksumAlgorithm> {
        match self {
            Framing::Signed => None,
            Framing::SignedTrailer(a) | Framing::UnsignedTrailer(a) => Some(a),
        }
    }

    /// Whether chunks carry signatures.
    pub fn is_signed(self) -> bool {
        !matches!(self, Framing::UnsignedTrailer(_))
    }

    /// The `Content-Length` of `decoded` bytes framed in chunks of `chunk_size` (the last one
    /// shorter), the final empty chunk and the trailer. A `chunk_size` of 0 counts as 1;
    /// saturates at `u64::MAX`.
    pub fn encoded_length(self, decoded: u64, chunk_size: usize) -> u64 {
        let overhead = if self.is_signed() { FRAME_OVERHEAD } else { 4 };
        let frame = |len: u64| (hex_digits(len) + overhead).saturating_add(len);
        let size = (chunk_size as u64).max(1);
        let (full, rest) = (decoded / size, decoded % size);
        let mut total = full.saturating_mul(frame(size));
        if rest > 0 {
            total = total.saturating_add(frame(rest));
        }
        let end = match self {
            Framing::Signed => frame_length(0),
            // `0;chunk-signature=<sig>\r\n`, the checksum line, the signature line, `\r\n`.
            Framing::SignedTrailer(a) => {
                frame_length(0) - 2
                    + trailer_line_len(a)
                    + (TRAILER_SIGNATURE.len() + 67) as u64
                    + 2
            }
            // `0\r\n`, the checksum line, `\r\n`.
            Framing::UnsignedTrailer(a) => 3 + trailer_line_len(a) + 2,
        };
        total.saturating_add(end)
    }
}

/// `name:base64\r\n` of a checksum trailer.
fn trailer_line_len(algorithm: ChecksumAlgorithm) -> u64 {
    (algorithm.header_name().len() + 1 + algorithm.digest_len().div_ceil(3) * 4 + 2) as u64
}

/// `;chunk-signature=`, 64 hex digits, and the two CRLFs around the data.
const FRAME_OVERHEAD: u64 = (";chunk-signature=".len() + 64 + 2 + 2) as u64;

/// Bytes one framed chunk of `len` data bytes takes on the wire; saturates at `u64::MAX`
/// (`encoded_length` takes any `chunk_size`, up to `usize::MAX`).
fn frame_length(len: u64) -> u64 {
    (hex_digits(len) + FRAME_OVERHEAD).saturating_add(len)
}

/// Hex digits of a chunk length.
fn hex_digits(len: u64) -> u64 {
    if len == 0 {
        1
    } else {
        u64::from((u64::BITS - len.leading_zeros()).div_ceil(4))
    }
}

/// The `Content-Length` of an aws-chunked body: `decoded` bytes in chunks of `chunk_size`
/// (the last one shorter), plus the final empty chunk.
///
/// A `chunk_size` of 0 counts as 1. Saturates at `u64::MAX` instead of overflowing.
pub fn encoded_length(decoded: u64, chunk_size: usize) -> u64 {
    let size = (chunk_size as u64).max(1);
    let full = decoded / size;
    let rest = decoded % size;
    let mut total = full.saturating_mul(frame_length(size));
    if rest > 0 {
        total = total.saturating_add(frame_length(rest));
    }
    total.saturating_add(frame_length(0))
}

/// The fixed layout a signer enforces: every chunk `chunk_size` bytes but the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) chunk_size: usize,
    pub(crate) remaining: u64,
}

impl Layout {
    /// The length of the next chunk: a full one, or what is left.
    fn next_len(&self) -> usize {
        usize::try_from(self.remaining).map_or(self.chunk_size, |r| r.min(self.chunk_size))
    }
}

/// Signs the chunks of an aws-chunked body, each signature chained from the previous one.
///
/// Either build it with [`Config::prepare_streaming`](crate::Config::prepare_streaming), which
/// also fixes the chunk layout (each chunk exactly [`ChunkedSigner::next_chunk_len`] bytes, so
/// the body matches the `Content-Length` signed up front), or with [`ChunkedSigner::new`] from the seed signature of a request
/// signed by hand, which accepts chunks of any non-zero size.
///
/// Framing without copying: write [`ChunkedSigner::frame_header`], the data, then
/// [`CHUNK_TRAILER`] for each chunk, and [`ChunkedSigner::finish`] at the end.
#[derive(Clone)]
pub struct ChunkedSigner {
    key: [u8; 32],
    datetime: String,
    scope: String,
    previous: String,
    layout: Option<Layout>,
    finished: bool,
}

impl fmt::Debug for ChunkedSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key and the signatures authorise the upload; keep them out of logs.
        f.debug_struct("ChunkedSigner")
            .field("datetime", &self.datetime)
            .field("scope", &self.scope)
            .field("layout", &self.layout)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ChunkedSigner {
    /// A signer continuing from `seed_signature`, the signature of the request that `signer`
    /// signed with [`STREAMING_PAYLOAD`]. Chunks may have any non-zero size.
    pub fn new(signer: &SigV4<'_>, seed_signature: &str) -> Self {
        ChunkedSigner {
            key: signer.signing_key(),
            datetime: signer.amz_date().to_owned(),
            scope: signer.scope(),
            previous: seed_signature.to_owned(),
            layout: None,
            finished: false,
        }
    }

    /// Fixes the layout: `decoded_length` bytes in chunks of exactly `chunk_size`, the last one
    /// shorter, so the body is exactly [`encoded_length`] bytes. Chunks that break it are
    /// refused.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when `chunk_size` is outside
    /// [`MIN_CHUNK_SIZE`]..=[`MAX_CHUNK_SIZE`].
    pub fn with_layout(
        mut self,
        decoded_length: u64,
        chunk_size: usize,
    ) -> Result<Self, InputError> {
        check_chunk_size(chunk_size)?;
        self.layout = Some(Layout {
            chunk_size,
            remaining: decoded_length,
        });
        Ok(self)
    }

    /// With a layout, how many bytes the next chunk must hold; `None` once all data is framed
    /// (then call [`ChunkedSigner::finish`]). Always `None` without a layout.
    pub fn next_chunk_len(&self) -> Option<usize> {
        let layout = self.layout?;
        if self.finished || layout.remaining == 0 {
            return None;
        }
        Some(layout.next_len())
    }

    /// Signs `data` as the next chunk and returns the header to write before it:
    /// `hex(len);chunk-signature=<sig>\r\n`. Write [`CHUNK_TRAILER`] after the data.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for empty data (the empty chunk ends the body: use
    /// [`ChunkedSigner::finish`]), after `finish`, or when `data` does not have the length the
    /// layout expects. The chain is unchanged on error.
    pub fn frame_header(&mut self, data: &[u8]) -> Result<String, InputError> {
        if self.finished {
            return Err(InputError::argument(
                "chunk",
                "the body is already finished",
            ));
        }
        if data.is_empty() {
            return Err(InputError::argument(
                "chunk",
                "is empty; the empty chunk ends the body, call finish()",
            ));
        }
        if let Some(layout) = &mut self.layout {
            let expected = layout.next_len();
            if data.len() != expected {
                return Err(InputError::argument(
                    "chunk",
                    format!("is {} bytes, the layout expects {expected}", data.len()),
                ));
            }
            layout.remaining -= data.len() as u64;
        }
        Ok(self.header(data.len(), &sha256_hex(data)))
    }

    /// Signs `data` as the next chunk and returns it framed: header, data and trailer.
    ///
    /// # Errors
    /// As [`ChunkedSigner::frame_header`].
    pub fn sign_chunk(&mut self, data: &[u8]) -> Result<Vec<u8>, InputError> {
        let header = self.frame_header(data)?;
        let mut out = Vec::with_capacity(header.len() + data.len() + CHUNK_TRAILER.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(CHUNK_TRAILER.as_bytes());
        Ok(out)
    }

    /// Signs the final empty chunk and returns it whole: `0;chunk-signature=<sig>\r\n\r\n`.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] when called twice, or with a layout whose data is not
    /// all framed yet.
    pub fn finish(&mut self) -> Result<String, InputError> {
        if self.finished {
            return Err(InputError::argument(
                "chunk",
                "the body is already finished",
            ));
        }
        if let Some(layout) = &self.layout {
            if layout.remaining > 0 {
                return Err(InputError::argument(
                    "chunk",
                    format!("{} bytes of the body are not sent yet", layout.remaining),
                ));
            }
        }
        let mut out = self.header(0, EMPTY_SHA256);
        out.push_str(CHUNK_TRAILER);
        self.finished = true;
        Ok(out)
    }

    /// Signs the final empty chunk and the trailer `name:value` after it, and returns both:
    /// `0;chunk-signature=<sig>\r\n<name>:<value>\r\nx-amz-trailer-signature:<sig>\r\n\r\n`
    /// (for a request signed with [`STREAMING_PAYLOAD_TRAILER`]).
    ///
    /// # Errors
    /// As [`ChunkedSigner::finish`].
    pub fn finish_with_trailer(&mut self, name: &str, value: &str) -> Result<String, InputError> {
        let mut out = self.finish()?;
        out.truncate(out.len() - CHUNK_TRAILER.len());
        let trailer = format!("{name}:{value}");
        let mut string_to_sign = String::with_capacity(300);
        for part in [
            TRAILER_ALGORITHM,
            &self.datetime,
            &self.scope,
            &self.previous,
        ] {
            string_to_sign.push_str(part);
            string_to_sign.push('\n');
        }
        string_to_sign.push_str(&sha256_hex(format!("{trailer}\n").as_bytes()));
        let signature = hex(&super::v4::hmac(&self.key, string_to_sign.as_bytes()));
        out.push_str(&format!(
            "{trailer}\r\n{TRAILER_SIGNATURE}:{signature}\r\n\r\n"
        ));
        self.previous = signature;
        Ok(out)
    }

    /// True once [`ChunkedSigner::finish`] has produced the final chunk.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Signs a chunk of `len` bytes hashing to `data_hash`, advances the chain and returns
    /// the chunk header.
    fn header(&mut self, len: usize, data_hash: &str) -> String {
        let mut string_to_sign = String::with_capacity(300);
        for part in [
            CHUNK_ALGORITHM,
            &self.datetime,
            &self.scope,
            &self.previous,
            EMPTY_SHA256,
        ] {
            string_to_sign.push_str(part);
            string_to_sign.push('\n');
        }
        string_to_sign.push_str(data_hash);
        let signature = hex(&super::v4::hmac(&self.key, string_to_sign.as_bytes()));
        let header = format!("{len:x};chunk-signature={signature}\r\n");
        self.previous = signature;
        header
    }
}

pub(crate) fn check_chunk_size(chunk_size: usize) -> Result<(), InputError> {
    if (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(())
    } else {
        Err(InputError::argument(
            "chunk_size",
            format!("must be {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE} bytes, not {chunk_size}"),
        ))
    }
}

/// A streamed request body framed as it is read: the runtime reads at most
/// [`ChunkedBody::wants`] bytes of its source at a time and hands them to
/// [`ChunkedBody::push`]; each completed chunk (and, after the last, the final empty one and
/// any trailer) appears framed in [`ChunkedBody::output`], to be sent and then
/// [`consumed`](ChunkedBody::consume). With signed chunks the server checks every chunk's
/// signature, with a trailer the checksum of the whole body: a byte changed on the way is
/// refused.
#[derive(Debug, Clone)]
pub struct ChunkedBody {
    /// `None` for plain chunks.
    signer: Option<ChunkedSigner>,
    layout: Layout,
    /// Boxed: the hash state is large, and rarely there.
    trailer: Option<Box<Hasher>>,
    chunk: Vec<u8>,
    out: Vec<u8>,
    sent: usize,
    /// Framed bytes not yet sent, of the whole body.
    left: u64,
}

impl ChunkedBody {
    /// Frames the body `signer` (from [`Config::prepare_streaming`](crate::Config::prepare_streaming),
    /// with its layout) signs.
    ///
    /// # Errors
    /// As [`ChunkedSigner::finish`], for a body of no bytes.
    pub fn new(signer: ChunkedSigner) -> Result<Self, InputError> {
        let layout = signer.layout.unwrap_or(Layout {
            chunk_size: MIN_CHUNK_SIZE,
            remaining: 0,
        });
        Self::framed(Some(signer), layout, Framing::Signed)
    }

    /// Frames `layout` as `framing` says: with `signer`'s signatures when it signs chunks
    /// (and only then is there a signer), and the trailer's checksum after the final chunk.
    pub(crate) fn framed(
        signer: Option<ChunkedSigner>,
        layout: Layout,
        framing: Framing,
    ) -> Result<Self, InputError> {
        if signer.is_some() != framing.is_signed() {
            let why = "a signer goes with signed chunks, and only there";
            return Err(InputError::argument("framing", why));
        }
        let mut body = ChunkedBody {
            signer,
            layout,
            trailer: framing.trailer().map(|a| Box::new(Hasher::new(a))),
            chunk: Vec::with_capacity(layout.next_len()),
            out: Vec::new(),
            sent: 0,
            left: framing.encoded_length(layout.remaining, layout.chunk_size),
        };
        if layout.remaining == 0 {
            body.finish()?;
        }
        Ok(body)
    }

    /// How many source bytes the current chunk still needs; 0 once the source is all read.
    pub fn wants(&self) -> usize {
        if self.layout.remaining == 0 {
            return 0;
        }
        self.layout.next_len().saturating_sub(self.chunk.len())
    }

    /// Takes the next source bytes (at most [`ChunkedBody::wants`]); a chunk they complete is
    /// framed into the output.
    ///
    /// # Errors
    /// [`InputError::InvalidArgument`] for more bytes than wanted.
    pub fn push(&mut self, data: &[u8]) -> Result<(), InputError> {
        if data.len() > self.wants() {
            return Err(InputError::argument(
                "chunk",
                "more bytes than the body wants",
            ));
        }
        self.chunk.extend_from_slice(data);
        if self.wants() == 0 && !self.chunk.is_empty() {
            self.out.drain(..self.sent);
            self.sent = 0;
            match &mut self.signer {
                Some(signer) => {
                    let header = signer.frame_header(&self.chunk)?;
                    self.out.extend_from_slice(header.as_bytes());
                }
                None => self
                    .out
                    .extend_from_slice(format!("{:x}\r\n", self.chunk.len()).as_bytes()),
            }
            self.out.extend_from_slice(&self.chunk);
            self.out.extend_from_slice(CHUNK_TRAILER.as_bytes());
            if let Some(hasher) = &mut self.trailer {
                hasher.update(&self.chunk);
            }
            self.layout.remaining -= self.chunk.len() as u64;
            self.chunk.clear();
            if self.layout.remaining == 0 {
                self.finish()?;
            }
        }
        Ok(())
    }

    /// Frames the final empty chunk and the trailer.
    fn finish(&mut self) -> Result<(), InputError> {
        let trailer = self.trailer.take().map(|hasher| {
            let algorithm = hasher.algorithm();
            (algorithm.header_name(), hasher.finish().to_base64())
        });
        let end = match (&mut self.signer, trailer) {
            (Some(signer), None) => signer.finish()?,
            (Some(signer), Some((name, value))) => signer.finish_with_trailer(name, &value)?,
            (None, Some((name, value))) => format!("0\r\n{name}:{value}\r\n\r\n"),
            (None, None) => "0\r\n\r\n".to_owned(),
        };
        self.out.extend_from_slice(end.as_bytes());
        Ok(())
    }

    /// Framed bytes ready to send.
    pub fn output(&self) -> &[u8] {
        &self.out[self.sent..]
    }

    /// Marks the first `n` bytes of [`ChunkedBody::output`] as sent.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.out.len() - self.sent);
        self.sent += n;
        self.left = self.left.saturating_sub(n as u64);
    }

    /// Framed bytes still to send, of the whole body (its `Content-Length` at the start).
    pub fn remaining(&self) -> u64 {
        self.left
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use http::Request;
    use proptest::prelude::*;

    use super::*;
    use crate::body::{Body, PayloadHash};
    use crate::endpoint::Addressing;
    use crate::ops::PutObject;
    use crate::sign::STREAMING_PAYLOAD;
    use crate::{Config, Credentials};

    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    const CHUNK_SIGNATURES: [&str; 3] = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];

    fn doc_credentials() -> Credentials {
        Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
    }

    fn doc_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_369_353_600) // 2013-05-24T00:00:00Z
    }

    /// The "Example: PUT Object" of sigv4-streaming.html: 65 KiB of 'a' in 64 KiB chunks to
    /// examplebucket/chunkObject.txt with storage class REDUCED_REDUNDANCY.
    fn doc_request() -> (Request<Body>, ChunkedSigner) {
        let config = Config::new("https://s3.amazonaws.com", "us-east-1")
            .unwrap()
            .addressing(Addressing::Path);
        let op = PutObject::new(
            "examplebucket".parse().unwrap(),
            "chunkObject.txt".parse().unwrap(),
            Body::Stream { length: None },
        )
        .storage_class("REDUCED_REDUNDANCY");
        config
            .prepare_streaming(&op, &doc_credentials(), doc_time(), 66_560, 65_536)
            .unwrap()
    }

    /// Splits an aws-chunked body into its data, checking each signature with `verifier`.
    fn deframe(mut body: &[u8], verifier: &mut ChunkedSigner) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
            let line = std::str::from_utf8(&body[..line_end]).unwrap();
            let (len, sig) = line.split_once(";chunk-signature=").unwrap();
            let len = usize::from_str_radix(len, 16).unwrap();
            let data = &body[line_end + 2..line_end + 2 + len];
            assert_eq!(&body[line_end + 2 + len..line_end + 4 + len], b"\r\n");
            if len == 0 {
                assert_eq!(verifier.finish().unwrap(), format!("{line}\r\n\r\n"));
                assert_eq!(line_end + 4, body.len(), "bytes after the final chunk");
                return out;
            }
            assert_eq!(
                verifier.frame_header(data).unwrap(),
                format!("{len:x};chunk-signature={sig}\r\n")
            );
            out.extend_from_slice(data);
            body = &body[line_end + 4 + len..];
        }
    }

    #[test]
    fn aws_doc_seed_signature_and_headers() {
        let (req, _) = doc_request();
        let h = req.headers();
        assert_eq!(h["content-encoding"], "aws-chunked");
        assert_eq!(h["content-length"], "66824");
        assert_eq!(h["x-amz-decoded-content-length"], "66560");
        assert_eq!(h["x-amz-content-sha256"], STREAMING_PAYLOAD);
        assert_eq!(h["x-amz-date"], "20130524T000000Z");
        assert_eq!(
            h["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class, \
             Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        );
        assert_eq!(
            req.uri(),
            "https://s3.amazonaws.com/examplebucket/chunkObject.txt"
        );
        assert_eq!(
            req.body(),
            &Body::Stream {
                length: Some(66_824)
            }
        );
        assert_eq!(
            req.extensions().get::<PayloadHash>(),
            Some(&PayloadHash::Streaming)
        );
    }

    #[test]
    fn aws_doc_chunk_signatures_and_body() {
        let (_, mut signer) = doc_request();
        assert_eq!(signer.next_chunk_len(), Some(65_536));
        let first = signer.frame_header(&[b'a'; 65_536]).unwrap();
        assert_eq!(
            first,
            format!("10000;chunk-signature={}\r\n", CHUNK_SIGNATURES[0])
        );
        assert_eq!(signer.next_chunk_len(), Some(1024));
        let second = signer.sign_chunk(&[b'a'; 1024]).unwrap();
        assert_eq!(signer.next_chunk_len(), None);
        let last = signer.finish().unwrap();
        assert_eq!(
            last,
            format!("0;chunk-signature={}\r\n\r\n", CHUNK_SIGNATURES[2])
        );
        assert!(signer.is_finished());

        let mut body = first.into_bytes();
        body.extend_from_slice(&[b'a'; 65_536]);
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&second);
        body.extend_from_slice(last.as_bytes());

        let mut expected = Vec::new();
        expected.extend_from_slice(
            format!("10000;chunk-signature={}\r\n", CHUNK_SIGNATURES[0]).as_bytes(),
        );
        expected.extend_from_slice(&[b'a'; 65_536]);
        expected.extend_from_slice(b"\r\n");
        expected.extend_from_slice(
            format!("400;chunk-signature={}\r\n", CHUNK_SIGNATURES[1]).as_bytes(),
        );
        expected.extend_from_slice(&[b'a'; 1024]);
        expected.extend_from_slice(b"\r\n");
        expected.extend_from_slice(
            format!("0;chunk-signature={}\r\n\r\n", CHUNK_SIGNATURES[2]).as_bytes(),
        );
        assert_eq!(body, expected);
        assert_eq!(body.len(), 66_824);
        assert_eq!(encoded_length(66_560, 65_536), 66_824);
    }

    #[test]
    fn chunked_body_frames_the_aws_example_as_read_in_any_pieces() {
        for piece in [1, 7, 1000, 65_536, 100_000] {
            let (request, signer) = doc_request();
            let mut body = ChunkedBody::new(signer).unwrap();
            assert_eq!(body.remaining(), 66_824);
            let (data, mut read, mut wire) = ([b'a'; 66_560], 0, Vec::new());
            while body.wants() > 0 || !body.output().is_empty() {
                if !body.output().is_empty() {
                    let n = body.output().len().min(999);
                    wire.extend_from_slice(&body.output()[..n]);
                    body.consume(n);
                    continue;
                }
                let n = body.wants().min(piece);
                body.push(&data[read..read + n]).unwrap();
                read += n;
            }
            assert_eq!(read, 66_560);
            assert_eq!(body.remaining(), 0);
            assert_eq!(wire.len().to_string(), request.headers()["content-length"]);
            assert!(body.push(b"x").is_err(), "nothing more is wanted");
            let (_, mut verifier) = doc_request();
            assert_eq!(deframe(&wire, &mut verifier), data);
        }
    }

    #[test]
    fn signer_from_a_hand_signed_seed() {
        let creds = doc_credentials();
        let sigv4 = SigV4::new(&creds, "us-east-1", "s3", doc_time()).unwrap();
        let mut signer = ChunkedSigner::new(&sigv4, SEED);
        assert_eq!(signer.next_chunk_len(), None);
        let h = signer.frame_header(&[b'a'; 65_536]).unwrap();
        assert!(h.ends_with(&format!("{}\r\n", CHUNK_SIGNATURES[0])));
        // Without a layout any non-empty size goes.
        let h = signer.frame_header(&[b'a'; 1024]).unwrap();
        assert!(h.ends_with(&format!("{}\r\n", CHUNK_SIGNATURES[1])));
        assert!(signer.finish().unwrap().contains(CHUNK_SIGNATURES[2]));
    }

    #[test]
    fn misuse_is_refused_without_breaking_the_chain() {
        let (_, mut signer) = doc_request();
        assert!(signer.frame_header(&[]).is_err());
        assert!(
            signer.frame_header(&[b'a'; 1024]).is_err(),
            "short non-final chunk"
        );
        assert!(signer.finish().is_err(), "data left");
        let h = signer.frame_header(&[b'a'; 65_536]).unwrap();
        assert!(h.contains(CHUNK_SIGNATURES[0]));
        assert!(
            signer.frame_header(&[b'a'; 1025]).is_err(),
            "longer than the rest"
        );
        assert!(
            signer
                .frame_header(&[b'a'; 1024])
                .unwrap()
                .contains(CHUNK_SIGNATURES[1])
        );
        assert!(
            signer.frame_header(&[b'a'; 1]).is_err(),
            "past the declared length"
        );
        assert!(signer.finish().unwrap().contains(CHUNK_SIGNATURES[2]));
        assert!(signer.finish().is_err());
        assert!(signer.frame_header(b"x").is_err());
    }

    #[test]
    fn debug_hides_key_and_signatures() {
        let (_, signer) = doc_request();
        let s = format!("{signer:?}");
        assert!(s.contains("20130524T000000Z"));
        assert!(!s.contains(SEED) && !s.contains("key"), "{s}");
    }

    #[test]
    fn empty_body_is_just_the_final_chunk() {
        assert_eq!(encoded_length(0, DEFAULT_CHUNK_SIZE), 86);
        let (_, mut signer) = doc_request();
        signer.layout = Some(Layout {
            chunk_size: MIN_CHUNK_SIZE,
            remaining: 0,
        });
        assert_eq!(signer.next_chunk_len(), None);
        assert_eq!(signer.finish().unwrap().len(), 86);
    }

    #[test]
    fn encoded_length_edges() {
        assert_eq!(encoded_length(1, 0), encoded_length(1, 1));
        assert_eq!(encoded_length(u64::MAX, 1), u64::MAX);
        assert_eq!(frame_length(0xf), 1 + FRAME_OVERHEAD + 0xf);
        assert_eq!(frame_length(0x10), 2 + FRAME_OVERHEAD + 0x10);
        assert_eq!(
            frame_length(u64::MAX >> 4),
            15 + FRAME_OVERHEAD + (u64::MAX >> 4)
        );
    }

    /// Splits a body with a checksum trailer into its data and trailer line, checking chunk
    /// signatures and the trailer signature when `signer` is given (from the seed).
    fn deframe_trailer(mut body: &[u8], mut verifier: Option<ChunkedSigner>) -> (Vec<u8>, String) {
        let mut out = Vec::new();
        loop {
            let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
            let line = std::str::from_utf8(&body[..line_end]).unwrap().to_owned();
            let (len, sig) = match line.split_once(";chunk-signature=") {
                Some((len, sig)) => (len, Some(sig)),
                None => (line.as_str(), None),
            };
            assert_eq!(sig.is_some(), verifier.is_some(), "{line}");
            let len = usize::from_str_radix(len, 16).unwrap();
            body = &body[line_end + 2..];
            if len == 0 {
                let text = std::str::from_utf8(body).unwrap();
                let mut lines = text.split("\r\n");
                let trailer = lines.next().unwrap().to_owned();
                if let Some(verifier) = &mut verifier {
                    let (name, value) = trailer.split_once(':').unwrap();
                    let expected = verifier.finish_with_trailer(name, value).unwrap();
                    assert_eq!(format!("{line}\r\n{text}"), expected);
                } else {
                    assert_eq!(text, format!("{trailer}\r\n\r\n"));
                }
                return (out, trailer);
            }
            if let Some(verifier) = &mut verifier {
                let data = &body[..len];
                assert_eq!(verifier.frame_header(data).unwrap(), format!("{line}\r\n"));
            }
            out.extend_from_slice(&body[..len]);
            assert_eq!(&body[len..len + 2], b"\r\n");
            body = &body[len + 2..];
        }
    }

    /// Frames `data` as `framing` says, fed in `piece`-byte reads, and returns the wire bytes.
    fn frame(data: &[u8], chunk_size: usize, framing: Framing, piece: usize) -> Vec<u8> {
        let creds = doc_credentials();
        let sigv4 = SigV4::new(&creds, "us-east-1", "s3", doc_time()).unwrap();
        let layout = Layout {
            chunk_size,
            remaining: data.len() as u64,
        };
        let signer = framing.is_signed().then(|| {
            ChunkedSigner::new(&sigv4, SEED)
                .with_layout(data.len() as u64, chunk_size)
                .unwrap()
        });
        let mut body = ChunkedBody::framed(signer, layout, framing).unwrap();
        assert_eq!(
            body.remaining(),
            framing.encoded_length(data.len() as u64, chunk_size)
        );
        let (mut read, mut wire) = (0, Vec::new());
        while body.wants() > 0 || !body.output().is_empty() {
            if !body.output().is_empty() {
                wire.extend_from_slice(body.output());
                let n = body.output().len();
                body.consume(n);
                continue;
            }
            let n = body.wants().min(piece);
            body.push(&data[read..read + n]).unwrap();
            read += n;
        }
        assert_eq!(body.remaining(), 0);
        wire
    }

    #[test]
    fn trailers_carry_the_checksum_of_the_whole_body() {
        use crate::checksum::{Checksum, ChecksumAlgorithm};
        let data = vec![b'a'; 66_560];
        let creds = doc_credentials();
        let sigv4 = SigV4::new(&creds, "us-east-1", "s3", doc_time()).unwrap();
        for algorithm in ChecksumAlgorithm::ALL {
            let line = format!(
                "{}:{}",
                algorithm.header_name(),
                Checksum::compute(algorithm, &data).to_base64()
            );
            let signed = Framing::SignedTrailer(algorithm);
            let wire = frame(&data, 65_536, signed, 5000);
            let verifier = ChunkedSigner::new(&sigv4, SEED);
            assert_eq!(
                deframe_trailer(&wire, Some(verifier)),
                (data.clone(), line.clone())
            );
            // The chunks sign as without a trailer: the doc example's first two signatures.
            let text = String::from_utf8_lossy(&wire);
            assert!(text.contains(CHUNK_SIGNATURES[0]) && text.contains(CHUNK_SIGNATURES[1]));
            let unsigned = Framing::UnsignedTrailer(algorithm);
            let wire = frame(&data, 65_536, unsigned, 5000);
            assert!(wire.starts_with(b"10000\r\naaa"));
            assert!(wire.ends_with(
                format!("\r\n400\r\n{}\r\n0\r\n{line}\r\n\r\n", "a".repeat(1024)).as_bytes()
            ));
            assert_eq!(deframe_trailer(&wire, None), (data.clone(), line));
        }
    }

    #[test]
    fn the_trailer_signature_follows_the_final_chunk() {
        // The trailer's string to sign, by hand: its algorithm, date, scope, the final
        // chunk's signature and the hash of the trailer line with a newline.
        let creds = doc_credentials();
        let sigv4 = SigV4::new(&creds, "us-east-1", "s3", doc_time()).unwrap();
        let mut signer = ChunkedSigner::new(&sigv4, SEED);
        signer.frame_header(&[b'a'; 65_536]).unwrap();
        signer.frame_header(&[b'a'; 1024]).unwrap();
        let end = signer
            .finish_with_trailer("x-amz-checksum-crc32c", "sOO8/Q==")
            .unwrap();
        let final_chunk = format!("0;chunk-signature={}\r\n", CHUNK_SIGNATURES[2]);
        assert!(end.starts_with(&final_chunk), "{end}");
        let to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{}\n{}",
            CHUNK_SIGNATURES[2],
            sha256_hex(b"x-amz-checksum-crc32c:sOO8/Q==\n")
        );
        let signature = hex(&crate::sign::v4::hmac(
            &sigv4.signing_key(),
            to_sign.as_bytes(),
        ));
        assert_eq!(
            end,
            format!(
                "{final_chunk}x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{signature}\r\n\r\n"
            )
        );
        assert!(
            signer.finish_with_trailer("a", "b").is_err(),
            "finished once"
        );
    }

    #[test]
    fn trailer_requests_name_the_trailer_and_sign_what_they_should() {
        use crate::checksum::ChecksumAlgorithm;
        let config = Config::new("https://s3.amazonaws.com", "us-east-1").unwrap();
        let op = PutObject::new(
            "examplebucket".parse().unwrap(),
            "chunkObject.txt".parse().unwrap(),
            Body::Stream { length: None },
        );
        let crc = ChecksumAlgorithm::Crc32c;
        for (framing, creds) in [
            (Framing::SignedTrailer(crc), doc_credentials()),
            (Framing::UnsignedTrailer(crc), doc_credentials()),
            (Framing::UnsignedTrailer(crc), Credentials::anonymous()),
        ] {
            let (req, body) = config
                .prepare_chunked(&op, &creds, doc_time(), 66_560, 65_536, framing)
                .unwrap();
            let h = req.headers();
            assert_eq!(h["x-amz-trailer"], "x-amz-checksum-crc32c");
            assert_eq!(h["x-amz-sdk-checksum-algorithm"], "CRC32C");
            assert_eq!(h["x-amz-decoded-content-length"], "66560");
            assert_eq!(h["content-encoding"], "aws-chunked");
            let length = framing.encoded_length(66_560, 65_536);
            assert_eq!(h["content-length"], length.to_string().as_str());
            assert_eq!(body.remaining(), length);
            match creds.is_anonymous() {
                true => assert!(!h.contains_key("authorization")),
                false => {
                    assert_eq!(h["x-amz-content-sha256"], framing.payload_hash());
                    let auth = h["authorization"].to_str().unwrap();
                    assert!(auth.contains(";x-amz-trailer"), "{auth}");
                }
            }
        }
        let anonymous = Credentials::anonymous();
        let signed = Framing::SignedTrailer(crc);
        assert!(
            config
                .prepare_chunked(&op, &anonymous, doc_time(), 1, 65_536, signed)
                .is_err()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn framing_round_trips(
            data in proptest::collection::vec(any::<u8>(), 0..100_000),
            chunk_size in MIN_CHUNK_SIZE..40_000usize,
        ) {
            let creds = doc_credentials();
            let sigv4 = SigV4::new(&creds, "us-east-1", "s3", doc_time()).unwrap();
            let mut signer = ChunkedSigner::new(&sigv4, SEED)
                .with_layout(data.len() as u64, chunk_size)
                .unwrap();
            let mut verifier = ChunkedSigner::new(&sigv4, SEED);
            let mut body = Vec::new();
            let mut offset = 0;
            while let Some(n) = signer.next_chunk_len() {
                prop_assert!(n == chunk_size || offset + n == data.len());
                let chunk = &data[offset..offset + n];
                body.extend_from_slice(signer.frame_header(chunk).unwrap().as_bytes());
                body.extend_from_slice(chunk);
                body.extend_from_slice(CHUNK_TRAILER.as_bytes());
                offset += n;
            }
            body.extend_from_slice(signer.finish().unwrap().as_bytes());
            prop_assert_eq!(body.len() as u64, encoded_length(data.len() as u64, chunk_size));
            prop_assert_eq!(deframe(&body, &mut verifier), data);
        }

        #[test]
        fn every_framing_is_as_long_as_announced(
            data in proptest::collection::vec(any::<u8>(), 0..100_000),
            chunk_size in MIN_CHUNK_SIZE..40_000usize,
            piece in 1..70_000usize,
            which in 0..3usize,
            algorithm in proptest::sample::select(crate::checksum::ChecksumAlgorithm::ALL.to_vec()),
        ) {
            let framing = [
                Framing::Signed,
                Framing::SignedTrailer(algorithm),
                Framing::UnsignedTrailer(algorithm),
            ][which];
            let wire = frame(&data, chunk_size, framing, piece);
            prop_assert_eq!(wire.len() as u64, framing.encoded_length(data.len() as u64, chunk_size));
            if framing == Framing::Signed {
                prop_assert_eq!(framing.encoded_length(data.len() as u64, chunk_size), encoded_length(data.len() as u64, chunk_size));
            } else {
                let creds = doc_credentials();
                let sigv4 = SigV4::new(&creds, "us-east-1", "s3", doc_time()).unwrap();
                let verifier = framing.is_signed().then(|| ChunkedSigner::new(&sigv4, SEED));
                prop_assert_eq!(deframe_trailer(&wire, verifier).0, data);
            }
        }

        #[test]
        fn encoded_length_is_the_sum_of_frames(
            decoded in 0u64..20_000_000,
            chunk_size in MIN_CHUNK_SIZE..MAX_CHUNK_SIZE,
        ) {
            let mut total = 0;
            let mut left = decoded;
            while left > 0 {
                let n = left.min(chunk_size as u64);
                total += format!("{n:x}").len() as u64 + 17 + 64 + 2 + n + 2;
                left -= n;
            }
            total += 86;
            prop_assert_eq!(encoded_length(decoded, chunk_size), total);
        }
    }
}
