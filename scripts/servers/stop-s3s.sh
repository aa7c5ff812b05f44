#!/usr/bin/env bash
# stop-s3s.sh [PORT] - stops the s3s-fs server started by start-s3s.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_S3S_PORT:-8014}}
stop_pidfile "/tmp/s3rs-s3s-$PORT/server.pid"
