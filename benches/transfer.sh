#!/usr/bin/env bash
# transfer.sh - 1 GiB PUT/GET throughput, client CPU and peak memory of s3-blocking and s3-async
# against curl and boto3, on the local Ceph RGW and s3s-fs (scripts/servers/start-all.sh).
#
#   benches/transfer.sh                 # 3 runs per contender and server, Markdown table on stdout
#   RUNS=5 SERVERS="s3s" SIZE_MIB=256 benches/transfer.sh
#   PHASES=down benches/transfer.sh   # the GETs only (PHASES=up: the uploads only)
#
# Every contender runs once per round, rounds repeat RUNS times (interleaved, so load from
# elsewhere hits all alike); the table shows medians. Raw rows: /tmp/s3rs-transfer/results.tsv.
# Ours and boto3 measure themselves around the transfer (wall clock, getrusage-equivalent CPU of
# the whole process, peak RSS); curl is measured whole by /usr/bin/time. Every upload is checked
# by size (HEAD), every download by size, and the first run of each contender per server by
# SHA-256 of the bytes. On servers that store flexible checksums (CHECKSUM_SERVERS, s3s-fs by
# default) the GETs run again on an object uploaded with a CRC32C, verified against it instead
# of the ETag's MD5 (each of our reads must say so, or the run fails).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-1024}
SERVERS=${SERVERS:-"ceph s3s"}
CHECKSUM_SERVERS=${CHECKSUM_SERVERS:-"s3s"}
PHASES=${PHASES:-"up down"} # "down" alone measures only the GETs, "up" only the uploads
DIR=/tmp/s3rs-transfer
BUCKET=s3rs-transfer
SRC=$DIR/src-$SIZE_MIB.bin
OUT=$DIR/out.bin
RESULTS=$DIR/results.tsv
log() { echo "transfer.sh: $*" >&2; }

up() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
missing=0
[[ -f $root/target/s3-servers.env ]] || missing=1
for server in $SERVERS; do
  case $server in
    ceph) up 7480 || missing=1 ;;
    s3s) up 8014 || missing=1 ;;
  esac
