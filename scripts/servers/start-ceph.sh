#!/usr/bin/env bash
# start-ceph.sh [RGW_PORT] - a throw-away single-node Ceph (Debian's ceph 16 "pacific"): one
# mon, one RAM-backed OSD (memstore) and radosgw (beast) on 127.0.0.1:RGW_PORT (default 7480).
# No systemd, no mgr, cephx off (loopback only, disposable). Must run as root.
# Creates two S3 users so cross-account ACL checks can run, and sets the zonegroup's api_name
# to EU (the boto tutorial's location; LocationConstraint must equal it).
# Prints S3RS_CEPH_* export lines. Env: S3RS_CEPH_MON_PORT (msgr2 port, default 3300; msgr1 is
# +3489), S3RS_CEPH_MEMSTORE_MB (default 4096: the whole suite,
# twice, with room to spare), S3RS_CEPH_NAME (the prefix of the exports,
# default CEPH: S3RS_<NAME>_ENDPOINT ...).
# Switches (off by default; without them the cluster is exactly as before):
#   S3RS_CEPH_TLS=1  beast also serves https on 127.0.0.1:RGW_PORT+1 with a throw-away CA and a
#                    server certificate for 127.0.0.1/localhost (openssl); exports
#                    S3RS_<NAME>_HTTPS_ENDPOINT and S3RS_<NAME>_CA_FILE.
#   S3RS_CEPH_STS=1  STS: AssumeRole into role s3rs-role (trusts user tester, s3:* on all) and
#                    AssumeRoleWithWebIdentity into s3rs-web-role through a local OIDC issuer
#                    (ceph_oidc.py + python3 http.server on 127.0.0.1:RGW_PORT+2). Session
#                    lifetimes down to 5 s, so tests see credentials expire. Exports
#                    S3RS_<NAME>_STS_ROLE_ARN, _STS_WEB_ROLE_ARN, _OIDC_DIR (ceph_oidc.py token
#                    DIR prints a fresh token). Side effect seen on RGW 16: a bad signature or an
#                    unknown key is answered AccessDenied instead of SignatureDoesNotMatch /
#                    InvalidAccessKeyId.
#   S3RS_CEPH_SSE=1  real SSE-KMS through RGW's built-in `testing` KMS (key ids testkey-1 and
#                    testkey-2, exported as S3RS_<NAME>_SSE_KMS_KEY_ID[2]) and SSE-C. RGW 16 has
#                    no SSE-S3: AES256 is ignored over https. With TLS on, SSE needs https.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_CEPH_PORT:-7480}}
MON2=${S3RS_CEPH_MON_PORT:-3300}
MON1=$((MON2 + 3489))
MEM_MB=${S3RS_CEPH_MEMSTORE_MB:-4096}
NAME=${S3RS_CEPH_NAME:-CEPH}
TLS=${S3RS_CEPH_TLS:-0} STS=${S3RS_CEPH_STS:-0} SSE=${S3RS_CEPH_SSE:-0}
TLS_PORT=$((PORT + 1)) OIDC_PORT=$((PORT + 2))
DIR=/tmp/s3rs-ceph-$PORT
CONF=$DIR/ceph.conf
AK1=CEPHTESTERACCESSKEY1 SK1=cephtestersecretkey0000000000000000000001
AK2=CEPHTESTERACCESSKEY2 SK2=cephtestersecretkey0000000000000000000002

