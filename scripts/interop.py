#!/usr/bin/env python3
"""boto3 side of the interoperability tests: reads what s3-rs wrote and writes what s3-rs reads.

Usage: interop.py ENDPOINT ACCESS_KEY SECRET_KEY REGION COMMAND ARGS...
Prints one JSON document on stdout. Commands:
  head BUCKET KEY                 -> {content_type, content_length, metadata, body_sha256}
  put BUCKET KEY CONTENT_TYPE BODY META_JSON
  get-acl BUCKET [KEY]            -> {owner, grants: [{permission, type, id, email, uri}]}
  put-acl BUCKET KEY|- CANNED
  get-cors BUCKET                 -> {rules: [...]} as boto3 returns them
  put-cors BUCKET RULES_JSON
"""
import hashlib
import json
import sys

import boto3
from botocore.config import Config

endpoint, access, secret, region, cmd, *args = sys.argv[1:]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=access,
    aws_secret_access_key=secret,
    region_name=region,
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                  request_checksum_calculation="when_required",
                  response_checksum_validation="when_required"),
)


def grants(acl):
    out = []
    for g in acl["Grants"]:
        grantee = g["Grantee"]
        out.append({
            "permission": g["Permission"],
            "type": grantee.get("Type"),
            "id": grantee.get("ID"),
            "email": grantee.get("EmailAddress"),
            "uri": grantee.get("URI"),
        })
    return {"owner": acl.get("Owner", {}).get("ID"), "grants": out}


if cmd == "head":
    bucket, key = args
    obj = s3.get_object(Bucket=bucket, Key=key)
    body = obj["Body"].read()
    result = {
        "content_type": obj.get("ContentType"),
        "content_length": obj.get("ContentLength"),
        "metadata": obj.get("Metadata", {}),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
elif cmd == "put":
    bucket, key, content_type, body, meta = args
    s3.put_object(Bucket=bucket, Key=key, ContentType=content_type, Body=body.encode(),
                  Metadata=json.loads(meta))
    result = {}
elif cmd == "get-acl":
    if len(args) == 2:
        result = grants(s3.get_object_acl(Bucket=args[0], Key=args[1]))
    else:
        result = grants(s3.get_bucket_acl(Bucket=args[0]))
elif cmd == "put-acl":
    bucket, key, canned = args
    if key == "-":
        s3.put_bucket_acl(Bucket=bucket, ACL=canned)
    else:
        s3.put_object_acl(Bucket=bucket, Key=key, ACL=canned)
    result = {}
elif cmd == "get-cors":
    result = {"rules": s3.get_bucket_cors(Bucket=args[0])["CORSRules"]}
elif cmd == "put-cors":
    s3.put_bucket_cors(Bucket=args[0], CORSConfiguration={"CORSRules": json.loads(args[1])})
    result = {}
else:
    sys.exit(f"unknown command {cmd}")
print(json.dumps(result, sort_keys=True))
