#!/usr/bin/env bash
# start-ceph.sh [RGW_PORT] - a throw-away single-node Ceph (Debian's ceph 16 "pacific"): one
# mon, one RAM-backed OSD (memstore) and radosgw (beast) on 127.0.0.1:RGW_PORT (default 7480).
# No systemd, no mgr, cephx off (loopback only, disposable). Must run as root.
# Creates two S3 users so cross-account ACL checks can run, and sets the zonegroup's api_name
# to EU (the boto tutorial's location; LocationConstraint must equal it).
# Prints S3RS_CEPH_* export lines. Env: S3RS_CEPH_MON_PORT (msgr2 port, default 3300; msgr1 is
# +3489), S3RS_CEPH_MEMSTORE_MB (default 2048).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_CEPH_PORT:-7480}}
MON2=${S3RS_CEPH_MON_PORT:-3300}
MON1=$((MON2 + 3489))
MEM_MB=${S3RS_CEPH_MEMSTORE_MB:-2048}
DIR=/tmp/s3rs-ceph-$PORT
CONF=$DIR/ceph.conf
AK1=CEPHTESTERACCESSKEY1 SK1=cephtestersecretkey0000000000000000000001
AK2=CEPHTESTERACCESSKEY2 SK2=cephtestersecretkey0000000000000000000002

exports() {
  emit S3RS_CEPH_ENDPOINT "http://127.0.0.1:$PORT" S3RS_CEPH_ACCESS_KEY "$AK1" \
    S3RS_CEPH_SECRET_KEY "$SK1" S3RS_CEPH_REGION us-east-1 \
    S3RS_CEPH_USER1_ID tester S3RS_CEPH_USER1_EMAIL tester@example.com \
    S3RS_CEPH_USER2_ACCESS_KEY "$AK2" S3RS_CEPH_USER2_SECRET_KEY "$SK2" \
    S3RS_CEPH_USER2_ID tester2 S3RS_CEPH_USER2_EMAIL tester2@example.com \
    S3RS_CEPH_CONF "$CONF"
}

[[ $(id -u) == 0 ]] || die "Ceph needs root (it runs mon, osd and radosgw directly)"
missing=()
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
  command -v "$b" >/dev/null || missing+=("$b")
done
if ((${#missing[@]})); then
  log "installing ceph-mon ceph-osd radosgw ceph-common from Debian (missing: ${missing[*]})"
  apt_install ceph-mon ceph-osd radosgw ceph-common
fi
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl python3; do need_cmd "$b"; done

if [[ -f $DIR/rgw.pid ]] && kill -0 "$(cat "$DIR/rgw.pid")" 2>/dev/null; then
  log "ceph already running on $PORT"
  exports
  exit 0
fi
# A half-started earlier run: stop whatever it left.
"$here/stop-ceph.sh" "$PORT" >/dev/null 2>&1 || true
for p in "$MON2" "$MON1" "$PORT"; do port_free "$p" || die "port $p is busy"; done
rm -rf "$DIR"; mkdir -p "$DIR"/{mon-a,osd-0,rgw,run,log}
FSID=$(cat /proc/sys/kernel/random/uuid)
cat >"$CONF" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]
mon initial members = a
public addr = 127.0.0.1
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
keyring = $DIR/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = $((MEM_MB * 1024 * 1024))
osd data = $DIR/osd-\$id
mon data = $DIR/mon-\$id
# RGW object names are the bucket marker plus the key: room for S3's 1024-byte keys.
osd max object name len = 2048
osd max object namespace len = 256
osd memory target = 939524096
debug ms = 0
[client.rgw.a]
# Without this radosgw (auth off) insists on a secure mon connection and hangs 300 s.
ms mon client mode = crc
rgw data = $DIR/rgw
# tcp_nodelay=1: without it small GETs take ~45 ms (Nagle + delayed ACK).
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
rgw cors rules max num = 100
# Deleted objects' data is reclaimed by RGW's garbage collector, by default no sooner than 2 h
# later (and a pass per hour): in a 2 GiB memstore a few test runs fill the OSD first, and a
# full OSD blocks every write (HEALTH_ERR "1 full osd(s)", requests hang). Reclaim within a
# minute instead.
rgw gc obj min wait = 30
rgw gc processor period = 30
rgw gc processor max time = 30
CONF

monmaptool --create --addv a "[v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]" --fsid "$FSID" "$DIR/monmap" >&2
ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >&2
ceph-mon -c "$CONF" -i a >&2
for _ in $(seq 1 150); do ceph -c "$CONF" --connect-timeout 2 mon stat >/dev/null 2>&1 && break; sleep 0.2; done
ceph -c "$CONF" --connect-timeout 5 mon stat >/dev/null || die "ceph-mon did not start"
log "mon up"

OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(ceph -c "$CONF" osd new "$OSD_UUID")
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >&2
ceph-osd -c "$CONF" -i "$OSD_ID" >&2
for _ in $(seq 1 300); do
  ceph -c "$CONF" osd dump 2>/dev/null | grep -q "^osd.$OSD_ID up" && break; sleep 0.2
done
ceph -c "$CONF" osd dump | grep -q "^osd.$OSD_ID up" || die "ceph-osd did not come up"
log "osd up"

start_rgw() {
  timeout 120 radosgw -c "$CONF" -n client.rgw.a >&2
  wait_http "http://127.0.0.1:$PORT/" 120 || { tail -30 "$DIR/log/client.rgw.a.log" >&2; die "radosgw did not answer"; }
}
start_rgw
# The default zonegroup exists once radosgw has started: rename its api_name to EU, restart.
timeout 120 radosgw-admin -c "$CONF" zonegroup modify --rgw-zonegroup=default --api-name=EU >/dev/null
stop_pidfile "$DIR/run/client.rgw.a.pid"
for _ in $(seq 1 50); do port_free "$PORT" && break; sleep 0.1; done
start_rgw
cp "$DIR/run/client.rgw.a.pid" "$DIR/rgw.pid"

radosgw-admin -c "$CONF" user create --uid=tester --display-name="tester display" \
  --email=tester@example.com --access-key="$AK1" --secret-key="$SK1" >/dev/null
radosgw-admin -c "$CONF" user create --uid=tester2 --display-name="tester2 display" \
  --email=tester2@example.com --access-key="$AK2" --secret-key="$SK2" >/dev/null
# A new user takes a moment to be visible to radosgw: wait for an authenticated answer
# (any status but 403 InvalidAccessKeyId) to an unsigned-payload SigV2 ListBuckets.
ready=0
for _ in $(seq 1 100); do
  date_h=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  sig=$(python3 -c 'import base64,hashlib,hmac,sys; print(base64.b64encode(hmac.new(sys.argv[1].encode(), ("GET\n\n\n%s\n/" % sys.argv[2]).encode(), hashlib.sha1).digest()).decode())' "$SK1" "$date_h")
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Date: $date_h" -H "Authorization: AWS $AK1:$sig" "http://127.0.0.1:$PORT/" || true)
  if [[ $code == 200 ]]; then ready=1; break; fi
  sleep 0.2
done
((ready)) || die "radosgw does not accept the test user yet"
log "ceph rgw ready on $PORT (dir $DIR)"
exports | tee "$DIR/exports"