done
if [[ $missing == 1 ]]; then
  log "starting servers"
  S3RS_SERVERS=${SERVERS// /,} "$root/scripts/servers/start-all.sh" >&2
fi
# shellcheck disable=SC1091
. "$root/target/s3-servers.env"
[[ -x /usr/bin/time ]] || { log "needs /usr/bin/time (apt-get install time)"; exit 1; }
curl --help all | grep -q -- --aws-sigv4 || { log "curl lacks --aws-sigv4 (needs 7.75+)"; exit 1; }
HAVE_BOTO3=0
python3 -c "import boto3" 2>/dev/null && HAVE_BOTO3=1

log "building benches/src/bin/transfer.rs (release)"
(cd "$here" && cargo build --release --quiet --bin transfer)
BIN=$here/target/release/transfer

mkdir -p "$DIR"
if [[ ! -f $SRC ]] || [[ $(stat -c %s "$SRC") -ne $((SIZE_MIB << 20)) ]]; then
  log "writing $SIZE_MIB MiB of random bytes to $SRC"
  head -c $((SIZE_MIB << 20)) /dev/urandom >"$SRC"
fi
SIZE=$(stat -c %s "$SRC")
SHA=$(sha256sum "$SRC" | cut -d' ' -f1)

cat >"$DIR/boto3_transfer.py" <<'EOF'
# boto3 upload_file / download_file with the default TransferConfig, measured around the call.
import resource, sys, time
import boto3
from botocore.config import Config
op, endpoint, ak, sk, bucket, key, path = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak,
                  aws_secret_access_key=sk, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
if op == "mpu":
    s3.upload_file(path, bucket, key)
else:
    s3.download_file(bucket, key, path)
seconds, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
import os
size = os.stat(path).st_size
print(f"boto3\t{op}\t{seconds:.3f}\t{size}\t{after.ru_utime - before.ru_utime:.2f}\t"
      f"{after.ru_stime - before.ru_stime:.2f}\t{after.ru_maxrss}\t0")
EOF

# Per-server settings: endpoint, access key, secret key.
server_env() {
  case $1 in
    ceph) EP=$S3RS_CEPH_ENDPOINT AK=$S3RS_CEPH_ACCESS_KEY SK=$S3RS_CEPH_SECRET_KEY ;;
    s3s) EP=$S3RS_S3S_ENDPOINT AK=$S3RS_S3S_ACCESS_KEY SK=$S3RS_S3S_SECRET_KEY ;;
    *) log "unknown server $1"; exit 1 ;;
  esac
}
# curl signing SigV4 itself; a command (not a function) so /usr/bin/time can run it.
s3curl_cmd() {
  CURL=(curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK"
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
}
s3curl() { "${CURL[@]}" "$@"; }
# Deleted RGW objects wait for its garbage collector; the memstore OSD (2 GiB) needs the room.
collect() {
  [[ $1 == ceph ]] || return 0
  timeout 120 radosgw-admin -c "$S3RS_CEPH_CONF" gc process --include-all >/dev/null 2>&1 || true
}

# One measurement; prints "client op seconds bytes user sys peak_kib base_kib".
run_one() { # server contender(client:op) key file
  local client=${2%%:*} op=${2#*:} key=$3 file=$4
  case $client in
    curl)
      local t
      t=$(mktemp)
      if [[ $op == put ]]; then
        /usr/bin/time -f "%e %U %S %M" -o "$t" "${CURL[@]}" -o /dev/null -T "$file" "$EP/$BUCKET/$key"
      else
        /usr/bin/time -f "%e %U %S %M" -o "$t" "${CURL[@]}" -o "$file" "$EP/$BUCKET/$key"
      fi
      read -r e u s m <"$t"
      rm -f "$t"
      printf 'curl\t%s\t%s\t%s\t%s\t%s\t%s\t0\n' "$op" "$e" "$SIZE" "$u" "$s" "$m"
      ;;
    boto3) python3 "$DIR/boto3_transfer.py" "$op" "$EP" "$AK" "$SK" "$BUCKET" "$key" "$file" ;;
    *) "$BIN" "$client" "$op" "$EP" "$AK" "$SK" "$BUCKET" "$key" "$file" ;;
  esac
}

# RUNS rounds of GETs of `key` by each contender, into $OUT; each file checked by size, the
# first of each contender by SHA-256. With `want`, each of our reads must report it (stderr's
# `verified` line, shown for every read). Uses the current server's settings and `checked`.
downloads() { # key want contender...
  local key=$1 want=$2 run c line got
  shift 2
  for run in $(seq "$RUNS"); do
    for c in "$@"; do
      log "$server run $run: $c ($key)"
      rm -f "$OUT"
      line=$(run_one "$server" "$c" "$key" "$OUT" 2>"$DIR/stderr.txt") || {
        cat "$DIR/stderr.txt" >&2
        exit 1
      }
      cat "$DIR/stderr.txt" >&2
      got=$(stat -c %s "$OUT")
      [[ $got == "$SIZE" ]] || { log "FAIL $server $c: file has $got bytes, want $SIZE"; exit 1; }
      if [[ -n $want && $c != curl:* ]] && ! grep -q "$want" "$DIR/stderr.txt"; then
        log "FAIL $server $c: not verified as '$want': $(cat "$DIR/stderr.txt")"
        exit 1
      fi
      if [[ -z ${checked[$c]:-} ]]; then
        [[ $(sha256sum "$OUT" | cut -d' ' -f1) == "$SHA" ]] || { log "FAIL $server $c: sha256"; exit 1; }
        checked[$c]=1
      fi
      rm -f "$OUT"
      printf '%s\t%s\t%s\n' "$server" "$run" "$line" >>"$RESULTS"
    done
  done
}

UPLOADS="curl:put blocking:put tokio:put blocking:mpu tokio:mpu blocking:mpu16 tokio:mpu16"
DOWNLOADS="curl:get blocking:get tokio:get blocking:pget tokio:pget blocking:pget16 tokio:pget16"
CHECKSUM_DOWNLOADS="curl:cget blocking:cget tokio:cget blocking:cpget tokio:cpget"
if [[ $HAVE_BOTO3 == 1 ]]; then
  UPLOADS+=" boto3:mpu"
  DOWNLOADS+=" boto3:pget"
