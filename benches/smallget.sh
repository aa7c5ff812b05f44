#!/usr/bin/env bash
# smallget.sh - sequential small GETs on the local Ceph RGW: s3-blocking and s3-async against a
# raw socket replaying one signed request (issue 15's per-request target). Starts Ceph if it is
# not running (scripts/servers/start-all.sh), puts a 0-byte object with curl, then runs
# src/bin/smallget.rs (release) and prints its Markdown tables.
#
#   benches/smallget.sh                  # 2000 GETs per turn, 5 rounds
#   REQUESTS=5000 ROUNDS=3 benches/smallget.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
log() { echo "smallget.sh: $*" >&2; }
up() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [[ ! -f $root/target/s3-servers.env ]] || ! up 7480; then
  log "starting Ceph"
  S3RS_SERVERS=ceph "$root/scripts/servers/start-all.sh" >&2
fi
# shellcheck disable=SC1091
. "$root/target/s3-servers.env"
EP=$S3RS_CEPH_ENDPOINT AK=$S3RS_CEPH_ACCESS_KEY SK=$S3RS_CEPH_SECRET_KEY
CURL=(curl -sS -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
"${CURL[@]}" -o /dev/null -X PUT "$EP/smallget" 2>/dev/null || true
empty=$(mktemp)
"${CURL[@]}" -o /dev/null -T "$empty" "$EP/smallget/empty"
rm -f "$empty"
log "building src/bin/smallget.rs (release)"
(cd "$here" && cargo build --release --quiet --bin smallget)
"$here/target/release/smallget" "$EP" "$AK" "$SK" smallget empty "${REQUESTS:-2000}" "${ROUNDS:-5}"
