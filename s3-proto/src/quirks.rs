//! What a server does differently from AWS S3, as data: one [`ServerQuirks`] value per
//! client ([`Options::quirks`](crate::flow::request::Options)), with named presets for the
//! servers s3-rs is tested against. Every request and reply consults it instead of a decision
//! written for one server.
//!
//! ```
//! use s3_proto::quirks::{Encoded, ServerQuirks};
//!
//! let ceph = ServerQuirks::ceph();
//! assert!(ceph.if_match_unquoted);
//! assert!(!ceph.accepts_checksum_trailer);
//! // Ceph RGW 16 encodes upload keys without declaring it.
//! assert_eq!(ceph.list_multipart_uploads.keys, Encoded::Always);
//! assert_eq!(ServerQuirks::default(), ServerQuirks::aws());
//! ```

use crate::checksum::ChecksumPlacement;

/// How a server treats flexible checksums, conditional writes and `encoding-type=url`.
///
/// Observed on Ceph RGW 16.2 (Pacific), s3s-fs 0.14, moto 5 and LocalStack 4 (community);
/// [`ServerQuirks::aws`] is S3 as its API reference documents it, and the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerQuirks {
    /// The server does something with `x-amz-checksum-*` request headers (checks or stores
    /// them). Ceph RGW 16 accepts and ignores them, so the checksum policy computes none it
    /// was not asked for ([`Options::default_checksum`](crate::flow::request::Options)).
    pub takes_checksum_headers: bool,
    /// The server accepts a checksum in an `aws-chunked` trailer (`x-amz-trailer`, after
    /// signed or unsigned chunks) and checks and keeps it, so a body streamed once gets a
    /// stored checksum. Ceph RGW 16 answers 400: no trailer is ever sent to a server without
    /// this.
    pub accepts_checksum_trailer: bool,
    /// The server reads a `x-amz-checksum-crc32c` trailer as CRC32 and CRC32C at once and
    /// refuses it (LocalStack 4 matches trailer names by prefix): a CRC32C is never sent in a
    /// trailer to it.
    pub trailer_misreads_crc32c: bool,
    /// On writes the server compares `If-Match` with the bare hex ETag and answers 412 to the
    /// quoted form S3 documents (Ceph RGW 16), so the ETag goes without its quotes.
    pub if_match_unquoted: bool,
    /// The server checks a SigV4 payload hash (`x-amz-content-sha256`, and each chunk's
    /// signature of a signed aws-chunked body) and refuses a body that does not match it, so
    /// a signed body needs no `Content-MD5` (AWS, Ceph RGW 16, s3s-fs 0.14; LocalStack 4 and
    /// moto 5 check no signature, so uploads to them keep `Content-MD5`).
    pub checks_payload_hash: bool,
    /// The server refuses a body, single or a part, whose `x-amz-checksum-*` header does not
    /// match it (AWS, LocalStack 4). Over TLS such a checksum covers an upload by itself, as
    /// the AWS SDKs rely on: no SHA-256 payload hash or `Content-MD5` is computed beside it
    /// ([`Config::checksums_cover_payloads`](crate::Config::checksums_cover_payloads)).
    /// Ceph RGW 16 ignores the headers, moto 5 and s3s-fs 0.14 ignore them on parts.
    pub checks_checksum_headers: bool,
    /// The flexible checksums the server reports can be ones it never stored (moto 5 for
    /// multipart objects), so a read hashes the ETag's MD5 beside a stored checksum and a body
    /// matching the ETag stands. Without this quirk a stored checksum alone is checked: no
    /// MD5 pass over a body whose checksum covers it.
    pub invents_checksums: bool,
    /// What ListObjects (v1) encodes when asked for `encoding-type=url`.
    pub list_objects_v1: ListingEncoding,
    /// What ListObjectsV2 encodes when asked for `encoding-type=url`.
    pub list_objects_v2: ListingEncoding,
    /// What ListObjectVersions encodes when asked for `encoding-type=url`.
    pub list_object_versions: ListingEncoding,
    /// What ListMultipartUploads encodes when asked for `encoding-type=url`.
    pub list_multipart_uploads: ListingEncoding,
}

/// Which fields of a listing asked for with `encoding-type=url` come back URL-encoded. The
/// echoes of what was asked (prefix, delimiter, marker, start-after) are taken from the
/// request, so servers that echo them raw or encoded read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListingEncoding {
    /// Object or upload keys.
    pub keys: Encoded,
    /// Common prefixes.
    pub common_prefixes: Encoded,
    /// `NextMarker` (v1) or `NextKeyMarker` (versions, uploads).
    pub next_marker: Encoded,
}

/// Whether a listing field is URL-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoded {
    /// Encoded exactly when the reply says `<EncodingType>url</EncodingType>` (the AWS rule).
    AsDeclared,
    /// Encoded whenever it was asked for, declared or not.
    Always,
    /// Never encoded, even when the reply declares it.
    Never,
}

impl Encoded {
    /// Whether to decode the field, given what was asked and what the reply declared.
    pub fn decode(self, asked: bool, declared: bool) -> bool {
        match self {
            Encoded::AsDeclared => declared,
            Encoded::Always => asked,
            Encoded::Never => false,
        }
    }
}

impl ListingEncoding {
    /// The AWS rule: every field encoded when the reply declares it.
    pub const AS_DECLARED: ListingEncoding = ListingEncoding {
        keys: Encoded::AsDeclared,
        common_prefixes: Encoded::AsDeclared,
        next_marker: Encoded::AsDeclared,
    };