else
  log "boto3 not installed: no boto3 rows"
fi
[[ " $PHASES " == *" up "* ]] || UPLOADS=""
[[ " $PHASES " == *" down "* ]] || DOWNLOADS="" CHECKSUM_DOWNLOADS=""

: >"$RESULTS"
for server in $SERVERS; do
  server_env "$server"
  s3curl_cmd
  s3curl -o /dev/null -X PUT "$EP/$BUCKET" 2>/dev/null || true # exists already: fine
  for k in up src; do s3curl -o /dev/null -X DELETE "$EP/$BUCKET/$k" 2>/dev/null || true; done
  collect "$server"
  declare -A checked=()
  for run in $(seq "$RUNS"); do
    for c in $UPLOADS; do
      log "$server run $run: $c"
      line=$(run_one "$server" "$c" up "$SRC")
      got=$("$BIN" blocking head "$EP" "$AK" "$SK" "$BUCKET" up - 2>/dev/null | cut -f4)
      [[ $got == "$SIZE" ]] || { log "FAIL $server $c: object has $got bytes, want $SIZE"; exit 1; }
      if [[ -z ${checked[$c]:-} ]]; then
        s3curl -o "$OUT" "$EP/$BUCKET/up"
        [[ $(sha256sum "$OUT" | cut -d' ' -f1) == "$SHA" ]] || { log "FAIL $server $c: sha256"; exit 1; }
        rm -f "$OUT"
        checked[$c]=1
      fi
      printf '%s\t%s\t%s\n' "$server" "$run" "$line" >>"$RESULTS"
      s3curl -o /dev/null -X DELETE "$EP/$BUCKET/up"
      collect "$server"
    done
  done
  if [[ -n $DOWNLOADS ]]; then
    s3curl -o /dev/null -T "$SRC" "$EP/$BUCKET/src"
    downloads src "" $DOWNLOADS
    s3curl -o /dev/null -X DELETE "$EP/$BUCKET/src"
  fi
  if [[ -n $CHECKSUM_DOWNLOADS && " $CHECKSUM_SERVERS " == *" $server "* ]]; then
    "$BIN" blocking cput "$EP" "$AK" "$SK" "$BUCKET" src-c "$SRC" >/dev/null
    downloads src-c 'algorithm: Crc32c' $CHECKSUM_DOWNLOADS
    s3curl -o /dev/null -X DELETE "$EP/$BUCKET/src-c"
  fi
  collect "$server"
  unset checked
done

python3 - "$RESULTS" <<'EOF'
import statistics, sys
from collections import OrderedDict
ops = {"put": "PUT, one stream", "get": "GET to file, one stream",
       "mpu": "multipart upload, 8 MiB parts / 64 MiB budget (default)",
       "mpu16": "multipart upload, 16 MiB parts / 128 MiB budget",
       "pget": "ranged GET, 8 MiB ranges / 64 MiB budget (default)",
       "pget16": "ranged GET, 16 MiB ranges / 128 MiB budget",
       "cget": "GET to file, one stream, object with a stored CRC32C",
       "cpget": "ranged GET, 8 MiB ranges / 64 MiB budget, object with a stored CRC32C"}
boto = {"mpu": "upload_file (multipart, TransferConfig default)",
        "pget": "download_file (ranged, TransferConfig default)"}
rows = OrderedDict()
for line in open(sys.argv[1]):
    server, run, client, op, secs, size, user, sys_, peak, _ = line.split("\t")
    secs, size = float(secs), int(size)
    r = rows.setdefault((server, client, op), [])
    r.append((size / secs / 1e6, (float(user) + float(sys_)) / (size / 2**30), int(peak) / 1024))
print("| server | client | op | MB/s (median) | CPU s/GiB | peak RSS MiB | runs |")
print("|---|---|---|--:|--:|--:|--:|")
for (server, client, op), r in rows.items():
    med = [statistics.median(x[i] for x in r) for i in range(3)]
    name = boto[op] if client == "boto3" else ops[op]
    print(f"| {server} | {client} | {name} | {med[0]:.0f} | {med[1]:.2f} | {med[2]:.1f} | {len(r)} |")
EOF
