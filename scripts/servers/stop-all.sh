#!/usr/bin/env bash
# stop-all.sh - stops the servers started by start-all.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for name in ceph s3s moto localstack cephsts proxy; do "$here/stop-$name.sh"; done
rm -f "${S3_SERVERS_ENV:-$here/../../target/s3-servers.env}"