exports() {
  local p=S3RS_$NAME
  emit "${p}_ENDPOINT" "http://127.0.0.1:$PORT" "${p}_ACCESS_KEY" "$AK1" \
    "${p}_SECRET_KEY" "$SK1" "${p}_REGION" us-east-1 \
    "${p}_USER1_ID" tester "${p}_USER1_EMAIL" tester@example.com \
    "${p}_USER2_ACCESS_KEY" "$AK2" "${p}_USER2_SECRET_KEY" "$SK2" \
    "${p}_USER2_ID" tester2 "${p}_USER2_EMAIL" tester2@example.com \
    "${p}_CONF" "$CONF"
  if [[ $TLS == 1 ]]; then
    emit "${p}_HTTPS_ENDPOINT" "https://127.0.0.1:$TLS_PORT" "${p}_CA_FILE" "$DIR/tls/ca.crt"
  fi
  if [[ $STS == 1 ]]; then
    emit "${p}_STS_ROLE_ARN" arn:aws:iam:::role/s3rs-role \
      "${p}_STS_WEB_ROLE_ARN" arn:aws:iam:::role/s3rs-web-role "${p}_OIDC_DIR" "$DIR/oidc"
  fi
  if [[ $SSE == 1 ]]; then
    emit "${p}_SSE_KMS_KEY_ID" testkey-1 "${p}_SSE_KMS_KEY_ID2" testkey-2
  fi
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
if [[ $TLS == 1 || $STS == 1 ]] && ! command -v openssl >/dev/null; then apt_install openssl; fi
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl python3; do need_cmd "$b"; done

if [[ -f $DIR/rgw.pid ]] && kill -0 "$(cat "$DIR/rgw.pid")" 2>/dev/null; then
  log "ceph already running on $PORT"
  if [[ -s $DIR/exports ]]; then cat "$DIR/exports"; else exports; fi
  exit 0
fi
# A half-started earlier run: stop whatever it left.
"$here/stop-ceph.sh" "$PORT" >/dev/null 2>&1 || true
ports=("$MON2" "$MON1" "$PORT")
[[ $TLS == 1 ]] && ports+=("$TLS_PORT")
[[ $STS == 1 ]] && ports+=("$OIDC_PORT")
for p in "${ports[@]}"; do port_free "$p" || die "port $p is busy"; done
rm -rf "$DIR"; mkdir -p "$DIR"/{mon-a,osd-0,rgw,run,log}
FRONTEND="beast endpoint=127.0.0.1:$PORT"
EXTRA=""
if [[ $TLS == 1 ]]; then
  make_test_tls "$DIR/tls"
  FRONTEND+=" ssl_endpoint=127.0.0.1:$TLS_PORT ssl_certificate=$DIR/tls/server.crt ssl_private_key=$DIR/tls/server.key"
fi
if [[ $STS == 1 ]]; then
  # Session tokens are AES-encrypted with this 16-byte key; 5 s sessions let tests see expiry.
  EXTRA="rgw s3 auth use sts = true
rgw sts key = $(head -c8 /dev/urandom | od -An -tx1 | tr -d ' \n')
rgw sts min session duration = 5"
fi
if [[ $SSE == 1 ]]; then
  # The testing KMS maps key ids to base64 256-bit keys; over plain http only without TLS.
  EXTRA+="
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=$(head -c32 /dev/urandom | base64) testkey-2=$(head -c32 /dev/urandom | base64)
rgw crypt require ssl = $([[ $TLS == 1 ]] && echo true || echo false)"
fi
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
rgw frontends = $FRONTEND tcp_nodelay=1
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
$EXTRA
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
if [[ $STS == 1 ]]; then
  S3ALL='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}'
  radosgw-admin -c "$CONF" role create --role-name=s3rs-role --path=/ --assume-role-policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/tester"]},"Action":["sts:AssumeRole"]}]}' >/dev/null
  radosgw-admin -c "$CONF" role-policy put --role-name=s3rs-role --policy-name=s3all --policy-doc="$S3ALL" >/dev/null
  radosgw-admin -c "$CONF" caps add --uid=tester --caps="roles=*;oidc-provider=*" >/dev/null
  # RGW 16 fetches ISSUER/.well-known/openid-configuration and then jwks_uri over plain http,
  # and verifies the token with the first key's x5c certificate (see ceph_oidc.py).
  ISS="http://127.0.0.1:$OIDC_PORT"
  THUMB=$(python3 "$here/ceph_oidc.py" init "$DIR/oidc" "$ISS")
  setsid python3 -m http.server --bind 127.0.0.1 --directory "$DIR/oidc/www" "$OIDC_PORT" \
    >"$DIR/oidc/server.log" 2>&1 </dev/null &
  echo $! >"$DIR/oidc/server.pid"
  wait_http "$ISS/.well-known/openid-configuration" 30 "$(cat "$DIR/oidc/server.pid")" || die "OIDC issuer did not start"
  resp=$(curl -s --aws-sigv4 "aws:amz:us-east-1:iam" --user "$AK1:$SK1" \
    --data-urlencode Action=CreateOpenIDConnectProvider --data-urlencode "Url=$ISS" \
    --data-urlencode ClientIDList.member.1=s3rs --data-urlencode "ThumbprintList.member.1=$THUMB" \
    "http://127.0.0.1:$PORT/")
  grep -q "oidc-provider/127.0.0.1:$OIDC_PORT" <<<"$resp" || die "CreateOpenIDConnectProvider failed: $resp"
  radosgw-admin -c "$CONF" role create --role-name=s3rs-web-role --path=/ --assume-role-policy-doc="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":[\"arn:aws:iam:::oidc-provider/127.0.0.1:$OIDC_PORT\"]},\"Action\":[\"sts:AssumeRoleWithWebIdentity\"],\"Condition\":{\"StringEquals\":{\"127.0.0.1:$OIDC_PORT:app_id\":\"s3rs\"}}}]}" >/dev/null
  radosgw-admin -c "$CONF" role-policy put --role-name=s3rs-web-role --policy-name=s3all --policy-doc="$S3ALL" >/dev/null
  log "sts: roles s3rs-role, s3rs-web-role; OIDC issuer $ISS"
fi
if [[ $TLS == 1 ]]; then
  curl -s -o /dev/null --cacert "$DIR/tls/ca.crt" "https://127.0.0.1:$TLS_PORT/" || die "https on $TLS_PORT does not answer"
fi
log "ceph rgw ready on $PORT (dir $DIR)"
exports | tee "$DIR/exports"
