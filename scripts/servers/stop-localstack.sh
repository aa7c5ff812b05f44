#!/usr/bin/env bash
# stop-localstack.sh [PORT] - stops the LocalStack started by start-localstack.sh (SIGTERM takes
# about 3 s) and removes its state; the virtualenv stays for the next start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_LOCALSTACK_PORT:-4566}}
DIR=/tmp/s3rs-localstack-$PORT
stop_pidfile "$DIR/server.pid"
rm -rf "$DIR"
