#!/usr/bin/env bash
# start-localstack.sh [PORT] - LocalStack (PyPI localstack-core, community) running only its S3
# service on 127.0.0.1:PORT (default 4566), no docker: `python -m localstack.runtime.main` from a
# virtualenv of the pinned localstack-requirements.txt beside this script. Prints S3RS_LOCALSTACK_*
# export lines. State lives in /tmp/s3rs-localstack-PORT; stop with stop-localstack.sh.
#
# Needs Python >= 3.13 (localstack imports warnings.deprecated): LOCALSTACK_PYTHON, else
# python3.13/python3.14 on PATH, else pyenv's $PYENV_ROOT/versions/3.1[34]*.
# LocalStack is the referee for flexible checksums (all five algorithms, COMPOSITE and FULL_OBJECT
# multipart, checksum mode) and conditional writes. Its gaps (test-support's capability flags):
# header SigV4 is never verified (any key or secret works), ACLs and bucket policies are stored
# but not enforced, SSE is headers only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); . "$here/common.sh"
PORT=${1:-${S3RS_LOCALSTACK_PORT:-4566}}
DIR=/tmp/s3rs-localstack-$PORT
VENV=${LOCALSTACK_VENV:-/tmp/s3rs-localstack-venv}
REQ=$here/localstack-requirements.txt

find_python() {
  local c pv=${PYENV_ROOT:-$HOME/.pyenv}/versions
  for c in ${LOCALSTACK_PYTHON:-} python3.13 python3.14 "$pv"/3.13*/bin/python3 "$pv"/3.14*/bin/python3 \
           /usr/local/bin/python3.13 /usr/bin/python3.13; do
    [[ -n $c ]] && command -v "$c" >/dev/null 2>&1 || continue
    "$c" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null && { command -v "$c"; return 0; }
  done
  return 1
}

# cbor2 6.x dropped cbor2._decoder, which localstack imports (hence the pin); twisted's TLS needs
# service_identity.
CHECK='import localstack.version, cbor2._decoder, service_identity, twisted'
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
  PY=$(find_python) || die "no Python >= 3.13 found (set LOCALSTACK_PYTHON); localstack-core needs it"
  log "creating $VENV with $PY and installing localstack-core (pinned)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REQ" >&2
  "$VENV/bin/python" -c 'import localstack.aws.components, service_identity' \
    || die "localstack import check failed"
fi

mkdir -p "$DIR"
if [[ -f $DIR/server.pid ]] && kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null; then
  log "localstack already running on $PORT"
else
  port_free "$PORT" || die "port $PORT is busy"
  rm -rf "$DIR/fs" "$DIR/s3-storage"
  # LocalStack wants a PEM of key + cert: without one it generates its own, which crashes with
  # pyOpenSSL >= 25 (X509.add_extensions removed). The gateway answers https on the same port
  # with it (S3RS_LOCALSTACK_HTTPS_ENDPOINT, trusting S3RS_LOCALSTACK_CA_FILE).
  if [[ ! -s $DIR/tls.pem || ! -s $DIR/tls/ca.crt ]]; then
    command -v openssl >/dev/null || apt_install openssl
    make_test_tls "$DIR/tls"
    cat "$DIR/tls/server.key" "$DIR/tls/server.crt" >"$DIR/tls.pem"
  fi
  # S3 bodies go to $DIR/s3-storage instead of the hard-coded, machine-wide
  # /tmp/localstack-s3-storage (shared by every instance, left behind on kill).
  MAIN='import sys, localstack.services.s3.provider as p; p.DEFAULT_S3_TMP_DIR = sys.argv[1]
from localstack.runtime.main import main; main()'
  # OVERRIDE_IN_DOCKER=0: a /.dockerenv would put state in /var/lib/localstack; host mode keeps it
  # under FILESYSTEM_ROOT. DNS_ADDRESS=0: no DNS server. SKIP_SSL_CERT_DOWNLOAD=1: nothing fetched
  # from localstack.cloud. S3_SKIP_SIGNATURE_VALIDATION=0: presigned URLs are checked (secret "test").
  env OVERRIDE_IN_DOCKER=0 SERVICES=s3 EAGER_SERVICE_LOADING=1 \
    GATEWAY_LISTEN="127.0.0.1:$PORT" LOCALSTACK_HOST="localhost:$PORT" \
    FILESYSTEM_ROOT="$DIR/fs" DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
    CUSTOM_SSL_CERT_PATH="$DIR/tls.pem" \
    S3_SKIP_SIGNATURE_VALIDATION=0 \
    setsid "$VENV/bin/python" -c "$MAIN" "$DIR/s3-storage" >"$DIR/server.log" 2>&1 </dev/null &
  echo $! >"$DIR/server.pid"
  wait_http "http://127.0.0.1:$PORT/_localstack/health" 120 "$(cat "$DIR/server.pid")" \
    || { tail -30 "$DIR/server.log" >&2; die "localstack did not start"; }
  for _ in $(seq 1 150); do grep -q '^Ready\.' "$DIR/server.log" && break; sleep 0.2; done
  log "localstack ready on $PORT"
fi
emit S3RS_LOCALSTACK_ENDPOINT "http://127.0.0.1:$PORT" S3RS_LOCALSTACK_ACCESS_KEY test \
  S3RS_LOCALSTACK_SECRET_KEY test S3RS_LOCALSTACK_REGION us-east-1 \
  S3RS_LOCALSTACK_HTTPS_ENDPOINT "https://127.0.0.1:$PORT" S3RS_LOCALSTACK_CA_FILE "$DIR/tls/ca.crt"
