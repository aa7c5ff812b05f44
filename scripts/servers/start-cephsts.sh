#!/usr/bin/env bash
# start-cephsts.sh [RGW_PORT] - a second throw-away Ceph RGW with TLS, STS and SSE switched on
# (start-ceph.sh with S3RS_CEPH_TLS=1 S3RS_CEPH_STS=1 S3RS_CEPH_SSE=1): http on 127.0.0.1:RGW_PORT (default
# 7490), https on RGW_PORT+1, the local OIDC issuer on RGW_PORT+2, its mon on
# S3RS_CEPHSTS_MON_PORT (default 3400). Prints S3RS_CEPHSTS_* export lines.
# A separate server because STS changes how RGW 16 answers bad keys (AccessDenied instead of
# SignatureDoesNotMatch), which the main scenario suite checks on `ceph`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export S3RS_CEPH_NAME=CEPHSTS S3RS_CEPH_TLS=1 S3RS_CEPH_STS=1 S3RS_CEPH_SSE=1
export S3RS_CEPH_MON_PORT=${S3RS_CEPHSTS_MON_PORT:-3400}
export S3RS_CEPH_MEMSTORE_MB=${S3RS_CEPHSTS_MEMSTORE_MB:-1024}
exec "$here/start-ceph.sh" "${1:-${S3RS_CEPHSTS_PORT:-7490}}"
