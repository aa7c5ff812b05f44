#!/usr/bin/env bash
# stop-ceph.sh [RGW_PORT] - stops radosgw, the OSD and the mon started by start-ceph.sh, and
# removes their state (memstore keeps nothing worth saving).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_CEPH_PORT:-7480}}
DIR=/tmp/s3rs-ceph-$PORT
[[ -d $DIR ]] || exit 0
stop_pidfile "$DIR/rgw.pid"
stop_pidfile "$DIR/oidc/server.pid"   # S3RS_CEPH_STS=1's OIDC issuer
for f in "$DIR"/run/*.pid; do
  [[ -e $f ]] && stop_pidfile "$f"
done
rm -rf "$DIR"
log "ceph on $PORT stopped"
