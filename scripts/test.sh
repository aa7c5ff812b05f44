#!/usr/bin/env bash
# Runs every test with the real S3 servers up: installs what is missing (Ceph RGW from Debian,
# s3s-fs from crates.io, moto from PyPI, LocalStack into a Python 3.13 virtualenv), starts them
# on 127.0.0.1, runs the workspace tests against all four, and stops the servers it started.
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

cargo test --workspace --locked "$@"