    /// Nothing encoded, whatever the reply declares.
    pub const NEVER: ListingEncoding = ListingEncoding {
        keys: Encoded::Never,
        common_prefixes: Encoded::Never,
        next_marker: Encoded::Never,
    };

    /// Keys and common prefixes as declared, the next marker raw.
    const RAW_NEXT_MARKER: ListingEncoding = ListingEncoding {
        next_marker: Encoded::Never,
        ..ListingEncoding::AS_DECLARED
    };
}

impl ServerQuirks {
    /// AWS S3 as documented: checksum headers and trailers checked and stored, the quoted
    /// `If-Match`, every listing encoded as declared. The default.
    pub const fn aws() -> Self {
        ServerQuirks {
            takes_checksum_headers: true,
            accepts_checksum_trailer: true,
            trailer_misreads_crc32c: false,
            if_match_unquoted: false,
            checks_payload_hash: true,
            checks_checksum_headers: true,
            invents_checksums: false,
            list_objects_v1: ListingEncoding::AS_DECLARED,
            list_objects_v2: ListingEncoding::AS_DECLARED,
            list_object_versions: ListingEncoding::AS_DECLARED,
            list_multipart_uploads: ListingEncoding::AS_DECLARED,
        }
    }

    /// Ceph RGW 16: ignores checksum headers and refuses trailers, matches the unquoted
    /// `If-Match`; listings return `NextMarker`/`NextKeyMarker` raw, and ListMultipartUploads
    /// encodes keys without declaring it.
    pub const fn ceph() -> Self {
        ServerQuirks {
            takes_checksum_headers: false,
            accepts_checksum_trailer: false,
            trailer_misreads_crc32c: false,
            if_match_unquoted: true,
            checks_payload_hash: true,
            checks_checksum_headers: false,
            invents_checksums: false,
            list_objects_v1: ListingEncoding::RAW_NEXT_MARKER,
            list_objects_v2: ListingEncoding::RAW_NEXT_MARKER,
            list_object_versions: ListingEncoding::RAW_NEXT_MARKER,
            list_multipart_uploads: ListingEncoding {
                keys: Encoded::Always,
                common_prefixes: Encoded::Always,
                next_marker: Encoded::Never,
            },
        }
    }

    /// s3s-fs 0.14: object listings declare `url` without encoding anything (it has no
    /// ListObjectVersions or ListMultipartUploads); a part's checksum is not checked.
    pub const fn s3s() -> Self {
        ServerQuirks {
            checks_checksum_headers: false,
            list_objects_v1: ListingEncoding::NEVER,
            list_objects_v2: ListingEncoding::NEVER,
            ..ServerQuirks::aws()
        }
    }

    /// moto 5: ListObjects v1 leaves common prefixes raw (v2 encodes them); versions and
    /// uploads ignore `encoding-type` and say so (the AWS rule reads them right); a trailer is
    /// decoded but its checksum neither checked nor kept, so none is sent; no signature is
    /// checked.
    pub const fn moto() -> Self {
        ServerQuirks {
            accepts_checksum_trailer: false,
            checks_payload_hash: false,
            checks_checksum_headers: false,
            invents_checksums: true,
            list_objects_v1: ListingEncoding {
                common_prefixes: Encoded::Never,
                ..ListingEncoding::AS_DECLARED
            },
            ..ServerQuirks::aws()
        }
    }

    /// LocalStack 4: ListMultipartUploads declares `url` without encoding anything, and a
    /// CRC32C trailer is misread, and no signature is checked; the rest as AWS.
    pub const fn localstack() -> Self {
        ServerQuirks {
            trailer_misreads_crc32c: true,
            checks_payload_hash: false,
            list_multipart_uploads: ListingEncoding::NEVER,
            ..ServerQuirks::aws()
        }
    }

    /// Whether a checksum of `algorithm` may go in an aws-chunked trailer.
    pub fn takes_trailer(self, algorithm: crate::checksum::ChecksumAlgorithm) -> bool {
        let misread =
            self.trailer_misreads_crc32c && algorithm == crate::checksum::ChecksumAlgorithm::Crc32c;
        self.accepts_checksum_trailer && !misread
    }

    /// Where a request's checksum of `algorithm` goes (`None`: the caller and the
    /// [`ChecksumPolicy`](crate::ChecksumPolicy) want none); `streamed` is true when the body
    /// can be read only once.
    ///
    /// A body known ahead gets a header, which every server takes (some ignore it). A
    /// streamed body gets a trailer only where the server reads this algorithm's trailer
    /// right ([`ServerQuirks::takes_trailer`]); elsewhere nothing, since a header would need
    /// a second pass over the data.
    pub fn placement(
        self,
        algorithm: Option<crate::checksum::ChecksumAlgorithm>,
        streamed: bool,
    ) -> ChecksumPlacement {
        match (algorithm, streamed) {
            (None, _) => ChecksumPlacement::None,
            (Some(_), false) => ChecksumPlacement::Header,
            (Some(a), true) if self.takes_trailer(a) => ChecksumPlacement::Trailer,
            (Some(_), true) => ChecksumPlacement::None,
        }
    }
}

impl Default for ServerQuirks {
    fn default() -> Self {
        ServerQuirks::aws()
    }
}
