#!/usr/bin/env python3
"""ceph_oidc.py - a minimal local OpenID Connect "identity provider" for RGW's
AssumeRoleWithWebIdentity (used by start-ceph.sh with S3RS_CEPH_STS=1). Stdlib + the openssl CLI only.

  ceph_oidc.py init  DIR ISSUER      key + self-signed cert (openssl), DIR/www/.well-known/openid-configuration
                                     and DIR/www/jwks.json (one RSA key with n, e and x5c); prints the cert's
                                     SHA-1 thumbprint (for CreateOpenIDConnectProvider's ThumbprintList)
  ceph_oidc.py token DIR [--aud A] [--sub S] [--ttl SECONDS] [--iss ISSUER]
                                     prints an RS256 JWT signed with DIR/idp.key
Serve DIR/www with `python3 -m http.server --bind 127.0.0.1 --directory DIR/www PORT`; ISSUER must then
be http://127.0.0.1:PORT. RGW 16 fetches ISSUER/.well-known/openid-configuration, then jwks_uri, and
verifies the JWT with the first x5c certificate of the (single) key; it needs x5c, reads only one key,
and rejects HS* algorithms.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import time


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def init(d, iss):
    os.makedirs(os.path.join(d, "www", ".well-known"), exist_ok=True)
    key, crt = os.path.join(d, "idp.key"), os.path.join(d, "idp.crt")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                        "-subj", "/CN=s3-rs test OIDC signer", "-keyout", key, "-out", crt],
                       check=True, capture_output=True)
    der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"], check=True,
                         capture_output=True).stdout
    mod = subprocess.run(["openssl", "rsa", "-in", key, "-noout", "-modulus"], check=True,
                         capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    n = bytes.fromhex(mod)
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "s3rs-k1", "n": b64url(n), "e": "AQAB",
           "x5c": [base64.b64encode(der).decode()]}
    with open(os.path.join(d, "www", "jwks.json"), "w") as f:
        json.dump({"keys": [jwk]}, f)
    disc = {"issuer": iss, "jwks_uri": iss + "/jwks.json", "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["id_token"], "subject_types_supported": ["public"]}
    with open(os.path.join(d, "www", ".well-known", "openid-configuration"), "w") as f:
        json.dump(disc, f)
    with open(os.path.join(d, "issuer"), "w") as f:
        f.write(iss)
    print(hashlib.sha1(der).hexdigest())


def token(d, aud="s3rs", sub="s3rs-user", ttl=3600, iss=None):
    iss = iss or open(os.path.join(d, "issuer")).read().strip()
    now = int(time.time())
    hdr = {"alg": "RS256", "typ": "JWT", "kid": "s3rs-k1"}
    pl = {"iss": iss, "sub": sub, "aud": aud, "azp": aud, "client_id": aud, "iat": now - 5, "nbf": now - 5,
          "exp": now + ttl}
    signing_input = b64url(json.dumps(hdr, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(pl, separators=(",", ":")).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(d, "idp.key")],
                         input=signing_input.encode(), check=True, capture_output=True).stdout
    print(signing_input + "." + b64url(sig))


def main():
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "init":
        init(a[1], a[2].rstrip("/"))
    elif len(a) >= 2 and a[0] == "token":
        kw, rest = {}, a[2:]
        for i in range(0, len(rest) - 1, 2):
            kw[rest[i].lstrip("-")] = int(rest[i + 1]) if rest[i] == "--ttl" else rest[i + 1]
        token(a[1], **kw)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
