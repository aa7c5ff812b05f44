#!/usr/bin/env bash
# start-all.sh - starts Ceph RGW, s3s-fs, moto, LocalStack, a second Ceph RGW with TLS and STS
# (`cephsts`) and a forward proxy (`proxy`, tinyproxy), installing what is missing, and writes
# their addresses and keys to $S3_SERVERS_ENV (default target/s3-servers.env), which the tests
# read. Also prints the export lines. S3RS_SERVERS=ceph,moto starts a subset.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
root=$(cd "$here/../.." && pwd)
out=${S3_SERVERS_ENV:-$root/target/s3-servers.env}
mkdir -p "$(dirname "$out")"
all="ceph s3s moto localstack cephsts proxy"
want=${S3RS_SERVERS:-${all// /,}}
selected() { [[ ,$want, == *,$1,* || $want == all ]]; }

tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp".*' EXIT
start() { "$here/start-$1.sh" >"$tmp.$1" || { echo "$1" >>"$tmp.failed"; return 1; }; }
# Ceph installs from apt and s3s-fs builds with cargo: run them side by side. The two Ceph
# clusters start one after the other (one apt/dpkg lock, and less memory pressure).
( if selected ceph; then start ceph; fi; if selected cephsts; then start cephsts; fi ) &
( if selected s3s; then start s3s; fi ) &
( if selected moto; then start moto; fi ) &
( if selected proxy; then start proxy; fi ) &
# LocalStack fills a virtualenv the first time.
( if selected localstack; then start localstack; fi ) &
wait || true
[[ ! -s $tmp.failed ]] || die "could not start: $(tr '\n' ' ' <"$tmp.failed")"
{
  echo "# written by scripts/servers/start-all.sh"
  # Single quotes, not %q: bash escapes the commas, which the tests' reader keeps.
  [[ -n ${S3RS_SERVERS:-} ]] && printf "export S3RS_SERVERS='%s'\n" "${S3RS_SERVERS//\'/}"
  for name in $all; do
    if selected "$name"; then cat "$tmp.$name"; fi
  done
} >"$tmp"
mv "$tmp" "$out"
log "servers up; settings in $out"
cat "$out"
