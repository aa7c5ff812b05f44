#!/usr/bin/env bash
# start-moto.sh [PORT] - moto's S3 server (PyPI moto[server]) on 127.0.0.1:PORT (default 5000).
# Installs moto[server] and boto3 when missing. Prints S3RS_MOTO_* export lines.
# moto checks no signature and enforces no ACL: it is the broad round-trip peer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_MOTO_PORT:-5000}}
DIR=/tmp/s3rs-moto-$PORT
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import boto3' 2>/dev/null; then
  log "installing moto[server] and boto3 from PyPI"
  pip_install 'moto[server]' boto3
  hash -r
fi
need_cmd moto_server
mkdir -p "$DIR"
if [[ -f $DIR/server.pid ]] && kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null; then
  log "moto already running on $PORT"
else
  port_free "$PORT" || die "port $PORT is busy"
  setsid moto_server -H 127.0.0.1 -p "$PORT" >"$DIR/server.log" 2>&1 </dev/null &
  echo $! >"$DIR/server.pid"
  wait_http "http://127.0.0.1:$PORT/moto-api/" 60 "$(cat "$DIR/server.pid")" \
    || { tail -20 "$DIR/server.log" >&2; die "moto did not start"; }
  log "moto ready on $PORT"
fi
emit S3RS_MOTO_ENDPOINT "http://127.0.0.1:$PORT" S3RS_MOTO_ACCESS_KEY motoaccess \
  S3RS_MOTO_SECRET_KEY motosecret S3RS_MOTO_REGION us-east-1
