#!/usr/bin/env python3
"""Records raw S3 replies from a running server into s3-proto/tests/data/<server>/*.http.

Each file is what the server sent: status line, headers, a blank line, the body bytes. The
requests are made with boto3 (an independent client), so the recordings do not depend on
s3-rs being right. Re-run after adding a parser; review the diff before committing.

Usage: scripts/record-bodies.py SERVER   (ceph, s3s or moto; reads target/s3-servers.env,
which scripts/servers/start-all.sh writes)
"""
import os
import pathlib
import re
import sys
import uuid

import boto3
import botocore.exceptions
from botocore.handlers import set_list_objects_encoding_type_url
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parent.parent


def server_env(server):
    env = {}
    for line in (ROOT / "target" / "s3-servers.env").read_text().splitlines():
        m = re.match(r"export (S3RS_\w+)=(.*)", line)
        if m:
            env[m.group(1)] = m.group(2)
    p = f"S3RS_{server.upper()}_"
    return env[p + "ENDPOINT"], env[p + "ACCESS_KEY"], env[p + "SECRET_KEY"], env[p + "REGION"]


def client(endpoint, access, secret, region):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name=region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                      request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"),
    )


class Recorder:
    """Saves the raw reply of the next call made through a client under a name."""

    def __init__(self, out):
        self.out = out
        self.name = None

    def attach(self, s3):
        s3.meta.events.register("after-call", self.after_call)
        return s3

    def after_call(self, http_response, **_):
        if self.name is None:
            return
        # Streaming replies (GetObject) keep their body in the raw stream; read it now.
        body = http_response.content or b""
        status = http_response.status_code
        if self.name.startswith("error-") and status < 300:
            print(f"  {self.name}: {status}, not an error here; not recorded")
            self.name = None
            return
        if status >= 400 and not self.name.startswith("error-"):
            self.name = "error-" + self.name
        reason = "OK" if http_response.status_code < 400 else "Error"
        head = [f"HTTP/1.1 {http_response.status_code} {reason}"]
        for k, v in http_response.headers.items():
            head.append(f"{k.lower()}: {v}")
        (self.out / f"{self.name}.http").write_bytes(("\n".join(head) + "\n\n").encode() + body)
        print(f"  {self.name}: {http_response.status_code}, {len(body)} bytes")
        self.name = None

    def __call__(self, name, fn, *args, **kwargs):
        self.name = name
        try:
            return fn(*args, **kwargs)
        except botocore.exceptions.ClientError:
            return None
        finally:
            self.name = None


def quietly(fn, **kwargs):
    """Calls fn; a server that does not implement it is noted, not fatal."""
    try:
        fn(**kwargs)
        return True
    except botocore.exceptions.ClientError as e:
        print(f"  ({fn.__name__}: {e})")
        return False


