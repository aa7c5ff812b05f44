#!/usr/bin/env bash
# start-all.sh - starts Ceph RGW, s3s-fs, moto and LocalStack (installing what is missing) and writes
# their addresses and keys to $S3_SERVERS_ENV (default target/s3-servers.env), which the
# tests read. Also prints the export lines. S3RS_SERVERS=ceph,moto starts a subset.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
root=$(cd "$here/../.." && pwd)
out=${S3_SERVERS_ENV:-$root/target/s3-servers.env}
mkdir -p "$(dirname "$out")"
want=${S3RS_SERVERS:-ceph,s3s,moto,localstack}
selected() { [[ ,$want, == *,$1,* || $want == all ]]; }

tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp".*' EXIT
pids=()
# Ceph installs from apt, s3s-fs builds with cargo, LocalStack fills a virtualenv: run them
# side by side.
for name in ceph s3s moto localstack; do
  if selected "$name"; then
    "$here/start-$name.sh" >"$tmp.$name" &
    pids+=("$!:$name")
  fi
done
failed=()
for entry in "${pids[@]}"; do
  wait "${entry%%:*}" || failed+=("${entry#*:}")
done
((${#failed[@]} == 0)) || die "could not start: ${failed[*]}"
{
  echo "# written by scripts/servers/start-all.sh"
  [[ -n ${S3RS_SERVERS:-} ]] && printf 'export S3RS_SERVERS=%q\n' "$S3RS_SERVERS"
  for name in ceph s3s moto localstack; do
    if selected "$name"; then cat "$tmp.$name"; fi
  done
} >"$tmp"
mv "$tmp" "$out"
log "servers up; settings in $out"
cat "$out"
