#!/usr/bin/env bash
# stop-proxy.sh [PORT] - stops the tinyproxy started by start-proxy.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_PROXY_PORT:-8888}}
DIR=/tmp/s3rs-proxy-$PORT
[[ -d $DIR ]] || exit 0
stop_pidfile "$DIR/tinyproxy.pid"
rm -rf "$DIR"
log "tinyproxy on $PORT stopped"
