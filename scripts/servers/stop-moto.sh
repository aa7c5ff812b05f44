#!/usr/bin/env bash
# stop-moto.sh [PORT] - stops the moto server started by start-moto.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_MOTO_PORT:-5000}}
stop_pidfile "/tmp/s3rs-moto-$PORT/server.pid"
