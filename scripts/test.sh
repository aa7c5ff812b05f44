#!/usr/bin/env bash
# Runs every test with the real S3 servers up: installs what is missing (Ceph RGW, tinyproxy and
# chromium from Debian, s3s-fs from crates.io, moto from PyPI, LocalStack into a Python 3.13
# virtualenv), starts them on 127.0.0.1 (Ceph, s3s-fs, moto, LocalStack, a second Ceph with TLS
# and STS, a forward proxy), runs the workspace tests against them (and a headless browser
# against the page of the browser upload examples), and stops the servers it started.
#   scripts/test.sh                 all servers (a missing one fails the run)
#   S3RS_SERVERS=ceph,moto scripts/test.sh   an explicit subset
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p target
export S3_SERVERS_ENV=${S3_SERVERS_ENV:-$root/target/s3-servers.env}

if [[ ${S3RS_KEEP_SERVERS:-0} != 1 ]]; then
  trap 'scripts/servers/stop-all.sh >&2 || true' EXIT
fi
scripts/servers/start-all.sh >/dev/null
scripts/install-chromium.sh

cargo test --workspace --locked "$@"