def main():
    server = sys.argv[1]
    endpoint, access, secret, region = server_env(server)
    out = ROOT / "s3-proto" / "tests" / "data" / server
    out.mkdir(parents=True, exist_ok=True)
    rec = Recorder(out)
    s3 = rec.attach(client(endpoint, access, secret, region))
    bad = rec.attach(client(endpoint, access, secret + "x", region))
    unknown = rec.attach(client(endpoint, "NOSUCHACCESSKEY", secret, region))
    # boto3 asks for URL-encoded listings by default; s3-rs does not, so record both.
    plain = rec.attach(client(endpoint, access, secret, region))
    for op in ("ListObjects", "ListObjectsV2"):
        plain.meta.events.unregister(f"before-parameter-build.s3.{op}",
                                     set_list_objects_encoding_type_url)
    bucket = f"rec-{uuid.uuid4().hex[:12]}"
    keys = ["a.txt", "dir/b c.txt", "dir/sub/d+e=f.txt", "ümlaut/x&y<z>.txt", "z"]

    rec("create-bucket", s3.create_bucket, Bucket=bucket)
    try:
        rec("list-buckets", s3.list_buckets)
        rec("get-bucket-location", s3.get_bucket_location, Bucket=bucket)
        rec("head-bucket", s3.head_bucket, Bucket=bucket)
        for i, k in enumerate(keys):
            s3.put_object(Bucket=bucket, Key=k, Body=b"x" * (i * 10 + 1),
                          ContentType="text/plain", Metadata={"color": "blue", "n": str(i)})
        rec("list-objects-v2", plain.list_objects_v2, Bucket=bucket)
        rec("list-objects-v2-truncated", plain.list_objects_v2, Bucket=bucket, MaxKeys=2)
        rec("list-objects-v2-delimiter", plain.list_objects_v2, Bucket=bucket, Delimiter="/")
        rec("list-objects-v2-empty", plain.list_objects_v2, Bucket=bucket, Prefix="nothing/")
        rec("list-objects-v1", plain.list_objects, Bucket=bucket)
        rec("list-objects-v1-truncated", plain.list_objects, Bucket=bucket, MaxKeys=2)
        rec("list-objects-v1-delimiter", plain.list_objects, Bucket=bucket, Delimiter="/",
            Prefix="dir/")
        rec("list-objects-v2-url", s3.list_objects_v2, Bucket=bucket)
        rec("list-objects-v1-url", s3.list_objects, Bucket=bucket)
        rec("head-object", s3.head_object, Bucket=bucket, Key="dir/b c.txt")
        rec("get-object", s3.get_object, Bucket=bucket, Key="dir/b c.txt")
        rec("get-object-range", s3.get_object, Bucket=bucket, Key="dir/b c.txt", Range="bytes=2-5")
        rec("copy-object", s3.copy_object, Bucket=bucket, Key="copy",
            CopySource={"Bucket": bucket, "Key": "a.txt"})
        rec("delete-objects", s3.delete_objects, Bucket=bucket,
            Delete={"Objects": [{"Key": "copy"}, {"Key": "never-existed"}]})
        rec("get-bucket-acl", s3.get_bucket_acl, Bucket=bucket)
        if quietly(s3.put_object_acl, Bucket=bucket, Key="a.txt", ACL="public-read"):
            rec("get-object-acl", s3.get_object_acl, Bucket=bucket, Key="a.txt")
        rec("error-no-such-cors", s3.get_bucket_cors, Bucket=bucket)
        try:
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
                {"ID": "r1", "AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://a.example"],
                 "AllowedHeaders": ["*"], "MaxAgeSeconds": 300, "ExposeHeaders": ["ETag"]},
                {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})
            rec("get-bucket-cors", s3.get_bucket_cors, Bucket=bucket)
        except botocore.exceptions.ClientError as e:
            print(f"  (no CORS here: {e})")

        mp_key = "multi part"
        up = rec("create-multipart-upload", s3.create_multipart_upload, Bucket=bucket, Key=mp_key,
                 ContentType="application/octet-stream")
        uid = up["UploadId"]
        uploads = [(mp_key, uid)]
        p1 = rec("upload-part", s3.upload_part, Bucket=bucket, Key=mp_key, UploadId=uid,
                 PartNumber=1, Body=b"p" * (5 * 1024 * 1024))
        p2 = s3.upload_part(Bucket=bucket, Key=mp_key, UploadId=uid, PartNumber=2, Body=b"q" * 10)
        rec("list-parts", s3.list_parts, Bucket=bucket, Key=mp_key, UploadId=uid)
        rec("list-parts-truncated", s3.list_parts, Bucket=bucket, Key=mp_key, UploadId=uid,
            MaxParts=1)
        other = s3.create_multipart_upload(Bucket=bucket, Key="other")["UploadId"]
        uploads.append(("other", other))
        rec("list-multipart-uploads", s3.list_multipart_uploads, Bucket=bucket)
        rec("list-multipart-uploads-truncated", s3.list_multipart_uploads, Bucket=bucket,
            MaxUploads=1)
        rec("error-invalid-part", s3.complete_multipart_upload, Bucket=bucket, Key=mp_key,
            UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]})
        rec("complete-multipart-upload", s3.complete_multipart_upload, Bucket=bucket, Key=mp_key,
            UploadId=uid, MultipartUpload={"Parts": [
                {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
        rec("abort-multipart-upload", s3.abort_multipart_upload, Bucket=bucket, Key="other",
            UploadId=other)
        # Ceph RGW answers NoSuchKey here, moto NoSuchUpload.
        rec("error-list-parts-aborted", s3.list_parts, Bucket=bucket, Key="other", UploadId=other)
        rec("head-object-multipart", s3.head_object, Bucket=bucket, Key=mp_key)

        rec("error-no-such-key", s3.get_object, Bucket=bucket, Key="missing")
        rec("error-no-such-key-head", s3.head_object, Bucket=bucket, Key="missing")
        rec("error-no-such-bucket", s3.list_objects_v2, Bucket=bucket + "-missing")
        rec("error-invalid-range", s3.get_object, Bucket=bucket, Key="a.txt", Range="bytes=100-200")
        rec("error-precondition-failed", s3.get_object, Bucket=bucket, Key="a.txt", IfMatch='"0"')
        rec("error-signature-does-not-match", bad.list_objects_v2, Bucket=bucket)
        rec("error-invalid-access-key-id", unknown.list_objects_v2, Bucket=bucket)
        # Last: s3s-fs deletes a bucket that still holds objects.
        rec("error-bucket-not-empty", s3.delete_bucket, Bucket=bucket)
    finally:
        if not quietly(s3.head_bucket, Bucket=bucket):
            return
        for key, uid in locals().get("uploads", []):
            quietly(s3.abort_multipart_upload, Bucket=bucket, Key=key, UploadId=uid)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=o["Key"])
        s3.delete_bucket(Bucket=bucket)


if __name__ == "__main__":
    main()
