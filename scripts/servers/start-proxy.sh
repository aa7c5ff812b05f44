#!/usr/bin/env bash
# start-proxy.sh [PORT] - a forward HTTP proxy (Debian's tinyproxy) on 127.0.0.1:PORT (default
# 8888), for the proxy tests in front of the S3 servers: plain requests and CONNECT tunnels to
# any port, from 127.0.0.1 only. Every connection is logged to $DIR/tinyproxy.log, so a test can
# see that its requests went through. Prints S3RS_PROXY_URL and S3RS_PROXY_LOG export lines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_PROXY_PORT:-8888}}
DIR=/tmp/s3rs-proxy-$PORT
exports() { emit S3RS_PROXY_URL "http://127.0.0.1:$PORT" S3RS_PROXY_LOG "$DIR/tinyproxy.log"; }

command -v tinyproxy >/dev/null || { log "installing tinyproxy from Debian"; apt_install tinyproxy; }
need_cmd tinyproxy
if [[ -f $DIR/tinyproxy.pid ]] && kill -0 "$(cat "$DIR/tinyproxy.pid")" 2>/dev/null; then
  log "tinyproxy already running on $PORT"; exports; exit 0
fi
port_free "$PORT" || die "port $PORT is busy"
rm -rf "$DIR"; mkdir -p "$DIR"; chmod 777 "$DIR"
# No ConnectPort line: CONNECT to every port (the S3 servers listen on high ports).
cat >"$DIR/tinyproxy.conf" <<CONF
User nobody
Group nogroup
Port $PORT
Listen 127.0.0.1
Timeout 120
MaxClients 200
Allow 127.0.0.1
LogFile "$DIR/tinyproxy.log"
LogLevel Connect
PidFile "$DIR/tinyproxy.pid"
DisableViaHeader Yes
CONF
tinyproxy -c "$DIR/tinyproxy.conf" >&2
for _ in $(seq 1 50); do port_free "$PORT" || break; sleep 0.1; done
port_free "$PORT" && { cat "$DIR/tinyproxy.log" >&2 2>/dev/null; die "tinyproxy did not start"; }
log "tinyproxy on $PORT (dir $DIR)"
exports
