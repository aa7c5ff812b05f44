#!/usr/bin/env bash
# start-s3s.sh [PORT] - s3s-fs (crates.io) serving a fresh directory on 127.0.0.1:PORT
# (default 8014), verifying SigV4/SigV2 against one key pair, virtual hosts under
# localhost:PORT. Installs s3s-fs 0.14.1 with cargo when missing (~3 min on 2 cores; 0.17
# needs rustc 1.96). Prints S3RS_S3S_* export lines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_S3S_PORT:-8014}}
VERSION=0.14.1
AK=s3s-access-key
SK=s3s-secret-key-0123456789
DIR=/tmp/s3rs-s3s-$PORT
BIN=$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")
if [[ ! -x $BIN ]]; then
  log "installing s3s-fs $VERSION with cargo"
  cargo install s3s-fs --version "$VERSION" --features binary --locked >&2
  BIN=$HOME/.cargo/bin/s3s-fs
fi
mkdir -p "$DIR"
if [[ -f $DIR/server.pid ]] && kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null; then
  log "s3s-fs already running on $PORT"
else
  port_free "$PORT" || die "port $PORT is busy"
  rm -rf "$DIR/data"; mkdir -p "$DIR/data"
  RUST_LOG=${RUST_LOG:-s3s_fs=warn,s3s=warn} setsid "$BIN" --host 127.0.0.1 --port "$PORT" \
    --access-key "$AK" --secret-key "$SK" --domain "localhost:$PORT" "$DIR/data" \
    >"$DIR/server.log" 2>&1 </dev/null &
  echo $! >"$DIR/server.pid"
  wait_http "http://127.0.0.1:$PORT/" 30 "$(cat "$DIR/server.pid")" \
    || { tail -20 "$DIR/server.log" >&2; die "s3s-fs did not start"; }
  log "s3s-fs ready on $PORT"
fi
emit S3RS_S3S_ENDPOINT "http://127.0.0.1:$PORT" S3RS_S3S_ACCESS_KEY "$AK" \
  S3RS_S3S_SECRET_KEY "$SK" S3RS_S3S_REGION us-east-1
