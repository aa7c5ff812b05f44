#!/usr/bin/env bash
# stop-cephsts.sh [RGW_PORT] - stops the Ceph started by start-cephsts.sh (and its OIDC issuer).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/stop-ceph.sh" "${1:-${S3RS_CEPHSTS_PORT:-7490}}"
