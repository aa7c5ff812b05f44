#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<target>/ from the recorded test data.

Run from anywhere: `python3 fuzz/seed.py`. Seeds are named `seed-*` so they stand apart
from the files libFuzzer adds; re-running overwrites them and leaves the others alone.

Encodings (documented with each target in fuzz/src/lib.rs):
- responses, service_error: selector byte, status as big-endian u16, `name:value` header
  lines joined by `\\n`, a NUL, then the body. The selector indexes `OPERATIONS` in lib.rs.
- acl_roundtrip, cors_roundtrip: the XML body as is.
- sign: flags byte, `method\\npath?query\\n`, header lines.
- uri_encode, chunked, cors_preflight: hand-written below.
"""

import pathlib
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
DATA = FUZZ.parent / "s3-proto" / "tests" / "data"
CORPUS = FUZZ / "corpus"

# Index into OPERATIONS in src/lib.rs.
OPS = {
    "ListBuckets": 0, "ListObjectsV2": 1, "ListObjects": 2, "GetBucketLocation": 3,
    "HeadObject": 4, "GetObject": 5, "HeadBucket": 6, "CopyObject": 7, "DeleteObjects": 8,
    "CreateBucket": 9, "GetBucketAcl": 10, "GetObjectAcl": 11, "GetBucketCors": 12,
    "CreateMultipartUpload": 13, "UploadPart": 14, "UploadPartCopy": 15,
    "CompleteMultipartUpload": 16, "ListParts": 17, "ListMultipartUploads": 18,
    "ListObjectsV2Url": 19, "ListObjectsUrl": 20, "DeleteBucket": 21, "DeleteObject": 22,
    "PutObject": 23, "AbortMultipartUpload": 24, "PutBucketCors": 25, "DeleteBucketCors": 26,
    "PutBucketAcl": 27, "PutObjectAcl": 28, "GetBucketVersioning": 29, "ListObjectVersions": 30,
    "GetObjectTagging": 31, "GetBucketTagging": 32, "GetBucketPolicy": 33,
    "GetPublicAccessBlock": 34, "GetBucketOwnershipControls": 35,
    "GetBucketLifecycleConfiguration": 36, "GetBucketEncryption": 37,
    "GetObjectLockConfiguration": 38, "GetObjectRetention": 39, "GetObjectLegalHold": 40,
    "DeleteObjectReport": 41, "PutObjectTagging": 42,
}

# File name (without `error-` and `.http`) prefix -> operations that could have received it.
BY_NAME = [
    ("get-bucket-versioning", ["GetBucketVersioning"]),
    ("list-object-versions", ["ListObjectVersions"]),
    ("delete-object-marker", ["DeleteObjectReport"]),
    ("get-object-tagging", ["GetObjectTagging"]),
    ("get-bucket-tagging", ["GetBucketTagging"]),
    ("get-bucket-policy", ["GetBucketPolicy"]),
    ("get-public-access-block", ["GetPublicAccessBlock"]),
    ("get-bucket-ownership-controls", ["GetBucketOwnershipControls"]),
    ("get-bucket-lifecycle", ["GetBucketLifecycleConfiguration"]),
    ("put-object-expiration", ["PutObject"]),
    ("get-bucket-encryption", ["GetBucketEncryption"]),
    ("get-object-lock-configuration", ["GetObjectLockConfiguration"]),
    ("get-object-retention", ["GetObjectRetention"]),
    ("get-object-legal-hold", ["GetObjectLegalHold"]),
    ("list-buckets", ["ListBuckets"]),
    ("list-objects-v2-url", ["ListObjectsV2Url"]),
    ("list-objects-v2", ["ListObjectsV2"]),
    ("list-objects-v1-url", ["ListObjectsUrl"]),
    ("list-objects", ["ListObjects"]),
    ("get-bucket-location", ["GetBucketLocation"]),
    ("head-object", ["HeadObject"]),
    ("no-such-key-head", ["HeadObject"]),
    ("get-object", ["GetObject"]),
    ("head-bucket", ["HeadBucket"]),
    ("copy-object", ["CopyObject", "UploadPartCopy"]),
    ("delete-objects", ["DeleteObjects"]),
    ("create-bucket", ["CreateBucket"]),
    ("get-bucket-acl", ["GetBucketAcl"]),
    ("get-object-acl", ["GetObjectAcl"]),
    ("get-bucket-cors", ["GetBucketCors"]),
    ("no-such-cors", ["GetBucketCors"]),
    ("create-multipart-upload", ["CreateMultipartUpload"]),
    ("upload-part", ["UploadPart"]),
    ("complete-multipart-upload", ["CompleteMultipartUpload"]),
    ("invalid-part", ["CompleteMultipartUpload"]),
    ("list-parts", ["ListParts"]),
    ("list-multipart-uploads", ["ListMultipartUploads"]),
    ("abort-multipart-upload", ["AbortMultipartUpload"]),
    ("bucket-not-empty", ["DeleteBucket"]),
    ("no-such-bucket", ["ListObjectsV2", "HeadBucket"]),
    ("invalid-range", ["GetObject"]),
    ("precondition-failed", ["GetObject", "CopyObject"]),
    ("no-such-key", ["GetObject"]),
    ("invalid-access-key-id", ["ListBuckets", "PutObject"]),
    ("signature-does-not-match", ["ListBuckets", "PutObject"]),
]


def load(path):
    """(status, [(name, value)], body) of a recorded `.http` file."""
    raw = path.read_bytes()
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            head, body = raw[:i], raw[i + len(sep):]
            break
    else:
        head, body = raw, b""
    lines = head.decode("utf-8", "replace").splitlines()
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return status, headers, body


def http_input(selector, status, headers, body):
    head = "\n".join(f"{n}:{v}" for n, v in headers).encode()
    return bytes([selector]) + struct.pack(">H", status) + head + b"\0" + body


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


def operations_for(stem):
    name = stem[len("error-"):] if stem.startswith("error-") else stem
    for prefix, ops in BY_NAME:
        if name.startswith(prefix):
            return ops
    return ["GetObject"]


def recorded():
    for path in sorted(DATA.glob("*/*.http")):
        yield path, load(path)


def main():
    for path, (status, headers, body) in recorded():
        server, stem = path.parent.name, path.stem
        for op in operations_for(stem):
            write("responses", f"{server}-{stem}-{op}", http_input(OPS[op], status, headers, body))
        if stem.startswith("error-") or status >= 300 or b"<Error>" in body:
            write("service_error", f"{server}-{stem}", http_input(0, status, headers, body))
        if "-acl" in stem and status == 200:
            write("acl_roundtrip", f"{server}-{stem}", body)
        if "-cors" in stem and status == 200:
            write("cors_roundtrip", f"{server}-{stem}", body)

    # SigV4 test suite requests: method, path, headers; relative URI (flag 0x10), so the
    # host comes from the Host header. Variants with a session token and all headers signed.
    for req in sorted((DATA / "sigv4-suite").glob("*/request.txt")):
        text = req.read_bytes().replace(b"\r\n", b"\n")
        head = text.split(b"\n\n", 1)[0]
        lines = head.split(b"\n")
        parts = lines[0].split(b" ")
        method, target = parts[0], b" ".join(parts[1:-1])
        rest = b"\n".join(lines[1:])
        for flags in (0x10, 0x10 | 0x01 | 0x02, 0x10 | 0x80 | 0x08 | 0x01):
            write("sign", f"{req.parent.name}-{flags:02x}", bytes([flags]) + method + b"\n" + target + b"\n" + rest)
    write("sign", "put-object", bytes([0x20]) + b"PUT\n/bucket/a%20b/c+d?uploads&partNumber=2\n"
          b"content-type:text/plain\nx-amz-meta-k:v\nx-amz-acl:private\ncontent-md5:1B2M2Y8AsgTpgAhRvBjHkA==")
    write("sign", "list", bytes([0x40 | 0x01]) + b"GET\n/?list-type=2&prefix=a%2Fb&max-keys=10&acl\n")

    for name, flags, text in [
        ("ascii", 0, b"plain-key_1.txt~"),
        ("path", 1, b"photos/2026/a b+c.jpg"),
        ("unicode", 3, "données/ሴ/%41/+".encode()),
        ("percent", 2, b"100%25%zz%4"),
        ("invalid-utf8", 0, b"\xff\xfe/\x00"),
    ]:
        write("uri_encode", name, bytes([flags]) + text)

    def chunked_seed(mode, size, decoded, steps):
        return bytes([mode]) + struct.pack(">H", size) + struct.pack(">I", decoded)[1:] + bytes(steps)
    write("chunked", "layout-full", chunked_seed(1, 0, 20000, [0, 0, 0, 1, 0, 0, 0, 0, 0, 6, 0, 0]))
    write("chunked", "prepare-streaming", chunked_seed(2, 0x2000, 40000, [0, 0, 0] * 3 + [6, 0, 0]))
    write("chunked", "free", chunked_seed(0, 0, 0, [2, 0, 10, 3, 1, 0, 4, 0, 0, 6, 0, 0, 6, 0, 0]))
    write("chunked", "bad-size", chunked_seed(5, 100, 1000, [0, 0, 0, 6, 0, 0]))
    write("chunked", "wrong-len", chunked_seed(1, 0, 9000, [2, 0, 5, 0, 0, 0, 7, 0, 0, 6, 0, 0]))

    rules = (
        "PUT,POST,DELETE|http://www.example.com|*|x-amz-server-side-encryption,x-amz-request-id|3000\n"
        "GET|*|||\n"
        "GET,HEAD|http://*.example.org|x-amz-*,Content-Type||"
    )
    for name, req in [
        ("s3-put", "http://www.example.com\nPUT\nx-custom, content-type"),
        ("s3-get-any", "http://www.example.com\nGET\n"),
        ("wildcard", "http://a.example.org\nHEAD\nX-Amz-Date;content-type"),
        ("refused-header", "http://a.example.org\nGET\nauthorization"),
        ("unknown-method", "http://www.example.com\nPATCH\n"),
        ("unicode", "http://ሴ.example.org\nGET\nx-amz-ሴ"),
    ]:
        write("cors_preflight", name, (req + "\n" + rules).encode())


if __name__ == "__main__":
    main()
